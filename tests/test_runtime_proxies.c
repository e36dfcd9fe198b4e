/* test_runtime_proxies.c: every training-free proxy of proxies.h against
 * a value computed by hand (closed forms in double) on a two-layer
 * network with fixed weights and inputs; the reasons a proxy is missing
 * (no weights, no ReLU, overflow); naswot finite and discriminating on
 * small MLPs where it used to be a constant. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>
#include "proxies.h"
#include "rt_testgraph.h"

/* x(2) -> dense 3 (bias) -> relu -> dense 2 (bias): the tiny network. */
static const double W1[3][2] = {{0.5, -0.25}, {-0.75, 0.4}, {0.3, 0.6}}, B1[3] = {0.1, -0.05, 0.02};
static const double W2[2][3] = {{0.7, -0.2, 0.45}, {-0.35, 0.55, 0.15}}, B2[2] = {0.05, -0.1};
static const double X[2][2] = {{1.0, 0.5}, {-0.4, 1.2}};
static const int Y[2] = {0, 1};

static tg *tiny(void) {
    tg *t = tg_new();
    int x = tg_input(t, 1, 2, 0, 0);
    int h = tg_act(t, tg_dense(t, x, 3, 1), ACT_RELU);
    tg_finish(t, tg_dense(t, h, 2, 1));
    cr_assert_eq(rt_params_init(&t->g, INIT_KAIMING, 1), 0);
    float *w1 = t->nodes[1].params[0].data, *b1 = t->nodes[1].params[1].data;
    float *w2 = t->nodes[3].params[0].data, *b2 = t->nodes[3].params[1].data;
    for (int i = 0; i < 3; i++) {
        b1[i] = (float)B1[i];
        for (int j = 0; j < 2; j++) w1[i * 2 + j] = (float)W1[i][j];
    }
    for (int i = 0; i < 2; i++) {
        b2[i] = (float)B2[i];
        for (int j = 0; j < 3; j++) w2[i * 3 + j] = (float)W2[i][j];
    }
    return t;
}

static void tiny_data(rt_dataset *d) {
    memset(d, 0, sizeof *d);
    d->n = 2;
    d->sample.rank = 1;
    d->sample.d[0] = 2;
    d->n_classes = 2;
    d->x = malloc(sizeof(float) * 4);
    d->y = malloc(sizeof(int32_t) * 2);
    for (int i = 0; i < 2; i++) {
        d->y[i] = Y[i];
        for (int j = 0; j < 2; j++) d->x[i * 2 + j] = (float)X[i][j];
    }
}

/* The network in double: forward of sample n at weights w1, w2 (biases
 * fixed), and the gradient of the mean cross-entropy over the batch. */
typedef struct hand {
    double h[2][3], a[2][3], z[2][2], dz[2][2], dh[2][3];
    double g1[3][2], g2[2][3];
} hand;

static void hand_run(const double w1[3][2], const double w2[2][3], hand *o) {
    memset(o, 0, sizeof *o);
    for (int n = 0; n < 2; n++) {
        for (int i = 0; i < 3; i++) {
            o->h[n][i] = B1[i] + w1[i][0] * X[n][0] + w1[i][1] * X[n][1];
            o->a[n][i] = o->h[n][i] > 0 ? o->h[n][i] : 0;
        }
        double m = -1e300, s = 0;
        for (int k = 0; k < 2; k++) {
            o->z[n][k] = B2[k];
            for (int i = 0; i < 3; i++) o->z[n][k] += w2[k][i] * o->a[n][i];
            m = fmax(m, o->z[n][k]);
        }
        for (int k = 0; k < 2; k++) s += exp(o->z[n][k] - m);
        for (int k = 0; k < 2; k++) o->dz[n][k] = (exp(o->z[n][k] - m) / s - (k == Y[n])) / 2.0;
        for (int i = 0; i < 3; i++) {
            double da = w2[0][i] * o->dz[n][0] + w2[1][i] * o->dz[n][1];
            o->dh[n][i] = o->h[n][i] > 0 ? da : 0;
        }
        for (int k = 0; k < 2; k++)
            for (int i = 0; i < 3; i++) o->g2[k][i] += o->dz[n][k] * o->a[n][i];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 2; j++) o->g1[i][j] += o->dh[n][i] * X[n][j];
    }
}

