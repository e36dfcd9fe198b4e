/* cg_onnx.c: writes a trained graph as an ONNX model (see cg_onnx.h).
 *
 * Each ir node becomes one or a few ONNX nodes whose output is named after
 * the layer (the graph's output is "output").  Every protobuf message is
 * allocated through one builder that remembers its allocations, so one
 * free releases the whole model whatever failed half-way.  Weight
 * initializers point at the graph's own float arrays (raw_data, little
 * endian as this host), so exporting copies no weights.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "cg_onnx.h"
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "onnx.pb-c.h"

typedef struct ox {
    Onnx__GraphProto *g;
    size_t cap_node, cap_init;
    void **own;
    size_t n_own, cap_own;
    bool oom;
    int n_tmp; /* counter for helper value names */
    char *err;
    size_t errcap;
} ox;

/* ---- allocation: everything is owned by the builder ---- */

static void *ox_keep(ox *x, void *p) {
    if (!p) {
        x->oom = true;
        return NULL;
    }
    if (x->n_own == x->cap_own) {
        size_t cap = x->cap_own ? 2 * x->cap_own : 256;
        void **own = realloc(x->own, cap * sizeof *own);
        if (!own) {
            free(p);
            x->oom = true;
            return NULL;
        }
        x->own = own, x->cap_own = cap;
    }
    x->own[x->n_own++] = p;
    return p;
}

static void *ox_alloc(ox *x, size_t bytes) { return ox_keep(x, calloc(1, bytes ? bytes : 1)); }

static char *ox_str(ox *x, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0) s = NULL;
    va_end(ap);
    return ox_keep(x, s);
}

static void ox_free(ox *x) {
    for (size_t i = 0; i < x->n_own; i++) free(x->own[i]);
    free(x->own);
}

/* ---- graph pieces ---- */

static Onnx__NodeProto *ox_node(ox *x, const char *op, const char *name, int n_in, const char *const *in,
                                const char *out) {
    Onnx__NodeProto *n = ox_alloc(x, sizeof *n);
    char **ins = ox_alloc(x, (size_t)n_in * sizeof *ins);
    char **outs = ox_alloc(x, sizeof *outs);
    if (x->oom || x->g->n_node == x->cap_node) {
        x->oom = true;
        return NULL;
    }
    onnx__node_proto__init(n);
    for (int i = 0; i < n_in; i++) ins[i] = (char *)in[i];
    outs[0] = (char *)out;
    n->op_type = (char *)op;
    n->name = (char *)name;
    n->n_input = (size_t)n_in;
    n->input = ins;
    n->n_output = 1;
    n->output = outs;
    x->g->node[x->g->n_node++] = n;
    return n;
}

static Onnx__AttributeProto *ox_attr(ox *x, Onnx__NodeProto *n, const char *name) {
    if (!n) return NULL;
    Onnx__AttributeProto *a = ox_alloc(x, sizeof *a);
    Onnx__AttributeProto **at = ox_alloc(x, (n->n_attribute + 1) * sizeof *at);
    if (x->oom) return NULL;
    onnx__attribute_proto__init(a);
    a->name = (char *)name;
    a->has_type = 1;
    if (n->n_attribute) memcpy(at, n->attribute, n->n_attribute * sizeof *at);
    at[n->n_attribute++] = a;
    n->attribute = at;
    return a;
}

static void attr_i(ox *x, Onnx__NodeProto *n, const char *name, int64_t v) {
    Onnx__AttributeProto *a = ox_attr(x, n, name);
    if (!a) return;
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    a->has_i = 1, a->i = v;
}

static void attr_f(ox *x, Onnx__NodeProto *n, const char *name, float v) {
    Onnx__AttributeProto *a = ox_attr(x, n, name);
    if (!a) return;
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
    a->has_f = 1, a->f = v;
}

static void attr_ints(ox *x, Onnx__NodeProto *n, const char *name, int k, const int *v) {
    Onnx__AttributeProto *a = ox_attr(x, n, name);
    int64_t *iv = ox_alloc(x, (size_t)k * sizeof *iv);
    if (!a || !iv) return;
    for (int i = 0; i < k; i++) iv[i] = v[i];
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
    a->n_ints = (size_t)k, a->ints = iv;
}

