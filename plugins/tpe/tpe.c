/* tpe.c: Tree-structured Parzen Estimator strategy plugin (nasc-tpe.so).
 *
 * Bergstra, Bardenet, Bengio, Kegl 2011, "Algorithms for Hyper-Parameter
 * Optimization".  After n_startup random trials, the history is split by
 * score into the best gamma-quantile ("good"; at most max_good trials, as
 * Optuna caps it, so l stays sharp in long searches) and the rest; for
 * every decision two densities are fitted, l(x) on the good trials and g(x) on
 * the others, each ONLY over trials where that decision was active -- this
 * is how conditional decisions work: a decision that was never active in
 * one group falls back on its prior.  n_ei_candidates points are drawn
 * from l (every decision, then the host says which are active), and the
 * one maximising sum over its active decisions of log l - log g (the
 * expected-improvement criterion) is proposed.
 *
 * Densities: categorical alternatives by counts plus one prior count each;
 * subset alternatives by inclusion counts plus a prior (k drawn without
 * replacement); integers and reals as hyperopt's adaptive Parzen windows:
 * truncated Gaussians on the unit (log-aware) range, one per observation
 * plus a prior N(0.5, 1), each with bandwidth the larger gap to its sorted
 * neighbours, clipped to [1/min(100, n+1), 1]; an integer's probability is
 * the mass of its cell.  Failed and infeasible trials rank worst (in g).
 * Outstanding asks are not modelled: candidates are random, so parallel
 * asks differ anyway.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nasc/strategy.h"
#include "nasc/strategy_util.h"

#define TPE_TRIES 64

static const nasc_option_doc tpe_docs[] = {
    {"n_startup", "20", "random trials before the model is used (hyperopt: 20)"},
    {"gamma", "0.25", "fraction of trials that form the good group (hyperopt's default)"},
    {"split", "quantile",
     "good-group size: quantile = ceil(gamma*n), sqrt = ceil(gamma*sqrt(n)) "
     "as hyperopt does"},
    {"n_ei_candidates", "24", "candidates drawn from l(x) per proposal"},
    {"max_good", "25",
     "cap on the good group's size (as Optuna's default gamma caps it at 25), "
     "so l(x) stays sharp in long searches; 0 for no cap"},
};
static const nasc_su_optrule tpe_rules[] = {
    {NASC_SU_OPT_INT, 1, 1e9, 0, 0, NULL},
    {NASC_SU_OPT_REAL, 0, 1, 1, 1, NULL},
    {NASC_SU_OPT_CHOICE, 0, 0, 0, 0, "quantile|sqrt"},
    {NASC_SU_OPT_INT, 1, 100000, 0, 0, NULL},
    {NASC_SU_OPT_INT, 0, 1e9, 0, 0, NULL},
};
#define TPE_NOPT (int)(sizeof tpe_docs / sizeof tpe_docs[0])

/* A truncated Gaussian mixture on [0, 1]: sorted means, bandwidths, and
 * each component's mass inside [0, 1]. */
typedef struct tpe_mixture {
    double *mu, *sig, *z;
    int m;
} tpe_mixture;

/* One decision's pair of densities, in scratch memory. */
typedef struct tpe_model {
    int numeric_kind; /* INT or FLOAT: fixed at create */
    int numeric;
    double *wl, *wg;  /* categorical / subset weights (normalised) */
    tpe_mixture l, g; /* numeric */
} tpe_model;

/* A numeric decision's unit values over the history where it was active,
 * kept sorted as tells arrive so fitting never sorts. */
typedef struct tpe_sorted {
    double *u;
    size_t *h; /* history index of each value */
    size_t n, cap, cap_h;
} tpe_sorted;

typedef struct tpe_state {
    const nasc_space *sp;
    nasc_rng rng;
    int n_startup, sqrt_split, n_cand;
    size_t max_good;
    double gamma;
    nasc_su_points hist;
    tpe_model *model;
    double *scratch;
    size_t scratch_cap;
    size_t *order; /* history indices, best first (ties: older first) */
    unsigned char *good;
    size_t order_cap, good_cap;
    tpe_sorted *sorted; /* per numeric decision: its active values, ascending */
    nasc_value *cv, *bv;
    unsigned char *ca, *ba;
} tpe_state;

