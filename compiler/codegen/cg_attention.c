/* cg_attention.c: LLVM lowering of the sequence operations (issue 15).
 *
 * Attention is fused: per (sample, head, query) one row of t scores lives
 * in a stack buffer; the scores, their max, the exponentials and the
 * weighted sum of the values are computed from it, so the [t, t] score
 * matrix is never materialised.  The other operations are index loops over
 * the tile.  Every stored value goes through the node's fused epilogue.
 *
 * Token ids reaching an embedding are clamped to the vocabulary: compiled
 * code never reads outside its weights, whatever the input (`nasc run` and
 * training check the ids and report bad ones by name before they get here).
 */
#include <math.h>
#include <stdlib.h>
#include "cg_llvm_int.h"

typedef struct sx {
    cx *c;
    cg_env e;
    const ps_lnode *r;
    int self; /* r's value id */
} sx;

#define B (x->e.B)

static LLVMValueRef I64(sx *x, int64_t v) { return LLVMConstInt(x->e.i64, (unsigned long long)v, 1); }
static LLVMValueRef F32(sx *x, double v) { return LLVMConstReal(x->e.f32, v); }
static LLVMValueRef iadd(sx *x, LLVMValueRef a, LLVMValueRef b) { return LLVMBuildNSWAdd(B, a, b, ""); }
static LLVMValueRef imul(sx *x, LLVMValueRef a, int64_t k) {
    return k == 1 ? a : LLVMBuildNSWMul(B, a, I64(x, k), "");
}
static LLVMValueRef vadd(sx *x, LLVMValueRef a, LLVMValueRef b) {
    return cg_fast(LLVMBuildFAdd(B, a, b, ""));
}
static LLVMValueRef vmul(sx *x, LLVMValueRef a, LLVMValueRef b) {
    return cg_fast(LLVMBuildFMul(B, a, b, ""));
}
static LLVMValueRef at(sx *x, LLVMValueRef p, LLVMValueRef i) {
    return LLVMBuildInBoundsGEP2(B, x->e.f32, p, &i, 1, "");
}
static LLVMValueRef ld(sx *x, LLVMValueRef p, LLVMValueRef i) {
    LLVMValueRef v = LLVMBuildLoad2(B, x->e.f32, at(x, p, i), "");
    LLVMSetAlignment(v, 4);
    return v;
}
static void st(sx *x, LLVMValueRef v, LLVMValueRef p, LLVMValueRef i) {
    LLVMSetAlignment(LLVMBuildStore(B, v, at(x, p, i)), 4);
}
static LLVMValueRef rd(sx *x, LLVMValueRef slot) { return LLVMBuildLoad2(B, x->e.f32, slot, ""); }
static void wr(sx *x, LLVMValueRef slot, LLVMValueRef v) { LLVMBuildStore(B, v, slot); }
static LLVMValueRef slot(sx *x, const char *n) { return LLVMBuildAlloca(x->e.BA, x->e.f32, n); }
static LLVMValueRef upto(sx *x, cg_loop *L, int64_t n, const char *name) {
    return cg_loop_begin(x->c, L, I64(x, 0), I64(x, n), 1, name);
}
static void done(sx *x, cg_loop *L) { cg_loop_end(x->c, L); }
static LLVMValueRef in_ptr(sx *x, int j, LLVMValueRef s) { return cg_value_ptr(x->c, x->r->in[j], s); }
static LLVMValueRef out_ptr(sx *x, LLVMValueRef s) { return cg_value_ptr(x->c, x->self, s); }
static const ir_shape *in_shape(sx *x, int j) { return &x->e.lg->nodes[x->r->in[j]].ir->shape; }
/* out[f] = epilogue(v): the one way a value leaves an operator */
static void put(sx *x, LLVMValueRef v, LLVMValueRef y, LLVMValueRef s, LLVMValueRef f) {
    st(x, cg_epilogue(x->c, x->r, v, s, f), y, f);
}

/* ---- attention ---- */

/* acc[0..n) = 0 */
static void zero_acc(sx *x, LLVMValueRef acc, int64_t n) {
    cg_loop L;
    LLVMValueRef e = upto(x, &L, n, "z");
    st(x, F32(x, 0), acc, e);
    done(x, &L);
}

