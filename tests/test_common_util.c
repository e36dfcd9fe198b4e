/* test_common_util.c: the common layer's small pieces: the growable
 * buffer, the FNV-1a hash, the error helper and the PRNG's edge cases
 * (the JSON reader and writer have test_common_json.c). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "err.h"
#include "hash.h"
#include "nasc/rng.h"

Test(strbuf, appends_printf_and_take) {
    strbuf b = {0};
    cr_assert_eq(strbuf_puts(&b, "ab"), 0);
    cr_assert_eq(strbuf_append(&b, "cdef", 2), 0);
    cr_assert_eq(strbuf_printf(&b, "-%d-%s", 42, "x"), 0);
    cr_assert_str_eq(b.data, "abcd-42-x");
    cr_assert_eq(b.len, 9);
    char *s = strbuf_take(&b);
    cr_assert_str_eq(s, "abcd-42-x");
    cr_assert_null(b.data);
    cr_assert_eq(b.len, 0);
    free(s);
}

Test(strbuf, long_printf_and_growth) {
    strbuf b = {0};
    char big[1000];
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = 0;
    for (int i = 0; i < 50; i++) cr_assert_eq(strbuf_printf(&b, "%s%d", big, i), 0);
    cr_assert_eq(b.len, 50 * 999 + 10 + 40 * 2);
    cr_assert_eq(b.data[b.len], 0);
    cr_assert_eq(strncmp(b.data + 999, "0qq", 3), 0);
    strbuf_free(&b);
}

Test(strbuf, empty_take_is_empty_string) {
    strbuf b = {0};
    char *s = strbuf_take(&b);
    cr_assert_str_eq(s, "");
    free(s);
}

Test(strbuf, failure_is_sticky) {
    strbuf b = {0};
    strbuf_puts(&b, "x");
    b.failed = true; /* as after a failed realloc */
    cr_assert_eq(strbuf_puts(&b, "y"), -1);
    cr_assert_eq(strbuf_printf(&b, "%d", 1), -1);
    cr_assert_eq(b.len, 1);
    cr_assert_null(strbuf_take(&b));
    cr_assert_null(b.data);
}

/* Values of nasc's FNV-1a (its offset basis, see hash.h): run stores and
 * checkpoint names were written with these, so they must not change. */
Test(hash, fnv1a_reference_values) {
    cr_assert_eq(hash_fnv1a(""), 0x14650fb0739d0383ull);
    cr_assert_eq(hash_fnv1a(NULL), 0x14650fb0739d0383ull);
    cr_assert_eq(hash_fnv1a("a"), 0x44bd8ad473cd9906ull);
    cr_assert_eq(hash_fnv1a("foobar"), 0x88fad7c0a8ff07f2ull);
    cr_assert_eq(hash_fnv1a_bytes(hash_fnv1a_bytes(HASH_FNV1A_SEED, "foo", 3), "bar", 3),
                 hash_fnv1a("foobar"));
}

Test(err, formats_and_returns_minus_one) {
    char e[16];
    cr_assert_eq(err_set(e, sizeof e, "bad %s at %d", "thing", 7), -1);
    cr_assert_str_eq(e, "bad thing at 7");
    cr_assert_eq(err_set(e, 8, "truncated message"), -1);
    cr_assert_str_eq(e, "truncat");
    cr_assert_eq(err_set(NULL, 0, "nowhere"), -1);
}

Test(rng, below_and_splitmix_stream) {
    nasc_rng r, q;
    nasc_rng_seed(&r, 5);
    q = r;
    cr_assert_eq(nasc_rng_below(&r, 1), 0);
    cr_assert_eq(nasc_rng_below(&r, 0), 0);
    cr_assert_eq(memcmp(&r, &q, sizeof r), 0, "n <= 1 draws nothing");
    for (int i = 0; i < 1000; i++) cr_assert_lt(nasc_rng_below(&r, 7), 7);
    uint64_t s = 0;
    cr_assert_eq(nasc_rng_splitmix64(&s), 0xe220a8397b1dcdafull);
    cr_assert_eq(s, 0x9e3779b97f4a7c15ull);
}
