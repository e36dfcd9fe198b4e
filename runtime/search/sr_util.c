/* sr_util.c: small helpers of the search layer (JSON parsing of NUL-terminated
 * messages over common/json, time, signal names, rank correlations).  Buffers, JSON, hashing
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

/* ---- rank correlations (search.h) ---- */

/* Ranks (1-based, ties averaged) of v[0..n). */
static void ranks(const double *v, int n, double *r) {
    for (int i = 0; i < n; i++) {
        double less = 0, same = 0;
        for (int j = 0; j < n; j++) {
            less += v[j] < v[i];
            same += v[j] == v[i];
        }
        r[i] = less + (same + 1) / 2.0;
    }
}

/* Spearman's rho: Pearson's correlation of the ranks; NAN when a side is constant. */
double sr_spearman(const double *x, const double *y, int n) {
    double *rx = malloc(sizeof(double) * (size_t)n), *ry = malloc(sizeof(double) * (size_t)n), out = NAN;
    if (rx && ry && n >= 2) {
        ranks(x, n, rx);
        ranks(y, n, ry);
        double mx = (n + 1) / 2.0, sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < n; i++) {
            sxy += (rx[i] - mx) * (ry[i] - mx);
            sxx += (rx[i] - mx) * (rx[i] - mx);
            syy += (ry[i] - mx) * (ry[i] - mx);
        }
        if (sxx > 0 && syy > 0) out = sxy / sqrt(sxx * syy);
    }
    free(rx);
    free(ry);
    return out;
}

/* Kendall's tau-b (ties in either variable corrected for). */
double sr_kendall(const double *x, const double *y, int n) {
    double conc = 0, disc = 0, tx = 0, ty = 0;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            double a = x[i] - x[j], b = y[i] - y[j];
            if (a == 0 && b == 0) continue;
            if (a == 0)
                tx++;
            else if (b == 0)
                ty++;
            else if ((a > 0) == (b > 0))
                conc++;
            else
                disc++;
        }
    double d = sqrt((conc + disc + tx) * (conc + disc + ty));
    return d > 0 ? (conc - disc) / d : NAN;
}
