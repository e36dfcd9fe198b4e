/* parse.c: runs the scanner and parser on a file, and resolves imports.
 *
 * parse_file() parses one registered file; parse_program() parses a main
 * file and every module it imports, depth first, each module once, so that
 * the checker sees one flat list of items with each module's items before
 * those of the files that import it.  Import problems (missing module,
 * cycle) are diagnostics at the `import` line, never failures of the call.
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "parse_internal.h"
#include "suggest.h"

#ifndef NASC_STDLIB_BUILD_DIR
#define NASC_STDLIB_BUILD_DIR "stdlib"
#endif
#ifndef NASC_STDLIB_INSTALL_DIR
#define NASC_STDLIB_INSTALL_DIR "/usr/local/share/nasc/stdlib"
#endif

/* Kept apart from parse_file so that only the arguments live across setjmp. */
static void run_parser(void *scanner, pctx *p) {
    jmp_buf jb;
    lx_set_fatal(scanner, &jb);
    if (setjmp(jb) == 0) nas_parse(scanner, p);
    lx_set_fatal(scanner, NULL);
}

ast_file *parse_file(nasc_ctx *c, int file) {
    ast_file *f = arena_alloc(&c->A, sizeof *f);
    f->file = file;
    if (file < 0 || file >= c->files.n) {
        diag_internal(c, "parse_file: no file %d", file);
        return f;
    }
    void *sc = lx_open(c, file);
    if (!sc) {
        diag_internal(c, "out of memory starting the scanner");
        return f;
    }
    pctx p = {c, file, f};
    run_parser(sc, &p);
    lx_close(sc);
    return f;
}

/* ----- syntax errors ----- */

static const char *const keywords[] = {
    "import", "enum",   "block",    "space",    "train", "search", "let",  "for",    "in",    "if",
    "else",   "return", "require",  "choice",   "of",    "step",   "log",  "true",   "false", "and",
    "or",     "not",    "maximize", "minimize", "int",   "float",  "bool", "Tensor", NULL};

static bool ident_char(char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
}

/* The closest keyword to the word [q, q + n) of `line`, as a note. */
static bool note_word(nasc_ctx *c, diag *d, loc at, const char *line, const char *q, size_t n) {
    if (n < 2 || n > 40 || (*q >= '0' && *q <= '9')) return false;
    char word[41];
    memcpy(word, q, n);
    word[n] = 0;
    for (int i = 0; keywords[i]; i++)
        if (!strcmp(keywords[i], word)) return false;
    const char *near = fr_suggest(word, keywords, -1);
    if (!near) return false;
    loc w = {at.file, at.line, (int)(q - line) + 1, (int)n};
    diag_note(c, d, w, "did you mean '%s'?", near);
    return true;
}

/* The word at the error (`bloc A`, `for i is`) or the one before it
 * (`retrun x`, `maximise accuracy`, where the error is at the next token). */
void parse_note_keyword(nasc_ctx *c, diag *d, loc at) {
    if (!d || at.file < 0 || at.file >= c->files.n || at.line < 1 || at.col < 1) return;
    const src_file *f = &c->files.v[at.file];
    const char *p = f->text, *end = f->text + f->len;
    for (int l = 1; l < at.line && p < end; p++)
        if (*p == '\n') l++;
    const char *line = p, *eol = p;
    while (eol < end && *eol != '\n') eol++;
    if (at.col - 1 > eol - line) return; /* past the line (the end of the file) */
    const char *tok = line + at.col - 1;
    end = eol;
    const char *e = tok;
    while (e < end && ident_char(*e)) e++;
    if (note_word(c, d, at, line, tok, (size_t)(e - tok))) return;
    const char *q = tok;
    while (q > line && (q[-1] == ' ' || q[-1] == '\t')) q--;
    const char *wend = q;
    while (q > line && ident_char(q[-1])) q--;
    note_word(c, d, at, line, q, (size_t)(wend - q));
}

/* ----- token dump (lexer tests) ----- */