/* sum_e a[e] * b[e] over hd elements */
static LLVMValueRef dot(sx *x, LLVMValueRef a, LLVMValueRef b, int64_t hd, LLVMValueRef acc1) {
    cg_loop L;
    wr(x, acc1, F32(x, 0));
    LLVMValueRef e = upto(x, &L, hd, "dot");
    wr(x, acc1, vadd(x, rd(x, acc1), vmul(x, ld(x, a, e), ld(x, b, e))));
    done(x, &L);
    return rd(x, acc1);
}

static void emit_attention(sx *x) {
    const ir_node *n = x->r->ir;
    int64_t t = in_shape(x, 0)->d[0], H = n->heads, hd = n->head_dim, inner = H * hd, ldq = 3 * inner;
    LLVMValueRef row = LLVMBuildArrayAlloca(x->e.BA, x->e.f32, I64(x, t), "scores");
    LLVMValueRef acc = LLVMBuildArrayAlloca(x->e.BA, x->e.f32, I64(x, hd), "ctx");
    LLVMValueRef mx = slot(x, "max"), sum = slot(x, "sum"), d1 = slot(x, "dot");
    LLVMValueRef scale = F32(x, 1.0 / sqrt((double)hd));
    cg_loop Ls, Lh, Li, Lj, Lk, Lv, Le, Lo;
    LLVMValueRef s = cg_loop_begin(x->c, &Ls, I64(x, 0), x->e.nb, 1, "sample");
    LLVMValueRef qkv = in_ptr(x, 0, s), y = out_ptr(x, s);
    LLVMValueRef h = upto(x, &Lh, H, "head");
    LLVMValueRef qoff = imul(x, h, hd);
    LLVMValueRef i = upto(x, &Li, t, "query");
    LLVMValueRef q = at(x, qkv, iadd(x, imul(x, i, ldq), qoff));
    LLVMValueRef last = n->causal ? iadd(x, i, I64(x, 1)) : I64(x, t);
    /* scores and their max */
    wr(x, mx, F32(x, -INFINITY));
    LLVMValueRef j = cg_loop_begin(x->c, &Lj, I64(x, 0), last, 1, "key");
    LLVMValueRef k = at(x, qkv, iadd(x, iadd(x, imul(x, j, ldq), I64(x, inner)), qoff));
    LLVMValueRef sc = vmul(x, dot(x, q, k, hd, d1), scale), m = rd(x, mx);
    st(x, sc, row, j);
    wr(x, mx, LLVMBuildSelect(B, LLVMBuildFCmp(B, LLVMRealOGT, sc, m, ""), sc, m, ""));
    done(x, &Lj);
    /* exponentials (stable: the max subtracted) and their sum */
    wr(x, sum, F32(x, 0));
    LLVMValueRef m1 = rd(x, mx);
    j = cg_loop_begin(x->c, &Lk, I64(x, 0), last, 1, "exp");
    LLVMValueRef ex = cg_intrinsic1(x->c, "llvm.exp", cg_fast(LLVMBuildFSub(B, ld(x, row, j), m1, "")), "");
    st(x, ex, row, j);
    wr(x, sum, vadd(x, rd(x, sum), ex));
    done(x, &Lk);
    /* the weighted sum of the values */
    zero_acc(x, acc, hd);
    j = cg_loop_begin(x->c, &Lv, I64(x, 0), last, 1, "value");
    LLVMValueRef p = ld(x, row, j);
    LLVMValueRef v = at(x, qkv, iadd(x, iadd(x, imul(x, j, ldq), I64(x, 2 * inner)), qoff));
    LLVMValueRef e = upto(x, &Le, hd, "e");
    st(x, vadd(x, ld(x, acc, e), vmul(x, p, ld(x, v, e))), acc, e);
    done(x, &Le);
    done(x, &Lv);
    LLVMValueRef inv = LLVMBuildFDiv(B, F32(x, 1), rd(x, sum), "inv");
    LLVMValueRef o0 = iadd(x, imul(x, i, inner), qoff);
    e = upto(x, &Lo, hd, "out");
    put(x, vmul(x, ld(x, acc, e), inv), y, s, iadd(x, o0, e));
    done(x, &Lo);
    done(x, &Li);
    done(x, &Lh);
    done(x, &Ls);
}

/* ---- embedding, positional codes ---- */

