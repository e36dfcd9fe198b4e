/* test_e2e_codegen.c: random points of every example space, with random
 * weights (and non-trivial batchnorm statistics) and inputs: the JIT's
 * output equals the runtime's reference forward pass (relative error at
 * most 1e-4).  The one test that crosses every layer: front end -> graph ->
 * runtime and back end. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "ast.h"
#include "codegen.h"
#include "exec.h"
#include "space.h"

static void perturb_batchnorm(ir_graph *g) {
    for (int i = 0; i < g->n_nodes; i++)
        for (int q = 0; q < g->nodes[i].n_params; q++) {
            ir_param *pr = &g->nodes[i].params[q];
            if (g->nodes[i].op != IR_BATCHNORM) continue;
            for (int64_t j = 0; j < ir_shape_numel(&pr->shape); j++)
                pr->data[j] = pr->role == PARAM_RUNNING_VAR    ? 0.5f + (float)(j % 7) * 0.1f
                              : pr->role == PARAM_RUNNING_MEAN ? 0.1f * (float)(j % 5) - 0.2f
                                                               : pr->data[j] * 0.9f + 0.05f;
        }
}

static double compare(ir_graph *g, int batch, uint64_t seed) {
    int64_t in = ir_shape_numel(&g->nodes[g->input].shape), out = ir_shape_numel(&g->nodes[g->output].shape);
    float *x = malloc(sizeof(float) * (size_t)(in * batch)),
          *y = malloc(sizeof(float) * (size_t)(out * batch)),
          *r = malloc(sizeof(float) * (size_t)(out * batch));
    uint64_t s = seed * 2654435761u + 1;
    for (int64_t i = 0; i < in * batch; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        x[i] = (float)(s % 1000) / 1000.0f;
    }
    char err[512];
    cg_jit *j = cg_jit_compile(g, CG_OPT_SEARCH, err, sizeof err);
    cr_assert_not_null(j, "compile failed: %s", err);
    cr_assert_eq(rt_forward_eval(g, x, r, batch), 0);
    cr_assert_eq(cg_jit_run(j, x, y, batch), 0);
    double md = 0, mr = 0;
    for (int64_t i = 0; i < out * batch; i++) {
        double d = fabs((double)y[i] - (double)r[i]);
        if (!(d <= md)) md = d;
        if (fabs(r[i]) > mr) mr = fabs(r[i]);
    }
    cg_jit_free(j);
    free(x);
    free(y);
    free(r);
    return md / (mr > 1e-6 ? mr : 1e-6);
}

static void check_file(const char *path, int points) {
    nasc_ctx *c = ctx_new();
    vec_push(&c->A, c->include_dirs, NASC_SOURCE_DIR "/stdlib");
    ast_file *f = parse_program(c, path);
    cr_assert(f && !c->n_errors, "%s does not parse", path);
    program *p = prog_check(c, f);
    cr_assert_eq(c->n_errors, 0, "%s does not check", path);
    uint64_t rng = 42;
    for (int si = 0; si < p->spaces.n; si++) {
        space_ir *s = p->spaces.v[si];
        for (int k = 0; k < points; k++) {
            assignment *a = asg_new(c, s);
            cr_assert(space_sample(c, p, s, &rng, a, 1000), "%s: no sample", path);
            ir_graph g = {0};
            bool feasible;
            cr_assert(space_run(c, p, s, a, &g, &feasible));
            cr_assert_eq(rt_params_init(&g, INIT_KAIMING, (uint64_t)k + 1), 0);
            perturb_batchnorm(&g);
            double e = compare(&g, 3, (uint64_t)k);
            cr_expect(e <= 1e-4, "%s point %s: relative error %.3g", path, point_json(c, s, a), e);
            rt_params_free(&g);
        }
    }
    ctx_destroy(c);
}

Test(e2e, jit_equals_reference_on_every_example_space, .timeout = 300) {
    DIR *d = opendir(NASC_SOURCE_DIR "/examples");
    cr_assert_not_null(d);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcmp(e->d_name + l - 4, ".nas")) continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/examples/%s", NASC_SOURCE_DIR, e->d_name);
        /* Cell spaces compile slowly (hundreds of layers): fewer points there. */
        bool big = strstr(e->d_name, "darts") || strstr(e->d_name, "nb201");
        check_file(path, big ? 1 : 3);
        files++;
    }
    closedir(d);
    cr_expect_geq(files, 4);
}

/* The sequence spaces (issue 15) with more points: attention with and
 * without the causal mask, the convolution mixer, pre- and post-norm,
 * sinusoidal and learned positions, and the 1-D convolution family. */
Test(e2e, jit_equals_reference_on_the_sequence_spaces, .timeout = 300) {
    check_file(NASC_SOURCE_DIR "/examples/fashion_vit.nas", 8);
    check_file(NASC_SOURCE_DIR "/examples/fashion_seq.nas", 10);
}
