/* SPDX-License-Identifier: GPL-3.0-or-later */
/* tests/test_compiler_surrogate.c -- the hardware surrogate (compiler/surrogate.h): its
 * forward pass against the simulator's light, its gradients against finite differences,
 * determinism and refusals. */
#include "tests/simtest.h"

#include <fftw3.h>

#include "compiler/surrogate.h"
#include "models/train.h"

/* K layers of n, a ReLU and a permutation after each (every chain one layer), biases. */
static acdc_model *relu_model(size_t n, size_t K, size_t n_out, double sigma)
{
    acdc_model *m;
    assert_int_equal(acdc_model_alloc(&m, n, n, n_out, K,
                                      ACDC_A_BIAS | ACDC_D_BIAS | ACDC_PERM | ACDC_RELU), 0);
    assert_int_equal(acdc_model_init_normal(m, 1, sigma, 5), 0);
    assert_int_equal(acdc_model_init_perms(m, 9), 0);
    for (size_t l = 0; l < K; l++) {
        fill(m->layers[l].a_bias, n, 0.1 * (double)l);
        fill(m->layers[l].d_bias, n, 1.0 + (double)l);
        for (size_t i = 0; i < n; i++) {
            m->layers[l].a_bias[i] *= 0.1;
            m->layers[l].d_bias[i] *= 0.1;
        }
    }
    return m;
}

/* A 2D cascade of K layers on a side x side grid, ReLU and permutations, biases. */
static acdc_model *relu_model2(size_t side, size_t K, size_t n_out, double sigma)
{
    acdc_model *m = relu_model(side * side, K, n_out, sigma);
    assert_int_equal(acdc_model_set_grid(m, ACDC_TRANSFORM_DCT2, side, side, side, side), 0);
    return m;
}

/* y (rows × n_out, a new array) through the surrogate of s with options o. */
static double *through(const acdc_compiler_system *s, const acdc_model *m, const double *x,
                       size_t rows, acdc_compiler_surrogate_opts o, uint64_t tick)
{
    acdc_compiler_surrogate *g;
    if (acdc_compiler_surrogate_alloc(&g, s, rows, &o))
        fail_msg("surrogate: %s", acdc_util_errmsg());
    acdc_work *w;
    assert_int_equal(acdc_work_alloc(&w, m, rows, 1, 1, FFTW_ESTIMATE), 0);
    acdc_work_set_op(w, acdc_compiler_surrogate_op(g));
    acdc_work_set_tick(w, tick);
    double *y = malloc(rows * m->n_out * sizeof *y);
    if (acdc_model_forward(m, w, rows, x, y))
        fail_msg("forward: %s", acdc_util_errmsg());
    acdc_work_free(w);
    acdc_compiler_surrogate_free(g);
    return y;
}

static double rel_rms(const double *a, const double *b, size_t len)
{
    double e = 0, r = 0;
    for (size_t i = 0; i < len; i++) {
        e += (a[i] - b[i]) * (a[i] - b[i]);
        r += b[i] * b[i];
    }
    return sqrt(e / r);
}

/* The surrogate (noise, clip and phase errors off; quantised) against the simulator
 * (noise and phase errors off, perfect Fourier lenses, resolved pixels at oversampling
 * S) on one layer; returns the relative RMS difference, which must be below tol.
 *
 * The surrogate integrates every pixel exactly; the simulator samples each pixel on S
 * points per sample, so the two meet as S grows: measured on slm8 (n = 64, R = 2) with
 * the pairs side by side 2.8e-1 at S = 2, 5.9e-2 at S = 4, 1.3e-2 at S = 8, 4.7e-3 at
 * S = 12, 1.9e-3 at S = 16; with the pairs down the strip's rows (the default since;
 * one pixel a sample, as on slm8-complex) 7.4e-3 at S = 8 and 3.1e-3 at S = 16.  The
 * tolerances below are about twice the values measured at S = 8 and 16 before. */
