/* sr_report.c: `nasc report`: the leaderboard or Pareto front of a store,
 * and the search drawn as SVG (every trial and the best so far against
 * trials and against wall time, the labelled Pareto front of the first two
 * objectives, decision importance), alone or inline in an HTML page with a
 * sortable table.  The SVG is written by hand so the tool needs no plotting
 * library; it is plain SVG 1.1. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "sr_util.h"

typedef struct rp_obj {
    char name[128];
    int maximize;
} rp_obj;

typedef struct rp_data {
    sr_run_row run;
    rp_obj obj[64];
    int k;
    sr_trial_row *t;
    int n;
    int *done; /* indices of done trials with objectives */
    int nd;
    double *raw, *sgn;  /* nd x k */
    int64_t counts[4];  /* done failed infeasible running */
    int64_t cached;     /* done trials answered by the result cache */
    sr_retrain_row *re; /* the stand-alone retraining of the top points (search.retrain) */
    int nre;
} rp_data;

static void rp_free(rp_data *d) {
    sr_run_row_free(&d->run);
    sr_trials_free(d->t, d->n);
    sr_retrain_free(d->re, d->nre);
    free(d->done);
    free(d->raw);
    free(d->sgn);
}

static int rp_objectives(rp_data *d, char *err, size_t cap) {
    json_value *j = d->run.objectives ? sr_json_parse(d->run.objectives, err, cap) : NULL;
    if (!j) {
        err_set(err, cap, "store: unreadable objectives");
        return -1;
    }
    for (size_t i = 0; j->type == JSON_ARRAY && i < j->n && d->k < 64; i++) {
        const json_value *nm = json_get(&j->items[i], "name"), *mx = json_get(&j->items[i], "maximize");
        sr_copy(d->obj[d->k].name, sizeof d->obj[0].name, nm && nm->type == JSON_STRING ? nm->str : "?");
        d->obj[d->k].maximize = mx ? (int)json_number(mx, 0) : 1;
        d->k++;
    }
    json_free(j);
    if (!d->k) {
        err_set(err, cap, "store: no objectives recorded");
        return -1;
    }
    return 0;
}

static int rp_row_objs(rp_data *d, const char *json, double *raw, double *sgn) {
    char e[80];
    json_value *j = json ? sr_json_parse(json, e, sizeof e) : NULL;
    if (!j) return -1;
    int rc = j->type == JSON_ARRAY && j->n == (size_t)d->k ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < j->n; i++) {
        if (j->items[i].type != JSON_NUMBER) {
            rc = -1;
            break;
        }
        raw[i] = j->items[i].number;
        sgn[i] = d->obj[i].maximize ? raw[i] : -raw[i];
    }
    json_free(j);
    return rc;
}

static int rp_load(const char *db, rp_data *d, char *err, size_t cap) {
    memset(d, 0, sizeof *d);
    sr_store *s;
    if (sr_store_open(db, SR_STORE_READONLY, &s, err, cap)) return -1;
    int rc = sr_store_get_run(s, &d->run, err, cap);
    if (!rc) rc = sr_store_trials(s, &d->t, &d->n, err, cap);
    if (!rc) rc = sr_store_retrain_rows(s, &d->re, &d->nre, err, cap);
    sr_store_close(s);
    if (!rc) rc = rp_objectives(d, err, cap);
    if (rc) {
        rp_free(d);
        return -1;
    }
    size_t n = (size_t)(d->n ? d->n : 1);
    d->done = calloc(n, sizeof *d->done);
    d->raw = calloc(n * (size_t)d->k, sizeof *d->raw);
    d->sgn = calloc(n * (size_t)d->k, sizeof *d->sgn);
    if (!d->done || !d->raw || !d->sgn) {
        rp_free(d);
        err_set(err, cap, "out of memory");
        return -1;
    }
    for (int i = 0; i < d->n; i++) {
        const char *st = d->t[i].status;
        d->counts[!strcmp(st, "done") ? 0 : !strcmp(st, "failed") ? 1 : !strcmp(st, "infeasible") ? 2 : 3]++;
        if (strcmp(st, "done")) continue;
        d->cached += !strcmp(d->t[i].answered, "cache");
        size_t o = (size_t)d->nd * (size_t)d->k;
        if (rp_row_objs(d, d->t[i].objectives, d->raw + o, d->sgn + o)) continue;
        d->done[d->nd++] = i;
    }
    return 0;
}

/* Sorting done trials by the first signed objective, best first. */
static const rp_data *g_sort;
static int rp_cmp(const void *a, const void *b) {
    int i = *(const int *)a, j = *(const int *)b;
    double x = g_sort->sgn[(size_t)i * (size_t)g_sort->k], y = g_sort->sgn[(size_t)j * (size_t)g_sort->k];
    if (x != y) return x > y ? -1 : 1;
    return g_sort->t[g_sort->done[i]].id < g_sort->t[g_sort->done[j]].id ? -1 : 1;
}

/* The rows to show: the top `top` (one objective) or the front (several). */
static int rp_rows(const rp_data *d, int top, int *rows) {
    int m = 0;
    unsigned char *front = NULL;
    if (d->k > 1 && d->nd) {
        front = calloc((size_t)d->nd, 1);
        if (!front) return 0;
        sr_pareto_front(d->sgn, d->nd, d->k, front);
    }
    for (int i = 0; i < d->nd; i++) /* a cached trial repeats the one it was answered from */
        if ((!front || front[i]) && strcmp(d->t[d->done[i]].answered, "cache")) rows[m++] = i;
    free(front);
    g_sort = d;
    qsort(rows, (size_t)m, sizeof *rows, rp_cmp);
    int cap = top > 0 ? top : d->k == 1 ? 10 : m; /* by default the top 10, or the whole front */
    if (m > cap) m = cap;
    return m;
}

