/* SPDX-License-Identifier: GPL-3.0-or-later */
/* tests/test_compiler_compile.c -- the compiler's passes, and compiled systems evaluated
 * through the optics library against the numeric model. */
#include "tests/testutil.h"

#include <complex.h>
#include <fftw3.h>

#include "compiler/compile.h"
#include "compiler/system.h"
#include "models/model.h"
#include "sim/run.h"
#include "util/error.h"
#include "util/h5.h"

static void fill(double *v, size_t n, double seed)
{
    for (size_t i = 0; i < n; i++)
        v[i] = sin(2.385 * (double)i + seed) + 0.37 * cos(0.913 * (double)i * seed);
}

/* K layers of n; relu/perm pattern given per layer by strings like "rp-" etc. */
static acdc_model *model(size_t n, size_t n_in, size_t n_out, const char *pattern,
                         int biases)
{
    size_t K = strlen(pattern);
    acdc_model *m;
    assert_int_equal(acdc_model_alloc(&m, n, n_in, n_out, K,
                                      ACDC_PERM | (biases ? ACDC_A_BIAS | ACDC_D_BIAS : 0) |
                                          ACDC_STANDARDISE),
                     0);
    assert_int_equal(acdc_model_init_normal(m, 1, 0.4, 11), 0);
    assert_int_equal(acdc_model_init_perms(m, 3), 0);
    for (size_t l = 0; l < K; l++) {
        m->layers[l].relu = pattern[l] == 'r' || pattern[l] == 'b';
        if (!(pattern[l] == 'p' || pattern[l] == 'b')) {
            free(m->layers[l].perm);
            m->layers[l].perm = NULL;
        }
        if (biases) {
            fill(m->layers[l].a_bias, n, 0.3 + (double)l);
            fill(m->layers[l].d_bias, n, 1.9 + (double)l);
        }
        m->layers[l].d[n / 2] *= -1; /* make sure signs occur */
    }
    fill(m->in_mean, n_in, 0.8);
    for (size_t i = 0; i < n_in; i++)
        m->in_scale[i] = 0.7 + 0.02 * (double)i;
    return m;
}

static acdc_compiler_profile ideal(void)
{
    acdc_compiler_profile p;
    assert_int_equal(acdc_compiler_profile_builtin("ideal", &p), 0);
    return p;
}

/* The compiled system, run through the optics library, against the model. */
static double optical_error_prop(const acdc_model *m, const acdc_compiler_profile *p,
                                 double *gout, enum acdc_sim_propagation prop)
{
    acdc_compiler_system *s;
    int rc = acdc_compiler_compile(m, p, &s);
    if (rc)
        fail_msg("compile: %s", acdc_util_errmsg());
    size_t batch = 6;
    double *x = malloc(batch * m->n_in * sizeof *x);
    double *yo = malloc(batch * m->n_out * sizeof *yo), *yr = malloc(batch * m->n_out * sizeof *yr);
    fill(x, batch * m->n_in, 2.2);
    x[0] = 0; /* an all-zero row too: output = folded biases */
    sim *sm;
    acdc_sim_options o = acdc_sim_options_default();
    o.propagation = prop;
    assert_int_equal(acdc_sim_alloc(&sm, s, batch, &o), 0);
    for (size_t i = 0; i < m->n_in; i++)
        x[i] = m->in_mean ? m->in_mean[i] : 0;
    assert_int_equal(acdc_sim_run(sm, batch, 0, x, yo, NULL, NULL), 0);
    assert_int_equal(acdc_sim_reference(s, batch, x, yr), 0);
    double err = 0, mag = 0;
    for (size_t i = 0; i < batch * m->n_out; i++) {
        err = fmax(err, fabs(yo[i] - yr[i]));
        mag = fmax(mag, fabs(yr[i]));
    }
    if (gout)
        *gout = cabs(s->chains[0].g);
    acdc_sim_free(sm);
    acdc_compiler_system_free(s);
    free(x);
    free(yo);
    free(yr);
    return err / (mag > 0 ? mag : 1);
}

static double optical_error(const acdc_model *m, const acdc_compiler_profile *p, double *gout)
{
    return optical_error_prop(m, p, gout, ACDC_SIM_PROP_IDEAL);
}

