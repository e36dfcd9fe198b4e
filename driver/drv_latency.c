/* drv_latency.c: the latency table of a space (drv_darts.h,
 * docs/differentiable.md): every layer of the union graph JIT-compiled
 * alone at the shapes where it occurs and timed, the table checked against
 * whole compiled points, and read back into per-alternative latencies for
 * the latency term of a differentiable search.
 *
 * A point's predicted latency is the cost of one call plus the sum of its
 * layers' entries.  The compiler fuses layers (batch norm into the conv,
 * activations into their producer) and shares buffers, so the whole
 * network is usually faster than the sum: the check reports by how much. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "codegen.h"
#include "drv_darts.h"
#include "json.h"

typedef struct lut {
    int n;
    const char **key;
    double *us;
    double call_us;
} lut;

static double lut_get(const lut *t, const char *key, bool *found) {
    for (int i = 0; i < t->n; i++)
        if (!strcmp(t->key[i], key)) return *found = true, t->us[i];
    *found = false;
    return 0;
}

/* The predicted latency of graph g: its layers' keys made unique as the
 * union graph makes them (the k-th layer at one key is "key#k").  NAN and
 * *missing set when the table has no entry for one. */
static double predict(const lut *t, const ir_graph *g, const char **missing) {
    double s = t->call_us;
    const char **seen = calloc((size_t)g->n_nodes + 1, sizeof *seen);
    int *count = calloc((size_t)g->n_nodes + 1, sizeof *count), ns = 0;
    char buf[1200];
    for (int i = 0; seen && count && i < g->n_nodes; i++) {
        const ir_node *nd = &g->nodes[i];
        if (nd->op == IR_INPUT || !nd->key) continue;
        int j = 0;
        while (j < ns && strcmp(seen[j], nd->key)) j++;
        if (j == ns) seen[ns] = nd->key, count[ns++] = 0;
        const char *k = nd->key;
        if (++count[j] > 1) {
            snprintf(buf, sizeof buf, "%s#%d", nd->key, count[j]);
            k = buf;
        }
        bool found;
        double us = lut_get(t, k, &found);
        if (!found) {
            if (missing) *missing = nd->key;
            s = NAN;
            break;
        }
        s += us;
    }
    free(seen);
    free(count);
    return s;
}

/* Median batch-1 latency of g, compiled as the search compiles. */
static int time_graph(ir_graph *g, double budget_ms, double *us, char *err, size_t cap) {
    cg_jit *j = cg_jit_compile(g, CG_OPT_SEARCH, err, cap);
    if (!j) return -1;
    cg_bench_result r;
    int rc = cg_bench(j, budget_ms, &r, err, cap);
    cg_jit_free(j);
    *us = r.latency_us;
    return rc;
}

/* One layer alone: an input of its input's shape (every input of a
 * multi-input layer is that one, which needs equal shapes) and the layer,
 * with fresh weights.  1 when it cannot be measured so. */
static int time_layer(const ir_graph *U, const ir_node *nd, double budget_ms, double *us, char *err,
                      size_t cap) {
    ir_node nodes[2];
    const ir_shape *in = &U->nodes[nd->in[0]].shape;
    for (int k = 1; k < nd->n_in; k++) {
        const ir_shape *o = &U->nodes[nd->in[k]].shape;
        if (o->rank != in->rank || memcmp(o->d, in->d, sizeof(int64_t) * (size_t)in->rank)) return 1;
    }
    ir_node_init(&nodes[0], IR_INPUT);
    nodes[0].name = "input";
    nodes[0].shape = *in;
    nodes[1] = *nd;
    nodes[1].id = 1;
    int *ins = calloc((size_t)nd->n_in + 1, sizeof(int));
    if (!ins) return -1;
    nodes[1].in = ins;
    nodes[1].key = NULL;
    for (int p = 0; p < nodes[1].n_params; p++) nodes[1].params[p].data = NULL;
    ir_graph g = {0};
    g.n_nodes = 2, g.nodes = nodes, g.input = 0, g.output = 1, g.space = U->space;
    ir_graph_finish(&g);
    int rc = rt_params_init(&g, INIT_KAIMING, 1) ? -1 : time_graph(&g, budget_ms, us, err, cap);
    rt_params_free(&g);
    free(ins);
    return rc;
}

