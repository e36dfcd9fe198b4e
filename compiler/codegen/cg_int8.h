/* cg_int8.h: the int8 kernels of quantised dense and convolution layers
 * (the quant pass, ps_quant.c, decides which layers are quantised and
 * how; cg_kern.h declares the emitter).  Free of LLVM headers, so tests
 * can pick a flavour. */
#ifndef NASC_CG_INT8_H
#define NASC_CG_INT8_H

#include <stdbool.h>

/* How the int8 dot products are emitted.  All three compute the same
 * exact int32 sums. */
typedef enum {
    CG_I8_GENERIC, /* plain LLVM vector IR (sext, mul, add): any target */
    CG_I8_AVX2,    /* vpsignb + vpmaddubsw + vpmaddwd (AVX2) */
    CG_I8_VNNI,    /* vpsignb + vpdpbusd (AVX-512 VNNI with VL) */
} cg_i8_isa_kind;

/* The kind for a target CPU: NULL or "native" = the host's features, else
 * an LLVM x86 CPU name (cg_cpu_known).  triple: the target triple, NULL
 * for the host; a non-x86 triple always gets CG_I8_GENERIC. */
int cg_i8_isa(const char *cpu, const char *triple);
const char *cg_i8_isa_name(int isa);

#endif