static Onnx__TensorProto *ox_tensor(ox *x, const char *name, int type, int rank, const int64_t *dims,
                                    const void *raw, size_t bytes) {
    Onnx__TensorProto *t = ox_alloc(x, sizeof *t);
    int64_t *d = ox_alloc(x, (size_t)rank * sizeof *d);
    if (x->oom) return NULL;
    onnx__tensor_proto__init(t);
    t->name = (char *)name;
    t->has_data_type = 1, t->data_type = type;
    if (rank) memcpy(d, dims, (size_t)rank * sizeof *d);
    t->n_dims = (size_t)rank, t->dims = d;
    t->has_raw_data = 1;
    t->raw_data.len = bytes;
    t->raw_data.data = (uint8_t *)raw;
    return t;
}

static const char *ox_init(ox *x, Onnx__TensorProto *t) {
    if (!t || x->g->n_initializer == x->cap_init) {
        x->oom = true;
        return "";
    }
    x->g->initializer[x->g->n_initializer++] = t;
    return t->name;
}

/* A float initializer with its own copy of v (for constants made here). */
static const char *ox_const_f(ox *x, const char *hint, int rank, const int64_t *dims, const float *v, int n) {
    float *c = ox_alloc(x, (size_t)n * sizeof *c);
    if (!c) return "";
    memcpy(c, v, (size_t)n * sizeof *c);
    return ox_init(x, ox_tensor(x, ox_str(x, "nasc.%s.%d", hint, x->n_tmp++),
                                ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, rank, dims, c, (size_t)n * sizeof *c));
}

static const char *ox_scalar(ox *x, const char *hint, float v) { return ox_const_f(x, hint, 0, NULL, &v, 1); }

static const char *ox_const_i64(ox *x, const char *hint, int n, const int64_t *v) {
    int64_t *c = ox_alloc(x, (size_t)n * sizeof *c), dim = n;
    if (!c) return "";
    memcpy(c, v, (size_t)n * sizeof *c);
    return ox_init(x, ox_tensor(x, ox_str(x, "nasc.%s.%d", hint, x->n_tmp++),
                                ONNX__TENSOR_PROTO__DATA_TYPE__INT64, 1, &dim, c, (size_t)n * sizeof *c));
}

/* A fresh intermediate value name derived from a layer's. */
static const char *ox_tmp(ox *x, const char *base, const char *what) {
    return ox_str(x, "%s/%s.%d", base, what, x->n_tmp++);
}

/* A [batch, per-sample shape] float value description. */
static Onnx__ValueInfoProto *ox_value_info(ox *x, const char *name, const ir_shape *s) {
    Onnx__ValueInfoProto *v = ox_alloc(x, sizeof *v);
    Onnx__TypeProto *tp = ox_alloc(x, sizeof *tp);
    Onnx__TypeProto__Tensor *tt = ox_alloc(x, sizeof *tt);
    Onnx__TensorShapeProto *sh = ox_alloc(x, sizeof *sh);
    Onnx__TensorShapeProto__Dimension **dims = ox_alloc(x, (size_t)(s->rank + 1) * sizeof *dims);
    if (x->oom) return NULL;
    onnx__value_info_proto__init(v);
    onnx__type_proto__init(tp);
    onnx__type_proto__tensor__init(tt);
    onnx__tensor_shape_proto__init(sh);
    for (int i = 0; i <= s->rank; i++) {
        Onnx__TensorShapeProto__Dimension *d = ox_alloc(x, sizeof *d);
        if (!d) return NULL;
        onnx__tensor_shape_proto__dimension__init(d);
        if (i == 0) {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            d->dim_param = "batch";
        } else {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            d->dim_value = s->d[i - 1];
        }
        dims[i] = d;
    }
    sh->n_dim = (size_t)s->rank + 1, sh->dim = dims;
    tt->has_elem_type = 1, tt->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    tt->shape = sh;
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    v->name = (char *)name;
    v->type = tp;
    return v;
}

/* ---- one ir node ---- */

static int ox_fail(ox *x, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->err, x->errcap, fmt, ap);
    va_end(ap);
    return -1;
}

