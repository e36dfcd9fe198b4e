/* test_front_robust.c: the front end survives any input.
 *
 * Every prefix of every example file, thousands of seeded random byte
 * mutations, random token soups and random bytes must parse without a
 * crash or a hang, give diagnostics with valid locations, and produce
 * trees without holes (no NULL child where the checker expects a node).
 * Seeds are fixed, so a failure reproduces.
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "parse_internal.h"

TestSuite(robust, .timeout = 30);

typedef struct text {
    char *s;
    size_t n;
} text;

/* All *.nas files of the spec examples and of the project's examples/. */
static int load_examples(text *out, int max) {
    static const char *dirs[] = {NASC_SOURCE_DIR "/tests/fixtures/spec", NASC_SOURCE_DIR "/examples"};
    int n = 0;
    for (size_t k = 0; k < sizeof dirs / sizeof dirs[0]; k++) {
        DIR *d = opendir(dirs[k]);
        if (!d) continue;
        struct dirent *e;
        while ((e = readdir(d)) && n < max) {
            size_t len = strlen(e->d_name);
            if (len < 4 || strcmp(e->d_name + len - 4, ".nas") != 0) continue;
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", dirs[k], e->d_name);
            FILE *fp = fopen(path, "rb");
            if (!fp) continue;
            text t = {malloc(1 << 20), 0};
            t.n = fread(t.s, 1, (1 << 20) - 1, fp);
            fclose(fp);
            out[n++] = t;
        }
        closedir(d);
    }
    return n;
}

static void free_examples(text *t, int n) {
    for (int i = 0; i < n; i++) free(t[i].s);
}

static int count_lines(const char *s, size_t n) {
    int lines = 1;
    for (size_t i = 0; i < n; i++) lines += s[i] == '\n';
    return lines;
}

/* Parses src and checks what must hold for any input. Returns the error count. */
static int parse_checked(const char *src, size_t n) {
    nasc_ctx *c = ctx_new();
    c->max_errors = 1000;
    int f = ctx_add_file(c, "fuzz.nas", src, n);
    ast_file *a = parse_file(c, f);
    cr_assert_not_null(a);
    int lines = count_lines(src, n);
    for (diag *d = c->diags; d; d = d->next) {
        cr_assert_eq(d->kind, DIAG_ERROR, "%s", d->msg);
        cr_assert_eq(d->at.file, f);
        cr_assert(d->at.line >= 1 && d->at.line <= lines, "line %d of %d: %s", d->at.line, lines, d->msg);
        cr_assert_geq(d->at.col, 1);
    }
    const char *dump = ast_dump(c, a);
    cr_assert_null(strstr(dump, "<null>"), "a recovered tree has a hole: %s", dump);
    for (int i = 0; i < a->items.n; i++) cr_assert_eq(((ast_item *)a->items.v[i])->file, f);
    int errors = c->n_errors;
    ctx_destroy(c);
    return errors;
}

