/* ps_graph.c: the passes that rewrite the private ir_graph copy.
 *
 * Batchnorm folding and dead-node removal keep the copy a valid ir_graph,
 * so the reference executor can run the graph before and after them (that
 * is how they are tested).  The copy shares weight buffers with the
 * caller's graph until a pass rewrites them (copy on write), so copying a
 * large model for a JIT compile costs no weight memcpy.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "passes.h"

void *ps_own(ps_state *ps, size_t bytes) {
    if (ps->n_owned == ps->cap_owned) {
        int cap = ps->cap_owned ? 2 * ps->cap_owned : 64;
        void **o = realloc(ps->owned, (size_t)cap * sizeof *o);
        if (!o) return NULL;
        ps->owned = o;
        ps->cap_owned = cap;
    }
    void *p = calloc(1, bytes ? bytes : 1);
    if (p) ps->owned[ps->n_owned++] = p;
    return p;
}

static const ir_param *find_param(const ir_node *n, ir_param_role role) {
    for (int i = 0; i < n->n_params; i++)
        if (n->params[i].role == role) return &n->params[i];
    return NULL;
}

static bool same_shape(const ir_shape *a, const ir_shape *b) {
    if (a->rank != b->rank) return false;
    for (int i = 0; i < a->rank; i++)
        if (a->d[i] != b->d[i]) return false;
    return true;
}

int ps_state_init(ps_state *ps, const ir_graph *g, const ps_opts *opts, char *err, size_t errcap) {
    memset(ps, 0, sizeof *ps);
    ps->opts = opts;
    char buf[256];
    const char *v = ir_graph_verify(g, IR_VERIFY_WEIGHTS, buf, sizeof buf);
    if (v) {
        snprintf(err, errcap, "invalid graph: %s", v);
        return -1;
    }
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].op == IR_INPUT && i != g->input) {
            snprintf(err, errcap, "cannot compile: node %d is a second input", i);
            return -1;
        }
    ps->g = *g;
    ps->g.nodes = ps_own(ps, (size_t)g->n_nodes * sizeof(ir_node));
    if (!ps->g.nodes) goto oom;
    for (int i = 0; i < g->n_nodes; i++) {
        ir_node *n = &ps->g.nodes[i];
        *n = g->nodes[i];
        n->in = ps_own(ps, (size_t)(n->n_in ? n->n_in : 1) * sizeof(int));
        if (!n->in) goto oom;
        if (n->n_in > 0) memcpy(n->in, g->nodes[i].in, (size_t)n->n_in * sizeof(int));
    }
    return 0;
oom:
    snprintf(err, errcap, "out of memory copying the graph");
    ps_state_free(ps);
    return -1;
}

void ps_state_free(ps_state *ps) {
    for (int i = 0; i < ps->n_owned; i++) free(ps->owned[i]);
    free(ps->owned);
    ps->owned = NULL;
    ps->n_owned = ps->cap_owned = 0;
    ps->lg = NULL; /* its memory was owned too */
}

/* Number of readers of each node (+1 for the graph output). */
static void count_uses(const ir_graph *g, int *uses) {
    memset(uses, 0, (size_t)g->n_nodes * sizeof(int));
    for (int i = 0; i < g->n_nodes; i++)
        for (int j = 0; j < g->nodes[i].n_in; j++) uses[g->nodes[i].in[j]]++;
    uses[g->output]++;
}

/* Removes nodes: repl[i] == i keeps node i; repl[i] = j < i redirects its
 * readers to j.  Nodes not reaching the output are dropped too; ids are
 * renumbered and the totals recomputed. */
static int compact(ps_state *ps, int *repl, char *err, size_t errcap) {
    ir_graph *g = &ps->g;
    int n = g->n_nodes;
    for (int i = 0; i < n; i++) /* resolve chains; repl[i] <= i */
        if (repl[i] != i) repl[i] = repl[repl[i]];
    for (int i = 0; i < n; i++)
        for (int j = 0; j < g->nodes[i].n_in; j++) g->nodes[i].in[j] = repl[g->nodes[i].in[j]];
    g->output = repl[g->output];
    char *live = ps_own(ps, (size_t)n);
    int *newid = ps_own(ps, (size_t)n * sizeof(int));
    if (!live || !newid) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    live[g->output] = 1;
    live[g->input] = 1;
    for (int i = n - 1; i >= 0; i--)
        if (live[i] && repl[i] == i)
            for (int j = 0; j < g->nodes[i].n_in; j++) live[g->nodes[i].in[j]] = 1;
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (!live[i] || repl[i] != i) {
            newid[i] = -1;
            continue;
        }
        newid[i] = m;
        ir_node nd = g->nodes[i];
        nd.id = m;
        for (int j = 0; j < nd.n_in; j++) nd.in[j] = newid[nd.in[j]];
        g->nodes[m++] = nd;
    }
    g->n_nodes = m;
    g->output = newid[g->output];
    g->input = newid[g->input];
    ir_graph_finish(g);
    return 0;
}

/* Folds y = bn(conv(x)) into conv with W' = W*s, b' = (b - mean)*s + beta,
 * s = gamma / sqrt(var + eps), when the conv/dense feeds only the bn. */
