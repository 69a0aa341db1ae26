/* SPDX-License-Identifier: GPL-3.0-or-later */
/* tests/test_sim_result.c -- the metric table and the result file (sim/metrics.h,
 * sim/result.h): a round trip of everything the file holds, and its errors. */
#include "tests/testutil.h"

#include <complex.h>

#include "compiler/compile.h"
#include "compiler/profile.h"
#include "sim/metrics.h"
#include "sim/result.h"
#include "sim/simulate.h"
#include "util/error.h"
#include "util/h5.h"

static void fill(double *v, size_t n, double seed)
{
    for (size_t i = 0; i < n; i++)
        v[i] = sin(2.385 * (double)i + seed) + 0.37 * cos(0.913 * (double)i * seed);
}

static acdc_compiler_system *small_system(void)
{
    acdc_model *m;
    assert_int_equal(acdc_model_alloc(&m, 8, 8, 4, 2, ACDC_D_BIAS | ACDC_PERM | ACDC_RELU), 0);
    assert_int_equal(acdc_model_init_normal(m, 1, 0.3, 5), 0);
    assert_int_equal(acdc_model_init_perms(m, 9), 0);
    acdc_compiler_profile p;
    acdc_compiler_system *s;
    assert_int_equal(acdc_compiler_profile_builtin("slm8", &p), 0);
    p.frames = 1;   /* the exposure counts below are one per row and chain */
    /* the catalogue doublet on the point design (S = 1 by default): the lens records
     * below are its corrected model's */
    assert_int_equal(acdc_compiler_profile_set(&p, "lens.device=achromat"), 0);
    p.fourier_oversample = 0;
    if (acdc_compiler_compile(m, &p, &s))
        fail_msg("compile: %s", acdc_util_errmsg());
    acdc_model_free(m);
    return s;
}

static acdc_data *small_data(size_t rows, int labelled)
{
    acdc_data *d = calloc(1, sizeof *d);
    d->batch = rows;
    d->dim = 8;
    d->x = malloc(rows * 8 * sizeof *d->x);
    fill(d->x, rows * 8, 0.61);
    if (labelled) {
        d->labels = malloc(rows * sizeof *d->labels);
        for (size_t r = 0; r < rows; r++)
            d->labels[r] = (int64_t)(r % 3);
    }
    return d;
}

/* NaN equals NaN here: unlabelled accuracies must come back as NaN. */
static void same(double a, double b, const char *what)
{
    if (!(isnan(a) && isnan(b)) && memcmp(&a, &b, sizeof a))
        fail_msg("%s: %.17g written, %.17g read", what, a, b);
}

static void test_metric_table(void **state)
{
    (void)state;
    acdc_sim_metrics m;
    for (int i = 0; i < ACDC_SIM_METRIC_COUNT; i++) {
        const acdc_sim_metric_desc *d = acdc_sim_metric_info(i);
        assert_non_null(d);
        assert_non_null(d->name);
        assert_non_null(d->label);
        assert_int_equal(acdc_sim_metric_find(d->name), i);
        for (int j = 0; j < i; j++)
            assert_string_not_equal(d->name, acdc_sim_metric_info(j)->name);
        acdc_sim_metric_set(&m, i, 2.385 + i);
    }
    for (int i = 0; i < ACDC_SIM_METRIC_COUNT; i++)
        assert_true(acdc_sim_metric_get(&m, i) == 2.385 + i);
    /* the table's offsets are the struct's fields, in order */
    assert_true(m.rel_rms == 2.385 && m.snr_db == 4.385 && m.agreement == 8.385);
    assert_null(acdc_sim_metric_info(ACDC_SIM_METRIC_COUNT));
    assert_null(acdc_sim_metric_info(-1));
    assert_true(isnan(acdc_sim_metric_get(&m, ACDC_SIM_METRIC_COUNT)));
    assert_int_equal(acdc_sim_metric_find("colour"), -1);
    assert_true(acdc_sim_metric_info(ACDC_SIM_METRIC_ACC_OPTICAL)->labels);
    assert_false(acdc_sim_metric_info(ACDC_SIM_METRIC_AGREEMENT)->labels);
    assert_true(acdc_sim_metric_info(ACDC_SIM_METRIC_SNR_DB)->higher_better);
    assert_false(acdc_sim_metric_info(ACDC_SIM_METRIC_REL_RMS)->higher_better);
    const double v[] = {0.3, -1, 2.5, 2.5, 1};
    assert_int_equal(acdc_sim_argmax(v, 5), 2);   /* the first of equals */
    assert_int_equal(acdc_sim_argmax(v, 2), 0);
    assert_int_equal(acdc_sim_argmax(v, 0), 0);
}

