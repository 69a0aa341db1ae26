/* SPDX-License-Identifier: GPL-3.0-or-later */
/* tests/test_sim.c -- optical inference: fidelity, honesty, noise and quantisation laws,
 * determinism. */
#include "tests/simtest.h"

#include <fftw3.h>

static void run(const acdc_compiler_system *s, const acdc_data *d, acdc_sim_options o,
                size_t trials,
                acdc_sim_result *r)
{
    acdc_sim_job job = {.system = s, .data = d, .options = o, .trials = trials, .batch = 16};
    if (acdc_sim_execute(&job, r, NULL))
        fail_msg("simulate: %s", acdc_util_errmsg());
}

/* The ideal profile through a file, against acdc infer's path (models/), n = 7, 784, 1024,
 * with ideal lenses and with free space + thin lenses. */
static void test_ideal_profile_equals_infer(void **state)
{
    (void)state;
    const size_t ns[] = {7, 784, 1024};
    for (size_t t = 0; t < 3; t++) {
        size_t n = ns[t], rows = 5;
        acdc_model *m = model(n, 3, n < 10 ? n : 10);
        acdc_compiler_system *s0 = compile(m, "ideal", NULL, 0), *s;
        const char *path = test_path(0, "ideal-system.h5");
        assert_int_equal(acdc_compiler_system_write(s0, path), 0);
        assert_int_equal(acdc_compiler_system_read(path, &s), 0);
        acdc_data *d = data(rows, n);
        double *y = malloc(rows * m->n_out * sizeof *y);
        acdc_work *w;
        assert_int_equal(acdc_work_alloc(&w, m, rows, 0, 1, FFTW_ESTIMATE), 0);
        assert_int_equal(acdc_model_forward(m, w, rows, d->x, y), 0);
        for (int prop = 0; prop < 2; prop++) {
            acdc_sim_options o = acdc_sim_options_default();
            o.propagation = prop ? ACDC_SIM_PROP_FRESNEL : ACDC_SIM_PROP_IDEAL;
            acdc_sim_result r;
            run(s, d, o, 1, &r);
            double err = 0, mag = 0;
            for (size_t i = 0; i < rows * m->n_out; i++) {
                err = fmax(err, fabs(r.y_optical[i] - y[i]));
                mag = fmax(mag, fabs(y[i]));
            }
            print_message("# n = %zu %s: optical vs infer relative error %.2e\n", n,
                          prop ? "fresnel" : "ideal", err / mag);
            if (err > 1e-9 * mag)
                fail_msg("n = %zu prop %d: relative error %g", n, prop, err / mag);
            acdc_sim_result_free(&r);
        }
        free(y);
        acdc_work_free(w);
        acdc_data_free(d);
        acdc_compiler_system_free(s);
        acdc_compiler_system_free(s0);
        acdc_model_free(m);
    }
}

/* Changing the model copy changes the reference and never the light. */
static void test_honesty(void **state)
{
    (void)state;
    acdc_model *m = model(16, 3, 4);
    acdc_compiler_system *s = compile(m, "slm8", NULL, 0);
    acdc_data *d = data(8, 16);
    assert_honest(s, d, acdc_sim_options_default());
    acdc_data_free(d);
    acdc_compiler_system_free(s);
    acdc_model_free(m);
}

/* Shot noise alone: the error falls as 1/sqrt(photons). */
static void test_shot_noise_law(void **state)
{
    (void)state;
    acdc_model *m = model(32, 2, 32);
    const char *sets[] = {"lens.device=ideal", "fourier.phase_bits=0", "image.phase_bits=0",
                          "input.phase_bits=0",
                          "fourier.phase_error=0 rad", "image.phase_error=0 rad",
                          "camera.read_noise=0", "camera.dark_current=0",
                          "camera.adc_bits=0", "camera.full_well=1e12",
                          "rules.fourier_oversample=0"};
    acdc_compiler_system *s = compile(m, "slm8", sets, sizeof sets / sizeof *sets);
    acdc_data *d = data(40, 32);
    double err[2];
    const double photons[2] = {1e8, 1e10};
    for (int k = 0; k < 2; k++) {
        acdc_sim_options o = acdc_sim_options_default();
        o.photons = photons[k];
        acdc_sim_result r;
        run(s, d, o, 3, &r);
        double sd;
        acdc_sim_result_stats(&r, 0, 0, &err[k], &sd);   /* chain 0: one noisy detection */
        acdc_sim_result_free(&r);
    }
    double ratio = err[0] / err[1];
    print_message("# shot noise: rel RMS %.3e at 1e8 photons, %.3e at 1e10: ratio %.2f "
                  "(1/sqrt law: 10)\n", err[0], err[1], ratio);
    assert_true(ratio > 8.5 && ratio < 11.5);
    acdc_data_free(d);
    acdc_compiler_system_free(s);
    acdc_model_free(m);
}

