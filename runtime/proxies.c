/* proxies.c: the training-free proxies of proxies.h, each on one batch at
 * initialisation.  Each proxy starts from the saved initial parameters and
 * they are restored at the end, so the proxies are independent of each
 * other and of their order, and training starts from the same weights. */
#include "proxies.h"
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "exec.h"
#include "err.h"

static const char *const px_names[RT_PX_COUNT] = {"grad_norm", "snip",   "grasp", "fisher",  "jacov",
                                                  "synflow",   "naswot", "zen",   "l2_norm", "plain"};

const char *rt_proxy_name(int id) { return id >= 0 && id < RT_PX_COUNT ? px_names[id] : NULL; }

int rt_proxy_find(const char *name) {
    for (int i = 0; name && i < RT_PX_COUNT; i++)
        if (!strcmp(px_names[i], name)) return i;
    return -1;
}

/* ---- saving and restoring the initial parameters ---- */

typedef struct px_saved {
    int n;
    float **data;
} px_saved;

static int param_count(const ir_graph *g) {
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++) n += g->nodes[i].n_params;
    return n;
}

static void saved_free(px_saved *s) {
    for (int k = 0; s->data && k < s->n; k++) free(s->data[k]);
    free(s->data);
    s->data = NULL;
}

static int saved_take(const ir_graph *g, px_saved *s) {
    s->n = param_count(g);
    if (!(s->data = calloc((size_t)s->n + 1, sizeof *s->data))) return -1;
    int k = 0;
    for (int i = 0; i < g->n_nodes; i++)
        for (int p = 0; p < g->nodes[i].n_params; p++, k++) {
            const ir_param *pr = &g->nodes[i].params[p];
            size_t bytes = sizeof(float) * (size_t)ir_shape_numel(&pr->shape);
            if (!pr->data || !(s->data[k] = malloc(bytes ? bytes : 1))) {
                saved_free(s);
                return -1;
            }
            memcpy(s->data[k], pr->data, bytes);
        }
    return 0;
}

static void saved_put(ir_graph *g, const px_saved *s) {
    int k = 0;
    for (int i = 0; i < g->n_nodes; i++)
        for (int p = 0; p < g->nodes[i].n_params; p++, k++) {
            ir_param *pr = &g->nodes[i].params[p];
            memcpy(pr->data, s->data[k], sizeof(float) * (size_t)ir_shape_numel(&pr->shape));
        }
}

/* ---- the shared context: one batch of data and an executor ---- */

typedef struct px_ctx {
    ir_graph *g;
    int b;      /* batch */
    int64_t in; /* input values per sample */
    float *x;   /* [b, in] */
    int32_t *y; /* [b] labels, or NULL when the data set has none */
    uint64_t seed;
    rt_exec *e;
    char *why; /* the current proxy's reason slot (96 bytes) */
} px_ctx;

/* Records why the current proxy is missing; returns 1 (missing). */
static int missing(px_ctx *c, const char *fmt, const char *arg) {
    snprintf(c->why, 96, fmt, arg ? arg : "");
    return 1;
}

/* A dense or conv weight: what the gradient proxies score (as the
 * reference code of Abdelfattah et al. does: nn.Linear and nn.Conv2d). */
static int is_weight(const ir_param *p) { return p->role == PARAM_WEIGHT && p->shape.rank >= 2; }

static int n_weights(rt_exec *e) {
    ir_param **meta;
    int nt = rt_exec_trainables(e, NULL, NULL, NULL, &meta), k = 0;
    for (int t = 0; t < nt; t++) k += is_weight(meta[t]);
    return k;
}

/* Forward (train mode, as the reference code) and backward of the mean
 * cross-entropy of the batch. */
static int loss_grads(px_ctx *c) {
    if (!c->y) return missing(c, "the data set has no labels", NULL);
    rt_exec_forward(c->e, c->x, c->b, 1);
    float l = rt_exec_loss(c->e, c->y, c->b, NULL);
    if (!isfinite(l)) return missing(c, "the loss at initialisation is not finite", NULL);
    rt_exec_backward(c->e, c->b);
    return 0;
}

enum { SUM_GRAD_NORM, SUM_SNIP, SUM_PLAIN, SUM_L2 };