/* ----- the retrained points: search score against stand-alone accuracy ----- */

/* The done trial of id (its index in d->done), or -1. */
static int rp_done_of(const rp_data *d, int64_t id) {
    for (int i = 0; i < d->nd; i++)
        if (d->t[d->done[i]].id == id) return i;
    return -1;
}

static double metric_of(const char *json, const char *name) {
    sr_metrics m;
    sr_metrics_init(&m);
    char e[80];
    double v = NAN;
    if (json && !sr_metrics_from_json(json, &m, e, sizeof e) && !sr_metrics_get(&m, name, &v)) v = NAN;
    sr_metrics_free(&m);
    return v;
}

typedef struct rp_retrain {
    int n;                  /* retrained points with both figures */
    double tau, rho;        /* between the search's first objective and the stand-alone accuracy */
    double *search, *alone; /* per row of d->re (NAN when missing) */
} rp_retrain;

static void rp_retrain_stats(const rp_data *d, rp_retrain *r) {
    memset(r, 0, sizeof *r);
    r->tau = r->rho = NAN;
    size_t n = (size_t)(d->nre ? d->nre : 1);
    r->search = calloc(n, sizeof(double));
    r->alone = calloc(n, sizeof(double));
    double *x = calloc(n, sizeof(double)), *y = calloc(n, sizeof(double));
    if (!r->search || !r->alone || !x || !y) {
        free(x);
        free(y);
        return;
    }
    for (int i = 0; i < d->nre; i++) {
        int k = rp_done_of(d, d->re[i].trial);
        r->search[i] = k >= 0 ? d->sgn[(size_t)k * (size_t)d->k] : NAN;
        r->alone[i] = !strcmp(d->re[i].status, "done") ? metric_of(d->re[i].metrics, "accuracy") : NAN;
        if (isfinite(r->search[i]) && isfinite(r->alone[i])) x[r->n] = r->search[i], y[r->n++] = r->alone[i];
        if (k >= 0 && !d->obj[0].maximize) r->search[i] = -r->search[i]; /* shown as stored */
    }
    r->rho = sr_spearman(x, y, r->n);
    r->tau = sr_kendall(x, y, r->n);
    free(x);
    free(y);
}

static void rp_retrain_free(rp_retrain *r) {
    free(r->search);
    free(r->alone);
}

static void json_num_or_null(strbuf *b, double v) {
    if (isfinite(v))
        json_write_number(b, v);
    else
        strbuf_puts(b, "null");
}

static void rp_retrain_json(const rp_data *d, strbuf *b) {
    if (!d->nre) return;
    rp_retrain r;
    rp_retrain_stats(d, &r);
    strbuf_puts(b, "{\"objective\": ");
    json_write_str(b, d->obj[0].name);
    strbuf_puts(b, ", \"points\": [");
    for (int i = 0; i < d->nre && r.search; i++) {
        const sr_retrain_row *w = &d->re[i];
        strbuf_printf(b, "%s{\"trial\": %lld, \"rank\": %d, \"status\": ", i ? ", " : "", (long long)w->trial,
                      w->rank);
        json_write_str(b, w->status);
        strbuf_puts(b, ", \"search\": ");
        json_num_or_null(b, r.search[i]);
        strbuf_puts(b, ", \"standalone_accuracy\": ");
        json_num_or_null(b, r.alone[i]);
        strbuf_printf(b, ", \"metrics\": %s", w->metrics ? w->metrics : "{}");
        if (w->error) {
            strbuf_puts(b, ", \"error\": ");
            json_write_str(b, w->error);
        }
        if (w->weights) {
            strbuf_puts(b, ", \"weights\": ");
            json_write_str(b, w->weights);
        }
        strbuf_puts(b, "}");
    }
    strbuf_printf(b, "], \"n\": %d, \"kendall_tau\": ", r.n);
    json_num_or_null(b, r.tau);
    strbuf_puts(b, ", \"spearman_rho\": ");
    json_num_or_null(b, r.rho);
    strbuf_puts(b, "}");
    rp_retrain_free(&r);
}

static void rp_retrain_text(const rp_data *d, FILE *f) {
    if (!d->nre) return;
    rp_retrain r;
    rp_retrain_stats(d, &r);
    if (!r.search) return;
    fprintf(f, "retrained stand-alone (the top %d by %s):\n", d->nre, d->obj[0].name);
    char head[160];
    snprintf(head, sizeof head, "%s (search)", d->obj[0].name);
    int w = (int)strlen(head) < 14 ? 14 : (int)strlen(head);
    fprintf(f, "%4s %7s %*s %20s\n", "rank", "trial", w, head, "stand-alone accuracy");
    for (int i = 0; i < d->nre; i++) {
        const sr_retrain_row *x = &d->re[i];
        fprintf(f, "%4d %7lld %*.6g ", x->rank, (long long)x->trial, w, r.search[i]);
        if (!strcmp(x->status, "done"))
            fprintf(f, "%20.6g\n", r.alone[i]);
        else if (!strcmp(x->status, "running"))
            fprintf(f, "%20s\n", "(unfinished)");
        else
            fprintf(f, "%20s  %.200s\n", "failed", x->error ? x->error : "");
    }
    if (r.n >= 2 && (isfinite(r.tau) || isfinite(r.rho)))
        fprintf(f,
                "ranking: Kendall tau %.3f, Spearman rho %.3f between the search's %s and the stand-alone "
                "accuracy (%d points)\n",
                r.tau, r.rho, d->obj[0].name, r.n);
    else
        fprintf(f, "ranking: no rank correlation (%d point%s with both figures, or a constant side)\n", r.n,
                r.n == 1 ? "" : "s");
    rp_retrain_free(&r);
}

