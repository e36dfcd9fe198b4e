/* test_ir_ops.c: the operation table (compiler/ir/ops.c) and the verifier
 * built on it: every op has a row, the builder's defaults, FLOPs, and each
 * kind of fault caught with its exact message. */
#include <criterion/criterion.h>
#include <string.h>
#include "graph.h"

/* A small graph builder over fixed storage (no runtime needed). */
typedef struct g8 {
    ir_graph g;
    ir_node n[8];
    int in[8][4];
} g8;

static ir_node *node(g8 *t, ir_op op, const char *name, int n_in, const int *in, ir_shape s) {
    int id = t->g.n_nodes++;
    ir_node *n = &t->n[id];
    ir_node_init(n, op);
    n->id = id;
    n->name = name;
    n->n_in = n_in;
    n->in = t->in[id];
    for (int i = 0; i < n_in; i++) n->in[i] = in[i];
    n->shape = s;
    t->g.output = id;
    return n;
}

static void param(ir_node *n, ir_param_role r, ir_shape s) {
    ir_param *p = &n->params[n->n_params++];
    p->role = r;
    p->shape = s;
    p->trainable = r <= PARAM_BIAS;
}

static ir_shape S1(int64_t a) { return (ir_shape){1, {a}}; }
static ir_shape S3(int64_t a, int64_t b, int64_t c) { return (ir_shape){3, {a, b, c}}; }
static ir_shape S4(int64_t a, int64_t b, int64_t c, int64_t d) { return (ir_shape){4, {a, b, c, d}}; }

/* input [3, 8, 8] -> conv2d 4 filters k3 s1 p1 -> [4, 8, 8] -> gap -> [4] -> dense 2 */
static g8 *small_cnn(void) {
    static g8 t;
    memset(&t, 0, sizeof t);
    t.g.nodes = t.n;
    node(&t, IR_INPUT, "input", 0, NULL, S3(3, 8, 8));
    ir_node *c = node(&t, IR_CONV2D, "conv2d", 1, (int[]){0}, S3(4, 8, 8));
    c->filters = 4;
    c->kernel[0] = c->kernel[1] = 3;
    c->pad[0] = c->pad[1] = 1;
    param(c, PARAM_WEIGHT, S4(4, 3, 3, 3));
    param(c, PARAM_BIAS, S1(4));
    node(&t, IR_GLOBAL_AVGPOOL, "gap", 1, (int[]){1}, S1(4));
    ir_node *d = node(&t, IR_DENSE, "dense", 1, (int[]){2}, S1(2));
    d->units = 2;
    param(d, PARAM_WEIGHT, (ir_shape){2, {2, 4}});
    param(d, PARAM_BIAS, S1(2));
    return &t;
}

static const char *verify(g8 *t, unsigned flags) {
    static char buf[256];
    return ir_graph_verify(&t->g, flags, buf, sizeof buf);
}

Test(ops, every_op_has_a_row) {
    for (int op = 0; op < IR_OP_COUNT; op++) {
        const ir_op_info *o = ir_op_info_of((ir_op)op);
        cr_assert_not_null(o, "op %d", op);
        cr_assert_not_null(o->name);
        cr_assert_str_eq(ir_op_name((ir_op)op), o->name);
        cr_assert(o->max_in < 0 || o->max_in >= o->min_in, "%s", o->name);
        cr_assert_eq(o->required & ~o->params, 0u, "%s requires a role it may not carry", o->name);
        for (int k = 0; k < op; k++) cr_assert_str_neq(o->name, ir_op_name((ir_op)k));
    }
    cr_assert_null(ir_op_info_of(IR_OP_COUNT));
    cr_assert_str_eq(ir_op_name(IR_OP_COUNT), "?");
    cr_assert_str_eq(ir_op_name(IR_GLOBAL_AVGPOOL), "global_avgpool");
    cr_assert(ir_op_info_of(IR_FLATTEN)->alias);
    cr_assert(ir_op_info_of(IR_DROPOUT)->alias);
    cr_assert(!ir_op_info_of(IR_ACT)->alias);
}

