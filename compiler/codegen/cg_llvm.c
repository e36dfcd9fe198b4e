/* cg_llvm.c: lowers a planned ps_lgraph to one LLVM function.
 *
 *   int sym(const float *in, float *out, int64_t batch)   (0, or -1 if out of memory)
 *
 * Shapes are constants; weights are private constant globals built from raw
 * bytes (cheap to build and to codegen, see toolchain notes).  The batch is
 * processed in tiles of CG_TILE samples so the activation arena (malloc'ed
 * per call, tile-sized) stays bounded; inside a tile each value is a
 * [samples, numel] block at its planned offset.  The two hot kernels,
 * convolution and small-batch dense, are written with explicit vectors
 * (register-blocked FMAs); everything else is scalar loops over contiguous
 * elements that LLVM vectorises.  Float arithmetic carries reassoc+contract
 * so reductions vectorise and FMAs form.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <llvm-c/Analysis.h>
#include <llvm-c/Support.h>
#include <llvm-c/Target.h>
#include <llvm-c/Transforms/PassBuilder.h>
#include "cg_int8.h"
#include "cg_kern.h"
#include "cg_llvm.h"
#include "cg_llvm_int.h"

#include "cg_kern.h"
static LLVMValueRef intrinsic1(cx *c, const char *name, LLVMValueRef x, const char *n) {
    unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
    LLVMValueRef f = LLVMGetIntrinsicDeclaration(c->M, id, &c->f32, 1);
    LLVMTypeRef ft = LLVMIntrinsicGetType(c->C, id, &c->f32, 1);
    return fast(LLVMBuildCall2(c->B, ft, f, &x, 1, n));
}
static LLVMValueRef libm1(cx *c, const char *fname, LLVMValueRef x, const char *n) {
    return call(c, fname, c->f32, &c->f32, 1, &x, n);
}
static void memset0(cx *c, LLVMValueRef p, LLVMValueRef nfloats) {
    LLVMBuildMemSet(c->B, p, LLVMConstInt(c->i8, 0, 0), mulk(c, nfloats, 4, ""), 4);
}

/* A private constant global holding n floats (raw bytes, align 64). */
static LLVMValueRef weights(cx *c, const float *data, int64_t n, const char *name) {
    for (int i = 0; i < c->n_g; i++)
        if (c->gdata[i] == data) return c->gval[i];
    if (c->n_g == c->cap_g) {
        int cap = c->cap_g ? 2 * c->cap_g : 32;
        const float **d = realloc(c->gdata, (size_t)cap * sizeof *d);
        if (d) c->gdata = d;
        LLVMValueRef *v = realloc(c->gval, (size_t)cap * sizeof *v);
        if (v) c->gval = v;
        if (!d || !v) return NULL;
        c->cap_g = cap;
    }
    size_t bytes = (size_t)n * sizeof(float);
    LLVMValueRef init = LLVMConstStringInContext2(c->C, (const char *)data, bytes, 1);
    LLVMValueRef g = LLVMAddGlobal(c->M, LLVMTypeOf(init), name);
    LLVMSetInitializer(g, init);
    LLVMSetGlobalConstant(g, 1);
    LLVMSetLinkage(g, LLVMPrivateLinkage);
    LLVMSetUnnamedAddress(g, LLVMGlobalUnnamedAddr);
    LLVMSetAlignment(g, 64);
    c->gdata[c->n_g] = data;
    c->gval[c->n_g++] = g;
    return g;
}

static const ir_param *param(const ir_node *n, ir_param_role r) {
    for (int i = 0; i < n->n_params; i++)
        if (n->params[i].role == r && n->params[i].data) return &n->params[i];
    return NULL;
}
static LLVMValueRef param_global(cx *c, const ir_node *n, ir_param_role r) {
    const ir_param *p = param(n, r);
    return p ? weights(c, p->data, ir_shape_numel(&p->shape), p->name ? p->name : "w") : NULL;
}

/* ---------- activations and epilogues ---------- */

static LLVMValueRef relu6(cx *c, LLVMValueRef x) {
    LLVMValueRef z = cf(c, 0), six = cf(c, 6);
    LLVMValueRef r = LLVMBuildSelect(c->B, LLVMBuildFCmp(c->B, LLVMRealOGT, x, z, ""), x, z, "");
    return LLVMBuildSelect(c->B, LLVMBuildFCmp(c->B, LLVMRealOLT, r, six, ""), r, six, "relu6");
}
static LLVMValueRef sigmoid(cx *c, LLVMValueRef x) {
    LLVMValueRef e = intrinsic1(c, "llvm.exp", LLVMBuildFNeg(c->B, x, ""), "");
    return LLVMBuildFDiv(c->B, cf(c, 1), f_add(c, cf(c, 1), e, ""), "sigmoid");
}

static LLVMValueRef act(cx *c, ir_act a, LLVMValueRef x) {
    switch (a) {
    case ACT_RELU:
        return LLVMBuildSelect(c->B, LLVMBuildFCmp(c->B, LLVMRealOGT, x, cf(c, 0), ""), x, cf(c, 0), "relu");
    case ACT_RELU6: return relu6(c, x);
    case ACT_GELU: { /* exact (erf) form, as PyTorch's default */
        LLVMValueRef e = libm1(c, "erff", f_mul(c, x, cf(c, M_SQRT1_2), ""), "");
        return f_mul(c, f_mul(c, x, cf(c, 0.5), ""), f_add(c, cf(c, 1), e, ""), "gelu");
    }
    case ACT_TANH: return libm1(c, "tanhf", x, "tanh");
    case ACT_SIGMOID: return sigmoid(c, x);
    case ACT_SWISH: return f_mul(c, x, sigmoid(c, x), "swish");
    case ACT_HSWISH:
        return LLVMBuildFDiv(c->B, f_mul(c, x, relu6(c, f_add(c, x, cf(c, 3), "")), ""), cf(c, 6), "hswish");
    default: return x;
    }
}

static LLVMValueRef value_ptr(cx *c, int v, LLVMValueRef s) {
    int r = ps_root(c->lg, v);
    return gep(c, c->base[r], mulk(c, s, c->lg->nodes[r].numel, ""), "");
}

/* Applies node r's fused steps lo..hi-1 to the value v at flat index f of sample s. */
static LLVMValueRef epilogue_rng(cx *c, const ps_lnode *r, int lo, int hi, LLVMValueRef v, LLVMValueRef s,
                                 LLVMValueRef f) {
    for (int i = lo; i < hi; i++) {
        const ps_epi *e = &r->epi[i];
        LLVMValueRef ch = e->inner > 0 ? LLVMBuildSDiv(c->B, f, ci(c, e->inner), "ch") : f;
        switch (e->kind) {
        case PS_EPI_ACT: v = act(c, e->act, v); break;
        case PS_EPI_ADD: v = f_add(c, v, load(c, value_ptr(c, e->src, s), f, ""), "res"); break;
        case PS_EPI_MUL: v = f_mul(c, v, load(c, value_ptr(c, e->src, s), f, ""), "prod"); break;
        case PS_EPI_MULC: v = f_mul(c, v, load(c, value_ptr(c, e->src, s), ch, ""), "gate"); break;
        case PS_EPI_AFFINE: {
            int64_t chn = c->lg->nodes[e->from].shape.d[0];
            LLVMValueRef sc = weights(c, e->scale, chn, "bn.scale"),
                         sh = weights(c, e->shift, chn, "bn.shift");
            v = f_add(c, f_mul(c, v, load(c, sc, ch, ""), ""), load(c, sh, ch, ""), "bn");
            break;
        }
        }
    }
    return v;
}
static LLVMValueRef epilogue(cx *c, const ps_lnode *r, LLVMValueRef v, LLVMValueRef s, LLVMValueRef f) {
    return epilogue_rng(c, r, 0, r->n_epi, v, s, f);
}

/* ---------- operators (each for the whole tile) ---------- */

static int64_t vec_width(void);