/* Sums over the dense/conv weights: ||g||, |w g|, w g or ||w||. */
static double weight_sum(rt_exec *e, int kind) {
    float **w, **gr;
    int64_t *sz;
    ir_param **meta;
    int nt = rt_exec_trainables(e, &w, &gr, &sz, &meta);
    double s = 0.0;
    for (int t = 0; t < nt; t++) {
        if (!is_weight(meta[t])) continue;
        double part = 0.0;
        for (int64_t q = 0; q < sz[t]; q++) {
            double a = w[t][q], g = kind == SUM_L2 ? 0.0 : gr[t][q];
            part += kind == SUM_GRAD_NORM ? g * g
                    : kind == SUM_SNIP    ? fabs(a * g)
                    : kind == SUM_PLAIN   ? a * g
                                          : a * a;
        }
        s += kind == SUM_GRAD_NORM || kind == SUM_L2 ? sqrt(part) : part;
    }
    return s;
}

static int px_grad(px_ctx *c, int kind, double *v) {
    if (kind != SUM_L2) {
        int m = loss_grads(c);
        if (m) return m;
    }
    *v = weight_sum(c->e, kind);
    return 0;
}

/* GraSP: -sum w * (H g), g = dL/dw over the dense/conv weights.  H g by a
 * central difference of the gradient along g: (grad(w + h g) - grad(w -
 * h g)) / 2h, with h such that the step has norm 1e-2. */
static int px_grasp(px_ctx *c, double *v) {
    int m = loss_grads(c);
    if (m) return m;
    float **w, **gr;
    int64_t *sz;
    ir_param **meta;
    int nt = rt_exec_trainables(c->e, &w, &gr, &sz, &meta);
    float **g0 = calloc((size_t)nt + 1, sizeof *g0), **gp = calloc((size_t)nt + 1, sizeof *gp);
    int rc = -1;
    double gn = 0.0;
    if (!g0 || !gp) goto out;
    for (int t = 0; t < nt; t++) {
        if (!is_weight(meta[t])) continue;
        if (!(g0[t] = malloc(sizeof(float) * (size_t)sz[t])) ||
            !(gp[t] = malloc(sizeof(float) * (size_t)sz[t])))
            goto out;
        memcpy(g0[t], gr[t], sizeof(float) * (size_t)sz[t]);
        for (int64_t q = 0; q < sz[t]; q++) gn += (double)g0[t][q] * g0[t][q];
    }
    if (!(gn > 0.0)) {
        rc = missing(c, "the loss gradient is zero", NULL);
        goto out;
    }
    double h = 1e-2 / sqrt(gn);
    for (int pass = 0; pass < 2; pass++) {
        double sgn = pass ? -1.0 : 1.0;
        for (int t = 0; t < nt; t++)
            if (g0[t])
                for (int64_t q = 0; q < sz[t]; q++) w[t][q] += (float)(sgn * h * g0[t][q]);
        rt_exec_forward(c->e, c->x, c->b, 1);
        rt_exec_loss(c->e, c->y, c->b, NULL);
        rt_exec_backward(c->e, c->b);
        for (int t = 0; t < nt; t++)
            if (g0[t])
                for (int64_t q = 0; q < sz[t]; q++) {
                    w[t][q] -= (float)(sgn * h * g0[t][q]); /* back to w (up to rounding: restored after) */
                    if (pass)
                        gp[t][q] -= gr[t][q];
                    else
                        gp[t][q] = gr[t][q];
                }
    }
    double s = 0.0;
    for (int t = 0; t < nt; t++)
        if (g0[t])
            for (int64_t q = 0; q < sz[t]; q++) s -= (double)w[t][q] * ((double)gp[t][q] / (2.0 * h));
    *v = s;
    rc = 0;
out:
    for (int t = 0; t < nt && g0; t++) free(g0[t]);
    for (int t = 0; t < nt && gp; t++) free(gp[t]);
    free(g0);
    free(gp);
    return rc;
}

/* Fisher: at every dense/conv output z (before its activation, as the
 * reference code hooks it), per channel 0.5 * mean over the batch of
 * (sum over positions of z * dL/dz)^2, summed over channels and layers. */
