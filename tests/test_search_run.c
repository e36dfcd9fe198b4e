/* test_search_run.c: whole searches with the fake space: the exec, pipe
 * and builtin evaluators and their failure modes (exit codes, bad output,
 * timeouts, crashes, NaN, memory limits), -j 2, objectives and limits,
 * several objectives, and the store's resume after SIGKILL and Ctrl-C. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <fcntl.h>
#include <sys/wait.h>
#include "fixtures/search/fake_space.h"

typedef struct run_out {
    sr_trial_row *t;
    int n;
    int64_t by[4]; /* done failed infeasible running */
} run_out;

static void load(const char *db, run_out *r) {
    sr_store *s;
    char err[500];
    cr_assert_eq(sr_store_open(db, 0, &s, err, sizeof err), 0, "%s", err);
    cr_assert_eq(sr_store_trials(s, &r->t, &r->n, err, sizeof err), 0, "%s", err);
    sr_store_close(s);
    memset(r->by, 0, sizeof r->by);
    for (int i = 0; i < r->n; i++) {
        const char *st = r->t[i].status;
        r->by[!strcmp(st, "done") ? 0 : !strcmp(st, "failed") ? 1 : !strcmp(st, "infeasible") ? 2 : 3]++;
    }
}

static int depth_of(const sr_trial_row *t) {
    const char *p = strstr(t->point, "\"depth\": ");
    return p ? atoi(p + 9) : -1;
}

static double metric(const sr_trial_row *t, const char *name) {
    sr_metrics m;
    sr_metrics_init(&m);
    char err[200];
    double v = NAN;
    if (t->metrics && !sr_metrics_from_json(t->metrics, &m, err, sizeof err)) sr_metrics_get(&m, name, &v);
    sr_metrics_free(&m);
    return v;
}

/* Runs a search with an exec evaluator in `mode` and returns the store. */
static void run_exec_mode(const char *mode, int64_t trials, double timeout, run_out *r, int expect_rc) {
    fk_init();
    const char *ev = fk_evaluator();
    cr_assert_not_null(ev);
    char dir[1024], db[1100], cmd[1200];
    fk_tmpdir(dir, sizeof dir, mode);
    snprintf(db, sizeof db, "%s/run.db", dir);
    snprintf(cmd, sizeof cmd, "'%s' %s", ev, mode);
    sr_config c = fk_config(db, SR_EVAL_EXEC, cmd, trials);
    c.timeout = timeout;
    sr_summary s;
    char err[1500] = "";
    int rc = sr_run(&c, &fk_iface, &s, err, sizeof err);
    cr_assert_eq(rc, expect_rc, "sr_run: %s", err);
    sr_summary_free(&s);
    load(db, r);
}

Test(search_run, exec_evaluator_success) {
    fk_init();
    const char *ev = fk_evaluator();
    cr_assert_not_null(ev);
    char dir[1024], db[1100], cmd[1200];
    fk_tmpdir(dir, sizeof dir, "exec_ok");
    snprintf(db, sizeof db, "%s/run.db", dir);
    snprintf(cmd, sizeof cmd, "%s ok", ev);
    sr_config c = fk_config(db, SR_EVAL_EXEC, cmd, 12);
    sr_summary s;
    char err[1500] = "";
    cr_assert_eq(sr_run(&c, &fk_iface, &s, err, sizeof err), 0, "%s", err);
    cr_assert_eq(s.done + s.infeasible, 12);
    cr_assert_geq(s.best_trial, 1);
    cr_assert_not_null(s.best_point);
    run_out r;
    load(db, &r);
    cr_assert_eq(r.n, 12);
    double best = -1;
    int64_t best_id = -1;
    for (int i = 0; i < r.n; i++) {
        cr_assert_eq(r.t[i].id, i + 1);
        if (strcmp(r.t[i].status, "done")) continue;
        cr_assert_eq(metric(&r.t[i], "trial"), (double)r.t[i].id, "NASC_TRIAL is the trial id");
        cr_assert_eq(metric(&r.t[i], "fidelity"), 4, "NASC_FIDELITY is the space's max fidelity");
        cr_assert(metric(&r.t[i], "params") > 0, "static metrics are added");
        double acc = metric(&r.t[i], "accuracy");
        if (acc > best) {
            best = acc;
            best_id = r.t[i].id;
        }
        cr_assert(r.t[i].finished >= r.t[i].started && r.t[i].duration > 0);
    }
    cr_assert_eq(s.best_trial, best_id);
    /* best point written next to the store, as a point file */
    FILE *f = fopen(s.best_json_path, "r");
    cr_assert_not_null(f, "%s", s.best_json_path);
    char line[2000] = "";
    cr_assert_not_null(fgets(line, sizeof line, f));
    fclose(f);
    cr_assert(strstr(line, "\"space\": \"Fake\""), "%s", line);
    cr_assert(strstr(s.best_json_path, "/run.best.json"));
    sr_trials_free(r.t, r.n);
    sr_summary_free(&s);
}