static double compare(const char *profile, const char **sets, size_t nsets, int S,
                      int lens, double tol)
{
    /* a 2D profile gets a 2D layer on an 8 x 8 grid (the simulator's pixel-exact 2D
     * method) */
    const int two = !strcmp(profile, "slm1080");
    acdc_model *m = two ? relu_model2(8, 1, 64, 0.3) : relu_model(64, 1, 64, 0.3);
    acdc_compiler_system *s = compile(m, profile, sets, nsets);
    acdc_data *d = data(24, 64);
    acdc_sim_options so = acdc_sim_options_default();
    so.noise = 0;
    so.phase_error_rad = 0;
    so.lens = lens ? ACDC_SIM_LENS_PROFILE : ACDC_SIM_LENS_FOURIER;
    so.oversample = S;
    double *yo = optical(s, d, so, 1, 24, NULL);
    acdc_compiler_surrogate_opts o = acdc_compiler_surrogate_opts_default();
    o.noise = o.clip = 0;
    o.phase_error_rad = 0;
    o.lens = lens;
    double *ys = through(s, m, d->x, 24, o, 0);
    double *yn = malloc(24 * 64 * sizeof *yn);
    acdc_work *w;
    assert_int_equal(acdc_work_alloc(&w, m, 24, 0, 1, FFTW_ESTIMATE), 0);
    assert_int_equal(acdc_model_forward(m, w, 24, d->x, yn), 0);
    const double e = rel_rms(ys, yo, 24 * 64), e_num = rel_rms(yn, yo, 24 * 64);
    print_message("%s%s%s, S = %d, %s: surrogate vs simulator %.2e, numeric model vs "
                  "simulator %.2e\n", profile, nsets ? " " : "", nsets ? sets[0] : "", S,
                  lens ? "the profile's lens" : "ideal lenses", e, e_num);
    if (!(e <= tol))
        fail_msg("%s: the surrogate is %.3g from the simulator (tolerance %.3g; the "
                 "numeric model is %.3g from it)", profile, e, tol, e_num);
    acdc_work_free(w);
    free(yn);
    free(ys);
    free(yo);
    acdc_data_free(d);
    acdc_compiler_system_free(s);
    acdc_model_free(m);
    return e;
}

/* Measured (n = 64 on an 8 x 8 grid, one layer): 6.6e-3 at S = 4, 1.7e-3 at S = 8, where
 * the numeric model is 4.1e-2 from the light; the tolerances are about twice these. */
static void test_matches_simulator_2d(void **state)
{
    (void)state;
    double e4 = compare("slm1080", NULL, 0, 4, 0, 0.015);
    double e8 = compare("slm1080", NULL, 0, 8, 0, 0.004);
    assert_true(e8 < e4 / 2);
}

/* Clipped Fourier masks (rules.fourier_clip = 0.5) reach the light as the surrogate
 * shows them: measured 1.7e-3 (2D, S = 8) and 2.8e-3 (slm8, S = 16), as unclipped (1.7e-3
 * and 3.1e-3), where the numeric model is 0.19 and 0.46 from the clipped light. */
static void test_matches_simulator_fourier_clip(void **state)
{
    (void)state;
    const char *sets[] = {"rules.fourier_clip=0.5"};
    compare("slm1080", sets, 1, 8, 0, 0.004);
    compare("slm8", sets, 1, 16, 0, 0.004);
}

/* Phase errors of the Fourier masks, pairs down a 1D strip's rows (slm8): the surrogate's
 * draws move its output by as much as the simulator's move the light -- rms over 40
 * draws (the surrogate's ticks, the simulator's device seeds), 30 mrad, noise off, ideal
 * lenses, S = 4 -- on the tallest strip the design clears and on a device of 4 rows,
 * whose two pairs average less (the surrogate's Gaussian limit and the simulator's sum
 * of draws both in play).  Measured: within 10% of each other on both. */
