/* parser.y: the grammar of .nas files (language.md sections 2-5 and 9).
 *
 * A pure, reentrant LALR(1) parser: every action is a one-line call to an
 * ast_* constructor (or a tiny list helper below), so the tree shape lives in
 * ast.c and this file reads as the grammar.  Statement terminators come from
 * the scanner's Go-style newline rule; brace-delimited lists tolerate the
 * optional newlines that rule can insert.  Errors recover at statement,
 * entry and item level (synchronising on terminators and `}`, or skipping to
 * the next `{ body }`), and inside brackets at the matching close, so one
 * file reports several syntax errors and keeps the code around them.  An
 * expression lost to an error is the name `<error>` (the tool stops after
 * syntax errors, so the checker never sees it).  %expect 0: no conflicts.
 */
%require "3.8"
%define api.pure full
%define api.prefix {nas_}
%define api.token.prefix {TK_}
%define api.location.type {loc}
%define parse.error detailed
%define parse.lac full
%locations
%param {yyscan_t scanner}
%parse-param {struct pctx *p}
%expect 0

%code requires {
#include "ast.h"
#ifndef YY_TYPEDEF_YY_SCANNER_T
#define YY_TYPEDEF_YY_SCANNER_T
typedef void *yyscan_t;
#endif
struct pctx;
/* Parser-only aggregates carried on the value stack. */
typedef struct p_args { ast_list pos, named; } p_args;
typedef struct p_members { ast_list names, locs; } p_members;
typedef struct p_quant { double v; int unit; } p_quant;
/* A node's location is its first token's (ast.h: "len covers the first
 * token"); an empty rule takes the end of the previous symbol. */
#define YYLLOC_DEFAULT(Cur, Rhs, N)                                   \
    do {                                                              \
        if (N) (Cur) = YYRHSLOC(Rhs, 1);                              \
        else { (Cur) = YYRHSLOC(Rhs, 0); (Cur).len = 0; }             \
    } while (0)
}

%code {
#include <string.h>
#include "parse_internal.h"

#define C (p->c)
static ast_list L(pctx *p, ast_list l, void *x) { ast_list_push(p->c, &l, x); return l; }
static ast_list L0(void) { ast_list l = {0}; return l; }
static ast_list L1(pctx *p, void *x) { return L(p, L0(), x); }
static void add_item(pctx *p, ast_item *it) { if (it) { it->file = p->file; ast_list_push(p->c, &p->out->items, it); } }
static ast_expr *one_or_list(pctx *p, loc at, ast_list l) { return l.n == 1 ? l.v[0] : ast_list_expr(p->c, at, l); }
static p_members mem_add(pctx *p, p_members m, const char *name, loc at);
static p_args arg_pos(pctx *p, p_args a, ast_expr *e, loc at);
static p_args arg_named(pctx *p, p_args a, ast_named_arg *n);
/* Stands for an expression lost to a syntax error (already reported). */
static ast_expr *err_expr(pctx *p, loc at) { return ast_name(p->c, at, "<error>"); }
/* An import whose name_at spans the whole dotted path (for "not found"). */
static ast_item *import_item(pctx *p, loc at, const char *path, loc path_at) {
    ast_item *it = ast_import(p->c, at, path);
    it->name_at = path_at;
    it->name_at.len = (int)strlen(path);
    return it;
}
static const char *dotted(pctx *p, const char *a, const char *b) { return arena_printf(&p->c->A, "%s.%s", a, b); }
}

%initial-action { @$.file = p->file; @$.line = 1; @$.col = 1; @$.len = 0; }

%union {
    int64_t ival;
    double fval;
    p_quant quant;
    const char *str;
    ast_expr *expr;
    ast_stmt *stmt;
    ast_type *type;
    ast_item *item;
    ast_param *param;
    ast_entry *entry;
    ast_named_arg *narg;
    ast_list list;
    p_args args;
    p_members members;
}

