/* passes.h: the graph passes that prepare a concrete graph for codegen.
 *
 * The pipeline works on a private copy of an ir_graph (weights are copied
 * only when a pass rewrites them), so the caller's graph is never touched.
 * The first passes rewrite that copy and keep it a valid ir_graph (so the
 * reference executor can run it: this is how batchnorm folding is tested);
 * then "lower" builds a ps_lgraph, one ps_lnode per ir node, which carries
 * what graph.h has no room for: views, fused epilogues and buffer offsets.
 * All passes are listed, in order, in one table (ps_pipeline.c); a verifier
 * runs after each one in debug builds, and any pass can be dumped.
 */
#ifndef NASC_PASSES_H
#define NASC_PASSES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "graph.h"

#define PS_MAX_EPI 8

/* One step applied to each value a node computes, before it is stored. */
typedef enum {
    PS_EPI_ACT,    /* v = act(v) */
    PS_EPI_ADD,    /* v += src[f] (residual add) */
    PS_EPI_MUL,    /* v *= src[f] */
    PS_EPI_MULC,   /* v *= src[channel] (squeeze-excite) */
    PS_EPI_AFFINE, /* v = v * scale[channel] + shift[channel] (batchnorm not folded) */
} ps_epi_kind;

typedef struct ps_epi {
    ps_epi_kind kind;
    ir_act act;
    int src;       /* value (lnode id) read by ADD/MUL/MULC */
    int from;      /* the ir node that was fused (for dumps) */
    int64_t inner; /* channel = flat index / inner */
    const float *scale, *shift;
} ps_epi;

typedef struct ps_lnode {
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
    ps_epi epi[PS_MAX_EPI];
    int pool;             /* >= 0: a pool node fused after epi[0..n_epi_pre) (conv only) */
    int n_epi_pre;        /* steps applied per conv output before pooling */
    float *scale, *shift; /* batchnorm as affine (owned), channels = d0 */
    int64_t offset;       /* arena offset in floats per sample; -1 if not in the arena */
    int64_t numel;
} ps_lnode;

typedef struct ps_lgraph {
    int n;
    ps_lnode *nodes;   /* same ids as the ir graph they were lowered from */
    int input, output; /* value ids */
    int64_t arena;     /* floats per sample in the activation arena */
    bool planned;
} ps_lgraph;

/* Post-training quantisation (ps_quant.c).  The calibration callback runs
 * the graph as it stands when the quant pass runs (batchnorm folded) on
 * the calibration images and writes, per node id, the smallest value and
 * the largest |value| the node's output took (0 or -1 with a message).
 * The driver provides it: passes cannot run the graph themselves. */
typedef enum { PS_QUANT_NONE, PS_QUANT_INT8 } ps_quant_kind;
typedef int (*ps_calib_fn)(void *ctx, const ir_graph *g, float *amin, float *amax, char *err, size_t errcap);

/* Pass options: names of passes to skip (tests isolate one fusion), and
 * the quantisation to apply. */
typedef struct ps_opts {
    const char *skip[16];
    int n_skip;
    ps_quant_kind quant;
    ps_calib_fn calibrate; /* NULL: made-up distinct ranges (size probes only: cg_footprint) */
    void *calib_ctx;
} ps_opts;

/* Weight rows of a quantised layer are padded with zeros to this many
 * bytes, so kernels read whole vectors. */
#define PS_Q_KALIGN 32
/* Longest reduction quantised: K * 127 * 127 must fit an int32. */
#define PS_Q_MAX_K 131072
/* Shorter reductions stay fp32 (a first 3x3 convolution on one channel,
 * a 3x3 depthwise): their rows would be mostly padding of a 32-byte step. */
#define PS_Q_MIN_K 16

/* One quantised dense or convolution (indexed by node id).  Its input is
 * quantised per tensor, q = clamp(rint(x * in_inv), -127, 127), or to
 * [0, 127] when it never went below 0 in calibration (after a ReLU: then
 * the kernels need no sign handling); its
 * weights per output channel, symmetric; the int32 sum of products times
 * deq[oc] = in_scale * w_scale[oc] is the fp32 value before the bias. */
typedef struct ps_qnode {
    bool on;
    bool unsigned_in;       /* the input is quantised to [0, 127] */
    float amax;             /* calibrated max |input| */
    float in_scale, in_inv; /* amax / 127 (1 when amax is 0) and its inverse */
    int64_t oc, k, kpad;    /* output channels, reduction length, row length in w */
    int8_t *w;              /* [oc][kpad], in [-127, 127], the weight's own order, zero padded */
    float *w_scale, *deq;   /* [oc] */
} ps_qnode;

typedef struct ps_state {
    ir_graph g;   /* the private copy */
    void **owned; /* allocations of the copy */
    int n_owned, cap_owned;
    ps_lgraph *lg; /* after "lower" */
    const ps_opts *opts;
    ps_qnode *q; /* after "quant" (when requested): one per node of g, same ids as lg's */
} ps_state;

typedef int (*ps_pass_fn)(ps_state *ps, char *err, size_t errcap);
typedef struct ps_pass {
    const char *name;
    ps_pass_fn fn;
    const char *requires; /* a pass that must have run before (NULL: none) */
    const char *what;
} ps_pass;

/* The pipeline table, in order; *n receives its length. */
const ps_pass *ps_pipeline(int *n);

/* Copies g into ps (0, or -1 with a message on bad input / no memory). */
int ps_state_init(ps_state *ps, const ir_graph *g, const ps_opts *opts, char *err, size_t errcap);
void ps_state_free(ps_state *ps);
/* Runs the whole pipeline. If dump_after names a pass, the state after it
 * is written to dump (a caller-chosen stream).  Returns 0 or -1. */
int ps_run_pipeline(ps_state *ps, const char *dump_after, FILE *dump, char *err, size_t errcap);
/* Writes the current state (graph copy, or lowered graph once lowered). */
void ps_dump(const ps_state *ps, FILE *f);
/* Checks a lowered graph; NULL or a description of the first fault. */
const char *ps_lgraph_verify(const ps_lgraph *lg, char *buf, size_t cap);
bool ps_opts_skips(const ps_opts *o, const char *pass);

/* Individual passes (also reachable through the table). */
int ps_pass_fold_bn(ps_state *ps, char *err, size_t errcap);
int ps_pass_dce(ps_state *ps, char *err, size_t errcap);
int ps_pass_quant(ps_state *ps, char *err, size_t errcap);
/* Checks the quantisation of a state (NULL if sound or absent). */
const char *ps_quant_verify(const ps_state *ps, char *buf, size_t cap);
/* The quantised layers, one comment line each (nothing when none). */
void ps_quant_dump(const ps_state *ps, FILE *f);
int ps_pass_lower(ps_state *ps, char *err, size_t errcap);
int ps_pass_fuse_act(ps_state *ps, char *err, size_t errcap);
int ps_pass_fuse_add(ps_state *ps, char *err, size_t errcap);
int ps_pass_fuse_bn(ps_state *ps, char *err, size_t errcap);
int ps_pass_fuse_mul(ps_state *ps, char *err, size_t errcap);
int ps_pass_fuse_pool(ps_state *ps, char *err, size_t errcap);
int ps_pass_plan_memory(ps_state *ps, char *err, size_t errcap);

/* Internal helpers shared by the pass files. */
void *ps_own(ps_state *ps, size_t bytes); /* zeroed, freed with the state */
/* Resolves a value through views and fusion to the node that owns its buffer. */
int ps_root(const ps_lgraph *lg, int v);

#endif
