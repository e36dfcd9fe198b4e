/* sym.c: construction (with folding), evaluation and printing of syms.
 *
 * Folding matters twice: it makes instantiation of a point plain arithmetic,
 * and it keeps the checker's DAGs small (x/1, x+0, ite(c, a, a) vanish), so
 * that most shape equalities are decided by pointer equality without any
 * enumeration at all.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "sym.h"

int *deps_union(nasc_ctx *c, const int *a, int na, const int *b, int nb, int *n) {
    if (nb == 0) {
        *n = na;
        return (int *)a;
    }
    if (na == 0) {
        *n = nb;
        return (int *)b;
    }
    int *out = arena_alloc(&c->A, (size_t)(na + nb) * sizeof(int));
    int i = 0, j = 0, k = 0;
    while (i < na || j < nb) {
        int x;
        if (j >= nb || (i < na && a[i] < b[j]))
            x = a[i++];
        else if (i >= na || b[j] < a[i])
            x = b[j++];
        else {
            x = a[i++];
            j++;
        }
        out[k++] = x;
    }
    *n = k;
    return out;
}

static sym *mk(nasc_ctx *c, sym_kind k) {
    sym *s = arena_alloc(&c->A, sizeof *s);
    s->k = k;
    return s;
}

sym *sym_int(nasc_ctx *c, int64_t v) {
    sym *s = mk(c, SY_CONST);
    s->c.i = v;
    return s;
}

sym *sym_float(nasc_ctx *c, double v) {
    sym *s = mk(c, SY_CONST);
    s->is_float = s->c.is_float = true;
    s->c.f = v;
    return s;
}

sym *sym_bool(nasc_ctx *c, bool v) { return sym_int(c, v ? 1 : 0); }

sym *sym_dec(nasc_ctx *c, int dec, bool is_float) {
    sym *s = mk(c, SY_DEC);
    s->dec = dec;
    s->is_float = is_float;
    s->deps = arena_alloc(&c->A, sizeof(int));
    s->deps[0] = dec;
    s->n_deps = 1;
    return s;
}

bool sym_is_true(const sym *s) { return s->k == SY_CONST && !s->c.is_float && s->c.i != 0; }
bool sym_is_false(const sym *s) { return s->k == SY_CONST && !s->c.is_float && s->c.i == 0; }

static void set_deps2(nasc_ctx *c, sym *s, const sym *a, const sym *b) {
    s->deps = deps_union(c, a->deps, a->n_deps, b ? b->deps : NULL, b ? b->n_deps : 0, &s->n_deps);
}

/* Integer division and modulo as the language defines them: floor
 * semantics would surprise nobody on sizes, but sizes are non-negative and
 * C's truncation matches Python's // there; we use floor for negatives. */
static int64_t idiv(int64_t a, int64_t b) {
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) q--;
    return q;
}
static int64_t imod(int64_t a, int64_t b) { return a - idiv(a, b) * b; }