static LLVMValueRef vload(cx *c, LLVMTypeRef vt, LLVMValueRef p, LLVMValueRef i, const char *n) {
    LLVMValueRef v = LLVMBuildLoad2(c->B, vt, gep(c, p, i, ""), n);
    LLVMSetAlignment(v, 4);
    return v;
}

static LLVMValueRef hsum(cx *c, LLVMTypeRef vt, LLVMValueRef v) {
    unsigned id = LLVMLookupIntrinsicID("llvm.vector.reduce.fadd", 23);
    LLVMValueRef f = LLVMGetIntrinsicDeclaration(c->M, id, &vt, 1);
    LLVMValueRef args[2] = {cf(c, 0), v};
    return fast(LLVMBuildCall2(c->B, LLVMIntrinsicGetType(c->C, id, &vt, 1), f, args, 2, "dot"));
}

/* ub units starting at u0: each input vector load feeds ub FMAs into
 * vector accumulators; a scalar tail covers K % VW; a tree reduction,
 * the bias and the fused steps end each unit. */
static void dense_block(cx *c, const ps_lnode *r, LLVMValueRef x, LLVMValueRef W, LLVMValueRef b,
                        LLVMValueRef y, LLVMValueRef s, LLVMValueRef f0, LLVMValueRef u0, int ub, int64_t K,
                        const LLVMValueRef *vacc, const LLVMValueRef *sacc) {
    int64_t vw = vec_width(), kv = K / vw * vw;
    LLVMTypeRef vt = LLVMVectorType(c->f32, (unsigned)vw);
    LLVMValueRef wr[4];
    for (int q = 0; q < ub; q++) {
        LLVMBuildStore(c->B, LLVMConstNull(vt), vacc[q]);
        set(c, sacc[q], cf(c, 0));
        wr[q] = gep(c, W, mulk(c, addk(c, u0, q, ""), K, ""), "wrow");
    }
    loop Lk, Lt;
    if (kv > 0) {
        LLVMValueRef kb = loop_begin(c, &Lk, ci(c, 0), ci(c, kv), vw, "kb");
        LLVMValueRef xv = vload(c, vt, x, kb, "x");
        for (int q = 0; q < ub; q++) {
            LLVMValueRef a = LLVMBuildLoad2(c->B, vt, vacc[q], "");
            LLVMBuildStore(c->B, f_add(c, a, f_mul(c, vload(c, vt, wr[q], kb, "w"), xv, ""), "acc"), vacc[q]);
        }
        loop_end(c, &Lk);
    }
    if (kv < K) {
        LLVMValueRef k = loop_begin(c, &Lt, ci(c, kv), ci(c, K), 1, "ktail");
        LLVMValueRef xs = load(c, x, k, "x");
        for (int q = 0; q < ub; q++)
            set(c, sacc[q], f_add(c, get(c, sacc[q], ""), f_mul(c, load(c, wr[q], k, "w"), xs, ""), ""));
        loop_end(c, &Lt);
    }
    for (int q = 0; q < ub; q++) {
        LLVMValueRef u = addk(c, u0, q, "u");
        LLVMValueRef v =
            f_add(c, hsum(c, vt, LLVMBuildLoad2(c->B, vt, vacc[q], "")), get(c, sacc[q], ""), "");
        if (b) v = f_add(c, v, load(c, b, u, "b"), "");
        LLVMValueRef f = add(c, f0, u, "f"); /* the row's first output + u */
        store(c, epilogue(c, r, v, s, f), y, f);
    }
}

/* Small batches: per sample and row (token), blocks of 4 units (then single ones). */
static void emit_dense_naive(cx *c, const ps_lnode *r, int64_t rows, int64_t K, int64_t U, LLVMValueRef W,
                             LLVMValueRef b) {
    LLVMTypeRef vt = LLVMVectorType(c->f32, (unsigned)vec_width());
    LLVMValueRef vacc[4], sacc[4];
    for (int q = 0; q < 4; q++) {
        vacc[q] = var(c, vt, "vacc");
        sacc[q] = var(c, c->f32, "tail");
    }
    loop Ls, Lr, Lu, L1;
    int64_t u4 = U / 4 * 4;
    LLVMValueRef s = loop_begin(c, &Ls, ci(c, 0), c->nb, 1, "sample");
    LLVMValueRef row = loop_n(c, &Lr, rows, "row");
    LLVMValueRef x = gep(c, value_ptr(c, r->in[0], s), mulk(c, row, K, ""), "xrow");
    LLVMValueRef y = value_ptr(c, (int)(r - c->lg->nodes), s), f0 = mulk(c, row, U, "f0");
    if (u4 > 0) {
        LLVMValueRef u0 = loop_begin(c, &Lu, ci(c, 0), ci(c, u4), 4, "units");
        dense_block(c, r, x, W, b, y, s, f0, u0, 4, K, vacc, sacc);
        loop_end(c, &Lu);
    }
    if (u4 < U) {
        LLVMValueRef u0 = loop_begin(c, &L1, ci(c, u4), ci(c, U), 1, "unit");
        dense_block(c, r, x, W, b, y, s, f0, u0, 1, K, vacc, sacc);
        loop_end(c, &L1);
    }
    loop_end(c, &Lr);
    loop_end(c, &Ls);
}

/* Large tiles: one sgemm (y = x W^T) then the bias/epilogue pass. */
static void emit_dense_blas(cx *c, const ps_lnode *r, int64_t rows, int64_t K, int64_t U, LLVMValueRef W,
                            LLVMValueRef b) {
    LLVMValueRef x = value_ptr(c, r->in[0], ci(c, 0)), y = value_ptr(c, (int)(r - c->lg->nodes), ci(c, 0));
    LLVMTypeRef pt[14] = {c->i32, c->i32, c->i32, c->i32, c->i32, c->i32, c->f32,
                          c->ptr, c->i32, c->ptr, c->i32, c->f32, c->ptr, c->i32};
    LLVMValueRef M = LLVMBuildTrunc(c->B, mulk(c, c->nb, rows, ""), c->i32, "m");
    LLVMValueRef a[14] = {LLVMConstInt(c->i32, 101, 0),
                          LLVMConstInt(c->i32, 111, 0),
                          LLVMConstInt(c->i32, 112, 0),
                          M,
                          LLVMConstInt(c->i32, (unsigned long long)U, 0),
                          LLVMConstInt(c->i32, (unsigned long long)K, 0),
                          cf(c, 1),
                          x,
                          LLVMConstInt(c->i32, (unsigned long long)K, 0),
                          W,
                          LLVMConstInt(c->i32, (unsigned long long)K, 0),
                          cf(c, 0),
                          y,
                          LLVMConstInt(c->i32, (unsigned long long)U, 0)};
    call(c, "cblas_sgemm", LLVMVoidTypeInContext(c->C), pt, 14, a, "");
    c->uses_blas = true;
    if (!b && r->n_epi == 0) return;
    loop Ls, Lf;
    LLVMValueRef s = loop_begin(c, &Ls, ci(c, 0), c->nb, 1, "sample");
    LLVMValueRef ys = value_ptr(c, (int)(r - c->lg->nodes), s);
    LLVMValueRef f = loop_n(c, &Lf, rows * U, "f");
    LLVMValueRef v = load(c, ys, f, "");
    if (b) v = f_add(c, v, load(c, b, LLVMBuildSRem(c->B, f, ci(c, U), "u"), "b"), "");
    store(c, epilogue(c, r, v, s, f), ys, f);
    loop_end(c, &Lf);
    loop_end(c, &Ls);
}

