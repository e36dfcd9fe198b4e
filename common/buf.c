/* buf.c: strbuf (buf.h), doubling capacity so appends are amortised O(1). */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"

/* Room for n more bytes and the NUL; sets `failed` when there is none. */
static int reserve(strbuf *b, size_t n) {
    if (b->failed) return -1;
    if (n > SIZE_MAX / 4 - b->len) {
        b->failed = true;
        return -1;
    }
    if (b->len + n + 1 <= b->cap) return 0;
    size_t nc = b->cap ? b->cap : 64;
    while (nc < b->len + n + 1) nc *= 2;
    char *d = realloc(b->data, nc);
    if (!d) {
        b->failed = true;
        return -1;
    }
    b->data = d;
    b->cap = nc;
    return 0;
}

int strbuf_append(strbuf *b, const char *s, size_t n) {
    if (b->failed) return -1;
    if (n == 0) return 0;
    if (reserve(b, n)) return -1;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int strbuf_puts(strbuf *b, const char *s) { return strbuf_append(b, s, strlen(s)); }

int strbuf_printf(strbuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (k < 0 || reserve(b, (size_t)k)) return -1;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)k + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)k;
    return 0;
}

char *strbuf_take(strbuf *b) {
    if (b->failed || reserve(b, 0)) {
        strbuf_free(b);
        return NULL;
    }
    b->data[b->len] = '\0';
    char *p = b->data;
    memset(b, 0, sizeof *b);
    return p;
}

void strbuf_free(strbuf *b) {
    free(b->data);
    memset(b, 0, sizeof *b);
}
