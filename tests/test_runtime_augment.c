/* test_runtime_augment.c: input standardisation (statistics against a
 * direct computation, application, the "nasc.normalize" metadata through a
 * weights file), the augmentations (shapes, exact pixel moves, the black
 * padding of a standardised input, determinism under the seed, and that
 * training never touches the validation or test data), and the CIFAR-10 /
 * CIFAR-100 binary readers on files generated here, truncated, missing or
 * with bad labels. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "augment.h"
#include "cifar.h"
#include "normalize.h"
#include "rt_testgraph.h"
#include "train.h"

static char tdir[400];
static char err[1024];

static void mk_tmp(void) {
    snprintf(tdir, sizeof tdir, "/tmp/nasc_aug_XXXXXX");
    cr_assert_not_null(mkdtemp(tdir));
}

/* tdir and the one level of folders the CIFAR tests make in it. */
static void rm_tree(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char p[700];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (unlink(p)) rm_tree(p);
    }
    closedir(d);
    rmdir(dir);
}

static void rm_tmp(void) { rm_tree(tdir); }

TestSuite(normalize, .init = mk_tmp, .fini = rm_tmp);
TestSuite(augment);
TestSuite(cifar, .init = mk_tmp, .fini = rm_tmp);

/* n samples [c, h, w] of values from a fixed formula, different per channel. */
static rt_dataset images(int64_t n, int c, int h, int w) {
    rt_dataset d = {0};
    d.n = n;
    d.sample = (ir_shape){3, {c, h, w, 0}};
    d.x = malloc(sizeof(float) * (size_t)(n * c * h * w));
    d.y = calloc((size_t)n, sizeof *d.y);
    for (int64_t i = 0; i < n * c * h * w; i++)
        d.x[i] = (float)((i * 7919 % 255) / 255.0 * (1 + (i / (h * w)) % c));
    d.n_classes = 2;
    return d;
}

/* ---------- normalize ---------- */

Test(normalize, statistics_match_a_direct_computation) {
    rt_dataset d = images(37, 3, 5, 4);
    ir_input_norm n;
    cr_assert_eq(rt_norm_fit(&d, &n, err, sizeof err), 0, "%s", err);
    cr_assert_eq(n.channels, 3);
    for (int c = 0; c < 3; c++) {
        double s = 0, ss = 0, cnt = 0;
        for (int64_t i = 0; i < d.n; i++)
            for (int k = 0; k < 20; k++) s += d.x[i * 60 + c * 20 + k], cnt++;
        double m = s / cnt;
        for (int64_t i = 0; i < d.n; i++)
            for (int k = 0; k < 20; k++) ss += pow(d.x[i * 60 + c * 20 + k] - m, 2);
        cr_assert_eq(n.mean[c], (float)m, "channel %d mean %.9g vs %.9g", c, n.mean[c], m);
        cr_assert_eq(n.std[c], (float)sqrt(ss / cnt), "channel %d std", c);
    }
    /* after the transform every channel has mean 0 and std 1 */
    cr_assert_eq(rt_norm_apply(&n, 60, d.x, d.n, err, sizeof err), 0, "%s", err);
    ir_input_norm after;
    cr_assert_eq(rt_norm_fit(&d, &after, err, sizeof err), 0);
    for (int c = 0; c < 3; c++) {
        cr_assert(fabsf(after.mean[c]) < 1e-6f, "mean %g", after.mean[c]);
        cr_assert(fabsf(after.std[c] - 1) < 1e-5f, "std %g", after.std[c]);
    }
    rt_dataset_free(&d);
}

