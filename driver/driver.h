/* driver.h: the driver library of nasc (prefix drv_), the glue that, like a
 * compiler's driver, runs the layers below it in order for a search:
 *
 *   - the run folder: the ONE place that decides what files a search keeps
 *     beside its store and what they are called (drv_folder);
 *   - the strategy-ABI adapter: a checked space as a nasc_space, points
 *     between the ABI's value arrays and the front end's assignments
 *     (drv_space);
 *   - the builtin evaluator: trains a point by its recipe, resuming a
 *     multi-fidelity checkpoint, and measures JIT latency (drv_space too);
 *   - the objective compiler: objectives and limits of a `search` section
 *     as sr_exprs with their units (drv_goals);
 *   - drv_search: all of the above around sr_run.
 *
 * tools/ parses the command line into an sr_config and prints; nothing in
 * here prints or exits. */
#ifndef NASC_DRIVER_H
#define NASC_DRIVER_H

#include <stdbool.h>
#include "ctx.h"
#include "search.h"
#include "space.h"

/* ----- the run folder ----- */

/* For a store runs/mnist.db:
 *   runs/mnist.best.json           the best point
 *   runs/mnist.front.json          the Pareto front (several objectives)
 *   runs/mnist.best.safetensors    the best point's weights (builtin)
 *   runs/mnist.weights/trial-N.safetensors   weights kept per trial
 *   runs/mnist.weights/retrain-N.safetensors trial N trained stand-alone
 *                                             (search.retrain)
 *   runs/mnist.weights/ckpt-H.safetensors    multi-fidelity checkpoints,
 *                                             H = FNV-1a of the point JSON
 *   runs/mnist.weights/latency-H.txt         a point's measured latency and
 *                                             throughput (measured once)
 * and for `nasc supernet -o runs/fashion.super.safetensors`:
 *   runs/fashion.super.ckpt.safetensors      its training checkpoint */
typedef struct drv_folder {
    char db[1024];   /* the store */
    char stem[1024]; /* db without its .db */
    char best_json[1100], front_json[1100], best_weights[1100], weights_dir[1100];
    sr_layout layout; /* the same, as sr_run reads it */
} drv_folder;

/* db: the --db path, or NULL for runs/<space>.db. */
void drv_folder_init(drv_folder *f, const char *db, const char *space);
/* Creates the store's parent folders (mkdir -p).  0, or -1 with a message. */
int drv_folder_create(const drv_folder *f, char *err, size_t cap);
/* Where trial `id` keeps its weights (the weights folder is created). */
int drv_folder_trial_weights(const drv_folder *f, int64_t id, char *buf, size_t cap);
/* Where the stand-alone retraining of trial `id` keeps its weights
 * (search.retrain; the weights folder is created). */
int drv_folder_retrain_weights(const drv_folder *f, int64_t id, char *buf, size_t cap);
/* The checkpoint of a point, in the weights folder. */
void drv_folder_checkpoint(const drv_folder *f, const char *point_json, char *buf, size_t cap);
/* Where a point's measured latency is kept ("" when the folder cannot be made). */
void drv_folder_latency(const drv_folder *f, const char *point_json, char *buf, size_t cap);
/* The training checkpoint of `nasc supernet -o OUT` (resume after a kill):
 * OUT without its .safetensors, then .ckpt.safetensors, beside OUT. */
void drv_folder_supernet_checkpoint(const char *out, char *buf, size_t cap);

/* The files `nasc supernet --method M -o OUT` writes beside OUT: the
 * derived point (OUT without .safetensors, + ".point.json"), every
 * decision's final alpha (+ ".alpha.json") and, when it measures one, the
 * latency table (+ ".latency.json"); docs/differentiable.md. */
void drv_folder_darts(const char *out, char *point, char *alpha, char *lut, size_t cap);

/* ----- objectives and limits ----- */

typedef struct drv_goals {
    sr_objective obj[16];
    sr_limit lim[32];
    int n_obj, n_lim;
    char text[48][256];
    bool latency;     /* an objective or limit needs latency or throughput */
    bool throughput;  /* ... throughput */
    bool test;        /* ... test_accuracy */
    unsigned proxies; /* ... these training-free proxies (bits 1u << rt_proxy_id) */
    bool footprint;   /* ... ram or flash (they compile the point: computed only then) */
} drv_goals;

/* Reads `objective` and `require` of a search section.  false with err. */
bool drv_goals_read(const section *se, drv_goals *g, char *err, size_t cap);
void drv_goals_free(drv_goals *g);

/* ----- the space across the strategy ABI, and the builtin evaluator ----- */

