/* test_front_parser.c: the grammar (language.md sections 2-5 and 9), error
 * recovery, rendered syntax errors, and import resolution.
 *
 * Trees are compared through ast_dump, the parser's S-expression oracle;
 * the spec examples and the stdlib must parse with zero diagnostics.
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "parse_internal.h"

#define FIX NASC_SOURCE_DIR "/tests/fixtures/parse"

static nasc_ctx *C;

static void setup(void) { C = ctx_new(); }
static void teardown(void) { ctx_destroy(C); }

TestSuite(parser, .init = setup, .fini = teardown, .timeout = 10);

static ast_file *parse_src(const char *src) {
    int f = ctx_add_file(C, "t.nas", src, strlen(src));
    return parse_file(C, f);
}

/* Parses src, requires no diagnostics, returns the dump. */
static const char *dump_ok(const char *src) {
    ast_file *f = parse_src(src);
    char *r = diag_render_string(C);
    cr_assert_eq(C->n_errors, 0, "unexpected diagnostics for:\n%s\n%s", src, r);
    free(r);
    return ast_dump(C, f);
}

/* The dump of the single statement of a one-statement block body. */
static const char *stmt_dump(const char *stmt) {
    const char *src = arena_printf(&C->A, "block B() -> int {\n%s\n}", stmt);
    const char *d = dump_ok(src);
    const char *prefix = "(block B (-> int) ";
    cr_assert(strncmp(d, prefix, strlen(prefix)) == 0, "%s", d);
    size_t n = strlen(d) - strlen(prefix) - 1;
    return arena_strndup(&C->A, d + strlen(prefix), n);
}

/* The dump of one expression, as the value of `let v = ...`. */
static const char *expr_dump(const char *e) {
    const char *s = stmt_dump(arena_printf(&C->A, "let v = %s", e));
    cr_assert(strncmp(s, "(let v ", 7) == 0, "%s", s);
    return arena_strndup(&C->A, s + 7, strlen(s) - 8);
}

static int count_diags(void) {
    int n = 0;
    for (diag *d = C->diags; d; d = d->next) n++;
    return n;
}

/* ----- items ----- */

Test(parser, empty_and_comment_only_files) {
    cr_assert_str_eq(dump_ok(""), "");
    cr_assert_str_eq(dump_ok("\n\n// nothing\n/* at\nall */\n;;\n"), "");
}

Test(parser, import_dotted_path) {
    cr_assert_str_eq(dump_ok("import std.blocks\nimport a\nimport a.b.c"),
                     "(import std.blocks)\n(import a)\n(import a.b.c)");
}

Test(parser, enums) {
    cr_assert_str_eq(dump_ok("enum Norm { batch, layer }"), "(enum Norm batch layer)");
    cr_assert_str_eq(dump_ok("enum Norm {\n    batch,\n    layer\n}\n"), "(enum Norm batch layer)");
    cr_assert_str_eq(dump_ok("enum N {\n  a,\n  b,\n}"), "(enum N a b)");
    cr_assert_str_eq(dump_ok("enum N { a\n , b }"), "(enum N a b)");
}

Test(parser, enum_member_locations) {
    ast_file *f = parse_src("enum N {\n  a,\n    bb }");
    ast_item *it = f->items.v[0];
    cr_assert_eq(it->members.n, 2);
    loc *l = it->member_locs.v[1];
    cr_assert_eq(l->line, 3);
    cr_assert_eq(l->col, 5);
    cr_assert_eq(l->len, 2);
    cr_assert_eq(it->name_at.col, 6);
}

Test(parser, block_and_space_headers) {
    cr_assert_str_eq(dump_ok("block B(x: Tensor[c, h, w], k: int, a: Act) -> Tensor[c, h, w] { return x }"),
                     "(block B (param x (tensor c h w)) (param k int) (param a Act) (-> (tensor c h w)) "
                     "(return x))");
    cr_assert_str_eq(dump_ok("space S(x: Tensor[1, 28, 28]) -> Tensor[10] {\n}"),
                     "(space S (param x (tensor 1 28 28)) (-> (tensor 10)))");
}

