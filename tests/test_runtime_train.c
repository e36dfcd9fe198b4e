/* test_runtime_train.c: the training loop end to end: a 784-256-10 MLP on
 * a subset of the real Fashion-MNIST learns (loss falls, accuracy far
 * above chance) and is deterministic for a seed; NaN/Inf fails the trial
 * naming the epoch; weights round-trip through safetensors with optimizer
 * state, resuming gives exactly an uninterrupted run, and a weights file
 * of another network is refused clearly; the proxies at initialisation. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <unistd.h>
#include "data.h"
#include "rt_testgraph.h"
#include "train.h"

static tg *mlp(int in, int hidden, int classes) {
    tg *t = tg_new();
    int x = tg_input(t, 1, in, 0, 0);
    int h = tg_act(t, tg_dense(t, x, hidden, 1), ACT_RELU);
    tg_finish(t, tg_dense(t, h, classes, 1));
    return t;
}

static rt_train_cfg sgd_cfg(int epochs, int batch, double lr) {
    rt_train_cfg c;
    memset(&c, 0, sizeof c);
    c.epochs = epochs;
    c.batch = batch;
    c.optim.kind = OPT_SGD;
    c.optim.lr = lr;
    c.optim.momentum = 0.9;
    c.sched.kind = SCHED_CONSTANT;
    c.seed = 1;
    c.threads = 1;
    return c;
}

/* A view of rows [from, from+n) of d (shares memory: never freed). */
static rt_dataset view(const rt_dataset *d, int64_t from, int64_t n) {
    rt_dataset v = *d;
    v.n = n;
    v.x = d->x + from * ir_shape_numel(&d->sample);
    v.y = d->y + from;
    return v;
}

/* Separable synthetic data: class c has mean +-1 on feature c. */
static void synthetic(rt_dataset *d, int64_t n, int dim, int classes, uint64_t seed) {
    memset(d, 0, sizeof *d);
    d->n = n;
    d->sample.rank = 1;
    d->sample.d[0] = dim;
    d->n_classes = classes;
    d->x = malloc(sizeof(float) * (size_t)(n * dim));
    d->y = malloc(sizeof(int32_t) * (size_t)n);
    nasc_rng r;
    nasc_rng_seed(&r, seed);
    for (int64_t i = 0; i < n; i++) {
        d->y[i] = (int32_t)(nasc_rng_next(&r) % (uint64_t)classes);
        for (int j = 0; j < dim; j++)
            d->x[i * dim + j] = 0.5f * rt_rng_normal(&r) + (j == d->y[i] ? 1.5f : 0.0f);
    }
}

static int load_fmnist(rt_dataset *tr, rt_dataset *te) {
    char err[512];
    if (access(RT_FASHION_MNIST_DIR "/train-images-idx3-ubyte.gz", R_OK)) return -1;
    cr_assert_eq(rt_load_fashion_mnist(NULL, tr, te, err, sizeof err), 0, "%s", err);
    return 0;
}

static int same_params(const ir_graph *a, const ir_graph *b) {
    for (int i = 0; i < a->n_nodes; i++)
        for (int p = 0; p < a->nodes[i].n_params; p++)
            if (memcmp(a->nodes[i].params[p].data, b->nodes[i].params[p].data,
                       sizeof(float) * (size_t)ir_shape_numel(&a->nodes[i].params[p].shape)))
                return 0;
    return 1;
}

