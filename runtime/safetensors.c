/* safetensors.c: writer and validating reader of the safetensors format,
 * so trained weights (and optimizer state) load in Python's safetensors
 * and PyTorch, and a corrupt or foreign file is rejected with a reason
 * instead of being trusted.
 *
 * Layout: u64 little-endian header length N, N bytes of JSON (padded with
 * spaces to a multiple of 8, as the reference writer does, so the data
 * starts aligned), then the tensors' bytes, contiguous and in order.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "err.h"
#include "json.h"
#include "safetensors.h"

/* The reference implementation refuses headers above 100 MB. */
#define ST_MAX_HEADER 100000000ull
#define ST_MAX_RANK   8

struct rt_st_file {
    int n;
    rt_st_tensor *t;
    char **names;
    int n_meta;
    char **meta_k, **meta_v;
    float *data; /* all tensor bytes, malloc'ed (so float-aligned) */
};

static int host_is_le(void) {
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

static void put_le64(unsigned char *b, uint64_t v) {
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le64(const unsigned char *b) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | b[i];
    return v;
}

/* Element count of a tensor's shape, or -1 on a bad or overflowing shape. */
static int64_t shape_numel(const int64_t *shape, int rank) {
    int64_t n = 1;
    for (int i = 0; i < rank; i++) {
        if (shape[i] < 0) return -1;
        if (shape[i] && n > INT64_MAX / 4 / shape[i]) return -1;
        n *= shape[i];
    }
    return n;
}

/* ================= writing ================= */

static int check_inputs(const rt_st_tensor *ts, int n, const char *const *mk, const char *const *mv,
                        int n_meta, char *err, size_t cap) {
    if (n < 0 || n_meta < 0 || (n && !ts) || (n_meta && (!mk || !mv)))
        return err_set(err, cap, "rt_st_write: bad arguments");
    for (int i = 0; i < n; i++) {
        if (!ts[i].name || !*ts[i].name) return err_set(err, cap, "tensor %d has no name", i);
        if (!json_utf8_valid(ts[i].name, strlen(ts[i].name)))
            return err_set(err, cap, "tensor %d: name is not valid UTF-8", i);
        if (!strcmp(ts[i].name, "__metadata__"))
            return err_set(err, cap, "\"__metadata__\" is reserved and cannot name a tensor");
        if (ts[i].rank < 0 || ts[i].rank > ST_MAX_RANK)
            return err_set(err, cap, "tensor \"%s\": rank %d outside 0..%d", ts[i].name, ts[i].rank,
                           ST_MAX_RANK);
        int64_t k = shape_numel(ts[i].shape, ts[i].rank);
        if (k < 0) return err_set(err, cap, "tensor \"%s\": invalid shape", ts[i].name);
        if (k > 0 && !ts[i].data) return err_set(err, cap, "tensor \"%s\": no data", ts[i].name);
        for (int j = 0; j < i; j++)
            if (!strcmp(ts[i].name, ts[j].name))
                return err_set(err, cap, "duplicate tensor name \"%s\"", ts[i].name);
    }
    for (int i = 0; i < n_meta; i++) {
        if (!mk[i] || !mv[i]) return err_set(err, cap, "metadata entry %d is NULL", i);
        if (!json_utf8_valid(mk[i], strlen(mk[i])) || !json_utf8_valid(mv[i], strlen(mv[i])))
            return err_set(err, cap, "metadata entry %d is not valid UTF-8", i);
        for (int j = 0; j < i; j++)
            if (!strcmp(mk[i], mk[j])) return err_set(err, cap, "duplicate metadata key \"%s\"", mk[i]);
    }
    return 0;
}

/* The JSON header, padded with spaces to a multiple of 8 bytes. */
static int build_header(strbuf *b, const rt_st_tensor *ts, int n, const char *const *mk,
                        const char *const *mv, int n_meta) {
    int64_t off = 0;
    strbuf_puts(b, "{");
    if (n_meta) {
        strbuf_puts(b, "\"__metadata__\":{");
        for (int i = 0; i < n_meta; i++) {
            if (i) strbuf_puts(b, ",");
            json_write_string(b, mk[i], strlen(mk[i]));
            strbuf_puts(b, ":");
            json_write_string(b, mv[i], strlen(mv[i]));
        }
        strbuf_puts(b, "}");
    }
    for (int i = 0; i < n; i++) {
        int64_t bytes = shape_numel(ts[i].shape, ts[i].rank) * 4;
        if (i || n_meta) strbuf_puts(b, ",");
        json_write_string(b, ts[i].name, strlen(ts[i].name));
        strbuf_puts(b, ":{\"dtype\":\"F32\",\"shape\":[");
        for (int d = 0; d < ts[i].rank; d++) {
            if (d) strbuf_puts(b, ",");
            json_write_int(b, ts[i].shape[d]);
        }
        strbuf_puts(b, "],\"data_offsets\":[");
        json_write_int(b, off);
        strbuf_puts(b, ",");
        json_write_int(b, off + bytes);
        strbuf_puts(b, "]}");
        off += bytes;
    }
    strbuf_puts(b, "}");
    while (!b->failed && b->len % 8) strbuf_puts(b, " ");
    return b->failed ? -1 : 0;
}

static int write_all(FILE *fp, const void *p, size_t n) { return fwrite(p, 1, n, fp) == n ? 0 : -1; }

/* Tensor bytes in little-endian order, swapping on a big-endian host. */
static int write_tensor(FILE *fp, const rt_st_tensor *t) {
    int64_t k = shape_numel(t->shape, t->rank);
    if (k == 0) return 0;
    if (host_is_le()) return write_all(fp, t->data, (size_t)k * 4);
    for (int64_t i = 0; i < k; i++) {
        unsigned char b[4], s[4];
        memcpy(b, &t->data[i], 4);
        s[0] = b[3], s[1] = b[2], s[2] = b[1], s[3] = b[0];
        if (write_all(fp, s, 4)) return -1;
    }
    return 0;
}

/* Opens a fresh temporary file next to path (same file system, so the
 * final rename is atomic); honours the umask like a plain fopen would. */
static FILE *open_temp(const char *path, char *tmp, size_t tcap) {
    static unsigned counter;
    for (int attempt = 0; attempt < 100; attempt++) {
        if ((size_t)snprintf(tmp, tcap, "%s.tmp.%ld.%u", path, (long)getpid(), counter++) >= tcap) {
            errno = ENAMETOOLONG;
            return NULL;
        }
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
        if (fd >= 0) {
            FILE *fp = fdopen(fd, "wb");
            if (!fp) {
                close(fd);
                unlink(tmp);
            }
            return fp;
        }
        if (errno != EEXIST) return NULL;
    }
    return NULL;
}

int rt_st_write(const char *path, const rt_st_tensor *ts, int n, const char *const *meta_keys,
                const char *const *meta_vals, int n_meta, char *err, size_t errcap) {
    if (!path) return err_set(err, errcap, "rt_st_write: no path");
    if (check_inputs(ts, n, meta_keys, meta_vals, n_meta, err, errcap)) return -1;
    strbuf h = {0};
    if (build_header(&h, ts, n, meta_keys, meta_vals, n_meta)) {
        strbuf_free(&h);
        return err_set(err, errcap, "%s: out of memory building the header", path);
    }
    char tmp[4096];
    FILE *fp = open_temp(path, tmp, sizeof tmp);
    if (!fp) {
        strbuf_free(&h);
        return err_set(err, errcap, "%s: cannot create a temporary file: %s", path, strerror(errno));
    }
    unsigned char len8[8];
    put_le64(len8, h.len);
    int bad = write_all(fp, len8, 8) || write_all(fp, h.data, h.len);
    strbuf_free(&h);
    for (int i = 0; i < n && !bad; i++) bad = write_tensor(fp, &ts[i]);
    int e = errno;
    if (!bad && (fflush(fp) != 0 || fsync(fileno(fp)) != 0)) bad = 1, e = errno;
    if (fclose(fp) != 0 && !bad) bad = 1, e = errno;
    if (!bad && rename(tmp, path) != 0) bad = 1, e = errno;
    if (bad) {
        unlink(tmp);
        return err_set(err, errcap, "%s: write failed: %s", path, strerror(e ? e : EIO));
    }
    return 0;
}

/* ================= reading ================= */

void rt_st_free(rt_st_file *f) {
    if (!f) return;
    for (int i = 0; i < f->n; i++) free(f->names[i]);
    for (int i = 0; i < f->n_meta; i++) {
        free(f->meta_k[i]);
        free(f->meta_v[i]);
    }
    free(f->names);
    free(f->t);
    free(f->meta_k);
    free(f->meta_v);
    free(f->data);
    free(f);
}

int rt_st_count(const rt_st_file *f) { return f ? f->n : 0; }

const rt_st_tensor *rt_st_get(const rt_st_file *f, int i) {
    return f && i >= 0 && i < f->n ? &f->t[i] : NULL;
}

const rt_st_tensor *rt_st_find(const rt_st_file *f, const char *name) {
    if (!f || !name) return NULL;
    for (int i = 0; i < f->n; i++)
        if (!strcmp(f->t[i].name, name)) return &f->t[i];
    return NULL;
}

const char *rt_st_meta(const rt_st_file *f, const char *key) {
    if (!f || !key) return NULL;
    for (int i = 0; i < f->n_meta; i++)
        if (!strcmp(f->meta_k[i], key)) return f->meta_v[i];
    return NULL;
}

static char *dup_n(const char *s, size_t n) {
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static int read_meta(rt_st_file *f, const json_value *m, const char *path, char *err, size_t cap) {
    if (m->type != JSON_OBJECT)
        return err_set(err, cap, "%s: \"__metadata__\" must be an object, not %s", path,
                       json_type_name(m->type));
    f->meta_k = calloc(m->n + 1, sizeof *f->meta_k);
    f->meta_v = calloc(m->n + 1, sizeof *f->meta_v);
    if (!f->meta_k || !f->meta_v) return err_set(err, cap, "%s: out of memory", path);
    for (size_t i = 0; i < m->n; i++) {
        if (m->items[i].type != JSON_STRING)
            return err_set(err, cap, "%s: metadata \"%s\" must be a string, not %s", path, m->keys[i],
                           json_type_name(m->items[i].type));
        if (strlen(m->keys[i]) != m->key_lens[i] || strlen(m->items[i].str) != m->items[i].len)
            return err_set(err, cap, "%s: metadata \"%s\" contains a NUL character", path, m->keys[i]);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(m->keys[i], m->keys[j]))
                return err_set(err, cap, "%s: duplicate metadata key \"%s\"", path, m->keys[i]);
        f->meta_k[f->n_meta] = dup_n(m->keys[i], m->key_lens[i]);
        f->meta_v[f->n_meta] = dup_n(m->items[i].str, m->items[i].len);
        f->n_meta++;
        if (!f->meta_k[f->n_meta - 1] || !f->meta_v[f->n_meta - 1])
            return err_set(err, cap, "%s: out of memory", path);
    }
    return 0;
}

/* A non-negative JSON integer, or -1. */
static int64_t json_nonneg(const json_value *v) {
    return v && v->type == JSON_NUMBER && v->is_int && v->integer >= 0 ? v->integer : -1;
}

typedef struct tensor_span {
    int64_t begin, end;
    int idx;
} tensor_span;

/* Parses one tensor entry; begin/end are offsets into the data section. */
static int read_entry(const char *name, const json_value *e, rt_st_tensor *t, tensor_span *sp,
                      const char *path, char *err, size_t cap) {
    if (e->type != JSON_OBJECT)
        return err_set(err, cap, "%s: tensor \"%s\": entry is not an object", path, name);
    const json_value *dt = json_get(e, "dtype"), *sh = json_get(e, "shape"),
                     *of = json_get(e, "data_offsets");
    if (!dt || dt->type != JSON_STRING)
        return err_set(err, cap, "%s: tensor \"%s\": missing dtype", path, name);
    if (strcmp(dt->str, "F32"))
        return err_set(err, cap, "%s: tensor \"%s\" has dtype %s: only F32 is supported", path, name,
                       dt->str);
    if (!sh || sh->type != JSON_ARRAY)
        return err_set(err, cap, "%s: tensor \"%s\": missing shape", path, name);
    if (sh->n > ST_MAX_RANK)
        return err_set(err, cap, "%s: tensor \"%s\": rank %zu exceeds %d", path, name, sh->n, ST_MAX_RANK);
    t->rank = (int)sh->n;
    for (size_t d = 0; d < sh->n; d++)
        if ((t->shape[d] = json_nonneg(&sh->items[d])) < 0)
            return err_set(err, cap, "%s: tensor \"%s\": shape must hold non-negative integers", path, name);
    if (!of || of->type != JSON_ARRAY || of->n != 2 || json_nonneg(&of->items[0]) < 0 ||
        json_nonneg(&of->items[1]) < 0)
        return err_set(err, cap, "%s: tensor \"%s\": data_offsets must be [begin, end]", path, name);
    sp->begin = of->items[0].integer;
    sp->end = of->items[1].integer;
    if (sp->end < sp->begin)
        return err_set(err, cap, "%s: tensor \"%s\": data_offsets end before begin", path, name);
    int64_t k = shape_numel(t->shape, t->rank);
    if (k < 0 || k * 4 != sp->end - sp->begin)
        return err_set(err, cap, "%s: tensor \"%s\": shape needs %lld bytes but data_offsets span %lld", path,
                       name, (long long)(k < 0 ? -1 : k * 4), (long long)(sp->end - sp->begin));
    return 0;
}

static int cmp_span(const void *a, const void *b) {
    const tensor_span *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin ? 1 : x->end < y->end ? -1 : x->end > y->end;
}

/* The tensors must tile the data section exactly: no gap, no overlap. */
static int check_tiling(tensor_span *sp, int n, int64_t data_len, const rt_st_file *f, const char *path,
                        char *err, size_t cap) {
    qsort(sp, (size_t)n, sizeof *sp, cmp_span);
    int64_t at = 0;
    for (int i = 0; i < n; i++) {
        if (sp[i].begin != at)
            return err_set(err, cap, "%s: tensor \"%s\" %s at byte %lld of the data (expected %lld)", path,
                           f->t[sp[i].idx].name,
                           sp[i].begin < at ? "overlaps another" : "leaves a gap: starts",
                           (long long)sp[i].begin, (long long)at);
        at = sp[i].end;
    }
    if (at != data_len)
        return err_set(err, cap, "%s: tensor data covers %lld bytes but the file holds %lld after the header",
                       path, (long long)at, (long long)data_len);
    return 0;
}

static int read_header(rt_st_file *f, const json_value *h, int64_t data_len, const char *path, char *err,
                       size_t cap) {
    if (h->type != JSON_OBJECT) return err_set(err, cap, "%s: header is not a JSON object", path);
    f->t = calloc(h->n + 1, sizeof *f->t);
    f->names = calloc(h->n + 1, sizeof *f->names);
    tensor_span *sp = calloc(h->n + 1, sizeof *sp);
    int rc = (!f->t || !f->names || !sp) ? err_set(err, cap, "%s: out of memory", path) : 0;
    for (size_t i = 0; rc == 0 && i < h->n; i++) {
        const char *name = h->keys[i];
        if (strlen(name) != h->key_lens[i])
            rc = err_set(err, cap, "%s: a tensor name contains NUL", path);
        else if (!strcmp(name, "__metadata__"))
            rc = f->meta_k ? err_set(err, cap, "%s: duplicate __metadata__", path)
                           : read_meta(f, &h->items[i], path, err, cap);
        else {
            for (int j = 0; j < f->n && rc == 0; j++)
                if (!strcmp(f->names[j], name))
                    rc = err_set(err, cap, "%s: duplicate tensor name \"%s\"", path, name);
            rt_st_tensor *t = &f->t[f->n];
            if (rc == 0) rc = read_entry(name, &h->items[i], t, &sp[f->n], path, err, cap);
            if (rc == 0 && !(f->names[f->n] = dup_n(name, h->key_lens[i])))
                rc = err_set(err, cap, "out of memory");
            if (rc == 0) {
                t->name = f->names[f->n];
                sp[f->n].idx = f->n;
                f->n++;
            }
        }
    }
    if (rc == 0) rc = check_tiling(sp, f->n, data_len, f, path, err, cap);
    /* check_tiling sorted sp: data pointers are set from each span's idx */
    for (int i = 0; rc == 0 && i < f->n; i++)
        f->t[sp[i].idx].data = f->data ? (const float *)((const char *)f->data + sp[i].begin) : NULL;
    free(sp);
    return rc;
}

static int read_exact(FILE *fp, void *buf, size_t n) { return fread(buf, 1, n, fp) == n ? 0 : -1; }

static void swap_to_host(float *d, int64_t bytes) {
    if (host_is_le()) return;
    unsigned char *b = (unsigned char *)d;
    for (int64_t i = 0; i + 4 <= bytes; i += 4) {
        unsigned char t = b[i];
        b[i] = b[i + 3], b[i + 3] = t;
        t = b[i + 1], b[i + 1] = b[i + 2], b[i + 2] = t;
    }
}

/* Reads the header text and the data section into memory after bounds checks. */
static int load_parts(FILE *fp, const char *path, char **hdr, uint64_t *hlen, rt_st_file *f,
                      int64_t *data_len, char *err, size_t cap) {
    struct stat stt;
    if (fstat(fileno(fp), &stt) != 0) return err_set(err, cap, "%s: cannot stat: %s", path, strerror(errno));
    uint64_t size = (uint64_t)stt.st_size;
    unsigned char len8[8];
    if (size < 8 || read_exact(fp, len8, 8))
        return err_set(err, cap, "%s: too short for a safetensors file (%llu bytes)", path,
                       (unsigned long long)size);
    *hlen = get_le64(len8);
    if (*hlen > ST_MAX_HEADER || *hlen > size - 8)
        return err_set(err, cap, "%s: header length %llu is impossible for a file of %llu bytes", path,
                       (unsigned long long)*hlen, (unsigned long long)size);
    if (!(*hdr = malloc(*hlen + 1))) return err_set(err, cap, "%s: out of memory", path);
    if (read_exact(fp, *hdr, *hlen)) return err_set(err, cap, "%s: cannot read the header", path);
    *data_len = (int64_t)(size - 8 - *hlen);
    if (*data_len && !(f->data = malloc((size_t)*data_len)))
        return err_set(err, cap, "%s: out of memory", path);
    if (*data_len && read_exact(fp, f->data, (size_t)*data_len))
        return err_set(err, cap, "%s: cannot read the tensor data", path);
    swap_to_host(f->data, *data_len);
    return 0;
}

rt_st_file *rt_st_read(const char *path, char *err, size_t errcap) {
    if (!path) {
        err_set(err, errcap, "rt_st_read: no path");
        return NULL;
    }
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        err_set(err, errcap, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    rt_st_file *f = calloc(1, sizeof *f);
    char *hdr = NULL;
    uint64_t hlen = 0;
    int64_t data_len = 0;
    int rc = f ? load_parts(fp, path, &hdr, &hlen, f, &data_len, err, errcap)
               : err_set(err, errcap, "out of memory");
    fclose(fp);
    if (rc == 0) {
        char jerr[256];
        json_value *h = json_parse(hdr, hlen, jerr, sizeof jerr);
        if (!h)
            rc = err_set(err, errcap, "%s: invalid JSON header: %s", path, jerr);
        else
            rc = read_header(f, h, data_len, path, err, errcap);
        json_free(h);
    }
    free(hdr);
    if (rc) {
        rt_st_free(f);
        return NULL;
    }
    return f;
}
