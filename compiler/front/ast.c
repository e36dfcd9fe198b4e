/* ast.c: constructors of the syntax tree and its S-expression dump.
 *
 * Constructors are trivial on purpose (bison actions call them in one line);
 * the dump is the parser tests' oracle, so it prints every field that
 * carries meaning, in a fixed order, and never a location or a pointer.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "ast.h"
#include "buf.h"

void ast_list_push(nasc_ctx *c, ast_list *l, void *x) {
    if (l->n == l->cap) {
        int nc = l->cap ? l->cap * 2 : 4;
        void **nv = arena_alloc(&c->A, (size_t)nc * sizeof *nv);
        if (l->n) memcpy(nv, l->v, (size_t)l->n * sizeof *nv);
        l->v = nv;
        l->cap = nc;
    }
    l->v[l->n++] = x;
}

/* ----- expressions ----- */

static ast_expr *expr_new(nasc_ctx *c, ast_expr_kind k, loc at) {
    ast_expr *e = arena_alloc(&c->A, sizeof *e);
    e->kind = k;
    e->at = at;
    return e;
}

ast_expr *ast_int(nasc_ctx *c, loc at, int64_t v) {
    ast_expr *e = expr_new(c, E_INT, at);
    e->ival = v;
    return e;
}

ast_expr *ast_float(nasc_ctx *c, loc at, double v) {
    ast_expr *e = expr_new(c, E_FLOAT, at);
    e->fval = v;
    return e;
}

ast_expr *ast_string(nasc_ctx *c, loc at, const char *s) {
    ast_expr *e = expr_new(c, E_STRING, at);
    e->sval = s ? s : "";
    return e;
}

ast_expr *ast_bool(nasc_ctx *c, loc at, bool v) {
    ast_expr *e = expr_new(c, E_BOOL, at);
    e->ival = v ? 1 : 0;
    return e;
}

ast_expr *ast_quant(nasc_ctx *c, loc at, double base_value, ast_unit u) {
    ast_expr *e = expr_new(c, E_QUANT, at);
    e->fval = base_value;
    e->unit = u;
    return e;
}

ast_expr *ast_name(nasc_ctx *c, loc at, const char *name) {
    ast_expr *e = expr_new(c, E_NAME, at);
    e->name = name;
    return e;
}

ast_expr *ast_binop(nasc_ctx *c, loc at, ast_op op, ast_expr *l, ast_expr *r) {
    ast_expr *e = expr_new(c, E_BINOP, at);
    e->op = op;
    e->lhs = l;
    e->rhs = r;
    return e;
}

ast_expr *ast_unop(nasc_ctx *c, loc at, ast_op op, ast_expr *x) {
    ast_expr *e = expr_new(c, E_UNOP, at);
    e->op = op;
    e->lhs = x;
    return e;
}

ast_expr *ast_call(nasc_ctx *c, loc at, ast_expr *callee, ast_list args, ast_list named) {
    ast_expr *e = expr_new(c, E_CALL, at);
    e->callee = callee;
    e->args = args;
    e->named = named;
    return e;
}

ast_named_arg *ast_named(nasc_ctx *c, loc at, const char *name, ast_expr *value) {
    ast_named_arg *n = arena_alloc(&c->A, sizeof *n);
    n->name = name;
    n->at = at;
    n->value = value;
    return n;
}

ast_expr *ast_choice_set(nasc_ctx *c, loc at, ast_list items) {
    ast_expr *e = expr_new(c, E_CHOICE, at);
    e->ch = CH_SET;
    e->items = items;
    return e;
}

ast_expr *ast_choice_range(nasc_ctx *c, loc at, ast_expr *lo, ast_expr *hi, ast_expr *step) {
    ast_expr *e = expr_new(c, E_CHOICE, at);
    e->ch = CH_RANGE;
    e->lo = lo;
    e->hi = hi;
    e->step = step;
    return e;
}