static void check_round_trip(int labelled, size_t planes)
{
    acdc_compiler_system *s = small_system();
    acdc_data *d = small_data(12, labelled);
    acdc_sim_job job = {.system = s, .data = d, .options = acdc_sim_options_default(), .trials = 2,
                        .batch = 5, .save_planes = planes};
    job.options.seed = 7;
    acdc_sim_result a, b;
    if (acdc_sim_execute(&job, &a, NULL))
        fail_msg("simulate: %s", acdc_util_errmsg());
    const char *path = test_path(0, labelled ? "r.h5" : "rn.h5");
    if (acdc_sim_result_write(&a, path))
        fail_msg("write: %s", acdc_util_errmsg());
    if (acdc_sim_result_read(path, &b))
        fail_msg("read: %s", acdc_util_errmsg());
    assert_int_equal(b.rows, a.rows);
    assert_int_equal(b.n_out, a.n_out);
    assert_int_equal(b.trials, 2);
    assert_int_equal(b.n_chains, a.n_chains);
    assert_true(a.n_chains >= 1);
    assert_string_equal(b.profile, "slm8");
    assert_int_equal(b.propagation, a.propagation);
    /* the lens that ran: slm8's doublet at S = 1 runs as an ideal Fourier lens, and the
     * note says why */
    assert_int_equal(a.propagation, ACDC_SIM_PROP_IDEAL);
    assert_int_equal(b.lens.model, ACDC_OPTICS_LENS_FOURIER);
    assert_string_equal(b.lens.name, a.lens.name);
    assert_memory_equal(b.lens.zernike, a.lens.zernike, sizeof a.lens.zernike);
    same(b.lens_rms_waves, a.lens_rms_waves, "lens rms");
    assert_string_equal(b.lens_note, a.lens_note);
    assert_non_null(strstr(b.lens_note, "at S = 1"));
    assert_int_equal(b.seed, 7);
    assert_int_equal(b.oversample, a.oversample);
    assert_int_equal(b.saturated, a.saturated);
    assert_int_equal(b.exposures, a.exposures);
    assert_int_equal(a.exposures, 2 * 12 * a.n_chains);   /* trials x rows x chains */
    same(a.seconds, b.seconds, "seconds");
    assert_memory_equal(a.y_optical, b.y_optical, a.rows * a.n_out * sizeof(double));
    assert_memory_equal(a.y_ideal, b.y_ideal, a.rows * a.n_out * sizeof(double));
    if (labelled)
        assert_memory_equal(a.labels, b.labels, a.rows * sizeof(int64_t));
    else
        assert_null(b.labels);
    for (size_t t = 0; t < a.trials; t++)
        for (int i = 0; i < ACDC_SIM_METRIC_COUNT; i++)
            same(acdc_sim_metric_get(&a.end[t], i), acdc_sim_metric_get(&b.end[t], i),
                 "trial metric");
    for (int st = -1; st < (int)a.n_chains; st++)
        for (int i = 0; i < ACDC_SIM_METRIC_COUNT; i++) {
            double ma, sa, mb, sb;
            acdc_sim_result_stats(&a, st, i, &ma, &sa);
            acdc_sim_result_stats(&b, st, i, &mb, &sb);
            same(ma, mb, acdc_sim_metric_info(i)->name);
            same(sa, sb, acdc_sim_metric_info(i)->name);
        }
    double m, sd;
    acdc_sim_result_stats(&b, -1, ACDC_SIM_METRIC_ACC_OPTICAL, &m, &sd);
    assert_true(labelled ? m >= 0 && m <= 1 : isnan(m));
    acdc_sim_result_stats(&b, 0, ACDC_SIM_METRIC_ACC_OPTICAL, &m, &sd);   /* chains: no accuracy */
    assert_true(isnan(m));
    assert_null(b.stage);
    if (planes) {
        assert_int_equal(b.planes_rows, planes);
        assert_int_equal(b.n_planes, a.n_planes);
        assert_int_equal(b.m, a.m);
        /* a 1D system's planes: one row, and the file keeps the rank-4 layout */
        assert_int_equal(a.plane_nx, a.m);
        assert_int_equal(a.plane_ny, 1);
        assert_int_equal(b.plane_nx, a.m);
        assert_int_equal(b.plane_ny, 1);
        hid_t f;
        assert_int_equal(acdc_util_h5_open(path, &f), 0);
        assert_int_equal(acdc_util_h5_rank(f, "/planes/field"), 4);
        H5Fclose(f);
        assert_memory_equal(a.planes, b.planes,
                            a.planes_rows * a.n_planes * a.m * sizeof *a.planes);
        assert_memory_equal(a.plane_pitch_m, b.plane_pitch_m, a.n_planes * sizeof(double));
        assert_string_equal(a.plane_names, b.plane_names);
        assert_non_null(strchr(b.plane_names, ';'));
    } else {
        assert_null(b.planes);
    }
    /* a result written before designed detection counts shortened exposures in
     * 'exposure_shortened', and no exposures: read in their place */
    if (!planes) {
        const char *old = test_path(2, "old.h5");
        acdc_sim_result o;
        assert_int_equal(acdc_sim_result_write(&a, old), 0);
        hid_t f = H5Fopen(old, H5F_ACC_RDWR, H5P_DEFAULT);
        assert_true(f >= 0);
        assert_true(H5Adelete_by_name(f, "/", "saturated_exposures", H5P_DEFAULT) >= 0);
        assert_true(H5Adelete_by_name(f, "/", "exposures", H5P_DEFAULT) >= 0);
        assert_int_equal(acdc_util_h5_set_attr_i64(f, "/", "exposure_shortened", 23), 0);
        H5Fclose(f);
        if (acdc_sim_result_read(old, &o))
            fail_msg("read an older result: %s", acdc_util_errmsg());
        assert_int_equal(o.saturated, 23);
        assert_int_equal(o.exposures, 0);
        acdc_sim_result_free(&o);
    }
    /* a second write of what was read gives the same file content back */
    const char *again = test_path(1, "again.h5");
    assert_int_equal(acdc_sim_result_write(&b, again), 0);
    acdc_sim_result c;
    assert_int_equal(acdc_sim_result_read(again, &c), 0);
    for (size_t i = 0; i < (1 + b.n_chains) * ACDC_SIM_METRIC_COUNT; i++) {
        same(b.mean[i], c.mean[i], "mean read again");
        same(b.sd[i], c.sd[i], "sd read again");
    }
    acdc_sim_result_free(&c);
    acdc_sim_result_free(&a);
    acdc_sim_result_free(&b);
    acdc_sim_result_free(NULL);
    acdc_data_free(d);
    acdc_compiler_system_free(s);
}