/* Every trial fails with a reason containing `why`. */
static void expect_all_failed(const char *mode, const char *why) {
    run_out r;
    run_exec_mode(mode, 3, 0, &r, 0);
    cr_assert_eq(r.n, 3);
    for (int i = 0; i < r.n; i++) {
        if (!strcmp(r.t[i].status, "infeasible")) continue;
        cr_assert_str_eq(r.t[i].status, "failed", "%s: trial %d", mode, i + 1);
        cr_assert(r.t[i].error && strstr(r.t[i].error, why), "%s: reason '%s' lacks '%s'", mode, r.t[i].error,
                  why);
    }
    sr_trials_free(r.t, r.n);
}

Test(search_run, exec_nonzero_exit_keeps_stderr) {
    expect_all_failed("exit3", "exited with status 3; stderr: something went wrong boom");
}
Test(search_run, exec_bad_json) { expect_all_failed("badjson", "not a JSON object of numbers"); }
Test(search_run, exec_not_numbers) { expect_all_failed("notnum", "'accuracy' is not a number"); }
Test(search_run, exec_no_output) { expect_all_failed("empty", "printed nothing"); }
Test(search_run, exec_crash) { expect_all_failed("crash", "killed by SIGSEGV"); }
Test(search_run, exec_nan_metric) { expect_all_failed("nan", "metric 'accuracy' is NaN"); }
Test(search_run, exec_missing_objective_metric) {
    expect_all_failed("noacc", "objective needs 'accuracy' but the evaluator did not report it");
}

Test(search_run, exec_missing_command_stops_search) {
    fk_init();
    char dir[1024], db[1100];
    fk_tmpdir(dir, sizeof dir, "nocmd");
    snprintf(db, sizeof db, "%s/run.db", dir);
    sr_config c = fk_config(db, SR_EVAL_EXEC, "/nonexistent/evaluator --x", 50);
    sr_summary s;
    char err[1500] = "";
    cr_assert_eq(sr_run(&c, &fk_iface, &s, err, sizeof err), -1);
    cr_assert(strstr(err, "cannot run '/nonexistent/evaluator'"), "%s", err);
    cr_assert_lt(s.failed, 50, "the budget is not burnt on a command that cannot run");
    sr_summary_free(&s);
}

Test(search_run, exec_timeout_kills_and_goes_on) {
    run_out r;
    run_exec_mode("hang3", 8, 0.8, &r, 0);
    int timed_out = 0, done = 0;
    for (int i = 0; i < r.n; i++) {
        if (!strcmp(r.t[i].status, "infeasible")) continue;
        if (depth_of(&r.t[i]) == 3) {
            cr_assert_str_eq(r.t[i].status, "failed");
            cr_assert(strstr(r.t[i].error, "timed out after 0.8s"), "%s", r.t[i].error);
            timed_out++;
        } else {
            cr_assert_str_eq(r.t[i].status, "done");
            done++;
        }
    }
    cr_assert_eq(r.n, 8);
    cr_assert(timed_out > 0 && done > 0, "timed out %d, done %d", timed_out, done);
    sr_trials_free(r.t, r.n);
}

Test(search_run, pipe_evaluator_in_order) {
    fk_init();
    const char *ev = fk_evaluator();
    char dir[1024], db[1100], cmd[1200];
    fk_tmpdir(dir, sizeof dir, "pipe");
    snprintf(db, sizeof db, "%s/run.db", dir);
    snprintf(cmd, sizeof cmd, "%s pipe", ev);
    sr_config c = fk_config(db, SR_EVAL_PIPE, cmd, 60);
    c.jobs = 2;
    sr_summary s;
    char err[1500] = "";
    cr_assert_eq(sr_run(&c, &fk_iface, &s, err, sizeof err), 0, "%s", err);
    run_out r;
    load(db, &r);
    cr_assert_eq(r.n, 60);
    cr_assert_eq(r.by[1] + r.by[3], 0, "no failure");
    for (int i = 0; i < r.n; i++) {
        if (strcmp(r.t[i].status, "done")) continue;
        cr_assert_eq(metric(&r.t[i], "trial"), (double)r.t[i].id, "each reply belongs to its own trial");
        cr_assert(metric(&r.t[i], "latency") == 100.0 * depth_of(&r.t[i]));
    }
    sr_trials_free(r.t, r.n);
    sr_summary_free(&s);
}

