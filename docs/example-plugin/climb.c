/* climb.c: a complete, minimal nasc strategy plugin, built out of tree
 * (see docs/writing-a-strategy.md).
 *
 * A hill climber: the first `init` trials are random; after that each ask
 * copies the best point seen so far and redraws one of its active
 * decisions.  It shows every part of the ABI a real strategy needs:
 * options with validation, a private seeded generator, the host's
 * normalize service, several asks outstanding at once, and results that
 * may be failed or infeasible. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <nasc/strategy.h>

typedef struct climb {
    const nasc_space *space;
    uint64_t rng;
    int init; /* random trials before climbing */
    int told; /* results seen */
    int have_best;
    double best; /* first objective, larger is better */
    nasc_value *best_values;
} climb;

/* splitmix64: small, good enough, and all in the state (no globals). */
static uint64_t climb_next(climb *c) {
    uint64_t z = (c->rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double climb_unit(climb *c) { return (double)(climb_next(c) >> 11) * 0x1.0p-53; }

static void climb_draw(climb *c, const nasc_decision *d, nasc_value *v) {
    switch (d->kind) {
    case NASC_DEC_CATEGORICAL: v->i = (int64_t)(climb_unit(c) * d->n_choices); break;
    case NASC_DEC_INT: {
        int64_t step = d->step > 0 ? d->step : 1;
        v->i = d->lo + step * (int64_t)(climb_unit(c) * (double)((d->hi - d->lo) / step + 1));
        break;
    }
    case NASC_DEC_FLOAT:
        v->f = d->log ? exp(log(d->flo) + climb_unit(c) * (log(d->fhi) - log(d->flo)))
                      : d->flo + climb_unit(c) * (d->fhi - d->flo);
        break;
    case NASC_DEC_SUBSET:
        v->subset = 0;
        for (int k = 0; k < d->k;) {
            uint64_t bit = 1ull << (int)(climb_unit(c) * d->n_choices);
            if (!(v->subset & bit)) {
                v->subset |= bit;
                k++;
            }
        }
        break;
    }
}

static int climb_create(const nasc_space *space, const nasc_option *opts, int n_opts, uint64_t seed,
                        void **state, char *err, size_t errcap) {
    climb *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errcap, "climb: out of memory");
        return -1;
    }
    c->space = space;
    c->rng = seed;
    c->init = 10;
    for (int i = 0; i < n_opts; i++) {
        char *end;
        long v = strtol(opts[i].value, &end, 10);
        if (strcmp(opts[i].key, "init")) {
            snprintf(err, errcap, "climb: unknown option '%s' (known: init)", opts[i].key);
            free(c);
            return -1;
        }
        if (*end || v < 1) {
            snprintf(err, errcap, "climb: init must be a positive integer, not '%s'", opts[i].value);
            free(c);
            return -1;
        }
        c->init = (int)v;
    }
    c->best_values = calloc((size_t)space->n_decisions + 1, sizeof *c->best_values);
    if (!c->best_values) {
        free(c);
        snprintf(err, errcap, "climb: out of memory");
        return -1;
    }
    *state = c;
    return 0;
}

static int climb_ask(void *state, nasc_point *p, char *err, size_t errcap) {
    climb *c = state;
    const nasc_space *s = c->space;
    for (int attempt = 0; attempt < 100; attempt++) {
        if (!c->have_best || c->told < c->init) {
            for (int i = 0; i < s->n_decisions; i++) climb_draw(c, &s->decisions[i], &p->values[i]);
        } else {
            memcpy(p->values, c->best_values, (size_t)s->n_decisions * sizeof *p->values);
            /* the host tells which decisions the best point really uses */
            s->normalize(s->host, p);
            int n_active = 0;
            for (int i = 0; i < s->n_decisions; i++) n_active += p->active[i];
            int pick = (int)(climb_unit(c) * n_active);
            for (int i = 0; i < s->n_decisions; i++)
                if (p->active[i] && pick-- == 0) climb_draw(c, &s->decisions[i], &p->values[i]);
        }
        p->fidelity = 0; /* the full fidelity */
        int ok = s->normalize(s->host, p);
        if (ok < 0) {
            snprintf(err, errcap, "climb: drew a value outside its domain");
            return -1;
        }
        if (ok == 1) return 0;
    }
    return 0; /* still infeasible after 100 draws: the host records it as such */
}

static void climb_tell(void *state, const nasc_point *p, const nasc_result *r) {
    climb *c = state;
    c->told++;
    if (r->status != NASC_RESULT_OK) return; /* objectives are only set for OK results */
    if (!c->have_best || r->objectives[0] > c->best) {
        c->have_best = 1;
        c->best = r->objectives[0];
        memcpy(c->best_values, p->values, (size_t)p->n * sizeof *p->values);
    }
}

static void climb_destroy(void *state) {
    climb *c = state;
    free(c->best_values);
    free(c);
}

static const nasc_option_doc climb_docs[] = {
    {"init", "10", "random trials before climbing from the best point"},
};

NASC_EXPORT int nasc_strategy_entry(uint32_t host_abi, nasc_strategy *out) {
    if (host_abi != NASC_STRATEGY_ABI_VERSION) return -1;
    memset(out, 0, sizeof *out);
    out->abi_version = NASC_STRATEGY_ABI_VERSION;
    out->struct_size = sizeof *out;
    out->name = "climb";
    out->version = "1.0";
    out->description = "hill climbing: mutate one active decision of the best point";
    out->n_option_docs = 1;
    out->option_docs = climb_docs;
    out->create = climb_create;
    out->ask = climb_ask;
    out->tell = climb_tell;
    out->destroy = climb_destroy;
    return 0;
}