ast_expr *ast_choice_float(nasc_ctx *c, loc at, ast_expr *lo, ast_expr *hi, bool log) {
    ast_expr *e = expr_new(c, E_CHOICE, at);
    e->ch = CH_FLOAT;
    e->lo = lo;
    e->hi = hi;
    e->log = log;
    return e;
}

ast_expr *ast_choice_kof(nasc_ctx *c, loc at, ast_expr *k, ast_list items) {
    ast_expr *e = expr_new(c, E_CHOICE, at);
    e->ch = CH_KOF;
    e->k = k;
    e->items = items;
    return e;
}

ast_expr *ast_objective(nasc_ctx *c, loc at, ast_op dir, ast_expr *x) {
    ast_expr *e = expr_new(c, E_OBJECTIVE, at);
    e->op = dir;
    e->lhs = x;
    return e;
}

ast_expr *ast_list_expr(nasc_ctx *c, loc at, ast_list items) {
    ast_expr *e = expr_new(c, E_LIST, at);
    e->items = items;
    return e;
}

/* ----- types ----- */

static ast_type *type_new(nasc_ctx *c, ast_type_kind k, loc at) {
    ast_type *t = arena_alloc(&c->A, sizeof *t);
    t->kind = k;
    t->at = at;
    return t;
}

ast_type *ast_type_prim(nasc_ctx *c, loc at, ast_type_kind k) { return type_new(c, k, at); }

ast_type *ast_type_named(nasc_ctx *c, loc at, const char *name) {
    ast_type *t = type_new(c, T_NAMED, at);
    t->name = name;
    return t;
}

ast_type *ast_type_tensor(nasc_ctx *c, loc at, ast_list dims) {
    ast_type *t = type_new(c, T_TENSOR, at);
    t->dims = dims;
    return t;
}

ast_type *ast_type_block(nasc_ctx *c, loc at, ast_list params, ast_type *ret) {
    ast_type *t = type_new(c, T_BLOCK, at);
    t->params = params;
    t->ret = ret;
    return t;
}

/* ----- statements ----- */

static ast_stmt *stmt_new(nasc_ctx *c, ast_stmt_kind k, loc at) {
    ast_stmt *s = arena_alloc(&c->A, sizeof *s);
    s->kind = k;
    s->at = at;
    return s;
}

ast_stmt *ast_assign(nasc_ctx *c, loc at, bool is_let, const char *name, loc name_at, ast_expr *v) {
    ast_stmt *s = stmt_new(c, S_ASSIGN, at);
    s->is_let = is_let;
    s->name = name;
    s->name_at = name_at;
    s->value = v;
    return s;
}

ast_stmt *ast_for(nasc_ctx *c, loc at, const char *var, loc var_at, ast_expr *lo, ast_expr *hi,
                  ast_list body) {
    ast_stmt *s = stmt_new(c, S_FOR, at);
    s->name = var;
    s->name_at = var_at;
    s->lo = lo;
    s->hi = hi;
    s->body = body;
    return s;
}

ast_stmt *ast_if(nasc_ctx *c, loc at, ast_expr *cond, ast_list then, ast_list els) {
    ast_stmt *s = stmt_new(c, S_IF, at);
    s->cond = cond;
    s->body = then;
    s->els = els;
    return s;
}

ast_stmt *ast_require(nasc_ctx *c, loc at, ast_expr *cond) {
    ast_stmt *s = stmt_new(c, S_REQUIRE, at);
    s->value = cond;
    return s;
}

ast_stmt *ast_return(nasc_ctx *c, loc at, ast_expr *v) {
    ast_stmt *s = stmt_new(c, S_RETURN, at);
    s->value = v;
    return s;
}

ast_stmt *ast_expr_stmt(nasc_ctx *c, loc at, ast_expr *e) {
    ast_stmt *s = stmt_new(c, S_EXPR, at);
    s->value = e;
    return s;
}

