/* SPDX-License-Identifier: GPL-3.0-or-later */
/* tests/test_compiler_detect.c -- designed detection (compiler/README.md, "Detection"):
 * the SNR model against a Monte-Carlo of the camera, the design's optimum and limits,
 * the calibrated signal range against the light itself, frames, the system file's new
 * values (ranges, older files). */
#include "tests/simtest.h"

#include "optics/detector.h"
#include "util/h5.h"

/* A one-layer model of n (no ReLU, no permutation). */
static acdc_model *one_layer(size_t n)
{
    acdc_model *m;
    assert_int_equal(acdc_model_alloc(&m, n, n, n, 1, ACDC_A_BIAS | ACDC_D_BIAS), 0);
    assert_int_equal(acdc_model_init_normal(m, 1, 0.3, 5), 0);
    fill(m->layers[0].a_bias, n, 0.3);
    return m;
}

/* One trial of data d through s, in batches of 16. */
static void run_job(const acdc_compiler_system *s, const acdc_data *d, acdc_sim_options o,
                    acdc_sim_result *r)
{
    acdc_sim_job job = {.system = s, .data = d, .options = o, .trials = 1, .batch = 16};
    if (acdc_sim_execute(&job, r, NULL))
        fail_msg("simulate: %s", acdc_util_errmsg());
}

/* K layers of n with biases, ReLU and permutations, n_in inputs. */
static acdc_model *cascade(size_t n, size_t n_in, size_t K)
{
    acdc_model *m;
    assert_int_equal(acdc_model_alloc(&m, n, n_in, n, K,
                                      ACDC_A_BIAS | ACDC_D_BIAS | ACDC_PERM | ACDC_RELU), 0);
    assert_int_equal(acdc_model_init_normal(m, 1, 0.3, 5), 0);
    assert_int_equal(acdc_model_init_perms(m, 9), 0);
    return m;
}

/* The camera of the Monte-Carlo: sCMOS-like, with dark current, read noise and ADC. */
static acdc_optics_camera mc_camera(void)
{
    acdc_optics_camera c = {.name = "mc", .pitch_m = 6.5e-6, .fill = 1, .pixels = 16, .qe = 0.7,
                            .full_well_e = 3e4, .read_noise_e = 2.1, .dark_e_per_s = 150,
                            .adc_bits = 12, .exposure_s = 1e-3, .wavelength_m = 633e-9,
                            .shot_noise = 1, .seed = 2385, .rows = 1};
    return c;
}

/* acdc_compiler_detection_snr() against T exposures of 16 pixels through acdc_optics_detect():
 * ports φ(ε ± ρ)² photo-electrons plus dark, each with its own shot and read noise,
 * clipped and digitised; the mean dark signal subtracted; the difference's signal power
 * over its variance.  Once with > 1000 e- per port (the normal approximation of the
 * Poisson law) and once below (exact Poisson draws). */
