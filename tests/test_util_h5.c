/* SPDX-License-Identifier: GPL-3.0-or-later */
/* tests/test_util_h5.c -- util/h5's readers: float64 finite only or NaN allowed; a
 * dataset's rank; one-value attributes. */
#include "tests/testutil.h"

#include <hdf5.h>

#include "util/error.h"
#include "util/h5.h"

/* Writes /ok (finite), /nan (one NaN) and /inf (one infinity), 2 × 3 each. */
static const char *write_file(void)
{
    const char *path = test_path(0, "values.h5");
    acdc_util_h5_out o;
    assert_int_equal(acdc_util_h5_create(path, &o), 0);
    hsize_t d[2] = {2, 3};
    double v[6] = {2.385, -0.75, 1e-3, 4.5, 0, 3.25};
    assert_int_equal(acdc_util_h5_write_f64(o.fid, "/ok", 2, d, v), 0);
    v[4] = NAN;
    assert_int_equal(acdc_util_h5_write_f64(o.fid, "/nan", 2, d, v), 0);
    v[4] = INFINITY;
    assert_int_equal(acdc_util_h5_write_f64(o.fid, "/inf", 2, d, v), 0);
    assert_int_equal(acdc_util_h5_commit(&o), 0);
    return path;
}

static void test_nan_ok(void **state)
{
    (void)state;
    const char *path = write_file();
    hid_t f;
    assert_int_equal(acdc_util_h5_open(path, &f), 0);
    hsize_t d[2] = {2, 3};
    double *v = (double *)&v;   /* not NULL, so the test sees the reset */

    /* The strict reader refuses NaN, naming the dataset and the value. */
    assert_int_equal(acdc_util_h5_read_f64(f, path, "/nan", 2, d, &v), ACDC_UTIL_EDATA);
    assert_null(v);
    assert_non_null(strstr(acdc_util_errmsg(), "'/nan'"));
    assert_non_null(strstr(acdc_util_errmsg(), "value 4 is NaN"));

    /* The NaN-tolerant one keeps it, and every other value as written. */
    assert_int_equal(acdc_util_h5_read_f64_nan_ok(f, path, "/nan", 2, d, &v), 0);
    assert_true(isnan(v[4]));
    assert_close(v[0], 2.385, 0);
    assert_close(v[5], 3.25, 0);
    free(v);

    /* Infinity is refused by both. */
    v = (double *)&v;
    assert_int_equal(acdc_util_h5_read_f64_nan_ok(f, path, "/inf", 2, d, &v), ACDC_UTIL_EDATA);
    assert_null(v);
    assert_non_null(strstr(acdc_util_errmsg(), "value 4 is infinite"));

    /* Shape checks are the same as the strict reader's. */
    hsize_t wrong[2] = {3, 2};
    assert_int_equal(acdc_util_h5_read_f64_nan_ok(f, path, "/ok", 2, wrong, &v), ACDC_UTIL_EDATA);
    assert_null(v);
    assert_int_equal(acdc_util_h5_read_f64_nan_ok(f, path, "/missing", 2, d, &v), ACDC_UTIL_EDATA);
    assert_null(v);
    hsize_t any[2] = {0, 0};
    assert_int_equal(acdc_util_h5_read_f64_nan_ok(f, path, "/ok", 2, any, &v), 0);
    assert_int_equal(any[0], 2);
    assert_int_equal(any[1], 3);
    free(v);
    H5Fclose(f);
}

/* acdc_util_h5_rank: a dataset's rank, -1 for a group or a missing name. */
static void test_rank(void **state)
{
    (void)state;
    const char *path = test_path(0, "rank.h5");
    acdc_util_h5_out o;
    assert_int_equal(acdc_util_h5_create(path, &o), 0);
    hsize_t d[5] = {1, 2, 3, 4, 2};
    double v[48] = {2.385};
    assert_int_equal(acdc_util_h5_write_f64(o.fid, "/g/five", 5, d, v), 0);
    assert_int_equal(acdc_util_h5_write_f64(o.fid, "/one", 1, d + 3, v), 0);
    assert_int_equal(acdc_util_h5_commit(&o), 0);
    hid_t f;
    assert_int_equal(acdc_util_h5_open(path, &f), 0);
    assert_int_equal(acdc_util_h5_rank(f, "/g/five"), 5);
    assert_int_equal(acdc_util_h5_rank(f, "/one"), 1);
    assert_int_equal(acdc_util_h5_rank(f, "/g"), -1);
    assert_int_equal(acdc_util_h5_rank(f, "/g/missing"), -1);
    assert_int_equal(acdc_util_h5_rank(f, "/no/such/path"), -1);
    H5Fclose(f);
}

/* A numeric attribute is one value: an array of two is refused, not read past its
 * destination (an int64 n stored as (2,) would otherwise write 16 bytes into 8). */
static void test_attr_one_value(void **state)
{
    (void)state;
    const char *path = test_path(0, "attrs.h5");
    acdc_util_h5_out o;
    assert_int_equal(acdc_util_h5_create(path, &o), 0);
    assert_int_equal(acdc_util_h5_set_attr_i64(o.fid, "/", "n", 2385), 0);
    assert_int_equal(acdc_util_h5_set_attr_f64(o.fid, "/", "nan", NAN), 0);
    hsize_t two = 2;
    int64_t pair[2] = {7, 9};
    hid_t sp = H5Screate_simple(1, &two, NULL);
    hid_t a = H5Acreate2(o.fid, "pair", H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(a >= 0 && H5Awrite(a, H5T_NATIVE_INT64, pair) >= 0);
    H5Aclose(a);
    H5Sclose(sp);
    assert_int_equal(acdc_util_h5_commit(&o), 0);
    hid_t f;
    assert_int_equal(acdc_util_h5_open(path, &f), 0);
    struct {
        int64_t v, guard;
    } got = {0, 2385};
    assert_int_equal(acdc_util_h5_attr_i64(f, path, "/", "n", &got.v), 0);
    assert_int_equal(got.v, 2385);
    assert_int_equal(acdc_util_h5_attr_i64(f, path, "/", "pair", &got.v), ACDC_UTIL_EDATA);
    assert_int_equal(got.guard, 2385);
    assert_non_null(strstr(acdc_util_errmsg(), "expected a single value, found 2"));
    /* the same for the NaN-tolerant reader (a result's metrics: an array there once wrote
     * past the metric it was read into) */
    double d[2] = {0, 2.385};
    assert_int_equal(acdc_util_h5_attr_f64(f, path, "/", "pair", d), ACDC_UTIL_EDATA);
    assert_int_equal(acdc_util_h5_attr_f64_nan_ok(f, path, "/", "pair", d), ACDC_UTIL_EDATA);
    assert_true(d[1] == 2.385);
    assert_int_equal(acdc_util_h5_attr_f64_nan_ok(f, path, "/", "nan", d), 0);
    assert_true(isnan(d[0]));
    assert_int_equal(acdc_util_h5_attr_f64(f, path, "/", "nan", d), ACDC_UTIL_EDATA);
    H5Fclose(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nan_ok),
        cmocka_unit_test(test_rank),
        cmocka_unit_test(test_attr_one_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
