/* SPDX-License-Identifier: GPL-3.0-or-later */
/* tests/test_models_model.c -- cascade semantics, the model file and its validation. */
#include "tests/testutil.h"

#include <fftw3.h>
#include <hdf5.h>

#include "models/io.h"
#include "models/model.h"
#include "util/error.h"
#include "util/h5.h"

static void fill(double *v, size_t n, double seed)
{
    for (size_t i = 0; i < n; i++)
        v[i] = sin(2.385 * (double)i + seed) + 0.37 * cos(0.913 * (double)i * seed);
}

/* A 3-layer cascade with every feature on, deterministic values. */
static acdc_model *make_model(size_t n, size_t n_in, size_t n_out)
{
    acdc_model *m;
    assert_int_equal(acdc_model_alloc(&m, n, n_in, n_out, 3,
                                      ACDC_A_BIAS | ACDC_D_BIAS | ACDC_PERM | ACDC_RELU |
                                          ACDC_STANDARDISE),
                     0);
    assert_int_equal(acdc_model_init_normal(m, 1, 0.3, 17), 0);
    assert_int_equal(acdc_model_init_perms(m, 5), 0);
    for (size_t l = 0; l < 3; l++) {
        fill(m->layers[l].a_bias, n, 1.1 + (double)l);
        fill(m->layers[l].d_bias, n, 2.7 + (double)l);
    }
    fill(m->in_mean, n_in, 0.4);
    for (size_t i = 0; i < n_in; i++)
        m->in_scale[i] = 0.5 + 0.01 * (double)i;
    return m;
}

/* The layers of m one by one from the padded input v (n values; z: n of scratch), with
 * ReLU and permutation as the cascade applies them; y = the first n_out outputs.  Frees
 * p, v and z. */
static void layers_by_hand(const acdc_model *m, acdc_plan *p, double *v, double *z, double *y)
{
    const size_t n = m->n;
    for (size_t l = 0; l < m->n_layers; l++) {
        const acdc_layer *L = &m->layers[l];
        acdc_layer_forward(L, p, 1, v, z, NULL);
        for (size_t i = 0; i < n; i++) {
            double u = z[L->perm ? (size_t)L->perm[i] : i];
            v[i] = L->relu && u < 0 ? 0 : u;
        }
    }
    memcpy(y, v, m->n_out * sizeof *y);
    acdc_plan_free(p);
    free(v);
    free(z);
}

/* The cascade's definition, spelled out with single-layer calls. */
static void reference(const acdc_model *m, const double *x, double *y)
{
    size_t n = m->n;
    double *v = calloc(n, sizeof *v), *z = malloc(n * sizeof *z);
    for (size_t i = 0; i < m->n_in; i++)
        v[i] = (x[i] - m->in_mean[i]) / m->in_scale[i];
    acdc_plan *p;
    assert_int_equal(acdc_plan_alloc(&p, n, 1, FFTW_ESTIMATE), 0);
    layers_by_hand(m, p, v, z, y);
}

/* The cascade on a batch of 9 inputs (2 threads) equals ref, row by row, to 1e-12. */
static void assert_forward_is(const acdc_model *m, size_t batch,
                              void (*ref)(const acdc_model *, const double *, double *))
{
    const size_t n_in = m->n_in, n_out = m->n_out;
    acdc_work *w;
    assert_int_equal(acdc_work_alloc(&w, m, batch, 0, 2, FFTW_ESTIMATE), 0);
    double *x = malloc(batch * n_in * sizeof *x), *y = malloc(batch * n_out * sizeof *y);
    double *r = malloc(n_out * sizeof *r);
    fill(x, batch * n_in, 0.77);
    assert_int_equal(acdc_model_forward(m, w, batch, x, y), 0);
    for (size_t b = 0; b < batch; b++) {
        ref(m, x + b * n_in, r);
        for (size_t i = 0; i < n_out; i++)
            assert_close(y[b * n_out + i], r[i], 1e-12 * (1 + fabs(r[i])));
    }
    free(x);
    free(y);
    free(r);
    acdc_work_free(w);
}

static void test_cascade_semantics(void **state)
{
    (void)state;
    const size_t shapes[][3] = {{1, 1, 1}, {7, 5, 3}, {16, 16, 16}, {31, 20, 10}};
    for (size_t s = 0; s < 4; s++) {
        size_t n = shapes[s][0], n_in = shapes[s][1], n_out = shapes[s][2], batch = 9;
        acdc_model *m = make_model(n, n_in, n_out);
        assert_false(m->layers[2].relu);  /* no ReLU after the last layer */
        assert_true(n == 1 || m->layers[0].relu);
        assert_forward_is(m, batch, reference);
        acdc_model_free(m);
    }
}

static void test_identity_model_is_identity(void **state)
{
    (void)state;
    acdc_model *m;
    assert_int_equal(acdc_model_alloc(&m, 12, 12, 12, 4, 0), 0);
    acdc_work *w;
    assert_int_equal(acdc_work_alloc(&w, m, 2, 0, 1, FFTW_ESTIMATE), 0);
    double x[24], y[24];
    fill(x, 24, 3.3);
    assert_int_equal(acdc_model_forward(m, w, 2, x, y), 0);
    for (int i = 0; i < 24; i++)
        assert_close(y[i], x[i], 1e-14);
    acdc_work_free(w);
    acdc_model_free(m);
}

