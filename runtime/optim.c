/* optim.c: SGD (momentum, Nesterov, weight decay), Adam and AdamW with
 * exactly torch.optim's update rules, and learning-rate schedules.
 *
 * The update runs after every training batch over every parameter, so the
 * inner loops are float loops over restrict pointers, vectorised (SGD by
 * the compiler, Adam by hand for its sqrt) with an AVX-512 path chosen at
 * run time; all paths round identically.  Per-step scalars (bias
 * corrections) are computed once in double, as PyTorch does with Python
 * floats, then used as float like torch's float32 kernels.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "optim.h"
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#include <immintrin.h>
#define RT_X86 1
#endif

/* The build uses -O2, whose "very cheap" vectoriser skips loops with an
 * unknown trip count, and targets baseline x86-64 (SSE2).  These kernels
 * run on every step, so gcc is asked for the full vectoriser and for
 * AVX2/AVX-512 clones picked at load time.  With -std=c11 gcc does not
 * contract a*b+c into FMA, so every clone rounds identically. */
#ifdef RT_X86
#define RT_HOT __attribute__((optimize("O3"), target_clones("avx512f", "avx2", "default")))
#else
#define RT_HOT
#endif

struct rt_optim {
    rt_optim_cfg cfg;
    int n;
    float **params, **grads;
    int64_t *sizes;
    float **m; /* SGD momentum buffer / Adam exp_avg (NULL when unused) */
    float **v; /* Adam exp_avg_sq */
    int64_t steps;
};

static void free_bufs(float **b, int n) {
    if (!b) return;
    for (int i = 0; i < n; i++) free(b[i]);
    free(b);
}

void rt_optim_free(rt_optim *o) {
    if (!o) return;
    free_bufs(o->m, o->n);
    free_bufs(o->v, o->n);
    free(o->params);
    free(o->grads);
    free(o->sizes);
    free(o);
}

/* n zeroed buffers shaped like the parameters. */
static float **alloc_state(const rt_optim *o) {
    float **b = calloc((size_t)(o->n ? o->n : 1), sizeof *b);
    if (!b) return NULL;
    for (int i = 0; i < o->n; i++) {
        b[i] = calloc((size_t)(o->sizes[i] ? o->sizes[i] : 1), sizeof **b);
        if (!b[i]) {
            free_bufs(b, o->n);
            return NULL;
        }
    }
    return b;
}

rt_optim *rt_optim_new(const rt_optim_cfg *cfg, int n, float **params, float **grads, const int64_t *sizes) {
    if (!cfg || n < 0 || (n > 0 && (!params || !grads || !sizes))) return NULL;
    if (cfg->kind != OPT_SGD && cfg->kind != OPT_ADAM && cfg->kind != OPT_ADAMW) return NULL;
    rt_optim *o = calloc(1, sizeof *o);
    if (!o) return NULL;
    o->cfg = *cfg;
    if (cfg->kind != OPT_SGD) {
        if (o->cfg.beta1 == 0) o->cfg.beta1 = 0.9;
        if (o->cfg.beta2 == 0) o->cfg.beta2 = 0.999;
        if (o->cfg.eps == 0) o->cfg.eps = 1e-8;
    }
    o->n = n;
    size_t k = (size_t)(n ? n : 1);
    o->params = malloc(k * sizeof *o->params);
    o->grads = malloc(k * sizeof *o->grads);
    o->sizes = malloc(k * sizeof *o->sizes);
    if (!o->params || !o->grads || !o->sizes) {
        rt_optim_free(o);
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        if (sizes[i] < 0 || (sizes[i] > 0 && (!params[i] || !grads[i]))) {
            rt_optim_free(o);
            return NULL;
        }
        o->params[i] = params[i];
        o->grads[i] = grads[i];
        o->sizes[i] = sizes[i];
    }
    int need_m = cfg->kind != OPT_SGD || cfg->momentum != 0;
    if ((need_m && !(o->m = alloc_state(o))) || (cfg->kind != OPT_SGD && !(o->v = alloc_state(o)))) {
        rt_optim_free(o);
        return NULL;
    }
    return o;
}

/* ---- kernels ---- */

RT_HOT static void sgd_plain(float *restrict p, const float *restrict g, int64_t n, float lr, float wd) {
    for (int64_t i = 0; i < n; i++) p[i] -= lr * (g[i] + wd * p[i]);
}

/* torch: d = g + wd*p; buf = d on the first step, else mu*buf + d; the
 * step uses buf, or d + mu*buf with Nesterov.  A zero factor on the first
 * step gives buf = d exactly without a separate loop. */
RT_HOT static void sgd_momentum(float *restrict p, const float *restrict g, float *restrict b, int64_t n,
                                float lr, float wd, float mu, int first, int nesterov) {
    float keep = first ? 0.0f : mu;
    if (nesterov) {
        for (int64_t i = 0; i < n; i++) {
            float d = g[i] + wd * p[i], bi = keep * b[i] + d;
            b[i] = bi;
            p[i] -= lr * (d + mu * bi);
        }
    } else {
        for (int64_t i = 0; i < n; i++) {
            float d = g[i] + wd * p[i], bi = keep * b[i] + d;
            b[i] = bi;
            p[i] -= lr * bi;
        }
    }
}

