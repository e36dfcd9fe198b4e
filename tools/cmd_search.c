/* cmd_search.c: `nasc search`, `nasc report` and `nasc plugins`: the
 * front end's side of the search driver (runtime/search).
 *
 * Here the checked space becomes the plugin ABI's nasc_space, points cross
 * between the ABI's value arrays and the front end's assignments, the
 * objectives and limits become sr_exprs with their units, and the builtin
 * evaluator trains (and, for latency objectives, JIT-compiles) a point.
 * Every per-trial run of the interpreter happens under an arena mark that
 * is released afterwards, so 10,000 trials cost no memory.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "blas.h"
#include "cli.h"
#include "codegen.h"
#include "json.h"
#include "recipe.h"
#include "search.h"

typedef struct host_space {
    nasc_ctx *c;
    program *p;
    space_ir *s;
    nasc_space ns;
    nasc_decision *decs;
    bool want_latency;
    int threads; /* OpenBLAS threads per trial */
    double max_epochs;
} host_space;

/* ----- points across the ABI ----- */

static bool to_asg(host_space *h, const nasc_point *p, assignment *a) {
    for (int i = 0; i < h->s->decs.n; i++) {
        decision *d = h->s->decs.v[i];
        nasc_value v = p->values[i];
        sval *x = &a->vals[i];
        memset(x, 0, sizeof *x);
        a->given[i] = true;
        switch (d->kind) {
        case DK_CAT:
            if (v.i < 0 || v.i >= d->n_alts) return false;
            x->i = v.i;
            break;
        case DK_INT:
            if (v.i < d->lo || v.i > d->hi || (v.i - d->lo) % d->step) return false;
            x->i = v.i;
            break;
        case DK_FLOAT:
            if (!(v.f >= d->flo && v.f <= d->fhi)) return false;
            x->is_float = true;
            x->f = v.f;
            break;
        case DK_SUBSET:
            if (__builtin_popcountll(v.subset) != d->k || (d->n_alts < 64 && v.subset >> d->n_alts))
                return false;
            x->i = (int64_t)v.subset;
            break;
        }
    }
    return true;
}

static int hs_normalize(void *ud, nasc_point *p) {
    host_space *h = ud;
    ctx_mark m = ctx_get_mark(h->c);
    assignment *a = asg_new(h->c, h->s);
    int rc = -1;
    if (to_asg(h, p, a)) {
        bool feasible;
        bool ok = space_run(h->c, h->p, h->s, a, NULL, &feasible);
        for (int i = 0; i < a->n; i++) p->active[i] = a->active[i];
        rc = ok ? 1 : 0;
    }
    ctx_release(h->c, m);
    return rc;
}

static char *hs_to_json(void *ud, const nasc_point *p) {
    host_space *h = ud;
    ctx_mark m = ctx_get_mark(h->c);
    assignment *a = asg_new(h->c, h->s);
    char *out = NULL;
    if (to_asg(h, p, a)) {
        bool feasible;
        space_run(h->c, h->p, h->s, a, NULL, &feasible);
        out = strdup(point_json(h->c, h->s, a));
    }
    ctx_release(h->c, m);
    return out;
}

static void diags_to(nasc_ctx *c, char *err, size_t cap) {
    char *d = diag_render_string(c);
    snprintf(err, cap, "%s", d ? d : "invalid point");
    size_t n = strlen(err);
    while (n && err[n - 1] == '\n') err[--n] = 0;
    free(d);
}

static int hs_from_json(void *ud, const char *json, nasc_point *p, char *err, size_t cap) {
    host_space *h = ud;
    ctx_mark m = ctx_get_mark(h->c);
    diag *first = h->c->diags_tail;
    space_ir *s;
    assignment *a;
    int rc = -1;
    if (point_load(h->c, h->p, &s, json, "point", &a, NULL) && s == h->s) {
        for (int i = 0; i < a->n; i++) {
            decision *d = s->decs.v[i];
            p->active[i] = a->active[i];
            memset(&p->values[i], 0, sizeof p->values[i]);
            if (d->kind == DK_FLOAT)
                p->values[i].f = a->vals[i].f;
            else if (d->kind == DK_SUBSET)
                p->values[i].subset = (uint64_t)a->vals[i].i;
            else
                p->values[i].i = a->vals[i].i;
        }
        rc = 0;
    } else {
        nasc_ctx tmp = *h->c; /* render only what this call recorded */
        tmp.diags = first ? first->next : h->c->diags;
        diags_to(&tmp, err, cap);
    }
    ctx_release(h->c, m);
    return rc;
}

