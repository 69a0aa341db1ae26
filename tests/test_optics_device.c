/* SPDX-License-Identifier: GPL-3.0-or-later */
/* tests/test_optics_device.c -- optics/device.h: levels, double-phase pairs, transfers,
 * devices laid over sampled axes. */
#include "optics/device.h"
#include "optics/detector.h"
#include "optics/element.h"
#include "util/error.h"

#include "tests/testutil.h"

#include <complex.h>
#include <gsl/gsl_rng.h>

static acdc_optics_modulator slm(enum acdc_optics_modulation mod, int ab, int pb)
{
    acdc_optics_modulator d = {.name = "test SLM", .modulation = mod, .pitch_m = 3.74e-6,
                               .fill = 0.9, .pixels = 4160, .amplitude_bits = ab,
                               .phase_bits = pb, .phase_error_rad = 0.03};
    return d;
}

/* A double-phase pair's levels chosen together: the pair's mean is the nearest to t of
 * the rounded pair and its eight neighbours (found here by brute force), never farther
 * than rounding each phase alone, and nearer on the whole: at 8 bits over [-1, 1] the
 * rms error over t uniform in [-1, 1] falls from rounding's 0.0058 to 0.0042
 * (device.h). */
static void test_pair_levels(void **state)
{
    (void)state;
    for (int bits = 2; bits <= 10; bits += 2) {
        acdc_optics_modulator p = slm(ACDC_OPTICS_MOD_PHASE, 0, bits);
        const int L = 1 << bits;
        double s_joint = 0, s_round = 0;
        const int n = 4001;
        for (int i = 0; i < n; i++) {
            double t = -1 + 2.0 * i / (n - 1);
            int32_t codes[2];
            double e = cabs(acdc_optics_modulator_value(&p, t, codes) - t);
            /* the rounded pair, as device.h defines theta1, theta2 */
            double phi = t < 0 ? M_PI : 0, th = acos(fabs(t));
            int32_t r0 = acdc_optics_phase_level(t < 0 ? phi - th : phi + th, bits);
            int32_t r1 = acdc_optics_phase_level(t < 0 ? phi + th : phi - th, bits);
            double best = HUGE_VAL;
            for (int d0 = -1; d0 <= 1; d0++)
                for (int d1 = -1; d1 <= 1; d1++) {
                    double complex m = 0.5 * (cexp(I * acdc_optics_phase_of_level((r0 + d0 + L) % L, bits)) +
                                              cexp(I * acdc_optics_phase_of_level((r1 + d1 + L) % L, bits)));
                    best = fmin(best, cabs(m - t));
                }
            double er = cabs(0.5 * (cexp(I * acdc_optics_phase_of_level(r0, bits)) +
                                    cexp(I * acdc_optics_phase_of_level(r1, bits))) - t);
            assert_true(e <= er);
            assert_close(e, best, 1e-15);
            /* neither pixel moved more than one level from its rounding */
            int m0 = ((codes[0] - r0) % L + L) % L, m1 = ((codes[1] - r1) % L + L) % L;
            assert_true(m0 <= 1 || m0 == L - 1);
            assert_true(m1 <= 1 || m1 == L - 1);
            s_joint += e * e;
            s_round += er * er;
        }
        printf("# %2d bits: rms |mean - t| %.5f rounded, %.5f chosen together\n", bits,
               sqrt(s_round / n), sqrt(s_joint / n));
        assert_true(s_joint < 0.75 * s_round);
        if (bits == 8) {   /* the figures device.h and compiler/PROFILES.md quote */
            assert_close(sqrt(s_round / n), 0.0058, 0.00005);
            assert_close(sqrt(s_joint / n), 0.0042, 0.00005);
        }
    }
}

/* The quantiser: levels are where they should be, round to the nearest, wrap, and the
 * in-place array quantisers of element.h agree with it. */