static void test_snr_monte_carlo(void **state)
{
    (void)state;
    enum { P = 16, T = 6000 };
    const double cases[2][2] = {{2385, 1.1}, {150, 1.0}};   /* φ, ρ */
    acdc_optics_camera cam = mc_camera();
    const double per_w = cam.qe * cam.exposure_s * cam.wavelength_m / (ACDC_OPTICS_PLANCK * ACDC_OPTICS_C);
    const double dark = cam.dark_e_per_s * cam.exposure_s;
    const double q = cam.full_well_e / (ldexp(1.0, cam.adc_bits) - 1);
    double *pw = malloc(2 * (size_t)T * P * sizeof *pw);
    uint32_t *codes = malloc(2 * (size_t)T * P * sizeof *codes);
    double eps[P], rms = 0;
    for (int j = 0; j < P; j++) {
        eps[j] = 0.9 * sin(2.385 * j + 0.4);
        rms += eps[j] * eps[j] / P;
    }
    rms = sqrt(rms);
    for (int k = 0; k < 2; k++) {
        const double phi = cases[k][0], rho = cases[k][1];
        for (int port = 0; port < 2; port++)
            for (size_t t = 0; t < T; t++)
                for (int j = 0; j < P; j++) {
                    double a = eps[j] + (port ? -rho : rho);
                    pw[((size_t)port * T + t) * P + (size_t)j] = phi * a * a / per_w;
                }
        cam.seed = 2385 + (uint64_t)k;
        assert_int_equal(acdc_optics_detect(&cam, 2 * (size_t)T, P, pw, NULL, codes), 0);
        double sig = 0, var = 0;
        for (int j = 0; j < P; j++) {
            double s1 = 0, s2 = 0;
            for (size_t t = 0; t < T; t++) {
                const size_t i = t * P + (size_t)j;
                double d = ((double)codes[i] - (double)codes[(size_t)T * P + i]) * q;
                s1 += d;
                s2 += d * d;
            }
            const double mean = s1 / T, want = 4 * phi * rho * eps[j];
            const double v = (s2 - s1 * mean) / (T - 1);
            /* the mean difference is the signal (the dark signals cancel) */
            if (!(fabs(mean - want) <= 5 * sqrt(v / T) + q))
                fail_msg("case %d pixel %d: mean difference %g, want %g", k, j, mean, want);
            sig += want * want;
            var += v;
        }
        const double mc = sig / var;
        const double model = acdc_compiler_detection_snr(&cam, cam.exposure_s, 1, phi, rho, rms);
        print_message("# SNR phi = %g, rho = %g: Monte-Carlo %.5g, formula %.5g (ratio %.4f; "
                      "dark %g e-, q %.3g e-)\n", phi, rho, mc, model, mc / model, dark, q);
        /* the variance of P x T draws: relative sd ~ sqrt(2 / (P T)) = 0.5 % */
        assert_true(fabs(mc / model - 1) < 0.03);
    }
    /* frames average independent exposures: the SNR scales with them */
    assert_close(acdc_compiler_detection_snr(&cam, 1e-3, 4, 2385, 1.1, rms),
                 4 * acdc_compiler_detection_snr(&cam, 1e-3, 1, 2385, 1.1, rms), 1e-9);
    free(pw);
    free(codes);
}

/* The design: below the margin of the full well at the signal's peak, the best SNR among
 * its neighbours, the reference no brighter than E0, the exposure within the camera's
 * limits (camera.exposure, one frame at camera.frame_rate), frames scaling the SNR. */
static void test_design(void **state)
{
    (void)state;
    acdc_model *m = one_layer(16);
    const char *sets[][2] = {{"camera.frames=1", "laser.power=200 nW"},
                             {"camera.frames=4", "laser.power=200 nW"},
                             {"camera.frame_rate=40 kHz", "laser.power=20 nW"}};
    const char *one = "camera.frames=1";
    double snr1 = 0;
    for (int k = 0; k < 3; k++) {
        const char *these[3] = {sets[k][0], sets[k][1], one};
        acdc_compiler_system *s = compile(m, "slm8", these, k == 2 ? 3 : 2);
        acdc_compiler_chain *ch = &s->chains[0];
        acdc_compiler_profile e;
        acdc_compiler_profile_effective(&s->profile, &e);
        const double peak = 0.3815, rms = 0.0713, well = ACDC_COMPILER_DETECT_MARGIN *
                                                          e.camera.full_well_e;
        assert_int_equal(acdc_compiler_detection_design(s, ch, peak, rms), 0);
        const double t = ch->exposure_s, rho = ch->ref_amplitude / s->field_amplitude;
        const double tmax = acdc_compiler_max_exposure(&s->profile);
        assert_true(t > 0 && t <= tmax * (1 + 1e-12));
        assert_true(rho > 0 && rho <= 1);
        const double phi = acdc_compiler_detection_electrons(s, t);
        const double used = phi * (peak + rho) * (peak + rho) + e.camera.dark_e_per_s * t;
        assert_true(used <= well * (1 + 1e-12));
        assert_close(ch->snr, acdc_compiler_detection_snr(&e.camera, t, ch->frames, phi, rho, rms),
                     1e-12 * ch->snr);
        assert_close(ch->gain, acdc_compiler_chain_gain(ch, s->field_amplitude), 1e-15 * ch->gain);
        /* neighbours: other exposures with their best reference, a weaker reference */
        const double f[] = {0.9, 0.97, 1.03, 1.1};
        for (size_t i = 0; i < 4; i++) {
            const double t2 = t * f[i];
            if (t2 > tmax)
                continue;
            const double p2 = acdc_compiler_detection_electrons(s, t2);
            const double r2 = fmin(1, sqrt((well - e.camera.dark_e_per_s * t2) / p2) - peak);
            if (r2 > 0)
                assert_true(acdc_compiler_detection_snr(&e.camera, t2, ch->frames, p2, r2, rms) <=
                            ch->snr * (1 + 1e-9));
        }
        assert_true(acdc_compiler_detection_snr(&e.camera, t, ch->frames, phi, 0.9 * rho, rms) <
                    ch->snr);
        print_message("# design %d: exposure %.4g us (max %.4g), reference %.4g E0, %.4g of "
                      "the full well at the peak, SNR %.2f dB\n", k, 1e6 * t, 1e6 * tmax, rho,
                      used / e.camera.full_well_e, 10 * log10(ch->snr));
        if (k == 0)
            snr1 = ch->snr;
        if (k == 1)
            assert_close(ch->snr, 4 * snr1, 1e-9 * ch->snr);
        if (k == 2)
            assert_close(tmax, 25e-6, 1e-18);
        /* no range, no design */
        assert_int_equal(acdc_compiler_detection_design(s, ch, 0.1, 0.2), ACDC_UTIL_EDATA);
        assert_non_null(strstr(acdc_util_errmsg(), "not a range"));
        assert_int_equal(acdc_compiler_detection_design(s, ch, NAN, 0.2), ACDC_UTIL_EDATA);
        acdc_compiler_system_free(s);
    }
    acdc_model_free(m);
}