static const char *tok_text(int tok) {
    switch (tok) {
    case TK_NL: return "NL";
    case TK_SEMI: return ";";
    case TK_IMPORT: return "import";
    case TK_ENUM: return "enum";
    case TK_BLOCK: return "block";
    case TK_SPACE: return "space";
    case TK_TRAIN: return "train";
    case TK_SEARCH: return "search";
    case TK_LET: return "let";
    case TK_FOR: return "for";
    case TK_IN: return "in";
    case TK_IF: return "if";
    case TK_ELSE: return "else";
    case TK_RETURN: return "return";
    case TK_REQUIRE: return "require";
    case TK_CHOICE: return "choice";
    case TK_OF: return "of";
    case TK_STEP: return "step";
    case TK_LOG: return "log";
    case TK_TRUE: return "true";
    case TK_FALSE: return "false";
    case TK_AND: return "and";
    case TK_OR: return "or";
    case TK_NOT: return "not";
    case TK_MAXIMIZE: return "maximize";
    case TK_MINIMIZE: return "minimize";
    case TK_KW_INT: return "int";
    case TK_KW_FLOAT: return "float";
    case TK_KW_BOOL: return "bool";
    case TK_TENSOR: return "Tensor";
    case TK_LP: return "(";
    case TK_RP: return ")";
    case TK_LB: return "[";
    case TK_RB: return "]";
    case TK_LBRACE: return "{";
    case TK_RBRACE: return "}";
    case TK_COMMA: return ",";
    case TK_COLON: return ":";
    case TK_DOT: return ".";
    case TK_DOTDOT: return "..";
    case TK_ARROW: return "->";
    case TK_ASSIGN: return "=";
    case TK_EQ: return "==";
    case TK_NE: return "!=";
    case TK_LT: return "<";
    case TK_LE: return "<=";
    case TK_GT: return ">";
    case TK_GE: return ">=";
    case TK_PLUS: return "+";
    case TK_MINUS: return "-";
    case TK_STAR: return "*";
    case TK_SLASH: return "/";
    case TK_PERCENT: return "%";
    case TK_CARET: return "^";
    default: return "?";
    }
}

/* One token as text: valued tokens show their decoded value. */
static char *tok_render(nasc_ctx *c, int tok, const NAS_STYPE *v) {
    switch (tok) {
    case TK_IDENT: return arena_printf(&c->A, "id(%s)", v->str);
    case TK_INT: return arena_printf(&c->A, "int(%lld)", (long long)v->ival);
    case TK_FLOAT: return arena_printf(&c->A, "float(%.17g)", v->fval);
    case TK_QUANT:
        return arena_printf(&c->A, "%s(%.17g)", v->quant.unit == UNIT_TIME ? "time" : "bytes", v->quant.v);
    case TK_STRING: {
        /* Escapes made visible so that a decoded "\n" is checkable. */
        char *s = "";
        for (const char *q = v->str; *q; q++)
            s = arena_printf(&c->A, "%s%s", s, *q == '\n' ? "\\n" : *q == '\t' ? "\\t" : (char[2]){*q, 0});
        return arena_printf(&c->A, "str(%s)", s);
    }
    default: return (char *)tok_text(tok);
    }
}

char *parse_lex_dump(nasc_ctx *c, int file, bool with_locs) {
    void *sc = lx_open(c, file);
    if (!sc) return NULL;
    char *out = "";
    NAS_STYPE v;
    loc at;
    /* A bound keeps a scanner bug from hanging a test. */
    for (int guard = 0; guard < 1000000; guard++) {
        int tok = nas_lex(&v, &at, sc);
        if (tok == TK_END) break;
        char *t = tok_render(c, tok, &v);
        if (with_locs) t = arena_printf(&c->A, "%s@%d:%d+%d", t, at.line, at.col, at.len);
        out = *out ? arena_printf(&c->A, "%s %s", out, t) : t;
    }
    lx_close(sc);
    return out;
}

/* ----- imports ----- */

typedef struct mod {
    const char *name; /* dotted name, e.g. "std.blocks" */
    const char *real; /* canonical path of its file */
    bool done;        /* false while its own imports are being loaded */
} mod;

typedef VEC(const char *) strvec;

typedef struct loader {
    nasc_ctx *c;
    VEC(mod) mods;
    ast_file *out;
    int depth;
} loader;

/* The search path, in order: -I dirs, NASC_PATH, the stdlib of the build
 * tree, then the installed stdlib. */
static void search_dirs(nasc_ctx *c, strvec *dirs) {
    for (int i = 0; i < c->include_dirs.n; i++) vec_push(&c->A, *dirs, c->include_dirs.v[i]);
    const char *env = getenv("NASC_PATH");
    while (env && *env) {
        const char *colon = strchr(env, ':');
        size_t n = colon ? (size_t)(colon - env) : strlen(env);
        if (n) vec_push(&c->A, *dirs, arena_strndup(&c->A, env, n));
        env = colon ? colon + 1 : NULL;
    }
    vec_push(&c->A, *dirs, NASC_STDLIB_BUILD_DIR);
    vec_push(&c->A, *dirs, NASC_STDLIB_INSTALL_DIR);
    /* An installed tree moved elsewhere: <prefix>/bin/nasc finds <prefix>/share/nasc/stdlib. */
    char exe[4096];
    ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 64);
    char *slash = k > 0 ? (exe[k] = 0, strrchr(exe, '/')) : NULL;
    if (slash) {
        strcpy(slash, "/../share/nasc/stdlib");
        vec_push(&c->A, *dirs, arena_strdup(&c->A, exe));
    }
}

