/* builtins_int.h: what builtins.c shares with the files of further
 * builtin families (builtins_seq.c): the bound arguments of a call and the
 * helpers every shape rule uses (obligations, cost, graph emission). */
#ifndef NASC_BUILTINS_INT_H
#define NASC_BUILTINS_INT_H

#include "interp_int.h"

#define MAXP 8
/* A call's arguments bound to the builtin's parameters (NULL: not given). */
typedef struct bargs {
    int n;
    const char *names[MAXP];
    char types[MAXP];
    value *v[MAXP];
} bargs;

/* builtins.c */
sym *fi_b_int(interp *I, int64_t v);
void fi_b_positive(interp *I, loc at, sym *s, const char *what);
/* Records a layer's params and FLOPs for the ranges (bounded to int64). */
void fi_b_cost(interp *I, sym *params, sym *flops);
sym *fi_b_numel(interp *I, const value *t);
/* A new tensor value of that shape (its size is bounded by an obligation). */
value *fi_b_out_tensor(interp *I, int rank, sym **d);
/* x has a rank in [lo, hi], else an error "bn expects hint, got ...". */
bool fi_b_rank_is(interp *I, loc at, const char *bn, value *x, int lo, int hi, const char *hint);
/* POINT mode: appends a graph node (named by opname, or the op's name). */
ir_node *fi_b_emit(interp *I, ir_op op, const char *opname, value **ins, int n_in, const value *out_shape);
void fi_b_add_param(interp *I, ir_node *n, const char *suffix, ir_param_role role, int rank,
                    const int64_t *dims, bool train);

/* builtins_seq.c */
value *fi_seq_builtin(interp *I, builtin_id id, loc at, bargs *b);
/* dense on Tensor[t, d]: the same layer applied to each token. */
value *fi_seq_dense_tokens(interp *I, loc at, bargs *b);

#endif