/* The calibrated range is the light's: a noise-free simulation's field on the camera
 * pixels the chains read, in units of E0, over the calibration rows, has the peak and
 * rms that acdc_compiler_calibrate() measured through the numeric model (3 layers, two
 * chains, biases, ReLU, permutation; ideal profile). */
static void test_calibrated_range_is_the_light(void **state)
{
    (void)state;
    acdc_model *m = cascade(24, 20, 3);
    biases_and_chain(m);
    acdc_compiler_system *s = compile(m, "ideal", NULL, 0);
    acdc_data *d = data(30, 20);
    assert_int_equal(acdc_compiler_calibrate(s, d->x, d->batch), 0);
    assert_int_equal(s->signal, ACDC_COMPILER_SIGNAL_CALIBRATED);
    assert_int_equal(s->calibration_rows, 30);
    acdc_sim_options o = acdc_sim_options_default();
    o.noise = 0;
    sim *a;
    const size_t P = acdc_sim_plane_count(s), L = acdc_sim_plane_samples(s, &o);
    double complex *planes = malloc(d->batch * P * L * sizeof *planes);
    double *y = malloc(d->batch * s->n_out * sizeof *y);
    assert_int_equal(acdc_sim_alloc(&a, s, d->batch, &o), 0);
    acdc_sim_keep_planes(a, d->batch, planes);
    assert_int_equal(acdc_sim_run(a, d->batch, 0, d->x, y, NULL, NULL), 0);
    size_t plane = 0;
    for (size_t c = 0; c < s->n_chains; c++) {
        const acdc_compiler_chain *ch = &s->chains[c];
        plane += 2 * ch->count;   /* the chain's camera plane */
        double peak = 0, sum2 = 0;
        for (size_t r = 0; r < d->batch; r++)
            for (size_t j = 0; j < s->n; j++) {
                double e = cabs(planes[(r * P + plane) * L + (size_t)ch->pixel[j]]) /
                           s->field_amplitude;
                peak = fmax(peak, e);
                sum2 += e * e;
            }
        plane++;
        const double rms = sqrt(sum2 / (double)(d->batch * s->n));
        print_message("# chain %zu: light peak %.6g rms %.6g; calibrated %.6g, %.6g\n", c,
                      peak, rms, ch->signal_peak, ch->signal_rms);
        assert_close(ch->signal_peak, peak, 1e-9 * peak);
        assert_close(ch->signal_rms, rms, 1e-9 * rms);
    }
    assert_int_equal(acdc_compiler_calibrate(s, d->x, 0), ACDC_UTIL_EUSAGE);
    acdc_sim_free(a);
    free(planes);
    free(y);
    acdc_data_free(d);
    acdc_compiler_system_free(s);
    acdc_model_free(m);
}

