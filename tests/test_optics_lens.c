/* SPDX-License-Identifier: GPL-3.0-or-later */
/* tests/test_optics_lens.c -- lens models: the paraxial and corrected phases, the
 * Zernike (rank 2) and Legendre (rank 1) wavefront error, its rms, defocus as a change of
 * focal length, the Strehl ratio of a focused aberrated beam against the Marechal
 * approximation, and exact propagation through a corrected lens against the Fresnel
 * model of a paraxial one. */
#include "tests/testutil.h"

#include "optics/element.h"
#include "optics/field.h"
#include "optics/lens.h"
#include "optics/propagate.h"
#include "util/error.h"

#include <complex.h>

static const double LAMBDA = 632.8e-9;

static acdc_optics_lens lens_of(enum acdc_optics_lens_model model, double focal_m,
                                double aperture_m)
{
    acdc_optics_lens l = {.name = "test lens", .model = model, .focal_m = focal_m,
                          .aperture_m = aperture_m};
    return l;
}

/* The lens sampled at the sample centres of g (oversample 1), inside a stop of diameter
 * stop_m (0: none): a new array the caller frees. */
static double complex *sampled(const acdc_optics_lens *l, const acdc_optics_grid *g, double stop_m)
{
    acdc_optics_element *e;
    double complex *t = malloc(acdc_optics_grid_size(g) * sizeof *t);
    assert_non_null(t);
    if (acdc_optics_lens_element_alloc(&e, l, stop_m))
        fail_msg("lens element: %s", acdc_util_errmsg());
    assert_int_equal(acdc_optics_element_sample(e, g, 1, t), 0);
    acdc_optics_element_free(e);
    return t;
}

/* A zeroed field of m samples at pitch dx on a rank-1 grid (caller frees). */
static acdc_optics_field *line_field(size_t m, double dx)
{
    acdc_optics_grid g;
    acdc_optics_field *fl;
    assert_int_equal(acdc_optics_grid_init(&g, 1, m, 1, dx, LAMBDA), 0);
    assert_int_equal(acdc_optics_field_alloc(&fl, &g, 1), 0);
    return fl;
}

static void test_model_names(void **state)
{
    (void)state;
    enum acdc_optics_lens_model m;
    for (int i = ACDC_OPTICS_LENS_FOURIER; i <= ACDC_OPTICS_LENS_CORRECTED; i++) {
        assert_int_equal(acdc_optics_lens_model_parse(acdc_optics_lens_model_name(i), &m), 0);
        assert_int_equal(m, i);
    }
    assert_string_equal(acdc_optics_lens_model_name(ACDC_OPTICS_LENS_CORRECTED), "corrected");
    assert_string_equal(acdc_optics_lens_model_name((enum acdc_optics_lens_model)7), "?");
    assert_int_equal(acdc_optics_lens_model_parse("Paraxial", &m), ACDC_UTIL_EUSAGE);
    assert_non_null(strstr(acdc_util_errmsg(), "'Paraxial' is not fourier, paraxial or corrected"));
    assert_int_equal(acdc_optics_lens_model_parse(NULL, &m), ACDC_UTIL_EUSAGE);
}

/* The paraxial model is the thin lens, bit for bit, and both are the closed form
 * exp(-i k r^2 / (2 f)) evaluated as the thin lens always was. */