static void rp_print_json(const rp_data *d, FILE *f, const int *rows, int m) {
    strbuf b = {0};
    strbuf_puts(&b, "{\"space\": ");
    json_write_str(&b, d->run.space);
    strbuf_puts(&b, ", \"strategy\": ");
    json_write_str(&b, d->run.strategy);
    strbuf_printf(&b,
                  ", \"trials\": {\"done\": %lld, \"failed\": %lld, \"infeasible\": %lld, \"running\": %lld, "
                  "\"cached\": %lld}",
                  (long long)d->counts[0], (long long)d->counts[1], (long long)d->counts[2],
                  (long long)d->counts[3], (long long)d->cached);
    strbuf_printf(&b, ", \"objectives\": %s, \"%s\": [", d->run.objectives,
                  d->k > 1 ? "front" : "leaderboard");
    for (int r = 0; r < m; r++) {
        const sr_trial_row *t = &d->t[d->done[rows[r]]];
        strbuf_printf(&b, "%s{\"trial\": %lld, \"objectives\": %s, \"metrics\": %s, \"point\": %s}",
                      r ? ", " : "", (long long)t->id, t->objectives, t->metrics ? t->metrics : "{}",
                      t->point);
    }
    strbuf_puts(&b, "]");
    if (m > 0) {
        const sr_trial_row *t = &d->t[d->done[rows[0]]];
        strbuf_printf(&b, ", \"best\": {\"trial\": %lld, \"metrics\": %s, \"point\": %s}", (long long)t->id,
                      t->metrics ? t->metrics : "{}", t->point);
    }
    if (d->nre) {
        strbuf_puts(&b, ", \"retrain\": ");
        rp_retrain_json(d, &b);
    }
    strbuf_puts(&b, "}");
    if (b.data) fprintf(f, "%s\n", b.data);
    strbuf_free(&b);
}

static void rp_print_text(const rp_data *d, FILE *f, const int *rows, int m) {
    char cached[64] = "";
    if (d->cached)
        snprintf(cached, sizeof cached, " (%lld done answered by the cache)", (long long)d->cached);
    fprintf(f,
            "search of %s with %s: %lld trials: %lld done, %lld failed, %lld infeasible, %lld unfinished%s\n",
            d->run.space ? d->run.space : "?", d->run.strategy ? d->run.strategy : "?", (long long)d->n,
            (long long)d->counts[0], (long long)d->counts[1], (long long)d->counts[2],
            (long long)d->counts[3], cached);
    if (!m) {
        fprintf(f, "no trial succeeded\n");
        return;
    }
    fprintf(f, "%s\n", d->k > 1 ? "Pareto front:" : "leaderboard:");
    /* each column as wide as its objective's name (^ maximised, v minimised), never cut */
    int wid[64];
    fprintf(f, "%4s %7s", "rank", "trial");
    for (int i = 0; i < d->k; i++) {
        int len = (int)strlen(d->obj[i].name) + 1;
        wid[i] = len > 15 ? len : 15;
        fprintf(f, " %*s%s", wid[i] - 1, d->obj[i].name, d->obj[i].maximize ? "^" : "v");
    }
    fprintf(f, "  point\n");
    for (int r = 0; r < m; r++) {
        const sr_trial_row *t = &d->t[d->done[rows[r]]];
        fprintf(f, "%4d %7lld", r + 1, (long long)t->id);
        for (int i = 0; i < d->k; i++)
            fprintf(f, " %*.6g", wid[i], d->raw[(size_t)rows[r] * (size_t)d->k + (size_t)i]);
        fprintf(f, "  %.200s\n", t->point);
    }
    const sr_trial_row *b = &d->t[d->done[rows[0]]];
    fprintf(f, "best: trial %lld %s\n", (long long)b->id, b->metrics ? b->metrics : "{}");
    rp_retrain_text(d, f);
}

int sr_report_print(const char *db_path, FILE *f, int top, int json, char *err, size_t cap) {
    rp_data d;
    if (rp_load(db_path, &d, err, cap)) return -1;
    int *rows = calloc((size_t)(d.nd ? d.nd : 1), sizeof *rows);
    if (!rows) {
        rp_free(&d);
        err_set(err, cap, "out of memory");
        return -1;
    }
    int m = rp_rows(&d, top, rows);
    if (json)
        rp_print_json(&d, f, rows, m);
    else
        rp_print_text(&d, f, rows, m);
    free(rows);
    rp_free(&d);
    return 0;
}

char *sr_report_retrain_json(const char *db_path, char *err, size_t cap) {
    rp_data d;
    if (rp_load(db_path, &d, err, cap)) return NULL;
    strbuf b = {0};
    if (!d.nre) {
        rp_free(&d);
        return NULL;
    }
    rp_retrain_json(&d, &b);
    rp_free(&d);
    return strbuf_take(&b);
}

