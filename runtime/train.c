/* train.c: the training loop, evaluation, and weight files (see train.h).
 *
 * One step = gather a shuffled mini-batch, forward (train mode), fused
 * softmax cross-entropy, backward, one optimizer update at the schedule's
 * learning rate.  Shuffles are seeded per epoch from (seed, epoch) so that
 * a run resumed from epoch k sees the same order as an uninterrupted one.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime under -std=c11 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "err.h"
#include "blas.h"
#include "normalize.h"
#include "safetensors.h"
#include "train.h"
#include "kernels_seq.h"

struct rt_trainer {
    ir_graph *g;
    rt_train_cfg cfg;
    rt_exec *e;
    rt_optim *o;
    int epochs_done;
    int n_tr;
    float **params, **grads;
    int64_t *sizes;
    ir_param **meta;
    float *xb;
    int32_t *yb;
    float *aug_tmp; /* one sample, for augmentations that move pixels */
};

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int params_ready(const ir_graph *g) {
    for (int i = 0; i < g->n_nodes; i++)
        for (int p = 0; p < g->nodes[i].n_params; p++)
            if (!g->nodes[i].params[p].data) return 0;
    return 1;
}

void rt_resume_free(rt_resume *r) {
    if (!r) return;
    for (int i = 0; i < r->n; i++) {
        free(r->names[i]);
        free(r->data[i]);
    }
    free(r->names);
    free(r->data);
    free(r->sizes);
    free(r->point);
    free(r->space);
    memset(r, 0, sizeof *r);
}

/* Copies the matching tensors of a resume state into the optimizer. */
static int apply_resume(rt_trainer *t, const rt_resume *r, char *err, size_t cap) {
    int n = rt_optim_state_count(t->o);
    for (int i = 0; i < n; i++) {
        const char *suffix;
        int p;
        float *data;
        int64_t size;
        rt_optim_state_get(t->o, i, &suffix, &p, &data, &size);
        char name[512];
        snprintf(name, sizeof name, "optim.%s.%s", t->meta[p]->name, suffix);
        int k = 0;
        while (k < r->n && strcmp(r->names[k], name)) k++;
        if (k == r->n)
            return err_set(
                err, cap, "cannot resume: the saved state has no '%s' (saved with another optimizer?)", name);
        if (r->sizes[k] != size)
            return err_set(err, cap, "cannot resume: '%s' has %lld values, expected %lld", name,
                           (long long)r->sizes[k], (long long)size);
        memcpy(data, r->data[k], sizeof(float) * (size_t)size);
    }
    rt_optim_set_steps(t->o, r->steps);
    t->epochs_done = r->epochs;
    return 0;
}

rt_trainer *rt_trainer_new(ir_graph *g, const rt_train_cfg *cfg, char *err, size_t errcap) {
    if (!g || !cfg) {
        err_set(err, errcap, "rt_trainer_new: missing argument");
        return NULL;
    }
    if (cfg->batch <= 0 || cfg->epochs < 0 || !(cfg->data_fraction >= 0.0 && cfg->data_fraction <= 1.0)) {
        err_set(err, errcap,
                "invalid training settings: batch %d, epochs %d, data fraction %g (must be in (0, 1])",
                cfg->batch, cfg->epochs, cfg->data_fraction);
        return NULL;
    }
    if (!params_ready(g) && rt_params_init(g, cfg->init, cfg->seed)) {
        err_set(err, errcap, "out of memory initialising the parameters");
        return NULL;
    }
    if (rt_exec_check(g, err, errcap)) return NULL;
    rt_trainer *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->g = g;
    t->cfg = *cfg;
    t->cfg.resume = NULL;
    if (cfg->threads > 0) rt_blas_set_threads(cfg->threads);
    t->e = rt_exec_new(g, cfg->batch, cfg->seed ^ 0x5eedd20f0u);
    int64_t in = ir_shape_numel(&g->nodes[g->input].shape);
    t->xb = malloc(sizeof(float) * (size_t)(in * cfg->batch));
    t->yb = malloc(sizeof(int32_t) * (size_t)cfg->batch);
    if (t->e) {
        t->n_tr = rt_exec_trainables(t->e, &t->params, &t->grads, &t->sizes, &t->meta);
        t->o = rt_optim_new(&cfg->optim, t->n_tr, t->params, t->grads, t->sizes);
    }
    if (!t->e || !t->o || !t->xb || !t->yb) {
        err_set(err, errcap, "%s",
                t->e ? "invalid optimizer settings or out of memory" : "out of memory building the executor");
        rt_trainer_free(t);
        return NULL;
    }
    if (cfg->resume && apply_resume(t, cfg->resume, err, errcap)) {
        rt_trainer_free(t);
        return NULL;
    }
    return t;
}