Test(train, mlp_learns_fashion_mnist_deterministically) {
    rt_dataset tr, te;
    if (load_fmnist(&tr, &te)) cr_skip_test("dataset-fashion-mnist is not installed");
    rt_dataset sub = view(&tr, 0, 6000), val = view(&tr, 50000, 2000), tst = view(&te, 0, 2000);
    char err[512];
    tg *a = mlp(784, 256, 10), *b = mlp(784, 256, 10);
    cr_assert_eq(rt_params_init(&a->g, INIT_KAIMING, 1), 0);
    double acc0, loss0;
    cr_assert_eq(rt_evaluate(&a->g, &val, 256, &acc0, &loss0, err, sizeof err), 0, "%s", err);
    rt_train_cfg cfg = sgd_cfg(2, 64, 0.05);
    rt_metrics ma, mb;
    cr_assert_eq(rt_train(&a->g, &cfg, &sub, &val, &tst, &ma, err, sizeof err), 0, "%s", err);
    cr_assert_eq(rt_train(&b->g, &cfg, &sub, &val, &tst, &mb, err, sizeof err), 0, "%s", err);
    cr_assert_lt(ma.loss, 0.8 * loss0, "loss %g -> %g", loss0, ma.loss);
    cr_assert_lt(ma.val_loss, 0.8 * loss0);
    cr_assert_gt(ma.accuracy, 0.7, "validation accuracy %g", ma.accuracy);
    cr_assert_gt(ma.test_accuracy, 0.7, "test accuracy %g", ma.test_accuracy);
    cr_assert_eq(ma.params, 784 * 256 + 256 + 256 * 10 + 10);
    cr_assert_eq(ma.epochs, 2);
    cr_assert_eq(ma.steps, 2 * ((6000 + 63) / 64));
    cr_assert_gt(ma.train_time, 0.0);
    /* same seed and threads: identical metrics and weights */
    cr_assert_eq(ma.loss, mb.loss);
    cr_assert_eq(ma.accuracy, mb.accuracy);
    cr_assert_eq(ma.test_accuracy, mb.test_accuracy);
    cr_assert(same_params(&a->g, &b->g));
    tg_free(a);
    tg_free(b);
    rt_dataset_free(&tr);
    rt_dataset_free(&te);
}

Test(train, data_fraction_and_other_seed) {
    rt_dataset d;
    synthetic(&d, 1000, 8, 4, 3);
    char err[256];
    tg *a = mlp(8, 16, 4), *b = mlp(8, 16, 4);
    rt_train_cfg cfg = sgd_cfg(1, 32, 0.05);
    cfg.data_fraction = 0.25;
    rt_metrics ma, mb;
    cr_assert_eq(rt_train(&a->g, &cfg, &d, &d, NULL, &ma, err, sizeof err), 0, "%s", err);
    cr_assert_eq(ma.steps, (250 + 31) / 32);
    cr_assert(isnan(ma.test_accuracy));
    cfg.seed = 2;
    cr_assert_eq(rt_train(&b->g, &cfg, &d, &d, NULL, &mb, err, sizeof err), 0, "%s", err);
    cr_assert(!same_params(&a->g, &b->g));
    tg_free(a);
    tg_free(b);
    rt_dataset_free(&d);
}

Test(train, nan_loss_names_the_epoch) {
    rt_dataset d;
    synthetic(&d, 256, 8, 4, 3);
    char err[256] = "";
    tg *t = mlp(8, 16, 4);
    rt_train_cfg cfg = sgd_cfg(3, 32, 1e30);
    rt_metrics m;
    cr_assert_eq(rt_train(&t->g, &cfg, &d, NULL, NULL, &m, err, sizeof err), -1);
    cr_assert(strstr(err, "loss became NaN in epoch 1") || strstr(err, "loss became Inf in epoch 1") ||
                  strstr(err, "weights became NaN or Inf in epoch 1"),
              "%s", err);
    tg_free(t);
    rt_dataset_free(&d);
}

Test(train, mismatched_data_is_refused) {
    rt_dataset d;
    synthetic(&d, 64, 8, 4, 3);
    char err[256] = "";
    tg *t = mlp(10, 16, 4);
    rt_train_cfg cfg = sgd_cfg(1, 32, 0.05);
    rt_metrics m;
    cr_assert_eq(rt_train(&t->g, &cfg, &d, NULL, NULL, &m, err, sizeof err), -1);
    cr_assert(strstr(err, "8 values") && strstr(err, "expects 10"), "%s", err);
    tg_free(t);
    t = mlp(8, 16, 3); /* labels go up to 3 */
    cr_assert_eq(rt_train(&t->g, &cfg, &d, NULL, NULL, &m, err, sizeof err), -1);
    cr_assert(strstr(err, "label 3"), "%s", err);
    tg_free(t);
    rt_dataset_free(&d);
}

static void tmpname(char *buf, size_t cap, const char *tag) {
    snprintf(buf, cap, "/tmp/nasc-rt-train-%s-%d.safetensors", tag, (int)getpid());
}

