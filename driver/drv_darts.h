/* drv_darts.h: differentiable search on the supernet of a space
 * (docs/differentiable.md): the union graph in which every relaxable
 * decision becomes a weighted mixture of its alternatives, its bilevel
 * training with darts, gdas, fbnet or proxyless, and the derived point.
 *
 * The union graph is found from the space generically.  Every layer has a
 * stable key (ir_node.key); graphs of points that differ in one decision
 * are merged by key, and each input slot of each layer whose input layer
 * changes with decisions becomes a tree of mixtures over those decisions
 * (the smallest tree consistent with every graph built).  A mixture over
 * tensors t_1..t_k is  sum_i w_i * t_i,  built from plain IR operations: a
 * per-channel scale (a dense layer on a zero input, whose bias is w_i)
 * multiplied into each tensor and an add; so the union graph is an
 * ordinary ir_graph that rt_exec trains and differentiates.  Nothing here
 * prints. */
#ifndef NASC_DRV_DARTS_H
#define NASC_DRV_DARTS_H

#include <stdbool.h>
#include "arena.h"
#include "darts.h"
#include "drv_supernet.h"
#include "exec.h"

/* How a decision takes part (docs/differentiable.md). */
typedef enum {
    DRV_DA_RELAXED, /* alpha over its alternatives, mixed where the graph changes */
    DRV_DA_FIXED,   /* held at one value: shapes or attributes change, or float/subset */
    DRV_DA_INERT,   /* changes no layer (only a require or a section reads it) */
    DRV_DA_RECIPE   /* a train/search section decision */
} drv_da_kind;

typedef struct drv_da_dec {
    drv_da_kind kind;
    int n;               /* values (alternatives) */
    sval *vals;          /* the value of each alternative */
    int fixed;           /* FIXED/INERT: the index of the value held */
    char why[256];       /* FIXED: the reason */
    int n_mix;           /* mixture points in the union graph */
    const char *example; /* a layer where it is mixed, or NULL */
    bool *param_free;    /* per alternative: adds no trainable weight (skip, zero, pooling) */
    float *alpha, *galpha;
    int off; /* RELAXED: its first entry in flat per-alternative arrays */
    float
        *lat; /* with a latency table: the point's latency (us) at each alternative, the others at the base */
} drv_da_dec;

typedef struct drv_da_scale { /* a mixture weight in the union graph */
    int node;                 /* the dense node whose bias is the weight */
    int dec;                  /* its decision */
    uint64_t alts;            /* the alternatives whose weights it sums */
} drv_da_scale;

typedef struct drv_darts {
    nasc_ctx *c;
    program *p;
    space_ir *s;
    arena A; /* everything below, freed by drv_darts_free */
    int n_dec;
    drv_da_dec *d; /* per decision of s */
    int n_relaxed;
    sval *base; /* the base point: fixed values, relaxed at their first value */
    ir_graph g; /* the union graph; parameters allocated by drv_darts_train */
    int n_scale;
    drv_da_scale *scale;
    int n_points;    /* graphs built to find it */
    bool *is_scale;  /* per node of g: a mixture weight */
    double lat_base; /* with a latency table: the base point's latency (us), else 0 */
} drv_darts;

/* Builds the union graph of space s.  A decision that varies widths or
 * kernels, attributes, or a float or subset decision is fixed (at its
 * largest value, or its first alternative); a space left with nothing to
 * relax is an error "nothing to relax".  Diagnostics in c; false then. */
bool drv_darts_build(drv_darts *D, nasc_ctx *c, program *p, space_ir *s, da_method m);
void drv_darts_free(drv_darts *D);
/* The --explain text (malloc'ed). */
char *drv_darts_explain(const drv_darts *D, da_method m);

/* Total alternatives over the relaxed decisions (the length of flat
 * per-alternative arrays, decisions in order). */
int drv_darts_n_weights(const drv_darts *D);
/* Sets the union graph's mixture weights from w (flat, see above). */
void drv_darts_set_weights(drv_darts *D, const float *w);
/* After a backward of an rt_exec of D->g: the gradient of the loss with
 * respect to every mixture weight (flat), summed over its mixture points. */
void drv_darts_weight_grads(const drv_darts *D, rt_exec *e, float *gw);
/* Whether trainable i of rt_exec_trainables is a mixture weight (those are
 * set, not trained). */
bool drv_darts_is_scale(const drv_darts *D, const ir_param *p);

typedef struct drv_da_cfg {
    da_method method;
    int epochs; /* 0: the train section's */
    uint64_t seed;
    double alpha_lr, alpha_wd; /* Adam on alpha; 0: 3e-4 and 1e-3 (DARTS) */
    double tau0, tau_decay;    /* gumbel methods; 0: 5.0 and 0.956 per epoch (FBNet) */
    /* the latency term on alpha (D->lat_base > 0 needed): 0 none, 1 additive
     * (ProxylessNAS: + lambda * E[LAT] / LAT(base)), 2 multiplicative (FBNet:
     * CE * a * log(E[LAT] in us)^b) */
    int latency_form;
    double lat_lambda, lat_a, lat_b; /* 0: 0.1, 0.2 and 0.6 */
    rt_progress_fn progress;
    void *progress_ctx;
    /* one line per epoch (may be NULL): epoch, loss, validation accuracy,
     * share of relaxed decisions whose argmax is parameter-free, tau */
    void (*epoch_report)(void *ctx, int epoch, int epochs, double loss, double val_acc, double free_share,
                         double tau);
    double *train_time;
} drv_da_cfg;

/* Trains weights and alpha (bilevel, first order: weights on the training
 * split, alpha on the validation split) and writes, at the end of every
 * epoch, the supernet file `out` (sb's layout, readable by build/run and
 * the supernet evaluator), the derived point and the alphas (file names
 * from drv_folder_darts).  NaN in the loss, weights or alpha stops the run
 * naming the step and the decision; the files of the last good epoch stay. */
int drv_darts_train(drv_darts *D, drv_supernet *sb, const drv_da_cfg *cfg, const char *out, char *err,
                    size_t cap);

/* The derived point: per relaxed decision the alternative of largest
 * alpha (the next best where a require excludes it).  point_json text in
 * the ctx arena, or NULL with err. */
char *drv_darts_derive(drv_darts *D, char *err, size_t cap);

/* ----- the latency table (drv_latency.c) ----- */

/* Measures every layer of the union graph at its shapes (JIT-compiled
 * alone, median batch-1 latency, the cost of an empty call subtracted),
 * and checks the table against `n_check` random points compiled whole.
 * Writes the table as JSON to out; a summary line in summary. */
int drv_latency_table(drv_darts *D, double budget_ms, int n_check, const char *out, char *summary,
                      size_t scap, char *err, size_t cap);
/* Writes text to path through a temporary file and a rename. */
int drv_darts_write_text(const char *path, const char *text, char *err, size_t cap);
/* Reads a table (written here or elsewhere) for D's space and sets every
 * relaxed decision's lat[] and D->lat_base from it; -1 with err naming the
 * file and a missing layer. */
int drv_latency_load(drv_darts *D, const char *path, char *err, size_t cap);

#endif
