/* exec.c: the reference executor of the concrete graph IR (see exec.h).
 *
 * Every node owns a [max_batch, numel] activation buffer (flatten aliases
 * its input) and, once backward has run, a gradient buffer of the same
 * size.  Buffers are allocated once in rt_exec_new, so a training step
 * does no allocation (two kernels take small per-call scratch).  Backward
 * walks the nodes in reverse order; the first contribution to an input's
 * gradient overwrites it and later ones add, which handles fan-out
 * (residual adds, concat) without zeroing every buffer first.  A relu
 * feeding only a fast 2x2 max pool has its backward folded into the pool.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "data.h"
#include "err.h"
#include "exec.h"
#include "kernels.h"
#include "kernels_seq.h"

/* im2col budget per conv chunk, and for all per-node cached columns
 * (floats): a cached column saves recomputing im2col in backward. */
#define RT_COL_CHUNK     (4L << 20)
#define RT_COL_OWN_TOTAL (16L << 20)

typedef struct rt_node_state {
    float *y, *dy;
    int own; /* y/dy are this node's (not aliases) */
    int64_t numel;
    rt_conv_geom cg;
    int conv_nb, own_col;
    float *col;
    rt_pool_geom pg;
    int32_t *argmax;
    float *pscratch;      /* fast max pooling backward scratch */
    int fuse_relu;        /* max pool: the relu feeding it is folded into its backward */
    int folded;           /* relu folded into its only consumer's backward: skip it */
    float *mean, *invstd; /* batchnorm [c]; layernorm [max_batch * rows] */
    int bn_c;
    int64_t inner;           /* batchnorm / global pool / mul broadcast inner size */
    float *mask;             /* dropout */
    int mul_bcast, mul_big;  /* mul: broadcast form, index of the full-size input */
    int pidx[IR_MAX_PARAMS]; /* trainable index of each param, or -1 */
    rt_attn_geom ag;         /* attention */
    float *probs, *row;      /* attention: P [max_batch, H, t, t] (training), a row of scratch */
    float *code;             /* positional: the sinusoidal table [t, d] (owned) */
} rt_node_state;

struct rt_exec {
    ir_graph *g;
    int max_batch, batch, train, infer_only;
    nasc_rng rng;
    rt_node_state *ns;
    float *scol, *stmp, *sdcol;
    int ntr;
    float **params, **grads;
    int64_t *sizes;
    ir_param **meta;
    float *dlogits;
    char *req, *reached;
    char *written; /* per gradient buffer owner: written in this backward */
    int *owner;    /* node whose buffer a node's value/gradient lives in (flatten aliases) */
    int want_dx, freeze, have_mask;
    char err[256]; /* why the last forward failed (a bad token id, a NaN in attention) */
};

/* ================= kernel geometry ================= */

static const ir_param *find_param(const ir_node *n, ir_param_role role) {
    for (int i = 0; i < n->n_params; i++)
        if (n->params[i].role == role) return &n->params[i];
    return NULL;
}

/* Builds the conv geometry of a conv2d/conv1d node from its input shape. */
static int conv_geom(const ir_node *n, const ir_shape *in, rt_conv_geom *cg) {
    memset(cg, 0, sizeof *cg);
    int two = n->op == IR_CONV2D;
    if (in->rank != (two ? 3 : 2)) return -1;
    cg->c = (int)in->d[0];
    cg->h = two ? (int)in->d[1] : 1;
    cg->w = (int)in->d[two ? 2 : 1];
    cg->f = n->filters;
    cg->kh = two ? n->kernel[0] : 1;
    cg->kw = n->kernel[two ? 1 : 0];
    cg->sh = two ? n->stride[0] : 1;
    cg->sw = n->stride[two ? 1 : 0];
    cg->ph = two ? n->pad[0] : 0;
    cg->pw = n->pad[two ? 1 : 0];
    cg->dh = two ? n->dilation[0] : 1;
    cg->dw = n->dilation[two ? 1 : 0];
    cg->groups = n->groups;
    return rt_conv_geom_finish(cg);
}

static int pool_geom(const ir_node *n, const ir_shape *in, rt_pool_geom *pg) {
    memset(pg, 0, sizeof *pg);
    if (in->rank != 3 && in->rank != 2) return -1;
    int two = in->rank == 3;
    pg->c = (int)in->d[0];
    pg->h = two ? (int)in->d[1] : 1;
    pg->w = (int)in->d[two ? 2 : 1];
    pg->kh = two ? n->kernel[0] : 1;
    pg->kw = n->kernel[two ? 1 : 0];
    pg->sh = two ? n->stride[0] : 1;
    pg->sw = n->stride[two ? 1 : 0];
    pg->ph = two ? n->pad[0] : 0;
    pg->pw = n->pad[two ? 1 : 0];
    return rt_pool_geom_finish(pg);
}

