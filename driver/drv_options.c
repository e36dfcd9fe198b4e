/* drv_options.c: the options a search ran with, kept in its store
 * (run.options, docs/store.md) so that --resume continues the same search:
 * the evaluator, the budgets, the --set overrides, the strategy and its
 * options, the seed. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "driver.h"
#include "sr_util.h"

bool drv_is_proxy_evaluator(const sr_config *cfg) {
    return cfg->evaluator == SR_EVAL_BUILTIN && cfg->command && !strcmp(cfg->command, DRV_PROXY_EVALUATOR);
}

void drv_evaluator_text(const sr_config *cfg, char *buf, size_t cap) {
    if (drv_is_proxy_evaluator(cfg))
        snprintf(buf, cap, "proxy");
    else if (cfg->evaluator == SR_EVAL_BUILTIN)
        snprintf(buf, cap, "builtin");
    else
        snprintf(buf, cap, "%s:%s", cfg->evaluator == SR_EVAL_EXEC ? "exec" : "pipe",
                 cfg->command ? cfg->command : "");
}

char *drv_options_json(const sr_config *cfg, const char *const *sets, int n_sets) {
    sr_buf b = {0};
    char ev[1200];
    drv_evaluator_text(cfg, ev, sizeof ev);
    sr_buf_puts(&b, "{\"evaluator\": ");
    sr_buf_json_str(&b, ev);
    sr_buf_printf(&b, ", \"trials\": %lld, \"time\": ", (long long)cfg->trials);
    sr_buf_num(&b, cfg->time_budget);
    sr_buf_puts(&b, ", \"strategy\": ");
    sr_buf_json_str(&b, cfg->strategy ? cfg->strategy : "random");
    sr_buf_puts(&b, ", \"strategy_opts\": [");
    for (int i = 0; i < cfg->n_strategy_opts; i++) {
        char kv[600];
        snprintf(kv, sizeof kv, "%s=%s", cfg->strategy_opts[i].key, cfg->strategy_opts[i].value);
        if (i) sr_buf_puts(&b, ", ");
        sr_buf_json_str(&b, kv);
    }
    sr_buf_printf(&b, "], \"seed\": %llu, \"sets\": [", (unsigned long long)cfg->seed);
    for (int i = 0; i < n_sets; i++) {
        if (i) sr_buf_puts(&b, ", ");
        sr_buf_json_str(&b, sets[i]);
    }
    sr_buf_puts(&b, "]}");
    return sr_buf_take(&b);
}

static int read_list(const sj_doc *d, int arr, char **out, int max, int *n) {
    *n = 0;
    if (arr < 0 || d->v[arr].kind != SJ_ARR) return -1;
    for (int c = d->v[arr].child; c >= 0 && *n < max; c = d->v[c].next) {
        if (d->v[c].kind != SJ_STR) return -1;
        out[(*n)++] = strdup(d->v[c].str);
    }
    return 0;
}

static int parse_options(const char *json, drv_run_options *o) {
    sj_doc d;
    char e[100];
    if (sj_parse(json, &d, e, sizeof e)) return -1;
    int ev = sj_get(&d, 0, "evaluator"), tr = sj_get(&d, 0, "trials"), tm = sj_get(&d, 0, "time"),
        st = sj_get(&d, 0, "strategy"), so = sj_get(&d, 0, "strategy_opts"), sd = sj_get(&d, 0, "seed"),
        se = sj_get(&d, 0, "sets");
    int rc = -1;
    if (ev >= 0 && d.v[ev].kind == SJ_STR && tr >= 0 && tm >= 0 && st >= 0 && d.v[st].kind == SJ_STR &&
        sd >= 0 && !read_list(&d, so, o->strategy_opts, 32, &o->n_strategy_opts) &&
        !read_list(&d, se, o->sets, 64, &o->n_sets)) {
        snprintf(o->evaluator, sizeof o->evaluator, "%s", d.v[ev].str);
        snprintf(o->strategy, sizeof o->strategy, "%s", d.v[st].str);
        o->trials = (int64_t)d.v[tr].num;
        o->time = d.v[tm].kind == SJ_NUM ? d.v[tm].num : 0;
        /* the seed is written as an integer: read it from the text, a double loses bits */
        o->seed = strtoull(json + d.v[sd].start, NULL, 10);
        rc = 0;
    }
    sj_free(&d);
    return rc;
}

int drv_options_read(const char *db, drv_run_options *o, char *err, size_t cap) {
    memset(o, 0, sizeof *o);
    if (access(db, F_OK)) return 1;
    sr_store *st;
    if (sr_store_open(db, 0, &st, err, cap)) return -1;
    int rc = 1;
    if (sr_store_has_run(st)) {
        sr_run_row run;
        if (sr_store_get_run(st, &run, err, cap))
            rc = -1;
        else if (run.options && *run.options) {
            rc = parse_options(run.options, o)
                     ? (snprintf(err, cap, "%s: the stored options do not parse", db), -1)
                     : 0;
        }
        if (rc >= 0)
            snprintf(o->source_hash, sizeof o->source_hash, "%s", run.source_hash ? run.source_hash : "");
        sr_run_row_free(&run);
    }
    sr_store_close(st);
    return rc;
}

void drv_options_free(drv_run_options *o) {
    for (int i = 0; i < o->n_strategy_opts; i++) free(o->strategy_opts[i]);
    for (int i = 0; i < o->n_sets; i++) free(o->sets[i]);
    memset(o, 0, sizeof *o);
}
