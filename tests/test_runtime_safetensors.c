/* test_runtime_safetensors.c: safetensors round trips, the exact byte
 * layout of a tiny file (what Python's safetensors expects), rejection of
 * corrupted headers and offsets, and write failures that leave no
 * partial file behind. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "data.h"
#include "safetensors.h"

static char tdir[256];
static char err[1024];

static void mk_tmp(void) {
    snprintf(tdir, sizeof tdir, "/tmp/nasc_st_XXXXXX");
    cr_assert_not_null(mkdtemp(tdir));
}

static int count_entries(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    if (d) closedir(d);
    return n;
}

static void rm_tmp(void) {
    DIR *d = opendir(tdir);
    if (!d) return;
    struct dirent *e;
    char p[512];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(p, sizeof p, "%s/%s", tdir, e->d_name);
        if (unlink(p) != 0) rmdir(p);
    }
    closedir(d);
    rmdir(tdir);
}

TestSuite(st, .init = mk_tmp, .fini = rm_tmp);

static const char *tpath(const char *name) {
    static char p[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", tdir, name);
    return p[k];
}

static unsigned char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)sz + 1);
    cr_assert_eq(fread(b, 1, (size_t)sz, f), (size_t)sz);
    fclose(f);
    *n = (size_t)sz;
    return b;
}

Test(st, round_trip) {
    float a[6] = {1, -2, 3.5f, 1e-30f, -0.0f, 65504}, b[4] = {0.25f, 0.5f, 0.75f, 1}, s[1] = {42};
    rt_st_tensor ts[4] = {
        {.name = "layer.0.weight", .rank = 2, .shape = {2, 3}, .data = a},
        {.name = "layer.0.bias", .rank = 1, .shape = {4}, .data = b},
        {.name = "scalar", .rank = 0, .data = s},
        {.name = "empty", .rank = 2, .shape = {0, 5}, .data = NULL},
    };
    const char *mk[2] = {"nasc.point", "format"};
    const char *mv[2] = {"{\"depth\": 3, \"op\": \"conv\\n\"}", "pt"};
    cr_assert_eq(rt_st_write(tpath("w.safetensors"), ts, 4, mk, mv, 2, err, sizeof err), 0, "%s", err);
    cr_assert_eq(count_entries(tdir), 1, "no temporary file left behind");

    rt_st_file *f = rt_st_read(tpath("w.safetensors"), err, sizeof err);
    cr_assert_not_null(f, "%s", err);
    cr_assert_eq(rt_st_count(f), 4);
    for (int i = 0; i < 4; i++) {
        const rt_st_tensor *t = rt_st_find(f, ts[i].name);
        cr_assert_not_null(t, "%s", ts[i].name);
        cr_assert_eq(rt_st_get(f, i), t, "order is kept");
        cr_assert_eq(t->rank, ts[i].rank);
        int64_t n = 1;
        for (int d = 0; d < t->rank; d++) {
            cr_assert_eq(t->shape[d], ts[i].shape[d]);
            n *= t->shape[d];
        }
        if (n) {
            cr_assert(!memcmp(t->data, ts[i].data, (size_t)n * 4), "%s data", ts[i].name);
            cr_assert_eq((uintptr_t)t->data % 4, 0, "float-aligned");
        }
    }
    cr_assert_str_eq(rt_st_meta(f, "nasc.point"), mv[0]);
    cr_assert_str_eq(rt_st_meta(f, "format"), "pt");
    cr_assert_null(rt_st_meta(f, "nope"));
    cr_assert_null(rt_st_find(f, "nope"));
    cr_assert_null(rt_st_get(f, 4));
    cr_assert_null(rt_st_get(f, -1));
    rt_st_free(f);

    /* overwriting an existing file works (rename replaces it) */
    cr_assert_eq(rt_st_write(tpath("w.safetensors"), ts, 1, NULL, NULL, 0, err, sizeof err), 0, "%s", err);
    f = rt_st_read(tpath("w.safetensors"), err, sizeof err);
    cr_assert_not_null(f, "%s", err);
    cr_assert_eq(rt_st_count(f), 1);
    cr_assert_null(rt_st_meta(f, "format"));
    rt_st_free(f);
}

