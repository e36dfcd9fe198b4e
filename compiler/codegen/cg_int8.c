/* cg_int8.c: the int8 kernels of quantised dense and convolution layers.
 *
 * Activations between layers stay fp32 in the arena (the memory plan, the
 * fused epilogues and the fp32 operations around are unchanged).  Each
 * int8 kernel
 *   1. quantises its input while packing it, q = clamp(rint(x / s_x), ±127):
 *      dense into one row per sample, convolution into zero-padded int8
 *      planes and then an im2col matrix [group][position][tap];
 *   2. computes exact int32 dot products of those rows with the int8 weight
 *      rows (ps_qnode.w: [oc][kpad], zero padded to 32 bytes);
 *   3. dequantises in its epilogue, v = sum * (s_x * s_w[oc]) + bias, then
 *      applies the fused steps (activation, residual, pooling) as fp32.
 *
 * The dot products, 32 bytes at a time into 8 int32 lanes:
 *   AVX2:  vpsignb moves the sign of x onto w, so vpmaddubsw multiplies
 *          |x| (u8) by w*sign(x) (s8).  Both are at most 127 in magnitude
 *          (the pass never produces -128), so each pair sum is at most
 *          2*127*127 = 32258 < 32767: vpmaddubsw never saturates, and
 *          vpmaddwd by ones widens the pairs to int32.  Exact.
 *   VNNI:  the same operands into vpdpbusd (u8 x s8, 4-way, int32): exact.
 *   other: sign-extended int32 multiplies and adds in plain vector IR.
 */
#include <string.h>
#include <llvm-c/Core.h>
#include <llvm-c/TargetMachine.h>
#include "cg_int8.h"
#include "cg_kern.h"
#include "cg_llvm.h"

#define VB 32 /* bytes per dot-product step */

const char *cg_i8_isa_name(int isa) {
    return isa == CG_I8_VNNI ? "avx512-vnni" : isa == CG_I8_AVX2 ? "avx2" : "generic";
}

int cg_i8_isa(const char *cpu, const char *triple) {
    if (triple && strncmp(triple, "x86_64", 6)) return CG_I8_GENERIC;
    if (!cpu || !strcmp(cpu, "native")) {
        char *f = LLVMGetHostCPUFeatures();
        int k = !f                                                   ? CG_I8_GENERIC
                : strstr(f, "+avx512vnni") && strstr(f, "+avx512vl") ? CG_I8_VNNI
                : strstr(f, "+avx2")                                 ? CG_I8_AVX2
                                                                     : CG_I8_GENERIC;
        LLVMDisposeMessage(f);
        return k;
    }
    static const char *const vnni[] = {"cascadelake", "icelake-server", "sapphirerapids",
                                       "znver4",      "znver5",         NULL};
    static const char *const avx2[] = {"x86-64-v3",      "x86-64-v4", "haswell", "skylake",
                                       "skylake-avx512", "znver2",    "znver3",  NULL};
    for (int i = 0; vnni[i]; i++)
        if (!strcmp(cpu, vnni[i])) return CG_I8_VNNI;
    for (int i = 0; avx2[i]; i++)
        if (!strcmp(cpu, avx2[i])) return CG_I8_AVX2;
    return CG_I8_GENERIC;
}

/* ---------- IR helpers on bytes and int vectors ---------- */

static LLVMValueRef bgep(cx *c, LLVMValueRef p, LLVMValueRef i) {
    return LLVMBuildInBoundsGEP2(c->B, c->i8, p, &i, 1, "");
}
static LLVMTypeRef vec(LLVMTypeRef t, unsigned n) { return LLVMVectorType(t, n); }
static LLVMValueRef vload1(cx *c, LLVMTypeRef t, LLVMValueRef p, const char *n) {
    LLVMValueRef v = LLVMBuildLoad2(c->B, t, p, n);
    LLVMSetAlignment(v, 1);
    return v;
}

