/* interp.c: names, types and shapes: the interpreter behind check,
 * sample and point instantiation.
 *
 * Why an interpreter and not a type system with a solver: a space is a
 * program whose control flow depends on decisions (loop bounds, ifs, chosen
 * blocks).  Running it once with every decision symbolic visits each piece
 * of code once per *syntactic* instance (loops are unrolled to their largest
 * bound, chosen blocks are each run under their own guard) and yields sym
 * DAGs whose dependencies are small.  Values that differ between paths are
 * merged with if-then-else syms, so the run is linear in the program, not in
 * the space.  The same code with constant decisions builds the concrete
 * graph of a point.
 */
#include <stdlib.h>
#include <string.h>
#include "hash.h"
#include "interp_int.h"
#include "suggest.h"

/* ----- values ----- */

value *fi_v_new(interp *I, vkind k) {
    value *v = arena_alloc(&I->c->A, sizeof *v);
    v->k = k;
    v->node = -1;
    return v;
}

value *fi_v_int(interp *I, sym *s) {
    value *v = fi_v_new(I, V_INT);
    v->s = s;
    return v;
}
value *fi_v_bool(interp *I, sym *s) {
    value *v = fi_v_new(I, V_BOOL);
    v->s = s;
    return v;
}

value *fi_v_tensor(interp *I, int rank, sym **d, int node) {
    value *v = fi_v_new(I, V_TENSOR);
    v->rank = rank;
    for (int i = 0; i < rank; i++) v->d[i] = d[i];
    v->node = node;
    return v;
}

const char *fi_vkind_name(const value *v) {
    static const char *n[] = {"int",  "float",  "bool", "enum",     "Tensor",   "block",
                              "list", "string", "same", "quantity", "undefined"};
    return n[v->k];
}

bool fi_concrete(const interp *I) { return I->mode != MODE_CHECK; }

static value *poison(interp *I, const char *why) {
    value *v = fi_v_new(I, V_POISON);
    v->str = why;
    return v;
}

/* ----- labels ----- */

int fi_label_lookup(label_map *m, const char *label) {
    if (!m || !m->cap) return -1;
    for (uint64_t i = hash_fnv1a(label) & (uint64_t)(m->cap - 1);; i = (i + 1) & (uint64_t)(m->cap - 1)) {
        if (!m->keys[i]) return -1;
        if (!strcmp(m->keys[i], label)) return m->vals[i];
    }
}

void fi_label_insert(nasc_ctx *c, label_map *m, const char *label, int id) {
    if (2 * (m->n + 1) > m->cap) {
        label_map old = *m;
        m->cap = old.cap ? old.cap * 2 : 64;
        m->keys = arena_alloc(&c->A, (size_t)m->cap * sizeof *m->keys);
        m->vals = arena_alloc(&c->A, (size_t)m->cap * sizeof *m->vals);
        m->n = 0;
        for (int i = 0; i < old.cap; i++)
            if (old.keys[i]) fi_label_insert(c, m, old.keys[i], old.vals[i]);
    }
    uint64_t i = hash_fnv1a(label) & (uint64_t)(m->cap - 1);
    while (m->keys[i]) i = (i + 1) & (uint64_t)(m->cap - 1);
    m->keys[i] = label;
    m->vals[i] = id;
    m->n++;
}

/* "width" -> "ConvBlock#2.width[3,1]": the frame's prefix, the name, then
 * the indices of the loops enclosing the choice in this body (section 5). */
static char *loop_suffix(interp *I) {
    if (!I->fr || I->fr->n_loops == 0) return "";
    char buf[256];
    int n = snprintf(buf, sizeof buf, "[");
    for (int i = 0; i < I->fr->n_loops && n < (int)sizeof buf - 16; i++)
        n += snprintf(buf + n, sizeof buf - (size_t)n, "%s%d", i ? "," : "", I->fr->loops[i]);
    snprintf(buf + n, sizeof buf - (size_t)n, "]");
    return arena_strdup(&I->c->A, buf);
}

static char *loops_text(interp *I, const int *loops, int n) {
    if (n == 0) return "";
    char buf[256];
    int k = snprintf(buf, sizeof buf, "[");
    for (int i = 0; i < n && k < (int)sizeof buf - 16; i++)
        k += snprintf(buf + k, sizeof buf - (size_t)k, "%s%d", i ? "," : "", loops[i]);
    snprintf(buf + k, sizeof buf - (size_t)k, "]");
    return arena_strdup(&I->c->A, buf);
}

const char *fi_frame_prefix(interp *I, frame *f) {
    if (!f) return "";
    if (f->prefix) return f->prefix;
    const segment *g = &f->seg;
    char *ord = g->total > 1 ? arena_printf(&I->c->A, "#%d", g->ord) : "";
    f->prefix = arena_printf(&I->c->A, "%s%s%s%s%s%s.", fi_frame_prefix(I, f->parent), g->a, g->b ? "." : "",
                             g->b ? g->b : "", ord, loops_text(I, g->loops, g->n_loops));
    return f->prefix;
}

char *fi_make_label(interp *I, const char *name) {
    return arena_printf(&I->c->A, "%s%s%s", fi_frame_prefix(I, I->fr), name, loop_suffix(I));
}

const char *fi_dec_label_name(void *ud, int dec) {
    space_ir *s = ud;
    return dec >= 0 && dec < s->decs.n ? s->decs.v[dec]->label : "?";
}

const char *fi_dec_val_name(void *ud, int dec, int64_t v) {
    space_ir *s = ud;
    if (dec < 0 || dec >= s->decs.n) return NULL;
    decision *d = s->decs.v[dec];
    if (d->kind != DK_CAT) return NULL;
    for (int i = 0; i < d->n_alts; i++)
        if (d->by_index ? v == i : (!d->alt_vals[i].is_float && d->alt_vals[i].i == v))
            return d->alt_names[i];
    return NULL;
}

/* ----- obligations ----- */

char *fi_shape_str(interp *I, const value *t) {
    if (t->k != V_TENSOR) return arena_strdup(&I->c->A, fi_vkind_name(t));
    char *s = "[";
    for (int i = 0; i < t->rank; i++)
        s = arena_printf(&I->c->A, "%s%s%s", s, i ? ", " : "",
                         sym_str(I->c, t->d[i], fi_dec_label_name, fi_dec_val_name, I->sp));
    return arena_printf(&I->c->A, "%s]", s);
}

/* Records that prop must hold here; in POINT mode it is decided at once. */
void fi_oblig_add(interp *I, loc at, oblig_kind k, sym *prop, const char *what, const value *a,
                  const value *b) {
    const char *joiner = I->joiner, *what_arg = I->what_arg;
    I->joiner = I->what_arg = NULL;
    if (sym_is_true(prop)) return;
    oblig o = {0};
    o.joiner = joiner;
    o.what_arg = what_arg;
    o.at = at;
    o.kind = k;
    o.guard = I->guard;
    o.prop = prop;
    o.what = what;
    const value *vs[2] = {a, b};
    for (int j = 0; j < 2; j++) {
        if (!vs[j]) continue;
        o.n_show = j + 1;
        if (vs[j]->k == V_TENSOR) {
            o.show_rank[j] = vs[j]->rank;
            for (int i = 0; i < vs[j]->rank; i++) o.show[j][i] = vs[j]->d[i];
        } else if (vs[j]->s) {
            o.show_rank[j] = -1; /* a scalar */
            o.show[j][0] = vs[j]->s;
        }
    }
    if (fi_concrete(I)) {
        if (sym_is_true(prop)) return;
        /* Print the concrete values right away. */
        char *msg = what_arg ? arena_printf(&I->c->A, what, what_arg) : arena_strdup(&I->c->A, what);
        for (int j = 0; j < o.n_show; j++)
            msg = arena_printf(&I->c->A, "%s%s %s", msg, j ? (joiner ? joiner : " and") : "",
                               vs[j]->k == V_TENSOR
                                   ? fi_shape_str(I, vs[j])
                                   : sym_str(I->c, vs[j]->s, fi_dec_label_name, fi_dec_val_name, I->sp));
        diag_error(I->c, at, "%s", msg);
        I->abort = true;
        return;
    }
    vec_push(&I->c->A, I->sp->obligs, o);
}

