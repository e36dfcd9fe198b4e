/* test_front_stdlib.c: the standard library and the examples, end to end.
 *
 * std.blocks, std.cells and the example files are programs in the language, so
 * the only way to test them is to run them: every example must parse and
 * check, its decisions must carry the labels its comments promise, random
 * points of it must instantiate into verified graphs with the declared
 * output shape, and the stdlib blocks must build the layers their papers
 * describe (residual adds exactly when the shapes agree, depthwise convs
 * with the right dilation and padding, SE's require excluding tiny c).
 */
#define _POSIX_C_SOURCE 200809L /* mkstemp */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ast.h"
#include "space.h"

/* The source tree, from this file's absolute path (tests/ is one level down). */
static const char *src_root(void) {
    static char root[4096];
    if (!root[0]) {
        snprintf(root, sizeof root, "%s", __FILE__);
        for (int up = 0; up < 2; up++) {
            char *slash = strrchr(root, '/');
            cr_assert(slash, "__FILE__ is not an absolute path: %s", __FILE__);
            *slash = '\0';
        }
    }
    return root;
}

typedef struct loaded {
    nasc_ctx *c;
    program *p;
} loaded;

/* Parses and checks a file (path relative to the source tree), or a
 * snippet `text` (parse_program reads from disk: it goes to a temp file). */
static loaded load(const char *rel, const char *text) {
    loaded L = {ctx_new(), NULL};
    char path[4200], stdlib[4200];
    snprintf(stdlib, sizeof stdlib, "%s/stdlib", src_root());
    vec_push(&L.c->A, L.c->include_dirs, arena_strdup(&L.c->A, stdlib));
    ast_file *f;
    if (text) {
        snprintf(path, sizeof path, "/tmp/nasc_stdlib_test_XXXXXX");
        int fd = mkstemp(path);
        cr_assert(fd >= 0);
        FILE *fp = fdopen(fd, "w");
        cr_assert(fp);
        fputs(text, fp);
        fclose(fp);
        f = parse_program(L.c, path);
        remove(path);
    } else {
        snprintf(path, sizeof path, "%s/%s", src_root(), rel);
        f = parse_program(L.c, path);
    }
    cr_assert(f, "cannot read %s", path);
    if (L.c->n_errors == 0) L.p = prog_check(L.c, f);
    return L;
}

static void expect_clean(loaded *L, const char *what) {
    char *d = diag_render_string(L->c);
    cr_assert_eq(L->c->n_errors, 0, "%s: unexpected diagnostics:\n%s", what, d ? d : "");
    free(d);
    cr_assert(L->p, "%s: no program", what);
}

static const decision *find_dec(space_ir *s, const char *label) {
    for (int i = 0; i < s->decs.n; i++)
        if (!strcmp(s->decs.v[i]->label, label)) return s->decs.v[i];
    return NULL;
}

/* Samples n points of s; each must build a verified graph ending in `out`. */
static void sample_builds(loaded *L, space_ir *s, int n, const ir_shape *out) {
    uint64_t rng = 0x5eed;
    for (int k = 0; k < n; k++) {
        assignment *a = asg_new(L->c, s);
        cr_assert(space_sample(L->c, L->p, s, &rng, a, 100), "%s: sample %d failed", s->name, k);
        ir_graph g = {0};
        bool feasible = false;
        cr_assert(space_run(L->c, L->p, s, a, &g, &feasible), "%s: point %d does not run", s->name, k);
        const char *bad = ir_graph_verify(&g, 0, (char[256]){0}, 256);
        cr_assert_null(bad, "%s: point %d: %s", s->name, k, bad);
        const ir_shape *got = &g.nodes[g.output].shape;
        cr_assert_eq(got->rank, out->rank);
        for (int d = 0; d < out->rank; d++) cr_assert_eq(got->d[d], out->d[d]);
        cr_assert_gt(g.params, 0);
    }
}

/* ----- the examples ----- */

typedef struct example {
    const char *file, *space;
    int n_decisions;
    const char *labels[6]; /* some labels the file's comments promise */
} example;

