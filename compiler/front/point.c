/* point.c: points (language.md section 10), read and written as JSON.
 *
 * A point is validated against the checked space: every decision it names
 * must exist, be active at this point and hold a value of its domain, and
 * every active decision must be given.  Each error names the decision, so
 * a user (or a strategy plugin) sees exactly what is wrong.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "interp_int.h"
#include "json.h"


static const char *closest_label(space_ir *s, const char *label) {
    const char *best = NULL;
    int bd = 4;
    for (int i = 0; i < s->decs.n; i++) {
        int d = name_distance(label, s->decs.v[i]->label);
        if (d < bd) {
            bd = d;
            best = s->decs.v[i]->label;
        }
    }
    return best;
}

static char *json_text(nasc_ctx *c, const json_value *v) {
    strbuf b = {0};
    json_write_value(&b, v);
    char *s = arena_strdup(&c->A, b.data ? b.data : "?");
    strbuf_free(&b);
    return s;
}

/* The JSON type a categorical's value is written with (point_json). */
static json_type cat_json_type(const decision *d) {
    if (d->by_index) return JSON_STRING;
    return d->vt == DV_INT || d->vt == DV_FLOAT ? JSON_NUMBER : d->vt == DV_BOOL ? JSON_BOOL : JSON_STRING;
}

static bool type_error(nasc_ctx *c, const char *what, decision *d, const json_value *v, const char *wants) {
    diag_error(c, loc_none(), "%s: decision '%s': %s is a JSON %s, but it takes %s: %s", what, d->label,
               json_text(c, v), json_type_name(v->type), wants, decision_domain(c, d));
    return false;
}

static bool cat_value(nasc_ctx *c, const char *what, decision *d, const json_value *v, sval *out) {
    /* Strict: "16" is not 16, "true" is not true (the types point_json writes). */
    json_type want = cat_json_type(d);
    if (v->type != want)
        return type_error(c, what, d, v,
                          want == JSON_NUMBER ? "a number"
                          : want == JSON_BOOL ? "a boolean"
                                              : "a name (a string)");
    for (int i = 0; i < d->n_alts; i++) {
        bool m = false;
        if (v->type == JSON_STRING)
            m = !strcmp(v->str, d->alt_names[i]);
        else if (v->type == JSON_BOOL && d->vt == DV_BOOL)
            m = (v->boolean ? 1 : 0) == d->alt_vals[i].i;
        else if (v->type == JSON_NUMBER && (d->vt == DV_INT || d->vt == DV_FLOAT) && !d->by_index) {
            double x = d->alt_vals[i].is_float ? d->alt_vals[i].f : (double)d->alt_vals[i].i;
            m = v->number == x || fabs(v->number - x) <= 1e-12 * fabs(x);
        }
        if (m) {
            out->is_float = false;
            out->i = i;
            return true;
        }
    }
    diag_error(c, loc_none(), "%s: decision '%s': %s is not one of %s", what, d->label, json_text(c, v),
               decision_domain(c, d));
    return false;
}

static bool decode(nasc_ctx *c, const char *what, decision *d, const json_value *v, sval *out) {
    memset(out, 0, sizeof *out);
    switch (d->kind) {
    case DK_CAT: return cat_value(c, what, d, v, out);
    case DK_INT:
        if (v->type != JSON_NUMBER) return type_error(c, what, d, v, "an integer");
        if (!v->is_int && v->number == floor(v->number) && fabs(v->number) < 9e15) {
            diag_error(c, loc_none(),
                       "%s: decision '%s': %.1f is a real number, but it takes an integer: %s (write %.0f)",
                       what, d->label, v->number, decision_domain(c, d), v->number);
            return false;
        }
        if (!v->is_int || v->integer < d->lo || v->integer > d->hi ||
            ((uint64_t)v->integer - (uint64_t)d->lo) % (uint64_t)d->step) {
            diag_error(c, loc_none(), "%s: decision '%s': %s is not in %s", what, d->label, json_text(c, v),
                       decision_domain(c, d));
            return false;
        }
        out->i = v->integer;
        return true;
    case DK_FLOAT:
        if (v->type != JSON_NUMBER) return type_error(c, what, d, v, "a number");
        if (!(v->number >= d->flo && v->number <= d->fhi)) {
            diag_error(c, loc_none(), "%s: decision '%s': %s is not in %s", what, d->label, json_text(c, v),
                       decision_domain(c, d));
            return false;
        }
        out->is_float = true;
        out->f = v->number;
        return true;
    case DK_SUBSET: {
        if (v->type != JSON_ARRAY || (int)v->n != d->k) {
            diag_error(c, loc_none(),
                       "%s: decision '%s' needs a list of %d distinct alternatives of %s, got %s", what,
                       d->label, d->k, decision_domain(c, d), json_text(c, v));
            return false;
        }
        uint64_t m = 0;
        for (size_t i = 0; i < v->n; i++) {
            int k = -1;
            for (int j = 0; j < d->n_alts; j++)
                if (v->items[i].type == JSON_STRING && !strcmp(v->items[i].str, d->alt_names[j])) k = j;
            if (k < 0 || (m >> k & 1)) {
                diag_error(c, loc_none(),
                           "%s: decision '%s': %s is not a list of %d distinct alternatives of %s", what,
                           d->label, json_text(c, v), d->k, decision_domain(c, d));
                return false;
            }
            m |= 1ull << k;
        }
        out->i = (int64_t)m;
        return true;
    }
    }
    return false;
}

