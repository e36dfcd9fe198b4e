/* reinforce.c: REINFORCE policy-gradient strategy plugin (nasc-reinforce.so).
 *
 * The NAS-Bench-201 baseline (Dong & Yang 2020, after Williams 1992): an
 * independent softmax policy per decision, trained with Adam on
 * -(R - b) log pi(point), where R is the (signed) first objective and b an
 * exponential moving average of R (momentum 0.9, bias-corrected so the
 * first reward is its own baseline).  Defaults follow the NB201 code: Adam,
 * learning rate 0.01, momentum 0.9.
 *
 * Policies: a categorical has one logit per alternative; an integer range
 * one per value up to `bins` values, else `bins` equal bins (uniform inside
 * a bin); a real `bins` equal bins of its (log) range, uniform inside; a
 * k-of-n subset a Plackett-Luce policy over its n alternatives (k drawn
 * without replacement; the gradient takes the chosen ones in index order).
 * Only decisions active in the told point are updated.  A failed or
 * infeasible trial gets the lowest reward seen so far (no update before
 * any reward exists).  Proposals come from the current policy, so any
 * number may be outstanding.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nasc/strategy.h"
#include "nasc/strategy_util.h"

#define RF_TRIES 64

static const nasc_option_doc rf_docs[] = {
    {"lr", "0.01", "Adam learning rate of the policy logits (NB201 runs: 0.01)"},
    {"momentum", "0.9", "momentum of the moving-average reward baseline"},
    {"bins", "10",
     "bins of a real decision's policy; integer ranges with more values are "
     "binned too"},
};
static const nasc_su_optrule rf_rules[] = {
    {NASC_SU_OPT_REAL, 0, 10, 1, 0, NULL},
    {NASC_SU_OPT_REAL, 0, 1, 0, 1, NULL},
    {NASC_SU_OPT_INT, 2, 4096, 0, 0, NULL},
};
#define RF_NOPT (int)(sizeof rf_docs / sizeof rf_docs[0])

typedef struct rf_state {
    const nasc_space *sp;
    nasc_rng rng;
    double lr, momentum;
    int bins;
    int *off, *len; /* each decision's logits in theta */
    double *theta, *m, *v, *grad, *prob;
    long *steps; /* Adam step count per decision */
    double ema_num, ema_den, worst;
    int have_reward;
    nasc_value *cv;
    unsigned char *ca;
} rf_state;

static void rf_destroy(void *state) {
    rf_state *s = state;
    if (!s) return;
    free(s->off);
    free(s->len);
    free(s->theta);
    free(s->m);
    free(s->v);
    free(s->grad);
    free(s->prob);
    free(s->steps);
    free(s->cv);
    free(s->ca);
    free(s);
}

/* Number of logits of decision d's policy. */
static int rf_len(const nasc_decision *d, int bins) {
    if (d->kind == NASC_DEC_FLOAT) return bins;
    if (d->kind == NASC_DEC_SUBSET) return d->n_choices;
    uint64_t n = nasc_su_domain_size(d);
    return n > (uint64_t)bins ? bins : (int)n;
}

static int rf_create(const nasc_space *sp, const nasc_option *opts, int n_opts, uint64_t seed, void **state,
                     char *err, size_t errcap) {
    double o[RF_NOPT];
    if (nasc_su_check_space("reinforce", sp, state, err, errcap) != 0 ||
        nasc_su_parse_options("reinforce", rf_docs, rf_rules, RF_NOPT, opts, n_opts, o, err, errcap) != 0)
        return -1;
    rf_state *s = calloc(1, sizeof *s);
    if (!s) return nasc_su_fail(err, errcap, "reinforce: out of memory");
    s->sp = sp;
    s->lr = o[0];
    s->momentum = o[1];
    s->bins = (int)o[2];
    size_t n = (size_t)sp->n_decisions + 1, total = 1;
    s->off = calloc(n, sizeof *s->off);
    s->len = calloc(n, sizeof *s->len);
    if (s->off && s->len)
        for (int i = 0; i < sp->n_decisions; i++) {
            s->off[i] = (int)total;
            s->len[i] = rf_len(&sp->decisions[i], s->bins);
            total += (size_t)s->len[i];
        }
    s->theta = calloc(total, sizeof *s->theta);
    s->m = calloc(total, sizeof *s->m);
    s->v = calloc(total, sizeof *s->v);
    s->grad = calloc(total, sizeof *s->grad);
    s->prob = calloc(total, sizeof *s->prob);
    s->steps = calloc(n, sizeof *s->steps);
    s->cv = calloc(n, sizeof *s->cv);
    s->ca = calloc(n, 1);
    if (!s->off || !s->len || !s->theta || !s->m || !s->v || !s->grad || !s->prob || !s->steps || !s->cv ||
        !s->ca) {
        rf_destroy(s);
        return nasc_su_fail(err, errcap, "reinforce: out of memory");
    }
    nasc_rng_seed(&s->rng, seed);
    *state = s;
    return 0;
}

