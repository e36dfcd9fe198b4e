/* arena_probe.c: links a model object built by `nasc build --emit obj` and
 * reports what it really allocates (tests/cli/footprint.sh): malloc is
 * wrapped (-Wl,--wrap=malloc) and the largest request of one call at
 * batch B is printed.  Usage: arena_probe B (the model is NASC_SYM). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int NASC_SYM(const float *in, float *out, int64_t batch);
void *__real_malloc(size_t n);
static size_t largest;
void *__wrap_malloc(size_t n) {
    if (n > largest) largest = n;
    return __real_malloc(n);
}

int main(int argc, char **argv) {
    long long b = argc > 1 ? atoll(argv[1]) : 1;
    float *in = calloc((size_t)(b * IN_N), sizeof *in), *out = calloc((size_t)(b * OUT_N), sizeof *out);
    if (!in || !out) return 2;
    largest = 0;
    if (NASC_SYM(in, out, b)) return 1;
    printf("%zu\n", largest);
    free(in);
    free(out);
    return 0;
}
