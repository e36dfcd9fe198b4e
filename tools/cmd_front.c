/* cmd_front.c: the front-end commands, check, sample and show, and the
 * loading steps every command shares (parse, --set, check, points). */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "cg_footprint.h"
#include "drv_quant.h"
#include "cli.h"
#include "json.h"

const char *cli_commas(long long v, char *buf, int cap) {
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%lld", v < 0 ? -v : v);
    int n = (int)strlen(tmp), k = 0;
    if (v < 0 && k < cap - 1) buf[k++] = '-';
    for (int i = 0; i < n && k < cap - 2; i++) {
        if (i && (n - i) % 3 == 0) buf[k++] = ',';
        buf[k++] = tmp[i];
    }
    buf[k] = 0;
    return buf;
}

int cli_stdout_done(void) {
    errno = 0;
    if (fflush(stdout) == 0 && !ferror(stdout)) return EXIT_OK;
    cli_err("<stdout>: %s", strerror(errno ? errno : EIO));
    return EXIT_INPUT;
}

int cli_diags(nasc_ctx *c, const opts *o) {
    diag_render(c, stderr, o->color);
    if (c->n_internal) return EXIT_INTERNAL;
    return c->n_errors ? EXIT_INPUT : EXIT_OK;
}

/* ----- --set ----- */

/* The keys each section may set come from the checker's one list
 * (section_keys, compiler/front/section.c).  Any other key may be
 * overridden only where a section defines it (a helper key such as `lr`
 * that a later key uses). */
static const char *const section_kinds[] = {"train", "search", NULL};

typedef struct set_req {
    const char *text; /* the whole argument, for messages */
    bool is_search;
    const char *space; /* SECTION.SPACE.KEY: only that space's section; else NULL */
    const char *key, *value;
} set_req;

static bool is_ident(const char *s) {
    if (!isalpha((unsigned char)*s) && *s != '_') return false;
    while (isalnum((unsigned char)*s) || *s == '_') s++;
    return !*s;
}

/* SECTION.KEY=VALUE or SECTION.SPACE.KEY=VALUE. */
static bool set_split(nasc_ctx *c, const char *set, set_req *r) {
    memset(r, 0, sizeof *r);
    r->text = set;
    const char *eq = strchr(set, '=');
    const char *d1 = strchr(set, '.');
    if (!eq || !d1 || d1 > eq || d1 == set || eq == d1 + 1) {
        cli_err("--set expects section.key=value (train.epochs=3, search.trials=20), got '%s'", set);
        return false;
    }
    char *sec = arena_strndup(&c->A, set, (size_t)(d1 - set));
    if (strcmp(sec, "train") && strcmp(sec, "search")) {
        const char *near = cli_suggest(sec, section_kinds, -1);
        if (near)
            cli_err("--set %s: there is no section '%s'; did you mean '%s'?", set, sec, near);
        else
            cli_err("--set %s: there is no section '%s' (the sections are train and search)", set, sec);
        return false;
    }
    r->is_search = sec[1] == 'e';
    const char *d2 = memchr(d1 + 1, '.', (size_t)(eq - d1 - 1));
    if (d2) r->space = arena_strndup(&c->A, d1 + 1, (size_t)(d2 - d1 - 1));
    const char *k = d2 ? d2 + 1 : d1 + 1;
    r->key = arena_strndup(&c->A, k, (size_t)(eq - k));
    r->value = eq + 1;
    if (!is_ident(r->key) || (r->space && !is_ident(r->space))) {
        cli_err("--set expects section.key=value or section.SPACE.key=value, got '%s'", set);
        return false;
    }
    return true;
}

static bool is_space_item(const ast_item *it) { return it->kind == I_SPACE; }

/* The section of kind is_search in force for the space named `space`. */
static ast_item *section_for(ast_file *f, bool is_search, const char *space, int n_spaces) {
    for (int i = 0; i < f->items.n; i++) {
        ast_item *it = f->items.v[i];
        if (it->kind != (is_search ? I_SEARCH : I_TRAIN)) continue;
        if (it->name ? !strcmp(it->name, space) : n_spaces == 1) return it;
    }
    return NULL;
}

