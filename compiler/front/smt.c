/* smt.c: the symbolic half of the checker (smt.h), over z3's C API.
 *
 * Every sym is translated once per space (a DAG walk with an explicit
 * stack, so a deep network cannot overflow the C stack) into a z3 term and
 * an "errs" condition (division by zero somewhere on the evaluated path,
 * with the short-circuits of `and`, `or` and ite that sym_eval has).  The
 * translation keeps sym_eval's semantics: integer division and modulo
 * floor, and comparisons are on integers.  int64 overflow is not modelled
 * (z3 integers are unbounded): a counterexample is re-evaluated with
 * sym_eval before it is reported, and shapes stay far below 2^63.
 *
 * z3's work is bounded in its resource units ("rlimit": a count of its
 * internal steps), not in seconds, so that a space gets the same verdict on
 * any machine under any load: per query, and summed over the space's
 * queries.  (z3's QF_LIA strategy, which it picks for formulas without
 * div and mod, still has 5-second timers between its alternatives:
 * docs/checker.md says why they do not decide a verdict in practice.) */
#include "smt.h"

#include <stdlib.h>
#include <string.h>
#include <z3.h>

/* A sym's translation. */
typedef struct tr {
    const sym *key;
    Z3_ast v;   /* Int or Bool */
    Z3_ast err; /* Bool, NULL: cannot err */
    bool is_bool;
    int depth; /* of the term: z3's own walks recurse on it */
} tr;

/* z3 recurses on terms (it overflows the C stack near 3,000 levels of its terms, and a sym level may be
 * several z3 levels): a
 * deeper obligation is not sent (UNKNOWN: enumerated or sampled, with the
 * warning that says so). */
#define SMT_MAX_DEPTH 400

/* Resource units per query and per space (docs/checker.md).  Calibrated
 * on the tests and bench/check_bench.sh: the hardest query that decides
 * there (a 30-layer conv stack's one counterexample) takes 0.65 million,
 * most take under 20,000; z3 does one to two million per CPU second on the
 * AVX2 EPYC machines used, so a query that exhausts its units takes about
 * as long as the 2-second time limit this replaces did. */
#define SMT_QUERY_RLIMIT 2000000u
#define SMT_SPACE_RLIMIT 4000000u
/* Wall-clock guard per query, a last resort only: far beyond what the
 * units allow even on a loaded machine, so that no verdict depends on it. */
#define SMT_GUARD_MS 120000u

struct smt {
    space_ir *s;
    Z3_context z;
    Z3_sort int_s;
    Z3_ast *dec_var;  /* per decision, NULL until used */
    Z3_ast *dec_dom;  /* its domain constraint */
    bool *dec_bad;    /* not expressible (floats) */
    tr *tab;          /* open addressing on the sym pointer */
    size_t cap, used; /* tab size (power of two), entries */
    sval *vals;       /* scratch for enumerating a divisor's values */
    bool failed;      /* the current translation met something unsupported */
    uint64_t budget;  /* resource units for the whole space */
    uint64_t spent;   /* by the context so far (z3's "rlimit count") */
};

static void on_error(Z3_context c, Z3_error_code e) {
    (void)c;
    (void)e; /* checked with Z3_get_error_code where it matters */
}

smt *smt_new(space_ir *s, uint64_t budget) {
    smt *z = calloc(1, sizeof *z);
    if (!z) return NULL;
    Z3_config cfg = Z3_mk_config();
    Z3_set_param_value(cfg, "model", "true");
    z->z = Z3_mk_context(cfg);
    Z3_del_config(cfg);
    Z3_set_error_handler(z->z, on_error);
    z->budget = budget ? budget : SMT_SPACE_RLIMIT;
    z->s = s;
    z->int_s = Z3_mk_int_sort(z->z);
    size_t nd = (size_t)s->decs.n + 1;
    z->dec_var = calloc(nd, sizeof *z->dec_var);
    z->dec_dom = calloc(nd, sizeof *z->dec_dom);
    z->dec_bad = calloc(nd, sizeof *z->dec_bad);
    z->vals = calloc(nd, sizeof *z->vals);
    z->cap = 1024;
    z->tab = calloc(z->cap, sizeof *z->tab);
    if (!z->dec_var || !z->dec_dom || !z->dec_bad || !z->vals || !z->tab) {
        smt_free(z);
        return NULL;
    }
    return z;
}