static void test_levels(void **state)
{
    (void)state;
    assert_int_equal(acdc_optics_phase_level(0, 8), 0);
    assert_int_equal(acdc_optics_phase_level(M_PI, 2), 2);
    assert_int_equal(acdc_optics_phase_level(-M_PI / 2, 2), 3);       /* wraps to 3π/2 */
    assert_int_equal(acdc_optics_phase_level(2 * M_PI - 1e-9, 4), 0); /* nearest is 2π ≡ 0 */
    assert_close(acdc_optics_phase_of_level(3, 2), 1.5 * M_PI, 1e-15);
    assert_int_equal(acdc_optics_amplitude_level(0.5, 3), 4);  /* 3.5 rounds away from zero */
    assert_int_equal(acdc_optics_amplitude_level(-0.2, 3), 0);
    assert_int_equal(acdc_optics_amplitude_level(1.7, 3), 7);
    assert_close(acdc_optics_amplitude_of_level(4, 3), 4.0 / 7, 1e-15);
    double ph[5] = {0.1, -2.385, 3.3, 7.0, -0.01}, a[4] = {0, 0.2385, 0.5, 1};
    double ph2[5], a2[4];
    memcpy(ph2, ph, sizeof ph);
    memcpy(a2, a, sizeof a);
    assert_int_equal(acdc_optics_quantise_phase(ph2, 5, 3), 0);
    assert_int_equal(acdc_optics_quantise_amplitude(a2, 4, 5), 0);
    for (int i = 0; i < 5; i++)
        assert_true(ph2[i] == acdc_optics_phase_of_level(acdc_optics_phase_level(ph[i], 3), 3));
    for (int i = 0; i < 4; i++)
        assert_true(a2[i] == acdc_optics_amplitude_of_level(acdc_optics_amplitude_level(a[i], 5), 5));
}

/* Each kind shows a value: amplitude clips negatives, complex is exact when continuous,
 * a double-phase pair's mean is the value and its difference term i·sqrt(1 − t²). */
static void test_show_value(void **state)
{
    (void)state;
    const double ts[] = {1, -1, 0.2385, -0.71, 0, -0.0};
    for (size_t i = 0; i < sizeof ts / sizeof *ts; i++) {
        double t = ts[i];
        acdc_optics_modulator c = slm(ACDC_OPTICS_MOD_COMPLEX, 0, 0);
        double complex px[2];
        assert_int_equal(acdc_optics_modulator_pixels(&c, t, px, NULL), 1);
        assert_true(px[0] == t);   /* exactly, imaginary part 0 */
        acdc_optics_modulator a = slm(ACDC_OPTICS_MOD_AMPLITUDE, 0, 0);
        assert_true(acdc_optics_modulator_value(&a, t, NULL) == (t > 0 ? t : 0));
        acdc_optics_modulator p = slm(ACDC_OPTICS_MOD_PHASE, 0, 0);
        assert_int_equal(acdc_optics_modulator_pixels(&p, t, px, NULL), 2);
        assert_close(cabs(px[0]), 1, 1e-15);
        assert_close(cabs(px[1]), 1, 1e-15);
        assert_close(cabs(0.5 * (px[0] + px[1]) - t), 0, 1e-15);
        double complex d = 0.5 * (px[0] - px[1]);
        assert_close(creal(d), 0, 1e-15);
        assert_close(cimag(d), sqrt(1 - t * t), 1e-12);
    }
    /* quantised: codes and the value they give agree */
    acdc_optics_modulator p = slm(ACDC_OPTICS_MOD_PHASE, 0, 8);
    int32_t codes[2];
    double complex v = acdc_optics_modulator_value(&p, -0.2385, codes);
    double complex w = 0.5 * (cexp(I * acdc_optics_phase_of_level(codes[0], 8)) +
                              cexp(I * acdc_optics_phase_of_level(codes[1], 8)));
    assert_true(v == w);
    assert_close(creal(v), -0.2385, 2 * M_PI / 256);
    acdc_optics_modulator c = slm(ACDC_OPTICS_MOD_COMPLEX, 3, 2);
    v = acdc_optics_modulator_value(&c, -0.5, codes);
    assert_int_equal(codes[0], 4);
    assert_int_equal(codes[1], 2);
    assert_close(creal(v), -4.0 / 7, 1e-15);
    assert_int_equal(acdc_optics_modulator_codes(&c), 2);
    assert_int_equal(acdc_optics_modulator_codes(&p), 2);
    acdc_optics_modulator a = slm(ACDC_OPTICS_MOD_AMPLITUDE, 8, 0);
    assert_int_equal(acdc_optics_modulator_codes(&a), 1);
}

