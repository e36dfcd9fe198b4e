/* data.h: data sets for training and evaluation (IDX, gzip, CSV).
 *
 * Samples are float32, one row of `numel(sample)` values each; labels are
 * int32 class indices.  uint8 pixels are scaled to [0, 1].  Loaders never
 * print: they return -1 and write a message naming the file into err.
 */
#ifndef NASC_RT_DATA_H
#define NASC_RT_DATA_H

#include <stddef.h>
#include <stdint.h>
#include "graph.h"
#include "nasc/rng.h"

typedef struct rt_dataset {
    int64_t n;       /* samples */
    ir_shape sample; /* per-sample shape, e.g. [1, 28, 28] for IDX images */
    float *x;        /* n * numel(sample) values, malloc'ed */
    int32_t *y;      /* n labels, malloc'ed */
    int n_classes;   /* 1 + max label */
} rt_dataset;

#define RT_FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"

/* Loads the four gzipped IDX files of Debian's dataset-fashion-mnist from
 * dir (NULL: RT_FASHION_MNIST_DIR).  When they are missing, err says to
 * install the package `dataset-fashion-mnist`. */
int rt_load_fashion_mnist(const char *dir, rt_dataset *train, rt_dataset *test, char *err, size_t errcap);
/* An IDX image file (gzipped or not; uint8 or float32 element type) and its
 * IDX label file.  Images idx3 [n, h, w] become samples [1, h, w]; idx2
 * [n, d] become [d]. Counts must match. */
int rt_load_idx(const char *images, const char *labels, rt_dataset *out, char *err, size_t errcap);
/* Only the images of an IDX file (no labels: y is NULL), for inference. */
int rt_load_idx_images(const char *images, rt_dataset *out, char *err, size_t errcap);
/* A CSV with a header row; `label` names the label column (integers);
 * every other column is a float feature: samples are [columns - 1]. */
int rt_load_csv(const char *path, const char *label, rt_dataset *out, char *err, size_t errcap);
void rt_dataset_free(rt_dataset *d);
/* 1 when samples of shape `sample` fit a network input of shape `net`:
 * the same dims once leading 1s are dropped, or the same count when
 * either is flat (raw float32, CSV rows). [56, 14] images do not fit
 * [1, 28, 28] although both hold 784 values. */
int rt_sample_fits(const ir_shape *sample, const ir_shape *net);

/* Splits the last `fraction` of a fixed shuffle (by seed) of src into val,
 * the rest into train; both copy the data.  A fraction > 0 that leaves
 * either part empty is an error. */
int rt_dataset_split(const rt_dataset *src, double fraction, uint64_t seed, rt_dataset *train,
                     rt_dataset *val, char *err, size_t errcap);

/* Draws from the one PRNG, nasc_rng (nasc/rng.h). */
float rt_rng_normal(nasc_rng *r);
void rt_shuffle(nasc_rng *r, int64_t *idx, int64_t n); /* Fisher-Yates */

#endif
