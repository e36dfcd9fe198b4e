/* test_codegen_aot.c: ahead-of-time outputs.
 *
 * An executable built from a small CNN reads IDX (plain and gzipped) and
 * raw float32 files and must print what the JIT computes; a C program
 * uses the shared library through its generated header; the object, the
 * textual IR and the assembly are checked for the entry point; bad
 * requests return messages.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "cg_print.h"
#include "codegen.h"
#include "exec.h"
#include "rt_testgraph.h"

static char dir[64];

static void mkdir_tmp(void) {
    strcpy(dir, "/tmp/nasc-aot-test-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}
static void rm_tmp(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_expect_eq(system(cmd), 0);
}
TestSuite(aot, .init = mkdir_tmp, .fini = rm_tmp);

static tg *small_cnn(uint64_t seed) {
    tg *t = tg_new();
    int x = tg_input(t, 3, 1, 8, 8);
    x = tg_conv(t, x, 4, 3, 1, 1, 1, 1, 0);
    x = tg_bn(t, x);
    x = tg_act(t, x, ACT_RELU);
    x = tg_pool(t, IR_MAXPOOL, x, 2, 2, 0);
    x = tg_flatten(t, x);
    x = tg_dense(t, x, 5, 1);
    tg_finish(t, x);
    cr_assert_eq(rt_params_init(&t->g, INIT_KAIMING, seed), 0);
    return t;
}

enum { NS = 5, IN = 64, OUT = 5 };

/* NS images of 8x8 uint8 pixels, and the floats they stand for. */
static void images(unsigned char *px, float *x) {
    for (int i = 0; i < NS * IN; i++) {
        px[i] = (unsigned char)((i * 37 + 11) % 256);
        x[i] = (float)px[i] / 255.0f;
    }
}

static void write_idx(const char *path, const unsigned char *px, bool gz) {
    unsigned char hdr[16] = {0, 0, 8, 3, 0, 0, 0, NS, 0, 0, 0, 8, 0, 0, 0, 8};
    if (gz) {
        gzFile f = gzopen(path, "wb");
        cr_assert_not_null(f);
        gzwrite(f, hdr, 16);
        gzwrite(f, px, NS * IN);
        gzclose(f);
    } else {
        FILE *f = fopen(path, "wb");
        cr_assert_not_null(f);
        fwrite(hdr, 1, 16, f);
        fwrite(px, 1, NS * IN, f);
        fclose(f);
    }
}

/* The same samples as a float32 IDX file (big-endian values). */
static void write_idx_f32(const char *path, const float *x) {
    unsigned char hdr[16] = {0, 0, 0x0D, 3, 0, 0, 0, NS, 0, 0, 0, 8, 0, 0, 0, 8};
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    fwrite(hdr, 1, 16, f);
    for (int i = 0; i < NS * IN; i++) {
        uint32_t u;
        memcpy(&u, &x[i], 4);
        unsigned char b[4] = {(unsigned char)(u >> 24), (unsigned char)(u >> 16), (unsigned char)(u >> 8),
                              (unsigned char)u};
        fwrite(b, 1, 4, f);
    }
    fclose(f);
}

static char *run_capture(const char *cmd) {
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, p);
    buf[n] = 0;
    cr_expect_eq(pclose(p), 0, "%s failed", cmd);
    return buf;
}

/* Parses NS lines of OUT numbers and compares them with the JIT. */
static void compare_logits(const char *text, const float *ref) {
    const char *s = text;
    for (int i = 0; i < NS * OUT; i++) {
        char *end;
        double v = strtod(s, &end);
        cr_assert(end != s, "output too short at value %d: %s", i, text);
        cr_expect(fabs(v - ref[i]) <= 1e-5 * (1 + fabs(ref[i])), "value %d: %g vs %g", i, v, ref[i]);
        s = end;
    }
}

static void jit_outputs(const ir_graph *g, const float *x, float *y) {
    char err[256];
    cg_jit *j = cg_jit_compile(g, 2, err, sizeof err);
    cr_assert_not_null(j, "%s", err);
    cr_assert_eq(cg_jit_run(j, x, y, NS), 0);
    cg_jit_free(j);
}

