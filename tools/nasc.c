/* nasc.c: the command-line program: option parsing, the command table, and
 * the one place that prints diagnostics and chooses exit statuses
 * (0 success, 1 bad input, 2 usage, 3 internal error; tool.md). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "blas.h"

typedef struct command {
    const char *name;
    int (*run)(nasc_ctx *c, const opts *o);
    bool needs_file;
    const char *usage;
} command;

int cmd_train(nasc_ctx *c, const opts *o);
int cmd_search(nasc_ctx *c, const opts *o);
int cmd_build(nasc_ctx *c, const opts *o);
int cmd_run(nasc_ctx *c, const opts *o);
int cmd_report(nasc_ctx *c, const opts *o);
int cmd_plugins(nasc_ctx *c, const opts *o);

static const command commands[] = {
    {"check", cmd_check, true, "nasc check FILE [--decisions] [--json]"},
    {"sample", cmd_sample, true, "nasc sample FILE [--seed N] [--count K]"},
    {"show", cmd_show, true, "nasc show FILE --arch POINT [--dot] [--json]"},
    {"train", cmd_train, true,
     "nasc train FILE --arch POINT [-o W.safetensors] [--weights W (resume)] [--json]"},
    {"search", cmd_search, true,
     "nasc search FILE [--strategy S] [--strategy-opt K=V] [--trials N] [--time T] [--seed N] [--db RUN.db] "
     "[-j N]\n"
     "              [--resume [--force]] [--evaluator builtin|exec(\"CMD\")|pipe(\"CMD\")|exec:CMD|pipe:CMD] "
     "[--space NAME]\n"
     "              [--metrics test_accuracy,naswot,synflow,latency,throughput] [--quiet] [--json]"},
    {"build", cmd_build, true,
     "nasc build FILE --arch POINT --weights W -o OUT [--emit obj|lib|exe|llvm|asm] [--cpu "
     "native|x86-64-v3|...]\n"
     "              [--dump-after PASS]"},
    {"run", cmd_run, true,
     "nasc run FILE --arch POINT --weights W [--input F] [--logits] [--bench] [--json]"},
    {"report", cmd_report, true, "nasc report RUN.db [--svg F] [--html F] [--top N] [--json]"},
    {"plugins", cmd_plugins, false, "nasc plugins [--json]"},
};
#define N_COMMANDS (int)(sizeof commands / sizeof commands[0])

void cli_err(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("nasc: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void usage(FILE *f) {
    fputs("nasc " NASC_VERSION_STR ": a compiler for neural architecture search spaces\n\nusage:\n", f);
    for (int i = 0; i < N_COMMANDS; i++) fprintf(f, "  %s\n", commands[i].usage);
    fputs("\ncommon options: -I DIR (import path), --set section.key=value, --json, --seed N, --no-color\n"
          "exit status: 0 success, 1 the input is wrong, 2 wrong usage, 3 internal error\n",
          f);
}

static bool parse_ll(const char *s, long long *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end) return false;
    *out = v;
    return true;
}

/* Options that take a value; the value is the next argument or after '='. */
static int take_value(const char *name, const char *arg, int *i, int argc, char **argv, const char **val) {
    size_t n = strlen(name);
    if (!strncmp(arg, name, n) && arg[n] == '=') {
        *val = arg + n + 1;
        return 1;
    }
    if (strcmp(arg, name)) return 0;
    if (*i + 1 >= argc) {
        cli_err("option %s needs a value", name);
        return -1;
    }
    *val = argv[++*i];
    return 1;
}