void smt_free(smt *z) {
    if (!z) return;
    if (z->z) Z3_del_context(z->z);
    free(z->dec_var);
    free(z->dec_dom);
    free(z->dec_bad);
    free(z->vals);
    free(z->tab);
    free(z);
}

/* ----- the translation table ----- */

static size_t slot_of(const smt *z, const sym *k) {
    size_t h = ((uintptr_t)k >> 4) * 0x9E3779B97F4A7C15ull;
    size_t i = h & (z->cap - 1);
    while (z->tab[i].key && z->tab[i].key != k) i = (i + 1) & (z->cap - 1);
    return i;
}

static tr *find(smt *z, const sym *k) {
    size_t i = slot_of(z, k);
    return z->tab[i].key ? &z->tab[i] : NULL;
}

static void put(smt *z, tr t) {
    if (2 * (z->used + 1) > z->cap) {
        tr *old = z->tab;
        size_t oc = z->cap;
        z->cap *= 2;
        z->tab = calloc(z->cap, sizeof *z->tab);
        if (!z->tab) abort();
        for (size_t i = 0; i < oc; i++)
            if (old[i].key) z->tab[slot_of(z, old[i].key)] = old[i];
        free(old);
    }
    z->tab[slot_of(z, t.key)] = t;
    z->used++;
}

/* ----- terms ----- */

static Z3_ast num(smt *z, int64_t v) { return Z3_mk_int64(z->z, v, z->int_s); }

static Z3_ast as_int(smt *z, const tr *t) {
    return t->is_bool ? Z3_mk_ite(z->z, t->v, num(z, 1), num(z, 0)) : t->v;
}

static Z3_ast as_bool(smt *z, const tr *t) {
    return t->is_bool ? t->v : Z3_mk_not(z->z, Z3_mk_eq(z->z, t->v, num(z, 0)));
}

static Z3_ast or2(smt *z, Z3_ast a, Z3_ast b) {
    if (!a) return b;
    if (!b) return a;
    Z3_ast x[2] = {a, b};
    return Z3_mk_or(z->z, 2, x);
}

static Z3_ast and2(smt *z, Z3_ast a, Z3_ast b) {
    Z3_ast x[2] = {a, b};
    return Z3_mk_and(z->z, 2, x);
}

/* The decision's variable and its domain, made on first use. */
static Z3_ast dec_term(smt *z, int id) {
    if (z->dec_var[id] || z->dec_bad[id]) return z->dec_var[id];
    decision *d = z->s->decs.v[id];
    char name[32];
    snprintf(name, sizeof name, "d%d", id);
    Z3_ast v = Z3_mk_const(z->z, Z3_mk_string_symbol(z->z, name), z->int_s);
    Z3_ast dom = NULL;
    switch (d->kind) {
    case DK_INT:
        dom = and2(z, Z3_mk_ge(z->z, v, num(z, d->lo)), Z3_mk_le(z->z, v, num(z, d->hi)));
        if (d->step > 1)
            dom = and2(
                z, dom,
                Z3_mk_eq(z->z,
                         Z3_mk_mod(z->z, Z3_mk_sub(z->z, 2, (Z3_ast[]){v, num(z, d->lo)}), num(z, d->step)),
                         num(z, 0)));
        break;
    case DK_CAT:
        if (d->by_index) {
            dom = and2(z, Z3_mk_ge(z->z, v, num(z, 0)), Z3_mk_lt(z->z, v, num(z, d->n_alts)));
            break;
        }
        for (int i = 0; i < d->n_alts && !z->dec_bad[id]; i++) {
            if (d->alt_vals[i].is_float) z->dec_bad[id] = true;
            dom = or2(z, dom, Z3_mk_eq(z->z, v, num(z, d->alt_vals[i].i)));
        }
        break;
    case DK_FLOAT:
    case DK_SUBSET: z->dec_bad[id] = true; break;
    }
    if (z->dec_bad[id]) return NULL;
    z->dec_var[id] = v;
    z->dec_dom[id] = dom;
    return v;
}

