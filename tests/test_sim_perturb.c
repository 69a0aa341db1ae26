/* SPDX-License-Identifier: GPL-3.0-or-later */
/* tests/test_sim_perturb.c -- perturbations of a built system (sim/perturb.h): zero is
 * the unperturbed system bit for bit; each perturbation against its closed form. */
#include "tests/simtest.h"

#include <fftw3.h>

/* A linear cascade without biases, ReLU or permutations: the optics alone (one chain). */
static acdc_model *linear(size_t n, size_t K, double sigma)
{
    acdc_model *m;
    assert_int_equal(acdc_model_alloc(&m, n, n, n, K, 0), 0);
    assert_int_equal(acdc_model_init_normal(m, 1, sigma, 5), 0);
    return m;
}

static acdc_sim_result run(const acdc_compiler_system *s, const acdc_data *d, acdc_sim_options o,
                           size_t save_planes)
{
    acdc_sim_job job = {.system = s, .data = d, .options = o, .trials = 1, .batch = 8,
                        .save_planes = save_planes};
    acdc_sim_result r;
    if (acdc_sim_execute(&job, &r, NULL))
        fail_msg("simulate: %s", acdc_util_errmsg());
    return r;
}

/* Perturbations ids[0..nid) set together to each of the four values v (v[0] == 0) on
 * options o: the end-to-end relative RMS error grows with the value; with exact0 the
 * unperturbed system is exact (below 1e-9). */
static void assert_grows(const acdc_compiler_system *s, const acdc_data *d, acdc_sim_options o,
                         const int *ids, size_t nid, const double v[4], int exact0)
{
    double prev = -1;
    for (int i = 0; i < 4; i++) {
        acdc_sim_options q = o;
        for (size_t k = 0; k < nid; k++)
            q.perturb[ids[k]] = v[i];
        acdc_sim_result r = run(s, d, q, 0);
        print_message("# %s%s = %g %s: rel RMS %.3e\n", acdc_sim_perturb_table()[ids[0]].name,
                      nid > 1 ? " and the rest" : "", v[i],
                      acdc_sim_perturb_table()[ids[0]].unit, r.end[0].rel_rms);
        assert_true(i == 0 && exact0 ? r.end[0].rel_rms < 1e-9 : r.end[0].rel_rms > prev);
        prev = r.end[0].rel_rms;
        acdc_sim_result_free(&r);
    }
}

/* Every perturbation set to zero (and to -0) gives the unperturbed output bit for bit,
 * on a real profile with resolved pixels and noise (slm8, S = 4) and on the ideal one. */
static void test_zero_is_unperturbed(void **state)
{
    (void)state;
    acdc_model *m = model(32, 3, 10);
    const char *profiles[] = {"slm8", "ideal"};
    for (int p = 0; p < 2; p++) {
        acdc_compiler_system *s = compile(m, profiles[p], NULL, 0);
        acdc_data *d = data(6, 32);
        acdc_sim_options o = acdc_sim_options_default();
        acdc_sim_result r0 = run(s, d, o, 0);
        for (int i = 0; i < ACDC_SIM_PERTURB_COUNT; i++) {
            acdc_sim_options q = o;
            q.perturb[i] = -0.0;
            acdc_sim_result r = run(s, d, q, 0);
            if (memcmp(r.y_optical, r0.y_optical, 6 * 10 * sizeof(double)))
                fail_msg("%s: %s = -0 changed the output", profiles[p],
                         acdc_sim_perturb_table()[i].name);
            acdc_sim_result_free(&r);
        }
        acdc_sim_result_free(&r0);
        acdc_data_free(d);
        acdc_compiler_system_free(s);
    }
    acdc_model_free(m);
}

/* The reference's phase drift phi and amplitude error a: balanced homodyne detection
 * gives 4 Re(E R* e^{-i phi}) (1 + a); the ideal system's E R* is real, so the output of
 * a linear cascade is (1 + a) cos(phi) times the unperturbed one. */
static void test_reference(void **state)
{
    (void)state;
    acdc_model *m = linear(24, 2, 0.3);
    acdc_compiler_system *s = compile(m, "ideal", NULL, 0);
    acdc_data *d = data(5, 24);
    acdc_sim_options o = acdc_sim_options_default();
    acdc_sim_result r0 = run(s, d, o, 0);
    const double phis[] = {0.1, 1.0, -2.0}, amps[] = {0.05, -0.2, 0.5};
    for (int t = 0; t < 3; t++) {
        acdc_sim_options q = o;
        q.perturb[ACDC_SIM_PERTURB_REF_PHASE] = phis[t];
        q.perturb[ACDC_SIM_PERTURB_REF_AMPLITUDE] = amps[t];
        acdc_sim_result r = run(s, d, q, 0);
        const double k = (1 + amps[t]) * cos(phis[t]);
        double err = 0, mag = 0;
        for (size_t i = 0; i < 5 * 24; i++) {
            err = fmax(err, fabs(r.y_optical[i] - k * r0.y_optical[i]));
            mag = fmax(mag, fabs(r0.y_optical[i]));
        }
        print_message("# ref-phase %.2f rad, ref-amplitude %+.2f: output / unperturbed = "
                      "%.4f as (1 + a) cos(phi), max deviation %.1e relative\n", phis[t],
                      amps[t], k, err / mag);
        if (err > 1e-10 * mag)
            fail_msg("phase %g amplitude %g: deviation %g", phis[t], amps[t], err / mag);
        acdc_sim_result_free(&r);
    }
    acdc_sim_result_free(&r0);
    acdc_data_free(d);
    acdc_compiler_system_free(s);
    acdc_model_free(m);
}

