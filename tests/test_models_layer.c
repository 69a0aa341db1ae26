/* SPDX-License-Identifier: GPL-3.0-or-later */
/* tests/test_models_layer.c -- the DCT pair and one ACDC layer, against brute force. */
#include "tests/testutil.h"

#include <float.h>
#include <fftw3.h>

#include "models/dct.h"
#include "models/layer.h"
#include "util/error.h"

static const size_t sizes[] = {1, 2, 3, 7, 64, 784, 1000, 1031};

/* Brute-force orthonormal DCT-II matrix entry, straight from the definition. */
static double cmat(size_t k, size_t j, size_t n)
{
    double e = k == 0 ? 1.0 / sqrt(2.0) : 1.0;
    return sqrt(2.0 / (double)n) * e * cos(M_PI * (2.0 * (double)j + 1) * (double)k /
                                           (2.0 * (double)n));
}

/* Deterministic "high-entropy" values. */
static void fill(double *v, size_t n, double seed)
{
    for (size_t i = 0; i < n; i++)
        v[i] = sin(2.385 * (double)i + seed) + 0.37 * cos(0.913 * (double)i * seed);
}

static void test_dct_matches_definition(void **state)
{
    (void)state;
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        size_t n = sizes[s];
        acdc_plan *p;
        assert_int_equal(acdc_plan_alloc(&p, n, 1, FFTW_ESTIMATE), 0);
        double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
        fill(x, n, 0.71);
        acdc_dct2(p, 1, x, y);
        double err = 0, scale = 0;
        for (size_t k = 0; k < n; k++) {
            long double ref = 0;
            for (size_t j = 0; j < n; j++)
                ref += (long double)cmat(k, j, n) * x[j];
            err = fmax(err, fabs(y[k] - (double)ref));
            scale = fmax(scale, fabs((double)ref));
        }
        if (err > 1e-13 * (scale + 1))
            fail_msg("n = %zu: DCT-II differs from its definition by %g", n, err);
        free(x);
        free(y);
        acdc_plan_free(p);
    }
}

static void test_dct_orthonormal_round_trip(void **state)
{
    (void)state;
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        size_t n = sizes[s], batch = 3;
        acdc_plan *p;
        assert_int_equal(acdc_plan_alloc(&p, n, 2, FFTW_ESTIMATE), 0);
        double *x = malloc(batch * n * sizeof *x), *y = malloc(batch * n * sizeof *y);
        double *z = malloc(batch * n * sizeof *z);
        fill(x, batch * n, 1.3);
        acdc_dct2(p, batch, x, y);
        acdc_dct3(p, batch, y, z);
        double rt = 0, ex = 0, ey = 0;
        for (size_t i = 0; i < batch * n; i++) {
            rt = fmax(rt, fabs(z[i] - x[i]));
            ex += x[i] * x[i];
            ey += y[i] * y[i];
        }
        if (rt > 1e-13)
            fail_msg("n = %zu: C^T C x differs from x by %g", n, rt);
        if (fabs(ex - ey) > 1e-12 * ex)
            fail_msg("n = %zu: |Cx|^2 = %.17g but |x|^2 = %.17g", n, ey, ex);
        /* Columns of C are orthonormal: C e_j has unit norm and is orthogonal to C e_i. */
        if (n <= 64) {
            for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < n; j++) {
                    double dot = 0;
                    for (size_t k = 0; k < n; k++)
                        dot += cmat(k, i, n) * cmat(k, j, n);
                    assert_close(dot, i == j ? 1.0 : 0.0, 1e-13);
                }
        }
        free(x);
        free(y);
        free(z);
        acdc_plan_free(p);
    }
}

/* Dense reference: M = Cᵀ diag(d) C diag(a); z = M x + Cᵀ(d ⊙ C a_bias + d_bias). */
static void dense_layer(const acdc_layer *L, const double *x, double *z)
{
    size_t n = L->n;
    double *h1 = malloc(n * sizeof *h1), *h3 = malloc(n * sizeof *h3);
    for (size_t j = 0; j < n; j++)
        h1[j] = L->a[j] * x[j] + (L->a_bias ? L->a_bias[j] : 0);
    for (size_t k = 0; k < n; k++) {
        double s = 0;
        for (size_t j = 0; j < n; j++)
            s += cmat(k, j, n) * h1[j];
        h3[k] = L->d[k] * s + (L->d_bias ? L->d_bias[k] : 0);
    }
    for (size_t j = 0; j < n; j++) {
        double s = 0;
        for (size_t k = 0; k < n; k++)
            s += cmat(k, j, n) * h3[k];
        z[j] = s;
    }
    free(h1);
    free(h3);
}

static acdc_layer make_layer(size_t n, int biases)
{
    acdc_layer L = {.n = n};
    L.a = malloc(n * sizeof(double));
    L.d = malloc(n * sizeof(double));
    fill(L.a, n, 0.2);
    fill(L.d, n, 2.9);
    if (biases) {
        L.a_bias = malloc(n * sizeof(double));
        L.d_bias = malloc(n * sizeof(double));
        fill(L.a_bias, n, 4.1);
        fill(L.d_bias, n, 5.3);
    }
    return L;
}

static void free_layer(acdc_layer *L)
{
    free(L->a);
    free(L->d);
    free(L->a_bias);
    free(L->d_bias);
}

