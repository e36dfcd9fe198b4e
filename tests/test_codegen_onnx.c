/* test_codegen_onnx.c: cg_onnx_write's refusals: an operation or an
 * activation with no ONNX form, a parameter without weights, and a path
 * that cannot be written all give a message naming the cause, and no file.
 * (tests/cli/onnx.sh checks real models with the onnx checker and ONNX
 * Runtime.) */
#include <criterion/criterion.h>
#include <unistd.h>
#include "cg_onnx.h"
#include "rt_testgraph.h"

static char out[256];

static void setup(void) { snprintf(out, sizeof out, "/tmp/nasc-onnx-test-%ld.onnx", (long)getpid()); }
static void teardown(void) { unlink(out); }

/* input [4] -> act -> (op) */
static tg *small(ir_op last, ir_act act) {
    tg *t = tg_new();
    tg_add_node(t, IR_INPUT, 0, NULL, tg_shape(1, 4, 0, 0));
    int i0 = 0, i1 = 1;
    tg_add_node(t, IR_ACT, 1, &i0, tg_shape(1, 4, 0, 0))->act = act;
    tg_add_node(t, last, 1, &i1, tg_shape(1, 4, 0, 0));
    t->g.input = 0;
    t->g.output = 2;
    return t;
}

TestSuite(onnx, .init = setup, .fini = teardown);

Test(onnx, writes_a_model) {
    tg *t = small(IR_SOFTMAX, ACT_GELU);
    char err[256];
    cr_assert_eq(cg_onnx_write(&t->g, NULL, out, err, sizeof err), 0, "%s", err);
    cr_assert_eq(access(out, F_OK), 0);
    free(t);
}

Test(onnx, unknown_operation_is_named) {
    tg *t = small(IR_OP_COUNT, ACT_RELU);
    char err[256];
    cr_assert_eq(cg_onnx_write(&t->g, NULL, out, err, sizeof err), -1);
    cr_assert_str_eq(err, "cannot export layer ?2 to ONNX: operation '?' has no ONNX form");
    cr_assert_neq(access(out, F_OK), 0, "nothing written");
    free(t);
}

Test(onnx, unknown_activation_is_named) {
    tg *t = small(IR_SOFTMAX, ACT_COUNT);
    char err[256];
    cr_assert_eq(cg_onnx_write(&t->g, NULL, out, err, sizeof err), -1);
    cr_assert(strstr(err, "cannot export layer act1 to ONNX: activation '"), "%s", err);
    cr_assert_neq(access(out, F_OK), 0);
    free(t);
}

Test(onnx, missing_weights) {
    tg *t = tg_new();
    tg_add_node(t, IR_INPUT, 0, NULL, tg_shape(1, 4, 0, 0));
    int i0 = 0;
    ir_node *d = tg_add_node(t, IR_DENSE, 1, &i0, tg_shape(1, 2, 0, 0));
    d->units = 2;
    tg_param(t, d, PARAM_WEIGHT, tg_shape(2, 2, 4, 0), "weight");
    t->g.output = 1;
    char err[256];
    cr_assert_eq(cg_onnx_write(&t->g, NULL, out, err, sizeof err), -1);
    cr_assert_str_eq(err,
                     "cannot export layer dense1 to ONNX: its parameter dense1.weight has no weights loaded");
    cr_assert_neq(access(out, F_OK), 0);
    free(t);
}

Test(onnx, unwritable_path) {
    tg *t = small(IR_SOFTMAX, ACT_RELU);
    char err[256];
    cr_assert_eq(cg_onnx_write(&t->g, NULL, "/nonexistent-dir/m.onnx", err, sizeof err), -1);
    cr_assert_str_eq(err, "cannot write /nonexistent-dir/m.onnx: No such file or directory");
    free(t);
}