static void test_alloc_rejects_bad_shapes(void **state)
{
    (void)state;
    acdc_model *m = (acdc_model *)&m;   /* not NULL, so the test sees the reset */
    assert_int_equal(acdc_model_alloc(&m, 0, 1, 1, 1, 0), ACDC_UTIL_EUSAGE);
    assert_null(m);
    assert_non_null(strstr(acdc_util_errmsg(), "n = 0"));
    assert_int_equal(acdc_model_alloc(&m, 4, 5, 4, 1, 0), ACDC_UTIL_EUSAGE);
    assert_non_null(strstr(acdc_util_errmsg(), "n_in"));
    assert_int_equal(acdc_model_alloc(&m, 4, 4, 0, 1, 0), ACDC_UTIL_EUSAGE);
    assert_non_null(strstr(acdc_util_errmsg(), "n_out"));
    assert_int_equal(acdc_model_alloc(&m, 4, 4, 4, 0, 0), ACDC_UTIL_EUSAGE);
    assert_null(m);
    acdc_model_free(NULL);
    acdc_work *w = (acdc_work *)&w;
    assert_int_equal(acdc_model_alloc(&m, 4, 4, 4, 1, 0), 0);
    assert_int_equal(acdc_work_alloc(&w, m, 0, 0, 1, FFTW_ESTIMATE), ACDC_UTIL_EUSAGE);
    assert_null(w);
    acdc_work_free(NULL);
    acdc_model_free(m);
    assert_int_equal(acdc_model_init_normal(NULL, 1, NAN, 1), ACDC_UTIL_EUSAGE);
}

static void test_model_file_round_trip(void **state)
{
    (void)state;
    acdc_model *m = make_model(10, 8, 6);
    free(m->layers[1].a_bias);   /* layers may differ in what they carry */
    m->layers[1].a_bias = NULL;
    free(m->layers[2].perm);
    m->layers[2].perm = NULL;
    const char *path = test_path(0, "round.h5");
    assert_int_equal(acdc_model_write(m, path), 0);
    acdc_model *r;
    assert_int_equal(acdc_model_read(path, &r), 0);
    assert_int_equal(r->n, 10);
    assert_int_equal(r->n_in, 8);
    assert_int_equal(r->n_out, 6);
    assert_int_equal(r->n_layers, 3);
    for (size_t l = 0; l < 3; l++) {
        const acdc_layer *A = &m->layers[l], *B = &r->layers[l];
        assert_memory_equal(A->a, B->a, 10 * sizeof(double));
        assert_memory_equal(A->d, B->d, 10 * sizeof(double));
        assert_int_equal(A->relu, B->relu);
        assert_int_equal(A->a_bias == NULL, B->a_bias == NULL);
        assert_int_equal(A->perm == NULL, B->perm == NULL);
        if (A->perm)
            assert_memory_equal(A->perm, B->perm, 10 * sizeof(int64_t));
        if (A->d_bias)
            assert_memory_equal(A->d_bias, B->d_bias, 10 * sizeof(double));
    }
    assert_memory_equal(m->in_mean, r->in_mean, 8 * sizeof(double));
    assert_memory_equal(m->in_scale, r->in_scale, 8 * sizeof(double));
    acdc_model_free(m);
    acdc_model_free(r);
}

/* ---- 2D cascades (transform dct2 on an h × w grid) ---- */

/* make_model() on an h × w grid with the input grid in_h × in_w. */
static acdc_model *make_model2(size_t h, size_t w, size_t in_h, size_t in_w, size_t n_out)
{
    acdc_model *m = make_model(h * w, in_h * in_w, n_out);
    assert_int_equal(acdc_model_set_grid(m, ACDC_TRANSFORM_DCT2, h, w, in_h, in_w), 0);
    return m;
}

/* The 2D cascade's definition: the input laid row by row into the top-left corner,
 * single 2D layers, ReLU, permutations. */
static void reference2(const acdc_model *m, const double *x, double *y)
{
    size_t n = m->n;
    double *v = calloc(n, sizeof *v), *z = malloc(n * sizeof *z);
    for (size_t i = 0; i < m->in_h; i++)
        for (size_t j = 0; j < m->in_w; j++) {
            size_t k = i * m->in_w + j;
            v[i * m->w + j] = (x[k] - m->in_mean[k]) / m->in_scale[k];
        }
    acdc_plan *p;
    assert_int_equal(acdc_plan_alloc2(&p, m->h, m->w, 1, FFTW_ESTIMATE), 0);
    layers_by_hand(m, p, v, z, y);
}

static const size_t grids2[][5] = {
    /* h, w, in_h, in_w, n_out */
    {1, 1, 1, 1, 1}, {3, 5, 2, 4, 6}, {5, 7, 3, 7, 4}, {4, 4, 4, 4, 16}, {28, 28, 28, 28, 10},
    {32, 32, 28, 28, 10}, {7, 1, 5, 1, 3}};

