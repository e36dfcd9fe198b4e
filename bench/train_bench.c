/* train_bench.c: one epoch of MLP-S or CNN-S on Fashion-MNIST with the
 * nasc runtime (SGD lr 0.05 momentum 0.9, batch 128, all 60,000 training
 * images, inputs scaled to [0, 1]); prints samples/s and test accuracy as
 * one JSON line, for bench/run_train_bench.sh to set against PyTorch.
 *   train_bench mlp|cnn THREADS [SEED [unit|standard|augment [PAIR]]]
 * standard: train.normalize = standard (the 60,000 images' mean and std,
 * applied to train and test); augment: that and train.augment = [crop(pad
 * = 4), flip, cutout(16)], for the throughput cost of augmentation;
 * augcost: no training, only the augmentation of every batch of an epoch,
 * in CPU seconds (which other load on the machine does not inflate).
 * PAIR: a file to write the initial weights and the epoch's sample order
 * to, for `train_torch.py ... PAIR` to train from the same start in the
 * same order (a paired comparison: the accuracies then differ only by the
 * implementations, not by the draw of the initial network and order).
 * Like the nasc tool, it re-executes itself with OPENBLAS_CORETYPE set to
 * rt_blas_wanted_coretype() when that variable is unset (OpenBLAS reads it
 * only when it loads); NASC_NO_CORETYPE=1 disables that, to measure
 * OpenBLAS's own choice. */
#define _POSIX_C_SOURCE 200809L /* setenv */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "blas.h"
#include "data.h"
#include "normalize.h"
#include "rt_testgraph.h"
#include "train.h"

static tg *mlp_s(void) {
    tg *t = tg_new();
    int x = tg_input(t, 3, 1, 28, 28);
    int f = tg_flatten(t, x);
    int h = tg_act(t, tg_dense(t, f, 256, 1), ACT_RELU);
    tg_finish(t, tg_dense(t, h, 10, 1));
    return t;
}

static tg *cnn_s(void) {
    tg *t = tg_new();
    int x = tg_input(t, 3, 1, 28, 28);
    int c1 = tg_pool(t, IR_MAXPOOL, tg_act(t, tg_conv(t, x, 16, 3, 1, 1, 1, 1, 1), ACT_RELU), 2, 2, 0);
    int c2 = tg_pool(t, IR_MAXPOOL, tg_act(t, tg_conv(t, c1, 32, 3, 1, 1, 1, 1, 1), ACT_RELU), 2, 2, 0);
    int f = tg_flatten(t, c2);
    int h = tg_act(t, tg_dense(t, f, 128, 1), ACT_RELU);
    tg_finish(t, tg_dense(t, h, 10, 1));
    return t;
}

/* PAIR file: int64 tensor count; per parameter (node order, then
 * parameter order: PyTorch's nn.Sequential order) int64 numel and the
 * float32 values; int64 n and the n int64 sample indices of epoch 1. */
static int write_pair(const char *path, ir_graph *g, const rt_train_cfg *cfg, int64_t n) {
    if (rt_params_init(g, cfg->init, cfg->seed)) return -1;
    int64_t *idx = malloc(sizeof(int64_t) * (size_t)n), count = 0;
    FILE *f = fopen(path, "wb");
    if (!idx || !f) {
        free(idx);
        if (f) fclose(f);
        return -1;
    }
    for (int i = 0; i < g->n_nodes; i++) count += g->nodes[i].n_params;
    fwrite(&count, sizeof count, 1, f);
    for (int i = 0; i < g->n_nodes; i++)
        for (int p = 0; p < g->nodes[i].n_params; p++) {
            int64_t k = ir_shape_numel(&g->nodes[i].params[p].shape);
            fwrite(&k, sizeof k, 1, f);
            fwrite(g->nodes[i].params[p].data, sizeof(float), (size_t)k, f);
        }
    /* the order run_epoch (runtime/train.c) draws for epoch 1 of the whole set */
    for (int64_t i = 0; i < n; i++) idx[i] = i;
    nasc_rng r;
    nasc_rng_seed(&r, cfg->seed * 0x9E3779B97F4A7C15ull + 1u);
    rt_shuffle(&r, idx, n);
    fwrite(&n, sizeof n, 1, f);
    size_t put = fwrite(idx, sizeof(int64_t), (size_t)n, f);
    free(idx);
    return fclose(f) || put != (size_t)n ? -1 : 0;
}

static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The augmentation alone over one epoch of batches of 128, as the trainer
 * runs it (gather, then augment in place). */
