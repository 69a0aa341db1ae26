/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sim/simulate.h -- a whole simulation job: a system, a data set, trials, metrics.
 * What `acdc simulate` runs, and each point of `acdc sweep`. */
#ifndef ACDC_SIM_SIMULATE_H
#define ACDC_SIM_SIMULATE_H

#include <complex.h>
#include <signal.h>
#include <stddef.h>

#include "compiler/system.h"
#include "models/io.h"
#include "sim/metrics.h"
#include "sim/result.h"
#include "sim/run.h"

/* Profile base changed by the assignments sets[0..nsets) ("fourier.phase_bits=6", see
 * acdc_compiler_profile_set()), checked with acdc_compiler_profile_check().  Errors: ACDC_UTIL_EUSAGE
 * with the profile's message for an assignment it refuses (the assignments come from
 * the user). */
int acdc_sim_profile_override(const acdc_compiler_profile *base, char *const *sets, size_t nsets,
                              acdc_compiler_profile *out);

/* The compiler as the simulator sees it: a system built from model m for profile p
 * (acdc_compiler_compile() has this shape).  sim runs compiled systems and does not compile
 * (it does not include compiler/compile.h); a caller that wants a changed device hands
 * the compiler in. */
typedef int (*acdc_sim_compile_fn)(const acdc_model *m, const acdc_compiler_profile *p,
                                   acdc_compiler_system **out);

/* A copy of system s recompiled by `compile` from its model copy for s's profile changed
 * by the assignments sets[0..nsets): the hardware that the changed device would give.
 * Its detection is designed anew for the changed devices, for s's calibrated signal
 * range where s has one (acdc_compiler_detection_carry()).  *out is a new system (caller
 * frees).  Errors: those of acdc_sim_profile_override()
 * (ACDC_UTIL_EUSAGE), then those of compile (ACDC_UTIL_EDATA for a design rule the changed device
 * breaks); ACDC_UTIL_EUSAGE if compile is NULL. */
int acdc_sim_system_override(const acdc_compiler_system *s, acdc_sim_compile_fn compile,
                             char *const *sets,
                             size_t nsets, acdc_compiler_system **out);

/* What --phase-bits / --amplitude-bits B (and a sweep over them) change: the masks'
 * levels, on the Fourier- and the image-plane devices (the input modulator keeps its
 * own).  Writes the two assignments ("fourier.phase_bits=B", "image.phase_bits=B", or
 * amplitude_bits) into out[0] and out[1], size bytes each. */
void acdc_sim_mask_bits_sets(int phase, long long bits, char out[2][64]);

typedef struct acdc_sim_job {
    const acdc_compiler_system *system;
    const acdc_data *data;
    acdc_sim_options options;
    size_t trials;        /* >= 1; trial t uses seed options.seed + t */
    size_t batch;         /* rows per optical pass */
    int progress;         /* 1: progress bar on a terminal */
    size_t save_planes;   /* keep every plane's field for the first rows (first trial) */
} acdc_sim_job;


/* Runs the job.  Fills *r, summarised (caller frees with acdc_sim_result_free()).  Errors:
 * from the simulator; ACDC_UTIL_EDATA if the data's width is not the system's n_in;
 * ACDC_UTIL_EINTR if *stop became non-zero (checked between batches; may be NULL). */
int acdc_sim_execute(const acdc_sim_job *job, acdc_sim_result *r,
                     const volatile sig_atomic_t *stop);

/* The inputs of a resumable study (sweep, tolerance): the system and the data (its first
 * `rows` rows; 0: all), their labels checked against the system's outputs, and the
 * fingerprints a resumed study's settings carry: *hsys of the system file, *hdata of the
 * rows used (values and labels).  *s and *d are new (the caller frees them, also after
 * an error).  Errors: those of reading either file, a label out of range. */
int acdc_sim_inputs_read(const char *system_path, const char *data_path, size_t rows,
                         acdc_compiler_system **s, acdc_data **d, uint64_t *hsys,
                         uint64_t *hdata);

#endif