/* The initializer of a node's parameter of the given role, or NULL. */
static const char *ox_param(ox *x, const ir_node *n, ir_param_role role) {
    for (int i = 0; i < n->n_params; i++) {
        const ir_param *p = &n->params[i];
        if (p->role != role) continue;
        int64_t numel = ir_shape_numel(&p->shape);
        return ox_init(x, ox_tensor(x, p->name, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, p->shape.rank,
                                    p->shape.d, p->data, (size_t)numel * sizeof(float)));
    }
    return NULL;
}

static int ox_act(ox *x, const ir_node *n, const char *in, const char *out) {
    const char *nm = n->name;
    switch (n->act) {
    case ACT_RELU: ox_node(x, "Relu", nm, 1, &in, out); return 0;
    case ACT_TANH: ox_node(x, "Tanh", nm, 1, &in, out); return 0;
    case ACT_SIGMOID: ox_node(x, "Sigmoid", nm, 1, &in, out); return 0;
    case ACT_HSWISH: ox_node(x, "HardSwish", nm, 1, &in, out); return 0;
    case ACT_IDENTITY: ox_node(x, "Identity", nm, 1, &in, out); return 0;
    case ACT_RELU6: {
        const char *a[3] = {in, ox_scalar(x, "zero", 0.0f), ox_scalar(x, "six", 6.0f)};
        ox_node(x, "Clip", nm, 3, a, out);
        return 0;
    }
    case ACT_SWISH: {
        const char *s = ox_tmp(x, nm, "sigmoid");
        ox_node(x, "Sigmoid", ox_tmp(x, nm, "Sigmoid"), 1, &in, s);
        const char *a[2] = {in, s};
        ox_node(x, "Mul", nm, 2, a, out);
        return 0;
    }
    case ACT_GELU: { /* 0.5 x (1 + erf(x / sqrt 2)), as the runtime computes it (Gelu is opset 20) */
        const char *t1 = ox_tmp(x, nm, "scaled"), *t2 = ox_tmp(x, nm, "erf"), *t3 = ox_tmp(x, nm, "one_plus"),
                   *t4 = ox_tmp(x, nm, "half_x");
        const char *a1[2] = {in, ox_scalar(x, "inv_sqrt2", 0.70710678f)};
        ox_node(x, "Mul", ox_tmp(x, nm, "Mul"), 2, a1, t1);
        ox_node(x, "Erf", ox_tmp(x, nm, "Erf"), 1, &t1, t2);
        const char *a3[2] = {t2, ox_scalar(x, "one", 1.0f)};
        ox_node(x, "Add", ox_tmp(x, nm, "Add"), 2, a3, t3);
        const char *a4[2] = {in, ox_scalar(x, "half", 0.5f)};
        ox_node(x, "Mul", ox_tmp(x, nm, "Mul"), 2, a4, t4);
        const char *a5[2] = {t4, t3};
        ox_node(x, "Mul", nm, 2, a5, out);
        return 0;
    }
    default: break;
    }
    return ox_fail(x, "cannot export layer %s to ONNX: activation '%s' has no ONNX form", nm,
                   ir_act_name(n->act));
}

/* Conv, MaxPool, AveragePool: the spatial attributes (rank-1 spatial dims). */
static void ox_window(ox *x, Onnx__NodeProto *o, const ir_node *n, int sp, bool conv) {
    int pads[4];
    for (int i = 0; i < sp; i++) pads[i] = pads[i + sp] = n->pad[i];
    attr_ints(x, o, "kernel_shape", sp, n->kernel);
    attr_ints(x, o, "strides", sp, n->stride);
    attr_ints(x, o, "pads", 2 * sp, pads);
    if (conv) {
        attr_ints(x, o, "dilations", sp, n->dilation);
        attr_i(x, o, "group", n->groups > 0 ? n->groups : 1);
    }
}

/* A channel vector Tensor[c] multiplying Tensor[c, h, w] (squeeze-excite)
 * scales channel by channel: ONNX broadcasts from the last dimension, so
 * it is reshaped to [batch, c, 1, 1] first.  Same-rank values pass through. */
