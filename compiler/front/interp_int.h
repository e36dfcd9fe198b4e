/* interp_int.h: the interpreter's internal types, shared by interp.c,
 * builtins.c and section.c (not part of the front end's interface). */
#ifndef NASC_INTERP_INT_H
#define NASC_INTERP_INT_H

#include <string.h>
#include "space.h"

typedef enum {
    V_INT,
    V_FLOAT,
    V_BOOL,
    V_ENUM,
    V_TENSOR,
    V_BLOCK,
    V_LIST,
    V_STRING,
    V_SAME,
    V_QUANT,
    V_POISON
} vkind;

typedef struct bval bval;
typedef struct value value;

struct value {
    vkind k;
    sym *s;      /* V_INT, V_FLOAT, V_BOOL, V_ENUM */
    int enum_id; /* V_ENUM: index in prog->enums */
    int rank;    /* V_TENSOR */
    sym *d[IR_MAX_RANK];
    int node; /* V_TENSOR: graph node in POINT mode, else -1 */
    bval *b;  /* V_BLOCK */
    int n;    /* V_LIST */
    value **items;
    const char *str; /* V_STRING; V_POISON: why */
    double q;        /* V_QUANT */
    ast_unit unit;
};

/* Builtin block ids. */
typedef enum {
    BI_DENSE,
    BI_CONV2D,
    BI_CONV1D,
    BI_DEPTHWISE,
    BI_BATCHNORM,
    BI_LAYERNORM,
    BI_RELU,
    BI_RELU6,
    BI_GELU,
    BI_TANH,
    BI_SIGMOID,
    BI_SWISH,
    BI_HSWISH,
    BI_IDENTITY,
    BI_SKIP,
    BI_ZERO,
    BI_MAXPOOL,
    BI_AVGPOOL,
    BI_GLOBAL_AVGPOOL,
    BI_FLATTEN,
    BI_DROPOUT,
    BI_CONCAT,
    BI_SUM,
    BI_SOFTMAX,
    BI_MIN,
    BI_MAX,
    /* sequence blocks on Tensor[t, d] (builtins_seq.c) */
    BI_ATTENTION,
    BI_EMBEDDING,
    BI_POSITIONAL,
    BI_PATCHES,
    BI_MEAN_TOKENS,
    BI_MATMUL,
    BI_TRANSPOSE,
    BI_MUL, /* `a * b` on tensors; not callable by name */
    BI_COUNT
} builtin_id;

struct bval {
    enum { B_BUILTIN, B_USER, B_SWITCH } k;
    builtin_id builtin;
    ast_item *blk;
    const char *name; /* as written: "relu", "ConvBNAct" */
    /* B_SWITCH: alternative sel-value i is alts[i] */
    sym *sel;
    int n;
    bval **alts;
    const char *label; /* the choice's label (for "op.sepconv." segments), or NULL */
};

typedef struct binding {
    const char *name;
    value *v;
} binding;

typedef struct scope {
    struct scope *up;
    VEC(binding) b;
    bool boundary; /* a block body: lookups stop here before globals */
} scope;

/* What names a block instance, kept as parts and turned into text only
 * when a label or a layer name needs it (a search runs the space for every
 * trial, and most runs need neither). */
typedef struct segment {
    const char *a, *b; /* "ConvBlock", or the choice label and alternative: "op", "sepconv" */
    int ord, total;    /* #ord when total > 1 */
    int loops[16];     /* the caller's loop indices at the call */
    int n_loops;
} segment;

typedef struct frame {
    const char *prefix; /* label prefix, "" or "ConvBlock#2[3]."; NULL until fi_frame_prefix builds it */
    struct frame *parent;
    segment seg;
    int loops[16];
    int n_loops;
    sym *base_guard;
    value *ret;     /* the value returned so far (merged over the paths that returned) */
    sym *ret_guard; /* the paths that have returned (absolute guard), NULL: none */
    bool returned;  /* the current statement list has returned on every path: stop it */
    /* The declared return shape, evaluated on entry (NULL: not a tensor type). */
    value *ret_want;
    ast_item *item;
    int depth;
} frame;

typedef enum { MODE_CHECK, MODE_POINT, MODE_SAMPLE } imode;

typedef struct label_map { /* open addressing: label -> decision id */
    const char **keys;
    int *vals;
    int cap, n;
} label_map;

typedef struct interp {
    nasc_ctx *c;
    program *prog;
    space_ir *sp;
    imode mode;
    sym *guard;
    scope *sc;
    frame *fr;
    assignment *asg; /* POINT/SAMPLE */
    uint64_t *rng;   /* SAMPLE */
    ir_graph *g;     /* POINT with a graph */
    VEC(ir_node) nodes;
    label_map node_set; /* layer names in use (POINT mode) */
    bool no_names;      /* sizes only: skip naming layers and parameters */
    bool infeasible;    /* a require failed (POINT/SAMPLE) */
    loc infeasible_at;
    bool abort; /* stop executing (infeasible, fatal error) */
    int errors_at_start;
    int64_t steps;        /* statements run and blocks entered: bounded by INTERP_STEP_LIMIT */
    loc top_at;           /* the space-level statement running (where the step limit is reported) */
    label_map *labels;    /* the space's labels (owned by the space, built in CHECK) */
    loc call_at;          /* the builtin call being interpreted */
    const char *joiner;   /* for the next obligation's message (oblig.joiner) */
    const char *what_arg; /* for the next obligation: its message is a format of this */
} interp;

/* Names shared by the interpreter's files (interp.c, builtins.c, choice.c,
 * section.c, discharge.c) carry the fi_ prefix (front interpreter). */
/* interp.c */
value *fi_v_new(interp *I, vkind k);
value *fi_v_int(interp *I, sym *s);
value *fi_v_bool(interp *I, sym *s);
value *fi_v_tensor(interp *I, int rank, sym **d, int node);
const char *fi_vkind_name(const value *v);
bool fi_concrete(const interp *I);
void fi_oblig_add(interp *I, loc at, oblig_kind k, sym *prop, const char *what, const value *a,
                  const value *b);
sym *fi_dims_equal(interp *I, const value *a, const value *b, int from);
char *fi_shape_str(interp *I, const value *t);
const char *fi_dec_label_name(void *ud, int dec);
const char *fi_dec_val_name(void *ud, int dec, int64_t v);
int fi_label_lookup(label_map *m, const char *label);
void fi_label_insert(nasc_ctx *c, label_map *m, const char *label, int id);
value *fi_eval_expr(interp *I, ast_expr *e);
value *fi_make_choice(interp *I, ast_expr *e, const char *label, loc at, bool in_section);
char *fi_make_label(interp *I, const char *name);
const char *fi_frame_prefix(interp *I, frame *f);

/* builtins.c */
int fi_builtin_lookup(const char *name);
const char *fi_builtin_name(builtin_id b);
bool fi_builtin_is_act(builtin_id b); /* shape-preserving single-tensor blocks (Act, skip, zero) */
value *fi_builtin_call(interp *I, builtin_id b, ast_expr *call, value **pos, int npos, const char **names,
                       value **named, loc *named_at, int nnamed);
int fi_graph_input(interp *I, value *x);

/* section.c */
void fi_section_eval(interp *I, ast_item *it, section *out, const char *prefix);

#endif