Test(parser, params_defaults_and_trailing_comma) {
    cr_assert_str_eq(
        dump_ok("block B(\n  x: Tensor[n],\n  k: int = 3,\n  p: float = 0.5,\n) -> Tensor[n] { return x }"),
        "(block B (param x (tensor n)) (param k int 3) (param p float 0.5) (-> (tensor n)) (return x))");
}

Test(parser, types) {
    cr_assert_str_eq(
        dump_ok("block B(a: int, b: float, c: bool, d: Norm, e: Act) -> bool { return c }"),
        "(block B (param a int) (param b float) (param c bool) (param d Norm) (param e Act) (-> bool) "
        "(return c))");
    cr_assert_str_eq(
        dump_ok("block B(x: Tensor[c * 2, h / 2, (w + 1) % 3, 4]) -> Tensor[c] { return x }"),
        "(block B (param x (tensor (* c 2) (/ h 2) (% (+ w 1) 3) 4)) (-> (tensor c)) (return x))");
}

Test(parser, block_types) {
    cr_assert_str_eq(
        dump_ok("block B(op: (Tensor[c, h, w]) -> Tensor[c, h, w], f: () -> int, g: (int, float,) -> (int) "
                "-> int)"
                " -> (Tensor[c]) -> Tensor[c] { return op }"),
        "(block B (param op (fn ((tensor c h w)) (tensor c h w))) (param f (fn () int)) "
        "(param g (fn (int float) (fn (int) int))) (-> (fn ((tensor c)) (tensor c))) (return op))");
}

Test(parser, sections) {
    cr_assert_str_eq(dump_ok("train {\n  data = fashion_mnist\n  split = 0.1\n  lr = choice [0.01, 0.3] log\n"
                             "  optimizer = sgd(lr = lr, momentum = 0.9)\n}"),
                     "(train (data fashion_mnist) (split 0.1) (lr (choice-float 0.01 0.3 log)) "
                     "(optimizer (call sgd lr=lr momentum=0.9)))");
    cr_assert_str_eq(dump_ok("train Net { epochs = 2; batch = 128 }"), "(train Net (epochs 2) (batch 128))");
    cr_assert_str_eq(dump_ok("search Net {}"), "(search Net)");
}

Test(parser, section_lists_objectives_and_limits) {
    cr_assert_str_eq(
        dump_ok("search {\n  trials = 100\n  time = 10m\n"
                "  objective = maximize accuracy, minimize latency\n"
                "  require latency < 300us, params < 200k\n  require flops < 2G\n}"),
        "(search (trials 100) (time (time 600.0)) (objective (list (maximize accuracy) (minimize latency))) "
        "(require (list (< latency (time 0.0003)) (< params 200000))) (require (< flops 2000000000)))");
}

Test(parser, scalarised_objective) {
    cr_assert_str_eq(dump_ok("search { objective = maximize accuracy * (latency / 300us) ^ -0.07 }"),
                     "(search (objective (maximize (* accuracy (^ (/ latency (time 0.0003)) (neg 0.07))))))");
}

Test(parser, bare_objective_entries) {
    cr_assert_str_eq(dump_ok("search {\n maximize accuracy\n minimize memory\n}"),
                     "(search (objective (maximize accuracy)) (objective (minimize memory)))");
}

Test(parser, multiline_entry_list) {
    cr_assert_str_eq(dump_ok("search {\n  objective = maximize accuracy,\n      minimize latency\n}"),
                     "(search (objective (list (maximize accuracy) (minimize latency))))");
}

Test(parser, item_locations_and_file) {
    ast_file *f = parse_src("\n\n  block Foo() -> int { return 1 }");
    ast_item *it = f->items.v[0];
    cr_assert_eq(it->at.line, 3);
    cr_assert_eq(it->at.col, 3);
    cr_assert_eq(it->at.len, 5);
    cr_assert_eq(it->name_at.col, 9);
    cr_assert_eq(it->name_at.len, 3);
    cr_assert_eq(it->file, f->file);
}

/* ----- statements ----- */

Test(parser, assignments) {
    cr_assert_str_eq(stmt_dump("h = x"), "(= h x)");
    cr_assert_str_eq(stmt_dump("let y = f(x)"), "(let y (call f x))");
}

