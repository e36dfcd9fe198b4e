/* test_common_json.c: the strict JSON reader and the writer: a valid and
 * an invalid corpus (with the byte offsets reported), numbers and their
 * integer flag, Unicode escapes, the depth limit, and write/read round
 * trips. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "nasc/rng.h"
#include "json.h"

static json_value *parse(const char *s) {
    char err[256];
    json_value *v = json_parse(s, strlen(s), err, sizeof err);
    cr_assert(v, "should parse: %s (%s)", s, err);
    return v;
}

/* Parses s expecting failure; returns the message. */
static const char *parse_fail(const char *s, size_t len) {
    static char err[256];
    json_value *v = json_parse(s, len, err, sizeof err);
    cr_assert_null(v, "should be rejected: %.*s", (int)len, s);
    json_free(v);
    return err;
}

Test(json, scalars) {
    json_value *v = parse("  true ");
    cr_assert_eq(v->type, JSON_BOOL);
    cr_assert(v->boolean);
    json_free(v);
    v = parse("false");
    cr_assert(v->type == JSON_BOOL && !v->boolean);
    json_free(v);
    v = parse("\n\tnull\r\n");
    cr_assert_eq(v->type, JSON_NULL);
    json_free(v);
    v = parse("\"hi\"");
    cr_assert_eq(v->type, JSON_STRING);
    cr_assert_str_eq(v->str, "hi");
    cr_assert_eq(v->len, 2);
    json_free(v);
}