/* Noise-free: the error falls as the masks get more phase levels. */
static void test_quantisation_law(void **state)
{
    (void)state;
    acdc_model *m = model(64, 2, 64);
    acdc_data *d = data(20, 64);
    double prev = INFINITY;
    for (int bits = 2; bits <= 10; bits += 2) {
        char b1[64], b2[64], b3[64];
        snprintf(b1, sizeof b1, "fourier.phase_bits=%d", bits);
        snprintf(b2, sizeof b2, "image.phase_bits=%d", bits);
        snprintf(b3, sizeof b3, "input.phase_bits=%d", bits);
        const char *sets[] = {b1, b2, b3, "fourier.phase_error=0 rad",
                              "image.phase_error=0 rad", "rules.fourier_oversample=0",
                              "lens.device=ideal"};
        acdc_compiler_system *s = compile(m, "slm8", sets, 7);
        acdc_sim_options o = acdc_sim_options_default();
        o.noise = 0;
        acdc_sim_result r;
        run(s, d, o, 1, &r);
        double e = r.end[0].rel_rms;
        print_message("# %2d phase bits: rel RMS %.3e\n", bits, e);
        if (!(e < prev))
            fail_msg("%d bits: error %g did not fall below %g", bits, e, prev);
        prev = e;
        acdc_sim_result_free(&r);
        acdc_compiler_system_free(s);
    }
    assert_true(prev < 1e-2);
    acdc_data_free(d);
    acdc_model_free(m);
}

/* The optical output of s for d with `threads` threads and batches of `batch` rows, as
 * a new array (caller frees); *rel_rms receives the end-to-end error if not NULL. */
/* Same seed, any thread count or batch size: bit-identical results, with one point per
 * sample and with resolved pixels (S = 4). */
static void test_deterministic(void **state)
{
    (void)state;
    acdc_model *m = model(16, 3, 16);
    acdc_compiler_system *s = compile(m, "slm8", NULL, 0);
    acdc_data *d = data(33, 16);
    for (int S = 1; S <= 4; S += 3) {
        acdc_sim_options o = acdc_sim_options_default();
        o.seed = 77;
        o.oversample = S;
        assert_deterministic(s, d, o, 16, 5);
    }
    acdc_data_free(d);
    acdc_compiler_system_free(s);
    acdc_model_free(m);
}

/* Displaced masks: 0 changes nothing, and the error grows with the displacement. */
static void test_misalignment(void **state)
{
    (void)state;
    acdc_model *m = model(32, 3, 32);
    acdc_compiler_system *s = compile(m, "ideal", NULL, 0);
    acdc_data *d = data(10, 32);
    double prev = -1;
    const double shifts[] = {0, 0.05, 0.2, 0.5};
    for (int i = 0; i < 4; i++) {
        acdc_sim_options o = acdc_sim_options_default();
        o.misalign_px = shifts[i];
        acdc_sim_result r;
        run(s, d, o, 1, &r);
        double e = r.end[0].rel_rms;
        print_message("# masks displaced by %.2f px: rel RMS %.3e\n", shifts[i], e);
        if (i == 0)
            assert_true(e < 1e-12);
        else if (!(e > prev))
            fail_msg("%.2f px: error %g did not grow beyond %g", shifts[i], e, prev);
        prev = e;
        acdc_sim_result_free(&r);
    }
    sim *sm;
    acdc_sim_options o = acdc_sim_options_default();
    o.misalign_px = NAN;
    assert_int_equal(acdc_sim_alloc(&sm, s, 4, &o), ACDC_UTIL_EUSAGE);
    acdc_data_free(d);
    acdc_compiler_system_free(s);
    acdc_model_free(m);
}