Test(parser, for_loop) {
    cr_assert_str_eq(stmt_dump("for i in 1..depth {\n  h = f(h)\n}"), "(for i 1 depth (= h (call f h)))");
    cr_assert_str_eq(stmt_dump("for i in a + 1..b * 2 { }"), "(for i (+ a 1) (* b 2))");
}

Test(parser, if_else_chains) {
    cr_assert_str_eq(stmt_dump("if a { x = 1 }"), "(if a (then (= x 1)))");
    cr_assert_str_eq(stmt_dump("if a { x = 1 } else { x = 2 }"), "(if a (then (= x 1)) (else (= x 2)))");
    cr_assert_str_eq(stmt_dump("if a {\n x = 1\n} else if b {\n x = 2\n} else {\n x = 3\n}"),
                     "(if a (then (= x 1)) (else (if b (then (= x 2)) (else (= x 3)))))");
}

Test(parser, else_on_next_line) {
    cr_assert_str_eq(stmt_dump("if a {\n x = 1\n}\nelse {\n x = 2\n}"),
                     "(if a (then (= x 1)) (else (= x 2)))");
    cr_assert_str_eq(stmt_dump("if a { x = 1 }\n\n  // why\nelse if b { x = 2 }"),
                     "(if a (then (= x 1)) (else (if b (then (= x 2)))))");
}

Test(parser, require_return_and_expression_statements) {
    cr_assert_str_eq(stmt_dump("require c % g == 0"), "(require (== (% c g) 0))");
    cr_assert_str_eq(stmt_dump("return act(x + y)"), "(return (call act (+ x y)))");
    cr_assert_str_eq(stmt_dump("f(x)"), "(expr (call f x))");
}

Test(parser, statement_separators) {
    const char *d = dump_ok("block B() -> int { a = 1; b = 2;; c = 3\n\n\n d = 4; }");
    cr_assert_str_eq(d, "(block B (-> int) (= a 1) (= b 2) (= c 3) (= d 4))");
}

Test(parser, statement_locations) {
    ast_file *f = parse_src("block B() -> int {\n  let  width = 3 + 4\n}");
    ast_item *it = f->items.v[0];
    ast_stmt *s = it->body.v[0];
    cr_assert_eq(s->at.line, 2);
    cr_assert_eq(s->at.col, 3);
    cr_assert_eq(s->name_at.col, 8);
    cr_assert_eq(s->name_at.len, 5);
    cr_assert_eq(s->value->kind, E_BINOP);
    cr_assert_eq(s->value->at.col, 16);
    cr_assert_eq(s->value->rhs->at.col, 20);
}

/* ----- expressions ----- */

Test(parser, literals) {
    cr_assert_str_eq(expr_dump("42"), "42");
    cr_assert_str_eq(expr_dump("0.5"), "0.5");
    cr_assert_str_eq(expr_dump("1e-3"), "0.001");
    cr_assert_str_eq(expr_dump("100k"), "100000");
    cr_assert_str_eq(expr_dump("\"a\\\"b\""), "\"a\\\"b\"");
    cr_assert_str_eq(expr_dump("true"), "true");
    cr_assert_str_eq(expr_dump("false"), "false");
    cr_assert_str_eq(expr_dump("2ms"), "(time 0.002)");
    cr_assert_str_eq(expr_dump("64KB"), "(bytes 65536.0)");
}

Test(parser, literal_kinds) {
    ast_file *f = parse_src("search { a = 3\n b = 2.0\n c = 1s\n d = \"x\"\n e = true }");
    ast_item *it = f->items.v[0];
    ast_expr_kind want[] = {E_INT, E_FLOAT, E_QUANT, E_STRING, E_BOOL};
    for (int i = 0; i < 5; i++) cr_assert_eq(((ast_entry *)it->entries.v[i])->value->kind, want[i]);
    cr_assert_eq(((ast_entry *)it->entries.v[2])->value->unit, UNIT_TIME);
}