Test(normalize, apply_is_x_minus_mean_over_std_per_channel) {
    ir_input_norm n = {2, {0.5f, -1.0f}, {0.25f, 2.0f}};
    float x[8] = {0, 0.5f, 1, 0.75f, /* channel 1 */ 1, -1, 3, 0};
    cr_assert_eq(rt_norm_apply(&n, 8, x, 1, err, sizeof err), 0);
    float want[8] = {-2, 0, 2, 1, 1, 0, 2, 0.5f};
    for (int i = 0; i < 8; i++) cr_assert_eq(x[i], want[i], "x[%d] = %g", i, x[i]);
    cr_assert_eq(rt_norm_zero(&n, 0), -2.0f);
    cr_assert_eq(rt_norm_zero(&n, 1), 0.5f);
    cr_assert_eq(rt_norm_apply(&n, 7, x, 1, err, sizeof err), -1);
    cr_assert_str_eq(err,
                     "the inputs have 7 values per sample, which do not split into the 2 channels the model "
                     "was trained to standardise");
}

Test(normalize, a_constant_channel_and_a_wrong_explicit_list_are_errors) {
    rt_dataset d = images(4, 2, 2, 2);
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 4; k++) d.x[i * 8 + 4 + k] = 0.5f;
    ir_input_norm n;
    cr_assert_eq(rt_norm_fit(&d, &n, err, sizeof err), -1);
    cr_assert_str_eq(err,
                     "normalize = standard: channel 1 of the training data is constant (0.5): its standard "
                     "deviation is 0");
    ir_input_norm given = {3, {0, 0, 0}, {1, 1, 1}};
    cr_assert_eq(rt_norm_check(&given, &d.sample, err, sizeof err), -1);
    cr_assert_str_eq(err,
                     "normalize = standard(...) gives 3 values per list, but the samples have 2 channels");
    ir_input_norm zero = {2, {0, 0}, {1, 0}};
    cr_assert_eq(rt_norm_check(&zero, &d.sample, err, sizeof err), -1);
    cr_assert_str_eq(err, "normalize: std 2 is 0; it must be positive");
    rt_dataset_free(&d);
}

Test(normalize, metadata_round_trips_every_bit) {
    ir_input_norm n = {3, {0.4914f, 0.48216f, 0.44653f}, {0.24703f, 0.24349f, 0.26159f}}, back;
    n.mean[1] = nextafterf(n.mean[1], 1.0f);
    char *s = rt_norm_format(&n);
    cr_assert_not_null(s);
    cr_assert_eq(rt_norm_parse(s, "w.safetensors", &back, err, sizeof err), 0, "%s: %s", s, err);
    cr_assert_eq(back.channels, 3);
    cr_assert_eq(memcmp(back.mean, n.mean, sizeof(float) * 3), 0);
    cr_assert_eq(memcmp(back.std, n.std, sizeof(float) * 3), 0);
    free(s);
    const char *bad[] = {"",
                         "{}",
                         "{\"mean\": [1], \"std\": [0]}",
                         "{\"mean\": [1, 2], \"std\": [1]}",
                         "{\"mean\": [\"a\"], \"std\": [1]}",
                         "[1]"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cr_assert_eq(rt_norm_parse(bad[i], "w.safetensors", &back, err, sizeof err), -1, "%s", bad[i]);
        cr_assert_str_eq(
            err, "w.safetensors: bad \"nasc.normalize\" metadata (expected {\"mean\": [...], \"std\": "
                 "[...]} with one positive std per mean)");
        cr_assert_eq(back.channels, 0);
    }
}

static tg *small_net(void) {
    tg *t = tg_new();
    int x = tg_input(t, 3, 2, 4, 4);
    tg_finish(t, tg_dense(t, tg_flatten(t, x), 3, 1));
    cr_assert_eq(rt_params_init(&t->g, INIT_KAIMING, 1), 0);
    return t;
}