Test(search_run, pipe_evaluator_death_restarts) {
    fk_init();
    const char *ev = fk_evaluator();
    char dir[1024], db[1100], cmd[1200];
    fk_tmpdir(dir, sizeof dir, "pipedie");
    snprintf(db, sizeof db, "%s/run.db", dir);
    snprintf(cmd, sizeof cmd, "%s pipe-die3", ev);
    sr_config c = fk_config(db, SR_EVAL_PIPE, cmd, 15);
    sr_summary s;
    char err[1500] = "";
    cr_assert_eq(sr_run(&c, &fk_iface, &s, err, sizeof err), 0, "%s", err);
    run_out r;
    load(db, &r);
    int died = 0, done_after = 0;
    for (int i = 0; i < r.n; i++) {
        if (depth_of(&r.t[i]) == 3 && strcmp(r.t[i].status, "infeasible")) {
            cr_assert_str_eq(r.t[i].status, "failed");
            cr_assert(strstr(r.t[i].error, "exited with status 9; stderr: pipe evaluator dying (restarted)"),
                      "%s", r.t[i].error);
            died++;
        } else if (died && !strcmp(r.t[i].status, "done")) {
            done_after++;
        }
    }
    cr_assert(died > 0 && done_after > 0, "died %d, done after a death %d", died, done_after);
    sr_trials_free(r.t, r.n);
    sr_summary_free(&s);
}

/* A builtin-evaluator search with fk_mode set; returns the store. */
static void run_builtin(int mode, double timeout, double memlimit, int jobs, int64_t trials, run_out *r) {
    fk_init();
    fk_mode = mode;
    char dir[1024], db[1100], name[32];
    snprintf(name, sizeof name, "builtin%d", mode);
    fk_tmpdir(dir, sizeof dir, name);
    snprintf(db, sizeof db, "%s/run.db", dir);
    sr_config c = fk_config(db, SR_EVAL_BUILTIN, NULL, trials);
    c.timeout = timeout;
    c.memory_limit = memlimit;
    c.jobs = jobs;
    sr_summary s;
    char err[1500] = "";
    cr_assert_eq(sr_run(&c, &fk_iface, &s, err, sizeof err), 0, "%s", err);
    load(db, r);
    if (s.best_trial > 0) {
        cr_assert(s.best_weights_path[0], "the best point's weights are copied next to the store");
        cr_assert(strstr(s.best_weights_path, "run.best.safetensors"));
        FILE *f = fopen(s.best_weights_path, "r");
        char line[2000] = "";
        cr_assert_not_null(f);
        cr_assert_not_null(fgets(line, sizeof line, f));
        fclose(f);
        cr_assert(strstr(line, s.best_point), "the weights are the best trial's");
    }
    sr_summary_free(&s);
}

/* Depth-3 trials fail with `why`; the others succeed. */
static void expect_depth3_failed(run_out *r, const char *why) {
    int failed = 0, done = 0;
    for (int i = 0; i < r->n; i++) {
        if (!strcmp(r->t[i].status, "infeasible")) continue;
        if (depth_of(&r->t[i]) == 3) {
            cr_assert_str_eq(r->t[i].status, "failed", "trial %lld", (long long)r->t[i].id);
            cr_assert(strstr(r->t[i].error, why), "'%s' lacks '%s'", r->t[i].error, why);
            failed++;
        } else {
            cr_assert_str_eq(r->t[i].status, "done", "trial %lld: %s", (long long)r->t[i].id, r->t[i].error);
            done++;
        }
    }
    cr_assert(failed > 0 && done > 0, "failed %d done %d", failed, done);
    sr_trials_free(r->t, r->n);
}

Test(search_run, builtin_crashing_worker_is_replaced) {
    run_out r;
    run_builtin(1, 0, 0, 1, 12, &r);
    expect_depth3_failed(&r, "the worker crashed (SIGABRT)");
}

Test(search_run, builtin_hang_times_out) {
    run_out r;
    run_builtin(2, 0.6, 0, 2, 8, &r);
    expect_depth3_failed(&r, "timed out after 0.6s");
}

Test(search_run, builtin_nan_fails) {
    run_out r;
    run_builtin(3, 0, 0, 1, 10, &r);
    expect_depth3_failed(&r, "metric 'accuracy' is NaN");
}

#if !defined(__SANITIZE_ADDRESS__)
/* (ASan reserves terabytes of address space, so RLIMIT_AS cannot be tested under it.) */
Test(search_run, builtin_memory_limit) {
    run_out r;
    run_builtin(4, 0, 512.0 * 1048576, 1, 10, &r);
    expect_depth3_failed(&r, "out of memory");
}
#endif

