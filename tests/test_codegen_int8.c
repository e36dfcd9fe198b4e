/* test_codegen_int8.c: the int8 quantisation pass and kernels.
 *
 *  - exact: on tensors whose scales are powers of two (weights near k/128,
 *    inputs near k/32, the largest exact), every output of every int8 kernel
 *    (dense, conv2d with stride/padding/dilation, grouped, depthwise,
 *    conv1d) equals the int32 sum of the same int8 tensors times 2^-12,
 *    bit for bit, for each dot-product flavour this CPU can run;
 *  - networks: int8 vs fp32 within the quantisation error;
 *  - the pass: its verifier, a network with nothing to quantise, an empty
 *    calibration set;
 *  - VNNI: assembly for a VNNI CPU contains vpdpbusd, AVX2 vpmaddubsw.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "calib.h"
#include "cg_int8.h"
#include "codegen.h"
#include "exec.h"
#include "passes.h"
#include "rt_testgraph.h"

static uint64_t rng = 1;
static int64_t irand(int64_t n) {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (int64_t)((rng >> 33) % (uint64_t)n);
}
/* An int8 value in [-127, 127], extremes often (saturation would show). */
static int q127(void) {
    int64_t r = irand(10);
    return r == 0 ? 127 : r == 1 ? -127 : (int)irand(255) - 127;
}

typedef struct calib_in {
    const float *x;
    int64_t n;
} calib_in;
static int calibrate(void *ctx, const ir_graph *g, float *amin, float *amax, char *err, size_t cap) {
    const calib_in *c = ctx;
    return rt_calib_ranges(g, c->x, c->n, amin, amax, err, cap);
}

/* Compiles g in int8 with calibration on x[0..n) and the given isa (1 + kind). */
static cg_jit *compile_q(const ir_graph *g, const float *x, int64_t n, int isa, char *err, size_t cap) {
    static calib_in ci;
    ci.x = x;
    ci.n = n;
    static ps_opts po;
    memset(&po, 0, sizeof po);
    po.quant = PS_QUANT_INT8;
    po.calibrate = calibrate;
    po.calib_ctx = &ci;
    cg_compile_opts o = {0};
    o.opt_level = CG_OPT_SEARCH;
    o.passes = &po;
    o.i8_isa = isa;
    return cg_jit_compile_ex(g, &o, err, cap);
}

/* A value that quantises to v (scale 1): v plus an offset of up to 0.4
 * towards zero, so fp32 arithmetic on it would not give the int8 sums. */
static float near(int v) {
    float d = (float)(irand(9) - 4) / 10.0f;
    if (v == 127 || v == -127) d = -fabsf(d) * (float)(v > 0 ? 1 : -1);
    return (float)v + d;
}

/* Fills the weight of node id with values near k/128 (each row holding an
 * exact +-127, which sets its scale to 1/128) and the quantised copy wq;
 * returns the row length. */
static int64_t exact_weights(tg *t, int id, int *wq) {
    ir_param *w = &t->g.nodes[id].params[0];
    int64_t oc = w->shape.d[0], k = ir_shape_numel(&w->shape) / oc;
    for (int64_t o = 0; o < oc; o++)
        for (int64_t j = 0; j < k; j++) {
            bool top = j == o % k;
            int v = top ? (o % 2 ? -127 : 127) : q127();
            wq[o * k + j] = v;
            w->data[o * k + j] = (top ? (float)v : near(v)) / 128.0f;
        }
    return k;
}

static bool unsigned_inputs; /* exact tests on inputs >= 0: the kernels' unsigned path */
static float *exact_inputs(int64_t numel, int batch, int *xq) {
    float *x = malloc((size_t)(numel * batch) * sizeof *x);
    for (int64_t i = 0; i < numel * batch; i++) {
        xq[i] = i == 0 ? -127 : q127();
        if (unsigned_inputs) xq[i] = xq[i] < 0 ? -xq[i] : xq[i];
        x[i] = (i == 0 ? (float)xq[0] : near(xq[i])) / 32.0f;
    }
    return x;
}

