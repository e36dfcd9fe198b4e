/* drv_supernet.c: the supernet of a space (drv_supernet.h).
 *
 * The mapping from subnets to shared weights is derived from the space
 * generically: every layer of a point's graph carries a stable key (its
 * block call path, op, source position and loop indices), and the
 * supernet holds, per key and parameter role, the largest tensor any point
 * gives it.  The shapes come from a covering set of points, and how each
 * decision is shared is read off the graphs: changing the decision
 * changes a weight's channel dims (width), its spatial dims (kernel),
 * which layers exist with an integer value (depth) or otherwise (branch).
 */
#define _POSIX_C_SOURCE 200809L
#include "drv_supernet.h"
#include <errno.h>
#include <glob.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "blas.h"
#include "data.h"
#include "exec.h"
#include "hash.h"
#include "recipe.h"
#include "safetensors.h"
#include "sn_checkpoint.h"
#include "sr_util.h"

/* ----- the values a decision is covered with ----- */

static bool numeric(const decision *d) {
    if (d->kind == DK_INT || d->kind == DK_FLOAT) return true;
    return d->kind == DK_CAT && !d->by_index && (d->vt == DV_INT || d->vt == DV_FLOAT || d->vt == DV_BOOL);
}

static double cat_num(const decision *d, int i) {
    return d->alt_vals[i].is_float ? d->alt_vals[i].f : (double)d->alt_vals[i].i;
}

#define MAX_INT_VALUES 64

static int n_values(const decision *d) {
    switch (d->kind) {
    case DK_CAT:
    case DK_SUBSET: return d->n_alts;
    case DK_FLOAT: return 2;
    case DK_INT: {
        int64_t n = (d->hi - d->lo) / d->step + 1;
        return n > MAX_INT_VALUES ? MAX_INT_VALUES : (int)n;
    }
    }
    return 1;
}

/* The i-th covering value of d (i < n_values). */
static sval value_at(const decision *d, int i) {
    sval v = {0};
    int n = n_values(d);
    switch (d->kind) {
    case DK_CAT: v.i = i; break;
    case DK_FLOAT:
        v.is_float = true;
        v.f = i ? d->fhi : d->flo;
        break;
    case DK_INT: {
        int64_t all = (d->hi - d->lo) / d->step + 1,
                k = n == all ? i : (int64_t)((double)i * (all - 1) / (n - 1));
        v.i = d->lo + k * d->step;
        break;
    }
    case DK_SUBSET: /* k consecutive alternatives from i: every alternative appears */
        for (int j = 0; j < d->k; j++) v.i |= (int64_t)(1ull << ((i + j) % d->n_alts));
        break;
    }
    return v;
}

/* The largest (or smallest) value of a numeric decision; alternative
 * `alt` (mod the count) of any other. */
static sval base_value(const decision *d, bool largest, int alt) {
    int n = n_values(d), best = alt % n;
    if (d->kind == DK_CAT && numeric(d)) {
        best = 0;
        for (int i = 1; i < n; i++)
            if (largest ? cat_num(d, i) > cat_num(d, best) : cat_num(d, i) < cat_num(d, best)) best = i;
    } else if (d->kind == DK_INT || d->kind == DK_FLOAT) {
        best = largest ? n - 1 : 0;
    }
    return value_at(d, best);
}

/* ----- running points ----- */

typedef struct cover {
    drv_supernet *sb;
    assignment *a;
    ir_graph g;
} cover;

/* Runs the point of vals (every decision given); false when infeasible. */
static bool run_point(drv_supernet *sb, const sval *vals, assignment **ap, ir_graph *g) {
    assignment *a = asg_new(sb->c, sb->s);
    memcpy(a->vals, vals, sizeof(sval) * (size_t)a->n);
    for (int i = 0; i < a->n; i++) a->given[i] = true;
    memset(g, 0, sizeof *g);
    bool feasible;
    int e0 = sb->c->n_errors;
    bool ok = space_run(sb->c, sb->p, sb->s, a, g, &feasible);
    sb->c->n_errors = e0; /* a point the space excludes is not an error here */
    *ap = a;
    return ok;
}

static void keep_point(drv_sn_point *k, const assignment *a, int64_t params) {
    if (!k->vals) {
        k->vals = malloc(sizeof(sval) * (size_t)(a->n + 1));
        k->given = malloc(sizeof(bool) * (size_t)(a->n + 1));
    }
    if (!k->vals || !k->given) return;
    memcpy(k->vals, a->vals, sizeof(sval) * (size_t)a->n);
    for (int i = 0; i < a->n; i++) k->given[i] = a->active[i];
    k->params = params;
}

/* What changing decision d from base to variant did to the weights. */
static int compare(const sn_net *base, const ir_graph *v, const char **example) {
    int bits = 0, found = 0;
    char name[1024];
    for (int i = 0; i < v->n_nodes; i++) {
        const ir_node *nd = &v->nodes[i];
        /* the weight tells: biases and statistics follow it */
        if (!nd->key || !nd->n_params || nd->params[0].role != PARAM_WEIGHT) continue;
        {
            snprintf(name, sizeof name, "%s.weight", nd->key);
            const sn_tensor *t = sn_find(base, name);
            if (!t) {
                bits |= DRV_SN_BRANCH;
                if (!*example) *example = nd->name;
                continue;
            }
            found++;
            for (int k = 0; k < t->shape.rank; k++)
                if (t->shape.d[k] != nd->params[0].shape.d[k]) {
                    int b = k >= 2 && t->shape.rank >= 3 ? DRV_SN_KERNEL : DRV_SN_WIDTH;
                    bits |= b;
                    if (!*example) *example = nd->name;
                }
        }
    }
    int nbase = 0;
    for (int i = 0; i < base->n; i++) nbase += base->t[i].role == PARAM_WEIGHT;
    if (found < nbase) bits |= DRV_SN_BRANCH;
    return bits;
}