static const char *ox_broadcast(ox *x, const char *nm, const char *v, const ir_shape *from,
                                const ir_shape *to) {
    if (from->rank >= to->rank) return v;
    int64_t dims[IR_MAX_RANK + 1] = {0};
    for (int i = 0; i < to->rank; i++) dims[i + 1] = i < from->rank ? from->d[i] : 1;
    const char *t = ox_tmp(x, nm, "per_channel");
    const char *a[2] = {v, ox_const_i64(x, "shape", to->rank + 1, dims)};
    ox_node(x, "Reshape", ox_tmp(x, nm, "Reshape"), 2, a, t);
    return t;
}

/* ---- sequence operations (issue 15): values are [batch, t, d] ---- */

/* Reshape v to [batch (0: kept), dims...]. */
static const char *ox_reshape(ox *x, const char *nm, const char *v, int k, const int64_t *dims) {
    int64_t d[8] = {0};
    for (int i = 0; i < k; i++) d[i + 1] = dims[i];
    const char *t = ox_tmp(x, nm, "reshaped"), *a[2] = {v, ox_const_i64(x, "shape", k + 1, d)};
    ox_node(x, "Reshape", ox_tmp(x, nm, "Reshape"), 2, a, t);
    return t;
}

static const char *ox_transpose(ox *x, const char *nm, const char *v, int k, const int *perm,
                                const char *out) {
    const char *t = out ? out : ox_tmp(x, nm, "transposed");
    attr_ints(x, ox_node(x, "Transpose", ox_tmp(x, nm, "Transpose"), 1, &v, t), "perm", k, perm);
    return t;
}

static const char *ox_binary(ox *x, const char *op, const char *nm, const char *a, const char *b,
                             const char *out) {
    const char *t = out ? out : ox_tmp(x, nm, op), *in[2] = {a, b};
    ox_node(x, op, out ? nm : ox_tmp(x, nm, op), 2, in, t);
    return t;
}

/* One of q, k, v of head layout: columns [which * inner, +inner) of the
 * packed [batch, t, 3 * inner], as [batch, heads, t, hd] (kt: [.., hd, t]). */
static const char *ox_qkv(ox *x, const char *nm, const char *in, const ir_node *n, int64_t t, int which,
                          bool kt) {
    int64_t inner = (int64_t)n->heads * n->head_dim, lo = which * inner, hi = lo + inner, ax = 2;
    const char *s = ox_tmp(x, nm, which == 0 ? "q" : which == 1 ? "k" : "v");
    const char *a[4] = {in, ox_const_i64(x, "starts", 1, &lo), ox_const_i64(x, "ends", 1, &hi),
                        ox_const_i64(x, "axes", 1, &ax)};
    ox_node(x, "Slice", ox_tmp(x, nm, "Slice"), 4, a, s);
    int64_t d[3] = {t, n->heads, n->head_dim};
    static const int heads_first[4] = {0, 2, 1, 3}, keys_t[4] = {0, 2, 3, 1};
    return ox_transpose(x, nm, ox_reshape(x, nm, s, 3, d), 4, kt ? keys_t : heads_first, NULL);
}

/* softmax(q k^T / sqrt(hd) (+ causal mask)) v per head, heads concatenated. */
static void ox_attention(ox *x, const ir_node *n, const char *nm, const char *in, int64_t t,
                         const char *out) {
    const char *q = ox_qkv(x, nm, in, n, t, 0, false), *kt = ox_qkv(x, nm, in, n, t, 1, true),
               *v = ox_qkv(x, nm, in, n, t, 2, false);
    const char *sc = ox_binary(x, "MatMul", nm, q, kt, NULL);
    sc = ox_binary(x, "Mul", nm, sc, ox_scalar(x, "scale", 1.0f / sqrtf((float)n->head_dim)), NULL);
    if (n->causal) { /* -1e30 after the diagonal: exp underflows to exactly 0 */
        float *m = ox_alloc(x, (size_t)(t * t) * sizeof *m);
        if (!m) return;
        for (int64_t i = 0; i < t; i++)
            for (int64_t j = 0; j < t; j++) m[i * t + j] = j > i ? -1e30f : 0.0f;
        int64_t md[2] = {t, t};
        sc = ox_binary(x, "Add", nm, sc, ox_const_f(x, "causal", 2, md, m, (int)(t * t)), NULL);
    }
    const char *p = ox_tmp(x, nm, "probs");
    attr_i(x, ox_node(x, "Softmax", ox_tmp(x, nm, "Softmax"), 1, &sc, p), "axis", -1);
    static const int tokens_first[4] = {0, 2, 1, 3};
    const char *ctx = ox_transpose(x, nm, ox_binary(x, "MatMul", nm, p, v, NULL), 4, tokens_first, NULL);
    int64_t d[2] = {t, (int64_t)n->heads * n->head_dim}, full[3] = {0, d[0], d[1]};
    const char *a[2] = {ctx, ox_const_i64(x, "shape", 3, full)};
    ox_node(x, "Reshape", nm, 2, a, out);
}

