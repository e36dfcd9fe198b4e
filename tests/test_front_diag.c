/* test_front_diag.c: whole rendered diagnostics, exactly.
 *
 * Two parts.  The renderer itself (diag_render): header, source excerpt,
 * the caret's column under tabs and spans, notes.  Then golden files: each
 * tests/fixtures/diag/NAME.nas is checked as `nasc check` would check it,
 * and everything the one renderer prints must equal NAME.expected byte for
 * byte (an empty .expected: the file must check clean).  A new case is a
 * pair of files; NASC_UPDATE_GOLDEN=1 rewrites the .expected files from
 * the current output, to be read before they are committed.
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ast.h"
#include "space.h"

#define DIAG_DIR NASC_SOURCE_DIR "/tests/fixtures/diag"

/* ----- the renderer ----- */

static char *render(nasc_ctx *c) {
    char *s = diag_render_string(c);
    cr_assert(s);
    return s;
}

static loc at(int file, int line, int col, int len) {
    loc l = {file, line, col, len};
    return l;
}

Test(render, caret_under_the_column) {
    nasc_ctx *c = ctx_new();
    int f = ctx_add_file(c, "a.nas", "let x = 1\nlet yy = zz + 2\n", 26);
    diag_error(c, at(f, 2, 10, 2), "unknown name '%s'", "zz");
    char *s = render(c);
    cr_assert_str_eq(s, "a.nas:2:10: error: unknown name 'zz'\n"
                        "  let yy = zz + 2\n"
                        "           ^~\n");
    free(s);
    ctx_destroy(c);
}

Test(render, caret_keeps_tabs_and_clips_the_span_at_the_line_end) {
    nasc_ctx *c = ctx_new();
    const char *src = "\t\tx = dense(h, 3)\n";
    int f = ctx_add_file(c, "t.nas", src, strlen(src));
    diag_error(c, at(f, 1, 7, 40), "long span");
    char *s = render(c);
    cr_assert_str_eq(s, "t.nas:1:7: error: long span\n"
                        "  \t\tx = dense(h, 3)\n"
                        "  \t\t    ^~~~~~~~~~~\n");
    free(s);
    ctx_destroy(c);
}

Test(render, notes_follow_their_error_and_skip_a_repeated_excerpt) {
    nasc_ctx *c = ctx_new();
    const char *src = "block A(x: Tensor[n]) -> Tensor[n] { return x }\nblock A(x: Tensor[n]) -> Tensor[n] { "
                      "return x }\n";
    int f = ctx_add_file(c, "t.nas", src, strlen(src));
    diag *d = diag_error(c, at(f, 2, 7, 1), "block 'A' is defined twice");
    diag_note(c, d, at(f, 1, 7, 1), "first defined here");
    diag_note(c, d, at(f, 2, 7, 1), "when k = 3");
    diag_note(c, d, loc_none(), "no place");
    char *s = render(c);
    cr_assert_str_eq(s, "t.nas:2:7: error: block 'A' is defined twice\n"
                        "  block A(x: Tensor[n]) -> Tensor[n] { return x }\n"
                        "        ^\n"
                        "t.nas:1:7: note: first defined here\n"
                        "  block A(x: Tensor[n]) -> Tensor[n] { return x }\n"
                        "        ^\n"
                        "t.nas:2:7: note: when k = 3\n"
                        "nasc: note: no place\n");
    free(s);
    ctx_destroy(c);
}

Test(render, a_place_past_the_text_draws_no_garbage) {
    nasc_ctx *c = ctx_new();
    int f = ctx_add_file(c, "t.nas", "ab", 2);
    diag_error(c, at(f, 1, 9, 3), "at the end");
    diag_error(c, at(f, 7, 1, 1), "past the last line");
    diag_error(c, at(99, 1, 1, 1), "no such file");
    char *s = render(c);
    cr_assert_str_eq(s, "t.nas:1:9: error: at the end\n"
                        "  ab\n"
                        "    ^\n"
                        "t.nas:7:1: error: past the last line\n"
                        "  \n"
                        "  ^\n"
                        "nasc: error: no such file\n");
    free(s);
    ctx_destroy(c);
}

