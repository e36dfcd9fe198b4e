/* sr_mpi.c: trials over MPI ranks.  Under mpirun (seen from
 * OMPI_COMM_WORLD_SIZE, so a plain run never touches MPI), rank 0 runs the
 * search and every other rank serves trials: it forks one local worker and
 * relays requests to it, so a crash, a hang past the timeout or a memory
 * limit is handled on the rank exactly as with -j, and the rank survives.
 * Ranks wait with Iprobe + short sleeps rather than blocking receives,
 * because Open MPI's blocking receive spins a core, and ranks are often
 * oversubscribed. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "sr_util.h"

#ifdef NASC_HAVE_MPI
#include <mpi.h>

enum { SR_TAG_REQ = 1, SR_TAG_REP = 2, SR_TAG_STOP = 3 };

static int g_inited, g_rank, g_size, g_role = -1;

int sr_mpi_role(void) {
    if (g_role >= 0) return g_role; /* stays known after MPI_Finalize */
    const char *sz = getenv("OMPI_COMM_WORLD_SIZE");
    if (!sz || atoi(sz) < 2) return g_role = 0;
    int already = 0, fin = 0;
    MPI_Finalized(&fin);
    if (fin) return g_role = 0;
    MPI_Initialized(&already);
    if (!already && MPI_Init(NULL, NULL) != MPI_SUCCESS) return g_role = 0;
    g_inited = 1;
    atexit(sr_mpi_finalize); /* at exit, so sr_run can be called more than once */
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    return g_role = g_rank == 0 ? 1 : 2;
}

int sr_mpi_size(void) { return g_size; }

void sr_mpi_finalize(void) {
    if (!g_inited) return;
    int fin = 0;
    MPI_Finalized(&fin);
    if (!fin) MPI_Finalize();
    g_inited = 0;
}

int sr_mpi_send(int rank, const char *body, size_t n) {
    return MPI_Send(body, (int)n, MPI_CHAR, rank, SR_TAG_REQ, MPI_COMM_WORLD) == MPI_SUCCESS ? 0 : -1;
}