static bool section_defines(const ast_item *sec, const char *key) {
    for (int i = 0; sec && i < sec->entries.n; i++)
        if (!strcmp(((ast_entry *)sec->entries.v[i])->key, key)) return true;
    return false;
}

/* An unknown space or key: a message with the closest name. */
static void set_unknown(nasc_ctx *c, const set_req *r, ast_file *f, const char *what) {
    const char *kind = r->is_search ? "search" : "train";
    if (!strcmp(what, "space")) {
        const char **names = arena_alloc(&c->A, (size_t)(f->items.n + 1) * sizeof *names);
        int n = 0;
        for (int i = 0; i < f->items.n; i++)
            if (is_space_item(f->items.v[i])) names[n++] = ((ast_item *)f->items.v[i])->name;
        const char *near = cli_suggest(r->space, names, n);
        if (near)
            cli_err("--set %s: there is no space '%s'; did you mean '%s'?", r->text, r->space, near);
        else
            cli_err("--set %s: there is no space '%s' in this file", r->text, r->space);
        return;
    }
    const char *const *known = section_keys(r->is_search);
    int nk = 0;
    while (known[nk]) nk++;
    const char **names = arena_alloc(&c->A, (size_t)(nk + 64) * sizeof *names);
    int n = 0;
    for (int i = 0; i < nk; i++) names[n++] = known[i];
    for (int i = 0; i < f->items.n && n < nk + 64; i++) {
        ast_item *it = f->items.v[i];
        if (it->kind != (r->is_search ? I_SEARCH : I_TRAIN)) continue;
        for (int k = 0; k < it->entries.n && n < nk + 64; k++)
            names[n++] = ((ast_entry *)it->entries.v[k])->key;
    }
    const char *near = cli_suggest(r->key, names, n);
    if (near)
        cli_err("--set %s: the %s section has no key '%s'; did you mean '%s'?", r->text, kind, r->key, near);
    else
        cli_err("--set %s: the %s section has no key '%s'", r->text, kind, r->key);
}

/* Replaces the key in a section (or appends it; `require` always adds). */
static void section_put(nasc_ctx *c, ast_item *sec, ast_entry *en) {
    for (int i = 0; i < sec->entries.n; i++) {
        ast_entry *old = sec->entries.v[i];
        if (!strcmp(old->key, en->key) && strcmp(en->key, "require")) {
            sec->entries.v[i] = en;
            return;
        }
    }
    ast_list_push(c, &sec->entries, en);
}

/* The spaces an override reaches: all of the file's, or the one it names,
 * and of those only the ones whose section has the key when the key is
 * not one the tool reads.  *named_found: the named space exists. */
static int set_targets(nasc_ctx *c, ast_file *f, const set_req *r, int n_spaces, ast_item ***out,
                       bool *named_found) {
    const char *const *keys = section_keys(r->is_search);
    bool known = false;
    for (int i = 0; keys[i]; i++) known |= !strcmp(keys[i], r->key);
    ast_item **t = arena_alloc(&c->A, (size_t)(f->items.n + 1) * sizeof *t);
    int n = 0;
    *named_found = false;
    for (int i = 0; i < f->items.n; i++) {
        ast_item *sp = f->items.v[i];
        if (!is_space_item(sp) || (r->space && strcmp(sp->name, r->space))) continue;
        *named_found = true;
        if (known || section_defines(section_for(f, r->is_search, sp->name, n_spaces), r->key)) t[n++] = sp;
    }
    *out = t;
    return n;
}

/* The override's value as a one-entry section in a file of its own, so it
 * gets the language's syntax and diagnostics: "train{epochs=3\n}" or
 * "train CNNS{epochs=3\n}", in which every column of the value is its
 * column in the argument, so diagnostics point into what was typed. */
