/* cmd_search.c: `nasc search`, `nasc report` and `nasc plugins`: the
 * command line into an sr_config, then the driver (driver/drv_search.c)
 * runs the search, and the result is printed here. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"
#include "json.h"
#include "driver.h"
#include "recipe.h"
#include "search.h"

/* ----- strategy, budget, evaluator ----- */

static const char *cfg_text(nasc_ctx *c, const cfg_val *v) {
    switch (v->k) {
    case CV_NUM:
        if (!sym_is_const(v->num)) return "?";
        return v->num->c.is_float ? arena_printf(&c->A, "%.17g", v->num->c.f)
                                  : arena_printf(&c->A, "%lld", (long long)v->num->c.i);
    case CV_BOOL: return sym_is_true(v->num) ? "true" : "false";
    case CV_STR:
    case CV_IDENT: return v->s;
    case CV_QUANT: return arena_printf(&c->A, "%g", v->unit == UNIT_TIME ? v->q : v->q);
    default: return "?";
    }
}

static bool parse_duration(const char *s, double *sec) {
    char *end;
    double v = strtod(s, &end);
    if (end == s || v < 0) return false;
    double f = !*end || !strcmp(end, "s") ? 1
               : !strcmp(end, "ms")       ? 1e-3
               : !strcmp(end, "m")        ? 60
               : !strcmp(end, "h")        ? 3600
                                          : -1;
    if (f < 0) return false;
    *sec = v * f;
    return true;
}

static int configure(nasc_ctx *c, const opts *o, space_ir *s, sr_config *cfg, nasc_option *sopts, char *err,
                     size_t cap) {
    const section *se = &s->search;
    const cfg_val *st = section_get(se, "strategy");
    cfg->strategy = o->strategy ? o->strategy : st ? st->s : "random";
    if (st && st->k == CV_CALL && !o->strategy)
        for (int i = 0; i < st->n && cfg->n_strategy_opts < 32; i++) {
            if (!st->keys[i]) {
                snprintf(err, cap, "strategy options are named: %s(key = value)", st->s);
                return -1;
            }
            sopts[cfg->n_strategy_opts].key = st->keys[i];
            sopts[cfg->n_strategy_opts++].value = cfg_text(c, st->items[i]);
        }
    for (int i = 0; i < o->n_strategy_opts && cfg->n_strategy_opts < 32; i++) {
        const char *eq = strchr(o->strategy_opts[i], '=');
        if (!eq) {
            snprintf(err, cap, "--strategy-opt expects KEY=VALUE");
            return EXIT_USAGE;
        }
        sopts[cfg->n_strategy_opts].key =
            arena_strndup(&c->A, o->strategy_opts[i], (size_t)(eq - o->strategy_opts[i]));
        sopts[cfg->n_strategy_opts++].value = eq + 1;
    }
    cfg->strategy_opts = sopts;
    cfg->trials = o->trials ? o->trials : (int64_t)section_num(se, "trials", 0);
    const cfg_val *t = section_get(se, "time");
    if (o->time && !parse_duration(o->time, &cfg->time_budget)) {
        snprintf(err, cap, "--time expects a duration such as 90s, 10m or 2h");
        return EXIT_USAGE;
    }
    if (!o->time && t && t->k == CV_QUANT) cfg->time_budget = t->q;
    if (!cfg->trials && !cfg->time_budget) cfg->trials = 20;
    cfg->seed = o->have_seed ? (uint64_t)o->seed : (uint64_t)section_num(se, "seed", 0);
    const cfg_val *to = section_get(se, "timeout");
    if (to && to->k == CV_QUANT) cfg->timeout = to->q;
    const cfg_val *ml = section_get(se, "memory_limit");
    if (ml && ml->k == CV_QUANT) cfg->memory_limit = ml->q;
    cfg->jobs = o->jobs;
    cfg->resume = o->resume;
    cfg->force = o->force;
    const cfg_val *ev = section_get(se, "evaluator");
    cfg->evaluator = SR_EVAL_BUILTIN;
    if (o->evaluator) {
        if (!strncmp(o->evaluator, "exec:", 5)) {
            cfg->evaluator = SR_EVAL_EXEC;
            cfg->command = o->evaluator + 5;
        } else if (!strncmp(o->evaluator, "pipe:", 5)) {
            cfg->evaluator = SR_EVAL_PIPE;
            cfg->command = o->evaluator + 5;
        } else if (strcmp(o->evaluator, "builtin")) {
            snprintf(err, cap, "--evaluator expects builtin, exec:COMMAND or pipe:COMMAND");
            return EXIT_USAGE;
        }
    } else if (ev && ev->k == CV_CALL && ev->n == 1) {
        cfg->evaluator = !strcmp(ev->s, "exec") ? SR_EVAL_EXEC : SR_EVAL_PIPE;
        cfg->command = ev->items[0]->s;
    }
    return 0;
}

