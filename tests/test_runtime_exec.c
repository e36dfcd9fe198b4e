/* test_runtime_exec.c: forward results of the executor against values
 * computed by hand, train vs eval batchnorm, the reference inference
 * (rt_forward_eval) against the executor, initialisation and determinism,
 * and clear errors for malformed graphs. */
#include <criterion/criterion.h>
#include <math.h>
#include "data.h"
#include "exec.h"
#include "rt_testgraph.h"

static void set_param(ir_node *n, int p, const float *v) {
    memcpy(n->params[p].data, v, sizeof(float) * (size_t)ir_shape_numel(&n->params[p].shape));
}

static const float *run(tg *t, const float *x, int batch, int train, rt_exec **out) {
    rt_exec *e = rt_exec_new(&t->g, batch, 1);
    cr_assert_not_null(e);
    *out = e;
    return rt_exec_forward(e, x, batch, train);
}

Test(exec, dense_known) {
    tg *t = tg_new();
    int x = tg_input(t, 1, 3, 0, 0);
    int d = tg_dense(t, x, 2, 1);
    tg_finish(t, d);
    cr_assert_eq(rt_params_init(&t->g, INIT_KAIMING, 1), 0);
    float w[6] = {1, 0, -1, 2, 1, 0}, b[2] = {0.5f, -1};
    set_param(&t->nodes[d], 0, w);
    set_param(&t->nodes[d], 1, b);
    float in[6] = {1, 2, 3, -1, 0, 1};
    rt_exec *e;
    const float *y = run(t, in, 2, 0, &e);
    cr_assert_float_eq(y[0], -1.5f, 1e-6);
    cr_assert_float_eq(y[1], 3.0f, 1e-6);
    cr_assert_float_eq(y[2], -1.5f, 1e-6);
    cr_assert_float_eq(y[3], -3.0f, 1e-6);
    rt_exec_free(e);
    tg_free(t);
}

