/* test_front_fuzz.c: the whole front end (parse, check, sample, build a
 * point's graph) on every prefix of every example and library file and on
 * random mutations of them: no crash, no hang, no leak (run under ASan),
 * and every graph a sample builds passes the IR verifier. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ast.h"
#include "space.h"

static char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)len + 1);
    *n = fread(b, 1, (size_t)len, f);
    b[*n] = 0;
    fclose(f);
    return b;
}

/* Runs everything a user's `check` and `sample`+`show` would. */
static int checked_count;

static void front(const char *text, size_t n) {
    nasc_ctx *c = ctx_new();
    c->max_errors = 5;
    vec_push(&c->A, c->include_dirs, NASC_SOURCE_DIR "/stdlib");
    int id = ctx_add_file(c, "fuzz.nas", text, n);
    ast_file *f = parse_file(c, id);
    if (!c->n_errors) {
        program *p = prog_check(c, f);
        checked_count++;
        cr_assert(c->n_internal == 0, "internal error on:\n%.*s\n%s", (int)n, text, diag_render_string(c));
        for (int i = 0; i < p->spaces.n && !c->n_errors; i++) {
            space_ir *s = p->spaces.v[i];
            uint64_t rng = 1;
            assignment *a = asg_new(c, s);
            if (!space_sample(c, p, s, &rng, a, 20)) continue;
            ir_graph g = {0};
            bool feasible;
            if (space_run(c, p, s, a, &g, &feasible))
                cr_assert_null(ir_graph_verify(&g, 0, (char[256]){0}, 256), "bad graph for:\n%.*s", (int)n,
                               text);
            cr_assert(c->n_internal == 0, "internal error on:\n%.*s\n%s", (int)n, text,
                      diag_render_string(c));
        }
    }
    ctx_destroy(c);
}

typedef struct corpus {
    char *text[64];
    size_t len[64];
    int n;
} corpus;

static void add_dir(corpus *cp, const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) && cp->n < 64) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcmp(e->d_name + l - 4, ".nas")) continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        cp->text[cp->n] = slurp(path, &cp->len[cp->n]);
        if (cp->text[cp->n]) cp->n++;
    }
    closedir(d);
}

static corpus load(void) {
    corpus cp = {0};
    add_dir(&cp, NASC_SOURCE_DIR "/examples");
    add_dir(&cp, NASC_SOURCE_DIR "/stdlib/std");
    add_dir(&cp, NASC_SOURCE_DIR "/tests/fixtures/spec");
    return cp;
}

static void unload(corpus *cp) {
    for (int i = 0; i < cp->n; i++) free(cp->text[i]);
}

Test(fuzz, every_line_prefix, .timeout = 120) {
    corpus cp = load();
    cr_assert(cp.n >= 4);
    for (int i = 0; i < cp.n; i++)
        for (size_t k = 0; k <= cp.len[i]; k++)
            if (k == cp.len[i] || cp.text[i][k] == '\n') front(cp.text[i], k);
    cr_log_info("%d inputs reached the checker", checked_count);
    cr_expect(checked_count > 0);
    unload(&cp);
}

/* Mutations that keep the text mostly valid reach the checker: swap a
 * number, a name or an operator for another from the same file. */
Test(fuzz, token_mutations, .timeout = 120) {
    corpus cp = load();
    static const char *subs[] = {"0",           "1",
                                 "2",           "-3",
                                 "100000",      "999999999999",
                                 "x",           "h",
                                 "c",           "true",
                                 "relu",        "+",
                                 "*",           "/",
                                 "%",           "(",
                                 ")",           ",",
                                 "..",          "choice {1, 2}",
                                 "choice 0..2", "[",
                                 "concat(",     "dense(",
                                 "conv2d(",     "return",
                                 "\n",          "for i in 1..3 {",
                                 "}",           "if c > 2 {"};
    uint64_t r = 42;
    for (int iter = 0; iter < 3000; iter++) {
        r ^= r << 13;
        r ^= r >> 7;
        r ^= r << 17;
        int fi = (int)(r % (uint64_t)cp.n);
        size_t n = cp.len[fi];
        if (!n) continue;
        size_t at = (size_t)(r >> 20) % n, cut = (size_t)(r >> 40) % 6;
        const char *sub = subs[(r >> 8) % (sizeof subs / sizeof subs[0])];
        size_t sl = strlen(sub);
        if (at + cut > n) cut = n - at;
        char *m = malloc(n + sl + 1);
        memcpy(m, cp.text[fi], at);
        memcpy(m + at, sub, sl);
        memcpy(m + at + sl, cp.text[fi] + at + cut, n - at - cut);
        size_t mn = n - cut + sl;
        m[mn] = 0;
        front(m, mn);
        free(m);
    }
    cr_log_info("%d inputs reached the checker", checked_count);
    cr_expect(checked_count > 0);
    unload(&cp);
}

Test(fuzz, byte_mutations, .timeout = 120) {
    corpus cp = load();
    uint64_t r = 7;
    for (int iter = 0; iter < 1500; iter++) {
        r ^= r << 13;
        r ^= r >> 7;
        r ^= r << 17;
        int fi = (int)(r % (uint64_t)cp.n);
        size_t n = cp.len[fi];
        char *m = malloc(n + 1);
        memcpy(m, cp.text[fi], n);
        for (int k = 0; k < 3 && n; k++) {
            r ^= r << 13;
            r ^= r >> 7;
            r ^= r << 17;
            m[(r >> 16) % n] = (char)(r >> 56);
        }
        m[n] = 0;
        front(m, n);
        free(m);
    }
    cr_log_info("%d inputs reached the checker", checked_count);
    cr_expect(checked_count > 0);
    unload(&cp);
}
