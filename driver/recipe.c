/* recipe.c: reading a training recipe out of a `train` section and running
 * it.  Defaults follow the spec's examples: fashion_mnist, a 0.1
 * validation split, one epoch, batch 128, SGD with lr 0.05 and momentum 0.9,
 * Kaiming initialisation, seed 1. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cifar.h"
#include "normalize.h"
#include "recipe.h"

static double num_arg(const cfg_val *call, const char *key, double dflt) {
    if (!call || call->k != CV_CALL) return dflt;
    for (int i = 0; i < call->n; i++)
        if (call->keys[i] && !strcmp(call->keys[i], key) && call->items[i]->k == CV_NUM &&
            sym_is_const(call->items[i]->num))
            return sym_fval(call->items[i]->num);
    for (int i = 0; i < call->n; i++)
        if (call->keys[i] && !strcmp(call->keys[i], key) && call->items[i]->k == CV_BOOL)
            return sym_is_true(call->items[i]->num) ? 1 : 0;
    return dflt;
}

static const char *str_arg(const cfg_val *call, int pos, const char *key) {
    if (!call || call->k != CV_CALL) return NULL;
    int p = 0;
    for (int i = 0; i < call->n; i++) {
        if (!call->keys[i] && p++ == pos && call->items[i]->k == CV_STR) return call->items[i]->s;
        if (key && call->keys[i] && !strcmp(call->keys[i], key) && call->items[i]->k == CV_STR)
            return call->items[i]->s;
    }
    return NULL;
}

static bool optimizer(const section *tr, recipe *r, char *err, size_t cap) {
    const cfg_val *o = section_get(tr, "optimizer");
    const char *name = !o ? "sgd" : o->k == CV_CALL || o->k == CV_IDENT ? o->s : NULL;
    rt_optim_cfg *c = &r->cfg.optim;
    if (!name) {
        snprintf(err, cap, "optimizer must be sgd(...), adam(...) or adamw(...)");
        return false;
    }
    if (!strcmp(name, "sgd")) {
        c->kind = OPT_SGD;
        c->lr = num_arg(o, "lr", 0.05);
        c->momentum = num_arg(o, "momentum", o ? 0 : 0.9);
        c->nesterov = num_arg(o, "nesterov", 0) != 0;
    } else if (!strcmp(name, "adam") || !strcmp(name, "adamw")) {
        c->kind = name[4] ? OPT_ADAMW : OPT_ADAM;
        c->lr = num_arg(o, "lr", 1e-3);
        c->beta1 = num_arg(o, "beta1", 0.9);
        c->beta2 = num_arg(o, "beta2", 0.999);
        c->eps = num_arg(o, "eps", 1e-8);
    } else {
        snprintf(err, cap, "unknown optimizer '%s' (sgd, adam, adamw)", name);
        return false;
    }
    c->weight_decay =
        num_arg(o, "weight_decay", section_num(tr, "weight_decay", c->kind == OPT_ADAMW ? 0.01 : 0));
    if (!(c->lr > 0) || !isfinite(c->lr)) {
        snprintf(err, cap, "the learning rate must be positive, got %g", c->lr);
        return false;
    }
    return true;
}

static bool schedule(const section *tr, recipe *r, char *err, size_t cap) {
    const cfg_val *s = section_get(tr, "schedule");
    rt_sched_cfg *c = &r->cfg.sched;
    c->kind = SCHED_CONSTANT;
    if (!s) return true;
    const char *name = s->s;
    if (!name) {
        snprintf(err, cap, "bad schedule");
        return false;
    }
    if (!strcmp(name, "cosine")) {
        c->kind = SCHED_COSINE;
        c->min_lr = num_arg(s, "min_lr", 0);
    } else if (!strcmp(name, "step")) {
        c->kind = SCHED_STEP;
        c->step_size = num_arg(s, "step_size", 1);
        c->gamma = num_arg(s, "gamma", 0.1);
    }
    c->warmup_steps = (int)num_arg(s, "warmup", 0);
    return true;
}

/* A named argument's numbers: a list of constants, or one constant. */
static int num_list(const cfg_val *call, const char *key, float *out, int max) {
    const cfg_val *v = NULL;
    for (int i = 0; call && i < call->n; i++)
        if (call->keys[i] && !strcmp(call->keys[i], key)) v = call->items[i];
    if (v && v->k == CV_NUM && sym_is_const(v->num)) {
        out[0] = (float)sym_fval(v->num);
        return 1;
    }
    if (!v || v->k != CV_LIST || v->n < 1 || v->n > max) return -1;
    for (int i = 0; i < v->n; i++) {
        if (v->items[i]->k != CV_NUM || !sym_is_const(v->items[i]->num)) return -1;
        out[i] = (float)sym_fval(v->items[i]->num);
    }
    return v->n;
}

