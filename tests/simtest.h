/* SPDX-License-Identifier: GPL-3.0-or-later */
/* tests/simtest.h -- helpers the simulator's suites share (tests/test_sim.c,
 * tests/test_sim2d.c): inputs, compiling a built-in profile, running the light, and the
 * continuous theory of a pixelated 4f imager. */
#ifndef TESTS_SIMTEST_H
#define TESTS_SIMTEST_H

#include "tests/testutil.h"

#include <complex.h>
#include <gsl/gsl_integration.h>
#include <gsl/gsl_sf_trig.h>
#include <omp.h>

#include "compiler/compile.h"
#include "compiler/profile.h"
#include "models/io.h"
#include "sim/simulate.h"
#include "util/error.h"

/* Deterministic values of both signs. */
static inline void fill(double *v, size_t n, double seed)
{
    for (size_t i = 0; i < n; i++)
        v[i] = sin(2.385 * (double)i + seed) + 0.37 * cos(0.913 * (double)i * seed);
}

/* Biases of both kinds in every layer of m (allocated with ACDC_A_BIAS | ACDC_D_BIAS),
 * and, with three layers or more, the middle layer chained optically into the last: no
 * ReLU, no permutation after it. */
static inline void biases_and_chain(acdc_model *m)
{
    const size_t K = m->n_layers, n = m->n;
    for (size_t l = 0; l < K; l++) {
        fill(m->layers[l].a_bias, n, 0.1 * (double)l);
        fill(m->layers[l].d_bias, n, 1.0 + (double)l);
        for (size_t i = 0; i < n; i++)
            m->layers[l].d_bias[i] *= 0.1;
    }
    if (K > 2) {
        m->layers[K - 2].relu = 0;
        free(m->layers[K - 2].perm);
        m->layers[K - 2].perm = NULL;
    }
}

/* K layers of n with biases, ReLU and permutations (biases_and_chain()). */
static inline acdc_model *model(size_t n, size_t K, size_t n_out)
{
    acdc_model *m;
    assert_int_equal(acdc_model_alloc(&m, n, n, n_out, K,
                                      ACDC_A_BIAS | ACDC_D_BIAS | ACDC_PERM | ACDC_RELU),
                     0);
    assert_int_equal(acdc_model_init_normal(m, 1, 0.3, 5), 0);
    assert_int_equal(acdc_model_init_perms(m, 9), 0);
    biases_and_chain(m);
    return m;
}

/* A data set of rows x dim values, labels 0, 1, 2, 0, ... */
static inline acdc_data *data(size_t rows, size_t dim)
{
    acdc_data *d = calloc(1, sizeof *d);
    d->batch = rows;
    d->dim = dim;
    d->x = malloc(rows * dim * sizeof *d->x);
    d->labels = malloc(rows * sizeof *d->labels);
    fill(d->x, rows * dim, 0.61);
    for (size_t r = 0; r < rows; r++)
        d->labels[r] = (int64_t)(r % 3);
    return d;
}

/* Model m compiled for built-in profile `profile` with nsets "section.key=value"
 * overrides. */
static inline acdc_compiler_system *compile(const acdc_model *m, const char *profile,
                                            const char **sets, size_t nsets)
{
    acdc_compiler_profile p;
    assert_int_equal(acdc_compiler_profile_builtin(profile, &p), 0);
    for (size_t i = 0; i < nsets; i++)
        if (acdc_compiler_profile_set(&p, sets[i]))
            fail_msg("%s: %s", sets[i], acdc_util_errmsg());
    acdc_compiler_system *s;
    if (acdc_compiler_compile(m, &p, &s))
        fail_msg("compile: %s", acdc_util_errmsg());
    return s;
}

/* The optical output for data d on `threads` threads in batches of `batch` (a new
 * array), and its relative RMS error against the model if rel_rms is not NULL. */