/* The int32 reference of a convolution (rank 3 or 2 input) at sample b. */
static void conv_ref(const ir_node *n, const ir_shape *xs, const int *xq, const int *wq, float *y) {
    bool two = xs->rank == 3;
    int64_t C = xs->d[0], H = two ? xs->d[1] : 1, W = xs->d[xs->rank - 1];
    int64_t F = n->filters, OH = two ? n->shape.d[1] : 1, OW = n->shape.d[n->shape.rank - 1];
    int64_t KH = two ? n->kernel[0] : 1, KW = n->kernel[two ? 1 : 0];
    int64_t SH = two ? n->stride[0] : 1, SW = n->stride[two ? 1 : 0], PH = two ? n->pad[0] : 0,
            PW = n->pad[two ? 1 : 0], DH = two ? n->dilation[0] : 1, DW = n->dilation[two ? 1 : 0];
    int64_t G = n->groups, cg = C / G, fg = F / G;
    for (int64_t f = 0; f < F; f++)
        for (int64_t oh = 0; oh < OH; oh++)
            for (int64_t ow = 0; ow < OW; ow++) {
                int64_t acc = 0;
                for (int64_t i = 0; i < cg; i++)
                    for (int64_t kh = 0; kh < KH; kh++)
                        for (int64_t kw = 0; kw < KW; kw++) {
                            int64_t h = oh * SH - PH + kh * DH, w = ow * SW - PW + kw * DW;
                            if (h < 0 || h >= H || w < 0 || w >= W) continue;
                            int64_t ic = f / fg * cg + i;
                            acc += (int64_t)wq[((f * cg + i) * KH + kh) * KW + kw] * xq[(ic * H + h) * W + w];
                        }
                cr_assert(acc > INT32_MIN && acc < INT32_MAX);
                y[(f * OH + oh) * OW + ow] = (float)((double)acc / 4096.0);
            }
}

typedef enum { L_DENSE, L_CONV } layer_kind;

/* One layer alone; every output equals the reference exactly. */
static void check_exact(tg *t, int layer, int isa, const char *what) {
    ir_graph *g = &t->g;
    cr_assert_eq(rt_params_init(g, INIT_KAIMING, 3), 0);
    const ir_node *n = &g->nodes[layer];
    const ir_shape *xs = &g->nodes[n->in[0]].shape;
    int64_t in = ir_shape_numel(xs), out = ir_shape_numel(&n->shape);
    int batch = 3;
    int *wq = malloc((size_t)ir_shape_numel(&n->params[0].shape) * sizeof *wq);
    int *xq = malloc((size_t)(in * batch) * sizeof *xq);
    int64_t k = exact_weights(t, layer, wq);
    float *x = exact_inputs(in, batch, xq);
    float *y = malloc((size_t)(out * batch) * sizeof *y), *ref = malloc((size_t)(out * batch) * sizeof *ref);
    for (int b = 0; b < batch; b++) {
        if (n->op == IR_DENSE)
            for (int64_t u = 0; u < out; u++) {
                int64_t acc = 0;
                for (int64_t j = 0; j < k; j++) acc += (int64_t)wq[u * k + j] * xq[b * in + j];
                ref[b * out + u] = (float)((double)acc / 4096.0);
            }
        else
            conv_ref(n, xs, xq + b * in, wq, ref + b * out);
    }
    char err[512] = "";
    cg_jit *j = compile_q(g, x, batch, isa, err, sizeof err);
    cr_assert_not_null(j, "%s: %s", what, err);
    cr_assert_eq(cg_jit_run(j, x, y, batch), 0);
    for (int64_t i = 0; i < out * batch; i++)
        cr_assert_eq(y[i], ref[i], "%s (%s): output %lld is %.9g, the int32 reference %.9g", what,
                     cg_i8_isa_name(isa - 1), (long long)i, (double)y[i], (double)ref[i]);
    cg_jit_free(j);
    free(wq);
    free(xq);
    free(x);
    free(y);
    free(ref);
    rt_params_free(g);
}

/* The flavours this CPU runs (1 + kind). */
static int isas(int *out) {
    int n = 0, host = cg_i8_isa(NULL, NULL);
    for (int k = CG_I8_GENERIC; k <= host; k++) out[n++] = 1 + k;
    return n;
}

static void exact_all(tg *(*make)(int *layer), const char *what) {
    int is[3], n = isas(is);
    for (int u = 0; u < 2; u++)
        for (int i = 0; i < n; i++) {
            unsigned_inputs = u;
            int layer;
            tg *t = make(&layer);
            check_exact(t, layer, is[i], what);
            tg_free(t);
        }
}

