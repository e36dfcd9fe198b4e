/* sr_run.c: the search driver.  One single-threaded host process owns the
 * strategy and the store and hands trials to worker processes (forked
 * here, or MPI ranks) over framed pipes, waiting on them with poll().
 *
 * Ordering is what makes the store trustworthy: a trial is committed as
 * `running` before it is sent, its result is committed before the strategy
 * hears of it, so a SIGKILL at any point loses at most trials that were
 * running, and --resume re-runs exactly those. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "sr_guard.h"
#include "sr_util.h"

#ifndef NASC_VERSION
#define NASC_VERSION "0"
#endif

typedef struct run_worker {
    pid_t pid;       /* forked worker, or 0 for an MPI rank */
    int rank;        /* MPI rank (> 0) or 0 */
    int to, from;    /* pipe ends of a forked worker */
    int slot;        /* outstanding trial index, or -1 when idle */
    double deadline; /* monotonic time the trial times out (0: never) */
    double limit;    /* the timeout that deadline applies, seconds */
} run_worker;

/* What a worker's trial is doing, written by the worker (sr_trial_progress)
 * into memory shared with the host, read for the progress line.  A torn
 * read shows a wrong number for half a second; nothing depends on it. */
typedef struct sr_live {
    volatile int64_t trial, step, steps;
    volatile int epoch, epochs;
    volatile double loss;
} sr_live;

typedef struct run_trial {
    int64_t id;
    nasc_point p;
    char *json;
    sr_metrics statics;
    double wall_start, mono_start;
    char weights[1100];
    const char *answered; /* "evaluator", "cache" or "check" (sr_trial_row.answered) */
} run_trial;

typedef struct run_requeued {
    int64_t id;
    char *json;
    double fidelity;
    uint64_t tag;
} run_requeued;

typedef struct host {
    const sr_config *cfg;
    const sr_space_iface *sp;
    nasc_space space; /* the front end's, with our objectives */
    nasc_objective *objs;
    sr_objective *sobj;
    int k; /* objectives */
    sr_plugin plug;
    void *state;
    sr_store *store;
    sr_lock *lock;     /* held for the whole run: one writer per store */
    sr_durations durs; /* of finished trials, for the default timeout */
    sr_eval_env env;
    run_worker *w;
    int nw;
    run_trial *t; /* one slot per worker */
    run_requeued *rq;
    int nrq, rq_next;
    int64_t next_id, done, failed, infeasible, running;
    int64_t evaluated, cached, checked; /* finished trials by how they were answered */
    int64_t seq;                        /* the last event number (an ask or a tell) */
    int64_t streak;                     /* asks in a row answered without an evaluation */
    sr_cache *cache;
    int source_changed; /* resumed under --force with another source: old results are not reused */
    sr_live *live;      /* one slot per forked worker (shared memory), or NULL */
    int64_t evaluated0; /* evaluations before this run (resume) */
    double last_line;   /* when the last plain progress line was written */
    int have_best;
    double best_signed, best_raw;
    int64_t best_id;
    char best_weights[1100];
    double t0;
    int exhausted, fatal, mpi, stopped;
    char fatal_msg[1024];
    int tty;
    char *objbuf;
} host;

static volatile sig_atomic_t g_interrupts;

/* Asks in a row answered by the cache or refused before evaluation after
 * which the search stops: the strategy keeps proposing what is known. */
#define SR_MAX_UNEVALUATED 200

static void on_signal(int sig) {
    g_interrupts++;
    sr_plugin_on_signal(sig, g_interrupts); /* a plugin stuck in a callback must not hold the host */
}

/* ---------------- setup ---------------- */

static int setup_objectives(host *h, char *err, size_t cap) {
    static const sr_objective def = {"accuracy", 1, NULL};
    const sr_objective *src = h->cfg->n_objectives > 0 ? h->cfg->objectives : &def;
    h->k = h->cfg->n_objectives > 0 ? h->cfg->n_objectives : 1;
    h->objs = calloc((size_t)h->k, sizeof *h->objs);
    h->sobj = calloc((size_t)h->k, sizeof *h->sobj);
    if (!h->objs || !h->sobj) {
        err_set(err, cap, "out of memory");
        return -1;
    }
    for (int i = 0; i < h->k; i++) {
        h->sobj[i] = src[i];
        if (!h->sobj[i].text || !*h->sobj[i].text) {
            err_set(err, cap, "objective %d has no text", i + 1);
            return -1;
        }
        h->objs[i].abi_version = NASC_STRATEGY_ABI_VERSION;
        h->objs[i].struct_size = sizeof h->objs[i];
        h->objs[i].name = h->sobj[i].text;
        h->objs[i].maximize = h->sobj[i].maximize;
    }
    h->space = *h->sp->space;
    h->space.objectives = h->objs;
    h->space.n_objectives = h->k;
    return 0;
}

static char *objectives_json(const host *h) {
    strbuf b = {0};
    strbuf_puts(&b, "[");
    for (int i = 0; i < h->k; i++) {
        strbuf_puts(&b, i ? ", {\"name\": " : "{\"name\": ");
        json_write_str(&b, h->sobj[i].text);
        strbuf_printf(&b, ", \"maximize\": %d}", h->sobj[i].maximize ? 1 : 0);
    }
    strbuf_puts(&b, "]");
    return strbuf_take(&b);
}

static int point_alloc(nasc_point *p, int n) {
    memset(p, 0, sizeof *p);
    p->abi_version = NASC_STRATEGY_ABI_VERSION;
    p->struct_size = sizeof *p;
    p->n = n;
    p->values = calloc((size_t)(n ? n : 1), sizeof *p->values);
    p->active = calloc((size_t)(n ? n : 1), 1);
    return p->values && p->active ? 0 : -1;
}

static void point_free(nasc_point *p) {
    free(p->values);
    free(p->active);
    p->values = NULL;
    p->active = NULL;
}

/* ---------------- results ---------------- */

/* Parses a stored objectives array into raw[] and signed[]. */
static int parse_objs(const host *h, const char *json, double *raw, double *sgn) {
    char e[80];
    json_value *j = json ? sr_json_parse(json, e, sizeof e) : NULL;
    if (!j) return -1;
    int rc = j->type == JSON_ARRAY && j->n == (size_t)h->k ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < j->n; i++) {
        if (j->items[i].type != JSON_NUMBER) {
            rc = -1;
            break;
        }
        raw[i] = j->items[i].number;
        sgn[i] = h->sobj[i].maximize ? raw[i] : -raw[i];
    }
    json_free(j);
    return rc;
}

static void tell(host *h, nasc_point *p, nasc_result_status st, const double *raw, const double *sgn,
                 double fid) {
    nasc_result r;
    memset(&r, 0, sizeof r);
    r.abi_version = NASC_STRATEGY_ABI_VERSION;
    r.struct_size = sizeof r;
    r.status = st;
    if (st == NASC_RESULT_OK) {
        r.n_objectives = h->k;
        r.objectives = sgn;
        r.raw = raw;
    }
    r.fidelity = fid;
    sr_plugin_enter("tell");
    h->plug.s.tell(h->state, p, &r);
    sr_plugin_leave();
}

static void count_status(host *h, const char *status) {
    if (!strcmp(status, "done"))
        h->done++;
    else if (!strcmp(status, "failed"))
        h->failed++;
    else if (!strcmp(status, "infeasible"))
        h->infeasible++;
}

static int64_t finished(const host *h) { return h->done + h->failed + h->infeasible; }

static void count_answered(host *h, const char *answered) {
    if (!strcmp(answered, "cache"))
        h->cached++;
    else if (!strcmp(answered, "check"))
        h->checked++;
    else
        h->evaluated++;
}

