/* builtins_seq.c: the sequence blocks of language version 1 (issue 15) on
 * Tensor[t, d]: attention, embedding, positional, patches, mean_tokens,
 * matmul, transpose, and dense applied per token.
 *
 * As in builtins.c, each rule computes the output shape as syms, adds the
 * proof obligations its shape needs (heads dividing the width, the patch
 * size dividing the image, matching inner dimensions), records its cost,
 * and in POINT mode emits the graph nodes.  attention emits three nodes:
 * the packed QKV projection (a per-token linear), the parameter-free
 * attention core, and the output projection, so every parameter keeps
 * one role per node and the kernels stay small.
 */
#include "builtins_int.h"

static sym *S(interp *I, int64_t v) { return fi_b_int(I, v); }
static sym *mul(interp *I, sym *a, sym *b) { return sym_bin(I->c, OP_MUL, a, b); }
static sym *add(interp *I, sym *a, sym *b) { return sym_bin(I->c, OP_ADD, a, b); }
static int64_t K(const sym *s) { return sym_ival(s); }
static bool emitting(interp *I) { return fi_concrete(I) && I->g && !I->abort; }
static value *poison(interp *I) { return fi_v_new(I, V_POISON); }

/* An obligation "a % b == 0", shown with both values. */
static void divides(interp *I, loc at, sym *a, sym *b, const char *what) {
    value av = {0}, bv = {0};
    av.k = bv.k = V_INT;
    av.s = a;
    bv.s = b;
    fi_oblig_add(I, at, OB_DIVIDES, sym_bin(I->c, OP_EQ, sym_bin(I->c, OP_MOD, a, b), S(I, 0)), what, &av,
                 &bv);
}

static bool need(interp *I, loc at, bargs *b, int i, const char *bn) {
    if (b->v[i]) return true;
    diag_error(I->c, at, "%s needs '%s'", bn, b->names[i]);
    return false;
}

/* A per-token linear layer node: [t, d] -> [t, units]. */
static ir_node *emit_linear(interp *I, const char *name, value *x, const value *y, int64_t units, bool bias) {
    ir_node *nd = fi_b_emit(I, IR_LINEAR, name, &x, 1, y);
    nd->units = (int)units;
    nd->bias = bias;
    int64_t w[2] = {units, K(x->d[1])};
    fi_b_add_param(I, nd, "weight", PARAM_WEIGHT, 2, w, true);
    if (bias) fi_b_add_param(I, nd, "bias", PARAM_BIAS, 1, w, true);
    nd->flops = ir_node_flops(nd, &I->nodes.v[x->node].shape);
    return nd;
}

value *fi_seq_dense_tokens(interp *I, loc at, bargs *b) {
    value *x = b->v[0];
    sym *units = b->v[1]->s;
    bool bias = b->v[2] ? sym_is_true(b->v[2]->s) : true;
    fi_b_positive(I, at, units, "dense units must be positive, got");
    sym *t = x->d[0], *d = x->d[1];
    fi_b_cost(I, add(I, mul(I, d, units), bias ? units : S(I, 0)),
              mul(I, S(I, 2), mul(I, mul(I, t, d), units)));
    sym *od[2] = {t, units};
    value *y = fi_b_out_tensor(I, 2, od);
    if (emitting(I)) y->node = emit_linear(I, "dense", x, y, K(units), bias)->id;
    return y;
}

/* attention(x, heads, head_dim = d / heads, causal = false): Tensor[t, d]
 * -> Tensor[t, d].  Without head_dim, heads must divide the width d. */