/* Applies op to two values; *err on division by zero or overflow. */
static sval apply(ast_op op, sval x, sval y, bool *err) {
    sval r = {0};
    bool fl = x.is_float || y.is_float;
    double xf = x.is_float ? x.f : (double)x.i, yf = y.is_float ? y.f : (double)y.i;
    switch (op) {
    case OP_ADD:
    case OP_SUB:
    case OP_MUL:
        if (fl) {
            r.is_float = true;
            r.f = op == OP_ADD ? xf + yf : op == OP_SUB ? xf - yf : xf * yf;
        } else {
            long long out;
            bool ovf = op == OP_ADD   ? __builtin_add_overflow(x.i, y.i, &out)
                       : op == OP_SUB ? __builtin_sub_overflow(x.i, y.i, &out)
                                      : __builtin_mul_overflow(x.i, y.i, &out);
            if (ovf) *err = true;
            r.i = ovf ? 0 : out;
        }
        return r;
    case OP_DIV:
        if (fl) {
            r.is_float = true;
            r.f = xf / yf;
            if (yf == 0) *err = true;
            return r;
        }
        if (y.i == 0 || (x.i == INT64_MIN && y.i == -1)) {
            *err = true;
            return r;
        }
        r.i = idiv(x.i, y.i);
        return r;
    case OP_MOD:
        if (fl) {
            r.is_float = true;
            r.f = fmod(xf, yf);
            if (yf == 0) *err = true;
            return r;
        }
        if (y.i == 0 || y.i == -1) {
            if (y.i == 0) *err = true;
            return r;
        }
        r.i = imod(x.i, y.i);
        return r;
    case OP_POW:
        r.is_float = true;
        r.f = pow(xf, yf);
        return r;
    case OP_EQ: r.i = fl ? xf == yf : x.i == y.i; return r;
    case OP_NE: r.i = fl ? xf != yf : x.i != y.i; return r;
    case OP_LT: r.i = fl ? xf < yf : x.i < y.i; return r;
    case OP_LE: r.i = fl ? xf <= yf : x.i <= y.i; return r;
    case OP_GT: r.i = fl ? xf > yf : x.i > y.i; return r;
    case OP_GE: r.i = fl ? xf >= yf : x.i >= y.i; return r;
    case OP_AND: r.i = (fl ? xf != 0 : x.i != 0) && (fl ? yf != 0 : y.i != 0); return r;
    case OP_OR: r.i = (fl ? xf != 0 : x.i != 0) || (fl ? yf != 0 : y.i != 0); return r;
    default: *err = true; return r;
    }
}

static bool is_cmp(ast_op op) { return op >= OP_EQ && op <= OP_OR; }

static bool is_int_const(const sym *s, int64_t v) {
    return s->k == SY_CONST && !s->c.is_float && s->c.i == v;
}

sym *sym_bin(nasc_ctx *c, ast_op op, sym *a, sym *b) {
    if (a->k == SY_CONST && b->k == SY_CONST) {
        bool err = false;
        sval r = apply(op, a->c, b->c, &err);
        if (!err) {
            sym *s = mk(c, SY_CONST);
            s->c = r;
            s->is_float = r.is_float;
            return s;
        }
    }
    /* Identities that keep shapes readable and equalities pointer-equal. */
    switch (op) {
    case OP_ADD:
        if (is_int_const(b, 0)) return a;
        if (is_int_const(a, 0)) return b;
        break;
    case OP_SUB:
        if (is_int_const(b, 0)) return a;
        break;
    case OP_MUL:
        if (is_int_const(b, 1)) return a;
        if (is_int_const(a, 1)) return b;
        break;
    case OP_DIV:
        if (is_int_const(b, 1) && !a->is_float) return a;
        break;
    case OP_EQ:
    case OP_LE:
    case OP_GE:
        if (a == b) return sym_bool(c, true);
        break;
    case OP_NE:
    case OP_LT:
    case OP_GT:
        if (a == b) return sym_bool(c, false);
        break;
    case OP_AND:
        if (sym_is_false(a) || sym_is_false(b)) return sym_bool(c, false);
        if (sym_is_true(a)) return b;
        if (sym_is_true(b) || a == b) return a;
        break;
    case OP_OR:
        if (sym_is_true(a) || sym_is_true(b)) return sym_bool(c, true);
        if (sym_is_false(a)) return b;
        if (sym_is_false(b) || a == b) return a;
        break;
    default: break;
    }
    sym *s = mk(c, SY_BIN);
    s->op = op;
    s->a = a;
    s->b = b;
    s->is_float = !is_cmp(op) && (op == OP_POW || a->is_float || b->is_float);
    set_deps2(c, s, a, b);
    return s;
}

sym *sym_and(nasc_ctx *c, sym *a, sym *b) { return sym_bin(c, OP_AND, a, b); }

sym *sym_not(nasc_ctx *c, sym *a) {
    if (a->k == SY_CONST) return sym_bool(c, !(a->c.is_float ? a->c.f != 0 : a->c.i != 0));
    if (a->k == SY_NOT) return a->a;
    sym *s = mk(c, SY_NOT);
    s->a = a;
    s->deps = a->deps;
    s->n_deps = a->n_deps;
    return s;
}

