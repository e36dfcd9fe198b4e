/* test_codegen_jit.c: the JIT against the reference executor, and each
 * graph pass on its own.
 *
 * Graphs are built by hand (tests/rt_testgraph.h) to cover every operator
 * and attribute the back end handles; weights come from rt_params_init plus
 * randomised batchnorm/layernorm statistics, so folding and affine paths
 * see non-trivial values.  Outputs must match rt_forward_eval within a
 * relative error of 1e-4 (max abs difference over max abs reference).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "codegen.h"
#include "passes.h"
#include "exec.h"
#include "rt_testgraph.h"

static uint64_t rng_state = 1;
static float urand(float lo, float hi) {
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return lo + (hi - lo) * (float)((rng_state >> 40) & 0xffffff) / 16777216.0f;
}

/* Weights from the runtime's initialiser, then statistics made non-trivial. */
static void init_params(tg *t, uint64_t seed) {
    cr_assert_eq(rt_params_init(&t->g, INIT_KAIMING, seed), 0);
    rng_state = seed * 2654435761u + 7;
    for (int i = 0; i < t->g.n_nodes; i++) {
        ir_node *n = &t->g.nodes[i];
        for (int p = 0; p < n->n_params; p++) {
            ir_param *pr = &n->params[p];
            int64_t k = ir_shape_numel(&pr->shape);
            bool norm = n->op == IR_BATCHNORM || n->op == IR_LAYERNORM;
            for (int64_t j = 0; j < k && (norm || pr->role == PARAM_BIAS); j++) {
                switch (pr->role) {
                case PARAM_WEIGHT: pr->data[j] = urand(0.5f, 1.5f); break;
                case PARAM_BIAS: pr->data[j] = urand(-0.5f, 0.5f); break;
                case PARAM_RUNNING_MEAN: pr->data[j] = urand(-0.3f, 0.3f); break;
                case PARAM_RUNNING_VAR: pr->data[j] = urand(0.5f, 1.5f); break;
                }
            }
        }
    }
}

static float *rand_input(const ir_graph *g, int batch) {
    int64_t n = ir_shape_numel(&g->nodes[g->input].shape) * batch;
    float *x = malloc((size_t)n * sizeof(float));
    for (int64_t i = 0; i < n; i++) x[i] = urand(-1.0f, 1.0f);
    return x;
}

static double rel_err(const float *a, const float *ref, int64_t n) {
    double md = 0, mr = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - ref[i]);
        if (!(d <= md)) md = d; /* NaN propagates as failure */
        if (fabs(ref[i]) > mr) mr = fabs(ref[i]);
    }
    return md / (mr > 1e-6 ? mr : 1e-6);
}

/* JIT (with the given pass options) vs reference at this batch. */
static void check_jit_opts(const ir_graph *g, int batch, const ps_opts *po, int opt, const char *what) {
    float *x = rand_input(g, batch);
    int64_t on = ir_shape_numel(&g->nodes[g->output].shape) * batch;
    float *ref = malloc((size_t)on * sizeof(float)), *y = malloc((size_t)on * sizeof(float));
    cr_assert_eq(rt_forward_eval(g, x, ref, batch), 0, "%s: reference failed", what);
    char err[512] = "";
    cg_compile_opts o = {.opt_level = opt, .passes = po};
    cg_jit *j = cg_jit_compile_ex(g, &o, err, sizeof err);
    cr_assert_not_null(j, "%s: %s", what, err);
    for (int64_t i = 0; i < on; i++) y[i] = NAN;
    cr_assert_eq(cg_jit_run(j, x, y, batch), 0);
    double e = rel_err(y, ref, on);
    cr_expect(e <= 1e-4, "%s (batch %d): relative error %g", what, batch, e);
    cg_jit_free(j);
    free(x);
    free(ref);
    free(y);
}

static void check_jit(const ir_graph *g, const char *what) {
    check_jit_opts(g, 1, NULL, CG_OPT_SEARCH, what);
    check_jit_opts(g, 7, NULL, CG_OPT_SEARCH, what);
}

/* ---------- graphs ---------- */

static tg *g_mlp(int in_c, int hidden, int units, ir_act a) {
    tg *t = tg_new();
    int x = tg_input(t, 3, in_c, 6, 6);
    x = tg_flatten(t, x);
    x = tg_dense(t, x, hidden, 1);
    x = tg_act(t, x, a);
    x = tg_dropout(t, x, 0.3f);
    x = tg_dense(t, x, units, 0);
    x = tg_unary(t, IR_SOFTMAX, x);
    tg_finish(t, x);
    return t;
}

