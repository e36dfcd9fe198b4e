/* ops.c: the operation table, one row per ir_op (graph.h), and what is
 * built on it: the verifier and a graph's totals (params, FLOPs, memory).
 *
 * Everything the program knows about an operation itself lives in its row:
 * the printer name, how many inputs it takes, which parameters it carries
 * and of what shape, the rule that gives its output shape from its inputs
 * and attributes, its FLOPs, its attribute defaults, and whether its output
 * aliases its input at inference.  The front end builds nodes with
 * ir_node_init and costs them with ir_node_flops; the runtime and codegen
 * accept a graph once ir_graph_verify passes and then read attributes as
 * they are.  Adding an operation means one row here plus its kernels.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "graph.h"

#define ROLE(r)  (1u << (r))
#define ROLES_WB (ROLE(PARAM_WEIGHT) | ROLE(PARAM_BIAS))
#define ROLES_BN (ROLES_WB | ROLE(PARAM_RUNNING_MEAN) | ROLE(PARAM_RUNNING_VAR))

static const char *role_names[] = {"weight", "bias", "running_mean", "running_var"};

/* ---- helpers for the rows ---- */

static const ir_shape *in_shape(const ir_graph *g, const ir_node *n, int i) {
    return &g->nodes[n->in[i]].shape;
}

static bool shape_eq(const ir_shape *a, const ir_shape *b) {
    if (a->rank != b->rank) return false;
    for (int i = 0; i < a->rank; i++)
        if (a->d[i] != b->d[i]) return false;
    return true;
}

static ir_shape shape_of(int rank, const int64_t *d) {
    ir_shape s = {rank, {0}};
    for (int i = 0; i < rank; i++) s.d[i] = d[i];
    return s;
}

/* A fault of node n: "node 3 'conv2d#2' (conv2d): what", into buf. */
static const char *bad(char *buf, size_t cap, const ir_node *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static const char *bad(char *buf, size_t cap, const ir_node *n, const char *fmt, ...) {
    int k = snprintf(buf, cap, "node %d '%s' (%s): ", n->id, n->name ? n->name : "?", ir_op_name(n->op));
    if (k >= 0 && (size_t)k < cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf + k, cap - (size_t)k, fmt, ap);
        va_end(ap);
    }
    return buf;
}

/* The output shape does not follow from the inputs: say both. */
static const char *bad_shape(char *buf, size_t cap, const ir_node *n, const ir_shape *want) {
    char got[64], exp[64];
    return bad(buf, cap, n, "output shape %s does not follow from its inputs (expected %s)",
               ir_shape_str(&n->shape, got, sizeof got), ir_shape_str(want, exp, sizeof exp));
}

/* The output length of a window along one axis, or < 1 if none fits. */
static int64_t window_out(int64_t in, int k, int s, int p, int d) {
    int64_t e = in + 2 * (int64_t)p - (int64_t)d * (k - 1) - 1;
    return e < 0 ? 0 : e / s + 1;
}

/* Spatial axes of a window op on input x: 2 for [c, h, w], 1 for [c, l]. */
static int spatial(const ir_shape *x) { return x->rank - 1; }

/* ---- shape rules: NULL, or a description of the fault in buf ---- */

typedef const char *(*shape_rule)(const ir_graph *g, const ir_node *n, char *buf, size_t cap);

/* Input: no inputs.  Zero: its input only orders it (dead-code removal
 * turns x * 0 into a zero of the product's shape reading x). */
static const char *rule_none(const ir_graph *g, const ir_node *n, char *buf, size_t cap) {
    (void)g, (void)n, (void)buf, (void)cap;
    return NULL;
}

/* Output = input 0's shape. */
static const char *rule_same(const ir_graph *g, const ir_node *n, char *buf, size_t cap) {
    const ir_shape *x = in_shape(g, n, 0);
    return shape_eq(x, &n->shape) ? NULL : bad_shape(buf, cap, n, x);
}

static const char *rule_act(const ir_graph *g, const ir_node *n, char *buf, size_t cap) {
    if ((unsigned)n->act >= ACT_COUNT) return bad(buf, cap, n, "unknown activation %d", (int)n->act);
    return rule_same(g, n, buf, cap);
}