static void test_cascade2d_semantics(void **state)
{
    (void)state;
    for (size_t s = 0; s < sizeof grids2 / sizeof *grids2; s++) {
        const size_t *g = grids2[s], batch = 9;
        acdc_model *m = make_model2(g[0], g[1], g[2], g[3], g[4]);
        size_t n_in = m->n_in, n_out = m->n_out;
        assert_forward_is(m, batch, reference2);
        double *x = malloc(batch * n_in * sizeof *x), *y = malloc(batch * n_out * sizeof *y);
        fill(x, batch * n_in, 0.77);
        /* A 1D workspace does not serve a 2D model (nor one of another grid). */
        acdc_work *w1;
        acdc_model *m1 = make_model(m->n, m->n, n_out);
        assert_int_equal(acdc_work_alloc(&w1, m1, batch, 0, 1, FFTW_ESTIMATE), 0);
        if (m->h > 1) {
            assert_int_equal(acdc_model_forward(m, w1, batch, x, y), ACDC_UTIL_EUSAGE);
            assert_non_null(strstr(acdc_util_errmsg(), "another model shape"));
        }
        acdc_work_free(w1);
        acdc_model_free(m1);
        free(x);
        free(y);
        acdc_model_free(m);
    }
}

/* Loss Σ c ⊙ y through the whole 2D cascade (ReLU, permutations, padding), so dL/dy = c. */
static double cascade_loss(const acdc_model *m, acdc_work *w, size_t batch, const double *x,
                           const double *c)
{
    double *y = malloc(batch * m->n_out * sizeof *y);
    assert_int_equal(acdc_model_forward(m, w, batch, x, y), 0);
    double s = 0;
    for (size_t i = 0; i < batch * m->n_out; i++)
        s += c[i] * y[i];
    free(y);
    return s;
}

static void fd_check(const char *what, double *v, const double *g, size_t count,
                     const acdc_model *m, acdc_work *w, size_t batch, const double *x,
                     const double *c)
{
    /* ReLU kinks: a step small enough not to cross one for these values. */
    const double h = 1e-5;
    for (size_t i = 0; i < count; i++) {
        double keep = v[i];
        v[i] = keep + h;
        double up = cascade_loss(m, w, batch, x, c);
        v[i] = keep - h;
        double dn = cascade_loss(m, w, batch, x, c);
        v[i] = keep;
        double fd = (up - dn) / (2 * h);
        if (fabs(fd - g[i]) > 1e-6 * (1 + fabs(fd)))
            fail_msg("%s[%zu]: analytic %.12g, finite difference %.12g", what, i, g[i], fd);
    }
}

/* Backward through a 2D cascade with ReLU, permutations, both biases, standardisation and
 * an input grid smaller than the layer grid (3x4 in 4x5): every parameter and dL/dx
 * against central differences. */
static void test_cascade2d_backward(void **state)
{
    (void)state;
    const size_t batch = 5;
    acdc_model *m = make_model2(4, 5, 3, 4, 7);
    acdc_model *grad;
    assert_int_equal(acdc_model_alloc_like(&grad, m), 0);
    assert_int_equal(grad->transform, ACDC_TRANSFORM_DCT2);
    assert_int_equal(grad->h, 4);
    assert_int_equal(grad->in_w, 4);
    acdc_work *w;
    assert_int_equal(acdc_work_alloc(&w, m, batch, 1, 2, FFTW_ESTIMATE), 0);
    double *x = malloc(batch * m->n_in * sizeof *x), *c = malloc(batch * 7 * sizeof *c);
    double *dx = malloc(batch * m->n_in * sizeof *dx);
    fill(x, batch * m->n_in, 1.9);
    fill(c, batch * 7, 4.4);
    double *y = malloc(batch * 7 * sizeof *y);
    assert_int_equal(acdc_model_forward(m, w, batch, x, y), 0);
    assert_int_equal(acdc_model_backward(m, w, batch, c, grad, dx), 0);
    for (size_t l = 0; l < m->n_layers; l++) {
        acdc_layer *L = &m->layers[l], *G = &grad->layers[l];
        fd_check("a", L->a, G->a, m->n, m, w, batch, x, c);
        fd_check("d", L->d, G->d, m->n, m, w, batch, x, c);
        fd_check("a_bias", L->a_bias, G->a_bias, m->n, m, w, batch, x, c);
        fd_check("d_bias", L->d_bias, G->d_bias, m->n, m, w, batch, x, c);
    }
    /* dL/dx is with respect to the standardised input: perturb x by h·scale. */
    for (size_t i = 0; i < m->n_in; i++) {
        double keep = x[i], hs = 1e-5 * m->in_scale[i];
        x[i] = keep + hs;
        double up = cascade_loss(m, w, batch, x, c);
        x[i] = keep - hs;
        double dn = cascade_loss(m, w, batch, x, c);
        x[i] = keep;
        double fd = (up - dn) / 2e-5;
        if (fabs(fd - dx[i]) > 1e-6 * (1 + fabs(fd)))
            fail_msg("dx[%zu]: analytic %.12g, finite difference %.12g", i, dx[i], fd);
    }
    free(x);
    free(c);
    free(dx);
    free(y);
    acdc_work_free(w);
    acdc_model_free(grad);
    acdc_model_free(m);
}