static void tpe_destroy(void *state) {
    tpe_state *s = state;
    if (!s) return;
    nasc_su_points_free(&s->hist);
    free(s->model);
    free(s->scratch);
    free(s->order);
    free(s->good);
    for (int i = 0; s->sorted && i < s->sp->n_decisions; i++) {
        free(s->sorted[i].u);
        free(s->sorted[i].h);
    }
    free(s->sorted);
    free(s->cv);
    free(s->bv);
    free(s->ca);
    free(s->ba);
    free(s);
}

static int tpe_create(const nasc_space *sp, const nasc_option *opts, int n_opts, uint64_t seed, void **state,
                      char *err, size_t errcap) {
    double o[TPE_NOPT];
    if (nasc_su_check_space("tpe", sp, state, err, errcap) != 0 ||
        nasc_su_parse_options("tpe", tpe_docs, tpe_rules, TPE_NOPT, opts, n_opts, o, err, errcap) != 0)
        return -1;
    tpe_state *s = calloc(1, sizeof *s);
    size_t n = (size_t)sp->n_decisions + 1;
    if (s) {
        s->sp = sp;
        s->model = calloc(n, sizeof *s->model);
        s->sorted = calloc(n, sizeof *s->sorted);
        s->cv = calloc(n, sizeof *s->cv);
        s->bv = calloc(n, sizeof *s->bv);
        s->ca = calloc(n, 1);
        s->ba = calloc(n, 1);
    }
    if (!s || !s->model || !s->sorted || !s->cv || !s->bv || !s->ca || !s->ba) {
        tpe_destroy(s);
        return nasc_su_fail(err, errcap, "tpe: out of memory");
    }
    s->sp = sp;
    for (int i = 0; i < sp->n_decisions; i++)
        s->model[i].numeric_kind =
            sp->decisions[i].kind == NASC_DEC_INT || sp->decisions[i].kind == NASC_DEC_FLOAT;
    s->n_startup = (int)o[0];
    s->gamma = o[1];
    s->sqrt_split = o[2] == 1;
    s->n_cand = (int)o[3];
    s->max_good = (size_t)o[4];
    nasc_rng_seed(&s->rng, seed);
    nasc_su_points_init(&s->hist, sp->n_decisions);
    *state = s;
    return 0;
}

/* ---------------- densities ---------------- */

static double tpe_phi(double x) { return 0.5 * erfc(-x / sqrt(2.0)); }

/* Adaptive Parzen window over the k sorted observations in x->mu, plus the
 * prior N(0.5, 1) inserted in order; sets bandwidths and masses. */
static void tpe_parzen(tpe_mixture *x, int k) {
    double *mu = x->mu, *sig = x->sig;
    int at = k;
    while (at > 0 && mu[at - 1] > 0.5) at--;
    memmove(mu + at + 1, mu + at, (size_t)(k - at) * sizeof *mu);
    mu[at] = 0.5;
    int m = k + 1;
    double minsig = 1.0 / (k + 1 < 100 ? k + 1 : 100);
    for (int j = 0; j < m; j++) {
        double left = j > 0 ? mu[j] - mu[j - 1] : mu[j];
        double right = j + 1 < m ? mu[j + 1] - mu[j] : 1 - mu[j];
        double sg = left > right ? left : right;
        sig[j] = sg < minsig ? minsig : sg > 1 ? 1 : sg;
    }
    sig[at] = 1; /* the prior spans the range */
    x->m = m;
    for (int j = 0; j < m; j++) {
        x->z[j] = tpe_phi((1 - mu[j]) / sig[j]) - tpe_phi(-mu[j] / sig[j]);
        if (x->z[j] < 1e-12) x->z[j] = 1e-12;
    }
}

/* Mixture probability of [a, b] (a cell) or density at a (a == b).
 * Components more than 8 bandwidths away contribute under e^-32 each and
 * skip the exp/erfc: with many observations most bandwidths are small. */
static double tpe_mix(const tpe_mixture *x, double a, double b) {
    double total = 0;
    for (int j = 0; j < x->m; j++) {
        double ta = (a - x->mu[j]) / x->sig[j], p;
        if (a == b) {
            if (ta * ta > 64) continue;
            p = exp(-0.5 * ta * ta) / (x->sig[j] * 2.5066282746310002);
        } else {
            double tb = (b - x->mu[j]) / x->sig[j];
            if (ta > 8 || tb < -8) continue;
            p = tpe_phi(tb) - tpe_phi(ta);
        }
        total += p / x->z[j];
    }
    return total / x->m;
}