Test(json, numbers_and_integer_flag) {
    struct {
        const char *text;
        double num;
        int is_int;
        long long i;
    } cases[] = {
        {"0", 0, 1, 0},
        {"-0", -0.0, 1, 0},
        {"42", 42, 1, 42},
        {"-17", -17, 1, -17},
        {"1.5", 1.5, 0, 0},
        {"1.0", 1.0, 0, 0},
        {"2e3", 2000, 0, 0},
        {"-2.5E-3", -0.0025, 0, 0},
        {"1E+2", 100, 0, 0},
        {"9223372036854775807", 9223372036854775807.0, 1, INT64_MAX},
        {"-9223372036854775808", -9223372036854775808.0, 1, INT64_MIN},
        {"9223372036854775808", 9223372036854775808.0, 0, 0},
        {"123456789012345678901234567890", 1.2345678901234568e29, 0, 0},
        {"1e-400", 0.0, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_value *v = parse(cases[i].text);
        cr_assert_eq(v->type, JSON_NUMBER, "%s", cases[i].text);
        cr_assert_eq(v->number, cases[i].num, "%s: %g", cases[i].text, v->number);
        cr_assert_eq(v->is_int, cases[i].is_int, "%s", cases[i].text);
        if (cases[i].is_int) cr_assert_eq(v->integer, cases[i].i, "%s", cases[i].text);
        json_free(v);
    }
    json_value *z = parse("-0");
    cr_assert(signbit(z->number), "-0 keeps its sign");
    json_free(z);
}

Test(json, containers_keep_order_and_duplicates) {
    json_value *v = parse("{\"b\": [1, 2, {\"x\": null}], \"a\": \"s\", \"b\": 3, \"\": true}");
    cr_assert_eq(v->type, JSON_OBJECT);
    cr_assert_eq(v->n, 4);
    cr_assert_str_eq(v->keys[0], "b");
    cr_assert_str_eq(v->keys[1], "a");
    cr_assert_str_eq(v->keys[2], "b");
    cr_assert_str_eq(v->keys[3], "");
    const json_value *b = json_get(v, "b");
    cr_assert_eq(b, &v->items[0], "json_get returns the first duplicate");
    cr_assert_eq(b->type, JSON_ARRAY);
    cr_assert_eq(b->n, 3);
    cr_assert_eq(json_at(b, 1)->integer, 2);
    cr_assert_null(json_at(b, 3));
    cr_assert_eq(json_get(json_at(b, 2), "x")->type, JSON_NULL);
    cr_assert_null(json_get(v, "missing"));
    cr_assert_null(json_get(b, "b"), "json_get on an array");
    cr_assert(json_get(v, "")->boolean);
    json_free(v);

    v = parse("[ ]");
    cr_assert(v->type == JSON_ARRAY && v->n == 0);
    json_free(v);
    v = parse("{}");
    cr_assert(v->type == JSON_OBJECT && v->n == 0);
    json_free(v);
}

Test(json, string_escapes_and_unicode) {
    json_value *v = parse("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\u20AC\\ud83d\\ude00\"");
    const char *want = "a\"b\\c/d\b\f\n\r\t\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80";
    cr_assert_eq(v->len, strlen(want));
    cr_assert(!memcmp(v->str, want, v->len));
    json_free(v);

    v = parse("\"x\\u0000y\"");
    cr_assert_eq(v->len, 3, "an escaped NUL is kept and counted");
    cr_assert(v->str[1] == '\0' && v->str[2] == 'y');
    json_free(v);

    v = parse("\"caf\xC3\xA9 \xF0\x9F\x98\x80\""); /* raw UTF-8 passes through */
    cr_assert_str_eq(v->str, "caf\xC3\xA9 \xF0\x9F\x98\x80");
    json_free(v);
}

Test(json, invalid_corpus_with_offsets) {
    struct {
        const char *text;
        const char *msg;
    } bad[] = {
        {"", "byte 0: unexpected end of input"},
        {"   ", "byte 3: unexpected end of input"},
        {"[1,2,]", "byte 5: trailing comma"},
        {"{\"a\":1,}", "byte 7: trailing comma"},
        {"01", "byte 0: leading zero"},
        {"-01", "byte 0: leading zero"},
        {"1.", "byte 2: expected a digit after the decimal point"},
        {".5", "byte 0: unexpected character '.'"},
        {"+1", "byte 0: unexpected character '+'"},
        {"-", "byte 1: expected a digit"},
        {"1e", "byte 2: expected a digit in the exponent"},
        {"1e+", "byte 3: expected a digit in the exponent"},
        {"1e400", "byte 0: number out of range"},
        {"NaN", "byte 0: unexpected character 'N'"},
        {"tru", "byte 0: invalid literal"},
        {"nul", "byte 0: invalid literal"},
        {"[1] x", "byte 4: unexpected data after the JSON value"},
        {"[1 2]", "byte 3: expected ',' or ']'"},
        {"{\"a\" 1}", "byte 5: expected ':'"},
        {"{1:2}", "byte 1: expected a string key"},
        {"{\"a\":1 \"b\":2}", "byte 7: expected ',' or '}'"},
        {"'a'", "byte 0: unexpected character '''"},
        {"[", "byte 1: unexpected end of input"},
        {"\"abc", "byte 0: unterminated string"},
        {"\"a\tb\"", "byte 2: control character 0x09 in string"},
        {"\"a\nb\"", "byte 2: control character 0x0A in string"},
        {"\"\\x\"", "byte 1: invalid escape \\x"},
        {"\"\\u12g4\"", "byte 5: invalid hex digit"},
        {"\"\\u12\"", "byte 3: truncated \\u escape"},
        {"\"\\u12\" ", "byte 5: invalid hex digit"},
        {"\"\\ud800\"", "byte 1: high surrogate \\uD800 not followed by a low surrogate"},
        {"\"\\ud800\\u0041\"", "byte 1: high surrogate"},
        {"\"\\udc00\"", "byte 1: lone low surrogate \\uDC00"},
        {"\"\xC0\xAF\"", "byte 1: invalid UTF-8"},         /* overlong '/' */
        {"\"\xED\xA0\x80\"", "byte 1: invalid UTF-8"},     /* encoded surrogate */
        {"\"\xF4\x90\x80\x80\"", "byte 1: invalid UTF-8"}, /* beyond U+10FFFF */
        {"\"\xE2\x82\"", "byte 1: invalid UTF-8"},         /* truncated sequence */
        {"\"\xFF\"", "byte 1: invalid UTF-8"},
        {"[1,,2]", "byte 3: unexpected character ','"},
        {"{\"a\":}", "byte 5: unexpected character '}'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *err = parse_fail(bad[i].text, strlen(bad[i].text));
        cr_assert(strstr(err, bad[i].msg), "input %zu <%s>: got \"%s\", want \"%s\"", i, bad[i].text, err,
                  bad[i].msg);
    }
    /* NUL bytes inside the given length are not whitespace */
    cr_assert(strstr(parse_fail("1\0", 2), "byte 1: unexpected data"));
    cr_assert_null(json_parse(NULL, 0, NULL, 0), "NULL input, NULL err buffer: no crash");
}

static char *nested(int depth) {
    char *s = malloc((size_t)depth * 2 + 1);
    for (int i = 0; i < depth; i++) {
        s[i] = '[';
        s[depth * 2 - 1 - i] = ']';
    }
    s[depth * 2] = '\0';
    return s;
}

Test(json, depth_limit) {
    char *ok = nested(JSON_MAX_DEPTH);
    json_value *v = parse(ok);
    const json_value *w = v;
    int d = 1;
    while (w->n) w = &w->items[0], d++;
    cr_assert_eq(d, JSON_MAX_DEPTH);
    json_free(v);
    free(ok);

    char *deep = nested(100000); /* far beyond any stack-safe recursion */
    const char *err = parse_fail(deep, strlen(deep));
    cr_assert(strstr(err, "nesting deeper than 256"), "%s", err);
    cr_assert(strstr(err, "byte 256:"), "%s", err);
    free(deep);
}

Test(json, write_string_escapes) {
    strbuf b = {0};
    const char s[] = "q\"b\\n\n\x01\x1f\t/\xC3\xA9";
    json_write_string(&b, s, sizeof s - 1);
    cr_assert_str_eq(b.data, "\"q\\\"b\\\\n\\n\\u0001\\u001f\\t/\xC3\xA9\"");
    strbuf_free(&b);

    /* invalid UTF-8 becomes U+FFFD so the output always parses */
    json_write_string(&b,
                      "a\xFF"
                      "b\xC3",
                      4);
    cr_assert_str_eq(b.data, "\"a\xEF\xBF\xBD"
                             "b\xEF\xBF\xBD\"");
    json_value *v = parse(b.data);
    cr_assert_str_eq(v->str, "a\xEF\xBF\xBD"
                             "b\xEF\xBF\xBD");
    json_free(v);
    strbuf_free(&b);

    /* embedded NUL survives a round trip */
    json_write_string(&b, "a\0b", 3);
    v = parse(b.data);
    cr_assert_eq(v->len, 3);
    cr_assert(!memcmp(v->str, "a\0b", 3));
    json_free(v);
    strbuf_free(&b);
}

Test(json, write_numbers_shortest_and_exact) {
    strbuf b = {0};
    json_write_number(&b, 0.1);
    cr_assert_str_eq(b.data, "0.1");
    strbuf_free(&b);
    json_write_number(&b, NAN);
    strbuf_puts(&b, ",");
    json_write_number(&b, -INFINITY);
    cr_assert_str_eq(b.data, "null,null");
    strbuf_free(&b);
    json_write_int(&b, INT64_MIN);
    cr_assert_str_eq(b.data, "-9223372036854775808");
    strbuf_free(&b);

    nasc_rng r;
    nasc_rng_seed(&r, 7);
    for (int i = 0; i < 2000; i++) {
        uint64_t bits = nasc_rng_next(&r);
        double d;
        memcpy(&d, &bits, sizeof d);
        if (!isfinite(d)) continue;
        json_write_number(&b, d);
        json_value *v = parse(b.data);
        cr_assert_eq(v->number, d, "%.17g wrote %s", d, b.data);
        json_free(v);
        strbuf_free(&b);
    }
}

Test(json, value_round_trip) {
    const char *src = "{\"name\":\"n\\u00e9t\",\"depth\":[1,2,-3],\"lr\":0.05,\"ok\":true,\"none\":null,"
                      "\"nest\":{\"e\":[],\"o\":{}},\"big\":1e+300}";
    json_value *v = parse(src);
    strbuf b = {0};
    json_write_value(&b, v);
    cr_assert_str_eq(b.data,
                     "{\"name\":\"n\xC3\xA9t\",\"depth\":[1,2,-3],\"lr\":0.05,\"ok\":true,\"none\":null,"
                     "\"nest\":{\"e\":[],\"o\":{}},\"big\":1e+300}");
    json_value *w = parse(b.data);
    strbuf c = {0};
    json_write_value(&c, w);
    cr_assert_str_eq(b.data, c.data, "writing is stable");
    json_free(v);
    json_free(w);
    strbuf_free(&b);
    strbuf_free(&c);
}

Test(json, utf8_validation) {
    cr_assert(json_utf8_valid("caf\xC3\xA9 \xF0\x9F\x98\x80", 10));
    cr_assert(json_utf8_valid("", 0));
    cr_assert_not(json_utf8_valid("\xC0\xAF", 2), "overlong");
    cr_assert_not(json_utf8_valid("\xED\xA0\x80", 3), "surrogate");
    cr_assert_not(json_utf8_valid("\xE2\x82", 2), "truncated");
    cr_assert_not(json_utf8_valid("ok\xFF", 3));
}

Test(json, type_names) {
    cr_assert_str_eq(json_type_name(JSON_OBJECT), "object");
    cr_assert_str_eq(json_type_name(JSON_NUMBER), "number");
    cr_assert_str_eq(json_type_name((json_type)99), "?");
}

/* Random byte edits of a valid document: every result either parses (and
 * then writes and re-reads identically) or fails with a message; never a
 * crash or a sanitizer report. */
Test(json, mutations_never_crash) {
    const char *seed = "{\"a\":[1,2.5e3,-0,\"x\\u00e9\\ud83d\\ude00\\n\"],"
                       "\"b\":{\"c\":null,\"d\":true},\"e\":\"\xC3\xA9\"}";
    size_t n0 = strlen(seed);
    char buf[256], err[256];
    nasc_rng r;
    nasc_rng_seed(&r, 1234);
    int parsed = 0;
    for (int it = 0; it < 20000; it++) {
        size_t n = n0;
        memcpy(buf, seed, n);
        int edits = 1 + (int)(nasc_rng_next(&r) % 3);
        for (int e = 0; e < edits; e++) {
            size_t at = nasc_rng_next(&r) % n;
            unsigned op = (unsigned)(nasc_rng_next(&r) % 3);
            const char *alphabet = "{}[],:\"\\u0123456789eE.-+ tfnlrsa\xC3\xA9\xFF\x01";
            char c = alphabet[nasc_rng_next(&r) % strlen(alphabet)];
            if (op == 0)
                buf[at] = c;
            else if (op == 1 && n + 1 < sizeof buf) {
                memmove(buf + at + 1, buf + at, n - at);
                buf[at] = c;
                n++;
            } else if (n > 1) {
                memmove(buf + at, buf + at + 1, n - at - 1);
                n--;
            }
        }
        json_value *v = json_parse(buf, n, err, sizeof err);
        if (!v) {
            cr_assert(!strncmp(err, "byte ", 5), "every error names a byte offset: %s", err);
            continue;
        }
        parsed++;
        strbuf b = {0}, c = {0};
        json_write_value(&b, v);
        json_value *w = json_parse(b.data, b.len, err, sizeof err);
        cr_assert_not_null(w, "written JSON re-reads: %s (%s)", b.data, err);
        json_write_value(&c, w);
        cr_assert(c.len == b.len && !memcmp(c.data, b.data, b.len));
        json_free(v);
        json_free(w);
        strbuf_free(&b);
        strbuf_free(&c);
    }
    cr_assert_gt(parsed, 100, "some mutations stay valid (%d)", parsed);
}

/* Each value knows its bytes in the text, so a part of a message can be
 * forwarded unchanged (the worker does this with the point). */
Test(json, spans_of_values) {
    const char *t = " {\"a\": [1, 2.5], \"p\": {\"x\": \"y\" } } ";
    char err[64];
    json_value *v = json_parse(t, strlen(t), err, sizeof err);
    cr_assert_not_null(v, "%s", err);
    cr_assert_eq(v->start, 1);
    cr_assert_eq(v->end, strlen(t) - 1);
    const json_value *a = json_get(v, "a"), *p = json_get(v, "p");
    cr_assert_eq(a->end - a->start, 8);
    cr_assert_eq(strncmp(t + a->start, "[1, 2.5]", 8), 0);
    cr_assert_eq(strncmp(t + p->start, "{\"x\": \"y\" }", p->end - p->start), 0);
    cr_assert_eq(p->end - p->start, strlen("{\"x\": \"y\" }"));
    const json_value *one = json_at(a, 1);
    cr_assert_eq(strncmp(t + one->start, "2.5", one->end - one->start), 0);
    json_free(v);
}

Test(json, write_str_takes_c_strings) {
    strbuf b = {0};
    json_write_str(&b, "a\"b");
    json_write_str(&b, NULL);
    cr_assert_str_eq(b.data, "\"a\\\"b\"\"\"");
    strbuf_free(&b);
}

Test(json, number_of_numbers_and_booleans) {
    const char *t = "[2.5, true, false, null, \"3\"]";
    json_value *v = json_parse(t, strlen(t), NULL, 0);
    cr_assert_not_null(v);
    cr_assert_float_eq(json_number(json_at(v, 0), -1), 2.5, 0);
    cr_assert_float_eq(json_number(json_at(v, 1), -1), 1, 0);
    cr_assert_float_eq(json_number(json_at(v, 2), -1), 0, 0);
    cr_assert_float_eq(json_number(json_at(v, 3), -1), -1, 0);
    cr_assert_float_eq(json_number(json_at(v, 4), -1), -1, 0);
    cr_assert_float_eq(json_number(NULL, 7), 7, 0);
    json_free(v);
}