static int hs_static(void *ud, const nasc_point *p, sr_metrics *out) {
    host_space *h = ud;
    ctx_mark m = ctx_get_mark(h->c);
    assignment *a = asg_new(h->c, h->s);
    a->no_names = true;
    ir_graph g = {0};
    bool feasible, ok = to_asg(h, p, a) && space_run(h->c, h->p, h->s, a, &g, &feasible);
    if (ok) {
        sr_metrics_set(out, "params", (double)g.params);
        sr_metrics_set(out, "flops", (double)g.flops);
        sr_metrics_set(out, "memory", (double)g.memory);
    }
    ctx_release(h->c, m);
    return ok ? 0 : -1;
}

/* ----- the builtin evaluator (runs in a worker) ----- */

static void set_if_finite(sr_metrics *m, const char *name, double v) {
    if (isfinite(v)) sr_metrics_set(m, name, v);
}

/* Latency and throughput of the point's compiled kernels (hardware-aware
 * objectives), measured with the JIT on the trained weights. */
static int measure_latency(const ir_graph *g, sr_metrics *out, char *err, size_t cap) {
    cg_jit *j = cg_jit_compile(g, CG_OPT_SEARCH, err, cap);
    if (!j) return -1;
    cg_bench_result r;
    int rc = cg_bench(j, 300, &r, err, cap);
    cg_jit_free(j);
    if (rc) return -1;
    sr_metrics_set(out, "latency", r.latency_us);
    sr_metrics_set(out, "throughput", r.throughput);
    return 0;
}

/* Checkpoints for multi-fidelity strategies: the same point trained again
 * at a higher fidelity resumes from its last checkpoint. */
static void checkpoint_path(const char *weights_path, const char *point_json, char *buf, size_t cap) {
    uint64_t hsh = 1469598103934665603ull;
    for (const char *s = point_json; *s; s++) hsh = (hsh ^ (unsigned char)*s) * 1099511628211ull;
    const char *slash = strrchr(weights_path, '/');
    int dir = slash ? (int)(slash - weights_path) : 1;
    snprintf(buf, cap, "%.*s/ckpt-%016llx.safetensors", dir, slash ? weights_path : ".",
             (unsigned long long)hsh);
}

static int hs_eval(void *ud, const char *point_json, double fidelity, const char *weights_path,
                   sr_metrics *out, char *err, size_t cap) {
    host_space *h = ud;
    ctx_mark m = ctx_get_mark(h->c);
    diag *first = h->c->diags_tail;
    space_ir *s;
    assignment *a;
    ir_graph g = {0};
    int rc = -1;
    rt_resume resume = {0};
    if (!point_load(h->c, h->p, &s, point_json, "point", &a, &g)) {
        nasc_ctx tmp = *h->c;
        tmp.diags = first ? first->next : h->c->diags;
        diags_to(&tmp, err, cap);
        goto out;
    }
    if (h->threads > 0) rt_blas_set_threads(h->threads);
    recipe r;
    if (!recipe_from_section(&a->train, &r, err, cap)) goto out;
    r.cfg.threads = h->threads;
    char ckpt[1200] = "";
    const rt_resume *rs = NULL;
    if (weights_path && *weights_path && fidelity > 0) {
        checkpoint_path(weights_path, point_json, ckpt, sizeof ckpt);
        if (!access(ckpt, R_OK) && !rt_load_weights(&g, ckpt, &resume, err, cap)) {
            if (resume.epochs < fidelity)
                rs = &resume;
            else
                rt_params_free(&g); /* trained as far already: start afresh */
        }
    }
    trial_metrics tm;
    rt_trainer *keep = NULL;
    if (recipe_train(&g, &r, fidelity, rs, NULL, NULL, &tm, &keep, err, cap)) goto out;
    set_if_finite(out, "accuracy", tm.m.accuracy);
    set_if_finite(out, "test_accuracy", tm.m.test_accuracy);
    set_if_finite(out, "loss", tm.m.loss);
    set_if_finite(out, "train_time", tm.m.train_time);
    set_if_finite(out, "naswot", tm.naswot);
    set_if_finite(out, "synflow", tm.synflow);
    sr_metrics_set(out, "params", (double)tm.m.params);
    sr_metrics_set(out, "flops", (double)tm.m.flops);
    sr_metrics_set(out, "memory", (double)tm.m.memory);
    sr_metrics_set(out, "epochs", tm.m.epochs);
    rc = 0;
    if (h->want_latency && measure_latency(&g, out, err, cap)) rc = -1;
    if (rc == 0 && weights_path && *weights_path)
        rc = rt_save_weights(&g, rt_trainer_optim(keep), weights_path, point_json, tm.m.epochs, err, cap);
    if (rc == 0 && *ckpt && tm.m.epochs < h->max_epochs)
        rt_save_weights(&g, rt_trainer_optim(keep), ckpt, point_json, tm.m.epochs, err, cap);
    rt_trainer_free(keep);
out:
    rt_resume_free(&resume);
    rt_params_free(&g);
    ctx_release(h->c, m);
    return rc;
}