Test(st, exact_byte_layout) {
    float w[2] = {1.0f, -2.0f};
    rt_st_tensor t = {.name = "w", .rank = 1, .shape = {2}, .data = w};
    cr_assert_eq(rt_st_write(tpath("a"), &t, 1, NULL, NULL, 0, err, sizeof err), 0, "%s", err);
    size_t n;
    unsigned char *b = slurp(tpath("a"), &n);
    const char *hdr = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    size_t hl = strlen(hdr), padded = (hl + 7) / 8 * 8;
    cr_assert_eq(n, 8 + padded + 8);
    unsigned char len8[8] = {(unsigned char)padded, 0, 0, 0, 0, 0, 0, 0};
    cr_assert(!memcmp(b, len8, 8), "u64 little-endian header length");
    cr_assert(!memcmp(b + 8, hdr, hl));
    for (size_t i = hl; i < padded; i++) cr_assert_eq(b[8 + i], ' ', "padding with spaces");
    unsigned char data[8] = {0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0};
    cr_assert(!memcmp(b + 8 + padded, data, 8), "raw little-endian float32");
    free(b);

    const char *mk[1] = {"k"}, *mv[1] = {"v\""};
    cr_assert_eq(rt_st_write(tpath("b"), &t, 1, mk, mv, 1, err, sizeof err), 0, "%s", err);
    b = slurp(tpath("b"), &n);
    hdr =
        "{\"__metadata__\":{\"k\":\"v\\\"\"},\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    hl = strlen(hdr);
    padded = (hl + 7) / 8 * 8;
    cr_assert_eq(b[0], padded);
    cr_assert(!memcmp(b + 8, hdr, hl), "%.*s", (int)padded, (char *)b + 8);
    cr_assert_eq(n % 8, 0);
    free(b);
}

/* Writes an arbitrary header (padded or not) followed by `data_len` bytes. */
static void write_raw(const char *path, const char *hdr, uint64_t claimed_len, size_t data_len) {
    FILE *f = fopen(path, "wb");
    unsigned char len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)(claimed_len >> (8 * i));
    fwrite(len8, 1, 8, f);
    fwrite(hdr, 1, strlen(hdr), f);
    for (size_t i = 0; i < data_len; i++) fputc(0, f);
    fclose(f);
}

static void expect_bad(const char *hdr, size_t data_len, const char *msg) {
    write_raw(tpath("bad"), hdr, strlen(hdr), data_len);
    err[0] = '\0';
    rt_st_file *f = rt_st_read(tpath("bad"), err, sizeof err);
    cr_assert_null(f, "should be rejected: %s", hdr);
    cr_assert(strstr(err, msg), "header %s: got \"%s\", want \"%s\"", hdr, err, msg);
    cr_assert(strstr(err, "bad"), "names the file: %s", err);
}

#define ENTRY(name, dtype, shape, b, e) \
    "\"" name "\":{\"dtype\":\"" dtype "\",\"shape\":" shape ",\"data_offsets\":[" #b "," #e "]}"