static void test_phase_errors_match_simulator(void **state)
{
    (void)state;
    acdc_model *m = relu_model(64, 1, 64, 0.3);
    acdc_data *d = data(24, 64);
    const char *four[] = {"input.rows=4", "fourier.rows=4", "image.rows=4"};
    double got[2][2];
    for (int k = 0; k < 2; k++) {
        acdc_compiler_system *s = compile(m, "slm8", k ? four : NULL, k ? 3 : 0);
        const size_t strip = acdc_compiler_strip_rows(s, &s->profile.fourier);
        acdc_sim_options so = acdc_sim_options_default();
        so.noise = 0;
        so.lens = ACDC_SIM_LENS_FOURIER;
        so.oversample = 4;
        acdc_compiler_surrogate_opts o = acdc_compiler_surrogate_opts_default();
        o.noise = o.clip = 0;
        o.lens = 0;
        so.phase_error_rad = o.phase_error_rad = 0;
        double *yo0 = optical(s, d, so, 1, 24, NULL), *ys0 = through(s, m, d->x, 24, o, 0);
        double eo = 0, es = 0;
        so.phase_error_rad = o.phase_error_rad = 0.03;
        for (int i = 1; i <= 40; i++) {
            so.seed = (uint64_t)i;
            double *yo = optical(s, d, so, 1, 24, NULL), *ys = through(s, m, d->x, 24, o, (uint64_t)i);
            eo += pow(rel_rms(yo, yo0, 24 * 64), 2);
            es += pow(rel_rms(ys, ys0, 24 * 64), 2);
            free(yo);
            free(ys);
        }
        got[k][0] = sqrt(es / 40);
        got[k][1] = sqrt(eo / 40);
        print_message("# slm8, a strip of %zu rows: 30 mrad phase errors move the surrogate by "
                      "%.3e and the light by %.3e (rms over 40 draws)\n", strip, got[k][0],
                      got[k][1]);
        assert_true(got[k][0] > 0.75 * got[k][1] && got[k][0] < 1.33 * got[k][1]);
        free(yo0);
        free(ys0);
        acdc_compiler_system_free(s);
    }
    assert_true(got[1][1] > 2 * got[0][1]);   /* the taller strip averages more */
    acdc_data_free(d);
    acdc_model_free(m);
}

/* The simulator converges on the surrogate as its sampling of the pixels refines. */
static void test_matches_simulator_slm8(void **state)
{
    (void)state;
    double e8 = compare("slm8", NULL, 0, 8, 0, 0.03);
    double e16 = compare("slm8", NULL, 0, 16, 0, 0.004);
    assert_true(e16 < e8 / 2);
}

static void test_matches_simulator_slm8_r1(void **state)
{
    (void)state;
    const char *sets[] = {"rules.fourier_oversample=1"};
    compare("slm8", sets, 1, 16, 0, 0.004);
}

static void test_matches_simulator_complex(void **state)
{
    (void)state;
    const char *sets[] = {"fourier.registration=0", "input.registration=0"};
    compare("slm8-complex", sets, 2, 16, 0, 0.006);
}

/* L = Σ c·y through the surrogate of s (smooth form: continuous levels, no noise; clip
 * as given; phase errors of 0.1 rad drawn at a fixed tick).  Analytic gradients against
 * central differences for parameters of every kind in every layer and for the input. */
