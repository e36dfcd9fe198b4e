/* test_front_check.c: the checker (language.md sections 3-7 and 10):
 * labels, every error class with its line and counterexample,
 * cardinality (including beyond 2^64), points, instantiation. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include "ast.h"
#include "space.h"

typedef struct checked {
    nasc_ctx *c;
    program *p;
    char *diags;
} checked;

static checked check_src(const char *src) {
    checked r = {0};
    r.c = ctx_new();
    vec_push(&r.c->A, r.c->include_dirs, NASC_SOURCE_DIR "/stdlib");
    int id = ctx_add_file(r.c, "t.nas", src, strlen(src));
    ast_file *f = parse_file(r.c, id);
    cr_assert(r.c->n_errors == 0, "parse errors in test source");
    r.p = prog_check(r.c, f);
    r.diags = diag_render_string(r.c);
    return r;
}

static void done(checked *r) {
    free(r->diags);
    ctx_destroy(r->c);
}

static space_ir *sp(checked *r) { return r->p->spaces.v[0]; }

static bool has_label(space_ir *s, const char *label) {
    for (int i = 0; i < s->decs.n; i++)
        if (!strcmp(s->decs.v[i]->label, label)) return true;
    return false;
}

/* ----- labels (section 5) ----- */

typedef struct label_case {
    const char *src;
    const char *labels[6];
} label_case;

static const label_case label_cases[] = {
    {"space S(x: Tensor[4]) -> Tensor[4] {\n let width = choice {4, 8}\n return dense(dense(x, width), "
     "4)\n}\n",
     {"width"}},
    {"space S(x: Tensor[4]) -> Tensor[4] {\n h = x\n for i in 1..3 {\n  let width = choice {4, 8}\n  h = "
     "dense(h, width)\n }\n return dense(h, 4)\n}\n",
     {"width[1]", "width[2]", "width[3]"}},
    {"space S(x: Tensor[4]) -> Tensor[4] {\n h = x\n for i in 1..2 {\n  for j in 1..2 {\n   let w = choice "
     "{4, 8}\n   h = dense(h, w)\n  }\n }\n return dense(h, 4)\n}\n",
     {"w[1,1]", "w[1,2]", "w[2,1]", "w[2,2]"}},
    {"block Cell(x: Tensor[n]) -> Tensor[n] {\n let op1 = choice {relu, tanh}\n return op1(x)\n}\n"
     "space S(x: Tensor[4]) -> Tensor[4] {\n return Cell(x)\n}\n",
     {"Cell.op1"}},
    {"block ConvBlock(x: Tensor[n]) -> Tensor[n] {\n let k = choice {relu, tanh}\n return k(x)\n}\n"
     "space S(x: Tensor[4]) -> Tensor[4] {\n let a = ConvBlock(x)\n return ConvBlock(a)\n}\n",
     {"ConvBlock#1.k", "ConvBlock#2.k"}},
    {"block ConvBlock(x: Tensor[n]) -> Tensor[n] {\n let k = choice {relu, tanh}\n return k(x)\n}\n"
     "space S(x: Tensor[4]) -> Tensor[4] {\n h = x\n for i in 1..3 {\n  h = ConvBlock(h)\n }\n return h\n}\n",
     {"ConvBlock[1].k", "ConvBlock[2].k", "ConvBlock[3].k"}},
    {"block sepconv(x: Tensor[n]) -> Tensor[n] {\n let k = choice {relu, tanh}\n return k(x)\n}\n"
     "block plain(x: Tensor[n]) -> Tensor[n] {\n return x\n}\n"
     "space S(x: Tensor[4]) -> Tensor[4] {\n let op = choice {plain, sepconv}\n return op(x)\n}\n",
     {"op", "op.sepconv.k"}},
    {"space S(x: Tensor[4]) -> Tensor[4] {\n return dense(x, 4)\n}\n"
     "train {\n lr = choice [0.01, 0.1] log\n optimizer = sgd(lr = lr)\n}\n",
     {"train.lr"}},
};

Test(labels, every_rule_of_section_5) {
    for (size_t i = 0; i < sizeof label_cases / sizeof label_cases[0]; i++) {
        checked r = check_src(label_cases[i].src);
        cr_assert_eq(r.c->n_errors, 0, "case %zu: %s", i, r.diags);
        int n = 0;
        for (int k = 0; label_cases[i].labels[k]; k++, n++)
            cr_expect(has_label(sp(&r), label_cases[i].labels[k]), "case %zu: no label %s", i,
                      label_cases[i].labels[k]);
        cr_expect_eq(sp(&r)->decs.n, n, "case %zu: %d decisions, expected %d", i, sp(&r)->decs.n, n);
        done(&r);
    }
}