/* The table's verifier, with weights required: the runtime trusts every
 * shape and attribute of a graph that passes. */
int rt_exec_check(const ir_graph *g, char *err, size_t errcap) {
    char buf[256];
    const char *v = ir_graph_verify(g, IR_VERIFY_WEIGHTS, buf, sizeof buf);
    return v ? err_set(err, errcap, "invalid graph: %s", v) : 0;
}

/* ================= construction ================= */

static void *zalloc(int64_t n, size_t sz) { return n > 0 ? calloc((size_t)n, sz) : NULL; }

static int setup_node(rt_exec *e, int i, int64_t *own_total, int64_t *scol, int64_t *stmp) {
    ir_graph *g = e->g;
    ir_node *n = &g->nodes[i];
    rt_node_state *s = &e->ns[i];
    int mb = e->max_batch;
    const ir_shape *in = n->n_in ? &g->nodes[n->in[0]].shape : NULL;
    s->numel = ir_shape_numel(&n->shape);
    for (int p = 0; p < IR_MAX_PARAMS; p++) s->pidx[p] = -1;
    if (n->op == IR_FLATTEN) {
        s->y = e->ns[n->in[0]].y;
    } else {
        s->own = 1;
        if (!(s->y = zalloc(s->numel * mb, sizeof(float)))) return -1;
    }
    switch (n->op) {
    case IR_CONV2D:
    case IR_CONV1D: {
        conv_geom(n, in, &s->cg);
        int64_t per = rt_conv_col_size(&s->cg, 1);
        s->conv_nb = mb;
        if (per * mb > RT_COL_CHUNK) s->conv_nb = (int)(RT_COL_CHUNK / per > 0 ? RT_COL_CHUNK / per : 1);
        int64_t need = per * s->conv_nb;
        if (!e->infer_only && s->conv_nb == mb && need > 0 && *own_total + need <= RT_COL_OWN_TOTAL) {
            if (!(s->col = zalloc(need, sizeof(float)))) return -1;
            s->own_col = 1;
            *own_total += need;
        } else if (need > *scol) {
            *scol = need;
        }
        int64_t t = rt_conv_tmp_size(&s->cg, s->conv_nb);
        if (t > *stmp) *stmp = t;
        break;
    }
    case IR_MAXPOOL:
    case IR_AVGPOOL:
        pool_geom(n, in, &s->pg);
        if (n->op == IR_MAXPOOL && !rt_maxpool_fast(&s->pg) &&
            !(s->argmax = zalloc(s->numel * mb, sizeof(int32_t))))
            return -1;
        if (n->op == IR_MAXPOOL && rt_maxpool_fast(&s->pg) &&
            !(s->pscratch = zalloc((int64_t)s->pg.h * s->pg.w, sizeof(float))))
            return -1;
        break;
    case IR_BATCHNORM:
        s->bn_c = (int)in->d[0];
        s->inner = ir_shape_numel(in) / in->d[0];
        s->mean = zalloc(s->bn_c, sizeof(float));
        s->invstd = zalloc(s->bn_c, sizeof(float));
        if (!s->mean || !s->invstd) return -1;
        break;
    case IR_LAYERNORM: {
        int64_t rows = s->numel / n->shape.d[n->shape.rank - 1] * mb;
        s->mean = zalloc(rows, sizeof(float));
        s->invstd = zalloc(rows, sizeof(float));
        if (!s->mean || !s->invstd) return -1;
        break;
    }
    case IR_GLOBAL_AVGPOOL: s->inner = ir_shape_numel(in) / in->d[0]; break;
    case IR_DROPOUT:
        if (!(s->mask = zalloc(s->numel * mb, sizeof(float)))) return -1;
        break;
    case IR_MUL: {
        const ir_shape *b = &g->nodes[n->in[1]].shape;
        int64_t na = ir_shape_numel(in), nb = ir_shape_numel(b);
        s->mul_big = (na == nb || na == s->numel) ? 0 : 1;
        s->mul_bcast = na != nb;
        s->bn_c = (int)(s->mul_big ? b->d[0] : in->d[0]);
        s->inner = s->numel / s->bn_c;
        break;
    }
    case IR_ATTENTION: {
        int64_t t = in->d[0];
        s->ag = (rt_attn_geom){(int)t, n->heads, n->head_dim, n->causal};
        if (!(s->row = zalloc(t, sizeof(float)))) return -1;
        if (!e->infer_only && !(s->probs = zalloc(mb * (int64_t)n->heads * t * t, sizeof(float)))) return -1;
        break;
    }
    case IR_POSITIONAL:
        if (!n->sinusoidal) break;
        if (!(s->code = zalloc(s->numel, sizeof(float)))) return -1;
        rt_pos_sinusoid(s->code, (int)n->shape.d[0], (int)n->shape.d[1]);
        break;
    default: break;
    }
    return 0;
}

