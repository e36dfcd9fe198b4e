/* bigint.c: arbitrary-precision non-negative integers (bigint.h).
 *
 * Only what counting needs: multiply by a word or a bigint, add, print.
 * Multiplication is schoolbook (quadratic): counts are products of a few
 * hundred factors, so operands stay far below the size where a faster
 * algorithm would pay.  Printing divides by 10^9 per step, so printing a
 * number of d digits costs O(d^2 / 81) word operations. */
#include "bigint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Allocation failure is not recoverable here and cannot be reported from
 * this depth; a count never needs more than a few kilobytes. */
static void reserve(bigint *b, int n) {
    if (n <= b->cap) return;
    int cap = b->cap ? b->cap : 4;
    while (cap < n) cap *= 2;
    uint32_t *d = realloc(b->d, (size_t)cap * sizeof *d);
    if (!d) abort();
    memset(d + b->cap, 0, (size_t)(cap - b->cap) * sizeof *d);
    b->d = d;
    b->cap = cap;
}

static void trim(bigint *b) {
    while (b->n && !b->d[b->n - 1]) b->n--;
}

void bigint_set(bigint *b, uint64_t v) {
    reserve(b, 2);
    b->n = 0;
    while (v) {
        b->d[b->n++] = (uint32_t)v;
        v >>= 32;
    }
}

void bigint_init(bigint *b, uint64_t v) {
    memset(b, 0, sizeof *b);
    bigint_set(b, v);
}

void bigint_free(bigint *b) {
    free(b->d);
    memset(b, 0, sizeof *b);
}

void bigint_copy(bigint *dst, const bigint *src) {
    reserve(dst, src->n + 1);
    memcpy(dst->d, src->d, (size_t)src->n * sizeof *src->d);
    dst->n = src->n;
}

bool bigint_is_zero(const bigint *b) { return b->n == 0; }

void bigint_mul_small(bigint *b, uint64_t m) {
    bigint t;
    bigint_init(&t, m);
    bigint_mul(b, &t);
    bigint_free(&t);
}

void bigint_mul(bigint *a, const bigint *b) {
    if (!a->n || !b->n) {
        a->n = 0;
        return;
    }
    int n = a->n + b->n;
    uint32_t *r = calloc((size_t)n, sizeof *r);
    if (!r) abort();
    for (int i = 0; i < a->n; i++) {
        uint64_t carry = 0;
        for (int j = 0; j < b->n; j++) {
            uint64_t cur = r[i + j] + carry + (uint64_t)a->d[i] * b->d[j];
            r[i + j] = (uint32_t)cur;
            carry = cur >> 32;
        }
        for (int k = i + b->n; carry; k++) {
            uint64_t cur = r[k] + carry;
            r[k] = (uint32_t)cur;
            carry = cur >> 32;
        }
    }
    free(a->d);
    a->d = r;
    a->n = a->cap = n;
    trim(a);
}

void bigint_add(bigint *a, const bigint *b) {
    int n = (a->n > b->n ? a->n : b->n) + 1;
    reserve(a, n);
    uint64_t carry = 0;
    for (int i = 0; i < n; i++) {
        uint64_t cur = carry + (i < a->n ? a->d[i] : 0) + (i < b->n ? b->d[i] : 0);
        a->d[i] = (uint32_t)cur;
        carry = cur >> 32;
    }
    a->n = n;
    trim(a);
}

char *bigint_str(const bigint *b) {
    /* base 10^9 chunks, least significant first */
    int nl = b->n;
    uint32_t *t = malloc((size_t)(nl + 1) * sizeof *t);
    uint32_t *chunks = malloc((size_t)(nl * 10 / 9 + 2) * sizeof *chunks);
    if (!t || !chunks) {
        free(t);
        free(chunks);
        return NULL;
    }
    if (nl) memcpy(t, b->d, (size_t)nl * sizeof *t);
    int nc = 0;
    while (nl) {
        uint64_t rem = 0;
        for (int i = nl - 1; i >= 0; i--) {
            uint64_t cur = (rem << 32) | t[i];
            t[i] = (uint32_t)(cur / 1000000000u);
            rem = cur % 1000000000u;
        }
        chunks[nc++] = (uint32_t)rem;
        while (nl && !t[nl - 1]) nl--;
    }
    char *out = malloc((size_t)nc * 9 + 2);
    if (!out) {
        free(t);
        free(chunks);
        return NULL;
    }
    if (!nc) {
        strcpy(out, "0");
    } else {
        int k = sprintf(out, "%u", chunks[nc - 1]);
        for (int i = nc - 2; i >= 0; i--) k += sprintf(out + k, "%09u", chunks[i]);
    }
    free(t);
    free(chunks);
    return out;
}
