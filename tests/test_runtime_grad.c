/* test_runtime_grad.c: finite-difference gradient checks of every kernel
 * through the executor.  The scalar checked is L = sum(out * R) for a fixed
 * random R, so backward_from(R) must give dL/dx and dL/dtheta; the
 * numerical gradient is (L(v+eps) - L(v-eps)) / 2eps with eps = 1e-3
 * (1e-4 for max pooling),
 * compared per tensor by ||analytic - numeric|| / max(||analytic||, ||numeric||). */
#include <criterion/criterion.h>
#include <math.h>
#include "data.h"
#include "exec.h"
#include "rt_testgraph.h"

#define TOL 2e-2

typedef struct gc_opts {
    int batch;
    float xscale;
    int train;
    int freeze_dropout;
    uint64_t seed;
    float eps;
    int tokens; /* > 0: the input holds token ids in [0, tokens); no input gradient is checked */
} gc_opts;

static double objective(rt_exec *e, const float *x, const float *r, int batch, int train, int64_t out_n) {
    const float *y = rt_exec_forward(e, x, batch, train);
    cr_assert_not_null(y);
    double s = 0.0;
    for (int64_t i = 0; i < out_n * batch; i++) s += (double)y[i] * r[i];
    return s;
}

/* Relative error between the analytic gradient g and the numeric one of
 * tensor v (checking every element, or 48 spread ones for big tensors). */
static double check_tensor(rt_exec *e, float *v, const float *g, int64_t n, const float *x, const float *r,
                           const gc_opts *o, int64_t out_n) {
    int64_t step = n <= 96 ? 1 : n / 48;
    double dn = 0.0, an = 0.0, nn = 0.0;
    for (int64_t i = 0; i < n; i += step) {
        float keep = v[i];
        v[i] = keep + o->eps;
        double lp = objective(e, x, r, o->batch, o->train, out_n);
        v[i] = keep - o->eps;
        double lm = objective(e, x, r, o->batch, o->train, out_n);
        v[i] = keep;
        double num = (lp - lm) / (2.0 * o->eps);
        dn += (num - g[i]) * (num - g[i]);
        an += (double)g[i] * g[i];
        nn += num * num;
    }
    /* The floor keeps FD noise on an exactly-zero gradient from counting. */
    double den = sqrt(an > nn ? an : nn);
    return sqrt(dn) / (den > 1e-2 ? den : 1e-2);
}

/* Randomises every non-weight trainable parameter (so that gamma = 1,
 * beta = 0 do not hide mistakes) and runs the whole check. */
static void gradcheck(tg *t, gc_opts o) {
    ir_graph *g = &t->g;
    char err[256];
    cr_assert_eq(rt_params_init(g, INIT_KAIMING, 11), 0);
    cr_assert_eq(rt_exec_check(g, err, sizeof err), 0, "%s", err);
    nasc_rng rng;
    nasc_rng_seed(&rng, o.seed);
    for (int i = 0; i < g->n_nodes; i++)
        for (int p = 0; p < g->nodes[i].n_params; p++) {
            ir_param *pr = &g->nodes[i].params[p];
            int is_affine = g->nodes[i].op == IR_DENSE || g->nodes[i].op == IR_CONV2D ||
                            g->nodes[i].op == IR_CONV1D || g->nodes[i].op == IR_LINEAR ||
                            g->nodes[i].op == IR_EMBEDDING;
            if (!pr->trainable || (is_affine && pr->role == PARAM_WEIGHT)) continue;
            for (int64_t k = 0; k < ir_shape_numel(&pr->shape); k++)
                pr->data[k] =
                    (pr->role == PARAM_WEIGHT ? 1.0f : 0.0f) + (float)(nasc_rng_uniform(&rng) - 0.5);
        }
    int64_t in_n = ir_shape_numel(&g->nodes[g->input].shape),
            out_n = ir_shape_numel(&g->nodes[g->output].shape);
    float *x = malloc(sizeof(float) * (size_t)(in_n * o.batch));
    float *r = malloc(sizeof(float) * (size_t)(out_n * o.batch));
    for (int64_t i = 0; i < in_n * o.batch; i++)
        x[i] = o.tokens ? (float)(int)(nasc_rng_uniform(&rng) * o.tokens)
                        : (float)(2.0 * nasc_rng_uniform(&rng) - 1.0) * o.xscale;
    for (int64_t i = 0; i < out_n * o.batch; i++) r[i] = (float)(2.0 * nasc_rng_uniform(&rng) - 1.0);
    rt_exec *e = rt_exec_new(g, o.batch, 3);
    cr_assert_not_null(e);
    rt_exec_set_input_grad(e, 1);
    cr_assert_not_null(rt_exec_forward(e, x, o.batch, o.train));
    if (o.freeze_dropout) rt_exec_freeze_dropout(e, 1);
    rt_exec_backward_from(e, r, o.batch);

    float **params, **grads;
    int64_t *sizes;
    ir_param **meta;
    int nt = rt_exec_trainables(e, &params, &grads, &sizes, &meta);
    /* Copy the analytic gradients: the FD forwards do not touch them, but
     * keep the check independent of that. */
    float *gx = malloc(sizeof(float) * (size_t)(in_n * o.batch));
    memcpy(gx, rt_exec_input_grad(e), sizeof(float) * (size_t)(in_n * o.batch));
    double worst = o.tokens ? 0.0 : check_tensor(e, x, gx, in_n * o.batch, x, r, &o, out_n);
    cr_expect_leq(worst, TOL, "input gradient: relative error %g", worst);
    for (int k = 0; k < nt; k++) {
        float *gc = malloc(sizeof(float) * (size_t)sizes[k]);
        memcpy(gc, grads[k], sizeof(float) * (size_t)sizes[k]);
        double rel = check_tensor(e, params[k], gc, sizes[k], x, r, &o, out_n);
        cr_expect_leq(rel, TOL, "%s: relative error %g", meta[k]->name, rel);
        free(gc);
    }
    free(gx);
    free(x);
    free(r);
    rt_exec_free(e);
}