static void test_paraxial_is_thin_lens(void **state)
{
    (void)state;
    const double f = 0.1385, dx = 3.74e-6, k = 2 * M_PI / LAMBDA;
    for (int rank = 1; rank <= 2; rank++) {
        acdc_optics_grid g;
        const size_t m = rank == 1 ? 3001 : 96;
        assert_int_equal(acdc_optics_grid_init(&g, rank, m, rank == 1 ? 1 : m, dx, LAMBDA), 0);
        const acdc_optics_lens l = lens_of(ACDC_OPTICS_LENS_PARAXIAL, f, 0);
        double complex *a = sampled(&l, &g, 0), *b = malloc(m * g.ny * sizeof *b);
        acdc_optics_element *thin;
        assert_int_equal(acdc_optics_thin_lens_alloc(&thin, f, 0), 0);
        assert_int_equal(acdc_optics_element_sample(thin, &g, 1, b), 0);
        assert_memory_equal(a, b, m * g.ny * sizeof *a);
        for (size_t iy = 0; iy < g.ny; iy++)
            for (size_t ix = 0; ix < m; ix++) {
                const double x = acdc_optics_coord_m(ix, m, dx),
                             y = rank == 2 ? acdc_optics_coord_m(iy, m, dx) : 0;
                const double ph = -k * (x * x + y * y) / (2 * f);
                const double complex want = cos(ph) + I * sin(ph);
                assert_true(a[iy * m + ix] == want);   /* -0 and +0 alike */
            }
        acdc_optics_element_free(thin);
        free(a);
        free(b);
    }
}

/* The corrected phase: -k (sqrt(r^2 + f^2) - f), checked in long double where the
 * difference is not cancelled away; it exceeds the paraxial phase's magnitude by
 * k r^4 / (8 f^3) to leading order, and a negative f diverges. */
static void test_corrected_phase(void **state)
{
    (void)state;
    const double f = 0.05, k = 2 * M_PI / LAMBDA;
    acdc_optics_lens l = lens_of(ACDC_OPTICS_LENS_CORRECTED, f, 0);
    acdc_optics_lens d = lens_of(ACDC_OPTICS_LENS_CORRECTED, -f, 0);
    double worst = 0;
    for (double r = 1e-6; r < 5e-3; r *= 1.37) {
        const long double rl = r, fl = f, kl = k;
        const long double want = -kl * (sqrtl(rl * rl + fl * fl) - fl);
        const double complex t = acdc_optics_lens_transmittance(&l, 1, k, r, 0);
        const double complex tw = cos((double)want) + I * sin((double)want);
        worst = fmax(worst, cabs(t - tw));
        /* diverging: the conjugate phase */
        assert_true(cabs(acdc_optics_lens_transmittance(&d, 1, k, r, 0) - conj(t)) < 1e-12);
        /* rank 2 depends on r only */
        assert_true(cabs(acdc_optics_lens_transmittance(&l, 2, k, r * 0.6, r * 0.8) - t) < 1e-9);
    }
    print_message("# corrected phase against long double: max |dt| = %.2g (tol 1e-11)\n",
                  worst);
    assert_true(worst < 1e-11);
    /* the excess over the paraxial phase at r = 2 mm is k r^4 / (8 f^3), to O(r^6) */
    const double r = 2e-3;
    acdc_optics_lens p = lens_of(ACDC_OPTICS_LENS_PARAXIAL, f, 0);
    const double excess = carg(acdc_optics_lens_transmittance(&l, 1, k, r, 0) /
                               acdc_optics_lens_transmittance(&p, 1, k, r, 0));
    const double want = k * pow(r, 4) / (8 * pow(f, 3)), next = k * pow(r, 6) / (16 * pow(f, 5));
    print_message("# corrected - paraxial phase at r = 2 mm, f = 50 mm: %.6f rad, k r^4/(8 "
                  "f^3) = %.6f (tol k r^6/(16 f^5) = %.2g)\n", excess, want, next);
    assert_close(excess, want, next);
}

/* The closed-form rms: sqrt of the sum of squares of the realised coefficients (piston
 * out), wavefront_rms added to Noll 11; rank 1 sums the terms of each radial degree and
 * drops the sine terms, which vanish on the x axis. */
