/* sr_eval.c: the evaluators, run inside a worker process (or an MPI rank):
 * the builtin one (a callback of the front end), exec (one process per
 * trial, the point on stdin, metrics on the last stdout line) and pipe (one
 * long-lived process, a JSON line in and a JSON line out per trial).
 * Command lines are split here, like a shell for simple quoting but with no
 * expansion, pipes or redirections (use `sh -c '...'` for those). */
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
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "sr_guard.h"
#include "sr_util.h"

#define SR_TAIL            600        /* bytes of stderr kept for a failure message */
#define SR_STDOUT_MAX      (4 << 20)  /* an exec evaluator's stdout beyond this is cut to its last line */
#define SR_LINE_MAX        (64 << 20) /* the longest metrics line read (exec or pipe) */
#define SR_PIPE_MAX_DEATHS 5   /* consecutive deaths (or mismatches) of a pipe evaluator before giving up */
#define SR_EXIT_GRACE      0.5 /* seconds an exited evaluator's children may keep its stdout open */

/* ---------------- command lines ---------------- */

static int argv_push(char ***v, int *n, int *cap, char *s) {
    if (*n + 2 > *cap) {
        int c = *cap ? *cap * 2 : 8;
        char **nv = realloc(*v, (size_t)c * sizeof *nv);
        if (!nv) return -1;
        *v = nv;
        *cap = c;
    }
    (*v)[(*n)++] = s;
    (*v)[*n] = NULL;
    return 0;
}

int sr_split_command(const char *cmd, char ***argv, char *err, size_t cap) {
    char **v = NULL;
    int n = 0, vcap = 0;
    const char *p = cmd ? cmd : "";
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n') p++;
        if (!*p) break;
        strbuf w = {0};
        strbuf_append(&w, "", 0);
        while (*p && *p != ' ' && *p != '\t' && *p != '\n') {
            if (*p == '\'') {
                const char *q = strchr(p + 1, '\'');
                if (!q) {
                    strbuf_free(&w);
                    sr_argv_free(v);
                    err_set(err, cap, "unterminated ' in command: %s", cmd);
                    return -1;
                }
                strbuf_append(&w, p + 1, (size_t)(q - p - 1));
                p = q + 1;
            } else if (*p == '"') {
                p++;
                while (*p && *p != '"') {
                    if (*p == '\\' && (p[1] == '"' || p[1] == '\\')) p++;
                    strbuf_append(&w, p++, 1);
                }
                if (!*p) {
                    strbuf_free(&w);
                    sr_argv_free(v);
                    err_set(err, cap, "unterminated \" in command: %s", cmd);
                    return -1;
                }
                p++;
            } else if (*p == '\\' && p[1]) {
                strbuf_append(&w, p + 1, 1);
                p += 2;
            } else {
                strbuf_append(&w, p++, 1);
            }
        }
        char *word = strbuf_take(&w);
        if (!word || argv_push(&v, &n, &vcap, word)) {
            free(word);
            sr_argv_free(v);
            err_set(err, cap, "out of memory");
            return -1;
        }
    }
    if (!n) {
        sr_argv_free(v);
        err_set(err, cap, "empty evaluator command");
        return -1;
    }
    *argv = v;
    return n;
}

void sr_argv_free(char **argv) {
    for (char **p = argv; p && *p; p++) free(*p);
    free(argv);
}

/* ---------------- helpers ---------------- */

static void tail_add(char *tail, size_t *len, const char *s, size_t n) {
    if (n >= SR_TAIL) {
        s += n - SR_TAIL;
        n = SR_TAIL;
    }
    if (*len + n > SR_TAIL) {
        size_t drop = *len + n - SR_TAIL;
        memmove(tail, tail + drop, *len - drop);
        *len -= drop;
    }
    memcpy(tail + *len, s, n);
    *len += n;
    tail[*len] = 0;
}

/* The stderr tail as one short line for a failure message. */
static void tail_text(const char *tail, char *out, size_t cap) {
    size_t k = 0;
    const char *p = tail;
    while (*p == '\n' || *p == ' ') p++;
    for (; *p && k + 1 < cap; p++) out[k++] = (*p == '\n' || *p == '\t') ? ' ' : *p;
    while (k && out[k - 1] == ' ') k--;
    out[k] = 0;
}

/* Our own message from spawn(): the command does not exist or cannot run. */
static int cannot_run(int status, const char *tail) {
    return WIFEXITED(status) && WEXITSTATUS(status) == 127 && !strncmp(tail, "cannot run '", 12);
}

