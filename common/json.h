/* json.h: a small strict JSON (RFC 8259) reader and writer.
 *
 * Used wherever nasc reads or writes JSON (safetensors headers, points,
 * metrics).  The reader builds a malloc'ed tree that one json_free releases;
 * it rejects anything RFC 8259 does not allow (trailing commas, leading
 * zeros, control characters or bad escapes in strings, lone surrogates,
 * malformed UTF-8) and reports the byte offset of the first fault.  Objects
 * keep their keys in document order (duplicates are kept; json_get returns
 * the first).  The writer appends escaped text
 * to a strbuf (buf.h).
 */
#ifndef NASC_COMMON_JSON_H
#define NASC_COMMON_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "buf.h"

/* Nesting deeper than this is rejected, so hostile input cannot exhaust
 * the stack of the recursive reader. */
#define JSON_MAX_DEPTH 256

typedef enum { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT } json_type;

typedef struct json_value {
    json_type type;
    bool boolean;             /* JSON_BOOL */
    double number;            /* JSON_NUMBER */
    bool is_int;              /* JSON_NUMBER written without fraction/exponent and fits int64 */
    int64_t integer;          /* valid when is_int */
    char *str;                /* JSON_STRING: UTF-8, NUL-terminated (may hold \u0000: use len) */
    size_t len;               /* JSON_STRING: bytes in str */
    size_t n;                 /* JSON_ARRAY / JSON_OBJECT: number of items */
    struct json_value *items; /* JSON_ARRAY elements / JSON_OBJECT values */
    char **keys;              /* JSON_OBJECT: keys[i] names items[i] (NUL-terminated) */
    size_t *key_lens;         /* JSON_OBJECT: byte length of keys[i] */
    size_t start, end;        /* the value's bytes in the parsed text: [start, end) */
} json_value;

/* Parses exactly one JSON text of len bytes (surrounding whitespace allowed).
 * Returns the tree, or NULL with err = "byte N: reason" (N 0-based). */
json_value *json_parse(const char *text, size_t len, char *err, size_t errcap);
void json_free(json_value *v);

/* Lookups (NULL when absent or v has another type). */
const json_value *json_get(const json_value *obj, const char *key);
const json_value *json_at(const json_value *arr, size_t i);
const char *json_type_name(json_type t);
/* A number's value, a boolean's 0 or 1, else dflt (also for NULL). */
double json_number(const json_value *v, double dflt);
/* Whether s[0..n) is well-formed UTF-8 (no overlongs, surrogates or code
 * points beyond U+10FFFF), i.e. a string JSON can carry unchanged. */
bool json_utf8_valid(const char *s, size_t n);

/* ---- writing ---- */

/* The writers append to a strbuf (buf.h) and return 0, or -1 once the
 * buffer has failed. */

/* s (n bytes of UTF-8) as a quoted JSON string: ", \ and control
 * characters escaped; bytes that are not valid UTF-8 become U+FFFD, so the
 * output is always valid JSON. */
int json_write_string(strbuf *b, const char *s, size_t n);
/* The same for a NUL-terminated string; NULL is written as "". */
int json_write_str(strbuf *b, const char *s);
/* A number in the shortest form that reads back to the same double;
 * NaN and infinities (not JSON) are written as null. */
int json_write_number(strbuf *b, double v);
int json_write_int(strbuf *b, int64_t v);
/* A whole tree, compact (no whitespace). */
int json_write_value(strbuf *b, const json_value *v);

#endif