static void test_rms_closed_form(void **state)
{
    (void)state;
    acdc_optics_lens l = lens_of(ACDC_OPTICS_LENS_CORRECTED, 0.2, 0.01);
    l.zernike[0] = 0.3;    /* piston: not an error */
    l.zernike[3] = 0.02;   /* defocus */
    l.zernike[5] = -0.015; /* astigmatism 0 deg */
    l.zernike[6] = 0.011;  /* coma y: absent in rank 1 */
    l.zernike[7] = 0.013;  /* coma x */
    l.zernike[10] = 0.01;
    l.wavefront_rms = 0.025;
    double c[ACDC_OPTICS_ZERNIKE_TERMS];
    acdc_optics_lens_coefficients(&l, c);
    assert_close(c[10], 0.035, 1e-15);
    const double rms2 = sqrt(0.02 * 0.02 + 0.015 * 0.015 + 0.011 * 0.011 + 0.013 * 0.013 +
                             0.035 * 0.035);
    const double rms1 = sqrt(0.005 * 0.005 + 0.013 * 0.013 + 0.035 * 0.035);
    assert_close(acdc_optics_lens_wavefront_rms(&l, 2), rms2, 1e-15);
    assert_close(acdc_optics_lens_wavefront_rms(&l, 1), rms1, 1e-15);
    assert_int_equal(acdc_optics_lens_has_error(&l), 1);
    /* pointwise: coma x (Noll 8) in rank 2, primary spherical as L_4 in rank 1, and the
     * sine terms absent in rank 1 */
    acdc_optics_lens one = lens_of(ACDC_OPTICS_LENS_CORRECTED, 0.2, 0.01);
    const double X = 0.37, Y = -0.52, R = 0.005, r2 = X * X + Y * Y;
    one.zernike[7] = 0.3;
    assert_close(acdc_optics_lens_wavefront(&one, 2, X * R, Y * R),
                 0.3 * sqrt(8.0) * (3 * r2 - 2) * X, 1e-15);
    one.zernike[7] = 0;
    one.zernike[10] = -0.2;
    assert_close(acdc_optics_lens_wavefront(&one, 1, X * R, 0),
                 -0.2 * 3 * (35 * pow(X, 4) - 30 * X * X + 3) / 8, 1e-15);
    assert_close(acdc_optics_lens_wavefront(&one, 2, X * R, Y * R),
                 -0.2 * sqrt(5.0) * (6 * r2 * r2 - 6 * r2 + 1), 1e-15);
    one.zernike[10] = 0;
    one.zernike[2] = one.zernike[4] = one.zernike[6] = one.zernike[8] = 0.1;
    assert_close(acdc_optics_lens_wavefront(&one, 1, X * R, 0), 0, 0);
    assert_close(acdc_optics_lens_wavefront_rms(&one, 1), 0, 0);
    acdc_optics_lens z = lens_of(ACDC_OPTICS_LENS_CORRECTED, 0.2, 0);
    assert_int_equal(acdc_optics_lens_has_error(&z), 0);
    assert_close(acdc_optics_lens_wavefront(&z, 2, 1e-3, 2e-3), 0, 0);
}

/* The rms of the wavefront sampled from the transmittance (arg(t / t_perfect) / 2 pi,
 * mean removed, over the samples inside the clear aperture) is the rms asked for.  Rank 1:
 * the midpoint rule over 2000 samples across the slit, error O(h^2); rank 2: a disc of
 * radius 300 samples, whose staircase edge is the error (O(1 / radius)). */
static void test_rms_sampled(void **state)
{
    (void)state;
    const double dx = 5e-6;
    for (int rank = 1; rank <= 2; rank++) {
        const size_t m = rank == 1 ? 2400 : 640;
        /* R on a cell boundary: the cells of the samples inside tile the aperture */
        const double aperture = (rank == 1 ? 2001 : 601) * dx;
        acdc_optics_grid g;
        assert_int_equal(acdc_optics_grid_init(&g, rank, m, rank == 1 ? 1 : m, dx, LAMBDA), 0);
        acdc_optics_lens l = lens_of(ACDC_OPTICS_LENS_CORRECTED, 0.08, aperture), p = l;
        l.zernike[1] = 0.012;   /* tilt x */
        l.zernike[2] = -0.009;  /* tilt y */
        l.zernike[3] = 0.021;
        l.zernike[4] = 0.008;
        l.zernike[5] = -0.013;
        l.zernike[7] = 0.017;
        l.zernike[8] = 0.006;
        l.zernike[9] = -0.011;
        l.wavefront_rms = 0.03;
        double complex *t = sampled(&l, &g, 0), *t0 = sampled(&p, &g, 0);
        double s = 0, s2 = 0, n = 0;
        for (size_t iy = 0; iy < g.ny; iy++)
            for (size_t ix = 0; ix < m; ix++) {
                const double x = acdc_optics_coord_m(ix, m, dx),
                             y = rank == 2 ? acdc_optics_coord_m(iy, m, dx) : 0;
                if (4 * (x * x + y * y) > aperture * aperture)
                    continue;
                const double w = carg(t[iy * m + ix] / t0[iy * m + ix]) / (2 * M_PI);
                s += w;
                s2 += w * w;
                n++;
            }
        const double rms = sqrt(s2 / n - (s / n) * (s / n)),
                     want = acdc_optics_lens_wavefront_rms(&l, rank);
        const double tol = rank == 1 ? 1e-4 : 1e-2;
        print_message("# rank %d: sampled wavefront rms %.6f waves, asked %.6f (rel. diff "
                      "%.2g, tol %g)\n", rank, rms, want, fabs(rms / want - 1), tol);
        assert_true(fabs(rms / want - 1) <= tol);
        free(t);
        free(t0);
    }
}

