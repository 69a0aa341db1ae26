/* SPDX-License-Identifier: GPL-3.0-or-later */
/* tests/test_sim_sweep.c -- the sweep engine and its file (sim/sweep.h): the --vary
 * grammar, the grid, a sweep run to completion and read back, an interrupted sweep
 * resumed to the same numbers, and resumes refused when anything the numbers depend on
 * changed. */
#include "tests/testutil.h"

#include <omp.h>

#include "compiler/compile.h"
#include "compiler/profile.h"
#include "sim/sweep.h"
#include "util/error.h"
#include "util/h5.h"

static char sys_path[4800], sys2_path[4800], data_path[4800];

static void fill(double *v, size_t n, double seed)
{
    for (size_t i = 0; i < n; i++)
        v[i] = sin(2.385 * (double)i + seed) + 0.37 * cos(0.913 * (double)i * seed);
}

static void write_system(const acdc_model *m, const char *profile, const char *path)
{
    acdc_compiler_profile p;
    acdc_compiler_system *s;
    assert_int_equal(acdc_compiler_profile_builtin(profile, &p), 0);
    /* the catalogue doublet on the point design (S = 1 by default): test_optics_recorded
     * exercises its corrected model */
    assert_int_equal(acdc_compiler_profile_set(&p, "lens.device=achromat"), 0);
    p.fourier_oversample = 0;
    if (acdc_compiler_compile(m, &p, &s) || acdc_compiler_system_write(s, path))
        fail_msg("%s: %s", path, acdc_util_errmsg());
    acdc_compiler_system_free(s);
}

/* A 2-layer n = 8 cascade compiled for slm8 and for ideal; 24 labelled rows. */
static int setup(void **state)
{
    (void)state;
    snprintf(sys_path, sizeof sys_path, "%s", test_path(0, "sys.h5"));
    snprintf(sys2_path, sizeof sys2_path, "%s", test_path(0, "sys2.h5"));
    snprintf(data_path, sizeof data_path, "%s", test_path(0, "data.h5"));
    acdc_model *m;
    if (acdc_model_alloc(&m, 8, 8, 4, 2, ACDC_D_BIAS | ACDC_PERM | ACDC_RELU) ||
        acdc_model_init_normal(m, 1, 0.3, 5) || acdc_model_init_perms(m, 9))
        return -1;
    write_system(m, "slm8", sys_path);
    write_system(m, "ideal", sys2_path);
    acdc_model_free(m);
    double x[24 * 8];
    int64_t labels[24];
    fill(x, 24 * 8, 0.61);
    for (int i = 0; i < 24; i++)
        labels[i] = i % 4;
    acdc_util_h5_out o;
    hsize_t dx[2] = {24, 8}, dl[1] = {24};
    if (acdc_util_h5_create(data_path, &o) || acdc_util_h5_write_f64(o.fid, "/x", 2, dx, x) ||
        acdc_util_h5_write_i64(o.fid, "/labels", 1, dl, labels) || acdc_util_h5_commit(&o))
        return -1;
    return 0;
}

/* photons 1e2..1e4 (3 log-spaced points), 2 trials, into out. */
static acdc_sim_sweep_config config(const char *out)
{
    acdc_sim_sweep_config c = {.system_path = sys_path, .data_path = data_path, .out = out,
                               .n_params = 1, .trials = 2, .batch = 7,
                               .options = acdc_sim_options_default(),
                                   .compile = acdc_compiler_compile};
    assert_int_equal(acdc_sim_sweep_parse("photons=1e2:1e4", &c.param[0]), 0);
    return c;
}

/* ---- the grammar and the grid ---- */

