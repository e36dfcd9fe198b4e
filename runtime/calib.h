/* calib.h: activation ranges for post-training quantisation (nasc build
 * --quant int8): the reference executor runs the calibration images and
 * the largest |value| of every node's output is recorded. */
#ifndef NASC_RT_CALIB_H
#define NASC_RT_CALIB_H

#include <stddef.h>
#include <stdint.h>
#include "graph.h"

/* Default number of calibration images (--calib N). */
#define RT_CALIB_DEFAULT 256

/* amin[id] = min and amax[id] = max |.| of node id's output over the n samples at x ([n, input
 * numel], as the network sees them: standardised when it was trained so),
 * eval mode.  Deterministic.  0, or -1 with a message (n < 1 included). */
int rt_calib_ranges(const ir_graph *g, const float *x, int64_t n, float *amin, float *amax, char *err,
                    size_t cap);

#endif
