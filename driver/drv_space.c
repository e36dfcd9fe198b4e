/* drv_space.c: the strategy-ABI adapter and the builtin evaluator.
 *
 * Here the checked space becomes the plugin ABI's nasc_space, points cross
 * between the ABI's value arrays and the front end's assignments, and the
 * builtin evaluator trains (and, for latency objectives, JIT-compiles) a
 * point.  Every per-trial run of the interpreter happens under an arena
 * mark that is released afterwards, so 10,000 trials cost no memory. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "blas.h"
#include "cg_footprint.h"
#include "codegen.h"
#include "driver.h"
#include "drv_quant.h"
#include "recipe.h"

/* ----- points across the ABI ----- */

static bool to_asg(drv_space *h, const nasc_point *p, assignment *a) {
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

static int ad_normalize(void *ud, nasc_point *p) {
    drv_space *h = ud;
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

static char *ad_to_json(void *ud, const nasc_point *p) {
    drv_space *h = ud;
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

/* The diagnostics recorded since `first` (the context's tail before a
 * call), rendered as one error text without its last newline: only what
 * this call recorded, not what earlier ones left. */
void drv_diags_since(nasc_ctx *c, diag *first, char *err, size_t cap) {
    nasc_ctx tmp = *c;
    tmp.diags = first ? first->next : c->diags;
    char *d = diag_render_string(&tmp);
    snprintf(err, cap, "%s", d ? d : "invalid point");
    size_t n = strlen(err);
    while (n && err[n - 1] == '\n') err[--n] = 0;
    free(d);
}

static int ad_from_json(void *ud, const char *json, nasc_point *p, char *err, size_t cap) {
    drv_space *h = ud;
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
        drv_diags_since(h->c, first, err, cap);
    }
    ctx_release(h->c, m);
    return rc;
}

/* The static metrics of a point's graph; ram and flash only when asked
 * for, as they compile it (cg_footprint.h).  A graph the back end cannot
 * build has no ram or flash: a limit on them then fails the trial as a
 * missing metric would, rather than calling the point infeasible. */
static void static_metrics(const drv_space *h, const ir_graph *g, sr_metrics *out) {
    sr_metrics_set(out, "params", (double)g->params);
    sr_metrics_set(out, "flops", (double)g->flops);
    sr_metrics_set(out, "memory", (double)g->memory);
    cg_footprint f;
    char err[512];
    if (!h->want_footprint || cg_footprint_ex(g, (ps_quant_kind)h->quant, &f, err, sizeof err)) return;
    sr_metrics_set(out, "ram", (double)f.ram);
    sr_metrics_set(out, "flash", (double)f.flash);
}

static int ad_static(void *ud, const nasc_point *p, sr_metrics *out) {
    drv_space *h = ud;
    ctx_mark m = ctx_get_mark(h->c);
    assignment *a = asg_new(h->c, h->s);
    a->no_names = true;
    ir_graph g = {0};
    bool feasible, ok = to_asg(h, p, a) && space_run(h->c, h->p, h->s, a, &g, &feasible);
    if (ok) static_metrics(h, &g, out);
    ctx_release(h->c, m);
    return ok ? 0 : -1;
}

/* Activity, feasibility, static metrics and JSON of a point from one run
 * of the interpreter (sr_space_iface.instantiate). */
static int ad_instantiate(void *ud, nasc_point *p, sr_metrics *m, char **json) {
    drv_space *h = ud;
    ctx_mark mk = ctx_get_mark(h->c);
    assignment *a = asg_new(h->c, h->s);
    a->no_names = true; /* sizes only: the point's JSON does not need layer names */
    ir_graph g = {0};
    int rc = -1;
    *json = NULL;
    if (to_asg(h, p, a)) {
        bool feasible, ok = space_run(h->c, h->p, h->s, a, &g, &feasible);
        for (int i = 0; i < a->n; i++) p->active[i] = a->active[i];
        if (ok) static_metrics(h, &g, m);
        *json = strdup(point_json(h->c, h->s, a));
        rc = ok ? 1 : 0;
    }
    ctx_release(h->c, mk);
    return rc;
}

/* ----- the space as the ABI describes it ----- */

/* The simple form of an activity condition: one parent decision and the
 * values of it under which the decision is active. */
static void simple_parent(drv_space *h, decision *d, nasc_decision *nd) {
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

void drv_space_init(drv_space *h, nasc_ctx *c, program *p, space_ir *s) {
    memset(h, 0, sizeof *h);
    h->c = c;
    h->p = p;
    h->s = s;
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
    ns->normalize = ad_normalize;
    ns->proxy_scores = drv_proxy_scores;
    h->max_epochs = section_num(&s->train, "epochs", 1);
    ns->min_fidelity = h->max_epochs >= 1 ? 1 : h->max_epochs;
    ns->max_fidelity = h->max_epochs;
}

/* ----- the builtin evaluator (runs in a worker) ----- */

static void set_if_finite(sr_metrics *m, const char *name, double v) {
    if (isfinite(v)) sr_metrics_set(m, name, v);
}

/* The proxies into the trial's metrics.  A proxy the goals need that is
 * missing fails the trial with its reason (never a made-up number); one
 * asked for only by --metrics is left out. */
static int put_proxies(const drv_space *h, const rt_proxy_values *px, sr_metrics *out, char *err,
                       size_t cap) {
    for (int id = 0; id < RT_PX_COUNT; id++) {
        if (!(h->want_proxies & (1u << id))) continue;
        if (!px->why[id][0]) {
            sr_metrics_set(out, rt_proxy_name(id), px->v[id]);
        } else if (h->need_proxies & (1u << id)) {
            snprintf(err, cap, "%s is undefined for this network: %s", rt_proxy_name(id), px->why[id]);
            return -1;
        }
    }
    return 0;
}

int drv_space_proxies(drv_space *h, ir_graph *g, recipe *r, const recipe_data *d, sr_metrics *out, char *err,
                      size_t cap) {
    double t0 = recipe_now();
    r->proxies = h->want_proxies;
    r->proxies_needed = h->need_proxies;
    if (rt_params_init(g, r->cfg.init, r->cfg.seed)) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    rt_proxy_values px;
    if (recipe_proxies(g, r, d, &px, err, cap) || put_proxies(h, &px, out, err, cap)) return -1;
    sr_metrics_set(out, "time_proxies", recipe_now() - t0);
    return 0;
}

/* evaluator = proxy: initialise, score by the proxies, no training. */
static int proxy_eval(drv_space *h, ir_graph *g, recipe *r, const recipe_data *d, sr_metrics *out, char *err,
                      size_t cap) {
    if (drv_space_proxies(h, g, r, d, out, err, cap)) return -1;
    sr_metrics_set(out, "params", (double)g->params);
    sr_metrics_set(out, "flops", (double)g->flops);
    sr_metrics_set(out, "memory", (double)g->memory);
    return 0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median batch-1 latency (microseconds) over 15 timed runs of about
 * budget_s in all.  cg_bench also measures batch-256 throughput, which
 * costs several batch-256 runs; a search that names only latency does
 * not pay for them. */
static int batch1_latency(cg_jit *j, double budget_s, double *us, char *err, size_t cap) {
    int64_t ni = cg_jit_input_numel(j), no = cg_jit_output_numel(j);
    float *x = calloc((size_t)(ni > 0 ? ni : 1), sizeof *x),
          *y = calloc((size_t)(no > 0 ? no : 1), sizeof *y);
    int rc = x && y ? cg_jit_run(j, x, y, 1) : -1; /* warm-up */
    double t0 = recipe_now();
    if (!rc) rc = cg_jit_run(j, x, y, 1);
    double one = recipe_now() - t0 + 1e-7, t[15];
    int inner = (int)(budget_s / 15 / one);
    if (inner < 1) inner = 1;
    for (int r = 0; !rc && r < 15; r++) {
        t0 = recipe_now();
        for (int k = 0; k < inner && !rc; k++) rc = cg_jit_run(j, x, y, 1);
        t[r] = (recipe_now() - t0) / inner;
    }
    free(x);
    free(y);
    if (rc) {
        snprintf(err, cap, "the compiled model failed to run");
        return -1;
    }
    qsort(t, 15, sizeof t[0], cmp_double);
    *us = t[7] * 1e6;
    return 0;
}

/* Latency (and throughput when an objective or limit names it) of the
 * point's compiled kernels (hardware-aware objectives), measured with the
 * JIT on the trained weights; with search.quant = int8, of the int8 build
 * calibrated on the trial's first training images. */
static int measure_latency(const drv_space *h, const recipe_data *data, const ir_graph *g, sr_metrics *out,
                           char *err, size_t cap) {
    double t0 = recipe_now();
    cg_compile_opts co = {.opt_level = CG_OPT_SEARCH};
    drv_calib cal;
    if (h->quant == PS_QUANT_INT8) {
        if (!drv_calib_from(&cal, data->train.x, data->train.n, 0)) {
            snprintf(err, cap, "search.quant = int8: the calibration set is empty");
            return -1;
        }
        co.passes = &cal.po;
    }
    bool throughput = h->want_throughput;
    cg_jit *j = cg_jit_compile_ex(g, &co, err, cap);
    if (!j) return -1;
    sr_metrics_set(out, "time_compile", recipe_now() - t0);
    int rc;
    if (throughput) {
        cg_bench_result r;
        rc = cg_bench(j, 100, &r, err, cap); /* 100 ms of runs: their median is stable enough to rank */
        if (!rc) {
            sr_metrics_set(out, "latency", r.latency_us);
            sr_metrics_set(out, "throughput", r.throughput);
        }
    } else {
        double us;
        rc = batch1_latency(j, 0.05, &us, err, cap);
        if (!rc) sr_metrics_set(out, "latency", us);
    }
    cg_jit_free(j);
    return rc ? -1 : 0;
}

/* Training progress, to the host's progress line. */
static int train_progress(void *ctx, const rt_progress *p) {
    (void)ctx;
    sr_trial_progress(p->epoch, p->epochs, p->step, p->steps, p->loss);
    return 0;
}

/* Latency does not depend on the weights or the fidelity: a point measured
 * once (by any worker, in any run of the search) keeps its figures in the
 * run folder, and a multi-fidelity strategy's later rungs reuse them. */
int drv_space_latency(drv_space *h, const recipe_data *data, const char *point_json, const ir_graph *g,
                      sr_metrics *out, char *err, size_t cap) {
    char path[1200];
    path[0] = 0;
    /* the int8 build's figures are another file's */
    const char *key = h->quant == PS_QUANT_INT8 ? arena_printf(&h->c->A, "int8:%s", point_json) : point_json;
    if (h->folder) drv_folder_latency(h->folder, key, path, sizeof path);
    FILE *f = path[0] ? fopen(path, "r") : NULL;
    double lat, thr = NAN;
    int n = f ? fscanf(f, "%lf %lf", &lat, &thr) : 0;
    if (f) fclose(f);
    if (n >= 1 && isfinite(lat) && (!h->want_throughput || (n == 2 && isfinite(thr)))) {
        sr_metrics_set(out, "latency", lat);
        if (n == 2 && isfinite(thr) && h->want_throughput) sr_metrics_set(out, "throughput", thr);
        return 0;
    }
    if (measure_latency(h, data, g, out, err, cap)) return -1;
    if (path[0] && sr_metrics_get(out, "latency", &lat)) {
        if (!sr_metrics_get(out, "throughput", &thr)) thr = NAN;
        char tmp[1300];
        snprintf(tmp, sizeof tmp, "%s.%d", path, (int)getpid()); /* written whole, then renamed */
        FILE *w = fopen(tmp, "w");
        if (w) {
            fprintf(w, "%.17g %.17g\n", lat, thr);
            if (fclose(w) == 0)
                rename(tmp, path);
            else
                unlink(tmp);
        }
    }
    return 0;
}

/* Checkpoints for multi-fidelity strategies: the same point trained again
 * at a higher fidelity resumes from its last checkpoint (drv_folder). */
static int ad_eval(void *ud, const char *point_json, double fidelity, const char *weights_path,
                   sr_metrics *out, char *err, size_t cap) {
    drv_space *h = ud;
    ctx_mark m = ctx_get_mark(h->c);
    diag *first = h->c->diags_tail;
    space_ir *s;
    assignment *a;
    ir_graph g = {0};
    int rc = -1;
    rt_resume resume = {0};
    if (!point_load(h->c, h->p, &s, point_json, "point", &a, &g)) {
        drv_diags_since(h->c, first, err, cap);
        goto out;
    }
    if (h->threads > 0) rt_blas_set_threads(h->threads);
    double t0 = recipe_now();
    recipe r;
    const recipe_data *data;
    if (!recipe_from_section(&a->train, &r, err, cap) || !(data = recipe_load_data(&r, err, cap))) goto out;
    double t_data = recipe_now() - t0;
    r.proxies = h->want_proxies;
    r.proxies_needed = h->need_proxies;
    if (h->proxy_eval) {
        rc = proxy_eval(h, &g, &r, data, out, err, cap);
        goto out;
    }
    /* Only what the search uses: validation on the share of the data the
     * trial trains on, test accuracy and proxies when named. */
    r.val_fraction =
        fidelity > 0 && fidelity < 1 && r.cfg.data_fraction >= 1 ? fidelity : r.cfg.data_fraction;
    r.skip_test = !h->want_test;
    r.cfg.threads = h->threads;
    char ckpt[1200] = "";
    const rt_resume *rs = NULL;
    if (h->folder && weights_path && *weights_path && fidelity > 0) {
        drv_folder_checkpoint(h->folder, point_json, ckpt, sizeof ckpt);
        if (!access(ckpt, R_OK) && !rt_load_weights(&g, ckpt, &resume, err, cap)) {
            if (resume.epochs < fidelity)
                rs = &resume;
            else
                rt_params_free(&g); /* trained as far already: start afresh */
        }
    }
    trial_metrics tm;
    rt_trainer *keep = NULL;
    if (recipe_train(&g, &r, fidelity, rs, train_progress, NULL, &tm, &keep, err, cap)) goto out;
    set_if_finite(out, "accuracy", tm.m.accuracy);
    set_if_finite(out, "test_accuracy", tm.m.test_accuracy);
    set_if_finite(out, "loss", tm.m.loss);
    set_if_finite(out, "train_time", tm.m.train_time);
    if (put_proxies(h, &tm.px, out, err, cap)) {
        rt_trainer_free(keep);
        goto out;
    }
    sr_metrics_set(out, "params", (double)tm.m.params);
    sr_metrics_set(out, "flops", (double)tm.m.flops);
    sr_metrics_set(out, "memory", (double)tm.m.memory);
    sr_metrics_set(out, "epochs", tm.m.epochs);
    rc = 0;
    t0 = recipe_now();
    if (h->want_latency && drv_space_latency(h, data, point_json, &g, out, err, cap)) rc = -1;
    double t_jit = recipe_now() - t0;
    t0 = recipe_now();
    if (rc == 0 && weights_path && *weights_path)
        rc = rt_save_weights(&g, rt_trainer_optim(keep), weights_path, point_json, tm.m.epochs, err, cap);
    if (rc == 0 && *ckpt && tm.m.epochs < h->max_epochs)
        rt_save_weights(&g, rt_trainer_optim(keep), ckpt, point_json, tm.m.epochs, err, cap);
    /* the split of the trial's time (docs/store.md); the rest is the host's */
    sr_metrics_set(out, "time_data", t_data);
    sr_metrics_set(out, "time_proxies", tm.time_proxies);
    sr_metrics_set(out, "time_eval", tm.time_eval);
    sr_metrics_set(out, "time_jit", t_jit);
    sr_metrics_set(out, "time_weights", recipe_now() - t0);
    rt_trainer_free(keep);
out:
    rt_resume_free(&resume);
    rt_params_free(&g);
    ctx_release(h->c, m);
    return rc;
}

/* A forked worker gets its share of the cores for OpenBLAS. */
static void ad_worker_init(void *ud) {
    drv_space *h = ud;
    if (h->threads > 0) rt_blas_set_threads(h->threads);
}

sr_space_iface drv_space_iface(drv_space *h) {
    return (sr_space_iface){&h->ns,    h,       ad_to_json,     ad_from_json,
                            ad_static, ad_eval, ad_worker_init, ad_instantiate};
}
