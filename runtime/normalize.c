/* normalize.c: input standardisation statistics, their application, and
 * their metadata form (see normalize.h).
 *
 * Statistics are accumulated in double over the whole training split (one
 * pass for the mean, one for the variance, which is exact enough where the
 * one-pass sum of squares cancels badly for data far from zero).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "json.h"
#include "err.h"
#include "normalize.h"

int rt_norm_channels(const ir_shape *sample, int64_t *per_channel) {
    int64_t numel = ir_shape_numel(sample);
    int64_t c = sample->rank >= 2 ? sample->d[0] : 1;
    if (c < 1) c = 1;
    if (per_channel) *per_channel = numel / c;
    return c > INT32_MAX ? INT32_MAX : (int)c;
}

static int too_many(int c, char *err, size_t cap) {
    return err_set(err, cap, "normalize = standard: the samples have %d channels, at most %d are supported",
                   c, IR_NORM_MAX_CHANNELS);
}

int rt_norm_fit(const rt_dataset *d, ir_input_norm *n, char *err, size_t errcap) {
    if (!d || !n || d->n <= 0 || !d->x) return err_set(err, errcap, "normalize = standard: no training data");
    int64_t per, numel = ir_shape_numel(&d->sample);
    int c = rt_norm_channels(&d->sample, &per);
    if (c > IR_NORM_MAX_CHANNELS) return too_many(c, err, errcap);
    memset(n, 0, sizeof *n);
    double count = (double)d->n * (double)per;
    for (int ch = 0; ch < c; ch++) {
        double sum = 0, ss = 0;
        for (int64_t i = 0; i < d->n; i++) {
            const float *p = d->x + i * numel + ch * per;
            for (int64_t k = 0; k < per; k++) sum += p[k];
        }
        double mean = sum / count;
        for (int64_t i = 0; i < d->n; i++) {
            const float *p = d->x + i * numel + ch * per;
            for (int64_t k = 0; k < per; k++) ss += (p[k] - mean) * (p[k] - mean);
        }
        double sd = sqrt(ss / count);
        if (!(sd > 0) || !isfinite(sd))
            return err_set(err, errcap,
                           "normalize = standard: channel %d of the training data is constant (%g): its "
                           "standard deviation is 0",
                           ch, mean);
        n->mean[ch] = (float)mean;
        n->std[ch] = (float)sd;
    }
    n->channels = c;
    return 0;
}

int rt_norm_check(const ir_input_norm *n, const ir_shape *sample, char *err, size_t errcap) {
    if (!n->channels) return 0;
    int c = rt_norm_channels(sample, NULL);
    if (n->channels != c)
        return err_set(err, errcap,
                       "normalize = standard(...) gives %d value%s per list, but the samples have %d "
                       "channel%s",
                       n->channels, n->channels == 1 ? "" : "s", c, c == 1 ? "" : "s");
    for (int i = 0; i < c; i++) {
        if (!isfinite(n->mean[i]))
            return err_set(err, errcap, "normalize: mean %d is not a finite number", i + 1);
        if (!(n->std[i] > 0) || !isfinite(n->std[i]))
            return err_set(err, errcap, "normalize: std %d is %g; it must be positive", i + 1, n->std[i]);
    }
    return 0;
}

int rt_norm_apply(const ir_input_norm *n, int64_t numel, float *x, int64_t count, char *err, size_t errcap) {
    if (!n || !n->channels) return 0;
    int c = n->channels;
    if (numel <= 0 || numel % c)
        return err_set(err, errcap,
                       "the inputs have %lld values per sample, which do not split into the %d channels the "
                       "model was trained to standardise",
                       (long long)numel, c);
    int64_t per = numel / c;
    for (int64_t i = 0; i < count; i++)
        for (int ch = 0; ch < c; ch++) {
            float *p = x + i * numel + ch * per, m = n->mean[ch], s = n->std[ch];
            /* divide, not multiply by 1/s: the same rounding as torchvision's Normalize */
            for (int64_t k = 0; k < per; k++) p[k] = (p[k] - m) / s;
        }
    return 0;
}

float rt_norm_zero(const ir_input_norm *n, int c) {
    if (!n || c >= n->channels) return 0.0f;
    return (0.0f - n->mean[c]) / n->std[c];
}

static void put_list(strbuf *b, const char *key, const float *v, int n) {
    strbuf_puts(b, key);
    for (int i = 0; i < n; i++) {
        if (i) strbuf_puts(b, ", ");
        json_write_number(b, (double)v[i]);
    }
    strbuf_puts(b, "]");
}

char *rt_norm_format(const ir_input_norm *n) {
    strbuf b = {0};
    put_list(&b, "{\"mean\": [", n->mean, n->channels);
    put_list(&b, ", \"std\": [", n->std, n->channels);
    strbuf_puts(&b, "}");
    if (b.failed) {
        strbuf_free(&b);
        return NULL;
    }
    return b.data;
}

static int get_list(const json_value *o, const char *key, float *out, int *count) {
    const json_value *a = json_get(o, key);
    if (!a || a->type != JSON_ARRAY || a->n < 1 || a->n > IR_NORM_MAX_CHANNELS) return -1;
    for (size_t i = 0; i < a->n; i++) {
        if (a->items[i].type != JSON_NUMBER) return -1;
        out[i] = (float)a->items[i].number;
    }
    *count = (int)a->n;
    return 0;
}

int rt_norm_parse(const char *text, const char *what, ir_input_norm *n, char *err, size_t errcap) {
    char jerr[128];
    memset(n, 0, sizeof *n);
    json_value *v = json_parse(text, strlen(text), jerr, sizeof jerr);
    int nm = 0, ns = 0;
    int bad = !v || v->type != JSON_OBJECT || get_list(v, "mean", n->mean, &nm) ||
              get_list(v, "std", n->std, &ns) || nm != ns;
    json_free(v);
    if (!bad) {
        n->channels = nm;
        for (int i = 0; i < nm && !bad; i++)
            bad = !isfinite(n->mean[i]) || !(n->std[i] > 0) || !isfinite(n->std[i]);
    }
    if (bad) {
        memset(n, 0, sizeof *n);
        return err_set(err, errcap,
                       "%s: bad \"nasc.normalize\" metadata (expected {\"mean\": [...], \"std\": [...]} with "
                       "one positive std per mean)",
                       what);
    }
    return 0;
}
