/* sim/simulate.h -- a whole simulation job: a system, a data set, trials, metrics.
 * What `acdc simulate` runs, and each point of `acdc sweep`. */
#ifndef SIM_SIMULATE_H
#define SIM_SIMULATE_H

#include <complex.h>
#include <stddef.h>

#include "compiler/system.h"
#include "models/io.h"
#include "sim/metrics.h"
#include "sim/run.h"

/* A copy of system s recompiled from its model copy for s's profile changed by the
 * assignments sets[0..nsets) ("fourier.phase_bits=6", see compiler_profile_set()):
 * the hardware that the changed device would give.  *out is a new system (caller frees).
 * Errors: those of compiler_profile_set() and compiler_compile(). */
int sim_system_override(const compiler_system *s, char *const *sets, size_t nsets,
                        compiler_system **out);

typedef struct sim_job {
    const compiler_system *system;
    const acdc_data *data;
    sim_options options;
    size_t trials;        /* >= 1; trial t uses seed options.seed + t */
    size_t batch;         /* rows per optical pass */
    int progress;         /* 1: progress bar on a terminal */
    size_t save_planes;   /* keep every plane's field for the first rows (first trial) */
} sim_job;

typedef struct sim_result {
    size_t rows, n_out, n, n_chains, trials;
    double *y_optical;    /* rows × n_out, from the last trial */
    double *y_ideal;      /* rows × n_out */
    sim_metrics *end;     /* trials: end-to-end metrics of each trial */
    sim_metrics *stage;   /* trials × n_chains: each chain against the numeric chain fed
                             the same (optical) input */
    double complex *planes;  /* planes_rows × n_planes × m fields (sim_plane_info) */
    size_t planes_rows, n_planes, m;
    size_t saturated;     /* exposure shortenings, all trials (sim_saturated) */
    double seconds;       /* wall time of the optical passes */
} sim_result;

/* Runs the job.  Fills *r (caller frees with sim_result_free()).  Errors: from the
 * simulator; UTIL_EDATA if the data's width is not the system's n_in; UTIL_EINTR if
 * *stop became non-zero (checked between batches; may be NULL). */
int sim_execute(const sim_job *job, sim_result *r, volatile int *stop);
void sim_result_free(sim_result *r);

/* Mean and sample standard deviation over trials of metric i of the end-to-end results
 * (stage < 0) or of chain `stage`. */
void sim_result_stats(const sim_result *r, int stage, int i, double *mean, double *sd);

#endif
