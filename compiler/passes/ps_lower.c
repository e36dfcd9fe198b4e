/* ps_lower.c: lowering to ps_lgraph, epilogue fusion and the memory plan.
 *
 * Fusion never moves work earlier: a consumer X folded into its producer P
 * makes P run at X's position, so every other value X reads already exists
 * then, and P's single reader (X) is gone.  The memory plan is a first-fit
 * over live intervals measured in those emission positions; intervals are
 * closed, because a producer accumulates into its buffer before its
 * epilogue reads the residual operands.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "passes.h"

int ps_root(const ps_lgraph *lg, int v) {
    for (;;) {
        const ps_lnode *n = &lg->nodes[v];
        if (n->view_of >= 0)
            v = n->view_of;
        else if (n->fused_into >= 0)
            v = n->fused_into;
        else
            return v;
    }
}

static bool is_view(const ir_graph *g, const ir_node *n) {
    if (n->op == IR_FLATTEN || n->op == IR_DROPOUT) return true;
    if (n->op == IR_ACT && n->act == ACT_IDENTITY) return true;
    /* a one-input add/concat is a copy */
    return (n->op == IR_ADD || n->op == IR_CONCAT) && n->n_in == 1 &&
           ir_shape_numel(&g->nodes[n->in[0]].shape) == ir_shape_numel(&n->shape);
}

static void recount_uses(ps_lgraph *lg) {
    for (int i = 0; i < lg->n; i++) lg->nodes[i].uses = 0;
    for (int i = 0; i < lg->n; i++) {
        const ps_lnode *n = &lg->nodes[i];
        if (n->view_of >= 0 || n->fused_into >= 0) continue;
        for (int j = 0; j < n->n_in; j++) lg->nodes[ps_root(lg, n->in[j])].uses++;
        for (int e = 0; e < n->n_epi; e++)
            if (n->epi[e].kind == PS_EPI_ADD || n->epi[e].kind == PS_EPI_MUL || n->epi[e].kind == PS_EPI_MULC)
                lg->nodes[ps_root(lg, n->epi[e].src)].uses++;
    }
    lg->nodes[ps_root(lg, lg->output)].uses++;
}

static int bn_affine(ps_state *ps, ps_lnode *l) {
    const ir_node *n = l->ir;
    int64_t ch = n->shape.d[0];
    const float *p[4] = {0};
    for (int i = 0; i < n->n_params; i++) p[n->params[i].role] = n->params[i].data;
    l->scale = ps_own(ps, (size_t)ch * sizeof(float));
    l->shift = ps_own(ps, (size_t)ch * sizeof(float));
    if (!l->scale || !l->shift) return -1;
    for (int64_t c = 0; c < ch; c++) {
        double s = p[PARAM_WEIGHT][c] / sqrt((double)p[PARAM_RUNNING_VAR][c] + n->eps);
        l->scale[c] = (float)s;
        l->shift[c] = (float)(p[PARAM_BIAS][c] - p[PARAM_RUNNING_MEAN][c] * s);
    }
    return 0;
}

int ps_pass_lower(ps_state *ps, char *err, size_t errcap) {
    const ir_graph *g = &ps->g;
    ps_lgraph *lg = ps_own(ps, sizeof *lg);
    if (!lg || !(lg->nodes = ps_own(ps, (size_t)g->n_nodes * sizeof(ps_lnode)))) goto oom;
    lg->n = g->n_nodes;
    lg->input = g->input;
    lg->output = g->output;
    for (int i = 0; i < g->n_nodes; i++) {
        const ir_node *n = &g->nodes[i];
        ps_lnode *l = &lg->nodes[i];
        l->ir = n;
        l->op = n->op;
        l->shape = n->shape;
        l->numel = ir_shape_numel(&n->shape);
        l->view_of = l->fused_into = l->pool = -1;
        l->pos = i;
        l->offset = -1;
        l->n_in = n->n_in;
        if (!(l->in = ps_own(ps, (size_t)(n->n_in ? n->n_in : 1) * sizeof(int)))) goto oom;
        for (int j = 0; j < n->n_in; j++) {
            int v = n->in[j];
            while (lg->nodes[v].view_of >= 0) v = lg->nodes[v].view_of;
            l->in[j] = v;
        }
        if (is_view(g, n)) l->view_of = l->in[0];
        if (n->op == IR_BATCHNORM && bn_affine(ps, l)) goto oom;
    }
    recount_uses(lg);
    ps->lg = lg;
    return 0;
oom:
    snprintf(err, errcap, "out of memory lowering the graph");
    return -1;
}

