/* SPDX-License-Identifier: GPL-3.0-or-later */
/* tests/test_optics_device_rows.c -- a double-phase pair down a 1D strip's rows
 * (ACDC_OPTICS_DP_ROWS, optics/device.h).
 *
 * A 1D simulation follows the line and sees the strip's zero order in y: the mean of a
 * value's two pixels.  That rests on the first orders (the difference term, a grating
 * of period two rows) leaving the strip: checked here across y with the exact
 * band-limited angular spectrum, at the slm8 design's numbers (3.74 um pixels, 2464
 * rows, 2f = 138.6 mm of free space at 632.8 nm: a 1D system's lenses have no power
 * along y).  And the device model: one pixel column per value, the mean of the two
 * quantised pixels, each level the mean of the strip's pixels on it, one phase error per
 * pixel -- and the mean of many pixels' phasors drawn from its Gaussian limit, held to
 * the sum of as many draws. */
#include "tests/testutil.h"

#include "optics/device.h"
#include "optics/field.h"
#include "optics/propagate.h"

#include <complex.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

/* Power of f inside |y| < half (m) and in all, on grid g. */
static void power_inside(const acdc_optics_field *f, double half, double *in, double *all)
{
    *in = *all = 0;
    for (size_t j = 0; j < f->g.nx; j++) {
        const double p = creal(f->data[j] * conj(f->data[j]));
        *all += p;
        if (fabs(acdc_optics_coord_m(j, f->g.nx, f->g.pitch_m)) < half)
            *in += p;
    }
}

/* The strip across y: rows of pitch p, S samples each, every row showing a (sum term)
 * plus (-1)^row b (difference term); propagated over z.  Returns the fraction of the
 * difference term's power that stays inside the strip's height (the slit), and in
 * *sum_kept the fraction of the sum term's. */
static double leak(double z, size_t rows, double *sum_kept)
{
    const double p = 3.74e-6, lambda = 632.8e-9;
    const size_t S = 2, N = 65536;   /* 122 mm of y at 1.87 um */
    double frac[2];
    for (int term = 0; term < 2; term++) {
        acdc_optics_grid g;
        acdc_optics_field *f = NULL;
        acdc_optics_prop *pr = NULL;
        assert_int_equal(acdc_optics_grid_init(&g, 1, N, 1, p / (double)S, lambda), 0);
        assert_int_equal(acdc_optics_field_alloc(&f, &g, 1), 0);
        for (size_t r = 0; r < rows; r++)
            for (size_t q = 0; q < S; q++) {
                const size_t j = N / 2 - rows * S / 2 + r * S + q;
                f->data[j] = term == 0 ? 1.0 : (r % 2 ? -1.0 : 1.0);
            }
        assert_int_equal(acdc_optics_prop_alloc(&pr, &g, z, ACDC_OPTICS_ASM_BL), 0);
        assert_int_equal(acdc_optics_prop_apply(pr, f, f), 0);
        double in, all;
        power_inside(f, 0.5 * (double)rows * p, &in, &all);
        frac[term] = in / all;
        acdc_optics_prop_free(pr);
        acdc_optics_field_free(f);
    }
    *sum_kept = frac[0];
    return frac[1];
}

static void test_first_orders_leave_the_slit(void **state)
{
    (void)state;
    double kept, l = leak(2 * 69.32e-3, 2464, &kept);
    print_message("# rows: over 2f = 138.6 mm the slit (the strip's 9.2 mm) keeps %.4f of the "
                  "sum term and %.2e of the difference term\n", kept, l);
    assert_true(kept > 0.95);
    assert_true(l < 1e-2);
    /* control: 1 mm from the device the orders have not separated yet */
    double kept1, l1 = leak(1e-3, 2464, &kept1);
    print_message("# rows: 1 mm from the device the slit keeps %.4f and %.2e\n", kept1, l1);
    assert_true(l1 > 0.5);
}

static acdc_optics_modulator lcos(enum acdc_optics_dp_layout layout)
{
    acdc_optics_modulator d = {.modulation = ACDC_OPTICS_MOD_PHASE, .pitch_m = 3.74e-6,
                               .fill = 0.9, .pixels = 4160, .phase_bits = 8, .rows = 2464,
                               .dp_layout = layout};
    snprintf(d.name, sizeof d.name, "test LCoS");
    return d;
}

