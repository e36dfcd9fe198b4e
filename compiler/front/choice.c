/* choice.c: choices become decisions (language.md section 5).
 *
 * In CHECK mode a choice creates a decision with its label, domain and
 * activity condition (the current path guard), and yields a symbolic value.
 * In POINT mode it reads the point's value; in SAMPLE mode it draws one.
 * Alternatives must have one type (and blocks one signature), which is
 * checked here, at the choice, rather than where the value is used.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "interp_int.h"
#include "nasc/rng.h"

/* SAMPLE mode draws from a one-word splitmix64 stream (nasc/rng.h), so a
 * sampled point depends only on the seed. */
static uint64_t rng_next(uint64_t *s) { return nasc_rng_splitmix64(s); }

static double rng_unit(uint64_t *s) { return (double)(rng_next(s) >> 11) * 0x1.0p-53; }

/* ----- block signatures ----- */

/* A canonical text of a type with dimension names renamed in order of
 * first appearance, so (Tensor[c,h,w]) -> Tensor[c,h,w] and
 * (Tensor[a,b,d]) -> Tensor[a,b,d] compare equal. */
typedef struct renamer {
    const char *names[32];
    int n;
    bool display;
} renamer;

static char *dim_text(interp *I, renamer *r, ast_expr *e) {
    switch (e->kind) {
    case E_INT: return arena_printf(&I->c->A, "%lld", (long long)e->ival);
    case E_NAME: {
        if (r->display) return (char *)e->name;
        int k = 0;
        while (k < r->n && strcmp(r->names[k], e->name)) k++;
        if (k == r->n && r->n < 32) r->names[r->n++] = e->name;
        return arena_printf(&I->c->A, "$%d", k);
    }
    case E_BINOP: {
        static const char *ops = "+-*/%";
        char op = e->op <= OP_MOD ? ops[e->op] : '?';
        return arena_printf(&I->c->A, "(%s%c%s)", dim_text(I, r, e->lhs), op, dim_text(I, r, e->rhs));
    }
    default: return "?";
    }
}

static char *type_text(interp *I, renamer *r, ast_type *t) {
    if (!t) return "none";
    switch (t->kind) {
    case T_INT: return "int";
    case T_FLOAT: return "float";
    case T_BOOL: return "bool";
    case T_NAMED: return (char *)t->name;
    case T_TENSOR: {
        char *s = "Tensor[";
        for (int i = 0; i < t->dims.n; i++)
            s = arena_printf(&I->c->A, "%s%s%s", s, i ? "," : "", dim_text(I, r, t->dims.v[i]));
        return arena_printf(&I->c->A, "%s]", s);
    }
    case T_BLOCK: {
        char *s = "(";
        for (int i = 0; i < t->params.n; i++)
            s = arena_printf(&I->c->A, "%s%s%s", s, i ? "," : "", type_text(I, r, t->params.v[i]));
        return arena_printf(&I->c->A, "%s)->%s", s, type_text(I, r, t->ret));
    }
    }
    return "?";
}

/* The signature of a block value; "act" for shape-preserving builtins,
 * which fit any single-tensor shape-preserving signature. */
static char *bval_sig_r(interp *I, bval *b, bool *shape_preserving, bool display);

/* Canonical (renamed) form for comparing, display form for messages. */
static char *bval_sig(interp *I, bval *b, bool *shape_preserving) {
    return bval_sig_r(I, b, shape_preserving, false);
}

