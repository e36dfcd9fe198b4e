/* test_front_scale.c: the checker on spaces whose obligations depend on
 * many decisions at once (docs/checker.md): decision-dependent depth,
 * stages of conditional depth, deep conv stacks whose sizes depend on
 * every earlier kernel and stride; exact cardinalities at any size; the
 * limits that give a diagnostic instead of a crash, a hang or a wrong
 * number.  No timing here (the machine is shared): bench/check_bench.sh. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ast.h"
#include "space.h"

typedef struct checked {
    nasc_ctx *c;
    program *p;
    char *diags;
} checked;

/* Checks src as the file t.nas (in a fresh temporary folder, so that
 * messages name t.nas and `import std.blocks` resolves). */
static checked check_src_budget(const char *src, uint64_t solver_budget) {
    checked r = {0};
    r.c = ctx_new();
    r.c->solver_budget = solver_budget;
    vec_push(&r.c->A, r.c->include_dirs, NASC_SOURCE_DIR "/stdlib");
    char dir[] = "/tmp/nasc_scale_XXXXXX";
    cr_assert(mkdtemp(dir));
    char cwd[4096];
    cr_assert(getcwd(cwd, sizeof cwd));
    cr_assert_eq(chdir(dir), 0);
    FILE *fp = fopen("t.nas", "w");
    cr_assert(fp);
    fputs(src, fp);
    fclose(fp);
    ast_file *f = parse_program(r.c, "t.nas");
    remove("t.nas");
    cr_assert_eq(chdir(cwd), 0);
    rmdir(dir);
    cr_assert(f && r.c->n_errors == 0, "parse errors in test source");
    r.p = prog_check(r.c, f);
    r.diags = diag_render_string(r.c);
    return r;
}

static checked check_src(const char *src) { return check_src_budget(src, 0); }

static void done(checked *r) {
    free(r->diags);
    ctx_destroy(r->c);
}

static space_ir *sp(checked *r) { return r->p->spaces.v[0]; }

/* A growing text buffer for generated sources. */
typedef struct text {
    char *s;
    size_t n, cap;
} text;

static void add(text *t, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char buf[4096];
    int k = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (t->n + (size_t)k + 1 > t->cap) {
        t->cap = (t->n + (size_t)k + 1) * 2;
        t->s = realloc(t->s, t->cap);
    }
    memcpy(t->s + t->n, buf, (size_t)k + 1);
    t->n += (size_t)k;
}

/* Decimal a * m + c on a digit string (most significant first), to state
 * the expected counts independently of the checker's big integers. */
static char *dec_muladd(const char *a, unsigned m, unsigned c) {
    size_t n = strlen(a);
    char *r = calloc(n + 12, 1);
    unsigned long carry = c;
    size_t k = 0;
    char tmp[4096 + 64];
    for (size_t i = n; i-- > 0;) {
        unsigned long v = (unsigned long)(a[i] - '0') * m + carry;
        tmp[k++] = (char)('0' + v % 10);
        carry = v / 10;
    }
    while (carry) {
        tmp[k++] = (char)('0' + carry % 10);
        carry /= 10;
    }
    while (k > 1 && tmp[k - 1] == '0') k--;
    for (size_t i = 0; i < k; i++) r[i] = tmp[k - 1 - i];
    return r;
}

/* sum of b^d for d = 1..n, in decimal: ((b + 1) * b + ...) Horner form */
static char *geometric_sum(unsigned b, int n) {
    char *acc = strdup("0");
    for (int d = 0; d < n; d++) {
        char *next = dec_muladd(acc, 1, 1); /* acc + 1 */
        free(acc);
        acc = dec_muladd(next, b, 0); /* (acc + 1) * b */
        free(next);
    }
    return acc;
}

static char *power(unsigned b, int n) {
    char *acc = strdup("1");
    for (int d = 0; d < n; d++) {
        char *next = dec_muladd(acc, b, 0);
        free(acc);
        acc = next;
    }
    return acc;
}

/* ----- decision-dependent depth ----- */

static char *cdepth_src(int n) {
    text t = {0};
    add(&t, "space CDepth(x: Tensor[3, 32, 32]) -> Tensor[10] {\n");
    add(&t, "    let depth = choice 1..%d\n    h = x\n    for i in 1..depth {\n", n);
    add(&t, "        let width  = choice {16, 32, 64}\n        let kernel = choice {1, 3, 5}\n");
    add(&t, "        let act    = choice {relu, swish}\n");
    add(&t, "        h = act(conv2d(h, width, kernel = kernel))\n    }\n");
    add(&t, "    return dense(global_avgpool(h), 10)\n}\n");
    return t.s;
}