static const example examples[] = {
    {"examples/quickstart.nas", "Quickstart", 4, {"depth", "act", "width[1]", "width[2]"}},
    {"examples/fashion_mlp.nas", "FashionMLP", 5, {"depth", "act", "width[1]", "width[3]"}},
    {"examples/fashion_cnn.nas",
     "FashionCNN",
     12,
     {"act", "stages", "width[3]", "kernel[2]", "residual[1]", "train.lr"}},
    {"examples/mobile.nas", "Mobile", 15, {"layers[1]", "width[2]", "expand[3]", "kernel[1]", "se[2]"}},
    {"examples/nb201.nas", "NB201", 6, {"e1", "e2", "e3", "e4", "e5", "e6"}},
    {"examples/darts.nas",
     "DartsLike",
     48,
     {"NormalCell[1].in2a", "NormalCell[2].op3b", "NormalCell[3].in5b"}},
    {"examples/joint.nas",
     "Joint",
     8,
     {"width", "drop", "train.batch", "train.lr", "train.momentum", "train.weight_decay"}},
};

Test(stdlib, examples_check_label_and_build) {
    ir_shape ten = {1, {10}};
    for (size_t i = 0; i < sizeof examples / sizeof *examples; i++) {
        const example *e = &examples[i];
        loaded L = load(e->file, NULL);
        expect_clean(&L, e->file);
        space_ir *s = prog_space(L.p, NULL);
        cr_assert(s, "%s: no space", e->file);
        cr_assert_str_eq(s->name, e->space);
        cr_assert_eq(s->decs.n, e->n_decisions, "%s: %d decisions, expected %d", e->file, s->decs.n,
                     e->n_decisions);
        for (int j = 0; j < 6 && e->labels[j]; j++)
            cr_assert(find_dec(s, e->labels[j]), "%s: no decision labelled %s", e->file, e->labels[j]);
        sample_builds(&L, s, 15, &ten);
        ctx_destroy(L.c);
    }
}

/* Cardinalities the example comments state (exact: no `require` in a space). */
Test(stdlib, examples_cardinality) {
    static const struct {
        const char *file, *card;
        int n_cont;
    } cases[] = {
        {"examples/quickstart.nas", "24", 0},
        {"examples/fashion_mlp.nas", "252", 0},
        {"examples/fashion_cnn.nas", "3768", 1},
        {"examples/mobile.nas", "2985984", 0},
        {"examples/nb201.nas", "15625", 0},
        {"examples/darts.nas", "572058491602669224338755584000000", 0},
        {"examples/joint.nas", "108", 3},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        loaded L = load(cases[i].file, NULL);
        expect_clean(&L, cases[i].file);
        space_ir *s = prog_space(L.p, NULL);
        cr_assert(s && s->cardinality, "%s: no cardinality", cases[i].file);
        cr_assert_str_eq(s->cardinality, cases[i].card, "%s", cases[i].file);
        cr_assert(s->card_exact, "%s", cases[i].file);
        cr_assert_eq(s->n_continuous, cases[i].n_cont, "%s", cases[i].file);
        ctx_destroy(L.c);
    }
}

/* ----- std.blocks ----- */

/* The graph of the only point of a decision-free snippet. */
static ir_graph build_one(loaded *L) {
    space_ir *s = prog_space(L->p, NULL);
    cr_assert(s);
    assignment *a = asg_new(L->c, s);
    ir_graph g = {0};
    bool feasible = false;
    bool ok = space_run(L->c, L->p, s, a, &g, &feasible);
    char *d = diag_render_string(L->c);
    cr_assert(ok, "snippet does not run:\n%s", d ? d : "");
    free(d);
    cr_assert_null(ir_graph_verify(&g, 0, (char[256]){0}, 256));
    return g;
}

static int count_op(const ir_graph *g, ir_op op, const char *name_prefix) {
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].op == op && !strncmp(g->nodes[i].name, name_prefix, strlen(name_prefix))) n++;
    return n;
}

