/* section.c: the `train` and `search` sections (language.md section 9).
 *
 * A section is a list of `key = value` entries evaluated in order; a value
 * may be a choice (a recipe decision labelled `train.key`) and may name an
 * earlier key.  Values become a small configuration tree (cfg_val) that
 * the training runtime and the search driver read.  Known keys are checked
 * here so that a typo in a recipe is an error at `nasc check` time, not an
 * hour into a search.
 */
#include <string.h>
#include "interp_int.h"

static cfg_val *cv_new(interp *I, cfg_kind k, loc at) {
    cfg_val *v = arena_alloc(&I->c->A, sizeof *v);
    v->k = k;
    v->at = at;
    return v;
}

static cfg_val *find_key(section *s, const char *key) {
    for (int i = s->n - 1; i >= 0; i--)
        if (!strcmp(s->keys[i], key)) return s->vals[i];
    return NULL;
}

static cfg_val *from_expr(interp *I, section *s, ast_expr *e);

/* A numeric value of an arithmetic expression over numbers and earlier
 * numeric keys, or NULL when it is not one (then it is kept as CV_EXPR). */
static sym *numeric(interp *I, section *s, ast_expr *e) {
    switch (e->kind) {
    case E_INT: return sym_int(I->c, e->ival);
    case E_FLOAT: return sym_float(I->c, e->fval);
    case E_NAME: {
        cfg_val *v = find_key(s, e->name);
        return v && v->k == CV_NUM ? v->num : NULL;
    }
    case E_UNOP:
        if (e->op == OP_NEG) {
            sym *a = numeric(I, s, e->lhs);
            return a ? sym_neg(I->c, a) : NULL;
        }
        return NULL;
    case E_BINOP: {
        if (e->op > OP_POW) return NULL;
        sym *a = numeric(I, s, e->lhs), *b = a ? numeric(I, s, e->rhs) : NULL;
        return b ? sym_bin(I->c, e->op, a, b) : NULL;
    }
    default: return NULL;
    }
}

static cfg_val *from_call(interp *I, section *s, ast_expr *e) {
    if (e->callee->kind != E_NAME) {
        diag_error(I->c, e->at, "expected a name before '('");
        cfg_val *v = cv_new(I, CV_IDENT, e->at);
        v->s = "";
        return v;
    }
    cfg_val *v = cv_new(I, CV_CALL, e->at);
    v->s = e->callee->name;
    v->n = e->args.n + e->named.n;
    v->keys = arena_alloc(&I->c->A, (size_t)(v->n + 1) * sizeof *v->keys);
    v->items = arena_alloc(&I->c->A, (size_t)(v->n + 1) * sizeof *v->items);
    for (int i = 0; i < e->args.n; i++) v->items[i] = from_expr(I, s, e->args.v[i]);
    for (int i = 0; i < e->named.n; i++) {
        ast_named_arg *na = e->named.v[i];
        v->keys[e->args.n + i] = na->name;
        v->items[e->args.n + i] = from_expr(I, s, na->value);
    }
    return v;
}

static cfg_val *from_expr(interp *I, section *s, ast_expr *e) {
    cfg_val *v;
    sym *n = numeric(I, s, e);
    if (n) {
        v = cv_new(I, CV_NUM, e->at);
        v->num = n;
        return v;
    }
    switch (e->kind) {
    case E_BOOL:
        v = cv_new(I, CV_BOOL, e->at);
        v->num = sym_bool(I->c, e->ival);
        return v;
    case E_STRING:
        v = cv_new(I, CV_STR, e->at);
        v->s = e->sval;
        return v;
    case E_QUANT:
        v = cv_new(I, CV_QUANT, e->at);
        v->q = e->fval;
        v->unit = e->unit;
        return v;
    case E_NAME: {
        cfg_val *k = find_key(s, e->name);
        if (k) return k;
        v = cv_new(I, CV_IDENT, e->at);
        v->s = e->name;
        return v;
    }
    case E_CALL: return from_call(I, s, e);
    case E_OBJECTIVE:
        v = cv_new(I, CV_OBJECTIVE, e->at);
        v->maximize = e->op == OP_MAXIMIZE;
        v->expr = e->lhs;
        return v;
    case E_LIST:
        v = cv_new(I, CV_LIST, e->at);
        v->n = e->items.n;
        v->items = arena_alloc(&I->c->A, (size_t)(v->n + 1) * sizeof *v->items);
        for (int i = 0; i < v->n; i++) v->items[i] = from_expr(I, s, e->items.v[i]);
        return v;
    case E_CHOICE:
        diag_error(I->c, e->at, "a choice must be the whole value of a section key");
        v = cv_new(I, CV_IDENT, e->at);
        v->s = "";
        return v;
    default:
        v = cv_new(I, CV_EXPR, e->at);
        v->expr = e;
        return v;
    }
}