/* Defocus is a change of focal length: Noll 4 with coefficient c on a paraxial lens of
 * focal length f is the paraxial lens of 1/f' = 1/f - 4 sqrt3 lambda c / R^2 times the
 * constant exp(-i 2 pi sqrt3 c) (rank 2, Z4 = sqrt3 (2 rho^2 - 1)); rank 1 realises it as
 * L_2 = sqrt5 (3 X^2 - 1) / 2: 1/f' = 1/f - 3 sqrt5 lambda c / R^2, constant
 * exp(-i pi sqrt5 c). */
static void test_defocus_is_focal_length(void **state)
{
    (void)state;
    const double dx = 4e-6, f = 0.12, c = 0.37;
    for (int rank = 1; rank <= 2; rank++) {
        const size_t m = rank == 1 ? 4001 : 201;
        const double aperture = 0.6 * (double)m * dx, R = aperture / 2;
        acdc_optics_grid g;
        assert_int_equal(acdc_optics_grid_init(&g, rank, m, rank == 1 ? 1 : m, dx, LAMBDA), 0);
        acdc_optics_lens d = lens_of(ACDC_OPTICS_LENS_PARAXIAL, f, aperture);
        d.zernike[3] = c;
        const double inv = rank == 2 ? 1 / f - 4 * sqrt(3.0) * LAMBDA * c / (R * R)
                                     : 1 / f - 3 * sqrt(5.0) * LAMBDA * c / (R * R);
        const double complex k0 = rank == 2 ? cexp(-2 * M_PI * I * sqrt(3.0) * c)
                                            : cexp(-M_PI * I * sqrt(5.0) * c);
        acdc_optics_lens q = lens_of(ACDC_OPTICS_LENS_PARAXIAL, 1 / inv, aperture);
        double complex *a = sampled(&d, &g, 0), *b = sampled(&q, &g, 0);
        double err = 0;
        for (size_t i = 0; i < acdc_optics_grid_size(&g); i++)
            err = fmax(err, cabs(a[i] - k0 * b[i]));
        print_message("# rank %d: Z4 = %.2f waves on f = %.0f mm is f' = %.3f mm: max |dt| "
                      "%.2g (tol 1e-9)\n", rank, c, 1e3 * f, 1e3 / inv, err);
        assert_true(err <= 1e-9);
        free(a);
        free(b);
    }
}

/* The on-axis intensity in the focal plane of a uniformly lit clear aperture, lens l
 * (corrected) propagated over f by the band-limited angular spectrum; and the variance
 * s^2 and kurtosis beta of the phase 2 pi W over the samples of the aperture. */
