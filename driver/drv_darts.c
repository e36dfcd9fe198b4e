/* drv_darts.c: the differentiable supernet of a space (drv_darts.h):
 * finding the union graph from graphs of points, its mixture weights, the
 * bilevel training of weights and alpha, and the derived point.
 *
 * Finding the union: from a few base points (every relaxed decision at its
 * largest value or at alternative k), every value of every active relaxed
 * decision is built, and each graph's layers are recorded by key with the
 * key of the layer feeding each of their inputs.  A layer that exists in
 * two graphs must be the same layer (op, shape, attributes, parameter
 * shapes); a decision whose values change one (a width, a kernel, an
 * activation) is fixed instead.  Each input slot then gets the smallest
 * tree of mixtures over the decisions that changed it which reproduces the
 * input observed in every graph (so `op(in)`, with `op` and `in` both
 * decisions, becomes mix_op(mix_in(a, b), conv(mix_in(a, b)), ...)). */
#define _POSIX_C_SOURCE 200809L
#include "drv_darts.h"
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "blas.h"
#include "buf.h"
#include "data.h"
#include "driver.h"
#include "hash.h"
#include "json.h"
#include "recipe.h"
#include "train.h"

#define MAX_ALTS   64 /* alternatives of a relaxed decision (a mask of uint64) */
#define MAX_BASES  16
#define MAX_INFL   8 /* decisions that may change one input slot */
#define MAX_ROUNDS 4
#define MAX_COMBOS 64 /* bases over the numeric decisions' values */
#define N_RANDOM   32 /* random points recorded besides the bases' variations */
#define SPLIT_BUDGET \
    20000 /* splits tried for one slot before the first tree found is kept */ /* passes, each fixing the decisions found unrelaxable */
#define KEY_INPUT 0 /* the interned key of the graph input */

/* ----- the builder's records ----- */

typedef struct obs { /* one graph built */
    sval *vals;
    bool *active;
    int n_nodes, out_key;
    int *key;   /* per node: interned key */
    int *inoff; /* per node: offset of its inputs in in */
    int *in;    /* input keys */
} obs;

typedef struct occ { /* one occurrence of a key: graph and node */
    int obs, node;
} occ;

typedef struct infl { /* decision d changed input slot `slot` of a key */
    int slot, dec;
} infl;

typedef VEC(infl) infl_vec;

typedef struct keyrec {
    const char *key;
    ir_node tmpl; /* the layer (in, names and data not kept) */
    VEC(occ) occ;
    infl_vec infl;
    int last_obs, n_here; /* the graph it was last seen in, and how often there */
} keyrec;

typedef struct tree { /* an input slot: a layer's key, or a mixture over a decision */
    int dec;          /* -1: a leaf */
    int key;
    struct tree **kid; /* per alternative */
    bool *hole;        /* per alternative: no graph had the layer there (kid is a stand-in) */
    uint64_t hash;     /* of the structure, 0 until computed */
    bool seen;
} tree;

typedef struct builder {
    drv_darts *D;
    arena *A;
    VEC(keyrec) keys;
    int *hash, hcap;
    VEC(obs) obs;
    infl_vec out_infl;
    int64_t **params_at; /* per decision, per alternative: parameters of the graph (-1 unknown) */
    bool restart;
    /* assembly */
    int *id_of; /* per key: union node id, -1 not yet, -2 in progress */
    VEC(ir_node) nodes;
    VEC(drv_da_scale) scales;
    int zero1;
    VEC(const char *) memo_sig;
    VEC(int) memo_id;
    int n_synth;
    tree ***trees;        /* per key, per slot: the fitted tree (NULL: none fits) */
    VEC(tree *) complete; /* mixtures without holes, for filling the holes of others */
    bool failed;
    long splits; /* of the current slot's fit */
    /* the current slot's fits by entry subset (hash of its graphs) */
    struct fitmemo {
        uint64_t h;
        int n, size;
        tree *t;
        bool done;
    } * memo;
    int memo_cap, memo_n;
} builder;

static int intern(builder *b, const char *key) {
    if (2 * (b->keys.n + 1) > b->hcap) {
        int hcap = b->hcap ? 2 * b->hcap : 1024;
        int *h = calloc((size_t)hcap, sizeof *h);
        if (!h) return -1;
        free(b->hash);
        b->hash = h;
        b->hcap = hcap;
        for (int i = 0; i < b->keys.n; i++) {
            uint64_t j = hash_fnv1a(b->keys.v[i].key) & (uint64_t)(hcap - 1);
            while (h[j]) j = (j + 1) & (uint64_t)(hcap - 1);
            h[j] = i + 1;
        }
    }
    uint64_t j = hash_fnv1a(key) & (uint64_t)(b->hcap - 1);
    for (; b->hash[j]; j = (j + 1) & (uint64_t)(b->hcap - 1))
        if (!strcmp(b->keys.v[b->hash[j] - 1].key, key)) return b->hash[j] - 1;
    keyrec k;
    memset(&k, 0, sizeof k);
    k.key = arena_strdup(b->A, key);
    k.tmpl.op = IR_OP_COUNT; /* no template yet */
    k.last_obs = -1;
    vec_push(b->A, b->keys, k);
    b->hash[j] = b->keys.n;
    return b->keys.n - 1;
}

/* Two records of one key are the same layer. */
static bool same_layer(const ir_node *a, const ir_node *b) {
    bool same = a->op == b->op && a->n_in == b->n_in && a->shape.rank == b->shape.rank &&
                a->units == b->units && a->filters == b->filters && a->groups == b->groups &&
                a->bias == b->bias && a->act == b->act && a->p == b->p && a->eps == b->eps &&
                a->n_params == b->n_params;
    for (int i = 0; same && i < 2; i++)
        same = a->kernel[i] == b->kernel[i] && a->stride[i] == b->stride[i] && a->pad[i] == b->pad[i] &&
               a->dilation[i] == b->dilation[i];
    for (int i = 0; same && i < a->shape.rank; i++) same = a->shape.d[i] == b->shape.d[i];
    for (int p = 0; same && p < a->n_params; p++) {
        same = a->params[p].role == b->params[p].role && a->params[p].shape.rank == b->params[p].shape.rank;
        for (int i = 0; same && i < a->params[p].shape.rank; i++)
            same = a->params[p].shape.d[i] == b->params[p].shape.d[i];
    }
    return same;
}

static const char *key_of(const ir_node *nd) { return nd->op == IR_INPUT ? "<input>" : nd->key; }

/* ----- decisions and their values ----- */

static int alt_index(const drv_da_dec *dd, sval v) {
    for (int i = 0; i < dd->n; i++)
        if (dd->vals[i].i == v.i && dd->vals[i].is_float == v.is_float &&
            (!v.is_float || dd->vals[i].f == v.f))
            return i;
    return -1;
}

static void describe_value(const decision *d, sval v, char *buf, size_t cap) {
    if (d->kind == DK_CAT)
        snprintf(buf, cap, "%s", d->alt_names[v.i]);
    else if (d->kind == DK_FLOAT)
        snprintf(buf, cap, "%g", v.f);
    else
        snprintf(buf, cap, "%lld", (long long)v.i);
}

static void fix(drv_darts *D, int i, const char *fmt, ...) NASC_PRINTF(3, 4);
static void fix(drv_darts *D, int i, const char *fmt, ...) {
    drv_da_dec *dd = &D->d[i];
    const decision *d = D->s->decs.v[i];
    dd->kind = DRV_DA_FIXED;
    sval v = drv_sn_base_value(d, true, 0);
    dd->fixed = alt_index(dd, v);
    if (dd->fixed < 0) dd->fixed = 0;
    D->base[i] = v;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dd->why, sizeof dd->why, fmt, ap);
    va_end(ap);
}

static void init_decisions(drv_darts *D) {
    for (int i = 0; i < D->n_dec; i++) {
        const decision *d = D->s->decs.v[i];
        drv_da_dec *dd = &D->d[i];
        dd->n = drv_sn_n_values(d);
        dd->vals = arena_alloc(&D->A, sizeof(sval) * (size_t)(dd->n + 1));
        for (int k = 0; k < dd->n; k++) dd->vals[k] = drv_sn_value_at(d, k);
        dd->param_free = arena_alloc(&D->A, sizeof(bool) * (size_t)(dd->n + 1));
        D->base[i] = drv_sn_base_value(d, true, 0);
        dd->kind = DRV_DA_RELAXED;
        if (d->in_section) {
            dd->kind = DRV_DA_RECIPE;
        } else if (d->kind == DK_FLOAT) {
            fix(D, i, "a float range has no alternatives to weigh");
        } else if (d->kind == DK_SUBSET) {
            fix(D, i, "a k-of subset is not one categorical choice");
        } else if (dd->n > MAX_ALTS) {
            fix(D, i, "more than %d values", MAX_ALTS);
        } else if (dd->n < 2) {
            dd->kind = DRV_DA_INERT;
        }
    }
}

/* The base point k: fixed decisions at their value, numeric relaxed ones
 * at their largest, the others at alternative k. */
static void base_point(drv_darts *D, int k, sval *vals) {
    for (int i = 0; i < D->n_dec; i++) {
        const decision *d = D->s->decs.v[i];
        vals[i] = D->d[i].kind == DRV_DA_RELAXED ? drv_sn_base_value(d, true, k) : D->base[i];
    }
}

/* ----- building graphs and recording them ----- */

