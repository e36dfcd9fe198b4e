/* test_runtime_faults.c: the runtime's part of the fault suite (issue 9):
 * a validation split too small to hold a sample is an error, and data
 * samples must match the network input's shape, not only its size. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include "data.h"

static ir_shape shp(int rank, int64_t a, int64_t b, int64_t c) {
    ir_shape s;
    memset(&s, 0, sizeof s);
    s.rank = rank;
    s.d[0] = a;
    s.d[1] = b;
    s.d[2] = c;
    return s;
}

Test(runtime_faults, too_few_samples_for_a_validation_split) {
    char err[300] = "";
    rt_dataset s, tr, va;
    memset(&s, 0, sizeof s);
    s.n = 2;
    s.sample = shp(1, 3, 0, 0);
    s.x = calloc(6, sizeof *s.x);
    s.y = calloc(2, sizeof *s.y);
    cr_assert_eq(rt_dataset_split(&s, 0.1, 1, &tr, &va, err, sizeof err), -1);
    cr_assert_str_eq(err,
                     "2 samples are too few for a validation split of 0.1 (each part needs at least one)");
    s.n = 1;
    cr_assert_eq(rt_dataset_split(&s, 0.5, 1, &tr, &va, err, sizeof err), -1);
    cr_assert_str_eq(err,
                     "1 samples are too few for a validation split of 0.5 (each part needs at least one)");
    s.n = 2;
    cr_assert_eq(rt_dataset_split(&s, 0.5, 1, &tr, &va, err, sizeof err), 0, "%s", err);
    cr_assert_eq(tr.n, 1);
    cr_assert_eq(va.n, 1);
    rt_dataset_free(&tr);
    rt_dataset_free(&va);
    rt_dataset_free(&s);
}

Test(runtime_faults, sample_shape_must_fit_the_input) {
    ir_shape net = shp(3, 1, 28, 28);
    ir_shape same = shp(3, 1, 28, 28), flat = shp(1, 784, 0, 0), noch = shp(2, 28, 28, 0);
    ir_shape wrong = shp(3, 1, 56, 14), small = shp(3, 1, 27, 28);
    cr_assert(rt_sample_fits(&same, &net));
    cr_assert(rt_sample_fits(&flat, &net), "raw float32 rows are flat: the count decides");
    cr_assert(rt_sample_fits(&noch, &net), "leading 1s do not matter");
    cr_assert_not(rt_sample_fits(&wrong, &net), "56x14 images are not 28x28 ones");
    cr_assert_not(rt_sample_fits(&small, &net));
    ir_shape vec = shp(1, 64, 0, 0), img = shp(3, 1, 8, 8);
    cr_assert(rt_sample_fits(&img, &vec), "an MLP takes any sample of its size");
}
