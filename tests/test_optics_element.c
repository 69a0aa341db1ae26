/* SPDX-License-Identifier: GPL-3.0-or-later */
/* tests/test_optics_element.c -- lenses, apertures, pixelated masks, offsets,
 * quantisation. */
#include "tests/testutil.h"

#include "optics/element.h"
#include "optics/field.h"
#include "optics/propagate.h"
#include "util/error.h"

#include <complex.h>

static acdc_optics_field *uniform(int rank, size_t m, double dx, double lam)
{
    acdc_optics_grid g;
    assert_int_equal(acdc_optics_grid_init(&g, rank, m, rank == 2 ? m : 1, dx, lam), 0);
    acdc_optics_field *f;
    assert_int_equal(acdc_optics_field_alloc(&f, &g, 1), 0);
    for (size_t i = 0; i < acdc_optics_grid_size(&g); i++)
        f->data[i] = 1;
    return f;
}

static double power(const acdc_optics_field *f)
{
    double p;
    assert_int_equal(acdc_optics_field_power_w(f, 0, &p), 0);
    return p;
}

/* The sum of the sampled transmittance times the cell area is the aperture area (the
 * power passed, sum |t|^2 dx^2, is smaller at grey edge samples). */
static void test_aperture_area(void **state)
{
    (void)state;
    double dx = 5e-6;
    acdc_optics_field *f = uniform(2, 256, dx, 633e-9);
    acdc_optics_element *r, *c;
    /* edges on sample boundaries: exact */
    assert_int_equal(acdc_optics_aperture_rect_alloc(&r, 41 * dx, 17 * dx), 0);
    assert_int_equal(acdc_optics_element_apply(r, f, 4), 0);
    assert_close(power(f), 41 * 17 * dx * dx, 1e-12 * 41 * 17 * dx * dx);
    /* a circle, area-weighted edge with 16 x 16 sub-samples */
    acdc_optics_field *g = uniform(2, 256, dx, 633e-9);
    double d = 100.3 * dx, area = M_PI * d * d / 4;
    assert_int_equal(acdc_optics_aperture_circ_alloc(&c, d), 0);
    assert_int_equal(acdc_optics_element_apply(c, g, 16), 0);
    double sum = 0;
    for (size_t i = 0; i < 256 * 256; i++)
        sum += creal(g->data[i]);
    double rel = fabs(sum * dx * dx / area - 1);
    print_message("# measured circular aperture area (D = 100.3 dx, 16x16 sub-samples): rel "
                  "err %.2g (tol 1e-4)\n", rel);
    assert_true(rel <= 1e-4);
    /* band-limited sampling keeps the area (the DC of the spectrum) */
    acdc_optics_field *h = uniform(2, 256, dx, 633e-9);
    assert_int_equal(acdc_optics_element_apply(r, h, 0), 0);
    double relb = fabs(power(h) / (41 * 17 * dx * dx) - 1);
    double complex s = 0;
    for (size_t i = 0; i < 256 * 256; i++)
        s += h->data[i];
    assert_close(creal(s) * dx * dx, 41 * 17 * dx * dx, 1e-3 * 41 * 17 * dx * dx);
    print_message("# band-limited rect: sum t dx^2 = area to %.2g; power differs by %.2g "
                  "(the cut spectrum beyond Nyquist)\n",
                  fabs(creal(s) / (41 * 17) - 1), relb);
    acdc_optics_element_free(r);
    acdc_optics_element_free(c);
    acdc_optics_field_free(f);
    acdc_optics_field_free(g);
    acdc_optics_field_free(h);
}

/* A 4 x 4 pixel mask, 8 x 8 samples per pixel, inside a 48^2 window: the summed
 * transmittance is fill^2 of the device area (0.75 and, with 10 x 10 sub-samples
 * resolving edges 0.3 sample into a cell, 0.7); the dead space transmits 'dead'. */