/* The values a sym takes, when its decisions have at most `max`
 * combinations together (for splitting a division by it); -1 otherwise. */
static int small_values(smt *z, sym *s, int64_t *out, int max) {
    int64_t total = 1;
    for (int k = 0; k < s->n_deps; k++) {
        decision *d = z->s->decs.v[s->deps[k]];
        int64_t m = d->kind == DK_CAT ? d->n_alts
                    : d->kind == DK_INT && (uint64_t)(d->hi - d->lo) / (uint64_t)d->step < 256
                        ? (d->hi - d->lo) / d->step + 1
                        : -1;
        if (m < 0 || total * m > max) return -1;
        total *= m;
    }
    int n = 0;
    sym_env env = {z->vals, 0, false};
    for (int64_t t = 0; t < total; t++) {
        int64_t r = t;
        for (int k = 0; k < s->n_deps; k++) {
            decision *d = z->s->decs.v[s->deps[k]];
            int64_t m = d->kind == DK_CAT ? d->n_alts : (d->hi - d->lo) / d->step + 1, i = r % m;
            r /= m;
            z->vals[d->id] = d->kind == DK_INT ? (sval){false, d->lo + i * d->step, 0}
                             : d->by_index     ? (sval){false, i, 0}
                                               : d->alt_vals[i];
        }
        env.gen = sym_new_gen();
        env.err = false;
        sval v = sym_eval(s, &env);
        if (env.err || v.is_float) continue;
        int j = 0;
        while (j < n && out[j] != v.i) j++;
        if (j == n) out[n++] = v.i;
    }
    return n;
}

/* floor(a / b) for a constant b != 0 (z3's div is Euclidean, which
 * differs from floor for a negative divisor). */
static Z3_ast fdiv_const(smt *z, Z3_ast a, int64_t b) {
    if (b > 0) return Z3_mk_div(z->z, a, num(z, b));
    return Z3_mk_div(z->z, Z3_mk_unary_minus(z->z, a), num(z, -b));
}

/* floor(a / b), b decision-dependent: a case split over its few values,
 * else the nonlinear term (z3 may then answer unknown). */
static Z3_ast fdiv(smt *z, Z3_ast a, sym *bs, Z3_ast b) {
    int64_t v;
    if (Z3_is_numeral_ast(z->z, b) && Z3_get_numeral_int64(z->z, b, &v))
        return v ? fdiv_const(z, a, v) : num(z, 0);
    int64_t vs[64];
    int n = small_values(z, bs, vs, 64);
    if (n > 0) {
        Z3_ast r = vs[n - 1] ? fdiv_const(z, a, vs[n - 1]) : num(z, 0);
        for (int i = n - 2; i >= 0; i--)
            r = Z3_mk_ite(z->z, Z3_mk_eq(z->z, b, num(z, vs[i])), vs[i] ? fdiv_const(z, a, vs[i]) : num(z, 0),
                          r);
        return r;
    }
    Z3_ast pos = Z3_mk_gt(z->z, b, num(z, 0));
    return Z3_mk_ite(z->z, pos, Z3_mk_div(z->z, a, b),
                     Z3_mk_div(z->z, Z3_mk_unary_minus(z->z, a), Z3_mk_unary_minus(z->z, b)));
}

static bool is_cmp(ast_op op) { return op >= OP_EQ && op <= OP_GE; }

