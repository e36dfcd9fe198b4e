/* cmd_latency_table.c: `nasc latency-table FILE -o LUT.json [--points N]`:
 * every candidate layer of the space's differentiable supernet measured
 * on this machine, checked against N random whole points (default 20);
 * docs/differentiable.md. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "drv_darts.h"
#include "recipe.h"

int cmd_latency_table(nasc_ctx *c, const opts *o) {
    int st;
    program *p = cli_load(c, o, &st);
    if (!p) return st;
    if (p->spaces.n != 1) {
        cli_err(p->spaces.n ? "this file has several spaces: a latency table is made for a file with one"
                            : "this file has no space");
        return EXIT_INPUT;
    }
    drv_darts D;
    if (!drv_darts_build(&D, c, p, p->spaces.v[0], DA_DARTS)) {
        drv_darts_free(&D);
        return c->n_errors || c->n_internal ? cli_diags(c, o) : EXIT_INPUT;
    }
    if (!o->quiet)
        fprintf(stderr, "measuring the %d layers of space %s's union graph and %lld random points\n",
                D.g.n_nodes, p->spaces.v[0]->name, o->points ? o->points : 20);
    char summary[1024], err[4600];
    int rc = EXIT_OK;
    if (drv_latency_table(&D, 20, o->points ? (int)o->points : 20, o->out, summary, sizeof summary, err,
                          sizeof err)) {
        cli_err("latency table: %s", err);
        rc = EXIT_INPUT;
    } else if (!o->quiet) {
        fprintf(stderr, "%s; written to %s\n", summary, o->out);
    }
    drv_darts_free(&D);
    return rc;
}
