/* data.c: data set loaders (IDX through zlib, which also reads plain
 * files; CSV), the train/validation split, and random draws (normal deviates, shuffles) on nasc_rng.
 *
 * Every loader distrusts its input: headers are validated before any
 * allocation sized from them, the file must hold exactly the bytes its
 * header promises, and all faults come back as a message naming the file.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include "err.h"
#include "data.h"

/* Largest IDX payload accepted (elements): beyond this, the header is
 * far more likely corrupt than a real data set. */
#define RT_IDX_MAX_ELEMS ((int64_t)1 << 32)
#define RT_MAX_CLASSES   256
/* First output allocation (floats, 256 MB of address space that stays
 * uncommitted until written) before the data proves it is there. */
#define RT_IDX_FIRST_ALLOC ((int64_t)1 << 26)
/* gzread chunk: big enough to amortise calls, small enough for cache. */
#define RT_CHUNK (1u << 20)

void rt_dataset_free(rt_dataset *d) {
    if (!d) return;
    free(d->x);
    free(d->y);
    memset(d, 0, sizeof *d);
}

/* ================= IDX ================= */

typedef struct idx_file {
    gzFile gz;
    const char *path;
    int type; /* element type byte */
    int rank;
    int64_t dims[4];
    int64_t numel;
} idx_file;

static const char *idx_type_name(int t) {
    switch (t) {
    case 0x08: return "uint8";
    case 0x09: return "int8";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
    default: return "unknown";
    }
}

static int idx_elem_size(int t) { return t == 0x08 || t == 0x09 ? 1 : t == 0x0B ? 2 : t == 0x0E ? 8 : 4; }

/* zlib's error as "what went wrong" (gzerror prefixes the path, which
 * our messages already start with). */
static int gz_fail(idx_file *f, char *err, size_t cap) {
    int code = Z_OK;
    const char *m = gzerror(f->gz, &code);
    size_t pl = strlen(f->path);
    if (m && !strncmp(m, f->path, pl) && !strncmp(m + pl, ": ", 2)) m += pl + 2;
    if (!m || !*m) m = "unknown zlib error";
    if (code == Z_ERRNO) return err_set(err, cap, "%s: read error: %s", f->path, strerror(errno));
    if (code == Z_BUF_ERROR) return err_set(err, cap, "%s: truncated compressed data (%s)", f->path, m);
    return err_set(err, cap, "%s: corrupt compressed data (%s)", f->path, m);
}

/* Reads up to n bytes, looping because gzread takes an unsigned count;
 * returns the bytes read, or -1 on a stream error (err set). */
static int64_t idx_read(idx_file *f, void *buf, int64_t n, char *err, size_t cap) {
    int64_t got = 0;
    while (got < n) {
        int64_t want = n - got > (1 << 30) ? (1 << 30) : n - got;
        int r = gzread(f->gz, (char *)buf + got, (unsigned)want);
        if (r < 0) return gz_fail(f, err, cap);
        if (r == 0) break;
        got += r;
    }
    if (got < n) {
        int code = Z_OK;
        gzerror(f->gz, &code);
        if (code != Z_OK && code != Z_STREAM_END) return gz_fail(f, err, cap);
    }
    return got;
}