static cfg_val *from_value(interp *I, value *x, loc at) {
    cfg_val *v;
    switch (x->k) {
    case V_INT:
    case V_FLOAT:
        v = cv_new(I, CV_NUM, at);
        v->num = x->s;
        return v;
    case V_BOOL:
        v = cv_new(I, CV_BOOL, at);
        v->num = x->s;
        return v;
    case V_STRING:
        v = cv_new(I, CV_STR, at);
        v->s = x->str;
        return v;
    case V_BLOCK:
        v = cv_new(I, CV_IDENT, at);
        v->s = x->b->name;
        return v;
    default:
        diag_error(I->c, at, "a section choice must be over numbers, bools or strings");
        v = cv_new(I, CV_IDENT, at);
        v->s = "";
        return v;
    }
}

/* ----- validation of the known keys ----- */

static bool is_num(const cfg_val *v) { return v && v->k == CV_NUM; }

static void want(interp *I, section *s, const char *key, bool ok, const char *what) {
    cfg_val *v = find_key(s, key);
    if (v && !ok) diag_error(I->c, v->at, "%s must be %s", key, what);
}

static bool num_in(const cfg_val *v, double lo, double hi, bool integral) {
    if (!is_num(v)) return false;
    if (!sym_is_const(v->num)) return true; /* a choice: its domain was checked */
    double x = sym_fval(v->num);
    if (integral && v->num->c.is_float) return false;
    return x >= lo && x <= hi;
}

static bool call_named(const cfg_val *v, const char *const *names, const char *const *allowed, int na) {
    if (!v || v->k != CV_CALL) return false;
    bool name_ok = false;
    for (int i = 0; names[i]; i++) name_ok |= !strcmp(v->s, names[i]);
    if (!name_ok) return false;
    for (int i = 0; i < v->n; i++) {
        if (!v->keys[i]) continue;
        bool k = false;
        for (int j = 0; j < na; j++) k |= !strcmp(v->keys[i], allowed[j]);
        if (!k) return false;
    }
    return true;
}

