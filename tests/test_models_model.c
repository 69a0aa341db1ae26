/* tests/test_models_model.c -- cascade semantics, the model file and its validation. */
#include "tests/testutil.h"

#include <fftw3.h>
#include <hdf5.h>

#include "models/io.h"
#include "models/model.h"
#include "util/error.h"
#include "util/h5.h"

static void fill(double *v, size_t n, double seed)
{
    for (size_t i = 0; i < n; i++)
        v[i] = sin(2.385 * (double)i + seed) + 0.37 * cos(0.913 * (double)i * seed);
}

/* A 3-layer cascade with every feature on, deterministic values. */
static acdc_model *make_model(size_t n, size_t n_in, size_t n_out)
{
    acdc_model *m;
    assert_int_equal(acdc_model_alloc(&m, n, n_in, n_out, 3,
                                      ACDC_A_BIAS | ACDC_D_BIAS | ACDC_PERM | ACDC_RELU |
                                          ACDC_STANDARDISE),
                     0);
    assert_int_equal(acdc_model_init_normal(m, 1, 0.3, 17), 0);
    assert_int_equal(acdc_model_init_perms(m, 5), 0);
    for (size_t l = 0; l < 3; l++) {
        fill(m->layers[l].a_bias, n, 1.1 + (double)l);
        fill(m->layers[l].d_bias, n, 2.7 + (double)l);
    }
    fill(m->in_mean, n_in, 0.4);
    for (size_t i = 0; i < n_in; i++)
        m->in_scale[i] = 0.5 + 0.01 * (double)i;
    return m;
}

/* The cascade's definition, spelled out with single-layer calls. */
static void reference(const acdc_model *m, const double *x, double *y)
{
    size_t n = m->n;
    double *v = calloc(n, sizeof *v), *z = malloc(n * sizeof *z);
    for (size_t i = 0; i < m->n_in; i++)
        v[i] = (x[i] - m->in_mean[i]) / m->in_scale[i];
    acdc_plan *p;
    assert_int_equal(acdc_plan_alloc(&p, n, 1, FFTW_ESTIMATE), 0);
    for (size_t l = 0; l < m->n_layers; l++) {
        const acdc_layer *L = &m->layers[l];
        acdc_layer_forward(L, p, 1, v, z, NULL);
        for (size_t i = 0; i < n; i++) {
            double u = z[L->perm ? (size_t)L->perm[i] : i];
            v[i] = L->relu && u < 0 ? 0 : u;
        }
    }
    memcpy(y, v, m->n_out * sizeof *y);
    acdc_plan_free(p);
    free(v);
    free(z);
}

static void test_cascade_semantics(void **state)
{
    (void)state;
    const size_t shapes[][3] = {{1, 1, 1}, {7, 5, 3}, {16, 16, 16}, {31, 20, 10}};
    for (size_t s = 0; s < 4; s++) {
        size_t n = shapes[s][0], n_in = shapes[s][1], n_out = shapes[s][2], batch = 9;
        acdc_model *m = make_model(n, n_in, n_out);
        assert_false(m->layers[2].relu);  /* no ReLU after the last layer */
        assert_true(n == 1 || m->layers[0].relu);
        acdc_work *w;
        assert_int_equal(acdc_work_alloc(&w, m, batch, 0, 2, FFTW_ESTIMATE), 0);
        double *x = malloc(batch * n_in * sizeof *x), *y = malloc(batch * n_out * sizeof *y);
        double *r = malloc(n_out * sizeof *r);
        fill(x, batch * n_in, 0.77);
        assert_int_equal(acdc_model_forward(m, w, batch, x, y), 0);
        for (size_t b = 0; b < batch; b++) {
            reference(m, x + b * n_in, r);
            for (size_t i = 0; i < n_out; i++)
                assert_close(y[b * n_out + i], r[i], 1e-12 * (1 + fabs(r[i])));
        }
        free(x);
        free(y);
        free(r);
        acdc_work_free(w);
        acdc_model_free(m);
    }
}

static void test_identity_model_is_identity(void **state)
{
    (void)state;
    acdc_model *m;
    assert_int_equal(acdc_model_alloc(&m, 12, 12, 12, 4, 0), 0);
    acdc_work *w;
    assert_int_equal(acdc_work_alloc(&w, m, 2, 0, 1, FFTW_ESTIMATE), 0);
    double x[24], y[24];
    fill(x, 24, 3.3);
    assert_int_equal(acdc_model_forward(m, w, 2, x, y), 0);
    for (int i = 0; i < 24; i++)
        assert_close(y[i], x[i], 1e-14);
    acdc_work_free(w);
    acdc_model_free(m);
}