static void describe_status(int status, char *out, size_t cap) {
    if (WIFEXITED(status))
        snprintf(out, cap, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(out, cap, "killed by %s", sr_signal_name(WTERMSIG(status)));
    else
        snprintf(out, cap, "stopped");
}

/* Parses the last non-empty line of text as a metrics object. */
static int parse_last_line(char *text, sr_metrics *m, char *err, size_t cap) {
    size_t n = strlen(text);
    while (n && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' ')) text[--n] = 0;
    if (!n) {
        err_set(err, cap,
                "the evaluator printed nothing (expected a JSON object of metrics on its last line)");
        return -1;
    }
    char *line = strrchr(text, '\n');
    line = line ? line + 1 : text;
    char e2[200];
    if (sr_metrics_from_json(line, m, e2, sizeof e2)) {
        err_set(err, cap, "the last line of output is not a JSON object of numbers (%s): %.120s", e2, line);
        return -1;
    }
    return 0;
}

typedef struct child {
    pid_t pid;
    int in, out, errfd; /* our ends */
} child;

static int spawn(char **argv, const char *trial, const char *fidelity, child *c, char *err, size_t cap) {
    int pin[2], pout[2], perr[2];
    if (pipe2(pin, O_CLOEXEC)) goto fail0;
    if (pipe2(pout, O_CLOEXEC)) goto fail1;
    if (pipe2(perr, O_CLOEXEC)) goto fail2;
    pid_t pid = fork();
    if (pid < 0) goto fail3;
    if (pid == 0) {
        /* Its own group, so leftovers are killed as one; and it dies with its worker. */
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(pin[0], 0);
        dup2(pout[1], 1);
        dup2(perr[1], 2);
        signal(SIGPIPE, SIG_DFL); /* the worker ignores these; exec would pass that on */
        signal(SIGINT, SIG_DFL);
        if (trial) setenv("NASC_TRIAL", trial, 1);
        if (fidelity) setenv("NASC_FIDELITY", fidelity, 1);
        execvp(argv[0], argv);
        dprintf(2, "cannot run '%s': %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);
    close(pin[0]);
    close(pout[1]);
    close(perr[1]);
    c->pid = pid;
    c->in = pin[1];
    c->out = pout[0];
    c->errfd = perr[0];
    return 0;
fail3:
    close(perr[0]);
    close(perr[1]);
fail2:
    close(pout[0]);
    close(pout[1]);
fail1:
    close(pin[0]);
    close(pin[1]);
fail0:
    err_set(err, cap, "cannot start the evaluator: %s", strerror(errno));
    return -1;
}

static void child_close(child *c) {
    if (c->in >= 0) close(c->in);
    if (c->out >= 0) close(c->out);
    if (c->errfd >= 0) close(c->errfd);
    c->in = c->out = c->errfd = -1;
}

static void kill_leftovers(pid_t pgid);

/* ---------------- the evaluator object ---------------- */

struct sr_evaluator {
    sr_eval_env env;
    char **argv;
    char argv_err[256];
    /* pipe: the long-lived process and its partial output */
    child pc;
    int running;
    strbuf line;
    char tail[SR_TAIL + 1];
    size_t tail_len;
    int deaths; /* consecutive deaths of the pipe process */
};

sr_evaluator *sr_evaluator_new(const sr_eval_env *env) {
    sr_evaluator *ev = calloc(1, sizeof *ev);
    if (!ev) return NULL;
    ev->env = *env;
    ev->pc.in = ev->pc.out = ev->pc.errfd = -1;
    if (env->kind != SR_EVAL_BUILTIN &&
        sr_split_command(env->command, &ev->argv, ev->argv_err, sizeof ev->argv_err) < 0)
        ev->argv = NULL;
    return ev;
}

static void pipe_stop(sr_evaluator *ev, int *status) {
    if (!ev->running) return;
    child_close(&ev->pc);
    int st = 0;
    if (status) {
        /* a dying process may still be writing its last words: give it a moment */
        for (int i = 0; i < 50 && waitpid(ev->pc.pid, &st, WNOHANG) == 0; i++) usleep(2000);
        if (waitpid(ev->pc.pid, &st, WNOHANG) == 0) {
            kill(ev->pc.pid, SIGKILL);
            waitpid(ev->pc.pid, &st, 0);
        }
        *status = st;
    } else {
        kill(ev->pc.pid, SIGKILL);
        waitpid(ev->pc.pid, &st, 0);
    }
    kill_leftovers(ev->pc.pid);
    ev->running = 0;
    ev->line.len = 0;
}

void sr_evaluator_free(sr_evaluator *ev) {
    if (!ev) return;
    pipe_stop(ev, NULL);
    sr_argv_free(ev->argv);
    strbuf_free(&ev->line);
    free(ev);
}

static int run_builtin(sr_evaluator *ev, const char *point, double fid, const char *weights, sr_metrics *out,
                       char *err, size_t cap) {
    const sr_space_iface *sp = ev->env.space;
    if (!sp || !sp->eval) {
        err_set(err, cap, "no builtin evaluator available");
        return -1;
    }
    err[0] = 0;
    if (sp->eval(sp->ud, point, fid, weights, out, err, cap)) {
        if (!err[0]) err_set(err, cap, "the builtin evaluator failed");
        return -1;
    }
    return 0;
}

/* Kills what an evaluator left behind: its process group and, in a
 * worker (their subreaper), every descendant that escaped it. */
static void kill_leftovers(pid_t pgid) {
    if (pgid > 0) kill(-pgid, SIGKILL);
    if (sr_is_subreaper()) {
        sr_kill_descendants(getpid());
        sr_reap_orphans(0);
    }
}

/* Keeps the buffered stdout bounded: beyond SR_STDOUT_MAX only the last
 * (maybe partial) line matters, which is kept whole up to SR_LINE_MAX. */
static void trim_output(strbuf *b, int *overflow) {
    if (b->len <= SR_STDOUT_MAX) return;
    size_t e = b->len;
    while (e && (b->data[e - 1] == '\n' || b->data[e - 1] == '\r' || b->data[e - 1] == ' ')) e--;
    size_t q = e;
    while (q && b->data[q - 1] != '\n') q--;
    memmove(b->data, b->data + q, b->len - q);
    b->len -= q;
    b->data[b->len] = 0;
    if (b->len > SR_LINE_MAX) {
        *overflow = 1;
        b->len = 0;
        b->data[0] = 0;
    }
}

/* exec: one process; write the point, collect stdout and a stderr tail.
 * Once the process has exited, its children get SR_EXIT_GRACE to close
 * the pipes (a forked child keeping stdout open must not hold the trial). */
static int run_exec(sr_evaluator *ev, int64_t trial, const char *point, double fid, sr_metrics *out,
                    char *err, size_t cap, int *fatal) {
    char ts[32], fs[40];
    snprintf(ts, sizeof ts, "%lld", (long long)trial);
    snprintf(fs, sizeof fs, "%.17g", fid);
    child c;
    if (spawn(ev->argv, ts, fs, &c, err, cap)) return -1;
    strbuf outb = {0};
    char tail[SR_TAIL + 1] = "";
    size_t tail_len = 0, off = 0, plen = strlen(point);
    int in_open = 1, exited = 0, status = 0, overflow = 0;
    double exit_time = 0;
    while (c.out >= 0 || c.errfd >= 0) {
        struct pollfd pf[3] = {{c.out, POLLIN, 0}, {c.errfd, POLLIN, 0}, {in_open ? c.in : -1, POLLOUT, 0}};
        if (poll(pf, 3, 100) < 0 && errno != EINTR) break;
        if (!exited && waitpid(c.pid, &status, WNOHANG) == c.pid) {
            exited = 1;
            exit_time = sr_now();
        }
        if (exited && sr_now() - exit_time > SR_EXIT_GRACE) break; /* its children hold the pipes */
        if (in_open && (pf[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t w = off < plen ? write(c.in, point + off, plen - off) : write(c.in, "\n", 1);
            if (w < 0 || off >= plen) {
                close(c.in);
                c.in = -1;
                in_open = 0;
            } /* EPIPE: it does not read stdin */
            else
                off += (size_t)w;
        }
        char buf[65536];
        for (int k = 0; k < 2; k++) {
            int *fd = k ? &c.errfd : &c.out;
            if (*fd < 0 || !(pf[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            ssize_t r = read(*fd, buf, sizeof buf);
            if (r <= 0) {
                close(*fd);
                *fd = -1;
                continue;
            }
            if (k)
                tail_add(tail, &tail_len, buf, (size_t)r);
            else {
                strbuf_append(&outb, buf, (size_t)r);
                trim_output(&outb, &overflow);
            }
        }
    }
    child_close(&c);
    if (!exited) waitpid(c.pid, &status, 0);
    kill_leftovers(c.pid);
    char *text = strbuf_take(&outb);
    char why[64], t2[SR_TAIL + 1];
    tail_text(tail, t2, sizeof t2);
    int rc = 0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        describe_status(status, why, sizeof why);
        err_set(err, cap, "the evaluator %s%s%s", why, t2[0] ? "; stderr: " : "", t2);
        *fatal = cannot_run(status, t2);
        rc = -1;
    } else if (overflow) {
        err_set(err, cap, "the last line of output is longer than %d MB", SR_LINE_MAX >> 20);
        rc = -1;
    } else if (!text || parse_last_line(text, out, err, cap)) {
        if (!text)
            err_set(err, cap, "out of memory");
        else if (t2[0]) {
            size_t k = strlen(err);
            snprintf(err + k, cap - k, "; stderr: %s", t2);
        }
        rc = -1;
    }
    free(text);
    return rc;
}

static int pipe_start(sr_evaluator *ev, char *err, size_t cap) {
    if (spawn(ev->argv, NULL, NULL, &ev->pc, err, cap)) return -1;
    ev->running = 1;
    ev->line.len = 0;
    ev->tail_len = 0;
    ev->tail[0] = 0;
    return 0;
}

/* The pipe evaluator's point line: the point object with "trial" and
 * "fidelity" added in front, on one line. */
static char *pipe_line(int64_t trial, double fid, const char *point) {
    strbuf b = {0};
    const char *p = point;
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') p++;
    strbuf_printf(&b, "{\"trial\": %lld, \"fidelity\": ", (long long)trial);
    json_write_number(&b, fid);
    if (*p == '{') {
        const char *q = p + 1;
        while (*q == ' ' || *q == '\n' || *q == '\t' || *q == '\r') q++;
        if (*q != '}') strbuf_puts(&b, ", ");
        strbuf_puts(&b, p + 1);
    } else {
        strbuf_puts(&b, ", \"point\": ");
        strbuf_puts(&b, p);
        strbuf_puts(&b, "}");
    }
    char *s = strbuf_take(&b);
    for (char *c = s; c && *c; c++)
        if (*c == '\n' || *c == '\r') *c = ' ';
    size_t n = s ? strlen(s) : 0;
    while (n && s[n - 1] == ' ') s[--n] = 0;
    return s;
}

/* Reads what the process printed without being asked (after its last
 * reply); 1 when there was any, 0 when none. */
static int pipe_unasked(sr_evaluator *ev) {
    if (ev->line.len) return 1;
    struct pollfd pf = {ev->pc.out, POLLIN, 0};
    if (poll(&pf, 1, 0) <= 0 || !(pf.revents & POLLIN)) return 0;
    char buf[4096];
    ssize_t r = read(ev->pc.out, buf, sizeof buf);
    if (r <= 0) return 0; /* EOF: the exchange will see the death */
    strbuf_append(&ev->line, buf, (size_t)r);
    return 1;
}

/* Writes the line and reads one line back; -1 when the process died, -2
 * when its reply line exceeds SR_LINE_MAX. */
static int pipe_exchange(sr_evaluator *ev, const char *line, char **reply) {
    size_t n = strlen(line), off = 0;
    int nl = 0;
    while (off < n || !nl) {
        ssize_t w = off < n ? write(ev->pc.in, line + off, n - off) : write(ev->pc.in, "\n", 1);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (off < n)
            off += (size_t)w;
        else
            nl = 1;
    }
    size_t scanned = 0; /* bytes of ev->line known to hold no newline: the scan stays linear */
    for (;;) {
        char *eol = ev->line.data ? memchr(ev->line.data + scanned, '\n', ev->line.len - scanned) : NULL;
        scanned = ev->line.len;
        if (eol) {
            size_t k = (size_t)(eol - ev->line.data);
            *reply = strndup(ev->line.data, k);
            memmove(ev->line.data, eol + 1, ev->line.len - k - 1);
            ev->line.len -= k + 1;
            return *reply ? 0 : -1;
        }
        struct pollfd pf[2] = {{ev->pc.out, POLLIN, 0}, {ev->pc.errfd, POLLIN, 0}};
        if (poll(pf, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        char buf[65536];
        if (pf[1].revents & (POLLIN | POLLHUP)) {
            ssize_t r = read(ev->pc.errfd, buf, sizeof buf);
            if (r > 0)
                tail_add(ev->tail, &ev->tail_len, buf, (size_t)r);
            else {
                close(ev->pc.errfd);
                ev->pc.errfd = -1;
            } /* stderr closed: keep reading stdout */
        }
        if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t r = read(ev->pc.out, buf, sizeof buf);
            if (r <= 0) return -1;
            strbuf_append(&ev->line, buf, (size_t)r);
            if (ev->line.len > SR_LINE_MAX) return -2;
        }
    }
}

/* A reply that cannot be the one for this trial: the process is killed
 * (restarted for the next trial) and the trial fails with the reason. */
static int pipe_mismatch(sr_evaluator *ev, int *fatal, char *err, size_t cap, const char *what) {
    pipe_stop(ev, NULL);
    ev->deaths++;
    int hopeless = ev->deaths >= SR_PIPE_MAX_DEATHS;
    err_set(err, cap, "the pipe evaluator %s%s", what, hopeless ? " (giving up)" : " (restarted)");
    if (hopeless) *fatal = 1;
    return -1;
}

/* pipe: one request line, one reply line.  A reply that echoes "trial"
 * must name this trial; one that does not must be the only output since
 * the request.  Unasked output before a request means an earlier reply
 * was not the one it seemed: the process is restarted. */
static int run_pipe(sr_evaluator *ev, int64_t trial, const char *point, double fid, sr_metrics *out,
                    char *err, size_t cap, int *fatal) {
    char what[300];
    if (ev->running && pipe_unasked(ev)) {
        snprintf(what, sizeof what,
                 "printed output after its last reply, before trial %lld (one line per request)",
                 (long long)trial);
        return pipe_mismatch(ev, fatal, err, cap, what);
    }
    if (!ev->running && pipe_start(ev, err, cap)) {
        *fatal = 1;
        return -1;
    }
    char *line = pipe_line(trial, fid, point), *reply = NULL;
    if (!line) {
        err_set(err, cap, "out of memory");
        return -1;
    }
    int rc = pipe_exchange(ev, line, &reply);
    free(line);
    if (rc == -2) {
        snprintf(what, sizeof what, "printed a line longer than %d MB", SR_LINE_MAX >> 20);
        return pipe_mismatch(ev, fatal, err, cap, what);
    }
    if (rc) {
        int status = 0;
        pipe_stop(ev, &status);
        char why[64], t2[SR_TAIL + 1];
        describe_status(status, why, sizeof why);
        tail_text(ev->tail, t2, sizeof t2);
        ev->deaths++;
        /* It is restarted for the next trial; one that cannot even start,
         * or dies on every trial, ends the search instead of the budget. */
        int hopeless = cannot_run(status, t2) || ev->deaths >= SR_PIPE_MAX_DEATHS;
        err_set(err, cap, "the pipe evaluator %s%s%s%s", why, t2[0] ? "; stderr: " : "", t2,
                hopeless ? " (giving up)" : " (restarted)");
        if (hopeless) *fatal = 1;
        return -1;
    }
    char e2[300];
    rc = parse_last_line(reply, out, e2, sizeof e2);
    free(reply);
    if (rc) {
        ev->deaths = 0;
        err_set(err, cap, "%s", e2);
        return -1;
    }
    double echoed;
    if (sr_metrics_get(out, "trial", &echoed)) {
        if (echoed != (double)trial) {
            sr_metrics_clear(out);
            snprintf(what, sizeof what, "answered trial %.17g when asked for trial %lld", echoed,
                     (long long)trial);
            return pipe_mismatch(ev, fatal, err, cap, what);
        }
    } else if (pipe_unasked(ev)) {
        sr_metrics_clear(out);
        snprintf(what, sizeof what, "printed more than one line for trial %lld", (long long)trial);
        return pipe_mismatch(ev, fatal, err, cap, what);
    }
    ev->deaths = 0;
    return 0;
}

int sr_evaluator_run(sr_evaluator *ev, int64_t trial, const char *point_json, double fidelity,
                     const char *weights, sr_metrics *out, char *err, size_t cap, int *fatal) {
    *fatal = 0;
    sr_metrics_clear(out);
    if (ev->env.kind == SR_EVAL_BUILTIN) return run_builtin(ev, point_json, fidelity, weights, out, err, cap);
    if (!ev->argv) {
        err_set(err, cap, "%s", ev->argv_err);
        *fatal = 1;
        return -1;
    }
    if (ev->env.kind == SR_EVAL_EXEC) return run_exec(ev, trial, point_json, fidelity, out, err, cap, fatal);
    return run_pipe(ev, trial, point_json, fidelity, out, err, cap, fatal);
}
