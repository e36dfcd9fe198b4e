/* sr_guard.c: the search host's defences (docs/reliability.md): the
 * store's one-writer lock, derived weights paths, killing a whole process
 * tree (setsid escapees included), the watchdog that keeps SIGTERM and
 * SIGINT working while a plugin is stuck, checks of proposed points, and
 * the default trial timeout. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "sr_guard.h"
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "sr_util.h"

/* ---------------- the lock ---------------- */

struct sr_lock {
    int fd;
};

/* What the holder wrote into the lock file: "pid N\nstarted T\n". */
static void holder_text(int fd, char *out, size_t cap) {
    char buf[256] = "";
    ssize_t n = 0;
    for (int tries = 0; tries < 20 && n <= 0; tries++) { /* the holder writes just after locking */
        n = pread(fd, buf, sizeof buf - 1, 0);
        if (n <= 0) usleep(5000);
    }
    buf[n > 0 ? n : 0] = 0;
    long pid = 0;
    double started = 0;
    if (sscanf(buf, "pid %ld started %lf", &pid, &started) != 2 || pid <= 0) {
        snprintf(out, cap, "pid unknown");
        return;
    }
    time_t t = (time_t)started;
    struct tm tm;
    char when[64] = "?";
    if (gmtime_r(&t, &tm)) strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
    snprintf(out, cap, "pid %ld, started %s", pid, when);
}

#define SR_LOCK_WAIT 5

/* 1 when the pid the holder wrote no longer exists. */
static int holder_gone(int fd) {
    char buf[128] = "";
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    buf[n > 0 ? n : 0] = 0;
    long pid = 0;
    int gone = sscanf(buf, "pid %ld", &pid) == 1 && pid > 0 && kill((pid_t)pid, 0) && errno == ESRCH;
    errno = EWOULDBLOCK;
    return gone;
}

int sr_lock_take(const char *db_path, sr_lock **out, char *err, size_t cap) {
    *out = NULL;
    strbuf b = {0};
    strbuf_printf(&b, "%s.lock", db_path);
    if (!b.data) {
        err_set(err, cap, "out of memory");
        return -1;
    }
    int fd = open(b.data, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0666);
    if (fd < 0) {
        err_set(err, cap, "%s: cannot open the store's lock: %s", b.data, strerror(errno));
        strbuf_free(&b);
        return -1;
    }
    int locked = flock(fd, LOCK_EX | LOCK_NB) == 0;
    /* A SIGKILLed host's workers hold the lock for the few milliseconds
     * they take to kill their evaluators: when the host itself is gone,
     * wait for them (up to SR_LOCK_WAIT seconds) rather than refuse. */
    for (int i = 0; !locked && errno == EWOULDBLOCK && holder_gone(fd) && i < SR_LOCK_WAIT * 50; i++) {
        usleep(20000);
        locked = flock(fd, LOCK_EX | LOCK_NB) == 0;
    }
    if (!locked) {
        int e = errno;
        char who[128];
        if (e == EWOULDBLOCK)
            holder_text(fd, who, sizeof who);
        else
            snprintf(who, sizeof who, "%s", strerror(e));
        err_set(err, cap,
                "%s: another search is writing this store (%s); wait for it to end or stop it, then resume",
                db_path, who);
        close(fd);
        strbuf_free(&b);
        return -1;
    }
    strbuf_free(&b);
    char text[96];
    int n = snprintf(text, sizeof text, "pid %ld started %.3f\n", (long)getpid(), sr_wall());
    if (ftruncate(fd, 0) || pwrite(fd, text, (size_t)n, 0) != n) {
        /* the lock holds even when the note cannot be written (full disk) */
    }
    sr_lock *l = malloc(sizeof *l);
    if (!l) {
        close(fd);
        err_set(err, cap, "out of memory");
        return -1;
    }
    l->fd = fd;
    *out = l;
    return 0;
}

void sr_lock_release(sr_lock *l) {
    if (!l) return;
    close(l->fd); /* releases the flock; the file stays (see sr_guard.h) */
    free(l);
}

/* ---------------- paths ---------------- */

int sr_is_regular_file(const char *path) {
    struct stat st;
    return path && *path && !lstat(path, &st) && S_ISREG(st.st_mode);
}

/* ---------------- process trees ---------------- */

#define SR_TREE_MAX 4096