/* ----- items ----- */

static ast_item *item_new(nasc_ctx *c, ast_item_kind k, loc at) {
    ast_item *it = arena_alloc(&c->A, sizeof *it);
    it->kind = k;
    it->at = at;
    it->file = at.file;
    return it;
}

ast_item *ast_import(nasc_ctx *c, loc at, const char *path) {
    ast_item *it = item_new(c, I_IMPORT, at);
    it->name = path;
    it->name_at = at;
    return it;
}

ast_item *ast_enum(nasc_ctx *c, loc at, const char *name, loc name_at, ast_list members,
                   ast_list member_locs) {
    ast_item *it = item_new(c, I_ENUM, at);
    it->name = name;
    it->name_at = name_at;
    it->members = members;
    it->member_locs = member_locs;
    return it;
}

ast_item *ast_block(nasc_ctx *c, loc at, bool is_space, const char *name, loc name_at, ast_list params,
                    ast_type *ret, ast_list body) {
    ast_item *it = item_new(c, is_space ? I_SPACE : I_BLOCK, at);
    it->name = name;
    it->name_at = name_at;
    it->params = params;
    it->ret = ret;
    it->body = body;
    return it;
}

ast_param *ast_param_new(nasc_ctx *c, loc at, const char *name, ast_type *t, ast_expr *dflt) {
    ast_param *p = arena_alloc(&c->A, sizeof *p);
    p->name = name;
    p->at = at;
    p->type = t;
    p->dflt = dflt;
    return p;
}

ast_item *ast_section(nasc_ctx *c, loc at, bool is_search, const char *name, loc name_at, ast_list entries) {
    ast_item *it = item_new(c, is_search ? I_SEARCH : I_TRAIN, at);
    it->name = name;
    it->name_at = name_at;
    it->entries = entries;
    return it;
}

ast_entry *ast_entry_new(nasc_ctx *c, loc at, const char *key, ast_expr *v) {
    ast_entry *e = arena_alloc(&c->A, sizeof *e);
    e->key = key;
    e->at = at;
    e->value = v;
    return e;
}

/* ----- dump -----
 *
 * One line per item, e.g.
 *   (import std.blocks)   (enum Norm batch layer)
 *   (space S (param x (tensor 1 28 28)) (param k int 3) (-> (tensor 10)) STMT...)
 *   (train Name (key VALUE)...)            types: int float bool Act (tensor d...) (fn (T...) T)
 * statements: (let x E) (= x E) (for i LO HI STMT...) (if C (then S...) (else S...))
 *   (require E) (return E) (expr E)
 * expressions: 42  0.5  "s"  true  name  (time 0.002)  (bytes 65536.0)  (+ a b)  (neg a)
 *   (not a)  (call f a b k=v)  (choice a b)  (choice-range lo hi [step s])
 *   (choice-float lo hi [log])  (choice-of k a b)  (maximize e)  (list a b)
 * Floats always show a '.' or an exponent, so 1.0 and 1 differ.
 */

/* Output goes to a strbuf (buf.h), copied to the arena at the end so the
 * caller frees nothing.  The tree is small, so running out of memory here
 * is treated like the arena does: abort. */
static void put(strbuf *b, const char *s) {
    if (strbuf_puts(b, s)) abort();
}

/* The shortest %g form that reads back exactly, always with a '.' or an
 * exponent so that a float never looks like an int. */
static void put_float(strbuf *b, double v) {
    char buf[64];
    if (!isfinite(v)) {
        put(b, isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
        return;
    }
    if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(buf, sizeof buf, "%.1f", v);
        put(b, buf);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) break;
    }
    if (!strpbrk(buf, ".e")) strcat(buf, ".0");
    put(b, buf);
}