/* A device of finite contrast C cannot go darker than a0 = 1/sqrt(C): a complex or
 * amplitude value below it shows as a0 with its sign, its levels run from a0 to 1 (the
 * top level is 1, the bottom a0), and C = 0 or 1 means no floor. */
static void test_contrast(void **state)
{
    (void)state;
    const double a0 = 1 / sqrt(1000.0);
    for (int bits = 0; bits <= 8; bits += 8) {
        acdc_optics_modulator c = slm(ACDC_OPTICS_MOD_COMPLEX, bits, 0), a = slm(ACDC_OPTICS_MOD_AMPLITUDE,
                                                                                 bits, 0);
        c.contrast = a.contrast = 1000;
        int32_t code[2];
        assert_close(creal(acdc_optics_modulator_value(&c, 0.001, code)), a0, 1e-15);
        assert_close(creal(acdc_optics_modulator_value(&c, -0.001, NULL)), -a0, 1e-15);
        assert_close(creal(acdc_optics_modulator_value(&a, 0, code)), a0, 1e-15);
        assert_int_equal(code[0], 0);
        assert_close(creal(acdc_optics_modulator_value(&c, 1, code)), 1, 1e-15);
        if (bits) {
            assert_int_equal(code[0], 255);
            /* level 128 sits at a0 + (1 - a0) 128/255 */
            const double mid = a0 + (1 - a0) * 128.0 / 255;
            assert_close(creal(acdc_optics_modulator_value(&c, mid, code)), mid, 1e-15);
            assert_int_equal(code[0], 128);
        } else {
            assert_close(creal(acdc_optics_modulator_value(&c, 0.5, NULL)), 0.5, 1e-15);
        }
        c.contrast = 0;
        assert_close(creal(acdc_optics_modulator_value(&c, 0.001, NULL)), bits ? 0 : 0.001, 1e-15);
        c.contrast = 1000;
        assert_true(acdc_optics_modulator_ideal(&c).contrast == 0);
    }
}

/* Two devices, amplitude imaged onto phase, displaced by a registration error of 0.25
 * pixel: light passes only where both pixels' active areas overlap (fill 0.9: 0.65 of
 * each pixel with its own amplitude, 0.15 with its neighbour's, none between), and
 * each stretch shows its amplitude pixel's |value| with its phase pixel's phase; a
 * registered pair is the one device it was. */