/* Translates s, whose operands are translated already. */
static tr make(smt *z, sym *s) {
    tr r = {s, NULL, NULL, false, 0};
    if (s->is_float) {
        z->failed = true;
        return r;
    }
    tr *a = s->a ? find(z, s->a) : NULL, *b = s->b ? find(z, s->b) : NULL, *t = s->t ? find(z, s->t) : NULL;
    switch (s->k) {
    case SY_CONST:
        if (s->c.is_float) z->failed = true;
        r.v = num(z, s->c.i);
        return r;
    case SY_DEC:
        r.v = dec_term(z, s->dec);
        if (!r.v) z->failed = true;
        return r;
    case SY_NOT:
        r.v = Z3_mk_not(z->z, as_bool(z, a));
        r.is_bool = true;
        r.err = a->err;
        return r;
    case SY_NEG:
        r.v = Z3_mk_unary_minus(z->z, as_int(z, a));
        r.err = a->err;
        return r;
    case SY_ITE: {
        Z3_ast c = as_bool(z, a);
        r.is_bool = b->is_bool && t->is_bool;
        r.v = r.is_bool ? Z3_mk_ite(z->z, c, b->v, t->v) : Z3_mk_ite(z->z, c, as_int(z, b), as_int(z, t));
        if (b->err || t->err)
            r.err = or2(
                z, a->err,
                Z3_mk_ite(z->z, c, b->err ? b->err : Z3_mk_false(z->z), t->err ? t->err : Z3_mk_false(z->z)));
        else
            r.err = a->err;
        return r;
    }
    case SY_BIN: break;
    }
    Z3_ast x = as_int(z, a), y = as_int(z, b);
    r.err = or2(z, a->err, b->err);
    switch (s->op) {
    case OP_ADD: r.v = Z3_mk_add(z->z, 2, (Z3_ast[]){x, y}); break;
    case OP_SUB: r.v = Z3_mk_sub(z->z, 2, (Z3_ast[]){x, y}); break;
    case OP_MUL: r.v = Z3_mk_mul(z->z, 2, (Z3_ast[]){x, y}); break;
    case OP_DIV:
    case OP_MOD: {
        Z3_ast q = fdiv(z, x, s->b, y);
        r.v = s->op == OP_DIV ? q : Z3_mk_sub(z->z, 2, (Z3_ast[]){x, Z3_mk_mul(z->z, 2, (Z3_ast[]){y, q})});
        r.err = or2(z, r.err, Z3_mk_eq(z->z, y, num(z, 0)));
        break;
    }
    case OP_AND:
    case OP_OR: {
        Z3_ast p = as_bool(z, a), q = as_bool(z, b);
        r.is_bool = true;
        r.v = s->op == OP_AND ? and2(z, p, q) : or2(z, p, q);
        /* short-circuit: b is evaluated only when a does not decide */
        r.err = b->err ? or2(z, a->err, and2(z, s->op == OP_AND ? p : Z3_mk_not(z->z, p), b->err)) : a->err;
        break;
    }
    default:
        if (!is_cmp(s->op)) {
            z->failed = true;
            return r;
        }
        r.is_bool = true;
        switch (s->op) {
        case OP_EQ: r.v = Z3_mk_eq(z->z, x, y); break;
        case OP_NE: r.v = Z3_mk_not(z->z, Z3_mk_eq(z->z, x, y)); break;
        case OP_LT: r.v = Z3_mk_lt(z->z, x, y); break;
        case OP_LE: r.v = Z3_mk_le(z->z, x, y); break;
        case OP_GT: r.v = Z3_mk_gt(z->z, x, y); break;
        default: r.v = Z3_mk_ge(z->z, x, y); break;
        }
    }
    return r;
}

/* Translates the DAG under root, operands first, without recursion; a
 * copy into *out, since the table moves as it grows. */
static bool translate(smt *z, sym *root, tr *out) {
    tr *have = find(z, root);
    if (have) {
        *out = *have;
        return true;
    }
    size_t cap = 64, n = 0;
    sym **st = malloc(cap * sizeof *st);
    if (!st) return false;
    st[n++] = root;
    while (n && !z->failed) {
        sym *s = st[n - 1];
        if (find(z, s)) {
            n--;
            continue;
        }
        sym *kids[3] = {s->a, s->b, s->t};
        bool ready = true;
        if (s->k != SY_CONST && s->k != SY_DEC)
            for (int k = 0; k < 3; k++)
                if (kids[k] && !find(z, kids[k])) {
                    if (n == cap) {
                        sym **ns = realloc(st, (cap *= 2) * sizeof *st);
                        if (!ns) abort();
                        st = ns;
                    }
                    st[n++] = kids[k];
                    ready = false;
                }
        if (!ready) continue;
        tr t = make(z, s);
        for (int k = 0; k < 3; k++) {
            tr *kt = kids[k] && s->k != SY_DEC ? find(z, kids[k]) : NULL;
            if (kt && kt->depth + 1 > t.depth) t.depth = kt->depth + 1;
        }
        if (t.depth > SMT_MAX_DEPTH) z->failed = true;
        if (z->failed) break;
        put(z, t);
        n--;
    }
    free(st);
    if (z->failed) return false;
    *out = *find(z, root);
    return true;
}