Test(aot, executable_reads_idx_gz_and_raw) {
    tg *t = small_cnn(1);
    unsigned char px[NS * IN];
    float x[NS * IN], y[NS * OUT];
    images(px, x);
    jit_outputs(&t->g, x, y);
    char exe[128], idx[128], gz[128], raw[128], fidx[128], err[512], cmd[512];
    snprintf(exe, sizeof exe, "%s/model", dir);
    cr_assert_eq(cg_emit(&t->g, CG_EMIT_EXE, exe, "cnn", err, sizeof err), 0, "%s", err);
    snprintf(idx, sizeof idx, "%s/in.idx", dir);
    snprintf(gz, sizeof gz, "%s/in.idx.gz", dir);
    snprintf(raw, sizeof raw, "%s/in.f32", dir);
    write_idx(idx, px, false);
    write_idx(gz, px, true);
    FILE *f = fopen(raw, "wb");
    fwrite(x, sizeof(float), NS * IN, f);
    fclose(f);
    snprintf(fidx, sizeof fidx, "%s/in-f32.idx", dir);
    write_idx_f32(fidx, x);
    const char *inputs[] = {idx, gz, raw, fidx};
    for (int i = 0; i < 4; i++) {
        snprintf(cmd, sizeof cmd, "%s --logits %s", exe, inputs[i]);
        compare_logits(run_capture(cmd), y);
    }
    /* classes: the same formatting function as `nasc run` */
    char *expect = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&expect, &len);
    for (int i = 0; i < NS; i++) cg_print_row(m, y + i * OUT, OUT, 0);
    fclose(m);
    snprintf(cmd, sizeof cmd, "%s %s", exe, gz);
    cr_expect_str_eq(run_capture(cmd), expect);
    free(expect);
    /* a file of the wrong size is refused with a message */
    snprintf(cmd, sizeof cmd, "printf abc > %s/bad.bin; %s %s/bad.bin 2>&1; test $? -ne 0", dir, exe, dir);
    cr_expect_not_null(strstr(run_capture(cmd), "float32"));
    tg_free(t);
}

Test(aot, shared_library_through_its_header) {
    tg *t = small_cnn(2);
    unsigned char px[NS * IN];
    float x[NS * IN], y[NS * OUT];
    images(px, x);
    jit_outputs(&t->g, x, y);
    char lib[128], err[512], src[128], cmd[1024], hdr[160];
    snprintf(lib, sizeof lib, "%s/libtiny.so", dir);
    cr_assert_eq(cg_emit(&t->g, CG_EMIT_LIB, lib, "tiny_net", err, sizeof err), 0, "%s", err);
    cg_header_path(lib, hdr, sizeof hdr);
    cr_expect_str_eq(strrchr(hdr, '/'), "/libtiny.h");
    struct stat sb;
    cr_assert_eq(stat(hdr, &sb), 0, "header %s written", hdr);
    snprintf(src, sizeof src, "%s/use.c", dir);
    FILE *f = fopen(src, "w");
    fprintf(
        f,
        "#include <stdio.h>\n#include \"libtiny.h\"\n"
        "int main(void) {\n"
        "  static float x[%d * NASC_TINY_NET_INPUT_SIZE], y[%d * NASC_TINY_NET_OUTPUT_SIZE];\n"
        "  int shape[] = NASC_TINY_NET_INPUT_SHAPE; if (NASC_TINY_NET_INPUT_RANK != 3 || shape[0] != 1) "
        "return 3;\n"
        "  if (fread(x, sizeof(float), sizeof x / sizeof x[0], stdin) != sizeof x / sizeof x[0]) return 4;\n"
        "  if (tiny_net(x, y, %d)) return 5;\n"
        "  for (int i = 0; i < %d * NASC_TINY_NET_OUTPUT_SIZE; i++) printf(\"%%.9g \", y[i]);\n"
        "  return 0;\n}\n",
        NS, NS, NS, NS);
    fclose(f);
    char raw[128];
    snprintf(raw, sizeof raw, "%s/in.f32", dir);
    f = fopen(raw, "wb");
    fwrite(x, sizeof(float), NS * IN, f);
    fclose(f);
    snprintf(cmd, sizeof cmd,
             "cc -std=c11 -Wall -Werror -o %s/use %s -L%s -ltiny -Wl,-rpath,%s && %s/use < %s", dir, src, dir,
             dir, dir, raw);
    compare_logits(run_capture(cmd), y);
    tg_free(t);
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    cr_assert_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = 0;
    fclose(f);
    return b;
}

