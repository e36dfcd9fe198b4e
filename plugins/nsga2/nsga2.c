/* nsga2.c: NSGA-II multi-objective strategy plugin (nasc-nsga2.so).
 *
 * Deb, Pratap, Agarwal, Meyarivan 2002, "A Fast and Elitist Multiobjective
 * Genetic Algorithm: NSGA-II".  Parents are chosen by binary tournament on
 * (non-domination rank, then crowding distance); a child takes each
 * decision from either parent (uniform crossover, with probability
 * `crossover`) and then changes one active decision (with probability
 * `mutation`; Deb et al.'s per-variable rate 1/n changes one in
 * expectation).  Selection is elitist: parents plus offspring are sorted
 * into fronts and the best `population` survive, the last front cut by
 * crowding distance.
 *
 * Asynchronous generations: a generation is the first `population` results
 * that arrive after the previous selection (whatever asked them); until
 * they are in, asks keep producing offspring of the current parents (or
 * random points before the first selection).  Failed and infeasible trials
 * are dominated by every successful one.  With one objective the fronts
 * are the ranks of the score, and it degrades to a (mu + lambda)
 * evolutionary algorithm.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nasc/strategy.h"
#include "nasc/strategy_util.h"

#define NS_TRIES   64
#define NS_MAX_OBJ 16

static const nasc_option_doc ns_docs[] = {
    {"population", "20", "parents kept per generation (Deb et al. use 100 for large budgets)"},
    {"crossover", "0.9", "probability of uniform crossover between two parents (Deb et al.: 0.9)"},
    {"mutation", "1.0", "probability that a child changes one active decision"},
    {"sigma", "0.1", "step of a real decision's mutation, as a fraction of its (log) range"},
};
static const nasc_su_optrule ns_rules[] = {
    {NASC_SU_OPT_INT, 2, 1e6, 0, 0, NULL},
    {NASC_SU_OPT_REAL, 0, 1, 0, 0, NULL},
    {NASC_SU_OPT_REAL, 0, 1, 0, 0, NULL},
    {NASC_SU_OPT_REAL, 0, 1, 1, 0, NULL},
};
#define NS_NOPT (int)(sizeof ns_docs / sizeof ns_docs[0])

/* Points with their objective vectors (failed: ok = 0) and, for parents,
 * rank and crowding distance. */
typedef struct ns_set {
    nasc_su_points pts; /* pts.score unused */
    double *obj;        /* count * m */
    unsigned char *ok;
    int *rank;
    double *crowd;
    size_t cap;
} ns_set;

typedef struct ns_state {
    const nasc_space *sp;
    nasc_rng rng;
    int population, m;
    double p_cross, p_mut, sigma;
    ns_set parents, pool;
    nasc_value *cv;
    unsigned char *ca;
} ns_state;

static void ns_set_free(ns_set *s) {
    nasc_su_points_free(&s->pts);
    free(s->obj);
    free(s->ok);
    free(s->rank);
    free(s->crowd);
    memset(s, 0, sizeof *s);
}

static int ns_set_push(ns_set *s, int m, const nasc_value *v, const unsigned char *a, const double *obj,
                       int ok) {
    if (s->pts.count == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 32;
        double *o = realloc(s->obj, cap * (size_t)m * sizeof *o);
        if (!o) return -1;
        s->obj = o;
        unsigned char *k = realloc(s->ok, cap);
        if (!k) return -1;
        s->ok = k;
        int *r = realloc(s->rank, cap * sizeof *r);
        if (!r) return -1;
        s->rank = r;
        double *c = realloc(s->crowd, cap * sizeof *c);
        if (!c) return -1;
        s->crowd = c;
        s->cap = cap;
    }
    size_t i = s->pts.count;
    if (nasc_su_points_push(&s->pts, v, a, 0) < 0) return -1;
    memcpy(s->obj + i * (size_t)m, obj, (size_t)m * sizeof *obj);
    s->ok[i] = (unsigned char)ok;
    s->rank[i] = 0;
    s->crowd[i] = 0;
    return 0;
}

static void ns_destroy(void *state) {
    ns_state *s = state;
    if (!s) return;
    ns_set_free(&s->parents);
    ns_set_free(&s->pool);
    free(s->cv);
    free(s->ca);
    free(s);
}