static ast_entry *set_entry(nasc_ctx *c, const set_req *r) {
    char *text = arena_printf(&c->A, "%s%s%s{%s=%s\n}\n", r->is_search ? "search" : "train",
                              r->space ? " " : "", r->space ? r->space : "", r->key, r->value);
    int fid = ctx_add_file(c, arena_printf(&c->A, "--set %s", r->text), text, strlen(text));
    int e0 = c->n_errors;
    ast_file *sf = parse_file(c, fid);
    if (c->n_errors != e0) return NULL;
    if (sf->items.n != 1 || ((ast_item *)sf->items.v[0])->entries.n != 1) {
        cli_err("--set %s: the value must be one expression", r->text);
        return NULL;
    }
    return ((ast_item *)sf->items.v[0])->entries.v[0];
}

/* --set: the value goes into the section in force for every space it
 * targets (set_targets); a space without such a section gets one.  An
 * override that would reach no section is an error, as is an unknown
 * section, space or key.  Returns false after a message or diagnostic. */
static bool apply_set(nasc_ctx *c, ast_file *f, const char *set) {
    set_req r;
    if (!set_split(c, set, &r)) return false;
    int n_spaces = 0;
    for (int i = 0; i < f->items.n; i++) n_spaces += is_space_item(f->items.v[i]);
    if (!n_spaces) {
        cli_err("--set %s: %s has no space, so no section to override", set, c->files.v[f->file].path);
        return false;
    }
    ast_item **targets;
    bool named_found;
    int n = set_targets(c, f, &r, n_spaces, &targets, &named_found);
    if (!n) {
        set_unknown(c, &r, f, r.space && !named_found ? "space" : "key");
        return false;
    }
    ast_entry *en = set_entry(c, &r);
    if (!en) return false;
    for (int i = 0; i < n; i++) {
        ast_item *sp = targets[i], *sec = section_for(f, r.is_search, sp->name, n_spaces);
        if (!sec) {
            ast_list none = {0};
            sec = ast_section(c, sp->at, r.is_search, n_spaces == 1 ? NULL : sp->name, sp->name_at, none);
            sec->file = f->file;
            ast_list_push(c, &f->items, sec);
        }
        section_put(c, sec, en);
    }
    return true;
}

program *cli_load(nasc_ctx *c, const opts *o, int *status) {
    for (int i = 0; i < o->n_includes; i++) vec_push(&c->A, c->include_dirs, o->includes[i]);
    /* Then the main file's own directory, so a project's modules sit beside it. */
    const char *slash = strrchr(o->file, '/');
    vec_push(&c->A, c->include_dirs, slash ? arena_strndup(&c->A, o->file, (size_t)(slash - o->file)) : ".");
    ast_file *f = parse_program(c, o->file);
    if (!f) {
        cli_err("cannot read %s: %s", o->file, strerror(errno));
        *status = EXIT_INPUT;
        return NULL;
    }
    for (int i = 0; i < o->n_sets && !c->n_errors; i++)
        if (!apply_set(c, f, o->sets[i]) && !c->n_errors) {
            *status = EXIT_USAGE;
            return NULL;
        }
    if (c->n_errors || c->n_internal) {
        *status = cli_diags(c, o);
        return NULL;
    }
    program *p = prog_check(c, f);
    if (c->n_errors || c->n_internal) {
        *status = cli_diags(c, o);
        return NULL;
    }
    if (c->n_warnings) diag_render(c, stderr, o->color);
    *status = EXIT_OK;
    return p;
}

/* POINT is a file holding a point, or the JSON itself. */
static char *read_point_text(nasc_ctx *c, const char *arg) {
    const char *s = arg;
    while (*s == ' ' || *s == '\t' || *s == '\n') s++;
    if (*s == '{') return arena_strdup(&c->A, arg);
    int id = ctx_load_file(c, arg);
    if (id < 0) {
        cli_err("cannot read point file %s: %s", arg, strerror(errno));
        return NULL;
    }
    return (char *)c->files.v[id].text;
}

