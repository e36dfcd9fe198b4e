/* train.h: training and evaluating one concrete graph on a data set,
 * saving/loading weights with optimizer state (to resume to a higher
 * fidelity), and the training-free proxies computed at initialisation.
 *
 * The validation split is the CALLER's job (rt_dataset_split from data.h):
 * rt_trainer_run takes the train, validation and test sets separately; the
 * test set is only evaluated and reported, never used to choose anything.
 * Nothing here prints; errors come back as -1 with a message in err.
 */
#ifndef NASC_RT_TRAIN_H
#define NASC_RT_TRAIN_H

#include <stddef.h>
#include <stdint.h>
#include "augment.h"
#include "data.h"
#include "exec.h"
#include "graph.h"
#include "optim.h"

typedef struct rt_progress {
    int epoch, epochs;   /* current epoch (1-based) and the total to reach */
    int64_t step, steps; /* optimizer steps done and planned (whole run, resumed ones included) */
    double loss;         /* mean training loss of the current epoch so far */
} rt_progress;

/* Called every few steps and at the end of each epoch; a nonzero return
 * stops training with the error "training cancelled". */
typedef int (*rt_progress_fn)(void *ctx, const rt_progress *p);

/* State read back by rt_load_weights for resuming (all malloc'ed). */
typedef struct rt_resume {
    int epochs;    /* epochs already trained ("nasc.epochs") */
    int64_t steps; /* optimizer steps already taken ("nasc.optim_steps") */
    int n;         /* optimizer state tensors, named "optim.<param>.<suffix>" */
    char **names;
    float **data;
    int64_t *sizes;
    char *point; /* "nasc.point" metadata, or NULL */
    char *space; /* "nasc.space" metadata, or NULL */
} rt_resume;
void rt_resume_free(rt_resume *r);

typedef struct rt_train_cfg {
    int epochs;           /* total epochs to reach; with a resume, training continues from resume->epochs */
    double data_fraction; /* (0, 1]: train on this fixed (seeded) fraction of the training set; 0 means 1 */
    int batch;            /* mini-batch size; the last batch of an epoch may be smaller */
    rt_optim_cfg optim;
    rt_sched_cfg sched; /* lr follows rt_sched_lr over epochs * steps_per_epoch steps */
    rt_init_kind init;  /* used only when the graph's parameters are not yet allocated */
    uint64_t seed;      /* init, per-epoch shuffles, dropout masks */
    int threads;        /* OpenBLAS threads for this trial; 0 leaves the current setting */
    rt_progress_fn progress;
    void *progress_ctx;
    const rt_resume *resume; /* NULL: fresh optimizer state */
    rt_augment augment;      /* applied to every training batch (augment.h); n == 0: none */
} rt_train_cfg;

typedef struct rt_metrics {
    double accuracy;               /* validation accuracy in [0, 1]; NAN without a validation set */
    double test_accuracy;          /* test accuracy; NAN without a test set */
    double loss;                   /* mean training loss over the FINAL epoch (NAN if no epoch ran) */
    double val_loss;               /* mean validation cross-entropy; NAN without a validation set */
    double train_time;             /* wall seconds of the training loop (evaluation excluded) */
    int64_t params, flops, memory; /* copied from the graph (ir_graph_finish) */
    int epochs;                    /* epochs trained in total, resumed ones included */
    int64_t steps;                 /* optimizer steps in total */
} rt_metrics;

typedef struct rt_trainer rt_trainer;

/* Prepares training of g: initialises its parameters (cfg->init, seed)
 * unless they are already allocated (e.g. by rt_load_weights), builds the
 * executor and optimizer and applies cfg->resume.  The trainer keeps
 * pointers to g and cfg->resume state only during this call. */
rt_trainer *rt_trainer_new(ir_graph *g, const rt_train_cfg *cfg, char *err, size_t errcap);
/* Trains up to cfg->epochs and evaluates.  Deterministic for a given seed
 * and thread count.  A NaN or Inf loss fails with "loss became NaN in
 * epoch 2".  val and test may be NULL. */
int rt_trainer_run(rt_trainer *t, const rt_dataset *train, const rt_dataset *val, const rt_dataset *test,
                   rt_metrics *m, char *err, size_t errcap);
/* The optimizer of a trainer (for rt_save_weights). */
rt_optim *rt_trainer_optim(rt_trainer *t);
void rt_trainer_free(rt_trainer *t);

/* rt_trainer_new + rt_trainer_run + rt_trainer_free. */
int rt_train(ir_graph *g, const rt_train_cfg *cfg, const rt_dataset *train, const rt_dataset *val,
             const rt_dataset *test, rt_metrics *m, char *err, size_t errcap);

/* Eval-mode accuracy (and mean cross-entropy into *loss if not NULL) of
 * an initialised graph on d.  Returns -1 with err set on mismatched data. */
int rt_evaluate(ir_graph *g, const rt_dataset *d, int batch, double *accuracy, double *loss, char *err,
                size_t errcap);
/* Checks that d fits g (sample size, labels below the output size). */
int rt_check_data(const ir_graph *g, const rt_dataset *d, const char *what, char *err, size_t errcap);

/* Writes every parameter of g (ir_param.name, PyTorch layouts, running
 * statistics included), the optimizer state if opt is not NULL (tensors
 * "optim.<param name>.<suffix>", metadata "nasc.optim_steps") and the
 * metadata "nasc.point" (point_json, may be NULL), "nasc.space",
 * "nasc.epochs" and, when g has an input standardisation, "nasc.normalize"
 * (normalize.h) as a safetensors file. */
int rt_save_weights(const ir_graph *g, rt_optim *opt, const char *path, const char *point_json, int epochs,
                    char *err, size_t errcap);
/* Loads a file written by rt_save_weights (or any safetensors file with the
 * same tensor names) into g, allocating parameter buffers that are NULL,
 * and sets g->norm from "nasc.normalize" (none when the file has none).
 * Every parameter must be present with the graph's shape, and the file may
 * hold no other tensor than optimizer state; otherwise nothing is changed
 * and err reads e.g. "weights file w.safetensors does not match this
 * network: tensor 'dense.weight' has shape [256, 784], expected [128, 784]".
 * If state is not NULL it receives the resume state (free with
 * rt_resume_free). */
int rt_load_weights(ir_graph *g, const char *path, rt_resume *state, char *err, size_t errcap);

/* The training-free proxies (naswot, synflow and the others) are in proxies.h. */
#include "proxies.h"

#endif
