/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bench/bench_cost.c -- how the simulation's cost grows with the layer size n and the
 * oversampling S, beside the FFT work each run needs.
 *
 * 1D: random two-layer cascades of n = 784, 4096 and 16384 (ReLU between), compiled
 * pixel-aware (R = 2) for the `ideal` profile with devices wide enough for every n, and
 * simulated with ideal Fourier lenses and no noise at S = 1, 2 and 4 (the window method:
 * planes of fm·S² samples).  Its floor: the two FFTs of a plane that each stage's two
 * lenses need per input (FFTW plan of one plane, FFTW_ESTIMATE as the simulator plans),
 * so "x floor" is how far the run is from its transforms.
 * 2D: the shipped 2D cascade's shape (10 layers, 32 x 32 grid, random weights) on
 * `slm1080` at S = 2, 4 and 8 (the pixel-exact method: its stages through their
 * point-spread functions, three 2D FFTs of 128 x 128 per input and chain whatever S).
 * One thread throughout (the figures are per core).  inputs/s is the marginal rate
 * (all the inputs against the first half of them); setup (s) what a run costs besides
 * (calibration, the devices' masks, plans, point-spread functions).
 *
 * usage: bench_cost [ROWS]   (inputs per run, default 64; the largest planes use a quarter)
 */
#include <complex.h>
#include <fftw3.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compiler/compile.h"
#include "compiler/profile.h"
#include "models/io.h"
#include "models/model.h"
#include "sim/simulate.h"
#include "util/error.h"

#include "bench/floor.h"

/* rows random inputs of width n in [0, 1). */
static acdc_data *inputs(size_t rows, size_t n)
{
    acdc_data *d = calloc(1, sizeof *d);
    if (!d || !(d->x = malloc(rows * n * sizeof *d->x))) {
        free(d);
        return NULL;
    }
    d->batch = rows;
    d->dim = n;
    unsigned long long s = 12345;
    for (size_t i = 0; i < rows * n; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        d->x[i] = (double)(s >> 11) / 9007199254740992.0;
    }
    return d;
}

/* Seconds to simulate d's first `rows` inputs through s at S, setup included. */
static double seconds(const acdc_compiler_system *s, const acdc_data *d, size_t rows, int S)
{
    acdc_data head = *d;
    head.batch = rows;
    acdc_sim_job job = {.system = s, .data = &head, .options = acdc_sim_options_default(),
                        .trials = 1, .batch = 16};
    job.options.oversample = S;
    job.options.noise = 0;
    job.options.propagation = ACDC_SIM_PROP_IDEAL;
    job.options.threads = 1;
    acdc_sim_result r;
    double t0 = bench_now();
    if (acdc_sim_execute(&job, &r, NULL))
        return -1;
    const double t = bench_now() - t0;
    acdc_sim_result_free(&r);
    return t;
}

/* One line: the marginal cost per input (d's rows against half of them), the setup
 * (calibration, masks, plans) that is left, the floor's inputs/s and the ratio. */
static int run(const char *what, const acdc_compiler_system *s, const acdc_data *d, int S,
               double fft_s, double ffts_per_input)
{
    const size_t half = d->batch / 2;
    const double t1 = seconds(s, d, half, S), t2 = seconds(s, d, d->batch, S);
    if (t1 < 0 || t2 < 0)
        return 1;
    const double per = (t2 - t1) / (double)(d->batch - half), floor_s = fft_s * ffts_per_input;
    acdc_sim_options o = acdc_sim_options_default();
    o.oversample = S;
    printf("%-26s %3d %10zu %8zu %9.2f %10.1f %12.1f %8.1f\n", what, S,
           acdc_sim_plane_side(s, &o), d->batch, t1 - per * (double)half, 1 / per,
           1 / floor_s, per / floor_s);
    return 0;
}

int main(int argc, char **argv)
{
    const size_t rows = argc > 1 ? (size_t)atoi(argv[1]) : 64;
    if (rows < 4 || rows > 100000) {
        fprintf(stderr, "bench_cost: error: ROWS = '%s' is not 4..100000\n", argv[1]);
        return 2;
    }
    omp_set_num_threads(1);
    printf("simulation cost against n and S, one thread, ideal lenses, no noise (%s)\n",
           fftw_version);
    printf("%-26s %3s %10s %8s %9s %10s %12s %8s\n", "system", "S", "plane side", "inputs",
           "setup (s)", "inputs/s", "floor in/s", "x floor");
    const size_t ns[3] = {784, 4096, 16384};
    for (int i = 0; i < 3; i++) {
        const size_t n = ns[i];
        acdc_model *m = NULL;
        acdc_compiler_profile p;
        acdc_compiler_system *s = NULL;
        char set[64], what[48];
        if (acdc_model_alloc(&m, n, n, n, 2, 0) || acdc_model_init_normal(m, 1, 0.3, 7) ||
            acdc_compiler_profile_builtin("ideal", &p) ||
            acdc_compiler_profile_set(&p, "rules.fourier_oversample=2")) {
            fprintf(stderr, "bench_cost: error: %s\n", acdc_util_errmsg());
            return 1;
        }
        m->layers[0].relu = 1;
        snprintf(set, sizeof set, "input.pixels=%zu", 8 * n);
        acdc_compiler_profile_set(&p, set);
        snprintf(set, sizeof set, "fourier.pixels=%zu", 8 * n);
        acdc_compiler_profile_set(&p, set);
        snprintf(set, sizeof set, "image.pixels=%zu", 8 * n);
        acdc_compiler_profile_set(&p, set);
        snprintf(set, sizeof set, "camera.pixels=%zu", 8 * n);
        acdc_compiler_profile_set(&p, set);
        if (acdc_compiler_compile(m, &p, &s)) {
            fprintf(stderr, "bench_cost: error: %s\n", acdc_util_errmsg());
            return 1;
        }
        for (int S = 1; S <= 4; S *= 2) {
            acdc_sim_options o = acdc_sim_options_default();
            o.oversample = S;
            const size_t side = acdc_sim_plane_side(s, &o);
            const size_t r = side > 200000 ? rows / 4 : rows;
            acdc_data *d = inputs(r, n);
            snprintf(what, sizeof what, "1D n = %zu, %zu chains", n, s->n_chains);
            /* two lens passes of one FFT each per stage */
            if (!d || run(what, s, d, S, bench_fft_seconds(1, side), 2.0 * (double)m->n_layers)) {
                fprintf(stderr, "bench_cost: error: %s\n", acdc_util_errmsg());
                return 1;
            }
            acdc_data_free(d);
        }
        acdc_compiler_system_free(s);
        acdc_model_free(m);
    }
    /* 2D: the shipped cascade's shape */
    acdc_model *m = NULL;
    acdc_compiler_profile p;
    acdc_compiler_system *s = NULL;
    if (acdc_model_alloc(&m, 1024, 784, 10, 10, 0) ||
        acdc_model_set_grid(m, ACDC_TRANSFORM_DCT2, 32, 32, 28, 28) ||
        acdc_model_init_normal(m, 1, 0.3, 7) || acdc_compiler_profile_builtin("slm1080", &p)) {
        fprintf(stderr, "bench_cost: error: %s\n", acdc_util_errmsg());
        return 1;
    }
    for (size_t l = 0; l + 1 < m->n_layers; l++)
        m->layers[l].relu = 1;
    if (acdc_compiler_compile(m, &p, &s)) {
        fprintf(stderr, "bench_cost: error: %s\n", acdc_util_errmsg());
        return 1;
    }
    acdc_data *d = inputs(rows, 784);
    const double per = bench_fft_seconds(2, 2 * s->m);
    for (int S = 2; S <= 8; S *= 2)
        if (!d || run("2D 32x32, 10 chains", s, d, S, per, 3.0 * (double)s->n_chains)) {
            fprintf(stderr, "bench_cost: error: %s\n", acdc_util_errmsg());
            return 1;
        }
    printf("floor: per input, 2 FFTs of the plane per stage (1D), 3 of %zux%zu per chain "
           "(2D); the rest is devices, camera and electronics\n", 2 * s->m, 2 * s->m);
    acdc_data_free(d);
    acdc_compiler_system_free(s);
    acdc_model_free(m);
    return 0;
}