static void test_layer_matches_dense(void **state)
{
    (void)state;
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        size_t n = sizes[s], batch = 5;
        for (int biases = 0; biases < 2; biases++) {
            acdc_layer L = make_layer(n, biases);
            acdc_plan *p;
            assert_int_equal(acdc_plan_alloc(&p, n, 2, FFTW_ESTIMATE), 0);
            double *x = malloc(batch * n * sizeof *x), *z = malloc(batch * n * sizeof *z);
            double *ref = malloc(n * sizeof *ref);
            fill(x, batch * n, 0.55);
            acdc_layer_forward(&L, p, batch, x, z, NULL);
            double err = 0, mag = 0;
            for (size_t b = 0; b < batch; b++) {
                dense_layer(&L, x + b * n, ref);
                for (size_t j = 0; j < n; j++) {
                    err = fmax(err, fabs(z[b * n + j] - ref[j]));
                    mag = fmax(mag, fabs(ref[j]));
                }
            }
            if (err > 1e-12 * (mag + 1))
                fail_msg("n = %zu biases %d: layer differs from dense by %g (max %g)", n,
                         biases, err, mag);
            free(x);
            free(z);
            free(ref);
            free_layer(&L);
            acdc_plan_free(p);
        }
    }
}

/* Loss = Σ w ⊙ z for fixed weights w, so dL/dz = w. */
static double loss(const acdc_layer *L, acdc_plan *p, size_t batch, const double *x,
                   const double *w)
{
    size_t n = L->n;
    double *z = malloc(batch * n * sizeof *z);
    acdc_layer_forward(L, p, batch, x, z, NULL);
    double s = 0;
    for (size_t i = 0; i < batch * n; i++)
        s += w[i] * z[i];
    free(z);
    return s;
}

/* Every `step`-th entry of param against the central difference of step h. */
static void check_fd_every(const char *what, double *param, const double *grad, size_t n,
                           size_t step, double h, const acdc_layer *L, acdc_plan *p,
                           size_t batch, const double *x, const double *w)
{
    for (size_t i = 0; i < n; i += step) {
        double keep = param[i];
        param[i] = keep + h;
        double up = loss(L, p, batch, x, w);
        param[i] = keep - h;
        double dn = loss(L, p, batch, x, w);
        param[i] = keep;
        double fd = (up - dn) / (2 * h);
        if (fabs(fd - grad[i]) > 1e-6 * (1 + fabs(fd)))
            fail_msg("d%s[%zu]: analytic %.12g, finite difference %.12g", what, i, grad[i],
                     fd);
    }
}

static void check_fd(const char *what, double *param, const double *grad, size_t n,
                     const acdc_layer *L, acdc_plan *p, size_t batch, const double *x,
                     const double *w)
{
    check_fd_every(what, param, grad, n, 1, 1e-6, L, p, batch, x, w);
}

static void test_layer_gradients(void **state)
{
    (void)state;
    const size_t ns[] = {1, 2, 7, 16, 31};
    for (size_t s = 0; s < sizeof ns / sizeof *ns; s++) {
        size_t n = ns[s], batch = 37; /* > one block of 16 rows, not a multiple */
        acdc_layer L = make_layer(n, 1);
        acdc_plan *p;
        assert_int_equal(acdc_plan_alloc(&p, n, 2, FFTW_ESTIMATE), 0);
        double *x = malloc(batch * n * sizeof *x), *w = malloc(batch * n * sizeof *w);
        double *z = malloc(batch * n * sizeof *z), *h2 = malloc(batch * n * sizeof *h2);
        double *dx = malloc(batch * n * sizeof *dx);
        double *g[4];
        for (int i = 0; i < 4; i++)
            g[i] = calloc(n, sizeof(double));
        fill(x, batch * n, 0.31);
        fill(w, batch * n, 7.7);
        acdc_layer_forward(&L, p, batch, x, z, h2);
        acdc_grad gr = {g[0], g[1], g[2], g[3]};
        assert_int_equal(acdc_layer_backward(&L, p, batch, x, h2, w, dx, &gr), 0);
        check_fd("a", L.a, g[0], n, &L, p, batch, x, w);
        check_fd("d", L.d, g[1], n, &L, p, batch, x, w);
        check_fd("a_bias", L.a_bias, g[2], n, &L, p, batch, x, w);
        check_fd("d_bias", L.d_bias, g[3], n, &L, p, batch, x, w);
        /* dL/dx for row 3 only: perturb x there. */
        check_fd("x", x + 3 * n, dx + 3 * n, n, &L, p, batch, x, w);
        for (int i = 0; i < 4; i++)
            free(g[i]);
        free(x);
        free(w);
        free(z);
        free(h2);
        free(dx);
        free_layer(&L);
        acdc_plan_free(p);
    }
}

static void test_backward_thread_independent(void **state)
{
    (void)state;
    size_t n = 64, batch = 100;
    acdc_layer L = make_layer(n, 1);
    double *x = malloc(batch * n * sizeof *x), *w = malloc(batch * n * sizeof *w);
    double *h2 = malloc(batch * n * sizeof *h2), *z = malloc(batch * n * sizeof *z);
    double *ga[2];
    for (int t = 0; t < 2; t++) {
        acdc_plan *p;
        assert_int_equal(acdc_plan_alloc(&p, n, t + 1, FFTW_ESTIMATE), 0);
        ga[t] = calloc(n, sizeof(double));
        fill(x, batch * n, 0.9);
        fill(w, batch * n, 3.3);
        acdc_layer_forward(&L, p, batch, x, z, h2);
        acdc_grad g = {ga[t], NULL, NULL, NULL};
        assert_int_equal(acdc_layer_backward(&L, p, batch, x, h2, w, NULL, &g), 0);
        acdc_plan_free(p);
    }
    assert_memory_equal(ga[0], ga[1], n * sizeof(double));
    free(ga[0]);
    free(ga[1]);
    free(x);
    free(w);
    free(h2);
    free(z);
    free_layer(&L);
}

