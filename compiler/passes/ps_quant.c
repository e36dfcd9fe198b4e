/* ps_quant.c: post-training int8 quantisation of dense and convolution
 * layers (nasc build/run --quant int8).
 *
 * Runs after batchnorm folding, so the weights it quantises are the ones
 * the kernels use, and before lowering.  For every dense, conv2d and
 * conv1d (grouped and depthwise included) whose reduction length
 * (inputs per output) is PS_Q_MIN_K..PS_Q_MAX_K it records:
 *   - the input's per-tensor symmetric scale from calibration: the largest
 *     |value| the input node took on the calibration images, / 127 (an
 *     input that never went below 0, as after a ReLU, is quantised to
 *     [0, 127]: the same scale, no sign to handle in the kernels);
 *   - per-output-channel symmetric int8 weights, w_q = rint(w / s_w),
 *     s_w = max|w[oc]| / 127 (so w_q is in [-127, 127]: the kernels' sign
 *     trick relies on -128 never occurring).
 * Everything else stays fp32: the int8 kernels read fp32 activations,
 * quantise them while packing their input, and dequantise their int32
 * sums in the epilogue, so the graph around them is unchanged.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "passes.h"

static bool quantisable(const ir_node *n) {
    return n->op == IR_DENSE || n->op == IR_CONV2D || n->op == IR_CONV1D;
}

static const ir_param *weight_of(const ir_node *n) {
    for (int i = 0; i < n->n_params; i++)
        if (n->params[i].role == PARAM_WEIGHT && n->params[i].data) return &n->params[i];
    return NULL;
}

static int8_t q8(float v) {
    float r = rintf(v);
    return (int8_t)(r > 127.0f ? 127 : r < -127.0f ? -127 : r);
}

/* Per-channel symmetric weights of n into q; -1 when out of memory. */
static int quantise_weights(ps_state *ps, const ir_param *w, ps_qnode *q) {
    q->oc = w->shape.d[0];
    q->k = ir_shape_numel(&w->shape) / q->oc;
    q->kpad = (q->k + PS_Q_KALIGN - 1) / PS_Q_KALIGN * PS_Q_KALIGN;
    q->w = ps_own(ps, (size_t)(q->oc * q->kpad));
    q->w_scale = ps_own(ps, (size_t)q->oc * sizeof(float));
    q->deq = ps_own(ps, (size_t)q->oc * sizeof(float));
    if (!q->w || !q->w_scale || !q->deq) return -1;
    for (int64_t o = 0; o < q->oc; o++) {
        const float *row = w->data + o * q->k;
        float m = 0;
        for (int64_t k = 0; k < q->k; k++) m = fmaxf(m, fabsf(row[k]));
        float s = m > 0 ? m / 127.0f : 1.0f;
        for (int64_t k = 0; k < q->k; k++) q->w[o * q->kpad + k] = q8(row[k] / s);
        q->w_scale[o] = s;
        q->deq[o] = q->in_scale * s;
    }
    return 0;
}

/* Whether node i's output is >= 0 by construction (size probes, which
 * have no calibration: a ReLU family activation, pooling or a view of
 * one, sums, products and concatenations of such).  The raw input is not
 * (a probe's graph does not know whether it will be standardised). */
static bool nonneg(const ir_graph *g, int i) {
    const ir_node *n = &g->nodes[i];
    switch (n->op) {
    case IR_ADD:
    case IR_MUL:
    case IR_CONCAT:
        for (int j = 0; j < n->n_in; j++)
            if (!nonneg(g, n->in[j])) return false;
        return true;
    case IR_ACT: return n->act == ACT_RELU || n->act == ACT_RELU6 || n->act == ACT_SIGMOID;
    case IR_MAXPOOL:
    case IR_AVGPOOL:
    case IR_GLOBAL_AVGPOOL:
    case IR_FLATTEN:
    case IR_DROPOUT: return nonneg(g, n->in[0]);
    default: return false;
    }
}