Test(render, sort_since_puts_later_diagnostics_in_source_order) {
    nasc_ctx *c = ctx_new();
    int f = ctx_add_file(c, "t.nas", "a\nb\nc\n", 6);
    diag *first = diag_error(c, at(f, 3, 1, 1), "kept first: before the mark");
    diag_error(c, at(f, 3, 1, 1), "c");
    diag_error(c, at(f, 1, 1, 1), "a");
    diag_error(c, at(f, 3, 1, 1), "c again");
    diag_error(c, at(f, 2, 1, 1), "b");
    diag_sort_since(c, first);
    /* After the mark: a (line 1), b (2), then c and c again (3, as recorded). */
    const char *order[] = {"kept first: before the mark", "a", "b", "c", "c again"};
    int i = 0;
    for (diag *d = c->diags; d; d = d->next, i++) cr_assert_str_eq(d->msg, order[i]);
    cr_assert_eq(i, 5);
    cr_assert_str_eq(c->diags_tail->msg, "c again");
    diag_error(c, at(f, 1, 1, 1), "appended after sorting");
    cr_assert_str_eq(c->diags_tail->msg, "appended after sorting");
    ctx_destroy(c);
}

Test(render, an_exact_repeat_is_counted_once_shown_once) {
    nasc_ctx *c = ctx_new();
    int f = ctx_add_file(c, "t.nas", "a\nb\n", 4);
    diag *d = diag_error(c, at(f, 1, 1, 1), "unknown name '%s'", "a");
    diag_note(c, d, at(f, 1, 1, 1), "did you mean 'b'?");
    ctx_mark m = ctx_get_mark(c);
    for (int i = 0; i < 30; i++) {
        diag *r = diag_error(c, at(f, 1, 1, 1), "unknown name '%s'", "a");
        diag_note(c, r, at(f, 1, 1, 1), "did you mean 'b'?");
    }
    diag_error(c, at(f, 1, 2, 1), "unknown name '%s'", "a"); /* another place: kept */
    cr_assert_eq(c->n_errors, 32);
    char *s = render(c);
    cr_assert_str_eq(s, "t.nas:1:1: error: unknown name 'a'\n"
                        "  a\n"
                        "  ^\n"
                        "t.nas:1:1: note: did you mean 'b'?\n"
                        "t.nas:1:2: error: unknown name 'a'\n"
                        "  a\n"
                        "   ^\n");
    free(s);
    ctx_release(c, m); /* the repeats leave no trace on the kept error */
    cr_assert_eq(c->n_errors, 1);
    cr_assert_eq(c->n_repeats, 0);
    cr_assert_null(c->diags->next);
    cr_assert_null(c->diags->notes->next);
    ctx_destroy(c);
}

/* ----- golden files ----- */

/* A file's text (through the front end's own reader), or NULL. */
static char *slurp(const char *path) {
    nasc_ctx *c = ctx_new();
    int id = ctx_load_file(c, path);
    char *s = id < 0 ? NULL : strdup(c->files.v[id].text);
    ctx_destroy(c);
    return s;
}

/* What `nasc check NAME.nas` renders, run from the fixtures folder so the
 * paths in the messages are the bare file names. */
static char *check_output(const char *name) {
    nasc_ctx *c = ctx_new();
    vec_push(&c->A, c->include_dirs, "."); /* as the CLI: the file's own folder first */
    vec_push(&c->A, c->include_dirs, NASC_SOURCE_DIR "/stdlib");
    ast_file *f = parse_program(c, name);
    cr_assert(f, "%s: cannot read", name);
    if (c->n_errors == 0) prog_check(c, f);
    char *s = render(c);
    ctx_destroy(c);
    return s;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

Test(golden, every_fixture_renders_as_expected) {
    cr_assert(chdir(DIAG_DIR) == 0, "no folder %s", DIAG_DIR);
    DIR *d = opendir(".");
    cr_assert(d);
    char *names[512];
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) && n < 512;) {
        size_t l = strlen(e->d_name);
        if (l > 4 && !strcmp(e->d_name + l - 4, ".nas")) names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, by_name);
    cr_assert(n >= 10, "only %d golden files in %s", n, DIAG_DIR);
    bool update = getenv("NASC_UPDATE_GOLDEN") != NULL;
    for (int i = 0; i < n; i++) {
        char exp_path[600];
        snprintf(exp_path, sizeof exp_path, "%.*s.expected", (int)strlen(names[i]) - 4, names[i]);
        char *got = check_output(names[i]);
        if (update) {
            FILE *fp = fopen(exp_path, "wb");
            cr_assert(fp);
            fputs(got, fp);
            fclose(fp);
        }
        char *want = slurp(exp_path);
        cr_expect(want != NULL, "%s: no %s", names[i], exp_path);
        if (want)
            cr_expect_str_eq(got, want, "%s: rendered diagnostics differ\n--- got:\n%s--- expected:\n%s",
                             names[i], got, want);
        free(want);
        free(got);
        free(names[i]);
    }
}