/* Runs a point and records its graph; the index of its record, or -1 when
 * the point is infeasible (or a layer contradicts the record of its key:
 * then *clash is the key). */
static int record(builder *b, const sval *vals, int64_t *params, int *clash) {
    drv_darts *D = b->D;
    nasc_ctx *c = D->c;
    ctx_mark m = ctx_get_mark(c);
    assignment *a = asg_new(c, D->s);
    memcpy(a->vals, vals, sizeof(sval) * (size_t)a->n);
    for (int i = 0; i < a->n; i++) a->given[i] = true;
    ir_graph g;
    memset(&g, 0, sizeof g);
    bool feasible;
    int e0 = c->n_errors;
    bool ok = space_run(c, D->p, D->s, a, &g, &feasible);
    c->n_errors = e0;
    int id = -1;
    *clash = -1;
    if (ok) {
        D->n_points++;
        obs o;
        o.vals = arena_alloc(b->A, sizeof(sval) * (size_t)(a->n + 1));
        o.active = arena_alloc(b->A, sizeof(bool) * (size_t)(a->n + 1));
        memcpy(o.vals, a->vals, sizeof(sval) * (size_t)a->n);
        memcpy(o.active, a->active, sizeof(bool) * (size_t)a->n);
        o.n_nodes = g.n_nodes;
        o.key = arena_alloc(b->A, sizeof(int) * (size_t)(g.n_nodes + 1));
        o.inoff = arena_alloc(b->A, sizeof(int) * (size_t)(g.n_nodes + 1));
        int tot = 0;
        for (int i = 0; i < g.n_nodes; i++) tot += g.nodes[i].n_in;
        o.in = arena_alloc(b->A, sizeof(int) * (size_t)(tot + 1));
        id = b->obs.n;
        for (int i = 0, at = 0; i < g.n_nodes; i++) {
            const ir_node *nd = &g.nodes[i];
            int k = nd->op == IR_INPUT ? KEY_INPUT : nd->key ? intern(b, key_of(nd)) : -1;
            if (k < 0) { /* a layer the front end did not name cannot be shared */
                ctx_release(c, m);
                return -1;
            }
            /* Keys name a source position, and an expression such as a + b + c
             * makes several layers at one: the k-th of them (in the graph's
             * order, which is the program's) is "key#k". */
            if (b->keys.v[k].last_obs == id) {
                int nth = ++b->keys.v[k].n_here;
                char *alias = arena_printf(&c->A, "%s#%d", b->keys.v[k].key, nth);
                if ((k = intern(b, alias)) < 0) {
                    ctx_release(c, m);
                    return -1;
                }
            } else {
                b->keys.v[k].last_obs = id, b->keys.v[k].n_here = 1;
            }
            keyrec *kr = &b->keys.v[k];
            if (kr->tmpl.op == IR_OP_COUNT) {
                kr->tmpl = *nd;
                kr->tmpl.in = NULL;
                kr->tmpl.name = kr->key;
                kr->tmpl.key = nd->op == IR_INPUT ? NULL : kr->key;
                for (int p = 0; p < nd->n_params; p++)
                    kr->tmpl.params[p].name = NULL, kr->tmpl.params[p].data = NULL;
            } else if (!same_layer(&kr->tmpl, nd) && *clash < 0) {
                *clash = k;
            }
            o.key[i] = k;
            o.inoff[i] = at;
            for (int j = 0; j < nd->n_in; j++) o.in[at++] = o.key[nd->in[j]];
            occ oc = {id, i};
            vec_push(b->A, kr->occ, oc);
        }
        o.out_key = o.key[g.output];
        vec_push(b->A, b->obs, o);
        if (params) *params = g.params;
    }
    ctx_release(c, m);
    return id;
}

/* The node of key k in graph o, or -1 (linear in k's occurrences). */
static int node_in(const builder *b, int o, int k) {
    const keyrec *kr = &b->keys.v[k];
    for (int i = kr->occ.n - 1; i >= 0; i--)
        if (kr->occ.v[i].obs == o) return kr->occ.v[i].node;
    return -1;
}

static void add_infl(builder *b, infl_vec *v, int slot, int dec) {
    for (int i = 0; i < v->n; i++)
        if (v->v[i].slot == slot && v->v[i].dec == dec) return;
    infl f = {slot, dec};
    vec_push(b->A, *v, f);
}

/* What graph ov (decision d at another value) changed against its base
 * ob: a layer of both that differs fixes d; each input slot fed by
 * another layer records d as an influence. */
static void compare(builder *b, int ob, int ov, int d) {
    const obs *B = &b->obs.v[ob], *V = &b->obs.v[ov];
    for (int i = 0; i < V->n_nodes; i++) {
        int k = V->key[i], j = node_in(b, ob, k);
        if (j < 0) continue;
        keyrec *kr = &b->keys.v[k];
        for (int s = 0; s < kr->tmpl.n_in; s++)
            if (V->in[V->inoff[i] + s] != B->in[B->inoff[j] + s]) add_infl(b, &kr->infl, s, d);
    }
    if (V->out_key != B->out_key) add_infl(b, &b->out_infl, 0, d);
}

/* One pass over the bases; false when a decision had to be fixed (then
 * the records are dropped and the pass runs again). */
static bool gather(builder *b, bool first_only) {
    drv_darts *D = b->D;
    int n = D->n_dec, nb = 1;
    for (int i = 0; i < n; i++)
        if (D->d[i].kind == DRV_DA_RELAXED && !drv_sn_numeric(D->s->decs.v[i]) && D->d[i].n > nb)
            nb = D->d[i].n;
    if (nb > MAX_BASES) nb = MAX_BASES;
    sval *vals = arena_alloc(b->A, sizeof(sval) * (size_t)(n + 1)),
         *var = arena_alloc(b->A, sizeof(sval) * (size_t)(n + 1));
    /* Bases: alternative k of every non-numeric decision, with the numeric
     * ones (loop counts, `if` on a bool) at every combination of their
     * values when there are at most MAX_COMBOS, else each at each value
     * with the others at their largest: so what a smaller value uncovers
     * is varied too, under every value of the other numeric decisions. */
    int num[64], n_num = 0;
    long combos = 1, singles = 1;
    for (int i = 0; i < n && n_num < 64; i++)
        if (D->d[i].kind == DRV_DA_RELAXED && drv_sn_numeric(D->s->decs.v[i])) {
            num[n_num++] = i;
            if (combos <= MAX_COMBOS) combos *= D->d[i].n;
            singles += D->d[i].n;
        }
    bool full = combos <= MAX_COMBOS;
    long n_bases = full ? combos : singles;
    for (long q = 0; q < (first_only ? 1 : nb * n_bases); q++) {
        int k = (int)(q % nb);
        long c = q / nb;
        base_point(D, k, vals);
        if (full) {
            for (int j = 0; j < n_num; j++) {
                vals[num[j]] =
                    D->d[num[j]].vals[D->d[num[j]].n - 1 - c % D->d[num[j]].n]; /* c = 0: largest */
                c /= D->d[num[j]].n;
            }
        } else if (c > 0) {
            c--;
            int j = 0;
            while (j < n_num && c >= D->d[num[j]].n) c -= D->d[num[j++]].n;
            if (j == n_num || alt_index(&D->d[num[j]], vals[num[j]]) == c) continue;
            vals[num[j]] = D->d[num[j]].vals[c];
        }
        int64_t bp;
        int clash;
        int ob = record(b, vals, &bp, &clash);
        if (ob < 0) continue;
        for (int d = 0; d < n; d++) {
            drv_da_dec *dd = &D->d[d];
            if (dd->kind != DRV_DA_RELAXED || !b->obs.v[ob].active[d]) continue;
            int bi = alt_index(dd, vals[d]);
            if (bi >= 0 && b->params_at[d][bi] < 0) b->params_at[d][bi] = bp;
            for (int v = 0; v < dd->n; v++) {
                if (v == bi) continue;
                memcpy(var, vals, sizeof(sval) * (size_t)n);
                var[d] = dd->vals[v];
                int64_t vp;
                int ov = record(b, var, &vp, &clash);
                if (ov < 0) continue;
                if (b->params_at[d][v] < 0) b->params_at[d][v] = vp;
                if (clash >= 0) {
                    char vb[64], bb[64];
                    describe_value(D->s->decs.v[d], dd->vals[v], vb, sizeof vb);
                    describe_value(D->s->decs.v[d], vals[d], bb, sizeof bb);
                    fix(D, d,
                        "layer %s has another shape or attributes at %s = %s than at %s (widths, kernels "
                        "and op attributes are not mixed)",
                        b->keys.v[clash].key, D->s->decs.v[d]->label, vb, bb);
                    return false;
                }
                compare(b, ob, ov, d);
            }
        }
    }
    /* random points break the co-variation of the bases' alternatives */
    uint64_t rng = 0x5eed0da7ull;
    for (int r = 0; r < (first_only ? 0 : N_RANDOM); r++) {
        ctx_mark m = ctx_get_mark(D->c);
        assignment *a = asg_new(D->c, D->s);
        int e0 = D->c->n_errors;
        bool ok = space_sample(D->c, D->p, D->s, &rng, a, 20);
        D->c->n_errors = e0;
        if (ok) {
            memcpy(vals, a->vals, sizeof(sval) * (size_t)n);
            for (int i = 0; i < n; i++)
                if (D->d[i].kind != DRV_DA_RELAXED) vals[i] = D->base[i];
        }
        ctx_release(D->c, m);
        int clash;
        if (ok && record(b, vals, NULL, &clash) >= 0 && clash >= 0) return true; /* kept out by the fits */
    }
    return true;
}