Test(labels, conditions_of_inactive_decisions) {
    checked r = check_src(
        "space S(x: Tensor[8]) -> Tensor[2] {\n let depth = choice 1..3\n h = x\n for i in 1..depth {\n"
        "  let width = choice {4, 8}\n  h = dense(h, width)\n }\n return dense(h, 2)\n}\n");
    cr_assert_eq(r.c->n_errors, 0, "%s", r.diags);
    space_ir *s = sp(&r);
    cr_assert_str_eq(s->decs.v[1]->label, "width[1]");
    cr_expect_str_eq(decision_condition(r.c, s, s->decs.v[1]), "");
    cr_expect_str_eq(decision_condition(r.c, s, s->decs.v[3]), "depth >= 3");
    done(&r);
}

/* ----- errors (section 6), each with its line and counterexample ----- */

typedef struct err_case {
    const char *name;
    const char *src;
    const char *expect[3]; /* substrings of the rendered diagnostics */
} err_case;

static const err_case err_cases[] = {
    {"add of shapes that can differ",
     "space S(x: Tensor[1, 8, 8]) -> Tensor[2] {\n let a = choice {4, 8}\n let b = choice {4, 8}\n"
     "let y = conv2d(x, a) + conv2d(x, b)\n return dense(flatten(y), 2)\n}\n",
     {"t.nas:4:", "cannot add tensors of shapes [8, 8, 8] and [4, 8, 8]", "when a = 8, b = 4"}},
    {"concat of shapes that can differ",
     "space S(x: Tensor[1, 8, 8]) -> Tensor[2] {\n let p = choice {1, 2}\n"
     "let y = concat(x, maxpool(x, p, stride = 1, pad = 0))\n return dense(flatten(y), 2)\n}\n",
     {"t.nas:3:", "cannot concatenate tensors of shapes [1, 8, 8] and [1, 7, 7]", "when p = 2"}},
    {"choice alternatives of different types",
     "space S(x: Tensor[4]) -> Tensor[2] {\n let k = choice {3, relu}\n return dense(x, 2)\n}\n",
     {"t.nas:2:", "must have one type"}},
    {"choice alternatives of different signatures",
     "block A(x: Tensor[c, h, w]) -> Tensor[c, h, w] {\n return x\n}\n"
     "block B(x: Tensor[c, h, w]) -> Tensor[c, h / 2, w / 2] {\n return maxpool(x, 2)\n}\n"
     "space S(x: Tensor[1, 8, 8]) -> Tensor[2] {\n let op = choice {A, B}\n return dense(flatten(op(x)), "
     "2)\n}\n",
     {"t.nas:8:", "must have one signature", "B is (Tensor[c,h,w]) -> Tensor[c,(h/2),(w/2)]"}},
    {"groups that do not divide the channels",
     "space S(x: Tensor[6, 8, 8]) -> Tensor[2] {\n let g = choice {1, 2, 4}\n"
     " let y = conv2d(x, 8, groups = g)\n return dense(global_avgpool(y), 2)\n}\n",
     {"t.nas:3:", "groups must divide the input channels", "when g = 4"}},
    {"spatial size reaching zero",
     "space S(x: Tensor[1, 8, 8]) -> Tensor[2] {\n let n = choice 1..5\n h = x\n for i in 1..n {\n  h = "
     "maxpool(h, 2)\n }\n"
     " return dense(flatten(h), 2)\n}\n",
     {"t.nas:5:", "can reach zero", "when n = 4"}},
    {"returned shape differs from the declared one",
     "block B(x: Tensor[c, h, w], f: int) -> Tensor[c, h, w] {\n return conv2d(x, f)\n}\n"
     "space S(x: Tensor[3, 8, 8]) -> Tensor[2] {\n let f = choice {3, 6}\n return dense(flatten(B(x, f)), "
     "2)\n}\n",
     {"t.nas:2:9:", "B returns a tensor of shape [6, 8, 8], but its type says [3, 8, 8]", "when f = 6"}},
    {"unknown name",
     "space S(x: Tensor[4]) -> Tensor[2] {\n return dense(xx, 2)\n}\n",
     {"t.nas:2:", "unknown name 'xx'", "did you mean 'x'?"}},
    {"wrong arity",
     "space S(x: Tensor[4]) -> Tensor[2] {\n return dense(x, 2, true, 5)\n}\n",
     {"t.nas:2:", "dense takes at most 3 arguments, got 4"}},
    {"wrong argument type",
     "space S(x: Tensor[4]) -> Tensor[2] {\n return dense(x, true)\n}\n",
     {"t.nas:2:", "argument 'units' of dense must be an int, got bool"}},
    {"for bound that is not an int",
     "space S(x: Tensor[4]) -> Tensor[4] {\n for i in 1..2.5 {\n }\n return x\n}\n",
     {"t.nas:2:", "a for bound must be an int, got float"}},
    {"choice that is not the whole right side",
     "space S(x: Tensor[4]) -> Tensor[2] {\n let w = 2 * choice {1, 2}\n return dense(x, 2)\n}\n",
     {"t.nas:2:", "a choice must be the whole right side of a binding"}},
    {"space output of the wrong shape",
     "space S(x: Tensor[4]) -> Tensor[2] {\n return dense(x, 3)\n}\n",
     {"t.nas:2:9:", "S returns a tensor of shape [3], but its type says [2]"}},
    {"a path that falls off the end of a block",
     "block Bad(x: Tensor[n], down: bool) -> Tensor[n] {\n if down {\n  return relu(x)\n }\n}\n"
     "space S(x: Tensor[4]) -> Tensor[4] {\n let d = choice {false, true}\n return Bad(x, d)\n}\n",
     {"t.nas:1:", "Bad can end without returning a value", "when d = false"}},
    {"rank depends on a decision",
     "space S(x: Tensor[1, 4, 4]) -> Tensor[2] {\n let f = choice {false, true}\n h = x\n if f {\n  h = "
     "flatten(h)\n }\n"
     " return dense(flatten(h), 2)\n}\n",
     {"t.nas:7:", "the rank of 'h' depends on decisions"}},
};

