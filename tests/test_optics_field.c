/* SPDX-License-Identifier: GPL-3.0-or-later */
/* tests/test_optics_field.c -- grids, the centring convention, power and energy. */
#include "tests/testutil.h"

#include "optics/field.h"
#include "util/error.h"

#include <complex.h>
#include <stdint.h>

static void test_grid_checks(void **state)
{
    (void)state;
    acdc_optics_grid g;
    assert_int_equal(acdc_optics_grid_init(&g, 2, 64, 32, 8e-6, 633e-9), 0);
    assert_int_equal(acdc_optics_grid_size(&g), 64 * 32);
    assert_int_equal(acdc_optics_grid_init(&g, 1, 100, 1, 8e-6, 633e-9), 0);
    assert_int_equal(acdc_optics_grid_init(&g, 3, 64, 1, 8e-6, 633e-9), ACDC_UTIL_EUSAGE);
    assert_non_null(strstr(acdc_util_errmsg(), "rank 3"));
    assert_int_equal(acdc_optics_grid_init(&g, 0, 64, 1, 8e-6, 633e-9), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_grid_init(&g, 1, 0, 1, 8e-6, 633e-9), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_grid_init(&g, 2, 8, 0, 8e-6, 633e-9), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_grid_init(&g, 1, 8, 2, 8e-6, 633e-9), ACDC_UTIL_EUSAGE);
    assert_non_null(strstr(acdc_util_errmsg(), "ny = 2"));
    assert_int_equal(acdc_optics_grid_init(&g, 1, 8, 1, 0, 633e-9), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_grid_init(&g, 1, 8, 1, -8e-6, 633e-9), ACDC_UTIL_EUSAGE);
    assert_non_null(strstr(acdc_util_errmsg(), "pitch -8e-06 m"));
    assert_int_equal(acdc_optics_grid_init(&g, 1, 8, 1, NAN, 633e-9), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_grid_init(&g, 1, 8, 1, 8e-6, INFINITY), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_grid_init(&g, 1, 8, 1, 8e-6, -1), ACDC_UTIL_EUSAGE);
    assert_non_null(strstr(acdc_util_errmsg(), "wavelength"));
    assert_int_equal(acdc_optics_grid_init(NULL, 1, 8, 1, 8e-6, 633e-9), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_grid_check(NULL), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_grid_init(&g, 2, SIZE_MAX / 4, SIZE_MAX / 4, 8e-6, 633e-9),
                     ACDC_UTIL_ENOMEM);
}

/* The convention: axis on index floor(M/2), x_j = (j - floor(M/2)) dx. */
static void test_centring(void **state)
{
    (void)state;
    assert_int_equal(acdc_optics_axis_index(8), 4);
    assert_int_equal(acdc_optics_axis_index(7), 3);
    assert_int_equal(acdc_optics_axis_index(1), 0);
    assert_close(acdc_optics_coord_m(0, 8, 2.5e-6), -4 * 2.5e-6, 0);
    assert_close(acdc_optics_coord_m(4, 8, 2.5e-6), 0, 0);
    assert_close(acdc_optics_coord_m(7, 8, 2.5e-6), 3 * 2.5e-6, 0);
    assert_close(acdc_optics_coord_m(0, 7, 2.5e-6), -3 * 2.5e-6, 0);
    assert_close(acdc_optics_coord_m(6, 7, 2.5e-6), 3 * 2.5e-6, 0);
}

static void test_alloc_copy(void **state)
{
    (void)state;
    acdc_optics_grid g;
    assert_int_equal(acdc_optics_grid_init(&g, 2, 5, 3, 4e-6, 1.55e-6), 0);
    acdc_optics_field *f = (acdc_optics_field *)&g, *c = NULL;
    assert_int_equal(acdc_optics_field_alloc(&f, &g, 0), ACDC_UTIL_EUSAGE);
    assert_null(f);
    assert_non_null(strstr(acdc_util_errmsg(), "batch of 0"));
    assert_int_equal(acdc_optics_field_alloc(&f, &g, SIZE_MAX / 8), ACDC_UTIL_ENOMEM);
    assert_int_equal(acdc_optics_field_alloc(NULL, &g, 1), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_field_alloc(&f, &g, 2), 0);
    for (size_t i = 0; i < 30; i++)
        assert_true(f->data[i] == 0);
    for (size_t i = 0; i < 30; i++)
        f->data[i] = 2.385 * (double)i - I * 0.5;
    assert_int_equal(acdc_optics_field_clone(&c, f), 0);
    assert_memory_equal(c->data, f->data, 30 * sizeof *f->data);
    assert_ptr_equal(acdc_optics_field_slice(f, 1), f->data + 15);
    assert_null(acdc_optics_field_slice(f, 2));
    acdc_optics_field_zero(c);
    assert_true(c->data[29] == 0);
    assert_int_equal(acdc_optics_field_copy(c, f), 0);
    assert_true(c->data[29] == f->data[29]);
    acdc_optics_field_free(c);
    assert_int_equal(acdc_optics_field_clone(&c, NULL), ACDC_UTIL_EUSAGE);
    assert_null(c);
    acdc_optics_field_free(NULL);
    /* copy between different grids */
    acdc_optics_grid h = g;
    h.pitch_m = 5e-6;
    acdc_optics_field *d;
    assert_int_equal(acdc_optics_field_alloc(&d, &h, 2), 0);
    assert_int_equal(acdc_optics_field_copy(d, f), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_field_copy(NULL, f), ACDC_UTIL_EUSAGE);
    acdc_optics_field_free(d);
    assert_int_equal(acdc_optics_field_alloc(&c, &g, 1), 0);
    assert_int_equal(acdc_optics_field_copy(c, f), ACDC_UTIL_EUSAGE);   /* batch differs */
    acdc_optics_field_free(c);
    /* finiteness */
    assert_int_equal(acdc_optics_field_check_finite(f), 0);
    f->data[17] = NAN;
    assert_int_equal(acdc_optics_field_check_finite(f), ACDC_UTIL_EDATA);
    assert_non_null(strstr(acdc_util_errmsg(), "field 1: sample (x 2, y 0)"));
    f->data[17] = I * INFINITY;
    assert_int_equal(acdc_optics_field_check_finite(f), ACDC_UTIL_EDATA);
    assert_int_equal(acdc_optics_field_check_finite(NULL), ACDC_UTIL_EUSAGE);
    acdc_optics_field_free(f);
}

