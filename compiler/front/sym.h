/* sym.h: symbolic scalars over the decisions of a space.
 *
 * The checker runs a space once with every decision left symbolic: an int,
 * bool, enum or float value, a tensor dimension, a path condition, is a sym
 * DAG over decision variables.  Constructors fold constants, so with every
 * decision fixed (instantiating a point) the same interpreter computes plain
 * numbers.  Each sym knows the decisions it depends on, so a proof
 * obligation is discharged by enumerating only those (the case split of
 * language.md section 6) or, when they are too many, by z3 (smt.h).
 */
#ifndef NASC_SYM_H
#define NASC_SYM_H

#include "ctx.h"
#include "ast.h"

typedef enum { SY_CONST, SY_DEC, SY_BIN, SY_NOT, SY_NEG, SY_ITE } sym_kind;

/* A scalar value: integers (and bools, enum members, alternative indices)
 * are exact int64; floats are doubles. */
typedef struct sval {
    bool is_float;
    int64_t i;
    double f;
} sval;

typedef struct sym sym;
struct sym {
    sym_kind k;
    ast_op op;      /* SY_BIN */
    bool is_float;  /* the value is a float */
    sval c;         /* SY_CONST */
    int dec;        /* SY_DEC: decision id */
    sym *a, *b, *t; /* operands; SY_ITE: a ? b : t */
    int n_deps;     /* sorted decision ids this value depends on */
    int *deps;
    /* evaluation memo, valid when memo_gen == the evaluator's generation */
    uint32_t memo_gen;
    uint8_t memo_err;
    sval memo;
    /* interval memo (sym_bounds), valid when bnd_gen == its generation */
    uint32_t bnd_gen;
    int64_t blo, bhi;
};

/* The decision values an evaluation reads: vals[d] is the value of decision
 * d (the alternative's value, already mapped through its domain). */
typedef struct sym_env {
    const sval *vals;
    uint32_t gen; /* bump for every new assignment */
    bool err;     /* set on division by zero etc. */
} sym_env;

sym *sym_int(nasc_ctx *c, int64_t v);
sym *sym_float(nasc_ctx *c, double v);
sym *sym_bool(nasc_ctx *c, bool v);
sym *sym_dec(nasc_ctx *c, int dec, bool is_float);
sym *sym_bin(nasc_ctx *c, ast_op op, sym *a, sym *b);
sym *sym_not(nasc_ctx *c, sym *a);
sym *sym_neg(nasc_ctx *c, sym *a);
sym *sym_ite(nasc_ctx *c, sym *cond, sym *a, sym *b);
sym *sym_and(nasc_ctx *c, sym *a, sym *b);

static inline bool sym_is_const(const sym *s) { return s->k == SY_CONST; }
static inline int64_t sym_ival(const sym *s) { return s->c.is_float ? (int64_t)s->c.f : s->c.i; }
static inline double sym_fval(const sym *s) { return s->c.is_float ? s->c.f : (double)s->c.i; }
/* True when s is the constant true (resp. false). */
bool sym_is_true(const sym *s);
bool sym_is_false(const sym *s);

/* Evaluates s at env's assignment (iteratively: a DAG as deep as a
 * network is long never overflows the C stack). */
sval sym_eval(sym *s, sym_env *env);

/* The integer interval of each decision's values; false: not an int. */
typedef bool (*sym_domain)(void *ud, int dec, int64_t *lo, int64_t *hi);
/* A sound interval [*lo, *hi] holding every value s takes over the
 * decisions' domains (interval arithmetic: exact for monotone shape
 * arithmetic of independent decisions, an over-approximation otherwise).
 * INT64_MIN / INT64_MAX stand for unbounded.  False when s is a float. */
bool sym_bounds(sym *s, sym_domain dom, void *ud, int64_t *lo, int64_t *hi);
/* A fresh evaluation generation (memo stamps are never reused). */
uint32_t sym_new_gen(void);
/* Union of two sorted dependency lists (arena). */
int *deps_union(nasc_ctx *c, const int *a, int na, const int *b, int nb, int *n);

/* Renders s for humans: decision labels come from the callback. */
typedef const char *(*sym_namer)(void *ud, int dec);
typedef const char *(*sym_valnamer)(void *ud, int dec, int64_t v); /* name a value of dec, or NULL */
char *sym_str(nasc_ctx *c, const sym *s, sym_namer nm, sym_valnamer vn, void *ud);

#endif