Test(checker, every_error_class) {
    for (size_t i = 0; i < sizeof err_cases / sizeof err_cases[0]; i++) {
        checked r = check_src(err_cases[i].src);
        cr_expect(r.c->n_errors > 0, "%s: no error", err_cases[i].name);
        for (int k = 0; k < 3 && err_cases[i].expect[k]; k++)
            cr_expect(strstr(r.diags, err_cases[i].expect[k]) != NULL, "%s: expected \"%s\" in:\n%s",
                      err_cases[i].name, err_cases[i].expect[k], r.diags);
        done(&r);
    }
}

Test(checker, path_reasoning_makes_residuals_check) {
    checked r = check_src(
        "block Res(x: Tensor[c, h, w], filters: int, stride: int) -> Tensor[filters, (h + stride - 1) / "
        "stride, (w + stride - 1) / stride] {\n"
        " let y = conv2d(x, filters, stride = stride)\n"
        " if stride == 1 and c == filters {\n  y = x + y\n }\n return y\n}\n"
        "space S(x: Tensor[8, 8, 8]) -> Tensor[2] {\n let f = choice {8, 16}\n let s = choice {1, 2}\n"
        " return dense(global_avgpool(Res(x, f, s)), 2)\n}\n");
    cr_expect_eq(r.c->n_errors, 0, "%s", r.diags);
    done(&r);
}

Test(checker, returns_under_decisions) {
    checked r = check_src(
        "block Pick(x: Tensor[n], down: bool) -> Tensor[n] {\n if down {\n  return relu(x)\n }\n return "
        "tanh(x)\n}\n"
        "space S(x: Tensor[4]) -> Tensor[4] {\n let d = choice {false, true}\n return Pick(x, d)\n}\n");
    cr_assert_eq(r.c->n_errors, 0, "%s", r.diags);
    static const char *pts[2] = {"{\"decisions\": {\"d\": true}}", "{\"decisions\": {\"d\": false}}"};
    static const ir_act want[2] = {ACT_RELU, ACT_TANH};
    for (int i = 0; i < 2; i++) {
        space_ir *s;
        assignment *a;
        ir_graph g = {0};
        cr_assert(point_load(r.c, r.p, &s, pts[i], "p", &a, &g));
        cr_expect_eq(g.nodes[g.output].op, IR_ACT);
        cr_expect_eq(g.nodes[g.output].act, want[i], "point %d", i);
        cr_expect_eq(g.n_nodes, 2, "the statements after a return do not run");
    }
    done(&r);
}