static void test_grouping(void **state)
{
    (void)state;
    acdc_model *m = model(8, 8, 8, "--r-p--", 0);
    size_t first[7], count[7];
    size_t c = acdc_compiler_group(m, first, count);
    assert_int_equal(c, 3);
    assert_int_equal(first[0], 0);
    assert_int_equal(count[0], 3);  /* layers 0,1,2 (ReLU after 2) */
    assert_int_equal(first[1], 3);
    assert_int_equal(count[1], 2);  /* layers 3,4 (perm after 4) */
    assert_int_equal(first[2], 5);
    assert_int_equal(count[2], 2);
    acdc_model_free(m);
}

static void test_layout_is_a_symmetric_extension(void **state)
{
    (void)state;
    const size_t ns[] = {1, 2, 7, 8};
    for (size_t t = 0; t < 4; t++) {
        size_t n = ns[t], M = 2 * n;
        for (int q = 0; q < 2; q++) {
            unsigned char *hit = calloc(M, 1);
            for (size_t j = 0; j < n; j++) {
                size_t l = acdc_compiler_layout(n, q, j, 0), r = acdc_compiler_layout(n, q, j, 1);
                hit[l]++;
                hit[r]++;
                /* mirror images about n − 1/2 + q on the periodic grid */
                assert_int_equal((l + r) % M, (2 * n - 1 + 2 * (size_t)q) % M);
            }
            for (size_t k = 0; k < M; k++)
                assert_int_equal(hit[k], 1);
            free(hit);
        }
    }
}

static void test_fourier_values(void **state)
{
    (void)state;
    double d[4] = {1.5, -2.0, 0.25, 3.0}, v[8];
    acdc_compiler_fourier_values(d, 4, v);
    /* centred: sample k is frequency (k − 4) mod 8 */
    const double want[8] = {0, 3.0, 0.25, -2.0, 1.5, -2.0, 0.25, 3.0};
    for (int k = 0; k < 8; k++)
        assert_close(v[k], want[k], 0);
}

/* The pixel-aware design's defining equation, evaluated directly: the kernel the mask
 * makes with the pixels' transforms, T(s) = P_F(s/fm)·(1/fm)·Σ_p w_p A(t_p) e^{i2π s t_p},
 * equals the point design's periodic kernel h(s) = (1/2n) Σ_κ D_ext,κ e^{i2πκs/2n} for
 * every |s| < fm/2 — for R = 2 and 3, an ideal device and a double-phase one with fill
 * factors (first and last stage of a chain, so A = input pixel × camera pixel). */
static void test_fourier_design(void **state)
{
    (void)state;
    const size_t n = 6, M = 2 * n;
    const double d[6] = {1.5, -2.0, 0.25, 3.0, -0.7, 1.1};
    double vals[12];
    acdc_compiler_fourier_values(d, n, vals);
    for (int t = 0; t < 3; t++) {
        acdc_compiler_profile p;
        assert_int_equal(acdc_compiler_profile_builtin(t == 2 ? "slm8" : "ideal", &p), 0);
        p.fourier_oversample = t == 1 ? 3 : 2;
        p.input.fill = 0.87;
        p.fourier.fill = 0.91;
        p.camera.fill = 0.8;
        const size_t fm = M * (size_t)p.fourier_oversample, c = fm / 2;
        double *w = malloc(fm * sizeof *w);
        assert_int_equal(acdc_compiler_fourier_design(&p, d, n, 1, 1, w), 0);
        double worst = 0, scale = 0;
        acdc_compiler_profile e;
        acdc_compiler_profile_effective(&p, &e);
        for (long s = -(long)c + 1; s < (long)c; s++) {
            double complex h = 0, T = 0;
            for (size_t k = 0; k < M; k++)
                h += vals[k] * cexp(2 * M_PI * I * ((double)k - (double)n) * (double)s /
                                    (double)M);
            h /= (double)M;
            for (size_t q = 0; q < fm; q++) {
                double tp = ((double)q - (double)c) / (double)fm;
                double A = acdc_optics_modulator_transfer(&e.input, tp) *
                           acdc_optics_camera_transfer(&e.camera, tp);
                T += w[q] * A * cexp(2 * M_PI * I * (double)s * tp);
            }
            T *= acdc_optics_modulator_transfer(&e.fourier, (double)s / (double)fm) / (double)fm;
            worst = fmax(worst, cabs(T - h));
            scale = fmax(scale, cabs(h));
        }
        print_message("# design %d (R = %d): max |T - h| / max |h| = %.2e\n", t,
                      p.fourier_oversample, worst / scale);
        assert_true(worst < 1e-12 * scale);
        free(w);
    }
}

