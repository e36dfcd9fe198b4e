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
#include <sys/wait.h>
#include <unistd.h>
#include "sr_util.h"

#define SR_TAIL            600        /* bytes of stderr kept for a failure message */
#define SR_STDOUT_MAX      (4 << 20)  /* an exec evaluator's stdout beyond this is cut ... */
#define SR_STDOUT_KEEP     (64 << 10) /* ... to its last 64 KB */
#define SR_PIPE_MAX_DEATHS 5          /* consecutive deaths of a pipe evaluator before giving up */

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
        sr_buf w = {0};
        sr_buf_put(&w, "", 0);
        while (*p && *p != ' ' && *p != '\t' && *p != '\n') {
            if (*p == '\'') {
                const char *q = strchr(p + 1, '\'');
                if (!q) {
                    sr_buf_free(&w);
                    sr_argv_free(v);
                    sr_errf(err, cap, "unterminated ' in command: %s", cmd);
                    return -1;
                }
                sr_buf_put(&w, p + 1, (size_t)(q - p - 1));
                p = q + 1;
            } else if (*p == '"') {
                p++;
                while (*p && *p != '"') {
                    if (*p == '\\' && (p[1] == '"' || p[1] == '\\')) p++;
                    sr_buf_put(&w, p++, 1);
                }
                if (!*p) {
                    sr_buf_free(&w);
                    sr_argv_free(v);
                    sr_errf(err, cap, "unterminated \" in command: %s", cmd);
                    return -1;
                }
                p++;
            } else if (*p == '\\' && p[1]) {
                sr_buf_put(&w, p + 1, 1);
                p += 2;
            } else {
                sr_buf_put(&w, p++, 1);
            }
        }
        char *word = sr_buf_take(&w);
        if (!word || argv_push(&v, &n, &vcap, word)) {
            free(word);
            sr_argv_free(v);
            sr_errf(err, cap, "out of memory");
            return -1;
        }
    }
    if (!n) {
        sr_argv_free(v);
        sr_errf(err, cap, "empty evaluator command");
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
        sr_errf(err, cap,
                "the evaluator printed nothing (expected a JSON object of metrics on its last line)");
        return -1;
    }
    char *line = strrchr(text, '\n');
    line = line ? line + 1 : text;
    char e2[200];
    if (sr_metrics_from_json(line, m, e2, sizeof e2)) {
        sr_errf(err, cap, "the last line of output is not a JSON object of numbers (%s): %.120s", e2, line);
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
    sr_errf(err, cap, "cannot start the evaluator: %s", strerror(errno));
    return -1;
}

static void child_close(child *c) {
    if (c->in >= 0) close(c->in);
    if (c->out >= 0) close(c->out);
    if (c->errfd >= 0) close(c->errfd);
    c->in = c->out = c->errfd = -1;
}

/* ---------------- the evaluator object ---------------- */

struct sr_evaluator {
    sr_eval_env env;
    char **argv;
    char argv_err[256];
    /* pipe: the long-lived process and its partial output */
    child pc;
    int running;
    sr_buf line;
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
    ev->running = 0;
    ev->line.n = 0;
}

void sr_evaluator_free(sr_evaluator *ev) {
    if (!ev) return;
    pipe_stop(ev, NULL);
    sr_argv_free(ev->argv);
    sr_buf_free(&ev->line);
    free(ev);
}

static int run_builtin(sr_evaluator *ev, const char *point, double fid, const char *weights, sr_metrics *out,
                       char *err, size_t cap) {
    const sr_space_iface *sp = ev->env.space;
    if (!sp || !sp->eval) {
        sr_errf(err, cap, "no builtin evaluator available");
        return -1;
    }
    err[0] = 0;
    if (sp->eval(sp->ud, point, fid, weights, out, err, cap)) {
        if (!err[0]) sr_errf(err, cap, "the builtin evaluator failed");
        return -1;
    }
    return 0;
}