static const gc_opts DEF = {3, 1.0f, 1, 0, 5, 1e-3f, 0};

Test(grad, dense) {
    tg *t = tg_new();
    int x = tg_input(t, 1, 7, 0, 0);
    int a = tg_dense(t, x, 5, 1);
    tg_finish(t, tg_dense(t, a, 4, 0));
    gradcheck(t, DEF);
    tg_free(t);
}

static void conv_case(int rank, int c, int hw, int f, int k, int s, int p, int grp, int dil, int batch) {
    tg *t = tg_new();
    int x = rank == 3 ? tg_input(t, 3, c, hw, hw + 1) : tg_input(t, 2, c, hw, 0);
    tg_finish(t, tg_conv(t, x, f, k, s, p, grp, dil, 1));
    gc_opts o = DEF;
    o.batch = batch;
    gradcheck(t, o);
    tg_free(t);
}

Test(grad, conv2d_basic) { conv_case(3, 2, 5, 3, 3, 1, 1, 1, 1, 3); }
Test(grad, conv2d_stride_pad) { conv_case(3, 2, 6, 3, 3, 2, 1, 1, 1, 2); }
Test(grad, conv2d_groups) { conv_case(3, 4, 5, 6, 3, 1, 1, 2, 1, 2); }
Test(grad, conv2d_dilation) { conv_case(3, 2, 7, 2, 3, 1, 2, 1, 2, 2); }
Test(grad, conv2d_depthwise) { conv_case(3, 3, 5, 3, 3, 2, 1, 3, 1, 2); }
Test(grad, conv2d_depthwise_multiplier) { conv_case(3, 2, 5, 4, 3, 1, 1, 2, 2, 2); }
Test(grad, conv2d_single_channel_stem) { conv_case(3, 1, 6, 4, 3, 1, 1, 1, 1, 3); }
Test(grad, conv2d_depthwise_stride1_nopad) { conv_case(3, 3, 6, 3, 3, 1, 0, 3, 1, 2); }
Test(grad, conv2d_pointwise) { conv_case(3, 3, 4, 5, 1, 1, 0, 1, 1, 3); }
Test(grad, conv2d_batch1) { conv_case(3, 2, 5, 3, 3, 1, 1, 1, 1, 1); }
Test(grad, conv1d) { conv_case(2, 2, 9, 3, 3, 2, 1, 1, 2, 2); }
Test(grad, conv1d_groups) { conv_case(2, 4, 8, 4, 3, 1, 1, 2, 1, 2); }
Test(grad, conv1d_depthwise) { conv_case(2, 3, 8, 3, 5, 1, 2, 3, 1, 2); }