static uint64_t rng_state;
static uint64_t rnd(void) {
    /* xorshift64*: fixed seeds make every failure reproducible. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}
static size_t rnd_below(size_t n) { return n ? (size_t)(rnd() % n) : 0; }

Test(robust, examples_parse_clean) {
    text ex[64];
    int n = load_examples(ex, 64);
    cr_assert_geq(n, 4);
    for (int i = 0; i < n; i++) cr_assert_eq(parse_checked(ex[i].s, ex[i].n), 0);
    free_examples(ex, n);
}

Test(robust, every_prefix) {
    text ex[64];
    int n = load_examples(ex, 64);
    cr_assert_geq(n, 4);
    long parsed = 0;
    for (int i = 0; i < n; i++)
        for (size_t k = 0; k <= ex[i].n; k++, parsed++) parse_checked(ex[i].s, k);
    cr_assert_gt(parsed, 1000);
    free_examples(ex, n);
}

/* One random edit: flip, insert (including NUL and 0xff) or delete a byte. */
static size_t mutate(char *buf, size_t n, size_t cap) {
    static const unsigned char special[] = {0, 0xff, '\n', '{', '}', '(', ')', '"', '/', '*', '.', ',', '\\'};
    size_t at = rnd_below(n + 1);
    switch (rnd_below(3)) {
    case 0:
        if (n) buf[at < n ? at : n - 1] = (char)rnd_below(256);
        return n;
    case 1:
        if (n + 1 >= cap) return n;
        memmove(buf + at + 1, buf + at, n - at);
        buf[at] = (char)(rnd_below(2) ? special[rnd_below(sizeof special)] : rnd_below(256));
        return n + 1;
    default:
        if (!n || at >= n) return n;
        memmove(buf + at, buf + at + 1, n - at - 1);
        return n - 1;
    }
}

Test(robust, seeded_byte_mutations) {
    text ex[64];
    int n = load_examples(ex, 64);
    cr_assert_geq(n, 4);
    rng_state = 0x9e3779b97f4a7c15ULL;
    int with_errors = 0, runs = 4000;
    for (int r = 0; r < runs; r++) {
        const text *t = &ex[r % n];
        size_t cap = t->n + 64;
        char *buf = malloc(cap);
        memcpy(buf, t->s, t->n);
        size_t len = t->n;
        int edits = 1 + (int)rnd_below(8);
        for (int e = 0; e < edits; e++) len = mutate(buf, len, cap);
        with_errors += parse_checked(buf, len) > 0;
        free(buf);
    }
    /* Most mutations break something; the parser must notice. */
    cr_assert_gt(with_errors, runs / 4);
    free_examples(ex, n);
}

Test(robust, random_token_soup) {
    static const char *toks[] = {
        "import ", "enum ", "block ",  "space ",   "train ",    "search ",   "let ",  "for ",   "in ",
        "if ",     "else ", "return ", "require ", "choice ",   "of ",       "step ", "log ",   "true ",
        "false ",  "and ",  "or ",     "not ",     "maximize ", "minimize ", "int ",  "float ", "bool ",
        "Tensor ", "x ",    "h ",      "42 ",      "0.5 ",      "2ms ",      "64KB ", "\"s\" ", "(",
        ")",       "[",     "]",       "{",        "}",         ",",         ":",     ".",      "..",
        "->",      "=",     "==",      "<",        "+",         "-",         "*",     "/",      "^",
        ";",       "\n",    "\n",      "\n"};
    rng_state = 12345;
    char buf[1024];
    for (int r = 0; r < 2000; r++) {
        size_t len = 0;
        int ntok = 1 + (int)rnd_below(60);
        for (int i = 0; i < ntok; i++) {
            const char *t = toks[rnd_below(sizeof toks / sizeof toks[0])];
            size_t k = strlen(t);
            if (len + k >= sizeof buf) break;
            memcpy(buf + len, t, k);
            len += k;
        }
        parse_checked(buf, len);
    }
}

Test(robust, random_bytes) {
    rng_state = 777;
    char buf[512];
    int with_errors = 0;
    for (int r = 0; r < 1000; r++) {
        size_t len = rnd_below(sizeof buf);
        for (size_t i = 0; i < len; i++) buf[i] = (char)rnd_below(256);
        with_errors += parse_checked(buf, len) > 0;
    }
    cr_assert_gt(with_errors, 900);
}

Test(robust, pathological_nesting) {
    /* Deep brackets, long unary chains and long operator chains use the
     * parser's own stack, never C recursion in the parser. */
    static const char *units[] = {"(", "[", "{", "- ", "not ", "x ^ ", "choice 1..", "f(", "x + ", "()"};
    size_t reps = 20000;
    for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
        size_t k = strlen(units[u]);
        char *src = malloc(reps * k + 16);
        strcpy(src, "let a = f");
        size_t len = strlen(src);
        for (size_t i = 0; i < reps; i++, len += k) memcpy(src + len, units[u], k);
        src[len] = 0;
        cr_assert_gt(parse_checked(src, len), 0);
        free(src);
    }
}

Test(robust, many_unclosed_brackets_before_a_brace) {
    /* Each made-up `)` is O(1): 100000 of them must not be quadratic. */
    size_t reps = 100000;
    char *src = malloc(reps + 64);
    strcpy(src, "block B() -> int {\n  x = ");
    size_t len = strlen(src);
    memset(src + len, '(', reps);
    len += reps;
    strcpy(src + len, "\n}\nenum E { e }");
    len += strlen(src + len);
    cr_assert_gt(parse_checked(src, len), 0);
    free(src);
}