/* The conjunction of dimension equalities a.d[i] == b.d[i] for i >= from. */
sym *fi_dims_equal(interp *I, const value *a, const value *b, int from) {
    sym *p = sym_bool(I->c, true);
    for (int i = from; i < a->rank && i < b->rank; i++)
        p = sym_and(I->c, p, sym_bin(I->c, OP_EQ, a->d[i], b->d[i]));
    return p;
}

/* ----- scopes ----- */

static void scope_push(interp *I, bool boundary) {
    scope *s = arena_alloc(&I->c->A, sizeof *s);
    s->up = I->sc;
    s->boundary = boundary;
    I->sc = s;
}

static void scope_pop(interp *I) { I->sc = I->sc->up; }

static binding *scope_find(interp *I, const char *name, bool stop_at_boundary) {
    for (scope *s = I->sc; s; s = s->up) {
        for (int i = s->b.n - 1; i >= 0; i--)
            if (!strcmp(s->b.v[i].name, name)) return &s->b.v[i];
        if (s->boundary && stop_at_boundary) return NULL;
        if (s->boundary) break;
    }
    return NULL;
}

static void bind(interp *I, const char *name, value *v) {
    binding b = {name, v};
    vec_push(&I->c->A, I->sc->b, b);
}

/* Snapshots of the bindings visible up to the body's boundary, so that
 * the two sides of a decision-dependent if can be merged. */
typedef struct snap {
    int n;
    binding **where;
    value **vals;
} snap;

static snap snap_take(interp *I) {
    snap s = {0};
    for (scope *sc = I->sc; sc; sc = sc->up) {
        s.n += sc->b.n;
        if (sc->boundary) break;
    }
    s.where = arena_alloc(&I->c->A, (size_t)(s.n + 1) * sizeof *s.where);
    s.vals = arena_alloc(&I->c->A, (size_t)(s.n + 1) * sizeof *s.vals);
    int k = 0;
    for (scope *sc = I->sc; sc; sc = sc->up) {
        for (int i = 0; i < sc->b.n; i++) {
            s.where[k] = &sc->b.v[i];
            s.vals[k++] = sc->b.v[i].v;
        }
        if (sc->boundary) break;
    }
    return s;
}

static value *merge(interp *I, sym *c, value *a, value *b, const char *name);

static bval *merge_blocks(interp *I, sym *c, bval *a, bval *b) {
    if (a == b) return a;
    bval *m = arena_alloc(&I->c->A, sizeof *m);
    m->k = B_SWITCH;
    m->sel = sym_ite(I->c, c, sym_int(I->c, 0), sym_int(I->c, 1));
    m->n = 2;
    m->alts = arena_alloc(&I->c->A, 2 * sizeof *m->alts);
    m->alts[0] = a;
    m->alts[1] = b;
    m->name = a->name;
    return m;
}

static value *merge(interp *I, sym *c, value *a, value *b, const char *name) {
    if (a == b) return a;
    if (a->k == V_POISON) return a;
    if (b->k == V_POISON) return b;
    if (a->k != b->k || (a->k == V_ENUM && a->enum_id != b->enum_id))
        return poison(I, arena_printf(&I->c->A, "'%s' is a %s on one path and a %s on another", name,
                                      fi_vkind_name(a), fi_vkind_name(b)));
    value *m = fi_v_new(I, a->k);
    *m = *a;
    switch (a->k) {
    case V_INT:
    case V_FLOAT:
    case V_BOOL:
    case V_ENUM: m->s = sym_ite(I->c, c, a->s, b->s); return m;
    case V_TENSOR:
        if (a->rank != b->rank)
            return poison(I,
                          arena_printf(&I->c->A,
                                       "the rank of '%s' depends on decisions: %s on one path, %s on another",
                                       name, fi_shape_str(I, a), fi_shape_str(I, b)));
        for (int i = 0; i < a->rank; i++) m->d[i] = sym_ite(I->c, c, a->d[i], b->d[i]);
        m->node = -1;
        return m;
    case V_BLOCK: m->b = merge_blocks(I, c, a->b, b->b); return m;
    case V_LIST:
        if (a->n != b->n)
            return poison(I, arena_printf(&I->c->A, "the length of '%s' depends on decisions", name));
        m->items = arena_alloc(&I->c->A, (size_t)a->n * sizeof *m->items);
        for (int i = 0; i < a->n; i++) m->items[i] = merge(I, c, a->items[i], b->items[i], name);
        return m;
    default: return a;
    }
}

/* ----- expressions ----- */

static value *eval_call(interp *I, ast_expr *e);


/* Whether block b can be named from file `from`: a module's own blocks
 * always; another module's unless its name starts with `_` (private). */
static bool block_visible(const ast_item *b, int from) { return b->file == from || b->name[0] != '_'; }

/* The note under an unknown name: a close visible name, or that the name
 * is a private block of another module. */
static void note_near(interp *I, diag *d, const char *name, loc at) {
    fr_near n;
    fr_near_init(&n, name);
    for (scope *s = I->sc; s; s = s->up)
        for (int i = 0; i < s->b.n; i++) fr_near_add(&n, s->b.v[i].name);
    for (int i = 0; i < I->prog->blocks.n; i++) {
        ast_item *b = I->prog->blocks.v[i];
        if (!strcmp(b->name, name) && !block_visible(b, at.file)) {
            diag_note(I->c, d, b->name_at, "'%s' is private to %s (names starting with '_' are)", name,
                      I->c->files.v[b->file].path);
            return;
        }
        if (block_visible(b, at.file)) fr_near_add(&n, b->name);
    }
    for (int b = 0; b < BI_MUL; b++) fr_near_add(&n, fi_builtin_name((builtin_id)b));
    if (n.best) diag_note(I->c, d, at, "did you mean '%s'?", n.best);
}

/* Which block a name written in file `from` means.  Each module is a
 * namespace: its own blocks come first, so a user's block never collides
 * with a library's helper of the same name, and a library always calls
 * its own.  Otherwise the visible block of another module; *twice is set
 * when two other modules both offer one (an ambiguous name). */
static ast_item *find_block(interp *I, const char *name, int from, ast_item **twice) {
    ast_item *found = NULL;
    *twice = NULL;
    for (int i = 0; i < I->prog->blocks.n; i++) {
        ast_item *b = I->prog->blocks.v[i];
        if (strcmp(b->name, name)) continue;
        if (b->file == from) {
            *twice = NULL;
            return b;
        }
        if (!block_visible(b, from)) continue;
        if (!found)
            found = b;
        else if (!*twice)
            *twice = b;
    }
    return found;
}

static void ambiguous_block(interp *I, const char *name, loc at, ast_item *a, ast_item *b) {
    diag *d = diag_error(I->c, at, "'%s' is defined by two imported modules, %s and %s", name,
                         I->c->files.v[a->file].path, I->c->files.v[b->file].path);
    diag_note(I->c, d, a->name_at, "one is here");
    diag_note(I->c, d, b->name_at, "and one is here; a block '%s' of %s itself would be used instead", name,
              at.file >= 0 && at.file < I->c->files.n ? I->c->files.v[at.file].path : "the calling file");
    I->abort = true;
}

static value *block_value(interp *I, bval *b) {
    value *v = fi_v_new(I, V_BLOCK);
    v->b = b;
    return v;
}