static int fold_one(ps_state *ps, ir_node *bn, ir_node *p) {
    const ir_param *gam = find_param(bn, PARAM_WEIGHT), *bet = find_param(bn, PARAM_BIAS);
    const ir_param *mu = find_param(bn, PARAM_RUNNING_MEAN), *var = find_param(bn, PARAM_RUNNING_VAR);
    int64_t ch = bn->shape.d[0];
    ir_param *w = NULL, *b = NULL;
    for (int i = 0; i < p->n_params; i++) {
        if (p->params[i].role == PARAM_WEIGHT) w = &p->params[i];
        if (p->params[i].role == PARAM_BIAS) b = &p->params[i];
    }
    if (!b && p->n_params >= IR_MAX_PARAMS) return 0;
    int64_t wn = ir_shape_numel(&w->shape), per = wn / ch;
    float *nw = ps_own(ps, (size_t)wn * sizeof(float));
    float *nb = ps_own(ps, (size_t)ch * sizeof(float));
    char *name = ps_own(ps, strlen(p->name ? p->name : "node") + 8);
    if (!nw || !nb || !name) return -1;
    for (int64_t c = 0; c < ch; c++) {
        double s = gam->data[c] / sqrt((double)var->data[c] + bn->eps);
        for (int64_t k = 0; k < per; k++) nw[c * per + k] = (float)(w->data[c * per + k] * s);
        double b0 = b ? b->data[c] : 0.0;
        nb[c] = (float)((b0 - mu->data[c]) * s + bet->data[c]);
    }
    w->data = nw;
    if (!b) {
        sprintf(name, "%s.bias", p->name ? p->name : "node");
        b = &p->params[p->n_params++];
        b->name = name;
        b->role = PARAM_BIAS;
        b->shape.rank = 1;
        b->shape.d[0] = ch;
        b->trainable = true;
    }
    b->data = nb;
    p->bias = true;
    return 1;
}

static bool foldable(const ir_graph *g, const ir_node *bn, const int *uses) {
    const ir_node *p = &g->nodes[bn->in[0]];
    if (uses[p->id] != 1 || p->id == g->input) return false;
    if (p->op == IR_CONV2D || p->op == IR_CONV1D) return true;
    /* dense: the bn channel must be the unit axis (rank-1 output) */
    return p->op == IR_DENSE && p->shape.rank == 1;
}

int ps_pass_fold_bn(ps_state *ps, char *err, size_t errcap) {
    ir_graph *g = &ps->g;
    int *uses = ps_own(ps, (size_t)g->n_nodes * sizeof(int));
    int *repl = ps_own(ps, (size_t)g->n_nodes * sizeof(int));
    if (!uses || !repl) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    count_uses(g, uses);
    int folded = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        repl[i] = i;
        ir_node *n = &g->nodes[i];
        if (n->op != IR_BATCHNORM || !foldable(g, n, uses)) continue;
        int r = fold_one(ps, n, &g->nodes[n->in[0]]);
        if (r < 0) {
            snprintf(err, errcap, "out of memory folding batchnorm");
            return -1;
        }
        if (r > 0) {
            repl[i] = n->in[0];
            folded++;
        }
    }
    return folded ? compact(ps, repl, err, errcap) : 0;
}

/* Drops zero inputs of adds; returns the replacement decision for node n. */
static int dce_node(ir_graph *g, ir_node *n, const int *repl) {
    int id = n->id;
    switch (n->op) {
    case IR_DROPOUT: return n->in[0];
    case IR_ACT:
        return n->act == ACT_IDENTITY && same_shape(&n->shape, &g->nodes[n->in[0]].shape) ? n->in[0] : id;
    case IR_CONCAT: return n->n_in == 1 && same_shape(&n->shape, &g->nodes[n->in[0]].shape) ? n->in[0] : id;
    case IR_MUL:
        for (int j = 0; j < 2; j++)
            if (g->nodes[repl[n->in[j]]].op == IR_ZERO) {
                n->op = IR_ZERO; /* x * 0 is 0; keep input 0 for the shape */
                n->n_in = 1;
                break;
            }
        return id;
    case IR_ADD: {
        int k = 0, first = n->in[0];
        for (int j = 0; j < n->n_in; j++)
            if (g->nodes[repl[n->in[j]]].op != IR_ZERO) n->in[k++] = n->in[j];
        if (k == 0) {
            n->op = IR_ZERO;
            n->in[0] = first;
            n->n_in = 1;
            return id;
        }
        n->n_in = k;
        return k == 1 && same_shape(&n->shape, &g->nodes[n->in[0]].shape) ? n->in[0] : id;
    }
    default: return id;
    }
}

int ps_pass_dce(ps_state *ps, char *err, size_t errcap) {
    ir_graph *g = &ps->g;
    int *repl = ps_own(ps, (size_t)g->n_nodes * sizeof(int));
    if (!repl) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    for (int i = 0; i < g->n_nodes; i++) {
        ir_node *n = &g->nodes[i];
        for (int j = 0; j < n->n_in; j++) n->in[j] = repl[n->in[j]];
        repl[i] = dce_node(g, n, repl);
    }
    return compact(ps, repl, err, errcap);
}
