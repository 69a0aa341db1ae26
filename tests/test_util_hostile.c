/* SPDX-License-Identifier: GPL-3.0-or-later */
/* tests/test_util_hostile.c -- error paths leave nothing open (H5Fget_obj_count), inputs
 * that are not regular files are refused without blocking, the number and label checks
 * name the row, and long messages keep their end. */
#include "tests/testutil.h"

#include <hdf5.h>
#include <sys/stat.h>
#include <unistd.h>

#include "models/io.h"
#include "util/error.h"
#include "util/h5.h"
#include "util/input.h"

/* Objects open in file f besides f itself. */
static ssize_t open_besides_file(hid_t f)
{
    return H5Fget_obj_count(f, H5F_OBJ_ALL) - 1;
}

static void test_no_leaks_on_errors(void **state)
{
    (void)state;
    const char *path = test_path(0, "leaks.h5");
    acdc_util_h5_out o;
    assert_int_equal(acdc_util_h5_create(path, &o), 0);
    hsize_t d[2] = {2, 3};
    double v[6] = {1, 2, 3, 4, 5, 6};
    int64_t iv[6] = {1, 2, 3, 4, 5, 6};
    assert_int_equal(acdc_util_h5_write_f64(o.fid, "/g/x", 2, d, v), 0);
    assert_int_equal(acdc_util_h5_write_i64(o.fid, "/i", 2, d, iv), 0);
    assert_int_equal(acdc_util_h5_set_attr_str(o.fid, "/", "s", "text"), 0);
    /* a writer refused (the dataset exists) closes what it opened */
    assert_int_equal(acdc_util_h5_write_f64(o.fid, "/g/x", 2, d, v), ACDC_UTIL_EIO);
    assert_non_null(strstr(acdc_util_errmsg(), "cannot write dataset '/g/x' in '"));
    assert_int_equal(open_besides_file(o.fid), 0);
    assert_int_equal(acdc_util_h5_set_attr_i64(o.fid, "/nothing", "a", 1), ACDC_UTIL_EIO);
    assert_int_equal(open_besides_file(o.fid), 0);
    assert_int_equal(acdc_util_h5_commit(&o), 0);

    hid_t f;
    assert_int_equal(acdc_util_h5_open(path, &f), 0);
    double *x = NULL;
    int64_t *y = NULL;
    hsize_t want[2] = {3, 3}, any[2] = {0, 0};
    /* every refusal of the readers: missing, not a dataset, class, rank, extent */
    assert_int_equal(acdc_util_h5_read_f64(f, path, "/none", 2, any, &x), ACDC_UTIL_EDATA);
    assert_int_equal(acdc_util_h5_read_f64(f, path, "/g", 2, any, &x), ACDC_UTIL_EDATA);
    assert_int_equal(acdc_util_h5_read_f64(f, path, "/i", 2, any, &x), ACDC_UTIL_EDATA);
    assert_int_equal(acdc_util_h5_read_i64(f, path, "/g/x", 2, any, &y), ACDC_UTIL_EDATA);
    assert_int_equal(acdc_util_h5_read_f64(f, path, "/g/x", 1, any, &x), ACDC_UTIL_EDATA);
    assert_int_equal(acdc_util_h5_read_f64(f, path, "/g/x", 2, want, &x), ACDC_UTIL_EDATA);
    assert_null(x);
    assert_null(y);
    char buf[8];
    int64_t a;
    double b;
    assert_int_equal(acdc_util_h5_attr_i64(f, path, "/", "s", &a), ACDC_UTIL_EDATA);
    assert_int_equal(acdc_util_h5_attr_f64(f, path, "/", "s", &b), ACDC_UTIL_EDATA);
    assert_int_equal(acdc_util_h5_attr_str(f, path, "/", "none", buf, sizeof buf), ACDC_UTIL_EDATA);
    assert_int_equal(acdc_util_h5_attr_i64_vec(f, path, "/", "s", 2, &a), ACDC_UTIL_EDATA);
    assert_int_equal(open_besides_file(f), 0);
    H5Fclose(f);
    assert_int_equal(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL), 0);
}