static tg *g_cnn(void) {
    tg *t = tg_new();
    int x = tg_input(t, 3, 3, 12, 12);
    x = tg_conv(t, x, 8, 3, 1, 1, 1, 1, 0);
    x = tg_bn(t, x);
    x = tg_act(t, x, ACT_RELU);
    x = tg_pool(t, IR_MAXPOOL, x, 2, 2, 0);
    x = tg_conv(t, x, 16, 3, 2, 1, 2, 1, 1); /* stride 2, groups 2 */
    x = tg_bn(t, x);
    x = tg_act(t, x, ACT_SWISH);
    x = tg_pool(t, IR_AVGPOOL, x, 3, 1, 1); /* padding excluded from the mean */
    x = tg_gap(t, x);
    x = tg_dense(t, x, 10, 1);
    tg_finish(t, x);
    return t;
}

/* depthwise dilated conv, residual add, relu6/hswish */
static tg *g_resdw(void) {
    tg *t = tg_new();
    int x = tg_input(t, 3, 6, 10, 10);
    int a = tg_conv(t, x, 6, 3, 1, 2, 6, 2, 1); /* depthwise, dilation 2, pad 2 */
    a = tg_act(t, a, ACT_RELU6);
    int b = tg_conv(t, a, 6, 1, 1, 0, 1, 1, 1); /* pointwise */
    b = tg_bn(t, b);
    int xs[2] = {b, x};
    int s = tg_sum(t, 2, xs);
    s = tg_act(t, s, ACT_HSWISH);
    int m = tg_pool(t, IR_MAXPOOL, s, 3, 2, 1);
    tg_finish(t, tg_flatten(t, m));
    return t;
}

static tg *g_conv1d(void) {
    tg *t = tg_new();
    int x = tg_input(t, 2, 4, 32, 0);
    x = tg_conv(t, x, 8, 5, 1, 2, 1, 1, 1);
    x = tg_act(t, x, ACT_GELU);
    x = tg_pool(t, IR_MAXPOOL, x, 2, 2, 0);
    x = tg_conv(t, x, 8, 3, 2, 2, 4, 2, 0); /* stride 2, dilation 2, groups 4 */
    x = tg_bn(t, x);
    x = tg_act(t, x, ACT_TANH);
    x = tg_pool(t, IR_AVGPOOL, x, 3, 2, 1);
    x = tg_ln(t, x); /* over the last dim of [8, l] */
    x = tg_flatten(t, x);
    x = tg_dense(t, x, 5, 1);
    x = tg_act(t, x, ACT_SIGMOID);
    tg_finish(t, x);
    return t;
}

/* squeeze-excite both ways round, and a same-shape product */
static tg *g_se(void) {
    tg *t = tg_new();
    int x = tg_input(t, 3, 8, 6, 6);
    int c = tg_conv(t, x, 8, 3, 1, 1, 1, 1, 1);
    int s = tg_gap(t, c);
    s = tg_dense(t, s, 4, 1);
    s = tg_act(t, s, ACT_RELU);
    s = tg_dense(t, s, 8, 1);
    s = tg_act(t, s, ACT_SIGMOID);
    int m1 = tg_mul(t, c, s);
    int m2 = tg_mul(t, s, m1);
    int m3 = tg_mul(t, m2, x);
    tg_finish(t, tg_gap(t, m3));
    return t;
}

/* concat, n-ary add with a zero edge, layernorm and softmax on rank 2 */
static tg *g_concat(void) {
    tg *t = tg_new();
    int x = tg_input(t, 2, 4, 16, 0);
    int a = tg_conv(t, x, 4, 3, 1, 1, 1, 1, 1);
    int b = tg_conv(t, x, 2, 1, 1, 0, 1, 1, 0);
    b = tg_act(t, b, ACT_IDENTITY);
    int ab[2] = {a, b};
    int cat = tg_concat(t, 2, ab); /* [6, 16] */
    int z = tg_unary(t, IR_ZERO, cat);
    int c2 = tg_conv(t, x, 6, 3, 1, 1, 2, 1, 1);
    int xs[3] = {cat, z, c2};
    int s = tg_sum(t, 3, xs);
    s = tg_ln(t, s);
    s = tg_unary(t, IR_SOFTMAX, s);
    tg_finish(t, s);
    return t;
}

/* batchnorm that cannot fold: after an add, and after a conv read twice */
static tg *g_bn_unfoldable(void) {
    tg *t = tg_new();
    int x = tg_input(t, 3, 4, 5, 5);
    int c = tg_conv(t, x, 4, 3, 1, 1, 1, 1, 1);
    int b = tg_bn(t, c);
    int xs[3] = {b, c, x};
    int s = tg_sum(t, 3, xs);
    s = tg_bn(t, s);
    tg_finish(t, s);
    return t;
}

static void run_graph(tg *t, uint64_t seed, const char *what) {
    init_params(t, seed);
    check_jit(&t->g, what);
    tg_free(t);
}

