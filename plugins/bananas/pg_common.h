/* pg_common.h: what the predictor-guided strategies (bananas, predictor)
 * share, header-only: the encoding of a point (one-hot of the active
 * decisions, inactive ones all zero), the history of results, candidate
 * generation by mutating the best points (White et al. 2021, BANANAS,
 * section 3), and the ask/tell skeleton around a predictor.
 *
 * A predictor fits (X, y) of the OK results (y standardised) and scores a
 * candidate with an acquisition value; the candidate with the largest
 * value is asked.  Everything random comes from the state's generator or
 * from seeds derived from (seed, number of results), so the same tells
 * give the same asks: --resume replays them and gets the same state. */
#ifndef NASC_PG_COMMON_H
#define NASC_PG_COMMON_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nasc/strategy.h"
#include "nasc/strategy_util.h"

#define PG_TRIES      64
#define PG_ONEHOT_INT 32 /* an INT decision with at most this many values is one-hot encoded */

typedef struct pg_model {
    const char *name;
    void *m;
    /* Fits the model to n rows of X (dim columns) and y; 0, or -1 (out of memory). */
    int (*fit)(void *m, const double *X, const double *y, int n, int dim, uint64_t seed);
    /* The acquisition value of one encoded candidate (larger is better). */
    double (*acquire)(void *m, const double *x, nasc_rng *r);
    void (*destroy)(void *m);
} pg_model;

typedef struct pg_state {
    const nasc_space *sp;
    nasc_rng rng;
    uint64_t seed;
    int init, n_cand, n_parents;
    double sigma;
    int dim, *off;       /* encoding: columns, first column of each decision */
    nasc_su_points hist; /* OK results with their scores, in tell order */
    uint64_t *seen;      /* hashes of every point asked or told */
    size_t n_seen, cap_seen;
    long n_asked, fitted_at; /* fitted_at: hist.count when the model was last fitted (-1: never) */
    nasc_value *cv;
    unsigned char *ca;
    nasc_su_points cand;
    double *X, *y, *xc;
    size_t *order;
    pg_model model;
    nasc_su_warm warm; /* zero-cost warm start: the init points are the proxy's best */
} pg_state;

/* Columns a decision takes in the encoding. */
static inline int pg_width(const nasc_decision *d) {
    switch (d->kind) {
    case NASC_DEC_CATEGORICAL:
    case NASC_DEC_SUBSET: return d->n_choices;
    case NASC_DEC_INT: {
        uint64_t n = nasc_su_domain_size(d);
        return n >= 1 && n <= PG_ONEHOT_INT ? (int)n : 1;
    }
    default: return 1;
    }
}

/* One-hot (or scaled) encoding of a normalised point: inactive decisions
 * leave their columns 0, so they carry no signal (BANANAS' masking). */
static inline void pg_encode(const pg_state *s, const nasc_value *v, const unsigned char *a, double *x) {
    memset(x, 0, sizeof *x * (size_t)s->dim);
    for (int i = 0; i < s->sp->n_decisions; i++) {
        if (!a[i]) continue;
        const nasc_decision *d = &s->sp->decisions[i];
        double *c = x + s->off[i];
        int w = pg_width(d);
        switch (d->kind) {
        case NASC_DEC_CATEGORICAL:
            if (v[i].i >= 0 && v[i].i < w) c[v[i].i] = 1;
            break;
        case NASC_DEC_SUBSET:
            for (int k = 0; k < w && k < 64; k++) c[k] = (double)((v[i].subset >> k) & 1u);
            break;
        case NASC_DEC_INT: {
            int64_t step = d->step > 0 ? d->step : 1, k = (v[i].i - d->lo) / step;
            if (w > 1 && k >= 0 && k < w)
                c[k] = 1;
            else if (w == 1)
                c[0] = d->hi > d->lo ? (double)(v[i].i - d->lo) / (double)(d->hi - d->lo) : 0.5;
            break;
        }
        default: c[0] = nasc_su_float_to_unit(d, v[i].f);
        }
    }
}

static inline int pg_seen(const pg_state *s, uint64_t h) {
    for (size_t i = 0; i < s->n_seen; i++)
        if (s->seen[i] == h) return 1;
    return 0;
}

