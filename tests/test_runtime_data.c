/* test_runtime_data.c: the data loaders on files generated here (IDX
 * gzipped and plain, uint8/int32/float32; CSV), each kind of malformed or
 * truncated file, the real Fashion-MNIST when installed, the seeded
 * train/validation split and the PRNG. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include "data.h"

static char tdir[256];
static char err[1024];

static void mk_tmp(void) {
    snprintf(tdir, sizeof tdir, "/tmp/nasc_data_XXXXXX");
    cr_assert_not_null(mkdtemp(tdir));
}

static void rm_tmp(void) {
    DIR *d = opendir(tdir);
    if (!d) return;
    struct dirent *e;
    char p[512];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(p, sizeof p, "%s/%s", tdir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(tdir);
}

TestSuite(idx, .init = mk_tmp, .fini = rm_tmp);
TestSuite(csv, .init = mk_tmp, .fini = rm_tmp);
TestSuite(fmnist, .init = mk_tmp, .fini = rm_tmp);

static const char *tpath(const char *name) {
    static char p[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", tdir, name);
    return p[k];
}

static void write_bytes(const char *path, const void *b, size_t n, int gz) {
    if (gz) {
        gzFile f = gzopen(path, "wb");
        cr_assert_not_null(f);
        if (n) cr_assert_eq(gzwrite(f, b, (unsigned)n), (int)n);
        cr_assert_eq(gzclose(f), Z_OK);
    } else {
        FILE *f = fopen(path, "wb");
        cr_assert_not_null(f);
        cr_assert_eq(fwrite(b, 1, n, f), n);
        fclose(f);
    }
}

static size_t put_be32(unsigned char *b, uint32_t v) {
    b[0] = (unsigned char)(v >> 24), b[1] = (unsigned char)(v >> 16), b[2] = (unsigned char)(v >> 8);
    b[3] = (unsigned char)v;
    return 4;
}

/* An IDX header (magic type/rank + dims) followed by `payload` bytes;
 * returns the total size written to buf. */
static size_t make_idx(unsigned char *buf, int type, int rank, const uint32_t *dims, const void *payload,
                       size_t plen) {
    size_t n = 0;
    buf[n++] = 0, buf[n++] = 0, buf[n++] = (unsigned char)type, buf[n++] = (unsigned char)rank;
    for (int i = 0; i < rank; i++) n += put_be32(buf + n, dims[i]);
    memcpy(buf + n, payload, plen);
    return n + plen;
}

/* 5 images of 3x2 pixels (values i*7+j) and labels 0..4 mod 3. */
static void write_small_pair(const char *img, const char *lab, int gz) {
    unsigned char pix[30], buf[128], labels[5] = {2, 0, 1, 2, 1};
    for (int i = 0; i < 30; i++) pix[i] = (unsigned char)(i * 8 + 7);
    uint32_t d3[3] = {5, 3, 2}, d1[1] = {5};
    write_bytes(img, buf, make_idx(buf, 0x08, 3, d3, pix, 30), gz);
    write_bytes(lab, buf, make_idx(buf, 0x08, 1, d1, labels, 5), gz);
}

static void check_small_pair(const rt_dataset *d) {
    cr_assert_eq(d->n, 5);
    cr_assert_eq(d->sample.rank, 3);
    cr_assert(d->sample.d[0] == 1 && d->sample.d[1] == 3 && d->sample.d[2] == 2);
    for (int i = 0; i < 30; i++)
        cr_assert_float_eq(d->x[i], (float)(i * 8 + 7) / 255.0f, 1e-7, "pixel %d", i);
    int32_t want[5] = {2, 0, 1, 2, 1};
    for (int i = 0; i < 5; i++) cr_assert_eq(d->y[i], want[i]);
    cr_assert_eq(d->n_classes, 3);
}

Test(idx, round_trip_gzip) {
    write_small_pair(tpath("img.gz"), tpath("lab.gz"), 1);
    rt_dataset d;
    cr_assert_eq(rt_load_idx(tpath("img.gz"), tpath("lab.gz"), &d, err, sizeof err), 0, "%s", err);
    check_small_pair(&d);
    rt_dataset_free(&d);
    cr_assert_null(d.x, "free resets the struct");
}

Test(idx, round_trip_uncompressed) {
    write_small_pair(tpath("img"), tpath("lab"), 0);
    rt_dataset d;
    cr_assert_eq(rt_load_idx(tpath("img"), tpath("lab"), &d, err, sizeof err), 0, "%s", err);
    check_small_pair(&d);
    rt_dataset_free(&d);
}

Test(idx, images_only) {
    write_small_pair(tpath("img.gz"), tpath("lab.gz"), 1);
    rt_dataset d;
    cr_assert_eq(rt_load_idx_images(tpath("img.gz"), &d, err, sizeof err), 0, "%s", err);
    cr_assert_eq(d.n, 5);
    cr_assert_null(d.y);
    cr_assert_float_eq(d.x[29], (29 * 8 + 7) / 255.0f, 1e-7);
    rt_dataset_free(&d);
}