/* Scalars rounded to float from double, as torch passes Python floats. */
typedef struct adam_k {
    float b1, b2, eps, wd; /* wd: L2 term added to the gradient (Adam only) */
    float omb1, omb2;      /* 1 - b1, 1 - b2 */
    float step_size;       /* lr / (1 - b1^t) */
    float bc2_sqrt;        /* sqrt(1 - b2^t) */
    float decay;           /* AdamW: 1 - lr*wd applied to p first */
} adam_k;

/* One Adam element, in torch's operation order. */
static inline float adam_one(float *p, float g, float *m, float *v, const adam_k *k) {
    float gi = g + k->wd * *p, pi = *p * k->decay;
    float mi = *m * k->b1 + k->omb1 * gi, vi = *v * k->b2 + k->omb2 * gi * gi;
    *m = mi;
    *v = vi;
    return pi - k->step_size * (mi / (sqrtf(vi) / k->bc2_sqrt + k->eps));
}

/* gcc will not vectorise sqrtf while it may set errno (and the optimize
 * attribute cannot lift that), so the vector paths are spelled out with
 * the same operations in the same order as adam_one: bitwise equal. */
#ifdef RT_X86
__attribute__((target("avx512f"))) static int64_t adam_avx512(float *restrict p, const float *restrict g,
                                                              float *restrict m, float *restrict v, int64_t n,
                                                              const adam_k *k) {
    __m512 wd = _mm512_set1_ps(k->wd), dec = _mm512_set1_ps(k->decay), b1 = _mm512_set1_ps(k->b1);
    __m512 b2 = _mm512_set1_ps(k->b2), o1 = _mm512_set1_ps(k->omb1), o2 = _mm512_set1_ps(k->omb2);
    __m512 ss = _mm512_set1_ps(k->step_size), bc = _mm512_set1_ps(k->bc2_sqrt), eps = _mm512_set1_ps(k->eps);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 pv = _mm512_loadu_ps(p + i), gv = _mm512_loadu_ps(g + i);
        __m512 gi = _mm512_add_ps(gv, _mm512_mul_ps(wd, pv)), pi = _mm512_mul_ps(pv, dec);
        __m512 mi = _mm512_add_ps(_mm512_mul_ps(_mm512_loadu_ps(m + i), b1), _mm512_mul_ps(o1, gi));
        __m512 vi = _mm512_add_ps(_mm512_mul_ps(_mm512_loadu_ps(v + i), b2),
                                  _mm512_mul_ps(_mm512_mul_ps(o2, gi), gi));
        _mm512_storeu_ps(m + i, mi);
        _mm512_storeu_ps(v + i, vi);
        __m512 den = _mm512_add_ps(_mm512_div_ps(_mm512_sqrt_ps(vi), bc), eps);
        _mm512_storeu_ps(p + i, _mm512_sub_ps(pi, _mm512_mul_ps(ss, _mm512_div_ps(mi, den))));
    }
    return i;
}
#endif

static int64_t adam_sse2(float *restrict p, const float *restrict g, float *restrict m, float *restrict v,
                         int64_t n, const adam_k *k) {
    int64_t i = 0;
#ifdef RT_X86
    __m128 wd = _mm_set1_ps(k->wd), dec = _mm_set1_ps(k->decay), b1 = _mm_set1_ps(k->b1),
           b2 = _mm_set1_ps(k->b2);
    __m128 o1 = _mm_set1_ps(k->omb1), o2 = _mm_set1_ps(k->omb2), ss = _mm_set1_ps(k->step_size);
    __m128 bc = _mm_set1_ps(k->bc2_sqrt), eps = _mm_set1_ps(k->eps);
    for (; i + 4 <= n; i += 4) {
        __m128 pv = _mm_loadu_ps(p + i), gv = _mm_loadu_ps(g + i);
        __m128 gi = _mm_add_ps(gv, _mm_mul_ps(wd, pv)), pi = _mm_mul_ps(pv, dec);
        __m128 mi = _mm_add_ps(_mm_mul_ps(_mm_loadu_ps(m + i), b1), _mm_mul_ps(o1, gi));
        __m128 vi = _mm_add_ps(_mm_mul_ps(_mm_loadu_ps(v + i), b2), _mm_mul_ps(_mm_mul_ps(o2, gi), gi));
        _mm_storeu_ps(m + i, mi);
        _mm_storeu_ps(v + i, vi);
        __m128 den = _mm_add_ps(_mm_div_ps(_mm_sqrt_ps(vi), bc), eps);
        _mm_storeu_ps(p + i, _mm_sub_ps(pi, _mm_mul_ps(ss, _mm_div_ps(mi, den))));
    }
#else
    (void)p, (void)g, (void)m, (void)v, (void)n, (void)k;
#endif
    return i;
}

