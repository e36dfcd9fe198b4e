/* drv_search.c: one search, put together: the space across the ABI, the
 * objectives, the run folder, the builtin evaluator's data, then sr_run. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "driver.h"
#include "drv_quant.h"
#include "drv_supernet.h"
#include "proxies.h"
#include "recipe.h"
#include "sr_util.h"

/* --metrics: what the builtin evaluator measures beyond what the goals name
 * (the metrics of metric_table measured on request). */
static int extra_metrics(const char *list, drv_space *h, char *err, size_t cap) {
    for (const char *q = list; q && *q;) {
        size_t n = strcspn(q, ",");
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(n < 63 ? n : 63), q);
        const metric_info *m = metric_find(name);
        if (!m || !m->on_request) {
            int cnt, k = 0;
            const metric_info *t = metric_table(&cnt);
            char known[300] = "";
            for (int i = 0; i < cnt; i++)
                if (t[i].on_request)
                    k += snprintf(known + k, sizeof known - (size_t)k, "%s%s", k ? ", " : "", t[i].name);
            snprintf(err, cap, "--metrics: '%s' is not a metric measured on request (%s)", name, known);
            return -1;
        }
        h->want_test |= !strcmp(name, "test_accuracy");
        if (rt_proxy_find(name) >= 0) h->want_proxies |= 1u << rt_proxy_find(name);
        h->want_latency |= !strcmp(name, "latency") || !strcmp(name, "throughput");
        h->want_throughput |= !strcmp(name, "throughput");
        h->want_footprint |= !strcmp(name, "ram") || !strcmp(name, "flash");
        q += n + (q[n] == ',');
    }
    return 0;
}

/* Test accuracy is measured once, for the best trial at the end (from its
 * kept weights), unless every trial measured it: it goes into the trial's
 * metrics in the store and the summary.  Nothing happens without a test
 * set or weights. */
static int best_test_accuracy(drv_space *h, const drv_folder *f, sr_summary *sum, char *err, size_t cap) {
    if (sum->best_trial < 0 || !sum->best_weights_path[0] || !sum->best_point) return 0;
    recipe r;
    const recipe_data *d =
        recipe_from_section(&h->s->train, &r, err, cap) ? recipe_load_data(&r, err, cap) : NULL;
    if (!d || !d->have_test) return 0;
    ctx_mark m = ctx_get_mark(h->c);
    space_ir *s;
    assignment *a;
    ir_graph g = {0};
    double acc = NAN;
    int rc = -1;
    if (point_load(h->c, h->p, &s, sum->best_point, "point", &a, &g) &&
        !rt_load_weights(&g, sum->best_weights_path, NULL, err, cap) &&
        !rt_evaluate(&g, &d->test, r.cfg.batch, &acc, NULL, err, cap))
        rc = 0;
    rt_params_free(&g);
    ctx_release(h->c, m);
    if (rc || !isfinite(acc)) return 0; /* the search stands; the test figure is extra */
    sr_metrics mt;
    sr_metrics_init(&mt);
    char e2[200];
    char *json = NULL;
    if (!sr_metrics_from_json(sum->best_metrics, &mt, e2, sizeof e2) &&
        !sr_metrics_set(&mt, "test_accuracy", acc))
        json = sr_metrics_to_json(&mt);
    sr_metrics_free(&mt);
    if (!json) return 0;
    sr_store *st;
    if (sr_store_open(f->db, 0, &st, err, cap) == 0) {
        rc = sr_store_set_metrics(st, sum->best_trial, json, err, cap);
        sr_store_close(st);
    }
    free(sum->best_metrics);
    sum->best_metrics = json;
    return rc;
}

int drv_search_run(nasc_ctx *c, program *p, space_ir *s, sr_config *cfg, const char *db, const char *metrics,
                   int retrain, drv_folder *folder, sr_summary *sum, char *err, size_t cap) {
    memset(sum, 0, sizeof *sum);
    sum->best_trial = -1;
    drv_space h;
    drv_space_init(&h, c, p, s);
    drv_folder_init(folder, db, s->name);
    h.folder = folder;
    drv_goals g;
    if (!drv_goals_read(&s->search, &g, err, cap)) return -1;
    h.want_latency = g.latency;
    h.want_throughput = g.throughput;
    h.want_test = g.test;
    h.want_footprint = g.footprint;
    const cfg_val *qv = section_get(&s->search, "quant");
    h.quant = qv && qv->k == CV_IDENT ? drv_quant_kind(qv->s) : PS_QUANT_NONE;
    if (h.quant < 0) h.quant = PS_QUANT_NONE; /* the checker allows int8 and none only */
    h.want_proxies = h.need_proxies = g.proxies;
    h.proxy_eval = drv_is_proxy_evaluator(cfg);
    if (h.proxy_eval && !g.proxies) {
        snprintf(err, cap,
                 "the proxy evaluator reports only training-free proxies: name one in an objective, for "
                 "example objective = maximize(synflow) (docs/proxies.md)");
        drv_goals_free(&g);
        return -2;
    }
    if (extra_metrics(metrics, &h, err, cap)) {
        drv_goals_free(&g);
        return -2;
    }
    cfg->objectives = g.obj;
    cfg->n_objectives = g.n_obj;
    cfg->limits = g.lim;
    cfg->n_limits = g.n_lim;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int jobs = cfg->jobs > 0 ? cfg->jobs : 1;
    h.threads = (int)(cores / jobs > 0 ? cores / jobs : 1);
    cfg->db_path = folder->db;
    cfg->layout = &folder->layout;
    cfg->source = c->files.v[0].text;
    int rc = drv_folder_create(folder, err, cap);
    if (!rc && cfg->evaluator == SR_EVAL_BUILTIN && sr_mpi_role() != 2) {
        /* Load the data once here: forked workers share it. */
        recipe r;
        if (recipe_from_section(&s->train, &r, err, cap) && !recipe_load_data(&r, err, cap)) rc = -1;
    }
    sr_space_iface iface = drv_space_iface(&h);
    if (!rc && drv_evaluator_supernet(cfg)) /* the supernet evaluator (drv_supernet.c) */
        rc = drv_supernet_evaluator(&h, drv_evaluator_supernet(cfg), &iface, err, cap);
    if (!rc) rc = sr_run(cfg, &iface, sum, err, cap);
    if (!rc && cfg->evaluator == SR_EVAL_BUILTIN && !h.proxy_eval && !h.want_test && !sum->worker_rank)
        rc = best_test_accuracy(&h, folder, sum, err, cap);
    if (!rc && retrain > 0 && !sum->worker_rank && !sum->interrupted && sum->best_trial >= 0)
        rc = drv_retrain(&h, folder, retrain, cfg->progress_fp, err, cap);
    drv_supernet_evaluator_free(&iface);
    drv_goals_free(&g);
    return rc;
}