static void test_fold_biases_is_the_chain_at_zero(void **state)
{
    (void)state;
    acdc_model *m = model(7, 7, 7, "--", 1);
    free(m->in_mean);
    free(m->in_scale);
    m->in_mean = m->in_scale = NULL;
    double b[7], y[7], x[7] = {0};
    assert_int_equal(acdc_compiler_fold_biases(m, 0, 2, b), 0);
    /* The chain at zero input is the model at an input whose a-stage gives 0: with the
     * first a_bias removed, x = 0 gives exactly the folded constant. */
    memset(m->layers[0].a_bias, 0, sizeof(double) * 7);
    acdc_work *w;
    assert_int_equal(acdc_work_alloc(&w, m, 1, 0, 1, FFTW_ESTIMATE), 0);
    assert_int_equal(acdc_model_forward(m, w, 1, x, y), 0);
    for (int i = 0; i < 7; i++)
        assert_close(b[i], y[i], 1e-14);
    acdc_work_free(w);
    acdc_model_free(m);
}

static void test_4f_constant(void **state)
{
    (void)state;
    acdc_model *m = model(8, 8, 8, "-", 0);
    acdc_compiler_profile p = ideal();
    acdc_compiler_system *s;
    assert_int_equal(acdc_compiler_compile(m, &p, &s), 0);
    double complex g = s->chains[0].g;
    assert_close(creal(g), 0.0, 1e-12);
    assert_close(cimag(g), -1.0, 1e-12);  /* ideal lenses: −i per 4f (rank 1) */
    acdc_compiler_system_free(s);
    acdc_model_free(m);
}

/* acdc_compiler_chain_gain: Π mask gains / (4 |g| E0 |E_ref|), on a chain built by hand. */
static void test_chain_gain_formula(void **state)
{
    (void)state;
    acdc_compiler_mask image = {.gain = 0.731};
    acdc_compiler_stage st[2] = {{.fourier = {.gain = 2.385}},
                                 {.image = &image, .fourier = {.gain = 1.6}}};
    acdc_compiler_chain ch = {.count = 2, .stages = st, .g = cpow(0.3 - 0.4 * I, 2),
                              .ref_amplitude = 0.9};
    double want = 2.385 * 0.731 * 1.6 / (4.0 * 0.25 * 1.7 * 0.9);
    assert_close(acdc_compiler_chain_gain(&ch, 1.7), want, 1e-15 * want);
    /* each factor on its own: a stronger reference or input field, a larger |g|, one
     * stage fewer */
    ch.ref_amplitude = 1.8;
    assert_close(acdc_compiler_chain_gain(&ch, 1.7), want / 2, 1e-15 * want);
    ch.g *= 3;
    assert_close(acdc_compiler_chain_gain(&ch, 3.4), want / 12, 1e-15 * want);
    ch.count = 1;
    ch.g = 1;
    ch.ref_amplitude = 1;
    assert_close(acdc_compiler_chain_gain(&ch, 1), 2.385 / 4, 1e-15);
}

/* The physics of the gain: a layer with a = 1 and a flat d = 2.385 computes y = 2.385·u.
 * Its Fourier mask is d / 2.385 (gain 2.385, |t| = 1), so the camera plane carries
 * E = E0·g·u/s for an input shown as u/s; homodyne detection against |E_ref| phased to
 * g gives ΔI = 4 E0 |E_ref| |g| u/s, and y = s·gain·ΔI = 2.385·u needs
 * gain = 2.385 / (4 E0 |E_ref| |g|).  The reference is as strong as the chain's output,
 * E0·sqrt(efficiency): the mask is clear but for its dark sample at κ = n, 15/16. */
static void test_chain_gain_physics(void **state)
{
    (void)state;
    acdc_model *m = model(8, 8, 8, "-", 0);
    for (size_t j = 0; j < 8; j++) {
        m->layers[0].a[j] = 1;
        m->layers[0].d[j] = 2.385;
    }
    acdc_compiler_profile p = ideal();
    acdc_compiler_system *s;
    assert_int_equal(acdc_compiler_compile(m, &p, &s), 0);
    const acdc_compiler_chain *ch = &s->chains[0];
    const double E0 = s->field_amplitude;
    assert_close(ch->stages[0].fourier.gain, 2.385, 1e-15);
    assert_close(cabs(ch->g), 1, 1e-12);
    assert_close(ch->efficiency, 15.0 / 16.0, 1e-15);
    /* the designed reference (acdc_compiler_detection_design()): at most E0 */
    assert_true(ch->ref_amplitude > 0 && ch->ref_amplitude <= E0);
    assert_close(ch->gain, 2.385 / (4 * E0 * ch->ref_amplitude * cabs(ch->g)),
                 1e-15 * ch->gain);
    /* the light agrees: through the optics, the model's output comes back */
    double x[8] = {0, 0, 0, 1, 0, 0, 0, 0}, y[8];
    sim *a;
    acdc_sim_options o = acdc_sim_options_default();
    assert_int_equal(acdc_sim_alloc(&a, s, 1, &o), 0);
    assert_int_equal(acdc_sim_run(a, 1, 0, x, y, NULL, NULL), 0);
    double ref[8];
    acdc_work *w;
    assert_int_equal(acdc_work_alloc(&w, m, 1, 0, 1, FFTW_ESTIMATE), 0);
    assert_int_equal(acdc_model_forward(m, w, 1, x, ref), 0);
    for (size_t j = 0; j < 8; j++)
        assert_close(y[j], ref[j], 1e-12);
    acdc_work_free(w);
    acdc_sim_free(a);
    acdc_compiler_system_free(s);
    acdc_model_free(m);
}