/* Forward and backward of a 2D cascade on 1 and 2 threads: bit for bit. */
static void test_cascade2d_thread_independent(void **state)
{
    (void)state;
    const size_t batch = 37;
    acdc_model *m = make_model2(32, 32, 28, 28, 10);
    double *x = malloc(batch * m->n_in * sizeof *x), *c = malloc(batch * 10 * sizeof *c);
    fill(x, batch * m->n_in, 0.6);
    fill(c, batch * 10, 2.2);
    double *y[2], *dx[2];
    acdc_model *g[2];
    for (int t = 0; t < 2; t++) {
        acdc_work *w;
        assert_int_equal(acdc_work_alloc(&w, m, batch, 1, t + 1, FFTW_ESTIMATE), 0);
        assert_int_equal(acdc_model_alloc_like(&g[t], m), 0);
        y[t] = malloc(batch * 10 * sizeof **y);
        dx[t] = malloc(batch * m->n_in * sizeof **dx);
        assert_int_equal(acdc_model_forward(m, w, batch, x, y[t]), 0);
        assert_int_equal(acdc_model_backward(m, w, batch, c, g[t], dx[t]), 0);
        acdc_work_free(w);
    }
    assert_memory_equal(y[0], y[1], batch * 10 * sizeof(double));
    assert_memory_equal(dx[0], dx[1], batch * m->n_in * sizeof(double));
    for (size_t l = 0; l < m->n_layers; l++) {
        size_t sz = m->n * sizeof(double);
        assert_memory_equal(g[0]->layers[l].a, g[1]->layers[l].a, sz);
        assert_memory_equal(g[0]->layers[l].d, g[1]->layers[l].d, sz);
        assert_memory_equal(g[0]->layers[l].a_bias, g[1]->layers[l].a_bias, sz);
        assert_memory_equal(g[0]->layers[l].d_bias, g[1]->layers[l].d_bias, sz);
    }
    for (int t = 0; t < 2; t++) {
        free(y[t]);
        free(dx[t]);
        acdc_model_free(g[t]);
    }
    free(x);
    free(c);
    acdc_model_free(m);
}

static void test_set_grid(void **state)
{
    (void)state;
    acdc_model *m;
    assert_int_equal(acdc_model_alloc(&m, 12, 12, 5, 2, ACDC_PERM), 0);
    size_t h, w, ih, iw;
    acdc_model_grid(m, &h, &w, &ih, &iw);
    assert_true(h == 1 && w == 12 && ih == 1 && iw == 12);
    assert_int_equal(m->transform, ACDC_TRANSFORM_DCT);
    assert_int_equal(acdc_model_set_grid(m, ACDC_TRANSFORM_DCT2, 5, 3, 0, 0), ACDC_UTIL_EUSAGE);
    assert_non_null(strstr(acdc_util_errmsg(), "5x3"));
    assert_int_equal(m->transform, ACDC_TRANSFORM_DCT);   /* unchanged on failure */
    assert_int_equal(acdc_model_set_grid(m, ACDC_TRANSFORM_DCT2, 3, 4, 4, 3), ACDC_UTIL_EUSAGE);
    assert_non_null(strstr(acdc_util_errmsg(), "input shape 4x3"));
    assert_int_equal(acdc_model_set_grid(m, (acdc_transform)7, 3, 4, 0, 0), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_model_set_grid(m, ACDC_TRANSFORM_DCT, 3, 4, 0, 0), ACDC_UTIL_EUSAGE);
    assert_int_equal(acdc_model_set_grid(m, ACDC_TRANSFORM_DCT2, 3, 4, 0, 0), 0);
    acdc_model_grid(m, &h, &w, &ih, &iw);
    assert_true(h == 3 && w == 4 && ih == 3 && iw == 4);
    assert_int_equal(acdc_model_check(m), 0);
    /* clone keeps the grid; the check refuses a grid that does not hold n. */
    acdc_model *c;
    assert_int_equal(acdc_model_clone(&c, m), 0);
    assert_true(c->transform == ACDC_TRANSFORM_DCT2 && c->h == 3 && c->w == 4);
    c->w = 5;
    assert_int_equal(acdc_model_check(c), ACDC_UTIL_EDATA);
    assert_non_null(strstr(acdc_util_errmsg(), "3x5"));
    acdc_model_free(c);
    /* Back to 1D. */
    assert_int_equal(acdc_model_set_grid(m, ACDC_TRANSFORM_DCT, 1, 12, 1, 12), 0);
    assert_int_equal(m->transform, ACDC_TRANSFORM_DCT);
    acdc_model_free(m);
    /* n_in < n needs the input grid. */
    assert_int_equal(acdc_model_alloc(&m, 16, 9, 4, 1, 0), 0);
    assert_int_equal(acdc_model_set_grid(m, ACDC_TRANSFORM_DCT2, 4, 4, 0, 0), ACDC_UTIL_EUSAGE);
    assert_non_null(strstr(acdc_util_errmsg(), "n_in = 9"));
    assert_int_equal(acdc_model_set_grid(m, ACDC_TRANSFORM_DCT2, 4, 4, 3, 3), 0);
    acdc_model_free(m);
    /* Names and the shape parser. */
    assert_string_equal(acdc_transform_name(ACDC_TRANSFORM_DCT2), "dct2");
    assert_null(acdc_transform_name((acdc_transform)9));
    assert_int_equal(acdc_transform_parse("dct"), ACDC_TRANSFORM_DCT);
    assert_int_equal(acdc_transform_parse("DCT2"), -1);
    assert_int_equal(acdc_shape_parse("28x28", "--shape", &h, &w), 0);
    assert_true(h == 28 && w == 28);
    assert_int_equal(acdc_shape_parse("31X37", "--shape", &h, &w), 0);
    assert_true(h == 31 && w == 37);
    static const char *const badshapes[] = {"28", "x28", "28x", "0x5", "5x-1", "2x3x4",
                                            "axb", "16384x16385", ""};
    for (size_t i = 0; i < sizeof badshapes / sizeof *badshapes; i++) {
        if (acdc_shape_parse(badshapes[i], "--shape", &h, &w) != ACDC_UTIL_EUSAGE)
            fail_msg("'%s' was taken as a shape", badshapes[i]);
        assert_non_null(strstr(acdc_util_errmsg(), "--shape"));
    }
}

