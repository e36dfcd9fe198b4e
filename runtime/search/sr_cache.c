/* sr_cache.c: the result cache of a search, by point and fidelity.  A point
 * already evaluated at a fidelity is answered from here instead of by an
 * evaluator (docs/store.md); the store keeps the answered trial with
 * answered = 'cache'.  Keys are the point's JSON as the space writes it
 * (canonical: the same point always gives the same text) and the fidelity. */
#include <stdlib.h>
#include <string.h>
#include "sr_util.h"

struct sr_cache {
    sr_cache_entry *v;
    int n, cap;
    int *slots; /* open addressing over v's indices, -1 empty */
    int nslots;
};

static uint64_t key_hash(const char *point, double fidelity) {
    return hash_fnv1a_bytes(hash_fnv1a(point), &fidelity, sizeof fidelity);
}

sr_cache *sr_cache_new(void) { return calloc(1, sizeof(sr_cache)); }

void sr_cache_free(sr_cache *c) {
    if (!c) return;
    for (int i = 0; i < c->n; i++) {
        free(c->v[i].point);
        free(c->v[i].metrics);
        free(c->v[i].objectives);
    }
    free(c->v);
    free(c->slots);
    free(c);
}

static int find_slot(const sr_cache *c, uint64_t h, const char *point, double fidelity) {
    int mask = c->nslots - 1;
    for (int i = (int)(h & (uint64_t)mask);; i = (i + 1) & mask) {
        int k = c->slots[i];
        if (k < 0) return i;
        const sr_cache_entry *e = &c->v[k];
        if (e->hash == h && e->fidelity == fidelity && !strcmp(e->point, point)) return i;
    }
}

static int grow(sr_cache *c) {
    int ns = c->nslots ? c->nslots * 2 : 256;
    int *slots = malloc((size_t)ns * sizeof *slots);
    if (!slots) return -1;
    for (int i = 0; i < ns; i++) slots[i] = -1;
    free(c->slots);
    c->slots = slots;
    c->nslots = ns;
    for (int k = 0; k < c->n; k++) c->slots[find_slot(c, c->v[k].hash, c->v[k].point, c->v[k].fidelity)] = k;
    return 0;
}

const sr_cache_entry *sr_cache_get(const sr_cache *c, const char *point, double fidelity) {
    if (!c || !c->nslots || !point) return NULL;
    int k = c->slots[find_slot(c, key_hash(point, fidelity), point, fidelity)];
    return k < 0 ? NULL : &c->v[k];
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

int sr_cache_put(sr_cache *c, const char *point, double fidelity, int64_t trial, const char *status,
                 const char *metrics, const char *objectives) {
    if (!c || !point) return -1;
    if ((c->n + 1) * 2 > c->nslots && grow(c)) return -1;
    uint64_t h = key_hash(point, fidelity);
    int slot = find_slot(c, h, point, fidelity);
    if (c->slots[slot] >= 0) return 0; /* the first answer stays */
    if (c->n == c->cap) {
        int nc = c->cap ? c->cap * 2 : 64;
        sr_cache_entry *nv = realloc(c->v, (size_t)nc * sizeof *nv);
        if (!nv) return -1;
        c->v = nv;
        c->cap = nc;
    }
    sr_cache_entry *e = &c->v[c->n];
    memset(e, 0, sizeof *e);
    e->hash = h;
    e->fidelity = fidelity;
    e->trial = trial;
    snprintf(e->status, sizeof e->status, "%s", status);
    e->point = strdup(point);
    e->metrics = dup_or_null(metrics);
    e->objectives = dup_or_null(objectives);
    if (!e->point || (metrics && !e->metrics) || (objectives && !e->objectives)) {
        free(e->point);
        free(e->metrics);
        free(e->objectives);
        return -1;
    }
    c->slots[slot] = c->n++;
    return 0;
}