Test(jit, mlp_every_activation) {
    for (int a = 0; a < ACT_COUNT; a++) {
        tg *t = g_mlp(2, 24, 10, (ir_act)a);
        init_params(t, 10 + a);
        check_jit(&t->g, ir_act_name((ir_act)a));
        tg_free(t);
    }
}
Test(jit, cnn_bn_pools) { run_graph(g_cnn(), 2, "cnn"); }
Test(jit, depthwise_dilated_residual) { run_graph(g_resdw(), 3, "resdw"); }
Test(jit, conv1d_pool1d_layernorm) { run_graph(g_conv1d(), 4, "conv1d"); }
Test(jit, squeeze_excite_mul) { run_graph(g_se(), 5, "se"); }
Test(jit, concat_add_zero_softmax) { run_graph(g_concat(), 6, "concat"); }
Test(jit, batchnorm_not_foldable) { run_graph(g_bn_unfoldable(), 7, "bn"); }

Test(jit, every_opt_level_and_no_passes) {
    tg *t = g_cnn();
    init_params(t, 8);
    ps_opts none = {.skip = {"fold-bn", "dce", "fuse-bn", "fuse-act", "fuse-add", "fuse-mul"}, .n_skip = 6};
    for (int lvl = 0; lvl <= 3; lvl++) check_jit_opts(&t->g, 3, NULL, lvl, "opt level");
    check_jit_opts(&t->g, 3, &none, 1, "no optional passes");
    tg_free(t);
}

Test(jit, batches_beyond_a_tile_use_gemm) {
    tg *t = g_mlp(3, 64, 12, ACT_RELU);
    init_params(t, 9);
    check_jit_opts(&t->g, 300, NULL, 2, "mlp batch 300"); /* 256 + 44: two tiles */
    check_jit_opts(&t->g, 40, NULL, 2, "mlp batch 40");
    tg_free(t);
    t = g_se();
    init_params(t, 10);
    check_jit_opts(&t->g, 257, NULL, 1, "se batch 257");
    tg_free(t);
}

/* Asymmetric kernel, stride, padding and dilation per axis. */
Test(jit, conv_asymmetric_strides_and_dilations) {
    int geo[][8] = {/* kh kw sh sw ph pw dh dw */
                    {3, 2, 2, 3, 1, 0, 1, 2},
                    {1, 5, 3, 1, 0, 2, 1, 1},
                    {3, 3, 2, 2, 2, 2, 2, 2},
                    {2, 2, 2, 2, 0, 0, 1, 1}};
    for (int k = 0; k < 4; k++) {
        int *q = geo[k];
        tg *t = tg_new();
        int x = tg_input(t, 3, 4, 13, 11);
        int c = tg_conv(t, x, 6, 1, 1, 0, 2, 1, 1);
        ir_node *n = &t->nodes[c];
        for (int a = 0; a < 2; a++) {
            n->kernel[a] = q[a];
            n->stride[a] = q[2 + a];
            n->pad[a] = q[4 + a];
            n->dilation[a] = q[6 + a];
            int64_t in = a ? 11 : 13;
            n->shape.d[1 + a] = (in + 2 * q[4 + a] - q[6 + a] * (q[a] - 1) - 1) / q[2 + a] + 1;
        }
        n->params[0].shape.d[2] = q[0];
        n->params[0].shape.d[3] = q[1];
        c = tg_act(t, c, ACT_RELU);
        tg_finish(t, tg_pool(t, IR_AVGPOOL, c, 2, 1, 1));
        init_params(t, 90 + k);
        check_jit(&t->g, "asymmetric conv");
        tg_free(t);
    }
}

/* pools that read the input directly (no producer to fuse into), both window kinds */
Test(jit, standalone_pools) {
    tg *t = tg_new();
    int x = tg_input(t, 3, 3, 9, 10);
    int a = tg_pool(t, IR_MAXPOOL, x, 2, 2, 0);
    int b = tg_pool(t, IR_AVGPOOL, x, 3, 3, 0);
    int c = tg_pool(t, IR_AVGPOOL, x, 3, 2, 1);
    int ab[3] = {tg_flatten(t, a), tg_flatten(t, b), tg_flatten(t, c)};
    tg_finish(t, tg_concat(t, 3, ab));
    run_graph(t, 12, "standalone pools");
}

Test(jit, identity_model_copies_input) {
    tg *t = tg_new();
    int x = tg_input(t, 3, 2, 3, 3);
    tg_finish(t, tg_flatten(t, tg_dropout(t, x, 0.5f)));
    run_graph(t, 11, "identity");
}

Test(jit, random_chains) {
    /* random stacks of conv/pool/act/bn on random shapes */
    for (int trial = 0; trial < 6; trial++) {
        rng_state = 1000 + trial;
        tg *t = tg_new();
        int c = 1 + (int)urand(0, 4), h = 6 + (int)urand(0, 8);
        int x = tg_input(t, 3, c, h, h + (int)urand(0, 3));
        for (int layer = 0; layer < 4; layer++) {
            int k = 1 + 2 * (int)urand(0, 2), groups = urand(0, 1) < 0.3f ? c : 1;
            int f = groups == c ? c : 2 + (int)urand(0, 6);
            int s = tg_sh(t, x)->d[1] > 6 && urand(0, 1) < 0.4f ? 2 : 1;
            x = tg_conv(t, x, f, k, s, k / 2, groups, 1, urand(0, 1) < 0.5f);
            c = f;
            if (urand(0, 1) < 0.6f) x = tg_bn(t, x);
            x = tg_act(t, x, (ir_act)(int)urand(0, ACT_COUNT));
            if (tg_sh(t, x)->d[1] >= 4 && urand(0, 1) < 0.4f)
                x = tg_pool(t, urand(0, 1) < 0.5f ? IR_MAXPOOL : IR_AVGPOOL, x, 2, 2, 0);
        }
        x = tg_flatten(t, x);
        x = tg_dense(t, x, 7, 1);
        tg_finish(t, x);
        init_params(t, 50 + trial);
        check_jit(&t->g, "random chain");
        tg_free(t);
    }
}

