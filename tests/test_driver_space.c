/* test_driver_space.c: the driver's space adapter and builtin evaluator on
 * the tiny IDX fixture (tests/fixtures/cli/tiny.nas): checkpoint resume of
 * a multi-fidelity strategy (a point trained to fidelity 1 and asked again
 * at 2 continues from its checkpoint), and one instantiate call agreeing
 * with normalize, static metrics and to_json. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "driver.h"
#include "recipe.h"
#include "train.h"

#define TINY NASC_SOURCE_DIR "/tests/fixtures/cli/tiny.nas"

typedef struct tiny {
    nasc_ctx *c;
    drv_space h;
    drv_folder f;
    sr_space_iface sp;
    char dir[256];
} tiny;

static void tiny_open(tiny *t, const char *name) {
    memset(t, 0, sizeof *t);
    snprintf(t->dir, sizeof t->dir, "%s/test-driver-tmp/%s", NASC_BINARY_DIR, name);
    char cmd[600], db[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", t->dir, t->dir);
    cr_assert_eq(system(cmd), 0);
    t->c = ctx_new();
    ast_file *f = parse_program(t->c, TINY);
    cr_assert_not_null(f);
    program *p = prog_check(t->c, f);
    cr_assert(p && !t->c->n_errors);
    recipe_set_base(TINY);
    drv_space_init(&t->h, t->c, p, prog_space(p, NULL));
    snprintf(db, sizeof db, "%s/run.db", t->dir);
    drv_folder_init(&t->f, db, "Tiny");
    t->h.folder = &t->f;
    t->sp = drv_space_iface(&t->h);
}

static void tiny_close(tiny *t) { ctx_destroy(t->c); }

static const char *point =
    "{\"space\": \"Tiny\", \"decisions\": {\"depth\": 2, \"act\": \"relu\", \"width[1]\": 16, "
    "\"width[2]\": 8}}";

static double train_at(tiny *t, double fid, int64_t trial, sr_metrics *m) {
    char w[1200], err[600] = "";
    cr_assert_eq(t->f.layout.trial_weights(t->f.layout.ud, trial, w, sizeof w), 0);
    sr_metrics_clear(m);
    cr_assert_eq(t->sp.eval(t->sp.ud, point, fid, w, m, err, sizeof err), 0, "%s", err);
    double e = 0;
    cr_assert(sr_metrics_get(m, "epochs", &e));
    return e;
}

static rt_resume read_ckpt(tiny *t) {
    char ck[1200], err[600] = "";
    drv_folder_checkpoint(&t->f, point, ck, sizeof ck);
    cr_assert_eq(access(ck, R_OK), 0, "checkpoint %s", ck);
    sr_metrics m;
    sr_metrics_init(&m);
    /* the point's graph, to read the checkpoint into */
    space_ir *s;
    assignment *a;
    ir_graph g = {0};
    ctx_mark mk = ctx_get_mark(t->c);
    cr_assert(point_load(t->c, t->h.p, &s, point, "point", &a, &g));
    rt_resume r = {0};
    cr_assert_eq(rt_load_weights(&g, ck, &r, err, sizeof err), 0, "%s", err);
    rt_params_free(&g);
    ctx_release(t->c, mk);
    sr_metrics_free(&m);
    return r;
}