/* Resolved pixels against the continuous theory of pixelated optics.  An identity layer
 * (a = d = 1) on the ideal profile is a 4f imaging system whose Fourier mask passes
 * frequencies |t| < 1/2 − 1/(2M) (the sample at κ = n is dark).  Rect pixels of one
 * sample on the input modulator and on the camera make its response to a displacement of
 * s samples H(s) = ∫ sinc²(t) cos(2πts) dt over that band; the flat-field calibration
 * divides by Σ_k H_clear(k − n) (the clear device passes [−1/2 − 1/(2M), 1/2 − 1/(2M)]).
 * So component i of the output is Σ_k ext(u)_k H(k − n − i) / |Σ_k H_clear(k − n)|.
 * The simulation converges to it as 1/S² (16× less error from S = 2 to S = 8), and with
 * S = 1 (point samples) it is the identity. */
static void test_oversampled_pixels_match_theory(void **state)
{
    (void)state;
    const size_t n = 16, M = 2 * n, rows = 3;
    acdc_model *m;
    assert_int_equal(acdc_model_alloc(&m, n, n, n, 1, 0), 0);
    assert_int_equal(acdc_model_init_normal(m, 1, 0, 1), 0);
    acdc_compiler_system *s = compile(m, "ideal", NULL, 0);
    acdc_data *d = data(rows, n);
    /* The theory. */
    double H[4 * 32], gcal_re = 0, gcal_im = 0, b = 0.5 - 0.5 / (double)M;
    for (long k = 0; k < (long)(4 * M); k++)
        H[k] = kern_integral(-b, b, (double)(k - 2 * (long)M), 0);
    for (size_t k = 0; k < M; k++) {
        double sk = (double)k - (double)n;
        gcal_re += kern_integral(-0.5 - 0.5 / (double)M, b, sk, 0);
        gcal_im += kern_integral(-0.5 - 0.5 / (double)M, b, sk, 1);
    }
    const double gcal = hypot(gcal_re, gcal_im);
    double *want = malloc(rows * n * sizeof *want);
    for (size_t r = 0; r < rows; r++) {
        const double *u = d->x + r * n;
        for (size_t i = 0; i < n; i++) {
            double acc = 0;
            for (size_t j = 0; j < n; j++) {
                /* component j on samples n + j and n − 1 − j */
                acc += u[j] * H[(long)j - (long)i + 2 * (long)M];
                acc += u[j] * H[-1 - (long)j - (long)i + 2 * (long)M];
            }
            want[r * n + i] = acc / gcal;
        }
    }
    const int Ss[] = {1, 2, 4, 8};
    double errs[4];
    for (int t = 0; t < 4; t++) {
        acdc_sim_options o = acdc_sim_options_default();
        o.oversample = Ss[t];
        acdc_sim_result r;
        run(s, d, o, 1, &r);
        double e2 = 0, w2 = 0, i2 = 0;
        for (size_t i = 0; i < rows * n; i++) {
            e2 += (r.y_optical[i] - want[i]) * (r.y_optical[i] - want[i]);
            w2 += want[i] * want[i];
            i2 += (r.y_optical[i] - d->x[i]) * (r.y_optical[i] - d->x[i]);
        }
        errs[t] = sqrt(e2 / w2);
        print_message("# S = %d: rel. error against pixel theory %.3e, against the identity "
                      "%.3e\n", Ss[t], errs[t], sqrt(i2 / w2));
        if (Ss[t] == 1 && !(sqrt(i2 / w2) < 1e-12))
            fail_msg("S = 1 is not the identity: %g", sqrt(i2 / w2));
        acdc_sim_result_free(&r);
    }
    assert_true(errs[3] < 1.5e-2);
    assert_true(errs[2] < errs[1] / 3 && errs[3] < errs[2] / 3);
    /* Free space and thin lenses sample the same planes critically at every S: the same
     * light as the ideal lenses, to rounding. */
    for (int S = 2; S <= 4; S += 2) {
        acdc_sim_options o = acdc_sim_options_default();
        o.oversample = S;
        double *yl = optical(s, d, o, 1, 16, NULL);
        o.propagation = ACDC_SIM_PROP_FRESNEL;
        double *yf = optical(s, d, o, 1, 16, NULL);
        double e2 = 0, y2 = 0;
        for (size_t i = 0; i < rows * n; i++) {
            e2 += (yf[i] - yl[i]) * (yf[i] - yl[i]);
            y2 += yl[i] * yl[i];
        }
        print_message("# S = %d: fresnel + thin lenses against ideal lenses %.2e\n", S,
                      sqrt(e2 / y2));
        assert_true(sqrt(e2 / y2) < 1e-9);
        free(yl);
        free(yf);
    }
    free(want);
    acdc_data_free(d);
    acdc_compiler_system_free(s);
    acdc_model_free(m);
}

