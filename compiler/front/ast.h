/* ast.h: the syntax tree of a .nas file, as the parser builds it.
 *
 * The AST is a faithful, unchecked picture of the source: every node keeps
 * its location for diagnostics, and nothing is resolved here (names, types
 * and shapes are the checker's business).  Nodes live in the ctx arena;
 * constructors are one-liners so that bison actions stay one line each.
 */
#ifndef NASC_AST_H
#define NASC_AST_H

#include "ctx.h"

typedef struct ast_expr ast_expr;
typedef struct ast_stmt ast_stmt;
typedef struct ast_type ast_type;
typedef struct ast_item ast_item;

/* A list of pointers, grown in the arena. */
typedef struct ast_list {
    void **v;
    int n, cap;
} ast_list;
void ast_list_push(nasc_ctx *c, ast_list *l, void *x);

/* ----- expressions ----- */

typedef enum {
    E_INT,       /* ival (suffixes already applied: 100k -> 100000) */
    E_FLOAT,     /* fval */
    E_STRING,    /* sval (escapes decoded) */
    E_BOOL,      /* ival 0/1 */
    E_QUANT,     /* a number with a unit: fval in base units (seconds or bytes), unit */
    E_NAME,      /* name */
    E_BINOP,     /* op, lhs, rhs */
    E_UNOP,      /* op (OP_NEG or OP_NOT), lhs */
    E_CALL,      /* callee (an E_NAME, or any expr yielding a block), args, named */
    E_CHOICE,    /* choice: see ch_* fields */
    E_OBJECTIVE, /* maximize/minimize lhs: op is OP_MAXIMIZE or OP_MINIMIZE */
    E_LIST,      /* items: `a, b, c` as the value of a section key (objectives, limits) */
} ast_expr_kind;

typedef enum {
    OP_ADD,
    OP_SUB,
    OP_MUL,
    OP_DIV,
    OP_MOD,
    OP_POW,
    OP_EQ,
    OP_NE,
    OP_LT,
    OP_LE,
    OP_GT,
    OP_GE,
    OP_AND,
    OP_OR,
    OP_NOT,
    OP_NEG,
    OP_MAXIMIZE,
    OP_MINIMIZE,
} ast_op;

typedef enum { UNIT_TIME, UNIT_BYTES } ast_unit;

typedef enum {
    CH_SET,   /* choice {a, b, c}: items */
    CH_RANGE, /* choice lo..hi [step s]: lo, hi, step (NULL = 1) */
    CH_FLOAT, /* choice [lo, hi] [log]: lo, hi, log */
    CH_KOF,   /* choice k of {a, b, c}: k, items */
} ast_choice_kind;

typedef struct ast_named_arg {
    const char *name;
    loc at;
    ast_expr *value;
} ast_named_arg;

struct ast_expr {
    ast_expr_kind kind;
    loc at; /* the whole expression's start; len covers the first token */
    int64_t ival;
    double fval;
    const char *sval;             /* E_STRING */
    const char *name;             /* E_NAME */
    ast_unit unit;                /* E_QUANT */
    ast_op op;                    /* E_BINOP, E_UNOP, E_OBJECTIVE */
    ast_expr *lhs, *rhs;          /* E_BINOP; E_UNOP and E_OBJECTIVE use lhs */
    ast_expr *callee;             /* E_CALL */
    ast_list args;                /* E_CALL positional (ast_expr*) */
    ast_list named;               /* E_CALL named (ast_named_arg*) */
    ast_choice_kind ch;           /* E_CHOICE */
    ast_list items;               /* E_CHOICE set / k-of alternatives (ast_expr*); E_LIST items */
    ast_expr *lo, *hi, *step, *k; /* E_CHOICE ranges and k-of */
    bool log;                     /* E_CHOICE float: log-uniform */
    /* Filled by the checker (not the parser): the call's number among the
     * calls of the same callee name in its body, for #k labels. */
    int call_ord, call_total;
    /* Filled by the checker: what a global name resolves to (a block item, or
     * a builtin id + 1), so repeated runs skip the lookup. */
    ast_item *gblock;
    int gbuiltin;
};

ast_expr *ast_int(nasc_ctx *c, loc at, int64_t v);
ast_expr *ast_float(nasc_ctx *c, loc at, double v);
ast_expr *ast_string(nasc_ctx *c, loc at, const char *s);
ast_expr *ast_bool(nasc_ctx *c, loc at, bool v);
ast_expr *ast_quant(nasc_ctx *c, loc at, double base_value, ast_unit u);
ast_expr *ast_name(nasc_ctx *c, loc at, const char *name);
ast_expr *ast_binop(nasc_ctx *c, loc at, ast_op op, ast_expr *l, ast_expr *r);
ast_expr *ast_unop(nasc_ctx *c, loc at, ast_op op, ast_expr *e);
/* args: ast_expr*, named: ast_named_arg*; either list may be empty. */
ast_expr *ast_call(nasc_ctx *c, loc at, ast_expr *callee, ast_list args, ast_list named);
ast_named_arg *ast_named(nasc_ctx *c, loc at, const char *name, ast_expr *value);
ast_expr *ast_choice_set(nasc_ctx *c, loc at, ast_list items);
ast_expr *ast_choice_range(nasc_ctx *c, loc at, ast_expr *lo, ast_expr *hi, ast_expr *step);
ast_expr *ast_choice_float(nasc_ctx *c, loc at, ast_expr *lo, ast_expr *hi, bool log);
ast_expr *ast_choice_kof(nasc_ctx *c, loc at, ast_expr *k, ast_list items);
ast_expr *ast_objective(nasc_ctx *c, loc at, ast_op dir, ast_expr *e);
ast_expr *ast_list_expr(nasc_ctx *c, loc at, ast_list items);