int sr_report_ranked(const char *db_path, int k, int64_t *ids, int *n, char *err, size_t cap) {
    rp_data d;
    *n = 0;
    if (rp_load(db_path, &d, err, cap)) return -1;
    int *rows = calloc((size_t)(d.nd ? d.nd : 1), sizeof *rows), m = 0;
    if (!rows) {
        rp_free(&d);
        err_set(err, cap, "out of memory");
        return -1;
    }
    for (int i = 0; i < d.nd; i++)
        if (strcmp(d.t[d.done[i]].answered, "cache")) rows[m++] = i;
    g_sort = &d;
    qsort(rows, (size_t)m, sizeof *rows, rp_cmp); /* every done trial, by the first objective */
    for (int r = 0; r < m && *n < k; r++) {
        const sr_trial_row *t = &d.t[d.done[rows[r]]];
        bool seen = false; /* the same point evaluated twice counts once */
        for (int q = 0; q < *n && !seen; q++) {
            int j = rp_done_of(&d, ids[q]);
            seen = j >= 0 && !strcmp(d.t[d.done[j]].point, t->point);
        }
        if (!seen) ids[(*n)++] = t->id;
    }
    free(rows);
    rp_free(&d);
    return 0;
}

/* ---------------- SVG ---------------- */

/* The unit a metric is reported in, for axis labels ("" when it has none). */
static const char *rp_unit(const char *metric) {
    const metric_info *m = metric_find(metric);
    return m ? m->unit : "";
}

static void rp_label(const char *metric, const char *prefix, char *buf, size_t cap) {
    const char *u = rp_unit(metric);
    snprintf(buf, cap, "%s%s%s%s%s", prefix, metric, *u ? " (" : "", u, *u ? ")" : "");
}

typedef struct plot {
    double x0, y0, w, h; /* the panel's inner area in SVG units */
    double xmin, xmax, ymin, ymax, xstep, ystep;
} plot;

static double px(const plot *p, double x) { return p->x0 + (x - p->xmin) / (p->xmax - p->xmin) * p->w; }
static double py(const plot *p, double y) {
    return p->y0 + p->h - (y - p->ymin) / (p->ymax - p->ymin) * p->h;
}

/* A step of 1, 2 or 5 times a power of ten giving about 5 ticks over span. */
static double nice_step(double span) {
    if (!(span > 0) || !isfinite(span)) return 1;
    double raw = span / 5, mag = pow(10, floor(log10(raw))), f = raw / mag;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

/* Nice bounds holding [lo, hi]: from zero when from_zero, else from the
 * data's range, rounded out to whole steps. */
static void nice_range(double lo, double hi, int from_zero, double *a, double *b, double *step) {
    if (from_zero && lo > 0) lo = 0;
    if (!(hi > lo)) {
        double d = lo != 0 ? fabs(lo) * 0.1 : 1;
        lo -= d;
        hi += d;
        if (from_zero && lo < 0 && hi - d >= 0) lo = 0;
    }
    *step = nice_step(hi - lo);
    *a = floor(lo / *step + 1e-9) * *step;
    *b = ceil(hi / *step - 1e-9) * *step;
    if (*b <= *a) *b = *a + *step;
}

static void svg_esc(strbuf *b, const char *text) {
    for (const char *c = text; *c; c++) {
        if (*c == '<')
            strbuf_puts(b, "&lt;");
        else if (*c == '>')
            strbuf_puts(b, "&gt;");
        else if (*c == '&')
            strbuf_puts(b, "&amp;");
        else if (*c == '"')
            strbuf_puts(b, "&quot;");
        else
            strbuf_append(b, c, 1);
    }
}

static void svg_text(strbuf *b, double x, double y, const char *anchor, const char *text, int rotate) {
    strbuf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\"", x, y, anchor);
    if (rotate) strbuf_printf(b, " transform=\"rotate(-90 %.1f %.1f)\"", x, y);
    strbuf_puts(b, ">");
    svg_esc(b, text);
    strbuf_puts(b, "</text>\n");
}

static void tick_label(double v, double step, char *buf, size_t cap) {
    if (fabs(v) < step * 1e-6) v = 0;
    int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    snprintf(buf, cap, "%.*f", dec > 6 ? 6 : dec, v);
}

/* The frame, grid, ticks and labels of a panel; the axes' ranges are also
 * written as data attributes for tools (and the tests) to read. */