void rt_trainer_free(rt_trainer *t) {
    if (!t) return;
    rt_optim_free(t->o);
    rt_exec_free(t->e);
    free(t->xb);
    free(t->yb);
    free(t->aug_tmp);
    free(t);
}

rt_optim *rt_trainer_optim(rt_trainer *t) { return t ? t->o : NULL; }

int rt_check_data(const ir_graph *g, const rt_dataset *d, const char *what, char *err, size_t errcap) {
    int64_t in = ir_shape_numel(&g->nodes[g->input].shape), out = ir_shape_numel(&g->nodes[g->output].shape);
    if (!d || d->n <= 0 || !d->x || !d->y) return err_set(err, errcap, "the %s set is empty", what);
    int64_t dn = ir_shape_numel(&d->sample);
    if (dn != in)
        return err_set(err, errcap, "the %s samples have %lld values but the network input expects %lld",
                       what, (long long)dn, (long long)in);
    if (!rt_sample_fits(&d->sample, &g->nodes[g->input].shape)) {
        char a[96], b[96];
        return err_set(err, errcap, "the %s samples have shape %s but the network input is %s", what,
                       ir_shape_str(&d->sample, a, sizeof a),
                       ir_shape_str(&g->nodes[g->input].shape, b, sizeof b));
    }
    for (int64_t i = 0; i < d->n; i++)
        if (d->y[i] < 0 || d->y[i] >= out)
            return err_set(err, errcap, "the %s set has label %lld but the network has only %lld outputs",
                           what, (long long)d->y[i], (long long)out);
    return rt_check_tokens(g, d, what, err, errcap);
}

static void gather(const rt_dataset *d, const int64_t *idx, int m, int64_t in, float *xb, int32_t *yb) {
    for (int i = 0; i < m; i++) {
        memcpy(xb + (int64_t)i * in, d->x + idx[i] * in, sizeof(float) * (size_t)in);
        yb[i] = d->y[idx[i]];
    }
}

static int eval_exec(rt_exec *e, const rt_dataset *d, int batch, int64_t in, double *acc, double *loss,
                     char *err, size_t errcap) {
    int64_t hits = 0;
    double ls = 0.0;
    for (int64_t b0 = 0; b0 < d->n; b0 += batch) {
        int m = d->n - b0 < batch ? (int)(d->n - b0) : batch, c = 0;
        if (!rt_exec_forward(e, d->x + b0 * in, m, 0)) {
            const char *why = rt_exec_error(e);
            return err_set(err, errcap, "%s", why ? why : "the forward pass failed");
        }
        ls += (double)rt_exec_loss(e, d->y + b0, m, &c) * m;
        hits += c;
    }
    if (acc) *acc = (double)hits / (double)d->n;
    if (loss) *loss = ls / (double)d->n;
    return 0;
}

int rt_evaluate(ir_graph *g, const rt_dataset *d, int batch, double *accuracy, double *loss, char *err,
                size_t errcap) {
    if (rt_exec_check(g, err, errcap) || rt_check_data(g, d, "evaluation", err, errcap)) return -1;
    if (batch <= 0) batch = 256;
    rt_exec *e = rt_exec_new(g, batch, 0);
    if (!e) return err_set(err, errcap, "out of memory building the executor");
    int rc = eval_exec(e, d, batch, ir_shape_numel(&g->nodes[g->input].shape), accuracy, loss, err, errcap);
    rt_exec_free(e);
    return rc;
}