static value *lookup_global(interp *I, const char *name, loc at) {
    for (int i = 0; i < I->prog->enums.n; i++) {
        ast_item *en = I->prog->enums.v[i];
        for (int m = 0; m < en->members.n; m++)
            if (!strcmp(en->members.v[m], name)) {
                value *v = fi_v_new(I, V_ENUM);
                v->enum_id = i;
                v->s = sym_int(I->c, m);
                return v;
            }
    }
    ast_item *twice, *blk = find_block(I, name, at.file, &twice);
    if (blk && twice) ambiguous_block(I, name, at, blk, twice);
    if (blk) {
        bval *b = arena_alloc(&I->c->A, sizeof *b);
        b->k = B_USER;
        b->blk = blk;
        b->name = blk->name;
        return block_value(I, b);
    }
    int bi = fi_builtin_lookup(name);
    if (bi >= 0) {
        bval *b = arena_alloc(&I->c->A, sizeof *b);
        b->k = B_BUILTIN;
        b->builtin = (builtin_id)bi;
        b->name = fi_builtin_name((builtin_id)bi);
        return block_value(I, b);
    }
    if (!strcmp(name, "same")) return fi_v_new(I, V_SAME);
    return NULL;
}

/* lookup_global for a callee, remembering blocks and builtins on the AST
 * (both outlive any run; enum members and `same` are not callees). */
static value *cached_global(interp *I, ast_expr *name) {
    if (name->gblock || name->gbuiltin) {
        bval *b = arena_alloc(&I->c->A, sizeof *b);
        b->k = name->gblock ? B_USER : B_BUILTIN;
        b->blk = name->gblock;
        b->builtin = (builtin_id)(name->gbuiltin - 1);
        b->name = name->gblock ? name->gblock->name : fi_builtin_name(b->builtin);
        return block_value(I, b);
    }
    value *v = lookup_global(I, name->name, name->at);
    if (v && v->k == V_BLOCK && v->b->k == B_USER)
        name->gblock = v->b->blk;
    else if (v && v->k == V_BLOCK && v->b->k == B_BUILTIN)
        name->gbuiltin = (int)v->b->builtin + 1;
    return v;
}

static value *eval_name(interp *I, ast_expr *e) {
    binding *b = scope_find(I, e->name, false);
    if (b) {
        if (b->v->k == V_POISON && b->v->str && *b->v->str) {
            diag_error(I->c, e->at, "%s", b->v->str);
            I->abort = true;
        }
        return b->v;
    }
    value *g = lookup_global(I, e->name, e->at);
    if (g) return g;
    diag *d = diag_error(I->c, e->at, "unknown name '%s'", e->name);
    note_near(I, d, e->name, e->at);
    return poison(I, "");
}

static bool is_num(const value *v) { return v->k == V_INT || v->k == V_FLOAT; }

static value *tensor_binop(interp *I, ast_expr *e, value *a, value *b);

static value *eval_binop(interp *I, ast_expr *e) {
    value *a = fi_eval_expr(I, e->lhs);
    if (I->abort) return a;
    value *b = fi_eval_expr(I, e->rhs);
    if (I->abort || a->k == V_POISON || b->k == V_POISON) return poison(I, "");
    if (a->k == V_TENSOR || b->k == V_TENSOR) return tensor_binop(I, e, a, b);
    ast_op op = e->op;
    if (op == OP_AND || op == OP_OR) {
        if (a->k != V_BOOL || b->k != V_BOOL) {
            diag_error(I->c, e->at, "'%s' needs bool operands, got %s and %s", op == OP_AND ? "and" : "or",
                       fi_vkind_name(a), fi_vkind_name(b));
            return poison(I, "");
        }
        return fi_v_bool(I, sym_bin(I->c, op, a->s, b->s));
    }
    if (op >= OP_EQ && op <= OP_GE) {
        bool ok =
            (is_num(a) && is_num(b)) || ((op == OP_EQ || op == OP_NE) &&
                                         ((a->k == V_BOOL && b->k == V_BOOL) ||
                                          (a->k == V_ENUM && b->k == V_ENUM && a->enum_id == b->enum_id)));
        if (!ok) {
            diag_error(I->c, e->at, "cannot compare %s with %s", fi_vkind_name(a), fi_vkind_name(b));
            return poison(I, "");
        }
        return fi_v_bool(I, sym_bin(I->c, op, a->s, b->s));
    }
    if (!is_num(a) || !is_num(b)) {
        diag_error(I->c, e->at, "arithmetic needs numbers, got %s and %s", fi_vkind_name(a),
                   fi_vkind_name(b));
        return poison(I, "");
    }
    if ((op == OP_DIV || op == OP_MOD) && sym_is_const(b->s) && !b->s->is_float && b->s->c.i == 0) {
        diag_error(I->c, e->at, "division by zero");
        return poison(I, "");
    }
    if (op == OP_DIV || op == OP_MOD) {
        value tmp = {0};
        tmp.k = V_INT;
        tmp.s = b->s;
        if (!b->s->is_float)
            fi_oblig_add(I, e->at, OB_TRUE, sym_bin(I->c, OP_NE, b->s, sym_int(I->c, 0)),
                         "division by zero: the divisor", &tmp, NULL);
    }
    sym *r = sym_bin(I->c, op, a->s, b->s);
    value *v = fi_v_new(I, r->is_float ? V_FLOAT : V_INT);
    v->s = r;
    return v;
}

static value *tensor_binop(interp *I, ast_expr *e, value *a, value *b) {
    if (a->k != V_TENSOR || b->k != V_TENSOR || (e->op != OP_ADD && e->op != OP_MUL)) {
        diag_error(I->c, e->at, "operator not defined for %s and %s (tensors support elementwise + and *)",
                   fi_vkind_name(a), fi_vkind_name(b));
        return poison(I, "");
    }
    value *args[2] = {a, b};
    return fi_builtin_call(I, e->op == OP_ADD ? BI_SUM : BI_MUL, e, args, 2, NULL, NULL, NULL, 0);
}

static value *eval_unop(interp *I, ast_expr *e) {
    value *a = fi_eval_expr(I, e->lhs);
    if (a->k == V_POISON) return a;
    if (e->op == OP_NOT) {
        if (a->k != V_BOOL) {
            diag_error(I->c, e->at, "'not' needs a bool, got %s", fi_vkind_name(a));
            return poison(I, "");
        }
        return fi_v_bool(I, sym_not(I->c, a->s));
    }
    if (!is_num(a)) {
        diag_error(I->c, e->at, "cannot negate a %s", fi_vkind_name(a));
        return poison(I, "");
    }
    value *v = fi_v_new(I, a->k);
    v->s = sym_neg(I->c, a->s);
    return v;
}

value *fi_eval_expr(interp *I, ast_expr *e) {
    if (I->abort) return poison(I, "");
    value *v;
    switch (e->kind) {
    case E_INT: return fi_v_int(I, sym_int(I->c, e->ival));
    case E_FLOAT:
        v = fi_v_new(I, V_FLOAT);
        v->s = sym_float(I->c, e->fval);
        return v;
    case E_BOOL: return fi_v_bool(I, sym_bool(I->c, e->ival != 0));
    case E_STRING:
        v = fi_v_new(I, V_STRING);
        v->str = e->sval;
        return v;
    case E_QUANT:
        v = fi_v_new(I, V_QUANT);
        v->q = e->fval;
        v->unit = e->unit;
        return v;
    case E_NAME: return eval_name(I, e);
    case E_BINOP: return eval_binop(I, e);
    case E_UNOP: return eval_unop(I, e);
    case E_CALL: return eval_call(I, e);
    case E_CHOICE:
        diag_error(I->c, e->at, "a choice must be the whole right side of a binding (let NAME = choice ...)");
        return poison(I, "");
    case E_OBJECTIVE:
    case E_LIST:
        diag_error(I->c, e->at, "objectives and lists belong in a search section");
        return poison(I, "");
    }
    return poison(I, "");
}

