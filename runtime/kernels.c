/* kernels.c: batched forward/backward kernels (see kernels.h).
 *
 * GEMM-shaped work (dense, convolution) goes to OpenBLAS sgemm with the
 * transposes chosen so no operand is copied; convolution uses a batched
 * im2col (one big GEMM per group instead of one small GEMM per sample),
 * except for 1x1 convolutions (GEMM straight on the input) and those with
 * one input channel per group, i.e. depthwise ones and single-channel
 * stems (direct loops: a GEMM with K = k*k is memory-bound anyway).
 * Small feature maps make rows short (14 or 28 floats), so the hot paths
 * work on whole planes at once ("wide" padded planes, flat masked ranges)
 * to keep vector loops long.
 */
#include <cblas.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "kernels.h"

/* The build uses -O2, whose cheap vectoriser skips most of these loops;
 * they run on every element of every step, so ask gcc for -O3 here.  No
 * fast-math: results stay deterministic and IEEE (reductions vectorise
 * through the explicit partial sums of sum_f). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3")
#endif

/* Hot loops are compiled for AVX-512 and AVX2 as well as the baseline
 * (the build targets plain x86-64), picked at load time by the CPU.
 * Without -ffp-contract (off under -std=c11) and without reassociation,
 * every clone computes bit-identical results. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define RT_SIMD __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define RT_SIMD
#endif

/* v if the mask is all ones, +0 if it is zero. */
static inline __attribute__((always_inline)) float fmask(float v, uint32_t m) {
    uint32_t b;
    memcpy(&b, &v, sizeof b);
    b &= m;
    memcpy(&v, &b, sizeof b);
    return v;
}

/* Sum with 16 independent partial sums: vectorisable without
 * reassociation, and 16x shorter dependency chains than a plain loop. */
static inline __attribute__((always_inline)) float sum_f(const float *x, int64_t n) {
    float acc[16] = {0};
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++) acc[j] += x[i + j];
    float s = 0.0f;
    for (int j = 0; j < 16; j++) s += acc[j];
    for (; i < n; i++) s += x[i];
    return s;
}

/* ================= dense ================= */

void rt_dense_fwd(const float *x, const float *w, const float *b, float *y, int n, int in, int out) {
    if (b) {
        for (int i = 0; i < n; i++) memcpy(y + (int64_t)i * out, b, sizeof(float) * (size_t)out);
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, out, in, 1.0f, x, in, w, in, b ? 1.0f : 0.0f, y,
                out);
}

RT_SIMD static void col_sums(const float *dy, float *db, int n, int out) {
    memset(db, 0, sizeof(float) * (size_t)out);
    for (int i = 0; i < n; i++) {
        const float *r = dy + (int64_t)i * out;
        for (int j = 0; j < out; j++) db[j] += r[j];
    }
}

void rt_dense_bwd(const float *x, const float *w, const float *dy, float *dx, float *dw, float *db, int n,
                  int in, int out, int acc) {
    if (dw)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, n, 1.0f, dy, out, x, in, 0.0f, dw, in);
    if (db) col_sums(dy, db, n, out);
    if (dx)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, in, out, 1.0f, dy, out, w, in,
                    acc ? 1.0f : 0.0f, dx, in);
}

/* ================= convolution ================= */

int rt_conv_geom_finish(rt_conv_geom *g) {
    if (g->c <= 0 || g->h <= 0 || g->w <= 0 || g->f <= 0 || g->kh <= 0 || g->kw <= 0 || g->sh <= 0 ||
        g->sw <= 0 || g->ph < 0 || g->pw < 0 || g->dh <= 0 || g->dw <= 0 || g->groups <= 0)
        return -1;
    if (g->c % g->groups || g->f % g->groups) return -1;
    int eh = g->h + 2 * g->ph - g->dh * (g->kh - 1) - 1;
    int ew = g->w + 2 * g->pw - g->dw * (g->kw - 1) - 1;
    if (eh < 0 || ew < 0) return -1;
    g->ho = eh / g->sh + 1;
    g->wo = ew / g->sw + 1;
    return 0;
}

int rt_conv_kind(const rt_conv_geom *g) {
    /* One input channel per group: depthwise, and also single-channel
     * stems, where im2col + GEMM with K = k*k is memory-bound. */
    if (g->c == g->groups) return 1;
    if (g->groups == 1 && g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->ph == 0 && g->pw == 0)
        return 2;
    return 0;
}

static int64_t conv_k(const rt_conv_geom *g) { return (int64_t)(g->c / g->groups) * g->kh * g->kw; }
static int64_t conv_p(const rt_conv_geom *g) { return (int64_t)g->ho * g->wo; }

int64_t rt_conv_col_size(const rt_conv_geom *g, int nb) {
    return rt_conv_kind(g) ? 0 : g->groups * conv_k(g) * nb * conv_p(g);
}

int64_t rt_conv_tmp_size(const rt_conv_geom *g, int nb) {
    if (rt_conv_kind(g)) return 0;
    int64_t k = conv_k(g);
    return (k > g->f ? k : g->f) * nb * conv_p(g);
}

/* Output columns [lo, hi) of a row whose input column ox*s + off stays in
 * [0, w): the rest reads padding. */
static void valid_range(int wo, int s, int off, int w, int *lo, int *hi) {
    int a = off < 0 ? (-off + s - 1) / s : 0;
    int b = (w - 1 - off) < 0 ? 0 : (w - 1 - off) / s + 1;
    if (b > wo) b = wo;
    if (a > b) a = b;
    *lo = a;
    *hi = b;
}

/* im2col of group grp for samples [n0, n0+nb): col[K, nb*P]. */
/* Stride-1 convolutions whose output rows are as wide as the input rows
 * ("same" padding) let im2col/col2im treat each tap of a plane as one flat
 * range instead of ho short rows: columns that would wrap into the
 * neighbouring row are masked out (bit masks, so the result is exactly
 * the per-row one).  masks[j][q] is all ones when column q % wo of tap
 * column j reads inside the row.  NULL when the shortcut does not apply. */
static uint32_t *flat_masks(const rt_conv_geom *g) {
    if (g->sw != 1 || g->sh != 1 || g->wo != g->w) return NULL;
    int64_t P = conv_p(g);
    uint32_t *m = malloc(sizeof(uint32_t) * (size_t)(g->kw * P));
    if (!m) return NULL;
    for (int j = 0; j < g->kw; j++) {
        int lo, hi;
        valid_range(g->wo, 1, j * g->dw - g->pw, g->w, &lo, &hi);
        for (int64_t q = 0; q < P; q++) {
            int ox = (int)(q % g->wo);
            m[j * P + q] = ox >= lo && ox < hi ? ~0u : 0u;
        }
    }
    return m;
}

/* The flat range [qa, qb) of output positions of tap (i, j) whose input
 * row is inside the plane; empty when qa >= qb. */
static void flat_range(const rt_conv_geom *g, int i, int j, int64_t *qa, int64_t *qb) {
    int lo, hi, offy = i * g->dh - g->ph;
    valid_range(g->wo, 1, j * g->dw - g->pw, g->w, &lo, &hi);
    int oy_lo = offy < 0 ? -offy : 0, oy_hi = g->h - offy < g->ho ? g->h - offy : g->ho;
    if (oy_lo >= oy_hi || lo >= hi) {
        *qa = *qb = 0;
        return;
    }
    *qa = (int64_t)oy_lo * g->wo + lo;
    *qb = (int64_t)(oy_hi - 1) * g->wo + hi;
}

