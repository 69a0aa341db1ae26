/* SPDX-License-Identifier: GPL-3.0-or-later */
/* tests/test_optics_propagate.c -- lenses and free-space propagators against closed
 * forms (sinc, Airy, Fresnel integrals, Gaussian beam, Talbot) and operator identities
 * (Parseval, round trip, adjoint, 4f flip, agreement between methods, thread count).
 * Each test prints its measured error ("# measured ...") for optics/README.md. */
#include "tests/testutil.h"

#include "optics/element.h"
#include "optics/field.h"
#include "optics/propagate.h"
#include "util/error.h"

#include <complex.h>
#include <gsl/gsl_integration.h>
#include <gsl/gsl_sf_bessel.h>
#include <omp.h>

static acdc_optics_field *field(int rank, size_t nx, size_t ny, double pitch, double lam,
                                size_t nb)
{
    acdc_optics_grid g;
    assert_int_equal(acdc_optics_grid_init(&g, rank, nx, ny, pitch, lam), 0);
    acdc_optics_field *f = NULL;
    assert_int_equal(acdc_optics_field_alloc(&f, &g, nb), 0);
    return f;
}

/* Deterministic "random" complex values in [-1, 1]^2 (a plain LCG, fixed seed). */
static void fill_noise(acdc_optics_field *f, unsigned long long seed)
{
    size_t n = f->nb * acdc_optics_grid_size(&f->g);
    unsigned long long s = seed;
    for (size_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        double a = (double)(s >> 11) / 9007199254740992.0 * 2 - 1;
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        double b = (double)(s >> 11) / 9007199254740992.0 * 2 - 1;
        f->data[i] = a + I * b;
    }
}

static double max_abs_diff(const double complex *a, const double complex *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, cabs(a[i] - b[i]));
    return m;
}

static double max_abs(const double complex *a, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, cabs(a[i]));
    return m;
}

static double sinc(double t)
{
    return t == 0 ? 1 : sin(M_PI * t) / (M_PI * t);
}

/* ------------------------------------------------------------------ lens basics */

/* A point on the axis (index floor(M/2)) becomes a uniform field of value
 * dx / sqrt(i lambda f); a plane wave tilted to u0 = m du focuses on index c + m. */
static void test_lens_centring(void **state)
{
    (void)state;
    for (size_t m = 15; m <= 16; m++) {
        double dx = 8e-6, lam = 633e-9, f = 0.2;
        acdc_optics_field *in = field(1, m, 1, dx, lam, 1), *out = field(1, m, 1, 1, lam, 1);
        acdc_optics_lens_plan *p;
        assert_int_equal(acdc_optics_lens_plan_alloc(&p, &in->g, f), 0);
        out->g = *acdc_optics_lens_plan_output(p);
        assert_close(out->g.pitch_m, lam * f / (m * dx), 1e-18);
        size_t c = acdc_optics_axis_index(m);
        assert_int_equal(c, m / 2);
        in->data[c] = 1;
        assert_int_equal(acdc_optics_lens_forward(p, in, out), 0);
        double complex want = dx / csqrt(I * lam * f);
        for (size_t k = 0; k < m; k++)
            assert_close(cabs(out->data[k] - want), 0, 1e-12 * cabs(want));
        /* tilted plane wave exp(i 2 pi x u0 / (lambda f)) at u0 = 3 du */
        double du = out->g.pitch_m;
        for (size_t j = 0; j < m; j++) {
            double x = acdc_optics_coord_m(j, m, dx);
            in->data[j] = cexp(I * 2 * M_PI * x * 3 * du / (lam * f));
        }
        assert_int_equal(acdc_optics_lens_forward(p, in, out), 0);
        for (size_t k = 0; k < m; k++) {
            double want_abs = k == c + 3 ? m * cabs(want) : 0;
            assert_close(cabs(out->data[k]), want_abs, 1e-11 * m * cabs(want));
        }
        acdc_optics_lens_plan_free(p);
        acdc_optics_field_free(in);
        acdc_optics_field_free(out);
    }
}

/* Rectangular aperture of width a = 128 dx in the front focal plane, M = 512: the
 * intensity in the back focal plane is sinc^2(a u / (lambda f)), normalised to its
 * peak.  Tolerance 5e-5 (HCIPy's). */
static void test_lens_rect_sinc(void **state)
{
    (void)state;
    size_t m = 512, n = 128;
    double dx = 10e-6, lam = 633e-9, f = 0.1, a = n * dx;
    acdc_optics_field *in = field(1, m, 1, dx, lam, 1);
    acdc_optics_element *ap;
    assert_int_equal(acdc_optics_aperture_rect_alloc(&ap, a, a), 0);
    for (size_t j = 0; j < m; j++)
        in->data[j] = 1;
    assert_int_equal(acdc_optics_element_apply(ap, in, 8), 0);
    acdc_optics_lens_plan *p;
    assert_int_equal(acdc_optics_lens_plan_alloc(&p, &in->g, f), 0);
    assert_int_equal(acdc_optics_lens_forward(p, in, in), 0);
    double du = in->g.pitch_m, i0 = a * a / (lam * f), err = 0, aerr = 0;
    for (size_t k = 0; k < m; k++) {
        double u = acdc_optics_coord_m(k, m, du), s = sinc(a * u / (lam * f));
        double got = creal(in->data[k] * conj(in->data[k]));
        err = fmax(err, fabs(got / i0 - s * s));
        /* the complex amplitude too: a / sqrt(i lambda f) sinc */
        aerr = fmax(aerr, cabs(in->data[k] - a / csqrt(I * lam * f) * s) / sqrt(i0));
    }
    print_message("# measured rect->sinc (1D, M=512, a=128 dx): max |I/I0 - sinc^2| = %.3g "
                  "(tol 5e-5); max amplitude error / peak = %.3g\n", err, aerr);
    assert_true(err <= 5e-5);
    acdc_optics_lens_plan_free(p);
    acdc_optics_element_free(ap);
    acdc_optics_field_free(in);
}

/* Circular aperture of diameter D = 256 dx on 512^2 (edge pixels area-weighted with
 * 16 x 16 sub-samples), intensity normalised by the analytic peak (pi D^2/4)^2/(lambda f)^2: I(r) = I0 [2 J1(v)/v]^2, v = pi D r / (lambda f).  Tol 3e-5. */
static void test_lens_circ_airy(void **state)
{
    (void)state;
    size_t m = 512;
    double dx = 10e-6, lam = 633e-9, f = 0.1, d = 256 * dx;
    acdc_optics_field *in = field(2, m, m, dx, lam, 1);
    acdc_optics_element *ap;
    assert_int_equal(acdc_optics_aperture_circ_alloc(&ap, d), 0);
    for (size_t j = 0; j < m * m; j++)
        in->data[j] = 1;
    assert_int_equal(acdc_optics_element_apply(ap, in, 16), 0);
    acdc_optics_lens_plan *p;
    assert_int_equal(acdc_optics_lens_plan_alloc(&p, &in->g, f), 0);
    assert_int_equal(acdc_optics_lens_forward(p, in, in), 0);
    double du = in->g.pitch_m, a0 = M_PI * d * d / 4 / (lam * f), err = 0;
    for (size_t ky = 0; ky < m; ky++)
        for (size_t kx = 0; kx < m; kx++) {
            double u = acdc_optics_coord_m(kx, m, du), v = acdc_optics_coord_m(ky, m, du);
            double arg = M_PI * d * hypot(u, v) / (lam * f);
            double airy = arg == 0 ? 1 : 2 * gsl_sf_bessel_J1(arg) / arg;
            double complex e = in->data[ky * m + kx];
            err = fmax(err, fabs(creal(e * conj(e)) / (a0 * a0) - airy * airy));
        }
    print_message("# measured circ->Airy (2D, 512^2, D=256 dx): max |I/I0 - [2J1(v)/v]^2| = "
                  "%.3g (tol 3e-5)\n", err);
    assert_true(err <= 3e-5);
    acdc_optics_lens_plan_free(p);
    acdc_optics_element_free(ap);
    acdc_optics_field_free(in);
}