static inline double *optical(const acdc_compiler_system *s, const acdc_data *d, acdc_sim_options o,
                              int threads, size_t batch, double *rel_rms)
{
    omp_set_num_threads(threads);
    o.threads = threads;
    acdc_sim_job job = {.system = s, .data = d, .options = o, .trials = 1, .batch = batch};
    acdc_sim_result r;
    if (acdc_sim_execute(&job, &r, NULL))
        fail_msg("simulate: %s", acdc_util_errmsg());
    omp_set_num_threads(1);
    size_t bytes = d->batch * s->n_out * sizeof(double);
    double *y = malloc(bytes);
    memcpy(y, r.y_optical, bytes);
    if (rel_rms)
        *rel_rms = r.end[0].rel_rms;
    acdc_sim_result_free(&r);
    return y;
}

/* The honesty rule: changing the model copy inside s changes the reference the light is
 * compared with and never the light (d's rows through s with options o). */
static inline void assert_honest(acdc_compiler_system *s, const acdc_data *d, acdc_sim_options o)
{
    acdc_sim_job job = {.system = s, .data = d, .options = o, .trials = 1, .batch = 4};
    acdc_sim_result a, b;
    if (acdc_sim_execute(&job, &a, NULL))
        fail_msg("simulate: %s", acdc_util_errmsg());
    for (size_t l = 0; l < s->model->n_layers; l++)
        for (size_t i = 0; i < s->n; i++) {
            s->model->layers[l].d[i] *= -2.5;
            s->model->layers[l].a[i] += 1.0;
        }
    if (acdc_sim_execute(&job, &b, NULL))
        fail_msg("simulate: %s", acdc_util_errmsg());
    const size_t k = d->batch * s->n_out;
    assert_memory_equal(a.y_optical, b.y_optical, k * sizeof(double));
    int differs = 0;
    for (size_t i = 0; i < k; i++)
        differs |= a.y_ideal[i] != b.y_ideal[i];
    assert_true(differs);
    acdc_sim_result_free(&a);
    acdc_sim_result_free(&b);
}

/* Determinism: with o's seed, 1 and 2 threads and batches of `batch` and `small` rows give
 * bit-identical light; seed + 1 gives other light. */
static inline void assert_deterministic(const acdc_compiler_system *s, const acdc_data *d,
                                        acdc_sim_options o, size_t batch, size_t small)
{
    const size_t bytes = d->batch * s->n_out * sizeof(double);
    double *y[3];
    for (int k = 0; k < 3; k++)
        y[k] = optical(s, d, o, k == 1 ? 2 : 1, k == 2 ? small : batch, NULL);
    assert_memory_equal(y[0], y[1], bytes);
    assert_memory_equal(y[0], y[2], bytes);
    o.seed++;
    double *y2 = optical(s, d, o, 1, batch, NULL);
    assert_true(memcmp(y[0], y2, bytes) != 0);
    free(y2);
    for (int k = 0; k < 3; k++)
        free(y[k]);
}

/* ∫_lo^hi sinc²(t)·cos(2π t s) dt (part 0) or ·sin(2π t s) dt (part 1), sinc(t) =
 * sin(πt)/(πt): the frequency response of a 4f imaging system between a pixel of one
 * sample on the input modulator and one on the camera (each pixel's transform is a
 * sinc; t in cycles per sample), by GSL's adaptive quadrature. */
struct kern {
    double s;
    int part;
};

static inline double kern_f(double t, void *p)
{
    const struct kern *k = p;
    double sc = gsl_sf_sinc(t);
    double ph = 2 * M_PI * t * k->s;
    return sc * sc * (k->part ? sin(ph) : cos(ph));
}

static inline double kern_integral(double lo, double hi, double s, int part)
{
    gsl_integration_workspace *w = gsl_integration_workspace_alloc(1000);
    struct kern k = {s, part};
    gsl_function f = {kern_f, &k};
    double r, err;
    assert_int_equal(gsl_integration_qag(&f, lo, hi, 1e-13, 1e-11, 1000,
                                         GSL_INTEG_GAUSS61, w, &r, &err), 0);
    gsl_integration_workspace_free(w);
    return r;
}

#endif
