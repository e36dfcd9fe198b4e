/* darts.c: mixture weights and alpha gradients of the differentiable
 * methods (darts.h). */
#include "darts.h"
#include <math.h>
#include <string.h>

static const char *const names[] = {"darts", "gdas", "fbnet", "proxyless"};

const char *da_method_name(da_method m) { return (unsigned)m < 4 ? names[m] : "?"; }

bool da_method_parse(const char *s, da_method *m) {
    for (int i = 0; i < 4; i++)
        if (s && !strcmp(s, names[i])) {
            *m = (da_method)i;
            return true;
        }
    return false;
}

double da_temperature(double t0, double decay, int epoch) { return t0 * pow(decay, epoch); }

void da_softmax(const float *a, const float *noise, int n, double tau, float *out) {
    double mx = -INFINITY, s = 0;
    for (int i = 0; i < n; i++) {
        double v = (a[i] + (noise ? noise[i] : 0)) / tau;
        if (v > mx) mx = v;
    }
    for (int i = 0; i < n; i++) s += exp((a[i] + (noise ? noise[i] : 0)) / tau - mx);
    for (int i = 0; i < n; i++) out[i] = (float)(exp((a[i] + (noise ? noise[i] : 0)) / tau - mx) / s);
}

void da_gumbel(nasc_rng *r, float *g, int n) {
    for (int i = 0; i < n; i++) {
        double u = nasc_rng_uniform(r);
        if (u < 1e-12) u = 1e-12;
        g[i] = (float)-log(-log(u));
    }
}

static int argmax(const float *v, int n) {
    int b = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[b]) b = i;
    return b;
}

/* One index drawn by probabilities p (n), skipping `skip` (renormalised). */
static int draw(nasc_rng *r, const float *p, int n, int skip) {
    double tot = 0;
    for (int i = 0; i < n; i++)
        if (i != skip) tot += p[i];
    double u = nasc_rng_uniform(r) * tot, acc = 0;
    int last = -1;
    for (int i = 0; i < n; i++) {
        if (i == skip) continue;
        acc += p[i];
        last = i;
        if (u < acc) return i;
    }
    return last;
}

void da_draw_weights(da_method m, const float *alpha, int n, double tau, bool alpha_step, nasc_rng *r,
                     float *noise, float *y, float *w, da_draw *d) {
    d->pair[0] = d->pair[1] = d->chosen = -1;
    d->noise = NULL;
    switch (m) {
    case DA_DARTS:
        da_softmax(alpha, NULL, n, 1.0, y);
        memcpy(w, y, sizeof(float) * (size_t)n);
        return;
    case DA_FBNET:
    case DA_GDAS:
        da_gumbel(r, noise, n);
        d->noise = noise;
        da_softmax(alpha, noise, n, tau, y);
        if (m == DA_FBNET) {
            memcpy(w, y, sizeof(float) * (size_t)n);
            return;
        }
        d->chosen = argmax(y, n);
        break;
    case DA_PROXYLESS:
        da_softmax(alpha, NULL, n, 1.0, y);
        if (!alpha_step || n < 2) {
            d->chosen = draw(r, y, n, -1);
            break;
        }
        d->pair[0] = draw(r, y, n, -1);
        d->pair[1] = draw(r, y, n, d->pair[0]);
        {
            /* the gate: one of the pair, by the pair's renormalised softmax */
            float two[2] = {alpha[d->pair[0]], alpha[d->pair[1]]}, q[2];
            da_softmax(two, NULL, 2, 1.0, q);
            d->chosen = nasc_rng_uniform(r) < q[0] ? d->pair[0] : d->pair[1];
        }
        break;
    }
    for (int i = 0; i < n; i++) w[i] = i == d->chosen ? 1.0f : 0.0f;
}

void da_alpha_grad(da_method m, const float *alpha, const float *y, int n, double tau, const da_draw *d,
                   const float *gw, float *galpha) {
    memset(galpha, 0, sizeof(float) * (size_t)n);
    if (m == DA_PROXYLESS) {
        if (d->pair[0] < 0) return; /* a weight step: alpha does not move */
        /* binary gates over the pair: dL/dalpha_k = sum_j dL/dg_j q_j (delta_jk - q_k) */
        float two[2] = {alpha[d->pair[0]], alpha[d->pair[1]]}, q[2];
        da_softmax(two, NULL, 2, 1.0, q);
        for (int k = 0; k < 2; k++) {
            double s = 0;
            for (int j = 0; j < 2; j++) s += gw[d->pair[j]] * q[j] * ((j == k) - q[k]);
            galpha[d->pair[k]] = (float)s;
        }
        return;
    }
    /* softmax((alpha + g) / tau): dL/dalpha_k = y_k (gw_k - sum_i y_i gw_i) / tau */
    double t = m == DA_DARTS ? 1.0 : tau, dot = 0;
    for (int i = 0; i < n; i++) dot += (double)y[i] * gw[i];
    for (int k = 0; k < n; k++) galpha[k] = (float)(y[k] * (gw[k] - dot) / t);
}