/* Camera gain non-uniformity: component j's output is multiplied by the gain of the
 * pixel that reads it, 1 + N(0, sigma) drawn once per seed -- so the ratio to the
 * unperturbed output has mean 1 and standard deviation sigma over the components, the
 * same draw for the same seed and another for another seed. */
static void test_gain(void **state)
{
    (void)state;
    const size_t n = 256;
    acdc_model *m = linear(n, 1, 0.3);
    acdc_compiler_system *s = compile(m, "ideal", NULL, 0);
    acdc_data *d = data(1, n);
    acdc_sim_options o = acdc_sim_options_default();
    acdc_sim_result r0 = run(s, d, o, 0);
    const double sigma = 0.05;
    double ratio[2][256];
    for (int seed = 0; seed < 2; seed++) {
        acdc_sim_options q = o;
        q.seed = 1 + (uint64_t)seed;
        q.perturb[ACDC_SIM_PERTURB_GAIN_RMS] = sigma;
        acdc_sim_result r = run(s, d, q, 0);
        double sum = 0, sq = 0;
        for (size_t j = 0; j < n; j++) {
            ratio[seed][j] = r.y_optical[j] / r0.y_optical[j];
            sum += ratio[seed][j];
        }
        const double mean = sum / (double)n;
        for (size_t j = 0; j < n; j++)
            sq += (ratio[seed][j] - mean) * (ratio[seed][j] - mean);
        const double sd = sqrt(sq / (double)(n - 1));
        print_message("# gain-rms %.2f, seed %d: output ratio mean %.4f, sd %.4f over %zu "
                      "pixels\n", sigma, seed + 1, mean, sd, n);
        assert_true(fabs(mean - 1) < 4 * sigma / sqrt((double)n));
        assert_true(fabs(sd - sigma) < 0.25 * sigma);
        acdc_sim_result_free(&r);
    }
    size_t same = 0;
    for (size_t j = 0; j < n; j++)
        same += ratio[0][j] == ratio[1][j];
    assert_true(same < n / 10);
    acdc_sim_result_free(&r0);
    acdc_data_free(d);
    acdc_compiler_system_free(s);
    acdc_model_free(m);
}

/* Gaussian illumination: the input plane's field is the unperturbed one times
 * exp(-r^2 / w^2) at every simulated sample (kept planes, S = 2).  On an identity layer
 * (a = d = 1, the ideal profile at S = 1, which images its input), component j is read
 * where the image of its input sample n + j falls, j pitches from the axis: the output
 * is exp(-(j p)^2 / w^2) times the unperturbed one, up to the one Fourier sample the
 * design leaves dark (kappa = n), which the weighted copies -- no longer a symmetric
 * extension -- now reach: measured 4e-4. */
static void test_waist(void **state)
{
    (void)state;
    const size_t n = 32;
    acdc_model *m = linear(n, 1, 0);
    acdc_compiler_system *s = compile(m, "ideal", NULL, 0);
    acdc_data *d = data(2, n);
    const double w = 12 * s->pitch_m;
    acdc_sim_options o = acdc_sim_options_default();
    o.oversample = 2;
    acdc_sim_result p0 = run(s, d, o, 1);
    o.perturb[ACDC_SIM_PERTURB_WAIST] = w;
    acdc_sim_result p1 = run(s, d, o, 1);
    double dev = 0;
    for (size_t k = 0; k < p0.m; k++) {
        const double x = acdc_optics_coord_m(k, p0.m, p0.plane_pitch_m[0]);
        dev = fmax(dev, cabs(p1.planes[k] - exp(-x * x / (w * w)) * p0.planes[k]));
    }
    print_message("# waist %.1f samples: input plane against exp(-r^2/w^2) x unperturbed, "
                  "max deviation %.1e\n", w / s->pitch_m, dev);
    assert_true(dev < 1e-12 * s->field_amplitude);
    acdc_sim_result_free(&p0);
    acdc_sim_result_free(&p1);
    o = acdc_sim_options_default();
    o.oversample = 1;
    acdc_sim_result r0 = run(s, d, o, 0);
    o.perturb[ACDC_SIM_PERTURB_WAIST] = w;
    acdc_sim_result r = run(s, d, o, 0);
    double err = 0;
    for (size_t b = 0; b < 2; b++)
        for (size_t j = 0; j < n; j++) {
            const double x = (double)j * s->pitch_m;
            err = fmax(err, fabs(r.y_optical[b * n + j] -
                                 exp(-x * x / (w * w)) * r0.y_optical[b * n + j]));
        }
    print_message("# identity layer: output against exp(-(j p / w)^2) x unperturbed, max "
                  "deviation %.1e (the dark Fourier sample)\n", err);
    assert_true(err < 1e-3);
    acdc_sim_result_free(&r);
    acdc_sim_result_free(&r0);
    acdc_data_free(d);
    acdc_compiler_system_free(s);
    acdc_model_free(m);
}