/* The compiler and the system file's checks use the one gain: every compiled chain's
 * gain is acdc_compiler_chain_gain() exactly, and acdc_compiler_system_check() refuses a gain
 * that is not. */
static void test_chain_gain_is_shared(void **state)
{
    (void)state;
    acdc_model *m = model(7, 6, 4, "-b--p", 1);
    const char *names[] = {"ideal", "slm8"};
    for (int i = 0; i < 2; i++) {
        acdc_compiler_profile p;
        assert_int_equal(acdc_compiler_profile_builtin(names[i], &p), 0);
        acdc_compiler_system *s;
        if (acdc_compiler_compile(m, &p, &s))
            fail_msg("%s: %s", names[i], acdc_util_errmsg());
        for (size_t c = 0; c < s->n_chains; c++) {
            assert_true(s->chains[c].gain == acdc_compiler_chain_gain(&s->chains[c],
                                                                      s->field_amplitude));
            assert_true(s->chains[c].efficiency == acdc_compiler_chain_efficiency(&s->chains[c]));
        }
        if (acdc_compiler_system_check(s, "memory"))
            fail_msg("%s: %s", names[i], acdc_util_errmsg());
        s->chains[1].gain *= 1 + 1e-6;
        assert_int_equal(acdc_compiler_system_check(s, "memory"), ACDC_UTIL_EDATA);
        assert_non_null(strstr(acdc_util_errmsg(), "chain 1's electronic gain"));
        acdc_compiler_system_free(s);
    }
    acdc_model_free(m);
}

static void test_ideal_system_reproduces_model(void **state)
{
    (void)state;
    const struct {
        size_t n, n_in, n_out;
        const char *pattern;
    } cases[] = {
        {1, 1, 1, "--"},   {2, 2, 1, "r-"},     {7, 5, 3, "b-p-"},
        {8, 8, 8, "---"},  {16, 12, 4, "rr-p-"}, {784, 784, 10, "bb-"},
    };
    for (size_t t = 0; t < sizeof cases / sizeof *cases; t++) {
        acdc_model *m = model(cases[t].n, cases[t].n_in, cases[t].n_out, cases[t].pattern, 1);
        acdc_compiler_profile p = ideal();
        double err = optical_error(m, &p, NULL);
        print_message("# n = %zu layers '%s': optical vs numeric relative error %.2e\n",
                      cases[t].n, cases[t].pattern, err);
        if (err > 1e-9)
            fail_msg("n = %zu '%s': relative error %g > 1e-9", cases[t].n, cases[t].pattern,
                     err);
        /* The same through free space and thin lenses (Fresnel transfer function). */
        err = optical_error_prop(m, &p, NULL, ACDC_SIM_PROP_FRESNEL);
        print_message("# n = %zu layers '%s': fresnel + thin lenses, relative error %.2e\n",
                      cases[t].n, cases[t].pattern, err);
        if (err > 1e-9)
            fail_msg("n = %zu '%s' fresnel: relative error %g > 1e-9", cases[t].n,
                     cases[t].pattern, err);
        acdc_model_free(m);
    }
}

