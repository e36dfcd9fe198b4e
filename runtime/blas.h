/* blas.h: OpenBLAS configuration for the runtime.
 *
 * OpenBLAS 0.3.21 (Debian 12) does not recognise recent Intel CPUs and
 * falls back to SSE3 ("Prescott") kernels, 6-8x slower.  The core type
 * can only be forced through OPENBLAS_CORETYPE in the environment before
 * the library loads, so the tool re-executes itself with it set; these
 * helpers tell it what to set and report what is in use.
 */
#ifndef NASC_RT_BLAS_H
#define NASC_RT_BLAS_H

/* "SKYLAKEX" when the CPU and OS support AVX-512F, "HASWELL" with AVX2
 * only, otherwise NULL (let OpenBLAS decide). */
const char *rt_blas_wanted_coretype(void);
/* Number of threads of OpenBLAS's pool (n < 1 means 1). */
void rt_blas_set_threads(int n);
/* The core OpenBLAS actually uses, e.g. "SkylakeX" or "Prescott". */
const char *rt_blas_corename(void);

#endif
