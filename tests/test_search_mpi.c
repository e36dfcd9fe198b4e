/* test_search_mpi.c: a search spread over MPI ranks.  The test binary is
 * its own MPI program: started with NASC_SR_MPI_CHILD=DB:EVALUATOR in its
 * environment (which the test does through mpirun -np 3), a constructor
 * runs the fake search before Criterion's main; rank 0 drives it and
 * ranks 1-2 evaluate.  Without mpirun the test is skipped. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <sys/wait.h>
#include "fixtures/search/fake_space.h"

static int mpi_child(const char *db, const char *evaluator) {
    fk_init();
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "%s ok --sleep-ms 20", evaluator);
    sr_config c = fk_config(db, SR_EVAL_EXEC, cmd, 24);
    c.timeout = 30;
    sr_summary s;
    char err[1500] = "";
    int rc = sr_run(&c, &fk_iface, &s, err, sizeof err);
    if (rc) fprintf(stderr, "mpi-child: %s\n", err);
    if (!s.worker_rank) printf("rank0 done=%lld\n", (long long)s.done);
    sr_summary_free(&s);
    return rc ? 1 : 0;
}

Test(search_mpi, three_ranks) {
    if (system("command -v mpirun >/dev/null 2>&1")) cr_skip_test("no mpirun");
#ifndef NASC_HAVE_MPI
    cr_skip_test("built without MPI");
#endif
    fk_init();
    const char *ev = fk_evaluator();
    cr_assert_not_null(ev);
    char dir[1024], db[1100], self[1024], cmd[6000], out[1200];
    fk_tmpdir(dir, sizeof dir, "mpi");
    snprintf(db, sizeof db, "%s/run.db", dir);
    snprintf(out, sizeof out, "%s/out.txt", dir);
    /* Open MPI's own allocations outlive MPI_Finalize: not ours to report */
    char spec[2200];
    snprintf(spec, sizeof spec, "%s:%s", db, ev);
    setenv("NASC_SR_MPI_CHILD", spec, 1);
    ssize_t k = readlink("/proc/self/exe", self, sizeof self - 1);
    cr_assert_gt(k, 0);
    self[k] = 0;
    snprintf(cmd, sizeof cmd,
             "ASAN_OPTIONS=detect_leaks=0 timeout 120 mpirun --allow-run-as-root --oversubscribe "
             "-x NASC_SR_MPI_CHILD -x ASAN_OPTIONS -np 3 '%s' >'%s' 2>&1",
             self, out);
    int rc = system(cmd);
    char text[8192] = "";
    FILE *f = fopen(out, "r");
    if (f) {
        size_t n = fread(text, 1, sizeof text - 1, f);
        text[n] = 0;
        fclose(f);
    }
    cr_assert_eq(rc, 0, "mpirun failed: %s", text);
    cr_assert(strstr(text, "rank0 done="), "%s", text);
    sr_store *s;
    char err[500];
    cr_assert_eq(sr_store_open(db, 0, &s, err, sizeof err), 0, "%s", err);
    sr_trial_row *v;
    int n;
    cr_assert_eq(sr_store_trials(s, &v, &n, err, sizeof err), 0);
    sr_store_close(s);
    cr_assert_eq(n, 24);
    int ranks[3] = {0, 0, 0}, done = 0;
    for (int i = 0; i < n; i++) {
        if (strcmp(v[i].status, "done")) continue;
        done++;
        cr_assert(v[i].worker == 0 || v[i].worker == 1, "worker slot %d", v[i].worker);
        ranks[v[i].worker + 1]++;
    }
    cr_assert_gt(done, 0);
    cr_assert(ranks[1] > 0 && ranks[2] > 0, "both evaluating ranks got trials (%d, %d)", ranks[1], ranks[2]);
    sr_trials_free(v, n);
}

/* Runs before Criterion's main, whose workers must not be re-entered. */
__attribute__((constructor)) static void mpi_child_entry(void) {
    const char *spec = getenv("NASC_SR_MPI_CHILD");
    if (!spec) return;
    char db[1100];
    const char *colon = strchr(spec, ':');
    if (!colon || (size_t)(colon - spec) >= sizeof db) exit(2);
    memcpy(db, spec, (size_t)(colon - spec));
    db[colon - spec] = 0;
    exit(mpi_child(db, colon + 1));
}
