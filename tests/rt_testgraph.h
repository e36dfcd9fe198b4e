/* rt_testgraph.h: a tiny builder of concrete ir_graphs for the runtime
 * tests (the front end that makes graphs from points is not needed to
 * test kernels).  Header-only, static functions; shapes and parameter
 * shapes are derived as the front end would. */
#ifndef NASC_RT_TESTGRAPH_H
#define NASC_RT_TESTGRAPH_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "exec.h"
#include "graph.h"

#define TG_MAX 64

typedef struct tg {
    ir_graph g;
    ir_node nodes[TG_MAX];
    int ins[TG_MAX][8];
    char names[TG_MAX][32];
    char pnames[TG_MAX][IR_MAX_PARAMS][48];
} tg;

static inline tg *tg_new(void) {
    tg *t = calloc(1, sizeof *t);
    t->g.nodes = t->nodes;
    t->g.space = "test";
    return t;
}

static inline ir_shape tg_shape(int rank, int64_t a, int64_t b, int64_t c) {
    ir_shape s = {rank, {a, b, c, 0}};
    return s;
}

static inline ir_node *tg_add_node(tg *t, ir_op op, int n_in, const int *in, ir_shape shape) {
    int id = t->g.n_nodes++;
    ir_node *n = &t->nodes[id];
    ir_node_init(n, op); /* the table's defaults (eps, momentum, dilation...) */
    n->id = id;
    snprintf(t->names[id], sizeof t->names[id], "%s%d", ir_op_name(op), id);
    n->name = t->names[id];
    n->n_in = n_in;
    n->in = t->ins[id];
    for (int i = 0; i < n_in; i++) n->in[i] = in[i];
    n->shape = shape;
    n->flops = ir_shape_numel(&shape);
    return n;
}

static inline void tg_param(tg *t, ir_node *n, ir_param_role role, ir_shape s, const char *suffix) {
    ir_param *p = &n->params[n->n_params];
    snprintf(t->pnames[n->id][n->n_params], sizeof t->pnames[0][0], "%s.%s", n->name, suffix);
    p->name = t->pnames[n->id][n->n_params];
    p->role = role;
    p->shape = s;
    p->trainable = role == PARAM_WEIGHT || role == PARAM_BIAS;
    n->n_params++;
}

static inline const ir_shape *tg_sh(tg *t, int id) { return &t->nodes[id].shape; }

static inline int tg_input(tg *t, int rank, int64_t a, int64_t b, int64_t c) {
    ir_node *n = tg_add_node(t, IR_INPUT, 0, NULL, tg_shape(rank, a, b, c));
    t->g.input = n->id;
    return n->id;
}

static inline int tg_dense(tg *t, int x, int units, int bias) {
    int64_t in = ir_shape_numel(tg_sh(t, x));
    ir_node *n = tg_add_node(t, IR_DENSE, 1, &x, tg_shape(1, units, 0, 0));
    n->units = units;
    n->bias = bias;
    n->flops = 2 * in * units;
    tg_param(t, n, PARAM_WEIGHT, tg_shape(2, units, in, 0), "weight");
    if (bias) tg_param(t, n, PARAM_BIAS, tg_shape(1, units, 0, 0), "bias");
    return n->id;
}

static inline int tg_conv(tg *t, int x, int filters, int k, int stride, int pad, int groups, int dil,
                          int bias) {
    const ir_shape *s = tg_sh(t, x);
    int two = s->rank == 3;
    int64_t c = s->d[0];
    int64_t l = s->d[s->rank - 1];
    int64_t lo = (l + 2 * pad - dil * (k - 1) - 1) / stride + 1;
    int64_t ho = two ? (s->d[1] + 2 * pad - dil * (k - 1) - 1) / stride + 1 : 0;
    ir_node *n = tg_add_node(t, two ? IR_CONV2D : IR_CONV1D, 1, &x,
                             two ? tg_shape(3, filters, ho, lo) : tg_shape(2, filters, lo, 0));
    n->filters = filters;
    n->kernel[0] = n->kernel[1] = k;
    n->stride[0] = n->stride[1] = stride;
    n->pad[0] = n->pad[1] = pad;
    n->dilation[0] = n->dilation[1] = dil;
    n->groups = groups;
    n->bias = bias;
    int64_t cg = c / groups;
    n->flops = 2 * ir_shape_numel(&n->shape) * cg * k * (two ? k : 1);
    if (two) {
        ir_shape w = {4, {filters, cg, k, k}};
        tg_param(t, n, PARAM_WEIGHT, w, "weight");
    } else {
        tg_param(t, n, PARAM_WEIGHT, tg_shape(3, filters, cg, k), "weight");
    }
    if (bias) tg_param(t, n, PARAM_BIAS, tg_shape(1, filters, 0, 0), "bias");
    return n->id;
}

static inline int tg_unary(tg *t, ir_op op, int x) { return tg_add_node(t, op, 1, &x, *tg_sh(t, x))->id; }