%token END 0 "end of file"
%token <str> IDENT "identifier"
%token <ival> INT "integer"
%token <fval> FLOAT "number"
%token <quant> QUANT "number with unit"
%token <str> STRING "string"
%token NL "newline"
%token SEMI "';'"
%token IMPORT "'import'" ENUM "'enum'" BLOCK "'block'" SPACE "'space'"
%token TRAIN "'train'" SEARCH "'search'" LET "'let'" FOR "'for'" IN "'in'"
%token IF "'if'" ELSE "'else'" RETURN "'return'" REQUIRE "'require'"
%token CHOICE "'choice'" OF "'of'" STEP "'step'" LOG "'log'"
%token TRUE "'true'" FALSE "'false'" AND "'and'" OR "'or'" NOT "'not'"
%token MAXIMIZE "'maximize'" MINIMIZE "'minimize'"
%token KW_INT "'int'" KW_FLOAT "'float'" KW_BOOL "'bool'" TENSOR "'Tensor'"
%token LP "'('" RP "')'" LB "'['" RB "']'" LBRACE "'{'" RBRACE "'}'"
%token COMMA "','" COLON "':'" DOT "'.'" DOTDOT "'..'" ARROW "'->'"
%token ASSIGN "'='" EQ "'=='" NE "'!='" LT "'<'" LE "'<='" GT "'>'" GE "'>='"
%token PLUS "'+'" MINUS "'-'" STAR "'*'" SLASH "'/'" PERCENT "'%'" CARET "'^'"

/* Lowest first.  A range choice `choice lo..hi` ends with an open
 * expression, so it binds loosest: whatever follows extends `hi`. */
%precedence CHOICE_RANGE
%precedence STEP
%left OR
%left AND
%precedence NOT
%nonassoc EQ NE LT LE GT GE
%left PLUS MINUS
%left STAR SLASH PERCENT
%precedence UMINUS
%right CARET

%type <item> item
%type <str> dotted
%type <members> members
%type <list> sig float_range params params_opt types types_opt dims body stmts entries section
%type <list> eitems citems litems else_part
%type <param> param
%type <type> type
%type <stmt> stmt if_stmt
%type <entry> entry
%type <expr> expr postfix primary choice eitem
%type <args> args args_opt
%type <narg> named_arg
%type <str> opt_name

%%

file: items ;

items: %empty
     | items sep
     | items item sep           { add_item(p, $2); }
     | items error sep
     ;

sep: NL | SEMI ;

nls: %empty | nls NL ;

item: IMPORT dotted                                   { $$ = import_item(p, @1, $2, @2); }
    | ENUM IDENT LBRACE members RBRACE                { $$ = ast_enum(C, @1, $2, @2, $4.names, $4.locs); }
    | ENUM IDENT LBRACE members COMMA RBRACE          { $$ = ast_enum(C, @1, $2, @2, $4.names, $4.locs); }
    | ENUM IDENT LBRACE error RBRACE                  { $$ = ast_enum(C, @1, $2, @2, L0(), L0()); }
    | BLOCK IDENT sig ARROW type body                 { $$ = ast_block(C, @1, false, $2, @2, $3, $5, $6); }
    | SPACE IDENT sig ARROW type body                 { $$ = ast_block(C, @1, true, $2, @2, $3, $5, $6); }
    | TRAIN opt_name section                          { $$ = ast_section(C, @1, false, $2, @2, $3); }
    | SEARCH opt_name section                         { $$ = ast_section(C, @1, true, $2, @2, $3); }
    ;

dotted: IDENT                   { $$ = $1; }
      | dotted DOT IDENT        { $$ = dotted(p, $1, $3); }
      ;

opt_name: %empty                { $$ = NULL; }
        | IDENT                 { $$ = $1; }
        ;

members: nls IDENT nls                    { $$ = mem_add(p, (p_members){{0}, {0}}, $2, @2); }
       | members COMMA nls IDENT nls      { $$ = mem_add(p, $1, $4, @4); }
       ;

/* ----- parameters and types ----- */

/* Its own rule so that `(` leaves the parser stack at `)`: error recovery
 * pops to the innermost state that accepts `error`, and an open `(` that
 * was in fact closed would swallow everything up to some later `)`. */
