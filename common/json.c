/* json.c: strict RFC 8259 reader (recursive descent with a depth limit,
 * so hostile input fails cleanly instead of overflowing the stack) and a
 * small escaping writer.  See json.h for the contract. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "json.h"

typedef struct jp {
    const unsigned char *s;
    size_t len, pos;
    int depth;
    char *err;
    size_t errcap;
    bool failed;
} jp;

/* Records the first error only: later ones are consequences of it. */
static int jp_fail(jp *p, size_t at, const char *fmt, ...) {
    if (p->failed) return -1;
    p->failed = true;
    if (p->err && p->errcap) {
        int k = snprintf(p->err, p->errcap, "byte %zu: ", at);
        if (k >= 0 && (size_t)k < p->errcap) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(p->err + k, p->errcap - (size_t)k, fmt, ap);
            va_end(ap);
        }
    }
    return -1;
}

static void jp_ws(jp *p) {
    while (p->pos < p->len) {
        unsigned char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        p->pos++;
    }
}

/* Decodes one UTF-8 sequence at s[0..avail); returns its length, or 0 if
 * it is malformed (overlong, surrogate, beyond U+10FFFF, truncated). */
static size_t utf8_decode(const unsigned char *s, size_t avail, uint32_t *cp) {
    unsigned char c = s[0];
    size_t n;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        v = c & 0x1Fu;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        v = c & 0x0Fu;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        v = c & 0x07u;
        min = 0x10000;
    } else
        return 0;
    if (avail < n) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        v = (v << 6) | (s[i] & 0x3Fu);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
    *cp = v;
    return n;
}

static size_t utf8_encode(uint32_t cp, char *out) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static int hex4(jp *p, size_t at, uint32_t *out) {
    if (at + 4 > p->len) return jp_fail(p, at, "truncated \\u escape");
    uint32_t v = 0;
    for (size_t i = 0; i < 4; i++) {
        unsigned char c = p->s[at + i];
        uint32_t d;
        if (c >= '0' && c <= '9')
            d = (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (uint32_t)(c - 'A' + 10);
        else
            return jp_fail(p, at + i, "invalid hex digit in \\u escape");
        v = v * 16 + d;
    }
    *out = v;
    return 0;
}

/* A \u escape at p->pos (just after the backslash-u), joining surrogate
 * pairs; lone surrogates are errors since they are not Unicode scalars. */
static int parse_u_escape(jp *p, uint32_t *cp) {
    size_t start = p->pos - 2;
    uint32_t hi;
    if (hex4(p, p->pos, &hi)) return -1;
    p->pos += 4;
    if (hi >= 0xDC00 && hi <= 0xDFFF) return jp_fail(p, start, "lone low surrogate \\u%04X", (unsigned)hi);
    if (hi < 0xD800 || hi > 0xDBFF) {
        *cp = hi;
        return 0;
    }
    if (p->pos + 2 > p->len || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u')
        return jp_fail(p, start, "high surrogate \\u%04X not followed by a low surrogate", (unsigned)hi);
    uint32_t lo;
    if (hex4(p, p->pos + 2, &lo)) return -1;
    if (lo < 0xDC00 || lo > 0xDFFF)
        return jp_fail(p, start, "high surrogate \\u%04X not followed by a low surrogate", (unsigned)hi);
    p->pos += 6;
    *cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
    return 0;
}

/* Finds the closing quote so the decoded string (never longer than its
 * source) can be allocated once. */
static int string_extent(jp *p, size_t *end) {
    size_t i = p->pos;
    while (i < p->len && p->s[i] != '"') i += (p->s[i] == '\\') ? 2 : 1;
    if (i >= p->len) return jp_fail(p, p->pos - 1, "unterminated string");
    *end = i;
    return 0;
}

static int parse_escape(jp *p, char *out, size_t *o) {
    unsigned char c = p->s[p->pos + 1];
    const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
    const char *hit = c ? strchr(from, c) : NULL;
    if (hit) {
        out[(*o)++] = to[hit - from];
        p->pos += 2;
        return 0;
    }
    if (c != 'u') return jp_fail(p, p->pos, "invalid escape \\%c", c >= 0x20 && c < 0x7F ? c : '?');
    p->pos += 2;
    uint32_t cp = 0;
    if (parse_u_escape(p, &cp)) return -1;
    *o += utf8_encode(cp, out + *o);
    return 0;
}

/* p->pos is just past the opening quote. */
static int parse_string_raw(jp *p, char **str, size_t *slen) {
    size_t end = 0;
    if (string_extent(p, &end)) return -1;
    char *out = malloc(end - p->pos + 1);
    if (!out) return jp_fail(p, p->pos, "out of memory");
    size_t o = 0;
    while (p->pos < end) {
        unsigned char c = p->s[p->pos];
        if (c == '\\') {
            if (parse_escape(p, out, &o)) {
                free(out);
                return -1;
            }
        } else if (c < 0x20) {
            free(out);
            return jp_fail(p, p->pos, "control character 0x%02X in string", c);
        } else {
            uint32_t cp;
            size_t n = utf8_decode(p->s + p->pos, end - p->pos, &cp);
            if (!n) {
                free(out);
                return jp_fail(p, p->pos, "invalid UTF-8 in string");
            }
            memcpy(out + o, p->s + p->pos, n);
            o += n;
            p->pos += n;
        }
    }
    p->pos = end + 1;
    out[o] = '\0';
    *str = out;
    *slen = o;
    return 0;
}

static size_t scan_digits(jp *p) {
    size_t n = 0;
    while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') p->pos++, n++;
    return n;
}

/* Exact int64 value of an integer literal, or false when it overflows. */
static bool literal_int64(const unsigned char *s, size_t n, int64_t *out) {
    bool neg = s[0] == '-';
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX, v = 0;
    for (size_t i = neg; i < n; i++) {
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (limit - d) / 10) return false;
        v = v * 10 + d;
    }
    *out = neg ? (v == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)v) : (int64_t)v;
    return true;
}