Test(stdlib, basic_residual_shortcuts) {
    loaded L = load(NULL, "import std.blocks\n"
                          "space S(x: Tensor[16, 15, 15]) -> Tensor[32, 8, 8] {\n"
                          "    h = BasicResidual(x, 16, 1)\n"    /* identity shortcut */
                          "    return BasicResidual(h, 32, 2)\n" /* projection, ceil(15/2) = 8 */
                          "}\n");
    expect_clean(&L, "snippet");
    ir_graph g = build_one(&L);
    cr_assert_eq(count_op(&g, IR_CONV2D, "BasicResidual#1"), 2, "identity: two convs only");
    cr_assert_eq(count_op(&g, IR_CONV2D, "BasicResidual#2"), 3, "projection: a third, 1x1 conv");
    cr_assert_eq(count_op(&g, IR_ADD, "BasicResidual"), 2);
    for (int i = 0; i < g.n_nodes; i++)
        if (g.nodes[i].op == IR_CONV2D)
            cr_assert(!g.nodes[i].bias, "%s has a bias before BN", g.nodes[i].name);
    ctx_destroy(L.c);
}

Test(stdlib, mbconv_expand_se_and_residual) {
    loaded L = load(NULL, "import std.blocks\n"
                          "space S(x: Tensor[16, 7, 7]) -> Tensor[24, 4, 4] {\n"
                          "    h = MBConv(x, 16, 1, 3, 1, false)\n"    /* no expansion conv; residual */
                          "    h = MBConv(h, 16, 6, 5, 1, true)\n"     /* 96 channels inside, SE; residual */
                          "    return MBConv(h, 24, 3, 3, 2, false)\n" /* stride 2: no residual */
                          "}\n");
    expect_clean(&L, "snippet");
    ir_graph g = build_one(&L);
    cr_assert_eq(count_op(&g, IR_CONV2D, "MBConv#1"), 2, "depthwise + project");
    cr_assert_eq(count_op(&g, IR_CONV2D, "MBConv#2"), 3, "expand + depthwise + project");
    cr_assert_eq(count_op(&g, IR_ADD, "MBConv#1"), 1);
    cr_assert_eq(count_op(&g, IR_ADD, "MBConv#2"), 1);
    cr_assert_eq(count_op(&g, IR_ADD, "MBConv#3"), 0);
    cr_assert_eq(count_op(&g, IR_MUL, "MBConv#2.SqueezeExcite"), 1);
    cr_assert_eq(count_op(&g, IR_MUL, "MBConv#1"), 0);
    int dw = 0, squeeze = 0;
    for (int i = 0; i < g.n_nodes; i++) {
        const ir_node *n = &g.nodes[i];
        if (n->op == IR_CONV2D && !strncmp(n->name, "MBConv#2", 8) && n->groups > 1) {
            cr_assert_eq(n->groups, 96, "depthwise over the 16 * 6 expanded channels");
            cr_assert_eq(n->kernel[0], 5);
            dw++;
        }
        if (n->op == IR_DENSE && !strncmp(n->name, "MBConv#2.SqueezeExcite", 22) && n->shape.d[0] == 24)
            squeeze++; /* the SE bottleneck: a quarter of 96 */
    }
    cr_assert_eq(dw, 1);
    cr_assert_eq(squeeze, 1);
    ctx_destroy(L.c);
}

