/* drv_search.c: one search, put together: the space across the ABI, the
 * objectives, the run folder, the builtin evaluator's data, then sr_run. */
#define _POSIX_C_SOURCE 200809L
#include <string.h>
#include <unistd.h>
#include "driver.h"
#include "recipe.h"

int drv_search_run(nasc_ctx *c, program *p, space_ir *s, sr_config *cfg, const char *db, drv_folder *folder,
                   sr_summary *sum, char *err, size_t cap) {
    memset(sum, 0, sizeof *sum);
    sum->best_trial = -1;
    drv_space h;
    drv_space_init(&h, c, p, s);
    drv_folder_init(folder, db, s->name);
    h.folder = folder;
    drv_goals g;
    if (!drv_goals_read(&s->search, &g, err, cap)) return -1;
    h.want_latency = g.latency;
    h.want_throughput = g.throughput;
    h.want_test = g.test;
    h.want_proxies = g.proxies;
    cfg->objectives = g.obj;
    cfg->n_objectives = g.n_obj;
    cfg->limits = g.lim;
    cfg->n_limits = g.n_lim;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int jobs = cfg->jobs > 0 ? cfg->jobs : 1;
    h.threads = (int)(cores / jobs > 0 ? cores / jobs : 1);
    cfg->db_path = folder->db;
    cfg->layout = &folder->layout;
    cfg->source = c->files.v[0].text;
    int rc = drv_folder_create(folder, err, cap);
    if (!rc && cfg->evaluator == SR_EVAL_BUILTIN && sr_mpi_role() != 2) {
        /* Load the data once here: forked workers share it. */
        recipe r;
        if (recipe_from_section(&s->train, &r, err, cap) && !recipe_load_data(&r, err, cap)) rc = -1;
    }
    sr_space_iface iface = drv_space_iface(&h);
    if (!rc) rc = sr_run(cfg, &iface, sum, err, cap);
    drv_goals_free(&g);
    return rc;
}
