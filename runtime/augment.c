/* augment.c: random crop, flip and cutout of image mini-batches (see
 * augment.h).  Every sample draws the same number of random values per op
 * whatever the outcome, so the stream stays aligned across samples. */
#include <string.h>
#include "data.h"
#include "normalize.h"
#include "err.h"
#include "augment.h"

static const char *op_name(rt_aug_kind k) {
    return k == RT_AUG_CROP ? "crop" : k == RT_AUG_FLIP ? "flip" : "cutout";
}

/* [C, H, W] or [H, W] (one channel). */
static int image_dims(const ir_shape *s, int64_t *c, int64_t *h, int64_t *w) {
    if (s->rank == 3) {
        *c = s->d[0], *h = s->d[1], *w = s->d[2];
        return 0;
    }
    if (s->rank == 2) {
        *c = 1, *h = s->d[0], *w = s->d[1];
        return 0;
    }
    return -1;
}

int rt_augment_check(const rt_augment *a, const ir_shape *sample, char *err, size_t errcap) {
    if (!a || !a->n) return 0;
    int64_t c, h, w;
    char sb[96];
    if (image_dims(sample, &c, &h, &w))
        return err_set(err, errcap, "augment needs image samples [C, H, W], but the samples are %s",
                       ir_shape_str(sample, sb, sizeof sb));
    for (int i = 0; i < a->n; i++) {
        const rt_aug_op *o = &a->ops[i];
        if (o->kind == RT_AUG_FLIP) continue;
        if (o->size < (o->kind == RT_AUG_CROP ? 0 : 1))
            return err_set(err, errcap, "augment: %s(%d): the size must be %s", op_name(o->kind), o->size,
                           o->kind == RT_AUG_CROP ? "0 or more" : "positive");
        if (o->kind == RT_AUG_CROP && (o->size > h || o->size > w))
            return err_set(err, errcap, "augment: crop(pad = %d) pads more than the %lld x %lld image",
                           o->size, (long long)h, (long long)w);
    }
    return 0;
}

static int64_t draw(nasc_rng *r, int64_t bound) {
    int64_t v = (int64_t)(nasc_rng_uniform(r) * (double)bound);
    return v < bound ? v : bound - 1;
}

/* out(y, x) = padded(y + dy, x + dx): the source pixel, or black outside. */
static void crop(float *x, int64_t c, int64_t h, int64_t w, int pad, const ir_input_norm *norm, nasc_rng *r,
                 float *tmp) {
    int64_t dy = draw(r, 2 * pad + 1) - pad, dx = draw(r, 2 * pad + 1) - pad;
    if (!dy && !dx) return;
    memcpy(tmp, x, sizeof(float) * (size_t)(c * h * w));
    for (int64_t ch = 0; ch < c; ch++) {
        float fill = rt_norm_zero(norm, (int)ch), *o = x + ch * h * w;
        const float *s = tmp + ch * h * w;
        for (int64_t y = 0; y < h; y++)
            for (int64_t xx = 0; xx < w; xx++) {
                int64_t sy = y + dy, sx = xx + dx;
                o[y * w + xx] = sy >= 0 && sy < h && sx >= 0 && sx < w ? s[sy * w + sx] : fill;
            }
    }
}

static void flip(float *x, int64_t c, int64_t h, int64_t w, nasc_rng *r) {
    if (nasc_rng_uniform(r) >= 0.5) return;
    for (int64_t row = 0; row < c * h; row++) {
        float *p = x + row * w;
        for (int64_t i = 0, j = w - 1; i < j; i++, j--) {
            float t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
    }
}

/* DARTS' Cutout: a centre anywhere in the image, the square clipped. */
static void cutout(float *x, int64_t c, int64_t h, int64_t w, int size, nasc_rng *r) {
    int64_t cy = draw(r, h), cx = draw(r, w);
    int64_t y0 = cy - size / 2, y1 = cy + size / 2, x0 = cx - size / 2, x1 = cx + size / 2;
    if (y0 < 0) y0 = 0;
    if (x0 < 0) x0 = 0;
    if (y1 > h) y1 = h;
    if (x1 > w) x1 = w;
    for (int64_t ch = 0; ch < c; ch++)
        for (int64_t y = y0; y < y1; y++)
            for (int64_t xx = x0; xx < x1; xx++) x[(ch * h + y) * w + xx] = 0.0f;
}

void rt_augment_batch(const rt_augment *a, const ir_shape *sample, const ir_input_norm *norm, float *x, int m,
                      uint64_t seed, float *scratch) {
    int64_t c, h, w;
    if (!a || !a->n || image_dims(sample, &c, &h, &w)) return;
    nasc_rng r;
    nasc_rng_seed(&r, seed);
    for (int i = 0; i < m; i++) {
        float *s = x + (int64_t)i * c * h * w;
        for (int k = 0; k < a->n; k++) {
            const rt_aug_op *o = &a->ops[k];
            if (o->kind == RT_AUG_CROP)
                crop(s, c, h, w, o->size, norm, &r, scratch);
            else if (o->kind == RT_AUG_FLIP)
                flip(s, c, h, w, &r);
            else
                cutout(s, c, h, w, o->size, &r);
        }
    }
}