static const char *rule_dropout(const ir_graph *g, const ir_node *n, char *buf, size_t cap) {
    if (!(n->p >= 0.0f && n->p <= 1.0f)) return bad(buf, cap, n, "dropout p must be in [0, 1], got %g", n->p);
    return rule_same(g, n, buf, cap);
}

static const char *rule_norm(const ir_graph *g, const ir_node *n, char *buf, size_t cap) {
    if (!(n->eps > 0.0f)) return bad(buf, cap, n, "eps must be positive, got %g", n->eps);
    if (n->op == IR_BATCHNORM && !(n->momentum > 0.0f && n->momentum <= 1.0f))
        return bad(buf, cap, n, "momentum must be in (0, 1], got %g", n->momentum);
    return rule_same(g, n, buf, cap);
}

/* Dense reads the whole sample (any rank) and gives Tensor[units]. */
static const char *rule_dense(const ir_graph *g, const ir_node *n, char *buf, size_t cap) {
    (void)g;
    if (n->units < 1) return bad(buf, cap, n, "units must be positive, got %d", n->units);
    int64_t u = n->units;
    ir_shape want = shape_of(1, &u);
    if (!shape_eq(&n->shape, &want)) return bad(buf, cap, n, "output size differs from units (%d)", n->units);
    return NULL;
}

static const char *rule_conv(const ir_graph *g, const ir_node *n, char *buf, size_t cap) {
    const ir_shape *x = in_shape(g, n, 0);
    int sp = n->op == IR_CONV2D ? 2 : 1;
    if (x->rank != sp + 1)
        return bad(buf, cap, n, "%s needs a %s input", ir_op_name(n->op), sp == 2 ? "[c, h, w]" : "[c, l]");
    if (n->filters < 1 || n->groups < 1 || x->d[0] % n->groups || n->filters % n->groups)
        return bad(buf, cap, n, "filters (%d) and input channels (%lld) must be divisible by groups (%d)",
                   n->filters, (long long)x->d[0], n->groups);
    ir_shape want = {sp + 1, {n->filters}};
    for (int i = 0; i < sp; i++) {
        if (n->kernel[i] < 1 || n->stride[i] < 1 || n->pad[i] < 0 || n->dilation[i] < 1)
            return bad(buf, cap, n,
                       "invalid convolution geometry for its input shape: kernel, stride and "
                       "dilation must be >= 1 and padding >= 0");
        want.d[1 + i] = window_out(x->d[1 + i], n->kernel[i], n->stride[i], n->pad[i], n->dilation[i]);
        if (want.d[1 + i] < 1)
            return bad(buf, cap, n,
                       "invalid convolution geometry for its input shape: the window does not fit");
    }
    return shape_eq(&n->shape, &want) ? NULL : bad_shape(buf, cap, n, &want);
}

static const char *rule_pool(const ir_graph *g, const ir_node *n, char *buf, size_t cap) {
    const ir_shape *x = in_shape(g, n, 0);
    int sp = spatial(x);
    if (sp < 1 || sp > 2) return bad(buf, cap, n, "pooling needs a [c, h, w] or [c, l] input");
    ir_shape want = {x->rank, {x->d[0]}};
    for (int i = 0; i < sp; i++) {
        /* A window must never lie entirely in the padding (PyTorch's rule). */
        if (n->kernel[i] < 1 || n->stride[i] < 1 || n->pad[i] < 0 || 2 * n->pad[i] > n->kernel[i])
            return bad(buf, cap, n,
                       "invalid pooling geometry for its input shape: kernel and stride must be "
                       ">= 1 and padding at most half the kernel");
        want.d[1 + i] = window_out(x->d[1 + i], n->kernel[i], n->stride[i], n->pad[i], 1);
        if (want.d[1 + i] < 1)
            return bad(buf, cap, n, "invalid pooling geometry for its input shape: the window does not fit");
    }
    return shape_eq(&n->shape, &want) ? NULL : bad_shape(buf, cap, n, &want);
}

static const char *rule_global_pool(const ir_graph *g, const ir_node *n, char *buf, size_t cap) {
    const ir_shape *x = in_shape(g, n, 0);
    if (x->rank < 2) return bad(buf, cap, n, "needs a [c, ...] input of rank 2 or more");
    ir_shape want = shape_of(1, x->d);
    return shape_eq(&n->shape, &want) ? NULL : bad_shape(buf, cap, n, &want);
}

