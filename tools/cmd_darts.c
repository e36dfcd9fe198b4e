/* cmd_darts.c: `nasc supernet FILE --method darts|gdas|fbnet|proxyless
 * [--explain] [-o SUPER.safetensors] [--epochs N] [--seed S]`:
 * differentiable search on the space's supernet (docs/differentiable.md).
 * cmd_supernet hands over here when --method is given. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "driver.h"
#include "drv_darts.h"
#include "recipe.h"

int cmd_supernet_darts(nasc_ctx *c, const opts *o);

static int progress(void *ctx, const rt_progress *p) {
    bool tty = *(bool *)ctx;
    if (!tty) return 0; /* a log gets the epoch lines only */
    fprintf(stderr, "\r  epoch %d/%d  step %lld/%lld  loss %.4f ", p->epoch, p->epochs, (long long)p->step,
            (long long)p->steps, p->loss);
    fflush(stderr);
    return 0;
}

static void epoch_line(void *ctx, int epoch, int epochs, double loss, double acc, double share, double tau) {
    bool tty = *(bool *)ctx;
    fprintf(stderr,
            "%sepoch %d/%d  loss %.4f  argmax val accuracy %.4f  parameter-free argmax %.0f%%  tau %.3f\n",
            tty ? "\r" : "", epoch, epochs, loss, acc, 100 * share, tau);
}

static const char *const methods[] = {"darts", "gdas", "fbnet", "proxyless", NULL};

/* The latency term: on when the search section minimizes latency or a
 * table is given; FBNet's multiplicative form for fbnet, ProxylessNAS's
 * additive one for the others (docs/differentiable.md).  -1 with err. */
static int latency_form(space_ir *s, da_method m, bool table, char *err, size_t cap) {
    drv_goals g;
    memset(&g, 0, sizeof g);
    if (!drv_goals_read(&s->search, &g, err, cap)) return -1;
    bool on = table;
    for (int i = 0; i < g.n_obj; i++)
        if (!g.obj[i].maximize && !strcmp(g.obj[i].text, "latency")) on = true;
    drv_goals_free(&g);
    return !on ? 0 : m == DA_FBNET ? 2 : 1;
}


int cmd_supernet_darts(nasc_ctx *c, const opts *o) {
    da_method m;
    if (!da_method_parse(o->method, &m)) {
        const char *near = cli_suggest(o->method, methods, -1);
        cli_err("--method expects darts, gdas, fbnet or proxyless, not '%s'%s%s%s", o->method,
                near ? " (did you mean " : "", near ? near : "", near ? "?)" : "");
        return EXIT_USAGE;
    }
    if (o->sampling) {
        cli_err("--sampling is for weight-sharing training; --method %s samples as its method says",
                o->method);
        return EXIT_USAGE;
    }
    if (!o->explain && !o->out) {
        cli_err("nasc supernet --method %s needs --explain or -o SUPER.safetensors", o->method);
        return EXIT_USAGE;
    }
    int st;
    program *p = cli_load(c, o, &st);
    if (!p) return st;
    recipe_set_base(o->file);
    if (p->spaces.n != 1) {
        cli_err(p->spaces.n ? "this file has several spaces: a supernet is built for a file with one"
                            : "this file has no space");
        return EXIT_INPUT;
    }
    space_ir *s = p->spaces.v[0];
    drv_supernet sb;
    drv_darts D;
    memset(&D, 0, sizeof D);
    int rc = EXIT_OK;
    if (!drv_supernet_build(&sb, c, p, s, o->out != NULL) || !drv_darts_build(&D, c, p, s, m)) {
        rc = c->n_errors || c->n_internal ? cli_diags(c, o) : EXIT_INPUT;
        goto done;
    }
    char err[4600], pp[4096], ap[4096], lp[4096];
    drv_folder_darts(o->out ? o->out : "", pp, ap, lp, sizeof pp);
    int form = latency_form(s, m, o->lut != NULL, err, sizeof err);
    if (form < 0) {
        cli_err("%s", err);
        rc = EXIT_INPUT;
        goto done;
    }
    if (form && o->out && !o->lut) { /* measured here, kept beside the output */
        char summary[1024];
        if (!o->quiet)
            fprintf(stderr,
                    "measuring the latency table of space %s into %s (pass --latency-table to reuse one)\n",
                    s->name, lp);
        if (drv_latency_table(&D, 20, 0, lp, summary, sizeof summary, err, sizeof err)) {
            cli_err("latency table: %s", err);
            rc = EXIT_INPUT;
            goto done;
        }
    }
    if (form && o->out && drv_latency_load(&D, o->lut ? o->lut : lp, err, sizeof err)) {
        cli_err("%s", err);
        rc = EXIT_INPUT;
        goto done;
    }
    if (o->explain) {
        char *t = drv_darts_explain(&D, m);
        fputs(t ? t : "", stdout);
        free(t);
    }
    if (o->out) {
        drv_da_cfg cfg = {0};
        cfg.method = m;
        cfg.epochs = (int)o->epochs;
        cfg.seed = o->have_seed ? (uint64_t)o->seed : (uint64_t)section_num(&s->train, "seed", 0);
        bool tty = isatty(2);
        cfg.progress = o->quiet ? NULL : progress;
        cfg.epoch_report = o->quiet ? NULL : epoch_line;
        cfg.progress_ctx = &tty;
        double tt = 0;
        cfg.train_time = &tt;
        cfg.latency_form = form;
        if (!o->quiet)
            fprintf(stderr,
                    "searching space %s with %s: %d relaxed decisions, union graph of %lld weights%s\n",
                    s->name, da_method_name(m), D.n_relaxed, (long long)D.g.params,
                    form == 2   ? ", loss CE * 0.2 * log(latency)^0.6"
                    : form == 1 ? ", loss CE + 0.1 * latency / latency(base)"
                                : "");
        if (drv_darts_train(&D, &sb, &cfg, o->out, err, sizeof err)) {
            if (tty && !o->quiet) fputc('\n', stderr);
            cli_err("differentiable search failed: %s", err);
            rc = EXIT_INPUT;
        } else {
            char *point = drv_darts_derive(&D, err, sizeof err);
            if (o->json) {
                FILE *f = fopen(ap, "r");
                int ch;
                while (f && (ch = fgetc(f)) != EOF) putchar(ch);
                if (f) fclose(f);
            } else if (point) {
                printf("%s\n", point);
            }
            if (!o->quiet)
                fprintf(stderr, "searched in %.2f s; supernet %s, derived point %s, alphas %s\n", tt, o->out,
                        pp, ap);
            rc = cli_stdout_done();
        }
    }
done:
    drv_darts_free(&D);
    drv_supernet_free(&sb);
    return rc;
}