static int ns_create(const nasc_space *sp, const nasc_option *opts, int n_opts, uint64_t seed, void **state,
                     char *err, size_t errcap) {
    double o[NS_NOPT];
    if (nasc_su_check_space("nsga2", sp, state, err, errcap) != 0 ||
        nasc_su_parse_options("nsga2", ns_docs, ns_rules, NS_NOPT, opts, n_opts, o, err, errcap) != 0)
        return -1;
    if (sp->n_objectives > NS_MAX_OBJ)
        return nasc_su_fail(err, errcap, "nsga2: %d objectives; at most %d are supported", sp->n_objectives,
                            NS_MAX_OBJ);
    ns_state *s = calloc(1, sizeof *s);
    size_t n = (size_t)sp->n_decisions + 1;
    if (s) {
        s->cv = calloc(n, sizeof *s->cv);
        s->ca = calloc(n, 1);
    }
    if (!s || !s->cv || !s->ca) {
        ns_destroy(s);
        return nasc_su_fail(err, errcap, "nsga2: out of memory");
    }
    s->sp = sp;
    s->m = sp->n_objectives > 0 ? sp->n_objectives : 1;
    s->population = (int)o[0];
    s->p_cross = o[1];
    s->p_mut = o[2];
    s->sigma = o[3];
    nasc_rng_seed(&s->rng, seed);
    nasc_su_points_init(&s->parents.pts, sp->n_decisions);
    nasc_su_points_init(&s->pool.pts, sp->n_decisions);
    *state = s;
    return 0;
}

/* ---------------- selection ---------------- */

/* 1 when a dominates b (all objectives maximised; failed points lose to
 * every successful one and tie with each other). */
static int ns_dominates(const ns_set *u, int m, size_t a, size_t b) {
    if (!u->ok[a]) return 0;
    if (!u->ok[b]) return 1;
    const double *x = u->obj + a * (size_t)m, *y = u->obj + b * (size_t)m;
    int better = 0;
    for (int k = 0; k < m; k++) {
        if (x[k] < y[k]) return 0;
        better |= x[k] > y[k];
    }
    return better;
}

/* Crowding distance of the members idx[0..n) of one front. */
static void ns_crowding(ns_set *u, int m, const size_t *idx, size_t n, size_t *tmp) {
    for (size_t i = 0; i < n; i++) u->crowd[idx[i]] = 0;
    if (n == 0 || !u->ok[idx[0]]) return;
    for (int k = 0; k < m; k++) {
        memcpy(tmp, idx, n * sizeof *tmp);
        /* insertion sort by objective k, stable: fronts are small */
        for (size_t i = 1; i < n; i++) {
            size_t x = tmp[i], j = i;
            while (j > 0 && u->obj[tmp[j - 1] * (size_t)m + k] > u->obj[x * (size_t)m + k]) {
                tmp[j] = tmp[j - 1];
                j--;
            }
            tmp[j] = x;
        }
        double lo = u->obj[tmp[0] * (size_t)m + k], hi = u->obj[tmp[n - 1] * (size_t)m + k];
        u->crowd[tmp[0]] = u->crowd[tmp[n - 1]] = HUGE_VAL;
        if (hi <= lo) continue;
        for (size_t i = 1; i + 1 < n; i++)
            u->crowd[tmp[i]] +=
                (u->obj[tmp[i + 1] * (size_t)m + k] - u->obj[tmp[i - 1] * (size_t)m + k]) / (hi - lo);
    }
}

/* Parents := the best `population` of parents + pool, by front and crowding. */
static int ns_select(ns_state *s) {
    ns_set all;
    memset(&all, 0, sizeof all);
    nasc_su_points_init(&all.pts, s->sp->n_decisions);
    int m = s->m, rc = -1;
    const ns_set *src[2] = {&s->parents, &s->pool};
    for (int q = 0; q < 2; q++)
        for (size_t i = 0; i < src[q]->pts.count; i++)
            if (ns_set_push(&all, m, nasc_su_pv(&src[q]->pts, i), nasc_su_pa(&src[q]->pts, i),
                            src[q]->obj + i * (size_t)m, src[q]->ok[i]) != 0)
                goto out;
    size_t n = all.pts.count;
    size_t *front = malloc((n + 1) * sizeof *front), *tmp = malloc((n + 1) * sizeof *tmp);
    unsigned char *done = calloc(n + 1, 1);
    ns_set next;
    memset(&next, 0, sizeof next);
    nasc_su_points_init(&next.pts, s->sp->n_decisions);
    if (!front || !tmp || !done) goto out2;
    size_t placed = 0, want = (size_t)s->population;
    for (int rank = 0; placed < n && next.pts.count < want; rank++) {
        /* the current front: remaining points no remaining point dominates */
        size_t nf = 0;
        for (size_t i = 0; i < n; i++) {
            if (done[i]) continue;
            int dominated = 0;
            for (size_t j = 0; j < n && !dominated; j++)
                dominated = !done[j] && j != i && ns_dominates(&all, m, j, i);
            if (!dominated) front[nf++] = i;
        }
        for (size_t i = 0; i < nf; i++) done[front[i]] = 1, all.rank[front[i]] = rank;
        placed += nf;
        ns_crowding(&all, m, front, nf, tmp);
        /* the last front that fits only partly: largest crowding first (stable) */
        for (size_t i = 1; i < nf; i++) {
            size_t x = front[i], j = i;
            while (j > 0 && all.crowd[front[j - 1]] < all.crowd[x]) {
                front[j] = front[j - 1];
                j--;
            }
            front[j] = x;
        }
        for (size_t i = 0; i < nf && next.pts.count < want; i++) {
            size_t k = front[i];
            if (ns_set_push(&next, m, nasc_su_pv(&all.pts, k), nasc_su_pa(&all.pts, k),
                            all.obj + k * (size_t)m, all.ok[k]) != 0)
                goto out2;
            next.rank[next.pts.count - 1] = all.rank[k];
            next.crowd[next.pts.count - 1] = all.crowd[k];
        }
    }
    ns_set_free(&s->parents);
    s->parents = next;
    memset(&next, 0, sizeof next);
    s->pool.pts.count = 0;
    rc = 0;
out2:
    ns_set_free(&next);
    free(front);
    free(tmp);
    free(done);
out:
    ns_set_free(&all);
    return rc;
}

