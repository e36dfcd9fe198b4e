/* cli_strategy.c: a strategy's name and options, checked against the
 * installed plugins before anything runs.
 *
 * Each plugin documents its options (nasc_option_doc, shown by
 * `nasc plugins`); an option it does not document is a typo, so
 * `strategy = evolutoin(populaton = 20)` is an error at `nasc check` time,
 * with a did-you-mean, rather than when the search starts.  A strategy
 * written in the file is reported at its place in the file (exit 1); one
 * given with --strategy or --strategy-opt is a usage error (exit 2). */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "search.h"

/* The installed plugins, listed once per check. */
typedef struct plugin_set {
    sr_plugin_info *v;
    int n;
    bool listed;
    char err[512];
} plugin_set;

static bool is_path(const char *name) {
    size_t n = strlen(name);
    return strchr(name, '/') || (n > 3 && !strcmp(name + n - 3, ".so"));
}

/* What a strategy name resolves to: its option keys, or why it cannot be
 * used (and perhaps the installed name that was meant). */
typedef struct strategy_docs {
    char *keys[64]; /* copies, freed by docs_free */
    int n;
    char why[1024];
    char near[64];
} strategy_docs;

static void docs_add(strategy_docs *d, const char *key) {
    if (d->n < 64) d->keys[d->n++] = strdup(key ? key : "");
}

static void docs_free(strategy_docs *d) {
    for (int i = 0; i < d->n; i++) free(d->keys[i]);
    d->n = 0;
}

static void docs_from_path(const char *path, strategy_docs *d) {
    sr_plugin p;
    if (sr_plugin_open(path, &p, d->why, sizeof d->why)) return;
    for (int i = 0; i < p.s.n_option_docs; i++) docs_add(d, p.s.option_docs[i].key);
    sr_plugin_close(&p);
}

static void unknown_strategy(plugin_set *ps, const char *name, strategy_docs *d) {
    const char *names[256] = {0};
    int nn = 0;
    for (int i = 0; i < ps->n && nn < 256; i++) names[nn++] = ps->v[i].name;
    const char *near = cli_suggest(name, names, nn);
    int len = snprintf(d->why, sizeof d->why, "unknown strategy '%s'", name);
    size_t cap = sizeof d->why;
    if (near) {
        snprintf(d->near, sizeof d->near, "%s", near);
    } else if (nn) {
        len += snprintf(d->why + len, cap - (size_t)len, " (installed:");
        for (int i = 0; i < nn && len < (int)cap - 80; i++)
            len += snprintf(d->why + len, cap - (size_t)len, "%s %s", i ? "," : "", names[i]);
        snprintf(d->why + len, cap - (size_t)len, "; see nasc plugins)");
    } else {
        snprintf(d->why + len, cap - (size_t)len, " (no strategy plugins were found%s%s)",
                 ps->err[0] ? ": " : "", ps->err);
    }
}

static void docs_lookup(plugin_set *ps, const char *name, strategy_docs *d) {
    memset(d, 0, sizeof *d);
    if (is_path(name)) {
        docs_from_path(name, d);
        return;
    }
    if (!ps->listed && sr_plugins_list(&ps->v, &ps->n, ps->err, sizeof ps->err)) ps->n = 0;
    ps->listed = true;
    for (int i = 0; i < ps->n; i++) {
        sr_plugin_info *in = &ps->v[i];
        if (strcmp(in->name, name)) continue;
        if (in->error[0]) {
            snprintf(d->why, sizeof d->why, "strategy '%s' cannot be loaded: %s", name, in->error);
            return;
        }
        for (int k = 0; k < in->n_options; k++) docs_add(d, in->options[k].key);
        return;
    }
    unknown_strategy(ps, name, d);
}

static bool has_key(const strategy_docs *d, const char *key) {
    for (int i = 0; i < d->n; i++)
        if (!strcmp(d->keys[i], key)) return true;
    return false;
}

/* "unknown option 'populaton' of strategy evolution" into buf; returns
 * the option perhaps meant, or NULL (then buf lists the options). */
static const char *unknown_key(const char *strategy, const char *key, const strategy_docs *d, char *buf,
                               size_t cap) {
    const char *near = cli_suggest(key, (const char *const *)d->keys, d->n);
    int len = snprintf(buf, cap, "unknown option '%s' of strategy %s", key, strategy);
    if (near) return near;
    if (!d->n) {
        snprintf(buf + len, cap - (size_t)len, " (it takes no options)");
        return NULL;
    }
    len += snprintf(buf + len, cap - (size_t)len, " (its options:");
    for (int i = 0; i < d->n && len < (int)cap - 80; i++)
        len += snprintf(buf + len, cap - (size_t)len, "%s %s", i ? "," : "", d->keys[i]);
    snprintf(buf + len, cap - (size_t)len, ")");
    return NULL;
}