/* The cost of a call that does almost nothing (an identity on one value). */
static int time_call(double budget_ms, double *us, char *err, size_t cap) {
    ir_node nodes[2];
    ir_node_init(&nodes[0], IR_INPUT);
    nodes[0].name = "input";
    nodes[0].shape = (ir_shape){1, {1}};
    ir_node_init(&nodes[1], IR_ACT);
    nodes[1].id = 1;
    nodes[1].name = "identity";
    nodes[1].act = ACT_IDENTITY;
    int in = 0;
    nodes[1].n_in = 1, nodes[1].in = &in;
    nodes[1].shape = nodes[0].shape;
    ir_graph g = {0};
    g.n_nodes = 2, g.nodes = nodes, g.input = 0, g.output = 1;
    ir_graph_finish(&g);
    return time_graph(&g, budget_ms, us, err, cap);
}

static void cpu_name(char *buf, size_t cap) {
    snprintf(buf, cap, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "model name", 10)) {
            char *c = strchr(line, ':');
            if (c) {
                c += 1 + (c[1] == ' ');
                c[strcspn(c, "\n")] = 0;
                snprintf(buf, cap, "%s", c);
            }
            break;
        }
    if (f) fclose(f);
}

/* A point of D's space: relaxed decisions from vals, the others held. */
static bool point_graph(drv_darts *D, const sval *vals, ir_graph *g) {
    assignment *a = asg_new(D->c, D->s);
    for (int i = 0; i < a->n; i++) {
        a->vals[i] = D->d[i].kind == DRV_DA_RELAXED ? vals[i] : D->base[i];
        a->given[i] = true;
    }
    memset(g, 0, sizeof *g);
    bool feasible;
    int e0 = D->c->n_errors;
    bool ok = space_run(D->c, D->p, D->s, a, g, &feasible);
    D->c->n_errors = e0;
    return ok;
}

int drv_latency_table(drv_darts *D, double budget_ms, int n_check, const char *out, char *summary,
                      size_t scap, char *err, size_t cap) {
    const ir_graph *U = &D->g;
    lut t = {0};
    t.key = calloc((size_t)U->n_nodes + 1, sizeof *t.key);
    t.us = calloc((size_t)U->n_nodes + 1, sizeof *t.us);
    strbuf b = {0};
    int rc = -1;
    if (!t.key || !t.us) goto oom;
    if (time_call(budget_ms, &t.call_us, err, cap)) goto out;
    char cpu[256];
    cpu_name(cpu, sizeof cpu);
    strbuf_puts(&b, "{\"space\": ");
    json_write_str(&b, D->s->name);
    strbuf_puts(&b, ", \"cpu\": ");
    json_write_str(&b, cpu);
    strbuf_puts(&b, ", \"batch\": 1, \"unit\": \"us\", \"call_us\": ");
    json_write_number(&b, t.call_us);
    strbuf_puts(&b, ",\n \"layers\": {");
    for (int i = 0; i < U->n_nodes; i++) {
        const ir_node *nd = &U->nodes[i];
        if (nd->op == IR_INPUT || !nd->key) continue; /* the input, and the mixtures' own layers */
        double us = 0;
        if (!ir_op_info_of(nd->op)->alias) {
            int r = time_layer(U, nd, budget_ms, &us, err, cap);
            if (r < 0) goto out;
            us = r ? 0 : us - t.call_us;
            if (us < 0) us = 0;
        }
        t.key[t.n] = nd->key;
        t.us[t.n] = us;
        strbuf_puts(&b, t.n ? ",\n  " : "\n  ");
        json_write_str(&b, nd->key);
        strbuf_puts(&b, ": ");
        json_write_number(&b, round(us * 1000) / 1000);
        t.n++;
    }
    strbuf_puts(&b, "\n },\n \"check\": [");
    /* the table against whole compiled points */
    uint64_t rng = 0xc0ffee;
    int got = 0;
    double sr = 0, lo = INFINITY, hi = 0, sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
    for (int tries = 0; got < n_check && tries < 4 * n_check + 8; tries++) {
        ctx_mark m = ctx_get_mark(D->c);
        assignment *a = asg_new(D->c, D->s);
        int e0 = D->c->n_errors;
        bool ok = space_sample(D->c, D->p, D->s, &rng, a, 20);
        D->c->n_errors = e0;
        ir_graph g;
        double pred = NAN, meas;
        if (ok && point_graph(D, a->vals, &g)) {
            pred = predict(&t, &g, NULL);
            if (isfinite(pred) && !rt_params_init(&g, INIT_KAIMING, 2) &&
                !time_graph(&g, 4 * budget_ms, &meas, err, cap) && meas > 0) {
                double r = pred / meas, lx = log(pred), ly = log(meas);
                sr += r, lo = r < lo ? r : lo, hi = r > hi ? r : hi;
                sx += lx, sy += ly, sxx += lx * lx, syy += ly * ly, sxy += lx * ly;
                strbuf_printf(&b, "%s{\"predicted_us\": %.3f, \"measured_us\": %.3f}", got ? ", " : "", pred,
                              meas);
                got++;
            }
            rt_params_free(&g);
        }
        ctx_release(D->c, m);
    }
    double r = NAN;
    if (got > 2) {
        double cx = sxx - sx * sx / got, cy = syy - sy * sy / got;
        r = cx > 0 && cy > 0 ? (sxy - sx * sy / got) / sqrt(cx * cy) : NAN;
    }
    strbuf_printf(&b, "],\n \"check_points\": %d, \"ratio_mean\": ", got);
    json_write_number(&b, got ? sr / got : NAN);
    strbuf_puts(&b, ", \"ratio_min\": ");
    json_write_number(&b, got ? lo : NAN);
    strbuf_puts(&b, ", \"ratio_max\": ");
    json_write_number(&b, got ? hi : NAN);
    strbuf_puts(&b, ", \"pearson_log\": ");
    json_write_number(&b, r);
    strbuf_puts(&b, "}\n");
    snprintf(
        summary, scap,
        "%d layers measured on %s (one call costs %.2f us); on %d random points the table's sum is %.2fx the "
        "compiled network's latency on average (%.2fx to %.2fx), correlation of the logs %.3f",
        t.n, cpu, t.call_us, got, got ? sr / got : NAN, got ? lo : NAN, got ? hi : NAN, r);
    rc = drv_darts_write_text(out, b.data, err, cap);
    goto out;
oom:
    snprintf(err, cap, "out of memory");
out:
    strbuf_free(&b);
    free(t.key);
    free(t.us);
    return rc;
}