/* Parseval and round trip for the lens, 1D (even and odd M, batch) and 2D. */
static void test_lens_parseval_roundtrip(void **state)
{
    (void)state;
    const size_t sizes[][3] = {{1024, 1, 1}, {777, 1, 1}, {96, 96, 2}, {45, 45, 2}};
    for (size_t t = 0; t < 4; t++) {
        int rank = (int)sizes[t][2];
        size_t nx = sizes[t][0], ny = sizes[t][1];
        acdc_optics_field *in = field(rank, nx, ny, 7.3e-6, 532e-9, 3);
        fill_noise(in, 2385 + t);
        acdc_optics_lens_plan *p;
        assert_int_equal(acdc_optics_lens_plan_alloc(&p, &in->g, 0.137), 0);
        acdc_optics_field *mid = field(rank, nx, ny, 1, 532e-9, 3), *back;
        mid->g = *acdc_optics_lens_plan_output(p);
        assert_int_equal(acdc_optics_field_clone(&back, in), 0);
        assert_int_equal(acdc_optics_lens_forward(p, in, mid), 0);
        double perr = 0;
        for (size_t b = 0; b < 3; b++) {
            double p0, p1;
            assert_int_equal(acdc_optics_field_power_w(in, b, &p0), 0);
            assert_int_equal(acdc_optics_field_power_w(mid, b, &p1), 0);
            perr = fmax(perr, fabs(p1 - p0) / p0);
        }
        assert_int_equal(acdc_optics_lens_adjoint(p, mid, back), 0);
        size_t n = 3 * nx * ny;
        double rerr = max_abs_diff(back->data, in->data, n) / max_abs(in->data, n);
        print_message("# measured lens rank %d %zux%zu: Parseval rel err %.3g, round trip "
                      "rel err %.3g (tol 1e-12)\n", rank, nx, ny, perr, rerr);
        assert_true(perr <= 1e-12);
        assert_true(rerr <= 1e-12);
        acdc_optics_lens_plan_free(p);
        acdc_optics_field_free(in);
        acdc_optics_field_free(mid);
        acdc_optics_field_free(back);
    }
}

/* <A x, y> = <x, A^H y> for the lens and every free-space method. */
static double adjoint_err_lens(int rank, size_t m)
{
    acdc_optics_field *x = field(rank, m, rank == 2 ? m : 1, 6.1e-6, 633e-9, 2);
    acdc_optics_lens_plan *p;
    assert_int_equal(acdc_optics_lens_plan_alloc(&p, &x->g, 0.31), 0);
    acdc_optics_field *y = field(rank, m, rank == 2 ? m : 1, 1, 633e-9, 2);
    y->g = *acdc_optics_lens_plan_output(p);
    acdc_optics_field *ax, *ahy;
    assert_int_equal(acdc_optics_field_clone(&ax, y), 0);
    assert_int_equal(acdc_optics_field_clone(&ahy, x), 0);
    fill_noise(x, 11);
    fill_noise(y, 12);
    assert_int_equal(acdc_optics_lens_forward(p, x, ax), 0);
    assert_int_equal(acdc_optics_lens_adjoint(p, y, ahy), 0);
    double complex l, r;
    assert_int_equal(acdc_optics_field_inner(ax, y, &l), 0);
    assert_int_equal(acdc_optics_field_inner(x, ahy, &r), 0);
    acdc_optics_lens_plan_free(p);
    acdc_optics_field_free(x);
    acdc_optics_field_free(y);
    acdc_optics_field_free(ax);
    acdc_optics_field_free(ahy);
    return cabs(l - r) / cabs(l);
}

static double adjoint_err_prop_ny(int rank, size_t m, size_t ny, enum acdc_optics_method meth,
                                  double z)
{
    acdc_optics_field *x = field(rank, m, ny, 6.1e-6, 633e-9, 2), *y, *ax, *ahy;
    assert_int_equal(acdc_optics_field_clone(&y, x), 0);
    fill_noise(x, 21);
    fill_noise(y, 22);
    assert_int_equal(acdc_optics_field_clone(&ax, x), 0);
    assert_int_equal(acdc_optics_field_clone(&ahy, x), 0);
    acdc_optics_prop *p;
    assert_int_equal(acdc_optics_prop_alloc(&p, &x->g, z, meth), 0);
    assert_int_equal(acdc_optics_prop_apply(p, x, ax), 0);
    assert_int_equal(acdc_optics_prop_adjoint(p, y, ahy), 0);
    double complex l, r;
    assert_int_equal(acdc_optics_field_inner(ax, y, &l), 0);
    assert_int_equal(acdc_optics_field_inner(x, ahy, &r), 0);
    acdc_optics_prop_free(p);
    acdc_optics_field_free(x);
    acdc_optics_field_free(y);
    acdc_optics_field_free(ax);
    acdc_optics_field_free(ahy);
    return cabs(l - r) / cabs(l);
}

static double adjoint_err_prop(int rank, size_t m, enum acdc_optics_method meth, double z)
{
    return adjoint_err_prop_ny(rank, m, rank == 2 ? m : 1, meth, z);
}

static void test_adjoint(void **state)
{
    (void)state;
    double e[10] = {
        adjoint_err_lens(1, 512), adjoint_err_lens(1, 333), adjoint_err_lens(2, 64),
        adjoint_err_lens(2, 63),
        adjoint_err_prop(1, 500, ACDC_OPTICS_FRESNEL_TF, 0.01),
        adjoint_err_prop(1, 500, ACDC_OPTICS_FRESNEL_IR, 0.05),
        adjoint_err_prop(1, 501, ACDC_OPTICS_ASM_BL, 0.02),
        adjoint_err_prop(2, 64, ACDC_OPTICS_FRESNEL_TF, 0.001),
        adjoint_err_prop(2, 65, ACDC_OPTICS_FRESNEL_IR, 0.01),
        adjoint_err_prop(2, 64, ACDC_OPTICS_ASM_BL, 0.003),
    };
    double m = 0;
    for (int i = 0; i < 10; i++)
        m = fmax(m, e[i]);
    /* non-square grids, widths not a multiple of the column block */
    double ns[3] = {adjoint_err_prop_ny(2, 53, 30, ACDC_OPTICS_FRESNEL_TF, 0.001),
                    adjoint_err_prop_ny(2, 30, 53, ACDC_OPTICS_ASM_BL, 0.002),
                    adjoint_err_prop_ny(2, 37, 21, ACDC_OPTICS_FRESNEL_IR, 0.02)};
    print_message("# measured adjoint identity, non-square 53x30 tf %.2g, 30x53 asm-bl %.2g, "
                  "37x21 ir %.2g\n", ns[0], ns[1], ns[2]);
    for (int i = 0; i < 3; i++)
        m = fmax(m, ns[i]);
    print_message("# measured adjoint identity |<Ax,y> - <x,A^H y>| / |<Ax,y>|: lens 1D "
                  "%.2g %.2g, 2D %.2g %.2g; tf %.2g, ir %.2g, asm-bl %.2g (1D); tf %.2g, "
                  "ir %.2g, asm-bl %.2g (2D); max %.3g (tol 1e-12)\n", e[0], e[1], e[2],
                  e[3], e[4], e[5], e[6], e[7], e[8], e[9], m);
    assert_true(m <= 1e-12);
}