static void svg_axes(strbuf *b, const plot *p, const char *id, const char *title, const char *xl,
                     const char *yl) {
    strbuf_printf(b,
                  "<g class=\"panel\" id=\"%s\" data-xmin=\"%.17g\" data-xmax=\"%.17g\" data-ymin=\"%.17g\" "
                  "data-ymax=\"%.17g\">\n",
                  id, p->xmin, p->xmax, p->ymin, p->ymax);
    strbuf_printf(
        b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#333\"/>\n",
        p->x0, p->y0, p->w, p->h);
    strbuf_puts(b, "<g font-weight=\"bold\">");
    svg_text(b, p->x0 + p->w / 2, p->y0 - 10, "middle", title, 0);
    strbuf_puts(b, "</g>\n");
    svg_text(b, p->x0 + p->w / 2, p->y0 + p->h + 34, "middle", xl, 0);
    svg_text(b, p->x0 - 50, p->y0 + p->h / 2, "middle", yl, 1);
    char t[48];
    for (double v = p->xmin; v <= p->xmax + p->xstep * 1e-6; v += p->xstep) {
        tick_label(v, p->xstep, t, sizeof t);
        svg_text(b, px(p, v), p->y0 + p->h + 15, "middle", t, 0);
        strbuf_printf(
            b, "<line class=\"xtick\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>\n",
            px(p, v), p->y0, px(p, v), p->y0 + p->h);
    }
    for (double v = p->ymin; p->ystep <= p->ymax - p->ymin && v <= p->ymax + p->ystep * 1e-6; v += p->ystep) {
        tick_label(v, p->ystep, t, sizeof t);
        svg_text(b, p->x0 - 6, py(p, v) + 4, "end", t, 0);
        strbuf_printf(
            b, "<line class=\"ytick\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>\n",
            p->x0, py(p, v), p->x0 + p->w, py(p, v));
    }
}

/* Trial i's first objective (raw) when it is done, else NAN. */
static double rp_value(const rp_data *d, int row, const int *slot) {
    return slot[row] >= 0 ? d->raw[(size_t)slot[row] * (size_t)d->k] : NAN;
}

/* Every trial as a mark (done: a dot, cached: a ring, failed: a red cross
 * and infeasible: an orange diamond on the bottom edge) and the best-so-far
 * step line of the first objective, against trials or wall time. */
static void svg_progress(strbuf *b, const rp_data *d, const int *slot, double ox, double oy, int by_time) {
    plot p = {ox + 70, oy + 40, 330, 210, 0, 1, 0, 1, 1, 1};
    double tmax = 0, lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < d->n; i++) {
        const sr_trial_row *t = &d->t[i];
        double x = by_time ? (t->finished > 0 ? t->finished : t->started) - d->run.started : (double)t->id;
        if (x > tmax) tmax = x;
        double v = rp_value(d, i, slot);
        if (isfinite(v)) {
            if (v < lo) lo = v;
            if (v > hi) hi = v;
        }
    }
    double scale = by_time && tmax > 600 ? 60 : 1; /* minutes for long searches */
    nice_range(0, tmax / scale, 1, &p.xmin, &p.xmax, &p.xstep);
    if (!isfinite(lo)) lo = hi = 0;
    nice_range(lo, hi, 0, &p.ymin, &p.ymax, &p.ystep);
    char yl[200];
    rp_label(d->obj[0].name, "", yl, sizeof yl);
    svg_axes(b, &p, by_time ? "best-vs-time" : "best-vs-trials",
             by_time ? "best so far against wall time" : "best so far against trials",
             by_time ? (scale > 1 ? "wall time since the start (min)" : "wall time since the start (s)")
                     : "trial (in the order asked)",
             yl);
    strbuf puts = {0}, line = {0};
    double best = NAN, lastx = 0;
    int first = 1;
    for (int i = 0; i < d->n; i++) {
        const sr_trial_row *t = &d->t[i];
        double x =
            (by_time ? (t->finished > 0 ? t->finished : t->started) - d->run.started : (double)t->id) / scale;
        double v = rp_value(d, i, slot), X = px(&p, x);
        if (!strcmp(t->status, "failed") || !strcmp(t->status, "infeasible")) {
            int failed = t->status[0] == 'f';
            double Y = p.y0 + p.h;
            if (failed)
                strbuf_printf(&puts,
                              "<path class=\"failed\" d=\"M%.1f %.1fl6 6m0 -6l-6 6\" stroke=\"#d62728\"/>\n",
                              X - 3, Y - 3);
            else
                strbuf_printf(
                    &puts, "<path class=\"infeasible\" d=\"M%.1f %.1fl4 4l-4 4l-4 -4z\" fill=\"#ff7f0e\"/>\n",
                    X, Y - 4);
            continue;
        }
        if (!isfinite(v)) continue;
        int cached = !strcmp(t->answered, "cache");
        strbuf_printf(&puts,
                      "<circle class=\"%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" %s><title>trial %lld: "
                      "%.6g</title></circle>\n",
                      cached ? "cached" : "done", X, py(&p, v),
                      cached ? "fill=\"none\" stroke=\"#888\"" : "fill=\"#888\"", (long long)t->id, v);
        double sv = d->obj[0].maximize ? v : -v;
        if (first || sv > best) {
            if (!first) strbuf_printf(&line, "%.1f,%.1f ", X, py(&p, d->obj[0].maximize ? best : -best));
            best = sv;
            strbuf_printf(&line, "%.1f,%.1f ", X, py(&p, v));
            first = 0;
        }
        lastx = X;
    }
    if (!first) {
        strbuf_printf(&line, "%.1f,%.1f", p.x0 + p.w > lastx ? lastx : p.x0 + p.w,
                      py(&p, d->obj[0].maximize ? best : -best));
        strbuf_printf(
            b,
            "<polyline class=\"best\" fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"%s\"/>\n",
            line.data);
    }
    if (puts.data) strbuf_puts(b, puts.data);
    strbuf_free(&puts);
    strbuf_free(&line);
    strbuf_puts(b, "</g>\n");
}

static const rp_data *g_front;
static int front_cmp(const void *a, const void *b) {
    double x = g_front->raw[(size_t) * (const int *)a * (size_t)g_front->k],
           y = g_front->raw[(size_t) * (const int *)b * (size_t)g_front->k];
    return x < y ? -1 : x > y;
}

