/* nasc.c: the command-line program: the tables of commands and options,
 * option parsing, help, and the exit statuses of docs/tool.md (0 success,
 * 1 bad input, 2 usage, 3 internal error).
 *
 * Every option is described once, in `options`; every command lists the
 * options it accepts, so that an option of one command given to another
 * (`nasc check --trials 5`) is a usage error, and so that usage lines and
 * `nasc help CMD` are generated from the same lists the parser obeys. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "blas.h"
#include "cli.h"
#include "suggest.h"

int cmd_train(nasc_ctx *c, const opts *o);
int cmd_search(nasc_ctx *c, const opts *o);
int cmd_build(nasc_ctx *c, const opts *o);
int cmd_run(nasc_ctx *c, const opts *o);
int cmd_report(nasc_ctx *c, const opts *o);
int cmd_plugins(nasc_ctx *c, const opts *o);
int cmd_supernet(nasc_ctx *c, const opts *o);
int cmd_proxies(nasc_ctx *c, const opts *o);
int cmd_latency_table(nasc_ctx *c, const opts *o);

typedef enum {
    OPT_ARCH,
    OPT_WEIGHTS,
    OPT_OUT,
    OPT_EMIT,
    OPT_CPU,
    OPT_DUMP_AFTER,
    OPT_INPUT,
    OPT_DB,
    OPT_STRATEGY,
    OPT_STRATEGY_OPT,
    OPT_TRIALS,
    OPT_TIME,
    OPT_JOBS,
    OPT_EVALUATOR,
    OPT_SVG,
    OPT_HTML,
    OPT_TOP,
    OPT_SPACE,
    OPT_METRICS,
    OPT_SET,
    OPT_INCLUDE,
    OPT_SEED,
    OPT_COUNT,
    OPT_POINTS,
    OPT_JSON,
    OPT_DECISIONS,
    OPT_DOT,
    OPT_BENCH,
    OPT_LOGITS,
    OPT_RESUME,
    OPT_FORCE,
    OPT_QUIET,
    OPT_METHOD,
    OPT_LUT,
    OPT_NO_COLOR,
    OPT_HELP,
    OPT_EXPLAIN,
    OPT_SAMPLING,
    OPT_EPOCHS,
    OPT_INIT,
    OPT_RETRAIN,

    OPT_QUANT,
    OPT_CALIB,
} opt_id;

typedef struct option_def {
    opt_id id;
    const char *name;  /* as documented: "--arch", "-o" */
    const char *alias; /* another spelling, or NULL */
    const char *arg;   /* the value's placeholder; NULL for a flag */
    const char *help;
} option_def;