/* ---------- passes on their own ---------- */

static int count_op(const ir_graph *g, ir_op op) {
    int k = 0;
    for (int i = 0; i < g->n_nodes; i++) k += g->nodes[i].op == op;
    return k;
}

/* The reference executor on two graphs with the same input. */
static void same_outputs(const ir_graph *a, const ir_graph *b, int batch) {
    float *x = rand_input(a, batch);
    int64_t on = ir_shape_numel(&a->nodes[a->output].shape) * batch;
    cr_assert_eq(on, ir_shape_numel(&b->nodes[b->output].shape) * batch);
    float *ya = malloc((size_t)on * sizeof(float)), *yb = malloc((size_t)on * sizeof(float));
    cr_assert_eq(rt_forward_eval(a, x, ya, batch), 0);
    cr_assert_eq(rt_forward_eval(b, x, yb, batch), 0);
    double e = rel_err(yb, ya, on);
    cr_expect(e <= 1e-4, "relative error %g", e);
    free(x);
    free(ya);
    free(yb);
}

Test(passes, fold_bn_into_conv_and_dense) {
    tg *t = tg_new();
    int x = tg_input(t, 3, 3, 8, 8);
    x = tg_conv(t, x, 6, 3, 1, 1, 1, 1, 0); /* no bias: folding creates one */
    x = tg_bn(t, x);
    x = tg_act(t, x, ACT_RELU);
    x = tg_flatten(t, x);
    x = tg_dense(t, x, 9, 1);
    x = tg_bn(t, x);
    tg_finish(t, x);
    init_params(t, 21);
    ps_state ps;
    char err[256];
    cr_assert_eq(ps_state_init(&ps, &t->g, NULL, err, sizeof err), 0, "%s", err);
    cr_assert_eq(ps_pass_fold_bn(&ps, err, sizeof err), 0, "%s", err);
    cr_expect_null(ir_graph_verify(&ps.g, 0, (char[256]){0}, 256));
    cr_expect_eq(count_op(&ps.g, IR_BATCHNORM), 0);
    cr_expect_eq(ps.g.n_nodes, t->g.n_nodes - 2);
    cr_expect(ps.g.nodes[1].bias, "the conv gained a bias");
    same_outputs(&t->g, &ps.g, 3);
    /* the caller's graph is untouched */
    cr_expect_eq(count_op(&t->g, IR_BATCHNORM), 2);
    cr_expect_not(t->g.nodes[1].bias);
    ps_state_free(&ps);
    tg_free(t);
}

Test(passes, fold_bn_skips_shared_producer) {
    tg *t = g_bn_unfoldable();
    init_params(t, 22);
    ps_state ps;
    char err[256];
    cr_assert_eq(ps_state_init(&ps, &t->g, NULL, err, sizeof err), 0, "%s", err);
    cr_assert_eq(ps_pass_fold_bn(&ps, err, sizeof err), 0);
    cr_expect_eq(count_op(&ps.g, IR_BATCHNORM), 2, "neither batchnorm may fold");
    same_outputs(&t->g, &ps.g, 2);
    ps_state_free(&ps);
    tg_free(t);
}

Test(passes, dce_removes_zero_edges_and_identities) {
    tg *t = g_concat();
    int x = t->g.output;
    x = tg_dropout(t, x, 0.2f);
    x = tg_act(t, x, ACT_IDENTITY);
    tg_finish(t, x);
    init_params(t, 23);
    ps_state ps;
    char err[256];
    cr_assert_eq(ps_state_init(&ps, &t->g, NULL, err, sizeof err), 0, "%s", err);
    cr_assert_eq(ps_pass_dce(&ps, err, sizeof err), 0, "%s", err);
    cr_expect_null(ir_graph_verify(&ps.g, 0, (char[256]){0}, 256));
    cr_expect_eq(count_op(&ps.g, IR_ZERO), 0);
    cr_expect_eq(count_op(&ps.g, IR_DROPOUT), 0);
    cr_expect_eq(count_op(&ps.g, IR_ACT), 0, "identity activations are gone");
    for (int i = 0; i < ps.g.n_nodes; i++)
        if (ps.g.nodes[i].op == IR_ADD) cr_expect_eq(ps.g.nodes[i].n_in, 2);
    same_outputs(&t->g, &ps.g, 2);
    ps_state_free(&ps);
    tg_free(t);
}