static inline int tg_bn(tg *t, int x) {
    ir_node *n = tg_add_node(t, IR_BATCHNORM, 1, &x, *tg_sh(t, x));
    ir_shape c = tg_shape(1, tg_sh(t, x)->d[0], 0, 0);
    tg_param(t, n, PARAM_WEIGHT, c, "weight");
    tg_param(t, n, PARAM_BIAS, c, "bias");
    tg_param(t, n, PARAM_RUNNING_MEAN, c, "running_mean");
    tg_param(t, n, PARAM_RUNNING_VAR, c, "running_var");
    return n->id;
}

static inline int tg_ln(tg *t, int x) {
    ir_node *n = tg_add_node(t, IR_LAYERNORM, 1, &x, *tg_sh(t, x));
    const ir_shape *s = tg_sh(t, x);
    ir_shape d = tg_shape(1, s->d[s->rank - 1], 0, 0);
    tg_param(t, n, PARAM_WEIGHT, d, "weight");
    tg_param(t, n, PARAM_BIAS, d, "bias");
    return n->id;
}

static inline int tg_act(tg *t, int x, ir_act a) {
    ir_node *n = tg_add_node(t, IR_ACT, 1, &x, *tg_sh(t, x));
    n->act = a;
    return n->id;
}

static inline int tg_pool(tg *t, ir_op op, int x, int k, int stride, int pad) {
    const ir_shape *s = tg_sh(t, x);
    int64_t l = s->d[s->rank - 1], lo = (l + 2 * pad - k) / stride + 1;
    ir_shape o = s->rank == 3 ? tg_shape(3, s->d[0], (s->d[1] + 2 * pad - k) / stride + 1, lo)
                              : tg_shape(2, s->d[0], lo, 0);
    ir_node *n = tg_add_node(t, op, 1, &x, o);
    n->kernel[0] = n->kernel[1] = k;
    n->stride[0] = n->stride[1] = stride;
    n->pad[0] = n->pad[1] = pad;
    return n->id;
}

static inline int tg_gap(tg *t, int x) {
    return tg_add_node(t, IR_GLOBAL_AVGPOOL, 1, &x, tg_shape(1, tg_sh(t, x)->d[0], 0, 0))->id;
}

static inline int tg_flatten(tg *t, int x) {
    return tg_add_node(t, IR_FLATTEN, 1, &x, tg_shape(1, ir_shape_numel(tg_sh(t, x)), 0, 0))->id;
}

static inline int tg_dropout(tg *t, int x, float p) {
    ir_node *n = tg_add_node(t, IR_DROPOUT, 1, &x, *tg_sh(t, x));
    n->p = p;
    return n->id;
}

static inline int tg_concat(tg *t, int n_in, const int *xs) {
    ir_shape s = *tg_sh(t, xs[0]);
    for (int i = 1; i < n_in; i++) s.d[0] += tg_sh(t, xs[i])->d[0];
    return tg_add_node(t, IR_CONCAT, n_in, xs, s)->id;
}

static inline int tg_sum(tg *t, int n_in, const int *xs) {
    return tg_add_node(t, IR_ADD, n_in, xs, *tg_sh(t, xs[0]))->id;
}

static inline int tg_mul(tg *t, int a, int b) {
    int xs[2] = {a, b};
    const ir_shape *sa = tg_sh(t, a), *sb = tg_sh(t, b);
    return tg_add_node(t, IR_MUL, 2, xs, ir_shape_numel(sa) >= ir_shape_numel(sb) ? *sa : *sb)->id;
}

/* ---- sequence ops (issue 15) ---- */

static inline int tg_linear(tg *t, int x, int units) {
    const ir_shape *in = tg_sh(t, x);
    int64_t d = in->d[1];
    ir_node *n = tg_add_node(t, IR_LINEAR, 1, &x, tg_shape(2, in->d[0], units, 0));
    n->units = units;
    tg_param(t, n, PARAM_WEIGHT, tg_shape(2, units, d, 0), "weight");
    tg_param(t, n, PARAM_BIAS, tg_shape(1, units, 0, 0), "bias");
    return n->id;
}

/* qkv projection, attention core and output projection, as the builtin. */
static inline int tg_attention(tg *t, int x, int heads, int hd, int causal) {
    int64_t tk = tg_sh(t, x)->d[0], d = tg_sh(t, x)->d[1];
    int q = tg_linear(t, x, 3 * heads * hd);
    ir_node *n = tg_add_node(t, IR_ATTENTION, 1, &q, tg_shape(2, tk, heads * hd, 0));
    n->heads = heads;
    n->head_dim = hd;
    n->causal = causal;
    return tg_linear(t, n->id, (int)d);
}

static inline int tg_embedding(tg *t, int x, int vocab, int dim) {
    ir_node *n = tg_add_node(t, IR_EMBEDDING, 1, &x, tg_shape(2, tg_sh(t, x)->d[0], dim, 0));
    n->vocab = vocab;
    n->units = dim;
    tg_param(t, n, PARAM_WEIGHT, tg_shape(2, vocab, dim, 0), "weight");
    return n->id;
}

static inline int tg_seq1(tg *t, ir_op op, int x, ir_shape s) { return tg_add_node(t, op, 1, &x, s)->id; }

static inline void tg_finish(tg *t, int output) {
    t->g.output = output;
    ir_graph_finish(&t->g);
}

static inline void tg_free(tg *t) {
    if (!t) return;
    rt_params_free(&t->g);
    free(t);
}

#endif