/* ----- the input of a slot as a tree of mixtures ----- */

typedef struct entry { /* in graph obs, the slot is fed by layer key */
    int obs, key;
} entry;

static tree *leaf(builder *b, int key) {
    tree *t = arena_alloc(b->A, sizeof *t);
    t->dec = -1;
    t->key = key;
    return t;
}

static uint64_t mix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* A decision's share of an assignment's hash (sums of these hash a whole
 * assignment, and one decision is taken out by a subtraction). */
static uint64_t dec_hash(const obs *o, int d) {
    return mix64((uint64_t)d * 1000003u + (o->active[d] ? (uint64_t)o->vals[d].i + 1 : 0));
}

/* Whether two entries that differ only in decision d have other keys:
 * direct evidence that d changes the slot. */
static bool direct(builder *b, const entry *e, int n, const uint64_t *h, int d, uint64_t *tab, int *tkey,
                   int tcap) {
    memset(tab, 0, sizeof(uint64_t) * (size_t)tcap);
    for (int i = 0; i < n; i++) {
        uint64_t k = (h[i] - dec_hash(&b->obs.v[e[i].obs], d)) | 1;
        uint64_t j = k & (uint64_t)(tcap - 1);
        while (tab[j] && tab[j] != k) j = (j + 1) & (uint64_t)(tcap - 1);
        if (!tab[j])
            tab[j] = k, tkey[j] = e[i].key;
        else if (tkey[j] != e[i].key)
            return true;
    }
    return false;
}

/* Whether some entry's layer lies in a branch of decision d (its key
 * holds d's label as a block path component). */
static bool names_it(builder *b, const entry *e, int n, int d) {
    const char *l = b->D->s->decs.v[d]->label;
    size_t len = strlen(l);
    for (int i = 0; i < n; i++) {
        const char *k = b->keys.v[e[i].key].key;
        for (const char *at = strstr(k, l); at; at = strstr(at + 1, l))
            if ((at == k || at[-1] == '.') && at[len] == '.') return true;
    }
    return false;
}

static tree *fit(builder *b, const entry *e, int n, const infl *f, int nf, int slot, int depth, int *size);

/* The tree splitting the entries on decision d first, or NULL. */
static tree *split(builder *b, const entry *e, int n, int d, const infl *f, int nf, int slot, int depth,
                   int *size) {
    const drv_da_dec *dd = &b->D->d[d];
    entry *sub = malloc(sizeof(entry) * (size_t)(n + 1));
    if (!sub) return NULL;
    tree *t = arena_alloc(b->A, sizeof *t);
    t->dec = d;
    t->kid = arena_alloc(b->A, sizeof(tree *) * (size_t)dd->n);
    t->hole = arena_alloc(b->A, sizeof(bool) * (size_t)dd->n);
    int total = dd->n;
    bool ok = true;
    for (int v = 0; v < dd->n && ok; v++) {
        int ns = 0;
        for (int i = 0; i < n; i++) {
            const obs *o = &b->obs.v[e[i].obs];
            if (!o->active[d] || alt_index(dd, o->vals[d]) == v) sub[ns++] = e[i];
        }
        if (!ns) { /* no graph had this layer at that value: filled later */
            t->hole[v] = true;
            continue;
        }
        int s;
        ok = (t->kid[v] = fit(b, sub, ns, f, nf, slot, depth + 1, &s)) != NULL;
        total += s;
    }
    free(sub);
    if (!ok) return NULL;
    tree *any = NULL;
    for (int v = 0; v < dd->n && !any; v++) any = t->kid[v];
    for (int v = 0; v < dd->n; v++)
        if (!t->kid[v]) t->kid[v] = any;
    *size = total;
    return t;
}

/* The smallest tree of mixtures that gives every entry its key, or NULL
 * when none does.  An entry where the decision split on is inactive holds
 * for each of its values.  The decisions tried first are those with the
 * strongest evidence of changing the slot: two graphs that differ only in
 * it (4), the layers being in its branches (2), a one-factor variation of
 * it that changed the slot (1); then any that varies. */
static tree *fit(builder *b, const entry *e, int n, const infl *f, int nf, int slot, int depth, int *size) {
    bool same = true;
    for (int i = 1; i < n && same; i++) same = e[i].key == e[0].key;
    if (same) {
        *size = 0;
        return leaf(b, e[0].key);
    }
    if (depth >= MAX_INFL) return NULL;
    uint64_t mh = HASH_FNV1A_SEED;
    for (int i = 0; i < n; i++) mh = hash_fnv1a_bytes(mh, &e[i].obs, sizeof e[i].obs);
    struct fitmemo *mm = NULL;
    if (b->memo_cap) {
        uint64_t j = mh & (uint64_t)(b->memo_cap - 1);
        while (b->memo[j].done && !(b->memo[j].h == mh && b->memo[j].n == n))
            j = (j + 1) & (uint64_t)(b->memo_cap - 1);
        mm = &b->memo[j];
        if (mm->done) {
            *size = mm->size;
            return mm->t;
        }
    }
    drv_darts *D = b->D;
    int tcap = 16;
    while (tcap < 2 * n) tcap *= 2;
    uint64_t *h = calloc((size_t)n + 1, sizeof *h), *tab = calloc((size_t)tcap, sizeof *tab);
    int *tkey = calloc((size_t)tcap, sizeof *tkey), *score = calloc((size_t)D->n_dec + 1, sizeof *score);
    tree *best = NULL;
    if (!h || !tab || !tkey || !score) goto out;
    for (int i = 0; i < n; i++)
        for (int d = 0; d < D->n_dec; d++)
            if (D->d[d].kind == DRV_DA_RELAXED) h[i] += dec_hash(&b->obs.v[e[i].obs], d);
    for (int d = 0; d < D->n_dec; d++) {
        score[d] = -1;
        if (D->d[d].kind != DRV_DA_RELAXED) continue;
        int first = -1;
        bool varies = false;
        for (int i = 0; i < n && !varies; i++) {
            const obs *o = &b->obs.v[e[i].obs];
            if (!o->active[d]) continue;
            int v = alt_index(&D->d[d], o->vals[d]);
            if (first < 0) first = v;
            varies = v != first;
        }
        if (!varies) continue;
        score[d] = 0;
        for (int q = 0; q < nf; q++) score[d] |= f[q].slot == slot && f[q].dec == d;
        if (names_it(b, e, n, d)) score[d] |= 2;
        if (direct(b, e, n, h, d, tab, tkey, tcap)) score[d] |= 4;
    }
    /* the decisions with evidence, else any that varies; of those the
     * smallest tree (fits of one subset are memoised, so the orders of
     * splitting meet), ties to the stronger evidence */
    int floor_ = 0;
    for (int d = 0; d < D->n_dec; d++)
        if (score[d] >= 1) floor_ = 1;
    int best_size = 0, best_score = -1;
    for (int d = 0; d < D->n_dec; d++) {
        if (score[d] < floor_ || (best && b->splits > SPLIT_BUDGET)) continue;
        b->splits++;
        int sz;
        tree *t = split(b, e, n, d, f, nf, slot, depth, &sz);
        if (t && (!best || sz < best_size || (sz == best_size && score[d] > best_score)))
            best = t, best_size = sz, best_score = score[d], *size = sz;
    }
out:
    free(h), free(tab), free(tkey), free(score);
    if (mm && 2 * (b->memo_n + 1) < b->memo_cap) {
        *mm = (struct fitmemo){mh, n, best ? *size : 0, best, true};
        b->memo_n++;
    }
    return best;
}

/* ----- assembling the union graph ----- */

static int push_node(builder *b, ir_node *nd) {
    nd->id = b->nodes.n;
    const ir_shape *in0 = nd->n_in ? &b->nodes.v[nd->in[0]].shape : NULL;
    nd->flops = ir_node_flops(nd, in0);
    nd->n_param_elems = 0;
    for (int p = 0; p < nd->n_params; p++) nd->n_param_elems += ir_shape_numel(&nd->params[p].shape);
    vec_push(b->A, b->nodes, *nd);
    return nd->id;
}

static int synth(builder *b, ir_op op, const int *in, int n_in, const ir_shape *shape, const char *what) {
    ir_node nd;
    ir_node_init(&nd, op);
    nd.name = arena_printf(b->A, "darts.%s#%d", what, ++b->n_synth);
    nd.n_in = n_in;
    nd.in = arena_alloc(b->A, sizeof(int) * (size_t)(n_in + 1));
    memcpy(nd.in, in, sizeof(int) * (size_t)n_in);
    nd.shape = *shape;
    return push_node(b, &nd);
}

static int materialize(builder *b, const tree *t, int at);

/* A mixture of decision t->dec: sum over the distinct inputs of the
 * input times its weight (the sum of its alternatives' weights). */