static value *b_attention(interp *I, loc at, bargs *b) {
    value *x = b->v[0];
    if (!fi_b_rank_is(I, at, "attention", x, 2, 2, "a Tensor[t, d]") || !need(I, at, b, 1, "attention"))
        return poison(I);
    sym *t = x->d[0], *d = x->d[1], *heads = b->v[1]->s, *hd;
    fi_b_positive(I, at, heads, "attention heads must be positive, got");
    if (b->v[2]) {
        hd = b->v[2]->s;
        fi_b_positive(I, at, hd, "attention head_dim must be positive, got");
    } else {
        divides(I, at, d, heads,
                "attention heads must divide the width (or give head_dim): the width and heads are");
        hd = sym_bin(I->c, OP_DIV, d, heads);
    }
    bool causal = b->v[3] ? sym_is_true(b->v[3]->s) : false;
    sym *inner = mul(I, heads, hd), *three = mul(I, S(I, 3), inner);
    /* QKV and output projections with biases, as nn.MultiheadAttention */
    sym *params = add(I, add(I, mul(I, d, three), three), add(I, mul(I, inner, d), d));
    sym *proj = mul(I, S(I, 2), mul(I, t, add(I, mul(I, d, three), mul(I, inner, d))));
    sym *core = mul(I, mul(I, heads, mul(I, t, t)), add(I, mul(I, S(I, 4), hd), S(I, 1)));
    fi_b_cost(I, params, add(I, proj, core));
    sym *od[2] = {t, d};
    value *y = fi_b_out_tensor(I, 2, od);
    if (!emitting(I)) return y;
    sym *qd[2] = {t, three}, *cd[2] = {t, inner};
    value *qkv = fi_v_tensor(I, 2, qd, -1), *ctx = fi_v_tensor(I, 2, cd, -1);
    ir_node *qn = emit_linear(I, "attention.qkv", x, qkv, K(three), true);
    qn->heads = (int)K(heads); /* marks the packed q|k|v rows (supernet slicing) */
    qkv->node = qn->id;
    ir_node *an = fi_b_emit(I, IR_ATTENTION, "attention", &qkv, 1, ctx);
    an->heads = (int)K(heads);
    an->head_dim = (int)K(hd);
    an->causal = causal;
    an->flops = ir_node_flops(an, &I->nodes.v[qkv->node].shape);
    ctx->node = an->id;
    y->node = emit_linear(I, "attention.out", ctx, y, K(d), true)->id;
    return y;
}

/* embedding(x, vocab, dim): token ids Tensor[t] -> Tensor[t, dim]. */
static value *b_embedding(interp *I, loc at, bargs *b) {
    value *x = b->v[0];
    if (!fi_b_rank_is(I, at, "embedding", x, 1, 1, "a Tensor[t] of token ids") ||
        !need(I, at, b, 1, "embedding") || !need(I, at, b, 2, "embedding"))
        return poison(I);
    sym *vocab = b->v[1]->s, *dim = b->v[2]->s, *t = x->d[0];
    fi_b_positive(I, at, vocab, "embedding vocab must be positive, got");
    fi_b_positive(I, at, dim, "embedding dim must be positive, got");
    fi_b_cost(I, mul(I, vocab, dim), mul(I, t, dim));
    sym *od[2] = {t, dim};
    value *y = fi_b_out_tensor(I, 2, od);
    if (emitting(I)) {
        ir_node *nd = fi_b_emit(I, IR_EMBEDDING, NULL, &x, 1, y);
        nd->units = (int)K(dim);
        nd->vocab = (int)K(vocab);
        int64_t w[2] = {K(vocab), K(dim)};
        fi_b_add_param(I, nd, "weight", PARAM_WEIGHT, 2, w, true);
        nd->flops = ir_node_flops(nd, &I->nodes.v[x->node].shape);
        y->node = nd->id;
    }
    return y;
}

/* positional(x, sinusoidal = false): adds a learned [t, d] code, or the
 * fixed sin/cos code of "Attention is all you need". */
static value *b_positional(interp *I, loc at, bargs *b) {
    value *x = b->v[0];
    if (!fi_b_rank_is(I, at, "positional", x, 2, 2, "a Tensor[t, d]")) return poison(I);
    bool sinus = b->v[1] ? sym_is_true(b->v[1]->s) : false;
    sym *n = fi_b_numel(I, x);
    fi_b_cost(I, sinus ? S(I, 0) : n, n);
    value *y = fi_b_out_tensor(I, 2, x->d);
    if (emitting(I)) {
        ir_node *nd = fi_b_emit(I, IR_POSITIONAL, NULL, &x, 1, y);
        nd->sinusoidal = sinus;
        int64_t w[2] = {K(x->d[0]), K(x->d[1])};
        if (!sinus) fi_b_add_param(I, nd, "weight", PARAM_WEIGHT, 2, w, true);
        nd->flops = ir_node_flops(nd, &I->nodes.v[x->node].shape);
        y->node = nd->id;
    }
    return y;
}

/* patches(x, size): Tensor[c, h, w] -> Tensor[(h/size)*(w/size), c*size*size],
 * patches in row-major order, each flattened (c, dy, dx) as Conv2d's
 * weight is, so patches + dense equals a stride-`size` convolution. */