static void test_model2d_file_round_trip(void **state)
{
    (void)state;
    acdc_model *m = make_model2(6, 5, 4, 5, 3);
    const char *path = test_path(6, "round2d.h5");
    assert_int_equal(acdc_model_write(m, path), 0);
    acdc_model *r;
    assert_int_equal(acdc_model_read(path, &r), 0);
    assert_int_equal(r->transform, ACDC_TRANSFORM_DCT2);
    assert_true(r->h == 6 && r->w == 5 && r->in_h == 4 && r->in_w == 5);
    assert_int_equal(r->n_in, 20);
    for (size_t l = 0; l < 3; l++)
        assert_memory_equal(m->layers[l].d, r->layers[l].d, 30 * sizeof(double));
    /* The attributes as FORMAT.md names them. */
    hid_t f;
    assert_int_equal(acdc_util_h5_open(path, &f), 0);
    char t[16];
    assert_int_equal(acdc_util_h5_attr_str(f, path, "/", "transform", t, sizeof t), 0);
    assert_string_equal(t, "dct2");
    int64_t sh[2];
    hid_t a = H5Aopen_by_name(f, "/", "shape", H5P_DEFAULT, H5P_DEFAULT);
    assert_true(a >= 0);
    assert_true(H5Aread(a, H5T_NATIVE_INT64, sh) >= 0);
    H5Aclose(a);
    H5Fclose(f);
    assert_true(sh[0] == 6 && sh[1] == 5);
    acdc_model_free(r);
    acdc_model_free(m);
    /* A 1D model is written as before 2D models existed and reads back as 1D. */
    m = make_model(10, 8, 6);
    assert_int_equal(acdc_model_write(m, path), 0);
    assert_int_equal(acdc_model_read(path, &r), 0);
    assert_int_equal(r->transform, ACDC_TRANSFORM_DCT);
    assert_int_equal(acdc_util_h5_open(path, &f), 0);
    assert_false(acdc_util_h5_attr_exists(f, "/", "transform"));
    assert_false(acdc_util_h5_attr_exists(f, "/", "shape"));
    assert_false(acdc_util_h5_attr_exists(f, "/", "input_shape"));
    H5Fclose(f);
    acdc_model_free(r);
    acdc_model_free(m);
}

/* --- malformed files: each written with the raw HDF5 API, each must be refused --- */

typedef void (*breaker)(hid_t f);

static void put_f64(hid_t f, const char *name, size_t n, double v)
{
    double *buf = malloc(n * sizeof *buf);
    for (size_t i = 0; i < n; i++)
        buf[i] = v + 0.01 * (double)i;
    hsize_t d[1] = {n};
    assert_int_equal(acdc_util_h5_write_f64(f, name, 1, d, buf), 0);
    free(buf);
}

/* A valid 2-layer model of n = 4, then `brk` spoils it. */
static void write_model(const char *path, breaker brk)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(f >= 0);
    acdc_util_h5_set_attr_str(f, "/", "format", "acdc-model");
    acdc_util_h5_set_attr_i64(f, "/", "version", 1);
    acdc_util_h5_set_attr_i64(f, "/", "n", 4);
    put_f64(f, "/layers/0/a", 4, 1.0);
    put_f64(f, "/layers/0/d", 4, 0.9);
    put_f64(f, "/layers/1/a", 4, 1.1);
    put_f64(f, "/layers/1/d", 4, 0.8);
    int64_t perm[4] = {2, 0, 3, 1};
    hsize_t d4[1] = {4};
    acdc_util_h5_write_i64(f, "/layers/0/perm", 1, d4, perm);
    acdc_util_h5_set_attr_str(f, "/layers/0", "activation", "relu");
    if (brk)
        brk(f);
    H5Fclose(f);
}