Test(parser, arithmetic_precedence) {
    cr_assert_str_eq(expr_dump("a + b * c - d / e % f"), "(- (+ a (* b c)) (% (/ d e) f))");
    cr_assert_str_eq(expr_dump("(a + b) * c"), "(* (+ a b) c)");
    cr_assert_str_eq(expr_dump("a - b - c"), "(- (- a b) c)");
}

Test(parser, power_and_unary_minus) {
    cr_assert_str_eq(expr_dump("a ^ b ^ c"), "(^ a (^ b c))");
    cr_assert_str_eq(expr_dump("x ^ -0.07"), "(^ x (neg 0.07))");
    cr_assert_str_eq(expr_dump("-x ^ 2"), "(neg (^ x 2))");
    cr_assert_str_eq(expr_dump("-a * b"), "(* (neg a) b)");
    cr_assert_str_eq(expr_dump("a * -b"), "(* a (neg b))");
    cr_assert_str_eq(expr_dump("2 * x ^ 3"), "(* 2 (^ x 3))");
}

Test(parser, logic_and_comparisons) {
    cr_assert_str_eq(expr_dump("a or b and c"), "(or a (and b c))");
    cr_assert_str_eq(expr_dump("not a == b"), "(not (== a b))");
    cr_assert_str_eq(expr_dump("not a and b"), "(and (not a) b)");
    cr_assert_str_eq(expr_dump("s == 1 and c != f or x <= y + 1"),
                     "(or (and (== s 1) (!= c f)) (<= x (+ y 1)))");
    cr_assert_str_eq(expr_dump("a < b"), "(< a b)");
    cr_assert_str_eq(expr_dump("a > b"), "(> a b)");
    cr_assert_str_eq(expr_dump("a >= b"), "(>= a b)");
}

Test(parser, comparisons_do_not_chain) {
    parse_src("block B() -> int {\n  require a < b < c\n}");
    cr_assert_eq(C->n_errors, 1);
    cr_assert_eq(C->diags->at.line, 2);
    cr_assert(strstr(C->diags->msg, "unexpected '<'"), "%s", C->diags->msg);
}

Test(parser, calls) {
    cr_assert_str_eq(expr_dump("f()"), "(call f)");
    cr_assert_str_eq(expr_dump("conv2d(x, 16, kernel = 3, stride = 2)"),
                     "(call conv2d x 16 kernel=3 stride=2)");
    cr_assert_str_eq(expr_dump("f(a)(b)"), "(call (call f a) b)");
    cr_assert_str_eq(expr_dump("(choice {a, b})(x)"), "(call (choice a b) x)");
    cr_assert_str_eq(expr_dump("f(\n  a,\n  k = 1,\n)"), "(call f a k=1)");
}

Test(parser, positional_after_named_is_an_error) {
    parse_src("block B() -> int {\n  let d = f(x, k = 1, 2)\n}");
    cr_assert_eq(C->n_errors, 1);
    cr_assert_str_eq(C->diags->msg, "positional argument after named arguments");
    cr_assert_eq(C->diags->at.line, 2);
    cr_assert_eq(C->diags->at.col, 23);
}

Test(parser, choices) {
    cr_assert_str_eq(expr_dump("choice {16, 32, 64}"), "(choice 16 32 64)");
    cr_assert_str_eq(expr_dump("choice {relu, gelu,}"), "(choice relu gelu)");
    cr_assert_str_eq(expr_dump("choice 1..4"), "(choice-range 1 4)");
    cr_assert_str_eq(expr_dump("choice 1..9 step 2"), "(choice-range 1 9 step 2)");
    cr_assert_str_eq(expr_dump("choice 1..n + 1"), "(choice-range 1 (+ n 1))");
    cr_assert_str_eq(expr_dump("choice [1e-3, 0.3] log"), "(choice-float 0.001 0.3 log)");
    cr_assert_str_eq(expr_dump("choice [0.1, 0.5]"), "(choice-float 0.1 0.5)");
    cr_assert_str_eq(expr_dump("choice 2 of {n0, n1, n2}"), "(choice-of 2 n0 n1 n2)");
    cr_assert_str_eq(expr_dump("choice {f(x), g(x)}"), "(choice (call f x) (call g x))");
}

