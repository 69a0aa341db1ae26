/* SPDX-License-Identifier: GPL-3.0-or-later */
/* tests/test_optics_tally.c -- the count of transforms the optics run
 * (acdc_optics_fft_tally), which the benchmarks turn into a run's FFT floor: lenses, 4f
 * passes, free space and point-spread functions counted by shape, on one and two
 * threads, and cleared by a reset. */
#include "tests/testutil.h"

#include <complex.h>
#include <omp.h>

#include "optics/field.h"
#include "optics/propagate.h"

static acdc_optics_field *field(int rank, size_t n, size_t nb)
{
    acdc_optics_grid g;
    assert_int_equal(acdc_optics_grid_init(&g, rank, n, rank == 2 ? n : 1, 8e-6, 633e-9), 0);
    acdc_optics_field *f = NULL;
    assert_int_equal(acdc_optics_field_alloc(&f, &g, nb), 0);
    for (size_t i = 0; i < nb * acdc_optics_grid_size(&g); i++)
        f->data[i] = cos(0.37 * (double)i) + I * sin(1.3 * (double)i);
    return f;
}

/* The transforms of shape (rank, n) tallied since the last reset. */
static unsigned long long count(int rank, size_t n)
{
    acdc_optics_fft_count c[32];
    unsigned long long other = 1;
    size_t k = acdc_optics_fft_tally(c, 32, &other);
    assert_true(k <= 32);
    assert_int_equal(other, 0);
    for (size_t i = 0; i < k; i++)
        if (c[i].rank == rank && c[i].n == n)
            return c[i].transforms;
    return 0;
}

/* Shapes with a count since the last reset. */
static size_t shapes(void)
{
    acdc_optics_fft_count c[32];
    return acdc_optics_fft_tally(c, 32, NULL);
}

/* A 4f pair for fields like f: l1 on f's grid, l2 on l1's output grid, f = 5 cm. */
static void lenses(const acdc_optics_field *f, acdc_optics_lens_plan **l1,
                   acdc_optics_lens_plan **l2)
{
    assert_int_equal(acdc_optics_lens_plan_alloc(l1, &f->g, 0.05), 0);
    assert_int_equal(acdc_optics_lens_plan_alloc(l2, acdc_optics_lens_plan_output(*l1), 0.05), 0);
}

static void test_tally_1d(void **state)
{
    (void)state;
    const size_t n = 64, nb = 5;
    for (int threads = 1; threads <= 2; threads++) {
        omp_set_num_threads(threads);
        acdc_optics_field *f = field(1, n, nb);
        acdc_optics_lens_plan *l1, *l2;
        lenses(f, &l1, &l2);
        acdc_optics_fft_tally_reset();
        assert_int_equal(shapes(), 0);
        /* a lens: one transform per field */
        assert_int_equal(acdc_optics_lens_forward(l1, f, f), 0);
        assert_int_equal(count(1, n), nb);
        /* a 4f pass: two per field (a fresh batch on l1's input grid) */
        acdc_optics_field_free(f);
        f = field(1, n, nb);
        assert_int_equal(acdc_optics_4f_apply(l1, NULL, l2, f, f), 0);
        assert_int_equal(count(1, n), 3 * nb);
        assert_int_equal(shapes(), 1);
        /* free space by the Fresnel transfer function: a forward and an inverse
         * transform of the plan's (possibly padded) row per field */
        acdc_optics_fft_tally_reset();
        acdc_optics_field_free(f);
        f = field(1, n, nb);
        acdc_optics_prop *p;
        assert_int_equal(acdc_optics_prop_alloc(&p, &f->g, 1e-3, ACDC_OPTICS_FRESNEL_TF), 0);
        assert_int_equal(acdc_optics_prop_apply(p, f, f), 0);
        acdc_optics_fft_count c[4];
        assert_int_equal(acdc_optics_fft_tally(c, 4, NULL), 1);
        assert_int_equal(c[0].rank, 1);
        assert_true(c[0].n >= n);
        assert_int_equal(c[0].transforms, 2 * nb);
        acdc_optics_prop_free(p);
        acdc_optics_lens_plan_free(l1);
        acdc_optics_lens_plan_free(l2);
        acdc_optics_field_free(f);
    }
    omp_set_num_threads(1);
}

static void test_tally_psf(void **state)
{
    (void)state;
    const size_t L = 32, m = 8, N = 2 * m, nb = 3;
    for (int threads = 1; threads <= 2; threads++) {
        omp_set_num_threads(threads);
        acdc_optics_field *f = field(2, L, nb);
        acdc_optics_lens_plan *l1, *l2;
        lenses(f, &l1, &l2);
        acdc_optics_fft_tally_reset();
        acdc_optics_4f_psf *psf;
        assert_int_equal(acdc_optics_4f_psf_alloc(&psf, l1, NULL, l2, m), 0);
        /* the set-up: the response over the plane, then its window's transform */
        assert_int_equal(count(2, L), 1);
        assert_int_equal(count(2, N), 1);
        double complex *out = malloc(nb * m * m * sizeof *out);
        assert_non_null(out);
        assert_int_equal(acdc_optics_4f_psf_apply((const acdc_optics_4f_psf *const *)&psf,
                                                  (const acdc_optics_field *const *)&f, 1, out),
                         0);
        /* a forward and an inverse 2m x 2m transform per field */
        assert_int_equal(count(2, N), 1 + 2 * nb);
        assert_int_equal(shapes(), 2);
        acdc_optics_fft_tally_reset();
        assert_int_equal(count(2, N), 0);
        assert_int_equal(shapes(), 0);
        free(out);
        acdc_optics_4f_psf_free(psf);
        acdc_optics_lens_plan_free(l1);
        acdc_optics_lens_plan_free(l2);
        acdc_optics_field_free(f);
    }
    omp_set_num_threads(1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tally_1d),
        cmocka_unit_test(test_tally_psf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