/* ----- limits and tables that golden files cannot show well ----- */

/* What checking a source text renders (no imports). */
static char *check_text(const char *src) {
    nasc_ctx *c = ctx_new();
    int id = ctx_add_file(c, "t.nas", src, strlen(src));
    ast_file *f = parse_file(c, id);
    if (c->n_errors == 0) prog_check(c, f);
    char *s = render(c);
    ctx_destroy(c);
    return s;
}

Test(sections, a_huge_section_is_an_error_not_a_quadratic_wait) {
    /* 5000 keys, each reading the first: every lookup scans the keys
     * before it, so the limit is what keeps this fast. */
    size_t cap = 200000, n = 0;
    char *src = malloc(cap);
    n += (size_t)snprintf(src + n, cap - n,
                          "space S(x: Tensor[4]) -> Tensor[2] {\n return dense(x, 2)\n}\n"
                          "train {\n k0 = 1\n");
    for (int i = 1; i < 5000; i++) n += (size_t)snprintf(src + n, cap - n, " k%d = k0\n", i);
    n += (size_t)snprintf(src + n, cap - n, " epochs = k4999\n}\n");
    char *s = check_text(src);
    cr_assert(strstr(s, "t.nas:4101:2: error: a section may set at most 4096 keys, this one sets 5001\n"),
              "%.400s", s);
    free(s);
    free(src);
}

Test(sections, key_tables_list_what_the_runtime_reads) {
    const char *const *t = section_keys(false), *const *s = section_keys(true);
    int nt = 0, ns = 0;
    while (t[nt]) nt++;
    while (s[ns]) ns++;
    cr_assert_eq(nt, 14);
    cr_assert_eq(ns, 11);
    cr_assert_str_eq(t[0], "data");
    cr_assert_str_eq(s[ns - 1], "quant");
}

Test(sections, every_metric_has_one_dimension) {
    cr_assert_eq(metric_find("latency")->dim, MD_TIME);
    cr_assert_eq(metric_find("train_time")->dim, MD_TIME);
    cr_assert_eq(metric_find("memory")->dim, MD_BYTES);
    cr_assert_eq(metric_find("ram")->dim, MD_BYTES);
    cr_assert_eq(metric_find("flash")->dim, MD_BYTES);
    cr_assert_eq(metric_find("params")->dim, MD_NUMBER);
    cr_assert_eq(metric_find("accuracy")->dim, MD_NUMBER);
    cr_assert_not(metric_find("test_accuracy")->goal); /* reported, never used to select */
    cr_assert_null(metric_find("acuracy"));
    cr_assert_str_eq(metric_dim_name(MD_BYTES), "a size in bytes");
    int n, goals = 0;
    const metric_info *t = metric_table(&n);
    for (int i = 0; i < n; i++) goals += t[i].goal;
    cr_assert_eq(n, 22); /* 10, test_accuracy, epochs, the 8 more proxies of docs/proxies.md, ram, flash */
    cr_assert_eq(goals, 21);
}

Test(sections, external_metrics_have_no_known_dimension) {
    char *s = check_text("space S(x: Tensor[4]) -> Tensor[2] {\n return dense(x, 2)\n}\n"
                         "search {\n evaluator = exec(\"./eval.sh\")\n objective = maximize energy\n"
                         " require energy < 2ms, latency < 3\n}\n");
    cr_assert_str_eq(s, "t.nas:7:34: error: latency is a time, so it cannot be compared with a number (3)\n"
                        "   require energy < 2ms, latency < 3\n"
                        "                                   ^\n"
                        "t.nas:7:34: note: a time is written with a unit: us, ms, s, m or h (300us, 2ms)\n");
    free(s);
}