static space_ir *pick_space(nasc_ctx *c, program *p, const json_value *root, const char *what) {
    const json_value *sv = json_get(root, "space");
    if (sv && sv->type != JSON_STRING) {
        diag_error(c, loc_none(), "%s: \"space\" must be a string", what);
        return NULL;
    }
    space_ir *s = prog_space(p, sv ? sv->str : NULL);
    if (s) return s;
    char *names = "";
    for (int i = 0; i < p->spaces.n; i++)
        names = arena_printf(&c->A, "%s%s%s", names, i ? ", " : "", p->spaces.v[i]->name);
    if (sv)
        diag_error(c, loc_none(), "%s: unknown space '%s' (this file has: %s)", what, sv->str, names);
    else
        diag_error(c, loc_none(),
                   "%s: this file has several spaces (%s): the point must say which in \"space\"", what,
                   names);
    return NULL;
}

bool point_load(nasc_ctx *c, program *p, space_ir **sp, const char *text, const char *what, assignment **out,
                ir_graph *g) {
    char err[256];
    json_value *root = json_parse(text, strlen(text), err, sizeof err);
    if (!root) {
        diag_error(c, loc_none(), "%s is not valid JSON: %s", what, err);
        return false;
    }
    bool ok = false;
    const json_value *decs = json_get(root, "decisions");
    if (root->type != JSON_OBJECT || !decs || decs->type != JSON_OBJECT) {
        diag_error(c, loc_none(), "%s: a point is an object {\"space\": ..., \"decisions\": {...}}", what);
        goto done;
    }
    space_ir *s = pick_space(c, p, root, what);
    if (!s) goto done;
    if (!s->ok) {
        diag_error(c, loc_none(), "space %s has errors", s->name);
        goto done;
    }
    *sp = s;
    assignment *a = asg_new(c, s);
    int e0 = c->n_errors;
    for (size_t i = 0; i < decs->n; i++) {
        int id = fi_label_lookup(s->item->labels, decs->keys[i]);
        if (id < 0) {
            diag *d = diag_error(c, loc_none(), "%s: unknown decision '%s'", what, decs->keys[i]);
            const char *near = closest_label(s, decs->keys[i]);
            if (near) diag_note(c, d, loc_none(), "did you mean '%s'?", near);
            continue;
        }
        if (a->given[id]) {
            diag_error(c, loc_none(), "%s: decision '%s' is given twice", what, decs->keys[i]);
            continue;
        }
        if (decode(c, what, s->decs.v[id], &decs->items[i], &a->vals[id])) a->given[id] = true;
    }
    if (c->n_errors != e0) goto done;
    bool feasible;
    if (!space_run(c, p, s, a, g, &feasible)) {
        if (!feasible) diag_error(c, a->infeasible_at, "%s is excluded from the space by this require", what);
        goto done;
    }
    for (int i = 0; i < a->n; i++)
        if (a->given[i] && !a->active[i]) {
            decision *d = s->decs.v[i];
            diag *dg =
                diag_error(c, loc_none(), "%s: decision '%s' is inactive at this point", what, d->label);
            diag_note(c, dg, d->at, "it is active only when %s", decision_condition(c, s, d));
        }
    ok = c->n_errors == e0;
    *out = a;
done:
    json_free(root);
    return ok;
}

char *point_json(nasc_ctx *c, space_ir *s, const assignment *a) {
    strbuf b = {0};
    strbuf_puts(&b, "{\"space\": ");
    json_write_string(&b, s->name, strlen(s->name));
    strbuf_puts(&b, ", \"decisions\": {");
    int k = 0;
    for (int i = 0; i < a->n; i++) {
        if (!a->active[i]) continue;
        decision *d = s->decs.v[i];
        if (k++) strbuf_puts(&b, ", ");
        json_write_string(&b, d->label, strlen(d->label));
        strbuf_puts(&b, ": ");
        sval v = a->vals[i];
        switch (d->kind) {
        case DK_INT: json_write_int(&b, v.i); break;
        case DK_FLOAT: json_write_number(&b, v.f); break;
        case DK_SUBSET:
            strbuf_puts(&b, "[");
            for (int j = 0, m = 0; j < d->n_alts; j++)
                if ((uint64_t)v.i >> j & 1) {
                    if (m++) strbuf_puts(&b, ", ");
                    json_write_string(&b, d->alt_names[j], strlen(d->alt_names[j]));
                }
            strbuf_puts(&b, "]");
            break;
        case DK_CAT:
            if (d->vt == DV_INT && !d->by_index)
                json_write_int(&b, d->alt_vals[v.i].i);
            else if (d->vt == DV_FLOAT && !d->by_index)
                json_write_number(&b, d->alt_vals[v.i].f);
            else if (d->vt == DV_BOOL && !d->by_index)
                strbuf_puts(&b, d->alt_vals[v.i].i ? "true" : "false");
            else
                json_write_string(&b, d->alt_names[v.i], strlen(d->alt_names[v.i]));
            break;
        }
    }
    strbuf_puts(&b, "}}");
    char *out = arena_strdup(&c->A, b.data ? b.data : "");
    strbuf_free(&b);
    return out;
}