/* A relu whose only consumer is a fast 2x2 max pool has its backward
 * folded into the pool's: one pass over the big activation instead of
 * two, and no gradient buffer traffic for the relu's output. */
static void fold_relus(rt_exec *e) {
    ir_graph *g = e->g;
    int *uses = calloc((size_t)g->n_nodes, sizeof(int));
    if (!uses) return; /* folding is only an optimisation */
    for (int i = 0; i < g->n_nodes; i++)
        for (int j = 0; j < g->nodes[i].n_in; j++) uses[g->nodes[i].in[j]]++;
    for (int i = 0; i < g->n_nodes; i++) {
        const ir_node *n = &g->nodes[i];
        if (n->op != IR_MAXPOOL || !e->ns[i].pscratch) continue;
        int a = n->in[0];
        const ir_node *r = &g->nodes[a];
        if (r->op != IR_ACT || r->act != ACT_RELU || uses[a] != 1 || a == g->output) continue;
        e->ns[i].fuse_relu = 1;
        e->ns[a].folded = 1;
    }
    free(uses);
}

static int setup_trainables(rt_exec *e) {
    ir_graph *g = e->g;
    int cnt = 0;
    for (int i = 0; i < g->n_nodes; i++)
        for (int p = 0; p < g->nodes[i].n_params; p++) cnt += g->nodes[i].params[p].trainable;
    e->params = calloc((size_t)cnt + 1, sizeof(float *));
    e->grads = calloc((size_t)cnt + 1, sizeof(float *));
    e->sizes = calloc((size_t)cnt + 1, sizeof(int64_t));
    e->meta = calloc((size_t)cnt + 1, sizeof(ir_param *));
    if (!e->params || !e->grads || !e->sizes || !e->meta) return -1;
    for (int i = 0; i < g->n_nodes; i++)
        for (int p = 0; p < g->nodes[i].n_params; p++) {
            ir_param *pr = &g->nodes[i].params[p];
            if (!pr->trainable) continue;
            e->ns[i].pidx[p] = e->ntr;
            e->params[e->ntr] = pr->data;
            e->sizes[e->ntr] = ir_shape_numel(&pr->shape);
            e->meta[e->ntr] = pr;
            if (!e->infer_only && !(e->grads[e->ntr] = zalloc(e->sizes[e->ntr], sizeof(float)))) return -1;
            e->ntr++;
        }
    return 0;
}

static rt_exec *exec_new(ir_graph *g, int max_batch, uint64_t seed, int infer_only) {
    if (max_batch <= 0 || rt_exec_check(g, NULL, 0)) return NULL;
    rt_exec *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    e->g = g;
    e->max_batch = max_batch;
    e->infer_only = infer_only;
    nasc_rng_seed(&e->rng, seed);
    e->ns = calloc((size_t)g->n_nodes, sizeof *e->ns);
    e->req = calloc((size_t)g->n_nodes, 1);
    e->reached = calloc((size_t)g->n_nodes, 1);
    e->written = calloc((size_t)g->n_nodes, 1);
    e->owner = calloc((size_t)g->n_nodes, sizeof(int));
    for (int i = 0; e->owner && i < g->n_nodes; i++)
        e->owner[i] = g->nodes[i].op == IR_FLATTEN ? e->owner[g->nodes[i].in[0]] : i;
    int64_t own = 0, scol = 0, stmp = 0;
    int bad = !e->ns || !e->req || !e->reached || !e->written || !e->owner;
    for (int i = 0; i < g->n_nodes && !bad; i++) bad = setup_node(e, i, &own, &scol, &stmp) != 0;
    if (!bad) fold_relus(e);
    if (!bad && scol) bad = !(e->scol = zalloc(scol, sizeof(float)));
    if (!bad && stmp)
        bad = !(e->stmp = zalloc(stmp, sizeof(float))) || !(e->sdcol = zalloc(stmp, sizeof(float)));
    if (!bad) bad = setup_trainables(e) != 0;
    if (!bad && !infer_only)
        bad = !(e->dlogits = zalloc(ir_shape_numel(&g->nodes[g->output].shape) * max_batch, sizeof(float)));
    if (bad) {
        rt_exec_free(e);
        return NULL;
    }
    return e;
}