/* The metrics of known outputs, and a NaN in the light reported, not hidden. */
static void test_metrics_values(void **state)
{
    (void)state;
    const double yi[4] = {1, 0, 0, 2}, yo[4] = {1, 0.5, 0, 1};
    const int64_t labels[2] = {0, 0};
    acdc_sim_metrics m;
    acdc_sim_metrics_compute(2, 2, yo, yi, labels, &m);
    assert_close(m.rel_rms, sqrt(1.25 / 5), 1e-15);
    assert_close(m.max_abs, 1, 0);
    assert_close(m.acc_ideal, 0.5, 0);   /* row 1's argmax is 1, its label 0 */
    assert_close(m.acc_optical, 0.5, 0);
    assert_close(m.agreement, 1, 0);
    const double bad[4] = {1, NAN, 0, 1};
    acdc_sim_metrics_compute(2, 2, bad, yi, labels, &m);
    assert_true(isnan(m.max_abs));
    assert_true(isnan(m.rel_rms));
}

static void test_round_trip(void **state)
{
    (void)state;
    check_round_trip(1, 2);
}

static void test_round_trip_unlabelled(void **state)
{
    (void)state;
    check_round_trip(0, 0);
}

/* A 2D system (spherical lenses, a 3 x 3 grid, ideal devices).  The built-in profiles
 * of this branch give their devices no rows yet; they get as many rows as columns. */
