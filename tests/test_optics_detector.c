/* SPDX-License-Identifier: GPL-3.0-or-later */
/* tests/test_optics_detector.c -- intensity, homodyne, pixels, photon budget, noise
 * statistics and ADC levels with fixed seeds. */
#include "tests/testutil.h"

#include "optics/detector.h"
#include "optics/field.h"
#include "util/error.h"

#include <complex.h>
#include <omp.h>

static acdc_optics_field *field(int rank, size_t nx, size_t ny, double dx, size_t nb)
{
    acdc_optics_grid g;
    assert_int_equal(acdc_optics_grid_init(&g, rank, nx, ny, dx, 633e-9), 0);
    acdc_optics_field *f;
    assert_int_equal(acdc_optics_field_alloc(&f, &g, nb), 0);
    return f;
}

static acdc_optics_camera camera(void)
{
    acdc_optics_camera c = {
        .wavelength_m = 633e-9, .exposure_s = 1e-3, .qe = 0.8, .dark_e_per_s = 0,
        .read_noise_e = 0, .full_well_e = 1e6, .adc_bits = 16, .shot_noise = 0,
        .seed = 2385,
    };
    return c;
}

static void test_intensity_homodyne(void **state)
{
    (void)state;
    acdc_optics_field *f = field(1, 5, 1, 1e-6, 2), *r = field(1, 5, 1, 1e-6, 1);
    for (size_t i = 0; i < 10; i++)
        f->data[i] = (0.3 * (double)i - 1.1) + I * (0.7 - 0.2 * (double)i);
    for (size_t i = 0; i < 5; i++)
        r->data[i] = 2.385 * cexp(I * 0.4 * (double)i);
    double irr[10], p[10], m[10], d[10];
    assert_int_equal(acdc_optics_intensity(f, irr), 0);
    assert_int_equal(acdc_optics_homodyne(f, r, p, m, d), 0);
    for (size_t i = 0; i < 10; i++) {
        double complex e = f->data[i], ref = r->data[i % 5];
        assert_close(irr[i], creal(e) * creal(e) + cimag(e) * cimag(e), 1e-15);
        assert_close(d[i], 4 * creal(e * conj(ref)), 1e-14);
        assert_close(p[i] - m[i], d[i], 1e-13);
        /* the signed real part, recovered against a real reference */
    }
    /* a real reference of amplitude A returns 4 A Re(E): the sign survives */
    for (size_t i = 0; i < 5; i++)
        r->data[i] = 0.5;
    assert_int_equal(acdc_optics_homodyne(f, r, NULL, NULL, d), 0);
    for (size_t i = 0; i < 10; i++)
        assert_close(d[i], 2 * creal(f->data[i]), 1e-15);
    /* a batch of references */
    acdc_optics_field *r2 = field(1, 5, 1, 1e-6, 2);
    assert_int_equal(acdc_optics_homodyne(f, r2, NULL, NULL, d), 0);
    assert_close(d[7], 0, 0);
    acdc_optics_field *r3 = field(1, 5, 1, 1e-6, 3), *r4 = field(1, 6, 1, 1e-6, 1);
    assert_int_equal(acdc_optics_homodyne(f, r3, NULL, NULL, d), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_homodyne(f, r4, NULL, NULL, d), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_homodyne(NULL, r, NULL, NULL, d), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_intensity(f, NULL), ACDC_UTIL_EUSAGE);
    acdc_optics_field_free(f);
    acdc_optics_field_free(r);
    acdc_optics_field_free(r2);
    acdc_optics_field_free(r3);
    acdc_optics_field_free(r4);
}

/* Pixels tiling the window conserve power (odd counts, so that both grids are
 * symmetric about the axis: 45 samples of 2 um under 5 pixels of 18 um); a fill
 * factor keeps fill^2 of a uniform irradiance; partial cells are split exactly. */
