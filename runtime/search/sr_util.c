/* sr_util.c: string buffer, a small JSON reader and small helpers for the
 * search layer.  The JSON reader exists because points, metrics and worker
 * messages are JSON and this layer must not depend on the front end. */
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

/* ---------------- buffer ---------------- */

static int buf_grow(sr_buf *b, size_t extra) {
    if (b->oom) return -1;
    if (b->n + extra + 1 <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->n + extra + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

void sr_buf_put(sr_buf *b, const char *s, size_t n) {
    if (buf_grow(b, n)) return;
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

void sr_buf_puts(sr_buf *b, const char *s) { sr_buf_put(b, s, strlen(s)); }

void sr_buf_printf(sr_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char tmp[256];
    int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (k < 0) return;
    if ((size_t)k < sizeof tmp) {
        sr_buf_put(b, tmp, (size_t)k);
        return;
    }
    if (buf_grow(b, (size_t)k)) return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, (size_t)k + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)k;
}

void sr_buf_json_str(sr_buf *b, const char *s) {
    sr_buf_put(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '"': sr_buf_puts(b, "\\\""); break;
        case '\\': sr_buf_puts(b, "\\\\"); break;
        case '\n': sr_buf_puts(b, "\\n"); break;
        case '\t': sr_buf_puts(b, "\\t"); break;
        case '\r': sr_buf_puts(b, "\\r"); break;
        default:
            if (*p < 0x20)
                sr_buf_printf(b, "\\u%04x", *p);
            else
                sr_buf_put(b, (const char *)p, 1);
        }
    }
    sr_buf_put(b, "\"", 1);
}

void sr_buf_num(sr_buf *b, double v) {
    if (!isfinite(v)) {
        sr_buf_puts(b, "null");
        return;
    }
    if (v == floor(v) && fabs(v) < 1e15) {
        sr_buf_printf(b, "%.0f", v);
        return;
    }
    char tmp[40];
    for (int prec = 15; prec <= 17; prec++) { /* shortest that reads back exactly */
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v) break;
    }
    sr_buf_puts(b, tmp);
}

char *sr_buf_take(sr_buf *b) {
    if (b->oom) {
        sr_buf_free(b);
        return NULL;
    }
    if (!b->p) sr_buf_put(b, "", 0);
    char *p = b->p;
    b->p = NULL;
    b->n = b->cap = 0;
    return p;
}