static const char *rule_flatten(const ir_graph *g, const ir_node *n, char *buf, size_t cap) {
    int64_t k = ir_shape_numel(in_shape(g, n, 0));
    ir_shape want = shape_of(1, &k);
    return shape_eq(&n->shape, &want) ? NULL : bad_shape(buf, cap, n, &want);
}

/* Concat joins along dim 0; the other dimensions must agree. */
static const char *rule_concat(const ir_graph *g, const ir_node *n, char *buf, size_t cap) {
    ir_shape want = *in_shape(g, n, 0);
    for (int j = 1; j < n->n_in; j++) {
        const ir_shape *s = in_shape(g, n, j);
        bool ok = s->rank == want.rank;
        for (int k = 1; ok && k < s->rank; k++) ok = s->d[k] == want.d[k];
        if (!ok) {
            char a[64], b[64];
            return bad(buf, cap, n, "input %d has shape %s, which cannot be joined to %s along dim 0", j,
                       ir_shape_str(s, a, sizeof a), ir_shape_str(in_shape(g, n, 0), b, sizeof b));
        }
        want.d[0] += s->d[0];
    }
    return shape_eq(&n->shape, &want) ? NULL : bad_shape(buf, cap, n, &want);
}

static const char *rule_add(const ir_graph *g, const ir_node *n, char *buf, size_t cap) {
    for (int j = 0; j < n->n_in; j++)
        if (!shape_eq(in_shape(g, n, j), &n->shape)) {
            char a[64], b[64];
            return bad(buf, cap, n, "input %d has shape %s, the output %s", j,
                       ir_shape_str(in_shape(g, n, j), a, sizeof a), ir_shape_str(&n->shape, b, sizeof b));
        }
    return NULL;
}

/* Elementwise, or one input a Tensor[c] scaling the other per channel. */
static const char *rule_mul(const ir_graph *g, const ir_node *n, char *buf, size_t cap) {
    const ir_shape *a = in_shape(g, n, 0), *b = in_shape(g, n, 1);
    bool ok = (shape_eq(a, &n->shape) && (shape_eq(b, a) || (b->rank == 1 && b->d[0] == a->d[0]))) ||
              (shape_eq(b, &n->shape) && a->rank == 1 && a->d[0] == b->d[0]);
    if (ok) return NULL;
    char x[64], y[64];
    return bad(buf, cap, n,
               "cannot multiply %s by %s: inputs must match, or one must have one value per "
               "channel of the other",
               ir_shape_str(a, x, sizeof x), ir_shape_str(b, y, sizeof y));
}

/* ---- sequence ops on Tensor[t, d] (issue 15) ---- */

/* Input 0 must have rank r: the message names what the op expects. */
static const char *need_rank(char *buf, size_t cap, const ir_node *n, const ir_shape *x, int r,
                             const char *what) {
    if (x->rank == r) return NULL;
    char a[64];
    return bad(buf, cap, n, "needs a %s input, got %s", what, ir_shape_str(x, a, sizeof a));
}

/* The output must be [a, b]. */
static const char *expect_2d(const ir_node *n, int64_t a, int64_t b, char *buf, size_t cap) {
    int64_t d[2] = {a, b};
    ir_shape want = shape_of(2, d);
    return shape_eq(&n->shape, &want) ? NULL : bad_shape(buf, cap, n, &want);
}

static const char *rule_linear(const ir_graph *g, const ir_node *n, char *buf, size_t cap) {
    const ir_shape *x = in_shape(g, n, 0);
    const char *e = need_rank(buf, cap, n, x, 2, "[t, d]");
    if (e) return e;
    if (n->units < 1) return bad(buf, cap, n, "units must be positive, got %d", n->units);
    return expect_2d(n, x->d[0], n->units, buf, cap);
}

