/* test_search_core.c: metric maps, objective and limit expressions with
 * units, the Pareto front, the JSON reader and command-line splitting:
 * the pure pieces the search driver is built on. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "search.h"
#include "sr_util.h"

Test(search_core, metrics_json_round_trip) {
    sr_metrics m, back;
    sr_metrics_init(&m);
    sr_metrics_init(&back);
    cr_assert_eq(sr_metrics_set(&m, "accuracy", 0.913), 0);
    cr_assert_eq(sr_metrics_set(&m, "latency", 412), 0);
    cr_assert_eq(sr_metrics_set(&m, "accuracy", 0.1 + 0.2), 0); /* replaces */
    cr_assert_eq(m.n, 2);
    char *js = sr_metrics_to_json(&m);
    char err[200];
    cr_assert_eq(sr_metrics_from_json(js, &back, err, sizeof err), 0, "%s", err);
    double v;
    cr_assert(sr_metrics_get(&back, "accuracy", &v));
    cr_assert_eq(v, 0.1 + 0.2, "exact round trip of doubles");
    cr_assert(sr_metrics_get(&back, "latency", &v));
    cr_assert_eq(v, 412);
    cr_assert_not(sr_metrics_get(&back, "params", &v));
    free(js);
    sr_metrics_free(&m);
    sr_metrics_free(&back);
}

Test(search_core, metrics_json_rejects_non_numbers) {
    sr_metrics m;
    sr_metrics_init(&m);
    char err[200];
    cr_assert_eq(sr_metrics_from_json("{\"accuracy\": \"high\"}", &m, err, sizeof err), -1);
    cr_assert(strstr(err, "accuracy"), "names the metric: %s", err);
    cr_assert_eq(sr_metrics_from_json("[1, 2]", &m, err, sizeof err), -1);
    cr_assert_eq(sr_metrics_from_json("{\"a\": 1", &m, err, sizeof err), -1);
    cr_assert_eq(sr_metrics_from_json("accuracy=0.5", &m, err, sizeof err), -1);
    cr_assert_eq(sr_metrics_from_json("{\"a\": 1} x", &m, err, sizeof err), -1);
    sr_metrics_clear(&m);
    cr_assert_eq(sr_metrics_from_json("{\"a\": null}", &m, err, sizeof err), 0);
    double v = 0;
    cr_assert(sr_metrics_get(&m, "a", &v) && isnan(v), "null reads as NaN");
    sr_metrics_free(&m);
}

Test(search_core, json_reader_nesting_and_escapes) {
    char err[200];
    const char *src =
        " {\"s\": \"a\\\"b\\u00e9\\n\", \"arr\": [1, -2.5e3, true, null, {\"x\": []}], \"o\": {}} ";
    json_value *d = sr_json_parse(src, err, sizeof err);
    cr_assert_not_null(d, "%s", err);
    const json_value *s = json_get(d, "s"), *arr = json_get(d, "arr");
    cr_assert_str_eq(s->str, "a\"b\xc3\xa9\n");
    cr_assert_eq(arr->n, 5);
    cr_assert_eq(arr->items[1].number, -2500);
    /* spans give the raw text back */
    const json_value *o = json_get(d, "o");
    cr_assert_eq(strncmp(src + o->start, "{}", 2), 0);
    json_free(d);
    char deep[1000];
    memset(deep, '[', 600);
    deep[600] = 0;
    cr_assert_null(sr_json_parse(deep, err, sizeof err), "deep nesting is refused, not a stack overflow");
    cr_assert_null(sr_json_parse("", err, sizeof err));
    cr_assert_null(sr_json_parse("\"abc", err, sizeof err));
    cr_assert_null(sr_json_parse(NULL, err, sizeof err));
    cr_assert_str_eq(err, "invalid JSON: no text");
}