/* ----- calls ----- */

typedef struct callargs {
    int npos, nnamed;
    value **pos, **named;
    const char **names;
    loc *named_at;
} callargs;

static callargs eval_args(interp *I, ast_expr *e) {
    callargs a = {0};
    a.npos = e->args.n;
    a.pos = arena_alloc(&I->c->A, (size_t)(a.npos + 1) * sizeof *a.pos);
    for (int i = 0; i < a.npos; i++) a.pos[i] = fi_eval_expr(I, e->args.v[i]);
    a.nnamed = e->named.n;
    a.named = arena_alloc(&I->c->A, (size_t)(a.nnamed + 1) * sizeof *a.named);
    a.names = arena_alloc(&I->c->A, (size_t)(a.nnamed + 1) * sizeof *a.names);
    a.named_at = arena_alloc(&I->c->A, (size_t)(a.nnamed + 1) * sizeof *a.named_at);
    for (int i = 0; i < a.nnamed; i++) {
        ast_named_arg *na = e->named.v[i];
        a.names[i] = na->name;
        a.named_at[i] = na->at;
        a.named[i] = fi_eval_expr(I, na->value);
    }
    return a;
}

static value *call_bval(interp *I, bval *b, ast_expr *call, callargs *a, const char *seg_label);

/* Numbers the calls of each callee name in a body, in source order, so a
 * block called twice gets "#1" and "#2" segments (section 5). */
typedef struct callcount {
    const char *name;
    int n;
} callcount;
typedef VEC(callcount) callcounts;
typedef VEC(ast_expr *) exprvec;

static void number_expr(nasc_ctx *c, ast_expr *e, callcounts *cc, exprvec *calls);

static void number_stmts(nasc_ctx *c, ast_list *stmts, callcounts *cc, exprvec *calls) {
    for (int i = 0; i < stmts->n; i++) {
        ast_stmt *s = stmts->v[i];
        if (s->value) number_expr(c, s->value, cc, calls);
        if (s->cond) number_expr(c, s->cond, cc, calls);
        if (s->lo) number_expr(c, s->lo, cc, calls);
        if (s->hi) number_expr(c, s->hi, cc, calls);
        number_stmts(c, &s->body, cc, calls);
        number_stmts(c, &s->els, cc, calls);
    }
}

static void number_expr(nasc_ctx *c, ast_expr *e, callcounts *cc, exprvec *calls) {
    if (!e) return;
    if (e->kind == E_CALL && e->callee && e->callee->kind == E_NAME) {
        int k = 0;
        while (k < cc->n && strcmp(cc->v[k].name, e->callee->name)) k++;
        if (k == cc->n) {
            callcount x = {e->callee->name, 0};
            vec_push(&c->A, *cc, x);
        }
        e->call_ord = ++cc->v[k].n;
        vec_push(&c->A, *calls, e);
    }
    number_expr(c, e->lhs, cc, calls);
    number_expr(c, e->rhs, cc, calls);
    number_expr(c, e->callee, cc, calls);
    for (int i = 0; i < e->args.n; i++) number_expr(c, e->args.v[i], cc, calls);
    for (int i = 0; i < e->named.n; i++) number_expr(c, ((ast_named_arg *)e->named.v[i])->value, cc, calls);
    for (int i = 0; i < e->items.n; i++) number_expr(c, e->items.v[i], cc, calls);
}

static void number_body(nasc_ctx *c, ast_item *it) {
    callcounts cc = {0};
    exprvec calls = {0};
    number_stmts(c, &it->body, &cc, &calls);
    for (int i = 0; i < calls.n; i++) {
        ast_expr *e = calls.v[i];
        for (int k = 0; k < cc.n; k++)
            if (!strcmp(cc.v[k].name, e->callee->name)) e->call_total = cc.v[k].n;
    }
}

/* The segment of a block instance (section 5): the block's name, or the
 * choice label and the chosen alternative; "#k" when the body calls that
 * name more than once; then the caller's loop indices. */
static void set_segment(interp *I, segment *g, const char *a, const char *b, ast_expr *call) {
    g->a = a;
    g->b = b;
    g->ord = call ? call->call_ord : 0;
    g->total = call ? call->call_total : 0;
    g->n_loops = I->fr ? I->fr->n_loops : 0;
    for (int i = 0; i < g->n_loops; i++) g->loops[i] = I->fr->loops[i];
}

static value *eval_call(interp *I, ast_expr *e) {
    value *cal;
    if (e->callee->kind == E_NAME) {
        binding *b = scope_find(I, e->callee->name, false);
        cal = b ? b->v : cached_global(I, e->callee);
        if (!cal) {
            diag *d = diag_error(I->c, e->callee->at, "unknown block '%s'", e->callee->name);
            note_near(I, d, e->callee->name, e->callee->at);
            return poison(I, "");
        }
    } else {
        cal = fi_eval_expr(I, e->callee);
    }
    if (cal->k == V_POISON) return cal;
    if (cal->k != V_BLOCK) {
        diag_error(I->c, e->at, "cannot call a value of type %s", fi_vkind_name(cal));
        return poison(I, "");
    }
    callargs a = eval_args(I, e);
    if (I->abort) return poison(I, "");
    for (int i = 0; i < a.npos; i++)
        if (a.pos[i]->k == V_POISON) return a.pos[i];
    for (int i = 0; i < a.nnamed; i++)
        if (a.named[i]->k == V_POISON) return a.named[i];
    return call_bval(I, cal->b, e, &a, NULL);
}

/* Binds a user block's tensor parameter type by unification: a fresh dim
 * name binds to the argument's dimension; anything else must equal it. */
static void unify_tensor(interp *I, ast_item *blk, ast_param *p, value *arg, ast_expr *call) {
    ast_type *t = p->type;
    if (arg->rank != t->dims.n) {
        diag_error(I->c, call->at, "argument '%s' of %s must be a Tensor of rank %d, got %s", p->name,
                   blk->name, t->dims.n, fi_shape_str(I, arg));
        I->abort = true;
        return;
    }
    for (int i = 0; i < t->dims.n; i++) {
        ast_expr *de = t->dims.v[i];
        if (de->kind == E_NAME && !scope_find(I, de->name, true)) {
            bind(I, de->name, fi_v_int(I, arg->d[i]));
            continue;
        }
        value *want = fi_eval_expr(I, de);
        if (want->k != V_INT) {
            diag_error(I->c, de->at, "a tensor dimension must be an int, got %s", fi_vkind_name(want));
            I->abort = true;
            return;
        }
        value w = {0};
        w.k = V_TENSOR;
        w.rank = t->dims.n;
        for (int k = 0; k < w.rank; k++) w.d[k] = k == i ? want->s : arg->d[k];
        I->joiner = ", but its type needs";
        fi_oblig_add(I, call->at, OB_EQUAL, sym_bin(I->c, OP_EQ, arg->d[i], want->s),
                     arena_printf(&I->c->A, "argument '%s' of %s has shape", p->name, blk->name), arg, &w);
    }
}

/* Whether a value fits a declared non-dimension type, and the type's name
 * for messages. */
static bool type_fits(interp *I, const ast_type *t, const value *v) {
    switch (t->kind) {
    case T_INT: return v->k == V_INT;
    case T_FLOAT: return v->k == V_FLOAT || v->k == V_INT;
    case T_BOOL: return v->k == V_BOOL;
    case T_TENSOR: return v->k == V_TENSOR;
    case T_BLOCK: return v->k == V_BLOCK;
    case T_NAMED:
        if (!strcmp(t->name, "Act")) return v->k == V_BLOCK;
        return v->k == V_ENUM && !strcmp(I->prog->enums.v[v->enum_id]->name, t->name);
    }
    return false;
}

