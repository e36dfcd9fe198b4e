/* sr_util.h: internal helpers of the search layer: JSON parsing over
 * common/json, time, and the store and worker interfaces
 * shared between the driver's files.  Not installed; not part of the API. */
#ifndef NASC_SR_UTIL_H
#define NASC_SR_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "buf.h"
#include "err.h"
#include "hash.h"
#include "json.h"
#include "search.h"

/* ---- JSON (common/json.h) ---- */
/* Parses a NUL-terminated text; NULL with "invalid JSON: byte N: reason". */
json_value *sr_json_parse(const char *text, char *err, size_t cap);

/* ---- misc ---- */
void sr_copy(char *dst, size_t cap, const char *src); /* truncating strcpy */
double sr_now(void);                                  /* monotonic seconds */
double sr_wall(void);                                 /* unix time, seconds */
const char *sr_signal_name(int sig);

/* ---- store (sr_store.c) ---- */
typedef struct sr_store sr_store;

typedef struct sr_trial_row {
    int64_t id;
    char *point; /* JSON */
    double fidelity;
    uint64_t tag;
    char status[16];  /* running done failed infeasible */
    char *metrics;    /* JSON or NULL */
    char *objectives; /* JSON array of raw objective values or NULL */
    double started, finished, duration;
    int worker;
    char *error;
    char *weights;
    /* The order of events, for a faithful resume: every ask and every tell
     * of the run takes the next number (0: unknown, a version-1 store;
     * told -1: the strategy was never told). */
    int64_t asked, told;
    char answered[12]; /* "evaluator", "cache", "check" (before evaluation); "" unknown */
} sr_trial_row;

typedef struct sr_run_row {
    char *source_hash, *space, *strategy, *objectives, *options, *version, *source;
    double started;
    uint64_t seed;
} sr_run_row;

/* create: 1 creates the store if needed, 0 opens an existing one for
 * writing, SR_STORE_READONLY opens it as a reader that never writes
 * (immutable when its folder is read-only). */
#define SR_STORE_READONLY (-1)
int sr_store_open(const char *path, int create, sr_store **out, char *err, size_t cap);
void sr_store_close(sr_store *s);
int sr_store_has_run(sr_store *s);
int sr_store_put_run(sr_store *s, const sr_run_row *r, char *err, size_t cap);
int sr_store_get_run(sr_store *s, sr_run_row *r, char *err, size_t cap);
void sr_run_row_free(sr_run_row *r);
/* Replaces a trial's metrics (the best trial's test accuracy, measured at the end). */
int sr_store_set_metrics(sr_store *s, int64_t id, const char *metrics, char *err, size_t cap);
/* Replaces run.options (a resumed search with a new budget, or --force). */
int sr_store_set_options(sr_store *s, const char *options, char *err, size_t cap);
/* A new trial, committed before it is acted on. */
int sr_store_insert(sr_store *s, const sr_trial_row *t, char *err, size_t cap);
/* The end of a trial (status, metrics, objectives, finished, duration, error,
 * weights, worker, told, answered). */
int sr_store_finish(sr_store *s, const sr_trial_row *t, char *err, size_t cap);
/* Trials resumed: status back to running, restarted now. */
int sr_store_restart(sr_store *s, int64_t id, double started, char *err, size_t cap);
/* All trials in id order; free with sr_trials_free. */
int sr_store_trials(sr_store *s, sr_trial_row **out, int *n, char *err, size_t cap);
void sr_trials_free(sr_trial_row *v, int n);
int sr_store_kv_set(sr_store *s, const char *key, const char *value, char *err, size_t cap);
char *sr_store_kv_get(sr_store *s, const char *key); /* malloc'ed or NULL */

/* The stand-alone retraining of a search's top points (search.retrain,
 * docs/one-shot.md): one row per retrained trial, linked by its id. */
