/* builtins.c: the builtin blocks of language.md section 7.
 *
 * Each builtin is written once: its shape rule computes the output shape
 * as syms (so it serves both the symbolic check and a concrete point), adds
 * the proof obligations its rule needs, records its cost for the
 * params/FLOPs ranges, and, for a point, emits the ir_node with concrete
 * attributes.
 */
#include <stdlib.h>
#include <string.h>
#include "builtins_int.h"

typedef struct bspec {
    const char *name;
    const char *params; /* "x:T units:i bias:b" ; '*' = variadic tensors */
} bspec;

static const bspec specs[BI_COUNT] = {
    [BI_DENSE] = {"dense", "x:T units:i bias:b"},
    [BI_CONV2D] = {"conv2d", "x:T filters:i kernel:i stride:i pad:p groups:i dilation:i bias:b"},
    [BI_CONV1D] = {"conv1d", "x:T filters:i kernel:i stride:i pad:p groups:i dilation:i bias:b"},
    [BI_DEPTHWISE] = {"depthwise", "x:T kernel:i stride:i pad:p dilation:i bias:b"},
    [BI_BATCHNORM] = {"batchnorm", "x:T"},
    [BI_LAYERNORM] = {"layernorm", "x:T"},
    [BI_RELU] = {"relu", "x:T"},
    [BI_RELU6] = {"relu6", "x:T"},
    [BI_GELU] = {"gelu", "x:T"},
    [BI_TANH] = {"tanh", "x:T"},
    [BI_SIGMOID] = {"sigmoid", "x:T"},
    [BI_SWISH] = {"swish", "x:T"},
    [BI_HSWISH] = {"hswish", "x:T"},
    [BI_IDENTITY] = {"identity", "x:T"},
    [BI_SKIP] = {"skip", "x:T"},
    [BI_ZERO] = {"zero", "x:T"},
    [BI_MAXPOOL] = {"maxpool", "x:T kernel:i stride:i pad:i"},
    [BI_AVGPOOL] = {"avgpool", "x:T kernel:i stride:i pad:i"},
    [BI_GLOBAL_AVGPOOL] = {"global_avgpool", "x:T"},
    [BI_FLATTEN] = {"flatten", "x:T"},
    [BI_DROPOUT] = {"dropout", "x:T p:f"},
    [BI_CONCAT] = {"concat", "*"},
    [BI_SUM] = {"sum", "*"},
    [BI_SOFTMAX] = {"softmax", "x:T"},
    [BI_MIN] = {"min", "a:i b:i"},
    [BI_MAX] = {"max", "a:i b:i"},
    [BI_ATTENTION] = {"attention", "x:T heads:i head_dim:i causal:b"},
    [BI_EMBEDDING] = {"embedding", "x:T vocab:i dim:i"},
    [BI_POSITIONAL] = {"positional", "x:T sinusoidal:b"},
    [BI_PATCHES] = {"patches", "x:T size:i"},
    [BI_MEAN_TOKENS] = {"mean_tokens", "x:T"},
    [BI_MATMUL] = {"matmul", "a:T b:T"},
    [BI_TRANSPOSE] = {"transpose", "x:T"},
    [BI_MUL] = {"*", "a:T b:T"},
};

int fi_builtin_lookup(const char *name) {
    for (int i = 0; i < BI_MUL; i++)
        if (!strcmp(specs[i].name, name)) return i;
    return -1;
}

const char *fi_builtin_name(builtin_id b) { return specs[b].name; }

bool fi_builtin_is_act(builtin_id b) { return (b >= BI_RELU && b <= BI_ZERO) || b == BI_SOFTMAX; }

/* ----- argument binding (bargs: builtins_int.h) ----- */

static bool parse_spec(const char *spec, bargs *b) {
    b->n = 0;
    const char *p = spec;
    while (*p && b->n < MAXP) {
        while (*p == ' ') p++;
        const char *colon = strchr(p, ':');
        if (!colon) break;
        static char namebuf[MAXP][16];
        int len = (int)(colon - p);
        if (len > 15) len = 15;
        memcpy(namebuf[b->n], p, (size_t)len);
        namebuf[b->n][len] = 0;
        b->names[b->n] = namebuf[b->n];
        b->types[b->n] = colon[1];
        b->v[b->n] = NULL;
        b->n++;
        p = colon + 2;
    }
    return true;
}

static bool type_ok(char t, const value *v) {
    switch (t) {
    case 'T': return v->k == V_TENSOR;
    case 'i': return v->k == V_INT;
    case 'f': return v->k == V_INT || v->k == V_FLOAT;
    case 'b': return v->k == V_BOOL;
    case 'p': return v->k == V_INT || v->k == V_SAME;
    }
    return false;
}