/* Can X's work be appended to P's epilogue? */
static bool can_fuse(const ps_lgraph *lg, int p, const ps_lnode *x, int steps) {
    const ps_lnode *pn = &lg->nodes[p];
    return pn->op != IR_INPUT && pn->view_of < 0 && pn->fused_into < 0 && pn->uses == 1 &&
           pn->numel == x->numel && pn->n_epi + steps + x->n_epi <= PS_MAX_EPI;
}

static void attach(ps_lgraph *lg, int p, ps_lnode *x, const ps_epi *steps, int k) {
    ps_lnode *pn = &lg->nodes[p];
    for (int i = 0; i < k; i++) pn->epi[pn->n_epi++] = steps[i];
    /* X may already carry steps fused into it: they follow X's own work */
    for (int i = 0; i < x->n_epi; i++) pn->epi[pn->n_epi++] = x->epi[i];
    x->n_epi = 0;
    x->fused_into = p;
    pn->pos = x->pos;
    recount_uses(lg);
}

/* Builds the epilogue steps for X taking P = root(X.in[j]); returns their
 * count, or 0 if X cannot be expressed as an epilogue with that input. */
static int steps_for(const ps_lgraph *lg, int xi, int j, ps_epi *s) {
    const ps_lnode *x = &lg->nodes[xi];
    int p = ps_root(lg, x->in[j]);
    memset(s, 0, PS_MAX_EPI * sizeof *s);
    switch (x->op) {
    case IR_ACT:
        s[0].kind = PS_EPI_ACT;
        s[0].act = x->ir->act;
        s[0].from = xi;
        return 1;
    case IR_BATCHNORM:
        s[0].kind = PS_EPI_AFFINE;
        s[0].scale = x->scale;
        s[0].shift = x->shift;
        s[0].inner = x->numel / x->shape.d[0];
        s[0].from = xi;
        return 1;
    case IR_ADD: {
        int k = 0;
        for (int i = 0; i < x->n_in && k < PS_MAX_EPI; i++) {
            if (i == j) continue;
            if (ps_root(lg, x->in[i]) == p) return 0;
            s[k].kind = PS_EPI_ADD;
            s[k].src = x->in[i];
            s[k++].from = xi;
        }
        return k == x->n_in - 1 ? k : 0;
    }
    case IR_MUL: {
        int big = lg->nodes[x->in[0]].numel == x->numel ? 0 : 1;
        bool chan = lg->nodes[x->in[1 - big]].numel != x->numel;
        if (j != big && chan) return 0; /* the gate vector cannot carry the product */
        int o = 1 - j;
        if (ps_root(lg, x->in[o]) == p) return 0;
        s[0].kind = chan ? PS_EPI_MULC : PS_EPI_MUL;
        s[0].src = x->in[o];
        s[0].inner = x->numel / lg->nodes[x->in[big]].shape.d[0];
        s[0].from = xi;
        return 1;
    }
    default: return 0;
    }
}

static int fuse_kind(ps_state *ps, ir_op op, char *err, size_t errcap) {
    ps_lgraph *lg = ps->lg;
    if (!lg) {
        snprintf(err, errcap, "fusion needs a lowered graph");
        return -1;
    }
    ps_epi s[PS_MAX_EPI];
    for (int xi = 0; xi < lg->n; xi++) {
        ps_lnode *x = &lg->nodes[xi];
        if (x->op != op || x->view_of >= 0 || x->fused_into >= 0) continue;
        for (int j = 0; j < x->n_in; j++) {
            int k = steps_for(lg, xi, j, s);
            int p = ps_root(lg, x->in[j]);
            if (k > 0 && can_fuse(lg, p, x, k)) {
                attach(lg, p, x, s, k);
                break;
            }
        }
    }
    return 0;
}

int ps_pass_fuse_act(ps_state *ps, char *err, size_t errcap) { return fuse_kind(ps, IR_ACT, err, errcap); }
int ps_pass_fuse_add(ps_state *ps, char *err, size_t errcap) { return fuse_kind(ps, IR_ADD, err, errcap); }
int ps_pass_fuse_bn(ps_state *ps, char *err, size_t errcap) {
    return fuse_kind(ps, IR_BATCHNORM, err, errcap);
}
int ps_pass_fuse_mul(ps_state *ps, char *err, size_t errcap) { return fuse_kind(ps, IR_MUL, err, errcap); }

/* Pooling after a conv becomes part of the conv's epilogue loop: each
 * pooled output reduces a window of finished conv values straight from
 * the accumulation plane, so the full conv output is never stored. */
