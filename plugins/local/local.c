/* local.c: local search strategy plugin (nasc-local.so).
 *
 * White, Nolen, Savani 2020, "Local search is state of the art for NAS
 * benchmarks": start from the best of n_init random points, evaluate the
 * whole neighbourhood of the current point (every point differing in one
 * active decision: each other alternative of a categorical, the adjacent
 * steps of an integer, a step of +-sigma of the (log) range of a real, one
 * element swapped in a subset), move to the best neighbour if it improves,
 * and at a local optimum restart from new random points.
 *
 * Several asks may be outstanding: once the neighbourhood is all proposed
 * and results are still missing, extra asks are random points (cheap
 * exploration; a random point that beats everything still only matters
 * through the restart pool).  A tell fills a neighbour's score only when
 * its values ARE that unscored neighbour (the tag's index is a hint,
 * checked); any other tell -- a random point, a stale neighbour, a trial
 * replayed by a resumed search -- counts as a random candidate, so no
 * result is ever taken for the wrong point.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nasc/strategy.h"
#include "nasc/strategy_util.h"

#define LS_TRIES          64
#define LS_KIND_RANDOM    1u
#define LS_KIND_NEIGHBOUR 2u
#define LS_MAX_NB         (1u << 24) /* the tag keeps 24 bits of neighbour index */

static const nasc_option_doc ls_docs[] = {
    {"n_init", "10", "random points evaluated before each (re)start; the best one is the start"},
    {"sigma", "0.1", "neighbour step of a real decision, as a fraction of its (log) range"},
};
static const nasc_su_optrule ls_rules[] = {
    {NASC_SU_OPT_INT, 1, 1e9, 0, 0, NULL},
    {NASC_SU_OPT_REAL, 0, 0.5, 1, 0, NULL},
};
#define LS_NOPT (int)(sizeof ls_docs / sizeof ls_docs[0])

typedef struct ls_state {
    const nasc_space *sp;
    nasc_rng rng;
    int n_init;
    double sigma;
    uint64_t epoch;
    int in_init; /* collecting random start candidates */
    long init_told;
    nasc_su_points pool; /* best random candidate so far (one entry) */
    nasc_su_points cur;  /* current point (one entry) */
    nasc_su_points nb;   /* neighbourhood of cur; score filled by tells */
    size_t nb_next, nb_told;
    nasc_value *cv;
    unsigned char *ca;
} ls_state;

static void ls_destroy(void *state) {
    ls_state *s = state;
    if (!s) return;
    nasc_su_points_free(&s->pool);
    nasc_su_points_free(&s->cur);
    nasc_su_points_free(&s->nb);
    free(s->cv);
    free(s->ca);
    free(s);
}

static int ls_create(const nasc_space *sp, const nasc_option *opts, int n_opts, uint64_t seed, void **state,
                     char *err, size_t errcap) {
    double o[LS_NOPT];
    if (nasc_su_check_space("local", sp, state, err, errcap) != 0 ||
        nasc_su_parse_options("local", ls_docs, ls_rules, LS_NOPT, opts, n_opts, o, err, errcap) != 0)
        return -1;
    ls_state *s = calloc(1, sizeof *s);
    size_t n = (size_t)sp->n_decisions + 1;
    if (s) {
        s->cv = calloc(n, sizeof *s->cv);
        s->ca = calloc(n, 1);
    }
    if (!s || !s->cv || !s->ca) {
        ls_destroy(s);
        return nasc_su_fail(err, errcap, "local: out of memory");
    }
    s->sp = sp;
    s->n_init = (int)o[0];
    s->sigma = o[1];
    nasc_rng_seed(&s->rng, seed);
    nasc_su_points_init(&s->pool, sp->n_decisions);
    nasc_su_points_init(&s->cur, sp->n_decisions);
    nasc_su_points_init(&s->nb, sp->n_decisions);
    s->in_init = 1;
    *state = s;
    return 0;
}

/* Adds cv (already changed in one decision) as a neighbour if, once its
 * newly active decisions are drawn, it is feasible and new. */
