/* sr_plugin.c: finds, loads and checks strategy plugins (nasc-<name>.so).
 * The plugin fills a table through its one entry symbol; the host reads it
 * field by field up to the plugin's struct_size so that a plugin built
 * against an older (smaller) v1 header still loads, and a newer one cannot
 * write past the host's copy. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "sr_util.h"

#ifndef NASC_PLUGIN_INSTALL_DIR
#define NASC_PLUGIN_INSTALL_DIR "/usr/local/lib/nasc/plugins"
#endif
#ifndef NASC_PLUGIN_REL_DIR
#define NASC_PLUGIN_REL_DIR "../lib/nasc/plugins"
#endif
#ifndef NASC_PLUGIN_BUILD_DIR
#define NASC_PLUGIN_BUILD_DIR ""
#endif

/* The v1 table as first published: everything up to and including destroy. */
#define SR_STRATEGY_V1_SIZE (offsetof(nasc_strategy, destroy) + sizeof(void (*)(void *)))

#define SR_MAX_DIRS 32

typedef struct dirlist {
    int n;
    char d[SR_MAX_DIRS][PATH_MAX];
} dirlist;

static void dirs_add(dirlist *l, const char *d) {
    if (!d || !*d || l->n == SR_MAX_DIRS) return;
    for (int i = 0; i < l->n; i++)
        if (!strcmp(l->d[i], d)) return;
    snprintf(l->d[l->n++], PATH_MAX, "%s", d);
}

/* The search path, in order: next to the executable, install dir, build
 * dir, then $NASC_PLUGIN_PATH (colon-separated). */
static void plugin_dirs(dirlist *l) {
    l->n = 0;
    char exe[PATH_MAX];
    ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 16);
    if (k > 0) {
        exe[k] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            strcpy(slash, "/plugins");
            dirs_add(l, exe);
            /* an installed tree moved elsewhere: <prefix>/bin -> <prefix>/<libdir>/nasc/plugins */
            snprintf(slash, sizeof exe - (size_t)(slash - exe), "/%s", NASC_PLUGIN_REL_DIR);
            dirs_add(l, exe);
        }
    }
    dirs_add(l, NASC_PLUGIN_INSTALL_DIR);
    dirs_add(l, NASC_PLUGIN_BUILD_DIR);
    const char *env = getenv("NASC_PLUGIN_PATH");
    if (env) {
        char *copy = strdup(env), *save = NULL;
        for (char *t = copy ? strtok_r(copy, ":", &save) : NULL; t; t = strtok_r(NULL, ":", &save))
            dirs_add(l, t);
        free(copy);
    }
}

static int is_path(const char *name) {
    size_t n = strlen(name);
    return strchr(name, '/') || (n > 3 && !strcmp(name + n - 3, ".so"));
}

static int find_plugin(const char *name, char *path, size_t pcap, char *err, size_t cap) {
    if (is_path(name)) {
        snprintf(path, pcap, "%s", name);
        if (access(path, R_OK)) {
            err_set(err, cap, "%s: no such plugin file", name);
            return -1;
        }
        return 0;
    }
    dirlist l;
    plugin_dirs(&l);
    for (int i = 0; i < l.n; i++) {
        snprintf(path, pcap, "%s/nasc-%s.so", l.d[i], name);
        if (!access(path, R_OK)) return 0;
    }
    strbuf b = {0};
    strbuf_printf(&b, "no strategy plugin '%s' (looked for nasc-%s.so in", name, name);
    for (int i = 0; i < l.n; i++) strbuf_printf(&b, "%s %s", i ? "," : "", l.d[i]);
    strbuf_puts(&b, "; set NASC_PLUGIN_PATH or give a path)");
    err_set(err, cap, "%s", b.data ? b.data : "no such strategy plugin");
    strbuf_free(&b);
    return -1;
}

/* Calls the entry into an oversized buffer, then validates the table. */
static int load_table(void *dl, const char *path, nasc_strategy *out, char *err, size_t cap) {
    nasc_strategy_entry_fn entry;
    void *sym = dlsym(dl, NASC_STRATEGY_ENTRY);
    if (!sym) {
        err_set(err, cap, "%s: no symbol %s", path, NASC_STRATEGY_ENTRY);
        return -1;
    }
    memcpy(&entry, &sym, sizeof entry);
    union {
        nasc_strategy s;
        unsigned char pad[8192];
    } buf;
    memset(&buf, 0, sizeof buf);
    if (entry(NASC_STRATEGY_ABI_VERSION, &buf.s) != 0) {
        err_set(err, cap, "%s: %s refused host ABI version %u", path, NASC_STRATEGY_ENTRY,
                NASC_STRATEGY_ABI_VERSION);
        return -1;
    }
    if (buf.s.abi_version != NASC_STRATEGY_ABI_VERSION) {
        err_set(err, cap, "%s: ABI version %u not supported (host supports %u)", path, buf.s.abi_version,
                NASC_STRATEGY_ABI_VERSION);
        return -1;
    }
    if (buf.s.struct_size < SR_STRATEGY_V1_SIZE || buf.s.struct_size > sizeof buf) {
        err_set(err, cap, "%s: nasc_strategy struct_size %u is not a valid v1 size (at least %zu)", path,
                buf.s.struct_size, (size_t)SR_STRATEGY_V1_SIZE);
        return -1;
    }
    memset(out, 0, sizeof *out);
    memcpy(out, &buf.s, buf.s.struct_size < sizeof *out ? buf.s.struct_size : sizeof *out);
    const char *missing = !out->name      ? "name"
                          : !out->create  ? "create"
                          : !out->ask     ? "ask"
                          : !out->tell    ? "tell"
                          : !out->destroy ? "destroy"
                                          : NULL;
    if (missing) {
        err_set(err, cap, "%s: the table from %s has no %s", path, NASC_STRATEGY_ENTRY, missing);
        return -1;
    }
    if (out->n_option_docs < 0 || (out->n_option_docs > 0 && !out->option_docs)) {
        err_set(err, cap, "%s: bad option_docs in the table from %s", path, NASC_STRATEGY_ENTRY);
        return -1;
    }
    return 0;
}