static int mixture(builder *b, const tree *t, int at) {
    drv_darts *D = b->D;
    drv_da_dec *dd = &D->d[t->dec];
    int ids[MAX_ALTS], uniq[MAX_ALTS], nu = 0;
    uint64_t mask[MAX_ALTS];
    for (int v = 0; v < dd->n; v++) {
        if ((ids[v] = materialize(b, t->kid[v], at)) < 0) return -1;
        int u = 0;
        while (u < nu && uniq[u] != ids[v]) u++;
        if (u == nu) uniq[nu] = ids[v], mask[nu++] = 0;
        mask[u] |= 1ull << v;
    }
    if (nu == 1) return uniq[0];
    char *sig = arena_printf(b->A, "%d", t->dec);
    for (int v = 0; v < dd->n; v++) sig = arena_printf(b->A, "%s,%d", sig, ids[v]);
    for (int i = 0; i < b->memo_sig.n; i++)
        if (!strcmp(b->memo_sig.v[i], sig)) return b->memo_id.v[i];
    const ir_shape sh = b->nodes.v[uniq[0]].shape;
    for (int u = 1; u < nu; u++) {
        const ir_shape *o = &b->nodes.v[uniq[u]].shape;
        bool eq = o->rank == sh.rank;
        for (int k = 0; eq && k < sh.rank; k++) eq = o->d[k] == sh.d[k];
        if (!eq) {
            char x[64], y[64];
            diag_error(D->c, D->s->decs.v[t->dec]->at,
                       "decision '%s' cannot be relaxed: at layer %s its alternatives give tensors of shapes "
                       "%s and %s, which cannot be mixed",
                       D->s->decs.v[t->dec]->label, b->keys.v[at].key,
                       ir_shape_str(&b->nodes.v[uniq[0]].shape, x, sizeof x), ir_shape_str(o, y, sizeof y));
            b->failed = true;
            return -1;
        }
    }
    if (b->zero1 < 0) {
        ir_shape one = {1, {1}};
        int in = b->id_of[KEY_INPUT];
        b->zero1 = synth(b, IR_ZERO, &in, 1, &one, "zero");
    }
    int muls[MAX_ALTS];
    for (int u = 0; u < nu; u++) {
        ir_shape c = {1, {sh.d[0]}};
        int s = synth(b, IR_DENSE, &b->zero1, 1, &c, "weight");
        ir_node *nd = &b->nodes.v[s];
        nd->units = (int)sh.d[0];
        nd->bias = true;
        nd->n_params = 2;
        nd->params[0] = (ir_param){
            arena_printf(b->A, "%s.weight", nd->name), PARAM_WEIGHT, {2, {sh.d[0], 1}}, true, NULL};
        nd->params[1] =
            (ir_param){arena_printf(b->A, "%s.bias", nd->name), PARAM_BIAS, {1, {sh.d[0]}}, true, NULL};
        nd->n_param_elems = 2 * sh.d[0];
        nd->flops = ir_node_flops(nd, &b->nodes.v[b->zero1].shape);
        drv_da_scale sc = {s, t->dec, mask[u]};
        vec_push(b->A, b->scales, sc);
        int in2[2] = {uniq[u], s};
        muls[u] = synth(b, IR_MUL, in2, 2, &sh, "mul");
    }
    int id = synth(b, IR_ADD, muls, nu, &sh, "mix");
    vec_push(b->A, b->memo_sig, sig);
    vec_push(b->A, b->memo_id, id);
    dd->n_mix++;
    if (!dd->example) dd->example = b->keys.v[at].key;
    return id;
}

static int emit_key(builder *b, int k);

static bool emit_leaves(builder *b, const tree *t) {
    if (t->dec < 0) return emit_key(b, t->key) >= 0;
    for (int v = 0; v < b->D->d[t->dec].n; v++)
        if (!emit_leaves(b, t->kid[v])) return false;
    return true;
}

static int materialize(builder *b, const tree *t, int at) {
    return t->dec < 0 ? b->id_of[t->key] : mixture(b, t, at);
}

/* The tree of slot `slot` of key k (slot -1: the graph's output). */
static tree *slot_tree(builder *b, int k, int slot) {
    int n = slot < 0 ? b->obs.n : b->keys.v[k].occ.n;
    entry *e = malloc(sizeof(entry) * (size_t)(n + 1));
    if (!e) return NULL;
    for (int i = 0; i < n; i++) {
        if (slot < 0) {
            e[i] = (entry){i, b->obs.v[i].out_key};
        } else {
            const occ *oc = &b->keys.v[k].occ.v[i];
            const obs *o = &b->obs.v[oc->obs];
            e[i] = (entry){oc->obs, o->in[o->inoff[oc->node] + slot]};
        }
    }
    const infl_vec *f = slot < 0 ? &b->out_infl : &b->keys.v[k].infl;
    int size;
    b->splits = 0;
    b->memo_n = 0;
    if (!b->memo) {
        b->memo_cap = 1 << 14;
        b->memo = calloc((size_t)b->memo_cap, sizeof *b->memo);
        if (!b->memo) b->memo_cap = 0;
    } else {
        memset(b->memo, 0, sizeof *b->memo * (size_t)b->memo_cap);
    }
    tree *t = fit(b, e, n, f->v, f->n, slot < 0 ? 0 : slot, 0, &size);
    free(e);
    return t;
}

static void no_fit(builder *b, int k, int slot) {
    diag *dg =
        diag_error(b->D->c, loc_none(),
                   "the space cannot be relaxed: the input %d of layer %s is not a mixture of its decisions' "
                   "alternatives",
                   slot + 1, slot < 0 ? "(the output)" : b->keys.v[k].key);
    diag_note(b->D->c, dg, loc_none(), "write one of the decisions that feed it as a constant in the space");
    b->failed = true;
}

/* ----- filling holes ----- */

static uint64_t tree_hash(builder *b, tree *t) {
    if (t->hash) return t->hash;
    uint64_t h = mix64(t->dec < 0 ? (uint64_t)t->key * 2 + 1 : (uint64_t)t->dec * 2);
    if (t->dec >= 0)
        for (int v = 0; v < b->D->d[t->dec].n; v++) h = mix64(h ^ tree_hash(b, t->kid[v]));
    return t->hash = h ? h : 1;
}

static bool has_hole(const builder *b, const tree *t) {
    for (int v = 0; t->dec >= 0 && v < b->D->d[t->dec].n; v++)
        if (t->hole[v]) return true;
    return false;
}

static void collect_complete(builder *b, tree *t) {
    if (!t || t->dec < 0 || t->seen) return;
    t->seen = true;
    for (int v = 0; v < b->D->d[t->dec].n; v++) collect_complete(b, t->kid[v]);
    if (!has_hole(b, t)) vec_push(b->A, b->complete, t);
}

/* A mixture with holes takes their inputs from a complete mixture over the
 * same decision that agrees with it everywhere else: the layer was not
 * seen there only because no graph built had that combination. */
static void fill_holes(builder *b, tree *t) {
    if (!t || t->dec < 0 || !t->seen) return;
    t->seen = false;
    int n = b->D->d[t->dec].n;
    for (int v = 0; v < n; v++) fill_holes(b, t->kid[v]);
    if (!has_hole(b, t)) return;
    for (int i = 0; i < b->complete.n; i++) {
        tree *c = b->complete.v[i];
        if (c->dec != t->dec || c == t) continue;
        bool agree = true;
        for (int v = 0; v < n && agree; v++)
            agree = t->hole[v] || tree_hash(b, c->kid[v]) == tree_hash(b, t->kid[v]);
        if (!agree) continue;
        for (int v = 0; v < n; v++)
            if (t->hole[v]) t->kid[v] = c->kid[v], t->hole[v] = false;
        t->hash = 0;
        return;
    }
}

static int emit_key(builder *b, int k) {
    if (b->id_of[k] >= 0) return b->id_of[k];
    keyrec *kr = &b->keys.v[k];
    if (b->id_of[k] == -2) {
        diag_error(b->D->c, loc_none(), "the space cannot be relaxed: layer %s feeds itself in the union",
                   kr->key);
        b->failed = true;
        return -1;
    }
    b->id_of[k] = -2;
    int nin = kr->tmpl.n_in, *ins = arena_alloc(b->A, sizeof(int) * (size_t)(nin + 1));
    for (int s = 0; s < nin; s++) {
        tree *t = b->trees[k][s];
        if (!t) no_fit(b, k, s);
        if (!t || !emit_leaves(b, t) || (ins[s] = materialize(b, t, k)) < 0) return -1;
    }
    ir_node nd = kr->tmpl;
    nd.in = ins;
    for (int p = 0; p < nd.n_params; p++)
        nd.params[p].name = arena_printf(
            b->A, "%s.%s", kr->key,
            (const char *[]){"weight", "bias", "running_mean", "running_var"}[nd.params[p].role]);
    int id = push_node(b, &nd);
    b->id_of[k] = id;
    return id;
}