RT_SIMD static void im2col_flat(const rt_conv_geom *g, const float *x, int grp, int n0, int nb, float *col,
                                const uint32_t *masks) {
    int cg = g->c / g->groups;
    int64_t P = conv_p(g), ld = (int64_t)nb * P, plane = (int64_t)g->h * g->w;
    int64_t sample = (int64_t)g->c * plane;
    for (int c = 0; c < cg; c++)
        for (int i = 0; i < g->kh; i++)
            for (int j = 0; j < g->kw; j++) {
                float *row = col + ((int64_t)(c * g->kh + i) * g->kw + j) * ld;
                int64_t qa, qb, shift = (int64_t)(i * g->dh - g->ph) * g->w + j * g->dw - g->pw;
                flat_range(g, i, j, &qa, &qb);
                const uint32_t *mk = masks + (int64_t)j * P;
                for (int s = 0; s < nb; s++) {
                    const float *src =
                        x + (int64_t)(n0 + s) * sample + (int64_t)(grp * cg + c) * plane + shift;
                    float *out = row + s * P;
                    if (qa >= qb) {
                        memset(out, 0, sizeof(float) * (size_t)P);
                        continue;
                    }
                    memset(out, 0, sizeof(float) * (size_t)qa);
                    for (int64_t q = qa; q < qb; q++) out[q] = fmask(src[q], mk[q]);
                    memset(out + qb, 0, sizeof(float) * (size_t)(P - qb));
                }
            }
}

RT_SIMD static void col2im_flat(const rt_conv_geom *g, const float *dcol, int grp, int n0, int nb, float *dx,
                                const uint32_t *masks) {
    int cg = g->c / g->groups;
    int64_t P = conv_p(g), ld = (int64_t)nb * P, plane = (int64_t)g->h * g->w;
    int64_t sample = (int64_t)g->c * plane;
    for (int c = 0; c < cg; c++)
        for (int i = 0; i < g->kh; i++)
            for (int j = 0; j < g->kw; j++) {
                const float *row = dcol + ((int64_t)(c * g->kh + i) * g->kw + j) * ld;
                int64_t qa, qb, shift = (int64_t)(i * g->dh - g->ph) * g->w + j * g->dw - g->pw;
                flat_range(g, i, j, &qa, &qb);
                const uint32_t *mk = masks + (int64_t)j * P;
                for (int s = 0; s < nb && qa < qb; s++) {
                    float *dst = dx + (int64_t)(n0 + s) * sample + (int64_t)(grp * cg + c) * plane + shift;
                    const float *in = row + s * P;
                    for (int64_t q = qa; q < qb; q++) dst[q] += fmask(in[q], mk[q]);
                }
            }
}

RT_SIMD static void im2col(const rt_conv_geom *g, const float *x, int grp, int n0, int nb, float *col) {
    int cg = g->c / g->groups;
    int64_t P = conv_p(g), ld = (int64_t)nb * P, plane = (int64_t)g->h * g->w;
    int64_t sample = (int64_t)g->c * plane;
    for (int c = 0; c < cg; c++)
        for (int i = 0; i < g->kh; i++)
            for (int j = 0; j < g->kw; j++) {
                float *row = col + ((int64_t)(c * g->kh + i) * g->kw + j) * ld;
                int offx = j * g->dw - g->pw, lo, hi;
                valid_range(g->wo, g->sw, offx, g->w, &lo, &hi);
                for (int s = 0; s < nb; s++) {
                    const float *xp = x + (int64_t)(n0 + s) * sample + (int64_t)(grp * cg + c) * plane;
                    float *out = row + s * P;
                    for (int oy = 0; oy < g->ho; oy++, out += g->wo) {
                        int iy = oy * g->sh - g->ph + i * g->dh;
                        if (iy < 0 || iy >= g->h) {
                            memset(out, 0, sizeof(float) * (size_t)g->wo);
                            continue;
                        }
                        const float *xr = xp + (int64_t)iy * g->w + offx;
                        for (int ox = 0; ox < lo; ox++) out[ox] = 0.0f;
                        if (g->sw == 1) {
                            memcpy(out + lo, xr + lo, sizeof(float) * (size_t)(hi - lo));
                        } else {
                            for (int ox = lo; ox < hi; ox++) out[ox] = xr[ox * g->sw];
                        }
                        for (int ox = hi; ox < g->wo; ox++) out[ox] = 0.0f;
                    }
                }
            }
}

/* The adjoint of im2col: dx += scatter(dcol). */
RT_SIMD static void col2im(const rt_conv_geom *g, const float *dcol, int grp, int n0, int nb, float *dx) {
    int cg = g->c / g->groups;
    int64_t P = conv_p(g), ld = (int64_t)nb * P, plane = (int64_t)g->h * g->w;
    int64_t sample = (int64_t)g->c * plane;
    for (int c = 0; c < cg; c++)
        for (int i = 0; i < g->kh; i++)
            for (int j = 0; j < g->kw; j++) {
                const float *row = dcol + ((int64_t)(c * g->kh + i) * g->kw + j) * ld;
                int offx = j * g->dw - g->pw, lo, hi;
                valid_range(g->wo, g->sw, offx, g->w, &lo, &hi);
                for (int s = 0; s < nb; s++) {
                    float *xp = dx + (int64_t)(n0 + s) * sample + (int64_t)(grp * cg + c) * plane;
                    const float *in = row + s * P;
                    for (int oy = 0; oy < g->ho; oy++, in += g->wo) {
                        int iy = oy * g->sh - g->ph + i * g->dh;
                        if (iy < 0 || iy >= g->h) continue;
                        float *xr = xp + (int64_t)iy * g->w + offx;
                        if (g->sw == 1)
                            for (int ox = lo; ox < hi; ox++) xr[ox] += in[ox];
                        else
                            for (int ox = lo; ox < hi; ox++) xr[ox * g->sw] += in[ox];
                    }
                }
            }
}

/* Dot product with 16 partial sums (vectorisable, deterministic). */
static inline __attribute__((always_inline)) float dot_f(const float *a, const float *b, int64_t n) {
    float acc[16] = {0};
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++) acc[j] += a[i + j] * b[i + j];
    float s = 0.0f;
    for (int j = 0; j < 16; j++) s += acc[j];
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

#define RT_ROW         256
#define RT_DCOL_FLOATS (128L << 10)

/* Direct depthwise-style convolution: every group has one input channel
 * and f/c output channels. */