Test(idx, float32_rank2_and_int32_labels) {
    float vals[12];
    unsigned char payload[48], buf[128];
    for (int i = 0; i < 12; i++) {
        vals[i] = (float)i * -0.375f + 1e-3f;
        uint32_t u;
        memcpy(&u, &vals[i], 4);
        put_be32(payload + 4 * i, u);
    }
    uint32_t d2[2] = {4, 3}, d1[1] = {4};
    write_bytes(tpath("x"), buf, make_idx(buf, 0x0D, 2, d2, payload, 48), 0);
    unsigned char lab[16];
    for (int i = 0; i < 4; i++) put_be32(lab + 4 * i, (uint32_t)(i * 3));
    write_bytes(tpath("y"), buf, make_idx(buf, 0x0C, 1, d1, lab, 16), 1);
    rt_dataset d;
    cr_assert_eq(rt_load_idx(tpath("x"), tpath("y"), &d, err, sizeof err), 0, "%s", err);
    cr_assert_eq(d.sample.rank, 1);
    cr_assert_eq(d.sample.d[0], 3);
    for (int i = 0; i < 12; i++) cr_assert_eq(d.x[i], vals[i], "float32 values are exact");
    cr_assert_eq(d.y[3], 9);
    cr_assert_eq(d.n_classes, 10);
    rt_dataset_free(&d);
}

Test(idx, rank4_images_keep_channels) {
    unsigned char pix[2 * 2 * 3 * 3], buf[128];
    for (size_t i = 0; i < sizeof pix; i++) pix[i] = (unsigned char)i;
    uint32_t d4[4] = {2, 2, 3, 3};
    write_bytes(tpath("x"), buf, make_idx(buf, 0x08, 4, d4, pix, sizeof pix), 1);
    rt_dataset d;
    cr_assert_eq(rt_load_idx_images(tpath("x"), &d, err, sizeof err), 0, "%s", err);
    cr_assert(d.sample.rank == 3 && d.sample.d[0] == 2 && d.sample.d[1] == 3 && d.sample.d[2] == 3);
    rt_dataset_free(&d);
}

/* Loads images `img` with the small valid label file, expecting failure. */
static void expect_images_error(const char *img, const char *msg) {
    rt_dataset d;
    memset(&d, 0, sizeof d);
    err[0] = '\0';
    cr_assert_eq(rt_load_idx_images(img, &d, err, sizeof err), -1, "should fail: %s", msg);
    cr_assert(strstr(err, msg), "got \"%s\", want \"%s\"", err, msg);
    cr_assert(strstr(err, img), "the message names the file: %s", err);
    cr_assert_null(d.x);
}

Test(idx, bad_magic) {
    unsigned char buf[64] = {0x1f, 0x00, 0x08, 0x03};
    write_bytes(tpath("m"), buf, 20, 0);
    expect_images_error(tpath("m"), "not an IDX file (bad magic 0x1F000803");
}

Test(idx, unsupported_type_and_rank) {
    unsigned char buf[64], pix[4] = {0};
    uint32_t d2[2] = {2, 1};
    write_bytes(tpath("t"), buf, make_idx(buf, 0x0B, 2, d2, pix, 4), 1);
    expect_images_error(tpath("t"), "unsupported IDX element type 0x0B (int16)");
    write_bytes(tpath("r"), buf, make_idx(buf, 0x08, 0, d2, pix, 0), 1);
    expect_images_error(tpath("r"), "unsupported IDX rank 0");
    uint32_t d1[1] = {4};
    write_bytes(tpath("one"), buf, make_idx(buf, 0x08, 1, d1, pix, 4), 1);
    expect_images_error(tpath("one"), "an image file needs at least 2 dimensions");
}

Test(idx, zero_and_huge_dims) {
    unsigned char buf[64], pix[4] = {0};
    uint32_t dz[3] = {2, 0, 2}, dh[3] = {0xFFFFFFFFu, 0xFFFFFFFFu, 28};
    write_bytes(tpath("z"), buf, make_idx(buf, 0x08, 3, dz, pix, 0), 1);
    expect_images_error(tpath("z"), "IDX dimension 1 is zero");
    write_bytes(tpath("h"), buf, make_idx(buf, 0x08, 3, dh, pix, 4), 1);
    expect_images_error(tpath("h"), "IDX dimensions too large");
}

Test(idx, truncated_header_and_data) {
    unsigned char buf[128], pix[30] = {0};
    uint32_t d3[3] = {5, 3, 2};
    size_t n = make_idx(buf, 0x08, 3, d3, pix, 30);
    write_bytes(tpath("td.gz"), buf, n - 1, 1);
    expect_images_error(tpath("td.gz"), "truncated: the header promises 30 data bytes, found 29");
    write_bytes(tpath("th"), buf, 9, 0);
    expect_images_error(tpath("th"), "truncated IDX header: expected 16 bytes, found 9");
    write_bytes(tpath("tiny"), buf, 2, 0);
    expect_images_error(tpath("tiny"), "not an IDX file (only 2 bytes)");
    write_bytes(tpath("empty.gz"), buf, 0, 1);
    expect_images_error(tpath("empty.gz"), "not an IDX file (only 0 bytes)");
}