static const char *type_word(char t) {
    switch (t) {
    case 'T': return "a Tensor";
    case 'i': return "an int";
    case 'f': return "a number";
    case 'b': return "a bool";
    case 'p': return "an int or same";
    }
    return "?";
}

static bool bind_args(interp *I, builtin_id id, ast_expr *call, value **pos, int npos, const char **names,
                      value **named, loc *named_at, int nnamed, bargs *b) {
    /* Names live in static buffers of parse_spec: copy them per call. */
    parse_spec(specs[id].params, b);
    const char *nm[MAXP];
    for (int i = 0; i < b->n; i++) nm[i] = arena_strdup(&I->c->A, b->names[i]);
    for (int i = 0; i < b->n; i++) b->names[i] = nm[i];
    const char *bn = specs[id].name;
    loc at = call ? call->at : loc_none();
    if (npos > b->n) {
        diag_error(I->c, at, "%s takes at most %d argument%s, got %d", bn, b->n, b->n == 1 ? "" : "s", npos);
        return false;
    }
    for (int i = 0; i < npos; i++) b->v[i] = pos[i];
    for (int k = 0; k < nnamed; k++) {
        int i = 0;
        while (i < b->n && strcmp(b->names[i], names[k])) i++;
        if (i == b->n) {
            char list[256] = "";
            for (int j = 0; j < b->n; j++) {
                strncat(list, j ? ", " : "", sizeof list - strlen(list) - 1);
                strncat(list, b->names[j], sizeof list - strlen(list) - 1);
            }
            diag_error(I->c, named_at[k], "%s has no parameter '%s' (its parameters: %s)", bn, names[k],
                       list);
            return false;
        }
        if (b->v[i]) {
            diag_error(I->c, named_at[k], "argument '%s' of %s is given twice", names[k], bn);
            return false;
        }
        b->v[i] = named[k];
    }
    for (int i = 0; i < b->n; i++) {
        if (!b->v[i]) continue;
        if (b->v[i]->k == V_POISON) return false;
        if (!type_ok(b->types[i], b->v[i])) {
            diag_error(I->c, i < npos && call && i < call->args.n ? ((ast_expr *)call->args.v[i])->at : at,
                       "argument '%s' of %s must be %s, got %s%s", b->names[i], bn, type_word(b->types[i]),
                       fi_vkind_name(b->v[i]),
                       b->v[i]->k == V_TENSOR ? arena_printf(&I->c->A, " %s", fi_shape_str(I, b->v[i])) : "");
            return false;
        }
    }
    return true;
}

/* ----- helpers ----- */

static sym *S(interp *I, int64_t v) { return sym_int(I->c, v); }

/* A message with the builtin's name in it, formatted only if it is shown:
 * the next obligation takes the argument (interp.what_arg). */
static const char *fmt1(interp *I, const char *fmt, const char *arg) {
    I->what_arg = arg;
    return fmt;
}
static sym *add(interp *I, sym *a, sym *b) { return sym_bin(I->c, OP_ADD, a, b); }
static sym *sub(interp *I, sym *a, sym *b) { return sym_bin(I->c, OP_SUB, a, b); }
static sym *mul(interp *I, sym *a, sym *b) { return sym_bin(I->c, OP_MUL, a, b); }
static sym *dv(interp *I, sym *a, sym *b) { return sym_bin(I->c, OP_DIV, a, b); }

static sym *argi(interp *I, bargs *b, int i, sym *dflt) {
    return b->v[i] ? b->v[i]->s : dflt ? dflt : S(I, 0);
}
static bool argb(bargs *b, int i, bool dflt) { return b->v[i] ? sym_is_true(b->v[i]->s) : dflt; }

static sym *numel(interp *I, const value *t) {
    sym *n = S(I, 1);
    for (int i = 0; i < t->rank; i++) n = mul(I, n, t->d[i]);
    return n;
}

static void positive(interp *I, loc at, sym *s, const char *what) {
    value v = {0};
    v.k = V_INT;
    v.s = s;
    fi_oblig_add(I, at, OB_POSITIVE, sym_bin(I->c, OP_GT, s, S(I, 0)), what, &v, NULL);
}

/* Records a node's cost for the ranges, after checking that it stays in
 * int64 (a point with more than 2^40 parameters in one layer is a typo). */