static const option_def options[] = {
    {OPT_ARCH, "--arch", NULL, "POINT", "the point: a file holding its JSON, or the JSON itself"},
    {OPT_WEIGHTS, "--weights", NULL, "W",
     "trained weights (.safetensors); for train, resume training from them"},
    {OPT_OUT, "-o", "--output", "OUT", "the output file (train: the weights; build: the artefact)"},
    {OPT_EMIT, "--emit", NULL, "KIND", "what build writes: obj, lib, exe (default), llvm or asm"},
    {OPT_CPU, "--cpu", NULL, "NAME", "target CPU: native (default), x86-64, x86-64-v3, znver4, ..."},
    {OPT_DUMP_AFTER, "--dump-after", NULL, "PASS",
     "print the graph after one compiler pass (fold-bn, lower, fuse-act, ...)"},
    {OPT_INPUT, "--input", NULL, "F", "inputs: an IDX file (gzipped or not) or raw float32 samples"},
    {OPT_DB, "--db", NULL, "RUN.db", "the search's store (default runs/<space>.db)"},
    {OPT_STRATEGY, "--strategy", NULL, "S", "the strategy plugin, in place of search.strategy"},
    {OPT_STRATEGY_OPT, "--strategy-opt", NULL, "K=V", "an option of the strategy (repeatable)"},
    {OPT_TRIALS, "--trials", NULL, "N", "the number of evaluations (search.trials)"},
    {OPT_TIME, "--time", NULL, "T", "a time budget such as 90s, 10m or 2h (search.time)"},
    {OPT_JOBS, "-j", NULL, "N", "evaluate N trials at once on this machine"},
    {OPT_EVALUATOR, "--evaluator", NULL, "E",
     "builtin, exec(\"CMD\"), pipe(\"CMD\"), exec:CMD or pipe:CMD, in place of search.evaluator"},
    {OPT_SVG, "--svg", NULL, "F", "also write the plots as an SVG file"},
    {OPT_HTML, "--html", NULL, "F", "also write an HTML page: the plots inline and a sortable table"},
    {OPT_TOP, "--top", NULL, "N", "show only the N best trials in the leaderboard"},
    {OPT_SPACE, "--space", NULL, "NAME", "the space to search when the file holds several"},
    {OPT_METRICS, "--metrics", NULL, "A,B",
     "also measure these metrics (test_accuracy, latency, throughput, or a proxy of docs/proxies.md)"},
    {OPT_SET, "--set", NULL, "SECTION.KEY=V", "override a section value: train.epochs=3 (repeatable)"},
    {OPT_INCLUDE, "-I", NULL, "DIR", "add DIR to the import search path (repeatable)"},
    {OPT_SEED, "--seed", NULL, "N",
     "the random seed (sample: the points; train: train.seed; search: search.seed)"},
    {OPT_COUNT, "--count", NULL, "K", "how many points to print (default 1)"},
    {OPT_POINTS, "--points", NULL, "N",
     "proxies: sample and train N distinct points (with --db: use at most N)"},
    {OPT_JSON, "--json", NULL, NULL, "print one JSON object on stdout (JSON lines for sample)"},
    {OPT_DECISIONS, "--decisions", NULL, NULL, "list every decision: label, kind, domain, condition"},
    {OPT_DOT, "--dot", NULL, NULL, "print the network as a Graphviz graph"},
    {OPT_BENCH, "--bench", NULL, NULL, "measure latency (median, batch 1) and throughput"},
    {OPT_LOGITS, "--logits", NULL, NULL, "print the output values, not the predicted class"},
    {OPT_RESUME, "--resume", NULL, NULL,
     "continue the search in its store (supernet: the training from its checkpoint)"},
    {OPT_FORCE, "--force", NULL, NULL, "resume even though the source changed since the store was made"},
    {OPT_QUIET, "--quiet", "-q", NULL, "no progress lines on stderr"},
    {OPT_NO_COLOR, "--no-color", NULL, NULL, "no colours in diagnostics (also: NO_COLOR set)"},
    {OPT_HELP, "--help", "-h", NULL, "print this help and exit"},
    {OPT_EXPLAIN, "--explain", NULL, NULL, "print how each decision is shared and the supernet's size"},
    {OPT_SAMPLING, "--sampling", NULL, "S", "uniform (one subnet a step, SPOS) or sandwich (BigNAS)"},
    {OPT_EPOCHS, "--epochs", NULL, "N", "supernet training epochs (default: train.epochs)"},
    {OPT_METHOD, "--method", NULL, "M",
     "differentiable search: darts, gdas, fbnet or proxyless (docs/differentiable.md)"},
    {OPT_LUT, "--latency-table", NULL, "LUT", "a latency table (nasc latency-table) for the latency term"},
    {OPT_INIT, "--init", NULL, "SUPER", "start from a subnet's weights inherited from a supernet file"},
    {OPT_RETRAIN, "--retrain", NULL, "K",
     "at the end, train the top K points stand-alone and store both scores (search.retrain)"},

    {OPT_QUANT, "--quant", NULL, "Q",
     "int8: post-training quantised dense and conv layers (docs/deployment.md)"},
    {OPT_CALIB, "--calib", NULL, "N", "--quant: calibrate on the first N training images (default 256)"},
};
#define N_OPTIONS (int)(sizeof options / sizeof options[0])

typedef struct command {
    const char *name;
    int (*run)(nasc_ctx *c, const opts *o);
    const char *arg;         /* the positional argument, or NULL */
    bool loads_source;       /* reads a .nas file: also takes -I and --set */
    const char *const *opts; /* its own options; a leading '!' marks a required one */
    const char *summary;
} command;

