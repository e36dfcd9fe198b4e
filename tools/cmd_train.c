/* cmd_train.c: `nasc train FILE --arch POINT [-o W.safetensors] [--json]`:
 * trains one point as its train section says and prints its metrics. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "json.h"
#include "drv_supernet.h"
#include "recipe.h"

/* A one-line progress bar, redrawn in place, only on a terminal. */
static int progress_bar(void *ctx, const rt_progress *p) {
    (void)ctx;
    int width = 30;
    double frac = p->steps > 0 ? (double)p->step / (double)p->steps : 0;
    int fill = (int)(frac * width);
    fprintf(stderr, "\r  epoch %d/%d [", p->epoch, p->epochs);
    for (int i = 0; i < width; i++) fputc(i < fill ? '#' : '.', stderr);
    fprintf(stderr, "] %3d%%  loss %.4f ", (int)(frac * 100), p->loss);
    fflush(stderr);
    return 0;
}

static void put_num(strbuf *b, const char *key, double v, bool first) {
    strbuf_puts(b, first ? "\"" : ", \"");
    strbuf_puts(b, key);
    strbuf_puts(b, "\": ");
    json_write_number(b, v);
}

static void print_metrics(const trial_metrics *t, const opts *o, const char *point) {
    const rt_metrics *m = &t->m;
    if (o->json) {
        strbuf b = {0};
        strbuf_puts(&b, "{");
        put_num(&b, "accuracy", m->accuracy, true);
        put_num(&b, "test_accuracy", m->test_accuracy, false);
        put_num(&b, "loss", m->loss, false);
        put_num(&b, "params", (double)m->params, false);
        put_num(&b, "flops", (double)m->flops, false);
        put_num(&b, "memory", (double)m->memory, false);
        put_num(&b, "train_time", m->train_time, false);
        put_num(&b, "naswot", t->px.v[RT_PX_NASWOT], false);
        put_num(&b, "synflow", t->px.v[RT_PX_SYNFLOW], false);
        put_num(&b, "epochs", m->epochs, false);
        strbuf_puts(&b, ", \"point\": ");
        strbuf_puts(&b, point);
        strbuf_puts(&b, "}\n");
        fputs(b.data, stdout);
        strbuf_free(&b);
        return;
    }
    char b1[32];
    printf("accuracy       %.4f  (validation)\n", m->accuracy);
    if (isnan(m->test_accuracy))
        printf("test_accuracy  n/a  (the data has no test set)\n");
    else
        printf("test_accuracy  %.4f  (reported, never used to select)\n", m->test_accuracy);
    printf("loss           %.4f  (mean training loss, last epoch)\n", m->loss);
    printf("params         %s\n", cli_commas(m->params, b1, 32));
    printf("flops          %s  (per sample)\n", cli_commas(m->flops, b1, 32));
    printf("memory         %s bytes  (peak activations, batch 1)\n", cli_commas(m->memory, b1, 32));
    printf("train_time     %.2f s  (%d epoch%s)\n", m->train_time, m->epochs, m->epochs == 1 ? "" : "s");
    for (int id = RT_PX_SYNFLOW; id <= RT_PX_NASWOT; id++) {
        if (t->px.why[id][0])
            printf("%-14s n/a  (%s)\n", rt_proxy_name(id), t->px.why[id]);
        else
            printf("%-14s %.4g\n", rt_proxy_name(id), t->px.v[id]);
    }
}

int cmd_train(nasc_ctx *c, const opts *o) {
    int st;
    program *p = cli_load(c, o, &st);
    if (!p) return st;
    recipe_set_base(o->file);
    space_ir *s;
    assignment *a;
    ir_graph g = {0};
    if (!cli_point(c, p, o, &s, &a, &g)) return c->n_errors || c->n_internal ? cli_diags(c, o) : EXIT_INPUT;
    char err[1024] = "";
    recipe r;
    if (!recipe_from_section(&a->train, &r, err, sizeof err)) {
        cli_err("%s", err);
        return EXIT_INPUT;
    }
    if (o->have_seed) r.cfg.seed = (uint64_t)o->seed; /* --seed is train.seed here */
    rt_resume resume = {0}, *rs = NULL;
    if (o->weights) {
        if (rt_load_weights(&g, o->weights, &resume, err, sizeof err)) {
            cli_err("%s", err);
            return EXIT_INPUT;
        }
        rs = &resume;
    } else if (o->init &&
               drv_subnet_from_file(c, p, s, a, &g, o->init, err, sizeof err)) { /* docs/one-shot.md */
        cli_err("%s", err);
        return EXIT_INPUT;
    }
    bool tty = isatty(2) && !o->quiet;
    if (!o->quiet)
        fprintf(stderr, "training %s (%s params) on %s\n", s->name, cli_commas(g.params, (char[32]){0}, 32),
                r.data == DATA_FASHION ? "fashion_mnist" : r.path1);
    trial_metrics tm;
    rt_trainer *keep = NULL;
    int rc = recipe_train(&g, &r, 0, rs, tty ? progress_bar : NULL, NULL, &tm, &keep, err, sizeof err);
    if (tty) fputc('\n', stderr);
    char *pj = point_json(c, s, a);
    if (rc) {
        cli_err("training failed: %s", err);
        rt_resume_free(&resume);
        rt_params_free(&g);
        return EXIT_INPUT;
    }
    if (o->out && rt_save_weights(&g, rt_trainer_optim(keep), o->out, pj, tm.m.epochs, err, sizeof err)) {
        cli_err("%s", err);
        rc = -1;
    }
    rt_trainer_free(keep);
    if (rc == 0) print_metrics(&tm, o, pj);
    if (rc == 0 && o->out && !o->quiet) fprintf(stderr, "weights written to %s\n", o->out);
    rt_resume_free(&resume);
    rt_params_free(&g);
    return rc ? EXIT_INPUT : EXIT_OK;
}
