/* graph.h: the concrete graph IR, shared by the runtime and the back end.
 *
 * A point of a space instantiates into one ir_graph: nodes are builtin
 * operations with concrete per-sample shapes and attributes, in topological
 * order (a node's inputs always have smaller ids).  What each operation
 * takes, carries, computes and costs is one row of the table in ops.c.  The runtime trains this
 * graph; the passes and codegen compile it.  Nothing here knows about
 * decisions or symbolic shapes: that is the front end's job.
 *
 * Shapes are per sample; the batch dimension is implicit.  Layouts are
 * row-major: Tensor[c,h,w] is stored c-major, a batch is [N, c, h, w].
 * Parameter layouts follow PyTorch so that safetensors files interoperate:
 *   dense      weight [units, in]          bias [units]
 *   conv2d     weight [filters, c/groups, kh, kw]   bias [filters]
 *   conv1d     weight [filters, c/groups, k]        bias [filters]
 *   batchnorm  weight, bias, running_mean, running_var: [channels]
 *              (channels = dim 0 of the input; BatchNorm1d on Tensor[n])
 *   layernorm  weight, bias: [last dim]
 *   linear     weight [units, d]  bias [units]   (nn.Linear on each token)
 *   embedding  weight [vocab, dim]
 *   positional weight [t, d] (learned)
 */
#ifndef NASC_GRAPH_H
#define NASC_GRAPH_H

#include <stdbool.h>
#include <stdint.h>

#define IR_MAX_RANK   4
#define IR_MAX_PARAMS 4

typedef enum {
    IR_INPUT,          /* the space's input; no inputs */
    IR_DENSE,          /* units, bias */
    IR_CONV2D,         /* filters, kernel[2], stride[2], pad[2], dilation[2], groups, bias */
    IR_CONV1D,         /* same attributes, index 0 only */
    IR_BATCHNORM,      /* eps, momentum; per channel (dim 0) */
    IR_LAYERNORM,      /* eps; over the last dimension */
    IR_ACT,            /* act */
    IR_MAXPOOL,        /* kernel, stride, pad (2-D on rank 3, 1-D on rank 2) */
    IR_AVGPOOL,        /* same; padding is excluded from the average (count_include_pad=false) */
    IR_GLOBAL_AVGPOOL, /* Tensor[c, ...] -> Tensor[c] */
    IR_FLATTEN,        /* reshape to Tensor[product] (no data movement) */
    IR_DROPOUT,        /* p; identity at inference */
    IR_CONCAT,         /* n inputs, along dim 0 */
    IR_ADD,            /* n inputs of one shape, elementwise sum (`+`, `sum(list)`) */
    IR_MUL,            /* 2 inputs, elementwise product */
    IR_ZERO,           /* one input (it only orders the node); output all zeros */
    IR_SOFTMAX,        /* over the last dimension */
    /* sequence ops on Tensor[t, d] (issue 15; ops_seq.c has their rows' rules) */
    IR_LINEAR,      /* dense per token: [t, d] -> [t, units]; units, bias */
    IR_ATTENTION,   /* packed [t, 3*heads*head_dim] (q | k | v) -> [t, heads*head_dim]; no params */
    IR_EMBEDDING,   /* token ids [t] -> [t, units]; vocab; weight [vocab, units] */
    IR_POSITIONAL,  /* [t, d] + position code: learned weight [t, d], or sinusoidal (no params) */
    IR_PATCHES,     /* [c, h, w] -> [(h/s)*(w/s), c*s*s], s = kernel[0]; a pure reordering */
    IR_MEAN_TOKENS, /* [t, d] -> [d] */
    IR_MATMUL,      /* [t, k] x [k, n] -> [t, n] (two activations) */
    IR_TRANSPOSE,   /* [a, b] -> [b, a] */
    IR_OP_COUNT
} ir_op;

typedef enum {
    ACT_RELU,
    ACT_RELU6,
    ACT_GELU,
    ACT_TANH,
    ACT_SIGMOID,
    ACT_SWISH,
    ACT_HSWISH,
    ACT_IDENTITY,
    ACT_COUNT
} ir_act;

typedef struct ir_shape {
    int rank;
    int64_t d[IR_MAX_RANK];
} ir_shape;

typedef enum { PARAM_WEIGHT, PARAM_BIAS, PARAM_RUNNING_MEAN, PARAM_RUNNING_VAR } ir_param_role;

typedef struct ir_param {
    const char *name; /* full name, e.g. "ConvBNAct#2.conv2d.weight" (unique in the graph) */
    ir_param_role role;
    ir_shape shape;
    bool trainable; /* false for running statistics */
    float *data;    /* owned by whoever initialised the graph (runtime / loader); may be NULL */
} ir_param;