/* The parent pid from /proc/PID/stat, or -1 (async-signal-safe). */
static pid_t proc_ppid(const char *pid) {
    char path[64] = "/proc/", buf[512];
    size_t k = 6;
    for (const char *s = pid; *s && k < 40; s++) path[k++] = *s;
    memcpy(path + k, "/stat", 6);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return -1;
    buf[n] = 0;
    char *r = NULL;
    for (char *s = buf; *s; s++)
        if (*s == ')') r = s; /* the command name may hold ')' */
    if (!r || !r[1] || !r[2] || !r[3]) return -1;
    pid_t pp = 0;
    for (char *s = r + 4; *s >= '0' && *s <= '9'; s++) pp = pp * 10 + (*s - '0');
    return pp;
}

static int in_set(const pid_t *v, int n, pid_t p) {
    for (int i = 0; i < n; i++)
        if (v[i] == p) return 1;
    return 0;
}

/* Calls fn(name, ud) for each entry of the open folder fd whose name is
 * a number (a pid or a tid), then closes fd.  Async-signal-safe: raw
 * getdents64 into a stack buffer, no malloc. */
static void each_numeric_entry(int fd, void (*fn)(const char *name, void *ud), void *ud) {
    char buf[8192];
    for (;;) {
        long got = syscall(SYS_getdents64, fd, buf, sizeof buf);
        if (got <= 0) break;
        for (long off = 0; off < got;) {
            unsigned short reclen;
            memcpy(&reclen, buf + off + 16, sizeof reclen);
            const char *name = buf + off + 19; /* struct linux_dirent64: d_name */
            off += reclen;
            if (name[0] >= '1' && name[0] <= '9') fn(name, ud);
        }
    }
    close(fd);
}

typedef struct proc_visit {
    void (*fn)(pid_t pid, pid_t ppid, void *ud);
    void *ud;
} proc_visit;

static void proc_entry(const char *name, void *ud) {
    proc_visit *v = ud;
    pid_t pid = 0;
    for (const char *s = name; *s >= '0' && *s <= '9'; s++) pid = pid * 10 + (*s - '0');
    v->fn(pid, proc_ppid(name), v->ud);
}

/* Calls fn(pid, ppid, ud) for every process in /proc (async-signal-safe). */
static void proc_each(void (*fn)(pid_t pid, pid_t ppid, void *ud), void *ud) {
    int fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    proc_visit v = {fn, ud};
    each_numeric_entry(fd, proc_entry, &v);
}

typedef struct tree {
    pid_t set[SR_TREE_MAX];
    int n, added;
    pid_t keep; /* sr_reap_orphans: the child not to reap */
} tree;

/* Stops and adds a process whose parent is in the tree. */
static void tree_add(pid_t pid, pid_t ppid, void *ud) {
    tree *t = ud;
    if (ppid <= 0 || t->n >= SR_TREE_MAX || in_set(t->set, t->n, pid) || !in_set(t->set, t->n, ppid)) return;
    kill(pid, SIGSTOP); /* a stopped process cannot fork or reparent its children */
    t->set[t->n++] = pid;
    t->added++;
}

/* Writes the decimal pid into buf; returns its end. */
static char *put_pid(char *buf, pid_t pid) {
    char tmp[16];
    int k = 0;
    do tmp[k++] = (char)('0' + pid % 10);
    while ((pid /= 10) > 0);
    while (k) *buf++ = tmp[--k];
    *buf = 0;
    return buf;
}

typedef struct task_visit {
    tree *t;
    pid_t pid;
    const char *task_dir; /* "/proc/PID/task" */
    int rc;
} task_visit;

/* One thread's children, from /proc/PID/task/TID/children. */
static void task_entry(const char *name, void *ud) {
    task_visit *v = ud;
    char cp[128];
    size_t k = strlen(v->task_dir);
    memcpy(cp, v->task_dir, k);
    cp[k++] = '/';
    for (const char *q = name; *q && k < 100; q++) cp[k++] = *q;
    memcpy(cp + k, "/children", 10);
    int cf = open(cp, O_RDONLY | O_CLOEXEC);
    if (cf < 0) {
        if (errno == ENOENT && !access("/proc/self/task", F_OK)) v->rc = -1; /* no CONFIG_PROC_CHILDREN */
        return;
    }
    char list[2048];
    ssize_t n = read(cf, list, sizeof list - 1);
    close(cf);
    if (n == (ssize_t)sizeof list - 1) v->rc = -1; /* too many to read here: scan instead */
    list[n > 0 ? n : 0] = 0;
    for (char *q = list; *q;) {
        pid_t c = 0;
        while (*q >= '0' && *q <= '9') c = c * 10 + (*q++ - '0');
        while (*q == ' ' || *q == '\n') q++;
        if (c > 0) tree_add(c, v->pid, v->t);
        if (c <= 0 && *q) q++;
    }
}

