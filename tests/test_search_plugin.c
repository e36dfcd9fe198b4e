/* test_search_plugin.c: the strategy plugin loader (search path, ABI and
 * symbol checks, with fixture plugins compiled at test time) and the
 * reference random plugin (valid, active-aware, reproducible proposals). */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fixtures/search/fake_space.h"

#define RANDOM_SO NASC_BINARY_DIR "/plugins/nasc-random.so"

/* Compiles a one-file plugin into dir/name.so; returns its path. */
static const char *build_plugin(const char *dir, const char *name, const char *src) {
    static char so[1200];
    char c[1200], cmd[4000];
    snprintf(c, sizeof c, "%s/%s.c", dir, name);
    snprintf(so, sizeof so, "%s/%s.so", dir, name);
    FILE *f = fopen(c, "w");
    cr_assert_not_null(f);
    fputs(src, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "cc -shared -fPIC -I'%s/include' -o '%s' '%s'", NASC_SOURCE_DIR, so, c);
    cr_assert_eq(system(cmd), 0, "compiling the fixture plugin %s", name);
    return so;
}

#define PLUGIN_HEAD                                                                                          \
    "#include <string.h>\n#include \"nasc/strategy.h\"\n"                                                    \
    "static int cr(const nasc_space *s, const nasc_option *o, int n, unsigned long long seed, void **st, "   \
    "char *e, size_t c)"                                                                                     \
    "{(void)s;(void)o;(void)n;(void)seed;(void)e;(void)c;*st=0;return 0;}\n"                                 \
    "static int ask(void *s, nasc_point *p, char *e, size_t c){(void)s;(void)p;(void)e;(void)c;return 1;}\n" \
    "static void tell(void *s, const nasc_point *p, const nasc_result *r){(void)s;(void)p;(void)r;}\n"       \
    "static void des(void *s){(void)s;}\n"

Test(search_plugin, refuses_missing_symbol) {
    char dir[1024];
    fk_tmpdir(dir, sizeof dir, "nosym");
    const char *so = build_plugin(dir, "nasc-nosym", "int not_the_entry(void) { return 1; }\n");
    sr_plugin p;
    char err[1500];
    cr_assert_eq(sr_plugin_open(so, &p, err, sizeof err), -1);
    cr_assert(strstr(err, so) && strstr(err, "no symbol nasc_strategy_entry"), "%s", err);
}

Test(search_plugin, refuses_abi_mismatch) {
    char dir[1024];
    fk_tmpdir(dir, sizeof dir, "abi");
    const char *so = build_plugin(dir, "nasc-abi2",
                                  PLUGIN_HEAD "NASC_EXPORT int nasc_strategy_entry(uint32_t h, nasc_strategy "
                                              "*o) { (void)h; memset(o, 0, sizeof *o);"
                                              " o->abi_version = 2; o->struct_size = sizeof *o; o->name = "
                                              "\"abi2\"; o->create = (void *)cr; o->ask = ask;"
                                              " o->tell = tell; o->destroy = des; return 0; }\n");
    sr_plugin p;
    char err[1500];
    cr_assert_eq(sr_plugin_open(so, &p, err, sizeof err), -1);
    cr_assert(strstr(err, so), "%s", err);
    cr_assert(strstr(err, "ABI version 2 not supported (host supports 1)"), "%s", err);
}

Test(search_plugin, refuses_short_table_and_missing_functions) {
    char dir[1024];
    fk_tmpdir(dir, sizeof dir, "short");
    const char *so = build_plugin(
        dir, "nasc-short",
        PLUGIN_HEAD "NASC_EXPORT int nasc_strategy_entry(uint32_t h, nasc_strategy *o) { (void)h;"
                    " o->abi_version = NASC_STRATEGY_ABI_VERSION; o->struct_size = 16; return 0; }\n");
    sr_plugin p;
    char err[1500];
    cr_assert_eq(sr_plugin_open(so, &p, err, sizeof err), -1);
    cr_assert(strstr(err, "struct_size 16"), "%s", err);
    so = build_plugin(
        dir, "nasc-notell",
        PLUGIN_HEAD
        "NASC_EXPORT int nasc_strategy_entry(uint32_t h, nasc_strategy *o) { (void)h; memset(o, 0, sizeof "
        "*o);"
        " o->abi_version = NASC_STRATEGY_ABI_VERSION; o->struct_size = sizeof *o; o->name = \"x\";"
        " o->create = (void *)cr; o->ask = ask; o->destroy = des; return 0; }\n");
    cr_assert_eq(sr_plugin_open(so, &p, err, sizeof err), -1);
    cr_assert(strstr(err, "no tell"), "%s", err);
    cr_assert_eq(sr_plugin_open("no-such-strategy-xyz", &p, err, sizeof err), -1);
    cr_assert(strstr(err, "nasc-no-such-strategy-xyz.so"), "%s", err);
}