Test(scale, conditional_depth_up_to_64_exact_count) {
    int ns[] = {8, 16, 32, 64};
    for (int k = 0; k < 4; k++) {
        char *src = cdepth_src(ns[k]);
        checked r = check_src(src);
        cr_assert_eq(r.c->n_errors, 0, "N = %d: %s", ns[k], r.diags);
        char *want = geometric_sum(18, ns[k]);
        cr_expect_str_eq(sp(&r)->cardinality, want, "N = %d", ns[k]);
        cr_expect(sp(&r)->card_exact);
        cr_expect_eq(sp(&r)->decs.n, 1 + 3 * ns[k]);
        /* one conv: 3 -> 16 channels, kernel 1: 3*16 + 16 params; then dense 16 -> 10 */
        cr_expect_eq(sp(&r)->params_min, 3 * 16 + 16 + 16 * 10 + 10, "N = %d", ns[k]);
        free(want);
        free(src);
        done(&r);
    }
}

Test(scale, residual_after_conditional_depth_counterexample) {
    const char *src = "space S(x: Tensor[16, 8, 8]) -> Tensor[10] {\n"
                      "    let depth = choice 1..12\n"
                      "    h = x\n"
                      "    for i in 1..depth {\n"
                      "        let width = choice {16, 32}\n"
                      "        let kernel = choice {1, 3}\n"
                      "        h = relu(conv2d(h, width, kernel = kernel))\n"
                      "    }\n"
                      "    h = h + x\n"
                      "    return dense(global_avgpool(h), 10)\n"
                      "}\n";
    checked r = check_src(src);
    cr_expect_str_eq(r.diags, "t.nas:9:9: error: cannot add tensors of shapes [32, 8, 8] and [16, 8, 8]\n"
                              "      h = h + x\n"
                              "          ^\n"
                              "t.nas:9:9: note: when depth = 1, width[1] = 32\n");
    done(&r);
}

/* ----- stages of conditional depth (MnasNet / OFA) ----- */

Test(scale, five_stages_of_conditional_depth) {
    text t = {0};
    add(&t, "import std.blocks\nspace Stages(x: Tensor[3, 64, 64]) -> Tensor[10] {\n");
    add(&t, "    h = ConvBNAct(x, 16, 3, relu)\n    for s in 1..5 {\n        let depth = choice 1..4\n");
    add(&t, "        let width = choice {16, 24, 32}\n        for b in 1..depth {\n");
    add(&t, "            let kernel = choice {3, 5}\n            let expand = choice {3, 6}\n");
    add(&t, "            if b == 1 {\n                h = MBConv(h, width, expand, kernel, 2, false)\n");
    add(&t, "            } else {\n                h = MBConv(h, width, expand, kernel, 1, false)\n");
    add(&t, "            }\n        }\n    }\n    return dense(global_avgpool(h), 10)\n}\n");
    checked r = check_src(t.s);
    cr_assert_eq(r.c->n_errors, 0, "%s", r.diags);
    /* per stage 3 widths x (4 + 16 + 64 + 256) block sequences = 1020 */
    cr_expect_str_eq(sp(&r)->cardinality, "1104080803200000");
    cr_expect(sp(&r)->card_exact);
    free(t.s);
    done(&r);
}

/* ----- deep conv stacks: kernel {1,3,5}, stride {1,2}, pad = 0 ----- */

static char *conv_src(int n, const char *input, const char *op) {
    text t = {0};
    add(&t, "space Convs(x: Tensor[%s]) -> Tensor[10] {\n    h = x\n    for i in 1..%d {\n", input, n);
    add(&t, "        let kernel = choice {1, 3, 5}\n        let stride = choice {1, 2}\n");
    add(&t, "        let width  = choice {8, 16}\n");
    add(&t, "        h = relu(%s(h, width, kernel = kernel, stride = stride, pad = 0))\n    }\n", op);
    add(&t, "    return dense(global_avgpool(h), 10)\n}\n");
    return t.s;
}