/* P = sum |E|^2 dx^rank; energy = P t; set_power scales; <E, E> = total power. */
static void test_power(void **state)
{
    (void)state;
    acdc_optics_grid g;
    assert_int_equal(acdc_optics_grid_init(&g, 2, 4, 4, 10e-6, 633e-9), 0);
    acdc_optics_field *f;
    assert_int_equal(acdc_optics_field_alloc(&f, &g, 2), 0);
    /* 16 samples of irradiance 2.385 W/m^2 each, cell 1e-10 m^2 -> 3.816e-9 W */
    for (size_t i = 0; i < 16; i++)
        f->data[i] = sqrt(2.385) * cexp(I * 0.7 * (double)i);
    double p, e;
    assert_int_equal(acdc_optics_field_power_w(f, 0, &p), 0);
    assert_close(p, 16 * 2.385 * 1e-10, 1e-24);
    assert_int_equal(acdc_optics_field_energy_j(f, 0, 0.002, &e), 0);
    assert_close(e, 16 * 2.385 * 1e-10 * 0.002, 1e-26);
    assert_int_equal(acdc_optics_field_power_w(f, 1, &p), 0);
    assert_close(p, 0, 0);
    assert_int_equal(acdc_optics_field_set_power_w(f, 0, 1e-3), 0);
    assert_int_equal(acdc_optics_field_power_w(f, 0, &p), 0);
    assert_close(p, 1e-3, 1e-18);
    double complex ip;
    assert_int_equal(acdc_optics_field_inner(f, f, &ip), 0);
    assert_close(creal(ip), 1e-3, 1e-18);
    assert_close(cimag(ip), 0, 1e-30);
    /* rank 1: W/m times m */
    acdc_optics_grid g1;
    assert_int_equal(acdc_optics_grid_init(&g1, 1, 10, 1, 2e-6, 633e-9), 0);
    acdc_optics_field *l;
    assert_int_equal(acdc_optics_field_alloc(&l, &g1, 1), 0);
    for (size_t i = 0; i < 10; i++)
        l->data[i] = 3;
    assert_int_equal(acdc_optics_field_power_w(l, 0, &p), 0);
    assert_close(p, 10 * 9 * 2e-6, 1e-20);
    /* errors */
    assert_int_equal(acdc_optics_field_power_w(f, 2, &p), ACDC_UTIL_EUSAGE);
    assert_non_null(strstr(acdc_util_errmsg(), "field 2 of a batch of 2"));
    assert_int_equal(acdc_optics_field_power_w(NULL, 0, &p), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_field_power_w(f, 0, NULL), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_field_energy_j(f, 0, -1, &e), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_field_energy_j(f, 0, NAN, &e), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_field_energy_j(f, 0, 1, NULL), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_field_set_power_w(f, 1, 1e-3), ACDC_UTIL_EDATA);
    assert_non_null(strstr(acdc_util_errmsg(), "dark"));
    assert_int_equal(acdc_optics_field_set_power_w(f, 1, 0), 0);
    assert_int_equal(acdc_optics_field_set_power_w(f, 0, -1), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_field_set_power_w(f, 0, INFINITY), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_field_inner(f, l, &ip), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_field_inner(f, NULL, &ip), ACDC_UTIL_EUSAGE);
    acdc_optics_field_free(f);
    acdc_optics_field_free(l);
}

/* acdc_optics_cmul() is the '*' operator bit for bit on finite operands: products of
 * values spread over magnitudes from subnormal to 1e150, both signs, signed zeros, and
 * a product with a conjugate (homodyne's |p|^2). */
static void test_cmul_matches_operator(void **state)
{
    (void)state;
    uint64_t u = 0x9e3779b97f4a7c15u;
    const double mag[] = {0.0, 4e-320, 1e-150, 1e-8, 0.3, 1.0, 7.5, 1e8, 1e150};
    const int nm = (int)(sizeof mag / sizeof *mag);
    for (int i = 0; i < 20000; i++) {
        double v[4];
        for (int k = 0; k < 4; k++) {
            u = u * 6364136223846793005u + 1442695040888963407u;
            const double frac = 0.5 + (double)(u >> 11) / 9007199254740992.0;
            v[k] = ((u >> 3) & 1 ? -1 : 1) * frac * mag[(u >> 4) % (uint64_t)nm];
        }
        const double complex a = CMPLX(v[0], v[1]), b = CMPLX(v[2], v[3]);
        const double complex want = a * b, got = acdc_optics_cmul(a, b);
        assert_memory_equal(&want, &got, sizeof want);
        const double complex w2 = a * conj(a), g2 = acdc_optics_cmul(a, conj(a));
        assert_memory_equal(&w2, &g2, sizeof w2);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grid_checks),
        cmocka_unit_test(test_centring),
        cmocka_unit_test(test_alloc_copy),
        cmocka_unit_test(test_power),
        cmocka_unit_test(test_cmul_matches_operator),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