static void test_parse_good(void **state)
{
    (void)state;
    acdc_sim_sweep_param p;
    assert_int_equal(acdc_sim_sweep_parse("photons=1e3:1e9", &p), 0);
    assert_int_equal(p.kind, ACDC_SIM_SWEEP_PHOTONS);
    assert_true(p.from == 1e3 && p.to == 1e9 && p.steps == 0 && p.spacing == -1);
    assert_int_equal(acdc_sim_sweep_parse("phase-error=1mrad:1rad:7:log", &p), 0);
    assert_int_equal(p.kind, ACDC_SIM_SWEEP_PHASE_ERROR);
    assert_close(p.from, 1e-3, 1e-18);
    assert_true(p.to == 1 && p.steps == 7 && p.spacing == 1);
    assert_string_equal(p.unit, "rad");
    assert_int_equal(acdc_sim_sweep_parse("phase-bits=2:8", &p), 0);
    assert_true(p.kind == ACDC_SIM_SWEEP_PHASE_BITS && p.integer && p.from == 2 && p.to == 8);
    assert_int_equal(acdc_sim_sweep_parse("amplitude-bits=1:4:4:lin", &p), 0);
    assert_true(p.kind == ACDC_SIM_SWEEP_AMPLITUDE_BITS && p.spacing == 0 && p.steps == 4);
    assert_int_equal(acdc_sim_sweep_parse("camera.exposure=1ms:10ms:4", &p), 0);
    assert_int_equal(p.kind, ACDC_SIM_SWEEP_PROFILE);
    assert_true(p.from == 1 && p.to == 10 && p.steps == 4);
    assert_string_equal(p.unit, "ms");
    assert_string_equal(p.name, "camera.exposure");
}