static const char *rule_attention(const ir_graph *g, const ir_node *n, char *buf, size_t cap) {
    const ir_shape *x = in_shape(g, n, 0);
    const char *e = need_rank(buf, cap, n, x, 2, "packed [t, 3 * heads * head_dim]");
    if (e) return e;
    if (n->heads < 1 || n->head_dim < 1)
        return bad(buf, cap, n, "heads (%d) and head_dim (%d) must be positive", n->heads, n->head_dim);
    int64_t inner = (int64_t)n->heads * n->head_dim;
    if (x->d[1] != 3 * inner)
        return bad(buf, cap, n, "input width %lld is not 3 * heads * head_dim = %lld", (long long)x->d[1],
                   (long long)(3 * inner));
    return expect_2d(n, x->d[0], inner, buf, cap);
}

static const char *rule_embedding(const ir_graph *g, const ir_node *n, char *buf, size_t cap) {
    const ir_shape *x = in_shape(g, n, 0);
    const char *e = need_rank(buf, cap, n, x, 1, "token [t]");
    if (e) return e;
    if (n->vocab < 1 || n->units < 1)
        return bad(buf, cap, n, "vocab (%d) and dim (%d) must be positive", n->vocab, n->units);
    return expect_2d(n, x->d[0], n->units, buf, cap);
}

static const char *rule_tokens(const ir_graph *g, const ir_node *n, char *buf, size_t cap) {
    const char *e = need_rank(buf, cap, n, in_shape(g, n, 0), 2, "[t, d]");
    return e ? e : rule_same(g, n, buf, cap);
}

static const char *rule_patches(const ir_graph *g, const ir_node *n, char *buf, size_t cap) {
    const ir_shape *x = in_shape(g, n, 0);
    const char *e = need_rank(buf, cap, n, x, 3, "[c, h, w]");
    if (e) return e;
    int64_t s = n->kernel[0];
    if (s < 1 || x->d[1] % s || x->d[2] % s)
        return bad(buf, cap, n, "patch size %lld must divide the height %lld and width %lld", (long long)s,
                   (long long)x->d[1], (long long)x->d[2]);
    return expect_2d(n, (x->d[1] / s) * (x->d[2] / s), x->d[0] * s * s, buf, cap);
}

static const char *rule_mean_tokens(const ir_graph *g, const ir_node *n, char *buf, size_t cap) {
    const ir_shape *x = in_shape(g, n, 0);
    const char *e = need_rank(buf, cap, n, x, 2, "[t, d]");
    if (e) return e;
    ir_shape want = shape_of(1, &x->d[1]);
    return shape_eq(&n->shape, &want) ? NULL : bad_shape(buf, cap, n, &want);
}

static const char *rule_matmul(const ir_graph *g, const ir_node *n, char *buf, size_t cap) {
    const ir_shape *a = in_shape(g, n, 0), *b = in_shape(g, n, 1);
    char x[64], y[64];
    if (a->rank != 2 || b->rank != 2 || a->d[1] != b->d[0])
        return bad(buf, cap, n, "cannot multiply %s by %s: needs [t, k] and [k, n]",
                   ir_shape_str(a, x, sizeof x), ir_shape_str(b, y, sizeof y));
    return expect_2d(n, a->d[0], b->d[1], buf, cap);
}

static const char *rule_transpose(const ir_graph *g, const ir_node *n, char *buf, size_t cap) {
    const ir_shape *x = in_shape(g, n, 0);
    const char *e = need_rank(buf, cap, n, x, 2, "[a, b]");
    if (e) return e;
    return expect_2d(n, x->d[1], x->d[0], buf, cap);
}

/* ---- parameter shapes: the expected shape of role r, false if none ---- */

typedef bool (*param_rule)(const ir_graph *g, const ir_node *n, ir_param_role r, ir_shape *out);

static bool param_dense(const ir_graph *g, const ir_node *n, ir_param_role r, ir_shape *out) {
    int64_t d[2] = {n->units, ir_shape_numel(in_shape(g, n, 0))};
    *out = shape_of(r == PARAM_WEIGHT ? 2 : 1, d);
    return true;
}

/* PyTorch layouts: weight [filters, c/groups, kh(, kw)], bias [filters]. */
static bool param_conv(const ir_graph *g, const ir_node *n, ir_param_role r, ir_shape *out) {
    int sp = n->op == IR_CONV2D ? 2 : 1;
    int64_t d[4] = {n->filters, in_shape(g, n, 0)->d[0] / (n->groups ? n->groups : 1), n->kernel[0],
                    n->kernel[1]};
    *out = shape_of(r == PARAM_WEIGHT ? sp + 2 : 1, d);
    return true;
}