/* A lateral shift of the Fourier masks by D metres is a misalignment of D / (Fourier
 * sample pitch) samples (--misalign-x, which moves Fourier and image masks: one stage
 * per chain has no image mask); a shift of the image masks alone, on a chained design,
 * is one of D / (sample pitch); errors grow with the shift. */
static void test_shift(void **state)
{
    (void)state;
    acdc_model *m = model(32, 3, 10);
    const char *point[] = {"rules.fourier_oversample=0"};
    acdc_compiler_system *s = compile(m, "slm8", point, 1);
    acdc_data *d = data(6, 32);
    acdc_sim_options o = acdc_sim_options_default();
    o.noise = 0;
    o.oversample = 2;
    o.misalign_px = 0.3;
    acdc_sim_result a = run(s, d, o, 0);
    o.misalign_px = 0;
    o.perturb[ACDC_SIM_PERTURB_SHIFT_FOURIER] = 0.3 * s->fourier_pitch_m;
    o.perturb[ACDC_SIM_PERTURB_SHIFT_IMAGE] = 0.3 * s->pitch_m;
    acdc_sim_result b = run(s, d, o, 0);
    double err = 0;
    for (size_t i = 0; i < 6 * 10; i++)
        err = fmax(err, fabs(a.y_optical[i] - b.y_optical[i]));
    print_message("# shifts of 0.3 samples in metres against --misalign-x 0.3: max "
                  "difference %.1e\n", err);
    assert_true(err < 1e-9);
    acdc_sim_result_free(&a);
    acdc_sim_result_free(&b);
    acdc_sim_options q = acdc_sim_options_default();
    q.noise = 0;
    const int id = ACDC_SIM_PERTURB_SHIFT_INPUT;
    assert_grows(s, d, q, &id, 1, (const double[4]){0, 0.5e-6, 2e-6, 8e-6}, 0);
    acdc_data_free(d);
    acdc_compiler_system_free(s);
    acdc_model_free(m);
}

/* The camera displaced by dz along the axis sees the image plane's field propagated by
 * dz: in the field's spectrum, the quadratic phase of the Fresnel transfer function,
 * exp(-i pi lambda dz nu^2), without its plane-wave phase e^{ik dz} (the reference arm
 * to the camera grows by dz too) -- computed here with FFTW from the unperturbed
 * camera plane and compared with the perturbed one. */
static void test_defocus_camera(void **state)
{
    (void)state;
    const size_t n = 32;
    acdc_model *m = linear(n, 1, 0.3);
    acdc_compiler_system *s = compile(m, "ideal", NULL, 0);
    acdc_data *d = data(1, n);
    acdc_sim_options o = acdc_sim_options_default();
    o.oversample = 2;
    acdc_sim_result r0 = run(s, d, o, 1);
    const double dz = 200e-6;
    o.perturb[ACDC_SIM_PERTURB_DEFOCUS_CAMERA] = dz;
    acdc_sim_result r1 = run(s, d, o, 1);
    const size_t L = r0.m, last = r0.n_planes - 1;
    const double h = r0.plane_pitch_m[last], lam = s->wavelength_m;
    fftw_complex *a = fftw_malloc(L * sizeof *a);
    fftw_plan fw = fftw_plan_dft_1d((int)L, a, a, FFTW_FORWARD, FFTW_ESTIMATE);
    fftw_plan bw = fftw_plan_dft_1d((int)L, a, a, FFTW_BACKWARD, FFTW_ESTIMATE);
    const double complex *e0 = r0.planes + last * L, *e1 = r1.planes + last * L;
    memcpy(a, e0, L * sizeof *a);
    fftw_execute(fw);
    for (size_t k = 0; k < L; k++) {
        const double nu = ((double)k - (k >= L / 2 ? (double)L : 0)) / ((double)L * h);
        const double complex H = cexp(-I * M_PI * lam * dz * nu * nu);
        ((double complex *)a)[k] *= H / (double)L;
    }
    fftw_execute(bw);
    double err = 0, mag = 0, moved = 0;
    for (size_t k = 0; k < L; k++) {
        err = fmax(err, cabs(((double complex *)a)[k] - e1[k]));
        mag = fmax(mag, cabs(e0[k]));
        moved = fmax(moved, cabs(e1[k] - e0[k]));
    }
    print_message("# camera defocused by %.0f um: field against the Fresnel transfer "
                  "function's quadratic phase, max deviation %.1e relative (it moved by "
                  "%.2f)\n", 1e6 * dz, err / mag, moved / mag);
    assert_true(err < 1e-10 * mag);
    assert_true(moved > 1e-3 * mag);
    fftw_destroy_plan(fw);
    fftw_destroy_plan(bw);
    fftw_free(a);
    acdc_sim_result_free(&r0);
    acdc_sim_result_free(&r1);
    acdc_data_free(d);
    acdc_compiler_system_free(s);
    acdc_model_free(m);
}