Test(aot, object_llvm_and_asm) {
    tg *t = small_cnn(3);
    char p[128], h[160], err[512];
    snprintf(p, sizeof p, "%s/m.o", dir);
    cr_assert_eq(cg_emit(&t->g, CG_EMIT_OBJ, p, "m_net", err, sizeof err), 0, "%s", err);
    char *hdr = slurp(cg_header_path(p, h, sizeof h));
    cr_expect_not_null(strstr(hdr, "#define NASC_M_NET_INPUT_SIZE 64"), "%s", hdr);
    cr_expect_not_null(strstr(hdr, "#define NASC_M_NET_OUTPUT_SIZE 5"));
    cr_expect_not_null(strstr(hdr, "int m_net(const float *in, float *out, int64_t batch);"));
    free(hdr);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "nm %s", p);
    cr_expect_not_null(strstr(run_capture(cmd), "T m_net"));

    snprintf(p, sizeof p, "%s/m.ll", dir);
    cr_assert_eq(cg_emit(&t->g, CG_EMIT_LLVM_IR, p, "m_net", err, sizeof err), 0, "%s", err);
    char *ir = slurp(p);
    cr_expect_not_null(strstr(ir, "define i32 @m_net(ptr noalias"), "entry point");
    cr_expect_not_null(strstr(ir, "conv2d1.weight"), "weights are named");
    cr_expect_not_null(strstr(ir, "%oc"), "loop variables are named");
    free(ir);

    /* --dump-after works for AOT builds too */
    char *dump = NULL;
    size_t dlen = 0;
    FILE *df = open_memstream(&dump, &dlen);
    cg_compile_opts co = {.opt_level = 3, .dump_after = "fold-bn", .dump = df};
    cr_assert_eq(cg_emit_ex(&t->g, CG_EMIT_LLVM_IR, p, "m_net", &co, err, sizeof err), 0, "%s", err);
    fclose(df);
    cr_expect_not_null(strstr(dump, "after pass fold-bn"), "%s", dump);
    cr_expect_null(strstr(dump, "batchnorm"), "folded: %s", dump);
    free(dump);

    snprintf(p, sizeof p, "%s/m.s", dir);
    cr_assert_eq(cg_emit(&t->g, CG_EMIT_ASM, p, "m_net", err, sizeof err), 0, "%s", err);
    char *as = slurp(p);
    cr_expect_not_null(strstr(as, "m_net:"));
    free(as);
    tg_free(t);
}

Test(aot, errors_are_reported) {
    tg *t = small_cnn(4);
    char err[512] = "";
    cr_expect_neq(cg_emit(&t->g, CG_EMIT_OBJ, "/nonexistent-dir/x.o", "ok", err, sizeof err), 0);
    cr_expect_neq(err[0], 0);
    char p[128];
    snprintf(p, sizeof p, "%s/x.o", dir);
    cr_expect_neq(cg_emit(&t->g, CG_EMIT_OBJ, p, "9bad name", err, sizeof err), 0);
    cr_expect_not_null(strstr(err, "identifier"), "%s", err);
    cr_expect_neq(cg_emit(&t->g, (cg_emit_kind)42, p, "ok", err, sizeof err), 0);
    setenv("CC", "/nonexistent/cc", 1);
    snprintf(p, sizeof p, "%s/x.so", dir);
    cr_expect_neq(cg_emit(&t->g, CG_EMIT_LIB, p, "ok", err, sizeof err), 0);
    cr_expect_not_null(strstr(err, "C compiler"), "%s", err);
    unsetenv("CC");
    tg_free(t);
}