static void pool_case(ir_op op, int rank, int k, int s, int p) {
    tg *t = tg_new();
    int x = rank == 3 ? tg_input(t, 3, 2, 6, 7) : tg_input(t, 2, 3, 9, 0);
    /* A conv in front so the pool's gradient also reaches parameters. */
    int c = tg_conv(t, x, 2, 3, 1, 1, 1, 1, 1);
    tg_finish(t, tg_pool(t, op, c, k, s, p));
    gc_opts o = DEF;
    /* Max pooling is piecewise: random conv outputs often lie within 1e-3
     * of each other in a window, so a smaller step avoids crossing kinks. */
    if (op == IR_MAXPOOL) o.eps = 1e-4f;
    gradcheck(t, o);
    tg_free(t);
}

Test(grad, maxpool2d) { pool_case(IR_MAXPOOL, 3, 2, 2, 0); }

/* Even sizes take the 2x2 fast path that overwrites the input gradient;
 * the relu output also feeds a residual add, so the second consumer must
 * accumulate on top of it. */
Test(grad, maxpool2d_even_fast_path_fanout) {
    tg *t = tg_new();
    int x = tg_input(t, 3, 2, 6, 6);
    int r = tg_act(t, tg_conv(t, x, 2, 3, 1, 1, 1, 1, 1), ACT_RELU);
    int p = tg_pool(t, IR_MAXPOOL, r, 2, 2, 0);
    tg_conv(t, p, 2, 2, 1, 1, 1, 1, 0); /* dead branch: its weights get a zero gradient */
    int q = tg_pool(t, IR_AVGPOOL, r, 2, 2, 0);
    int xs[2] = {p, q};
    tg_finish(t, tg_sum(t, 2, xs));
    gc_opts o = DEF;
    o.eps = 1e-4f;
    gradcheck(t, o);
    tg_free(t);
}
Test(grad, maxpool2d_overlap_pad) { pool_case(IR_MAXPOOL, 3, 3, 2, 1); }
/* relu -> 2x2 max pool: the relu's backward is folded into the pool's;
 * the conv output also feeds an average pool, so the folded gradient is
 * added to another contribution. */
Test(grad, relu_maxpool_folded) {
    tg *t = tg_new();
    int x = tg_input(t, 3, 2, 6, 8);
    int c = tg_conv(t, x, 3, 3, 1, 1, 1, 1, 1);
    int p = tg_pool(t, IR_MAXPOOL, tg_act(t, c, ACT_RELU), 2, 2, 0);
    int q = tg_pool(t, IR_AVGPOOL, c, 2, 2, 0);
    int xs[2] = {p, q};
    tg_finish(t, tg_sum(t, 2, xs));
    gc_opts o = DEF;
    o.eps = 1e-4f;
    gradcheck(t, o);
    tg_free(t);
}

Test(grad, relu_maxpool_folded_from_input) {
    tg *t = tg_new();
    int x = tg_input(t, 3, 2, 4, 6);
    int p = tg_pool(t, IR_MAXPOOL, tg_act(t, x, ACT_RELU), 2, 2, 0);
    tg_finish(t, tg_dense(t, tg_flatten(t, p), 3, 1));
    gc_opts o = DEF;
    o.eps = 1e-4f;
    gradcheck(t, o);
    tg_free(t);
}

Test(grad, avgpool2d) { pool_case(IR_AVGPOOL, 3, 2, 2, 0); }
Test(grad, avgpool2d_pad) { pool_case(IR_AVGPOOL, 3, 3, 1, 1); }
Test(grad, maxpool1d) { pool_case(IR_MAXPOOL, 2, 3, 2, 1); }
Test(grad, avgpool1d) { pool_case(IR_AVGPOOL, 2, 3, 2, 1); }

Test(grad, global_avgpool) {
    tg *t = tg_new();
    int x = tg_input(t, 3, 3, 4, 5);
    tg_finish(t, tg_gap(t, x));
    gradcheck(t, DEF);
    tg_free(t);
}

Test(grad, batchnorm_train_conv) {
    tg *t = tg_new();
    int x = tg_input(t, 3, 2, 4, 4);
    int c = tg_conv(t, x, 3, 3, 1, 1, 1, 1, 0);
    tg_finish(t, tg_bn(t, c));
    gc_opts o = DEF;
    o.batch = 4;
    gradcheck(t, o);
    tg_free(t);
}

