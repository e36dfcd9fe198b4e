/* safetensors.h: reading and writing the safetensors format
 * (8-byte little-endian header length, a JSON header of
 * name -> {dtype, shape, data_offsets} plus "__metadata__" of string
 * values, then the raw little-endian data), readable by Python's
 * safetensors and PyTorch.  Only F32 tensors are written; F32 is read. */
#ifndef NASC_RT_SAFETENSORS_H
#define NASC_RT_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

typedef struct rt_st_tensor {
    const char *name;
    int rank;
    int64_t shape[8];
    const float *data; /* numel(shape) floats */
} rt_st_tensor;

/* Writes n tensors and metadata pairs (meta_keys[i] -> meta_vals[i], both
 * strings, e.g. "nasc.point" -> the point's JSON).  Atomic: writes a
 * temporary file and renames it. Returns 0, or -1 with err set. */
int rt_st_write(const char *path, const rt_st_tensor *ts, int n, const char *const *meta_keys,
                const char *const *meta_vals, int n_meta, char *err, size_t errcap);

typedef struct rt_st_file rt_st_file;
/* Reads and validates a whole file (header bounds, offsets, dtype, sizes). */
rt_st_file *rt_st_read(const char *path, char *err, size_t errcap);
void rt_st_free(rt_st_file *f);
int rt_st_count(const rt_st_file *f);
/* The i-th tensor (its data is owned by f, float-aligned). */
const rt_st_tensor *rt_st_get(const rt_st_file *f, int i);
const rt_st_tensor *rt_st_find(const rt_st_file *f, const char *name);
/* A metadata value, or NULL. */
const char *rt_st_meta(const rt_st_file *f, const char *key);

#endif