Test(idx, trailing_data) {
    unsigned char buf[128], pix[33] = {0};
    uint32_t d3[3] = {5, 3, 2};
    write_bytes(tpath("tr.gz"), buf, make_idx(buf, 0x08, 3, d3, pix, 33), 1);
    expect_images_error(tpath("tr.gz"),
                        "3 bytes of trailing data: the header promises 30 data bytes, found 33");
}

Test(idx, corrupt_gzip_stream) {
    /* compress incompressible data so the file is long, then cut it */
    enum { N = 4000 };
    unsigned char *raw = malloc(N + 16);
    uint32_t d2[2] = {40, 100};
    nasc_rng r;
    nasc_rng_seed(&r, 3);
    unsigned char *pix = malloc(N);
    for (int i = 0; i < N; i++) pix[i] = (unsigned char)nasc_rng_next(&r);
    size_t n = make_idx(raw, 0x08, 2, d2, pix, N);
    write_bytes(tpath("c.gz"), raw, n, 1);
    FILE *f = fopen(tpath("c.gz"), "rb");
    unsigned char *gz = malloc(2 * N);
    size_t gl = fread(gz, 1, 2 * N, f);
    fclose(f);
    write_bytes(tpath("cut.gz"), gz, gl / 2, 0);
    rt_dataset d;
    cr_assert_eq(rt_load_idx_images(tpath("cut.gz"), &d, err, sizeof err), -1);
    cr_assert(strstr(err, "truncated"), "%s", err);
    cr_assert(strstr(err, "cut.gz"), "%s", err);
    gz[gl - 5] ^= 0xFF; /* only the trailer's CRC-32: the data inflates but does not check */
    write_bytes(tpath("crc.gz"), gz, gl, 0);
    cr_assert_eq(rt_load_idx_images(tpath("crc.gz"), &d, err, sizeof err), -1);
    cr_assert(strstr(err, "crc.gz: corrupt compressed data (incorrect data check)"), "%s", err);
    gz[gl - 5] ^= 0xFF;
    gz[gl / 2] ^= 0xFF; /* a flipped byte in the deflate stream */
    gz[gl - 5] ^= 0xFF; /* and in the trailer's CRC-32, in case the first still inflates */
    write_bytes(tpath("flip.gz"), gz, gl, 0);
    cr_assert_eq(rt_load_idx_images(tpath("flip.gz"), &d, err, sizeof err), -1);
    cr_assert(strstr(err, "flip.gz"), "%s", err);
    free(gz);
    free(pix);
    free(raw);
}

Test(idx, float32_non_finite_rejected) {
    unsigned char payload[8], buf[64];
    float v[2] = {1.0f, NAN};
    for (int i = 0; i < 2; i++) {
        uint32_t u;
        memcpy(&u, &v[i], 4);
        put_be32(payload + 4 * i, u);
    }
    uint32_t d2[2] = {1, 2};
    write_bytes(tpath("nan"), buf, make_idx(buf, 0x0D, 2, d2, payload, 8), 0);
    expect_images_error(tpath("nan"), "element 1 is not a finite number");
}

Test(idx, label_faults) {
    write_small_pair(tpath("img.gz"), tpath("lab.gz"), 1);
    unsigned char buf[128], lab[8] = {0, 1, 2, 3};
    uint32_t d1[1] = {4};
    write_bytes(tpath("l4.gz"), buf, make_idx(buf, 0x08, 1, d1, lab, 4), 1);
    rt_dataset d;
    cr_assert_eq(rt_load_idx(tpath("img.gz"), tpath("l4.gz"), &d, err, sizeof err), -1);
    cr_assert(strstr(err, "4 labels but the image file has 5 images"), "%s", err);
    cr_assert_null(d.x, "nothing leaks into the output on failure");

    cr_assert_eq(rt_load_idx(tpath("img.gz"), tpath("img.gz"), &d, err, sizeof err), -1);
    cr_assert(strstr(err, "a label file must be 1-D uint8 or int32 (found 3-D uint8)"), "%s", err);

    unsigned char l32[20];
    uint32_t d5[1] = {5};
    for (int i = 0; i < 5; i++) put_be32(l32 + 4 * i, i == 3 ? 0xFFFFFFFFu : 1u);
    write_bytes(tpath("neg"), buf, make_idx(buf, 0x0C, 1, d5, l32, 20), 0);
    cr_assert_eq(rt_load_idx(tpath("img.gz"), tpath("neg"), &d, err, sizeof err), -1);
    cr_assert(strstr(err, "label -1 of sample 3 is outside 0..255"), "%s", err);
    put_be32(l32 + 12, 256);
    write_bytes(tpath("big"), buf, make_idx(buf, 0x0C, 1, d5, l32, 20), 0);
    cr_assert_eq(rt_load_idx(tpath("img.gz"), tpath("big"), &d, err, sizeof err), -1);
    cr_assert(strstr(err, "label 256 of sample 3"), "%s", err);

    unsigned char lt[5] = {1, 1, 1, 1, 1};
    write_bytes(tpath("lt.gz"), buf, make_idx(buf, 0x08, 1, d5, lt, 4), 1);
    cr_assert_eq(rt_load_idx(tpath("img.gz"), tpath("lt.gz"), &d, err, sizeof err), -1);
    cr_assert(strstr(err, "lt.gz: truncated: the header promises 5 data bytes, found 4"), "%s", err);
}