static void gradcheck(const char *profile, int clip, const char **sets, size_t nsets)
{
    const size_t n = 16, K = 2, rows = 3;
    acdc_model *m;
    assert_int_equal(acdc_model_alloc(&m, n, n, n, K, ACDC_A_BIAS | ACDC_D_BIAS | ACDC_PERM), 0);
    if (!strcmp(profile, "slm1080"))
        assert_int_equal(acdc_model_set_grid(m, ACDC_TRANSFORM_DCT2, 4, 4, 4, 4), 0);
    assert_int_equal(acdc_model_init_normal(m, 1, 0.4, 3), 0);
    assert_int_equal(acdc_model_init_perms(m, 4), 0);
    for (size_t l = 0; l < K; l++) {
        fill(m->layers[l].a_bias, n, 0.3 + (double)l);
        fill(m->layers[l].d_bias, n, 1.7 + (double)l);
    }
    acdc_compiler_system *s = compile(m, profile, sets, nsets);
    acdc_compiler_surrogate_opts o = acdc_compiler_surrogate_opts_default();
    o.quantise = 0;
    o.noise = 0;
    o.clip = clip;
    o.phase_error_rad = 0.1;
    acdc_compiler_surrogate *g;
    if (acdc_compiler_surrogate_alloc(&g, s, rows, &o))
        fail_msg("surrogate: %s", acdc_util_errmsg());
    acdc_work *w;
    assert_int_equal(acdc_work_alloc(&w, m, rows, 1, 1, FFTW_ESTIMATE), 0);
    acdc_work_set_op(w, acdc_compiler_surrogate_op(g));
    acdc_work_set_tick(w, 42);
    double x[3 * 16], c[3 * 16], y[3 * 16], dx[3 * 16];
    fill(x, rows * n, 0.77);
    fill(c, rows * n, 2.1);
    acdc_model *grad;
    assert_int_equal(acdc_model_alloc_like(&grad, m), 0);
    assert_int_equal(acdc_model_forward(m, w, rows, x, y), 0);
    assert_int_equal(acdc_model_backward(m, w, rows, c, grad, dx), 0);
    double scale = 0;
    for (size_t i = 0; i < rows * n; i++)
        scale = fmax(scale, fabs(y[i]));
#define LOSS(out)                                                                     \
    do {                                                                              \
        assert_int_equal(acdc_model_forward(m, w, rows, x, y), 0);                    \
        (out) = 0;                                                                    \
        for (size_t i_ = 0; i_ < rows * n; i_++)                                      \
            (out) += c[i_] * y[i_];                                                   \
    } while (0)
    /* The mask's largest value sits on two mirror samples, equal to rounding: a step
     * far below 1e-5 can cross their tie, where a double-phase pair at full amplitude
     * has a square-root kink; 3e-5 stays clear of it and agrees to ~1e-10. */
    const double h = 3e-5;
    size_t checked = 0;
    double worst = 0;
    for (size_t l = 0; l < K; l++) {
        double *pv[4] = {m->layers[l].a, m->layers[l].d, m->layers[l].a_bias,
                         m->layers[l].d_bias};
        double *gv[4] = {grad->layers[l].a, grad->layers[l].d, grad->layers[l].a_bias,
                         grad->layers[l].d_bias};
        for (int kind = 0; kind < 4; kind++)
            for (size_t i = 1; i < n; i += 5) {
                double keep = pv[kind][i], lp, lm;
                pv[kind][i] = keep + h;
                LOSS(lp);
                pv[kind][i] = keep - h;
                LOSS(lm);
                pv[kind][i] = keep;
                double fd = (lp - lm) / (2 * h), err = fabs(fd - gv[kind][i]);
                worst = fmax(worst, err / (fabs(fd) + scale));
                if (!(err <= 1e-6 * (fabs(fd) + scale)))
                    fail_msg("layer %zu, %s[%zu]: analytic %.9g, finite differences %.9g", l,
                             (const char *[]){"a", "d", "a_bias", "d_bias"}[kind], i,
                             gv[kind][i], fd);
                checked++;
            }
    }
    for (size_t i = 0; i < rows * n; i += 7) {
        double keep = x[i], lp, lm;
        x[i] = keep + h;
        LOSS(lp);
        x[i] = keep - h;
        LOSS(lm);
        x[i] = keep;
        double fd = (lp - lm) / (2 * h);
        if (!(fabs(fd - dx[i]) <= 1e-6 * (fabs(fd) + scale)))
            fail_msg("input %zu: analytic %.9g, finite differences %.9g", i, dx[i], fd);
        checked++;
    }
#undef LOSS
    print_message("%s%s%s, clip %d: %zu gradients, worst relative difference %.2e\n",
                  profile, nsets ? " " : "", nsets ? sets[0] : "", clip, checked, worst);
    acdc_model_free(grad);
    acdc_work_free(w);
    acdc_compiler_surrogate_free(g);
    acdc_compiler_system_free(s);
    acdc_model_free(m);
}