RT_SIMD static void dw_fwd(const rt_conv_geom *g, const float *x, const float *w, const float *b, float *y,
                           int n) {
    int mult = g->f / g->c;
    int64_t plane = (int64_t)g->h * g->w, P = conv_p(g);
    for (int s = 0; s < n; s++)
        for (int f = 0; f < g->f; f++) {
            const float *xp = x + ((int64_t)s * g->c + f / mult) * plane;
            float *yp = y + ((int64_t)s * g->f + f) * P;
            const float *wf = w + (int64_t)f * g->kh * g->kw;
            float bias = b ? b[f] : 0.0f;
            for (int64_t q = 0; q < P; q++) yp[q] = bias;
            for (int i = 0; i < g->kh; i++)
                for (int j = 0; j < g->kw; j++) {
                    float wv = wf[i * g->kw + j];
                    int offx = j * g->dw - g->pw, lo, hi;
                    valid_range(g->wo, g->sw, offx, g->w, &lo, &hi);
                    for (int oy = 0; oy < g->ho; oy++) {
                        int iy = oy * g->sh - g->ph + i * g->dh;
                        if (iy < 0 || iy >= g->h) continue;
                        const float *xr = xp + (int64_t)iy * g->w + offx;
                        float *yr = yp + (int64_t)oy * g->wo;
                        if (g->sw == 1)
                            for (int ox = lo; ox < hi; ox++) yr[ox] += wv * xr[ox];
                        else
                            for (int ox = lo; ox < hi; ox++) yr[ox] += wv * xr[ox * g->sw];
                    }
                }
        }
}

RT_SIMD static void dw_bwd(const rt_conv_geom *g, const float *x, const float *w, const float *dy, float *dx,
                           float *dwt, float *db, int n) {
    int mult = g->f / g->c, kk = g->kh * g->kw;
    int64_t plane = (int64_t)g->h * g->w, P = conv_p(g);
    float racc[RT_ROW];
    if (dwt) memset(dwt, 0, sizeof(float) * (size_t)g->f * (size_t)kk);
    if (db) memset(db, 0, sizeof(float) * (size_t)g->f);
    for (int s = 0; s < n; s++)
        for (int f = 0; f < g->f; f++) {
            const float *xp = x + ((int64_t)s * g->c + f / mult) * plane;
            float *dxp = dx ? dx + ((int64_t)s * g->c + f / mult) * plane : NULL;
            const float *dyp = dy + ((int64_t)s * g->f + f) * P;
            if (db) db[f] += sum_f(dyp, P);
            for (int i = 0; i < g->kh; i++)
                for (int j = 0; j < g->kw; j++) {
                    float wv = w[(int64_t)f * kk + i * g->kw + j], acc = 0.0f;
                    int offx = j * g->dw - g->pw, lo, hi;
                    valid_range(g->wo, g->sw, offx, g->w, &lo, &hi);
                    /* Rows short enough accumulate column-wise into racc
                     * (vector FMAs, one reduction per tap at the end). */
                    int rows = g->sw == 1 && g->wo <= RT_ROW;
                    if (rows) memset(racc, 0, sizeof racc);
                    for (int oy = 0; oy < g->ho; oy++) {
                        int iy = oy * g->sh - g->ph + i * g->dh;
                        if (iy < 0 || iy >= g->h) continue;
                        const float *xr = xp + (int64_t)iy * g->w + offx;
                        const float *dr = dyp + (int64_t)oy * g->wo;
                        if (rows)
                            for (int ox = lo; ox < hi; ox++) racc[ox] += dr[ox] * xr[ox];
                        else if (g->sw == 1)
                            acc += dot_f(dr + lo, xr + lo, hi - lo);
                        else
                            for (int ox = lo; ox < hi; ox++) acc += dr[ox] * xr[ox * g->sw];
                        if (dxp) {
                            float *dxr = dxp + (int64_t)iy * g->w + offx;
                            if (g->sw == 1)
                                for (int ox = lo; ox < hi; ox++) dxr[ox] += wv * dr[ox];
                            else
                                for (int ox = lo; ox < hi; ox++) dxr[ox * g->sw] += wv * dr[ox];
                        }
                    }
                    if (rows) acc = sum_f(racc + lo, hi - lo);
                    if (dwt) dwt[(int64_t)f * kk + i * g->kw + j] += acc;
                }
        }
}

/* Stride-1 depthwise convolution on a "wide" grid: the input plane is
 * copied into a zero-padded buffer of row width W' = w + 2*pw, and the
 * output is computed for all W' columns of each row (the extra ones are
 * dropped), so every tap is one long contiguous axpy over the whole plane
 * instead of many short rows.  Gradients use the same layout. */
typedef struct wide_buf {
    int wp;         /* W' */
    int64_t xn, yn; /* floats in the padded input / wide output */
    float *xpad, *yw, *dxpad;
} wide_buf;

static int wide_alloc(const rt_conv_geom *g, wide_buf *b, int need_dx) {
    b->wp = g->w + 2 * g->pw;
    /* slack: the wide grid's extra columns read past the last row */
    b->xn = (int64_t)(g->h + 2 * g->ph) * b->wp + (int64_t)(g->kw - 1) * g->dw + 16;
    b->yn = (int64_t)g->ho * b->wp;
    b->xpad = calloc((size_t)b->xn, sizeof(float));
    b->yw = calloc((size_t)b->yn, sizeof(float));
    b->dxpad = need_dx ? calloc((size_t)b->xn, sizeof(float)) : NULL;
    if (!b->xpad || !b->yw || (need_dx && !b->dxpad)) {
        free(b->xpad);
        free(b->yw);
        free(b->dxpad);
        return -1;
    }
    return 0;
}

static void wide_free(wide_buf *b) {
    free(b->xpad);
    free(b->yw);
    free(b->dxpad);
}

RT_SIMD static void wide_pad(const rt_conv_geom *g, const wide_buf *b, const float *xp) {
    for (int iy = 0; iy < g->h; iy++)
        memcpy(b->xpad + (int64_t)(iy + g->ph) * b->wp + g->pw, xp + (int64_t)iy * g->w,
               sizeof(float) * (size_t)g->w);
}

RT_SIMD static void dw_wide_fwd(const rt_conv_geom *g, const float *x, const float *w, const float *b,
                                float *y, int n, wide_buf *wb) {
    int mult = g->f / g->c, wp = wb->wp;
    int64_t plane = (int64_t)g->h * g->w, P = conv_p(g), len = wb->yn;
    for (int s = 0; s < n; s++)
        for (int c = 0; c < g->c; c++) {
            wide_pad(g, wb, x + ((int64_t)s * g->c + c) * plane);
            for (int m = 0; m < mult; m++) {
                int f = c * mult + m;
                const float *wf = w + (int64_t)f * g->kh * g->kw;
                float *yw = wb->yw;
                if (g->kh == 3 && g->kw == 3) {
                    /* all nine taps per element: one store instead of nine,
                     * summed in the same order as the generic loop below */
                    const float *xs[9];
                    float wv[9];
                    for (int t = 0; t < 9; t++) {
                        xs[t] = wb->xpad + (int64_t)(t / 3) * g->dh * wp + (t % 3) * g->dw;
                        wv[t] = wf[t];
                    }
                    const float *x0 = xs[0], *x1 = xs[1], *x2 = xs[2], *x3 = xs[3], *x4 = xs[4];
                    const float *x5 = xs[5], *x6 = xs[6], *x7 = xs[7], *x8 = xs[8];
                    for (int64_t q = 0; q < len; q++)
                        yw[q] = wv[0] * x0[q] + wv[1] * x1[q] + wv[2] * x2[q] + wv[3] * x3[q] +
                                wv[4] * x4[q] + wv[5] * x5[q] + wv[6] * x6[q] + wv[7] * x7[q] + wv[8] * x8[q];
                } else {
                    for (int i = 0; i < g->kh; i++)
                        for (int j = 0; j < g->kw; j++) {
                            const float *xs = wb->xpad + (int64_t)i * g->dh * wp + j * g->dw;
                            float wv = wf[i * g->kw + j];
                            if (i == 0 && j == 0) /* the first tap initialises: no zeroing pass */
                                for (int64_t q = 0; q < len; q++) yw[q] = wv * xs[q];
                            else
                                for (int64_t q = 0; q < len; q++) yw[q] += wv * xs[q];
                        }
                }
                float bias = b ? b[f] : 0.0f;
                float *yp = y + ((int64_t)s * g->f + f) * P;
                for (int oy = 0; oy < g->ho; oy++)
                    for (int ox = 0; ox < g->wo; ox++) yp[oy * g->wo + ox] = yw[(int64_t)oy * wp + ox] + bias;
            }
        }
}