/* Calls an intrinsic; overloaded ones take their types in ot[0..no). */
static LLVMValueRef intr(cx *c, const char *name, LLVMTypeRef *ot, int no, LLVMValueRef *a, int na) {
    unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
    LLVMValueRef f = LLVMGetIntrinsicDeclaration(c->M, id, ot, (size_t)no);
    LLVMTypeRef ft = LLVMIntrinsicGetType(c->C, id, ot, (size_t)no);
    return LLVMBuildCall2(c->B, ft, f, a, (unsigned)na, "");
}

/* q = clamp(rint(x * inv), -127, 127) as i8 (exact multiply, no fast-math:
 * the tests' reference computes the same). */
static LLVMValueRef quant(cx *c, LLVMValueRef x, const ps_qnode *q) {
    LLVMValueRef v = LLVMBuildFMul(c->B, x, cf(c, q->in_inv), "");
    v = intr(c, "llvm.rint", &c->f32, 1, &v, 1);
    LLVMValueRef hi = cf(c, 127), lo = cf(c, q->unsigned_in ? 0 : -127);
    v = LLVMBuildSelect(c->B, LLVMBuildFCmp(c->B, LLVMRealOGT, v, hi, ""), hi, v, "");
    v = LLVMBuildSelect(c->B, LLVMBuildFCmp(c->B, LLVMRealOLT, v, lo, ""), lo, v, "");
    return LLVMBuildFPToSI(c->B, v, c->i8, "q");
}

/* acc (<8 x i32>) + the 32 products of x and w, pairwise summed into 8
 * lanes.  xa: |x|, or NULL when x is known to be in [0, 127] (then x is
 * the unsigned operand as it is). */
static LLVMValueRef dot_step(cx *c, LLVMValueRef acc, LLVMValueRef x, LLVMValueRef xa, LLVMValueRef w) {
    LLVMTypeRef v8 = vec(c->i32, 8), v16 = vec(LLVMInt16TypeInContext(c->C), 16);
    if (c->i8_isa == CG_I8_GENERIC) {
        LLVMTypeRef v32 = vec(c->i32, 32);
        LLVMValueRef p =
            LLVMBuildMul(c->B, LLVMBuildSExt(c->B, x, v32, ""), LLVMBuildSExt(c->B, w, v32, ""), "");
        for (int part = 0; part < 4; part++) {
            LLVMValueRef m[8];
            for (int i = 0; i < 8; i++) m[i] = LLVMConstInt(c->i32, (unsigned long long)(part * 8 + i), 0);
            acc = LLVMBuildAdd(c->B, acc, LLVMBuildShuffleVector(c->B, p, p, LLVMConstVector(m, 8), ""), "");
        }
        return acc;
    }
    LLVMValueRef sw[2] = {w, x}, ws = w;
    if (xa)
        ws = intr(c, "llvm.x86.avx2.psign.b", NULL, 0, sw, 2);
    else
        xa = x;
    if (c->i8_isa == CG_I8_VNNI) {
        LLVMValueRef a[3] = {acc, LLVMBuildBitCast(c->B, xa, v8, ""), LLVMBuildBitCast(c->B, ws, v8, "")};
        return intr(c, "llvm.x86.avx512.vpdpbusd.256", NULL, 0, a, 3);
    }
    LLVMValueRef mb[2] = {xa, ws};
    LLVMValueRef p16 = intr(c, "llvm.x86.avx2.pmadd.ub.sw", NULL, 0, mb, 2);
    LLVMValueRef ones[16];
    for (int i = 0; i < 16; i++) ones[i] = LLVMConstInt(LLVMInt16TypeInContext(c->C), 1, 0);
    LLVMValueRef mw[2] = {p16, LLVMConstVector(ones, 16)};
    (void)v16;
    return LLVMBuildAdd(c->B, acc, intr(c, "llvm.x86.avx2.pmadd.wd", NULL, 0, mw, 2), "acc");
}