static bool assemble(builder *b) {
    drv_darts *D = b->D;
    b->id_of = arena_alloc(b->A, sizeof(int) * (size_t)(b->keys.n + 1));
    for (int i = 0; i < b->keys.n; i++) b->id_of[i] = -1;
    b->zero1 = -1;
    /* every slot's tree first, so that holes are filled from all of them */
    b->trees = arena_alloc(b->A, sizeof(tree **) * (size_t)(b->keys.n + 1));
    for (int k = 0; k < b->keys.n; k++) {
        int nin = b->keys.v[k].tmpl.op == IR_OP_COUNT ? 0 : b->keys.v[k].tmpl.n_in;
        b->trees[k] = arena_alloc(b->A, sizeof(tree *) * (size_t)(nin + 1));
        for (int s = 0; s < nin; s++) b->trees[k][s] = slot_tree(b, k, s);
    }
    tree *out = slot_tree(b, -1, -1);
    if (!out) no_fit(b, -1, -1);
    for (int k = 0; k < b->keys.n; k++)
        for (int s = 0; b->keys.v[k].tmpl.op != IR_OP_COUNT && s < b->keys.v[k].tmpl.n_in; s++)
            collect_complete(b, b->trees[k][s]);
    collect_complete(b, out);
    for (int k = 0; k < b->keys.n; k++)
        for (int s = 0; b->keys.v[k].tmpl.op != IR_OP_COUNT && s < b->keys.v[k].tmpl.n_in; s++)
            fill_holes(b, b->trees[k][s]);
    fill_holes(b, out);
    if (emit_key(b, KEY_INPUT) < 0) return false;
    int o;
    if (!out || !emit_leaves(b, out) || (o = materialize(b, out, b->obs.v[0].out_key)) < 0) return false;
    D->g.n_nodes = b->nodes.n;
    D->g.nodes = b->nodes.v;
    D->g.input = b->id_of[KEY_INPUT];
    D->g.output = o;
    D->g.space = D->s->name;
    ir_graph_finish(&D->g);
    D->n_scale = b->scales.n;
    D->scale = b->scales.v;
    D->is_scale = arena_alloc(&D->A, sizeof(bool) * (size_t)(D->g.n_nodes + 1));
    for (int i = 0; i < D->n_scale; i++) D->is_scale[D->scale[i].node] = true;
    char buf[512];
    if (ir_graph_verify(&D->g, 0, buf, sizeof buf)) {
        diag_error(D->c, loc_none(), "internal: the union graph of space %s is not valid: %s", D->s->name,
                   buf);
        return false;
    }
    return true;
}

/* ----- building ----- */

/* An alternative is parameter-free when its graph has the fewest weights
 * of the decision's alternatives while some other has more (skip, zero,
 * pooling); an input choice, where all are equal, has none. */
static void mark_param_free(builder *b) {
    for (int d = 0; d < b->D->n_dec; d++) {
        drv_da_dec *dd = &b->D->d[d];
        int64_t lo = INT64_MAX, hi = -1;
        for (int v = 0; v < dd->n; v++)
            if (b->params_at[d][v] >= 0) {
                if (b->params_at[d][v] < lo) lo = b->params_at[d][v];
                if (b->params_at[d][v] > hi) hi = b->params_at[d][v];
            }
        for (int v = 0; v < dd->n; v++) dd->param_free[v] = hi > lo && b->params_at[d][v] == lo;
    }
}

static void setup_builder(builder *b, drv_darts *D) {
    b->D = D;
    b->A = &D->A;
    b->params_at = arena_alloc(b->A, sizeof(int64_t *) * (size_t)(D->n_dec + 1));
    for (int d = 0; d < D->n_dec; d++) {
        b->params_at[d] = arena_alloc(b->A, sizeof(int64_t) * (size_t)(D->d[d].n + 1));
        for (int v = 0; v < D->d[d].n; v++) b->params_at[d][v] = -1;
    }
    D->n_points = 0;
    intern(b, "<input>");
}

bool drv_darts_build(drv_darts *D, nasc_ctx *c, program *p, space_ir *s, da_method m) {
    memset(D, 0, sizeof *D);
    D->c = c, D->p = p, D->s = s;
    D->n_dec = s->decs.n;
    D->d = arena_alloc(&D->A, sizeof(drv_da_dec) * (size_t)(D->n_dec + 1));
    D->base = arena_alloc(&D->A, sizeof(sval) * (size_t)(D->n_dec + 1));
    init_decisions(D);
    builder b;
    bool ok = false;
    for (int round = 0; round < MAX_ROUNDS + D->n_dec && !ok; round++) {
        memset(&b, 0, sizeof b);
        setup_builder(&b, D);
        /* first from the largest point alone, so that a width is fixed for
         * what it does itself, before combinations blame another decision */
        ok = gather(&b, true);
        if (ok) {
            free(b.hash);
            memset(&b, 0, sizeof b);
            setup_builder(&b, D);
            ok = gather(&b, false);
        }
        if (!ok) free(b.hash);
    }
    if (!ok || !b.obs.n) {
        diag_error(c, loc_none(), "space %s has no feasible point to relax", s->name);
        free(b.hash);
        return false;
    }
    mark_param_free(&b);
    ok = assemble(&b);
    free(b.hash);
    free(b.memo);
    if (!ok) return false;
    D->n_relaxed = 0;
    int off = 0;
    for (int i = 0; i < D->n_dec; i++) {
        drv_da_dec *dd = &D->d[i];
        if (dd->kind == DRV_DA_RELAXED && !dd->n_mix) {
            dd->kind = DRV_DA_INERT;
            dd->fixed = alt_index(dd, D->base[i]);
            if (dd->fixed < 0) dd->fixed = 0;
        }
        if (dd->kind != DRV_DA_RELAXED) continue;
        D->n_relaxed++;
        dd->off = off;
        off += dd->n;
        dd->alpha = arena_alloc(&D->A, sizeof(float) * (size_t)dd->n);
        dd->galpha = arena_alloc(&D->A, sizeof(float) * (size_t)dd->n);
    }
    if (!D->n_relaxed) {
        diag *dg = diag_error(
            c, loc_none(), "space %s has no categorical decision to relax: nothing for --method %s to search",
            s->name, da_method_name(m));
        for (int i = 0; i < D->n_dec; i++)
            if (D->d[i].kind == DRV_DA_FIXED)
                diag_note(c, dg, s->decs.v[i]->at, "decision '%s' is held fixed: %s", s->decs.v[i]->label,
                          D->d[i].why);
        diag_note(c, dg, loc_none(),
                  "differentiable methods relax op, block, input and `if` choices and loop counts; train a "
                  "point with nasc train, or a weight-sharing supernet with nasc supernet (no --method)");
        return false;
    }
    return true;
}

void drv_darts_free(drv_darts *D) {
    if (D->g.nodes) rt_params_free(&D->g);
    arena_free_all(&D->A);
    memset(D, 0, sizeof *D);
}

int drv_darts_n_weights(const drv_darts *D) {
    int n = 0;
    for (int i = 0; i < D->n_dec; i++)
        if (D->d[i].kind == DRV_DA_RELAXED) n += D->d[i].n;
    return n;
}

void drv_darts_set_weights(drv_darts *D, const float *w) {
    for (int i = 0; i < D->n_scale; i++) {
        const drv_da_scale *sc = &D->scale[i];
        const drv_da_dec *dd = &D->d[sc->dec];
        double v = 0;
        for (int a = 0; a < dd->n; a++)
            if (sc->alts >> a & 1) v += w[dd->off + a];
        ir_node *nd = &D->g.nodes[sc->node];
        int64_t c = nd->params[1].shape.d[0];
        for (int64_t k = 0; k < c; k++) nd->params[0].data[k] = 0, nd->params[1].data[k] = (float)v;
    }
}

bool drv_darts_is_scale(const drv_darts *D, const ir_param *p) {
    for (int i = 0; i < D->n_scale; i++) {
        const ir_node *nd = &D->g.nodes[D->scale[i].node];
        if (p >= nd->params && p < nd->params + nd->n_params) return true;
    }
    return false;
}

void drv_darts_weight_grads(const drv_darts *D, rt_exec *e, float *gw) {
    memset(gw, 0, sizeof(float) * (size_t)drv_darts_n_weights(D));
    float **params, **grads;
    int64_t *sizes;
    ir_param **meta;
    int n = rt_exec_trainables(e, &params, &grads, &sizes, &meta);
    for (int i = 0; i < D->n_scale; i++) {
        const drv_da_scale *sc = &D->scale[i];
        const ir_param *bias = &D->g.nodes[sc->node].params[1];
        for (int t = 0; t < n; t++) {
            if (meta[t] != bias) continue;
            double s = 0;
            for (int64_t k = 0; k < sizes[t]; k++) s += grads[t][k];
            const drv_da_dec *dd = &D->d[sc->dec];
            for (int a = 0; a < dd->n; a++)
                if (sc->alts >> a & 1) gw[dd->off + a] += (float)s;
            break;
        }
    }
}

/* ----- --explain ----- */

char *drv_darts_explain(const drv_darts *D, da_method m) {
    strbuf b = {0};
    int n_fixed = 0, n_mix = 0;
    for (int i = 0; i < D->n_dec; i++) n_fixed += D->d[i].kind != DRV_DA_RELAXED;
    for (int i = 0; i < D->n_dec; i++) n_mix += D->d[i].n_mix;
    const char *how = m == DA_DARTS   ? "softmax mixture"
                      : m == DA_FBNET ? "Gumbel-softmax mixture (soft)"
                      : m == DA_GDAS  ? "Gumbel-softmax, one path forward (hard, straight-through)"
                                      : "binarised paths (two sampled per alpha step)";
    strbuf_printf(
        &b,
        "differentiable supernet of space %s, --method %s (%s): %d relaxed decisions, %d held fixed; "
        "union graph of %d layers with %d mixture points, %lld trainable weights (from %d graphs)\n",
        D->s->name, da_method_name(m), how, D->n_relaxed, n_fixed, D->g.n_nodes, n_mix,
        (long long)(D->g.params - 0), D->n_points);
    for (int i = 0; i < D->n_dec; i++) {
        const drv_da_dec *dd = &D->d[i];
        const decision *d = D->s->decs.v[i];
        char vb[64];
        strbuf_printf(&b, "  %-20s ", d->label);
        switch (dd->kind) {
        case DRV_DA_RELAXED: {
            int nf = 0;
            for (int v = 0; v < dd->n; v++) nf += dd->param_free[v];
            strbuf_printf(&b, "relaxed: alpha over %d alternatives, mixed at %d point%s (e.g. at layer %s)",
                          dd->n, dd->n_mix, dd->n_mix == 1 ? "" : "s", dd->example ? dd->example : "?");
            if (nf) strbuf_printf(&b, "; %d parameter-free", nf);
            break;
        }
        case DRV_DA_FIXED:
            describe_value(d, D->base[i], vb, sizeof vb);
            strbuf_printf(&b, "fixed at %s: %s (choose another value with --set %s=V)", vb, dd->why,
                          d->label);
            break;
        case DRV_DA_INERT:
            describe_value(d, D->base[i], vb, sizeof vb);
            strbuf_printf(&b, "fixed at %s: changes no layer", vb);
            break;
        case DRV_DA_RECIPE:
            strbuf_printf(&b, "recipe: not searched (the supernet trains with one recipe)");
            break;
        }
        strbuf_puts(&b, "\n");
    }
    return strbuf_take(&b);
}