sig: LP params_opt RP            { $$ = $2; }
   | LP error RP                 { $$ = L0(); }
   ;

params_opt: %empty              { $$ = L0(); }
          | params              { $$ = $1; }
          | params COMMA        { $$ = $1; }
          ;
params: param                   { $$ = L1(p, $1); }
      | params COMMA param      { $$ = L(p, $1, $3); }
      ;
param: IDENT COLON type                 { $$ = ast_param_new(C, @1, $1, $3, NULL); }
     | IDENT COLON type ASSIGN expr     { $$ = ast_param_new(C, @1, $1, $3, $5); }
     ;

type: KW_INT                            { $$ = ast_type_prim(C, @1, T_INT); }
    | KW_FLOAT                          { $$ = ast_type_prim(C, @1, T_FLOAT); }
    | KW_BOOL                           { $$ = ast_type_prim(C, @1, T_BOOL); }
    | IDENT                             { $$ = ast_type_named(C, @1, $1); }
    | TENSOR LB dims RB                 { $$ = ast_type_tensor(C, @1, $3); }
    | TENSOR LB dims COMMA RB           { $$ = ast_type_tensor(C, @1, $3); }
    | TENSOR LB error RB                { $$ = ast_type_tensor(C, @1, L0()); }
    | LP types_opt RP ARROW type        { $$ = ast_type_block(C, @1, $2, $5); }
    ;
dims: expr                      { $$ = L1(p, $1); }
    | dims COMMA expr           { $$ = L(p, $1, $3); }
    ;
types_opt: %empty               { $$ = L0(); }
         | types                { $$ = $1; }
         | types COMMA          { $$ = $1; }
         ;
types: type                     { $$ = L1(p, $1); }
     | types COMMA type         { $$ = L(p, $1, $3); }
     ;

/* ----- statements ----- */

body: LBRACE stmts RBRACE               { $$ = $2; }
    | LBRACE stmts stmt RBRACE          { $$ = L(p, $2, $3); }
    | LBRACE stmts error RBRACE         { $$ = $2; }
    ;
stmts: %empty                           { $$ = L0(); }
     | stmts sep                        { $$ = $1; }
     | stmts stmt sep                   { $$ = L(p, $1, $2); }
     | stmts error sep                  { $$ = $1; }
     | stmts error body                 { $$ = $1; }
     ;

stmt: IDENT ASSIGN expr                 { $$ = ast_assign(C, @1, false, $1, @1, $3); }
    | LET IDENT ASSIGN expr             { $$ = ast_assign(C, @1, true, $2, @2, $4); }
    | FOR IDENT IN expr DOTDOT expr body { $$ = ast_for(C, @1, $2, @2, $4, $6, $7); }
    | if_stmt                           { $$ = $1; }
    | REQUIRE expr                      { $$ = ast_require(C, @1, $2); }
    | RETURN expr                       { $$ = ast_return(C, @1, $2); }
    | expr                              { $$ = ast_expr_stmt(C, @1, $1); }
    ;

if_stmt: IF expr body else_part         { $$ = ast_if(C, @1, $2, $3, $4); }
       ;
else_part: %empty                       { $$ = L0(); }
         | ELSE body                    { $$ = $2; }
         | ELSE if_stmt                 { $$ = L1(p, $2); }
         ;

/* ----- train / search sections ----- */

section: LBRACE entries RBRACE          { $$ = $2; }
       | LBRACE entries entry RBRACE    { $$ = L(p, $2, $3); }
       | LBRACE entries error RBRACE    { $$ = $2; }
       ;
entries: %empty                         { $$ = L0(); }
       | entries sep                    { $$ = $1; }
       | entries entry sep              { $$ = L(p, $1, $2); }
       | entries error sep              { $$ = $1; }
       ;