static void put_string(strbuf *b, const char *s) {
    char one[8];
    put(b, "\"");
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            one[0] = '\\';
            one[1] = (char)ch;
            one[2] = 0;
        } else if (ch == '\n')
            strcpy(one, "\\n");
        else if (ch == '\t')
            strcpy(one, "\\t");
        else if (ch < 0x20)
            snprintf(one, sizeof one, "\\x%02x", ch);
        else {
            one[0] = (char)ch;
            one[1] = 0;
        }
        put(b, one);
    }
    put(b, "\"");
}

static const char *op_name(ast_op op) {
    static const char *names[] = {"+",  "-", "*",  "/",   "%",  "^",   "==",  "!=",       "<",
                                  "<=", ">", ">=", "and", "or", "not", "neg", "maximize", "minimize"};
    return (unsigned)op < sizeof names / sizeof names[0] ? names[op] : "?";
}

static void dump_expr(strbuf *b, const ast_expr *e);

static void dump_exprs(strbuf *b, const ast_list *l) {
    for (int i = 0; i < l->n; i++) {
        put(b, " ");
        dump_expr(b, l->v[i]);
    }
}

static void dump_call(strbuf *b, const ast_expr *e) {
    put(b, "(call ");
    dump_expr(b, e->callee);
    dump_exprs(b, &e->args);
    for (int i = 0; i < e->named.n; i++) {
        const ast_named_arg *n = e->named.v[i];
        put(b, " ");
        put(b, n->name);
        put(b, "=");
        dump_expr(b, n->value);
    }
    put(b, ")");
}

static void dump_choice(strbuf *b, const ast_expr *e) {
    switch (e->ch) {
    case CH_SET:
        put(b, "(choice");
        dump_exprs(b, &e->items);
        break;
    case CH_RANGE:
        put(b, "(choice-range ");
        dump_expr(b, e->lo);
        put(b, " ");
        dump_expr(b, e->hi);
        if (e->step) {
            put(b, " step ");
            dump_expr(b, e->step);
        }
        break;
    case CH_FLOAT:
        put(b, "(choice-float ");
        dump_expr(b, e->lo);
        put(b, " ");
        dump_expr(b, e->hi);
        if (e->log) put(b, " log");
        break;
    case CH_KOF:
        put(b, "(choice-of ");
        dump_expr(b, e->k);
        dump_exprs(b, &e->items);
        break;
    }
    put(b, ")");
}

static void dump_expr(strbuf *b, const ast_expr *e) {
    char buf[32];
    if (!e) {
        put(b, "<null>");
        return;
    }
    switch (e->kind) {
    case E_INT:
        snprintf(buf, sizeof buf, "%lld", (long long)e->ival);
        put(b, buf);
        break;
    case E_FLOAT: put_float(b, e->fval); break;
    case E_STRING: put_string(b, e->sval); break;
    case E_BOOL: put(b, e->ival ? "true" : "false"); break;
    case E_QUANT:
        put(b, e->unit == UNIT_TIME ? "(time " : "(bytes ");
        put_float(b, e->fval);
        put(b, ")");
        break;
    case E_NAME: put(b, e->name); break;
    case E_BINOP:
    case E_UNOP:
    case E_OBJECTIVE:
        put(b, "(");
        put(b, op_name(e->op));
        put(b, " ");
        dump_expr(b, e->lhs);
        if (e->kind == E_BINOP) {
            put(b, " ");
            dump_expr(b, e->rhs);
        }
        put(b, ")");
        break;
    case E_CALL: dump_call(b, e); break;
    case E_CHOICE: dump_choice(b, e); break;
    case E_LIST:
        put(b, "(list");
        dump_exprs(b, &e->items);
        put(b, ")");
        break;
    }
}