/* The first two objectives of every done trial, the front joined in order
 * of the first and labelled with its trial ids. */
static void svg_pareto(strbuf *b, const rp_data *d, double ox, double oy) {
    plot p = {ox + 70, oy + 40, 770, 210, 0, 1, 0, 1, 1, 1};
    int n = d->nd, k = d->k, m = 0;
    unsigned char *front = calloc((size_t)(n ? n : 1), 1);
    int *fr = calloc((size_t)(n ? n : 1), sizeof *fr);
    if (!front || !fr) {
        free(front);
        free(fr);
        return;
    }
    sr_pareto_front(d->sgn, n, k, front);
    double xl = INFINITY, xh = -INFINITY, yl = INFINITY, yh = -INFINITY;
    for (int i = 0; i < n; i++) {
        double x = d->raw[(size_t)i * (size_t)k], y = d->raw[(size_t)i * (size_t)k + 1];
        xl = fmin(xl, x), xh = fmax(xh, x), yl = fmin(yl, y), yh = fmax(yh, y);
        if (front[i]) fr[m++] = i;
    }
    if (!n) xl = xh = yl = yh = 0;
    nice_range(xl, xh, 0, &p.xmin, &p.xmax, &p.xstep);
    nice_range(yl, yh, 0, &p.ymin, &p.ymax, &p.ystep);
    char lx[200], ly[200];
    rp_label(d->obj[0].name, d->obj[0].maximize ? "maximize " : "minimize ", lx, sizeof lx);
    rp_label(d->obj[1].name, d->obj[1].maximize ? "maximize " : "minimize ", ly, sizeof ly);
    svg_axes(b, &p, "pareto", k > 2 ? "Pareto front (first two objectives)" : "Pareto front", lx, ly);
    for (int i = 0; i < n; i++)
        if (!front[i])
            strbuf_printf(b,
                          "<circle class=\"dominated\" cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"#bbb\"/>\n",
                          px(&p, d->raw[(size_t)i * (size_t)k]), py(&p, d->raw[(size_t)i * (size_t)k + 1]));
    g_front = d;
    qsort(fr, (size_t)m, sizeof *fr, front_cmp);
    if (m > 1) {
        strbuf_puts(
            b, "<polyline class=\"front\" fill=\"none\" stroke=\"#d62728\" stroke-width=\"1.5\" points=\"");
        for (int j = 0; j < m; j++)
            strbuf_printf(b, "%.1f,%.1f ", px(&p, d->raw[(size_t)fr[j] * (size_t)k]),
                          py(&p, d->raw[(size_t)fr[j] * (size_t)k + 1]));
        strbuf_puts(b, "\"/>\n");
    }
    double lx0 = 0, ly0 = 0;
    for (int j = 0; j < m; j++) {
        double X = px(&p, d->raw[(size_t)fr[j] * (size_t)k]),
               Y = py(&p, d->raw[(size_t)fr[j] * (size_t)k + 1]);
        char lab[32];
        snprintf(lab, sizeof lab, "#%lld", (long long)d->t[d->done[fr[j]]].id);
        strbuf_printf(b, "<circle class=\"front\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"#d62728\"/>\n", X,
                      Y);
        if (j == 0 || hypot(X - lx0, Y - ly0) > 22) { /* labels that would overlap are left out */
            svg_text(b, X + 6, Y - 6, "start", lab, 0);
            lx0 = X;
            ly0 = Y;
        }
    }
    strbuf_puts(b, "</g>\n");
    free(front);
    free(fr);
}

/* ----- decision importance ----- */

typedef struct rp_dec {
    char name[96];
    char val[24][64];
    double sum[24];
    int cnt[24], nv;
    int numeric, many; /* every value a number; more than 8 distinct values (then 4 bins) */
    double lo, hi;     /* numeric range */
    double spread;     /* max - min of the per-value means of the first objective */
    int best;          /* the value with the best mean */
} rp_dec;

static rp_dec *rp_find_dec(rp_dec *v, int *n, int cap, const char *name) {
    for (int i = 0; i < *n; i++)
        if (!strcmp(v[i].name, name)) return &v[i];
    if (*n == cap) return NULL;
    rp_dec *d = &v[(*n)++];
    memset(d, 0, sizeof *d);
    sr_copy(d->name, sizeof d->name, name);
    d->numeric = 1;
    d->lo = INFINITY, d->hi = -INFINITY;
    return d;
}

/* Adds trial r's objective under the value (or bin) of decision x. */
static void rp_dec_add(rp_dec *x, const char *val, double num, int is_num, double obj, int pass) {
    if (pass == 0) {
        x->numeric &= is_num;
        if (is_num) x->lo = fmin(x->lo, num), x->hi = fmax(x->hi, num);
    }
    char bin[64];
    if (pass == 1 && x->many) {
        int k = x->hi > x->lo ? (int)((num - x->lo) / (x->hi - x->lo) * 4) : 0;
        k = k > 3 ? 3 : k;
        double w = (x->hi - x->lo) / 4;
        snprintf(bin, sizeof bin, "%.3g-%.3g", x->lo + w * k, x->lo + w * (k + 1));
        val = bin;
    }
    int k = 0;
    while (k < x->nv && strcmp(x->val[k], val)) k++;
    if (k == x->nv) {
        if (x->nv == 24) {
            x->many = 1;
            return;
        }
        sr_copy(x->val[x->nv++], sizeof x->val[0], val);
    }
    x->sum[k] += obj;
    x->cnt[k]++;
}