static void test_registration(void **state)
{
    (void)state;
    acdc_optics_modulator c = slm(ACDC_OPTICS_MOD_COMPLEX, 0, 0);
    c.phase_error_rad = 0;
    const int S = 20;
    const size_t n = 4, nsamp = 4 * S + 8 * S;
    const double t[4] = {0.2, -0.7, 0.5, 1.0};
    double complex one[240], two[240], work[8];
    acdc_optics_devmap *d0, *d1;
    assert_int_equal(acdc_optics_devmap_alloc(&d0, &c, n, S, nsamp, 0), 0);
    c.registration = 0.25;
    assert_int_equal(acdc_optics_devmap_alloc(&d1, &c, n, S, nsamp, 0), 0);
    acdc_optics_devmap_show(d0, t, 0, NULL, 1, work, one);
    acdc_optics_devmap_show(d1, t, 0, NULL, 1, work, two);
    double s0 = 0, s1 = 0;
    for (size_t q = 0; q < nsamp; q++) {
        s0 += cabs(one[q]);
        s1 += cabs(two[q]);
    }
    /* |t| summed over the pixels: 2.4 x 0.9 x S registered; displaced, pixel j keeps
     * 0.65 of its own amplitude and 0.15 of its left neighbour's (the amplitude image
     * moved right) */
    assert_close(s0, 2.4 * 0.9 * S, 1e-9);
    const double want = S * (0.65 * 2.4 + 0.15 * (0.2 + 0.7 + 0.5));
    print_message("# registration 0.25 px: transmitted %.4f of %.4f (want %.4f)\n", s1, s0,
                  want);
    assert_close(s1, want, 1e-9);
    /* inside pixel 1's phase pixel, left end: pixel 0's amplitude (0.2) with pixel 1's
     * phase (pi); near its centre: its own (-0.7) */
    const size_t base = nsamp / 2 - 2 * (size_t)S, p1 = base + (size_t)S;
    assert_close(creal(two[p1 - S / 2 + 3]), -0.2, 1e-12);
    assert_close(creal(two[p1 + 3]), -0.7, 1e-12);
    acdc_optics_devmap_free(d0);
    acdc_optics_devmap_free(d1);
}

/* Transfers: 1 at t = 0, sinc(fill t) for a pixel, the pair's sum term, the ideal
 * counterpart's sinc(t), the camera's sinc(fill t). */
static void test_transfer(void **state)
{
    (void)state;
    acdc_optics_modulator p = slm(ACDC_OPTICS_MOD_PHASE, 0, 8),
        c = slm(ACDC_OPTICS_MOD_COMPLEX, 8, 8);
    double f = p.fill, t = 0.37;
    assert_close(acdc_optics_modulator_transfer(&p, 0), 1, 1e-15);
    assert_close(acdc_optics_modulator_transfer(&p, t),
                 sin(M_PI * f * t / 2) / (M_PI * f * t / 2) * cos(M_PI * t / 2), 1e-15);
    assert_close(acdc_optics_modulator_transfer(&c, t), sin(M_PI * f * t) / (M_PI * f * t), 1e-15);
    acdc_optics_modulator id = acdc_optics_modulator_ideal(&p);
    assert_int_equal(acdc_optics_modulator_pixels_per_sample(&id), 1);
    assert_true(acdc_optics_modulator_sample_pitch(&id) == p.pitch_m);
    assert_true(acdc_optics_modulator_sample_pitch(&p) == 2 * p.pitch_m);
    assert_close(acdc_optics_modulator_transfer(&id, t), sin(M_PI * t) / (M_PI * t), 1e-15);
    acdc_optics_camera cam = {.fill = 0.8};
    assert_close(acdc_optics_camera_transfer(&cam, t), sin(M_PI * 0.8 * t) / (M_PI * 0.8 * t),
                 1e-15);
}

/* S = 1: one point per sample showing the pixels' mean, weight exactly 1, the fill not
 * seen; a displacement mixes neighbours by overlap. */
