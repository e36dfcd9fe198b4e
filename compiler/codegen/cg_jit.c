/* cg_jit.c: ORC LLJIT compilation of a graph, and the latency benchmark
 * behind `nasc run --bench` and the search's latency/throughput metrics.
 *
 * Each compile gets its own LLJIT (creation costs ~1 ms) so a candidate's
 * code is freed with it.  The few external functions generated code calls
 * are defined as absolute symbols taken from this library's own link, so
 * they resolve whatever the host executable exports (-rdynamic or not, a
 * libopenblas dropped by --as-needed); session errors are captured into
 * the message instead of LLVM's default print to stderr.
 */
#ifndef _GNU_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <llvm-c/Error.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Orc.h>
#include "cg_int8.h"
#include "cg_llvm.h"
#include "codegen.h"
#include "nasc/model.h"

struct cg_jit {
    LLVMOrcLLJITRef jit;
    nasc_model_fn fn;
    int64_t in_numel, out_numel;
    double compile_ms, compile_cpu_ms;
    char jit_err[300]; /* what the session reported (instead of printing it) */
};

static double cpu_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static LLVMOrcLLJITRef make_jit(int opt_level, char *err, size_t errcap) {
    LLVMTargetMachineRef tm = cg_host_tm(opt_level, err, errcap);
    if (!tm) return NULL;
    LLVMOrcLLJITBuilderRef b = LLVMOrcCreateLLJITBuilder();
    LLVMOrcLLJITBuilderSetJITTargetMachineBuilder(b,
                                                  LLVMOrcJITTargetMachineBuilderCreateFromTargetMachine(tm));
    LLVMOrcLLJITRef j = NULL;
    LLVMErrorRef e = LLVMOrcCreateLLJIT(&j, b);
    if (e) {
        cg_llvm_error(err, errcap, "cannot create the JIT", e);
        return NULL;
    }
    return j;
}

static const char *JIT_SYM = "nasc_model";

static void report(void *ctx, LLVMErrorRef e) {
    cg_jit *j = ctx;
    char *m = LLVMGetErrorMessage(e);
    if (!j->jit_err[0]) snprintf(j->jit_err, sizeof j->jit_err, "%s", m);
    LLVMDisposeErrorMessage(m);
}

static int define_externals(cg_jit *j, char *err, size_t errcap) {
    static const struct {
        const char *name;
        void (*fn)(void);
    } ext[] = {
        {"malloc", (void (*)(void))malloc},
        {"free", (void (*)(void))free},
        {"memset", (void (*)(void))memset},
        {"memcpy", (void (*)(void))memcpy},
        {"memmove", (void (*)(void))memmove},
        {"expf", (void (*)(void))expf},
        {"erff", (void (*)(void))erff},
        {"tanhf", (void (*)(void))tanhf},
        {"cblas_sgemm", (void (*)(void))cblas_sgemm},
    };
    enum { N = sizeof ext / sizeof ext[0] };
    LLVMOrcCSymbolMapPair pairs[N];
    for (int i = 0; i < N; i++) {
        pairs[i].Name = LLVMOrcLLJITMangleAndIntern(j->jit, ext[i].name);
        pairs[i].Sym.Address = (LLVMOrcExecutorAddress)(uintptr_t)ext[i].fn;
        pairs[i].Sym.Flags.GenericFlags =
            LLVMJITSymbolGenericFlagsExported | LLVMJITSymbolGenericFlagsCallable;
        pairs[i].Sym.Flags.TargetFlags = 0;
    }
    LLVMOrcMaterializationUnitRef mu = LLVMOrcAbsoluteSymbols(pairs, N);
    LLVMErrorRef e = LLVMOrcJITDylibDefine(LLVMOrcLLJITGetMainJITDylib(j->jit), mu);
    if (e) {
        LLVMOrcDisposeMaterializationUnit(mu);
        cg_llvm_error(err, errcap, "cannot define the runtime symbols", e);
        return -1;
    }
    return 0;
}

