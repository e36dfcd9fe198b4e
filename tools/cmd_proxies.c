/* cmd_proxies.c: `nasc proxies FILE --points N`: how well each
 * training-free proxy ranks a space's points.  Samples N distinct points
 * (or reads the done trials of a store with --db), computes every proxy at
 * initialisation, trains each point as its train section says (or takes
 * the stored accuracy), and prints Spearman's rho and Kendall's tau-b of
 * each proxy (and of params and flops) against validation accuracy. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "json.h"
#include "proxies.h"
#include "recipe.h"
#include "sr_util.h"

#define PXC_STATIC 2 /* params, flops after the proxies */
#define PXC_COLS   (RT_PX_COUNT + PXC_STATIC)

typedef struct pxc_row {
    char *point;
    double acc;
    double v[PXC_COLS];
    char why[RT_PX_COUNT][96];
} pxc_row;

static const char *col_name(int k) {
    return k < RT_PX_COUNT ? rt_proxy_name(k) : k == RT_PX_COUNT ? "params" : "flops";
}

/* ---- one point: proxies at initialisation, then (optionally) training ---- */

static int measure(nasc_ctx *c, program *p, const char *point, bool train, pxc_row *row, char *err,
                   size_t cap) {
    ctx_mark m = ctx_get_mark(c);
    space_ir *s;
    assignment *a;
    ir_graph g = {0};
    int rc = -1;
    recipe r;
    const recipe_data *d;
    if (!point_load(c, p, &s, point, "point", &a, &g)) {
        snprintf(err, cap, "the point does not fit the space: %.200s", point);
        goto out;
    }
    if (!recipe_from_section(&a->train, &r, err, cap) || !(d = recipe_load_data(&r, err, cap))) goto out;
    if (rt_params_init(&g, r.cfg.init, r.cfg.seed)) {
        snprintf(err, cap, "out of memory");
        goto out;
    }
    r.proxies = RT_PX_ALL;
    rt_proxy_values pv;
    if (recipe_proxies(&g, &r, d, &pv, err, cap)) goto out;
    for (int k = 0; k < RT_PX_COUNT; k++) {
        row->v[k] = pv.v[k];
        memcpy(row->why[k], pv.why[k], sizeof row->why[k]);
    }
    row->v[RT_PX_COUNT] = (double)g.params;
    row->v[RT_PX_COUNT + 1] = (double)g.flops;
    if (train) {
        trial_metrics tm;
        r.proxies = 0;
        r.skip_test = true;
        if (recipe_train(&g, &r, 0, NULL, NULL, NULL, &tm, NULL, err, cap)) goto out; /* from the same init */
        row->acc = tm.m.accuracy;
    }
    rc = 0;
out:
    rt_params_free(&g);
    ctx_release(c, m);
    return rc;
}

/* ---- where the points come from ---- */

static int sample_points(nasc_ctx *c, program *p, const opts *o, pxc_row *rows, int n) {
    space_ir *s = p->spaces.v[0];
    assignment *a = asg_new(c, s);
    uint64_t rng = o->have_seed ? (uint64_t)o->seed : 0x6e617363ull;
    int got = 0;
    for (int tries = 0; got < n && tries < 100 * n; tries++) {
        if (!space_sample(c, p, s, &rng, a, 10000)) break;
        char *pt = point_json(c, s, a);
        int dup = 0;
        for (int i = 0; i < got && !dup; i++) dup = !strcmp(rows[i].point, pt);
        if (!dup && (rows[got].point = strdup(pt))) got++;
    }
    return got;
}

/* The done trials of a store with an accuracy (up to n when n > 0). */
static int stored_points(const char *db, pxc_row **out, int n, char *err, size_t cap) {
    sr_store *st;
    sr_trial_row *t;
    int nt, got = 0;
    if (sr_store_open(db, 0, &st, err, cap)) return -1;
    int rc = sr_store_trials(st, &t, &nt, err, cap);
    sr_store_close(st);
    if (rc) return -1;
    pxc_row *rows = calloc((size_t)nt + 1, sizeof *rows);
    for (int i = 0; rows && i < nt && (n <= 0 || got < n); i++) {
        sr_metrics m;
        sr_metrics_init(&m);
        char e2[200];
        double acc;
        if (!strcmp(t[i].status, "done") && t[i].metrics &&
            !sr_metrics_from_json(t[i].metrics, &m, e2, sizeof e2) &&
            sr_metrics_get(&m, "accuracy", &acc) == 1 && isfinite(acc)) {
            int dup = 0;
            for (int k = 0; k < got && !dup; k++) dup = !strcmp(rows[k].point, t[i].point);
            if (!dup) {
                rows[got].point = strdup(t[i].point);
                rows[got++].acc = acc;
            }
        }
        sr_metrics_free(&m);
    }
    sr_trials_free(t, nt);
    *out = rows;
    return rows ? got : -1;
}

/* ---- output ---- */

typedef struct pxc_stat {
    int n, missing;
    double rho, tau;
    char reason[300]; /* the distinct reasons a proxy was missing, "; " between */
} pxc_stat;