static void test_mask_fill(void **state)
{
    (void)state;
    double dx = 2e-6, p = 8 * dx;
    double complex t[16];
    for (int i = 0; i < 16; i++)
        t[i] = 1;
    const double fills[2] = {0.75, 0.7};
    const int os[2] = {2, 10};   /* sub-sample points never sit on an edge */
    for (int k = 0; k < 2; k++) {
        acdc_optics_field *f = uniform(2, 48, dx, 633e-9);
        acdc_optics_element *m;
        assert_int_equal(acdc_optics_mask_alloc(&m, 4, 4, p, fills[k], t, 0), 0);
        assert_int_equal(acdc_optics_element_apply(m, f, os[k]), 0);
        double sum = 0;
        for (size_t i = 0; i < 48 * 48; i++)
            sum += creal(f->data[i]);
        assert_close(sum, fills[k] * fills[k] * 32 * 32, 1e-10);
        acdc_optics_element_free(m);
        acdc_optics_field_free(f);
    }
    /* clear dead space (dead = 1) and a pixel value: amplitude 0.5 */
    t[5] = 0.5;
    acdc_optics_field *f = uniform(2, 48, dx, 633e-9);
    acdc_optics_element *m;
    assert_int_equal(acdc_optics_mask_alloc(&m, 4, 4, p, 0.5, t, 1), 0);
    assert_int_equal(acdc_optics_element_apply(m, f, 1), 0);
    /* pixel (1, 1) is centred on sample 16 (x = -8 dx); its active area reaches +-2 dx,
     * samples 14..18 at oversample 1 (edge samples counted whole) */
    assert_close(creal(f->data[16 * 48 + 16]), 0.5, 1e-15);
    assert_close(creal(f->data[16 * 48 + 13]), 1, 1e-15);
    assert_close(creal(f->data[16 * 48 + 14]), 0.5, 1e-15);
    assert_close(creal(f->data[16 * 48 + 18]), 0.5, 1e-15);
    assert_close(creal(f->data[16 * 48 + 19]), 1, 1e-15);
    assert_close(creal(f->data[0]), 1, 1e-15);   /* outside the device */
    acdc_optics_element_free(m);
    acdc_optics_field_free(f);
}

/* A pixelated modulator (pitch p, fill 1/2) seen through a Fourier lens: the orders at
 * u = m lambda f / p carry the pixel's transform, amplitude ratio sinc(m fill). */
static void test_pixel_sinc_envelope(void **state)
{
    (void)state;
    size_t n = 4096;
    double dx = 0.25e-6, p = 64 * dx, lam = 633e-9, fl = 0.05;
    acdc_optics_field *f = uniform(1, n, dx, lam);
    double complex t[64];
    for (int i = 0; i < 64; i++)
        t[i] = 1;
    acdc_optics_element *m;
    assert_int_equal(acdc_optics_mask_alloc(&m, 64, 1, p, 0.5, t, 0), 0);
    /* pixel i is centred at (i - 32) p, so pixel 0 would hang half outside the window;
     * shifting the device by half a pixel tiles the periodic window exactly, and the
     * extra half sample puts the active edges on sample boundaries (32 whole samples) */
    assert_int_equal(acdc_optics_element_set_offset(m, p / 2 + dx / 2, 0, 0), 0);
    assert_int_equal(acdc_optics_element_apply(m, f, 8), 0);
    acdc_optics_lens_plan *l;
    assert_int_equal(acdc_optics_lens_plan_alloc(&l, &f->g, fl), 0);
    assert_int_equal(acdc_optics_lens_forward(l, f, f), 0);
    /* order m sits n / 64 samples from the axis per order */
    size_t c = n / 2, step = n / 64;
    double a0 = cabs(f->data[c]), err = 0;
    for (int k = 1; k <= 3; k++) {
        double s = sin(M_PI * k * 0.5) / (M_PI * k * 0.5);
        err = fmax(err, fabs(cabs(f->data[c + k * step]) / a0 - fabs(s)));
    }
    print_message("# measured pixel envelope (fill 0.5, orders 1-3): max |ratio - "
                  "|sinc(m fill)|| = %.2g (tol 1e-3)\n", err);
    assert_true(err <= 1e-3);
    acdc_optics_lens_plan_free(l);
    acdc_optics_element_free(m);
    acdc_optics_field_free(f);
}

/* Thin lens + Fresnel propagation over f gives the lens's Fourier transform (in
 * magnitude; the phase differs by exp(i pi x^2/(lambda f))), on equal grids when
 * f = M dx^2 / lambda. */