/* ----- the derived point ----- */

static bool feasible_point(drv_darts *D, const sval *vals, assignment **out) {
    assignment *a = asg_new(D->c, D->s);
    memcpy(a->vals, vals, sizeof(sval) * (size_t)a->n);
    for (int i = 0; i < a->n; i++) a->given[i] = true;
    bool feasible;
    int e0 = D->c->n_errors;
    bool ok = space_run(D->c, D->p, D->s, a, NULL, &feasible);
    D->c->n_errors = e0;
    *out = a;
    return ok;
}

static int argmax_of(const float *v, int n) {
    int b = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[b]) b = i;
    return b;
}

char *drv_darts_derive(drv_darts *D, char *err, size_t cap) {
    sval *vals = arena_alloc(&D->A, sizeof(sval) * (size_t)(D->n_dec + 1));
    for (int i = 0; i < D->n_dec; i++) {
        const drv_da_dec *dd = &D->d[i];
        vals[i] = dd->kind == DRV_DA_RELAXED ? dd->vals[argmax_of(dd->alpha, dd->n)] : D->base[i];
    }
    assignment *a;
    if (feasible_point(D, vals, &a)) return point_json(D->c, D->s, a);
    /* A require excludes the argmax: the feasible point closest to it in
     * alpha, changing one decision to its next best alternative. */
    double best_drop = INFINITY;
    int bd = -1, bv = -1;
    for (int i = 0; i < D->n_dec; i++) {
        const drv_da_dec *dd = &D->d[i];
        if (dd->kind != DRV_DA_RELAXED) continue;
        int top = argmax_of(dd->alpha, dd->n);
        for (int v = 0; v < dd->n; v++) {
            double drop = dd->alpha[top] - dd->alpha[v];
            if (v == top || drop >= best_drop) continue;
            sval keep = vals[i];
            vals[i] = dd->vals[v];
            if (feasible_point(D, vals, &a)) best_drop = drop, bd = i, bv = v;
            vals[i] = keep;
        }
    }
    if (bd < 0) {
        snprintf(err, cap,
                 "the derived point (the argmax of alpha) is excluded by a require of space %s, and so "
                 "is every point one decision away from it",
                 D->s->name);
        return NULL;
    }
    vals[bd] = D->d[bd].vals[bv];
    feasible_point(D, vals, &a);
    return point_json(D->c, D->s, a);
}

/* ----- training ----- */

typedef struct trainer {
    drv_darts *D;
    drv_supernet *sb;
    const drv_da_cfg *cfg;
    rt_exec *e;
    rt_optim *wopt, *aopt;
    int nw;
    float *w, *y, *gw, *noise;
    da_draw *draw; /* per decision */
    float **wp, **wg;
    int64_t *ws;
    int nwp;
    nasc_rng rng;
    double tau;
    strbuf history;
    int epochs;
} trainer;

static const char *const role_name[] = {"weight", "bias", "running_mean", "running_var"};

/* Union parameters <-> supernet slices, by key (to_union: initialise). */
static void sync_store(trainer *T, bool to_union) {
    const ir_graph *g = &T->D->g;
    char name[1024];
    for (int i = 0; i < g->n_nodes; i++) {
        const ir_node *nd = &g->nodes[i];
        if (!nd->key) continue;
        for (int p = 0; p < nd->n_params; p++) {
            const ir_param *pr = &nd->params[p];
            snprintf(name, sizeof name, "%s.%s", nd->key, role_name[pr->role]);
            sn_tensor *t = sn_find(T->sb->net, name);
            if (!t || !t->data || t->shape.rank != pr->shape.rank) continue;
            int64_t n = ir_shape_numel(&pr->shape);
            for (int64_t k = 0; k < n; k++) {
                float *s = &t->data[sn_offset(t, &pr->shape, k)];
                if (to_union)
                    pr->data[k] = *s;
                else
                    *s = pr->data[k];
            }
        }
    }
}

/* Draws every relaxed decision's weights for a step and sets them. */
static void draw_all(trainer *T, bool alpha_step) {
    drv_darts *D = T->D;
    for (int i = 0; i < D->n_dec; i++) {
        drv_da_dec *dd = &D->d[i];
        if (dd->kind != DRV_DA_RELAXED) continue;
        da_draw_weights(T->cfg->method, dd->alpha, dd->n, T->tau, alpha_step, &T->rng, T->noise + dd->off,
                        T->y + dd->off, T->w + dd->off, &T->draw[i]);
    }
    drv_darts_set_weights(D, T->w);
}

/* The architecture at the argmax of alpha (one-hot weights). */
static void set_argmax(trainer *T) {
    drv_darts *D = T->D;
    for (int i = 0; i < D->n_dec; i++) {
        drv_da_dec *dd = &D->d[i];
        if (dd->kind != DRV_DA_RELAXED) continue;
        int top = argmax_of(dd->alpha, dd->n);
        for (int v = 0; v < dd->n; v++) T->w[dd->off + v] = v == top;
    }
    drv_darts_set_weights(D, T->w);
}

/* The expected latency at mixture weights w: the base point's, plus each
 * decision's weighted change of the table's sum from its base value. */
static double expected_latency(const drv_darts *D, const float *w) {
    double e = D->lat_base;
    for (int i = 0; i < D->n_dec; i++) {
        const drv_da_dec *dd = &D->d[i];
        if (dd->kind != DRV_DA_RELAXED || !dd->lat) continue;
        int b = alt_index(dd, D->base[i]);
        for (int v = 0; v < dd->n; v++) e += w[dd->off + v] * (dd->lat[v] - dd->lat[b < 0 ? 0 : b]);
    }
    /* decisions that remove the same layers (a shorter loop, skip in it)
     * each subtract them: the additive model is floored */
    return e > 0.05 * D->lat_base ? e : 0.05 * D->lat_base;
}

/* Adds the latency term's gradient (w.r.t. the mixture weights) to gw,
 * the cross-entropy ce's gradient being in gw already: additive
 * (ProxylessNAS) + lambda * E / LAT(base), or multiplicative (FBNet)
 * ce * a * log(E)^b, E in microseconds (at least e, so the log is >= 1). */
static void latency_term(trainer *T, const float *w, double ce, float *gw) {
    drv_darts *D = T->D;
    const drv_da_cfg *cfg = T->cfg;
    if (!cfg->latency_form || D->lat_base <= 0) return;
    double e = expected_latency(D, w), scale_ce = 1, per_us;
    if (cfg->latency_form == 1) {
        per_us = (cfg->lat_lambda > 0 ? cfg->lat_lambda : 0.1) / D->lat_base;
    } else {
        double a = cfg->lat_a > 0 ? cfg->lat_a : 0.2, b = cfg->lat_b > 0 ? cfg->lat_b : 0.6;
        if (e < 2.718281828459045) e = 2.718281828459045;
        double l = log(e);
        scale_ce = a * pow(l, b);
        per_us = ce * a * b * pow(l, b - 1) / e;
    }
    for (int i = 0; i < D->n_dec; i++) {
        const drv_da_dec *dd = &D->d[i];
        if (dd->kind != DRV_DA_RELAXED) continue;
        int bi = alt_index(dd, D->base[i]);
        for (int v = 0; v < dd->n; v++)
            gw[dd->off + v] = (float)(gw[dd->off + v] * scale_ce +
                                      (dd->lat ? per_us * (dd->lat[v] - dd->lat[bi < 0 ? 0 : bi]) : 0));
    }
}

static int alpha_step(trainer *T, const float *x, const int32_t *y, int batch, int64_t step, char *err,
                      size_t cap) {
    drv_darts *D = T->D;
    draw_all(T, true);
    rt_exec_forward(T->e, x, batch, 1);
    double loss = rt_exec_loss(T->e, y, batch, NULL);
    if (!isfinite(loss)) {
        snprintf(err, cap, "step %lld: the validation loss became %g", (long long)step + 1, loss);
        return -1;
    }
    rt_exec_backward(T->e, batch);
    drv_darts_weight_grads(D, T->e, T->gw);
    latency_term(T, T->w, loss, T->gw);
    for (int i = 0; i < D->n_dec; i++) {
        drv_da_dec *dd = &D->d[i];
        if (dd->kind != DRV_DA_RELAXED) continue;
        da_alpha_grad(T->cfg->method, dd->alpha, T->y + dd->off, dd->n, T->tau, &T->draw[i], T->gw + dd->off,
                      dd->galpha);
    }
    rt_optim_step(T->aopt, T->cfg->alpha_lr > 0 ? T->cfg->alpha_lr : 3e-4);
    for (int i = 0; i < D->n_dec; i++) {
        drv_da_dec *dd = &D->d[i];
        for (int v = 0; dd->kind == DRV_DA_RELAXED && v < dd->n; v++)
            if (!isfinite(dd->alpha[v])) {
                snprintf(err, cap, "step %lld: alpha of decision '%s' became %g", (long long)step + 1,
                         D->s->decs.v[i]->label, dd->alpha[v]);
                return -1;
            }
    }
    return 0;
}