static int px_fisher(px_ctx *c, double *v) {
    int m = loss_grads(c);
    if (m) return m;
    double s = 0.0;
    for (int i = 0; i < c->g->n_nodes; i++) {
        const ir_node *n = &c->g->nodes[i];
        if (n->op != IR_DENSE && n->op != IR_CONV2D && n->op != IR_CONV1D) continue;
        const float *z = rt_exec_node_output(c->e, i), *dz = rt_exec_node_grad(c->e, i);
        if (!z || !dz) continue;
        int64_t numel = ir_shape_numel(&n->shape), ch = n->shape.d[0], inner = numel / ch;
        for (int64_t k = 0; k < ch; k++) {
            double acc = 0.0;
            for (int j = 0; j < c->b; j++) {
                double d = 0.0;
                for (int64_t p = 0; p < inner; p++) {
                    int64_t at = (int64_t)j * numel + k * inner + p;
                    d += (double)z[at] * dz[at];
                }
                acc += d * d;
            }
            s += 0.5 * acc / c->b;
        }
    }
    *v = s;
    return 0;
}

/* Eigenvalues of the symmetric n x n matrix a (destroyed) by cyclic Jacobi
 * rotations, into ev. */
static void sym_eigenvalues(double *a, int n, double *ev) {
    for (int sweep = 0; sweep < 100; sweep++) {
        double off = 0.0, diag = 0.0;
        for (int p = 0; p < n; p++)
            for (int q = 0; q < n; q++) {
                double sq = a[p * n + q] * a[p * n + q];
                if (p == q)
                    diag += sq;
                else
                    off += sq;
            }
        if (off <= 1e-22 * (diag > 0 ? diag : 1)) break;
        for (int p = 0; p < n - 1; p++)
            for (int q = p + 1; q < n; q++) {
                double apq = a[p * n + q];
                if (fabs(apq) < 1e-300) continue;
                double theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
                double t = (theta >= 0 ? 1.0 : -1.0) / (fabs(theta) + sqrt(theta * theta + 1.0));
                double cs = 1.0 / sqrt(t * t + 1.0), sn = t * cs;
                for (int k = 0; k < n; k++) { /* columns p, q */
                    double akp = a[k * n + p], akq = a[k * n + q];
                    a[k * n + p] = cs * akp - sn * akq;
                    a[k * n + q] = sn * akp + cs * akq;
                }
                for (int k = 0; k < n; k++) { /* rows p, q */
                    double apk = a[p * n + k], aqk = a[q * n + k];
                    a[p * n + k] = cs * apk - sn * aqk;
                    a[q * n + k] = sn * apk + cs * aqk;
                }
            }
    }
    for (int i = 0; i < n; i++) ev[i] = a[i * n + i];
}

/* Jacobian covariance: J[i] = d(sum of outputs)/dx_i per sample (train-mode
 * forward); the score is -sum over the eigenvalues l of corrcoef(J) of
 * log(l + k) + 1 / (l + k), k = 1e-5 (the reference code's eval_score). */
static int px_jacov(px_ctx *c, double *v) {
    if (c->b < 2) return missing(c, "needs a batch of at least two samples", NULL);
    rt_exec_set_input_grad(c->e, 1);
    rt_exec_forward(c->e, c->x, c->b, 1);
    int64_t out = ir_shape_numel(&c->g->nodes[c->g->output].shape);
    float *ones = malloc(sizeof(float) * (size_t)(out * c->b));
    int n = c->b;
    double *j = malloc(sizeof(double) * (size_t)(n * c->in)), *r = malloc(sizeof(double) * (size_t)(n * n)),
           *ev = malloc(sizeof(double) * (size_t)n);
    int rc = -1;
    if (!ones || !j || !r || !ev) goto out;
    for (int64_t i = 0; i < out * c->b; i++) ones[i] = 1.0f;
    rt_exec_backward_from(c->e, ones, c->b);
    const float *dx = rt_exec_input_grad(c->e);
    if (!dx) goto out;
    for (int i = 0; i < n; i++) { /* centre and normalise each row */
        double mean = 0.0, ss = 0.0;
        for (int64_t q = 0; q < c->in; q++) mean += dx[i * c->in + q];
        mean /= (double)c->in;
        for (int64_t q = 0; q < c->in; q++) {
            double d = dx[i * c->in + q] - mean;
            j[i * c->in + q] = d;
            ss += d * d;
        }
        if (!(ss > 0.0)) {
            rc = missing(c, "the input gradient of a sample is constant (correlation undefined)", NULL);
            goto out;
        }
        for (int64_t q = 0; q < c->in; q++) j[i * c->in + q] /= sqrt(ss);
    }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, (int)c->in, 1.0, j, (int)c->in, j, (int)c->in,
                0.0, r, n);
    sym_eigenvalues(r, n, ev);
    double s = 0.0, k = 1e-5;
    for (int i = 0; i < n; i++) {
        double l = ev[i] > 0 ? ev[i] : 0.0; /* a correlation matrix is PSD: clip rounding below 0 */
        s -= log(l + k) + 1.0 / (l + k);
    }
    *v = s;
    rc = 0;