static void test_thin_lens_focus(void **state)
{
    (void)state;
    size_t m = 512;
    double dx = 8e-6, lam = 633e-9, fl = m * dx * dx / lam, w0 = 300e-6;
    acdc_optics_field *a = uniform(1, m, dx, lam), *b;
    for (size_t j = 0; j < m; j++)
        a->data[j] = exp(-pow(acdc_optics_coord_m(j, m, dx) / w0, 2));
    assert_int_equal(acdc_optics_field_clone(&b, a), 0);
    acdc_optics_element *lens;
    assert_int_equal(acdc_optics_thin_lens_alloc(&lens, fl, 0), 0);
    assert_int_equal(acdc_optics_element_apply(lens, a, 1), 0);
    acdc_optics_prop *pr;
    assert_int_equal(acdc_optics_prop_alloc(&pr, &a->g, fl, ACDC_OPTICS_FRESNEL_TF), 0);
    assert_int_equal(acdc_optics_prop_apply(pr, a, a), 0);
    acdc_optics_lens_plan *ft;
    assert_int_equal(acdc_optics_lens_plan_alloc(&ft, &b->g, fl), 0);
    assert_int_equal(acdc_optics_lens_forward(ft, b, b), 0);
    double pk = cabs(b->data[m / 2]), err = 0;
    for (size_t j = 0; j < m; j++)
        err = fmax(err, fabs(cabs(a->data[j]) - cabs(b->data[j])) / pk);
    print_message("# measured thin lens + fresnel-tf(f) vs Fourier lens: max ||a|-|b|| / "
                  "peak = %.2g (tol 1e-9)\n", err);
    assert_true(err <= 1e-9);
    /* a finite lens aperture (a slit in 1D) cuts the light */
    acdc_optics_element *small;
    assert_int_equal(acdc_optics_thin_lens_alloc(&small, fl, 100 * dx), 0);
    acdc_optics_field *c = uniform(1, m, dx, lam);
    assert_int_equal(acdc_optics_element_apply(small, c, 1), 0);
    assert_close(power(c), 101 * dx, 1e-18);   /* |x| <= 50 dx: samples -50..50 */
    acdc_optics_element_free(small);
    acdc_optics_field_free(c);
    acdc_optics_prop_free(pr);
    acdc_optics_lens_plan_free(ft);
    acdc_optics_element_free(lens);
    acdc_optics_field_free(a);
    acdc_optics_field_free(b);
}

/* A lateral offset moves the transmittance; an axial offset applies free space
 * around it (propagate +dz, multiply, propagate -dz). */
static void test_offsets(void **state)
{
    (void)state;
    double dx = 4e-6, lam = 800e-9;
    acdc_optics_grid g;
    assert_int_equal(acdc_optics_grid_init(&g, 2, 64, 64, dx, lam), 0);
    acdc_optics_element *r;
    assert_int_equal(acdc_optics_aperture_rect_alloc(&r, 11 * dx, 7 * dx), 0);
    double complex t0[64 * 64], t1[64 * 64];
    assert_int_equal(acdc_optics_element_sample(r, &g, 2, t0), 0);
    assert_int_equal(acdc_optics_element_set_offset(r, 3 * dx, -5 * dx, 0), 0);
    assert_int_equal(acdc_optics_element_sample(r, &g, 2, t1), 0);
    for (size_t y = 10; y < 54; y++)
        for (size_t x = 10; x < 54; x++)
            assert_true(t1[y * 64 + x] == t0[(y + 5) * 64 + (x - 3)]);
    /* axial: compare with the explicit chain */
    acdc_optics_field *f = uniform(2, 64, dx, lam), *h;
    for (size_t i = 0; i < 64 * 64; i++)
        f->data[i] = cexp(I * 0.01 * (double)(i % 97));
    assert_int_equal(acdc_optics_field_clone(&h, f), 0);
    assert_int_equal(acdc_optics_element_set_offset(r, 3 * dx, -5 * dx, 2.385e-4), 0);
    assert_int_equal(acdc_optics_element_apply(r, f, 2), 0);
    acdc_optics_prop *fw, *bw;
    assert_int_equal(acdc_optics_prop_alloc(&fw, &g, 2.385e-4, ACDC_OPTICS_ASM_BL), 0);
    assert_int_equal(acdc_optics_prop_alloc(&bw, &g, -2.385e-4, ACDC_OPTICS_ASM_BL), 0);
    assert_int_equal(acdc_optics_prop_apply(fw, h, h), 0);
    assert_int_equal(acdc_optics_field_multiply(h, t1), 0);
    assert_int_equal(acdc_optics_prop_apply(bw, h, h), 0);
    double err = 0;
    for (size_t i = 0; i < 64 * 64; i++)
        err = fmax(err, cabs(f->data[i] - h->data[i]));
    assert_true(err <= 1e-13);
    /* applying again reuses the cached plans; a new grid replaces them */
    assert_int_equal(acdc_optics_element_apply(r, f, 2), 0);
    acdc_optics_field *o = uniform(1, 50, dx, lam);
    assert_int_equal(acdc_optics_element_apply(r, o, 2), 0);
    acdc_optics_prop_free(fw);
    acdc_optics_prop_free(bw);
    acdc_optics_field_free(f);
    acdc_optics_field_free(h);
    acdc_optics_field_free(o);
    acdc_optics_element_free(r);
}

