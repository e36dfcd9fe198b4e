/* cifar.h: the CIFAR-10 and CIFAR-100 binary formats (the "binary
 * version" archives users download themselves).
 *
 * CIFAR-10: data_batch_1.bin .. data_batch_5.bin and test_batch.bin, each
 * a sequence of 3073-byte records: a label byte (0..9), then 3072 pixel
 * bytes, 1024 red, 1024 green and 1024 blue, rows top to bottom.
 * CIFAR-100: train.bin and test.bin, 3074-byte records: the coarse label
 * (0..19), the fine label (0..99, the one used), then the pixels.
 * Samples are [3, 32, 32] floats in [0, 1].  A file may hold any whole
 * number of records (the tests write small ones); a missing file, a size
 * that is not a whole number of records, or a label out of range is an
 * error naming the file.
 */
#ifndef NASC_RT_CIFAR_H
#define NASC_RT_CIFAR_H

#include <stddef.h>
#include "data.h"

/* classes: 10 or 100.  dir may also be the folder that holds the archive's
 * cifar-10-batches-bin/ or cifar-100-binary/. */
int rt_load_cifar(const char *dir, int classes, rt_dataset *train, rt_dataset *test, char *err,
                  size_t errcap);

#endif