/* A draw from the truncated mixture on [0, 1]. */
static double tpe_mix_sample(nasc_rng *r, const tpe_mixture *mx) {
    int j = (int)nasc_rng_below(r, (uint64_t)mx->m);
    for (int t = 0; t < 32; t++) {
        double x = mx->mu[j] + mx->sig[j] * nasc_su_normal(r);
        if (x >= 0 && x <= 1) return x;
    }
    return nasc_rng_uniform(r);
}

/* Unit coordinate of a numeric value: the centre of an integer's cell. */
static double tpe_unit(const nasc_decision *d, nasc_value v) {
    if (d->kind == NASC_DEC_FLOAT) return nasc_su_float_to_unit(d, v.f);
    double size = (double)nasc_su_domain_size(d);
    return ((double)((v.i - d->lo) / d->step) + 0.5) / size;
}

/* ---------------- fitting ---------------- */

/* Marks the good group in s->good[] (by history index). */
static void tpe_split(tpe_state *s) {
    size_t n = s->hist.count;
    double want = s->sqrt_split ? s->gamma * sqrt((double)n) : s->gamma * (double)n;
    size_t n_good = (size_t)ceil(want);
    if (s->max_good && n_good > s->max_good) n_good = s->max_good;
    if (n_good < 1) n_good = 1;
    memset(s->good, 0, n);
    for (size_t k = 0; k < n_good && k < n; k++)
        if (isfinite(s->hist.score[s->order[k]])) s->good[s->order[k]] = 1;
}

/* Carves the scratch arrays of every model out of one buffer. */
static int tpe_alloc_models(tpe_state *s) {
    size_t need = 0, n = s->hist.count + 1;
    for (int i = 0; i < s->sp->n_decisions; i++) {
        const nasc_decision *d = &s->sp->decisions[i];
        need +=
            d->kind == NASC_DEC_CATEGORICAL || d->kind == NASC_DEC_SUBSET ? 2 * (size_t)d->n_choices : 6 * n;
    }
    if (need > s->scratch_cap) {
        double *b = realloc(s->scratch, (need + 16) * sizeof *b);
        if (!b) return -1;
        s->scratch = b;
        s->scratch_cap = need + 16;
    }
    double *p = s->scratch;
    for (int i = 0; i < s->sp->n_decisions; i++) {
        const nasc_decision *d = &s->sp->decisions[i];
        tpe_model *m = &s->model[i];
        int kind = m->numeric_kind;
        memset(m, 0, sizeof *m);
        m->numeric_kind = kind;
        if (d->kind == NASC_DEC_CATEGORICAL || d->kind == NASC_DEC_SUBSET) {
            m->wl = p, p += d->n_choices;
            m->wg = p, p += d->n_choices;
        } else {
            m->numeric = 1;
            m->l.mu = p, p += n;
            m->l.sig = p, p += n;
            m->l.z = p, p += n;
            m->g.mu = p, p += n;
            m->g.sig = p, p += n;
            m->g.z = p, p += n;
        }
    }
    return 0;
}

/* Fits l and g of decision i over the history points where it is active. */
static void tpe_fit(tpe_state *s, int i) {
    const nasc_decision *d = &s->sp->decisions[i];
    tpe_model *m = &s->model[i];
    int nl = 0, ng = 0;
    if (!m->numeric) {
        int c = d->n_choices;
        double prior = d->kind == NASC_DEC_SUBSET ? (double)d->k / c : 1.0;
        for (int j = 0; j < c; j++) m->wl[j] = m->wg[j] = prior;
        for (size_t h = 0; h < s->hist.count; h++) {
            if (!nasc_su_pa(&s->hist, h)[i]) continue;
            nasc_value v = nasc_su_pv(&s->hist, h)[i];
            double *w = s->good[h] ? m->wl : m->wg;
            if (d->kind == NASC_DEC_SUBSET) {
                for (int j = 0; j < c; j++) w[j] += (double)(v.subset >> j & 1);
            } else if (v.i >= 0 && v.i < c) {
                w[v.i] += 1;
            }
        }
        double zl = 0, zg = 0;
        for (int j = 0; j < c; j++) zl += m->wl[j], zg += m->wg[j];
        for (int j = 0; j < c; j++) m->wl[j] /= zl, m->wg[j] /= zg;
        return;
    }
    const tpe_sorted *so = &s->sorted[i];
    for (size_t k = 0; k < so->n; k++) {
        if (s->good[so->h[k]])
            m->l.mu[nl++] = so->u[k];
        else
            m->g.mu[ng++] = so->u[k];
    }
    tpe_parzen(&m->l, nl);
    tpe_parzen(&m->g, ng);
}

