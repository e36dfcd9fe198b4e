/* search_overhead.c: what the search driver costs per trial.
 *
 * 1. For every strategy plugin found, a search of N trials (default
 *    10,000) over the fake test space with a trivial `pipe` evaluator at
 *    -j 1: wall time per trial, minus the evaluator's own round trip
 *    (measured alone), is the driver's overhead (strategy, store commits,
 *    worker messages).  Target: <= 1 ms for every strategy but TPE.
 * 2. Trials per minute with CPU-bound trials (~20 ms each) at -j 1 and
 *    -j 2, which shows whether the workers scale on this machine.
 * Build and run: see bench/README-search.md. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fixtures/search/fake_space.h"

static double g_t_eval;    /* evaluator alone, seconds per trial */
static int64_t g_finished; /* trials the last search finished */

/* The pipe evaluator by itself, driven by the same code the worker uses. */
static double evaluator_alone(const char *cmd, int n) {
    sr_eval_env env = {SR_EVAL_PIPE, cmd, &fk_iface, 0, 0};
    sr_evaluator *ev = sr_evaluator_new(&env);
    sr_metrics m;
    sr_metrics_init(&m);
    char err[500];
    int fatal;
    const char *pt = "{\"space\": \"Fake\", \"decisions\": {\"depth\": 2, \"act\": \"relu\", \"lr\": 0.01, "
                     "\"ins\": [\"a\", \"b\"]}}";
    sr_evaluator_run(ev, 0, pt, 1, NULL, &m, err, sizeof err, &fatal); /* start it */
    double t0 = sr_now();
    for (int i = 0; i < n; i++) sr_evaluator_run(ev, i, pt, 1, NULL, &m, err, sizeof err, &fatal);
    double t = (sr_now() - t0) / n;
    sr_metrics_free(&m);
    sr_evaluator_free(ev);
    return t;
}

static const char *v_name(const char *path) {
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static int run_one(const char *strategy, const char *cmd, int64_t trials, int jobs, int two_objectives,
                   double *secs, char *err, size_t cap) {
    char dir[1024], db[1100];
    fk_tmpdir(dir, sizeof dir, "bench");
    snprintf(db, sizeof db, "%s/run.db", dir);
    sr_config c = fk_config(db, SR_EVAL_PIPE, cmd, trials);
    c.strategy = strategy;
    c.jobs = jobs;
    sr_objective two[] = {{"accuracy", 1, NULL}, {"latency", 0, NULL}};
    if (two_objectives) {
        c.objectives = two;
        c.n_objectives = 2;
    }
    sr_summary s;
    double t0 = sr_now();
    int rc = sr_run(&c, &fk_iface, &s, err, cap);
    *secs = sr_now() - t0;
    g_finished = s.done + s.failed + s.infeasible;
    if (rc == 0 && g_finished < trials)
        fprintf(stderr, "  (%s: space exhausted after %lld trials)\n", v_name(strategy),
                (long long)g_finished);
    sr_summary_free(&s);
    return rc;
}

int main(int argc, char **argv) {
    int64_t trials = 10000;
    int cpu_trials = 60;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--trials"))
            trials = atoll(argv[i + 1]);
        else if (!strcmp(argv[i], "--cpu-trials"))
            cpu_trials = atoi(argv[i + 1]);
    }
    fk_init();
    const char *ev = fk_evaluator();
    if (!ev) {
        fprintf(stderr, "cannot build the evaluator fixture\n");
        return 1;
    }
    setenv("NASC_PLUGIN_PATH", NASC_BINARY_DIR "/plugins", 1);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "%s pipe", ev);
    g_t_eval = evaluator_alone(cmd, 5000);
    printf("pipe evaluator alone: %.1f us per trial\n", g_t_eval * 1e6);
    sr_plugin_info *v;
    int n;
    char err[1500];
    if (sr_plugins_list(&v, &n, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    printf("%-10s %8s %12s %14s %14s\n", "strategy", "trials", "wall s", "us/trial", "overhead us");
    for (int i = 0; i < n; i++) {
        if (v[i].error[0]) {
            printf("%-10s broken: %s\n", v[i].name, v[i].error);
            continue;
        }
        double secs;
        if (!strcmp(v[i].name, "grid"))
            fk_init_discrete(); /* grid refuses continuous decisions */
        else
            fk_init();
        int rc = run_one(v[i].path, cmd, trials, 1, 0, &secs, err, sizeof err);
        if (rc && strstr(err, "objective"))
            rc = run_one(v[i].path, cmd, trials, 1, 1, &secs, err, sizeof err);
        if (rc) {
            printf("%-10s error: %s\n", v[i].name, err);
            continue;
        }
        double per = secs / (double)g_finished;
        printf("%-10s %8lld %12.2f %14.1f %14.1f\n", v[i].name, (long long)g_finished, secs, per * 1e6,
               (per - g_t_eval) * 1e6);
        fflush(stdout);
    }
    sr_plugins_free(v, n);
    fk_init();
    snprintf(cmd, sizeof cmd, "%s pipe-spin", ev);
    double one = evaluator_alone(cmd, 5);
    printf("CPU-bound trial alone: %.1f ms\n", one * 1e3);
    for (int j = 1; j <= 2; j++) {
        double secs;
        if (run_one(NASC_BINARY_DIR "/plugins/nasc-random.so", cmd, cpu_trials, j, 0, &secs, err,
                    sizeof err)) {
            printf("-j %d: error: %s\n", j, err);
            continue;
        }
        printf("-j %d: %d CPU-bound trials in %.2f s = %.0f trials/minute\n", j, cpu_trials, secs,
               cpu_trials / secs * 60);
    }
    return 0;
}