Test(grad, batchnorm_train_features) {
    tg *t = tg_new();
    int x = tg_input(t, 1, 6, 0, 0);
    int d = tg_dense(t, x, 5, 0); /* a bias before batchnorm has zero gradient */
    tg_finish(t, tg_bn(t, d));
    gc_opts o = DEF;
    o.batch = 5;
    gradcheck(t, o);
    tg_free(t);
}

Test(grad, batchnorm_eval) {
    tg *t = tg_new();
    int x = tg_input(t, 2, 3, 5, 0);
    tg_finish(t, tg_bn(t, x));
    gc_opts o = DEF;
    o.train = 0;
    gradcheck(t, o);
    tg_free(t);
}

Test(grad, layernorm) {
    tg *t = tg_new();
    int x = tg_input(t, 2, 3, 6, 0);
    tg_finish(t, tg_ln(t, x));
    gradcheck(t, DEF);
    tg_free(t);
}

static void act_case(ir_act a, float scale) {
    tg *t = tg_new();
    int x = tg_input(t, 3, 2, 3, 4);
    tg_finish(t, tg_act(t, x, a));
    gc_opts o = DEF;
    o.xscale = scale;
    gradcheck(t, o);
    tg_free(t);
}

Test(grad, act_relu) { act_case(ACT_RELU, 2.0f); }
Test(grad, act_relu6) { act_case(ACT_RELU6, 9.0f); }
Test(grad, act_gelu) { act_case(ACT_GELU, 3.0f); }
Test(grad, act_tanh) { act_case(ACT_TANH, 2.0f); }
Test(grad, act_sigmoid) { act_case(ACT_SIGMOID, 3.0f); }
Test(grad, act_swish) { act_case(ACT_SWISH, 3.0f); }
Test(grad, act_hswish) { act_case(ACT_HSWISH, 5.0f); }
Test(grad, act_identity) { act_case(ACT_IDENTITY, 1.0f); }

Test(grad, concat) {
    tg *t = tg_new();
    int x = tg_input(t, 3, 2, 3, 3);
    int a = tg_conv(t, x, 2, 3, 1, 1, 1, 1, 1);
    int b = tg_conv(t, x, 3, 1, 1, 0, 1, 1, 1);
    int xs[3] = {a, x, b};
    tg_finish(t, tg_concat(t, 3, xs));
    gradcheck(t, DEF);
    tg_free(t);
}

Test(grad, add_three) {
    tg *t = tg_new();
    int x = tg_input(t, 1, 5, 0, 0);
    int a = tg_dense(t, x, 5, 1);
    int b = tg_act(t, x, ACT_TANH);
    int xs[3] = {a, x, b};
    tg_finish(t, tg_sum(t, 3, xs));
    gradcheck(t, DEF);
    tg_free(t);
}

Test(grad, mul_same_shape) {
    tg *t = tg_new();
    int x = tg_input(t, 1, 6, 0, 0);
    int a = tg_dense(t, x, 4, 1);
    int b = tg_dense(t, x, 4, 1);
    tg_finish(t, tg_mul(t, a, b));
    gradcheck(t, DEF);
    tg_free(t);
}

/* Squeeze-excite form: a [c, h, w] tensor times a per-channel [c] gate. */
static void mul_bcast_case(int swap) {
    tg *t = tg_new();
    int x = tg_input(t, 3, 3, 4, 4);
    int s = tg_gap(t, x);
    int d = tg_dense(t, s, 3, 1);
    int gte = tg_act(t, d, ACT_SIGMOID);
    tg_finish(t, swap ? tg_mul(t, gte, x) : tg_mul(t, x, gte));
    gradcheck(t, DEF);
    tg_free(t);
}

Test(grad, mul_broadcast) { mul_bcast_case(0); }
Test(grad, mul_broadcast_swapped) { mul_bcast_case(1); }

Test(grad, softmax) {
    tg *t = tg_new();
    int x = tg_input(t, 2, 3, 5, 0);
    tg_finish(t, tg_unary(t, IR_SOFTMAX, x));
    gc_opts o = DEF;
    o.xscale = 2.0f;
    gradcheck(t, o);
    tg_free(t);
}