/* ---------------- candidates ---------------- */

static nasc_value tpe_draw(tpe_state *s, int i) {
    const nasc_decision *d = &s->sp->decisions[i];
    tpe_model *m = &s->model[i];
    nasc_value v;
    if (d->kind == NASC_DEC_CATEGORICAL) {
        double u = nasc_rng_uniform(&s->rng), c = 0;
        v.i = d->n_choices - 1;
        for (int j = 0; j < d->n_choices; j++)
            if (u < (c += m->wl[j])) {
                v.i = j;
                break;
            }
        return v;
    }
    if (d->kind == NASC_DEC_SUBSET) {
        double w[64];
        memcpy(w, m->wl, (size_t)d->n_choices * sizeof *w);
        v.subset = 0;
        for (int t = 0; t < d->k; t++) {
            double z = 0, c = 0;
            for (int j = 0; j < d->n_choices; j++) z += w[j];
            double u = nasc_rng_uniform(&s->rng) * z;
            int pick = -1;
            for (int j = 0; j < d->n_choices; j++)
                if (w[j] > 0) {
                    pick = j;
                    if (u < (c += w[j])) break;
                }
            v.subset |= 1ull << pick;
            w[pick] = 0;
        }
        return v;
    }
    double x = tpe_mix_sample(&s->rng, &m->l);
    if (d->kind == NASC_DEC_FLOAT) {
        v.f = nasc_su_float_from_unit(d, x);
        return v;
    }
    uint64_t size = nasc_su_domain_size(d), idx = (uint64_t)(x * (double)size);
    return nasc_su_value_at(d, idx >= size ? size - 1 : idx);
}

/* log l(x) - log g(x) of decision i's value. */
static double tpe_ratio(tpe_state *s, int i, nasc_value v) {
    const nasc_decision *d = &s->sp->decisions[i];
    tpe_model *m = &s->model[i];
    if (d->kind == NASC_DEC_CATEGORICAL) return log(m->wl[v.i]) - log(m->wg[v.i]);
    if (d->kind == NASC_DEC_SUBSET) {
        double r = 0;
        for (int j = 0; j < d->n_choices; j++)
            if (v.subset >> j & 1) r += log(m->wl[j]) - log(m->wg[j]);
        return r;
    }
    double a, b;
    if (d->kind == NASC_DEC_FLOAT) {
        a = b = nasc_su_float_to_unit(d, v.f);
    } else {
        double size = (double)nasc_su_domain_size(d), idx = (double)((v.i - d->lo) / d->step);
        a = idx / size;
        b = (idx + 1) / size;
    }
    double l = tpe_mix(&m->l, a, b), g = tpe_mix(&m->g, a, b);
    return log(l + 1e-300) - log(g + 1e-300);
}

/* The best of n_cand feasible candidates drawn from l, into bv. Returns 1,
 * or 0 when no candidate was feasible. */
static int tpe_propose(tpe_state *s) {
    int n = s->sp->n_decisions, found = 0, tries = 0;
    double best = -HUGE_VAL;
    for (int c = 0; c < s->n_cand && tries < s->n_cand * 4; tries++) {
        for (int i = 0; i < n; i++) s->cv[i] = tpe_draw(s, i);
        int rc = nasc_su_normalize(s->sp, s->cv, s->ca);
        if (rc < 0) return 0;
        if (rc != 1) continue;
        c++;
        double score = 0;
        for (int i = 0; i < n; i++)
            if (s->ca[i]) score += tpe_ratio(s, i, s->cv[i]);
        if (!found || score > best) {
            best = score;
            memcpy(s->bv, s->cv, (size_t)n * sizeof *s->bv);
            memcpy(s->ba, s->ca, (size_t)n);
            found = 1;
        }
    }
    return found;
}