static int all_finite(rt_trainer *t) {
    for (int k = 0; k < t->n_tr; k++)
        for (int64_t i = 0; i < t->sizes[k]; i++)
            if (!isfinite(t->params[k][i])) return 0;
    return 1;
}

/* The fixed training subset: all samples, or a seeded fraction of them. */
static int cmp_index(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int64_t *subset(const rt_dataset *d, double frac, uint64_t seed, int64_t *n_use) {
    int64_t *idx = malloc(sizeof(int64_t) * (size_t)d->n);
    if (!idx) return NULL;
    for (int64_t i = 0; i < d->n; i++) idx[i] = i;
    *n_use = d->n;
    if (frac > 0.0 && frac < 1.0) {
        nasc_rng r;
        nasc_rng_seed(&r, seed ^ 0xf4ac7109ull);
        rt_shuffle(&r, idx, d->n);
        *n_use = (int64_t)llround(frac * (double)d->n);
        if (*n_use < 1) *n_use = 1;
        /* keep the subset in data order so the per-epoch shuffle alone decides the order
         * (qsort: an insertion sort cost seconds per trial at data_fraction 0.5) */
        qsort(idx, (size_t)*n_use, sizeof *idx, cmp_index);
    }
    return idx;
}

static int report(rt_trainer *t, int epoch, int64_t steps, double loss) {
    if (!t->cfg.progress) return 0;
    rt_progress p = {epoch, t->cfg.epochs, rt_optim_steps(t->o), steps, loss};
    return t->cfg.progress(t->cfg.progress_ctx, &p);
}

/* One epoch over the subset; returns 0, or -1 with err set. */
static int run_epoch(rt_trainer *t, const rt_dataset *d, const int64_t *base, int64_t *idx, int64_t n_use,
                     int epoch, int64_t total, int64_t spe, double *mean_loss, char *err, size_t cap) {
    /* Shuffle the fixed base order, not the previous epoch's order, so the
     * order of epoch k does not depend on where training started. */
    nasc_rng r;
    nasc_rng_seed(&r, t->cfg.seed * 0x9E3779B97F4A7C15ull + (uint64_t)epoch);
    memcpy(idx, base, sizeof(int64_t) * (size_t)n_use);
    rt_shuffle(&r, idx, n_use);
    int64_t in = ir_shape_numel(&t->g->nodes[t->g->input].shape);
    int batch = t->cfg.batch;
    int64_t every = spe / 50 > 0 ? spe / 50 : 1;
    double sum = 0.0;
    int64_t seen = 0;
    for (int64_t s = 0; s < spe; s++) {
        int m = n_use - s * batch < batch ? (int)(n_use - s * batch) : batch;
        gather(d, idx + s * batch, m, in, t->xb, t->yb);
        if (t->cfg.augment.n) /* seeded by (seed, epoch, step): a resumed run draws the same */
            rt_augment_batch(&t->cfg.augment, &d->sample, &t->g->norm, t->xb, m,
                             t->cfg.seed * 0xD1B54A32D192ED03ull + ((uint64_t)epoch << 32) + (uint64_t)s,
                             t->aug_tmp);
        if (!rt_exec_forward(t->e, t->xb, m, 1))
            return err_set(err, cap, "epoch %d (step %lld): %s", epoch, (long long)(s + 1),
                           rt_exec_error(t->e) ? rt_exec_error(t->e) : "the forward pass failed");
        float loss = rt_exec_loss(t->e, t->yb, m, NULL);
        if (!isfinite(loss))
            return err_set(err, cap, "loss became %s in epoch %d (step %lld)", isnan(loss) ? "NaN" : "Inf",
                           epoch, (long long)(s + 1));
        rt_exec_backward(t->e, m);
        rt_optim_step(t->o, rt_sched_lr(&t->cfg.sched, t->cfg.optim.lr, rt_optim_steps(t->o), total, spe));
        sum += (double)loss * m;
        seen += m;
        if ((s + 1) % every == 0 && s + 1 < spe && report(t, epoch, total, sum / (double)seen))
            return err_set(err, cap, "training cancelled");
    }
    if (!all_finite(t)) return err_set(err, cap, "weights became NaN or Inf in epoch %d", epoch);
    *mean_loss = sum / (double)seen;
    if (report(t, epoch, total, *mean_loss)) return err_set(err, cap, "training cancelled");
    return 0;
}

int rt_trainer_run(rt_trainer *t, const rt_dataset *train, const rt_dataset *val, const rt_dataset *test,
                   rt_metrics *m, char *err, size_t errcap) {
    if (!t || !m) return err_set(err, errcap, "rt_trainer_run: missing argument");
    memset(m, 0, sizeof *m);
    m->accuracy = m->test_accuracy = m->loss = m->val_loss = NAN;
    if (rt_check_data(t->g, train, "training", err, errcap)) return -1;
    if (val && val->n > 0 && rt_check_data(t->g, val, "validation", err, errcap)) return -1;
    if (test && test->n > 0 && rt_check_data(t->g, test, "test", err, errcap)) return -1;
    if (rt_augment_check(&t->cfg.augment, &train->sample, err, errcap)) return -1;
    if (t->cfg.augment.n && !t->aug_tmp &&
        !(t->aug_tmp = malloc(sizeof(float) * (size_t)ir_shape_numel(&train->sample))))
        return err_set(err, errcap, "out of memory");
    if (t->cfg.threads > 0) rt_blas_set_threads(t->cfg.threads);
    int64_t n_use, *base = subset(train, t->cfg.data_fraction, t->cfg.seed, &n_use);
    int64_t *idx = malloc(sizeof(int64_t) * (size_t)train->n);
    if (!base || !idx) {
        free(base);
        free(idx);
        return err_set(err, errcap, "out of memory");
    }
    int64_t spe = (n_use + t->cfg.batch - 1) / t->cfg.batch, total = spe * t->cfg.epochs;
    double t0 = now();
    for (int ep = t->epochs_done + 1; ep <= t->cfg.epochs; ep++) {
        if (run_epoch(t, train, base, idx, n_use, ep, total, spe, &m->loss, err, errcap)) {
            free(base);
            free(idx);
            return -1;
        }
        t->epochs_done = ep;
    }
    m->train_time = now() - t0;
    free(base);
    free(idx);
    int64_t in = ir_shape_numel(&t->g->nodes[t->g->input].shape);
    /* a model that diverged into NaN reports NaN accuracy rather than fail here */
    if (val && val->n > 0) eval_exec(t->e, val, t->cfg.batch, in, &m->accuracy, &m->val_loss, NULL, 0);
    if (test && test->n > 0) eval_exec(t->e, test, t->cfg.batch, in, &m->test_accuracy, NULL, NULL, 0);
    m->params = t->g->params;
    m->flops = t->g->flops;
    m->memory = t->g->memory;
    m->epochs = t->epochs_done;
    m->steps = rt_optim_steps(t->o);
    return 0;
}

int rt_train(ir_graph *g, const rt_train_cfg *cfg, const rt_dataset *train, const rt_dataset *val,
             const rt_dataset *test, rt_metrics *m, char *err, size_t errcap) {
    rt_trainer *t = rt_trainer_new(g, cfg, err, errcap);
    if (!t) return -1;
    int rc = rt_trainer_run(t, train, val, test, m, err, errcap);
    rt_trainer_free(t);
    return rc;
}

/* ================= weight files ================= */

static int n_params_total(const ir_graph *g) {
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++) n += g->nodes[i].n_params;
    return n;
}

