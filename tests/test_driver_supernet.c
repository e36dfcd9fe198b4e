/* test_driver_supernet.c: weight sharing (docs/one-shot.md).  A subnet's
 * inherited weights equal an independent slicing of the supernet's
 * tensors and give the same outputs, for every sharing kind (width,
 * kernel, depth, op choice, `if` on a decision, input choice, k-of
 * subset); sampling covers every alternative; BN recalibration changes
 * only BN statistics; training is deterministic under a seed; bad
 * supernet files and unshareable decisions give clear errors. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ast.h"
#include "drv_supernet.h"
#include "exec.h"
#include "recipe.h"
#include "space.h"

#define DATA NASC_SOURCE_DIR "/tests/fixtures/data/"

/* Every sharing kind on the 8x8 4-class fixture. */
static const char *SPACE =
    "block A(x: Tensor[c, h, w]) -> Tensor[c, h, w] { return relu(batchnorm(conv2d(x, c, 3))) }\n"
    "block B(x: Tensor[c, h, w]) -> Tensor[c, h, w] { return conv2d(x, c, 1) }\n"
    "space S(x: Tensor[1, 8, 8]) -> Tensor[4] {\n"
    "    let width  = choice {4, 8}\n"
    "    let kernel = choice {3, 5}\n"
    "    h = relu(batchnorm(conv2d(x, width, kernel)))\n"
    "    let depth = choice 1..3\n"
    "    for i in 1..depth {\n"
    "        let op = choice {A, B, skip}\n"
    "        h = op(h)\n"
    "    }\n"
    "    let extra = choice {false, true}\n"
    "    if extra { h = A(h) }\n"
    "    let p = B(h)\n"
    "    let q = A(h)\n"
    "    let pick = choice {p, q}\n"
    "    let two = choice 2 of {p, q, h}\n"
    "    h = pick + sum(two)\n"
    "    let units = choice {6, 12}\n"
    "    return dense(relu(dense(flatten(h), units)), 4)\n"
    "}\n"
    "train {\n"
    "    data = idx(\"" DATA "tiny-train-images-idx3-ubyte.gz\", \"" DATA
    "tiny-train-labels-idx1-ubyte.gz\")\n"
    "    split = 0.2\n"
    "    epochs = 1\n"
    "    batch = 16\n"
    "    optimizer = sgd(lr = 0.05, momentum = 0.9)\n"
    "}\n";

typedef struct fx {
    nasc_ctx *c;
    program *p;
    space_ir *s;
    drv_supernet sb;
} fx;

static fx load(const char *src) {
    fx f = {0};
    f.c = ctx_new();
    int id = ctx_add_file(f.c, "t.nas", src, strlen(src));
    ast_file *af = parse_file(f.c, id);
    cr_assert(f.c->n_errors == 0, "parse errors");
    f.p = prog_check(f.c, af);
    char *d = diag_render_string(f.c);
    cr_assert(f.c->n_errors == 0, "check errors: %s", d);
    free(d);
    f.s = f.p->spaces.v[0];
    return f;
}

static void done(fx *f) {
    drv_supernet_free(&f->sb);
    ctx_destroy(f->c);
}

static int dec_id(fx *f, const char *label) {
    for (int i = 0; i < f->s->decs.n; i++)
        if (!strcmp(f->s->decs.v[i]->label, label)) return i;
    cr_assert_fail("no decision %s", label);
    return -1;
}

/* The reference slicing, written out per rank: leading entries, centred
 * spatial dims of conv weights. */
static float ref_at(const sn_tensor *t, const ir_param *p, int64_t k) {
    const int64_t *S = t->shape.d, *s = p->shape.d;
    if (p->shape.rank == 1) return t->data[k];
    if (p->shape.rank == 2) return t->data[(k / s[1]) * S[1] + k % s[1]];
    cr_assert_eq(p->shape.rank, 4);
    int64_t x = k % s[3], y = (k / s[3]) % s[2], i = (k / (s[3] * s[2])) % s[1], o = k / (s[3] * s[2] * s[1]);
    int64_t oy = (S[2] - s[2]) / 2, ox = (S[3] - s[3]) / 2;
    return t->data[((o * S[1] + i) * S[2] + y + oy) * S[3] + x + ox];
}