static const char *type_desc(const ast_type *t) {
    return t->kind == T_INT      ? "an int"
           : t->kind == T_FLOAT  ? "a float"
           : t->kind == T_BOOL   ? "a bool"
           : t->kind == T_TENSOR ? "a Tensor"
           : t->kind == T_BLOCK  ? "a block"
                                 : t->name;
}

static bool check_param_type(interp *I, ast_item *blk, ast_param *p, value *v, ast_expr *call) {
    bool ok = type_fits(I, p->type, v);
    if (!ok) {
        diag_error(I->c, call->at, "argument '%s' of %s must be %s, got %s", p->name, blk->name,
                   type_desc(p->type), fi_vkind_name(v));
        I->abort = true;
    }
    return ok;
}

static void exec_stmts(interp *I, ast_list *stmts);
static void continue_unreturned(interp *I, sym *g0);

/* Returns made only on some paths must cover every path: an obligation
 * the discharge proves (or refutes with the decision values). */
static void returns_everywhere(interp *I, frame *f, ast_item *blk) {
    sym *g = I->guard;
    I->guard = f->base_guard;
    fi_oblig_add(I, blk->name_at, OB_TRUE, f->ret_guard,
                 arena_printf(&I->c->A, "%s can end without returning a value", blk->name), NULL, NULL);
    I->guard = g;
}

/* The declared return shape of a block or space, evaluated on entry, once
 * its parameters are bound: the names it uses are those of the signature,
 * whatever the body later rebinds. */
static void want_return(interp *I, frame *f, ast_item *blk) {
    ast_type *t = blk->ret;
    if (!t || t->kind != T_TENSOR) return;
    value *w = fi_v_new(I, V_TENSOR);
    w->rank = t->dims.n;
    w->node = -1;
    for (int i = 0; i < w->rank; i++) {
        ast_expr *de = t->dims.v[i];
        value *d = fi_eval_expr(I, de);
        if (d->k != V_INT) {
            if (d->k != V_POISON)
                diag_error(I->c, de->at, "a dimension of %s's return type must be an int, not %s", blk->name,
                           fi_vkind_name(d));
            I->abort = true;
            return;
        }
        w->d[i] = d->s;
    }
    f->ret_want = w;
}

/* One returned value against the declared type, at the return, on the
 * path that reaches it (so a mismatch names the decisions of that path).
 * The result takes the declared dimensions: where they differ an error
 * is reported here, so the caller need not see the mismatch again. */
static value *check_return(interp *I, ast_item *blk, value *v, loc at) {
    ast_type *t = blk->ret;
    if (!t || v->k == V_POISON) return v;
    if (t->kind != T_TENSOR) {
        if (!type_fits(I, t, v)) {
            const char *k = fi_vkind_name(v);
            diag_error(I->c, at, "%s must return %s, but returns a%s %s", blk->name, type_desc(t),
                       strchr("aeiou", k[0]) ? "n" : "", k);
            I->abort = true;
        }
        return v;
    }
    if (v->k != V_TENSOR) {
        diag_error(I->c, at, "%s must return a Tensor, but returns %s", blk->name, fi_vkind_name(v));
        I->abort = true;
        return v;
    }
    value *w = I->fr->ret_want;
    if (!w) return v;
    if (v->rank != w->rank) {
        diag_error(I->c, at, "%s returns a tensor of shape %s, but its type says rank %d", blk->name,
                   fi_shape_str(I, v), w->rank);
        I->abort = true;
        return v;
    }
    I->joiner = ", but its type says";
    fi_oblig_add(I, at, OB_EQUAL, fi_dims_equal(I, v, w, 0),
                 arena_printf(&I->c->A, "%s returns a tensor of shape", blk->name), v, w);
    value *r = fi_v_new(I, V_TENSOR);
    *r = *v;
    for (int i = 0; i < r->rank; i++) r->d[i] = w->d[i];
    return r;
}

/* The checker runs each block instance and loop iteration (that is what
 * gives every decision its own label), so a space whose blocks call
 * blocks twice, 20 deep, is a million instances: stop with a diagnostic at
 * the space-level statement, not after minutes and gigabytes. */
#define INTERP_STEP_LIMIT 200000

static bool over_step_limit(interp *I) {
    if (++I->steps <= INTERP_STEP_LIMIT) return false;
    diag_error(I->c, I->top_at,
               "this statement is too big to check: it runs more than %d statements and block calls "
               "(nested loops and blocks that call blocks multiply)",
               INTERP_STEP_LIMIT);
    I->abort = true;
    return true;
}

static value *call_user(interp *I, ast_item *blk, ast_expr *call, callargs *a, const char *seg_label,
                        const char *seg_alt) {
    if (I->fr && I->fr->depth > 64) {
        diag_error(I->c, call->at, "block calls nest more than 64 deep (is %s recursive?)", blk->name);
        I->abort = true;
        return poison(I, "");
    }
    if (over_step_limit(I)) return poison(I, "");
    int np = blk->params.n;
    value **vals = arena_alloc(&I->c->A, (size_t)(np + 1) * sizeof *vals);
    if (a->npos > np) {
        diag_error(I->c, call->at, "%s takes %d argument%s, got %d", blk->name, np, np == 1 ? "" : "s",
                   a->npos);
        return poison(I, "");
    }
    for (int i = 0; i < a->npos; i++) vals[i] = a->pos[i];
    for (int k = 0; k < a->nnamed; k++) {
        int i = 0;
        while (i < np && strcmp(((ast_param *)blk->params.v[i])->name, a->names[k])) i++;
        if (i == np) {
            diag_error(I->c, a->named_at[k], "%s has no parameter '%s'", blk->name, a->names[k]);
            return poison(I, "");
        }
        if (vals[i]) {
            diag_error(I->c, a->named_at[k], "argument '%s' of %s is given twice", a->names[k], blk->name);
            return poison(I, "");
        }
        vals[i] = a->named[k];
    }
    /* New frame: the body sees only its parameters and globals. */
    frame fr = {0};
    fr.parent = I->fr;
    if (seg_label)
        set_segment(I, &fr.seg, seg_label, seg_alt, call);
    else
        set_segment(I, &fr.seg, blk->name, NULL, call);
    fr.base_guard = I->guard;
    fr.item = blk;
    fr.depth = I->fr ? I->fr->depth + 1 : 0;
    frame *saved_fr = I->fr;
    scope *saved_sc = I->sc;
    I->sc = NULL;
    scope_push(I, true);
    for (int i = 0; i < np; i++) {
        ast_param *p = blk->params.v[i];
        if (!vals[i] && p->dflt) vals[i] = fi_eval_expr(I, p->dflt);
        if (!vals[i]) {
            diag_error(I->c, call->at, "missing argument '%s' of %s", p->name, blk->name);
            I->abort = true;
            break;
        }
        if (!check_param_type(I, blk, p, vals[i], call)) break;
        if (p->type->kind == T_FLOAT && vals[i]->k == V_INT) {
            value *f = fi_v_new(I, V_FLOAT);
            f->s = vals[i]->s;
            vals[i] = f;
        }
        bind(I, p->name, vals[i]);
    }
    for (int i = 0; i < np && !I->abort; i++) {
        ast_param *p = blk->params.v[i];
        if (p->type->kind == T_TENSOR) unify_tensor(I, blk, p, vals[i], call);
    }
    if (!I->abort) want_return(I, &fr, blk);
    value *r = NULL;
    if (!I->abort) {
        if (!blk->call_numbered) {
            number_body(I->c, blk);
            blk->call_numbered = true;
        }
        I->fr = &fr;
        exec_stmts(I, &blk->body);
        r = fr.ret;
        if (!r && !I->abort) {
            diag_error(I->c, blk->name_at, "%s ends without returning a value", blk->name);
            I->abort = true;
        }
        if (r && !I->abort && !fr.returned) returns_everywhere(I, &fr, blk);
        I->guard = fr.base_guard;
    }
    I->fr = saved_fr;
    I->sc = saved_sc;
    return r && !I->abort ? r : poison(I, "");
}