sym *sym_neg(nasc_ctx *c, sym *a) {
    if (a->k == SY_CONST) return a->c.is_float ? sym_float(c, -a->c.f) : sym_int(c, -a->c.i);
    sym *s = mk(c, SY_NEG);
    s->a = a;
    s->is_float = a->is_float;
    s->deps = a->deps;
    s->n_deps = a->n_deps;
    return s;
}

sym *sym_ite(nasc_ctx *c, sym *cond, sym *a, sym *b) {
    if (a == b) return a;
    if (sym_is_true(cond)) return a;
    if (sym_is_false(cond)) return b;
    if (a->k == SY_CONST && b->k == SY_CONST && a->c.is_float == b->c.is_float &&
        (a->c.is_float ? a->c.f == b->c.f : a->c.i == b->c.i))
        return a;
    sym *s = mk(c, SY_ITE);
    s->a = cond;
    s->b = a;
    s->t = b;
    s->is_float = a->is_float || b->is_float;
    int n1;
    int *d1 = deps_union(c, cond->deps, cond->n_deps, a->deps, a->n_deps, &n1);
    s->deps = deps_union(c, d1, n1, b->deps, b->n_deps, &s->n_deps);
    return s;
}

uint32_t sym_new_gen(void) {
    static uint32_t gen = 0;
    if (++gen == 0) gen = 1;
    return gen;
}

static bool truthy(sval v) { return v.is_float ? v.f != 0 : v.i != 0; }

/* An explicit evaluation stack: a node and how far its evaluation got. */
typedef struct frame_e {
    sym *s;
    int st;
} frame_e;

typedef struct estack {
    frame_e *v, local[64];
    size_t n, cap;
} estack;

static void es_push(estack *e, sym *s) {
    if (e->n == e->cap) {
        size_t nc = e->cap * 2;
        frame_e *nv = malloc(nc * sizeof *nv);
        if (!nv) abort(); /* a DAG walk cannot report from here; it needs O(depth) words */
        memcpy(nv, e->v, e->n * sizeof *nv);
        if (e->v != e->local) free(e->v);
        e->v = nv;
        e->cap = nc;
    }
    e->v[e->n++] = (frame_e){s, 0};
}

/* The value of an evaluated operand (a constant, or memoized this gen). */
static sval got(const sym *s, sym_env *env, bool *err) {
    if (s->k == SY_CONST) return s->c;
    if (s->memo_err) *err = true;
    (void)env;
    return s->memo;
}

static bool ready(const sym *s, const sym_env *env) { return s->k == SY_CONST || s->memo_gen == env->gen; }

/* Advances the top frame: pushes an operand it needs, or computes the
 * node.  Returns true when the node is done (memoized). */
static bool step(estack *es, frame_e *f, sym_env *env) {
    sym *s = f->s;
    sval r = {0};
    bool err = false;
    switch (s->k) {
    case SY_CONST: return true;
    case SY_DEC: r = env->vals[s->dec]; break;
    case SY_NOT:
    case SY_NEG:
        if (!ready(s->a, env)) {
            es_push(es, s->a);
            return false;
        }
        r = got(s->a, env, &err);
        if (s->k == SY_NOT)
            r = (sval){false, !truthy(r), 0};
        else if (r.is_float)
            r.f = -r.f;
        else
            r.i = -r.i;
        break;
    case SY_ITE:
        if (!ready(s->a, env)) {
            es_push(es, s->a);
            return false;
        } else {
            sym *br = truthy(got(s->a, env, &err)) ? s->b : s->t;
            if (!ready(br, env)) {
                es_push(es, br);
                return false;
            }
            r = got(br, env, &err);
        }
        break;
    case SY_BIN:
        if (!ready(s->a, env)) {
            es_push(es, s->a);
            return false;
        }
        if (s->op == OP_AND || s->op == OP_OR) { /* short-circuit: guards protect divisions */
            bool x = truthy(got(s->a, env, &err));
            if (s->op == OP_AND ? !x : x) {
                r.i = x;
                break;
            }
            if (!ready(s->b, env)) {
                es_push(es, s->b);
                return false;
            }
            r.i = truthy(got(s->b, env, &err));
            break;
        }
        if (!ready(s->b, env)) {
            es_push(es, s->b);
            return false;
        }
        {
            sval x = got(s->a, env, &err), y = got(s->b, env, &err);
            r = apply(s->op, x, y, &err);
        }
        break;
    }
    (void)f;
    s->memo_gen = env->gen;
    s->memo_err = err; /* sticky: the errors of the operands it evaluated too */
    s->memo = r;
    return true;
}