/* Builds g2 stand-alone from the reference slices; checks g (gathered)
 * holds the same values and computes the same outputs. */
static void check_slices(fx *f, ir_graph *g, ir_graph *g2) {
    char err[512];
    cr_assert_eq(sn_gather(f->sb.net, g, err, sizeof err), 0, "%s", err);
    int checked = 0;
    for (int i = 0; i < g2->n_nodes; i++)
        for (int p = 0; p < g2->nodes[i].n_params; p++) {
            ir_param *pr = &g2->nodes[i].params[p];
            char name[1024];
            static const char *roles[] = {"weight", "bias", "running_mean", "running_var"};
            snprintf(name, sizeof name, "%s.%s", g2->nodes[i].key, roles[pr->role]);
            const sn_tensor *t = sn_find(f->sb.net, name);
            cr_assert(t, "no tensor %s", name);
            int64_t n = ir_shape_numel(&pr->shape);
            pr->data = malloc(sizeof(float) * (size_t)n);
            for (int64_t k = 0; k < n; k++) pr->data[k] = ref_at(t, pr, k);
            cr_assert_eq(memcmp(pr->data, g->nodes[i].params[p].data, sizeof(float) * (size_t)n), 0,
                         "parameter %s differs from the reference slice", pr->name);
            checked++;
        }
    cr_assert_gt(checked, 0);
    enum { B = 3 };
    float x[B * 64], y1[B * 4], y2[B * 4];
    for (int k = 0; k < B * 64; k++) x[k] = (float)sin(0.37 * k);
    cr_assert_eq(rt_forward_eval(g, x, y1, B), 0);
    cr_assert_eq(rt_forward_eval(g2, x, y2, B), 0);
    cr_assert_eq(memcmp(y1, y2, sizeof y1), 0, "inherited and stand-alone outputs differ");
}

static bool run(fx *f, const char *json, ir_graph *g) {
    assignment *a;
    space_ir *s;
    memset(g, 0, sizeof *g);
    return point_load(f->c, f->p, &s, json, "point", &a, g);
}

Test(supernet, slices_equal_standalone_for_every_sharing_kind) {
    fx f = load(SPACE);
    cr_assert(drv_supernet_build(&f.sb, f.c, f.p, f.s, true));
    char err[256];
    cr_assert_eq(sn_alloc(f.sb.net, 7, err, sizeof err), 0);
    /* Points exercising each kind: the narrow/small kernel, deep, each op,
     * the `if`, each input and subset choice. */
    const char *pts[] = {
        "{\"decisions\": {\"width\": 4, \"kernel\": 3, \"depth\": 1, \"op[1]\": \"A\", \"extra\": false, "
        "\"pick\": \"p\", \"two\": [\"p\", \"q\"], \"units\": 6}}",
        "{\"decisions\": {\"width\": 8, \"kernel\": 5, \"depth\": 3, \"op[1]\": \"B\", \"op[2]\": \"A\", "
        "\"op[3]\": \"skip\", \"extra\": true, \"pick\": \"q\", \"two\": [\"q\", \"h\"], \"units\": 12}}",
        "{\"decisions\": {\"width\": 4, \"kernel\": 5, \"depth\": 2, \"op[1]\": \"skip\", \"op[2]\": \"B\", "
        "\"extra\": true, \"pick\": \"p\", \"two\": [\"p\", \"h\"], \"units\": 12}}",
    };
    for (int i = 0; i < 3; i++) {
        ir_graph g, g2;
        cr_assert(run(&f, pts[i], &g), "point %d", i);
        cr_assert(run(&f, pts[i], &g2));
        check_slices(&f, &g, &g2);
        rt_params_free(&g);
        rt_params_free(&g2);
    }
    /* and random ones */
    uint64_t rng = 99;
    for (int i = 0; i < 20; i++) {
        assignment *a;
        ir_graph g, g2;
        cr_assert(drv_supernet_sample(&f.sb, &rng, &a, &g));
        char *pj = point_json(f.c, f.s, a);
        cr_assert(run(&f, pj, &g2), "%s", pj);
        check_slices(&f, &g, &g2);
        rt_params_free(&g);
        rt_params_free(&g2);
    }
    done(&f);
}

