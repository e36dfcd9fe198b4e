/* search.h: the search driver of nasc (prefix sr_).
 *
 * Everything `nasc search`, `nasc report` and `nasc plugins` need beyond the
 * front end: metric maps and objective/limit expressions, the Pareto front,
 * the strategy plugin loader, the SQLite store, the evaluators (builtin,
 * exec, pipe) run in worker processes or MPI ranks, and the driver sr_run.
 *
 * The front end supplies the space through sr_space_iface (a nasc_space,
 * point <-> JSON conversion, static metrics and the builtin evaluator), so
 * this layer depends on nothing but the plugin ABI, SQLite and libc.
 * Library code never prints except to FILE*s the caller hands in.
 */
#ifndef NASC_SR_SEARCH_H
#define NASC_SR_SEARCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "metrics.h"
#include "nasc/strategy.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Metrics: a small name -> double map.                                */

typedef struct sr_metric {
    char name[48];
    double value;
} sr_metric;

typedef struct sr_metrics {
    int n, cap;
    sr_metric *v;
} sr_metrics;

void sr_metrics_init(sr_metrics *m);
void sr_metrics_free(sr_metrics *m);
void sr_metrics_clear(sr_metrics *m);
/* Sets (adds or replaces) name; returns 0, or -1 when out of memory or the
 * name is longer than 47 bytes. */
int sr_metrics_set(sr_metrics *m, const char *name, double value);
/* Returns 1 and stores the value when present, else 0. */
int sr_metrics_get(const sr_metrics *m, const char *name, double *value);
/* {"a": 1, "b": 2.5}; NaN and infinities are written as null.  malloc'ed. */
char *sr_metrics_to_json(const sr_metrics *m);
/* Parses a flat JSON object whose values are all numbers (null reads as
 * NaN), at most SR_METRICS_MAX of them.  Returns 0, or -1 with a message. */
#define SR_METRICS_MAX 1024
int sr_metrics_from_json(const char *json, sr_metrics *m, char *err, size_t cap);

/* The metrics the host and the builtin evaluator know: common/metrics.h,
 * the one table (static limits, units of labels, measured on request). */

/* Rank correlations of x and y over n pairs (ranks with ties averaged):
 * Spearman's rho (Pearson's correlation of the ranks) and Kendall's tau-b
 * (ties corrected for); NAN when a side is constant or n < 2. */
double sr_spearman(const double *x, const double *y, int n);
double sr_kendall(const double *x, const double *y, int n);

/* ------------------------------------------------------------------ */
/* Objective and limit expressions, built by the front end from the AST. */

typedef enum {
    SR_EX_NUM,    /* num (units already applied, see sr_unit_scale) */
    SR_EX_METRIC, /* metric(name) * scale */
    SR_EX_ADD,
    SR_EX_SUB,
    SR_EX_MUL,
    SR_EX_DIV,
    SR_EX_POW,
    SR_EX_NEG,
    SR_EX_LT,
    SR_EX_LE,
    SR_EX_GT,
    SR_EX_GE,
    SR_EX_EQ,
    SR_EX_NE, /* limits: 1 or 0 */
} sr_expr_kind;

typedef struct sr_expr {
    sr_expr_kind kind;
    double num;            /* SR_EX_NUM */
    char *metric;          /* SR_EX_METRIC (owned) */
    double scale;          /* SR_EX_METRIC: multiplies the reported value */
    struct sr_expr *a, *b; /* operands (b NULL for NEG) */
} sr_expr;

sr_expr *sr_expr_num(double v);
sr_expr *sr_expr_metric(const char *name, double scale);
sr_expr *sr_expr_bin(sr_expr_kind op, sr_expr *a, sr_expr *b); /* takes a and b */
void sr_expr_free(sr_expr *e);
/* Evaluates e on m.  Returns 0, or -1 when a metric is missing (its name
 * goes to *missing) or the value is not finite. */
int sr_expr_eval(const sr_expr *e, const sr_metrics *m, double *out, const char **missing);
/* 1 when every metric e names is one of the static ones (params, flops,
 * memory), so a limit can be checked before any training. */