static void test_gradients(void **state)
{
    (void)state;
    gradcheck("slm8", 0, NULL, 0);
    gradcheck("slm8-complex", 0, NULL, 0);
    gradcheck("slm1080", 0, NULL, 0);
}

/* Fourier masks clipped at half their largest value (rules.fourier_clip): the clipped
 * values pass no gradient of their own, the scale c·max|W| does. */
static void test_gradients_fourier_clip(void **state)
{
    (void)state;
    const char *sets[] = {"rules.fourier_clip=0.5"};
    gradcheck("slm8", 0, sets, 1);
    gradcheck("slm1080", 0, sets, 1);
}

static void test_gradients_clip(void **state)
{
    (void)state;
    gradcheck("slm8", 1, NULL, 0);
}

/* Noise is drawn from (seed, tick, layer, row): the same tick gives bitwise the same
 * output on any thread count, another tick other noise, of the size the design expects. */
static void test_determinism_and_noise(void **state)
{
    (void)state;
    acdc_model *m = relu_model(64, 2, 64, 0.3);
    acdc_compiler_system *s = compile(m, "slm8", NULL, 0);
    acdc_data *d = data(40, 64);
    acdc_compiler_surrogate_opts o = acdc_compiler_surrogate_opts_default();
    double *a = through(s, m, d->x, 40, o, 7);
    o.threads = 2;
    double *b = through(s, m, d->x, 40, o, 7);
    assert_memory_equal(a, b, 40 * 64 * sizeof *a);
    double *c = through(s, m, d->x, 40, o, 8);
    o.noise = 0;
    o.phase_error_rad = 0;
    double *q = through(s, m, d->x, 40, o, 7);
    /* the two draws differ from the noise-free output by about as much as each other
     * (independent draws: their difference is sqrt(2) times either's) */
    const double e_a = rel_rms(a, q, 40 * 64), e_c = rel_rms(c, q, 40 * 64);
    double num = 0, den = 0;
    for (size_t i = 0; i < 40 * 64; i++) {
        num += (a[i] - c[i]) * (a[i] - c[i]);
        den += q[i] * q[i];
    }
    const double e_ac = sqrt(num / den);
    print_message("noise and phase errors: %.3e and %.3e from the noise-free output, %.3e "
                  "between the draws\n", e_a, e_c, e_ac);
    assert_true(e_a > 0 && e_c > 0);
    assert_true(e_ac > 0.5 * e_a && e_ac < 3 * e_a);
    free(a);
    free(b);
    free(c);
    free(q);
    acdc_data_free(d);
    acdc_compiler_system_free(s);
    acdc_model_free(m);
}

/* 2D: bitwise the same output on one and two threads (the kernels' sums run in a fixed
 * order), and gradients too. */