Test(st, corrupted_headers) {
    expect_bad("{" ENTRY("a", "F16", "[2]", 0, 4) "}", 4,
               "tensor \"a\" has dtype F16: only F32 is supported");
    expect_bad("{" ENTRY("a", "BF16", "[2]", 0, 4) "}", 4, "has dtype BF16");
    char want[64];
    snprintf(want, sizeof want, "invalid JSON header: byte %zu: trailing comma",
             strlen("{" ENTRY("a", "F32", "[2]", 0, 8) ","));
    expect_bad("{" ENTRY("a", "F32", "[2]", 0, 8) ",}", 8, want);
    expect_bad("[1,2]", 0, "header is not a JSON object");
    expect_bad("{" ENTRY("a", "F32", "[3]", 0, 8) "}", 8, "shape needs 12 bytes but data_offsets span 8");
    expect_bad("{" ENTRY("a", "F32", "[-2]", 0, 8) "}", 8, "shape must hold non-negative integers");
    expect_bad("{" ENTRY("a", "F32", "[2.5]", 0, 8) "}", 8, "shape must hold non-negative integers");
    expect_bad("{" ENTRY("a", "F32", "[2]", 8, 0) "}", 8, "data_offsets end before begin");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8,
               "data_offsets must be [begin, end]");
    expect_bad("{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "missing dtype");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8, "missing shape");
    expect_bad("{\"a\":[]}", 0, "entry is not an object");
    expect_bad("{" ENTRY("a", "F32", "[1,1,1,1,1,1,1,1,1]", 0, 4) "}", 4, "rank 9 exceeds 8");
    expect_bad("{" ENTRY("a", "F32", "[2]", 0, 8) "," ENTRY("a", "F32", "[2]", 8, 16) "}", 16,
               "duplicate tensor name \"a\"");
    expect_bad("{\"__metadata__\":{\"k\":1}}", 0, "metadata \"k\" must be a string, not number");
    expect_bad("{\"__metadata__\":[]}", 0, "\"__metadata__\" must be an object");
    expect_bad("{\"__metadata__\":{\"k\":\"a\",\"k\":\"b\"}}", 0, "duplicate metadata key \"k\"");
    expect_bad("{\"__metadata__\":{},\"__metadata__\":{}}", 0, "duplicate __metadata__");
    expect_bad("{" ENTRY("a", "F32", "[4294967296,4294967296]", 0, 8) "}", 8, "shape needs -1 bytes");
}

Test(st, corrupted_offsets) {
    /* offsets beyond the data section */
    expect_bad("{" ENTRY("a", "F32", "[2]", 0, 8) "}", 4, "tensor data covers 8 bytes but the file holds 4");
    /* data section longer than the tensors */
    expect_bad("{" ENTRY("a", "F32", "[2]", 0, 8) "}", 12, "covers 8 bytes but the file holds 12");
    /* overlapping tensors */
    expect_bad("{" ENTRY("a", "F32", "[2]", 0, 8) "," ENTRY("b", "F32", "[2]", 4, 12) "}", 12,
               "tensor \"b\" overlaps another at byte 4 of the data (expected 8)");
    /* a hole between tensors */
    expect_bad("{" ENTRY("a", "F32", "[1]", 0, 4) "," ENTRY("b", "F32", "[1]", 8, 12) "}", 12,
               "tensor \"b\" leaves a gap: starts at byte 8 of the data (expected 4)");
    /* not starting at 0 */
    expect_bad("{" ENTRY("a", "F32", "[1]", 4, 8) "}", 8, "leaves a gap");
}

Test(st, out_of_order_offsets_are_fine) {
    /* tensors need not be listed in data order */
    const char *hdr = "{" ENTRY("b", "F32", "[1]", 4, 8) "," ENTRY("a", "F32", "[1]", 0, 4) "}";
    FILE *f = fopen(tpath("o"), "wb");
    unsigned char len8[8] = {(unsigned char)strlen(hdr)};
    fwrite(len8, 1, 8, f);
    fwrite(hdr, 1, strlen(hdr), f);
    float v[2] = {3, 7};
    fwrite(v, 4, 2, f);
    fclose(f);
    rt_st_file *s = rt_st_read(tpath("o"), err, sizeof err);
    cr_assert_not_null(s, "%s", err);
    cr_assert_eq(rt_st_find(s, "a")->data[0], 3);
    cr_assert_eq(rt_st_find(s, "b")->data[0], 7);
    cr_assert_str_eq(rt_st_get(s, 0)->name, "b");
    rt_st_free(s);
}