/* The layer whose weights are not finite, or NULL. */
static const char *bad_weights(trainer *T) {
    for (int i = 0; i < T->nwp; i++)
        for (int64_t k = 0; k < T->ws[i]; k++)
            if (!isfinite(T->wp[i][k])) {
                const ir_graph *g = &T->D->g;
                for (int j = 0; j < g->n_nodes; j++)
                    for (int p = 0; p < g->nodes[j].n_params; p++)
                        if (g->nodes[j].params[p].data == T->wp[i]) return g->nodes[j].name;
                return "?";
            }
    return NULL;
}

/* The decision whose branch holds layer `key` (its label is in the key's
 * block path), for messages. */
static const char *decision_of_layer(const drv_darts *D, const char *key) {
    const char *best = NULL;
    for (int i = 0; i < D->n_dec; i++) {
        const char *l = D->s->decs.v[i]->label;
        const char *at = strstr(key, l);
        if (at && (at == key || at[-1] == '.') && (at[strlen(l)] == '.' || at[strlen(l)] == '[') &&
            (!best || strlen(l) > strlen(best)))
            best = l;
    }
    return best;
}

static int weight_step(trainer *T, const float *x, const int32_t *y, int batch, double lr, int64_t step,
                       double *loss, char *err, size_t cap) {
    draw_all(T, false);
    rt_exec_forward(T->e, x, batch, 1);
    *loss = rt_exec_loss(T->e, y, batch, NULL);
    if (!isfinite(*loss)) {
        snprintf(err, cap, "step %lld: the training loss became %g", (long long)step + 1, *loss);
        return -1;
    }
    rt_exec_backward(T->e, batch);
    /* DARTS clips the weights' gradient norm at 5 */
    double nrm = 0;
    for (int i = 0; i < T->nwp; i++)
        for (int64_t k = 0; k < T->ws[i]; k++) nrm += (double)T->wg[i][k] * T->wg[i][k];
    nrm = sqrt(nrm);
    if (nrm > 5.0)
        for (int i = 0; i < T->nwp; i++)
            for (int64_t k = 0; k < T->ws[i]; k++) T->wg[i][k] = (float)(T->wg[i][k] * 5.0 / nrm);
    rt_optim_step(T->wopt, lr);
    const char *bad = bad_weights(T);
    if (bad) {
        const char *dec = decision_of_layer(T->D, bad);
        snprintf(err, cap, "step %lld: the weights of layer %s became NaN%s%s%s", (long long)step + 1, bad,
                 dec ? " (in a branch of decision '" : "", dec ? dec : "", dec ? "')" : "");
        return -1;
    }
    return 0;
}

static double param_free_share(const drv_darts *D) {
    int n = 0, k = 0;
    for (int i = 0; i < D->n_dec; i++) {
        const drv_da_dec *dd = &D->d[i];
        if (dd->kind != DRV_DA_RELAXED) continue;
        n++;
        k += dd->param_free[argmax_of(dd->alpha, dd->n)];
    }
    return n ? (double)k / n : 0;
}

static void json_alt_name(strbuf *b, const decision *d, sval v) {
    char vb[64];
    describe_value(d, v, vb, sizeof vb);
    json_write_str(b, vb);
}

/* Every decision's alphas, as a JSON array. */
static void alphas_json(const drv_darts *D, strbuf *b) {
    strbuf_puts(b, "[");
    for (int i = 0; i < D->n_dec; i++) {
        const drv_da_dec *dd = &D->d[i];
        const decision *d = D->s->decs.v[i];
        strbuf_puts(b, i ? ",\n  {\"decision\": " : "\n  {\"decision\": ");
        json_write_str(b, d->label);
        static const char *const kinds[] = {"relaxed", "fixed", "inert", "recipe"};
        strbuf_printf(b, ", \"kind\": \"%s\"", kinds[dd->kind]);
        if (dd->kind == DRV_DA_RELAXED) {
            float p[MAX_ALTS];
            da_softmax(dd->alpha, NULL, dd->n, 1.0, p);
            strbuf_puts(b, ", \"argmax\": ");
            json_alt_name(b, d, dd->vals[argmax_of(dd->alpha, dd->n)]);
            strbuf_puts(b, ", \"alternatives\": [");
            for (int v = 0; v < dd->n; v++) {
                strbuf_puts(b, v ? ", {\"value\": " : "{\"value\": ");
                json_alt_name(b, d, dd->vals[v]);
                strbuf_puts(b, ", \"alpha\": ");
                json_write_number(b, dd->alpha[v]);
                strbuf_puts(b, ", \"p\": ");
                json_write_number(b, p[v]);
                strbuf_printf(b, ", \"param_free\": %s}", dd->param_free[v] ? "true" : "false");
            }
            strbuf_puts(b, "]}");
        } else if (dd->kind != DRV_DA_RECIPE) {
            strbuf_puts(b, ", \"value\": ");
            json_alt_name(b, d, D->base[i]);
            if (dd->kind == DRV_DA_FIXED) {
                strbuf_puts(b, ", \"why\": ");
                json_write_str(b, dd->why);
            }
            strbuf_puts(b, "}");
        } else {
            strbuf_puts(b, "}");
        }
    }
    strbuf_puts(b, "\n]");
}

int drv_darts_write_text(const char *path, const char *text, char *err, size_t cap) {
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    bool ok = f && fputs(text, f) >= 0;
    if (f && fclose(f)) ok = false;
    if (!ok || rename(tmp, path)) {
        snprintf(err, cap, "cannot write %s", path);
        remove(tmp);
        return -1;
    }
    return 0;
}

/* The epoch's files: the supernet, the derived point and the alphas. */
static int save_epoch(trainer *T, int epoch, const char *out, char *err, size_t cap) {
    drv_darts *D = T->D;
    sync_store(T, false);
    ctx_mark m = ctx_get_mark(D->c);
    char *point = drv_darts_derive(D, err, cap);
    if (!point) return -1;
    strbuf al = {0}, doc = {0};
    alphas_json(D, &al);
    char ep[32], pf[64];
    snprintf(ep, sizeof ep, "%d", epoch);
    snprintf(pf, sizeof pf, "%.4f", param_free_share(D));
    const char *keys[] = {"nasc.epochs", "nasc.sampling", "nasc.method", "nasc.alpha", "nasc.point"},
               *vals[] = {ep, "differentiable", da_method_name(T->cfg->method), al.data ? al.data : "[]",
                          point};
    int rc = sn_save(T->sb->net, out, D->s->name, T->sb->source_hash, keys, vals, 5, err, cap);
    char ppath[4096], apath[4096], lpath[4096];
    drv_folder_darts(out, ppath, apath, lpath, sizeof ppath);
    if (!rc) {
        strbuf pt = {0};
        strbuf_printf(&pt, "%s\n", point);
        rc = drv_darts_write_text(ppath, pt.data ? pt.data : "", err, cap);
        strbuf_free(&pt);
    }
    if (!rc) {
        strbuf_puts(&doc, "{\"space\": ");
        json_write_str(&doc, D->s->name);
        strbuf_printf(&doc, ", \"method\": \"%s\", \"epoch\": %d, \"epochs\": %d, \"tau\": ",
                      da_method_name(T->cfg->method), epoch, T->epochs);
        json_write_number(&doc, T->tau);
        strbuf_printf(&doc, ",\n \"point\": %s,\n \"decisions\": %s,\n \"history\": [%s]}\n", point,
                      al.data ? al.data : "[]", T->history.data ? T->history.data : "");
        rc = drv_darts_write_text(apath, doc.data ? doc.data : "", err, cap);
    }
    strbuf_free(&al);
    strbuf_free(&doc);
    ctx_release(D->c, m);
    return rc;
}

/* Accuracy of the argmax architecture inside the supernet on up to 2000
 * validation samples (eval mode). */
static double val_accuracy(trainer *T, const rt_dataset *val, int batch) {
    set_argmax(T);
    rt_dataset v = *val;
    if (v.n > DRV_SN_VAL_SAMPLES) v.n = DRV_SN_VAL_SAMPLES;
    double acc = NAN, loss;
    char err[256];
    if (rt_evaluate(&T->D->g, &v, batch, &acc, &loss, err, sizeof err)) return NAN;
    return acc;
}

