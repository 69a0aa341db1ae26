/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bench/bench_sim2d.c -- the 2D cascade through resolved pixels, all 10,000 test images.
 *
 * The 2D Fashion-MNIST cascade (default examples/data/fashion-acdc2d.h5: 10 layers on a
 * 32 x 32 grid) compiled pixel-aware (R = 2) for the `slm1080` profile (1080p 8-bit
 * phase-only LCoS, 4 x 4 superpixels, double-phase in columns, homodyne sCMOS with its
 * noise) and simulated with resolved pixels (S sub-samples per Fourier sample a side,
 * the pixel-exact Fourier method, ideal Fourier lenses) on 2 threads, beside what the
 * bare FFTW transforms it needs would take: per image and chain, one 2D DFT of each of
 * the input's two double-phase patterns and one inverse, 2M x 2M each (the stage's
 * point-spread function on the M x M windows, optics/propagate.h), timed with a
 * single-threaded FFTW plan (FFTW_MEASURE) and halved for the 2 threads that each take
 * whole images.  For scale, the same count of L x L DFTs (L = fm·S: the whole planes
 * the light crosses, what the method ran before it used the point-spread function) with
 * FFTW's own 2-thread 2D plan.
 *
 * usage: bench_sim2d [MODEL.h5 [DATA [S]]]   (S default 4)
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
#include "models/idx.h"
#include "models/io.h"
#include "sim/simulate.h"
#include "util/error.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Seconds per L x L complex 2D DFT with FFTW's plan on `threads` threads (the mean of
 * `reps`). */
static double fftw_seconds(size_t L, int threads, int reps)
{
    fftw_complex *a = fftw_alloc_complex(L * L);
    if (!a)
        return -1;
    fftw_plan_with_nthreads(threads);
    fftw_plan p = fftw_plan_dft_2d((int)L, (int)L, a, a, FFTW_FORWARD, FFTW_MEASURE);
    fftw_plan_with_nthreads(1);
    for (size_t i = 0; i < L * L; i++)
        a[i] = (double)(i % 7) - 3.0;
    fftw_execute(p);
    double t0 = now();
    for (int r = 0; r < reps; r++)
        fftw_execute(p);
    double t = (now() - t0) / reps;
    fftw_destroy_plan(p);
    fftw_free(a);
    return t;
}

int main(int argc, char **argv)
{
    const char *mpath = argc > 1 ? argv[1] : "examples/data/fashion-acdc2d.h5";
    const char *dpath = argc > 2 ? argv[2] : "/usr/share/datasets/fashion-mnist";
    const int S = argc > 3 ? atoi(argv[3]) : 4;
    acdc_model *m = NULL;
    acdc_data *d = NULL;
    acdc_compiler_system *s = NULL;
    acdc_compiler_profile p;
    if (S < 2 || S > 16) {
        fprintf(stderr, "bench_sim2d: error: S = '%s' is not 2..16\n", argv[3]);
        return 2;
    }
    if (acdc_model_read(mpath, &m) || acdc_data_load(dpath, "test", NULL, &d) ||
        acdc_compiler_profile_builtin("slm1080", &p) ||
        acdc_compiler_profile_set(&p, "rules.fourier_oversample=2") ||
        acdc_compiler_compile(m, &p, &s)) {
        fprintf(stderr, "bench_sim2d: error: %s\n", acdc_util_errmsg());
        return 1;
    }
    acdc_sim_job job = {.system = s, .data = d, .options = acdc_sim_options_default(), .trials = 1,
                        .batch = 64};
    job.options.oversample = S;
    job.options.threads = 2;
    omp_set_num_threads(2);
    const size_t L = acdc_sim_plane_side(s, &job.options);
    printf("resolved-pixel inference of %zu images: '%s' (%zux%zu grid, %zu layers, %zu "
           "chains) on '%s', pixel-aware R = 2, superpixel %dx%d\n", d->batch, mpath, s->side,
           s->side, m->n_layers, s->n_chains, p.name, s->profile.superpixel,
           s->profile.superpixel);
    printf("sampling: S = %d (%s), planes of %zux%zu, ideal Fourier lenses, the profile's "
           "noise; 2 threads\n", S,
           acdc_sim_exact(s, &job.options) ? "pixel-exact Fourier method" : "window method", L, L);
    acdc_sim_result r;
    double t0 = now();
    if (acdc_sim_execute(&job, &r, NULL)) {
        fprintf(stderr, "bench_sim2d: error: %s\n", acdc_util_errmsg());
        return 1;
    }
    const double t = now() - t0;
    /* the transforms: two input patterns (phase-only input) and one inverse */
    const double count = 3.0 * (double)s->n_chains * (double)d->batch;
    const size_t N = 2 * s->m;
    const double per = fftw_seconds(N, 1, 2000), per_l = fftw_seconds(L, 2, 20);
    printf("%-52s %10s %12s\n", "", "time (s)", "images/s");
    printf("%-52s %10.1f %12.1f\n", "simulation (acdc-optics, 2 threads)", t,
           (double)d->batch / t);
    printf("%-52s %10.1f %12.1f\n", "its 2D DFTs alone (FFTW, 1 thread each, 2 threads)",
           per * count / 2, 2 * (double)d->batch / (per * count));
    printf("%-52s %10.1f %12.1f\n", "as many DFTs of the whole planes (FFTW, 2 threads)",
           per_l * count, (double)d->batch / (per_l * count));
    printf("  %.0f DFTs of %zux%zu at %.1f us each (%s); of the planes' %zux%zu %.3f ms "
           "each; the rest is masks, pixel transforms, camera and electronics\n", count, N,
           N, 1e6 * per, fftw_version, L, L, 1e3 * per_l);
    printf("accuracy: numeric %.4f, optical %.4f (%+.2f pp); relative RMS error %.4f, "
           "prediction agreement %.4f, %zu saturated exposures\n", r.end[0].acc_ideal,
           r.end[0].acc_optical, 100 * (r.end[0].acc_optical - r.end[0].acc_ideal),
           r.end[0].rel_rms, r.end[0].agreement, r.saturated);
    acdc_sim_result_free(&r);
    acdc_compiler_system_free(s);
    acdc_data_free(d);
    acdc_model_free(m);
    return 0;
}