Test(search_run, two_workers_share_the_trials) {
    fk_init();
    const char *ev = fk_evaluator();
    char dir[1024], db[1100], cmd[1200];
    fk_tmpdir(dir, sizeof dir, "j2");
    snprintf(db, sizeof db, "%s/run.db", dir);
    snprintf(cmd, sizeof cmd, "%s ok --sleep-ms 30", ev);
    sr_config c = fk_config(db, SR_EVAL_EXEC, cmd, 16);
    c.jobs = 2;
    sr_summary s;
    char err[1500] = "";
    cr_assert_eq(sr_run(&c, &fk_iface, &s, err, sizeof err), 0, "%s", err);
    run_out r;
    load(db, &r);
    cr_assert_eq(r.n, 16);
    int used[2] = {0, 0}, overlap = 0;
    for (int i = 0; i < r.n; i++) {
        if (strcmp(r.t[i].status, "done")) continue;
        cr_assert(r.t[i].worker == 0 || r.t[i].worker == 1);
        used[r.t[i].worker]++;
        for (int j = 0; j < r.n; j++) /* two trials ran at the same time */
            if (j != i && !strcmp(r.t[j].status, "done") && r.t[j].started < r.t[i].finished &&
                r.t[i].started < r.t[j].finished)
                overlap = 1;
    }
    cr_assert(used[0] > 0 && used[1] > 0, "both workers evaluated trials (%d, %d)", used[0], used[1]);
    cr_assert(overlap, "several asks outstanding at once");
    sr_trials_free(r.t, r.n);
    sr_summary_free(&s);
}

Test(search_run, limits_static_and_dynamic) {
    fk_init();
    const char *ev = fk_evaluator();
    char dir[1024], db[1100], cmd[1200];
    fk_tmpdir(dir, sizeof dir, "limits");
    snprintf(db, sizeof db, "%s/run.db", dir);
    snprintf(cmd, sizeof cmd, "%s ok", ev);
    sr_config c = fk_config(db, SR_EVAL_EXEC, cmd, 30);
    sr_expr *lp = sr_expr_bin(SR_EX_LT, sr_expr_metric("params", 1), sr_expr_num(100 * sr_unit_scale("k")));
    sr_expr *ll = sr_expr_bin(SR_EX_LT, sr_expr_metric("latency", 1), sr_expr_num(250 * sr_unit_scale("us")));
    sr_limit lim[] = {{"params < 100k", lp}, {"latency < 250us", ll}};
    c.limits = lim;
    c.n_limits = 2;
    sr_summary s;
    char err[1500] = "";
    cr_assert_eq(sr_run(&c, &fk_iface, &s, err, sizeof err), 0, "%s", err);
    run_out r;
    load(db, &r);
    int pre = 0, post = 0;
    for (int i = 0; i < r.n; i++) {
        const sr_trial_row *t = &r.t[i];
        double params = metric(t, "params");
        if (!strcmp(t->status, "done")) {
            cr_assert_lt(params, 100000);
            cr_assert_lt(metric(t, "latency"), 250);
        } else if (t->error && strstr(t->error, "params < 100k")) {
            cr_assert_str_eq(t->status, "infeasible");
            cr_assert(strstr(t->error, "checked before evaluation"));
            cr_assert(isnan(metric(t, "accuracy")), "not evaluated");
            pre++;
        } else if (t->error && strstr(t->error, "latency < 250us")) {
            cr_assert_str_eq(t->status, "infeasible");
            cr_assert_eq(metric(t, "latency"), 300);
            post++;
        }
    }
    cr_assert(pre > 0 && post > 0, "pre %d post %d", pre, post);
    sr_trials_free(r.t, r.n);
    sr_summary_free(&s);
    sr_expr_free(lp);
    sr_expr_free(ll);
}

Test(search_run, limit_on_unreported_metric_fails) {
    fk_init();
    const char *ev = fk_evaluator();
    char dir[1024], db[1100], cmd[1200];
    fk_tmpdir(dir, sizeof dir, "limmiss");
    snprintf(db, sizeof db, "%s/run.db", dir);
    snprintf(cmd, sizeof cmd, "%s ok", ev);
    sr_config c = fk_config(db, SR_EVAL_EXEC, cmd, 3);
    sr_expr *lt = sr_expr_bin(SR_EX_GT, sr_expr_metric("throughput", 1), sr_expr_num(5));
    sr_limit lim[] = {{"throughput > 5", lt}};
    c.limits = lim;
    c.n_limits = 1;
    sr_summary s;
    char err[1500] = "";
    cr_assert_eq(sr_run(&c, &fk_iface, &s, err, sizeof err), 0, "%s", err);
    run_out r;
    load(db, &r);
    for (int i = 0; i < r.n; i++)
        if (strcmp(r.t[i].status, "infeasible"))
            cr_assert(strstr(r.t[i].error, "limit 'throughput > 5' needs 'throughput'"), "%s", r.t[i].error);
    sr_trials_free(r.t, r.n);
    sr_summary_free(&s);
    sr_expr_free(lt);
}

