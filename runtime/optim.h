/* optim.h: optimizers (SGD with momentum/Nesterov/weight decay, Adam,
 * AdamW) and learning-rate schedules, with state that can be saved and
 * restored so that training resumes to a higher fidelity.
 * Semantics follow PyTorch's torch.optim so recipes carry over. */
#ifndef NASC_RT_OPTIM_H
#define NASC_RT_OPTIM_H

#include <stddef.h>
#include <stdint.h>

typedef enum { OPT_SGD, OPT_ADAM, OPT_ADAMW } rt_opt_kind;

typedef struct rt_optim_cfg {
    rt_opt_kind kind;
    double lr;
    double momentum;          /* SGD */
    int nesterov;             /* SGD */
    double weight_decay;      /* SGD/Adam: L2 added to the gradient; AdamW: decoupled */
    double beta1, beta2, eps; /* Adam: defaults 0.9, 0.999, 1e-8 when 0 */
} rt_optim_cfg;

typedef enum { SCHED_CONSTANT, SCHED_COSINE, SCHED_STEP } rt_sched_kind;

typedef struct rt_sched_cfg {
    rt_sched_kind kind;
    double step_size; /* SCHED_STEP: epochs between decays */
    double gamma;     /* SCHED_STEP: factor (default 0.1) */
    double min_lr;    /* SCHED_COSINE: floor (default 0) */
    int warmup_steps; /* linear warmup, 0 = none */
} rt_sched_cfg;

typedef struct rt_optim rt_optim;

/* n tensors: params[i] and grads[i] of sizes[i] floats (not copied: the
 * optimizer updates params in place, reading grads). */
rt_optim *rt_optim_new(const rt_optim_cfg *cfg, int n, float **params, float **grads, const int64_t *sizes);
void rt_optim_free(rt_optim *o);
/* One update with learning rate lr (the schedule's value for this step). */
void rt_optim_step(rt_optim *o, double lr);
/* The learning rate at `step` of `total` steps (epoch = step / steps_per_epoch). */
double rt_sched_lr(const rt_sched_cfg *s, double base_lr, int64_t step, int64_t total,
                   int64_t steps_per_epoch);

/* Optimizer state (momentum buffers, Adam moments, step count) as named
 * float tensors, to be stored next to the weights; and restored. */
int rt_optim_state_count(const rt_optim *o);
/* i-th state tensor: name suffix (e.g. "momentum", "exp_avg"), param index, data, size. */
void rt_optim_state_get(rt_optim *o, int i, const char **suffix, int *param, float **data, int64_t *size);
int64_t rt_optim_steps(const rt_optim *o);
void rt_optim_set_steps(rt_optim *o, int64_t steps);

#endif
