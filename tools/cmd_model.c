/* cmd_model.c: `nasc build` (ahead-of-time: object, shared library with a
 * C header, executable, LLVM IR, assembly) and `nasc run` (JIT inference,
 * --bench for latency and throughput) of a trained point. */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cg_onnx.h"
#include "passes.h"
#include "cg_print.h"
#include "cli.h"
#include "codegen.h"
#include "data.h"
#include "normalize.h"
#include "drv_quant.h"
#include "drv_supernet.h"
#include "kernels_seq.h"
#include "recipe.h"
#include "train.h"

/* The point's graph with its trained weights; *point (if not NULL) gets
 * the point as JSON, *asg (if not NULL) the point's assignment. */
static int load_model(nasc_ctx *c, const opts *o, ir_graph *g, const char **point, assignment **asg) {
    int st;
    program *p = cli_load(c, o, &st);
    if (!p) return st;
    space_ir *s;
    assignment *a;
    if (!cli_point(c, p, o, &s, &a, g)) return c->n_errors || c->n_internal ? cli_diags(c, o) : EXIT_INPUT;
    if (point) *point = point_json(c, s, a);
    if (asg) *asg = a;
    if (!o->weights) {
        cli_err("%s needs --weights W.safetensors (from nasc train -o or nasc search)", o->cmd);
        return EXIT_USAGE;
    }
    char err[1024];
    recipe_set_base(o->file);
    bool super = drv_is_supernet_file(o->weights); /* a subnet straight from a supernet (docs/one-shot.md) */
    if (super ? drv_subnet_from_file(c, p, s, a, g, o->weights, err, sizeof err)
              : rt_load_weights(g, o->weights, NULL, err, sizeof err)) {
        cli_err("%s", err);
        return EXIT_INPUT;
    }
    return EXIT_OK;
}

static const char *symbol_for(nasc_ctx *c, const char *out) {
    const char *base = strrchr(out, '/');
    base = base ? base + 1 : out;
    char *sym = arena_printf(&c->A, "nasc_%s", base);
    for (char *q = sym; *q; q++) {
        if (*q == '.') {
            *q = 0;
            break;
        }
        if (!isalnum((unsigned char)*q) && *q != '_') *q = '_';
    }
    return sym;
}

/* --dump-after names one pass of the pipeline (ps_pipeline.c's table);
 * false after a message listing them. */
static bool known_pass(const char *name) {
    int n;
    const ps_pass *p = ps_pipeline(&n);
    const char *names[64];
    char list[1024] = "";
    for (int i = 0; i < n && i < 64; i++) {
        if (!strcmp(p[i].name, name)) return true;
        names[i] = p[i].name;
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", p[i].name);
    }
    const char *near = cli_suggest(name, names, n < 64 ? n : 64);
    if (near)
        cli_err("--dump-after: unknown pass '%s'; did you mean '%s'?", name, near);
    else
        cli_err("--dump-after: unknown pass '%s' (the passes: %s)", name, list);
    return false;
}

/* --emit onnx: the graph as an ONNX model (cg_onnx.h); frees g's weights. */
static int build_onnx(ir_graph *g, const char *point, const opts *o, char *err, size_t cap) {
    int rc = cg_onnx_write(g, point, o->out, err, cap);
    rt_params_free(g);
    if (rc) {
        cli_err("%s", err);
        return EXIT_INPUT;
    }
    if (!o->quiet) fprintf(stderr, "wrote %s (ONNX, opset %d)\n", o->out, CG_ONNX_OPSET);
    return EXIT_OK;
}

/* --quant and --calib as given: false after a usage message. */
static bool quant_usage(const opts *o, bool onnx) {
    if (o->calib && drv_quant_kind(o->quant) != PS_QUANT_INT8) {
        cli_err("--calib applies only with --quant int8");
        return false;
    }
    if (onnx && drv_quant_kind(o->quant) != PS_QUANT_NONE) {
        cli_err("--quant does not apply to --emit onnx (the ONNX model is the fp32 point)");
        return false;
    }
    return true;
}

/* --quant int8: the calibration images of the point into cal, whose pass
 * options co then uses.  EXIT_OK or EXIT_INPUT after a message. */
static int quant_setup(const opts *o, const assignment *a, drv_calib *cal, cg_compile_opts *co) {
    if (drv_quant_kind(o->quant) != PS_QUANT_INT8) return EXIT_OK;
    char err[1024];
    if (drv_calib_load(&a->train, o->calib, cal, err, sizeof err)) {
        cli_err("%s", err);
        return EXIT_INPUT;
    }
    co->passes = &cal->po;
    return EXIT_OK;
}