/* The n-lane vector of the sums of adjacent lane pairs of a then b (n
 * lanes each; n = 4 reads only the first 4 pairs of a:b). */
static LLVMValueRef pair_sums(cx *c, LLVMValueRef a, LLVMValueRef b, unsigned n) {
    LLVMValueRef ev[8], od[8];
    for (unsigned i = 0; i < n; i++) {
        ev[i] = LLVMConstInt(c->i32, 2 * i, 0);
        od[i] = LLVMConstInt(c->i32, 2 * i + 1, 0);
    }
    return LLVMBuildAdd(c->B, LLVMBuildShuffleVector(c->B, a, b, LLVMConstVector(ev, n), ""),
                        LLVMBuildShuffleVector(c->B, a, b, LLVMConstVector(od, n), ""), "pairs");
}

/* The ub int32 dot products of the kpad bytes at x with weight rows
 * u0..u0+ub-1 of W8, as floats in out[]: each x vector (and its |x|)
 * feeds ub accumulators kept in registers. */
static void dots(cx *c, const ps_qnode *q, LLVMValueRef x, LLVMValueRef W8, LLVMValueRef u0, int ub,
                 const LLVMValueRef *acc, LLVMValueRef *out) {
    LLVMTypeRef v8 = vec(c->i32, 8), b32 = vec(c->i8, VB);
    LLVMValueRef wr[4];
    for (int k = 0; k < ub; k++) {
        LLVMBuildStore(c->B, LLVMConstNull(v8), acc[k]);
        wr[k] = bgep(c, W8, mulk(c, addk(c, u0, k, ""), q->kpad, ""));
    }
    loop L;
    LLVMValueRef kb = loop_begin(c, &L, ci(c, 0), ci(c, q->kpad), VB, "kb");
    LLVMValueRef xv = vload1(c, b32, bgep(c, x, kb), "x");
    LLVMValueRef xa = NULL;
    if (c->i8_isa != CG_I8_GENERIC && !q->unsigned_in) {
        LLVMValueRef a[2] = {xv, LLVMConstInt(LLVMInt1TypeInContext(c->C), 0, 0)};
        xa = intr(c, "llvm.abs", &b32, 1, a, 2);
    }
    for (int k = 0; k < ub; k++) {
        LLVMValueRef wv = vload1(c, b32, bgep(c, wr[k], kb), "w");
        LLVMBuildStore(c->B, dot_step(c, LLVMBuildLoad2(c->B, v8, acc[k], ""), xv, xa, wv), acc[k]);
    }
    loop_end(c, &L);
    if (ub == 4) { /* the four horizontal sums as one tree: pairwise sums of lane pairs */
        LLVMValueRef a[4];
        for (int k = 0; k < 4; k++) a[k] = LLVMBuildLoad2(c->B, v8, acc[k], "");
        LLVMValueRef s = pair_sums(c, pair_sums(c, a[0], a[1], 8), pair_sums(c, a[2], a[3], 8), 8);
        s = pair_sums(c, s, s, 4);
        for (int k = 0; k < 4; k++)
            out[k] = LLVMBuildSIToFP(
                c->B, LLVMBuildExtractElement(c->B, s, LLVMConstInt(c->i32, (unsigned)k, 0), ""), c->f32,
                "sum");
        return;
    }
    for (int k = 0; k < ub; k++) {
        LLVMValueRef s = LLVMBuildLoad2(c->B, v8, acc[k], "");
        s = intr(c, "llvm.vector.reduce.add", &v8, 1, &s, 1);
        out[k] = LLVMBuildSIToFP(c->B, s, c->f32, "sum");
    }
}

static void need_scratch(cx *c, int64_t floats) {
    if (floats > c->scratch_need) c->scratch_need = floats;
}

static void qname(char *buf, size_t cap, const ir_node *n, const char *what) {
    snprintf(buf, cap, "%s.%s", n->name ? n->name : "layer", what);
}