Test(normalize, the_weights_file_carries_the_transform) {
    tg *t = small_net();
    t->g.norm = (ir_input_norm){2, {0.25f, 0.75f}, {0.5f, 0.125f}};
    char path[600];
    snprintf(path, sizeof path, "%s/w.safetensors", tdir);
    cr_assert_eq(rt_save_weights(&t->g, NULL, path, NULL, 1, err, sizeof err), 0, "%s", err);
    tg *u = small_net();
    u->g.norm.channels = 5; /* overwritten by the file's */
    cr_assert_eq(rt_load_weights(&u->g, path, NULL, err, sizeof err), 0, "%s", err);
    cr_assert_eq(memcmp(&u->g.norm, &t->g.norm, sizeof t->g.norm), 0);
    /* a file without the metadata means no transform */
    t->g.norm.channels = 0;
    cr_assert_eq(rt_save_weights(&t->g, NULL, path, NULL, 1, err, sizeof err), 0);
    cr_assert_eq(rt_load_weights(&u->g, path, NULL, err, sizeof err), 0);
    cr_assert_eq(u->g.norm.channels, 0);
    /* channels that do not divide the network's input: refused, g unchanged */
    t->g.norm = (ir_input_norm){3, {0, 0, 0}, {1, 1, 1}};
    cr_assert_eq(rt_save_weights(&t->g, NULL, path, NULL, 1, err, sizeof err), 0);
    cr_assert_eq(rt_load_weights(&u->g, path, NULL, err, sizeof err), -1);
    char want[800];
    snprintf(want, sizeof want,
             "weights file %s standardises 3 input channels, but this network's input of 32 values does not "
             "split into 3",
             path);
    cr_assert_str_eq(err, want);
    cr_assert_eq(u->g.norm.channels, 0);
    tg_free(t);
    tg_free(u);
}

/* ---------- augment ---------- */

static rt_augment ops1(rt_aug_kind k, int size) {
    rt_augment a = {1, {{k, size}}};
    return a;
}

/* Pixel (c, y, x) of an [c, h, w] ramp: unique, never 0. */
static float ramp(int c, int y, int x) { return (float)(1 + c * 100 + y * 10 + x); }

static void fill_ramp(float *s, int c, int h, int w) {
    for (int k = 0; k < c; k++)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) s[(k * h + y) * w + x] = ramp(k, y, x);
}

Test(augment, crop_shifts_the_image_and_pads_with_normalised_black) {
    ir_shape s = {3, {2, 6, 5, 0}};
    ir_input_norm n = {2, {0.5f, 0.25f}, {0.5f, 0.25f}}; /* black is -1 on both channels */
    rt_augment a = ops1(RT_AUG_CROP, 2);
    float x[60], tmp[60];
    int shifted = 0;
    for (uint64_t seed = 1; seed <= 40; seed++) {
        fill_ramp(x, 2, 6, 5);
        rt_augment_batch(&a, &s, &n, x, 1, seed, tmp);
        /* find the shift from a pixel that moved in, then check every pixel */
        int found = 0;
        for (int dy = -2; dy <= 2 && !found; dy++)
            for (int dx = -2; dx <= 2 && !found; dx++) {
                int ok = 1;
                for (int c = 0; c < 2 && ok; c++)
                    for (int y = 0; y < 6 && ok; y++)
                        for (int xx = 0; xx < 5 && ok; xx++) {
                            int sy = y + dy, sx = xx + dx;
                            float want = sy >= 0 && sy < 6 && sx >= 0 && sx < 5 ? ramp(c, sy, sx) : -1.0f;
                            ok = x[(c * 6 + y) * 5 + xx] == want;
                        }
                if (ok) found = 1, shifted += dy || dx;
            }
        cr_assert(found, "seed %llu: the output is not a padded shift of the input",
                  (unsigned long long)seed);
    }
    cr_assert(shifted > 25, "only %d of 40 crops moved the image", shifted);
}

Test(augment, flip_mirrors_rows_about_half_the_time) {
    ir_shape s = {3, {3, 4, 5, 0}};
    rt_augment a = ops1(RT_AUG_FLIP, 0);
    float x[60];
    int flipped = 0;
    for (uint64_t seed = 0; seed < 200; seed++) {
        fill_ramp(x, 3, 4, 5);
        rt_augment_batch(&a, &s, NULL, x, 1, seed, NULL);
        int same = x[0] == ramp(0, 0, 0);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < 4; y++)
                for (int xx = 0; xx < 5; xx++)
                    cr_assert_eq(x[(c * 4 + y) * 5 + xx], same ? ramp(c, y, xx) : ramp(c, y, 4 - xx));
        flipped += !same;
    }
    cr_assert(flipped > 70 && flipped < 130, "flipped %d of 200", flipped);
}

