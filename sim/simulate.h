/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sim/simulate.h -- a whole simulation job: a system, a data set, trials, metrics.
 * What `acdc simulate` runs, and each point of `acdc sweep`. */
#ifndef SIM_SIMULATE_H
#define SIM_SIMULATE_H

#include <complex.h>
#include <signal.h>
#include <stddef.h>

#include "compiler/system.h"
#include "models/io.h"
#include "sim/metrics.h"
#include "sim/result.h"
#include "sim/run.h"

/* Profile base changed by the assignments sets[0..nsets) ("fourier.phase_bits=6", see
 * compiler_profile_set()), checked with compiler_profile_check().  Errors: UTIL_EUSAGE
 * with the profile's message for an assignment it refuses (the assignments come from
 * the user). */
int sim_profile_override(const compiler_profile *base, char *const *sets, size_t nsets,
                         compiler_profile *out);

/* The compiler as the simulator sees it: a system built from model m for profile p
 * (compiler_compile() has this shape).  sim runs compiled systems and does not compile
 * (it does not include compiler/compile.h); a caller that wants a changed device hands
 * the compiler in. */
typedef int (*sim_compile_fn)(const acdc_model *m, const compiler_profile *p,
                              compiler_system **out);

/* A copy of system s recompiled by `compile` from its model copy for s's profile changed
 * by the assignments sets[0..nsets): the hardware that the changed device would give.
 * Its detection is designed anew for the changed devices, for s's calibrated signal
 * range where s has one (compiler_detection_carry()).  *out is a new system (caller
 * frees).  Errors: those of sim_profile_override()
 * (UTIL_EUSAGE), then those of compile (UTIL_EDATA for a design rule the changed device
 * breaks); UTIL_EUSAGE if compile is NULL. */
int sim_system_override(const compiler_system *s, sim_compile_fn compile, char *const *sets,
                        size_t nsets, compiler_system **out);

/* What --phase-bits / --amplitude-bits B (and a sweep over them) change: the masks'
 * levels, on the Fourier- and the image-plane devices (the input modulator keeps its
 * own).  Writes the two assignments ("fourier.phase_bits=B", "image.phase_bits=B", or
 * amplitude_bits) into out[0] and out[1], size bytes each. */
void sim_mask_bits_sets(int phase, long long bits, char out[2][64]);

typedef struct sim_job {
    const compiler_system *system;
    const acdc_data *data;
    sim_options options;
    size_t trials;        /* >= 1; trial t uses seed options.seed + t */
    size_t batch;         /* rows per optical pass */
    int progress;         /* 1: progress bar on a terminal */
    size_t save_planes;   /* keep every plane's field for the first rows (first trial) */
} sim_job;


/* Runs the job.  Fills *r, summarised (caller frees with sim_result_free()).  Errors:
 * from the simulator; UTIL_EDATA if the data's width is not the system's n_in;
 * UTIL_EINTR if *stop became non-zero (checked between batches; may be NULL). */
int sim_execute(const sim_job *job, sim_result *r, const volatile sig_atomic_t *stop);

#endif