/* ---------- dense ---------- */

/* v = sum * deq[u] + bias[u], then the fused steps; stored at y[u]. */
static void dense_out(cx *c, const ps_lnode *r, LLVMValueRef v, LLVMValueRef D, LLVMValueRef b,
                      LLVMValueRef s, LLVMValueRef u, LLVMValueRef y) {
    v = f_mul(c, v, load(c, D, u, "deq"), "");
    if (b) v = f_add(c, v, load(c, b, u, "b"), "");
    store(c, cg_k_epilogue(c, r, v, s, u), y, u);
}

static void emit_qdense(cx *c, const ps_lnode *r, const ps_qnode *q) {
    char nm[200];
    qname(nm, sizeof nm, r->ir, "weight.q8");
    LLVMValueRef W8 = cg_k_global(c, q->w, q->oc * q->kpad, nm);
    qname(nm, sizeof nm, r->ir, "deq");
    LLVMValueRef D = cg_k_global(c, q->deq, q->oc * 4, nm), b = cg_k_param(c, r->ir, PARAM_BIAS);
    need_scratch(c, q->kpad / 4 + 16);
    LLVMValueRef acc[4], v[4];
    for (int k = 0; k < 4; k++) acc[k] = var(c, vec(c->i32, 8), "iacc");
    loop Ls, Lk, Lu, L1;
    LLVMValueRef s = loop_begin(c, &Ls, ci(c, 0), c->nb, 1, "sample");
    LLVMValueRef x = cg_k_value_ptr(c, r->in[0], s), y = cg_k_value_ptr(c, (int)(r - c->lg->nodes), s);
    LLVMValueRef xq = c->scratch;
    LLVMValueRef k = loop_n(c, &Lk, q->k, "quant");
    LLVMBuildStore(c->B, quant(c, load(c, x, k, ""), q), bgep(c, xq, k));
    loop_end(c, &Lk);
    if (q->kpad > q->k)
        LLVMBuildMemSet(c->B, bgep(c, xq, ci(c, q->k)), LLVMConstInt(c->i8, 0, 0), ci(c, q->kpad - q->k), 1);
    int64_t u4 = q->oc / 4 * 4;
    if (u4 > 0) {
        LLVMValueRef u0 = loop_begin(c, &Lu, ci(c, 0), ci(c, u4), 4, "units");
        dots(c, q, xq, W8, u0, 4, acc, v);
        for (int j = 0; j < 4; j++) dense_out(c, r, v[j], D, b, s, addk(c, u0, j, "u"), y);
        loop_end(c, &Lu);
    }
    if (u4 < q->oc) {
        LLVMValueRef u0 = loop_begin(c, &L1, ci(c, u4), ci(c, q->oc), 1, "unit");
        dots(c, q, xq, W8, u0, 1, acc, v);
        dense_out(c, r, v[0], D, b, s, u0, y);
        loop_end(c, &L1);
    }
    loop_end(c, &Ls);
}

/* ---------- convolution (grouped and depthwise included) ---------- */

/* Offsets in the padded int8 input, relative to the top-left input of an
 * output position (int32 table): of every tap t = (ic, kh, kw), or with
 * runs (dilation 1 along w) of every row (ic, kh) of KW taps. */
static LLVMValueRef tap_offsets(cx *c, const geo *g, int64_t T, bool runs, const char *name) {
    int32_t *tab = malloc((size_t)T * sizeof *tab);
    if (!tab) return NULL;
    int64_t cg = g->C / g->G, t = 0;
    for (int64_t i = 0; i < cg; i++)
        for (int64_t kh = 0; kh < g->KH; kh++)
            for (int64_t kw = 0; kw < (runs ? 1 : g->KW); kw++)
                tab[t++] = (int32_t)(i * g->Hp * g->Wp + kh * g->DH * g->Wp + kw * g->DW);
    LLVMValueRef init = LLVMConstStringInContext2(c->C, (const char *)tab, (size_t)T * sizeof *tab, 1);
    free(tab);
    LLVMValueRef gl = LLVMAddGlobal(c->M, LLVMTypeOf(init), name);
    LLVMSetInitializer(gl, init);
    LLVMSetGlobalConstant(gl, 1);
    LLVMSetLinkage(gl, LLVMPrivateLinkage);
    LLVMSetAlignment(gl, 64);
    return gl;
}