static void stats(const pxc_row *rows, int n, pxc_stat *st) {
    double *x = malloc(sizeof(double) * (size_t)(n + 1)), *y = malloc(sizeof(double) * (size_t)(n + 1));
    for (int k = 0; k < PXC_COLS; k++) {
        pxc_stat *s = &st[k];
        memset(s, 0, sizeof *s);
        for (int i = 0; x && y && i < n; i++) {
            if (!isfinite(rows[i].acc)) continue;
            if (!isfinite(rows[i].v[k])) {
                s->missing++;
                if (k < RT_PX_COUNT && !strstr(s->reason, rows[i].why[k])) {
                    size_t at = strlen(s->reason);
                    snprintf(s->reason + at, sizeof s->reason - at, "%s%s", at ? "; " : "", rows[i].why[k]);
                }
                continue;
            }
            x[s->n] = rows[i].v[k];
            y[s->n++] = rows[i].acc;
        }
        s->rho = x && y ? sr_spearman(x, y, s->n) : NAN;
        s->tau = x && y ? sr_kendall(x, y, s->n) : NAN;
    }
    free(x);
    free(y);
}

static void put_num(strbuf *b, double v) {
    if (isfinite(v))
        json_write_number(b, v);
    else
        strbuf_puts(b, "null");
}

static void print_json(const pxc_row *rows, int n, const pxc_stat *st) {
    strbuf b = {0};
    strbuf_puts(&b, "{\"points\": ");
    json_write_int(&b, n);
    strbuf_puts(&b, ", \"correlations\": [");
    for (int k = 0; k < PXC_COLS; k++) {
        strbuf_puts(&b, k ? ", {\"name\": " : "{\"name\": ");
        json_write_string(&b, col_name(k), strlen(col_name(k)));
        strbuf_puts(&b, ", \"n\": ");
        json_write_int(&b, st[k].n);
        strbuf_puts(&b, ", \"spearman\": ");
        put_num(&b, st[k].rho);
        strbuf_puts(&b, ", \"kendall\": ");
        put_num(&b, st[k].tau);
        strbuf_puts(&b, ", \"missing\": ");
        json_write_int(&b, st[k].missing);
        if (st[k].reason[0]) {
            strbuf_puts(&b, ", \"reason\": ");
            json_write_string(&b, st[k].reason, strlen(st[k].reason));
        }
        strbuf_puts(&b, "}");
    }
    strbuf_puts(&b, "], \"rows\": [");
    for (int i = 0; i < n; i++) {
        strbuf_puts(&b, i ? ", {\"point\": " : "{\"point\": ");
        strbuf_puts(&b, rows[i].point);
        strbuf_puts(&b, ", \"accuracy\": ");
        put_num(&b, rows[i].acc);
        for (int k = 0; k < PXC_COLS; k++) {
            strbuf_puts(&b, ", ");
            json_write_string(&b, col_name(k), strlen(col_name(k)));
            strbuf_puts(&b, ": ");
            put_num(&b, rows[i].v[k]);
        }
        strbuf_puts(&b, "}");
    }
    strbuf_puts(&b, "]}\n");
    fputs(b.data, stdout);
    strbuf_free(&b);
}

static void print_table(int n, const pxc_stat *st) {
    printf("%d points; rank correlation of each proxy with validation accuracy\n", n);
    printf("%-10s %4s %9s %8s  %s\n", "proxy", "n", "spearman", "kendall", "missing");
    for (int k = 0; k < PXC_COLS; k++) {
        printf("%-10s %4d ", col_name(k), st[k].n);
        if (isfinite(st[k].rho))
            printf("%9.3f ", st[k].rho);
        else
            printf("%9s ", "n/a");
        if (isfinite(st[k].tau))
            printf("%8.3f", st[k].tau);
        else
            printf("%8s", "n/a");
        if (st[k].missing) printf("  %d (%s)", st[k].missing, st[k].reason);
        putchar('\n');
    }
}

int cmd_proxies(nasc_ctx *c, const opts *o) {
    int status;
    program *p = cli_load(c, o, &status);
    if (!p) return status;
    if (p->spaces.n != 1) {
        cli_err("%s: nasc proxies needs a file with exactly one space (it has %d)", o->file, p->spaces.n);
        return EXIT_INPUT;
    }
    if (!o->db && o->points < 2) {
        cli_err("nasc proxies needs --points N (N >= 2) or --db RUN.db");
        return EXIT_USAGE;
    }
    recipe_set_base(o->file);
    char err[1400];
    pxc_row *rows = NULL;
    int n;
    if (o->db) {
        n = stored_points(o->db, &rows, (int)o->points, err, sizeof err);
        if (n < 0) {
            cli_err("%s", err);
            free(rows);
            return EXIT_INPUT;
        }
    } else {
        rows = calloc((size_t)o->points, sizeof *rows);
        n = rows ? sample_points(c, p, o, rows, (int)o->points) : 0;
        if (n < (int)o->points && !o->quiet)
            fprintf(stderr, "nasc: only %d distinct points could be sampled\n", n);
    }
    int rc = EXIT_OK;
    for (int i = 0; i < n; i++) {
        double t0 = recipe_now();
        if (measure(c, p, rows[i].point, !o->db, &rows[i], err, sizeof err)) {
            cli_err("point %d: %s", i + 1, err);
            rc = EXIT_INPUT;
            break;
        }
        if (!o->quiet)
            fprintf(stderr, "[%d/%d] accuracy %.4f  (%.1fs)\n", i + 1, n, rows[i].acc, recipe_now() - t0);
    }
    if (rc == EXIT_OK) {
        pxc_stat st[PXC_COLS];
        stats(rows, n, st);
        if (o->json)
            print_json(rows, n, st);
        else
            print_table(n, st);
    }
    for (int i = 0; rows && i < n; i++) free(rows[i].point);
    free(rows);
    return rc;
}