/* Adds the children of pid, read from /proc/PID/task/TID/children of each
 * of its threads (the fast way: no scan of every process).  -1 when the
 * kernel has no such files. */
static int tree_children(tree *t, pid_t pid) {
    char path[96] = "/proc/";
    char *e = put_pid(path + 6, pid);
    memcpy(e, "/task", 6);
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return 0; /* gone */
    task_visit v = {t, pid, path, 0};
    each_numeric_entry(fd, task_entry, &v);
    return v.rc;
}

int sr_kill_descendants(pid_t root) {
    tree t;
    t.n = 1;
    t.set[0] = root;
    /* Collect the whole tree stopped first: killing a parent early would
     * hand its children to init before the scan found them.  Each process
     * is asked for its children; a kernel that cannot say gets a scan of
     * every process instead. */
    int scan = 0;
    for (int round = 0; round < 64; round++) {
        t.added = 0;
        if (!scan)
            for (int i = 0; i < t.n && !scan; i++) scan = tree_children(&t, t.set[i]) < 0;
        if (scan) proc_each(tree_add, &t);
        if (!t.added) break;
    }
    for (int i = 1; i < t.n; i++) kill(t.set[i], SIGKILL);
    return t.n - 1;
}

static int g_subreaper;

void sr_become_subreaper(void) { g_subreaper = prctl(PR_SET_CHILD_SUBREAPER, 1) == 0; }

int sr_is_subreaper(void) { return g_subreaper; }

/* Collects the children of set[0] but `keep`. */
static void child_add(pid_t pid, pid_t ppid, void *ud) {
    tree *t = ud;
    if (ppid == t->set[0] && pid != t->keep && t->n < SR_TREE_MAX) t->set[t->n++] = pid;
}

void sr_reap_orphans(pid_t keep) {
    /* waitpid(-1) would also reap `keep`: look each child up instead. */
    static tree t; /* 16 KB: not on a worker's stack */
    t.n = 1;
    t.set[0] = getpid();
    t.keep = keep;
    proc_each(child_add, &t);
    for (int i = 1; i < t.n; i++) waitpid(t.set[i], NULL, WNOHANG);
}

/* ---------------- the plugin watchdog ---------------- */

static const char *volatile g_plugin_call; /* the callback running, or NULL */
static volatile sig_atomic_t g_watch_sig, g_alarm_set;

static void say(const char *s) {
    size_t n = strlen(s);
    while (n) {
        ssize_t w = write(2, s, n);
        if (w <= 0) return;
        s += w;
        n -= (size_t)w;
    }
}

/* Leaves at once: the store is consistent after every commit, running
 * trials stay running, the workers follow by their parent-death signal. */
static void plugin_stuck_exit(void) {
    const char *what = g_plugin_call;
    say("\nnasc: the strategy did not return from ");
    say(what ? what : "a callback");
    say(" after the interrupt; stopping now (trials left running are re-run by --resume)\n");
    _exit(g_watch_sig == SIGTERM ? 143 : 130);
}

static void on_alarm(int sig) {
    (void)sig;
    if (g_plugin_call) plugin_stuck_exit();
}

void sr_plugin_enter(const char *what) { g_plugin_call = what; }

void sr_plugin_leave(void) {
    g_plugin_call = NULL;
    if (g_alarm_set) {
        alarm(0);
        g_alarm_set = 0;
    }
}

void sr_plugin_on_signal(int sig, int count) {
    if (!g_plugin_call) return;
    g_watch_sig = sig;
    if (count >= 2) plugin_stuck_exit(); /* asked twice: do not wait for the grace either */
    if (g_alarm_set) return;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    g_alarm_set = 1;
    alarm(SR_PLUGIN_GRACE);
}

/* ---------------- proposed points ---------------- */

static void choice_list(const nasc_decision *d, char *out, size_t cap) {
    size_t k = 0;
    out[0] = 0;
    for (int i = 0; i < d->n_choices && k + 8 < cap; i++) {
        int n = snprintf(out + k, cap - k, "%s%s", i ? ", " : "", d->choices ? d->choices[i] : "?");
        if (n < 0 || (size_t)n >= cap - k) {
            snprintf(out + k, cap - k, "...");
            return;
        }
        k += (size_t)n;
    }
}

