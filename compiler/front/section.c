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
#include "suggest.h"

/* Far more than any recipe needs; keeps the lookups of earlier keys (a
 * scan per name) cheap whatever the input. */
enum { SECTION_MAX_KEYS = 4096 };

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

/* ----- the keys a section may set ----- */

/* What the training runtime and the search driver read (tools/recipe.c,
 * tools/cmd_search.c); any other key is a typo unless a later key uses it
 * (`lr = choice [...]` then `optimizer = sgd(lr = lr)`). */
static const char *const train_keys[] = {
    "data",      "test",         "split",    "epochs",        "batch",     "seed",    "threads", "init",
    "optimizer", "weight_decay", "schedule", "data_fraction", "normalize", "augment", NULL};
static const char *const search_keys[] = {"strategy",  "trials",       "time",      "seed",    "timeout",
                                          "evaluator", "memory_limit", "objective", "require", "retrain", "quant",
                                          NULL};

const char *const *section_keys(bool search) { return search ? search_keys : train_keys; }

/* Records every name an expression reads (callees are not reads) as read
 * by entry `at`, keeping the first recorded: entries are visited last
 * first, so the map gives each name its last reader. */
static void note_reads(interp *I, label_map *m, const ast_expr *e, int at) {
    for (; e; e = e->lhs) { /* the left spine as a loop: chains of + are long */
        if (e->kind == E_NAME && fi_label_lookup(m, e->name) < 0) fi_label_insert(I->c, m, e->name, at);
        note_reads(I, m, e->rhs, at);
        note_reads(I, m, e->lo, at);
        note_reads(I, m, e->hi, at);
        note_reads(I, m, e->step, at);
        note_reads(I, m, e->k, at);
        for (int i = 0; i < e->args.n; i++) note_reads(I, m, e->args.v[i], at);
        for (int i = 0; i < e->items.n; i++) note_reads(I, m, e->items.v[i], at);
        for (int i = 0; i < e->named.n; i++) note_reads(I, m, ((ast_named_arg *)e->named.v[i])->value, at);
    }
}