static double focus_on_axis(const acdc_optics_lens *l, const acdc_optics_grid *g, double *s2,
                            double *beta)
{
    acdc_optics_field *fl;
    acdc_optics_prop *pr;
    assert_int_equal(acdc_optics_field_alloc(&fl, g, 1), 0);
    double m1 = 0, m2 = 0, m4 = 0, n = 0;
    for (size_t iy = 0; iy < g->ny; iy++)
        for (size_t ix = 0; ix < g->nx; ix++) {
            const double x = acdc_optics_coord_m(ix, g->nx, g->pitch_m),
                         y = g->rank == 2 ? acdc_optics_coord_m(iy, g->ny, g->pitch_m) : 0;
            fl->data[iy * g->nx + ix] = 1;
            if (4 * (x * x + y * y) <= l->aperture_m * l->aperture_m) {
                const double ph = 2 * M_PI * acdc_optics_lens_wavefront(l, g->rank, x, y);
                m1 += ph;
                n++;
            }
        }
    m1 /= n;
    for (size_t iy = 0; iy < g->ny; iy++)
        for (size_t ix = 0; ix < g->nx; ix++) {
            const double x = acdc_optics_coord_m(ix, g->nx, g->pitch_m),
                         y = g->rank == 2 ? acdc_optics_coord_m(iy, g->ny, g->pitch_m) : 0;
            if (4 * (x * x + y * y) <= l->aperture_m * l->aperture_m) {
                const double d = 2 * M_PI * acdc_optics_lens_wavefront(l, g->rank, x, y) - m1;
                m2 += d * d / n;
                m4 += d * d * d * d / n;
            }
        }
    *s2 = m2;
    *beta = m2 > 0 ? m4 / (m2 * m2) : 0;
    double complex *t = sampled(l, g, l->aperture_m);
    assert_int_equal(acdc_optics_field_multiply(fl, t), 0);
    assert_int_equal(acdc_optics_prop_alloc(&pr, g, l->focal_m, ACDC_OPTICS_ASM_BL), 0);
    assert_int_equal(acdc_optics_prop_apply(pr, fl, fl), 0);
    const size_t c = acdc_optics_axis_index(g->ny) * g->nx + acdc_optics_axis_index(g->nx);
    const double I0 = cabs(fl->data[c]) * cabs(fl->data[c]);
    acdc_optics_prop_free(pr);
    acdc_optics_field_free(fl);
    free(t);
    return I0;
}

/* The Strehl ratio of a focused beam with a small wavefront error, measured by exact
 * propagation through the corrected lens, against the Marechal approximation
 * exp(-s^2), s = 2 pi sigma.  The exact on-axis Strehl ratio |<exp(i phi)>|^2 expands as
 * 1 - s^2 + s^4/4 + <phi^4>/12 + O(s^6), so it differs from Marechal's by s^4 (beta / 12
 * - 1/4) + O(s^6), beta = <phi^4> / s^4 the kurtosis of the phase over the aperture (3
 * for a Gaussian, for which the two agree to that order): the tolerance is that term
 * measured, plus s^6 for the next order, plus 2e-4 for the discretisation of the
 * aperture and the non-paraxial focusing (NA 0.05). */