static void emit_dense(cx *c, const ps_lnode *r) {
    const ir_node *n = r->ir;
    const ps_lnode *xin = &c->lg->nodes[r->in[0]];
    /* dense reads the whole sample; linear (dense per token) each of t rows */
    bool tok = n->op == IR_LINEAR;
    int64_t rows = tok ? xin->shape.d[0] : 1, K = tok ? xin->shape.d[1] : xin->numel, U = n->units;
    LLVMValueRef W = param_global(c, n, PARAM_WEIGHT), b = param_global(c, n, PARAM_BIAS);
    /* small layers never gain from a GEMM call: one code path keeps compiles short */
    if (!c->blas || K * U * rows < CG_GEMM_MIN_MACS) {
        emit_dense_naive(c, r, rows, K, U, W, b);
        return;
    }
    LLVMBasicBlockRef big = LLVMAppendBasicBlockInContext(c->C, c->fn, "gemm");
    LLVMBasicBlockRef small = LLVMAppendBasicBlockInContext(c->C, c->fn, "gemv");
    LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(c->C, c->fn, "dense.done");
    LLVMValueRef m = mulk(c, c->nb, rows, "");
    LLVMBuildCondBr(c->B, LLVMBuildICmp(c->B, LLVMIntSGE, m, ci(c, CG_GEMM_MIN_ROWS), ""), big, small);
    LLVMPositionBuilderAtEnd(c->B, big);
    emit_dense_blas(c, r, rows, K, U, W, b);
    LLVMBuildBr(c->B, done);
    LLVMPositionBuilderAtEnd(c->B, small);
    emit_dense_naive(c, r, rows, K, U, W, b);
    LLVMBuildBr(c->B, done);
    LLVMPositionBuilderAtEnd(c->B, done);
}

static geo geometry(const ps_lgraph *lg, const ps_lnode *r, bool conv) {
    const ir_node *n = r->ir;
    const ir_shape *x = &lg->nodes[r->in[0]].ir->shape, *y = &n->shape; /* not the pooled value's */
    bool two = x->rank == 3;
    geo g = {0};
    g.C = x->d[0];
    g.H = two ? x->d[1] : 1;
    g.W = x->d[two ? 2 : 1];
    g.F = y->d[0];
    g.OH = two ? y->d[1] : 1;
    g.OW = y->d[two ? 2 : 1];
    int a = two ? 0 : -1; /* index of the height attributes, -1: none */
    int b = two ? 1 : 0;
    g.KH = a < 0 ? 1 : n->kernel[a];
    g.SH = a < 0 ? 1 : n->stride[a];
    g.PH = a < 0 ? 0 : n->pad[a];
    g.DH = a < 0 || !conv ? 1 : n->dilation[a];
    g.KW = n->kernel[b];
    g.SW = n->stride[b];
    g.PW = n->pad[b];
    g.DW = conv ? n->dilation[b] : 1;
    g.G = conv ? n->groups : 1;
    g.Hp = g.H + 2 * g.PH;
    g.Wp = g.W + 2 * g.PW;
    return g;
}

/* Phase planes of the padded input (see emit_conv). */
static int64_t conv_hq(const geo *g) { return (g->Hp + g->SH - 1) / g->SH; }
static int64_t conv_wq(const geo *g) { return (g->Wp + g->SW - 1) / g->SW; }
static int64_t conv_chan(const geo *g) { return g->SH * g->SW * conv_hq(g) * conv_wq(g); }

/* The clipped window [h0,h1) x [w0,w1) of pooled output (oh, ow). */
static void pool_window(cx *c, const geo *g, LLVMValueRef oh, LLVMValueRef ow, LLVMValueRef *b) {
    LLVMValueRef hs = addk(c, mulk(c, oh, g->SH, ""), -g->PH, ""),
                 ws = addk(c, mulk(c, ow, g->SW, ""), -g->PW, "");
    b[0] = smax(c, hs, ci(c, 0));
    b[1] = smin(c, addk(c, hs, g->KH, ""), ci(c, g->H));
    b[2] = smax(c, ws, ci(c, 0));
    b[3] = smin(c, addk(c, ws, g->KW, ""), ci(c, g->W));
}
/* No padding and a small window: every window lies inside the input. */
static bool pool_unclipped(const geo *g) { return g->PH == 0 && g->PW == 0 && g->KH * g->KW <= 9; }

static LLVMValueRef pool_acc(cx *c, bool mx, LLVMValueRef a, LLVMValueRef v) {
    return mx ? LLVMBuildSelect(c->B, LLVMBuildFCmp(c->B, LLVMRealOGT, v, a, ""), v, a, "")
              : f_add(c, a, v, "");
}
static LLVMValueRef pool_finish(cx *c, bool mx, LLVMValueRef v, const LLVMValueRef *b) {
    if (mx) return v; /* padding excluded from the count */
    LLVMValueRef cnt =
        smax(c, mul(c, LLVMBuildSub(c->B, b[1], b[0], ""), LLVMBuildSub(c->B, b[3], b[2], ""), ""), ci(c, 1));
    return LLVMBuildFDiv(c->B, v, LLVMBuildSIToFP(c->B, cnt, c->f32, ""), "avg");
}

/* Bias, the fused steps and a fused pooling, from the finished plane of
 * output channel oc (row pitch P). */
static void conv_pooled_out(cx *c, const ps_lnode *r, const geo *g, LLVMValueRef plane, int64_t P,
                            LLVMValueRef bias, LLVMValueRef oc, LLVMValueRef s, LLVMValueRef y) {
    const ps_lnode *pl = &c->lg->nodes[r->pool];
    geo pg = geometry(c->lg, pl, false);
    bool mx = pl->op == IR_MAXPOOL;
    loop Lph, Lpw, Lh, Lw;
    LLVMValueRef acc = var(c, c->f32, "pool.acc"), b[4], v;
    LLVMValueRef ph = loop_n(c, &Lph, pg.OH, "ph");
    LLVMValueRef pw = loop_n(c, &Lpw, pg.OW, "pw");
    if (pool_unclipped(&pg)) { /* constant window, unrolled: the pw loop vectorises */
        v = NULL;
        for (int64_t kh = 0; kh < pg.KH; kh++)
            for (int64_t kw = 0; kw < pg.KW; kw++) {
                LLVMValueRef h = addk(c, mulk(c, ph, pg.SH, ""), kh, ""),
                             w = addk(c, mulk(c, pw, pg.SW, ""), kw, "");
                LLVMValueRef e = load(c, plane, add(c, mulk(c, h, P, ""), w, ""), "");
                if (bias) e = f_add(c, e, bias, "");
                LLVMValueRef fc =
                    add(c, mulk(c, oc, g->OH * g->OW, ""), add(c, mulk(c, h, g->OW, ""), w, ""), "fc");
                e = epilogue_rng(c, r, 0, r->n_epi_pre, e, s, fc);
                v = v ? pool_acc(c, mx, v, e) : e;
            }
        if (!mx) v = f_mul(c, v, cf(c, 1.0 / (double)(pg.KH * pg.KW)), "avg");
    } else {
        pool_window(c, &pg, ph, pw, b);
        set(c, acc, cf(c, mx ? -INFINITY : 0));
        LLVMValueRef h = loop_begin(c, &Lh, b[0], b[1], 1, "h");
        LLVMValueRef w = loop_begin(c, &Lw, b[2], b[3], 1, "w");
        v = load(c, plane, add(c, mulk(c, h, P, ""), w, ""), "");
        if (bias) v = f_add(c, v, bias, "");
        LLVMValueRef fc = add(c, mulk(c, oc, g->OH * g->OW, ""), add(c, mulk(c, h, g->OW, ""), w, ""), "fc");
        set(c, acc, pool_acc(c, mx, get(c, acc, ""), epilogue_rng(c, r, 0, r->n_epi_pre, v, s, fc)));
        loop_end(c, &Lw);
        loop_end(c, &Lh);
        v = pool_finish(c, mx, get(c, acc, "pooled"), b);
    }
    LLVMValueRef f = add(c, mulk(c, oc, pg.OH * pg.OW, ""), add(c, mulk(c, ph, pg.OW, ""), pw, ""), "f");
    store(c, epilogue_rng(c, r, r->n_epi_pre, r->n_epi, v, s, f), y, f);
    loop_end(c, &Lpw);
    loop_end(c, &Lph);
}