typedef struct sr_retrain_row {
    int64_t trial;
    int rank;        /* 1: the search's best */
    char status[16]; /* running done failed */
    char *metrics;   /* the stand-alone training's metrics (JSON) or NULL */
    char *error, *weights;
    double started, finished;
} sr_retrain_row;
/* Writes (or replaces) the row of r->trial. */
int sr_store_retrain_put(sr_store *s, const sr_retrain_row *r, char *err, size_t cap);
/* Every row by rank; none from a version-2 store.  Free with sr_retrain_free. */
int sr_store_retrain_rows(sr_store *s, sr_retrain_row **out, int *n, char *err, size_t cap);
int sr_store_retrain_delete(sr_store *s, int64_t trial, char *err, size_t cap);
void sr_retrain_free(sr_retrain_row *v, int n);
/* The ids of the best k distinct points of a store, best first, by its
 * first objective (cached trials, which repeat another, left out); *n
 * gets how many (at most k). */
int sr_report_ranked(const char *db_path, int k, int64_t *ids, int *n, char *err, size_t cap);

/* ---- the result cache (sr_cache.c) ---- */
typedef struct sr_cache_entry {
    uint64_t hash;
    double fidelity;
    char *point;
    int64_t trial;   /* the trial that was evaluated */
    char status[16]; /* done or infeasible */
    char *metrics, *objectives;
} sr_cache_entry;
typedef struct sr_cache sr_cache;
sr_cache *sr_cache_new(void);
void sr_cache_free(sr_cache *c);
/* Adds an evaluated answer (the first one for a key stays).  0 or -1 (oom). */
int sr_cache_put(sr_cache *c, const char *point, double fidelity, int64_t trial, const char *status,
                 const char *metrics, const char *objectives);
const sr_cache_entry *sr_cache_get(const sr_cache *c, const char *point, double fidelity);

/* ---- evaluators and workers (sr_worker.c) ---- */
typedef struct sr_eval_env {
    sr_eval_kind kind;
    const char *command;
    const sr_space_iface *space;
    double memory_limit;
    double timeout; /* per trial (enforced by whoever owns the worker) */
} sr_eval_env;

/* Splits a command line as a shell would for simple quoting ('..', "..",
 * backslash); no expansions.  *argv malloc'ed (NULL-terminated), free with
 * sr_argv_free.  Returns the count, or -1 with a message. */
int sr_split_command(const char *cmd, char ***argv, char *err, size_t cap);
void sr_argv_free(char **argv);

/* Evaluator state living in one worker (the pipe process, if any). */
typedef struct sr_evaluator sr_evaluator;
sr_evaluator *sr_evaluator_new(const sr_eval_env *env);
void sr_evaluator_free(sr_evaluator *ev);
/* Evaluates one trial in the calling process.  Returns 0 with metrics, or
 * -1 with the reason in err; *fatal set when the evaluator cannot go on. */
int sr_evaluator_run(sr_evaluator *ev, int64_t trial, const char *point_json, double fidelity,
                     const char *weights, sr_metrics *out, char *err, size_t cap, int *fatal);

/* Framed messages: u32 length (host order) + JSON body. */
int sr_msg_write(int fd, const char *body, size_t n);
/* Reads one frame (blocking); *body malloc'ed.  0 ok, 1 EOF, -1 error. */
int sr_msg_read(int fd, char **body, size_t *n);

/* Request and reply bodies. */
char *sr_req_encode(int64_t trial, double fidelity, const char *weights, const char *point);
int sr_req_decode(const char *body, int64_t *trial, double *fidelity, char **weights, char **point);
char *sr_rep_encode(int64_t trial, int ok, const sr_metrics *m, const char *error, int fatal);
int sr_rep_decode(const char *body, int64_t *trial, int *ok, sr_metrics *m, char **error, int *fatal);
/* Serves requests from in_fd until EOF, replies on out_fd (a forked worker). */
void sr_worker_serve(const sr_eval_env *env, int in_fd, int out_fd);

/* ---- MPI transport (sr_mpi.c) ---- */
int sr_mpi_size(void);
/* Rank > 0: serve requests from rank 0 until told to stop. */
int sr_mpi_serve(const sr_eval_env *env, char *err, size_t cap);
int sr_mpi_send(int rank, const char *body, size_t n);
/* Non-blocking: 1 and a malloc'ed body with the source rank when a message waits, 0 when none. */
int sr_mpi_poll(int *rank, char **body, size_t *n);
void sr_mpi_stop_all(void);

#endif