static void test_devmap_points(void **state)
{
    (void)state;
    acdc_optics_modulator p = slm(ACDC_OPTICS_MOD_PHASE, 0, 8);
    const size_t n = 6;
    const double t[6] = {0.9, -0.2385, 0.5, -1, 0, 0.33};
    double complex out[6], work[12];
    acdc_optics_devmap *d;
    assert_int_equal(acdc_optics_devmap_alloc(&d, &p, n, 1, n, 0), 0);
    assert_int_equal(acdc_optics_devmap_pixels(d), n);
    acdc_optics_devmap_show(d, t, 0, NULL, 1, work, out);
    for (size_t j = 0; j < n; j++)
        assert_true(out[j] == acdc_optics_modulator_value(&p, t[j], NULL));
    acdc_optics_devmap_free(d);
    assert_int_equal(acdc_optics_devmap_alloc(&d, &p, n, 1, n, 0.25), 0);
    double complex shifted[6];
    acdc_optics_devmap_show(d, t, 0, NULL, 1, work, shifted);
    /* t'(x) = t(x − 0.25): sample k sees 3/4 of point k and 1/4 of point k − 1; the
     * first sample a quarter of the opaque surround */
    for (size_t k = 0; k < n; k++) {
        double complex want = 0.75 * out[k] + (k ? 0.25 * out[k - 1] : 0);
        assert_close(cabs(shifted[k] - want), 0, 1e-15);
    }
    acdc_optics_devmap_free(d);
}

/* S >= 2: a flat value on a device of fill f puts f of the amplitude into the covered
 * samples on average; the pair's pixels are apart; one phase error per pixel. */
static void test_devmap_resolved(void **state)
{
    (void)state;
    const int S = 3;   /* odd: sample j covers sub-samples centre − 1 .. centre + 1 */
    acdc_optics_modulator p = slm(ACDC_OPTICS_MOD_PHASE, 0, 0);
    const size_t n = 8, L = n * S * 2;
    double t[8];
    for (size_t j = 0; j < n; j++)
        t[j] = 0.2385 * (double)j - 0.7;
    double complex out[48], work[16];
    acdc_optics_devmap *d;
    assert_int_equal(acdc_optics_devmap_alloc(&d, &p, n, S, L, 0), 0);
    assert_int_equal(acdc_optics_devmap_pixels(d), 2 * n);
    acdc_optics_devmap_show(d, t, 0, NULL, 1, work, out);
    /* The sum over the S sub-samples of sample j, divided by S, is fill × the pair's
     * mean (each pixel lies inside its sample's S sub-samples). */
    for (size_t j = 0; j < n; j++) {
        double complex sum = 0;
        size_t c0 = L / 2 - (n / 2) * S + j * S - 1;
        for (int q = 0; q < S; q++)
            sum += out[c0 + (size_t)q];
        assert_close(cabs(sum / S - p.fill * acdc_optics_modulator_value(&p, t[j], NULL)), 0,
                     1e-14);
    }
    /* nothing outside the device */
    for (size_t k = 0; k + 1 < L / 2 - (n / 2) * S; k++)
        assert_true(out[k] == 0);
    acdc_optics_devmap_free(d);
    /* bad geometry */
    p.fill = 0;
    assert_int_equal(acdc_optics_devmap_alloc(&d, &p, n, S, L, 0), ACDC_UTIL_EUSAGE);
    p.fill = 0.9;
    assert_int_equal(acdc_optics_devmap_alloc(&d, &p, n, 0, L, 0), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_devmap_alloc(&d, &p, n, S, L, NAN), ACDC_UTIL_EUSAGE);
    assert_null(d);
}

/* The same seed gives the same device; sigma 0 draws nothing. */
static void test_devmap_errors(void **state)
{
    (void)state;
    acdc_optics_modulator p = slm(ACDC_OPTICS_MOD_PHASE, 0, 8);
    const size_t n = 16;
    double t[16];
    for (size_t j = 0; j < n; j++)
        t[j] = sin(2.385 * (double)j);
    double complex a[16], b[16], clean[16], work[16];
    acdc_optics_devmap *d;
    assert_int_equal(acdc_optics_devmap_alloc(&d, &p, n, 1, n, 0), 0);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 7);
    acdc_optics_devmap_show(d, t, 0.03, r, 1, work, a);
    gsl_rng_set(r, 7);
    acdc_optics_devmap_show(d, t, 0.03, r, 1, work, b);
    acdc_optics_devmap_show(d, t, 0, NULL, 1, work, clean);
    double diff = 0;
    for (size_t j = 0; j < n; j++) {
        assert_true(a[j] == b[j]);
        assert_close(cabs(a[j]), cabs(clean[j]), 1e-15);   /* a phase, not an amplitude */
        diff = fmax(diff, cabs(a[j] - clean[j]));
    }
    assert_true(diff > 1e-3 && diff < 0.2);
    gsl_rng_free(r);
    acdc_optics_devmap_free(d);
}