Test(augment, cutout_zeroes_a_clipped_square_on_every_channel) {
    ir_shape s = {3, {2, 8, 8, 0}};
    rt_augment a = ops1(RT_AUG_CUTOUT, 4);
    float x[128];
    for (uint64_t seed = 0; seed < 50; seed++) {
        fill_ramp(x, 2, 8, 8);
        rt_augment_batch(&a, &s, NULL, x, 1, seed, NULL);
        int y0 = 8, y1 = -1, x0 = 8, x1 = -1, zeros = 0;
        for (int y = 0; y < 8; y++)
            for (int xx = 0; xx < 8; xx++) {
                cr_assert_eq(x[y * 8 + xx] == 0, x[64 + y * 8 + xx] == 0, "channels differ");
                if (x[y * 8 + xx] != 0) {
                    cr_assert_eq(x[y * 8 + xx], ramp(0, y, xx));
                    continue;
                }
                zeros++;
                y0 = y < y0 ? y : y0, y1 = y > y1 ? y : y1, x0 = xx < x0 ? xx : x0, x1 = xx > x1 ? xx : x1;
            }
        cr_assert(zeros > 0 && zeros <= 16, "seed %llu: %d zeros", (unsigned long long)seed, zeros);
        cr_assert_eq(zeros, (y1 - y0 + 1) * (x1 - x0 + 1), "not a rectangle");
        cr_assert(y1 - y0 + 1 <= 4 && x1 - x0 + 1 <= 4);
        /* clipped only at the border */
        cr_assert(y1 - y0 + 1 == 4 || y0 == 0 || y1 == 7);
        cr_assert(x1 - x0 + 1 == 4 || x0 == 0 || x1 == 7);
    }
}

Test(augment, deterministic_under_the_seed_and_shape_preserving) {
    ir_shape s = {3, {3, 32, 32, 0}};
    rt_augment a = {3, {{RT_AUG_CROP, 4}, {RT_AUG_FLIP, 0}, {RT_AUG_CUTOUT, 16}}};
    cr_assert_eq(rt_augment_check(&a, &s, err, sizeof err), 0, "%s", err);
    int n = 8, len = 8 * 3072;
    float *x1 = malloc(sizeof(float) * (size_t)len), *x2 = malloc(sizeof(float) * (size_t)len), tmp[3072];
    float *x3 = malloc(sizeof(float) * (size_t)len);
    for (int i = 0; i < len; i++) x1[i] = x2[i] = x3[i] = (float)(i % 997) + 1;
    rt_augment_batch(&a, &s, NULL, x1, n, 42, tmp);
    rt_augment_batch(&a, &s, NULL, x2, n, 42, tmp);
    rt_augment_batch(&a, &s, NULL, x3, n, 43, tmp);
    cr_assert_eq(memcmp(x1, x2, sizeof(float) * (size_t)len), 0, "same seed, different batch");
    cr_assert_neq(memcmp(x1, x3, sizeof(float) * (size_t)len), 0, "another seed, the same batch");
    free(x1);
    free(x2);
    free(x3);
}

