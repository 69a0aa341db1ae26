/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bench/floor.h -- the FFT floor of a run: what its transforms alone cost.
 *
 * A benchmark resets the optics' tally of transforms (acdc_optics_fft_tally_reset(),
 * optics/propagate.h), runs, and asks bench_fft_floor() what those transforms take
 * on one thread when nothing else is done: every shape the run used is timed here
 * with the plan the simulator makes (FFTW_ESTIMATE, single-threaded, in place) and
 * multiplied by its count.  Shared by the benchmarks (header only: every C file in bench/ is
 * its own program).
 */
#ifndef ACDC_BENCH_FLOOR_H
#define ACDC_BENCH_FLOOR_H

#include <fftw3.h>
#include <stdio.h>
#include <time.h>

#include "optics/propagate.h"

static inline double bench_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Seconds per complex FFT of n (rank 1) or n x n (rank 2) points, one thread,
 * FFTW_ESTIMATE, the mean over about a quarter second (-1 if memory runs out). */
static inline double bench_fft_seconds(int rank, size_t n)
{
    const size_t N = rank == 2 ? n * n : n;
    fftw_complex *a = fftw_alloc_complex(N);
    if (!a)
        return -1;
    fftw_plan_with_nthreads(1);
    fftw_plan p = rank == 2 ? fftw_plan_dft_2d((int)n, (int)n, a, a, FFTW_FORWARD, FFTW_ESTIMATE)
                            : fftw_plan_dft_1d((int)n, a, a, FFTW_FORWARD, FFTW_ESTIMATE);
    for (size_t i = 0; i < N; i++)
        a[i] = (double)(i % 5) - 2.0;
    fftw_execute(p);
    int reps = 0;
    double t0 = bench_now(), t;
    do {
        fftw_execute(p);
        reps++;
    } while ((t = bench_now() - t0) < 0.25);
    fftw_destroy_plan(p);
    fftw_free(a);
    return t / reps;
}

/* The transforms tallied since the last reset: one line on f per shape (count, time
 * each) when f is not NULL, and the seconds they take together on one thread; -1 if
 * a shape could not be timed. */
static inline double bench_fft_floor(FILE *f, const char *indent)
{
    acdc_optics_fft_count c[32];
    unsigned long long other = 0;
    size_t k = acdc_optics_fft_tally(c, 32, &other);
    if (k > 32)
        k = 32;
    double total = 0;
    for (size_t i = 0; i < k; i++) {
        const double each = bench_fft_seconds(c[i].rank, c[i].n);
        if (each < 0)
            return -1;
        total += each * (double)c[i].transforms;
        if (f) {
            if (c[i].rank == 2)
                fprintf(f, "%s%12llu FFTs of %zu x %zu, %8.2f us each: %8.2f s\n", indent,
                        c[i].transforms, c[i].n, c[i].n, 1e6 * each,
                        each * (double)c[i].transforms);
            else
                fprintf(f, "%s%12llu FFTs of %zu, %8.2f us each: %8.2f s\n", indent,
                        c[i].transforms, c[i].n, 1e6 * each, each * (double)c[i].transforms);
        }
    }
    if (f && other)
        fprintf(f, "%s%12llu FFTs of other shapes, not timed\n", indent, other);
    return total;
}

#endif