static void ls_add_neighbour(ls_state *s, const nasc_value *base, const unsigned char *bact) {
    if (s->nb.count >= LS_MAX_NB) return;
    nasc_su_resample_inactive(s->sp, &s->rng, s->cv, bact);
    if (nasc_su_normalize(s->sp, s->cv, s->ca) != 1) return;
    if (nasc_su_same_point(s->sp, s->cv, s->ca, base, bact)) return;
    for (size_t k = 0; k < s->nb.count; k++)
        if (nasc_su_same_point(s->sp, s->cv, s->ca, nasc_su_pv(&s->nb, k), nasc_su_pa(&s->nb, k))) return;
    nasc_su_points_push(&s->nb, s->cv, s->ca, NAN);
}

/* Every neighbour of decision i's value in the base point. */
static void ls_neighbours_of(ls_state *s, int i, const nasc_value *base, const unsigned char *bact) {
    const nasc_decision *d = &s->sp->decisions[i];
    int n = s->sp->n_decisions;
#define LS_RESET() memcpy(s->cv, base, (size_t)n * sizeof *s->cv)
    if (d->kind == NASC_DEC_CATEGORICAL) {
        for (int c = 0; c < d->n_choices; c++) {
            LS_RESET();
            s->cv[i].i = c;
            ls_add_neighbour(s, base, bact);
        }
    } else if (d->kind == NASC_DEC_INT) {
        for (int dir = -1; dir <= 1; dir += 2) {
            LS_RESET();
            int64_t v = base[i].i + dir * d->step;
            if (v < d->lo || v > d->hi) continue;
            s->cv[i].i = v;
            ls_add_neighbour(s, base, bact);
        }
    } else if (d->kind == NASC_DEC_FLOAT) {
        double u = nasc_su_float_to_unit(d, base[i].f);
        for (int dir = -1; dir <= 1; dir += 2) {
            LS_RESET();
            s->cv[i].f = nasc_su_float_from_unit(d, u + dir * s->sigma);
            ls_add_neighbour(s, base, bact);
        }
    } else if (d->kind == NASC_DEC_SUBSET) {
        for (int a = 0; a < d->n_choices; a++) {
            if (!(base[i].subset >> a & 1)) continue;
            for (int b = 0; b < d->n_choices; b++) {
                if (base[i].subset >> b & 1) continue;
                LS_RESET();
                s->cv[i].subset = (base[i].subset & ~(1ull << a)) | (1ull << b);
                ls_add_neighbour(s, base, bact);
            }
        }
    }
#undef LS_RESET
}

/* Builds the shuffled neighbourhood of cur (stored as its only entry). */
static void ls_build_neighbourhood(ls_state *s) {
    s->nb.count = 0;
    s->nb_next = s->nb_told = 0;
    const nasc_value *base = nasc_su_pv(&s->cur, 0);
    const unsigned char *bact = nasc_su_pa(&s->cur, 0);
    for (int i = 0; i < s->sp->n_decisions; i++)
        if (bact[i]) ls_neighbours_of(s, i, base, bact);
    /* random order, so ties and partial neighbourhoods are not biased */
    int n = s->sp->n_decisions;
    for (size_t k = s->nb.count; k > 1; k--) {
        size_t j = (size_t)nasc_rng_below(&s->rng, k);
        for (int q = 0; q < n; q++) {
            nasc_value tv = nasc_su_pv(&s->nb, k - 1)[q];
            nasc_su_pv(&s->nb, k - 1)[q] = nasc_su_pv(&s->nb, j)[q];
            nasc_su_pv(&s->nb, j)[q] = tv;
            unsigned char ta = nasc_su_pa(&s->nb, k - 1)[q];
            nasc_su_pa(&s->nb, k - 1)[q] = nasc_su_pa(&s->nb, j)[q];
            nasc_su_pa(&s->nb, j)[q] = ta;
        }
    }
}

/* Starts a new epoch: either around `from` (neighbourhood phase) or, when
 * from is NULL, a restart collecting random candidates. */
static void ls_enter(ls_state *s, const nasc_value *from, const unsigned char *fact, double score) {
    s->epoch++;
    s->cur.count = 0;
    if (!from) {
        s->in_init = 1;
        s->init_told = 0;
        s->pool.count = 0;
        return;
    }
    s->in_init = 0;
    nasc_su_points_push(&s->cur, from, fact, score);
    ls_build_neighbourhood(s);
    if (s->nb.count == 0) ls_enter(s, NULL, NULL, 0);
}

