/* cg_print.h: how a model's outputs are printed, one line per sample.
 *
 * `nasc run` and the executables of `nasc build --emit exe` must print the
 * same bytes for the same input, so the formatting exists once, as a macro
 * that expands to a C function: the tool uses cg_print_row below, and the
 * emitter pastes the same text (CG_PRINT_SRC) into the generated main.
 * Format: the argmax class index (first maximum), or with logits every
 * output as "%.6g" separated by single spaces; then a newline.
 */
#ifndef NASC_CG_PRINT_H
#define NASC_CG_PRINT_H

#include <stdio.h>

#define CG_PRINT_FN(NAME)                                                                     \
    static inline void NAME(FILE *f, const float *y, long long n, int logits) {               \
        if (logits) {                                                                         \
            for (long long i = 0; i < n; i++) fprintf(f, i ? " %.6g" : "%.6g", (double)y[i]); \
        } else {                                                                              \
            long long best = 0;                                                               \
            for (long long i = 1; i < n; i++)                                                 \
                if (y[i] > y[best]) best = i;                                                 \
            fprintf(f, "%lld", best);                                                         \
        }                                                                                     \
        fputc('\n', f);                                                                       \
    }

CG_PRINT_FN(cg_print_row)

#define CG_STR_(...) #__VA_ARGS__
#define CG_STR(...)  CG_STR_(__VA_ARGS__)
/* The same function as C source, named nasc_print_row. */
#define CG_PRINT_SRC CG_STR(CG_PRINT_FN(nasc_print_row))

#endif
