/* ps_pipeline.c: the one ordered table of graph passes, and its driver.
 *
 * Order matters: folding batchnorm before dead-node removal lets the
 * removal see the folded graph; lowering turns views into aliases; the
 * fusions run from the most to the least common pattern; the memory plan
 * comes last because fusion changes when values are produced.
 */
#include <string.h>
#include "passes.h"

static const ps_pass passes[] = {
    {"fold-bn", ps_pass_fold_bn, NULL, "fold batchnorm into the preceding conv/dense"},
    {"dce", ps_pass_dce, NULL, "remove dropout, identities, zero addends, unused nodes"},
    {"quant", ps_pass_quant, NULL, "int8 weights and calibrated input scales of dense/conv (--quant)"},
    {"lower", ps_pass_lower, NULL, "build the lowered graph (flatten as a view)"},
    {"fuse-bn", ps_pass_fuse_bn, "lower", "remaining batchnorm as a per-channel affine epilogue"},
    {"fuse-act", ps_pass_fuse_act, "lower", "activations into the producing loop nest"},
    {"fuse-add", ps_pass_fuse_add, "lower", "residual adds into the producing loop nest"},
    {"fuse-mul", ps_pass_fuse_mul, "lower", "elementwise/per-channel products into the producer"},
    {"fuse-pool", ps_pass_fuse_pool, "lower", "max/avg pooling into the producing convolution"},
    {"plan-memory", ps_pass_plan_memory, "lower", "activation arena offsets, reused by liveness"},
};

const ps_pass *ps_pipeline(int *n) {
    *n = (int)(sizeof passes / sizeof passes[0]);
    return passes;
}

bool ps_opts_skips(const ps_opts *o, const char *pass) {
    if (!o) return false;
    for (int i = 0; i < o->n_skip && i < 16; i++)
        if (o->skip[i] && !strcmp(o->skip[i], pass)) return true;
    return false;
}

static int verify(const ps_state *ps, const char *after, char *err, size_t errcap) {
    char buf[256];
    const char *e = ps->lg ? ps_lgraph_verify(ps->lg, buf, sizeof buf)
                           : ir_graph_verify(&ps->g, IR_VERIFY_WEIGHTS, buf, sizeof buf);
    if (!e) e = ps_quant_verify(ps, buf, sizeof buf);
    if (!e) return 0;
    snprintf(err, errcap, "internal error: graph invalid after pass %s: %s", after, e);
    return -1;
}

int ps_run_pipeline(ps_state *ps, const char *dump_after, FILE *dump, char *err, size_t errcap) {
    int n;
    const ps_pass *p = ps_pipeline(&n);
    bool found = dump_after == NULL;
    for (int i = 0; i < n; i++) found |= dump_after && !strcmp(dump_after, p[i].name);
    if (!found) {
        snprintf(err, errcap, "unknown pass '%s' for --dump-after", dump_after);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        bool required = false; /* a pass others depend on always runs */
        for (int j = i + 1; j < n; j++) required |= p[j].requires && !strcmp(p[j].requires, p[i].name);
        if (!required && ps_opts_skips(ps->opts, p[i].name)) continue;
        if (p[i].fn(ps, err, errcap)) return -1;
#ifndef NDEBUG
        if (verify(ps, p[i].name, err, errcap)) return -1;
#else
        (void)verify;
#endif
        if (dump_after && dump && !strcmp(dump_after, p[i].name)) {
            fprintf(dump, "; after pass %s\n", p[i].name);
            ps_dump(ps, dump);
        }
    }
    return 0;
}
