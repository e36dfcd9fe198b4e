/* drv_folder.c: the run folder, the one place that decides which files a
 * search keeps beside its store and what they are called.  sr_run gets the
 * names through sr_layout; the builtin evaluator asks for checkpoints. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "driver.h"
#include "hash.h"

static int folder_trial_weights(const void *ud, int64_t id, char *buf, size_t cap) {
    return drv_folder_trial_weights(ud, id, buf, cap);
}

void drv_folder_init(drv_folder *f, const char *db, const char *space) {
    memset(f, 0, sizeof *f);
    if (db)
        snprintf(f->db, sizeof f->db, "%s", db);
    else
        snprintf(f->db, sizeof f->db, "runs/%s.db", space ? space : "search");
    snprintf(f->stem, sizeof f->stem, "%s", f->db);
    size_t n = strlen(f->stem);
    if (n > 3 && !strcmp(f->stem + n - 3, ".db")) f->stem[n - 3] = 0;
    snprintf(f->best_json, sizeof f->best_json, "%s.best.json", f->stem);
    snprintf(f->front_json, sizeof f->front_json, "%s.front.json", f->stem);
    snprintf(f->best_weights, sizeof f->best_weights, "%s.best.safetensors", f->stem);
    snprintf(f->weights_dir, sizeof f->weights_dir, "%s.weights", f->stem);
    f->layout.best_json = f->best_json;
    f->layout.front_json = f->front_json;
    f->layout.best_weights = f->best_weights;
    f->layout.trial_weights = folder_trial_weights;
    f->layout.ud = f;
}

int drv_folder_create(const drv_folder *f, char *err, size_t cap) {
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", f->db);
    for (char *q = buf + 1; *q; q++) {
        if (*q != '/') continue;
        *q = 0;
        if (mkdir(buf, 0777) && errno != EEXIST) {
            snprintf(err, cap, "cannot create the folder %s: %s", buf, strerror(errno));
            return -1;
        }
        *q = '/';
    }
    return 0;
}

int drv_folder_trial_weights(const drv_folder *f, int64_t id, char *buf, size_t cap) {
    if (mkdir(f->weights_dir, 0777) && errno != EEXIST) return -1;
    snprintf(buf, cap, "%s/trial-%lld.safetensors", f->weights_dir, (long long)id);
    return 0;
}

int drv_folder_retrain_weights(const drv_folder *f, int64_t id, char *buf, size_t cap) {
    if (mkdir(f->weights_dir, 0777) && errno != EEXIST) return -1;
    snprintf(buf, cap, "%s/retrain-%lld.safetensors", f->weights_dir, (long long)id);
    return 0;
}

void drv_folder_checkpoint(const drv_folder *f, const char *point_json, char *buf, size_t cap) {
    snprintf(buf, cap, "%s/ckpt-%016llx.safetensors", f->weights_dir,
             (unsigned long long)hash_fnv1a(point_json));
}

void drv_folder_latency(const drv_folder *f, const char *point_json, char *buf, size_t cap) {
    uint64_t h = hash_fnv1a(point_json);
    if (mkdir(f->weights_dir, 0777) && errno != EEXIST) {
        buf[0] = 0;
        return;
    }
    snprintf(buf, cap, "%s/latency-%016llx.txt", f->weights_dir, (unsigned long long)h);
}

/* OUT's length without a trailing ".safetensors": the stem the supernet's
 * companion files share. */
static int supernet_stem(const char *out) {
    size_t n = strlen(out);
    return n > 12 && !strcmp(out + n - 12, ".safetensors") ? (int)(n - 12) : (int)n;
}

void drv_folder_supernet_checkpoint(const char *out, char *buf, size_t cap) {
    snprintf(buf, cap, "%.*s.ckpt.safetensors", supernet_stem(out), out);
}

void drv_folder_darts(const char *out, char *point, char *alpha, char *lut, size_t cap) {
    int k = supernet_stem(out);
    snprintf(point, cap, "%.*s.point.json", k, out);
    snprintf(alpha, cap, "%.*s.alpha.json", k, out);
    snprintf(lut, cap, "%.*s.latency.json", k, out);
}