Test(supernet, kernel_centre_and_leading_channels) {
    fx f = load(SPACE);
    cr_assert(drv_supernet_build(&f.sb, f.c, f.p, f.s, true));
    char err[256];
    cr_assert_eq(sn_alloc(f.sb.net, 1, err, sizeof err), 0);
    ir_graph g;
    cr_assert(
        run(&f,
            "{\"decisions\": {\"width\": 4, \"kernel\": 3, \"depth\": 1, \"op[1]\": \"skip\", \"extra\": "
            "false, \"pick\": \"p\", \"two\": [\"p\", \"q\"], \"units\": 6}}",
            &g));
    cr_assert_eq(sn_gather(f.sb.net, &g, err, sizeof err), 0, "%s", err);
    const ir_node *conv = NULL;
    for (int i = 0; i < g.n_nodes && !conv; i++)
        if (g.nodes[i].op == IR_CONV2D) conv = &g.nodes[i];
    char name[512];
    snprintf(name, sizeof name, "%s.weight", conv->key);
    const sn_tensor *t = sn_find(f.sb.net, name);
    cr_assert_eq(t->shape.d[0], 8); /* the widest */
    cr_assert_eq(t->shape.d[2], 5); /* the largest kernel */
    /* subnet [o=3][i=0][0][0] is the supernet's [3][0][1][1] */
    cr_assert_eq(conv->params[0].data[3 * 9], t->data[3 * 25 + 1 * 5 + 1]);
    rt_params_free(&g);
    done(&f);
}

Test(supernet, explains_each_sharing_kind) {
    fx f = load(SPACE);
    cr_assert(drv_supernet_build(&f.sb, f.c, f.p, f.s, true));
    cr_assert_eq(f.sb.share[dec_id(&f, "width")] & DRV_SN_WIDTH, DRV_SN_WIDTH);
    cr_assert_eq(f.sb.share[dec_id(&f, "kernel")], DRV_SN_KERNEL);
    cr_assert_eq(f.sb.share[dec_id(&f, "depth")] & DRV_SN_DEPTH, DRV_SN_DEPTH);
    cr_assert_eq(f.sb.share[dec_id(&f, "op[1]")], DRV_SN_BRANCH);
    cr_assert_eq(f.sb.share[dec_id(&f, "extra")], DRV_SN_BRANCH);
    cr_assert_eq(f.sb.share[dec_id(&f, "units")], DRV_SN_WIDTH);
    char *t = drv_supernet_explain(&f.sb);
    cr_assert(strstr(t, "  kernel               kernel: centre of the largest kernel"), "%s", t);
    cr_assert(
        strstr(t, "  depth                depth: layers of the deepest case, a subnet runs the first d"),
        "%s", t);
    free(t);
    done(&f);
}

Test(supernet, sampling_covers_every_alternative) {
    fx f = load(SPACE);
    cr_assert(drv_supernet_build(&f.sb, f.c, f.p, f.s, true));
    int n = f.s->decs.n;
    uint64_t seen[64] = {0};
    uint64_t rng = 5;
    for (int k = 0; k < 400; k++) {
        assignment *a;
        ir_graph g;
        cr_assert(drv_supernet_sample(&f.sb, &rng, &a, &g));
        for (int i = 0; i < n; i++) {
            if (!a->active[i]) continue;
            decision *d = f.s->decs.v[i];
            if (d->kind == DK_SUBSET)
                seen[i] |= (uint64_t)a->vals[i].i;
            else
                seen[i] |= 1ull << (d->kind == DK_INT ? a->vals[i].i - d->lo : a->vals[i].i);
        }
    }
    for (int i = 0; i < n; i++) {
        decision *d = f.s->decs.v[i];
        int alts = d->kind == DK_INT ? (int)(d->hi - d->lo + 1) : d->n_alts;
        cr_assert_eq(seen[i], (1ull << alts) - 1, "decision %s: not every alternative sampled", d->label);
    }
    done(&f);
}

