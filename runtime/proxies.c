/* proxies.c: training-free scores of a network at initialisation (see
 * train.h): NASWOT (Mellor et al. 2021) and SynFlow (Tanaka et al. 2020).
 * Both leave the graph's parameters exactly as they found them, so a
 * trial can compute them and then train from the same initialisation. */
#include <cblas.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "err.h"
#include "train.h"

/* A copy of every parameter tensor of g, to restore after a proxy. */
static float **save_params(const ir_graph *g) {
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++) n += g->nodes[i].n_params;
    float **s = calloc((size_t)n + 1, sizeof *s);
    if (!s) return NULL;
    int k = 0;
    for (int i = 0; i < g->n_nodes; i++)
        for (int p = 0; p < g->nodes[i].n_params; p++, k++) {
            const ir_param *pr = &g->nodes[i].params[p];
            size_t bytes = sizeof(float) * (size_t)ir_shape_numel(&pr->shape);
            if (!(s[k] = malloc(bytes ? bytes : 1))) {
                for (int j = 0; j < k; j++) free(s[j]);
                free(s);
                return NULL;
            }
            memcpy(s[k], pr->data, bytes);
        }
    return s;
}

static void restore_params(ir_graph *g, float **s) {
    int k = 0;
    for (int i = 0; i < g->n_nodes; i++)
        for (int p = 0; p < g->nodes[i].n_params; p++, k++) {
            ir_param *pr = &g->nodes[i].params[p];
            memcpy(pr->data, s[k], sizeof(float) * (size_t)ir_shape_numel(&pr->shape));
            free(s[k]);
        }
    free(s);
}

/* log|det A| of an n x n matrix (destroyed) by LU with partial pivoting. */
static double logabsdet(double *a, int n) {
    double s = 0.0;
    for (int c = 0; c < n; c++) {
        int piv = c;
        for (int r = c + 1; r < n; r++)
            if (fabs(a[r * n + c]) > fabs(a[piv * n + c])) piv = r;
        if (a[piv * n + c] == 0.0) return -INFINITY;
        if (piv != c)
            for (int k = 0; k < n; k++) {
                double t = a[c * n + k];
                a[c * n + k] = a[piv * n + k];
                a[piv * n + k] = t;
            }
        double d = a[c * n + c];
        s += log(fabs(d));
        for (int r = c + 1; r < n; r++) {
            double f = a[r * n + c] / d;
            if (f == 0.0) continue;
            for (int k = c; k < n; k++) a[r * n + k] -= f * a[c * n + k];
        }
    }
    return s;
}

/* Adds the agreement counts of one layer's codes to K:
 * K_ij += 2 c_i.c_j - |c_i| - |c_j| + U (c binary, U units). */
static int add_codes(const float *v, int b, int64_t units, double *k) {
    float *c = calloc((size_t)(b * units), sizeof(float));
    float *gram = malloc(sizeof(float) * (size_t)b * (size_t)b);
    double *ones = malloc(sizeof(double) * (size_t)b);
    if (!c || !gram || !ones) {
        free(c);
        free(gram);
        free(ones);
        return -1;
    }
    for (int i = 0; i < b; i++) {
        double cnt = 0.0;
        for (int64_t u = 0; u < units; u++) {
            c[i * units + u] = v[i * units + u] > 0.0f ? 1.0f : 0.0f;
            cnt += c[i * units + u];
        }
        ones[i] = cnt;
    }
    /* Counts stay exact in float for up to 2^24 units per layer. */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, b, b, (int)units, 1.0f, c, (int)units, c, (int)units,
                0.0f, gram, b);
    for (int i = 0; i < b; i++)
        for (int j = 0; j < b; j++) k[i * b + j] += 2.0 * gram[i * b + j] - ones[i] - ones[j] + (double)units;
    free(c);
    free(gram);
    free(ones);
    return 0;
}

static int codes_of_graph(ir_graph *g, rt_exec *e, int b, double *k) {
    int any = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const ir_node *n = &g->nodes[i];
        if (n->op != IR_ACT || n->act == ACT_IDENTITY) continue;
        any = 1;
        if (add_codes(rt_exec_node_output(e, n->in[0]), b, ir_shape_numel(&g->nodes[n->in[0]].shape), k))
            return -1;
    }
    if (!any &&
        add_codes(rt_exec_node_output(e, g->output), b, ir_shape_numel(&g->nodes[g->output].shape), k))
        return -1;
    return 0;
}