static void test_alloc_rejects_bad_shapes(void **state)
{
    (void)state;
    acdc_model *m = (acdc_model *)&m;   /* not NULL, so the test sees the reset */
    assert_int_equal(acdc_model_alloc(&m, 0, 1, 1, 1, 0), UTIL_EUSAGE);
    assert_null(m);
    assert_non_null(strstr(util_errmsg(), "n = 0"));
    assert_int_equal(acdc_model_alloc(&m, 4, 5, 4, 1, 0), UTIL_EUSAGE);
    assert_non_null(strstr(util_errmsg(), "n_in"));
    assert_int_equal(acdc_model_alloc(&m, 4, 4, 0, 1, 0), UTIL_EUSAGE);
    assert_non_null(strstr(util_errmsg(), "n_out"));
    assert_int_equal(acdc_model_alloc(&m, 4, 4, 4, 0, 0), UTIL_EUSAGE);
    assert_null(m);
    acdc_model_free(NULL);
    acdc_work *w = (acdc_work *)&w;
    assert_int_equal(acdc_model_alloc(&m, 4, 4, 4, 1, 0), 0);
    assert_int_equal(acdc_work_alloc(&w, m, 0, 0, 1, FFTW_ESTIMATE), UTIL_EUSAGE);
    assert_null(w);
    acdc_work_free(NULL);
    acdc_model_free(m);
    assert_int_equal(acdc_model_init_normal(NULL, 1, NAN, 1), UTIL_EUSAGE);
}

static void test_model_file_round_trip(void **state)
{
    (void)state;
    acdc_model *m = make_model(10, 8, 6);
    free(m->layers[1].a_bias);   /* layers may differ in what they carry */
    m->layers[1].a_bias = NULL;
    free(m->layers[2].perm);
    m->layers[2].perm = NULL;
    const char *path = test_path(0, "round.h5");
    assert_int_equal(acdc_model_write(m, path), 0);
    acdc_model *r;
    assert_int_equal(acdc_model_read(path, &r), 0);
    assert_int_equal(r->n, 10);
    assert_int_equal(r->n_in, 8);
    assert_int_equal(r->n_out, 6);
    assert_int_equal(r->n_layers, 3);
    for (size_t l = 0; l < 3; l++) {
        const acdc_layer *A = &m->layers[l], *B = &r->layers[l];
        assert_memory_equal(A->a, B->a, 10 * sizeof(double));
        assert_memory_equal(A->d, B->d, 10 * sizeof(double));
        assert_int_equal(A->relu, B->relu);
        assert_int_equal(A->a_bias == NULL, B->a_bias == NULL);
        assert_int_equal(A->perm == NULL, B->perm == NULL);
        if (A->perm)
            assert_memory_equal(A->perm, B->perm, 10 * sizeof(int64_t));
        if (A->d_bias)
            assert_memory_equal(A->d_bias, B->d_bias, 10 * sizeof(double));
    }
    assert_memory_equal(m->in_mean, r->in_mean, 8 * sizeof(double));
    assert_memory_equal(m->in_scale, r->in_scale, 8 * sizeof(double));
    acdc_model_free(m);
    acdc_model_free(r);
}

/* --- malformed files: each written with the raw HDF5 API, each must be refused --- */

typedef void (*breaker)(hid_t f);

static void put_f64(hid_t f, const char *name, size_t n, double v)
{
    double *buf = malloc(n * sizeof *buf);
    for (size_t i = 0; i < n; i++)
        buf[i] = v + 0.01 * (double)i;
    hsize_t d[1] = {n};
    assert_int_equal(util_h5_write_f64(f, name, 1, d, buf), 0);
    free(buf);
}

/* A valid 2-layer model of n = 4, then `brk` spoils it. */
static void write_model(const char *path, breaker brk)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(f >= 0);
    util_h5_set_attr_str(f, "/", "format", "acdc-model");
    util_h5_set_attr_i64(f, "/", "version", 1);
    util_h5_set_attr_i64(f, "/", "n", 4);
    put_f64(f, "/layers/0/a", 4, 1.0);
    put_f64(f, "/layers/0/d", 4, 0.9);
    put_f64(f, "/layers/1/a", 4, 1.1);
    put_f64(f, "/layers/1/d", 4, 0.8);
    int64_t perm[4] = {2, 0, 3, 1};
    hsize_t d4[1] = {4};
    util_h5_write_i64(f, "/layers/0/perm", 1, d4, perm);
    util_h5_set_attr_str(f, "/layers/0", "activation", "relu");
    if (brk)
        brk(f);
    H5Fclose(f);
}

static void del(hid_t f, const char *name) { H5Ldelete(f, name, H5P_DEFAULT); }

