/* test_search_bananas.c: the predictor-guided strategy plugins (bananas,
 * predictor),
 * loaded as the host loads them and driven through the ABI by
 * fixtures/strategies/synth.h: valid, reproducible proposals; options
 * validated; a resumed run replays its tells into the same state; and on
 * a synthetic objective with known structure (the wide space: a sum of
 * per-decision scores, optimum 10) it finds better points than random
 * search and than regularized evolution with the same budget. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fixtures/strategies/synth.h"

/* Small fits keep the test quick on a loaded machine. */
static const nasc_option quick[] = {{"epochs", "60"}, {"ensemble", "3"}, {"hidden", "16"}};
static const nasc_option quick_gbt[] = {{"trees", "40"}, {"depth", "3"}};

typedef struct which {
    const char *name;
    const nasc_option *o;
    int n_o;
} which;
static const which plugins[] = {{"bananas", quick, 3}, {"predictor", quick_gbt, 2}};

static synth_plugin load(const char *name) {
    synth_plugin pl;
    char err[1200];
    cr_assert_eq(synth_load(name, &pl, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(pl.st.name, name);
    return pl;
}

static int same_sequence(const synth_space *s, const synth_run *a, const synth_run *b) {
    if (a->n != b->n) return 0;
    for (int t = 0; t < a->n; t++)
        if (!nasc_su_same_point(&s->sp, a->trials[t].vals, a->trials[t].act, b->trials[t].vals,
                                b->trials[t].act))
            return 0;
    return 1;
}

static void valid_and_reproducible(const char *name, const nasc_option *quick, int nq) {
    synth_plugin pl = load(name);
    synth_space s;
    synth_mixed(&s, 1);
    synth_run a, b, c;
    cr_assert_eq(synth_drive(&pl, &s, quick, nq, 7, 40, 3, synth_obj_mixed, &a), 0, "%s", a.err);
    cr_assert_eq(a.ask_error, 0, "%s", a.err);
    cr_assert_eq(a.invalid, 0, "%d invalid points", a.invalid);
    cr_assert_eq(s.n_bad, 0);
    cr_assert_eq(a.n, 40);
    cr_assert_eq(synth_drive(&pl, &s, quick, nq, 7, 40, 3, synth_obj_mixed, &b), 0);
    cr_assert(same_sequence(&s, &a, &b), "not reproducible under a seed");
    synth_run_free(&b);
    s.scramble = 1; /* garbage in inactive decisions changes nothing: they are masked */
    cr_assert_eq(synth_drive(&pl, &s, quick, nq, 7, 40, 3, synth_obj_mixed, &b), 0);
    s.scramble = 0;
    cr_assert(same_sequence(&s, &a, &b), "reads the values of inactive decisions");
    cr_assert_eq(synth_drive(&pl, &s, quick, nq, 8, 40, 3, synth_obj_mixed, &c), 0);
    cr_assert(!same_sequence(&s, &a, &c), "ignores its seed");
    synth_run_free(&a);
    synth_run_free(&b);
    synth_run_free(&c);
}

Test(bananas, valid_and_reproducible) {
    for (int k = 0; k < 2; k++) valid_and_reproducible(plugins[k].name, plugins[k].o, plugins[k].n_o);
}

static void options_are_checked(const char *name, const char *some_key) {
    synth_plugin pl = load(name);
    synth_space s;
    synth_mixed(&s, 0);
    void *st = NULL;
    char err[600] = "";
    nasc_option bad = {"bogus", "1"};
    cr_assert_eq(pl.st.create(&s.sp, &bad, 1, 1, &st, err, sizeof err), -1);
    cr_assert(strstr(err, name) && strstr(err, "bogus") && strstr(err, some_key), "%s", err);
    nasc_option zero = {some_key, "0"};
    cr_assert_eq(pl.st.create(&s.sp, &zero, 1, 1, &st, err, sizeof err), -1);
    cr_assert(strstr(err, some_key) && strstr(err, "0"), "%s", err);
    for (int i = 0; i < pl.st.n_option_docs; i++) {
        nasc_option o = {pl.st.option_docs[i].key, pl.st.option_docs[i].default_value};
        cr_assert_eq(pl.st.create(&s.sp, &o, 1, 1, &st, err, sizeof err), 0, "%s", err);
        pl.st.destroy(st);
    }
}

Test(bananas, options_are_checked) {
    options_are_checked("bananas", "ensemble");
    options_are_checked("predictor", "trees");
}

/* Replayed tells (a resume) rebuild the state: the continuation is
 * valid and the same every time. */
static void resume_replays_tells(const char *name, const nasc_option *quick, int nq) {
    synth_plugin pl = load(name);
    synth_space s;
    synth_mixed(&s, 1);
    synth_run first, a, b;
    cr_assert_eq(synth_drive(&pl, &s, quick, nq, 11, 30, 3, synth_obj_mixed, &first), 0);
    s.replay = &first;
    cr_assert_eq(synth_drive(&pl, &s, quick, nq, 12, 50, 3, synth_obj_mixed, &a), 0, "%s", a.err);
    cr_assert_eq(a.ask_error, 0, "%s", a.err);
    cr_assert_eq(a.invalid, 0);
    cr_assert_eq(synth_drive(&pl, &s, quick, nq, 12, 50, 3, synth_obj_mixed, &b), 0);
    cr_assert(same_sequence(&s, &a, &b), "%s: resumed run is not reproducible", name);
    synth_run_free(&first);
    synth_run_free(&a);
    synth_run_free(&b);
}

Test(bananas, resume_replays_tells) {
    for (int k = 0; k < 2; k++) resume_replays_tells(plugins[k].name, plugins[k].o, plugins[k].n_o);
}

/* Mean best (noiseless objective) after n trials over seeds 1..n_seeds. */
static double mean_best(const char *name, const nasc_option *o, int n_o, synth_space *s, int n, int n_seeds) {
    synth_plugin pl = load(name);
    double sum = 0;
    for (int seed = 1; seed <= n_seeds; seed++) {
        synth_run r;
        cr_assert_eq(synth_drive(&pl, s, o, n_o, (uint64_t)seed, n, 1, synth_obj_wide, &r), 0, "%s", r.err);
        cr_assert_eq(r.invalid, 0);
        sum += r.best;
        synth_run_free(&r);
    }
    return sum / n_seeds;
}

Test(bananas, learns_a_known_structure) {
    synth_space s;
    synth_wide(&s, 10, 1, 1);
    int n = 60, seeds = 6;
    double ban = mean_best("bananas", quick, 3, &s, n, seeds),
           evo = mean_best("evolution", NULL, 0, &s, n, seeds);
    double gbt = mean_best("predictor", quick_gbt, 2, &s, n, seeds), rnd = 0;
    for (int seed = 1; seed <= seeds; seed++) rnd += synth_random_best(&s, (uint64_t)seed, n, synth_obj_wide);
    rnd /= seeds;
    cr_log_info(
        "wide space, %d trials, %d seeds: bananas %.3f, predictor %.3f, evolution %.3f, random %.3f\n", n,
        seeds, ban, gbt, evo, rnd);
    cr_assert_gt(gbt, rnd + 0.5, "predictor %.3f vs random %.3f", gbt, rnd);
    cr_assert_gt(gbt, evo, "predictor %.3f vs evolution %.3f", gbt, evo);
    cr_assert_gt(ban, rnd + 0.5, "bananas %.3f vs random %.3f", ban, rnd);
    cr_assert_gt(ban, evo, "bananas %.3f vs evolution %.3f", ban, evo);
}