Test(idx, missing_file) {
    rt_dataset d;
    cr_assert_eq(rt_load_idx(tpath("nope.gz"), tpath("nope2.gz"), &d, err, sizeof err), -1);
    cr_assert(strstr(err, "nope.gz: cannot open"), "%s", err);
    cr_assert_eq(rt_load_idx(NULL, NULL, &d, err, sizeof err), -1);
}

/* Random edits of a valid image/label pair: each load either fails with a
 * message naming a file or yields consistent sizes (ASan checks reads). */
Test(idx, mutations_never_crash) {
    write_small_pair(tpath("img"), tpath("lab"), 0);
    unsigned char img[64], lab[32];
    FILE *f = fopen(tpath("img"), "rb");
    size_t ni = fread(img, 1, sizeof img, f);
    fclose(f);
    f = fopen(tpath("lab"), "rb");
    size_t nl = fread(lab, 1, sizeof lab, f);
    fclose(f);
    nasc_rng r;
    nasc_rng_seed(&r, 31);
    int ok = 0;
    for (int it = 0; it < 400; it++) {
        unsigned char a[64], b[32];
        memcpy(a, img, ni);
        memcpy(b, lab, nl);
        size_t na = ni, nb = nl;
        unsigned char *t = it % 2 ? a : b;
        size_t *tn = it % 2 ? &na : &nb;
        size_t at = nasc_rng_next(&r) % 16 % *tn; /* mostly the header */
        t[at] = (unsigned char)(nasc_rng_next(&r) % 4 ? nasc_rng_next(&r) % 8 : nasc_rng_next(&r));
        if (nasc_rng_next(&r) % 4 == 0) *tn = at + 1;
        write_bytes(tpath("mi"), a, na, it % 3 == 0);
        write_bytes(tpath("ml"), b, nb, it % 3 == 0);
        rt_dataset d;
        memset(&d, 0, sizeof d);
        if (rt_load_idx(tpath("mi"), tpath("ml"), &d, err, sizeof err)) {
            cr_assert(strstr(err, tdir), "the message names the file: %s", err);
            continue;
        }
        ok++;
        int64_t k = d.n * ir_shape_numel(&d.sample);
        double s = 0;
        for (int64_t i = 0; i < k; i++) s += d.x[i];
        for (int64_t i = 0; i < d.n; i++) cr_assert(d.y[i] >= 0 && d.y[i] < d.n_classes);
        volatile double sink = s;
        (void)sink;
        rt_dataset_free(&d);
    }
    cr_assert_gt(ok, 0, "edits of pixel values or labels stay valid");
}

/* ---------------- Fashion-MNIST ---------------- */

Test(fmnist, missing_dir_names_the_package) {
    rt_dataset tr, te;
    cr_assert_eq(rt_load_fashion_mnist(tdir, &tr, &te, err, sizeof err), -1);
    char want[600];
    snprintf(want, sizeof want,
             "Fashion-MNIST not found in %s: install the Debian package dataset-fashion-mnist "
             "(apt-get install dataset-fashion-mnist)",
             tdir);
    cr_assert_str_eq(err, want);
}

Test(fmnist, incomplete_dir) {
    write_small_pair(tpath("train-images-idx3-ubyte.gz"), tpath("train-labels-idx1-ubyte.gz"), 1);
    rt_dataset tr, te;
    cr_assert_eq(rt_load_fashion_mnist(tdir, &tr, &te, err, sizeof err), -1);
    cr_assert(strstr(err, "t10k-images-idx3-ubyte.gz is missing"), "%s", err);
    cr_assert(strstr(err, "dataset-fashion-mnist"), "%s", err);
}

Test(fmnist, small_fake_set_loads) {
    write_small_pair(tpath("train-images-idx3-ubyte.gz"), tpath("train-labels-idx1-ubyte.gz"), 1);
    write_small_pair(tpath("t10k-images-idx3-ubyte.gz"), tpath("t10k-labels-idx1-ubyte.gz"), 1);
    rt_dataset tr, te;
    cr_assert_eq(rt_load_fashion_mnist(tdir, &tr, &te, err, sizeof err), 0, "%s", err);
    check_small_pair(&tr);
    check_small_pair(&te);
    rt_dataset_free(&tr);
    rt_dataset_free(&te);
}

