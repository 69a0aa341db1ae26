/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bench/bench_sim.c -- optical inference of the whole Fashion-MNIST test set.
 *
 * The trained cascade (default examples/data/fashion-acdc.h5) compiled for the realistic
 * `slm8` profile as `acdc compile` does by default (the pixel-aware design that fits,
 * 8-bit phase-only LCoS masks, double-phase encoding, homodyne sCMOS camera with shot,
 * read and ADC noise at the designed detection, the profile's lens) runs all 10,000
 * test images (default /usr/share/datasets/fashion-mnist, Debian's
 * dataset-fashion-mnist), with 1 and with 2 threads, beside the numeric model.  Prints
 * time, throughput, numeric and optical accuracy, whether the two thread counts gave
 * bit-identical light, and the run's FFT floor: the transforms it ran (counted by the
 * optics), timed alone on one thread (bench/floor.h) -- half of it for two threads.
 *
 * usage: bench_sim [MODEL.h5 [DATA]]
 */
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

#include "bench/floor.h"

int main(int argc, char **argv)
{
    const char *mpath = argc > 1 ? argv[1] : "examples/data/fashion-acdc.h5";
    const char *dpath = argc > 2 ? argv[2] : "/usr/share/datasets/fashion-mnist";
    acdc_model *m = NULL;
    acdc_data *d = NULL;
    acdc_compiler_system *s = NULL;
    acdc_compiler_profile p;
    int rc;
    if ((rc = acdc_model_read(mpath, &m)) || (rc = acdc_data_load(dpath, "test", NULL, &d)) ||
        (rc = acdc_compiler_profile_builtin("slm8", &p))) {
        fprintf(stderr, "bench_sim: error: %s\n", acdc_util_errmsg());
        return 1;
    }
    double t0 = bench_now();
    if ((rc = acdc_compiler_compile(m, &p, &s))) {
        fprintf(stderr, "bench_sim: error: %s\n", acdc_util_errmsg());
        return 1;
    }
    double t_compile = bench_now() - t0;
    printf("optical inference of %zu images: '%s' (n = %zu, %zu layers, %zu optical chains) "
           "on profile '%s'\n", d->batch, mpath, m->n, m->n_layers, s->n_chains, p.name);
    printf("compile: %.3f s\n", t_compile);
    {
        /* every figure states its design, oversampling, propagation and lens model */
        acdc_sim_options o = acdc_sim_options_default();
        acdc_sim_optics op;
        acdc_sim_optics_of(s, &o, &op);
        printf("design: %s\noptics: S = %d, %s propagation, %s lens '%s', %.3g waves rms; "
               "the profile's noise at the designed detection\n", s->design,
               acdc_sim_oversample(s, o.oversample), acdc_sim_propagation_name(op.propagation),
               acdc_optics_lens_model_name(op.lens.model), op.lens.name,
               acdc_optics_lens_wavefront_rms(&op.lens, s->rank));
    }
    printf("%8s %10s %12s %12s %12s %12s\n", "threads", "time (s)", "inputs/s", "numeric acc",
           "optical acc", "difference");
    double *y1 = NULL, floor_s = -1;
    int same = 1;
    for (int threads = 1; threads <= 2; threads++) {
        omp_set_num_threads(threads);
        acdc_sim_job job = {.system = s, .data = d,
                            .options = acdc_sim_options_default(), .trials = 1,
                            .batch = 64};
        job.options.threads = threads;
        acdc_sim_result r;
        acdc_optics_fft_tally_reset();
        t0 = bench_now();
        if ((rc = acdc_sim_execute(&job, &r, NULL))) {
            fprintf(stderr, "bench_sim: error: %s\n", acdc_util_errmsg());
            return 1;
        }
        double t = bench_now() - t0;
        printf("%8d %10.2f %12.0f %12.4f %12.4f %+11.2f pp\n", threads, t,
               (double)d->batch / t, r.end[0].acc_ideal, r.end[0].acc_optical,
               100 * (r.end[0].acc_optical - r.end[0].acc_ideal));
        if (threads == 1) {
            printf("         the transforms it ran, timed alone:\n");
            floor_s = bench_fft_floor(stdout, "         ");
        }
        if (floor_s > 0)
            printf("         FFT floor %.2f s on %d thread%s: the run takes %.2fx its floor\n",
                   floor_s / threads, threads, threads > 1 ? "s" : "", t / (floor_s / threads));
        size_t bytes = d->batch * s->n_out * sizeof(double);
        if (!y1) {
            y1 = malloc(bytes);
            memcpy(y1, r.y_optical, bytes);
        } else {
            same = !memcmp(y1, r.y_optical, bytes);
        }
        if (threads == 1)
            printf("         relative RMS error %.4f, SNR %.1f dB, prediction agreement "
                   "%.4f, %zu saturated exposures\n", r.end[0].rel_rms,
                   r.end[0].snr_db, r.end[0].agreement, r.saturated);
        acdc_sim_result_free(&r);
    }
    printf("1 and 2 threads give bit-identical optical outputs: %s\n", same ? "yes" : "NO");
    free(y1);
    acdc_compiler_system_free(s);
    acdc_data_free(d);
    acdc_model_free(m);
    return same ? 0 : 1;
}