Test(ops, builder_applies_defaults) {
    ir_node n;
    memset(&n, 0x5a, sizeof n);
    ir_node_init(&n, IR_CONV2D);
    cr_assert_eq(n.op, IR_CONV2D);
    cr_assert_eq(n.dilation[0], 1);
    cr_assert_eq(n.dilation[1], 1);
    cr_assert_eq(n.stride[0], 1);
    cr_assert_eq(n.groups, 1);
    cr_assert(n.bias);
    cr_assert_eq(n.n_params, 0);
    cr_assert_eq(n.pad[0], 0);
    ir_node_init(&n, IR_BATCHNORM);
    cr_assert_float_eq(n.eps, 1e-5f, 1e-12);
    cr_assert_float_eq(n.momentum, 0.1f, 1e-9);
    ir_node_init(&n, IR_LAYERNORM);
    cr_assert_float_eq(n.eps, 1e-5f, 1e-12);
    ir_node_init(&n, IR_ACT);
    cr_assert_eq(n.groups, 0);
    cr_assert_eq(n.act, ACT_RELU);
}

Test(ops, flops) {
    g8 *t = small_cnn();
    const ir_shape *x = &t->n[0].shape;
    /* 2 * filters * c * k * k * outputs */
    cr_assert_eq(ir_node_flops(&t->n[1], x), 2LL * 4 * 3 * 3 * 3 * 8 * 8);
    cr_assert_eq(ir_node_flops(&t->n[2], &t->n[1].shape), 4 * 8 * 8); /* one per input element */
    cr_assert_eq(ir_node_flops(&t->n[3], &t->n[2].shape), 2 * 2 * 4);
    ir_node add;
    ir_node_init(&add, IR_ADD);
    add.n_in = 3;
    add.shape = S1(10);
    cr_assert_eq(ir_node_flops(&add, &add.shape), 20);
    ir_node pool;
    ir_node_init(&pool, IR_MAXPOOL);
    pool.kernel[0] = pool.kernel[1] = 2;
    pool.shape = S3(4, 4, 4);
    cr_assert_eq(ir_node_flops(&pool, x), 4 * 4 * 4 * 4);
    ir_node fl;
    ir_node_init(&fl, IR_FLATTEN);
    cr_assert_eq(ir_node_flops(&fl, x), 0);
    cr_assert_eq(ir_node_flops(&t->n[0], NULL), 0);
}

Test(verify, good_graph_passes) {
    g8 *t = small_cnn();
    cr_assert_null(verify(t, 0));
    /* without data, the weights flag fails on the first parameter */
    cr_assert_str_eq(verify(t, IR_VERIFY_WEIGHTS), "node 1 'conv2d' (conv2d): weight is not initialised");
}

Test(verify, wrong_conv_shape) {
    g8 *t = small_cnn();
    t->n[1].shape = S3(4, 6, 6);
    cr_assert_str_eq(verify(t, 0),
                     "node 1 'conv2d' (conv2d): output shape [4, 6, 6] does not follow from its "
                     "inputs (expected [4, 8, 8])");
    t->n[1].shape = S3(4, 8, 8);
    t->n[1].dilation[0] = 0; /* an unset attribute (not built with ir_node_init) */
    cr_assert_str_eq(verify(t, 0),
                     "node 1 'conv2d' (conv2d): invalid convolution geometry for its input shape: "
                     "kernel, stride and dilation must be >= 1 and padding >= 0");
    t->n[1].dilation[0] = 1;
    t->n[1].kernel[0] = 11;
    cr_assert_str_eq(verify(t, 0),
                     "node 1 'conv2d' (conv2d): invalid convolution geometry for its input shape: "
                     "the window does not fit");
    t->n[1].kernel[0] = 3;
    t->n[1].groups = 2;
    cr_assert_str_eq(verify(t, 0), "node 1 'conv2d' (conv2d): filters (4) and input channels (3) must be "
                                   "divisible by groups (2)");
}

