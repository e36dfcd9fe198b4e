/* test_front_suggest.c: the "did you mean" helper (suggest.h) on the typos
 * of issue 17 and on words that must not be "corrected". */
#include <criterion/criterion.h>
#include <stddef.h>
#include "suggest.h"

static const char *const train_keys[] = {"data", "split", "epochs", "batch", "lr", "optimizer", "seed", NULL};
static const char *const search_keys[] = {"strategy", "trials", "time", "objective", "require", NULL};

Test(suggest, distance_counts_a_swap_as_one) {
    cr_assert_eq(fr_distance("trails", "trials"), 1);
    cr_assert_eq(fr_distance("bacth", "batch"), 1);
    cr_assert_eq(fr_distance("objectve", "objective"), 1);
    cr_assert_eq(fr_distance("epocs", "epochs"), 1);
    cr_assert_eq(fr_distance("", "abc"), 3);
    cr_assert_eq(fr_distance("same", "same"), 0);
    cr_assert_eq(fr_distance("kitten", "sitting"), 3);
}

Test(suggest, picks_the_closest_known_key) {
    cr_assert_str_eq(fr_suggest("trails", search_keys, -1), "trials");
    cr_assert_str_eq(fr_suggest("objectve", search_keys, -1), "objective");
    cr_assert_str_eq(fr_suggest("bacth", train_keys, -1), "batch");
    cr_assert_str_eq(fr_suggest("epocs", train_keys, -1), "epochs");
    cr_assert_str_eq(fr_suggest("optimiser", train_keys, -1), "optimizer");
    cr_assert_str_eq(fr_suggest("evolutoin", (const char *const[]){"random", "evolution", "bo"}, 3),
                     "evolution");
}

Test(suggest, leaves_far_and_exact_words_alone) {
    cr_assert_null(fr_suggest("momentum", train_keys, -1));
    cr_assert_null(fr_suggest("batch", train_keys, -1)); /* exact: nothing to suggest */
    cr_assert_null(fr_suggest("x", (const char *const[]){"y", "lr"}, 2));
    cr_assert_null(fr_suggest("anything", train_keys, 0));
    char longw[100];
    for (int i = 0; i < 99; i++) longw[i] = 'a';
    longw[99] = 0;
    cr_assert_null(fr_suggest(longw, train_keys, -1));
}

Test(suggest, running_search_keeps_the_first_of_equals) {
    fr_near n;
    fr_near_init(&n, "lrr");
    fr_near_add(&n, NULL);
    fr_near_add(&n, "lr");
    fr_near_add(&n, "lra");
    cr_assert_str_eq(n.best, "lr");
    cr_assert_eq(n.dist, 1);
}