Test(parser, multiline_choice_sets) {
    cr_assert_str_eq(expr_dump("choice {\n    a,\n    b\n}"), "(choice a b)");
    cr_assert_str_eq(expr_dump("choice {a\n  , b\n  , c\n}"), "(choice a b c)");
    cr_assert_str_eq(expr_dump("f(choice {\n a,\n b\n})"), "(call f (choice a b))");
    cr_assert_str_eq(expr_dump("choice 2 of {\n a,\n b,\n c,\n}"), "(choice-of 2 a b c)");
}

Test(parser, choice_anywhere_parses) {
    /* Misplaced choices are the checker's business; the parser accepts them. */
    cr_assert_str_eq(expr_dump("f(choice {1, 2}) + 1"), "(+ (call f (choice 1 2)) 1)");
}

Test(parser, multiline_expressions) {
    cr_assert_str_eq(expr_dump("a +\n  b *\n  c"), "(+ a (* b c))");
    cr_assert_str_eq(expr_dump("f(a,\n  b)"), "(call f a b)");
    cr_assert_str_eq(expr_dump("(a\n + b)"), "(+ a b)");
}

/* ----- whole files ----- */

/* Parses every *.nas file of dir and requires zero diagnostics; returns
 * how many files were parsed. */
static int parse_dir_clean(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 4 || strcmp(e->d_name + len - 4, ".nas") != 0) continue;
        nasc_ctx *c = ctx_new();
        const char *path = arena_printf(&c->A, "%s/%s", dir, e->d_name);
        int f = ctx_load_file(c, path);
        cr_assert_geq(f, 0, "cannot read %s", path);
        ast_file *a = parse_file(c, f);
        char *r = diag_render_string(c);
        cr_assert_eq(c->n_errors, 0, "%s:\n%s", path, r);
        cr_assert_gt(a->items.n, 0, "%s parsed to nothing", path);
        free(r);
        ctx_destroy(c);
        n++;
    }
    closedir(d);
    return n;
}

Test(parser, spec_examples_parse_clean) {
    cr_assert_geq(parse_dir_clean(NASC_SOURCE_DIR "/tests/fixtures/spec"), 4);
}

Test(parser, stdlib_and_project_examples_parse_clean) {
    /* These folders fill up as the project grows; whatever exists must parse. */
    parse_dir_clean(NASC_SOURCE_DIR "/stdlib/std");
    parse_dir_clean(NASC_SOURCE_DIR "/examples");
}

/* Every example, with its imports resolved through the build tree's stdlib. */
static int program_dir_clean(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 4 || strcmp(e->d_name + len - 4, ".nas") != 0) continue;
        nasc_ctx *c = ctx_new();
        const char *path = arena_printf(&c->A, "%s/%s", dir, e->d_name);
        ast_file *a = parse_program(c, path);
        cr_assert_not_null(a, "%s", path);
        char *r = diag_render_string(c);
        cr_assert_eq(c->n_errors, 0, "%s:\n%s", path, r);
        free(r);
        ctx_destroy(c);
        n++;
    }
    closedir(d);
    return n;
}

Test(parser, examples_with_imports_parse_clean) {
    FILE *fp = fopen(NASC_SOURCE_DIR "/stdlib/std/cells.nas", "r");
    if (!fp) cr_skip_test("stdlib not written yet");
    fclose(fp);
    cr_assert_geq(program_dir_clean(NASC_SOURCE_DIR "/tests/fixtures/spec"), 4);
    program_dir_clean(NASC_SOURCE_DIR "/examples");
}

Test(parser, spec_example_tree) {
    int f = ctx_load_file(C, NASC_SOURCE_DIR "/tests/fixtures/spec/fashion_mlp.nas");
    cr_assert_geq(f, 0);
    ast_file *a = parse_file(C, f);
    cr_assert_eq(C->n_errors, 0);
    cr_assert_str_eq(
        ast_dump(C, a),
        "(space FashionMLP (param x (tensor 1 28 28)) (-> (tensor 10)) "
        "(let depth (choice-range 1 3)) (let act (choice relu gelu tanh)) (= h (call flatten x)) "
        "(for i 1 depth (let width (choice 64 128 256 512)) (= h (call act (call dense h width)))) "
        "(return (call dense h 10)))\n"
        "(train (data fashion_mnist) (split 0.1) (epochs 1) (batch 128) "
        "(optimizer (call sgd lr=0.05 momentum=0.9)))\n"
        "(search (strategy (call evolution population=16 sample=4)) (trials 40) "
        "(objective (maximize accuracy)) (require (< params 300000)))");
}