static void cost(interp *I, sym *params, sym *flops) {
    value pv = {0};
    pv.k = V_INT;
    pv.s = params;
    fi_oblig_add(I, I->call_at, OB_TRUE, sym_bin(I->c, OP_LE, params, S(I, 1ll << 40)),
                 "this layer has too many parameters (more than 2^40):", &pv, NULL);
    pv.s = flops;
    fi_oblig_add(I, I->call_at, OB_TRUE, sym_bin(I->c, OP_LE, flops, S(I, 1ll << 60)),
                 "this layer needs too many FLOPs (more than 2^60):", &pv, NULL);
    if (fi_concrete(I)) return;
    cost_term t = {I->guard, params, flops};
    vec_push(&I->c->A, I->sp->costs, t);
}

static int64_t K(const sym *s) { return sym_ival(s); }

/* ----- graph emission (POINT mode) ----- */

/* Layer names are unique: "dense", "dense#2", ... A hash set keeps this
 * linear in the number of layers (a search names every layer of every trial). */
static bool name_used(interp *I, const char *name) { return fi_label_lookup(&I->node_set, name) >= 0; }

static const char *node_name(interp *I, const char *op) {
    if (I->no_names) return op;
    const char *pre = fi_frame_prefix(I, I->fr);
    char *base = arena_printf(&I->c->A, "%s%s", pre, op);
    for (int k = 1;; k++) {
        char *cand = k == 1 ? base : arena_printf(&I->c->A, "%s#%d", base, k);
        if (!name_used(I, cand)) {
            fi_label_insert(I->c, &I->node_set, cand, 0);
            return cand;
        }
    }
}

/* The weight-sharing key: unlike the name's "#k" (which counts the
 * layers emitted so far), it depends only on where the layer is in the
 * source and in which loop iteration, so it is the same in every point. */
static const char *node_key(interp *I, const char *op) {
    if (I->no_names) return NULL;
    return fi_make_label(
        I, arena_printf(&I->c->A, "%s@%d:%d:%d", op, I->call_at.file, I->call_at.line, I->call_at.col));
}

static ir_node *emit(interp *I, ir_op op, const char *opname, value **ins, int n_in, const value *out_shape) {
    ir_node nd;
    ir_node_init(&nd, op); /* the operation table's defaults */
    nd.id = I->nodes.n;
    const char *layer = opname ? opname : ir_op_name(op); /* layers are named by builtin or op */
    nd.name = node_name(I, layer);
    nd.key = node_key(I, layer);
    nd.n_in = n_in;
    nd.in = arena_alloc(&I->c->A, (size_t)(n_in + 1) * sizeof(int));
    for (int i = 0; i < n_in; i++) nd.in[i] = ins[i]->node;
    nd.shape.rank = out_shape->rank;
    for (int i = 0; i < out_shape->rank; i++) nd.shape.d[i] = K(out_shape->d[i]);
    vec_push(&I->c->A, I->nodes, nd);
    return &I->nodes.v[I->nodes.n - 1];
}

static void add_param(interp *I, ir_node *n, const char *suffix, ir_param_role role, int rank,
                      const int64_t *dims, bool train) {
    ir_param *p = &n->params[n->n_params++];
    p->name = I->no_names ? suffix : arena_printf(&I->c->A, "%s.%s", n->name, suffix);
    p->role = role;
    p->shape.rank = rank;
    for (int i = 0; i < rank; i++) p->shape.d[i] = dims[i];
    p->trainable = train;
}

int fi_graph_input(interp *I, value *x) {
    ir_node nd;
    ir_node_init(&nd, IR_INPUT);
    nd.id = I->nodes.n;
    nd.name = "input";
    fi_label_insert(I->c, &I->node_set, "input", 0);
    nd.shape.rank = x->rank;
    for (int i = 0; i < x->rank; i++) nd.shape.d[i] = K(x->d[i]);
    vec_push(&I->c->A, I->nodes, nd);
    return nd.id;
}

/* Every tensor a builtin makes must stay addressable: 2^40 elements per
 * sample is far beyond any real network and keeps all arithmetic on sizes,
 * params and FLOPs inside int64. */
#define MAX_NUMEL (1ll << 40)

static value *out_tensor(interp *I, int rank, sym **d) {
    value *y = fi_v_tensor(I, rank, d, -1);
    sym *n = S(I, 1);
    for (int i = 0; i < rank; i++) n = mul(I, n, d[i]);
    fi_oblig_add(I, I->call_at, OB_TRUE, sym_bin(I->c, OP_LE, n, S(I, MAX_NUMEL)),
                 "this tensor is too large (more than 2^40 values per sample): its shape is", y, NULL);
    return y;
}

