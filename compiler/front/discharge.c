/* discharge.c: proving the obligations, counting the space, and the
 * params/FLOPs ranges (docs/checker.md).
 *
 * An obligation is first tried by interval arithmetic over the decisions'
 * domains (proves most positivity checks at once), then by enumerating
 * the decisions it depends on (and the `require` constraints that share
 * decisions with it) when they have few combinations: the fast path, and
 * the usual case because interp.c folds and merges.  The rest goes to z3
 * (smt.c), whose model is the counterexample.  Counting distinct points
 * groups decisions into independent components (linked through activity
 * conditions and requires) and multiplies the components' counts, exactly,
 * in big integers.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "bigint.h"
#include "interp_int.h"
#include "smt.h"

/* Enumerate an obligation's decisions below this many combinations; z3
 * above.  Both take well under a millisecond at this size. */
#define FAST_LIMIT 4096
/* The most combinations any enumeration may take (z3 gave up, counting). */
#define ENUM_LIMIT 2000000
/* Term evaluations the params/FLOPs ranges of a space may take in all for
 * groups and clusters of terms enumerated together, and for single terms,
 * before they fall back to interval bounds (sound, marked as bounds). */
#define RANGE_WORK        500000
#define RANGE_WORK_SINGLE 400000
#define SINGLE_COMBOS     65536

/* ----- enumeration over a set of decisions ----- */

typedef struct enumr {
    space_ir *s;
    int n;
    const int *ids;
    int64_t *size; /* per decision */
    int64_t *idx;
    uint64_t **masks; /* SUBSET: the k-subsets */
    sval *vals;       /* indexed by decision id */
    sym_env env;
    bool exhaustive; /* false when a FLOAT decision is only sampled */
} enumr;


static int64_t binom(int n, int k) {
    double r = 1;
    for (int i = 1; i <= k; i++) r = r * (n - k + i) / i;
    return r > 9e18 ? INT64_MAX : (int64_t)(r + 0.5);
}

/* The number of values of a decision, saturated at INT64_MAX (a range
 * -2^63..2^63 has 2^64 values: compare, never multiply, with this). */
static int64_t dec_size(const decision *d) {
    switch (d->kind) {
    case DK_CAT: return d->n_alts;
    case DK_INT: {
        uint64_t q = ((uint64_t)d->hi - (uint64_t)d->lo) / (uint64_t)d->step;
        return q >= (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)q + 1;
    }
    case DK_FLOAT: return 3;
    case DK_SUBSET: return binom(d->n_alts, d->k);
    }
    return 1;
}

/* The exact number of values of a decision (floats: 1, counted apart). */
static void dec_count(const decision *d, bigint *out) {
    if (d->kind == DK_FLOAT) {
        bigint_set(out, 1);
        return;
    }
    if (d->kind == DK_INT) {
        bigint one;
        bigint_init(&one, 1);
        bigint_set(out, ((uint64_t)d->hi - (uint64_t)d->lo) / (uint64_t)d->step);
        bigint_add(out, &one);
        bigint_free(&one);
        return;
    }
    if (d->kind == DK_SUBSET) { /* C(n, k) exactly: n <= 64 */
        bigint_set(out, 1);
        for (int i = 1; i <= d->k; i++) {
            bigint_mul_small(out, (uint64_t)(d->n_alts - d->k + i));
            /* divide by i: exact at every step of the product formula */
            uint64_t rem = 0;
            for (int j = out->n - 1; j >= 0; j--) {
                uint64_t cur = (rem << 32) | out->d[j];
                out->d[j] = (uint32_t)(cur / (uint64_t)i);
                rem = cur % (uint64_t)i;
            }
            while (out->n && !out->d[out->n - 1]) out->n--;
        }
        return;
    }
    bigint_set(out, (uint64_t)dec_size(d));
}

static uint64_t *subset_masks(nasc_ctx *c, const decision *d) {
    int64_t m = binom(d->n_alts, d->k);
    if (m > ENUM_LIMIT) return NULL;
    uint64_t *out = arena_alloc(&c->A, (size_t)m * sizeof *out);
    uint64_t x = d->k == 64 ? ~0ull : ((1ull << d->k) - 1);
    for (int64_t i = 0; i < m; i++) {
        out[i] = x;
        uint64_t u = x & -x, v = x + u;
        if (!u || !v) break;
        x = v + (((v ^ x) / u) >> 2);
    }
    return out;
}

static sval dec_value(const enumr *e, int j) {
    const decision *d = e->s->decs.v[e->ids[j]];
    int64_t i = e->idx[j];
    sval v = {0};
    switch (d->kind) {
    case DK_CAT: return d->by_index ? (sval){false, i, 0} : d->alt_vals[i];
    case DK_INT: v.i = (int64_t)((uint64_t)d->lo + (uint64_t)i * (uint64_t)d->step); return v;
    case DK_FLOAT:
        v.is_float = true;
        v.f = i == 0 ? d->flo : i == 2 ? d->fhi : d->log ? sqrt(d->flo * d->fhi) : (d->flo + d->fhi) / 2;
        return v;
    case DK_SUBSET: v.i = (int64_t)e->masks[j][i]; return v;
    }
    return v;
}

/* Prepares an enumeration; returns the number of combinations, or -1 if
 * over `limit`. */
