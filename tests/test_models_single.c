/* SPDX-License-Identifier: GPL-3.0-or-later */
/* tests/test_models_single.c -- the float32 path (--precision single) against float64:
 * the DCT pair and one layer, 1D and 2D, odd shapes; the cascade's gradients against
 * finite differences of its own float forward pass; a short training run beside the
 * double one; determinism across runs and thread counts; checkpoints and resume.
 *
 * Tolerances.  Float's unit roundoff is u = 2^-24 = 6.0e-8.  A transform of n points
 * sums through O(log n) stages, a layer is two transforms and three diagonal products,
 * so the relative error of one layer pass (max |f − d| over max |d|) stays a few u·log n.
 * Measured (x86-64, FFTW 3.3.10) over the shapes below: DCT pair 1.4e-7, layer outputs
 * z, h2, dx 4.7e-7, parameter gradients 9e-7 except a_bias (a sum of signed terms that
 * largely cancel: 4.7e-6 at n = 784, relative to its largest entry).  The bounds -- DCT
 * 1e-6, layer 3e-6, gradients 2e-5 -- sit four to seven times above, and each failure
 * prints the error it saw. */
#include "tests/testutil.h"

#include <fftw3.h>

#include "models/dct.h"
#include "models/io.h"
#include "models/layer.h"
#include "models/model.h"
#include "models/train.h"
#include "util/error.h"
#include "util/h5.h"

/* Deterministic "high-entropy" values. */
static void fill(double *v, size_t n, double seed, double amp, double off)
{
    for (size_t i = 0; i < n; i++)
        v[i] = off + amp * (sin(2.385 * (double)i + seed) + 0.37 * cos(0.913 * (double)i *
                                                                          seed));
}

static float *to_float(const double *v, size_t n)
{
    float *f = malloc((n ? n : 1) * sizeof *f);
    assert_non_null(f);
    for (size_t i = 0; i < n; i++)
        f[i] = (float)v[i];
    return f;
}

/* max |f − d| / max |d| (d not all zero). */
static double rel_err(const float *f, const double *d, size_t n)
{
    double e = 0, s = 0;
    for (size_t i = 0; i < n; i++) {
        e = fmax(e, fabs((double)f[i] - d[i]));
        s = fmax(s, fabs(d[i]));
    }
    return e / s;
}

/* The shapes: h == 0 means a 1D plan of n = w. */
static const size_t shapes[][2] = {{0, 1}, {0, 7}, {0, 784}, {1, 7}, {3, 5}, {31, 37}};
enum { NSHAPES = sizeof shapes / sizeof *shapes };

static void plans(size_t s, int threads, acdc_plan **pd, acdc_planf **pf)
{
    size_t h = shapes[s][0], w = shapes[s][1];
    if (h) {
        assert_int_equal(acdc_plan_alloc2(pd, h, w, threads, FFTW_ESTIMATE), 0);
        assert_int_equal(acdc_planf_alloc2(pf, h, w, threads, FFTW_ESTIMATE), 0);
    } else {
        assert_int_equal(acdc_plan_alloc(pd, w, threads, FFTW_ESTIMATE), 0);
        assert_int_equal(acdc_planf_alloc(pf, w, threads, FFTW_ESTIMATE), 0);
    }
    assert_int_equal(acdc_planf_n(*pf), acdc_plan_n(*pd));
    assert_int_equal(acdc_planf_is_2d(*pf), !!h);
    assert_int_equal(acdc_planf_h(*pf), h ? h : 1);
    /* rows a whole number of 64-byte lines apart, from FFTW's SIMD-aligned block */
    assert_int_equal(acdc_planf_stride(*pf) % 16, 0);
    assert_int_equal((uintptr_t)acdc_planf_row(*pf, 0) % 16, 0);
}