/* Axial displacements of the input and Fourier planes on the ideal profile (point
 * samples, S = 1, where the unperturbed system is exact): errors grow with the
 * distance. */
static void test_defocus_grows(void **state)
{
    (void)state;
    acdc_model *m = model(32, 2, 10);
    acdc_compiler_system *s = compile(m, "ideal", NULL, 0);
    acdc_data *d = data(6, 32);
    const int ids[] = {ACDC_SIM_PERTURB_DEFOCUS_INPUT, ACDC_SIM_PERTURB_DEFOCUS_FOURIER};
    acdc_sim_options q = acdc_sim_options_default();
    q.oversample = 1;
    for (int t = 0; t < 2; t++)
        assert_grows(s, d, q, &ids[t], 1, (const double[4]){0, 20e-6, 100e-6, 500e-6}, 0);
    acdc_data_free(d);
    acdc_compiler_system_free(s);
    acdc_model_free(m);
}

/* A device used at another wavelength: each pixel's retardance, its level's phase in
 * [0, 2 pi), times lambda / lambda' (acdc_optics_devmap_set_retardance()); amplitudes stay. */
static void test_retardance(void **state)
{
    (void)state;
    acdc_compiler_profile p;
    assert_int_equal(acdc_compiler_profile_builtin("slm8", &p), 0);
    /* pixel by pixel: the pairs side by side, each pixel its own value */
    p.fourier.dp_layout = ACDC_OPTICS_DP_COLUMNS;
    acdc_optics_devmap *a, *b;
    assert_int_equal(acdc_optics_devmap_alloc(&a, &p.fourier, 8, 2, 64, 0), 0);
    assert_int_equal(acdc_optics_devmap_alloc(&b, &p.fourier, 8, 2, 64, 0), 0);
    const double kappa = 632.8 / 640.0;
    acdc_optics_devmap_set_retardance(b, kappa);
    double err = 0;
    for (int i = -10; i <= 10; i++) {
        double complex pa[2], pb[2];
        acdc_optics_devmap_sample(a, 0.1 * i, pa);
        acdc_optics_devmap_sample(b, 0.1 * i, pb);
        for (int q = 0; q < 2; q++) {
            const double phi = fmod(carg(pa[q]) + 2 * M_PI, 2 * M_PI);
            err = fmax(err, cabs(pb[q] - cabs(pa[q]) * cexp(I * kappa * phi)));
        }
    }
    print_message("# retardance at 640 nm of a 632.8 nm device: max deviation %.1e\n", err);
    assert_true(err < 1e-15);
    acdc_optics_devmap_free(a);
    acdc_optics_devmap_free(b);
    /* pairs down the strip's rows: the column carries the mean of the two pixels, each
     * retarded */
    p.fourier.dp_layout = ACDC_OPTICS_DP_ROWS;
    assert_int_equal(acdc_optics_devmap_alloc(&b, &p.fourier, 8, 2, 64, 0), 0);
    acdc_optics_devmap_set_retardance(b, kappa);
    err = 0;
    for (int i = -10; i <= 10; i++) {
        double complex px[2], got, want = 0;
        acdc_optics_modulator_pixels(&p.fourier, 0.1 * i, px, NULL);
        for (int q = 0; q < 2; q++)
            want += 0.5 * cabs(px[q]) * cexp(I * kappa * fmod(carg(px[q]) + 2 * M_PI, 2 * M_PI));
        acdc_optics_devmap_sample(b, 0.1 * i, &got);
        err = fmax(err, cabs(got - want));
    }
    print_message("# the same, pairs down the rows: max deviation %.1e\n", err);
    assert_true(err < 1e-15);
    acdc_optics_devmap_free(b);
}

/* A detuned laser and a focal-length error, under free space (Fresnel) on the ideal
 * profile at S = 1, where the unperturbed system is exact: errors grow with the size;
 * ideal lenses refuse them. */
static void test_wavelength_focal(void **state)
{
    (void)state;
    acdc_model *m = model(32, 2, 10);
    acdc_compiler_system *s = compile(m, "ideal", NULL, 0);
    acdc_data *d = data(6, 32);
    const int ids[] = {ACDC_SIM_PERTURB_WAVELENGTH, ACDC_SIM_PERTURB_FOCAL};
    const double sizes[2][4] = {{0, 0.05e-9, 0.5e-9, 5e-9}, {0, 1e-4, 1e-3, 1e-2}};
    for (int t = 0; t < 2; t++) {
        acdc_sim_options f = acdc_sim_options_default();
        f.oversample = 1;
        f.propagation = ACDC_SIM_PROP_FRESNEL;
        assert_grows(s, d, f, &ids[t], 1, sizes[t], 1);
        sim *sm = NULL;
        acdc_sim_options q = acdc_sim_options_default();
        q.propagation = ACDC_SIM_PROP_IDEAL;
        q.perturb[ids[t]] = sizes[t][2];
        assert_int_equal(acdc_sim_alloc(&sm, s, 4, &q), ACDC_UTIL_EUSAGE);
        assert_non_null(strstr(acdc_util_errmsg(), "free space"));
    }
    acdc_data_free(d);
    acdc_compiler_system_free(s);
    acdc_model_free(m);
}