Test(search_run, scalarised_objective_and_pareto_front) {
    fk_init();
    const char *ev = fk_evaluator();
    char dir[1024], db[1100], cmd[1200];
    fk_tmpdir(dir, sizeof dir, "multi");
    snprintf(db, sizeof db, "%s/run.db", dir);
    snprintf(cmd, sizeof cmd, "%s ok", ev);
    sr_config c = fk_config(db, SR_EVAL_EXEC, cmd, 25);
    /* accuracy * (latency / 300us) ^ -0.07, and minimize params */
    sr_expr *mn = sr_expr_bin(
        SR_EX_MUL, sr_expr_metric("accuracy", 1),
        sr_expr_bin(SR_EX_POW, sr_expr_bin(SR_EX_DIV, sr_expr_metric("latency", 1), sr_expr_num(300)),
                    sr_expr_num(-0.07)));
    sr_objective obj[] = {{"accuracy * (latency / 300us) ^ -0.07", 1, mn}, {"params", 0, NULL}};
    c.objectives = obj;
    c.n_objectives = 2;
    sr_summary s;
    char err[1500] = "";
    cr_assert_eq(sr_run(&c, &fk_iface, &s, err, sizeof err), 0, "%s", err);
    run_out r;
    load(db, &r);
    double v[50][2];
    int64_t ids[50];
    int n = 0;
    for (int i = 0; i < r.n; i++) {
        if (strcmp(r.t[i].status, "done")) continue;
        double acc = metric(&r.t[i], "accuracy"), lat = metric(&r.t[i], "latency");
        double want = acc * pow(lat / 300, -0.07);
        double got0, got1;
        cr_assert_eq(sscanf(r.t[i].objectives, "[%lf, %lf]", &got0, &got1), 2, "%s", r.t[i].objectives);
        cr_assert_float_eq(got0, want, 1e-9);
        cr_assert_eq(got1, metric(&r.t[i], "params"));
        v[n][0] = got0;
        v[n][1] = -got1;
        ids[n++] = r.t[i].id;
    }
    cr_assert_gt(s.n_front, 0);
    for (int i = 0; i < n; i++) {
        int dominated = 0, in_front = 0;
        for (int j = 0; j < n; j++) dominated |= sr_dominates(v[j], v[i], 2);
        for (int f = 0; f < s.n_front; f++) in_front |= s.front[f] == ids[i];
        cr_assert_eq(in_front, !dominated, "trial %lld", (long long)ids[i]);
    }
    char fj[1200];
    snprintf(fj, sizeof fj, "%s/run.front.json", dir);
    cr_assert_eq(access(fj, R_OK), 0, "front written next to the store");
    sr_trials_free(r.t, r.n);
    sr_summary_free(&s);
    sr_expr_free(mn);
}

/* ---------------- store, resume ---------------- */

static int count_status(const char *db, const char *status) {
    sqlite3 *h;
    int n = -1;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        sqlite3_close(h);
        return -1;
    }
    sqlite3_busy_timeout(h, 2000);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(h, "SELECT count(*) FROM trials WHERE status = ?", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(h);
    return n;
}

Test(search_run, resume_after_sigkill_loses_nothing) {
    fk_init();
    const char *ev = fk_evaluator();
    char dir[1024], db[1100], cmd[1200];
    fk_tmpdir(dir, sizeof dir, "kill");
    snprintf(db, sizeof db, "%s/run.db", dir);
    snprintf(cmd, sizeof cmd, "%s ok --sleep-ms 40", ev);
    sr_config c = fk_config(db, SR_EVAL_EXEC, cmd, 30);
    c.jobs = 2;
    pid_t pid = fork();
    if (pid == 0) {
        sr_summary s;
        char err[1500];
        _exit(sr_run(&c, &fk_iface, &s, err, sizeof err) ? 1 : 0);
    }
    /* kill it mid-way, with trials running */
    for (int i = 0; i < 400 && count_status(db, "done") < 8; i++) usleep(10000);
    kill(pid, SIGKILL);
    int st;
    waitpid(pid, &st, 0);
    cr_assert(WIFSIGNALED(st), "the search was still running when killed");
    run_out before;
    load(db, &before);
    cr_assert_geq(before.by[0], 8);
    cr_assert_lt(before.by[0] + before.by[1] + before.by[2], 30);
    c.resume = 1;
    sr_summary s;
    char err[1500] = "";
    cr_assert_eq(sr_run(&c, &fk_iface, &s, err, sizeof err), 0, "%s", err);
    run_out after;
    load(db, &after);
    cr_assert_eq(after.by[0] + after.by[1] + after.by[2], 30, "the budget counts every finished trial");
    cr_assert_eq(after.by[3], 0);
    cr_assert_eq(after.n, 30, "nothing repeated: ids are 1..30");
    for (int i = 0; i < before.n; i++) {
        const sr_trial_row *b = &before.t[i], *a = &after.t[i];
        cr_assert_eq(a->id, b->id);
        cr_assert_str_eq(a->point, b->point);
        if (!strcmp(b->status, "running")) {
            cr_assert_str_eq(a->status, "done", "a trial running at the kill is re-run");
            continue;
        }
        cr_assert_str_eq(a->status, b->status, "finished trial %lld kept", (long long)b->id);
        cr_assert_eq(a->finished, b->finished, "finished trial %lld not re-run", (long long)b->id);
        if (b->metrics) cr_assert_str_eq(a->metrics, b->metrics);
    }
    sr_trials_free(before.t, before.n);
    sr_trials_free(after.t, after.n);
    sr_summary_free(&s);
}

