/* sr_report.c: `nasc report`: the leaderboard or Pareto front of a store,
 * and SVG plots of the search (best-so-far against trials and against
 * time, and a Pareto scatter for several objectives).  The SVG is written
 * by hand so the tool needs no plotting library; it is plain SVG 1.1. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <math.h>
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
    double *raw, *sgn; /* nd x k */
    int64_t counts[4]; /* done failed infeasible running */
} rp_data;

static void rp_free(rp_data *d) {
    sr_run_row_free(&d->run);
    sr_trials_free(d->t, d->n);
    free(d->done);
    free(d->raw);
    free(d->sgn);
}

static int rp_objectives(rp_data *d, char *err, size_t cap) {
    sj_doc j;
    if (!d->run.objectives || sj_parse(d->run.objectives, &j, err, cap)) {
        sr_errf(err, cap, "store: unreadable objectives");
        return -1;
    }
    for (int c = j.v[0].kind == SJ_ARR ? j.v[0].child : -1; c >= 0 && d->k < 64; c = j.v[c].next) {
        int nm = sj_get(&j, c, "name"), mx = sj_get(&j, c, "maximize");
        sr_copy(d->obj[d->k].name, sizeof d->obj[0].name, nm >= 0 && j.v[nm].str ? j.v[nm].str : "?");
        d->obj[d->k].maximize = mx >= 0 ? (int)j.v[mx].num : 1;
        d->k++;
    }
    sj_free(&j);
    if (!d->k) {
        sr_errf(err, cap, "store: no objectives recorded");
        return -1;
    }
    return 0;
}

static int rp_row_objs(rp_data *d, const char *json, double *raw, double *sgn) {
    sj_doc j;
    char e[64];
    if (!json || sj_parse(json, &j, e, sizeof e)) return -1;
    int i = 0, rc = j.v[0].kind == SJ_ARR && j.v[0].count == d->k ? 0 : -1;
    for (int c = rc ? -1 : j.v[0].child; c >= 0; c = j.v[c].next, i++) {
        if (j.v[c].kind != SJ_NUM) {
            rc = -1;
            break;
        }
        raw[i] = j.v[c].num;
        sgn[i] = d->obj[i].maximize ? raw[i] : -raw[i];
    }
    sj_free(&j);
    return rc;
}

static int rp_load(const char *db, rp_data *d, char *err, size_t cap) {
    memset(d, 0, sizeof *d);
    sr_store *s;
    if (sr_store_open(db, SR_STORE_READONLY, &s, err, cap)) return -1;
    int rc = sr_store_get_run(s, &d->run, err, cap);
    if (!rc) rc = sr_store_trials(s, &d->t, &d->n, err, cap);
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
        sr_errf(err, cap, "out of memory");
        return -1;
    }
    for (int i = 0; i < d->n; i++) {
        const char *st = d->t[i].status;
        d->counts[!strcmp(st, "done") ? 0 : !strcmp(st, "failed") ? 1 : !strcmp(st, "infeasible") ? 2 : 3]++;
        if (strcmp(st, "done")) continue;
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
    for (int i = 0; i < d->nd; i++)
        if (!front || front[i]) rows[m++] = i;
    free(front);
    g_sort = d;
    qsort(rows, (size_t)m, sizeof *rows, rp_cmp);
    if (d->k == 1 && top > 0 && m > top) m = top;
    return m;
}

static void rp_print_json(const rp_data *d, FILE *f, const int *rows, int m) {
    sr_buf b = {0};
    sr_buf_puts(&b, "{\"space\": ");
    sr_buf_json_str(&b, d->run.space);
    sr_buf_puts(&b, ", \"strategy\": ");
    sr_buf_json_str(&b, d->run.strategy);
    sr_buf_printf(
        &b, ", \"trials\": {\"done\": %lld, \"failed\": %lld, \"infeasible\": %lld, \"running\": %lld}",
        (long long)d->counts[0], (long long)d->counts[1], (long long)d->counts[2], (long long)d->counts[3]);
    sr_buf_printf(&b, ", \"objectives\": %s, \"%s\": [", d->run.objectives,
                  d->k > 1 ? "front" : "leaderboard");
    for (int r = 0; r < m; r++) {
        const sr_trial_row *t = &d->t[d->done[rows[r]]];
        sr_buf_printf(&b, "%s{\"trial\": %lld, \"objectives\": %s, \"metrics\": %s, \"point\": %s}",
                      r ? ", " : "", (long long)t->id, t->objectives, t->metrics ? t->metrics : "{}",
                      t->point);
    }
    sr_buf_puts(&b, "]");
    if (m > 0) {
        const sr_trial_row *t = &d->t[d->done[rows[0]]];
        sr_buf_printf(&b, ", \"best\": {\"trial\": %lld, \"metrics\": %s, \"point\": %s}", (long long)t->id,
                      t->metrics ? t->metrics : "{}", t->point);
    }
    sr_buf_puts(&b, "}");
    if (b.p) fprintf(f, "%s\n", b.p);
    sr_buf_free(&b);
}