/* Forward and backward of an n-value layer on 1 and 2 threads agree bit for bit: z, h2,
 * every gradient and dx.  h = 0: the 1D transform over n = w; else the 2D one of h x w. */
static void assert_thread_independent(size_t h, size_t w, size_t batch)
{
    const size_t n = h ? h * w : w;
    acdc_layer L = make_layer(n, 1);
    double *x = malloc(batch * n * sizeof *x), *wt = malloc(batch * n * sizeof *wt);
    double *h2[2], *z[2], *dx[2], *ga[2][4];
    fill(x, batch * n, 0.9);
    fill(wt, batch * n, 3.3);
    for (int t = 0; t < 2; t++) {
        acdc_plan *p;
        assert_int_equal(h ? acdc_plan_alloc2(&p, h, w, t + 1, FFTW_ESTIMATE)
                           : acdc_plan_alloc(&p, n, t + 1, FFTW_ESTIMATE),
                         0);
        h2[t] = malloc(batch * n * sizeof **h2);
        z[t] = malloc(batch * n * sizeof **z);
        dx[t] = malloc(batch * n * sizeof **dx);
        for (int i = 0; i < 4; i++)
            ga[t][i] = calloc(n, sizeof(double));
        assert_int_equal(acdc_layer_forward(&L, p, batch, x, z[t], h2[t]), 0);
        acdc_grad g = {ga[t][0], ga[t][1], ga[t][2], ga[t][3]};
        assert_int_equal(acdc_layer_backward(&L, p, batch, x, h2[t], wt, dx[t], &g), 0);
        acdc_plan_free(p);
    }
    assert_memory_equal(z[0], z[1], batch * n * sizeof(double));
    assert_memory_equal(h2[0], h2[1], batch * n * sizeof(double));
    assert_memory_equal(dx[0], dx[1], batch * n * sizeof(double));
    for (int i = 0; i < 4; i++)
        assert_memory_equal(ga[0][i], ga[1][i], n * sizeof(double));
    for (int t = 0; t < 2; t++) {
        free(h2[t]);
        free(z[t]);
        free(dx[t]);
        for (int i = 0; i < 4; i++)
            free(ga[t][i]);
    }
    free(x);
    free(wt);
    free_layer(&L);
}

/* n = 2048 takes 4 rows per block and 37 rows end mid-block; n = 64 takes 16. */
static void test_layer_thread_independent(void **state)
{
    (void)state;
    assert_thread_independent(0, 64, 100);
    assert_thread_independent(0, 2048, 37);
}

/* The layer row by row from acdc_dct2()/acdc_dct3(), which share none of its blocking,
 * prefetching or streaming: z, h2 and, given dz, the four gradients and dx. */
static void reference(const acdc_layer *L, acdc_plan *p, size_t batch, const double *x,
                      const double *dz, double *z, double *h2, double *g[4], double *dx)
{
    size_t n = L->n;
    double *u = malloc(n * sizeof *u), *t = malloc(n * sizeof *t);
    for (int i = 0; i < 4; i++)
        memset(g[i], 0, n * sizeof(double));
    for (size_t b = 0; b < batch; b++) {
        const double *xr = x + b * n, *dzr = dz + b * n;
        double *hr = h2 + b * n;
        for (size_t j = 0; j < n; j++)
            u[j] = L->a[j] * xr[j] + L->a_bias[j];
        acdc_dct2(p, 1, u, hr);
        for (size_t k = 0; k < n; k++)
            u[k] = L->d[k] * hr[k] + L->d_bias[k];
        acdc_dct3(p, 1, u, z + b * n);
        acdc_dct2(p, 1, dzr, t);
        for (size_t k = 0; k < n; k++) {
            g[1][k] += hr[k] * t[k];
            g[3][k] += t[k];
            u[k] = L->d[k] * t[k];
        }
        acdc_dct3(p, 1, u, t);
        for (size_t j = 0; j < n; j++) {
            g[0][j] += xr[j] * t[j];
            g[2][j] += t[j];
            dx[b * n + j] = L->a[j] * t[j];
        }
    }
    free(u);
    free(t);
}

static double max_abs(const double *v, size_t count)
{
    double m = 0;
    for (size_t i = 0; i < count; i++)
        m = fmax(m, fabs(v[i]));
    return m;
}

static void expect_near(const char *what, size_t n, const double *got, const double *want,
                        size_t count)
{
    double tol = 1e-12 * (max_abs(want, count) + 1);
    for (size_t i = 0; i < count; i++)
        if (!(fabs(got[i] - want[i]) <= tol))
            fail_msg("n = %zu: %s[%zu] = %.17g, reference %.17g", n, what, i, got[i],
                     want[i]);
}

/* Batches of 1 MiB and more are written with streaming stores when the rows are 16-byte
 * aligned and n is even; each case below takes one of the paths: streamed, rows
 * misaligned by one double, odd n; and in place (z = x, dx = dz) as the contract allows.
 * 130 rows are not a multiple of the rows per block or per gradient block. */