/* 2^(n+2) - 3: the shortest length that survives n layers of kernel 5, stride 2 */
static long long min_length(int n) {
    long long h = 1;
    for (int i = 0; i < n; i++) h = 2 * (h - 1) + 5;
    return h;
}

Test(scale, conv_stacks_of_10_20_30_layers_prove) {
    int ns[] = {10, 20, 30};
    for (int k = 0; k < 3; k++) {
        char in[64];
        snprintf(in, sizeof in, "8, %lld", min_length(ns[k]));
        char *src = conv_src(ns[k], in, "conv1d");
        checked r = check_src(src);
        cr_assert_eq(r.c->n_errors, 0, "%d layers: %s", ns[k], r.diags);
        cr_expect_eq(r.c->n_warnings, 0, "%d layers: %s", ns[k], r.diags);
        char *want = power(12, ns[k]);
        cr_expect_str_eq(sp(&r)->cardinality, want);
        free(want);
        free(src);
        done(&r);
    }
}

/* One shorter than the minimum: only the all-(5, 2) prefix fails, and the
 * solver must find that point among 6^30 (the enumerator never could). */
Test(scale, conv_stack_one_too_short_finds_the_one_counterexample) {
    char in[64];
    snprintf(in, sizeof in, "8, %lld", min_length(30) - 1);
    char *src = conv_src(30, in, "conv1d");
    checked r = check_src(src);
    cr_assert_eq(r.c->n_errors, 1, "%s", r.diags);
    const char *head = "t.nas:7:18: error: the output size of conv1d can reach zero: it is 0\n";
    cr_expect(!strncmp(r.diags, head, strlen(head)), "%s", r.diags);
    /* the 29 layers before the last must all be (5, 2); the last may
     * have either stride (both reach 0 from 4) */
    text want = {0};
    add(&want, "t.nas:7:18: note: when ");
    for (int i = 1; i <= 29; i++) add(&want, "kernel[%d] = 5, stride[%d] = 2, ", i, i);
    add(&want, "kernel[30] = 5, stride[30] = ");
    cr_expect(strstr(r.diags, want.s) != NULL, "%s", r.diags);
    free(want.s);
    free(src);
    done(&r);
}

/* The solver's work is bounded in z3's resource units, not in seconds
 * (docs/checker.md): with a budget of one unit every query runs out at
 * once, whatever the machine and its load.  A 9-layer stack one too short
 * (6^9 kernel and stride combinations for the last layer, over the
 * enumeration limit; one fails) then gets the documented sampling warning
 * (the random points miss the failing one), identically on every run;
 * with the default budget the solver finds the failing point. */
Test(scale, exhausted_solver_budget_gives_the_same_warning_every_time) {
    char in[64];
    snprintf(in, sizeof in, "8, %lld", min_length(9) - 1);
    char *src = conv_src(9, in, "conv1d");
    checked a = check_src_budget(src, 1), b = check_src_budget(src, 1);
    cr_assert_eq(a.c->n_errors, 0, "%s", a.diags);
    cr_expect_eq(a.c->n_warnings, 1, "%s", a.diags);
    const char *want =
        "t.nas:7:18: warning: this check depends on 18 decisions, too many combinations to try "
        "them all, and the solver could not decide it; 200000 random ones passed\n";
    cr_expect(!strncmp(a.diags, want, strlen(want)), "%s", a.diags);
    cr_expect_str_eq(a.diags, b.diags);
    checked d = check_src(src);
    const char *err = "t.nas:7:18: error: the output size of conv1d can reach zero: it is 0\n";
    cr_expect(d.c->n_errors == 1 && !strncmp(d.diags, err, strlen(err)), "%s", d.diags);
    free(src);
    done(&a);
    done(&b);
    done(&d);
}

/* A 2-D stack on 64x64 that most points shrink to nothing: the checker
 * reports a counterexample, and replaying the note's kernels and strides
 * through the size formula (h - k) / s + 1 shows it is a real one: every
 * earlier layer has a positive size, the reported one does not. */