static void test_determinism_2d(void **state)
{
    (void)state;
    acdc_model *m = relu_model2(8, 2, 64, 0.3);
    acdc_compiler_system *s = compile(m, "slm1080", NULL, 0);
    acdc_data *d = data(20, 64);
    acdc_compiler_surrogate_opts o = acdc_compiler_surrogate_opts_default();
    double *y[2], *gd[2];
    for (int t = 0; t < 2; t++) {
        o.threads = t + 1;
        acdc_compiler_surrogate *g;
        assert_int_equal(acdc_compiler_surrogate_alloc(&g, s, 20, &o), 0);
        acdc_work *w;
        assert_int_equal(acdc_work_alloc(&w, m, 20, 1, 1, FFTW_ESTIMATE), 0);
        acdc_work_set_op(w, acdc_compiler_surrogate_op(g));
        acdc_work_set_tick(w, 5);
        y[t] = malloc(20 * 64 * sizeof *y[t]);
        assert_int_equal(acdc_model_forward(m, w, 20, d->x, y[t]), 0);
        acdc_model *grad;
        assert_int_equal(acdc_model_alloc_like(&grad, m), 0);
        assert_int_equal(acdc_model_backward(m, w, 20, y[t], grad, NULL), 0);
        gd[t] = malloc(64 * sizeof *gd[t]);
        memcpy(gd[t], grad->layers[0].d, 64 * sizeof *gd[t]);
        acdc_model_free(grad);
        acdc_work_free(w);
        acdc_compiler_surrogate_free(g);
    }
    assert_memory_equal(y[0], y[1], 20 * 64 * sizeof *y[0]);
    assert_memory_equal(gd[0], gd[1], 64 * sizeof *gd[0]);
    for (int t = 0; t < 2; t++) {
        free(y[t]);
        free(gd[t]);
    }
    acdc_data_free(d);
    acdc_compiler_system_free(s);
    acdc_model_free(m);
}

/* What the surrogate does not model is refused with a message, not approximated. */
static void test_refusals(void **state)
{
    (void)state;
    acdc_compiler_surrogate_opts o = acdc_compiler_surrogate_opts_default();
    acdc_compiler_surrogate *g = NULL;
    /* a point design chaining two layers optically */
    acdc_model *m = model(16, 3, 16);
    const char *point[] = {"rules.fourier_oversample=0"};
    acdc_compiler_system *s = compile(m, "slm8", point, 1);
    assert_int_equal(acdc_compiler_surrogate_alloc(&g, s, 4, &o), ACDC_UTIL_EUSAGE);
    assert_null(g);
    assert_non_null(strstr(acdc_util_errmsg(), "holds 2 layers"));
    acdc_compiler_system_free(s);
    acdc_model_free(m);
    /* a 2D point design */
    acdc_model *m2;
    assert_int_equal(acdc_model_alloc(&m2, 64, 64, 10, 2, ACDC_PERM | ACDC_RELU), 0);
    assert_int_equal(acdc_model_set_grid(m2, ACDC_TRANSFORM_DCT2, 8, 8, 8, 8), 0);
    s = compile(m2, "slm1080", point, 1);
    assert_int_equal(acdc_compiler_surrogate_alloc(&g, s, 4, &o), ACDC_UTIL_EUSAGE);
    assert_non_null(strstr(acdc_util_errmsg(), "2D"));
    acdc_compiler_system_free(s);
    acdc_model_free(m2);
    /* a model of another shape than the system's */
    m = relu_model(16, 2, 16, 0.3);
    s = compile(m, "slm8", NULL, 0);
    assert_int_equal(acdc_compiler_surrogate_alloc(&g, s, 4, &o), 0);
    acdc_model *other = relu_model(32, 2, 32, 0.3);
    acdc_work *w;
    assert_int_equal(acdc_work_alloc(&w, other, 4, 1, 1, FFTW_ESTIMATE), 0);
    acdc_work_set_op(w, acdc_compiler_surrogate_op(g));
    double x[4 * 32] = {0}, y[4 * 32];
    assert_int_equal(acdc_model_forward(other, w, 4, x, y), ACDC_UTIL_EUSAGE);
    acdc_work_free(w);
    acdc_model_free(other);
    acdc_compiler_surrogate_free(g);
    acdc_compiler_system_free(s);
    acdc_model_free(m);
}