/* Resolved pixels of a realistic device: the fill factor changes the light (it does not
 * with one point per sample); an oversampling beyond 64 is refused. */
static void test_oversampled_devices(void **state)
{
    (void)state;
    acdc_model *m = model(16, 3, 16);
    const char *point[] = {"rules.fourier_oversample=0"};
    acdc_compiler_system *s = compile(m, "slm8", point, 1);
    const char *half[] = {"input.fill=0.5", "fourier.fill=0.5", "image.fill=0.5",
                          "rules.fourier_oversample=0"};
    acdc_compiler_system *sh = compile(m, "slm8", half, 4);
    acdc_data *d = data(9, 16);
    acdc_sim_options o = acdc_sim_options_default();
    o.noise = 0;
    for (int S = 1; S <= 4; S += 3) {
        double e, eh;
        o.oversample = S;
        double *y = optical(s, d, o, 1, 16, &e), *yh = optical(sh, d, o, 1, 16, &eh);
        print_message("# slm8, S = %d: rel RMS %.3e, with fill 0.5 %.3e\n", S, e, eh);
        int same = !memcmp(y, yh, 9 * 16 * sizeof(double));
        if (same != (S == 1))
            fail_msg("S = %d: the fill factor %s the light", S, same ? "did not change"
                                                                     : "changed");
        free(y);
        free(yh);
    }
    sim *sm;
    o.oversample = 65;
    assert_int_equal(acdc_sim_alloc(&sm, s, 4, &o), ACDC_UTIL_EUSAGE);
    acdc_data_free(d);
    acdc_compiler_system_free(sh);
    acdc_compiler_system_free(s);
    acdc_model_free(m);
}

/* A double-phase pair down a 1D strip's rows (slm8): the simulated column is the mean of
 * the strip's pixels, each with its own phase error, so the phase errors move the light
 * by 1/sqrt(pairs of rows) of what one pair's would.  n = 16 (f = 1.41 mm): the tallest
 * strip whose first orders clear is 62 rows (31 pairs) against a device of 4 rows (2
 * pairs): sqrt(31 / 2) = 3.9x less, at S = 1 and at S = 4.  One device's draw of 2 x 64
 * Fourier values moves the light by an amount that varies from draw to draw by tens of
 * percent, so the rms over 40 devices (seeds) is compared. */
