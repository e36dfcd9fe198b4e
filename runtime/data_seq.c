/* data_seq.c: checks of a data set against the sequence layers of a
 * network, before any training or evaluation: token ids fed to an
 * embedding must be integers inside its vocabulary.  The message names
 * the data set, the sample and the layer, so a CSV with an id one past
 * the vocabulary is found without reading the kernels' batch-relative
 * error. */
#include "data.h"
#include "err.h"
#include "kernels_seq.h"
#include <math.h>

int rt_check_tokens(const ir_graph *g, const rt_dataset *d, const char *what, char *err, size_t errcap) {
    int64_t in = ir_shape_numel(&g->nodes[g->input].shape);
    for (int k = 0; k < g->n_nodes; k++) {
        const ir_node *n = &g->nodes[k];
        if (n->op != IR_EMBEDDING || n->in[0] != g->input) continue;
        for (int64_t i = 0; i < d->n * in; i++) {
            float f = d->x[i];
            if (f >= 0.0f && f < (float)n->vocab && f == floorf(f)) continue;
            return err_set(err, errcap,
                           "the %s set's sample %lld has token id %g at position %lld, outside the "
                           "vocabulary of embedding layer '%s' (integers in [0, %d))",
                           what, (long long)(i / in + 1), (double)f, (long long)(i % in),
                           n->name ? n->name : "?", n->vocab);
        }
    }
    return 0;
}
