/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bench/bench_optics.c -- the optics propagators against the bare FFTW transforms they
 * need, same planning effort for both (FFTW_ESTIMATE; --measure for FFTW_MEASURE), all
 * threads OpenMP gives (OMP_NUM_THREADS), best of several runs:
 *
 *   asm-bl   one 4096 x 4096 band-limited angular-spectrum propagation (2x zero padding
 *            to 8192 x 8192, transfer function, crop) with acdc_optics_prop_apply;
 *            floor: one forward and one backward 8192^2 FFTW transform, in place,
 *            FFTW's own threads.
 *   4f 1D    a batch of 4096 rank-1 fields of 2048 samples through lens, Fourier-plane
 *            mask, lens (acdc_optics_4f_apply);
 *            floor: two batched 2048-point FFTW transforms of the whole batch (one
 *            fftw_plan_many_dft, in place, FFTW's own threads).
 *
 * The two are run alternately and the best of each kept, so that other load on the
 * machine slows both alike.  Prints the times side by side and their ratio (target:
 * <= 1.5).  About a minute on 2 cores (two with --measure); needs ~3 GB of memory.
 */
#include "optics/field.h"
#include "optics/propagate.h"
#include "util/error.h"

#include <complex.h>
#include <fftw3.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fill(double complex *v, size_t n)
{
    unsigned long long s = 2385;
    for (size_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        v[i] = (double)(s >> 40) / 16777216.0 - 0.5 + I * 0.25;
    }
}

int main(int argc, char **argv)
{
    int measure = argc > 1 && strcmp(argv[1], "--measure") == 0;
    unsigned flags = measure ? FFTW_MEASURE : FFTW_ESTIMATE;
    acdc_optics_set_fft_effort(measure);
    fftw_init_threads();
    int nt = omp_get_max_threads();
    printf("optics propagators vs bare FFTW, %d thread%s, %s, best of the runs\n", nt,
           nt == 1 ? "" : "s", measure ? "FFTW_MEASURE" : "FFTW_ESTIMATE");
    printf("%-34s %11s %11s %7s\n", "case", "ours (s)", "floor (s)", "ratio");

    /* ------------------------------------------------ 4096^2 band-limited ASM */
    {
        size_t n = 4096, p = 2 * n, runs = 4;
        acdc_optics_grid g;
        acdc_optics_field *f;
        acdc_optics_prop *pr;
        if (acdc_optics_grid_init(&g, 2, n, n, 8e-6, 633e-9) ||
            acdc_optics_field_alloc(&f, &g, 1)) {
            fprintf(stderr, "bench_optics: %s\n", acdc_util_errmsg());
            return 1;
        }
        fill(f->data, n * n);
        double t0 = omp_get_wtime();
        if (acdc_optics_prop_alloc(&pr, &g, 0.05, ACDC_OPTICS_ASM_BL)) {
            fprintf(stderr, "bench_optics: %s\n", acdc_util_errmsg());
            return 1;
        }
        double tplan = omp_get_wtime() - t0, best = INFINITY;
        fftw_complex *a = fftw_malloc(p * p * sizeof *a);
        if (!a) {
            fprintf(stderr, "bench_optics: cannot allocate %zu^2\n", p);
            return 1;
        }
        fftw_plan_with_nthreads(nt);
        fftw_plan fw = fftw_plan_dft_2d((int)p, (int)p, a, a, FFTW_FORWARD, flags);
        fftw_plan bw = fftw_plan_dft_2d((int)p, (int)p, a, a, FFTW_BACKWARD, flags);
        fill((double complex *)a, p * p);
        /* alternate the two so that a busy machine slows both alike */
        double floor_t = INFINITY;
        for (size_t r = 0; r < runs; r++) {
            t0 = omp_get_wtime();
            acdc_optics_prop_apply(pr, f, f);
            best = fmin(best, omp_get_wtime() - t0);
            t0 = omp_get_wtime();
            fftw_execute(fw);
            fftw_execute(bw);
            floor_t = fmin(floor_t, omp_get_wtime() - t0);
        }
        fftw_destroy_plan(fw);
        fftw_destroy_plan(bw);
        fftw_free(a);
        acdc_optics_prop_free(pr);
        acdc_optics_field_free(f);
        printf("%-34s %11.3f %11.3f %7.2f\n", "asm-bl 4096^2 (padded 8192^2)", best,
               floor_t, best / floor_t);
        printf("  (planning and transfer function: %.2f s, once per plan)\n", tplan);
    }

    /* ------------------------------------------------ batch of 1D 4f passes */
    {
        size_t m = 2048, nb = 4096, runs = 10;
        acdc_optics_grid g;
        acdc_optics_field *f;
        acdc_optics_lens_plan *l;
        double dx = 8e-6, lam = 633e-9;
        if (acdc_optics_grid_init(&g, 1, m, 1, dx, lam) || acdc_optics_field_alloc(&f, &g, nb) ||
            acdc_optics_lens_plan_alloc(&l, &g, m * dx * dx / lam)) {
            fprintf(stderr, "bench_optics: %s\n", acdc_util_errmsg());
            return 1;
        }
        double complex *mask = malloc(m * sizeof *mask);
        for (size_t k = 0; k < m; k++)
            mask[k] = k % 3 ? 0.7 : -0.4;
        fill(f->data, m * nb);
        double best = INFINITY, t0;
        fftw_complex *a = fftw_malloc(m * nb * sizeof *a);
        int nn = (int)m;
        fftw_plan_with_nthreads(nt);
        fftw_plan pf = fftw_plan_many_dft(1, &nn, (int)nb, a, NULL, 1, nn, a, NULL, 1, nn,
                                          FFTW_FORWARD, flags);
        fill((double complex *)a, m * nb);
        double floor_t = INFINITY;
        for (size_t r = 0; r < runs; r++) {
            t0 = omp_get_wtime();
            acdc_optics_4f_apply(l, mask, l, f, f);
            best = fmin(best, omp_get_wtime() - t0);
            t0 = omp_get_wtime();
            fftw_execute(pf);
            fftw_execute(pf);
            floor_t = fmin(floor_t, omp_get_wtime() - t0);
        }
        fftw_destroy_plan(pf);
        fftw_free(a);
        acdc_optics_lens_plan_free(l);
        acdc_optics_field_free(f);
        free(mask);
        printf("%-34s %11.4f %11.4f %7.2f\n", "4f 1D, 4096 fields x 2048", best, floor_t,
               best / floor_t);
    }
    fftw_cleanup_threads();
    return ferror(stdout) ? 1 : 0;
}
