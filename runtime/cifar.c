/* cifar.c: CIFAR-10 / CIFAR-100 binary readers (see cifar.h).  The size
 * of every file is checked before anything is allocated from it. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "err.h"
#include "cifar.h"

#define CIFAR_PIXELS   3072
#define CIFAR_MAX_FILE ((int64_t)1 << 31) /* far beyond the real 30 MB / 150 MB files */

typedef struct cifar_fmt {
    const char *name, *sub;    /* "CIFAR-10", the archive's folder */
    int label_bytes, label_at; /* bytes before the pixels; which is the label */
    int classes;
    const char *files[6]; /* the training files */
    int n_files;
    const char *test;
    const char *archive; /* the download */
} cifar_fmt;

/* clang-format off */
static const cifar_fmt CIFAR10 = {
    "CIFAR-10", "cifar-10-batches-bin", 1, 0, 10,
    {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"}, 5,
    "test_batch.bin", "cifar-10-binary.tar.gz"};
static const cifar_fmt CIFAR100 = {
    "CIFAR-100", "cifar-100-binary", 2, 1, 100, {"train.bin"}, 1, "test.bin", "cifar-100-binary.tar.gz"};
/* clang-format on */

static int file_path(char *buf, size_t cap, const char *dir, const char *sub, const char *name) {
    int n = sub ? snprintf(buf, cap, "%s/%s/%s", dir, sub, name) : snprintf(buf, cap, "%s/%s", dir, name);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* The records of one file appended to d (whose x and y have room). */
static int read_file(const cifar_fmt *f, const char *path, int64_t records, rt_dataset *d, char *err,
                     size_t cap) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return err_set(err, cap, "%s: cannot open: %s", path, strerror(errno));
    int rec = f->label_bytes + CIFAR_PIXELS, rc = 0;
    unsigned char buf[2 + CIFAR_PIXELS];
    for (int64_t i = 0; i < records && rc == 0; i++) {
        if (fread(buf, 1, (size_t)rec, fp) != (size_t)rec) {
            rc = err_set(err, cap, "%s: read error at record %lld", path, (long long)i);
            break;
        }
        int label = buf[f->label_at];
        if (label >= f->classes) {
            rc = err_set(err, cap, "%s: record %lld has label %d, but %s labels are 0..%d", path,
                         (long long)i, label, f->name, f->classes - 1);
            break;
        }
        float *x = d->x + d->n * CIFAR_PIXELS;
        for (int k = 0; k < CIFAR_PIXELS; k++) x[k] = (float)buf[f->label_bytes + k] / 255.0f;
        d->y[d->n++] = label;
    }
    fclose(fp);
    return rc;
}

/* Sizes every file first, so that a missing or cut file is reported
 * before anything is read. */
static int size_files(const cifar_fmt *f, const char *dir, const char *sub, const char *const *names, int n,
                      int64_t *records, char *err, size_t cap) {
    int rec = f->label_bytes + CIFAR_PIXELS;
    for (int i = 0; i < n; i++) {
        char p[4096];
        struct stat st;
        if (file_path(p, sizeof p, dir, sub, names[i])) return err_set(err, cap, "%s: path too long", dir);
        if (stat(p, &st) || !S_ISREG(st.st_mode))
            return err_set(err, cap, "%s data: %s is missing (the binary version of %s has %s%s%s and %s)",
                           f->name, p, f->name, f->files[0], f->n_files > 1 ? " to " : "",
                           f->n_files > 1 ? f->files[f->n_files - 1] : "", f->test);
        if (st.st_size > CIFAR_MAX_FILE)
            return err_set(err, cap, "%s: %lld bytes is far larger than any %s file: not a %s binary file", p,
                           (long long)st.st_size, f->name, f->name);
        if (st.st_size == 0 || st.st_size % rec)
            return err_set(err, cap,
                           "%s: %lld bytes is not a whole number of %d-byte %s records (%d label byte%s and "
                           "%d pixels): truncated, or not a %s binary file",
                           p, (long long)st.st_size, rec, f->name, f->label_bytes,
                           f->label_bytes > 1 ? "s" : "", CIFAR_PIXELS, f->name);
        records[i] = st.st_size / rec;
    }
    return 0;
}

static int load_set(const cifar_fmt *f, const char *dir, const char *sub, const char *const *names, int n,
                    rt_dataset *d, char *err, size_t cap) {
    int64_t records[6] = {0}, total = 0;
    if (size_files(f, dir, sub, names, n, records, err, cap)) return -1;
    for (int i = 0; i < n; i++) total += records[i];
    memset(d, 0, sizeof *d);
    d->x = malloc(sizeof(float) * (size_t)(total * CIFAR_PIXELS));
    d->y = malloc(sizeof(int32_t) * (size_t)total);
    if (!d->x || !d->y) {
        rt_dataset_free(d);
        return err_set(err, cap, "%s: out of memory for %lld images", dir, (long long)total);
    }
    for (int i = 0; i < n; i++) {
        char p[4096];
        file_path(p, sizeof p, dir, sub, names[i]);
        if (read_file(f, p, records[i], d, err, cap)) {
            rt_dataset_free(d);
            return -1;
        }
    }
    d->sample.rank = 3;
    d->sample.d[0] = 3, d->sample.d[1] = 32, d->sample.d[2] = 32;
    d->n_classes = f->classes; /* the head has every class, whatever this file holds */
    return 0;
}

int rt_load_cifar(const char *dir, int classes, rt_dataset *train, rt_dataset *test, char *err,
                  size_t errcap) {
    if (!dir || !train || !test) return err_set(err, errcap, "rt_load_cifar: missing argument");
    if (classes != 10 && classes != 100)
        return err_set(err, errcap, "CIFAR has 10 or 100 classes, not %d", classes);
    const cifar_fmt *f = classes == 10 ? &CIFAR10 : &CIFAR100;
    struct stat st;
    errno = 0;
    if (stat(dir, &st) || !S_ISDIR(st.st_mode))
        return err_set(err, errcap,
                       "%s data: %s is not a directory (%s): download the binary version, %s, from "
                       "https://www.cs.toronto.edu/~kriz/cifar.html and unpack it",
                       f->name, dir, errno ? strerror(errno) : "not a directory", f->archive);
    /* the folder the archive unpacks to, when dir is its parent */
    char probe[4096];
    const char *sub = NULL;
    if (!file_path(probe, sizeof probe, dir, NULL, f->files[0]) && access(probe, F_OK) &&
        !file_path(probe, sizeof probe, dir, f->sub, f->files[0]) && !access(probe, F_OK))
        sub = f->sub;
    int64_t records[6];
    if (size_files(f, dir, sub, f->files, f->n_files, records, err, errcap) ||
        size_files(f, dir, sub, &f->test, 1, records, err, errcap))
        return -1;
    if (load_set(f, dir, sub, f->files, f->n_files, train, err, errcap)) return -1;
    if (load_set(f, dir, sub, &f->test, 1, test, err, errcap)) {
        rt_dataset_free(train);
        return -1;
    }
    return 0;
}
