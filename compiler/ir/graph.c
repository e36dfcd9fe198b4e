/* graph.c: small utilities over the concrete graph IR (activation names,
 * shapes).  What each operation is, and what follows from it (the
 * verifier, a graph's totals), lives in ops.c. */
#include <stdio.h>
#include <string.h>
#include "graph.h"

static const char *act_names[ACT_COUNT] = {
    "relu", "relu6", "gelu", "tanh", "sigmoid", "swish", "hswish", "identity",
};

int64_t ir_shape_numel(const ir_shape *s) {
    int64_t n = 1;
    for (int i = 0; i < s->rank; i++) n *= s->d[i];
    return n;
}

const char *ir_act_name(ir_act a) { return (unsigned)a < ACT_COUNT ? act_names[a] : "?"; }

char *ir_shape_str(const ir_shape *s, char *buf, int cap) {
    int n = snprintf(buf, (size_t)cap, "[");
    for (int i = 0; i < s->rank && n < cap; i++)
        n += snprintf(buf + n, (size_t)(cap - n), "%s%lld", i ? ", " : "", (long long)s->d[i]);
    if (n < cap) snprintf(buf + n, (size_t)(cap - n), "]");
    return buf;
}