static int open_file(const char *path, sr_plugin *out, char *err, size_t cap) {
    memset(out, 0, sizeof *out);
    size_t n = strlen(path);
    if (n >= sizeof out->path) {
        err_set(err, cap, "%.200s...: plugin path too long", path);
        return -1;
    }
    memcpy(out->path, path, n + 1);
    out->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!out->dl) {
        err_set(err, cap, "%s: cannot load: %s", path, dlerror());
        return -1;
    }
    if (load_table(out->dl, path, &out->s, err, cap)) {
        dlclose(out->dl);
        out->dl = NULL;
        return -1;
    }
    return 0;
}

int sr_plugin_open(const char *name, sr_plugin *out, char *err, size_t cap) {
    char path[PATH_MAX];
    memset(out, 0, sizeof *out);
    if (!name || !*name) name = "random";
    if (find_plugin(name, path, sizeof path, err, cap)) return -1;
    return open_file(path, out, err, cap);
}

void sr_plugin_close(sr_plugin *p) {
    if (p && p->dl) dlclose(p->dl);
    if (p) memset(p, 0, sizeof *p);
}

/* ---------------- listing ---------------- */

static char *dupz(const char *s) { return strdup(s ? s : ""); }

static void info_fill(sr_plugin_info *in, const char *path, const char *name) {
    memset(in, 0, sizeof *in);
    sr_copy(in->path, sizeof in->path, path);
    sr_copy(in->name, sizeof in->name, name);
    sr_plugin p;
    if (open_file(path, &p, in->error, sizeof in->error)) return;
    snprintf(in->name, sizeof in->name, "%s", p.s.name);
    snprintf(in->version, sizeof in->version, "%s", p.s.version ? p.s.version : "");
    snprintf(in->description, sizeof in->description, "%s", p.s.description ? p.s.description : "");
    if (p.s.n_option_docs > 0) in->options = calloc((size_t)p.s.n_option_docs, sizeof *in->options);
    for (int i = 0; in->options && i < p.s.n_option_docs; i++) {
        in->options[i].key = dupz(p.s.option_docs[i].key);
        in->options[i].default_value = dupz(p.s.option_docs[i].default_value);
        in->options[i].help = dupz(p.s.option_docs[i].help);
        in->n_options++;
    }
    sr_plugin_close(&p);
}

static int cmp_info(const void *a, const void *b) {
    return strcmp(((const sr_plugin_info *)a)->name, ((const sr_plugin_info *)b)->name);
}

int sr_plugins_list(sr_plugin_info **out, int *n, char *err, size_t cap) {
    dirlist l;
    plugin_dirs(&l);
    sr_plugin_info *v = NULL;
    int cnt = 0, vcap = 0;
    char seen[256][64];
    int nseen = 0;
    for (int i = 0; i < l.n; i++) {
        DIR *d = opendir(l.d[i]);
        if (!d) continue;
        struct dirent *e;
        while ((e = readdir(d))) {
            size_t len = strlen(e->d_name);
            if (len < 9 || strncmp(e->d_name, "nasc-", 5) || strcmp(e->d_name + len - 3, ".so")) continue;
            char name[64];
            snprintf(name, sizeof name, "%.*s", (int)(len - 8), e->d_name + 5);
            int dup = 0;
            for (int k = 0; k < nseen; k++) dup |= !strcmp(seen[k], name);
            if (dup || nseen == 256) continue;
            snprintf(seen[nseen++], 64, "%s", name);
            if (cnt == vcap) {
                vcap = vcap ? vcap * 2 : 8;
                sr_plugin_info *nv = realloc(v, (size_t)vcap * sizeof *nv);
                if (!nv) {
                    closedir(d);
                    sr_plugins_free(v, cnt);
                    err_set(err, cap, "out of memory");
                    return -1;
                }
                v = nv;
            }
            char path[PATH_MAX + 300];
            snprintf(path, sizeof path, "%s/%s", l.d[i], e->d_name);
            info_fill(&v[cnt++], path, name);
        }
        closedir(d);
    }
    if (cnt) qsort(v, (size_t)cnt, sizeof *v, cmp_info);
    *out = v;
    *n = cnt;
    return 0;
}

void sr_plugins_free(sr_plugin_info *v, int n) {
    for (int i = 0; v && i < n; i++) {
        for (int k = 0; k < v[i].n_options; k++) {
            free((char *)v[i].options[k].key);
            free((char *)v[i].options[k].default_value);
            free((char *)v[i].options[k].help);
        }
        free(v[i].options);
    }
    free(v);
}

void sr_plugins_print(FILE *f, const sr_plugin_info *v, int n) {
    if (!n) fprintf(f, "no strategy plugins found\n");
    for (int i = 0; i < n; i++) {
        if (v[i].error[0]) {
            fprintf(f, "%-12s (broken) %s\n", v[i].name, v[i].error);
            continue;
        }
        fprintf(f, "%-12s %-6s %s\n", v[i].name, v[i].version, v[i].description);
        fprintf(f, "             %s\n", v[i].path);
        for (int k = 0; k < v[i].n_options; k++)
            fprintf(f, "             %s = %s  %s\n", v[i].options[k].key, v[i].options[k].default_value,
                    v[i].options[k].help);
    }
}
