/* cg_llvm_int.h: what cg_llvm.c shares with the files that lower further
 * operator families (cg_attention.c): the module under construction, seen
 * through cg_env, and the few services that depend on its state (value
 * pointers, fused epilogues, weight globals, loops). */
#ifndef NASC_CG_LLVM_INT_H
#define NASC_CG_LLVM_INT_H

#include "cg_llvm.h"

typedef struct cx cx; /* cg_llvm.c's build state */

/* for (iv = lo; iv < hi; iv += step), built by cg_loop_begin/cg_loop_end */
typedef struct cg_loop {
    LLVMValueRef iv;
    LLVMBasicBlockRef head, exit;
    int64_t step;
} cg_loop;

typedef struct cg_env {
    LLVMContextRef C;
    LLVMModuleRef M;
    LLVMBuilderRef B, BA; /* BA: allocas, in the entry block */
    LLVMValueRef fn, nb;  /* the function; samples in this tile */
    LLVMTypeRef f32, i64, i32, ptr;
    const ps_lgraph *lg;
} cg_env;

/* cg_llvm.c */
void cg_env_of(cx *c, cg_env *e);
/* Sample s of value v (resolved through views). */
LLVMValueRef cg_value_ptr(cx *c, int v, LLVMValueRef s);
/* Node r's fused steps applied to v, the value at flat index f of sample s. */
LLVMValueRef cg_epilogue(cx *c, const ps_lnode *r, LLVMValueRef v, LLVMValueRef s, LLVMValueRef f);
LLVMValueRef cg_param_global(cx *c, const ir_node *n, ir_param_role r);
LLVMValueRef cg_loop_begin(cx *c, cg_loop *L, LLVMValueRef lo, LLVMValueRef hi, int64_t step,
                           const char *name);
void cg_loop_end(cx *c, cg_loop *L);
LLVMValueRef cg_intrinsic1(cx *c, const char *name, LLVMValueRef x, const char *n);
/* Marks a float instruction reassoc + contract (reductions vectorise). */
LLVMValueRef cg_fast(LLVMValueRef v);

/* cg_attention.c: attention, embedding, positional, patches, mean_tokens,
 * matmul and transpose for the whole tile. */
void cg_emit_seq(cx *c, const ps_lnode *r);

#endif