int sr_expr_is_static(const sr_expr *e);
/* Writes the expression as text (for messages and the store). */
void sr_expr_format(const sr_expr *e, char *buf, size_t cap);
/* Scale of a unit suffix relative to the metric base units: durations in
 * microseconds (us 1, ms 1e3, s 1e6, m 6e7, h 3.6e9), sizes in bytes
 * (B 1, KB 1024, MB 2^20, GB 2^30), counts (k 1e3, M 1e6, G 1e9).
 * Returns 0 for an unknown unit. */
double sr_unit_scale(const char *unit);

typedef struct sr_objective {
    const char *text; /* as the user wrote it, e.g. "accuracy" */
    int maximize;
    const sr_expr *expr; /* NULL: the metric named `text` */
} sr_objective;

typedef struct sr_limit {
    const char *text;    /* "params < 200k" */
    const sr_expr *expr; /* a comparison */
} sr_limit;

/* ------------------------------------------------------------------ */
/* Pareto front over signed objectives (larger is better for every one). */

/* a dominates b: a >= b everywhere and > somewhere. */
int sr_dominates(const double *a, const double *b, int k);
/* Marks front[i] = 1 for the non-dominated rows of vals (n rows of k);
 * returns the front size. */
int sr_pareto_front(const double *vals, int n, int k, unsigned char *front);

/* ------------------------------------------------------------------ */
/* Strategy plugins. */

typedef struct sr_plugin {
    void *dl;
    nasc_strategy s; /* copied field by field from the plugin */
    char path[1024];
} sr_plugin;

/* name: "random" (searched as nasc-random.so in: <dir of the executable>/plugins,
 * NASC_PLUGIN_INSTALL_DIR, NASC_PLUGIN_BUILD_DIR, then each directory of
 * $NASC_PLUGIN_PATH), or a path to a .so (contains '/' or ends in .so).
 * Returns 0, or -1 with a message naming the file and the symbol. */
int sr_plugin_open(const char *name, sr_plugin *out, char *err, size_t cap);
void sr_plugin_close(sr_plugin *p);

typedef struct sr_plugin_info {
    char name[64], version[32], path[1024], description[256];
    int n_options;
    nasc_option_doc *options; /* strings owned by this struct (malloc'ed) */
    char error[512];          /* non-empty: the plugin could not be loaded */
} sr_plugin_info;

/* Every plugin found in the search path (first of a name wins), loaded
 * to read its table.  *out is malloc'ed; free with sr_plugins_free. */
int sr_plugins_list(sr_plugin_info **out, int *n, char *err, size_t cap);
void sr_plugins_free(sr_plugin_info *v, int n);
/* Writes the list as `nasc plugins` shows it. */
void sr_plugins_print(FILE *f, const sr_plugin_info *v, int n);

/* ------------------------------------------------------------------ */
/* The space, as the front end supplies it. */

typedef struct sr_space_iface {
    const nasc_space *space; /* decisions; objectives are replaced by sr_config's */
    void *ud;
    /* malloc'ed point JSON: {"space": "...", "decisions": {...}} (active only). */
    char *(*to_json)(void *ud, const nasc_point *p);
    /* Parses a point into p (p->n, values, active allocated by the caller). */
    int (*from_json)(void *ud, const char *json, nasc_point *p, char *err, size_t cap);
    /* params, flops, memory of a point (NULL: none). Returns 0 or -1. */
    int (*static_metrics)(void *ud, const nasc_point *p, sr_metrics *m);
    /* The builtin evaluator (NULL when the front end has none); runs in a
     * worker process.  weights_path: where to save the trained weights
     * (may be ignored).  Returns 0, or -1 with a message. */
    int (*eval)(void *ud, const char *point_json, double fidelity, const char *weights_path, sr_metrics *out,
                char *err, size_t cap);
    /* Called once in each worker process right after it starts (NULL: none),
     * e.g. to set up thread pools that do not survive fork(). */
    void (*worker_init)(void *ud);
    /* What the host needs of a fresh point, from one run of the space
     * (NULL: normalize, static_metrics and to_json are called in turn):
     * sets p->active, fills m with the static metrics when the point
     * builds and *json (malloc'ed) with its JSON; returns 1 when feasible,
     * 0 when it violates a require, -1 when a value is outside its domain. */
    int (*instantiate)(void *ud, nasc_point *p, sr_metrics *m, char **json);
} sr_space_iface;

