/* nasc/rng.h: the one pseudo-random generator of nasc.
 *
 * xoshiro256** (Blackman and Vigna) seeded through splitmix64, so any
 * 64-bit seed (0 included) gives a well-mixed state.  The host (runtime
 * initialisation, data shuffling, sampling a space) and the strategy
 * plugins all draw from this definition; plugins see only include/nasc/,
 * so it is header-only.  No global state: a generator is a value that its
 * owner seeds, which keeps every run reproducible from its seed.
 */
#ifndef NASC_RNG_H
#define NASC_RNG_H

#include <stdint.h>

typedef struct nasc_rng {
    uint64_t s[4];
} nasc_rng;

/* One step of splitmix64: advances *x and returns its mix.  Also usable on
 * its own as a small one-word generator. */
static inline uint64_t nasc_rng_splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline void nasc_rng_seed(nasc_rng *r, uint64_t seed) {
    for (int i = 0; i < 4; i++) r->s[i] = nasc_rng_splitmix64(&seed);
}

static inline uint64_t nasc_rng_rotl_(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t nasc_rng_next(nasc_rng *r) {
    uint64_t *s = r->s;
    uint64_t out = nasc_rng_rotl_(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = nasc_rng_rotl_(s[3], 45);
    return out;
}

/* Uniform in [0, 1) with 53 random bits. */
static inline double nasc_rng_uniform(nasc_rng *r) {
    return (double)(nasc_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Uniform integer in [0, n); n <= 1 gives 0 without drawing.  Rejecting the
 * short last bucket avoids modulo bias. */
static inline uint64_t nasc_rng_below(nasc_rng *r, uint64_t n) {
    if (n <= 1) return 0;
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = nasc_rng_next(r);
    while (x >= limit);
    return x % n;
}

#endif
