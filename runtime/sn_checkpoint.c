/* sn_checkpoint.c: a supernet's training checkpoint (sn_checkpoint.h). */
#include "sn_checkpoint.h"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"

/* Tensor i's optimizer state j as a file tensor named "optim.<name>.<suffix>". */
static char *state_name(const sn_tensor *t, const char *suffix) {
    size_t len = strlen(t->name) + strlen(suffix) + 8;
    char *s = malloc(len);
    if (s) snprintf(s, len, "optim.%s.%s", t->name, suffix);
    return s;
}

static int count_tensors(const sn_net *n) {
    int k = n->n;
    for (int i = 0; i < n->n; i++) k += n->t[i].opt ? rt_optim_state_count(n->t[i].opt) : 0;
    return k;
}

int sn_checkpoint_save(const sn_net *n, const char *path, const char *const *keys, const char *const *vals,
                       int n_meta, char *err, size_t cap) {
    int total = count_tensors(n), k = 0, rc = -1;
    rt_st_tensor *ts = calloc((size_t)total + 1, sizeof *ts);
    char **names = calloc((size_t)total + 1, sizeof *names);
    const char **mk = calloc((size_t)n_meta + 1, sizeof *mk), **mv = calloc((size_t)n_meta + 1, sizeof *mv);
    strbuf steps = {0};
    if (!ts || !names || !mk || !mv) goto oom;
    for (int i = 0; i < n->n; i++) {
        const sn_tensor *t = &n->t[i];
        if (!t->data) {
            snprintf(err, cap, "checkpoint %s: the supernet has no weights yet", path);
            goto out;
        }
        ts[k].name = t->name;
        ts[k].rank = t->shape.rank;
        for (int d = 0; d < t->shape.rank; d++) ts[k].shape[d] = t->shape.d[d];
        ts[k++].data = t->data;
        strbuf_printf(&steps, "%s%" PRId64, i ? " " : "", t->opt ? rt_optim_steps(t->opt) : (int64_t)-1);
        for (int j = 0; t->opt && j < rt_optim_state_count(t->opt); j++) {
            const char *suffix;
            int p;
            float *data;
            int64_t size;
            rt_optim_state_get(t->opt, j, &suffix, &p, &data, &size);
            if (!(names[k] = state_name(t, suffix))) goto oom;
            ts[k].name = names[k];
            ts[k].rank = 1;
            ts[k].shape[0] = size;
            ts[k++].data = data;
        }
    }
    for (int i = 0; i < n_meta; i++) mk[i] = keys[i], mv[i] = vals[i];
    mk[n_meta] = "nasc.sn_optim_steps", mv[n_meta] = steps.data ? steps.data : "";
    rc = rt_st_write(path, ts, k, mk, mv, n_meta + 1, err, cap);
    goto out;
oom:
    snprintf(err, cap, "out of memory writing checkpoint %s", path);
out:
    for (int i = 0; i < total; i++) free(names[i]);
    free(names);
    free(ts);
    free(mk);
    free(mv);
    strbuf_free(&steps);
    return rc;
}

static bool same_shape(const rt_st_tensor *f, const ir_shape *s) {
    if (f->rank != s->rank) return false;
    for (int d = 0; d < s->rank; d++)
        if (f->shape[d] != s->d[d]) return false;
    return true;
}

/* Makes t's optimizer (with a zero gradient) and fills its state from f. */
static int restore_optim(sn_tensor *t, int64_t steps, const rt_st_file *f, const char *path,
                         const rt_optim_cfg *cfg, char *err, size_t cap) {
    int64_t size = ir_shape_numel(&t->shape);
    if (!t->grad && !(t->grad = calloc((size_t)(size > 0 ? size : 1), sizeof(float)))) goto oom;
    if (!t->opt && !(t->opt = rt_optim_new(cfg, 1, &t->data, &t->grad, &size))) goto oom;
    for (int j = 0; j < rt_optim_state_count(t->opt); j++) {
        const char *suffix;
        int p;
        float *data;
        int64_t sz;
        rt_optim_state_get(t->opt, j, &suffix, &p, &data, &sz);
        char *nm = state_name(t, suffix);
        if (!nm) goto oom;
        const rt_st_tensor *s = rt_st_find(f, nm);
        if (!s || s->rank != 1 || s->shape[0] != sz) {
            snprintf(err, cap,
                     "checkpoint %s has no optimizer state '%s' of %lld values (another optimizer?)", path,
                     nm, (long long)sz);
            free(nm);
            return -1;
        }
        free(nm);
        memcpy(data, s->data, sizeof(float) * (size_t)sz);
    }
    rt_optim_set_steps(t->opt, steps);
    return 0;
oom:
    snprintf(err, cap, "out of memory reading checkpoint %s", path);
    return -1;
}

int sn_checkpoint_restore(sn_net *n, const rt_st_file *f, const char *path, const rt_optim_cfg *cfg,
                          char *err, size_t cap) {
    const char *steps = rt_st_meta(f, "nasc.sn_optim_steps");
    if (!steps) {
        snprintf(err, cap, "%s is not a supernet checkpoint (no \"nasc.sn_optim_steps\" metadata)", path);
        return -1;
    }
    for (int i = 0; i < n->n; i++) {
        sn_tensor *t = &n->t[i];
        const rt_st_tensor *s = rt_st_find(f, t->name);
        char *end;
        long long st = strtoll(steps, &end, 10);
        if (end == steps || !s || !same_shape(s, &t->shape)) {
            snprintf(err, cap, "checkpoint %s does not fit this supernet: %s %s", path, t->name,
                     end == steps ? "has no optimizer step count"
                     : s          ? "has another shape"
                                  : "is missing");
            return -1;
        }
        steps = end;
        int64_t cnt = ir_shape_numel(&t->shape);
        if (!t->data && !(t->data = malloc(sizeof(float) * (size_t)(cnt > 0 ? cnt : 1)))) {
            snprintf(err, cap, "out of memory reading checkpoint %s", path);
            return -1;
        }
        memcpy(t->data, s->data, sizeof(float) * (size_t)cnt);
        if (st >= 0 && restore_optim(t, st, f, path, cfg, err, cap)) return -1;
    }
    return 0;
}