/* ViT patches: [b, c, h, w] -> [b, h/s, s, w/s, s] per channel -> [b, h/s, w/s, c, s, s] -> [b, np, c*s*s]. */
static void ox_patches(ox *x, const char *nm, const char *in, const ir_shape *s, int sz, const char *out) {
    int64_t c = s->d[0], hp = s->d[1] / sz, wp = s->d[2] / sz, d6[5] = {c, hp, sz, wp, sz};
    static const int perm[6] = {0, 2, 4, 1, 3, 5};
    const char *t = ox_transpose(x, nm, ox_reshape(x, nm, in, 5, d6), 6, perm, NULL);
    int64_t full[3] = {0, hp * wp, c * sz * sz};
    const char *a[2] = {t, ox_const_i64(x, "shape", 3, full)};
    ox_node(x, "Reshape", nm, 2, a, out);
}

static int ox_emit_seq(ox *x, const ir_graph *g, const ir_node *n, const char **val, const char *nm,
                       const char *out) {
    const char *in0 = val[n->in[0]];
    const ir_shape *xs = &g->nodes[n->in[0]].shape;
    switch (n->op) {
    case IR_LINEAR: { /* x W^T + b on every token */
        static const int swap[2] = {1, 0};
        const char *wt = ox_transpose(x, nm, ox_param(x, n, PARAM_WEIGHT), 2, swap, NULL);
        const char *b = ox_param(x, n, PARAM_BIAS);
        const char *y = ox_binary(x, "MatMul", b ? ox_tmp(x, nm, "MatMul") : nm, in0, wt, b ? NULL : out);
        if (b) ox_binary(x, "Add", nm, y, b, out);
        return 0;
    }
    case IR_ATTENTION: ox_attention(x, n, nm, in0, xs->d[0], out); return 0;
    case IR_EMBEDDING: {
        const char *ids = ox_tmp(x, nm, "ids");
        attr_i(x, ox_node(x, "Cast", ox_tmp(x, nm, "Cast"), 1, &in0, ids), "to",
               ONNX__TENSOR_PROTO__DATA_TYPE__INT64);
        const char *a[2] = {ox_param(x, n, PARAM_WEIGHT), ids};
        attr_i(x, ox_node(x, "Gather", nm, 2, a, out), "axis", 0);
        return 0;
    }
    case IR_POSITIONAL: {
        const char *code = NULL;
        if (n->sinusoidal) {
            int64_t cnt = ir_shape_numel(&n->shape);
            float *c = ox_alloc(x, (size_t)cnt * sizeof *c);
            if (!c) return 0;
            for (int64_t i = 0; i < cnt; i++)
                c[i] = ir_positional_code(i / n->shape.d[1], i % n->shape.d[1], n->shape.d[1]);
            code = ox_const_f(x, "sinusoid", 2, n->shape.d, c, (int)cnt);
        } else {
            code = ox_param(x, n, PARAM_WEIGHT);
        }
        ox_binary(x, "Add", nm, in0, code, out);
        return 0;
    }
    case IR_PATCHES: ox_patches(x, nm, in0, xs, n->kernel[0], out); return 0;
    case IR_MEAN_TOKENS: {
        Onnx__NodeProto *o = ox_node(x, "ReduceMean", nm, 1, &in0, out);
        int one = 1;
        attr_ints(x, o, "axes", 1, &one); /* an attribute until opset 18 */
        attr_i(x, o, "keepdims", 0);
        return 0;
    }
    case IR_MATMUL: ox_binary(x, "MatMul", nm, in0, val[n->in[1]], out); return 0;
    case IR_TRANSPOSE: {
        static const int perm[3] = {0, 2, 1};
        ox_transpose(x, nm, in0, 3, perm, out);
        return 0;
    }
    default: break;
    }
    return ox_fail(x, "cannot export layer %s to ONNX: operation '%s' has no ONNX form", nm,
                   ir_op_name(n->op));
}