/* accuracy * (latency / 300us) ^ -0.07, with latency reported in ms. */
Test(search_core, objective_expression_with_units) {
    sr_expr *lat = sr_expr_metric("latency", sr_unit_scale("ms")); /* ms -> us */
    sr_expr *e = sr_expr_bin(SR_EX_MUL, sr_expr_metric("accuracy", 1),
                             sr_expr_bin(SR_EX_POW,
                                         sr_expr_bin(SR_EX_DIV, lat, sr_expr_num(300 * sr_unit_scale("us"))),
                                         sr_expr_num(-0.07)));
    sr_metrics m;
    sr_metrics_init(&m);
    sr_metrics_set(&m, "accuracy", 0.9);
    sr_metrics_set(&m, "latency", 0.6); /* 600 us */
    double v;
    const char *missing;
    cr_assert_eq(sr_expr_eval(e, &m, &v, &missing), 0);
    cr_assert_float_eq(v, 0.9 * pow(2.0, -0.07), 1e-12);
    cr_assert_not(sr_expr_is_static(e));
    char txt[200];
    sr_expr_format(e, txt, sizeof txt);
    cr_assert(strstr(txt, "latency") && strstr(txt, "accuracy"), "%s", txt);
    sr_expr_free(e);
    sr_metrics_free(&m);
    cr_assert_eq(sr_unit_scale("s"), 1e6);
    cr_assert_eq(sr_unit_scale("MB"), 1048576.0);
    cr_assert_eq(sr_unit_scale("k"), 1000);
    cr_assert_eq(sr_unit_scale("furlong"), 0);
}

Test(search_core, missing_metric_is_named) {
    sr_expr *e = sr_expr_bin(SR_EX_LT, sr_expr_metric("latency", 1), sr_expr_num(300));
    sr_metrics m;
    sr_metrics_init(&m);
    sr_metrics_set(&m, "accuracy", 0.9);
    double v;
    const char *missing = NULL;
    cr_assert_eq(sr_expr_eval(e, &m, &v, &missing), -1);
    cr_assert_str_eq(missing, "latency");
    sr_metrics_set(&m, "latency", 200);
    cr_assert_eq(sr_expr_eval(e, &m, &v, &missing), 0);
    cr_assert_eq(v, 1);
    sr_metrics_set(&m, "latency", 400);
    cr_assert_eq(sr_expr_eval(e, &m, &v, &missing), 0);
    cr_assert_eq(v, 0);
    sr_expr_free(e);
    sr_expr *p = sr_expr_bin(SR_EX_LT, sr_expr_metric("params", 1), sr_expr_num(200e3));
    cr_assert(sr_expr_is_static(p));
    sr_expr_free(p);
    sr_expr *z = sr_expr_bin(SR_EX_DIV, sr_expr_num(1), sr_expr_metric("accuracy", 1));
    sr_metrics_set(&m, "accuracy", 0);
    cr_assert_eq(sr_expr_eval(z, &m, &v, &missing), -1, "division by zero is not a finite objective");
    cr_assert_null(missing);
    sr_expr_free(z);
    sr_metrics_free(&m);
}

Test(search_core, pareto_front_matches_brute_force) {
    /* maximise both (signed already) */
    const double v[] = {1, 5, 2, 4, 3, 3, 2, 2, 5, 1, 1, 1, 3, 3, 4, 0.5};
    unsigned char f[8];
    int n = sr_pareto_front(v, 8, 2, f);
    const unsigned char want[8] = {1, 1, 1, 0, 1, 0, 1, 0}; /* (3,3) twice: neither dominates the other */
    cr_assert_eq(n, 5);
    for (int i = 0; i < 8; i++) cr_assert_eq(f[i], want[i], "row %d", i);
    cr_assert(sr_dominates((double[]){2, 2}, (double[]){1, 2}, 2));
    cr_assert_not(sr_dominates((double[]){2, 2}, (double[]){2, 2}, 2));
    /* random sets: no front member is dominated, every other row is */
    srand(3);
    for (int rep = 0; rep < 20; rep++) {
        double r[60];
        for (int i = 0; i < 60; i++) r[i] = rand() % 10;
        unsigned char fr[20];
        sr_pareto_front(r, 20, 3, fr);
        for (int i = 0; i < 20; i++) {
            int dominated = 0;
            for (int j = 0; j < 20; j++) dominated |= sr_dominates(r + 3 * j, r + 3 * i, 3);
            cr_assert_eq(fr[i], !dominated);
        }
    }
}

Test(search_core, split_command_like_a_shell) {
    char **argv;
    char err[200];
    int n = sr_split_command("python3 -c 'print(1 + 2)' \"a b\\\"c\" d\\ e  ", &argv, err, sizeof err);
    cr_assert_eq(n, 5, "%s", err);
    cr_assert_str_eq(argv[0], "python3");
    cr_assert_str_eq(argv[2], "print(1 + 2)");
    cr_assert_str_eq(argv[3], "a b\"c");
    cr_assert_str_eq(argv[4], "d e");
    cr_assert_null(argv[5]);
    sr_argv_free(argv);
    n = sr_split_command("x d\\ e", &argv, err, sizeof err);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(argv[1], "d e");
    sr_argv_free(argv);
    cr_assert_eq(sr_split_command("echo 'oops", &argv, err, sizeof err), -1);
    cr_assert(strstr(err, "unterminated"), "%s", err);
    cr_assert_eq(sr_split_command("   ", &argv, err, sizeof err), -1);
}

