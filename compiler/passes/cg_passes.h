/* cg_passes.h: the graph passes that prepare a concrete graph for codegen.
 *
 * The pipeline works on a private copy of an ir_graph (weights are copied
 * only when a pass rewrites them), so the caller's graph is never touched.
 * The first passes rewrite that copy and keep it a valid ir_graph (so the
 * reference executor can run it: this is how batchnorm folding is tested);
 * then "lower" builds a cg_lgraph, one cg_lnode per ir node, which carries
 * what graph.h has no room for: views, fused epilogues and buffer offsets.
 * All passes are listed, in order, in one table (cg_pipeline.c); a verifier
 * runs after each one in debug builds, and any pass can be dumped.
 */
#ifndef NASC_CG_PASSES_H
#define NASC_CG_PASSES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "graph.h"

#define CG_MAX_EPI 8

/* One step applied to each value a node computes, before it is stored. */
typedef enum {
    CG_EPI_ACT,    /* v = act(v) */
    CG_EPI_ADD,    /* v += src[f] (residual add) */
    CG_EPI_MUL,    /* v *= src[f] */
    CG_EPI_MULC,   /* v *= src[channel] (squeeze-excite) */
    CG_EPI_AFFINE, /* v = v * scale[channel] + shift[channel] (batchnorm not folded) */
} cg_epi_kind;

typedef struct cg_epi {
    cg_epi_kind kind;
    ir_act act;
    int src;       /* value (lnode id) read by ADD/MUL/MULC */
    int from;      /* the ir node that was fused (for dumps) */
    int64_t inner; /* channel = flat index / inner */
    const float *scale, *shift;
} cg_epi;

typedef struct cg_lnode {
    const ir_node *ir; /* attributes; in the pipeline's graph copy */
    ir_op op;
    int n_in;
    int *in;        /* value ids (already resolved through views) */
    ir_shape shape; /* of the value; after pool fusion, the pool's (ir->shape stays the conv's) */
    int view_of;    /* >= 0: flatten/identity, shares that value's buffer */
    int fused_into; /* >= 0: computed as an epilogue of that node */
    int pos;        /* emission position (ir id of the last fused member) */
    int uses;       /* readers of this value (+1 if it is the output) */
    int n_epi;
    cg_epi epi[CG_MAX_EPI];
    int pool;             /* >= 0: a pool node fused after epi[0..n_epi_pre) (conv only) */
    int n_epi_pre;        /* steps applied per conv output before pooling */
    float *scale, *shift; /* batchnorm as affine (owned), channels = d0 */
    int64_t offset;       /* arena offset in floats per sample; -1 if not in the arena */
    int64_t numel;
} cg_lnode;

typedef struct cg_lgraph {
    int n;
    cg_lnode *nodes;   /* same ids as the ir graph they were lowered from */
    int input, output; /* value ids */
    int64_t arena;     /* floats per sample in the activation arena */
    bool planned;
} cg_lgraph;

/* Pass options: names of passes to skip (tests isolate one fusion). */
typedef struct cg_opts {
    const char *skip[16];
    int n_skip;
} cg_opts;

typedef struct cg_state {
    ir_graph g;   /* the private copy */
    void **owned; /* allocations of the copy */
    int n_owned, cap_owned;
    cg_lgraph *lg; /* after "lower" */
    const cg_opts *opts;
} cg_state;

typedef int (*cg_pass_fn)(cg_state *st, char *err, size_t errcap);
typedef struct cg_pass {
    const char *name;
    cg_pass_fn fn;
    const char *requires; /* a pass that must have run before (NULL: none) */
    const char *what;
} cg_pass;

/* The pipeline table, in order; *n receives its length. */
const cg_pass *cg_pipeline(int *n);

/* Copies g into st (0, or -1 with a message on bad input / no memory). */
int cg_state_init(cg_state *st, const ir_graph *g, const cg_opts *opts, char *err, size_t errcap);
void cg_state_free(cg_state *st);
/* Runs the whole pipeline. If dump_after names a pass, the state after it
 * is written to dump (a caller-chosen stream).  Returns 0 or -1. */
int cg_run_pipeline(cg_state *st, const char *dump_after, FILE *dump, char *err, size_t errcap);
/* Writes the current state (graph copy, or lowered graph once lowered). */
void cg_dump(const cg_state *st, FILE *f);
/* Checks a lowered graph; NULL or a description of the first fault. */
const char *cg_lgraph_verify(const cg_lgraph *lg, char *buf, size_t cap);
bool cg_opts_skips(const cg_opts *o, const char *pass);

/* Individual passes (also reachable through the table). */
int cg_pass_fold_bn(cg_state *st, char *err, size_t errcap);
int cg_pass_dce(cg_state *st, char *err, size_t errcap);
int cg_pass_lower(cg_state *st, char *err, size_t errcap);
int cg_pass_fuse_act(cg_state *st, char *err, size_t errcap);
int cg_pass_fuse_add(cg_state *st, char *err, size_t errcap);
int cg_pass_fuse_bn(cg_state *st, char *err, size_t errcap);
int cg_pass_fuse_mul(cg_state *st, char *err, size_t errcap);
int cg_pass_fuse_pool(cg_state *st, char *err, size_t errcap);
int cg_pass_plan_memory(cg_state *st, char *err, size_t errcap);

/* Internal helpers shared by the pass files. */
void *cg_own(cg_state *st, size_t bytes); /* zeroed, freed with the state */
/* Resolves a value through views and fusion to the node that owns its buffer. */
int cg_root(const cg_lgraph *lg, int v);

#endif