static void test_dct_single_vs_double(void **state)
{
    (void)state;
    for (size_t s = 0; s < NSHAPES; s++) {
        acdc_plan *pd;
        acdc_planf *pf;
        plans(s, 2, &pd, &pf);
        const size_t n = acdc_plan_n(pd), batch = 3;
        double *x = malloc(batch * n * sizeof *x), *y = malloc(batch * n * sizeof *y);
        double *z = malloc(batch * n * sizeof *z);
        fill(x, batch * n, 0.4 + (double)s, 1, 0);
        float *xf = to_float(x, batch * n), *yf = to_float(x, batch * n);
        float *zf = to_float(x, batch * n);
        /* the same (rounded) input on both sides: only the transforms differ */
        for (size_t i = 0; i < batch * n; i++)
            x[i] = xf[i];
        acdc_dct2(pd, batch, x, y);
        acdc_dct2f(pf, batch, xf, yf);
        acdc_dct3(pd, batch, x, z);
        acdc_dct3f(pf, batch, xf, zf);
        double e2 = rel_err(yf, y, batch * n), e3 = rel_err(zf, z, batch * n);
        if (!(e2 < 1e-6) || !(e3 < 1e-6))
            fail_msg("shape %zux%zu: float DCT-II off by %.3g, DCT-III by %.3g (relative)",
                     shapes[s][0], shapes[s][1], e2, e3);
        /* and the float pair is its own inverse to float accuracy */
        acdc_dct3f(pf, batch, yf, zf);
        double rt = 0;
        for (size_t i = 0; i < batch * n; i++)
            rt = fmax(rt, fabs((double)zf[i] - x[i]));
        if (!(rt < 2e-6))
            fail_msg("shape %zux%zu: float C^T C x differs from x by %.3g", shapes[s][0],
                     shapes[s][1], rt);
        free(x);
        free(y);
        free(z);
        free(xf);
        free(yf);
        free(zf);
        acdc_plan_free(pd);
        acdc_planf_free(pf);
    }
}

/* One layer with both biases in both precisions: the float parameters and inputs are
 * the double ones rounded, and the double layer runs on those rounded values, so the
 * comparison sees the arithmetic only. */
static void test_layer_single_vs_double(void **state)
{
    (void)state;
    for (size_t s = 0; s < NSHAPES; s++) {
        acdc_plan *pd;
        acdc_planf *pf;
        plans(s, 2, &pd, &pf);
        const size_t n = acdc_plan_n(pd), batch = 37;   /* 3 blocks of 16, the last short */
        double *prm = malloc(4 * n * sizeof *prm);
        fill(prm, 2 * n, 1.1 + (double)s, 0.3, 1);
        fill(prm + 2 * n, 2 * n, 2.7 + (double)s, 0.2, 0);
        float *pf32 = to_float(prm, 4 * n);
        for (size_t i = 0; i < 4 * n; i++)
            prm[i] = pf32[i];
        acdc_layer L = {n, prm, prm + n, prm + 2 * n, prm + 3 * n, NULL, 0};
        acdc_layerf Lf = {n, pf32, pf32 + n, pf32 + 2 * n, pf32 + 3 * n};
        const size_t bn = batch * n;
        double *x = malloc(bn * sizeof *x), *dz = malloc(bn * sizeof *dz);
        double *z = malloc(bn * sizeof *z), *h2 = malloc(bn * sizeof *h2);
        double *dx = malloc(bn * sizeof *dx);
        fill(x, bn, 0.3, 1, 0);
        fill(dz, bn, 1.9, 1, 0);
        float *xf = to_float(x, bn), *dzf = to_float(dz, bn), *zf = to_float(x, bn);
        float *h2f = to_float(x, bn), *dxf = to_float(x, bn);
        for (size_t i = 0; i < bn; i++) {
            x[i] = xf[i];
            dz[i] = dzf[i];
        }
        double *gd = calloc(4 * n, sizeof *gd), *gf = calloc(4 * n, sizeof *gf);
        acdc_grad Gd = {gd, gd + n, gd + 2 * n, gd + 3 * n};
        acdc_grad Gf = {gf, gf + n, gf + 2 * n, gf + 3 * n};
        assert_int_equal(acdc_layer_forward(&L, pd, batch, x, z, h2), 0);
        assert_int_equal(acdc_layer_forwardf(&Lf, pf, batch, xf, zf, h2f), 0);
        assert_int_equal(acdc_layer_backward(&L, pd, batch, x, h2, dz, dx, &Gd), 0);
        assert_int_equal(acdc_layer_backwardf(&Lf, pf, batch, xf, h2f, dzf, dxf, &Gf), 0);
        double ez = rel_err(zf, z, bn), eh = rel_err(h2f, h2, bn), ex = rel_err(dxf, dx, bn);
        if (!(ez < 3e-6) || !(eh < 3e-6) || !(ex < 3e-6))
            fail_msg("shape %zux%zu: float layer off by z %.3g, h2 %.3g, dx %.3g",
                     shapes[s][0], shapes[s][1], ez, eh, ex);
        static const char *const names[] = {"a", "d", "a_bias", "d_bias"};
        for (int k = 0; k < 4; k++) {
            float *gk = to_float(gf + k * n, n);
            double e = rel_err(gk, gd + k * n, n);
            free(gk);
            if (!(e < 2e-5))
                fail_msg("shape %zux%zu: float gradient of %s off by %.3g", shapes[s][0],
                         shapes[s][1], names[k], e);
        }
        free(prm);
        free(pf32);
        free(x);
        free(dz);
        free(z);
        free(h2);
        free(dx);
        free(xf);
        free(dzf);
        free(zf);
        free(h2f);
        free(dxf);
        free(gd);
        free(gf);
        acdc_plan_free(pd);
        acdc_planf_free(pf);
    }
}

