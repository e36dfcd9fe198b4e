/* cg_kern.h: the kernel emitters' shared context and small IR helpers
 * (internal to the back end): cg_llvm.c emits the fp32 kernels and the
 * model function, cg_int8.c the int8 kernels, on the same context. */
#ifndef NASC_CG_KERN_H
#define NASC_CG_KERN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <llvm-c/Core.h>
#include "cg_llvm_int.h"
#include "passes.h"

typedef struct cx {
    LLVMContextRef C;
    LLVMModuleRef M;
    LLVMBuilderRef B, BA; /* BA: allocas, in the entry block */
    LLVMValueRef fn;
    LLVMTypeRef f32, i64, i32, i8, ptr;
    const ps_lgraph *lg;
    LLVMValueRef *base; /* tile base pointer of each root value */
    LLVMValueRef scratch, nb, arena, tile;
    const float **gdata; /* weight globals, by data pointer */
    LLVMValueRef *gval;
    int n_g, cap_g;
    bool blas, uses_blas;
    int64_t scratch_need;
    const ps_qnode *q; /* per node id, NULL: no quantisation */
    int i8_isa;        /* cg_i8_isa (cg_int8.h) */
} cx;

typedef cg_loop loop;

/* ---------- small IR helpers ---------- */

static inline LLVMValueRef ci(cx *c, int64_t v) { return LLVMConstInt(c->i64, (unsigned long long)v, 1); }
static inline LLVMValueRef cf(cx *c, double v) { return LLVMConstReal(c->f32, v); }

static inline LLVMValueRef fast(LLVMValueRef v) {
    if (LLVMIsAInstruction(v)) LLVMSetFastMathFlags(v, LLVMFastMathAllowReassoc | LLVMFastMathAllowContract);
    return v;
}
static inline LLVMValueRef f_add(cx *c, LLVMValueRef a, LLVMValueRef b, const char *n) {
    return fast(LLVMBuildFAdd(c->B, a, b, n));
}
static inline LLVMValueRef f_sub(cx *c, LLVMValueRef a, LLVMValueRef b, const char *n) {
    return fast(LLVMBuildFSub(c->B, a, b, n));
}
static inline LLVMValueRef f_mul(cx *c, LLVMValueRef a, LLVMValueRef b, const char *n) {
    return fast(LLVMBuildFMul(c->B, a, b, n));
}
static inline LLVMValueRef add(cx *c, LLVMValueRef a, LLVMValueRef b, const char *n) {
    return LLVMBuildNSWAdd(c->B, a, b, n);
}
static inline LLVMValueRef mul(cx *c, LLVMValueRef a, LLVMValueRef b, const char *n) {
    return LLVMBuildNSWMul(c->B, a, b, n);
}
static inline LLVMValueRef addk(cx *c, LLVMValueRef a, int64_t k, const char *n) {
    return k ? add(c, a, ci(c, k), n) : a;
}
static inline LLVMValueRef mulk(cx *c, LLVMValueRef a, int64_t k, const char *n) {
    return k == 1 ? a : mul(c, a, ci(c, k), n);
}

static inline LLVMValueRef gep(cx *c, LLVMValueRef p, LLVMValueRef i, const char *n) {
    return LLVMBuildInBoundsGEP2(c->B, c->f32, p, &i, 1, n);
}
static inline LLVMValueRef load(cx *c, LLVMValueRef p, LLVMValueRef i, const char *n) {
    LLVMValueRef v = LLVMBuildLoad2(c->B, c->f32, gep(c, p, i, ""), n);
    LLVMSetAlignment(v, 4);
    return v;
}
static inline void store(cx *c, LLVMValueRef v, LLVMValueRef p, LLVMValueRef i) {
    LLVMValueRef s = LLVMBuildStore(c->B, v, gep(c, p, i, ""));
    LLVMSetAlignment(s, 4);
}
static inline LLVMValueRef smin(cx *c, LLVMValueRef a, LLVMValueRef b) {
    return LLVMBuildSelect(c->B, LLVMBuildICmp(c->B, LLVMIntSLT, a, b, ""), a, b, "min");
}
static inline LLVMValueRef smax(cx *c, LLVMValueRef a, LLVMValueRef b) {
    return LLVMBuildSelect(c->B, LLVMBuildICmp(c->B, LLVMIntSGT, a, b, ""), a, b, "max");
}