/* "1h02m", "4m10s", "12s" */
static void fmt_dur(double s, char *buf, size_t cap) {
    long t = s > 0 && s < 1e8 ? (long)(s + 0.5) : 0;
    if (t >= 3600)
        snprintf(buf, cap, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else if (t >= 60)
        snprintf(buf, cap, "%ldm%02lds", t / 60, t % 60);
    else
        snprintf(buf, cap, "%lds", t);
}

/* The search as a whole: evaluations per minute in this run, and the time
 * left by the trial budget (or the time budget). */
static void search_rate(const host *h, double elapsed, char *buf, size_t cap) {
    const sr_config *c = h->cfg;
    int64_t here = h->evaluated - h->evaluated0;
    double rate = elapsed > 0 ? here / elapsed : 0; /* per second */
    char eta[32] = "";
    if (c->trials > 0 && rate > 0)
        fmt_dur((double)(c->trials - h->evaluated) / rate, eta, sizeof eta);
    else if (c->time_budget > 0)
        fmt_dur(c->time_budget - elapsed, eta, sizeof eta);
    snprintf(buf, cap, ", %.1f/min%s%s", rate * 60, eta[0] ? ", ETA " : "", eta);
}

/* The running trial that started first, as "#6 epoch 1/3 step 40/255 loss
 * 0.52 ETA 5s" (its worker's shared slot), or its elapsed time. */
static void trial_status(const host *h, char *buf, size_t cap) {
    buf[0] = 0;
    int k = -1;
    for (int i = 0; i < h->nw; i++)
        if (h->w[i].slot >= 0 && (k < 0 || h->t[i].mono_start < h->t[k].mono_start)) k = i;
    if (k < 0) return;
    const run_trial *t = &h->t[k];
    double el = sr_now() - t->mono_start;
    const sr_live *l = h->live ? &h->live[k] : NULL;
    char ela[32], eta[32];
    fmt_dur(el, ela, sizeof ela);
    if (l && l->trial == t->id && l->steps > 0 && l->step > 0) {
        fmt_dur(el * (double)(l->steps - l->step) / (double)l->step, eta, sizeof eta);
        snprintf(buf, cap, "#%lld epoch %d/%d step %lld/%lld loss %.4g ETA %s", (long long)t->id, l->epoch,
                 l->epochs, (long long)l->step, (long long)l->steps, l->loss, eta);
    } else {
        snprintf(buf, cap, "#%lld running %s", (long long)t->id, ela);
    }
}

static void progress(host *h, const char *event) {
    const sr_config *c = h->cfg;
    sr_progress p = {finished(h),      h->done,      h->failed,   h->infeasible, h->running, c->trials,
                     sr_now() - h->t0, h->have_best, h->best_raw, h->best_id,    event};
    if (c->progress) {
        c->progress(c->progress_ud, &p);
        return;
    }
    FILE *f = c->progress_fp;
    if (!f) return;
    char budget[32] = "";
    if (c->trials > 0) snprintf(budget, sizeof budget, "/%lld", (long long)c->trials);
    char best[96] = "", rate[64], trial[160];
    if (h->have_best)
        snprintf(best, sizeof best, ", best %s %.6g (#%lld)", h->sobj[0].text, h->best_raw,
                 (long long)h->best_id);
    search_rate(h, p.elapsed, rate, sizeof rate);
    if (h->tty) {
        trial_status(h, trial, sizeof trial);
        fprintf(f, "\r\033[K[%lld%s] %lld done, %lld failed, %lld infeasible, %lld cached%s%s%s%s",
                (long long)h->evaluated, budget, (long long)h->done, (long long)h->failed,
                (long long)h->infeasible, (long long)h->cached, best, rate, trial[0] ? " | " : "", trial);
    } else if (event) {
        fprintf(f, "[%lld%s %.1fs] %s%s%s\n", (long long)h->evaluated, budget, p.elapsed, event, best, rate);
        h->last_line = sr_now();
    } else if (h->running && sr_now() - h->last_line >= 10) { /* a long trial: a line every 10 s */
        trial_status(h, trial, sizeof trial);
        fprintf(f, "  %s\n", trial);
        h->last_line = sr_now();
    }
    fflush(f);
}

/* The slot of the worker process this is (NULL in the host and MPI ranks). */
static sr_live *g_live;

void sr_trial_progress(int epoch, int epochs, int64_t step, int64_t steps, double loss) {
    if (!g_live) return;
    g_live->epoch = epoch;
    g_live->epochs = epochs;
    g_live->step = step;
    g_live->steps = steps;
    g_live->loss = loss;
}

/* Evaluates objectives and limits on m; returns the status and fills why. */
static nasc_result_status judge(host *h, const sr_metrics *m, double *raw, double *sgn, char *why,
                                size_t cap) {
    for (int i = 0; i < m->n; i++)
        if (!isfinite(m->v[i].value)) {
            err_set(why, cap, "metric '%s' is %s", m->v[i].name, isnan(m->v[i].value) ? "NaN" : "infinite");
            return NASC_RESULT_FAILED;
        }
    for (int i = 0; i < h->k; i++) {
        const char *missing = NULL;
        double v;
        int rc = h->sobj[i].expr
                     ? sr_expr_eval(h->sobj[i].expr, m, &v, &missing)
                     : (sr_metrics_get(m, h->sobj[i].text, &v) ? 0 : (missing = h->sobj[i].text, -1));
        if (rc) {
            if (missing)
                err_set(why, cap, "objective needs '%s' but the evaluator did not report it", missing);
            else
                err_set(why, cap, "objective '%s' is not a finite number", h->sobj[i].text);
            return NASC_RESULT_FAILED;
        }
        raw[i] = v;
        sgn[i] = h->sobj[i].maximize ? v : -v;
    }
    for (int i = 0; i < h->cfg->n_limits; i++) {
        const sr_limit *l = &h->cfg->limits[i];
        const char *missing = NULL;
        double v;
        if (sr_expr_eval(l->expr, m, &v, &missing)) {
            if (missing)
                err_set(why, cap, "limit '%s' needs '%s' but the evaluator did not report it", l->text,
                        missing);
            else
                err_set(why, cap, "limit '%s' is not a finite number", l->text);
            return NASC_RESULT_FAILED;
        }
        if (v == 0) {
            err_set(why, cap, "violates '%s'", l->text);
            return NASC_RESULT_INFEASIBLE;
        }
    }
    return NASC_RESULT_OK;
}

/* Keeps the best trial's weights, deletes the others (single objective). */
static void keep_weights(host *h, run_trial *t, int is_best) {
    if (!t->weights[0] || access(t->weights, F_OK)) return;
    if (h->k > 1) return; /* several objectives: every front member may matter */
    if (is_best) {
        if (sr_is_regular_file(h->best_weights)) unlink(h->best_weights);
        snprintf(h->best_weights, sizeof h->best_weights, "%s", t->weights);
    } else {
        unlink(t->weights);
    }
}

static void note_best(host *h, int64_t id, const double *raw, const double *sgn, int *is_best) {
    *is_best = 0;
    if (!h->have_best || sgn[0] > h->best_signed) {
        h->have_best = 1;
        h->best_signed = sgn[0];
        h->best_raw = raw[0];
        h->best_id = id;
        *is_best = 1;
    }
}

/* Commits the end of a trial, then tells the strategy. */
static int finish_trial(host *h, run_trial *t, int worker, nasc_result_status st, const sr_metrics *m,
                        const double *raw, const double *sgn, const char *why, char *err, size_t cap) {
    static const char *names[] = {"done", "failed", "infeasible"};
    sr_trial_row row;
    memset(&row, 0, sizeof row);
    row.id = t->id;
    snprintf(row.status, sizeof row.status, "%s", names[st]);
    row.metrics = m ? sr_metrics_to_json(m) : NULL;
    strbuf ob = {0};
    if (st == NASC_RESULT_OK) {
        strbuf_puts(&ob, "[");
        for (int i = 0; i < h->k; i++) {
            if (i) strbuf_puts(&ob, ", ");
            json_write_number(&ob, raw[i]);
        }
        strbuf_puts(&ob, "]");
        row.objectives = strbuf_take(&ob);
    }
    row.finished = sr_wall();
    row.duration = sr_now() - t->mono_start;
    row.worker = worker;
    row.error = (char *)(why && *why ? why : NULL);
    row.told = ++h->seq;
    snprintf(row.answered, sizeof row.answered, "%s", t->answered ? t->answered : "evaluator");
    int is_best = 0;
    if (st == NASC_RESULT_OK) note_best(h, t->id, raw, sgn, &is_best);
    if (st == NASC_RESULT_OK) sr_durations_add(&h->durs, row.duration);
    row.weights =
        (st == NASC_RESULT_OK && t->weights[0] && !access(t->weights, F_OK) && (is_best || h->k > 1))
            ? t->weights
            : NULL;
    int rc = sr_store_finish(h->store, &row, err, cap);
    int evaluated = !strcmp(row.answered, "evaluator");
    if (!rc && evaluated && st != NASC_RESULT_FAILED && t->json &&
        sr_cache_put(h->cache, t->json, t->p.fidelity > 0 ? t->p.fidelity : h->space.max_fidelity, t->id,
                     row.status, row.metrics, row.objectives))
        rc = -1, err_set(err, cap, "out of memory");
    free(row.metrics);
    free(row.objectives);
    if (rc) return -1;
    count_answered(h, row.answered);
    h->streak = evaluated ? 0 : h->streak + 1;
    if (st == NASC_RESULT_OK)
        keep_weights(h, t, is_best);
    else if (t->weights[0])
        unlink(t->weights); /* a failed trial's partial weights */
    count_status(h, row.status);
    t->p.trial = t->id;
    tell(h, &t->p, st, raw, sgn, t->p.fidelity > 0 ? t->p.fidelity : h->space.max_fidelity);
    char ev[512];
    if (st == NASC_RESULT_OK)
        snprintf(ev, sizeof ev, "trial %lld %s: %s = %.6g", (long long)t->id, evaluated ? "done" : "cached",
                 h->sobj[0].text, raw[0]);
    else
        snprintf(ev, sizeof ev, "trial %lld %s: %.300s", (long long)t->id, row.status, why ? why : "");
    progress(h, ev);
    return 0;
}

/* ---------------- workers ---------------- */

static int spawn_worker(host *h, int k, char *err, size_t cap) {
    int a[2], b[2];
    if (pipe2(a, O_CLOEXEC)) {
        err_set(err, cap, "pipe: %s", strerror(errno));
        return -1;
    }
    if (pipe2(b, O_CLOEXEC)) {
        close(a[0]);
        close(a[1]);
        err_set(err, cap, "pipe: %s", strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(a[0]);
        close(a[1]);
        close(b[0]);
        close(b[1]);
        err_set(err, cap, "cannot start a worker: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        setpgid(0, 0); /* its own group: a timeout kills the worker and its evaluator together */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        for (int i = 0; i < h->nw; i++)
            if (i != k && h->w[i].pid > 0) {
                close(h->w[i].to);
                close(h->w[i].from);
            }
        close(a[1]);
        close(b[0]);
        g_live = h->live ? &h->live[k] : NULL;
        sr_worker_serve(&h->env, a[0], b[1]);
        _exit(0);
    }
    setpgid(pid, pid);
    close(a[0]);
    close(b[1]);
    h->w[k].pid = pid;
    h->w[k].to = a[1];
    h->w[k].from = b[0];
    h->w[k].slot = -1;
    h->w[k].deadline = 0;
    return 0;
}

/* Kills a worker (and its evaluator) and reaps it; returns its wait status. */
static int kill_worker(host *h, int k, int force) {
    run_worker *w = &h->w[k];
    int st = 0;
    if (w->pid <= 0) return 0;
    if (force) {
        sr_kill_descendants(w->pid); /* also what left the group with setsid */
        kill(-w->pid, SIGKILL);
    }
    close(w->to);
    close(w->from);
    waitpid(w->pid, &st, 0);
    if (force) kill(-w->pid, SIGKILL); /* anything left in its group */
    w->pid = 0;
    w->to = w->from = -1;
    return st;
}

static int send_request(host *h, int k, run_trial *t) {
    double fid = t->p.fidelity > 0 ? t->p.fidelity : h->space.max_fidelity;
    if (h->live) {
        h->live[k].step = h->live[k].steps = 0;
        h->live[k].trial = t->id;
    }
    char *req = sr_req_encode(t->id, fid, t->weights, t->json);
    if (!req) return -1;
    int rc =
        h->mpi ? sr_mpi_send(h->w[k].rank, req, strlen(req)) : sr_msg_write(h->w[k].to, req, strlen(req));
    free(req);
    return rc;
}

/* ---------------- starting trials ---------------- */

static int can_start(const host *h) {
    const sr_config *c = h->cfg;
    if (g_interrupts || h->fatal) return 0;
    if (h->rq_next < h->nrq) return 1;
    if (h->exhausted) return 0;
    if (c->trials > 0 && h->evaluated + h->running >= c->trials) return 0; /* --trials counts evaluations */
    if (h->streak >= SR_MAX_UNEVALUATED) return 0;
    if (c->time_budget > 0 && sr_now() - h->t0 >= c->time_budget) return 0;
    return 1;
}

/* The layout names the file; a folder that cannot be made means no weights. */
static void trial_weights(host *h, run_trial *t) {
    t->weights[0] = 0;
    const sr_layout *l = h->cfg->layout;
    if (h->env.kind != SR_EVAL_BUILTIN || !l || !l->trial_weights) return;
    if (l->trial_weights(l->ud, t->id, t->weights, sizeof t->weights)) t->weights[0] = 0;
}

/* Checks a fresh point before spending a worker on it: domain, the space's
 * requires, and limits that need only static metrics.  Returns the status
 * to record now, or -1 when the trial should be evaluated. */
/* What the space says of a point: its activity (in p->active), whether it
 * is feasible (1, 0; -1 outside its domain), its static metrics and, when
 * json is not NULL, its JSON: one call of the space's instantiate, or
 * normalize, static_metrics and to_json in turn. */
static int point_facts(host *h, nasc_point *p, sr_metrics *statics, char **json) {
    const sr_space_iface *sp = h->sp;
    sr_metrics_clear(statics);
    if (sp->instantiate) {
        char *j = NULL;
        int nz = sp->instantiate(sp->ud, p, statics, &j);
        if (json)
            *json = j;
        else
            free(j);
        return nz;
    }
    int nz = h->space.normalize ? h->space.normalize(h->space.host, p) : 1;
    if (!h->space.normalize) memset(p->active, 1, (size_t)p->n);
    if (nz > 0 && sp->static_metrics && sp->static_metrics(sp->ud, p, statics)) sr_metrics_clear(statics);
    if (json) *json = sp->to_json(sp->ud, p);
    return nz;
}

static int precheck(host *h, run_trial *t, char **json, char *why, size_t cap) {
    int nz = point_facts(h, &t->p, &t->statics, json);
    if (nz < 0) {
        char bad[400] = "";
        if (sr_point_check(&h->space, &t->p, bad, sizeof bad))
            err_set(why, cap, "the strategy proposed a value outside its domain: %s", bad);
        else
            err_set(why, cap, "the strategy proposed a value outside its domain");
        return NASC_RESULT_FAILED;
    }
    if (nz == 0) {
        err_set(why, cap, "violates a require of the space");
        return NASC_RESULT_INFEASIBLE;
    }
    for (int i = 0; i < h->cfg->n_limits; i++) {
        const sr_limit *l = &h->cfg->limits[i];
        double v;
        if (!sr_expr_is_static(l->expr) || sr_expr_eval(l->expr, &t->statics, &v, NULL)) continue;
        if (v == 0) {
            err_set(why, cap, "violates '%s' (checked before evaluation)", l->text);
            return NASC_RESULT_INFEASIBLE;
        }
    }
    return -1;
}

/* A re-queued trial whose point no longer fits the space (--force): it
 * is recorded as failed, without an evaluation or a tell. */
static int drop_requeued(host *h, const run_requeued *r, int k, const char *why, char *err, size_t cap) {
    sr_trial_row row;
    memset(&row, 0, sizeof row);
    row.id = r->id;
    snprintf(row.status, sizeof row.status, "failed");
    row.finished = sr_wall();
    row.worker = k;
    char msg[400];
    snprintf(msg, sizeof msg, "the stored point no longer fits the space: %.300s", why);
    row.error = msg;
    row.told = -1; /* the strategy never hears of it */
    snprintf(row.answered, sizeof row.answered, "check");
    if (sr_store_finish(h->store, &row, err, cap)) return -1;
    h->failed++;
    h->checked++;
    return 2;
}

/* A point evaluated before at this fidelity: the earlier answer, told at
 * once, the trial marked as answered by the cache. */
static int answer_from_cache(host *h, run_trial *t, int k, const sr_cache_entry *hit, char *err, size_t cap) {
    sr_metrics m;
    sr_metrics_init(&m);
    double raw[64], sgn[64];
    char why[200] = "", e2[200];
    nasc_result_status st = !strcmp(hit->status, "done") ? NASC_RESULT_OK : NASC_RESULT_INFEASIBLE;
    if (hit->metrics && sr_metrics_from_json(hit->metrics, &m, e2, sizeof e2)) sr_metrics_clear(&m);
    if (st == NASC_RESULT_OK && parse_objs(h, hit->objectives, raw, sgn)) st = NASC_RESULT_FAILED;
    if (st != NASC_RESULT_OK) /* the limit the evaluated trial violated, judged again */
        st = judge(h, &m, raw, sgn, why, sizeof why);
    snprintf(why + strlen(why), sizeof why - strlen(why), "%sas trial %lld", why[0] ? "; " : "",
             (long long)hit->trial);
    t->answered = "cache";
    int rc = finish_trial(h, t, k, st, hit->metrics ? &m : NULL, raw, sgn, st == NASC_RESULT_OK ? NULL : why,
                          err, cap);
    sr_metrics_free(&m);
    return rc ? -1 : 2;
}

/* A trial answered without a worker: refused by the pre-check (pre >= 0)
 * or found in the cache.  Returns 2 when answered, 0 when it must be
 * evaluated, -1 on a fatal error. */
static int answer_now(host *h, run_trial *t, int k, int pre, const char *why, char *err, size_t cap) {
    if (pre >= 0) {
        t->answered = "check";
        return finish_trial(h, t, k, (nasc_result_status)pre, t->statics.n ? &t->statics : NULL, NULL, NULL,
                            why, err, cap)
                   ? -1
                   : 2;
    }
    const sr_cache_entry *hit =
        sr_cache_get(h->cache, t->json, t->p.fidelity > 0 ? t->p.fidelity : h->space.max_fidelity);
    return hit ? answer_from_cache(h, t, k, hit, err, cap) : 0;
}

/* Gets the next point (re-queued or asked) into worker k's slot and sends
 * it.  Returns 0, 1 when the strategy is exhausted, 2 when the trial was
 * recorded without a worker (infeasible, dropped), -1 on a fatal error. */
static int start_one(host *h, int k, char *err, size_t cap) {
    run_trial *t = &h->t[k];
    free(t->json);
    t->json = NULL;
    t->wall_start = sr_wall();
    t->mono_start = sr_now();
    t->answered = "evaluator";
    if (h->rq_next < h->nrq) {
        run_requeued *r = &h->rq[h->rq_next++];
        char e2[300];
        if (h->sp->from_json(h->sp->ud, r->json, &t->p, e2, sizeof e2)) {
            if (!h->cfg->force) {
                err_set(err, cap, "%s: trial %lld: stored point does not parse: %s", h->cfg->db_path,
                        (long long)r->id, e2);
                return -1;
            }
            return drop_requeued(h, r, k, e2, err, cap);
        }
        if (h->space.normalize) h->space.normalize(h->space.host, &t->p);
        t->id = r->id;
        t->p.fidelity = r->fidelity;
        t->p.tag = r->tag;
        t->p.trial = r->id;
        t->json = strdup(r->json);
        /* answered as the interrupted run would have: checked, cached or evaluated */
        char why[512] = "";
        int pre = precheck(h, t, NULL, why, sizeof why); /* the stored JSON stays */
        trial_weights(h, t);
        if (!t->json || sr_store_restart(h->store, t->id, t->wall_start, err, cap)) return -1;
        int now = answer_now(h, t, k, pre, why, err, cap);
        if (now) return now;
    } else {
        memset(t->p.values, 0, (size_t)t->p.n * sizeof *t->p.values);
        memset(t->p.active, 0, (size_t)t->p.n);
        t->p.fidelity = 0;
        t->p.tag = 0;
        t->p.trial = h->next_id;
        char e2[512] = "";
        sr_plugin_enter("ask");
        int rc = h->plug.s.ask(h->state, &t->p, e2, sizeof e2);
        sr_plugin_leave();
        sr_err_terminate(e2, sizeof e2);
        sr_fidelity_clamp(&h->space, &t->p); /* 1e300 must not become a negative epoch count */
        if (rc == 1) {
            h->exhausted = 1;
            return 1;
        }
        if (rc != 0) {
            err_set(err, cap, "strategy %s: %s", h->plug.s.name, e2[0] ? e2 : "ask failed");
            return -1;
        }
        char bad[400];
        if (sr_point_check(&h->space, &t->p, bad, sizeof bad)) {
            err_set(err, cap, "strategy %s: trial %lld: %s", h->plug.s.name, (long long)h->next_id, bad);
            return -1;
        }
        t->id = h->next_id++;
        char why[512] = "";
        int pre = precheck(h, t, &t->json, why, sizeof why);
        if (!t->json) {
            err_set(err, cap, "strategy %s: cannot write the point of trial %lld as JSON", h->plug.s.name,
                    (long long)t->id);
            return -1;
        }
        trial_weights(h, t);
        sr_trial_row row;
        memset(&row, 0, sizeof row);
        row.id = t->id;
        row.point = t->json;
        row.fidelity = t->p.fidelity > 0 ? t->p.fidelity : h->space.max_fidelity;
        row.tag = t->p.tag;
        snprintf(row.status, sizeof row.status, "running");
        row.started = t->wall_start;
        row.worker = k;
        row.asked = ++h->seq;
        if (sr_store_insert(h->store, &row, err, cap)) return -1;
        int now = answer_now(h, t, k, pre, why, err, cap);
        if (now) return now;
    }
    if (send_request(h, k, t)) {
        err_set(err, cap, "cannot send trial %lld to worker %d", (long long)t->id, k);
        return -1;
    }
    h->w[k].slot = k;
    h->w[k].limit = sr_trial_timeout(h->cfg->timeout, &h->durs); /* a default, so no trial blocks forever */
    h->w[k].deadline = !h->mpi ? sr_now() + h->w[k].limit : 0;
    h->running++;
    return 0;
}

static int fill_idle(host *h, char *err, size_t cap) {
    for (int k = 0; k < h->nw; k++) {
        while (h->w[k].slot < 0 && (h->mpi || h->w[k].pid > 0) && can_start(h)) {
            int rc = start_one(h, k, err, cap);
            if (rc < 0) return -1;
            if (rc == 1) return 0; /* exhausted */
        }
    }
    return 0;
}

/* ---------------- handling replies, deaths, timeouts ---------------- */

static int handle_reply(host *h, int k, const char *body, char *err, size_t cap) {
    run_worker *w = &h->w[k];
    if (w->slot < 0) return 0;
    run_trial *t = &h->t[w->slot];
    int64_t id = 0;
    int ok = 0, fatal = 0;
    char *msg = NULL;
    sr_metrics m;
    sr_metrics_init(&m);
    if (sr_rep_decode(body, &id, &ok, &m, &msg, &fatal) || id != t->id) {
        ok = 0;
        free(msg);
        msg = strdup("the worker sent an unreadable reply");
    }
    w->slot = -1;
    w->deadline = 0;
    h->running--;
    double raw[64], sgn[64];
    char why[1100] = "";
    nasc_result_status st = NASC_RESULT_FAILED;
    if (ok) {
        /* The host's own metrics of the point win over an evaluator's (params cannot be faked). */
        for (int i = 0; i < t->statics.n; i++)
            sr_metrics_set(&m, t->statics.v[i].name, t->statics.v[i].value);
        st = judge(h, &m, raw, sgn, why, sizeof why);
    } else {
        snprintf(why, sizeof why, "%s", msg ? msg : "evaluation failed");
    }
    if (fatal) {
        h->fatal = 1;
        /* why may be longer than fatal_msg: truncate explicitly (GCC 12 -Wformat-truncation). */
        snprintf(h->fatal_msg, sizeof h->fatal_msg, "%.*s", (int)sizeof h->fatal_msg - 1, why);
    }
    int rc = finish_trial(h, t, k, st, ok ? &m : NULL, raw, sgn, why, err, cap);
    free(msg);
    sr_metrics_free(&m);
    return rc;
}

/* The worker died or was killed while (maybe) running a trial. */
static int worker_lost(host *h, int k, const char *reason, char *err, size_t cap) {
    run_worker *w = &h->w[k];
    int slot = w->slot;
    w->slot = -1;
    w->deadline = 0;
    if (slot >= 0) {
        h->running--;
        if (finish_trial(h, &h->t[slot], k, NASC_RESULT_FAILED, NULL, NULL, NULL, reason, err, cap))
            return -1;
    }
    if (!can_start(h)) return 0;
    return spawn_worker(h, k, err, cap);
}

static int on_worker_eof(host *h, int k, char *err, size_t cap) {
    int st = kill_worker(h, k, 0);
    char why[300];
    if (WIFSIGNALED(st)) {
        int sig = WTERMSIG(st);
        snprintf(why, sizeof why, "the worker crashed (%s)%s", sr_signal_name(sig),
                 h->cfg->memory_limit > 0 &&
                         (sig == SIGSEGV || sig == SIGABRT || sig == SIGKILL || sig == SIGBUS)
                     ? ", probably over memory_limit"
                     : "");
    } else {
        snprintf(why, sizeof why, "the worker exited unexpectedly (status %d)",
                 WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    }
    return worker_lost(h, k, why, err, cap);
}

static int check_timeouts(host *h, char *err, size_t cap) {
    double now = sr_now();
    for (int k = 0; k < h->nw; k++) {
        run_worker *w = &h->w[k];
        if (w->slot < 0 || w->deadline <= 0 || now < w->deadline) continue;
        kill_worker(h, k, 1);
        char why[128];
        snprintf(why, sizeof why, "timed out after %gs (killed)", w->limit);
        if (worker_lost(h, k, why, err, cap)) return -1;
    }
    return 0;
}

/* Waits for replies (at most until the next deadline or a second). */
static int wait_events(host *h, char *err, size_t cap) {
    double now = sr_now(), until = now + (h->tty ? 0.5 : 1.0);
    for (int k = 0; k < h->nw; k++)
        if (h->w[k].slot >= 0 && h->w[k].deadline > 0 && h->w[k].deadline < until) until = h->w[k].deadline;
    if (h->cfg->time_budget > 0 && h->t0 + h->cfg->time_budget > now && h->t0 + h->cfg->time_budget < until)
        until = h->t0 + h->cfg->time_budget;
    if (h->mpi) {
        int rank;
        char *body;
        int got = 0;
        useconds_t nap = 100; /* back off to 5 ms while ranks are busy: MPI has no fd to poll */
        while (sr_now() < until && !g_interrupts) {
            if (sr_mpi_poll(&rank, &body, NULL) == 1) {
                for (int k = 0; k < h->nw; k++)
                    if (h->w[k].rank == rank && handle_reply(h, k, body, err, cap)) {
                        free(body);
                        return -1;
                    }
                free(body);
                got = 1;
                continue;
            }
            if (got) break;
            usleep(nap);
            if (nap < 5000) nap *= 2;
        }
        return 0;
    }
    struct pollfd pf[256];
    int idx[256], n = 0;
    for (int k = 0; k < h->nw && n < 256; k++)
        if (h->w[k].pid > 0) {
            pf[n].fd = h->w[k].from;
            pf[n].events = POLLIN;
            pf[n].revents = 0;
            idx[n++] = k;
        }
    int ms = (int)((until - now) * 1000) + 1;
    int r = poll(pf, (nfds_t)n, ms < 0 ? 0 : ms);
    if (r < 0 && errno != EINTR) {
        err_set(err, cap, "poll: %s", strerror(errno));
        return -1;
    }
    for (int i = 0; r > 0 && i < n; i++) {
        if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        int k = idx[i];
        char *body;
        int rc = sr_msg_read(h->w[k].from, &body, NULL);
        if (rc == 0) {
            int hr = handle_reply(h, k, body, err, cap);
            free(body);
            if (hr) return -1;
        } else if (on_worker_eof(h, k, err, cap)) {
            return -1;
        }
    }
    return check_timeouts(h, err, cap);
}

/* ---------------- store and resume ---------------- */

static int open_store(host *h, char *err, size_t cap) {
    const sr_config *c = h->cfg;
    char hash[17];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)hash_fnv1a(c->source ? c->source : ""));
    int exists = access(c->db_path, F_OK) == 0;
    if (c->resume && !exists) {
        err_set(err, cap, "%s: no such store to resume", c->db_path);
        return -1;
    }
    if (sr_lock_take(c->db_path, &h->lock, err, cap) || sr_store_open(c->db_path, 1, &h->store, err, cap))
        return -1;
    /* A store killed before its run row was committed holds nothing (trials
     * come after the run row): resuming it is starting afresh. */
    if (c->resume && sr_store_has_run(h->store)) {
        sr_run_row run;
        if (sr_store_get_run(h->store, &run, err, cap)) return -1;
        int changed = strcmp(run.source_hash ? run.source_hash : "", hash) != 0;
        char stored_hash[17];
        sr_copy(stored_hash, sizeof stored_hash, run.source_hash ? run.source_hash : "");
        char *objs = objectives_json(h);
        int other_objs = objs && run.objectives && strcmp(objs, run.objectives) != 0;
        const char *space = h->space.name ? h->space.name : "";
        if (!c->force && run.space && strcmp(run.space, space)) {
            err_set(err, cap,
                    "%s: this store holds a search of the space %s, not %s (use --force to resume anyway)",
                    c->db_path, run.space, space);
            free(objs);
            sr_run_row_free(&run);
            return -1;
        }
        if (!other_objs && !c->force && run.strategy && strcmp(run.strategy, h->plug.s.name)) {
            err_set(err, cap, "%s: this search used the strategy %s, not %s (use --force to resume anyway)",
                    c->db_path, run.strategy, h->plug.s.name);
            free(objs);
            sr_run_row_free(&run);
            return -1;
        }
        if (other_objs && !c->force)
            err_set(err, cap,
                    "%s: the objectives changed since this search started (were %s, now %s; use --force to "
                    "resume anyway)",
                    c->db_path, run.objectives, objs);
        free(objs);
        sr_run_row_free(&run);
        if (other_objs && !c->force) return -1;
        h->source_changed = changed;
        if (changed && !c->force) {
            err_set(err, cap,
                    "%s: the source of %s changed since this search started (source hash %s, now %s; use "
                    "--force to resume anyway)",
                    c->db_path, c->source_path ? c->source_path : "the search", stored_hash, hash);
            return -1;
        }
        return c->options_json ? sr_store_set_options(h->store, c->options_json, err, cap) : 0;
    }
    if (sr_store_has_run(h->store)) {
        err_set(err, cap, "%s already holds a search: resume it with --resume or choose another --db",
                c->db_path);
        return -1;
    }
    sr_run_row run = {0};
    run.source = (char *)c->source;
    run.source_hash = hash;
    run.space = (char *)(h->space.name ? h->space.name : "");
    run.strategy = (char *)h->plug.s.name;
    run.seed = c->seed;
    run.objectives = objectives_json(h);
    run.options = (char *)c->options_json;
    run.version = (char *)NASC_VERSION;
    run.started = sr_wall();
    int rc = sr_store_put_run(h->store, &run, err, cap);
    free(run.objectives);
    return rc;
}

/* ---------------- replay on --resume ---------------- */

typedef struct run_event {
    int64_t key; /* the event number */
    int row;
    int tell; /* 0 ask, 1 tell */
} run_event;

static int event_cmp(const void *a, const void *b) {
    const run_event *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return x->tell - y->tell;
}

/* The run's events in the order they happened.  A version-1 store has no
 * order: each trial is then taken as told right after its ask. */
static run_event *replay_events(const sr_trial_row *v, int n, int *ne, int64_t *last) {
    run_event *e = calloc((size_t)(2 * n + 1), sizeof *e);
    if (!e) return NULL;
    int m = 0;
    *last = 0;
    for (int i = 0; i < n; i++) {
        int64_t ask = v[i].asked > 0 ? v[i].asked : 2 * v[i].id - 1;
        e[m++] = (run_event){ask, i, 0};
        int64_t tell = v[i].told > 0                                      ? v[i].told
                       : v[i].told == 0 && strcmp(v[i].status, "running") ? 2 * v[i].id
                                                                          : -1;
        if (tell > 0) e[m++] = (run_event){tell, i, 1};
        if (ask > *last) *last = ask;
        if (tell > *last) *last = tell;
    }
    qsort(e, (size_t)m, sizeof *e, event_cmp);
    *ne = m;
    return e;
}

/* How a stored trial was answered ("" in a version-1 store: read from its error). */
static const char *row_answered(const sr_trial_row *t) {
    if (t->answered[0]) return t->answered;
    if (t->error &&
        (strstr(t->error, "(checked before evaluation)") || strstr(t->error, "require of the space")))
        return "check";
    return "evaluator";
}

/* Asks the strategy again for a stored trial, as the run did, and checks
 * it proposes the stored point.  Returns 0 (same), 1 (another point), or -1
 * when the strategy stops proposing (then no more asks are replayed). */
static int replay_ask(host *h, const sr_trial_row *t, nasc_point *p, sr_metrics *statics) {
    memset(p->values, 0, (size_t)p->n * sizeof *p->values);
    memset(p->active, 0, (size_t)p->n);
    p->fidelity = 0;
    p->tag = 0;
    p->trial = t->id;
    char e2[300] = "";
    if (h->plug.s.ask(h->state, p, e2, sizeof e2)) return -1;
    char *json = NULL;
    point_facts(h, p, statics, &json);
    double fid = p->fidelity > 0 ? p->fidelity : h->space.max_fidelity;
    int same = json && !strcmp(json, t->point) && fid == t->fidelity && p->tag == t->tag;
    free(json);
    return same ? 0 : 1;
}

/* Tells the strategy a stored result, as the run did. */
static int replay_tell(host *h, const sr_trial_row *t, nasc_point *p, double *raw, char *err, size_t cap) {
    char e2[300];
    memset(p->values, 0, (size_t)p->n * sizeof *p->values);
    memset(p->active, 0, (size_t)p->n);
    if (h->sp->from_json(h->sp->ud, t->point, p, e2, sizeof e2)) {
        /* The space changed under --force, or the front end rejects an
         * infeasible point: the trial still counts, the strategy just
         * does not hear of it. */
        if (!strcmp(t->status, "done") && !h->cfg->force) {
            err_set(err, cap, "%s: trial %lld: stored point does not parse: %s", h->cfg->db_path,
                    (long long)t->id, e2);
            return -1;
        }
        return 0;
    }
    if (h->space.normalize) h->space.normalize(h->space.host, p);
    p->fidelity = t->fidelity;
    p->tag = t->tag;
    p->trial = t->id;
    nasc_result_status st = !strcmp(t->status, "done")         ? NASC_RESULT_OK
                            : !strcmp(t->status, "infeasible") ? NASC_RESULT_INFEASIBLE
                                                               : NASC_RESULT_FAILED;
    double *r = raw, *s = raw + h->k;
    if (st == NASC_RESULT_OK && parse_objs(h, t->objectives, r, s)) st = NASC_RESULT_FAILED;
    tell(h, p, st, r, s, t->fidelity);
    int is_best;
    if (st == NASC_RESULT_OK) note_best(h, t->id, r, s, &is_best);
    /* Among equal bests, the one whose weights were kept is the best. */
    if (st == NASC_RESULT_OK && !is_best && t->weights && !h->best_weights[0] && s[0] == h->best_signed) {
        h->best_id = t->id;
        h->best_raw = r[0];
        is_best = 1;
    }
    /* The stored path only says that weights were kept: the file is derived
     * from the trial id, never trusted from the store (it is unlinked later). */
    const sr_layout *l = h->cfg->layout;
    if (st == NASC_RESULT_OK && is_best) {
        h->best_weights[0] = 0;
        if (t->weights && l && l->trial_weights &&
            l->trial_weights(l->ud, t->id, h->best_weights, sizeof h->best_weights))
            h->best_weights[0] = 0;
    }
    return 0;
}

/* Rebuilds the strategy's state by replaying the run's asks and tells in
 * the order they happened (docs/store.md), refills the result cache, and
 * queues the trials left running: they are evaluated again with their
 * stored point and told when they finish. */
static int replay(host *h, char *err, size_t cap) {
    sr_trial_row *v;
    int n, ne = 0;
    if (sr_store_trials(h->store, &v, &n, err, cap)) return -1;
    nasc_point p;
    run_event *ev = replay_events(v, n, &ne, &h->seq);
    h->rq = calloc((size_t)(n ? n : 1), sizeof *h->rq);
    double *raw = calloc((size_t)h->k * 2, sizeof *raw);
    int rc = point_alloc(&p, h->space.n_decisions);
    if (rc || !ev || !h->rq || !raw) {
        rc = -1;
        err_set(err, cap, "out of memory");
    }
    int asking = 1;
    sr_metrics scratch;
    sr_metrics_init(&scratch);
    int64_t other = 0;
    for (int i = 0; rc == 0 && i < ne; i++) {
        sr_trial_row *t = &v[ev[i].row];
        if (!ev[i].tell) {
            if (t->id >= h->next_id) h->next_id = t->id + 1;
            int a = asking ? replay_ask(h, t, &p, &scratch) : -1;
            if (a < 0) asking = 0;
            if (a != 0 && !other) other = t->id;
            continue;
        }
        rc = replay_tell(h, t, &p, raw, err, cap);
    }
    for (int i = 0; rc == 0 && i < n; i++) {
        sr_trial_row *t = &v[i];
        if (!strcmp(t->status, "running")) {
            h->rq[h->nrq].id = t->id;
            h->rq[h->nrq].json = t->point;
            h->rq[h->nrq].fidelity = t->fidelity;
            h->rq[h->nrq].tag = t->tag;
            t->point = NULL;
            h->nrq++;
            continue;
        }
        count_status(h, t->status);
        const char *an = row_answered(t);
        count_answered(h, an);
        if (!h->source_changed && !strcmp(an, "evaluator") && strcmp(t->status, "failed") &&
            sr_cache_put(h->cache, t->point, t->fidelity, t->id, t->status, t->metrics, t->objectives)) {
            rc = -1;
            err_set(err, cap, "out of memory");
        }
    }
    if (rc == 0 && other && h->cfg->progress_fp && !h->cfg->force)
        fprintf(h->cfg->progress_fp,
                "warning: replaying the store, strategy %s did not propose again the point of trial %lld: "
                "the resumed search differs from the interrupted one from there on\n",
                h->plug.s.name, (long long)other);
    free(raw);
    free(ev);
    sr_metrics_free(&scratch);
    point_free(&p);
    sr_trials_free(v, n);
    return rc;
}

/* ---------------- summary ---------------- */

static int copy_file(const char *from, const char *to) {
    FILE *a = fopen(from, "rb");
    if (!a) return -1;
    FILE *b = fopen(to, "wb");
    if (!b) {
        fclose(a);
        return -1;
    }
    char buf[65536];
    size_t n;
    int rc = 0;
    while ((n = fread(buf, 1, sizeof buf, a)) > 0)
        if (fwrite(buf, 1, n, b) != n) {
            rc = -1;
            break;
        }
    fclose(a);
    if (fclose(b)) rc = -1;
    return rc;
}

static int write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fputs(text, f);
    fputc('\n', f);
    return fclose(f);
}

static int summarize(host *h, sr_summary *out, char *err, size_t cap) {
    sr_trial_row *v;
    int n;
    if (sr_store_trials(h->store, &v, &n, err, cap)) return -1;
    double *vals = calloc((size_t)(n ? n : 1) * (size_t)h->k * 2, sizeof *vals);
    int *rows = calloc((size_t)(n ? n : 1), sizeof *rows);
    unsigned char *front = calloc((size_t)(n ? n : 1), 1);
    if (!vals || !rows || !front) {
        free(vals);
        free(rows);
        free(front);
        sr_trials_free(v, n);
        err_set(err, cap, "out of memory");
        return -1;
    }
    int m = 0, best = -1;
    double *raw = vals + (size_t)n * (size_t)h->k;
    for (int i = 0; i < n; i++) {
        if (!strcmp(v[i].status, "running")) out->unfinished++;
        if (strcmp(v[i].status, "done")) continue;
        if (parse_objs(h, v[i].objectives, raw, vals + (size_t)m * (size_t)h->k)) continue;
        rows[m] = i;
        /* Ties go to the trial the run saw first as best: its weights are the ones kept. */
        double cur = vals[(size_t)m * (size_t)h->k];
        if (best < 0 || cur > vals[(size_t)best * (size_t)h->k] ||
            (cur == vals[(size_t)best * (size_t)h->k] && h->have_best && v[i].id == h->best_id))
            best = m;
        m++;
    }
    out->done = h->done;
    out->failed = h->failed;
    out->infeasible = h->infeasible;
    out->evaluated = h->evaluated;
    out->cached = h->cached;
    out->checked = h->checked;
    out->best_trial = -1;
    if (m > 0 && h->k > 1) {
        sr_pareto_front(vals, m, h->k, front);
        out->front = calloc((size_t)m, sizeof *out->front);
        strbuf fb = {0};
        strbuf_puts(&fb, "[");
        for (int i = 0; out->front && i < m; i++) {
            if (!front[i]) continue;
            sr_trial_row *t = &v[rows[i]];
            out->front[out->n_front++] = t->id;
            strbuf_printf(&fb, "%s\n {\"trial\": %lld, \"point\": %s, \"metrics\": %s}",
                          out->n_front > 1 ? "," : "", (long long)t->id, t->point,
                          t->metrics ? t->metrics : "{}");
        }
        strbuf_puts(&fb, "\n]");
        char *ftext = strbuf_take(&fb);
        const sr_layout *l = h->cfg->layout;
        if (ftext && l && l->front_json) write_text(l->front_json, ftext);
        out->front_json = ftext;
    }
    if (best >= 0) {
        sr_trial_row *t = &v[rows[best]];
        out->best_trial = t->id;
        out->best_point = strdup(t->point);
        out->best_metrics = strdup(t->metrics ? t->metrics : "{}");
        const sr_layout *l = h->cfg->layout;
        if (l && l->best_json) {
            snprintf(out->best_json_path, sizeof out->best_json_path, "%s", l->best_json);
            if (write_text(out->best_json_path, t->point)) out->best_json_path[0] = 0;
        }
        /* The stored path only says that weights were kept: the file used is
         * derived from the trial id (never trusted from the store). */
        char wp[1100];
        if (l && l->best_weights && l->trial_weights && t->weights &&
            !l->trial_weights(l->ud, t->id, wp, sizeof wp) && sr_is_regular_file(wp)) {
            snprintf(out->best_weights_path, sizeof out->best_weights_path, "%s", l->best_weights);
            if (copy_file(wp, out->best_weights_path)) out->best_weights_path[0] = 0;
        }
    }
    free(vals);
    free(rows);
    free(front);
    sr_trials_free(v, n);
    return 0;
}

void sr_summary_free(sr_summary *s) {
    if (!s) return;
    free(s->best_point);
    free(s->best_metrics);
    free(s->front);
    free(s->front_json);
    memset(s, 0, sizeof *s);
}

/* ---------------- the run ---------------- */

static int validate(const sr_config *c, const sr_space_iface *sp, char *err, size_t cap) {
    if (!sp || !sp->space || !sp->to_json || !sp->from_json) {
        err_set(err, cap, "search: incomplete space interface");
        return -1;
    }
    if (!c->db_path || !*c->db_path) {
        err_set(err, cap, "search: no store path (--db)");
        return -1;
    }
    if (c->jobs < 1 || c->jobs > 256) {
        err_set(err, cap, "search: -j must be between 1 and 256, not %d", c->jobs);
        return -1;
    }
    if (c->trials < 0 || c->time_budget < 0 || c->timeout < 0 || c->memory_limit < 0) {
        err_set(err, cap, "search: trials, time, timeout and memory_limit must not be negative");
        return -1;
    }
    if (c->trials == 0 && c->time_budget == 0) {
        err_set(err, cap, "search: give a trial budget (trials) or a time budget (time)");
        return -1;
    }
    if (c->evaluator == SR_EVAL_BUILTIN && !sp->eval) {
        err_set(err, cap, "search: the builtin evaluator is not available");
        return -1;
    }
    if (c->evaluator != SR_EVAL_BUILTIN && (!c->command || !*c->command)) {
        err_set(err, cap, "search: the %s evaluator needs a command",
                c->evaluator == SR_EVAL_EXEC ? "exec" : "pipe");
        return -1;
    }
    if (c->n_objectives > 64) {
        err_set(err, cap, "search: at most 64 objectives");
        return -1;
    }
    for (int i = 0; i < c->n_limits; i++)
        if (!c->limits[i].expr) {
            err_set(err, cap, "search: limit '%s' has no expression",
                    c->limits[i].text ? c->limits[i].text : "?");
            return -1;
        }
    return 0;
}

static int start_workers(host *h, char *err, size_t cap) {
    int role = sr_mpi_role();
    h->mpi = role == 1;
    h->nw = h->mpi ? sr_mpi_size() - 1 : h->cfg->jobs;
    if (h->mpi && h->nw < 1) {
        err_set(err, cap, "search: under mpirun with one rank there is no rank to evaluate");
        return -1;
    }
    h->w = calloc((size_t)h->nw, sizeof *h->w);
    h->t = calloc((size_t)h->nw, sizeof *h->t);
    if (!h->w || !h->t) {
        err_set(err, cap, "out of memory");
        return -1;
    }
    for (int k = 0; k < h->nw; k++) {
        h->w[k].slot = -1;
        h->w[k].to = h->w[k].from = -1;
        h->w[k].rank = h->mpi ? k + 1 : 0;
        if (point_alloc(&h->t[k].p, h->space.n_decisions)) {
            err_set(err, cap, "out of memory");
            return -1;
        }
        sr_metrics_init(&h->t[k].statics);
    }
    if (!h->mpi) {
        void *m = mmap(NULL, (size_t)h->nw * sizeof *h->live, PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        h->live = m == MAP_FAILED ? NULL : m; /* without it, progress shows elapsed times only */
        if (h->live) memset(h->live, 0, (size_t)h->nw * sizeof *h->live);
    }
    for (int k = 0; !h->mpi && k < h->nw; k++)
        if (spawn_worker(h, k, err, cap)) return -1;
    return 0;
}

static void stop_workers(host *h, int force) {
    if (h->mpi) {
        if (!h->stopped) sr_mpi_stop_all();
        h->stopped = 1;
        return;
    }
    for (int k = 0; h->w && k < h->nw; k++) kill_worker(h, k, force || h->w[k].slot >= 0);
}

static int main_loop(host *h, char *err, size_t cap) {
    int warned = 0;
    for (;;) {
        if (fill_idle(h, err, cap)) return -1;
        if (h->running == 0 && !can_start(h)) return 0;
        if (g_interrupts == 1 && !warned && h->cfg->progress_fp) {
            fprintf(h->cfg->progress_fp,
                    "%sinterrupt: waiting for %lld running trial(s); interrupt again to kill them\n",
                    h->tty ? "\n" : "", (long long)h->running);
            warned = 1;
        }
        if (g_interrupts >= 2) return 0; /* running trials stay `running` in the store */
        if (wait_events(h, err, cap)) return -1;
        progress(h, NULL); /* a terminal: redrawn in place; otherwise a line now and then */
    }
}

static void host_free(host *h) {
    for (int k = 0; h->t && k < h->nw; k++) {
        point_free(&h->t[k].p);
        free(h->t[k].json);
        sr_metrics_free(&h->t[k].statics);
    }
    free(h->t);
    free(h->w);
    for (int i = 0; h->rq && i < h->nrq; i++) free(h->rq[i].json);
    free(h->rq);
    sr_cache_free(h->cache);
    if (h->live) munmap(h->live, (size_t)h->nw * sizeof *h->live);
    sr_plugin_enter("destroy");
    if (h->state) h->plug.s.destroy(h->state);
    sr_plugin_leave();
    sr_plugin_close(&h->plug);
    sr_store_close(h->store);
    sr_lock_release(h->lock);
    sr_durations_free(&h->durs);
    free(h->objs);
    free(h->sobj);
}

int sr_run(const sr_config *cfg, const sr_space_iface *sp, sr_summary *out, char *err, size_t cap) {
    memset(out, 0, sizeof *out);
    out->best_trial = -1;
    if (validate(cfg, sp, err, cap)) return -1;
    host h;
    memset(&h, 0, sizeof h);
    h.cfg = cfg;
    h.sp = sp;
    h.env.kind = cfg->evaluator;
    h.env.command = cfg->command;
    h.env.space = sp;
    h.env.memory_limit = cfg->memory_limit;
    h.env.timeout = cfg->timeout;
    h.next_id = 1;
    if (sr_mpi_role() == 2) {
        out->worker_rank = 1;
        return sr_mpi_serve(&h.env, err, cap);
    }
    h.tty = cfg->progress_fp && isatty(fileno(cfg->progress_fp));
    int rc = -1;
    struct sigaction sa, old_int, old_term, old_pipe;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, &old_pipe); /* a dead worker must not kill the host */
    g_interrupts = 0;
    if (cfg->handle_signals) {
        sa.sa_handler = on_signal; /* no SA_RESTART: poll() wakes up */
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
    }
    if (setup_objectives(&h, err, cap) || sr_plugin_open(cfg->strategy, &h.plug, err, cap)) goto out;
    char e2[512] = "";
    /* the strategy first: a search that cannot start claims no store */
    sr_plugin_enter("create");
    int crc = h.plug.s.create(&h.space, cfg->strategy_opts, cfg->n_strategy_opts, cfg->seed, &h.state, e2,
                              sizeof e2);
    sr_plugin_leave();
    sr_err_terminate(e2, sizeof e2);
    if (crc) {
        h.state = NULL;
        err_set(err, cap, "strategy %s: %s", h.plug.s.name, e2[0] ? e2 : "cannot start");
        goto out;
    }
    if (open_store(&h, err, cap)) goto out;
    h.t0 = sr_now();
    h.cache = sr_cache_new();
    if (!h.cache) {
        err_set(err, cap, "out of memory");
        goto out;
    }
    if ((cfg->resume && replay(&h, err, cap)) || start_workers(&h, err, cap)) goto out;
    h.evaluated0 = h.evaluated;
    progress(&h, NULL);
    rc = main_loop(&h, err, cap);
    if (rc == 0 && h.streak >= SR_MAX_UNEVALUATED && cfg->progress_fp)
        fprintf(cfg->progress_fp,
                "%sstopped after %d proposals in a row that needed no evaluation (already evaluated, or "
                "refused before it): the strategy finds nothing new in this space\n",
                h.tty ? "\n" : "", SR_MAX_UNEVALUATED);
    out->interrupted = g_interrupts > 0;
    stop_workers(&h, g_interrupts >= 2 || rc != 0);
    if (h.tty) fputc('\n', cfg->progress_fp);
    if (rc == 0 && h.fatal) {
        err_set(err, cap, "search stopped: %s", h.fatal_msg);
        rc = -1;
    }
    if (summarize(&h, out, rc ? e2 : err, rc ? sizeof e2 : cap) && rc == 0) rc = -1;
out:
    if (sr_mpi_role() == 1) h.mpi = 1; /* also on early errors: the ranks wait for work */
    if (rc || h.mpi) stop_workers(&h, 1);
    host_free(&h);
    sigaction(SIGPIPE, &old_pipe, NULL);
    if (cfg->handle_signals) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
    }
    return rc;
}