out:
    rt_exec_set_input_grad(c->e, 0);
    free(ones);
    free(j);
    free(r);
    free(ev);
    return rc < 0 ? missing(c, "out of memory", NULL) : rc;
}

/* ---- NASWOT ---- */

/* log det of the symmetric positive semi-definite n x n matrix a
 * (destroyed) by LU with partial pivoting; 1 when a is singular (a pivot
 * below tol, relative to the largest entry: K has integer entries, so a
 * true pivot is far above rounding). */
static int logdet_psd(double *a, int n, double *out) {
    double big = 0.0, s = 0.0;
    for (int i = 0; i < n * n; i++) big = fmax(big, fabs(a[i]));
    for (int col = 0; col < n; col++) {
        int piv = col;
        for (int r = col + 1; r < n; r++)
            if (fabs(a[r * n + col]) > fabs(a[piv * n + col])) piv = r;
        if (fabs(a[piv * n + col]) <= 1e-9 * big) return 1;
        if (piv != col)
            for (int k = 0; k < n; k++) {
                double t = a[col * n + k];
                a[col * n + k] = a[piv * n + k];
                a[piv * n + k] = t;
            }
        double d = a[col * n + col];
        s += log(fabs(d));
        for (int r = col + 1; r < n; r++) {
            double f = a[r * n + col] / d;
            if (f != 0.0)
                for (int k = col; k < n; k++) a[r * n + k] -= f * a[col * n + k];
        }
    }
    *out = s;
    return 0;
}

/* Adds one layer's agreement counts to the b x b kernel k:
 * K_ij += 2 c_i.c_j - |c_i| - |c_j| + U (c the binary codes, U units). */
static int add_codes(const float *v, int b, int64_t units, double *k) {
    float *cd = calloc((size_t)(b * units), sizeof(float));
    float *gram = malloc(sizeof(float) * (size_t)b * (size_t)b);
    double *cnt = calloc((size_t)b, sizeof(double));
    int rc = -1;
    if (cd && gram && cnt) {
        for (int i = 0; i < b; i++)
            for (int64_t u = 0; u < units; u++) {
                cd[i * units + u] = v[i * units + u] > 0.0f ? 1.0f : 0.0f;
                cnt[i] += cd[i * units + u];
            }
        /* Counts stay exact in float for up to 2^24 units per layer. */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, b, b, (int)units, 1.0f, cd, (int)units, cd,
                    (int)units, 0.0f, gram, b);
        for (int i = 0; i < b; i++)
            for (int j = 0; j < b; j++)
                k[i * b + j] += 2.0 * gram[i * b + j] - cnt[i] - cnt[j] + (double)units;
        rc = 0;
    }
    free(cd);
    free(gram);
    free(cnt);
    return rc;
}

static int is_relu(const ir_node *n) {
    return n->op == IR_ACT && (n->act == ACT_RELU || n->act == ACT_RELU6);
}

/* NASWOT: K over the ReLU codes ("input > 0" at every relu / relu6) of a
 * batch; score log det K.  K = C C' + (1 - C)(1 - C)' has rank at most
 * N_A + 1 for N_A code units, so the batch is capped at N_A: with a batch
 * larger than the network has units, K is singular for every network
 * (the constant -inf, or rounding noise, that small MLPs used to get).
 * A singular K (two samples sharing a code) is reported missing. */