/* exec: one process; write the point, collect stdout and a stderr tail. */
static int run_exec(sr_evaluator *ev, int64_t trial, const char *point, double fid, sr_metrics *out,
                    char *err, size_t cap, int *fatal) {
    char ts[32], fs[40];
    snprintf(ts, sizeof ts, "%lld", (long long)trial);
    snprintf(fs, sizeof fs, "%.17g", fid);
    child c;
    if (spawn(ev->argv, ts, fs, &c, err, cap)) return -1;
    sr_buf outb = {0};
    char tail[SR_TAIL + 1] = "";
    size_t tail_len = 0, off = 0, plen = strlen(point);
    int in_open = 1;
    while (c.out >= 0 || c.errfd >= 0) {
        struct pollfd pf[3] = {{c.out, POLLIN, 0}, {c.errfd, POLLIN, 0}, {in_open ? c.in : -1, POLLOUT, 0}};
        if (poll(pf, 3, -1) < 0 && errno != EINTR) break;
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
        char buf[4096];
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
            else
                sr_buf_put(&outb, buf, (size_t)r);
            if (outb.n > SR_STDOUT_MAX) { /* the metrics are at the end: keep the last lines only */
                memmove(outb.p, outb.p + outb.n - SR_STDOUT_KEEP, SR_STDOUT_KEEP);
                outb.n = SR_STDOUT_KEEP;
                outb.p[outb.n] = 0;
            }
        }
    }
    child_close(&c);
    int status = 0;
    waitpid(c.pid, &status, 0);
    char *text = sr_buf_take(&outb);
    char why[64], t2[SR_TAIL + 1];
    tail_text(tail, t2, sizeof t2);
    int rc = 0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        describe_status(status, why, sizeof why);
        sr_errf(err, cap, "the evaluator %s%s%s", why, t2[0] ? "; stderr: " : "", t2);
        *fatal = cannot_run(status, t2);
        rc = -1;
    } else if (!text || parse_last_line(text, out, err, cap)) {
        if (!text)
            sr_errf(err, cap, "out of memory");
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
    ev->line.n = 0;
    ev->tail_len = 0;
    ev->tail[0] = 0;
    return 0;
}

/* The pipe evaluator's point line: the point object with "trial" and
 * "fidelity" added in front, on one line. */
static char *pipe_line(int64_t trial, double fid, const char *point) {
    sr_buf b = {0};
    const char *p = point;
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') p++;
    sr_buf_printf(&b, "{\"trial\": %lld, \"fidelity\": ", (long long)trial);
    sr_buf_num(&b, fid);
    if (*p == '{') {
        const char *q = p + 1;
        while (*q == ' ' || *q == '\n' || *q == '\t' || *q == '\r') q++;
        if (*q != '}') sr_buf_puts(&b, ", ");
        sr_buf_puts(&b, p + 1);
    } else {
        sr_buf_puts(&b, ", \"point\": ");
        sr_buf_puts(&b, p);
        sr_buf_puts(&b, "}");
    }
    char *s = sr_buf_take(&b);
    for (char *c = s; c && *c; c++)
        if (*c == '\n' || *c == '\r') *c = ' ';
    size_t n = s ? strlen(s) : 0;
    while (n && s[n - 1] == ' ') s[--n] = 0;
    return s;
}

/* Writes the line and reads one line back; -1 when the process died. */
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
    for (;;) {
        char *eol = ev->line.p ? memchr(ev->line.p, '\n', ev->line.n) : NULL;
        if (eol) {
            size_t k = (size_t)(eol - ev->line.p);
            *reply = strndup(ev->line.p, k);
            memmove(ev->line.p, eol + 1, ev->line.n - k - 1);
            ev->line.n -= k + 1;
            return *reply ? 0 : -1;
        }
        struct pollfd pf[2] = {{ev->pc.out, POLLIN, 0}, {ev->pc.errfd, POLLIN, 0}};
        if (poll(pf, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        char buf[4096];
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
            sr_buf_put(&ev->line, buf, (size_t)r);
        }
    }
}

static int run_pipe(sr_evaluator *ev, int64_t trial, const char *point, double fid, sr_metrics *out,
                    char *err, size_t cap, int *fatal) {
    if (!ev->running && pipe_start(ev, err, cap)) {
        *fatal = 1;
        return -1;
    }
    char *line = pipe_line(trial, fid, point), *reply = NULL;
    if (!line) {
        sr_errf(err, cap, "out of memory");
        return -1;
    }
    int rc = pipe_exchange(ev, line, &reply);
    free(line);
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
        sr_errf(err, cap, "the pipe evaluator %s%s%s%s", why, t2[0] ? "; stderr: " : "", t2,
                hopeless ? " (giving up)" : " (restarted)");
        if (hopeless) *fatal = 1;
        return -1;
    }
    ev->deaths = 0;
    char e2[300];
    rc = parse_last_line(reply, out, e2, sizeof e2);
    if (rc) sr_errf(err, cap, "%s", e2);
    free(reply);
    return rc;
}

int sr_evaluator_run(sr_evaluator *ev, int64_t trial, const char *point_json, double fidelity,
                     const char *weights, sr_metrics *out, char *err, size_t cap, int *fatal) {
    *fatal = 0;
    sr_metrics_clear(out);
    if (ev->env.kind == SR_EVAL_BUILTIN) return run_builtin(ev, point_json, fidelity, weights, out, err, cap);
    if (!ev->argv) {
        sr_errf(err, cap, "%s", ev->argv_err);
        *fatal = 1;
        return -1;
    }
    if (ev->env.kind == SR_EVAL_EXEC) return run_exec(ev, trial, point_json, fidelity, out, err, cap, fatal);
    return run_pipe(ev, trial, point_json, fidelity, out, err, cap, fatal);
}
