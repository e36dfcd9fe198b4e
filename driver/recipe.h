/* recipe.h: from a point's `train` section to the runtime's training
 * configuration and data, shared by `nasc train` and the search's builtin
 * evaluator. */
#ifndef NASC_RECIPE_H
#define NASC_RECIPE_H

#include "space.h"
#include "train.h"

typedef struct recipe {
    rt_train_cfg cfg;
    double split;  /* validation fraction */
    double epochs; /* as written (may be fractional: then data_fraction) */
    enum { DATA_FASHION, DATA_IDX, DATA_CSV, DATA_CIFAR10, DATA_CIFAR100 } data;
    const char *path1, *path2;              /* idx images/labels, csv path, cifar directory */
    const char *label;                      /* csv label column */
    int test_kind;                          /* 0: none (fashion_mnist brings its own), DATA_IDX or DATA_CSV */
    const char *test1, *test2, *test_label; /* the `test = ...` data */
    /* train.normalize: unit (as read), standard from the training split, or
     * standard(mean = [...], std = [...]) given (then norm holds them) */
    enum { NORM_UNIT, NORM_STANDARD, NORM_GIVEN } normalize;
    ir_input_norm norm;
    /* What a search trial can skip (nasc train computes everything): */
    double val_fraction; /* validate on this fraction of the validation split (0: all), at least
                            RECIPE_MIN_VAL samples */
    bool skip_test;      /* no test accuracy */
    unsigned proxies;    /* training-free proxies to compute, bits (1u << rt_proxy_id); recipe_from_section
                            sets naswot and synflow (what nasc train prints) */
    unsigned proxies_needed; /* of those, the ones without which the trial is pointless: when one is
                                missing, recipe_train fails with its reason before training */
} recipe;

#define RECIPE_MIN_VAL 100

/* Reads the train section (already evaluated for one point).  Returns
 * false with a message in err for values the checker could not rule out. */
bool recipe_from_section(const section *tr, recipe *r, char *err, size_t cap);

/* The data of a recipe, loaded once per process and split into train and
 * validation by the recipe's seed. */
typedef struct recipe_data {
    rt_dataset train, val, test; /* standardised when the recipe says so */
    bool have_test;
    ir_input_norm norm; /* the transform applied (channels 0: none); recipe_train gives it to the graph */
    char key[1200];
} recipe_data;

/* Relative data paths are also looked up beside this source file. */
void recipe_set_base(const char *source_file);

/* Loads (or reuses, when the same data and split were loaded before). */
const recipe_data *recipe_load_data(const recipe *r, char *err, size_t cap);

/* Trains g by r (fidelity > 0 overrides the epochs), computing the
 * training-free proxies first.  Fills metrics; 0 or -1 with err. */
typedef struct trial_metrics {
    rt_metrics m;
    rt_proxy_values px; /* the proxies of recipe.proxies (NAN with a reason when missing) */
    /* Where the time went, in seconds: initialisation and proxies, the
     * trainer's run besides its training (validation and test), the
     * training itself (m.train_time). */
    double time_proxies, time_eval;
} trial_metrics;

/* The proxies of r->proxies on g's initial parameters, on one batch of
 * 64 training samples drawn by the recipe's seed. */
int recipe_proxies(ir_graph *g, const recipe *r, const recipe_data *d, rt_proxy_values *px, char *err,
                   size_t cap);

/* Monotonic seconds. */
double recipe_now(void);
int recipe_train(ir_graph *g, recipe *r, double fidelity, const rt_resume *resume, rt_progress_fn progress,
                 void *progress_ctx, trial_metrics *out, rt_trainer **keep, char *err, size_t cap);

#endif