static char *bval_sig_r(interp *I, bval *b, bool *shape_preserving, bool display) {
    *shape_preserving = false;
    if (b->k == B_BUILTIN) {
        *shape_preserving = fi_builtin_is_act(b->builtin);
        return *shape_preserving ? "(Tensor[...]) -> same shape"
                                 : arena_printf(&I->c->A, "builtin %s", b->name);
    }
    if (b->k == B_SWITCH) return bval_sig_r(I, b->alts[0], shape_preserving, display);
    renamer r = {0};
    r.display = display;
    char *s = "(";
    for (int i = 0; i < b->blk->params.n; i++) {
        ast_param *p = b->blk->params.v[i];
        if (p->dflt) continue; /* defaulted parameters need not be passed */
        s = arena_printf(&I->c->A, "%s%s%s", s, i ? ", " : "", type_text(I, &r, p->type));
    }
    char *ret = type_text(I, &r, b->blk->ret);
    if (b->blk->params.n >= 1) {
        renamer r2 = {0};
        ast_param *p0 = b->blk->params.v[0];
        int required = 0;
        for (int i = 0; i < b->blk->params.n; i++)
            required += ((ast_param *)b->blk->params.v[i])->dflt == NULL;
        *shape_preserving = required == 1 && p0->type->kind == T_TENSOR && b->blk->ret &&
                            !strcmp(type_text(I, &r2, p0->type), type_text(I, &r2, b->blk->ret));
        /* type_text renames consistently across both calls with one renamer */
    }
    return arena_printf(&I->c->A, "%s) -> %s", s, ret);
}

static bool same_signature(interp *I, bval *a, bval *b, char **sa, char **sb) {
    bool pa, pb;
    *sa = bval_sig(I, a, &pa);
    *sb = bval_sig(I, b, &pb);
    bool same = (pa && pb) || !strcmp(*sa, *sb);
    *sa = bval_sig_r(I, a, &pa, true);
    *sb = bval_sig_r(I, b, &pb, true);
    return same;
}

/* ----- domain building (CHECK) ----- */

static const char *alt_name(interp *I, ast_expr *item, value *v) {
    switch (v->k) {
    case V_INT:
    case V_FLOAT:
        if (sym_is_const(v->s))
            return v->s->c.is_float ? arena_printf(&I->c->A, "%g", v->s->c.f)
                                    : arena_printf(&I->c->A, "%lld", (long long)v->s->c.i);
        return sym_str(I->c, v->s, fi_dec_label_name, fi_dec_val_name, I->sp);
    case V_BOOL: return sym_is_true(v->s) ? "true" : sym_is_false(v->s) ? "false" : "?";
    case V_ENUM: return I->prog->enums.v[v->enum_id]->members.v[sym_ival(v->s)];
    case V_BLOCK: return v->b->name;
    case V_STRING: return v->str;
    default: return item->kind == E_NAME ? item->name : "?";
    }
}

static dec_valtype valtype_of(const value *v) {
    switch (v->k) {
    case V_INT: return DV_INT;
    case V_FLOAT: return DV_FLOAT;
    case V_BOOL: return DV_BOOL;
    case V_ENUM: return DV_ENUM;
    case V_BLOCK: return DV_BLOCK;
    case V_TENSOR: return DV_TENSOR;
    default: return DV_STRING;
    }
}