static void del(hid_t f, const char *name) { H5Ldelete(f, name, H5P_DEFAULT); }

static void b_none(hid_t f) { (void)f; }
static void b_format(hid_t f) { acdc_util_h5_set_attr_str(f, "/", "format", "acdc-system"); }
static void b_noformat(hid_t f) { H5Adelete(f, "format"); }
static void b_version(hid_t f) { acdc_util_h5_set_attr_i64(f, "/", "version", 2); }
static void b_n_neg(hid_t f) { acdc_util_h5_set_attr_i64(f, "/", "n", -3); }
static void b_n_str(hid_t f) { acdc_util_h5_set_attr_str(f, "/", "n", "four"); }
static void b_n_in(hid_t f) { acdc_util_h5_set_attr_i64(f, "/", "n_in", 5); }
static void b_short(hid_t f) { del(f, "/layers/1/d"); put_f64(f, "/layers/1/d", 3, 1); }
static void b_missing(hid_t f) { del(f, "/layers/1/a"); }
static void b_nan(hid_t f)
{
    del(f, "/layers/0/d");
    put_f64(f, "/layers/0/d", 4, NAN);
}
static void b_inf(hid_t f)
{
    del(f, "/layers/1/a");
    put_f64(f, "/layers/1/a", 4, INFINITY);
}
static void b_float32(hid_t f)
{
    del(f, "/layers/0/a");
    float v[4] = {1, 2, 3, 4};
    hsize_t d[1] = {4};
    hid_t s = H5Screate_simple(1, d, NULL);
    hid_t ds = H5Dcreate2(f, "/layers/0/a", H5T_IEEE_F32LE, s, H5P_DEFAULT, H5P_DEFAULT,
                          H5P_DEFAULT);
    H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
    H5Dclose(ds);
    H5Sclose(s);
}
static void b_rank2(hid_t f)
{
    del(f, "/layers/0/a");
    double v[4] = {1, 2, 3, 4};
    hsize_t d[2] = {2, 2};
    acdc_util_h5_write_f64(f, "/layers/0/a", 2, d, v);
}
static void b_perm_dup(hid_t f)
{
    del(f, "/layers/0/perm");
    int64_t p[4] = {0, 1, 1, 3};
    hsize_t d[1] = {4};
    acdc_util_h5_write_i64(f, "/layers/0/perm", 1, d, p);
}
static void b_perm_range(hid_t f)
{
    del(f, "/layers/0/perm");
    int64_t p[4] = {0, 1, 2, 4};
    hsize_t d[1] = {4};
    acdc_util_h5_write_i64(f, "/layers/0/perm", 1, d, p);
}
static void b_perm_float(hid_t f)
{
    del(f, "/layers/0/perm");
    put_f64(f, "/layers/0/perm", 4, 0);
}
static void b_activation(hid_t f)
{
    acdc_util_h5_set_attr_str(f, "/layers/1", "activation", "tanh");
}
static void b_gap(hid_t f)
{
    H5Lmove(f, "/layers/1", f, "/layers/2", H5P_DEFAULT, H5P_DEFAULT);
}
static void b_name(hid_t f)
{
    H5Lmove(f, "/layers/1", f, "/layers/01", H5P_DEFAULT, H5P_DEFAULT);
}
static void b_extra(hid_t f) { put_f64(f, "/layers/1/gain", 4, 1); }
static void b_nolayers(hid_t f) { del(f, "/layers"); }
static void b_empty_layers(hid_t f)
{
    del(f, "/layers");
    acdc_util_h5_group(f, "/layers");
}
static void b_scale(hid_t f)
{
    put_f64(f, "/input/mean", 4, 0);
    put_f64(f, "/input/scale", 4, -1);
}