static void b_none(hid_t f) { (void)f; }
static void b_format(hid_t f) { util_h5_set_attr_str(f, "/", "format", "acdc-system"); }
static void b_noformat(hid_t f) { H5Adelete(f, "format"); }
static void b_version(hid_t f) { util_h5_set_attr_i64(f, "/", "version", 2); }
static void b_n_neg(hid_t f) { util_h5_set_attr_i64(f, "/", "n", -3); }
static void b_n_str(hid_t f) { util_h5_set_attr_str(f, "/", "n", "four"); }
static void b_n_in(hid_t f) { util_h5_set_attr_i64(f, "/", "n_in", 5); }
static void b_short(hid_t f) { del(f, "/layers/1/d"); put_f64(f, "/layers/1/d", 3, 1); }
static void b_missing(hid_t f) { del(f, "/layers/1/a"); }
static void b_nan(hid_t f)
{
    del(f, "/layers/0/d");
    put_f64(f, "/layers/0/d", 4, NAN);
}
static void b_inf(hid_t f)
{
    del(f, "/layers/1/a");
    put_f64(f, "/layers/1/a", 4, INFINITY);
}
static void b_float32(hid_t f)
{
    del(f, "/layers/0/a");
    float v[4] = {1, 2, 3, 4};
    hsize_t d[1] = {4};
    hid_t s = H5Screate_simple(1, d, NULL);
    hid_t ds = H5Dcreate2(f, "/layers/0/a", H5T_IEEE_F32LE, s, H5P_DEFAULT, H5P_DEFAULT,
                          H5P_DEFAULT);
    H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
    H5Dclose(ds);
    H5Sclose(s);
}
static void b_rank2(hid_t f)
{
    del(f, "/layers/0/a");
    double v[4] = {1, 2, 3, 4};
    hsize_t d[2] = {2, 2};
    util_h5_write_f64(f, "/layers/0/a", 2, d, v);
}
static void b_perm_dup(hid_t f)
{
    del(f, "/layers/0/perm");
    int64_t p[4] = {0, 1, 1, 3};
    hsize_t d[1] = {4};
    util_h5_write_i64(f, "/layers/0/perm", 1, d, p);
}
static void b_perm_range(hid_t f)
{
    del(f, "/layers/0/perm");
    int64_t p[4] = {0, 1, 2, 4};
    hsize_t d[1] = {4};
    util_h5_write_i64(f, "/layers/0/perm", 1, d, p);
}
static void b_perm_float(hid_t f)
{
    del(f, "/layers/0/perm");
    put_f64(f, "/layers/0/perm", 4, 0);
}
static void b_activation(hid_t f) { util_h5_set_attr_str(f, "/layers/1", "activation", "tanh"); }
static void b_gap(hid_t f)
{
    H5Lmove(f, "/layers/1", f, "/layers/2", H5P_DEFAULT, H5P_DEFAULT);
}
static void b_name(hid_t f)
{
    H5Lmove(f, "/layers/1", f, "/layers/01", H5P_DEFAULT, H5P_DEFAULT);
}
static void b_extra(hid_t f) { put_f64(f, "/layers/1/gain", 4, 1); }
static void b_nolayers(hid_t f) { del(f, "/layers"); }
static void b_empty_layers(hid_t f)
{
    del(f, "/layers");
    util_h5_group(f, "/layers");
}
static void b_scale(hid_t f)
{
    put_f64(f, "/input/mean", 4, 0);
    put_f64(f, "/input/scale", 4, -1);
}

static const struct {
    const char *name;
    breaker brk;
    const char *expect;   /* a piece of the message */
} bad[] = {
    {"wrong format", b_format, "expected 'acdc-model'"},
    {"no format", b_noformat, "missing attribute 'format'"},
    {"version 2", b_version, "version 2"},
    {"negative n", b_n_neg, "attribute 'n'"},
    {"string n", b_n_str, "expected an integer"},
    {"n_in > n", b_n_in, "attribute 'n_in'"},
    {"short d", b_short, "'/layers/1/d'"},
    {"missing a", b_missing, "missing dataset '/layers/1/a'"},
    {"NaN", b_nan, "is NaN"},
    {"infinity", b_inf, "is infinite"},
    {"float32", b_float32, "found float32"},
    {"rank 2", b_rank2, "expected rank 1"},
    {"perm duplicate", b_perm_dup, "appears twice"},
    {"perm out of range", b_perm_range, "outside 0..3"},
    {"perm float", b_perm_float, "expected integer"},
    {"activation", b_activation, "'tanh'"},
    {"layer gap", b_gap, "'2'"},
    {"leading zero", b_name, "'01'"},
    {"extra dataset", b_extra, "unexpected object 'gain'"},
    {"no layers", b_nolayers, "missing group"},
    {"empty layers", b_empty_layers, "holds no layers"},
    {"negative scale", b_scale, "positive scale"},
};