static bool rank_is(interp *I, loc at, const char *bn, value *x, int lo, int hi, const char *hint) {
    if (x->rank >= lo && x->rank <= hi) return true;
    diag_error(I->c, at, "%s expects %s, got a tensor of shape %s%s", bn, hint, fi_shape_str(I, x),
               x->rank > hi && !strcmp(bn, "dense") ? " (flatten or global_avgpool it first)" : "");
    I->abort = true;
    return false;
}

/* ----- the blocks ----- */

static value *b_dense(interp *I, loc at, bargs *b) {
    value *x = b->v[0];
    if (!b->v[1]) {
        diag_error(I->c, at, "dense needs 'units'");
        return fi_v_new(I, V_POISON);
    }
    if (x->rank == 2) return fi_seq_dense_tokens(I, at, b); /* per token, as nn.Linear */
    if (!rank_is(I, at, "dense", x, 1, 1, "a Tensor[n] or Tensor[t, d]")) return fi_v_new(I, V_POISON);
    sym *units = b->v[1]->s;
    bool bias = argb(b, 2, true);
    positive(I, at, units, "dense units must be positive, got");
    sym *n = x->d[0];
    cost(I, add(I, mul(I, n, units), bias ? units : S(I, 0)), mul(I, S(I, 2), mul(I, n, units)));
    value *y = out_tensor(I, 1, &units);
    if (fi_concrete(I) && I->g && !I->abort) {
        ir_node *nd = emit(I, IR_DENSE, NULL, &x, 1, y);
        nd->units = (int)K(units);
        nd->bias = bias;
        int64_t w[2] = {K(units), K(n)};
        add_param(I, nd, "weight", PARAM_WEIGHT, 2, w, true);
        if (bias) add_param(I, nd, "bias", PARAM_BIAS, 1, w, true);
        nd->flops = ir_node_flops(nd, &I->nodes.v[x->node].shape);
        y->node = nd->id;
    }
    return y;
}