int cmd_build(nasc_ctx *c, const opts *o) {
    ir_graph g = {0};
    if (!o->out) {
        cli_err("build needs -o OUT");
        return EXIT_USAGE;
    }
    enum { EMIT_ONNX = CG_EMIT_ASM + 1 }; /* not a codegen output: cg_onnx.c writes it */
    static const struct {
        const char *name;
        int k;
    } kinds[] = {
        {"obj", CG_EMIT_OBJ},      {"lib", CG_EMIT_LIB}, {"exe", CG_EMIT_EXE},
        {"llvm", CG_EMIT_LLVM_IR}, {"asm", CG_EMIT_ASM}, {"onnx", EMIT_ONNX},
    };
    const int n_kinds = (int)(sizeof kinds / sizeof kinds[0]);
    const char *emit = o->emit ? o->emit : "exe";
    const char *names[8];
    int kind = -1;
    for (int i = 0; i < n_kinds; i++) {
        names[i] = kinds[i].name;
        if (!strcmp(kinds[i].name, emit)) kind = kinds[i].k;
    }
    if (kind < 0) {
        const char *near = cli_suggest(emit, names, n_kinds);
        cli_err("--emit must be obj, lib, exe, llvm, asm or onnx, got '%s'%s%s%s", emit,
                near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
        return EXIT_USAGE;
    }
    if (kind == EMIT_ONNX && (o->cpu || o->dump_after)) { /* the ONNX graph is not compiled */
        cli_err("%s does not apply to --emit onnx", o->cpu ? "--cpu" : "--dump-after");
        return EXIT_USAGE;
    }
    if (o->dump_after && !known_pass(o->dump_after)) return EXIT_USAGE;
    if (!quant_usage(o, kind == EMIT_ONNX)) return EXIT_USAGE;
    if (o->cpu && !cg_cpu_known(o->cpu)) {
        cli_err("unknown --cpu '%s' (native, x86-64, x86-64-v2, x86-64-v3, x86-64-v4, haswell, skylake, "
                "skylake-avx512, "
                "cascadelake, icelake-server, sapphirerapids, znver2..znver5)",
                o->cpu);
        return EXIT_USAGE;
    }
    const char *point = NULL;
    assignment *a = NULL;
    int st = load_model(c, o, &g, &point, &a);
    if (st) {
        rt_params_free(&g);
        return st;
    }
    char err[2048];
    if (kind == EMIT_ONNX) return build_onnx(&g, point, o, err, sizeof err);
    cg_compile_opts co = {0};
    drv_calib cal;
    if ((st = quant_setup(o, a, &cal, &co))) {
        rt_params_free(&g);
        return st;
    }
    co.opt_level = 3;
    co.dump_after = o->dump_after;
    co.dump = stdout;
    co.cpu = o->cpu;
    const char *sym = symbol_for(c, o->out);
    int rc = cg_emit_ex(&g, (cg_emit_kind)kind, o->out, sym, &co, err, sizeof err);
    rt_params_free(&g);
    if (rc) {
        cli_err("%s", err);
        return EXIT_INPUT;
    }
    if (!o->quiet) {
        char hb[1100];
        fprintf(stderr, "wrote %s", o->out);
        if (kind == CG_EMIT_OBJ || kind == CG_EMIT_LIB)
            fprintf(stderr, " and %s (entry point %s)", cg_header_path(o->out, hb, sizeof hb), sym);
        fputc('\n', stderr);
    }
    return EXIT_OK;
}

/* Inputs as tool.md says: an IDX file (gzipped or not; uint8 scaled to
 * [0, 1]) or raw little-endian float32 samples. */
static float *read_inputs(const char *path, int64_t numel, int64_t *n, char *err, size_t cap) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, cap, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    unsigned char mg[4] = {0};
    size_t got = fread(mg, 1, 4, f);
    bool idx = got == 4 && ((mg[0] == 0x1f && mg[1] == 0x8b) ||
                            (mg[0] == 0 && mg[1] == 0 && (mg[2] == 0x08 || mg[2] == 0x0D)));
    if (idx) {
        fclose(f);
        rt_dataset d = {0};
        if (rt_load_idx_images(path, &d, err, cap)) return NULL;
        if (ir_shape_numel(&d.sample) != numel) {
            snprintf(err, cap, "%s holds samples of %lld values, but the model takes %lld", path,
                     (long long)ir_shape_numel(&d.sample), (long long)numel);
            rt_dataset_free(&d);
            return NULL;
        }
        *n = d.n;
        float *x = d.x;
        d.x = NULL;
        rt_dataset_free(&d);
        return x;
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (size <= 0 || size % (long)(numel * 4)) {
        fclose(f);
        snprintf(err, cap, "%s is neither an IDX file nor raw float32 samples of %lld values (%ld bytes)",
                 path, (long long)numel, size);
        return NULL;
    }
    *n = size / (numel * 4);
    float *x = malloc((size_t)size);
    if (!x || fread(x, 1, (size_t)size, f) != (size_t)size) {
        free(x);
        fclose(f);
        snprintf(err, cap, "cannot read %s", path);
        return NULL;
    }
    fclose(f);
    for (long i = 0; i < size / 4; i++) /* as for IDX float32 (and the built executable) */
        if (!isfinite(x[i])) {
            snprintf(err, cap, "%s: element %ld is not a finite number", path, i);
            free(x);
            return NULL;
        }
    return x;
}

/* g->norm: the standardisation stored with the weights, applied to the
 * inputs as training applied it.  Token ids are checked against the
 * vocabulary first (the compiled code only clamps them). */
static int run_inputs(cg_jit *j, const ir_graph *g, const opts *o, char *err, size_t cap) {
    int64_t in = cg_jit_input_numel(j), outn = cg_jit_output_numel(j), n = 0;
    float *x = read_inputs(o->input, in, &n, err, cap);
    if (!x) return -1;
    rt_dataset view = {.n = n, .sample = g->nodes[g->input].shape, .x = x};
    char why[384];
    if (rt_check_tokens(g, &view, "input", why, sizeof why)) {
        snprintf(err, cap, "%s: %s", o->input, why);
        free(x);
        return -1;
    }
    if (rt_norm_apply(&g->norm, in, x, n, err, cap)) {
        free(x);
        return -1;
    }
    float *y = malloc((size_t)(outn * (n > 256 ? 256 : n) + 1) * sizeof *y);
    int rc = 0;
    for (int64_t b = 0; b < n && rc == 0; b += 256) {
        int64_t m = n - b < 256 ? n - b : 256;
        rc = cg_jit_run(j, x + b * in, y, m);
        for (int64_t i = 0; i < m && rc == 0; i++) cg_print_row(stdout, y + i * outn, outn, o->logits);
    }
    if (rc) snprintf(err, cap, "the compiled model failed to run");
    free(x);
    free(y);
    return rc;
}

int cmd_run(nasc_ctx *c, const opts *o) {
    if (!o->input && !o->bench) {
        cli_err("run needs --input F (IDX or raw float32) or --bench");
        return EXIT_USAGE;
    }
    if (!quant_usage(o, false)) return EXIT_USAGE;
    ir_graph g = {0};
    assignment *a = NULL;
    int st = load_model(c, o, &g, NULL, &a);
    cg_compile_opts co = {.opt_level = 3};
    drv_calib cal;
    if (st || (st = quant_setup(o, a, &cal, &co))) {
        rt_params_free(&g);
        return st;
    }
    char err[2048];
    cg_jit *j = cg_jit_compile_ex(&g, &co, err, sizeof err);
    if (!j) {
        rt_params_free(&g);
        cli_err("%s", err);
        return co.passes ? EXIT_INPUT : EXIT_INTERNAL; /* quantisation refuses bad networks */
    }
    int rc = 0;
    if (o->input) rc = run_inputs(j, &g, o, err, sizeof err);
    if (rc == 0 && o->bench) {
        cg_bench_result r;
        rc = cg_bench(j, 1000, &r, err, sizeof err);
        if (rc == 0 && o->json)
            printf("{\"latency_us\": %.3f, \"throughput\": %.1f, \"compile_ms\": %.2f}\n", r.latency_us,
                   r.throughput, cg_jit_compile_ms(j));
        else if (rc == 0)
            printf("latency    %.2f us  (median, batch 1)\nthroughput %.0f samples/s  (batch 256)\ncompile   "
                   " %.1f ms\n",
                   r.latency_us, r.throughput, cg_jit_compile_ms(j));
    }
    cg_jit_free(j);
    rt_params_free(&g);
    if (rc) {
        cli_err("%s", err);
        return EXIT_INPUT;
    }
    return cli_stdout_done();
}