static uint32_t be32(const unsigned char *b) {
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static int idx_header(idx_file *f, char *err, size_t cap) {
    unsigned char h[4 + 4 * 4];
    int64_t r = idx_read(f, h, 4, err, cap);
    if (r < 0) return -1;
    if (r < 4) return err_set(err, cap, "%s: not an IDX file (only %lld bytes)", f->path, (long long)r);
    if (h[0] || h[1])
        return err_set(err, cap, "%s: not an IDX file (bad magic 0x%08X: the first two bytes must be 0)",
                       f->path, (unsigned)be32(h));
    f->type = h[2];
    f->rank = h[3];
    if (f->type != 0x08 && f->type != 0x0D && f->type != 0x0C)
        return err_set(err, cap,
                       "%s: unsupported IDX element type 0x%02X (%s): supported are uint8 (0x08), "
                       "int32 (0x0C) and float32 (0x0D)",
                       f->path, (unsigned)f->type, idx_type_name(f->type));
    if (f->rank < 1 || f->rank > 4)
        return err_set(err, cap, "%s: unsupported IDX rank %d (magic 0x%08X): expected 1 to 4 dimensions",
                       f->path, f->rank, (unsigned)be32(h));
    r = idx_read(f, h + 4, 4 * f->rank, err, cap);
    if (r < 0) return -1;
    if (r < 4 * f->rank)
        return err_set(err, cap, "%s: truncated IDX header: expected %d bytes, found %lld", f->path,
                       4 + 4 * f->rank, (long long)(4 + r));
    f->numel = 1;
    for (int i = 0; i < f->rank; i++) {
        f->dims[i] = be32(h + 4 + 4 * i);
        if (f->dims[i] == 0) return err_set(err, cap, "%s: IDX dimension %d is zero", f->path, i);
        if (f->dims[i] > RT_IDX_MAX_ELEMS / f->numel)
            return err_set(err, cap, "%s: IDX dimensions too large (more than %lld elements)", f->path,
                           (long long)RT_IDX_MAX_ELEMS);
        f->numel *= f->dims[i];
    }
    return 0;
}

static int idx_open(idx_file *f, const char *path, char *err, size_t cap) {
    memset(f, 0, sizeof *f);
    f->path = path;
    if (!path) return err_set(err, cap, "no IDX file given");
    errno = 0;
    f->gz = gzopen(path, "rb");
    if (!f->gz)
        return err_set(err, cap, "%s: cannot open: %s", path, errno ? strerror(errno) : "out of memory");
    gzbuffer(f->gz, RT_CHUNK);
    if (idx_header(f, err, cap)) {
        gzclose(f->gz);
        f->gz = NULL;
        return -1;
    }
    return 0;
}

static void idx_close(idx_file *f) {
    if (f->gz) gzclose(f->gz);
    f->gz = NULL;
}

/* Converts one chunk of raw big-endian elements to float. */
static void idx_convert(int type, const unsigned char *restrict src, float *restrict dst, int64_t n) {
    if (type == 0x08) {
        for (int64_t i = 0; i < n; i++) dst[i] = (float)src[i] / 255.0f;
    } else if (type == 0x0D) {
        for (int64_t i = 0; i < n; i++) {
            uint32_t u = be32(src + 4 * i);
            memcpy(&dst[i], &u, 4);
        }
    } else {
        for (int64_t i = 0; i < n; i++) dst[i] = (float)(int32_t)be32(src + 4 * i);
    }
}

/* The file must end exactly where its header says the data ends. */
static int idx_expect_eof(idx_file *f, int64_t expected, char *err, size_t cap) {
    unsigned char extra[4096];
    int64_t more = 0, r;
    while ((r = idx_read(f, extra, (int64_t)sizeof extra, err, cap)) > 0) more += r;
    if (r < 0) return -1;
    if (more)
        return err_set(err, cap,
                       "%s: %lld bytes of trailing data: the header promises %lld data bytes, "
                       "found %lld",
                       f->path, (long long)more, (long long)expected, (long long)(expected + more));
    return 0;
}

static int idx_truncated(idx_file *f, int64_t expected, int64_t found, char *err, size_t cap) {
    return err_set(err, cap, "%s: truncated: the header promises %lld data bytes, found %lld", f->path,
                   (long long)expected, (long long)found);
}

/* Reads the whole (small) payload as raw bytes. */
static int idx_read_exact(idx_file *f, unsigned char *out, char *err, size_t cap) {
    int64_t expected = f->numel * idx_elem_size(f->type), r = idx_read(f, out, expected, err, cap);
    if (r < 0) return -1;
    if (r < expected) return idx_truncated(f, expected, r, err, cap);
    return idx_expect_eof(f, expected, err, cap);
}

/* Makes room for `need` floats.  The buffer grows as data actually
 * arrives, so a corrupt header promising gigabytes costs nothing before
 * the file turns out to be short. */
static int grow_floats(float **out, int64_t *have, int64_t need, int64_t total) {
    if (need <= *have) return 0;
    int64_t nc = *have ? *have : RT_IDX_FIRST_ALLOC;
    while (nc < need) nc *= 2;
    if (nc > total) nc = total;
    float *p = realloc(*out, (size_t)nc * sizeof *p);
    if (!p) return -1;
    *out = p;
    *have = nc;
    return 0;
}

static int idx_check_finite(idx_file *f, const float *x, int64_t from, int64_t to, char *err, size_t cap) {
    for (int64_t i = from; i < to; i++)
        if (!isfinite(x[i]))
            return err_set(err, cap, "%s: element %lld is not a finite number", f->path, (long long)i);
    return 0;
}

/* Reads the whole payload as floats (uint8 scaled to [0, 1]) into a new
 * malloc'ed array *out. */
static int idx_read_floats(idx_file *f, float **out, char *err, size_t cap) {
    int es = idx_elem_size(f->type);
    int64_t chunk = RT_CHUNK / es, expected = f->numel * es, have = 0;
    unsigned char *buf = malloc(RT_CHUNK);
    int rc = buf ? 0 : err_set(err, cap, "%s: out of memory", f->path);
    *out = NULL;
    for (int64_t done = 0; rc == 0 && done < f->numel;) {
        int64_t n = f->numel - done < chunk ? f->numel - done : chunk;
        int64_t r = idx_read(f, buf, n * es, err, cap);
        if (r < 0)
            rc = -1;
        else if (r < n * es)
            rc = idx_truncated(f, expected, done * es + r, err, cap);
        else if (grow_floats(out, &have, done + n, f->numel))
            rc = err_set(err, cap, "%s: out of memory for %lld values", f->path, (long long)f->numel);
        else {
            idx_convert(f->type, buf, *out + done, n);
            if (f->type == 0x0D) rc = idx_check_finite(f, *out, done, done + n, err, cap);
            done += n;
        }
    }
    free(buf);
    if (rc == 0) rc = idx_expect_eof(f, expected, err, cap);
    if (rc) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

static int idx_load_images(const char *path, rt_dataset *out, char *err, size_t cap) {
    idx_file f;
    if (idx_open(&f, path, err, cap)) return -1;
    if (f.rank < 2) {
        idx_close(&f);
        return err_set(err, cap,
                       "%s: an image file needs at least 2 dimensions (found 1: is it a label file?)", path);
    }
    ir_shape s = {0};
    if (f.rank == 3) { /* [n, h, w] images get their single channel */
        s.rank = 3;
        s.d[0] = 1, s.d[1] = f.dims[1], s.d[2] = f.dims[2];
    } else {
        s.rank = f.rank - 1;
        for (int i = 1; i < f.rank; i++) s.d[i - 1] = f.dims[i];
    }
    float *x;
    if (idx_read_floats(&f, &x, err, cap)) {
        idx_close(&f);
        return -1;
    }
    idx_close(&f);
    memset(out, 0, sizeof *out);
    out->n = f.dims[0];
    out->sample = s;
    out->x = x;
    return 0;
}

static int idx_load_labels(const char *path, int64_t n_expected, int32_t **labels, int *n_classes, char *err,
                           size_t cap) {
    idx_file f;
    if (idx_open(&f, path, err, cap)) return -1;
    if (f.rank != 1 || f.type == 0x0D) {
        idx_close(&f);
        return err_set(err, cap, "%s: a label file must be 1-D uint8 or int32 (found %d-D %s)", path, f.rank,
                       idx_type_name(f.type));
    }
    if (f.dims[0] != n_expected) {
        idx_close(&f);
        return err_set(err, cap, "%s: %lld labels but the image file has %lld images", path,
                       (long long)f.dims[0], (long long)n_expected);
    }
    int es = idx_elem_size(f.type);
    unsigned char *raw = malloc((size_t)(f.numel * es));
    int32_t *y = malloc((size_t)f.numel * sizeof *y);
    int rc = (!raw || !y) ? err_set(err, cap, "%s: out of memory", path) : idx_read_exact(&f, raw, err, cap);
    idx_close(&f);
    int maxl = -1;
    for (int64_t i = 0; rc == 0 && i < f.numel; i++) {
        int64_t v = es == 1 ? raw[i] : (int32_t)be32(raw + 4 * i);
        if (v < 0 || v >= RT_MAX_CLASSES)
            rc = err_set(err, cap, "%s: label %lld of sample %lld is outside 0..%d", path, (long long)v,
                         (long long)i, RT_MAX_CLASSES - 1);
        y[i] = (int32_t)v;
        if (y[i] > maxl) maxl = y[i];
    }
    free(raw);
    if (rc) {
        free(y);
        return -1;
    }
    *labels = y;
    *n_classes = maxl + 1;
    return 0;
}

int rt_load_idx_images(const char *images, rt_dataset *out, char *err, size_t errcap) {
    if (!out) return err_set(err, errcap, "no output data set");
    return idx_load_images(images, out, err, errcap);
}

int rt_load_idx(const char *images, const char *labels, rt_dataset *out, char *err, size_t errcap) {
    if (!out) return err_set(err, errcap, "no output data set");
    if (!labels) return err_set(err, errcap, "no IDX label file given");
    if (idx_load_images(images, out, err, errcap)) return -1;
    if (idx_load_labels(labels, out->n, &out->y, &out->n_classes, err, errcap)) {
        rt_dataset_free(out);
        return -1;
    }
    return 0;
}

int rt_load_fashion_mnist(const char *dir, rt_dataset *train, rt_dataset *test, char *err, size_t errcap) {
    static const char *names[4] = {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                                   "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"};
    char path[4][4096];
    int missing = -1, n_missing = 0;
    if (!dir) dir = RT_FASHION_MNIST_DIR;
    if (!train || !test) return err_set(err, errcap, "no output data set");
    for (int i = 0; i < 4; i++) {
        if ((size_t)snprintf(path[i], sizeof path[i], "%s/%s", dir, names[i]) >= sizeof path[i])
            return err_set(err, errcap, "Fashion-MNIST directory path too long: %s", dir);
        if (access(path[i], R_OK) != 0) {
            if (missing < 0) missing = i;
            n_missing++;
        }
    }
    if (n_missing == 4)
        return err_set(err, errcap,
                       "Fashion-MNIST not found in %s: install the Debian package "
                       "dataset-fashion-mnist (apt-get install dataset-fashion-mnist)",
                       dir);
    if (n_missing)
        return err_set(
            err, errcap,
            "Fashion-MNIST incomplete in %s (%s is missing or unreadable): reinstall the "
            "Debian package dataset-fashion-mnist (apt-get install --reinstall dataset-fashion-mnist)",
            dir, names[missing]);
    if (rt_load_idx(path[0], path[1], train, err, errcap)) return -1;
    if (rt_load_idx(path[2], path[3], test, err, errcap)) {
        rt_dataset_free(train);
        return -1;
    }
    if (train->sample.rank != test->sample.rank ||
        ir_shape_numel(&train->sample) != ir_shape_numel(&test->sample)) {
        rt_dataset_free(train);
        rt_dataset_free(test);
        return err_set(err, errcap, "%s: test images have a different shape from the training images", dir);
    }
    /* both sets feed the same classifier head */
    int nc = train->n_classes > test->n_classes ? train->n_classes : test->n_classes;
    train->n_classes = test->n_classes = nc;
    return 0;
}

/* ================= CSV ================= */

typedef struct csv_row {
    char **f; /* field starts (NUL-terminated in place) */
    int n, cap;
} csv_row;

/* Splits one line in place into fields; "..." quotes (with "" for a quote)
 * are supported so that commas may appear in headers. Returns -1 on an
 * unterminated quote. */
static int csv_split(char *line, csv_row *row) {
    row->n = 0;
    char *p = line;
    for (;;) {
        if (row->n == row->cap) {
            int nc = row->cap ? row->cap * 2 : 16;
            char **nf = realloc(row->f, (size_t)nc * sizeof *nf);
            if (!nf) return -2;
            row->f = nf;
            row->cap = nc;
        }
        while (*p == ' ' || *p == '\t') p++;
        if (*p == '"') {
            char *w = ++p;
            row->f[row->n++] = w;
            for (;;) {
                if (!*p) return -1;
                if (*p == '"' && p[1] == '"') {
                    *w++ = '"';
                    p += 2;
                    continue;
                }
                if (*p == '"') {
                    p++;
                    break;
                }
                *w++ = *p++;
            }
            while (*p == ' ' || *p == '\t') p++;
            if (*p && *p != ',') return -1;
            *w = '\0';
        } else {
            row->f[row->n++] = p;
            while (*p && *p != ',') p++;
            char *e = p;
            while (e > row->f[row->n - 1] && (e[-1] == ' ' || e[-1] == '\t')) e--;
            if (*p == ',') {
                *e = '\0';
                p++;
                continue;
            }
            *e = '\0';
            return 0;
        }
        if (!*p) return 0;
        p++; /* the comma after a quoted field */
    }
}

/* A plain decimal number (no hex, inf or nan, which strtod would take). */
static int csv_number(const char *s, double *out) {
    const char *p = s;
    int digits = 0;
    if (*p == '+' || *p == '-') p++;
    while (*p >= '0' && *p <= '9') p++, digits++;
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9') p++, digits++;
    }
    if (!digits) return -1;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        if (!(*p >= '0' && *p <= '9')) return -1;
        while (*p >= '0' && *p <= '9') p++;
    }
    if (*p) return -1;
    errno = 0;
    *out = strtod(s, NULL);
    return isfinite(*out) ? 0 : -1;
}