static int parse_number(jp *p, json_value *v) {
    size_t start = p->pos;
    bool frac = false;
    if (p->s[p->pos] == '-') p->pos++;
    if (p->pos >= p->len || p->s[p->pos] < '0' || p->s[p->pos] > '9')
        return jp_fail(p, p->pos, "expected a digit");
    if (p->s[p->pos] == '0') {
        p->pos++;
        if (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
            return jp_fail(p, start, "leading zero in number");
    } else {
        scan_digits(p);
    }
    if (p->pos < p->len && p->s[p->pos] == '.') {
        p->pos++;
        frac = true;
        if (!scan_digits(p)) return jp_fail(p, p->pos, "expected a digit after the decimal point");
    }
    if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
        p->pos++;
        frac = true;
        if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-')) p->pos++;
        if (!scan_digits(p)) return jp_fail(p, p->pos, "expected a digit in the exponent");
    }
    size_t n = p->pos - start;
    char small[64], *buf = n < sizeof small ? small : malloc(n + 1);
    if (!buf) return jp_fail(p, start, "out of memory");
    memcpy(buf, p->s + start, n);
    buf[n] = '\0';
    errno = 0;
    double d = strtod(buf, NULL);
    int range = errno == ERANGE && isinf(d);
    if (buf != small) free(buf);
    if (range) return jp_fail(p, start, "number out of range");
    v->type = JSON_NUMBER;
    v->number = d;
    v->is_int = !frac && literal_int64(p->s + start, n, &v->integer);
    return 0;
}

static int parse_literal(jp *p, const char *word, json_value *v, json_type t, bool b) {
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n))
        return jp_fail(p, p->pos, "invalid literal (expected a value)");
    p->pos += n;
    v->type = t;
    v->boolean = b;
    return 0;
}

static int parse_value(jp *p, json_value *v);

/* Grows a container's arrays so that slot `n` exists. */
static int reserve(jp *p, json_value *v, size_t *cap, bool keys) {
    if (v->n < *cap) return 0;
    size_t nc = *cap ? *cap * 2 : 4;
    json_value *it = realloc(v->items, nc * sizeof *it);
    if (!it) return jp_fail(p, p->pos, "out of memory");
    v->items = it;
    if (keys) {
        char **k = realloc(v->keys, nc * sizeof *k);
        if (!k) return jp_fail(p, p->pos, "out of memory");
        v->keys = k;
        size_t *kl = realloc(v->key_lens, nc * sizeof *kl);
        if (!kl) return jp_fail(p, p->pos, "out of memory");
        v->key_lens = kl;
    }
    *cap = nc;
    return 0;
}