static acdc_compiler_system *small_system2(void)
{
    acdc_model *m;
    assert_int_equal(acdc_model_alloc(&m, 9, 9, 4, 2, ACDC_D_BIAS | ACDC_RELU), 0);
    assert_int_equal(acdc_model_set_grid(m, ACDC_TRANSFORM_DCT2, 3, 3, 3, 3), 0);
    assert_int_equal(acdc_model_init_normal(m, 1, 0.3, 5), 0);
    acdc_compiler_profile p;
    assert_int_equal(acdc_compiler_profile_builtin("ideal", &p), 0);
    acdc_optics_modulator *dev[] = {&p.input, &p.fourier, &p.image};
    for (size_t i = 0; i < 3; i++)
        if (!dev[i]->rows)
            dev[i]->rows = dev[i]->pixels;
    if (!p.camera.rows)
        p.camera.rows = p.camera.pixels;
    acdc_compiler_system *s;
    if (acdc_compiler_compile(m, &p, &s))
        fail_msg("compile: %s", acdc_util_errmsg());
    acdc_model_free(m);
    return s;
}

/* The planes of a 2D system: side x side (acdc_sim_plane_side()), written as the rank-5
 * /planes/field (inputs x planes x rows x columns x 2) and read back unchanged. */
static void test_round_trip_2d(void **state)
{
    (void)state;
    acdc_compiler_system *s = small_system2();
    assert_int_equal(s->rank, 2);
    acdc_data *d = calloc(1, sizeof *d);
    d->batch = 3;
    d->dim = 9;
    d->x = malloc(3 * 9 * sizeof *d->x);
    fill(d->x, 3 * 9, 0.61);
    acdc_sim_job job = {.system = s, .data = d, .options = acdc_sim_options_default(), .trials = 1,
                        .save_planes = 2};
    job.options.oversample = 2;
    acdc_sim_result a, b;
    if (acdc_sim_execute(&job, &a, NULL))
        fail_msg("simulate: %s", acdc_util_errmsg());
    const size_t side = acdc_sim_plane_side(s, &job.options);
    assert_int_equal(a.plane_nx, side);
    assert_int_equal(a.plane_ny, side);
    assert_int_equal(a.m, side * side);
    assert_int_equal(a.m, acdc_sim_plane_samples(s, &job.options));
    /* light off the first row: the planes are filled as 2D, not as one long line */
    size_t lit_rows = 0;
    for (size_t iy = 0; iy < side; iy++)
        for (size_t ix = 0; ix < side; ix++)
            if (cabs(a.planes[iy * side + ix]) > 0) {
                lit_rows++;
                break;
            }
    assert_true(lit_rows > 1);
    const char *path = test_path(0, "r2d.h5");
    if (acdc_sim_result_write(&a, path))
        fail_msg("write: %s", acdc_util_errmsg());
    hid_t f;
    hsize_t dims[5] = {2, a.n_planes, side, side, 2};
    double *v;
    assert_int_equal(acdc_util_h5_open(path, &f), 0);
    assert_int_equal(acdc_util_h5_rank(f, "/planes/field"), 5);
    assert_int_equal(acdc_util_h5_read_f64(f, path, "/planes/field", 5, dims, &v), 0);
    H5Fclose(f);
    /* row-major, x fastest: sample (iy, ix) of plane p of input k */
    const size_t k = 1, p = 1, iy = side / 2 + 1, ix = side / 2 - 1;
    const double complex e = a.planes[(k * a.n_planes + p) * a.m + iy * side + ix];
    const double *at = v + 2 * (((k * a.n_planes + p) * side + iy) * side + ix);
    assert_true(at[0] == creal(e) && at[1] == cimag(e));
    free(v);
    if (acdc_sim_result_read(path, &b))
        fail_msg("read: %s", acdc_util_errmsg());
    assert_int_equal(b.planes_rows, 2);
    assert_int_equal(b.n_planes, a.n_planes);
    assert_int_equal(b.plane_nx, side);
    assert_int_equal(b.plane_ny, side);
    assert_int_equal(b.m, a.m);
    assert_memory_equal(a.planes, b.planes, 2 * a.n_planes * a.m * sizeof *a.planes);
    assert_memory_equal(a.plane_pitch_m, b.plane_pitch_m, a.n_planes * sizeof(double));
    assert_string_equal(a.plane_names, b.plane_names);
    /* what was read is written as it came */
    const char *again = test_path(1, "r2d-again.h5");
    assert_int_equal(acdc_sim_result_write(&b, again), 0);
    assert_int_equal(acdc_util_h5_open(again, &f), 0);
    assert_int_equal(acdc_util_h5_rank(f, "/planes/field"), 5);
    H5Fclose(f);
    /* a shape that is not the plane's samples is refused, and nothing written */
    b.plane_ny = side - 1;
    const char *bad = test_path(2, "r2d-bad.h5");
    assert_int_equal(acdc_sim_result_write(&b, bad), ACDC_UTIL_EUSAGE);
    assert_non_null(strstr(acdc_util_errmsg(), "are not"));
    assert_int_not_equal(access(bad, F_OK), 0);
    acdc_sim_result_free(&a);
    acdc_sim_result_free(&b);
    acdc_data_free(d);
    acdc_compiler_system_free(s);
}