/* Checks that the alternatives have one type; fills d's names/values. */
static bool set_domain(interp *I, decision *d, ast_list *items, value **vals) {
    int n = items->n;
    d->n_alts = n;
    d->alt_names = arena_alloc(&I->c->A, (size_t)n * sizeof *d->alt_names);
    d->alt_vals = arena_alloc(&I->c->A, (size_t)n * sizeof *d->alt_vals);
    bool any_float = false;
    label_map seen = {0};
    for (int i = 0; i < n; i++) any_float |= vals[i]->k == V_FLOAT;
    d->vt = valtype_of(vals[0]);
    if (any_float && (d->vt == DV_INT || d->vt == DV_FLOAT)) d->vt = DV_FLOAT;
    for (int i = 0; i < n; i++) {
        value *v = vals[i];
        ast_expr *it = items->v[i];
        if (v->k == V_POISON) return false;
        dec_valtype vt = valtype_of(v);
        bool numeric_mix = (vt == DV_INT || vt == DV_FLOAT) && d->vt == DV_FLOAT;
        bool ok = vt == d->vt || numeric_mix;
        if (ok && vt == DV_ENUM) ok = v->enum_id == vals[0]->enum_id;
        if (vt == DV_STRING && v->k != V_STRING) ok = false;
        if (!ok) {
            diag *dg = diag_error(
                I->c, it->at,
                "the alternatives of choice '%s' must have one type: this one is %s, the first is %s",
                d->label, fi_vkind_name(v), fi_vkind_name(vals[0]));
            diag_note(I->c, dg, ((ast_expr *)items->v[0])->at, "the first alternative");
            return false;
        }
        if (vt == DV_TENSOR && it->kind != E_NAME) {
            diag_error(I->c, it->at, "an input choice lists tensor variables by name");
            return false;
        }
        if (vt == DV_BLOCK && i > 0) {
            char *sa, *sb;
            if (!same_signature(I, vals[0]->b, v->b, &sa, &sb)) {
                diag *dg = diag_error(
                    I->c, it->at,
                    "the alternatives of choice '%s' must have one signature: %s is %s, but %s is %s",
                    d->label, vals[0]->b->name, sa, v->b->name, sb);
                diag_note(I->c, dg, ((ast_expr *)items->v[0])->at, "the first alternative");
                return false;
            }
        }
        d->alt_names[i] = alt_name(I, it, v);
        /* a hash set, not a scan of the earlier names: a choice may list
         * 40,000 alternatives */
        if (fi_label_lookup(&seen, d->alt_names[i]) >= 0) {
            diag_error(I->c, it->at, "alternative '%s' appears twice in choice '%s'", d->alt_names[i],
                       d->label);
            return false;
        }
        fi_label_insert(I->c, &seen, d->alt_names[i], i);
        bool cst = (vt == DV_INT || vt == DV_FLOAT || vt == DV_BOOL || vt == DV_ENUM) && sym_is_const(v->s);
        if (!cst)
            d->by_index = true;
        else {
            d->alt_vals[i] = v->s->c;
            if (d->vt == DV_FLOAT && !d->alt_vals[i].is_float) {
                d->alt_vals[i].is_float = true;
                d->alt_vals[i].f = (double)d->alt_vals[i].i;
            }
        }
    }
    if (d->by_index)
        for (int i = 0; i < n; i++) d->alt_vals[i] = (sval){false, i, 0};
    return true;
}

static int64_t const_int(interp *I, ast_expr *e, const char *what, bool *ok) {
    value *v = fi_eval_expr(I, e);
    if (v->k != V_INT || !sym_is_const(v->s)) {
        if (v->k != V_POISON)
            diag_error(I->c, e->at, "%s must be a constant int, got %s", what,
                       v->k == V_INT ? "a value that depends on decisions" : fi_vkind_name(v));
        *ok = false;
        return 0;
    }
    return sym_ival(v->s);
}

static double const_num(interp *I, ast_expr *e, const char *what, bool *ok) {
    value *v = fi_eval_expr(I, e);
    if ((v->k != V_INT && v->k != V_FLOAT) || !sym_is_const(v->s)) {
        if (v->k != V_POISON) diag_error(I->c, e->at, "%s must be a constant number", what);
        *ok = false;
        return 0;
    }
    return sym_fval(v->s);
}

static value **eval_items(interp *I, ast_list *items) {
    value **vals = arena_alloc(&I->c->A, (size_t)(items->n + 1) * sizeof *vals);
    for (int i = 0; i < items->n; i++) vals[i] = fi_eval_expr(I, items->v[i]);
    return vals;
}

/* A decision's value as the program sees it, from its sym (the index or
 * the value itself). */