static rt_proxy_values compute(tg *t, unsigned mask) {
    rt_dataset d;
    tiny_data(&d);
    rt_proxy_values pv;
    char err[256];
    cr_assert_eq(rt_proxies_compute(&t->g, &d, mask, 64, 7, &pv, err, sizeof err), 0, "%s", err);
    rt_dataset_free(&d);
    return pv;
}

#define CLOSE(got, want, rel) \
    cr_assert(fabs((got) - (want)) <= (rel)*fabs(want) + 1e-9, "%s = %.9g, by hand %.9g", #got, got, want)

Test(proxies, gradient_proxies_by_hand) {
    tg *t = tiny();
    rt_proxy_values pv = compute(t, RT_PX_ALL);
    hand o;
    hand_run(W1, W2, &o);
    double n1 = 0, n2 = 0, snip = 0, plain = 0, l1 = 0, l2 = 0;
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 2; j++) {
            n1 += o.g1[i][j] * o.g1[i][j];
            l1 += W1[i][j] * W1[i][j];
            snip += fabs(W1[i][j] * o.g1[i][j]);
            plain += W1[i][j] * o.g1[i][j];
        }
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < 3; i++) {
            n2 += o.g2[k][i] * o.g2[k][i];
            l2 += W2[k][i] * W2[k][i];
            snip += fabs(W2[k][i] * o.g2[k][i]);
            plain += W2[k][i] * o.g2[k][i];
        }
    CLOSE(pv.v[RT_PX_GRAD_NORM], sqrt(n1) + sqrt(n2), 1e-5);
    CLOSE(pv.v[RT_PX_SNIP], snip, 1e-5);
    CLOSE(pv.v[RT_PX_PLAIN], plain, 1e-5);
    CLOSE(pv.v[RT_PX_L2_NORM], sqrt(l1) + sqrt(l2), 1e-6);
    /* fisher: per channel 0.5 mean_n (z dL/dz)^2 at both dense outputs */
    double fi = 0;
    for (int i = 0; i < 3; i++)
        fi += 0.5 * (pow(o.h[0][i] * o.dh[0][i], 2) + pow(o.h[1][i] * o.dh[1][i], 2)) / 2.0;
    for (int k = 0; k < 2; k++)
        fi += 0.5 * (pow(o.z[0][k] * o.dz[0][k], 2) + pow(o.z[1][k] * o.dz[1][k], 2)) / 2.0;
    CLOSE(pv.v[RT_PX_FISHER], fi, 1e-4);
    /* grasp: -w . (H g), H g by the same central difference in double */
    double gn = sqrt(n1 + n2), h = 1e-2 / gn, p1[3][2], m1[3][2], p2[2][3], m2[2][3];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 2; j++)
            p1[i][j] = W1[i][j] + h * o.g1[i][j], m1[i][j] = W1[i][j] - h * o.g1[i][j];
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < 3; i++)
            p2[k][i] = W2[k][i] + h * o.g2[k][i], m2[k][i] = W2[k][i] - h * o.g2[k][i];
    hand op, om;
    hand_run(p1, p2, &op);
    hand_run(m1, m2, &om);
    double gr = 0;
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 2; j++) gr -= W1[i][j] * (op.g1[i][j] - om.g1[i][j]) / (2 * h);
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < 3; i++) gr -= W2[k][i] * (op.g2[k][i] - om.g2[k][i]) / (2 * h);
    CLOSE(pv.v[RT_PX_GRASP], gr, 2e-3);
    cr_assert_neq(gr, 0.0);
    tg_free(t);
}