rt_exec *rt_exec_new(ir_graph *g, int max_batch, uint64_t seed) { return exec_new(g, max_batch, seed, 0); }

void rt_exec_free(rt_exec *e) {
    if (!e) return;
    for (int i = 0; e->ns && i < e->g->n_nodes; i++) {
        rt_node_state *s = &e->ns[i];
        if (s->own) {
            free(s->y);
            free(s->dy);
        }
        if (s->own_col) free(s->col);
        free(s->argmax);
        free(s->pscratch);
        free(s->mean);
        free(s->invstd);
        free(s->mask);
        free(s->probs);
        free(s->row);
        free(s->code);
    }
    for (int i = 0; e->grads && i < e->ntr; i++) free(e->grads[i]);
    free(e->ns);
    free(e->req);
    free(e->reached);
    free(e->written);
    free(e->owner);
    free(e->scol);
    free(e->stmp);
    free(e->sdcol);
    free(e->params);
    free(e->grads);
    free(e->sizes);
    free(e->meta);
    free(e->dlogits);
    free(e);
}

/* ================= forward ================= */

static float *pdata(const ir_node *n, ir_param_role role) {
    const ir_param *p = find_param(n, role);
    return p ? p->data : NULL;
}

static void dropout_mask(rt_exec *e, float *mask, int64_t len, float p) {
    float keep = p >= 1.0f ? 0.0f : 1.0f / (1.0f - p);
    for (int64_t i = 0; i < len; i++) mask[i] = nasc_rng_uniform(&e->rng) < (double)p ? 0.0f : keep;
}

/* Forward of the sequence ops; -1 with e->err naming the layer when the
 * input is bad (a token id outside the vocabulary, a non-finite score). */
static int fwd_seq(rt_exec *e, const ir_node *n, rt_node_state *s, const float *a, int nb) {
    const ir_shape *in = &e->g->nodes[n->in[0]].shape;
    int bs = 0, bp = 0;
    switch (n->op) {
    case IR_LINEAR:
        rt_dense_fwd(a, pdata(n, PARAM_WEIGHT), n->bias ? pdata(n, PARAM_BIAS) : NULL, s->y,
                     nb * (int)in->d[0], (int)in->d[1], n->units);
        break;
    case IR_ATTENTION:
        if (rt_attn_fwd(&s->ag, a, s->y, s->probs, s->row, nb, &bs))
            return err_set(e->err, sizeof e->err,
                           "attention layer '%s': a score is not finite (NaN or infinity in its input) in "
                           "sample %d of the batch",
                           n->name ? n->name : "?", bs + 1);
        break;
    case IR_EMBEDDING:
        if (rt_embed_fwd(a, pdata(n, PARAM_WEIGHT), s->y, nb, (int)in->d[0], n->units, n->vocab, &bs, &bp))
            return err_set(
                e->err, sizeof e->err,
                "embedding layer '%s': token id %g at position %d of sample %d of the batch is not "
                "an integer in [0, %d) (the vocabulary)",
                n->name ? n->name : "?", (double)a[(int64_t)bs * in->d[0] + bp], bp, bs + 1, n->vocab);
        break;
    case IR_POSITIONAL: rt_pos_fwd(a, s->code ? s->code : pdata(n, PARAM_WEIGHT), s->y, nb, s->numel); break;
    case IR_PATCHES:
        rt_patches_fwd(a, s->y, nb, (int)in->d[0], (int)in->d[1], (int)in->d[2], n->kernel[0]);
        break;
    case IR_MEAN_TOKENS: rt_mean_tokens_fwd(a, s->y, nb, (int)in->d[0], (int)in->d[1]); break;
    case IR_MATMUL:
        rt_matmul_fwd(a, e->ns[n->in[1]].y, s->y, nb, (int)in->d[0], (int)in->d[1], (int)n->shape.d[1]);
        break;
    case IR_TRANSPOSE: rt_transpose_fwd(a, s->y, nb, (int)in->d[0], (int)in->d[1]); break;
    default: break;
    }
    return 0;
}

