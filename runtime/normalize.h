/* normalize.h: input standardisation (train.normalize = standard): the
 * per-channel statistics of a training set, their application to a data
 * set or a batch of inputs, and their text form in a weights file's
 * metadata ("nasc.normalize"), so that training, `nasc run`, `nasc build`
 * and the built executable all apply the one transform (ir_input_norm in
 * graph.h).  Nothing here prints; errors come back as -1 with err set.
 */
#ifndef NASC_RT_NORMALIZE_H
#define NASC_RT_NORMALIZE_H

#include <stddef.h>
#include <stdint.h>
#include "data.h"
#include "graph.h"

/* The channel count of a sample shape and the values per channel: [C, ...]
 * has C channels of numel / C values; a rank-1 sample [d] is one channel. */
int rt_norm_channels(const ir_shape *sample, int64_t *per_channel);

/* Mean and (population) standard deviation of every channel of d, in
 * double precision.  Fails on an empty set, more than IR_NORM_MAX_CHANNELS
 * channels, or a constant channel (std 0, which cannot be divided by). */
int rt_norm_fit(const rt_dataset *d, ir_input_norm *n, char *err, size_t errcap);

/* Checks an explicit normalize = standard(mean = [...], std = [...]) against
 * the sample shape (one value per channel, every std positive and finite). */
int rt_norm_check(const ir_input_norm *n, const ir_shape *sample, char *err, size_t errcap);

/* x' = (x - mean[c]) / std[c] over count samples of numel values, in
 * place.  Samples are channel-major ([C, H, W] flattened), so channel c is
 * the c-th of n->channels equal runs, whatever shape the network's input
 * declares ([3072] or [3, 32, 32]).  A norm with 0 channels leaves x as it
 * is; numel must be a multiple of the channels. */
int rt_norm_apply(const ir_input_norm *n, int64_t numel, float *x, int64_t count, char *err, size_t errcap);

/* The value channel c takes where the raw input is 0 (black padding of a
 * random crop, as PyTorch pads before it normalises). */
float rt_norm_zero(const ir_input_norm *n, int c);

/* {"mean": [...], "std": [...]} with every float written so that it reads
 * back to the same bits.  Returns a malloc'ed string, or NULL (no memory). */
char *rt_norm_format(const ir_input_norm *n);
/* Parses rt_norm_format's output; what names the file for messages. */
int rt_norm_parse(const char *text, const char *what, ir_input_norm *n, char *err, size_t errcap);

#endif