/* Per decision, the mean of the first objective over the done trials for
 * each value it took (names, or numbers; a numeric decision of more than
 * 8 values, such as a float, in 4 equal bins of its range): the spread of
 * those means says how much the decision matters. */
static int rp_importance(const rp_data *d, rp_dec *v, int cap) {
    int n = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; pass == 1 && i < n; i++) {
            v[i].many = v[i].numeric && (v[i].many || v[i].nv > 8);
            if (v[i].many) {
                memset(v[i].sum, 0, sizeof v[i].sum);
                memset(v[i].cnt, 0, sizeof v[i].cnt);
                v[i].nv = 0;
            }
        }
        for (int r = 0; r < d->nd; r++) {
            char e[64];
            const sr_trial_row *t = &d->t[d->done[r]];
            json_value *j = sr_json_parse(t->point, e, sizeof e);
            if (!j) continue;
            const json_value *ds = json_get(j, "decisions");
            for (size_t c = 0; ds && ds->type == JSON_OBJECT && c < ds->n; c++) {
                const json_value *dv = &ds->items[c];
                rp_dec *x = rp_find_dec(v, &n, cap, ds->keys[c]);
                if (!x || (pass == 1 && !x->many)) continue;
                char val[64];
                snprintf(val, sizeof val, "%.*s", (int)(dv->end - dv->start), t->point + dv->start);
                rp_dec_add(x, val, json_number(dv, 0), dv->type == JSON_NUMBER,
                           d->raw[(size_t)r * (size_t)d->k], pass);
            }
            json_free(j);
        }
    }
    for (int i = 0; i < n; i++) {
        rp_dec *x = &v[i];
        double lo = INFINITY, hi = -INFINITY;
        x->best = 0;
        for (int k = 0; k < x->nv; k++) {
            double m = x->sum[k] / x->cnt[k];
            lo = fmin(lo, m), hi = fmax(hi, m);
            double bm = x->sum[x->best] / x->cnt[x->best];
            if (d->obj[0].maximize ? m > bm : m < bm) x->best = k;
        }
        x->spread = x->nv > 1 ? hi - lo : 0;
    }
    return n;
}

static int dec_cmp(const void *a, const void *b) {
    const rp_dec *x = a, *y = b;
    return x->spread > y->spread ? -1 : x->spread < y->spread;
}

static void svg_importance(strbuf *b, const rp_data *d, double ox, double oy) {
    rp_dec *v = calloc(64, sizeof *v);
    if (!v) return;
    int n = rp_importance(d, v, 64);
    qsort(v, (size_t)n, sizeof *v, dec_cmp);
    if (n > 12) n = 12;
    plot p = {ox + 330, oy + 40, 510, 210, 0, 1, 0, 1, 1, 1}; /* room for long labels */
    double hi = 0;
    for (int i = 0; i < n; i++) hi = fmax(hi, v[i].spread);
    nice_range(0, hi, 1, &p.xmin, &p.xmax, &p.xstep);
    p.ymin = 0, p.ymax = n ? n : 1, p.ystep = p.ymax + 1; /* no y ticks: one bar per decision */
    char xl[240];
    rp_label(d->obj[0].name, "spread of the mean ", xl, sizeof xl);
    svg_axes(b, &p, "importance", "decision importance", xl, "");
    double bh = p.h / (n ? n : 1);
    for (int i = 0; i < n; i++) {
        double y = p.y0 + bh * i;
        strbuf_printf(
            b,
            "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#2ca02c\"/>\n",
            p.x0, y + bh * 0.15, px(&p, v[i].spread) - p.x0, bh * 0.7);
        char lab[200];
        const char *bv = v[i].val[v[i].best];
        int q = bv[0] == '"'; /* a name: shown without its JSON quotes */
        snprintf(lab, sizeof lab, "%.40s (best %.*s)", v[i].name, (int)strlen(bv) - 2 * q, bv + q);
        svg_text(b, p.x0 - 4, y + bh / 2 + 4, "end", lab, 0);
    }
    strbuf_puts(b, "</g>\n");
    free(v);
}

/* slot[i]: the index into raw/sgn of trial row i, or -1 when not done. */
static int *rp_slots(const rp_data *d) {
    int *slot = malloc((size_t)(d->n ? d->n : 1) * sizeof *slot);
    if (!slot) return NULL;
    for (int i = 0; i < d->n; i++) slot[i] = -1;
    for (int r = 0; r < d->nd; r++) slot[d->done[r]] = r;
    return slot;
}