void sr_buf_free(sr_buf *b) {
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* ---------------- JSON reader ---------------- */

typedef struct jp {
    const char *s;
    size_t i;
    sj_doc *d;
    char *err;
    size_t cap;
    int depth;
} jp;

static int jp_fail(jp *p, const char *what) {
    sr_errf(p->err, p->cap, "invalid JSON at offset %zu: %s", p->i, what);
    return -1;
}

static void jp_ws(jp *p) {
    while (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' || p->s[p->i] == '\r') p->i++;
}

static int jp_node(jp *p, sj_kind k) {
    sj_doc *d = p->d;
    if (d->n == d->cap) {
        int cap = d->cap ? d->cap * 2 : 16;
        sj_node *v = realloc(d->v, (size_t)cap * sizeof *v);
        if (!v) return -1;
        d->v = v;
        d->cap = cap;
    }
    sj_node *n = &d->v[d->n];
    memset(n, 0, sizeof *n);
    n->kind = k;
    n->child = n->next = -1;
    n->start = p->i;
    return d->n++;
}

static void put_utf8(sr_buf *b, unsigned c) {
    char t[4];
    if (c < 0x80) {
        t[0] = (char)c;
        sr_buf_put(b, t, 1);
    } else if (c < 0x800) {
        t[0] = (char)(0xC0 | (c >> 6));
        t[1] = (char)(0x80 | (c & 63));
        sr_buf_put(b, t, 2);
    } else {
        t[0] = (char)(0xE0 | (c >> 12));
        t[1] = (char)(0x80 | ((c >> 6) & 63));
        t[2] = (char)(0x80 | (c & 63));
        sr_buf_put(b, t, 3);
    }
}

static int jp_string(jp *p, char **out) {
    sr_buf b = {0};
    p->i++; /* opening quote */
    for (;;) {
        unsigned char c = (unsigned char)p->s[p->i];
        if (c == 0) {
            sr_buf_free(&b);
            return jp_fail(p, "unterminated string");
        }
        if (c == '"') {
            p->i++;
            break;
        }
        if (c < 0x20) {
            sr_buf_free(&b);
            return jp_fail(p, "control character in string");
        }
        if (c != '\\') {
            sr_buf_put(&b, (const char *)&p->s[p->i], 1);
            p->i++;
            continue;
        }
        char e = p->s[p->i + 1];
        p->i += 2;
        switch (e) {
        case '"': sr_buf_puts(&b, "\""); break;
        case '\\': sr_buf_puts(&b, "\\"); break;
        case '/': sr_buf_puts(&b, "/"); break;
        case 'b': sr_buf_puts(&b, "\b"); break;
        case 'f': sr_buf_puts(&b, "\f"); break;
        case 'n': sr_buf_puts(&b, "\n"); break;
        case 'r': sr_buf_puts(&b, "\r"); break;
        case 't': sr_buf_puts(&b, "\t"); break;
        case 'u': {
            unsigned v = 0;
            for (int k = 0; k < 4; k++) {
                char h = p->s[p->i + (size_t)k];
                if (!isxdigit((unsigned char)h)) {
                    sr_buf_free(&b);
                    return jp_fail(p, "bad \\u escape");
                }
                v = v * 16 +
                    (unsigned)(isdigit((unsigned char)h) ? h - '0' : (tolower((unsigned char)h) - 'a' + 10));
            }
            p->i += 4;
            put_utf8(&b, v);
            break;
        }
        default: sr_buf_free(&b); return jp_fail(p, "bad escape");
        }
    }
    *out = sr_buf_take(&b);
    return *out ? 0 : jp_fail(p, "out of memory");
}

static int jp_value(jp *p);

static int jp_container(jp *p, int idx, char close) {
    p->i++;
    jp_ws(p);
    int last = -1;
    if (p->s[p->i] == close) {
        p->i++;
        return 0;
    }
    for (;;) {
        char *key = NULL;
        if (close == '}') {
            jp_ws(p);
            if (p->s[p->i] != '"') return jp_fail(p, "expected a string key");
            if (jp_string(p, &key)) return -1;
            jp_ws(p);
            if (p->s[p->i] != ':') {
                free(key);
                return jp_fail(p, "expected ':'");
            }
            p->i++;
        }
        int c = jp_value(p);
        if (c < 0) {
            free(key);
            return -1;
        }
        p->d->v[c].key = key;
        if (last < 0)
            p->d->v[idx].child = c;
        else
            p->d->v[last].next = c;
        last = c;
        p->d->v[idx].count++;
        jp_ws(p);
        if (p->s[p->i] == ',') {
            p->i++;
            continue;
        }
        if (p->s[p->i] == close) {
            p->i++;
            return 0;
        }
        return jp_fail(p, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static int jp_value(jp *p) {
    jp_ws(p);
    if (++p->depth > 200) return jp_fail(p, "nested too deeply");
    char c = p->s[p->i];
    int idx;
    if (c == '{' || c == '[') {
        idx = jp_node(p, c == '{' ? SJ_OBJ : SJ_ARR);
        if (idx < 0) return jp_fail(p, "out of memory");
        if (jp_container(p, idx, c == '{' ? '}' : ']')) return -1;
    } else if (c == '"') {
        idx = jp_node(p, SJ_STR);
        if (idx < 0) return jp_fail(p, "out of memory");
        char *s;
        if (jp_string(p, &s)) return -1;
        p->d->v[idx].str = s;
    } else if (!strncmp(p->s + p->i, "true", 4) || !strncmp(p->s + p->i, "false", 5)) {
        idx = jp_node(p, SJ_BOOL);
        if (idx < 0) return jp_fail(p, "out of memory");
        p->d->v[idx].num = c == 't';
        p->i += c == 't' ? 4 : 5;
    } else if (!strncmp(p->s + p->i, "null", 4)) {
        idx = jp_node(p, SJ_NULL);
        if (idx < 0) return jp_fail(p, "out of memory");
        p->i += 4;
    } else if (c == '-' || isdigit((unsigned char)c)) {
        idx = jp_node(p, SJ_NUM);
        if (idx < 0) return jp_fail(p, "out of memory");
        char *end;
        double v = strtod(p->s + p->i, &end);
        if (end == p->s + p->i) return jp_fail(p, "bad number");
        if (isinf(v)) return jp_fail(p, "number out of range"); /* 1e999: not NaN, not a value */
        p->d->v[idx].num = v;
        p->i = (size_t)(end - p->s);
    } else {
        return jp_fail(p, c ? "unexpected character" : "unexpected end of text");
    }
    p->d->v[idx].end = p->i;
    p->depth--;
    return idx;
}

int sj_parse(const char *src, sj_doc *d, char *err, size_t cap) {
    memset(d, 0, sizeof *d);
    d->src = src;
    if (!src) {
        sr_errf(err, cap, "invalid JSON: no text");
        return -1;
    }
    jp p = {src, 0, d, err, cap, 0};
    if (jp_value(&p) < 0) {
        sj_free(d);
        return -1;
    }
    jp_ws(&p);
    if (src[p.i]) {
        jp_fail(&p, "trailing text");
        sj_free(d);
        return -1;
    }
    return 0;
}

void sj_free(sj_doc *d) {
    for (int i = 0; i < d->n; i++) {
        free(d->v[i].str);
        free(d->v[i].key);
    }
    free(d->v);
    memset(d, 0, sizeof *d);
}

int sj_get(const sj_doc *d, int obj, const char *key) {
    if (obj < 0 || obj >= d->n || d->v[obj].kind != SJ_OBJ) return -1;
    for (int c = d->v[obj].child; c >= 0; c = d->v[c].next)
        if (d->v[c].key && !strcmp(d->v[c].key, key)) return c;
    return -1;
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

void sr_errf(char *err, size_t cap, const char *fmt, ...) {
    if (!err || !cap) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
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

void sr_hash_hex(const char *text, char out[17]) {
    uint64_t h = 1469598103934665603ull;
    for (const unsigned char *p = (const unsigned char *)(text ? text : ""); *p; p++) {
        h ^= *p;
        h *= 1099511628211ull;
    }
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}