/* Bias + fused epilogue (and pooling) for channel oc while its plane is hot. */
static void conv_out(cx *c, const ps_lnode *r, const geo *g, LLVMValueRef plane, int64_t P, LLVMValueRef b,
                     LLVMValueRef oc, LLVMValueRef s, LLVMValueRef y) {
    LLVMValueRef bias = b ? load(c, b, oc, "bias") : NULL;
    if (r->pool >= 0) {
        conv_pooled_out(c, r, g, plane, P, bias, oc, s, y);
        return;
    }
    loop Loh, Low;
    LLVMValueRef oh = loop_n(c, &Loh, g->OH, "oh");
    LLVMValueRef ow = loop_n(c, &Low, g->OW, "ow");
    LLVMValueRef v = load(c, plane, add(c, mulk(c, oh, P, ""), ow, ""), "");
    if (bias) v = f_add(c, v, bias, "");
    LLVMValueRef f = add(c, mulk(c, oc, g->OH * g->OW, ""), add(c, mulk(c, oh, g->OW, ""), ow, ""), "f");
    store(c, epilogue(c, r, v, s, f), y, f);
    loop_end(c, &Low);
    loop_end(c, &Loh);
}

/* Convolution with explicit vectors.  The input is copied, zero-padded,
 * into stride phases: phase (a, b) holds padded pixels (i*SH + a, j*SW + b)
 * at (i, j), so with stride 1 it is just the padded image.  Output rows are
 * laid out at the phase pitch Wq; then every tap (ic, kh, kw) is one
 * constant offset (a table) and a block of VW consecutive outputs reads VW
 * consecutive inputs, whatever the stride or dilation.  QB output channels
 * share each input load and keep their accumulators in registers across
 * all taps; the plane is written once per block (its columns past OW hold
 * garbage that is never read). */
static int64_t vec_width(void) { return cg_host_has_avx512() ? 16 : 8; }
static int64_t conv_qb(const geo *g) {
    int64_t fg = g->F / g->G;
    return fg % 8 == 0 ? 8 : fg % 4 == 0 ? 4 : fg % 2 == 0 ? 2 : 1;
}
static int64_t conv_nj(const geo *g, int64_t vw) { return ((g->OH - 1) * conv_wq(g) + g->OW + vw - 1) / vw; }

static LLVMValueRef tap_table(cx *c, const geo *g, const char *name) {
    int64_t cg = g->C / g->G, T = cg * g->KH * g->KW;
    int32_t *tab = malloc((size_t)T * sizeof *tab);
    if (!tab) return NULL;
    for (int64_t i = 0, t = 0; i < cg; i++)
        for (int64_t kh = 0; kh < g->KH; kh++)
            for (int64_t kw = 0; kw < g->KW; kw++) {
                int64_t dh = kh * g->DH, dw = kw * g->DW, ph = (dh % g->SH) * g->SW + dw % g->SW;
                tab[t++] = (int32_t)(i * conv_chan(g) + ph * conv_hq(g) * conv_wq(g) +
                                     dh / g->SH * conv_wq(g) + dw / g->SW);
            }
    LLVMValueRef init = LLVMConstStringInContext2(c->C, (const char *)tab, (size_t)T * sizeof *tab, 1);
    free(tab);
    LLVMValueRef gl = LLVMAddGlobal(c->M, LLVMTypeOf(init), name);
    LLVMSetInitializer(gl, init);
    LLVMSetGlobalConstant(gl, 1);
    LLVMSetLinkage(gl, LLVMPrivateLinkage);
    LLVMSetAlignment(gl, 64);
    return gl;
}

static LLVMValueRef splat(cx *c, LLVMValueRef x, int64_t vw) {
    LLVMTypeRef vt = LLVMVectorType(c->f32, (unsigned)vw);
    LLVMValueRef v = LLVMBuildInsertElement(c->B, LLVMGetPoison(vt), x, LLVMConstInt(c->i32, 0, 0), "");
    return LLVMBuildShuffleVector(c->B, v, LLVMGetPoison(vt),
                                  LLVMConstNull(LLVMVectorType(c->i32, (unsigned)vw)), "w");
}

/* Scatters sample x into the zeroed phase planes at pad. */
static void conv_phases(cx *c, const geo *g, LLVMValueRef pad, LLVMValueRef x) {
    loop Lr, Lw;
    int64_t hq = conv_hq(g), wq = conv_wq(g);
    LLVMValueRef row = loop_n(c, &Lr, g->C * g->H, "padrow");
    LLVMValueRef ic = LLVMBuildSDiv(c->B, row, ci(c, g->H), "ic"),
                 h = LLVMBuildSRem(c->B, row, ci(c, g->H), "h");
    LLVMValueRef hp = addk(c, h, g->PH, "hp"), xr = gep(c, x, mulk(c, row, g->W, ""), "xrow");
    LLVMValueRef base =
        add(c, mulk(c, ic, conv_chan(g), ""), mulk(c, LLVMBuildSDiv(c->B, hp, ci(c, g->SH), ""), wq, ""), "");
    base = add(c, base, mulk(c, LLVMBuildSRem(c->B, hp, ci(c, g->SH), ""), g->SW * hq * wq, ""), "prow");
    if (g->SW == 1) {
        LLVMBuildMemCpy(c->B, gep(c, pad, addk(c, base, g->PW, ""), ""), 4, xr, 4, ci(c, g->W * 4));
    } else {
        LLVMValueRef w = loop_n(c, &Lw, g->W, "w");
        LLVMValueRef wp = addk(c, w, g->PW, "wp");
        LLVMValueRef d = add(c, base,
                             add(c, mulk(c, LLVMBuildSRem(c->B, wp, ci(c, g->SW), ""), hq * wq, ""),
                                 LLVMBuildSDiv(c->B, wp, ci(c, g->SW), ""), ""),
                             "");
        store(c, load(c, xr, w, ""), pad, d);
        loop_end(c, &Lw);
    }
    loop_end(c, &Lr);
}

static void emit_conv(cx *c, const ps_lnode *r) {
    const ir_node *n = r->ir;
    geo g = geometry(c->lg, r, true);
    int64_t vw = vec_width(), qb = conv_qb(&g), nj = conv_nj(&g, vw), cg = g.C / g.G, fg = g.F / g.G;
    int64_t T = cg * g.KH * g.KW, padn = g.C * conv_chan(&g) + 2 * vw;
    if (padn + qb * nj * vw + 16 > c->scratch_need) c->scratch_need = padn + qb * nj * vw + 16;
    LLVMTypeRef vt = LLVMVectorType(c->f32, (unsigned)vw);
    char nm[160];
    snprintf(nm, sizeof nm, "%s.taps", n->name ? n->name : "conv");
    LLVMValueRef W = param_global(c, n, PARAM_WEIGHT), b = param_global(c, n, PARAM_BIAS),
                 taps = tap_table(c, &g, nm);
    LLVMValueRef pad = c->scratch, plane = gep(c, c->scratch, ci(c, padn), "plane");
    LLVMValueRef acc[8];
    for (int q = 0; q < qb; q++) acc[q] = var(c, vt, "acc");
    loop Ls, Lo, Lj, Lt, Lq;
    LLVMValueRef s = loop_begin(c, &Ls, ci(c, 0), c->nb, 1, "sample");
    LLVMValueRef x = value_ptr(c, r->in[0], s), y = value_ptr(c, (int)(r - c->lg->nodes), s);
    memset0(c, pad, ci(c, padn));
    conv_phases(c, &g, pad, x);
    LLVMValueRef ob = loop_begin(c, &Lo, ci(c, 0), ci(c, g.F), qb, "ocb");
    LLVMValueRef src =
        gep(c, pad, mulk(c, LLVMBuildSDiv(c->B, ob, ci(c, fg), "group"), cg * conv_chan(&g), ""), "src");
    LLVMValueRef wb = gep(c, W, mulk(c, ob, T, ""), "wblock");
    LLVMValueRef jb = loop_begin(c, &Lj, ci(c, 0), ci(c, nj * vw), vw, "jb");
    for (int q = 0; q < qb; q++) LLVMBuildStore(c->B, LLVMConstNull(vt), acc[q]);
    LLVMValueRef t = loop_n(c, &Lt, T, "tap");
    LLVMValueRef toff =
        LLVMBuildLoad2(c->B, c->i32, LLVMBuildInBoundsGEP2(c->B, c->i32, taps, &t, 1, ""), "toff");
    LLVMValueRef ip = gep(c, src, add(c, LLVMBuildSExt(c->B, toff, c->i64, ""), jb, ""), "");
    LLVMValueRef xv = LLVMBuildLoad2(c->B, vt, ip, "x");
    LLVMSetAlignment(xv, 4);
    for (int q = 0; q < qb; q++) {
        LLVMValueRef w = splat(c, load(c, wb, addk(c, t, q * T, ""), ""), vw);
        LLVMValueRef a = LLVMBuildLoad2(c->B, vt, acc[q], "");
        LLVMBuildStore(c->B, f_add(c, a, f_mul(c, w, xv, ""), "acc"), acc[q]);
    }
    loop_end(c, &Lt);
    for (int q = 0; q < qb; q++) {
        LLVMValueRef sp = LLVMBuildStore(c->B, LLVMBuildLoad2(c->B, vt, acc[q], ""),
                                         gep(c, plane, addk(c, jb, q * nj * vw, ""), ""));
        LLVMSetAlignment(sp, 4);
    }
    loop_end(c, &Lj);
    LLVMValueRef q = loop_n(c, &Lq, qb, "q");
    conv_out(c, r, &g, gep(c, plane, mulk(c, q, nj * vw, ""), "planeq"), conv_wq(&g), b, add(c, ob, q, "oc"),
             s, y);
    loop_end(c, &Lq);
    loop_end(c, &Lo);
    loop_end(c, &Ls);
}