/* Batchnorm: per channel (dim 0); layernorm: over the last dimension. */
static bool param_norm(const ir_graph *g, const ir_node *n, ir_param_role r, ir_shape *out) {
    (void)r;
    const ir_shape *x = in_shape(g, n, 0);
    *out = shape_of(1, n->op == IR_BATCHNORM ? &x->d[0] : &x->d[x->rank - 1]);
    return true;
}

/* linear: weight [units, d], bias [units]; embedding: [vocab, dim];
 * learned positional code: [t, d], the input's shape. */
static bool param_linear(const ir_graph *g, const ir_node *n, ir_param_role r, ir_shape *out) {
    int64_t d[2] = {n->units, in_shape(g, n, 0)->d[1]};
    *out = shape_of(r == PARAM_WEIGHT ? 2 : 1, d);
    return true;
}
static bool param_embedding(const ir_graph *g, const ir_node *n, ir_param_role r, ir_shape *out) {
    (void)g, (void)r;
    int64_t d[2] = {n->vocab, n->units};
    *out = shape_of(2, d);
    return true;
}
static bool param_positional(const ir_graph *g, const ir_node *n, ir_param_role r, ir_shape *out) {
    (void)r;
    *out = *in_shape(g, n, 0);
    return true;
}

/* ---- FLOPs per sample: 2 * MACs for dense/conv, per element otherwise ---- */

typedef int64_t (*flops_rule)(const ir_node *n, const ir_shape *x);

static int64_t flops_zero(const ir_node *n, const ir_shape *x) {
    (void)n, (void)x;
    return 0;
}
static int64_t flops_out(const ir_node *n, const ir_shape *x) {
    (void)x;
    return ir_shape_numel(&n->shape);
}
static int64_t flops_in(const ir_node *n, const ir_shape *x) {
    (void)n;
    return ir_shape_numel(x);
}
static int64_t flops_norm(const ir_node *n, const ir_shape *x) { return 2 * flops_out(n, x); }
static int64_t flops_dense(const ir_node *n, const ir_shape *x) {
    return 2 * (int64_t)n->units * ir_shape_numel(x);
}
static int64_t flops_conv(const ir_node *n, const ir_shape *x) {
    int64_t macs = (int64_t)n->filters * (x->d[0] / (n->groups ? n->groups : 1)) * n->kernel[0];
    if (n->op == IR_CONV2D) macs *= n->kernel[1];
    int64_t out_sp = 1;
    for (int i = 1; i < n->shape.rank; i++) out_sp *= n->shape.d[i];
    return 2 * macs * out_sp;
}
static int64_t flops_pool(const ir_node *n, const ir_shape *x) {
    return ir_shape_numel(&n->shape) * n->kernel[0] * (x->rank == 3 ? n->kernel[1] : 1);
}
/* n inputs summed: n - 1 additions per element. */
static int64_t flops_add(const ir_node *n, const ir_shape *x) {
    (void)x;
    return (int64_t)(n->n_in - 1) * ir_shape_numel(&n->shape);
}

/* Per token: 2 * d * units; attention: QK^T and PV (2 * t * t * hd MACs
 * per head) plus the softmax (t * t per head); matmul: 2 * t * k * n. */
static int64_t flops_linear(const ir_node *n, const ir_shape *x) {
    return 2 * (int64_t)n->units * ir_shape_numel(x);
}
static int64_t flops_attention(const ir_node *n, const ir_shape *x) {
    int64_t t = x->rank ? x->d[0] : 0;
    return (int64_t)n->heads * t * t * (4 * (int64_t)n->head_dim + 1);
}
static int64_t flops_matmul(const ir_node *n, const ir_shape *x) {
    return 2 * ir_shape_numel(&n->shape) * (x->rank == 2 ? x->d[1] : 0);
}

/* ---- defaults, applied by ir_node_init ---- */

static void defaults_conv(ir_node *n) {
    n->stride[0] = n->stride[1] = 1;
    n->dilation[0] = n->dilation[1] = 1;
    n->groups = 1;
    n->bias = true;
}
static void defaults_pool(ir_node *n) { n->stride[0] = n->stride[1] = 1; }
static void defaults_dense(ir_node *n) { n->bias = true; }
/* As PyTorch: eps 1e-5, momentum 0.1. */
static void defaults_norm(ir_node *n) {
    n->eps = 1e-5f;
    n->momentum = 0.1f;
}