static void test_strip_averages_phase_errors(void **state)
{
    (void)state;
    acdc_model *m = model(16, 2, 16);
    const char *tall[] = {"lens.device=ideal"};
    const char *four[] = {"lens.device=ideal", "input.rows=4", "fourier.rows=4", "image.rows=4"};
    acdc_compiler_system *st = compile(m, "slm8", tall, 1), *s4 = compile(m, "slm8", four, 4);
    assert_int_equal(acdc_compiler_strip_rows(st, &st->profile.fourier), 62);
    assert_int_equal(acdc_compiler_strip_rows(s4, &s4->profile.fourier), 4);
    acdc_data *d = data(24, 16);
    acdc_sim_options o = acdc_sim_options_default();
    o.noise = 0;
    const int devices = 40;
    for (int S = 1; S <= 4; S += 3) {
        double dev[2];
        acdc_compiler_system *ss[2] = {st, s4};
        for (int k = 0; k < 2; k++) {
            o.oversample = S;
            o.phase_error_rad = 0;
            double *y0 = optical(ss[k], d, o, 1, 16, NULL), sum = 0;
            for (int seed = 1; seed <= devices; seed++) {
                o.phase_error_rad = 0.05;
                o.seed = (uint64_t)seed;
                double *y1 = optical(ss[k], d, o, 1, 16, NULL), num = 0, den = 0;
                for (size_t i = 0; i < 24 * 16; i++) {
                    num += (y1[i] - y0[i]) * (y1[i] - y0[i]);
                    den += y0[i] * y0[i];
                }
                sum += num / den;
                free(y1);
            }
            dev[k] = sqrt(sum / devices);
            free(y0);
        }
        const double ratio = dev[1] / dev[0], want = sqrt(31 / 2.0);
        print_message("# slm8, S = %d: 50 mrad phase errors move the light by %.3e (a strip of 62 "
                      "rows) and %.3e (4 rows), rms over %d devices: %.2fx (sqrt(31 / 2) = %.2f)\n",
                      S, dev[0], dev[1], devices, ratio, want);
        assert_true(ratio > 0.75 * want && ratio < 1.33 * want);
    }
    acdc_data_free(d);
    acdc_compiler_system_free(s4);
    acdc_compiler_system_free(st);
    acdc_model_free(m);
}

/* Pixel-aware design (rules.fourier_oversample = 2): the Fourier masks compensate the
 * pixels' transforms and the Fourier pixels' apodisation, so with resolved pixels the
 * light converges to the model itself as 1/S² — an identity layer and a cascade with
 * biases, ReLU, permutations and a chain of two optical stages, ideal devices. */
static void test_pixel_aware_design(void **state)
{
    (void)state;
    const char *sets[] = {"rules.fourier_oversample=2"};
    for (int t = 0; t < 2; t++) {
        const size_t n = 16, rows = 6;
        acdc_model *m;
        if (t == 0) {
            assert_int_equal(acdc_model_alloc(&m, n, n, n, 1, 0), 0);
            assert_int_equal(acdc_model_init_normal(m, 1, 0, 1), 0);
        } else {
            m = model(n, 3, n);
        }
        acdc_compiler_system *s = compile(m, "ideal", sets, 1);
        assert_int_equal(s->fm, 2 * s->m);
        /* the file keeps the design */
        acdc_compiler_system *s2;
        const char *path = test_path(0, "pixel-aware.h5");
        assert_int_equal(acdc_compiler_system_write(s, path), 0);
        assert_int_equal(acdc_compiler_system_read(path, &s2), 0);
        assert_int_equal(s2->fm, s->fm);
        assert_int_equal(s2->profile.fourier_oversample, 2);
        assert_int_equal(s2->chains[0].stages[0].fourier.m, s->fm);
        acdc_data *d = data(rows, n);
        double *y = malloc(rows * n * sizeof *y);
        acdc_work *w;
        assert_int_equal(acdc_work_alloc(&w, m, rows, 0, 1, FFTW_ESTIMATE), 0);
        assert_int_equal(acdc_model_forward(m, w, rows, d->x, y), 0);
        double e[3];
        const int Ss[3] = {2, 4, 8};
        for (int i = 0; i < 3; i++) {
            acdc_sim_options o = acdc_sim_options_default();
            o.oversample = Ss[i];
            acdc_sim_result r;
            run(s2, d, o, 1, &r);
            double e2 = 0, y2 = 0;
            for (size_t k = 0; k < rows * n; k++) {
                e2 += (r.y_optical[k] - y[k]) * (r.y_optical[k] - y[k]);
                y2 += y[k] * y[k];
            }
            e[i] = sqrt(e2 / y2);
            print_message("# pixel-aware %s, S = %d: relative error against the model "
                          "%.3e\n", t ? "cascade" : "identity", Ss[i], e[i]);
            acdc_sim_result_free(&r);
        }
        assert_true(e[2] < (t ? 5e-2 : 2e-2));
        assert_true(e[1] < e[0] / 3 && e[2] < e[1] / 3);
        free(y);
        acdc_work_free(w);
        acdc_data_free(d);
        acdc_compiler_system_free(s2);
        acdc_compiler_system_free(s);
        acdc_model_free(m);
    }
}