/* ------------------------------------------------------------------ */
/* The driver. */

/* Evaluators (each runs inside a worker process, one per -j slot or MPI rank):
 *  - builtin: sr_space_iface.eval, called in the worker.
 *  - exec("cmd args"): one process per trial; the point JSON then a newline
 *    on stdin, NASC_TRIAL and NASC_FIDELITY in the environment; metrics are
 *    the JSON object of numbers on the last non-empty line of stdout.  A
 *    non-zero exit, a signal, no output or a last line that is not such an
 *    object fails the trial, with the tail of stderr in the reason.  A
 *    command that cannot be started (exit 127) stops the search.
 *  - pipe("cmd args"): one long-lived process per worker; per trial one
 *    line in (the point object with "trial" and "fidelity" members added
 *    first) and one JSON line out, in order.  If it dies, the trial fails
 *    and the process is restarted for the next trial; after 5 deaths in a
 *    row (or if it cannot start) the search stops.
 * Commands are split into arguments like a shell does for simple quoting
 * ('single', "double" with \" and \\, backslash escapes) and run directly,
 * with no expansion, pipes or redirections: write `sh -c '...'` for those.
 * The timeout and a crash are handled by the host for every evaluator: the
 * worker (with its evaluator process group) is killed and replaced. */
typedef enum { SR_EVAL_BUILTIN, SR_EVAL_EXEC, SR_EVAL_PIPE } sr_eval_kind;

typedef struct sr_progress {
    int64_t finished, done, failed, infeasible, running, budget; /* budget 0: none */
    double elapsed;                                              /* seconds */
    int have_best;
    double best; /* raw value of the first objective of the best trial */
    int64_t best_trial;
    const char *event; /* one line about the trial that just finished, or NULL */
} sr_progress;

/* What a search keeps beside its store, as the driver's run folder
 * decides it (driver/drv_folder.c); sr_run only uses these names. */
typedef struct sr_layout {
    const char *best_json, *front_json, *best_weights; /* NULL: not written */
    /* Where trial `id` keeps its weights (builtin evaluator); NULL: nowhere.
     * Returns 0, or -1 when the folder cannot be made. */
    int (*trial_weights)(const void *ud, int64_t id, char *buf, size_t cap);
    const void *ud;
} sr_layout;

typedef struct sr_config {
    const char *strategy; /* plugin name or path ("random" when NULL) */
    const nasc_option *strategy_opts;
    int n_strategy_opts;
    int64_t trials;     /* trial budget (0: none; then time must be set) */
    double time_budget; /* seconds (0: none); no new trial starts after it */
    uint64_t seed;
    const char *db_path; /* the store */
    int jobs;            /* worker processes (>= 1) */
    int resume;
    int force; /* resume even though the source changed */
    sr_eval_kind evaluator;
    const char *command; /* exec / pipe command line */
    double timeout;      /* per trial, seconds (0: none): the trial fails, its worker is replaced */
    double memory_limit; /* bytes of address space per worker, RLIMIT_AS (0: none); the
                                   evaluator processes a worker starts inherit it */
    const sr_objective *objectives; /* none: maximize accuracy */
    int n_objectives;
    const sr_limit *limits;
    int n_limits;
    const char *source;       /* the source text (hashed into the store) */
    const char *source_path;  /* the FILE argument, for messages */
    const char *options_json; /* the effective options, kept in the store (may be NULL) */
    const sr_layout *layout;  /* files beside the store (NULL: none) */
    /* Progress: a callback, or else lines written to progress_fp (a one-line
     * updating status when it is a terminal, one line per finished trial
     * otherwise), or nothing when both are NULL.  progress_fp also gets the
     * Ctrl-C notices; the caller says how to resume (sr_summary.interrupted). */
    void (*progress)(void *ud, const sr_progress *p);
    void *progress_ud;
    FILE *progress_fp;
    int handle_signals; /* install SIGINT/SIGTERM handlers during the run: the first
                                   stops asking and lets running trials finish, the second
                                   kills them (they stay `running` in the store for --resume) */
} sr_config;