static void dump_type(strbuf *b, const ast_type *t) {
    if (!t) {
        put(b, "<null>");
        return;
    }
    switch (t->kind) {
    case T_INT: put(b, "int"); break;
    case T_FLOAT: put(b, "float"); break;
    case T_BOOL: put(b, "bool"); break;
    case T_NAMED: put(b, t->name); break;
    case T_TENSOR:
        put(b, "(tensor");
        dump_exprs(b, &t->dims);
        put(b, ")");
        break;
    case T_BLOCK:
        put(b, "(fn (");
        for (int i = 0; i < t->params.n; i++) {
            if (i) put(b, " ");
            dump_type(b, t->params.v[i]);
        }
        put(b, ") ");
        dump_type(b, t->ret);
        put(b, ")");
        break;
    }
}

static void dump_stmts(strbuf *b, const ast_list *l);

static void dump_stmt(strbuf *b, const ast_stmt *s) {
    switch (s->kind) {
    case S_ASSIGN:
        put(b, s->is_let ? "(let " : "(= ");
        put(b, s->name);
        put(b, " ");
        dump_expr(b, s->value);
        break;
    case S_FOR:
        put(b, "(for ");
        put(b, s->name);
        put(b, " ");
        dump_expr(b, s->lo);
        put(b, " ");
        dump_expr(b, s->hi);
        dump_stmts(b, &s->body);
        break;
    case S_IF:
        put(b, "(if ");
        dump_expr(b, s->cond);
        put(b, " (then");
        dump_stmts(b, &s->body);
        put(b, ")");
        if (s->els.n) {
            put(b, " (else");
            dump_stmts(b, &s->els);
            put(b, ")");
        }
        break;
    case S_REQUIRE:
        put(b, "(require ");
        dump_expr(b, s->value);
        break;
    case S_RETURN:
        put(b, "(return ");
        dump_expr(b, s->value);
        break;
    case S_EXPR:
        put(b, "(expr ");
        dump_expr(b, s->value);
        break;
    }
    put(b, ")");
}

static void dump_stmts(strbuf *b, const ast_list *l) {
    for (int i = 0; i < l->n; i++) {
        put(b, " ");
        dump_stmt(b, l->v[i]);
    }
}

static void dump_block(strbuf *b, const ast_item *it) {
    put(b, it->kind == I_SPACE ? "(space " : "(block ");
    put(b, it->name);
    for (int i = 0; i < it->params.n; i++) {
        const ast_param *p = it->params.v[i];
        put(b, " (param ");
        put(b, p->name);
        put(b, " ");
        dump_type(b, p->type);
        if (p->dflt) {
            put(b, " ");
            dump_expr(b, p->dflt);
        }
        put(b, ")");
    }
    put(b, " (-> ");
    dump_type(b, it->ret);
    put(b, ")");
    dump_stmts(b, &it->body);
}

static void dump_item(strbuf *b, const ast_item *it) {
    switch (it->kind) {
    case I_IMPORT:
        put(b, "(import ");
        put(b, it->name);
        break;
    case I_ENUM:
        put(b, "(enum ");
        put(b, it->name);
        for (int i = 0; i < it->members.n; i++) {
            put(b, " ");
            put(b, it->members.v[i]);
        }
        break;
    case I_BLOCK:
    case I_SPACE: dump_block(b, it); break;
    case I_TRAIN:
    case I_SEARCH:
        put(b, it->kind == I_TRAIN ? "(train" : "(search");
        if (it->name) {
            put(b, " ");
            put(b, it->name);
        }
        for (int i = 0; i < it->entries.n; i++) {
            const ast_entry *en = it->entries.v[i];
            put(b, " (");
            put(b, en->key);
            put(b, " ");
            dump_expr(b, en->value);
            put(b, ")");
        }
        break;
    }
    put(b, ")");
}

char *ast_dump(nasc_ctx *c, const ast_file *f) {
    strbuf b = {0};
    put(&b, "");
    for (int i = 0; f && i < f->items.n; i++) {
        if (i) put(&b, "\n");
        dump_item(&b, f->items.v[i]);
    }
    char *out = arena_strdup(&c->A, b.data ? b.data : "");
    strbuf_free(&b);
    return out;
}