/* ---- the table ---- */

typedef struct op_row {
    ir_op_info info;
    shape_rule shape;
    param_rule param;
    flops_rule flops;
    void (*defaults)(ir_node *n);
} op_row;

/* name, min_in, max_in (-1: any), roles allowed, roles required (bias
 * only when the node's `bias` is set), output aliases input 0 */
static const op_row rows[IR_OP_COUNT] = {
    [IR_INPUT] = {{"input", 0, 0, 0, 0, false}, rule_none, NULL, flops_zero, NULL},
    [IR_DENSE] =
        {{"dense", 1, 1, ROLES_WB, ROLES_WB, false}, rule_dense, param_dense, flops_dense, defaults_dense},
    [IR_CONV2D] =
        {{"conv2d", 1, 1, ROLES_WB, ROLES_WB, false}, rule_conv, param_conv, flops_conv, defaults_conv},
    [IR_CONV1D] =
        {{"conv1d", 1, 1, ROLES_WB, ROLES_WB, false}, rule_conv, param_conv, flops_conv, defaults_conv},
    [IR_BATCHNORM] =
        {{"batchnorm", 1, 1, ROLES_BN, ROLES_BN, false}, rule_norm, param_norm, flops_norm, defaults_norm},
    [IR_LAYERNORM] =
        {{"layernorm", 1, 1, ROLES_WB, ROLES_WB, false}, rule_norm, param_norm, flops_norm, defaults_norm},
    [IR_ACT] = {{"act", 1, 1, 0, 0, false}, rule_act, NULL, flops_out, NULL},
    [IR_MAXPOOL] = {{"maxpool", 1, 1, 0, 0, false}, rule_pool, NULL, flops_pool, defaults_pool},
    [IR_AVGPOOL] = {{"avgpool", 1, 1, 0, 0, false}, rule_pool, NULL, flops_pool, defaults_pool},
    [IR_GLOBAL_AVGPOOL] = {{"global_avgpool", 1, 1, 0, 0, false}, rule_global_pool, NULL, flops_in, NULL},
    [IR_FLATTEN] = {{"flatten", 1, 1, 0, 0, true}, rule_flatten, NULL, flops_zero, NULL},
    [IR_DROPOUT] = {{"dropout", 1, 1, 0, 0, true}, rule_dropout, NULL, flops_zero, NULL},
    [IR_CONCAT] = {{"concat", 1, -1, 0, 0, false}, rule_concat, NULL, flops_zero, NULL},
    [IR_ADD] = {{"add", 1, -1, 0, 0, false}, rule_add, NULL, flops_add, NULL},
    [IR_MUL] = {{"mul", 2, 2, 0, 0, false}, rule_mul, NULL, flops_out, NULL},
    [IR_ZERO] = {{"zero", 1, 1, 0, 0, false}, rule_none, NULL, flops_out, NULL},
    [IR_SOFTMAX] = {{"softmax", 1, 1, 0, 0, false}, rule_same, NULL, flops_out, NULL},
    [IR_LINEAR] = {{"linear", 1, 1, ROLES_WB, ROLES_WB, false},
                   rule_linear,
                   param_linear,
                   flops_linear,
                   defaults_dense},
    [IR_ATTENTION] = {{"attention", 1, 1, 0, 0, false}, rule_attention, NULL, flops_attention, NULL},
    [IR_EMBEDDING] = {{"embedding", 1, 1, ROLE(PARAM_WEIGHT), ROLE(PARAM_WEIGHT), false},
                      rule_embedding,
                      param_embedding,
                      flops_out,
                      NULL},
    [IR_POSITIONAL] = {{"positional", 1, 1, ROLE(PARAM_WEIGHT), ROLE(PARAM_WEIGHT), false},
                       rule_tokens,
                       param_positional,
                       flops_out,
                       NULL},
    [IR_PATCHES] = {{"patches", 1, 1, 0, 0, false}, rule_patches, NULL, flops_zero, NULL},
    [IR_MEAN_TOKENS] = {{"mean_tokens", 1, 1, 0, 0, false}, rule_mean_tokens, NULL, flops_in, NULL},
    [IR_MATMUL] = {{"matmul", 2, 2, 0, 0, false}, rule_matmul, NULL, flops_matmul, NULL},
    [IR_TRANSPOSE] = {{"transpose", 1, 1, 0, 0, false}, rule_transpose, NULL, flops_zero, NULL},
};