static void put_pair(hid_t f, const char *name, int64_t a, int64_t b)
{
    int64_t v[2] = {a, b};
    hsize_t d[1] = {2};
    if (H5Aexists(f, name) > 0)
        H5Adelete(f, name);
    hid_t s = H5Screate_simple(1, d, NULL);
    hid_t at = H5Acreate2(f, name, H5T_STD_I64LE, s, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(at, H5T_NATIVE_INT64, v);
    H5Aclose(at);
    H5Sclose(s);
}
static void b_transform(hid_t f) { acdc_util_h5_set_attr_str(f, "/", "transform", "dct3"); }
static void b_transform_int(hid_t f) { acdc_util_h5_set_attr_i64(f, "/", "transform", 2); }
static void b_dct2_noshape(hid_t f) { acdc_util_h5_set_attr_str(f, "/", "transform", "dct2"); }
static void b_dct2_shape(hid_t f)
{
    acdc_util_h5_set_attr_str(f, "/", "transform", "dct2");
    put_pair(f, "shape", 3, 2);
}
static void b_dct2_shape_scalar(hid_t f)
{
    acdc_util_h5_set_attr_str(f, "/", "transform", "dct2");
    acdc_util_h5_set_attr_i64(f, "/", "shape", 4);
}
static void b_dct2_shape_zero(hid_t f)
{
    acdc_util_h5_set_attr_str(f, "/", "transform", "dct2");
    put_pair(f, "shape", 0, 4);
}
static void b_dct_shape(hid_t f) { put_pair(f, "shape", 2, 2); }
static void b_dct2_noinput(hid_t f)
{
    acdc_util_h5_set_attr_str(f, "/", "transform", "dct2");
    put_pair(f, "shape", 2, 2);
    acdc_util_h5_set_attr_i64(f, "/", "n_in", 2);
}
static void b_dct2_input(hid_t f)
{
    acdc_util_h5_set_attr_str(f, "/", "transform", "dct2");
    put_pair(f, "shape", 2, 2);
    acdc_util_h5_set_attr_i64(f, "/", "n_in", 3);
    put_pair(f, "input_shape", 1, 3);
}

static const struct {
    const char *name;
    breaker brk;
    const char *expect;   /* a piece of the message */
} bad[] = {
    {"wrong format", b_format, "expected 'acdc-model'"},
    {"no format", b_noformat, "missing attribute 'format'"},
    {"version 2", b_version, "version 2"},
    {"negative n", b_n_neg, "attribute 'n'"},
    {"string n", b_n_str, "expected an integer"},
    {"n_in > n", b_n_in, "attribute 'n_in'"},
    {"short d", b_short, "'/layers/1/d'"},
    {"missing a", b_missing, "missing dataset '/layers/1/a'"},
    {"NaN", b_nan, "is NaN"},
    {"infinity", b_inf, "is infinite"},
    {"rank 2", b_rank2, "expected rank 1"},
    {"perm duplicate", b_perm_dup, "appears twice"},
    {"perm out of range", b_perm_range, "outside 0..3"},
    {"perm float", b_perm_float, "expected integer"},
    {"activation", b_activation, "'tanh'"},
    {"layer gap", b_gap, "'2'"},
    {"leading zero", b_name, "'01'"},
    {"extra dataset", b_extra, "unexpected object 'gain'"},
    {"no layers", b_nolayers, "missing group"},
    {"empty layers", b_empty_layers, "holds no layers"},
    {"negative scale", b_scale, "positive scale"},
    {"transform dct3", b_transform, "attribute 'transform' on '/'"},
    {"integer transform", b_transform_int, "'transform'"},
    {"dct2 without shape", b_dct2_noshape, "missing attribute 'shape'"},
    {"dct2 shape 3x2", b_dct2_shape, "attribute 'shape' on '/'"},
    {"dct2 scalar shape", b_dct2_shape_scalar, "'shape'"},
    {"dct2 shape 0x4", b_dct2_shape_zero, "attribute 'shape'"},
    {"dct with shape 2x2", b_dct_shape, "expected (1, 4) for transform 'dct'"},
    {"dct2 n_in < n, no input_shape", b_dct2_noinput, "missing attribute 'input_shape'"},
    {"dct2 input_shape 1x3 in 2x2", b_dct2_input, "attribute 'input_shape'"},
};

/* The good 2D and 1D variants of the same file are read. */
static void g_dct2(hid_t f)
{
    acdc_util_h5_set_attr_str(f, "/", "transform", "dct2");
    put_pair(f, "shape", 2, 2);
}
static void g_dct2_input(hid_t f)
{
    g_dct2(f);
    acdc_util_h5_set_attr_i64(f, "/", "n_in", 2);
    put_pair(f, "input_shape", 2, 1);
}
static void g_dct_shape(hid_t f)
{
    acdc_util_h5_set_attr_str(f, "/", "transform", "dct");
    put_pair(f, "shape", 1, 4);
}

static void test_model2d_validation(void **state)
{
    (void)state;
    const char *path = test_path(7, "good2d.h5");
    const breaker good[] = {g_dct2, g_dct2_input, g_dct_shape};
    const int want[] = {ACDC_TRANSFORM_DCT2, ACDC_TRANSFORM_DCT2, ACDC_TRANSFORM_DCT};
    for (size_t i = 0; i < 3; i++) {
        acdc_model *m;
        write_model(path, good[i]);
        if (acdc_model_read(path, &m))
            fail_msg("good file %zu refused: %s", i, acdc_util_errmsg());
        assert_int_equal(m->transform, want[i]);
        if (i == 1)
            assert_true(m->in_h == 2 && m->in_w == 1 && m->h == 2 && m->w == 2);
        acdc_model_free(m);
    }
}

/* float32 (what tensor.numpy() gives) is read everywhere and converted exactly. */
static void test_float32_read(void **state)
{
    (void)state;
    const char *path = test_path(8, "float32.h5");
    acdc_model *m;
    write_model(path, b_float32);
    if (acdc_model_read(path, &m))
        fail_msg("a float32 diagonal refused: %s", acdc_util_errmsg());
    for (size_t i = 0; i < 4; i++)
        assert_true(m->layers[0].a[i] == (double)(i + 1));
    acdc_model_free(m);
}

static void test_model_validation(void **state)
{
    (void)state;
    const char *path = test_path(1, "bad.h5");
    acdc_model *m;
    write_model(path, b_none);
    assert_int_equal(acdc_model_read(path, &m), 0);
    acdc_model_free(m);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        write_model(path, bad[i].brk);
        int rc = acdc_model_read(path, &m);
        if (rc != ACDC_UTIL_EDATA)
            fail_msg("%s: status %d, message '%s'", bad[i].name, rc, acdc_util_errmsg());
        assert_null(m);
        if (!strstr(acdc_util_errmsg(), bad[i].expect))
            fail_msg("%s: message '%s' lacks '%s'", bad[i].name, acdc_util_errmsg(),
                     bad[i].expect);
        if (!strstr(acdc_util_errmsg(), path))
            fail_msg("%s: message '%s' does not name the file", bad[i].name, acdc_util_errmsg());
    }
}