static void test_layer_large_batches(void **state)
{
    (void)state;
    const struct {
        size_t n, off;
        int in_place;
        size_t h;   /* 0: a 1D plan; else a 2D plan of h x n/h */
    } cases[] = {{1024, 0, 0, 0},  {1024, 1, 0, 0},  {1031, 0, 0, 0}, {1024, 0, 1, 0},
                 {1024, 0, 0, 32}, {1024, 1, 0, 32}, {1147, 0, 0, 31}, {1024, 0, 1, 32}};
    const size_t batch = 130;
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        size_t n = cases[c].n, off = cases[c].off, bn = batch * n;
        acdc_layer L = make_layer(n, 1);
        acdc_plan *p;
        if (cases[c].h)
            assert_int_equal(acdc_plan_alloc2(&p, cases[c].h, n / cases[c].h, 2,
                                              FFTW_ESTIMATE), 0);
        else
            assert_int_equal(acdc_plan_alloc(&p, n, 2, FFTW_ESTIMATE), 0);
        /* bn is even, so all five arrays share the alignment of x. */
        double *mem = fftw_alloc_real(5 * bn + off);
        double *x = mem + off, *dz = x + bn, *z = dz + bn, *h2 = z + bn, *dx = h2 + bn;
        double *ref = fftw_alloc_real(4 * bn + 4 * n);
        double *zr = ref, *h2r = ref + bn, *dxr = ref + 2 * bn, *xkeep = ref + 3 * bn;
        double *g[4], *gr[4] = {ref + 4 * bn, ref + 4 * bn + n, ref + 4 * bn + 2 * n,
                                ref + 4 * bn + 3 * n};
        for (int i = 0; i < 4; i++)
            g[i] = calloc(n, sizeof(double));
        fill(x, bn, 0.27);
        fill(dz, bn, 6.1);
        memcpy(xkeep, x, bn * sizeof *x);
        reference(&L, p, batch, x, dz, zr, h2r, gr, dxr);
        if (cases[c].in_place) {
            z = x;
            dx = dz;
        }
        assert_int_equal(acdc_layer_forward(&L, p, batch, x, z, h2), 0);
        expect_near("z", n, z, zr, bn);
        expect_near("h2", n, h2, h2r, bn);
        acdc_grad gg = {g[0], g[1], g[2], g[3]};
        assert_int_equal(acdc_layer_backward(&L, p, batch, xkeep, h2, dz, dx, &gg), 0);
        expect_near("dx", n, dx, dxr, bn);
        static const char *names[4] = {"g.a", "g.d", "g.a_bias", "g.d_bias"};
        for (int i = 0; i < 4; i++)
            expect_near(names[i], n, g[i], gr[i], n);
        /* Without h2 the forward pass streams z alone. */
        if (!cases[c].in_place) {
            assert_int_equal(acdc_layer_forward(&L, p, batch, x, z, NULL), 0);
            expect_near("z without h2", n, z, zr, bn);
        }
        for (int i = 0; i < 4; i++)
            free(g[i]);
        fftw_free(mem);
        fftw_free(ref);
        free_layer(&L);
        acdc_plan_free(p);
    }
}

/* ---- 2D layers: C₂ = C_h ⊗ C_w on an h × w grid, component i·w + j ---- */

static const size_t shapes2[][2] = {{1, 1}, {1, 7}, {7, 1}, {3, 5}, {28, 28}, {32, 32},
                                    {31, 37}};

/* The brute-force Kronecker matrix C₂[k][j] = C_h[k/w][j/w]·C_w[k%w][j%w], straight from
 * the 1D definition, as a dense n × n table. */
static double *kron_matrix(size_t h, size_t w)
{
    size_t n = h * w;
    double *ch = malloc(h * h * sizeof *ch), *cw = malloc(w * w * sizeof *cw);
    double *c = malloc(n * n * sizeof *c);
    for (size_t k = 0; k < h; k++)
        for (size_t j = 0; j < h; j++)
            ch[k * h + j] = cmat(k, j, h);
    for (size_t k = 0; k < w; k++)
        for (size_t j = 0; j < w; j++)
            cw[k * w + j] = cmat(k, j, w);
    for (size_t k = 0; k < n; k++)
        for (size_t j = 0; j < n; j++)
            c[k * n + j] = ch[(k / w) * h + j / w] * cw[(k % w) * w + j % w];
    free(ch);
    free(cw);
    return c;
}

/* z = C₂ᵀ(d ⊙ C₂(a ⊙ x + a_bias) + d_bias) through the dense matrix c (n × n). */
static void dense_layer2(const acdc_layer *L, const double *c, const double *x, double *z)
{
    size_t n = L->n;
    double *h1 = malloc(n * sizeof *h1), *h3 = malloc(n * sizeof *h3);
    for (size_t j = 0; j < n; j++)
        h1[j] = L->a[j] * x[j] + (L->a_bias ? L->a_bias[j] : 0);
    for (size_t k = 0; k < n; k++) {
        long double s = 0;
        for (size_t j = 0; j < n; j++)
            s += (long double)c[k * n + j] * h1[j];
        h3[k] = L->d[k] * (double)s + (L->d_bias ? L->d_bias[k] : 0);
    }
    for (size_t j = 0; j < n; j++)
        z[j] = 0;
    for (size_t k = 0; k < n; k++)
        for (size_t j = 0; j < n; j++)
            z[j] += c[k * n + j] * h3[k];
    free(h1);
    free(h3);
}