/* With the profile's lens (a Fourier-transform objective with 0.02 waves of primary
 * spherical; the simulator runs it as Fresnel propagation and a thin lens with the
 * error): the surrogate's lens series against the light.  Measured with the six fitted
 * terms: 1.9e-2 at S = 8 and 8.2e-3 at S = 16 (R = 2; the Taylor series they replaced:
 * 2.1e-2 and 1.1e-2), and in the shipped model's geometry (R = 1, |x/R| and |ξ/R| up to
 * 1/2, where the Taylor series was 0.16 off at the corners) 1.8e-2 and 6.5e-3 (Taylor:
 * 3.6e-2 and 2.8e-2); ideal lenses give 1.3e-2 and 1.9e-3 and the numeric model is
 * 1.5e-1 from the light.  What remains is not the series: at S = 32 it is 6.9e-3 (R = 2)
 * and 5.5e-3 (R = 1) with six terms and 7.0e-3 and 6.5e-3 with eight (whose series is
 * 5.8e-5 rms off), against 8.5e-4 with ideal lenses; the likely part is the lens
 * plane's Fresnel blur of the error over sqrt(λf), which the surrogate neglects (not
 * measured apart; compiler/README.md, "The surrogate").  The outputs are deterministic
 * (no noise, fixed data), so the tolerances are 1.3 to 1.5 times the values measured,
 * down from twice the Taylor series' values: the series' slack is gone, and R = 1 at
 * S = 16 (0.01) fails with the Taylor series. */
static void test_matches_simulator_lens(void **state)
{
    (void)state;
    const char *r1[] = {"rules.fourier_oversample=1"};
    compare("slm8", NULL, 0, 8, 1, 0.025);
    compare("slm8", NULL, 0, 16, 1, 0.012);
    compare("slm8", r1, 1, 8, 1, 0.025);
    compare("slm8", r1, 1, 16, 1, 0.01);
}

/* The lens series against the factor it stands for, e^{2πi W(ξ + x)} at every Fourier
 * pixel ξ and every input pixel and camera sample x (acdc_compiler_surrogate_lens_error()).
 * Measured with six fitted terms on slm8's objective: in the shipped model's geometry
 * (n = 784, R = 1: |x/R|, |ξ/R| <= 1/2) 9.9e-4 rms and 1.02e-2 at worst (the corners),
 * where the Taylor series at x = 0 was 1.5e-2 and 0.16; in the test system (n = 64,
 * R = 2) 1.75e-4 and 2.0e-3 (Taylor: 2.5e-3 and 3.3e-2).  numpy's lstsq over the same
 * points gives the same values to 3 digits.  Deterministic: the bounds are 1.5 times
 * the values measured, a tenth of the Taylor series'.  Ideal lenses and 2D systems
 * have one term and no error. */
static void test_lens_series(void **state)
{
    (void)state;
    static const struct {
        size_t n;
        int r1;
        double rms, max;
    } cases[] = {{784, 1, 1.5e-3, 1.5e-2}, {64, 0, 2.6e-4, 3e-3}};
    const char *r1[] = {"rules.fourier_oversample=1"};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        acdc_model *m = relu_model(cases[i].n, 1, cases[i].n, 0.3);
        acdc_compiler_system *s = compile(m, "slm8", r1, cases[i].r1 ? 1 : 0);
        acdc_compiler_surrogate_opts o = acdc_compiler_surrogate_opts_default();
        acdc_compiler_surrogate *g;
        if (acdc_compiler_surrogate_alloc(&g, s, 1, &o))
            fail_msg("surrogate: %s", acdc_util_errmsg());
        double rms = -1, max = -1;
        acdc_compiler_surrogate_lens_error(g, &rms, &max);
        print_message("slm8, n = %zu, R = %d: %d lens terms, %.3e rms, %.3e at worst\n",
                      cases[i].n, cases[i].r1 ? 1 : 2, acdc_compiler_surrogate_lens_terms(g), rms,
                      max);
        assert_int_equal(acdc_compiler_surrogate_lens_terms(g), 6);
        if (!(rms > 0 && rms <= cases[i].rms && max >= rms && max <= cases[i].max))
            fail_msg("n = %zu: the lens series is %.3g rms and %.3g at worst from the "
                     "lens factor (bounds %.3g, %.3g)", cases[i].n, rms, max, cases[i].rms,
                     cases[i].max);
        acdc_compiler_surrogate_free(g);
        o.lens = 0;
        assert_int_equal(acdc_compiler_surrogate_alloc(&g, s, 1, &o), 0);
        acdc_compiler_surrogate_lens_error(g, &rms, NULL);
        assert_int_equal(acdc_compiler_surrogate_lens_terms(g), 1);
        assert_true(rms == 0);
        acdc_compiler_surrogate_free(g);
        acdc_compiler_system_free(s);
        acdc_model_free(m);
    }
    acdc_model *m2 = relu_model2(8, 1, 64, 0.3);
    acdc_compiler_system *s2 = compile(m2, "slm1080", NULL, 0);
    acdc_compiler_surrogate_opts o = acdc_compiler_surrogate_opts_default();
    acdc_compiler_surrogate *g;
    assert_int_equal(acdc_compiler_surrogate_alloc(&g, s2, 1, &o), 0);
    double rms = -1, max = -1;
    acdc_compiler_surrogate_lens_error(g, &rms, &max);
    assert_int_equal(acdc_compiler_surrogate_lens_terms(g), 1);
    assert_true(rms == 0 && max == 0);
    acdc_compiler_surrogate_free(g);
    acdc_compiler_system_free(s2);
    acdc_model_free(m2);
}