typedef struct drv_space {
    nasc_ctx *c;
    program *p;
    space_ir *s;
    nasc_space ns;
    nasc_decision *decs;
    bool want_latency, want_throughput, want_test; /* what the builtin evaluator measures */
    bool want_footprint;                           /* ram and flash among the static metrics */
    unsigned want_proxies, need_proxies;           /* proxies measured; those the goals need */
    bool proxy_eval; /* evaluator = proxy: score by the proxies at initialisation, no training */
    int threads;     /* OpenBLAS threads per trial */
    double max_epochs;
    const drv_folder *folder; /* for checkpoints */
    int quant;                /* search.quant: latency, ram and flash of this build (ps_quant_kind) */
} drv_space;

/* Describes s as a nasc_space (allocations in c's arena). */
void drv_space_init(drv_space *h, nasc_ctx *c, program *p, space_ir *s);
/* nasc_space.proxy_scores (drv_warm.c): the training-free proxy of points
 * a strategy asks about (its warm start), recorded in the store's kv
 * "warm_start" and answered from that record when asked again (--resume). */
int drv_proxy_scores(void *host, const char *proxy, const nasc_point *points, int n, double *scores,
                     char *err, size_t cap);
/* The interface sr_run drives: h's space, its conversions, static
 * metrics and the builtin evaluator. */
sr_space_iface drv_space_iface(drv_space *h);

/* The builtin evaluator's measurements on request, which other evaluators
 * of the driver reuse (drv_supernet.c): the latency (and throughput when h
 * wants it) of g's compiled kernels, measured once per point with the JIT
 * and kept in the run folder; and the training-free proxies h wants, at a
 * fresh initialisation of g by the recipe (g's parameters must not be
 * allocated yet).  0, or -1 with err (a proxy the goals need is undefined). */
struct recipe;
struct recipe_data;
int drv_space_latency(drv_space *h, const struct recipe_data *d, const char *point_json, const ir_graph *g,
                      sr_metrics *out, char *err, size_t cap);
int drv_space_proxies(drv_space *h, ir_graph *g, struct recipe *r, const struct recipe_data *d,
                      sr_metrics *out, char *err, size_t cap);

/* ----- the options a search ran with (run.options in the store) ----- */

typedef struct drv_run_options {
    char evaluator[1200]; /* "builtin", "exec:CMD" or "pipe:CMD" */
    char strategy[1024];
    char *strategy_opts[32]; /* "key=value", the effective list (the file's, then --strategy-opt) */
    int n_strategy_opts;
    char *sets[64]; /* --set overrides, as given */
    int n_sets;
    int64_t trials;
    double time; /* seconds, 0: none */
    uint64_t seed;
    int retrain; /* search.retrain / --retrain (0: none) */
    char source_hash[17];
} drv_run_options;

/* evaluator = proxy is the builtin evaluator with this command: it scores
 * a point by its training-free proxies at initialisation (docs/proxies.md). */
#define DRV_PROXY_EVALUATOR "proxy"
bool drv_is_proxy_evaluator(const sr_config *cfg);
/* The evaluator as one string: builtin, proxy, exec:CMD, pipe:CMD. */
void drv_evaluator_text(const sr_config *cfg, char *buf, size_t cap);
/* The JSON kept in run.options.  malloc'ed (NULL when out of memory). */
char *drv_options_json(const sr_config *cfg, const char *const *sets, int n_sets, int retrain);
/* Reads a store's options: 0, 1 when there is no store, no search or no
 * options in it (nothing to resume from), -1 with a message. */
int drv_options_read(const char *db, drv_run_options *o, char *err, size_t cap);
void drv_options_free(drv_run_options *o);

/* ----- a whole search ----- */

/* Runs (or resumes) the search of s with cfg, which the caller filled from
 * its options (strategy, budgets, evaluator, seed, jobs, resume...); this
 * adds the objectives, limits, store path and layout, source, and loads
 * the builtin evaluator's data once.  metrics: a comma-separated list of
 * metrics the builtin evaluator measures although no objective or limit
 * names them (test_accuracy, naswot, synflow, latency, throughput; NULL:
 * none).  retrain: the K of search.retrain (0: none), run after the search
 * (drv_retrain).  folder is filled for the caller's messages.  Returns 0, or -1
 * with a message (a user error), -2 for a bad metrics list (a usage
 * error). */
int drv_search_run(nasc_ctx *c, program *p, space_ir *s, sr_config *cfg, const char *db, const char *metrics,
                   int retrain, drv_folder *folder, sr_summary *sum, char *err, size_t cap);

/* search.retrain = K (drv_retrain.c): after the search in f's store, its
 * top k distinct points by the first objective are trained stand-alone by
 * h's builtin evaluator and stored (the store's retrain table); points
 * retrained before are skipped.  Progress lines go to `progress` (may be
 * NULL).  0, or -1 with a message (a failed training is stored, not an
 * error). */
int drv_retrain(drv_space *h, const drv_folder *f, int k, FILE *progress, char *err, size_t cap);

/* The diagnostics a call recorded after `first` (the context's tail
 * before it) as one error text: a trial's reason (drv_space.c). */
void drv_diags_since(nasc_ctx *c, diag *first, char *err, size_t cap);

#endif