/* f - lens - f - f - lens - f: out[j] = g in[(2c - j) mod M], g = -i (1D) or -1 (2D). */
static void test_4f_flip(void **state)
{
    (void)state;
    const size_t sizes[][2] = {{256, 1}, {255, 1}, {32, 2}, {33, 2}};
    double worst = 0;
    for (size_t t = 0; t < 4; t++) {
        size_t m = sizes[t][0];
        int rank = (int)sizes[t][1];
        size_t ny = rank == 2 ? m : 1, c = m / 2;
        double dx = 8e-6, lam = 633e-9, f = m * dx * dx / lam;   /* equal pitches */
        acdc_optics_field *in = field(rank, m, ny, dx, lam, 2), *out, *out2;
        fill_noise(in, 77 + t);
        assert_int_equal(acdc_optics_field_clone(&out, in), 0);
        assert_int_equal(acdc_optics_field_clone(&out2, in), 0);
        acdc_optics_lens_plan *p;
        assert_int_equal(acdc_optics_lens_plan_alloc(&p, &in->g, f), 0);
        assert_true(acdc_optics_grid_same(acdc_optics_lens_plan_output(p), &in->g));
        assert_int_equal(acdc_optics_lens_forward(p, in, out), 0);
        assert_int_equal(acdc_optics_lens_forward(p, out, out), 0);
        assert_int_equal(acdc_optics_4f_apply(p, NULL, p, in, out2), 0);
        double complex g = rank == 1 ? -I : -1;
        double err = 0, fused = max_abs_diff(out->data, out2->data, 2 * m * ny);
        for (size_t b = 0; b < 2; b++)
            for (size_t y = 0; y < ny; y++)
                for (size_t x = 0; x < m; x++) {
                    size_t fx = (2 * c + m - x) % m, fy = rank == 2 ? (2 * c + m - y) % m : 0;
                    double complex want = g * in->data[(b * ny + fy) * m + fx];
                    err = fmax(err, cabs(out->data[(b * ny + y) * m + x] - want));
                }
        print_message("# measured 4f flip rank %d M=%zu: max |out - g in(-x)| = %.3g, fused "
                      "vs two lenses %.3g (tol 1e-12)\n", rank, m, err, fused);
        worst = fmax(worst, fmax(err, fused));
        acdc_optics_lens_plan_free(p);
        acdc_optics_field_free(in);
        acdc_optics_field_free(out);
        acdc_optics_field_free(out2);
    }
    assert_true(worst <= 1e-12);
}

/* 4f with a Fourier-plane mask: a low-pass slit through acdc_optics_4f_apply equals the
 * lens, explicit mask multiplication and lens. */
static void test_4f_mask(void **state)
{
    (void)state;
    size_t m = 200;
    acdc_optics_field *in = field(1, m, 1, 5e-6, 800e-9, 4), *a, *b;
    fill_noise(in, 5);
    acdc_optics_lens_plan *l1, *l2;
    assert_int_equal(acdc_optics_lens_plan_alloc(&l1, &in->g, 0.05), 0);
    assert_int_equal(acdc_optics_lens_plan_alloc(&l2, acdc_optics_lens_plan_output(l1), 0.1), 0);
    double complex mask[200];
    for (size_t k = 0; k < m; k++)
        mask[k] = (k > 70 && k < 130) ? 0.5 * cexp(I * 0.3 * (double)k) : 0;
    assert_int_equal(acdc_optics_field_clone(&a, in), 0);
    assert_int_equal(acdc_optics_field_clone(&b, in), 0);
    assert_int_equal(acdc_optics_4f_apply(l1, mask, l2, in, a), 0);
    assert_int_equal(acdc_optics_lens_forward(l1, in, b), 0);
    assert_int_equal(acdc_optics_field_multiply(b, mask), 0);
    assert_int_equal(acdc_optics_lens_forward(l2, b, b), 0);
    assert_true(acdc_optics_grid_same(&a->g, &b->g));
    /* magnification f2/f1 = 2: the image pitch is twice the object pitch */
    assert_close(a->g.pitch_m, 2 * 5e-6, 1e-18);
    assert_true(max_abs_diff(a->data, b->data, 4 * m) <= 1e-13);
    acdc_optics_lens_plan_free(l1);
    acdc_optics_lens_plan_free(l2);
    acdc_optics_field_free(in);
    acdc_optics_field_free(a);
    acdc_optics_field_free(b);
}

/* A batch of 2D fields shared out one field per thread gives, bit for bit, what each
 * field gives alone (whose transforms share the threads), and the centred window of the
 * output computed alone (acdc_optics_lens_forward_centre) is that window of the whole. */
static void test_lens_batch_and_centre(void **state)
{
    (void)state;
    int saved = omp_get_max_threads();
    omp_set_num_threads(2);
    const size_t L = 48, nb = 3, m = 13;
    acdc_optics_field *in = field(2, L, L, 4e-6, 633e-9, nb), *all, *one = field(2, L, L, 4e-6,
                                                                             633e-9, 1);
    fill_noise(in, 11);
    acdc_optics_lens_plan *p;
    assert_int_equal(acdc_optics_lens_plan_alloc(&p, &in->g, 0.08), 0);
    assert_int_equal(acdc_optics_field_clone(&all, in), 0);
    assert_int_equal(acdc_optics_lens_forward(p, in, all), 0);
    double complex *win = malloc(nb * m * m * sizeof *win);
    assert_non_null(win);
    for (size_t b = 0; b < nb; b++) {
        memcpy(one->data, in->data + b * L * L, L * L * sizeof *one->data);
        one->g = in->g;
        assert_int_equal(acdc_optics_lens_forward(p, one, one), 0);
        assert_memory_equal(one->data, all->data + b * L * L, L * L * sizeof *one->data);
    }
    assert_int_equal(acdc_optics_lens_forward_centre(p, in, m, win), 0);
    const size_t j0 = L / 2 - m / 2;
    for (size_t b = 0; b < nb; b++)
        for (size_t y = 0; y < m; y++)
            assert_memory_equal(win + (b * m + y) * m, all->data + b * L * L + (j0 + y) * L + j0,
                                m * sizeof *win);
    assert_int_equal(acdc_optics_lens_forward_centre(p, in, L + 1, win), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_lens_forward_centre(p, in, m, NULL), ACDC_UTIL_EUSAGE);
    omp_set_num_threads(saved);
    free(win);
    acdc_optics_lens_plan_free(p);
    acdc_optics_field_free(in);
    acdc_optics_field_free(all);
    acdc_optics_field_free(one);
}

/* A 4f system's point-spread function over a centred window (acdc_optics_4f_psf) against
 * the whole planes through acdc_optics_4f_apply: random masks and inputs confined to the
 * window, two systems summed, even and odd planes and windows, the largest window
 * (2m - 1 = L), 1 and 2 threads (bit-identical). */