Test(train, save_load_round_trip_and_wrong_network) {
    rt_dataset d;
    synthetic(&d, 300, 8, 4, 3);
    char err[512], path[128];
    tmpname(path, sizeof path, "rt");
    tg *a = mlp(8, 16, 4);
    rt_train_cfg cfg = sgd_cfg(1, 32, 0.05);
    rt_trainer *tr = rt_trainer_new(&a->g, &cfg, err, sizeof err);
    cr_assert_not_null(tr, "%s", err);
    rt_metrics m;
    cr_assert_eq(rt_trainer_run(tr, &d, NULL, NULL, &m, err, sizeof err), 0, "%s", err);
    cr_assert_eq(rt_save_weights(&a->g, rt_trainer_optim(tr), path, "{\"width\": 16}", 1, err, sizeof err), 0,
                 "%s", err);
    tg *b = mlp(8, 16, 4);
    rt_resume st;
    cr_assert_eq(rt_load_weights(&b->g, path, &st, err, sizeof err), 0, "%s", err);
    cr_assert(same_params(&a->g, &b->g));
    cr_assert_eq(st.epochs, 1);
    cr_assert_eq(st.steps, (300 + 31) / 32);
    cr_assert_str_eq(st.point, "{\"width\": 16}");
    cr_assert_str_eq(st.space, "test");
    cr_assert_eq(st.n, 4); /* one momentum buffer per trainable tensor */
    cr_assert_str_eq(st.names[0], "optim.dense1.weight.momentum");
    float y1[8 * 4], y2[8 * 4];
    cr_assert_eq(rt_forward_eval(&a->g, d.x, y1, 8), 0);
    cr_assert_eq(rt_forward_eval(&b->g, d.x, y2, 8), 0);
    cr_assert_arr_eq(y1, y2, sizeof y1);
    rt_resume_free(&st);

    /* another width: refused with the tensor, both shapes and the file named */
    tg *c = mlp(8, 12, 4);
    cr_assert_eq(rt_load_weights(&c->g, path, NULL, err, sizeof err), -1);
    cr_assert(strstr(err, "does not match this network"), "%s", err);
    cr_assert(strstr(err, "'dense1.weight' has shape [16, 8], expected [12, 8]"), "%s", err);
    cr_assert(strstr(err, path), "%s", err);
    cr_assert_null(c->nodes[1].params[0].data); /* nothing loaded */
    cr_assert_eq(rt_load_weights(&c->g, "/nonexistent/w.safetensors", NULL, err, sizeof err), -1);
    rt_trainer_free(tr);
    unlink(path);
    tg_free(a);
    tg_free(b);
    tg_free(c);
    rt_dataset_free(&d);
}

/* 1 epoch, save, load, resume to 3 epochs == 3 epochs in one go
 * (Nesterov momentum restored, per-epoch shuffles independent of where
 * training started). */
Test(train, resume_matches_uninterrupted) {
    rt_dataset d;
    synthetic(&d, 300, 8, 4, 5);
    char err[512], path[128];
    tmpname(path, sizeof path, "resume");
    tg *full = mlp(8, 16, 4), *half = mlp(8, 16, 4), *res = mlp(8, 16, 4);
    rt_train_cfg cfg = sgd_cfg(3, 32, 0.05);
    cfg.optim.nesterov = 1;
    rt_metrics m;
    cr_assert_eq(rt_train(&full->g, &cfg, &d, NULL, NULL, &m, err, sizeof err), 0, "%s", err);
    rt_train_cfg one = cfg;
    one.epochs = 1;
    rt_trainer *t = rt_trainer_new(&half->g, &one, err, sizeof err);
    cr_assert_not_null(t, "%s", err);
    cr_assert_eq(rt_trainer_run(t, &d, NULL, NULL, &m, err, sizeof err), 0, "%s", err);
    cr_assert_eq(rt_save_weights(&half->g, rt_trainer_optim(t), path, NULL, m.epochs, err, sizeof err), 0,
                 "%s", err);
    rt_trainer_free(t);
    rt_resume st;
    cr_assert_eq(rt_load_weights(&res->g, path, &st, err, sizeof err), 0, "%s", err);
    rt_train_cfg more = cfg;
    more.resume = &st;
    cr_assert_eq(rt_train(&res->g, &more, &d, NULL, NULL, &m, err, sizeof err), 0, "%s", err);
    cr_assert_eq(m.epochs, 3);
    cr_assert_eq(m.steps, 3 * ((300 + 31) / 32));
    cr_assert(same_params(&full->g, &res->g));
    rt_resume_free(&st);
    unlink(path);
    tg_free(full);
    tg_free(half);
    tg_free(res);
    rt_dataset_free(&d);
}