sval sym_eval(sym *s, sym_env *env) {
    if (s->k == SY_CONST) return s->c;
    if (s->memo_gen != env->gen) {
        estack es = {0};
        es.v = es.local;
        es.cap = sizeof es.local / sizeof es.local[0];
        es_push(&es, s);
        while (es.n) {
            frame_e *f = &es.v[es.n - 1];
            if (ready(f->s, env) || step(&es, f, env)) {
                /* step may have pushed (and moved the stack): find the frame again */
                es.n--;
            }
        }
        if (es.v != es.local) free(es.v);
    }
    if (s->memo_err) env->err = true;
    return s->memo;
}

/* ----- intervals ----- */

static int64_t sat(__int128 v) { return v > INT64_MAX ? INT64_MAX : v < INT64_MIN ? INT64_MIN : (int64_t)v; }
static bool unbounded(int64_t v) { return v == INT64_MIN || v == INT64_MAX; }

/* [lo, hi] of a op b on intervals (saturating; unbounded ends stay so). */
static void bnd_apply(ast_op op, int64_t al, int64_t ah, int64_t bl, int64_t bh, int64_t *lo, int64_t *hi) {
    *lo = INT64_MIN;
    *hi = INT64_MAX;
    bool any_unb = unbounded(al) || unbounded(ah) || unbounded(bl) || unbounded(bh);
    switch (op) {
    case OP_ADD:
        *lo = unbounded(al) || unbounded(bl) ? INT64_MIN : sat((__int128)al + bl);
        *hi = unbounded(ah) || unbounded(bh) ? INT64_MAX : sat((__int128)ah + bh);
        return;
    case OP_SUB:
        *lo = unbounded(al) || unbounded(bh) ? INT64_MIN : sat((__int128)al - bh);
        *hi = unbounded(ah) || unbounded(bl) ? INT64_MAX : sat((__int128)ah - bl);
        return;
    case OP_MUL:
    case OP_DIV: {
        if (any_unb) return;
        /* a divisor that may be 0 may make the value an error: no bound,
         * so that no property is proven through it */
        if (op == OP_DIV && bl <= 0 && bh >= 0) return;
        int64_t xs[2] = {al, ah}, ys[2] = {bl, bh};
        __int128 mn = 0, mx = 0;
        for (int i = 0; i < 4; i++) {
            __int128 x = xs[i & 1], y = ys[i >> 1], v;
            if (op == OP_MUL)
                v = x * y;
            else {
                v = x / y;
                if ((x % y != 0) && ((x < 0) != (y < 0))) v--;
            }
            if (i == 0 || v < mn) mn = v;
            if (i == 0 || v > mx) mx = v;
        }
        *lo = sat(mn);
        *hi = sat(mx);
        return;
    }
    case OP_MOD:
        if (any_unb || bl <= 0) return; /* sizes divide by positive numbers */
        *lo = al >= 0 ? 0 : 1 - bh;
        *hi = bh - 1;
        if (al >= 0 && ah < bh) *hi = ah < *hi ? ah : *hi;
        return;
    default: break;
    }
    if (op < OP_EQ || op > OP_OR) return;
    /* comparisons decide when the intervals do not overlap */
    *lo = 0;
    *hi = 1;
    bool t = false, f = false;
    switch (op) {
    case OP_EQ:
        t = al == ah && bl == bh && al == bl && !unbounded(al);
        f = ah < bl || bh < al;
        break;
    case OP_NE:
        f = al == ah && bl == bh && al == bl && !unbounded(al);
        t = ah < bl || bh < al;
        break;
    case OP_LT:
        t = ah < bl;
        f = al >= bh;
        break;
    case OP_LE:
        t = ah <= bl;
        f = al > bh;
        break;
    case OP_GT:
        t = al > bh;
        f = ah <= bl;
        break;
    case OP_GE:
        t = al >= bh;
        f = ah < bl;
        break;
    case OP_AND:
        t = al > 0 && bl > 0;
        f = ah == 0 || bh == 0;
        break;
    case OP_OR:
        t = al > 0 || bl > 0;
        f = ah == 0 && bh == 0;
        break;
    default: break;
    }
    if (t) *lo = 1;
    if (f) *hi = 0;
}

