/* test_search_store.c: the SQLite store (round trip of the run and of
 * trials, refusing files that are not stores) and `nasc report` (the
 * leaderboard, the Pareto front, JSON output and well-formed SVG plots). */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include "fixtures/search/fake_space.h"

Test(search_store, round_trip) {
    char dir[1024], db[1100], err[500];
    fk_tmpdir(dir, sizeof dir, "store");
    snprintf(db, sizeof db, "%s/s.db", dir);
    sr_store *s;
    cr_assert_eq(sr_store_open(db, 1, &s, err, sizeof err), 0, "%s", err);
    cr_assert_not(sr_store_has_run(s));
    sr_run_row run = {"abc123",
                      "Space",
                      "random",
                      "[{\"name\": \"accuracy\", \"maximize\": 1}]",
                      "{\"j\": 2}",
                      "0.1",
                      "space Space {}",
                      1700000000.5,
                      42};
    cr_assert_eq(sr_store_put_run(s, &run, err, sizeof err), 0, "%s", err);
    sr_trial_row t = {0};
    t.id = 1;
    t.point = "{\"space\": \"Space\", \"decisions\": {}}";
    t.fidelity = 3;
    t.tag = 0xFFFFFFFFFFFFFFF0ull;
    strcpy(t.status, "running");
    t.started = 1700000001.25;
    t.worker = 1;
    cr_assert_eq(sr_store_insert(s, &t, err, sizeof err), 0, "%s", err);
    t.id = 2;
    cr_assert_eq(sr_store_insert(s, &t, err, sizeof err), 0, "%s", err);
    cr_assert_eq(sr_store_insert(s, &t, err, sizeof err), -1, "a trial id is unique");
    strcpy(t.status, "done");
    t.metrics = "{\"accuracy\": 0.5}";
    t.objectives = "[0.5]";
    t.finished = 1700000002.5;
    t.duration = 1.25;
    t.weights = "w.safetensors";
    cr_assert_eq(sr_store_finish(s, &t, err, sizeof err), 0, "%s", err);
    cr_assert_eq(sr_store_kv_set(s, "note", "hello", err, sizeof err), 0);
    sr_store_close(s);

    cr_assert_eq(sr_store_open(db, 0, &s, err, sizeof err), 0, "%s", err);
    cr_assert(sr_store_has_run(s));
    sr_run_row r2;
    cr_assert_eq(sr_store_get_run(s, &r2, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(r2.source_hash, "abc123");
    cr_assert_str_eq(r2.space, "Space");
    cr_assert_str_eq(r2.source, "space Space {}");
    cr_assert_eq(r2.seed, 42);
    cr_assert_eq(r2.started, 1700000000.5);
    sr_run_row_free(&r2);
    sr_trial_row *v;
    int n;
    cr_assert_eq(sr_store_trials(s, &v, &n, err, sizeof err), 0);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(v[0].status, "running");
    cr_assert_null(v[0].metrics);
    cr_assert_eq(v[0].tag, 0xFFFFFFFFFFFFFFF0ull, "the strategy's tag survives, all 64 bits");
    cr_assert_str_eq(v[1].status, "done");
    cr_assert_str_eq(v[1].metrics, "{\"accuracy\": 0.5}");
    cr_assert_eq(v[1].duration, 1.25);
    cr_assert_str_eq(v[1].weights, "w.safetensors");
    cr_assert_eq(v[1].fidelity, 3);
    sr_trials_free(v, n);
    char *note = sr_store_kv_get(s, "note");
    cr_assert_str_eq(note, "hello");
    free(note);
    cr_assert_eq(sr_store_restart(s, 2, 5.0, err, sizeof err), 0);
    cr_assert_eq(sr_store_trials(s, &v, &n, err, sizeof err), 0);
    cr_assert_str_eq(v[1].status, "running");
    sr_trials_free(v, n);
    sr_store_close(s);
}

Test(search_store, refuses_what_is_not_a_store) {
    char dir[1024], path[1100], err[500];
    fk_tmpdir(dir, sizeof dir, "notstore");
    snprintf(path, sizeof path, "%s/junk.db", dir);
    FILE *f = fopen(path, "w");
    fputs("this is not a database, just some text that is long enough to look like a header.....\n", f);
    fclose(f);
    sr_store *s;
    cr_assert_eq(sr_store_open(path, 1, &s, err, sizeof err), -1);
    cr_assert(strstr(err, path) && strstr(err, "not a nasc store"), "%s", err);
    snprintf(path, sizeof path, "%s/missing.db", dir);
    cr_assert_eq(sr_store_open(path, 0, &s, err, sizeof err), -1);
    cr_assert(strstr(err, "cannot open"), "%s", err);
    cr_assert_eq(sr_report_print(path, stdout, 10, 0, err, sizeof err), -1);
}

/* Runs a small search for the report tests. */
static void make_run(const char *db, int multi) {
    fk_init();
    const char *ev = fk_evaluator();
    cr_assert_not_null(ev);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "%s ok", ev);
    sr_config c = fk_config(db, SR_EVAL_EXEC, cmd, 20);
    sr_objective obj[] = {{"accuracy", 1, NULL}, {"latency", 0, NULL}};
    c.objectives = obj;
    c.n_objectives = multi ? 2 : 1;
    sr_summary s;
    char err[1500] = "";
    cr_assert_eq(sr_run(&c, &fk_iface, &s, err, sizeof err), 0, "%s", err);
    sr_summary_free(&s);
}

static char *capture_report(const char *db, int json) {
    char *buf = NULL, err[500];
    size_t len;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_eq(sr_report_print(db, f, 5, json, err, sizeof err), 0, "%s", err);
    fclose(f);
    return buf;
}

static void check_svg(const char *svg, int want_scatter) {
    FILE *f = fopen(svg, "r");
    cr_assert_not_null(f);
    char text[200000];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = 0;
    fclose(f);
    cr_assert(strstr(text, "<svg") && strstr(text, "</svg>"));
    cr_assert(strstr(text, "best so far against trials") && strstr(text, "best so far against wall time"));
    cr_assert(strstr(text, "<polyline"));
    cr_assert_eq(strstr(text, "Pareto front") != NULL, want_scatter);
    if (!system("command -v xmllint >/dev/null 2>&1")) {
        char cmd[1300];
        snprintf(cmd, sizeof cmd, "xmllint --noout '%s'", svg);
        cr_assert_eq(system(cmd), 0, "the SVG is well-formed XML");
    }
    if (!system("command -v rsvg-convert >/dev/null 2>&1")) {
        char cmd[2400];
        snprintf(cmd, sizeof cmd, "rsvg-convert -o '%s.png' '%s'", svg, svg);
        cr_assert_eq(system(cmd), 0, "the SVG renders");
    }
}

Test(search_store, report_leaderboard_and_svg) {
    char dir[1024], db[1100], svg[1100], err[500];
    fk_tmpdir(dir, sizeof dir, "report1");
    snprintf(db, sizeof db, "%s/run.db", dir);
    make_run(db, 0);
    char *text = capture_report(db, 0);
    cr_assert(strstr(text, "leaderboard:") && strstr(text, "best: trial"), "%s", text);
    int rows = 0;
    for (const char *p = text; (p = strstr(p, "{\"space\": \"Fake\"")); p++) rows++;
    cr_assert_eq(rows, 5, "top 5 rows: %s", text);
    free(text);
    char *js = capture_report(db, 1);
    json_value *d = sr_json_parse(js, err, sizeof err);
    cr_assert_not_null(d, "%s: %s", err, js);
    const json_value *lb = json_get(d, "leaderboard"), *tr = json_get(d, "trials");
    cr_assert_eq(lb->n, 5);
    /* sorted best first */
    double prev = 1e9;
    for (size_t c = 0; c < lb->n; c++) {
        const json_value *o = json_get(&lb->items[c], "objectives");
        double v = json_number(json_at(o, 0), NAN);
        cr_assert_leq(v, prev);
        prev = v;
    }
    cr_assert_gt(json_number(json_get(tr, "done"), 0), 5);
    json_free(d);
    free(js);
    snprintf(svg, sizeof svg, "%s/plots.svg", dir);
    cr_assert_eq(sr_report_svg(db, svg, err, sizeof err), 0, "%s", err);
    check_svg(svg, 0);
}

Test(search_store, report_pareto_front_and_scatter) {
    char dir[1024], db[1100], svg[1100], err[500];
    fk_tmpdir(dir, sizeof dir, "report2");
    snprintf(db, sizeof db, "%s/run.db", dir);
    make_run(db, 1);
    char *text = capture_report(db, 0);
    cr_assert(strstr(text, "Pareto front:"), "%s", text);
    free(text);
    char *js = capture_report(db, 1);
    json_value *d = sr_json_parse(js, err, sizeof err);
    cr_assert_not_null(d, "%s", err);
    const json_value *fr = json_get(d, "front");
    cr_assert_not_null(fr);
    cr_assert_geq(fr->n, 1);
    /* accuracy grows with depth and so does latency: the front has one point per depth at most */
    cr_assert_leq(fr->n, 20);
    json_free(d);
    free(js);
    snprintf(svg, sizeof svg, "%s/plots.svg", dir);
    cr_assert_eq(sr_report_svg(db, svg, err, sizeof err), 0, "%s", err);
    check_svg(svg, 1);
}