/* ----- errors ----- */

Test(parser, three_errors_three_diagnostics) {
    int f = ctx_load_file(C, FIX "/errors3.nas");
    cr_assert_geq(f, 0);
    ast_file *a = parse_file(C, f);
    cr_assert_eq(count_diags(), 3, "%s", diag_render_string(C));
    int lines[3], i = 0;
    for (diag *d = C->diags; d; d = d->next) lines[i++] = d->at.line;
    cr_assert_eq(lines[0], 5);
    cr_assert_eq(lines[1], 8);
    cr_assert_eq(lines[2], 13);
    /* Recovery keeps the items and the statements around the errors; an
     * error inside brackets recovers at the matching close. */
    cr_assert_str_eq(
        ast_dump(C, a),
        "(enum Norm batch layer)\n"
        "(block Good (param x (tensor c)) (-> (tensor c)) (let a <error>) (let b (call relu x)) "
        "(= b (+ b x)) (return b))\n"
        "(space S (param x (tensor 4)) (-> (tensor 4)) (let w (choice)) (return (call Good x)))");
}

Test(parser, rendered_syntax_error) {
    int f = ctx_add_file(C, "bad.nas", "space S(x: Tensor[1]) -> Tensor[1] {\n    let bb = (3 * )\n}\n", 56);
    parse_file(C, f);
    char *r = diag_render_string(C);
    cr_assert_str_eq(r, "bad.nas:2:19: error: syntax error, unexpected ')'\n"
                        "      let bb = (3 * )\n"
                        "                    ^\n");
    free(r);
}

Test(parser, expected_tokens_are_named) {
    parse_src("enum E { a b }");
    cr_assert_str_eq(C->diags->msg, "syntax error, unexpected identifier, expecting newline or '}' or ','");
    cr_assert_eq(C->diags->at.col, 12);
}

Test(parser, unexpected_newline_and_end_of_file) {
    parse_src("block B() -> int {\n  return\n}");
    cr_assert(strstr(C->diags->msg, "unexpected newline"), "%s", C->diags->msg);
    ctx_destroy(C);
    C = ctx_new();
    parse_src("block B() -> int {\n  x = f(");
    cr_assert(strstr(C->diags->msg, "unexpected end of file"), "%s", C->diags->msg);
}

Test(parser, header_errors_recover_at_the_body) {
    /* The body after a broken `for` header is still parsed (and checked). */
    ast_file *a =
        parse_src("block B() -> int {\n  for i in 1 to 3 {\n    x = (\n  }\n  return 1\n}\nenum E { e }");
    cr_assert_eq(C->n_errors, 2, "%s", diag_render_string(C));
    cr_assert_eq(C->diags->at.line, 2);
    cr_assert_eq(C->diags->next->at.line, 4);
    cr_assert_str_eq(ast_dump(C, a), "(block B (-> int) (return 1))\n(enum E e)");
}

Test(parser, brace_closes_unclosed_brackets) {
    ast_file *a =
        parse_src("block B() -> int {\n  x = f(a\n}\nblock C() -> int {\n  y = [1, (2\n}\nenum E { e }");
    /* Line 5 also has a real syntax error: `[` cannot start an expression. */
    cr_assert_eq(C->n_errors, 3, "%s", diag_render_string(C));
    cr_assert_str_eq(C->diags->msg, "expected ')' before '}' to close the '(' at line 2, column 8");
    cr_assert_eq(C->diags->at.line, 3);
    cr_assert_eq(C->diags->at.col, 1);
    cr_assert_str_eq(C->diags->next->msg, "syntax error, unexpected '['");
    cr_assert_str_eq(C->diags->next->next->msg,
                     "expected ')' before '}' to close the '(' at line 5, column 11");
    cr_assert_str_eq(ast_dump(C, a), "(block B (-> int) (= x (call f a)))\n(block C (-> int))\n(enum E e)");
}