/* A forked worker gets its share of the cores for OpenBLAS. */
static void hs_worker_init(void *ud) {
    host_space *h = ud;
    if (h->threads > 0) rt_blas_set_threads(h->threads);
}

/* ----- the space as the ABI describes it ----- */

/* The simple form of an activity condition: one parent decision and the
 * values of it under which the decision is active. */
static void simple_parent(host_space *h, decision *d, nasc_decision *nd) {
    nd->parent = -1;
    if (d->guard->n_deps != 1) return;
    decision *p = h->s->decs.v[d->guard->deps[0]];
    if (p->kind != DK_CAT && p->kind != DK_INT) return;
    int64_t n = p->kind == DK_CAT ? p->n_alts : (p->hi - p->lo) / p->step + 1;
    if (n > 4096) return;
    sval *vals = arena_alloc(&h->c->A, (size_t)(h->s->decs.n + 1) * sizeof *vals);
    int64_t *out = arena_alloc(&h->c->A, (size_t)n * sizeof *out);
    int k = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t v = p->kind == DK_CAT ? i : p->lo + i * p->step;
        vals[p->id] =
            p->kind == DK_CAT ? (p->by_index ? (sval){false, i, 0} : p->alt_vals[i]) : (sval){false, v, 0};
        sym_env env = {vals, sym_new_gen(), false};
        sval r = sym_eval(d->guard, &env);
        if (!env.err && (r.is_float ? r.f != 0 : r.i != 0)) out[k++] = v;
    }
    nd->parent = p->id;
    nd->n_parent_values = k;
    nd->parent_values = out;
}

static void describe_space(host_space *h) {
    space_ir *s = h->s;
    h->decs = arena_alloc(&h->c->A, (size_t)(s->decs.n + 1) * sizeof *h->decs);
    for (int i = 0; i < s->decs.n; i++) {
        decision *d = s->decs.v[i];
        nasc_decision *nd = &h->decs[i];
        nd->abi_version = NASC_STRATEGY_ABI_VERSION;
        nd->struct_size = sizeof *nd;
        nd->label = d->label;
        nd->kind = d->kind == DK_CAT     ? NASC_DEC_CATEGORICAL
                   : d->kind == DK_INT   ? NASC_DEC_INT
                   : d->kind == DK_FLOAT ? NASC_DEC_FLOAT
                                         : NASC_DEC_SUBSET;
        nd->n_choices = d->n_alts;
        nd->choices = d->alt_names;
        if (d->kind == DK_CAT && !d->by_index && (d->vt == DV_INT || d->vt == DV_FLOAT)) {
            double *cv = arena_alloc(&h->c->A, (size_t)d->n_alts * sizeof *cv);
            for (int k = 0; k < d->n_alts; k++)
                cv[k] = d->alt_vals[k].is_float ? d->alt_vals[k].f : (double)d->alt_vals[k].i;
            nd->choice_values = cv;
        }
        nd->lo = d->lo;
        nd->hi = d->hi;
        nd->step = d->step ? d->step : 1;
        nd->flo = d->flo;
        nd->fhi = d->fhi;
        nd->log = d->log;
        nd->k = d->k;
        nd->condition = decision_condition(h->c, s, d);
        simple_parent(h, d, nd);
    }
    nasc_space *ns = &h->ns;
    ns->abi_version = NASC_STRATEGY_ABI_VERSION;
    ns->struct_size = sizeof *ns;
    ns->name = s->name;
    ns->n_decisions = s->decs.n;
    ns->decisions = h->decs;
    ns->host = h;
    ns->normalize = hs_normalize;
    h->max_epochs = section_num(&s->train, "epochs", 1);
    ns->min_fidelity = h->max_epochs >= 1 ? 1 : h->max_epochs;
    ns->max_fidelity = h->max_epochs;
}