/* A file diagnostic, with the did-you-mean as a note at the same place. */
static void file_error(nasc_ctx *c, loc at, const char *msg, const char *near) {
    diag *e = diag_error(c, at, "%s", msg);
    if (near && *near) diag_note(c, e, at, "did you mean '%s'?", near);
}

/* A command-line message, with the did-you-mean on the same line. */
static void line_error(const char *what, const char *msg, const char *near) {
    if (near && *near)
        cli_err("%s: %s; did you mean '%s'?", what, msg, near);
    else
        cli_err("%s: %s", what, msg);
}

/* The `strategy = ...` entry of a search section, as written (the last). */
static const ast_entry *strategy_entry(const ast_item *sec) {
    const ast_entry *found = NULL;
    for (int i = 0; sec && i < sec->entries.n; i++) {
        const ast_entry *en = sec->entries.v[i];
        if (!strcmp(en->key, "strategy")) found = en;
    }
    return found;
}

/* The strategy a search section names ("random" when it names none);
 * *at is the name's expression (NULL for the default). */
static const char *strategy_name(const ast_item *sec, const ast_expr **at) {
    const ast_entry *en = strategy_entry(sec);
    *at = NULL;
    if (!en) return "random";
    const ast_expr *v = en->value, *callee = v->kind == E_CALL ? v->callee : v;
    *at = callee;
    return callee->kind == E_NAME ? callee->name : callee->kind == E_STRING ? callee->sval : NULL;
}

/* One space's `strategy = name(key = value, ...)`: diagnostics at the name
 * and at each unknown key.  The section checker has already rejected
 * values of other forms. */
static void check_section(nasc_ctx *c, plugin_set *ps, const ast_item *sec) {
    const ast_expr *callee;
    const char *name = strategy_name(sec, &callee);
    if (!name || !callee) return;
    const ast_expr *v = strategy_entry(sec)->value;
    strategy_docs d;
    docs_lookup(ps, name, &d);
    if (d.why[0]) {
        file_error(c, callee->at, d.why, d.near);
        docs_free(&d);
        return;
    }
    if (v->kind == E_CALL && v->args.n)
        diag_error(c, ((ast_expr *)v->args.v[0])->at, "strategy options are named: %s(key = value)", name);
    for (int i = 0; v->kind == E_CALL && i < v->named.n; i++) {
        const ast_named_arg *na = v->named.v[i];
        if (has_key(&d, na->name)) continue;
        char msg[1024];
        const char *near = unknown_key(name, na->name, &d, msg, sizeof msg);
        file_error(c, na->at, msg, near);
    }
    docs_free(&d);
}

/* --strategy (what names it, for messages: "--strategy S") and the
 * --strategy-opt keys against strategy `name`.  Returns the exit status. */
static int check_command_line(plugin_set *ps, const char *name, const char *what, const opts *o) {
    strategy_docs d;
    docs_lookup(ps, name, &d);
    int st = EXIT_OK;
    if (d.why[0]) {
        line_error(what, d.why, d.near);
        st = EXIT_USAGE;
    }
    for (int i = 0; !d.why[0] && i < o->n_strategy_opts; i++) {
        const char *kv = o->strategy_opts[i], *eq = strchr(kv, '=');
        char key[128], msg[1024], opt[300];
        snprintf(key, sizeof key, "%.*s", eq ? (int)(eq - kv) : (int)strlen(kv), kv);
        snprintf(opt, sizeof opt, "--strategy-opt %s", kv);
        if (eq && has_key(&d, key)) continue;
        if (!eq) {
            line_error(opt, "expected KEY=VALUE", NULL);
        } else {
            const char *near = unknown_key(name, key, &d, msg, sizeof msg);
            line_error(opt, msg, near);
        }
        st = EXIT_USAGE;
    }
    docs_free(&d);
    return st;
}

static int check_all(nasc_ctx *c, plugin_set *ps, program *p, const opts *o) {
    if (o->strategy) {
        char what[300];
        snprintf(what, sizeof what, "--strategy %s", o->strategy);
        return check_command_line(ps, o->strategy, what, o);
    }
    int e0 = c->n_errors;
    for (int i = 0; i < p->spaces.n; i++) check_section(c, ps, p->spaces.v[i]->search_item);
    if (c->n_errors != e0) return cli_diags(c, o);
    for (int i = 0; o->n_strategy_opts && i < p->spaces.n; i++) {
        const ast_expr *at;
        const char *name = strategy_name(p->spaces.v[i]->search_item, &at);
        int st = name ? check_command_line(ps, name, name, o) : EXIT_OK;
        if (st) return st;
    }
    return EXIT_OK;
}

int cli_check_strategies(nasc_ctx *c, program *p, const opts *o) {
    plugin_set ps = {0};
    int st = check_all(c, &ps, p, o);
    if (ps.listed) sr_plugins_free(ps.v, ps.n);
    return st;
}
