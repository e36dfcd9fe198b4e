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


/* --evaluator: builtin, exec:CMD, pipe:CMD, or the section's forms
 * exec("CMD") and pipe("CMD") (a double-quoted string with \" and \\). */
static bool evaluator_form(nasc_ctx *c, const char *text, sr_config *cfg) {
    if (!strcmp(text, "builtin") || !strcmp(text, DRV_PROXY_EVALUATOR)) {
        cfg->evaluator = SR_EVAL_BUILTIN;
        cfg->command = strcmp(text, "builtin") ? DRV_PROXY_EVALUATOR : NULL;
        return true;
    }
    if (!strncmp(text, "supernet:", 9) && text[9]) { /* driver/drv_supernet.h */
        cfg->evaluator = SR_EVAL_BUILTIN;
        cfg->command = text;
        return true;
    }
    bool exec = !strncmp(text, "exec", 4), pipe = !strncmp(text, "pipe", 4);
    if (!exec && !pipe) return false;
    cfg->evaluator = exec ? SR_EVAL_EXEC : SR_EVAL_PIPE;
    const char *q = text + 4;
    if (*q == ':') {
        cfg->command = q + 1;
        return q[1] != 0;
    }
    while (*q == ' ') q++;
    if (*q++ != '(') return false;
    while (*q == ' ') q++;
    if (*q++ != '"') return false;
    char *cmd = arena_alloc(&c->A, strlen(q) + 1), *w = cmd;
    for (; *q && *q != '"'; q++) *w++ = *q == '\\' && (q[1] == '"' || q[1] == '\\') ? *++q : *q;
    *w = 0;
    if (*q++ != '"') return false;
    while (*q == ' ') q++;
    if (*q++ != ')') return false;
    while (*q == ' ') q++;
    cfg->command = cmd;
    return !*q && *cmd;
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
        const char *key = arena_strndup(&c->A, o->strategy_opts[i], (size_t)(eq - o->strategy_opts[i]));
        int k = 0; /* --strategy-opt overrides the file's (and an earlier one's) value */
        while (k < cfg->n_strategy_opts && strcmp(sopts[k].key, key)) k++;
        sopts[k].key = key;
        sopts[k].value = eq + 1;
        if (k == cfg->n_strategy_opts) cfg->n_strategy_opts++;
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
        if (!evaluator_form(c, o->evaluator, cfg)) {
            snprintf(
                err, cap,
                "--evaluator expects builtin, proxy, exec(\"COMMAND\"), pipe(\"COMMAND\"), exec:COMMAND, "
                "pipe:COMMAND or supernet:FILE, not '%.200s'",
                o->evaluator);
            return EXIT_USAGE;
        }
    } else if (ev && ev->k == CV_CALL && ev->n == 1 && !strcmp(ev->s, "supernet")) {
        cfg->command = arena_printf(&c->A, "supernet:%s", ev->items[0]->s);
    } else if (ev && ev->k == CV_IDENT && !strcmp(ev->s, DRV_PROXY_EVALUATOR)) {
        cfg->command = DRV_PROXY_EVALUATOR;
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
               (long long)sum->done, (long long)sum->failed, (long long)sum->infeasible,
               (long long)sum->unfinished, (long long)sum->evaluated, (long long)sum->cached,
               (long long)sum->checked);
        if (sum->best_trial >= 0)
            printf("\"best\": {\"trial\": %lld, \"point\": %s, \"metrics\": %s}, ",
                   (long long)sum->best_trial, sum->best_point, sum->best_metrics);
        /* the front as report --json gives it: trial, point and metrics of each member */
        printf("\"front\": %s, \"db\": ", sum->front_json ? sum->front_json : "[]");
        strbuf b = {0};
        json_write_str(&b, db);
        strbuf_puts(&b, ", \"weights\": ");
        json_write_str(&b, sum->best_weights_path);
        char e2[256];
        char *re = sr_report_retrain_json(db, e2, sizeof e2); /* search.retrain: as report --json gives it */
        printf("%s, \"interrupted\": %s%s%s}\n", b.data, sum->interrupted ? "true" : "false",
               re ? ", \"retrain\": " : "", re ? re : "");
        free(re);
        strbuf_free(&b);
        return;
    }
    char err[512];
    if (sr_report_print(db, stdout, 0, 0, err, sizeof err)) cli_err("%s", err);
    /* The report above already shows the best trial; say where it was written. */
    if (sum->best_trial >= 0) {
        if (sum->best_json_path[0]) printf("point:   %s\n", sum->best_json_path);
        if (sum->best_weights_path[0]) printf("weights: %s\n", sum->best_weights_path);
    }
}