cg_jit *cg_jit_compile_ex(const ir_graph *g, const cg_compile_opts *o, char *err, size_t errcap) {
    double t0 = now_ms(), c0 = cpu_ms();
    cg_llvm_init();
    int lvl = o ? o->opt_level : CG_OPT_SEARCH;
    cg_build_opts bo = {o ? o->passes : NULL, !(o && o->no_blas), cg_host_has_avx512(),
                        o && o->i8_isa ? o->i8_isa - 1 : cg_i8_isa(NULL, NULL)};
    if (o && cg_dump_pipeline(g, bo.passes, o->dump_after, o->dump, err, errcap)) return NULL;
    LLVMOrcThreadSafeContextRef tsc = LLVMOrcCreateNewThreadSafeContext();
    LLVMContextRef C = LLVMOrcThreadSafeContextGetContext(tsc);
    LLVMModuleRef m = NULL;
    cg_modinfo info;
    cg_jit *j = calloc(1, sizeof *j);
    LLVMTargetMachineRef tm = NULL;
    if (!j) {
        snprintf(err, errcap, "out of memory");
        goto fail;
    }
    if (cg_build_module(g, &bo, C, JIT_SYM, &m, &info, err, errcap)) goto fail;
    if (!(tm = cg_host_tm(lvl, err, errcap)) || cg_optimize(m, tm, lvl, err, errcap)) goto fail;
    if (!(j->jit = make_jit(lvl, err, errcap))) goto fail;
    LLVMOrcExecutionSessionSetErrorReporter(LLVMOrcLLJITGetExecutionSession(j->jit), report, j);
    if (define_externals(j, err, errcap)) goto fail;
    LLVMOrcThreadSafeModuleRef tsm = LLVMOrcCreateNewThreadSafeModule(m, tsc);
    m = NULL;
    LLVMErrorRef e = LLVMOrcLLJITAddLLVMIRModule(j->jit, LLVMOrcLLJITGetMainJITDylib(j->jit), tsm);
    if (e) {
        LLVMOrcDisposeThreadSafeModule(tsm);
        cg_llvm_error(err, errcap, "JIT add failed", e);
        goto fail;
    }
    LLVMOrcExecutorAddress addr = 0;
    e = LLVMOrcLLJITLookup(j->jit, &addr, JIT_SYM);
    if (e) {
        cg_llvm_error(err, errcap, "JIT compilation failed", e);
        if (j->jit_err[0]) snprintf(err + strlen(err), errcap - strlen(err), " (%s)", j->jit_err);
        goto fail;
    }
    memcpy(&j->fn, &addr, sizeof j->fn);
    j->in_numel = info.in_numel;
    j->out_numel = info.out_numel;
    LLVMDisposeTargetMachine(tm);
    LLVMOrcDisposeThreadSafeContext(tsc);
    j->compile_ms = now_ms() - t0;
    j->compile_cpu_ms = cpu_ms() - c0;
    return j;
fail:
    if (m) LLVMDisposeModule(m);
    if (tm) LLVMDisposeTargetMachine(tm);
    LLVMOrcDisposeThreadSafeContext(tsc);
    cg_jit_free(j);
    return NULL;
}

cg_jit *cg_jit_compile(const ir_graph *g, int opt_level, char *err, size_t errcap) {
    cg_compile_opts o = {.opt_level = opt_level};
    return cg_jit_compile_ex(g, &o, err, errcap);
}

int cg_jit_run(cg_jit *j, const float *in, float *out, int64_t batch) {
    if (!j || !j->fn || batch < 0 || (batch > 0 && (!in || !out))) return -1;
    return j->fn(in, out, batch);
}

void cg_jit_free(cg_jit *j) {
    if (!j) return;
    if (j->jit) {
        LLVMErrorRef e = LLVMOrcDisposeLLJIT(j->jit);
        if (e) LLVMConsumeError(e);
    }
    free(j);
}

int64_t cg_jit_input_numel(const cg_jit *j) { return j ? j->in_numel : 0; }
int64_t cg_jit_output_numel(const cg_jit *j) { return j ? j->out_numel : 0; }
double cg_jit_compile_ms(const cg_jit *j) { return j ? j->compile_ms : 0; }
double cg_jit_compile_cpu_ms(const cg_jit *j) { return j ? j->compile_cpu_ms : 0; }

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median seconds per call of fn at this batch, over `reps` timed batches of
 * `inner` calls each. */
static double median_call(cg_jit *j, const float *x, float *y, int64_t batch, int reps, int inner) {
    double t[64];
    if (reps > 64) reps = 64;
    for (int r = 0; r < reps; r++) {
        double a = now_ms();
        for (int i = 0; i < inner; i++) j->fn(x, y, batch);
        t[r] = (now_ms() - a) / inner;
    }
    qsort(t, (size_t)reps, sizeof t[0], cmp_d);
    return t[reps / 2] * 1e-3;
}

int cg_bench(cg_jit *j, double budget_ms, cg_bench_result *r, char *err, size_t errcap) {
    if (!j || !r) {
        snprintf(err, errcap, "no compiled model to benchmark");
        return -1;
    }
    if (budget_ms <= 0) budget_ms = 300;
    const int64_t B = 256;
    float *x = malloc((size_t)(B * j->in_numel) * sizeof(float));
    float *y = malloc((size_t)(B * j->out_numel) * sizeof(float));
    if (!x || !y) {
        free(x);
        free(y);
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    uint64_t s = 0x9e3779b97f4a7c15ull;
    for (int64_t i = 0; i < B * j->in_numel; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        x[i] = (float)((s >> 40) & 0xffff) / 65536.0f;
    }
    if (j->fn(x, y, 1) || j->fn(x, y, B)) { /* warm-up, and the arena must fit */
        free(x);
        free(y);
        snprintf(err, errcap, "the model could not allocate its arena");
        return -1;
    }
    /* calibrate: split the budget half/half between the two measures */
    double a = now_ms();
    j->fn(x, y, 1);
    double one = now_ms() - a + 1e-4;
    int inner1 = (int)(budget_ms * 0.5 / 15 / one);
    r->latency_us = median_call(j, x, y, 1, 15, inner1 < 1 ? 1 : inner1) * 1e6;
    a = now_ms();
    j->fn(x, y, B);
    double big = now_ms() - a + 1e-4;
    int reps = (int)(budget_ms * 0.5 / big);
    reps = reps < 3 ? 3 : reps > 31 ? 31 : reps;
    r->throughput = (double)B / median_call(j, x, y, B, reps, 1);
    free(x);
    free(y);
    return 0;
}