/* ----- queries ----- */

static bool model_value(smt *z, Z3_model m, int id, sval *out) {
    Z3_ast v;
    int64_t x;
    if (!Z3_model_eval(z->z, m, z->dec_var[id], true, &v) || !Z3_get_numeral_int64(z->z, v, &x)) return false;
    *out = (sval){false, x, 0};
    return true;
}

/* The resource units the context has used so far (z3 counts them per
 * context, across its solvers). */
static uint64_t units_used(smt *z, Z3_solver sv) {
    Z3_stats st = Z3_solver_get_statistics(z->z, sv);
    Z3_stats_inc_ref(z->z, st);
    uint64_t v = z->spent;
    for (unsigned i = 0; i < Z3_stats_size(z->z, st); i++)
        if (!strcmp(Z3_stats_get_key(z->z, st, i), "rlimit count"))
            v = Z3_stats_is_uint(z->z, st, i) ? Z3_stats_get_uint_value(z->z, st, i)
                                              : (uint64_t)Z3_stats_get_double_value(z->z, st, i);
    Z3_stats_dec_ref(z->z, st);
    return v;
}

smt_result smt_refute(smt *z, const int *ids, int n, require_c **reqs, int nreq, sym *guard, sym *prop,
                      sval *vals) {
    if (!z || z->spent >= z->budget) return SMT_UNKNOWN;
    z->failed = false;
    for (int k = 0; k < n; k++)
        if (!dec_term(z, ids[k])) return SMT_UNKNOWN;
    tr gt, pt;
    if (!translate(z, guard, &gt) || !translate(z, prop, &pt)) return SMT_UNKNOWN;
    const tr *g = &gt, *p = &pt;
    Z3_solver sv = Z3_mk_solver(z->z);
    Z3_solver_inc_ref(z->z, sv);
    Z3_params ps = Z3_mk_params(z->z);
    Z3_params_inc_ref(z->z, ps);
    uint64_t left = z->budget - z->spent;
    Z3_params_set_uint(z->z, ps, Z3_mk_string_symbol(z->z, "rlimit"),
                       (unsigned)(left < SMT_QUERY_RLIMIT ? left : SMT_QUERY_RLIMIT));
    Z3_params_set_uint(z->z, ps, Z3_mk_string_symbol(z->z, "timeout"), SMT_GUARD_MS);
    Z3_solver_set_params(z->z, sv, ps);
    for (int k = 0; k < n; k++)
        if (z->dec_dom[ids[k]]) Z3_solver_assert(z->z, sv, z->dec_dom[ids[k]]);
    smt_result res = SMT_UNKNOWN;
    for (int r = 0; r < nreq; r++) {
        tr qg, qc;
        if (!translate(z, reqs[r]->guard, &qg) || !translate(z, reqs[r]->cond, &qc)) goto done;
        Z3_solver_assert(z->z, sv, Z3_mk_implies(z->z, as_bool(z, &qg), as_bool(z, &qc)));
    }
    Z3_solver_assert(z->z, sv, as_bool(z, g));
    if (g->err) Z3_solver_assert(z->z, sv, Z3_mk_not(z->z, g->err));
    Z3_solver_assert(z->z, sv, or2(z, Z3_mk_not(z->z, as_bool(z, p)), p->err));
    Z3_lbool ans = Z3_solver_check(z->z, sv);
    z->spent = units_used(z, sv);
    if (Z3_get_error_code(z->z) != Z3_OK) goto done;
    if (ans == Z3_L_FALSE) res = SMT_PROVED;
    if (ans == Z3_L_TRUE) {
        Z3_model m = Z3_solver_get_model(z->z, sv);
        Z3_model_inc_ref(z->z, m);
        res = SMT_REFUTED;
        for (int k = 0; k < n && res == SMT_REFUTED; k++)
            if (!model_value(z, m, ids[k], &vals[ids[k]])) res = SMT_UNKNOWN;
        Z3_model_dec_ref(z->z, m);
    }
done:
    Z3_params_dec_ref(z->z, ps);
    Z3_solver_dec_ref(z->z, sv);
    return res;
}
