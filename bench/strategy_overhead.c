/* bench_overhead.c: per-trial cost of each strategy plugin's ask + tell.
 *
 * Not a test (timing never decides pass/fail): drives every plugin through
 * the in-test host of synth.h for 10,000 trials with an instant objective
 * and prints microseconds per trial, the strategy's share of the "overhead
 * per trial" figure of issue 4 (the host's store and evaluator costs come
 * on top).  Build by hand, e.g.
 *   cc -std=c11 -O2 -Iinclude -DNASC_BINARY_DIR='"build"' \
 *      tests/fixtures/strategies/bench_overhead.c -ldl -lm -o bench_overhead
 *   NASC_PLUGIN_DIR=build/plugins ./bench_overhead [trials]
 */
#define _POSIX_C_SOURCE 200809L
#include <time.h>

#include "synth.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); /* CPU time: the machine is shared */
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 10000;
    const char *names[] = {"random", "grid", "evolution", "local", "reinforce", "tpe", "hyperband", "nsga2"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        synth_plugin pl;
        char err[1200];
        if (synth_load(names[k], &pl, err, sizeof err) != 0) {
            printf("%-10s  not loaded: %s\n", names[k], err);
            continue;
        }
        synth_space s;
        synth_wide(&s, 10, strcmp(names[k], "grid") != 0, 1);
        synth_run r;
        double t0 = now();
        if (synth_drive(&pl, &s, NULL, 0, 1, n, 2, synth_obj_wide, &r) != 0 || r.ask_error) {
            printf("%-10s  failed: %s\n", names[k], r.err);
            synth_run_free(&r);
            continue;
        }
        double dt = now() - t0;
        printf("%-10s  %6d trials  %9.2f us CPU/trial (ask+tell+host normalize)  best %.3f\n", names[k], r.n,
               1e6 * dt / (r.n ? r.n : 1), r.best);
        synth_run_free(&r);
    }
    return 0;
}