/* Runs the pipeline with only `keep` among the fusions. */
static ps_state *pipeline_only(const ir_graph *g, const char *keep) {
    static ps_opts o;
    const char *all[] = {"fuse-bn", "fuse-act", "fuse-add", "fuse-mul", "fuse-pool"};
    o.n_skip = 0;
    for (int i = 0; i < 5; i++)
        if (!keep || strcmp(all[i], keep)) o.skip[o.n_skip++] = all[i];
    ps_state *ps = malloc(sizeof *ps);
    char err[256];
    cr_assert_eq(ps_state_init(ps, g, &o, err, sizeof err), 0, "%s", err);
    cr_assert_eq(ps_run_pipeline(ps, NULL, NULL, err, sizeof err), 0, "%s", err);
    return ps;
}

static int fused_epis(const ps_state *ps, ps_epi_kind k) {
    int n = 0;
    for (int i = 0; i < ps->lg->n; i++)
        for (int e = 0; e < ps->lg->nodes[i].n_epi; e++) n += ps->lg->nodes[i].epi[e].kind == k;
    return n;
}

static void check_fusion(tg *t, const char *pass, ps_epi_kind kind, int expect_min, int also) {
    ps_state *ps = pipeline_only(&t->g, pass);
    cr_expect_geq(fused_epis(ps, kind), expect_min, "%s fused %d", pass, fused_epis(ps, kind));
    for (int k = 0; k <= PS_EPI_AFFINE; k++)
        if (k != (int)kind && k != also)
            cr_expect_eq(fused_epis(ps, (ps_epi_kind)k), 0, "%s fused something else", pass);
    ps_state_free(ps);
    free(ps);
    ps_opts o = {.n_skip = 0};
    const char *all[] = {"fuse-bn", "fuse-act", "fuse-add", "fuse-mul", "fuse-pool"};
    for (int i = 0; i < 5; i++)
        if (strcmp(all[i], pass)) o.skip[o.n_skip++] = all[i];
    check_jit_opts(&t->g, 3, &o, 1, pass);
}

Test(fusion, activation) {
    tg *t = g_cnn();
    init_params(t, 31);
    check_fusion(t, "fuse-act", PS_EPI_ACT, 2, -1);
    tg_free(t);
}
Test(fusion, residual_add) {
    tg *t = g_resdw();
    init_params(t, 32);
    check_fusion(t, "fuse-add", PS_EPI_ADD, 1, -1);
    tg_free(t);
}
Test(fusion, batchnorm_affine) {
    tg *t = g_bn_unfoldable();
    init_params(t, 33);
    check_fusion(t, "fuse-bn", PS_EPI_AFFINE, 1, -1);
    tg_free(t);
}
Test(fusion, mul_both_forms) {
    tg *t = g_se();
    init_params(t, 34);
    ps_state *ps = pipeline_only(&t->g, "fuse-mul");
    cr_expect_geq(fused_epis(ps, PS_EPI_MULC), 1);
    cr_expect_geq(fused_epis(ps, PS_EPI_MUL), 1);
    ps_state_free(ps);
    free(ps);
    check_fusion(t, "fuse-mul", PS_EPI_MULC, 1, PS_EPI_MUL);
    tg_free(t);
}

static int pooled(const ps_state *ps) {
    int n = 0;
    for (int i = 0; i < ps->lg->n; i++) n += ps->lg->nodes[i].pool >= 0;
    return n;
}

Test(fusion, pooling) {
    tg *t = tg_new();
    int x = tg_input(t, 3, 3, 11, 11);
    x = tg_conv(t, x, 5, 3, 1, 1, 1, 1, 1);
    x = tg_pool(t, IR_MAXPOOL, x, 3, 2, 1);
    x = tg_conv(t, x, 4, 3, 2, 0, 1, 1, 0);
    x = tg_pool(t, IR_AVGPOOL, x, 2, 1, 1); /* padded average */
    tg_finish(t, tg_flatten(t, x));
    init_params(t, 36);
    ps_state *ps = pipeline_only(&t->g, "fuse-pool");
    cr_expect_eq(pooled(ps), 2, "both pools fused");
    cr_expect_eq(ps->lg->nodes[1].numel, 5 * 6 * 6, "the conv's value is the pooled one");
    ps_state_free(ps);
    free(ps);
    check_fusion(t, "fuse-pool", PS_EPI_ACT, 0, -1);
    check_jit(&t->g, "pool fusion, all passes");
    tg_free(t);
    t = tg_new(); /* 1-D, after a fused activation */
    x = tg_input(t, 2, 3, 20, 0);
    x = tg_act(t, tg_conv(t, x, 6, 3, 1, 1, 1, 1, 1), ACT_GELU);
    x = tg_pool(t, IR_AVGPOOL, x, 3, 2, 1);
    x = tg_act(t, x, ACT_TANH);
    tg_finish(t, x);
    init_params(t, 37);
    ps_state s2;
    char err[256];
    cr_assert_eq(ps_state_init(&s2, &t->g, NULL, err, sizeof err), 0);
    cr_assert_eq(ps_run_pipeline(&s2, NULL, NULL, err, sizeof err), 0, "%s", err);
    const ps_lnode *c = &s2.lg->nodes[1];
    cr_expect(c->pool == 3 && c->n_epi_pre == 1 && c->n_epi == 2, "gelu before, tanh after the pool");
    ps_state_free(&s2);
    check_jit(&t->g, "1-D pool fusion");
    tg_free(t);
}

