/* drv_warm.c: the host's proxy service across the strategy ABI
 * (nasc_space.proxy_scores): the training-free proxy of the points a
 * strategy asks about (its zero-cost warm start, docs/proxies.md),
 * computed at each point's initialisation exactly as the proxy evaluator
 * computes it, whatever evaluator the search trains with.
 *
 * The scores are not trials.  They are recorded in the search's store
 * under the kv key "warm_start" (one JSON object: the proxy, a key naming
 * the request, the seconds it took and every point with its value or the
 * reason it has none).  When the same request comes again (a --resume
 * replaying the strategy's first ask), the record answers it: the warm
 * start is neither computed twice nor changed. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "blas.h"
#include "driver.h"
#include "hash.h"
#include "json.h"
#include "proxies.h"
#include "recipe.h"
#include "sr_util.h"

#define WARM_KEY "warm_start"

/* What a name scores by: a proxy id, or a static metric. */
enum { WARM_PARAMS = -2, WARM_FLOPS = -3 };

static int warm_metric(const char *name) {
    if (!strcmp(name, "params")) return WARM_PARAMS;
    if (!strcmp(name, "flops")) return WARM_FLOPS;
    return rt_proxy_find(name);
}

/* The value of `metric` for one point: 0 with *v (NaN and a reason in why
 * when the proxy is undefined for it), -1 with err when the point cannot
 * be built or its data not loaded. */
static int warm_one(drv_space *h, const char *json, int metric, double *v, char *why, size_t whycap,
                    char *err, size_t cap) {
    ctx_mark m = ctx_get_mark(h->c);
    diag *first = h->c->diags_tail;
    space_ir *s;
    assignment *a;
    ir_graph g = {0};
    int rc = -1;
    *v = NAN;
    why[0] = 0;
    if (!point_load(h->c, h->p, &s, json, "point", &a, &g)) {
        drv_diags_since(h->c, first, err, cap);
        goto out;
    }
    if (metric < 0) {
        *v = (double)(metric == WARM_PARAMS ? g.params : g.flops);
        rc = 0;
        goto out;
    }
    recipe r;
    const recipe_data *d;
    if (!recipe_from_section(&a->train, &r, err, cap) || !(d = recipe_load_data(&r, err, cap))) goto out;
    if (rt_params_init(&g, r.cfg.init, r.cfg.seed)) {
        snprintf(err, cap, "out of memory");
        goto out;
    }
    r.proxies = 1u << metric;
    rt_proxy_values px;
    if (recipe_proxies(&g, &r, d, &px, err, cap)) goto out;
    if (px.why[metric][0])
        snprintf(why, whycap, "%s", px.why[metric]);
    else
        *v = px.v[metric];
    rc = 0;
out:
    rt_params_free(&g);
    ctx_release(h->c, m);
    return rc;
}

/* The request's key: the source, the proxy and every point, so a record
 * made for other points (or an edited source resumed with --force) is
 * not taken for this one. */
static void warm_request_key(const drv_space *h, const char *proxy, char *const *json, int n, char out[17]) {
    uint64_t k = hash_fnv1a(h->c->files.n ? h->c->files.v[0].text : "");
    k = hash_fnv1a_bytes(k, proxy, strlen(proxy) + 1);
    for (int i = 0; i < n; i++) k = hash_fnv1a_bytes(k, json[i], strlen(json[i]) + 1);
    snprintf(out, 17, "%016llx", (unsigned long long)k);
}

/* The recorded answer to this request, when the store has one: 1 with
 * scores filled, 0 when there is none (or it answers another request). */