static int aug_cost(const rt_dataset *tr, uint64_t seed) {
    rt_augment a = {3, {{RT_AUG_CROP, 4}, {RT_AUG_FLIP, 0}, {RT_AUG_CUTOUT, 16}}};
    int64_t in = ir_shape_numel(&tr->sample);
    float *xb = malloc(sizeof(float) * (size_t)(128 * in)), *tmp = malloc(sizeof(float) * (size_t)in);
    ir_input_norm none = {0};
    double t0 = cpu_now(), sum = 0;
    for (int64_t b = 0; b < tr->n; b += 128) {
        int m = tr->n - b < 128 ? (int)(tr->n - b) : 128;
        memcpy(xb, tr->x + b * in, sizeof(float) * (size_t)(m * in));
        rt_augment_batch(&a, &tr->sample, &none, xb, m, seed + (uint64_t)b, tmp);
        sum += xb[0];
    }
    double dt = cpu_now() - t0;
    printf("{\"impl\": \"nasc\", \"mode\": \"augcost\", \"aug_samples_per_cpu_s\": %.1f, \"check\": %g}\n",
           (double)tr->n / dt, sum);
    free(xb);
    free(tmp);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 3 || (strcmp(argv[1], "mlp") && strcmp(argv[1], "cnn"))) {
        fprintf(stderr, "usage: train_bench mlp|cnn THREADS [SEED [unit|standard|augment|augcost [PAIR]]]\n");
        return 2;
    }
    const char *want = rt_blas_wanted_coretype();
    if (!getenv("OPENBLAS_CORETYPE") && !getenv("NASC_NO_CORETYPE") && want) {
        setenv("OPENBLAS_CORETYPE", want, 1);
        execv("/proc/self/exe", argv);
        /* if exec fails, carry on with OpenBLAS's own choice */
    }
    int threads = atoi(argv[2]);
    uint64_t seed = argc > 3 ? strtoull(argv[3], NULL, 10) : 1;
    rt_dataset tr, te;
    char err[512];
    if (rt_load_fashion_mnist(NULL, &tr, &te, err, sizeof err)) {
        fprintf(stderr, "train_bench: %s\n", err);
        return 1;
    }
    const char *mode = argc > 4 ? argv[4] : "unit";
    if (!strcmp(mode, "augcost")) return aug_cost(&tr, seed);
    tg *t = !strcmp(argv[1], "mlp") ? mlp_s() : cnn_s();
    if (strcmp(mode, "unit")) { /* as recipe.c does: fit on the training set, apply to both */
        if (rt_norm_fit(&tr, &t->g.norm, err, sizeof err) ||
            rt_norm_apply(&t->g.norm, ir_shape_numel(&tr.sample), tr.x, tr.n, err, sizeof err) ||
            rt_norm_apply(&t->g.norm, ir_shape_numel(&te.sample), te.x, te.n, err, sizeof err)) {
            fprintf(stderr, "train_bench: %s\n", err);
            return 1;
        }
    }
    rt_train_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.epochs = 1;
    cfg.batch = 128;
    cfg.optim.kind = OPT_SGD;
    cfg.optim.lr = 0.05;
    cfg.optim.momentum = 0.9;
    cfg.sched.kind = SCHED_CONSTANT;
    cfg.seed = seed;
    cfg.threads = threads;
    if (!strcmp(mode, "augment"))
        cfg.augment = (rt_augment){3, {{RT_AUG_CROP, 4}, {RT_AUG_FLIP, 0}, {RT_AUG_CUTOUT, 16}}};
    if (argc > 5 && write_pair(argv[5], &t->g, &cfg, tr.n)) {
        fprintf(stderr, "train_bench: cannot write %s\n", argv[5]);
        return 1;
    }
    rt_metrics m;
    if (rt_train(&t->g, &cfg, &tr, NULL, &te, &m, err, sizeof err)) {
        fprintf(stderr, "train_bench: %s\n", err);
        return 1;
    }
    printf("{\"impl\": \"nasc\", \"net\": \"%s\", \"mode\": \"%s\", \"threads\": %d, \"core\": \"%s\", "
           "\"samples_per_s\": %.1f, \"train_time\": %.3f, \"test_accuracy\": %.4f, \"loss\": %.4f}\n",
           argv[1], mode, threads, rt_blas_corename(), (double)tr.n / m.train_time, m.train_time,
           m.test_accuracy, m.loss);
    tg_free(t);
    rt_dataset_free(&tr);
    rt_dataset_free(&te);
    return 0;
}
