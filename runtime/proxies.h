/* proxies.h: training-free scores of a network at initialisation (the
 * "zero-cost proxies" of the NAS literature), computed on one batch of
 * training data.  docs/proxies.md cites each definition and says which to
 * use when.
 *
 * Every proxy leaves the graph's parameters (running statistics included)
 * exactly as it found them, so a trial can compute proxies and then train
 * from the same initialisation.  A proxy that is undefined for a network
 * (no dense or conv weights; no ReLU for naswot) or that overflows is
 * reported MISSING with a reason, never as a number. */
#ifndef NASC_RT_PROXIES_H
#define NASC_RT_PROXIES_H

#include <stddef.h>
#include <stdint.h>
#include "data.h"
#include "graph.h"

typedef enum {
    RT_PX_GRAD_NORM, /* sum over weight tensors of ||dL/dW||_2 (Abdelfattah et al. 2021) */
    RT_PX_SNIP,      /* sum |W * dL/dW| (Lee et al. 2019) */
    RT_PX_GRASP,     /* -sum W * (H dL/dW) (Wang et al. 2020), H g by a central difference */
    RT_PX_FISHER, /* sum over channels of 0.5 mean_n (sum z dL/dz)^2 at dense/conv outputs (Turner et al. 2020) */
    RT_PX_JACOV,   /* -sum log(l + k) + 1/(l + k) over eigenvalues of corr(dy/dx) (Mellor et al. 2020) */
    RT_PX_SYNFLOW, /* sum |W * dR/dW|, R the output sum of |W| on an all-ones input (Tanaka et al. 2020) */
    RT_PX_NASWOT,  /* log det of the ReLU binary-code kernel (Mellor et al. 2021) */
    RT_PX_ZEN,     /* log E|f(x) - f(x + a e)| + sum log sqrt(mean BN var) (Lin et al. 2021) */
    RT_PX_L2_NORM, /* sum over weight tensors of ||W||_2 */
    RT_PX_PLAIN,   /* sum W * dL/dW (Mozer & Smolensky 1989, as in Abdelfattah et al.) */
    RT_PX_COUNT
} rt_proxy_id;

/* "grad_norm", "snip", ... the metric names. */
const char *rt_proxy_name(int id);
/* The id of a proxy name, or -1. */
int rt_proxy_find(const char *name);

#define RT_PX_ALL ((1u << RT_PX_COUNT) - 1u)

typedef struct rt_proxy_values {
    double v[RT_PX_COUNT];     /* NAN when missing or not asked for */
    char why[RT_PX_COUNT][96]; /* why a proxy asked for is missing; "" when it has a value */
} rt_proxy_values;

/* Computes the proxies whose bit (1u << id) is set in mask, on one batch
 * of `batch` samples (0: 64; at most d->n) drawn from d by seed.  The
 * parameters of g must be initialised.  Returns 0 (each proxy asked for
 * has a finite value or a reason in why), or -1 with err for what stops
 * every proxy: data that does not fit the network, out of memory. */
int rt_proxies_compute(ir_graph *g, const rt_dataset *d, unsigned mask, int batch, uint64_t seed,
                       rt_proxy_values *out, char *err, size_t errcap);

/* One proxy, for callers that want only these two: 0 with *score, or -1
 * with err (which holds the reason when the proxy is missing).  naswot's
 * batch is capped at the number of ReLU units (see rt_proxies_compute). */
int rt_proxy_naswot(ir_graph *g, const rt_dataset *d, int batch, uint64_t seed, double *score, char *err,
                    size_t errcap);
/* SynFlow needs no data. */
int rt_proxy_synflow(ir_graph *g, double *score, char *err, size_t errcap);

#endif
