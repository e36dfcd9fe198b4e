/* kernels_seq.c: the sequence kernels of kernels_seq.h.
 *
 * Sequences in the spaces nasc targets are short (tens to a few hundred
 * tokens), so attention is written as plain loops per (sample, head,
 * query): one row of scores at a time in the forward pass when no
 * probabilities are kept; training keeps P [n, H, t, t] for backward.
 * matmul goes through OpenBLAS like dense.
 */
#include <cblas.h>
#include <math.h>
#include <string.h>
#include "graph.h"
#include "kernels_seq.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3")
#endif
/* As kernels.c: AVX-512, AVX2 and baseline clones, chosen at load time;
 * no reassociation, so every clone computes the same bits. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define RT_SIMD __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define RT_SIMD
#endif

/* ================= attention ================= */

/* Eight partial sums in a fixed order: the loop vectorises without
 * reassociation, and the result does not depend on the clone. */
static inline float dot(const float *a, const float *b, int n) {
    float acc[8] = {0};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) acc[k] += a[i + k] * b[i + k];
    float s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

/* Scores of query i against keys 0..last, softmaxed in place into p.
 * Returns 0, or -1 when a score is not finite. */
static inline int attn_row(const float *q, const float *k0, int ld, int hd, int last, float scale, float *p) {
    float mx = -INFINITY;
    for (int j = 0; j <= last; j++) {
        float s = dot(q, k0 + (int64_t)j * ld, hd) * scale;
        if (!isfinite(s)) return -1;
        p[j] = s;
        if (s > mx) mx = s;
    }
    float sum = 0.0f;
    for (int j = 0; j <= last; j++) sum += (p[j] = expf(p[j] - mx));
    float inv = 1.0f / sum; /* sum >= 1: the max term is exp(0) */
    for (int j = 0; j <= last; j++) p[j] *= inv;
    return 0;
}

RT_SIMD int rt_attn_fwd(const rt_attn_geom *g, const float *qkv, float *y, float *P, float *row, int n,
                        int *bad_sample) {
    int t = g->t, H = g->heads, hd = g->head_dim, inner = H * hd, ld = 3 * inner;
    float scale = 1.0f / sqrtf((float)hd);
    for (int s = 0; s < n; s++) {
        const float *xs = qkv + (int64_t)s * t * ld;
        float *ys = y + (int64_t)s * t * inner;
        for (int h = 0; h < H; h++) {
            const float *q0 = xs + h * hd, *k0 = xs + inner + h * hd, *v0 = xs + 2 * inner + h * hd;
            for (int i = 0; i < t; i++) {
                int last = g->causal ? i : t - 1;
                float *p = P ? P + (((int64_t)s * H + h) * t + i) * t : row;
                if (attn_row(q0 + (int64_t)i * ld, k0, ld, hd, last, scale, p)) {
                    if (bad_sample) *bad_sample = s;
                    return -1;
                }
                if (P)
                    for (int j = last + 1; j < t; j++) p[j] = 0.0f;
                float *o = ys + (int64_t)i * inner + h * hd;
                memset(o, 0, sizeof(float) * (size_t)hd);
                for (int j = 0; j <= last; j++) {
                    const float *v = v0 + (int64_t)j * ld;
                    for (int e = 0; e < hd; e++) o[e] += p[j] * v[e];
                }
            }
        }
    }
    return 0;
}

RT_SIMD void rt_attn_bwd(const rt_attn_geom *g, const float *qkv, const float *P, const float *dy,
                         float *dqkv, float *row, int n) {
    int t = g->t, H = g->heads, hd = g->head_dim, inner = H * hd, ld = 3 * inner;
    float scale = 1.0f / sqrtf((float)hd);
    for (int s = 0; s < n; s++) {
        const float *xs = qkv + (int64_t)s * t * ld, *dys = dy + (int64_t)s * t * inner;
        float *dxs = dqkv + (int64_t)s * t * ld;
        for (int h = 0; h < H; h++) {
            int qo = h * hd, ko = inner + h * hd, vo = 2 * inner + h * hd;
            for (int i = 0; i < t; i++) {
                const float *p = P + (((int64_t)s * H + h) * t + i) * t;
                const float *doi = dys + (int64_t)i * inner + h * hd;
                int last = g->causal ? i : t - 1;
                /* dP_ij = dO_i . V_j; dV_j += P_ij dO_i */
                float wsum = 0.0f;
                for (int j = 0; j <= last; j++) {
                    const float *v = xs + (int64_t)j * ld + vo;
                    float *dv = dxs + (int64_t)j * ld + vo;
                    row[j] = dot(doi, v, hd);
                    wsum += p[j] * row[j];
                    for (int e = 0; e < hd; e++) dv[e] += p[j] * doi[e];
                }
                /* dS_ij = P_ij (dP_ij - sum_k P_ik dP_ik), times the scale */
                const float *q = xs + (int64_t)i * ld + qo;
                float *dq = dxs + (int64_t)i * ld + qo;
                for (int j = 0; j <= last; j++) {
                    float ds = p[j] * (row[j] - wsum) * scale;
                    const float *k = xs + (int64_t)j * ld + ko;
                    float *dk = dxs + (int64_t)j * ld + ko;
                    for (int e = 0; e < hd; e++) {
                        dq[e] += ds * k[e];
                        dk[e] += ds * q[e];
                    }
                }
            }
        }
    }
}

/* ================= embedding ================= */