Test(search_run, resume_checks_source_and_fresh_run_refuses_old_store) {
    fk_init();
    const char *ev = fk_evaluator();
    char dir[1024], db[1100], cmd[1200];
    fk_tmpdir(dir, sizeof dir, "hash");
    snprintf(db, sizeof db, "%s/run.db", dir);
    snprintf(cmd, sizeof cmd, "%s ok", ev);
    sr_config c = fk_config(db, SR_EVAL_EXEC, cmd, 4);
    sr_summary s;
    char err[1500] = "";
    cr_assert_eq(sr_run(&c, &fk_iface, &s, err, sizeof err), 0, "%s", err);
    sr_summary_free(&s);
    cr_assert_eq(sr_run(&c, &fk_iface, &s, err, sizeof err), -1);
    cr_assert(strstr(err, "already holds a search"), "%s", err);
    sr_summary_free(&s);
    c.resume = 1;
    c.trials = 6;
    c.source = "space Fake { changed }";
    cr_assert_eq(sr_run(&c, &fk_iface, &s, err, sizeof err), -1);
    cr_assert(strstr(err, "changed") && strstr(err, "--force"), "%s", err);
    sr_summary_free(&s);
    c.force = 1;
    cr_assert_eq(sr_run(&c, &fk_iface, &s, err, sizeof err), 0, "%s", err);
    cr_assert_eq(s.done + s.failed + s.infeasible, 6, "resume continues up to the new budget");
    sr_summary_free(&s);
    char missing[1200];
    snprintf(missing, sizeof missing, "%s/none.db", dir);
    c.db_path = missing;
    cr_assert_eq(sr_run(&c, &fk_iface, &s, err, sizeof err), -1);
    cr_assert(strstr(err, "no such store"), "%s", err);
}

Test(search_run, interrupt_stops_cleanly) {
    fk_init();
    const char *ev = fk_evaluator();
    char dir[1024], db[1100], cmd[1200], log[1200];
    fk_tmpdir(dir, sizeof dir, "sigint");
    snprintf(db, sizeof db, "%s/run.db", dir);
    snprintf(log, sizeof log, "%s/progress.txt", dir);
    snprintf(cmd, sizeof cmd, "%s ok --sleep-ms 30", ev);
    sr_config c = fk_config(db, SR_EVAL_EXEC, cmd, 1000);
    c.handle_signals = 1;
    pid_t pid = fork();
    if (pid == 0) {
        c.progress_fp = fopen(log, "w");
        sr_summary s;
        char err[1500];
        int rc = sr_run(&c, &fk_iface, &s, err, sizeof err);
        fclose(c.progress_fp);
        _exit(rc == 0 && s.interrupted ? 0 : 1);
    }
    for (int i = 0; i < 400 && count_status(db, "done") < 5; i++) usleep(10000);
    kill(pid, SIGINT);
    int st;
    waitpid(pid, &st, 0);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "clean stop after Ctrl-C");
    cr_assert_eq(count_status(db, "running"), 0, "the running trial was allowed to finish");
    FILE *f = fopen(log, "r");
    char text[8192] = "";
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = 0;
    fclose(f);
    cr_assert(strstr(text, "interrupt: waiting for "), "%s", text);
    cr_assert_null(strstr(text, "--resume"), "the tool, not sr_run, says how to resume: %s", text);
    cr_assert(strstr(text, "trial 1 done: accuracy = "), "plain progress lines off a terminal: %s", text);
}

Test(search_run, second_interrupt_kills_running_trials) {
    fk_init();
    const char *ev = fk_evaluator();
    char dir[1024], db[1100], cmd[1200];
    fk_tmpdir(dir, sizeof dir, "sigint2");
    snprintf(db, sizeof db, "%s/run.db", dir);
    snprintf(cmd, sizeof cmd, "%s ok --sleep-ms 4000", ev);
    sr_config c = fk_config(db, SR_EVAL_EXEC, cmd, 3);
    c.jobs = 2;
    c.handle_signals = 1;
    pid_t pid = fork();
    if (pid == 0) {
        sr_summary s;
        char err[1500];
        int rc = sr_run(&c, &fk_iface, &s, err, sizeof err);
        _exit(rc == 0 && s.interrupted && s.unfinished == 2 ? 0 : 1);
    }
    for (int i = 0; i < 400 && count_status(db, "running") < 2; i++) usleep(10000);
    double t0 = sr_now();
    kill(pid, SIGINT);
    usleep(100000);
    kill(pid, SIGINT);
    int st;
    waitpid(pid, &st, 0);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "stopped, reporting 2 unfinished trials");
    cr_assert_lt(sr_now() - t0, 3.0, "the running trials were killed, not waited for");
    cr_assert_eq(count_status(db, "running"), 2, "unfinished trials stay marked as such");
    /* resume re-runs them (with a faster evaluator: the command is not part of the search's identity) */
    snprintf(cmd, sizeof cmd, "%s ok", ev);
    c.resume = 1;
    c.handle_signals = 0;
    sr_summary s;
    char err[1500] = "";
    cr_assert_eq(sr_run(&c, &fk_iface, &s, err, sizeof err), 0, "%s", err);
    cr_assert_eq(s.done + s.failed + s.infeasible, 3);
    cr_assert_eq(count_status(db, "running"), 0);
    sr_summary_free(&s);
}