/* L = Σ c ⊙ y of a cascade without ReLU, through a single-precision workspace. */
static double loss_single(const acdc_model *m, acdc_work *w, size_t batch, const double *x,
                          const double *c, double *y)
{
    assert_int_equal(acdc_model_forward(m, w, batch, x, y), 0);
    double L = 0;
    for (size_t i = 0; i < batch * m->n_out; i++)
        L += c[i] * y[i];
    return L;
}

/* Without ReLU the cascade is linear in each single parameter (the others fixed), so a
 * central difference has no truncation error at any step: with a large step (0.25) the
 * only error left is the float forward's rounding, u·|L| / step ~ 1e-6 relative, and
 * the comparison is meaningful in float.  1D and 2D, with standardisation, biases and
 * permutations. */
static void check_fd(int two)
{
    const size_t batch = 5;
    acdc_model *m, *grad;
    if (two) {
        assert_int_equal(acdc_model_alloc(&m, 15, 6, 4, 3, ACDC_A_BIAS | ACDC_D_BIAS |
                                                                ACDC_PERM | ACDC_STANDARDISE),
                         0);
        assert_int_equal(acdc_model_set_grid(m, ACDC_TRANSFORM_DCT2, 3, 5, 2, 3), 0);
    } else {
        assert_int_equal(acdc_model_alloc(&m, 7, 5, 3, 3, ACDC_A_BIAS | ACDC_D_BIAS |
                                                               ACDC_PERM | ACDC_STANDARDISE),
                         0);
    }
    assert_int_equal(acdc_model_init_normal(m, 1, 0.3, 4), 0);
    assert_int_equal(acdc_model_init_perms(m, 4), 0);
    for (size_t l = 0; l < m->n_layers; l++) {
        fill(m->layers[l].a_bias, m->n, 0.5 + (double)l, 0.2, 0);
        fill(m->layers[l].d_bias, m->n, 1.5 + (double)l, 0.2, 0);
    }
    fill(m->in_mean, m->n_in, 0.2, 0.1, 0.3);
    fill(m->in_scale, m->n_in, 0.9, 0.2, 1);
    assert_int_equal(acdc_model_alloc_like(&grad, m), 0);
    acdc_work *w;
    assert_int_equal(acdc_work_alloc_precision(&w, m, batch, 1, 2, FFTW_ESTIMATE,
                                               ACDC_PRECISION_SINGLE), 0);
    assert_int_equal(acdc_work_precision(w), ACDC_PRECISION_SINGLE);
    double x[5 * 6], c[5 * 4], y[5 * 4], dx[5 * 6];
    fill(x, batch * m->n_in, 0.7, 1, 0.2);
    fill(c, batch * m->n_out, 1.3, 1, 0);
    (void)loss_single(m, w, batch, x, c, y);
    assert_int_equal(acdc_model_backward(m, w, batch, c, grad, dx), 0);
    const double h = 0.25;
    double worst = 0, scale = 0;
    for (size_t l = 0; l < m->n_layers; l++) {
        double *pv[4] = {m->layers[l].a, m->layers[l].d, m->layers[l].a_bias,
                         m->layers[l].d_bias};
        double *gv[4] = {grad->layers[l].a, grad->layers[l].d, grad->layers[l].a_bias,
                         grad->layers[l].d_bias};
        for (int k = 0; k < 4; k++)
            for (size_t i = 0; i < m->n; i++) {
                double keep = pv[k][i];
                pv[k][i] = keep + h;
                double lp = loss_single(m, w, batch, x, c, y);
                pv[k][i] = keep - h;
                double lm = loss_single(m, w, batch, x, c, y);
                pv[k][i] = keep;
                worst = fmax(worst, fabs((lp - lm) / (2 * h) - gv[k][i]));
                scale = fmax(scale, fabs(gv[k][i]));
            }
    }
    /* dL/dx: linear in x too (through the standardisation) */
    for (size_t i = 0; i < batch * m->n_in; i++) {
        double keep = x[i];
        x[i] = keep + h;
        double lp = loss_single(m, w, batch, x, c, y);
        x[i] = keep - h;
        double lm = loss_single(m, w, batch, x, c, y);
        x[i] = keep;
        /* dx is with respect to the standardised input */
        double want = (lp - lm) / (2 * h) * m->in_scale[i % m->n_in];
        worst = fmax(worst, fabs(want - dx[i]));
        scale = fmax(scale, fabs(dx[i]));
    }
    if (!(worst < 2e-5 * scale))
        fail_msg("%s: float gradients differ from central differences by %.3g (scale %.3g)",
                 two ? "2D 3x5" : "1D n = 7", worst, scale);
    acdc_work_free(w);
    acdc_model_free(grad);
    acdc_model_free(m);
}