/* Calls a block value: a builtin, a user block, or a switch between
 * blocks (a choice, or a merge), each alternative under its own guard. */
static value *call_bval2(interp *I, bval *b, ast_expr *call, callargs *a, const char *seg_label,
                         const char *seg_alt);

static value *call_bval(interp *I, bval *b, ast_expr *call, callargs *a, const char *seg_label) {
    return call_bval2(I, b, call, a, seg_label, NULL);
}

static value *call_bval2(interp *I, bval *b, ast_expr *call, callargs *a, const char *seg_label,
                         const char *seg_alt) {
    if (b->k == B_BUILTIN)
        return fi_builtin_call(I, b->builtin, call, a->pos, a->npos, a->names, a->named, a->named_at,
                               a->nnamed);
    if (b->k == B_USER) return call_user(I, b->blk, call, a, seg_label, seg_alt);
    if (sym_is_const(b->sel)) {
        int64_t k = sym_ival(b->sel);
        if (k < 0 || k >= b->n) {
            diag_internal(I->c, "switch index out of range");
            I->abort = true;
            return poison(I, "");
        }
        bval *alt = b->alts[k];
        return call_bval2(I, alt, call, a, b->label, b->label ? alt->name : NULL);
    }
    value *res = NULL;
    sym *g0 = I->guard;
    for (int k = 0; k < b->n && !I->abort; k++) {
        sym *is_k = sym_bin(I->c, OP_EQ, b->sel, sym_int(I->c, k));
        I->guard = sym_and(I->c, g0, is_k);
        if (sym_is_false(I->guard)) continue;
        bval *alt = b->alts[k];
        value *r = call_bval2(I, alt, call, a, b->label, b->label ? alt->name : NULL);
        res = res ? merge(I, is_k, r, res, "the result") : r;
    }
    I->guard = g0;
    if (res && res->k == V_POISON && res->str && *res->str) {
        diag_error(I->c, call->at, "the alternatives of '%s' differ: %s", b->label ? b->label : b->name,
                   res->str);
        I->abort = true;
    }
    return res ? res : poison(I, "");
}

/* ----- statements ----- */

static void assign(interp *I, ast_stmt *s, value *v) {
    if (s->is_let) {
        bind(I, s->name, v);
        return;
    }
    binding *b = scope_find(I, s->name, true);
    if (b)
        b->v = v;
    else
        bind(I, s->name, v);
}

static void exec_assign(interp *I, ast_stmt *s) {
    value *v;
    if (s->value->kind == E_CHOICE)
        v = fi_make_choice(I, s->value, fi_make_label(I, s->name), s->name_at, false);
    else
        v = fi_eval_expr(I, s->value);

    assign(I, s, v);
}

static int64_t bound_extreme(interp *I, sym *s, bool want_max, bool *ok);

static bool same_diag(const diag *a, const diag *b) {
    return a->kind == b->kind && a->at.file == b->at.file && a->at.line == b->at.line &&
           a->at.col == b->at.col && !strcmp(a->msg, b->msg);
}

/* A loop body runs once per iteration, but a mistake in it is one
 * mistake: drop the diagnostics that repeat one recorded since `mark` (the
 * last diagnostic before the loop; NULL: there was none). */
static void drop_repeats(nasc_ctx *c, diag *mark) {
    diag *first = mark ? mark->next : c->diags, *prev = mark;
    for (diag *d = first; d;) {
        bool dup = false;
        for (diag *e = first; e != d && !dup; e = e->next) dup = same_diag(e, d);
        if (!dup) {
            prev = d;
            d = d->next;
            continue;
        }
        diag *next = d->next;
        if (prev)
            prev->next = next;
        else
            c->diags = next;
        if (c->diags_tail == d) c->diags_tail = prev;
        if (d->kind == DIAG_ERROR) c->n_errors--;
        if (d->kind == DIAG_WARNING) c->n_warnings--;
        d = next;
    }
}

/* The bindings as one iteration of a guarded loop left them, before they
 * were merged with the values of the paths where it did not run. */
typedef struct after_iter {
    int n;
    binding **where;
    value **vals;
    sym *g0; /* the guard the iteration started under */
} after_iter;

static bool same_bindings(const after_iter *p, const snap *sn) {
    if (p->n != sn->n) return false;
    for (int k = 0; k < sn->n; k++)
        if (p->where[k] != sn->where[k]) return false;
    return true;
}

static void exec_for(interp *I, ast_stmt *s) {
    value *lo = fi_eval_expr(I, s->lo), *hi = fi_eval_expr(I, s->hi);
    if (I->abort) return;
    if (lo->k != V_INT || hi->k != V_INT) {
        diag_error(I->c, lo->k != V_INT ? s->lo->at : s->hi->at, "a for bound must be an int, got %s",
                   fi_vkind_name(lo->k != V_INT ? lo : hi));
        return;
    }
    bool ok = true;
    int64_t a = sym_is_const(lo->s) ? sym_ival(lo->s) : bound_extreme(I, lo->s, false, &ok);
    int64_t b = sym_is_const(hi->s) ? sym_ival(hi->s) : bound_extreme(I, hi->s, true, &ok);
    if (!ok) {
        diag_error(I->c, s->at, "cannot bound this loop: its bounds depend on too many decisions");
        return;
    }
    if (b >= a && (uint64_t)b - (uint64_t)a > 10000) {
        diag_error(I->c, s->at, "loop runs %llu times: more than 10000",
                   (unsigned long long)((uint64_t)b - (uint64_t)a) + 1);
        return;
    }
    if (a < -(int64_t)1000000000 || b > 1000000000) {
        /* loop indices become labels (width[3]) and must stay small ints */
        diag_error(I->c, s->at,
                   "a loop index must stay between -1000000000 and 1000000000, this one reaches %lld",
                   (long long)(a < -(int64_t)1000000000 ? a : b));
        return;
    }
    if (!I->fr || I->fr->n_loops >= 16) {
        diag_error(I->c, s->at, "loops nest more than 16 deep");
        return;
    }
    sym *g0 = I->guard;
    I->fr->n_loops++;
    diag *mark = I->c->diags_tail;
    after_iter prev = {0};
    for (int64_t i = a; i <= b && !I->abort && !I->fr->returned; i++) {
        if (i > a) drop_repeats(I->c, mark);
        g0 = I->guard;
        I->fr->loops[I->fr->n_loops - 1] = (int)i;
        sym *iv = sym_int(I->c, i);
        sym *in = sym_and(I->c, sym_bin(I->c, OP_LE, lo->s, iv), sym_bin(I->c, OP_LE, iv, hi->s));
        if (sym_is_false(in)) continue;
        snap sn = sym_is_true(in) ? (snap){0} : snap_take(I);
        /* With a constant lower bound, iteration i runs only where i - 1
         * ran: inside it, the previous iteration's values hold as they were
         * produced, not merged with "it did not run".  That keeps the
         * shapes of a decision-dependent depth small (width[i-1], not an
         * if-chain over every earlier width and the depth). */
        if (prev.vals && prev.g0 == g0 && sym_is_const(lo->s) && same_bindings(&prev, &sn))
            for (int k = 0; k < sn.n; k++) sn.where[k]->v = prev.vals[k];
        prev.vals = NULL;
        I->guard = sym_and(I->c, g0, in);
        scope_push(I, false);
        bind(I, s->name, fi_v_int(I, iv));
        exec_stmts(I, &s->body);
        scope_pop(I);
        I->guard = g0;
        if (!sym_is_true(in)) {
            /* This iteration may not run: a return in it returns only on its paths. */
            I->fr->returned = false;
            prev =
                (after_iter){sn.n, sn.where, arena_alloc(&I->c->A, (size_t)(sn.n + 1) * sizeof(value *)), g0};
            for (int k = 0; k < sn.n; k++) {
                prev.vals[k] = sn.where[k]->v;
                sn.where[k]->v = merge(I, in, sn.where[k]->v, sn.vals[k], sn.where[k]->name);
            }
        }
        if (!I->fr->returned) continue_unreturned(I, g0);
    }
    drop_repeats(I->c, mark);
    I->fr->n_loops--;
}