typedef struct ir_node {
    int id;
    ir_op op;
    const char *name; /* unique layer name, e.g. "ConvBNAct#2.conv2d" */
    /* Stable weight-sharing key (runtime/supernet.h): the call path of
     * block instances, the op, its source position and the loop indices,
     * e.g. "Residual.conv2d@1:33:9[2]"; the same in every point that has
     * this layer.  NULL when the front end skipped naming. */
    const char *key;
    int n_in;
    int *in;        /* ids of input nodes, all < id */
    ir_shape shape; /* output shape, per sample */

    /* attributes (meaning depends on op; unused ones are 0) */
    int units;                                     /* dense */
    int filters;                                   /* conv */
    int kernel[2], stride[2], pad[2], dilation[2]; /* conv, pool ([1] unused for 1-D) */
    int groups;
    bool bias;
    ir_act act;
    float p;             /* dropout */
    float eps, momentum; /* batchnorm (eps 1e-5, momentum 0.1 as PyTorch), layernorm eps */
    int heads, head_dim; /* attention; heads on a linear: attention's packed q|k|v projection */
    bool causal;         /* attention: position i attends to j <= i only */
    int vocab;           /* embedding */
    bool sinusoidal;     /* positional: fixed sin/cos code instead of a learned one */

    int n_params;
    ir_param params[IR_MAX_PARAMS];

    int64_t n_param_elems; /* trainable + buffers */
    int64_t flops;         /* per sample: 2 * MACs for dense/conv, 1 per element otherwise */
} ir_node;

/* The transform every input sample goes through before the network,
 * fixed at training time (train.normalize = standard) and carried with the
 * weights: x' = (x - mean[c]) / std[c] on channel c (the first dimension
 * of an image sample [C, H, W]; a flat sample [d] is one channel).
 * channels == 0: none, the inputs as read ([0, 1] for images). */
#define IR_NORM_MAX_CHANNELS 64
typedef struct ir_input_norm {
    int channels;
    float mean[IR_NORM_MAX_CHANNELS], std[IR_NORM_MAX_CHANNELS];
} ir_input_norm;

typedef struct ir_graph {
    int n_nodes;
    ir_node *nodes;    /* nodes[i].id == i */
    int input;         /* id of the IR_INPUT node */
    int output;        /* id of the node whose value the space returns */
    int64_t params;    /* trainable parameter count (what `params` reports) */
    int64_t flops;     /* per sample, summed over nodes */
    int64_t memory;    /* peak activation bytes at batch 1 (simple liveness) */
    const char *space; /* the space's name */

    /* input standardisation (train.c saves it as "nasc.normalize") */
    ir_input_norm norm;
} ir_graph;

/* ===== graph.c ===== */

int64_t ir_shape_numel(const ir_shape *s);
const char *ir_act_name(ir_act a);
/* Formats a shape as "[16, 14, 14]" into buf. */
char *ir_shape_str(const ir_shape *s, char *buf, int cap);

/* ===== ops.c: the operation table ===== */

/* What the program knows about one operation (one row per ir_op). */
typedef struct ir_op_info {
    const char *name;   /* printer name, as in dumps and messages */
    int min_in, max_in; /* arity; max_in -1: any number from min_in */
    unsigned params;    /* parameter roles it may carry (bit 1 << role) */
    unsigned required;  /* roles it must carry (bias only when `bias` is set) */
    bool alias;         /* its output shares its input's storage at inference */
} ir_op_info;

const ir_op_info *ir_op_info_of(ir_op op); /* NULL for an unknown op */
const char *ir_op_name(ir_op op);
/* The builder's first step: zeroes n, sets op and the row's defaults
 * (conv stride/dilation/groups 1, bias on; pool stride 1; batchnorm and
 * layernorm eps 1e-5 and momentum 0.1, as PyTorch). */
void ir_node_init(ir_node *n, ir_op op);
/* FLOPs per sample of n given its first input's shape (NULL for none):
 * 2 * MACs for dense/conv, one per element otherwise, 0 for views. */
int64_t ir_node_flops(const ir_node *n, const ir_shape *in0);

/* The sinusoidal position code of positional(x, sinusoidal = true) at
 * (pos, i) of a [t, d] sequence ("Attention is all you need"): sin for
 * even i, cos for odd i, of pos / 10000^(2*floor(i/2) / d).  One
 * definition for the runtime and the back end. */
float ir_positional_code(int64_t pos, int64_t i, int64_t d);

/* Flags of ir_graph_verify. */
#define IR_VERIFY_WEIGHTS 1u /* every parameter must have data (before running) */

/* Checks the graph against the table: ids and topological order, arity,
 * ranks and positive dimensions, each node's shape rule and attributes,
 * its parameters' roles and shapes (and data, with IR_VERIFY_WEIGHTS), and
 * that input names an input node.  Returns NULL if all hold, else buf
 * holding a description of the first fault, such as
 *   node 3 'conv2d#2' (conv2d): output shape [8, 5, 5] does not follow
 *   from its inputs (expected [8, 4, 4]) */
const char *ir_graph_verify(const ir_graph *g, unsigned flags, char *buf, size_t cap);
/* Sums params/flops and computes peak memory (aliasing ops cost nothing);
 * call after building. */
void ir_graph_finish(ir_graph *g);

#endif