static int ls_ask(void *state, nasc_point *p, char *err, size_t errcap) {
    ls_state *s = state;
    uint64_t kind = LS_KIND_RANDOM;
    uint64_t index = 0;
    if (!s->in_init && s->nb_next < s->nb.count) {
        index = s->nb_next++;
        memcpy(s->cv, nasc_su_pv(&s->nb, index), (size_t)s->sp->n_decisions * sizeof *s->cv);
        kind = LS_KIND_NEIGHBOUR;
    } else if (nasc_su_random_point(s->sp, &s->rng, s->cv, s->ca, LS_TRIES) < 0) {
        return nasc_su_fail(err, errcap, "local: the host rejected a sampled point");
    }
    if (nasc_su_copy_out(s->sp, p, s->cv, err, errcap, "local") != 0) return -1;
    p->fidelity = 0;
    p->tag = (s->epoch << 32) | (index << 8) | kind;
    return 0;
}

/* A random candidate's result: remembered when it is the best start. */
static void ls_tell_random(ls_state *s, double score) {
    if (s->pool.count == 0)
        nasc_su_points_push(&s->pool, s->cv, s->ca, score);
    else if (score > s->pool.score[0]) {
        memcpy(nasc_su_pv(&s->pool, 0), s->cv, (size_t)s->sp->n_decisions * sizeof *s->cv);
        memcpy(nasc_su_pa(&s->pool, 0), s->ca, (size_t)s->sp->n_decisions);
        s->pool.score[0] = score;
    }
    if (s->in_init && ++s->init_told >= s->n_init) {
        if (s->pool.count && isfinite(s->pool.score[0]))
            ls_enter(s, nasc_su_pv(&s->pool, 0), nasc_su_pa(&s->pool, 0), s->pool.score[0]);
        else
            s->init_told = 0; /* every candidate failed: keep sampling */
    }
}

/* The neighbourhood is complete: move to its best point if it improves,
 * otherwise this is a local optimum and the search restarts. */
static void ls_finish_neighbourhood(ls_state *s) {
    size_t best = SIZE_MAX;
    for (size_t k = 0; k < s->nb.count; k++)
        if (best == SIZE_MAX || s->nb.score[k] > s->nb.score[best]) best = k;
    if (best != SIZE_MAX && s->nb.score[best] > s->cur.score[0]) {
        int n = s->sp->n_decisions;
        memcpy(s->cv, nasc_su_pv(&s->nb, best), (size_t)n * sizeof *s->cv);
        memcpy(s->ca, nasc_su_pa(&s->nb, best), (size_t)n);
        ls_enter(s, s->cv, s->ca, s->nb.score[best]);
    } else {
        ls_enter(s, NULL, NULL, 0);
    }
}

static void ls_tell(void *state, const nasc_point *p, const nasc_result *r) {
    ls_state *s = state;
    if (nasc_su_copy_in(s->sp, p, s->cv, s->ca) != 0) return;
    double score = nasc_su_score(r);
    size_t index = (size_t)((p->tag >> 8) & 0xffffff), hit = SIZE_MAX;
    if (!s->in_init) {
        if (index < s->nb_next && isnan(s->nb.score[index]) &&
            nasc_su_same_point(s->sp, s->cv, s->ca, nasc_su_pv(&s->nb, index), nasc_su_pa(&s->nb, index)))
            hit = index;
        for (size_t k = 0; k < s->nb_next && hit == SIZE_MAX; k++)
            if (isnan(s->nb.score[k]) &&
                nasc_su_same_point(s->sp, s->cv, s->ca, nasc_su_pv(&s->nb, k), nasc_su_pa(&s->nb, k)))
                hit = k;
    }
    if (hit != SIZE_MAX) {
        s->nb.score[hit] = score;
        if (++s->nb_told == s->nb.count) ls_finish_neighbourhood(s);
        return;
    }
    ls_tell_random(s, score);
}

NASC_EXPORT int nasc_strategy_entry(uint32_t host_abi, nasc_strategy *out) {
    (void)host_abi;
    if (!out) return -1;
    nasc_su_entry_fill(out);
    out->name = "local";
    out->version = "1.0";
    out->description = "local search over one-decision neighbourhoods with random restarts, "
                       "White et al. 2020; maximises the first objective";
    out->n_option_docs = LS_NOPT;
    out->option_docs = ls_docs;
    out->create = ls_create;
    out->ask = ls_ask;
    out->tell = ls_tell;
    out->destroy = ls_destroy;
    return 0;
}
