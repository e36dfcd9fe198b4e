/* drv_retrain.c: `search { retrain = K }` and `nasc search --retrain K`
 * (docs/one-shot.md): at the end of a search, the top K distinct points
 * by the first objective are trained stand-alone, as `nasc train` would
 * (the train section's recipe, from a fresh initialisation), and each
 * result is stored in the store's retrain table, linked to its trial, so
 * the report sets the search's scores (a supernet's accuracy, say) against
 * stand-alone accuracy.  A point retrained already (a resumed search) is
 * not trained again; one killed while training is. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "driver.h"
#include "sr_util.h"

static const sr_retrain_row *row_of(const sr_retrain_row *v, int n, int64_t trial) {
    for (int i = 0; i < n; i++)
        if (v[i].trial == trial) return &v[i];
    return NULL;
}

static const sr_trial_row *trial_of(const sr_trial_row *v, int n, int64_t id) {
    for (int i = 0; i < n; i++)
        if (v[i].id == id) return &v[i];
    return NULL;
}

/* The builtin evaluator as a stand-alone training: the full recipe, test
 * accuracy when the data has a test set, nothing the search measured on
 * request, no multi-fidelity checkpoints; all the cores. */
static drv_space standalone(const drv_space *h) {
    drv_space a = *h;
    a.want_latency = a.want_throughput = a.want_footprint = false;
    a.want_proxies = a.need_proxies = 0;
    a.proxy_eval = false;
    a.want_test = true;
    a.folder = NULL;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    a.threads = cores > 0 ? (int)cores : 1;
    return a;
}

/* Trains one point and stores its row (running first, so a kill leaves
 * it to be retrained on resume). */
static int retrain_one(drv_space *alone, sr_store *st, const drv_folder *f, const sr_trial_row *t, int rank,
                       FILE *progress, char *err, size_t cap) {
    char wpath[1200] = "", why[1024] = "";
    sr_retrain_row r = {0};
    r.trial = t->id;
    r.rank = rank;
    r.started = sr_wall();
    snprintf(r.status, sizeof r.status, "running");
    if (drv_folder_retrain_weights(f, t->id, wpath, sizeof wpath)) wpath[0] = 0;
    if (sr_store_retrain_put(st, &r, err, cap)) return -1;
    sr_space_iface bi = drv_space_iface(alone);
    sr_metrics m;
    sr_metrics_init(&m);
    double t0 = sr_now();
    int rc = bi.eval(bi.ud, t->point, 0, wpath, &m, why, sizeof why);
    char *json = rc ? NULL : sr_metrics_to_json(&m);
    snprintf(r.status, sizeof r.status, "%s", rc || !json ? "failed" : "done");
    r.metrics = json;
    r.error = rc ? why : json ? NULL : "out of memory";
    r.weights = !rc && wpath[0] ? wpath : NULL;
    r.finished = sr_wall();
    int put = sr_store_retrain_put(st, &r, err, cap);
    double acc = NAN;
    if (progress && !rc && sr_metrics_get(&m, "accuracy", &acc))
        fprintf(progress, "  trial %lld: stand-alone accuracy %.4f (%.1f s)\n", (long long)t->id, acc,
                sr_now() - t0);
    else if (progress && rc)
        fprintf(progress, "  trial %lld: retraining failed: %s\n", (long long)t->id, why);
    free(json);
    sr_metrics_free(&m);
    return put;
}

int drv_retrain(drv_space *h, const drv_folder *f, int k, FILE *progress, char *err, size_t cap) {
    if (k <= 0) return 0;
    int64_t *ids = calloc((size_t)k, sizeof *ids);
    if (!ids) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    int n = 0, rc = -1, nre = 0, nt = 0;
    sr_store *st = NULL;
    sr_retrain_row *have = NULL;
    sr_trial_row *t = NULL;
    if (sr_report_ranked(f->db, k, ids, &n, err, cap) || sr_store_open(f->db, 0, &st, err, cap) ||
        sr_store_retrain_rows(st, &have, &nre, err, cap) || sr_store_trials(st, &t, &nt, err, cap))
        goto out;
    drv_space alone = standalone(h);
    int todo = 0;
    for (int i = 0; i < n; i++) {
        const sr_retrain_row *r = row_of(have, nre, ids[i]);
        todo += !r || strcmp(r->status, "done");
    }
    if (progress && todo)
        fprintf(progress, "retraining the top %d point%s stand-alone%s\n", n, n == 1 ? "" : "s",
                todo < n ? " (the others were retrained before)" : "");
    rc = 0;
    for (int i = 0; !rc && i < n; i++) {
        const sr_retrain_row *r = row_of(have, nre, ids[i]);
        const sr_trial_row *tr = trial_of(t, nt, ids[i]);
        if (!tr) continue;
        if (r && !strcmp(r->status, "done")) {
            if (r->rank != i + 1) { /* a resumed search with a larger budget reorders them */
                sr_retrain_row moved = *r;
                moved.rank = i + 1;
                rc = sr_store_retrain_put(st, &moved, err, cap);
            }
            continue;
        }
        rc = retrain_one(&alone, st, f, tr, i + 1, progress, err, cap);
    }
    /* Rows of points no longer in the top k (a resumed search with a larger
     * budget found better ones): finished ones are kept, ranked after the
     * top k; unfinished ones go. */
    for (int j = 0, after = n; !rc && j < nre; j++) {
        bool selected = false;
        for (int i = 0; i < n && !selected; i++) selected = ids[i] == have[j].trial;
        if (selected) continue;
        if (strcmp(have[j].status, "done")) {
            rc = sr_store_retrain_delete(st, have[j].trial, err, cap);
        } else if (have[j].rank != ++after) {
            sr_retrain_row moved = have[j];
            moved.rank = after;
            rc = sr_store_retrain_put(st, &moved, err, cap);
        }
    }
out:
    sr_trials_free(t, nt);
    sr_retrain_free(have, nre);
    sr_store_close(st);
    free(ids);
    return rc;
}