static void test_dct2d_matches_kronecker(void **state)
{
    (void)state;
    for (size_t s = 0; s < sizeof shapes2 / sizeof *shapes2; s++) {
        size_t h = shapes2[s][0], w = shapes2[s][1], n = h * w, batch = 3;
        acdc_plan *p;
        assert_int_equal(acdc_plan_alloc2(&p, h, w, 2, FFTW_ESTIMATE), 0);
        assert_int_equal(acdc_plan_n(p), n);
        assert_int_equal(acdc_plan_h(p), h);
        assert_int_equal(acdc_plan_w(p), w);
        assert_int_equal(acdc_plan_is_2d(p), 1);
        double *c = kron_matrix(h, w);
        double *x = malloc(batch * n * sizeof *x), *y = malloc(batch * n * sizeof *y);
        double *z = malloc(batch * n * sizeof *z);
        fill(x, batch * n, 0.71);
        acdc_dct2(p, batch, x, y);
        acdc_dct3(p, batch, y, z);
        double err = 0, scale = 0, rt = 0;
        for (size_t b = 0; b < batch; b++)
            for (size_t k = 0; k < n; k++) {
                long double ref = 0;
                for (size_t j = 0; j < n; j++)
                    ref += (long double)c[k * n + j] * x[b * n + j];
                err = fmax(err, fabs(y[b * n + k] - (double)ref));
                scale = fmax(scale, fabs((double)ref));
                rt = fmax(rt, fabs(z[b * n + k] - x[b * n + k]));
            }
        if (err > 1e-12 * scale)
            fail_msg("%zux%zu: 2D DCT-II differs from C_h (x) C_w by %g (max %g)", h, w,
                     err, scale);
        if (rt > 1e-12 * (max_abs(x, batch * n) + 1))
            fail_msg("%zux%zu: C2^T C2 x differs from x by %g", h, w, rt);
        free(c);
        free(x);
        free(y);
        free(z);
        acdc_plan_free(p);
    }
}

static void test_layer2d_matches_kronecker(void **state)
{
    (void)state;
    for (size_t s = 0; s < sizeof shapes2 / sizeof *shapes2; s++) {
        size_t h = shapes2[s][0], w = shapes2[s][1], n = h * w, batch = 3;
        double *c = kron_matrix(h, w);
        for (int biases = 0; biases < 2; biases++) {
            acdc_layer L = make_layer(n, biases);
            acdc_plan *p;
            assert_int_equal(acdc_plan_alloc2(&p, h, w, 2, FFTW_ESTIMATE), 0);
            double *x = malloc(batch * n * sizeof *x), *z = malloc(batch * n * sizeof *z);
            double *ref = malloc(n * sizeof *ref);
            fill(x, batch * n, 0.55);
            assert_int_equal(acdc_layer_forward(&L, p, batch, x, z, NULL), 0);
            double err = 0, mag = 0;
            for (size_t b = 0; b < batch; b++) {
                dense_layer2(&L, c, x + b * n, ref);
                for (size_t j = 0; j < n; j++) {
                    err = fmax(err, fabs(z[b * n + j] - ref[j]));
                    mag = fmax(mag, fabs(ref[j]));
                }
            }
            if (err > 1e-12 * mag)
                fail_msg("%zux%zu biases %d: 2D layer differs from the Kronecker matrix "
                         "by %g (max %g)", h, w, biases, err, mag);
            free(x);
            free(z);
            free(ref);
            free_layer(&L);
            acdc_plan_free(p);
        }
        free(c);
    }
}

/* As check_fd() on every `step`-th entry only (large grids).  The loss is linear in each
 * single parameter, so the central difference has no truncation error and a larger step
 * than check_fd()'s only shrinks the rounding of a sum over 37 × 784 terms (at h = 1e-6
 * that rounding alone reached 1.4e-6 relative on 28x28). */
static void check_fd_step(const char *what, double *param, const double *grad, size_t n,
                          size_t step, const acdc_layer *L, acdc_plan *p, size_t batch,
                          const double *x, const double *w)
{
    check_fd_every(what, param, grad, n, step, 1e-3, L, p, batch, x, w);
}

/* The five gradients of a 2D layer against central differences: every entry on the
 * small grids, every 13th (resp. 37th) on 28x28 and 31x37. */
static void test_layer2d_gradients(void **state)
{
    (void)state;
    for (size_t s = 0; s < sizeof shapes2 / sizeof *shapes2; s++) {
        size_t h = shapes2[s][0], w = shapes2[s][1], n = h * w, batch = 37;
        if (n == 1024)
            continue;   /* 28x28 and 31x37 cover the large grids */
        size_t step = n < 100 ? 1 : n < 1000 ? 13 : 37;
        acdc_layer L = make_layer(n, 1);
        acdc_plan *p;
        assert_int_equal(acdc_plan_alloc2(&p, h, w, 2, FFTW_ESTIMATE), 0);
        double *x = malloc(batch * n * sizeof *x), *wt = malloc(batch * n * sizeof *wt);
        double *z = malloc(batch * n * sizeof *z), *h2 = malloc(batch * n * sizeof *h2);
        double *dx = malloc(batch * n * sizeof *dx);
        double *g[4];
        for (int i = 0; i < 4; i++)
            g[i] = calloc(n, sizeof(double));
        fill(x, batch * n, 0.31);
        fill(wt, batch * n, 7.7);
        assert_int_equal(acdc_layer_forward(&L, p, batch, x, z, h2), 0);
        acdc_grad gr = {g[0], g[1], g[2], g[3]};
        assert_int_equal(acdc_layer_backward(&L, p, batch, x, h2, wt, dx, &gr), 0);
        check_fd_step("a", L.a, g[0], n, step, &L, p, batch, x, wt);
        check_fd_step("d", L.d, g[1], n, step, &L, p, batch, x, wt);
        check_fd_step("a_bias", L.a_bias, g[2], n, step, &L, p, batch, x, wt);
        check_fd_step("d_bias", L.d_bias, g[3], n, step, &L, p, batch, x, wt);
        check_fd_step("x", x + 3 * n, dx + 3 * n, n, step, &L, p, batch, x, wt);
        for (int i = 0; i < 4; i++)
            free(g[i]);
        free(x);
        free(wt);
        free(z);
        free(h2);
        free(dx);
        free_layer(&L);
        acdc_plan_free(p);
    }
}

/* 2D, on 1 and 2 threads (28x28: 4 rows per block and 37 rows end mid-block; 3x5: 16
 * rows per block). */
static void test_layer2d_thread_independent(void **state)
{
    (void)state;
    assert_thread_independent(28, 28, 37);
    assert_thread_independent(3, 5, 100);
}

