/* diag.c: collected diagnostics and their one renderer.
 *
 * Deep code records; only this renderer formats, so every message has the
 * same `file:line:col: error: msg` shape, the source line and a caret
 * (as chibicc's verror_at and SQLite's collected pParse->zErrMsg).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "ctx.h"
#include "suggest.h"

nasc_ctx *ctx_new(void) {
    nasc_ctx *c = calloc(1, sizeof *c);
    if (!c) abort();
    c->max_errors = 20;
    return c;
}

void ctx_destroy(nasc_ctx *c) {
    if (!c) return;
    arena_free_all(&c->A);
    free(c);
}

ctx_mark ctx_get_mark(nasc_ctx *c) {
    ctx_mark m = {arena_get_mark(&c->A), c->diags_tail, c->n_errors,
                  c->n_internal,         c->n_warnings, c->n_repeats};
    return m;
}

void ctx_release(nasc_ctx *c, ctx_mark m) {
    arena_release(&c->A, m.a);
    c->diags_tail = m.tail;
    if (m.tail)
        m.tail->next = NULL;
    else
        c->diags = NULL;
    c->n_errors = m.n_errors;
    c->n_internal = m.n_internal;
    c->n_warnings = m.n_warnings;
    c->n_repeats = m.n_repeats;
}

int ctx_add_file(nasc_ctx *c, const char *path, const char *text, size_t len) {
    src_file f = {arena_strdup(&c->A, path), arena_strndup(&c->A, text, len), len};
    vec_push(&c->A, c->files, f);
    return c->files.n - 1;
}

int ctx_load_file(nasc_ctx *c, const char *path) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return -1;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(fp);
                errno = ENOMEM;
                return -1;
            }
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n, fp);
        if (r == 0) break;
        n += r;
    }
    int err = ferror(fp);
    fclose(fp);
    if (err) {
        free(buf);
        errno = EIO;
        return -1;
    }
    int id = ctx_add_file(c, path, buf, n);
    free(buf);
    return id;
}

/* Whether a kept diagnostic already says what d says, at the same place. */
static bool repeats(const nasc_ctx *c, const diag *d) {
    for (const diag *e = c->diags; e; e = e->next)
        if (e->kind == d->kind && e->at.file == d->at.file && e->at.line == d->at.line &&
            e->at.col == d->at.col && !strcmp(e->msg, d->msg))
            return true;
    return false;
}

static diag *push(nasc_ctx *c, diag_kind k, loc at, const char *fmt, va_list ap) {
    diag *d = arena_alloc(&c->A, sizeof *d);
    d->kind = k;
    d->at = at;
    d->msg = arena_vprintf(&c->A, fmt, ap);
    if (k == DIAG_ERROR) c->n_errors++;
    if (k == DIAG_WARNING) c->n_warnings++;
    if (k == DIAG_INTERNAL) c->n_internal++;
    if (k != DIAG_INTERNAL && repeats(c, d)) {
        if (k == DIAG_ERROR) c->n_repeats++;
        return d; /* counted, so callers fail, but shown once */
    }
    /* Past the limit errors still count (so callers fail) but are not kept. */
    if (k == DIAG_ERROR && c->n_errors - c->n_repeats > c->max_errors) return d;
    if (c->diags_tail)
        c->diags_tail->next = d;
    else
        c->diags = d;
    c->diags_tail = d;
    return d;
}

diag *diag_error(nasc_ctx *c, loc at, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    diag *d = push(c, DIAG_ERROR, at, fmt, ap);
    va_end(ap);
    return d;
}

diag *diag_warning(nasc_ctx *c, loc at, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    diag *d = push(c, DIAG_WARNING, at, fmt, ap);
    va_end(ap);
    return d;
}

diag *diag_internal_at(nasc_ctx *c, const char *file, int line, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    diag *d = push(c, DIAG_INTERNAL, loc_none(), fmt, ap);
    va_end(ap);
    d->msg = arena_printf(&c->A, "%s (at %s:%d)", d->msg, file, line);
    return d;
}