static void test_strehl_marechal(void **state)
{
    (void)state;
    static const double sigmas[] = {0.02, 0.035, 0.05, 0.07};
    for (int rank = 1; rank <= 2; rank++) {
        const size_t m = rank == 1 ? 4096 : 512;
        const double dx = rank == 1 ? 2e-6 : 4e-6;
        const double aperture = (double)m * dx / 2, f = aperture / (2 * 0.05);
        acdc_optics_grid g;
        assert_int_equal(acdc_optics_grid_init(&g, rank, m, rank == 1 ? 1 : m, dx, LAMBDA), 0);
        acdc_optics_lens perfect = lens_of(ACDC_OPTICS_LENS_CORRECTED, f, aperture);
        double s2, beta;
        const double I0 = focus_on_axis(&perfect, &g, &s2, &beta);
        for (int mix = 0; mix < 2; mix++)
            for (size_t i = 0; i < sizeof sigmas / sizeof *sigmas; i++) {
                acdc_optics_lens l = perfect;
                if (mix) {   /* defocus, astigmatism, coma, spherical in equal parts */
                    const double a = sigmas[i] / 2;
                    l.zernike[3] = a;
                    l.zernike[5] = rank == 1 ? 0 : a;
                    l.zernike[7] = a;
                    l.zernike[10] = rank == 1 ? a * sqrt(2.0) : a;
                } else {
                    l.wavefront_rms = sigmas[i];   /* primary spherical alone */
                }
                const double sigma = acdc_optics_lens_wavefront_rms(&l, rank);
                assert_close(sigma, sigmas[i], 1e-15);
                const double S = focus_on_axis(&l, &g, &s2, &beta) / I0, s = 2 * M_PI * sigma;
                const double M = acdc_optics_marechal_strehl(sigma);
                const double tol = pow(s, 4) * fabs(beta / 12 - 0.25) + pow(s, 6) + 2e-4;
                print_message("# rank %d %s sigma %.3f waves: Strehl %.4f, Marechal %.4f "
                              "(diff %+.2g; kurtosis %.2f, tol %.2g)\n", rank,
                              mix ? "Z4+Z6+Z8+Z11" : "Z11", sigma, S, M, S - M, beta, tol);
                assert_true(fabs(S - M) <= tol);
                /* the sampled aperture's phase has the rms asked for */
                assert_true(fabs(sqrt(s2) / s - 1) < 1e-2);
            }
    }
    /* the inverse: the rms for Strehl 0.8 */
    assert_close(acdc_optics_marechal_rms(0.8), 0.075182, 1e-6);
    assert_close(acdc_optics_marechal_strehl(acdc_optics_marechal_rms(0.37)), 0.37, 1e-15);
}

/* The focal line of a collimated beam through a lens, over f: Fresnel transfer
 * function with the paraxial lens (the Fourier transform of the pupil), or the
 * band-limited angular spectrum with lens l.  Pupil: |x| < NA f with a raised-cosine
 * edge over a tenth of it (no ringing to the window's edge); the field within 40 spot
 * widths lambda / (2 NA) of the axis is returned in a new array of *n values. */
static double complex *focal_line(double na, double dx, size_t m, enum acdc_optics_method method,
                                  enum acdc_optics_lens_model model, size_t *n)
{
    const double f = (double)m * dx * dx / LAMBDA, a = na * f;   /* f: critical sampling */
    acdc_optics_field *fl = line_field(m, dx);
    const acdc_optics_grid g = fl->g;
    acdc_optics_prop *pr;
    for (size_t j = 0; j < m; j++) {
        const double edge = fmin(fmax((a - fabs(acdc_optics_coord_m(j, m, dx))) / (0.1 * a), 0), 1);
        fl->data[j] = pow(sin(M_PI / 2 * edge), 2);
    }
    const acdc_optics_lens l = lens_of(model, f, 2 * a);
    double complex *t = sampled(&l, &g, 0);
    assert_int_equal(acdc_optics_field_multiply(fl, t), 0);
    assert_int_equal(acdc_optics_prop_alloc(&pr, &g, f, method), 0);
    assert_int_equal(acdc_optics_prop_apply(pr, fl, fl), 0);
    const size_t half = (size_t)(40 * LAMBDA / (2 * na) / dx);
    double complex *out = malloc((2 * half + 1) * sizeof *out);
    assert_non_null(out);
    memcpy(out, fl->data + m / 2 - half, (2 * half + 1) * sizeof *out);
    *n = 2 * half + 1;
    acdc_optics_prop_free(pr);
    acdc_optics_field_free(fl);
    free(t);
    return out;
}

static double rel_diff(const double complex *a, const double complex *b, size_t n)
{
    double e = 0, s = 0;
    for (size_t i = 0; i < n; i++) {
        e += pow(cabs(a[i] - b[i]), 2);
        s += pow(cabs(b[i]), 2);
    }
    return sqrt(e / s);
}