static int have_fmnist(void) {
    char p[512];
    snprintf(p, sizeof p, "%s/train-images-idx3-ubyte.gz", RT_FASHION_MNIST_DIR);
    return access(p, R_OK) == 0;
}

static void check_real(const rt_dataset *d, int64_t n) {
    cr_assert_eq(d->n, n);
    cr_assert_eq(d->sample.rank, 3);
    cr_assert(d->sample.d[0] == 1 && d->sample.d[1] == 28 && d->sample.d[2] == 28);
    cr_assert_eq(d->n_classes, 10);
    int64_t count[10] = {0};
    for (int64_t i = 0; i < n; i++) {
        cr_assert(d->y[i] >= 0 && d->y[i] <= 9);
        count[d->y[i]]++;
    }
    for (int c = 0; c < 10; c++) cr_assert_eq(count[c], n / 10, "Fashion-MNIST is balanced: class %d", c);
    float lo = 1, hi = 0;
    double sum = 0;
    for (int64_t i = 0; i < n * 784; i++) {
        lo = d->x[i] < lo ? d->x[i] : lo;
        hi = d->x[i] > hi ? d->x[i] : hi;
        sum += d->x[i];
    }
    cr_assert_eq(lo, 0.0f);
    cr_assert_eq(hi, 1.0f);
    double mean = sum / (double)(n * 784);
    cr_assert(mean > 0.27 && mean < 0.30, "mean pixel %f (Fashion-MNIST's is about 0.286)", mean);
}

Test(fmnist, real_data_if_installed) {
    if (!have_fmnist()) cr_skip_test("dataset-fashion-mnist is not installed");
    rt_dataset tr, te;
    cr_assert_eq(rt_load_fashion_mnist(NULL, &tr, &te, err, sizeof err), 0, "%s", err);
    check_real(&tr, 60000);
    check_real(&te, 10000);
    rt_dataset_free(&tr);
    rt_dataset_free(&te);
}

/* ---------------- CSV ---------------- */

static void write_text(const char *path, const char *s) { write_bytes(path, s, strlen(s), 0); }

Test(csv, good_file) {
    write_text(tpath("a.csv"), "\xEF\xBB\xBF"
                               "x1, \"the, label\" ,x2\r\n"
                               "1.5,2,-3\r\n"
                               "\r\n"
                               " 0 , 0 , 1e-2 \r\n"
                               "\"4\",1,+7.25\n"
                               "-0.5,3,2E3");
    rt_dataset d;
    cr_assert_eq(rt_load_csv(tpath("a.csv"), "the, label", &d, err, sizeof err), 0, "%s", err);
    cr_assert_eq(d.n, 4);
    cr_assert_eq(d.sample.rank, 1);
    cr_assert_eq(d.sample.d[0], 2);
    float wx[8] = {1.5f, -3, 0, 0.01f, 4, 7.25f, -0.5f, 2000};
    int32_t wy[4] = {2, 0, 1, 3};
    for (int i = 0; i < 8; i++) cr_assert_eq(d.x[i], wx[i], "x[%d] = %g", i, d.x[i]);
    for (int i = 0; i < 4; i++) cr_assert_eq(d.y[i], wy[i]);
    cr_assert_eq(d.n_classes, 4);
    rt_dataset_free(&d);
}

Test(csv, many_rows_grow) {
    FILE *f = fopen(tpath("big.csv"), "w");
    fprintf(f, "a,b,y\n");
    for (int i = 0; i < 5000; i++) fprintf(f, "%d,%d.5,%d\n", i, -i, i % 7);
    fclose(f);
    rt_dataset d;
    cr_assert_eq(rt_load_csv(tpath("big.csv"), "y", &d, err, sizeof err), 0, "%s", err);
    cr_assert_eq(d.n, 5000);
    cr_assert_eq(d.x[2 * 4321], 4321.0f);
    cr_assert_eq(d.x[2 * 4321 + 1], -4321.5f);
    cr_assert_eq(d.y[4321], 4321 % 7);
    cr_assert_eq(d.n_classes, 7);
    rt_dataset_free(&d);
}

static void csv_bad(const char *text, const char *label, const char *msg) {
    write_text(tpath("bad.csv"), text);
    rt_dataset d;
    memset(&d, 0, sizeof d);
    cr_assert_eq(rt_load_csv(tpath("bad.csv"), label, &d, err, sizeof err), -1, "should fail: %s", msg);
    cr_assert(strstr(err, msg), "got \"%s\", want \"%s\"", err, msg);
    cr_assert(strstr(err, "bad.csv"), "names the file: %s", err);
    cr_assert_null(d.x);
}