/* 3x3 input 1..9, 2x2 kernel [[1,2],[3,4]]. */
static void conv2x2(int stride, int pad, const float *want, int nout) {
    tg *t = tg_new();
    int x = tg_input(t, 3, 1, 3, 3);
    int c = tg_conv(t, x, 1, 2, stride, pad, 1, 1, 1);
    tg_finish(t, c);
    cr_assert_eq(rt_params_init(&t->g, INIT_KAIMING, 1), 0);
    float w[4] = {1, 2, 3, 4}, b[1] = {0};
    set_param(&t->nodes[c], 0, w);
    set_param(&t->nodes[c], 1, b);
    float in[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    rt_exec *e;
    const float *y = run(t, in, 1, 0, &e);
    for (int i = 0; i < nout; i++) cr_assert_float_eq(y[i], want[i], 1e-5, "output %d: %g", i, y[i]);
    rt_exec_free(e);
    tg_free(t);
}

Test(exec, conv2x2_valid) {
    float want[4] = {37, 47, 67, 77};
    conv2x2(1, 0, want, 4);
}

Test(exec, conv2x2_stride2_pad1) {
    float want[4] = {4, 18, 36, 77};
    conv2x2(2, 1, want, 4);
}

/* 3x3 box sums with padding 1 (im2col's flat "same" path): a second,
 * zero input channel keeps it off the single-channel direct path. */
Test(exec, conv3x3_same_box_sums) {
    tg *t = tg_new();
    int x = tg_input(t, 3, 2, 3, 3);
    int c = tg_conv(t, x, 1, 3, 1, 1, 1, 1, 0);
    tg_finish(t, c);
    cr_assert_eq(rt_params_init(&t->g, INIT_KAIMING, 1), 0);
    float w[18];
    for (int i = 0; i < 18; i++) w[i] = 1.0f;
    set_param(&t->nodes[c], 0, w);
    float in[36] = {1, 2, 3, 4, 5, 6, 7, 8, 9}; /* then channel 1 and sample 2 */
    for (int i = 0; i < 9; i++) in[18 + i] = (float)(10 * (i + 1));
    float want[9] = {12, 21, 16, 27, 45, 33, 24, 39, 28};
    rt_exec *e;
    const float *y = run(t, in, 2, 0, &e);
    for (int i = 0; i < 9; i++) {
        cr_assert_float_eq(y[i], want[i], 1e-5, "sample 0, %d: %g", i, y[i]);
        cr_assert_float_eq(y[9 + i], 10 * want[i], 1e-4, "sample 1, %d: %g", i, y[9 + i]);
    }
    rt_exec_free(e);
    tg_free(t);
}

Test(exec, depthwise_known) {
    tg *t = tg_new();
    int x = tg_input(t, 3, 2, 2, 2);
    int c = tg_conv(t, x, 2, 1, 1, 0, 2, 1, 0); /* 1x1 depthwise: per-channel scale */
    tg_finish(t, c);
    cr_assert_eq(rt_params_init(&t->g, INIT_KAIMING, 1), 0);
    float w[2] = {2, -1};
    set_param(&t->nodes[c], 0, w);
    float in[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    rt_exec *e;
    const float *y = run(t, in, 1, 0, &e);
    for (int i = 0; i < 8; i++) cr_assert_float_eq(y[i], in[i] * (i < 4 ? 2.0f : -1.0f), 1e-6);
    rt_exec_free(e);
    tg_free(t);
}

Test(exec, conv1d_known) {
    tg *t = tg_new();
    int x = tg_input(t, 2, 1, 5, 0);
    int c = tg_conv(t, x, 1, 3, 2, 1, 1, 1, 1); /* out length (5+2-2-1)/2+1 = 3 */
    tg_finish(t, c);
    cr_assert_eq(rt_params_init(&t->g, INIT_KAIMING, 1), 0);
    float w[3] = {1, 10, 100}, b[1] = {1};
    set_param(&t->nodes[c], 0, w);
    set_param(&t->nodes[c], 1, b);
    float in[5] = {1, 2, 3, 4, 5};
    rt_exec *e;
    const float *y = run(t, in, 1, 0, &e);
    /* windows [pad,1,2], [2,3,4], [4,5,pad] */
    cr_assert_float_eq(y[0], 1 + 0 + 10 * 1 + 100 * 2, 1e-4);
    cr_assert_float_eq(y[1], 1 + 2 + 10 * 3 + 100 * 4, 1e-4);
    cr_assert_float_eq(y[2], 1 + 4 + 10 * 5 + 0, 1e-4);
    rt_exec_free(e);
    tg_free(t);
}

Test(exec, pools_known) {
    float in[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    rt_exec *e;
    tg *t = tg_new();
    int x = tg_input(t, 3, 1, 3, 3);
    tg_finish(t, tg_pool(t, IR_AVGPOOL, x, 3, 1, 1));
    const float *y = run(t, in, 1, 0, &e);
    /* padding excluded: corner (0,0) averages {1,2,4,5}, edge (0,1) {1..6} */
    cr_assert_float_eq(y[0], 3.0f, 1e-6);
    cr_assert_float_eq(y[1], 3.5f, 1e-6);
    cr_assert_float_eq(y[4], 5.0f, 1e-6);
    rt_exec_free(e);
    tg_free(t);
    t = tg_new();
    x = tg_input(t, 3, 1, 3, 3);
    tg_finish(t, tg_pool(t, IR_MAXPOOL, x, 2, 1, 0));
    y = run(t, in, 1, 0, &e);
    cr_assert_float_eq(y[0], 5.0f, 1e-6);
    cr_assert_float_eq(y[3], 9.0f, 1e-6);
    rt_exec_free(e);
    tg_free(t);
    t = tg_new();
    x = tg_input(t, 2, 1, 9, 0);
    tg_finish(t, tg_pool(t, IR_MAXPOOL, x, 3, 3, 0));
    float seq[9] = {3, 1, 2, 0, 9, 4, 5, 5, 8};
    y = run(t, seq, 1, 0, &e);
    cr_assert_float_eq(y[0], 3.0f, 1e-6);
    cr_assert_float_eq(y[1], 9.0f, 1e-6);
    cr_assert_float_eq(y[2], 8.0f, 1e-6);
    rt_exec_free(e);
    tg_free(t);
}

Test(exec, elementwise_known) {
    tg *t = tg_new();
    int x = tg_input(t, 1, 3, 0, 0);
    int g = tg_act(t, x, ACT_GELU);
    int s = tg_unary(t, IR_SOFTMAX, x);
    int l = tg_ln(t, x);
    int xs[3] = {g, s, l};
    tg_finish(t, tg_concat(t, 3, xs));
    cr_assert_eq(rt_params_init(&t->g, INIT_KAIMING, 1), 0);
    float in[3] = {1, 2, 3};
    rt_exec *e;
    const float *y = run(t, in, 1, 0, &e);
    cr_assert_float_eq(y[0], 0.8413447f, 1e-5);
    cr_assert_float_eq(y[3] + y[4] + y[5], 1.0f, 1e-6);
    cr_assert_float_eq(y[5] / y[4], expf(1.0f), 1e-4);
    cr_assert_float_eq(y[6], -1.2247357f, 1e-4);
    cr_assert_float_eq(y[7], 0.0f, 1e-6);
    cr_assert_float_eq(y[8], 1.2247357f, 1e-4);
    rt_exec_free(e);
    tg_free(t);
}

Test(exec, loss_known) {
    tg *t = tg_new();
    int x = tg_input(t, 1, 2, 0, 0);
    tg_finish(t, tg_act(t, x, ACT_IDENTITY));
    float in[4] = {0, 0, 3, 1};
    int32_t labels[2] = {0, 0};
    rt_exec *e;
    run(t, in, 2, 1, &e);
    int correct = -1;
    float loss = rt_exec_loss(e, labels, 2, &correct);
    double want = (log(2.0) + log(1.0 + exp(-2.0))) / 2.0;
    cr_assert_float_eq(loss, want, 1e-6);
    cr_assert_eq(correct, 2); /* a tie goes to the first class */
    int32_t bad[2] = {0, 7};
    cr_assert(isnan(rt_exec_loss(e, bad, 2, NULL)));
    rt_exec_free(e);
    tg_free(t);
}

Test(exec, batchnorm_train_vs_eval) {
    tg *t = tg_new();
    int x = tg_input(t, 2, 1, 2, 0);
    int b = tg_bn(t, x);
    tg_finish(t, b);
    cr_assert_eq(rt_params_init(&t->g, INIT_KAIMING, 1), 0);
    float in[4] = {1, 3, 5, 7}; /* one channel: mean 4, biased var 5, unbiased 20/3 */
    rt_exec *e;
    const float *y = run(t, in, 2, 1, &e);
    float is = 1.0f / sqrtf(5.0f + 1e-5f);
    for (int i = 0; i < 4; i++) cr_assert_float_eq(y[i], (in[i] - 4.0f) * is, 1e-5);
    float *rm = t->nodes[b].params[2].data, *rv = t->nodes[b].params[3].data;
    cr_assert_float_eq(rm[0], 0.4f, 1e-6);
    cr_assert_float_eq(rv[0], 0.9f + 0.1f * 20.0f / 3.0f, 1e-5);
    /* eval mode uses the running statistics */
    y = rt_exec_forward(e, in, 2, 0);
    float eis = 1.0f / sqrtf(rv[0] + 1e-5f);
    for (int i = 0; i < 4; i++) cr_assert_float_eq(y[i], (in[i] - rm[0]) * eis, 1e-5);
    rt_exec_free(e);
    tg_free(t);
}

static tg *composite(void) {
    tg *t = tg_new();
    int x = tg_input(t, 3, 2, 8, 8);
    int c1 = tg_conv(t, x, 4, 3, 1, 1, 1, 1, 0);
    int b1 = tg_bn(t, c1);
    int r1 = tg_act(t, b1, ACT_RELU);
    int dw = tg_conv(t, r1, 4, 3, 2, 1, 4, 1, 0);
    int s = tg_gap(t, dw);
    int se = tg_act(t, tg_dense(t, s, 4, 1), ACT_SIGMOID);
    int m = tg_mul(t, dw, se);
    int p = tg_pool(t, IR_MAXPOOL, m, 2, 2, 0);
    int f = tg_flatten(t, p);
    int d = tg_dropout(t, f, 0.3f);
    tg_finish(t, tg_dense(t, d, 5, 1));
    return t;
}

Test(exec, forward_eval_matches_exec) {
    tg *t = composite();
    cr_assert_eq(rt_params_init(&t->g, INIT_KAIMING, 4), 0);
    int n = 300; /* more than rt_forward_eval's 256-sample chunk */
    float *x = malloc(sizeof(float) * 128 * (size_t)n), *y = malloc(sizeof(float) * 5 * (size_t)n);
    nasc_rng r;
    nasc_rng_seed(&r, 9);
    for (int i = 0; i < 128 * n; i++) x[i] = rt_rng_normal(&r);
    /* one train step first, so batchnorm's running stats are not trivial */
    rt_exec *e = rt_exec_new(&t->g, n, 1);
    rt_exec_forward(e, x, n, 1);
    const float *ye = rt_exec_forward(e, x, n, 0);
    cr_assert_eq(rt_forward_eval(&t->g, x, y, n), 0);
    for (int i = 0; i < 5 * n; i++) cr_assert_float_eq(y[i], ye[i], 1e-5, "%d: %g vs %g", i, y[i], ye[i]);
    rt_exec_free(e);
    free(x);
    free(y);
    tg_free(t);
}

Test(exec, determinism) {
    tg *a = composite(), *b = composite();
    cr_assert_eq(rt_params_init(&a->g, INIT_KAIMING, 7), 0);
    cr_assert_eq(rt_params_init(&b->g, INIT_KAIMING, 7), 0);
    for (int i = 0; i < a->g.n_nodes; i++)
        for (int p = 0; p < a->nodes[i].n_params; p++)
            cr_assert_arr_eq(a->nodes[i].params[p].data, b->nodes[i].params[p].data,
                             sizeof(float) * (size_t)ir_shape_numel(&a->nodes[i].params[p].shape));
    float x[2 * 128];
    for (int i = 0; i < 256; i++) x[i] = sinf((float)i);
    rt_exec *ea = rt_exec_new(&a->g, 2, 3), *eb = rt_exec_new(&b->g, 2, 3);
    const float *ya = rt_exec_forward(ea, x, 2, 1), *yb = rt_exec_forward(eb, x, 2, 1);
    cr_assert_arr_eq(ya, yb, sizeof(float) * 10); /* same dropout mask too */
    rt_exec_free(ea);
    rt_exec_free(eb);
    /* another seed gives other weights */
    cr_assert_eq(rt_params_init(&b->g, INIT_KAIMING, 8), 0);
    cr_assert_neq(memcmp(a->nodes[1].params[0].data, b->nodes[1].params[0].data, sizeof(float) * 72), 0);
    tg_free(a);
    tg_free(b);
}

static void check_bounds(int kind, double want_bound) {
    tg *t = tg_new();
    int x = tg_input(t, 1, 400, 0, 0);
    int d = tg_dense(t, x, 200, 1);
    tg_finish(t, d);
    cr_assert_eq(rt_params_init(&t->g, kind, 2), 0);
    const float *w = t->nodes[d].params[0].data;
    double mx = 0, ss = 0;
    for (int i = 0; i < 80000; i++) {
        mx = fmax(mx, fabs(w[i]));
        ss += (double)w[i] * w[i];
    }
    cr_assert_leq(mx, want_bound);
    cr_assert_geq(mx, 0.99 * want_bound);
    /* uniform on [-b, b] has variance b^2 / 3 */
    cr_assert_float_eq(ss / 80000, want_bound * want_bound / 3, 0.03 * want_bound * want_bound);
    const float *b = t->nodes[d].params[1].data;
    for (int i = 0; i < 200; i++) cr_assert_leq(fabs(b[i]), 1.0 / sqrt(400.0));
    tg_free(t);
}

Test(exec, kaiming_uniform_bounds) { check_bounds(INIT_KAIMING, 1.0 / sqrt(400.0)); }
Test(exec, xavier_uniform_bounds) { check_bounds(INIT_XAVIER, sqrt(6.0 / 600.0)); }

/* A convolution big enough to be processed in several im2col chunks
 * gives the same outputs and weight gradients as one sample at a time. */
Test(exec, conv_chunked_matches_per_sample) {
    tg *t = tg_new();
    int x = tg_input(t, 3, 64, 28, 28);
    int c = tg_conv(t, x, 8, 3, 1, 1, 1, 1, 1);
    tg_finish(t, c);
    cr_assert_eq(rt_params_init(&t->g, INIT_KAIMING, 1), 0);
    int n = 12;
    int64_t in = 64 * 28 * 28, out = 8 * 28 * 28;
    float *xv = malloc(sizeof(float) * (size_t)(in * n)), *r = malloc(sizeof(float) * (size_t)(out * n));
    for (int64_t i = 0; i < in * n; i++) xv[i] = sinf(0.37f * (float)i);
    for (int64_t i = 0; i < out * n; i++) r[i] = cosf(0.11f * (float)i);
    rt_exec *big = rt_exec_new(&t->g, n, 1), *one = rt_exec_new(&t->g, 1, 1);
    const float *yb = rt_exec_forward(big, xv, n, 1);
    float *ys = malloc(sizeof(float) * (size_t)(out * n));
    memcpy(ys, yb, sizeof(float) * (size_t)(out * n));
    rt_exec_backward_from(big, r, n);
    float **gb, **g1;
    int64_t *sizes;
    rt_exec_trainables(big, NULL, &gb, &sizes, NULL);
    rt_exec_trainables(one, NULL, &g1, NULL, NULL);
    float *acc = calloc((size_t)sizes[0], sizeof(float));
    for (int s = 0; s < n; s++) {
        const float *y1 = rt_exec_forward(one, xv + s * in, 1, 1);
        for (int64_t i = 0; i < out; i++) cr_assert_float_eq(y1[i], ys[s * out + i], 1e-4);
        rt_exec_backward_from(one, r + s * out, 1);
        for (int64_t i = 0; i < sizes[0]; i++) acc[i] += g1[0][i];
    }
    for (int64_t i = 0; i < sizes[0]; i++) cr_assert_float_eq(acc[i], gb[0][i], 1e-2 + 1e-4 * fabsf(acc[i]));
    rt_exec_free(big);
    rt_exec_free(one);
    free(acc);
    free(xv);
    free(r);
    free(ys);
    tg_free(t);
}

Test(exec, bad_graphs_are_rejected) {
    char err[256];
    tg *t = tg_new();
    int x = tg_input(t, 1, 4, 0, 0);
    int d = tg_dense(t, x, 3, 1);
    tg_finish(t, d);
    cr_assert_eq(rt_exec_check(&t->g, err, sizeof err), -1);
    cr_assert(strstr(err, "not initialised"), "%s", err);
    cr_assert_null(rt_exec_new(&t->g, 4, 1));
    cr_assert_eq(rt_params_init(&t->g, INIT_KAIMING, 1), 0);
    cr_assert_eq(rt_exec_check(&t->g, err, sizeof err), 0);
    t->nodes[d].shape.d[0] = 5; /* output no longer matches units */
    cr_assert_eq(rt_exec_check(&t->g, err, sizeof err), -1);
    cr_assert(strstr(err, "dense1"), "%s", err);
    t->nodes[d].shape.d[0] = 3;
    t->nodes[d].params[0].shape.d[1] = 5; /* weight of the wrong size */
    cr_assert_eq(rt_exec_check(&t->g, err, sizeof err), -1);
    cr_assert(strstr(err, "weight"), "%s", err);
    tg_free(t);

    t = tg_new();
    x = tg_input(t, 3, 1, 2, 2);
    int c = tg_conv(t, x, 2, 5, 1, 0, 1, 1, 0); /* kernel larger than the input */
    tg_finish(t, c);
    t->nodes[c].shape.d[1] = t->nodes[c].shape.d[2] = 1;
    cr_assert_eq(rt_params_init(&t->g, INIT_KAIMING, 1), 0);
    cr_assert_eq(rt_exec_check(&t->g, err, sizeof err), -1);
    cr_assert(strstr(err, "geometry"), "%s", err);
    float in[4] = {0};
    float out[2];
    cr_assert_eq(rt_forward_eval(&t->g, in, out, 1), -1);
    tg_free(t);
}