/* The rank-2 design is separable: D d Dᵀ with D one axis's matrix. */
static void test_design_separable(void **state)
{
    (void)state;
    acdc_compiler_profile p;
    assert_int_equal(acdc_compiler_profile_builtin("slm1080", &p), 0);
    assert_int_equal(acdc_compiler_profile_set(&p, "rules.fourier_oversample=2"), 0);
    const size_t side = 8, F = acdc_compiler_fourier_samples(&p, 2 * side);
    double d[64], W[64 * 64], D[32 * 8], t[32 * 8];
    fill(d, 64, 0.3);
    assert_int_equal(F, 32);
    for (int first = 0; first < 2; first++) {
        assert_int_equal(acdc_compiler_fourier_design_k(&p, 2, 4, d, side, first, 1, W), 0);
        assert_int_equal(acdc_compiler_fourier_design_axis(&p, 4, side, first, 1, D), 0);
        double worst = 0, top = 0;
        for (size_t q = 0; q < F; q++)          /* t = D d (F x side) */
            for (size_t j = 0; j < side; j++) {
                t[q * side + j] = 0;
                for (size_t i = 0; i < side; i++)
                    t[q * side + j] += D[q * side + i] * d[i * side + j];
            }
        for (size_t qy = 0; qy < F; qy++)
            for (size_t qx = 0; qx < F; qx++) {
                double v = 0;
                for (size_t j = 0; j < side; j++)
                    v += t[qy * side + j] * D[qx * side + j];
                worst = fmax(worst, fabs(v - W[qy * F + qx]));
                top = fmax(top, fabs(W[qy * F + qx]));
            }
        if (!(worst <= 1e-12 * top))
            fail_msg("first %d: D d Dᵀ differs from the 2D design by %.3g (max %.3g)", first,
                     worst, top);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_simulator_slm8),
        cmocka_unit_test(test_matches_simulator_slm8_r1),
        cmocka_unit_test(test_matches_simulator_complex),
        cmocka_unit_test(test_matches_simulator_lens),
        cmocka_unit_test(test_lens_series),
        cmocka_unit_test(test_matches_simulator_2d),
        cmocka_unit_test(test_gradients),
        cmocka_unit_test(test_gradients_clip),
        cmocka_unit_test(test_gradients_fourier_clip),
        cmocka_unit_test(test_matches_simulator_fourier_clip),
        cmocka_unit_test(test_phase_errors_match_simulator),
        cmocka_unit_test(test_determinism_and_noise),
        cmocka_unit_test(test_determinism_2d),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_design_separable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