static int px_naswot(px_ctx *c, double *v) {
    int64_t units = 0;
    for (int i = 0; i < c->g->n_nodes; i++)
        if (is_relu(&c->g->nodes[i])) units += ir_shape_numel(&c->g->nodes[i].shape);
    if (!units) return missing(c, "the network has no ReLU activation", NULL);
    int b = units < c->b ? (int)units : c->b;
    if (b < 2) return missing(c, "needs a batch of at least two samples", NULL);
    double *k = calloc((size_t)b * (size_t)b, sizeof(double));
    if (!k) return missing(c, "out of memory", NULL);
    rt_exec_forward(c->e, c->x, c->b, 1);
    /* the first b samples of the batch: the codes of a row do not depend
     * on the other rows except through batchnorm statistics */
    int64_t numel;
    for (int i = 0; i < c->g->n_nodes; i++) {
        const ir_node *n = &c->g->nodes[i];
        if (!is_relu(n)) continue;
        numel = ir_shape_numel(&c->g->nodes[n->in[0]].shape);
        if (add_codes(rt_exec_node_output(c->e, n->in[0]), b, numel, k)) {
            free(k);
            return missing(c, "out of memory", NULL);
        }
    }
    int sing = logdet_psd(k, b, v);
    free(k);
    if (sing) return missing(c, "the kernel is singular: two samples share an activation pattern", NULL);
    return 0;
}

/* ---- SynFlow and Zen ---- */

static int px_synflow(px_ctx *c, double *v) {
    for (int i = 0; i < c->g->n_nodes; i++)
        for (int p = 0; p < c->g->nodes[i].n_params; p++) {
            ir_param *pr = &c->g->nodes[i].params[p];
            for (int64_t q = 0; q < ir_shape_numel(&pr->shape); q++) pr->data[q] = fabsf(pr->data[q]);
        }
    rt_exec *e = rt_exec_new(c->g, 1, 0);
    int64_t in = c->in, out = ir_shape_numel(&c->g->nodes[c->g->output].shape);
    float *x = malloc(sizeof(float) * (size_t)in), *dy = malloc(sizeof(float) * (size_t)out);
    int rc = 0;
    if (!e || !x || !dy) {
        rc = missing(c, "out of memory", NULL);
    } else {
        for (int64_t i = 0; i < in; i++) x[i] = 1.0f;
        for (int64_t i = 0; i < out; i++) dy[i] = 1.0f;
        rt_exec_forward(e, x, 1, 0);
        rt_exec_backward_from(e, dy, 1);
        *v = weight_sum(e, SUM_SNIP);
        if (!isfinite(*v)) rc = missing(c, "overflowed the float range (a very deep network)", NULL);
    }
    rt_exec_free(e);
    free(x);
    free(dy);
    return rc;
}

/* The pre-global-pooling feature map Zen scores: walking back from the
 * output, past the classifier (the last dense), flatten and global pool. */
static int zen_feature(const ir_graph *g) {
    int id = g->output;
    if (g->nodes[id].op == IR_DENSE) id = g->nodes[id].in[0];
    while (g->nodes[id].op == IR_FLATTEN || g->nodes[id].op == IR_GLOBAL_AVGPOOL) id = g->nodes[id].in[0];
    return id;
}

/* Zen-score: weights drawn N(0, 1), biases 0, BN gamma 1 and beta 0; x
 * and e standard normal; log of the batch mean of sum |f(x) - f(x + 0.01
 * e)| plus, per batchnorm, log sqrt(mean over channels of the batch
 * variance of its input) at x (the official code's forward_pre_GAP). */