int ps_pass_quant(ps_state *ps, char *err, size_t errcap) {
    if (!ps->opts || ps->opts->quant == PS_QUANT_NONE) return 0;
    ir_graph *g = &ps->g;
    float *amax = ps_own(ps, (size_t)g->n_nodes * sizeof(float)),
          *amin = ps_own(ps, (size_t)g->n_nodes * sizeof(float));
    ps->q = ps_own(ps, (size_t)g->n_nodes * sizeof(ps_qnode));
    if (!amax || !amin || !ps->q) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    if (ps->opts->calibrate) {
        if (ps->opts->calibrate(ps->opts->calib_ctx, g, amin, amax, err, errcap)) return -1;
    } else
        for (int i = 0; i < g->n_nodes; i++) /* distinct, and not 1: x * 1 folds and equal scales merge */
            amax[i] = 1.7f + 0.01f * (float)i, amin[i] = nonneg(g, i) ? 0.0f : -1.0f;
    int done = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const ir_node *n = &g->nodes[i];
        const ir_param *w = weight_of(n);
        if (!quantisable(n) || !w) continue;
        float a = amax[n->in[0]];
        if (!isfinite(a) || a < 0) {
            snprintf(err, errcap,
                     "cannot quantise layer '%s': its input range on the calibration images is %g",
                     n->name ? n->name : "?", (double)a);
            return -1;
        }
        ps_qnode *q = &ps->q[i];
        int64_t k = ir_shape_numel(&w->shape) / w->shape.d[0];
        if (k > PS_Q_MAX_K || k < PS_Q_MIN_K) continue; /* stays fp32 */
        q->unsigned_in = amin[n->in[0]] >= 0;
        q->amax = a;
        q->in_scale = a > 0 ? a / 127.0f : 1.0f;
        q->in_inv = 1.0f / q->in_scale;
        if (quantise_weights(ps, w, q)) {
            snprintf(err, errcap, "out of memory");
            return -1;
        }
        for (int64_t k = 0; k < q->oc * q->k; k++)
            if (!isfinite(w->data[k])) {
                snprintf(err, errcap, "cannot quantise layer '%s': its weights are not finite",
                         n->name ? n->name : "?");
                return -1;
            }
        q->on = true;
        done++;
    }
    if (!done) {
        snprintf(err, errcap,
                 "--quant int8: nothing to quantise (the network has no dense or convolution layer)");
        return -1;
    }
    return 0;
}

const char *ps_quant_verify(const ps_state *ps, char *buf, size_t cap) {
    if (!ps->q) return NULL;
    for (int i = 0; i < ps->g.n_nodes; i++) {
        const ps_qnode *q = &ps->q[i];
        if (!q->on) continue;
        const ir_node *n = &ps->g.nodes[i];
        const ir_param *w = weight_of(n);
        const char *why = NULL;
        if (!quantisable(n) || !w)
            why = "is not a dense or convolution with weights";
        else if (q->oc != w->shape.d[0] || q->oc * q->k != ir_shape_numel(&w->shape) || q->kpad < q->k ||
                 q->kpad % PS_Q_KALIGN)
            why = "has quantised weights of another shape";
        else if (!(q->in_scale > 0) || !isfinite(q->in_scale))
            why = "has no positive input scale";
        for (int64_t o = 0; !why && o < q->oc; o++) {
            if (!(q->w_scale[o] > 0)) why = "has a channel without a positive weight scale";
            for (int64_t k = 0; !why && k < q->kpad; k++)
                if (q->w[o * q->kpad + k] == -128 || (k >= q->k && q->w[o * q->kpad + k]))
                    why = "has a weight of -128 or a non-zero row padding";
        }
        if (why) {
            snprintf(buf, cap, "quantised node %d '%s' %s", i, n->name ? n->name : "?", why);
            return buf;
        }
    }
    return NULL;
}

void ps_quant_dump(const ps_state *ps, FILE *f) {
    for (int i = 0; ps->q && i < ps->g.n_nodes; i++) {
        const ps_qnode *q = &ps->q[i];
        if (q->on)
            fprintf(f, "; int8 %s: input scale %.9g (%s), %lld inputs per output\n",
                    ps->g.nodes[i].name ? ps->g.nodes[i].name : "?", (double)q->in_scale,
                    q->unsigned_in ? "unsigned" : "signed", (long long)q->k);
    }
}
