/* drv_goals.c: the objective compiler.  The `objective` and `require`
 * entries of a search section become sr_exprs over metric names, with the
 * units of the source applied, for sr_run to judge each trial with. */
#include <string.h>
#include "driver.h"
#include "proxies.h"

static bool mentions(const ast_expr *e, const char *name) {
    if (!e) return false;
    if (e->kind == E_NAME) return !strcmp(e->name, name);
    if (mentions(e->lhs, name) || mentions(e->rhs, name)) return true;
    for (int i = 0; i < e->items.n; i++)
        if (mentions(e->items.v[i], name)) return true;
    return false;
}

/* Metric units: latency is reported in microseconds and train_time in
 * seconds; durations written in objectives (2ms) are microseconds, so
 * train_time is scaled by 1e6 to compare with them. */
static sr_expr *to_expr(const ast_expr *e, char *err, size_t cap) {
    static const sr_expr_kind bin[] = {SR_EX_ADD,        SR_EX_SUB, SR_EX_MUL, SR_EX_DIV,
                                       (sr_expr_kind)-1, SR_EX_POW, SR_EX_EQ,  SR_EX_NE,
                                       SR_EX_LT,         SR_EX_LE,  SR_EX_GT,  SR_EX_GE};
    switch (e->kind) {
    case E_INT: return sr_expr_num((double)e->ival);
    case E_FLOAT: return sr_expr_num(e->fval);
    case E_QUANT: return sr_expr_num(e->unit == UNIT_TIME ? e->fval * 1e6 : e->fval);
    case E_NAME: return sr_expr_metric(e->name, !strcmp(e->name, "train_time") ? 1e6 : 1);
    case E_UNOP:
        if (e->op == OP_NEG) {
            sr_expr *a = to_expr(e->lhs, err, cap);
            return a ? sr_expr_bin(SR_EX_NEG, a, NULL) : NULL;
        }
        break;
    case E_BINOP:
        if (e->op <= OP_GE && e->op != OP_MOD) {
            sr_expr *a = to_expr(e->lhs, err, cap), *b = a ? to_expr(e->rhs, err, cap) : NULL;
            if (!b) {
                sr_expr_free(a);
                return NULL;
            }
            return sr_expr_bin(bin[e->op], a, b);
        }
        break;
    default: break;
    }
    snprintf(err, cap, "objectives and limits are arithmetic over metrics, numbers and units");
    return NULL;
}

static bool add_goal(drv_goals *g, const cfg_val *v, bool objective, const ast_expr *raw, char *err,
                     size_t cap) {
    const ast_expr *e = objective ? v->expr : (v->expr ? v->expr : raw);
    if (!e) {
        snprintf(err, cap, "bad %s", objective ? "objective" : "limit");
        return false;
    }
    sr_expr *x = to_expr(e, err, cap);
    if (!x) return false;
    g->latency |= mentions(e, "latency") || mentions(e, "throughput");
    g->throughput |= mentions(e, "throughput");
    g->test |= mentions(e, "test_accuracy");
    g->footprint |= mentions(e, "ram") || mentions(e, "flash");
    for (int id = 0; id < RT_PX_COUNT; id++)
        if (mentions(e, rt_proxy_name(id))) g->proxies |= 1u << id;
    int slot = g->n_obj + g->n_lim;
    sr_expr_format(x, g->text[slot], sizeof g->text[slot]);
    if (objective) {
        if (g->n_obj == 16) {
            sr_expr_free(x);
            return false;
        }
        sr_objective *o = &g->obj[g->n_obj++];
        o->text = g->text[slot];
        o->maximize = v->maximize;
        o->expr = x;
    } else {
        if (g->n_lim == 32) {
            sr_expr_free(x);
            return false;
        }
        g->lim[g->n_lim].text = g->text[slot];
        g->lim[g->n_lim++].expr = x;
    }
    return true;
}

bool drv_goals_read(const section *se, drv_goals *g, char *err, size_t cap) {
    memset(g, 0, sizeof *g);
    for (int i = 0; i < se->n; i++) {
        bool obj = !strcmp(se->keys[i], "objective");
        if (!obj && strcmp(se->keys[i], "require")) continue;
        const cfg_val *v = se->vals[i];
        int n = v->k == CV_LIST ? v->n : 1;
        for (int j = 0; j < n; j++) {
            const cfg_val *x = v->k == CV_LIST ? v->items[j] : v;
            const ast_expr *raw = v->k == CV_LIST
                                      ? (se->exprs[i]->kind == E_LIST ? se->exprs[i]->items.v[j] : NULL)
                                      : se->exprs[i];
            if (!add_goal(g, x, obj, raw, err, cap)) return false;
        }
    }
    return true;
}

void drv_goals_free(drv_goals *g) {
    for (int i = 0; i < g->n_obj; i++) sr_expr_free((sr_expr *)g->obj[i].expr);
    for (int i = 0; i < g->n_lim; i++) sr_expr_free((sr_expr *)g->lim[i].expr);
}