static void emit_pool(cx *c, const ps_lnode *r) {
    geo g = geometry(c->lg, r, false);
    bool mx = r->op == IR_MAXPOOL;
    loop Ls, Lc, Loh, Low, Lh, Lw;
    LLVMValueRef acc = var(c, c->f32, "acc"), b[4];
    LLVMValueRef s = loop_begin(c, &Ls, ci(c, 0), c->nb, 1, "sample");
    LLVMValueRef x = value_ptr(c, r->in[0], s), y = value_ptr(c, (int)(r - c->lg->nodes), s);
    LLVMValueRef ch = loop_n(c, &Lc, g.C, "c");
    LLVMValueRef oh = loop_n(c, &Loh, g.OH, "oh");
    LLVMValueRef ow = loop_n(c, &Low, g.OW, "ow");
    LLVMValueRef plane = gep(c, x, mulk(c, ch, g.H * g.W, ""), "plane"), v = NULL;
    if (pool_unclipped(&g)) {
        for (int64_t kh = 0; kh < g.KH; kh++)
            for (int64_t kw = 0; kw < g.KW; kw++) {
                LLVMValueRef h = addk(c, mulk(c, oh, g.SH, ""), kh, ""),
                             w = addk(c, mulk(c, ow, g.SW, ""), kw, "");
                LLVMValueRef e = load(c, plane, add(c, mulk(c, h, g.W, ""), w, ""), "x");
                v = v ? pool_acc(c, mx, v, e) : e;
            }
        if (!mx) v = f_mul(c, v, cf(c, 1.0 / (double)(g.KH * g.KW)), "avg");
    } else {
        pool_window(c, &g, oh, ow, b);
        set(c, acc, cf(c, mx ? -INFINITY : 0));
        LLVMValueRef h = loop_begin(c, &Lh, b[0], b[1], 1, "h");
        LLVMValueRef row = gep(c, plane, mulk(c, h, g.W, ""), "");
        LLVMValueRef w = loop_begin(c, &Lw, b[2], b[3], 1, "w");
        set(c, acc, pool_acc(c, mx, get(c, acc, ""), load(c, row, w, "x")));
        loop_end(c, &Lw);
        loop_end(c, &Lh);
        v = pool_finish(c, mx, get(c, acc, "pool"), b);
    }
    LLVMValueRef f = add(c, mulk(c, ch, g.OH * g.OW, ""), add(c, mulk(c, oh, g.OW, ""), ow, ""), "f");
    store(c, epilogue(c, r, v, s, f), y, f);
    loop_end(c, &Low);
    loop_end(c, &Loh);
    loop_end(c, &Lc);
    loop_end(c, &Ls);
}

static void emit_gap(cx *c, const ps_lnode *r) {
    const ps_lnode *xin = &c->lg->nodes[r->in[0]];
    int64_t C = xin->shape.d[0], inner = xin->numel / C;
    loop Ls, Lc, Li;
    LLVMValueRef acc = var(c, c->f32, "acc");
    LLVMValueRef s = loop_begin(c, &Ls, ci(c, 0), c->nb, 1, "sample");
    LLVMValueRef x = value_ptr(c, r->in[0], s), y = value_ptr(c, (int)(r - c->lg->nodes), s);
    LLVMValueRef ch = loop_n(c, &Lc, C, "c");
    LLVMValueRef row = gep(c, x, mulk(c, ch, inner, ""), "");
    set(c, acc, cf(c, 0));
    LLVMValueRef i = loop_n(c, &Li, inner, "i");
    set(c, acc, f_add(c, get(c, acc, ""), load(c, row, i, ""), ""));
    loop_end(c, &Li);
    LLVMValueRef v = LLVMBuildFDiv(c->B, get(c, acc, ""), cf(c, (double)inner), "mean");
    store(c, epilogue(c, r, v, s, ch), y, ch);
    loop_end(c, &Lc);
    loop_end(c, &Ls);
}

/* Rows of the last dimension: layernorm and softmax. */
static void emit_rows(cx *c, const ps_lnode *r) {
    int64_t D = r->shape.d[r->shape.rank - 1], rows = r->numel / D;
    bool ln = r->op == IR_LAYERNORM;
    LLVMValueRef Wg = ln ? param_global(c, r->ir, PARAM_WEIGHT) : NULL,
                 Bg = ln ? param_global(c, r->ir, PARAM_BIAS) : NULL;
    loop Ls, Lr, L1, L2, L3;
    LLVMValueRef a1 = var(c, c->f32, "stat1"), a2 = var(c, c->f32, "stat2");
    LLVMValueRef s = loop_begin(c, &Ls, ci(c, 0), c->nb, 1, "sample");
    LLVMValueRef xs = value_ptr(c, r->in[0], s), ys = value_ptr(c, (int)(r - c->lg->nodes), s);
    LLVMValueRef row = loop_n(c, &Lr, rows, "row");
    LLVMValueRef x = gep(c, xs, mulk(c, row, D, ""), "x"), y = gep(c, ys, mulk(c, row, D, ""), "y");
    set(c, a1, cf(c, ln ? 0 : -INFINITY));
    LLVMValueRef i = loop_n(c, &L1, D, "i");
    LLVMValueRef xv = load(c, x, i, ""), a = get(c, a1, "");
    set(c, a1,
        ln ? f_add(c, a, xv, "")
           : LLVMBuildSelect(c->B, LLVMBuildFCmp(c->B, LLVMRealOGT, xv, a, ""), xv, a, ""));
    loop_end(c, &L1);
    LLVMValueRef m = ln ? LLVMBuildFDiv(c->B, get(c, a1, ""), cf(c, (double)D), "mean") : get(c, a1, "max");
    set(c, a2, cf(c, 0));
    i = loop_n(c, &L2, D, "i");
    LLVMValueRef d = f_sub(c, load(c, x, i, ""), m, "");
    if (ln)
        set(c, a2, f_add(c, get(c, a2, ""), f_mul(c, d, d, ""), ""));
    else {
        LLVMValueRef e = intrinsic1(c, "llvm.exp", d, "e");
        store(c, e, y, i);
        set(c, a2, f_add(c, get(c, a2, ""), e, ""));
    }
    loop_end(c, &L2);
    LLVMValueRef k =
        ln ? LLVMBuildFDiv(c->B, cf(c, 1),
                           intrinsic1(c, "llvm.sqrt",
                                      f_add(c, LLVMBuildFDiv(c->B, get(c, a2, ""), cf(c, (double)D), "var"),
                                            cf(c, r->ir->eps), ""),
                                      ""),
                           "rstd")
           : LLVMBuildFDiv(c->B, cf(c, 1), get(c, a2, ""), "rsum");
    i = loop_n(c, &L3, D, "i");
    LLVMValueRef v;
    if (ln) {
        v = f_mul(c, f_sub(c, load(c, x, i, ""), m, ""), k, "");
        if (Wg) v = f_mul(c, v, load(c, Wg, i, ""), "");
        if (Bg) v = f_add(c, v, load(c, Bg, i, ""), "");
    } else
        v = f_mul(c, load(c, y, i, ""), k, "p");
    LLVMValueRef f = add(c, mulk(c, row, D, ""), i, "f");
    store(c, epilogue(c, r, v, s, f), y, i);
    loop_end(c, &L3);
    loop_end(c, &Lr);
    loop_end(c, &Ls);
}

