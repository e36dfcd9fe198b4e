/* augment.h: training-time data augmentation (train.augment): random crop
 * with padding, horizontal flip and cutout on image samples [C, H, W] (or
 * [H, W]), applied to each training mini-batch on the fly, in place, never
 * to validation or test data.  The random draws come from a seed the
 * trainer derives from (seed, epoch, step), so a run is reproducible and a
 * resumed run sees the same augmentations as an uninterrupted one.
 */
#ifndef NASC_RT_AUGMENT_H
#define NASC_RT_AUGMENT_H

#include <stddef.h>
#include <stdint.h>
#include "graph.h"

typedef enum {
    RT_AUG_CROP,  /* pad `size` pixels of black on every side, take a random H x W window */
    RT_AUG_FLIP,  /* mirror left-right with probability 1/2 */
    RT_AUG_CUTOUT /* zero a `size` x `size` square (clipped at the border) at a random centre */
} rt_aug_kind;

#define RT_AUG_MAX 8

typedef struct rt_aug_op {
    rt_aug_kind kind;
    int size; /* crop: the padding; cutout: the side of the square */
} rt_aug_op;

/* The ops in the order they apply (the order the recipe lists them). */
typedef struct rt_augment {
    int n;
    rt_aug_op ops[RT_AUG_MAX];
} rt_augment;

/* Whether a's ops fit samples of this shape (images, sizes that leave the
 * image inside its padding). */
int rt_augment_check(const rt_augment *a, const ir_shape *sample, char *err, size_t errcap);

/* Augments m samples of x in place.  norm gives the value of black padding
 * per channel (rt_norm_zero); scratch holds one sample.  Deterministic in
 * seed. */
void rt_augment_batch(const rt_augment *a, const ir_shape *sample, const ir_input_norm *norm, float *x, int m,
                      uint64_t seed, float *scratch);

#endif
