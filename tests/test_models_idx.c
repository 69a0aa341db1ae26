/* SPDX-License-Identifier: GPL-3.0-or-later */
/* tests/test_models_idx.c -- IDX reader and the data loader: values, and every error. */
#include "tests/testutil.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "models/idx.h"
#include "util/error.h"
#include "util/h5.h"

/* Writes raw bytes to path, through gzip if gz. */
static void put(const char *path, const unsigned char *b, size_t len, int gz)
{
    if (gz) {
        gzFile g = gzopen(path, "wb");
        assert_non_null(g);
        if (len)
            assert_int_equal(gzwrite(g, b, (unsigned)len), (int)len);
        assert_int_equal(gzclose(g), Z_OK);
    } else {
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        if (len)
            assert_int_equal(fwrite(b, 1, len, f), len);
        assert_int_equal(fclose(f), 0);
    }
}

/* An IDX header + data: type code, rank, dims, then count bytes of value (i*37+11)%256. */
static size_t make_idx(unsigned char *buf, unsigned type, unsigned rank,
                       const uint32_t *dims, size_t values)
{
    size_t k = 0;
    buf[k++] = 0;
    buf[k++] = 0;
    buf[k++] = (unsigned char)type;
    buf[k++] = (unsigned char)rank;
    for (unsigned r = 0; r < rank; r++) {
        buf[k++] = (unsigned char)(dims[r] >> 24);
        buf[k++] = (unsigned char)(dims[r] >> 16);
        buf[k++] = (unsigned char)(dims[r] >> 8);
        buf[k++] = (unsigned char)dims[r];
    }
    for (size_t i = 0; i < values; i++)
        buf[k++] = (unsigned char)((i * 37 + 11) % 256);
    return k;
}

static unsigned char buf[1 << 16];

/* 5 images of 3 × 4 and 5 labels (values % 10 via make_idx's pattern). */
static void write_pair(const char *img, const char *lab, int gz, uint32_t nlab)
{
    uint32_t di[3] = {5, 3, 4}, dl[1] = {nlab};
    put(img, buf, make_idx(buf, 0x08, 3, di, 60), gz);
    size_t k = make_idx(buf, 0x08, 1, dl, 0);
    for (uint32_t i = 0; i < nlab; i++)
        buf[k++] = (unsigned char)((i * 3 + 2) % 10);
    put(lab, buf, k, gz);
}

static void test_reads_plain_and_gzip(void **state)
{
    (void)state;
    for (int gz = 0; gz < 2; gz++) {
        const char *img = test_path(0, gz ? "a-images.gz" : "a-images");
        const char *lab = test_path(1, gz ? "a-labels.gz" : "a-labels");
        write_pair(img, lab, gz, 5);
        acdc_data *d;
        assert_int_equal(acdc_idx_read(img, lab, &d), 0);
        assert_int_equal(d->batch, 5);
        assert_int_equal(d->dim, 12);
        for (size_t i = 0; i < 60; i++)
            assert_close(d->x[i], (double)((i * 37 + 11) % 256) / 255.0, 0);
        for (size_t i = 0; i < 5; i++)
            assert_int_equal(d->labels[i], (i * 3 + 2) % 10);
        acdc_data_free(d);
        /* Without labels. */
        assert_int_equal(acdc_idx_read(img, NULL, &d), 0);
        assert_null(d->labels);
        acdc_data_free(d);
    }
}

/* Asserts that reading fails with status and a message naming `names` and holding
 * `text`. */
static void expect_fail(const char *img, const char *lab, int status, const char *names,
                        const char *text)
{
    acdc_data *d = (acdc_data *)1;
    acdc_util_error_clear();
    int rc = acdc_idx_read(img, lab, &d);
    if (rc != status)
        fail_msg("status %d, want %d (%s)", rc, status, acdc_util_errmsg());
    assert_null(d);
    if (!strstr(acdc_util_errmsg(), names) || !strstr(acdc_util_errmsg(), text))
        fail_msg("message '%s' should name '%s' and say '%s'", acdc_util_errmsg(), names, text);
    assert_null(strchr(acdc_util_errmsg(), '\n'));
}