Test(scale, conv2d_stack_counterexample_is_a_real_point) {
    char *src = conv_src(30, "3, 64, 64", "conv2d");
    checked r = check_src(src);
    cr_assert_eq(r.c->n_errors, 1, "%s", r.diags);
    const char *note = strstr(r.diags, "note: when ");
    cr_assert(note, "%s", r.diags);
    long long k[64] = {0}, st[64] = {0};
    const char *p = note + strlen("note: when ");
    int layers = 0;
    while (*p && *p != '\n') {
        char name[16];
        int i, used = 0;
        long long v;
        cr_assert_eq(sscanf(p, "%15[a-z][%d] = %lld%n", name, &i, &v, &used), 3, "%s", p);
        cr_assert(i >= 1 && i < 64);
        if (!strcmp(name, "kernel"))
            k[i] = v;
        else if (!strcmp(name, "stride"))
            st[i] = v;
        else
            cr_assert_fail("unexpected decision %s in %s", name, note);
        if (i > layers) layers = i;
        p += used;
        if (*p == ',') p += 2;
    }
    cr_assert_geq(layers, 2, "%s", note);
    long long h = 64;
    for (int i = 1; i <= layers; i++) {
        cr_assert(k[i] && st[i], "layer %d incomplete in %s", i, note);
        long long num = h - k[i];
        h = (num >= 0 ? num / st[i] : -((-num + st[i] - 1) / st[i])) + 1;
        if (i < layers) cr_expect_gt(h, 0, "layer %d in %s", i, note);
    }
    cr_expect_leq(h, 0, "%s", note);
    char want[96];
    snprintf(want, sizeof want, "can reach zero: it is %lld\n", h);
    cr_expect(strstr(r.diags, want) != NULL, "%s", r.diags);
    free(src);
    done(&r);
}

/* A require far from the obligation excludes the points where it fails:
 * the kernels' total bounds the shrinkage, so the space is valid. */
Test(scale, require_over_every_layer_makes_it_valid) {
    const char *src = "space S(x: Tensor[3, 20]) -> Tensor[10] {\n"
                      "    h = x\n"
                      "    let total = 0\n"
                      "    for i in 1..12 {\n"
                      "        let kernel = choice {1, 3, 5}\n"
                      "        total = total + kernel - 1\n"
                      "        h = relu(conv1d(h, 8, kernel = kernel, pad = 0))\n"
                      "    }\n"
                      "    require total <= 19\n"
                      "    return dense(global_avgpool(h), 10)\n"
                      "}\n";
    checked r = check_src(src);
    cr_assert_eq(r.c->n_errors, 0, "%s", r.diags);
    /* sequences of 12 kernels with #3 + 2 * #5 <= 9 */
    cr_expect_str_eq(sp(&r)->cardinality, "100972");
    cr_expect(sp(&r)->card_exact);
    done(&r);
}

/* ----- big domains, big counts ----- */

Test(scale, ten_million_widths_feed_a_dense) {
    checked r = check_src("space S(x: Tensor[8]) -> Tensor[10] {\n"
                          "    let w = choice 1..10000000\n"
                          "    return dense(relu(dense(x, w)), 10)\n"
                          "}\n");
    cr_assert_eq(r.c->n_errors, 0, "%s", r.diags);
    cr_expect_str_eq(sp(&r)->cardinality, "10000000");
    cr_expect_eq(sp(&r)->params_min, 8 * 1 + 1 + 1 * 10 + 10);
    cr_expect_eq(sp(&r)->params_max, 8 * 10000000LL + 10000000 + 10000000LL * 10 + 10);
    done(&r);
}

Test(scale, full_int64_range_counts_and_samples) {
    checked r = check_src("space S(x: Tensor[8]) -> Tensor[10] {\n"
                          "    let w = choice -9223372036854775807..9223372036854775807\n"
                          "    let v = choice -9223372036854775807..9223372036854775807 step 3\n"
                          "    return dense(x, 10)\n"
                          "}\n");
    cr_assert_eq(r.c->n_errors, 0, "%s", r.diags);
    /* (2^64 - 1) * ((2^64 - 2) / 3 + 1) */
    cr_expect_str_eq(sp(&r)->cardinality, "113427455640312821142160373094783036075");
    uint64_t rng = 5;
    assignment *a = asg_new(r.c, sp(&r));
    for (int i = 0; i < 50; i++) {
        cr_assert(space_sample(r.c, r.p, sp(&r), &rng, a, 1), "%s", diag_render_string(r.c));
        cr_expect_eq(((uint64_t)a->vals[1].i - (uint64_t)(-9223372036854775807LL)) % 3, 0);
        space_ir *s;
        assignment *b;
        cr_expect(point_load(r.c, r.p, &s, point_json(r.c, sp(&r), a), "p", &b, NULL));
    }
    done(&r);
}