static int ox_emit(ox *x, const ir_graph *g, const ir_node *n, const char **val) {
    const char *nm = n->name ? n->name : ox_str(x, "node%d", n->id), *out = val[n->id];
    const char *in0 = n->n_in ? val[n->in[0]] : NULL;
    for (int i = 0; i < n->n_params; i++)
        if (!n->params[i].data)
            return ox_fail(x, "cannot export layer %s to ONNX: its parameter %s has no weights loaded", nm,
                           n->params[i].name);
    Onnx__NodeProto *o;
    switch (n->op) {
    case IR_DENSE: {
        const char *a[3] = {in0, ox_param(x, n, PARAM_WEIGHT), ox_param(x, n, PARAM_BIAS)};
        o = ox_node(x, "Gemm", nm, a[2] ? 3 : 2, a, out);
        attr_i(x, o, "transB", 1);
        return 0;
    }
    case IR_CONV2D:
    case IR_CONV1D: {
        const char *a[3] = {in0, ox_param(x, n, PARAM_WEIGHT), ox_param(x, n, PARAM_BIAS)};
        o = ox_node(x, "Conv", nm, a[2] ? 3 : 2, a, out);
        ox_window(x, o, n, n->op == IR_CONV2D ? 2 : 1, true);
        return 0;
    }
    case IR_BATCHNORM: {
        const char *a[5] = {in0, ox_param(x, n, PARAM_WEIGHT), ox_param(x, n, PARAM_BIAS),
                            ox_param(x, n, PARAM_RUNNING_MEAN), ox_param(x, n, PARAM_RUNNING_VAR)};
        for (int i = 1; i < 5; i++)
            if (!a[i]) return ox_fail(x, "cannot export layer %s to ONNX: batchnorm lacks a parameter", nm);
        o = ox_node(x, "BatchNormalization", nm, 5, a, out);
        attr_f(x, o, "epsilon", n->eps);
        return 0;
    }
    case IR_LAYERNORM: {
        const char *a[3] = {in0, ox_param(x, n, PARAM_WEIGHT), ox_param(x, n, PARAM_BIAS)};
        if (!a[1]) return ox_fail(x, "cannot export layer %s to ONNX: layernorm lacks its weight", nm);
        o = ox_node(x, "LayerNormalization", nm, a[2] ? 3 : 2, a, out);
        attr_i(x, o, "axis", -1);
        attr_f(x, o, "epsilon", n->eps);
        return 0;
    }
    case IR_ACT: return ox_act(x, n, in0, out);
    case IR_MAXPOOL:
    case IR_AVGPOOL: /* ONNX pools floor the output size and AveragePool excludes padding by default */
        o = ox_node(x, n->op == IR_MAXPOOL ? "MaxPool" : "AveragePool", nm, 1, &in0, out);
        ox_window(x, o, n, g->nodes[n->in[0]].shape.rank - 1, false);
        return 0;
    case IR_GLOBAL_AVGPOOL: {
        const char *t = ox_tmp(x, nm, "pooled");
        ox_node(x, "GlobalAveragePool", ox_tmp(x, nm, "GlobalAveragePool"), 1, &in0, t);
        o = ox_node(x, "Flatten", nm, 1, &t, out);
        attr_i(x, o, "axis", 1);
        return 0;
    }
    case IR_FLATTEN:
        o = ox_node(x, "Flatten", nm, 1, &in0, out);
        attr_i(x, o, "axis", 1);
        return 0;
    case IR_DROPOUT: ox_node(x, "Identity", nm, 1, &in0, out); return 0;
    case IR_CONCAT:
    case IR_ADD:
    case IR_MUL: {
        const char **a = ox_alloc(x, (size_t)n->n_in * sizeof *a);
        if (!a) return 0;
        for (int i = 0; i < n->n_in; i++)
            a[i] = ox_broadcast(x, nm, val[n->in[i]], &g->nodes[n->in[i]].shape, &n->shape);
        const char *op = n->op == IR_CONCAT ? "Concat"
                         : n->op == IR_MUL  ? "Mul"
                         : n->n_in == 2     ? "Add"
                                            : "Sum";
        o = ox_node(x, op, nm, n->n_in, a, out);
        if (n->op == IR_CONCAT) attr_i(x, o, "axis", 1);
        return 0;
    }
    case IR_ZERO: { /* zeros of the input's shape, whatever its values (x * 0 would keep NaNs) */
        const char *s = ox_tmp(x, nm, "shape");
        ox_node(x, "Shape", ox_tmp(x, nm, "Shape"), 1, &in0, s);
        o = ox_node(x, "ConstantOfShape", nm, 1, &s, out);
        Onnx__AttributeProto *a = ox_attr(x, o, "value");
        float *zero = ox_alloc(x, sizeof *zero);
        int64_t one = 1;
        if (a && zero) {
            a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR;
            a->t = ox_tensor(x, "zero", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, &one, zero, sizeof *zero);
        }
        return 0;
    }
    case IR_SOFTMAX:
        o = ox_node(x, "Softmax", nm, 1, &in0, out);
        attr_i(x, o, "axis", -1);
        return 0;
    default: return ox_emit_seq(x, g, n, val, nm, out);
    }
}