static void print_summary(const sr_summary *sum, const opts *o, const char *db) {
    if (o->json) {
        printf("{\"trials\": {\"done\": %lld, \"failed\": %lld, \"infeasible\": %lld, \"unfinished\": %lld, "
               "\"evaluated\": %lld, \"cached\": %lld, \"checked\": %lld}, ",
               (long long)sum->done, (long long)sum->failed, (long long)sum->infeasible, (long long)sum->unfinished,
               (long long)sum->evaluated, (long long)sum->cached, (long long)sum->checked);
        if (sum->best_trial >= 0)
            printf("\"best\": {\"trial\": %lld, \"point\": %s, \"metrics\": %s}, ",
                   (long long)sum->best_trial, sum->best_point, sum->best_metrics);
        printf("\"front\": [");
        for (int i = 0; i < sum->n_front; i++) printf("%s%lld", i ? ", " : "", (long long)sum->front[i]);
        printf("], \"db\": \"%s\", \"weights\": \"%s\", \"interrupted\": %s}\n", db, sum->best_weights_path,
               sum->interrupted ? "true" : "false");
        return;
    }
    char err[512];
    if (sr_report_print(db, stdout, 10, 0, err, sizeof err)) cli_err("%s", err);
    /* The report above already shows the best trial; say where it was written. */
    if (sum->best_trial >= 0) {
        if (sum->best_json_path[0]) printf("point:   %s\n", sum->best_json_path);
        if (sum->best_weights_path[0]) printf("weights: %s\n", sum->best_weights_path);
    }
}

int cmd_search(nasc_ctx *c, const opts *o) {
    int st;
    program *p = cli_load(c, o, &st);
    if (!p) return st;
    recipe_set_base(o->file);
    space_ir *s = prog_space(p, NULL);
    if (!s) {
        cli_err("%s must hold exactly one space to search", o->file);
        return EXIT_INPUT;
    }
    char err[2048] = "";
    sr_config cfg = {0};
    nasc_option sopts[32];
    int rc = configure(c, o, s, &cfg, sopts, err, sizeof err);
    if (rc) {
        cli_err("%s", err);
        return rc;
    }
    cfg.source_path = o->file;
    cfg.progress_fp = o->quiet ? NULL : stderr;
    cfg.handle_signals = 1;
    drv_folder folder;
    sr_summary sum;
    if (drv_search_run(c, p, s, &cfg, o->db, &folder, &sum, err, sizeof err)) {
        cli_err("%s", err);
        sr_summary_free(&sum);
        return EXIT_INPUT;
    }
    if (!sum.worker_rank) print_summary(&sum, o, folder.db);
    if (sum.interrupted && !o->quiet)
        fprintf(stderr, "interrupted: %lld trials done; resume with: nasc search %s --db %s --resume\n",
                (long long)(sum.done + sum.failed + sum.infeasible), o->file, folder.db);
    int status = sum.interrupted ? 130 : EXIT_OK;
    sr_summary_free(&sum);
    return status;
}

int cmd_report(nasc_ctx *c, const opts *o) {
    (void)c;
    char err[1024];
    if (access(o->file, R_OK)) {
        cli_err("cannot read %s: %s", o->file, strerror(errno));
        return EXIT_INPUT;
    }
    if (sr_report_print(o->file, stdout, 10, o->json, err, sizeof err)) {
        cli_err("%s", err);
        return EXIT_INPUT;
    }
    if (o->svg) {
        if (sr_report_svg(o->file, o->svg, err, sizeof err)) {
            cli_err("%s", err);
            return EXIT_INPUT;
        }
        if (!o->json) fprintf(stderr, "plots written to %s\n", o->svg);
    }
    return EXIT_OK;
}

static void jstr(json_buf *b, const char *s) { json_write_string(b, s ? s : "", s ? strlen(s) : 0); }

/* {"plugins": [{"name", "version", "path", "description", "options": [{"key", "default", "help"}], "error"}]} */
static void plugins_json(const sr_plugin_info *v, int n) {
    json_buf b = {0};
    json_buf_puts(&b, "{\"plugins\": [");
    for (int i = 0; i < n; i++) {
        json_buf_puts(&b, i ? ", {\"name\": " : "{\"name\": ");
        jstr(&b, v[i].name);
        json_buf_puts(&b, ", \"version\": ");
        jstr(&b, v[i].version);
        json_buf_puts(&b, ", \"path\": ");
        jstr(&b, v[i].path);
        json_buf_puts(&b, ", \"description\": ");
        jstr(&b, v[i].description);
        json_buf_puts(&b, ", \"options\": [");
        for (int k = 0; k < v[i].n_options; k++) {
            json_buf_puts(&b, k ? ", {\"key\": " : "{\"key\": ");
            jstr(&b, v[i].options[k].key);
            json_buf_puts(&b, ", \"default\": ");
            jstr(&b, v[i].options[k].default_value);
            json_buf_puts(&b, ", \"help\": ");
            jstr(&b, v[i].options[k].help);
            json_buf_puts(&b, "}");
        }
        json_buf_puts(&b, "]");
        if (v[i].error[0]) {
            json_buf_puts(&b, ", \"error\": ");
            jstr(&b, v[i].error);
        }
        json_buf_puts(&b, "}");
    }
    json_buf_puts(&b, "]}\n");
    fputs(b.data, stdout);
    json_buf_free(&b);
}

int cmd_plugins(nasc_ctx *c, const opts *o) {
    (void)c;
    sr_plugin_info *v = NULL;
    int n = 0;
    char err[1024];
    if (sr_plugins_list(&v, &n, err, sizeof err)) {
        cli_err("%s", err);
        return EXIT_INPUT;
    }
    if (o->json)
        plugins_json(v, n);
    else
        sr_plugins_print(stdout, v, n);
    sr_plugins_free(v, n);
    return EXIT_OK;
}
