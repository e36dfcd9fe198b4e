/* sr_util.c: small helpers of the search layer (JSON parsing of NUL-terminated
 * messages over common/json, time, signal names).  Buffers, JSON, hashing
 * and error text come from common/. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ctype.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "sr_util.h"

/* ---------------- JSON ---------------- */

json_value *sr_json_parse(const char *text, char *err, size_t cap) {
    if (!text) {
        err_set(err, cap, "invalid JSON: no text");
        return NULL;
    }
    char why[160];
    json_value *v = json_parse(text, strlen(text), why, sizeof why);
    if (!v) err_set(err, cap, "invalid JSON: %s", why);
    return v;
}

/* ---------------- misc ---------------- */

void sr_copy(char *dst, size_t cap, const char *src) {
    if (!cap) return;
    size_t n = src ? strlen(src) : 0;
    if (n >= cap) n = cap - 1;
    if (n) memcpy(dst, src, n);
    dst[n] = 0;
}

double sr_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double sr_wall(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

const char *sr_signal_name(int sig) {
    switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGABRT: return "SIGABRT";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGILL: return "SIGILL";
    case SIGKILL: return "SIGKILL";
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    case SIGPIPE: return "SIGPIPE";
    case SIGXCPU: return "SIGXCPU";
    default: return "a signal";
    }
}
