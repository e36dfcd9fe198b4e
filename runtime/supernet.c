/* supernet.c: the shared weight store of a supernet (supernet.h): merging
 * subnet graphs into the largest tensors, slicing them back out, the
 * per-tensor optimizer step and the safetensors file. */
#include "supernet.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "exec.h"
#include "safetensors.h"

static const char *const role_names[] = {"weight", "bias", "running_mean", "running_var"};

static uint64_t fnv(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

sn_net *sn_new(void) { return calloc(1, sizeof(sn_net)); }

void sn_free(sn_net *n) {
    if (!n) return;
    for (int i = 0; i < n->n; i++) {
        free(n->t[i].name);
        free(n->t[i].data);
        free(n->t[i].grad);
        rt_optim_free(n->t[i].opt);
    }
    free(n->t);
    free(n->hash);
    free(n);
}

static int find_index(const sn_net *n, const char *name) {
    if (!n->hcap) return -1;
    for (uint64_t i = fnv(name) & (uint64_t)(n->hcap - 1);; i = (i + 1) & (uint64_t)(n->hcap - 1)) {
        int k = n->hash[i];
        if (!k) return -1;
        if (!strcmp(n->t[k - 1].name, name)) return k - 1;
    }
}

sn_tensor *sn_find(const sn_net *n, const char *name) {
    int i = find_index(n, name);
    return i < 0 ? NULL : &n->t[i];
}

static void hash_put(sn_net *n, int idx) {
    uint64_t i = fnv(n->t[idx].name) & (uint64_t)(n->hcap - 1);
    while (n->hash[i]) i = (i + 1) & (uint64_t)(n->hcap - 1);
    n->hash[i] = idx + 1;
}

/* Appends a tensor (name copied); -1 when out of memory. */
static int add_tensor(sn_net *n, const char *name) {
    if (n->n == n->cap) {
        int cap = n->cap ? 2 * n->cap : 64;
        sn_tensor *t = realloc(n->t, (size_t)cap * sizeof *t);
        if (!t) return -1;
        n->t = t;
        n->cap = cap;
    }
    if (2 * (n->n + 1) > n->hcap) {
        int hcap = n->hcap ? 2 * n->hcap : 128;
        int *h = calloc((size_t)hcap, sizeof *h);
        if (!h) return -1;
        free(n->hash);
        n->hash = h;
        n->hcap = hcap;
        for (int i = 0; i < n->n; i++) hash_put(n, i);
    }
    sn_tensor *t = &n->t[n->n];
    memset(t, 0, sizeof *t);
    if (!(t->name = malloc(strlen(name) + 1))) return -1;
    strcpy(t->name, name);
    hash_put(n, n->n);
    return n->n++;
}

static void param_name(const ir_node *nd, const ir_param *p, char *buf, size_t cap) {
    snprintf(buf, cap, "%s.%s", nd->key, role_names[p->role]);
}

/* Grouped convolutions share weights only with the same grouping:
 * depthwise (groups = channels) slices like a plain conv, any other
 * grouping would mix channels of different groups. */
static int groups_kind(const ir_node *nd) {
    if (nd->op == IR_LINEAR && nd->heads > 0) return SN_PACKED_QKV;
    if (nd->op != IR_CONV2D && nd->op != IR_CONV1D) return 0;
    if (nd->groups <= 1) return 0;
    return nd->params[0].shape.d[1] == 1 ? -1 : nd->groups;
}

int sn_merge(sn_net *n, const ir_graph *g, char *err, size_t cap) {
    char name[1024];
    /* Check everything first, so a failure leaves the store unchanged. */
    for (int i = 0; i < g->n_nodes; i++) {
        const ir_node *nd = &g->nodes[i];
        if (!nd->key) continue;
        for (int p = 0; p < nd->n_params; p++) {
            param_name(nd, &nd->params[p], name, sizeof name);
            const sn_tensor *t = sn_find(n, name);
            if (!t) continue;
            if (t->op != nd->op || t->shape.rank != nd->params[p].shape.rank) {
                snprintf(err, cap, "layer %s is a %s in one point and a %s of another rank in another",
                         nd->name, ir_op_name(t->op), ir_op_name(nd->op));
                return -1;
            }
            if (t->groups_kind != groups_kind(nd)) {
                snprintf(err, cap,
                         "layer %s changes its grouping (groups = %d here): grouped filters cannot be "
                         "sliced from one another",
                         nd->name, nd->groups);
                return -1;
            }
        }
    }
    for (int i = 0; i < g->n_nodes; i++) {
        const ir_node *nd = &g->nodes[i];
        if (!nd->key) continue;
        for (int p = 0; p < nd->n_params; p++) {
            const ir_param *pr = &nd->params[p];
            param_name(nd, pr, name, sizeof name);
            int k = find_index(n, name);
            if (k < 0) {
                if ((k = add_tensor(n, name)) < 0) {
                    snprintf(err, cap, "out of memory");
                    return -1;
                }
                sn_tensor *t = &n->t[k];
                t->op = nd->op;
                t->role = pr->role;
                t->trainable = pr->trainable;
                t->groups_kind = groups_kind(nd);
                t->shape = pr->shape;
                continue;
            }
            sn_tensor *t = &n->t[k];
            for (int d = 0; d < pr->shape.rank; d++)
                if (pr->shape.d[d] > t->shape.d[d]) t->shape.d[d] = pr->shape.d[d];
        }
    }
    return 0;
}

int64_t sn_numel(const sn_net *n) {
    int64_t s = 0;
    for (int i = 0; i < n->n; i++)
        if (n->t[i].trainable) s += ir_shape_numel(&n->t[i].shape);
    return s;
}

/* The initialisation reuses rt_params_init on a graph with one node per
 * layer at its largest shape, so fans (and so bounds) are the largest
 * layer's, as a stand-alone network of the largest subnet would have. */
int sn_alloc(sn_net *n, uint64_t seed, char *err, size_t cap) {
    ir_graph g = {0};
    ir_node *nodes = calloc((size_t)(n->n + 1), sizeof *nodes);
    if (!nodes) goto oom;
    int nn = 0;
    for (int i = 0; i < n->n;) {
        /* tensors of one layer are adjacent (sn_merge adds them in order) */
        const char *dot = strrchr(n->t[i].name, '.');
        size_t klen = (size_t)(dot - n->t[i].name);
        ir_node *nd = &nodes[nn++];
        nd->op = n->t[i].op;
        int j = i;
        while (j < n->n && nd->n_params < IR_MAX_PARAMS && !strncmp(n->t[j].name, n->t[i].name, klen) &&
               n->t[j].name[klen] == '.') {
            ir_param *p = &nd->params[nd->n_params++];
            p->role = n->t[j].role;
            p->shape = n->t[j].shape;
            p->trainable = n->t[j].trainable;
            j++;
        }
        i = j;
    }
    g.n_nodes = nn;
    g.nodes = nodes;
    if (rt_params_init(&g, INIT_KAIMING, seed)) {
        rt_params_free(&g);
        free(nodes);
        goto oom;
    }
    for (int i = 0, t = 0; i < nn; i++)
        for (int p = 0; p < nodes[i].n_params; p++, t++) {
            free(n->t[t].data);
            n->t[t].data = nodes[i].params[p].data;
        }
    free(nodes);
    return 0;
oom:
    snprintf(err, cap, "out of memory for the supernet's %lld weights", (long long)sn_numel(n));
    return -1;
}

int64_t sn_offset(const sn_tensor *t, const ir_shape *sub, int64_t idx) {
    int64_t coord[IR_MAX_RANK];
    for (int d = sub->rank - 1; d >= 0; d--) {
        coord[d] = idx % sub->d[d];
        idx /= sub->d[d];
    }
    int64_t off = 0;
    bool centre = t->role == PARAM_WEIGHT && t->shape.rank >= 3;
    for (int d = 0; d < sub->rank; d++) {
        int64_t c = coord[d];
        if (centre && d >= 2) c += (t->shape.d[d] - sub->d[d]) / 2;
        if (d == 0 && t->groups_kind == SN_PACKED_QKV) /* leading rows of each of q, k and v */
            c = c / (sub->d[0] / 3) * (t->shape.d[0] / 3) + c % (sub->d[0] / 3);
        off = off * t->shape.d[d] + c;
    }
    return off;
}

/* The store's tensor for p of nd, checked to contain p's shape. */
static sn_tensor *slice_of(const sn_net *n, const ir_node *nd, const ir_param *p, char *err, size_t cap) {
    char name[1024];
    if (!nd->key) {
        snprintf(err, cap, "layer %s has no weight-sharing key", nd->name);
        return NULL;
    }
    param_name(nd, p, name, sizeof name);
    sn_tensor *t = sn_find(n, name);
    bool fits = t && t->shape.rank == p->shape.rank;
    for (int d = 0; fits && d < p->shape.rank; d++) fits = p->shape.d[d] <= t->shape.d[d];
    if (!fits) {
        char a[64], b[64];
        if (t)
            snprintf(err, cap, "parameter %s has shape %s, which does not fit in the supernet's %s", p->name,
                     ir_shape_str(&p->shape, a, sizeof a), ir_shape_str(&t->shape, b, sizeof b));
        else
            snprintf(err, cap, "the supernet has no weights for parameter %s (key %s)", p->name, name);
        return NULL;
    }
    return t;
}

int sn_gather(const sn_net *n, ir_graph *g, char *err, size_t cap) {
    for (int i = 0; i < g->n_nodes; i++)
        for (int p = 0; p < g->nodes[i].n_params; p++)
            if (!slice_of(n, &g->nodes[i], &g->nodes[i].params[p], err, cap)) return -1;
    for (int i = 0; i < g->n_nodes; i++)
        for (int p = 0; p < g->nodes[i].n_params; p++) {
            ir_param *pr = &g->nodes[i].params[p];
            const sn_tensor *t = slice_of(n, &g->nodes[i], pr, err, cap);
            int64_t cnt = ir_shape_numel(&pr->shape);
            if (!pr->data && !(pr->data = malloc(sizeof(float) * (size_t)(cnt > 0 ? cnt : 1)))) {
                snprintf(err, cap, "out of memory");
                return -1;
            }
            for (int64_t k = 0; k < cnt; k++) pr->data[k] = t->data[sn_offset(t, &pr->shape, k)];
        }
    return 0;
}

void sn_put_buffers(sn_net *n, const ir_graph *g) {
    char err[16];
    for (int i = 0; i < g->n_nodes; i++)
        for (int p = 0; p < g->nodes[i].n_params; p++) {
            const ir_param *pr = &g->nodes[i].params[p];
            if (pr->trainable || !pr->data) continue;
            sn_tensor *t = slice_of(n, &g->nodes[i], pr, err, sizeof err);
            if (!t) continue;
            int64_t cnt = ir_shape_numel(&pr->shape);
            for (int64_t k = 0; k < cnt; k++) t->data[sn_offset(t, &pr->shape, k)] = pr->data[k];
        }
}

int sn_accumulate(sn_net *n, const ir_graph *g, ir_param **meta, float **grads, int n_params, float scale,
                  char *err, size_t cap) {
    for (int i = 0; i < n_params; i++) {
        const ir_node *nd = NULL;
        for (int j = 0; j < g->n_nodes && !nd; j++)
            if (meta[i] >= g->nodes[j].params && meta[i] < g->nodes[j].params + g->nodes[j].n_params)
                nd = &g->nodes[j];
        sn_tensor *t = nd ? slice_of(n, nd, meta[i], err, cap) : NULL;
        if (!t) return -1;
        int64_t total = ir_shape_numel(&t->shape);
        if (!t->grad && !(t->grad = calloc((size_t)total, sizeof(float)))) {
            snprintf(err, cap, "out of memory");
            return -1;
        }
        int64_t cnt = ir_shape_numel(&meta[i]->shape);
        for (int64_t k = 0; k < cnt; k++) t->grad[sn_offset(t, &meta[i]->shape, k)] += scale * grads[i][k];
        t->touched = true;
    }
    return 0;
}

int sn_step(sn_net *n, const rt_optim_cfg *cfg, double lr, char *err, size_t cap) {
    for (int i = 0; i < n->n; i++) {
        sn_tensor *t = &n->t[i];
        if (!t->touched) continue;
        int64_t size = ir_shape_numel(&t->shape);
        if (!t->opt && !(t->opt = rt_optim_new(cfg, 1, &t->data, &t->grad, &size))) {
            snprintf(err, cap, "out of memory");
            return -1;
        }
        rt_optim_step(t->opt, lr);
        memset(t->grad, 0, sizeof(float) * (size_t)size);
        t->touched = false;
    }
    return 0;
}

void sn_layout_hash(const sn_net *n, char out[17]) {
    uint64_t h = 1469598103934665603ull;
    char buf[64];
    for (int i = 0; i < n->n; i++) {
        for (const char *q = n->t[i].name; *q; q++) h = (h ^ (unsigned char)*q) * 1099511628211ull;
        ir_shape_str(&n->t[i].shape, buf, sizeof buf);
        for (const char *q = buf; *q; q++) h = (h ^ (unsigned char)*q) * 1099511628211ull;
    }
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

int sn_save(const sn_net *n, const char *path, const char *space, const char *source_hash,
            const char *const *keys, const char *const *vals, int n_meta, char *err, size_t cap) {
    rt_st_tensor *ts = calloc((size_t)(n->n + 1), sizeof *ts);
    const char **mk = calloc((size_t)(n_meta + 4), sizeof *mk),
               **mv = calloc((size_t)(n_meta + 4), sizeof *mv);
    char layout[17];
    sn_layout_hash(n, layout);
    int rc = -1;
    if (!ts || !mk || !mv) {
        snprintf(err, cap, "out of memory");
        goto out;
    }
    for (int i = 0; i < n->n; i++) {
        ts[i].name = n->t[i].name;
        ts[i].rank = n->t[i].shape.rank;
        for (int d = 0; d < ts[i].rank; d++) ts[i].shape[d] = n->t[i].shape.d[d];
        ts[i].data = n->t[i].data;
    }
    mk[0] = "nasc.supernet", mv[0] = "1";
    mk[1] = "nasc.space", mv[1] = space;
    mk[2] = "nasc.source_hash", mv[2] = source_hash ? source_hash : "";
    mk[3] = "nasc.layout", mv[3] = layout;
    for (int i = 0; i < n_meta; i++) mk[4 + i] = keys[i], mv[4 + i] = vals[i];
    rc = rt_st_write(path, ts, n->n, mk, mv, n_meta + 4, err, cap);
out:
    free(ts);
    free(mk);
    free(mv);
    return rc;
}

static ir_param_role role_of(const char *name, bool *ok) {
    const char *dot = strrchr(name, '.');
    *ok = dot != NULL;
    for (int r = 0; dot && r < 4; r++)
        if (!strcmp(dot + 1, role_names[r])) return (ir_param_role)r;
    *ok = false;
    return PARAM_WEIGHT;
}

sn_net *sn_load(const char *path, const char *space, const char *layout, char *err, size_t cap) {
    char why[512];
    rt_st_file *f = rt_st_read(path, why, sizeof why);
    if (!f) {
        snprintf(err, cap, "cannot read supernet file %s: %s", path, why);
        return NULL;
    }
    sn_net *n = NULL;
    const char *m = rt_st_meta(f, "nasc.supernet"), *sp = rt_st_meta(f, "nasc.space"),
               *lh = rt_st_meta(f, "nasc.layout");
    if (!m || strcmp(m, "1")) {
        snprintf(err, cap,
                 "%s is not a supernet file (no \"nasc.supernet\" metadata): write one with nasc supernet",
                 path);
        goto out;
    }
    if (space && (!sp || strcmp(sp, space))) {
        snprintf(err, cap, "supernet file %s is of space %s, not %s", path, sp ? sp : "(none)", space);
        goto out;
    }
    if (layout && (!lh || strcmp(lh, layout))) {
        snprintf(
            err, cap,
            "supernet file %s was trained for another version of space %s (its layers differ: layout %s, "
            "now %s): train it again with nasc supernet",
            path, space ? space : sp, lh ? lh : "(none)", layout);
        goto out;
    }
    if (!(n = sn_new())) goto oom;
    for (int i = 0; i < rt_st_count(f); i++) {
        const rt_st_tensor *s = rt_st_get(f, i);
        bool ok;
        ir_param_role role = role_of(s->name, &ok);
        if (!ok || s->rank < 1 || s->rank > IR_MAX_RANK) {
            snprintf(err, cap, "supernet file %s: tensor '%s' is not a supernet parameter", path, s->name);
            goto fail;
        }
        int k = add_tensor(n, s->name);
        if (k < 0) goto oom;
        sn_tensor *t = &n->t[k];
        t->role = role;
        t->trainable = role == PARAM_WEIGHT || role == PARAM_BIAS;
        t->shape.rank = s->rank;
        for (int d = 0; d < s->rank; d++) t->shape.d[d] = s->shape[d];
        int64_t cnt = ir_shape_numel(&t->shape);
        if (!(t->data = malloc(sizeof(float) * (size_t)(cnt > 0 ? cnt : 1)))) goto oom;
        memcpy(t->data, s->data, sizeof(float) * (size_t)cnt);
    }
    goto out;
oom:
    snprintf(err, cap, "out of memory reading supernet file %s", path);
fail:
    sn_free(n);
    n = NULL;
out:
    rt_st_free(f);
    return n;
}
