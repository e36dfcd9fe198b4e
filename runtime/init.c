/* init.c: parameter allocation and initialisation, matching PyTorch's
 * defaults so that a recipe carried over from PyTorch behaves the same:
 * Kaiming-uniform with a = sqrt(5) (bound 1/sqrt(fan_in)) for dense and
 * conv weights, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) biases, batchnorm and
 * layernorm affine 1/0, running statistics 0/1.  INIT_XAVIER replaces the
 * weight init by Xavier-uniform (bound sqrt(6/(fan_in+fan_out))) and keeps
 * PyTorch's bias init.  Sequence layers: the per-token linear as dense,
 * embeddings N(0, 1) as nn.Embedding, learned position codes N(0, 0.02)
 * as ViT. */
#include <math.h>
#include <stdlib.h>
#include "data.h"
#include "exec.h"

/* fan_in/fan_out of a dense or conv weight as PyTorch computes them. */
static void fans(const ir_param *w, double *fin, double *fout) {
    double recept = 1.0;
    for (int i = 2; i < w->shape.rank; i++) recept *= (double)w->shape.d[i];
    *fin = (w->shape.rank > 1 ? (double)w->shape.d[1] : 1.0) * recept;
    *fout = (double)w->shape.d[0] * recept;
}

static void fill_uniform(nasc_rng *r, float *d, int64_t n, double bound) {
    for (int64_t i = 0; i < n; i++) d[i] = (float)((2.0 * nasc_rng_uniform(r) - 1.0) * bound);
}

static void fill_normal(nasc_rng *r, float *d, int64_t n, double std) {
    for (int64_t i = 0; i < n; i++) d[i] = (float)(std * rt_rng_normal(r));
}

static void fill_const(float *d, int64_t n, float v) {
    for (int64_t i = 0; i < n; i++) d[i] = v;
}

static void init_node(ir_node *n, rt_init_kind kind, nasc_rng *r) {
    const ir_param *w = NULL;
    for (int p = 0; p < n->n_params; p++)
        if (n->params[p].role == PARAM_WEIGHT) w = &n->params[p];
    int affine = n->op == IR_DENSE || n->op == IR_CONV2D || n->op == IR_CONV1D || n->op == IR_LINEAR;
    double fin = 1.0, fout = 1.0;
    if (affine && w) fans(w, &fin, &fout);
    for (int p = 0; p < n->n_params; p++) {
        ir_param *pr = &n->params[p];
        int64_t cnt = ir_shape_numel(&pr->shape);
        switch (pr->role) {
        case PARAM_WEIGHT:
            if (n->op == IR_EMBEDDING ||
                n->op == IR_POSITIONAL) /* nn.Embedding: N(0, 1); ViT's code: N(0, 0.02) */
                fill_normal(r, pr->data, cnt, n->op == IR_EMBEDDING ? 1.0 : 0.02);
            else if (!affine)
                fill_const(pr->data, cnt, 1.0f);
            else if (kind == INIT_XAVIER)
                fill_uniform(r, pr->data, cnt, sqrt(6.0 / (fin + fout)));
            else
                fill_uniform(r, pr->data, cnt, 1.0 / sqrt(fin));
            break;
        case PARAM_BIAS:
            if (affine)
                fill_uniform(r, pr->data, cnt, 1.0 / sqrt(fin));
            else
                fill_const(pr->data, cnt, 0.0f);
            break;
        case PARAM_RUNNING_MEAN: fill_const(pr->data, cnt, 0.0f); break;
        case PARAM_RUNNING_VAR: fill_const(pr->data, cnt, 1.0f); break;
        }
    }
}

int rt_params_init(ir_graph *g, rt_init_kind init, uint64_t seed) {
    if (!g) return -1;
    /* Allocate everything first so a failure leaves nothing half-done. */
    for (int i = 0; i < g->n_nodes; i++)
        for (int p = 0; p < g->nodes[i].n_params; p++) {
            ir_param *pr = &g->nodes[i].params[p];
            int64_t cnt = ir_shape_numel(&pr->shape);
            if (!pr->data && cnt > 0 && !(pr->data = malloc(sizeof(float) * (size_t)cnt))) return -1;
        }
    nasc_rng r;
    nasc_rng_seed(&r, seed);
    for (int i = 0; i < g->n_nodes; i++) init_node(&g->nodes[i], init, &r);
    return 0;
}

void rt_params_free(ir_graph *g) {
    if (!g) return;
    for (int i = 0; i < g->n_nodes; i++)
        for (int p = 0; p < g->nodes[i].n_params; p++) {
            free(g->nodes[i].params[p].data);
            g->nodes[i].params[p].data = NULL;
        }
}
