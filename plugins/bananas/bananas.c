/* bananas.c: BANANAS (White, Neiswanger and Savani, AAAI 2021) as a
 * strategy plugin (nasc-bananas.so).
 *
 * After `init` random points, every ask fits an ensemble of `ensemble`
 * small MLPs (two hidden ReLU layers of `hidden` units, mean squared error
 * on the standardised scores, full-batch Adam, each member from its own
 * initialisation) on the one-hot encoding of the points' active decisions
 * (pg_common.h), generates `candidates` one-decision mutations of the
 * `parents` best points, and asks the candidate with the largest
 * independent Thompson sample: mu + sd * z per candidate, mu and sd the
 * ensemble's mean and spread, z standard normal (the paper's ITS). */
#include "pg_common.h"

static const nasc_option_doc ban_docs[] = {
    {"init", "10", "random points before the predictor is used (paper: 10)"},
    {"ensemble", "5", "MLPs in the ensemble (paper: 5)"},
    {"hidden", "20", "units of each of the two hidden layers"},
    {"epochs", "200", "full-batch Adam steps per fit"},
    {"lr", "0.01", "Adam learning rate"},
    {"candidates", "100", "mutations scored per ask (paper: 100)"},
    {"parents", "10", "the best points the candidates are mutated from"},
    {"sigma", "0.1", "step of a real decision's mutation, as a fraction of its (log) range"},
    NASC_SU_WARM_DOCS, /* warm_start, warm_proxy: the init points are the proxy's best */
};
static const nasc_su_optrule ban_rules[] = {
    {NASC_SU_OPT_INT, 2, 1e6, 0, 0, NULL},
    {NASC_SU_OPT_INT, 1, 100, 0, 0, NULL},
    {NASC_SU_OPT_INT, 1, 1000, 0, 0, NULL},
    {NASC_SU_OPT_INT, 1, 1e6, 0, 0, NULL},
    {NASC_SU_OPT_REAL, 0, 1, 1, 0, NULL},
    {NASC_SU_OPT_INT, 1, 1e5, 0, 0, NULL},
    {NASC_SU_OPT_INT, 1, 1e5, 0, 0, NULL},
    {NASC_SU_OPT_REAL, 0, 1, 1, 0, NULL},
    NASC_SU_WARM_RULES,
};
#define BAN_NOPT (int)(sizeof ban_docs / sizeof ban_docs[0])

/* The ensemble: member k's parameters at w + k * nw, laid out W1 [h][d],
 * b1 [h], W2 [h][h], b2 [h], W3 [h], b3. */
typedef struct ban_mlp {
    int members, h, d, epochs;
    double lr;
    size_t nw;
    double *w, *m, *v, *g, *act; /* act: scratch activations of one row */
} ban_mlp;

static size_t ban_nw(int d, int h) {
    return (size_t)h * (size_t)d + (size_t)h * (size_t)h + 3u * (size_t)h + 2u;
}

/* Forward of one member on x; keeps the hidden activations in a1, a2. */
static double ban_forward(const ban_mlp *b, const double *w, const double *x, double *a1, double *a2) {
    int h = b->h, d = b->d;
    const double *W1 = w, *b1 = W1 + h * d, *W2 = b1 + h, *b2 = W2 + h * h, *W3 = b2 + h, *b3 = W3 + h;
    for (int i = 0; i < h; i++) {
        double s = b1[i];
        for (int j = 0; j < d; j++) s += W1[i * d + j] * x[j];
        a1[i] = s > 0 ? s : 0;
    }
    double out = *b3;
    for (int i = 0; i < h; i++) {
        double s = b2[i];
        for (int j = 0; j < h; j++) s += W2[i * h + j] * a1[j];
        a2[i] = s > 0 ? s : 0;
        out += W3[i] * a2[i];
    }
    return out;
}

/* Adds the gradient of 0.5 (f(x) - y)^2 / n to g. */
static void ban_backward(const ban_mlp *b, const double *w, const double *x, double y, double n, double *g) {
    int h = b->h, d = b->d;
    double *a1 = b->act, *a2 = a1 + h, *d2 = a2 + h, *d1 = d2 + h;
    double e = (ban_forward(b, w, x, a1, a2) - y) / n;
    const double *W2 = w + h * d + h, *W3 = W2 + h * h + h;
    double *gW1 = g, *gb1 = gW1 + h * d, *gW2 = gb1 + h, *gb2 = gW2 + h * h, *gW3 = gb2 + h, *gb3 = gW3 + h;
    *gb3 += e;
    for (int i = 0; i < h; i++) {
        gW3[i] += e * a2[i];
        d2[i] = a2[i] > 0 ? e * W3[i] : 0;
        gb2[i] += d2[i];
    }
    for (int j = 0; j < h; j++) {
        double s = 0;
        for (int i = 0; i < h; i++) {
            gW2[i * h + j] += d2[i] * a1[j];
            s += d2[i] * W2[i * h + j];
        }
        d1[j] = a1[j] > 0 ? s : 0;
        gb1[j] += d1[j];
        for (int q = 0; q < d; q++) gW1[j * d + q] += d1[j] * x[q];
    }
}

/* He-uniform weights, zero biases, from the member's own generator. */
static void ban_init(const ban_mlp *b, double *w, nasc_rng *r) {
    int h = b->h, d = b->d;
    double *W1 = w, *b1 = W1 + h * d, *W2 = b1 + h, *b2 = W2 + h * h, *W3 = b2 + h;
    memset(w, 0, sizeof *w * b->nw);
    for (int i = 0; i < h * d; i++) W1[i] = (2 * nasc_rng_uniform(r) - 1) * sqrt(6.0 / (d > 0 ? d : 1));
    for (int i = 0; i < h * h; i++) W2[i] = (2 * nasc_rng_uniform(r) - 1) * sqrt(6.0 / h);
    for (int i = 0; i < h; i++) W3[i] = (2 * nasc_rng_uniform(r) - 1) * sqrt(3.0 / h);
}