/* "a.b" -> "a/b.nas"; NULL when a segment is empty (the grammar prevents
 * that, but the name comes from the tree, which anyone may build). */
static const char *module_relpath(nasc_ctx *c, const char *name) {
    size_t n = strlen(name);
    if (n == 0 || name[0] == '.' || name[n - 1] == '.' || strstr(name, "..")) return NULL;
    char *rel = arena_printf(&c->A, "%s.nas", name);
    for (char *p = rel; p < rel + n; p++)
        if (*p == '.') *p = '/';
    return rel;
}

static bool is_regular(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static const char *canonical(nasc_ctx *c, const char *path) {
    char buf[PATH_MAX];
    if (realpath(path, buf)) return arena_strdup(&c->A, buf);
    return arena_strdup(&c->A, path);
}

static mod *find_mod(loader *ld, const char *real) {
    for (int i = 0; i < ld->mods.n; i++)
        if (strcmp(ld->mods.v[i].real, real) == 0) return &ld->mods.v[i];
    return NULL;
}

/* Finds the module's file; NULL after an error listing the places tried. */
static const char *locate(loader *ld, const ast_item *imp) {
    nasc_ctx *c = ld->c;
    const char *rel = module_relpath(c, imp->name);
    if (!rel) {
        diag_error(c, imp->name_at, "invalid module name '%s'", imp->name);
        return NULL;
    }
    strvec dirs = {0};
    search_dirs(c, &dirs);
    char *tried = "";
    for (int i = 0; i < dirs.n; i++) {
        const char *path = arena_printf(&c->A, "%s/%s", dirs.v[i], rel);
        if (is_regular(path)) return path;
        tried = arena_printf(&c->A, "%s%s%s", tried, i ? ", " : "", path);
    }
    diag *d = diag_error(c, imp->name_at, "module '%s' not found", imp->name);
    diag_note(c, d, imp->name_at, "looked for %s in: %s", rel, tried);
    return NULL;
}

static void load_imports(loader *ld, ast_file *f);

/* "a -> b -> a": the modules still being loaded form the import chain, in
 * the order they were entered (done ones are finished branches). */
static const char *cycle_text(loader *ld, const mod *from, const char *again) {
    char *s = "";
    for (const mod *m = from; m < ld->mods.v + ld->mods.n; m++)
        if (!m->done) s = arena_printf(&ld->c->A, "%s%s -> ", s, m->name);
    return arena_printf(&ld->c->A, "%s%s", s, again);
}

static void append_items(loader *ld, const ast_file *f) {
    for (int i = 0; i < f->items.n; i++) ast_list_push(ld->c, &ld->out->items, f->items.v[i]);
}

/* Loads one imported module (and, first, its own imports). */
static void load_module(loader *ld, const ast_item *imp) {
    nasc_ctx *c = ld->c;
    const char *path = locate(ld, imp);
    if (!path) return;
    const char *real = canonical(c, path);
    mod *m = find_mod(ld, real);
    if (m && m->done) return;
    if (m) {
        diag_error(c, imp->name_at, "import cycle: %s", cycle_text(ld, m, imp->name));
        return;
    }
    int idx = ctx_load_file(c, path);
    if (idx < 0) {
        diag_error(c, imp->name_at, "cannot read module '%s' (%s): %s", imp->name, path, strerror(errno));
        return;
    }
    mod nm = {imp->name, real, false};
    vec_push(&c->A, ld->mods, nm);
    int slot = ld->mods.n - 1;
    ast_file *f = parse_file(c, idx);
    load_imports(ld, f);
    ld->mods.v[slot].done = true;
    append_items(ld, f);
}

static void load_imports(loader *ld, ast_file *f) {
    /* Cycles are caught above; this only bounds pathological chains. */
    if (++ld->depth > 200) {
        if (f->items.n) diag_error(ld->c, ((ast_item *)f->items.v[0])->at, "imports nested too deeply");
        ld->depth--;
        return;
    }
    for (int i = 0; i < f->items.n; i++) {
        const ast_item *it = f->items.v[i];
        if (it->kind == I_IMPORT && it->name) load_module(ld, it);
    }
    ld->depth--;
}

ast_file *parse_program(nasc_ctx *c, const char *path) {
    int idx = ctx_load_file(c, path);
    if (idx < 0) return NULL;
    loader ld = {c, {0}, NULL, 0};
    ld.out = arena_alloc(&c->A, sizeof *ld.out);
    ld.out->file = idx;
    mod self = {path, canonical(c, path), false};
    vec_push(&c->A, ld.mods, self);
    ast_file *top = parse_file(c, idx);
    load_imports(&ld, top);
    append_items(&ld, top);
    return ld.out;
}