/* The k-th trainable parameter in executor order (node order, then
 * parameter order): optimizer state indices refer to it. */
static const ir_param *nth_trainable(const ir_graph *g, int k) {
    for (int i = 0; i < g->n_nodes; i++)
        for (int p = 0; p < g->nodes[i].n_params; p++)
            if (g->nodes[i].params[p].trainable && k-- == 0) return &g->nodes[i].params[p];
    return NULL;
}

static void to_st(rt_st_tensor *t, const char *name, const ir_shape *s, const float *data) {
    memset(t, 0, sizeof *t);
    t->name = name;
    t->rank = s->rank;
    for (int i = 0; i < s->rank; i++) t->shape[i] = s->d[i];
    t->data = data;
}

int rt_save_weights(const ir_graph *g, rt_optim *opt, const char *path, const char *point_json, int epochs,
                    char *err, size_t errcap) {
    if (!g || !path) return err_set(err, errcap, "rt_save_weights: missing argument");
    if (!params_ready(g)) return err_set(err, errcap, "cannot save %s: parameters are not initialised", path);
    int np = n_params_total(g), ns = opt ? rt_optim_state_count(opt) : 0;
    rt_st_tensor *ts = calloc((size_t)(np + ns + 1), sizeof *ts);
    char(*names)[512] = calloc((size_t)(ns + 1), sizeof *names);
    if (!ts || !names) {
        free(ts);
        free(names);
        return err_set(err, errcap, "out of memory writing %s", path);
    }
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++)
        for (int p = 0; p < g->nodes[i].n_params; p++) {
            const ir_param *pr = &g->nodes[i].params[p];
            to_st(&ts[n++], pr->name, &pr->shape, pr->data);
        }
    for (int i = 0; i < ns; i++) {
        const char *suffix;
        int pi;
        float *data;
        int64_t size;
        rt_optim_state_get(opt, i, &suffix, &pi, &data, &size);
        const ir_param *pr = nth_trainable(g, pi);
        if (!pr || ir_shape_numel(&pr->shape) != size) continue;
        snprintf(names[i], sizeof names[i], "optim.%s.%s", pr->name, suffix);
        to_st(&ts[n++], names[i], &pr->shape, data);
    }
    char ep[32], steps[32];
    snprintf(ep, sizeof ep, "%d", epochs);
    snprintf(steps, sizeof steps, "%lld", (long long)rt_optim_steps(opt));
    char *norm = g->norm.channels ? rt_norm_format(&g->norm) : NULL;
    const char *keys[5] = {"nasc.epochs", "nasc.space", "nasc.point", NULL, NULL};
    const char *vals[5] = {ep, g->space ? g->space : "", point_json ? point_json : "{}", NULL, NULL};
    int nm = 3;
    if (opt) keys[nm] = "nasc.optim_steps", vals[nm++] = steps;
    if (norm) keys[nm] = "nasc.normalize", vals[nm++] = norm;
    int rc = g->norm.channels && !norm ? err_set(err, errcap, "out of memory writing %s", path)
                                       : rt_st_write(path, ts, n, keys, vals, nm, err, errcap);
    free(norm);
    free(ts);
    free(names);
    return rc;
}