Test(verify, wrong_parameters) {
    g8 *t = small_cnn();
    t->n[3].params[0].shape = (ir_shape){2, {2, 5}};
    cr_assert_str_eq(verify(t, 0), "node 3 'dense' (dense): weight has shape [2, 5], expected [2, 4]");
    t->n[3].params[0].shape = (ir_shape){2, {2, 4}};
    t->n[3].n_params = 1; /* bias dropped, but the node says it has one */
    cr_assert_str_eq(verify(t, 0), "node 3 'dense' (dense): missing bias parameter");
    t->n[3].bias = false;
    cr_assert_null(verify(t, 0));
    t->n[2].n_params = 1;
    t->n[2].params[0].role = PARAM_WEIGHT;
    cr_assert_str_eq(verify(t, 0),
                     "node 2 'gap' (global_avgpool): carries a parameter of role 0 it has no use for");
}

Test(verify, structure) {
    g8 *t = small_cnn();
    t->n[3].in[0] = 3;
    cr_assert_str_eq(verify(t, 0), "node 3 'dense' (dense): reads node 3 out of order");
    t->n[3].in[0] = 2;
    t->n[3].n_in = 2;
    cr_assert_str_eq(verify(t, 0), "node 3 'dense' (dense): has 2 inputs, needs 1");
    t->n[3].n_in = 1;
    t->n[3].shape = S1(3);
    cr_assert_str_eq(verify(t, 0), "node 3 'dense' (dense): output size differs from units (2)");
    t->n[3].shape = S1(2);
    t->g.input = 1;
    cr_assert_str_eq(verify(t, 0), "input id 1 is not an input node");
    t->g.input = 0;
    t->g.output = 9;
    cr_assert_str_eq(verify(t, 0), "output id 9 out of range");
    t->g.n_nodes = 0;
    cr_assert_str_eq(verify(t, 0), "graph has no nodes");
}

Test(verify, multi_input_rules) {
    static g8 t;
    memset(&t, 0, sizeof t);
    t.g.nodes = t.n;
    node(&t, IR_INPUT, "input", 0, NULL, S3(4, 2, 2));
    node(&t, IR_GLOBAL_AVGPOOL, "gap", 1, (int[]){0}, S1(4));
    ir_node *m = node(&t, IR_MUL, "mul", 2, (int[]){0, 1}, S3(4, 2, 2)); /* per-channel scale */
    cr_assert_null(verify(&t, 0));
    m->in[1] = 0; /* elementwise */
    cr_assert_null(verify(&t, 0));
    node(&t, IR_CONCAT, "concat", 2, (int[]){0, 1}, S3(8, 2, 2));
    cr_assert_str_eq(verify(&t, 0), "node 3 'concat' (concat): input 1 has shape [4], which cannot be joined "
                                    "to [4, 2, 2] along dim 0");
    t.n[3].in[1] = 2;
    cr_assert_null(verify(&t, 0));
    node(&t, IR_ADD, "add", 2, (int[]){0, 3}, S3(4, 2, 2));
    cr_assert_str_eq(verify(&t, 0), "node 4 'add' (add): input 1 has shape [8, 2, 2], the output [4, 2, 2]");
    t.n[4].in[1] = 2;
    cr_assert_null(verify(&t, 0));
    ir_node *a = node(&t, IR_ACT, "act", 1, (int[]){4}, S3(4, 2, 2));
    a->act = ACT_COUNT;
    cr_assert_str_eq(verify(&t, 0), "node 5 'act' (act): unknown activation 8");
}

Test(verify, message_fits_the_callers_buffer) {
    g8 *t = small_cnn();
    t->n[1].shape = S3(4, 6, 6);
    char small[16];
    const char *e = ir_graph_verify(&t->g, 0, small, sizeof small);
    cr_assert_eq(e, small);
    cr_assert_str_eq(small, "node 1 'conv2d'");
}