/* The superpixel's transform: k = 1 is a pixel's, k = 2 the 1D pair's, and its array
 * factor is 1 at multiples of k cycles per sample (even k: ±1 alternating). */
static void test_transfer_k(void **state)
{
    (void)state;
    acdc_optics_modulator c = slm(ACDC_OPTICS_MOD_COMPLEX, 8, 8),
        p = slm(ACDC_OPTICS_MOD_PHASE, 0, 8);
    for (double t = -1.3; t <= 1.3; t += 0.1) {
        assert_close(acdc_optics_modulator_transfer_k(&c, 1, t),
                     acdc_optics_modulator_transfer(&c, t),
                     1e-15);
        assert_close(acdc_optics_modulator_transfer_k(&p, 2, t),
                     acdc_optics_modulator_transfer(&p, t),
                     1e-15);
    }
    acdc_optics_modulator f1 = c;
    f1.fill = 1;
    /* fill 1: k pixels side by side are one pixel k times as wide, sinc(t) */
    for (double t = 0.05; t < 3; t += 0.2)
        assert_close(acdc_optics_modulator_transfer_k(&f1, 4, t),
                     sin(M_PI * t) / (M_PI * t), 1e-14);
    assert_close(acdc_optics_modulator_transfer_k(&f1, 4, 0), 1, 0);
}

/* A 2D device: at S = 1 each sample shows its value (a double-phase value's sum term) on
 * one point, the device centred on the plane's axis; resolved (S = 4, k = 2) the plane's
 * sub-samples sum to fill² S² times the sum of the values; columns and checkerboard
 * differ pixel by pixel but not in the sum; an odd superpixel on a phase-only device is
 * refused. */
static void test_devmap2(void **state)
{
    (void)state;
    acdc_optics_modulator p = slm(ACDC_OPTICS_MOD_PHASE, 0, 0);
    p.phase_error_rad = 0;
    const size_t ns = 4, N1 = 8;
    double t[16];
    for (size_t i = 0; i < 16; i++)
        t[i] = cos(1.7 * (double)i) * 0.9;
    acdc_optics_devmap2 *d;
    assert_int_equal(acdc_optics_devmap2_alloc(&d, &p, 2, ns, 1, N1, 0, 0), 0);
    double complex *w = malloc(acdc_optics_devmap2_work(d) * sizeof *w), out[64];
    acdc_optics_devmap2_show(d, t, 0, NULL, 1, w, out);
    for (size_t y = 0; y < N1; y++)
        for (size_t x = 0; x < N1; x++) {
            /* the device's 4 x 4 samples centred on the plane's axis (index 4) */
            int in = y >= 2 && y < 6 && x >= 2 && x < 6;
            double complex want =
                in ? acdc_optics_modulator_value(&p, t[(y - 2) * ns + x - 2], NULL) : 0;
            assert_true(cabs(out[y * N1 + x] - want) < 1e-15);
        }
    free(w);
    acdc_optics_devmap2_free(d);
    const int S = 4;
    const size_t N = 4 * ns * (size_t)S;
    double complex *o[2];
    for (int layout = 0; layout < 2; layout++) {
        p.dp_layout = layout ? ACDC_OPTICS_DP_CHECKERBOARD : ACDC_OPTICS_DP_COLUMNS;
        assert_int_equal(acdc_optics_devmap2_alloc(&d, &p, 2, ns, S, N, 0, 0), 0);
        w = malloc(acdc_optics_devmap2_work(d) * sizeof *w);
        o[layout] = malloc(N * N * sizeof *o[layout]);
        acdc_optics_devmap2_show(d, t, 0, NULL, 1, w, o[layout]);
        /* every pixel's active area lands in full: the plane's light is the sum */
        double complex tot = 0, want = 0;
        for (size_t i = 0; i < N * N; i++)
            tot += o[layout][i];
        for (size_t i = 0; i < ns * ns; i++)
            want += acdc_optics_modulator_value(&p, t[i], NULL);
        want *= p.fill * p.fill * S * S;
        assert_true(cabs(tot - want) < 1e-12 * cabs(want) + 1e-12);
        free(w);
        acdc_optics_devmap2_free(d);
    }
    int differs = 0;
    for (size_t i = 0; i < N * N; i++)
        differs |= cabs(o[0][i] - o[1][i]) > 1e-12;
    assert_true(differs);
    free(o[0]);
    free(o[1]);
    assert_int_equal(acdc_optics_devmap2_alloc(&d, &p, 3, ns, S, N, 0, 0), ACDC_UTIL_EUSAGE);
    assert_non_null(strstr(acdc_util_errmsg(), "even superpixel"));
}

