/* drv_supernet.h: weight sharing over a whole space (docs/one-shot.md):
 * the supernet built from the space IR, how each decision is shared, its
 * training (SPOS uniform sampling or the BigNAS sandwich rule) and the
 * supernet evaluator of a search.  Nothing here prints. */
#ifndef NASC_DRV_SUPERNET_H
#define NASC_DRV_SUPERNET_H

#include <stdbool.h>
#include <stdio.h>
#include "ctx.h"
#include "driver.h"
#include "search.h"
#include "space.h"
#include "supernet.h"
#include "train.h"

/* How a decision is shared (bits; a decision may be several at once). */
enum {
    DRV_SN_WIDTH = 1,  /* leading channels of the largest tensor */
    DRV_SN_KERNEL = 2, /* the centre of the largest kernel */
    DRV_SN_DEPTH = 4,  /* layers of the deepest case; a subnet runs the first d */
    DRV_SN_BRANCH = 8, /* one branch per alternative */
    DRV_SN_RECIPE = 16 /* a train. decision: not shared */
};

typedef struct drv_sn_point { /* a point kept by the supernet: its decision values */
    sval *vals;
    bool *given;
    int64_t params;
} drv_sn_point;

typedef struct drv_supernet {
    nasc_ctx *c;
    program *p;
    space_ir *s;
    sn_net *net;
    int *share;                     /* per decision: DRV_SN_* bits */
    const char **example;           /* per decision: a layer whose weights it changes, or NULL */
    drv_sn_point largest, smallest; /* by parameter count over the covering points */
    int n_points;                   /* covering points the shapes were taken from */
    char source_hash[17];
} drv_supernet;

/* Builds the supernet's shapes from the graphs of a covering set of points
 * (every value of every decision, from the largest and from alternative
 * bases, plus seeded random points).  A decision that cannot be shared, or
 * a recipe decision when require_fixed_recipe, is a diagnostic at the
 * decision naming it and why; false then. */
#define DRV_SN_COVER_BUDGET 3000
bool drv_supernet_build(drv_supernet *sb, nasc_ctx *c, program *p, space_ir *s, bool require_fixed_recipe);
void drv_supernet_free(drv_supernet *sb);
/* The --explain text (malloc'ed). */
char *drv_supernet_explain(const drv_supernet *sb);

typedef enum { DRV_SN_UNIFORM, DRV_SN_SANDWICH } drv_sn_sampling;

typedef struct drv_sn_train_cfg {
    drv_sn_sampling sampling;
    int epochs;   /* 0: the train section's */
    int n_random; /* sandwich: random subnets per step besides the largest and smallest (default 2) */
    uint64_t seed;
    rt_progress_fn progress;
    void *progress_ctx;
    double *train_time; /* if not NULL: wall seconds of the training loop (data loading excluded) */
    /* Resume after a kill: the trainer checkpoints into `checkpoint`
     * (NULL: never) every checkpoint_steps steps (0: each minute and at
     * each epoch's end, at most one every 5 s) and removes it once `out` is written; with resume,
     * an existing checkpoint is continued (its training settings must be
     * these) and *resumed_step (if not NULL) gets the step it continues
     * from.  stop_after > 0 stops (fails) before that step, as a kill
     * would: for the tests. */
    const char *checkpoint;
    bool resume;
    int checkpoint_steps;
    int64_t *resumed_step;
    int64_t stop_after;
} drv_sn_train_cfg;

/* Trains sb's supernet on the train section's data and recipe and writes it
 * to out.  Returns 0, or -1 with err. */
int drv_supernet_train(drv_supernet *sb, const drv_sn_train_cfg *cfg, const char *out, char *err, size_t cap);

/* Samples `count` a point uniformly over the tree of active decisions
 * (respecting the space's `require`) into a; the graph is built into g. */
bool drv_supernet_sample(drv_supernet *sb, uint64_t *rng, assignment **a, ir_graph *g);

/* The supernet evaluator's defaults (docs/one-shot.md): batch-norm
 * statistics are recalibrated on the first 2000 samples of the training
 * split, accuracy is measured on the first 2000 of the validation split
 * (both splits are shuffled by the recipe's seed, so these are samples). */
#define DRV_SN_RECAL_SAMPLES 2000
#define DRV_SN_VAL_SAMPLES   2000

/* Gives g (built for a point) its supernet slice and recalibrates its
 * batch-norm statistics on `samples` training samples (cumulative average,
 * train-mode forwards; only the running statistics change). */
int drv_supernet_inherit(const sn_net *net, ir_graph *g, const rt_dataset *train, int samples, int batch,
                         char *err, size_t cap);
int drv_bn_recalibrate(ir_graph *g, const rt_dataset *train, int samples, int batch, char *err, size_t cap);

/* Loads a supernet file for space s: its space and layout must be those
 * of the supernet built from s now (an edit elsewhere in the file, e.g. to
 * the search section, keeps it valid).  NULL with err naming the file. */
sn_net *drv_supernet_load(nasc_ctx *c, program *p, space_ir *s, const char *path, char *err, size_t cap);

/* The supernet evaluator for a search: replaces iface->eval with one that
 * inherits each point's weights from the supernet file `path`. */
/* The supernet evaluator is the builtin kind with command
 * "supernet:FILE": FILE, or NULL for any other evaluator. */
const char *drv_evaluator_supernet(const sr_config *cfg);
int drv_supernet_evaluator(drv_space *h, const char *path, sr_space_iface *iface, char *err, size_t cap);
/* Frees what drv_supernet_evaluator loaded (nothing for another iface). */
void drv_supernet_evaluator_free(sr_space_iface *iface);

/* Whether path is a readable file written by nasc supernet. */
bool drv_is_supernet_file(const char *path);
/* The weights of point a (graph g) from the supernet file path, BN
 * statistics recalibrated on the point's training data.  0, or -1 with
 * err naming the file. */
int drv_subnet_from_file(nasc_ctx *c, program *p, space_ir *s, assignment *a, ir_graph *g, const char *path,
                         char *err, size_t cap);

/* The values a decision is covered with (at most 64 of an integer range),
 * the i-th of them, the largest (smallest) value of a numeric decision or
 * alternative `alt` of another, and whether its alternatives are numbers;
 * the supernet's covering set and drv_darts.c use the same ones. */
int drv_sn_n_values(const decision *d);
sval drv_sn_value_at(const decision *d, int i);
sval drv_sn_base_value(const decision *d, bool largest, int alt);
bool drv_sn_numeric(const decision *d);

#endif
