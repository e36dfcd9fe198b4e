/* test_search_warm.c: the zero-cost warm start of the evolution, bananas
 * and predictor plugins (nasc_su_warm, nasc_space.proxy_scores), driven
 * through the ABI by fixtures/strategies/synth.h with a host whose proxy
 * is known: the opening points are the best of the sample the plugin had
 * scored, in order; the sample is seeded; a host without the service (an
 * older, shorter nasc_space) is refused only when the option asks for it;
 * bad option values and unknown proxies fail create with a clear message. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "fixtures/strategies/synth.h"

/* The synthetic host with a proxy service: "synflow" scores a point by the
 * wide space's objective (a perfect proxy); every point it scores is kept. */
typedef struct warm_host {
    synth_space s; /* first: sp.host points at it */
    int calls, n;
    nasc_value vals[4096][32];
    unsigned char act[4096][32];
    double score[4096];
} warm_host;

static warm_host H;

static int fake_proxy(void *host, const char *proxy, const nasc_point *pts, int n, double *scores, char *err,
                      size_t cap) {
    warm_host *h = host;
    if (strcmp(proxy, "synflow") && strcmp(proxy, "params")) {
        snprintf(err, cap, "'%s' is not a training-free proxy (synflow, params)", proxy);
        return -1;
    }
    if (n == 0) return 0;
    h->calls++;
    for (int i = 0; i < n && h->n < 4096; i++) {
        synth_eval ev;
        synth_obj_wide(&h->s, &pts[i], NULL, &ev);
        /* params: a proxy undefined on every third point (NaN: missing) */
        scores[i] = strcmp(proxy, "params") ? ev.obj[0] : (h->n % 3 == 0 ? NAN : -ev.obj[0]);
        memcpy(h->vals[h->n], pts[i].values, sizeof(nasc_value) * (size_t)pts[i].n);
        memcpy(h->act[h->n], pts[i].active, (size_t)pts[i].n);
        h->score[h->n++] = scores[i];
    }
    return 0;
}

static void host_init(void) {
    memset(&H, 0, sizeof H);
    synth_wide(&H.s, 6, 0, 1);
    H.s.sp.proxy_scores = fake_proxy;
}

static synth_plugin load(const char *name) {
    synth_plugin pl;
    char err[1200];
    cr_assert_eq(synth_load(name, &pl, err, sizeof err), 0, "%s", err);
    return pl;
}

/* Index of the k-th best scored point (ties: the first scored), by sign. */
static int kth_best(int k, int sign) {
    int used[4096] = {0}, pick = -1;
    for (int r = 0; r <= k; r++) {
        pick = -1;
        for (int i = 0; i < H.n; i++)
            if (!used[i] && isfinite(H.score[i]) && (pick < 0 || sign * H.score[i] > sign * H.score[pick]))
                pick = i;
        cr_assert(pick >= 0);
        used[pick] = 1;
    }
    return pick;
}

/* The first `first` asks are the best `first` of the scored sample, in order. */
static void opens_with_best(const char *name, const nasc_option *o, int no, int first, int sign) {
    synth_plugin pl = load(name);
    host_init();
    synth_run a;
    cr_assert_eq(synth_drive(&pl, &H.s, o, no, 11, first + 5, 1, synth_obj_wide, &a), 0, "%s", a.err);
    cr_assert_eq(a.ask_error, 0, "%s", a.err);
    cr_assert_eq(H.calls, 1, "%s: the sample is scored once", name);
    cr_assert_eq(H.n, 40, "%s: warm_start=40 scores 40 distinct points (got %d)", name, H.n);
    for (int i = 0; i < H.n; i++)
        for (int j = 0; j < i; j++)
            cr_assert(!nasc_su_same_point(&H.s.sp, H.vals[i], H.act[i], H.vals[j], H.act[j]), "duplicate");
    for (int k = 0; k < first; k++) {
        int b = kth_best(k, sign);
        cr_assert(nasc_su_same_point(&H.s.sp, a.trials[k].vals, a.trials[k].act, H.vals[b], H.act[b]),
                  "%s: ask %d is not the warm start's %d-th best", name, k + 1, k + 1);
    }
    /* the same seed: the same sample and the same asks */
    nasc_value v0[32];
    memcpy(v0, H.vals[0], sizeof v0);
    synth_run b;
    host_init();
    cr_assert_eq(synth_drive(&pl, &H.s, o, no, 11, first + 5, 1, synth_obj_wide, &b), 0, "%s", b.err);
    cr_assert_eq(memcmp(v0, H.vals[0], sizeof v0), 0);
    for (int k = 0; k < a.n; k++)
        cr_assert(nasc_su_same_point(&H.s.sp, a.trials[k].vals, a.trials[k].act, b.trials[k].vals,
                                     b.trials[k].act));
    synth_run_free(&a);
    synth_run_free(&b);
}

