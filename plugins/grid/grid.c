/* grid.c: exhaustive grid search strategy plugin (nasc-grid.so).
 *
 * Enumerates every distinct feasible point exactly once, in a stable
 * order: an odometer over the decisions in space order where only ACTIVE
 * decisions turn and inactive ones stay at their first value, so points
 * that differ only in inactive decisions are never proposed twice.  This
 * relies on the host listing a decision after the decisions its activity
 * depends on (source order does).  Continuous decisions have no grid:
 * create refuses them.  ask returns 1 once every point has been proposed.
 *
 * Points already told are skipped: a resumed search replays its finished
 * trials through tell before asking, so the grid does not redo them.
 */
#include <stdlib.h>
#include <string.h>

#include "nasc/strategy.h"
#include "nasc/strategy_util.h"

/* A long run of infeasible points is walked over inside one ask; past this
 * many the ask reports an error instead of appearing to hang. */
#define GRID_MAX_SKIP 10000000L

typedef struct grid_state {
    const nasc_space *sp;
    uint64_t *digit, *size;
    nasc_value *vals;
    unsigned char *act;
    int started, done;
    nasc_su_points told; /* every told point, to skip on resume */
    size_t *table;       /* open addressing: index + 1 into told, 0 empty */
    size_t table_cap;    /* a power of two, kept at most half full */
} grid_state;

static void grid_destroy(void *state) {
    grid_state *g = state;
    if (!g) return;
    free(g->digit);
    free(g->size);
    free(g->vals);
    free(g->act);
    nasc_su_points_free(&g->told);
    free(g->table);
    free(g);
}

/* Slot of (vals, act) in the table: its entry, or the empty slot to use. */
static size_t grid_slot(const grid_state *g, const nasc_value *vals, const unsigned char *act) {
    size_t mask = g->table_cap - 1;
    size_t i = (size_t)nasc_su_point_hash(g->sp, vals, act) & mask;
    while (g->table[i]) {
        size_t k = g->table[i] - 1;
        if (nasc_su_same_point(g->sp, vals, act, nasc_su_pv(&g->told, k), nasc_su_pa(&g->told, k))) return i;
        i = (i + 1) & mask;
    }
    return i;
}

static int grid_was_told(const grid_state *g, const nasc_value *vals, const unsigned char *act) {
    return g->table_cap && g->table[grid_slot(g, vals, act)];
}

/* Doubles the table, re-inserting every told point. */
static int grid_grow(grid_state *g) {
    size_t cap = g->table_cap ? g->table_cap * 2 : 64;
    size_t *t = calloc(cap, sizeof *t);
    if (!t) return -1;
    free(g->table);
    g->table = t;
    g->table_cap = cap;
    for (size_t k = 0; k < g->told.count; k++)
        g->table[grid_slot(g, nasc_su_pv(&g->told, k), nasc_su_pa(&g->told, k))] = k + 1;
    return 0;
}

static int grid_create(const nasc_space *sp, const nasc_option *opts, int n_opts, uint64_t seed, void **state,
                       char *err, size_t errcap) {
    (void)seed;
    double none[1];
    if (nasc_su_check_space("grid", sp, state, err, errcap) != 0 ||
        nasc_su_parse_options("grid", NULL, NULL, 0, opts, n_opts, none, err, errcap) != 0)
        return -1;
    for (int i = 0; i < sp->n_decisions; i++)
        if (sp->decisions[i].kind == NASC_DEC_FLOAT)
            return nasc_su_fail(err, errcap,
                                "grid: decision '%s' is continuous; grid search needs discrete "
                                "decisions",
                                sp->decisions[i].label ? sp->decisions[i].label : "?");
    size_t n = (size_t)sp->n_decisions + 1;
    grid_state *g = calloc(1, sizeof *g);
    if (g) {
        g->digit = calloc(n, sizeof *g->digit);
        g->size = calloc(n, sizeof *g->size);
        g->vals = calloc(n, sizeof *g->vals);
        g->act = calloc(n, 1);
    }
    if (!g || !g->digit || !g->size || !g->vals || !g->act) {
        grid_destroy(g);
        return nasc_su_fail(err, errcap, "grid: out of memory");
    }
    g->sp = sp;
    nasc_su_points_init(&g->told, sp->n_decisions);
    for (int i = 0; i < sp->n_decisions; i++) g->size[i] = nasc_su_domain_size(&sp->decisions[i]);
    *state = g;
    return 0;
}

