/* reliab_overhead.c: what the defences of issue 9 cost (docs/reliability.md).
 *
 *  - the store lock: sr_lock_take + sr_lock_release (once per search),
 *    against its peer, opening and closing the store (also once per search);
 *  - per trial: the pipe reply check (two poll(0)s and a look-up) and the
 *    process-tree sweep after an exec evaluator (sr_kill_descendants on
 *    the calling process), against their peer, one pipe evaluator round
 *    trip and one exec evaluator run (fork + exec + wait).
 * Budget: each per-trial cost within 1 ms.  Prints the CPU with the
 * figures.  Build: cmake --build build --target reliab_overhead. */
#define _GNU_SOURCE
#include <dirent.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "fixtures/search/fake_space.h"
#include "sr_guard.h"

static void cpu(void) {
    FILE *f = popen("lscpu | grep 'Model name' | sed 's/^Model name: *//'", "r");
    char b[256] = "?";
    if (f && fgets(b, sizeof b, f)) b[strcspn(b, "\n")] = 0;
    if (f) pclose(f);
    printf("CPU: %s\n", b);
}

static int nprocs(void) {
    DIR *d = opendir("/proc");
    int k = 0;
    for (struct dirent *e; d && (e = readdir(d));) k += e->d_name[0] >= '1' && e->d_name[0] <= '9';
    if (d) closedir(d);
    return k;
}

static double per_call(double t0, int n) { return (sr_now() - t0) / n * 1e6; }

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 2000;
    cpu();
    fk_init();
    char dir[1024], db[1100], err[500];
    fk_tmpdir(dir, sizeof dir, "reliab_bench");
    snprintf(db, sizeof db, "%s/run.db", dir);
    sr_store *s;
    if (sr_store_open(db, 1, &s, err, sizeof err)) return fprintf(stderr, "%s\n", err), 1;
    sr_store_close(s);

    double t0 = sr_now();
    for (int i = 0; i < n; i++) {
        sr_lock *l;
        if (sr_lock_take(db, &l, err, sizeof err)) return fprintf(stderr, "%s\n", err), 1;
        sr_lock_release(l);
    }
    double lock = per_call(t0, n);
    t0 = sr_now();
    for (int i = 0; i < n; i++) {
        sr_store_open(db, 0, &s, err, sizeof err);
        sr_store_close(s);
    }
    double open = per_call(t0, n);

    int p[2];
    if (pipe(p)) return 1;
    sr_metrics m;
    sr_metrics_init(&m);
    sr_metrics_set(&m, "accuracy", 0.5);
    sr_metrics_set(&m, "trial", 3);
    t0 = sr_now();
    int hits = 0;
    for (int i = 0; i < n * 10; i++) {
        struct pollfd pf = {p[0], POLLIN, 0};
        hits += poll(&pf, 1, 0);
        hits += poll(&pf, 1, 0);
        double v;
        hits += sr_metrics_get(&m, "trial", &v);
    }
    double check = per_call(t0, n * 10);
    t0 = sr_now();
    for (int i = 0; i < n / 10 + 1; i++) hits += sr_kill_descendants(getpid());
    double sweep = per_call(t0, n / 10 + 1);

    const char *ev = fk_evaluator();
    if (!ev) return fprintf(stderr, "cannot build the evaluator fixture\n"), 1;
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "%s pipe", ev);
    sr_eval_env env = {SR_EVAL_PIPE, cmd, &fk_iface, 0, 0};
    sr_evaluator *e = sr_evaluator_new(&env);
    const char *pt = "{\"space\": \"Fake\", \"decisions\": {\"depth\": 2, \"act\": \"relu\", \"lr\": 0.01, "
                     "\"ins\": [\"a\", \"b\"]}}";
    int fatal;
    sr_evaluator_run(e, 0, pt, 1, NULL, &m, err, sizeof err, &fatal);
    t0 = sr_now();
    for (int i = 0; i < n; i++) sr_evaluator_run(e, i, pt, 1, NULL, &m, err, sizeof err, &fatal);
    double trip = per_call(t0, n);
    sr_evaluator_free(e);
    snprintf(cmd, sizeof cmd, "%s ok", ev);
    sr_eval_env env2 = {SR_EVAL_EXEC, cmd, &fk_iface, 0, 0};
    e = sr_evaluator_new(&env2);
    t0 = sr_now();
    for (int i = 0; i < n / 10 + 1; i++) sr_evaluator_run(e, i, pt, 1, NULL, &m, err, sizeof err, &fatal);
    double exec = per_call(t0, n / 10 + 1);
    sr_evaluator_free(e);
    sr_metrics_free(&m);

    printf("once per search: lock take+release %.1f us   peer: store open+close %.1f us   ratio %.2f\n", lock,
           open, lock / open);
    printf("per trial: pipe reply check %.2f us   peer: pipe round trip %.1f us (includes the check)   ratio "
           "%.4f\n",
           check, trip, check / trip);
    printf("per trial: process-tree sweep %.1f us (%d processes in /proc)   peer: exec evaluator run %.1f us "
           "(includes "
           "the sweep)   ratio %.3f\n",
           sweep, nprocs(), exec, sweep / exec);
    printf("budget: 1000 us per trial: reply check %s, sweep %s\n", check < 1000 ? "within" : "OVER",
           sweep < 1000 ? "within" : "OVER");
    return hits < 0;
}