static char *dupstr(const char *s) {
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

static int shape_matches(const rt_st_tensor *t, const ir_shape *s) {
    if (t->rank != s->rank) return 0;
    for (int i = 0; i < s->rank; i++)
        if (t->shape[i] != s->d[i]) return 0;
    return 1;
}

static void tensor_shape_str(const rt_st_tensor *t, char *buf, int cap) {
    ir_shape s = {0, {0}};
    s.rank = t->rank > IR_MAX_RANK ? IR_MAX_RANK : t->rank;
    for (int i = 0; i < s.rank; i++) s.d[i] = t->shape[i];
    ir_shape_str(&s, buf, cap);
}

/* Every graph parameter present with the right shape, and nothing else
 * but optimizer state. */
static int check_file(const ir_graph *g, const rt_st_file *f, const char *path, char *err, size_t cap) {
    char a[96], b[96];
    for (int i = 0; i < g->n_nodes; i++)
        for (int p = 0; p < g->nodes[i].n_params; p++) {
            const ir_param *pr = &g->nodes[i].params[p];
            const rt_st_tensor *t = rt_st_find(f, pr->name);
            if (!t) {
                if (err && cap)
                    snprintf(err, cap, "weights file %s does not match this network: it has no tensor '%s'",
                             path, pr->name);
                return -1;
            }
            if (!shape_matches(t, &pr->shape)) {
                tensor_shape_str(t, a, sizeof a);
                ir_shape_str(&pr->shape, b, sizeof b);
                if (err && cap)
                    snprintf(
                        err, cap,
                        "weights file %s does not match this network: tensor '%s' has shape %s, expected %s",
                        path, pr->name, a, b);
                return -1;
            }
        }
    int total = n_params_total(g), inside = 0;
    for (int i = 0; i < rt_st_count(f); i++) inside += strncmp(rt_st_get(f, i)->name, "optim.", 6) != 0;
    if (inside != total) {
        for (int i = 0; i < rt_st_count(f); i++) {
            const char *nm = rt_st_get(f, i)->name;
            int found = !strncmp(nm, "optim.", 6);
            for (int j = 0; j < g->n_nodes && !found; j++)
                for (int p = 0; p < g->nodes[j].n_params && !found; p++)
                    found = !strcmp(g->nodes[j].params[p].name, nm);
            if (!found) {
                if (err && cap)
                    snprintf(err, cap, "weights file %s does not match this network: unexpected tensor '%s'",
                             path, nm);
                return -1;
            }
        }
    }
    return 0;
}

static int read_state(const rt_st_file *f, rt_resume *r) {
    const char *ep = rt_st_meta(f, "nasc.epochs"), *steps = rt_st_meta(f, "nasc.optim_steps");
    r->epochs = ep ? atoi(ep) : 0;
    r->steps = steps ? atoll(steps) : 0;
    r->point = dupstr(rt_st_meta(f, "nasc.point"));
    r->space = dupstr(rt_st_meta(f, "nasc.space"));
    int cnt = 0;
    for (int i = 0; i < rt_st_count(f); i++) cnt += !strncmp(rt_st_get(f, i)->name, "optim.", 6);
    r->names = calloc((size_t)cnt + 1, sizeof *r->names);
    r->data = calloc((size_t)cnt + 1, sizeof *r->data);
    r->sizes = calloc((size_t)cnt + 1, sizeof *r->sizes);
    if (!r->names || !r->data || !r->sizes) return -1;
    for (int i = 0; i < rt_st_count(f); i++) {
        const rt_st_tensor *t = rt_st_get(f, i);
        if (strncmp(t->name, "optim.", 6)) continue;
        int64_t n = 1;
        for (int k = 0; k < t->rank; k++) n *= t->shape[k];
        r->names[r->n] = dupstr(t->name);
        r->data[r->n] = malloc(sizeof(float) * (size_t)(n ? n : 1));
        r->sizes[r->n] = n;
        if (!r->names[r->n] || !r->data[r->n]) {
            free(r->names[r->n]);
            free(r->data[r->n]);
            return -1;
        }
        memcpy(r->data[r->n], t->data, sizeof(float) * (size_t)n);
        r->n++;
    }
    return 0;
}

int rt_load_weights(ir_graph *g, const char *path, rt_resume *state, char *err, size_t errcap) {
    if (!g || !path) return err_set(err, errcap, "rt_load_weights: missing argument");
    if (state) memset(state, 0, sizeof *state);
    rt_st_file *f = rt_st_read(path, err, errcap);
    if (!f) return -1;
    ir_input_norm norm = {0};
    const char *nm = rt_st_meta(f, "nasc.normalize");
    int64_t in = ir_shape_numel(&g->nodes[g->input].shape);
    if (check_file(g, f, path, err, errcap) || (nm && rt_norm_parse(nm, path, &norm, err, errcap))) {
        rt_st_free(f);
        return -1;
    }
    if (norm.channels && in % norm.channels) {
        rt_st_free(f);
        return err_set(
            err, errcap,
            "weights file %s standardises %d input channels, but this network's input of %lld values "
            "does not split into %d",
            path, norm.channels, (long long)in, norm.channels);
    }
    g->norm = norm;
    for (int i = 0; i < g->n_nodes; i++)
        for (int p = 0; p < g->nodes[i].n_params; p++) {
            ir_param *pr = &g->nodes[i].params[p];
            int64_t n = ir_shape_numel(&pr->shape);
            if (!pr->data && !(pr->data = malloc(sizeof(float) * (size_t)(n ? n : 1)))) {
                rt_st_free(f);
                return err_set(err, errcap, "out of memory loading %s", path);
            }
            memcpy(pr->data, rt_st_find(f, pr->name)->data, sizeof(float) * (size_t)n);
        }
    if (state && read_state(f, state)) {
        rt_resume_free(state);
        rt_st_free(f);
        return err_set(err, errcap, "out of memory loading %s", path);
    }
    rt_st_free(f);
    return 0;
}