RT_SIMD static void dw_wide_bwd(const rt_conv_geom *g, const float *x, const float *w, const float *dy,
                                float *dx, float *dwt, float *db, int n, wide_buf *wb) {
    int mult = g->f / g->c, wp = wb->wp, kk = g->kh * g->kw;
    int64_t plane = (int64_t)g->h * g->w, P = conv_p(g), len = wb->yn;
    if (dwt) memset(dwt, 0, sizeof(float) * (size_t)g->f * (size_t)kk);
    if (db) memset(db, 0, sizeof(float) * (size_t)g->f);
    for (int s = 0; s < n; s++)
        for (int c = 0; c < g->c; c++) {
            wide_pad(g, wb, x + ((int64_t)s * g->c + c) * plane);
            if (dx) memset(wb->dxpad, 0, sizeof(float) * (size_t)wb->xn);
            for (int m = 0; m < mult; m++) {
                int f = c * mult + m;
                const float *dyp = dy + ((int64_t)s * g->f + f) * P;
                float *dyw = wb->yw; /* dy on the wide grid, zero in the extra columns */
                for (int oy = 0; oy < g->ho; oy++)
                    for (int ox = 0; ox < wp; ox++)
                        dyw[(int64_t)oy * wp + ox] = ox < g->wo ? dyp[oy * g->wo + ox] : 0.0f;
                if (db) db[f] += sum_f(dyp, P);
                for (int i = 0; i < g->kh; i++)
                    for (int j = 0; j < g->kw; j++) {
                        int64_t off = (int64_t)i * g->dh * wp + j * g->dw;
                        if (dwt) dwt[(int64_t)f * kk + i * g->kw + j] += dot_f(dyw, wb->xpad + off, len);
                        if (dx) {
                            float wv = w[(int64_t)f * kk + i * g->kw + j], *dxs = wb->dxpad + off;
                            for (int64_t q = 0; q < len; q++) dxs[q] += wv * dyw[q];
                        }
                    }
            }
            if (dx) {
                float *dxp = dx + ((int64_t)s * g->c + c) * plane;
                for (int iy = 0; iy < g->h; iy++) {
                    const float *src = wb->dxpad + (int64_t)(iy + g->ph) * wp + g->pw;
                    for (int ix = 0; ix < g->w; ix++) dxp[(int64_t)iy * g->w + ix] += src[ix];
                }
            }
        }
}

/* 1x1 stride-1 convolution: per sample y[f, P] = W[f, c] x[c, P]. */
static void pw_fwd(const rt_conv_geom *g, const float *x, const float *w, const float *b, float *y, int n) {
    int64_t P = conv_p(g);
    for (int s = 0; s < n; s++) {
        float *yp = y + (int64_t)s * g->f * P;
        if (b)
            for (int f = 0; f < g->f; f++)
                for (int64_t q = 0; q < P; q++) yp[f * P + q] = b[f];
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g->f, (int)P, g->c, 1.0f, w, g->c,
                    x + (int64_t)s * g->c * P, (int)P, b ? 1.0f : 0.0f, yp, (int)P);
    }
}

static void pw_bwd(const rt_conv_geom *g, const float *x, const float *w, const float *dy, float *dx,
                   float *dwt, float *db, int n) {
    int64_t P = conv_p(g);
    if (db) memset(db, 0, sizeof(float) * (size_t)g->f);
    for (int s = 0; s < n; s++) {
        const float *dyp = dy + (int64_t)s * g->f * P, *xp = x + (int64_t)s * g->c * P;
        if (dwt)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, g->f, g->c, (int)P, 1.0f, dyp, (int)P, xp,
                        (int)P, s ? 1.0f : 0.0f, dwt, g->c);
        if (db)
            for (int f = 0; f < g->f; f++) db[f] += sum_f(dyp + f * P, P);
        if (dx)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, g->c, (int)P, g->f, 1.0f, w, g->c, dyp,
                        (int)P, 1.0f, dx + (int64_t)s * g->c * P, (int)P);
    }
}

RT_SIMD void rt_conv_fwd(const rt_conv_geom *g, const float *x, const float *w, const float *b, float *y,
                         int n, int nb, float *col, float *tmp) {
    int kind = rt_conv_kind(g);
    if (kind == 1) {
        wide_buf wb;
        if (g->sh == 1 && g->sw == 1 && wide_alloc(g, &wb, 0) == 0) {
            dw_wide_fwd(g, x, w, b, y, n, &wb);
            wide_free(&wb);
        } else {
            dw_fwd(g, x, w, b, y, n);
        }
        return;
    }
    if (kind == 2) {
        pw_fwd(g, x, w, b, y, n);
        return;
    }
    int fg = g->f / g->groups;
    int64_t K = conv_k(g), P = conv_p(g);
    uint32_t *masks = flat_masks(g);
    for (int n0 = 0; n0 < n; n0 += nb) {
        int m = n - n0 < nb ? n - n0 : nb;
        int64_t ld = (int64_t)m * P;
        /* With one sample the GEMM can write [f, P] straight into y. */
        float *out = m == 1 ? y + (int64_t)n0 * g->f * P : tmp;
        for (int grp = 0; grp < g->groups; grp++) {
            float *cg = col + grp * K * ld;
            if (masks)
                im2col_flat(g, x, grp, n0, m, cg, masks);
            else
                im2col(g, x, grp, n0, m, cg);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, fg, (int)ld, (int)K, 1.0f,
                        w + grp * fg * K, (int)K, cg, (int)ld, 0.0f, out + grp * fg * ld, (int)ld);
        }
        for (int s = 0; s < m; s++)
            for (int f = 0; f < g->f; f++) {
                float *dst = y + ((int64_t)(n0 + s) * g->f + f) * P;
                const float *src = out + f * ld + s * P;
                float bias = b ? b[f] : 0.0f;
                if (m == 1) {
                    if (b)
                        for (int64_t q = 0; q < P; q++) dst[q] += bias;
                } else {
                    for (int64_t q = 0; q < P; q++) dst[q] = src[q] + bias;
                }
            }
    }
    free(masks);
}