Test(parser, closed_brackets_do_not_catch_later_errors) {
    /* A missing `{` after a header must not make the parser skip to some
     * later `)` (the header's `(` is closed already). */
    ast_file *a =
        parse_src("block B(x: int) -> Tensor[1]\n{\n  return x\n}\nspace S(y: int) -> int { return y }\n"
                  "block C() -> float { return choice [1, 2] z }\nenum E { e }");
    cr_assert_eq(C->n_errors, 2, "%s", diag_render_string(C));
    cr_assert_str_eq(C->diags->msg, "syntax error, unexpected newline, expecting '{'");
    cr_assert_eq(C->diags->next->at.line, 6);
    cr_assert_str_eq(ast_dump(C, a),
                     "(space S (param y int) (-> int) (return y))\n(block C (-> float))\n(enum E e)");
}

Test(parser, errors_inside_brackets) {
    ast_file *a = parse_src("block B(x: Tensor[1 2]) -> int {\n  y = f(1 2, 3)\n  z = choice [1 2] log\n"
                            "  w = choice 2 of {a b}\n}\nenum E { a b }\nenum F { f }");
    cr_assert_eq(C->n_errors, 5, "%s", diag_render_string(C));
    cr_assert_str_eq(
        ast_dump(C, a),
        "(block B (param x (tensor)) (-> int) (= y (call f)) (= z (choice-float <error> <error> log)) "
        "(= w (choice-of 2)))\n(enum E)\n(enum F f)");
}

Test(parser, item_level_recovery) {
    ast_file *a = parse_src("blok X() -> int {\n  return 1\n}\nenum E { a }\n");
    cr_assert_eq(C->n_errors, 1);
    cr_assert_eq(C->diags->at.line, 1);
    cr_assert_str_eq(ast_dump(C, a), "(enum E a)");
}

Test(parser, error_in_last_statement_before_brace) {
    ast_file *a = parse_src("block B() -> int { x = ) }\nenum E { a }");
    cr_assert_eq(C->n_errors, 1);
    cr_assert_str_eq(ast_dump(C, a), "(block B (-> int))\n(enum E a)");
}

Test(parser, lexer_errors_do_not_stop_parsing) {
    ast_file *a = parse_src("enum E { a $ }\nenum F { b }");
    cr_assert_eq(C->n_errors, 1);
    cr_assert_str_eq(C->diags->msg, "unexpected character '$'");
    cr_assert_str_eq(ast_dump(C, a), "(enum E a)\n(enum F b)");
}

Test(parser, deep_nesting_does_not_crash) {
    size_t n = 30000;
    char *src = malloc(n * 2 + 32);
    strcpy(src, "search { a = ");
    size_t k = strlen(src);
    for (size_t i = 0; i < n; i++) src[k++] = i % 2 ? '(' : '-';
    src[k] = 0;
    parse_src(src);
    free(src);
    cr_assert_gt(C->n_errors, 0);
}

/* ----- imports ----- */

Test(parser, imports_load_each_module_once_in_order) {
    vec_push(&C->A, C->include_dirs, FIX "/lib");
    ast_file *a = parse_program(C, FIX "/main_imports.nas");
    cr_assert_not_null(a);
    cr_assert_eq(C->n_errors, 0, "%s", diag_render_string(C));
    cr_assert_str_eq(ast_dump(C, a),
                     "(enum Mode fast slow)\n"
                     "(import util.base)\n"
                     "(block Twice (param x (tensor n)) (-> (tensor n)) (return (+ x x)))\n"
                     "(import util.math)\n"
                     "(import util.base)\n"
                     "(space S (param x (tensor 8)) (-> (tensor 8)) (return (call Twice x)))");
    /* Each item knows its file. */
    ast_item *first = a->items.v[0], *last = a->items.v[a->items.n - 1];
    cr_assert(strstr(C->files.v[first->file].path, "util/base.nas"));
    cr_assert(strstr(C->files.v[last->file].path, "main_imports.nas"));
    cr_assert_eq(a->file, last->file);
    cr_assert_eq(C->files.n, 3);
}