static int64_t enum_init(nasc_ctx *c, enumr *e, space_ir *s, const int *ids, int n, int64_t limit) {
    memset(e, 0, sizeof *e);
    e->s = s;
    e->n = n;
    e->ids = ids;
    e->size = arena_alloc(&c->A, (size_t)(n + 1) * sizeof *e->size);
    e->idx = arena_alloc(&c->A, (size_t)(n + 1) * sizeof *e->idx);
    e->masks = arena_alloc(&c->A, (size_t)(n + 1) * sizeof *e->masks);
    /* Enumerations never nest, so they share one buffer: a fresh one per
     * obligation would cost more than the proof itself on big files.  Set
     * before any early return: a caller over the limit still evaluates. */
    if (!s->scratch) s->scratch = arena_alloc(&c->A, (size_t)(s->decs.n + 1) * sizeof *s->scratch);
    e->vals = s->scratch;
    e->env.vals = e->vals;
    e->exhaustive = true;
    for (int j = 0; j < n; j++) e->size[j] = dec_size(s->decs.v[ids[j]]);
    int64_t total = 1;
    for (int j = 0; j < n; j++) {
        decision *d = s->decs.v[ids[j]];
        if (d->kind == DK_FLOAT) e->exhaustive = false;
        if (d->kind == DK_SUBSET && !(e->masks[j] = subset_masks(c, d))) return -1;
        if (e->size[j] > limit || total > limit / e->size[j]) return -1;
        total *= e->size[j];
    }
    e->env.vals = e->vals;
    return total;
}

/* Sets combination number t (mixed radix) and starts a new evaluation. */
static void enum_set(enumr *e, int64_t t) {
    for (int j = 0; j < e->n; j++) {
        e->idx[j] = t % e->size[j];
        t /= e->size[j];
        e->vals[e->ids[j]] = dec_value(e, j);
    }
    e->env.gen = sym_new_gen();
    e->env.err = false;
}

static bool truthy(sval v) { return v.is_float ? v.f != 0 : v.i != 0; }

static bool deps_subset(const int *a, int na, const int *b, int nb) {
    int j = 0;
    for (int i = 0; i < na; i++) {
        while (j < nb && b[j] < a[i]) j++;
        if (j == nb || b[j] != a[i]) return false;
    }
    return true;
}

static bool deps_meet(const int *a, int na, const int *b, int nb) {
    int i = 0, j = 0;
    while (i < na && j < nb) {
        if (a[i] == b[j]) return true;
        if (a[i] < b[j])
            i++;
        else
            j++;
    }
    return false;
}

/* True when every require whose decisions are all enumerated holds. */
static bool requires_hold(space_ir *s, enumr *e, const int *ids, int n) {
    for (int r = 0; r < s->reqs.n; r++) {
        require_c *q = &s->reqs.v[r];
        if (!deps_subset(q->guard->deps, q->guard->n_deps, ids, n) ||
            !deps_subset(q->cond->deps, q->cond->n_deps, ids, n))
            continue;
        if (truthy(sym_eval(q->guard, &e->env)) && !truthy(sym_eval(q->cond, &e->env))) return false;
    }
    return true;
}

/* ----- obligations ----- */

static char *val_text(nasc_ctx *c, sval v) {
    return v.is_float ? arena_printf(&c->A, "%g", v.f) : arena_printf(&c->A, "%lld", (long long)v.i);
}

static char *shown(nasc_ctx *c, oblig *o, int j, enumr *e) {
    if (o->show_rank[j] < 0) return val_text(c, sym_eval(o->show[j][0], &e->env));
    char *s = "[";
    for (int i = 0; i < o->show_rank[j]; i++)
        s = arena_printf(&c->A, "%s%s%s", s, i ? ", " : "", val_text(c, sym_eval(o->show[j][i], &e->env)));
    return arena_printf(&c->A, "%s]", s);
}

static char *dec_value_text(nasc_ctx *c, const decision *d, sval v) {
    if (d->kind == DK_CAT) {
        for (int i = 0; i < d->n_alts; i++)
            if (d->by_index ? v.i == i
                            : (d->alt_vals[i].is_float ? v.is_float && v.f == d->alt_vals[i].f
                                                       : !v.is_float && v.i == d->alt_vals[i].i))
                return (char *)d->alt_names[i];
    }
    if (d->kind == DK_SUBSET) {
        char *s = "{";
        int k = 0;
        for (int i = 0; i < d->n_alts; i++)
            if ((uint64_t)v.i >> i & 1)
                s = arena_printf(&c->A, "%s%s%s", s, k++ ? ", " : "", d->alt_names[i]);
        return arena_printf(&c->A, "%s}", s);
    }
    return val_text(c, v);
}

/* "when depth = 3, width[3] = 16": the active decisions a failure needs. */
/* A note names at most this many decisions (then "and N more"): a
 * counterexample over 1,000 conditional layers is not read in full. */
#define WHEN_MAX 64