static int fwd_node(rt_exec *e, int i, const float *x, int nb, int train) {
    ir_graph *g = e->g;
    ir_node *n = &g->nodes[i];
    rt_node_state *s = &e->ns[i];
    const float *a = n->n_in ? e->ns[n->in[0]].y : NULL;
    int64_t len = s->numel * nb;
    switch (n->op) {
    case IR_INPUT: memcpy(s->y, x, sizeof(float) * (size_t)len); break;
    case IR_DENSE:
        rt_dense_fwd(a, pdata(n, PARAM_WEIGHT), n->bias ? pdata(n, PARAM_BIAS) : NULL, s->y, nb,
                     (int)e->ns[n->in[0]].numel, n->units);
        break;
    case IR_CONV2D:
    case IR_CONV1D:
        rt_conv_fwd(&s->cg, a, pdata(n, PARAM_WEIGHT), n->bias ? pdata(n, PARAM_BIAS) : NULL, s->y, nb,
                    s->conv_nb, s->own_col ? s->col : e->scol, e->stmp);
        break;
    case IR_BATCHNORM:
        if (train)
            rt_bn_fwd_train(a, s->y, pdata(n, PARAM_WEIGHT), pdata(n, PARAM_BIAS),
                            pdata(n, PARAM_RUNNING_MEAN), pdata(n, PARAM_RUNNING_VAR), s->mean, s->invstd, nb,
                            s->bn_c, s->inner, n->eps, n->momentum);
        else
            rt_bn_fwd_eval(a, s->y, pdata(n, PARAM_WEIGHT), pdata(n, PARAM_BIAS),
                           pdata(n, PARAM_RUNNING_MEAN), pdata(n, PARAM_RUNNING_VAR), s->mean, s->invstd, nb,
                           s->bn_c, s->inner, n->eps);
        break;
    case IR_LAYERNORM: {
        int d = (int)n->shape.d[n->shape.rank - 1];
        rt_ln_fwd(a, s->y, pdata(n, PARAM_WEIGHT), pdata(n, PARAM_BIAS), s->mean, s->invstd, len / d, d,
                  n->eps);
        break;
    }
    case IR_ACT: rt_act_fwd(n->act, a, s->y, len); break;
    case IR_MAXPOOL: rt_maxpool_fwd(&s->pg, a, s->y, s->argmax, nb); break;
    case IR_AVGPOOL: rt_avgpool_fwd(&s->pg, a, s->y, nb); break;
    case IR_GLOBAL_AVGPOOL: rt_gap_fwd(a, s->y, len, s->inner); break;
    case IR_FLATTEN: break;
    case IR_DROPOUT:
        if (train && n->p > 0.0f) {
            if (!e->freeze || !e->have_mask) dropout_mask(e, s->mask, len, n->p);
            rt_mask_mul(a, s->mask, s->y, len);
        } else {
            memcpy(s->y, a, sizeof(float) * (size_t)len);
        }
        break;
    case IR_CONCAT: {
        int64_t off = 0;
        for (int j = 0; j < n->n_in; j++) {
            int64_t l = e->ns[n->in[j]].numel;
            rt_concat_fwd(e->ns[n->in[j]].y, s->y, nb, l, off, s->numel);
            off += l;
        }
        break;
    }
    case IR_ADD:
        memcpy(s->y, a, sizeof(float) * (size_t)len);
        for (int j = 1; j < n->n_in; j++) rt_axpy(s->y, e->ns[n->in[j]].y, len);
        break;
    case IR_MUL: {
        const float *big = e->ns[n->in[s->mul_big]].y, *sm = e->ns[n->in[1 - s->mul_big]].y;
        rt_mul_fwd(big, sm, s->y, nb, s->bn_c, s->inner, s->mul_bcast);
        break;
    }
    case IR_ZERO: memset(s->y, 0, sizeof(float) * (size_t)len); break;
    case IR_SOFTMAX: {
        int d = (int)n->shape.d[n->shape.rank - 1];
        rt_softmax_fwd(a, s->y, len / d, d);
        break;
    }
    default: return fwd_seq(e, n, s, a, nb);
    }
    return 0;
}

const float *rt_exec_forward(rt_exec *e, const float *x, int batch, int train) {
    if (!e || !x || batch <= 0 || batch > e->max_batch) return NULL;
    if (e->infer_only) train = 0;
    e->err[0] = 0;
    for (int i = 0; i < e->g->n_nodes; i++)
        if (fwd_node(e, i, x, batch, train)) return NULL;
    if (train) e->have_mask = 1;
    e->batch = batch;
    e->train = train;
    return e->ns[e->g->output].y;
}

float rt_exec_loss(rt_exec *e, const int32_t *labels, int batch, int *correct) {
    if (correct) *correct = 0;
    if (!e || !labels || e->infer_only || batch != e->batch) return NAN;
    int k = (int)e->ns[e->g->output].numel;
    return rt_softmax_xent(e->ns[e->g->output].y, labels, e->dlogits, batch, k, correct);
}