static void emit_embedding(sx *x) {
    const ir_node *n = x->r->ir;
    int64_t t = in_shape(x, 0)->d[0], D = n->units;
    LLVMValueRef W = cg_param_global(x->c, n, PARAM_WEIGHT);
    cg_loop Ls, Li, Le;
    LLVMValueRef s = cg_loop_begin(x->c, &Ls, I64(x, 0), x->e.nb, 1, "sample");
    LLVMValueRef ids = in_ptr(x, 0, s), y = out_ptr(x, s);
    LLVMValueRef i = upto(x, &Li, t, "token");
    /* clamp in float first: fptosi of NaN or of a huge value is poison */
    LLVMValueRef f = ld(x, ids, i), lo = F32(x, 0), hi = F32(x, (double)(n->vocab - 1));
    f = LLVMBuildSelect(B, LLVMBuildFCmp(B, LLVMRealOGE, f, lo, ""), f, lo, "");
    f = LLVMBuildSelect(B, LLVMBuildFCmp(B, LLVMRealOLE, f, hi, ""), f, hi, "");
    LLVMValueRef wrow = at(x, W, imul(x, LLVMBuildFPToSI(B, f, x->e.i64, "id"), D));
    LLVMValueRef f0 = imul(x, i, D);
    LLVMValueRef e = upto(x, &Le, D, "e");
    put(x, ld(x, wrow, e), y, s, iadd(x, f0, e));
    done(x, &Le);
    done(x, &Li);
    done(x, &Ls);
}

/* The sinusoidal table as a constant global, from the one definition. */
static LLVMValueRef sinusoid_table(sx *x, int64_t t, int64_t d) {
    LLVMValueRef *v = malloc(sizeof *v * (size_t)(t * d));
    if (!v) return NULL;
    for (int64_t p = 0; p < t; p++)
        for (int64_t i = 0; i < d; i++) v[p * d + i] = F32(x, ir_positional_code(p, i, d));
    LLVMValueRef init = LLVMConstArray(x->e.f32, v, (unsigned)(t * d));
    free(v);
    LLVMValueRef g = LLVMAddGlobal(x->e.M, LLVMTypeOf(init), "positional.sinusoid");
    LLVMSetInitializer(g, init);
    LLVMSetGlobalConstant(g, 1);
    LLVMSetLinkage(g, LLVMPrivateLinkage);
    LLVMSetAlignment(g, 64);
    return g;
}

static void emit_positional(sx *x) {
    const ir_node *n = x->r->ir;
    int64_t len = x->r->numel;
    LLVMValueRef code = n->sinusoidal ? sinusoid_table(x, n->shape.d[0], n->shape.d[1])
                                      : cg_param_global(x->c, n, PARAM_WEIGHT);
    if (!code) return; /* no memory for t * d constants: nothing sensible to emit */
    cg_loop Ls, Lf;
    LLVMValueRef s = cg_loop_begin(x->c, &Ls, I64(x, 0), x->e.nb, 1, "sample");
    LLVMValueRef a = in_ptr(x, 0, s), y = out_ptr(x, s);
    LLVMValueRef f = upto(x, &Lf, len, "f");
    put(x, vadd(x, ld(x, a, f), ld(x, code, f)), y, s, f);
    done(x, &Lf);
    done(x, &Ls);
}

/* ---- reorderings: patches, transpose; reductions: mean_tokens, matmul ---- */

static void emit_patches(sx *x) {
    const ir_shape *in = in_shape(x, 0);
    int64_t C = in->d[0], Hh = in->d[1], Ww = in->d[2], S = x->r->ir->kernel[0], pw = Ww / S;
    int64_t np = (Hh / S) * pw, fd = C * S * S;
    cg_loop Ls, Lp, Lc, Ly, Lx;
    LLVMValueRef s = cg_loop_begin(x->c, &Ls, I64(x, 0), x->e.nb, 1, "sample");
    LLVMValueRef a = in_ptr(x, 0, s), y = out_ptr(x, s);
    LLVMValueRef p = upto(x, &Lp, np, "patch");
    LLVMValueRef py = LLVMBuildSDiv(B, p, I64(x, pw), "py"), px = LLVMBuildSRem(B, p, I64(x, pw), "px");
    LLVMValueRef ch = upto(x, &Lc, C, "ch");
    LLVMValueRef dy = upto(x, &Ly, S, "dy");
    /* source row (ch, py*S + dy), output (p, (ch*S + dy)*S) */
    LLVMValueRef src =
        iadd(x, imul(x, iadd(x, imul(x, ch, Hh), iadd(x, imul(x, py, S), dy)), Ww), imul(x, px, S));
    LLVMValueRef dst = iadd(x, imul(x, p, fd), imul(x, iadd(x, imul(x, ch, S), dy), S));
    LLVMValueRef dx = upto(x, &Lx, S, "dx");
    put(x, ld(x, a, iadd(x, src, dx)), y, s, iadd(x, dst, dx));
    done(x, &Lx);
    done(x, &Ly);
    done(x, &Lc);
    done(x, &Lp);
    done(x, &Ls);
}

