/* predictor.c: a gradient-boosted-trees predictor as a strategy plugin
 * (nasc-predictor.so): the approach of "Accuracy Prediction with
 * Non-neural Model for Neural Architecture Search" (Luo et al. 2020) with
 * BANANAS' candidate generation (plugins/bananas/pg_common.h).
 *
 * After `init` random points, every ask fits `trees` regression trees of
 * depth `depth` by stochastic gradient boosting (Friedman 2002: squared
 * loss, shrinkage `shrink`, each tree on a `subsample` of the results
 * drawn from a seed derived from the number of results) to the one-hot
 * encodings of the results, and asks the candidate mutation of the best
 * points with the largest prediction.
 *
 * Our own small implementation, not Debian's libxgboost: the data are at
 * most a few thousand rows of a few hundred 0/1 columns, where exact
 * greedy splits are instant; the plugin then needs nothing beyond the C
 * library, and its fits are bit-for-bit reproducible under a seed, which
 * --resume relies on (xgboost's multithreaded histogram code is not
 * guaranteed to be). */
#include "../bananas/pg_common.h"

static const nasc_option_doc gbt_docs[] = {
    {"init", "10", "random points before the predictor is used"},
    {"trees", "100", "boosting rounds"},
    {"depth", "3", "depth of each regression tree"},
    {"shrink", "0.1", "learning rate (shrinkage) of each tree"},
    {"subsample", "0.8", "fraction of the results each tree is fitted on"},
    {"candidates", "100", "mutations scored per ask"},
    {"parents", "10", "the best points the candidates are mutated from"},
    {"sigma", "0.1", "step of a real decision's mutation, as a fraction of its (log) range"},
    NASC_SU_WARM_DOCS, /* warm_start, warm_proxy: the init points are the proxy's best */
};
static const nasc_su_optrule gbt_rules[] = {
    {NASC_SU_OPT_INT, 2, 1e6, 0, 0, NULL},
    {NASC_SU_OPT_INT, 1, 10000, 0, 0, NULL},
    {NASC_SU_OPT_INT, 1, 8, 0, 0, NULL},
    {NASC_SU_OPT_REAL, 0, 1, 1, 0, NULL},
    {NASC_SU_OPT_REAL, 0, 1, 1, 0, NULL},
    {NASC_SU_OPT_INT, 1, 1e5, 0, 0, NULL},
    {NASC_SU_OPT_INT, 1, 1e5, 0, 0, NULL},
    {NASC_SU_OPT_REAL, 0, 1, 1, 0, NULL},
    NASC_SU_WARM_RULES,
};
#define GBT_NOPT (int)(sizeof gbt_docs / sizeof gbt_docs[0])

/* A complete binary tree of depth D: node k has children 2k+1, 2k+2;
 * internal nodes test x[feat] <= thr; leaves (the last 2^D) hold values. */
typedef struct gbt {
    int trees, depth, dim;
    double shrink, subsample, base;
    int *feat;         /* [trees][2^D - 1], -1: no split (both sides alike) */
    double *thr, *val; /* [trees][2^D - 1], [trees][2^D] */
    int *rows, *tmp;
    double *res;
    struct gbt_pair *pairs;
} gbt;

static int gbt_internal(const gbt *g) { return (1 << g->depth) - 1; }

static double gbt_tree(const gbt *g, int t, const double *x) {
    int ni = gbt_internal(g), k = 0;
    const int *f = g->feat + (size_t)t * (size_t)ni;
    const double *th = g->thr + (size_t)t * (size_t)ni;
    while (k < ni) k = 2 * k + (f[k] < 0 || x[f[k]] <= th[k] ? 1 : 2);
    return g->val[(size_t)t * (size_t)(ni + 1) + (size_t)(k - ni)];
}

static double gbt_predict(const gbt *g, const double *x, int upto) {
    double s = g->base;
    for (int t = 0; t < upto; t++) s += g->shrink * gbt_tree(g, t, x);
    return s;
}