/* conv2d, conv1d and depthwise share one rule over `sp` spatial dims. */
static value *b_conv(interp *I, loc at, bargs *b, builtin_id id) {
    bool dw = id == BI_DEPTHWISE;
    int sp = id == BI_CONV1D ? 1 : 2;
    const char *bn = specs[id].name;
    value *x = b->v[0];
    if (!rank_is(I, at, bn, x, sp + 1, sp + 1, sp == 2 ? "a Tensor[c, h, w]" : "a Tensor[c, l]"))
        return fi_v_new(I, V_POISON);
    int o = dw ? -1 : 0; /* depthwise has no filters/groups parameters */
    if (!dw && !b->v[1]) {
        diag_error(I->c, at, "%s needs 'filters'", bn);
        return fi_v_new(I, V_POISON);
    }
    sym *c = x->d[0];
    sym *filters = dw ? c : b->v[1]->s;
    sym *k = argi(I, b, 2 + o, S(I, 3)), *s = argi(I, b, 3 + o, S(I, 1));
    value *padv = b->v[4 + o];
    bool same = !padv || padv->k == V_SAME;
    sym *pad = same ? NULL : padv->s;
    sym *groups = dw ? c : argi(I, b, 5, S(I, 1));
    sym *dil = argi(I, b, dw ? 4 : 6, S(I, 1));
    bool bias = argb(b, dw ? 5 : 7, true);
    positive(I, at, filters, fmt1(I, "%s filters must be positive, got", bn));
    positive(I, at, k, fmt1(I, "%s kernel must be positive, got", bn));
    positive(I, at, s, fmt1(I, "%s stride must be positive, got", bn));
    positive(I, at, dil, fmt1(I, "%s dilation must be positive, got", bn));
    if (!dw) {
        positive(I, at, groups, "conv groups must be positive, got");
        value cv = {0}, gv = {0};
        cv.k = gv.k = V_INT;
        cv.s = c;
        gv.s = groups;
        fi_oblig_add(I, at, OB_DIVIDES, sym_bin(I->c, OP_EQ, sym_bin(I->c, OP_MOD, c, groups), S(I, 0)),
                     fmt1(I, "%s groups must divide the input channels: channels and groups are", bn), &cv,
                     &gv);
        cv.s = filters;
        fi_oblig_add(I, at, OB_DIVIDES, sym_bin(I->c, OP_EQ, sym_bin(I->c, OP_MOD, filters, groups), S(I, 0)),
                     fmt1(I, "%s groups must divide the filters: filters and groups are", bn), &cv, &gv);
    }
    sym *ext = add(I, mul(I, dil, sub(I, k, S(I, 1))), S(I, 1)); /* effective kernel */
    sym *d[3] = {filters};
    for (int i = 1; i <= sp; i++) {
        sym *h = x->d[i];
        if (same) {
            d[i] = dv(I, sub(I, add(I, h, s), S(I, 1)), s);
            value ev = {0};
            ev.k = V_INT;
            ev.s = ext;
            fi_oblig_add(I, at, OB_TRUE,
                         sym_bin(I->c, OP_OR, sym_bin(I->c, OP_NE, s, S(I, 1)),
                                 sym_bin(I->c, OP_EQ, sym_bin(I->c, OP_MOD, ext, S(I, 2)), S(I, 1))),
                         "pad=same at stride 1 needs an odd (dilated) kernel size, got", &ev, NULL);
        } else {
            d[i] = add(I, dv(I, sub(I, add(I, h, mul(I, S(I, 2), pad)), ext), s), S(I, 1));
        }
        value hv = {0};
        hv.k = V_INT;
        hv.s = d[i];
        fi_oblig_add(I, at, OB_POSITIVE, sym_bin(I->c, OP_GE, d[i], S(I, 1)),
                     fmt1(I, "the output size of %s can reach zero: it is", bn), &hv, NULL);
    }
    sym *kk = sp == 2 ? mul(I, k, k) : k;
    sym *cin = dv(I, c, groups);
    sym *macs_per = mul(I, mul(I, filters, cin), kk);
    sym *outsp = sp == 2 ? mul(I, d[1], d[2]) : d[1];
    cost(I, add(I, macs_per, bias ? filters : S(I, 0)), mul(I, S(I, 2), mul(I, macs_per, outsp)));
    value *y = out_tensor(I, sp + 1, d);
    if (fi_concrete(I) && I->g && !I->abort) {
        ir_node *nd = emit(I, sp == 2 ? IR_CONV2D : IR_CONV1D, bn, &x, 1, y);
        nd->filters = (int)K(filters);
        nd->groups = (int)K(groups);
        nd->bias = bias;
        for (int i = 0; i < sp; i++) {
            nd->kernel[i] = (int)K(k);
            nd->stride[i] = (int)K(s);
            nd->dilation[i] = (int)K(dil);
            int64_t h = K(x->d[i + 1]), e = K(ext), st = K(s);
            if (same) {
                int64_t total = (K(d[i + 1]) - 1) * st + e - h;
                nd->pad[i] = (int)(total > 0 ? (total + 1) / 2 : 0);
            } else {
                nd->pad[i] = (int)K(pad);
            }
            int64_t got = (h + 2 * nd->pad[i] - e) / st + 1;
            if (got != K(d[i + 1])) {
                diag_internal(I->c, "conv padding: output %lld, expected %lld", (long long)got,
                              (long long)K(d[i + 1]));
                I->abort = true;
            }
        }
        int64_t w[4] = {K(filters), K(c) / K(groups), K(k), K(k)};
        add_param(I, nd, "weight", PARAM_WEIGHT, sp + 2, w, true);
        if (bias) add_param(I, nd, "bias", PARAM_BIAS, 1, w, true);
        nd->flops = ir_node_flops(nd, &I->nodes.v[x->node].shape);
        y->node = nd->id;
    }
    return y;
}

static value *b_norm(interp *I, loc at, bargs *b, bool layer) {
    value *x = b->v[0];
    (void)at;
    sym *ch = layer ? x->d[x->rank - 1] : x->d[0];
    cost(I, mul(I, S(I, 2), ch), mul(I, S(I, 2), numel(I, x)));
    value *y = out_tensor(I, x->rank, x->d);
    if (fi_concrete(I) && I->g && !I->abort) {
        ir_node *nd = emit(I, layer ? IR_LAYERNORM : IR_BATCHNORM, NULL, &x, 1, y);
        int64_t c = K(ch);
        add_param(I, nd, "weight", PARAM_WEIGHT, 1, &c, true);
        add_param(I, nd, "bias", PARAM_BIAS, 1, &c, true);
        if (!layer) {
            add_param(I, nd, "running_mean", PARAM_RUNNING_MEAN, 1, &c, false);
            add_param(I, nd, "running_var", PARAM_RUNNING_VAR, 1, &c, false);
        }
        nd->flops = ir_node_flops(nd, &I->nodes.v[x->node].shape);
        y->node = nd->id;
    }
    return y;
}