static void adam_update(float *restrict p, const float *restrict g, float *restrict m, float *restrict v,
                        int64_t n, adam_k k) {
    int64_t i;
#ifdef RT_X86
    i = __builtin_cpu_supports("avx512f") ? adam_avx512(p, g, m, v, n, &k) : 0;
    i += adam_sse2(p + i, g + i, m + i, v + i, n - i, &k);
#else
    i = adam_sse2(p, g, m, v, n, &k);
#endif
    for (; i < n; i++) p[i] = adam_one(&p[i], g[i], &m[i], &v[i], &k);
}

void rt_optim_step(rt_optim *o, double lr) {
    if (!o) return;
    const rt_optim_cfg *c = &o->cfg;
    o->steps++;
    if (c->kind == OPT_SGD) {
        for (int i = 0; i < o->n; i++) {
            if (o->m)
                sgd_momentum(o->params[i], o->grads[i], o->m[i], o->sizes[i], (float)lr,
                             (float)c->weight_decay, (float)c->momentum, o->steps == 1, c->nesterov);
            else
                sgd_plain(o->params[i], o->grads[i], o->sizes[i], (float)lr, (float)c->weight_decay);
        }
        return;
    }
    double t = (double)o->steps;
    adam_k k;
    k.b1 = (float)c->beta1;
    k.b2 = (float)c->beta2;
    k.eps = (float)c->eps;
    k.wd = c->kind == OPT_ADAM ? (float)c->weight_decay : 0.0f;
    k.decay = c->kind == OPT_ADAMW ? (float)(1.0 - lr * c->weight_decay) : 1.0f;
    k.step_size = (float)(lr / (1.0 - pow(c->beta1, t)));
    k.bc2_sqrt = (float)sqrt(1.0 - pow(c->beta2, t));
    k.omb1 = (float)(1.0 - c->beta1);
    k.omb2 = (float)(1.0 - c->beta2);
    for (int i = 0; i < o->n; i++) adam_update(o->params[i], o->grads[i], o->m[i], o->v[i], o->sizes[i], k);
}

/* ---- schedules ---- */

static double sched_after_warmup(const rt_sched_cfg *s, double base, int64_t step, int64_t total,
                                 int64_t spe) {
    switch (s->kind) {
    case SCHED_COSINE: {
        if (total <= 0) return base;
        double t = step < 0 ? 0 : step > total ? (double)total : (double)step;
        return s->min_lr + (base - s->min_lr) * 0.5 * (1.0 + cos(3.14159265358979323846 * t / (double)total));
    }
    case SCHED_STEP: {
        if (s->step_size <= 0 || spe <= 0) return base;
        double gamma = s->gamma != 0 ? s->gamma : 0.1;
        int64_t epoch = step / spe;
        return base * pow(gamma, floor((double)epoch / s->step_size));
    }
    default: return base;
    }
}

double rt_sched_lr(const rt_sched_cfg *s, double base_lr, int64_t step, int64_t total,
                   int64_t steps_per_epoch) {
    if (!s) return base_lr;
    int64_t w = s->warmup_steps > 0 ? s->warmup_steps : 0;
    if (step < 0) step = 0;
    if (step < w) return base_lr * (double)(step + 1) / (double)w;
    /* cosine anneals over the steps after the warmup; step decay counts
     * whole epochs from the start */
    if (s->kind == SCHED_COSINE) return sched_after_warmup(s, base_lr, step - w, total - w, steps_per_epoch);
    return sched_after_warmup(s, base_lr, step, total, steps_per_epoch);
}

/* ---- state ---- */

int rt_optim_state_count(const rt_optim *o) {
    if (!o) return 0;
    return (o->m ? o->n : 0) + (o->v ? o->n : 0);
}

void rt_optim_state_get(rt_optim *o, int i, const char **suffix, int *param, float **data, int64_t *size) {
    int total = rt_optim_state_count(o);
    if (i < 0 || i >= total) {
        if (suffix) *suffix = NULL;
        if (param) *param = -1;
        if (data) *data = NULL;
        if (size) *size = 0;
        return;
    }
    /* SGD: one momentum tensor per parameter; Adam: exp_avg, exp_avg_sq
     * interleaved per parameter */
    int adam = o->v != NULL, p = adam ? i / 2 : i, second = adam && (i % 2);
    if (suffix) *suffix = adam ? (second ? "exp_avg_sq" : "exp_avg") : "momentum";
    if (param) *param = p;
    if (data) *data = second ? o->v[p] : o->m[p];
    if (size) *size = o->sizes[p];
}

int64_t rt_optim_steps(const rt_optim *o) { return o ? o->steps : 0; }

void rt_optim_set_steps(rt_optim *o, int64_t steps) {
    if (o) o->steps = steps < 0 ? 0 : steps;
}