static void rp_print_text(const rp_data *d, FILE *f, const int *rows, int m) {
    fprintf(
        f, "search of %s with %s: %lld trials: %lld done, %lld failed, %lld infeasible, %lld unfinished\n",
        d->run.space ? d->run.space : "?", d->run.strategy ? d->run.strategy : "?", (long long)d->n,
        (long long)d->counts[0], (long long)d->counts[1], (long long)d->counts[2], (long long)d->counts[3]);
    if (!m) {
        fprintf(f, "no trial succeeded\n");
        return;
    }
    fprintf(f, "%s\n", d->k > 1 ? "Pareto front:" : "leaderboard:");
    fprintf(f, "%4s %7s", "rank", "trial");
    for (int i = 0; i < d->k; i++) fprintf(f, " %14.14s%s", d->obj[i].name, d->obj[i].maximize ? "^" : "v");
    fprintf(f, "  point\n");
    for (int r = 0; r < m; r++) {
        const sr_trial_row *t = &d->t[d->done[rows[r]]];
        fprintf(f, "%4d %7lld", r + 1, (long long)t->id);
        for (int i = 0; i < d->k; i++)
            fprintf(f, " %15.6g", d->raw[(size_t)rows[r] * (size_t)d->k + (size_t)i]);
        fprintf(f, "  %.200s\n", t->point);
    }
    const sr_trial_row *b = &d->t[d->done[rows[0]]];
    fprintf(f, "best: trial %lld %s\n", (long long)b->id, b->metrics ? b->metrics : "{}");
}

int sr_report_print(const char *db_path, FILE *f, int top, int json, char *err, size_t cap) {
    rp_data d;
    if (rp_load(db_path, &d, err, cap)) return -1;
    int *rows = calloc((size_t)(d.nd ? d.nd : 1), sizeof *rows);
    if (!rows) {
        rp_free(&d);
        sr_errf(err, cap, "out of memory");
        return -1;
    }
    int m = rp_rows(&d, top > 0 ? top : 10, rows);
    if (json)
        rp_print_json(&d, f, rows, m);
    else
        rp_print_text(&d, f, rows, m);
    free(rows);
    rp_free(&d);
    return 0;
}

/* ---------------- SVG ---------------- */

typedef struct plot {
    double x0, y0, w, h; /* the panel's inner area in SVG units */
    double xmin, xmax, ymin, ymax;
} plot;

static double px(const plot *p, double x) { return p->x0 + (x - p->xmin) / (p->xmax - p->xmin) * p->w; }
static double py(const plot *p, double y) {
    return p->y0 + p->h - (y - p->ymin) / (p->ymax - p->ymin) * p->h;
}

static void widen(double *lo, double *hi) {
    if (!(*hi > *lo)) {
        *lo -= 0.5;
        *hi += 0.5;
        return;
    }
    double pad = (*hi - *lo) * 0.05;
    *lo -= pad;
    *hi += pad;
}

static void svg_text(sr_buf *b, double x, double y, const char *anchor, const char *text, int rotate) {
    sr_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\"", x, y, anchor);
    if (rotate) sr_buf_printf(b, " transform=\"rotate(-90 %.1f %.1f)\"", x, y);
    sr_buf_puts(b, ">");
    for (const char *c = text; *c; c++) {
        if (*c == '<')
            sr_buf_puts(b, "&lt;");
        else if (*c == '>')
            sr_buf_puts(b, "&gt;");
        else if (*c == '&')
            sr_buf_puts(b, "&amp;");
        else
            sr_buf_put(b, c, 1);
    }
    sr_buf_puts(b, "</text>\n");
}

static void svg_axes(sr_buf *b, const plot *p, const char *title, const char *xl, const char *yl) {
    sr_buf_printf(
        b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#333\"/>\n",
        p->x0, p->y0, p->w, p->h);
    svg_text(b, p->x0 + p->w / 2, p->y0 - 10, "middle", title, 0);
    svg_text(b, p->x0 + p->w / 2, p->y0 + p->h + 36, "middle", xl, 0);
    svg_text(b, p->x0 - 52, p->y0 + p->h / 2, "middle", yl, 1);
    for (int i = 0; i <= 4; i++) {
        double fx = p->xmin + (p->xmax - p->xmin) * i / 4, fy = p->ymin + (p->ymax - p->ymin) * i / 4;
        char t[32];
        snprintf(t, sizeof t, "%.4g", fx);
        svg_text(b, px(p, fx), p->y0 + p->h + 16, "middle", t, 0);
        snprintf(t, sizeof t, "%.4g", fy);
        svg_text(b, p->x0 - 6, py(p, fy) + 4, "end", t, 0);
        sr_buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", p->x0,
                      py(p, fy), p->x0 + p->w, py(p, fy));
    }
}

