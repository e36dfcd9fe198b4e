/* sr_metrics.c: metric maps, objective/limit expressions and the Pareto
 * front.  Objectives are evaluated on the metrics of each finished trial
 * (the evaluator's plus params/flops/memory); a limit that needs only the
 * static metrics is checked before a trial is evaluated. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "sr_util.h"

/* ---------------- metrics ---------------- */

void sr_metrics_init(sr_metrics *m) { memset(m, 0, sizeof *m); }

void sr_metrics_free(sr_metrics *m) {
    free(m->v);
    memset(m, 0, sizeof *m);
}

void sr_metrics_clear(sr_metrics *m) { m->n = 0; }

int sr_metrics_set(sr_metrics *m, const char *name, double value) {
    if (!name || strlen(name) >= sizeof m->v[0].name) return -1;
    for (int i = 0; i < m->n; i++)
        if (!strcmp(m->v[i].name, name)) {
            m->v[i].value = value;
            return 0;
        }
    if (m->n == m->cap) {
        int cap = m->cap ? m->cap * 2 : 8;
        sr_metric *v = realloc(m->v, (size_t)cap * sizeof *v);
        if (!v) return -1;
        m->v = v;
        m->cap = cap;
    }
    strcpy(m->v[m->n].name, name);
    m->v[m->n].value = value;
    m->n++;
    return 0;
}

int sr_metrics_get(const sr_metrics *m, const char *name, double *value) {
    for (int i = 0; i < m->n; i++)
        if (!strcmp(m->v[i].name, name)) {
            if (value) *value = m->v[i].value;
            return 1;
        }
    return 0;
}

char *sr_metrics_to_json(const sr_metrics *m) {
    strbuf b = {0};
    strbuf_puts(&b, "{");
    for (int i = 0; i < m->n; i++) {
        if (i) strbuf_puts(&b, ", ");
        json_write_str(&b, m->v[i].name);
        strbuf_puts(&b, ": ");
        json_write_number(&b, m->v[i].value);
    }
    strbuf_puts(&b, "}");
    return strbuf_take(&b);
}

int sr_metrics_from_json(const char *json, sr_metrics *m, char *err, size_t cap) {
    json_value *d = sr_json_parse(json, err, cap);
    if (!d) return -1;
    int rc = 0;
    if (d->type != JSON_OBJECT) {
        err_set(err, cap, "metrics must be a JSON object of numbers");
        rc = -1;
    }
    /* Each set looks the name up: a bound keeps a hostile line linear. */
    if (!rc && d->n > SR_METRICS_MAX) {
        err_set(err, cap, "%zu metrics, more than the %d allowed", d->n, SR_METRICS_MAX);
        rc = -1;
    }
    for (size_t i = 0; rc == 0 && i < d->n; i++) {
        const json_value *n = &d->items[i];
        const char *key = d->keys[i];
        if (n->type != JSON_NUMBER && n->type != JSON_NULL) {
            err_set(err, cap, "metric '%s' is not a number", key);
            rc = -1;
        } else if (sr_metrics_set(m, key, n->type == JSON_NUMBER ? n->number : NAN)) {
            err_set(err, cap, "bad metric name '%.60s'", key);
            rc = -1;
        }
    }
    json_free(d);
    return rc;
}

/* ---------------- expressions ---------------- */

static sr_expr *expr_new(sr_expr_kind k) {
    sr_expr *e = calloc(1, sizeof *e);
    if (e) e->kind = k;
    return e;
}

sr_expr *sr_expr_num(double v) {
    sr_expr *e = expr_new(SR_EX_NUM);
    if (e) e->num = v;
    return e;
}

sr_expr *sr_expr_metric(const char *name, double scale) {
    sr_expr *e = expr_new(SR_EX_METRIC);
    if (!e) return NULL;
    e->metric = strdup(name ? name : "");
    e->scale = scale;
    if (!e->metric) {
        free(e);
        return NULL;
    }
    return e;
}

sr_expr *sr_expr_bin(sr_expr_kind op, sr_expr *a, sr_expr *b) {
    sr_expr *e = (a && (b || op == SR_EX_NEG)) ? expr_new(op) : NULL;
    if (!e) {
        sr_expr_free(a);
        sr_expr_free(b);
        return NULL;
    }
    e->a = a;
    e->b = b;
    return e;
}

void sr_expr_free(sr_expr *e) {
    if (!e) return;
    sr_expr_free(e->a);
    sr_expr_free(e->b);
    free(e->metric);
    free(e);
}