/* Exact propagation through the corrected lens agrees with the Fresnel model of the
 * paraxial lens (the Fourier transform of the pupil) to within the non-paraxial error of
 * focusing at that NA, bounded here by 2 NA^2: the paraxial model's first neglected
 * terms are relative O(NA^2) -- sin and tan of the marginal ray's angle differ from it by
 * NA^2/6 and NA^2/3, the converging cylindrical wave's amplitude falls as 1/sqrt(R) with
 * R = f (1 + NA^2/2), the Debye phase of a point at u is off by pi NA^2 (u NA / lambda).
 * At the slm8 design's NA (0.042, lambda / (2 x 7.48 um)) and at NA 0.25.  Exact
 * propagation through the paraxial lens does not: its spherical aberration k r^4 /
 * (8 f^3), 4.99 waves at the rim at NA 0.25, is far outside the bound. */
static void test_corrected_matches_fresnel(void **state)
{
    (void)state;
    const struct { double na, dx; } cases[] = {{0.042, 2e-6}, {0.25, 0.5e-6}};
    const size_t m = 1 << 14;
    for (size_t i = 0; i < 2; i++) {
        size_t n;
        double complex *ref = focal_line(cases[i].na, cases[i].dx, m, ACDC_OPTICS_FRESNEL_TF,
                                         ACDC_OPTICS_LENS_PARAXIAL, &n);
        double complex *cor = focal_line(cases[i].na, cases[i].dx, m, ACDC_OPTICS_ASM_BL,
                                         ACDC_OPTICS_LENS_CORRECTED, &n);
        double complex *par = focal_line(cases[i].na, cases[i].dx, m, ACDC_OPTICS_ASM_BL,
                                         ACDC_OPTICS_LENS_PARAXIAL, &n);
        const double bound = 2 * cases[i].na * cases[i].na;
        const double ec = rel_diff(cor, ref, n), ep = rel_diff(par, ref, n);
        print_message("# NA %.3f: asm + corrected vs fresnel + paraxial %.3g, asm + "
                      "paraxial %.3g (bound 2 NA^2 = %.3g)\n", cases[i].na, ec, ep, bound);
        assert_true(ec <= bound);
        if (cases[i].na > 0.2)
            assert_true(ep > 4 * bound);
        free(ref);
        free(cor);
        free(par);
    }
}

static double centroid(const acdc_optics_field *f)
{
    double s = 0, sx = 0;
    for (size_t j = 0; j < f->g.nx; j++) {
        const double i = pow(cabs(f->data[j]), 2);
        s += i;
        sx += i * acdc_optics_coord_m(j, f->g.nx, f->g.pitch_m);
    }
    return sx / s;
}

/* The clear aperture of a Fourier lens: a beam from x0 travelling to the output point u
 * = f theta crosses the lens at x0 + u (propagated: the centroid of a tilted Gaussian in
 * the lens plane and in the back focal plane, exact propagation, corrected lens), so the
 * lens spans the input's width plus the output's; a round lens (rank 2) their diagonals. */
static void test_fourier_lens_aperture(void **state)
{
    (void)state;
    assert_close(acdc_optics_fourier_lens_aperture(1, 11.73e-3, 11.73e-3), 23.46e-3, 1e-15);
    assert_close(acdc_optics_fourier_lens_aperture(2, 3e-3, 1e-3), 4e-3 * M_SQRT2, 1e-15);
    const size_t m = 8192;
    const double dx = 2e-6, f = 0.05, x0 = -2e-3, u = 3e-3, w0 = 100e-6;
    acdc_optics_field *fl = line_field(m, dx);
    const acdc_optics_grid g = fl->g;
    acdc_optics_prop *pr;
    for (size_t j = 0; j < m; j++) {
        const double x = acdc_optics_coord_m(j, m, dx);
        /* sin theta = u / f: the angle the corrected lens maps onto u */
        fl->data[j] = exp(-pow((x - x0) / w0, 2)) * cexp(2 * M_PI * I * (u / f) * x / LAMBDA);
    }
    assert_int_equal(acdc_optics_prop_alloc(&pr, &g, f, ACDC_OPTICS_ASM_BL), 0);
    assert_int_equal(acdc_optics_prop_apply(pr, fl, fl), 0);
    const double at_lens = centroid(fl), want = x0 + f * tan(asin(u / f));
    const acdc_optics_lens l = lens_of(ACDC_OPTICS_LENS_CORRECTED, f, 0);
    double complex *t = sampled(&l, &g, 0);
    assert_int_equal(acdc_optics_field_multiply(fl, t), 0);
    assert_int_equal(acdc_optics_prop_apply(pr, fl, fl), 0);
    const double at_focus = centroid(fl);
    print_message("# beam from x0 = %.1f mm to u = %.1f mm: crosses the lens at %.4f mm (x0 + "
                  "f tan theta = %.4f mm), arrives at %.4f mm\n", 1e3 * x0, 1e3 * u,
                  1e3 * at_lens, 1e3 * want, 1e3 * at_focus);
    assert_close(at_lens, want, 0.01 * w0);
    assert_close(at_lens, x0 + u, 0.01 * fabs(x0 + u) + 0.05 * w0);   /* paraxially x0 + u */
    assert_close(at_focus, u, 0.05 * w0);
    acdc_optics_prop_free(pr);
    acdc_optics_field_free(fl);
    free(t);
}