#define OPTS(...) ((const char *const[]){__VA_ARGS__, NULL})
static const command commands[] = {
    {"check", cmd_check, "FILE", true, OPTS("--decisions", "--json"),
     "parse and type-check FILE; print each space's points, decisions and params/FLOPs ranges"},
    {"sample", cmd_sample, "FILE", true, OPTS("--seed", "--count", "--json"),
     "print random valid points, one JSON object a line"},
    {"show", cmd_show, "FILE", true, OPTS("!--arch", "--dot", "--json"),
     "the network of one point: layers, shapes, params and FLOPs"},
    {"train", cmd_train, "FILE", true,
     OPTS("!--arch", "-o", "--weights", "--init", "--seed", "--json", "--quiet"),
     "train one point as its train section says; print its metrics"},
    {"search", cmd_search, "FILE", true,
     OPTS("--strategy", "--strategy-opt", "--trials", "--time", "--seed", "--db", "-j", "--resume", "--force",
          "--evaluator", "--space", "--metrics", "--retrain", "--json", "--quiet"),
     "search the space: every trial in the store, the best point and its weights at the end"},
    {"build", cmd_build, "FILE", true,
     OPTS("!--arch", "!--weights", "!-o", "--emit", "--cpu", "--dump-after", "--quant", "--calib", "--quiet"),
     "compile one trained point ahead of time: object, shared library, executable, LLVM IR, assembly"},
    {"run", cmd_run, "FILE", true,
     OPTS("!--arch", "!--weights", "--input", "--logits", "--bench", "--quant", "--calib", "--json"),
     "JIT-compile one trained point and run it on inputs, or measure it"},
    {"report", cmd_report, "RUN.db", false, OPTS("--svg", "--html", "--top", "--json"),
     "a search's leaderboard and Pareto front; plots with --svg"},
    {"proxies", cmd_proxies, "FILE", true, OPTS("--points", "--db", "--seed", "--json", "--quiet"),
     "rank correlation of every training-free proxy with trained accuracy, over sampled points"},
    {"plugins", cmd_plugins, NULL, false, OPTS("--json"),
     "the strategy plugins found, with their versions and options"},
    {"supernet", cmd_supernet, "FILE", true,
    OPTS("--explain", "-o", "--sampling", "--method", "--latency-table", "--epochs", "--seed", "--resume",
         "--json", "--quiet"),
     "build the space's weight-sharing supernet: explain it, or train it into -o SUPER.safetensors"},
    {"latency-table", cmd_latency_table, "FILE", true, OPTS("!-o", "--points", "--quiet"),
     "measure every candidate layer of the space's differentiable supernet on this machine "
     "(docs/differentiable.md)"},
    {"help", NULL, "[COMMAND]", false, OPTS(NULL), "this help, or one command's"},
};
#define N_COMMANDS (int)(sizeof commands / sizeof commands[0])

/* Options every command takes, on top of its own. */
static const char *const common_opts[] = {"--no-color", "--help", NULL};
static const char *const source_opts[] = {"-I", "--set", NULL};

