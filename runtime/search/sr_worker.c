/* sr_worker.c: the messages between the host and its workers, and the
 * worker's serving loop.  A frame is a native-endian u32 length followed
 * by a JSON body; the host only ever talks to processes it forked (or MPI
 * ranks of the same binary), so no byte-order conversion is needed. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>
#include "sr_guard.h"
#include "sr_util.h"

#define SR_MSG_MAX (64u << 20)

static int write_all(int fd, const void *p, size_t n) {
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

/* 0 ok, 1 clean EOF before any byte, -1 error or EOF mid-frame. */
static int read_all(int fd, void *p, size_t n) {
    char *c = p;
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, c + got, n - got);
        if (r < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (r == 0) return got ? -1 : 1;
        got += (size_t)r;
    }
    return 0;
}

int sr_msg_write(int fd, const char *body, size_t n) {
    uint32_t len = (uint32_t)n;
    if (n > SR_MSG_MAX) return -1;
    /* one write for small frames keeps the host's reads whole */
    char stackbuf[4096];
    if (n + 4 <= sizeof stackbuf) {
        memcpy(stackbuf, &len, 4);
        memcpy(stackbuf + 4, body, n);
        return write_all(fd, stackbuf, n + 4);
    }
    if (write_all(fd, &len, 4)) return -1;
    return write_all(fd, body, n);
}

int sr_msg_read(int fd, char **body, size_t *n) {
    uint32_t len;
    *body = NULL;
    int rc = read_all(fd, &len, 4);
    if (rc) return rc;
    if (len > SR_MSG_MAX) return -1;
    char *b = malloc((size_t)len + 1);
    if (!b) return -1;
    if (read_all(fd, b, len)) {
        free(b);
        return -1;
    }
    b[len] = 0;
    *body = b;
    if (n) *n = len;
    return 0;
}

char *sr_req_encode(int64_t trial, double fidelity, const char *weights, const char *point) {
    strbuf b = {0};
    strbuf_printf(&b, "{\"trial\": %lld, \"fidelity\": ", (long long)trial);
    json_write_number(&b, fidelity);
    strbuf_puts(&b, ", \"weights\": ");
    json_write_str(&b, weights ? weights : "");
    strbuf_puts(&b, ", \"point\": ");
    strbuf_puts(&b, point);
    strbuf_puts(&b, "}");
    return strbuf_take(&b);
}

int sr_req_decode(const char *body, int64_t *trial, double *fidelity, char **weights, char **point) {
    char e[100];
    json_value *d = sr_json_parse(body, e, sizeof e);
    if (!d) return -1;
    const json_value *t = json_get(d, "trial"), *f = json_get(d, "fidelity"), *w = json_get(d, "weights"),
                     *p = json_get(d, "point");
    int rc = -1;
    if (t && f && w && p && w->type == JSON_STRING) {
        *trial = (int64_t)json_number(t, 0);
        *fidelity = json_number(f, 0);
        *weights = strdup(w->str);
        *point = strndup(body + p->start, p->end - p->start); /* forwarded as received */
        rc = (*weights && *point) ? 0 : -1;
    }
    json_free(d);
    return rc;
}

char *sr_rep_encode(int64_t trial, int ok, const sr_metrics *m, const char *error, int fatal) {
    strbuf b = {0};
    strbuf_printf(&b, "{\"trial\": %lld, \"ok\": %d, \"fatal\": %d, \"metrics\": ", (long long)trial, ok,
                  fatal);
    char *mj = sr_metrics_to_json(m);
    strbuf_puts(&b, mj ? mj : "{}");
    free(mj);
    strbuf_puts(&b, ", \"error\": ");
    json_write_str(&b, error ? error : "");
    strbuf_puts(&b, "}");
    return strbuf_take(&b);
}

int sr_rep_decode(const char *body, int64_t *trial, int *ok, sr_metrics *m, char **error, int *fatal) {
    char e[100];
    json_value *d = sr_json_parse(body, e, sizeof e);
    if (!d) return -1;
    const json_value *t = json_get(d, "trial"), *o = json_get(d, "ok"), *mm = json_get(d, "metrics"),
                     *er = json_get(d, "error"), *fa = json_get(d, "fatal");
    int rc = -1;
    if (t && o && mm && er && fa && mm->type == JSON_OBJECT) {
        *trial = (int64_t)json_number(t, 0);
        *ok = (int)json_number(o, 0);
        *fatal = (int)json_number(fa, 0);
        *error = strdup(er->type == JSON_STRING ? er->str : "");
        sr_metrics_clear(m);
        for (size_t i = 0; i < mm->n; i++)
            sr_metrics_set(m, mm->keys[i], mm->items[i].type == JSON_NUMBER ? mm->items[i].number : NAN);
        rc = *error ? 0 : -1;
    }
    json_free(d);
    return rc;
}

/* The host died or killed us: take the evaluator's whole tree along
 * (setsid escapees included, as the worker is their subreaper). */
static void on_term(int sig) {
    (void)sig;
    sr_kill_descendants(getpid());
    _exit(143);
}

void sr_worker_serve(const sr_eval_env *env, int in_fd, int out_fd) {
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, SIG_IGN); /* the host decides what an interrupt means */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    sr_become_subreaper();
    prctl(PR_SET_PDEATHSIG, SIGTERM);     /* replaces the fork's SIGKILL: we clean up first */
    if (getppid() == 1) on_term(SIGTERM); /* the host is already gone */
    if (env->memory_limit > 0) {
        struct rlimit rl = {(rlim_t)env->memory_limit, (rlim_t)env->memory_limit};
        setrlimit(RLIMIT_AS, &rl);
    }
    if (env->space && env->space->worker_init) env->space->worker_init(env->space->ud);
    sr_evaluator *ev = sr_evaluator_new(env);
    sr_metrics m;
    sr_metrics_init(&m);
    char *body;
    while (ev && sr_msg_read(in_fd, &body, NULL) == 0) {
        int64_t trial = 0;
        double fid = 0;
        char *weights = NULL, *point = NULL, err[1024] = "";
        int fatal = 0, ok = 0;
        if (sr_req_decode(body, &trial, &fid, &weights, &point))
            err_set(err, sizeof err, "bad request from the host");
        else
            ok = sr_evaluator_run(ev, trial, point, fid, weights[0] ? weights : NULL, &m, err, sizeof err,
                                  &fatal) == 0;
        char *rep = sr_rep_encode(trial, ok, &m, ok ? NULL : err, fatal);
        int wr = rep ? sr_msg_write(out_fd, rep, strlen(rep)) : -1;
        free(rep);
        free(body);
        free(weights);
        free(point);
        if (wr) break;
    }
    sr_metrics_free(&m);
    sr_evaluator_free(ev);
}