static inline int pg_mark(pg_state *s, uint64_t h) {
    if (pg_seen(s, h)) return 0;
    if (s->n_seen == s->cap_seen) {
        size_t cap = s->cap_seen ? 2 * s->cap_seen : 64;
        uint64_t *n = realloc(s->seen, cap * sizeof *n);
        if (!n) return -1;
        s->seen = n;
        s->cap_seen = cap;
    }
    s->seen[s->n_seen++] = h;
    return 0;
}

static inline void pg_destroy(pg_state *s) {
    if (!s) return;
    if (s->model.destroy) s->model.destroy(s->model.m);
    nasc_su_warm_free(&s->warm);
    nasc_su_points_free(&s->hist);
    nasc_su_points_free(&s->cand);
    free(s->off);
    free(s->seen);
    free(s->cv);
    free(s->ca);
    free(s->X);
    free(s->y);
    free(s->xc);
    free(s->order);
    free(s);
}

/* A new state (model filled in later by the plugin); NULL when out of memory. */
static inline pg_state *pg_new(const nasc_space *sp, uint64_t seed, int init, int n_cand, int n_parents,
                               double sigma) {
    pg_state *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->sp = sp;
    s->seed = seed;
    s->init = init;
    s->n_cand = n_cand;
    s->n_parents = n_parents;
    s->sigma = sigma;
    s->fitted_at = -1;
    nasc_rng_seed(&s->rng, seed);
    size_t n = (size_t)sp->n_decisions + 1;
    s->off = calloc(n, sizeof *s->off);
    s->cv = calloc(n, sizeof *s->cv);
    s->ca = calloc(n, 1);
    if (!s->off || !s->cv || !s->ca) {
        pg_destroy(s);
        return NULL;
    }
    for (int i = 0; i < sp->n_decisions; i++) {
        s->off[i] = s->dim;
        s->dim += pg_width(&sp->decisions[i]);
    }
    if (!(s->xc = calloc((size_t)s->dim + 1, sizeof *s->xc))) {
        pg_destroy(s);
        return NULL;
    }
    nasc_su_points_init(&s->hist, sp->n_decisions);
    nasc_su_points_init(&s->cand, sp->n_decisions);
    return s;
}

/* Refits the model when results arrived since the last fit: X the
 * encodings, y the scores standardised (mean 0, sd 1). */
static inline int pg_refit(pg_state *s) {
    long n = (long)s->hist.count;
    if (n == s->fitted_at) return 0;
    double *X = realloc(s->X, sizeof *X * (size_t)(n * s->dim + 1)), *y;
    if (!X) return -1;
    s->X = X;
    if (!(y = realloc(s->y, sizeof *y * (size_t)(n + 1)))) return -1;
    s->y = y;
    double mean = 0, var = 0;
    for (long i = 0; i < n; i++) mean += s->hist.score[i];
    mean /= (double)n;
    for (long i = 0; i < n; i++) var += (s->hist.score[i] - mean) * (s->hist.score[i] - mean);
    double sd = n > 1 && var > 0 ? sqrt(var / (double)(n - 1)) : 1.0;
    for (long i = 0; i < n; i++) {
        pg_encode(s, nasc_su_pv(&s->hist, (size_t)i), nasc_su_pa(&s->hist, (size_t)i), X + i * s->dim);
        y[i] = (s->hist.score[i] - mean) / sd;
    }
    uint64_t fs = s->seed ^ (0x9e3779b97f4a7c15ull * (uint64_t)(n + 1));
    if (s->model.fit(s->model.m, X, y, (int)n, s->dim, fs)) return -1;
    s->fitted_at = n;
    return 0;
}

/* Indices of hist sorted by score, best first (insertion sort: stable, so
 * ties keep tell order and the result depends only on the tells). */
static inline int pg_rank(pg_state *s) {
    size_t n = s->hist.count;
    size_t *o = realloc(s->order, sizeof *o * (n + 1));
    if (!o) return -1;
    s->order = o;
    for (size_t i = 0; i < n; i++) {
        size_t j = i;
        while (j > 0 && s->hist.score[o[j - 1]] < s->hist.score[i]) {
            o[j] = o[j - 1];
            j--;
        }
        o[j] = i;
    }
    return 0;
}

/* Candidates: n_cand feasible, unseen, distinct one-decision mutations of
 * the n_parents best points (parents taken in turn). */