Test(parser, imports_search_nasc_path) {
    setenv("NASC_PATH", "/nonexistent/dir::" FIX "/lib", 1);
    ast_file *a = parse_program(C, FIX "/main_imports.nas");
    cr_assert_not_null(a);
    cr_assert_eq(C->n_errors, 0, "%s", diag_render_string(C));
    cr_assert_eq(a->items.n, 6);
}

Test(parser, import_cycle_is_an_error) {
    vec_push(&C->A, C->include_dirs, FIX "/lib");
    ast_file *a = parse_program(C, FIX "/main_cycle.nas");
    cr_assert_not_null(a);
    cr_assert_eq(C->n_errors, 1, "%s", diag_render_string(C));
    cr_assert_str_eq(C->diags->msg, "import cycle: cyc.a -> cyc.b -> cyc.a");
    cr_assert_eq(C->diags->at.col, 8);
    cr_assert_eq(C->diags->at.len, 5);
    cr_assert(strstr(C->files.v[C->diags->at.file].path, "cyc/b.nas"));
    cr_assert_eq(C->diags->at.line, 1);
    /* The modules still contribute their items. */
    cr_assert_eq(a->items.n, 6);
}

Test(parser, missing_module_lists_search_path) {
    vec_push(&C->A, C->include_dirs, FIX "/lib");
    ast_file *a = parse_program(C, FIX "/main_missing.nas");
    cr_assert_not_null(a);
    cr_assert_eq(C->n_errors, 1);
    cr_assert_str_eq(C->diags->msg, "module 'no.such.module' not found");
    cr_assert_eq(C->diags->at.line, 2);
    cr_assert_not_null(C->diags->notes);
    const char *note = C->diags->notes->msg;
    cr_assert(strstr(note, "no/such/module.nas"), "%s", note);
    cr_assert(strstr(note, FIX "/lib/no/such/module.nas"), "%s", note);
    cr_assert(strstr(note, NASC_SOURCE_DIR "/stdlib/no/such/module.nas"), "%s", note);
    cr_assert_eq(a->items.n, 2);
}

Test(parser, unreadable_main_file_returns_null_silently) {
    cr_assert_null(parse_program(C, FIX "/does_not_exist.nas"));
    cr_assert_eq(C->n_errors, 0);
    cr_assert_null(C->diags);
}

Test(parser, stdlib_imports_resolve_when_present) {
    /* The spec examples import std.* from the build tree's stdlib/. */
    FILE *fp = fopen(NASC_SOURCE_DIR "/stdlib/std/blocks.nas", "r");
    if (!fp) cr_skip_test("stdlib/std/blocks.nas not written yet");
    fclose(fp);
    ast_file *a = parse_program(C, NASC_SOURCE_DIR "/tests/fixtures/spec/fashion_cnn.nas");
    cr_assert_not_null(a);
    cr_assert_eq(C->n_errors, 0, "%s", diag_render_string(C));
    cr_assert_gt(C->files.n, 1);
}

/* Builds `let s = 1 + 1 + ...` with `ops` operators. */
static const char *long_sum(int ops) {
    char *s = arena_alloc(&C->A, (size_t)ops * 4 + 64);
    strcpy(s, "search { s = 1");
    for (int i = 0; i < ops; i++) strcat(s, " + 1");
    strcat(s, "\n t = 2 }");
    return s;
}

Test(parser, statement_size_limit) {
    ast_file *a = parse_src(long_sum(1000));
    cr_assert_eq(C->n_errors, 0);
    ast_entry *e = ((ast_item *)a->items.v[0])->entries.v[0];
    cr_assert_eq(e->value->kind, E_BINOP);
    ctx_destroy(C);
    C = ctx_new();
    a = parse_src(long_sum(1001));
    cr_assert_eq(count_diags(), 1, "%s", diag_render_string(C));
    cr_assert(strstr(C->diags->msg, "statement too complex"), "%s", C->diags->msg);
    /* Recovery resumes at the next line. */
    cr_assert_str_eq(ast_dump(C, a), "(search (t 2))");
}
