/* sr_guard.h: the search host's defences against other processes and
 * against what it reads (docs/reliability.md): the store's one-writer lock,
 * paths derived rather than read, killing an evaluator's whole process
 * tree, the plugin watchdog, checks of what a strategy proposes, and the
 * default trial timeout.  Internal to the search layer (prefix sr_). */
#ifndef NASC_SR_GUARD_H
#define NASC_SR_GUARD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "nasc/strategy.h"

/* ---- one writer per store ---- */
typedef struct sr_lock sr_lock;
/* Takes an exclusive flock on DB.lock (created beside the store, never
 * removed: removing it would let two writers lock two different files).
 * Refuses at once, naming the holder's pid and start time, when another
 * process holds it. */
int sr_lock_take(const char *db_path, sr_lock **out, char *err, size_t cap);
void sr_lock_release(sr_lock *l);

/* ---- paths are derived (driver/drv_folder.c), never read from the store ---- */
/* 1 when path is a regular file (not a symlink): the only kind the host
 * copies or deletes. */
int sr_is_regular_file(const char *path);

/* ---- process trees ---- */
/* SIGKILLs every descendant of root (not root itself), including those
 * that left its process group with setsid, and returns how many it
 * killed.  Uses only async-signal-safe system calls (reads /proc), so a
 * signal handler may call it. */
int sr_kill_descendants(pid_t root);
/* Makes the calling process (a worker) the subreaper of its descendants,
 * so that an evaluator's orphans stay in its tree; sr_is_subreaper says
 * whether this process did. */
void sr_become_subreaper(void);
int sr_is_subreaper(void);
/* Reaps zombie children that are not `keep` (orphans a subreaper inherited). */
void sr_reap_orphans(pid_t keep);

/* ---- the plugin watchdog ---- */
/* Brackets a call into the strategy plugin.  A SIGTERM or SIGINT that
 * arrives inside one starts a watchdog: if the call has not returned
 * within SR_PLUGIN_GRACE seconds the host says so on stderr and exits
 * (143 or 130) at once; its workers follow through their parent-death
 * signal and the store keeps the running trials as running. */
#define SR_PLUGIN_GRACE 2
void sr_plugin_enter(const char *what);
void sr_plugin_leave(void);
/* Called from the host's signal handler with the signal and the count of
 * interrupts so far. */
void sr_plugin_on_signal(int sig, int count);

/* ---- what a strategy proposes ---- */
/* Checks the values of p against their decisions (skipping conditional
 * decisions that p->active says are inactive); on the first bad
 * one fills why with the decision's label, the value and its domain and
 * returns -1. */
int sr_point_check(const nasc_space *s, const nasc_point *p, char *why, size_t cap);
/* Brings p->fidelity into [min_fidelity, max_fidelity] (0 stays 0: the
 * maximum); returns 1 when it changed a non-zero value. */
int sr_fidelity_clamp(const nasc_space *s, nasc_point *p);
/* A plugin may fill an error buffer without a NUL: terminate it. */
void sr_err_terminate(char *buf, size_t cap);

/* ---- the default trial timeout ---- */
#define SR_TIMEOUT_FLOOR   600.0   /* seconds: never less than this by default */
#define SR_TIMEOUT_FIRST   86400.0 /* until SR_TIMEOUT_SAMPLES trials finished */
#define SR_TIMEOUT_FACTOR  10.0    /* times the median duration so far */
#define SR_TIMEOUT_SAMPLES 3
typedef struct sr_durations {
    double *v;
    int n, cap;
} sr_durations;
void sr_durations_add(sr_durations *d, double seconds);
void sr_durations_free(sr_durations *d);
/* The timeout for a trial starting now: the configured one when > 0, else
 * max(SR_TIMEOUT_FLOOR, SR_TIMEOUT_FACTOR x median), or SR_TIMEOUT_FIRST
 * before SR_TIMEOUT_SAMPLES trials have finished. */
double sr_trial_timeout(double configured, const sr_durations *d);

#endif