static int tpe_ask(void *state, nasc_point *p, char *err, size_t errcap) {
    tpe_state *s = state;
    int ok = 0;
    if (s->hist.count >= (size_t)s->n_startup) {
        tpe_split(s);
        if (tpe_alloc_models(s) != 0) return nasc_su_fail(err, errcap, "tpe: out of memory");
        for (int i = 0; i < s->sp->n_decisions; i++) tpe_fit(s, i);
        ok = tpe_propose(s);
    }
    if (!ok && nasc_su_random_point(s->sp, &s->rng, s->bv, s->ba, TPE_TRIES) < 0)
        return nasc_su_fail(err, errcap, "tpe: the host rejected a sampled point");
    if (nasc_su_copy_out(s->sp, p, s->bv, err, errcap, "tpe") != 0) return -1;
    p->fidelity = 0;
    p->tag = 0;
    return 0;
}

/* arr grown to hold at least `need` items of `size` bytes (doubling), or
 * NULL when memory runs out (arr is then left as it was). */
static void *tpe_grow(void *arr, size_t *cap, size_t need, size_t size) {
    if (need <= *cap) return arr;
    size_t c = *cap ? *cap : 16;
    while (c < need) c *= 2;
    void *p = realloc(arr, c * size);
    if (p) *cap = c;
    return p;
}

/* Records history entry h in the rank order (after every entry at least as
 * good, so ties stay oldest first) and in each active numeric decision's
 * sorted values.  Memory is reserved first, so a failure changes nothing. */
static int tpe_index(tpe_state *s, size_t h) {
    const nasc_value *v = nasc_su_pv(&s->hist, h);
    const unsigned char *a = nasc_su_pa(&s->hist, h);
    size_t *o = tpe_grow(s->order, &s->order_cap, h + 1, sizeof *o);
    if (!o) return -1;
    s->order = o;
    unsigned char *g = tpe_grow(s->good, &s->good_cap, h + 1, 1);
    if (!g) return -1;
    s->good = g;
    for (int i = 0; i < s->sp->n_decisions; i++) {
        tpe_sorted *so = &s->sorted[i];
        if (!s->model[i].numeric_kind || !a[i]) continue;
        double *u = tpe_grow(so->u, &so->cap, so->n + 1, sizeof *u);
        if (!u) return -1;
        so->u = u;
        size_t *hh = tpe_grow(so->h, &so->cap_h, so->n + 1, sizeof *hh);
        if (!hh) return -1;
        so->h = hh;
    }
    double sc = s->hist.score[h];
    size_t lo = 0, hi = h; /* order[0..h) holds the older entries */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->hist.score[s->order[mid]] >= sc)
            lo = mid + 1;
        else
            hi = mid;
    }
    memmove(s->order + lo + 1, s->order + lo, (h - lo) * sizeof *s->order);
    s->order[lo] = h;
    for (int i = 0; i < s->sp->n_decisions; i++) {
        tpe_sorted *so = &s->sorted[i];
        if (!s->model[i].numeric_kind || !a[i]) continue;
        double u = tpe_unit(&s->sp->decisions[i], v[i]);
        size_t at = so->n;
        while (at > 0 && so->u[at - 1] > u) at--;
        memmove(so->u + at + 1, so->u + at, (so->n - at) * sizeof *so->u);
        memmove(so->h + at + 1, so->h + at, (so->n - at) * sizeof *so->h);
        so->u[at] = u;
        so->h[at] = h;
        so->n++;
    }
    return 0;
}

static void tpe_tell(void *state, const nasc_point *p, const nasc_result *r) {
    tpe_state *s = state;
    if (nasc_su_copy_in(s->sp, p, s->cv, s->ca) != 0) return;
    long h = nasc_su_points_push(&s->hist, s->cv, s->ca, nasc_su_score(r));
    if (h >= 0 && tpe_index(s, (size_t)h) != 0)
        s->hist.count--; /* out of memory: forget the trial rather than corrupt */
}

NASC_EXPORT int nasc_strategy_entry(uint32_t host_abi, nasc_strategy *out) {
    (void)host_abi;
    if (!out) return -1;
    nasc_su_entry_fill(out);
    out->name = "tpe";
    out->version = "1.0";
    out->description = "Tree-structured Parzen Estimator, Bergstra et al. 2011, conditional "
                       "decisions included; maximises the first objective";
    out->n_option_docs = TPE_NOPT;
    out->option_docs = tpe_docs;
    out->create = tpe_create;
    out->ask = tpe_ask;
    out->tell = tpe_tell;
    out->destroy = tpe_destroy;
    return 0;
}