/* normalize = unit | standard | standard(mean = [...], std = [...]) */
static bool normalize(const section *tr, recipe *r, char *err, size_t cap) {
    const cfg_val *v = section_get(tr, "normalize");
    r->normalize = NORM_UNIT;
    if (!v || (v->k == CV_IDENT && !strcmp(v->s, "unit"))) return true;
    if ((v->k == CV_IDENT || (v->k == CV_CALL && v->n == 0)) && !strcmp(v->s, "standard")) {
        r->normalize = NORM_STANDARD;
        return true;
    }
    if (v->k == CV_CALL && !strcmp(v->s, "standard")) {
        int nm = num_list(v, "mean", r->norm.mean, IR_NORM_MAX_CHANNELS);
        int ns = num_list(v, "std", r->norm.std, IR_NORM_MAX_CHANNELS);
        if (nm < 1 || ns < 1) {
            snprintf(err, cap, "normalize = standard(mean = [...], std = [...]) needs both lists of numbers");
            return false;
        }
        if (nm != ns) {
            snprintf(err, cap, "normalize = standard(...): %d means but %d standard deviations", nm, ns);
            return false;
        }
        r->normalize = NORM_GIVEN;
        r->norm.channels = nm;
        return true;
    }
    snprintf(err, cap, "normalize must be unit, standard or standard(mean = [...], std = [...])");
    return false;
}

/* One augmentation: crop(pad = P), flip, cutout(S) / cutout(size = S). */
static bool aug_op(const cfg_val *v, rt_aug_op *o, char *err, size_t cap) {
    const char *name = v->k == CV_IDENT || v->k == CV_CALL ? v->s : NULL;
    double size = -1;
    if (name && !strcmp(name, "flip")) {
        o->kind = RT_AUG_FLIP;
        return true;
    }
    if (name && !strcmp(name, "crop")) {
        o->kind = RT_AUG_CROP;
        size = num_arg(v, "pad", 4);
    } else if (name && !strcmp(name, "cutout")) {
        o->kind = RT_AUG_CUTOUT;
        size = num_arg(v, "size", 16);
        if (v->k == CV_CALL && v->n > 0 && !v->keys[0] && v->items[0]->k == CV_NUM &&
            sym_is_const(v->items[0]->num))
            size = sym_fval(v->items[0]->num);
    } else {
        snprintf(err, cap, "augment takes crop(pad = N), flip and cutout(N)");
        return false;
    }
    if (size != floor(size) || size < 0 || size > 4096) {
        snprintf(err, cap, "augment: %s needs a whole number of pixels, got %g", name, size);
        return false;
    }
    o->size = (int)size;
    return true;
}

static bool augment(const section *tr, recipe *r, char *err, size_t cap) {
    const cfg_val *v = section_get(tr, "augment");
    rt_augment *a = &r->cfg.augment;
    a->n = 0;
    if (!v) return true;
    int n = v->k == CV_LIST ? v->n : 1;
    if (n > RT_AUG_MAX) {
        snprintf(err, cap, "augment: at most %d operations", RT_AUG_MAX);
        return false;
    }
    for (int i = 0; i < n; i++)
        if (!aug_op(v->k == CV_LIST ? v->items[i] : v, &a->ops[a->n++], err, cap)) return false;
    return true;
}

