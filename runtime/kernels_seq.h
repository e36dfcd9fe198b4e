/* kernels_seq.h: batched forward and backward kernels of the sequence
 * operations (issue 15): attention, embedding, positional codes, patches,
 * mean over tokens, matmul between activations and transpose.
 *
 * The conventions of kernels.h hold: batches are [n, per-sample...],
 * backward kernels ACCUMULATE into dx (callers hand them a zeroed buffer
 * for the first contribution) and OVERWRITE parameter gradients.  The
 * per-token linear layer is the dense kernel on n * t rows.
 */
#ifndef NASC_RT_KERNELS_SEQ_H
#define NASC_RT_KERNELS_SEQ_H

#include <stddef.h>
#include <stdint.h>
#include "data.h"
#include "graph.h"

/* Multi-head attention core.  qkv: [n, t, 3 * H * hd], per token the
 * queries, keys and values, each H heads of hd (nn.MultiheadAttention's
 * packed in_proj layout); y: [n, t, H * hd].  Softmax(q k^T / sqrt(hd))
 * is computed stably (max subtracted); causal masks keys after the query.
 * P, if not NULL, receives the probabilities [n, H, t, t] for backward;
 * row: t floats of scratch.  Returns 0, or -1 when a score is not finite
 * (NaN or infinity in the inputs), with *bad_sample set. */
typedef struct rt_attn_geom {
    int t, heads, head_dim, causal;
} rt_attn_geom;
int rt_attn_fwd(const rt_attn_geom *g, const float *qkv, float *y, float *P, float *row, int n,
                int *bad_sample);
/* dqkv += d/dqkv given dy and the forward's P; row: t floats of scratch. */
void rt_attn_bwd(const rt_attn_geom *g, const float *qkv, const float *P, const float *dy, float *dqkv,
                 float *row, int n);

/* y[n, t, dim] = W[ids]; ids are floats holding integers in [0, vocab).
 * Returns 0, or -1 with the first bad id's sample and position. */
int rt_embed_fwd(const float *ids, const float *w, float *y, int n, int t, int dim, int vocab,
                 int *bad_sample, int *bad_pos);
void rt_embed_bwd(const float *ids, const float *dy, float *dw, int n, int t, int dim, int vocab);

/* y = x + code, code [t * d] (learned, or the sinusoidal table). */
void rt_pos_fwd(const float *x, const float *code, float *y, int n, int64_t td);
/* dx += dy; dcode (if not NULL) = sum over the batch of dy. */
void rt_pos_bwd(const float *dy, float *dx, float *dcode, int n, int64_t td);
/* Fills the [t, d] sinusoidal table (ir_positional_code). */
void rt_pos_sinusoid(float *code, int t, int d);

/* [n, c, h, w] -> [n, (h/s)*(w/s), c*s*s]; backward dx += the inverse. */
void rt_patches_fwd(const float *x, float *y, int n, int c, int h, int w, int s);
void rt_patches_bwd(const float *dy, float *dx, int n, int c, int h, int w, int s);

/* [n, t, d] -> [n, d]; backward dx += dy / t. */
void rt_mean_tokens_fwd(const float *x, float *y, int n, int t, int d);
void rt_mean_tokens_bwd(const float *dy, float *dx, int n, int t, int d);

/* y[n] = a[n] b[n] with a [t, k], b [k, m]; backward da += dy b^T,
 * db += a^T dy (either may be NULL). */
void rt_matmul_fwd(const float *a, const float *b, float *y, int n, int t, int k, int m);
void rt_matmul_bwd(const float *a, const float *b, const float *dy, float *da, float *db, int n, int t, int k,
                   int m);

/* [n, r, c] -> [n, c, r]; backward dx += the transpose of dy. */
void rt_transpose_fwd(const float *x, float *y, int n, int r, int c);
void rt_transpose_bwd(const float *dy, float *dx, int n, int r, int c);

/* data_seq.c: every input value an embedding reads directly is an
 * integer id in its vocabulary; else -1 with err naming the `what` set,
 * the sample and the layer. */
int rt_check_tokens(const ir_graph *g, const rt_dataset *d, const char *what, char *err, size_t errcap);

#endif