static void test_4f_psf(void **state)
{
    (void)state;
    const size_t cases[][2] = {{64, 16}, {32, 7}, {15, 8}, {40, 1}};
    int saved = omp_get_max_threads();
    double worst = 0;
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        const size_t L = cases[ci][0], m = cases[ci][1], nb = 3, j0 = L / 2 - m / 2;
        acdc_optics_field *in[2], *full[2];
        acdc_optics_lens_plan *l1, *l2;
        acdc_optics_4f_psf *psf[2];
        double complex *mask[2], *got[2];
        for (int t = 0; t < 2; t++) {
            in[t] = field(2, L, L, 6e-6, 633e-9, nb);
            fill_noise(in[t], 20 + (unsigned long long)t);
            for (size_t b = 0; b < nb; b++)   /* zero outside the window */
                for (size_t y = 0; y < L; y++)
                    for (size_t x = 0; x < L; x++)
                        if (y < j0 || y >= j0 + m || x < j0 || x >= j0 + m)
                            in[t]->data[(b * L + y) * L + x] = 0;
        }
        assert_int_equal(acdc_optics_lens_plan_alloc(&l1, &in[0]->g, 0.05), 0);
        assert_int_equal(acdc_optics_lens_plan_alloc(&l2, acdc_optics_lens_plan_output(l1),
                                                     0.1), 0);
        for (int t = 0; t < 2; t++) {
            acdc_optics_field *mk = field(2, L, L, 1, 633e-9, 1);
            fill_noise(mk, 30 + (unsigned long long)t);
            mask[t] = mk->data;
            mk->data = NULL;
            acdc_optics_field_free(mk);
            assert_int_equal(acdc_optics_field_clone(&full[t], in[t]), 0);
            assert_int_equal(acdc_optics_4f_apply(l1, mask[t], l2, in[t], full[t]), 0);
            assert_int_equal(acdc_optics_4f_psf_alloc(&psf[t], l1, mask[t], l2, m), 0);
            got[t] = malloc(nb * m * m * sizeof *got[t]);
            assert_non_null(got[t]);
        }
        for (int pass = 0; pass < 2; pass++) {
            omp_set_num_threads(pass + 1);
            assert_int_equal(acdc_optics_4f_psf_apply((const acdc_optics_4f_psf *const *)psf,
                                                      (const acdc_optics_field *const *)in, 2,
                                                      got[pass]), 0);
        }
        omp_set_num_threads(saved);
        assert_memory_equal(got[0], got[1], nb * m * m * sizeof *got[0]);
        double err = 0, ref = 0;
        for (size_t b = 0; b < nb; b++)
            for (size_t y = 0; y < m; y++)
                for (size_t x = 0; x < m; x++) {
                    const size_t i = (b * L + j0 + y) * L + j0 + x;
                    const double complex want = full[0]->data[i] + full[1]->data[i];
                    err = fmax(err, cabs(got[0][(b * m + y) * m + x] - want));
                    ref = fmax(ref, cabs(want));
                }
        assert_true(ref > 0);
        worst = fmax(worst, err / ref);
        assert_true(err <= 1e-12 * ref);
        for (int t = 0; t < 2; t++) {
            acdc_optics_4f_psf_free(psf[t]);
            acdc_optics_field_free(in[t]);
            acdc_optics_field_free(full[t]);
            free(mask[t]);
            free(got[t]);
        }
        /* a window too large for the planes; rank 1 */
        acdc_optics_4f_psf *bad = (acdc_optics_4f_psf *)1;
        assert_int_equal(acdc_optics_4f_psf_alloc(&bad, l1, NULL, l2, (L + 3) / 2),
                         ACDC_UTIL_EUSAGE);
        assert_null(bad);
        acdc_optics_lens_plan_free(l1);
        acdc_optics_lens_plan_free(l2);
    }
    acdc_optics_field *f1 = field(1, 32, 1, 6e-6, 633e-9, 1);
    acdc_optics_lens_plan *p1;
    acdc_optics_4f_psf *bad = NULL;
    assert_int_equal(acdc_optics_lens_plan_alloc(&p1, &f1->g, 0.05), 0);
    assert_int_equal(acdc_optics_4f_psf_alloc(&bad, p1, NULL, p1, 4), ACDC_UTIL_EUSAGE);
    acdc_optics_lens_plan_free(p1);
    acdc_optics_field_free(f1);
    printf("# measured 4f window vs whole planes: max relative error %.2e\n", worst);
}

/* ------------------------------------------------------------- free space */

static void test_prop_roundtrip_parseval(void **state)
{
    (void)state;
    double worst = 0;
    for (int rank = 1; rank <= 2; rank++) {
        size_t m = rank == 1 ? 1000 : 80;
        acdc_optics_field *in = field(rank, m, rank == 2 ? m : 1, 9e-6, 633e-9, 2), *out;
        fill_noise(in, 99);
        assert_int_equal(acdc_optics_field_clone(&out, in), 0);
        acdc_optics_prop *fw, *bw;
        assert_int_equal(acdc_optics_prop_alloc(&fw, &in->g, 0.0123, ACDC_OPTICS_FRESNEL_TF), 0);
        assert_int_equal(acdc_optics_prop_alloc(&bw, &in->g, -0.0123, ACDC_OPTICS_FRESNEL_TF), 0);
        assert_int_equal(acdc_optics_prop_apply(fw, in, out), 0);
        double p0, p1;
        assert_int_equal(acdc_optics_field_power_w(in, 1, &p0), 0);
        assert_int_equal(acdc_optics_field_power_w(out, 1, &p1), 0);
        assert_int_equal(acdc_optics_prop_apply(bw, out, out), 0);
        size_t n = 2 * acdc_optics_grid_size(&in->g);
        double rt = max_abs_diff(out->data, in->data, n) / max_abs(in->data, n);
        /* the adjoint is the inverse for the unitary transfer function */
        assert_int_equal(acdc_optics_prop_apply(fw, in, out), 0);
        assert_int_equal(acdc_optics_prop_adjoint(fw, out, out), 0);
        double ad = max_abs_diff(out->data, in->data, n) / max_abs(in->data, n);
        print_message("# measured fresnel-tf rank %d: Parseval %.3g, forward(z) forward(-z) "
                      "%.3g, adjoint(forward) %.3g (tol 1e-12)\n", rank,
                      fabs(p1 - p0) / p0, rt, ad);
        worst = fmax(worst, fmax(fabs(p1 - p0) / p0, fmax(rt, ad)));
        acdc_optics_prop_free(fw);
        acdc_optics_prop_free(bw);
        acdc_optics_field_free(in);
        acdc_optics_field_free(out);
    }
    assert_true(worst <= 1e-12);
}

/* Fresnel integral C(t) + i S(t) = int_0^t exp(i pi s^2 / 2) ds by GSL quadrature. */
static double fres_re(double s, void *p)
{
    (void)p;
    return cos(M_PI * s * s / 2);
}

static double fres_im(double s, void *p)
{
    (void)p;
    return sin(M_PI * s * s / 2);
}

static double complex fresnel_cs(double t, gsl_integration_workspace *w)
{
    gsl_function fc = {fres_re, NULL}, fs = {fres_im, NULL};
    double c, s, e;
    gsl_integration_qag(&fc, 0, t, 1e-13, 1e-12, 2000, GSL_INTEG_GAUSS61, w, &c, &e);
    gsl_integration_qag(&fs, 0, t, 1e-13, 1e-12, 2000, GSL_INTEG_GAUSS61, w, &s, &e);
    return c + I * s;
}

