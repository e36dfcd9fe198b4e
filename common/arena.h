/* arena.h: the bump allocator behind every front-end object.
 *
 * Objects are never freed one by one (QBE, chibicc): an owner (a compile
 * context) holds one arena and frees it whole, or releases back to a mark,
 * which keeps ownership trivial and leak-free.  Out of memory aborts: the
 * front end has no way to go on without its tree.
 */
#ifndef NASC_COMMON_ARENA_H
#define NASC_COMMON_ARENA_H

#include <stdarg.h>
#include <stddef.h>
#include <string.h>


typedef struct arena_chunk arena_chunk;
typedef struct arena {
    arena_chunk *head;
    size_t used_total;
    arena_chunk *spare; /* chunks given back by arena_release, reused first */
} arena;

void *arena_alloc(arena *a, size_t n); /* zeroed, 16-aligned */
char *arena_strdup(arena *a, const char *s);
char *arena_strndup(arena *a, const char *s, size_t n);
char *arena_printf(arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *arena_vprintf(arena *a, const char *fmt, va_list ap);
void arena_free_all(arena *a);
/* A point in the arena's history; releasing it frees everything allocated
 * since (for the many short-lived runs of a search). */
typedef struct arena_mark {
    arena_chunk *head;
    size_t used, used_total;
} arena_mark;
arena_mark arena_get_mark(const arena *a);
void arena_release(arena *a, arena_mark m);

/* A growable array in the arena: old storage is simply abandoned. */
#define VEC(T)      \
    struct {        \
        T *v;       \
        int n, cap; \
    }
#define vec_push(A, vec, x)                                                        \
    do {                                                                           \
        if ((vec).n == (vec).cap) {                                                \
            int nc_ = (vec).cap ? (vec).cap * 2 : 8;                               \
            void *nv_ = arena_alloc((A), (size_t)nc_ * sizeof(*(vec).v));          \
            if ((vec).n) memcpy(nv_, (vec).v, (size_t)(vec).n * sizeof(*(vec).v)); \
            (vec).v = nv_;                                                         \
            (vec).cap = nc_;                                                       \
        }                                                                          \
        (vec).v[(vec).n++] = (x);                                                  \
    } while (0)

#endif