/* ----- resume: the stored options ----- */

static bool same_list(char *const *a, int na, const char *const *b, int nb) {
    if (na != nb) return false;
    for (int i = 0; i < na; i++)
        if (strcmp(a[i], b[i])) return false;
    return true;
}

static void join(char *const *v, int n, char *buf, size_t cap) {
    size_t k = 0;
    buf[0] = 0;
    for (int i = 0; i < n && k + 1 < cap; i++)
        k += (size_t)snprintf(buf + k, cap - k, "%s%s", i ? " " : "", v[i]);
    if (!n) snprintf(buf, cap, "(none)");
}

/* What a resumed search takes from its store: every option the command
 * line does not give (the effective strategy options followed by any
 * --strategy-opt, which override).  `so` holds the strings. */
static void take_stored(const opts *o, const drv_run_options *st, opts *eff, const char **so, char *time_buf,
                        size_t tcap) {
    if (!o->evaluator) eff->evaluator = st->evaluator;
    if (!o->strategy) eff->strategy = st->strategy;
    int n = 0;
    for (int i = 0; i < st->n_strategy_opts && n < 32; i++) so[n++] = st->strategy_opts[i];
    for (int i = 0; i < o->n_strategy_opts && n < 32; i++) so[n++] = o->strategy_opts[i];
    memcpy(eff->strategy_opts, so, (size_t)n * sizeof *so);
    eff->n_strategy_opts = n;
    if (!o->have_seed) {
        eff->have_seed = true;
        eff->seed = (long long)st->seed;
    }
    if (!o->retrain && st->retrain > 0) eff->retrain = st->retrain;
    if (!o->trials && !o->time) { /* a budget given on resume replaces the stored one */
        eff->trials = st->trials;
        if (st->time > 0) {
            snprintf(time_buf, tcap, "%.17gs", st->time);
            eff->time = time_buf;
        }
    }
}

/* An option given on resume that differs from the stored one is an error
 * naming both, unless --force (then the new value is used and stored). */
static int check_conflicts(const opts *o, const sr_config *cfg, const drv_run_options *st, char *err,
                           size_t cap) {
    if (o->force) return 0;
    char now[1200];
    drv_evaluator_text(cfg, now, sizeof now);
    if (o->evaluator && strcmp(now, st->evaluator)) {
        snprintf(err, cap, "--evaluator %.500s: this search was started with --evaluator %.500s", now,
                 st->evaluator);
        return -1;
    }
    if (o->strategy && strcmp(cfg->strategy, st->strategy)) {
        snprintf(err, cap, "--strategy %s: this search was started with --strategy %s", cfg->strategy,
                 st->strategy);
        return -1;
    }
    char kv[32][600], *v[32];
    for (int i = 0; i < cfg->n_strategy_opts; i++) {
        snprintf(kv[i], sizeof kv[i], "%s=%s", cfg->strategy_opts[i].key, cfg->strategy_opts[i].value);
        v[i] = kv[i];
    }
    if (o->n_strategy_opts &&
        !same_list(v, cfg->n_strategy_opts, (const char *const *)st->strategy_opts, st->n_strategy_opts)) {
        char a[1000], b[1000];
        join(v, cfg->n_strategy_opts, a, sizeof a);
        join(st->strategy_opts, st->n_strategy_opts, b, sizeof b);
        snprintf(err, cap,
                 "--strategy-opt: the strategy options would be %.400s; this search was started with %.400s",
                 a, b);
        return -1;
    }
    if (o->have_seed && cfg->seed != st->seed) {
        snprintf(err, cap, "--seed %llu: this search was started with --seed %llu",
                 (unsigned long long)cfg->seed, (unsigned long long)st->seed);
        return -1;
    }
    return 0;
}