/* The pixels a device shows are the phasors of their levels exactly as cexp() gives
 * them, bit for bit, at every depth -- the tabulated ones (1 to 12 bits) and beyond --
 * for phase-only pairs (levels chosen together and alone) and complex pixels. */
static void test_phasors_exact(void **state)
{
    (void)state;
    const int depths[] = {1, 2, 8, 12, 13, 16};
    for (size_t k = 0; k < sizeof depths / sizeof *depths; k++) {
        const int bits = depths[k];
        for (int joint = 0; joint < 2; joint++) {
            acdc_optics_modulator p = slm(ACDC_OPTICS_MOD_PHASE, 0, bits);
            p.pair_levels = joint ? ACDC_OPTICS_PAIRS_JOINT : ACDC_OPTICS_PAIRS_NEAREST;
            for (int i = 0; i <= 2000; i++) {
                const double t = -1 + 2.0 * i / 2000;
                double complex px[2];
                int32_t codes[2];
                assert_int_equal(acdc_optics_modulator_pixels(&p, t, px, codes), 2);
                for (int q = 0; q < 2; q++) {
                    const double complex want =
                        cexp(I * acdc_optics_phase_of_level(codes[q], bits));
                    assert_memory_equal(&px[q], &want, sizeof want);
                }
            }
        }
        /* a complex pixel: the amplitude an amplitude device shows for |t|, times the
         * phasor */
        acdc_optics_modulator c = slm(ACDC_OPTICS_MOD_COMPLEX, 0, bits);
        acdc_optics_modulator a = slm(ACDC_OPTICS_MOD_AMPLITUDE, 0, bits);
        for (int i = 0; i <= 200; i++) {
            const double t = -1 + 2.0 * i / 200;
            double complex px[2], pa[2];
            int32_t codes[2];
            assert_int_equal(acdc_optics_modulator_pixels(&c, t, px, codes), 1);
            assert_int_equal(acdc_optics_modulator_pixels(&a, fabs(t), pa, NULL), 1);
            const double complex want =
                creal(pa[0]) * cexp(I * acdc_optics_phase_of_level(codes[1], bits));
            assert_memory_equal(&px[0], &want, sizeof want);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_levels),
        cmocka_unit_test(test_phasors_exact),
        cmocka_unit_test(test_show_value),
        cmocka_unit_test(test_contrast),
        cmocka_unit_test(test_registration),
        cmocka_unit_test(test_transfer),
        cmocka_unit_test(test_pair_levels),
        cmocka_unit_test(test_devmap_points),
        cmocka_unit_test(test_devmap_resolved),
        cmocka_unit_test(test_devmap_errors),
        cmocka_unit_test(test_transfer_k),
        cmocka_unit_test(test_devmap2),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