Test(driver_space, multi_fidelity_resumes_from_the_checkpoint) {
    tiny t;
    tiny_open(&t, "ckpt");
    sr_metrics m;
    sr_metrics_init(&m);
    cr_assert_eq(train_at(&t, 1, 1, &m), 1);
    rt_resume r1 = read_ckpt(&t);
    cr_assert_eq(r1.epochs, 1, "the checkpoint after fidelity 1");
    cr_assert_gt(r1.steps, 0);
    cr_assert_eq(train_at(&t, 2, 2, &m), 2, "fidelity 2 reports 2 epochs");
    rt_resume r2 = read_ckpt(&t);
    cr_assert_eq(r2.epochs, 2, "the checkpoint moved on to 2 epochs");
    cr_assert_eq(r2.steps, 2 * r1.steps,
                 "one more epoch of steps on top of the first: resumed, not restarted");
    double acc_resumed, loss_resumed;
    cr_assert(sr_metrics_get(&m, "accuracy", &acc_resumed) && sr_metrics_get(&m, "loss", &loss_resumed));
    /* At the space's maximum (3 epochs) no checkpoint is left to resume. */
    cr_assert_eq(train_at(&t, 3, 3, &m), 3);
    rt_resume r3 = read_ckpt(&t);
    cr_assert_eq(r3.epochs, 2, "nothing is resumed past the maximum fidelity");
    /* The same point trained afresh to 2 epochs in another folder ends
     * with the same metrics: the checkpoint carried the optimizer state. */
    tiny u;
    tiny_open(&u, "fresh");
    cr_assert_eq(train_at(&u, 2, 1, &m), 2);
    double acc_fresh, loss_fresh;
    cr_assert(sr_metrics_get(&m, "accuracy", &acc_fresh) && sr_metrics_get(&m, "loss", &loss_fresh));
    cr_assert_float_eq(loss_resumed, loss_fresh, 1e-4, "loss %g resumed, %g fresh", loss_resumed, loss_fresh);
    cr_assert_float_eq(acc_resumed, acc_fresh, 1e-9);
    rt_resume_free(&r1);
    rt_resume_free(&r2);
    rt_resume_free(&r3);
    sr_metrics_free(&m);
    tiny_close(&u);
    tiny_close(&t);
}

Test(driver_space, instantiate_agrees_with_the_three_calls) {
    tiny t;
    tiny_open(&t, "inst");
    const nasc_space *ns = t.sp.space;
    nasc_value v[8];
    unsigned char act[8];
    nasc_point p = {NASC_STRATEGY_ABI_VERSION, sizeof p, ns->n_decisions, v, act, 0, 0, 0};
    int checked = 0;
    for (int64_t depth = 1; depth <= 2; depth++)
        for (int64_t a = 0; a < 2; a++)
            for (int64_t w = 0; w < 4; w++) {
                memset(v, 0, sizeof v);
                v[0].i = depth, v[1].i = a, v[2].i = w & 1, v[3].i = w >> 1;
                sr_metrics m1, m2;
                sr_metrics_init(&m1);
                sr_metrics_init(&m2);
                char *json = NULL;
                int f1 = t.sp.instantiate(t.sp.ud, &p, &m1, &json);
                unsigned char act1[8];
                memcpy(act1, act, sizeof act1);
                int f2 = ns->normalize(ns->host, &p);
                cr_assert_eq(f1, f2);
                cr_assert_eq(memcmp(act1, act, (size_t)ns->n_decisions), 0, "activity");
                char *j2 = t.sp.to_json(t.sp.ud, &p);
                cr_assert_str_eq(json, j2);
                cr_assert_eq(t.sp.static_metrics(t.sp.ud, &p, &m2), 0);
                const char *names[] = {"params", "flops", "memory"};
                for (int k = 0; k < 3; k++) {
                    double x, y;
                    cr_assert(sr_metrics_get(&m1, names[k], &x) && sr_metrics_get(&m2, names[k], &y));
                    cr_assert_eq(x, y, "%s", names[k]);
                }
                free(json);
                free(j2);
                sr_metrics_free(&m1);
                sr_metrics_free(&m2);
                checked++;
            }
    cr_assert_eq(checked, 16);
    tiny_close(&t);
}

Test(driver_space, latency_is_measured_once_per_point) {
    tiny t;
    tiny_open(&t, "latency");
    t.h.want_latency = true;
    sr_metrics m;
    sr_metrics_init(&m);
    train_at(&t, 1, 1, &m);
    double l1, l2, c;
    cr_assert(sr_metrics_get(&m, "latency", &l1) && l1 > 0);
    cr_assert(sr_metrics_get(&m, "time_compile", &c), "the first time the point is compiled");
    train_at(&t, 2, 2, &m);
    cr_assert(sr_metrics_get(&m, "latency", &l2));
    cr_assert_eq(l1, l2, "the same figure, kept in the run folder");
    cr_assert_not(sr_metrics_get(&m, "time_compile", &c), "not compiled again at another fidelity");
    char path[1200];
    drv_folder_latency(&t.f, point, path, sizeof path);
    cr_assert_eq(access(path, R_OK), 0, "%s", path);
    t.h.want_throughput = true; /* throughput was not measured: it is now */
    train_at(&t, 3, 3, &m);
    double thr;
    cr_assert(sr_metrics_get(&m, "throughput", &thr) && thr > 0);
    sr_metrics_free(&m);
    tiny_close(&t);
}