int ps_pass_fuse_pool(ps_state *ps, char *err, size_t errcap) {
    ps_lgraph *lg = ps->lg;
    if (!lg) {
        snprintf(err, errcap, "fusion needs a lowered graph");
        return -1;
    }
    for (int xi = 0; xi < lg->n; xi++) {
        ps_lnode *x = &lg->nodes[xi];
        if ((x->op != IR_MAXPOOL && x->op != IR_AVGPOOL) || x->view_of >= 0 || x->fused_into >= 0) continue;
        int p = ps_root(lg, x->in[0]);
        ps_lnode *pn = &lg->nodes[p];
        if ((pn->op != IR_CONV2D && pn->op != IR_CONV1D) || pn->uses != 1 || pn->pool >= 0 ||
            pn->fused_into >= 0 || pn->n_epi + x->n_epi > PS_MAX_EPI ||
            x->ir->shape.rank != pn->ir->shape.rank)
            continue;
        pn->pool = xi;
        pn->n_epi_pre = pn->n_epi;
        for (int i = 0; i < x->n_epi; i++) pn->epi[pn->n_epi++] = x->epi[i];
        x->n_epi = 0;
        pn->shape = x->shape;
        pn->numel = x->numel;
        x->fused_into = p;
        pn->pos = x->pos;
        recount_uses(lg);
    }
    return 0;
}

/* Live interval [def, last] of each arena value, in emission positions. */
static void live_ranges(const ps_lgraph *lg, int *def, int *last) {
    for (int i = 0; i < lg->n; i++) def[i] = last[i] = lg->nodes[i].pos;
    for (int i = 0; i < lg->n; i++) {
        const ps_lnode *n = &lg->nodes[i];
        if (n->view_of >= 0 || n->fused_into >= 0) continue;
        for (int j = 0; j < n->n_in; j++) {
            int r = ps_root(lg, n->in[j]);
            if (last[r] < n->pos) last[r] = n->pos;
        }
        for (int e = 0; e < n->n_epi; e++) {
            if (n->epi[e].kind != PS_EPI_ADD && n->epi[e].kind != PS_EPI_MUL && n->epi[e].kind != PS_EPI_MULC)
                continue;
            int r = ps_root(lg, n->epi[e].src);
            if (last[r] < n->pos) last[r] = n->pos;
        }
    }
}

static bool in_arena(const ps_lgraph *lg, int i) {
    const ps_lnode *n = &lg->nodes[i];
    return n->view_of < 0 && n->fused_into < 0 && n->op != IR_INPUT && i != ps_root(lg, lg->output);
}

int ps_pass_plan_memory(ps_state *ps, char *err, size_t errcap) {
    ps_lgraph *lg = ps->lg;
    if (!lg) {
        snprintf(err, errcap, "the memory plan needs a lowered graph");
        return -1;
    }
    int *def = ps_own(ps, (size_t)lg->n * sizeof(int)), *last = ps_own(ps, (size_t)lg->n * sizeof(int));
    int *placed = ps_own(ps, (size_t)lg->n * sizeof(int));
    if (!def || !last || !placed) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    live_ranges(lg, def, last);
    int np = 0;
    lg->arena = 0;
    /* values in order of definition; ties cannot happen (positions are unique) */
    for (int pos = 0; pos < lg->n; pos++) {
        int v = -1;
        for (int i = 0; i < lg->n; i++)
            if (in_arena(lg, i) && lg->nodes[i].pos == pos) v = i;
        if (v < 0) continue;
        int64_t size = (lg->nodes[v].numel + 15) / 16 * 16, off = 0;
        for (bool moved = true; moved;) { /* first fit: bump past any live overlap */
            moved = false;
            for (int k = 0; k < np; k++) {
                const ps_lnode *o = &lg->nodes[placed[k]];
                int64_t osz = (o->numel + 15) / 16 * 16;
                bool live = !(last[placed[k]] < def[v] || last[v] < def[placed[k]]);
                if (live && off < o->offset + osz && o->offset < off + size) {
                    off = o->offset + osz;
                    moved = true;
                }
            }
        }
        lg->nodes[v].offset = off;
        placed[np++] = v;
        if (off + size > lg->arena) lg->arena = off + size;
    }
    lg->planned = true;
    return 0;
}