static void test_model_validation(void **state)
{
    (void)state;
    const char *path = test_path(1, "bad.h5");
    acdc_model *m;
    write_model(path, b_none);
    assert_int_equal(acdc_model_read(path, &m), 0);
    acdc_model_free(m);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        write_model(path, bad[i].brk);
        int rc = acdc_model_read(path, &m);
        if (rc != UTIL_EDATA)
            fail_msg("%s: status %d, message '%s'", bad[i].name, rc, util_errmsg());
        assert_null(m);
        if (!strstr(util_errmsg(), bad[i].expect))
            fail_msg("%s: message '%s' lacks '%s'", bad[i].name, util_errmsg(),
                     bad[i].expect);
        if (!strstr(util_errmsg(), path))
            fail_msg("%s: message '%s' does not name the file", bad[i].name, util_errmsg());
    }
}

static void test_files_that_are_not_models(void **state)
{
    (void)state;
    acdc_model *m;
    const char *p = test_path(2, "junk.h5");
    FILE *f = fopen(p, "w");
    fputs("this is not HDF5\n", f);
    fclose(f);
    assert_int_equal(acdc_model_read(p, &m), UTIL_EDATA);
    assert_non_null(strstr(util_errmsg(), "not an HDF5 file"));
    f = fopen(p, "w");
    fclose(f);
    assert_int_equal(acdc_model_read(p, &m), UTIL_EDATA);
    assert_non_null(strstr(util_errmsg(), "empty"));
    assert_int_equal(acdc_model_read(test_path(2, "does-not-exist.h5"), &m), UTIL_EIO);
    assert_non_null(strstr(util_errmsg(), "No such file"));
    /* A truncated copy of a valid model. */
    const char *good = test_path(3, "good.h5");
    write_model(good, b_none);
    FILE *in = fopen(good, "rb");
    char buf[1 << 16];
    size_t len = fread(buf, 1, sizeof buf, in);
    fclose(in);
    f = fopen(p, "wb");
    fwrite(buf, 1, len / 2, f);
    fclose(f);
    assert_int_equal(acdc_model_read(p, &m), UTIL_EDATA);
    assert_null(m);
}

static void test_write_is_atomic(void **state)
{
    (void)state;
    acdc_model *m = make_model(6, 6, 6);
    /* A folder that does not exist: nothing is created, the error names the file. */
    assert_int_equal(acdc_model_write(m, "/nonexistent-dir/x.h5"), UTIL_EIO);
    assert_non_null(strstr(util_errmsg(), "/nonexistent-dir/x.h5"));
    /* An invalid model is refused before anything is written. */
    const char *p = test_path(4, "atomic.h5");
    remove(p);
    m->layers[0].d[2] = NAN;
    assert_int_equal(acdc_model_write(m, p), UTIL_EDATA);
    assert_int_equal(access(p, F_OK), -1);
    acdc_model_free(m);
}

static void test_data_file(void **state)
{
    (void)state;
    const char *p = test_path(5, "data.h5");
    double x[6] = {1, 2, 3, 4, 5, 6};
    int64_t lab[3] = {0, 2, 1};
    hid_t f = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t d[2] = {3, 2};
    util_h5_write_f64(f, "/x", 2, d, x);
    util_h5_write_i64(f, "/labels", 1, d, lab);
    H5Fclose(f);
    acdc_data *data;
    assert_int_equal(acdc_data_read(p, 2, &data), 0);
    assert_int_equal(data->batch, 3);
    assert_int_equal(data->labels[1], 2);
    acdc_data_free(data);
    assert_int_equal(acdc_data_read(p, 3, &data), UTIL_EDATA);
    assert_non_null(strstr(util_errmsg(), "dimension 1 is 2, expected 3"));
    lab[2] = -1;
    f = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    util_h5_write_f64(f, "/x", 2, d, x);
    util_h5_write_i64(f, "/labels", 1, d, lab);
    H5Fclose(f);
    assert_int_equal(acdc_data_read(p, 0, &data), UTIL_EDATA);
    assert_non_null(strstr(util_errmsg(), "label 2 is -1"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cascade_semantics),
        cmocka_unit_test(test_identity_model_is_identity),
        cmocka_unit_test(test_alloc_rejects_bad_shapes),
        cmocka_unit_test(test_model_file_round_trip),
        cmocka_unit_test(test_model_validation),
        cmocka_unit_test(test_files_that_are_not_models),
        cmocka_unit_test(test_write_is_atomic),
        cmocka_unit_test(test_data_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