static void test_not_regular(void **state)
{
    (void)state;
    const char *fifo = test_path(0, "input.fifo");
    unlink(fifo);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    int fd = -1;
    /* no writer: a blocking open would never return */
    assert_int_equal(acdc_util_input_open(fifo, &fd), ACDC_UTIL_EDATA);
    assert_int_equal(fd, -1);
    assert_non_null(strstr(acdc_util_errmsg(), "not a regular file (a FIFO)"));
    hid_t f;
    assert_int_equal(acdc_util_h5_open(fifo, &f), ACDC_UTIL_EDATA);
    FILE *s = NULL;
    assert_int_equal(acdc_util_input_fopen("/dev/null", &s), ACDC_UTIL_EDATA);
    assert_null(s);
    assert_non_null(strstr(acdc_util_errmsg(), "a character device"));
    assert_int_equal(acdc_util_input_open(test_path(0, ""), &fd), ACDC_UTIL_EDATA);
    assert_non_null(strstr(acdc_util_errmsg(), "is a directory"));
    assert_int_equal(acdc_util_input_open(test_path(0, "missing"), &fd), ACDC_UTIL_EIO);
    unlink(fifo);
}

static void test_values_and_labels(void **state)
{
    (void)state;
    double v[6] = {1, 2, 3, -2e150, 5, 6};
    assert_int_equal(acdc_check_values(v, 2, 3, 0, ACDC_DATA_BOUND, "d.h5", "'/x'"),
                     ACDC_UTIL_EDATA);
    assert_string_equal(acdc_util_errmsg(), "'/x' in 'd.h5': row 1, column 0 is -2e+150, beyond "
                                       "the bound 1e+150 on data values (larger ones "
                                       "overflow)");
    assert_int_equal(acdc_check_values(v, 2, 3, 0, 0, "d.h5", "the outputs"), ACDC_UTIL_OK);
    v[5] = INFINITY;
    assert_int_equal(acdc_check_values(v, 2, 3, 40, 0, "d.h5", "the outputs"), ACDC_UTIL_EDATA);
    assert_non_null(strstr(acdc_util_errmsg(), "the outputs for 'd.h5': row 41 is not finite"));
    v[5] = NAN;
    assert_int_equal(acdc_check_values(v, 2, 3, 0, ACDC_DATA_BOUND, "d.h5", "'/x'"),
                     ACDC_UTIL_EDATA);
    int64_t l[4] = {0, 3, INT64_MAX, -1};
    assert_int_equal(acdc_check_labels(l, 2, "d.h5", 4, "the model"), ACDC_UTIL_OK);
    assert_int_equal(acdc_check_labels(l, 3, "d.h5", 4, "the model"), ACDC_UTIL_EDATA);
    assert_string_equal(acdc_util_errmsg(), "'d.h5': row 2 has label 9223372036854775807, outside "
                                       "the classes 0..3 of the model");
    assert_int_equal(acdc_check_labels(l + 3, 1, NULL, 4, "the model"), ACDC_UTIL_EDATA);
    assert_string_equal(acdc_util_errmsg(), "row 0 has label -1, outside the classes 0..3 of the "
                                       "model");
}

static void test_long_messages(void **state)
{
    (void)state;
    static char path[6001];
    memset(path, 'a', sizeof path - 1);
    acdc_util_error(ACDC_UTIL_EIO, "cannot create '%s': %s", path, "File name too long");
    const char *m = acdc_util_errmsg();
    assert_true(strlen(m) < 1024);
    assert_non_null(strstr(m, "cannot create 'aaaa"));
    assert_non_null(strstr(m, "aaa...aaa"));
    assert_non_null(strstr(m, "aaaa': File name too long"));
    /* a prefix keeps the end too */
    acdc_util_error_prefix("while reading '%s'", path);
    m = acdc_util_errmsg();
    assert_true(strlen(m) < 1024);
    assert_non_null(strstr(m, "': File name too long"));
    assert_int_equal(strncmp(m, "while reading 'a", 16), 0);
    /* no quoted subject: the middle goes */
    memset(path, 'b', sizeof path - 1);
    acdc_util_error(ACDC_UTIL_EIO, "%s the end", path);
    m = acdc_util_errmsg();
    assert_true(strlen(m) < 1024);
    assert_non_null(strstr(m, "b...b"));
    assert_non_null(strstr(m, "b the end"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_leaks_on_errors),
        cmocka_unit_test(test_not_regular),
        cmocka_unit_test(test_values_and_labels),
        cmocka_unit_test(test_long_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