Test(supernet, bn_recalibration_changes_only_statistics) {
    fx f = load(SPACE);
    cr_assert(drv_supernet_build(&f.sb, f.c, f.p, f.s, true));
    char err[256];
    cr_assert_eq(sn_alloc(f.sb.net, 3, err, sizeof err), 0);
    ir_graph g;
    cr_assert(run(&f,
                  "{\"decisions\": {\"width\": 8, \"kernel\": 5, \"depth\": 2, \"op[1]\": \"A\", \"op[2]\": "
                  "\"B\", \"extra\": true, \"pick\": \"q\", \"two\": [\"p\", \"q\"], \"units\": 12}}",
                  &g));
    cr_assert_eq(sn_gather(f.sb.net, &g, err, sizeof err), 0);
    float *before[256];
    int k = 0;
    for (int i = 0; i < g.n_nodes; i++)
        for (int p = 0; p < g.nodes[i].n_params; p++, k++) {
            size_t n = (size_t)ir_shape_numel(&g.nodes[i].params[p].shape);
            before[k] = malloc(n * sizeof(float));
            memcpy(before[k], g.nodes[i].params[p].data, n * sizeof(float));
        }
    rt_dataset d = {0};
    d.n = 64;
    d.sample = (ir_shape){3, {1, 8, 8}};
    d.x = malloc(64 * 64 * sizeof(float));
    d.y = calloc(64, sizeof(int32_t));
    d.n_classes = 4;
    for (int i = 0; i < 64 * 64; i++) d.x[i] = (float)cos(0.11 * i) + 0.5f;
    cr_assert_eq(drv_bn_recalibrate(&g, &d, 64, 16, err, sizeof err), 0, "%s", err);
    int stats_changed = 0;
    k = 0;
    for (int i = 0; i < g.n_nodes; i++)
        for (int p = 0; p < g.nodes[i].n_params; p++, k++) {
            const ir_param *pr = &g.nodes[i].params[p];
            size_t n = (size_t)ir_shape_numel(&pr->shape);
            bool same = !memcmp(before[k], pr->data, n * sizeof(float));
            if (pr->trainable)
                cr_assert(same, "trainable %s changed", pr->name);
            else
                stats_changed += !same;
            free(before[k]);
        }
    cr_assert_gt(stats_changed, 0);
    free(d.x);
    free(d.y);
    rt_params_free(&g);
    done(&f);
}

static void tmp_path(char *buf, size_t cap, const char *name) {
    snprintf(buf, cap, "/tmp/nasc_sn_test_%d_%s", (int)getpid(), name);
}

Test(supernet, bad_files_name_the_file) {
    fx f = load(SPACE);
    cr_assert(drv_supernet_build(&f.sb, f.c, f.p, f.s, true));
    char err[1024], path[256], bad[256];
    tmp_path(path, sizeof path, "ok.safetensors");
    cr_assert_eq(sn_alloc(f.sb.net, 3, err, sizeof err), 0);
    cr_assert_eq(sn_save(f.sb.net, path, "S", "0123456789abcdef", NULL, NULL, 0, err, sizeof err), 0, "%s",
                 err);
    char layout[17];
    sn_layout_hash(f.sb.net, layout);
    sn_net *n = sn_load(path, "S", layout, err, sizeof err);
    cr_assert(n, "%s", err);
    cr_assert_eq(n->n, f.sb.net->n);
    sn_free(n);
    cr_assert_null(sn_load(path, "Other", NULL, err, sizeof err));
    char want[512];
    snprintf(want, sizeof want, "supernet file %s is of space S, not Other", path);
    cr_assert_str_eq(err, want);
    cr_assert_null(sn_load(path, "S", "ffffffffffffffff", err, sizeof err));
    snprintf(want, sizeof want,
             "supernet file %s was trained for another version of space S (its layers differ: layout %s, now "
             "ffffffffffffffff): train it again with nasc supernet",
             path, layout);
    cr_assert_str_eq(err, want);
    /* truncated */
    tmp_path(bad, sizeof bad, "trunc.safetensors");
    FILE *in = fopen(path, "rb"), *out = fopen(bad, "wb");
    char buf[200];
    size_t got = fread(buf, 1, sizeof buf, in);
    fwrite(buf, 1, got, out);
    fclose(in);
    fclose(out);
    cr_assert_null(sn_load(bad, "S", NULL, err, sizeof err));
    snprintf(want, sizeof want, "cannot read supernet file %s: ", bad);
    cr_assert(!strncmp(err, want, strlen(want)), "%s", err);
    unlink(path);
    unlink(bad);
    done(&f);
}