/* Best-so-far of the first objective (raw), as a step line over x[]. */
static void svg_best(sr_buf *b, const rp_data *d, double ox, double oy, int by_time) {
    plot p = {ox + 70, oy + 30, 330, 220, 0, 1, 0, 1};
    int n = d->nd;
    double *xs = calloc((size_t)(n ? n : 1), sizeof *xs), *ys = calloc((size_t)(n ? n : 1), sizeof *ys);
    if (!xs || !ys) {
        free(xs);
        free(ys);
        return;
    }
    double best = 0;
    /* done[] follows trial id order, which is the order trials started */
    for (int i = 0; i < n; i++) {
        const sr_trial_row *t = &d->t[d->done[i]];
        double v = d->sgn[(size_t)i * (size_t)d->k];
        if (i == 0 || v > best) best = v;
        xs[i] = by_time ? t->finished - d->run.started : (double)t->id;
        ys[i] = d->obj[0].maximize ? best : -best;
    }
    p.xmin = by_time ? 0 : 1;
    p.xmax = p.xmin;
    p.ymin = p.ymax = n ? ys[0] : 0;
    for (int i = 0; i < n; i++) {
        if (xs[i] > p.xmax) p.xmax = xs[i];
        if (ys[i] < p.ymin) p.ymin = ys[i];
        if (ys[i] > p.ymax) p.ymax = ys[i];
    }
    widen(&p.xmin, &p.xmax);
    widen(&p.ymin, &p.ymax);
    char yl[160];
    snprintf(yl, sizeof yl, "best %s", d->obj[0].name);
    svg_axes(b, &p, by_time ? "best so far against time" : "best so far against trials",
             by_time ? "seconds since start" : "trial", yl);
    if (n) {
        sr_buf_puts(b, "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"");
        for (int i = 0; i < n; i++) {
            if (i) sr_buf_printf(b, "%.1f,%.1f ", px(&p, xs[i]), py(&p, ys[i - 1]));
            sr_buf_printf(b, "%.1f,%.1f ", px(&p, xs[i]), py(&p, ys[i]));
        }
        sr_buf_puts(b, "\"/>\n");
    }
    free(xs);
    free(ys);
}

static void svg_pareto(sr_buf *b, const rp_data *d, double ox, double oy) {
    plot p = {ox + 70, oy + 30, 330, 220, 0, 1, 0, 1};
    int n = d->nd, k = d->k;
    unsigned char *front = calloc((size_t)(n ? n : 1), 1);
    if (!front) return;
    sr_pareto_front(d->sgn, n, k, front);
    for (int i = 0; i < n; i++) {
        double x = d->raw[(size_t)i * (size_t)k], y = d->raw[(size_t)i * (size_t)k + 1];
        if (i == 0 || x < p.xmin) p.xmin = x;
        if (i == 0 || x > p.xmax) p.xmax = x;
        if (i == 0 || y < p.ymin) p.ymin = y;
        if (i == 0 || y > p.ymax) p.ymax = y;
    }
    widen(&p.xmin, &p.xmax);
    widen(&p.ymin, &p.ymax);
    svg_axes(b, &p, k > 2 ? "Pareto front (first two objectives)" : "Pareto front", d->obj[0].name,
             d->obj[1].name);
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < n; i++) {
            if (front[i] != pass) continue;
            sr_buf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%d\" fill=\"%s\"/>\n",
                          px(&p, d->raw[(size_t)i * (size_t)k]), py(&p, d->raw[(size_t)i * (size_t)k + 1]),
                          pass ? 4 : 3, pass ? "#d62728" : "#aaa");
        }
    free(front);
}

int sr_report_svg(const char *db_path, const char *svg_path, char *err, size_t cap) {
    rp_data d;
    if (rp_load(db_path, &d, err, cap)) return -1;
    int panels = d.k > 1 ? 3 : 2;
    double W = 440.0 * panels, H = 310;
    sr_buf b = {0};
    sr_buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    sr_buf_printf(&b,
                  "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%.0f\" height=\"%.0f\" "
                  "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"11\">\n",
                  W, H, W, H);
    sr_buf_printf(&b, "<rect width=\"%.0f\" height=\"%.0f\" fill=\"white\"/>\n", W, H);
    svg_best(&b, &d, 0, 10, 0);
    svg_best(&b, &d, 440, 10, 1);
    if (d.k > 1) svg_pareto(&b, &d, 880, 10);
    sr_buf_puts(&b, "</svg>\n");
    rp_free(&d);
    char *text = sr_buf_take(&b);
    if (!text) {
        sr_errf(err, cap, "out of memory");
        return -1;
    }
    FILE *f = fopen(svg_path, "w");
    int rc = 0;
    if (!f || fputs(text, f) < 0) rc = -1;
    if (f && fclose(f)) rc = -1;
    if (rc) sr_errf(err, cap, "%s: cannot write the plot", svg_path);
    free(text);
    return rc;
}