static char *rp_svg(const rp_data *d) {
    int *slot = rp_slots(d);
    if (!slot) return NULL;
    int rows = d->k > 1 ? 3 : 2; /* progress twice; the front (several objectives); importance */
    double W = 880, H = 310.0 * rows + 30;
    strbuf b = {0};
    strbuf_printf(&b,
                  "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%.0f\" height=\"%.0f\" "
                  "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"11\">\n",
                  W, H, W, H);
    strbuf_printf(&b, "<rect width=\"%.0f\" height=\"%.0f\" fill=\"white\"/>\n", W, H);
    char head[400];
    snprintf(
        head, sizeof head,
        "search of %s with %s: %d trials (%lld done, %lld of them cached; %lld failed, %lld infeasible, %lld "
        "running)",
        d->run.space ? d->run.space : "?", d->run.strategy ? d->run.strategy : "?", d->n,
        (long long)d->counts[0], (long long)d->cached, (long long)d->counts[1], (long long)d->counts[2],
        (long long)d->counts[3]);
    svg_text(&b, 10, 18, "start", head, 0);
    svg_text(&b, 10, 34, "start",
             "dot: done, ring: answered by the cache, red x: failed, orange diamond: infeasible", 0);
    svg_progress(&b, d, slot, 0, 30, 0);
    svg_progress(&b, d, slot, 440, 30, 1);
    if (d->k > 1) svg_pareto(&b, d, 0, 340);
    svg_importance(&b, d, 0, d->k > 1 ? 650 : 340);
    strbuf_puts(&b, "</svg>\n");
    free(slot);
    return strbuf_take(&b);
}

static int write_file(const char *path, const char *text, char *err, size_t cap) {
    FILE *f = fopen(path, "w");
    int rc = 0;
    if (!f || fputs(text, f) < 0) rc = -1;
    if (f && fclose(f)) rc = -1;
    if (rc) err_set(err, cap, "%s: cannot write the report", path);
    return rc;
}

int sr_report_svg(const char *db_path, const char *svg_path, char *err, size_t cap) {
    rp_data d;
    if (rp_load(db_path, &d, err, cap)) return -1;
    char *svg = rp_svg(&d);
    rp_free(&d);
    if (!svg) {
        err_set(err, cap, "out of memory");
        return -1;
    }
    strbuf b = {0};
    strbuf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    strbuf_puts(&b, svg);
    free(svg);
    char *text = strbuf_take(&b);
    int rc = text ? write_file(svg_path, text, err, cap) : (err_set(err, cap, "out of memory"), -1);
    free(text);
    return rc;
}

/* The HTML page: the SVG inline, then every trial in a table that sorts
 * by a click on a column's header. */
int sr_report_html(const char *db_path, const char *html_path, int top, char *err, size_t cap) {
    rp_data d;
    if (rp_load(db_path, &d, err, cap)) return -1;
    char *svg = rp_svg(&d);
    int *rows = calloc((size_t)(d.nd ? d.nd : 1), sizeof *rows);
    if (!svg || !rows) {
        free(svg);
        free(rows);
        rp_free(&d);
        err_set(err, cap, "out of memory");
        return -1;
    }
    strbuf b = {0};
    strbuf_puts(&b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>nasc report: ");
    svg_esc(&b, d.run.space ? d.run.space : "?");
    strbuf_puts(
        &b, "</title>\n<style>body{font-family:sans-serif;margin:1em}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:2px 6px;font-size:12px}th{cursor:pointer;background:#f4f4f4}"
            "td.n{text-align:right}</style></head><body>\n");
    strbuf_puts(&b, svg);
    int m = rp_rows(&d, top > 0 ? top : d.nd, rows);
    strbuf_printf(&b, "<h3>%s (%d)</h3>\n<table id=\"trials\"><thead><tr><th>rank</th><th>trial</th>",
                  d.k > 1 ? "Pareto front" : "leaderboard", m);
    for (int i = 0; i < d.k; i++) {
        strbuf_puts(&b, "<th>");
        svg_esc(&b, d.obj[i].name);
        strbuf_puts(&b, d.obj[i].maximize ? " &#8593;" : " &#8595;");
        strbuf_puts(&b, "</th>");
    }
    strbuf_puts(&b, "<th>answered</th><th>point</th></tr></thead><tbody>\n");
    for (int r = 0; r < m; r++) {
        const sr_trial_row *t = &d.t[d.done[rows[r]]];
        strbuf_printf(&b, "<tr><td class=\"n\">%d</td><td class=\"n\">%lld</td>", r + 1, (long long)t->id);
        for (int i = 0; i < d.k; i++)
            strbuf_printf(&b, "<td class=\"n\">%.6g</td>", d.raw[(size_t)rows[r] * (size_t)d.k + (size_t)i]);
        strbuf_printf(&b, "<td>%s</td><td>", t->answered[0] ? t->answered : "evaluator");
        svg_esc(&b, t->point);
        strbuf_puts(&b, "</td></tr>\n");
    }
    strbuf_puts(&b, "</tbody></table>\n<script>\n"
                    "document.querySelectorAll('#trials th').forEach(function (th, col) {\n"
                    "  th.addEventListener('click', function () {\n"
                    "    var body = th.closest('table').tBodies[0], rows = Array.from(body.rows);\n"
                    "    var up = th.dataset.up !== '1'; th.dataset.up = up ? '1' : '0';\n"
                    "    rows.sort(function (a, b) {\n"
                    "      var x = a.cells[col].textContent, y = b.cells[col].textContent;\n"
                    "      var nx = parseFloat(x), ny = parseFloat(y);\n"
                    "      var c = isNaN(nx) || isNaN(ny) ? x.localeCompare(y) : nx - ny;\n"
                    "      return up ? c : -c;\n"
                    "    });\n"
                    "    rows.forEach(function (r) { body.appendChild(r); });\n"
                    "  });\n"
                    "});\n</script>\n</body></html>\n");
    free(svg);
    free(rows);
    rp_free(&d);
    char *text = strbuf_take(&b);
    int rc = text ? write_file(html_path, text, err, cap) : (err_set(err, cap, "out of memory"), -1);
    free(text);
    return rc;
}