static void test_device_model(void **state)
{
    (void)state;
    acdc_optics_modulator cols = lcos(ACDC_OPTICS_DP_COLUMNS), rows = lcos(ACDC_OPTICS_DP_ROWS);
    assert_int_equal(acdc_optics_modulator_pixels_per_sample(&cols), 2);
    assert_int_equal(acdc_optics_modulator_pixels_per_sample(&rows), 1);
    assert_true(fabs(acdc_optics_modulator_sample_pitch(&rows) - 3.74e-6) < 1e-18);
    /* one pixel column per sample, carrying the mean of the two quantised pixels */
    const size_t n = 5, S = 4, nsamp = 64;
    const double t[5] = {0.9, -0.3, 0.0, 0.55, -1.0};
    acdc_optics_devmap *d = NULL;
    assert_int_equal(acdc_optics_devmap_alloc(&d, &rows, n, (int)S, nsamp, 0), 0);
    assert_int_equal(acdc_optics_devmap_pixels_per_sample(d), 1);
    for (size_t j = 0; j < n; j++) {
        double complex got, px[2];
        acdc_optics_devmap_sample(d, t[j], &got);
        assert_int_equal(acdc_optics_modulator_pixels(&rows, t[j], px, NULL), 2);
        assert_true(cabs(got - 0.5 * (px[0] + px[1])) < 1e-15);
        assert_true(cabs(got - acdc_optics_modulator_value(&rows, t[j], NULL)) < 1e-15);
        /* 8-bit levels: within half a level's error of the value */
        assert_true(cabs(got - t[j]) < 2 * M_PI / 256);
    }
    /* phase errors: one per pixel.  A strip of two rows (the pair alone): the mean's
     * error has half the variance of one pixel's (sigma^2 / 2 on the phase of a
     * full-scale value); the device's 2464 rows average 1232 pixels on each level:
     * (1 - c^4) / (4 * 1232 c^2), c = exp(-sigma^2 / 2), about sigma^2 / 2464. */
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    double complex *work = malloc(n * sizeof *work), *out = malloc(nsamp * sizeof *out);
    const double one[5] = {1, 1, 1, 1, 1}, sigma = 0.05, c = exp(-sigma * sigma / 2);
    const size_t strips[3] = {2, 3, 0};   /* 0: the map as allocated, the device's rows */
    for (int k = 0; k < 3; k++) {
        const double pairs = strips[k] ? 1 : 1232;
        if (strips[k]) {
            acdc_optics_devmap_set_strip(d, strips[k]);
        } else {   /* a new map: the strip it starts with is the device's height */
            acdc_optics_devmap_free(d);
            d = NULL;
            assert_int_equal(acdc_optics_devmap_alloc(&d, &rows, n, (int)S, nsamp, 0), 0);
        }
        double v = 0;
        size_t cnt = 0;
        for (int rep = 0; rep < 2000; rep++) {
            acdc_optics_devmap_show(d, one, sigma, r, 1, work, out);
            for (size_t j = 0; j < n; j++, cnt++)
                v += carg(work[j]) * carg(work[j]);
        }
        v /= (double)cnt;
        const double want = (1 - pow(c, 4)) / (4 * pairs * c * c);
        print_message("# rows: a strip of %zu rows: phase variance of a full-scale value %.3e "
                      "(expected %.3e)\n", strips[k] ? strips[k] : rows.rows, v, want);
        assert_true(fabs(v / want - 1) < 0.1);
    }
    gsl_rng_free(r);
    free(work);
    free(out);
    acdc_optics_devmap_free(d);
}

/* acdc_optics_phase_error_mean(): the sum of draws (count <= 32) and its Gaussian limit
 * (above) have the moments of the mean of count phasors exp(i N(0, sigma^2)), and the
 * limit's spread matches that of the sum of as many draws made here. */
static void test_phase_error_mean(void **state)
{
    (void)state;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    const double sigma = 0.4, c = exp(-sigma * sigma / 2), c2 = c * c;
    const size_t counts[4] = {1, 32, 33, 400};
    const int reps = 40000;
    for (int k = 0; k < 4; k++) {
        const size_t cnt = counts[k];
        double mr = 0, mi = 0, vr = 0, vi = 0, sr = 0, si = 0;
        for (int i = 0; i < reps; i++) {
            const double complex z = acdc_optics_phase_error_mean(r, sigma, cnt);
            mr += creal(z);
            mi += cimag(z);
            vr += (creal(z) - c) * (creal(z) - c);
            vi += cimag(z) * cimag(z);
            /* the sum of cnt draws, made here */
            double complex sum = 0;
            for (size_t q = 0; q < cnt; q++)
                sum += cexp(I * gsl_ran_gaussian(r, sigma));
            sum /= (double)cnt;
            sr += (creal(sum) - c) * (creal(sum) - c);
            si += cimag(sum) * cimag(sum);
        }
        mr /= reps;
        mi /= reps;
        vr /= reps;
        vi /= reps;
        sr /= reps;
        si /= reps;
        const double wr = 0.5 * (1 - c2) * (1 - c2) / (double)cnt,
                     wi = 0.5 * (1 - c2 * c2) / (double)cnt;
        print_message("# mean of %3zu phasors: re %.5f (c %.5f), var re %.3e (want %.3e, sum "
                      "%.3e), var im %.3e (want %.3e, sum %.3e)\n", cnt, mr, c, vr, wr, sr, vi,
                      wi, si);
        assert_true(fabs(mr - c) < 5 * sqrt(wr / reps));
        assert_true(fabs(mi) < 5 * sqrt(wi / reps));
        assert_true(fabs(vr / wr - 1) < 0.06 && fabs(sr / wr - 1) < 0.06);
        assert_true(fabs(vi / wi - 1) < 0.06 && fabs(si / wi - 1) < 0.06);
        if (cnt == 1)   /* one draw: a unit phasor */
            assert_true(fabs(cabs(acdc_optics_phase_error_mean(r, sigma, 1)) - 1) < 1e-15);
    }
    gsl_rng_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_orders_leave_the_slit),
        cmocka_unit_test(test_device_model),
        cmocka_unit_test(test_phase_error_mean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
