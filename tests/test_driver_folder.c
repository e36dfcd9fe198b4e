/* test_driver_folder.c: the run folder's layout (driver/drv_folder.c), the
 * one place that names the files a search keeps beside its store. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "driver.h"

Test(driver_folder, names_follow_the_store) {
    drv_folder f;
    drv_folder_init(&f, "out/mnist.db", "Mnist");
    cr_assert_str_eq(f.db, "out/mnist.db");
    cr_assert_str_eq(f.stem, "out/mnist");
    cr_assert_str_eq(f.best_json, "out/mnist.best.json");
    cr_assert_str_eq(f.front_json, "out/mnist.front.json");
    cr_assert_str_eq(f.best_weights, "out/mnist.best.safetensors");
    cr_assert_str_eq(f.weights_dir, "out/mnist.weights");
    cr_assert_str_eq(f.layout.best_json, f.best_json, "sr_run reads the same names");
    cr_assert_str_eq(f.layout.front_json, f.front_json);
    cr_assert_str_eq(f.layout.best_weights, f.best_weights);
}

Test(driver_folder, default_store_is_named_after_the_space) {
    drv_folder f;
    drv_folder_init(&f, NULL, "Mnist");
    cr_assert_str_eq(f.db, "runs/Mnist.db");
    cr_assert_str_eq(f.best_json, "runs/Mnist.best.json");
    drv_folder_init(&f, "plain", "S"); /* no .db suffix: the stem is the name */
    cr_assert_str_eq(f.best_json, "plain.best.json");
}

Test(driver_folder, creates_folders_and_names_trial_weights_and_checkpoints) {
    char dir[] = "/tmp/nasc-folder-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char db[200];
    snprintf(db, sizeof db, "%s/a/b/run.db", dir);
    drv_folder f;
    drv_folder_init(&f, db, "S");
    char err[300];
    cr_assert_eq(drv_folder_create(&f, err, sizeof err), 0, "%s", err);
    char sub[220];
    snprintf(sub, sizeof sub, "%s/a/b", dir);
    struct stat st;
    cr_assert_eq(stat(sub, &st), 0, "the store's parent folders are made");
    char w[1200];
    cr_assert_eq(f.layout.trial_weights(f.layout.ud, 12, w, sizeof w), 0);
    char want[1200];
    snprintf(want, sizeof want, "%s/a/b/run.weights/trial-12.safetensors", dir);
    cr_assert_str_eq(w, want);
    snprintf(sub, sizeof sub, "%s/a/b/run.weights", dir);
    cr_assert_eq(stat(sub, &st), 0, "the weights folder is made on demand");
    char c1[1200], c2[1200], c3[1200];
    drv_folder_checkpoint(&f, "{\"space\": \"S\", \"decisions\": {\"a\": 1}}", c1, sizeof c1);
    drv_folder_checkpoint(&f, "{\"space\": \"S\", \"decisions\": {\"a\": 1}}", c2, sizeof c2);
    drv_folder_checkpoint(&f, "{\"space\": \"S\", \"decisions\": {\"a\": 2}}", c3, sizeof c3);
    cr_assert_str_eq(c1, c2, "one checkpoint per point");
    cr_assert_str_neq(c1, c3);
    cr_assert(!strncmp(c1, sub, strlen(sub)) && strstr(c1, "/ckpt-") && strstr(c1, ".safetensors"), "%s", c1);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

Test(driver_folder, unwritable_parent_is_an_error) {
    drv_folder f;
    drv_folder_init(&f, "/proc/nasc-no/x.db", "S");
    char err[300] = "";
    cr_assert_eq(drv_folder_create(&f, err, sizeof err), -1);
    cr_assert(strstr(err, "cannot create the folder /proc/nasc-no"), "%s", err);
}
