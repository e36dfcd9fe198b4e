/* graph.c: small utilities over the concrete graph IR (activation names,
 * shapes, totals).  What each operation is lives in ops.c. */
#include <stdio.h>
#include <string.h>
#include "graph.h"

static const char *act_names[ACT_COUNT] = {
    "relu", "relu6", "gelu", "tanh", "sigmoid", "swish", "hswish", "identity",
};

int64_t ir_shape_numel(const ir_shape *s) {
    int64_t n = 1;
    for (int i = 0; i < s->rank; i++) n *= s->d[i];
    return n;
}

const char *ir_act_name(ir_act a) { return (unsigned)a < ACT_COUNT ? act_names[a] : "?"; }

char *ir_shape_str(const ir_shape *s, char *buf, int cap) {
    int n = snprintf(buf, (size_t)cap, "[");
    for (int i = 0; i < s->rank && n < cap; i++)
        n += snprintf(buf + n, (size_t)(cap - n), "%s%lld", i ? ", " : "", (long long)s->d[i]);
    if (n < cap) snprintf(buf + n, (size_t)(cap - n), "]");
    return buf;
}

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