static inline int pg_candidates(pg_state *s) {
    while (s->cand.count) nasc_su_points_remove(&s->cand, s->cand.count - 1);
    if (pg_rank(s)) return -1;
    size_t np = (size_t)s->n_parents < s->hist.count ? (size_t)s->n_parents : s->hist.count;
    int n = s->sp->n_decisions;
    for (int t = 0; np && (int)s->cand.count < s->n_cand && t < s->n_cand * 4; t++) {
        size_t par = s->order[(size_t)t % np];
        memcpy(s->cv, nasc_su_pv(&s->hist, par), (size_t)n * sizeof *s->cv);
        memcpy(s->ca, nasc_su_pa(&s->hist, par), (size_t)n);
        int rc = nasc_su_mutate_one(s->sp, &s->rng, s->cv, s->ca, s->sigma);
        if (rc == -2) break;
        if (rc != 1) continue;
        uint64_t h = nasc_su_point_hash(s->sp, s->cv, s->ca);
        int dup = pg_seen(s, h);
        for (size_t k = 0; k < s->cand.count && !dup; k++)
            dup = nasc_su_same_point(s->sp, s->cv, s->ca, nasc_su_pv(&s->cand, k), nasc_su_pa(&s->cand, k));
        if (!dup && nasc_su_points_push(&s->cand, s->cv, s->ca, 0) < 0) return -1;
    }
    return 0;
}

/* A random feasible point not asked before (the last draw if every try
 * was seen).  0, or -1 when the host rejects a drawn value. */
static inline int pg_random(pg_state *s) {
    for (int t = 0; t < PG_TRIES; t++) {
        if (nasc_su_random_point(s->sp, &s->rng, s->cv, s->ca, PG_TRIES) < 0) return -1;
        if (!pg_seen(s, nasc_su_point_hash(s->sp, s->cv, s->ca))) break;
    }
    return 0;
}

static inline int pg_ask(pg_state *s, nasc_point *p, const char *plugin, char *err, size_t errcap) {
    int from_model = 0;
    if ((int)s->hist.count >= s->init && s->hist.count >= 2) {
        if (pg_refit(s) || pg_candidates(s)) return nasc_su_fail(err, errcap, "%s: out of memory", plugin);
        double best = -HUGE_VAL;
        for (size_t k = 0; k < s->cand.count; k++) {
            pg_encode(s, nasc_su_pv(&s->cand, k), nasc_su_pa(&s->cand, k), s->xc);
            double a = s->model.acquire(s->model.m, s->xc, &s->rng);
            if (a > best) {
                best = a;
                memcpy(s->cv, nasc_su_pv(&s->cand, k), (size_t)s->sp->n_decisions * sizeof *s->cv);
                memcpy(s->ca, nasc_su_pa(&s->cand, k), (size_t)s->sp->n_decisions);
                from_model = 1;
            }
        }
    }
    /* the initial training set: the warm start's best not yet asked, else random points */
    int warm = 0;
    while (!from_model && !warm && s->n_asked < s->init) {
        warm = nasc_su_warm_next(plugin, s->sp, &s->warm, s->cv, s->ca, err, errcap);
        if (warm < 0) return -1;
        if (!warm) break;
        if (pg_seen(s, nasc_su_point_hash(s->sp, s->cv, s->ca))) warm = 0;
    }
    if (!from_model && !warm && pg_random(s) < 0)
        return nasc_su_fail(err, errcap, "%s: the host rejected a sampled point", plugin);
    if (nasc_su_copy_out(s->sp, p, s->cv, err, errcap, plugin) != 0) return -1;
    if (pg_mark(s, nasc_su_point_hash(s->sp, s->cv, s->ca)))
        return nasc_su_fail(err, errcap, "%s: out of memory", plugin);
    p->fidelity = 0;
    p->tag = (uint64_t)s->n_asked++;
    return 0;
}

static inline void pg_tell(pg_state *s, const nasc_point *p, const nasc_result *r) {
    if (nasc_su_copy_in(s->sp, p, s->cv, s->ca) != 0) return;
    pg_mark(s, nasc_su_point_hash(s->sp, s->cv, s->ca)); /* also trials asked before a resume */
    double sc = nasc_su_score(r);
    if (isfinite(sc)) nasc_su_points_push(&s->hist, s->cv, s->ca, sc);
}

#endif