static void test_gradients_finite_differences(void **state)
{
    (void)state;
    check_fd(0);
    check_fd(1);
}

/* ---- training ---------------------------------------------------------------------- */


static acdc_trainer *classifier(size_t rows, size_t epochs, int threads, int precision)
{
    acdc_model *m;
    assert_int_equal(acdc_model_alloc(&m, 12, 10, 3, 3,
                                      ACDC_A_BIAS | ACDC_D_BIAS | ACDC_PERM | ACDC_RELU |
                                          ACDC_STANDARDISE),
                     0);
    assert_int_equal(acdc_model_init_normal(m, 1, 0.06, 5), 0);
    assert_int_equal(acdc_model_init_perms(m, 5), 0);
    acdc_train_opts o;
    acdc_train_opts_default(&o, ACDC_LOSS_XENT);
    o.epochs = epochs;
    o.batch = 16;
    o.val_frac = 0.2;
    o.seed = 5;
    o.threads = threads;
    o.precision = precision;
    acdc_trainer *t;
    assert_int_equal(acdc_trainer_alloc(&t, m, &o, rows), 0);
    return t;
}

enum { R = 400 };
static double X[R * 10];
static int64_t LAB[R];

static acdc_train_data data(void)
{
    test_classes(R, X, LAB);
    return (acdc_train_data){R, 10, X, NULL, LAB, NULL};
}