static void test_files_that_are_not_models(void **state)
{
    (void)state;
    acdc_model *m;
    const char *p = test_path(2, "junk.h5");
    FILE *f = fopen(p, "w");
    fputs("this is not HDF5\n", f);
    fclose(f);
    assert_int_equal(acdc_model_read(p, &m), ACDC_UTIL_EDATA);
    assert_non_null(strstr(acdc_util_errmsg(), "not an HDF5 file"));
    f = fopen(p, "w");
    fclose(f);
    assert_int_equal(acdc_model_read(p, &m), ACDC_UTIL_EDATA);
    assert_non_null(strstr(acdc_util_errmsg(), "empty"));
    assert_int_equal(acdc_model_read(test_path(2, "does-not-exist.h5"), &m), ACDC_UTIL_EIO);
    assert_non_null(strstr(acdc_util_errmsg(), "No such file"));
    /* A truncated copy of a valid model. */
    const char *good = test_path(3, "good.h5");
    write_model(good, b_none);
    FILE *in = fopen(good, "rb");
    char buf[1 << 16];
    size_t len = fread(buf, 1, sizeof buf, in);
    fclose(in);
    f = fopen(p, "wb");
    fwrite(buf, 1, len / 2, f);
    fclose(f);
    assert_int_equal(acdc_model_read(p, &m), ACDC_UTIL_EDATA);
    assert_null(m);
}

static void test_write_is_atomic(void **state)
{
    (void)state;
    acdc_model *m = make_model(6, 6, 6);
    /* A folder that does not exist: nothing is created, the error names the file. */
    assert_int_equal(acdc_model_write(m, "/nonexistent-dir/x.h5"), ACDC_UTIL_EIO);
    assert_non_null(strstr(acdc_util_errmsg(), "/nonexistent-dir/x.h5"));
    /* An invalid model is refused before anything is written. */
    const char *p = test_path(4, "atomic.h5");
    remove(p);
    m->layers[0].d[2] = NAN;
    assert_int_equal(acdc_model_write(m, p), ACDC_UTIL_EDATA);
    assert_int_equal(access(p, F_OK), -1);
    acdc_model_free(m);
}

static void test_data_file(void **state)
{
    (void)state;
    const char *p = test_path(5, "data.h5");
    double x[6] = {1, 2, 3, 4, 5, 6};
    int64_t lab[3] = {0, 2, 1};
    hid_t f = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t d[2] = {3, 2};
    acdc_util_h5_write_f64(f, "/x", 2, d, x);
    acdc_util_h5_write_i64(f, "/labels", 1, d, lab);
    H5Fclose(f);
    acdc_data *data;
    assert_int_equal(acdc_data_read(p, 2, &data), 0);
    assert_int_equal(data->batch, 3);
    assert_int_equal(data->labels[1], 2);
    acdc_data_free(data);
    assert_int_equal(acdc_data_read(p, 3, &data), ACDC_UTIL_EDATA);
    assert_non_null(strstr(acdc_util_errmsg(), "dimension 1 is 2, expected 3"));
    lab[2] = -1;
    f = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    acdc_util_h5_write_f64(f, "/x", 2, d, x);
    acdc_util_h5_write_i64(f, "/labels", 1, d, lab);
    H5Fclose(f);
    assert_int_equal(acdc_data_read(p, 0, &data), ACDC_UTIL_EDATA);
    assert_non_null(strstr(acdc_util_errmsg(), "row 2 has label -1"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cascade_semantics),
        cmocka_unit_test(test_identity_model_is_identity),
        cmocka_unit_test(test_alloc_rejects_bad_shapes),
        cmocka_unit_test(test_model_file_round_trip),
        cmocka_unit_test(test_model_validation),
        cmocka_unit_test(test_float32_read),
        cmocka_unit_test(test_files_that_are_not_models),
        cmocka_unit_test(test_write_is_atomic),
        cmocka_unit_test(test_data_file),
        cmocka_unit_test(test_cascade2d_semantics),
        cmocka_unit_test(test_cascade2d_backward),
        cmocka_unit_test(test_cascade2d_thread_independent),
        cmocka_unit_test(test_set_grid),
        cmocka_unit_test(test_model2d_file_round_trip),
        cmocka_unit_test(test_model2d_validation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