static value *decision_value(interp *I, decision *d, value **alts, sym *dec, loc at) {
    value *v;
    if (d->kind == DK_INT) return fi_v_int(I, dec);
    if (d->kind == DK_FLOAT) {
        v = fi_v_new(I, V_FLOAT);
        v->s = dec;
        return v;
    }
    switch (d->vt) {
    case DV_BLOCK: {
        bval *b = arena_alloc(&I->c->A, sizeof *b);
        b->k = B_SWITCH;
        b->sel = dec;
        b->n = d->n_alts;
        b->alts = arena_alloc(&I->c->A, (size_t)b->n * sizeof *b->alts);
        for (int i = 0; i < b->n; i++) b->alts[i] = alts[i]->b;
        b->label = d->label;
        b->name = d->label;
        v = fi_v_new(I, V_BLOCK);
        v->b = b;
        return v;
    }
    case DV_TENSOR: {
        if (sym_is_const(dec)) return alts[sym_ival(dec)];
        value *r = alts[0];
        for (int i = 1; i < d->n_alts; i++) {
            if (alts[i]->rank != alts[0]->rank) {
                diag_error(I->c, at,
                           "the alternatives of input choice '%s' must have one shape: %s is %s, %s is %s",
                           d->label, d->alt_names[0], fi_shape_str(I, alts[0]), d->alt_names[i],
                           fi_shape_str(I, alts[i]));
                return fi_v_new(I, V_POISON);
            }
            fi_oblig_add(
                I, at, OB_EQUAL, fi_dims_equal(I, alts[0], alts[i], 0),
                arena_printf(&I->c->A,
                             "the alternatives of input choice '%s' have different shapes:", d->label),
                alts[0], alts[i]);
        }
        return r; /* all alternatives have its shape */
    }
    default:
        v = fi_v_new(I, d->vt == DV_FLOAT    ? V_FLOAT
                        : d->vt == DV_BOOL   ? V_BOOL
                        : d->vt == DV_ENUM   ? V_ENUM
                        : d->vt == DV_STRING ? V_STRING
                                             : V_INT);
        if (d->vt == DV_ENUM) v->enum_id = alts[0]->enum_id;
        if (d->vt == DV_STRING) {
            v->str = sym_is_const(dec) ? alts[sym_ival(dec)]->str : alts[0]->str;
            return v;
        }
        if (!d->by_index) {
            v->s = dec;
            return v;
        }
        sym *s = alts[d->n_alts - 1]->s;
        for (int i = d->n_alts - 2; i >= 0; i--)
            s = sym_ite(I->c, sym_bin(I->c, OP_EQ, dec, sym_int(I->c, i)), alts[i]->s, s);
        v->s = s;
        return v;
    }
}

static value *subset_value(interp *I, decision *d, value **alts, uint64_t mask, bool symbolic, loc at) {
    value *v = fi_v_new(I, V_LIST);
    v->n = d->k;
    v->items = arena_alloc(&I->c->A, (size_t)d->k * sizeof *v->items);
    if (symbolic) {
        for (int i = 1; i < d->n_alts; i++) {
            if (alts[i]->k != alts[0]->k || (alts[0]->k == V_TENSOR && alts[i]->rank != alts[0]->rank)) {
                diag_error(I->c, at, "the alternatives of choice '%s' must have one type and shape",
                           d->label);
                return fi_v_new(I, V_POISON);
            }
            if (alts[0]->k == V_TENSOR)
                fi_oblig_add(I, at, OB_EQUAL, fi_dims_equal(I, alts[0], alts[i], 0),
                             arena_printf(&I->c->A,
                                          "the alternatives of choice '%s' have different shapes:", d->label),
                             alts[0], alts[i]);
        }
        for (int j = 0; j < d->k; j++) v->items[j] = alts[0];
        return v;
    }
    int j = 0;
    for (int i = 0; i < d->n_alts && j < d->k; i++)
        if (mask >> i & 1) v->items[j++] = alts[i];
    return v;
}

static decision *new_decision(interp *I, ast_expr *e, const char *label, loc at, bool in_section) {
    int prev = fi_label_lookup(I->labels, label);
    if (prev >= 0) {
        diag *dg = diag_error(I->c, at, "two choices get the same label '%s'", label);
        diag_note(I->c, dg, I->sp->decs.v[prev]->at, "the other choice is here; rename one of them");
        return NULL;
    }
    decision *d = arena_alloc(&I->c->A, sizeof *d);
    d->id = I->sp->decs.n;
    d->label = label;
    d->at = at;
    d->guard = I->guard;
    d->in_section = in_section;
    (void)e;
    return d;
}