static void run(acdc_trainer *t, const acdc_train_data *d, acdc_epoch_stats *st)
{
    if (!acdc_trainer_epoch_count(t))
        assert_int_equal(acdc_trainer_standardise(t, d, 1, 0.1), 0);
    while (acdc_trainer_epoch_count(t) < acdc_trainer_opts(t)->epochs)
        assert_int_equal(acdc_trainer_epoch(t, d, NULL, NULL, st), 0);
}

static int same_params(acdc_model *a, acdc_model *b)
{
    for (size_t l = 0; l < a->n_layers; l++) {
        const acdc_layer *A = &a->layers[l], *B = &b->layers[l];
        size_t sz = a->n * sizeof(double);
        if (memcmp(A->a, B->a, sz) || memcmp(A->d, B->d, sz) ||
            memcmp(A->a_bias, B->a_bias, sz) || memcmp(A->d_bias, B->d_bias, sz))
            return 0;
    }
    return 1;
}

/* 6 epochs (120 Adam steps) in both precisions from the same start.  The runs see the
 * same rows in the same order; they part only by float rounding (1e-7 relative per
 * pass), which Adam's normalised steps carry along without growth on this smooth
 * problem: the measured final losses agree to 1.4e-7 (training) and 6e-7 (validation)
 * relative.  The bound, 1e-4 relative (and the validation accuracy to one row in 80),
 * leaves a hundredfold room for other CPUs' FFTW codelets while still failing if the
 * float path computed anything else (a wrong gradient moves the loss by far more). */
static void test_training_close_to_double(void **state)
{
    (void)state;
    acdc_train_data d = data();
    acdc_trainer *td = classifier(R, 6, 1, ACDC_PRECISION_DOUBLE);
    acdc_trainer *ts = classifier(R, 6, 1, ACDC_PRECISION_SINGLE);
    acdc_epoch_stats sd, ss;
    run(td, &d, &sd);
    run(ts, &d, &ss);
    if (!(fabs(ss.loss - sd.loss) <= 1e-4 * sd.loss) ||
        !(fabs(ss.val_loss - sd.val_loss) <= 1e-4 * sd.val_loss) ||
        !(fabs(ss.val_acc - sd.val_acc) <= 1.0 / 80 + 1e-12))
        fail_msg("single: loss %.9g val %.9g acc %.4f; double: loss %.9g val %.9g acc %.4f",
                 ss.loss, ss.val_loss, ss.val_acc, sd.loss, sd.val_loss, sd.val_acc);
    /* it learnt (so the closeness above is not that of two idle runs) */
    assert_true(ss.val_acc > 0.9);
    /* and it is a float run: not bitwise the double one */
    assert_false(same_params(acdc_trainer_model(td), acdc_trainer_model(ts)));
    acdc_trainer_free(td);
    acdc_trainer_free(ts);
}

/* Same seed: bitwise the same model run to run and for 1 or 2 threads, as in double. */
static void test_single_determinism(void **state)
{
    (void)state;
    acdc_train_data d = data();
    acdc_trainer *t[3] = {classifier(R, 3, 1, ACDC_PRECISION_SINGLE),
                          classifier(R, 3, 2, ACDC_PRECISION_SINGLE),
                          classifier(R, 3, 1, ACDC_PRECISION_SINGLE)};
    for (int k = 0; k < 3; k++)
        run(t[k], &d, NULL);
    assert_true(same_params(acdc_trainer_model(t[0]), acdc_trainer_model(t[1])));
    assert_true(same_params(acdc_trainer_model(t[0]), acdc_trainer_model(t[2])));
    for (int k = 0; k < 3; k++)
        acdc_trainer_free(t[k]);
}

/* A single-precision checkpoint says so, and resuming it ends bitwise where an
 * uninterrupted single run ends. */