static char *when_text(nasc_ctx *c, space_ir *s, enumr *e, const int *ids, int n) {
    char *w = "";
    int k = 0;
    for (int j = 0; j < n; j++) {
        decision *d = s->decs.v[ids[j]];
        if (deps_subset(d->guard->deps, d->guard->n_deps, ids, n) && !truthy(sym_eval(d->guard, &e->env)))
            continue;
        if (k++ < WHEN_MAX)
            w = arena_printf(&c->A, "%s%s%s = %s", w, k > 1 ? ", " : "", d->label,
                             dec_value_text(c, d, e->vals[d->id]));
    }
    if (k > WHEN_MAX) w = arena_printf(&c->A, "%s, and %d more", w, k - WHEN_MAX);
    return w;
}

static void report(nasc_ctx *c, space_ir *s, oblig *o, enumr *e, bool div_err) {
    char *msg = o->what_arg ? arena_printf(&c->A, o->what, o->what_arg) : arena_strdup(&c->A, o->what);
    for (int j = 0; j < o->n_show; j++)
        msg =
            arena_printf(&c->A, "%s%s %s", msg, j ? (o->joiner ? o->joiner : " and") : "", shown(c, o, j, e));
    if (div_err) msg = arena_printf(&c->A, "%s (the arithmetic overflows or divides by zero)", msg);
    diag *d = diag_error(c, o->at, "%s", msg);
    o->reported = d;
    /* Only the decisions the failing property itself depends on. */
    int nd;
    int *deps = deps_union(c, o->prop->deps, o->prop->n_deps, o->guard->deps, o->guard->n_deps, &nd);
    char *w = when_text(c, s, e, deps, nd);
    if (*w) diag_note(c, d, o->at, "when %s", w);
}

/* The decisions an obligation must consider together: its own, closed
 * under the requires that share any of them (a require over other
 * decisions cannot exclude a counterexample).  Fills the requires taken. */
static int *with_requires(nasc_ctx *c, space_ir *s, int *ids, int *n, require_c ***reqs, int *nreq) {
    *nreq = 0;
    *reqs = NULL;
    if (!s->reqs.n) return ids;
    bool *taken = arena_alloc(&c->A, (size_t)(s->reqs.n + 1) * sizeof *taken);
    *reqs = arena_alloc(&c->A, (size_t)(s->reqs.n + 1) * sizeof **reqs);
    *nreq = 0;
    for (bool grew = true; grew;) {
        grew = false;
        for (int r = 0; r < s->reqs.n; r++) {
            require_c *q = &s->reqs.v[r];
            if (taken[r]) continue;
            int nq;
            int *qd = deps_union(c, q->guard->deps, q->guard->n_deps, q->cond->deps, q->cond->n_deps, &nq);
            if (!deps_meet(qd, nq, ids, *n)) continue;
            taken[r] = true;
            (*reqs)[(*nreq)++] = q;
            if (deps_subset(qd, nq, ids, *n)) continue;
            ids = deps_union(c, ids, *n, qd, nq, n);
            grew = true;
        }
    }
    return ids;
}

/* True when an obligation at `at` has been reported: the reported ones
 * are few (the error limit), so scan those, not every obligation before
 * (quadratic in a big space's thousands of obligations). */
static bool already_reported(space_ir *s, const int *reported, int nrep, loc at) {
    for (int k = 0; k < nrep; k++) {
        loc b = s->obligs.v[reported[k]].at;
        if (b.line == at.line && b.col == at.col && b.file == at.file) return true;
    }
    return false;
}

bool decision_interval(void *ud, int id, int64_t *lo, int64_t *hi) {
    const decision *d = ((space_ir *)ud)->decs.v[id];
    switch (d->kind) {
    case DK_INT: *lo = d->lo, *hi = d->hi; return true;
    case DK_CAT:
        if (d->by_index) {
            *lo = 0, *hi = d->n_alts - 1;
            return true;
        }
        *lo = INT64_MAX, *hi = INT64_MIN;
        for (int i = 0; i < d->n_alts; i++) {
            if (d->alt_vals[i].is_float) return false;
            if (d->alt_vals[i].i < *lo) *lo = d->alt_vals[i].i;
            if (d->alt_vals[i].i > *hi) *hi = d->alt_vals[i].i;
        }
        return true;
    default: return false;
    }
}

/* The state of one space's analysis: the z3 context is made on first need
 * (most spaces never need it). */
typedef struct prover {
    nasc_ctx *c;
    space_ir *s;
    smt *z;
    bool z_tried;
    VEC(int) reported; /* obligations reported so far */
} prover;

/* Evaluates the obligation at the enumerator's current values: true when
 * this is a counterexample (then it is reported). */
static bool is_counterexample(prover *pv, oblig *o, enumr *e, const int *ids, int n) {
    e->env.gen = sym_new_gen();
    e->env.err = false;
    if (!truthy(sym_eval(o->guard, &e->env)) || e->env.err) return false;
    if (!requires_hold(pv->s, e, ids, n)) return false;
    e->env.err = false;
    bool ok = truthy(sym_eval(o->prop, &e->env));
    return !ok || e->env.err;
}

static bool refutes(prover *pv, oblig *o, enumr *e, const int *ids, int n) {
    if (!is_counterexample(pv, o, e, ids, n)) return false;
    report(pv->c, pv->s, o, e, e->env.err);
    return true;
}

/* Moves each decision of a solver's counterexample to its first value
 * wherever it stays a counterexample, so that the note reads like an
 * enumerated one (`depth = 1` rather than whatever the model chose). */