static bool build_domain(interp *I, ast_expr *e, decision *d, value ***alts_out) {
    bool ok = true;
    *alts_out = NULL;
    switch (e->ch) {
    case CH_SET:
        d->kind = DK_CAT;
        if (e->items.n < 1) {
            diag_error(I->c, e->at, "a choice needs at least one alternative");
            return false;
        }
        *alts_out = eval_items(I, &e->items);
        return set_domain(I, d, &e->items, *alts_out);
    case CH_RANGE:
        d->kind = DK_INT;
        d->vt = DV_INT;
        d->lo = const_int(I, e->lo, "the lower bound of a choice range", &ok);
        d->hi = const_int(I, e->hi, "the upper bound of a choice range", &ok);
        d->step = e->step ? const_int(I, e->step, "the step of a choice range", &ok) : 1;
        if (ok && d->step <= 0) {
            diag_error(I->c, e->step->at, "the step of a choice range must be positive");
            ok = false;
        }
        if (ok && d->lo > d->hi) {
            diag_error(I->c, e->at, "empty choice range %lld..%lld", (long long)d->lo, (long long)d->hi);
            ok = false;
        }
        /* unsigned: lo..hi may span all of int64 (2^64 - 1 values) */
        if (ok)
            d->hi = (int64_t)((uint64_t)d->lo +
                              ((uint64_t)d->hi - (uint64_t)d->lo) / (uint64_t)d->step * (uint64_t)d->step);
        return ok;
    case CH_FLOAT:
        d->kind = DK_FLOAT;
        d->vt = DV_FLOAT;
        d->flo = const_num(I, e->lo, "the lower bound of a float choice", &ok);
        d->fhi = const_num(I, e->hi, "the upper bound of a float choice", &ok);
        d->log = e->log;
        if (ok && !(d->flo < d->fhi)) {
            diag_error(I->c, e->at, "empty float range [%g, %g]", d->flo, d->fhi);
            ok = false;
        }
        if (ok && d->log && d->flo <= 0) {
            diag_error(I->c, e->lo->at, "a log-uniform range must be positive");
            ok = false;
        }
        return ok;
    case CH_KOF:
        d->kind = DK_SUBSET;
        d->k = (int)const_int(I, e->k, "k of a k-of choice", &ok);
        if (!ok) return false;
        *alts_out = eval_items(I, &e->items);
        if (!set_domain(I, d, &e->items, *alts_out)) return false;
        d->kind = DK_SUBSET;
        if (d->n_alts > 64) {
            diag_error(I->c, e->at, "a k-of choice may list at most 64 alternatives");
            return false;
        }
        if (d->k < 1 || d->k > d->n_alts) {
            diag_error(I->c, e->k->at, "cannot choose %d of %d alternatives", d->k, d->n_alts);
            return false;
        }
        return true;
    }
    return false;
}

static value *choice_check(interp *I, ast_expr *e, const char *label, loc at, bool in_section) {
    decision *d = new_decision(I, e, label, at, in_section);
    if (!d) return fi_v_new(I, V_POISON);
    value **alts;
    if (!build_domain(I, e, d, &alts)) return fi_v_new(I, V_POISON);
    vec_push(&I->c->A, I->sp->decs, d);
    fi_label_insert(I->c, I->labels, label, d->id);
    sym *dec =
        sym_dec(I->c, d->id, d->kind == DK_FLOAT || (d->kind == DK_CAT && d->vt == DV_FLOAT && !d->by_index));
    if (d->kind == DK_SUBSET) return subset_value(I, d, alts, 0, true, at);
    return decision_value(I, d, alts, dec, at);
}