bool cli_point(nasc_ctx *c, program *p, const opts *o, space_ir **sp, assignment **a, ir_graph *g) {
    if (!o->arch) {
        cli_err("%s needs --arch POINT (a point's JSON or a file holding it)", o->cmd);
        return false;
    }
    char *text = read_point_text(c, o->arch);
    if (!text) return false;
    const char *what = o->arch[0] == '{' ? "the point" : o->arch;
    return point_load(c, p, sp, text, what, a, g);
}

/* ----- check ----- */

static void json_str(strbuf *b, const char *s) { json_write_string(b, s, strlen(s)); }

static void check_json(nasc_ctx *c, program *p) {
    strbuf b = {0};
    strbuf_puts(&b, "{\"spaces\": [");
    for (int i = 0; i < p->spaces.n; i++) {
        space_ir *s = p->spaces.v[i];
        if (i) strbuf_puts(&b, ", ");
        strbuf_puts(&b, "{\"name\": ");
        json_str(&b, s->name);
        strbuf_puts(&b, ", \"cardinality\": ");
        json_str(&b, s->cardinality);
        strbuf_puts(&b, s->card_exact ? ", \"exact\": true" : ", \"exact\": false");
        strbuf_puts(&b, ", \"continuous\": ");
        json_write_int(&b, s->n_continuous);
        strbuf_puts(&b, ", \"decisions\": [");
        for (int k = 0; k < s->decs.n; k++) {
            decision *d = s->decs.v[k];
            strbuf_puts(&b, k ? ", {\"label\": " : "{\"label\": ");
            json_str(&b, d->label);
            strbuf_puts(&b, ", \"kind\": ");
            json_str(&b, decision_kind_name(d));
            strbuf_puts(&b, ", \"domain\": ");
            json_str(&b, decision_domain(c, d));
            strbuf_puts(&b, ", \"condition\": ");
            json_str(&b, decision_condition(c, s, d));
            strbuf_puts(&b, "}");
        }
        strbuf_puts(&b, "], \"params\": {\"min\": ");
        json_write_int(&b, s->params_min);
        strbuf_puts(&b, ", \"max\": ");
        json_write_int(&b, s->params_max);
        strbuf_puts(&b, "}, \"flops\": {\"min\": ");
        json_write_int(&b, s->flops_min);
        strbuf_puts(&b, ", \"max\": ");
        json_write_int(&b, s->flops_max);
        strbuf_puts(&b, s->range_exact ? "}, \"ranges_exact\": true}" : "}, \"ranges_exact\": false}");
    }
    strbuf_puts(&b, "]}\n");
    fputs(b.data, stdout);
    strbuf_free(&b);
}

static void check_text(nasc_ctx *c, program *p, const opts *o) {
    char b1[32], b2[32];
    if (!p->spaces.n) printf("%s: no spaces (a library of blocks): OK\n", o->file);
    for (int i = 0; i < p->spaces.n; i++) {
        space_ir *s = p->spaces.v[i];
        printf("space %s: OK\n", s->name);
        printf("  points:     %s%s%s\n", s->card_exact ? "" : "at most ", s->cardinality,
               s->n_continuous ? arena_printf(&c->A, " (times %d continuous decision%s)", s->n_continuous,
                                              s->n_continuous == 1 ? "" : "s")
                               : "");
        printf("  decisions:  %d\n", s->decs.n);
        const char *approx = s->range_exact ? "" : " (bounds)";
        printf("  params:     %s .. %s%s\n", cli_commas(s->params_min, b1, 32),
               cli_commas(s->params_max, b2, 32), approx);
        printf("  FLOPs:      %s .. %s%s\n", cli_commas(s->flops_min, b1, 32),
               cli_commas(s->flops_max, b2, 32), approx);
        if (!o->decisions) continue;
        int w = 5;
        for (int k = 0; k < s->decs.n; k++)
            if ((int)strlen(s->decs.v[k]->label) > w) w = (int)strlen(s->decs.v[k]->label);
        printf("  %-*s  %-11s  %s\n", w, "label", "kind", "domain [condition]");
        for (int k = 0; k < s->decs.n; k++) {
            decision *d = s->decs.v[k];
            const char *cond = decision_condition(c, s, d);
            printf("  %-*s  %-11s  %s%s%s%s\n", w, d->label, decision_kind_name(d), decision_domain(c, d),
                   *cond ? "   [when " : "", cond, *cond ? "]" : "");
        }
    }
}