Test(search_plugin, finds_by_name_and_lists) {
    char dir[1024], cmd[3000];
    fk_tmpdir(dir, sizeof dir, "path");
    snprintf(cmd, sizeof cmd, "cp '%s' '%s/nasc-rnd2.so'", RANDOM_SO, dir);
    cr_assert_eq(system(cmd), 0);
    build_plugin(dir, "nasc-broken", "int x;\n");
    setenv("NASC_PLUGIN_PATH", dir, 1);
    sr_plugin p;
    char err[1500];
    cr_assert_eq(sr_plugin_open("rnd2", &p, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(p.s.name, "random");
    cr_assert(strstr(p.path, dir));
    sr_plugin_close(&p);
    sr_plugin_info *v;
    int n;
    cr_assert_eq(sr_plugins_list(&v, &n, err, sizeof err), 0);
    int saw_random = 0, saw_broken = 0;
    for (int i = 0; i < n; i++) {
        if (!strcmp(v[i].name, "random") && !v[i].error[0]) {
            saw_random = 1;
            cr_assert_eq(v[i].n_options, 1);
            cr_assert_str_eq(v[i].options[0].key, "max_retries");
            cr_assert_str_eq(v[i].options[0].default_value, "100");
        }
        if (!strcmp(v[i].name, "broken")) {
            saw_broken = 1;
            cr_assert(strstr(v[i].error, "no symbol"), "%s", v[i].error);
        }
    }
    cr_assert(saw_random && saw_broken);
    char *buf;
    size_t len;
    FILE *f = open_memstream(&buf, &len);
    sr_plugins_print(f, v, n);
    fclose(f);
    cr_assert(strstr(buf, "max_retries = 100"), "%s", buf);
    free(buf);
    sr_plugins_free(v, n);
}

/* Asks n points of a random strategy into a flat array of values. */
static void ask_points(uint64_t seed, int n, nasc_value *out, unsigned char *act) {
    sr_plugin p;
    char err[1500];
    cr_assert_eq(sr_plugin_open(RANDOM_SO, &p, err, sizeof err), 0, "%s", err);
    void *st;
    cr_assert_eq(p.s.create(&fk_space, NULL, 0, seed, &st, err, sizeof err), 0, "%s", err);
    for (int i = 0; i < n; i++) {
        nasc_point pt = {
            NASC_STRATEGY_ABI_VERSION, sizeof pt, FK_N, out + i * FK_N, act + i * FK_N, 0, i + 1, 0};
        cr_assert_eq(p.s.ask(st, &pt, err, sizeof err), 0, "%s", err);
    }
    p.s.destroy(st);
    sr_plugin_close(&p);
}

Test(search_plugin, random_proposals_valid_and_active_aware) {
    fk_init();
    enum { N = 400 };
    nasc_value *v = calloc(N * FK_N, sizeof *v);
    unsigned char *a = calloc(N * FK_N, 1);
    ask_points(11, N, v, a);
    int depth_seen[4] = {0}, width_active = 0;
    for (int i = 0; i < N; i++) {
        nasc_value *x = v + i * FK_N;
        unsigned char act[FK_N];
        nasc_point pt = {NASC_STRATEGY_ABI_VERSION, sizeof pt, FK_N, x, act, 0, 0, 0};
        cr_assert_eq(fk_normalize(NULL, &pt), 1, "point %d is valid and satisfies the require", i);
        cr_assert_eq(memcmp(act, a + i * FK_N, FK_N), 0, "the plugin's active flags are the host's");
        cr_assert(x[FK_LR].f >= 1e-3 && x[FK_LR].f <= 0.3);
        depth_seen[x[FK_DEPTH].i]++;
        width_active += act[FK_WIDTH];
        cr_assert_eq(act[FK_WIDTH], x[FK_DEPTH].i == 3);
    }
    for (int d = 1; d <= 3; d++)
        cr_assert_gt(depth_seen[d], N / 6, "depth %d drawn %d times", d, depth_seen[d]);
    cr_assert_gt(width_active, 0);
    /* log-uniform: about half the draws below the geometric mean */
    int below = 0;
    for (int i = 0; i < N; i++) below += v[i * FK_N + FK_LR].f < sqrt(1e-3 * 0.3);
    cr_assert(below > N / 2 - 60 && below < N / 2 + 60, "log-uniform lr: %d of %d below the middle", below,
              N);
    free(v);
    free(a);
}

Test(search_plugin, random_reproducible_under_seed) {
    fk_init();
    enum { N = 50 };
    nasc_value v1[N * FK_N], v2[N * FK_N], v3[N * FK_N];
    unsigned char a1[N * FK_N], a2[N * FK_N], a3[N * FK_N];
    memset(v1, 0, sizeof v1);
    memset(v2, 0, sizeof v2);
    memset(v3, 0, sizeof v3);
    ask_points(5, N, v1, a1);
    ask_points(5, N, v2, a2);
    ask_points(6, N, v3, a3);
    cr_assert_eq(memcmp(v1, v2, sizeof v1), 0, "same seed, same points");
    cr_assert_neq(memcmp(v1, v3, sizeof v1), 0, "another seed, other points");
}

Test(search_plugin, random_validates_options) {
    fk_init();
    sr_plugin p;
    char err[1500];
    cr_assert_eq(sr_plugin_open(RANDOM_SO, &p, err, sizeof err), 0, "%s", err);
    void *st = NULL;
    nasc_option bad[] = {{"population", "20"}};
    cr_assert_eq(p.s.create(&fk_space, bad, 1, 1, &st, err, sizeof err), -1);
    cr_assert(strstr(err, "unknown option 'population'"), "%s", err);
    nasc_option badv[] = {{"max_retries", "lots"}};
    cr_assert_eq(p.s.create(&fk_space, badv, 1, 1, &st, err, sizeof err), -1);
    cr_assert(strstr(err, "max_retries"), "%s", err);
    nasc_option ok[] = {{"max_retries", "0"}};
    cr_assert_eq(p.s.create(&fk_space, ok, 1, 1, &st, err, sizeof err), 0, "%s", err);
    p.s.destroy(st);
    sr_plugin_close(&p);
}

/* The plugin of docs/writing-a-strategy.md builds on its own and searches. */
Test(search_plugin, documented_example_plugin_searches) {
    fk_init();
    char dir[1024], so[1200], cmd[4000], db[1200];
    fk_tmpdir(dir, sizeof dir, "example");
    snprintf(so, sizeof so, "%s/nasc-climb.so", dir);
    snprintf(
        cmd, sizeof cmd,
        "cc -shared -fPIC -Wall -Wextra -Werror -I'%s/include' -o '%s' '%s/docs/example-plugin/climb.c' -lm",
        NASC_SOURCE_DIR, so, NASC_SOURCE_DIR);
    cr_assert_eq(system(cmd), 0);
    const char *ev = fk_evaluator();
    cr_assert_not_null(ev);
    char evcmd[1200];
    snprintf(evcmd, sizeof evcmd, "%s pipe", ev);
    snprintf(db, sizeof db, "%s/run.db", dir);
    sr_config c = fk_config(db, SR_EVAL_PIPE, evcmd, 40);
    c.strategy = so;
    nasc_option opts[] = {{"init", "5"}};
    c.strategy_opts = opts;
    c.n_strategy_opts = 1;
    sr_summary s;
    char err[1500] = "";
    cr_assert_eq(sr_run(&c, &fk_iface, &s, err, sizeof err), 0, "%s", err);
    cr_assert_eq(s.evaluated, 40, "--trials counts evaluations");
    cr_assert_eq(s.done + s.failed + s.infeasible, s.evaluated + s.cached + s.checked);
    cr_assert_eq(s.failed, 0);
    /* climbing finds the best depth (3) on this space */
    cr_assert(strstr(s.best_point, "\"depth\": 3"), "%s", s.best_point);
    sr_summary_free(&s);
}