static int warm_recorded(const char *db, const char *key, int n, double *scores) {
    sr_store *st;
    char e[300];
    if (access(db, F_OK) || sr_store_open(db, 0, &st, e, sizeof e)) return 0;
    char *text = sr_store_kv_get(st, WARM_KEY);
    sr_store_close(st);
    json_value *v = text ? json_parse(text, strlen(text), e, sizeof e) : NULL;
    free(text);
    const json_value *k = json_get(v, "key"), *pts = json_get(v, "points");
    int ok = k && k->type == JSON_STRING && !strcmp(k->str, key) && pts && pts->type == JSON_ARRAY &&
             pts->n == (size_t)n;
    for (int i = 0; ok && i < n; i++) {
        const json_value *x = json_get(json_at(pts, (size_t)i), "value");
        if (!x || (x->type != JSON_NUMBER && x->type != JSON_NULL))
            ok = 0;
        else
            scores[i] = x->type == JSON_NUMBER ? x->number : NAN;
    }
    json_free(v);
    return ok;
}

/* Writes the record: the proxy, the request's key, the seconds, and per
 * point {"point", "value", "missing"}.  The search stands without it. */
static void warm_record(const char *db, const char *proxy, const char *key, double seconds, char *const *json,
                        int n, const double *scores, char (*why)[96]) {
    strbuf b = {0};
    strbuf_puts(&b, "{\"proxy\":");
    json_write_str(&b, proxy);
    strbuf_printf(&b, ",\"key\":\"%s\",\"seconds\":", key);
    json_write_number(&b, seconds);
    strbuf_puts(&b, ",\"points\":[");
    for (int i = 0; i < n; i++) {
        strbuf_printf(&b, "%s{\"point\":%s,\"value\":", i ? "," : "", json[i]);
        json_write_number(&b, scores[i]);
        if (why[i][0]) {
            strbuf_puts(&b, ",\"missing\":");
            json_write_str(&b, why[i]);
        }
        strbuf_puts(&b, "}");
    }
    strbuf_puts(&b, "]}");
    char *text = strbuf_take(&b);
    sr_store *st;
    char e[300];
    if (text && !access(db, F_OK) && !sr_store_open(db, 0, &st, e, sizeof e)) {
        sr_store_kv_set(st, WARM_KEY, text, e, sizeof e);
        sr_store_close(st);
    }
    free(text);
}

static void warm_known(char *buf, size_t cap) {
    int k = 0;
    for (int id = 0; id < RT_PX_COUNT && k >= 0 && (size_t)k < cap; id++)
        k += snprintf(buf + k, cap - (size_t)k, "%s, ", rt_proxy_name(id));
    if (k >= 0 && (size_t)k < cap) snprintf(buf + k, cap - (size_t)k, "params, flops");
}

int drv_proxy_scores(void *host, const char *proxy, const nasc_point *points, int n, double *scores,
                     char *err, size_t cap) {
    drv_space *h = host;
    int metric = proxy ? warm_metric(proxy) : -1;
    if (metric == -1) {
        char known[300];
        warm_known(known, sizeof known);
        snprintf(err, cap, "'%s' is not a training-free proxy (%s)", proxy ? proxy : "", known);
        return -1;
    }
    if (n <= 0) return 0;
    if (!points || !scores) {
        snprintf(err, cap, "no points to score");
        return -1;
    }
    char **json = calloc((size_t)n, sizeof *json);
    char(*why)[96] = calloc((size_t)n, sizeof *why);
    int rc = json && why ? 0 : -1;
    if (rc) snprintf(err, cap, "out of memory");
    sr_space_iface io = drv_space_iface(h);
    for (int i = 0; !rc && i < n; i++)
        if (!(json[i] = io.to_json(h, &points[i]))) {
            snprintf(err, cap, "point %d of the warm start is outside the space", i + 1);
            rc = -1;
        }
    char key[17];
    if (!rc) warm_request_key(h, proxy, json, n, key);
    const char *db = h->folder ? h->folder->db : NULL;
    if (!rc && !(db && warm_recorded(db, key, n, scores))) {
        if (h->threads > 0) rt_blas_set_threads(h->threads);
        double t0 = recipe_now();
        for (int i = 0; !rc && i < n; i++)
            rc = warm_one(h, json[i], metric, &scores[i], why[i], 96, err, cap);
        if (!rc && db) warm_record(db, proxy, key, recipe_now() - t0, json, n, scores, why);
    }
    for (int i = 0; json && i < n; i++) free(json[i]);
    free(json);
    free(why);
    return rc;
}