static void emit_transpose(sx *x) {
    int64_t R = in_shape(x, 0)->d[0], C = in_shape(x, 0)->d[1];
    cg_loop Ls, Lj, Li;
    LLVMValueRef s = cg_loop_begin(x->c, &Ls, I64(x, 0), x->e.nb, 1, "sample");
    LLVMValueRef a = in_ptr(x, 0, s), y = out_ptr(x, s);
    LLVMValueRef j = upto(x, &Lj, C, "col");
    LLVMValueRef i = upto(x, &Li, R, "row");
    put(x, ld(x, a, iadd(x, imul(x, i, C), j)), y, s, iadd(x, imul(x, j, R), i));
    done(x, &Li);
    done(x, &Lj);
    done(x, &Ls);
}

static void emit_mean_tokens(sx *x) {
    int64_t T = in_shape(x, 0)->d[0], D = in_shape(x, 0)->d[1];
    LLVMValueRef acc = LLVMBuildArrayAlloca(x->e.BA, x->e.f32, I64(x, D), "mean");
    cg_loop Ls, Li, Le, Lo;
    LLVMValueRef s = cg_loop_begin(x->c, &Ls, I64(x, 0), x->e.nb, 1, "sample");
    LLVMValueRef a = in_ptr(x, 0, s), y = out_ptr(x, s);
    zero_acc(x, acc, D);
    LLVMValueRef i = upto(x, &Li, T, "token");
    LLVMValueRef rowp = at(x, a, imul(x, i, D));
    LLVMValueRef e = upto(x, &Le, D, "e");
    st(x, vadd(x, ld(x, acc, e), ld(x, rowp, e)), acc, e);
    done(x, &Le);
    done(x, &Li);
    e = upto(x, &Lo, D, "out");
    put(x, vmul(x, ld(x, acc, e), F32(x, 1.0 / (double)T)), y, s, e);
    done(x, &Lo);
    done(x, &Ls);
}

/* y[i, :] = sum_k a[i, k] b[k, :]: rows of b stream contiguously. */
static void emit_matmul(sx *x) {
    int64_t T = in_shape(x, 0)->d[0], Kd = in_shape(x, 0)->d[1], M = in_shape(x, 1)->d[1];
    LLVMValueRef acc = LLVMBuildArrayAlloca(x->e.BA, x->e.f32, I64(x, M), "mm");
    cg_loop Ls, Li, Lk, Lm, Lo;
    LLVMValueRef s = cg_loop_begin(x->c, &Ls, I64(x, 0), x->e.nb, 1, "sample");
    LLVMValueRef a = in_ptr(x, 0, s), b = in_ptr(x, 1, s), y = out_ptr(x, s);
    LLVMValueRef i = upto(x, &Li, T, "row");
    zero_acc(x, acc, M);
    LLVMValueRef k = upto(x, &Lk, Kd, "k");
    LLVMValueRef aik = ld(x, a, iadd(x, imul(x, i, Kd), k)), brow = at(x, b, imul(x, k, M));
    LLVMValueRef m = upto(x, &Lm, M, "m");
    st(x, vadd(x, ld(x, acc, m), vmul(x, aik, ld(x, brow, m))), acc, m);
    done(x, &Lm);
    done(x, &Lk);
    m = upto(x, &Lo, M, "out");
    put(x, ld(x, acc, m), y, s, iadd(x, imul(x, i, M), m));
    done(x, &Lo);
    done(x, &Li);
    done(x, &Ls);
}

void cg_emit_seq(cx *c, const ps_lnode *r) {
    sx x = {c, {0}, r, 0};
    cg_env_of(c, &x.e);
    x.self = (int)(r - x.e.lg->nodes);
    switch (r->op) {
    case IR_ATTENTION: emit_attention(&x); break;
    case IR_EMBEDDING: emit_embedding(&x); break;
    case IR_POSITIONAL: emit_positional(&x); break;
    case IR_PATCHES: emit_patches(&x); break;
    case IR_TRANSPOSE: emit_transpose(&x); break;
    case IR_MEAN_TOKENS: emit_mean_tokens(&x); break;
    case IR_MATMUL: emit_matmul(&x); break;
    default: break;
    }
}