void cli_err(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("nasc: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* The closest of known[0..n) to word, or NULL: the front end's one
 * did-you-mean rule (suggest.h), so the CLI and the checker agree. */
const char *cli_suggest(const char *word, const char *const *known, int n) {
    return fr_suggest(word, known, n);
}

static const option_def *find_option(const char *name) {
    for (int i = 0; i < N_OPTIONS; i++)
        if (!strcmp(options[i].name, name) || (options[i].alias && !strcmp(options[i].alias, name)))
            return &options[i];
    return NULL;
}

static bool in_list(const char *const *list, const char *name) {
    for (int i = 0; list[i]; i++)
        if (!strcmp(list[i] + (list[i][0] == '!'), name)) return true;
    return false;
}

static bool cmd_takes(const command *cmd, const option_def *d) {
    return in_list(cmd->opts, d->name) || in_list(common_opts, d->name) ||
           (cmd->loads_source && in_list(source_opts, d->name));
}

static const command *find_command(const char *name) {
    for (int i = 0; i < N_COMMANDS; i++)
        if (!strcmp(commands[i].name, name)) return &commands[i];
    return NULL;
}

/* ----- usage and help ----- */

/* Appends " [--name ARG]" (or without brackets when required), wrapping
 * the line under the command's name. */
static void usage_word(FILE *f, int *col, int indent, const char *spec) {
    bool required = spec[0] == '!';
    const option_def *d = find_option(spec + required);
    char w[96];
    snprintf(w, sizeof w, "%s%s%s%s%s", required ? "" : "[", d->name, d->arg ? " " : "", d->arg ? d->arg : "",
             required ? "" : "]");
    int len = (int)strlen(w);
    if (*col + 1 + len > 100) {
        fprintf(f, "\n%*s", indent, "");
        *col = indent;
    }
    fprintf(f, " %s", w);
    *col += 1 + len;
}

static void usage_line(FILE *f, const command *cmd) {
    int col = fprintf(f, "nasc %s%s%s", cmd->name, cmd->arg ? " " : "", cmd->arg ? cmd->arg : "");
    int indent = 6 + (int)strlen(cmd->name);
    for (int i = 0; cmd->opts[i]; i++) usage_word(f, &col, indent, cmd->opts[i]);
    if (cmd->loads_source) {
        usage_word(f, &col, indent, "-I");
        usage_word(f, &col, indent, "--set");
    }
    fputc('\n', f);
}

static void usage(FILE *f) {
    fputs("nasc " NASC_VERSION_STR ": a compiler for neural architecture search spaces\n\n"
          "usage: nasc COMMAND [ARGS] [OPTIONS]\n\ncommands:\n",
          f);
    for (int i = 0; i < N_COMMANDS; i++) fprintf(f, "  %-8s  %s\n", commands[i].name, commands[i].summary);
    fputs("\n'nasc help COMMAND' or 'nasc COMMAND --help' shows a command's options.\n"
          "Commands that read a .nas file also take -I DIR (import path) and --set section.key=value.\n"
          "exit status: 0 success, 1 the input is wrong, 2 wrong usage, 3 internal error\n",
          f);
}

static void option_help(FILE *f, const char *spec) {
    const option_def *d = find_option(spec + (spec[0] == '!'));
    char w[64];
    snprintf(w, sizeof w, "%s%s%s%s%s", d->name, d->alias ? ", " : "", d->alias ? d->alias : "",
             d->arg ? " " : "", d->arg ? d->arg : "");
    fprintf(f, "  %-22s %s\n", w, d->help);
}

static void command_help(FILE *f, const command *cmd) {
    fputs("usage: ", f);
    usage_line(f, cmd);
    fprintf(f, "\n%s\n\noptions:\n", cmd->summary);
    for (int i = 0; cmd->opts[i]; i++) option_help(f, cmd->opts[i]);
    if (cmd->loads_source)
        for (int i = 0; source_opts[i]; i++) option_help(f, source_opts[i]);
    for (int i = 0; common_opts[i]; i++) option_help(f, common_opts[i]);
}

static void unknown_command(const char *name) {
    const char *names[N_COMMANDS];
    for (int i = 0; i < N_COMMANDS; i++) names[i] = commands[i].name;
    const char *near = cli_suggest(name, names, N_COMMANDS);
    if (near)
        cli_err("unknown command '%s'; did you mean '%s'?", name, near);
    else
        cli_err("unknown command '%s'", name);
    fputs("run 'nasc help' for the list of commands\n", stderr);
}

/* ----- parsing ----- */

static bool parse_ll(const char *s, long long *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end) return false;
    *out = v;
    return true;
}

static void unknown_option(const command *cmd, const char *name) {
    const option_def *d = find_option(name);
    if (d) {
        char who[256] = "";
        for (int i = 0; i < N_COMMANDS; i++)
            if (cmd_takes(&commands[i], d))
                snprintf(who + strlen(who), sizeof who - strlen(who), "%s%s", *who ? ", " : "",
                         commands[i].name);
        cli_err("'nasc %s' does not take %s (an option of: %s)", cmd->name, name, who);
        return;
    }
    const char *mine[N_OPTIONS * 2];
    int n = 0;
    for (int i = 0; i < N_OPTIONS; i++)
        if (cmd_takes(cmd, &options[i])) {
            mine[n++] = options[i].name;
            if (options[i].alias) mine[n++] = options[i].alias;
        }
    const char *near = cli_suggest(name, mine, n);
    if (near)
        cli_err("unknown option '%s' for 'nasc %s'; did you mean '%s'?", name, cmd->name, near);
    else
        cli_err("unknown option '%s' for 'nasc %s'", name, cmd->name);
}

/* Stores one option's value (v is NULL for a flag); false after a message. */
static bool set_option(opts *o, const option_def *d, const char *v) {
    long long n;
    switch (d->id) {
    case OPT_ARCH: o->arch = v; break;
    case OPT_WEIGHTS: o->weights = v; break;
    case OPT_OUT: o->out = v; break;
    case OPT_EMIT: o->emit = v; break;
    case OPT_CPU: o->cpu = v; break;
    case OPT_DUMP_AFTER: o->dump_after = v; break;
    case OPT_INPUT: o->input = v; break;
    case OPT_DB: o->db = v; break;
    case OPT_STRATEGY: o->strategy = v; break;
    case OPT_EVALUATOR: o->evaluator = v; break;
    case OPT_SVG: o->svg = v; break;
    case OPT_HTML: o->html = v; break;
    case OPT_SPACE: o->space = v; break;
    case OPT_METRICS: o->metrics = v; break;
    case OPT_TOP:
        if (!parse_ll(v, &o->top) || o->top < 1) return cli_err("--top needs a positive integer"), false;
        break;
    case OPT_RETRAIN:
        if (!parse_ll(v, &o->retrain) || o->retrain < 1 || o->retrain > 1000000)
            return cli_err("--retrain needs a positive integer (how many of the best points to retrain), not "
                           "'%s'",
                           v),
                   false;
        break;
    case OPT_TIME: o->time = v; break;
    case OPT_SET:
        if (o->n_sets == 64) return cli_err("at most 64 --set options"), false;
        o->sets[o->n_sets++] = v;
        break;
    case OPT_STRATEGY_OPT:
        if (o->n_strategy_opts == 32) return cli_err("at most 32 --strategy-opt options"), false;
        o->strategy_opts[o->n_strategy_opts++] = v;
        break;
    case OPT_INCLUDE:
        if (o->n_includes == 32) return cli_err("at most 32 -I options"), false;
        o->includes[o->n_includes++] = v;
        break;
    case OPT_SEED:
        if (!parse_ll(v, &o->seed) || o->seed < 0)
            return cli_err("--seed needs a non-negative integer"), false;
        o->have_seed = true;
        break;
    case OPT_POINTS:
        if (!parse_ll(v, &o->points) || o->points < 1)
            return cli_err("--points needs a positive integer"), false;
        break;
    case OPT_COUNT:
        if (!parse_ll(v, &o->count) || o->count < 1)
            return cli_err("--count needs a positive integer"), false;
        break;
    case OPT_TRIALS:
        if (!parse_ll(v, &o->trials) || o->trials < 1)
            return cli_err("--trials needs a positive integer"), false;
        break;
    case OPT_JOBS:
        if (!parse_ll(v, &n) || n < 1 || n > 1024)
            return cli_err("-j needs an integer from 1 to 1024"), false;
        o->jobs = (int)n;
        break;
    case OPT_JSON: o->json = true; break;
    case OPT_DECISIONS: o->decisions = true; break;
    case OPT_DOT: o->dot = true; break;
    case OPT_BENCH: o->bench = true; break;
    case OPT_LOGITS: o->logits = true; break;
    case OPT_RESUME: o->resume = true; break;
    case OPT_FORCE: o->force = true; break;
    case OPT_QUIET: o->quiet = true; break;
    case OPT_EXPLAIN: o->explain = true; break;
    case OPT_SAMPLING: o->sampling = v; break;
    case OPT_METHOD: o->method = v; break;
    case OPT_LUT: o->lut = v; break;
    case OPT_INIT: o->init = v; break;
    case OPT_QUANT:
        if (strcmp(v, "int8") && strcmp(v, "none"))
            return cli_err("--quant must be int8 (or none), got '%s'", v), false;
        o->quant = v;
        break;
    case OPT_CALIB:
        if (!parse_ll(v, &o->calib) || o->calib < 1)
            return cli_err("--calib needs a positive number of calibration images, got '%s'", v), false;
        break;
    case OPT_EPOCHS:
        if (!parse_ll(v, &o->epochs) || o->epochs < 1 || o->epochs > 100000)
            return cli_err("--epochs needs a positive integer"), false;
        break;
    case OPT_NO_COLOR: o->color = false; break;
    case OPT_HELP: break; /* handled before parsing */
    }
    return true;
}

/* One option at argv[*i]: "--name", "--name=value", "--name value",
 * and for short options with a value also "-jN", "-IDIR". */
static bool parse_option(const command *cmd, opts *o, int *i, int argc, char **argv) {
    const char *a = argv[*i], *inline_val = NULL;
    char name[64];
    if (a[1] == '-') {
        const char *eq = strchr(a, '=');
        size_t n = eq ? (size_t)(eq - a) : strlen(a);
        snprintf(name, sizeof name, "%.*s", (int)(n < 63 ? n : 63), a);
        if (eq) inline_val = eq + 1;
    } else {
        snprintf(name, sizeof name, "%.2s", a);
        if (a[2]) inline_val = a + 2;
    }
    const option_def *d = find_option(name);
    if (d && !d->arg && inline_val && a[1] != '-') d = NULL; /* "-qx" is no spelling of -q */
    if (!d || !cmd_takes(cmd, d)) {
        unknown_option(cmd, d ? name : (a[1] == '-' ? name : a));
        return false;
    }
    if (!d->arg) {
        if (inline_val) return cli_err("option %s takes no value", d->name), false;
        return set_option(o, d, NULL);
    }
    if (!inline_val) {
        if (*i + 1 >= argc) return cli_err("option %s needs a value (%s)", d->name, d->arg), false;
        inline_val = argv[++*i];
    }
    return set_option(o, d, inline_val);
}

static bool parse_args(const command *cmd, int argc, char **argv, opts *o) {
    bool only_positional = false;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!only_positional && !strcmp(a, "--")) {
            only_positional = true;
            continue;
        }
        if (!only_positional && a[0] == '-' && a[1]) {
            if (!parse_option(cmd, o, &i, argc, argv)) return false;
        } else if (!o->file && cmd->arg) {
            o->file = a;
        } else {
            cli_err("unexpected argument '%s'", a);
            return false;
        }
    }
    return true;
}

