/* infer_bench.c: inference speed of JIT-compiled models (the C half of the
 * side-by-side comparison with PyTorch; bench/infer_torch.py runs this
 * program and PyTorch in the same run, with the same weights and threads).
 *
 * For MLP-S, MLP-L and CNN-S (defined in bench/README-infer.md)
 * it writes the weights (raw float32, parameters in node order, PyTorch
 * layouts) and a few reference inputs/outputs into --out DIR, then prints
 * one JSON object per line: compile times at the search level and at O3,
 * median batch-1 latency, batch-1024 time; and the machine's sgemm peak
 * (1024^3, cblas_sgemm, same threads).  Build: see bench/README-infer.md.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "codegen.h"
#include "exec.h"
#include "rt_testgraph.h"

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
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

static tg *mlp(int hidden, int layers) {
    tg *t = tg_new();
    int x = tg_flatten(t, tg_input(t, 3, 1, 28, 28));
    for (int i = 0; i < layers; i++) x = tg_act(t, tg_dense(t, x, hidden, 1), ACT_RELU);
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

static int write_floats(const char *dir, const char *net, const char *ext, const float *v, int64_t n) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s.%s", dir, net, ext);
    FILE *f = fopen(p, "wb");
    if (!f || fwrite(v, sizeof(float), (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "infer_bench: cannot write %s\n", p);
        if (f) fclose(f);
        return -1;
    }
    return fclose(f);
}

static int export_params(const ir_graph *g, const char *dir, const char *net) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s.params", dir, net);
    FILE *f = fopen(p, "wb");
    if (!f) return -1;
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i].n_params; k++) {
            const ir_param *q = &g->nodes[i].params[k];
            fwrite(q->data, sizeof(float), (size_t)ir_shape_numel(&q->shape), f);
        }
    return fclose(f);
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

static double compile_ms(const ir_graph *g, int lvl, int reps, double *cpu) {
    double t[32], u[32];
    char err[512];
    for (int r = 0; r < reps; r++) {
        double a = now_ms();
        cg_jit *j = cg_jit_compile(g, lvl, err, sizeof err);
        t[r] = now_ms() - a;
        if (!j) {
            fprintf(stderr, "infer_bench: %s\n", err);
            exit(1);
        }
        u[r] = cg_jit_compile_cpu_ms(j);
        cg_jit_free(j);
    }
    *cpu = median(u, reps);
    return median(t, reps);
}

/* Median ms per call over reps timed groups of `inner` calls. */
static double time_run(cg_jit *j, const float *x, float *y, int64_t batch, int reps, int inner) {
    double t[64];
    for (int r = 0; r < reps; r++) {
        double a = now_ms();
        for (int i = 0; i < inner; i++) cg_jit_run(j, x, y, batch);
        t[r] = (now_ms() - a) / inner;
    }
    return median(t, reps);
}

static void bench_net(const char *name, tg *t, const char *dir, int quick) {
    ir_graph *g = &t->g;
    if (rt_params_init(g, INIT_KAIMING, 1)) {
        fprintf(stderr, "infer_bench: init failed\n");
        exit(1);
    }
    int64_t in = ir_shape_numel(&g->nodes[g->input].shape), out = ir_shape_numel(&g->nodes[g->output].shape);
    const int64_t B = 1024, NREF = 4;
    float *x = inputs(B * in), *y = malloc((size_t)(B * out) * sizeof(float));
    char err[512];
    double u_search, u_o3;
    double c_search = compile_ms(g, CG_OPT_SEARCH, quick ? 3 : 11, &u_search),
           c_o3 = compile_ms(g, 3, quick ? 1 : 5, &u_o3);
    cg_jit *j = cg_jit_compile(g, 3, err, sizeof err);
    if (!j) {
        fprintf(stderr, "infer_bench: %s\n", err);
        exit(1);
    }
    cg_jit_run(j, x, y, NREF);
    if (dir && (export_params(g, dir, name) || write_floats(dir, name, "in", x, NREF * in) ||
                write_floats(dir, name, "out", y, NREF * out)))
        exit(1);
    double one = time_run(j, x, y, 1, 1, 20);
    int inner = (int)(20.0 / one) + 1; /* ~20 ms per group */
    double b1 = time_run(j, x, y, 1, quick ? 5 : 21, inner);
    double big = time_run(j, x, y, B, quick ? 3 : 9, 1);
    /* search-level code too: what the latency metric measures during search */
    cg_jit *js = cg_jit_compile(g, CG_OPT_SEARCH, err, sizeof err);
    double b1s = js ? time_run(js, x, y, 1, quick ? 5 : 21, inner) : 0;
    cg_jit_free(js);
    printf("{\"net\": \"%s\", \"compile_ms_search\": %.3f, \"compile_cpu_ms_search\": %.3f, "
           "\"compile_ms_o3\": %.3f, "
           "\"compile_cpu_ms_o3\": %.3f, \"latency_us_b1\": %.3f, "
           "\"latency_us_b1_search\": %.3f, \"ms_b1024\": %.3f, \"samples_per_s_b1024\": %.0f, \"mflop\": "
           "%.4f}\n",
           name, c_search, u_search, c_o3, u_o3, b1 * 1e3, b1s * 1e3, big, B / big * 1e3,
           (double)g->flops * 1e-6);
    fflush(stdout);
    cg_jit_free(j);
    free(x);
    free(y);
}

static void sgemm_peak(void) {
    const int n = 1024;
    float *a = inputs((int64_t)n * n), *b = inputs((int64_t)n * n), *c = calloc((size_t)n * n, sizeof(float));
    double best = 1e9;
    for (int r = 0; r < 8; r++) {
        double t0 = now_ms();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        double t = now_ms() - t0;
        if (t < best) best = t;
    }
    printf("{\"sgemm_1024_gflops\": %.1f, \"openblas_core\": \"%s\", \"threads\": %d}\n",
           2.0 * n * n * n / (best * 1e-3) * 1e-9, openblas_get_corename(), openblas_get_num_threads());
    free(a);
    free(b);
    free(c);
}

int main(int argc, char **argv) {
    const char *dir = NULL, *only = NULL;
    int threads = 1, quick = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--out") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--net") && i + 1 < argc)
            only = argv[++i];
        else if (!strcmp(argv[i], "--quick"))
            quick = 1;
        else {
            fprintf(stderr, "usage: %s [--out DIR] [--threads N] [--net mlp_s|mlp_l|cnn_s] [--quick]\n",
                    argv[0]);
            return 2;
        }
    }
    openblas_set_num_threads(threads < 1 ? 1 : threads);
    sgemm_peak();
    const char *names[3] = {"mlp_s", "mlp_l", "cnn_s"};
    for (int i = 0; i < 3; i++) {
        if (only && strcmp(only, names[i])) continue;
        tg *t = i == 0 ? mlp(256, 1) : i == 1 ? mlp(1024, 2) : cnn_s();
        bench_net(names[i], t, dir, quick);
        tg_free(t);
    }
    return 0;
}
