/* int8_bench.c: int8 vs fp32 inference speed of JIT-compiled MLP-S and
 * CNN-S (bench/README-int8.md), both compiled at -O3 in this process and
 * timed alternately, round after round, so both see the same machine.
 *
 * Per net it prints one JSON line: median batch-1 latency (wall and the
 * thread's CPU time, which preemption on a loaded machine does not
 * inflate), median batch-256 throughput (wall and CPU), each for fp32 and
 * int8, and the ratios.  Weights are Kaiming-random and the int8 build is
 * calibrated on 256 random inputs: speed does not depend on the values
 * (accuracy is measured on trained weights by bench/int8_bench.sh).
 * Build: make -f bench/int8.mk BUILD=build.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "calib.h"
#include "codegen.h"
#include "exec.h"
#include "rt_testgraph.h"

static double clock_ms(clockid_t id) {
    struct timespec t;
    clock_gettime(id, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}
static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return v[n / 2];
}

static tg *mlp_s(void) {
    tg *t = tg_new();
    int x = tg_flatten(t, tg_input(t, 3, 1, 28, 28));
    x = tg_act(t, tg_dense(t, x, 256, 1), ACT_RELU);
    tg_finish(t, tg_dense(t, x, 10, 1));
    return t;
}
static tg *cnn_s(void) {
    tg *t = tg_new();
    int x = tg_input(t, 3, 1, 28, 28);
    x = tg_pool(t, IR_MAXPOOL, tg_act(t, tg_conv(t, x, 16, 3, 1, 1, 1, 1, 1), ACT_RELU), 2, 2, 0);
    x = tg_pool(t, IR_MAXPOOL, tg_act(t, tg_conv(t, x, 32, 3, 1, 1, 1, 1, 1), ACT_RELU), 2, 2, 0);
    x = tg_act(t, tg_dense(t, tg_flatten(t, x), 128, 1), ACT_RELU);
    tg_finish(t, tg_dense(t, x, 10, 1));
    return t;
}

static float *inputs(int64_t n) {
    float *x = malloc((size_t)n * sizeof(float));
    uint64_t s = 12345;
    for (int64_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        x[i] = (float)((s >> 40) & 0xffff) / 65536.0f;
    }
    return x;
}

typedef struct calib_in {
    const float *x;
    int64_t n;
} calib_in;
static int calibrate(void *ctx, const ir_graph *g, float *amin, float *amax, char *err, size_t cap) {
    const calib_in *c = ctx;
    return rt_calib_ranges(g, c->x, c->n, amin, amax, err, cap);
}

/* ms per call (wall, cpu) of `inner` calls at batch b. */
static void timed(cg_jit *j, const float *x, float *y, int64_t b, int inner, double *wall, double *cpu) {
    double w0 = clock_ms(CLOCK_MONOTONIC), c0 = clock_ms(CLOCK_THREAD_CPUTIME_ID);
    for (int i = 0; i < inner; i++) cg_jit_run(j, x, y, b);
    *cpu = (clock_ms(CLOCK_THREAD_CPUTIME_ID) - c0) / inner;
    *wall = (clock_ms(CLOCK_MONOTONIC) - w0) / inner;
}

static void bench_net(const char *name, tg *t, int rounds) {
    ir_graph *g = &t->g;
    if (rt_params_init(g, INIT_KAIMING, 1)) exit(1);
    int64_t in = ir_shape_numel(&g->nodes[g->input].shape), out = ir_shape_numel(&g->nodes[g->output].shape);
    const int64_t B = 256;
    float *x = inputs(B * in), *y = malloc((size_t)(B * out) * sizeof(float));
    calib_in ci = {x, B};
    ps_opts po = {.quant = PS_QUANT_INT8, .calibrate = calibrate, .calib_ctx = &ci};
    cg_compile_opts o32 = {.opt_level = 3}, o8 = {.opt_level = 3, .passes = &po};
    char err[512];
    cg_jit *j[2] = {cg_jit_compile_ex(g, &o32, err, sizeof err), cg_jit_compile_ex(g, &o8, err, sizeof err)};
    if (!j[0] || !j[1]) {
        fprintf(stderr, "int8_bench: %s\n", err);
        exit(1);
    }
    double w1, c1;
    timed(j[0], x, y, 1, 50, &w1, &c1);
    int inner = (int)(5.0 / (c1 > 1e-4 ? c1 : 1e-4)) + 1; /* ~5 ms of batch-1 calls per group */
    double lw[2][64], lc[2][64], tw[2][64], tc[2][64];
    for (int r = 0; r < rounds; r++)
        for (int k = 0; k < 2; k++) {
            timed(j[k], x, y, 1, inner, &lw[k][r], &lc[k][r]);
            timed(j[k], x, y, B, 3, &tw[k][r], &tc[k][r]);
        }
    double L[2][2], T[2][2];
    for (int k = 0; k < 2; k++) {
        L[k][0] = median(lw[k], rounds) * 1e3;
        L[k][1] = median(lc[k], rounds) * 1e3;
        T[k][0] = B / median(tw[k], rounds) * 1e3;
        T[k][1] = B / median(tc[k], rounds) * 1e3;
    }
    printf("{\"net\": \"%s\", \"rounds\": %d, \"b1_us_wall\": [%.2f, %.2f], \"b1_us_cpu\": [%.2f, %.2f], "
           "\"b256_per_s_wall\": [%.0f, %.0f], \"b256_per_s_cpu\": [%.0f, %.0f], "
           "\"b1_speedup_wall\": %.2f, \"b1_speedup_cpu\": %.2f, \"b256_speedup_wall\": %.2f, "
           "\"b256_speedup_cpu\": %.2f}\n",
           name, rounds, L[0][0], L[1][0], L[0][1], L[1][1], T[0][0], T[1][0], T[0][1], T[1][1],
           L[0][0] / L[1][0], L[0][1] / L[1][1], T[1][0] / T[0][0], T[1][1] / T[0][1]);
    fflush(stdout);
    cg_jit_free(j[0]);
    cg_jit_free(j[1]);
    free(x);
    free(y);
    rt_params_free(g);
}

int main(int argc, char **argv) {
    int rounds = 21;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--net") && i + 1 < argc)
            only = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--rounds N (1..64)] [--net mlp_s|cnn_s]\n", argv[0]);
            return 2;
        }
    }
    if (rounds < 1 || rounds > 64) rounds = 21;
    if (!only || !strcmp(only, "mlp_s")) {
        tg *t = mlp_s();
        bench_net("mlp_s", t, rounds);
        tg_free(t);
    }
    if (!only || !strcmp(only, "cnn_s")) {
        tg *t = cnn_s();
        bench_net("cnn_s", t, rounds);
        tg_free(t);
    }
    return 0;
}
