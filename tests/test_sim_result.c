/* tests/test_sim_result.c -- the metric table and the result file (sim/metrics.h,
 * sim/result.h): a round trip of everything the file holds, and its errors. */
#include "tests/testutil.h"

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

static compiler_system *small_system(void)
{
    acdc_model *m;
    assert_int_equal(acdc_model_alloc(&m, 8, 8, 4, 2, ACDC_D_BIAS | ACDC_PERM | ACDC_RELU), 0);
    assert_int_equal(acdc_model_init_normal(m, 1, 0.3, 5), 0);
    assert_int_equal(acdc_model_init_perms(m, 9), 0);
    compiler_profile p;
    compiler_system *s;
    assert_int_equal(compiler_profile_builtin("slm8", &p), 0);
    if (compiler_compile(m, &p, &s))
        fail_msg("compile: %s", util_errmsg());
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
    sim_metrics m;
    for (int i = 0; i < SIM_METRIC_COUNT; i++) {
        const sim_metric_desc *d = sim_metric_info(i);
        assert_non_null(d);
        assert_non_null(d->name);
        assert_non_null(d->label);
        assert_int_equal(sim_metric_find(d->name), i);
        for (int j = 0; j < i; j++)
            assert_string_not_equal(d->name, sim_metric_info(j)->name);
        sim_metric_set(&m, i, 2.385 + i);
    }
    for (int i = 0; i < SIM_METRIC_COUNT; i++)
        assert_true(sim_metric_get(&m, i) == 2.385 + i);
    /* the table's offsets are the struct's fields, in order */
    assert_true(m.rel_rms == 2.385 && m.snr_db == 4.385 && m.agreement == 8.385);
    assert_null(sim_metric_info(SIM_METRIC_COUNT));
    assert_null(sim_metric_info(-1));
    assert_true(isnan(sim_metric_get(&m, SIM_METRIC_COUNT)));
    assert_int_equal(sim_metric_find("colour"), -1);
    assert_true(sim_metric_info(SIM_METRIC_ACC_OPTICAL)->labels);
    assert_false(sim_metric_info(SIM_METRIC_AGREEMENT)->labels);
    assert_true(sim_metric_info(SIM_METRIC_SNR_DB)->higher_better);
    assert_false(sim_metric_info(SIM_METRIC_REL_RMS)->higher_better);
    const double v[] = {0.3, -1, 2.5, 2.5, 1};
    assert_int_equal(sim_argmax(v, 5), 2);   /* the first of equals */
    assert_int_equal(sim_argmax(v, 2), 0);
    assert_int_equal(sim_argmax(v, 0), 0);
}