Test(augment, rejects_what_is_not_an_image) {
    rt_augment a = ops1(RT_AUG_FLIP, 0);
    ir_shape flat = {1, {784, 0, 0, 0}};
    cr_assert_eq(rt_augment_check(&a, &flat, err, sizeof err), -1);
    cr_assert_str_eq(err, "augment needs image samples [C, H, W], but the samples are [784]");
    rt_augment c = ops1(RT_AUG_CROP, 40);
    ir_shape img = {3, {3, 32, 32, 0}};
    cr_assert_eq(rt_augment_check(&c, &img, err, sizeof err), -1);
    cr_assert_str_eq(err, "augment: crop(pad = 40) pads more than the 32 x 32 image");
    rt_augment z = ops1(RT_AUG_CUTOUT, 0);
    cr_assert_eq(rt_augment_check(&z, &img, err, sizeof err), -1);
    cr_assert_str_eq(err, "augment: cutout(0): the size must be positive");
}

static rt_train_cfg aug_cfg(void) {
    rt_train_cfg c;
    memset(&c, 0, sizeof c);
    c.epochs = 2;
    c.batch = 8;
    c.optim.kind = OPT_SGD;
    c.optim.lr = 0.05;
    c.optim.momentum = 0.9;
    c.seed = 3;
    c.augment = (rt_augment){3, {{RT_AUG_CROP, 1}, {RT_AUG_FLIP, 0}, {RT_AUG_CUTOUT, 2}}};
    return c;
}

static rt_dataset labelled(int64_t n) {
    rt_dataset d = images(n, 2, 4, 4);
    for (int64_t i = 0; i < n; i++) d.y[i] = (int32_t)(i % 3);
    d.n_classes = 3;
    return d;
}

Test(augment, training_augments_only_its_batches) {
    rt_dataset tr = labelled(40), va = labelled(16), te = labelled(12);
    size_t btr = sizeof(float) * 40 * 32, bva = sizeof(float) * 16 * 32, bte = sizeof(float) * 12 * 32;
    float *ctr = malloc(btr), *cva = malloc(bva), *cte = malloc(bte);
    memcpy(ctr, tr.x, btr), memcpy(cva, va.x, bva), memcpy(cte, te.x, bte);
    rt_train_cfg c = aug_cfg();
    tg *a = small_net(), *b = small_net(), *p = small_net();
    rt_metrics m1, m2, m3;
    cr_assert_eq(rt_train(&a->g, &c, &tr, &va, &te, &m1, err, sizeof err), 0, "%s", err);
    cr_assert_eq(memcmp(ctr, tr.x, btr), 0, "the training set itself changed");
    cr_assert_eq(memcmp(cva, va.x, bva), 0, "the validation set changed");
    cr_assert_eq(memcmp(cte, te.x, bte), 0, "the test set changed");
    /* the same seed trains the same weights; no augmentation trains others */
    cr_assert_eq(rt_train(&b->g, &c, &tr, &va, &te, &m2, err, sizeof err), 0, "%s", err);
    cr_assert_eq(m1.loss, m2.loss);
    cr_assert_eq(memcmp(a->nodes[2].params[0].data, b->nodes[2].params[0].data, sizeof(float) * 96), 0);
    c.augment.n = 0;
    cr_assert_eq(rt_train(&p->g, &c, &tr, &va, &te, &m3, err, sizeof err), 0, "%s", err);
    cr_assert_neq(m1.loss, m3.loss);
    /* evaluation saw the unaugmented data: re-evaluating gives the same numbers */
    double acc, loss;
    cr_assert_eq(rt_evaluate(&a->g, &va, 8, &acc, &loss, err, sizeof err), 0);
    cr_assert_eq(acc, m1.accuracy);
    cr_assert_eq(loss, m1.val_loss);
    tg_free(a), tg_free(b), tg_free(p);
    free(ctr), free(cva), free(cte);
    rt_dataset_free(&tr), rt_dataset_free(&va), rt_dataset_free(&te);
}

Test(augment, a_flat_training_set_is_refused_by_the_trainer) {
    tg *t = tg_new();
    int x = tg_input(t, 1, 32, 0, 0);
    tg_finish(t, tg_dense(t, x, 3, 1));
    rt_dataset d = labelled(8);
    d.sample = (ir_shape){1, {32, 0, 0, 0}};
    rt_train_cfg c = aug_cfg();
    rt_metrics m;
    cr_assert_eq(rt_train(&t->g, &c, &d, NULL, NULL, &m, err, sizeof err), -1);
    cr_assert_str_eq(err, "augment needs image samples [C, H, W], but the samples are [32]");
    tg_free(t);
    rt_dataset_free(&d);
}