/* Square aperture of side 2w = 32 dx on 512^2 in the near field: U/U0 = e^{ikz} F(x)
 * F(y) with F(x) = [E(t2) - E(t1)] / sqrt(2i), E = C + iS, t = sqrt(2/(lambda z))
 * (+-w - x) (Goodman sec. 4.5.1).  The aperture is sampled band-limited (oversample
 * 0), so the grid carries its exact spectrum up to Nyquist; the error is then what
 * the sampling cannot hold (fringes finer than 2 dx far from the aperture). */
static double square_aperture_err(double zfac, enum acdc_optics_method meth,
                                  enum acdc_optics_method *used)
{
    size_t m = 512;
    double dx = 10e-6, lam = 500e-9, L = m * dx, w = 16 * dx;
    double z = zfac * dx * L / lam;
    acdc_optics_field *f = field(2, m, m, dx, lam, 1);
    acdc_optics_element *ap;
    assert_int_equal(acdc_optics_aperture_rect_alloc(&ap, 2 * w, 2 * w), 0);
    for (size_t i = 0; i < m * m; i++)
        f->data[i] = 1;
    assert_int_equal(acdc_optics_element_apply(ap, f, 0), 0);
    acdc_optics_prop *p;
    assert_int_equal(acdc_optics_prop_alloc(&p, &f->g, z, meth), 0);
    *used = acdc_optics_prop_method(p);
    assert_int_equal(acdc_optics_prop_apply(p, f, f), 0);
    gsl_integration_workspace *ws = gsl_integration_workspace_alloc(2000);
    double complex *F = malloc(m * sizeof *F);
    double q = sqrt(2 / (lam * z));
    for (size_t j = 0; j < m; j++) {
        double x = acdc_optics_coord_m(j, m, dx);
        F[j] = (fresnel_cs(q * (w - x), ws) - fresnel_cs(q * (-w - x), ws)) / csqrt(2 * I);
    }
    double err = 0;
    for (size_t y = 0; y < m; y++)
        for (size_t x = 0; x < m; x++) {
            double want = creal(F[x] * conj(F[x])) * creal(F[y] * conj(F[y]));
            double complex e = f->data[y * m + x];
            err = fmax(err, fabs(creal(e * conj(e)) - want));
        }
    free(F);
    gsl_integration_workspace_free(ws);
    acdc_optics_prop_free(p);
    acdc_optics_element_free(ap);
    acdc_optics_field_free(f);
    return err;
}

static void test_square_aperture_fresnel(void **state)
{
    (void)state;
    const double fac[3] = {0.2, 1, 5}, tol[3] = {0.02, 0.01, 0.01};
    double e[3];
    for (int i = 0; i < 3; i++) {
        enum acdc_optics_method used;
        e[i] = square_aperture_err(fac[i], ACDC_OPTICS_AUTO, &used);
        print_message("# measured square aperture z = %g dx L / lambda (%s, auto): max "
                      "intensity error %.3g (tol %g)\n", fac[i], acdc_optics_method_name(used),
                      e[i], tol[i]);
    }
    for (int i = 0; i < 3; i++)
        assert_true(e[i] <= tol[i]);
    /* the explicit methods in their own regimes */
    enum acdc_optics_method used;
    double e1 = square_aperture_err(0.2, ACDC_OPTICS_FRESNEL_TF, &used);
    double e2 = square_aperture_err(1, ACDC_OPTICS_FRESNEL_TF, &used);
    double e3 = square_aperture_err(5, ACDC_OPTICS_FRESNEL_IR, &used);
    double e4 = square_aperture_err(5, ACDC_OPTICS_ASM_BL, &used);
    print_message("# measured square aperture fresnel-tf 0.2x %.3g, fresnel-tf 1x %.3g, "
                  "fresnel-ir 5x %.3g, asm-bl 5x (band limit active) %.3g\n", e1, e2, e3, e4);
    assert_true(e1 <= 0.02 && e2 <= 0.01 && e3 <= 0.01 && e4 <= 0.01);
}

/* Gaussian beam waist w0 = 100 um at z = 0: after z, w(z) = w0 sqrt(1 + (z/zR)^2) and
 * the wavefront radius R(z) = z (1 + (zR/z)^2), zR = pi w0^2 / lambda.  Measured from the
 * field: w from the second moment of |E|^2, R from a least-squares fit of the phase
 * against r^2 where the intensity exceeds 0.1 of the peak. */
static void test_gaussian_beam(void **state)
{
    (void)state;
    size_t m = 256;
    double dx = 8e-6, lam = 633e-9, w0 = 100e-6, zr = M_PI * w0 * w0 / lam;
    const double zs[3] = {0.5 * zr, zr, 2 * zr};
    double worst_w = 0, worst_r = 0, worst_f = 0;
    for (int t = 0; t < 3; t++) {
        acdc_optics_field *f = field(2, m, m, dx, lam, 1);
        for (size_t y = 0; y < m; y++)
            for (size_t x = 0; x < m; x++) {
                double r2 = pow(acdc_optics_coord_m(x, m, dx),
                                2) + pow(acdc_optics_coord_m(y, m, dx), 2);
                f->data[y * m + x] = exp(-r2 / (w0 * w0));
            }
        acdc_optics_prop *p;
        assert_int_equal(acdc_optics_prop_alloc(&p, &f->g, zs[t], ACDC_OPTICS_AUTO), 0);
        assert_int_equal(acdc_optics_prop_apply(p, f, f), 0);
        double z = zs[t], wz = w0 * sqrt(1 + pow(z / zr, 2)), rz = z * (1 + pow(zr / z, 2));
        double gouy = atan(z / zr), k = 2 * M_PI / lam;
        double sx2 = 0, s = 0, peak = 0, ferr = 0;
        double complex ax = f->data[(m / 2) * m + m / 2];
        for (size_t i = 0; i < m * m; i++)
            peak = fmax(peak, cabs(f->data[i]));
        double a11 = 0, a12 = 0, a22 = 0, b1 = 0, b2 = 0;   /* fit phase = c0 + c1 r^2 */
        for (size_t y = 0; y < m; y++)
            for (size_t x = 0; x < m; x++) {
                double xx = acdc_optics_coord_m(x, m, dx), yy = acdc_optics_coord_m(y, m, dx);
                double r2 = xx * xx + yy * yy;
                double complex e = f->data[y * m + x];
                double in = creal(e * conj(e));
                sx2 += in * xx * xx;
                s += in;
                double complex want = w0 / wz * exp(-r2 / (wz * wz)) *
                    cexp(I * (fmod(k * z, 2 * M_PI) + k * r2 / (2 * rz) - gouy));
                ferr = fmax(ferr, cabs(e - want));
                /* inside the 1/e^2... well, I > 0.1 peak: the phase stays within
                 * (-pi, pi] there, so no unwrapping is needed */
                if (cabs(e) > sqrt(0.1) * peak) {
                    double ph = carg(e * conj(ax));
                    a11 += 1; a12 += r2; a22 += r2 * r2; b1 += ph; b2 += ph * r2;
                }
            }
        double wm = 2 * sqrt(sx2 / s);
        double c1 = (a11 * b2 - a12 * b1) / (a11 * a22 - a12 * a12);
        double rm = k / (2 * c1);
        print_message("# measured Gaussian beam z = %.2f zR (%s): w %.6g um (want %.6g, rel "
                      "err %.2g), R %.6g m (want %.6g, rel err %.2g), field err/peak %.2g\n",
                      z / zr, acdc_optics_method_name(acdc_optics_prop_method(p)),
                      wm * 1e6, wz * 1e6,
                      fabs(wm / wz - 1), rm, rz, fabs(rm / rz - 1), ferr / peak);
        worst_w = fmax(worst_w, fabs(wm / wz - 1));
        worst_r = fmax(worst_r, fabs(rm / rz - 1));
        worst_f = fmax(worst_f, ferr / peak);
        acdc_optics_prop_free(p);
        acdc_optics_field_free(f);
    }
    /* the closed form is paraxial; asm-bl is exact, and the two differ by the
     * non-paraxial correction ~ (lambda / (pi w0))^2 = 4e-6 */
    assert_true(worst_w <= 1e-5);
    assert_true(worst_r <= 1e-5);
    assert_true(worst_f <= 1e-5);
}