static value *b_unary(interp *I, bargs *b, ir_op op, ir_act act, const char *opname) {
    value *x = b->v[0];
    cost(I, S(I, 0), numel(I, x));
    value *y = out_tensor(I, x->rank, x->d);
    if (fi_concrete(I) && I->g && !I->abort) {
        ir_node *nd = emit(I, op, opname, &x, 1, y);
        nd->act = act;
        nd->flops = ir_node_flops(nd, &I->nodes.v[x->node].shape);
        y->node = nd->id;
    }
    return y;
}

static value *b_pool(interp *I, loc at, bargs *b, bool maxp) {
    const char *bn = maxp ? "maxpool" : "avgpool";
    value *x = b->v[0];
    if (!rank_is(I, at, bn, x, 2, 3, "a Tensor[c, h, w] or Tensor[c, l]")) return fi_v_new(I, V_POISON);
    sym *k = argi(I, b, 1, S(I, 2));
    sym *s = argi(I, b, 2, k);
    sym *p = argi(I, b, 3, S(I, 0));
    positive(I, at, k, fmt1(I, "%s kernel must be positive, got", bn));
    positive(I, at, s, fmt1(I, "%s stride must be positive, got", bn));
    value pv = {0};
    pv.k = V_INT;
    pv.s = p;
    fi_oblig_add(I, at, OB_TRUE,
                 sym_and(I->c, sym_bin(I->c, OP_GE, p, S(I, 0)), sym_bin(I->c, OP_LE, mul(I, S(I, 2), p), k)),
                 fmt1(I, "%s padding must be between 0 and half the kernel, got", bn), &pv, NULL);
    sym *d[3] = {x->d[0]};
    for (int i = 1; i < x->rank; i++) {
        d[i] = add(I, dv(I, sub(I, add(I, x->d[i], mul(I, S(I, 2), p)), k), s), S(I, 1));
        value hv = {0};
        hv.k = V_INT;
        hv.s = d[i];
        fi_oblig_add(I, at, OB_POSITIVE, sym_bin(I->c, OP_GE, d[i], S(I, 1)),
                     fmt1(I, "the output size of %s can reach zero: it is", bn), &hv, NULL);
    }
    value *y = out_tensor(I, x->rank, d);
    cost(I, S(I, 0), mul(I, numel(I, y), x->rank == 3 ? mul(I, k, k) : k));
    if (fi_concrete(I) && I->g && !I->abort) {
        ir_node *nd = emit(I, maxp ? IR_MAXPOOL : IR_AVGPOOL, bn, &x, 1, y);
        for (int i = 0; i < x->rank - 1; i++) {
            nd->kernel[i] = (int)K(k);
            nd->stride[i] = (int)K(s);
            nd->pad[i] = (int)K(p);
        }
        nd->flops = ir_node_flops(nd, &I->nodes.v[x->node].shape);
        y->node = nd->id;
    }
    return y;
}

static value *b_shape_op(interp *I, loc at, bargs *b, builtin_id id) {
    value *x = b->v[0];
    value *y;
    if (id == BI_GLOBAL_AVGPOOL) {
        if (!rank_is(I, at, "global_avgpool", x, 2, IR_MAX_RANK, "a Tensor[c, ...] of rank 2 or more"))
            return fi_v_new(I, V_POISON);
        y = out_tensor(I, 1, x->d);
        cost(I, S(I, 0), numel(I, x));
    } else {
        if (x->rank == 1) return x;
        sym *n = numel(I, x);
        y = out_tensor(I, 1, &n);
    }
    if (fi_concrete(I) && I->g && !I->abort) {
        ir_node *nd = emit(I, id == BI_FLATTEN ? IR_FLATTEN : IR_GLOBAL_AVGPOOL, specs[id].name, &x, 1, y);
        nd->flops = ir_node_flops(nd, &I->nodes.v[x->node].shape);
        y->node = nd->id;
    }
    return y;
}

static value *b_dropout(interp *I, loc at, bargs *b) {
    value *x = b->v[0];
    if (!b->v[1]) {
        diag_error(I->c, at, "dropout needs 'p'");
        return fi_v_new(I, V_POISON);
    }
    sym *p = b->v[1]->s;
    if (!sym_is_const(p) || sym_fval(p) < 0 || sym_fval(p) >= 1) {
        if (sym_is_const(p))
            diag_error(I->c, at, "dropout p must be in [0, 1), got %g", sym_fval(p));
        else if (!fi_concrete(I)) { /* a searched dropout rate is fine; it is checked per point */
        }
        if (sym_is_const(p)) return fi_v_new(I, V_POISON);
    }
    value *y = out_tensor(I, x->rank, x->d);
    if (fi_concrete(I) && I->g && !I->abort) {
        ir_node *nd = emit(I, IR_DROPOUT, NULL, &x, 1, y);
        nd->p = (float)sym_fval(p);
        y->node = nd->id;
    }
    return y;
}