typedef struct gbt_pair {
    double v, r;
} gbt_pair;

static int gbt_cmp(const void *a, const void *b) {
    double x = ((const gbt_pair *)a)->v, y = ((const gbt_pair *)b)->v;
    return x < y ? -1 : x > y;
}

/* The best split of rows[0..n) by squared error: feature and threshold
 * (midpoint of two consecutive distinct values), by one sorted sweep per
 * feature; feat -1 when no split reduces the error. */
static void gbt_split(const gbt *g, const double *X, const int *rows, int n, int *feat, double *thr) {
    *feat = -1;
    double tot = 0, best = 0;
    for (int i = 0; i < n; i++) tot += g->res[rows[i]];
    gbt_pair *pr = g->pairs;
    for (int f = 0; f < g->dim; f++) {
        for (int i = 0; i < n; i++) {
            pr[i].v = X[(size_t)rows[i] * (size_t)g->dim + (size_t)f];
            pr[i].r = g->res[rows[i]];
        }
        qsort(pr, (size_t)n, sizeof *pr, gbt_cmp);
        double sl = 0;
        for (int nl = 1; nl < n; nl++) {
            sl += pr[nl - 1].r;
            if (pr[nl].v == pr[nl - 1].v) continue;
            double gain = sl * sl / nl + (tot - sl) * (tot - sl) / (n - nl) - tot * tot / n;
            if (gain > best + 1e-12) {
                best = gain;
                *feat = f;
                *thr = (pr[nl - 1].v + pr[nl].v) / 2;
            }
        }
    }
}

/* Grows tree t on rows[0..n) from node k (depth d): leaves get the mean residual. */
static void gbt_grow(gbt *g, const double *X, int t, int k, int d, int *rows, int n) {
    int ni = gbt_internal(g);
    if (d == g->depth) {
        double s = 0;
        for (int i = 0; i < n; i++) s += g->res[rows[i]];
        g->val[(size_t)t * (size_t)(ni + 1) + (size_t)(k - ni)] = n ? s / n : 0;
        return;
    }
    int f = -1;
    double th = 0;
    if (n >= 2) gbt_split(g, X, rows, n, &f, &th);
    g->feat[(size_t)t * (size_t)ni + (size_t)k] = f;
    g->thr[(size_t)t * (size_t)ni + (size_t)k] = th;
    int nl = 0; /* partition in place: left rows first, order kept (stable) */
    for (int i = 0; i < n; i++)
        if (f < 0 || X[(size_t)rows[i] * (size_t)g->dim + (size_t)f] <= th) g->tmp[nl++] = rows[i];
    int nr = nl;
    for (int i = 0; i < n; i++)
        if (!(f < 0 || X[(size_t)rows[i] * (size_t)g->dim + (size_t)f] <= th)) g->tmp[nr++] = rows[i];
    memcpy(rows, g->tmp, sizeof *rows * (size_t)n);
    gbt_grow(g, X, t, 2 * k + 1, d + 1, rows, nl);
    gbt_grow(g, X, t, 2 * k + 2, d + 1, rows + nl, n - nl);
}

static int gbt_fit(void *gp, const double *X, const double *y, int n, int dim, uint64_t seed) {
    gbt *g = gp;
    if (dim != g->dim) return -1;
    int *rows = realloc(g->rows, sizeof *rows * (size_t)(n + 1)), *tmp;
    if (!rows) return -1;
    g->rows = rows;
    if (!(tmp = realloc(g->tmp, sizeof *tmp * (size_t)(n + 1)))) return -1;
    g->tmp = tmp;
    double *res = realloc(g->res, sizeof *res * (size_t)(n + 1));
    if (!res) return -1;
    g->res = res;
    struct gbt_pair *pairs = realloc(g->pairs, sizeof *pairs * (size_t)(n + 1));
    if (!pairs) return -1;
    g->pairs = pairs;
    g->base = 0;
    for (int i = 0; i < n; i++) g->base += y[i];
    g->base /= n;
    nasc_rng r;
    nasc_rng_seed(&r, seed);
    for (int t = 0; t < g->trees; t++) {
        int m = 0;
        for (int i = 0; i < n; i++) {
            res[i] = y[i] - gbt_predict(g, X + (size_t)i * (size_t)dim, t);
            if (nasc_rng_uniform(&r) < g->subsample) rows[m++] = i;
        }
        if (m < 2) /* too few drawn: this tree sees every row */
            for (m = 0; m < n; m++) rows[m] = m;
        gbt_grow(g, X, t, 0, 0, rows, m);
    }
    return 0;
}

