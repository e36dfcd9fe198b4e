/* cmd_supernet.c: `nasc supernet FILE --explain` (how each decision of the
 * space is shared, the supernet's size) and `nasc supernet FILE -o
 * SUPER.safetensors [--sampling uniform|sandwich] [--epochs N] [--seed S]
 * [--resume]` (train the supernet, checkpointed; --resume continues a
 * killed training); docs/one-shot.md. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "driver.h"
#include "drv_supernet.h"
#include "recipe.h"

/* One progress line per 20 steps (a terminal redraws it in place). */
static int progress(void *ctx, const rt_progress *p) {
    bool tty = *(bool *)ctx;
    fprintf(stderr, "%s  supernet epoch %d/%d  step %lld/%lld  loss %.4f%s", tty ? "\r" : "", p->epoch,
            p->epochs, (long long)p->step, (long long)p->steps, p->loss, tty ? " " : "\n");
    fflush(stderr);
    return 0;
}

static space_ir *the_space(nasc_ctx *c, program *p) {
    (void)c;
    if (p->spaces.n == 1) return p->spaces.v[0];
    cli_err(p->spaces.n ? "this file has several spaces: a supernet is built for a file with one"
                        : "this file has no space");
    return NULL;
}

/* Training takes a while: a folder the file cannot be written to is
 * reported before it starts, not after. */
static bool writable_dir(const char *out) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", out);
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        dir[1] = 0;
    else
        *slash = 0;
    if (!access(dir, W_OK)) return true;
    cli_err("cannot write %s: folder %s: %s", out, dir, strerror(errno));
    return false;
}

int cmd_supernet_darts(nasc_ctx *c, const opts *o); /* cmd_darts.c */

int cmd_supernet(nasc_ctx *c, const opts *o) {
    if (o->method) return cmd_supernet_darts(c, o);
    int st;
    if (!o->explain && !o->out) {
        cli_err("nasc supernet needs --explain or -o SUPER.safetensors");
        return EXIT_USAGE;
    }
    drv_sn_train_cfg cfg = {0};
    if (o->sampling && strcmp(o->sampling, "uniform") && strcmp(o->sampling, "sandwich")) {
        cli_err("--sampling expects uniform or sandwich, not '%s'", o->sampling);
        return EXIT_USAGE;
    }
    cfg.sampling = o->sampling && !strcmp(o->sampling, "sandwich") ? DRV_SN_SANDWICH : DRV_SN_UNIFORM;
    if (o->out && !writable_dir(o->out)) return EXIT_INPUT;
    program *p = cli_load(c, o, &st);
    if (!p) return st;
    recipe_set_base(o->file);
    space_ir *s = the_space(c, p);
    if (!s) return EXIT_INPUT;
    drv_supernet sb;
    if (!drv_supernet_build(&sb, c, p, s, o->out != NULL)) {
        drv_supernet_free(&sb);
        return c->n_errors || c->n_internal ? cli_diags(c, o) : EXIT_INPUT;
    }
    if (o->explain) {
        char *t = drv_supernet_explain(&sb);
        fputs(t ? t : "", stdout);
        free(t);
    }
    int rc = EXIT_OK;
    if (o->out) {
        cfg.epochs = (int)o->epochs;
        cfg.seed = o->have_seed ? (uint64_t)o->seed : (uint64_t)section_num(&s->train, "seed", 0);
        bool tty = isatty(2);
        cfg.progress = o->quiet ? NULL : progress;
        cfg.progress_ctx = &tty;
        char err[1024], ckpt[4200];
        double tt = 0;
        cfg.train_time = &tt;
        drv_folder_supernet_checkpoint(o->out, ckpt, sizeof ckpt);
        cfg.checkpoint = ckpt;
        cfg.resume = o->resume;
        int64_t resumed = -1;
        cfg.resumed_step = &resumed;
        if (!o->resume && !access(ckpt, F_OK)) { /* never overwrite the progress of a killed run unasked */
            cli_err("%s holds the checkpoint of an interrupted training of %s: continue it with --resume, or "
                    "delete it to start afresh",
                    ckpt, o->out);
            drv_supernet_free(&sb);
            return EXIT_INPUT;
        }
        if (o->resume && !o->quiet)
            fprintf(stderr,
                    access(ckpt, F_OK) ? "no checkpoint %s: training from the start\n"
                                       : "resuming the training from its checkpoint %s\n",
                    ckpt);
        if (!o->quiet)
            fprintf(stderr, "training the supernet of %s (%lld weights, %s sampling)\n", s->name,
                    (long long)sn_numel(sb.net), cfg.sampling == DRV_SN_SANDWICH ? "sandwich" : "uniform");
        int trc = drv_supernet_train(&sb, &cfg, o->out, err, sizeof err);
        if (resumed >= 0 && !o->quiet)
            fprintf(stderr, "resumed from step %lld of checkpoint %s\n", (long long)resumed, ckpt);
        if (trc) {
            if (tty && !o->quiet) fputc('\n', stderr);
            cli_err("supernet training failed: %s", err);
            rc = EXIT_INPUT;
        } else {
            if (tty && !o->quiet) fputc('\n', stderr);
            if (!o->quiet) fprintf(stderr, "trained in %.2f s; supernet written to %s\n", tt, o->out);
        }
    }
    drv_supernet_free(&sb);
    return rc;
}