RT_SIMD void rt_conv_bwd(const rt_conv_geom *g, const float *x, const float *w, const float *dy, float *dx,
                         float *dw, float *db, int n, int nb, float *col, int col_valid, float *tmp,
                         float *dcol) {
    int kind = rt_conv_kind(g);
    if (kind == 1) {
        wide_buf wb;
        if (g->sh == 1 && g->sw == 1 && wide_alloc(g, &wb, dx != NULL) == 0) {
            dw_wide_bwd(g, x, w, dy, dx, dw, db, n, &wb);
            wide_free(&wb);
        } else {
            dw_bwd(g, x, w, dy, dx, dw, db, n);
        }
        return;
    }
    if (kind == 2) {
        pw_bwd(g, x, w, dy, dx, dw, db, n);
        return;
    }
    int fg = g->f / g->groups;
    int64_t K = conv_k(g), P = conv_p(g);
    uint32_t *masks = flat_masks(g);
    if (db) memset(db, 0, sizeof(float) * (size_t)g->f);
    for (int n0 = 0; n0 < n; n0 += nb) {
        int m = n - n0 < nb ? n - n0 : nb;
        int64_t ld = (int64_t)m * P;
        /* Gather dy into [f, m*P] so each group is one GEMM operand. */
        const float *dyt = dy + (int64_t)n0 * g->f * P;
        if (m > 1) {
            for (int s = 0; s < m; s++)
                for (int f = 0; f < g->f; f++)
                    memcpy(tmp + f * ld + s * P, dy + ((int64_t)(n0 + s) * g->f + f) * P,
                           sizeof(float) * (size_t)P);
            dyt = tmp;
        }
        if (db)
            for (int f = 0; f < g->f; f++) db[f] += sum_f(dyt + f * ld, ld);
        for (int grp = 0; grp < g->groups; grp++) {
            float *cg = col + grp * K * ld;
            if (!(col_valid && n <= nb)) {
                if (masks)
                    im2col_flat(g, x, grp, n0, m, cg, masks);
                else
                    im2col(g, x, grp, n0, m, cg);
            }
            if (dw)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, fg, (int)K, (int)ld, 1.0f,
                            dyt + grp * fg * ld, (int)ld, cg, (int)ld, n0 ? 1.0f : 0.0f, dw + grp * fg * K,
                            (int)K);
            /* dcol in sub-chunks of a few samples (~512 KB) so col2im
             * reads it back from cache instead of memory */
            int sub = (int)(RT_DCOL_FLOATS / (K * P));
            if (sub < 1) sub = 1;
            for (int s0 = 0; dx && s0 < m; s0 += sub) {
                int ms = m - s0 < sub ? m - s0 : sub;
                int64_t lds = (int64_t)ms * P;
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)K, (int)lds, fg, 1.0f,
                            w + grp * fg * K, (int)K, dyt + grp * fg * ld + s0 * P, (int)ld, 0.0f, dcol,
                            (int)lds);
                if (masks)
                    col2im_flat(g, dcol, grp, n0 + s0, ms, dx, masks);
                else
                    col2im(g, dcol, grp, n0 + s0, ms, dx);
            }
        }
    }
    free(masks);
}

/* ================= batchnorm ================= */

RT_SIMD void rt_bn_fwd_train(const float *x, float *y, const float *gamma, const float *beta, float *rmean,
                             float *rvar, float *mean, float *invstd, int n, int c, int64_t inner, float eps,
                             float momentum) {
    int64_t cnt = (int64_t)n * inner;
    for (int ch = 0; ch < c; ch++) {
        /* Two passes in double: one-pass sums lose too much in float. */
        double s = 0.0, ss = 0.0;
        for (int i = 0; i < n; i++) {
            const float *p = x + ((int64_t)i * c + ch) * inner;
            for (int64_t q = 0; q < inner; q++) s += p[q];
        }
        double mu = s / (double)cnt;
        for (int i = 0; i < n; i++) {
            const float *p = x + ((int64_t)i * c + ch) * inner;
            for (int64_t q = 0; q < inner; q++) {
                double d = p[q] - mu;
                ss += d * d;
            }
        }
        double var = ss / (double)cnt;
        float is = (float)(1.0 / sqrt(var + eps));
        mean[ch] = (float)mu;
        invstd[ch] = is;
        double unbiased = cnt > 1 ? ss / (double)(cnt - 1) : var;
        rmean[ch] = (float)((1.0 - momentum) * rmean[ch] + momentum * mu);
        rvar[ch] = (float)((1.0 - momentum) * rvar[ch] + momentum * unbiased);
        float a = gamma[ch] * is, bb = beta[ch] - (float)mu * a;
        for (int i = 0; i < n; i++) {
            const float *p = x + ((int64_t)i * c + ch) * inner;
            float *o = y + ((int64_t)i * c + ch) * inner;
            for (int64_t q = 0; q < inner; q++) o[q] = p[q] * a + bb;
        }
    }
}

RT_SIMD void rt_bn_fwd_eval(const float *x, float *y, const float *gamma, const float *beta,
                            const float *rmean, const float *rvar, float *mean, float *invstd, int n, int c,
                            int64_t inner, float eps) {
    for (int ch = 0; ch < c; ch++) {
        float is = 1.0f / sqrtf(rvar[ch] + eps);
        mean[ch] = rmean[ch];
        invstd[ch] = is;
        float a = gamma[ch] * is, bb = beta[ch] - rmean[ch] * a;
        for (int i = 0; i < n; i++) {
            const float *p = x + ((int64_t)i * c + ch) * inner;
            float *o = y + ((int64_t)i * c + ch) * inner;
            for (int64_t q = 0; q < inner; q++) o[q] = p[q] * a + bb;
        }
    }
}

RT_SIMD void rt_bn_bwd(const float *x, const float *dy, const float *gamma, const float *mean,
                       const float *invstd, float *dx, float *dgamma, float *dbeta, int n, int c,
                       int64_t inner, int train) {
    double cnt = (double)n * (double)inner;
    for (int ch = 0; ch < c; ch++) {
        double sdy = 0.0, sdyx = 0.0;
        float mu = mean[ch], is = invstd[ch];
        for (int i = 0; i < n; i++) {
            const float *p = x + ((int64_t)i * c + ch) * inner;
            const float *d = dy + ((int64_t)i * c + ch) * inner;
            for (int64_t q = 0; q < inner; q++) {
                sdy += d[q];
                sdyx += d[q] * ((p[q] - mu) * is);
            }
        }
        if (dgamma) dgamma[ch] = (float)sdyx;
        if (dbeta) dbeta[ch] = (float)sdy;
        if (!dx) continue;
        float k = gamma[ch] * is;
        float m1 = train ? (float)(sdy / cnt) : 0.0f, m2 = train ? (float)(sdyx / cnt) : 0.0f;
        for (int i = 0; i < n; i++) {
            const float *p = x + ((int64_t)i * c + ch) * inner;
            const float *d = dy + ((int64_t)i * c + ch) * inner;
            float *o = dx + ((int64_t)i * c + ch) * inner;
            for (int64_t q = 0; q < inner; q++) o[q] += k * (d[q] - m1 - (p[q] - mu) * is * m2);
        }
    }
}

