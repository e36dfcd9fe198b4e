/* evolution.c: regularized ("aging") evolution strategy plugin (nasc-evolution.so).
 *
 * Real et al. 2019, "Regularized Evolution for Image Classifier
 * Architecture Search": a population of the P most recently evaluated
 * points; each new proposal mutates ONE active decision of the best of S
 * members sampled uniformly (a tournament); when the population exceeds P
 * the OLDEST member leaves, whatever its score.  The first P proposals are
 * random.  Asynchronous as in the paper: tells join the population in the
 * order they arrive, and proposals keep coming from the current population
 * while others are outstanding.  Failed and infeasible trials join with the
 * worst score, so they age out like any other member.
 *
 * With warm_start=N the initial population is not random but the best P
 * of N random points ranked by a training-free proxy (warm_proxy) that the
 * host computes without training (nasc_su_warm, docs/proxies.md).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nasc/strategy.h"
#include "nasc/strategy_util.h"

#define EVO_TRIES 64

static const nasc_option_doc evo_docs[] = {
    {"population", "20",
     "population size P (the paper uses 100 for large budgets; 20 suits budgets of a few "
     "hundred trials)"},
    {"sample", "5",
     "tournament size S: members sampled uniformly; the best is the parent "
     "(paper: 25 of 100)"},
    {"sigma", "0.1", "step of a real decision's mutation, as a fraction of its (log) range"},
    NASC_SU_WARM_DOCS, /* warm_start, warm_proxy: the first P points are the proxy's best */
};
static const nasc_su_optrule evo_rules[] = {
    {NASC_SU_OPT_INT, 2, 1e9, 0, 0, NULL},
    {NASC_SU_OPT_INT, 1, 1e9, 0, 0, NULL},
    {NASC_SU_OPT_REAL, 0, 1, 1, 0, NULL},
    NASC_SU_WARM_RULES,
};
#define EVO_NOPT (int)(sizeof evo_docs / sizeof evo_docs[0])

typedef struct evo_state {
    const nasc_space *sp;
    nasc_rng rng;
    int population, sample;
    double sigma;
    long n_asked, n_told;
    nasc_su_points pop; /* oldest first */
    nasc_value *cv;     /* scratch candidate */
    unsigned char *ca;
    size_t *pick;      /* scratch for the tournament */
    nasc_su_warm warm; /* the zero-cost warm start (off by default) */
} evo_state;

static void evo_destroy(void *state) {
    evo_state *e = state;
    if (!e) return;
    nasc_su_warm_free(&e->warm);
    nasc_su_points_free(&e->pop);
    free(e->cv);
    free(e->ca);
    free(e->pick);
    free(e);
}

static int evo_create(const nasc_space *sp, const nasc_option *opts, int n_opts, uint64_t seed, void **state,
                      char *err, size_t errcap) {
    double o[EVO_NOPT];
    if (nasc_su_check_space("evolution", sp, state, err, errcap) != 0 ||
        nasc_su_parse_options("evolution", evo_docs, evo_rules, EVO_NOPT, opts, n_opts, o, err, errcap) != 0)
        return -1;
    if (o[1] > o[0])
        return nasc_su_fail(err, errcap, "evolution: option 'sample' (%g) must not exceed 'population' (%g)",
                            o[1], o[0]);
    evo_state *e = calloc(1, sizeof *e);
    size_t n = (size_t)sp->n_decisions + 1;
    if (e) {
        e->cv = calloc(n, sizeof *e->cv);
        e->ca = calloc(n, 1);
        e->pick = calloc((size_t)o[0] + 1, sizeof *e->pick);
    }
    if (!e || !e->cv || !e->ca || !e->pick) {
        evo_destroy(e);
        return nasc_su_fail(err, errcap, "evolution: out of memory");
    }
    e->sp = sp;
    e->population = (int)o[0];
    e->sample = (int)o[1];
    e->sigma = o[2];
    nasc_rng_seed(&e->rng, seed);
    nasc_su_points_init(&e->pop, sp->n_decisions);
    if (nasc_su_warm_setup("evolution", sp, evo_docs, EVO_NOPT, opts, n_opts, o[3], seed, &e->warm, err,
                           errcap)) {
        evo_destroy(e);
        return -1;
    }
    *state = e;
    return 0;
}