static char *read_whole(const char *path, size_t *len, char *err, size_t cap) {
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        err_set(err, cap, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t n = 0, c = 1 << 16;
    char *buf = malloc(c + 1);
    for (;;) {
        if (!buf) {
            fclose(fp);
            err_set(err, cap, "%s: out of memory", path);
            return NULL;
        }
        n += fread(buf + n, 1, c - n, fp);
        if (n < c) break;
        c *= 2;
        char *nb = realloc(buf, c + 1);
        if (!nb) free(buf);
        buf = nb;
    }
    int bad = ferror(fp);
    fclose(fp);
    if (bad) {
        free(buf);
        err_set(err, cap, "%s: read error", path);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Next line of buf (CRLF or LF), NUL-terminated in place; NULL at the end. */
static char *next_line(char **cur, char *end) {
    if (*cur >= end) return NULL;
    char *s = *cur, *nl = memchr(s, '\n', (size_t)(end - s));
    char *e = nl ? nl : end;
    *cur = nl ? nl + 1 : end;
    if (e > s && e[-1] == '\r') e--;
    *e = '\0';
    return s;
}

static int is_blank(const char *s) {
    while (*s == ' ' || *s == '\t') s++;
    return !*s;
}

typedef struct csv_ctx {
    const char *path;
    int ncol, label_col;
    float *x;
    int32_t *y;
    int64_t n, cap;
    char **names; /* header fields (point into the buffer) */
} csv_ctx;

static int csv_header(csv_ctx *c, csv_row *row, const char *label, char *err, size_t cap) {
    c->ncol = row->n;
    c->label_col = -1;
    for (int i = 0; i < row->n; i++) {
        if (strcmp(row->f[i], label)) continue;
        if (c->label_col >= 0)
            return err_set(err, cap, "%s:1: the label column \"%s\" appears twice in the header", c->path,
                           label);
        c->label_col = i;
    }
    if (c->label_col < 0)
        return err_set(err, cap, "%s:1: no column named \"%s\" in the header (first column: \"%s\")", c->path,
                       label, row->f[0]);
    if (row->n < 2)
        return err_set(err, cap, "%s:1: no feature columns besides the label \"%s\"", c->path, label);
    c->names = malloc((size_t)row->n * sizeof *c->names);
    if (!c->names) return err_set(err, cap, "%s: out of memory", c->path);
    memcpy(c->names, row->f, (size_t)row->n * sizeof *c->names);
    return 0;
}

static int csv_row_values(csv_ctx *c, csv_row *row, int64_t lineno, char *err, size_t cap) {
    if (row->n != c->ncol)
        return err_set(err, cap, "%s:%lld: %d fields, but the header has %d columns", c->path,
                       (long long)lineno, row->n, c->ncol);
    if (c->n == c->cap) {
        int64_t nc = c->cap ? c->cap * 2 : 256;
        float *nx = realloc(c->x, (size_t)(nc * (c->ncol - 1)) * sizeof *nx);
        if (nx) c->x = nx;
        int32_t *ny = realloc(c->y, (size_t)nc * sizeof *ny);
        if (ny) c->y = ny;
        if (!nx || !ny) return err_set(err, cap, "%s: out of memory", c->path);
        c->cap = nc;
    }
    float *xr = c->x + c->n * (c->ncol - 1);
    for (int i = 0, k = 0; i < row->n; i++) {
        double v;
        if (csv_number(row->f[i], &v))
            return err_set(err, cap, "%s:%lld: column %d (\"%s\"): \"%s\" is not a finite number", c->path,
                           (long long)lineno, i + 1, c->names[i], row->f[i]);
        if (i != c->label_col) {
            xr[k++] = (float)v;
            continue;
        }
        if (v != floor(v) || v < 0 || v >= RT_MAX_CLASSES)
            return err_set(err, cap,
                           "%s:%lld: column %d (\"%s\"): label \"%s\" is not a class index in 0..%d", c->path,
                           (long long)lineno, i + 1, c->names[i], row->f[i], RT_MAX_CLASSES - 1);
        c->y[c->n] = (int32_t)v;
    }
    c->n++;
    return 0;
}

static int csv_parse(csv_ctx *c, char *buf, size_t len, const char *label, char *err, size_t cap) {
    char *cur = buf, *end = buf + len, *line;
    csv_row row = {0};
    int64_t lineno = 0;
    int rc = 0, have_header = 0;
    if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3)) cur += 3; /* UTF-8 byte order mark */
    while (rc == 0 && (line = next_line(&cur, end))) {
        lineno++;
        if (is_blank(line)) continue;
        int s = csv_split(line, &row);
        if (s == -2)
            rc = err_set(err, cap, "%s: out of memory", c->path);
        else if (s)
            rc = err_set(err, cap, "%s:%lld: unterminated or misplaced quote", c->path, (long long)lineno);
        else if (!have_header) {
            rc = csv_header(c, &row, label, err, cap);
            have_header = 1;
        } else
            rc = csv_row_values(c, &row, lineno, err, cap);
    }
    free(row.f);
    if (rc == 0 && !have_header) rc = err_set(err, cap, "%s: empty file (no header row)", c->path);
    if (rc == 0 && c->n == 0) rc = err_set(err, cap, "%s: no data rows after the header", c->path);
    return rc;
}

int rt_load_csv(const char *path, const char *label, rt_dataset *out, char *err, size_t errcap) {
    if (!path || !label || !out) return err_set(err, errcap, "rt_load_csv: missing path, label or output");
    size_t len;
    char *buf = read_whole(path, &len, err, errcap);
    if (!buf) return -1;
    if (memchr(buf, '\0', len)) {
        free(buf);
        return err_set(err, errcap, "%s: contains NUL bytes: not a text CSV file", path);
    }
    csv_ctx c = {0};
    c.path = path;
    int rc = csv_parse(&c, buf, len, label, err, errcap);
    free(c.names);
    free(buf);
    if (rc) {
        free(c.x);
        free(c.y);
        return -1;
    }
    memset(out, 0, sizeof *out);
    out->n = c.n;
    out->sample.rank = 1;
    out->sample.d[0] = c.ncol - 1;
    out->x = c.x;
    out->y = c.y;
    int maxl = 0;
    for (int64_t i = 0; i < c.n; i++)
        if (c.y[i] > maxl) maxl = c.y[i];
    out->n_classes = maxl + 1;
    return 0;
}

/* ================= split ================= */

static int subset(const rt_dataset *src, const int64_t *idx, int64_t n, rt_dataset *dst) {
    int64_t d = ir_shape_numel(&src->sample);
    memset(dst, 0, sizeof *dst);
    dst->sample = src->sample;
    dst->n_classes = src->n_classes;
    dst->n = n;
    if (n == 0) return 0;
    dst->x = malloc((size_t)(n * d) * sizeof *dst->x);
    if (src->y) dst->y = malloc((size_t)n * sizeof *dst->y);
    if (!dst->x || (src->y && !dst->y)) {
        rt_dataset_free(dst);
        return -1;
    }
    for (int64_t i = 0; i < n; i++) {
        memcpy(dst->x + i * d, src->x + idx[i] * d, (size_t)d * sizeof *dst->x);
        if (src->y) dst->y[i] = src->y[idx[i]];
    }
    return 0;
}

int rt_sample_fits(const ir_shape *sample, const ir_shape *net) {
    if (ir_shape_numel(sample) != ir_shape_numel(net)) return 0;
    int a = 0, b = 0;
    while (a < sample->rank - 1 && sample->d[a] == 1) a++;
    while (b < net->rank - 1 && net->d[b] == 1) b++;
    if (sample->rank - a <= 1 || net->rank - b <= 1) return 1;
    if (sample->rank - a != net->rank - b) return 0;
    for (int i = 0; a + i < sample->rank; i++)
        if (sample->d[a + i] != net->d[b + i]) return 0;
    return 1;
}

int rt_dataset_split(const rt_dataset *src, double fraction, uint64_t seed, rt_dataset *train,
                     rt_dataset *val, char *err, size_t errcap) {
    if (!src || !train || !val) return err_set(err, errcap, "rt_dataset_split: missing argument");
    if (!(fraction >= 0.0 && fraction < 1.0))
        return err_set(err, errcap, "validation fraction %g is outside [0, 1)", fraction);
    if (src->n <= 0 || !src->x) return err_set(err, errcap, "cannot split an empty data set");
    int64_t n_val = (int64_t)llround(fraction * (double)src->n);
    if (n_val >= src->n) n_val = src->n - 1; /* keep at least one training sample */
    if (fraction > 0 && n_val < 1)
        return err_set(err, errcap,
                       "%lld samples are too few for a validation split of %g (each part needs at least one)",
                       (long long)src->n, fraction);
    int64_t *idx = malloc((size_t)src->n * sizeof *idx);
    if (!idx) return err_set(err, errcap, "out of memory");
    for (int64_t i = 0; i < src->n; i++) idx[i] = i;
    nasc_rng r;
    nasc_rng_seed(&r, seed);
    rt_shuffle(&r, idx, src->n);
    int64_t n_tr = src->n - n_val;
    int rc = subset(src, idx, n_tr, train);
    if (rc == 0 && (rc = subset(src, idx + n_tr, n_val, val)) != 0) rt_dataset_free(train);
    free(idx);
    return rc ? err_set(err, errcap, "out of memory splitting %lld samples", (long long)src->n) : 0;
}

/* ================= random draws (nasc/rng.h) ================= */

float rt_rng_normal(nasc_rng *r) {
    /* Box-Muller; 1 - u keeps the log argument in (0, 1] */
    double u1 = 1.0 - nasc_rng_uniform(r), u2 = nasc_rng_uniform(r);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586476925 * u2));
}

void rt_shuffle(nasc_rng *r, int64_t *idx, int64_t n) {
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)nasc_rng_below(r, (uint64_t)i + 1);
        int64_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
}
