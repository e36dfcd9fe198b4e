/* cg_llvm.h: building and optimising the LLVM module of one model
 * (internal to the back end; the JIT and the AOT emitter share it). */
#ifndef NASC_CG_LLVM_H
#define NASC_CG_LLVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <llvm-c/Core.h>
#include <llvm-c/Error.h>
#include <llvm-c/TargetMachine.h>
#include "passes.h"

/* Samples processed per tile: the arena holds one tile of activations. */
#define CG_TILE 256
/* Dense layers with at least this many rows per tile call cblas_sgemm. */
#define CG_GEMM_MIN_ROWS 32
/* ... and at least this many weights. */
#define CG_GEMM_MIN_MACS 65536

typedef struct cg_modinfo {
    int64_t in_numel, out_numel;
    ir_shape in_shape, out_shape;
    int64_t arena_floats;      /* per sample */
    int64_t scratch_floats;    /* per call */
    bool uses_blas;            /* references cblas_sgemm */
    const ir_input_norm *norm; /* the input standardisation the weights carry (set by cg_emit) */
} cg_modinfo;

typedef struct cg_build_opts {
    const ps_opts *passes;
    bool blas;   /* allow cblas_sgemm for large batches */
    bool avx512; /* host has AVX-512: prefer 512-bit vectors */
    int i8_isa;  /* int8 dot products: cg_i8_isa (cg_int8.h) */
} cg_build_opts;

/* Runs the pass pipeline on g and builds `int sym(const float *in,
 * float *out, int64_t batch)` in a new module of context C. */
int cg_build_module(const ir_graph *g, const cg_build_opts *o, LLVMContextRef C, const char *sym,
                    LLVMModuleRef *mod, cg_modinfo *info, char *err, size_t errcap);
/* --dump-after: runs the pass pipeline alone and writes the state after
 * pass `after` to f (no-op when after is NULL).  0 or -1 with err. */
int cg_dump_pipeline(const ir_graph *g, const ps_opts *passes, const char *after, FILE *f, char *err,
                     size_t errcap);
/* One-time native target initialisation (thread-safe). */
void cg_llvm_init(void);
/* A target machine for the host CPU. */
LLVMTargetMachineRef cg_host_tm(int opt_level, char *err, size_t errcap);
/* A target machine for a named CPU (NULL or "native": the host); *avx512
 * says whether 512-bit vectors should be preferred on it. */
LLVMTargetMachineRef cg_cpu_tm(const char *cpu, int opt_level, bool *avx512, char *err, size_t errcap);
bool cg_host_has_avx512(void);
/* Sets triple/data layout and runs default<O{level}>. */
int cg_optimize(LLVMModuleRef m, LLVMTargetMachineRef tm, int opt_level, char *err, size_t errcap);
/* Copies an LLVM message (from LLVMDisposeMessage-owned APIs) into err and frees it. */
void cg_llvm_err(char *err, size_t errcap, const char *what, char *msg);
/* Same for an LLVMErrorRef (consumed). */
void cg_llvm_error(char *err, size_t errcap, const char *what, LLVMErrorRef e);

#endif