Test(supernet, unshareable_grouping_is_a_diagnostic_at_the_decision) {
    fx f = load("space G(x: Tensor[4, 8, 8]) -> Tensor[4] {\n"
                "    let g = choice {1, 2}\n"
                "    return global_avgpool(conv2d(x, 4, 3, groups = g))\n"
                "}\n");
    cr_assert_not(drv_supernet_build(&f.sb, f.c, f.p, f.s, false));
    char *d = diag_render_string(f.c);
    cr_assert(strstr(d, "t.nas:2:9: error: decision 'g' cannot be shared by the supernet: at g = "), "%s", d);
    cr_assert(strstr(d, "changes its grouping"), "%s", d);
    free(d);
    done(&f);
}

Test(supernet, recipe_decision_must_be_fixed) {
    char src[4096];
    snprintf(src, sizeof src, "%s", SPACE);
    char *at = strstr(src, "lr = 0.05");
    memcpy(at, "lr = lr  ", 9);
    char *tr = strstr(src, "    optimizer");
    memmove(tr + 41, tr, strlen(tr) + 1);
    memcpy(tr, "    lr = choice [0.01, 0.2] log         \n", 41);
    fx f = load(src);
    cr_assert_not(drv_supernet_build(&f.sb, f.c, f.p, f.s, true));
    char *d = diag_render_string(f.c);
    cr_assert(strstr(d, "error: decision 'train.lr' is part of the recipe, which a supernet does not share"),
              "%s", d);
    cr_assert(strstr(d, "--set train.lr=VALUE"), "%s", d);
    free(d);
    done(&f);
}

/* Two trainings under one seed write bit-identical supernets; another
 * seed does not. */
Test(supernet, training_is_deterministic_under_a_seed) {
    char p1[256], p2[256], p3[256], err[1024];
    tmp_path(p1, sizeof p1, "a.safetensors");
    tmp_path(p2, sizeof p2, "b.safetensors");
    tmp_path(p3, sizeof p3, "c.safetensors");
    const char *paths[] = {p1, p2, p3};
    for (int r = 0; r < 3; r++) {
        fx f = load(SPACE);
        cr_assert(drv_supernet_build(&f.sb, f.c, f.p, f.s, true));
        drv_sn_train_cfg cfg = {0};
        cfg.sampling = r == 2 ? DRV_SN_UNIFORM : DRV_SN_SANDWICH;
        cfg.seed = 11;
        cr_assert_eq(drv_supernet_train(&f.sb, &cfg, paths[r], err, sizeof err), 0, "%s", err);
        done(&f);
    }
    FILE *a = fopen(p1, "rb"), *b = fopen(p2, "rb"), *c = fopen(p3, "rb");
    static char x[1 << 20], y[1 << 20], z[1 << 20];
    size_t nx = fread(x, 1, sizeof x, a), ny = fread(y, 1, sizeof y, b), nz = fread(z, 1, sizeof z, c);
    fclose(a), fclose(b), fclose(c);
    cr_assert_eq(nx, ny);
    cr_assert_eq(memcmp(x, y, nx), 0, "same seed, different supernets");
    cr_assert(nz != nx || memcmp(x, z, nx), "uniform and sandwich trained the same weights");
    unlink(p1), unlink(p2), unlink(p3);
}