void diag_note(nasc_ctx *c, diag *d, loc at, const char *fmt, ...) {
    if (!d) d = c->diags_tail;
    if (!d) return;
    diag *n = arena_alloc(&c->A, sizeof *n);
    n->kind = DIAG_NOTE;
    n->at = at;
    va_list ap;
    va_start(ap, fmt);
    n->msg = arena_vprintf(&c->A, fmt, ap);
    va_end(ap);
    diag **pp = &d->notes;
    while (*pp) pp = &(*pp)->next;
    *pp = n;
}

static bool loc_before(loc a, loc b) {
    if (a.file != b.file) return a.file < b.file;
    if (a.line != b.line) return a.line < b.line;
    return a.col < b.col;
}

void diag_sort_since(nasc_ctx *c, diag *after) {
    diag **head = after ? &after->next : &c->diags;
    /* Insertion sort of a short list: stable, and no allocation. */
    diag *sorted = NULL, *tail = NULL;
    for (diag *d = *head, *next; d; d = next) {
        next = d->next;
        diag **pp = &sorted;
        while (*pp && !loc_before(d->at, (*pp)->at)) pp = &(*pp)->next;
        d->next = *pp;
        *pp = d;
    }
    *head = sorted;
    for (diag *d = sorted; d; d = d->next) tail = d;
    if (tail) c->diags_tail = tail;
}

/* Finds line `line` (1-based) of a file; returns its start and length. */
static const char *line_of(const src_file *f, int line, int *len) {
    const char *p = f->text, *end = f->text + f->len;
    for (int l = 1; l < line && p < end; p++)
        if (*p == '\n') l++;
    const char *q = p;
    while (q < end && *q != '\n') q++;
    *len = (int)(q - p);
    return p;
}

static void render_one(nasc_ctx *c, FILE *out, const diag *d, const diag *parent, bool color) {
    static const char *names[] = {"error", "warning", "note", "internal error"};
    static const char *colors[] = {"\033[1;31m", "\033[1;35m", "\033[1;36m", "\033[1;31m"};
    const src_file *f = (d->at.file >= 0 && d->at.file < c->files.n) ? &c->files.v[d->at.file] : NULL;
    if (f && d->at.line > 0)
        fprintf(out, "%s%s:%d:%d: ", color ? "\033[1m" : "", f->path, d->at.line, d->at.col);
    else
        fprintf(out, "%snasc: ", color ? "\033[1m" : "");
    fprintf(out, "%s%s:%s %s\n", color ? colors[d->kind] : "", names[d->kind], color ? "\033[0m" : "",
            d->msg);
    if (!f || d->at.line <= 0) return;
    /* A note at its error's own place would only repeat the excerpt. */
    if (parent && parent->at.file == d->at.file && parent->at.line == d->at.line &&
        parent->at.col == d->at.col)
        return;
    int len;
    const char *s = line_of(f, d->at.line, &len);
    fprintf(out, "  %.*s\n  ", len, s);
    /* Reproduce tabs so the caret lines up under the source. */
    for (int i = 0; i < d->at.col - 1 && i < len; i++) fputc(s[i] == '\t' ? '\t' : ' ', out);
    fputs(color ? "\033[1;32m^" : "^", out);
    for (int i = 1; i < d->at.len && d->at.col - 1 + i < len; i++) fputc('~', out);
    fputs(color ? "\033[0m\n" : "\n", out);
}

void diag_render(nasc_ctx *c, FILE *out, bool color) {
    for (diag *d = c->diags; d; d = d->next) {
        render_one(c, out, d, NULL, color);
        for (diag *n = d->notes; n; n = n->next) render_one(c, out, n, d, color);
    }
    if (c->n_errors - c->n_repeats > c->max_errors)
        fprintf(out, "nasc: %d more errors not shown\n", c->n_errors - c->n_repeats - c->max_errors);
}

char *diag_render_string(nasc_ctx *c) {
    char *buf = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&buf, &n);
    if (!m) return NULL;
    diag_render(c, m, false);
    fclose(m);
    return buf;
}

/* The one distance lives in suggest.c; this name stays for its callers. */
int name_distance(const char *a, const char *b) { return fr_distance(a, b); }