/* The input standardisation as graph nodes: [N, C, rest] - mean[C, 1], / std[C, 1]. */
static const char *ox_normalize(ox *x, const ir_graph *g, const char *in) {
    const ir_input_norm *nm = &g->norm;
    const ir_shape *s = &g->nodes[g->input].shape;
    int64_t numel = ir_shape_numel(s), c = nm->channels;
    if (!c) return in;
    if (numel % c) {
        ox_fail(x, "cannot export to ONNX: %lld input values per sample do not split into %lld channels",
                (long long)numel, (long long)c);
        return NULL;
    }
    int64_t split[3] = {0, c, numel / c}, back[IR_MAX_RANK + 1] = {0}, cd[2] = {c, 1};
    for (int i = 0; i < s->rank; i++) back[i + 1] = s->d[i];
    const char *t1 = ox_tmp(x, "input", "channels"), *t2 = ox_tmp(x, "input", "centred"),
               *t3 = ox_tmp(x, "input", "scaled"), *t4 = "input.standardised";
    const char *a1[2] = {in, ox_const_i64(x, "shape", 3, split)};
    ox_node(x, "Reshape", "input.Reshape", 2, a1, t1);
    const char *a2[2] = {t1, ox_const_f(x, "mean", 2, cd, nm->mean, (int)c)};
    ox_node(x, "Sub", "input.Sub", 2, a2, t2);
    const char *a3[2] = {t2, ox_const_f(x, "std", 2, cd, nm->std, (int)c)};
    ox_node(x, "Div", "input.Div", 2, a3, t3);
    const char *a4[2] = {t3, ox_const_i64(x, "shape", s->rank + 1, back)};
    ox_node(x, "Reshape", "input.Reshape.back", 2, a4, t4);
    return t4;
}

static int ox_graph(ox *x, const ir_graph *g) {
    const char **val = ox_alloc(x, (size_t)g->n_nodes * sizeof *val);
    Onnx__ValueInfoProto **vi = ox_alloc(x, 2 * sizeof *vi);
    if (x->oom) return 0;
    for (int i = 0; i < g->n_nodes; i++)
        val[i] = i == g->output ? "output" : ox_str(x, "%s", g->nodes[i].name ? g->nodes[i].name : "value");
    const char *in = ox_normalize(x, g, "input");
    if (!in) return -1;
    val[g->input] = in;
    if (g->input == g->output) ox_node(x, "Identity", "output.Identity", 1, &in, "output");
    for (int i = 0; i < g->n_nodes && !x->oom; i++)
        if (g->nodes[i].op != IR_INPUT && ox_emit(x, g, &g->nodes[i], val)) return -1;
    vi[0] = ox_value_info(x, "input", &g->nodes[g->input].shape);
    vi[1] = ox_value_info(x, "output", &g->nodes[g->output].shape);
    x->g->n_input = 1, x->g->input = &vi[0];
    x->g->n_output = 1, x->g->output = &vi[1];
    return 0;
}

/* ---- the model and the file ---- */