/* ----- objectives and limits ----- */

static bool mentions(const ast_expr *e, const char *name) {
    if (!e) return false;
    if (e->kind == E_NAME) return !strcmp(e->name, name);
    if (mentions(e->lhs, name) || mentions(e->rhs, name)) return true;
    for (int i = 0; i < e->items.n; i++)
        if (mentions(e->items.v[i], name)) return true;
    return false;
}

/* Metric units: latency is reported in microseconds and train_time in
 * seconds; durations written in objectives (2ms) are microseconds, so
 * train_time is scaled by 1e6 to compare with them. */
static sr_expr *to_expr(const ast_expr *e, char *err, size_t cap) {
    static const sr_expr_kind bin[] = {SR_EX_ADD,        SR_EX_SUB, SR_EX_MUL, SR_EX_DIV,
                                       (sr_expr_kind)-1, SR_EX_POW, SR_EX_EQ,  SR_EX_NE,
                                       SR_EX_LT,         SR_EX_LE,  SR_EX_GT,  SR_EX_GE};
    switch (e->kind) {
    case E_INT: return sr_expr_num((double)e->ival);
    case E_FLOAT: return sr_expr_num(e->fval);
    case E_QUANT: return sr_expr_num(e->unit == UNIT_TIME ? e->fval * 1e6 : e->fval);
    case E_NAME: return sr_expr_metric(e->name, !strcmp(e->name, "train_time") ? 1e6 : 1);
    case E_UNOP:
        if (e->op == OP_NEG) {
            sr_expr *a = to_expr(e->lhs, err, cap);
            return a ? sr_expr_bin(SR_EX_NEG, a, NULL) : NULL;
        }
        break;
    case E_BINOP:
        if (e->op <= OP_GE && e->op != OP_MOD) {
            sr_expr *a = to_expr(e->lhs, err, cap), *b = a ? to_expr(e->rhs, err, cap) : NULL;
            if (!b) {
                sr_expr_free(a);
                return NULL;
            }
            return sr_expr_bin(bin[e->op], a, b);
        }
        break;
    default: break;
    }
    snprintf(err, cap, "objectives and limits are arithmetic over metrics, numbers and units");
    return NULL;
}

typedef struct goals {
    sr_objective obj[16];
    sr_limit lim[32];
    int n_obj, n_lim;
    char text[48][256];
    bool latency;
} goals;

static bool add_goal(goals *g, const cfg_val *v, bool objective, const ast_expr *raw, char *err, size_t cap) {
    const ast_expr *e = objective ? v->expr : (v->expr ? v->expr : raw);
    if (!e) {
        snprintf(err, cap, "bad %s", objective ? "objective" : "limit");
        return false;
    }
    sr_expr *x = to_expr(e, err, cap);
    if (!x) return false;
    g->latency |= mentions(e, "latency") || mentions(e, "throughput");
    int slot = g->n_obj + g->n_lim;
    sr_expr_format(x, g->text[slot], sizeof g->text[slot]);
    if (objective) {
        if (g->n_obj == 16) {
            sr_expr_free(x);
            return false;
        }
        sr_objective *o = &g->obj[g->n_obj++];
        o->text = g->text[slot];
        o->maximize = v->maximize;
        o->expr = x;
    } else {
        if (g->n_lim == 32) {
            sr_expr_free(x);
            return false;
        }
        g->lim[g->n_lim].text = g->text[slot];
        g->lim[g->n_lim++].expr = x;
    }
    return true;
}