/* Quantises sample x into the zeroed padded planes pad[C][Hp][Wp]. */
static void pad_quant(cx *c, const geo *g, const ps_qnode *q, LLVMValueRef x, LLVMValueRef pad) {
    loop Lr, Lw;
    LLVMBuildMemSet(c->B, pad, LLVMConstInt(c->i8, 0, 0), ci(c, g->C * g->Hp * g->Wp), 1);
    LLVMValueRef row = loop_n(c, &Lr, g->C * g->H, "qrow");
    LLVMValueRef ch = LLVMBuildSDiv(c->B, row, ci(c, g->H), ""),
                 h = LLVMBuildSRem(c->B, row, ci(c, g->H), "");
    LLVMValueRef dst = add(c, mulk(c, ch, g->Hp * g->Wp, ""),
                           addk(c, mulk(c, addk(c, h, g->PH, ""), g->Wp, ""), g->PW, ""), "");
    LLVMValueRef src = mulk(c, row, g->W, "");
    LLVMValueRef w = loop_n(c, &Lw, g->W, "qw");
    LLVMBuildStore(c->B, quant(c, load(c, x, add(c, src, w, ""), ""), q), bgep(c, pad, add(c, dst, w, "")));
    loop_end(c, &Lw);
    loop_end(c, &Lr);
}

/* col[grp][p][t] = pad[grp's first channel + p's window + tap t]; with
 * runs, KW bytes at a time (a small constant memcpy). */
static void im2col(cx *c, const geo *g, const ps_qnode *q, LLVMValueRef pad, LLVMValueRef col,
                   LLVMValueRef taps, bool runs) {
    loop Lg, Lp, Lt;
    int64_t P = g->OH * g->OW, cg = g->C / g->G;
    if (q->kpad > q->k) LLVMBuildMemSet(c->B, col, LLVMConstInt(c->i8, 0, 0), ci(c, g->G * P * q->kpad), 1);
    LLVMValueRef grp = loop_n(c, &Lg, g->G, "grp");
    LLVMValueRef p = loop_n(c, &Lp, P, "pos");
    LLVMValueRef oh = LLVMBuildSDiv(c->B, p, ci(c, g->OW), ""), ow = LLVMBuildSRem(c->B, p, ci(c, g->OW), "");
    LLVMValueRef base = add(c, mulk(c, grp, cg * g->Hp * g->Wp, ""),
                            add(c, mulk(c, oh, g->SH * g->Wp, ""), mulk(c, ow, g->SW, ""), ""), "win");
    LLVMValueRef dst = bgep(c, col, mulk(c, add(c, mulk(c, grp, P, ""), p, ""), q->kpad, ""));
    LLVMValueRef t = loop_n(c, &Lt, runs ? q->k / g->KW : q->k, "tap");
    LLVMValueRef off = LLVMBuildLoad2(c->B, c->i32, LLVMBuildInBoundsGEP2(c->B, c->i32, taps, &t, 1, ""), "");
    LLVMValueRef src = bgep(c, pad, add(c, base, LLVMBuildSExt(c->B, off, c->i64, ""), ""));
    if (runs)
        LLVMBuildMemCpy(c->B, bgep(c, dst, mulk(c, t, g->KW, "")), 1, src, 1, ci(c, g->KW));
    else
        LLVMBuildStore(c->B, LLVMBuildLoad2(c->B, c->i8, src, ""), bgep(c, dst, t));
    loop_end(c, &Lt);
    loop_end(c, &Lp);
    loop_end(c, &Lg);
}