static value *b_patches(interp *I, loc at, bargs *b) {
    value *x = b->v[0];
    if (!fi_b_rank_is(I, at, "patches", x, 3, 3, "an image Tensor[c, h, w]") || !need(I, at, b, 1, "patches"))
        return poison(I);
    sym *s = b->v[1]->s, *c = x->d[0], *h = x->d[1], *w = x->d[2];
    fi_b_positive(I, at, s, "patches size must be positive, got");
    divides(I, at, h, s, "patches size must divide the height: the height and size are");
    divides(I, at, w, s, "patches size must divide the width: the width and size are");
    sym *od[2] = {mul(I, sym_bin(I->c, OP_DIV, h, s), sym_bin(I->c, OP_DIV, w, s)), mul(I, c, mul(I, s, s))};
    value *y = fi_b_out_tensor(I, 2, od);
    if (emitting(I)) {
        ir_node *nd = fi_b_emit(I, IR_PATCHES, NULL, &x, 1, y);
        nd->kernel[0] = nd->kernel[1] = nd->stride[0] = nd->stride[1] = (int)K(s);
        y->node = nd->id;
    }
    return y;
}

/* mean_tokens(x): Tensor[t, d] -> Tensor[d]; transpose(x): [a, b] -> [b, a]. */
static value *b_tokens_view(interp *I, loc at, bargs *b, bool mean) {
    value *x = b->v[0];
    const char *bn = mean ? "mean_tokens" : "transpose";
    if (!fi_b_rank_is(I, at, bn, x, 2, 2, mean ? "a Tensor[t, d]" : "a Tensor[a, b]")) return poison(I);
    sym *td[2] = {x->d[1], x->d[0]};
    fi_b_cost(I, S(I, 0), mean ? fi_b_numel(I, x) : S(I, 0));
    value *y = fi_b_out_tensor(I, mean ? 1 : 2, td);
    if (emitting(I)) {
        ir_node *nd = fi_b_emit(I, mean ? IR_MEAN_TOKENS : IR_TRANSPOSE, NULL, &x, 1, y);
        nd->flops = ir_node_flops(nd, &I->nodes.v[x->node].shape);
        y->node = nd->id;
    }
    return y;
}

/* matmul(a, b): Tensor[t, k] x Tensor[k, n] -> Tensor[t, n]. */
static value *b_matmul(interp *I, loc at, bargs *b) {
    value *a = b->v[0], *m = b->v[1];
    if (!fi_b_rank_is(I, at, "matmul", a, 2, 2, "a Tensor[t, k] as its first argument") ||
        !need(I, at, b, 1, "matmul") ||
        !fi_b_rank_is(I, at, "matmul", m, 2, 2, "a Tensor[k, n] as its second argument"))
        return poison(I);
    fi_oblig_add(I, at, OB_EQUAL, sym_bin(I->c, OP_EQ, a->d[1], m->d[0]),
                 "matmul needs Tensor[t, k] and Tensor[k, n] (the inner sizes must agree), got", a, m);
    sym *od[2] = {a->d[0], m->d[1]};
    fi_b_cost(I, S(I, 0), mul(I, S(I, 2), mul(I, mul(I, a->d[0], a->d[1]), m->d[1])));
    value *y = fi_b_out_tensor(I, 2, od);
    if (emitting(I)) {
        value *ins[2] = {a, m};
        ir_node *nd = fi_b_emit(I, IR_MATMUL, NULL, ins, 2, y);
        nd->flops = ir_node_flops(nd, &I->nodes.v[a->node].shape);
        y->node = nd->id;
    }
    return y;
}

value *fi_seq_builtin(interp *I, builtin_id id, loc at, bargs *b) {
    switch (id) {
    case BI_ATTENTION: return b_attention(I, at, b);
    case BI_EMBEDDING: return b_embedding(I, at, b);
    case BI_POSITIONAL: return b_positional(I, at, b);
    case BI_PATCHES: return b_patches(I, at, b);
    case BI_MEAN_TOKENS: return b_tokens_view(I, at, b, true);
    case BI_TRANSPOSE: return b_tokens_view(I, at, b, false);
    case BI_MATMUL: return b_matmul(I, at, b);
    default: break;
    }
    diag_internal(I->c, "builtin %d has no sequence rule", id);
    return poison(I);
}