/* Talbot self-imaging of t = 1 + cos(2 pi x / a) (tapered far from the centre): the
 * exact scalar distance is
 * z_T = lambda / (1 - sqrt(1 - lambda^2 / a^2)), the paraxial one 2 a^2 / lambda.
 * With a = 4 lambda they differ by 1.6 %: asm-bl must find the first, fresnel-tf the
 * second.  The self-image error is measured on the central 1024 samples. */
static double talbot_err(enum acdc_optics_method meth, double z, size_t m, double a, double lam)
{
    double dx = a / 16, L = m * dx;
    acdc_optics_field *f = field(1, m, 1, dx, lam, 1), *g;
    for (size_t j = 0; j < m; j++) {
        /* a grating cut off sharply would send edge waves (decaying only as 1/sqrt(r)
         * in 1D) across the window; a cos^2 taper from 0.25 L to 0.45 L keeps them out */
        double x = acdc_optics_coord_m(j, m, dx), r = fabs(x) / L;
        double env = r < 0.25 ? 1 : r > 0.45 ? 0 : pow(cos(M_PI / 2 * (r - 0.25) / 0.2), 2);
        f->data[j] = env * (1 + cos(2 * M_PI * x / a));
    }
    assert_int_equal(acdc_optics_field_clone(&g, f), 0);
    acdc_optics_prop *p;
    assert_int_equal(acdc_optics_prop_alloc(&p, &f->g, z, meth), 0);
    assert_int_equal(acdc_optics_prop_apply(p, f, g), 0);
    /* remove the common phase e^{ikz} before comparing */
    double complex ph = g->data[m / 2] / f->data[m / 2];
    ph /= cabs(ph);
    double err = 0;
    for (size_t j = m / 2 - 512; j < m / 2 + 512; j++)
        err = fmax(err, cabs(g->data[j] - ph * f->data[j]));
    acdc_optics_prop_free(p);
    acdc_optics_field_free(f);
    acdc_optics_field_free(g);
    return err / 2;
}

static void test_talbot(void **state)
{
    (void)state;
    double lam = 633e-9, a = 4 * lam;
    double zt = lam / (1 - sqrt(1 - lam * lam / (a * a))), zp = 2 * a * a / lam;
    double e_exact = talbot_err(ACDC_OPTICS_ASM_BL, zt, 4096, a, lam);
    double e_par = talbot_err(ACDC_OPTICS_ASM_BL, zp, 4096, a, lam);
    double e_tf = talbot_err(ACDC_OPTICS_FRESNEL_TF, zp, 4096, a, lam);
    /* locate the self-image by golden-section search of the asm-bl error */
    double lo = 0.97 * zt, hi = 1.03 * zt, gr = (sqrt(5) - 1) / 2;
    for (int it = 0; it < 40; it++) {
        double c = hi - gr * (hi - lo), d = lo + gr * (hi - lo);
        if (talbot_err(ACDC_OPTICS_ASM_BL, c, 4096, a, lam) <
            talbot_err(ACDC_OPTICS_ASM_BL, d, 4096, a, lam))
            hi = d;
        else
            lo = c;
    }
    double zfound = (lo + hi) / 2;
    print_message("# measured Talbot a = 4 lambda: z_T exact %.6g um, paraxial %.6g um; "
                  "asm-bl self-image error at z_T %.3g, at 2a^2/lambda %.3g; fresnel-tf at "
                  "2a^2/lambda %.3g (tols 1e-7, 1e-9); asm-bl minimum found at %.6g um "
                  "(rel err %.2g, tol 1e-6)\n",
                  zt * 1e6, zp * 1e6, e_exact, e_par, e_tf, zfound * 1e6,
                  fabs(zfound / zt - 1));
    assert_true(e_exact <= 1e-7);
    assert_true(e_tf <= 1e-9);
    assert_true(e_par > 0.01);  /* the paraxial distance is visibly wrong for asm-bl */
    assert_true(fabs(zfound / zt - 1) <= 1e-6);
}

/* Where two methods are both valid they must agree.  A Gaussian beam (w0 = 60 um,
 * well inside a 256-sample window of 8 um, its spectrum far below Nyquist) at the
 * critical distance z = dx L / lambda: fresnel-tf is at its sampling limit; the padded
 * fresnel-ir is formally undersampled beyond |x| = L/2 of its kernel, where this beam
 * sends no light, so both are exact Fresnel here and must agree to rounding.  asm-bl
 * against fresnel-tf differs by the paraxial error of the beam, k z theta^4 / 8. */
static void test_methods_agree(void **state)
{
    (void)state;
    size_t m = 256;
    double dx = 8e-6, lam = 633e-9, w0 = 60e-6, zc = dx * m * dx / lam;
    acdc_optics_field *f = field(1, m, 1, dx, lam, 1), *a, *b, *c;
    for (size_t j = 0; j < m; j++)
        f->data[j] = exp(-pow(acdc_optics_coord_m(j, m, dx) / w0, 2));
    assert_int_equal(acdc_optics_field_clone(&a, f), 0);
    assert_int_equal(acdc_optics_field_clone(&b, f), 0);
    assert_int_equal(acdc_optics_field_clone(&c, f), 0);
    acdc_optics_prop *tf, *ir, *as;
    assert_int_equal(acdc_optics_prop_alloc(&tf, &f->g, zc, ACDC_OPTICS_FRESNEL_TF), 0);
    assert_int_equal(acdc_optics_prop_alloc(&ir, &f->g, zc, ACDC_OPTICS_FRESNEL_IR), 0);
    assert_int_equal(acdc_optics_prop_alloc(&as, &f->g, zc, ACDC_OPTICS_ASM_BL), 0);
    assert_int_equal(acdc_optics_prop_apply(tf, f, a), 0);
    assert_int_equal(acdc_optics_prop_apply(ir, f, b), 0);
    assert_int_equal(acdc_optics_prop_apply(as, f, c), 0);
    double pk = max_abs(a->data, m);
    double e_tf_ir = max_abs_diff(a->data, b->data, m) / pk;
    double e_tf_as = max_abs_diff(a->data, c->data, m) / pk;
    /* the paraxial error of a Gaussian of this width: k z theta^4 / 8 with theta ~
     * lambda / (pi w0), a few 1e-5 */
    double th = lam / (M_PI * w0), par = 2 * M_PI / lam * zc * pow(th, 4) / 8;
    print_message("# measured methods agree (1D Gaussian, z = dx L / lambda): |tf - ir| / "
                  "peak %.3g (tol 1e-6), |tf - asm-bl| / peak %.3g (paraxial estimate %.2g, "
                  "tol 1e-4)\n", e_tf_ir, e_tf_as, par);
    assert_true(e_tf_ir <= 1e-6);
    assert_true(e_tf_as <= 1e-4);
    acdc_optics_prop_free(tf);
    acdc_optics_prop_free(ir);
    acdc_optics_prop_free(as);
    acdc_optics_field_free(f);
    acdc_optics_field_free(a);
    acdc_optics_field_free(b);
    acdc_optics_field_free(c);
}