/* A 2D plan of 1 x n and of n x 1 is the 1D transform (to rounding: FFTW may take
 * another algorithm for the rank-2 problem). */
static void test_plan2d_degenerate_is_1d(void **state)
{
    (void)state;
    const size_t n = 60, batch = 2;
    acdc_plan *p1, *pr, *pc;
    assert_int_equal(acdc_plan_alloc(&p1, n, 1, FFTW_ESTIMATE), 0);
    assert_int_equal(acdc_plan_alloc2(&pr, 1, n, 1, FFTW_ESTIMATE), 0);
    assert_int_equal(acdc_plan_alloc2(&pc, n, 1, 1, FFTW_ESTIMATE), 0);
    assert_int_equal(acdc_plan_is_2d(p1), 0);
    assert_int_equal(acdc_plan_h(p1), 1);
    assert_int_equal(acdc_plan_w(p1), n);
    double x[120], y1[120], yr[120], yc[120];
    fill(x, batch * n, 0.4);
    acdc_dct2(p1, batch, x, y1);
    acdc_dct2(pr, batch, x, yr);
    acdc_dct2(pc, batch, x, yc);
    for (size_t i = 0; i < batch * n; i++) {
        assert_close(yr[i], y1[i], 1e-14);
        assert_close(yc[i], y1[i], 1e-14);
    }
    acdc_plan_free(p1);
    acdc_plan_free(pr);
    acdc_plan_free(pc);
}

static void test_plan2d_rejects_bad_shapes(void **state)
{
    (void)state;
    acdc_plan *p = (acdc_plan *)&p;
    assert_int_equal(acdc_plan_alloc2(&p, 0, 5, 1, FFTW_ESTIMATE), ACDC_UTIL_EUSAGE);
    assert_null(p);
    p = (acdc_plan *)&p;
    assert_int_equal(acdc_plan_alloc2(&p, 5, 0, 1, FFTW_ESTIMATE), ACDC_UTIL_EUSAGE);
    assert_null(p);
    p = (acdc_plan *)&p;
    assert_int_equal(acdc_plan_alloc2(&p, (size_t)1 << 15, (size_t)1 << 14, 1,
                                      FFTW_ESTIMATE), ACDC_UTIL_EUSAGE);
    assert_null(p);
    assert_non_null(strstr(acdc_util_errmsg(), "32768x16384"));
    p = (acdc_plan *)&p;
    assert_int_equal(acdc_plan_alloc2(&p, (size_t)1 << 29, 1, 1, FFTW_ESTIMATE),
                     ACDC_UTIL_EUSAGE);
    assert_null(p);
}

static void test_plan_rejects_zero(void **state)
{
    (void)state;
    acdc_plan *p = (acdc_plan *)&p;   /* not NULL, so the test sees the reset */
    assert_int_equal(acdc_plan_alloc(&p, 0, 1, FFTW_ESTIMATE), ACDC_UTIL_EUSAGE);
    assert_null(p);
    p = (acdc_plan *)&p;
    assert_int_equal(acdc_plan_alloc(&p, (size_t)1 << 29, 1, FFTW_ESTIMATE), ACDC_UTIL_EUSAGE);
    assert_null(p);
    acdc_plan_free(NULL);
}

/* The row transforms of a 1D plan (Makhoul's algorithm through FFTW's r2c/c2r, dct.c)
 * against FFTW's own REDFT10 and REDFT01 of the same row, in place and out of place, in
 * double and float, for every length up to 70 (odd, even, n/2 odd and even) and a few
 * large ones.  The bound is relative to the row's norm: eps times a small multiple of
 * log2 n, what an FFT of the length accumulates. */
static double row_error(const double *a, const double *b, size_t n)
{
    double e = 0, s = 0;
    for (size_t i = 0; i < n; i++) {
        e = fmax(e, fabs(a[i] - b[i]));
        s += b[i] * b[i];
    }
    return e / sqrt(s / (double)n + 1e-300);
}