static void check_train(interp *I, section *s) {
    cfg_val *d = find_key(s, "data");
    if (d) {
        bool ok = (d->k == CV_IDENT && !strcmp(d->s, "fashion_mnist")) ||
                  (d->k == CV_CALL && !strcmp(d->s, "idx") && d->n == 2 && d->items[0]->k == CV_STR &&
                   d->items[1]->k == CV_STR) ||
                  (d->k == CV_CALL && !strcmp(d->s, "csv") && d->n >= 1 && d->items[0]->k == CV_STR);
        if (!ok)
            diag_error(I->c, d->at,
                       "data must be fashion_mnist, idx(\"images\", \"labels\") or csv(\"file.csv\", label = "
                       "\"column\")");
    }
    cfg_val *t = find_key(s, "test");
    if (t) {
        bool ok = (t->k == CV_CALL && !strcmp(t->s, "idx") && t->n == 2 && t->items[0]->k == CV_STR &&
                   t->items[1]->k == CV_STR) ||
                  (t->k == CV_CALL && !strcmp(t->s, "csv") && t->n >= 1 && t->items[0]->k == CV_STR);
        if (!ok)
            diag_error(I->c, t->at,
                       "test must be idx(\"images\", \"labels\") or csv(\"file.csv\", label = \"column\")");
    }
    want(I, s, "split", !find_key(s, "split") || num_in(find_key(s, "split"), 0, 0.99, false),
         "a fraction in [0, 1)");
    want(I, s, "epochs", !find_key(s, "epochs") || num_in(find_key(s, "epochs"), 1e-9, 1e6, false),
         "a positive number");
    want(I, s, "batch", !find_key(s, "batch") || num_in(find_key(s, "batch"), 1, 1 << 20, true),
         "a positive int");
    want(I, s, "seed", !find_key(s, "seed") || num_in(find_key(s, "seed"), 0, 9.2e18, true),
         "a non-negative int");
    want(I, s, "threads", !find_key(s, "threads") || num_in(find_key(s, "threads"), 1, 1024, true),
         "a positive int");
    want(I, s, "data_fraction",
         !find_key(s, "data_fraction") || num_in(find_key(s, "data_fraction"), 1e-9, 1, false),
         "a fraction in (0, 1]");
    cfg_val *o = find_key(s, "optimizer");
    if (o) {
        static const char *const names[] = {"sgd", "adam", "adamw", NULL};
        static const char *const args[] = {"lr",    "momentum", "nesterov", "weight_decay",
                                           "beta1", "beta2",    "eps"};
        if (!call_named(o, names, args, 7) &&
            !(o->k == CV_IDENT && (!strcmp(o->s, "sgd") || !strcmp(o->s, "adam") || !strcmp(o->s, "adamw"))))
            diag_error(I->c, o->at,
                       "optimizer must be sgd(lr = ..., momentum = ..., nesterov = ..., weight_decay = ...), "
                       "adam(lr = ...) or adamw(lr = ..., weight_decay = ...)");
    }
    cfg_val *sc = find_key(s, "schedule");
    if (sc) {
        static const char *const names[] = {"cosine", "step", "constant", NULL};
        static const char *const args[] = {"min_lr", "step_size", "gamma", "warmup"};
        bool ok = call_named(sc, names, args, 4) ||
                  (sc->k == CV_IDENT &&
                   (!strcmp(sc->s, "cosine") || !strcmp(sc->s, "constant") || !strcmp(sc->s, "step")));
        if (!ok)
            diag_error(
                I->c, sc->at,
                "schedule must be constant, cosine(min_lr = ...) or step(step_size = ..., gamma = ...)");
    }
    cfg_val *in = find_key(s, "init");
    if (in && !(in->k == CV_IDENT && (!strcmp(in->s, "kaiming") || !strcmp(in->s, "xavier"))))
        diag_error(I->c, in->at, "init must be kaiming or xavier");
}

static const char *const known_metrics[] = {"accuracy", "loss",    "latency", "throughput",
                                            "params",   "flops",   "memory",  "train_time",
                                            "naswot",   "synflow", NULL};

static void check_metric_names(interp *I, ast_expr *e, bool external) {
    if (!e) return;
    if (e->kind == E_NAME) {
        if (!strcmp(e->name, "test_accuracy")) {
            diag_error(
                I->c, e->at,
                "test_accuracy is reported but never used to select (use accuracy, the validation accuracy)");
            return;
        }
        bool known = false;
        for (int i = 0; known_metrics[i]; i++) known |= !strcmp(known_metrics[i], e->name);
        if (!known && !external)
            diag_error(I->c, e->at,
                       "unknown metric '%s' (the builtin evaluator reports accuracy, loss, latency, "
                       "throughput, params, flops, memory, train_time, naswot, synflow)",
                       e->name);
        return;
    }
    if (e->kind == E_CALL || e->kind == E_CHOICE) {
        diag_error(I->c, e->at, "objectives and limits are arithmetic over metrics and numbers");
        return;
    }
    check_metric_names(I, e->lhs, external);
    check_metric_names(I, e->rhs, external);
    for (int i = 0; i < e->items.n; i++) check_metric_names(I, e->items.v[i], external);
}