/* ----- types ----- */

typedef enum {
    T_INT,
    T_FLOAT,
    T_BOOL,
    T_NAMED,  /* name: an enum, or `Act` */
    T_TENSOR, /* dims: ast_expr* (int literals, names, integer expressions) */
    T_BLOCK,  /* params: ast_type*, ret */
} ast_type_kind;

struct ast_type {
    ast_type_kind kind;
    loc at;
    const char *name;
    ast_list dims;
    ast_list params;
    ast_type *ret;
};

ast_type *ast_type_prim(nasc_ctx *c, loc at, ast_type_kind k);
ast_type *ast_type_named(nasc_ctx *c, loc at, const char *name);
ast_type *ast_type_tensor(nasc_ctx *c, loc at, ast_list dims);
ast_type *ast_type_block(nasc_ctx *c, loc at, ast_list params, ast_type *ret);

/* ----- statements ----- */

typedef enum {
    S_ASSIGN,  /* name = value (is_let: `let name = value`) */
    S_FOR,     /* for var in lo..hi { body } */
    S_IF,      /* if cond { body } else { els } ; els may hold one S_IF for `else if` */
    S_REQUIRE, /* require cond */
    S_RETURN,  /* return value */
    S_EXPR,    /* a bare expression (a call) */
} ast_stmt_kind;

struct ast_stmt {
    ast_stmt_kind kind;
    loc at;
    const char *name; /* S_ASSIGN target, S_FOR variable */
    loc name_at;
    bool is_let;
    ast_expr *value;   /* S_ASSIGN, S_RETURN, S_EXPR, S_REQUIRE (cond) */
    ast_expr *cond;    /* S_IF */
    ast_expr *lo, *hi; /* S_FOR */
    ast_list body;     /* ast_stmt*: S_FOR, S_IF then-branch */
    ast_list els;      /* ast_stmt*: S_IF else-branch (empty when absent) */
};

ast_stmt *ast_assign(nasc_ctx *c, loc at, bool is_let, const char *name, loc name_at, ast_expr *v);
ast_stmt *ast_for(nasc_ctx *c, loc at, const char *var, loc var_at, ast_expr *lo, ast_expr *hi,
                  ast_list body);
ast_stmt *ast_if(nasc_ctx *c, loc at, ast_expr *cond, ast_list then, ast_list els);
ast_stmt *ast_require(nasc_ctx *c, loc at, ast_expr *cond);
ast_stmt *ast_return(nasc_ctx *c, loc at, ast_expr *v);
ast_stmt *ast_expr_stmt(nasc_ctx *c, loc at, ast_expr *e);

/* ----- items ----- */

typedef struct ast_param {
    const char *name;
    loc at;
    ast_type *type;
    ast_expr *dflt; /* optional default value (an extension: `k: int = 3`) */
} ast_param;

/* One `key = expr` entry of a train/search section; `require a, b` is an
 * entry with key "require" and value an E_LIST (or a single expr). */
typedef struct ast_entry {
    const char *key;
    loc at;
    ast_expr *value;
} ast_entry;

typedef enum { I_IMPORT, I_ENUM, I_BLOCK, I_SPACE, I_TRAIN, I_SEARCH } ast_item_kind;

struct ast_item {
    ast_item_kind kind;
    loc at;
    const char *name; /* block/space/enum name; train/search target (NULL if omitted);
                               I_IMPORT: the dotted module path, e.g. "std.blocks" */
    loc name_at;
    ast_list members;     /* I_ENUM: const char* member names */
    ast_list member_locs; /* I_ENUM: loc* of each member */
    ast_list params;      /* I_BLOCK, I_SPACE: ast_param* */
    ast_type *ret;        /* I_BLOCK, I_SPACE */
    ast_list body;        /* I_BLOCK, I_SPACE: ast_stmt* */
    ast_list entries;     /* I_TRAIN, I_SEARCH: ast_entry* */
    int file;             /* the file the item came from */
    /* Filled by the checker (not the parser). */
    bool call_numbered;       /* call_ord/call_total of its body are set */
    struct label_map *labels; /* I_SPACE: decision label -> id */
};

ast_item *ast_import(nasc_ctx *c, loc at, const char *path);
ast_item *ast_enum(nasc_ctx *c, loc at, const char *name, loc name_at, ast_list members,
                   ast_list member_locs);
ast_item *ast_block(nasc_ctx *c, loc at, bool is_space, const char *name, loc name_at, ast_list params,
                    ast_type *ret, ast_list body);
ast_param *ast_param_new(nasc_ctx *c, loc at, const char *name, ast_type *t, ast_expr *dflt);
ast_item *ast_section(nasc_ctx *c, loc at, bool is_search, const char *name, loc name_at, ast_list entries);
ast_entry *ast_entry_new(nasc_ctx *c, loc at, const char *key, ast_expr *v);

/* A parsed file: its items in order. */
typedef struct ast_file {
    int file;       /* index in ctx->files */
    ast_list items; /* ast_item* */
} ast_file;

/* ===== parse.c (grammar/) ===== */

/* Parses one registered file.  Syntax errors become diagnostics; the
 * returned tree holds whatever could be recovered (never NULL). */
ast_file *parse_file(nasc_ctx *c, int file);

/* Parses `path` and, recursively, every file it imports (searched in
 * c->include_dirs), each module once.  Returns the items of all of them,
 * imported modules first.  Errors (missing module, import cycle) are
 * diagnostics. Returns NULL only if `path` itself cannot be read. */
ast_file *parse_program(nasc_ctx *c, const char *path);

/* Debug printer: an S-expression of the tree, for parser tests. */
char *ast_dump(nasc_ctx *c, const ast_file *f);

#endif