Test(st, bad_lengths_and_files) {
    FILE *f = fopen(tpath("short"), "wb");
    fwrite("abc", 1, 3, f);
    fclose(f);
    cr_assert_null(rt_st_read(tpath("short"), err, sizeof err));
    cr_assert(strstr(err, "too short for a safetensors file (3 bytes)"), "%s", err);

    write_raw(tpath("long"), "{}", 1000, 0);
    cr_assert_null(rt_st_read(tpath("long"), err, sizeof err));
    cr_assert(strstr(err, "header length 1000 is impossible for a file of 10 bytes"), "%s", err);

    write_raw(tpath("huge"), "{}", (uint64_t)1 << 62, 0);
    cr_assert_null(rt_st_read(tpath("huge"), err, sizeof err));
    cr_assert(strstr(err, "is impossible"), "%s", err);

    write_raw(tpath("empty"), "", 0, 0);
    cr_assert_null(rt_st_read(tpath("empty"), err, sizeof err));
    cr_assert(strstr(err, "invalid JSON header: byte 0: unexpected end of input"), "%s", err);

    write_raw(tpath("ok"), "{}      ", 8, 0);
    rt_st_file *s = rt_st_read(tpath("ok"), err, sizeof err);
    cr_assert_not_null(s, "an empty file with a padded header is valid: %s", err);
    cr_assert_eq(rt_st_count(s), 0);
    rt_st_free(s);

    cr_assert_null(rt_st_read(tpath("missing"), err, sizeof err));
    cr_assert(strstr(err, "missing: cannot open"), "%s", err);
    cr_assert_null(rt_st_read(NULL, err, sizeof err));
}

Test(st, write_errors) {
    float w[2] = {1, 2};
    rt_st_tensor t[2] = {{.name = "w", .rank = 1, .shape = {2}, .data = w},
                         {.name = "w", .rank = 1, .shape = {2}, .data = w}};
    cr_assert_eq(rt_st_write(tpath("x"), t, 2, NULL, NULL, 0, err, sizeof err), -1);
    cr_assert(strstr(err, "duplicate tensor name \"w\""), "%s", err);
    t[1].name = "__metadata__";
    cr_assert_eq(rt_st_write(tpath("x"), t, 2, NULL, NULL, 0, err, sizeof err), -1);
    cr_assert(strstr(err, "reserved"), "%s", err);
    t[1].name = "v";
    t[1].shape[0] = -1;
    cr_assert_eq(rt_st_write(tpath("x"), t, 2, NULL, NULL, 0, err, sizeof err), -1);
    cr_assert(strstr(err, "invalid shape"), "%s", err);
    t[1].shape[0] = 2;
    t[1].data = NULL;
    cr_assert_eq(rt_st_write(tpath("x"), t, 2, NULL, NULL, 0, err, sizeof err), -1);
    cr_assert(strstr(err, "no data"), "%s", err);
    t[1].data = w;
    t[1].rank = 9;
    cr_assert_eq(rt_st_write(tpath("x"), t, 2, NULL, NULL, 0, err, sizeof err), -1);
    cr_assert(strstr(err, "rank 9"), "%s", err);
    t[1].rank = 1;
    const char *mk[2] = {"a", "a"}, *mv[2] = {"1", "2"};
    cr_assert_eq(rt_st_write(tpath("x"), t, 2, mk, mv, 2, err, sizeof err), -1);
    cr_assert(strstr(err, "duplicate metadata key \"a\""), "%s", err);
    mk[1] = "b";
    mv[1] = "\xC0\xAF";
    cr_assert_eq(rt_st_write(tpath("x"), t, 2, mk, mv, 2, err, sizeof err), -1);
    cr_assert(strstr(err, "metadata entry 1 is not valid UTF-8"), "%s", err);
    t[1].name = "caf\xE9";
    cr_assert_eq(rt_st_write(tpath("x"), t, 2, NULL, NULL, 0, err, sizeof err), -1);
    cr_assert(strstr(err, "tensor 1: name is not valid UTF-8"), "%s", err);
    t[1].name = "v";
    cr_assert_eq(count_entries(tdir), 0, "nothing written on invalid input");

    cr_assert_eq(rt_st_write("/nonexistent-dir/x.safetensors", t, 2, NULL, NULL, 0, err, sizeof err), -1);
    cr_assert(strstr(err, "cannot create a temporary file"), "%s", err);

    /* rename onto a directory fails: the temporary file is removed */
    cr_assert_eq(mkdir(tpath("adir"), 0755), 0);
    cr_assert_eq(rt_st_write(tpath("adir"), t, 2, NULL, NULL, 0, err, sizeof err), -1);
    cr_assert(strstr(err, "write failed"), "%s", err);
    cr_assert_eq(count_entries(tdir), 1, "only the directory remains");

    /* an unwritable directory (not testable as root, who may write anyway) */
    if (geteuid() != 0) {
        cr_assert_eq(chmod(tpath("adir"), 0555), 0);
        char p[600];
        snprintf(p, sizeof p, "%s/x", tpath("adir"));
        cr_assert_eq(rt_st_write(p, t, 2, NULL, NULL, 0, err, sizeof err), -1);
        chmod(tpath("adir"), 0755);
    }
}