static bool merge_point(drv_supernet *sb, const ir_graph *g, const decision *why, sval v) {
    char err[1024];
    if (!sn_merge(sb->net, g, err, sizeof err)) return true;
    if (why) {
        char vb[64];
        if (why->kind == DK_CAT)
            snprintf(vb, sizeof vb, "%s", why->alt_names[v.i]);
        else if (why->kind == DK_FLOAT)
            snprintf(vb, sizeof vb, "%g", v.f);
        else
            snprintf(vb, sizeof vb, "%lld", (long long)v.i);
        diag_error(sb->c, why->at, "decision '%s' cannot be shared by the supernet: at %s = %s, %s",
                   why->label, why->label, vb, err);
    } else {
        diag_error(sb->c, loc_none(), "the space cannot be turned into a supernet: %s", err);
    }
    return false;
}

static void note_extreme(drv_supernet *sb, const assignment *a, const ir_graph *g) {
    if (!sb->largest.vals || g->params > sb->largest.params) keep_point(&sb->largest, a, g->params);
    if (!sb->smallest.vals || g->params < sb->smallest.params) keep_point(&sb->smallest, a, g->params);
}

/* Covers every value of every decision from one base point. */
static bool cover_from(drv_supernet *sb, const sval *base_vals, bool vary) {
    nasc_ctx *c = sb->c;
    int n = sb->s->decs.n;
    sval *vals = malloc(sizeof(sval) * (size_t)(n + 1));
    if (!vals) return false;
    bool ok = true;
    ctx_mark m0 = ctx_get_mark(c);
    assignment *ba;
    ir_graph bg;
    sn_net *base = sn_new();
    char err[512];
    if (base && run_point(sb, base_vals, &ba, &bg)) {
        sb->n_points++;
        note_extreme(sb, ba, &bg);
        ok = merge_point(sb, &bg, NULL, (sval){0}) && !sn_merge(base, &bg, err, sizeof err);
        bool *active = malloc(sizeof(bool) * (size_t)(n + 1));
        if (active) memcpy(active, ba->active, sizeof(bool) * (size_t)n);
        for (int d = 0; ok && vary && active && d < n; d++) {
            decision *dec = sb->s->decs.v[d];
            if (dec->in_section || !active[d]) continue;
            for (int i = 0; ok && i < n_values(dec); i++) {
                memcpy(vals, base_vals, sizeof(sval) * (size_t)n);
                vals[d] = value_at(dec, i);
                ctx_mark m = ctx_get_mark(c);
                assignment *a;
                ir_graph g;
                if (run_point(sb, vals, &a, &g)) {
                    sb->n_points++;
                    note_extreme(sb, a, &g);
                    ok = merge_point(sb, &g, dec, vals[d]);
                    const char *ex = NULL;
                    sb->share[d] |= compare(base, &g, &ex);
                    if (ex && !sb->example[d]) sb->example[d] = strdup(ex); /* outlives the released arena */
                }
                if (ok) ctx_release(c, m);
            }
        }
        free(active);
    }
    sn_free(base);
    if (ok) ctx_release(c, m0);
    free(vals);
    return ok;
}

/* Every `train.` decision must be fixed (by --set) before the supernet
 * trains: the weights are shared, the recipe is not. */
static bool check_recipe(drv_supernet *sb, bool report) {
    bool ok = true;
    for (int i = 0; i < sb->s->decs.n; i++) {
        decision *d = sb->s->decs.v[i];
        if (!d->in_section) continue;
        sb->share[i] = DRV_SN_RECIPE;
        if (!report || strncmp(d->label, "train.", 6)) continue;
        diag *dg = diag_error(sb->c, d->at,
                              "decision '%s' is part of the recipe, which a supernet does not share: the "
                              "supernet trains with one fixed recipe",
                              d->label);
        diag_note(sb->c, dg, loc_none(), "fix it on the command line, e.g. --set %s=VALUE", d->label);
        ok = false;
    }
    return ok;
}