Test(checker, several_errors_per_run) {
    checked r = check_src(
        "space S(x: Tensor[4]) -> Tensor[2] {\n let a = foo\n let b = bar\n return dense(x, true)\n}\n");
    cr_expect_eq(r.c->n_errors, 3, "%s", r.diags);
    done(&r);
}

/* ----- cardinality ----- */

Test(cardinality, spec_examples) {
    static const struct {
        const char *file;
        const char *card;
    } cases[] = {
        {"fashion_mlp.nas", "252"},
        {"fashion_cnn.nas", "3768"},
        {"mobile.nas", "2985984"},
        {"nb201.nas", "15625"},
    };
    for (size_t i = 0; i < 4; i++) {
        nasc_ctx *c = ctx_new();
        vec_push(&c->A, c->include_dirs, NASC_SOURCE_DIR "/stdlib");
        ast_file *f = parse_program(
            c, arena_printf(&c->A, "%s/tests/fixtures/spec/%s", NASC_SOURCE_DIR, cases[i].file));
        cr_assert_not_null(f);
        program *p = prog_check(c, f);
        cr_assert_eq(c->n_errors, 0, "%s", cases[i].file);
        cr_expect_str_eq(p->spaces.v[0]->cardinality, cases[i].card, "%s", cases[i].file);
        cr_expect(p->spaces.v[0]->card_exact);
        ctx_destroy(c);
    }
}

Test(cardinality, beyond_2_to_the_64) {
    /* 40 layers of 5 operations: 5^40 = 9094947017729282379150390625 points. */
    checked r =
        check_src("space S(x: Tensor[4]) -> Tensor[4] {\n h = x\n for i in 1..40 {\n"
                  "  let op = choice {relu, tanh, gelu, swish, sigmoid}\n  h = op(h)\n }\n return h\n}\n");
    cr_assert_eq(r.c->n_errors, 0, "%s", r.diags);
    cr_expect_str_eq(sp(&r)->cardinality, "9094947017729282379150390625");
    done(&r);
}

Test(cardinality, exact_under_require) {
    checked r = check_src(
        "space S(x: Tensor[4]) -> Tensor[4] {\n let a = choice {1, 2, 3}\n let b = choice {1, 2, 3}\n"
        " require a != b\n let c = choice {relu, tanh}\n return c(x)\n}\n");
    cr_assert_eq(r.c->n_errors, 0, "%s", r.diags);
    cr_expect_str_eq(sp(&r)->cardinality, "12"); /* (9 - 3) * 2 */
    cr_expect(sp(&r)->card_exact);
    done(&r);
}

Test(cardinality, conditional_decisions_counted_once) {
    checked r = check_src("space S(x: Tensor[4]) -> Tensor[2] {\n let depth = choice 1..3\n let act = choice "
                          "{relu, gelu, tanh}\n h = x\n"
                          " for i in 1..depth {\n  let width = choice {64, 128, 256, 512}\n  h = "
                          "act(dense(h, width))\n }\n return dense(h, 2)\n}\n");
    cr_assert_eq(r.c->n_errors, 0, "%s", r.diags);
    cr_expect_str_eq(sp(&r)->cardinality, "252");
    done(&r);
}

/* ----- points and instantiation ----- */

static const char *mlp_src =
    "space MLP(x: Tensor[1, 28, 28]) -> Tensor[10] {\n let depth = choice 1..2\n h = flatten(x)\n"
    " for i in 1..depth {\n  let width = choice {128, 256}\n  h = relu(dense(h, width))\n }\n return "
    "dense(h, 10)\n}\n";

Test(points, the_784_256_10_mlp) {
    checked r = check_src(mlp_src);
    space_ir *s;
    assignment *a;
    ir_graph g = {0};
    bool ok = point_load(
        r.c, r.p, &s, "{\"space\": \"MLP\", \"decisions\": {\"depth\": 1, \"width[1]\": 256}}", "p", &a, &g);
    cr_assert(ok, "%s", diag_render_string(r.c));
    cr_expect_eq(g.params, 203530);
    cr_expect_eq(g.flops, 2 * (784 * 256 + 256 * 10) + 256); /* dense MACs x2, plus relu */
    cr_expect_null(ir_graph_verify(&g, 0, (char[256]){0}, 256));
    cr_expect_eq(g.nodes[g.output].shape.d[0], 10);
    cr_expect_str_eq(point_json(r.c, s, a),
                     "{\"space\": \"MLP\", \"decisions\": {\"depth\": 1, \"width[1]\": 256}}");
    done(&r);
}