static void test_errors(void **state)
{
    (void)state;
    acdc_model *m = model(8, 2, 8);
    acdc_compiler_system *s = compile(m, "ideal", NULL, 0);
    acdc_data *d = data(4, 7);
    acdc_sim_job job = {.system = s, .data = d, .options = acdc_sim_options_default(), .trials = 1};
    acdc_sim_result r;
    assert_int_equal(acdc_sim_execute(&job, &r, NULL), ACDC_UTIL_EDATA);
    assert_non_null(strstr(acdc_util_errmsg(), "7 columns"));
    sim *sm;
    acdc_sim_options o = acdc_sim_options_default();
    o.photons = -1;
    assert_int_equal(acdc_sim_alloc(&sm, s, 4, &o), ACDC_UTIL_EUSAGE);
    o = acdc_sim_options_default();
    o.phase_error_rad = NAN;
    assert_int_equal(acdc_sim_alloc(&sm, s, 4, &o), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_sim_alloc(&sm, s, 0, &o), ACDC_UTIL_EUSAGE);
    volatile int stop = 1;
    d->dim = 8;
    free(d->x);
    d->x = calloc(4 * 8, sizeof(double));
    job.options = acdc_sim_options_default();
    assert_int_equal(acdc_sim_execute(&job, &r, &stop), ACDC_UTIL_EINTR);
    acdc_data_free(d);
    acdc_compiler_system_free(s);
    acdc_model_free(m);
}

/* A phase-only device whose double-phase pairs sit side by side along x leaks their
 * difference term into the band; complex modulation on two devices (slm8-complex) and
 * pairs down the strip's rows (slm8's default) show each value on one pixel column and
 * leak nothing, so with the pixels resolved their chains are far closer to the model
 * (noise-free, the same pixel-aware design R = 2). */
static void test_complex_modulation(void **state)
{
    (void)state;
    acdc_model *m = model(16, 2, 16);
    acdc_data *d = data(20, 16);
    double err[3];
    const char *const names[3] = {"slm8", "slm8-complex", "slm8"};
    const char *cols[] = {"input.double_phase=columns", "fourier.double_phase=columns",
                          "image.double_phase=columns"};
    for (int i = 0; i < 3; i++) {
        acdc_compiler_system *s = compile(m, names[i], i == 0 ? cols : NULL, i == 0 ? 3 : 0);
        assert_int_equal(s->profile.fourier_oversample, 2);
        acdc_sim_options o = acdc_sim_options_default();
        o.noise = 0;
        o.oversample = 4;
        o.propagation = ACDC_SIM_PROP_IDEAL;   /* the modulators, not the lenses */
        acdc_sim_result r;
        run(s, d, o, 1, &r);
        err[i] = r.stage[0].rel_rms;
        acdc_sim_result_free(&r);
        acdc_compiler_system_free(s);
    }
    print_message("# chain 0, S = 4, no noise: phase-only pairs side by side %.4f, complex "
                  "%.4f, pairs down the rows %.4f\n", err[0], err[1], err[2]);
    assert_true(err[1] < 0.6 * err[0]);
    assert_true(err[2] < 0.6 * err[0]);
    acdc_data_free(d);
    acdc_model_free(m);
}

/* Which propagation and lens run (acdc_sim_optics_of): from the profile's lens by default,
 * ideal where free space cannot run as the model needs (S = 1 for asm, unequal pitches,
 * 2D systems), each with a note; explicit choices kept, fresnel running every lens in
 * its paraxial form; --lens a perfect lens of a model. */