static void simplify_counterexample(prover *pv, oblig *o, enumr *e, const int *ids, int n) {
    for (int j = 0; j < n; j++) {
        sval was = e->vals[ids[j]];
        int64_t was_idx = e->idx[j];
        e->idx[j] = 0;
        e->vals[ids[j]] = dec_value(e, j);
        if (!is_counterexample(pv, o, e, ids, n)) {
            e->vals[ids[j]] = was;
            e->idx[j] = was_idx;
        }
    }
}

static void enumerate(prover *pv, oblig *o, enumr *e, const int *ids, int n, int64_t total) {
    for (int64_t t = 0; t < total; t++) {
        enum_set(e, t);
        if (refutes(pv, o, e, ids, n)) return;
    }
}

/* Too many combinations and z3 could not decide: a large random sample,
 * and a warning that says so. */
static void sample(prover *pv, oblig *o, enumr *e, const int *ids, int n) {
    uint64_t rng = 0x2545F4914F6CDD1Dull;
    for (int64_t t = 0; t < 200000; t++) {
        for (int j = 0; j < n; j++) {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            decision *d = pv->s->decs.v[ids[j]];
            e->idx[j] = (int64_t)(rng % (uint64_t)e->size[j]);
            e->vals[ids[j]] = d->kind != DK_SUBSET || e->masks[j] ? dec_value(e, j) : (sval){0};
        }
        e->env.gen = sym_new_gen();
        e->env.err = false;
        if (refutes(pv, o, e, ids, n)) return;
    }
    diag_warning(pv->c, o->at,
                 "this check depends on %d decisions, too many combinations to try them all, and the solver "
                 "could not decide it; 200000 random ones passed",
                 n);
}

/* Asks z3; true when it decided (proved, or refuted and reported). */
static bool by_solver(prover *pv, oblig *o, enumr *e, const int *ids, int n, require_c **reqs, int nreq) {
    if (!pv->z_tried) {
        pv->z_tried = true;
        /* its resource units bound the solver's work per space (smt.c):
         * past them, what is left is enumerated or sampled, with the
         * warning that says so, so that check stays an interactive command */
        pv->z = smt_new(pv->s, pv->c->solver_budget);
    }
    smt_result r = smt_refute(pv->z, ids, n, reqs, nreq, o->guard, o->prop, e->vals);
    if (r == SMT_PROVED) return true;
    if (r == SMT_UNKNOWN) return false;
    /* The model is re-checked with the evaluator (the solver's integers
     * do not overflow); one it does not confirm proves nothing. */
    if (!is_counterexample(pv, o, e, ids, n)) return false;
    simplify_counterexample(pv, o, e, ids, n);
    return refutes(pv, o, e, ids, n);
}

static void prove(prover *pv, int oi) {
    nasc_ctx *c = pv->c;
    space_ir *s = pv->s;
    oblig *o = &s->obligs.v[oi];
    if (sym_is_true(o->prop) || sym_is_false(o->guard)) return;
    if (already_reported(s, pv->reported.v, pv->reported.n, o->at)) return;
    int64_t lo, hi;
    if (sym_bounds(o->prop, decision_interval, s, &lo, &hi) && lo > 0) return; /* true on the whole box */
    int n, nreq;
    require_c **reqs;
    int *ids = deps_union(c, o->guard->deps, o->guard->n_deps, o->prop->deps, o->prop->n_deps, &n);
    ids = with_requires(c, s, ids, &n, &reqs, &nreq);
    enumr e;
    int64_t total = enum_init(c, &e, s, ids, n, ENUM_LIMIT);
    if (total >= 0 && total <= FAST_LIMIT) {
        enumerate(pv, o, &e, ids, n, total);
        return;
    }
    if (by_solver(pv, o, &e, ids, n, reqs, nreq)) return;
    if (total >= 0)
        enumerate(pv, o, &e, ids, n, total);
    else
        sample(pv, o, &e, ids, n);
}

/* ----- cardinality ----- */

static int uf_find(int *p, int x) {
    while (p[x] != x) x = p[x] = p[p[x]];
    return x;
}

static void uf_join(int *p, int a, int b) {
    a = uf_find(p, a);
    b = uf_find(p, b);
    if (a != b) p[a] = b;
}

/* out *= the number of values of every member (a product bound). */
static void mul_sizes(space_ir *s, const int *members, int nm, bigint *out) {
    bigint t;
    bigint_init(&t, 1);
    for (int i = 0; i < nm; i++) {
        dec_count(s->decs.v[members[i]], &t);
        bigint_mul(out, &t);
    }
    bigint_free(&t);
}