/* Thread count must not change a single bit. */
static void test_threads_independent(void **state)
{
    (void)state;
    int saved = omp_get_max_threads();
    acdc_optics_field *r1[4], *r2[4];
    for (int pass = 0; pass < 2; pass++) {
        omp_set_num_threads(pass == 0 ? 1 : 3);
        acdc_optics_field **r = pass == 0 ? r1 : r2;
        acdc_optics_field *f1 = field(1, 300, 1, 5e-6, 633e-9, 7);
        acdc_optics_field *f2 = field(2, 70, 70, 5e-6, 633e-9, 2);
        fill_noise(f1, 1);
        fill_noise(f2, 2);
        acdc_optics_lens_plan *l1, *l2;
        acdc_optics_prop *p1, *p2;
        assert_int_equal(acdc_optics_lens_plan_alloc(&l1, &f1->g, 0.1), 0);
        assert_int_equal(acdc_optics_lens_plan_alloc(&l2, &f2->g, 0.1), 0);
        assert_int_equal(acdc_optics_prop_alloc(&p1, &f1->g, 0.003, ACDC_OPTICS_ASM_BL), 0);
        assert_int_equal(acdc_optics_prop_alloc(&p2, &f2->g, 0.003, ACDC_OPTICS_ASM_BL), 0);
        assert_int_equal(acdc_optics_field_clone(&r[0], f1), 0);
        assert_int_equal(acdc_optics_field_clone(&r[1], f2), 0);
        assert_int_equal(acdc_optics_field_clone(&r[2], f1), 0);
        assert_int_equal(acdc_optics_field_clone(&r[3], f2), 0);
        assert_int_equal(acdc_optics_lens_forward(l1, f1, r[0]), 0);
        assert_int_equal(acdc_optics_lens_forward(l2, f2, r[1]), 0);
        assert_int_equal(acdc_optics_prop_apply(p1, f1, r[2]), 0);
        assert_int_equal(acdc_optics_prop_apply(p2, f2, r[3]), 0);
        acdc_optics_lens_plan_free(l1);
        acdc_optics_lens_plan_free(l2);
        acdc_optics_prop_free(p1);
        acdc_optics_prop_free(p2);
        acdc_optics_field_free(f1);
        acdc_optics_field_free(f2);
    }
    omp_set_num_threads(saved);
    for (int i = 0; i < 4; i++) {
        assert_memory_equal(r1[i]->data, r2[i]->data,
                            r1[i]->nb * acdc_optics_grid_size(&r1[i]->g) * sizeof(double complex));
        acdc_optics_field_free(r1[i]);
        acdc_optics_field_free(r2[i]);
    }
}

/* The advice names the method and the numbers, and warns where it should. */
static void test_advise(void **state)
{
    (void)state;
    acdc_optics_grid g;
    assert_int_equal(acdc_optics_grid_init(&g, 2, 512, 512, 8e-6, 633e-9), 0);
    double zc = 8e-6 * 512 * 8e-6 / 633e-9;   /* 51.8 mm */
    char buf[1024];
    enum acdc_optics_method m;
    int nw;
    assert_int_equal(acdc_optics_prop_advise(&g, 0.5 * zc, ACDC_OPTICS_AUTO, &m, &nw, buf,
                                             sizeof buf), 0);
    print_message("# advise z = 0.5 zc:\n%s", buf);
    assert_int_equal(m, ACDC_OPTICS_ASM_BL);
    assert_int_equal(nw, 0);
    assert_non_null(strstr(buf, "asm-bl"));
    assert_int_equal(acdc_optics_prop_advise(&g, 0.5 * zc, ACDC_OPTICS_FRESNEL_TF, &m, &nw, buf,
                                             sizeof buf), 0);
    assert_int_equal(m, ACDC_OPTICS_FRESNEL_TF);
    assert_int_equal(nw, 0);
    assert_non_null(strstr(buf, "transfer function accurate"));
    /* tf beyond its range aliases; ir before its range aliases */
    assert_int_equal(acdc_optics_prop_advise(&g, 3 * zc, ACDC_OPTICS_FRESNEL_TF, &m, &nw, buf,
                                             sizeof buf), 0);
    assert_true(nw >= 1);
    assert_non_null(strstr(buf, "warning: fresnel-tf"));
    assert_int_equal(acdc_optics_prop_advise(&g, 0.3 * zc, ACDC_OPTICS_FRESNEL_IR, &m, &nw, buf,
                                             sizeof buf), 0);
    assert_true(nw >= 1);
    assert_non_null(strstr(buf, "undersampled"));
    /* far: ir chosen if paraxial */
    assert_int_equal(acdc_optics_prop_advise(&g, 10 * zc, ACDC_OPTICS_AUTO, &m, &nw, buf,
                                             sizeof buf), 0);
    print_message("# advise z = 10 zc:\n%s", buf);
    assert_int_equal(m, ACDC_OPTICS_FRESNEL_IR);
    /* asm-bl far beyond 2 zc: band limit warning */
    assert_int_equal(acdc_optics_prop_advise(&g, 10 * zc, ACDC_OPTICS_ASM_BL, &m, &nw, buf,
                                             sizeof buf), 0);
    assert_int_equal(nw, 1);
    assert_non_null(strstr(buf, "band limit"));
    /* a tiny buffer is truncated, not overrun */
    char tiny[8];
    assert_int_equal(acdc_optics_prop_advise(&g, zc, ACDC_OPTICS_AUTO, &m, &nw, tiny,
                                             sizeof tiny), 0);
    assert_true(strlen(tiny) < sizeof tiny);
    assert_int_equal(acdc_optics_prop_advise(&g, zc, ACDC_OPTICS_AUTO, NULL, NULL, NULL, 0), 0);
}

/* Wrap-around is predicted for a field near the edge, not for one on the axis. */
static void test_check_field(void **state)
{
    (void)state;
    size_t m = 256;
    double dx = 8e-6, lam = 633e-9, zc = dx * m * dx / lam;
    acdc_optics_field *f = field(1, m, 1, dx, lam, 1);
    acdc_optics_prop *p;
    assert_int_equal(acdc_optics_prop_alloc(&p, &f->g, 0.9 * zc, ACDC_OPTICS_FRESNEL_TF), 0);
    char buf[512];
    assert_int_equal(acdc_optics_prop_check_field(p, f, buf, sizeof buf), 0);   /* dark */
    f->data[m / 2] = 1;   /* a point on the axis: its light walks off by 0.45 L */
    assert_int_equal(acdc_optics_prop_check_field(p, f, buf, sizeof buf), 0);
    f->data[m - 20] = 1;  /* a point near the edge wraps */
    assert_int_equal(acdc_optics_prop_check_field(p, f, buf, sizeof buf), 1);
    assert_non_null(strstr(buf, "wrap"));
    acdc_optics_prop_free(p);
    /* padded asm-bl tolerates it */
    assert_int_equal(acdc_optics_prop_alloc(&p, &f->g, 0.9 * zc, ACDC_OPTICS_ASM_BL), 0);
    assert_int_equal(acdc_optics_prop_check_field(p, f, buf, sizeof buf), 0);
    assert_true(acdc_optics_prop_check_field(NULL, f, buf, sizeof buf) < 0);
    acdc_optics_prop_free(p);
    acdc_optics_field_free(f);
}

