/* darts.h: the arithmetic of differentiable architecture search (prefix
 * da_), independent of spaces and graphs: how each method turns the
 * architecture parameters alpha of one decision into the mixture weights
 * of a step, and how the gradient of the loss with respect to those
 * weights becomes a gradient of alpha (docs/differentiable.md).
 *
 *   darts      w = softmax(alpha)                           (Liu et al. 2019)
 *   fbnet      w = softmax((alpha + g) / tau), g Gumbel      (Wu et al. 2019)
 *   gdas       w = one_hot(argmax of the above), gradient straight through
 *              the soft weights                              (Dong & Yang 2019)
 *   proxyless  w = one_hot(one path); the alpha step samples two paths by
 *              softmax(alpha) and differentiates the binary gates over the
 *              pair, renormalised                            (Cai et al. 2019)
 * Nothing here prints. */
#ifndef NASC_RT_DARTS_H
#define NASC_RT_DARTS_H

#include <stdbool.h>
#include <nasc/rng.h>

typedef enum { DA_DARTS, DA_GDAS, DA_FBNET, DA_PROXYLESS } da_method;

/* "darts", "gdas", "fbnet", "proxyless"; parse returns false for others. */
const char *da_method_name(da_method m);
bool da_method_parse(const char *s, da_method *m);

/* FBNet's schedule: tau = t0 * decay^epoch (epoch from 0). */
double da_temperature(double t0, double decay, int epoch);

/* out = softmax((a + noise) / tau) over n values (noise may be NULL). */
void da_softmax(const float *a, const float *noise, int n, double tau, float *out);
/* n independent standard Gumbel draws. */
void da_gumbel(nasc_rng *r, float *g, int n);

/* What one step of one decision uses: the forward weights w, the soft
 * weights y the gradient flows through, and proxyless's pair. */
typedef struct da_draw {
    int pair[2];  /* proxyless alpha step: the two sampled paths, else -1 */
    int chosen;   /* a one-hot step: the active alternative, else -1 */
    float *noise; /* gumbel methods: the draw (n), caller-owned, may be NULL for darts */
} da_draw;

/* Draws the weights of one decision of n alternatives for a step.
 * alpha_step: proxyless samples a pair (else one path by softmax(alpha)).
 * noise (n floats, caller's buffer) receives the Gumbel draw, and y (n)
 * the soft weights; w (n) the forward weights. */
void da_draw_weights(da_method m, const float *alpha, int n, double tau, bool alpha_step, nasc_rng *r,
                     float *noise, float *y, float *w, da_draw *d);

/* The gradient of alpha (n, written) from gw, the gradient of the loss
 * with respect to the forward weights w of the same draw. */
void da_alpha_grad(da_method m, const float *alpha, const float *y, int n, double tau, const da_draw *d,
                   const float *gw, float *galpha);

#endif