Test(scale, count_of_10_to_the_2700_is_exact) {
    checked r = check_src("space S(x: Tensor[8]) -> Tensor[10] {\n"
                          "    for i in 1..2700 {\n"
                          "        let d = choice 0..9\n"
                          "    }\n"
                          "    return dense(x, 10)\n"
                          "}\n");
    cr_assert_eq(r.c->n_errors, 0, "%s", r.diags);
    char *want = power(10, 2700);
    cr_expect_eq(strlen(sp(&r)->cardinality), 2701);
    cr_expect_str_eq(sp(&r)->cardinality, want);
    free(want);
    done(&r);
}

static char *alts_src(int n, int dup_at) {
    text t = {0};
    add(&t, "space S(x: Tensor[8]) -> Tensor[10] {\n    let w = choice {");
    for (int i = 1; i <= n; i++) add(&t, "%s%d", i > 1 ? ", " : "", i == dup_at ? 7 : i);
    add(&t, "}\n    return dense(relu(dense(x, w)), 10)\n}\n");
    return t.s;
}

Test(scale, forty_thousand_alternatives) {
    char *src = alts_src(40000, 0);
    checked r = check_src(src);
    cr_assert_eq(r.c->n_errors, 0, "%s", r.diags);
    cr_expect_str_eq(sp(&r)->cardinality, "40000");
    cr_expect_eq(sp(&r)->params_max, 19LL * 40000 + 10);
    free(src);
    done(&r);
    /* the last one repeats 7: found (by a hash set) and placed */
    src = alts_src(40000, 40000);
    r = check_src(src);
    cr_assert_eq(r.c->n_errors, 1, "%.300s", r.diags);
    const char *at = strstr(src, ", 7}") + 2;
    int col = 1;
    for (const char *q = at; q > src && q[-1] != '\n'; q--) col++;
    char head[160];
    snprintf(head, sizeof head, "t.nas:2:%d: error: alternative '7' appears twice in choice 'w'\n", col);
    cr_expect(!strncmp(r.diags, head, strlen(head)), "want %s got %.200s", head, r.diags);
    free(src);
    done(&r);
}

/* ----- limits with a diagnostic ----- */

Test(scale, blocks_calling_blocks_twice_20_deep_stop_with_a_diagnostic) {
    text t = {0};
    add(&t, "block B0(x: Tensor[n]) -> Tensor[n] { return relu(x) }\n");
    for (int i = 1; i <= 20; i++)
        add(&t, "block B%d(x: Tensor[n]) -> Tensor[n] { return B%d(B%d(x)) }\n", i, i - 1, i - 1);
    add(&t, "space S(x: Tensor[8]) -> Tensor[8] {\n    let y = relu(x)\n    return B20(y)\n}\n");
    checked r = check_src(t.s);
    cr_expect_str_eq(r.diags,
                     "t.nas:24:5: error: this statement is too big to check: it runs more than 200000 "
                     "statements and block calls (nested loops and blocks that call blocks multiply)\n"
                     "      return B20(y)\n"
                     "      ^~~~~~\n");
    free(t.s);
    done(&r);
}

Test(scale, twelve_levels_deep_still_check) {
    text t = {0};
    add(&t, "block B0(x: Tensor[n]) -> Tensor[n] {\n    let a = choice {relu, tanh}\n    return a(x)\n}\n");
    for (int i = 1; i <= 12; i++)
        add(&t, "block B%d(x: Tensor[n]) -> Tensor[n] { return B%d(B%d(x)) }\n", i, i - 1, i - 1);
    add(&t, "space S(x: Tensor[8]) -> Tensor[8] { return B12(x) }\n");
    checked r = check_src(t.s);
    cr_assert_eq(r.c->n_errors, 0, "%s", r.diags);
    cr_expect_eq(sp(&r)->decs.n, 4096);
    char *want = power(2, 4096);
    cr_expect_str_eq(sp(&r)->cardinality, want);
    free(want);
    free(t.s);
    done(&r);
}