Test(search_core, worker_messages_round_trip) {
    char *req =
        sr_req_encode(42, 3, "/tmp/w x.safetensors", "{\"space\": \"S\", \"decisions\": {\"a\": [1, 2]}}");
    int64_t trial;
    double fid;
    char *w, *p;
    cr_assert_eq(sr_req_decode(req, &trial, &fid, &w, &p), 0);
    cr_assert_eq(trial, 42);
    cr_assert_eq(fid, 3);
    cr_assert_str_eq(w, "/tmp/w x.safetensors");
    cr_assert_str_eq(p, "{\"space\": \"S\", \"decisions\": {\"a\": [1, 2]}}");
    free(req);
    free(w);
    free(p);
    sr_metrics m, back;
    sr_metrics_init(&m);
    sr_metrics_init(&back);
    sr_metrics_set(&m, "accuracy", 0.5);
    char *rep = sr_rep_encode(7, 0, &m, "failed: \"quoted\"\n", 1);
    int ok, fatal;
    char *e;
    cr_assert_eq(sr_rep_decode(rep, &trial, &ok, &back, &e, &fatal), 0);
    cr_assert_eq(trial, 7);
    cr_assert_eq(ok, 0);
    cr_assert_eq(fatal, 1);
    cr_assert_str_eq(e, "failed: \"quoted\"\n");
    double v;
    cr_assert(sr_metrics_get(&back, "accuracy", &v) && v == 0.5);
    free(rep);
    free(e);
    sr_metrics_free(&m);
    sr_metrics_free(&back);
}

/* Random and truncated text never crashes the JSON reader. */
Test(search_core, json_reader_survives_garbage) {
    const char *seed = "{\"a\": [1, 2.5e-3, {\"b\": \"x\\u00e9\\n\"}], \"c\": null, \"d\": true}";
    size_t len = strlen(seed);
    char buf[256], err[200];
    srand(9);
    for (int rep = 0; rep < 3000; rep++) {
        size_t n = (size_t)rand() % (len + 1);
        memcpy(buf, seed, n);
        buf[n] = 0;
        for (int k = rand() % 4; k > 0 && n > 0; k--)
            buf[(size_t)rand() % n] = (char)(rand() % 256 ? rand() % 256 : 1);
        json_value *d = sr_json_parse(buf, err, sizeof err);
        if (d) {
            json_free(d);
        } else {
            cr_assert(strstr(err, "invalid JSON"), "%s", err);
        }
        sr_metrics m;
        sr_metrics_init(&m);
        sr_metrics_from_json(buf, &m, err, sizeof err);
        sr_metrics_free(&m);
    }
}

Test(search_core, metric_table) {
    const metric_info *m = metric_find("latency");
    cr_assert_not_null(m);
    cr_assert_str_eq(m->unit, "us");
    cr_assert(m->on_request && !m->is_static);
    cr_assert(metric_find("params")->is_static && metric_find("flops")->is_static &&
              metric_find("memory")->is_static);
    cr_assert_not(metric_find("accuracy")->is_static);
    cr_assert_null(metric_find("acuracy"));
    int n;
    const metric_info *t = metric_table(&n);
    int statics = 0;
    for (int i = 0; i < n; i++) statics += t[i].is_static;
    cr_assert(metric_find("ram")->is_static && metric_find("flash")->is_static);
    cr_assert_eq(statics, 5, "params, flops, memory, ram, flash are known before evaluation");
    /* a limit on static metrics only is checked before any training */
    sr_expr *e = sr_expr_bin(SR_EX_LT, sr_expr_metric("params", 1), sr_expr_num(1000));
    cr_assert(sr_expr_is_static(e));
    sr_expr_free(e);
    e = sr_expr_bin(SR_EX_LT, sr_expr_metric("latency", 1), sr_expr_num(1000));
    cr_assert_not(sr_expr_is_static(e));
    sr_expr_free(e);
}