static void test_row_transforms_match_fftw_r2r(void **state)
{
    (void)state;
    size_t lens[80], nl = 0;
    for (size_t n = 1; n <= 70; n++)
        lens[nl++] = n;
    const size_t big[] = {128, 784, 1031, 4096};
    for (size_t i = 0; i < 4; i++)
        lens[nl++] = big[i];
    double worst_d = 0, worst_f = 0;
    for (size_t s = 0; s < nl; s++) {
        const size_t n = lens[s];
        const double bound = 4 * (log2((double)n) + 1);
        acdc_plan *p;
        acdc_planf *pf;
        assert_int_equal(acdc_plan_alloc(&p, n, 1, FFTW_ESTIMATE), 0);
        assert_int_equal(acdc_planf_alloc(&pf, n, 1, FFTW_ESTIMATE), 0);
        double *x = fftw_alloc_real(n), *ref = fftw_alloc_real(n), *out = fftw_alloc_real(n);
        double *yf = malloc(n * sizeof *yf);
        for (int kind = 0; kind < 2; kind++) {
            fill(x, n, 0.37 + kind);
            fftw_plan r = fftw_plan_r2r_1d((int)n, ref, ref, kind ? FFTW_REDFT01 : FFTW_REDFT10,
                                           FFTW_ESTIMATE);
            memcpy(ref, x, n * sizeof *x);
            fftw_execute(r);
            fftw_destroy_plan(r);
            /* in place on a block row */
            double *row = acdc_plan_row(p, 0);
            memcpy(row, x, n * sizeof *x);
            kind ? acdc_plan_redft01(p, row) : acdc_plan_redft10(p, row);
            double e = row_error(row, ref, n);
            /* out of place, from or to an array of another alignment */
            if (kind) {
                memcpy(row, x, n * sizeof *x);
                acdc_plan_redft01_to(p, row, out);
            } else {
                acdc_plan_redft10_from(p, x, row);
                memcpy(out, row, n * sizeof *x);
            }
            e = fmax(e, row_error(out, ref, n));
            if (e > bound * DBL_EPSILON)
                fail_msg("n = %zu: %s differs from FFTW's by %.3g of the row's rms "
                         "(bound %.3g)", n, kind ? "REDFT01" : "REDFT10", e, bound * DBL_EPSILON);
            worst_d = fmax(worst_d, e / (bound * DBL_EPSILON));
            /* float against the double reference: its own rounding */
            float *rf = acdc_planf_row(pf, 0);
            for (size_t i = 0; i < n; i++)
                rf[i] = (float)x[i];
            kind ? acdc_planf_redft01(pf, rf) : acdc_planf_redft10(pf, rf);
            for (size_t i = 0; i < n; i++)
                yf[i] = rf[i];
            double ef = row_error(yf, ref, n);
            if (ef > 2 * bound * FLT_EPSILON)
                fail_msg("n = %zu: float %s differs from FFTW's double by %.3g (bound %.3g)",
                         n, kind ? "REDFT01" : "REDFT10", ef, 2 * bound * FLT_EPSILON);
            worst_f = fmax(worst_f, ef / (2 * bound * FLT_EPSILON));
        }
        fftw_free(x);
        fftw_free(ref);
        fftw_free(out);
        free(yf);
        acdc_plan_free(p);
        acdc_planf_free(pf);
    }
    printf("# row transforms: worst error %.2f (double) and %.2f (float) of the bound\n",
           worst_d, worst_f);
}

/* The passes on parts of a batch (acdc_layer_forward_rows() and friends), run on ranges
 * in a scrambled order, give what the whole-batch functions give, bit for bit.  h = 0:
 * 1D over n = w, else 2D h x w.  Forward ranges end anywhere; backward ones on blocks. */
static void assert_rows_match(size_t h, size_t w, size_t batch)
{
    const size_t n = h ? h * w : w;
    acdc_layer L = make_layer(n, 1);
    acdc_plan *p;
    assert_int_equal(h ? acdc_plan_alloc2(&p, h, w, 1, FFTW_ESTIMATE)
                       : acdc_plan_alloc(&p, n, 1, FFTW_ESTIMATE),
                     0);
    const size_t q = acdc_plan_stride(p), nblk = (batch + 15) / 16;
    double *x = malloc(batch * n * sizeof *x), *dz = malloc(batch * n * sizeof *dz);
    double *z[2], *h2[2], *dx[2], *ga[2][4];
    double *sd = malloc(2 * q * sizeof *sd), *part = malloc(nblk * 3 * q * sizeof *part);
    fill(x, batch * n, 0.4);
    fill(dz, batch * n, 2.9);
    for (int k = 0; k < 2; k++) {
        z[k] = malloc(batch * n * sizeof **z);
        h2[k] = malloc(batch * n * sizeof **h2);
        dx[k] = malloc(batch * n * sizeof **dx);
        for (int i = 0; i < 4; i++) {
            ga[k][i] = malloc(n * sizeof(double));
            fill(ga[k][i], n, 1.5 + i);   /* accumulated into, not overwritten */
        }
    }
    acdc_grad g0 = {ga[0][0], ga[0][1], ga[0][2], ga[0][3]};
    assert_int_equal(acdc_layer_forward(&L, p, batch, x, z[0], h2[0]), 0);
    assert_int_equal(acdc_layer_backward(&L, p, batch, x, h2[0], dz, dx[0], &g0), 0);

    acdc_grad g1 = {ga[1][0], ga[1][1], ga[1][2], ga[1][3]};
    acdc_layer_fold(&L, p, sd, sd + q);
    const size_t cut[] = {0, 7, batch / 2 + 3, batch};   /* ranges taken last to first */
    for (size_t r = 3; r-- > 0;)
        acdc_layer_forward_rows(&L, p, 0, sd, sd + q, batch, cut[r], cut[r + 1], x, z[1], h2[1]);
    const size_t mid = nblk / 2 * 16;
    acdc_layer_backward_rows(&L, p, 0, sd, batch, mid, batch, x, h2[1], dz, dx[1], &g1, part);
    acdc_layer_backward_rows(&L, p, 0, sd, batch, 0, mid, x, h2[1], dz, dx[1], &g1, part);
    acdc_layer_backward_sum(p, 0, sd, batch, part, &g1);

    assert_memory_equal(z[0], z[1], batch * n * sizeof(double));
    assert_memory_equal(h2[0], h2[1], batch * n * sizeof(double));
    assert_memory_equal(dx[0], dx[1], batch * n * sizeof(double));
    for (int i = 0; i < 4; i++)
        assert_memory_equal(ga[0][i], ga[1][i], n * sizeof(double));
    for (int k = 0; k < 2; k++) {
        free(z[k]);
        free(h2[k]);
        free(dx[k]);
        for (int i = 0; i < 4; i++)
            free(ga[k][i]);
    }
    free(x);
    free(dz);
    free(sd);
    free(part);
    acdc_plan_free(p);
    free_layer(&L);
}

/* The row functions write only their own rows (and their own blocks' sums): every
 * other row of z, h2 and dx and every other block of the sums keeps what it held. */
