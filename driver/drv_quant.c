/* drv_quant.c: calibration images for post-training quantisation: the
 * first N samples of the point's training split, as the recipe loads and
 * standardises them (so they are what the network saw in training, and
 * the same on every run: the split is fixed by train.seed). */
#include "drv_quant.h"
#include <string.h>
#include "calib.h"
#include "recipe.h"

int drv_quant_kind(const char *name) {
    if (!name || !strcmp(name, "none")) return PS_QUANT_NONE;
    if (!strcmp(name, "int8")) return PS_QUANT_INT8;
    return -1;
}

int drv_calib_load(const section *train, int64_t n, drv_calib *c, char *err, size_t cap) {
    recipe r;
    if (!recipe_from_section(train, &r, err, cap)) return -1;
    const recipe_data *d = recipe_load_data(&r, err, cap);
    if (!d) return -1;
    if (!drv_calib_from(c, d->train.x, d->train.n, n)) {
        snprintf(err, cap, "--quant int8: the calibration set is empty (the training split has no images)");
        return -1;
    }
    return 0;
}

bool drv_calib_from(drv_calib *c, const float *x, int64_t avail, int64_t n) {
    memset(c, 0, sizeof *c);
    c->asked = n > 0 ? n : RT_CALIB_DEFAULT;
    c->n = avail < c->asked ? avail : c->asked;
    c->x = x;
    c->po.quant = PS_QUANT_INT8;
    c->po.calibrate = drv_calibrate;
    c->po.calib_ctx = c;
    return c->n >= 1 && x;
}

int drv_calibrate(void *ctx, const ir_graph *g, float *amin, float *amax, char *err, size_t cap) {
    const drv_calib *c = ctx;
    return rt_calib_ranges(g, c->x, c->n, amin, amax, err, cap);
}
