/* blas.c: CPU detection and OpenBLAS settings (see blas.h). */
#include <cblas.h>
#include <cpuid.h>
#include <stdint.h>
#include "blas.h"

/* XCR0 via xgetbv: which register states the OS saves. */
static uint64_t xcr0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static int is_intel(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d)) return 0;
    return b == 0x756e6547u && d == 0x49656e69u && c == 0x6c65746eu; /* "GenuineIntel" */
}

const char *rt_blas_wanted_coretype(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return NULL;
    int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, fma = (c >> 12) & 1;
    if (!osxsave || !avx) return NULL;
    uint64_t x = xcr0();
    if ((x & 0x6) != 0x6) return NULL; /* XMM and YMM state */
    if (__get_cpuid_max(0, NULL) < 7) return NULL;
    __cpuid_count(7, 0, a, b, c, d);
    int avx2 = (b >> 5) & 1, avx512f = (b >> 16) & 1, avx512bw = (b >> 30) & 1, avx512vl = (b >> 31) & 1;
    /* AVX-512 kernels only on Intel: on other vendors' AVX-512 parts older
     * OpenBLAS builds are known to misbehave (this workplace sets Haswell
     * on its AMD hosts for that reason), and Haswell kernels are safe. */
    if (avx512f && avx512bw && avx512vl && (x & 0xe0) == 0xe0 && is_intel()) return "SKYLAKEX";
    if (avx2 && fma) return "HASWELL";
    return NULL;
}

void rt_blas_set_threads(int n) { openblas_set_num_threads(n < 1 ? 1 : n); }

const char *rt_blas_corename(void) { return openblas_get_corename(); }