static void exec_if(interp *I, ast_stmt *s) {
    value *c = fi_eval_expr(I, s->cond);
    if (I->abort || c->k == V_POISON) return;
    if (c->k != V_BOOL) {
        diag_error(I->c, s->cond->at, "an if condition must be a bool, got %s", fi_vkind_name(c));
        return;
    }
    if (sym_is_const(c->s)) {
        scope_push(I, false);
        exec_stmts(I, sym_is_true(c->s) ? &s->body : &s->els);
        scope_pop(I);
        return;
    }
    sym *g0 = I->guard;
    snap sn = snap_take(I);
    I->guard = sym_and(I->c, g0, c->s);
    scope_push(I, false);
    if (!sym_is_false(I->guard)) exec_stmts(I, &s->body);
    scope_pop(I);
    value **then_vals = arena_alloc(&I->c->A, (size_t)(sn.n + 1) * sizeof *then_vals);
    for (int k = 0; k < sn.n; k++) {
        then_vals[k] = sn.where[k]->v;
        sn.where[k]->v = sn.vals[k];
    }
    bool ret_then = I->fr->returned;
    I->fr->returned = false;
    I->guard = sym_and(I->c, g0, sym_not(I->c, c->s));
    scope_push(I, false);
    if (!sym_is_false(I->guard)) exec_stmts(I, &s->els);
    scope_pop(I);
    bool ret_else = I->fr->returned;
    I->fr->returned = ret_then && ret_else; /* both sides returned: so has the if */
    I->guard = g0;
    for (int k = 0; k < sn.n; k++)
        sn.where[k]->v = merge(I, c->s, then_vals[k], sn.where[k]->v, sn.where[k]->name);
    if (!I->fr->returned) continue_unreturned(I, g0);
}

static void exec_require(interp *I, ast_stmt *s) {
    value *c = fi_eval_expr(I, s->value);
    if (I->abort || c->k == V_POISON) return;
    if (c->k != V_BOOL) {
        diag_error(I->c, s->value->at, "require needs a bool condition, got %s", fi_vkind_name(c));
        return;
    }
    if (fi_concrete(I)) {
        if (sym_is_false(c->s)) {
            I->infeasible = true;
            I->infeasible_at = s->at;
            I->abort = true;
        }
        return;
    }
    if (sym_is_true(c->s)) return;
    require_c r = {s->at, I->guard, c->s};
    vec_push(&I->c->A, I->sp->reqs, r);
}

/* A return on a path: the block's result becomes `guard ? v : previous`,
 * and the paths that returned are remembered so the statements after a
 * decision-dependent if run only on the others. */
static void exec_return(interp *I, ast_stmt *s) {
    frame *f = I->fr;
    value *v = check_return(I, f->item, fi_eval_expr(I, s->value), s->value->at);
    if (!f->ret) {
        f->ret = v;
        f->ret_guard = I->guard;
    } else {
        f->ret = merge(I, I->guard, v, f->ret, "the returned value");
        f->ret_guard = sym_bin(I->c, OP_OR, f->ret_guard, I->guard);
    }
    f->returned = true;
}

/* After a construct where some paths returned: continue on the others. */
static void continue_unreturned(interp *I, sym *g0) {
    I->guard = I->fr->ret_guard ? sym_and(I->c, g0, sym_not(I->c, I->fr->ret_guard)) : g0;
}

static void exec_stmt(interp *I, ast_stmt *s) {
    switch (s->kind) {
    case S_ASSIGN: exec_assign(I, s); break;
    case S_FOR: exec_for(I, s); break;
    case S_IF: exec_if(I, s); break;
    case S_REQUIRE: exec_require(I, s); break;
    case S_RETURN: exec_return(I, s); break;
    case S_EXPR: fi_eval_expr(I, s->value); break;
    }
}

static void exec_stmts(interp *I, ast_list *stmts) {
    for (int i = 0; i < stmts->n && !I->abort && !I->fr->returned; i++) {
        ast_stmt *s = stmts->v[i];
        if (!I->fr->parent && stmts == &I->fr->item->body) I->top_at = s->at;
        if (over_step_limit(I)) break;
        /* Keep going after a user error so one run reports several. */
        exec_stmt(I, s);
        if (I->c->n_errors - I->c->n_repeats > I->c->max_errors) I->abort = true; /* distinct errors */
    }
}

/* Min or max of an int sym over its decisions (for loop bounds): exact by
 * enumeration when they have few combinations, else a sound interval
 * bound (an iteration past the real maximum runs under a guard no point
 * satisfies, so it adds no obligation that can fail and no point). */
static int64_t bound_extreme(interp *I, sym *s, bool want_max, bool *ok) {
    space_ir *sp = I->sp;
    int n = s->n_deps;
    int64_t total = 1;
    for (int i = 0; i < n && total > 0; i++) {
        decision *d = sp->decs.v[s->deps[i]];
        int64_t lo, hi;
        if (!decision_interval(sp, d->id, &lo, &hi) || d->kind == DK_FLOAT) total = -1;
        int64_t m = d->kind == DK_CAT                        ? d->n_alts
                    : (uint64_t)hi - (uint64_t)lo < 1000000u ? (hi - lo) / d->step + 1
                                                             : -1;
        total = m < 0 || total > 1000000 / m ? -1 : total * m;
    }
    if (total < 0) {
        int64_t lo, hi;
        if (!sym_bounds(s, decision_interval, sp, &lo, &hi) || (want_max ? hi : lo) == INT64_MIN ||
            (want_max ? hi : lo) == INT64_MAX)
            *ok = false;
        return want_max ? hi : lo;
    }
    sval *vals = arena_alloc(&I->c->A, (size_t)(sp->decs.n + 1) * sizeof *vals);
    sym_env env = {vals, 0, false};
    int64_t best = want_max ? INT64_MIN : INT64_MAX;
    for (int64_t t = 0; t < total; t++) {
        int64_t r = t;
        for (int i = 0; i < n; i++) {
            decision *d = sp->decs.v[s->deps[i]];
            int64_t m = d->kind == DK_CAT ? d->n_alts : (d->hi - d->lo) / d->step + 1, k = r % m;
            r /= m;
            sval v = {0};
            if (d->kind == DK_CAT)
                v = d->by_index ? (sval){false, k, 0} : d->alt_vals[k];
            else
                v.i = d->lo + k * d->step;
            vals[d->id] = v;
        }
        env.gen = sym_new_gen();
        env.err = false;
        sval v = sym_eval(s, &env);
        if (env.err) continue;
        int64_t x = v.is_float ? (int64_t)v.f : v.i;
        if (want_max ? x > best : x < best) best = x;
    }
    return best;
}

/* ----- spaces ----- */

int fi_graph_input(interp *I, value *x);