bool drv_supernet_build(drv_supernet *sb, nasc_ctx *c, program *p, space_ir *s, bool require_fixed_recipe) {
    memset(sb, 0, sizeof *sb);
    sb->c = c, sb->p = p, sb->s = s;
    int n = s->decs.n;
    sb->net = sn_new();
    sb->share = arena_alloc(&c->A, sizeof(int) * (size_t)(n + 1));
    sb->example = arena_alloc(&c->A, sizeof(char *) * (size_t)(n + 1));
    snprintf(sb->source_hash, sizeof sb->source_hash, "%016llx",
             (unsigned long long)hash_fnv1a(c->files.v[0].text));
    if (!sb->net) return false;
    for (int i = 0; i < n; i++) sb->share[i] = 0, sb->example[i] = NULL;
    if (!check_recipe(sb, require_fixed_recipe)) return false;
    /* Bases: the largest values with each alternative index of the
     * non-numeric decisions (so decisions nested under any alternative are
     * varied while active), and the smallest. */
    int bases = 1;
    for (int i = 0; i < n; i++)
        if (!numeric(s->decs.v[i]) && n_values(s->decs.v[i]) > bases) bases = n_values(s->decs.v[i]);
    if (bases > 8) bases = 8;
    /* A budget of about DRV_SN_COVER_BUDGET points, so that huge spaces
     * build in seconds: fewer bases first, then only the largest base is
     * varied (the others still run once each). */
    int64_t per_base = 1;
    for (int i = 0; i < n; i++)
        if (!s->decs.v[i]->in_section) per_base += n_values(s->decs.v[i]);
    int varied = (int)(DRV_SN_COVER_BUDGET / per_base);
    if (varied < 1) varied = 1;
    sval *vals = malloc(sizeof(sval) * (size_t)(n + 1));
    if (!vals) return false;
    bool ok = true;
    for (int b = 0; ok && b <= bases; b++) {
        for (int i = 0; i < n; i++) vals[i] = base_value(s->decs.v[i], b < bases, b);
        ok = cover_from(sb, vals, b < varied);
    }
    /* Random points reach combinations the bases miss. */
    uint64_t rng = 0x5eed5eedull;
    for (int r = 0; ok && r < 64; r++) {
        ctx_mark m = ctx_get_mark(c);
        assignment *a;
        ir_graph g;
        if (drv_supernet_sample(sb, &rng, &a, &g)) {
            sb->n_points++;
            note_extreme(sb, a, &g);
            ok = merge_point(sb, &g, NULL, (sval){0});
        }
        if (ok) ctx_release(c, m);
    }
    free(vals);
    for (int i = 0; i < n; i++) {
        decision *d = s->decs.v[i];
        /* a loop count: an integer whose values add or remove layers */
        if ((sb->share[i] & DRV_SN_BRANCH) && d->kind == DK_INT)
            sb->share[i] = (sb->share[i] & ~DRV_SN_BRANCH) | DRV_SN_DEPTH;
    }
    if (ok && !sb->largest.vals) {
        diag_error(c, loc_none(), "space %s has no feasible point to build a supernet from", s->name);
        ok = false;
    }
    return ok;
}

void drv_supernet_free(drv_supernet *sb) {
    sn_free(sb->net);
    for (int i = 0; sb->example && i < sb->s->decs.n; i++) free((char *)sb->example[i]);
    free(sb->largest.vals);
    free(sb->largest.given);
    free(sb->smallest.vals);
    free(sb->smallest.given);
    memset(sb, 0, sizeof *sb);
}

bool drv_supernet_sample(drv_supernet *sb, uint64_t *rng, assignment **ap, ir_graph *g) {
    assignment *a = asg_new(sb->c, sb->s);
    int e0 = sb->c->n_errors;
    if (!space_sample(sb->c, sb->p, sb->s, rng, a, 100)) {
        sb->c->n_errors = e0;
        return false;
    }
    return run_point(sb, a->vals, ap, g);
}

/* ----- --explain ----- */

static void put(char **buf, size_t *len, size_t *cap, const char *fmt, ...) NASC_PRINTF(4, 5);
static void put(char **buf, size_t *len, size_t *cap, const char *fmt, ...) {
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int k = vsnprintf(*buf ? *buf + *len : NULL, *buf ? *cap - *len : 0, fmt, ap);
        va_end(ap);
        if (k < 0) return;
        if (*buf && *len + (size_t)k < *cap) {
            *len += (size_t)k;
            return;
        }
        size_t nc = (*cap ? *cap * 2 : 4096) + (size_t)k;
        char *nb = realloc(*buf, nc);
        if (!nb) return;
        *buf = nb;
        *cap = nc;
    }
}

char *drv_supernet_explain(const drv_supernet *sb) {
    char *b = NULL;
    size_t len = 0, cap = 0;
    const space_ir *s = sb->s;
    put(&b, &len, &cap,
        "supernet of space %s: %d weight tensors, %lld trainable weights (largest subnet %lld, "
        "smallest %lld), shapes from %d covering points\n",
        s->name, sb->net->n, (long long)sn_numel(sb->net), (long long)sb->largest.params,
        (long long)sb->smallest.params, sb->n_points);
    for (int i = 0; i < s->decs.n; i++) {
        const decision *d = s->decs.v[i];
        int k = sb->share[i];
        put(&b, &len, &cap, "  %-20s ", d->label);
        if (k & DRV_SN_RECIPE) {
            put(&b, &len, &cap, "recipe: not shared (the supernet trains with one fixed value)\n");
            continue;
        }
        if (!k) {
            put(&b, &len, &cap, "no weights depend on it: every value shares the same weights\n");
            continue;
        }
        const char *sep = "";
        if (k & DRV_SN_WIDTH)
            put(&b, &len, &cap, "%swidth: leading channels of the largest tensor", sep), sep = "; ";
        if (k & DRV_SN_KERNEL) put(&b, &len, &cap, "%skernel: centre of the largest kernel", sep), sep = "; ";
        if (k & DRV_SN_DEPTH)
            put(&b, &len, &cap, "%sdepth: layers of the deepest case, a subnet runs the first d", sep),
                sep = "; ";
        if (k & DRV_SN_BRANCH)
            put(&b, &len, &cap, "%sbranch: one set of weights per alternative", sep), sep = "; ";
        if (sb->example[i]) put(&b, &len, &cap, " (e.g. layer %s)", sb->example[i]);
        put(&b, &len, &cap, "\n");
    }
    return b;
}

/* ----- inheriting weights, BN recalibration ----- */