static tg *one_dense(int *layer) {
    tg *t = tg_new();
    int x = tg_flatten(t, tg_input(t, 3, 1, 10, 13)); /* K = 130: 5 vectors, padded */
    tg_finish(t, *layer = tg_dense(t, x, 7, 0));      /* 7 units: a block of 4 and 3 single ones */
    return t;
}
static tg *one_conv(int *layer) {
    tg *t = tg_new();
    int x = tg_input(t, 3, 3, 9, 11);
    tg_finish(t, *layer = tg_conv(t, x, 8, 3, 2, 1, 1, 1, 0));
    return t;
}
static tg *one_dilated(int *layer) {
    tg *t = tg_new();
    int x = tg_input(t, 3, 5, 12, 12);
    tg_finish(t, *layer = tg_conv(t, x, 6, 3, 1, 2, 1, 2, 0));
    return t;
}
static tg *one_grouped(int *layer) {
    tg *t = tg_new();
    int x = tg_input(t, 3, 6, 8, 8);
    tg_finish(t, *layer = tg_conv(t, x, 4, 3, 1, 1, 2, 1, 0));
    return t;
}
static tg *one_depthwise(int *layer) {
    tg *t = tg_new();
    int x = tg_input(t, 3, 8, 7, 7);
    tg_finish(t, *layer = tg_conv(t, x, 8, 5, 1, 2, 8, 1, 0)); /* 25 taps (3x3 stays fp32) */
    return t;
}
static tg *one_conv1d(int *layer) {
    tg *t = tg_new();
    int x = tg_input(t, 2, 4, 20, 0);
    tg_finish(t, *layer = tg_conv(t, x, 5, 5, 2, 2, 1, 1, 0));
    return t;
}
static tg *one_big(int *layer) { /* 64 input channels: taps past one vector and 2 output blocks */
    tg *t = tg_new();
    int x = tg_input(t, 3, 64, 5, 5);
    tg_finish(t, *layer = tg_conv(t, x, 8, 3, 1, 0, 1, 1, 0));
    return t;
}

Test(int8, dense_exact) { exact_all(one_dense, "dense"); }
Test(int8, conv_exact) { exact_all(one_conv, "conv2d stride 2"); }
Test(int8, dilated_exact) { exact_all(one_dilated, "conv2d dilation 2"); }
Test(int8, grouped_exact) { exact_all(one_grouped, "grouped conv"); }
Test(int8, depthwise_exact) { exact_all(one_depthwise, "depthwise conv"); }
Test(int8, conv1d_exact) { exact_all(one_conv1d, "conv1d"); }
Test(int8, wide_conv_exact) { exact_all(one_big, "conv2d 64 channels"); }

/* ---------- networks: int8 within the quantisation error of fp32 ---------- */

static float *uniform(int64_t n) {
    float *x = malloc((size_t)n * sizeof *x);
    for (int64_t i = 0; i < n; i++) x[i] = (float)irand(1 << 20) / (float)(1 << 20);
    return x;
}

static double rel_err(const float *a, const float *ref, int64_t n) {
    double md = 0, mr = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - ref[i]);
        if (!(d <= md)) md = d;
        if (fabs(ref[i]) > mr) mr = fabs(ref[i]);
    }
    return md / (mr > 1e-6 ? mr : 1e-6);
}

static void check_net(tg *t, int batch, double tol, const char *what) {
    ir_graph *g = &t->g;
    cr_assert_eq(rt_params_init(g, INIT_KAIMING, 11), 0);
    int64_t in = ir_shape_numel(&g->nodes[g->input].shape), out = ir_shape_numel(&g->nodes[g->output].shape);
    float *x = uniform(in * batch), *y = malloc((size_t)(out * batch) * sizeof *y),
          *ref = malloc((size_t)(out * batch) * sizeof *ref);
    cr_assert_eq(rt_forward_eval(g, x, ref, batch), 0);
    int is[3], n = isas(is);
    for (int i = 0; i < n; i++) {
        char err[512] = "";
        cg_jit *j = compile_q(g, x, batch < 64 ? batch : 64, is[i], err, sizeof err);
        cr_assert_not_null(j, "%s: %s", what, err);
        cr_assert_eq(cg_jit_run(j, x, y, batch), 0);
        double e = rel_err(y, ref, out * batch);
        cr_expect(e < tol, "%s (%s): int8 vs fp32 relative error %g (bound %g)", what,
                  cg_i8_isa_name(is[i] - 1), e, tol);
        cr_expect(e > 0, "%s: int8 output equals fp32 exactly: was it quantised?", what);
        cg_jit_free(j);
    }
    free(x);
    free(y);
    free(ref);
    rt_params_free(g);
}