static int px_zen(px_ctx *c, double *v) {
    nasc_rng r;
    nasc_rng_seed(&r, c->seed ^ 0x5a454eULL);
    for (int i = 0; i < c->g->n_nodes; i++)
        for (int p = 0; p < c->g->nodes[i].n_params; p++) {
            ir_param *pr = &c->g->nodes[i].params[p];
            int bn = c->g->nodes[i].op == IR_BATCHNORM || c->g->nodes[i].op == IR_LAYERNORM;
            for (int64_t q = 0; q < ir_shape_numel(&pr->shape); q++)
                pr->data[q] = pr->role == PARAM_WEIGHT        ? (bn ? 1.0f : rt_rng_normal(&r))
                              : pr->role == PARAM_RUNNING_VAR ? 1.0f
                                                              : 0.0f;
        }
    int f = zen_feature(c->g), n = c->b;
    int64_t fn = ir_shape_numel(&c->g->nodes[f].shape), in = c->in;
    float *x = malloc(sizeof(float) * (size_t)(n * in)), *x2 = malloc(sizeof(float) * (size_t)(n * in)),
          *f0 = malloc(sizeof(float) * (size_t)(n * fn));
    int rc = 0;
    if (!x || !x2 || !f0) {
        rc = missing(c, "out of memory", NULL);
        goto out;
    }
    for (int64_t i = 0; i < n * in; i++) {
        x[i] = rt_rng_normal(&r);
        x2[i] = x[i] + 0.01f * rt_rng_normal(&r);
    }
    rt_exec_forward(c->e, x, n, 1);
    memcpy(f0, rt_exec_node_output(c->e, f), sizeof(float) * (size_t)(n * fn));
    double bn_log = 0.0;
    for (int i = 0; i < c->g->n_nodes; i++) {
        const ir_node *nd = &c->g->nodes[i];
        if (nd->op != IR_BATCHNORM) continue;
        const float *z = rt_exec_node_output(c->e, nd->in[0]);
        int64_t numel = ir_shape_numel(&nd->shape), ch = nd->shape.d[0], inner = numel / ch;
        double var_sum = 0.0;
        for (int64_t k = 0; k < ch; k++) {
            double m = 0.0, ss = 0.0, cnt = (double)n * (double)inner;
            for (int j = 0; j < n; j++)
                for (int64_t p = 0; p < inner; p++) m += z[(int64_t)j * numel + k * inner + p];
            m /= cnt;
            for (int j = 0; j < n; j++)
                for (int64_t p = 0; p < inner; p++) {
                    double d = z[(int64_t)j * numel + k * inner + p] - m;
                    ss += d * d;
                }
            var_sum += ss / cnt;
        }
        bn_log += log(sqrt(var_sum / (double)ch));
    }
    rt_exec_forward(c->e, x2, n, 1);
    const float *f1 = rt_exec_node_output(c->e, f);
    double delta = 0.0;
    for (int64_t i = 0; i < n * fn; i++) delta += fabs((double)f0[i] - (double)f1[i]);
    delta /= n;
    *v = log(delta) + bn_log;
    if (!isfinite(*v)) rc = missing(c, "overflowed the float range (Gaussian weights, a deep network)", NULL);
out:
    free(x);
    free(x2);
    free(f0);
    return rc;
}

/* ---- the driver of it all ---- */

static int run_one(px_ctx *c, int id, double *v) {
    switch (id) {
    case RT_PX_GRAD_NORM: return px_grad(c, SUM_GRAD_NORM, v);
    case RT_PX_SNIP: return px_grad(c, SUM_SNIP, v);
    case RT_PX_PLAIN: return px_grad(c, SUM_PLAIN, v);
    case RT_PX_L2_NORM: return px_grad(c, SUM_L2, v);
    case RT_PX_GRASP: return px_grasp(c, v);
    case RT_PX_FISHER: return px_fisher(c, v);
    case RT_PX_JACOV: return px_jacov(c, v);
    case RT_PX_SYNFLOW: return px_synflow(c, v);
    case RT_PX_NASWOT: return px_naswot(c, v);
    case RT_PX_ZEN: return px_zen(c, v);
    default: return missing(c, "unknown proxy", NULL);
    }
}