/* ================= layernorm ================= */

RT_SIMD void rt_ln_fwd(const float *x, float *y, const float *gamma, const float *beta, float *mean,
                       float *invstd, int64_t rows, int d, float eps) {
    for (int64_t r = 0; r < rows; r++) {
        const float *p = x + r * d;
        float *o = y + r * d;
        double s = 0.0, ss = 0.0;
        for (int j = 0; j < d; j++) s += p[j];
        double mu = s / d;
        for (int j = 0; j < d; j++) ss += (p[j] - mu) * (p[j] - mu);
        float is = (float)(1.0 / sqrt(ss / d + eps));
        mean[r] = (float)mu;
        invstd[r] = is;
        for (int j = 0; j < d; j++) o[j] = (p[j] - (float)mu) * is * gamma[j] + beta[j];
    }
}

RT_SIMD void rt_ln_bwd(const float *x, const float *dy, const float *gamma, const float *mean,
                       const float *invstd, float *dx, float *dgamma, float *dbeta, int64_t rows, int d) {
    if (dgamma) memset(dgamma, 0, sizeof(float) * (size_t)d);
    if (dbeta) memset(dbeta, 0, sizeof(float) * (size_t)d);
    for (int64_t r = 0; r < rows; r++) {
        const float *p = x + r * d, *g = dy + r * d;
        float mu = mean[r], is = invstd[r];
        double s1 = 0.0, s2 = 0.0;
        for (int j = 0; j < d; j++) {
            float xh = (p[j] - mu) * is, gh = g[j] * gamma[j];
            if (dgamma) dgamma[j] += g[j] * xh;
            if (dbeta) dbeta[j] += g[j];
            s1 += gh;
            s2 += gh * xh;
        }
        if (!dx) continue;
        float m1 = (float)(s1 / d), m2 = (float)(s2 / d);
        float *o = dx + r * d;
        for (int j = 0; j < d; j++) {
            float xh = (p[j] - mu) * is;
            o[j] += is * (g[j] * gamma[j] - m1 - xh * m2);
        }
    }
}

/* ================= activations ================= */

static float sigm(float v) { return 1.0f / (1.0f + expf(-v)); }

RT_SIMD void rt_act_fwd(ir_act a, const float *x, float *y, int64_t len) {
    switch (a) {
    case ACT_RELU:
        for (int64_t i = 0; i < len; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
        break;
    case ACT_RELU6:
        for (int64_t i = 0; i < len; i++) y[i] = fminf(fmaxf(x[i], 0.0f), 6.0f);
        break;
    case ACT_GELU:
        for (int64_t i = 0; i < len; i++) y[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678f));
        break;
    case ACT_TANH:
        for (int64_t i = 0; i < len; i++) y[i] = tanhf(x[i]);
        break;
    case ACT_SIGMOID:
        for (int64_t i = 0; i < len; i++) y[i] = sigm(x[i]);
        break;
    case ACT_SWISH:
        for (int64_t i = 0; i < len; i++) y[i] = x[i] * sigm(x[i]);
        break;
    case ACT_HSWISH:
        for (int64_t i = 0; i < len; i++) y[i] = x[i] * fminf(fmaxf(x[i] + 3.0f, 0.0f), 6.0f) / 6.0f;
        break;
    default:
        if (y != x) memcpy(y, x, sizeof(float) * (size_t)len);
        break;
    }
}

/* dx = dy * f'(x), accumulated into dx or (acc == 0) overwriting it, so
 * a single-consumer gradient needs no zeroing pass. */
#define ACT_LOOP(expr)                                         \
    do {                                                       \
        if (acc)                                               \
            for (int64_t i = 0; i < len; i++) dx[i] += (expr); \
        else                                                   \
            for (int64_t i = 0; i < len; i++) dx[i] = (expr);  \
    } while (0)

static float gelu_d(float v) {
    return 0.5f * (1.0f + erff(v * 0.70710678f)) + v * 0.39894228f * expf(-0.5f * v * v);
}
static float swish_d(float v) {
    float s = sigm(v);
    return s + v * s * (1.0f - s);
}
static float hswish_d(float v) { return v < -3.0f ? 0.0f : v > 3.0f ? 1.0f : (2.0f * v + 3.0f) / 6.0f; }

RT_SIMD void rt_act_bwd(ir_act a, const float *x, const float *y, const float *dy, float *dx, int64_t len,
                        int acc) {
    switch (a) {
    case ACT_RELU: ACT_LOOP(x[i] > 0.0f ? dy[i] : 0.0f); break;
    case ACT_RELU6: ACT_LOOP((x[i] > 0.0f && x[i] < 6.0f) ? dy[i] : 0.0f); break;
    case ACT_GELU: ACT_LOOP(dy[i] * gelu_d(x[i])); break;
    case ACT_TANH: ACT_LOOP(dy[i] * (1.0f - y[i] * y[i])); break;
    case ACT_SIGMOID: ACT_LOOP(dy[i] * y[i] * (1.0f - y[i])); break;
    case ACT_SWISH: ACT_LOOP(dy[i] * swish_d(x[i])); break;
    case ACT_HSWISH: ACT_LOOP(dy[i] * hswish_d(x[i])); break;
    default: ACT_LOOP(dy[i]); break;
    }
}

/* ================= pooling ================= */

int rt_pool_geom_finish(rt_pool_geom *g) {
    if (g->c <= 0 || g->h <= 0 || g->w <= 0 || g->kh <= 0 || g->kw <= 0 || g->sh <= 0 || g->sw <= 0 ||
        g->ph < 0 || g->pw < 0)
        return -1;
    /* A window must never lie entirely in the padding (PyTorch's rule). */
    if (g->ph * 2 > g->kh || g->pw * 2 > g->kw) return -1;
    int eh = g->h + 2 * g->ph - g->kh, ew = g->w + 2 * g->pw - g->kw;
    if (eh < 0 || ew < 0) return -1;
    g->ho = eh / g->sh + 1;
    g->wo = ew / g->sw + 1;
    return 0;
}

/* The common 2x2, stride 2, unpadded case: branch-free (random data
 * mispredicts half of the comparisons of the generic loop) and without
 * argmax; backward finds the max again by comparing with y.  Unlike the
 * generic path, a NaN in a window is not guaranteed to propagate (the
 * trainer's loss and weight checks still catch NaN). */
static int is_pool2(const rt_pool_geom *g) {
    return g->kh == 2 && g->kw == 2 && g->sh == 2 && g->sw == 2 && g->ph == 0 && g->pw == 0;
}

RT_SIMD static void maxpool2_fwd(const rt_pool_geom *g, const float *x, float *y, int64_t planes) {
    const int w = g->w, ho = g->ho, wo = g->wo;
    int64_t ip = (int64_t)g->h * w, op = (int64_t)ho * wo;
    for (int64_t pl = 0; pl < planes; pl++) {
        const float *xp = x + pl * ip;
        float *yp = y + pl * op;
        for (int oy = 0; oy < ho; oy++) {
            const float *r0 = xp + (int64_t)(2 * oy) * w, *r1 = r0 + w;
            float *yr = yp + (int64_t)oy * wo;
            for (int ox = 0; ox < wo; ox++) {
                float m0 = r0[2 * ox] > r0[2 * ox + 1] ? r0[2 * ox] : r0[2 * ox + 1];
                float m1 = r1[2 * ox] > r1[2 * ox + 1] ? r1[2 * ox] : r1[2 * ox + 1];
                yr[ox] = m0 > m1 ? m0 : m1;
            }
        }
    }
}