static void test_single_resume(void **state)
{
    (void)state;
    acdc_train_data d = data();
    const char *ck = test_path(0, "single.ckpt.h5");
    acdc_trainer *full = classifier(R, 4, 1, ACDC_PRECISION_SINGLE);
    run(full, &d, NULL);
    acdc_trainer *a = classifier(R, 4, 2, ACDC_PRECISION_SINGLE);
    assert_int_equal(acdc_trainer_standardise(a, &d, 1, 0.1), 0);
    for (int e = 0; e < 2; e++)
        assert_int_equal(acdc_trainer_epoch(a, &d, NULL, NULL, NULL), 0);
    assert_int_equal(acdc_trainer_save(a, ck), 0);
    acdc_trainer_free(a);
    hid_t f;
    char prec[16];
    assert_int_equal(acdc_util_h5_open(ck, &f), 0);
    assert_int_equal(acdc_util_h5_attr_str(f, ck, "/train", "precision", prec, sizeof prec), 0);
    H5Fclose(f);
    assert_string_equal(prec, "single");
    acdc_trainer *b;
    assert_int_equal(acdc_trainer_load(ck, R, 1, &b), 0);
    assert_int_equal(acdc_trainer_opts(b)->precision, ACDC_PRECISION_SINGLE);
    run(b, &d, NULL);
    assert_true(same_params(acdc_trainer_model(full), acdc_trainer_model(b)));
    acdc_trainer_free(b);
    acdc_trainer_free(full);

    /* A checkpoint of no precision (before this option) is double; an unknown one is
     * refused. */
    f = H5Fopen(ck, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    assert_int_equal(acdc_util_h5_set_attr_str(f, "/train", "precision", "half"), 0);
    H5Fclose(f);
    acdc_util_error_clear();
    assert_int_equal(acdc_trainer_load(ck, R, 1, &b), ACDC_UTIL_EDATA);
    assert_non_null(strstr(acdc_util_errmsg(), "half"));
    f = H5Fopen(ck, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    assert_true(H5Adelete_by_name(f, "/train", "precision", H5P_DEFAULT) >= 0);
    H5Fclose(f);
    assert_int_equal(acdc_trainer_load(ck, R, 1, &b), 0);
    assert_int_equal(acdc_trainer_opts(b)->precision, ACDC_PRECISION_DOUBLE);
    acdc_trainer_free(b);
}

/* A layer operator (the hardware model) is double only: a single workspace refuses it,
 * and an unknown precision is refused at allocation. */
static int op_fwd(void *ctx, const acdc_model *m, size_t layer, uint64_t tick, size_t batch,
                  const double *x, double *z)
{
    (void)ctx, (void)layer, (void)tick;
    memcpy(z, x, batch * m->n * sizeof *z);
    return 0;
}

static void test_single_refuses_operator(void **state)
{
    (void)state;
    acdc_model *m;
    assert_int_equal(acdc_model_alloc(&m, 4, 4, 2, 1, 0), 0);
    acdc_work *w;
    assert_int_equal(acdc_work_alloc_precision(&w, m, 2, 0, 1, FFTW_ESTIMATE, 2),
                     ACDC_UTIL_EUSAGE);
    assert_null(w);
    assert_int_equal(acdc_work_alloc_precision(&w, m, 2, 0, 1, FFTW_ESTIMATE,
                                               ACDC_PRECISION_SINGLE), 0);
    acdc_layer_op op = {NULL, op_fwd, NULL};
    double x[8] = {1, 2, 3, 4, 5, 6, 7, 8}, y[4];
    assert_int_equal(acdc_model_forward(m, w, 2, x, y), 0);
    acdc_work_set_op(w, &op);
    acdc_util_error_clear();
    assert_int_equal(acdc_model_forward(m, w, 2, x, y), ACDC_UTIL_EUSAGE);
    assert_non_null(strstr(acdc_util_errmsg(), "double-precision workspace"));
    acdc_work_free(w);
    acdc_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dct_single_vs_double),
        cmocka_unit_test(test_layer_single_vs_double),
        cmocka_unit_test(test_gradients_finite_differences),
        cmocka_unit_test(test_training_close_to_double),
        cmocka_unit_test(test_single_determinism),
        cmocka_unit_test(test_single_resume),
        cmocka_unit_test(test_single_refuses_operator),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