int cmd_check(nasc_ctx *c, const opts *o) {
    int st;
    program *p = cli_load(c, o, &st);
    if (!p) return st;
    if ((st = cli_check_strategies(c, p, o)) != EXIT_OK) return st;
    if (o->json)
        check_json(c, p);
    else
        check_text(c, p, o);
    return cli_stdout_done();
}

/* ----- sample ----- */

int cmd_sample(nasc_ctx *c, const opts *o) {
    int st;
    program *p = cli_load(c, o, &st);
    if (!p) return st;
    if (p->spaces.n == 0) {
        cli_err("%s has no space to sample", o->file);
        return EXIT_INPUT;
    }
    uint64_t rng = o->have_seed ? (uint64_t)o->seed : 0x6e617363ull;
    for (int i = 0; i < p->spaces.n; i++) {
        space_ir *s = p->spaces.v[i];
        assignment *a = asg_new(c, s);
        for (long long k = 0; k < o->count; k++) {
            if (!space_sample(c, p, s, &rng, a, 10000)) {
                if (c->n_errors) return cli_diags(c, o);
                cli_err("space %s: no point satisfying every require was found in 10000 tries", s->name);
                return EXIT_INPUT;
            }
            puts(point_json(c, s, a));
        }
    }
    return cli_stdout_done();
}

/* ----- show ----- */

static void show_dot(const ir_graph *g) {
    puts("digraph nasc {\n  rankdir=TB;\n  node [shape=box, fontname=\"monospace\"];");
    char sh[64];
    for (int i = 0; i < g->n_nodes; i++) {
        const ir_node *n = &g->nodes[i];
        printf("  n%d [label=\"%s\\n%s %s\"];\n", i, n->name, ir_op_name(n->op),
               ir_shape_str(&n->shape, sh, sizeof sh));
        for (int k = 0; k < n->n_in; k++) printf("  n%d -> n%d;\n", n->in[k], i);
    }
    puts("}");
}

static const char *node_type(const ir_node *n) {
    return n->op == IR_ACT ? ir_act_name(n->act) : ir_op_name(n->op);
}

static void show_table(const ir_graph *g, const char *point, const cg_footprint *fp) {
    char sh[64], b1[32], b2[32];
    int w = 20;
    for (int i = 0; i < g->n_nodes; i++)
        if ((int)strlen(g->nodes[i].name) + 2 > w) w = (int)strlen(g->nodes[i].name) + 2;
    printf("space %s, point %s\n\n", g->space, point);
    printf("%-*s %-15s %-16s %12s %14s  %s\n", w, "layer", "type", "output shape", "params", "FLOPs",
           "inputs");
    for (int i = 0; i < w + 80; i++) putchar('-');
    putchar('\n');
    for (int i = 0; i < g->n_nodes; i++) {
        const ir_node *n = &g->nodes[i];
        int64_t p = 0;
        for (int k = 0; k < n->n_params; k++)
            if (n->params[k].trainable) p += ir_shape_numel(&n->params[k].shape);
        printf("%-*s %-15s %-16s %12s %14s  ", w, n->name, node_type(n),
               ir_shape_str(&n->shape, sh, sizeof sh), cli_commas(p, b1, 32), cli_commas(n->flops, b2, 32));
        for (int k = 0; k < n->n_in; k++) printf("%s%s", k ? ", " : "", g->nodes[n->in[k]].name);
        putchar('\n');
    }
    for (int i = 0; i < w + 80; i++) putchar('-');
    printf("\ntotal params: %s   FLOPs per sample: %s   peak activation memory (batch 1): %s bytes\n",
           cli_commas(g->params, b1, 32), cli_commas(g->flops, b2, 32), cli_commas(g->memory, sh, 32));
    if (fp)
        printf("ram (fp32 build, batch 1): %s bytes   flash: %s bytes\n", cli_commas(fp->ram, b1, 32),
               cli_commas(fp->flash, b2, 32));
}

