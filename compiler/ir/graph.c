/* graph.c: small utilities over the concrete graph IR (names, shapes,
 * totals, and the structural verifier run between passes). */
#include <stdio.h>
#include <string.h>
#include "graph.h"

static const char *op_names[IR_OP_COUNT] = {
    "input",          "dense",   "conv2d",  "conv1d", "batchnorm", "layernorm", "act",  "maxpool", "avgpool",
    "global_avgpool", "flatten", "dropout", "concat", "add",       "mul",       "zero", "softmax",
};
static const char *act_names[ACT_COUNT] = {
    "relu", "relu6", "gelu", "tanh", "sigmoid", "swish", "hswish", "identity",
};

int64_t ir_shape_numel(const ir_shape *s) {
    int64_t n = 1;
    for (int i = 0; i < s->rank; i++) n *= s->d[i];
    return n;
}

const char *ir_op_name(ir_op op) { return (unsigned)op < IR_OP_COUNT ? op_names[op] : "?"; }
const char *ir_act_name(ir_act a) { return (unsigned)a < ACT_COUNT ? act_names[a] : "?"; }

int ir_act_from_name(const char *name) {
    for (int i = 0; i < ACT_COUNT; i++)
        if (!strcmp(name, act_names[i])) return i;
    return -1;
}

char *ir_shape_str(const ir_shape *s, char *buf, int cap) {
    int n = snprintf(buf, (size_t)cap, "[");
    for (int i = 0; i < s->rank && n < cap; i++)
        n += snprintf(buf + n, (size_t)(cap - n), "%s%lld", i ? ", " : "", (long long)s->d[i]);
    if (n < cap) snprintf(buf + n, (size_t)(cap - n), "]");
    return buf;
}

/* Peak activation memory at batch 1: walk the nodes in order, keeping each
 * output alive until its last consumer has run.  Flatten and dropout alias
 * their input at inference, so they cost nothing. */
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
        if ((n->op == IR_FLATTEN || n->op == IR_DROPOUT) && n->n_in == 1 && last_use[n->in[0]] < last_use[i])
            last_use[n->in[0]] = last_use[i];
    }
    int64_t live = 0, peak = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const ir_node *n = &g->nodes[i];
        bool alias = n->op == IR_FLATTEN || n->op == IR_DROPOUT;
        if (!alias) live += ir_shape_numel(&n->shape) * 4;
        if (live > peak) peak = live;
        for (int j = 0; j < i; j++)
            if (last_use[j] == i) {
                const ir_node *m = &g->nodes[j];
                if (m->op != IR_FLATTEN && m->op != IR_DROPOUT) live -= ir_shape_numel(&m->shape) * 4;
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

const char *ir_graph_verify(const ir_graph *g) {
    static char msg[256];
    if (g->n_nodes <= 0) return "graph has no nodes";
    if (g->output < 0 || g->output >= g->n_nodes) return "output id out of range";
    for (int i = 0; i < g->n_nodes; i++) {
        const ir_node *n = &g->nodes[i];
        if (n->id != i) {
            snprintf(msg, sizeof msg, "node %d has id %d", i, n->id);
            return msg;
        }
        if (n->shape.rank < 1 || n->shape.rank > IR_MAX_RANK) {
            snprintf(msg, sizeof msg, "node %d (%s) has rank %d", i, ir_op_name(n->op), n->shape.rank);
            return msg;
        }
        for (int k = 0; k < n->shape.rank; k++)
            if (n->shape.d[k] <= 0) {
                snprintf(msg, sizeof msg, "node %d (%s) has a dimension %lld", i, ir_op_name(n->op),
                         (long long)n->shape.d[k]);
                return msg;
            }
        for (int j = 0; j < n->n_in; j++)
            if (n->in[j] < 0 || n->in[j] >= i) {
                snprintf(msg, sizeof msg, "node %d (%s) reads node %d out of order", i, ir_op_name(n->op),
                         n->in[j]);
                return msg;
            }
        if (n->op == IR_INPUT ? n->n_in != 0 : n->n_in < 1) {
            snprintf(msg, sizeof msg, "node %d (%s) has %d inputs", i, ir_op_name(n->op), n->n_in);
            return msg;
        }
    }
    return NULL;
}