/* Unknown keys: errors at the key, with the closest known one. */
static void check_keys(interp *I, ast_item *it, bool search) {
    const char *const *known = section_keys(search);
    const char *what = search ? "search" : "train";
    label_map reads = {0};
    for (int i = it->entries.n - 1; i >= 0; i--)
        note_reads(I, &reads, ((ast_entry *)it->entries.v[i])->value, i);
    for (int i = 0; i < it->entries.n; i++) {
        ast_entry *en = it->entries.v[i];
        bool ok = false;
        for (int k = 0; known[k] && !ok; k++) ok = !strcmp(known[k], en->key);
        if (ok || fi_label_lookup(&reads, en->key) > i) continue;
        diag *d = diag_error(I->c, en->at, "unknown %s key '%s'", what, en->key);
        const char *near = fr_suggest(en->key, known, -1);
        if (near)
            diag_note(I->c, d, en->at, "did you mean '%s'?", near);
        else {
            char *list = "";
            for (int k = 0; known[k]; k++)
                list = arena_printf(&I->c->A, "%s%s%s", list, k ? ", " : "", known[k]);
            diag_note(I->c, d, en->at, "a %s section sets %s; a key of your own must be used by a later key",
                      what, list);
        }
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

/* A value that is one of a few forms, each a name with its named options:
 * `sgd`, `sgd(lr = 0.1, momentum = 0.9)`.  The options are those the
 * training runtime reads (tools/recipe.c); anything else would be ignored. */
typedef struct form {
    const char *name;
    const char *opts[8];
} form;

static const form optimizers[] = {{"sgd", {"lr", "momentum", "nesterov", "weight_decay"}},
                                  {"adam", {"lr", "beta1", "beta2", "eps", "weight_decay"}},
                                  {"adamw", {"lr", "beta1", "beta2", "eps", "weight_decay"}},
                                  {NULL, {NULL}}};
static const form schedules[] = {{"constant", {"warmup"}},
                                 {"cosine", {"min_lr", "warmup"}},
                                 {"step", {"step_size", "gamma", "warmup"}},
                                 {NULL, {NULL}}};
static const form inits[] = {{"kaiming", {NULL}}, {"xavier", {NULL}}, {NULL, {NULL}}};
static const form normalizers[] = {{"unit", {NULL}}, {"standard", {"mean", "std"}}, {NULL, {NULL}}};
static const form augmentations[] = {
    {"crop", {"pad"}}, {"flip", {NULL}}, {"cutout", {"size"}}, {NULL, {NULL}}};

/* A did-you-mean note when a value is a misspelt name of `names`. */
static void note_name(interp *I, diag *d, const cfg_val *v, const char *const *names) {
    if (v->k != CV_IDENT && v->k != CV_CALL) return;
    const char *near = fr_suggest(v->s, names, -1);
    if (near) diag_note(I->c, d, v->at, "did you mean '%s'?", near);
}

/* The expression a key was last set to, for the places of its parts. */
static ast_expr *key_expr(section *s, const char *key) {
    for (int i = s->n - 1; i >= 0; i--)
        if (!strcmp(s->keys[i], key)) return s->exprs[i];
    return NULL;
}

static void check_options(interp *I, const form *f, ast_expr *e) {
    if (e->args.n) {
        diag *d = diag_error(I->c, ((ast_expr *)e->args.v[0])->at, "the options of %s are named", f->name);
        if (f->opts[0]) diag_note(I->c, d, e->at, "for example %s(%s = ...)", f->name, f->opts[0]);
    }
    for (int i = 0; i < e->named.n; i++) {
        ast_named_arg *na = e->named.v[i];
        bool ok = false;
        for (int k = 0; f->opts[k] && !ok; k++) ok = !strcmp(f->opts[k], na->name);
        if (ok) continue;
        diag *d = f->opts[0] ? diag_error(I->c, na->at, "%s has no option '%s'", f->name, na->name)
                             : diag_error(I->c, na->at, "%s takes no options", f->name);
        const char *near = f->opts[0] ? fr_suggest(na->name, f->opts, -1) : NULL;
        if (near)
            diag_note(I->c, d, na->at, "did you mean '%s'?", near);
        else if (f->opts[0]) {
            char *list = "";
            for (int k = 0; f->opts[k]; k++)
                list = arena_printf(&I->c->A, "%s%s%s", list, k ? ", " : "", f->opts[k]);
            diag_note(I->c, d, na->at, "the options of %s are %s", f->name, list);
        }
    }
}

/* Checks `key` against its forms: an unknown name is an error with the
 * closest form's name; an unknown option one with the closest option. */
static void check_form(interp *I, section *s, const char *key, const form *forms, const char *usage) {
    cfg_val *v = find_key(s, key);
    if (!v) return;
    const form *f = NULL;
    if (v->k == CV_IDENT || v->k == CV_CALL)
        for (int i = 0; forms[i].name && !f; i++)
            if (!strcmp(forms[i].name, v->s)) f = &forms[i];
    if (!f) {
        diag *d = diag_error(I->c, v->at, "%s must be %s", key, usage);
        const char *names[8] = {NULL};
        for (int i = 0; forms[i].name && i < 7; i++) names[i] = forms[i].name;
        note_name(I, d, v, names);
        return;
    }
    ast_expr *e = key_expr(s, key);
    if (v->k == CV_CALL && e && e->kind == E_CALL) check_options(I, f, e);
}

/* augment = [crop(pad = 4), flip, cutout(16)] (or one op, or `a, b`):
 * each item one of the augmentations; cutout's size may be positional. */
static void check_augment(interp *I, section *s) {
    cfg_val *v = find_key(s, "augment");
    ast_expr *e = key_expr(s, "augment");
    if (!v || !e) return;
    int n = v->k == CV_LIST ? v->n : 1;
    for (int i = 0; i < n; i++) {
        cfg_val *it = v->k == CV_LIST ? v->items[i] : v;
        ast_expr *ie = v->k == CV_LIST && e->kind == E_LIST && i < e->items.n ? e->items.v[i] : e;
        const form *f = NULL;
        if (it->k == CV_IDENT || it->k == CV_CALL)
            for (int k = 0; augmentations[k].name && !f; k++)
                if (!strcmp(augmentations[k].name, it->s)) f = &augmentations[k];
        if (!f) {
            diag *d = diag_error(I->c, it->at, "augment takes crop(pad = N), flip and cutout(N)");
            note_name(I, d, it, (const char *const[]){"crop", "flip", "cutout", NULL});
            continue;
        }
        if (it->k != CV_CALL || ie->kind != E_CALL) continue;
        bool positional_size = !strcmp(f->name, "cutout") && ie->args.n == 1 && ie->named.n == 0;
        if (!positional_size) check_options(I, f, ie);
    }
}

/* standard(mean = ..., std = ...): both, each a number or a list of them
 * (one per channel, which the data's shape fixes at training time). */
static void check_standard(interp *I, section *s) {
    cfg_val *v = find_key(s, "normalize");
    if (!v || v->k != CV_CALL || strcmp(v->s, "standard") || !v->n) return;
    for (int w = 0; w < 2; w++) {
        const char *key = w ? "std" : "mean";
        const cfg_val *x = NULL;
        for (int i = 0; i < v->n; i++)
            if (v->keys[i] && !strcmp(v->keys[i], key)) x = v->items[i];
        bool ok = x && (x->k == CV_NUM || x->k == CV_LIST);
        for (int i = 0; ok && x->k == CV_LIST && i < x->n; i++) ok = x->items[i]->k == CV_NUM;
        if (!ok)
            diag_error(I->c, x ? x->at : v->at,
                       "standard(...) needs %s = [...], one number per input channel", key);
    }
}

static void check_train(interp *I, section *s) {
    cfg_val *d = find_key(s, "data");
    if (d) {
        bool ok = (d->k == CV_IDENT && !strcmp(d->s, "fashion_mnist")) ||
                  (d->k == CV_CALL && !strcmp(d->s, "idx") && d->n == 2 && d->items[0]->k == CV_STR &&
                   d->items[1]->k == CV_STR) ||
                  (d->k == CV_CALL && !strcmp(d->s, "csv") && d->n >= 1 && d->items[0]->k == CV_STR) ||
                  (d->k == CV_CALL && (!strcmp(d->s, "cifar10") || !strcmp(d->s, "cifar100")) && d->n == 1 &&
                   d->items[0]->k == CV_STR);
        if (!ok) {
            diag *e = diag_error(I->c, d->at,
                                 "data must be fashion_mnist, idx(\"images\", \"labels\"), csv(\"file.csv\", "
                                 "label = \"column\"), cifar10(\"DIR\") or cifar100(\"DIR\")");
            note_name(I, e, d,
                      (const char *const[]){"fashion_mnist", "idx", "csv", "cifar10", "cifar100", NULL});
        }
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
    check_form(I, s, "optimizer", optimizers,
               "sgd(lr = ..., momentum = ..., nesterov = ..., weight_decay = ...), adam(lr = ...) or "
               "adamw(lr = ..., weight_decay = ...)");
    check_form(I, s, "schedule", schedules,
               "constant, cosine(min_lr = ...) or step(step_size = ..., gamma = ...)");
    check_form(I, s, "init", inits, "kaiming or xavier");
    check_form(I, s, "normalize", normalizers, "unit, standard or standard(mean = [...], std = [...])");
    check_standard(I, s);
    check_augment(I, s);
}

/* ----- metrics and their dimensions ----- */

/* How a value of a dimension is written, for the note under a mismatch. */
static const char *dim_spelling(metric_dim d) {
    return d == MD_TIME    ? "a time is written with a unit: us, ms, s, m or h (300us, 2ms)"
           : d == MD_BYTES ? "a size is written with a unit: B, KB, MB or GB (512KB)"
                           : "a number has no unit (k, M and G are multipliers: 200k)";
}

/* The dimension of an objective or limit expression: exponents of time
 * and bytes (0, 0 is a plain number), or `any` when it involves a metric
 * of an external evaluator, whose dimension nasc cannot know. */
typedef struct dimv {
    int t, b;
    bool any, bad; /* bad: an error was reported inside; say nothing more */
} dimv;

static dimv dim_of_unit(metric_dim d) {
    dimv v = {d == MD_TIME, d == MD_BYTES, false, false};
    return v;
}

static bool dim_eq(dimv a, dimv b) { return a.any || b.any || a.bad || b.bad || (a.t == b.t && a.b == b.b); }

static const char *dim_words(interp *I, dimv d) {
    if (d.t == 0 && d.b == 0) return "a number";
    if (d.t == 1 && d.b == 0) return "a time";
    if (d.t == 0 && d.b == 1) return "a size in bytes";
    const char *t = d.t == 0 ? "" : d.t == 1 ? "time" : arena_printf(&I->c->A, "time^%d", d.t);
    const char *b = d.b == 0 ? "" : d.b == 1 ? "bytes" : arena_printf(&I->c->A, "bytes^%d", d.b);
    return arena_printf(&I->c->A, "a quantity in %s%s%s", t, *t && *b ? " * " : "", b);
}

/* The metric a lone dimension belongs to, for the simplest messages. */
static metric_dim as_unit(dimv d) {
    return d.t == 1 && !d.b ? MD_TIME : d.b == 1 && !d.t ? MD_BYTES : MD_NUMBER;
}

/* The source text of a one-token expression ("2ms"), or NULL. */
static const char *token_text(interp *I, const ast_expr *e) {
    if (e->kind != E_INT && e->kind != E_FLOAT && e->kind != E_QUANT && e->kind != E_NAME) return NULL;
    if (e->at.file < 0 || e->at.file >= I->c->files.n || e->at.len <= 0) return NULL;
    const src_file *f = &I->c->files.v[e->at.file];
    const char *p = f->text, *end = f->text + f->len;
    for (int l = 1; l < e->at.line && p < end; p++)
        if (*p == '\n') l++;
    if (p + e->at.col - 1 + e->at.len > end) return NULL;
    if (memchr(p + e->at.col - 1, '\n', (size_t)e->at.len)) return NULL;
    return arena_strndup(&I->c->A, p + e->at.col - 1, (size_t)e->at.len);
}

static void unknown_metric(interp *I, ast_expr *e) {
    char *list = "";
    fr_near n;
    fr_near_init(&n, e->name);
    int cnt;
    const metric_info *t = metric_table(&cnt);
    for (int i = 0; i < cnt; i++) {
        if (!t[i].goal) continue;
        list = arena_printf(&I->c->A, "%s%s%s", list, *list ? ", " : "", t[i].name);
        fr_near_add(&n, t[i].name);
    }
    diag *d =
        diag_error(I->c, e->at, "unknown metric '%s' (the builtin evaluator reports %s)", e->name, list);
    if (n.best) diag_note(I->c, d, e->at, "did you mean '%s'?", n.best);
}

/* Two sides that must agree (a comparison, + or -): an error at the side
 * that is not a lone metric, naming the metric's dimension. */
static void mismatch(interp *I, ast_expr *l, dimv dl, ast_expr *r, dimv dr, const char *why) {
    bool l_metric = l->kind == E_NAME, r_metric = r->kind == E_NAME;
    ast_expr *m = l_metric || !r_metric ? l : r, *o = m == l ? r : l;
    dimv dm = m == l ? dl : dr, dox = m == l ? dr : dl;
    const char *ot = token_text(I, o);
    diag *d;
    if (m->kind == E_NAME)
        d = diag_error(I->c, o->at, "%s is %s, so it cannot be %s %s%s%s%s", m->name, dim_words(I, dm), why,
                       dim_words(I, dox), ot ? " (" : "", ot ? ot : "", ot ? ")" : "");
    else
        d = diag_error(I->c, o->at, "the two sides of %s differ in dimension: %s and %s",
                       strcmp(why, "compared with") ? "+ or -" : "this comparison", dim_words(I, dm),
                       dim_words(I, dox));
    if (dm.t * dm.t + dm.b * dm.b <= 1) diag_note(I->c, d, o->at, "%s", dim_spelling(as_unit(dm)));
}

static dimv dim_expr(interp *I, ast_expr *e, bool external) {
    dimv none = {0, 0, false, false}, bad = {0, 0, false, true}, any = {0, 0, true, false};
    switch (e->kind) {
    case E_INT:
    case E_FLOAT: return none;
    case E_QUANT: return dim_of_unit(e->unit == UNIT_TIME ? MD_TIME : MD_BYTES);
    case E_NAME: {
        const metric_info *m = metric_find(e->name);
        if (m && !m->goal) {
            diag_error(I->c, e->at,
                       "%s is reported but never used to select (use accuracy, the validation accuracy)",
                       e->name);
            return bad;
        }
        if (m) return dim_of_unit(m->dim);
        if (!external) {
            unknown_metric(I, e);
            return bad;
        }
        return any;
    }
    case E_UNOP:
        if (e->op == OP_NEG) return dim_expr(I, e->lhs, external);
        break;
    case E_BINOP: {
        if (e->op == OP_MOD || e->op == OP_AND || e->op == OP_OR) break;
        dimv l = dim_expr(I, e->lhs, external), r = dim_expr(I, e->rhs, external);
        if (l.bad || r.bad) return bad;
        dimv out = {0, 0, l.any || r.any, false};
        switch (e->op) {
        case OP_ADD:
        case OP_SUB:
            if (!dim_eq(l, r)) {
                mismatch(I, e->lhs, l, e->rhs, r, "added to");
                return bad;
            }
            out.t = l.t, out.b = l.b;
            return out;
        case OP_MUL: out.t = l.t + r.t, out.b = l.b + r.b; return out;
        case OP_DIV: out.t = l.t - r.t, out.b = l.b - r.b; return out;
        case OP_POW:
            if (!r.any && (r.t || r.b)) {
                diag_error(I->c, e->rhs->at, "an exponent must be a plain number, not %s", dim_words(I, r));
                return bad;
            }
            if (!l.any && (l.t || l.b)) {
                const ast_expr *x = e->rhs;
                bool neg = x->kind == E_UNOP && x->op == OP_NEG;
                if (neg) x = x->lhs;
                if (x->kind != E_INT) {
                    diag *d = diag_error(I->c, e->lhs->at,
                                         "only a plain number may be raised to a fractional power, not %s",
                                         dim_words(I, l));
                    diag_note(I->c, d, e->lhs->at,
                              "divide by a reference first, as in (latency / 2ms) ^ -0.07");
                    return bad;
                }
                /* Exponents stay small: the dimension's own would overflow. */
                int64_t k = neg ? -x->ival : x->ival;
                if (k > 8 || k < -8 || (l.t * k) > 64 || (l.t * k) < -64 || (l.b * k) > 64 ||
                    (l.b * k) < -64) {
                    diag_error(I->c, e->rhs->at, "%s may be raised to an integer power of at most 8",
                               dim_words(I, l));
                    return bad;
                }
                out.t = l.t * (int)k, out.b = l.b * (int)k;
            }
            return out;
        default: /* a comparison */
            if (!dim_eq(l, r)) {
                mismatch(I, e->lhs, l, e->rhs, r, "compared with");
                return bad;
            }
            return none;
        }
    }
    default: break;
    }
    diag_error(I->c, e->at,
               "objectives and limits are arithmetic (+ - * / ^) and comparisons over metrics and numbers");
    return bad;
}

static bool is_comparison(const ast_expr *e) {
    return e->kind == E_BINOP && e->op >= OP_EQ && e->op <= OP_GE;
}

/* One objective or limit: its metrics exist and its units fit them. */
static void check_goal(interp *I, ast_expr *e, bool objective, bool external) {
    if (objective) {
        if (e->kind != E_OBJECTIVE) {
            diag_error(I->c, e->at, "an objective is `maximize EXPR` or `minimize EXPR`");
            return;
        }
        e = e->lhs;
        if (is_comparison(e)) {
            diag_error(I->c, e->at,
                       "an objective is a quantity to maximize or minimize, not a comparison "
                       "(limits go in `require`)");
            return;
        }
    } else if (!is_comparison(e)) {
        if (!dim_expr(I, e, external).bad)
            diag_error(I->c, e->at, "a limit is a comparison, such as params < 200k");
        return;
    }
    dim_expr(I, e, external);
}

static void check_search(interp *I, section *s) {
    cfg_val *ev = find_key(s, "evaluator");
    bool external = ev && ev->k == CV_CALL && (!strcmp(ev->s, "exec") || !strcmp(ev->s, "pipe"));
    bool supernet = ev && ev->k == CV_CALL && !strcmp(ev->s, "supernet"); /* docs/one-shot.md */
    if (ev && !external && !supernet &&
        !(ev->k == CV_IDENT && (!strcmp(ev->s, "builtin") || !strcmp(ev->s, "proxy")))) {
        diag *e = diag_error(
            I->c, ev->at,
            "evaluator must be builtin, proxy, exec(\"command\"), pipe(\"command\") or supernet(\"file\")");
        note_name(I, e, ev, (const char *const[]){"builtin", "proxy", "exec", "pipe", "supernet", NULL});
    }
    if (ev && external && (ev->n != 1 || ev->items[0]->k != CV_STR))
        diag_error(I->c, ev->at, "%s takes one string: the command line", ev->s);
    if (supernet && (ev->n != 1 || ev->items[0]->k != CV_STR))
        diag_error(I->c, ev->at, "supernet takes one string: the supernet file (nasc supernet -o FILE)");
    cfg_val *st = find_key(s, "strategy");
    if (st && st->k != CV_IDENT && st->k != CV_CALL && st->k != CV_STR)
        diag_error(I->c, st->at,
                   "strategy must be a plugin name, optionally with options: evolution(population = 20)");
    want(I, s, "trials", !find_key(s, "trials") || num_in(find_key(s, "trials"), 1, 1e9, true),
         "a positive int");
    want(I, s, "retrain", !find_key(s, "retrain") || num_in(find_key(s, "retrain"), 1, 1e6, true),
         "a positive int: how many of the best points to train stand-alone at the end (docs/one-shot.md)");
    cfg_val *t = find_key(s, "time");
    if (t && !(t->k == CV_QUANT && t->unit == UNIT_TIME))
        diag_error(I->c, t->at, "time must be a duration such as 10m or 2h");
    cfg_val *to = find_key(s, "timeout");
    if (to && !(to->k == CV_QUANT && to->unit == UNIT_TIME))
        diag_error(I->c, to->at, "timeout must be a duration such as 30s");
    cfg_val *ml = find_key(s, "memory_limit");
    if (ml && !(ml->k == CV_QUANT && ml->unit == UNIT_BYTES))
        diag_error(I->c, ml->at, "memory_limit must be a size such as 512MB or 2GB");
    cfg_val *qv = find_key(s, "quant"); /* the build latency/ram/flash measure (docs/deployment.md) */
    if (qv && !(qv->k == CV_IDENT && (!strcmp(qv->s, "int8") || !strcmp(qv->s, "none"))))
        diag_error(I->c, qv->at, "quant must be int8 or none");
    for (int i = 0; i < s->n; i++) {
        bool obj = !strcmp(s->keys[i], "objective");
        if (!obj && strcmp(s->keys[i], "require")) continue;
        ast_expr *e = s->exprs[i];
        if (e->kind == E_LIST)
            for (int j = 0; j < e->items.n; j++) check_goal(I, e->items.v[j], obj, external);
        else
            check_goal(I, e, obj, external);
    }
}

void fi_section_eval(interp *I, ast_item *it, section *out, const char *prefix) {
    diag *before = I->c->diags_tail;
    memset(out, 0, sizeof *out);
    out->present = true;
    out->at = it->at;
    int n = it->entries.n;
    out->keys = arena_alloc(&I->c->A, (size_t)(n + 1) * sizeof *out->keys);
    out->vals = arena_alloc(&I->c->A, (size_t)(n + 1) * sizeof *out->vals);
    out->exprs = arena_alloc(&I->c->A, (size_t)(n + 1) * sizeof *out->exprs);
    if (n > SECTION_MAX_KEYS) {
        diag_error(I->c, ((ast_entry *)it->entries.v[SECTION_MAX_KEYS])->at,
                   "a section may set at most %d keys, this one sets %d", SECTION_MAX_KEYS, n);
        n = SECTION_MAX_KEYS;
    }
    label_map seen = {0}; /* key -> its first entry */
    for (int i = 0; i < n && !I->abort; i++) {
        ast_entry *en = it->entries.v[i];
        int first = fi_label_lookup(&seen, en->key);
        if (first < 0)
            fi_label_insert(I->c, &seen, en->key, i);
        else if (strcmp(en->key, "require") && strcmp(en->key, "objective")) {
            diag *d = diag_error(I->c, en->at, "key '%s' is set twice in this section", en->key);
            diag_note(I->c, d, ((ast_entry *)it->entries.v[first])->at, "first set here");
        }
        cfg_val *v;
        if (en->value->kind == E_CHOICE) {
            I->fr = NULL;
            value *x =
                fi_make_choice(I, en->value, arena_printf(&I->c->A, "%s%s", prefix, en->key), en->at, true);
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
        check_keys(I, it, strcmp(prefix, "train."));
        if (!strcmp(prefix, "train."))
            check_train(I, out);
        else
            check_search(I, out);
        diag_sort_since(I->c, before); /* the checks run by kind; report top to bottom */
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