float ir_positional_code(int64_t pos, int64_t i, int64_t d) {
    double f = exp(-log(10000.0) * (double)(i - i % 2) / (double)d), a = (double)pos * f;
    return (float)(i % 2 ? cos(a) : sin(a));
}

const ir_op_info *ir_op_info_of(ir_op op) { return (unsigned)op < IR_OP_COUNT ? &rows[op].info : NULL; }

const char *ir_op_name(ir_op op) { return (unsigned)op < IR_OP_COUNT ? rows[op].info.name : "?"; }

void ir_node_init(ir_node *n, ir_op op) {
    memset(n, 0, sizeof *n);
    n->op = op;
    if ((unsigned)op < IR_OP_COUNT && rows[op].defaults) rows[op].defaults(n);
}

int64_t ir_node_flops(const ir_node *n, const ir_shape *in0) {
    static const ir_shape none = {0, {0}};
    if ((unsigned)n->op >= IR_OP_COUNT) return 0;
    return rows[n->op].flops(n, in0 ? in0 : &none);
}

/* ---- the verifier ---- */

static const char *check_arity(const ir_node *n, char *buf, size_t cap) {
    const ir_op_info *o = &rows[n->op].info;
    if (n->n_in < o->min_in || (o->max_in >= 0 && n->n_in > o->max_in)) {
        if (o->max_in < 0) return bad(buf, cap, n, "has %d inputs, needs at least %d", n->n_in, o->min_in);
        if (o->min_in == o->max_in) return bad(buf, cap, n, "has %d inputs, needs %d", n->n_in, o->min_in);
        return bad(buf, cap, n, "has %d inputs, needs %d to %d", n->n_in, o->min_in, o->max_in);
    }
    return NULL;
}

static const char *check_params(const ir_graph *g, const ir_node *n, unsigned flags, char *buf, size_t cap) {
    const op_row *row = &rows[n->op];
    if (n->n_params < 0 || n->n_params > IR_MAX_PARAMS)
        return bad(buf, cap, n, "has %d parameters (at most %d)", n->n_params, IR_MAX_PARAMS);
    unsigned seen = 0;
    for (int i = 0; i < n->n_params; i++) {
        const ir_param *p = &n->params[i];
        if ((unsigned)p->role > PARAM_RUNNING_VAR || !(row->info.params & ROLE(p->role)))
            return bad(buf, cap, n, "carries a parameter of role %d it has no use for", (int)p->role);
        const char *rn = role_names[p->role];
        if (seen & ROLE(p->role)) return bad(buf, cap, n, "has two %s parameters", rn);
        seen |= ROLE(p->role);
        ir_shape want;
        char a[64], b[64];
        if (row->param && row->param(g, n, p->role, &want) && !shape_eq(&p->shape, &want))
            return bad(buf, cap, n, "%s has shape %s, expected %s", rn, ir_shape_str(&p->shape, a, sizeof a),
                       ir_shape_str(&want, b, sizeof b));
        if ((flags & IR_VERIFY_WEIGHTS) && !p->data) return bad(buf, cap, n, "%s is not initialised", rn);
    }
    unsigned need = row->info.required;
    if ((n->op == IR_DENSE || n->op == IR_CONV2D || n->op == IR_CONV1D || n->op == IR_LINEAR) && !n->bias)
        need &= ~ROLE(PARAM_BIAS);
    if (n->op == IR_POSITIONAL && n->sinusoidal) need &= ~ROLE(PARAM_WEIGHT);
    for (int r = PARAM_WEIGHT; r <= PARAM_RUNNING_VAR; r++)
        if ((need & ROLE(r)) && !(seen & ROLE(r)))
            return bad(buf, cap, n, "missing %s parameter", role_names[r]);
    return NULL;
}