/* Through the file: the design's values come back; a profile change in the simulator
 * carries the calibrated range over (acdc_compiler_detection_carry()). */
static void test_file_round_trip_and_carry(void **state)
{
    (void)state;
    acdc_model *m = one_layer(16);
    acdc_compiler_system *s = compile(m, "slm8", NULL, 0), *t = NULL, *u = NULL;
    acdc_data *d = data(40, 16);
    assert_int_equal(acdc_compiler_calibrate(s, d->x, d->batch), 0);
    const char *path = test_path(0, "designed.h5");
    assert_int_equal(acdc_compiler_system_write(s, path), 0);
    if (acdc_compiler_system_read(path, &t))
        fail_msg("%s", acdc_util_errmsg());
    assert_int_equal(t->signal, ACDC_COMPILER_SIGNAL_CALIBRATED);
    assert_int_equal(t->calibration_rows, 40);
    const acdc_compiler_chain *a = &s->chains[0], *b = &t->chains[0];
    assert_true(a->exposure_s == b->exposure_s && a->frames == b->frames &&
                a->signal_peak == b->signal_peak && a->signal_rms == b->signal_rms &&
                a->snr == b->snr && a->ref_amplitude == b->ref_amplitude);
    char *sets[] = {"fourier.phase_bits=6"};
    assert_int_equal(acdc_sim_system_override(t, acdc_compiler_compile, sets, 1, &u), 0);
    assert_int_equal(u->signal, ACDC_COMPILER_SIGNAL_CALIBRATED);
    /* the same range in the model's units */
    assert_close(u->chains[0].signal_peak / acdc_compiler_chain_field_scale(&u->chains[0]),
                 b->signal_peak / acdc_compiler_chain_field_scale(b), 1e-12 * b->signal_peak);
    acdc_compiler_system_free(u);
    acdc_compiler_system_free(t);
    acdc_compiler_system_free(s);
    acdc_data_free(d);
    acdc_model_free(m);
}

/* Writes s to path, then sets one attribute of /chains/0 (f64, or i64 when is_int). */
static void spoil(const acdc_compiler_system *s, const char *path, const char *obj,
                  const char *attr, double v, int kind)
{
    assert_int_equal(acdc_compiler_system_write(s, path), 0);
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    int rc = kind == 'i' ? acdc_util_h5_set_attr_i64(f, obj, attr, (int64_t)v)
             : kind == 's' ? acdc_util_h5_set_attr_str(f, obj, attr, "guessed")
                           : acdc_util_h5_set_attr_f64(f, obj, attr, v);
    assert_int_equal(rc, 0);
    H5Fclose(f);
}