static bool read_goals(const section *se, goals *g, char *err, size_t cap) {
    memset(g, 0, sizeof *g);
    for (int i = 0; i < se->n; i++) {
        bool obj = !strcmp(se->keys[i], "objective");
        if (!obj && strcmp(se->keys[i], "require")) continue;
        const cfg_val *v = se->vals[i];
        int n = v->k == CV_LIST ? v->n : 1;
        for (int j = 0; j < n; j++) {
            const cfg_val *x = v->k == CV_LIST ? v->items[j] : v;
            const ast_expr *raw = v->k == CV_LIST
                                      ? (se->exprs[i]->kind == E_LIST ? se->exprs[i]->items.v[j] : NULL)
                                      : se->exprs[i];
            if (!add_goal(g, x, obj, raw, err, cap)) return false;
        }
    }
    return true;
}

static void free_goals(goals *g) {
    for (int i = 0; i < g->n_obj; i++) sr_expr_free((sr_expr *)g->obj[i].expr);
    for (int i = 0; i < g->n_lim; i++) sr_expr_free((sr_expr *)g->lim[i].expr);
}

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
        printf(
            "{\"trials\": {\"done\": %lld, \"failed\": %lld, \"infeasible\": %lld, \"unfinished\": %lld}, ",
            (long long)sum->done, (long long)sum->failed, (long long)sum->infeasible,
            (long long)sum->unfinished);
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

/* The store's folder is created if needed (mkdir -p of its parent). */
static void make_parent_dirs(const char *path) {
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *q = buf + 1; *q; q++) {
        if (*q != '/') continue;
        *q = 0;
        mkdir(buf, 0777);
        *q = '/';
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
    if ((st = cli_check_strategies(c, p, o)) != EXIT_OK) return st;
    host_space h = {0};
    h.c = c;
    h.p = p;
    h.s = s;
    describe_space(&h);
    char err[2048] = "";
    goals g;
    if (!read_goals(&s->search, &g, err, sizeof err)) {
        cli_err("%s", err);
        return EXIT_INPUT;
    }
    h.want_latency = g.latency;
    sr_config cfg = {0};
    nasc_option sopts[32];
    int rc = configure(c, o, s, &cfg, sopts, err, sizeof err);
    if (rc) {
        cli_err("%s", err);
        free_goals(&g);
        return rc;
    }
    cfg.objectives = g.obj;
    cfg.n_objectives = g.n_obj;
    cfg.limits = g.lim;
    cfg.n_limits = g.n_lim;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    h.threads = (int)(cores / cfg.jobs > 0 ? cores / cfg.jobs : 1);
    char dbbuf[1024];
    if (!o->db) snprintf(dbbuf, sizeof dbbuf, "runs/%s.db", s->name);
    cfg.db_path = o->db ? o->db : dbbuf;
    make_parent_dirs(cfg.db_path);
    cfg.source = c->files.v[0].text;
    cfg.source_path = o->file;
    cfg.progress_fp = o->quiet ? NULL : stderr;
    cfg.handle_signals = 1;
    if (cfg.evaluator == SR_EVAL_BUILTIN && sr_mpi_role() != 2) {
        /* Load the data once here: forked workers share it. */
        recipe r;
        if (recipe_from_section(&s->train, &r, err, sizeof err) && !recipe_load_data(&r, err, sizeof err)) {
            cli_err("%s", err);
            free_goals(&g);
            return EXIT_INPUT;
        }
    }
    sr_space_iface iface = {&h.ns, &h, hs_to_json, hs_from_json, hs_static, hs_eval, hs_worker_init};
    sr_summary sum = {0};
    rc = sr_run(&cfg, &iface, &sum, err, sizeof err);
    if (rc) {
        cli_err("%s", err);
        free_goals(&g);
        sr_summary_free(&sum);
        return EXIT_INPUT;
    }
    if (!sum.worker_rank) print_summary(&sum, o, cfg.db_path);
    int status = sum.interrupted ? 130 : EXIT_OK;
    sr_summary_free(&sum);
    free_goals(&g);
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