int drv_bn_recalibrate(ir_graph *g, const rt_dataset *train, int samples, int batch, char *err, size_t cap) {
    bool any = false;
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].op == IR_BATCHNORM) any = true;
    if (!any || samples <= 0 || !train || train->n == 0) return 0;
    if (samples > train->n) samples = (int)train->n;
    if (batch > samples) batch = samples;
    float *saved = malloc(sizeof(float) * (size_t)(g->n_nodes + 1));
    rt_exec *e = rt_exec_new(g, batch, 1);
    if (!e || !saved) {
        free(saved);
        rt_exec_free(e);
        snprintf(err, cap, "cannot run the subnet to recalibrate batch-norm statistics");
        return -1;
    }
    /* running = (1 - m) running + m batch with m = 1/(k+1) at batch k is
     * the cumulative average over the batches (PyTorch's momentum=None). */
    for (int i = 0; i < g->n_nodes; i++) {
        ir_node *nd = &g->nodes[i];
        saved[i] = nd->momentum;
        if (nd->op != IR_BATCHNORM) continue;
        for (int p = 0; p < nd->n_params; p++) {
            ir_param *pr = &nd->params[p];
            int64_t n = ir_shape_numel(&pr->shape);
            if (pr->role == PARAM_RUNNING_MEAN || pr->role == PARAM_RUNNING_VAR)
                for (int64_t k = 0; k < n; k++) pr->data[k] = pr->role == PARAM_RUNNING_VAR ? 1.0f : 0.0f;
        }
    }
    int64_t numel = ir_shape_numel(&train->sample);
    for (int k = 0, at = 0; at + batch <= samples; k++, at += batch) {
        for (int i = 0; i < g->n_nodes; i++)
            if (g->nodes[i].op == IR_BATCHNORM) g->nodes[i].momentum = 1.0f / (float)(k + 1);
        rt_exec_forward(e, train->x + (size_t)at * (size_t)numel, batch, 1);
    }
    for (int i = 0; i < g->n_nodes; i++) g->nodes[i].momentum = saved[i];
    free(saved);
    rt_exec_free(e);
    return 0;
}

int drv_supernet_inherit(const sn_net *net, ir_graph *g, const rt_dataset *train, int samples, int batch,
                         char *err, size_t cap) {
    if (sn_gather(net, g, err, cap)) return -1;
    return drv_bn_recalibrate(g, train, samples, batch, err, cap);
}

sn_net *drv_supernet_load(nasc_ctx *c, program *p, space_ir *s, const char *path, char *err, size_t cap) {
    drv_supernet sb;
    int e0 = c->n_errors;
    ctx_mark m = ctx_get_mark(c);
    if (!drv_supernet_build(&sb, c, p, s, false)) {
        char *d = diag_render_string(c);
        snprintf(err, cap, "space %s cannot be turned into a supernet: %s", s->name, d ? d : "");
        free(d);
        drv_supernet_free(&sb);
        c->n_errors = e0;
        return NULL;
    }
    char layout[17];
    sn_layout_hash(sb.net, layout);
    drv_supernet_free(&sb);
    ctx_release(c, m);
    return sn_load(path, s->name, layout, err, cap);
}

/* ----- training ----- */

/* One subnet's forward and backward on a batch, its gradients added into
 * the supernet.  teacher != NULL: in-place distillation, the loss is the
 * cross-entropy against the teacher's softmax; else against the labels.
 * logits_out (may be NULL) receives the output logits. */
static int subnet_step(drv_supernet *sb, ir_graph *g, const float *x, const int32_t *y, int batch,
                       const float *teacher, float *logits_out, uint64_t seed, double *loss, char *err,
                       size_t cap) {
    if (sn_gather(sb->net, g, err, cap)) return -1;
    rt_exec *e = rt_exec_new(g, batch, seed);
    if (!e) {
        snprintf(err, cap, "cannot run subnet: out of memory");
        return -1;
    }
    const float *out = rt_exec_forward(e, x, batch, 1);
    int64_t k = ir_shape_numel(&g->nodes[g->output].shape);
    if (logits_out) memcpy(logits_out, out, sizeof(float) * (size_t)(batch * k));
    if (!teacher) {
        *loss = rt_exec_loss(e, y, batch, NULL);
        rt_exec_backward(e, batch);
    } else {
        float *d = malloc(sizeof(float) * (size_t)(batch * k));
        double l = 0;
        for (int b = 0; d && b < batch; b++) {
            const float *z = out + b * k, *t = teacher + b * k;
            float *g_ = d + b * k;
            double mx = z[0], tm = t[0], s = 0, ts = 0;
            for (int64_t j = 1; j < k; j++) mx = z[j] > mx ? z[j] : mx, tm = t[j] > tm ? t[j] : tm;
            for (int64_t j = 0; j < k; j++) s += exp(z[j] - mx), ts += exp(t[j] - tm);
            for (int64_t j = 0; j < k; j++) {
                double p = exp(z[j] - mx) / s, q = exp(t[j] - tm) / ts;
                g_[j] = (float)((p - q) / batch);
                l -= q * (z[j] - mx - log(s));
            }
        }
        if (!d) {
            rt_exec_free(e);
            snprintf(err, cap, "out of memory");
            return -1;
        }
        *loss = l / batch;
        rt_exec_backward_from(e, d, batch);
        free(d);
    }
    float **params, **grads;
    int64_t *sizes;
    ir_param **meta;
    int n = rt_exec_trainables(e, &params, &grads, &sizes, &meta);
    int rc = sn_accumulate(sb->net, g, meta, grads, n, 1.0f, err, cap);
    sn_put_buffers(sb->net, g);
    rt_exec_free(e);
    rt_params_free(g);
    if (!rc && !isfinite(*loss)) {
        snprintf(err, cap, "loss became NaN");
        rc = -1;
    }
    return rc;
}