entry: IDENT ASSIGN eitems              { $$ = ast_entry_new(C, @1, $1, one_or_list(p, @3, $3)); }
     | REQUIRE eitems                   { $$ = ast_entry_new(C, @1, "require", one_or_list(p, @2, $2)); }
     | MAXIMIZE expr                    { $$ = ast_entry_new(C, @1, "objective", ast_objective(C, @1, OP_MAXIMIZE, $2)); }
     | MINIMIZE expr                    { $$ = ast_entry_new(C, @1, "objective", ast_objective(C, @1, OP_MINIMIZE, $2)); }
     ;
eitems: eitem                           { $$ = L1(p, $1); }
      | eitems COMMA eitem              { $$ = L(p, $1, $3); }
      ;
eitem: expr                             { $$ = $1; }
     | MAXIMIZE expr                    { $$ = ast_objective(C, @1, OP_MAXIMIZE, $2); }
     | MINIMIZE expr                    { $$ = ast_objective(C, @1, OP_MINIMIZE, $2); }
     | LB nls RB                        { $$ = ast_list_expr(C, @1, L0()); }
     | LB litems RB                     { $$ = ast_list_expr(C, @1, $2); }
     | LB litems COMMA RB               { $$ = ast_list_expr(C, @1, $2); }
     ;
/* `[a, b, c]`: a list as a section value or a named option's value
 * (augment = [crop(pad = 4), flip], standard(mean = [0.5, 0.5])), never
 * an expression, so that it cannot clash with `choice [lo, hi]`. */
litems: nls expr nls                    { $$ = L1(p, $2); }
      | litems COMMA nls expr nls       { $$ = L(p, $1, $4); }
      ;

/* ----- expressions ----- */

expr: postfix                           { $$ = $1; }
    | expr OR expr                      { $$ = ast_binop(C, @1, OP_OR, $1, $3); }
    | expr AND expr                     { $$ = ast_binop(C, @1, OP_AND, $1, $3); }
    | NOT expr                          { $$ = ast_unop(C, @1, OP_NOT, $2); }
    | expr EQ expr                      { $$ = ast_binop(C, @1, OP_EQ, $1, $3); }
    | expr NE expr                      { $$ = ast_binop(C, @1, OP_NE, $1, $3); }
    | expr LT expr                      { $$ = ast_binop(C, @1, OP_LT, $1, $3); }
    | expr LE expr                      { $$ = ast_binop(C, @1, OP_LE, $1, $3); }
    | expr GT expr                      { $$ = ast_binop(C, @1, OP_GT, $1, $3); }
    | expr GE expr                      { $$ = ast_binop(C, @1, OP_GE, $1, $3); }
    | expr PLUS expr                    { $$ = ast_binop(C, @1, OP_ADD, $1, $3); }
    | expr MINUS expr                   { $$ = ast_binop(C, @1, OP_SUB, $1, $3); }
    | expr STAR expr                    { $$ = ast_binop(C, @1, OP_MUL, $1, $3); }
    | expr SLASH expr                   { $$ = ast_binop(C, @1, OP_DIV, $1, $3); }
    | expr PERCENT expr                 { $$ = ast_binop(C, @1, OP_MOD, $1, $3); }
    | MINUS expr %prec UMINUS           { $$ = ast_unop(C, @1, OP_NEG, $2); }
    | expr CARET expr                   { $$ = ast_binop(C, @1, OP_POW, $1, $3); }
    | CHOICE expr DOTDOT expr %prec CHOICE_RANGE            { $$ = ast_choice_range(C, @1, $2, $4, NULL); }
    | CHOICE expr DOTDOT expr STEP expr %prec CHOICE_RANGE  { $$ = ast_choice_range(C, @1, $2, $4, $6); }
    ;

postfix: primary                        { $$ = $1; }
       | postfix LP args_opt RP         { $$ = ast_call(C, @1, $1, $3.pos, $3.named); }
       | postfix LP error RP            { $$ = ast_call(C, @1, $1, L0(), L0()); }
       ;

