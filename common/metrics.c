/* metrics.c: the one table of the metrics nasc itself knows (metrics.h). */
#include "metrics.h"
#include <string.h>

static const metric_info table[] = {
    /* name          unit         dimension  static request goal */
    {"accuracy", "", MD_NUMBER, false, false, true},
    {"test_accuracy", "", MD_NUMBER, false, true, false}, /* reported, never used to select */
    {"loss", "", MD_NUMBER, false, false, true},
    {"latency", "us", MD_TIME, false, true, true},
    {"throughput", "samples/s", MD_NUMBER, false, true, true},
    {"params", "count", MD_NUMBER, true, false, true},
    {"flops", "count", MD_NUMBER, true, false, true},
    {"memory", "bytes", MD_BYTES, true, false, true},
    /* the fp32 build's footprint (compiler/codegen/cg_footprint.h, docs/deployment.md) */
    {"ram", "bytes", MD_BYTES, true, true, true},
    {"flash", "bytes", MD_BYTES, true, true, true},
    {"train_time", "s", MD_TIME, false, false, true},
    {"epochs", "", MD_NUMBER, false, false, true},
    /* the training-free proxies (runtime/proxies.h, docs/proxies.md) */
    {"naswot", "", MD_NUMBER, false, true, true},
    {"synflow", "", MD_NUMBER, false, true, true},
    {"grad_norm", "", MD_NUMBER, false, true, true},
    {"snip", "", MD_NUMBER, false, true, true},
    {"grasp", "", MD_NUMBER, false, true, true},
    {"fisher", "", MD_NUMBER, false, true, true},
    {"jacov", "", MD_NUMBER, false, true, true},
    {"zen", "", MD_NUMBER, false, true, true},
    {"l2_norm", "", MD_NUMBER, false, true, true},
    {"plain", "", MD_NUMBER, false, true, true},
};
#define N_METRICS (int)(sizeof table / sizeof table[0])

const metric_info *metric_table(int *n) {
    *n = N_METRICS;
    return table;
}

const metric_info *metric_find(const char *name) {
    for (int i = 0; name && i < N_METRICS; i++)
        if (!strcmp(table[i].name, name)) return &table[i];
    return NULL;
}

const char *metric_dim_name(metric_dim d) {
    return d == MD_TIME ? "a time" : d == MD_BYTES ? "a size in bytes" : "a number";
}
