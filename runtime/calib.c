/* calib.c: per-node activation ranges over calibration images (max |x|,
 * the symmetric min/max rule: no percentile clipping, so the ranges never
 * depend on the order of the images). */
#include "calib.h"
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "exec.h"

#define CALIB_BATCH 64

int rt_calib_ranges(const ir_graph *g, const float *x, int64_t n, float *amin, float *amax, char *err,
                    size_t cap) {
    if (n < 1 || !x) {
        snprintf(err, cap, "the calibration set is empty (--calib must be at least 1)");
        return -1;
    }
    rt_exec *e = rt_exec_new((ir_graph *)g, (int)(n < CALIB_BATCH ? n : CALIB_BATCH), 0);
    if (!e) {
        if (rt_exec_check(g, err, cap) == 0) snprintf(err, cap, "out of memory for calibration");
        return -1;
    }
    memset(amax, 0, (size_t)g->n_nodes * sizeof *amax);
    for (int i = 0; i < g->n_nodes; i++) amin[i] = INFINITY;
    int64_t in = ir_shape_numel(&g->nodes[g->input].shape);
    for (int64_t b0 = 0; b0 < n; b0 += CALIB_BATCH) {
        int m = (int)(n - b0 < CALIB_BATCH ? n - b0 : CALIB_BATCH);
        rt_exec_forward(e, x + b0 * in, m, 0); /* eval: running batchnorm statistics, no dropout */
        for (int i = 0; i < g->n_nodes; i++) {
            const float *v = rt_exec_node_output(e, i);
            int64_t k = ir_shape_numel(&g->nodes[i].shape) * m;
            for (int64_t j = 0; v && j < k; j++) {
                float a = fabsf(v[j]);
                if (!(a <= amax[i])) amax[i] = a; /* NaN propagates: the pass rejects it */
                if (v[j] < amin[i]) amin[i] = v[j];
            }
        }
    }
    rt_exec_free(e);
    return 0;
}