static void run_space(interp *I, ast_item *sp) {
    frame fr = {0};
    fr.prefix = "";
    fr.base_guard = I->guard;
    fr.item = sp;
    I->fr = &fr;
    I->sc = NULL;
    scope_push(I, true);
    if (sp->params.n != 1 || ((ast_param *)sp->params.v[0])->type->kind != T_TENSOR) {
        diag_error(I->c, sp->name_at, "space %s must take exactly one Tensor parameter (the input sample)",
                   sp->name);
        return;
    }
    ast_param *p = sp->params.v[0];
    value *x = fi_v_new(I, V_TENSOR);
    x->rank = p->type->dims.n;
    if (x->rank < 1 || x->rank > IR_MAX_RANK) {
        diag_error(I->c, p->type->at, "the input tensor must have rank 1 to %d", IR_MAX_RANK);
        return;
    }
    for (int i = 0; i < x->rank; i++) {
        ast_expr *de = p->type->dims.v[i];
        value *d = fi_eval_expr(I, de);
        if (d->k != V_INT || !sym_is_const(d->s) || sym_ival(d->s) <= 0) {
            diag_error(I->c, de->at, "the input shape of a space must be positive integer constants");
            return;
        }
        x->d[i] = d->s;
    }
    if (I->g) x->node = fi_graph_input(I, x);
    bind(I, p->name, x);
    want_return(I, &fr, sp);
    if (I->abort) return;
    if (!sp->call_numbered) {
        number_body(I->c, sp);
        sp->call_numbered = true;
    }
    exec_stmts(I, &sp->body);
    if (I->abort) return;
    if (!fr.ret) {
        diag_error(I->c, sp->name_at, "space %s ends without returning its output", sp->name);
        return;
    }
    if (!fr.returned) returns_everywhere(I, &fr, sp);
    I->guard = fr.base_guard;
    if (I->g && fr.ret->k == V_TENSOR) I->g->output = fr.ret->node;
}

static void collect_items(nasc_ctx *c, program *p) {
    for (int i = 0; i < p->ast->items.n; i++) {
        ast_item *it = p->ast->items.v[i];
        if (it->kind == I_BLOCK) {
            for (int k = 0; k < p->blocks.n; k++) /* one namespace per module */
                if (!strcmp(p->blocks.v[k]->name, it->name) && p->blocks.v[k]->file == it->file) {
                    diag *d = diag_error(c, it->name_at, "block '%s' is defined twice", it->name);
                    diag_note(c, d, p->blocks.v[k]->name_at, "first defined here");
                }
            if (fi_builtin_lookup(it->name) >= 0)
                diag_error(c, it->name_at, "'%s' is a builtin block", it->name);
            vec_push(&c->A, p->blocks, it);
        } else if (it->kind == I_ENUM) {
            vec_push(&c->A, p->enums, it);
        } else if (it->kind == I_SPACE) {
            space_ir *s = arena_alloc(&c->A, sizeof *s);
            s->name = it->name;
            s->item = it;
            vec_push(&c->A, p->spaces, s);
        }
    }
}

static void attach_sections(nasc_ctx *c, program *p) {
    for (int i = 0; i < p->ast->items.n; i++) {
        ast_item *it = p->ast->items.v[i];
        if (it->kind != I_TRAIN && it->kind != I_SEARCH) continue;
        const char *kw = it->kind == I_TRAIN ? "train" : "search";
        space_ir *s = NULL;
        if (it->name) {
            s = prog_space(p, it->name);
            if (!s) {
                diag_error(c, it->name_at, "%s section for unknown space '%s'", kw, it->name);
                continue;
            }
        } else if (p->spaces.n == 1) {
            s = p->spaces.v[0];
        } else {
            diag_error(c, it->at,
                       p->spaces.n ? "this file has several spaces: name the one this %s section is for"
                                   : "a %s section needs a space",
                       kw);
            continue;
        }
        ast_item **slot = it->kind == I_TRAIN ? &s->train_item : &s->search_item;
        if (*slot) {
            diag_error(c, it->at, "space %s has two %s sections", s->name, kw);
            continue;
        }
        *slot = it;
    }
}

space_ir *prog_space(program *p, const char *name) {
    if (!name) return p->spaces.n == 1 ? p->spaces.v[0] : NULL;
    for (int i = 0; i < p->spaces.n; i++)
        if (!strcmp(p->spaces.v[i]->name, name)) return p->spaces.v[i];
    return NULL;
}

static label_map *labels_of(nasc_ctx *c, space_ir *s) {
    (void)c;
    return s->item->labels;
}

static void check_space(nasc_ctx *c, program *p, space_ir *s) {
    interp I = {0};
    I.c = c;
    I.prog = p;
    I.sp = s;
    I.mode = MODE_CHECK;
    I.guard = sym_bool(c, true);
    I.errors_at_start = c->n_errors;
    I.labels = arena_alloc(&c->A, sizeof *I.labels);
    run_space(&I, s->item);
    I.abort = false;
    if (s->train_item) fi_section_eval(&I, s->train_item, &s->train, "train.");
    if (s->search_item) fi_section_eval(&I, s->search_item, &s->search, "search.");
    s->item->labels = I.labels;
    s->ok = c->n_errors == I.errors_at_start;
}

program *prog_check(nasc_ctx *c, ast_file *f) {
    program *p = arena_alloc(&c->A, sizeof *p);
    p->ast = f;
    collect_items(c, p);
    attach_sections(c, p);
    if (!p->spaces.n && !c->n_errors) {
        /* A library file (blocks only) is fine; nothing to check beyond names. */
    }
    for (int i = 0; i < p->spaces.n; i++) {
        check_space(c, p, p->spaces.v[i]);
        space_analyze(c, p->spaces.v[i]);
    }
    return p;
}

/* ----- POINT and SAMPLE modes ----- */

assignment *asg_new(nasc_ctx *c, space_ir *s) {
    assignment *a = arena_alloc(&c->A, sizeof *a);
    a->n = s->decs.n;
    a->vals = arena_alloc(&c->A, (size_t)(a->n + 1) * sizeof *a->vals);
    a->active = arena_alloc(&c->A, (size_t)(a->n + 1) * sizeof *a->active);
    a->given = arena_alloc(&c->A, (size_t)(a->n + 1) * sizeof *a->given);
    return a;
}

static void finish_graph(interp *I) {
    ir_graph *g = I->g;
    g->n_nodes = I->nodes.n;
    g->nodes = I->nodes.v;
    g->input = 0;
    g->space = I->sp->name;
    ir_graph_finish(g);
}

static bool run_concrete(nasc_ctx *c, program *p, space_ir *s, assignment *a, ir_graph *g, bool *feasible,
                         imode mode, uint64_t *rng) {
    interp I = {0};
    I.c = c;
    I.prog = p;
    I.sp = s;
    I.mode = mode;
    I.guard = sym_bool(c, true);
    I.asg = a;
    I.rng = rng;
    I.g = g;
    I.labels = labels_of(c, s);
    I.no_names = a->no_names;
    memset(a->active, 0, (size_t)a->n * sizeof *a->active);
    int e0 = c->n_errors;
    run_space(&I, s->item);
    if (!I.infeasible) {
        I.abort = false;
        if (s->train_item) fi_section_eval(&I, s->train_item, &a->train, "train.");
        if (s->search_item) fi_section_eval(&I, s->search_item, &a->search, "search.");
    }
    *feasible = !I.infeasible;
    a->infeasible_at = I.infeasible_at;
    if (g && c->n_errors == e0 && !I.infeasible) finish_graph(&I);
    return c->n_errors == e0 && !I.infeasible;
}

bool space_run(nasc_ctx *c, program *p, space_ir *s, assignment *a, ir_graph *g, bool *feasible) {
    return run_concrete(c, p, s, a, g, feasible, MODE_POINT, NULL);
}

bool space_sample(nasc_ctx *c, program *p, space_ir *s, uint64_t *rng, assignment *a, int tries) {
    for (int t = 0; t < tries; t++) {
        memset(a->given, 0, (size_t)a->n * sizeof *a->given);
        bool feasible;
        int e0 = c->n_errors;
        bool ok = run_concrete(c, p, s, a, NULL, &feasible, MODE_SAMPLE, rng);
        if (ok) return true;
        if (c->n_errors != e0) return false;
    }
    return false;
}