Test(int8, mlp_within_quantisation_error) {
    tg *t = tg_new();
    int x = tg_flatten(t, tg_input(t, 3, 1, 28, 28));
    x = tg_act(t, tg_dense(t, x, 64, 1), ACT_RELU);
    tg_finish(t, tg_dense(t, x, 10, 1));
    check_net(t, 300, 0.03, "MLP"); /* 300: two tiles */
    tg_free(t);
}

Test(int8, cnn_within_quantisation_error) {
    tg *t = tg_new();
    int x = tg_input(t, 3, 1, 16, 16);
    x = tg_pool(t, IR_MAXPOOL, tg_act(t, tg_conv(t, x, 8, 3, 1, 1, 1, 1, 1), ACT_RELU), 2, 2, 0);
    x = tg_act(t, tg_bn(t, tg_conv(t, x, 16, 3, 1, 1, 1, 1, 0)), ACT_RELU);
    int d = tg_act(t, tg_conv(t, x, 16, 3, 1, 1, 16, 1, 1), ACT_RELU); /* depthwise */
    int xs[2] = {x, d};
    x = tg_gap(t, tg_sum(t, 2, xs));
    tg_finish(t, tg_dense(t, x, 10, 1));
    check_net(t, 20, 0.05, "CNN");
    tg_free(t);
}

/* ---------- the pass ---------- */

/* Which layers the pass quantises, and with which input range. */
Test(int8, pass_choices) {
    tg *t = tg_new();
    int x = tg_input(t, 3, 1, 12, 12);
    int c1 = tg_conv(t, x, 8, 3, 1, 1, 1, 1, 1);                       /* 9 taps: stays fp32 */
    int c2 = tg_conv(t, c1, 8, 3, 1, 1, 1, 1, 1);                      /* signed input (no activation) */
    int dw = tg_conv(t, c2, 8, 3, 1, 1, 8, 1, 1);                      /* depthwise 3x3: 9 taps, fp32 */
    int c3 = tg_conv(t, tg_act(t, dw, ACT_RELU), 8, 3, 1, 1, 1, 1, 1); /* after relu: unsigned */
    tg_finish(t, tg_dense(t, tg_flatten(t, c3), 10, 1));
    cr_assert_eq(rt_params_init(&t->g, INIT_KAIMING, 3), 0);
    float *xs = malloc(144 * 8 * sizeof *xs);
    for (int i = 0; i < 144 * 8; i++) xs[i] = (float)(i % 17) / 8.0f - 1.0f;
    calib_in ci = {xs, 8};
    ps_opts po = {.quant = PS_QUANT_INT8, .calibrate = calibrate, .calib_ctx = &ci};
    ps_state ps;
    char err[512] = "";
    cr_assert_eq(ps_state_init(&ps, &t->g, &po, err, sizeof err), 0, "%s", err);
    cr_assert_eq(ps_run_pipeline(&ps, NULL, NULL, err, sizeof err), 0, "%s", err);
    cr_expect(!ps.q[c1].on && !ps.q[dw].on, "3x3 single-channel and depthwise layers stay fp32");
    cr_expect(ps.q[c2].on && !ps.q[c2].unsigned_in);
    cr_expect(ps.q[c3].on && ps.q[c3].unsigned_in);
    cr_expect(ps.q[ps.g.output].on);
    ps_state_free(&ps);
    free(xs);
    rt_params_free(&t->g);
    tg_free(t);
}

Test(int8, verifier_catches_bad_weights) {
    int layer;
    tg *t = one_dense(&layer);
    cr_assert_eq(rt_params_init(&t->g, INIT_KAIMING, 3), 0);
    ps_opts po = {.quant = PS_QUANT_INT8};
    ps_state ps;
    char err[512] = "", buf[256];
    cr_assert_eq(ps_state_init(&ps, &t->g, &po, err, sizeof err), 0, "%s", err);
    cr_assert_eq(ps_run_pipeline(&ps, NULL, NULL, err, sizeof err), 0, "%s", err);
    cr_assert_null(ps_quant_verify(&ps, buf, sizeof buf));
    ps_qnode *q = &ps.q[ps.g.output];
    cr_assert(q->on);
    for (int64_t i = 0; i < q->oc * q->k; i++) cr_assert(q->w[i] >= -127 && q->w[i] <= 127);
    q->w[0] = -128;
    cr_assert_not_null(ps_quant_verify(&ps, buf, sizeof buf));
    cr_expect(strstr(buf, "-128"), "%s", buf);
    q->w[0] = 0;
    q->in_scale = 0;
    cr_assert_not_null(ps_quant_verify(&ps, buf, sizeof buf));
    ps_state_free(&ps);
    rt_params_free(&t->g);
    tg_free(t);
}

