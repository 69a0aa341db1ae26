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
 * quantised pixels, one phase error per pixel. */
#include "tests/testutil.h"

#include "optics/device.h"
#include "optics/field.h"
#include "optics/propagate.h"

#include <complex.h>
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
    /* phase errors: one per pixel, so the mean's error has half the variance of one
     * pixel's (sigma^2 / 2 on the phase of a full-scale value) */
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    double complex *work = malloc(n * sizeof *work), *out = malloc(nsamp * sizeof *out);
    const double one[5] = {1, 1, 1, 1, 1}, sigma = 0.05;
    double v = 0;
    size_t cnt = 0;
    for (int rep = 0; rep < 2000; rep++) {
        acdc_optics_devmap_show(d, one, sigma, r, 1, work, out);
        for (size_t j = 0; j < n; j++, cnt++)
            v += carg(work[j]) * carg(work[j]);
    }
    v /= (double)cnt;
    print_message("# rows: phase variance of a full-scale value %.3e (sigma^2 / 2 = %.3e)\n", v,
                  sigma * sigma / 2);
    assert_true(fabs(v / (sigma * sigma / 2) - 1) < 0.1);
    gsl_rng_free(r);
    free(work);
    free(out);
    acdc_optics_devmap_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_orders_leave_the_slit),
        cmocka_unit_test(test_device_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