static void test_pixels(void **state)
{
    (void)state;
    acdc_optics_grid g;
    assert_int_equal(acdc_optics_grid_init(&g, 2, 45, 45, 2e-6, 633e-9), 0);
    size_t n = 45 * 45;
    double *irr = malloc(2 * n * sizeof *irr), pw[2 * 25];
    for (size_t i = 0; i < 2 * n; i++)
        irr[i] = 1 + 0.5 * sin(0.37 * (double)i);
    acdc_optics_pixels px = {5, 5, 18e-6, 1};
    assert_int_equal(acdc_optics_pixels_integrate(&g, 2, irr, &px, pw), 0);
    for (int b = 0; b < 2; b++) {
        double s = 0, t = 0;
        for (size_t i = 0; i < n; i++)
            s += irr[b * n + i] * 4e-12;
        for (size_t i = 0; i < 25; i++)
            t += pw[b * 25 + i];
        assert_close(t, s, 1e-12 * s);
    }
    for (size_t i = 0; i < n; i++)
        irr[i] = 2.385;
    acdc_optics_pixels half = {5, 5, 18e-6, 0.5};
    assert_int_equal(acdc_optics_pixels_integrate(&g, 1, irr, &half, pw), 0);
    for (size_t i = 0; i < 25; i++)
        assert_close(pw[i], 2.385 * 81e-12, 1e-24);
    /* 3 pixels of 3 um over 1 um samples, fill 0.7: 2.1 um each */
    acdc_optics_grid g1;
    assert_int_equal(acdc_optics_grid_init(&g1, 1, 9, 1, 1e-6, 633e-9), 0);
    double line[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, out[3];
    acdc_optics_pixels lp = {3, 1, 3e-6, 0.7};
    assert_int_equal(acdc_optics_pixels_integrate(&g1, 1, line, &lp, out), 0);
    /* pixel 1 centred on sample 4 (value 5): samples 3,4,5 with overlaps 0.55,1,0.55 um */
    assert_close(out[1], (0.55 * 4 + 5 + 0.55 * 6) * 1e-6, 1e-20);
    /* errors */
    assert_int_equal(acdc_optics_pixels_integrate(&g1, 1, line, NULL, out), ACDC_UTIL_EUSAGE);
    lp.npy = 2;
    assert_int_equal(acdc_optics_pixels_integrate(&g1, 1, line, &lp, out), ACDC_UTIL_EUSAGE);
    lp.npy = 1;
    lp.fill = 0;
    assert_int_equal(acdc_optics_pixels_integrate(&g1, 1, line, &lp, out), ACDC_UTIL_EUSAGE);
    lp.fill = 1;
    lp.pitch_m = -1;
    assert_int_equal(acdc_optics_pixels_integrate(&g1, 1, line, &lp, out), ACDC_UTIL_EUSAGE);
    lp.pitch_m = 1e-6;
    lp.npx = 0;
    assert_int_equal(acdc_optics_pixels_integrate(&g1, 1, line, &lp, out), ACDC_UTIL_EUSAGE);
    g1.pitch_m = NAN;
    lp.npx = 3;
    assert_int_equal(acdc_optics_pixels_integrate(&g1, 1, line, &lp, out), ACDC_UTIL_EUSAGE);
    free(irr);
}

/* photons = eta P tau lambda / (h c): 1 nW for 1 ms at 633 nm, eta = 0.8. */
/* acdc_optics_pixel_overlap: 3 pixels of pitch 4 um, fill 0.75 (3 um active), displaced by
 * 1.25 um over 1 um samples: each pixel covers exactly 3 um of samples, starting where
 * its displaced active area starts; an offset that pushes pixels off the axis clips them;
 * bad geometry is refused. */
static void test_pixel_overlap(void **state)
{
    (void)state;
    const double um = 1e-6;
    acdc_optics_pixels px = {.npx = 3, .npy = 1, .pitch_m = 4 * um, .fill = 0.75};
    size_t first[3], count[3], span;
    double *w;
    assert_int_equal(acdc_optics_pixel_overlap(32, 1 * um, &px, 3, 1.25 * um, first, count, &w,
                                               &span), 0);
    for (size_t i = 0; i < 3; i++) {
        double sum = 0;
        for (size_t q = 0; q < count[i]; q++)
            sum += w[i * span + q];
        assert_true(fabs(sum - 3 * um) < 1e-18);
        /* active area of pixel i: centre (i - 1)·4 um + 1.25 um, ±1.5 um; sample j covers
         * [(j - 16) - 1/2, (j - 16) + 1/2) um */
        double lo = ((double)i - 1) * 4 + 1.25 - 1.5;
        assert_int_equal(first[i], (size_t)floor(lo + 16 + 0.5));
        assert_true(fabs(w[i * span] - ((double)first[i] - 16 + 0.5 - lo) * um) < 1e-18);
    }
    free(w);
    /* pushed past the end of a short axis: the last pixel is cut */
    assert_int_equal(acdc_optics_pixel_overlap(8, 1 * um, &px, 3, 1.25 * um, first, count, &w,
                                               &span), 0);
    double sum = 0;
    for (size_t q = 0; q < count[2]; q++)
        sum += w[2 * span + q];
    assert_true(sum < 3 * um - 1e-9);
    free(w);
    px.fill = 0;
    assert_int_equal(acdc_optics_pixel_overlap(8, 1 * um, &px, 3, 0, first, count, &w, &span),
                     ACDC_UTIL_EUSAGE);
    px.fill = 1;
    assert_int_equal(acdc_optics_pixel_overlap(8, 1 * um, &px, 3, NAN, first, count, &w, &span),
                     ACDC_UTIL_EUSAGE);
}

static void test_photon_budget(void **state)
{
    (void)state;
    acdc_optics_camera c = camera();
    double e;
    assert_int_equal(acdc_optics_photoelectrons(&c, 1e-9, &e), 0);
    /* h c / lambda = 3.13821e-19 J; 1e-12 J / that * 0.8 */
    assert_close(e, 0.8 * 1e-12 / (6.62607015e-34 * 299792458.0 / 633e-9), 1e-6);
    assert_close(e, 2.549277e6, 1);
    assert_int_equal(acdc_optics_photoelectrons(&c, -1, &e), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_photoelectrons(&c, 1, NULL), ACDC_UTIL_EUSAGE);
    /* noiseless detection returns the mean and its ADC code */
    double pw[3] = {0, 1e-13, 1e-9}, el[3];
    uint32_t code[3];
    assert_int_equal(acdc_optics_detect(&c, 1, 3, pw, el, code), 0);
    assert_close(el[1], 254.9277, 1e-3);
    assert_close(el[2], 1e6, 0);            /* saturated at full well */
    assert_int_equal(code[0], 0);
    assert_int_equal(code[1], 17);          /* round(254.92 * 65535 / 1e6) = 16.7 */
    assert_int_equal(code[2], 65535);
}

/* Poisson: mean = variance = lambda; read noise: std = sigma; dark current adds its
 * mean.  n = 200000 samples: the standard error of the mean is sqrt(lambda/n), of the
 * variance ~ lambda sqrt(2/n); tolerances are 5 of those. */
static void test_noise_statistics(void **state)
{
    (void)state;
    size_t n = 200000;
    double *pw = malloc(n * sizeof *pw), *el = malloc(n * sizeof *el);
    acdc_optics_camera c = camera();
    c.shot_noise = 1;
    double e1;
    assert_int_equal(acdc_optics_photoelectrons(&c, 1, &e1), 0);
    double lam = 42.5;
    for (size_t i = 0; i < n; i++)
        pw[i] = lam / e1;
    assert_int_equal(acdc_optics_detect(&c, 4, n / 4, pw, el, NULL), 0);
    double s = 0, s2 = 0;
    for (size_t i = 0; i < n; i++) {
        s += el[i];
        s2 += el[i] * el[i];
        assert_true(el[i] == floor(el[i]));   /* whole electrons */
    }
    double mean = s / n, var = s2 / n - mean * mean;
    print_message("# measured Poisson lambda = 42.5: mean %.4f (tol %.3f), variance %.3f "
                  "(tol %.3f)\n", mean, 5 * sqrt(lam / n), var, 5 * lam * sqrt(2.0 / n));
    assert_close(mean, lam, 5 * sqrt(lam / n));
    assert_close(var, lam, 5 * lam * sqrt(2.0 / n));
    /* above ACDC_OPTICS_POISSON_NORMAL the law is drawn as N(lambda, lambda), rounded:
     * mean and variance must still be lambda */
    double big = 5 * ACDC_OPTICS_POISSON_NORMAL;
    for (size_t i = 0; i < n; i++)
        pw[i] = big / e1;
    assert_int_equal(acdc_optics_detect(&c, 4, n / 4, pw, el, NULL), 0);
    s = s2 = 0;
    for (size_t i = 0; i < n; i++) {
        s += el[i];
        s2 += el[i] * el[i];
        assert_true(el[i] == floor(el[i]));
    }
    mean = s / n;
    var = s2 / n - mean * mean;
    print_message("# measured shot noise lambda = %g (normal approximation): mean %.2f "
                  "(tol %.2f), variance %.1f (tol %.1f)\n", big, mean, 5 * sqrt(big / n), var,
                  5 * big * sqrt(2.0 / n));
    assert_close(mean, big, 5 * sqrt(big / n));
    assert_close(var, big, 5 * big * sqrt(2.0 / n));
    for (size_t i = 0; i < n; i++)
        pw[i] = lam / e1;
    /* dark current 5000 e/s over 1 ms adds 5 e of mean and of variance */
    c.dark_e_per_s = 5000;
    assert_int_equal(acdc_optics_detect(&c, 4, n / 4, pw, el, NULL), 0);
    s = s2 = 0;
    for (size_t i = 0; i < n; i++) {
        s += el[i];
        s2 += el[i] * el[i];
    }
    mean = s / n;
    var = s2 / n - mean * mean;
    assert_close(mean, lam + 5, 5 * sqrt((lam + 5) / n));
    assert_close(var, lam + 5, 5 * (lam + 5) * sqrt(2.0 / n));
    /* read noise alone around a 1000 e mean */
    c.shot_noise = 0;
    c.dark_e_per_s = 0;
    c.read_noise_e = 3.7;
    for (size_t i = 0; i < n; i++)
        pw[i] = 1000 / e1;
    assert_int_equal(acdc_optics_detect(&c, 1, n, pw, el, NULL), 0);
    s = s2 = 0;
    for (size_t i = 0; i < n; i++) {
        s += el[i];
        s2 += el[i] * el[i];
    }
    mean = s / n;
    double sd = sqrt(s2 / n - mean * mean);
    print_message("# measured read noise 3.7 e: mean %.4f (want 1000), std %.4f (tol %.3f)\n",
                  mean, sd, 5 * 3.7 / sqrt(2.0 * n));
    assert_close(mean, 1000, 5 * 3.7 / sqrt(n));
    assert_close(sd, 3.7, 5 * 3.7 / sqrt(2.0 * n));
    free(pw);
    free(el);
}

/* ADC: codes round(e (2^b - 1) / full well), every level reachable, clipped. */
static void test_adc(void **state)
{
    (void)state;
    acdc_optics_camera c = camera();
    c.full_well_e = 1000;
    c.adc_bits = 8;
    double e1;
    assert_int_equal(acdc_optics_photoelectrons(&c, 1, &e1), 0);
    double want_e[6] = {0, 1.96, 1.97, 500, 999.9, 5000}, pw[6], el[6];
    uint32_t code[6];
    for (int i = 0; i < 6; i++)
        pw[i] = want_e[i] / e1;
    assert_int_equal(acdc_optics_detect(&c, 1, 6, pw, el, code), 0);
    assert_int_equal(code[0], 0);
    assert_int_equal(code[1], 0);     /* 1.96 * 255 / 1000 = 0.4998 */
    assert_int_equal(code[2], 1);     /* 0.50235 */
    assert_int_equal(code[3], 128);   /* 127.5 rounds up */
    assert_int_equal(code[4], 255);
    assert_int_equal(code[5], 255);   /* saturated */
    assert_close(el[5], 1000, 0);
    /* 1-bit and 32-bit converters */
    c.adc_bits = 1;
    assert_int_equal(acdc_optics_detect(&c, 1, 6, pw, NULL, code), 0);
    assert_int_equal(code[3], 1);
    assert_int_equal(code[2], 0);
    c.adc_bits = 32;
    assert_int_equal(acdc_optics_detect(&c, 1, 6, pw, NULL, code), 0);
    assert_int_equal(code[5], 4294967295u);
}

/* Same seed, same numbers, whatever the thread count; other seeds and other fields of
 * the batch differ. */
static void test_reproducible(void **state)
{
    (void)state;
    size_t nb = 9, np = 1000;
    double *pw = malloc(nb * np * sizeof *pw), *a = malloc(nb * np * sizeof *a);
    double *b = malloc(nb * np * sizeof *b);
    for (size_t i = 0; i < nb * np; i++)
        pw[i] = 1e-13;
    acdc_optics_camera c = camera();
    c.shot_noise = 1;
    c.read_noise_e = 2;
    c.dark_e_per_s = 100;
    int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    assert_int_equal(acdc_optics_detect(&c, nb, np, pw, a, NULL), 0);
    omp_set_num_threads(3);
    assert_int_equal(acdc_optics_detect(&c, nb, np, pw, b, NULL), 0);
    omp_set_num_threads(saved);
    assert_memory_equal(a, b, nb * np * sizeof *a);
    /* a sub-batch starting at field 0 reproduces the first fields */
    assert_int_equal(acdc_optics_detect(&c, 2, np, pw, b, NULL), 0);
    assert_memory_equal(a, b, 2 * np * sizeof *a);
    assert_true(memcmp(a, a + np, np * sizeof *a) != 0);
    c.seed = 2386;
    assert_int_equal(acdc_optics_detect(&c, 1, np, pw, b, NULL), 0);
    assert_true(memcmp(a, b, np * sizeof *a) != 0);
    assert_true(acdc_optics_field_seed(1, 0) != acdc_optics_field_seed(1, 1));
    assert_true(acdc_optics_field_seed(1, 0) != acdc_optics_field_seed(2, 0));
    free(pw);
    free(a);
    free(b);
}

/* The sum of N exposures drawn at once: mean N mu and variance N (mu + read^2 + q^2/12),
 * in the Poisson regime and above ACDC_OPTICS_POISSON_NORMAL; a mean at the full well clips
 * every exposure and is flagged. */
static void test_detect_frames(void **state)
{
    (void)state;
    const size_t n = 100000, N = 37;
    double *pw = malloc(n * sizeof *pw), *sum = malloc(n * sizeof *sum);
    unsigned char *sat = malloc(n);
    acdc_optics_camera c = camera();
    c.shot_noise = 1;
    c.read_noise_e = 2.5;
    c.dark_e_per_s = 3000;   /* 3 e- per 1 ms exposure */
    c.full_well_e = 3e4;
    c.adc_bits = 8;          /* q = 117.6 e-: its rounding is seen */
    double e1;
    assert_int_equal(acdc_optics_photoelectrons(&c, 1, &e1), 0);
    const double q = c.full_well_e / 255;
    const double mus[] = {12.5, 4 * ACDC_OPTICS_POISSON_NORMAL};
    for (int k = 0; k < 2; k++) {
        const double mu = mus[k] + 3;   /* photo and dark electrons */
        for (size_t i = 0; i < n; i++)
            pw[i] = mus[k] / e1;
        assert_int_equal(acdc_optics_detect_frames(&c, 2, n / 2, pw, N, sum, sat), 0);
        double s = 0, s2 = 0;
        for (size_t i = 0; i < n; i++) {
            s += sum[i];
            s2 += sum[i] * sum[i];
            assert_int_equal(sat[i], 0);
        }
        const double mean = s / n, var = s2 / n - mean * mean;
        const double want = N * (mu + c.read_noise_e * c.read_noise_e + q * q / 12);
        print_message("# %zu exposures of mean %.1f e-: sum mean %.2f (want %.2f), variance "
                      "%.1f (want %.1f)\n", N, mu, mean, N * mu, var, want);
        assert_close(mean, N * mu, 5 * sqrt(want / n));
        assert_close(var, want, 5 * want * sqrt(2.0 / n));
    }
    pw[0] = 2 * c.full_well_e / e1;
    assert_int_equal(acdc_optics_detect_frames(&c, 1, 1, pw, N, sum, sat), 0);
    assert_true(sum[0] == N * c.full_well_e);
    assert_int_equal(sat[0], 1);
    assert_int_equal(acdc_optics_detect_frames(&c, 1, 1, pw, 0, sum, sat), ACDC_UTIL_EUSAGE);
    free(pw);
    free(sum);
    free(sat);
}

static void test_camera_errors(void **state)
{
    (void)state;
    double pw[2] = {1e-12, 0}, el[2];
    acdc_optics_camera c;
    c = camera(); c.wavelength_m = 0;
    assert_int_equal(acdc_optics_detect(&c, 1, 2, pw, el, NULL), ACDC_UTIL_EUSAGE);
    c = camera(); c.exposure_s = -1;
    assert_int_equal(acdc_optics_detect(&c, 1, 2, pw, el, NULL), ACDC_UTIL_EUSAGE);
    assert_non_null(strstr(acdc_util_errmsg(), "exposure -1 s"));
    c = camera(); c.qe = 1.5;
    assert_int_equal(acdc_optics_detect(&c, 1, 2, pw, el, NULL), ACDC_UTIL_EUSAGE);
    c = camera(); c.qe = NAN;
    assert_int_equal(acdc_optics_detect(&c, 1, 2, pw, el, NULL), ACDC_UTIL_EUSAGE);
    c = camera(); c.dark_e_per_s = -1;
    assert_int_equal(acdc_optics_detect(&c, 1, 2, pw, el, NULL), ACDC_UTIL_EUSAGE);
    c = camera(); c.read_noise_e = INFINITY;
    assert_int_equal(acdc_optics_detect(&c, 1, 2, pw, el, NULL), ACDC_UTIL_EUSAGE);
    c = camera(); c.full_well_e = 0;
    assert_int_equal(acdc_optics_detect(&c, 1, 2, pw, el, NULL), ACDC_UTIL_EUSAGE);
    c = camera(); c.adc_bits = -1;
    assert_int_equal(acdc_optics_detect(&c, 1, 2, pw, el, NULL), ACDC_UTIL_EUSAGE);
    c = camera(); c.adc_bits = 33;
    assert_int_equal(acdc_optics_detect(&c, 1, 2, pw, el, NULL), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_detect(NULL, 1, 2, pw, el, NULL), ACDC_UTIL_EUSAGE);
    c = camera();
    assert_int_equal(acdc_optics_detect(&c, 1, 2, NULL, el, NULL), ACDC_UTIL_EUSAGE);
    pw[1] = -1e-12;
    assert_int_equal(acdc_optics_detect(&c, 1, 2, pw, el, NULL), ACDC_UTIL_EUSAGE);
    assert_non_null(strstr(acdc_util_errmsg(), "pixel 1 of field 0"));
    pw[1] = NAN;
    assert_int_equal(acdc_optics_detect(&c, 1, 2, pw, el, NULL), ACDC_UTIL_EUSAGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_intensity_homodyne),
        cmocka_unit_test(test_pixels),
        cmocka_unit_test(test_pixel_overlap),
        cmocka_unit_test(test_photon_budget),
        cmocka_unit_test(test_noise_statistics),
        cmocka_unit_test(test_adc),
        cmocka_unit_test(test_reproducible),
        cmocka_unit_test(test_detect_frames),
        cmocka_unit_test(test_camera_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