typedef struct sr_summary {
    int worker_rank; /* 1: this MPI rank only evaluated; nothing else is set */
    int interrupted; /* stopped by SIGINT/SIGTERM */
    int64_t done, failed, infeasible, unfinished;
    /* How the finished trials were answered: by an evaluator (what --trials
     * counts), by the result cache, or before evaluation (a require or a
     * static limit refused the point). */
    int64_t evaluated, cached, checked;
    int64_t best_trial; /* -1 when no trial succeeded */
    char *best_point;   /* malloc'ed JSON */
    char *best_metrics; /* malloc'ed JSON */
    int n_front;        /* Pareto front (several objectives), trial ids */
    int64_t *front;
    char *front_json; /* the same as [{"trial", "point", "metrics"}], malloc'ed (NULL: one objective) */
    char best_json_path[1100];    /* layout->best_json ("" when not written) */
    char best_weights_path[1100]; /* layout->best_weights ("" when not written) */
} sr_summary;

/* Runs (or resumes) a search.  Returns 0, or -1 with a message.  Under
 * mpirun, ranks other than 0 evaluate trials and return 0 with
 * out->worker_rank = 1 (the caller should then exit quietly); every rank
 * must call sr_run with the same configuration and a space built the same
 * way.  A new search refuses a store that already holds one; resume
 * refuses a changed source, other objectives or another strategy unless
 * cfg->force.  At the end the layout's best_json (the best point),
 * front_json (several objectives) and best_weights (builtin evaluator) are
 * written. */
int sr_run(const sr_config *cfg, const sr_space_iface *space, sr_summary *out, char *err, size_t cap);
void sr_summary_free(sr_summary *s);

/* Progress of the trial running in this worker process, for the host's
 * progress line (the builtin evaluator calls it while it trains); does
 * nothing outside a forked worker. */
void sr_trial_progress(int epoch, int epochs, int64_t step, int64_t steps, double loss);

/* ------------------------------------------------------------------ */
/* Reports from a store (nasc report, and the end of nasc search). */

/* Prints the leaderboard (top `top` by the first objective) or the Pareto
 * front (its first `top` by the first objective), and the counts by
 * status; top <= 0: the top 10, or the whole front.  json: one JSON object
 * instead. */
int sr_report_print(const char *db_path, FILE *f, int top, int json, char *err, size_t cap);
/* The stand-alone retraining of a store's top points (search.retrain) as
 * report --json's "retrain" object; malloc'ed, NULL when there is none (or
 * with err when the store cannot be read). */
char *sr_report_retrain_json(const char *db_path, char *err, size_t cap);
/* Writes an SVG: best-so-far against trials and against time, and a Pareto
 * scatter of the first two objectives when there are several. */
int sr_report_svg(const char *db_path, const char *svg_path, char *err, size_t cap);
/* One HTML page: the same SVG inline, and the leaderboard (top `top`, 0:
 * all) or the front as a table sorted by a click on a column's header. */
int sr_report_html(const char *db_path, const char *html_path, int top, char *err, size_t cap);

/* ------------------------------------------------------------------ */
/* MPI. */

/* 0: not under mpirun (or built without MPI); 1: rank 0 (runs the search);
 * 2: another rank (evaluates).  Calls MPI_Init on first use under mpirun
 * (and registers MPI_Finalize with atexit); the answer never changes. */
int sr_mpi_role(void);
/* MPI_Finalize now, if MPI_Init was called (otherwise it happens at exit). */
void sr_mpi_finalize(void);

#ifdef __cplusplus
}
#endif
#endif
