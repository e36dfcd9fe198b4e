/* kernels.h: batched forward and backward kernels of the runtime.
 *
 * Every kernel works on a batch laid out [n, per-sample...] (row-major).
 * Backward kernels ACCUMULATE into dx (dx += ...) because a value may feed
 * several consumers, except those with an `acc` flag: with acc == 0 they
 * overwrite dx, which saves zeroing it for single-consumer values.
 * Parameter gradients (dw, db) are OVERWRITTEN.  A NULL
 * dx means "input gradient not needed" and skips that work.  Dense and
 * convolution go through OpenBLAS sgemm; the rest are plain loops.
 */
#ifndef NASC_RT_KERNELS_H
#define NASC_RT_KERNELS_H

#include <stdint.h>
#include "graph.h"

/* ---- dense: y[n, out] = x[n, in] W[out, in]^T + b ---- */
void rt_dense_fwd(const float *x, const float *w, const float *b, float *y, int n, int in, int out);
void rt_dense_bwd(const float *x, const float *w, const float *dy, float *dx, float *dw, float *db, int n,
                  int in, int out, int acc);

/* ---- convolution (conv1d is conv2d with h = 1) ---- */
typedef struct rt_conv_geom {
    int c, h, w;   /* input channels and size */
    int f, ho, wo; /* filters and output size */
    int kh, kw, sh, sw, ph, pw, dh, dw;
    int groups;
} rt_conv_geom;

/* Fills ho/wo from the rest; returns 0, or -1 if the geometry is invalid
 * (non-positive sizes, channels not divisible by groups, empty output). */
int rt_conv_geom_finish(rt_conv_geom *g);
/* Kernel strategy: 0 = im2col + GEMM, 1 = direct loop (one input channel
 * per group: depthwise, single-channel stems), 2 = pointwise (1x1,
 * stride 1, no pad, groups 1). */
int rt_conv_kind(const rt_conv_geom *g);
/* Floats of im2col scratch for a chunk of nb samples (all groups). */
int64_t rt_conv_col_size(const rt_conv_geom *g, int nb);
/* Floats of the [f, nb*P] / [k, nb*P] reorder scratch. */
int64_t rt_conv_tmp_size(const rt_conv_geom *g, int nb);

/* Forward over n samples in chunks of nb.  col: rt_conv_col_size(nb)
 * floats; after the call it holds the im2col of the last chunk (all of it
 * when n <= nb).  tmp: rt_conv_tmp_size(nb) floats. */
void rt_conv_fwd(const rt_conv_geom *g, const float *x, const float *w, const float *b, float *y, int n,
                 int nb, float *col, float *tmp);
/* Backward.  col_valid: col still holds the forward's im2col of the whole
 * batch (n <= nb), so it is not recomputed.  tmp and dcol: each
 * rt_conv_tmp_size(nb) floats. */
void rt_conv_bwd(const rt_conv_geom *g, const float *x, const float *w, const float *dy, float *dx, float *dw,
                 float *db, int n, int nb, float *col, int col_valid, float *tmp, float *dcol);

/* ---- batchnorm: per channel c over n * inner values ---- */
/* Train mode: batch statistics; saves mean/invstd for backward and
 * updates running stats (unbiased variance, like PyTorch). */
void rt_bn_fwd_train(const float *x, float *y, const float *gamma, const float *beta, float *rmean,
                     float *rvar, float *mean, float *invstd, int n, int c, int64_t inner, float eps,
                     float momentum);
/* Eval mode: running statistics; also fills mean/invstd for backward. */
void rt_bn_fwd_eval(const float *x, float *y, const float *gamma, const float *beta, const float *rmean,
                    const float *rvar, float *mean, float *invstd, int n, int c, int64_t inner, float eps);
/* train != 0: gradient through the batch statistics; else through a fixed affine map. */
void rt_bn_bwd(const float *x, const float *dy, const float *gamma, const float *mean, const float *invstd,
               float *dx, float *dgamma, float *dbeta, int n, int c, int64_t inner, int train);

/* ---- layernorm over the last dimension d (rows = all other elements) ---- */
void rt_ln_fwd(const float *x, float *y, const float *gamma, const float *beta, float *mean, float *invstd,
               int64_t rows, int d, float eps);
void rt_ln_bwd(const float *x, const float *dy, const float *gamma, const float *mean, const float *invstd,
               float *dx, float *dgamma, float *dbeta, int64_t rows, int d);

/* ---- activations ---- */
void rt_act_fwd(ir_act a, const float *x, float *y, int64_t len);
void rt_act_bwd(ir_act a, const float *x, const float *y, const float *dy, float *dx, int64_t len, int acc);

/* ---- pooling over [n*c planes of h x w] (1-D: h = 1) ---- */
typedef struct rt_pool_geom {
    int c, h, w, ho, wo, kh, kw, sh, sw, ph, pw;
} rt_pool_geom;
int rt_pool_geom_finish(rt_pool_geom *g);
/* argmax: one int32 per output element (index inside its input plane);
 * the 2x2/stride-2 fast path does not use it and finds the max again from
 * x in backward. */
void rt_maxpool_fwd(const rt_pool_geom *g, const float *x, float *y, int32_t *argmax, int n);
/* Whether the fast path (2x2, stride 2, no pad, even sizes) applies. */
int rt_maxpool_fast(const rt_pool_geom *g);
/* relu (fast path only): x is the output of a relu whose backward is
 * folded in, dx is then the gradient of the relu's INPUT.  scratch: h*w
 * floats for the fast path (NULL: allocated per call). */
void rt_maxpool_bwd(const rt_pool_geom *g, const float *x, const float *y, const float *dy,
                    const int32_t *argmax, float *dx, int n, int acc, int relu, float *scratch);
void rt_avgpool_fwd(const rt_pool_geom *g, const float *x, float *y, int n);
void rt_avgpool_bwd(const rt_pool_geom *g, const float *dy, float *dx, int n);
/* [n, c, inner] -> [n, c] */
void rt_gap_fwd(const float *x, float *y, int64_t nc, int64_t inner);
void rt_gap_bwd(const float *dy, float *dx, int64_t nc, int64_t inner);

/* ---- structural ops ---- */
/* scale[i] is 0 or 1/(1-p); y = x * scale. */
void rt_mask_mul(const float *x, const float *scale, float *y, int64_t len);
/* y[n, off .. off+len) = x[n, 0..len) within rows of `total`; and back. */
void rt_concat_fwd(const float *x, float *y, int n, int64_t len, int64_t off, int64_t total);
void rt_concat_bwd(const float *dy, float *dx, int n, int64_t len, int64_t off, int64_t total);
void rt_axpy(float *y, const float *x, int64_t len); /* y += x */
/* Elementwise product; bcast: b has one value per channel of c channels
 * with `inner` values each (a: [n, c, inner], b: [n, c]). */
void rt_mul_fwd(const float *a, const float *b, float *y, int n, int c, int64_t inner, int bcast);
void rt_mul_bwd(const float *a, const float *b, const float *dy, float *da, float *db, int n, int c,
                int64_t inner, int bcast);
void rt_softmax_fwd(const float *x, float *y, int64_t rows, int d);
void rt_softmax_bwd(const float *y, const float *dy, float *dx, int64_t rows, int d);

/* ---- loss: mean softmax cross-entropy of logits [n, k]; dlogits may be
 * NULL.  Labels must be in [0, k).  Counts argmax hits into *correct. ---- */
float rt_softmax_xent(const float *logits, const int32_t *labels, float *dlogits, int n, int k, int *correct);

#endif