static void test_system_file_round_trip(void **state)
{
    (void)state;
    acdc_model *m = model(7, 6, 4, "b--p", 1);
    acdc_compiler_profile p = ideal();
    acdc_compiler_system *s, *r;
    assert_int_equal(acdc_compiler_compile(m, &p, &s), 0);
    const char *path = test_path(0, "system.h5");
    assert_int_equal(acdc_compiler_system_write(s, path), 0);
    if (acdc_compiler_system_read(path, &r))
        fail_msg("read back: %s", acdc_util_errmsg());
    assert_int_equal(r->n_chains, s->n_chains);
    assert_close(r->focal_m, s->focal_m, 0);
    for (size_t c = 0; c < s->n_chains; c++) {
        assert_int_equal(r->chains[c].count, s->chains[c].count);
        assert_memory_equal(r->chains[c].bias, s->chains[c].bias, 7 * sizeof(double));
        assert_memory_equal(r->chains[c].pixel, s->chains[c].pixel, 7 * sizeof(int64_t));
        for (size_t k = 0; k < s->chains[c].count; k++)
            assert_memory_equal(r->chains[c].stages[k].fourier.realised,
                                s->chains[c].stages[k].fourier.realised,
                                14 * sizeof(double complex));
    }
    /* Same output from the file as from memory. */
    double x[6] = {0.3, -1.2, 2.0, 0.7, -0.1, 0.9}, y1[4], y2[4];
    sim *a, *b;
    acdc_sim_options o = acdc_sim_options_default();
    assert_int_equal(acdc_sim_alloc(&a, s, 1, &o), 0);
    assert_int_equal(acdc_sim_alloc(&b, r, 1, &o), 0);
    assert_int_equal(acdc_sim_run(a, 1, 0, x, y1, NULL, NULL), 0);
    assert_int_equal(acdc_sim_run(b, 1, 0, x, y2, NULL, NULL), 0);
    assert_memory_equal(y1, y2, sizeof y1);
    acdc_sim_free(a);
    acdc_sim_free(b);
    FILE *f = fopen(test_path(1, "inspect.txt"), "w");
    acdc_compiler_system_print(r, path, f);
    fclose(f);
    acdc_compiler_system_free(r);
    /* A file of format version 1 (other double-phase codes) asks to be compiled again. */
    hid_t h = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(h >= 0);
    assert_int_equal(acdc_util_h5_set_attr_i64(h, "/", "version", 1), 0);
    H5Fclose(h);
    assert_int_equal(acdc_compiler_system_read(path, &r), ACDC_UTIL_EDATA);
    assert_non_null(strstr(acdc_util_errmsg(), "compile it again"));
    acdc_compiler_system_free(s);
    acdc_model_free(m);
}

static void test_quantised_masks(void **state)
{
    (void)state;
    acdc_optics_modulator dev = {.name = "test", .modulation = ACDC_OPTICS_MOD_COMPLEX,
                              .pitch_m = 8e-6, .fill = 1, .pixels = 64,
                              .amplitude_bits = 3, .phase_bits = 2};
    double ideal_v[6] = {1.0, -1.0, 0.5, -0.3, 0.0, 0.71};
    acdc_compiler_mask k = {.m = 6, .ideal = ideal_v};
    assert_int_equal(acdc_compiler_realise(&k, &dev, 0, "mask"), 0);
    /* 3 amplitude bits: levels i/7; 2 phase bits: 0, π/2, π, 3π/2 */
    assert_close(creal(k.realised[0]), 1.0, 1e-15);
    assert_close(creal(k.realised[1]), -1.0, 1e-15);
    assert_close(creal(k.realised[2]), 4.0 / 7, 1e-15);  /* 0.5 → 3.5 → rounds to 4 */
    assert_close(creal(k.realised[3]), -2.0 / 7, 1e-15);
    assert_int_equal(k.codes[2 * 1 + 1], 2);               /* phase π is code 2 of 4 */
    free(k.realised);
    free(k.codes);
    /* Double-phase on a continuous phase device is exact. */
    dev.modulation = ACDC_OPTICS_MOD_PHASE;
    dev.phase_bits = 0;
    assert_int_equal(acdc_compiler_realise(&k, &dev, 0, "mask"), 0);
    for (int i = 0; i < 6; i++)
        assert_close(cabs(k.realised[i] - ideal_v[i]), 0, 1e-15);
    assert_int_equal(k.ncodes, 2);
    free(k.realised);
    free(k.codes);
    /* An amplitude-only device cannot show negative values. */
    dev.modulation = ACDC_OPTICS_MOD_AMPLITUDE;
    assert_int_equal(acdc_compiler_realise(&k, &dev, 0, "Fourier-plane mask of layer 3"),
                     ACDC_UTIL_EDATA);
    assert_non_null(strstr(acdc_util_errmsg(), "layer 3"));
    assert_non_null(strstr(acdc_util_errmsg(), "2 of 6 samples are negative"));
    free(k.realised);
    free(k.codes);
}