static void check_round_trip(int labelled, size_t planes)
{
    compiler_system *s = small_system();
    acdc_data *d = small_data(12, labelled);
    sim_job job = {.system = s, .data = d, .options = sim_options_default(), .trials = 2,
                   .batch = 5, .save_planes = planes};
    job.options.seed = 7;
    sim_result a, b;
    if (sim_execute(&job, &a, NULL))
        fail_msg("simulate: %s", util_errmsg());
    const char *path = test_path(0, labelled ? "r.h5" : "rn.h5");
    if (sim_result_write(&a, path))
        fail_msg("write: %s", util_errmsg());
    if (sim_result_read(path, &b))
        fail_msg("read: %s", util_errmsg());
    assert_int_equal(b.rows, a.rows);
    assert_int_equal(b.n_out, a.n_out);
    assert_int_equal(b.trials, 2);
    assert_int_equal(b.n_chains, a.n_chains);
    assert_true(a.n_chains >= 1);
    assert_string_equal(b.profile, "slm8");
    assert_int_equal(b.propagation, a.propagation);
    assert_int_equal(b.seed, 7);
    assert_int_equal(b.oversample, a.oversample);
    assert_int_equal(b.saturated, a.saturated);
    same(a.seconds, b.seconds, "seconds");
    assert_memory_equal(a.y_optical, b.y_optical, a.rows * a.n_out * sizeof(double));
    assert_memory_equal(a.y_ideal, b.y_ideal, a.rows * a.n_out * sizeof(double));
    if (labelled)
        assert_memory_equal(a.labels, b.labels, a.rows * sizeof(int64_t));
    else
        assert_null(b.labels);
    for (size_t t = 0; t < a.trials; t++)
        for (int i = 0; i < SIM_METRIC_COUNT; i++)
            same(sim_metric_get(&a.end[t], i), sim_metric_get(&b.end[t], i), "trial metric");
    for (int st = -1; st < (int)a.n_chains; st++)
        for (int i = 0; i < SIM_METRIC_COUNT; i++) {
            double ma, sa, mb, sb;
            sim_result_stats(&a, st, i, &ma, &sa);
            sim_result_stats(&b, st, i, &mb, &sb);
            same(ma, mb, sim_metric_info(i)->name);
            same(sa, sb, sim_metric_info(i)->name);
        }
    double m, sd;
    sim_result_stats(&b, -1, SIM_METRIC_ACC_OPTICAL, &m, &sd);
    assert_true(labelled ? m >= 0 && m <= 1 : isnan(m));
    sim_result_stats(&b, 0, SIM_METRIC_ACC_OPTICAL, &m, &sd);   /* chains: no accuracy */
    assert_true(isnan(m));
    assert_null(b.stage);
    if (planes) {
        assert_int_equal(b.planes_rows, planes);
        assert_int_equal(b.n_planes, a.n_planes);
        assert_int_equal(b.m, a.m);
        assert_memory_equal(a.planes, b.planes,
                            a.planes_rows * a.n_planes * a.m * sizeof *a.planes);
        assert_memory_equal(a.plane_pitch_m, b.plane_pitch_m, a.n_planes * sizeof(double));
        assert_string_equal(a.plane_names, b.plane_names);
        assert_non_null(strchr(b.plane_names, ';'));
    } else {
        assert_null(b.planes);
    }
    /* a second write of what was read gives the same file content back */
    const char *again = test_path(1, "again.h5");
    assert_int_equal(sim_result_write(&b, again), 0);
    sim_result c;
    assert_int_equal(sim_result_read(again, &c), 0);
    for (size_t i = 0; i < (1 + b.n_chains) * SIM_METRIC_COUNT; i++) {
        same(b.mean[i], c.mean[i], "mean read again");
        same(b.sd[i], c.sd[i], "sd read again");
    }
    sim_result_free(&c);
    sim_result_free(&a);
    sim_result_free(&b);
    sim_result_free(NULL);
    acdc_data_free(d);
    compiler_system_free(s);
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

static void test_errors(void **state)
{
    (void)state;
    sim_result r;
    assert_int_equal(sim_result_read(test_path(0, "missing.h5"), &r), UTIL_EIO);
    assert_null(r.y_optical);
    /* an HDF5 file of another kind */
    util_h5_out o;
    const char *other = test_path(1, "other.h5");
    assert_int_equal(util_h5_create(other, &o), 0);
    assert_int_equal(util_h5_set_attr_str(o.fid, "/", "format", "acdc-sweep"), 0);
    assert_int_equal(util_h5_commit(&o), 0);
    assert_int_equal(sim_result_read(other, &r), UTIL_EDATA);
    assert_non_null(strstr(util_errmsg(), "is not a simulation result"));
    /* a result that lost its datasets */
    const char *bare = test_path(2, "bare.h5");
    assert_int_equal(util_h5_create(bare, &o), 0);
    assert_int_equal(util_h5_set_attr_str(o.fid, "/", "format", "acdc-result"), 0);
    assert_int_equal(util_h5_set_attr_str(o.fid, "/", "profile", "slm8"), 0);
    assert_int_equal(util_h5_set_attr_str(o.fid, "/", "propagation", "magic"), 0);
    assert_int_equal(util_h5_set_attr_i64(o.fid, "/", "trials", 1), 0);
    assert_int_equal(util_h5_set_attr_i64(o.fid, "/", "seed", 1), 0);
    assert_int_equal(util_h5_commit(&o), 0);
    assert_int_equal(sim_result_read(bare, &r), UTIL_EDATA);
    assert_non_null(strstr(util_errmsg(), "'magic' is not ideal, fresnel or asm"));
    assert_non_null(strstr(util_errmsg(), "bare.h5"));
    /* writing into a folder that does not exist leaves nothing */
    compiler_system *s = small_system();
    acdc_data *d = small_data(4, 1);
    sim_job job = {.system = s, .data = d, .options = sim_options_default(), .trials = 1};
    assert_int_equal(sim_execute(&job, &r, NULL), 0);
    assert_int_equal(sim_result_write(&r, test_path(3, "no/such/dir/r.h5")), UTIL_EIO);
    assert_int_not_equal(access(test_path(3, "no/such/dir/r.h5"), F_OK), 0);
    /* an unsummarised result is refused */
    free(r.mean);
    r.mean = NULL;
    assert_int_equal(sim_result_write(&r, test_path(3, "x.h5")), UTIL_EUSAGE);
    sim_result_free(&r);
    acdc_data_free(d);
    compiler_system_free(s);
}

static void test_propagation_names(void **state)
{
    (void)state;
    enum sim_propagation p;
    assert_int_equal(sim_propagation_parse("fresnel", &p), 0);
    assert_int_equal(p, SIM_PROP_FRESNEL);
    assert_string_equal(sim_propagation_name(SIM_PROP_ASM), "asm");
    assert_int_equal(sim_propagation_parse("Ideal", &p), UTIL_EUSAGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metric_table),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_round_trip_unlabelled),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_propagation_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