/* Softmax of logits th[0..n) restricted to the mask (NULL: all) into p. */
static void rf_softmax(const double *th, int n, const unsigned char *mask, double *p) {
    double mx = -HUGE_VAL, z = 0;
    for (int j = 0; j < n; j++)
        if ((!mask || mask[j]) && th[j] > mx) mx = th[j];
    for (int j = 0; j < n; j++) {
        p[j] = (!mask || mask[j]) ? exp(th[j] - mx) : 0;
        z += p[j];
    }
    for (int j = 0; j < n; j++) p[j] /= z;
}

static int rf_draw(nasc_rng *r, const double *p, int n) {
    double u = nasc_rng_uniform(r), c = 0;
    for (int j = 0; j < n; j++) {
        c += p[j];
        if (u < c && p[j] > 0) return j;
    }
    for (int j = n - 1; j >= 0; j--)
        if (p[j] > 0) return j;
    return 0;
}

/* Draws decision i from its policy. */
static nasc_value rf_sample(rf_state *s, int i) {
    const nasc_decision *d = &s->sp->decisions[i];
    const double *th = s->theta + s->off[i];
    double *p = s->prob + s->off[i];
    int n = s->len[i];
    nasc_value v;
    if (d->kind == NASC_DEC_SUBSET) {
        unsigned char mask[64];
        memset(mask, 1, sizeof mask);
        v.subset = 0;
        for (int t = 0; t < d->k; t++) {
            rf_softmax(th, n, mask, p);
            int j = rf_draw(&s->rng, p, n);
            mask[j] = 0;
            v.subset |= 1ull << j;
        }
        return v;
    }
    rf_softmax(th, n, NULL, p);
    int b = rf_draw(&s->rng, p, n);
    if (d->kind == NASC_DEC_FLOAT) {
        v.f = nasc_su_float_from_unit(d, (b + nasc_rng_uniform(&s->rng)) / n);
        return v;
    }
    uint64_t size = nasc_su_domain_size(d);
    if (size <= (uint64_t)n) return nasc_su_value_at(d, (uint64_t)b);
    /* a bin of a long integer range: values [lo_b, hi_b) of the index range */
    uint64_t lo = (uint64_t)((double)size * b / n), hi = (uint64_t)((double)size * (b + 1) / n);
    if (hi <= lo) hi = lo + 1;
    return nasc_su_value_at(d, lo + nasc_rng_below(&s->rng, hi - lo));
}

static int rf_ask(void *state, nasc_point *p, char *err, size_t errcap) {
    rf_state *s = state;
    int rc = 0;
    for (int t = 0; t < RF_TRIES && rc != 1; t++) {
        for (int i = 0; i < s->sp->n_decisions; i++) s->cv[i] = rf_sample(s, i);
        rc = nasc_su_normalize(s->sp, s->cv, s->ca);
        if (rc < 0) return nasc_su_fail(err, errcap, "reinforce: the host rejected a sampled point");
    }
    if (rc != 1 && nasc_su_random_point(s->sp, &s->rng, s->cv, s->ca, RF_TRIES) < 0)
        return nasc_su_fail(err, errcap, "reinforce: the host rejected a sampled point");
    if (nasc_su_copy_out(s->sp, p, s->cv, err, errcap, "reinforce") != 0) return -1;
    p->fidelity = 0;
    p->tag = 0;
    return 0;
}