Test(scale, unknown_name_in_a_loop_is_reported_once) {
    checked r = check_src("space S(x: Tensor[8]) -> Tensor[8] {\n"
                          "    for i in 1..5 {\n"
                          "        x = relu(x) + foo\n"
                          "        x = relu(x) + bar\n"
                          "    }\n"
                          "    return x\n"
                          "}\n");
    cr_expect_eq(r.c->n_errors - r.c->n_repeats, 2);
    cr_expect_str_eq(r.diags, "t.nas:3:23: error: unknown name 'foo'\n"
                              "          x = relu(x) + foo\n"
                              "                        ^~~\n"
                              "t.nas:4:23: error: unknown name 'bar'\n"
                              "          x = relu(x) + bar\n"
                              "                        ^~~\n");
    done(&r);
}

Test(scale, loop_bound_over_a_huge_range) {
    checked r = check_src("space S(x: Tensor[8]) -> Tensor[8] {\n"
                          "    let n = choice 1..100000000\n"
                          "    for i in 1..n {\n"
                          "        x = relu(x)\n"
                          "    }\n"
                          "    return x\n"
                          "}\n");
    cr_expect_eq(r.c->n_errors, 1);
    cr_expect(!strncmp(r.diags, "t.nas:3:5: error: loop runs 100000000 times: more than 10000\n", 61), "%s",
              r.diags);
    done(&r);
    r = check_src("space S(x: Tensor[8]) -> Tensor[8] {\n"
                  "    for i in -9223372036854775807..9223372036854775807 {\n"
                  "        x = relu(x)\n"
                  "    }\n"
                  "    return x\n"
                  "}\n");
    cr_expect_eq(r.c->n_errors, 1);
    cr_expect(
        !strncmp(r.diags, "t.nas:2:5: error: loop runs 18446744073709551615 times: more than 10000\n", 71),
        "%s", r.diags);
    done(&r);
}

/* 3000 decision-dependent increments in one shape: too deep for z3 (it
 * crashed on it), so the checker samples; the note stops after 64 names. */
Test(scale, three_thousand_deep_chain_samples_and_caps_the_note) {
    text t = {0};
    add(&t, "space S(x: Tensor[8]) -> Tensor[10] {\n    let c = 1\n    for i in 1..3000 {\n");
    add(&t, "        let a = choice {0, 1}\n        if a == 1 { c = c + 1 }\n    }\n");
    add(&t,
        "    let y = dense(x, c)\n    let z = dense(x, 3001)\n    h = y + z\n    return dense(h, 10)\n}\n");
    checked r = check_src(t.s);
    cr_assert_eq(r.c->n_errors, 1, "%.400s", r.diags);
    const char *head = "t.nas:9:9: error: cannot add tensors of shapes [";
    cr_expect(!strncmp(r.diags, head, strlen(head)), "%.300s", r.diags);
    const char *note = strstr(r.diags, "t.nas:9:9: note: when a[1] = ");
    cr_assert(note, "%.300s", r.diags);
    int names = 1;
    for (const char *q = note; *q && *q != '\n'; q++) names += *q == '=';
    cr_expect_eq(names - 1, 64, "%.300s", note);
    cr_expect(strstr(note, ", and 2936 more\n"), "%.100s", strstr(note, "a[64]"));
    free(t.s);
    done(&r);
}

/* The params range of conditional depth 1..8 is exact (not marked as
 * bounds), and its maximum is the params of a real point: depth 8, every
 * width 64 and every kernel 5. */
Test(scale, conditional_depth_ranges_are_exact_and_attained) {
    char *src = cdepth_src(8);
    checked r = check_src(src);
    cr_assert_eq(r.c->n_errors, 0, "%s", r.diags);
    cr_expect(sp(&r)->range_exact);
    /* conv 3 -> 64 (5x5) + 7 convs 64 -> 64 (5x5) + dense 64 -> 10 */
    int64_t want = (3 * 64 * 25 + 64) + 7 * (64 * 64 * 25 + 64) + (64 * 10 + 10);
    cr_expect_eq(sp(&r)->params_max, want);
    text json = {0};
    add(&json, "{\"space\": \"CDepth\", \"decisions\": {\"depth\": 8");
    for (int i = 1; i <= 8; i++)
        add(&json, ", \"width[%d]\": 64, \"kernel[%d]\": 5, \"act[%d]\": \"relu\"", i, i, i);
    add(&json, "}}");
    space_ir *s;
    assignment *a;
    ir_graph g = {0};
    cr_assert(point_load(r.c, r.p, &s, json.s, "p", &a, &g), "%s", diag_render_string(r.c));
    cr_expect_eq(g.params, want);
    free(json.s);
    free(src);
    done(&r);
}