static void test_parse_bad(void **state)
{
    (void)state;
    static const char *bad[][2] = {
        {"photons", "expected NAME=FROM:TO"},
        {"=1:2", "expected NAME=FROM:TO"},
        {"photons=1e3", "expected NAME=FROM:TO"},
        {"photons=1e3:1e5:4:8:9", "expected NAME=FROM:TO"},
        {"photons=1e3x:1e5", "'1e3x' is not a number"},
        {"colour=1:2", "unknown parameter 'colour'"},
        {"photons=1e6:1e3", "FROM 1e+06 is larger than TO 1000"},
        {"phase-bits=1:4:0", "0 is outside"},
        {"phase-bits=1:17", "17 is outside"},
        {"phase-error=0:1kg", "--vary 'phase-error=0:1kg'"},
        {"camera.exposure=1ms:2s", "different units"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        acdc_sim_sweep_param p;
        if (acdc_sim_sweep_parse(bad[i][0], &p) != ACDC_UTIL_EUSAGE)
            fail_msg("'%s' was not refused", bad[i][0]);
        if (!strstr(acdc_util_errmsg(), bad[i][1]))
            fail_msg("'%s': message '%s' lacks '%s'", bad[i][0], acdc_util_errmsg(), bad[i][1]);
    }
}

static void test_grid(void **state)
{
    (void)state;
    acdc_sim_sweep_config c = config(test_path(1, "unused.h5"));
    acdc_sim_sweep *w;
    assert_int_equal(acdc_sim_sweep_parse("photons=1e2:1e6", &c.param[0]), 0);
    assert_int_equal(acdc_sim_sweep_parse("phase-error=0:20mrad:3", &c.param[1]), 0);
    c.n_params = 2;
    assert_int_equal(acdc_sim_sweep_alloc(&w, &c), 0);
    assert_int_equal(w->points, 15);
    assert_true(w->dims[0] == 5 && w->dims[1] == 3);
    for (int i = 0; i < 5; i++)   /* photons: log-spaced by default, one per decade */
        assert_close(w->values[0][i], pow(10, 2 + i), 1e-9 * pow(10, 2 + i));
    assert_close(w->values[1][1], 0.01, 1e-17);
    assert_int_equal(acdc_sim_sweep_done(w), 0);
    assert_true(w->labelled && w->rows == 24 && w->n_chains >= 1);
    char where[160];
    acdc_sim_sweep_describe(w, 7, where, sizeof where);
    assert_string_equal(where, "photons=10000 phase-error=0.01 rad");
    acdc_sim_sweep_free(w);
    assert_int_not_equal(access(test_path(1, "unused.h5"), F_OK), 0);   /* no file yet */
    /* profile keys: integer keys found by the profile, values checked against it */
    c.n_params = 1;
    assert_int_equal(acdc_sim_sweep_parse("camera.adc_bits=6:9", &c.param[0]), 0);
    assert_int_equal(acdc_sim_sweep_alloc(&w, &c), 0);
    assert_true(w->param[0].integer && w->points == 4 && w->values[0][3] == 9);
    acdc_sim_sweep_free(w);
    static const char *bad[][2] = {
        {"phase-bits=1:3:9", "repeat values"},
        {"phase-error=0:1:4:log", "log spacing needs FROM > 0"},
        {"camera.adc_bits=8:40", "camera.adc_bits"},
        {"fourier.colour=1:2", "unknown key 'colour'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(acdc_sim_sweep_parse(bad[i][0], &c.param[0]), 0);
        if (acdc_sim_sweep_alloc(&w, &c) != ACDC_UTIL_EUSAGE || w)
            fail_msg("'%s' was not refused", bad[i][0]);
        if (!strstr(acdc_util_errmsg(), bad[i][1]))
            fail_msg("'%s': message '%s' lacks '%s'", bad[i][0], acdc_util_errmsg(), bad[i][1]);
    }
    /* a fixed override the profile refuses is a usage error, decided by its status */
    c = config(test_path(1, "unused.h5"));
    char *sets[] = {"fourier.phase_bits=99"};
    c.sets = sets;
    c.nsets = 1;
    assert_int_equal(acdc_sim_sweep_alloc(&w, &c), ACDC_UTIL_EUSAGE);
    /* a changed device without a compiler to rebuild it */
    char *good[] = {"camera.adc_bits=10"};
    c.sets = good;
    c.compile = NULL;
    assert_int_equal(acdc_sim_sweep_alloc(&w, &c), ACDC_UTIL_EUSAGE);
    assert_non_null(strstr(acdc_util_errmsg(), "needs a compiler"));
    c.compile = acdc_compiler_compile;
    c.nsets = 0;
    c.system_path = test_path(2, "none.h5");
    assert_int_equal(acdc_sim_sweep_alloc(&w, &c), ACDC_UTIL_EIO);
    acdc_sim_sweep_free(NULL);
}

/* ---- running, reading back, resuming ---- */

static void run_to_end(const char *out, int *resumed)
{
    acdc_sim_sweep_config c = config(out);
    acdc_sim_sweep *w;
    if (acdc_sim_sweep_alloc(&w, &c) || acdc_sim_sweep_open(w, ACDC_SIM_SWEEP_CONTINUE, resumed) ||
        acdc_sim_sweep_run(w, NULL, NULL, NULL))
        fail_msg("%s: %s", out, acdc_util_errmsg());
    assert_int_equal(acdc_sim_sweep_done(w), 3);
    acdc_sim_sweep_free(w);
}

/* Fixed assignments over a sweep that changes no device: the system is compiled once
 * with them, and each point is what a simulation of that system gives -- not what the
 * unchanged system gives. */
static void test_fixed_sets(void **state)
{
    (void)state;
    char *sets[] = {"camera.adc_bits=4"};
    const char *out = test_path(1, "fixed.h5");
    acdc_sim_sweep_config c = config(out);
    c.sets = sets;
    c.nsets = 1;
    c.trials = 1;
    acdc_sim_sweep *w;
    int resumed;
    if (acdc_sim_sweep_alloc(&w, &c) || acdc_sim_sweep_open(w, ACDC_SIM_SWEEP_RESTART, &resumed) ||
        acdc_sim_sweep_run(w, NULL, NULL, NULL))
        fail_msg("%s: %s", out, acdc_util_errmsg());
    const double swept = w->mean[acdc_sim_sweep_at(w, -1, ACDC_SIM_METRIC_REL_RMS) + 2];
    acdc_sim_sweep_free(w);
    acdc_compiler_system *s, *over;
    acdc_data *d;
    if (acdc_compiler_system_read(sys_path, &s) || acdc_data_read(data_path, 8, &d) ||
        acdc_sim_system_override(s, acdc_compiler_compile, sets, 1, &over))
        fail_msg("%s", acdc_util_errmsg());
    double direct[2];
    for (int k = 0; k < 2; k++) {
        acdc_sim_job job = {.system = k ? s : over, .data = d, .options = c.options,
                            .trials = 1, .batch = c.batch};
        job.options.photons = 1e4;   /* the sweep's last point */
        acdc_sim_result r;
        if (acdc_sim_execute(&job, &r, NULL))
            fail_msg("%s", acdc_util_errmsg());
        direct[k] = r.end[0].rel_rms;
        acdc_sim_result_free(&r);
    }
    print_message("# 1e4 photons, camera.adc_bits=4: swept %.6g, direct %.6g, without the "
                  "set %.6g\n", swept, direct[0], direct[1]);
    assert_true(swept == direct[0]);
    assert_true(direct[1] != direct[0]);
    acdc_compiler_system_free(over);
    acdc_compiler_system_free(s);
    acdc_data_free(d);
}

/* Every number of two sweep files agrees bitwise (NaN with NaN), seconds aside. */
static void assert_same_sweep(const acdc_sim_sweep *a, const acdc_sim_sweep *b)
{
    assert_int_equal(a->points, b->points);
    assert_int_equal(a->n_chains, b->n_chains);
    assert_memory_equal(a->done, b->done, a->points * sizeof *a->done);
    assert_memory_equal(a->saturated, b->saturated, a->points * sizeof *a->saturated);
    for (size_t i = 0; i < (1 + a->n_chains) * ACDC_SIM_METRIC_COUNT * a->points; i++)
        if (!(isnan(a->mean[i]) && isnan(b->mean[i])) &&
            (a->mean[i] != b->mean[i] || a->sd[i] != b->sd[i]))
            fail_msg("value %zu: %.17g ± %.17g against %.17g ± %.17g", i, a->mean[i],
                     a->sd[i], b->mean[i], b->sd[i]);
}

static void test_run_and_read(void **state)
{
    (void)state;
    const char *out = test_path(1, "full.h5");
    int resumed = -1;
    run_to_end(out, &resumed);
    assert_int_equal(resumed, 0);
    acdc_sim_sweep *r;
    assert_int_equal(acdc_sim_sweep_read(out, &r), 0);
    assert_null(r->state);
    assert_int_equal(r->n_params, 1);
    assert_int_equal(r->points, 3);
    assert_int_equal(acdc_sim_sweep_done(r), 3);
    assert_true(r->rows == 24 && r->trials == 2 && r->labelled);
    assert_string_equal(r->profile, "slm8");
    assert_string_equal(r->param[0].name, "photons");
    assert_true(r->param[0].spacing == 1);
    assert_close(r->values[0][1], 1e3, 1e-9);
    const double *rel = r->mean + acdc_sim_sweep_at(r, -1, ACDC_SIM_METRIC_REL_RMS);
    const double *acc = r->mean + acdc_sim_sweep_at(r, -1, ACDC_SIM_METRIC_ACC_OPTICAL);
    const double *chain = r->mean + acdc_sim_sweep_at(r, 0, ACDC_SIM_METRIC_REL_RMS);
    for (int p = 0; p < 3; p++)
        assert_true(isfinite(rel[p]) && rel[p] > 0 && acc[p] >= 0 && acc[p] <= 1 &&
                    isfinite(chain[p]));
    assert_true(rel[0] > rel[2]);   /* shot noise: less light, more error */
    /* accuracies are kept end to end only */
    assert_true(acdc_sim_sweep_kept(r, 0, ACDC_SIM_METRIC_ACC_IDEAL));
    assert_false(acdc_sim_sweep_kept(r, 1, ACDC_SIM_METRIC_ACC_IDEAL));
    /* running the same sweep again finds every point done and changes nothing */
    acdc_sim_sweep_config c = config(out);
    acdc_sim_sweep *w;
    assert_int_equal(acdc_sim_sweep_alloc(&w, &c), 0);
    assert_int_equal(acdc_sim_sweep_open(w, ACDC_SIM_SWEEP_RESUME, &resumed), 0);
    assert_int_equal(resumed, 1);
    assert_int_equal(acdc_sim_sweep_done(w), 3);
    assert_same_sweep(w, r);
    /* a sweep read from a file cannot run */
    assert_int_equal(acdc_sim_sweep_open(r, ACDC_SIM_SWEEP_CONTINUE, &resumed), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_sim_sweep_run(r, NULL, NULL, NULL), ACDC_UTIL_EUSAGE);
    acdc_sim_sweep_free(w);
    acdc_sim_sweep_free(r);
}

/* Sets the stop flag once `after` points are written. */
struct stopper {
    volatile sig_atomic_t stop;
    size_t after, seen;
};

static void stop_after(const acdc_sim_sweep *w, size_t point, int done, void *ctx)
{
    struct stopper *s = ctx;
    (void)w;
    (void)point;
    if (done && ++s->seen == s->after)
        s->stop = 1;
}

/* A read sweep knows what each parameter is (the plot's axis labels depend on it), for
 * every kind, in either axis of a grid. */
static void test_read_kinds(void **state)
{
    (void)state;
    const char *out = test_path(1, "kinds.h5");
    acdc_sim_sweep_config c = config(out);
    c.n_params = 2;
    c.trials = 1;
    assert_int_equal(acdc_sim_sweep_parse("phase-bits=7:8", &c.param[0]), 0);
    assert_int_equal(acdc_sim_sweep_parse("phase-error=0:10mrad:2", &c.param[1]), 0);
    acdc_sim_sweep *w;
    int resumed;
    if (acdc_sim_sweep_alloc(&w, &c) || acdc_sim_sweep_open(w, ACDC_SIM_SWEEP_RESTART, &resumed) ||
        acdc_sim_sweep_run(w, NULL, NULL, NULL))
        fail_msg("%s: %s", out, acdc_util_errmsg());
    acdc_sim_sweep_free(w);
    acdc_sim_sweep *r;
    assert_int_equal(acdc_sim_sweep_read(out, &r), 0);
    assert_int_equal(r->param[0].kind, ACDC_SIM_SWEEP_PHASE_BITS);
    assert_int_equal(r->param[1].kind, ACDC_SIM_SWEEP_PHASE_ERROR);
    assert_true(r->param[0].integer);
    acdc_sim_sweep_free(r);
}

static void test_interrupt_and_resume(void **state)
{
    (void)state;
    const char *full = test_path(1, "full2.h5"), *out = test_path(2, "int.h5");
    int resumed;
    run_to_end(full, &resumed);
    acdc_sim_sweep_config c = config(out);
    acdc_sim_sweep *w;
    struct stopper s = {.after = 1};
    assert_int_equal(acdc_sim_sweep_alloc(&w, &c), 0);
    assert_int_equal(acdc_sim_sweep_open(w, ACDC_SIM_SWEEP_CONTINUE, &resumed), 0);
    assert_int_equal(acdc_sim_sweep_run(w, &s.stop, stop_after, &s), ACDC_UTIL_EINTR);
    assert_non_null(strstr(acdc_util_errmsg(), "holds 1 of 3 points"));
    acdc_sim_sweep_free(w);
    acdc_sim_sweep *r;
    assert_int_equal(acdc_sim_sweep_read(out, &r), 0);
    assert_true(r->done[0] == 1 && r->done[1] == 0 && r->done[2] == 0);
    assert_true(isnan(r->mean[acdc_sim_sweep_at(r, -1, ACDC_SIM_METRIC_REL_RMS) + 1]));
    acdc_sim_sweep_free(r);
    /* resumed with other threads and batch (not in the settings): the same numbers */
    c.batch = 5;
    c.options.threads = 2;
    assert_int_equal(acdc_sim_sweep_alloc(&w, &c), 0);
    assert_int_equal(acdc_sim_sweep_open(w, ACDC_SIM_SWEEP_CONTINUE, &resumed), 0);
    assert_int_equal(resumed, 1);
    assert_int_equal(acdc_sim_sweep_done(w), 1);
    omp_set_num_threads(1);
    assert_int_equal(acdc_sim_sweep_run(w, NULL, NULL, NULL), 0);
    assert_int_equal(omp_get_max_threads(), 1);   /* the caller's threads are back */
    acdc_sim_sweep_free(w);
    acdc_sim_sweep *a, *b;
    assert_int_equal(acdc_sim_sweep_read(out, &a), 0);
    assert_int_equal(acdc_sim_sweep_read(full, &b), 0);
    assert_same_sweep(a, b);
    acdc_sim_sweep_free(a);
    acdc_sim_sweep_free(b);
}

/* The whole file's bytes, to show that a refused resume leaves it alone. */
static char *slurp(const char *path, long *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *n = ftell(f);
    rewind(f);
    char *b = malloc((size_t)*n);
    assert_int_equal(fread(b, 1, (size_t)*n, f), (size_t)*n);
    fclose(f);
    return b;
}

static void refused(acdc_sim_sweep_config c, enum acdc_sim_sweep_mode mode, const char *why)
{
    acdc_sim_sweep *w;
    int resumed;
    assert_int_equal(acdc_sim_sweep_alloc(&w, &c), 0);
    if (acdc_sim_sweep_open(w, mode, &resumed) != ACDC_UTIL_EDATA)
        fail_msg("resume was not refused (%s)", why);
    if (!strstr(acdc_util_errmsg(), why))
        fail_msg("message '%s' lacks '%s'", acdc_util_errmsg(), why);
    acdc_sim_sweep_free(w);
}

static void test_resume_refused(void **state)
{
    (void)state;
    const char *out = test_path(1, "ref.h5");
    int resumed;
    run_to_end(out, &resumed);
    long n0, n1;
    char *before = slurp(out, &n0);
    acdc_sim_sweep_config c = config(out);
    c.trials = 3;
    refused(c, ACDC_SIM_SWEEP_CONTINUE, "('trials=2' there, 'trials=3' here)");
    c = config(out);
    c.system_path = sys2_path;   /* the same model for another device */
    refused(c, ACDC_SIM_SWEEP_CONTINUE, "'system=");
    c = config(out);
    c.rows = 10;                 /* other data rows */
    refused(c, ACDC_SIM_SWEEP_CONTINUE, "'data=");
    c = config(out);
    c.options.seed = 2;
    refused(c, ACDC_SIM_SWEEP_CONTINUE, "'seed=1' there, 'seed=2' here");
    c = config(out);
    assert_int_equal(acdc_sim_sweep_parse("photons=1e2:1e4:4", &c.param[0]), 0);
    refused(c, ACDC_SIM_SWEEP_CONTINUE, "'vary0=");
    c = config(out);
    char *sets[] = {"camera.adc_bits=10"};
    c.sets = sets;
    c.nsets = 1;
    refused(c, ACDC_SIM_SWEEP_CONTINUE, "'set=camera.adc_bits=10' here");
    char *after = slurp(out, &n1);
    assert_true(n0 == n1 && !memcmp(before, after, (size_t)n0));
    free(before);
    free(after);
    /* not a sweep; --resume without a file */
    refused(config(data_path), ACDC_SIM_SWEEP_CONTINUE, "is not a sweep file");
    refused(config(test_path(2, "new.h5")), ACDC_SIM_SWEEP_RESUME, "does not exist");
    /* --restart discards the other sweep */
    c = config(out);
    c.trials = 1;
    acdc_sim_sweep *w;
    assert_int_equal(acdc_sim_sweep_alloc(&w, &c), 0);
    assert_int_equal(acdc_sim_sweep_open(w, ACDC_SIM_SWEEP_RESTART, &resumed), 0);
    assert_int_equal(resumed, 0);
    acdc_sim_sweep_free(w);
    assert_int_equal(acdc_sim_sweep_read(out, &w), 0);
    assert_true(w->trials == 1 && acdc_sim_sweep_done(w) == 0);
    acdc_sim_sweep_free(w);
    assert_int_equal(acdc_sim_sweep_read(data_path, &w), ACDC_UTIL_EDATA);
}

/* The optics that ran, in the file: from the system's lens and the options (slm8's
 * doublet at S = 1 runs as an ideal Fourier lens; a perfect paraxial lens through
 * fresnel; the doublet through asm at S = 2); a sweep from before lens models reads as
 * the lens of its propagation; bad names are refused.  The default and the explicit
 * choice of what it resolves to make the same settings: one resumes the other. */
static void test_optics_recorded(void **state)
{
    (void)state;
    const char *out = test_path(1, "optics.h5");
    static const struct {
        enum acdc_sim_propagation prop;
        enum acdc_sim_lens lens;
        int oversample;
        enum acdc_sim_propagation want_prop;
        enum acdc_optics_lens_model want_lens;
    } cases[] = {
        {ACDC_SIM_PROP_PROFILE, ACDC_SIM_LENS_PROFILE, 0, ACDC_SIM_PROP_IDEAL,
         ACDC_OPTICS_LENS_FOURIER},
        {ACDC_SIM_PROP_PROFILE, ACDC_SIM_LENS_PARAXIAL, 0, ACDC_SIM_PROP_FRESNEL,
         ACDC_OPTICS_LENS_PARAXIAL},
        {ACDC_SIM_PROP_PROFILE, ACDC_SIM_LENS_PROFILE, 2, ACDC_SIM_PROP_ASM,
         ACDC_OPTICS_LENS_CORRECTED},
    };
    acdc_sim_sweep *w;
    int resumed;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        acdc_sim_sweep_config c = config(out);
        c.options.propagation = cases[i].prop;
        c.options.lens = cases[i].lens;
        c.options.oversample = cases[i].oversample;
        if (acdc_sim_sweep_alloc(&w, &c) ||
            acdc_sim_sweep_open(w, ACDC_SIM_SWEEP_RESTART, &resumed))
            fail_msg("%s: %s", out, acdc_util_errmsg());
        acdc_sim_sweep_free(w);
        assert_int_equal(acdc_sim_sweep_read(out, &w), 0);
        assert_int_equal(w->propagation, cases[i].want_prop);
        assert_int_equal(w->lens_model, cases[i].want_lens);
        acdc_sim_sweep_free(w);
    }
    /* the default resolves to ideal here: an explicit ideal resumes its sweep */
    acdc_sim_sweep_config c = config(out);
    assert_int_equal(acdc_sim_sweep_alloc(&w, &c), 0);
    assert_int_equal(acdc_sim_sweep_open(w, ACDC_SIM_SWEEP_RESTART, &resumed), 0);
    acdc_sim_sweep_free(w);
    c.options.propagation = ACDC_SIM_PROP_IDEAL;
    assert_int_equal(acdc_sim_sweep_alloc(&w, &c), 0);
    assert_int_equal(acdc_sim_sweep_open(w, ACDC_SIM_SWEEP_RESUME, &resumed), 0);
    assert_int_equal(resumed, 1);
    acdc_sim_sweep_free(w);
    /* before lens models: no lens_model; then bad names */
    hid_t f = H5Fopen(out, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    assert_true(H5Adelete_by_name(f, "/", "lens_model", H5P_DEFAULT) >= 0);
    assert_int_equal(acdc_util_h5_set_attr_str(f, "/", "propagation", "asm"), 0);
    H5Fclose(f);
    assert_int_equal(acdc_sim_sweep_read(out, &w), 0);
    assert_int_equal(w->lens_model, ACDC_OPTICS_LENS_PARAXIAL);
    acdc_sim_sweep_free(w);
    static const struct {
        const char *attr, *value, *want;
    } bad[] = {{"propagation", "profile", "'profile' is not ideal, fresnel or asm"},
               {"lens_model", "thick", "'thick' is not fourier, paraxial or corrected"}};
    for (size_t i = 0; i < 2; i++) {
        f = H5Fopen(out, H5F_ACC_RDWR, H5P_DEFAULT);
        assert_int_equal(acdc_util_h5_set_attr_str(f, "/", "propagation", "ideal"), 0);
        assert_int_equal(acdc_util_h5_set_attr_str(f, "/", bad[i].attr, bad[i].value), 0);
        H5Fclose(f);
        assert_int_equal(acdc_sim_sweep_read(out, &w), ACDC_UTIL_EDATA);
        assert_non_null(strstr(acdc_util_errmsg(), bad[i].want));
        assert_non_null(strstr(acdc_util_errmsg(), out));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_good),
        cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_grid),
        cmocka_unit_test(test_run_and_read),
        cmocka_unit_test(test_read_kinds),
        cmocka_unit_test(test_interrupt_and_resume),
        cmocka_unit_test(test_fixed_sets),
        cmocka_unit_test(test_resume_refused),
        cmocka_unit_test(test_optics_recorded),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