/* Shared loop of arrays and objects: p->pos is past the opening bracket. */
static int parse_container(jp *p, json_value *v, bool object) {
    char close = object ? '}' : ']';
    size_t cap = 0;
    v->type = object ? JSON_OBJECT : JSON_ARRAY;
    jp_ws(p);
    if (p->pos < p->len && p->s[p->pos] == close) {
        p->pos++;
        return 0;
    }
    for (;;) {
        if (reserve(p, v, &cap, object)) return -1;
        json_value *item = &v->items[v->n];
        memset(item, 0, sizeof *item);
        jp_ws(p);
        if (object) {
            if (p->pos >= p->len || p->s[p->pos] != '"') return jp_fail(p, p->pos, "expected a string key");
            p->pos++;
            if (parse_string_raw(p, &v->keys[v->n], &v->key_lens[v->n])) return -1;
            v->n++;
            jp_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != ':') return jp_fail(p, p->pos, "expected ':'");
            p->pos++;
        } else {
            v->n++;
        }
        if (parse_value(p, item)) return -1;
        jp_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ',') {
            p->pos++;
            jp_ws(p);
            if (p->pos < p->len && p->s[p->pos] == close) return jp_fail(p, p->pos, "trailing comma");
            continue;
        }
        if (p->pos < p->len && p->s[p->pos] == close) {
            p->pos++;
            return 0;
        }
        return jp_fail(p, p->pos, object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static int parse_one(jp *p, json_value *v) {
    if (p->pos >= p->len) return jp_fail(p, p->pos, "unexpected end of input");
    unsigned char c = p->s[p->pos];
    switch (c) {
    case '{':
    case '[': {
        if (++p->depth > JSON_MAX_DEPTH) return jp_fail(p, p->pos, "nesting deeper than %d", JSON_MAX_DEPTH);
        p->pos++;
        int r = parse_container(p, v, c == '{');
        p->depth--;
        return r;
    }
    case '"':
        p->pos++;
        v->type = JSON_STRING;
        return parse_string_raw(p, &v->str, &v->len);
    case 't': return parse_literal(p, "true", v, JSON_BOOL, true);
    case 'f': return parse_literal(p, "false", v, JSON_BOOL, false);
    case 'n': return parse_literal(p, "null", v, JSON_NULL, false);
    default:
        if (c == '-' || (c >= '0' && c <= '9')) return parse_number(p, v);
        return jp_fail(p, p->pos, "unexpected character '%c' (expected a value)",
                       c >= 0x20 && c < 0x7F ? c : '?');
    }
}

/* One value and its byte span in the text (callers that forward a part of
 * a message unchanged copy that span rather than re-writing it). */
static int parse_value(jp *p, json_value *v) {
    jp_ws(p);
    size_t start = p->pos;
    int r = parse_one(p, v);
    v->start = start;
    v->end = p->pos;
    return r;
}

static void free_inner(json_value *v) {
    if (v->type == JSON_STRING) free(v->str);
    if (v->type == JSON_ARRAY || v->type == JSON_OBJECT) {
        for (size_t i = 0; i < v->n; i++) {
            free_inner(&v->items[i]);
            if (v->keys) free(v->keys[i]);
        }
        free(v->items);
        free(v->keys);
        free(v->key_lens);
    }
}

void json_free(json_value *v) {
    if (!v) return;
    free_inner(v);
    free(v);
}

json_value *json_parse(const char *text, size_t len, char *err, size_t errcap) {
    jp p = {(const unsigned char *)text, len, 0, 0, err, errcap, false};
    if (err && errcap) err[0] = '\0';
    if (!text) {
        jp_fail(&p, 0, "no input");
        return NULL;
    }
    json_value *v = calloc(1, sizeof *v);
    if (!v) {
        jp_fail(&p, 0, "out of memory");
        return NULL;
    }
    if (parse_value(&p, v) == 0) {
        jp_ws(&p);
        if (p.pos == p.len) return v;
        jp_fail(&p, p.pos, "unexpected data after the JSON value");
    }
    json_free(v);
    return NULL;
}

const json_value *json_get(const json_value *obj, const char *key) {
    if (!obj || obj->type != JSON_OBJECT || !key) return NULL;
    size_t kl = strlen(key);
    for (size_t i = 0; i < obj->n; i++)
        if (obj->key_lens[i] == kl && !memcmp(obj->keys[i], key, kl)) return &obj->items[i];
    return NULL;
}

const json_value *json_at(const json_value *arr, size_t i) {
    if (!arr || arr->type != JSON_ARRAY || i >= arr->n) return NULL;
    return &arr->items[i];
}

bool json_utf8_valid(const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    uint32_t cp;
    for (size_t i = 0, k; i < n; i += k)
        if (!(k = utf8_decode(u + i, n - i, &cp))) return false;
    return true;
}

double json_number(const json_value *v, double dflt) {
    if (v && v->type == JSON_NUMBER) return v->number;
    if (v && v->type == JSON_BOOL) return v->boolean ? 1 : 0;
    return dflt;
}

const char *json_type_name(json_type t) {
    static const char *names[] = {"null", "boolean", "number", "string", "array", "object"};
    return (unsigned)t <= JSON_OBJECT ? names[t] : "?";
}

/* ---- writer ---- */

int json_write_str(strbuf *b, const char *s) { return json_write_string(b, s ? s : "", s ? strlen(s) : 0); }

int json_write_string(strbuf *b, const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    strbuf_append(b, "\"", 1);
    size_t i = 0, run = 0; /* run: start of bytes copied verbatim */
    while (i < n) {
        unsigned char c = u[i];
        const char *esc = NULL;
        char tmp[8];
        uint32_t cp;
        size_t k = 1;
        if (c == '"')
            esc = "\\\"";
        else if (c == '\\')
            esc = "\\\\";
        else if (c == '\n')
            esc = "\\n";
        else if (c == '\r')
            esc = "\\r";
        else if (c == '\t')
            esc = "\\t";
        else if (c == '\b')
            esc = "\\b";
        else if (c == '\f')
            esc = "\\f";
        else if (c < 0x20) {
            snprintf(tmp, sizeof tmp, "\\u%04x", c);
            esc = tmp;
        } else if (c >= 0x80 && !(k = utf8_decode(u + i, n - i, &cp))) {
            esc = "\xEF\xBF\xBD";
            k = 1;
        }
        if (esc) {
            strbuf_append(b, s + run, i - run);
            strbuf_puts(b, esc);
            run = i + k;
        }
        i += k;
    }
    strbuf_append(b, s + run, n - run);
    return strbuf_append(b, "\"", 1);
}

int json_write_number(strbuf *b, double v) {
    if (!isfinite(v)) return strbuf_puts(b, "null");
    char tmp[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v) break;
    }
    return strbuf_puts(b, tmp);
}

int json_write_int(strbuf *b, int64_t v) {
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%lld", (long long)v);
    return strbuf_puts(b, tmp);
}

int json_write_value(strbuf *b, const json_value *v) {
    switch (v->type) {
    case JSON_NULL: return strbuf_puts(b, "null");
    case JSON_BOOL: return strbuf_puts(b, v->boolean ? "true" : "false");
    case JSON_NUMBER: return v->is_int ? json_write_int(b, v->integer) : json_write_number(b, v->number);
    case JSON_STRING: return json_write_string(b, v->str, v->len);
    case JSON_ARRAY:
    case JSON_OBJECT:
        strbuf_puts(b, v->type == JSON_ARRAY ? "[" : "{");
        for (size_t i = 0; i < v->n; i++) {
            if (i) strbuf_puts(b, ",");
            if (v->type == JSON_OBJECT) {
                json_write_string(b, v->keys[i], v->key_lens[i]);
                strbuf_puts(b, ":");
            }
            json_write_value(b, &v->items[i]);
        }
        return strbuf_puts(b, v->type == JSON_ARRAY ? "]" : "}");
    }
    return -1;
}
