/* buf.h: the one growable byte buffer (strings, JSON, S-expressions).
 *
 * Zero-initialise a strbuf and append to it; the text stays NUL-terminated.
 * Allocation failure is sticky: after it every call is a no-op returning
 * -1 and `failed` stays set, so a writer checks once at the end instead of
 * after every append. */
#ifndef NASC_COMMON_BUF_H
#define NASC_COMMON_BUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct strbuf {
    char *data; /* NUL-terminated when len > 0 */
    size_t len, cap;
    bool failed;
} strbuf;

/* Each returns 0, or -1 once the buffer has failed. */
int strbuf_append(strbuf *b, const char *s, size_t n);
int strbuf_puts(strbuf *b, const char *s);
int strbuf_printf(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The text, owned by the caller ("" when nothing was appended); the buffer
 * is left empty.  NULL (and the buffer freed) if it had failed. */
char *strbuf_take(strbuf *b);
void strbuf_free(strbuf *b);

#endif