/* The graph of a kept point (largest or smallest). */
static bool kept_graph(drv_supernet *sb, const drv_sn_point *k, ir_graph *g) {
    assignment *a = asg_new(sb->c, sb->s);
    memcpy(a->vals, k->vals, sizeof(sval) * (size_t)a->n);
    memcpy(a->given, k->given, sizeof(bool) * (size_t)a->n);
    memset(g, 0, sizeof *g);
    bool feasible;
    return space_run(sb->c, sb->p, sb->s, a, g, &feasible);
}

/* ----- checkpoints (resume after a kill) ----- */

/* Where the trainer stands between two steps: what a checkpoint holds
 * besides the tensors and their optimizer state (sn_checkpoint.h). */
typedef struct sn_position {
    int epoch;         /* 1-based */
    int64_t pos, step; /* steps done in this epoch, and in all */
    double sum;        /* this epoch's summed loss (for progress) */
    nasc_rng at_epoch; /* the shuffle generator before this epoch's shuffle */
    uint64_t srng;     /* the subnet sampler */
} sn_position;

/* Everything that shapes the training, so that a checkpoint is only
 * continued by the same training ("key=value ..."). */
static void train_settings(const drv_supernet *sb, const drv_sn_train_cfg *cfg, const recipe *r, int epochs,
                           int batch, int64_t n_train, char *buf, size_t cap) {
    char layout[17];
    sn_layout_hash(sb->net, layout);
    const rt_optim_cfg *o = &r->cfg.optim;
    const rt_sched_cfg *sc = &r->cfg.sched;
    snprintf(buf, cap,
             "sampling=%s random=%d seed=%llu epochs=%d batch=%d samples=%lld layout=%s source=%s "
             "optimizer=%d lr=%.17g momentum=%.17g nesterov=%d weight_decay=%.17g betas=%.17g,%.17g "
             "eps=%.17g schedule=%d,%.17g,%.17g,%.17g,%d",
             cfg->sampling == DRV_SN_SANDWICH ? "sandwich" : "uniform", cfg->n_random,
             (unsigned long long)cfg->seed, epochs, batch, (long long)n_train, layout, sb->source_hash,
             (int)o->kind, o->lr, o->momentum, o->nesterov, o->weight_decay, o->beta1, o->beta2, o->eps,
             (int)sc->kind, sc->step_size, sc->gamma, sc->min_lr, sc->warmup_steps);
}

/* The temporary files a killed writer left of path ("path.tmp.PID.N",
 * safetensors.c) go, when that process is gone. */
static void remove_stale_temporaries(const char *path) {
    char pat[4200];
    snprintf(pat, sizeof pat, "%s.tmp.*", path);
    glob_t gl;
    if (glob(pat, GLOB_NOSORT | GLOB_NOESCAPE, NULL, &gl)) return;
    for (size_t i = 0; i < gl.gl_pathc; i++) {
        char *end;
        long pid = strtol(gl.gl_pathv[i] + strlen(path) + 5, &end, 10);
        if (pid > 0 && *end == '.' && pid != (long)getpid() && kill((pid_t)pid, 0) && errno == ESRCH)
            unlink(gl.gl_pathv[i]);
    }
    globfree(&gl);
}

static int save_checkpoint(const drv_supernet *sb, const char *path, const char *settings,
                           const sn_position *at, char *err, size_t cap) {
    char ep[24], pos[24], step[24], sum[40], rng[80], srng[24];
    snprintf(ep, sizeof ep, "%d", at->epoch);
    snprintf(pos, sizeof pos, "%lld", (long long)at->pos);
    snprintf(step, sizeof step, "%lld", (long long)at->step);
    snprintf(sum, sizeof sum, "%.17g", at->sum);
    snprintf(rng, sizeof rng, "%016llx%016llx%016llx%016llx", (unsigned long long)at->at_epoch.s[0],
             (unsigned long long)at->at_epoch.s[1], (unsigned long long)at->at_epoch.s[2],
             (unsigned long long)at->at_epoch.s[3]);
    snprintf(srng, sizeof srng, "%016llx", (unsigned long long)at->srng);
    const char *keys[] = {"nasc.sn_checkpoint", "nasc.sn_epoch", "nasc.sn_pos",  "nasc.sn_step",
                          "nasc.sn_loss_sum",   "nasc.sn_rng",   "nasc.sn_srng", "nasc.space"},
               *vals[] = {settings, ep, pos, step, sum, rng, srng, sb->s->name};
    return sn_checkpoint_save(sb->net, path, keys, vals, 8, err, cap);
}

static bool hex64(const char *s, int n, uint64_t *out) {
    for (int i = 0; i < n; i++) {
        char b[17];
        if (strlen(s) < (size_t)(16 * (i + 1))) return false;
        memcpy(b, s + 16 * i, 16);
        b[16] = 0;
        char *end;
        out[i] = strtoull(b, &end, 16);
        if (*end) return false;
    }
    return true;
}

/* The first setting in which two settings strings differ, as "seed=4". */
static void first_difference(const char *a, const char *b, char *wa, char *wb, size_t cap) {
    for (;;) {
        size_t la = strcspn(a, " "), lb = strcspn(b, " ");
        if (la != lb || strncmp(a, b, la) || !a[la] || !b[lb]) {
            snprintf(wa, cap, "%.*s", (int)la, a);
            snprintf(wb, cap, "%.*s", (int)lb, b);
            return;
        }
        a += la + 1, b += lb + 1;
    }
}

