/* SPDX-License-Identifier: GPL-3.0-or-later */
/* tests/test_sim2d.c -- 2D systems (spherical lenses, dct2 layers): the ideal profile
 * against acdc infer, resolved pixels against the continuous theory, the pixel-aware
 * design, double-phase superpixels, honesty and determinism. */
#include "tests/simtest.h"

#include <fftw3.h>

/* A 2D cascade on a side x side grid reading an in_h x in_w input: biases, ReLU and
 * permutations, the middle layer chained optically into the last. */
static acdc_model *model2(size_t side, size_t in_h, size_t in_w, size_t K, size_t n_out)
{
    acdc_model *m;
    const size_t n = side * side;
    assert_int_equal(acdc_model_alloc(&m, n, in_h * in_w, n_out, K,
                                      ACDC_A_BIAS | ACDC_D_BIAS | ACDC_PERM | ACDC_RELU),
                     0);
    assert_int_equal(acdc_model_set_grid(m, ACDC_TRANSFORM_DCT2, side, side, in_h, in_w), 0);
    assert_int_equal(acdc_model_init_normal(m, 1, 0.3, 5), 0);
    assert_int_equal(acdc_model_init_perms(m, 9), 0);
    biases_and_chain(m);
    return m;
}

/* An identity layer (a = d = 1, no biases) on a side x side grid. */
static acdc_model *identity2(size_t side)
{
    acdc_model *m;
    assert_int_equal(acdc_model_alloc(&m, side * side, side * side, side * side, 1, 0), 0);
    assert_int_equal(acdc_model_set_grid(m, ACDC_TRANSFORM_DCT2, side, side, 0, 0), 0);
    assert_int_equal(acdc_model_init_normal(m, 1, 0, 1), 0);
    return m;
}

static double rel_err(const double *a, const double *b, size_t n)
{
    double e2 = 0, b2 = 0;
    for (size_t i = 0; i < n; i++) {
        e2 += (a[i] - b[i]) * (a[i] - b[i]);
        b2 += b[i] * b[i];
    }
    return sqrt(e2 / b2);
}

static double *numeric(const acdc_model *m, const acdc_data *d)
{
    double *y = malloc(d->batch * m->n_out * sizeof *y);
    acdc_work *w;
    assert_int_equal(acdc_work_alloc(&w, m, d->batch, 0, 1, FFTW_ESTIMATE), 0);
    assert_int_equal(acdc_model_forward(m, w, d->batch, d->x, y), 0);
    acdc_work_free(w);
    return y;
}

/* The compiler's rules in 2D: four copies of each component, a layout parity for both
 * axes, the 2D Fourier mask D_ext per axis. */
static void test_layout2(void **state)
{
    (void)state;
    acdc_model *m = model2(3, 3, 3, 3, 9);
    acdc_compiler_system *s = compile(m, "ideal", NULL, 0);
    assert_int_equal(s->rank, 2);
    assert_int_equal(s->side, 3);
    assert_int_equal(s->m, 6);
    assert_int_equal(acdc_compiler_plane_size(s), 36);
    for (int q = 0; q < 2; q++) {
        unsigned char seen[36] = {0};
        for (size_t j = 0; j < 9; j++)
            for (int c = 0; c < 4; c++) {
                size_t at = acdc_compiler_place(s, q, j, c);
                assert_true(at < 36);
                assert_int_equal(seen[at]++, 0);
                /* the row and column copies are the 1D layout's */
                assert_int_equal(at / 6, acdc_compiler_layout(3, q, j / 3, (c >> 1) & 1));
                assert_int_equal(at % 6, acdc_compiler_layout(3, q, j % 3, c & 1));
            }
    }
    double d[9], out[36];
    for (int i = 0; i < 9; i++)
        d[i] = i + 1;
    assert_int_equal(acdc_compiler_fourier_values2(d, 3, out), 0);
    double row[6], col[6];
    double e1[3] = {1, 2, 3}, e0[3] = {1, 4, 7};
    acdc_compiler_fourier_values(e1, 3, row);   /* κx of row κy = 0 */
    acdc_compiler_fourier_values(e0, 3, col);   /* κy of column κx = 0 */
    for (size_t k = 0; k < 6; k++) {
        assert_true(out[3 * 6 + k] == row[k]);   /* sample 3 is κ = 0 */
        assert_true(out[k * 6 + 3] == col[k]);
        assert_true(out[0 * 6 + k] == 0);        /* sample 0 is κ = side: dark */
        assert_true(out[k * 6 + 0] == 0);
    }
    acdc_compiler_system_free(s);
    acdc_model_free(m);
}