/* concat(a, b, ...), concat(list), sum(list), sum(a, b, ...), a + b. */
static value *b_nary(interp *I, ast_expr *call, loc at, value **pos, int npos, builtin_id id) {
    const char *bn = id == BI_CONCAT ? "concat" : "sum";
    value **ts = pos;
    int n = npos;
    if (npos == 1 && pos[0]->k == V_LIST) {
        ts = pos[0]->items;
        n = pos[0]->n;
    }
    if (n < 1) {
        diag_error(I->c, at, "%s needs at least one tensor", bn);
        return fi_v_new(I, V_POISON);
    }
    for (int i = 0; i < n; i++)
        if (ts[i]->k != V_TENSOR) {
            diag_error(I->c, call && i < call->args.n ? ((ast_expr *)call->args.v[i])->at : at,
                       "%s takes tensors, got %s", bn, fi_vkind_name(ts[i]));
            return fi_v_new(I, V_POISON);
        }
    if (n == 1) return ts[0];
    const char *what = id == BI_CONCAT                 ? "cannot concatenate tensors of shapes"
                       : call && call->kind == E_BINOP ? "cannot add tensors of shapes"
                                                       : "cannot sum tensors of shapes";
    for (int i = 1; i < n; i++) {
        if (ts[i]->rank != ts[0]->rank) {
            diag_error(I->c, at, "%s %s and %s: their ranks differ", what, fi_shape_str(I, ts[0]),
                       fi_shape_str(I, ts[i]));
            I->abort = true;
            return fi_v_new(I, V_POISON);
        }
        fi_oblig_add(I, at, OB_EQUAL, fi_dims_equal(I, ts[0], ts[i], id == BI_CONCAT ? 1 : 0), what, ts[0],
                     ts[i]);
    }
    sym *d[IR_MAX_RANK];
    for (int i = 0; i < ts[0]->rank; i++) d[i] = ts[0]->d[i];
    if (id == BI_CONCAT)
        for (int i = 1; i < n; i++) d[0] = add(I, d[0], ts[i]->d[0]);
    value *y = out_tensor(I, ts[0]->rank, d);
    if (id == BI_SUM) cost(I, S(I, 0), mul(I, S(I, n - 1), numel(I, y)));
    if (fi_concrete(I) && I->g && !I->abort) {
        ir_node *nd = emit(I, id == BI_CONCAT ? IR_CONCAT : IR_ADD, NULL, ts, n, y);
        nd->flops = ir_node_flops(nd, &I->nodes.v[ts[0]->node].shape);
        y->node = nd->id;
    }
    return y;
}

/* a * b: same shapes, or b a Tensor[c] scaling a Tensor[c, ...] per channel
 * (an extension for squeeze-and-excitation, docs/extensions.md). */
static value *b_mul(interp *I, loc at, value *a, value *b) {
    bool bcast = b->rank == 1 && a->rank > 1;
    if (!bcast && a->rank != b->rank) {
        diag_error(I->c, at, "cannot multiply tensors of shapes %s and %s", fi_shape_str(I, a),
                   fi_shape_str(I, b));
        I->abort = true;
        return fi_v_new(I, V_POISON);
    }
    if (bcast)
        fi_oblig_add(I, at, OB_EQUAL, sym_bin(I->c, OP_EQ, a->d[0], b->d[0]),
                     "cannot scale channels: the shapes are", a, b);
    else
        fi_oblig_add(I, at, OB_EQUAL, fi_dims_equal(I, a, b, 0), "cannot multiply tensors of shapes", a, b);
    value *y = out_tensor(I, a->rank, a->d);
    cost(I, S(I, 0), numel(I, y));
    if (fi_concrete(I) && I->g && !I->abort) {
        value *ins[2] = {a, b};
        ir_node *nd = emit(I, IR_MUL, NULL, ins, 2, y);
        nd->flops = ir_node_flops(nd, &I->nodes.v[a->node].shape);
        y->node = nd->id;
    }
    return y;
}

static value *b_minmax(interp *I, bargs *b, bool mx) {
    if (!b->v[0] || !b->v[1]) {
        diag_error(I->c, loc_none(), "min/max need two ints");
        return fi_v_new(I, V_POISON);
    }
    sym *a = b->v[0]->s, *c = b->v[1]->s;
    sym *lt = sym_bin(I->c, OP_LT, a, c);
    return fi_v_int(I, mx ? sym_ite(I->c, lt, c, a) : sym_ite(I->c, lt, a, c));
}

