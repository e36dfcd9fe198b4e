/* ctx.h: the compile context, its arena and its diagnostics.
 *
 * Everything the front end builds (AST, symbolic expressions, space IR,
 * concrete graphs) lives in the arena of one nasc_ctx and is freed by one
 * call to ctx_destroy().  Deep code never prints or exits: it records a
 * diagnostic here, and tools/ renders them once (diag_render).  User errors
 * (DIAG_ERROR) and internal errors (DIAG_INTERNAL) are kept apart so the
 * tool can exit 1 or 3.
 */
#ifndef NASC_CTX_H
#define NASC_CTX_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdbool.h>
#include "arena.h"

#if defined(__GNUC__)
#define NASC_HIDDEN       __attribute__((visibility("hidden")))
#define NASC_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define NASC_HIDDEN
#define NASC_PRINTF(a, b)
#endif

/* ===== diag.c ===== */

/* A source location: file index into ctx->files, 1-based line and column,
 * and the length of the span on that line (0 or 1 draws a single caret). */
typedef struct loc {
    int file;
    int line, col;
    int len;
} loc;

typedef enum { DIAG_ERROR, DIAG_WARNING, DIAG_NOTE, DIAG_INTERNAL } diag_kind;

typedef struct diag {
    diag_kind kind;
    loc at;
    char *msg;
    struct diag *notes; /* notes attached to this error, in order */
    struct diag *next;
} diag;

typedef struct src_file {
    const char *path; /* as the user named it, for messages */
    const char *text; /* whole contents, NUL-terminated */
    size_t len;
} src_file;

typedef struct nasc_ctx {
    arena A;
    VEC(src_file) files;
    diag *diags, *diags_tail;
    int n_errors, n_internal, n_warnings;
    int n_repeats;                  /* errors counted but not kept: exact repeats of a kept one */
    int max_errors;                 /* stop recording after this many (default 20) */
    VEC(const char *) include_dirs; /* import search path, in order */
    uint64_t solver_budget;         /* z3 resource units per space (0: the default, docs/checker.md) */
} nasc_ctx;

nasc_ctx *ctx_new(void);
void ctx_destroy(nasc_ctx *c);

/* Saves and restores the arena and the diagnostics together, so that a
 * throw-away run (normalising a point during a search) leaves no trace. */
typedef struct ctx_mark {
    arena_mark a;
    diag *tail;
    int n_errors, n_internal, n_warnings, n_repeats;
} ctx_mark;
ctx_mark ctx_get_mark(nasc_ctx *c);
void ctx_release(nasc_ctx *c, ctx_mark m);

/* Registers a file's text (copied into the arena); returns its index. */
int ctx_add_file(nasc_ctx *c, const char *path, const char *text, size_t len);
/* Reads a file from disk; returns its index, or -1 with errno set. */
int ctx_load_file(nasc_ctx *c, const char *path);

/* An error or warning that repeats one already kept (same place, same
 * message: a statement in a loop body runs once per iteration) is counted
 * but not kept again; its notes go nowhere. */
diag *diag_error(nasc_ctx *c, loc at, const char *fmt, ...) NASC_PRINTF(3, 4);
diag *diag_warning(nasc_ctx *c, loc at, const char *fmt, ...) NASC_PRINTF(3, 4);
/* Adds a note to the most recent error or warning (d may be NULL: then the last). */
void diag_note(nasc_ctx *c, diag *d, loc at, const char *fmt, ...) NASC_PRINTF(4, 5);
/* Puts the diagnostics recorded after `after` (NULL: all) in source order,
 * keeping the order of those at one place, so that a check made of several
 * passes still reports from top to bottom. */
void diag_sort_since(nasc_ctx *c, diag *after);
/* An internal error: a bug in nasc, not in the user's input. */
#define diag_internal(c, ...) diag_internal_at((c), __FILE__, __LINE__, __VA_ARGS__)
diag *diag_internal_at(nasc_ctx *c, const char *file, int line, const char *fmt, ...) NASC_PRINTF(4, 5);

/* Prints every diagnostic as `file:line:col: error: msg`, the source line and
 * a caret.  color: use ANSI colours. */
void diag_render(nasc_ctx *c, FILE *out, bool color);
/* Renders into a malloc'ed string (for tests); caller frees. */
char *diag_render_string(nasc_ctx *c);

/* Edit distance of two short names (for "did you mean" notes); large for
 * names over 60 bytes.  Same as fr_distance (suggest.h), which also picks
 * the closest of a set. */
int name_distance(const char *a, const char *b);

static inline loc loc_none(void) {
    loc l = {-1, 0, 0, 0};
    return l;
}

#endif