/* The ideal profile through a file, against acdc infer's path (models/), grids 1x1, 3x3
 * (a 2x3 input), 8x8 and 28x28 (a 27x25 input), ideal lenses and free space + thin
 * spherical lenses. */
static void test_ideal2_equals_infer(void **state)
{
    (void)state;
    const size_t sides[] = {1, 3, 8, 28}, ih[] = {1, 2, 8, 27}, iw[] = {1, 3, 8, 25};
    for (size_t t = 0; t < 4; t++) {
        const size_t rows = 4, n_in = ih[t] * iw[t];
        acdc_model *m = model2(sides[t], ih[t], iw[t], 3, sides[t] * sides[t] < 10 ? sides[t] * sides[t] : 10);
        acdc_compiler_system *s0 = compile(m, "ideal", NULL, 0), *s;
        const char *path = test_path(0, "ideal2-system.h5");
        assert_int_equal(acdc_compiler_system_write(s0, path), 0);
        if (acdc_compiler_system_read(path, &s))
            fail_msg("read: %s", acdc_util_errmsg());
        assert_int_equal(s->rank, 2);
        acdc_data *d = data(rows, n_in);
        if (s->n_out < 3) {   /* labels are data: 0..2 need three classes */
            free(d->labels);
            d->labels = NULL;
        }
        double *y = numeric(m, d);
        for (int prop = 0; prop < 2; prop++) {
            acdc_sim_options o = acdc_sim_options_default();
            o.propagation = prop ? ACDC_SIM_PROP_FRESNEL : ACDC_SIM_PROP_IDEAL;
            double *yo = optical(s, d, o, 1, 3, NULL);
            double err = 0, mag = 0;
            for (size_t i = 0; i < rows * m->n_out; i++) {
                err = fmax(err, fabs(yo[i] - y[i]));
                mag = fmax(mag, fabs(y[i]));
            }
            print_message("# %zux%zu %s: optical vs infer relative error %.2e\n", sides[t],
                          sides[t], prop ? "fresnel" : "ideal", err / mag);
            if (!(err <= 1e-9 * mag))
                fail_msg("%zux%zu prop %d: relative error %g", sides[t], sides[t], prop,
                         err / mag);
            free(yo);
        }
        free(y);
        acdc_data_free(d);
        acdc_compiler_system_free(s);
        acdc_compiler_system_free(s0);
        acdc_model_free(m);
    }
}

/* Resolved 2D pixels against the continuous theory.  An identity layer on the ideal
 * profile is a 4f imaging system whose Fourier mask is separable (dark on the row and
 * the column at κ = side), with square pixels of one sample: the response is H(sy) H(sx)
 * with the 1D H of tests/test_sim.c, and the calibration the square of the 1D one.  The
 * pixel-exact Fourier method (ideal lenses) converges to Σ ext2(u) H H / gcal² as 1/S²
 * from 5e-2 at S = 2; the window method (free space and thin lenses) as 1/S² too, about
 * five times slower; S = 1 is the identity. */
