/* fuzz_front.c: the libFuzzer target over the front end: parse, check,
 * then instantiate points (sample one, print it as a point, load it back
 * and build its graph), as `nasc check` and `nasc show` would.
 *
 * Built with -DNASC_FUZZ=ON and clang-19 (bench/fuzz_front.sh runs it).
 * Without libFuzzer the same entry point is linked with replay_main.c into
 * the ctest `fuzz_replay`, which replays tests/fixtures/fuzz: every input
 * the fuzzer ever crashed on stays a regression test. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ast.h"
#include "space.h"

/* Exits nonzero on an internal error: that is a bug the fuzzer must find. */
static void no_internal(nasc_ctx *c) {
    if (c->n_internal == 0) return;
    char *s = diag_render_string(c);
    fprintf(stderr, "internal error:\n%s\n", s);
    free(s);
    abort();
}

static void instantiate(nasc_ctx *c, program *p, space_ir *s) {
    uint64_t rng = 1;
    assignment *a = asg_new(c, s);
    if (!space_sample(c, p, s, &rng, a, 4)) return;
    no_internal(c);
    char *json = point_json(c, s, a);
    space_ir *sp = s;
    assignment *b = NULL;
    ir_graph g = {0};
    if (point_load(c, p, &sp, json, "point", &b, &g)) {
        const char *bad = ir_graph_verify(&g, 0, (char[256]){0}, 256);
        if (bad) {
            fprintf(stderr, "graph of a sampled point fails the verifier: %s\n", bad);
            abort();
        }
    }
    no_internal(c);
}

/* The input goes through a file, as `nasc check FILE` reads it, so that
 * `import std.blocks` and `std.cells` resolve (the examples use them). */
static const char *input_path(void) {
    static char path[64];
    if (!path[0]) {
        snprintf(path, sizeof path, "/tmp/nasc_fuzz_%ld.nas", (long)getpid());
    }
    return path;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 20000) return 0; /* big files find nothing small ones do not, slower */
    FILE *fp = fopen(input_path(), "wb");
    if (!fp) return 0;
    fwrite(data, 1, size, fp);
    fclose(fp);
    nasc_ctx *c = ctx_new();
    c->max_errors = 5;
    vec_push(&c->A, c->include_dirs, NASC_SOURCE_DIR "/stdlib");
    ast_file *f = parse_program(c, input_path());
    remove(input_path());
    no_internal(c);
    if (f && !c->n_errors) {
        program *p = prog_check(c, f);
        no_internal(c);
        for (int i = 0; i < p->spaces.n && !c->n_errors; i++) instantiate(c, p, p->spaces.v[i]);
    }
    ctx_destroy(c);
    return 0;
}