/* The batch: b samples drawn from d by seed, with their labels. */
static int draw_batch(px_ctx *c, const rt_dataset *d) {
    int64_t *idx = malloc(sizeof(int64_t) * (size_t)d->n);
    c->x = malloc(sizeof(float) * (size_t)(c->b * c->in));
    c->y = d->y ? malloc(sizeof(int32_t) * (size_t)c->b) : NULL;
    if (!idx || !c->x || (d->y && !c->y)) {
        free(idx);
        return -1;
    }
    for (int64_t i = 0; i < d->n; i++) idx[i] = i;
    nasc_rng r;
    nasc_rng_seed(&r, c->seed);
    rt_shuffle(&r, idx, d->n);
    for (int i = 0; i < c->b; i++) {
        memcpy(c->x + (int64_t)i * c->in, d->x + idx[i] * c->in, sizeof(float) * (size_t)c->in);
        if (c->y) c->y[i] = d->y[idx[i]];
    }
    free(idx);
    return 0;
}

int rt_proxies_compute(ir_graph *g, const rt_dataset *d, unsigned mask, int batch, uint64_t seed,
                       rt_proxy_values *out, char *err, size_t errcap) {
    if (!g || !out) return err_set(err, errcap, "proxies: missing argument");
    for (int i = 0; i < RT_PX_COUNT; i++) {
        out->v[i] = NAN;
        out->why[i][0] = 0;
    }
    if (!mask) return 0;
    if (rt_exec_check(g, err, errcap)) return -1;
    px_ctx c = {.g = g, .seed = seed};
    c.in = ir_shape_numel(&g->nodes[g->input].shape);
    int needs_data = (mask & ~((1u << RT_PX_SYNFLOW) | (1u << RT_PX_L2_NORM) | (1u << RT_PX_ZEN))) != 0;
    if (needs_data && (!d || d->n <= 0 || !d->x || ir_shape_numel(&d->sample) != c.in))
        return err_set(err, errcap,
                       "proxies: the data set does not fit the network input (%lld values per sample)",
                       (long long)c.in);
    c.b = batch > 0 ? batch : 64;
    if (d && d->n > 0 && c.b > d->n) c.b = (int)d->n;
    px_saved s = {0};
    int rc = -1;
    if (saved_take(g, &s) ||
        (d && d->n > 0 && d->x && ir_shape_numel(&d->sample) == c.in && draw_batch(&c, d)) ||
        (!c.x && !(c.x = calloc((size_t)(c.b * c.in), sizeof(float)))) ||
        !(c.e = rt_exec_new(g, c.b, seed))) {
        err_set(err, errcap, "proxies: out of memory");
        goto out;
    }
    int have_weights = n_weights(c.e) > 0;
    for (int id = 0; id < RT_PX_COUNT; id++) {
        if (!(mask & (1u << id))) continue;
        c.why = out->why[id];
        double v = NAN;
        int m = id != RT_PX_NASWOT && id != RT_PX_JACOV && !have_weights
                    ? missing(&c, "the network has no dense or conv weights", NULL)
                    : run_one(&c, id, &v);
        if (m < 0 || (m && !out->why[id][0])) m = missing(&c, "out of memory", NULL);
        if (!m && !isfinite(v)) m = missing(&c, "not a finite number", NULL);
        out->v[id] = m ? NAN : v;
        saved_put(g, &s); /* the next proxy starts from the initialisation */
    }
    rc = 0;
out:
    if (s.data) saved_put(g, &s);
    saved_free(&s);
    rt_exec_free(c.e);
    free(c.x);
    free(c.y);
    return rc;
}

static int one_proxy(ir_graph *g, const rt_dataset *d, int id, int batch, uint64_t seed, double *score,
                     char *err, size_t errcap) {
    rt_proxy_values pv;
    if (!score) return err_set(err, errcap, "%s: missing argument", px_names[id]);
    if (rt_proxies_compute(g, d, 1u << id, batch, seed, &pv, err, errcap)) return -1;
    if (pv.why[id][0]) return err_set(err, errcap, "%s: %s", px_names[id], pv.why[id]);
    *score = pv.v[id];
    return 0;
}

int rt_proxy_naswot(ir_graph *g, const rt_dataset *d, int batch, uint64_t seed, double *score, char *err,
                    size_t errcap) {
    return one_proxy(g, d, RT_PX_NASWOT, batch, seed, score, err, errcap);
}

int rt_proxy_synflow(ir_graph *g, double *score, char *err, size_t errcap) {
    return one_proxy(g, NULL, RT_PX_SYNFLOW, 1, 0, score, err, errcap);
}