static int expr_eval(const sr_expr *e, const sr_metrics *m, double *out, const char **missing) {
    double a = 0, b = 0;
    if (e->kind == SR_EX_NUM) {
        *out = e->num;
        return 0;
    }
    if (e->kind == SR_EX_METRIC) {
        if (!sr_metrics_get(m, e->metric, &a)) {
            if (missing) *missing = e->metric;
            return -1;
        }
        *out = a * e->scale;
        return 0;
    }
    if (expr_eval(e->a, m, &a, missing)) return -1;
    if (e->b && expr_eval(e->b, m, &b, missing)) return -1;
    switch (e->kind) {
    case SR_EX_ADD: *out = a + b; break;
    case SR_EX_SUB: *out = a - b; break;
    case SR_EX_MUL: *out = a * b; break;
    case SR_EX_DIV: *out = a / b; break;
    case SR_EX_POW: *out = pow(a, b); break;
    case SR_EX_NEG: *out = -a; break;
    case SR_EX_LT: *out = a < b; break;
    case SR_EX_LE: *out = a <= b; break;
    case SR_EX_GT: *out = a > b; break;
    case SR_EX_GE: *out = a >= b; break;
    case SR_EX_EQ: *out = a == b; break;
    case SR_EX_NE: *out = a != b; break;
    default: return -1;
    }
    return 0;
}

int sr_expr_eval(const sr_expr *e, const sr_metrics *m, double *out, const char **missing) {
    if (missing) *missing = NULL;
    if (!e) return -1;
    if (expr_eval(e, m, out, missing)) return -1;
    return isfinite(*out) ? 0 : -1;
}

/* The metrics the host and the builtin evaluator know, one row each. */

int sr_expr_is_static(const sr_expr *e) {
    if (!e) return 1;
    if (e->kind == SR_EX_METRIC) {
        const metric_info *m = metric_find(e->metric);
        return m && m->is_static;
    }
    return sr_expr_is_static(e->a) && sr_expr_is_static(e->b);
}

static const char *op_text(sr_expr_kind k) {
    static const char *t[] = {"",  "",    " + ",  " - ", " * ",  " / ",  " ^ ",
                              "-", " < ", " <= ", " > ", " >= ", " == ", " != "};
    return t[k];
}

static void expr_fmt(const sr_expr *e, strbuf *b) {
    if (e->kind == SR_EX_NUM) {
        json_write_number(b, e->num);
        return;
    }
    if (e->kind == SR_EX_METRIC) {
        strbuf_puts(b, e->metric);
        if (e->scale != 1) {
            strbuf_puts(b, "*");
            json_write_number(b, e->scale);
        }
        return;
    }
    if (e->kind == SR_EX_NEG) {
        strbuf_puts(b, "-(");
        expr_fmt(e->a, b);
        strbuf_puts(b, ")");
        return;
    }
    int paren = e->kind <= SR_EX_POW;
    if (paren) strbuf_puts(b, "(");
    expr_fmt(e->a, b);
    strbuf_puts(b, op_text(e->kind));
    expr_fmt(e->b, b);
    if (paren) strbuf_puts(b, ")");
}

void sr_expr_format(const sr_expr *e, char *buf, size_t cap) {
    if (!cap) return;
    strbuf b = {0};
    if (e) expr_fmt(e, &b);
    char *s = strbuf_take(&b);
    snprintf(buf, cap, "%s", s ? s : "");
    free(s);
}

double sr_unit_scale(const char *u) {
    static const struct {
        const char *u;
        double s;
    } t[] = {
        {"us", 1},    {"ms", 1e3}, {"s", 1e6},   {"m", 6e7},        {"min", 6e7},
        {"h", 3.6e9}, {"B", 1},    {"KB", 1024}, {"MB", 1048576.0}, {"GB", 1073741824.0},
        {"k", 1e3},   {"M", 1e6},  {"G", 1e9},
    };
    for (size_t i = 0; u && i < sizeof t / sizeof t[0]; i++)
        if (!strcmp(u, t[i].u)) return t[i].s;
    return 0;
}

/* ---------------- Pareto ---------------- */

int sr_dominates(const double *a, const double *b, int k) {
    int better = 0;
    for (int i = 0; i < k; i++) {
        if (a[i] < b[i]) return 0;
        if (a[i] > b[i]) better = 1;
    }
    return better;
}

int sr_pareto_front(const double *vals, int n, int k, unsigned char *front) {
    int size = 0;
    for (int i = 0; i < n; i++) {
        front[i] = 1;
        for (int j = 0; j < n && front[i]; j++)
            if (j != i && sr_dominates(vals + (size_t)j * (size_t)k, vals + (size_t)i * (size_t)k, k))
                front[i] = 0;
        size += front[i];
    }
    return size;
}