/* Fringing: a phase grating 1 + 0.5 cos(2 pi x / P) comes out of acdc_optics_fringing() as
 * 1 + 0.5 exp(-2 pi^2 sigma^2 / P^2) cos(2 pi x / P) (the Gaussian's transform), away
 * from the ends; in 2D along both axes. */
static void test_fringing_lowpass(void **state)
{
    (void)state;
    const size_t n = 1024;
    const double P = 16, sigma = 2;
    double complex *t = malloc(n * 64 * sizeof *t);
    for (size_t i = 0; i < n; i++)
        t[i] = cexp(I * (1 + 0.5 * cos(2 * M_PI * (double)i / P)));
    assert_int_equal(acdc_optics_fringing(t, n, 1, 1e-6, sigma * 1e-6), ACDC_UTIL_OK);
    const double want = 0.5 * exp(-2 * M_PI * M_PI * sigma * sigma / (P * P));
    double err = 0;
    for (size_t i = 64; i < n - 64; i++)
        err = fmax(err, fabs(carg(t[i]) - (1 + want * cos(2 * M_PI * (double)i / P))));
    print_message("# fringing sigma %.0f over period %.0f: grating amplitude %.4f (exp(-2 "
                  "pi^2 s^2/P^2) x 0.5), max deviation %.1e\n", sigma, P, want, err);
    assert_true(err < 1e-7);
    /* 2D: a grating along y, 64 x 64 */
    for (size_t y = 0; y < 64; y++)
        for (size_t x = 0; x < 64; x++)
            t[y * 64 + x] = cexp(I * (1 + 0.5 * cos(2 * M_PI * (double)y / P)));
    assert_int_equal(acdc_optics_fringing(t, 64, 64, 1e-6, sigma * 1e-6), ACDC_UTIL_OK);
    err = 0;
    for (size_t y = 16; y < 48; y++)
        for (size_t x = 16; x < 48; x++)
            err = fmax(err, fabs(carg(t[y * 64 + x]) - (1 + want * cos(2 * M_PI * (double)y / P))));
    print_message("# the same along y of a 64 x 64 plane: max deviation %.1e\n", err);
    assert_true(err < 1e-7);
    assert_int_equal(acdc_optics_fringing(t, 64, 64, 1e-6, 0), ACDC_UTIL_EUSAGE);
    free(t);
    /* on a built system: errors grow with the width (slm8, S = 4, no noise) */
    acdc_model *m = model(32, 2, 10);
    acdc_compiler_system *s = compile(m, "slm8", NULL, 0);
    acdc_data *d = data(6, 32);
    acdc_sim_options q = acdc_sim_options_default();
    q.noise = 0;
    const int id = ACDC_SIM_PERTURB_CROSSTALK;
    assert_grows(s, d, q, &id, 1, (const double[4]){0, 0.5e-6, 1e-6, 2e-6}, 0);
    acdc_data_free(d);
    acdc_compiler_system_free(s);
    acdc_model_free(m);
}

/* In-plane rotation: a quarter turn maps sample (x, y) onto the one at (2a - y, x)
 * about the axis a exactly (the bilinear weights are 0 and 1); on a 2D system (window
 * method, S = 1) errors grow with the angle; a 1D system refuses it. */
static void test_rotation(void **state)
{
    (void)state;
    const size_t side = 9, a = side / 2;
    double complex t[81], u[81];
    for (size_t i = 0; i < side * side; i++)
        t[i] = u[i] = (double)i + I * (double)(i % 7);
    assert_int_equal(acdc_optics_plane_rotate(u, side, M_PI / 2), ACDC_UTIL_OK);
    double err = 0;
    for (size_t y = 0; y < side; y++)
        for (size_t x = 0; x < side; x++)
            err = fmax(err, cabs(u[y * side + x] - t[(2 * a - x) * side + y]));
    print_message("# a quarter turn of a 9 x 9 plane: max deviation %.1e\n", err);
    assert_true(err < 1e-12);
    acdc_model *m;
    assert_int_equal(acdc_model_alloc(&m, 64, 64, 64, 2, ACDC_RELU | ACDC_PERM), 0);
    assert_int_equal(acdc_model_set_grid(m, ACDC_TRANSFORM_DCT2, 8, 8, 0, 0), 0);
    assert_int_equal(acdc_model_init_normal(m, 1, 0.3, 5), 0);
    assert_int_equal(acdc_model_init_perms(m, 9), 0);
    acdc_compiler_system *s = compile(m, "ideal", NULL, 0);
    acdc_data *d = data(4, 64);
    acdc_sim_options q = acdc_sim_options_default();
    q.oversample = 1;
    const int both[] = {ACDC_SIM_PERTURB_ROTATE_FOURIER, ACDC_SIM_PERTURB_ROTATE_INPUT};
    assert_grows(s, d, q, both, 2, (const double[4]){0, 1e-3, 1e-2, 5e-2}, 1);
    acdc_data_free(d);
    acdc_compiler_system_free(s);
    acdc_model_free(m);
    acdc_model *m1 = linear(16, 1, 0.3);
    acdc_compiler_system *s1 = compile(m1, "ideal", NULL, 0);
    sim *sm = NULL;
    q = acdc_sim_options_default();
    q.perturb[ACDC_SIM_PERTURB_ROTATE_FOURIER] = 1e-3;
    assert_int_equal(acdc_sim_alloc(&sm, s1, 4, &q), ACDC_UTIL_EUSAGE);
    assert_non_null(strstr(acdc_util_errmsg(), "2D system"));
    acdc_compiler_system_free(s1);
    acdc_model_free(m1);
}