const char *ps_lgraph_verify(const ps_lgraph *lg, char *buf, size_t cap) {
    for (int i = 0; i < lg->n; i++) {
        const ps_lnode *n = &lg->nodes[i];
        for (int j = 0; j < n->n_in; j++)
            if (n->in[j] < 0 || n->in[j] >= i) {
                snprintf(buf, cap, "value %d reads %d out of order", i, n->in[j]);
                return buf;
            }
        if (n->view_of >= i || n->fused_into >= i) {
            snprintf(buf, cap, "value %d aliases a later value", i);
            return buf;
        }
        if (n->view_of >= 0 && lg->nodes[n->view_of].numel != n->numel) {
            snprintf(buf, cap, "view %d changes the size", i);
            return buf;
        }
        if (n->fused_into < 0 && n->view_of < 0 && n->pos < i) {
            snprintf(buf, cap, "value %d emitted early", i);
            return buf;
        }
        if (n->n_epi < 0 || n->n_epi > PS_MAX_EPI) {
            snprintf(buf, cap, "value %d epilogue overflow", i);
            return buf;
        }
        for (int e = 0; e < n->n_epi; e++)
            if ((n->epi[e].kind == PS_EPI_ADD || n->epi[e].kind == PS_EPI_MUL ||
                 n->epi[e].kind == PS_EPI_MULC) &&
                lg->nodes[ps_root(lg, n->epi[e].src)].pos >= n->pos) {
                snprintf(buf, cap, "value %d's epilogue reads a value not yet computed", i);
                return buf;
            }
    }
    if (lg->planned) {
        for (int i = 0; i < lg->n; i++)
            if (in_arena(lg, i) &&
                (lg->nodes[i].offset < 0 || lg->nodes[i].offset + lg->nodes[i].numel > lg->arena)) {
                snprintf(buf, cap, "value %d is outside the arena", i);
                return buf;
            }
    }
    return NULL;
}

static const char *epi_name(const ps_epi *e) {
    switch (e->kind) {
    case PS_EPI_ACT: return ir_act_name(e->act);
    case PS_EPI_ADD: return "add";
    case PS_EPI_MUL: return "mul";
    case PS_EPI_MULC: return "mul_channel";
    default: return "batchnorm";
    }
}

static void dump_lnode(const ps_lgraph *lg, int i, FILE *f) {
    const ps_lnode *n = &lg->nodes[i];
    char sh[64];
    fprintf(f, "  @%-3d %%%d = %s", n->pos, i, ir_op_name(n->op));
    if (n->op == IR_ACT) fprintf(f, "(%s)", ir_act_name(n->ir->act));
    fprintf(f, " %s", ir_shape_str(&n->shape, sh, sizeof sh));
    for (int j = 0; j < n->n_in; j++) fprintf(f, "%s%%%d", j ? ", " : " <- ", ps_root(lg, n->in[j]));
    for (int e = 0; e < n->n_epi; e++) {
        if (n->pool >= 0 && e == n->n_epi_pre) fprintf(f, " | %s", ir_op_name(lg->nodes[n->pool].op));
        fprintf(f, " | %s", epi_name(&n->epi[e]));
        if (n->epi[e].kind == PS_EPI_ADD || n->epi[e].kind == PS_EPI_MUL || n->epi[e].kind == PS_EPI_MULC)
            fprintf(f, " %%%d", ps_root(lg, n->epi[e].src));
    }
    if (n->pool >= 0 && n->n_epi == n->n_epi_pre) fprintf(f, " | %s", ir_op_name(lg->nodes[n->pool].op));
    if (n->op == IR_INPUT)
        fprintf(f, "  [input]");
    else if (i == ps_root(lg, lg->output))
        fprintf(f, "  [output]");
    else if (lg->planned)
        fprintf(f, "  [arena +%lld]", (long long)n->offset);
    fprintf(f, "   ; %s\n", n->ir->name ? n->ir->name : "");
}

static void dump_lgraph(const ps_lgraph *lg, FILE *f) {
    fprintf(f, "lowered graph: %d values, output %%%d", lg->n, ps_root(lg, lg->output));
    if (lg->planned)
        fprintf(f, ", arena %lld floats/sample (%lld bytes)", (long long)lg->arena, (long long)lg->arena * 4);
    fprintf(f, "\n");
    for (int pos = 0; pos < lg->n; pos++)
        for (int i = 0; i < lg->n; i++) {
            const ps_lnode *n = &lg->nodes[i];
            if (n->view_of < 0 && n->fused_into < 0 && n->pos == pos) dump_lnode(lg, i, f);
        }
}

static void dump_graph(const ir_graph *g, FILE *f) {
    char sh[64];
    fprintf(f, "graph: %d nodes, input %d, output %d, params %lld\n", g->n_nodes, g->input, g->output,
            (long long)g->params);
    for (int i = 0; i < g->n_nodes; i++) {
        const ir_node *n = &g->nodes[i];
        fprintf(f, "  %%%d = %s", i, ir_op_name(n->op));
        if (n->op == IR_ACT) fprintf(f, "(%s)", ir_act_name(n->act));
        fprintf(f, " %s", ir_shape_str(&n->shape, sh, sizeof sh));
        for (int j = 0; j < n->n_in; j++) fprintf(f, "%s%%%d", j ? ", " : " <- ", n->in[j]);
        if (n->bias) fprintf(f, " +bias");
        fprintf(f, "   ; %s\n", n->name ? n->name : "");
    }
}

void ps_dump(const ps_state *ps, FILE *f) {
    if (ps->lg)
        dump_lgraph(ps->lg, f);
    else
        dump_graph(&ps->g, f);
    ps_quant_dump(ps, f);
}
