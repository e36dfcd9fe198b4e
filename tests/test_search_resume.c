/* test_search_resume.c: a faithful resume, for every shipped strategy.
 * A search killed (SIGKILL) at 5 random moments and resumed each time ends
 * with exactly the trials of the same search run uninterrupted: the same
 * points at the same fidelities in the same order.  And the result cache:
 * a point already evaluated at a fidelity never reaches the evaluator
 * again, its trial is marked answered by the cache, and --trials counts
 * evaluations. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <time.h>
#include "fixtures/search/fake_space.h"

typedef struct rows {
    sr_trial_row *t;
    int n;
} rows;

static rows load_rows(const char *db) {
    sr_store *s;
    char err[500];
    rows r;
    cr_assert_eq(sr_store_open(db, 0, &s, err, sizeof err), 0, "%s", err);
    cr_assert_eq(sr_store_trials(s, &r.t, &r.n, err, sizeof err), 0, "%s", err);
    sr_store_close(s);
    return r;
}

static sr_config strategy_config(const char *db, const char *strategy, const char *cmd) {
    sr_config c = fk_config(db, SR_EVAL_EXEC, cmd, 24);
    static char so[1100];
    snprintf(so, sizeof so, NASC_BINARY_DIR "/plugins/nasc-%s.so", strategy);
    c.strategy = so;
    return c;
}

static void run_to_end(sr_config *c) {
    sr_summary s;
    char err[1500] = "";
    cr_assert_eq(sr_run(c, &fk_iface, &s, err, sizeof err), 0, "%s: %s", c->strategy, err);
    sr_summary_free(&s);
}

/* Trials in the store so far (0 before it exists), read-only. */
static int trials_in(const char *db) {
    sqlite3 *h;
    int n = 0;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_busy_timeout(h, 2000);
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(h, "SELECT count(*) FROM trials", -1, &st, NULL) == SQLITE_OK) {
            if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int(st, 0);
            sqlite3_finalize(st);
        }
    }
    sqlite3_close(h);
    return n;
}

/* Kills a run of c once the store holds `at` trials, `us` microseconds
 * later (a random moment within the trial: asking, evaluating, storing),
 * or lets it end first.  Returns 1 when it was killed. */
static int run_and_kill(sr_config *c, const char *db, int at, long us) {
    pid_t pid = fork();
    if (pid == 0) {
        sr_summary s;
        char err[1500];
        _exit(sr_run(c, &fk_iface, &s, err, sizeof err) ? 1 : 0);
    }
    int st;
    while (trials_in(db) < at && waitpid(pid, &st, WNOHANG) == 0) usleep(500);
    struct timespec ts = {0, us * 1000};
    nanosleep(&ts, NULL);
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    return WIFSIGNALED(st);
}

