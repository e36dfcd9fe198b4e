/* arena.c: the bump allocator (arena.h), in 64 KiB chunks; chunks given
 * back by arena_release are kept and reused before malloc is asked again. */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include "arena.h"

struct arena_chunk {
    arena_chunk *next;
    size_t cap, used;
    _Alignas(16) unsigned char data[];
};

#define ARENA_CHUNK (64 * 1024)

void *arena_alloc(arena *a, size_t n) {
    n = (n + 15) & ~(size_t)15;
    if (!a->head || a->head->cap - a->head->used < n) {
        size_t cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;
        arena_chunk *c = NULL;
        if (a->spare && a->spare->cap >= n) { /* a released chunk: no malloc, no page faults */
            c = a->spare;
            a->spare = c->next;
        } else {
            c = malloc(sizeof *c + cap);
            if (!c) {
                fputs("nasc: out of memory\n", stderr);
                abort();
            }
            c->cap = cap;
        }
        c->used = 0;
        c->next = a->head;
        a->head = c;
    }
    void *p = a->head->data + a->head->used;
    a->head->used += n;
    a->used_total += n;
    memset(p, 0, n);
    return p;
}

char *arena_strndup(arena *a, const char *s, size_t n) {
    char *p = arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

char *arena_strdup(arena *a, const char *s) { return arena_strndup(a, s, strlen(s)); }

char *arena_vprintf(arena *a, const char *fmt, va_list ap) {
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) n = 0;
    char *p = arena_alloc(a, (size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    return p;
}

char *arena_printf(arena *a, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *p = arena_vprintf(a, fmt, ap);
    va_end(ap);
    return p;
}

static void free_list(arena_chunk *c) {
    while (c) {
        arena_chunk *n = c->next;
        free(c);
        c = n;
    }
}

void arena_free_all(arena *a) {
    free_list(a->head);
    free_list(a->spare);
    a->head = a->spare = NULL;
    a->used_total = 0;
}

arena_mark arena_get_mark(const arena *a) {
    arena_mark m = {a->head, a->head ? a->head->used : 0, a->used_total};
    return m;
}

void arena_release(arena *a, arena_mark m) {
    while (a->head && a->head != m.head) {
        arena_chunk *n = a->head->next;
        a->head->next = a->spare;
        a->spare = a->head;
        a->head = n;
    }
    if (a->head) a->head->used = m.used;
    a->used_total = m.used_total;
}
