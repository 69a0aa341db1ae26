/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bench/bench_surrogate.c -- what training through the hardware costs.
 *
 * One forward and backward pass over a batch of 64 rows of one layer, for the shipped
 * models' layer shapes, numerically (the DCT by FFTW r2r, models/layer.h) and through
 * the hardware surrogate (compiler/surrogate.h) side by side:
 *   1D, n = 784 on slm8 (R = 1, double-phase pairs): ideal lenses, and the profile's
 *     objective (its wavefront error as 6 x 6 kernel terms);
 *   2D, 32 x 32 on slm1080 (R = 2, 4 x 4 superpixels, checkerboard double-phase).
 * Prints microseconds per row (best of 5 passes) at 1 and 2 threads and the ratio to the
 * numeric pass; the surrogate's per-batch mask work (design, pixel DFTs) is included.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fftw3.h>

#include "compiler/compile.h"
#include "compiler/surrogate.h"
#include "util/error.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Best of 5 forward + backward passes of m over x (B rows) with operator op, seconds. */
static double pass(const acdc_model *m, const acdc_layer_op *op, int threads, size_t B,
                   const double *x)
{
    acdc_work *w;
    acdc_model *grad;
    if (acdc_work_alloc(&w, m, B, 1, threads, FFTW_ESTIMATE) ||
        acdc_model_alloc_like(&grad, m))
        exit(1);
    acdc_work_set_op(w, op);
    double *y = malloc(B * m->n_out * sizeof *y), best = 1e30;
    for (int rep = 0; rep < 5; rep++) {
        acdc_work_set_tick(w, (uint64_t)rep);
        double t0 = now();
        if (acdc_model_forward(m, w, B, x, y) || acdc_model_backward(m, w, B, y, grad, NULL)) {
            fprintf(stderr, "bench_surrogate: %s\n", acdc_util_errmsg());
            exit(1);
        }
        double t = now() - t0;
        best = t < best ? t : best;
    }
    free(y);
    acdc_model_free(grad);
    acdc_work_free(w);
    return best;
}

static void run(const char *what, const char *profile, size_t side, int rank)
{
    const size_t n = rank == 2 ? side * side : side, B = 64;
    acdc_model *m;
    acdc_compiler_profile p;
    acdc_compiler_system *s;
    if (acdc_model_alloc(&m, n, n, 10, 1, ACDC_A_BIAS | ACDC_D_BIAS | ACDC_PERM | ACDC_RELU) ||
        (rank == 2 && acdc_model_set_grid(m, ACDC_TRANSFORM_DCT2, side, side, side, side)) ||
        acdc_model_init_normal(m, 1, 0.06, 1) || acdc_model_init_perms(m, 1) ||
        acdc_compiler_profile_builtin(profile, &p) || acdc_compiler_compile(m, &p, &s)) {
        fprintf(stderr, "bench_surrogate: %s\n", acdc_util_errmsg());
        exit(1);
    }
    double *x = malloc(B * n * sizeof *x);
    for (size_t i = 0; i < B * n; i++)
        x[i] = (double)((i * 2654435761u) % 256) / 255.0 - 0.5;
    for (int threads = 1; threads <= 2; threads++) {
        const double tn = pass(m, NULL, threads, B, x);
        printf("%-44s %d thread%s  numeric %8.1f us/row", what, threads,
               threads > 1 ? "s" : " ", 1e6 * tn / (double)B);
        for (int lens = 0; lens <= (rank == 1); lens++) {
            acdc_compiler_surrogate_opts o = acdc_compiler_surrogate_opts_default();
            o.threads = threads;
            o.lens = lens;
            acdc_compiler_surrogate *g;
            if (acdc_compiler_surrogate_alloc(&g, s, B, &o)) {
                fprintf(stderr, "bench_surrogate: %s\n", acdc_util_errmsg());
                exit(1);
            }
            const double ts = pass(m, acdc_compiler_surrogate_op(g), threads, B, x);
            printf("  surrogate%s %9.1f us/row (x%.0f)",
                   rank == 1 ? (lens ? ", objective" : ", ideal lenses") : "",
                   1e6 * ts / (double)B, ts / tn);
            acdc_compiler_surrogate_free(g);
        }
        printf("\n");
    }
    free(x);
    acdc_compiler_system_free(s);
    acdc_model_free(m);
}

int main(void)
{
    printf("bench_surrogate: one layer, forward + backward, batch 64, best of 5\n");
    run("1D n = 784, slm8 (R = 1, double-phase)", "slm8", 784, 1);
    run("2D 32 x 32, slm1080 (R = 2, 4x4 superpixels)", "slm1080", 32, 2);
    return 0;
}
