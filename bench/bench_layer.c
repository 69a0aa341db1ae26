/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bench/bench_layer.c -- the ACDC layer against its floor and against a dense layer.
 *
 * For N in {256, 1024, 4096, 16384} at batch 256, single-threaded, best of several runs:
 *   layer   acdc_layer_forward + acdc_layer_backward (all five gradients)
 *   floor   the four bare FFTW transforms those need: the layer's DCTs run through FFTW's
 *           real DFT of N points (models/dct.h), so 2 × r2c and 2 × c2r over the batch,
 *           one planned many-transform each, FFTW_MEASURE (before the DCTs went through
 *           r2c, the floor was 2 × REDFT10 and 2 × REDFT01, what they then ran)
 *   dense   an N × N dense layer through OpenBLAS dgemm: Y = X·Wᵀ, dX = dY·W, dW = dYᵀ·X
 * and prints layer/floor and dense/layer.
 */
#define _GNU_SOURCE 1   /* dladdr() */
#include <cblas.h>
#include <dlfcn.h>
#include <fftw3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "models/layer.h"
#include "util/error.h"

void openblas_set_num_threads(int);

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void fill(double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        v[i] = 0.5 + 0.25 * ((double)((i * 2654435761u) % 1000) / 1000.0);
}

/* Best time of `reps` runs, each at least `min_s` seconds long in total. */
#define BEST(var, reps, body)                                                         \
    do {                                                                              \
        var = 1e30;                                                                   \
        for (int r_ = 0; r_ < (reps); r_++) {                                         \
            double t0_ = now();                                                       \
            body;                                                                     \
            double t_ = now() - t0_;                                                  \
            if (t_ < var)                                                             \
                var = t_;                                                             \
        }                                                                             \
    } while (0)

int main(int argc, char **argv)
{
    /* --no-dense skips the dense layer (minutes at N = 16384 on one core). */
    int dense = !(argc > 1 && !strcmp(argv[1], "--no-dense"));
    const size_t sizes[] = {256, 1024, 4096, 16384};
    const size_t batch = 256;
    openblas_set_num_threads(1);
    printf("ACDC layer forward+backward, batch %zu, 1 thread, best of several runs\n",
           batch);
    /* which BLAS the dense baseline runs: the library cblas_dgemm was bound to */
    Dl_info info;
    if (dladdr((void *)cblas_dgemm, &info) && info.dli_fname)
        printf("dense baseline: cblas_dgemm from %s", info.dli_fname);
    if (info.dli_fname && strstr(info.dli_fname, "openblas"))
        printf(" (OpenBLAS, core %s; %s)", openblas_get_corename(), openblas_get_config());
    printf("\n");
    printf("%7s %12s %12s %12s %11s %11s\n", "N", "layer (ms)", "floor (ms)", "dense (ms)",
           "layer/floor", "dense/layer");
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        size_t n = sizes[s], bn = batch * n;
        int reps = n <= 4096 ? 15 : 5;
        double *x = fftw_alloc_real(bn), *z = fftw_alloc_real(bn), *h2 = fftw_alloc_real(bn);
        double *dz = fftw_alloc_real(bn), *dx = fftw_alloc_real(bn);
        double *g = calloc(4 * n, sizeof *g);
        fill(x, bn);
        fill(dz, bn);
        acdc_layer L = {.n = n, .a = malloc(n * sizeof(double)),
                        .d = malloc(n * sizeof(double)), .a_bias = malloc(n * sizeof(double)),
                        .d_bias = malloc(n * sizeof(double))};
        fill(L.a, n);
        fill(L.d, n);
        fill(L.a_bias, n);
        fill(L.d_bias, n);
        acdc_plan *p;
        if (acdc_plan_alloc(&p, n, 1, FFTW_MEASURE)) {
            fprintf(stderr, "bench_layer: %s\n", acdc_util_errmsg());
            return 1;
        }
        acdc_grad gr = {g, g + n, g + 2 * n, g + 3 * n};
        double t_layer, t_floor, t_dense = 0;
        acdc_layer_backward(&L, p, batch, x, h2, dz, dx, &gr);  /* warm the scratch */

        int nn = (int)n, nc = nn / 2 + 1;
        double *buf = fftw_alloc_real(bn);
        fftw_complex *spec = fftw_alloc_complex((size_t)nc * batch);
        fftw_plan f10 = fftw_plan_many_dft_r2c(1, &nn, (int)batch, buf, NULL, 1, nn, spec,
                                               NULL, 1, nc, FFTW_MEASURE);
        fftw_plan f01 = fftw_plan_many_dft_c2r(1, &nn, (int)batch, spec, NULL, 1, nc, buf,
                                               NULL, 1, nn, FFTW_MEASURE);
        fill(buf, bn);
        /* Alternate the two so that a busy machine slows both alike; keep the best. */
        t_layer = t_floor = 1e30;
        for (int r = 0; r < reps; r++) {
            double t0 = now();
            acdc_layer_forward(&L, p, batch, x, z, h2);
            acdc_layer_backward(&L, p, batch, x, h2, dz, dx, &gr);
            double t1 = now();
            fftw_execute(f10);
            fftw_execute(f01);
            fftw_execute(f10);
            fftw_execute(f01);
            double t2 = now();
            t_layer = t1 - t0 < t_layer ? t1 - t0 : t_layer;
            t_floor = t2 - t1 < t_floor ? t2 - t1 : t_floor;
            fill(buf, bn);   /* each round trip scales by N: start again from the data */
        }

        /* Dense N × N with bias: 2 GiB of weights at N = 16384, so one run there. */
        double *W = dense ? malloc(n * n * sizeof *W) : NULL;
        double *dW = dense ? malloc(n * n * sizeof *dW) : NULL;
        if (W && dW) {
            fill(W, n * n);
            BEST(t_dense, n <= 4096 ? 3 : 1, {
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)batch, nn, nn, 1,
                            x, nn, W, nn, 0, z, nn);
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)batch, nn, nn,
                            1, dz, nn, W, nn, 0, dx, nn);
                cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, nn, nn, (int)batch, 1,
                            dz, nn, x, nn, 0, dW, nn);
            });
        }
        if (t_dense > 0)
            printf("%7zu %12.3f %12.3f %12.1f %11.2f %11.1f\n", n, 1e3 * t_layer,
                   1e3 * t_floor, 1e3 * t_dense, t_layer / t_floor, t_dense / t_layer);
        else   /* not run: --no-dense, or no memory for the N × N weights */
            printf("%7zu %12.3f %12.3f %12s %11.2f %11s\n", n, 1e3 * t_layer, 1e3 * t_floor,
                   dense ? "no memory" : "skipped", t_layer / t_floor, "-");
        fflush(stdout);
        free(W);
        free(dW);
        fftw_destroy_plan(f10);
        fftw_destroy_plan(f01);
        fftw_free(buf);
        fftw_free(spec);
        acdc_plan_free(p);
        free(L.a);
        free(L.d);
        free(L.a_bias);
        free(L.d_bias);
        free(g);
        fftw_free(x);
        fftw_free(z);
        fftw_free(h2);
        fftw_free(dz);
        fftw_free(dx);
    }
    return 0;
}