Test(proxies, jacov_naswot_synflow_by_hand) {
    tg *t = tiny();
    rt_proxy_values pv = compute(t, RT_PX_ALL);
    hand o;
    hand_run(W1, W2, &o);
    /* jacov: J_n = W1' (mask_n * W2' 1); corrcoef of two rows has
     * eigenvalues 1 +- r */
    double j[2][2], r, mu[2], sd[2];
    for (int n = 0; n < 2; n++)
        for (int q = 0; q < 2; q++) {
            j[n][q] = 0;
            for (int i = 0; i < 3; i++) j[n][q] += W1[i][q] * (o.h[n][i] > 0 ? W2[0][i] + W2[1][i] : 0);
        }
    for (int n = 0; n < 2; n++) {
        mu[n] = (j[n][0] + j[n][1]) / 2;
        sd[n] = sqrt(pow(j[n][0] - mu[n], 2) + pow(j[n][1] - mu[n], 2));
    }
    r = ((j[0][0] - mu[0]) * (j[1][0] - mu[1]) + (j[0][1] - mu[0]) * (j[1][1] - mu[1])) / (sd[0] * sd[1]);
    double k = 1e-5, jac = 0;
    for (int s = -1; s <= 1; s += 2) {
        double l = fmax(1 + s * r, 0);
        jac -= log(l + k) + 1 / (l + k);
    }
    CLOSE(pv.v[RT_PX_JACOV], jac, 1e-3);
    /* naswot: the batch is capped at 3 units, here 2 samples; K = [[3, a],
     * [a, 3]] with a the units on which both samples agree */
    int agree = 0;
    for (int i = 0; i < 3; i++) agree += (o.h[0][i] > 0) == (o.h[1][i] > 0);
    cr_assert_lt(agree, 3, "the inputs must give different codes");
    CLOSE(pv.v[RT_PX_NASWOT], log(9.0 - agree * agree), 1e-9);
    /* synflow: all-ones input, |W|: layer 1 scores (1'|W2|) |W1| 1, layer 2
     * 1' |W2| (|W1| 1 + |b1|) */
    double sf = 0;
    for (int i = 0; i < 3; i++) {
        double u = fabs(W2[0][i]) + fabs(W2[1][i]), row = fabs(W1[i][0]) + fabs(W1[i][1]);
        sf += u * row + u * (row + fabs(B1[i]));
    }
    CLOSE(pv.v[RT_PX_SYNFLOW], sf, 1e-5);
    for (int i = 0; i < RT_PX_COUNT; i++)
        cr_assert_eq(pv.why[i][0], 0, "%s: %s", rt_proxy_name(i), pv.why[i]);
    tg_free(t);
}

/* zen by hand: the same draws (weights in parameter order, then x and the
 * perturbation interleaved), f the relu output before the classifier. */
Test(proxies, zen_by_hand) {
    tg *t = tiny();
    rt_proxy_values pv = compute(t, 1u << RT_PX_ZEN);
    nasc_rng r;
    nasc_rng_seed(&r, 7 ^ 0x5a454eULL);
    double w1[3][2], w2[2][3], x[2][2], x2[2][2];
    for (int i = 0; i < 3; i++)
        for (int q = 0; q < 2; q++) w1[i][q] = rt_rng_normal(&r);
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < 3; i++) w2[k][i] = rt_rng_normal(&r);
    (void)w2;
    for (int n = 0; n < 2; n++)
        for (int q = 0; q < 2; q++) {
            float a = rt_rng_normal(&r), e = rt_rng_normal(&r);
            x[n][q] = a;
            x2[n][q] = (double)(a + 0.01f * e);
        }
    double delta = 0;
    for (int n = 0; n < 2; n++)
        for (int i = 0; i < 3; i++) {
            double h0 = w1[i][0] * x[n][0] + w1[i][1] * x[n][1],
                   h1 = w1[i][0] * x2[n][0] + w1[i][1] * x2[n][1];
            delta += fabs(fmax(h0, 0) - fmax(h1, 0));
        }
    CLOSE(pv.v[RT_PX_ZEN], log(delta / 2), 1e-3);
    tg_free(t);
}

Test(proxies, parameters_left_untouched) {
    tg *t = tiny(), *u = tiny();
    compute(t, RT_PX_ALL);
    for (int i = 0; i < t->g.n_nodes; i++)
        for (int p = 0; p < t->g.nodes[i].n_params; p++)
            cr_assert_eq(memcmp(t->g.nodes[i].params[p].data, u->g.nodes[i].params[p].data,
                                sizeof(float) * (size_t)ir_shape_numel(&t->g.nodes[i].params[p].shape)),
                         0);
    tg_free(t);
    tg_free(u);
}