/* The SE bottleneck is c / ratio units, but never fewer than one. */
Test(stdlib, squeeze_excite_bottleneck) {
    loaded L = load(NULL, "import std.blocks\n"
                          "space S(x: Tensor[8, 4, 4]) -> Tensor[8, 4, 4] {\n"
                          "    let r = choice {2, 16}\n"
                          "    return SqueezeExcite(x, r)\n"
                          "}\n");
    expect_clean(&L, "snippet");
    space_ir *s = prog_space(L.p, NULL);
    const decision *r = find_dec(s, "r");
    cr_assert(r && r->n_alts == 2);
    static const int64_t want_units[2] = {4, 1}; /* 8 / 2, and max(1, 8 / 16) */
    for (int alt = 0; alt < 2; alt++) {
        assignment *a = asg_new(L.c, s);
        a->vals[r->id].i = alt;
        a->given[r->id] = true;
        ir_graph g = {0};
        bool feasible;
        cr_assert(space_run(L.c, L.p, s, a, &g, &feasible));
        cr_assert_null(ir_graph_verify(&g, 0, (char[256]){0}, 256));
        int dense = 0;
        for (int i = 0; i < g.n_nodes; i++) {
            if (g.nodes[i].op != IR_DENSE) continue;
            cr_assert_eq(g.nodes[i].shape.d[0], dense == 0 ? want_units[alt] : 8, "%s", g.nodes[i].name);
            dense++;
        }
        cr_assert_eq(dense, 2);
        cr_assert_eq(count_op(&g, IR_MUL, "SqueezeExcite"), 1);
        cr_assert_eq(g.nodes[g.output].shape.d[0], 8);
    }
    ctx_destroy(L.c);
}

Test(stdlib, mlp_block_dropout_only_when_positive) {
    loaded L = load(NULL, "import std.blocks\n"
                          "space S(x: Tensor[20]) -> Tensor[10] {\n"
                          "    h = MLPBlock(x, 32, relu)\n"
                          "    h = MLPBlock(h, 16, gelu, drop = 0.3)\n"
                          "    return dense(h, 10)\n"
                          "}\n");
    expect_clean(&L, "snippet");
    ir_graph g = build_one(&L);
    cr_assert_eq(count_op(&g, IR_DROPOUT, "MLPBlock#1"), 0);
    cr_assert_eq(count_op(&g, IR_DROPOUT, "MLPBlock#2"), 1);
    cr_assert_eq(g.params, 20 * 32 + 32 + 32 * 16 + 16 + 16 * 10 + 10);
    ctx_destroy(L.c);
}

/* ----- std.cells ----- */

Test(stdlib, cells_keep_shape_and_match_darts) {
    loaded L = load(
        NULL, "import std.cells\n"
              "space S(x: Tensor[8, 9, 9]) -> Tensor[8, 9, 9] {\n"
              "    let op = choice {zero, skip, conv1x1, conv3x3, avgpool3x3, sep_conv_3x3, sep_conv_5x5,\n"
              "                     dil_conv_3x3, dil_conv_5x5, max_pool_3x3, avg_pool_3x3}\n"
              "    return op(x)\n"
              "}\n");
    expect_clean(&L, "snippet");
    space_ir *s = prog_space(L.p, NULL);
    const decision *op = find_dec(s, "op");
    cr_assert(op && op->n_alts == 11);
    for (int alt = 0; alt < op->n_alts; alt++) {
        assignment *a = asg_new(L.c, s);
        a->vals[op->id].i = alt;
        a->given[op->id] = true;
        ir_graph g = {0};
        bool feasible;
        cr_assert(space_run(L.c, L.p, s, a, &g, &feasible), "op %s", op->alt_names[alt]);
        cr_assert_null(ir_graph_verify(&g, 0, (char[256]){0}, 256));
        for (int i = 0; i < g.n_nodes; i++) {
            const ir_node *n = &g.nodes[i];
            if (n->op != IR_CONV2D) continue;
            cr_assert(!n->bias, "%s", n->name);
            if (n->groups > 1) { /* depthwise: DARTS paddings at stride 1 */
                cr_assert_eq(n->groups, 8);
                int eff = n->dilation[0] * (n->kernel[0] - 1) + 1;
                cr_assert_eq(n->pad[0], eff / 2, "%s", n->name);
            }
        }
        int convs = count_op(&g, IR_CONV2D, "");
        const char *name = op->alt_names[alt];
        int want = !strncmp(name, "sep_conv", 8)   ? 4
                   : !strncmp(name, "dil_conv", 8) ? 2
                   : !strncmp(name, "conv", 4)     ? 1
                                                   : 0;
        cr_assert_eq(convs, want, "%s: %d convs", name, convs);
    }
    ctx_destroy(L.c);
}