Test(csv, bad_files) {
    csv_bad("a,y\n1,0\n2,abc\n", "y", "bad.csv:3: column 2 (\"y\"): \"abc\" is not a finite number");
    csv_bad("a,b,y\n1,2,0\n1,x2,0\n", "y", "bad.csv:3: column 2 (\"b\"): \"x2\" is not a finite number");
    csv_bad("a,y\nnan,0\n", "y", "bad.csv:2: column 1 (\"a\"): \"nan\" is not a finite number");
    csv_bad("a,y\ninf,0\n", "y", "\"inf\" is not a finite number");
    csv_bad("a,y\n0x10,0\n", "y", "\"0x10\" is not a finite number");
    csv_bad("a,y\n1e999,0\n", "y", "\"1e999\" is not a finite number");
    csv_bad("a,y\n,0\n", "y", "column 1 (\"a\"): \"\" is not a finite number");
    csv_bad("a,y\n1,0,3\n", "y", "bad.csv:2: 3 fields, but the header has 2 columns");
    csv_bad("a,y\n1\n", "y", "bad.csv:2: 1 fields, but the header has 2 columns");
    csv_bad("a,b\n1,0\n", "y", "bad.csv:1: no column named \"y\" in the header");
    csv_bad("y,a,y\n1,0,1\n", "y", "the label column \"y\" appears twice");
    csv_bad("y\n1\n", "y", "no feature columns besides the label");
    csv_bad("a,y\n1,1.5\n", "y", "label \"1.5\" is not a class index in 0..255");
    csv_bad("a,y\n1,-1\n", "y", "label \"-1\" is not a class index");
    csv_bad("a,y\n1,256\n", "y", "label \"256\" is not a class index");
    csv_bad("", "y", "empty file (no header row)");
    csv_bad("a,y\r\n\r\n", "y", "no data rows after the header");
    csv_bad("a,\"y\n1,0\n", "y", "bad.csv:1: unterminated or misplaced quote");
    csv_bad("a,y\n\"1\"2,0\n", "y", "bad.csv:2: unterminated or misplaced quote");
    write_bytes(tpath("bad.csv"), "a,y\n1\0,0\n", 9, 0);
    rt_dataset d;
    cr_assert_eq(rt_load_csv(tpath("bad.csv"), "y", &d, err, sizeof err), -1);
    cr_assert(strstr(err, "NUL bytes"), "%s", err);
    cr_assert_eq(rt_load_csv(tpath("none.csv"), "y", &d, err, sizeof err), -1);
    cr_assert(strstr(err, "none.csv: cannot open"), "%s", err);
}

/* ---------------- split and PRNG ---------------- */

static rt_dataset make_ids(int64_t n, int d) {
    rt_dataset s;
    memset(&s, 0, sizeof s);
    s.n = n;
    s.sample.rank = 1;
    s.sample.d[0] = d;
    s.x = malloc((size_t)(n * d) * sizeof *s.x);
    s.y = malloc((size_t)n * sizeof *s.y);
    for (int64_t i = 0; i < n; i++) {
        for (int j = 0; j < d; j++) s.x[i * d + j] = (float)(i * 10 + j);
        s.y[i] = (int32_t)(i % 5);
    }
    s.n_classes = 5;
    return s;
}

Test(split, sizes_copies_and_permutation) {
    rt_dataset s = make_ids(1000, 3), tr, va;
    cr_assert_eq(rt_dataset_split(&s, 0.1, 42, &tr, &va, err, sizeof err), 0, "%s", err);
    cr_assert_eq(tr.n, 900);
    cr_assert_eq(va.n, 100);
    cr_assert_eq(va.sample.d[0], 3);
    cr_assert_eq(va.n_classes, 5);
    char *seen = calloc(1000, 1);
    for (int part = 0; part < 2; part++) {
        const rt_dataset *p = part ? &va : &tr;
        for (int64_t i = 0; i < p->n; i++) {
            int64_t id = (int64_t)p->x[i * 3] / 10;
            cr_assert(id >= 0 && id < 1000);
            cr_assert_not(seen[id], "sample %lld appears twice", (long long)id);
            seen[id] = 1;
            cr_assert_eq(p->x[i * 3 + 2], (float)(id * 10 + 2), "rows are copied whole");
            cr_assert_eq(p->y[i], id % 5, "labels follow their rows");
        }
    }
    free(seen);
    /* it is a shuffle, not the tail of the source */
    int in_order = 0;
    for (int64_t i = 0; i < va.n; i++) in_order += (int64_t)va.x[i * 3] / 10 == 900 + i;
    cr_assert_lt(in_order, 10);
    rt_dataset_free(&tr);
    rt_dataset_free(&va);
    rt_dataset_free(&s);
}