/* The 2D pixel-exact method's displacements (factors of its kernel, the Fourier
 * device rotated) against the window method, which moves the devices and propagates the
 * sampled light, on a pixel-aware system of the 1080p phase SLM (no noise, no phase
 * errors): the change a perturbation makes agrees between the two to 6-12 % of itself
 * at S = 4 and 1-3.3 % at S = 8 -- the window method's own sampling error, which falls as
 * S grows (the exact method's converges faster).  A sign error or a wrong scale would
 * give another change altogether. */
static void test_exact_window(void **state)
{
    (void)state;
    acdc_model *m;
    const size_t side = 6, n = side * side, rows = 3, N = rows * n;
    assert_int_equal(acdc_model_alloc(&m, n, n, n, 1, 0), 0);
    assert_int_equal(acdc_model_set_grid(m, ACDC_TRANSFORM_DCT2, side, side, 0, 0), 0);
    assert_int_equal(acdc_model_init_normal(m, 1, 0.4, 5), 0);
    acdc_compiler_system *s = compile(m, "slm1080", NULL, 0);
    acdc_data *d = data(rows, n);
    const double p = s->pitch_m, dof = p * p / s->wavelength_m;
    enum { CASES = 6 };
    const struct {
        int id;
        double v;
    } cases[CASES] = {{ACDC_SIM_PERTURB_SHIFT_INPUT, 0.3 * p},
                      {ACDC_SIM_PERTURB_SHIFT_INPUT, -0.6 * p},
                      {ACDC_SIM_PERTURB_DEFOCUS_INPUT, 0.5 * dof},
                      {ACDC_SIM_PERTURB_DEFOCUS_INPUT, -0.5 * dof},
                      {ACDC_SIM_PERTURB_DEFOCUS_CAMERA, 0.3 * dof},
                      {ACDC_SIM_PERTURB_ROTATE_FOURIER, 0.02}};
    double gap[2][CASES];
    for (int k = 0; k < 2; k++) {
        acdc_sim_options o = acdc_sim_options_default();
        o.noise = 0;
        o.phase_error_rad = 0;
        o.oversample = 4 * (k + 1);
        double *y0[2], *y1[2];
        for (int w = 0; w < 2; w++) {
            acdc_sim_options q = o;
            q.window = w;
            assert_int_equal(acdc_sim_exact(s, &q), !w);
            acdc_sim_result r = run(s, d, q, 0);
            y0[w] = malloc(N * sizeof(double));
            memcpy(y0[w], r.y_optical, N * sizeof(double));
            acdc_sim_result_free(&r);
        }
        for (int c = 0; c < CASES; c++) {
            double dd = 0, de = 0, y2 = 0;
            for (int w = 0; w < 2; w++) {
                acdc_sim_options q = o;
                q.window = w;
                q.perturb[cases[c].id] = cases[c].v;
                acdc_sim_result r = run(s, d, q, 0);
                y1[w] = malloc(N * sizeof(double));
                memcpy(y1[w], r.y_optical, N * sizeof(double));
                acdc_sim_result_free(&r);
            }
            for (size_t i = 0; i < N; i++) {
                const double ce = y1[0][i] - y0[0][i], cw = y1[1][i] - y0[1][i];
                dd += (ce - cw) * (ce - cw);
                de += ce * ce;
                y2 += y0[0][i] * y0[0][i];
            }
            gap[k][c] = sqrt(dd / de);
            print_message("# 2D slm1080, S = %d, %s = %.3g %s: change %.3e of the output, "
                          "exact against window %.3e of the change\n", o.oversample,
                          acdc_sim_perturb_table()[cases[c].id].name, cases[c].v,
                          acdc_sim_perturb_table()[cases[c].id].unit, sqrt(de / y2), gap[k][c]);
            assert_true(sqrt(de / y2) > 0.02);   /* a change worth comparing */
            free(y1[0]);
            free(y1[1]);
        }
        free(y0[0]);
        free(y0[1]);
    }
    for (int c = 0; c < CASES; c++) {
        assert_true(gap[0][c] < 0.15);
        assert_true(gap[1][c] < 0.05 && gap[1][c] < 0.5 * gap[0][c]);
    }
    acdc_data_free(d);
    acdc_compiler_system_free(s);
    acdc_model_free(m);
}