static void emit_qconv(cx *c, const ps_lnode *r, const ps_qnode *q) {
    geo g = cg_k_geometry(c->lg, r, true);
    int64_t fg = g.F / g.G, P = g.OH * g.OW;
    int qb = fg % 4 == 0 ? 4 : fg % 2 == 0 ? 2 : 1;
    int64_t padb = (g.C * g.Hp * g.Wp + 63) / 64 * 64, colb = g.G * P * q->kpad;
    need_scratch(c, qb * P + (padb + colb) / 4 + 16);
    char nm[200];
    qname(nm, sizeof nm, r->ir, "weight.q8");
    LLVMValueRef W8 = cg_k_global(c, q->w, q->oc * q->kpad, nm);
    qname(nm, sizeof nm, r->ir, "deq");
    LLVMValueRef D = cg_k_global(c, q->deq, q->oc * 4, nm), b = cg_k_param(c, r->ir, PARAM_BIAS);
    qname(nm, sizeof nm, r->ir, "taps.q8");
    bool runs = g.DW == 1 && g.KW > 1;
    LLVMValueRef taps = tap_offsets(c, &g, runs ? q->k / g.KW : q->k, runs, nm);
    LLVMValueRef plane = c->scratch, pad = gep(c, c->scratch, ci(c, qb * P), "pad8"),
                 col = bgep(c, pad, ci(c, padb));
    LLVMValueRef acc[4], v[4];
    for (int k = 0; k < qb; k++) acc[k] = var(c, vec(c->i32, 8), "iacc");
    loop Ls, Lg, Lo, Lp, Lq;
    LLVMValueRef s = loop_begin(c, &Ls, ci(c, 0), c->nb, 1, "sample");
    LLVMValueRef x = cg_k_value_ptr(c, r->in[0], s), y = cg_k_value_ptr(c, (int)(r - c->lg->nodes), s);
    pad_quant(c, &g, q, x, pad);
    im2col(c, &g, q, pad, col, taps, runs);
    LLVMValueRef grp = loop_n(c, &Lg, g.G, "grp");
    LLVMValueRef ob = loop_begin(c, &Lo, ci(c, 0), ci(c, fg), qb, "ocb");
    LLVMValueRef oc0 = add(c, mulk(c, grp, fg, ""), ob, "oc0");
    LLVMValueRef p = loop_n(c, &Lp, P, "pos");
    dots(c, q, bgep(c, col, mulk(c, add(c, mulk(c, grp, P, ""), p, ""), q->kpad, "")), W8, oc0, qb, acc, v);
    for (int k = 0; k < qb; k++)
        store(c, f_mul(c, v[k], load(c, D, addk(c, oc0, k, ""), "deq"), ""), plane, addk(c, p, k * P, ""));
    loop_end(c, &Lp);
    LLVMValueRef qq = loop_n(c, &Lq, qb, "q");
    cg_k_conv_out(c, r, &g, gep(c, plane, mulk(c, qq, P, ""), "planeq"), g.OW, b, add(c, oc0, qq, "oc"), s,
                  y);
    loop_end(c, &Lq);
    loop_end(c, &Lo);
    loop_end(c, &Lg);
    loop_end(c, &Ls);
}

bool cg_i8_emit(cx *c, const ps_lnode *r) {
    if (!c->q) return false;
    const ps_qnode *q = &c->q[r - c->lg->nodes];
    if (!q->on) return false;
    if (r->op == IR_DENSE) {
        if (c->lg->nodes[r->in[0]].numel != q->k) return false; /* not what the pass quantised */
        emit_qdense(c, r, q);
    } else if (r->op == IR_CONV2D || r->op == IR_CONV1D) {
        emit_qconv(c, r, q);
    } else
        return false;
    return true;
}