/* Continues from the checkpoint at path: the same settings, or an error
 * naming the first that differs. */
static int load_checkpoint(drv_supernet *sb, const char *path, const char *settings, const recipe *r,
                           sn_position *at, char *err, size_t cap) {
    char why[512];
    rt_st_file *f = rt_st_read(path, why, sizeof why);
    if (!f) {
        snprintf(err, cap, "cannot read checkpoint %s: %s", path, why);
        return -1;
    }
    int rc = -1;
    const char *st = rt_st_meta(f, "nasc.sn_checkpoint"), *ep = rt_st_meta(f, "nasc.sn_epoch"),
               *pos = rt_st_meta(f, "nasc.sn_pos"), *step = rt_st_meta(f, "nasc.sn_step"),
               *sum = rt_st_meta(f, "nasc.sn_loss_sum"), *rng = rt_st_meta(f, "nasc.sn_rng"),
               *srng = rt_st_meta(f, "nasc.sn_srng");
    if (!st || !ep || !pos || !step || !sum || !rng || !srng || !hex64(rng, 4, at->at_epoch.s) ||
        !hex64(srng, 1, &at->srng)) {
        snprintf(err, cap, "%s is not a supernet training checkpoint", path);
    } else if (strcmp(st, settings)) {
        char a[200], b[200];
        first_difference(st, settings, a, b, sizeof a);
        snprintf(err, cap,
                 "checkpoint %s is of another training (%s there, %s now): continue it with the same "
                 "options, or delete it to start afresh",
                 path, a, b);
    } else {
        at->epoch = atoi(ep);
        at->pos = atoll(pos);
        at->step = atoll(step);
        at->sum = strtod(sum, NULL);
        rc = sn_checkpoint_restore(sb->net, f, path, &r->cfg.optim, err, cap);
    }
    rt_st_free(f);
    return rc;
}