static void test_resolved2_match_theory(void **state)
{
    (void)state;
    const size_t side = 4, M = 2 * side, n = side * side, rows = 2;
    acdc_model *m = identity2(side);
    acdc_compiler_system *s = compile(m, "ideal", NULL, 0);
    acdc_data *d = data(rows, n);
    double H[4 * 8], gre = 0, gim = 0, b = 0.5 - 0.5 / (double)M;
    for (long k = 0; k < (long)(4 * M); k++)
        H[k] = kern_integral(-b, b, (double)(k - 2 * (long)M), 0);
    for (size_t k = 0; k < M; k++) {
        double sk = (double)k - (double)side;
        gre += kern_integral(-0.5 - 0.5 / (double)M, b, sk, 0);
        gim += kern_integral(-0.5 - 0.5 / (double)M, b, sk, 1);
    }
    const double g2 = gre * gre + gim * gim;   /* |gcal|² of the 1D calibration */
    double *want = malloc(rows * n * sizeof *want);
    for (size_t r = 0; r < rows; r++)
        for (size_t i = 0; i < n; i++) {
            const long iy = (long)(i / side), ix = (long)(i % side);
            double acc = 0;
            for (size_t j = 0; j < n; j++) {
                const long jy = (long)(j / side), jx = (long)(j % side);
                /* component j on rows side + jy, side − 1 − jy and the same columns */
                double hy = H[jy - iy + 2 * (long)M] + H[-1 - jy - iy + 2 * (long)M];
                double hx = H[jx - ix + 2 * (long)M] + H[-1 - jx - ix + 2 * (long)M];
                acc += d->x[r * n + j] * hy * hx;
            }
            want[r * n + i] = acc / g2;
        }
    const int Ss[] = {1, 2, 4, 8};
    double errs[4];
    for (int t = 0; t < 4; t++) {
        acdc_sim_options o = acdc_sim_options_default();
        o.oversample = Ss[t];
        double *y = optical(s, d, o, 1, rows, NULL);
        errs[t] = rel_err(y, want, rows * n);
        double id = rel_err(y, d->x, rows * n);
        print_message("# 2D S = %d: rel. error against pixel theory %.3e, against the "
                      "identity %.3e\n", Ss[t], errs[t], id);
        if (Ss[t] == 1 && !(id < 1e-12))
            fail_msg("S = 1 is not the identity: %g", id);
        free(y);
    }
    assert_true(errs[1] < 8e-2 && errs[3] < 5e-3);
    assert_true(errs[2] < errs[1] / 3 && errs[3] < errs[2] / 3);
    /* the window method: free space and thin spherical lenses */
    double ew[2];
    for (int t = 0; t < 2; t++) {
        acdc_sim_options o = acdc_sim_options_default();
        o.oversample = 2 + 2 * t;
        o.propagation = ACDC_SIM_PROP_FRESNEL;
        double *yf = optical(s, d, o, 1, rows, NULL);
        ew[t] = rel_err(yf, want, rows * n);
        print_message("# 2D S = %d, fresnel + thin lenses (window method): rel. error "
                      "against pixel theory %.3e\n", o.oversample, ew[t]);
        free(yf);
    }
    assert_true(ew[1] < ew[0] / 3 && ew[1] > errs[2]);
    free(want);
    acdc_data_free(d);
    acdc_compiler_system_free(s);
    acdc_model_free(m);
}

/* The pixel-aware design per axis on 8 x 8 grids: with resolved pixels (the exact
 * method) the light converges to the model up to the design's own residual, which a
 * finer Fourier plane shrinks -- an identity layer at R = 2 (7.4e-3 at S = 8) and R = 4
 * (1.7e-3), and a cascade with biases, ReLU, permutations at R = 2. */
static void test_pixel_aware2(void **state)
{
    (void)state;
    const size_t side = 8, n = side * side, rows = 2;
    for (int t = 0; t < 3; t++) {
        const char *sets[] = {t == 1 ? "rules.fourier_oversample=4" : "rules.fourier_oversample=2"};
        acdc_model *m = t == 2 ? model2(side, side, side, 3, n) : identity2(side);
        acdc_compiler_system *s = compile(m, "ideal", sets, 1);
        assert_int_equal(s->fm, (t == 1 ? 4 : 2) * s->m);
        assert_int_equal(s->chains[0].stages[0].fourier.m, s->fm * s->fm);
        acdc_data *d = data(rows, n);
        double *y = numeric(m, d), e[3];
        const int Ss[3] = {2, 4, 8};
        for (int i = 0; i < 3; i++) {
            acdc_sim_options o = acdc_sim_options_default();
            o.oversample = Ss[i];
            double *yo = optical(s, d, o, 1, rows, NULL);
            e[i] = rel_err(yo, y, rows * n);
            print_message("# 2D pixel-aware %s, R = %d, S = %d: relative error against the "
                          "model %.3e\n", t == 2 ? "cascade" : "identity", t == 1 ? 4 : 2,
                          Ss[i], e[i]);
            free(yo);
        }
        /* converging: each step smaller than the one before, to the design's residual */
        assert_true(e[1] < e[0] && fabs(e[2] - e[1]) < fabs(e[1] - e[0]));
        assert_true(e[2] < (t == 0 ? 1.2e-2 : t == 1 ? 4e-3 : 5e-2));
        free(y);
        acdc_data_free(d);
        acdc_compiler_system_free(s);
        acdc_model_free(m);
    }
}