static void check_resume(const char *strategy) {
    fk_init();
    if (!strcmp(strategy, "grid")) fk_init_discrete();
    const char *ev = fk_evaluator();
    cr_assert_not_null(ev);
    char dir[1024], ref[1100], db[1100], cmd[1200];
    fk_tmpdir(dir, sizeof dir, strategy);
    snprintf(ref, sizeof ref, "%s/ref.db", dir);
    snprintf(db, sizeof db, "%s/killed.db", dir);
    snprintf(cmd, sizeof cmd, "%s ok --sleep-ms 3", ev);
    sr_config c = strategy_config(ref, strategy, cmd);
    run_to_end(&c);
    rows want = load_rows(ref);
    cr_assert_geq(want.n, 24, "%s: the reference run made its trials", strategy);

    c = strategy_config(db, strategy, cmd);
    unsigned seed = 12345u + (unsigned)strlen(strategy);
    int kills = 0;
    int at = 0;
    for (int i = 0; i < 5; i++) {
        at += 1 + (int)(rand_r(&seed) % 4); /* kill points spread over the first 20 trials */
        long us = (long)(rand_r(&seed) % 4000);
        kills += run_and_kill(&c, db, at, us);
        c.resume = 1; /* a store killed before its run row resumes as a fresh start */
    }
    cr_assert_geq(kills, 4, "%s: the search was still running when killed (%d of 5)", strategy, kills);
    c.resume = 1;
    run_to_end(&c);
    rows got = load_rows(db);
    cr_assert_eq(got.n, want.n, "%s: %d trials after 5 kills, %d uninterrupted", strategy, got.n, want.n);
    for (int i = 0; i < want.n; i++) {
        cr_assert_eq(got.t[i].id, want.t[i].id);
        cr_assert_str_eq(got.t[i].point, want.t[i].point, "%s: trial %lld", strategy,
                         (long long)want.t[i].id);
        cr_assert_eq(got.t[i].fidelity, want.t[i].fidelity, "%s: trial %lld fidelity", strategy,
                     (long long)want.t[i].id);
        cr_assert_str_eq(got.t[i].status, want.t[i].status, "%s: trial %lld", strategy,
                         (long long)want.t[i].id);
        cr_assert_str_eq(got.t[i].answered, want.t[i].answered, "%s: trial %lld", strategy,
                         (long long)want.t[i].id);
    }
    sr_trials_free(want.t, want.n);
    sr_trials_free(got.t, got.n);
}

Test(search_resume, random) { check_resume("random"); }
Test(search_resume, grid) { check_resume("grid"); }
Test(search_resume, evolution) { check_resume("evolution"); }
Test(search_resume, local) { check_resume("local"); }
Test(search_resume, reinforce) { check_resume("reinforce"); }
Test(search_resume, tpe) { check_resume("tpe"); }
Test(search_resume, hyperband) { check_resume("hyperband"); }
Test(search_resume, nsga2) { check_resume("nsga2"); }
Test(search_resume, bananas) { check_resume("bananas"); }
Test(search_resume, predictor) { check_resume("predictor"); }

/* With -j 2 the order results arrive in depends on timing, so the
 * uninterrupted run is not one sequence; what holds is that each resume
 * replays the run's asks and tells in their order: the strategy proposes
 * every stored point again (no warning), and the budget of evaluations
 * ends exactly. */
static void check_parallel_resume(const char *strategy) {
    fk_init();
    const char *ev = fk_evaluator();
    char dir[1024], db[1100], cmd[1200], log[1200];
    fk_tmpdir(dir, sizeof dir, strategy);
    snprintf(db, sizeof db, "%s/j2.db", dir);
    snprintf(log, sizeof log, "%s/progress.txt", dir);
    snprintf(cmd, sizeof cmd, "%s ok --sleep-ms 5", ev);
    sr_config c = strategy_config(db, strategy, cmd);
    c.jobs = 2;
    unsigned seed = 99u;
    int at = 0;
    for (int i = 0; i < 4; i++) {
        at += 2 + (int)(rand_r(&seed) % 4);
        run_and_kill(&c, db, at, (long)(rand_r(&seed) % 4000));
        c.resume = 1;
    }
    c.progress_fp = fopen(log, "w");
    run_to_end(&c);
    fclose(c.progress_fp);
    FILE *f = fopen(log, "r");
    char text[65536];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = 0;
    fclose(f);
    cr_assert_null(strstr(text, "did not propose again"), "%s: %s", strategy, text);
    rows r = load_rows(db);
    int evaluated = 0;
    for (int i = 0; i < r.n; i++) {
        cr_assert_str_neq(r.t[i].status, "running");
        evaluated += !strcmp(r.t[i].answered, "evaluator");
        cr_assert_gt(r.t[i].asked, 0, "every ask numbered");
        cr_assert(r.t[i].told > r.t[i].asked, "told after asked");
    }
    cr_assert_eq(evaluated, 24, "%s: the budget counts evaluations across the kills", strategy);
    sr_trials_free(r.t, r.n);
}