/* Gradient of log pi(value) for decision i into grad[off..off+len). */
static void rf_logprob_grad(rf_state *s, int i, nasc_value val) {
    const nasc_decision *d = &s->sp->decisions[i];
    const double *th = s->theta + s->off[i];
    double *g = s->grad + s->off[i], *p = s->prob + s->off[i];
    int n = s->len[i];
    memset(g, 0, (size_t)n * sizeof *g);
    if (d->kind == NASC_DEC_SUBSET) {
        unsigned char mask[64];
        memset(mask, 1, sizeof mask);
        for (int j = 0; j < n; j++) {
            if (!(val.subset >> j & 1)) continue;
            rf_softmax(th, n, mask, p);
            for (int q = 0; q < n; q++) g[q] -= p[q];
            g[j] += 1;
            mask[j] = 0;
        }
        return;
    }
    int b;
    if (d->kind == NASC_DEC_FLOAT) {
        b = (int)(nasc_su_float_to_unit(d, val.f) * n);
    } else {
        uint64_t size = nasc_su_domain_size(d);
        uint64_t idx = d->kind == NASC_DEC_INT ? (uint64_t)((val.i - d->lo) / d->step) : (uint64_t)val.i;
        b = size <= (uint64_t)n ? (int)idx : (int)((double)idx * n / (double)size);
    }
    b = b < 0 ? 0 : b >= n ? n - 1 : b;
    rf_softmax(th, n, NULL, p);
    for (int q = 0; q < n; q++) g[q] = -p[q];
    g[b] += 1;
}

/* One Adam step of decision i's logits along +adv * grad (ascent). */
static void rf_adam(rf_state *s, int i, double adv) {
    const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
    long t = ++s->steps[i];
    double c1 = 1 - pow(b1, (double)t), c2 = 1 - pow(b2, (double)t);
    for (int q = s->off[i]; q < s->off[i] + s->len[i]; q++) {
        double g = -adv * s->grad[q]; /* gradient of the loss -(R-b) log pi */
        s->m[q] = b1 * s->m[q] + (1 - b1) * g;
        s->v[q] = b2 * s->v[q] + (1 - b2) * g * g;
        s->theta[q] -= s->lr * (s->m[q] / c1) / (sqrt(s->v[q] / c2) + eps);
    }
}

static void rf_tell(void *state, const nasc_point *p, const nasc_result *r) {
    rf_state *s = state;
    if (nasc_su_copy_in(s->sp, p, s->cv, s->ca) != 0) return;
    double reward = nasc_su_score(r);
    if (isfinite(reward)) {
        if (!s->have_reward || reward < s->worst) s->worst = reward;
        s->have_reward = 1;
    } else if (s->have_reward) {
        reward = s->worst;
    } else {
        return;
    }
    s->ema_num = s->momentum * s->ema_num + (1 - s->momentum) * reward;
    s->ema_den = s->momentum * s->ema_den + (1 - s->momentum);
    double adv = reward - s->ema_num / s->ema_den;
    for (int i = 0; i < s->sp->n_decisions; i++) {
        if (!s->ca[i] || s->len[i] < 2) continue;
        rf_logprob_grad(s, i, s->cv[i]);
        rf_adam(s, i, adv);
    }
}

NASC_EXPORT int nasc_strategy_entry(uint32_t host_abi, nasc_strategy *out) {
    (void)host_abi;
    if (!out) return -1;
    nasc_su_entry_fill(out);
    out->name = "reinforce";
    out->version = "1.0";
    out->description = "REINFORCE with a moving-average baseline over independent softmax "
                       "policies, as the NAS-Bench-201 baseline; maximises the first objective";
    out->n_option_docs = RF_NOPT;
    out->option_docs = rf_docs;
    out->create = rf_create;
    out->ask = rf_ask;
    out->tell = rf_tell;
    out->destroy = rf_destroy;
    return 0;
}