static void count_component(nasc_ctx *c, space_ir *s, int *members, int nm, bool *control, bigint *out,
                            bool *exact) {
    int nc = 0;
    int *ctl = arena_alloc(&c->A, (size_t)(nm + 1) * sizeof *ctl);
    for (int i = 0; i < nm; i++)
        if (control[members[i]]) ctl[nc++] = members[i];
    bigint_set(out, 1);
    if (nc == 0) {
        mul_sizes(s, members, nm, out);
        return;
    }
    enumr e;
    int64_t total = enum_init(c, &e, s, ctl, nc, ENUM_LIMIT);
    if (total < 0 || !e.exhaustive) {
        *exact = false;
        mul_sizes(s, members, nm, out);
        return;
    }
    bigint_set(out, 0);
    bigint term, f;
    bigint_init(&term, 1);
    bigint_init(&f, 1);
    for (int64_t t = 0; t < total; t++) {
        enum_set(&e, t);
        bool canonical = true;
        for (int j = 0; j < nc && canonical; j++) {
            decision *d = s->decs.v[ctl[j]];
            if (!truthy(sym_eval(d->guard, &e.env)) && e.idx[j] != 0) canonical = false;
        }
        if (!canonical || !requires_hold(s, &e, ctl, nc)) continue;
        bigint_set(&term, 1);
        for (int i = 0; i < nm; i++) {
            decision *d = s->decs.v[members[i]];
            if (control[d->id] || !truthy(sym_eval(d->guard, &e.env))) continue;
            dec_count(d, &f);
            bigint_mul(&term, &f);
        }
        bigint_add(out, &term);
    }
    bigint_free(&term);
    bigint_free(&f);
}

static void cardinality(nasc_ctx *c, space_ir *s) {
    int n = s->decs.n;
    int *parent = arena_alloc(&c->A, (size_t)(n + 1) * sizeof *parent);
    bool *control = arena_alloc(&c->A, (size_t)(n + 1) * sizeof *control);
    for (int i = 0; i < n; i++) parent[i] = i;
    s->n_continuous = 0;
    for (int i = 0; i < n; i++) {
        decision *d = s->decs.v[i];
        if (d->kind == DK_FLOAT) s->n_continuous++;
        for (int k = 0; k < d->guard->n_deps; k++) {
            control[d->guard->deps[k]] = true;
            uf_join(parent, i, d->guard->deps[k]);
        }
    }
    for (int r = 0; r < s->reqs.n; r++) {
        require_c *q = &s->reqs.v[r];
        int nq;
        int *qd = deps_union(c, q->guard->deps, q->guard->n_deps, q->cond->deps, q->cond->n_deps, &nq);
        for (int k = 0; k < nq; k++) {
            control[qd[k]] = true;
            if (k) uf_join(parent, qd[0], qd[k]);
        }
    }
    /* members of each component, grouped by root in one pass (not one
     * scan of all decisions per component: that is quadratic) */
    int *start = arena_alloc(&c->A, (size_t)(n + 2) * sizeof *start);
    int *members = arena_alloc(&c->A, (size_t)(n + 1) * sizeof *members);
    for (int i = 0; i < n; i++) start[uf_find(parent, i) + 1]++;
    for (int i = 0; i < n; i++) start[i + 1] += start[i];
    int *fill = arena_alloc(&c->A, (size_t)(n + 1) * sizeof *fill);
    for (int i = 0; i < n; i++) {
        int r = uf_find(parent, i);
        members[start[r] + fill[r]++] = i;
    }
    bigint total, comp;
    bigint_init(&total, 1);
    bigint_init(&comp, 1);
    s->card_exact = true;
    for (int r = 0; r < n; r++) {
        int nm = start[r + 1] - start[r];
        if (!nm) continue;
        count_component(c, s, members + start[r], nm, control, &comp, &s->card_exact);
        bigint_mul(&total, &comp);
    }
    char *text = bigint_str(&total);
    s->cardinality = arena_strdup(&c->A, text ? text : "?");
    free(text);
    bigint_free(&total);
    bigint_free(&comp);
}

/* ----- params and FLOPs ranges ----- */

/* Sums of costs saturate: a bound of 2^63 reads as "at most INT64_MAX",
 * never as a wrapped negative number. */
static int64_t sat_add(int64_t a, int64_t b) {
    int64_t r;
    return __builtin_add_overflow(a, b, &r) ? (b > 0 ? INT64_MAX : INT64_MIN) : r;
}


/* A cost is never negative at a valid point; combinations an enumeration
 * visits that no require excludes here may be invalid ones (a size below
 * 1 that a require elsewhere rules out), and must not drag a bound down. */
static int64_t nonneg(int64_t v) { return v < 0 ? 0 : v; }

/* Where a term reaches its extremes: the values of its decisions for the
 * params minimum, params maximum, FLOPs minimum and FLOPs maximum (in that
 * order).  n < 0: the term was bounded by intervals, no witness. */
typedef struct witness {
    int n;
    const int *ids;
    sval *v[4];
} witness;

/* The summed params and FLOPs of the active terms at the enumerator's
 * current point; false when the arithmetic errs there. */
static bool sum_costs(enumr *e, cost_term **ts, int nt, int64_t *p, int64_t *f) {
    *p = *f = 0;
    for (int i = 0; i < nt; i++) {
        if (!truthy(sym_eval(ts[i]->guard, &e->env))) continue;
        *p = sat_add(*p, nonneg(sym_eval(ts[i]->params, &e->env).i));
        *f = sat_add(*f, nonneg(sym_eval(ts[i]->flops, &e->env).i));
    }
    return !e->env.err;
}

static int *terms_deps(nasc_ctx *c, cost_term **ts, int nt, int *n) {
    int *ids = NULL;
    *n = 0;
    for (int i = 0; i < nt; i++) {
        ids = deps_union(c, ids, *n, ts[i]->guard->deps, ts[i]->guard->n_deps, n);
        ids = deps_union(c, ids, *n, ts[i]->params->deps, ts[i]->params->n_deps, n);
        ids = deps_union(c, ids, *n, ts[i]->flops->deps, ts[i]->flops->n_deps, n);
    }
    return ids;
}