/* What no system can carry: a chain that passes no light (a layer with d = 0) is refused
 * at compile time, naming the chain; a 2D model smuggled into a 1D system file's model
 * copy is refused by the reader; a non-square 2D grid by the compiler. */
static void test_unsupported_models(void **state)
{
    (void)state;
    acdc_compiler_system *s;
    acdc_compiler_profile p = ideal();
    acdc_model *m = model(16, 16, 16, "--", 0);
    memset(m->layers[1].d, 0, 16 * sizeof(double));
    assert_int_equal(acdc_compiler_compile(m, &p, &s), ACDC_UTIL_EDATA);
    assert_non_null(strstr(acdc_util_errmsg(), "passes no light"));
    acdc_model_free(m);
    m = model(16, 16, 16, "--", 0);
    assert_int_equal(acdc_compiler_compile(m, &p, &s), 0);
    assert_int_equal(acdc_model_set_grid(s->model, ACDC_TRANSFORM_DCT2, 4, 4, 0, 0), 0);
    const char *path = test_path(0, "smuggled2d.h5");
    assert_int_equal(acdc_compiler_system_write(s, path), 0);
    acdc_compiler_system *r = NULL;
    assert_int_equal(acdc_compiler_system_read(path, &r), ACDC_UTIL_EDATA);
    assert_null(r);
    assert_non_null(strstr(acdc_util_errmsg(), "model copy's shape differs"));
    /* a 2D grid must be square: one Fourier pitch serves x and y */
    assert_int_equal(acdc_model_set_grid(m, ACDC_TRANSFORM_DCT2, 2, 8, 0, 0), 0);
    acdc_compiler_system *t = NULL;
    assert_int_equal(acdc_compiler_compile(m, &p, &t), ACDC_UTIL_EDATA);
    assert_null(t);
    assert_non_null(strstr(acdc_util_errmsg(), "square grid"));
    acdc_compiler_system_free(s);
    acdc_model_free(m);
}

static void test_design_rules(void **state)
{
    (void)state;
    acdc_model *m = model(784, 784, 10, "b-", 0);
    acdc_compiler_system *s;
    acdc_compiler_profile p = ideal();
    p.input.pixels = 1000;
    assert_int_equal(acdc_compiler_compile(m, &p, &s), ACDC_UTIL_EDATA);
    assert_non_null(strstr(acdc_util_errmsg(), "input modulator"));
    assert_non_null(strstr(acdc_util_errmsg(), "needs 1568"));
    p = ideal();
    p.max_focal_m = 0.01;
    assert_int_equal(acdc_compiler_compile(m, &p, &s), ACDC_UTIL_EDATA);
    assert_non_null(strstr(acdc_util_errmsg(), "focal length"));
    p = ideal();
    p.max_na = 0.001;
    assert_int_equal(acdc_compiler_compile(m, &p, &s), ACDC_UTIL_EDATA);
    assert_non_null(strstr(acdc_util_errmsg(), "numerical aperture"));
    p = ideal();
    p.max_length_m = 0.1;
    assert_int_equal(acdc_compiler_compile(m, &p, &s), ACDC_UTIL_EDATA);
    assert_non_null(strstr(acdc_util_errmsg(), "long, over the limit"));
    p = ideal();
    p.camera.pixels = 100;
    assert_int_equal(acdc_compiler_compile(m, &p, &s), ACDC_UTIL_EDATA);
    assert_non_null(strstr(acdc_util_errmsg(), "camera"));
    p = ideal();
    p.ideal = 0;
    p.fourier.modulation = ACDC_OPTICS_MOD_PHASE;
    p.fourier.pixels = 2000;
    assert_int_equal(acdc_compiler_compile(m, &p, &s), ACDC_UTIL_EDATA);
    assert_non_null(strstr(acdc_util_errmsg(), "double-phase"));
    p = ideal();
    p.ideal = 0;
    p.input.modulation = ACDC_OPTICS_MOD_AMPLITUDE;
    assert_int_equal(acdc_compiler_compile(m, &p, &s), ACDC_UTIL_EDATA);
    assert_non_null(strstr(acdc_util_errmsg(), "signed inputs"));
    acdc_model_free(m);
}

/* rules.fourier_oversample = auto (the real built-ins): R = 2 where it fits, else R = 1,
 * saying which and why; the system's profile copy holds the R chosen; the point design
 * asked for on real pixels warns. */