/* Tournament: S distinct members drawn uniformly, the best wins (ties: the
 * first drawn, so the result depends only on the seed). */
static size_t evo_tournament(evo_state *e) {
    size_t m = e->pop.count, s = (size_t)e->sample < m ? (size_t)e->sample : m;
    for (size_t i = 0; i < m; i++) e->pick[i] = i;
    size_t best = SIZE_MAX;
    for (size_t i = 0; i < s; i++) {
        size_t j = i + (size_t)nasc_rng_below(&e->rng, m - i);
        size_t t = e->pick[i];
        e->pick[i] = e->pick[j];
        e->pick[j] = t;
        if (best == SIZE_MAX || e->pop.score[e->pick[i]] > e->pop.score[best]) best = e->pick[i];
    }
    return best;
}

/* A child of the tournament winner differing in one active decision;
 * infeasible children are redrawn.  Returns 1 when a feasible child is in
 * cv, 0 to fall back on a random point. */
static int evo_child(evo_state *e) {
    size_t parent = evo_tournament(e);
    int n = e->sp->n_decisions;
    for (int t = 0; t < EVO_TRIES; t++) {
        memcpy(e->cv, nasc_su_pv(&e->pop, parent), (size_t)n * sizeof *e->cv);
        memcpy(e->ca, nasc_su_pa(&e->pop, parent), (size_t)n);
        int rc = nasc_su_mutate_one(e->sp, &e->rng, e->cv, e->ca, e->sigma);
        if (rc == -2 || rc < 0) return 0;
        if (rc == 1) return 1;
    }
    return 0;
}

static int evo_ask(void *state, nasc_point *p, char *err, size_t errcap) {
    evo_state *e = state;
    long started = e->n_asked > e->n_told ? e->n_asked : e->n_told;
    int ok = 0;
    if (started >= e->population && e->pop.count > 0) ok = evo_child(e);
    if (!ok && started < e->population) /* the initial population: the warm start's best, if any */
        ok = nasc_su_warm_next("evolution", e->sp, &e->warm, e->cv, e->ca, err, errcap);
    if (ok < 0) return -1;
    if (!ok && nasc_su_random_point(e->sp, &e->rng, e->cv, e->ca, EVO_TRIES) < 0)
        return nasc_su_fail(err, errcap, "evolution: the host rejected a sampled point");
    if (nasc_su_copy_out(e->sp, p, e->cv, err, errcap, "evolution") != 0) return -1;
    p->fidelity = 0;
    p->tag = (uint64_t)e->n_asked++;
    return 0;
}

static void evo_tell(void *state, const nasc_point *p, const nasc_result *r) {
    evo_state *e = state;
    if (nasc_su_copy_in(e->sp, p, e->cv, e->ca) != 0) return;
    e->n_told++;
    if (nasc_su_points_push(&e->pop, e->cv, e->ca, nasc_su_score(r)) < 0) return;
    while (e->pop.count > (size_t)e->population) nasc_su_points_remove(&e->pop, 0);
}

NASC_EXPORT int nasc_strategy_entry(uint32_t host_abi, nasc_strategy *out) {
    (void)host_abi;
    if (!out) return -1;
    nasc_su_entry_fill(out);
    out->name = "evolution";
    out->version = "1.0";
    out->description = "regularized (aging) evolution, Real et al. 2019; maximises the first "
                       "objective";
    out->n_option_docs = EVO_NOPT;
    out->option_docs = evo_docs;
    out->create = evo_create;
    out->ask = evo_ask;
    out->tell = evo_tell;
    out->destroy = evo_destroy;
    return 0;
}