Test(grad, dropout_fixed_mask) {
    tg *t = tg_new();
    int x = tg_input(t, 1, 8, 0, 0);
    int d = tg_dense(t, x, 10, 1);
    int p = tg_dropout(t, d, 0.4f);
    tg_finish(t, tg_dense(t, p, 3, 1));
    gc_opts o = DEF;
    o.freeze_dropout = 1;
    gradcheck(t, o);
    tg_free(t);
}

Test(grad, zero_blocks_gradient) {
    tg *t = tg_new();
    int x = tg_input(t, 1, 4, 0, 0);
    int a = tg_dense(t, x, 3, 1);
    int z = tg_unary(t, IR_ZERO, a);
    int b = tg_dense(t, x, 3, 1);
    int xs[2] = {z, b};
    tg_finish(t, tg_sum(t, 2, xs));
    gradcheck(t, DEF);
    /* The zeroed branch's parameters get exactly zero gradient. */
    rt_exec *e = rt_exec_new(&t->g, 2, 1);
    float xv[8] = {1, 2, 3, 4, -1, -2, -3, -4}, r[6] = {1, 1, 1, 1, 1, 1};
    cr_assert_not_null(rt_exec_forward(e, xv, 2, 1));
    rt_exec_backward_from(e, r, 2);
    float **grads;
    int64_t *sizes;
    ir_param **meta;
    int nt = rt_exec_trainables(e, NULL, &grads, &sizes, &meta);
    cr_assert_eq(nt, 4);
    for (int k = 0; k < 2; k++)
        for (int64_t i = 0; i < sizes[k]; i++) cr_assert_eq(grads[k][i], 0.0f, "%s", meta[k]->name);
    rt_exec_free(e);
    tg_free(t);
}

Test(grad, flatten_then_dense) {
    tg *t = tg_new();
    int x = tg_input(t, 3, 2, 3, 3);
    int c = tg_conv(t, x, 2, 3, 1, 1, 1, 1, 1);
    int f = tg_flatten(t, c);
    tg_finish(t, tg_dense(t, f, 4, 1));
    gradcheck(t, DEF);
    tg_free(t);
}

/* Conv-BN-ReLU stem, a residual block (add), a concat of two branches,
 * pooling, flatten and a classifier. */
Test(grad, composite_residual_concat) {
    tg *t = tg_new();
    int x = tg_input(t, 3, 2, 6, 6);
    int c1 = tg_conv(t, x, 4, 3, 1, 1, 1, 1, 0);
    int b1 = tg_bn(t, c1);
    int r1 = tg_act(t, b1, ACT_RELU);
    int c2 = tg_conv(t, r1, 4, 3, 1, 1, 4, 1, 0);
    int b2 = tg_bn(t, c2);
    int res[2] = {b2, r1};
    int s = tg_sum(t, 2, res);
    int p1 = tg_conv(t, s, 2, 1, 1, 0, 1, 1, 1);
    int p2 = tg_pool(t, IR_AVGPOOL, s, 3, 1, 1);
    int cat[2] = {p1, p2};
    int cc = tg_concat(t, 2, cat);
    int mp = tg_pool(t, IR_MAXPOOL, cc, 2, 2, 0);
    int f = tg_flatten(t, mp);
    int d = tg_dense(t, f, 8, 1);
    int a = tg_act(t, d, ACT_GELU);
    tg_finish(t, tg_dense(t, a, 3, 1));
    gc_opts o = DEF;
    o.batch = 4;
    gradcheck(t, o);
    tg_free(t);
}

/* ---- sequence ops (issue 15) ---- */

Test(grad, linear_per_token) {
    tg *t = tg_new();
    int x = tg_input(t, 2, 5, 6, 0);
    int a = tg_linear(t, x, 4);
    tg_finish(t, tg_linear(t, tg_act(t, a, ACT_GELU), 3));
    gradcheck(t, DEF);
    tg_free(t);
}

static void attention_case(int heads, int hd, int causal) {
    tg *t = tg_new();
    int x = tg_input(t, 2, 5, 8, 0);
    tg_finish(t, tg_attention(t, x, heads, hd, causal));
    gc_opts o = DEF;
    o.xscale = 2.0f; /* peaked softmax rows as well as flat ones */
    gradcheck(t, o);
    tg_free(t);
}