static void test_errors(void **state)
{
    (void)state;
    acdc_optics_grid g, bad;
    assert_int_equal(acdc_optics_grid_init(&g, 2, 16, 16, 8e-6, 633e-9), 0);
    acdc_optics_lens_plan *l = (acdc_optics_lens_plan *)&g;
    assert_int_equal(acdc_optics_lens_plan_alloc(&l, &g, 0), ACDC_UTIL_EUSAGE);
    assert_null(l);
    assert_non_null(strstr(acdc_util_errmsg(), "focal length 0 m"));
    assert_int_equal(acdc_optics_lens_plan_alloc(&l, &g, -0.1), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_lens_plan_alloc(&l, &g, NAN), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_lens_plan_alloc(&l, &g, INFINITY), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_lens_plan_alloc(NULL, &g, 0.1), ACDC_UTIL_EUSAGE);
    bad = g;
    bad.pitch_m = -1;
    assert_int_equal(acdc_optics_lens_plan_alloc(&l, &bad, 0.1), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_lens_plan_alloc(&l, NULL, 0.1), ACDC_UTIL_EUSAGE);
    bad = g;
    bad.nx = 17;
    assert_int_equal(acdc_optics_lens_plan_alloc(&l, &bad, 0.1), ACDC_UTIL_EUSAGE);
    assert_non_null(strstr(acdc_util_errmsg(), "square grid"));
    assert_int_equal(acdc_optics_lens_plan_alloc(&l, &g, 0.1), 0);
    acdc_optics_field *f = field(2, 16, 16, 8e-6, 633e-9, 2),
        *h = field(2, 16, 16, 9e-6, 633e-9, 2);
    acdc_optics_field *o = field(2, 16, 16, 8e-6, 633e-9, 3);
    assert_int_equal(acdc_optics_lens_forward(l, h, h), ACDC_UTIL_EUSAGE);   /* wrong pitch */
    acdc_optics_field *w = field(2, 15, 15, 8e-6, 633e-9, 2);
    assert_int_equal(acdc_optics_lens_forward(l, f, w), ACDC_UTIL_EUSAGE);   /* out size wrong */
    assert_int_equal(acdc_optics_4f_apply(l, NULL, l, f, w), ACDC_UTIL_EUSAGE);
    acdc_optics_field_free(w);
    assert_int_equal(acdc_optics_lens_forward(l, NULL, f), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_lens_forward(NULL, f, f), ACDC_UTIL_EUSAGE);
    h->g = *acdc_optics_lens_plan_output(l);
    o->g = h->g;
    assert_int_equal(acdc_optics_lens_forward(l, f, o), ACDC_UTIL_EUSAGE);   /* batch */
    assert_int_equal(acdc_optics_lens_adjoint(l, f, f),
                     ACDC_UTIL_EUSAGE);   /* f is not on output grid */
    assert_int_equal(acdc_optics_4f_apply(NULL, NULL, l, f, f), ACDC_UTIL_EUSAGE);
    acdc_optics_lens_plan *l2;
    assert_int_equal(acdc_optics_lens_plan_alloc(&l2, &g, 0.2), 0);
    assert_int_equal(acdc_optics_4f_apply(l, NULL, l2, f, f),
                     ACDC_UTIL_EUSAGE);   /* grids differ */
    assert_int_equal(acdc_optics_4f_apply(l, NULL, l, f, o), ACDC_UTIL_EUSAGE);   /* batch */
    acdc_optics_lens_plan_free(l2);
    acdc_optics_lens_plan_free(l);
    acdc_optics_lens_plan_free(NULL);

    acdc_optics_prop *p = (acdc_optics_prop *)&g;
    assert_int_equal(acdc_optics_prop_alloc(&p, &g, NAN, ACDC_OPTICS_AUTO), ACDC_UTIL_EUSAGE);
    assert_null(p);
    assert_int_equal(acdc_optics_prop_alloc(&p, &g, 0, ACDC_OPTICS_FRESNEL_IR), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_prop_alloc(&p, &g, 0.1, (enum acdc_optics_method)9),
                     ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_prop_alloc(NULL, &g, 0.1, ACDC_OPTICS_AUTO), ACDC_UTIL_EUSAGE);
    bad = g;
    bad.wavelength_m = 0;
    assert_int_equal(acdc_optics_prop_alloc(&p, &bad, 0.1, ACDC_OPTICS_AUTO), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_prop_advise(&bad, 0.1, ACDC_OPTICS_AUTO, NULL, NULL, NULL, 0),
                     ACDC_UTIL_EUSAGE);
    /* z = 0 is the identity for tf and asm-bl */
    assert_int_equal(acdc_optics_prop_alloc(&p, &g, 0, ACDC_OPTICS_AUTO), 0);
    fill_noise(f, 3);
    acdc_optics_field *c;
    assert_int_equal(acdc_optics_field_clone(&c, f), 0);
    assert_int_equal(acdc_optics_prop_apply(p, f, c), 0);
    assert_true(max_abs_diff(c->data, f->data, 2 * 256) <= 1e-14);
    assert_int_equal(acdc_optics_prop_apply(p, f, o), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_prop_apply(p, h, h), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_prop_apply(NULL, f, f), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_optics_prop_adjoint(p, NULL, f), ACDC_UTIL_EUSAGE);
    assert_string_equal(acdc_optics_method_name(acdc_optics_prop_method(p)), "asm-bl");
    assert_string_equal(acdc_optics_method_name((enum acdc_optics_method)42), "?");
    assert_true(strlen(acdc_optics_prop_explanation(p)) > 0);
    acdc_optics_prop_free(p);
    acdc_optics_prop_free(NULL);
    acdc_optics_field_free(f);
    acdc_optics_field_free(h);
    acdc_optics_field_free(o);
    acdc_optics_field_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lens_centring),
        cmocka_unit_test(test_lens_rect_sinc),
        cmocka_unit_test(test_lens_circ_airy),
        cmocka_unit_test(test_lens_parseval_roundtrip),
        cmocka_unit_test(test_adjoint),
        cmocka_unit_test(test_4f_flip),
        cmocka_unit_test(test_4f_mask),
        cmocka_unit_test(test_lens_batch_and_centre),
        cmocka_unit_test(test_4f_psf),
        cmocka_unit_test(test_prop_roundtrip_parseval),
        cmocka_unit_test(test_square_aperture_fresnel),
        cmocka_unit_test(test_gaussian_beam),
        cmocka_unit_test(test_talbot),
        cmocka_unit_test(test_methods_agree),
        cmocka_unit_test(test_threads_independent),
        cmocka_unit_test(test_advise),
        cmocka_unit_test(test_check_field),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