Test(points, cnn_shapes_params_and_flops) {
    checked r = check_src(
        "space CNN(x: Tensor[1, 28, 28]) -> Tensor[10] {\n h = maxpool(relu(conv2d(x, 16, pad = 1)), 2)\n"
        " h = maxpool(relu(conv2d(h, 32, pad = 1)), 2)\n return dense(relu(dense(flatten(h), 128)), "
        "10)\n}\n");
    space_ir *s;
    assignment *a;
    ir_graph g = {0};
    cr_assert(point_load(r.c, r.p, &s, "{\"decisions\": {}}", "p", &a, &g), "%s", diag_render_string(r.c));
    cr_expect_eq(g.params, 160 + 4640 + 1568 * 128 + 128 + 1290);
    bool saw = false;
    for (int i = 0; i < g.n_nodes; i++)
        if (g.nodes[i].op == IR_FLATTEN) {
            cr_expect_eq(g.nodes[i].shape.d[0], 1568);
            saw = true;
        }
    cr_expect(saw);
    done(&r);
}

typedef struct bad_point {
    const char *json;
    const char *expect;
} bad_point;

Test(points, invalid_ones_name_the_decision) {
    static const bad_point cases[] = {
        {"{\"decisions\": {\"depth\": 1, \"width[1]\": 256, \"color\": 3}}", "unknown decision 'color'"},
        {"{\"decisions\": {\"depth\": 1, \"width[1]\": 256, \"width[2]\": 128}}",
         "decision 'width[2]' is inactive"},
        {"{\"decisions\": {\"depth\": 2, \"width[1]\": 256}}", "no value for decision 'width[2]'"},
        {"{\"decisions\": {\"depth\": 1, \"width[1]\": 48}}",
         "decision 'width[1]': 48 is not one of {128, 256}"},
        {"{\"decisions\": {\"depth\": 7, \"width[1]\": 128}}", "decision 'depth': 7 is not in 1..2"},
        {"{\"decisions\": {\"depth\": 1, \"width[1]\": 256,}}", "not valid JSON"},
        {"[1, 2]", "a point is an object"},
        {"{\"space\": \"Other\", \"decisions\": {}}", "unknown space 'Other'"},
        {"{\"decisions\": {\"depht\": 1}}", "did you mean 'depth'?"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        checked r = check_src(mlp_src);
        space_ir *s;
        assignment *a;
        bool ok = point_load(r.c, r.p, &s, cases[i].json, "p", &a, NULL);
        char *d = diag_render_string(r.c);
        cr_expect(!ok, "case %zu accepted", i);
        cr_expect(strstr(d, cases[i].expect) != NULL, "case %zu: expected \"%s\" in:\n%s", i, cases[i].expect,
                  d);
        free(d);
        done(&r);
    }
}

Test(points, require_excludes_a_point) {
    checked r = check_src(
        "space S(x: Tensor[4]) -> Tensor[4] {\n let a = choice {1, 2}\n require a == 1\n return x\n}\n");
    space_ir *s;
    assignment *a;
    cr_expect(!point_load(r.c, r.p, &s, "{\"decisions\": {\"a\": 2}}", "p", &a, NULL));
    char *d = diag_render_string(r.c);
    cr_expect(strstr(d, "t.nas:3:") && strstr(d, "excluded from the space by this require"), "%s", d);
    free(d);
    done(&r);
}

Test(sample, reproducible_and_respects_require) {
    checked r = check_src("space S(x: Tensor[4]) -> Tensor[4] {\n let a = choice 1..9\n let b = choice "
                          "1..9\n require a + b == 10\n return x\n}\n");
    space_ir *s = sp(&r);
    char *first[20];
    uint64_t rng = 7;
    assignment *a = asg_new(r.c, s);
    for (int i = 0; i < 20; i++) {
        cr_assert(space_sample(r.c, r.p, s, &rng, a, 1000));
        cr_expect_eq(a->vals[0].i + a->vals[1].i, 10);
        first[i] = point_json(r.c, s, a);
    }
    rng = 7;
    for (int i = 0; i < 20; i++) {
        cr_assert(space_sample(r.c, r.p, s, &rng, a, 1000));
        cr_expect_str_eq(point_json(r.c, s, a), first[i]);
    }
    done(&r);
}
