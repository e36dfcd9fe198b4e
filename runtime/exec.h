/* exec.h: the reference executor of the concrete graph IR.
 *
 * Forward (train and eval mode) and backward over a whole ir_graph, batched,
 * using the kernels of kernels.c (OpenBLAS for GEMM).  Parameters live in
 * ir_param.data (allocated and initialised here); gradients in a parallel
 * set of buffers owned by the rt_exec.  Inference with rt_forward_eval is
 * the reference the JIT is tested against.
 */
#ifndef NASC_RT_EXEC_H
#define NASC_RT_EXEC_H

#include <stddef.h>
#include <stdint.h>
#include "graph.h"

typedef enum { INIT_KAIMING, INIT_XAVIER } rt_init_kind;

/* Allocates (malloc) and initialises every parameter of g: weights by
 * `init` (Kaiming-uniform as PyTorch's default, or Xavier-uniform), biases
 * as PyTorch does, batchnorm gamma 1, beta 0, running mean 0, var 1.
 * Deterministic in seed.  Returns 0, or -1 on allocation failure. */
int rt_params_init(ir_graph *g, rt_init_kind init, uint64_t seed);
/* Frees the parameter buffers allocated by rt_params_init (or a loader). */
void rt_params_free(ir_graph *g);

typedef struct rt_exec rt_exec;

/* A training/eval context for batches of at most max_batch samples. */
rt_exec *rt_exec_new(ir_graph *g, int max_batch, uint64_t seed);
void rt_exec_free(rt_exec *e);

/* Forward pass.  train: batchnorm uses batch statistics and updates running
 * ones, dropout is active.  x: [batch, input numel].  Returns the output
 * activations ([batch, output numel], owned by e), or NULL on bad
 * arguments or bad input (rt_exec_error says why). */
const float *rt_exec_forward(rt_exec *e, const float *x, int batch, int train);
/* Softmax cross-entropy of the last forward's output against labels;
 * fills dlogits internally.  Returns the mean loss over the batch and, if
 * correct != NULL, the number of correct argmax predictions. */
float rt_exec_loss(rt_exec *e, const int32_t *labels, int batch, int *correct);
/* Backward pass from the loss gradient (after rt_exec_loss); gradients of
 * every trainable parameter are written (not accumulated) into the buffers
 * rt_exec_grads exposes. */
void rt_exec_backward(rt_exec *e, int batch);
/* Backward from a caller-given gradient of the output ([batch, out numel]). */
void rt_exec_backward_from(rt_exec *e, const float *dout, int batch);
/* The trainable parameters and their gradients, in a stable order:
 * n tensors; params[i] aliases ir_param.data, grads[i] is owned by e. */
int rt_exec_trainables(rt_exec *e, float ***params, float ***grads, int64_t **sizes, ir_param ***meta);

/* Eval-mode inference of a whole batch without an rt_exec (allocates
 * scratch internally): the reference forward pass.  Returns 0 or -1. */
int rt_forward_eval(const ir_graph *g, const float *x, float *y, int batch);

/* ---- additions (rt-exec) ---- */

/* Checks g against the operation table (ir_graph_verify with weights
 * required): shapes, attributes and initialised parameters.  Returns 0, or
 * -1 with "invalid graph: " and the verifier's message naming the first
 * faulty node.  rt_exec_new returns NULL exactly when this fails (or
 * memory runs out). */
int rt_exec_check(const ir_graph *g, char *err, size_t errcap);
/* Also compute the gradient with respect to the graph input during
 * backward (off by default; gradient checks and proxies use it). */
void rt_exec_set_input_grad(rt_exec *e, int on);
/* [batch, input numel] gradient of the last backward, or NULL if off. */
const float *rt_exec_input_grad(const rt_exec *e);
/* While on, train-mode forwards reuse the current dropout masks instead
 * of drawing new ones (finite-difference checks need a fixed mask). */
void rt_exec_freeze_dropout(rt_exec *e, int on);
/* Why the last rt_exec_forward returned NULL on valid arguments: the input
 * was bad for a layer it names (a token id outside the vocabulary, NaN or
 * infinity reaching an attention score).  NULL when it did not fail. */
const char *rt_exec_error(const rt_exec *e);
/* Output of node id from the last forward ([batch, numel]), or NULL. */
const float *rt_exec_node_output(const rt_exec *e, int id);
/* Gradient of the loss with respect to node id's output after the last
 * backward ([batch, numel], owned by e), or NULL when that backward did
 * not write it (the fisher proxy reads it at dense and conv outputs). */
const float *rt_exec_node_grad(const rt_exec *e, int id);

#endif