/* Random byte edits of a valid file: rt_st_read either rejects it with a
 * message or returns tensors whose data lies inside the file (ASan checks
 * every access made here). */
Test(st, mutations_never_crash) {
    float w[6] = {1, 2, 3, 4, 5, 6}, b[2] = {7, 8};
    rt_st_tensor ts[2] = {{.name = "w", .rank = 2, .shape = {2, 3}, .data = w},
                          {.name = "b", .rank = 1, .shape = {2}, .data = b}};
    const char *mk[1] = {"m"}, *mv[1] = {"x"};
    cr_assert_eq(rt_st_write(tpath("good"), ts, 2, mk, mv, 1, err, sizeof err), 0, "%s", err);
    size_t n0;
    unsigned char *orig = slurp(tpath("good"), &n0), *buf = malloc(n0 + 16);
    nasc_rng r;
    nasc_rng_seed(&r, 77);
    int accepted = 0;
    for (int it = 0; it < 400; it++) {
        size_t n = n0;
        memcpy(buf, orig, n0);
        int edits = 1 + (int)(nasc_rng_next(&r) % 2);
        for (int e = 0; e < edits; e++) {
            size_t at = nasc_rng_next(&r) % n;
            const char *alphabet = "0123456789[]{},:\\\"FUI8 ";
            if (nasc_rng_next(&r) % 4 == 0)
                buf[at] = (unsigned char)nasc_rng_next(&r);
            else
                buf[at] = (unsigned char)alphabet[nasc_rng_next(&r) % strlen(alphabet)];
            if (nasc_rng_next(&r) % 8 == 0) n = at + 1; /* truncation */
        }
        FILE *f = fopen(tpath("mut"), "wb");
        fwrite(buf, 1, n, f);
        fclose(f);
        rt_st_file *s = rt_st_read(tpath("mut"), err, sizeof err);
        if (!s) {
            cr_assert(strlen(err) > 0, "a reason is given");
            continue;
        }
        accepted++;
        double sum = 0;
        for (int i = 0; i < rt_st_count(s); i++) {
            const rt_st_tensor *t = rt_st_get(s, i);
            int64_t k = 1;
            for (int d = 0; d < t->rank; d++) k *= t->shape[d];
            for (int64_t j = 0; j < k; j++) sum += t->data[j];
        }
        volatile double sink = sum; /* keeps the reads that ASan checks */
        (void)sink;
        rt_st_free(s);
    }
    cr_assert_gt(accepted, 0, "some edits (e.g. in the data) stay valid");
    free(orig);
    free(buf);
}