Test(fusion, all_together_give_one_loop_nest) {
    tg *t = g_resdw();
    init_params(t, 35);
    ps_state *ps = pipeline_only(&t->g, NULL);
    ps_state_free(ps);
    free(ps);
    char err[256];
    ps_state s2;
    cr_assert_eq(ps_state_init(&s2, &t->g, NULL, err, sizeof err), 0);
    cr_assert_eq(ps_run_pipeline(&s2, NULL, NULL, err, sizeof err), 0, "%s", err);
    /* pointwise conv + bias + add + hswish: one producer with two steps */
    bool found = false;
    for (int i = 0; i < s2.lg->n; i++) {
        const ps_lnode *n = &s2.lg->nodes[i];
        if (n->op == IR_CONV2D && n->n_epi == 2 && n->epi[0].kind == PS_EPI_ADD &&
            n->epi[1].kind == PS_EPI_ACT)
            found = true;
    }
    cr_expect(found, "conv+bn folded, add and hswish fused");
    ps_state_free(&s2);
    tg_free(t);
}

/* ---------- memory plan ---------- */

static void check_plan(const ir_graph *g) {
    ps_state ps;
    char err[256];
    cr_assert_eq(ps_state_init(&ps, g, NULL, err, sizeof err), 0, "%s", err);
    cr_assert_eq(ps_run_pipeline(&ps, NULL, NULL, err, sizeof err), 0, "%s", err);
    const ps_lgraph *lg = ps.lg;
    int n = lg->n, out = ps_root(lg, lg->output);
    int def[n], last[n];
    bool arena[n];
    int64_t total = 0;
    /* recompute liveness independently: who reads each buffer, and when */
    for (int i = 0; i < n; i++) {
        const ps_lnode *v = &lg->nodes[i];
        arena[i] = v->view_of < 0 && v->fused_into < 0 && v->op != IR_INPUT && i != out;
        def[i] = last[i] = v->pos;
        if (arena[i]) total += v->numel;
    }
    for (int i = 0; i < n; i++) {
        const ps_lnode *v = &lg->nodes[i];
        if (v->view_of >= 0 || v->fused_into >= 0) continue;
        for (int j = 0; j < v->n_in; j++) {
            int r = ps_root(lg, v->in[j]);
            if (last[r] < v->pos) last[r] = v->pos;
        }
        for (int e = 0; e < v->n_epi; e++)
            if (v->epi[e].kind == PS_EPI_ADD || v->epi[e].kind == PS_EPI_MUL ||
                v->epi[e].kind == PS_EPI_MULC) {
                int r = ps_root(lg, v->epi[e].src);
                cr_expect_lt(lg->nodes[r].pos, v->pos, "epilogue source computed first");
                if (last[r] < v->pos) last[r] = v->pos;
            }
    }
    for (int a = 0; a < n; a++)
        for (int b = a + 1; b < n; b++) {
            if (!arena[a] || !arena[b]) continue;
            bool live = !(last[a] < def[b] || last[b] < def[a]);
            const ps_lnode *x = &lg->nodes[a], *y = &lg->nodes[b];
            bool overlap = x->offset < y->offset + y->numel && y->offset < x->offset + x->numel;
            cr_expect_not(live && overlap, "values %d and %d are live together and overlap", a, b);
        }
    for (int i = 0; i < n; i++)
        if (arena[i]) cr_expect_leq(lg->nodes[i].offset + lg->nodes[i].numel, lg->arena);
    cr_expect_leq(lg->arena, total + 16 * n, "arena no larger than all buffers");
    ps_state_free(&ps);
}

Test(memory_plan, never_overlaps_live_buffers) {
    tg *graphs[] = {
        g_cnn(), g_resdw(), g_conv1d(), g_se(), g_concat(), g_bn_unfoldable(), g_mlp(2, 8, 3, ACT_GELU)};
    for (size_t i = 0; i < sizeof graphs / sizeof graphs[0]; i++) {
        init_params(graphs[i], 40 + i);
        check_plan(&graphs[i]->g);
        tg_free(graphs[i]);
    }
}

