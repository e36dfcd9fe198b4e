/* drv_quant.h: --quant int8 for nasc build / run and the search's latency
 * metric: the calibration images of a point (its training data) and the
 * callback the quant pass calls (passes.h, ps_calib_fn). */
#ifndef NASC_DRV_QUANT_H
#define NASC_DRV_QUANT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "passes.h"
#include "space.h"

typedef struct drv_calib {
    const float *x; /* the first n images of the training split (standardised as in training) */
    int64_t n;
    int64_t asked; /* what --calib asked for (n is smaller when the split is) */
    ps_opts po;    /* quant = int8, calibrate = drv_calibrate, calib_ctx = this */
} drv_calib;

/* Parses a --quant / quant = value: PS_QUANT_INT8 or PS_QUANT_NONE; -1
 * for anything else. */
int drv_quant_kind(const char *name);

/* Loads the calibration images for a point of the train section `train`
 * (n: --calib, 0 for the default RT_CALIB_DEFAULT) and fills c->po.  The
 * images stay owned by the recipe's data cache.  0, or -1 with err (no
 * training data, an empty split). */
int drv_calib_load(const section *train, int64_t n, drv_calib *c, char *err, size_t cap);

/* Calibration on the first n (0: the default) of the avail images at x;
 * false when there are none. */
bool drv_calib_from(drv_calib *c, const float *x, int64_t avail, int64_t n);

/* ps_calib_fn over a drv_calib. */
int drv_calibrate(void *ctx, const ir_graph *g, float *amin, float *amax, char *err, size_t cap);

#endif
