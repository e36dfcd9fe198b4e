/* space.h: the checked space IR, and the interpreter that builds it.
 *
 * One interpreter runs a space's code in three modes:
 *   CHECK   every decision symbolic: collects the decisions (labels,
 *           domains, activity conditions), the `require` constraints, and
 *           the proof obligations (shape equalities, positive sizes,
 *           divisibility) that discharge.c proves by case splits;
 *   POINT   decisions read from a point: the concrete graph IR is built,
 *           and the point is validated (unknown, inactive, missing or
 *           out-of-domain decisions are errors naming the decision);
 *   SAMPLE  decisions drawn at random as they are reached, which is
 *           uniform over the tree of active decisions.
 * Labels follow language.md section 5 exactly.
 */
#ifndef NASC_SPACE_H
#define NASC_SPACE_H

#include "ast.h"
#include "sym.h"
#include "graph.h"
#include "metrics.h" /* the one metric table (common/) */

typedef enum { DK_CAT, DK_INT, DK_FLOAT, DK_SUBSET } dec_kind;
/* What the alternatives of a categorical/subset decision are. */
typedef enum { DV_INT, DV_FLOAT, DV_BOOL, DV_ENUM, DV_BLOCK, DV_TENSOR, DV_STRING } dec_valtype;

typedef struct decision {
    int id;
    const char *label;
    loc at;
    dec_kind kind;
    dec_valtype vt;
    int n_alts;             /* CAT, SUBSET */
    const char **alt_names; /* as a point spells them: "32", "relu", "true", "n1" */
    sval *alt_vals;         /* CAT: the value sym_dec evaluates to for each alternative */
    bool by_index;          /* CAT: the decision's sym evaluates to the alternative index */
    int64_t lo, hi, step;   /* INT */
    double flo, fhi;        /* FLOAT */
    bool log;
    int k;           /* SUBSET */
    sym *guard;      /* active when true */
    bool in_section; /* a train/search decision */
} decision;

typedef struct require_c {
    loc at;
    sym *guard, *cond;
} require_c;

typedef enum { OB_EQUAL, OB_POSITIVE, OB_DIVIDES, OB_TRUE } oblig_kind;

/* A proof obligation: under `guard`, `prop` must hold for every point. */
typedef struct oblig {
    loc at;
    oblig_kind kind;
    sym *guard, *prop;
    const char *what; /* the message head: "cannot add tensors of shapes"; a format when what_arg */
    const char *what_arg;
    int n_show; /* values to print in a counterexample: shapes as lists of dims */
    int show_rank[2];
    sym *show[2][IR_MAX_RANK];
    const char *show_label[2];
    const char *joiner; /* between the two shown values; NULL: " and" */
    diag *reported;
} oblig;

/* A node's cost under a guard, for the params/FLOPs ranges. */
typedef struct cost_term {
    sym *guard, *params, *flops;
} cost_term;

/* A configuration value of a train/search section. */
typedef enum {
    CV_NUM,
    CV_STR,
    CV_IDENT,
    CV_CALL,
    CV_LIST,
    CV_OBJECTIVE,
    CV_QUANT,
    CV_BOOL,
    CV_EXPR
} cfg_kind;
typedef struct cfg_val cfg_val;
struct cfg_val {
    cfg_kind k;
    loc at;
    sym *num; /* CV_NUM, CV_BOOL (maybe a decision) */
    double q; /* CV_QUANT: base units */
    ast_unit unit;
    const char *s;     /* CV_STR, CV_IDENT, CV_CALL name */
    int n;             /* CV_CALL named args, CV_LIST items */
    const char **keys; /* CV_CALL: arg names (NULL for positional) */
    cfg_val **items;
    bool maximize;  /* CV_OBJECTIVE */
    ast_expr *expr; /* CV_OBJECTIVE, and limits (the raw expression) */
};

typedef struct section {
    int n;
    const char **keys;
    cfg_val **vals;
    ast_expr **exprs;
    loc at;
    bool present;
} section;

typedef struct space_ir {
    const char *name;
    ast_item *item;
    VEC(decision *) decs;
    VEC(require_c) reqs;
    VEC(oblig) obligs;
    VEC(cost_term) costs;
    section train, search;
    ast_item *train_item, *search_item;
    /* filled by space_analyze() */
    char *cardinality; /* decimal */
    bool card_exact;   /* false: an upper bound (require too costly to count) */
    int n_continuous;
    int64_t params_min, params_max, flops_min, flops_max;
    bool range_exact;
    bool ok;       /* checked without errors */
    sval *scratch; /* one value per decision, reused by every enumeration */
} space_ir;

typedef struct program {
    ast_file *ast;
    VEC(space_ir *) spaces;
    VEC(ast_item *) blocks;
    VEC(ast_item *) enums;
} program;

/* ===== interp.c ===== */

/* Parses nothing: takes a parsed program, resolves names and checks every
 * space (CHECK mode), recording diagnostics.  Returns the program (never
 * NULL); ok-ness is ctx->n_errors == 0. */
program *prog_check(nasc_ctx *c, ast_file *f);
space_ir *prog_space(program *p, const char *name); /* NULL name: the only one */

/* A concrete assignment: value per decision id, and whether it is active. */
typedef struct assignment {
    int n;
    sval *vals; /* CAT: alternative index; INT: value; FLOAT: f; SUBSET: bitmask */
    bool *active;
    bool *given;
    section train, search; /* the sections as this point evaluates them */
    loc infeasible_at;     /* the require a point failed */
    bool no_names;         /* build the graph without layer and parameter names (sizes only) */
} assignment;

assignment *asg_new(nasc_ctx *c, space_ir *s);

/* POINT mode: runs the space with `a` (values indexed by decision id),
 * marks active decisions, and builds the graph when g != NULL.  Errors
 * (a failed require, a missing active decision) are diagnostics; returns
 * false then.  feasible is false when only a `require` failed. */
bool space_run(nasc_ctx *c, program *p, space_ir *s, assignment *a, ir_graph *g, bool *feasible);
/* SAMPLE mode: draws a feasible point (up to `tries` attempts). */
bool space_sample(nasc_ctx *c, program *p, space_ir *s, uint64_t *rng, assignment *a, int tries);

/* ===== section.c ===== */

double section_num(const section *s, const char *key, double dflt);

/* The keys a `train` (search false) or `search` section may set, NULL-ended. */
const char *const *section_keys(bool search);
const cfg_val *section_get(const section *s, const char *key);

/* ===== discharge.c ===== */

/* Proves every obligation of s, computes its cardinality and the
 * params/FLOPs ranges. Counterexamples become diagnostics. */
void space_analyze(nasc_ctx *c, space_ir *s);
/* The condition under which a decision is active, in words ("" if always). */
const char *decision_condition(nasc_ctx *c, space_ir *s, const decision *d);
const char *decision_domain(nasc_ctx *c, const decision *d);
const char *decision_kind_name(const decision *d);
/* The interval of a decision's values (a sym_domain over a space_ir *);
 * false for floats and subsets. */
bool decision_interval(void *space, int dec, int64_t *lo, int64_t *hi);

/* ===== point.c ===== */

/* Parses a point (language.md section 10) into an assignment, checks it
 * against the space and builds its graph (g may be NULL).  Errors name the
 * decision. `file` is for messages. */
bool point_load(nasc_ctx *c, program *p, space_ir **sp, const char *json, const char *what, assignment **out,
                ir_graph *g);
/* Renders an assignment's active decisions as a point JSON object. */
char *point_json(nasc_ctx *c, space_ir *s, const assignment *a);

#endif