static void test_lens_optics(void **state)
{
    (void)state;
    acdc_model *m = model(16, 3, 10);
    const char *doublet[] = {"lens.device=achromat", "rules.fourier_oversample=0"};
    acdc_compiler_system *s = compile(m, "slm8", doublet, 2), *doe = compile(m, "doe", doublet, 2);
    acdc_compiler_system *ft = compile(m, "slm8", NULL, 0);
    acdc_sim_options o = acdc_sim_options_default();
    acdc_sim_optics op;
    assert_int_equal(o.propagation, ACDC_SIM_PROP_PROFILE);
    assert_int_equal(o.lens, ACDC_SIM_LENS_PROFILE);
    /* slm8's own lens, a Fourier-transform objective with 0.02 waves: the Fresnel
     * model's exact transform with the error in the lens plane, at any S, no note */
    acdc_sim_optics_of(ft, &o, &op);
    assert_int_equal(op.propagation, ACDC_SIM_PROP_FRESNEL);
    assert_int_equal(op.lens.model, ACDC_OPTICS_LENS_PARAXIAL);
    assert_close(acdc_optics_lens_wavefront_rms(&op.lens, 1), 0.02, 1e-15);
    assert_string_equal(op.note, "");
    acdc_compiler_system_free(ft);
    /* slm8's doublet, corrected with 0.07 waves: at S = 1 ideal, noted */
    acdc_sim_optics_of(s, &o, &op);
    assert_int_equal(op.propagation, ACDC_SIM_PROP_IDEAL);
    assert_int_equal(op.lens.model, ACDC_OPTICS_LENS_FOURIER);
    assert_false(acdc_optics_lens_has_error(&op.lens));
    assert_non_null(strstr(op.note, "the corrected lens runs as an ideal Fourier lens"));
    assert_non_null(strstr(op.note, "at S = 1"));
    /* resolved pixels: asm through the corrected lens, with its error, no note */
    o.oversample = 2;
    acdc_sim_optics_of(s, &o, &op);
    assert_int_equal(op.propagation, ACDC_SIM_PROP_ASM);
    assert_int_equal(op.lens.model, ACDC_OPTICS_LENS_CORRECTED);
    assert_close(acdc_optics_lens_wavefront_rms(&op.lens, 1), 0.07, 1e-15);
    assert_close(op.lens.focal_m, s->focal_m, 0);
    assert_close(op.lens.aperture_m, (double)s->m * s->pitch_m +
                                         (double)s->fm * s->fourier_pitch_m, 1e-18);
    assert_string_equal(op.note, "");
    /* explicit fresnel: paraxial optics, the error kept */
    o.propagation = ACDC_SIM_PROP_FRESNEL;
    acdc_sim_optics_of(s, &o, &op);
    assert_int_equal(op.propagation, ACDC_SIM_PROP_FRESNEL);
    assert_int_equal(op.lens.model, ACDC_OPTICS_LENS_PARAXIAL);
    assert_close(acdc_optics_lens_wavefront_rms(&op.lens, 1), 0.07, 1e-15);
    assert_non_null(strstr(op.note, "paraxial form"));
    /* explicit ideal: the Fourier lens, the error not simulated */
    o.propagation = ACDC_SIM_PROP_IDEAL;
    acdc_sim_optics_of(s, &o, &op);
    assert_int_equal(op.lens.model, ACDC_OPTICS_LENS_FOURIER);
    assert_non_null(strstr(op.note, "ideal propagation"));
    /* a perfect lens of a model, whatever the profile says */
    o.propagation = ACDC_SIM_PROP_PROFILE;
    o.lens = ACDC_SIM_LENS_PARAXIAL;
    acdc_sim_optics_of(s, &o, &op);
    assert_int_equal(op.propagation, ACDC_SIM_PROP_FRESNEL);
    assert_int_equal(op.lens.model, ACDC_OPTICS_LENS_PARAXIAL);
    assert_false(acdc_optics_lens_has_error(&op.lens));
    assert_string_equal(op.lens.name, "perfect paraxial lens");
    assert_string_equal(op.note, "");
    o.lens = ACDC_SIM_LENS_CORRECTED;
    acdc_sim_optics_of(s, &o, &op);
    assert_int_equal(op.propagation, ACDC_SIM_PROP_ASM);
    assert_false(acdc_optics_lens_has_error(&op.lens));
    o.lens = ACDC_SIM_LENS_FOURIER;
    acdc_sim_optics_of(s, &o, &op);
    assert_int_equal(op.propagation, ACDC_SIM_PROP_IDEAL);
    assert_string_equal(op.note, "");
    /* unequal pitches (the doe's 4 um Fourier plane) and 2D systems keep ideal lenses */
    o = acdc_sim_options_default();
    o.oversample = 2;
    acdc_sim_optics_of(doe, &o, &op);
    assert_int_equal(op.propagation, ACDC_SIM_PROP_IDEAL);
    assert_non_null(strstr(op.note, "one grid"));
    acdc_compiler_system flat = *s;   /* the rule reads the rank only */
    flat.rank = 2;
    acdc_sim_optics_of(&flat, &o, &op);
    assert_int_equal(op.propagation, ACDC_SIM_PROP_IDEAL);
    assert_non_null(strstr(op.note, "2D system"));
    /* the light: the corrected lens against the perfect one, and free space against the
     * ideal lenses (resolved pixels, noise-free) */
    acdc_data *d = data(6, 16);
    o = acdc_sim_options_default();
    o.oversample = 2;
    o.noise = 0;
    double e_err, e_perfect, e_fresnel;
    double *y_err = optical(s, d, o, 1, 6, &e_err);
    o.lens = ACDC_SIM_LENS_CORRECTED;
    double *y_perfect = optical(s, d, o, 1, 6, &e_perfect);
    o.lens = ACDC_SIM_LENS_PARAXIAL;
    double *y_fresnel = optical(s, d, o, 1, 6, &e_fresnel);
    double dw = 0, dp = 0, y2 = 0;
    for (size_t i = 0; i < 6 * m->n_out; i++) {
        dw += pow(y_err[i] - y_perfect[i], 2);
        dp += pow(y_perfect[i] - y_fresnel[i], 2);
        y2 += pow(y_fresnel[i], 2);
    }
    print_message("# n = 16, slm8, S = 2: rel. error asm + corrected 0.07 waves %.4g, perfect "
                  "corrected %.4g, fresnel + paraxial %.4g; wavefront error moves the output "
                  "by %.3g, non-paraxial (f = %.2f mm) by %.3g\n", e_err, e_perfect, e_fresnel,
                  sqrt(dw / y2), 1e3 * s->focal_m, sqrt(dp / y2));
    /* the error is simulated; and the perfect corrected lens differs from the Fresnel
     * model by the non-paraxial phase of a 2f pass, k ((x + u)^4 - x^4 - u^4) / (8 f^3)
     * for light from x to u (stationary phase), at most 14 k f NA^4 / 8 at the corners of
     * the field and a few k f NA^4 / 8 in rms: bound 4 k f NA^4 / 8 */
    const double na = s->aperture_m / (2 * s->focal_m);
    const double kf = 2 * M_PI / s->wavelength_m * s->focal_m * pow(na, 4) / 8;
    print_message("# k f NA^4 / 8 = %.3g (NA %.4f)\n", kf, na);
    assert_true(sqrt(dw / y2) > 1e-4);
    assert_true(sqrt(dp / y2) < 4 * kf);
    free(y_err);
    free(y_perfect);
    free(y_fresnel);
    /* options out of range */
    sim *sm;
    o = acdc_sim_options_default();
    o.lens = (enum acdc_sim_lens)7;
    assert_int_equal(acdc_sim_alloc(&sm, s, 4, &o), ACDC_UTIL_EUSAGE);
    assert_non_null(strstr(acdc_util_errmsg(), "lens 7 is not profile"));
    o = acdc_sim_options_default();
    o.propagation = (enum acdc_sim_propagation)9;
    assert_int_equal(acdc_sim_alloc(&sm, s, 4, &o), ACDC_UTIL_EUSAGE);
    acdc_data_free(d);
    acdc_compiler_system_free(s);
    acdc_compiler_system_free(doe);
    acdc_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ideal_profile_equals_infer),
        cmocka_unit_test(test_honesty),
        cmocka_unit_test(test_shot_noise_law),
        cmocka_unit_test(test_quantisation_law),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_misalignment),
        cmocka_unit_test(test_oversampled_pixels_match_theory),
        cmocka_unit_test(test_oversampled_devices),
        cmocka_unit_test(test_strip_averages_phase_errors),
        cmocka_unit_test(test_complex_modulation),
        cmocka_unit_test(test_pixel_aware_design),
        cmocka_unit_test(test_lens_optics),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