/* ================= backward ================= */

/* Gradient buffers are not zeroed up front: the first contribution to a
 * buffer in a backward pass overwrites it (acc = 0), later ones add.  A
 * kernel that can only accumulate gets a zeroed buffer from gacc. */
static float *gput(rt_exec *e, int id, int *acc) {
    if (!e->req[id]) return NULL;
    int o = e->owner[id];
    *acc = e->written[o];
    e->written[o] = 1;
    return e->ns[id].dy;
}

static float *gacc(rt_exec *e, int id, int nb) {
    int acc;
    float *d = gput(e, id, &acc);
    if (d && !acc) memset(d, 0, sizeof(float) * (size_t)(e->ns[e->owner[id]].numel * nb));
    return d;
}

static float *pgrad(rt_exec *e, const ir_node *n, ir_param_role role) {
    for (int p = 0; p < n->n_params; p++)
        if (n->params[p].role == role && e->ns[n->id].pidx[p] >= 0) return e->grads[e->ns[n->id].pidx[p]];
    return NULL;
}

/* dst = src or dst += src. */
static void put(float *dst, const float *src, int64_t len, int acc) {
    if (acc)
        rt_axpy(dst, src, len);
    else
        memcpy(dst, src, sizeof(float) * (size_t)len);
}

static void bwd_seq(rt_exec *e, const ir_node *n, rt_node_state *s, const float *a, int nb) {
    const ir_shape *in = &e->g->nodes[n->in[0]].shape;
    const float *dy = s->dy;
    int acc = 0;
    float *da;
    switch (n->op) {
    case IR_LINEAR:
        da = gput(e, n->in[0], &acc);
        rt_dense_bwd(a, pdata(n, PARAM_WEIGHT), dy, da, pgrad(e, n, PARAM_WEIGHT), pgrad(e, n, PARAM_BIAS),
                     nb * (int)in->d[0], (int)in->d[1], n->units, acc);
        break;
    case IR_ATTENTION:
        if ((da = gacc(e, n->in[0], nb))) rt_attn_bwd(&s->ag, a, s->probs, dy, da, s->row, nb);
        break;
    case IR_EMBEDDING:
        if (pgrad(e, n, PARAM_WEIGHT))
            rt_embed_bwd(a, dy, pgrad(e, n, PARAM_WEIGHT), nb, (int)in->d[0], n->units, n->vocab);
        break;
    case IR_POSITIONAL:
        rt_pos_bwd(dy, gacc(e, n->in[0], nb), s->code ? NULL : pgrad(e, n, PARAM_WEIGHT), nb, s->numel);
        break;
    case IR_PATCHES:
        if ((da = gacc(e, n->in[0], nb)))
            rt_patches_bwd(dy, da, nb, (int)in->d[0], (int)in->d[1], (int)in->d[2], n->kernel[0]);
        break;
    case IR_MEAN_TOKENS:
        if ((da = gacc(e, n->in[0], nb))) rt_mean_tokens_bwd(dy, da, nb, (int)in->d[0], (int)in->d[1]);
        break;
    case IR_MATMUL: {
        float *ga = gacc(e, n->in[0], nb), *gb = gacc(e, n->in[1], nb);
        rt_matmul_bwd(a, e->ns[n->in[1]].y, dy, ga, gb, nb, (int)in->d[0], (int)in->d[1], (int)n->shape.d[1]);
        break;
    }
    case IR_TRANSPOSE:
        if ((da = gacc(e, n->in[0], nb))) rt_transpose_bwd(dy, da, nb, (int)in->d[0], (int)in->d[1]);
        break;
    default: break;
    }
}