static void show_json(const ir_graph *g, const char *point, const cg_footprint *fp) {
    strbuf b = {0};
    strbuf_puts(&b, "{\"space\": ");
    json_str(&b, g->space);
    strbuf_puts(&b, ", \"point\": ");
    strbuf_puts(&b, point);
    strbuf_puts(&b, ", \"layers\": [");
    for (int i = 0; i < g->n_nodes; i++) {
        const ir_node *n = &g->nodes[i];
        int64_t p = 0;
        for (int k = 0; k < n->n_params; k++)
            if (n->params[k].trainable) p += ir_shape_numel(&n->params[k].shape);
        strbuf_puts(&b, i ? ", {\"name\": " : "{\"name\": ");
        json_str(&b, n->name);
        strbuf_puts(&b, ", \"type\": ");
        json_str(&b, node_type(n));
        strbuf_puts(&b, ", \"shape\": [");
        for (int k = 0; k < n->shape.rank; k++) {
            if (k) strbuf_puts(&b, ", ");
            json_write_int(&b, n->shape.d[k]);
        }
        strbuf_puts(&b, "], \"params\": ");
        json_write_int(&b, p);
        strbuf_puts(&b, ", \"flops\": ");
        json_write_int(&b, n->flops);
        strbuf_puts(&b, ", \"inputs\": [");
        for (int k = 0; k < n->n_in; k++) {
            if (k) strbuf_puts(&b, ", ");
            json_str(&b, g->nodes[n->in[k]].name);
        }
        strbuf_puts(&b, "]}");
    }
    strbuf_puts(&b, "], \"params\": ");
    json_write_int(&b, g->params);
    strbuf_puts(&b, ", \"flops\": ");
    json_write_int(&b, g->flops);
    strbuf_puts(&b, ", \"memory\": ");
    json_write_int(&b, g->memory);
    if (fp) {
        static const char *keys[] = {", \"ram\": ", ", \"flash\": ", ", \"arena_bytes\": ",
                                     ", \"const_bytes\": ", ", \"code_bytes\": "};
        const int64_t v[] = {fp->ram, fp->flash, fp->arena_bytes, fp->const_bytes, fp->code_bytes};
        for (int i = 0; i < 5; i++) {
            strbuf_puts(&b, keys[i]);
            json_write_int(&b, v[i]);
        }
    }
    strbuf_puts(&b, "}\n");
    fputs(b.data, stdout);
    strbuf_free(&b);
}

int cmd_show(nasc_ctx *c, const opts *o) {
    int st;
    program *p = cli_load(c, o, &st);
    if (!p) return st;
    space_ir *s;
    assignment *a;
    ir_graph g = {0};
    if (!cli_point(c, p, o, &s, &a, &g)) return c->n_errors || c->n_internal ? cli_diags(c, o) : EXIT_INPUT;
    char vbuf[256];
    const char *why = ir_graph_verify(&g, 0, vbuf, sizeof vbuf);
    if (why) {
        diag_internal(c, "the graph of this point is malformed: %s", why);
        return cli_diags(c, o);
    }
    char *pj = point_json(c, s, a);
    /* ram and flash need the back end; a graph it cannot build still shows */
    cg_footprint fp;
    char err[512];
    const cfg_val *qv = section_get(&a->search, "quant"); /* search.quant = int8: the int8 build's */
    int quant = qv && qv->k == CV_IDENT ? drv_quant_kind(qv->s) : PS_QUANT_NONE;
    bool has_fp = !o->dot && cg_footprint_ex(&g, quant < 0 ? PS_QUANT_NONE : (ps_quant_kind)quant, &fp, err,
                                             sizeof err) == 0;
    if (o->dot)
        show_dot(&g);
    else if (o->json)
        show_json(&g, pj, has_fp ? &fp : NULL);
    else
        show_table(&g, pj, has_fp ? &fp : NULL);
    return cli_stdout_done();
}