bool recipe_from_section(const section *tr, recipe *r, char *err, size_t cap) {
    memset(r, 0, sizeof *r);
    r->proxies = (1u << RT_PX_NASWOT) | (1u << RT_PX_SYNFLOW);
    const cfg_val *d = section_get(tr, "data");
    r->data = DATA_FASHION;
    if (d && d->k == CV_CALL && !strcmp(d->s, "idx")) {
        r->data = DATA_IDX;
        r->path1 = str_arg(d, 0, "images");
        r->path2 = str_arg(d, 1, "labels");
    } else if (d && d->k == CV_CALL && !strcmp(d->s, "csv")) {
        r->data = DATA_CSV;
        r->path1 = str_arg(d, 0, "path");
        r->label = str_arg(d, 1, "label");
        if (!r->label) r->label = "label";
    } else if (d && d->k == CV_CALL && (!strcmp(d->s, "cifar10") || !strcmp(d->s, "cifar100"))) {
        r->data = !strcmp(d->s, "cifar100") ? DATA_CIFAR100 : DATA_CIFAR10;
        r->path1 = str_arg(d, 0, "dir");
    }
    const cfg_val *t = section_get(tr, "test");
    if (t && t->k == CV_CALL && !strcmp(t->s, "idx")) {
        r->test_kind = DATA_IDX;
        r->test1 = str_arg(t, 0, "images");
        r->test2 = str_arg(t, 1, "labels");
    } else if (t && t->k == CV_CALL && !strcmp(t->s, "csv")) {
        r->test_kind = DATA_CSV;
        r->test1 = str_arg(t, 0, "path");
        r->test_label = str_arg(t, 1, "label");
        if (!r->test_label) r->test_label = r->label ? r->label : "label";
    }
    r->split = section_num(tr, "split", 0.1);
    r->epochs = section_num(tr, "epochs", 1);
    r->cfg.batch = (int)section_num(tr, "batch", 128);
    r->cfg.seed = (uint64_t)section_num(tr, "seed", 1);
    r->cfg.threads = (int)section_num(tr, "threads", 0);
    r->cfg.data_fraction = section_num(tr, "data_fraction", 1);
    const cfg_val *in = section_get(tr, "init");
    r->cfg.init = in && in->k == CV_IDENT && !strcmp(in->s, "xavier") ? INIT_XAVIER : INIT_KAIMING;
    if (!optimizer(tr, r, err, cap) || !schedule(tr, r, err, cap) || !normalize(tr, r, err, cap) ||
        !augment(tr, r, err, cap))
        return false;
    if (r->cfg.batch < 1) {
        snprintf(err, cap, "batch must be positive");
        return false;
    }
    if (!(r->epochs > 0)) {
        snprintf(err, cap, "epochs must be positive");
        return false;
    }
    return true;
}

/* ----- data, cached per process ----- */

static char g_base[1024];

void recipe_set_base(const char *source_file) {
    const char *slash = strrchr(source_file, '/');
    snprintf(g_base, sizeof g_base, "%.*s", slash ? (int)(slash - source_file) : 1,
             slash ? source_file : ".");
}

/* A relative data path is tried from the working directory, then from the
 * directory of the .nas file that names it. */
static const char *data_path(const char *p, char *buf, size_t cap) {
    if (!p || p[0] == '/' || !access(p, R_OK) || !g_base[0]) return p;
    snprintf(buf, cap, "%s/%s", g_base, p);
    return access(buf, R_OK) ? p : buf;
}

static recipe_data g_data;
static bool g_loaded;

/* Standardises train, validation and test by the training split's
 * statistics (or the given ones): the transform is fitted once, here. */
static int standardise(const recipe *r, recipe_data *d, char *err, size_t cap) {
    if (r->normalize == NORM_UNIT) return 0;
    if (r->normalize == NORM_GIVEN) {
        d->norm = r->norm;
        if (rt_norm_check(&d->norm, &d->train.sample, err, cap)) return -1;
    } else if (rt_norm_fit(&d->train, &d->norm, err, cap))
        return -1;
    rt_dataset *sets[3] = {&d->train, &d->val, &d->test};
    for (int i = 0; i < 3; i++)
        if (sets[i]->n > 0 &&
            rt_norm_apply(&d->norm, ir_shape_numel(&sets[i]->sample), sets[i]->x, sets[i]->n, err, cap))
            return -1;
    return 0;
}