static void bwd_node(rt_exec *e, int i, int nb) {
    ir_node *n = &e->g->nodes[i];
    rt_node_state *s = &e->ns[i];
    const float *dy = s->dy;
    const float *a = n->n_in ? e->ns[n->in[0]].y : NULL;
    int64_t len = s->numel * nb;
    int acc = 0;
    float *da;
    switch (n->op) {
    case IR_DENSE:
        da = gput(e, n->in[0], &acc);
        rt_dense_bwd(a, pdata(n, PARAM_WEIGHT), dy, da, pgrad(e, n, PARAM_WEIGHT), pgrad(e, n, PARAM_BIAS),
                     nb, (int)e->ns[n->in[0]].numel, n->units, acc);
        break;
    case IR_CONV2D:
    case IR_CONV1D:
        rt_conv_bwd(&s->cg, a, pdata(n, PARAM_WEIGHT), dy, gacc(e, n->in[0], nb), pgrad(e, n, PARAM_WEIGHT),
                    pgrad(e, n, PARAM_BIAS), nb, s->conv_nb, s->own_col ? s->col : e->scol, s->own_col,
                    e->stmp, e->sdcol);
        break;
    case IR_BATCHNORM:
        rt_bn_bwd(a, dy, pdata(n, PARAM_WEIGHT), s->mean, s->invstd, gacc(e, n->in[0], nb),
                  pgrad(e, n, PARAM_WEIGHT), pgrad(e, n, PARAM_BIAS), nb, s->bn_c, s->inner, e->train);
        break;
    case IR_LAYERNORM: {
        int d = (int)n->shape.d[n->shape.rank - 1];
        rt_ln_bwd(a, dy, pdata(n, PARAM_WEIGHT), s->mean, s->invstd, gacc(e, n->in[0], nb),
                  pgrad(e, n, PARAM_WEIGHT), pgrad(e, n, PARAM_BIAS), len / d, d);
        break;
    }
    case IR_ACT:
        if ((da = gput(e, n->in[0], &acc))) rt_act_bwd(n->act, a, s->y, dy, da, len, acc);
        break;
    case IR_MAXPOOL: {
        /* with a folded relu the gradient goes to the relu's input */
        int to = s->fuse_relu ? e->g->nodes[n->in[0]].in[0] : n->in[0];
        if ((da = gput(e, to, &acc)))
            rt_maxpool_bwd(&s->pg, a, s->y, dy, s->argmax, da, nb, acc, s->fuse_relu, s->pscratch);
        break;
    }
    case IR_AVGPOOL:
        if ((da = gacc(e, n->in[0], nb))) rt_avgpool_bwd(&s->pg, dy, da, nb);
        break;
    case IR_GLOBAL_AVGPOOL:
        if ((da = gacc(e, n->in[0], nb))) rt_gap_bwd(dy, da, len, s->inner);
        break;
    case IR_DROPOUT:
        if (!(da = gput(e, n->in[0], &acc))) break;
        if (e->train && n->p > 0.0f) {
            if (acc)
                for (int64_t q = 0; q < len; q++) da[q] += dy[q] * s->mask[q];
            else
                rt_mask_mul(dy, s->mask, da, len);
        } else {
            put(da, dy, len, acc);
        }
        break;
    case IR_CONCAT: {
        int64_t off = 0;
        for (int j = 0; j < n->n_in; j++) {
            int64_t l = e->ns[n->in[j]].numel;
            float *dj = gacc(e, n->in[j], nb);
            if (dj) rt_concat_bwd(dy, dj, nb, l, off, s->numel);
            off += l;
        }
        break;
    }
    case IR_ADD:
        for (int j = 0; j < n->n_in; j++) {
            float *dj = gput(e, n->in[j], &acc);
            if (dj) put(dj, dy, len, acc);
        }
        break;
    case IR_MUL: {
        int bi = n->in[s->mul_big], si = n->in[1 - s->mul_big];
        float *db = gacc(e, bi, nb), *dsm = gacc(e, si, nb);
        rt_mul_bwd(e->ns[bi].y, e->ns[si].y, dy, db, dsm, nb, s->bn_c, s->inner, s->mul_bcast);
        break;
    }
    case IR_SOFTMAX: {
        int d = (int)n->shape.d[n->shape.rank - 1];
        if ((da = gacc(e, n->in[0], nb))) rt_softmax_bwd(s->y, dy, da, len / d, d);
        break;
    }
    case IR_INPUT:
    case IR_FLATTEN:
    case IR_ZERO: break; /* no input, aliased, no gradient */
    default: bwd_seq(e, n, s, a, nb); break;
    }
}

/* Which nodes need a gradient (a trainable parameter upstream, or the
 * input when asked) and which are reached backwards from the output. */
static void mark(rt_exec *e) {
    ir_graph *g = e->g;
    for (int i = 0; i < g->n_nodes; i++) {
        ir_node *n = &g->nodes[i];
        char r = n->op == IR_INPUT ? (char)e->want_dx : 0;
        for (int p = 0; p < n->n_params; p++) r |= n->params[p].trainable;
        for (int j = 0; j < n->n_in && n->op != IR_ZERO; j++) r |= e->req[n->in[j]];
        e->req[i] = r;
        e->reached[i] = 0;
    }
    e->reached[g->output] = 1;
    for (int i = g->n_nodes - 1; i >= 0; i--)
        if (e->reached[i] && g->nodes[i].op != IR_ZERO)
            for (int j = 0; j < g->nodes[i].n_in; j++) e->reached[g->nodes[i].in[j]] = 1;
}