static void emit_concat(cx *c, const ps_lnode *r) {
    loop Ls, Lf;
    LLVMValueRef s = loop_begin(c, &Ls, ci(c, 0), c->nb, 1, "sample");
    LLVMValueRef y = value_ptr(c, (int)(r - c->lg->nodes), s);
    int64_t off = 0;
    for (int j = 0; j < r->n_in; j++) {
        int64_t n = c->lg->nodes[r->in[j]].numel;
        LLVMValueRef x = value_ptr(c, r->in[j], s);
        LLVMValueRef i = loop_n(c, &Lf, n, "i");
        LLVMValueRef f = addk(c, i, off, "f");
        store(c, epilogue(c, r, load(c, x, i, ""), s, f), y, f);
        loop_end(c, &Lf);
        off += n;
    }
    loop_end(c, &Ls);
}

/* act, add, mul, batchnorm (affine), zero: one value per element. */
static void emit_elementwise(cx *c, const ps_lnode *r) {
    loop Ls, Lf;
    int big = r->op == IR_MUL && c->lg->nodes[r->in[0]].numel != r->numel ? 1 : 0;
    bool chan = r->op == IR_MUL && c->lg->nodes[r->in[1 - big]].numel != r->numel;
    int64_t inner =
        r->numel / c->lg->nodes[r->op == IR_MUL ? r->in[big] : (int)(r - c->lg->nodes)].shape.d[0];
    LLVMValueRef sc = r->op == IR_BATCHNORM ? weights(c, r->scale, r->shape.d[0], "bn.scale") : NULL;
    LLVMValueRef sh = r->op == IR_BATCHNORM ? weights(c, r->shift, r->shape.d[0], "bn.shift") : NULL;
    LLVMValueRef s = loop_begin(c, &Ls, ci(c, 0), c->nb, 1, "sample");
    LLVMValueRef y = value_ptr(c, (int)(r - c->lg->nodes), s);
    LLVMValueRef x[r->n_in];
    for (int j = 0; j < r->n_in; j++) x[j] = value_ptr(c, r->in[j], s);
    if (big) {
        LLVMValueRef t = x[0];
        x[0] = x[1];
        x[1] = t;
    }
    LLVMValueRef f = loop_n(c, &Lf, r->numel, "f");
    LLVMValueRef v = r->op == IR_ZERO ? cf(c, 0) : load(c, x[0], f, "x");
    LLVMValueRef ch = LLVMBuildSDiv(c->B, f, ci(c, inner), "ch");
    switch (r->op) {
    case IR_ACT: v = act(c, r->ir->act, v); break;
    case IR_ADD:
        for (int j = 1; j < r->n_in; j++) v = f_add(c, v, load(c, x[j], f, ""), "sum");
        break;
    case IR_MUL: {
        v = f_mul(c, v, load(c, x[1], chan ? ch : f, ""), "prod");
        break;
    }
    case IR_BATCHNORM: v = f_add(c, f_mul(c, v, load(c, sc, ch, ""), ""), load(c, sh, ch, ""), "bn"); break;
    default: break;
    }
    store(c, epilogue(c, r, v, s, f), y, f);
    loop_end(c, &Lf);
    loop_end(c, &Ls);
}

static void emit_node(cx *c, const ps_lnode *r) {
    if (cg_i8_emit(c, r)) return; /* a quantised dense or conv (cg_int8.c) */
    switch (r->op) {
    case IR_DENSE:
    case IR_LINEAR: emit_dense(c, r); break;
    case IR_ATTENTION:
    case IR_EMBEDDING:
    case IR_POSITIONAL:
    case IR_PATCHES:
    case IR_MEAN_TOKENS:
    case IR_MATMUL:
    case IR_TRANSPOSE: cg_emit_seq(c, r); break;
    case IR_CONV2D:
    case IR_CONV1D: emit_conv(c, r); break;
    case IR_MAXPOOL:
    case IR_AVGPOOL: emit_pool(c, r); break;
    case IR_GLOBAL_AVGPOOL: emit_gap(c, r); break;
    case IR_LAYERNORM:
    case IR_SOFTMAX: emit_rows(c, r); break;
    case IR_CONCAT: emit_concat(c, r); break;
    default: emit_elementwise(c, r); break;
    }
}

/* ---------- for the int8 kernels (cg_kern.h) ---------- */

geo cg_k_geometry(const ps_lgraph *lg, const ps_lnode *r, bool conv) { return geometry(lg, r, conv); }
LLVMValueRef cg_k_value_ptr(cx *c, int v, LLVMValueRef s) { return value_ptr(c, v, s); }
LLVMValueRef cg_k_epilogue(cx *c, const ps_lnode *r, LLVMValueRef v, LLVMValueRef s, LLVMValueRef f) {
    return epilogue(c, r, v, s, f);
}
LLVMValueRef cg_k_global(cx *c, const void *data, int64_t bytes, const char *name) {
    return weights(c, data, bytes / 4, name);
}
LLVMValueRef cg_k_param(cx *c, const ir_node *n, ir_param_role r) { return param_global(c, n, r); }
void cg_k_conv_out(cx *c, const ps_lnode *r, const geo *g, LLVMValueRef plane, int64_t P, LLVMValueRef b,
                   LLVMValueRef oc, LLVMValueRef s, LLVMValueRef y) {
    conv_out(c, r, g, plane, P, b, oc, s, y);
}

/* ---------- the model function ---------- */

static LLVMValueRef declare_entry(cx *c, const char *sym, bool avx512) {
    LLVMTypeRef pt[3] = {c->ptr, c->ptr, c->i64};
    LLVMValueRef fn = LLVMAddFunction(c->M, sym, LLVMFunctionType(c->i32, pt, 3, 0));
    unsigned na = LLVMGetEnumAttributeKindForName("noalias", 7),
             nu = LLVMGetEnumAttributeKindForName("nounwind", 8);
    LLVMAddAttributeAtIndex(fn, 1, LLVMCreateEnumAttribute(c->C, na, 0));
    LLVMAddAttributeAtIndex(fn, 2, LLVMCreateEnumAttribute(c->C, na, 0));
    LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(c->C, nu, 0));
    if (avx512)
        LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
                                LLVMCreateStringAttribute(c->C, "prefer-vector-width", 19, "512", 3));
    LLVMSetValueName2(LLVMGetParam(fn, 0), "in", 2);
    LLVMSetValueName2(LLVMGetParam(fn, 1), "out", 3);
    LLVMSetValueName2(LLVMGetParam(fn, 2), "batch", 5);
    return fn;
}

/* Computes each root value's base pointer for the tile starting at t0. */
static void tile_bases(cx *c, LLVMValueRef t0) {
    const ps_lgraph *lg = c->lg;
    int out = ps_root(lg, lg->output);
    for (int i = 0; i < lg->n; i++) {
        const ps_lnode *n = &lg->nodes[i];
        if (n->view_of >= 0 || n->fused_into >= 0) continue;
        if (n->op == IR_INPUT)
            c->base[i] = gep(c, LLVMGetParam(c->fn, 0), mulk(c, t0, n->numel, ""), "in.tile");
        else if (i == out)
            c->base[i] = gep(c, LLVMGetParam(c->fn, 1), mulk(c, t0, n->numel, ""), "out.tile");
        else
            c->base[i] =
                gep(c, c->arena, mul(c, c->tile, ci(c, n->offset), ""), n->ir->name ? n->ir->name : "");
    }
}