Test(int8, nothing_to_quantise) {
    tg *t = tg_new();
    int x = tg_input(t, 1, 10, 0, 0);
    tg_finish(t, tg_act(t, x, ACT_RELU));
    cr_assert_eq(rt_params_init(&t->g, INIT_KAIMING, 3), 0);
    float x0[10] = {0};
    char err[512] = "";
    cg_jit *j = compile_q(&t->g, x0, 1, 0, err, sizeof err);
    cr_assert_null(j);
    cr_expect(strstr(err, "nothing to quantise"), "%s", err);
    tg_free(t);
}

Test(int8, empty_calibration_set) {
    int layer;
    tg *t = one_dense(&layer);
    cr_assert_eq(rt_params_init(&t->g, INIT_KAIMING, 3), 0);
    float x0[130] = {0};
    char err[512] = "";
    cg_jit *j = compile_q(&t->g, x0, 0, 0, err, sizeof err);
    cr_assert_null(j);
    cr_expect(strstr(err, "calibration set is empty"), "%s", err);
    rt_params_free(&t->g);
    tg_free(t);
}

Test(int8, calibration_is_deterministic) {
    tg *t = tg_new();
    int x = tg_input(t, 3, 2, 8, 8);
    x = tg_act(t, tg_bn(t, tg_conv(t, x, 4, 3, 1, 1, 1, 1, 1)), ACT_RELU);
    tg_finish(t, tg_dense(t, tg_flatten(t, x), 5, 1));
    cr_assert_eq(rt_params_init(&t->g, INIT_KAIMING, 5), 0);
    float *xs = uniform(100 * 128);
    float a[16], b[16], lo[16];
    char err[256];
    cr_assert_eq(rt_calib_ranges(&t->g, xs, 100, lo, a, err, sizeof err), 0, "%s", err);
    cr_assert_eq(rt_calib_ranges(&t->g, xs, 100, lo, b, err, sizeof err), 0, "%s", err);
    cr_assert_eq(memcmp(a, b, (size_t)t->g.n_nodes * sizeof *a), 0);
    for (int i = 0; i < t->g.n_nodes; i++) cr_expect(a[i] > 0, "node %d has range %g", i, (double)a[i]);
    free(xs);
    rt_params_free(&t->g);
    tg_free(t);
}

/* ---------- which instructions: assembly per --cpu ---------- */

static char *asm_for(const char *cpu) {
    int layer;
    tg *t = one_conv(&layer);
    cr_assert_eq(rt_params_init(&t->g, INIT_KAIMING, 3), 0);
    ps_opts po = {.quant = PS_QUANT_INT8};
    cg_compile_opts o = {0};
    o.opt_level = 2;
    o.passes = &po;
    o.cpu = cpu;
    char path[] = "/tmp/nasc_int8_XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    close(fd);
    char err[512] = "";
    cr_assert_eq(cg_emit_ex(&t->g, CG_EMIT_ASM, path, "m", &o, err, sizeof err), 0, "%s", err);
    FILE *f = fopen(path, "rb");
    static char text[1 << 20];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = 0;
    fclose(f);
    unlink(path);
    rt_params_free(&t->g);
    tg_free(t);
    return text;
}

Test(int8, instructions_per_cpu) {
    char *s = asm_for("sapphirerapids");
    cr_expect(strstr(s, "vpdpbusd"), "no vpdpbusd for sapphirerapids");
    s = asm_for("znver2");
    cr_expect(strstr(s, "vpmaddubsw") && strstr(s, "vpsignb"), "no vpmaddubsw/vpsignb for znver2");
    cr_expect(!strstr(s, "vpdpbusd"), "vpdpbusd for znver2 (no VNNI there)");
    s = asm_for("x86-64");
    cr_expect(!strstr(s, "vpmaddubsw") && !strstr(s, "vpdpbusd") && !strstr(s, "ymm"),
              "AVX instructions for plain x86-64");
}