static int ban_fit(void *mp, const double *X, const double *y, int n, int dim, uint64_t seed) {
    ban_mlp *b = mp;
    if (dim != b->d) return -1;
    for (int k = 0; k < b->members; k++) {
        double *w = b->w + (size_t)k * b->nw;
        nasc_rng r;
        nasc_rng_seed(&r, seed + 0x51ed27u * (uint64_t)(k + 1));
        ban_init(b, w, &r);
        memset(b->m, 0, sizeof *b->m * b->nw);
        memset(b->v, 0, sizeof *b->v * b->nw);
        double b1t = 1, b2t = 1;
        for (int t = 0; t < b->epochs; t++) {
            memset(b->g, 0, sizeof *b->g * b->nw);
            for (int i = 0; i < n; i++) ban_backward(b, w, X + (size_t)i * (size_t)dim, y[i], n, b->g);
            b1t *= 0.9;
            b2t *= 0.999;
            for (size_t q = 0; q < b->nw; q++) {
                b->m[q] = 0.9 * b->m[q] + 0.1 * b->g[q];
                b->v[q] = 0.999 * b->v[q] + 0.001 * b->g[q] * b->g[q];
                w[q] -= b->lr * (b->m[q] / (1 - b1t)) / (sqrt(b->v[q] / (1 - b2t)) + 1e-8);
            }
        }
    }
    return 0;
}

/* Independent Thompson sampling: one draw from N(mean, sd^2) of the ensemble. */
static double ban_acquire(void *mp, const double *x, nasc_rng *r) {
    ban_mlp *b = mp;
    double s = 0, ss = 0, *a1 = b->act, *a2 = a1 + b->h;
    for (int k = 0; k < b->members; k++) {
        double f = ban_forward(b, b->w + (size_t)k * b->nw, x, a1, a2);
        s += f;
        ss += f * f;
    }
    double mean = s / b->members, var = b->members > 1 ? (ss - s * mean) / (b->members - 1) : 0;
    return mean + sqrt(var > 0 ? var : 0) * nasc_su_normal(r);
}

static void ban_mlp_free(void *mp) {
    ban_mlp *b = mp;
    if (!b) return;
    free(b->w);
    free(b->m);
    free(b->v);
    free(b->g);
    free(b->act);
    free(b);
}

static ban_mlp *ban_mlp_new(int members, int h, int d, int epochs, double lr) {
    ban_mlp *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    b->members = members;
    b->h = h;
    b->d = d;
    b->epochs = epochs;
    b->lr = lr;
    b->nw = ban_nw(d, h);
    b->w = calloc(b->nw * (size_t)members, sizeof *b->w);
    b->m = calloc(b->nw, sizeof *b->m);
    b->v = calloc(b->nw, sizeof *b->v);
    b->g = calloc(b->nw, sizeof *b->g);
    b->act = calloc(4 * (size_t)h, sizeof *b->act);
    if (!b->w || !b->m || !b->v || !b->g || !b->act) {
        ban_mlp_free(b);
        return NULL;
    }
    return b;
}

static void ban_destroy(void *state) { pg_destroy(state); }

static int ban_create(const nasc_space *sp, const nasc_option *opts, int n_opts, uint64_t seed, void **state,
                      char *err, size_t errcap) {
    double o[BAN_NOPT];
    if (nasc_su_check_space("bananas", sp, state, err, errcap) != 0 ||
        nasc_su_parse_options("bananas", ban_docs, ban_rules, BAN_NOPT, opts, n_opts, o, err, errcap) != 0)
        return -1;
    pg_state *s = pg_new(sp, seed, (int)o[0], (int)o[5], (int)o[6], o[7]);
    ban_mlp *b = s ? ban_mlp_new((int)o[1], (int)o[2], s->dim, (int)o[3], o[4]) : NULL;
    if (!b) {
        pg_destroy(s);
        return nasc_su_fail(err, errcap, "bananas: out of memory");
    }
    s->model = (pg_model){"bananas", b, ban_fit, ban_acquire, ban_mlp_free};
    if (nasc_su_warm_setup("bananas", sp, ban_docs, BAN_NOPT, opts, n_opts, o[BAN_NOPT - 2], seed, &s->warm,
                           err, errcap)) {
        pg_destroy(s);
        return -1;
    }
    *state = s;
    return 0;
}

static int ban_ask(void *state, nasc_point *p, char *err, size_t errcap) {
    return pg_ask(state, p, "bananas", err, errcap);
}

static void ban_tell(void *state, const nasc_point *p, const nasc_result *r) { pg_tell(state, p, r); }

NASC_EXPORT int nasc_strategy_entry(uint32_t host_abi, nasc_strategy *out) {
    (void)host_abi;
    if (!out) return -1;
    nasc_su_entry_fill(out);
    out->name = "bananas";
    out->version = "1.0";
    out->description = "BANANAS, White et al. 2021: an MLP-ensemble predictor on one-hot encodings, "
                       "independent Thompson sampling over mutations of the best points; maximises the "
                       "first objective";
    out->n_option_docs = BAN_NOPT;
    out->option_docs = ban_docs;
    out->create = ban_create;
    out->ask = ban_ask;
    out->tell = ban_tell;
    out->destroy = ban_destroy;
    return 0;
}