static int ensure_grads(rt_exec *e) {
    ir_graph *g = e->g;
    for (int i = 0; i < g->n_nodes; i++) {
        rt_node_state *s = &e->ns[i];
        if (g->nodes[i].op == IR_FLATTEN) {
            s->dy = e->ns[g->nodes[i].in[0]].dy;
        } else if (!s->dy && !(s->dy = zalloc(s->numel * e->max_batch, sizeof(float)))) {
            return -1;
        }
    }
    return 0;
}

void rt_exec_backward_from(rt_exec *e, const float *dout, int batch) {
    if (!e || !dout || e->infer_only || batch != e->batch || ensure_grads(e)) return;
    ir_graph *g = e->g;
    mark(e);
    memset(e->written, 0, (size_t)g->n_nodes);
    /* parameters of nodes the backward pass skips still get a zero gradient */
    for (int i = 0; i < g->n_nodes; i++)
        if (!(e->req[i] && e->reached[i]))
            for (int p = 0; p < g->nodes[i].n_params; p++)
                if (e->ns[i].pidx[p] >= 0)
                    memset(e->grads[e->ns[i].pidx[p]], 0, sizeof(float) * (size_t)e->sizes[e->ns[i].pidx[p]]);
    if (!e->req[g->output]) return;
    memcpy(e->ns[g->output].dy, dout, sizeof(float) * (size_t)(e->ns[g->output].numel * batch));
    e->written[e->owner[g->output]] = 1;
    for (int i = g->n_nodes - 1; i >= 0; i--) {
        if (!(e->req[i] && e->reached[i]) || e->ns[i].folded) continue;
        /* defensive: a reached node always has a contribution, but never
         * read stale memory if that ever fails */
        if (!e->written[e->owner[i]]) {
            memset(e->ns[i].dy, 0, sizeof(float) * (size_t)(e->ns[e->owner[i]].numel * batch));
            e->written[e->owner[i]] = 1;
        }
        bwd_node(e, i, batch);
    }
    /* the input gradient, when asked for, is defined even if nothing wrote it */
    if (e->want_dx && !e->written[e->owner[g->input]])
        memset(e->ns[g->input].dy, 0, sizeof(float) * (size_t)(e->ns[g->input].numel * batch));
}

void rt_exec_backward(rt_exec *e, int batch) {
    if (e) rt_exec_backward_from(e, e->dlogits, batch);
}

int rt_exec_trainables(rt_exec *e, float ***params, float ***grads, int64_t **sizes, ir_param ***meta) {
    if (!e) return 0;
    if (params) *params = e->params;
    if (grads) *grads = e->grads;
    if (sizes) *sizes = e->sizes;
    if (meta) *meta = e->meta;
    return e->ntr;
}

void rt_exec_set_input_grad(rt_exec *e, int on) {
    if (e) e->want_dx = on != 0;
}

const float *rt_exec_input_grad(const rt_exec *e) {
    return e && e->want_dx && e->ns[e->g->input].dy ? e->ns[e->g->input].dy : NULL;
}

void rt_exec_freeze_dropout(rt_exec *e, int on) {
    if (e) e->freeze = on != 0;
}

const char *rt_exec_error(const rt_exec *e) { return e && e->err[0] ? e->err : NULL; }

const float *rt_exec_node_output(const rt_exec *e, int id) {
    return e && id >= 0 && id < e->g->n_nodes ? e->ns[id].y : NULL;
}

const float *rt_exec_node_grad(const rt_exec *e, int id) {
    return e && id >= 0 && id < e->g->n_nodes && e->written && e->written[e->owner[id]] ? e->ns[id].dy : NULL;
}

/* ================= reference inference ================= */

int rt_forward_eval(const ir_graph *g, const float *x, float *y, int batch) {
    if (!g || !x || !y || batch <= 0) return -1;
    int chunk = batch < 256 ? batch : 256;
    /* The executor never writes to the graph in eval mode. */
    rt_exec *e = exec_new((ir_graph *)g, chunk, 0, 1);
    if (!e) return -1;
    int64_t in = ir_shape_numel(&g->nodes[g->input].shape), out = ir_shape_numel(&g->nodes[g->output].shape);
    for (int b0 = 0; b0 < batch; b0 += chunk) {
        int m = batch - b0 < chunk ? batch - b0 : chunk;
        const float *o = rt_exec_forward(e, x + (int64_t)b0 * in, m, 0);
        memcpy(y + (int64_t)b0 * out, o, sizeof(float) * (size_t)(out * m));
    }
    rt_exec_free(e);
    return 0;
}