int drv_supernet_train(drv_supernet *sb, const drv_sn_train_cfg *cfg, const char *out, char *err,
                       size_t cap) {
    nasc_ctx *c = sb->c;
    ctx_mark m0 = ctx_get_mark(c);
    ir_graph lg;
    recipe r;
    int rc = -1;
    float *x = NULL, *teacher = NULL;
    int32_t *y = NULL;
    int64_t *idx = NULL;
    assignment *la = asg_new(c, sb->s);
    memcpy(la->vals, sb->largest.vals, sizeof(sval) * (size_t)la->n);
    memcpy(la->given, sb->largest.given, sizeof(bool) * (size_t)la->n);
    bool feasible;
    if (!space_run(c, sb->p, sb->s, la, &lg, &feasible)) {
        snprintf(err, cap, "the largest subnet cannot be built");
        return -1;
    }
    if (!recipe_from_section(&la->train, &r, err, cap)) return -1;
    const recipe_data *data = recipe_load_data(&r, err, cap);
    if (!data || rt_check_data(&lg, &data->train, "the training data", err, cap)) return -1;
    if (sn_alloc(sb->net, cfg->seed, err, cap)) return -1;
    if (r.cfg.threads > 0) rt_blas_set_threads(r.cfg.threads);
    int epochs = cfg->epochs > 0 ? cfg->epochs : (int)ceil(r.epochs);
    /* a fractional train.epochs trains on that fraction of the data, as nasc train does */
    if (cfg->epochs <= 0 && r.epochs < 1 && r.cfg.data_fraction >= 1) r.cfg.data_fraction = r.epochs;
    int batch = r.cfg.batch > 0 ? r.cfg.batch : 128;
    const rt_dataset *tr = &data->train;
    int64_t n_train = (int64_t)ceil(tr->n * (r.cfg.data_fraction > 0 ? r.cfg.data_fraction : 1.0));
    if (n_train < 1 || n_train > tr->n) n_train = tr->n;
    if (batch > n_train) batch = (int)n_train;
    int64_t per_epoch = n_train / batch, total = per_epoch * epochs, numel = ir_shape_numel(&tr->sample);
    int64_t k = ir_shape_numel(&lg.nodes[lg.output].shape);
    x = malloc(sizeof(float) * (size_t)(batch * numel));
    y = malloc(sizeof(int32_t) * (size_t)batch);
    idx = malloc(sizeof(int64_t) * (size_t)tr->n);
    teacher = malloc(sizeof(float) * (size_t)(batch * k));
    if (!x || !y || !idx || !teacher) {
        snprintf(err, cap, "out of memory");
        goto out;
    }
    nasc_rng rng;
    nasc_rng_seed(&rng, cfg->seed ^ 0x9e3779b97f4a7c15ull);
    uint64_t srng = cfg->seed * 2654435761ull + 1;
    int n_rand = cfg->sampling == DRV_SN_SANDWICH ? (cfg->n_random > 0 ? cfg->n_random : 2) : 1;
    int64_t step = 0;
    char settings[1024];
    train_settings(sb, cfg, &r, epochs, batch, n_train, settings, sizeof settings);
    sn_position at = {1, 0, 0, 0, rng, srng};
    if (cfg->checkpoint) remove_stale_temporaries(cfg->checkpoint);
    remove_stale_temporaries(out);
    if (cfg->checkpoint && cfg->resume && !access(cfg->checkpoint, F_OK)) {
        if (load_checkpoint(sb, cfg->checkpoint, settings, &r, &at, err, cap)) goto out;
        rng = at.at_epoch, srng = at.srng, step = at.step;
        if (cfg->resumed_step) *cfg->resumed_step = step;
    }
    double t0 = recipe_now(), last_ckpt = t0;
    for (int ep = at.epoch; ep <= epochs; ep++) {
        nasc_rng at_epoch = rng;
        for (int64_t i = 0; i < tr->n; i++) idx[i] = i;
        rt_shuffle(&rng, idx, tr->n);
        bool first = ep == at.epoch;
        double sum = first ? at.sum : 0;
        for (int64_t s = first ? at.pos : 0; s < per_epoch; s++, step++) {
            if (cfg->stop_after > 0 && step >= cfg->stop_after) {
                snprintf(err, cap, "training stopped after %lld steps", (long long)step);
                goto out;
            }
            for (int b = 0; b < batch; b++) {
                int64_t j = idx[s * batch + b];
                memcpy(x + (size_t)b * (size_t)numel, tr->x + (size_t)j * (size_t)numel,
                       sizeof(float) * (size_t)numel);
                y[b] = tr->y[j];
            }
            double loss = 0, l;
            uint64_t es = cfg->seed + (uint64_t)step * 7919u;
            if (cfg->sampling == DRV_SN_SANDWICH) {
                ctx_mark m = ctx_get_mark(c);
                ir_graph g;
                if (!kept_graph(sb, &sb->largest, &g)) goto built;
                if (subnet_step(sb, &g, x, y, batch, NULL, teacher, es, &loss, err, cap)) goto out;
                ctx_release(c, m);
                if (!kept_graph(sb, &sb->smallest, &g)) goto built;
                if (subnet_step(sb, &g, x, y, batch, teacher, NULL, es + 1, &l, err, cap)) goto out;
                ctx_release(c, m);
            }
            for (int q = 0; q < n_rand; q++) {
                ctx_mark m = ctx_get_mark(c);
                assignment *a;
                ir_graph g;
                if (!drv_supernet_sample(sb, &srng, &a, &g)) goto built;
                if (subnet_step(sb, &g, x, y, batch, cfg->sampling == DRV_SN_SANDWICH ? teacher : NULL, NULL,
                                es + 2 + (uint64_t)q, &l, err, cap))
                    goto out;
                if (cfg->sampling == DRV_SN_UNIFORM) loss = l;
                ctx_release(c, m);
            }
            double lr = rt_sched_lr(&r.cfg.sched, r.cfg.optim.lr, step, total, per_epoch);
            if (sn_step(sb->net, &r.cfg.optim, lr, err, cap)) goto out;
            sum += loss;
            if (cfg->progress && (s % 20 == 0 || s + 1 == per_epoch)) {
                rt_progress p = {ep, epochs, step + 1, total, sum / (double)(s + 1)};
                if (cfg->progress(cfg->progress_ctx, &p)) {
                    snprintf(err, cap, "training cancelled");
                    goto out;
                }
            }
            /* every checkpoint_steps steps, or once a minute and at an epoch's
             * end (at most one every 5 s: tiny epochs would write one per
             * epoch); not after the last step: the supernet itself follows */
            double since = recipe_now() - last_ckpt;
            bool due = cfg->checkpoint_steps > 0 ? (step + 1) % cfg->checkpoint_steps == 0
                                                 : since >= 60 || (s + 1 == per_epoch && since >= 5);
            if (cfg->checkpoint && due && step + 1 < total) {
                sn_position now = {ep, s + 1, step + 1, sum, at_epoch, srng};
                if (save_checkpoint(sb, cfg->checkpoint, settings, &now, err, cap)) goto out;
                last_ckpt = recipe_now();
            }
        }
    }
    if (cfg->train_time) *cfg->train_time = recipe_now() - t0;
    {
        char ep[32], sm[16];
        snprintf(ep, sizeof ep, "%d", epochs);
        snprintf(sm, sizeof sm, "%s", cfg->sampling == DRV_SN_SANDWICH ? "sandwich" : "uniform");
        const char *keys[] = {"nasc.epochs", "nasc.sampling"}, *vals[] = {ep, sm};
        rc = sn_save(sb->net, out, sb->s->name, sb->source_hash, keys, vals, 2, err, cap);
        if (!rc && cfg->checkpoint) unlink(cfg->checkpoint); /* done: nothing to resume */
    }
    goto out;
built:
    snprintf(err, cap, "could not build a subnet of space %s to train", sb->s->name);
out:
    free(x);
    free(y);
    free(idx);
    free(teacher);
    ctx_release(c, m0);
    return rc;
}

/* ----- the supernet evaluator of a search ----- */

/* The evaluator's state: loaded once in the host before the workers fork,
 * so they share it.  The other interface functions forward to the
 * builtin's. */
typedef struct sn_eval {
    drv_space *h;
    sr_space_iface base;
    sn_net *net;
    char path[1024];
} sn_eval;

static char *se_to_json(void *ud, const nasc_point *p) {
    sn_eval *e = ud;
    return e->base.to_json(e->base.ud, p);
}

static int se_from_json(void *ud, const char *json, nasc_point *p, char *err, size_t cap) {
    sn_eval *e = ud;
    return e->base.from_json(e->base.ud, json, p, err, cap);
}

static int se_static(void *ud, const nasc_point *p, sr_metrics *m) {
    sn_eval *e = ud;
    return e->base.static_metrics(e->base.ud, p, m);
}

static void se_worker_init(void *ud) {
    sn_eval *e = ud;
    if (e->base.worker_init) e->base.worker_init(e->base.ud);
}

/* A subnet with its inherited weights: BN recalibrated, then validation
 * accuracy and the static metrics; the proxies and latency when the
 * goals or --metrics name them, measured as the builtin evaluator does.  fidelity and weights_path are not
 * used: nothing trains. */