/* A real 2D device (the 1080p phase SLM): the compiler chooses a superpixel that fits,
 * the masks are double-phase values in it; columns and checkerboard arrangements show
 * different light once the pixels are resolved and the same with one point per sample;
 * a superpixel the device cannot hold is refused. */
static void test_superpixels(void **state)
{
    (void)state;
    acdc_model *m = model2(6, 6, 6, 3, 36);
    acdc_compiler_system *s = compile(m, "slm1080", NULL, 0);
    assert_true(s->profile.superpixel >= 2 && s->profile.superpixel % 2 == 0);
    assert_true(fabs(s->pitch_m - s->profile.superpixel * s->profile.input.pitch_m) < 1e-15);
    const char *cb[] = {"input.double_phase=columns", "fourier.double_phase=columns",
                        "image.double_phase=columns"};
    acdc_compiler_system *sc = compile(m, "slm1080", cb, 3);
    acdc_data *d = data(5, 36);
    acdc_sim_options o = acdc_sim_options_default();
    o.noise = 0;
    for (int S = 1; S <= 4; S += 3) {
        o.oversample = S;
        double e, ec;
        double *y = optical(s, d, o, 1, 5, &e), *yc = optical(sc, d, o, 1, 5, &ec);
        print_message("# slm1080 2D, S = %d: rel RMS checkerboard %.3e, columns %.3e\n", S, e,
                      ec);
        int same = !memcmp(y, yc, 5 * 36 * sizeof(double));
        if (same != (S == 1))
            fail_msg("S = %d: the double-phase arrangement %s the light", S,
                     same ? "did not change" : "changed");
        free(y);
        free(yc);
    }
    acdc_compiler_profile p;
    assert_int_equal(acdc_compiler_profile_builtin("slm1080", &p), 0);
    assert_int_equal(acdc_compiler_profile_set(&p, "rules.superpixel=3"), 0);
    acdc_compiler_system *bad;
    assert_int_equal(acdc_compiler_compile(m, &p, &bad), ACDC_UTIL_EDATA);
    assert_non_null(strstr(acdc_util_errmsg(), "even"));
    /* 40 x 40: 80 samples of 16 x 16 pixels are 1280 rows, the SLM has 1080 */
    acdc_model *big = identity2(40);
    assert_int_equal(acdc_compiler_profile_set(&p, "rules.superpixel=16"), 0);
    assert_int_equal(acdc_compiler_profile_set(&p, "rules.max_focal=10 m"), 0);
    assert_int_equal(acdc_compiler_compile(big, &p, &bad), ACDC_UTIL_EDATA);
    assert_non_null(strstr(acdc_util_errmsg(), "1920x1080 pixels"));
    acdc_model_free(big);
    acdc_data_free(d);
    acdc_compiler_system_free(sc);
    acdc_compiler_system_free(s);
    acdc_model_free(m);
}

/* Pairs along y (double_phase = rows) in 2D: the pixel-exact method's kernel for them
 * agrees with the window method, which shows every pixel where it is, as closely as for
 * pairs in columns -- and differs from the columns' light. */
