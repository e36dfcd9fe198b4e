/* random.c: the reference strategy plugin, uniform random search.
 *
 * Every decision is drawn independently from its domain (log-uniform for
 * log floats), then the host's normalize says which are active and whether
 * the point satisfies the space's `require`s; infeasible draws are retried
 * up to max_retries times.  Deterministic in the seed: the generator is
 * the plugin's own nasc_rng (nasc/rng.h), no global state. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "nasc/rng.h"
#include "nasc/strategy.h"

typedef struct rnd_state {
    const nasc_space *space;
    nasc_rng rng;
    int max_retries;
} rnd_state;

static double rnd_unit(rnd_state *st) { return nasc_rng_uniform(&st->rng); }

/* Uniform integer in [0, n) without modulo bias worth caring about (n small). */
static uint64_t rnd_below(rnd_state *st, uint64_t n) {
    return n ? (uint64_t)(rnd_unit(st) * (double)n) % n : 0;
}

static void rnd_decision(rnd_state *st, const nasc_decision *d, nasc_value *v) {
    switch (d->kind) {
    case NASC_DEC_CATEGORICAL:
        v->i = (int64_t)rnd_below(st, (uint64_t)(d->n_choices > 0 ? d->n_choices : 1));
        break;
    case NASC_DEC_INT: {
        int64_t step = d->step > 0 ? d->step : 1;
        uint64_t count = (uint64_t)((d->hi - d->lo) / step) + 1;
        v->i = d->lo + step * (int64_t)rnd_below(st, count);
        break;
    }
    case NASC_DEC_FLOAT: {
        double u = rnd_unit(st);
        if (d->log && d->flo > 0 && d->fhi > 0)
            v->f = exp(log(d->flo) + u * (log(d->fhi) - log(d->flo)));
        else
            v->f = d->flo + u * (d->fhi - d->flo);
        break;
    }
    case NASC_DEC_SUBSET: {
        uint64_t bits = 0;
        int n = d->n_choices > 64 ? 64 : d->n_choices;
        for (int chosen = 0; chosen < d->k && chosen < n;) { /* k distinct: redraw a taken one */
            uint64_t b = 1ull << rnd_below(st, (uint64_t)n);
            if (!(bits & b)) {
                bits |= b;
                chosen++;
            }
        }
        v->subset = bits;
        break;
    }
    }
}

static int rnd_create(const nasc_space *space, const nasc_option *opts, int n_opts, uint64_t seed,
                      void **state, char *err, size_t errcap) {
    rnd_state *st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(err, errcap, "random: out of memory");
        return -1;
    }
    st->space = space;
    st->max_retries = 100;
    for (int i = 0; i < n_opts; i++) {
        if (!strcmp(opts[i].key, "max_retries")) {
            char *end;
            long v = strtol(opts[i].value, &end, 10);
            if (*end || v < 0 || v > 1000000) {
                snprintf(err, errcap, "random: max_retries must be an integer in 0..1000000, not '%s'",
                         opts[i].value);
                free(st);
                return -1;
            }
            st->max_retries = (int)v;
        } else {
            snprintf(err, errcap, "random: unknown option '%s' (known: max_retries)", opts[i].key);
            free(st);
            return -1;
        }
    }
    for (int i = 0; i < space->n_decisions; i++) {
        const nasc_decision *d = &space->decisions[i];
        if (d->kind == NASC_DEC_SUBSET && d->n_choices > 64) {
            snprintf(err, errcap, "random: decision '%s' has more than 64 alternatives", d->label);
            free(st);
            return -1;
        }
    }
    nasc_rng_seed(&st->rng, seed);
    *state = st;
    return 0;
}

static int rnd_ask(void *state, nasc_point *p, char *err, size_t errcap) {
    rnd_state *st = state;
    const nasc_space *sp = st->space;
    for (int attempt = 0;; attempt++) {
        for (int i = 0; i < sp->n_decisions && i < p->n; i++)
            rnd_decision(st, &sp->decisions[i], &p->values[i]);
        p->fidelity = 0;
        p->tag = 0;
        if (!sp->normalize) {
            memset(p->active, 1, (size_t)p->n);
            return 0;
        }
        int ok = sp->normalize(sp->host, p);
        if (ok < 0) {
            snprintf(err, errcap, "random: drew a value outside its domain");
            return -1;
        }
        if (ok == 1 || attempt >= st->max_retries)
            return 0; /* an infeasible last draw: the host records it */
    }
}

static void rnd_tell(void *state, const nasc_point *p, const nasc_result *r) {
    (void)state;
    (void)p;
    (void)r; /* random search learns nothing */
}

static void rnd_destroy(void *state) { free(state); }

static const nasc_option_doc rnd_docs[] = {
    {"max_retries", "100", "redraws of a point that violates a `require` before proposing it anyway"},
};

NASC_EXPORT int nasc_strategy_entry(uint32_t host_abi, nasc_strategy *out) {
    if (host_abi != NASC_STRATEGY_ABI_VERSION) return -1;
    memset(out, 0, sizeof *out);
    out->abi_version = NASC_STRATEGY_ABI_VERSION;
    out->struct_size = sizeof *out;
    out->name = "random";
    out->version = "1.0";
    out->description = "uniform random search over the active decisions";
    out->n_option_docs = 1;
    out->option_docs = rnd_docs;
    out->create = rnd_create;
    out->ask = rnd_ask;
    out->tell = rnd_tell;
    out->destroy = rnd_destroy;
    return 0;
}