int rt_embed_fwd(const float *ids, const float *w, float *y, int n, int t, int dim, int vocab,
                 int *bad_sample, int *bad_pos) {
    for (int s = 0; s < n; s++)
        for (int i = 0; i < t; i++) {
            float f = ids[(int64_t)s * t + i];
            /* NaN fails both comparisons */
            if (!(f >= 0.0f && f < (float)vocab) || f != floorf(f)) {
                *bad_sample = s;
                *bad_pos = i;
                return -1;
            }
            memcpy(y + ((int64_t)s * t + i) * dim, w + (int64_t)f * dim, sizeof(float) * (size_t)dim);
        }
    return 0;
}

void rt_embed_bwd(const float *ids, const float *dy, float *dw, int n, int t, int dim, int vocab) {
    memset(dw, 0, sizeof(float) * (size_t)vocab * (size_t)dim);
    for (int64_t r = 0; r < (int64_t)n * t; r++) {
        float *d = dw + (int64_t)ids[r] * dim; /* ids were checked by the forward pass */
        const float *g = dy + r * dim;
        for (int e = 0; e < dim; e++) d[e] += g[e];
    }
}

/* ================= positional codes ================= */

void rt_pos_fwd(const float *x, const float *code, float *y, int n, int64_t td) {
    for (int s = 0; s < n; s++)
        for (int64_t i = 0; i < td; i++) y[s * td + i] = x[s * td + i] + code[i];
}

void rt_pos_bwd(const float *dy, float *dx, float *dcode, int n, int64_t td) {
    if (dx)
        for (int64_t i = 0; i < n * td; i++) dx[i] += dy[i];
    if (!dcode) return;
    memset(dcode, 0, sizeof(float) * (size_t)td);
    for (int s = 0; s < n; s++)
        for (int64_t i = 0; i < td; i++) dcode[i] += dy[s * td + i];
}

void rt_pos_sinusoid(float *code, int t, int d) {
    for (int p = 0; p < t; p++)
        for (int i = 0; i < d; i++) code[(int64_t)p * d + i] = ir_positional_code(p, i, d);
}

/* ================= patches ================= */

/* The input offset of element f of patch p: one definition for both ways. */
static int64_t patch_src(int64_t p, int64_t f, int h, int w, int s) {
    int64_t pw = w / s, py = p / pw, px = p % pw;
    int64_t ch = f / (s * s), dy = f / s % s, dx = f % s;
    return (ch * h + py * s + dy) * w + px * s + dx;
}

void rt_patches_fwd(const float *x, float *y, int n, int c, int h, int w, int s) {
    int64_t np = (int64_t)(h / s) * (w / s), fd = (int64_t)c * s * s, len = (int64_t)c * h * w;
    for (int b = 0; b < n; b++)
        for (int64_t p = 0; p < np; p++)
            for (int64_t f = 0; f < fd; f++) y[b * len + p * fd + f] = x[b * len + patch_src(p, f, h, w, s)];
}

void rt_patches_bwd(const float *dy, float *dx, int n, int c, int h, int w, int s) {
    int64_t np = (int64_t)(h / s) * (w / s), fd = (int64_t)c * s * s, len = (int64_t)c * h * w;
    for (int b = 0; b < n; b++)
        for (int64_t p = 0; p < np; p++)
            for (int64_t f = 0; f < fd; f++)
                dx[b * len + patch_src(p, f, h, w, s)] += dy[b * len + p * fd + f];
}

/* ================= mean over tokens ================= */

void rt_mean_tokens_fwd(const float *x, float *y, int n, int t, int d) {
    float inv = 1.0f / (float)t;
    for (int s = 0; s < n; s++) {
        float *o = y + (int64_t)s * d;
        memset(o, 0, sizeof(float) * (size_t)d);
        for (int i = 0; i < t; i++)
            for (int e = 0; e < d; e++) o[e] += x[((int64_t)s * t + i) * d + e];
        for (int e = 0; e < d; e++) o[e] *= inv;
    }
}

void rt_mean_tokens_bwd(const float *dy, float *dx, int n, int t, int d) {
    float inv = 1.0f / (float)t;
    for (int s = 0; s < n; s++)
        for (int i = 0; i < t; i++)
            for (int e = 0; e < d; e++) dx[((int64_t)s * t + i) * d + e] += dy[(int64_t)s * d + e] * inv;
}

/* ================= matmul and transpose ================= */

void rt_matmul_fwd(const float *a, const float *b, float *y, int n, int t, int k, int m) {
    for (int s = 0; s < n; s++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, t, m, k, 1.0f, a + (int64_t)s * t * k, k,
                    b + (int64_t)s * k * m, m, 0.0f, y + (int64_t)s * t * m, m);
}

void rt_matmul_bwd(const float *a, const float *b, const float *dy, float *da, float *db, int n, int t, int k,
                   int m) {
    for (int s = 0; s < n; s++) {
        const float *as = a + (int64_t)s * t * k, *bs = b + (int64_t)s * k * m, *g = dy + (int64_t)s * t * m;
        if (da)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, t, k, m, 1.0f, g, m, bs, m, 1.0f,
                        da + (int64_t)s * t * k, k);
        if (db)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, m, t, 1.0f, as, k, g, m, 1.0f,
                        db + (int64_t)s * k * m, m);
    }
}

void rt_transpose_fwd(const float *x, float *y, int n, int r, int c) {
    int64_t len = (int64_t)r * c;
    for (int s = 0; s < n; s++)
        for (int i = 0; i < r; i++)
            for (int j = 0; j < c; j++) y[s * len + (int64_t)j * r + i] = x[s * len + (int64_t)i * c + j];
}

void rt_transpose_bwd(const float *dy, float *dx, int n, int r, int c) {
    int64_t len = (int64_t)r * c;
    for (int s = 0; s < n; s++)
        for (int i = 0; i < r; i++)
            for (int j = 0; j < c; j++) dx[s * len + (int64_t)i * c + j] += dy[s * len + (int64_t)j * r + i];
}