/* Turns the odometer: the last active decision that still has a next value
 * advances and every later decision restarts.  Returns 0 when exhausted. */
static int grid_advance(grid_state *g) {
    for (int i = g->sp->n_decisions - 1; i >= 0; i--) {
        if (!g->act[i] || g->digit[i] + 1 >= g->size[i]) continue;
        g->digit[i]++;
        for (int j = i + 1; j < g->sp->n_decisions; j++) g->digit[j] = 0;
        return 1;
    }
    return 0;
}

/* Loads the digits into values and asks the host about them.  Returns 1
 * for a point to propose, 0 for one to skip (infeasible, or an inactive
 * decision off its first value: a duplicate), -1 for a host error. */
static int grid_load(grid_state *g) {
    for (int i = 0; i < g->sp->n_decisions; i++)
        g->vals[i] = nasc_su_value_at(&g->sp->decisions[i], g->digit[i]);
    int rc = nasc_su_normalize(g->sp, g->vals, g->act);
    if (rc < 0) return -1;
    for (int i = 0; i < g->sp->n_decisions; i++)
        if (!g->act[i] && g->digit[i] != 0) return 0;
    return rc == 1 && !grid_was_told(g, g->vals, g->act);
}

static int grid_ask(void *state, nasc_point *p, char *err, size_t errcap) {
    grid_state *g = state;
    if (g->done) return 1;
    for (long skipped = 0; skipped < GRID_MAX_SKIP; skipped++) {
        int fresh = !g->started;
        g->started = 1;
        if (!fresh && !grid_advance(g)) {
            g->done = 1;
            return 1;
        }
        int rc = grid_load(g);
        if (rc < 0) return nasc_su_fail(err, errcap, "grid: the host rejected a grid point");
        if (rc == 1) {
            if (nasc_su_copy_out(g->sp, p, g->vals, err, errcap, "grid") != 0) return -1;
            p->fidelity = 0;
            p->tag = 0;
            return 0;
        }
    }
    return nasc_su_fail(err, errcap, "grid: no feasible point among the next %ld grid points", GRID_MAX_SKIP);
}

static void grid_tell(void *state, const nasc_point *p, const nasc_result *r) {
    grid_state *g = state;
    (void)r;
    int n = g->sp->n_decisions;
    nasc_value *v = malloc(((size_t)n + 1) * sizeof *v);
    unsigned char *a = malloc((size_t)n + 1);
    if (v && a && nasc_su_copy_in(g->sp, p, v, a) == 0 && !grid_was_told(g, v, a) &&
        (2 * (g->told.count + 1) <= g->table_cap || grid_grow(g) == 0) &&
        nasc_su_points_push(&g->told, v, a, 0) >= 0)
        g->table[grid_slot(g, v, a)] = g->told.count;
    free(v);
    free(a);
}

NASC_EXPORT int nasc_strategy_entry(uint32_t host_abi, nasc_strategy *out) {
    (void)host_abi;
    if (!out) return -1;
    nasc_su_entry_fill(out);
    out->name = "grid";
    out->version = "1.0";
    out->description = "exhaustive grid over the active discrete decisions, in a stable order";
    out->n_option_docs = 0;
    out->option_docs = NULL;
    out->create = grid_create;
    out->ask = grid_ask;
    out->tell = grid_tell;
    out->destroy = grid_destroy;
    return 0;
}