static int setup(trainer *T, const recipe *r, int batch, char *err, size_t cap) {
    drv_darts *D = T->D;
    if (sn_alloc(T->sb->net, T->cfg->seed, err, cap)) return -1;
    if (rt_params_init(&D->g, INIT_KAIMING, T->cfg->seed)) goto oom;
    sync_store(T, true);
    T->nw = drv_darts_n_weights(D);
    T->w = calloc((size_t)T->nw + 1, sizeof(float));
    T->y = calloc((size_t)T->nw + 1, sizeof(float));
    T->gw = calloc((size_t)T->nw + 1, sizeof(float));
    T->noise = calloc((size_t)T->nw + 1, sizeof(float));
    T->draw = calloc((size_t)D->n_dec + 1, sizeof(da_draw));
    if (!T->w || !T->y || !T->gw || !T->noise || !T->draw) goto oom;
    drv_darts_set_weights(D, T->w);
    if (!(T->e = rt_exec_new(&D->g, batch, T->cfg->seed))) {
        rt_exec_check(&D->g, err, cap);
        return -1;
    }
    float **params, **grads;
    int64_t *sizes;
    ir_param **meta;
    int n = rt_exec_trainables(T->e, &params, &grads, &sizes, &meta);
    T->wp = calloc((size_t)n + 1, sizeof(float *));
    T->wg = calloc((size_t)n + 1, sizeof(float *));
    T->ws = calloc((size_t)n + 1, sizeof(int64_t));
    if (!T->wp || !T->wg || !T->ws) goto oom;
    for (int i = 0; i < n; i++)
        if (!drv_darts_is_scale(D, meta[i]))
            T->wp[T->nwp] = params[i], T->wg[T->nwp] = grads[i], T->ws[T->nwp++] = sizes[i];
    if (!(T->wopt = rt_optim_new(&r->cfg.optim, T->nwp, T->wp, T->wg, T->ws))) goto oom;
    /* alpha: DARTS initialises it at 1e-3 * N(0, 1); Adam(betas 0.5, 0.999) */
    float **ap = calloc((size_t)D->n_relaxed + 1, sizeof(float *)),
          **ag = calloc((size_t)D->n_relaxed + 1, sizeof(float *));
    int64_t *as = calloc((size_t)D->n_relaxed + 1, sizeof(int64_t));
    if (!ap || !ag || !as) {
        free(ap), free(ag), free(as);
        goto oom;
    }
    int k = 0;
    for (int i = 0; i < D->n_dec; i++) {
        drv_da_dec *dd = &D->d[i];
        if (dd->kind != DRV_DA_RELAXED) continue;
        for (int v = 0; v < dd->n; v++) dd->alpha[v] = 1e-3f * rt_rng_normal(&T->rng);
        ap[k] = dd->alpha, ag[k] = dd->galpha, as[k++] = dd->n;
    }
    rt_optim_cfg ac = {OPT_ADAM, 0, 0, 0, T->cfg->alpha_wd > 0 ? T->cfg->alpha_wd : 1e-3, 0.5, 0.999, 1e-8};
    ac.lr = T->cfg->alpha_lr > 0 ? T->cfg->alpha_lr : 3e-4;
    T->aopt = rt_optim_new(&ac, k, ap, ag, as);
    free(ap), free(ag), free(as);
    if (!T->aopt) goto oom;
    return 0;
oom:
    snprintf(err, cap, "out of memory for the union graph of space %s", D->s->name);
    return -1;
}

static void teardown(trainer *T) {
    rt_exec_free(T->e);
    rt_optim_free(T->wopt);
    rt_optim_free(T->aopt);
    free(T->w), free(T->y), free(T->gw), free(T->noise), free(T->draw);
    free(T->wp), free(T->wg), free(T->ws);
    strbuf_free(&T->history);
}

static void copy_batch(const rt_dataset *d, const int64_t *idx, int64_t at, int batch, float *x, int32_t *y) {
    int64_t numel = ir_shape_numel(&d->sample);
    for (int b = 0; b < batch; b++) {
        int64_t j = idx[(at + b) % d->n];
        memcpy(x + (size_t)b * (size_t)numel, d->x + (size_t)j * (size_t)numel,
               sizeof(float) * (size_t)numel);
        y[b] = d->y[j];
    }
}

int drv_darts_train(drv_darts *D, drv_supernet *sb, const drv_da_cfg *cfg, const char *out, char *err,
                    size_t cap) {
    nasc_ctx *c = D->c;
    ctx_mark m0 = ctx_get_mark(c);
    trainer T;
    memset(&T, 0, sizeof T);
    T.D = D, T.sb = sb, T.cfg = cfg;
    nasc_rng_seed(&T.rng, cfg->seed ^ 0xda4700d5ull);
    int rc = -1;
    float *x = NULL;
    int32_t *y = NULL;
    int64_t *ti = NULL, *vi = NULL;
    assignment *a;
    recipe r;
    err[0] = 0;
    if (!feasible_point(D, sb->largest.vals, &a) || !recipe_from_section(&a->train, &r, err, cap)) {
        if (!err[0]) snprintf(err, cap, "the largest point of space %s cannot be built", D->s->name);
        goto out;
    }
    const recipe_data *data = recipe_load_data(&r, err, cap);
    if (!data || rt_check_data(&D->g, &data->train, "the training data", err, cap)) goto out;
    if (data->val.n < 1) {
        snprintf(err, cap, "differentiable search needs a validation split for alpha (train.split > 0)");
        goto out;
    }
    D->g.norm = data->norm;
    if (r.cfg.threads > 0) rt_blas_set_threads(r.cfg.threads);
    T.epochs = cfg->epochs > 0 ? cfg->epochs : (int)ceil(r.epochs);
    if (T.epochs < 1) T.epochs = 1;
    double frac = cfg->epochs <= 0 && r.epochs < 1 ? r.epochs : 1.0;
    int batch = r.cfg.batch > 0 ? r.cfg.batch : 64;
    const rt_dataset *tr = &data->train, *va = &data->val;
    int64_t n_train = (int64_t)ceil((double)tr->n * frac);
    if (n_train < 1 || n_train > tr->n) n_train = tr->n;
    if (batch > n_train) batch = (int)n_train;
    if (batch > va->n) batch = (int)va->n;
    if (setup(&T, &r, batch, err, cap)) goto out;
    int64_t per_epoch = n_train / batch, total = per_epoch * T.epochs, numel = ir_shape_numel(&tr->sample);
    x = malloc(sizeof(float) * (size_t)(batch * numel));
    y = malloc(sizeof(int32_t) * (size_t)batch);
    ti = malloc(sizeof(int64_t) * (size_t)tr->n);
    vi = malloc(sizeof(int64_t) * (size_t)va->n);
    if (!x || !y || !ti || !vi) {
        snprintf(err, cap, "out of memory");
        goto out;
    }
    for (int64_t i = 0; i < va->n; i++) vi[i] = i;
    int64_t step = 0, vat = 0;
    double t0 = recipe_now();
    double t_0 = cfg->tau0 > 0 ? cfg->tau0 : 5.0, t_d = cfg->tau_decay > 0 ? cfg->tau_decay : 0.956;
    for (int ep = 1; ep <= T.epochs; ep++) {
        T.tau = da_temperature(t_0, t_d, ep - 1);
        for (int64_t i = 0; i < tr->n; i++) ti[i] = i;
        rt_shuffle(&T.rng, ti, tr->n);
        double sum = 0;
        for (int64_t s = 0; s < per_epoch; s++, step++) {
            if (vat % va->n == 0) rt_shuffle(&T.rng, vi, va->n);
            copy_batch(va, vi, vat, batch, x, y);
            vat += batch;
            if (alpha_step(&T, x, y, batch, step, err, cap)) goto nan;
            copy_batch(tr, ti, s * batch, batch, x, y);
            double loss, lr = rt_sched_lr(&r.cfg.sched, r.cfg.optim.lr, step, total, per_epoch);
            if (weight_step(&T, x, y, batch, lr, step, &loss, err, cap)) goto nan;
            sum += loss;
            if (cfg->progress && (s % 20 == 0 || s + 1 == per_epoch)) {
                rt_progress p = {ep, T.epochs, step + 1, total, sum / (double)(s + 1)};
                if (cfg->progress(cfg->progress_ctx, &p)) {
                    snprintf(err, cap, "training cancelled");
                    goto out;
                }
            }
        }
        double acc = val_accuracy(&T, va, batch), share = param_free_share(D);
        strbuf_printf(&T.history, "%s{\"epoch\": %d, \"loss\": ", ep > 1 ? ", " : "", ep);
        json_write_number(&T.history, per_epoch ? sum / (double)per_epoch : NAN);
        strbuf_puts(&T.history, ", \"val_accuracy\": ");
        json_write_number(&T.history, acc);
        if (D->lat_base > 0) {
            strbuf_puts(&T.history, ", \"argmax_latency_us\": ");
            json_write_number(&T.history, expected_latency(D, T.w)); /* T.w: the argmax, from val_accuracy */
        }
        strbuf_printf(&T.history, ", \"param_free_share\": %.4f, \"tau\": ", share);
        json_write_number(&T.history, T.tau);
        strbuf_puts(&T.history, "}");
        if (cfg->epoch_report)
            cfg->epoch_report(cfg->progress_ctx, ep, T.epochs, per_epoch ? sum / (double)per_epoch : NAN, acc,
                              share, T.tau);
        if (save_epoch(&T, ep, out, err, cap)) goto out;
    }
    if (cfg->train_time) *cfg->train_time = recipe_now() - t0;
    rc = 0;
    goto out;
nan : {
    char tmp[1200];
    snprintf(tmp, sizeof tmp, "%s; the run stops%s", err,
             step >= per_epoch ? " and keeps the files of the last complete epoch"
                               : " (no epoch completed: nothing written)");
    snprintf(err, cap, "%s", tmp);
}
out:
    teardown(&T);
    free(x), free(y), free(ti), free(vi);
    ctx_release(c, m0);
    return rc;
}
