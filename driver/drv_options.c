/* drv_options.c: the options a search ran with, kept in its store
 * (run.options, docs/store.md) so that --resume continues the same search:
 * the evaluator, the budgets, the --set overrides, the strategy and its
 * options, the seed, the retrain count. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "driver.h"
#include "drv_supernet.h"
#include "sr_util.h"

bool drv_is_proxy_evaluator(const sr_config *cfg) {
    return cfg->evaluator == SR_EVAL_BUILTIN && cfg->command && !strcmp(cfg->command, DRV_PROXY_EVALUATOR);
}

void drv_evaluator_text(const sr_config *cfg, char *buf, size_t cap) {
    if (drv_evaluator_supernet(cfg))
        snprintf(buf, cap, "%s", cfg->command);
    else if (drv_is_proxy_evaluator(cfg))
        snprintf(buf, cap, "proxy");
    else if (cfg->evaluator == SR_EVAL_BUILTIN)
        snprintf(buf, cap, "builtin");
    else
        snprintf(buf, cap, "%s:%s", cfg->evaluator == SR_EVAL_EXEC ? "exec" : "pipe",
                 cfg->command ? cfg->command : "");
}

char *drv_options_json(const sr_config *cfg, const char *const *sets, int n_sets, int retrain) {
    strbuf b = {0};
    char ev[1200];
    drv_evaluator_text(cfg, ev, sizeof ev);
    strbuf_puts(&b, "{\"evaluator\": ");
    json_write_str(&b, ev);
    strbuf_printf(&b, ", \"trials\": %lld, \"time\": ", (long long)cfg->trials);
    json_write_number(&b, cfg->time_budget);
    strbuf_puts(&b, ", \"strategy\": ");
    json_write_str(&b, cfg->strategy ? cfg->strategy : "random");
    strbuf_puts(&b, ", \"strategy_opts\": [");
    for (int i = 0; i < cfg->n_strategy_opts; i++) {
        char kv[600];
        snprintf(kv, sizeof kv, "%s=%s", cfg->strategy_opts[i].key, cfg->strategy_opts[i].value);
        if (i) strbuf_puts(&b, ", ");
        json_write_str(&b, kv);
    }
    strbuf_printf(&b, "], \"seed\": %llu, \"sets\": [", (unsigned long long)cfg->seed);
    for (int i = 0; i < n_sets; i++) {
        if (i) strbuf_puts(&b, ", ");
        json_write_str(&b, sets[i]);
    }
    strbuf_puts(&b, "]");
    if (retrain > 0) strbuf_printf(&b, ", \"retrain\": %d", retrain); /* absent: none (older stores too) */
    strbuf_puts(&b, "}");
    return strbuf_take(&b);
}

static int read_list(const json_value *arr, char **out, int max, int *n) {
    *n = 0;
    if (!arr || arr->type != JSON_ARRAY) return -1;
    for (size_t c = 0; c < arr->n && *n < max; c++) {
        if (arr->items[c].type != JSON_STRING) return -1;
        out[(*n)++] = strdup(arr->items[c].str);
    }
    return 0;
}

static int parse_options(const char *json, drv_run_options *o) {
    char e[100];
    json_value *d = sr_json_parse(json, e, sizeof e);
    if (!d) return -1;
    const json_value *ev = json_get(d, "evaluator"), *tr = json_get(d, "trials"), *tm = json_get(d, "time"),
                     *st = json_get(d, "strategy"), *so = json_get(d, "strategy_opts"),
                     *sd = json_get(d, "seed"), *se = json_get(d, "sets");
    int rc = -1;
    if (ev && ev->type == JSON_STRING && tr && tm && st && st->type == JSON_STRING && sd &&
        !read_list(so, o->strategy_opts, 32, &o->n_strategy_opts) &&
        !read_list(se, o->sets, 64, &o->n_sets)) {
        snprintf(o->evaluator, sizeof o->evaluator, "%s", ev->str);
        snprintf(o->strategy, sizeof o->strategy, "%s", st->str);
        o->trials = (int64_t)json_number(tr, 0);
        o->time = tm->type == JSON_NUMBER ? tm->number : 0;
        /* the seed is written as an integer: read it from the text, a double loses bits */
        o->seed = strtoull(json + sd->start, NULL, 10);
        o->retrain = (int)json_number(json_get(d, "retrain"), 0);
        rc = 0;
    }
    json_free(d);
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