static char *recv_from(int src, int tag, size_t *n) {
    MPI_Status st;
    int count = 0;
    MPI_Probe(src, tag, MPI_COMM_WORLD, &st);
    MPI_Get_count(&st, MPI_CHAR, &count);
    char *b = malloc((size_t)count + 1);
    if (!b) return NULL;
    MPI_Recv(b, count, MPI_CHAR, src, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    b[count] = 0;
    if (n) *n = (size_t)count;
    return b;
}

int sr_mpi_poll(int *rank, char **body, size_t *n) {
    int flag = 0;
    MPI_Status st;
    MPI_Iprobe(MPI_ANY_SOURCE, SR_TAG_REP, MPI_COMM_WORLD, &flag, &st);
    if (!flag) return 0;
    *rank = st.MPI_SOURCE;
    *body = recv_from(st.MPI_SOURCE, SR_TAG_REP, n);
    return *body ? 1 : 0;
}

void sr_mpi_stop_all(void) {
    char z = 0;
    for (int r = 1; r < g_size; r++) MPI_Send(&z, 0, MPI_CHAR, r, SR_TAG_STOP, MPI_COMM_WORLD);
}

/* ---- a rank's local worker ---- */

typedef struct local {
    pid_t pid;
    int to, from;
} local;

static int local_spawn(const sr_eval_env *env, local *w) {
    int a[2], b[2];
    if (pipe2(a, O_CLOEXEC)) return -1;
    if (pipe2(b, O_CLOEXEC)) {
        close(a[0]);
        close(a[1]);
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(a[0]);
        close(a[1]);
        close(b[0]);
        close(b[1]);
        return -1;
    }
    if (pid == 0) {
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        close(a[1]);
        close(b[0]);
        sr_worker_serve(env, a[0], b[1]);
        _exit(0); /* never run MPI's exit handlers in the child */
    }
    setpgid(pid, pid);
    close(a[0]);
    close(b[1]);
    w->pid = pid;
    w->to = a[1];
    w->from = b[0];
    return 0;
}

static int local_kill(local *w, int force) {
    int st = 0;
    if (w->pid <= 0) return 0;
    if (force) kill(-w->pid, SIGKILL);
    close(w->to);
    close(w->from);
    waitpid(w->pid, &st, 0);
    if (force) kill(-w->pid, SIGKILL);
    w->pid = 0;
    return st;
}

/* Runs one request on the local worker; returns the reply body. */
static char *local_eval(const sr_eval_env *env, local *w, const char *req) {
    int64_t trial = 0;
    double fid;
    char *weights = NULL, *point = NULL;
    if (!sr_req_decode(req, &trial, &fid, &weights, &point)) {
        free(weights);
        free(point);
    }
    char why[200] = "";
    if (w->pid <= 0 && local_spawn(env, w))
        snprintf(why, sizeof why, "cannot start a worker on this rank");
    else if (sr_msg_write(w->to, req, strlen(req)))
        snprintf(why, sizeof why, "cannot reach the worker on this rank");
    if (!why[0]) {
        double deadline = env->timeout > 0 ? sr_now() + env->timeout : 0;
        for (;;) {
            int ms = deadline > 0 ? (int)((deadline - sr_now()) * 1000) + 1 : -1;
            if (deadline > 0 && ms <= 0) {
                local_kill(w, 1);
                snprintf(why, sizeof why, "timed out after %gs (killed)", env->timeout);
                break;
            }
            struct pollfd pf = {w->from, POLLIN, 0};
            int r = poll(&pf, 1, ms);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) continue;
            char *body;
            if (sr_msg_read(w->from, &body, NULL) == 0) return body;
            int st = local_kill(w, 0);
            if (WIFSIGNALED(st))
                snprintf(why, sizeof why, "the worker crashed (%s)", sr_signal_name(WTERMSIG(st)));
            else
                snprintf(why, sizeof why, "the worker exited unexpectedly");
            break;
        }
    }
    sr_metrics m;
    sr_metrics_init(&m);
    char *rep = sr_rep_encode(trial, 0, &m, why, 0);
    sr_metrics_free(&m);
    return rep;
}

int sr_mpi_serve(const sr_eval_env *env, char *err, size_t cap) {
    signal(SIGPIPE, SIG_IGN);
    local w = {0, -1, -1};
    useconds_t nap = 100;
    for (;;) {
        int flag = 0;
        MPI_Status st;
        MPI_Iprobe(0, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
        if (!flag) { /* back off to 5 ms while there is no work */
            usleep(nap);
            if (nap < 5000) nap *= 2;
            continue;
        }
        nap = 100;
        if (st.MPI_TAG == SR_TAG_STOP) {
            char z;
            MPI_Recv(&z, 0, MPI_CHAR, 0, SR_TAG_STOP, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            break;
        }
        char *req = recv_from(0, st.MPI_TAG, NULL);
        if (!req) {
            err_set(err, cap, "out of memory on an MPI rank");
            local_kill(&w, 1);
            return -1;
        }
        char *rep = local_eval(env, &w, req);
        free(req);
        if (rep) MPI_Send(rep, (int)strlen(rep), MPI_CHAR, 0, SR_TAG_REP, MPI_COMM_WORLD);
        free(rep);
    }
    local_kill(&w, 0);
    return 0;
}

#else /* built without MPI: every run is local */

int sr_mpi_role(void) { return 0; }
int sr_mpi_size(void) { return 1; }
void sr_mpi_finalize(void) {}
int sr_mpi_send(int rank, const char *body, size_t n) {
    (void)rank;
    (void)body;
    (void)n;
    return -1;
}
int sr_mpi_poll(int *rank, char **body, size_t *n) {
    (void)rank;
    (void)body;
    (void)n;
    return 0;
}
void sr_mpi_stop_all(void) {}
int sr_mpi_serve(const sr_eval_env *env, char *err, size_t cap) {
    (void)env;
    err_set(err, cap, "nasc was built without MPI");
    return -1;
}
#endif