RT_SIMD static void maxpool2_bwd(const rt_pool_geom *g, const float *x, const float *y, const float *dy,
                                 float *dx, int64_t planes, int acc) {
    const int w = g->w, ho = g->ho, wo = g->wo;
    int64_t ip = (int64_t)g->h * w, op = (int64_t)ho * wo;
    for (int64_t pl = 0; pl < planes; pl++) {
        const float *xp = x + pl * ip;
        float *dp = dx + pl * ip;
        for (int oy = 0; oy < ho; oy++) {
            const float *r0 = xp + (int64_t)(2 * oy) * w, *r1 = r0 + w;
            float *d0 = dp + (int64_t)(2 * oy) * w, *d1 = d0 + w;
            const float *yr = y + pl * op + (int64_t)oy * wo, *gr = dy + pl * op + (int64_t)oy * wo;
            for (int ox = 0; ox < wo; ox++) {
                /* the first cell (row-major) equal to the max takes the gradient */
                float m = yr[ox], gv = gr[ox];
                int ea = r0[2 * ox] == m, eb = r0[2 * ox + 1] == m, ec = r1[2 * ox] == m;
                /* bitwise logic and multiplies keep this free of branches */
                float ga = gv * (float)ea, gb = gv * (float)(eb & !ea);
                float gc = gv * (float)(ec & !(ea | eb)), gd = gv * (float)!(ea | eb | ec);
                if (acc) {
                    d0[2 * ox] += ga;
                    d0[2 * ox + 1] += gb;
                    d1[2 * ox] += gc;
                    d1[2 * ox + 1] += gd;
                } else {
                    d0[2 * ox] = ga;
                    d0[2 * ox + 1] = gb;
                    d1[2 * ox] = gc;
                    d1[2 * ox + 1] = gd;
                }
            }
        }
    }
}

/* 2x2/stride-2 backward for even sizes in two flat passes over each
 * plane: the horizontal pair maxima H (long contiguous loops), then the
 * vertical choice per window giving each row-half its gradient G, then
 * the horizontal choice scattering G into dx.  The first maximum in
 * row-major order wins, as in the generic loop: within a row the left
 * cell unless the right is strictly larger, the top row unless the
 * bottom is strictly larger. */
RT_SIMD static void maxpool2_bwd_flat(const rt_pool_geom *g, const float *x, const float *dy, float *dx,
                                      int64_t planes, int acc, int relu, float *hbuf, float *gbuf) {
    const int ho = g->ho, wo = g->wo;
    int64_t ip = (int64_t)g->h * g->w, op = (int64_t)ho * wo, half = ip / 2;
    for (int64_t pl = 0; pl < planes; pl++) {
        const float *xp = x + pl * ip, *gr = dy + pl * op;
        float *dp = dx + pl * ip;
        for (int64_t k = 0; k < half; k++) {
            float a = xp[2 * k], b = xp[2 * k + 1];
            hbuf[k] = b > a ? b : a;
        }
        for (int oy = 0; oy < ho; oy++) {
            const float *top = hbuf + (int64_t)(2 * oy) * wo, *bot = top + wo, *gv = gr + (int64_t)oy * wo;
            float *gt = gbuf + (int64_t)(2 * oy) * wo, *gb = gt + wo;
            /* bit masks instead of selects: rows are short (often below
             * one vector) and gcc turns selects into branches that
             * mispredict half the time on random data */
            for (int ox = 0; ox < wo; ox++) {
                uint32_t m = 0u - (uint32_t)(bot[ox] > top[ox]);
                gt[ox] = fmask(gv[ox], ~m);
                gb[ox] = fmask(gv[ox], m);
            }
        }
        /* relu: x is a relu's output, whose backward (x > 0) is folded in */
        uint32_t all = relu ? 0u : ~0u;
        for (int64_t k = 0; k < half; k++) {
            float a = xp[2 * k], b = xp[2 * k + 1];
            uint32_t r = 0u - (uint32_t)(b > a);
            uint32_t pa = all | (0u - (uint32_t)(a > 0.0f)), pb = all | (0u - (uint32_t)(b > 0.0f));
            float ga = fmask(gbuf[k], ~r & pa), gb = fmask(gbuf[k], r & pb);
            if (acc) {
                dp[2 * k] += ga;
                dp[2 * k + 1] += gb;
            } else {
                dp[2 * k] = ga;
                dp[2 * k + 1] = gb;
            }
        }
    }
}

void rt_maxpool_fwd(const rt_pool_geom *g, const float *x, float *y, int32_t *argmax, int n) {
    int64_t planes = (int64_t)n * g->c, ip = (int64_t)g->h * g->w, op = (int64_t)g->ho * g->wo;
    if (is_pool2(g)) {
        maxpool2_fwd(g, x, y, planes);
        return;
    }
    for (int64_t pl = 0; pl < planes; pl++) {
        const float *xp = x + pl * ip;
        for (int oy = 0; oy < g->ho; oy++)
            for (int ox = 0; ox < g->wo; ox++) {
                int y0 = oy * g->sh - g->ph, x0 = ox * g->sw - g->pw;
                float best = -FLT_MAX;
                int32_t bi = -1;
                for (int i = y0 < 0 ? 0 : y0; i < y0 + g->kh && i < g->h; i++)
                    for (int j = x0 < 0 ? 0 : x0; j < x0 + g->kw && j < g->w; j++) {
                        float v = xp[i * g->w + j];
                        /* NaN wins so that it propagates like PyTorch. */
                        if (bi < 0 || v > best || v != v) {
                            best = v;
                            bi = i * g->w + j;
                        }
                    }
                y[pl * op + oy * g->wo + ox] = best;
                argmax[pl * op + oy * g->wo + ox] = bi;
            }
    }
}

int rt_maxpool_fast(const rt_pool_geom *g) { return is_pool2(g) && g->w % 2 == 0 && g->h % 2 == 0; }

void rt_maxpool_bwd(const rt_pool_geom *g, const float *x, const float *y, const float *dy,
                    const int32_t *argmax, float *dx, int n, int acc, int relu, float *scratch) {
    int64_t planes = (int64_t)n * g->c, ip = (int64_t)g->h * g->w, op = (int64_t)g->ho * g->wo;
    if (rt_maxpool_fast(g)) {
        float *hb = scratch ? scratch : malloc(sizeof(float) * (size_t)ip);
        if (hb) {
            maxpool2_bwd_flat(g, x, dy, dx, planes, acc, relu, hb, hb + ip / 2);
            if (hb != scratch) free(hb);
            return;
        }
    }
    if (!acc) memset(dx, 0, sizeof(float) * (size_t)(planes * ip));
    if (is_pool2(g)) {
        maxpool2_bwd(g, x, y, dy, dx, planes, 1);
        return;
    }
    for (int64_t pl = 0; pl < planes; pl++)
        for (int64_t q = 0; q < op; q++) dx[pl * ip + argmax[pl * op + q]] += dy[pl * op + q];
}