/* Order, rank and dimensions of one node: what every rule relies on. */
static const char *check_structure(const ir_graph *g, int i, char *buf, size_t cap) {
    const ir_node *n = &g->nodes[i];
    if (n->id != i) {
        snprintf(buf, cap, "node %d has id %d", i, n->id);
        return buf;
    }
    if ((unsigned)n->op >= IR_OP_COUNT) {
        snprintf(buf, cap, "node %d has unknown operation %d", i, (int)n->op);
        return buf;
    }
    if (n->shape.rank < 1 || n->shape.rank > IR_MAX_RANK)
        return bad(buf, cap, n, "has rank %d", n->shape.rank);
    for (int k = 0; k < n->shape.rank; k++)
        if (n->shape.d[k] <= 0) return bad(buf, cap, n, "has a dimension %lld", (long long)n->shape.d[k]);
    const char *e = check_arity(n, buf, cap);
    if (e) return e;
    for (int j = 0; j < n->n_in; j++)
        if (n->in[j] < 0 || n->in[j] >= i) return bad(buf, cap, n, "reads node %d out of order", n->in[j]);
    return NULL;
}

const char *ir_graph_verify(const ir_graph *g, unsigned flags, char *buf, size_t cap) {
    if (!buf || !cap) return "no room for a message";
    if (!g || g->n_nodes <= 0 || !g->nodes) {
        snprintf(buf, cap, "graph has no nodes");
        return buf;
    }
    if (g->output < 0 || g->output >= g->n_nodes) {
        snprintf(buf, cap, "output id %d out of range", g->output);
        return buf;
    }
    if (g->input < 0 || g->input >= g->n_nodes || g->nodes[g->input].op != IR_INPUT) {
        snprintf(buf, cap, "input id %d is not an input node", g->input);
        return buf;
    }
    for (int i = 0; i < g->n_nodes; i++) {
        const ir_node *n = &g->nodes[i];
        const char *e = check_structure(g, i, buf, cap);
        if (!e) e = rows[n->op].shape(g, n, buf, cap);
        if (!e) e = check_params(g, n, flags, buf, cap);
        if (e) return e;
    }
    return NULL;
}

/* ---- a graph's totals ---- */

/* Whether n's output is its input's storage at inference (the table's
 * alias flag: flatten, dropout), so it costs no memory of its own. */
static bool aliases(const ir_node *n) {
    const ir_op_info *o = ir_op_info_of(n->op);
    return o && o->alias && n->n_in == 1;
}

/* Peak activation memory at batch 1: walk the nodes in order, keeping each
 * output alive until its last consumer has run. */
static int64_t peak_memory(const ir_graph *g) {
    int last_use[g->n_nodes > 0 ? g->n_nodes : 1];
    for (int i = 0; i < g->n_nodes; i++) last_use[i] = i;
    for (int i = 0; i < g->n_nodes; i++)
        for (int j = 0; j < g->nodes[i].n_in; j++)
            if (last_use[g->nodes[i].in[j]] < i) last_use[g->nodes[i].in[j]] = i;
    if (g->output >= 0 && g->output < g->n_nodes) last_use[g->output] = g->n_nodes;
    /* An alias keeps its source alive as long as it is used itself. */
    for (int i = g->n_nodes - 1; i >= 0; i--) {
        const ir_node *n = &g->nodes[i];
        if (aliases(n) && last_use[n->in[0]] < last_use[i]) last_use[n->in[0]] = last_use[i];
    }
    int64_t live = 0, peak = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const ir_node *n = &g->nodes[i];
        if (!aliases(n)) live += ir_shape_numel(&n->shape) * 4;
        if (live > peak) peak = live;
        for (int j = 0; j < i; j++)
            if (last_use[j] == i) {
                const ir_node *m = &g->nodes[j];
                if (!aliases(m)) live -= ir_shape_numel(&m->shape) * 4;
            }
    }
    return peak;
}

void ir_graph_finish(ir_graph *g) {
    g->params = 0;
    g->flops = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        ir_node *n = &g->nodes[i];
        n->n_param_elems = 0;
        for (int p = 0; p < n->n_params; p++) {
            int64_t k = ir_shape_numel(&n->params[p].shape);
            n->n_param_elems += k;
            if (n->params[p].trainable) g->params += k;
        }
        g->flops += n->flops;
    }
    g->memory = peak_memory(g);
}