/* The reader refuses designs out of range, each with a message naming the value. */
static void test_file_refuses(void **state)
{
    (void)state;
    acdc_model *m = one_layer(16);
    acdc_compiler_system *s = compile(m, "slm8", NULL, 0), *t;
    const acdc_compiler_chain *ch = &s->chains[0];
    const char *path = test_path(0, "spoilt.h5");
    const struct {
        const char *obj, *attr;
        double v;
        int kind;
        const char *want;
    } cases[] = {
        {"/chains/0", "exposure_s", 1e-3, 'f', "chain 0's exposure ('exposure_s') 0.001 s is "
                                               "outside (0, 0.0001]"},
        {"/chains/0", "exposure_s", 0, 'f', "'exposure_s'"},
        {"/chains/0", "exposure_s", 7200, 'f', "'exposure_s'"},
        {"/chains/0", "frames", 3, 'i', "averages 3 frames ('frames')"},
        {"/chains/0", "frames", 0, 'i', "'frames'"},
        {"/chains/0", "snr", 2 * ch->snr, 'f', "('snr')"},
        {"/chains/0", "signal_rms", 2 * ch->signal_peak, 'f', "'signal_rms'"},
        {"/chains/0", "signal_peak", 3 * ch->signal_peak, 'f', "over 0.8 of the full well"},
        {"/", "signal_range", 0, 's', "'signal_range'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        spoil(s, path, cases[i].obj, cases[i].attr, cases[i].v, cases[i].kind);
        assert_int_equal(acdc_compiler_system_read(path, &t), ACDC_UTIL_EDATA);
        assert_null(t);
        if (!strstr(acdc_util_errmsg(), cases[i].want) || !strstr(acdc_util_errmsg(), path))
            fail_msg("case %zu: '%s' lacks \"%s\"", i, acdc_util_errmsg(), cases[i].want);
    }
    acdc_compiler_system_free(s);
    acdc_model_free(m);
}

/* A system file written before designed detection (tests/data/chain48-slm8-v2.h5, by
 * commit 48bbdbf) reads with its old meaning: the profile's exposure, one frame, the
 * stored reference; rates not given; the range estimated. */
static void test_older_file(void **state)
{
    (void)state;
    acdc_compiler_system *s;
    if (acdc_compiler_system_read("tests/data/chain48-slm8-v2.h5", &s))
        fail_msg("%s", acdc_util_errmsg());
    assert_int_equal(s->signal, ACDC_COMPILER_SIGNAL_NONE);
    assert_int_equal(s->profile.frames, 1);
    assert_true(s->profile.camera.frame_rate_hz == 0 && s->profile.input.frame_rate_hz == 0);
    const acdc_compiler_chain *ch = &s->chains[0];
    assert_true(ch->exposure_s == s->profile.camera.exposure_s);
    assert_int_equal(ch->frames, 1);
    assert_close(ch->ref_amplitude, s->field_amplitude * sqrt(ch->efficiency),
                 1e-12 * s->field_amplitude);
    double peak, rms;
    acdc_compiler_signal_estimate(ch, &peak, &rms);
    assert_true(ch->signal_peak == peak && ch->signal_rms == rms && ch->snr > 0);
    /* and it runs */
    acdc_data *d = data(4, s->n_in);
    acdc_sim_options o = acdc_sim_options_default();
    double *y = optical(s, d, o, 1, 4, NULL);
    free(y);
    acdc_data_free(d);
    acdc_compiler_system_free(s);
}

/* The simulator detects with the design: the calibration rows saturate no exposure;
 * light a thousand times the design's saturates every one, counted per chain. */
static void test_simulated_saturation(void **state)
{
    (void)state;
    acdc_model *m = cascade(32, 32, 2);
    const char *one[] = {"camera.frames=1"};
    acdc_compiler_system *s = compile(m, "slm8", one, 1);
    acdc_data *d = data(50, 32);
    assert_int_equal(acdc_compiler_calibrate(s, d->x, d->batch), 0);
    for (int k = 0; k < 2; k++) {
        acdc_sim_options o = acdc_sim_options_default();
        const acdc_compiler_chain *ch = &s->chains[0];
        if (k)
            o.photons = 1e3 * s->profile.laser_power_w * ch->exposure_s * s->wavelength_m /
                        (ACDC_OPTICS_PLANCK * ACDC_OPTICS_C);
        acdc_sim_result r;
        run_job(s, d, o, &r);
        print_message("# %s light: %zu of %zu exposures saturated (chain 0: %zu, chain 1: "
                      "%zu)\n", k ? "1000x the designed" : "the designed", r.saturated,
                      r.exposures, r.chain_saturated[0], r.chain_saturated[1]);
        assert_int_equal(r.exposures, 2 * d->batch);
        assert_int_equal(r.saturated, k ? 2 * d->batch : 0);
        assert_int_equal(r.chain_saturated[0], k ? d->batch : 0);
        acdc_sim_result_free(&r);
    }
    acdc_data_free(d);
    acdc_compiler_system_free(s);
    acdc_model_free(m);
}

/* camera.frames = 4 averages four independent exposures: the same design (exposure,
 * reference), a quarter of the noise variance.  One input, 400 times, each row with its
 * own noise. */
static void test_frames_average_noise(void **state)
{
    (void)state;
    enum { ROWS = 400, N = 16 };
    acdc_model *m = one_layer(N);
    acdc_data *d = data(ROWS, N);
    for (size_t r = 1; r < ROWS; r++)
        memcpy(d->x + r * N, d->x, N * sizeof *d->x);
    double var[2] = {0, 0}, t[2], ref[2];
    for (int k = 0; k < 2; k++) {
        const char *sets[] = {k ? "camera.frames=4" : "camera.frames=1"};
        acdc_compiler_system *s = compile(m, "slm8", sets, 1);
        t[k] = s->chains[0].exposure_s;
        ref[k] = s->chains[0].ref_amplitude;
        acdc_sim_result r;
        run_job(s, d, acdc_sim_options_default(), &r);
        assert_int_equal(r.exposures, ROWS * (k ? 4 : 1));
        for (size_t j = 0; j < N; j++) {
            double s1 = 0, s2 = 0;
            for (size_t i = 0; i < ROWS; i++) {
                s1 += r.y_optical[i * N + j];
                s2 += r.y_optical[i * N + j] * r.y_optical[i * N + j];
            }
            var[k] += (s2 - s1 * s1 / ROWS) / (ROWS - 1);
        }
        acdc_sim_result_free(&r);
        acdc_compiler_system_free(s);
    }
    print_message("# noise variance, 1 frame / 4 frames: %.4g / %.4g = %.3f (want 4; "
                  "statistical sd ~ %.2f)\n", var[0], var[1], var[0] / var[1],
                  4 * sqrt(4.0 / (ROWS * N)));
    assert_true(t[0] == t[1] && ref[0] == ref[1]);
    assert_true(fabs(var[0] / var[1] - 4) < 0.5);
    acdc_data_free(d);
    acdc_model_free(m);
}

/* Without data the design is calibrated on synthetic inputs and says so in the file;
 * camera.frames = 0 (the real built-ins) averages as many exposures as one input frame
 * holds: floor(T / max(exposure, read-out)), T = 1 / input.frame_rate. */
static void test_synthetic_and_auto_frames(void **state)
{
    (void)state;
    acdc_model *m = cascade(32, 32, 2);
    acdc_compiler_system *s = compile(m, "slm8", NULL, 0), *back;
    assert_int_equal(s->profile.frames, ACDC_COMPILER_FRAMES_AUTO);
    assert_int_equal(s->signal, ACDC_COMPILER_SIGNAL_SYNTHETIC);
    assert_int_equal(s->calibration_rows, ACDC_COMPILER_SYNTHETIC_ROWS);
    const acdc_compiler_profile *p = &s->profile;
    const double read = ACDC_COMPILER_MIN_ROWS / (p->camera.frame_rate_hz * (double)p->camera.rows);
    for (size_t c = 0; c < s->n_chains; c++) {
        const acdc_compiler_chain *ch = &s->chains[c];
        /* the best exposure fills the frame exactly (N t = T): floor with rounding room */
        const size_t want = (size_t)floor(
            1 / (p->input.frame_rate_hz * fmax(ch->exposure_s, read)) * (1 + 1e-12));
        print_message("# chain %zu: %zu exposures of %.2f us in one %.3g ms input frame\n",
                      c, ch->frames, 1e6 * ch->exposure_s, 1e3 / p->input.frame_rate_hz);
        assert_int_equal(ch->frames, want);
        assert_true(ch->frames > 1);
    }
    const char *path = test_path(1, "synthetic.h5");
    if (acdc_compiler_system_write(s, path) || acdc_compiler_system_read(path, &back))
        fail_msg("%s", acdc_util_errmsg());
    assert_int_equal(back->signal, ACDC_COMPILER_SIGNAL_SYNTHETIC);
    assert_int_equal(back->chains[0].frames, s->chains[0].frames);
    acdc_compiler_system_free(back);
    acdc_compiler_system_free(s);
    /* no input frame rate given: one exposure */
    const char *no_rate[] = {"input.frame_rate=0 Hz"};
    s = compile(m, "slm8", no_rate, 1);
    assert_int_equal(s->chains[0].frames, 1);
    acdc_compiler_system_free(s);
    acdc_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snr_monte_carlo),
        cmocka_unit_test(test_design),
        cmocka_unit_test(test_calibrated_range_is_the_light),
        cmocka_unit_test(test_file_round_trip_and_carry),
        cmocka_unit_test(test_file_refuses),
        cmocka_unit_test(test_older_file),
        cmocka_unit_test(test_simulated_saturation),
        cmocka_unit_test(test_frames_average_noise),
        cmocka_unit_test(test_synthetic_and_auto_frames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
