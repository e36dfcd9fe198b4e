/* bigint.h: exact non-negative integers of any size, for the cardinality
 * of a space (a 30-layer space has 10^55 points, a fuzzed one 10^2700:
 * the count must be exact, never a silently wrapped fixed-width number).
 * Limbs are malloc'ed, so a big value costs what its digits need. */
#ifndef NASC_BIGINT_H
#define NASC_BIGINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct bigint {
    int n, cap;  /* limbs in use, allocated */
    uint32_t *d; /* little-endian base-2^32 limbs; n == 0 is zero */
} bigint;

void bigint_init(bigint *b, uint64_t v); /* b = v (allocates) */
void bigint_free(bigint *b);
void bigint_set(bigint *b, uint64_t v);
void bigint_copy(bigint *dst, const bigint *src);
void bigint_mul_small(bigint *b, uint64_t m); /* b *= m */
void bigint_mul(bigint *a, const bigint *b);  /* a *= b */
void bigint_add(bigint *a, const bigint *b);  /* a += b */
bool bigint_is_zero(const bigint *b);
/* Decimal text, malloc'ed (caller frees); NULL when out of memory. */
char *bigint_str(const bigint *b);

#endif