static bool bnd_ready(const sym *s, uint32_t gen) { return s->k == SY_CONST || s->bnd_gen == gen; }

static void bnd_get(const sym *s, int64_t *lo, int64_t *hi) {
    if (s->k == SY_CONST) {
        *lo = *hi = s->c.i;
        return;
    }
    *lo = s->blo;
    *hi = s->bhi;
}

bool sym_bounds(sym *root, sym_domain dom, void *ud, int64_t *lo, int64_t *hi) {
    if (root->is_float) return false;
    uint32_t gen = sym_new_gen();
    estack es = {0};
    es.v = es.local;
    es.cap = sizeof es.local / sizeof es.local[0];
    es_push(&es, root);
    while (es.n) {
        sym *s = es.v[es.n - 1].s;
        if (bnd_ready(s, gen)) {
            es.n--;
            continue;
        }
        sym *kids[3] = {s->a, s->b, s->t};
        bool wait = false;
        if (s->k != SY_DEC)
            for (int k = 0; k < 3; k++)
                if (kids[k] && !bnd_ready(kids[k], gen)) {
                    es_push(&es, kids[k]);
                    wait = true;
                }
        if (wait) continue;
        int64_t l = INT64_MIN, h = INT64_MAX, al, ah, bl, bh;
        switch (s->k) {
        case SY_CONST: break;
        case SY_DEC:
            if (!dom(ud, s->dec, &l, &h)) l = INT64_MIN, h = INT64_MAX;
            break;
        case SY_NOT:
            bnd_get(s->a, &al, &ah);
            l = al > 0 || ah < 0 ? 0 : al == 0 && ah == 0 ? 1 : 0;
            h = al == 0 && ah == 0 ? 1 : al > 0 || ah < 0 ? 0 : 1;
            break;
        case SY_NEG:
            bnd_get(s->a, &al, &ah);
            l = ah == INT64_MAX ? INT64_MIN : sat(-(__int128)ah);
            h = al == INT64_MIN ? INT64_MAX : sat(-(__int128)al);
            break;
        case SY_ITE:
            bnd_get(s->a, &al, &ah);
            if (al > 0 || ah < 0) { /* always true */
                bnd_get(s->b, &l, &h);
            } else if (al == 0 && ah == 0) {
                bnd_get(s->t, &l, &h);
            } else {
                bnd_get(s->b, &al, &ah);
                bnd_get(s->t, &bl, &bh);
                l = al < bl ? al : bl;
                h = ah > bh ? ah : bh;
            }
            break;
        case SY_BIN:
            bnd_get(s->a, &al, &ah);
            bnd_get(s->b, &bl, &bh);
            bnd_apply(s->op, al, ah, bl, bh, &l, &h);
            break;
        }
        if (s->is_float) l = INT64_MIN, h = INT64_MAX;
        s->blo = l;
        s->bhi = h;
        s->bnd_gen = gen;
        es.n--;
    }
    if (es.v != es.local) free(es.v);
    bnd_get(root, lo, hi);
    return true;
}

/* ----- printing ----- */

static const char *op_text(ast_op op) {
    static const char *t[] = {
        "+", "-", "*", "/", "%", "^", "==", "!=", "<", "<=", ">", ">=", "and", "or", "not", "-"};
    return op <= OP_NEG ? t[op] : "?";
}