Test(split, deterministic_in_seed) {
    rt_dataset s = make_ids(500, 1), a1, v1, a2, v2, a3, v3;
    cr_assert_eq(rt_dataset_split(&s, 0.2, 7, &a1, &v1, err, sizeof err), 0);
    cr_assert_eq(rt_dataset_split(&s, 0.2, 7, &a2, &v2, err, sizeof err), 0);
    cr_assert_eq(rt_dataset_split(&s, 0.2, 8, &a3, &v3, err, sizeof err), 0);
    cr_assert(!memcmp(v1.x, v2.x, (size_t)v1.n * sizeof(float)), "same seed, same split");
    cr_assert(memcmp(v1.x, v3.x, (size_t)v1.n * sizeof(float)), "another seed, another split");
    rt_dataset *all[] = {&a1, &v1, &a2, &v2, &a3, &v3, &s};
    for (int i = 0; i < 7; i++) rt_dataset_free(all[i]);
}

Test(split, edge_fractions) {
    rt_dataset s = make_ids(10, 2), tr, va;
    cr_assert_eq(rt_dataset_split(&s, 0.0, 1, &tr, &va, err, sizeof err), 0);
    cr_assert_eq(tr.n, 10);
    cr_assert_eq(va.n, 0);
    cr_assert_null(va.x);
    rt_dataset_free(&tr);
    rt_dataset_free(&va);
    cr_assert_eq(rt_dataset_split(&s, 0.99, 1, &tr, &va, err, sizeof err), 0);
    cr_assert_eq(tr.n, 1, "at least one training sample remains");
    rt_dataset_free(&tr);
    rt_dataset_free(&va);
    double bad[] = {1.0, -0.1, NAN, 2.0};
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(rt_dataset_split(&s, bad[i], 1, &tr, &va, err, sizeof err), -1);
        cr_assert(strstr(err, "outside [0, 1)"), "%s", err);
    }
    rt_dataset e;
    memset(&e, 0, sizeof e);
    cr_assert_eq(rt_dataset_split(&e, 0.1, 1, &tr, &va, err, sizeof err), -1);
    rt_dataset_free(&s);
}

Test(rng, reference_values) {
    nasc_rng r;
    nasc_rng_seed(&r, 0);
    cr_assert_eq(r.s[0], 0xE220A8397B1DCDAFull, "splitmix64(0) first output");
    /* xoshiro256** from the state {1, 2, 3, 4} (reference sequence) */
    nasc_rng x = {{1, 2, 3, 4}};
    uint64_t want[4] = {11520ull, 0ull, 1509978240ull, 1215971899390074240ull};
    for (int i = 0; i < 4; i++) cr_assert_eq(nasc_rng_next(&x), want[i], "output %d", i);
    nasc_rng a, b;
    nasc_rng_seed(&a, 123);
    nasc_rng_seed(&b, 123);
    for (int i = 0; i < 100; i++) cr_assert_eq(nasc_rng_next(&a), nasc_rng_next(&b));
}

Test(rng, uniform_and_normal_moments) {
    nasc_rng r;
    nasc_rng_seed(&r, 99);
    enum { N = 200000 };
    double s = 0, s2 = 0, lo = 1, hi = 0;
    for (int i = 0; i < N; i++) {
        double u = nasc_rng_uniform(&r);
        cr_assert(u >= 0.0 && u < 1.0);
        s += u;
        lo = u < lo ? u : lo;
        hi = u > hi ? u : hi;
    }
    cr_assert_float_eq(s / N, 0.5, 0.005);
    cr_assert_lt(lo, 1e-4);
    cr_assert_gt(hi, 1 - 1e-4);
    s = 0;
    int tail = 0;
    for (int i = 0; i < N; i++) {
        float z = rt_rng_normal(&r);
        cr_assert(isfinite(z));
        s += z;
        s2 += (double)z * z;
        tail += fabsf(z) > 1.96f;
    }
    cr_assert_float_eq(s / N, 0.0, 0.01);
    cr_assert_float_eq(s2 / N, 1.0, 0.02);
    cr_assert_float_eq((double)tail / N, 0.05, 0.004, "two-sided 5%% tail");
}

Test(rng, shuffle_is_uniform_permutation) {
    nasc_rng r;
    nasc_rng_seed(&r, 5);
    int count[6] = {0};
    for (int t = 0; t < 60000; t++) {
        int64_t v[3] = {0, 1, 2};
        rt_shuffle(&r, v, 3);
        cr_assert(v[0] != v[1] && v[1] != v[2] && v[0] != v[2]);
        int code = (int)(v[0] * 2 + (v[1] > v[2]));
        count[code]++;
    }
    for (int i = 0; i < 6; i++) cr_assert(count[i] > 9500 && count[i] < 10500, "perm %d: %d", i, count[i]);
    int64_t one = 7;
    rt_shuffle(&r, &one, 1);
    rt_shuffle(&r, NULL, 0);
    cr_assert_eq(one, 7);
}

/* ---------------- committed fixtures (tests/fixtures/data) ---------------- */