int rt_proxy_naswot(ir_graph *g, const rt_dataset *d, int batch, uint64_t seed, double *score, char *err,
                    size_t errcap) {
    if (!g || !d || !score) return err_set(err, errcap, "naswot: missing argument");
    if (rt_exec_check(g, err, errcap)) return -1;
    int64_t in = ir_shape_numel(&g->nodes[g->input].shape);
    if (d->n <= 0 || !d->x || ir_shape_numel(&d->sample) != in)
        return err_set(err, errcap,
                       "naswot: the data set does not fit the network input (%lld values per sample)",
                       (long long)in);
    int b = batch > 0 ? batch : 64;
    if (b > d->n) b = (int)d->n;
    int64_t *idx = malloc(sizeof(int64_t) * (size_t)d->n);
    float *x = malloc(sizeof(float) * (size_t)(b * in));
    double *k = calloc((size_t)b * (size_t)b, sizeof(double));
    float **saved = save_params(g);
    rt_exec *e = rt_exec_new(g, b, seed);
    int rc = -1;
    if (!idx || !x || !k || !saved || !e) {
        err_set(err, errcap, "naswot: out of memory");
        goto out;
    }
    for (int64_t i = 0; i < d->n; i++) idx[i] = i;
    nasc_rng r;
    nasc_rng_seed(&r, seed);
    rt_shuffle(&r, idx, d->n);
    for (int i = 0; i < b; i++) memcpy(x + (int64_t)i * in, d->x + idx[i] * in, sizeof(float) * (size_t)in);
    rt_exec_forward(e, x, b, 1);
    if (codes_of_graph(g, e, b, k)) {
        err_set(err, errcap, "naswot: out of memory");
        goto out;
    }
    *score = logabsdet(k, b);
    rc = 0;
out:
    if (saved) restore_params(g, saved); /* undo the running-statistics update */
    rt_exec_free(e);
    free(idx);
    free(x);
    free(k);
    return rc;
}

int rt_proxy_synflow(ir_graph *g, double *score, char *err, size_t errcap) {
    if (!g || !score) return err_set(err, errcap, "synflow: missing argument");
    if (rt_exec_check(g, err, errcap)) return -1;
    float **saved = save_params(g);
    rt_exec *e = rt_exec_new(g, 1, 0);
    int64_t in = ir_shape_numel(&g->nodes[g->input].shape), out = ir_shape_numel(&g->nodes[g->output].shape);
    float *x = malloc(sizeof(float) * (size_t)in), *dy = malloc(sizeof(float) * (size_t)out);
    int rc = -1;
    if (!saved || !e || !x || !dy) {
        err_set(err, errcap, "synflow: out of memory");
        goto out;
    }
    for (int i = 0; i < g->n_nodes; i++)
        for (int p = 0; p < g->nodes[i].n_params; p++) {
            ir_param *pr = &g->nodes[i].params[p];
            for (int64_t q = 0; q < ir_shape_numel(&pr->shape); q++) pr->data[q] = fabsf(pr->data[q]);
        }
    for (int64_t i = 0; i < in; i++) x[i] = 1.0f;
    for (int64_t i = 0; i < out; i++) dy[i] = 1.0f;
    rt_exec_forward(e, x, 1, 0);
    rt_exec_backward_from(e, dy, 1);
    float **params, **grads;
    int64_t *sizes;
    ir_param **meta;
    int nt = rt_exec_trainables(e, &params, &grads, &sizes, &meta);
    double s = 0.0;
    for (int t = 0; t < nt; t++) {
        if (meta[t]->role != PARAM_WEIGHT || meta[t]->shape.rank < 2) continue; /* dense/conv weights */
        for (int64_t q = 0; q < sizes[t]; q++) s += fabs((double)params[t][q] * (double)grads[t][q]);
    }
    *score = s;
    rc = 0;
out:
    if (saved) restore_params(g, saved);
    rt_exec_free(e);
    free(x);
    free(dy);
    return rc;
}