static void test_quantise(void **state)
{
    (void)state;
    double ph[5] = {1.7, -0.1, 6.2, M_PI, -M_PI / 2};
    assert_int_equal(acdc_optics_quantise_phase(ph, 5, 2), 0);
    assert_close(ph[0], M_PI / 2, 1e-15);
    assert_close(ph[1], 0, 1e-15);
    assert_close(ph[2], 0, 1e-15);
    assert_close(ph[3], M_PI, 1e-15);
    assert_close(ph[4], 3 * M_PI / 2, 1e-15);
    double a[4] = {0.5, 0, 1, 0.2385};
    assert_int_equal(acdc_optics_quantise_amplitude(a, 4, 3), 0);
    assert_close(a[0], 4.0 / 7, 1e-15);   /* round(3.5) = 4 */
    assert_close(a[1], 0, 0);
    assert_close(a[2], 1, 0);
    assert_close(a[3], 2.0 / 7, 1e-15);   /* 1.6695 -> 2 */
    /* masks quantise their values: 1-bit phase is 0 or pi */
    double phase[4] = {0.1, 1.4, 1.8, 3.0};
    acdc_optics_element *m;
    assert_int_equal(acdc_optics_mask_phase_alloc(&m, 4, 1, 1e-5, 1, phase, 1, 0), 0);
    acdc_optics_grid g;
    assert_int_equal(acdc_optics_grid_init(&g, 1, 4, 1, 1e-5, 633e-9), 0);
    double complex t[4];
    assert_int_equal(acdc_optics_element_sample(m, &g, 1, t), 0);
    assert_close(creal(t[0]), 1, 1e-15);
    assert_close(creal(t[1]), 1, 1e-15);
    assert_close(creal(t[2]), -1, 1e-15);
    assert_close(creal(t[3]), -1, 1e-15);
    acdc_optics_element_free(m);
    double amp[2] = {0.3, 0.9};
    assert_int_equal(acdc_optics_mask_amplitude_alloc(&m, 2, 1, 1e-5, 1, amp, 2, 0), 0);
    assert_int_equal(acdc_optics_grid_init(&g, 1, 2, 1, 1e-5, 633e-9), 0);
    assert_int_equal(acdc_optics_element_sample(m, &g, 1, t), 0);
    assert_close(creal(t[0]), 1.0 / 3, 1e-15);
    assert_close(creal(t[1]), 1, 1e-15);
    acdc_optics_element_free(m);
    assert_int_equal(acdc_optics_mask_amplitude_alloc(&m, 2, 1, 1e-5, 1, amp, 0, 0), 0);
    assert_int_equal(acdc_optics_element_sample(m, &g, 1, t), 0);
    assert_close(creal(t[0]), 0.3, 0);
    acdc_optics_element_free(m);
}