typedef struct seen {
    int calls, events;
    int64_t last_finished;
    int monotonic;
} seen;

static void on_progress(void *ud, const sr_progress *p) {
    seen *s = ud;
    s->calls++;
    if (p->event) s->events++;
    if (p->finished < s->last_finished) s->monotonic = 0;
    s->last_finished = p->finished;
    if (p->finished != p->done + p->failed + p->infeasible) s->monotonic = 0;
}

Test(search_run, progress_callback_sees_every_trial) {
    fk_init();
    const char *ev = fk_evaluator();
    char dir[1024], db[1100], cmd[1200];
    fk_tmpdir(dir, sizeof dir, "progress");
    snprintf(db, sizeof db, "%s/run.db", dir);
    snprintf(cmd, sizeof cmd, "%s pipe", ev);
    sr_config c = fk_config(db, SR_EVAL_PIPE, cmd, 30);
    seen s0 = {0, 0, 0, 1};
    c.progress = on_progress;
    c.progress_ud = &s0;
    sr_summary s;
    char err[1500] = "";
    cr_assert_eq(sr_run(&c, &fk_iface, &s, err, sizeof err), 0, "%s", err);
    cr_assert_eq(s0.events, 30, "one event per finished trial");
    cr_assert_eq(s0.last_finished, 30);
    cr_assert(s0.monotonic);
    sr_summary_free(&s);
}

Test(search_run, exec_huge_output_keeps_the_last_line) {
    run_out r;
    run_exec_mode("bigout", 2, 0, &r, 0);
    for (int i = 0; i < r.n; i++)
        if (strcmp(r.t[i].status, "infeasible")) cr_assert_str_eq(r.t[i].status, "done", "%s", r.t[i].error);
    sr_trials_free(r.t, r.n);
}

Test(search_run, time_budget_stops_new_trials) {
    fk_init();
    const char *ev = fk_evaluator();
    char dir[1024], db[1100], cmd[1200];
    fk_tmpdir(dir, sizeof dir, "timebudget");
    snprintf(db, sizeof db, "%s/run.db", dir);
    snprintf(cmd, sizeof cmd, "%s ok --sleep-ms 50", ev);
    sr_config c = fk_config(db, SR_EVAL_EXEC, cmd, 0);
    c.time_budget = 0.6;
    sr_summary s;
    char err[1500] = "";
    double t0 = sr_now();
    cr_assert_eq(sr_run(&c, &fk_iface, &s, err, sizeof err), 0, "%s", err);
    double took = sr_now() - t0;
    cr_assert(took >= 0.6 && took < 3.0, "took %.2fs", took);
    cr_assert_gt(s.done, 2);
    cr_assert_eq(s.unfinished, 0, "the trial running at the deadline finished");
    sr_summary_free(&s);
}

Test(search_run, resume_refuses_another_strategy) {
    fk_init();
    const char *ev = fk_evaluator();
    char dir[1024], db[1100], cmd[1200], so[1200], cc[4000];
    fk_tmpdir(dir, sizeof dir, "otherstrat");
    snprintf(db, sizeof db, "%s/run.db", dir);
    snprintf(cmd, sizeof cmd, "%s pipe", ev);
    sr_config c = fk_config(db, SR_EVAL_PIPE, cmd, 3);
    sr_summary s;
    char err[1500] = "";
    cr_assert_eq(sr_run(&c, &fk_iface, &s, err, sizeof err), 0, "%s", err);
    sr_summary_free(&s);
    snprintf(so, sizeof so, "%s/nasc-climb.so", dir);
    snprintf(cc, sizeof cc, "cc -shared -fPIC -I'%s/include' -o '%s' '%s/docs/example-plugin/climb.c' -lm",
             NASC_SOURCE_DIR, so, NASC_SOURCE_DIR);
    cr_assert_eq(system(cc), 0);
    c.strategy = so;
    c.resume = 1;
    c.trials = 5;
    cr_assert_eq(sr_run(&c, &fk_iface, &s, err, sizeof err), -1);
    cr_assert(strstr(err, "used the strategy random, not climb"), "%s", err);
    sr_summary_free(&s);
}