/* What identifies the loaded data: same key, same data. */
static void data_key(const recipe *r, char *key, size_t cap) {
    int n = snprintf(key, cap, "%d|%s|%s|%s|%g|%llu|%d|%s|%s|%d", r->data, r->path1 ? r->path1 : "",
                     r->path2 ? r->path2 : "", r->label ? r->label : "", r->split,
                     (unsigned long long)r->cfg.seed, r->test_kind, r->test1 ? r->test1 : "",
                     r->test2 ? r->test2 : "", (int)r->normalize);
    for (int i = 0; r->normalize == NORM_GIVEN && i < r->norm.channels && n > 0 && (size_t)n < cap; i++)
        n += snprintf(key + n, cap - (size_t)n, "|%a,%a", r->norm.mean[i], r->norm.std[i]);
}

const recipe_data *recipe_load_data(const recipe *r, char *err, size_t cap) {
    char key[1200];
    data_key(r, key, sizeof key);
    if (g_loaded && !strcmp(key, g_data.key)) return &g_data;
    if (g_loaded) {
        rt_dataset_free(&g_data.train);
        rt_dataset_free(&g_data.val);
        rt_dataset_free(&g_data.test);
        g_loaded = false;
    }
    memset(&g_data, 0, sizeof g_data);
    rt_dataset all = {0};
    char b1[1200], b2[1200];
    const char *p1 = data_path(r->path1, b1, sizeof b1), *p2 = data_path(r->path2, b2, sizeof b2);
    int rc;
    if (r->data == DATA_FASHION) {
        rc = rt_load_fashion_mnist(NULL, &all, &g_data.test, err, cap);
        g_data.have_test = rc == 0;
    } else if (r->data == DATA_CIFAR10 || r->data == DATA_CIFAR100) {
        rc = p1 ? rt_load_cifar(p1, r->data == DATA_CIFAR10 ? 10 : 100, &all, &g_data.test, err, cap) : -1;
        if (!r->path1) snprintf(err, cap, "cifar10(\"DIR\") and cifar100(\"DIR\") need a directory");
        g_data.have_test = rc == 0;
    } else if (r->data == DATA_IDX) {
        rc = p1 && p2 ? rt_load_idx(p1, p2, &all, err, cap) : -1;
        if (!r->path1 || !r->path2) snprintf(err, cap, "idx(\"images\", \"labels\") needs two file names");
    } else {
        rc = p1 ? rt_load_csv(p1, r->label, &all, err, cap) : -1;
        if (!r->path1) snprintf(err, cap, "csv(\"file.csv\", label = \"column\") needs a file name");
    }
    if (rc == 0 && r->test_kind) { /* a test set of the user's own, reported only */
        char t1[1200], t2[1200];
        const char *q1 = data_path(r->test1, t1, sizeof t1), *q2 = data_path(r->test2, t2, sizeof t2);
        if (!q1 || (r->test_kind == DATA_IDX && !q2)) {
            snprintf(err, cap, "test = idx(\"images\", \"labels\") or csv(\"file.csv\", label = ...)");
            rc = -1;
        } else {
            rt_dataset_free(&g_data.test); /* the user's test set replaces a bundled one */
            rc = r->test_kind == DATA_IDX ? rt_load_idx(q1, q2, &g_data.test, err, cap)
                                          : rt_load_csv(q1, r->test_label, &g_data.test, err, cap);
        }
        g_data.have_test = rc == 0;
    }
    if (rc) {
        rt_dataset_free(&all);
        rt_dataset_free(&g_data.test);
        return NULL;
    }
    if (r->split > 0) {
        rc = rt_dataset_split(&all, r->split, r->cfg.seed, &g_data.train, &g_data.val, err, cap);
        rt_dataset_free(&all);
        if (rc) return NULL;
    } else {
        g_data.train = all;
    }
    if (standardise(r, &g_data, err, cap)) {
        rt_dataset_free(&g_data.train);
        rt_dataset_free(&g_data.val);
        rt_dataset_free(&g_data.test);
        return NULL;
    }
    snprintf(g_data.key, sizeof g_data.key, "%s", key);
    g_loaded = true;
    return &g_data;
}