static void emit_tile(cx *c, LLVMValueRef t0) {
    const ps_lgraph *lg = c->lg;
    tile_bases(c, t0);
    int out = ps_root(lg, lg->output);
    if (lg->nodes[out].op == IR_INPUT) { /* the model is a reshape of its input */
        LLVMValueRef dst = gep(c, LLVMGetParam(c->fn, 1), mulk(c, t0, lg->nodes[out].numel, ""), "");
        LLVMBuildMemCpy(c->B, dst, 4, c->base[out], 4, mulk(c, c->nb, lg->nodes[out].numel * 4, ""));
        return;
    }
    for (int pos = 0; pos < lg->n; pos++)
        for (int i = 0; i < lg->n; i++) {
            const ps_lnode *n = &lg->nodes[i];
            if (n->view_of < 0 && n->fused_into < 0 && n->pos == pos && n->op != IR_INPUT) emit_node(c, n);
        }
}

static void build_body(cx *c) {
    LLVMValueRef batch = LLVMGetParam(c->fn, 2);
    LLVMBasicBlockRef entry = LLVMAppendBasicBlockInContext(c->C, c->fn, "entry");
    LLVMBasicBlockRef start = LLVMAppendBasicBlockInContext(c->C, c->fn, "start");
    LLVMBasicBlockRef run = LLVMAppendBasicBlockInContext(c->C, c->fn, "run");
    LLVMBasicBlockRef ret0 = LLVMAppendBasicBlockInContext(c->C, c->fn, "return.ok");
    LLVMBasicBlockRef oom = LLVMAppendBasicBlockInContext(c->C, c->fn, "return.nomem");
    LLVMPositionBuilderAtEnd(c->B, entry);
    LLVMValueRef br = LLVMBuildBr(c->B, start);
    LLVMPositionBuilderBefore(c->BA, br);
    LLVMPositionBuilderAtEnd(c->B, start);
    LLVMValueRef has = LLVMBuildICmp(c->B, LLVMIntSGT, batch, ci(c, 0), "");
    LLVMBasicBlockRef alloc = LLVMAppendBasicBlockInContext(c->C, c->fn, "alloc");
    LLVMBuildCondBr(c->B, has, alloc, ret0);
    LLVMPositionBuilderAtEnd(c->B, alloc);
    c->tile = smin(c, batch, ci(c, CG_TILE));
    LLVMSetValueName2(c->tile, "tile", 4);
    /* the scratch size is known only after emission: patch the constant then */
    LLVMValueRef arena_floats = mulk(c, c->tile, c->lg->arena, "");
    LLVMValueRef scratch_slot = LLVMBuildAlloca(c->BA, c->i64, "scratch.size");
    LLVMValueRef total = add(c, arena_floats, LLVMBuildLoad2(c->B, c->i64, scratch_slot, ""), "floats");
    LLVMValueRef bytes = addk(c, mulk(c, total, 4, ""), 64, "bytes");
    c->arena = call(c, "malloc", c->ptr, &c->i64, 1, &bytes, "arena");
    LLVMBuildCondBr(c->B, LLVMBuildIsNull(c->B, c->arena, ""), oom, run);
    LLVMPositionBuilderAtEnd(c->B, run);
    c->scratch = gep(c, c->arena, arena_floats, "scratch");
    loop Lt;
    LLVMValueRef t0 = loop_begin(c, &Lt, ci(c, 0), batch, 1, "tile");
    c->nb = smin(c, c->tile, LLVMBuildSub(c->B, batch, t0, ""));
    LLVMSetValueName2(c->nb, "nb", 2);
    emit_tile(c, t0);
    /* step by the runtime tile: patch the latch increment */
    LLVMValueRef nx = add(c, t0, c->tile, "");
    LLVMBasicBlockRef latch = LLVMGetInsertBlock(c->B);
    LLVMBuildBr(c->B, Lt.head);
    LLVMAddIncoming(Lt.iv, &nx, &latch, 1);
    LLVMPositionBuilderAtEnd(c->B, Lt.exit);
    call(c, "free", LLVMVoidTypeInContext(c->C), &c->ptr, 1, &c->arena, "");
    LLVMBuildBr(c->B, ret0);
    LLVMPositionBuilderAtEnd(c->B, ret0);
    LLVMBuildRet(c->B, LLVMConstInt(c->i32, 0, 0));
    LLVMPositionBuilderAtEnd(c->B, oom);
    LLVMBuildRet(c->B, LLVMConstInt(c->i32, (unsigned long long)-1, 1));
    LLVMBuildStore(c->BA, ci(c, c->scratch_need), scratch_slot);
}

static void shape_info(const ps_lgraph *lg, cg_modinfo *info) {
    const ps_lnode *in = &lg->nodes[lg->input], *out = &lg->nodes[lg->output];
    info->in_numel = in->numel;
    info->out_numel = out->numel;
    info->in_shape = in->shape;
    info->out_shape = out->shape;
    info->arena_floats = lg->arena;
}

int cg_build_module(const ir_graph *g, const cg_build_opts *o, LLVMContextRef C, const char *sym,
                    LLVMModuleRef *mod, cg_modinfo *info, char *err, size_t errcap) {
    ps_state stt;
    if (ps_state_init(&stt, g, o->passes, err, errcap)) return -1;
    if (ps_run_pipeline(&stt, NULL, NULL, err, errcap) ||
        (!stt.lg->planned && ps_pass_plan_memory(&stt, err, errcap))) {
        ps_state_free(&stt);
        return -1;
    }
    cx c = {0};
    c.C = C;
    c.M = LLVMModuleCreateWithNameInContext(sym, C);
    c.B = LLVMCreateBuilderInContext(C);
    c.BA = LLVMCreateBuilderInContext(C);
    c.f32 = LLVMFloatTypeInContext(C);
    c.i64 = LLVMInt64TypeInContext(C);
    c.i32 = LLVMInt32TypeInContext(C);
    c.i8 = LLVMInt8TypeInContext(C);
    c.ptr = LLVMPointerTypeInContext(C, 0);
    c.lg = stt.lg;
    c.blas = o->blas;
    c.q = stt.q;
    c.i8_isa = o->i8_isa;
    c.base = calloc((size_t)stt.lg->n, sizeof *c.base);
    int rc = 0;
    if (!c.base) {
        snprintf(err, errcap, "out of memory");
        rc = -1;
    } else {
        c.fn = declare_entry(&c, sym, o->avx512);
        build_body(&c);
        memset(info, 0, sizeof *info);
        shape_info(stt.lg, info);
        info->scratch_floats = c.scratch_need;
        info->uses_blas = c.uses_blas;
        for (int i = 0; i < c.n_g; i++)
            if (!c.gval[i]) rc = -1;
        if (rc) snprintf(err, errcap, "out of memory building weights");
#ifndef NDEBUG
        char *msg = NULL; /* a malformed module is a back-end bug: report it, never crash in LLVM */
        if (!rc && LLVMVerifyModule(c.M, LLVMReturnStatusAction, &msg)) {
            snprintf(err, errcap, "internal error: invalid LLVM IR: %.300s", msg ? msg : "");
            rc = -1;
        }
        if (msg) LLVMDisposeMessage(msg);
#endif
    }
    free(c.base);
    free(c.gdata);
    free(c.gval);
    LLVMDisposeBuilder(c.B);
    LLVMDisposeBuilder(c.BA);
    ps_state_free(&stt);
    if (rc) {
        LLVMDisposeModule(c.M);
        return -1;
    }
    *mod = c.M;
    return 0;
}

int cg_dump_pipeline(const ir_graph *g, const ps_opts *passes, const char *after, FILE *f, char *err,
                     size_t errcap) {
    if (!after) return 0;
    ps_state ps;
    if (ps_state_init(&ps, g, passes, err, errcap)) return -1;
    int rc = ps_run_pipeline(&ps, after, f, err, errcap);
    ps_state_free(&ps);
    return rc;
}

/* ---------- target ---------- */

/* The search level: what default<O2> does to these kernels that matters
 * (promotion, LICM, rotation, vectorisation), at a third of its cost. */