Test(grad, attention) { attention_case(2, 4, 0); }
Test(grad, attention_causal) { attention_case(2, 4, 1); }
Test(grad, attention_heads_decoupled) { attention_case(3, 2, 0); } /* inner width 6 != 8 */

Test(grad, embedding_positional_mean) {
    tg *t = tg_new();
    int x = tg_input(t, 1, 6, 0, 0);
    int e = tg_embedding(t, x, 7, 4);
    ir_node *p = tg_add_node(t, IR_POSITIONAL, 1, &e, tg_shape(2, 6, 4, 0));
    tg_param(t, p, PARAM_WEIGHT, tg_shape(2, 6, 4, 0), "weight");
    int a = tg_attention(t, p->id, 2, 2, 0);
    int m = tg_seq1(t, IR_MEAN_TOKENS, a, tg_shape(1, 4, 0, 0));
    tg_finish(t, tg_dense(t, m, 3, 1));
    gc_opts o = DEF;
    o.tokens = 7;
    gradcheck(t, o);
    tg_free(t);
}

Test(grad, patches_sinusoidal_layernorm) {
    tg *t = tg_new();
    int x = tg_input(t, 3, 2, 4, 6);
    int p = tg_seq1(t, IR_PATCHES, x, tg_shape(2, 6, 8, 0));
    t->nodes[p].kernel[0] = 2;
    int l = tg_linear(t, p, 5);
    int s = tg_seq1(t, IR_POSITIONAL, l, tg_shape(2, 6, 5, 0));
    t->nodes[s].sinusoidal = true;
    int n = tg_add_node(t, IR_LAYERNORM, 1, &s, tg_shape(2, 6, 5, 0))->id;
    tg_param(t, &t->nodes[n], PARAM_WEIGHT, tg_shape(1, 5, 0, 0), "weight");
    tg_param(t, &t->nodes[n], PARAM_BIAS, tg_shape(1, 5, 0, 0), "bias");
    tg_finish(t, tg_seq1(t, IR_MEAN_TOKENS, n, tg_shape(1, 5, 0, 0)));
    gradcheck(t, DEF);
    tg_free(t);
}

/* matmul(a, transpose(b)) of two projections of one input: both operands
 * carry a gradient, and the input gets it through both paths. */
Test(grad, matmul_transpose) {
    tg *t = tg_new();
    int x = tg_input(t, 2, 4, 3, 0);
    int a = tg_linear(t, x, 5), b = tg_linear(t, x, 5);
    int bt = tg_seq1(t, IR_TRANSPOSE, b, tg_shape(2, 5, 4, 0));
    int ab[2] = {a, bt};
    tg_finish(t, tg_add_node(t, IR_MATMUL, 2, ab, tg_shape(2, 4, 4, 0))->id);
    gradcheck(t, DEF);
    tg_free(t);
}

/* Bad inputs: an id outside the vocabulary and a NaN reaching attention
 * fail the forward pass with a message naming the layer. */
Test(seq, bad_token_and_nan_name_the_layer) {
    tg *t = tg_new();
    int x = tg_input(t, 1, 3, 0, 0);
    int e = tg_embedding(t, x, 5, 4);
    tg_finish(t, tg_attention(t, e, 2, 2, 0));
    cr_assert_eq(rt_params_init(&t->g, INIT_KAIMING, 1), 0);
    rt_exec *ex = rt_exec_new(&t->g, 2, 1);
    cr_assert_not_null(ex);
    float ok[6] = {0, 1, 4, 2, 3, 0}, bad[6] = {0, 1, 2, 3, 5, 0};
    cr_assert_not_null(rt_exec_forward(ex, ok, 2, 0));
    cr_assert_null(rt_exec_error(ex));
    cr_assert_null(rt_exec_forward(ex, bad, 2, 1));
    cr_assert_not_null(strstr(rt_exec_error(ex), "embedding layer 'embedding1'"), "%s", rt_exec_error(ex));
    cr_assert_not_null(strstr(rt_exec_error(ex), "token id 5 at position 1 of sample 2"), "%s",
                       rt_exec_error(ex));
    t->nodes[1].params[0].data[0] = NAN; /* the row of token 0 */
    cr_assert_null(rt_exec_forward(ex, ok, 2, 0));
    cr_assert_not_null(strstr(rt_exec_error(ex), "attention layer 'attention3'"), "%s", rt_exec_error(ex));
    rt_exec_free(ex);
    tg_free(t);
}