/* On --resume, the --set overrides are the stored ones: given again they
 * must be the same; not given, the program is loaded again with them. */
static int stored_sets(nasc_ctx **c, program **p, space_ir **s, const opts *o, opts *eff,
                       const drv_run_options *st, char *err, size_t cap) {
    if (same_list((char *const *)o->sets, o->n_sets, (const char *const *)st->sets, st->n_sets)) return 0;
    if (o->n_sets && !o->force) {
        char a[1000], b[1000];
        join((char *const *)o->sets, o->n_sets, a, sizeof a);
        join(st->sets, st->n_sets, b, sizeof b);
        snprintf(err, cap, "--set %s: this search was started with --set %s", a, b);
        return EXIT_USAGE;
    }
    if (o->n_sets) return 0; /* --force: the new overrides */
    for (int i = 0; i < st->n_sets; i++) eff->sets[i] = st->sets[i];
    eff->n_sets = st->n_sets;
    nasc_ctx *c2 = ctx_new();
    int status;
    program *p2 = cli_load(c2, eff, &status);
    space_ir *s2 = p2 ? prog_space(p2, (*s)->name) : NULL;
    if (!s2) {
        ctx_destroy(c2);
        snprintf(err, cap, "%s: cannot be loaded with the stored --set overrides", o->file);
        return p2 ? EXIT_INPUT : status;
    }
    *c = c2;
    *p = p2;
    *s = s2;
    return 0;
}

int cmd_search(nasc_ctx *c, const opts *o) {
    int st;
    program *p = cli_load(c, o, &st);
    if (!p) return st;
    recipe_set_base(o->file);
    space_ir *s = prog_space(p, o->space);
    if (!s) {
        char names[600] = "";
        for (int i = 0, k = 0; i < p->spaces.n && k < (int)sizeof names - 80; i++)
            k += snprintf(names + k, sizeof names - (size_t)k, "%s%s", i ? ", " : "", p->spaces.v[i]->name);
        if (o->space)
            cli_err("%s has no space %s (its spaces: %s)", o->file, o->space, names);
        else
            cli_err("%s holds %d spaces (%s): choose one with --space NAME", o->file, p->spaces.n, names);
        return o->space ? EXIT_USAGE : EXIT_INPUT;
    }
    if ((st = cli_check_strategies(c, p, o)) != EXIT_OK) return st;
    char err[2048] = "", time_buf[64];
    opts eff = *o;
    drv_run_options stored;
    const char *so[32];
    nasc_ctx *own = NULL; /* a context of our own when the program is loaded again */
    int rc = 0, have_stored = 0;
    if (o->resume) {
        drv_folder f;
        drv_folder_init(&f, o->db, s->name);
        int r = drv_options_read(f.db, &stored, err, sizeof err);
        have_stored = r == 0;
        if (r < 0) rc = EXIT_INPUT;
        if (have_stored) {
            nasc_ctx *orig = c;
            rc = stored_sets(&c, &p, &s, o, &eff, &stored, err, sizeof err);
            if (c != orig) own = c;
            take_stored(o, &stored, &eff, so, time_buf, sizeof time_buf);
        }
    }
    sr_config cfg = {0};
    nasc_option sopts[32];
    if (!rc) rc = configure(c, &eff, s, &cfg, sopts, err, sizeof err);
    if (!rc && have_stored && check_conflicts(o, &cfg, &stored, err, sizeof err)) rc = EXIT_USAGE;
    if (rc) {
        cli_err("%s", err);
        if (have_stored) drv_options_free(&stored);
        if (own) ctx_destroy(own);
        return rc;
    }
    if (cfg.jobs < 1 || cfg.jobs > 256) {
        cli_err("-j expects a number of workers from 1 to 256, not %d", cfg.jobs);
        if (have_stored) drv_options_free(&stored);
        if (own) ctx_destroy(own);
        return EXIT_USAGE;
    }
    /* search.retrain / --retrain: trained stand-alone by the train section (docs/one-shot.md) */
    int retrain = eff.retrain ? (int)eff.retrain : (int)section_num(&s->search, "retrain", 0);
    if (retrain > 0 && cfg.evaluator != SR_EVAL_BUILTIN) {
        cli_err("%s = %d trains the best points as the builtin evaluator does (the train section): it cannot "
                "follow an exec or pipe evaluator",
                o->retrain ? "--retrain" : "search.retrain", retrain);
        if (have_stored) drv_options_free(&stored);
        if (own) ctx_destroy(own);
        return EXIT_USAGE;
    }
    char *options = drv_options_json(&cfg, eff.sets, eff.n_sets, retrain);
    cfg.options_json = options;
    cfg.source_path = o->file;
    cfg.progress_fp = o->quiet ? NULL : stderr;
    cfg.handle_signals = 1;
    drv_folder folder;
    sr_summary sum;
    int status = EXIT_OK;
    int run = drv_search_run(c, p, s, &cfg, o->db, o->metrics, retrain, &folder, &sum, err, sizeof err);
    if (run) {
        cli_err("%s", err);
        status = run == -2 ? EXIT_USAGE : EXIT_INPUT;
    } else {
        if (!sum.worker_rank) print_summary(&sum, o, folder.db);
        if (sum.interrupted && !o->quiet) /* the store holds every other option the resumed search needs */
            fprintf(stderr,
                    "interrupted: %lld trials done; resume with: nasc search %s%s%s --db %s --resume\n",
                    (long long)(sum.done + sum.failed + sum.infeasible), o->file, o->space ? " --space " : "",
                    o->space ? o->space : "", folder.db);
        if (sum.interrupted)
            status = 130;
        else if (!sum.worker_rank && sum.best_trial < 0) {
            cli_err("no trial was feasible: %lld failed, %lld infeasible (nasc report %s shows why)",
                    (long long)sum.failed, (long long)sum.infeasible, folder.db);
            status = EXIT_INPUT;
        }
    }
    sr_summary_free(&sum);
    free(options);
    if (have_stored) drv_options_free(&stored);
    if (own) ctx_destroy(own);
    return status;
}