static const nasc_option evo_warm[] = {{"population", "6"}, {"sample", "2"}, {"warm_start", "40"}};
static const nasc_option ban_warm[] = {
    {"init", "5"}, {"epochs", "20"}, {"ensemble", "2"}, {"hidden", "8"}, {"warm_start", "40"}};
static const nasc_option gbt_warm[] = {{"init", "5"}, {"trees", "10"}, {"warm_start", "40"}};

Test(warm, evolution_population_is_the_proxy_top) { opens_with_best("evolution", evo_warm, 3, 6, 1); }
Test(warm, bananas_initial_set_is_the_proxy_top) { opens_with_best("bananas", ban_warm, 5, 5, 1); }
Test(warm, predictor_initial_set_is_the_proxy_top) { opens_with_best("predictor", gbt_warm, 3, 5, 1); }

/* -NAME ranks the smallest first; points the proxy is undefined on are left out. */
Test(warm, negated_proxy_and_missing_scores) {
    const nasc_option o[] = {
        {"population", "6"}, {"sample", "2"}, {"warm_start", "40"}, {"warm_proxy", "-params"}};
    opens_with_best("evolution", o, 4, 6, -1);
    synth_plugin pl = load("evolution");
    host_init();
    synth_run a;
    cr_assert_eq(synth_drive(&pl, &H.s, o, 4, 11, 6, 1, synth_obj_wide, &a), 0, "%s", a.err);
    for (int k = 0; k < 6; k++)
        for (int i = 0; i < H.n; i++)
            if (nasc_su_same_point(&H.s.sp, a.trials[k].vals, a.trials[k].act, H.vals[i], H.act[i]))
                cr_assert(isfinite(H.score[i]), "a point without a score was asked as a warm-start point");
    synth_run_free(&a);
}

/* Without the option nothing is scored and the asks are as before. */
Test(warm, off_by_default) {
    synth_plugin pl = load("evolution");
    host_init();
    const nasc_option o[] = {{"population", "6"}, {"sample", "2"}};
    synth_run a;
    cr_assert_eq(synth_drive(&pl, &H.s, o, 2, 11, 12, 1, synth_obj_wide, &a), 0, "%s", a.err);
    cr_assert_eq(H.calls, 0);
    H.s.sp.struct_size = (uint32_t)offsetof(nasc_space, proxy_scores); /* an older host */
    synth_run b;
    cr_assert_eq(synth_drive(&pl, &H.s, o, 2, 11, 12, 1, synth_obj_wide, &b), 0, "%s", b.err);
    for (int k = 0; k < a.n; k++)
        cr_assert(nasc_su_same_point(&H.s.sp, a.trials[k].vals, a.trials[k].act, b.trials[k].vals,
                                     b.trials[k].act));
    synth_run_free(&a);
    synth_run_free(&b);
}

static void refused(const char *name, const nasc_option *o, int no, const char *msg) {
    synth_plugin pl = load(name);
    void *state = NULL;
    char err[600] = "";
    cr_assert_eq(pl.st.create(&H.s.sp, o, no, 1, &state, err, sizeof err), -1, "%s accepted", name);
    cr_assert(strstr(err, msg), "%s: '%s' lacks '%s'", name, err, msg);
}

Test(warm, bad_values_are_refused) {
    host_init();
    const char *names[] = {"evolution", "bananas", "predictor"};
    for (int k = 0; k < 3; k++) {
        const char *n = names[k];
        refused(n, (nasc_option[]){{"warm_start", "-1"}}, 1,
                "option 'warm_start' must be an integer in [0, 1e+06]");
        refused(n, (nasc_option[]){{"warm_start", "many"}}, 1,
                "option 'warm_start' must be an integer in [0, 1e+06]");
        refused(n, (nasc_option[]){{"warm_start", "100"}, {"warm_proxy", "synflw"}}, 2,
                "option 'warm_proxy': 'synflw' is not a training-free proxy (synflow, params)");
        refused(n, (nasc_option[]){{"warm_start", "100"}, {"warm_proxy", "\"\""}}, 2,
                "option 'warm_proxy' must be a name");
        refused(n, (nasc_option[]){{"warm_proxy", "snip"}}, 1, "option 'warm_proxy' needs warm_start=N");
    }
    H.s.sp.struct_size = (uint32_t)offsetof(nasc_space, proxy_scores);
    refused("evolution", (nasc_option[]){{"warm_start", "100"}}, 1,
            "evolution: warm_start needs a host that computes training-free proxies");
    H.s.sp.struct_size = sizeof H.s.sp;
    H.s.sp.proxy_scores = NULL;
    refused("bananas", (nasc_option[]){{"warm_start", "100"}}, 1,
            "bananas: warm_start needs a host that computes training-free proxies");
}