static void check_search(interp *I, section *s) {
    cfg_val *ev = find_key(s, "evaluator");
    bool external = ev && ev->k == CV_CALL && (!strcmp(ev->s, "exec") || !strcmp(ev->s, "pipe"));
    if (ev && !external && !(ev->k == CV_IDENT && !strcmp(ev->s, "builtin")))
        diag_error(I->c, ev->at, "evaluator must be builtin, exec(\"command\") or pipe(\"command\")");
    if (ev && external && (ev->n != 1 || ev->items[0]->k != CV_STR))
        diag_error(I->c, ev->at, "%s takes one string: the command line", ev->s);
    cfg_val *st = find_key(s, "strategy");
    if (st && st->k != CV_IDENT && st->k != CV_CALL && st->k != CV_STR)
        diag_error(I->c, st->at,
                   "strategy must be a plugin name, optionally with options: evolution(population = 20)");
    want(I, s, "trials", !find_key(s, "trials") || num_in(find_key(s, "trials"), 1, 1e9, true),
         "a positive int");
    cfg_val *t = find_key(s, "time");
    if (t && !(t->k == CV_QUANT && t->unit == UNIT_TIME))
        diag_error(I->c, t->at, "time must be a duration such as 10m or 2h");
    cfg_val *to = find_key(s, "timeout");
    if (to && !(to->k == CV_QUANT && to->unit == UNIT_TIME))
        diag_error(I->c, to->at, "timeout must be a duration such as 30s");
    for (int i = 0; i < s->n; i++) {
        if (strcmp(s->keys[i], "objective") && strcmp(s->keys[i], "require")) continue;
        cfg_val *v = s->vals[i];
        int n = v->k == CV_LIST ? v->n : 1;
        for (int j = 0; j < n; j++) {
            cfg_val *x = v->k == CV_LIST ? v->items[j] : v;
            if (!strcmp(s->keys[i], "objective") && x->k != CV_OBJECTIVE) {
                diag_error(I->c, x->at, "an objective is `maximize EXPR` or `minimize EXPR`");
                continue;
            }
            check_metric_names(I, x->expr ? x->expr : s->exprs[i], external);
        }
    }
}

void section_eval(interp *I, ast_item *it, section *out, const char *prefix) {
    memset(out, 0, sizeof *out);
    out->present = true;
    out->at = it->at;
    int n = it->entries.n;
    out->keys = arena_alloc(&I->c->A, (size_t)(n + 1) * sizeof *out->keys);
    out->vals = arena_alloc(&I->c->A, (size_t)(n + 1) * sizeof *out->vals);
    out->exprs = arena_alloc(&I->c->A, (size_t)(n + 1) * sizeof *out->exprs);
    for (int i = 0; i < n && !I->abort; i++) {
        ast_entry *en = it->entries.v[i];
        for (int j = 0; j < out->n; j++)
            if (!strcmp(out->keys[j], en->key) && strcmp(en->key, "require"))
                diag_error(I->c, en->at, "key '%s' is set twice in this section", en->key);
        cfg_val *v;
        if (en->value->kind == E_CHOICE) {
            I->fr = NULL;
            value *x =
                make_choice(I, en->value, arena_printf(&I->c->A, "%s%s", prefix, en->key), en->at, true);
            if (x->k == V_POISON) {
                v = cv_new(I, CV_IDENT, en->at);
                v->s = "";
            } else
                v = from_value(I, x, en->at);
        } else {
            v = from_expr(I, out, en->value);
        }
        out->keys[out->n] = en->key;
        out->vals[out->n] = v;
        out->exprs[out->n] = en->value;
        out->n++;
    }
    if (I->mode == MODE_CHECK) {
        if (!strcmp(prefix, "train."))
            check_train(I, out);
        else
            check_search(I, out);
    }
}

/* Reads a section key as a number (after a point fixed its decisions). */
double section_num(const section *s, const char *key, double dflt) {
    for (int i = s->n - 1; i >= 0; i--)
        if (!strcmp(s->keys[i], key) && s->vals[i]->k == CV_NUM && sym_is_const(s->vals[i]->num))
            return sym_fval(s->vals[i]->num);
    return dflt;
}

const cfg_val *section_get(const section *s, const char *key) {
    for (int i = s->n - 1; i >= 0; i--)
        if (!strcmp(s->keys[i], key)) return s->vals[i];
    return NULL;
}