static int se_eval(void *ud, const char *point_json, double fidelity, const char *weights_path,
                   sr_metrics *out, char *err, size_t cap) {
    (void)fidelity, (void)weights_path;
    sn_eval *e = ud;
    drv_space *h = e->h;
    ctx_mark m = ctx_get_mark(h->c);
    diag *first = h->c->diags_tail;
    space_ir *s;
    assignment *a;
    ir_graph g = {0};
    int rc = -1;
    double t0 = recipe_now();
    recipe r;
    if (!point_load(h->c, h->p, &s, point_json, "point", &a, &g)) {
        drv_diags_since(h->c, first, err, cap);
        goto out;
    }
    if (!recipe_from_section(&a->train, &r, err, cap)) goto out;
    const recipe_data *d = recipe_load_data(&r, err, cap);
    if (!d) goto out;
    int batch = r.cfg.batch > 0 ? r.cfg.batch : 128;
    /* proxies are defined at initialisation: measured before the network
     * inherits its weights (which overwrite every parameter) */
    if (h->want_proxies && drv_space_proxies(h, &g, &r, d, out, err, cap)) goto out;
    t0 = recipe_now();
    if (drv_supernet_inherit(e->net, &g, &d->train, DRV_SN_RECAL_SAMPLES, batch, err, cap)) {
        char tmp[1200];
        snprintf(tmp, sizeof tmp, "supernet %s: %s", e->path, err);
        snprintf(err, cap, "%s", tmp);
        goto out;
    }
    double acc, loss, t1 = recipe_now();
    rt_dataset val = d->val; /* a view: the split is shuffled, so its first samples are a sample */
    if (val.n > DRV_SN_VAL_SAMPLES) val.n = DRV_SN_VAL_SAMPLES;
    if (rt_evaluate(&g, &val, batch, &acc, &loss, err, cap)) goto out;
    sr_metrics_set(out, "accuracy", acc);
    sr_metrics_set(out, "val_loss", loss);
    sr_metrics_set(out, "params", (double)g.params);
    sr_metrics_set(out, "flops", (double)g.flops);
    sr_metrics_set(out, "memory", (double)g.memory);
    sr_metrics_set(out, "time_recalibrate", t1 - t0);
    sr_metrics_set(out, "time_eval", recipe_now() - t1);
    rc = 0;
    /* latency is the compiled subnet's, as the builtin evaluator measures it */
    if (h->want_latency) {
        t1 = recipe_now();
        rc = drv_space_latency(h, d, point_json, &g, out, err, cap);
        sr_metrics_set(out, "time_jit", recipe_now() - t1);
    }
out:
    rt_params_free(&g);
    ctx_release(h->c, m);
    return rc;
}

int drv_supernet_evaluator(drv_space *h, const char *path, sr_space_iface *iface, char *err, size_t cap) {
    sn_eval *e = arena_alloc(&h->c->A, sizeof *e);
    memset(e, 0, sizeof *e);
    e->h = h;
    e->base = *iface;
    snprintf(e->path, sizeof e->path, "%s", path);
    if (!(e->net = drv_supernet_load(h->c, h->p, h->s, path, err, cap))) return -1;
    *iface = (sr_space_iface){
        iface->space,   e,   se_to_json, se_from_json, iface->static_metrics ? se_static : NULL, se_eval,
        se_worker_init, NULL /* no one-call instantiate: the host asks for each fact in turn */};
    return 0;
}

void drv_supernet_evaluator_free(sr_space_iface *iface) {
    if (iface->eval != se_eval) return;
    sn_eval *e = iface->ud;
    sn_free(e->net);
    e->net = NULL;
}

const char *drv_evaluator_supernet(const sr_config *cfg) {
    if (cfg->evaluator != SR_EVAL_BUILTIN || !cfg->command || strncmp(cfg->command, "supernet:", 9))
        return NULL;
    return cfg->command + 9;
}

/* ----- a subnet's weights from a supernet file (train --init, build, run) ----- */

bool drv_is_supernet_file(const char *path) {
    char err[256];
    rt_st_file *f = rt_st_read(path, err, sizeof err);
    bool yes = f && rt_st_meta(f, "nasc.supernet");
    rt_st_free(f);
    return yes;
}

int drv_subnet_from_file(nasc_ctx *c, program *p, space_ir *s, assignment *a, ir_graph *g, const char *path,
                         char *err, size_t cap) {
    sn_net *net = drv_supernet_load(c, p, s, path, err, cap);
    if (!net) return -1;
    recipe r;
    const recipe_data *d = NULL;
    int rc = -1;
    if (recipe_from_section(&a->train, &r, err, cap) && (d = recipe_load_data(&r, err, cap))) {
        char why[1024];
        rc = drv_supernet_inherit(net, g, &d->train, DRV_SN_RECAL_SAMPLES,
                                  r.cfg.batch > 0 ? r.cfg.batch : 128, why, sizeof why);
        if (rc) snprintf(err, cap, "supernet file %s: %s", path, why);
    }
    sn_free(net);
    return rc;
}

/* ----- the covering values, for the differentiable supernet (drv_darts.c) ----- */

int drv_sn_n_values(const decision *d) { return n_values(d); }
sval drv_sn_value_at(const decision *d, int i) { return value_at(d, i); }
sval drv_sn_base_value(const decision *d, bool largest, int alt) { return base_value(d, largest, alt); }
bool drv_sn_numeric(const decision *d) { return numeric(d); }