static int parse_args(int argc, char **argv, opts *o) {
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        int r;
#define VALOPT(flag, field)                                   \
    if ((r = take_value(flag, a, &i, argc, argv, &v)) != 0) { \
        if (r < 0) return -1;                                 \
        o->field = v;                                         \
        continue;                                             \
    }
        VALOPT("--arch", arch)
        VALOPT("--weights", weights)
        VALOPT("-o", out)
        VALOPT("--output", out)
        VALOPT("--emit", emit)
        VALOPT("--input", input)
        VALOPT("--db", db)
        VALOPT("--strategy", strategy)
        VALOPT("--evaluator", evaluator)
        VALOPT("--svg", svg)
        VALOPT("--html", html)
        VALOPT("--space", space)
        VALOPT("--metrics", metrics)
        VALOPT("--dump-after", dump_after)
        VALOPT("--cpu", cpu)
        VALOPT("--time", time)
#undef VALOPT
        if ((r = take_value("--set", a, &i, argc, argv, &v)) != 0) {
            if (r < 0 || o->n_sets >= 64) return -1;
            o->sets[o->n_sets++] = v;
            continue;
        }
        if ((r = take_value("--strategy-opt", a, &i, argc, argv, &v)) != 0) {
            if (r < 0 || o->n_strategy_opts >= 32) return -1;
            o->strategy_opts[o->n_strategy_opts++] = v;
            continue;
        }
        if ((r = take_value("-I", a, &i, argc, argv, &v)) != 0 ||
            (!strncmp(a, "-I", 2) && a[2] && (v = a + 2))) {
            if (r < 0 || o->n_includes >= 32) return -1;
            o->includes[o->n_includes++] = v;
            continue;
        }
        long long n;
        if ((r = take_value("--seed", a, &i, argc, argv, &v)) != 0) {
            if (r < 0 || !parse_ll(v, &o->seed) || o->seed < 0) {
                cli_err("--seed needs a non-negative integer");
                return -1;
            }
            o->have_seed = true;
            continue;
        }
        if ((r = take_value("--top", a, &i, argc, argv, &v)) != 0) {
            if (r < 0 || !parse_ll(v, &o->top) || o->top < 1) {
                cli_err("--top needs a positive integer");
                return -1;
            }
            continue;
        }
        if ((r = take_value("--count", a, &i, argc, argv, &v)) != 0) {
            if (r < 0 || !parse_ll(v, &o->count) || o->count < 1) {
                cli_err("--count needs a positive integer");
                return -1;
            }
            continue;
        }
        if ((r = take_value("--trials", a, &i, argc, argv, &v)) != 0) {
            if (r < 0 || !parse_ll(v, &o->trials) || o->trials < 1) {
                cli_err("--trials needs a positive integer");
                return -1;
            }
            continue;
        }
        if ((r = take_value("-j", a, &i, argc, argv, &v)) != 0 ||
            (!strncmp(a, "-j", 2) && a[2] && (v = a + 2))) {
            if (r < 0 || !parse_ll(v, &n) || n < 1 || n > 1024) {
                cli_err("-j needs a positive integer");
                return -1;
            }
            o->jobs = (int)n;
            continue;
        }
        if (!strcmp(a, "--json"))
            o->json = true;
        else if (!strcmp(a, "--decisions"))
            o->decisions = true;
        else if (!strcmp(a, "--dot"))
            o->dot = true;
        else if (!strcmp(a, "--bench"))
            o->bench = true;
        else if (!strcmp(a, "--logits"))
            o->logits = true;
        else if (!strcmp(a, "--resume"))
            o->resume = true;
        else if (!strcmp(a, "--force"))
            o->force = true;
        else if (!strcmp(a, "--quiet") || !strcmp(a, "-q"))
            o->quiet = true;
        else if (!strcmp(a, "--no-color"))
            o->color = false;
        else if (a[0] == '-' && a[1]) {
            cli_err("unknown option '%s' for '%s' (see nasc --help)", a, o->cmd);
            return -1;
        } else if (!o->file)
            o->file = a;
        else {
            cli_err("unexpected argument '%s'", a);
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        puts("nasc " NASC_VERSION_STR);
        return EXIT_OK;
    }
    const command *cmd = NULL;
    for (int i = 0; i < N_COMMANDS; i++)
        if (!strcmp(argv[1], commands[i].name)) cmd = &commands[i];
    if (!cmd) {
        cli_err("unknown command '%s' (see nasc --help)", argv[1]);
        return EXIT_USAGE;
    }
    if (!cmd->run) {
        cli_err("'%s' is not available in this build", cmd->name);
        return EXIT_INTERNAL;
    }
    /* OpenBLAS picks its kernels when it loads, from OPENBLAS_CORETYPE; the
     * Debian build misdetects recent CPUs and falls back to SSE3 (6-8x
     * slower).  Commands that compute re-run themselves once with the
     * right core type (docs/design.md). */
    bool computes = !strcmp(cmd->name, "train") || !strcmp(cmd->name, "search") ||
                    !strcmp(cmd->name, "run") || !strcmp(cmd->name, "build");
    const char *core = computes && !getenv("OPENBLAS_CORETYPE") && !getenv("NASC_NO_REEXEC")
                           ? rt_blas_wanted_coretype()
                           : NULL;
    if (core) {
        setenv("OPENBLAS_CORETYPE", core, 1);
        setenv("NASC_NO_REEXEC", "1", 1);
        execv("/proc/self/exe", argv);
        /* If exec fails we simply run with the default kernels. */
    }
    opts o = {0};
    o.cmd = cmd->name;
    o.count = 1;
    o.jobs = 1;
    o.color = isatty(2) && !getenv("NO_COLOR");
    if (parse_args(argc, argv, &o) < 0) {
        fprintf(stderr, "usage: %s\n", cmd->usage);
        return EXIT_USAGE;
    }
    if (cmd->needs_file && !o.file) {
        fprintf(stderr, "usage: %s\n", cmd->usage);
        return EXIT_USAGE;
    }
    nasc_ctx *c = ctx_new();
    int st = cmd->run(c, &o);
    ctx_destroy(c);
    return st;
}