int drv_latency_load(drv_darts *D, const char *path, char *err, size_t cap) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, cap, "cannot read latency table %s", path);
        return -1;
    }
    strbuf txt = {0};
    char chunk[65536];
    size_t k;
    while ((k = fread(chunk, 1, sizeof chunk, f)) > 0) strbuf_append(&txt, chunk, k);
    fclose(f);
    char why[256];
    json_value *v = txt.data ? json_parse(txt.data, txt.len, why, sizeof why) : NULL;
    strbuf_free(&txt);
    int rc = -1;
    lut t = {0};
    const json_value *sp = json_get(v, "space"), *ly = json_get(v, "layers");
    if (!v || !ly || ly->type != JSON_OBJECT || !sp || sp->type != JSON_STRING) {
        snprintf(err, cap, "%s is not a latency table (write one with nasc latency-table)", path);
        goto out;
    }
    if (strcmp(sp->str, D->s->name)) {
        snprintf(err, cap, "latency table %s is of space %s, not %s", path, sp->str, D->s->name);
        goto out;
    }
    t.n = (int)ly->n;
    t.key = calloc((size_t)t.n + 1, sizeof *t.key);
    t.us = calloc((size_t)t.n + 1, sizeof *t.us);
    if (!t.key || !t.us) goto out;
    for (int i = 0; i < t.n; i++) {
        t.key[i] = ly->keys[i];
        t.us[i] = json_number(&ly->items[i], NAN);
        if (!isfinite(t.us[i]) || t.us[i] < 0) {
            snprintf(err, cap, "latency table %s: layer %s has no latency in microseconds", path,
                     ly->keys[i]);
            goto out;
        }
    }
    t.call_us = json_number(json_get(v, "call_us"), 0);
    sval *vals = calloc((size_t)D->n_dec + 1, sizeof(sval));
    if (!vals) goto out;
    memcpy(vals, D->base, sizeof(sval) * (size_t)D->n_dec);
    const char *missing = NULL;
    ctx_mark m = ctx_get_mark(D->c);
    ir_graph g;
    D->lat_base = point_graph(D, vals, &g) ? predict(&t, &g, &missing) : NAN;
    for (int i = 0; i < D->n_dec && isfinite(D->lat_base); i++) {
        drv_da_dec *dd = &D->d[i];
        if (dd->kind != DRV_DA_RELAXED) continue;
        dd->lat = arena_alloc(&D->A, sizeof(float) * (size_t)dd->n);
        for (int a = 0; a < dd->n && !missing; a++) {
            vals[i] = dd->vals[a];
            dd->lat[a] = point_graph(D, vals, &g) ? (float)predict(&t, &g, &missing) : (float)D->lat_base;
        }
        vals[i] = D->base[i];
    }
    ctx_release(D->c, m);
    free(vals);
    if (missing || !isfinite(D->lat_base)) {
        snprintf(err, cap,
                 "latency table %s has no entry for layer %s: measure it again with nasc latency-table", path,
                 missing ? missing : "(the base point)");
        D->lat_base = 0;
        goto out;
    }
    rc = 0;
out:
    json_free(v);
    free(t.key);
    free(t.us);
    return rc;
}