int cmd_report(nasc_ctx *c, const opts *o) {
    (void)c;
    char err[1024];
    if (access(o->file, R_OK)) {
        cli_err("cannot read %s: %s", o->file, strerror(errno));
        return EXIT_INPUT;
    }
    int top = o->top > 0 ? (int)(o->top < 1000000 ? o->top : 1000000) : 0;
    if (sr_report_print(o->file, stdout, top, o->json, err, sizeof err)) {
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
    if (o->html) {
        if (sr_report_html(o->file, o->html, top, err, sizeof err)) {
            cli_err("%s", err);
            return EXIT_INPUT;
        }
        if (!o->json) fprintf(stderr, "report written to %s\n", o->html);
    }
    return EXIT_OK;
}


/* {"plugins": [{"name", "version", "path", "description", "options": [{"key", "default", "help"}], "error"}]} */
static void plugins_json(const sr_plugin_info *v, int n) {
    strbuf b = {0};
    strbuf_puts(&b, "{\"plugins\": [");
    for (int i = 0; i < n; i++) {
        strbuf_puts(&b, i ? ", {\"name\": " : "{\"name\": ");
        json_write_str(&b, v[i].name);
        strbuf_puts(&b, ", \"version\": ");
        json_write_str(&b, v[i].version);
        strbuf_puts(&b, ", \"path\": ");
        json_write_str(&b, v[i].path);
        strbuf_puts(&b, ", \"description\": ");
        json_write_str(&b, v[i].description);
        strbuf_puts(&b, ", \"options\": [");
        for (int k = 0; k < v[i].n_options; k++) {
            strbuf_puts(&b, k ? ", {\"key\": " : "{\"key\": ");
            json_write_str(&b, v[i].options[k].key);
            strbuf_puts(&b, ", \"default\": ");
            json_write_str(&b, v[i].options[k].default_value);
            strbuf_puts(&b, ", \"help\": ");
            json_write_str(&b, v[i].options[k].help);
            strbuf_puts(&b, "}");
        }
        strbuf_puts(&b, "]");
        if (v[i].error[0]) {
            strbuf_puts(&b, ", \"error\": ");
            json_write_str(&b, v[i].error);
        }
        strbuf_puts(&b, "}");
    }
    strbuf_puts(&b, "]}\n");
    fputs(b.data, stdout);
    strbuf_free(&b);
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