#define CG_SEARCH_PIPELINE                                                                             \
    "function(sroa,early-cse,instcombine<no-verify-fixpoint>,simplifycfg,loop-mssa(licm,loop-rotate)," \
    "loop-simplify,lcssa,loop-vectorize,instcombine<no-verify-fixpoint>,simplifycfg)"

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static void init_targets(void) {
    LLVMInitializeNativeTarget();
    LLVMInitializeNativeAsmPrinter();
    /* A second, vectorised remainder loop per loop doubled the code for
     * short trip counts that rarely reach it. */
    const char *argv[] = {"nasc", "-enable-epilogue-vectorization=false"};
    LLVMParseCommandLineOptions(2, argv, NULL);
}
void cg_llvm_init(void) { pthread_once(&init_once, init_targets); }

void cg_llvm_err(char *err, size_t errcap, const char *what, char *msg) {
    snprintf(err, errcap, "%s: %s", what, msg ? msg : "unknown LLVM error");
    if (msg) LLVMDisposeMessage(msg);
}

void cg_llvm_error(char *err, size_t errcap, const char *what, LLVMErrorRef e) {
    char *m = LLVMGetErrorMessage(e);
    snprintf(err, errcap, "%s: %s", what, m ? m : "unknown LLVM error");
    LLVMDisposeErrorMessage(m);
}

bool cg_host_has_avx512(void) {
    char *f = LLVMGetHostCPUFeatures();
    bool yes = f && strstr(f, "+avx512f");
    LLVMDisposeMessage(f);
    return yes;
}

LLVMTargetMachineRef cg_host_tm(int opt_level, char *err, size_t errcap) {
    cg_llvm_init();
    char *triple = LLVMGetDefaultTargetTriple(), *msg = NULL;
    LLVMTargetRef t;
    if (LLVMGetTargetFromTriple(triple, &t, &msg)) {
        cg_llvm_err(err, errcap, "no native target", msg);
        LLVMDisposeMessage(triple);
        return NULL;
    }
    char *cpu = LLVMGetHostCPUName(), *feat = LLVMGetHostCPUFeatures();
    LLVMCodeGenOptLevel lv = opt_level >= 3   ? LLVMCodeGenLevelAggressive
                             : opt_level == 2 ? LLVMCodeGenLevelDefault
                             : opt_level == 1 ? LLVMCodeGenLevelLess
                                              : LLVMCodeGenLevelNone;
    LLVMTargetMachineRef tm =
        LLVMCreateTargetMachine(t, triple, cpu, feat, lv, LLVMRelocPIC, LLVMCodeModelDefault);
    LLVMDisposeMessage(triple);
    LLVMDisposeMessage(cpu);
    LLVMDisposeMessage(feat);
    if (!tm) snprintf(err, errcap, "cannot create a target machine for this host");
    return tm;
}

bool cg_cpu_known(const char *cpu) {
    static const char *const known[] = {"native",      "x86-64",         "x86-64-v2",      "x86-64-v3",
                                        "x86-64-v4",   "haswell",        "skylake",        "skylake-avx512",
                                        "cascadelake", "icelake-server", "sapphirerapids", "znver2",
                                        "znver3",      "znver4",         "znver5",         NULL};
    for (int i = 0; known[i]; i++)
        if (!strcmp(known[i], cpu)) return true;
    return false;
}

LLVMTargetMachineRef cg_cpu_tm(const char *cpu, int opt_level, bool *avx512, char *err, size_t errcap) {
    if (!cpu || !strcmp(cpu, "native")) {
        *avx512 = cg_host_has_avx512();
        return cg_host_tm(opt_level, err, errcap);
    }
    cg_llvm_init();
    char *triple = LLVMGetDefaultTargetTriple(), *msg = NULL;
    LLVMTargetRef t;
    if (LLVMGetTargetFromTriple(triple, &t, &msg)) {
        cg_llvm_err(err, errcap, "no native target", msg);
        LLVMDisposeMessage(triple);
        return NULL;
    }
    /* The CPU name alone selects its features; LLVM only warns on an unknown
     * name, so known names are checked here. */
    static const char *const wide[] = {"x86-64-v4",      "skylake-avx512", "cascadelake", "icelake-server",
                                       "sapphirerapids", "znver4",         "znver5",      NULL};
    bool ok = cg_cpu_known(cpu);
    *avx512 = false;
    for (int i = 0; wide[i]; i++) *avx512 |= !strcmp(wide[i], cpu);
    if (!ok) {
        snprintf(err, errcap,
                 "unknown --cpu '%s' (try native, x86-64, x86-64-v2, x86-64-v3, x86-64-v4, haswell, "
                 "skylake-avx512, znver4)",
                 cpu);
        LLVMDisposeMessage(triple);
        return NULL;
    }
    LLVMCodeGenOptLevel lv = opt_level >= 3   ? LLVMCodeGenLevelAggressive
                             : opt_level == 2 ? LLVMCodeGenLevelDefault
                             : opt_level == 1 ? LLVMCodeGenLevelLess
                                              : LLVMCodeGenLevelNone;
    LLVMTargetMachineRef tm =
        LLVMCreateTargetMachine(t, triple, cpu, "", lv, LLVMRelocPIC, LLVMCodeModelDefault);
    LLVMDisposeMessage(triple);
    if (!tm) snprintf(err, errcap, "cannot create a target machine for cpu '%s'", cpu);
    return tm;
}

int cg_optimize(LLVMModuleRef m, LLVMTargetMachineRef tm, int opt_level, char *err, size_t errcap) {
    char *triple = LLVMGetTargetMachineTriple(tm);
    LLVMSetTarget(m, triple);
    LLVMDisposeMessage(triple);
    LLVMTargetDataRef dl = LLVMCreateTargetDataLayout(tm);
    LLVMSetModuleDataLayout(m, dl);
    LLVMDisposeTargetData(dl);
    if (opt_level < 0) opt_level = 0;
    if (opt_level > 3) opt_level = 3;
    char pipe[512];
    snprintf(pipe, sizeof pipe, "%s", opt_level == 1 ? CG_SEARCH_PIPELINE : "");
    if (opt_level != 1) snprintf(pipe, sizeof pipe, "default<O%d>", opt_level);
    LLVMPassBuilderOptionsRef po = LLVMCreatePassBuilderOptions();
    /* Full unrolling of the constant-trip tap loops multiplied code size
     * (and compile time) by ~10 for no speed: loops stay rolled; the
     * vectoriser still interleaves the inner ones. */
    LLVMPassBuilderOptionsSetLoopUnrolling(po, 0);
    LLVMErrorRef e = LLVMRunPasses(m, pipe, tm, po);
    LLVMDisposePassBuilderOptions(po);
    if (e) {
        cg_llvm_error(err, errcap, "LLVM optimisation failed", e);
        return -1;
    }
    return 0;
}

/* ---------- what the operator files (cg_attention.c) share ---------- */

void cg_env_of(cx *c, cg_env *e) {
    *e = (cg_env){c->C, c->M, c->B, c->BA, c->fn, c->nb, c->f32, c->i64, c->i32, c->ptr, c->lg};
}
LLVMValueRef cg_value_ptr(cx *c, int v, LLVMValueRef s) { return value_ptr(c, v, s); }
LLVMValueRef cg_epilogue(cx *c, const ps_lnode *r, LLVMValueRef v, LLVMValueRef s, LLVMValueRef f) {
    return epilogue(c, r, v, s, f);
}
LLVMValueRef cg_param_global(cx *c, const ir_node *n, ir_param_role r) { return param_global(c, n, r); }
LLVMValueRef cg_loop_begin(cx *c, cg_loop *L, LLVMValueRef lo, LLVMValueRef hi, int64_t step,
                           const char *name) {
    return loop_begin(c, L, lo, hi, step, name);
}
void cg_loop_end(cx *c, cg_loop *L) { loop_end(c, L); }
LLVMValueRef cg_intrinsic1(cx *c, const char *name, LLVMValueRef x, const char *n) {
    return intrinsic1(c, name, x, n);
}
LLVMValueRef cg_fast(LLVMValueRef v) { return fast(v); }
