/* test_driver_darts.c: differentiable search (docs/differentiable.md).
 * The union graph at one-hot weights computes exactly the plain network
 * of that point, for every alternative of every decision (op and block
 * choices, loop counts, `if`, input choices); a softmax concentrated on one
 * alternative comes close to it; the gradient of alpha matches finite
 * differences for darts, fbnet, gdas (straight through) and proxyless;
 * the temperature follows FBNet's schedule; the derived point is a valid
 * point (the next best when a require excludes the argmax); a space with
 * nothing categorical is an error; widths are fixed, not relaxed. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ast.h"
#include "drv_darts.h"
#include "exec.h"
#include "space.h"

static const char *SPACE =
    "block A(x: Tensor[c, h, w]) -> Tensor[c, h, w] { return relu(batchnorm(conv2d(x, c, 3))) }\n"
    "block B(x: Tensor[c, h, w]) -> Tensor[c, h, w] { return conv2d(x, c, 1) }\n"
    "space S(x: Tensor[1, 8, 8]) -> Tensor[4] {\n"
    "    let width  = choice {4, 8}\n"
    "    h = relu(batchnorm(conv2d(x, width, 3)))\n"
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
    "    return dense(flatten(pick + p), 4)\n"
    "}\n";

/* The same space with smooth activations (tanh for relu), for finite
 * differences: a relu kink between x - h and x + h would make them
 * disagree with the exact gradient. */
static char *smooth(void) {
    char *t = malloc(strlen(SPACE) + 1);
    strcpy(t, SPACE);
    for (char *q = strstr(t, "relu("); q; q = strstr(q, "relu(")) memcpy(q, "tanh", 4);
    return t;
}

typedef struct fx {
    nasc_ctx *c;
    program *p;
    space_ir *s;
    drv_darts D;
} fx;