static void test_rows2(void **state)
{
    (void)state;
    acdc_model *m = model2(6, 6, 6, 3, 36);
    acdc_data *d = data(5, 36);
    const char *lay[2][3] = {{"input.double_phase=columns", "fourier.double_phase=columns",
                              "image.double_phase=columns"},
                             {"input.double_phase=rows", "fourier.double_phase=rows",
                              "image.double_phase=rows"}};
    double *ye[2], diff[2];
    for (int k = 0; k < 2; k++) {
        acdc_compiler_system *s = compile(m, "slm1080", lay[k], 3);
        acdc_sim_options o = acdc_sim_options_default();
        o.noise = 0;
        o.oversample = 8;
        assert_true(acdc_sim_exact(s, &o));
        ye[k] = optical(s, d, o, 1, 5, NULL);
        o.window = 1;
        double *yw = optical(s, d, o, 1, 5, NULL);
        diff[k] = rel_err(ye[k], yw, 5 * 36);
        free(yw);
        acdc_compiler_system_free(s);
    }
    const double between = rel_err(ye[1], ye[0], 5 * 36);
    print_message("# 2D, S = 8: exact against window method, columns %.3e, rows %.3e; rows "
                  "against columns %.3e\n", diff[0], diff[1], between);
    assert_true(diff[1] < 2 * diff[0] + 1e-3);
    assert_true(between > 3 * diff[1]);
    free(ye[0]);
    free(ye[1]);
    acdc_data_free(d);
    acdc_model_free(m);
}

/* Changing the model copy changes the reference and never the light (2D): the window
 * method (point samples of a chained system) and the pixel-exact Fourier method
 * (resolved pixels of a pixel-aware system). */
static void test_honesty2(void **state)
{
    (void)state;
    const char *design[2][1] = {{"rules.fourier_oversample=0"}, {"rules.fourier_oversample=2"}};
    for (int t = 0; t < 2; t++) {
        acdc_model *m = model2(4, 4, 4, 3, 4);
        acdc_compiler_system *s = compile(m, "slm1080", design[t], 1);
        acdc_data *d = data(6, 16);
        acdc_sim_options o = acdc_sim_options_default();
        o.oversample = t ? 2 : 1;
        assert_int_equal(acdc_sim_exact(s, &o), t);
        assert_true(t || s->n_chains < s->model->n_layers);   /* a chained system */
        assert_honest(s, d, o);
        acdc_data_free(d);
        acdc_compiler_system_free(s);
        acdc_model_free(m);
    }
}

/* Same seed, any thread count or batch size: bit-identical 2D results, noise on -- the
 * window method (one point per sample, and resolved pixels of a chained system) and the
 * pixel-exact Fourier method (resolved pixels of a pixel-aware system). */
static void test_deterministic2(void **state)
{
    (void)state;
    acdc_model *m = model2(4, 4, 4, 3, 16);
    const char *aware[] = {"rules.fourier_oversample=2"}, *point[] = {"rules.fourier_oversample=0"};
    acdc_compiler_system *sw = compile(m, "slm1080", point, 1),
        *se = compile(m, "slm1080", aware, 1);
    acdc_data *d = data(11, 16);
    for (int t = 0; t < 3; t++) {
        const acdc_compiler_system *s = t == 2 ? se : sw;
        acdc_sim_options o = acdc_sim_options_default();
        o.seed = 77;
        o.oversample = t == 0 ? 1 : 2;
        assert_int_equal(acdc_sim_exact(s, &o), t == 2);
        assert_deterministic(s, d, o, 8, 3);
    }
    acdc_data_free(d);
    acdc_compiler_system_free(se);
    acdc_compiler_system_free(sw);
    acdc_model_free(m);
}

/* A non-square grid cannot be compiled: one Fourier pitch serves both axes. */
static void test_square_only(void **state)
{
    (void)state;
    acdc_model *m;
    assert_int_equal(acdc_model_alloc(&m, 12, 12, 12, 1, 0), 0);
    assert_int_equal(acdc_model_set_grid(m, ACDC_TRANSFORM_DCT2, 3, 4, 0, 0), 0);
    acdc_compiler_profile p;
    assert_int_equal(acdc_compiler_profile_builtin("ideal", &p), 0);
    acdc_compiler_system *s;
    assert_int_equal(acdc_compiler_compile(m, &p, &s), ACDC_UTIL_EDATA);
    assert_non_null(strstr(acdc_util_errmsg(), "square grid"));
    acdc_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout2),
        cmocka_unit_test(test_ideal2_equals_infer),
        cmocka_unit_test(test_resolved2_match_theory),
        cmocka_unit_test(test_pixel_aware2),
        cmocka_unit_test(test_superpixels),
        cmocka_unit_test(test_rows2),
        cmocka_unit_test(test_honesty2),
        cmocka_unit_test(test_deterministic2),
        cmocka_unit_test(test_square_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