int recipe_proxies(ir_graph *g, const recipe *r, const recipe_data *d, rt_proxy_values *px, char *err,
                   size_t cap) {
    const char *what = r->data == DATA_FASHION ? "fashion_mnist" : r->path1;
    if (r->proxies && rt_check_data(g, &d->train, what, err, cap)) return -1; /* labels index the output */
    return rt_proxies_compute(g, &d->train, r->proxies, 64, r->cfg.seed, px, err, cap);
}

double recipe_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int recipe_train(ir_graph *g, recipe *r, double fidelity, const rt_resume *resume, rt_progress_fn progress,
                 void *progress_ctx, trial_metrics *out, rt_trainer **keep, char *err, size_t cap) {
    const recipe_data *d = recipe_load_data(r, err, cap);
    if (!d) return -1;
    const char *what = r->data == DATA_FASHION ? "fashion_mnist" : r->path1;
    if (rt_check_data(g, &d->train, what, err, cap)) return -1;
    g->norm = d->norm; /* saved with the weights: run, build and the executable apply it */
    if (d->have_test && rt_check_data(g, &d->test, "the test data", err, cap)) return -1;
    double epochs = fidelity > 0 ? fidelity : r->epochs;
    r->cfg.epochs = (int)ceil(epochs);
    if (epochs < 1 && r->cfg.data_fraction >= 1) r->cfg.data_fraction = epochs; /* a fraction of an epoch */
    r->cfg.progress = progress;
    r->cfg.progress_ctx = progress_ctx;
    r->cfg.resume = resume;
    memset(out, 0, sizeof *out);
    for (int id = 0; id < RT_PX_COUNT; id++) { /* what a resumed trial reports */
        out->px.v[id] = NAN;
        snprintf(out->px.why[id], sizeof out->px.why[id],
                 "measured at initialisation only, not on a resumed trial");
    }
    bool fresh = true;
    for (int i = 0; i < g->n_nodes && fresh; i++)
        for (int k = 0; k < g->nodes[i].n_params; k++)
            if (g->nodes[i].params[k].data) fresh = false;
    double t0 = recipe_now();
    if (fresh) {
        if (rt_params_init(g, r->cfg.init, r->cfg.seed)) {
            snprintf(err, cap, "out of memory");
            return -1;
        }
        /* Proxies need the initial weights, so they come before training. */
        if (recipe_proxies(g, r, d, &out->px, err, cap)) return -1;
        for (int id = 0; id < RT_PX_COUNT; id++)
            if ((r->proxies_needed & (1u << id)) && out->px.why[id][0]) {
                snprintf(err, cap, "%s is undefined for this network: %s", rt_proxy_name(id),
                         out->px.why[id]);
                return -1;
            }
    }
    out->time_proxies = recipe_now() - t0;
    rt_trainer *t = rt_trainer_new(g, &r->cfg, err, cap);
    if (!t) return -1;
    t0 = recipe_now();
    rt_dataset val = d->val; /* a view: the split is shuffled, so its first samples are a sample */
    if (r->val_fraction > 0 && r->val_fraction < 1) {
        int64_t k = (int64_t)ceil(r->val_fraction * (double)val.n);
        val.n = k > RECIPE_MIN_VAL ? k : val.n < RECIPE_MIN_VAL ? val.n : RECIPE_MIN_VAL;
    }
    int rc = rt_trainer_run(t, &d->train, val.n ? &val : NULL,
                            d->have_test && !r->skip_test ? &d->test : NULL, &out->m, err, cap);
    out->time_eval = recipe_now() - t0 - out->m.train_time;
    if (keep && rc == 0)
        *keep = t;
    else
        rt_trainer_free(t);
    return rc;
}