/* base (a result without planes) copied to a new file slot with /planes/field of the
 * given rank and extents (values 0.25) and `pitches` pitches of value pitch. */
static const char *with_planes(const char *base, int slot, int rank, const hsize_t *dims,
                               size_t pitches, double pitch)
{
    char name[32];
    snprintf(name, sizeof name, "planes%d.h5", slot);
    const char *path = test_path(slot, name);
    size_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= (size_t)dims[i];
    double *v = malloc((n ? n : 1) * sizeof *v), *q = malloc(pitches * sizeof *q);
    for (size_t i = 0; i < n; i++)
        v[i] = 0.25;
    for (size_t i = 0; i < pitches; i++)
        q[i] = pitch;
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", base, path);
    assert_int_equal(system(cmd), 0);
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    hsize_t dq[1] = {pitches};
    assert_true(f >= 0);
    assert_int_equal(acdc_util_h5_write_f64(f, "/planes/field", rank, dims, v), 0);
    assert_int_equal(acdc_util_h5_write_f64(f, "/planes/pitch_m", 1, dq, q), 0);
    H5Fclose(f);
    free(v);
    free(q);
    return path;
}

/* /planes/field of a wrong rank or extent, or bad pitches: one ACDC_UTIL_EDATA naming the
 * file and the dataset, and nothing kept. */