static Onnx__StringStringEntryProto *ox_meta(ox *x, const char *k, const char *v) {
    Onnx__StringStringEntryProto *e = ox_alloc(x, sizeof *e);
    if (!e) return NULL;
    onnx__string_string_entry_proto__init(e);
    e->key = (char *)k, e->value = (char *)v;
    return e;
}

static const char *ox_norm_json(ox *x, const ir_input_norm *n) {
    char *s = ox_str(x, "{\"channels\": %d, \"mean\": [", n->channels);
    for (int i = 0; s && i < n->channels; i++)
        s = ox_str(x, "%s%s%.9g", s, i ? ", " : "", (double)n->mean[i]);
    if (s) s = ox_str(x, "%s], \"std\": [", s);
    for (int i = 0; s && i < n->channels; i++) s = ox_str(x, "%s%s%.9g", s, i ? ", " : "", (double)n->std[i]);
    return s ? ox_str(x, "%s]}", s) : "";
}

static int ox_write_file(const Onnx__ModelProto *m, const char *path, char *err, size_t errcap) {
    size_t size = onnx__model_proto__get_packed_size(m);
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) {
        snprintf(err, errcap, "out of memory writing %s", path);
        return -1;
    }
    onnx__model_proto__pack(m, buf);
    char tmp[1200];
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    int rc = -1, e = 0;
    if (f) {
        errno = 0;
        bool bad = fwrite(buf, 1, size, f) != size || fflush(f) != 0;
        e = errno;
        if (fclose(f) && !bad) bad = true, e = errno;
        if (!bad && rename(tmp, path) == 0)
            rc = 0;
        else if (!bad)
            e = errno;
        if (rc) unlink(tmp);
    } else {
        e = errno;
    }
    free(buf);
    if (rc) snprintf(err, errcap, "cannot write %s: %s", path, strerror(e ? e : EIO));
    return rc;
}

int cg_onnx_write(const ir_graph *g, const char *point_json, const char *out_path, char *err, size_t errcap) {
    ox x = {0};
    x.err = err, x.errcap = errcap;
    if (err && errcap) err[0] = 0;
    Onnx__ModelProto m;
    onnx__model_proto__init(&m);
    Onnx__GraphProto *gp = ox_alloc(&x, sizeof *gp);
    Onnx__OperatorSetIdProto *opset = ox_alloc(&x, sizeof *opset);
    Onnx__OperatorSetIdProto **opsets = ox_alloc(&x, sizeof *opsets);
    Onnx__StringStringEntryProto **meta = ox_alloc(&x, 3 * sizeof *meta);
    x.cap_node = 8 * (size_t)g->n_nodes + 8;
    x.cap_init = 8 * (size_t)g->n_nodes + 8;
    int rc = -1;
    if (gp) {
        onnx__graph_proto__init(gp);
        gp->node = ox_alloc(&x, x.cap_node * sizeof *gp->node);
        gp->initializer = ox_alloc(&x, x.cap_init * sizeof *gp->initializer);
        gp->name = (char *)(g->space ? g->space : "nasc");
        x.g = gp;
    }
    if (!x.oom) rc = ox_graph(&x, g);
    if (!rc && !x.oom) {
        onnx__operator_set_id_proto__init(opset);
        opset->domain = "";
        opset->has_version = 1, opset->version = CG_ONNX_OPSET;
        opsets[0] = opset;
        m.has_ir_version = 1, m.ir_version = 8; /* the IR version of opset 17 (ONNX 1.12) */
        m.n_opset_import = 1, m.opset_import = opsets;
        m.producer_name = "nasc";
        m.producer_version = NASC_VERSION;
        m.graph = gp;
        size_t nm = 0;
        if (point_json) meta[nm++] = ox_meta(&x, "nasc.point", point_json);
        meta[nm++] = ox_meta(&x, "nasc.space", g->space ? g->space : "");
        if (g->norm.channels) meta[nm++] = ox_meta(&x, "nasc.normalize", ox_norm_json(&x, &g->norm));
        m.n_metadata_props = nm, m.metadata_props = meta;
    }
    if (!rc && x.oom) rc = ox_fail(&x, "out of memory building the ONNX model");
    if (!rc) rc = ox_write_file(&m, out_path, err, errcap);
    ox_free(&x);
    return rc;
}