static void test_layer_rows_stay_in_range(void **state)
{
    (void)state;
    const size_t n = 64, batch = 50, nblk = 4, b0 = 7, b1 = 20;
    const double mark = 12345.0;
    acdc_layer L = make_layer(n, 1);
    acdc_plan *p;
    assert_int_equal(acdc_plan_alloc(&p, n, 1, FFTW_ESTIMATE), 0);
    const size_t q = acdc_plan_stride(p);
    double *x = malloc(batch * n * sizeof *x), *dz = malloc(batch * n * sizeof *dz);
    double *z = malloc(batch * n * sizeof *z), *h2 = malloc(batch * n * sizeof *h2);
    double *dx = malloc(batch * n * sizeof *dx);
    double *sd = malloc(2 * q * sizeof *sd), *part = malloc(nblk * 3 * q * sizeof *part);
    double *ga = calloc(4 * n, sizeof *ga);
    fill(x, batch * n, 0.4);
    fill(dz, batch * n, 2.9);
    for (size_t i = 0; i < batch * n; i++)
        z[i] = h2[i] = dx[i] = mark;
    for (size_t i = 0; i < nblk * 3 * q; i++)
        part[i] = mark;
    acdc_layer_fold(&L, p, sd, sd + q);
    acdc_layer_forward_rows(&L, p, 0, sd, sd + q, batch, b0, b1, x, z, h2);
    for (size_t b = 0; b < batch; b++) {
        const int inside = b >= b0 && b < b1;
        assert_int_equal(z[b * n + 3] == mark, !inside);
        assert_int_equal(h2[b * n + n - 1] == mark, !inside);
    }
    /* the forward pass over every row, then the backward pass over block 1 alone */
    acdc_layer_forward_rows(&L, p, 0, sd, sd + q, batch, 0, batch, x, z, h2);
    acdc_grad g = {ga, ga + n, ga + 2 * n, ga + 3 * n};
    acdc_layer_backward_rows(&L, p, 0, sd, batch, 16, 32, x, h2, dz, dx, &g, part);
    for (size_t b = 0; b < batch; b++)
        assert_int_equal(dx[b * n + 5] == mark, !(b >= 16 && b < 32));
    for (size_t blk = 0; blk < nblk; blk++)
        assert_int_equal(part[blk * 3 * q + 2 * q + 1] == mark, blk != 1);
    for (size_t i = 0; i < 4 * n; i++)   /* g says what is wanted; it is not written */
        assert_true(ga[i] == 0);
    free(x);
    free(dz);
    free(z);
    free(h2);
    free(dx);
    free(sd);
    free(part);
    free(ga);
    acdc_plan_free(p);
    free_layer(&L);
}

static void test_layer_rows_match(void **state)
{
    (void)state;
    assert_rows_match(0, 64, 100);
    assert_rows_match(0, 784, 37);
    assert_rows_match(8, 12, 50);
}

/* FFTW's system wisdom: imported once, reported as read, forgotten on request and not
 * imported again; DCTs planned with it and after it agree with the definition. */
static void test_plan_wisdom(void **state)
{
    (void)state;
    const size_t n = 784;
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y), *ref = malloc(n * sizeof *ref);
    assert_non_null(x);
    assert_non_null(y);
    assert_non_null(ref);
    fill(x, n, 1.3);
    for (size_t k = 0; k < n; k++) {
        long double r = 0;
        for (size_t j = 0; j < n; j++)
            r += (long double)cmat(k, j, n) * x[j];
        ref[k] = (double)r;
    }
    const int w = acdc_plan_wisdom();
    /* the report says what FFTW finds in /etc/fftw (reading it again adds nothing) */
    assert_int_equal(w & ACDC_WISDOM_DOUBLE ? 1 : 0, fftw_import_system_wisdom() ? 1 : 0);
    assert_int_equal(w & ACDC_WISDOM_FLOAT ? 1 : 0, fftwf_import_system_wisdom() ? 1 : 0);
    assert_int_equal(w & ~(ACDC_WISDOM_DOUBLE | ACDC_WISDOM_FLOAT), 0);
    assert_int_equal(acdc_plan_wisdom(), w);
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            acdc_plan_forget_wisdom();
            assert_int_equal(acdc_plan_wisdom(), 0);
        }
        acdc_plan *p;
        assert_int_equal(acdc_plan_alloc(&p, n, 1, FFTW_ESTIMATE), 0);
        acdc_dct2(p, 1, x, y);
        for (size_t k = 0; k < n; k++)
            if (fabs(y[k] - ref[k]) > 1e-13 * 8)
                fail_msg("pass %d: DCT-II entry %zu is %.17g, not %.17g", pass, k, y[k], ref[k]);
        acdc_plan_free(p);
    }
    assert_int_equal(acdc_plan_wisdom(), 0);   /* forgotten stays forgotten */
    free(x);
    free(y);
    free(ref);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dct_matches_definition),
        cmocka_unit_test(test_dct_orthonormal_round_trip),
        cmocka_unit_test(test_row_transforms_match_fftw_r2r),
        cmocka_unit_test(test_layer_matches_dense),
        cmocka_unit_test(test_layer_gradients),
        cmocka_unit_test(test_backward_thread_independent),
        cmocka_unit_test(test_layer_thread_independent),
        cmocka_unit_test(test_layer_large_batches),
        cmocka_unit_test(test_layer_rows_match),
        cmocka_unit_test(test_layer_rows_stay_in_range),
        cmocka_unit_test(test_plan_rejects_zero),
        cmocka_unit_test(test_dct2d_matches_kronecker),
        cmocka_unit_test(test_layer2d_matches_kronecker),
        cmocka_unit_test(test_layer2d_gradients),
        cmocka_unit_test(test_layer2d_thread_independent),
        cmocka_unit_test(test_plan2d_degenerate_is_1d),
        cmocka_unit_test(test_plan2d_rejects_bad_shapes),
        cmocka_unit_test(test_plan_wisdom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