static void test_planes_shape_errors(void **state)
{
    (void)state;
    acdc_compiler_system *s = small_system();
    acdc_data *d = small_data(4, 1);
    acdc_sim_job job = {.system = s, .data = d, .options = acdc_sim_options_default(), .trials = 1};
    acdc_sim_result r;
    assert_int_equal(acdc_sim_execute(&job, &r, NULL), 0);
    char base[600];
    snprintf(base, sizeof base, "%s", test_path(7, "base.h5"));
    assert_int_equal(acdc_sim_result_write(&r, base), 0);
    acdc_sim_result_free(&r);
    static const struct {
        int rank;
        hsize_t dims[6];
        size_t pitches;
        double pitch;
        const char *object, *message;
    } bad[] = {
        {3, {2, 3, 2}, 3, 2e-6, "/planes/field", "found rank 3"},
        {6, {1, 1, 2, 2, 2, 2}, 1, 2e-6, "/planes/field", "found rank 6"},
        {5, {1, 2, 4, 4, 3}, 2, 2e-6, "/planes/field", "dimension 4 is 3, expected 2"},
        {4, {1, 2, 8, 1}, 2, 2e-6, "/planes/field", "dimension 3 is 1, expected 2"},
        {5, {1, 2, 0, 4, 2}, 2, 2e-6, "/planes/field", "no rows (y) (dimension 2 is 0)"},
        {5, {1, 2, 4, 0, 2}, 2, 2e-6, "/planes/field", "no columns (x)"},
        {4, {0, 2, 8, 2}, 2, 2e-6, "/planes/field", "no inputs"},
        {4, {1, 0, 8, 2}, 0, 2e-6, "/planes/field", "no planes"},
        {4, {1, 2, 0, 2}, 2, 2e-6, "/planes/field", "no samples"},
        {5, {1, 2, 4, 4, 2}, 3, 2e-6, "/planes/pitch_m", "expected 2 values, found 3"},
        {5, {1, 2, 4, 4, 2}, 2, -2e-6, "/planes/pitch_m", "value 0 is -2e-06"},
        {4, {1, 2, 8, 2}, 2, 0, "/planes/pitch_m", "expected a pitch > 0"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        const char *path = with_planes(base, (int)(i % 6), bad[i].rank, bad[i].dims,
                                       bad[i].pitches, bad[i].pitch);
        if (acdc_sim_result_read(path, &r) != ACDC_UTIL_EDATA)
            fail_msg("case %zu (%s) was not refused", i, bad[i].message);
        const char *msg = acdc_util_errmsg();
        if (!strstr(msg, bad[i].message) || !strstr(msg, path) || !strstr(msg, bad[i].object)
            || strchr(msg, '\n'))
            fail_msg("case %zu: message '%s' lacks '%s', the file or '%s'", i, msg,
                     bad[i].message, bad[i].object);
        assert_null(r.planes);
        assert_null(r.y_optical);
    }
    /* a group where the dataset should be */
    char cmd[2048];
    const char *grp = test_path(6, "group.h5");
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", base, grp);
    assert_int_equal(system(cmd), 0);
    hid_t f = H5Fopen(grp, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    assert_int_equal(acdc_util_h5_group(f, "/planes/field"), 0);
    H5Fclose(f);
    assert_int_equal(acdc_sim_result_read(grp, &r), ACDC_UTIL_EDATA);
    assert_non_null(strstr(acdc_util_errmsg(), "'/planes/field' in '"));
    assert_non_null(strstr(acdc_util_errmsg(), "group.h5' is not a dataset"));
    /* the same harness with the right shapes: read, 2D and 1D */
    const hsize_t good5[5] = {1, 2, 3, 5, 2}, good4[4] = {2, 2, 7, 2};
    assert_int_equal(acdc_sim_result_read(with_planes(base, 0, 5, good5, 2, 2e-6), &r), 0);
    assert_int_equal(r.plane_nx, 5);
    assert_int_equal(r.plane_ny, 3);
    assert_int_equal(r.m, 15);
    assert_true(creal(r.planes[29]) == 0.25 && cimag(r.planes[29]) == 0.25);
    acdc_sim_result_free(&r);
    assert_int_equal(acdc_sim_result_read(with_planes(base, 1, 4, good4, 2, 2e-6), &r), 0);
    assert_int_equal(r.plane_nx, 7);
    assert_int_equal(r.plane_ny, 1);
    assert_int_equal(r.planes_rows, 2);
    acdc_sim_result_free(&r);
    acdc_data_free(d);
    acdc_compiler_system_free(s);
}

static void test_errors(void **state)
{
    (void)state;
    acdc_sim_result r;
    assert_int_equal(acdc_sim_result_read(test_path(0, "missing.h5"), &r), ACDC_UTIL_EIO);
    assert_null(r.y_optical);
    /* an HDF5 file of another kind */
    acdc_util_h5_out o;
    const char *other = test_path(1, "other.h5");
    assert_int_equal(acdc_util_h5_create(other, &o), 0);
    assert_int_equal(acdc_util_h5_set_attr_str(o.fid, "/", "format", "acdc-sweep"), 0);
    assert_int_equal(acdc_util_h5_commit(&o), 0);
    assert_int_equal(acdc_sim_result_read(other, &r), ACDC_UTIL_EDATA);
    assert_non_null(strstr(acdc_util_errmsg(), "is not a simulation result"));
    /* a result that lost its datasets */
    const char *bare = test_path(2, "bare.h5");
    assert_int_equal(acdc_util_h5_create(bare, &o), 0);
    assert_int_equal(acdc_util_h5_set_attr_str(o.fid, "/", "format", "acdc-result"), 0);
    assert_int_equal(acdc_util_h5_set_attr_str(o.fid, "/", "profile", "slm8"), 0);
    assert_int_equal(acdc_util_h5_set_attr_str(o.fid, "/", "propagation", "magic"), 0);
    assert_int_equal(acdc_util_h5_set_attr_i64(o.fid, "/", "trials", 1), 0);
    assert_int_equal(acdc_util_h5_set_attr_i64(o.fid, "/", "seed", 1), 0);
    assert_int_equal(acdc_util_h5_commit(&o), 0);
    assert_int_equal(acdc_sim_result_read(bare, &r), ACDC_UTIL_EDATA);
    assert_non_null(strstr(acdc_util_errmsg(), "'magic' is not ideal, fresnel or asm"));
    assert_non_null(strstr(acdc_util_errmsg(), "bare.h5"));
    /* writing into a folder that does not exist leaves nothing */
    acdc_compiler_system *s = small_system();
    acdc_data *d = small_data(4, 1);
    acdc_sim_job job = {.system = s, .data = d, .options = acdc_sim_options_default(), .trials = 1};
    assert_int_equal(acdc_sim_execute(&job, &r, NULL), 0);
    assert_int_equal(acdc_sim_result_write(&r, test_path(3, "no/such/dir/r.h5")), ACDC_UTIL_EIO);
    assert_int_not_equal(access(test_path(3, "no/such/dir/r.h5"), F_OK), 0);
    /* an unsummarised result is refused */
    free(r.mean);
    r.mean = NULL;
    assert_int_equal(acdc_sim_result_write(&r, test_path(3, "x.h5")), ACDC_UTIL_EUSAGE);
    acdc_sim_result_free(&r);
    acdc_data_free(d);
    acdc_compiler_system_free(s);
}

static void test_propagation_names(void **state)
{
    (void)state;
    enum acdc_sim_propagation p;
    assert_int_equal(acdc_sim_propagation_parse("fresnel", &p), 0);
    assert_int_equal(p, ACDC_SIM_PROP_FRESNEL);
    assert_string_equal(acdc_sim_propagation_name(ACDC_SIM_PROP_ASM), "asm");
    assert_int_equal(acdc_sim_propagation_parse("profile", &p), 0);
    assert_int_equal(p, ACDC_SIM_PROP_PROFILE);
    assert_int_equal(acdc_sim_propagation_parse("Ideal", &p), ACDC_UTIL_EUSAGE);
}

/* The lens a result records: asm with a corrected lens and its wavefront error as
 * realised (the single rms figure folded into Noll 11) and its rms; a result written
 * before lens models reads as the lens of its propagation then; "profile" is not a
 * propagation that ran, and an unknown lens model is refused. */
static void test_lens_record(void **state)
{
    (void)state;
    acdc_compiler_system *s = small_system();
    acdc_data *d = small_data(3, 1);
    acdc_sim_job job = {.system = s, .data = d, .options = acdc_sim_options_default(), .trials = 1};
    job.options.oversample = 2;
    acdc_sim_result a, b;
    if (acdc_sim_execute(&job, &a, NULL))
        fail_msg("simulate: %s", acdc_util_errmsg());
    assert_int_equal(a.propagation, ACDC_SIM_PROP_ASM);
    assert_int_equal(a.lens.model, ACDC_OPTICS_LENS_CORRECTED);
    assert_close(a.lens.zernike[10], 0.07, 1e-15);
    assert_close(a.lens.wavefront_rms, 0, 0);
    assert_close(a.lens_rms_waves, 0.07, 1e-15);
    assert_string_equal(a.lens_note, "");
    assert_close(a.lens.focal_m, s->focal_m, 0);
    const char *path = test_path(0, "lens.h5");
    assert_int_equal(acdc_sim_result_write(&a, path), 0);
    assert_int_equal(acdc_sim_result_read(path, &b), 0);
    assert_int_equal(b.propagation, ACDC_SIM_PROP_ASM);
    assert_int_equal(b.lens.model, ACDC_OPTICS_LENS_CORRECTED);
    assert_string_equal(b.lens.name, s->profile.lens.name);
    assert_memory_equal(b.lens.zernike, a.lens.zernike, sizeof a.lens.zernike);
    assert_close(b.lens_rms_waves, 0.07, 1e-15);
    acdc_sim_result_free(&b);
    static const char *const lens_attrs[] = {"lens_model", "lens_name",
                                             "lens_wavefront_rms_waves",
                                             "lens_zernike_waves", "lens_note"};
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    for (size_t i = 0; i < 5; i++)
        assert_true(H5Adelete_by_name(f, "/", lens_attrs[i], H5P_DEFAULT) >= 0);
    H5Fclose(f);
    assert_int_equal(acdc_sim_result_read(path, &b), 0);
    assert_int_equal(b.lens.model, ACDC_OPTICS_LENS_PARAXIAL);   /* asm before lens models */
    assert_close(b.lens_rms_waves, 0, 0);
    acdc_sim_result_free(&b);
    static const struct {
        const char *attr, *value, *want;
    } bad[] = {{"propagation", "profile", "'profile' is not ideal, fresnel or asm"},
               {"lens_model", "thick", "'thick' is not fourier, paraxial or corrected"}};
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(acdc_sim_result_write(&a, path), 0);
        f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
        assert_int_equal(acdc_util_h5_set_attr_str(f, "/", bad[i].attr, bad[i].value), 0);
        H5Fclose(f);
        assert_int_equal(acdc_sim_result_read(path, &b), ACDC_UTIL_EDATA);
        assert_non_null(strstr(acdc_util_errmsg(), bad[i].want));
        assert_non_null(strstr(acdc_util_errmsg(), path));
    }
    assert_int_equal(acdc_sim_result_write(&a, path), 0);
    f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    const double z[3] = {0, 0, 0};
    assert_int_equal(acdc_util_h5_set_attr_f64_vec(f, "/", "lens_zernike_waves", 3, z), 0);
    H5Fclose(f);
    assert_int_equal(acdc_sim_result_read(path, &b), ACDC_UTIL_EDATA);
    assert_non_null(strstr(acdc_util_errmsg(), "expected 11 values, found 3"));
    acdc_sim_result_free(&a);
    acdc_data_free(d);
    acdc_compiler_system_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metric_table),
        cmocka_unit_test(test_metrics_values),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_round_trip_unlabelled),
        cmocka_unit_test(test_round_trip_2d),
        cmocka_unit_test(test_planes_shape_errors),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_propagation_names),
        cmocka_unit_test(test_lens_record),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
