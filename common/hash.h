/* hash.h: the one string hash, 64-bit FNV-1a.
 *
 * Used for hash tables (labels) and for content hashes written to disk (a
 * run's source hash, checkpoint names), so its values must never change.
 * Note the offset basis: 1469598103934665603 is one digit short of the
 * published 14695981039346656037.  nasc has always used it and run stores
 * record hashes made with it, so it stays; the mixing is still FNV-1a. */
#ifndef NASC_COMMON_HASH_H
#define NASC_COMMON_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_FNV1A_SEED 1469598103934665603ull

/* FNV-1a of n bytes, continuing from h (start with HASH_FNV1A_SEED). */
static inline uint64_t hash_fnv1a_bytes(uint64_t h, const void *p, size_t n) {
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 1099511628211ull;
    return h;
}

/* FNV-1a of a NUL-terminated string (NULL hashes as ""). */
static inline uint64_t hash_fnv1a(const char *s) {
    uint64_t h = HASH_FNV1A_SEED;
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    return h;
}

#endif