static void test_auto_design(void **state)
{
    (void)state;
    acdc_compiler_profile p;
    acdc_compiler_system *s;
    assert_int_equal(acdc_compiler_profile_builtin("slm8", &p), 0);
    assert_int_equal(p.fourier_oversample, ACDC_COMPILER_OVERSAMPLE_AUTO);
    /* n = 16: 64 Fourier samples of one pixel (pairs down the strip's rows) fit the
     * 4160 columns */
    acdc_model *small = model(16, 16, 16, "r--", 0);
    if (acdc_compiler_compile(small, &p, &s))
        fail_msg("%s", acdc_util_errmsg());
    assert_int_equal(s->profile.fourier_oversample, 2);
    assert_int_equal(s->fm, 2 * s->m);
    assert_int_equal(s->n_chains, 3); /* every layer its own chain */
    assert_non_null(strstr(s->design, "R = 2"));
    assert_null(strstr(s->design, "does not fit"));
    assert_null(strstr(s->warnings, "point design"));
    acdc_compiler_system_free(s);
    /* n = 1024 with the pairs down the rows: R = 2 needs 4096 pixels, and fits */
    acdc_model *big = model(1024, 1024, 10, "r", 0);
    if (acdc_compiler_compile(big, &p, &s))
        fail_msg("%s", acdc_util_errmsg());
    assert_int_equal(s->profile.fourier_oversample, 2);
    acdc_compiler_system_free(s);
    /* side by side along x (two pixels a sample): R = 2 needs 8192 pixels, R = 1 4096 */
    p.input.dp_layout = p.fourier.dp_layout = p.image.dp_layout = ACDC_OPTICS_DP_COLUMNS;
    if (acdc_compiler_compile(big, &p, &s))
        fail_msg("%s", acdc_util_errmsg());
    assert_int_equal(s->profile.fourier_oversample, 1);
    assert_int_equal(s->fm, s->m);
    if (!strstr(s->design, "R = 1") || !strstr(s->design, "R = 2 does not fit") ||
        !strstr(s->design, "8192"))
        fail_msg("design note: %s", s->design);
    acdc_compiler_system_free(s);
    /* neither fits: R = 1's reason */
    p.fourier.pixels = 2048;
    assert_int_equal(acdc_compiler_compile(big, &p, &s), ACDC_UTIL_EDATA);
    assert_non_null(strstr(acdc_util_errmsg(), "needs 4096"));
    /* the point design on real pixels: chained layers, and a warning */
    assert_int_equal(acdc_compiler_profile_builtin("slm8", &p), 0);
    p.fourier_oversample = 0;
    if (acdc_compiler_compile(small, &p, &s))
        fail_msg("%s", acdc_util_errmsg());
    assert_int_equal(s->n_chains, 2);
    assert_non_null(strstr(s->design, "point design"));
    assert_non_null(strstr(s->warnings, "ignores the devices' pixels"));
    acdc_compiler_system_free(s);
    /* an ideal profile: the point design, exact there, without a warning */
    p = ideal();
    p.fourier_oversample = ACDC_COMPILER_OVERSAMPLE_AUTO;
    if (acdc_compiler_compile(small, &p, &s))
        fail_msg("%s", acdc_util_errmsg());
    assert_int_equal(s->profile.fourier_oversample, 0);
    assert_int_equal(s->warnings[0], '\0');
    acdc_compiler_system_free(s);
    acdc_model_free(small);
    acdc_model_free(big);
}

/* Double-phase pairs down a 1D strip's rows: the first orders land f lambda / pitch off
 * the axis; a long focal length clears the device's full height, a short one does not
 * and the compiler warns with the tallest strip that works. */
/* rules.fourier_clip = c: every Fourier mask's gain is c times its largest |value| and
 * its values are the unclipped ones times 1/c, clipped to [−1, 1] -- bit for bit, since
 * c = 1/2 scales exactly; image-plane masks are not clipped; 0 and 1 change nothing; the
 * clip survives the system file. */