/* Aberrations added to every lens: on the ideal profile through free space and thin
 * lenses (exact when unperturbed), a small wavefront error c changes the field by about
 * i 2π c W, so the relative error grows in proportion to c: doubling c doubles it, to
 * within the second-order part that the homodyne's real part leaves visible (ratios
 * 2.02, 2.00 and 2.13 measured); the three terms give three different errors; ideal
 * lenses refuse them (no lens plane). */
static void test_lens_aberration(void **state)
{
    (void)state;
    acdc_model *m = linear(32, 2, 0.3);
    acdc_compiler_system *s = compile(m, "ideal", NULL, 0);
    acdc_data *d = data(6, 32);
    const int ids[3] = {ACDC_SIM_PERTURB_LENS_SPHERICAL, ACDC_SIM_PERTURB_LENS_COMA,
                        ACDC_SIM_PERTURB_LENS_ASTIGMATISM};
    double first[3];
    for (int t = 0; t < 3; t++) {
        double e[2];
        for (int k = 0; k < 2; k++) {
            acdc_sim_options q = acdc_sim_options_default();
            q.propagation = ACDC_SIM_PROP_FRESNEL;
            q.perturb[ids[t]] = 1e-3 * (k + 1);
            acdc_sim_result r = run(s, d, q, 0);
            e[k] = r.end[0].rel_rms;
            acdc_sim_result_free(&r);
        }
        print_message("# %s 1e-3 / 2e-3 waves: rel RMS %.3e / %.3e (ratio %.3f)\n",
                      acdc_sim_perturb_table()[ids[t]].name, e[0], e[1], e[1] / e[0]);
        assert_true(e[0] > 1e-5);
        assert_true(fabs(e[1] / e[0] - 2) < 0.2);
        first[t] = e[0];
    }
    assert_true(first[0] != first[1] && first[1] != first[2] && first[0] != first[2]);
    sim *sm = NULL;
    acdc_sim_options q = acdc_sim_options_default();
    q.propagation = ACDC_SIM_PROP_IDEAL;
    q.perturb[ACDC_SIM_PERTURB_LENS_COMA] = 0.01;
    assert_int_equal(acdc_sim_alloc(&sm, s, 4, &q), ACDC_UTIL_EUSAGE);
    assert_non_null(strstr(acdc_util_errmsg(), "free space"));
    double v[ACDC_SIM_PERTURB_COUNT] = {0};
    assert_int_equal(acdc_sim_perturb_parse("lens-spherical=0.02 waves", v), ACDC_UTIL_OK);
    assert_true(v[ACDC_SIM_PERTURB_LENS_SPHERICAL] == 0.02);
    assert_int_equal(acdc_sim_perturb_parse("lens-coma=-0.5", v), ACDC_UTIL_OK);
    assert_true(v[ACDC_SIM_PERTURB_LENS_COMA] == -0.5);
    assert_int_equal(acdc_sim_perturb_parse("lens-coma=2", v), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_sim_perturb_parse("lens-coma=0.1um", v), ACDC_UTIL_EUSAGE);
    acdc_data_free(d);
    acdc_compiler_system_free(s);
    acdc_model_free(m);
}

/* One chain perturbed (acdc_sim_options.chain): on a three-chain system (slm8, S = 4, no
 * noise) each displacement and the reference's drift applied to chain 2 alone leave
 * chain 1's light exactly as built (its chain metrics bit for bit) and change chain 2's;
 * a chain beyond the system's is refused. */
static void test_one_chain(void **state)
{
    (void)state;
    acdc_model *m = model(32, 3, 10);
    acdc_compiler_system *s = compile(m, "slm8", NULL, 0);
    assert_true(s->n_chains >= 2);
    acdc_data *d = data(6, 32);
    acdc_sim_options o = acdc_sim_options_default();
    o.noise = 0;
    acdc_sim_result r0 = run(s, d, o, 0);
    const int ids[] = {ACDC_SIM_PERTURB_SHIFT_INPUT, ACDC_SIM_PERTURB_SHIFT_FOURIER,
                       ACDC_SIM_PERTURB_DEFOCUS_INPUT, ACDC_SIM_PERTURB_DEFOCUS_FOURIER,
                       ACDC_SIM_PERTURB_DEFOCUS_CAMERA, ACDC_SIM_PERTURB_REF_PHASE};
    const double vals[] = {2e-6, 2e-6, 2e-4, 2e-4, 2e-4, 0.2};
    for (size_t t = 0; t < sizeof ids / sizeof ids[0]; t++) {
        acdc_sim_options q = o;
        q.chain = 2;
        q.perturb[ids[t]] = vals[t];
        acdc_sim_result r = run(s, d, q, 0);
        const double e1 = r.stage[0].rel_rms, e1_0 = r0.stage[0].rel_rms;
        const double e2 = r.stage[1].rel_rms, e2_0 = r0.stage[1].rel_rms;
        print_message("# %s on chain 2 alone: chain 1 rel RMS %.3e (as built %.3e), chain 2 "
                      "%.3e (as built %.3e)\n", acdc_sim_perturb_table()[ids[t]].name, e1, e1_0, e2,
                      e2_0);
        assert_true(e1 == e1_0);
        assert_true(e2 != e2_0);
        acdc_sim_result_free(&r);
    }
    sim *sm = NULL;
    acdc_sim_options q = o;
    q.chain = (int)s->n_chains + 1;
    assert_int_equal(acdc_sim_alloc(&sm, s, 4, &q), ACDC_UTIL_EUSAGE);
    assert_non_null(strstr(acdc_util_errmsg(), "chain"));
    acdc_sim_result_free(&r0);
    acdc_data_free(d);
    acdc_compiler_system_free(s);
    acdc_model_free(m);
}

