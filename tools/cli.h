/* cli.h: what the nasc commands share: parsed options, loading a program,
 * reading points, and the exit statuses of tool.md. */
#ifndef NASC_CLI_H
#define NASC_CLI_H

#include <stdbool.h>
#include <stdio.h>
#include "ctx.h"
#include "space.h"

enum { EXIT_OK = 0, EXIT_INPUT = 1, EXIT_USAGE = 2, EXIT_INTERNAL = 3 };

typedef struct opts {
    const char *cmd;
    const char *file;       /* the .nas file (or RUN.db for report) */
    const char *arch;       /* --arch POINT */
    const char *weights;    /* --weights W */
    const char *out;        /* -o OUT */
    const char *emit;       /* --emit */
    const char *input;      /* --input F */
    const char *db;         /* --db */
    const char *strategy;   /* --strategy */
    const char *evaluator;  /* --evaluator */
    const char *svg;        /* --svg */
    const char *html;       /* report --html */
    const char *space;      /* search --space NAME */
    const char *metrics;    /* search --metrics a,b: measured although no objective names them */
    const char *dump_after; /* --dump-after PASS */
    const char *cpu;        /* build --cpu NAME */
    const char *quant;      /* build/run --quant int8|none */
    long long calib;        /* --calib N (0: not given) */
    const char *sets[64];   /* --set section.key=value */
    int n_sets;
    const char *strategy_opts[32];
    int n_strategy_opts;
    long long seed;
    bool have_seed;
    long long count;   /* sample --count */
    long long points;  /* proxies --points */
    long long top;     /* report --top */
    long long retrain; /* search --retrain K (0: search.retrain) */
    long long trials;  /* --trials */
    const char *time;  /* --time */
    int jobs;          /* -j */
    bool json, decisions, dot, bench, logits, resume, force, quiet, color;
    bool explain;         /* supernet --explain */
    const char *sampling; /* supernet --sampling uniform|sandwich */
    const char *method;   /* supernet --method darts|gdas|fbnet|proxyless (cmd_darts.c) */
    const char *lut;      /* supernet --latency-table LUT.json */
    long long epochs;     /* supernet --epochs (0: the train section's) */
    const char *init;     /* train --init SUPER.safetensors */
    const char *includes[32];
    int n_includes;
} opts;

/* Loads, parses and checks FILE (with --set applied).  Returns the program,
 * or NULL after printing diagnostics (then *status is the exit status). */
program *cli_load(nasc_ctx *c, const opts *o, int *status);
/* Prints the collected diagnostics; returns the exit status they imply. */
int cli_diags(nasc_ctx *c, const opts *o);
/* Reads POINT (a file, or the JSON itself) and builds its graph (g may be
 * NULL). Returns false after recording diagnostics. */
bool cli_point(nasc_ctx *c, program *p, const opts *o, space_ir **sp, assignment **a, ir_graph *g);
void cli_err(const char *fmt, ...) NASC_PRINTF(1, 2);
/* "Did you mean": the closest of known[0..n) to word (n < 0: the array is
 * NULL-terminated), or NULL when none is close.  The one such helper of
 * tools/ (nasc.c). */
const char *cli_suggest(const char *word, const char *const *known, int n);
/* "1,234,567" */
const char *cli_commas(long long v, char *buf, int cap);
/* EXIT_OK when everything written to stdout reached it, else EXIT_INPUT
 * with "<stdout>: strerror" (a full disk, /dev/full, a closed pipe). */
int cli_stdout_done(void);

/* Checks every space's `strategy = name(options)` (or --strategy and
 * --strategy-opt) against the installed plugins and their option docs.
 * Returns the exit status (EXIT_OK, or 1 after file diagnostics, or 2
 * after a message about the command line); cli_strategy.c. */
int cli_check_strategies(nasc_ctx *c, program *p, const opts *o);

int cmd_check(nasc_ctx *c, const opts *o);
int cmd_sample(nasc_ctx *c, const opts *o);
int cmd_show(nasc_ctx *c, const opts *o);

#endif