/* The range of the summed cost of a cluster of terms (a few that share
 * decisions: the activations of one layer, a conv and its batchnorm), by
 * enumerating their decisions together, with witnesses; by interval
 * arithmetic, term by term, when that is over the budget. */
static void cluster_range(nasc_ctx *c, space_ir *s, cost_term **ts, int nt, int64_t mn[2], int64_t mx[2],
                          int64_t budget[2], witness *w) {
    int n;
    int *ids = terms_deps(c, ts, nt, &n);
    enumr e;
    int64_t *pay = nt > 1 ? &budget[0] : &budget[1];
    /* a single term past SINGLE_COMBOS gets intervals at once: those are
     * exact for the monotone size arithmetic of a deep stack, and a few
     * big enumerations would eat the budget of every other term */
    int64_t limit = nt > 1 || *pay < SINGLE_COMBOS ? *pay / (nt + 1) : SINGLE_COMBOS;
    int64_t total = enum_init(c, &e, s, ids, n, limit);
    mn[0] = mn[1] = INT64_MAX;
    mx[0] = mx[1] = 0;
    w->n = -1;
    if ((total < 0 || !e.exhaustive) && nt > 1) {
        /* Over the budget together: each term on its own (looser; no
         * witness, so the bound stays marked as a bound). */
        mn[0] = mn[1] = 0;
        for (int i = 0; i < nt; i++) {
            int64_t a[2], b[2];
            witness tw;
            cluster_range(c, s, ts + i, 1, a, b, budget, &tw);
            for (int k = 0; k < 2; k++) {
                mn[k] = sat_add(mn[k], a[k]);
                mx[k] = sat_add(mx[k], b[k]);
            }
        }
        return;
    }
    if (total < 0 || !e.exhaustive) {
        /* Too many combinations: bound the term by interval arithmetic
         * (sound; a cost under a guard lies between 0 and its bound). */
        sym *zero = sym_int(c, 0);
        mn[0] = mn[1] = 0;
        for (int i = 0; i < nt; i++) {
            cost_term *t = ts[i];
            sym *v[2] = {sym_ite(c, t->guard, t->params, zero), sym_ite(c, t->guard, t->flops, zero)};
            for (int k = 0; k < 2; k++) {
                int64_t lo, hi;
                if (!sym_bounds(v[k], decision_interval, s, &lo, &hi)) lo = 0, hi = INT64_MAX;
                mn[k] = sat_add(mn[k], lo < 0 ? 0 : lo); /* no point has a negative cost */
                mx[k] = sat_add(mx[k], hi < 0 ? 0 : hi);
            }
        }
        return;
    }
    *pay -= total * (nt + 1);
    int64_t at[4] = {0, 0, 0, 0};
    for (int64_t k = 0; k < total; k++) {
        enum_set(&e, k);
        if (!requires_hold(s, &e, ids, n)) continue;
        int64_t p, f;
        if (!sum_costs(&e, ts, nt, &p, &f)) continue;
        /* ties: the first combination for a minimum, the last for a
         * maximum (smallest and largest values), so that the witnesses of
         * clusters that grow with their decisions agree (bound_attained) */
        if (p < mn[0]) mn[0] = p, at[0] = k;
        if (p >= mx[0]) mx[0] = p, at[1] = k;
        if (f < mn[1]) mn[1] = f, at[2] = k;
        if (f >= mx[1]) mx[1] = f, at[3] = k;
    }
    if (mn[0] == INT64_MAX) {
        mn[0] = mn[1] = 0;
        return;
    }
    w->n = n;
    w->ids = ids;
    for (int m = 0; m < 4; m++) {
        enum_set(&e, at[m]);
        w->v[m] = arena_alloc(&c->A, (size_t)(n + 1) * sizeof *w->v[m]);
        for (int j = 0; j < n; j++) w->v[m][j] = e.vals[ids[j]];
    }
}

/* Splits a group's terms, in order, into clusters whose decisions have at
 * most CLUSTER_COMBOS combinations together; returns the number of
 * clusters, starts[k] the first term of cluster k. */
#define CLUSTER_COMBOS 1024
static int clusters_of(nasc_ctx *c, space_ir *s, cost_term **ts, int nt, int *starts) {
    int nc = 0, n = 0;
    int *ids = NULL;
    for (int i = 0; i < nt; i++) {
        int n1, nu;
        int *one = terms_deps(c, ts + i, 1, &n1);
        int *u = deps_union(c, ids, n, one, n1, &nu);
        enumr probe;
        if (i == 0 || enum_init(c, &probe, s, u, nu, CLUSTER_COMBOS) < 0) {
            starts[nc++] = i;
            ids = one;
            n = n1;
        } else {
            ids = u;
            n = nu;
        }
    }
    starts[nc] = nt;
    return nc;
}

/* Clusters bounded one by one sum to a bound that the group reaches when
 * one point has every cluster at its extreme at once.  The candidate point takes
 * each decision from the first term's witness that sets it (witnesses of
 * clusters indifferent to a decision may disagree on it: `reverse` tries
 * the other order).  True when that point satisfies the requires over its
 * decisions and its summed cost is the bound: then the bound is exact. */