static void test_errors(void **state)
{
    (void)state;
    acdc_optics_element *e = (acdc_optics_element *)state;
    assert_int_equal(acdc_optics_thin_lens_alloc(&e, 0, 0), ACDC_UTIL_EUSAGE);
    assert_null(e);
    assert_int_equal(acdc_optics_thin_lens_alloc(&e, NAN, 0), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_thin_lens_alloc(&e, 0.1, -1), ACDC_UTIL_EUSAGE);
    assert_non_null(strstr(acdc_util_errmsg(), "lens aperture -1 m"));
    assert_int_equal(acdc_optics_thin_lens_alloc(NULL, 0.1, 0), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_aperture_rect_alloc(&e, 0, 1e-3), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_aperture_rect_alloc(&e, 1e-3, -1), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_aperture_rect_alloc(&e, INFINITY, 1), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_aperture_circ_alloc(&e, 0), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_aperture_circ_alloc(&e, NAN), ACDC_UTIL_EUSAGE);
    double complex t[4] = {1, 0.5, I, 0};
    assert_int_equal(acdc_optics_mask_alloc(&e, 0, 1, 1e-5, 1, t, 0), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_mask_alloc(&e, 4, 1, 0, 1, t, 0), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_mask_alloc(&e, 4, 1, 1e-5, 0, t, 0), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_mask_alloc(&e, 4, 1, 1e-5, 1.2, t, 0), ACDC_UTIL_EUSAGE);
    assert_non_null(strstr(acdc_util_errmsg(), "fill factor 1.2"));
    assert_int_equal(acdc_optics_mask_alloc(&e, 4, 1, 1e-5, 1, NULL, 0), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_mask_alloc(&e, 4, 1, 1e-5, 1, t, 2), ACDC_UTIL_EUSAGE);
    t[2] = 1.5;
    assert_int_equal(acdc_optics_mask_alloc(&e, 4, 1, 1e-5, 1, t, 0), ACDC_UTIL_EUSAGE);
    assert_non_null(strstr(acdc_util_errmsg(), "cannot amplify"));
    t[2] = NAN;
    assert_int_equal(acdc_optics_mask_alloc(&e, 4, 1, 1e-5, 1, t, 0), ACDC_UTIL_EUSAGE);
    double a[2] = {0.5, 1.5}, ph[2] = {0, NAN};
    assert_int_equal(acdc_optics_mask_amplitude_alloc(&e, 2, 1, 1e-5, 1, a, 0, 0),
                     ACDC_UTIL_EUSAGE);
    assert_non_null(strstr(acdc_util_errmsg(), "outside [0, 1]"));
    assert_int_equal(acdc_optics_mask_phase_alloc(&e, 2, 1, 1e-5, 1, ph, 0, 0), ACDC_UTIL_EUSAGE);
    ph[1] = 1;
    assert_int_equal(acdc_optics_mask_phase_alloc(&e, 2, 1, 1e-5, 1, ph, 25, 0), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_mask_phase_alloc(&e, 2, 1, 1e-5, 1, ph, -1, 0), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_mask_phase_alloc(&e, 2, 1, 1e-5, 1, NULL, 0, 0), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_quantise_phase(ph, 2, 0), ACDC_UTIL_EUSAGE);
    ph[0] = INFINITY;
    assert_int_equal(acdc_optics_quantise_phase(ph, 2, 3), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_quantise_amplitude(a, 2, 3), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_quantise_amplitude(a, 2, 30), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_quantise_amplitude(NULL, 2, 3), ACDC_UTIL_EUSAGE);
    /* sampling and applying */
    assert_int_equal(acdc_optics_thin_lens_alloc(&e, 0.1, 0), 0);
    acdc_optics_grid g;
    assert_int_equal(acdc_optics_grid_init(&g, 1, 4, 1, 1e-5, 633e-9), 0);
    double complex s[4];
    assert_int_equal(acdc_optics_element_sample(e, &g, -1, s), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_element_sample(e, &g, 0, s), ACDC_UTIL_EUSAGE);   /* not a rect */
    assert_non_null(strstr(acdc_util_errmsg(), "band-limited"));
    assert_int_equal(acdc_optics_element_sample(e, &g, 2000, s), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_element_sample(e, &g, 1, NULL), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_element_sample(NULL, &g, 1, s), ACDC_UTIL_EUSAGE);
    g.pitch_m = 0;
    assert_int_equal(acdc_optics_element_sample(e, &g, 1, s), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_element_set_offset(e, NAN, 0, 0), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_element_set_offset(NULL, 0, 0, 0), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_element_apply(e, NULL, 1), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_field_multiply(NULL, s), ACDC_UTIL_EUSAGE);
    acdc_optics_element_free(e);
    acdc_optics_element_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aperture_area),
        cmocka_unit_test(test_mask_fill),
        cmocka_unit_test(test_pixel_sinc_envelope),
        cmocka_unit_test(test_thin_lens_focus),
        cmocka_unit_test(test_offsets),
        cmocka_unit_test(test_quantise),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