/* ----- POINT and SAMPLE ----- */

static void draw(interp *I, decision *d, sval *v) {
    uint64_t *r = I->rng;
    memset(v, 0, sizeof *v);
    switch (d->kind) {
    case DK_CAT: v->i = (int64_t)(rng_next(r) % (uint64_t)d->n_alts); break;
    case DK_INT: {
        /* count - 1 in unsigned arithmetic: the range may span all of int64 */
        uint64_t last = ((uint64_t)d->hi - (uint64_t)d->lo) / (uint64_t)d->step;
        uint64_t k = last == UINT64_MAX ? rng_next(r) : rng_next(r) % (last + 1);
        v->i = (int64_t)((uint64_t)d->lo + k * (uint64_t)d->step);
        break;
    }
    case DK_FLOAT:
        v->is_float = true;
        v->f = d->log ? exp(log(d->flo) + rng_unit(r) * (log(d->fhi) - log(d->flo)))
                      : d->flo + rng_unit(r) * (d->fhi - d->flo);
        break;
    case DK_SUBSET: {
        int idx[64];
        for (int i = 0; i < d->n_alts; i++) idx[i] = i;
        uint64_t m = 0;
        for (int i = 0; i < d->k; i++) {
            int j = i + (int)(rng_next(r) % (uint64_t)(d->n_alts - i));
            int t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
            m |= 1ull << idx[i];
        }
        v->i = (int64_t)m;
        break;
    }
    }
}

static value *choice_concrete(interp *I, ast_expr *e, const char *label, loc at) {
    int id = fi_label_lookup(I->labels, label);
    if (id < 0) {
        diag_internal(I->c, "decision '%s' was not found by the checker", label);
        I->abort = true;
        return fi_v_new(I, V_POISON);
    }
    decision *d = I->sp->decs.v[id];
    assignment *a = I->asg;
    if (I->mode == MODE_SAMPLE) {
        draw(I, d, &a->vals[id]);
        a->given[id] = true;
    } else if (!a->given[id]) {
        /* Report it and go on with the first value, so that one run names
         * every missing decision (the run fails anyway). */
        diag_error(I->c, loc_none(), "the point has no value for decision '%s', which is active here", label);
        memset(&a->vals[id], 0, sizeof a->vals[id]);
        if (d->kind == DK_INT) a->vals[id].i = d->lo;
        if (d->kind == DK_FLOAT) {
            a->vals[id].is_float = true;
            a->vals[id].f = d->flo;
        }
        if (d->kind == DK_SUBSET) a->vals[id].i = (int64_t)((d->k >= 64 ? 0 : (1ull << d->k)) - 1);
        a->given[id] = true;
    }
    a->active[id] = true;
    sval x = a->vals[id];
    value **alts = (e->ch == CH_SET || e->ch == CH_KOF) ? eval_items(I, &e->items) : NULL;
    (void)at;
    switch (d->kind) {
    case DK_INT: return fi_v_int(I, sym_int(I->c, x.i));
    case DK_FLOAT: {
        value *v = fi_v_new(I, V_FLOAT);
        v->s = sym_float(I->c, x.f);
        return v;
    }
    case DK_SUBSET: return subset_value(I, d, alts, (uint64_t)x.i, false, at);
    case DK_CAT: break;
    }
    /* Categorical: the sym is the index or the alternative's value. */
    sym *s = d->by_index                 ? sym_int(I->c, x.i)
             : d->alt_vals[x.i].is_float ? sym_float(I->c, d->alt_vals[x.i].f)
                                         : sym_int(I->c, d->alt_vals[x.i].i);
    return decision_value(I, d, alts, s, at);
}

value *fi_make_choice(interp *I, ast_expr *e, const char *label, loc at, bool in_section) {
    if (I->abort) return fi_v_new(I, V_POISON);
    if (I->mode == MODE_CHECK) return choice_check(I, e, label, at, in_section);
    return choice_concrete(I, e, label, at);
}