static tg *small_cnn(int width) {
    tg *t = tg_new();
    int x = tg_input(t, 3, 1, 8, 8);
    int c = tg_act(t, tg_bn(t, tg_conv(t, x, width, 3, 1, 1, 1, 1, 0)), ACT_RELU);
    int p = tg_pool(t, IR_MAXPOOL, c, 2, 2, 0);
    int f = tg_flatten(t, p);
    tg_finish(t, tg_dense(t, f, 4, 1));
    return t;
}

Test(train, proxies_at_init) {
    rt_dataset d;
    synthetic(&d, 100, 64, 4, 7);
    d.sample.rank = 3;
    d.sample.d[0] = 1;
    d.sample.d[1] = 8;
    d.sample.d[2] = 8;
    char err[256];
    tg *a = small_cnn(4), *b = small_cnn(16);
    cr_assert_eq(rt_params_init(&a->g, INIT_KAIMING, 1), 0);
    cr_assert_eq(rt_params_init(&b->g, INIT_KAIMING, 1), 0);
    tg *copy = small_cnn(4);
    cr_assert_eq(rt_params_init(&copy->g, INIT_KAIMING, 1), 0);
    double n1, n2, s1, s2;
    cr_assert_eq(rt_proxy_naswot(&a->g, &d, 32, 3, &n1, err, sizeof err), 0, "%s", err);
    cr_assert_eq(rt_proxy_naswot(&a->g, &d, 32, 3, &n2, err, sizeof err), 0, "%s", err);
    cr_assert(isfinite(n1) && n1 > 0.0, "naswot %g", n1);
    cr_assert_eq(n1, n2);
    /* the parameters, running statistics included, are left untouched */
    cr_assert(same_params(&a->g, &copy->g));
    cr_assert_eq(rt_proxy_synflow(&a->g, &s1, err, sizeof err), 0, "%s", err);
    cr_assert_eq(rt_proxy_synflow(&b->g, &s2, err, sizeof err), 0, "%s", err);
    cr_assert(same_params(&a->g, &copy->g));
    cr_assert(s1 > 0.0 && isfinite(s1));
    cr_assert_gt(s2, s1, "synflow grows with width: %g vs %g", s1, s2);
    /* more units -> more agreements to distinguish samples -> larger log det */
    cr_assert_eq(rt_proxy_naswot(&b->g, &d, 32, 3, &n2, err, sizeof err), 0, "%s", err);
    cr_assert_gt(n2, n1);
    tg_free(a);
    tg_free(b);
    tg_free(copy);
    rt_dataset_free(&d);
}

/* SynFlow on a 2-layer linear net equals sum |w2| |w1| ... computed by hand. */
Test(train, synflow_known) {
    tg *t = tg_new();
    int x = tg_input(t, 1, 2, 0, 0);
    int h = tg_dense(t, x, 2, 0);
    tg_finish(t, tg_dense(t, h, 1, 0));
    cr_assert_eq(rt_params_init(&t->g, INIT_KAIMING, 1), 0);
    float w1[4] = {1, -2, 3, 4}, w2[2] = {-1, 2};
    memcpy(t->nodes[1].params[0].data, w1, sizeof w1);
    memcpy(t->nodes[2].params[0].data, w2, sizeof w2);
    /* R = |w2|.|W1|.1 ; sum |theta dR/dtheta| = R per layer: 2 * R */
    double r = 1.0 * (1 + 2) + 2.0 * (3 + 4), s;
    char err[128];
    cr_assert_eq(rt_proxy_synflow(&t->g, &s, err, sizeof err), 0, "%s", err);
    cr_assert_float_eq(s, 2.0 * r, 1e-4);
    tg_free(t);
}