/* Every error path of acdc_optics_lens_check() and acdc_optics_lens_element_alloc(). */
static void test_errors(void **state)
{
    (void)state;
    acdc_optics_element *e;
    acdc_optics_lens l = lens_of(ACDC_OPTICS_LENS_CORRECTED, 0.1, 0.01);
    assert_int_equal(acdc_optics_lens_element_alloc(&e, &l, 0), 0);
    acdc_optics_element_free(e);
    assert_int_equal(acdc_optics_lens_check(NULL), ACDC_UTIL_EUSAGE);
    acdc_optics_lens b = l;
    b.model = ACDC_OPTICS_LENS_FOURIER;
    assert_int_equal(acdc_optics_lens_element_alloc(&e, &b, 0), ACDC_UTIL_EUSAGE);
    assert_null(e);   /* set to NULL on failure, though it held the freed element */
    assert_non_null(strstr(acdc_util_errmsg(), "model fourier has no transmittance"));
    b = l;
    b.focal_m = 0;
    assert_int_equal(acdc_optics_lens_check(&b), ACDC_UTIL_EUSAGE);
    b.focal_m = INFINITY;
    assert_int_equal(acdc_optics_lens_check(&b), ACDC_UTIL_EUSAGE);
    b = l;
    b.aperture_m = -1e-3;
    assert_int_equal(acdc_optics_lens_check(&b), ACDC_UTIL_EUSAGE);
    b = l;
    b.wavefront_rms = -0.01;
    assert_int_equal(acdc_optics_lens_check(&b), ACDC_UTIL_EUSAGE);
    b.wavefront_rms = NAN;
    assert_int_equal(acdc_optics_lens_check(&b), ACDC_UTIL_EUSAGE);
    b = l;
    b.zernike[6] = NAN;
    assert_int_equal(acdc_optics_lens_check(&b), ACDC_UTIL_EUSAGE);
    assert_non_null(strstr(acdc_util_errmsg(), "Zernike coefficient 7 is not finite"));
    b = l;
    b.aperture_m = 0;
    assert_int_equal(acdc_optics_lens_check(&b), 0);   /* no error: no aperture needed */
    b.zernike[3] = 0.01;
    assert_int_equal(acdc_optics_lens_check(&b), ACDC_UTIL_EUSAGE);
    assert_non_null(strstr(acdc_util_errmsg(), "'test lens': a wavefront error needs a clear "
                                          "aperture"));
    assert_int_equal(acdc_optics_lens_element_alloc(&e, &l, -1), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_lens_element_alloc(&e, &l, NAN), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_lens_element_alloc(NULL, &l, 0), ACDC_UTIL_EUSAGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_names),
        cmocka_unit_test(test_paraxial_is_thin_lens),
        cmocka_unit_test(test_corrected_phase),
        cmocka_unit_test(test_rms_closed_form),
        cmocka_unit_test(test_rms_sampled),
        cmocka_unit_test(test_defocus_is_focal_length),
        cmocka_unit_test(test_strehl_marechal),
        cmocka_unit_test(test_corrected_matches_fresnel),
        cmocka_unit_test(test_fourier_lens_aperture),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