/* ---------- CIFAR ---------- */

/* A CIFAR file of n records: label (i * 3 + k) % classes, pixel j of
 * record i = (i + j) % 256; extra bytes cut or appended. */
static void write_cifar(const char *name, int n, int label_bytes, int classes, int extra) {
    char p[700];
    snprintf(p, sizeof p, "%s/%s", tdir, name);
    FILE *f = fopen(p, "wb");
    cr_assert_not_null(f, "%s", p);
    long total = (long)n * (label_bytes + 3072) + extra, w = 0;
    for (int i = 0; i < n; i++) {
        unsigned char rec[3074];
        if (label_bytes == 2) rec[0] = (unsigned char)(i % 20);
        rec[label_bytes - 1] = (unsigned char)((i * 3 + 1) % classes);
        for (int j = 0; j < 3072; j++) rec[label_bytes + j] = (unsigned char)((i + j) % 256);
        long k = label_bytes + 3072;
        if (w + k > total) k = total - w;
        if (k > 0) fwrite(rec, 1, (size_t)k, f);
        w += k;
    }
    for (; w < total; w++) fputc(0, f);
    fclose(f);
}

static void cifar10_files(int per_batch, int test) {
    char name[32];
    for (int b = 1; b <= 5; b++) {
        snprintf(name, sizeof name, "data_batch_%d.bin", b);
        write_cifar(name, per_batch, 1, 10, 0);
    }
    write_cifar("test_batch.bin", test, 1, 10, 0);
}

Test(cifar, cifar10_reads_every_batch_as_3x32x32_in_order) {
    cifar10_files(3, 4);
    rt_dataset tr, te;
    cr_assert_eq(rt_load_cifar(tdir, 10, &tr, &te, err, sizeof err), 0, "%s", err);
    cr_assert_eq(tr.n, 15);
    cr_assert_eq(te.n, 4);
    cr_assert_eq(tr.sample.rank, 3);
    cr_assert_eq(tr.sample.d[0], 3);
    cr_assert_eq(tr.sample.d[1], 32);
    cr_assert_eq(tr.sample.d[2], 32);
    cr_assert_eq(tr.n_classes, 10);
    for (int i = 0; i < 15; i++) { /* batch b, record r: the file's record r */
        int r = i % 3;
        cr_assert_eq(tr.y[i], (r * 3 + 1) % 10);
        cr_assert_eq(tr.x[i * 3072 + 0], (float)(r % 256) / 255.0f);
        cr_assert_eq(tr.x[i * 3072 + 2047], (float)((r + 2047) % 256) / 255.0f); /* green, last pixel */
    }
    cr_assert_eq(te.y[3], 0);
    rt_dataset_free(&tr);
    rt_dataset_free(&te);
}

Test(cifar, cifar100_uses_the_fine_label) {
    write_cifar("train.bin", 5, 2, 100, 0);
    write_cifar("test.bin", 2, 2, 100, 0);
    rt_dataset tr, te;
    cr_assert_eq(rt_load_cifar(tdir, 100, &tr, &te, err, sizeof err), 0, "%s", err);
    cr_assert_eq(tr.n, 5);
    cr_assert_eq(tr.n_classes, 100);
    cr_assert_eq(tr.y[4], 13);
    cr_assert_eq(tr.x[4 * 3072 + 1], 5.0f / 255.0f);
    rt_dataset_free(&tr);
    rt_dataset_free(&te);
}