Test(memory_plan, chain_reuses_buffers) {
    tg *t = tg_new();
    int x = tg_input(t, 3, 4, 8, 8);
    for (int i = 0; i < 6; i++) {
        x = tg_conv(t, x, 4, 3, 1, 1, 1, 1, 1);
        x = tg_pool(t, IR_MAXPOOL, x, 3, 1, 1); /* not fusable: a buffer each */
    }
    tg_finish(t, tg_gap(t, x));
    init_params(t, 41);
    ps_state ps;
    char err[256];
    cr_assert_eq(ps_state_init(&ps, &t->g, NULL, err, sizeof err), 0);
    cr_assert_eq(ps_run_pipeline(&ps, NULL, NULL, err, sizeof err), 0, "%s", err);
    cr_expect_leq(ps.lg->arena, 2 * 256, "a chain needs two buffers, got %lld floats",
                  (long long)ps.lg->arena);
    ps_state_free(&ps);
    check_plan(&t->g);
    check_jit(&t->g, "chain");
    tg_free(t);
}

/* ---------- dumps, benchmarks, errors ---------- */

Test(passes, dump_after_each_pass) {
    tg *t = g_resdw();
    init_params(t, 51);
    int np;
    const ps_pass *p = ps_pipeline(&np);
    cr_assert_geq(np, 6);
    for (int i = 0; i < np; i++) {
        char *buf = NULL, err[256];
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        cg_compile_opts o = {.opt_level = 1, .dump_after = p[i].name, .dump = f};
        cg_jit *j = cg_jit_compile_ex(&t->g, &o, err, sizeof err);
        fclose(f);
        cr_expect_not_null(j, "%s", err);
        cr_expect_not_null(strstr(buf, p[i].name), "dump names the pass");
        if (!strcmp(p[i].name, "fuse-act")) cr_expect_not_null(strstr(buf, "| hswish"), "%s", buf);
        if (!strcmp(p[i].name, "plan-memory")) cr_expect_not_null(strstr(buf, "arena"), "%s", buf);
        free(buf);
        cg_jit_free(j);
    }
    char err[256];
    cg_compile_opts o = {.opt_level = 1, .dump_after = "no-such-pass", .dump = stderr};
    cr_expect_null(cg_jit_compile_ex(&t->g, &o, err, sizeof err));
    cr_expect_not_null(strstr(err, "no-such-pass"));
    tg_free(t);
}

Test(jit, bench_reports_latency_and_throughput) {
    tg *t = g_mlp(4, 32, 10, ACT_RELU);
    init_params(t, 61);
    char err[256];
    cg_jit *j = cg_jit_compile(&t->g, CG_OPT_SEARCH, err, sizeof err);
    cr_assert_not_null(j, "%s", err);
    cr_expect_eq(cg_jit_input_numel(j), 4 * 36);
    cr_expect_eq(cg_jit_output_numel(j), 10);
    cr_expect_gt(cg_jit_compile_ms(j), 0);
    cg_bench_result r;
    cr_assert_eq(cg_bench(j, 40, &r, err, sizeof err), 0, "%s", err);
    cr_expect(r.latency_us > 0 && r.latency_us < 1e5, "latency %g us", r.latency_us);
    cr_expect(r.throughput > 0, "throughput %g", r.throughput);
    cg_jit_free(j);
    tg_free(t);
}

Test(errors, bad_graphs_give_messages) {
    char err[256];
    tg *t = g_mlp(1, 8, 3, ACT_RELU);
    init_params(t, 71);
    /* a weight without data */
    float *w = t->g.nodes[2].params[0].data;
    t->g.nodes[2].params[0].data = NULL;
    err[0] = 0;
    cr_expect_null(cg_jit_compile(&t->g, 1, err, sizeof err));
    cr_expect_not_null(strstr(err, "weight"), "%s", err);
    t->g.nodes[2].params[0].data = w;
    /* a forward reference */
    t->g.nodes[2].in[0] = 4;
    cr_expect_null(cg_jit_compile(&t->g, 1, err, sizeof err));
    cr_expect_not_null(strstr(err, "invalid graph"), "%s", err);
    t->g.nodes[2].in[0] = 1;
    /* a wrong output shape */
    t->g.nodes[2].shape.d[0] = 5;
    cr_expect_null(cg_jit_compile(&t->g, 1, err, sizeof err));
    cr_expect_not_null(strstr(err, "units"), "%s", err);
    t->g.nodes[2].shape.d[0] = 8;
    cr_expect_null(cg_jit_compile(NULL, 1, err, sizeof err));
    cr_expect_eq(cg_jit_run(NULL, NULL, NULL, 1), -1);
    cg_jit *j = cg_jit_compile(&t->g, 1, err, sizeof err);
    cr_assert_not_null(j, "%s", err);
    cr_expect_eq(cg_jit_run(j, NULL, NULL, 2), -1);
    cr_expect_eq(cg_jit_run(j, NULL, NULL, 0), 0);
    cg_jit_free(j);
    tg_free(t);
}

/* ---------- sequence ops (issue 15) ---------- */

static tg *g_linear_gelu(int t_, int d, int units) {
    tg *t = tg_new();
    int x = tg_input(t, 2, t_, d, 0);
    int a = tg_act(t, tg_linear(t, x, units), ACT_GELU);
    tg_finish(t, tg_linear(t, a, 5));
    return t;
}