static inline LLVMValueRef var(cx *c, LLVMTypeRef t, const char *n) { return LLVMBuildAlloca(c->BA, t, n); }
static inline LLVMValueRef get(cx *c, LLVMValueRef v, const char *n) {
    return LLVMBuildLoad2(c->B, c->f32, v, n);
}
static inline void set(cx *c, LLVMValueRef v, LLVMValueRef x) { LLVMBuildStore(c->B, x, v); }

/* for (iv = lo; iv < hi; iv += step) */
static inline LLVMValueRef loop_begin(cx *c, loop *L, LLVMValueRef lo, LLVMValueRef hi, int64_t step,
                                      const char *name) {
    LLVMBasicBlockRef pre = LLVMGetInsertBlock(c->B);
    L->head = LLVMAppendBasicBlockInContext(c->C, c->fn, name);
    LLVMBasicBlockRef body = LLVMAppendBasicBlockInContext(c->C, c->fn, "body");
    L->exit = LLVMAppendBasicBlockInContext(c->C, c->fn, "next");
    L->step = step;
    LLVMBuildBr(c->B, L->head);
    LLVMPositionBuilderAtEnd(c->B, L->head);
    L->iv = LLVMBuildPhi(c->B, c->i64, name);
    LLVMAddIncoming(L->iv, &lo, &pre, 1);
    LLVMBuildCondBr(c->B, LLVMBuildICmp(c->B, LLVMIntSLT, L->iv, hi, ""), body, L->exit);
    LLVMPositionBuilderAtEnd(c->B, body);
    return L->iv;
}
static inline LLVMValueRef loop_n(cx *c, loop *L, int64_t n, const char *name) {
    return loop_begin(c, L, ci(c, 0), ci(c, n), 1, name);
}
static inline void loop_end(cx *c, loop *L) {
    LLVMValueRef nx = add(c, L->iv, ci(c, L->step), "");
    LLVMBasicBlockRef latch = LLVMGetInsertBlock(c->B);
    LLVMBuildBr(c->B, L->head);
    LLVMAddIncoming(L->iv, &nx, &latch, 1);
    LLVMPositionBuilderAtEnd(c->B, L->exit);
}

static inline LLVMValueRef call(cx *c, const char *fname, LLVMTypeRef ret, LLVMTypeRef *pt, int np,
                                LLVMValueRef *args, const char *n) {
    LLVMTypeRef ft = LLVMFunctionType(ret, pt, (unsigned)np, 0);
    LLVMValueRef f = LLVMGetNamedFunction(c->M, fname);
    if (!f) f = LLVMAddFunction(c->M, fname, ft);
    return LLVMBuildCall2(c->B, ft, f, args, (unsigned)np, n);
}

/* ---------- in cg_llvm.c, for the int8 kernels ---------- */

/* Geometry of a conv or pool, 1-D ones seen as height 1. */
typedef struct geo {
    int64_t C, H, W, F, OH, OW, KH, KW, SH, SW, PH, PW, DH, DW, G;
    int64_t Hp, Wp; /* padded input */
} geo;

geo cg_k_geometry(const ps_lgraph *lg, const ps_lnode *r, bool conv);
/* The tile pointer of value v for sample s (floats). */
LLVMValueRef cg_k_value_ptr(cx *c, int v, LLVMValueRef s);
/* Node r's fused steps applied to v, the value at flat index f of sample s. */
LLVMValueRef cg_k_epilogue(cx *c, const ps_lnode *r, LLVMValueRef v, LLVMValueRef s, LLVMValueRef f);
/* A private constant global of `bytes` raw bytes (a multiple of 4), keyed by data. */
LLVMValueRef cg_k_global(cx *c, const void *data, int64_t bytes, const char *name);
LLVMValueRef cg_k_param(cx *c, const ir_node *n, ir_param_role r);
/* Bias, the fused steps (and a fused pooling) of output channel oc, from
 * its finished fp32 plane of row pitch P. */
void cg_k_conv_out(cx *c, const ps_lnode *r, const geo *g, LLVMValueRef plane, int64_t P, LLVMValueRef b,
                   LLVMValueRef oc, LLVMValueRef s, LLVMValueRef y);

/* cg_int8.c: emits node r if it is quantised (c->q[r]); false otherwise
 * (nothing emitted). */
bool cg_i8_emit(cx *c, const ps_lnode *r);

#endif
