/* cg_footprint.h: the `ram` and `flash` static metrics of a point: what
 * its fp32 build (nasc build, the host CPU) needs at batch 1, known before
 * any training.
 *
 *   ram   = the activation arena the compiled function allocates at batch 1
 *           (the memory plan's values plus the kernels' scratch, exactly as
 *           the generated code computes it) + the caller's input and output
 *           buffers of one sample.
 *   flash = the bytes the object file of `nasc build --emit obj` loads:
 *           its allocated sections (machine code, the weights after
 *           batchnorm folding, tap tables, unwind tables), measured on the
 *           very object, compiled in memory at -O3 for the host CPU: what
 *           `size` reports for it.
 * Neither counts the C library or OpenBLAS, which the object links against.
 */
#ifndef NASC_CG_FOOTPRINT_H
#define NASC_CG_FOOTPRINT_H

#include <stddef.h>
#include <stdint.h>
#include "graph.h"
#include "passes.h"

typedef struct cg_footprint {
    int64_t arena_bytes; /* what the function mallocs at batch 1 */
    int64_t io_bytes;    /* one input and one output sample */
    int64_t code_bytes;  /* executable sections */
    int64_t const_bytes; /* the other allocated sections (weights, tables) */
    int64_t ram, flash;  /* the metrics */
} cg_footprint;

/* Fills f for g; g's weights may be absent (a point not yet trained): the
 * sizes do not depend on their values.  0, or -1 with a message. */
int cg_footprint_of(const ir_graph *g, cg_footprint *f, char *err, size_t errcap);
/* The same for the build with quantisation `quant` (--quant int8: the
 * int8 weights and kernels). */
int cg_footprint_ex(const ir_graph *g, ps_quant_kind quant, cg_footprint *f, char *err, size_t errcap);

#endif