static bool same_file(const char *a, const char *b) {
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    bool same = fa && fb;
    for (int ca = 0, cb = 0; same && ca != EOF;) {
        ca = fgetc(fa), cb = fgetc(fb);
        same = ca == cb;
    }
    if (fa) fclose(fa);
    if (fb) fclose(fb);
    return same;
}

/* One training of SPACE for 2 epochs (10 steps each), fresh state as in a
 * new process: returns drv_supernet_train's result. */
static int train_once(drv_sn_sampling sm, uint64_t seed, const char *out, const char *ckpt, int every,
                      int64_t stop, bool resume, int64_t *resumed, char *err, size_t cap) {
    /* seeds above 100: the same training with Adam (per-tensor step counts) */
    char src[4096];
    const char *sgd = strstr(SPACE, "sgd(lr = 0.05, momentum = 0.9)");
    snprintf(src, sizeof src, "%.*s%s%s", (int)(sgd - SPACE), SPACE,
             seed > 100 ? "adam(lr = 0.01)" : "sgd(lr = 0.05, momentum = 0.9)",
             sgd + strlen("sgd(lr = 0.05, momentum = 0.9)"));
    fx f = load(src);
    cr_assert(drv_supernet_build(&f.sb, f.c, f.p, f.s, true));
    drv_sn_train_cfg cfg = {0};
    cfg.sampling = sm;
    cfg.seed = seed;
    cfg.epochs = 2;
    cfg.checkpoint = ckpt;
    cfg.checkpoint_steps = every;
    cfg.stop_after = stop;
    cfg.resume = resume;
    cfg.resumed_step = resumed;
    int rc = drv_supernet_train(&f.sb, &cfg, out, err, cap);
    done(&f);
    return rc;
}

/* A training stopped between two checkpoints (as a kill would) and then
 * resumed writes the same bytes as an uninterrupted one: weights, BN
 * statistics, per-tensor optimizer state (Adam's step counts included)
 * and the random states all come back.  Stops mid-epoch and right after
 * an epoch's end, for both samplings. */
Test(supernet, resume_after_a_kill_is_bit_identical) {
    char ref[256], out[256], ck[256], err[1024];
    tmp_path(ref, sizeof ref, "ref.safetensors");
    tmp_path(out, sizeof out, "res.safetensors");
    tmp_path(ck, sizeof ck, "res.ckpt.safetensors");
    const struct {
        drv_sn_sampling sm;
        uint64_t seed;
        int every;
        int64_t stop, from;
    } cases[] = {{DRV_SN_UNIFORM, 5, 3, 8, 6},
                 {DRV_SN_SANDWICH, 5, 5, 12, 10},
                 {DRV_SN_SANDWICH, 105, 4, 15, 12},
                 {DRV_SN_UNIFORM, 107, 7, 9, 7}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        cr_assert_eq(train_once(cases[k].sm, cases[k].seed, ref, NULL, 0, 0, false, NULL, err, sizeof err), 0,
                     "%s", err);
        unlink(out);
        cr_assert_eq(train_once(cases[k].sm, cases[k].seed, out, ck, cases[k].every, cases[k].stop, false,
                                NULL, err, sizeof err),
                     -1);
        cr_assert(strstr(err, "training stopped after"), "%s", err);
        cr_assert_eq(access(ck, R_OK), 0, "no checkpoint written");
        cr_assert_neq(access(out, F_OK), 0, "the supernet was written by a stopped training");
        int64_t from = -1;
        cr_assert_eq(
            train_once(cases[k].sm, cases[k].seed, out, ck, cases[k].every, 0, true, &from, err, sizeof err),
            0, "%s", err);
        cr_assert_eq(from, cases[k].from);
        cr_assert(same_file(ref, out), "case %zu: the resumed supernet differs from an uninterrupted one", k);
        cr_assert_neq(access(ck, F_OK), 0, "the checkpoint outlived the finished training");
    }
    /* another training's checkpoint is refused, naming what differs */
    cr_assert_eq(train_once(DRV_SN_UNIFORM, 5, out, ck, 3, 5, false, NULL, err, sizeof err), -1);
    cr_assert_eq(train_once(DRV_SN_UNIFORM, 6, out, ck, 3, 0, true, NULL, err, sizeof err), -1);
    char want[512];
    snprintf(want, sizeof want, "checkpoint %s is of another training (seed=5 there, seed=6 now)", ck);
    cr_assert(strstr(err, want), "%s", err);
    unlink(ref), unlink(out), unlink(ck);
}