static fx load(const char *src) {
    fx f;
    memset(&f, 0, sizeof f);
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

static void built(fx *f, da_method m) {
    bool ok = drv_darts_build(&f->D, f->c, f->p, f->s, m);
    char *d = diag_render_string(f->c);
    cr_assert(ok, "build failed: %s", d);
    free(d);
    cr_assert_eq(rt_params_init(&f->D.g, INIT_KAIMING, 3), 0);
}

static void done(fx *f) {
    drv_darts_free(&f->D);
    ctx_destroy(f->c);
}

static int dec_id(fx *f, const char *label) {
    for (int i = 0; i < f->s->decs.n; i++)
        if (!strcmp(f->s->decs.v[i]->label, label)) return i;
    cr_assert_fail("no decision %s", label);
    return -1;
}

enum { BATCH = 5, IN = 64, OUT = 4 };

static void inputs(float *x, int32_t *y) {
    for (int k = 0; k < BATCH * IN; k++) x[k] = (float)sin(0.37 * k + 0.1);
    for (int b = 0; b < BATCH; b++) y[b] = b % OUT;
}

/* The plain graph of the point whose relaxed decisions take alternatives
 * alt[] (fixed ones their value), its parameters copied by key from the
 * union graph. */
static bool plain_graph(fx *f, const int *alt, ir_graph *g) {
    assignment *a = asg_new(f->c, f->s);
    for (int i = 0; i < a->n; i++) {
        a->vals[i] = f->D.d[i].kind == DRV_DA_RELAXED ? f->D.d[i].vals[alt[i]] : f->D.base[i];
        a->given[i] = true;
    }
    memset(g, 0, sizeof *g);
    bool feasible;
    if (!space_run(f->c, f->p, f->s, a, g, &feasible)) return false;
    static const char *roles[] = {"weight", "bias", "running_mean", "running_var"};
    for (int i = 0; i < g->n_nodes; i++)
        for (int p = 0; p < g->nodes[i].n_params; p++) {
            ir_param *pr = &g->nodes[i].params[p];
            const ir_param *src = NULL;
            for (int j = 0; j < f->D.g.n_nodes && !src; j++)
                if (f->D.g.nodes[j].key && !strcmp(f->D.g.nodes[j].key, g->nodes[i].key))
                    for (int q = 0; q < f->D.g.nodes[j].n_params; q++)
                        if (f->D.g.nodes[j].params[q].role == pr->role) src = &f->D.g.nodes[j].params[q];
            cr_assert(src, "the union has no %s.%s", g->nodes[i].key, roles[pr->role]);
            int64_t n = ir_shape_numel(&pr->shape);
            cr_assert_eq(n, ir_shape_numel(&src->shape));
            pr->data = malloc(sizeof(float) * (size_t)n);
            memcpy(pr->data, src->data, sizeof(float) * (size_t)n);
        }
    return true;
}

static assignment *a_of(fx *f, const int *alt) {
    assignment *a = asg_new(f->c, f->s);
    for (int i = 0; i < a->n; i++) {
        a->vals[i] = f->D.d[i].kind == DRV_DA_RELAXED ? f->D.d[i].vals[alt[i]] : f->D.base[i];
        a->given[i] = true;
    }
    bool feasible;
    space_run(f->c, f->p, f->s, a, NULL, &feasible);
    return a;
}

static void one_hot(fx *f, const int *alt, float *w) {
    for (int i = 0; i < f->D.n_dec; i++) {
        const drv_da_dec *dd = &f->D.d[i];
        if (dd->kind != DRV_DA_RELAXED) continue;
        for (int v = 0; v < dd->n; v++) w[dd->off + v] = v == alt[i];
    }
}

static void union_out(fx *f, const float *w, const float *x, float *y) {
    drv_darts_set_weights(&f->D, w);
    cr_assert_eq(rt_forward_eval(&f->D.g, x, y, BATCH), 0);
}

Test(darts, one_hot_union_equals_the_plain_network_of_every_alternative) {
    fx f = load(SPACE);
    built(&f, DA_DARTS);
    cr_assert_eq(f.D.d[dec_id(&f, "width")].kind, DRV_DA_FIXED, "a width is fixed, not relaxed");
    const char *relaxed[] = {"depth", "op[1]", "op[2]", "op[3]", "extra", "pick"};
    for (int i = 0; i < 6; i++)
        cr_assert_eq(f.D.d[dec_id(&f, relaxed[i])].kind, DRV_DA_RELAXED, "%s", relaxed[i]);
    int n = f.D.n_dec, nw = drv_darts_n_weights(&f.D);
    int *alt = calloc((size_t)n, sizeof(int));
    float *w = calloc((size_t)nw, sizeof(float)), x[BATCH * IN], y1[BATCH * OUT], y2[BATCH * OUT];
    int32_t lab[BATCH];
    inputs(x, lab);
    uint64_t r = 12345;
    int checked = 0;
    for (int t = 0; t < 60; t++) { /* every alternative of each decision, then random combinations */
        for (int i = 0; i < n; i++) {
            r = r * 6364136223846793005ull + 1442695040888963407ull;
            alt[i] = t < 20 ? (t + i) % (f.D.d[i].n ? f.D.d[i].n : 1)
                            : (int)((r >> 33) % (uint64_t)(f.D.d[i].n ? f.D.d[i].n : 1));
        }
        ctx_mark m = ctx_get_mark(f.c);
        ir_graph g;
        if (!plain_graph(&f, alt, &g)) continue;
        one_hot(&f, alt, w);
        union_out(&f, w, x, y1);
        cr_assert_eq(rt_forward_eval(&g, x, y2, BATCH), 0);
        for (int k = 0; k < BATCH * OUT; k++)
            cr_assert(fabsf(y1[k] - y2[k]) <= 1e-5f * (1 + fabsf(y2[k])),
                      "point %d output %d: union %g, plain %g (%s)", t, k, y1[k], y2[k],
                      point_json(f.c, f.s, a_of(&f, alt)));
        rt_params_free(&g);
        ctx_release(f.c, m);
        checked++;
    }
    cr_assert_geq(checked, 50);
    /* a softmax concentrated on one alternative (alpha 20 against 0) is
     * close to that alternative's network */
    for (int i = 0; i < n; i++) alt[i] = f.D.d[i].n > 1 ? 1 : 0;
    ir_graph g;
    cr_assert(plain_graph(&f, alt, &g));
    for (int i = 0; i < n; i++) {
        drv_da_dec *dd = &f.D.d[i];
        if (dd->kind != DRV_DA_RELAXED) continue;
        float a[64];
        for (int v = 0; v < dd->n; v++) a[v] = v == alt[i] ? 20.0f : 0.0f;
        da_softmax(a, NULL, dd->n, 1.0, w + dd->off);
    }
    union_out(&f, w, x, y1);
    cr_assert_eq(rt_forward_eval(&g, x, y2, BATCH), 0);
    for (int k = 0; k < BATCH * OUT; k++) cr_assert(fabsf(y1[k] - y2[k]) < 1e-3f * (1 + fabsf(y2[k])));
    rt_params_free(&g);
    free(alt);
    free(w);
    done(&f);
}

/* The training loss of the union at mixture weights w (train mode, as the
 * alpha step) and, if gw != NULL, its gradient with respect to w. */
/* The mixture weights w of every relaxed decision: softmax of alpha (plus
 * the held Gumbel noise) at temperature tau. */
static void soft_weights(const fx *f, const float *alpha, const float *noise, double tau, float *w) {
    for (int i = 0; i < f->D.n_dec; i++) {
        const drv_da_dec *dd = &f->D.d[i];
        if (dd->kind == DRV_DA_RELAXED) da_softmax(alpha + dd->off, noise + dd->off, dd->n, tau, w + dd->off);
    }
}

static double loss_at(fx *f, rt_exec *e, const float *w, float *gw) {
    float x[BATCH * IN];
    int32_t y[BATCH];
    inputs(x, y);
    drv_darts_set_weights(&f->D, w);
    rt_exec_forward(e, x, BATCH, 1);
    double l = rt_exec_loss(e, y, BATCH, NULL);
    if (gw) {
        rt_exec_backward(e, BATCH);
        drv_darts_weight_grads(&f->D, e, gw);
    }
    return l;
}

static void near(double a, double b, const char *what, int k) {
    cr_assert(fabs(a - b) <= 2e-2 * fabs(b) + 2e-4, "%s %d: analytic %g, finite differences %g", what, k, a,
              b);
}

/* For the soft methods: the full alpha gradient against central
 * differences of loss(alpha) with the Gumbel draw held. */
static void check_soft(da_method m) {
    char *src = smooth();
    fx f = load(src);
    built(&f, m);
    int nw = drv_darts_n_weights(&f.D);
    rt_exec *e = rt_exec_new(&f.D.g, BATCH, 1);
    cr_assert(e);
    float *alpha = calloc((size_t)nw, sizeof(float)), *noise = calloc((size_t)nw, sizeof(float)),
          *w = calloc((size_t)nw, sizeof(float)), *gw = calloc((size_t)nw, sizeof(float)),
          *ga = calloc((size_t)nw, sizeof(float));
    nasc_rng rng;
    nasc_rng_seed(&rng, 9);
    for (int k = 0; k < nw; k++) alpha[k] = (float)(0.8 * (nasc_rng_uniform(&rng) - 0.5));
    if (m == DA_FBNET) da_gumbel(&rng, noise, nw);
    double tau = m == DA_FBNET ? 2.5 : 1.0;
    soft_weights(&f, alpha, noise, tau, w);
    loss_at(&f, e, w, gw);
    for (int i = 0; i < f.D.n_dec; i++) {
        const drv_da_dec *dd = &f.D.d[i];
        if (dd->kind != DRV_DA_RELAXED) continue;
        da_draw dr = {{-1, -1}, -1, noise + dd->off};
        da_alpha_grad(m, alpha + dd->off, w + dd->off, dd->n, tau, &dr, gw + dd->off, ga + dd->off);
    }
    const double h = 1e-3;
    for (int k = 0; k < nw; k++) {
        double l[2];
        for (int s = 0; s < 2; s++) {
            float keep = alpha[k];
            alpha[k] = (float)(keep + (s ? -h : h));
            soft_weights(&f, alpha, noise, tau, w);
            l[s] = loss_at(&f, e, w, NULL);
            alpha[k] = keep;
        }
        near(ga[k], (l[0] - l[1]) / (2 * h), da_method_name(m), k);
    }
    rt_exec_free(e);
    free(alpha), free(noise), free(w), free(gw), free(ga);
    done(&f);
    free(src);
}

Test(darts, alpha_gradient_darts_matches_finite_differences) { check_soft(DA_DARTS); }
Test(darts, alpha_gradient_fbnet_matches_finite_differences) { check_soft(DA_FBNET); }

/* For the one-hot methods: the gradient of the loss with respect to the
 * forward weights at a one-hot point (what gdas and proxyless pass on)
 * against finite differences, and the method's Jacobian against
 * differences of its surrogate. */
static void check_hard(da_method m) {
    char *src = smooth();
    fx f = load(src);
    built(&f, m);
    int nw = drv_darts_n_weights(&f.D);
    rt_exec *e = rt_exec_new(&f.D.g, BATCH, 1);
    cr_assert(e);
    float *alpha = calloc((size_t)nw, sizeof(float)), *noise = calloc((size_t)nw, sizeof(float)),
          *y = calloc((size_t)nw, sizeof(float)), *w = calloc((size_t)nw, sizeof(float)),
          *gw = calloc((size_t)nw, sizeof(float)), *ga = calloc((size_t)nw, sizeof(float));
    nasc_rng rng;
    nasc_rng_seed(&rng, 5);
    for (int k = 0; k < nw; k++) alpha[k] = (float)(0.8 * (nasc_rng_uniform(&rng) - 0.5));
    da_draw *dr = calloc((size_t)f.D.n_dec, sizeof(da_draw));
    for (int i = 0; i < f.D.n_dec; i++) {
        const drv_da_dec *dd = &f.D.d[i];
        if (dd->kind == DRV_DA_RELAXED)
            da_draw_weights(m, alpha + dd->off, dd->n, 3.0, true, &rng, noise + dd->off, y + dd->off,
                            w + dd->off, &dr[i]);
    }
    loss_at(&f, e, w, gw);
    const double h = 1e-3;
    for (int k = 0; k < nw; k++) {
        float keep = w[k];
        w[k] = (float)(keep + h);
        double lp = loss_at(&f, e, w, NULL);
        w[k] = (float)(keep - h);
        double lm = loss_at(&f, e, w, NULL);
        w[k] = keep;
        near(gw[k], (lp - lm) / (2 * h), "dL/dw", k);
    }
    for (int i = 0; i < f.D.n_dec; i++) {
        const drv_da_dec *dd = &f.D.d[i];
        if (dd->kind != DRV_DA_RELAXED) continue;
        cr_assert_geq(dr[i].chosen, 0, "a one-hot step has one active path");
        da_alpha_grad(m, alpha + dd->off, y + dd->off, dd->n, 3.0, &dr[i], gw + dd->off, ga + dd->off);
        /* the surrogate: sum_j s_j(alpha) gw_j, s the soft weights (gdas:
         * the Gumbel softmax; proxyless: the pair's softmax) */
        for (int v = 0; v < dd->n; v++) {
            double s2[2];
            for (int sg = 0; sg < 2; sg++) {
                float a[64], s[64];
                memcpy(a, alpha + dd->off, sizeof(float) * (size_t)dd->n);
                a[v] += (float)(sg ? -h : h);
                double acc = 0;
                if (m == DA_GDAS) {
                    da_softmax(a, noise + dd->off, dd->n, 3.0, s);
                    for (int j = 0; j < dd->n; j++) acc += s[j] * gw[dd->off + j];
                } else {
                    float two[2] = {a[dr[i].pair[0]], a[dr[i].pair[1]]};
                    da_softmax(two, NULL, 2, 1.0, s);
                    acc = s[0] * gw[dd->off + dr[i].pair[0]] + s[1] * gw[dd->off + dr[i].pair[1]];
                }
                s2[sg] = acc;
            }
            near(ga[dd->off + v], (s2[0] - s2[1]) / (2 * h), da_method_name(m), dd->off + v);
            if (m == DA_PROXYLESS && v != dr[i].pair[0] && v != dr[i].pair[1])
                cr_assert_eq(ga[dd->off + v], 0.0f, "proxyless moves only the sampled pair");
        }
    }
    rt_exec_free(e);
    free(alpha), free(noise), free(y), free(w), free(gw), free(ga), free(dr);
    done(&f);
    free(src);
}

Test(darts, alpha_gradient_gdas_straight_through) { check_hard(DA_GDAS); }
Test(darts, alpha_gradient_proxyless_binary_gates) { check_hard(DA_PROXYLESS); }

Test(darts, temperature_follows_fbnet_schedule) {
    cr_assert_float_eq(da_temperature(5.0, 0.956, 0), 5.0, 1e-12);
    double t = 5.0;
    for (int e = 1; e < 90; e++) {
        t *= 0.956;
        cr_assert_float_eq(da_temperature(5.0, 0.956, e), t, 1e-9 * t);
    }
    /* gumbel draws at a low temperature are nearly one-hot, at a high one nearly uniform */
    float a[3] = {0.3f, 0.1f, -0.2f}, g[3] = {0.5f, -0.1f, 0.2f}, s[3];
    da_softmax(a, g, 3, 0.01, s);
    cr_assert_gt(s[0], 0.999f);
    da_softmax(a, g, 3, 1000, s);
    for (int i = 0; i < 3; i++) cr_assert(fabsf(s[i] - 1.0f / 3) < 1e-3f);
}

Test(darts, derived_point_is_valid_and_respects_requires) {
    const char *src = "block A(x: Tensor[c, h, w]) -> Tensor[c, h, w] { return relu(conv2d(x, c, 3)) }\n"
                      "space S(x: Tensor[1, 8, 8]) -> Tensor[4] {\n"
                      "    h = conv2d(x, 4, 3)\n"
                      "    let a = choice 1..3\n"
                      "    for i in 1..a { h = A(h) }\n"
                      "    let b = choice 1..3\n"
                      "    for j in 1..b { h = A(h) }\n"
                      "    require a + b <= 4\n"
                      "    return dense(flatten(h), 4)\n"
                      "}\n";
    fx f = load(src);
    built(&f, DA_DARTS);
    int da = dec_id(&f, "a"), db = dec_id(&f, "b");
    /* the argmax a = 3, b = 3 breaks the require; of the points one
     * decision away, b = 1 loses the least alpha */
    float a_al[3] = {0, 1.8f, 2.0f}, b_al[3] = {0.1f, 0.5f, 2.0f};
    memcpy(f.D.d[da].alpha, a_al, sizeof a_al);
    memcpy(f.D.d[db].alpha, b_al, sizeof b_al);
    char err[512];
    char *pt = drv_darts_derive(&f.D, err, sizeof err);
    cr_assert(pt, "%s", err);
    cr_assert(strstr(pt, "\"a\": 3") && strstr(pt, "\"b\": 1"), "derived %s", pt);
    space_ir *s;
    assignment *a;
    ir_graph g = {0};
    cr_assert(point_load(f.c, f.p, &s, pt, "point", &a, &g), "the derived point does not load");
    done(&f);
}

Test(darts, a_space_without_categorical_decisions_is_an_error) {
    const char *src = "space S(x: Tensor[1, 8, 8]) -> Tensor[4] {\n"
                      "    let width = choice {4, 8}\n"
                      "    return dense(flatten(conv2d(x, width, 3)), 4)\n"
                      "}\n";
    fx f = load(src);
    cr_assert_not(drv_darts_build(&f.D, f.c, f.p, f.s, DA_GDAS));
    char *d = diag_render_string(f.c);
    cr_assert(strstr(d, "space S has no categorical decision to relax: nothing for --method gdas to search"),
              "%s", d);
    cr_assert(strstr(d, "decision 'width' is held fixed"), "%s", d);
    free(d);
    done(&f);
}