static int prec(const sym *s) {
    if (s->k != SY_BIN) return 10;
    switch (s->op) {
    case OP_OR: return 1;
    case OP_AND: return 2;
    case OP_ADD:
    case OP_SUB: return 4;
    case OP_MUL:
    case OP_DIV:
    case OP_MOD: return 5;
    case OP_POW: return 6;
    default: return 3;
    }
}

typedef struct pctx {
    nasc_ctx *c;
    sym_namer nm;
    sym_valnamer vn;
    void *ud;
    int depth; /* of the recursion: printing stops nesting at PRINT_DEPTH */
} pctx;

/* A shape nested deeper than this prints as "..." (no one reads it, and
 * the recursion stays bounded). */
#define PRINT_DEPTH 48

static char *str_rec(pctx *p, const sym *s, int min_prec);

static char *val_str(pctx *p, sval v) {
    if (v.is_float) return arena_printf(&p->c->A, "%g", v.f);
    return arena_printf(&p->c->A, "%lld", (long long)v.i);
}

/* `op == sepconv` reads better than `op == 2`: name the constant side of a
 * comparison with a decision through its domain. */
static char *cmp_str(pctx *p, const sym *s) {
    const sym *d = s->a->k == SY_DEC ? s->a : s->b->k == SY_DEC ? s->b : NULL;
    const sym *k = d == s->a ? s->b : s->a;
    if (!d || k->k != SY_CONST) return NULL;
    const char *name = p->vn && !k->c.is_float ? p->vn(p->ud, d->dec, k->c.i) : NULL;
    if (!name)
        name = k->c.is_float ? arena_printf(&p->c->A, "%g", k->c.f)
                             : arena_printf(&p->c->A, "%lld", (long long)k->c.i);
    ast_op op = s->op;
    if (d == s->b) /* mirror so the decision comes first */
        op = op == OP_LT ? OP_GT : op == OP_GT ? OP_LT : op == OP_LE ? OP_GE : op == OP_GE ? OP_LE : op;
    return arena_printf(&p->c->A, "%s %s %s", p->nm(p->ud, d->dec), op_text(op), name);
}

static char *str_rec2(pctx *p, const sym *s, int min_prec);

static char *str_rec(pctx *p, const sym *s, int min_prec) {
    if (p->depth >= PRINT_DEPTH && s->k != SY_CONST && s->k != SY_DEC) return arena_strdup(&p->c->A, "...");
    p->depth++;
    char *r = str_rec2(p, s, min_prec);
    p->depth--;
    return r;
}

static char *str_rec2(pctx *p, const sym *s, int min_prec) {
    char *r;
    switch (s->k) {
    case SY_CONST: return val_str(p, s->c);
    case SY_DEC: return arena_strdup(&p->c->A, p->nm(p->ud, s->dec));
    case SY_NOT: return arena_printf(&p->c->A, "not %s", str_rec(p, s->a, 10));
    case SY_NEG: return arena_printf(&p->c->A, "-%s", str_rec(p, s->a, 10));
    case SY_ITE:
        r = arena_printf(&p->c->A, "(%s if %s else %s)", str_rec(p, s->b, 0), str_rec(p, s->a, 0),
                         str_rec(p, s->t, 0));
        return r;
    case SY_BIN: {
        int pr = prec(s);
        r = (pr == 3) ? cmp_str(p, s) : NULL;
        if (!r)
            r = arena_printf(&p->c->A, "%s %s %s", str_rec(p, s->a, pr), op_text(s->op),
                             str_rec(p, s->b, pr + 1));
        if (pr < min_prec) r = arena_printf(&p->c->A, "(%s)", r);
        return r;
    }
    }
    return arena_strdup(&p->c->A, "?");
}

char *sym_str(nasc_ctx *c, const sym *s, sym_namer nm, sym_valnamer vn, void *ud) {
    pctx p = {c, nm, vn, ud, 0};
    return str_rec(&p, s, 0);
}