Test(proxies, missing_with_reasons) {
    /* no ReLU: naswot is undefined, the others stand */
    tg *t = tg_new();
    int x = tg_input(t, 1, 2, 0, 0);
    tg_finish(t, tg_dense(t, tg_act(t, tg_dense(t, x, 3, 1), ACT_TANH), 2, 1));
    cr_assert_eq(rt_params_init(&t->g, INIT_KAIMING, 1), 0);
    rt_proxy_values pv = compute(t, RT_PX_ALL);
    cr_assert(isnan(pv.v[RT_PX_NASWOT]));
    cr_assert_str_eq(pv.why[RT_PX_NASWOT], "the network has no ReLU activation");
    cr_assert(isfinite(pv.v[RT_PX_SNIP]) && !pv.why[RT_PX_SNIP][0]);
    char err[200];
    double s;
    rt_dataset d;
    tiny_data(&d);
    cr_assert_eq(rt_proxy_naswot(&t->g, &d, 64, 1, &s, err, sizeof err), -1);
    cr_assert_str_eq(err, "naswot: the network has no ReLU activation");
    tg_free(t);
    /* no weights at all */
    t = tg_new();
    x = tg_input(t, 1, 2, 0, 0);
    tg_finish(t, tg_act(t, x, ACT_RELU));
    cr_assert_eq(rt_params_init(&t->g, INIT_KAIMING, 1), 0);
    cr_assert_eq(rt_proxies_compute(&t->g, &d, RT_PX_ALL, 64, 1, &pv, err, sizeof err), 0, "%s", err);
    for (int i = 0; i < RT_PX_COUNT; i++)
        if (i != RT_PX_NASWOT && i != RT_PX_JACOV) {
            cr_assert(isnan(pv.v[i]), "%s", rt_proxy_name(i));
            cr_assert_str_eq(pv.why[i], "the network has no dense or conv weights", "%s", rt_proxy_name(i));
        }
    tg_free(t);
    /* synflow overflows float on a deep net of big weights */
    t = tg_new();
    x = tg_input(t, 1, 2, 0, 0);
    for (int l = 0; l < 30; l++) x = tg_dense(t, x, 2, 0);
    tg_finish(t, x);
    cr_assert_eq(rt_params_init(&t->g, INIT_KAIMING, 1), 0);
    for (int i = 1; i < t->g.n_nodes; i++)
        for (int q = 0; q < 4; q++) t->g.nodes[i].params[0].data[q] = 100.0f;
    cr_assert_eq(rt_proxy_synflow(&t->g, &s, err, sizeof err), -1);
    cr_assert_str_eq(err, "synflow: overflowed the float range (a very deep network)");
    tg_free(t);
    rt_dataset_free(&d);
}

/* The bug of issue 13: with a batch larger than a small MLP has ReLU
 * units, K was singular for every network (-inf or rounding noise). */
Test(proxies, naswot_small_mlps_finite_and_distinct) {
    rt_dataset d;
    memset(&d, 0, sizeof d);
    d.n = 200;
    d.sample.rank = 1;
    d.sample.d[0] = 16;
    d.n_classes = 4;
    d.x = malloc(sizeof(float) * 200 * 16);
    d.y = malloc(sizeof(int32_t) * 200);
    nasc_rng r;
    nasc_rng_seed(&r, 5);
    for (int i = 0; i < 200 * 16; i++) d.x[i] = rt_rng_normal(&r);
    for (int i = 0; i < 200; i++) d.y[i] = i % 4;
    double prev = -INFINITY;
    for (int w = 16; w <= 128; w *= 2) {
        tg *t = tg_new();
        int x = tg_input(t, 1, 16, 0, 0);
        tg_finish(t, tg_dense(t, tg_act(t, tg_dense(t, x, w, 1), ACT_RELU), 4, 1));
        cr_assert_eq(rt_params_init(&t->g, INIT_KAIMING, 3), 0);
        double s;
        char err[200];
        cr_assert_eq(rt_proxy_naswot(&t->g, &d, 64, 1, &s, err, sizeof err), 0, "width %d: %s", w, err);
        cr_assert(isfinite(s) && s > prev, "width %d: naswot %g after %g", w, s, prev);
        prev = s;
        tg_free(t);
    }
    rt_dataset_free(&d);
}