static tg *g_attention(int t_, int d, int heads, int hd, int causal) {
    tg *t = tg_new();
    int x = tg_input(t, 2, t_, d, 0);
    int a = tg_attention(t, x, heads, hd, causal);
    int res[2] = {a, x};
    tg_finish(t, tg_sum(t, 2, res)); /* the residual add fuses into the output projection */
    return t;
}

Test(jit, linear_per_token) {
    run_graph(g_linear_gelu(5, 7, 9), 11, "linear small");
    run_graph(g_linear_gelu(16, 48, 144), 12, "linear gemm-sized");
}
Test(jit, attention) {
    run_graph(g_attention(6, 8, 2, 4, 0), 13, "attention");
    run_graph(g_attention(16, 48, 1, 48, 0), 14, "attention one head");
    run_graph(g_attention(7, 8, 3, 2, 1), 15, "attention causal decoupled");
}

/* patches -> linear -> learned positions -> transpose twice -> matmul
 * with itself transposed -> mean over tokens; and token ids through an
 * embedding with sinusoidal positions. */
Test(jit, patches_positional_matmul_mean) {
    tg *t = tg_new();
    int x = tg_input(t, 3, 2, 8, 4);
    int p = tg_seq1(t, IR_PATCHES, x, tg_shape(2, 8, 8, 0));
    t->nodes[p].kernel[0] = 2;
    int l = tg_linear(t, p, 6);
    ir_node *pos = tg_add_node(t, IR_POSITIONAL, 1, &l, tg_shape(2, 8, 6, 0));
    tg_param(t, pos, PARAM_WEIGHT, tg_shape(2, 8, 6, 0), "weight");
    int tr = tg_seq1(t, IR_TRANSPOSE, pos->id, tg_shape(2, 6, 8, 0));
    int mm[2] = {pos->id, tr};
    int m = tg_add_node(t, IR_MATMUL, 2, mm, tg_shape(2, 8, 8, 0))->id;
    tg_finish(t, tg_seq1(t, IR_MEAN_TOKENS, m, tg_shape(1, 8, 0, 0)));
    run_graph(t, 16, "patches");
}

Test(jit, embedding_sinusoidal) {
    tg *t = tg_new();
    int x = tg_input(t, 1, 5, 0, 0);
    int e = tg_embedding(t, x, 4, 6);
    int s = tg_seq1(t, IR_POSITIONAL, e, tg_shape(2, 5, 6, 0));
    t->nodes[s].sinusoidal = true;
    tg_finish(t, tg_seq1(t, IR_MEAN_TOKENS, s, tg_shape(1, 6, 0, 0)));
    init_params(t, 17);
    float ids[10] = {0, 3, 2, 1, 1, 3, 3, 0, 2, 2}, ref[12], y[12];
    cr_assert_eq(rt_forward_eval(&t->g, ids, ref, 2), 0);
    char err[256];
    cg_jit *j = cg_jit_compile(&t->g, CG_OPT_SEARCH, err, sizeof err);
    cr_assert_not_null(j, "%s", err);
    cr_assert_eq(cg_jit_run(j, ids, y, 2), 0);
    cr_expect_leq(rel_err(y, ref, 12), 1e-5);
    /* out-of-vocabulary ids are clamped, never read outside the weights */
    float wild[10] = {-5, 1e30f, NAN, 4, 3.5f, 0, 0, 0, 0, 0};
    cr_assert_eq(cg_jit_run(j, wild, y, 2), 0);
    cg_jit_free(j);
    tg_free(t);
}

/* One encoder layer, post-norm (layernorm after each residual add) or
 * pre-norm, on 16 tokens, then the classifier head. */
static tg *g_encoder(int d, int heads, int prenorm) {
    tg *t = tg_new();
    int x = tg_input(t, 2, 16, 49, 0);
    int h = tg_linear(t, x, d);
    int m = prenorm ? tg_ln(t, h) : h;
    int a = tg_attention(t, m, heads, d / heads, 0);
    int r1[2] = {h, a};
    int y = tg_sum(t, 2, r1);
    if (!prenorm) y = tg_ln(t, y);
    int f = prenorm ? tg_ln(t, y) : y;
    f = tg_linear(t, tg_act(t, tg_linear(t, f, 2 * d), ACT_GELU), d);
    int r2[2] = {y, f};
    int z = tg_sum(t, 2, r2);
    if (!prenorm) z = tg_ln(t, z);
    int mt = tg_seq1(t, IR_MEAN_TOKENS, tg_ln(t, z), tg_shape(1, d, 0, 0));
    tg_finish(t, tg_dense(t, mt, 10, 1));
    return t;
}

Test(jit, encoder_layer_pre_and_post_norm) {
    run_graph(g_encoder(48, 2, 1), 18, "encoder prenorm");
    run_graph(g_encoder(48, 2, 0), 19, "encoder postnorm");
    run_graph(g_encoder(64, 4, 0), 20, "encoder postnorm 64");
}
