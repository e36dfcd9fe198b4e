/* cg_pipeline.c: the one ordered table of graph passes, and its driver.
 *
 * Order matters: folding batchnorm before dead-node removal lets the
 * removal see the folded graph; lowering turns views into aliases; the
 * fusions run from the most to the least common pattern; the memory plan
 * comes last because fusion changes when values are produced.
 */
#include <string.h>
#include "cg_passes.h"

static const cg_pass passes[] = {
    {"fold-bn", cg_pass_fold_bn, NULL, "fold batchnorm into the preceding conv/dense"},
    {"dce", cg_pass_dce, NULL, "remove dropout, identities, zero addends, unused nodes"},
    {"lower", cg_pass_lower, NULL, "build the lowered graph (flatten as a view)"},
    {"fuse-bn", cg_pass_fuse_bn, "lower", "remaining batchnorm as a per-channel affine epilogue"},
    {"fuse-act", cg_pass_fuse_act, "lower", "activations into the producing loop nest"},
    {"fuse-add", cg_pass_fuse_add, "lower", "residual adds into the producing loop nest"},
    {"fuse-mul", cg_pass_fuse_mul, "lower", "elementwise/per-channel products into the producer"},
    {"fuse-pool", cg_pass_fuse_pool, "lower", "max/avg pooling into the producing convolution"},
    {"plan-memory", cg_pass_plan_memory, "lower", "activation arena offsets, reused by liveness"},
};

const cg_pass *cg_pipeline(int *n) {
    *n = (int)(sizeof passes / sizeof passes[0]);
    return passes;
}

bool cg_opts_skips(const cg_opts *o, const char *pass) {
    if (!o) return false;
    for (int i = 0; i < o->n_skip && i < 16; i++)
        if (o->skip[i] && !strcmp(o->skip[i], pass)) return true;
    return false;
}

static int verify(const cg_state *st, const char *after, char *err, size_t errcap) {
    char buf[256];
    const char *e = st->lg ? cg_lgraph_verify(st->lg, buf, sizeof buf)
                           : ir_graph_verify(&st->g, IR_VERIFY_WEIGHTS, buf, sizeof buf);
    if (!e) return 0;
    snprintf(err, errcap, "internal error: graph invalid after pass %s: %s", after, e);
    return -1;
}

int cg_run_pipeline(cg_state *st, const char *dump_after, FILE *dump, char *err, size_t errcap) {
    int n;
    const cg_pass *p = cg_pipeline(&n);
    bool found = dump_after == NULL;
    for (int i = 0; i < n; i++) found |= dump_after && !strcmp(dump_after, p[i].name);
    if (!found) {
        snprintf(err, errcap, "unknown pass '%s' for --dump-after", dump_after);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        bool required = false; /* a pass others depend on always runs */
        for (int j = i + 1; j < n; j++) required |= p[j].requires && !strcmp(p[j].requires, p[i].name);
        if (!required && cg_opts_skips(st->opts, p[i].name)) continue;
        if (p[i].fn(st, err, errcap)) return -1;
#ifndef NDEBUG
        if (verify(st, p[i].name, err, errcap)) return -1;
#else
        (void)verify;
#endif
        if (dump_after && dump && !strcmp(dump_after, p[i].name)) {
            fprintf(dump, "; after pass %s\n", p[i].name);
            cg_dump(st, dump);
        }
    }
    return 0;
}