static void test_error_paths(void **state)
{
    (void)state;
    const char *img = test_path(0, "e-images"), *lab = test_path(1, "e-labels");
    const char *bad = test_path(2, "bad");
    write_pair(img, lab, 0, 5);
    uint32_t di[3] = {5, 3, 4}, d1[1] = {5};

    /* Bad magic: not two zero bytes. */
    size_t k = make_idx(buf, 0x08, 3, di, 60);
    buf[0] = 0x1f;
    put(bad, buf, k, 0);
    expect_fail(bad, NULL, ACDC_UTIL_EDATA, bad, "not an IDX file");
    /* Wrong type code (0x0D = float). */
    put(bad, buf, make_idx(buf, 0x0D, 3, di, 60), 1);
    expect_fail(bad, NULL, ACDC_UTIL_EDATA, bad, "type code 0x0d");
    /* Truncated data, truncated dimensions, truncated header, empty file. */
    put(bad, buf, make_idx(buf, 0x08, 3, di, 60) - 1, 0);
    expect_fail(bad, NULL, ACDC_UTIL_EDATA, bad, "truncated");
    put(bad, buf, 9, 1);
    expect_fail(bad, NULL, ACDC_UTIL_EDATA, bad, "truncated: the dimensions");
    put(bad, buf, 3, 0);
    expect_fail(bad, NULL, ACDC_UTIL_EDATA, bad, "truncated: the header");
    put(bad, buf, 0, 0);
    expect_fail(bad, NULL, ACDC_UTIL_EDATA, bad, "truncated");
    /* Trailing bytes. */
    put(bad, buf, make_idx(buf, 0x08, 3, di, 61), 0);
    expect_fail(bad, NULL, ACDC_UTIL_EDATA, bad, "data after");
    /* A zero extent; rank 1 for images; rank 3 for labels. */
    uint32_t dz[3] = {5, 0, 4};
    put(bad, buf, make_idx(buf, 0x08, 3, dz, 0), 0);
    expect_fail(bad, NULL, ACDC_UTIL_EDATA, bad, "dimension 1 is zero");
    put(bad, buf, make_idx(buf, 0x08, 1, d1, 5), 0);
    expect_fail(bad, NULL, ACDC_UTIL_EDATA, bad, "rank 1");
    expect_fail(img, img, ACDC_UTIL_EDATA, img, "rank 3, expected 1");
    /* Mismatched counts. */
    write_pair(img, lab, 0, 4);
    expect_fail(img, lab, ACDC_UTIL_EDATA, lab, "4 labels");
    /* Missing file; a directory. */
    expect_fail(test_path(3, "nonexistent"), NULL, ACDC_UTIL_EIO, "nonexistent", "cannot open");
    expect_fail(test_tmpdir(), NULL, ACDC_UTIL_EDATA, test_tmpdir(), "directory");
    /* Corrupt gzip stream: a gzip header followed by garbage. */
    unsigned char gzbad[32] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xee, 0xdd,
                               0xcc, 0xbb, 0xaa, 0x99, 0x88, 0x77, 0x66, 0x55, 0x44};
    put(bad, gzbad, sizeof gzbad, 0);
    expect_fail(bad, NULL, ACDC_UTIL_EDATA, bad, "");
}

/* Regression (found by fuzz/fuzz_idx.c): an 18-byte file whose header promises ~16 GiB
 * made the reader allocate the promise before finding the file truncated.  In a child
 * limited to 256 MiB of address space, the file must be refused as truncated, not as
 * out of memory.  (Under AddressSanitizer, which reserves terabytes of address space,
 * the child runs without the limit and only the refusal is checked.) */
static void test_huge_header_small_file(void **state)
{
    (void)state;
    const char *bad = test_path(2, "huge");
    uint32_t dh[3] = {65535, 65535, 4};
    for (int gz = 0; gz < 2; gz++) {
        put(bad, buf, make_idx(buf, 0x08, 3, dh, 100), gz);
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            acdc_data *d = NULL;
#if !defined(__SANITIZE_ADDRESS__)
            struct rlimit rl = {(rlim_t)256 << 20, (rlim_t)256 << 20};
            if (setrlimit(RLIMIT_AS, &rl))
                _exit(3);
#endif
            int rc = acdc_idx_read(bad, NULL, &d);
            _exit(rc == ACDC_UTIL_EDATA && strstr(acdc_util_errmsg(), "truncated") ? 0 : 1);
        }
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
    }
}

/* Regression (found by fuzz/fuzz_idx.c in CI): dimensions 4 x 4 x 64 x 2^24 x 2^30 x
 * 65538 multiply to 2^64 * 65538, which wrapped the 64-bit product to 0 and accepted an
 * empty data set from a 30-byte file.  The promise must be refused before it wraps. */
static void test_dimensions_wrap(void **state)
{
    (void)state;
    const char *bad = test_path(2, "wrap");
    uint32_t dw[6] = {4, 4, 64, (uint32_t)1 << 24, (uint32_t)1 << 30, 65538};
    for (int gz = 0; gz < 2; gz++) {
        put(bad, buf, make_idx(buf, 0x08, 6, dw, 0), gz);
        expect_fail(bad, NULL, ACDC_UTIL_EDATA, bad, "promise more than");
    }
}