static bool wants_help(int argc, char **argv) {
    for (int i = 2; i < argc && strcmp(argv[i], "--"); i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return true;
    return false;
}

/* nasc help [COMMAND] */
static int help(int argc, char **argv) {
    if (argc < 3) {
        usage(stdout);
        return EXIT_OK;
    }
    bool self = !strcmp(argv[2], "--help") || !strcmp(argv[2], "-h");
    const command *cmd = find_command(self ? "help" : argv[2]);
    if (!cmd) {
        unknown_command(argv[2]);
        return EXIT_USAGE;
    }
    if (argc > 3) {
        cli_err("unexpected argument '%s'", argv[3]);
        fputs("usage: nasc help [COMMAND]\n", stderr);
        return EXIT_USAGE;
    }
    command_help(stdout, cmd);
    return EXIT_OK;
}

/* OpenBLAS picks its kernels when it loads, from OPENBLAS_CORETYPE; the
 * Debian build misdetects recent CPUs and falls back to SSE3 (6-8x
 * slower).  Commands that compute re-run themselves once with the right
 * core type (docs/design.md). */
static void reexec_for_blas(const command *cmd, char **argv) {
    bool computes = !strcmp(cmd->name, "train") || !strcmp(cmd->name, "search") ||
                    !strcmp(cmd->name, "run") || !strcmp(cmd->name, "build") ||
                    !strcmp(cmd->name, "supernet") || !strcmp(cmd->name, "latency-table");
    const char *core = computes && !getenv("OPENBLAS_CORETYPE") && !getenv("NASC_NO_REEXEC")
                           ? rt_blas_wanted_coretype()
                           : NULL;
    if (!core) return;
    setenv("OPENBLAS_CORETYPE", core, 1);
    setenv("NASC_NO_REEXEC", "1", 1);
    execv("/proc/self/exe", argv);
    /* If exec fails we simply run with the default kernels. */
}

/* Options before any command: --help, --version. */
static int top_level_option(const char *a) {
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
        usage(stdout);
        return EXIT_OK;
    }
    if (!strcmp(a, "--version")) {
        puts("nasc " NASC_VERSION_STR);
        return EXIT_OK;
    }
    static const char *const top[] = {"--help", "--version", NULL};
    const char *near = cli_suggest(a, top, -1);
    if (near)
        cli_err("unknown option '%s'; did you mean '%s'?", a, near);
    else
        cli_err("unknown option '%s'", a);
    fputs("run 'nasc help' for the list of commands\n", stderr);
    return EXIT_USAGE;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (argv[1][0] == '-') return top_level_option(argv[1]);
    if (!strcmp(argv[1], "help")) return help(argc, argv);
    const command *cmd = find_command(argv[1]);
    if (!cmd) {
        unknown_command(argv[1]);
        return EXIT_USAGE;
    }
    if (wants_help(argc, argv)) {
        command_help(stdout, cmd);
        return EXIT_OK;
    }
    opts o = {0};
    o.cmd = cmd->name;
    o.count = 1;
    o.jobs = 1;
    o.color = isatty(2) && !getenv("NO_COLOR");
    bool parsed = parse_args(cmd, argc, argv, &o);
    if (parsed && cmd->arg && !o.file) cli_err("'nasc %s' needs %s", cmd->name, cmd->arg);
    if (!parsed || (cmd->arg && !o.file)) {
        fputs("usage: ", stderr);
        usage_line(stderr, cmd);
        return EXIT_USAGE;
    }
    reexec_for_blas(cmd, argv);
    nasc_ctx *c = ctx_new();
    int st = cmd->run(c, &o);
    ctx_destroy(c);
    return st;
}
