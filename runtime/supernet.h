/* supernet.h: the weight store of a supernet (prefix sn_), shared by
 * every subnet of a space (weight sharing, docs/one-shot.md).
 *
 * A supernet is a set of tensors, one per parameter of every layer any
 * subnet can have, keyed by the layer's stable key (ir_node.key: block
 * call path, op, source position, loop indices) and the parameter's role.
 * Each tensor has the largest shape that key takes over the space.  A
 * subnet's graph takes a slice of each of its parameters:
 *   - leading entries of every dimension (width: the first c output
 *     channels and the first c input channels of the next layer; depth:
 *     layers of later loop iterations are simply absent);
 *   - the centre of the spatial dimensions of a conv weight (elastic
 *     kernel, as Once-for-All);
 *   - for attention's packed q|k|v projection, the leading rows of each
 *     third (heads and head widths, SN_PACKED_QKV);
 * and a layer another alternative does not have is its own tensor (one
 * branch per alternative).  Nothing here knows about decisions: the
 * driver (drv_supernet.c) builds the store from graphs of covering points.
 * Nothing here prints. */
#ifndef NASC_RT_SUPERNET_H
#define NASC_RT_SUPERNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "graph.h"
#include "optim.h"

/* The packed QKV projection of attention (a linear with heads set): its
 * rows are three blocks, q, k and v, each sliced to its leading rows, so
 * fewer heads (or a narrower head) take the first heads of each. */
#define SN_PACKED_QKV 3

typedef struct sn_tensor {
    char *name; /* "<key>.<role>", e.g. "conv2d@0:12:9[2].weight" */
    ir_op op;
    ir_param_role role;
    bool trainable;
    int groups_kind; /* conv: 0 dense (groups 1), -1 depthwise (groups = channels), else groups;
                        SN_PACKED_QKV: an attention's q|k|v projection, sliced per third */
    ir_shape shape;  /* the largest over the space */
    float *data;     /* numel(shape), after sn_alloc */
    float *grad;     /* accumulated gradient during a step (sn_step) */
    rt_optim *opt;   /* per tensor: an alternative's state moves only when it runs */
    bool touched;    /* has a gradient in the current step */
} sn_tensor;

typedef struct sn_net {
    int n, cap;
    sn_tensor *t;
    int *hash; /* open addressing over names: index + 1, 0 empty */
    int hcap;
} sn_net;

sn_net *sn_new(void);
void sn_free(sn_net *n);
/* Adds every parameter of g (nodes with a key) to the store, widening a
 * tensor to the largest shape seen.  A layer whose parameters cannot be
 * sliced from one another (another rank, op or grouping at the same key)
 * fails with a message naming the layer; nothing is changed then. */
int sn_merge(sn_net *n, const ir_graph *g, char *err, size_t cap);
/* Allocates and initialises the tensors as rt_params_init would a graph of
 * the largest layers (PyTorch's defaults), deterministic in seed. */
int sn_alloc(sn_net *n, uint64_t seed, char *err, size_t cap);
sn_tensor *sn_find(const sn_net *n, const char *name);
/* Gives every parameter of g its slice: allocates g's buffers (freed by
 * rt_params_free) and copies.  Fails naming the first parameter the store
 * has no tensor for or whose shape does not fit in it. */
int sn_gather(const sn_net *n, ir_graph *g, char *err, size_t cap);
/* Copies g's running statistics back into their slices (after a
 * train-mode forward). */
void sn_put_buffers(sn_net *n, const ir_graph *g);
/* Adds the gradients of g's trainable parameters (meta[i] with grads[i],
 * as rt_exec_trainables gives them) into their slices' gradient, scaled. */
int sn_accumulate(sn_net *n, const ir_graph *g, ir_param **meta, float **grads, int n_params, float scale,
                  char *err, size_t cap);
/* One optimizer step on every tensor that received a gradient since the
 * last step, then clears the gradients. */
int sn_step(sn_net *n, const rt_optim_cfg *cfg, double lr, char *err, size_t cap);

/* The element offset in a tensor of the store of element `idx` (row-major
 * in the subnet's shape `sub`): leading slice, centred spatial dims for
 * conv weights.  Exposed for the tests' independent check. */
int64_t sn_offset(const sn_tensor *t, const ir_shape *sub, int64_t idx);
int64_t sn_numel(const sn_net *n);

/* The layout hash: FNV-1a over every tensor's name and shape, in 16 hex
 * digits.  Two stores fit the same space exactly when their layouts match
 * (names hold the layers' keys, so an edit that moves layers changes it,
 * and one elsewhere in the file does not). */
void sn_layout_hash(const sn_net *n, char out[17]);
/* A store as safetensors: the tensors by name, plus metadata
 * "nasc.supernet" = "1", "nasc.space", "nasc.layout", "nasc.source_hash"
 * and the caller's pairs.  Atomic (temporary file and rename). */
int sn_save(const sn_net *n, const char *path, const char *space, const char *source_hash,
            const char *const *keys, const char *const *vals, int n_meta, char *err, size_t cap);
/* Reads a store written by sn_save; fails naming the file when it is not
 * a supernet file, belongs to another space or has another layout (layout
 * NULL: not checked), or is truncated. */
sn_net *sn_load(const char *path, const char *space, const char *layout, char *err, size_t cap);

#endif