static void test_fourier_clip(void **state)
{
    (void)state;
    acdc_compiler_profile p;
    acdc_compiler_system *s1, *s0, *s, *back;
    assert_int_equal(acdc_compiler_profile_builtin("slm8", &p), 0);
    p.fourier_oversample = 1;
    acdc_model *m = model(16, 16, 16, "rp", 1);
    if (acdc_compiler_compile(m, &p, &s1))
        fail_msg("%s", acdc_util_errmsg());
    p.fourier_clip = 1;
    assert_int_equal(acdc_compiler_compile(m, &p, &s0), 0);
    p.fourier_clip = 0.5;
    assert_int_equal(acdc_compiler_compile(m, &p, &s), 0);
    size_t clipped = 0, masks = 0;
    for (size_t c = 0; c < s->n_chains; c++)
        for (size_t k = 0; k < s->chains[c].count; k++, masks++) {
            const acdc_compiler_mask *a = &s1->chains[c].stages[k].fourier,
                                     *b = &s->chains[c].stages[k].fourier,
                                     *z = &s0->chains[c].stages[k].fourier;
            assert_true(b->gain == 0.5 * a->gain);
            assert_true(z->gain == a->gain);
            for (size_t i = 0; i < a->m; i++) {
                assert_true(z->ideal[i] == a->ideal[i]);
                assert_true(b->ideal[i] == acdc_compiler_clip(2 * a->ideal[i]));
                clipped += fabs(2 * a->ideal[i]) > 1;
            }
            if (s->chains[c].stages[k].image)
                assert_true(s->chains[c].stages[k].image->gain ==
                            s1->chains[c].stages[k].image->gain);
        }
    assert_true(clipped >= masks);   /* at least the largest value of every mask */
    const char *path = test_path(0, "fourier_clip.h5");
    assert_int_equal(acdc_compiler_system_write(s, path), 0);
    assert_int_equal(acdc_compiler_system_read(path, &back), 0);
    assert_true(back->profile.fourier_clip == 0.5);
    remove(path);
    acdc_compiler_system_free(back);
    acdc_compiler_system_free(s);
    acdc_compiler_system_free(s0);
    acdc_compiler_system_free(s1);
    acdc_model_free(m);
}

static void test_strip_orders(void **state)
{
    (void)state;
    acdc_compiler_profile p;
    assert_int_equal(acdc_compiler_profile_builtin("slm8", &p), 0);
    const size_t ns[2] = {16, 784};
    for (int i = 0; i < 2; i++) {
        acdc_model *m = model(ns[i], ns[i], ns[i], "r", 0);
        acdc_compiler_system *s;
        if (acdc_compiler_compile(m, &p, &s))
            fail_msg("%s", acdc_util_errmsg());
        double off;
        size_t most;
        assert_int_equal(acdc_compiler_strip_orders(s, &s->profile.input, &off, &most), 1);
        assert_close(off, s->focal_m * s->wavelength_m / s->profile.input.pitch_m, 1e-15);
        assert_true((double)most * s->profile.input.pitch_m < off);
        assert_true((double)(most + 1) * s->profile.input.pitch_m >= off);
        const int clear = most >= s->profile.input.rows;
        print_message("# n = %zu: f = %.2f mm, first orders %.3f mm off the axis, strips of up "
                      "to %zu rows clear them (the device has %zu)\n", ns[i], 1e3 * s->focal_m,
                      1e3 * off, most, s->profile.input.rows);
        assert_int_equal(clear, i == 1);
        assert_int_equal(strstr(s->warnings, "use a strip of at most") != NULL, !clear);
        /* the strip shown: the whole device when it clears, else the tallest even strip */
        const size_t strip = acdc_compiler_strip_rows(s, &s->profile.input);
        assert_int_equal(strip, clear ? s->profile.input.rows : most - most % 2);
        acdc_optics_modulator odd = s->profile.input;
        odd.rows = 2463;
        assert_int_equal(acdc_compiler_strip_rows(s, &odd), clear ? 2462 : most - most % 2);
        /* no such orders for pairs side by side */
        acdc_optics_modulator cols = s->profile.input;
        cols.dp_layout = ACDC_OPTICS_DP_COLUMNS;
        assert_int_equal(acdc_compiler_strip_orders(s, &cols, &off, &most), 0);
        assert_int_equal(acdc_compiler_strip_rows(s, &cols), 0);
        acdc_compiler_system_free(s);
        acdc_model_free(m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grouping),
        cmocka_unit_test(test_layout_is_a_symmetric_extension),
        cmocka_unit_test(test_fourier_values),
        cmocka_unit_test(test_fourier_design),
        cmocka_unit_test(test_fold_biases_is_the_chain_at_zero),
        cmocka_unit_test(test_4f_constant),
        cmocka_unit_test(test_chain_gain_formula),
        cmocka_unit_test(test_chain_gain_physics),
        cmocka_unit_test(test_chain_gain_is_shared),
        cmocka_unit_test(test_ideal_system_reproduces_model),
        cmocka_unit_test(test_system_file_round_trip),
        cmocka_unit_test(test_quantised_masks),
        cmocka_unit_test(test_unsupported_models),
        cmocka_unit_test(test_design_rules),
        cmocka_unit_test(test_auto_design),
        cmocka_unit_test(test_strip_orders),
        cmocka_unit_test(test_fourier_clip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