/* Number of in-bounds cells of a window (padding excluded). */
static int win_count(const rt_pool_geom *g, int oy, int ox) {
    int y0 = oy * g->sh - g->ph, x0 = ox * g->sw - g->pw;
    int y1 = y0 + g->kh < g->h ? y0 + g->kh : g->h, x1 = x0 + g->kw < g->w ? x0 + g->kw : g->w;
    if (y0 < 0) y0 = 0;
    if (x0 < 0) x0 = 0;
    return (y1 - y0) * (x1 - x0);
}

void rt_avgpool_fwd(const rt_pool_geom *g, const float *x, float *y, int n) {
    int64_t planes = (int64_t)n * g->c, ip = (int64_t)g->h * g->w, op = (int64_t)g->ho * g->wo;
    for (int64_t pl = 0; pl < planes; pl++) {
        const float *xp = x + pl * ip;
        for (int oy = 0; oy < g->ho; oy++)
            for (int ox = 0; ox < g->wo; ox++) {
                int y0 = oy * g->sh - g->ph, x0 = ox * g->sw - g->pw;
                float s = 0.0f;
                for (int i = y0 < 0 ? 0 : y0; i < y0 + g->kh && i < g->h; i++)
                    for (int j = x0 < 0 ? 0 : x0; j < x0 + g->kw && j < g->w; j++) s += xp[i * g->w + j];
                y[pl * op + oy * g->wo + ox] = s / (float)win_count(g, oy, ox);
            }
    }
}

void rt_avgpool_bwd(const rt_pool_geom *g, const float *dy, float *dx, int n) {
    int64_t planes = (int64_t)n * g->c, ip = (int64_t)g->h * g->w, op = (int64_t)g->ho * g->wo;
    for (int64_t pl = 0; pl < planes; pl++) {
        float *xp = dx + pl * ip;
        for (int oy = 0; oy < g->ho; oy++)
            for (int ox = 0; ox < g->wo; ox++) {
                int y0 = oy * g->sh - g->ph, x0 = ox * g->sw - g->pw;
                float d = dy[pl * op + oy * g->wo + ox] / (float)win_count(g, oy, ox);
                for (int i = y0 < 0 ? 0 : y0; i < y0 + g->kh && i < g->h; i++)
                    for (int j = x0 < 0 ? 0 : x0; j < x0 + g->kw && j < g->w; j++) xp[i * g->w + j] += d;
            }
    }
}

RT_SIMD void rt_gap_fwd(const float *x, float *y, int64_t nc, int64_t inner) {
    for (int64_t i = 0; i < nc; i++) y[i] = sum_f(x + i * inner, inner) / (float)inner;
}

RT_SIMD void rt_gap_bwd(const float *dy, float *dx, int64_t nc, int64_t inner) {
    for (int64_t i = 0; i < nc; i++) {
        float d = dy[i] / (float)inner;
        for (int64_t q = 0; q < inner; q++) dx[i * inner + q] += d;
    }
}

/* ================= structural ================= */

RT_SIMD void rt_mask_mul(const float *x, const float *scale, float *y, int64_t len) {
    for (int64_t i = 0; i < len; i++) y[i] = x[i] * scale[i];
}

void rt_concat_fwd(const float *x, float *y, int n, int64_t len, int64_t off, int64_t total) {
    for (int i = 0; i < n; i++) memcpy(y + i * total + off, x + i * len, sizeof(float) * (size_t)len);
}

void rt_concat_bwd(const float *dy, float *dx, int n, int64_t len, int64_t off, int64_t total) {
    for (int i = 0; i < n; i++) rt_axpy(dx + i * len, dy + i * total + off, len);
}

RT_SIMD void rt_axpy(float *y, const float *x, int64_t len) {
    for (int64_t i = 0; i < len; i++) y[i] += x[i];
}

RT_SIMD void rt_mul_fwd(const float *a, const float *b, float *y, int n, int c, int64_t inner, int bcast) {
    if (!bcast) {
        int64_t len = (int64_t)n * c * inner;
        for (int64_t i = 0; i < len; i++) y[i] = a[i] * b[i];
        return;
    }
    for (int64_t r = 0; r < (int64_t)n * c; r++) {
        float s = b[r];
        for (int64_t q = 0; q < inner; q++) y[r * inner + q] = a[r * inner + q] * s;
    }
}

RT_SIMD void rt_mul_bwd(const float *a, const float *b, const float *dy, float *da, float *db, int n, int c,
                        int64_t inner, int bcast) {
    if (!bcast) {
        int64_t len = (int64_t)n * c * inner;
        if (da)
            for (int64_t i = 0; i < len; i++) da[i] += dy[i] * b[i];
        if (db)
            for (int64_t i = 0; i < len; i++) db[i] += dy[i] * a[i];
        return;
    }
    for (int64_t r = 0; r < (int64_t)n * c; r++) {
        float s = b[r], acc = 0.0f;
        for (int64_t q = 0; q < inner; q++) {
            if (da) da[r * inner + q] += dy[r * inner + q] * s;
            acc += dy[r * inner + q] * a[r * inner + q];
        }
        if (db) db[r] += acc;
    }
}

void rt_softmax_fwd(const float *x, float *y, int64_t rows, int d) {
    for (int64_t r = 0; r < rows; r++) {
        const float *p = x + r * d;
        float *o = y + r * d, mx = p[0], s = 0.0f;
        for (int j = 1; j < d; j++) mx = p[j] > mx ? p[j] : mx;
        for (int j = 0; j < d; j++) {
            o[j] = expf(p[j] - mx);
            s += o[j];
        }
        for (int j = 0; j < d; j++) o[j] /= s;
    }
}

void rt_softmax_bwd(const float *y, const float *dy, float *dx, int64_t rows, int d) {
    for (int64_t r = 0; r < rows; r++) {
        const float *o = y + r * d, *g = dy + r * d;
        float dot = 0.0f;
        for (int j = 0; j < d; j++) dot += o[j] * g[j];
        for (int j = 0; j < d; j++) dx[r * d + j] += o[j] * (g[j] - dot);
    }
}

float rt_softmax_xent(const float *logits, const int32_t *labels, float *dlogits, int n, int k,
                      int *correct) {
    double loss = 0.0;
    int hits = 0;
    for (int i = 0; i < n; i++) {
        const float *p = logits + (int64_t)i * k;
        int am = 0;
        float mx = p[0];
        for (int j = 1; j < k; j++)
            if (p[j] > mx) {
                mx = p[j];
                am = j;
            }
        double s = 0.0;
        for (int j = 0; j < k; j++) s += exp((double)(p[j] - mx));
        int y = labels[i];
        if (y < 0 || y >= k) return NAN;
        hits += am == y;
        loss += log(s) - (double)(p[y] - mx);
        if (dlogits) {
            float *d = dlogits + (int64_t)i * k;
            for (int j = 0; j < k; j++) d[j] = (float)(exp((double)(p[j] - mx)) / s) / (float)n;
            d[y] -= 1.0f / (float)n;
        }
    }
    if (correct) *correct = hits;
    return (float)(loss / n);
}