static double gbt_acquire(void *gp, const double *x, nasc_rng *r) {
    (void)r;
    const gbt *g = gp;
    return gbt_predict(g, x, g->trees);
}

static void gbt_free(void *gp) {
    gbt *g = gp;
    if (!g) return;
    free(g->feat);
    free(g->thr);
    free(g->val);
    free(g->rows);
    free(g->tmp);
    free(g->res);
    free(g->pairs);
    free(g);
}

static gbt *gbt_new(int trees, int depth, int dim, double shrink, double subsample) {
    gbt *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->trees = trees;
    g->depth = depth;
    g->dim = dim;
    g->shrink = shrink;
    g->subsample = subsample;
    size_t ni = (size_t)gbt_internal(g);
    g->feat = calloc((size_t)trees * ni, sizeof *g->feat);
    g->thr = calloc((size_t)trees * ni, sizeof *g->thr);
    g->val = calloc((size_t)trees * (ni + 1), sizeof *g->val);
    if (!g->feat || !g->thr || !g->val) {
        gbt_free(g);
        return NULL;
    }
    return g;
}

static void gbt_destroy(void *state) { pg_destroy(state); }

static int gbt_create(const nasc_space *sp, const nasc_option *opts, int n_opts, uint64_t seed, void **state,
                      char *err, size_t errcap) {
    double o[GBT_NOPT];
    if (nasc_su_check_space("predictor", sp, state, err, errcap) != 0 ||
        nasc_su_parse_options("predictor", gbt_docs, gbt_rules, GBT_NOPT, opts, n_opts, o, err, errcap) != 0)
        return -1;
    pg_state *s = pg_new(sp, seed, (int)o[0], (int)o[5], (int)o[6], o[7]);
    gbt *g = s ? gbt_new((int)o[1], (int)o[2], s->dim, o[3], o[4]) : NULL;
    if (!g) {
        pg_destroy(s);
        return nasc_su_fail(err, errcap, "predictor: out of memory");
    }
    s->model = (pg_model){"predictor", g, gbt_fit, gbt_acquire, gbt_free};
    if (nasc_su_warm_setup("predictor", sp, gbt_docs, GBT_NOPT, opts, n_opts, o[GBT_NOPT - 2], seed, &s->warm,
                           err, errcap)) {
        pg_destroy(s);
        return -1;
    }
    *state = s;
    return 0;
}

static int gbt_ask(void *state, nasc_point *p, char *err, size_t errcap) {
    return pg_ask(state, p, "predictor", err, errcap);
}

static void gbt_tell(void *state, const nasc_point *p, const nasc_result *r) { pg_tell(state, p, r); }

NASC_EXPORT int nasc_strategy_entry(uint32_t host_abi, nasc_strategy *out) {
    (void)host_abi;
    if (!out) return -1;
    nasc_su_entry_fill(out);
    out->name = "predictor";
    out->version = "1.0";
    out->description = "gradient-boosted trees predicting the score from one-hot encodings; asks the "
                       "best-predicted mutation of the best points; maximises the first objective";
    out->n_option_docs = GBT_NOPT;
    out->option_docs = gbt_docs;
    out->create = gbt_create;
    out->ask = gbt_ask;
    out->tell = gbt_tell;
    out->destroy = gbt_destroy;
    return 0;
}
