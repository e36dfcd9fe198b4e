/* codegen.h: the back end's API: JIT-compile a concrete graph for the
 * search and `nasc run`, or emit it ahead of time for `nasc build`.
 *
 * A compiled model is one function (see include/nasc/model.h):
 *     int sym(const float *in, float *out, int64_t batch);
 * in: [batch, input numel] floats, out: [batch, output numel]; returns 0,
 * or -1 if it could not allocate its activation arena.  Weights are baked
 * in as constants, so the caller's graph may be freed after compiling.
 * Errors are returned as text in err, never printed.
 */
#ifndef NASC_CODEGEN_H
#define NASC_CODEGEN_H

#include <stddef.h>
#include <stdint.h>
#include "graph.h"
#include "passes.h"

/* The optimisation level used during search (compile time <= 30 ms). */
#define CG_OPT_SEARCH 1

typedef struct cg_jit cg_jit;

typedef struct cg_compile_opts {
    int opt_level;          /* 0..3 */
    const ps_opts *passes;  /* passes to skip, or NULL */
    int no_blas;            /* never call cblas_sgemm */
    const char *dump_after; /* pass name, or NULL */
    FILE *dump;             /* where --dump-after writes */
    const char *cpu;        /* AOT target CPU: NULL or "native" = this host; else an LLVM CPU
                                   name such as "x86-64-v3" or "x86-64" (portable binaries) */
    int i8_isa;             /* int8 kernels: 0 = chosen by the CPU; 1 + cg_i8_isa_kind forces one (tests) */
} cg_compile_opts;

cg_jit *cg_jit_compile(const ir_graph *g, int opt_level, char *err, size_t errcap);
/* Whether --cpu NAME is one the AOT back end accepts. */
bool cg_cpu_known(const char *cpu);
cg_jit *cg_jit_compile_ex(const ir_graph *g, const cg_compile_opts *o, char *err, size_t errcap);
/* Runs batch samples; 0, or -1 (bad arguments or out of memory). */
int cg_jit_run(cg_jit *j, const float *in, float *out, int64_t batch);
void cg_jit_free(cg_jit *j);
int64_t cg_jit_input_numel(const cg_jit *j);
int64_t cg_jit_output_numel(const cg_jit *j);
/* Wall time of the compile (IR build + passes + codegen), ms; and the
 * CPU time of the compiling thread, which a loaded machine does not inflate. */
double cg_jit_compile_ms(const cg_jit *j);
double cg_jit_compile_cpu_ms(const cg_jit *j);

typedef struct cg_bench_result {
    double latency_us; /* median batch-1 latency */
    double throughput; /* samples/s at batch 256 (median run) */
} cg_bench_result;
/* Times repeated runs on deterministic pseudo-random inputs for about
 * budget_ms in total (<= 0: a default of 300 ms).  0 or -1. */
int cg_bench(cg_jit *j, double budget_ms, cg_bench_result *r, char *err, size_t errcap);

typedef enum { CG_EMIT_OBJ, CG_EMIT_LIB, CG_EMIT_EXE, CG_EMIT_LLVM_IR, CG_EMIT_ASM } cg_emit_kind;
/* Writes out_path (and for OBJ/LIB a header next to it: out_path with its
 * extension replaced by .h).  symbol: the entry point's C name. */
int cg_emit(const ir_graph *g, cg_emit_kind kind, const char *out_path, const char *symbol, char *err,
            size_t errcap);
int cg_emit_ex(const ir_graph *g, cg_emit_kind kind, const char *out_path, const char *symbol,
               const cg_compile_opts *o, char *err, size_t errcap);
/* The header path cg_emit writes for out_path (into buf). */
char *cg_header_path(const char *out_path, char *buf, size_t cap);

#endif