/* Refusals: a value outside its range or not finite; a perturbation that needs every
 * plane sampled on the 2D pixel-exact method; parsing. */
static void test_refusals(void **state)
{
    (void)state;
    acdc_model *m = linear(16, 1, 0.3);
    acdc_compiler_system *s = compile(m, "ideal", NULL, 0);
    sim *sm = NULL;
    acdc_sim_options o = acdc_sim_options_default();
    o.perturb[ACDC_SIM_PERTURB_GAIN_RMS] = NAN;
    assert_int_equal(acdc_sim_alloc(&sm, s, 4, &o), ACDC_UTIL_EUSAGE);
    o.perturb[ACDC_SIM_PERTURB_GAIN_RMS] = -0.1;
    assert_int_equal(acdc_sim_alloc(&sm, s, 4, &o), ACDC_UTIL_EUSAGE);
    o.perturb[ACDC_SIM_PERTURB_GAIN_RMS] = 0;
    o.perturb[ACDC_SIM_PERTURB_SHIFT_FOURIER] = 1;
    assert_int_equal(acdc_sim_alloc(&sm, s, 4, &o), ACDC_UTIL_EUSAGE);
    acdc_compiler_system_free(s);
    acdc_model_free(m);
    acdc_model *m2;
    assert_int_equal(acdc_model_alloc(&m2, 64, 64, 64, 1, 0), 0);
    assert_int_equal(acdc_model_set_grid(m2, ACDC_TRANSFORM_DCT2, 8, 8, 0, 0), 0);
    assert_int_equal(acdc_model_init_normal(m2, 1, 0.3, 5), 0);
    acdc_compiler_system *s2 = compile(m2, "slm1080", NULL, 0);
    acdc_sim_options q = acdc_sim_options_default();
    q.perturb[ACDC_SIM_PERTURB_DEFOCUS_FOURIER] = 1e-4;
    assert_true(acdc_sim_exact(s2, &q));
    assert_int_equal(acdc_sim_alloc(&sm, s2, 4, &q), ACDC_UTIL_EUSAGE);
    assert_non_null(strstr(acdc_util_errmsg(), "defocus-fourier"));
    q.perturb[ACDC_SIM_PERTURB_DEFOCUS_FOURIER] = 0;
    q.perturb[ACDC_SIM_PERTURB_ROTATE_INPUT] = 1e-3;
    assert_int_equal(acdc_sim_alloc(&sm, s2, 4, &q), ACDC_UTIL_EUSAGE);
    assert_non_null(strstr(acdc_util_errmsg(), "rotate-input"));
    q.perturb[ACDC_SIM_PERTURB_ROTATE_INPUT] = 0;
    q.perturb[ACDC_SIM_PERTURB_REF_PHASE] = 0.1;
    assert_int_equal(acdc_sim_alloc(&sm, s2, 4, &q), ACDC_UTIL_OK);
    acdc_sim_free(sm);
    acdc_compiler_system_free(s2);
    acdc_model_free(m2);
    double v[ACDC_SIM_PERTURB_COUNT] = {0};
    assert_int_equal(acdc_sim_perturb_parse("shift-fourier=2um", v), ACDC_UTIL_OK);
    assert_true(fabs(v[ACDC_SIM_PERTURB_SHIFT_FOURIER] - 2e-6) < 1e-18);
    assert_int_equal(acdc_sim_perturb_parse("ref-phase=5 mrad", v), ACDC_UTIL_OK);
    assert_true(fabs(v[ACDC_SIM_PERTURB_REF_PHASE] - 5e-3) < 1e-15);
    assert_int_equal(acdc_sim_perturb_parse("bogus=1", v), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_sim_perturb_parse("waist=-1mm", v), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_sim_perturb_parse("waist", v), ACDC_UTIL_EUSAGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zero_is_unperturbed),
        cmocka_unit_test(test_reference),
        cmocka_unit_test(test_gain),
        cmocka_unit_test(test_waist),
        cmocka_unit_test(test_shift),
        cmocka_unit_test(test_defocus_camera),
        cmocka_unit_test(test_defocus_grows),
        cmocka_unit_test(test_retardance),
        cmocka_unit_test(test_fringing_lowpass),
        cmocka_unit_test(test_rotation),
        cmocka_unit_test(test_wavelength_focal),
        cmocka_unit_test(test_exact_window),
        cmocka_unit_test(test_lens_aberration),
        cmocka_unit_test(test_one_chain),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