int sr_point_check(const nasc_space *s, const nasc_point *p, char *why, size_t cap) {
    if (!s || !p || p->n != s->n_decisions) {
        err_set(why, cap, "the strategy returned a point with %d values for %d decisions", p ? p->n : 0,
                s ? s->n_decisions : 0);
        return -1;
    }
    for (int i = 0; i < p->n; i++) {
        const nasc_decision *d = &s->decisions[i];
        /* Only a conditional decision may be inactive (and hold anything). */
        if (d->condition && *d->condition && p->active && !p->active[i]) continue;
        const nasc_value v = p->values[i];
        const char *lab = d->label ? d->label : "?";
        char list[200];
        switch (d->kind) {
        case NASC_DEC_CATEGORICAL:
            if (v.i < 0 || v.i >= d->n_choices) {
                choice_list(d, list, sizeof list);
                err_set(why, cap, "decision '%s': index %lld is not one of its %d choices (%s)", lab,
                        (long long)v.i, d->n_choices, list);
                return -1;
            }
            break;
        case NASC_DEC_INT:
            if (v.i < d->lo || v.i > d->hi || (d->step > 1 && (v.i - d->lo) % d->step)) {
                char step[40] = "";
                if (d->step > 1) snprintf(step, sizeof step, " step %lld", (long long)d->step);
                err_set(why, cap, "decision '%s': %lld is not in %lld..%lld%s", lab, (long long)v.i,
                        (long long)d->lo, (long long)d->hi, step);
                return -1;
            }
            break;
        case NASC_DEC_FLOAT:
            if (!isfinite(v.f) || v.f < d->flo || v.f > d->fhi) {
                err_set(why, cap, "decision '%s': %.17g is not in [%.17g, %.17g]", lab, v.f, d->flo, d->fhi);
                return -1;
            }
            break;
        case NASC_DEC_SUBSET: {
            uint64_t allowed = d->n_choices >= 64 ? ~0ull : ((1ull << d->n_choices) - 1);
            if ((v.subset & ~allowed) || __builtin_popcountll(v.subset) != d->k) {
                err_set(why, cap, "decision '%s': the subset mask %#llx is not %d of its %d choices", lab,
                        (unsigned long long)v.subset, d->k, d->n_choices);
                return -1;
            }
            break;
        }
        default: err_set(why, cap, "decision '%s' has an unknown kind %d", lab, (int)d->kind); return -1;
        }
    }
    return 0;
}

int sr_fidelity_clamp(const nasc_space *s, nasc_point *p) {
    double f = p->fidelity, lo = s->min_fidelity, hi = s->max_fidelity;
    if (f == 0) return 0;
    double g = isnan(f) ? hi : f > hi ? hi : f < lo ? lo : f; /* NaN: as 0, the maximum */
    p->fidelity = g;
    return g != f;
}

void sr_err_terminate(char *buf, size_t cap) {
    if (buf && cap) buf[cap - 1] = 0;
}

/* ---------------- the default timeout ---------------- */

void sr_durations_add(sr_durations *d, double seconds) {
    if (!isfinite(seconds) || seconds < 0) return;
    if (d->n == d->cap) {
        int c = d->cap ? d->cap * 2 : 64;
        double *v = realloc(d->v, (size_t)c * sizeof *v);
        if (!v) return;
        d->v = v;
        d->cap = c;
    }
    int i = d->n++; /* kept sorted: the median is then one look-up */
    while (i > 0 && d->v[i - 1] > seconds) {
        d->v[i] = d->v[i - 1];
        i--;
    }
    d->v[i] = seconds;
}

void sr_durations_free(sr_durations *d) {
    free(d->v);
    memset(d, 0, sizeof *d);
}

double sr_trial_timeout(double configured, const sr_durations *d) {
    if (configured > 0) return configured;
    if (!d || d->n < SR_TIMEOUT_SAMPLES) return SR_TIMEOUT_FIRST;
    double med = d->n % 2 ? d->v[d->n / 2] : (d->v[d->n / 2 - 1] + d->v[d->n / 2]) / 2;
    double t = SR_TIMEOUT_FACTOR * med;
    return t < SR_TIMEOUT_FLOOR ? SR_TIMEOUT_FLOOR : t;
}