static bool bound_attained(nasc_ctx *c, space_ir *s, cost_term **ts, int nt, witness *ws, int nw, int m,
                           int64_t bound, bool reverse) {
    int nd = s->decs.n;
    sval *val = arena_alloc(&c->A, (size_t)(nd + 1) * sizeof *val);
    bool *set = arena_alloc(&c->A, (size_t)(nd + 1) * sizeof *set);
    int *ids = arena_alloc(&c->A, (size_t)(nd + 1) * sizeof *ids);
    for (int t = 0; t < nw; t++) {
        int k = reverse ? nw - 1 - t : t;
        if (ws[k].n < 0) return false;
        for (int j = 0; j < ws[k].n; j++)
            if (!set[ws[k].ids[j]]) {
                set[ws[k].ids[j]] = true;
                val[ws[k].ids[j]] = ws[k].v[m][j];
            }
    }
    int n = 0;
    for (int d = 0; d < nd; d++)
        if (set[d]) ids[n++] = d;
    for (int r = 0; r < s->reqs.n; r++) { /* a require over other decisions too: undecided here */
        require_c *q = &s->reqs.v[r];
        int nq;
        int *qd = deps_union(c, q->guard->deps, q->guard->n_deps, q->cond->deps, q->cond->n_deps, &nq);
        if (deps_meet(qd, nq, ids, n) && !deps_subset(qd, nq, ids, n)) return false;
    }
    enumr e;
    enum_init(c, &e, s, ids, 0, 1);
    for (int d = 0; d < nd; d++)
        if (set[d]) e.vals[d] = val[d];
    e.env.gen = sym_new_gen();
    e.env.err = false;
    if (!requires_hold(s, &e, ids, n)) return false;
    int64_t sum = 0;
    for (int k = 0; k < nt; k++) {
        if (!truthy(sym_eval(ts[k]->guard, &e.env))) continue;
        sum = sat_add(sum, nonneg(sym_eval(m < 2 ? ts[k]->params : ts[k]->flops, &e.env).i));
    }
    return !e.env.err && sum == bound;
}

/* Min and max of the summed cost of a group of terms, enumerating the
 * decisions they depend on together; false when that is too costly. */
static bool group_range(nasc_ctx *c, space_ir *s, cost_term **ts, int nt, int64_t mn[2], int64_t mx[2],
                        int64_t *budget) {
    int n;
    int *ids = terms_deps(c, ts, nt, &n);
    enumr e;
    int64_t combos = enum_init(c, &e, s, ids, n, *budget / (nt + 1));
    if (combos < 0) return false;
    *budget -= combos * (nt + 1);
    mn[0] = mn[1] = INT64_MAX;
    mx[0] = mx[1] = INT64_MIN;
    for (int64_t k = 0; k < combos; k++) {
        enum_set(&e, k);
        if (!requires_hold(s, &e, ids, n)) continue;
        int64_t p, f;
        if (!sum_costs(&e, ts, nt, &p, &f)) continue;
        if (p < mn[0]) mn[0] = p;
        if (p > mx[0]) mx[0] = p;
        if (f < mn[1]) mn[1] = f;
        if (f > mx[1]) mx[1] = f;
    }
    if (mn[0] == INT64_MAX) mn[0] = mn[1] = mx[0] = mx[1] = 0;
    return true;
}

/* Terms that share no decision vary independently, so the range of the
 * total is the sum of the groups' ranges: exact whenever each group can be
 * enumerated; otherwise each term is bounded on its own (looser, sound). */