/* ---------------- offspring ---------------- */

static size_t ns_tournament(ns_state *s) {
    size_t n = s->parents.pts.count;
    size_t a = (size_t)nasc_rng_below(&s->rng, n), b = (size_t)nasc_rng_below(&s->rng, n);
    const ns_set *p = &s->parents;
    if (p->rank[b] < p->rank[a] || (p->rank[b] == p->rank[a] && p->crowd[b] > p->crowd[a])) return b;
    return a;
}

/* A child of two tournament winners into cv/ca; returns the host's answer. */
static int ns_child(ns_state *s) {
    const ns_set *p = &s->parents;
    size_t a = ns_tournament(s), b = ns_tournament(s);
    const nasc_value *va = nasc_su_pv(&p->pts, a), *vb = nasc_su_pv(&p->pts, b);
    const unsigned char *aa = nasc_su_pa(&p->pts, a), *ab = nasc_su_pa(&p->pts, b);
    int n = s->sp->n_decisions, cross = nasc_rng_uniform(&s->rng) < s->p_cross;
    for (int i = 0; i < n; i++) {
        int from_b = 0;
        if (cross) {
            from_b = nasc_rng_uniform(&s->rng) < 0.5;
            /* a decision active in only one parent comes from that parent */
            if (aa[i] != ab[i]) from_b = ab[i];
        }
        s->cv[i] = from_b ? vb[i] : va[i];
        s->ca[i] = from_b ? ab[i] : aa[i];
    }
    nasc_su_resample_inactive(s->sp, &s->rng, s->cv, s->ca);
    int rc = nasc_su_normalize(s->sp, s->cv, s->ca);
    if (rc >= 0 && nasc_rng_uniform(&s->rng) < s->p_mut) {
        int mr = nasc_su_mutate_one(s->sp, &s->rng, s->cv, s->ca, s->sigma);
        if (mr != -2) rc = mr;
    }
    return rc;
}

static int ns_ask(void *state, nasc_point *p, char *err, size_t errcap) {
    ns_state *s = state;
    int rc = 0;
    for (int t = 0; t < NS_TRIES && s->parents.pts.count > 0 && rc != 1; t++) {
        rc = ns_child(s);
        if (rc < 0) return nasc_su_fail(err, errcap, "nsga2: the host rejected a child point");
    }
    if (rc != 1 && nasc_su_random_point(s->sp, &s->rng, s->cv, s->ca, NS_TRIES) < 0)
        return nasc_su_fail(err, errcap, "nsga2: the host rejected a sampled point");
    if (nasc_su_copy_out(s->sp, p, s->cv, err, errcap, "nsga2") != 0) return -1;
    p->fidelity = 0;
    p->tag = 0;
    return 0;
}

static void ns_tell(void *state, const nasc_point *p, const nasc_result *r) {
    ns_state *s = state;
    if (nasc_su_copy_in(s->sp, p, s->cv, s->ca) != 0) return;
    double obj[NS_MAX_OBJ];
    int ok = r && r->status == NASC_RESULT_OK && r->objectives && r->n_objectives >= s->m;
    for (int k = 0; k < s->m; k++) {
        obj[k] = ok ? r->objectives[k] : 0;
        if (!isfinite(obj[k])) ok = 0;
    }
    if (!ok) memset(obj, 0, sizeof obj);
    if (ns_set_push(&s->pool, s->m, s->cv, s->ca, obj, ok) != 0) return;
    if (s->pool.pts.count >= (size_t)s->population) ns_select(s);
}

NASC_EXPORT int nasc_strategy_entry(uint32_t host_abi, nasc_strategy *out) {
    (void)host_abi;
    if (!out) return -1;
    nasc_su_entry_fill(out);
    out->name = "nsga2";
    out->version = "1.0";
    out->description = "NSGA-II, Deb et al. 2002: non-dominated sorting, crowding distance, "
                       "uniform crossover and one-decision mutation, for several objectives";
    out->n_option_docs = NS_NOPT;
    out->option_docs = ns_docs;
    out->create = ns_create;
    out->ask = ns_ask;
    out->tell = ns_tell;
    out->destroy = ns_destroy;
    return 0;
}