Test(search_resume, parallel_evolution) { check_parallel_resume("evolution"); }
Test(search_resume, parallel_hyperband) { check_parallel_resume("hyperband"); }
Test(search_resume, parallel_tpe) { check_parallel_resume("tpe"); }

/* An exec evaluator that appends every point it gets to a file. */
static void counting_evaluator(const char *dir, char *cmd, size_t cap, char *log, size_t logcap) {
    snprintf(log, logcap, "%s/calls.txt", dir);
    char sh[1100];
    snprintf(sh, sizeof sh, "%s/eval.sh", dir);
    FILE *f = fopen(sh, "w");
    cr_assert_not_null(f);
    fprintf(f, "#!/bin/sh\nread p\necho \"$p\" >> '%s'\nexec '%s' ok <<EOF\n$p\nEOF\n", log, fk_evaluator());
    fclose(f);
    chmod(sh, 0755);
    snprintf(cmd, cap, "'%s'", sh);
}

static int count_lines(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int n = 0, ch;
    while ((ch = fgetc(f)) != EOF) n += ch == '\n';
    fclose(f);
    return n;
}

Test(search_resume, cache_hits_never_call_the_evaluator) {
    fk_init_discrete(); /* lr from 3 values: evolution proposes points again */
    char dir[1024], db[1100], cmd[1200], log[1100];
    fk_tmpdir(dir, sizeof dir, "cache");
    snprintf(db, sizeof db, "%s/run.db", dir);
    counting_evaluator(dir, cmd, sizeof cmd, log, sizeof log);
    sr_config c = fk_config(db, SR_EVAL_EXEC, cmd, 30);
    c.strategy = NASC_BINARY_DIR "/plugins/nasc-evolution.so";
    nasc_option opts[] = {{"population", "4"}, {"sample", "2"}};
    c.strategy_opts = opts;
    c.n_strategy_opts = 2;
    sr_summary s;
    char err[1500] = "";
    cr_assert_eq(sr_run(&c, &fk_iface, &s, err, sizeof err), 0, "%s", err);
    cr_assert_eq(s.evaluated, 30, "--trials counts evaluations");
    cr_assert_gt(s.cached, 0, "evolution on a small space proposes points again");
    rows r = load_rows(db);
    int evaluated = 0, cached = 0;
    for (int i = 0; i < r.n; i++) {
        const sr_trial_row *t = &r.t[i];
        if (!strcmp(t->answered, "cache")) {
            cached++;
            int earlier = 0;
            for (int j = 0; j < i; j++)
                earlier |= !strcmp(r.t[j].answered, "evaluator") && !strcmp(r.t[j].point, t->point) &&
                           r.t[j].fidelity == t->fidelity && !strcmp(r.t[j].status, t->status);
            cr_assert(earlier, "trial %lld answered from an earlier evaluation of its point",
                      (long long)t->id);
        } else if (!strcmp(t->answered, "evaluator")) {
            evaluated++;
            for (int j = 0; j < i; j++)
                cr_assert(!(!strcmp(r.t[j].answered, "evaluator") && !strcmp(r.t[j].point, t->point) &&
                            r.t[j].fidelity == t->fidelity && strcmp(r.t[j].status, "failed")),
                          "trial %lld evaluates the point of trial %lld again", (long long)t->id,
                          (long long)r.t[j].id);
        }
    }
    cr_assert_eq(cached, s.cached);
    cr_assert_eq(evaluated, 30);
    cr_assert_eq(count_lines(log), 30, "the evaluator ran once per evaluation, never for a cache hit");
    /* resumed to a larger budget: the cache is rebuilt from the store */
    c.resume = 1;
    c.trials = 36;
    sr_summary_free(&s);
    cr_assert_eq(sr_run(&c, &fk_iface, &s, err, sizeof err), 0, "%s", err);
    cr_assert_eq(s.evaluated, 36);
    cr_assert_eq(count_lines(log), 36, "after resume too, no point is evaluated twice");
    sr_summary_free(&s);
    sr_trials_free(r.t, r.n);
}
