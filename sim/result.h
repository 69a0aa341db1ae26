/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sim/result.h -- the result of a simulation job, in memory and in its file.
 *
 * The file (format "acdc-result", README.md *File formats*, sim/README.md) is written
 * and read here only:
 *
 *   /                 attributes format = "acdc-result", profile, propagation, trials,
 *                     seed, oversample, saturated_exposures, exposures, seconds
 *                     (results written before designed detection have
 *                     exposure_shortened instead: the exposures the simulator's former
 *                     auto-exposure shortened, read as saturated_exposures, exposures 0),
 *                     and the lens that ran (acdc_sim_optics_of()): lens_model, lens_name,
 *                     lens_wavefront_rms_waves (its rms over the clear aperture),
 *                     lens_zernike_waves (11 Noll coefficients as realised, the single
 *                     rms figure included), lens_note (why it is not the lens asked
 *                     for, or "").  Results written before lens models lack the lens_
 *                     attributes and read as the lens then used: model fourier under
 *                     ideal propagation, paraxial otherwise, without a wavefront error
 *   /y_optical        rows × n_out, the optical outputs (last trial)
 *   /y_ideal          rows × n_out, the numeric model's outputs
 *   /labels           rows, int64 (only for labelled data)
 *   /metrics          attributes NAME and NAME_sd for every metric of sim/metrics.h:
 *                     mean and sample standard deviation over the trials, end to end
 *   /stages/C         the same for optical chain C
 *   /trials/metrics   trials × ACDC_SIM_METRIC_COUNT, every trial's end-to-end metrics
 *   /planes/field     with --save-planes K, the fields (real, imaginary) of every plane:
 *                     K × planes × samples × 2 for a 1D system (rank 1), K × planes ×
 *                     ny × nx × 2 for a 2D one (rank 2: square planes, x fastest; sample
 *                     (iy, ix) at x = (ix − ⌊nx/2⌋)·pitch, y = (iy − ⌊ny/2⌋)·pitch);
 *                     the reader tells the two by the dataset's rank (4 or 5)
 *   /planes/pitch_m   planes, > 0; attribute /planes names = the plane names, ';'-separated
 *
 * Unlabelled data and per-chain rows give NaN accuracies; NaN is stored as NaN.
 */
#ifndef ACDC_SIM_RESULT_H
#define ACDC_SIM_RESULT_H

#include <complex.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/metrics.h"
#include "sim/run.h"

typedef struct acdc_sim_result {
    size_t rows, n_out, n, n_chains, trials;  /* n: the system's width (0 when read) */
    double *y_optical;    /* rows × n_out, from the last trial */
    double *y_ideal;      /* rows × n_out */
    int64_t *labels;      /* rows labels of the data, or NULL */
    acdc_sim_metrics *end;     /* trials: end-to-end metrics of each trial */
    acdc_sim_metrics *stage;   /* trials × n_chains: each chain against the numeric chain fed
                             the same (optical) input; NULL when read from a file (the
                             file keeps their mean and sd only) */
    double *mean, *sd;    /* (1 + n_chains) × ACDC_SIM_METRIC_COUNT: over the trials, group 0
                             end to end, group 1 + c chain c (acdc_sim_result_summarise) */
    double complex *planes;  /* planes_rows × n_planes × m fields (acdc_sim_plane_info) */
    size_t planes_rows, n_planes, m;
    size_t plane_nx, plane_ny;  /* a plane's shape, x fastest: m × 1 for a 1D system
                                   (plane_ny <= 1: 1D, whatever plane_nx), side × side
                                   for a 2D one (plane_nx × plane_ny = m) */
    char *plane_names;    /* n_planes names, ';'-separated (with planes) */
    double *plane_pitch_m;   /* n_planes sample pitches (with planes) */
    char profile[64];     /* the device profile's name */
    enum acdc_sim_propagation propagation;   /* that ran: ideal, fresnel or asm */
    acdc_optics_lens lens;     /* that ran (acdc_sim_optics.lens); zernike[] holds the realised
                             coefficients, wavefront_rms 0 */
    double lens_rms_waves;   /* its wavefront error's rms over the clear aperture */
    char lens_note[320];  /* acdc_sim_optics.note */
    char perturbations[512];  /* the perturbations of the built system that ran,
                                 "NAME=VALUE UNIT; ..." (sim/perturb.h); "" none */
    uint64_t seed;        /* of the first trial */
    int oversample;       /* sub-samples per sample actually simulated */
    size_t saturated;     /* saturated camera exposures, all trials and chains
                             (acdc_sim_exposures()) */
    size_t exposures;     /* camera exposures, all trials and chains (0: not recorded) */
    size_t *chain_saturated;  /* n_chains: saturated exposures per chain, all trials;
                                 NULL when read from a file (not stored) */
    double seconds;       /* wall time of the trials: the simulators' set-up, the optical
                             passes, the per-chain numeric references and the metrics */
} acdc_sim_result;

/* Frees every array of r and zeroes it; NULL is a no-op. */
void acdc_sim_result_free(acdc_sim_result *r);

/* Fills r->mean and r->sd (allocating them) from the trials in r->end and r->stage.
 * Errors: ACDC_UTIL_ENOMEM. */
int acdc_sim_result_summarise(acdc_sim_result *r);

/* Mean and sample standard deviation over trials of metric i (enum acdc_sim_metric) end to
 * end (stage < 0) or of chain `stage`, from r->mean and r->sd; NaN if out of range. */
void acdc_sim_result_stats(const acdc_sim_result *r, int stage, int i, double *mean, double *sd);

/* Writes r to path atomically (a temporary beside it, renamed into place) in the
 * layout above: planes with plane_ny > 1 as the 2D (rank 5) /planes/field.  r must be
 * summarised.  Errors: ACDC_UTIL_EUSAGE (not summarised; 2D planes whose plane_nx ×
 * plane_ny is not m), ACDC_UTIL_EIO (cannot create, write or rename), ACDC_UTIL_ENOMEM; the
 * previous file at path is then untouched. */
int acdc_sim_result_write(const acdc_sim_result *r, const char *path);

/* Reads a result file into *r (caller frees with acdc_sim_result_free(); zeroed on error).
 * Everything above is read back; r->stage stays NULL and r->n 0.  Errors: ACDC_UTIL_EIO
 * (cannot open), ACDC_UTIL_EDATA naming the file and the object at fault (not a result,
 * a missing or misshapen dataset -- /planes/field of rank other than 4 or 5, an empty
 * extent, a last extent other than 2 --, a pitch <= 0, an unknown propagation or lens
 * model), ACDC_UTIL_ENOMEM. */
int acdc_sim_result_read(const char *path, acdc_sim_result *r);

/* "ideal", "fresnel", "asm" or "profile". */
const char *acdc_sim_propagation_name(enum acdc_sim_propagation p);
/* The propagation called name.  Errors: ACDC_UTIL_EUSAGE "'NAME' is not ideal, fresnel, asm
 * or profile" (the caller prefixes the option or attribute). */
int acdc_sim_propagation_parse(const char *name, enum acdc_sim_propagation *p);

/* Records in r the optics that ran a system of the given rank: the propagation, the
 * lens with its realised coefficients and rms, the note. */
void acdc_sim_result_set_optics(acdc_sim_result *r, const acdc_sim_optics *op, int rank);

#endif