/* Attention in a supernet (issue 15): heads and widths are sliceable.
 * The packed q|k|v projection takes the leading rows of each third. */
static const char *SEQ_SPACE = "space S(x: Tensor[1, 8, 8]) -> Tensor[4] {\n"
                               "    let width = choice {8, 16}\n"
                               "    let heads = choice {1, 2}\n"
                               "    h = positional(dense(patches(x, 2), width))\n"
                               "    h = h + attention(layernorm(h), heads, head_dim = 4)\n"
                               "    return dense(mean_tokens(h), 4)\n"
                               "}\n"
                               "train {\n"
                               "    data = idx(\"" DATA "tiny-train-images-idx3-ubyte.gz\", \"" DATA
                               "tiny-train-labels-idx1-ubyte.gz\")\n"
                               "    epochs = 1\n"
                               "}\n";

Test(supernet, attention_heads_slice_per_third) {
    fx f = load(SEQ_SPACE);
    cr_assert(drv_supernet_build(&f.sb, f.c, f.p, f.s, true));
    char err[256];
    cr_assert_eq(sn_alloc(f.sb.net, 3, err, sizeof err), 0);
    ir_graph g;
    cr_assert(run(&f, "{\"decisions\": {\"width\": 8, \"heads\": 1}}", &g));
    cr_assert_eq(sn_gather(f.sb.net, &g, err, sizeof err), 0, "%s", err);
    const ir_node *qkv = NULL;
    for (int i = 0; i < g.n_nodes && !qkv; i++)
        if (g.nodes[i].op == IR_LINEAR && g.nodes[i].heads) qkv = &g.nodes[i];
    cr_assert_not_null(qkv);
    char name[512];
    snprintf(name, sizeof name, "%s.weight", qkv->key);
    const sn_tensor *t = sn_find(f.sb.net, name);
    cr_assert_not_null(t, "%s", name);
    cr_assert_eq(t->shape.d[0], 3 * 2 * 4); /* q|k|v of the most heads */
    cr_assert_eq(t->shape.d[1], 16);        /* the widest input */
    /* subnet row r of third b (4 rows each) is the supernet's row b * 8 + r, columns leading */
    const float *w = qkv->params[0].data;
    for (int b = 0; b < 3; b++)
        for (int r = 0; r < 4; r++)
            for (int c = 0; c < 8; c++)
                cr_assert_eq(w[(b * 4 + r) * 8 + c], t->data[(b * 8 + r) * 16 + c], "third %d row %d", b, r);
    rt_params_free(&g);
    /* every point of the space inherits weights and runs */
    uint64_t rng = 5;
    for (int i = 0; i < 6; i++) {
        assignment *a;
        cr_assert(drv_supernet_sample(&f.sb, &rng, &a, &g));
        cr_assert_eq(sn_gather(f.sb.net, &g, err, sizeof err), 0, "%s", err);
        float x[2 * 64], y[2 * 4];
        for (int k = 0; k < 2 * 64; k++) x[k] = (float)cos(0.11 * k);
        cr_assert_eq(rt_forward_eval(&g, x, y, 2), 0);
        for (int k = 0; k < 8; k++) cr_assert(isfinite(y[k]));
        rt_params_free(&g);
    }
    done(&f);
}