static const char *fx(const char *name) {
    static char p[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/tests/fixtures/data/%s", NASC_SOURCE_DIR, name);
    return p[k];
}

/* Nearest class mean on the test set: the fixtures are meant to be
 * learnable, so other suites can check that training lowers the loss. */
static double centroid_accuracy(const rt_dataset *tr, const rt_dataset *te) {
    int64_t d = ir_shape_numel(&tr->sample);
    int k = tr->n_classes;
    double *mean = calloc((size_t)(k * d), sizeof *mean);
    int64_t *cnt = calloc((size_t)k, sizeof *cnt);
    for (int64_t i = 0; i < tr->n; i++) {
        cnt[tr->y[i]]++;
        for (int64_t j = 0; j < d; j++) mean[tr->y[i] * d + j] += tr->x[i * d + j];
    }
    for (int c = 0; c < k; c++)
        for (int64_t j = 0; j < d; j++) mean[c * d + j] /= cnt[c] ? (double)cnt[c] : 1.0;
    int64_t right = 0;
    for (int64_t i = 0; i < te->n; i++) {
        int best = 0;
        double bd = INFINITY;
        for (int c = 0; c < k; c++) {
            double s = 0;
            for (int64_t j = 0; j < d; j++) s += pow(te->x[i * d + j] - mean[c * d + j], 2);
            if (s < bd) bd = s, best = c;
        }
        right += best == te->y[i];
    }
    free(mean);
    free(cnt);
    return (double)right / (double)te->n;
}

Test(fixtures, tiny_idx) {
    rt_dataset tr, te;
    cr_assert_eq(rt_load_idx(fx("tiny-train-images-idx3-ubyte.gz"), fx("tiny-train-labels-idx1-ubyte.gz"),
                             &tr, err, sizeof err),
                 0, "%s", err);
    cr_assert_eq(rt_load_idx(fx("tiny-test-images-idx3-ubyte.gz"), fx("tiny-test-labels-idx1-ubyte.gz"), &te,
                             err, sizeof err),
                 0, "%s", err);
    cr_assert(tr.n == 200 && te.n == 40);
    cr_assert(tr.sample.rank == 3 && tr.sample.d[0] == 1 && tr.sample.d[1] == 8 && tr.sample.d[2] == 8);
    cr_assert_eq(tr.n_classes, 4);
    cr_assert_gt(centroid_accuracy(&tr, &te), 0.9);
    rt_dataset_free(&tr);
    rt_dataset_free(&te);
}

Test(fixtures, fmnist_tiny_dir) {
    rt_dataset tr, te;
    cr_assert_eq(rt_load_fashion_mnist(fx("fmnist-tiny"), &tr, &te, err, sizeof err), 0, "%s", err);
    cr_assert(tr.n == 100 && te.n == 20);
    cr_assert(tr.sample.d[1] == 28 && tr.sample.d[2] == 28);
    cr_assert_eq(tr.n_classes, te.n_classes);
    cr_assert_geq(tr.n_classes, 9);
    cr_assert_gt(centroid_accuracy(&tr, &te), 0.9);
    rt_dataset_free(&tr);
    rt_dataset_free(&te);
}

Test(fixtures, blobs_csv) {
    rt_dataset d;
    cr_assert_eq(rt_load_csv(fx("blobs.csv"), "y", &d, err, sizeof err), 0, "%s", err);
    cr_assert_eq(d.n, 150);
    cr_assert_eq(d.sample.d[0], 4);
    cr_assert_eq(d.n_classes, 3);
    rt_dataset tr, va;
    cr_assert_eq(rt_dataset_split(&d, 0.2, 1, &tr, &va, err, sizeof err), 0, "%s", err);
    cr_assert_gt(centroid_accuracy(&tr, &va), 0.9);
    rt_dataset_free(&tr);
    rt_dataset_free(&va);
    rt_dataset_free(&d);
}

Test(fixtures, malformed_files) {
    rt_dataset d;
    const char *lab = fx("tiny-train-labels-idx1-ubyte.gz");
    cr_assert_eq(rt_load_idx(fx("bad-magic-idx3-ubyte.gz"), lab, &d, err, sizeof err), -1);
    cr_assert(strstr(err, "bad-magic-idx3-ubyte.gz: not an IDX file (bad magic 0x01020803"), "%s", err);
    cr_assert_eq(rt_load_idx(fx("truncated-images-idx3-ubyte.gz"), lab, &d, err, sizeof err), -1);
    cr_assert(strstr(err, "truncated: the header promises 12800 data bytes, found 12768"), "%s", err);
    cr_assert_eq(rt_load_idx(fx("tiny-train-images-idx3-ubyte.gz"), fx("mismatch-labels-idx1-ubyte.gz"), &d,
                             err, sizeof err),
                 -1);
    cr_assert(strstr(err, "150 labels but the image file has 200 images"), "%s", err);
    cr_assert_eq(rt_load_csv(fx("bad.csv"), "y", &d, err, sizeof err), -1);
    cr_assert(strstr(err, "bad.csv:4: column 2 (\"b\"): \"oops\" is not a finite number"), "%s", err);
}