Test(cifar, the_archive_folder_is_found_from_its_parent) {
    char sub[256];
    snprintf(sub, sizeof sub, "%.200s/cifar-10-batches-bin", tdir);
    cr_assert_eq(mkdir(sub, 0700), 0);
    char keep[400];
    snprintf(keep, sizeof keep, "%s", tdir);
    snprintf(tdir, sizeof tdir, "%s", sub);
    cifar10_files(1, 1);
    snprintf(tdir, sizeof tdir, "%s", keep);
    rt_dataset tr, te;
    cr_assert_eq(rt_load_cifar(tdir, 10, &tr, &te, err, sizeof err), 0, "%s", err);
    cr_assert_eq(tr.n, 5);
    rt_dataset_free(&tr);
    rt_dataset_free(&te);
}

Test(cifar, a_truncated_file_is_named_with_its_size) {
    cifar10_files(2, 2);
    write_cifar("data_batch_3.bin", 2, 1, 10, -100);
    rt_dataset tr, te;
    cr_assert_eq(rt_load_cifar(tdir, 10, &tr, &te, err, sizeof err), -1);
    char want[1000];
    snprintf(want, sizeof want,
             "%s/data_batch_3.bin: 6046 bytes is not a whole number of 3073-byte CIFAR-10 records (1 label "
             "byte and 3072 pixels): truncated, or not a CIFAR-10 binary file",
             tdir);
    cr_assert_str_eq(err, want);
    write_cifar("data_batch_3.bin", 0, 1, 10, 0); /* empty */
    cr_assert_eq(rt_load_cifar(tdir, 10, &tr, &te, err, sizeof err), -1);
    cr_assert(strstr(err, "data_batch_3.bin: 0 bytes is not a whole number"), "%s", err);
}

Test(cifar, a_missing_file_is_named) {
    cifar10_files(1, 1);
    char p[700];
    snprintf(p, sizeof p, "%s/data_batch_4.bin", tdir);
    unlink(p);
    rt_dataset tr, te;
    cr_assert_eq(rt_load_cifar(tdir, 10, &tr, &te, err, sizeof err), -1);
    char want[1000];
    snprintf(want, sizeof want,
             "CIFAR-10 data: %s/data_batch_4.bin is missing (the binary version of CIFAR-10 has "
             "data_batch_1.bin to data_batch_5.bin and test_batch.bin)",
             tdir);
    cr_assert_str_eq(err, want);
    cifar10_files(1, 1);
    snprintf(p, sizeof p, "%s/test_batch.bin", tdir);
    unlink(p);
    cr_assert_eq(rt_load_cifar(tdir, 10, &tr, &te, err, sizeof err), -1);
    cr_assert(strstr(err, "test_batch.bin is missing"), "%s", err);
    cr_assert_eq(rt_load_cifar(tdir, 100, &tr, &te, err, sizeof err), -1);
    snprintf(want, sizeof want,
             "CIFAR-100 data: %s/train.bin is missing (the binary version of CIFAR-100 has train.bin and "
             "test.bin)",
             tdir);
    cr_assert_str_eq(err, want);
    snprintf(p, sizeof p, "%s/none", tdir);
    cr_assert_eq(rt_load_cifar(p, 10, &tr, &te, err, sizeof err), -1);
    snprintf(
        want, sizeof want,
        "CIFAR-10 data: %s/none is not a directory (No such file or directory): download the binary "
        "version, cifar-10-binary.tar.gz, from https://www.cs.toronto.edu/~kriz/cifar.html and unpack it",
        tdir);
    cr_assert_str_eq(err, want);
}

Test(cifar, a_label_out_of_range_is_an_error) {
    cifar10_files(1, 1);
    write_cifar("test_batch.bin", 4, 1, 100, 0); /* CIFAR-100 labels in a CIFAR-10 file */
    rt_dataset tr, te;
    cr_assert_eq(rt_load_cifar(tdir, 10, &tr, &te, err, sizeof err), -1);
    char want[1000];
    snprintf(want, sizeof want, "%s/test_batch.bin: record 3 has label 10, but CIFAR-10 labels are 0..9",
             tdir);
    cr_assert_str_eq(err, want);
}