Test(search_run, progress_on_a_terminal_is_one_updating_line) {
    fk_init();
    const char *ev = fk_evaluator();
    char dir[1024], db[1100], cmd[1200];
    fk_tmpdir(dir, sizeof dir, "tty");
    snprintf(db, sizeof db, "%s/run.db", dir);
    snprintf(cmd, sizeof cmd, "%s pipe", ev);
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    cr_assert_geq(m, 0);
    cr_assert_eq(grantpt(m), 0);
    cr_assert_eq(unlockpt(m), 0);
    int sl = open(ptsname(m), O_RDWR | O_NOCTTY);
    cr_assert_geq(sl, 0);
    fcntl(m, F_SETFL, O_NONBLOCK);
    sr_config c = fk_config(db, SR_EVAL_PIPE, cmd, 5);
    c.progress_fp = fdopen(sl, "w");
    sr_summary s;
    char err[1500] = "";
    cr_assert_eq(sr_run(&c, &fk_iface, &s, err, sizeof err), 0, "%s", err);
    fflush(c.progress_fp);
    char text[65536];
    ssize_t n = read(m, text, sizeof text - 1);
    cr_assert_gt(n, 0);
    text[n] = 0;
    cr_assert(strstr(text, "\r\033[K[5/5] "), "a status line rewritten in place: %s", text);
    cr_assert_null(strstr(text, "trial 1 done:"), "no per-trial lines on a terminal");
    fclose(c.progress_fp);
    close(m);
    sr_summary_free(&s);
}

/* Kills the search at several arbitrary moments (during setup, replay,
 * commits, evaluations) and resumes each time: finished trials are never
 * lost or re-run, ids stay 1..n, and the budget is reached in the end. */
Test(search_run, repeated_sigkill_at_arbitrary_moments) {
    fk_init();
    const char *ev = fk_evaluator();
    char dir[1024], db[1100], cmd[1200];
    fk_tmpdir(dir, sizeof dir, "kills");
    snprintf(db, sizeof db, "%s/run.db", dir);
    snprintf(cmd, sizeof cmd, "%s ok --sleep-ms 10", ev);
    sr_config c = fk_config(db, SR_EVAL_EXEC, cmd, 40);
    c.jobs = 2;
    run_out prev = {NULL, 0, {0}};
    const int delays_ms[] = {3, 60, 25, 140, 8, 90};
    for (int round = 0; round < 6; round++) {
        c.resume = access(db, F_OK) == 0;
        pid_t pid = fork();
        if (pid == 0) {
            sr_summary s;
            char err[1500];
            _exit(sr_run(&c, &fk_iface, &s, err, sizeof err) ? 1 : 0);
        }
        usleep((useconds_t)delays_ms[round] * 1000);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        if (access(db, F_OK)) continue; /* killed before the store existed */
        run_out now;
        load(db, &now);
        cr_assert_geq(now.n, prev.n, "round %d: no trial row disappears", round);
        for (int i = 0; i < now.n; i++)
            cr_assert_eq(now.t[i].id, i + 1, "round %d: ids stay contiguous", round);
        for (int i = 0; i < prev.n; i++) {
            if (!strcmp(prev.t[i].status, "running")) continue;
            cr_assert_str_eq(now.t[i].status, prev.t[i].status, "round %d: trial %d kept", round, i + 1);
            cr_assert_eq(now.t[i].finished, prev.t[i].finished, "round %d: trial %d not re-run", round,
                         i + 1);
        }
        sr_trials_free(prev.t, prev.n);
        prev = now;
    }
    c.resume = 1;
    sr_summary s;
    char err[1500] = "";
    cr_assert_eq(sr_run(&c, &fk_iface, &s, err, sizeof err), 0, "%s", err);
    run_out fin;
    load(db, &fin);
    cr_assert_eq(fin.n, 40);
    cr_assert_eq(fin.by[3], 0);
    for (int i = 0; i < prev.n; i++)
        if (strcmp(prev.t[i].status, "running"))
            cr_assert_eq(fin.t[i].finished, prev.t[i].finished, "trial %d not re-run", i + 1);
    sr_trials_free(prev.t, prev.n);
    sr_trials_free(fin.t, fin.n);
    sr_summary_free(&s);
}

Test(search_run, builtin_worker_init_runs_in_each_worker) {
    fk_init();
    fk_iface.worker_init = fk_worker_init;
    char dir[1024], db[1100];
    fk_tmpdir(dir, sizeof dir, "winit");
    snprintf(db, sizeof db, "%s/run.db", dir);
    sr_config c = fk_config(db, SR_EVAL_BUILTIN, NULL, 6);
    c.jobs = 2;
    sr_summary s;
    char err[1500] = "";
    cr_assert_eq(sr_run(&c, &fk_iface, &s, err, sizeof err), 0, "%s", err);
    run_out r;
    load(db, &r);
    for (int i = 0; i < r.n; i++)
        if (!strcmp(r.t[i].status, "done")) cr_assert_eq(metric(&r.t[i], "inited"), 1, "trial %d", i + 1);
    cr_assert_gt(r.by[0], 0);
    sr_trials_free(r.t, r.n);
    sr_summary_free(&s);
}
