/* sn_checkpoint.h: the training checkpoint of a supernet (prefix sn_),
 * so that a killed `nasc supernet` continues where it stopped and ends
 * with the weights an uninterrupted run gives (docs/one-shot.md).
 *
 * A checkpoint is a safetensors file: every tensor of the store (its
 * current values, running statistics included), the optimizer state of
 * every tensor that has one ("optim.<tensor>.<suffix>"), the optimizer
 * step count of each tensor in the metadata "nasc.sn_optim_steps", and the
 * caller's metadata (the trainer's position and random states).  Written
 * through a temporary file and a rename.  Nothing here prints. */
#ifndef NASC_RT_SN_CHECKPOINT_H
#define NASC_RT_SN_CHECKPOINT_H

#include "safetensors.h"
#include "supernet.h"

int sn_checkpoint_save(const sn_net *n, const char *path, const char *const *keys, const char *const *vals,
                       int n_meta, char *err, size_t cap);
/* Restores a checkpoint read with rt_st_read into n (built for the same
 * space: every tensor present with its shape, sn_alloc'ed or not), making
 * each tensor's optimizer with cfg.  Fails naming the file and the first
 * tensor that does not fit; n is then unusable for training. */
int sn_checkpoint_restore(sn_net *n, const rt_st_file *f, const char *path, const rt_optim_cfg *cfg,
                          char *err, size_t cap);

#endif