value *fi_builtin_call(interp *I, builtin_id id, ast_expr *call, value **pos, int npos, const char **names,
                       value **named, loc *named_at, int nnamed) {
    loc at = call ? call->at : loc_none();
    I->call_at = at;
    if (id == BI_MUL) return b_mul(I, at, pos[0], pos[1]);
    if (id == BI_CONCAT || id == BI_SUM) {
        if (nnamed) {
            diag_error(I->c, named_at[0], "%s takes no named arguments", specs[id].name);
            return fi_v_new(I, V_POISON);
        }
        return b_nary(I, call, at, pos, npos, id);
    }
    bargs b;
    if (!bind_args(I, id, call, pos, npos, names, named, named_at, nnamed, &b)) return fi_v_new(I, V_POISON);
    if (b.types[0] == 'T' && !b.v[0]) {
        diag_error(I->c, at, "%s needs its input tensor", specs[id].name);
        return fi_v_new(I, V_POISON);
    }
    if (b.types[0] == 'T' && (b.v[0]->rank < 1)) return fi_v_new(I, V_POISON);
    switch (id) {
    case BI_DENSE: return b_dense(I, at, &b);
    case BI_CONV2D:
    case BI_CONV1D:
    case BI_DEPTHWISE: return b_conv(I, at, &b, id);
    case BI_BATCHNORM: return b_norm(I, at, &b, false);
    case BI_LAYERNORM: return b_norm(I, at, &b, true);
    case BI_RELU: return b_unary(I, &b, IR_ACT, ACT_RELU, "relu");
    case BI_RELU6: return b_unary(I, &b, IR_ACT, ACT_RELU6, "relu6");
    case BI_GELU: return b_unary(I, &b, IR_ACT, ACT_GELU, "gelu");
    case BI_TANH: return b_unary(I, &b, IR_ACT, ACT_TANH, "tanh");
    case BI_SIGMOID: return b_unary(I, &b, IR_ACT, ACT_SIGMOID, "sigmoid");
    case BI_SWISH: return b_unary(I, &b, IR_ACT, ACT_SWISH, "swish");
    case BI_HSWISH: return b_unary(I, &b, IR_ACT, ACT_HSWISH, "hswish");
    case BI_IDENTITY:
    case BI_SKIP: return b.v[0];
    case BI_ZERO: return b_unary(I, &b, IR_ZERO, ACT_IDENTITY, "zero");
    case BI_SOFTMAX: return b_unary(I, &b, IR_SOFTMAX, ACT_IDENTITY, "softmax");
    case BI_MAXPOOL: return b_pool(I, at, &b, true);
    case BI_AVGPOOL: return b_pool(I, at, &b, false);
    case BI_GLOBAL_AVGPOOL:
    case BI_FLATTEN: return b_shape_op(I, at, &b, id);
    case BI_DROPOUT: return b_dropout(I, at, &b);
    case BI_MIN: return b_minmax(I, &b, false);
    case BI_MAX: return b_minmax(I, &b, true);
    case BI_ATTENTION:
    case BI_EMBEDDING:
    case BI_POSITIONAL:
    case BI_PATCHES:
    case BI_MEAN_TOKENS:
    case BI_MATMUL:
    case BI_TRANSPOSE: return fi_seq_builtin(I, id, at, &b);
    default: break;
    }
    diag_internal(I->c, "builtin %d has no rule", id);
    return fi_v_new(I, V_POISON);
}

/* ----- the helpers builtins_seq.c shares (builtins_int.h) ----- */

sym *fi_b_int(interp *I, int64_t v) { return S(I, v); }
void fi_b_positive(interp *I, loc at, sym *s, const char *what) { positive(I, at, s, what); }
void fi_b_cost(interp *I, sym *params, sym *flops) { cost(I, params, flops); }
sym *fi_b_numel(interp *I, const value *t) { return numel(I, t); }
value *fi_b_out_tensor(interp *I, int rank, sym **d) { return out_tensor(I, rank, d); }
bool fi_b_rank_is(interp *I, loc at, const char *bn, value *x, int lo, int hi, const char *hint) {
    return rank_is(I, at, bn, x, lo, hi, hint);
}
ir_node *fi_b_emit(interp *I, ir_op op, const char *opname, value **ins, int n_in, const value *out_shape) {
    return emit(I, op, opname, ins, n_in, out_shape);
}
void fi_b_add_param(interp *I, ir_node *n, const char *suffix, ir_param_role role, int rank,
                    const int64_t *dims, bool train) {
    add_param(I, n, suffix, role, rank, dims, train);
}