/* Data larger than the reader's first buffer (1 MiB) arrive whole and in order. */
static void test_large_data(void **state)
{
    (void)state;
    const char *img = test_path(0, "big-images");
    uint32_t dims[3] = {3, 700, 1000};
    size_t n = (size_t)3 * 700 * 1000;
    unsigned char *big = malloc(16 + n);
    assert_non_null(big);
    for (int gz = 0; gz < 2; gz++) {
        put(img, big, make_idx(big, 0x08, 3, dims, n), gz);
        acdc_data *d;
        assert_int_equal(acdc_idx_read(img, NULL, &d), 0);
        assert_int_equal(d->batch, 3);
        assert_int_equal(d->dim, 700000);
        for (size_t i = 0; i < n; i += 4099)
            assert_true(d->x[i] == ((i * 37 + 11) % 256) / 255.0);
        assert_true(d->x[n - 1] == (((n - 1) * 37 + 11) % 256) / 255.0);
        acdc_data_free(d);
        /* one byte short of the 2.1 MB is still truncation */
        put(img, big, make_idx(big, 0x08, 3, dims, n) - 1, gz);
        expect_fail(img, NULL, ACDC_UTIL_EDATA, img, "truncated");
    }
    free(big);
}

static void test_load_directory_file_and_hdf5(void **state)
{
    (void)state;
    char dir[700];
    snprintf(dir, sizeof dir, "%s/fm", test_tmpdir());
    mkdir(dir, 0755);
    char a[800], b[800];
    snprintf(a, sizeof a, "%s/train-images-idx3-ubyte.gz", dir);
    snprintf(b, sizeof b, "%s/train-labels-idx1-ubyte.gz", dir);
    write_pair(a, b, 1, 5);
    snprintf(a, sizeof a, "%s/t10k-images-idx3-ubyte", dir);
    snprintf(b, sizeof b, "%s/t10k-labels-idx1-ubyte", dir);
    write_pair(a, b, 0, 5);
    acdc_data *d;
    assert_int_equal(acdc_data_load(dir, "train", NULL, &d), 0);
    assert_int_equal(d->batch, 5);
    assert_non_null(d->labels);
    acdc_data_free(d);
    assert_int_equal(acdc_data_load(dir, "test", NULL, &d), 0);
    assert_non_null(d->labels);
    acdc_data_free(d);
    assert_int_equal(acdc_data_load(dir, "valid", NULL, &d), ACDC_UTIL_EUSAGE);
    /* An image file finds its labels beside it. */
    assert_int_equal(acdc_data_load(a, NULL, NULL, &d), 0);
    assert_non_null(d->labels);
    assert_int_equal(d->labels[1], 5);
    /* An HDF5 data file. */
    const char *h5 = test_path(4, "d.h5");
    assert_int_equal(acdc_output_write(h5, d->batch, d->dim, d->x, d->labels), 0);
    acdc_data_free(d);
    /* acdc_output_write writes /y; a data file holds /x, so this one is refused. */
    assert_int_equal(acdc_data_load(h5, NULL, NULL, &d), ACDC_UTIL_EDATA);
    /* A proper data file. */
    const char *h5x = test_path(5, "x.h5");
    acdc_util_h5_out o;
    double xs[6] = {0.25, 2.385, -1, 0, 7, 0.5};
    int64_t ls[2] = {1, 0};
    hsize_t dx[2] = {2, 3}, dl[1] = {2};
    assert_int_equal(acdc_util_h5_create(h5x, &o), 0);
    assert_int_equal(acdc_util_h5_write_f64(o.fid, "/x", 2, dx, xs), 0);
    assert_int_equal(acdc_util_h5_write_i64(o.fid, "/labels", 1, dl, ls), 0);
    assert_int_equal(acdc_util_h5_commit(&o), 0);
    assert_int_equal(acdc_data_load(h5x, "test", NULL, &d), 0);
    assert_int_equal(d->batch, 2);
    assert_int_equal(d->dim, 3);
    assert_close(d->x[1], 2.385, 0);
    assert_int_equal(d->labels[0], 1);
    acdc_data_free(d);
    assert_int_equal(acdc_data_load(h5x, NULL, b, &d), ACDC_UTIL_EUSAGE);
    /* A missing directory entry is named. */
    char empty[700];
    snprintf(empty, sizeof empty, "%s/empty", test_tmpdir());
    mkdir(empty, 0755);
    acdc_util_error_clear();
    assert_int_equal(acdc_data_load(empty, "train", NULL, &d), ACDC_UTIL_EIO);
    assert_non_null(strstr(acdc_util_errmsg(), "train-images-idx3-ubyte"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_plain_and_gzip),
        cmocka_unit_test(test_error_paths),
        cmocka_unit_test(test_huge_header_small_file),
        cmocka_unit_test(test_dimensions_wrap),
        cmocka_unit_test(test_large_data),
        cmocka_unit_test(test_load_directory_file_and_hdf5),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