static void ranges(nasc_ctx *c, space_ir *s) {
    int nd = s->decs.n, nt = s->costs.n;
    int *parent = arena_alloc(&c->A, (size_t)(nd + 1) * sizeof *parent);
    for (int i = 0; i < nd; i++) parent[i] = i;
    for (int t = 0; t < nt; t++) {
        cost_term *ct = &s->costs.v[t];
        int n1, n;
        int *d1 =
            deps_union(c, ct->guard->deps, ct->guard->n_deps, ct->params->deps, ct->params->n_deps, &n1);
        int *ids = deps_union(c, d1, n1, ct->flops->deps, ct->flops->n_deps, &n);
        for (int k = 1; k < n; k++) uf_join(parent, ids[0], ids[k]);
    }
    for (int r = 0; r < s->reqs.n; r++) {
        require_c *q = &s->reqs.v[r];
        int nq;
        int *qd = deps_union(c, q->guard->deps, q->guard->n_deps, q->cond->deps, q->cond->n_deps, &nq);
        for (int k = 1; k < nq; k++) uf_join(parent, qd[0], qd[k]);
    }
    /* group id of a term: the root of its first dependency, or -1 (constant) */
    int *gid = arena_alloc(&c->A, (size_t)(nt + 1) * sizeof *gid);
    for (int t = 0; t < nt; t++) {
        cost_term *ct = &s->costs.v[t];
        int d = ct->guard->n_deps    ? ct->guard->deps[0]
                : ct->params->n_deps ? ct->params->deps[0]
                : ct->flops->n_deps  ? ct->flops->deps[0]
                                     : -1;
        gid[t] = d < 0 ? -1 : uf_find(parent, d);
    }
    s->params_min = s->params_max = s->flops_min = s->flops_max = 0;
    s->range_exact = true;
    int64_t budget[2] = {RANGE_WORK, RANGE_WORK_SINGLE}; /* joint, single terms */
    /* the terms of each group, bucketed by group id in one pass */
    int *start = arena_alloc(&c->A, (size_t)(nd + 3) * sizeof *start);
    for (int t = 0; t < nt; t++) start[gid[t] + 2]++;
    for (int g = 0; g <= nd; g++) start[g + 1] += start[g];
    cost_term **order = arena_alloc(&c->A, (size_t)(nt + 1) * sizeof *order);
    int *fill = arena_alloc(&c->A, (size_t)(nd + 2) * sizeof *fill);
    for (int t = 0; t < nt; t++) order[start[gid[t] + 1] + fill[gid[t] + 1]++] = &s->costs.v[t];
    for (int g = 0; g <= nd; g++) {
        cost_term **grp = order + start[g];
        int ng = start[g + 1] - start[g];
        if (!ng) continue;
        int64_t mn[2], mx[2];
        if (!group_range(c, s, grp, ng, mn, mx, &budget[0])) {
            mn[0] = mn[1] = mx[0] = mx[1] = 0;
            int *starts = arena_alloc(&c->A, (size_t)(ng + 2) * sizeof *starts);
            int nc = clusters_of(c, s, grp, ng, starts);
            witness *ws = arena_alloc(&c->A, (size_t)(nc + 1) * sizeof *ws);
            for (int k = 0; k < nc; k++) {
                int64_t a[2], b[2];
                cluster_range(c, s, grp + starts[k], starts[k + 1] - starts[k], a, b, budget, &ws[k]);
                for (int m = 0; m < 2; m++) {
                    mn[m] = sat_add(mn[m], a[m]);
                    mx[m] = sat_add(mx[m], b[m]);
                }
            }
            int64_t bound[4] = {mn[0], mx[0], mn[1], mx[1]};
            for (int m = 0; m < 4 && s->range_exact; m++)
                if (!bound_attained(c, s, grp, ng, ws, nc, m, bound[m], false) &&
                    !bound_attained(c, s, grp, ng, ws, nc, m, bound[m], true))
                    s->range_exact = false;
        }
        s->params_min = sat_add(s->params_min, mn[0]);
        s->params_max = sat_add(s->params_max, mx[0]);
        s->flops_min = sat_add(s->flops_min, mn[1]);
        s->flops_max = sat_add(s->flops_max, mx[1]);
    }
}

/* A guard that holds wherever it can be evaluated (width[1] under
 * `1 <= depth` with depth in 1..3) is no condition at all: dropping it
 * keeps conditions readable and the counting components small. */
static void simplify_guards(nasc_ctx *c, space_ir *s) {
    for (int i = 0; i < s->decs.n; i++) {
        decision *d = s->decs.v[i];
        if (sym_is_const(d->guard)) continue;
        enumr e;
        int64_t total = enum_init(c, &e, s, d->guard->deps, d->guard->n_deps, 100000);
        if (total < 0 || !e.exhaustive) continue;
        bool always = true;
        for (int64_t t = 0; t < total && always; t++) {
            enum_set(&e, t);
            always = truthy(sym_eval(d->guard, &e.env)) || e.env.err;
        }
        if (always) d->guard = sym_bool(c, true);
    }
}

void space_analyze(nasc_ctx *c, space_ir *s) {
    bool was_ok = s->ok;
    int e0 = c->n_errors;
    simplify_guards(c, s);
    /* Obligations are proven even after other errors: more errors per run. */
    prover pv = {c, s, NULL, false, {0}};
    for (int i = 0; i < s->obligs.n && c->n_errors <= c->max_errors; i++) {
        prove(&pv, i);
        if (s->obligs.v[i].reported) vec_push(&c->A, pv.reported, i);
    }
    smt_free(pv.z);
    s->ok = was_ok && c->n_errors == e0;
    if (!s->ok) return;
    cardinality(c, s);
    ranges(c, s);
}

/* ----- descriptions ----- */

const char *decision_condition(nasc_ctx *c, space_ir *s, const decision *d) {
    if (sym_is_true(d->guard)) return "";
    return sym_str(c, d->guard, fi_dec_label_name, fi_dec_val_name, s);
}

const char *decision_kind_name(const decision *d) {
    static const char *k[] = {"categorical", "int", "float", "subset"};
    return k[d->kind];
}

const char *decision_domain(nasc_ctx *c, const decision *d) {
    switch (d->kind) {
    case DK_INT:
        return d->step == 1 ? arena_printf(&c->A, "%lld..%lld", (long long)d->lo, (long long)d->hi)
                            : arena_printf(&c->A, "%lld..%lld step %lld", (long long)d->lo, (long long)d->hi,
                                           (long long)d->step);
    case DK_FLOAT: return arena_printf(&c->A, "[%g, %g]%s", d->flo, d->fhi, d->log ? " log" : "");
    case DK_CAT:
    case DK_SUBSET: {
        char *s = d->kind == DK_SUBSET ? arena_printf(&c->A, "%d of {", d->k) : "{";
        for (int i = 0; i < d->n_alts; i++)
            s = arena_printf(&c->A, "%s%s%s", s, i ? ", " : "", d->alt_names[i]);
        return arena_printf(&c->A, "%s}", s);
    }
    }
    return "?";
}