primary: INT                            { $$ = ast_int(C, @1, $1); }
       | FLOAT                          { $$ = ast_float(C, @1, $1); }
       | QUANT                          { $$ = ast_quant(C, @1, $1.v, (ast_unit)$1.unit); }
       | STRING                         { $$ = ast_string(C, @1, $1); }
       | TRUE                           { $$ = ast_bool(C, @1, true); }
       | FALSE                          { $$ = ast_bool(C, @1, false); }
       | IDENT                          { $$ = ast_name(C, @1, $1); }
       | LP expr RP                     { $$ = $2; }
       | LP error RP                    { $$ = err_expr(p, @1); }
       | choice                         { $$ = $1; }
       ;

choice: CHOICE LBRACE citems RBRACE                     { $$ = ast_choice_set(C, @1, $3); }
      | CHOICE LBRACE citems COMMA RBRACE               { $$ = ast_choice_set(C, @1, $3); }
      | float_range                                     { $$ = ast_choice_float(C, @1, $1.v[0], $1.v[1], false); }
      | float_range LOG                                 { $$ = ast_choice_float(C, @1, $1.v[0], $1.v[1], true); }
      | CHOICE expr OF LBRACE citems RBRACE             { $$ = ast_choice_kof(C, @1, $2, $5); }
      | CHOICE expr OF LBRACE citems COMMA RBRACE       { $$ = ast_choice_kof(C, @1, $2, $5); }
      | CHOICE LBRACE error RBRACE                      { $$ = ast_choice_set(C, @1, L0()); }
      | CHOICE expr OF LBRACE error RBRACE              { $$ = ast_choice_kof(C, @1, $2, L0()); }
      ;
/* `choice [lo, hi]` apart from `log`, for the same reason as sig. */
float_range: CHOICE LB expr COMMA expr RB       { $$ = L(p, L1(p, $3), $5); }
           | CHOICE LB error RB                 { $$ = L(p, L1(p, err_expr(p, @1)), err_expr(p, @1)); }
           ;
citems: nls expr nls                    { $$ = L1(p, $2); }
      | citems COMMA nls expr nls       { $$ = L(p, $1, $4); }
      ;

args_opt: %empty                        { $$ = (p_args){{0}, {0}}; }
        | args                          { $$ = $1; }
        | args COMMA                    { $$ = $1; }
        ;
args: expr                              { $$ = arg_pos(p, (p_args){{0}, {0}}, $1, @1); }
    | named_arg                         { $$ = arg_named(p, (p_args){{0}, {0}}, $1); }
    | args COMMA expr                   { $$ = arg_pos(p, $1, $3, @3); }
    | args COMMA named_arg              { $$ = arg_named(p, $1, $3); }
    ;
named_arg: IDENT ASSIGN expr            { $$ = ast_named(C, @1, $1, $3); }
         | IDENT ASSIGN LB litems RB    { $$ = ast_named(C, @1, $1, ast_list_expr(C, @3, $4)); }
         | IDENT ASSIGN LB litems COMMA RB { $$ = ast_named(C, @1, $1, ast_list_expr(C, @3, $4)); }
         ;

%%

static p_members mem_add(pctx *p, p_members m, const char *name, loc at) {
    loc *l = arena_alloc(&p->c->A, sizeof *l);
    *l = at;
    ast_list_push(p->c, &m.names, (void *)name);
    ast_list_push(p->c, &m.locs, l);
    return m;
}

/* The grammar accepts arguments in any order so that a positional argument
 * after a named one gets this message instead of a generic syntax error. */
static p_args arg_pos(pctx *p, p_args a, ast_expr *e, loc at) {
    if (a.named.n > 0)
        diag_error(p->c, at, "positional argument after named arguments");
    ast_list_push(p->c, &a.pos, e);
    return a;
}

static p_args arg_named(pctx *p, p_args a, ast_named_arg *n) {
    ast_list_push(p->c, &a.named, n);
    return a;
}

void nas_error(loc *at, yyscan_t scanner, pctx *p, const char *msg) {
    /* The scanner already said which bracket is missing. */
    if (lx_last_was_synthetic(scanner)) return;
    parse_note_keyword(p->c, diag_error(p->c, *at, "%s", msg), *at);
}
