/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sim/run.h -- running light through a compiled system.
 *
 * The honesty rule: the optical output is produced by the optics library alone —
 * fields on the input modulator, lenses, free space, masks, homodyne detection on a
 * camera — plus the electronics the compiler specified (encode, gain, bias, ReLU,
 * permutation).  Nothing here calls the numeric ACDC path or a DCT to produce it; the
 * model copy in the system is used only by acdc_sim_reference() and acdc_sim_reference_chain(),
 * the ideal against which the light is compared.
 */
#ifndef ACDC_SIM_RUN_H
#define ACDC_SIM_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "compiler/system.h"
#include "sim/perturb.h"

/* How light gets from one plane to the next. */
enum acdc_sim_propagation {
    ACDC_SIM_PROP_IDEAL = 0,  /* ideal Fourier-transform lenses (acdc_optics_lens_*) */
    ACDC_SIM_PROP_FRESNEL,    /* free space f (Fresnel transfer function), the lens in its
                            plane, free space f: needs equal pitches in every plane.
                            Fresnel optics is paraxial: every lens runs in its paraxial
                            form, the quadratic phase, with its wavefront error */
    ACDC_SIM_PROP_ASM,        /* as fresnel, with the band-limited angular spectrum (exact
                            scalar diffraction, 2x padding) and the lens's own model */
    ACDC_SIM_PROP_PROFILE     /* chosen from the lens the simulation uses (acdc_sim_optics_of()) */
};

/* Which lens fills every lens position. */
enum acdc_sim_lens {
    ACDC_SIM_LENS_PROFILE = 0,  /* the profile's [lens]: its model and wavefront error */
    ACDC_SIM_LENS_FOURIER,      /* a perfect lens of the model named: no wavefront error */
    ACDC_SIM_LENS_PARAXIAL,
    ACDC_SIM_LENS_CORRECTED
};

typedef struct acdc_sim_options {
    enum acdc_sim_propagation propagation;   /* ACDC_SIM_PROP_PROFILE: from the lens (acdc_sim_optics_of) */
    enum acdc_sim_lens lens;
    int noise;                 /* 1: camera noise (shot, dark, read, full well, ADC) as the
                                  profile says; 0: noise-free detection.  An ideal profile
                                  never adds noise. */
    double phase_error_rad;    /* rms phase error of every mask pixel, drawn once per
                                  simulation (a fixed device); < 0: the profile's value */
    double photons;            /* photons per inference on each chain's input modulator
                                  at full scale over its designed exposures (sets the
                                  light level; the detection design stays as compiled, so
                                  more light than designed saturates); 0: the profile's
                                  power */
    double misalign_px;        /* lateral displacement of every mask (Fourier and image
                                  plane) in samples (a sample is one pixel, or a
                                  double-phase pair), either sign; 0: aligned */
    int oversample;            /* sub-samples per sample along x in every plane; 0: auto
                                  (acdc_sim_oversample()); 1: one per sample, the point
                                  design's own model.  S >= 2 resolves
                                  the devices' pixels: fill factor and opaque dead space,
                                  the two pixels of a double-phase pair, the pixel's own
                                  diffraction, the diffraction orders beyond each device
                                  (planes of m·S² samples, S times wider windows) */
    double perturb[ACDC_SIM_PERTURB_COUNT];  /* perturbations of the built system, SI units,
                                  0: none (sim/perturb.h); applied after calibration */
    int chain;                 /* 0: the displacements, rotations and the reference's error
                                  act on every element of their kind; k >= 1: on chain k's
                                  alone (its input modulator, masks, camera and
                                  reference), the other chains as built */
    int window;                /* 1: the window method even where the pixel-exact one
                                  applies (acdc_sim_exact()): for cross-checks of the two
                                  (S² times the samples of a plane per axis) */
    uint64_t seed;             /* for phase errors and noise; results depend on the seed
                                  and the input's index only, not on threads or batching */
    int threads;
} acdc_sim_options;

/* Default options: propagation and lens from the profile, noise on, profile values,
 * seed 1, one thread. */
acdc_sim_options acdc_sim_options_default(void);

/* The optics a simulation of s with options o runs. */
typedef struct acdc_sim_optics {
    enum acdc_sim_propagation propagation;  /* ideal, fresnel or asm (never ACDC_SIM_PROP_PROFILE) */
    acdc_optics_lens lens;                  /* every lens as it runs, the system's focal length
                                          and clear aperture filled in: model fourier
                                          under ideal propagation (and no wavefront error:
                                          a Fourier lens has no lens plane), paraxial under
                                          fresnel, the lens's own model under asm (a
                                          Fourier lens's free-space form being the
                                          paraxial one) */
    char note[320];                    /* one line when the lens asked for is not the one
                                          that runs, saying why; "" otherwise */
} acdc_sim_optics;

/* The propagation and lens of a simulation: o->lens's (the profile's lens, or a perfect
 * lens of the model named), and o->propagation, or from the lens's model when that is
 * ACDC_SIM_PROP_PROFILE -- fourier -> ideal (fresnel when it has a wavefront error: the
 * Fresnel model's transform, exact, with the error in the lens plane), paraxial ->
 * fresnel, corrected -> asm -- except
 * where free space cannot run as the model needs, which then keeps ideal Fourier lenses
 * and says why in out->note: a 2D system (the pixel-exact method needs ideal lenses, and
 * free space at S >= 2 costs (fm S^2)^2 samples a plane), unequal sample and Fourier
 * pitches (free space keeps one grid), and asm at S = 1 (a window as wide as the devices
 * loses the light that walks off it; sim/README.md).  Explicit choices are not changed. */
void acdc_sim_optics_of(const acdc_compiler_system *s, const acdc_sim_options *o,
                        acdc_sim_optics *out);

typedef struct sim sim;

/* Prepares a simulation of system s (plans, masks with errors, buffers) for batches of
 * up to `batch` inputs.  The system must outlive the simulation.  *out receives a new
 * simulation; caller frees with acdc_sim_free().  Errors: ACDC_UTIL_EUSAGE (bad options; fresnel
 * or asm with unequal pitches; a lens that cannot be sampled), ACDC_UTIL_ENOMEM. */
int acdc_sim_alloc(sim **out, const acdc_compiler_system *s, size_t batch,
                   const acdc_sim_options *o);
void acdc_sim_free(sim *m);

/* y (batch × n_out) = the optical system applied to x (batch × n_in).  first is the
 * index of x's first row in the whole data set (it seeds the noise of each row).
 * If chain_out is not NULL it receives each chain's output (n_chains × batch × n) and
 * chain_in each chain's electronic input (same shape), for per-stage fidelity. */
int acdc_sim_run(sim *m, size_t batch, size_t first, const double *x, double *y,
                 double *chain_in, double *chain_out);

/* The oversampling a simulation of s uses when asked for `requested`: requested if it
 * is at least 1, else (auto) 1 for a point design and 4 for a pixel-aware one, whose
 * masks assume pixels of finite width (compiler/README.md). */
int acdc_sim_oversample(const acdc_compiler_system *s, int requested);

/* The pixel-exact Fourier method (sim/run.c, sim/README.md): 1 for a 2D system with ideal
 * lenses, resolved pixels (S >= 2) and chains of one stage, where the input device's and
 * the camera's pixels enter through their closed-form transforms and only the Fourier
 * plane is sampled (S points per Fourier sample a side); 0 for the window method, which
 * samples every plane at S points per sample in a window S times the devices' width. */
int acdc_sim_exact(const acdc_compiler_system *s, const acdc_sim_options *o);

/* Samples per axis of every simulated plane: fm·S for the exact method, fm·S² for the
 * window method (fm: the Fourier planes' samples, system.h; S = acdc_sim_oversample()). */
size_t acdc_sim_plane_side(const acdc_compiler_system *s, const acdc_sim_options *o);

/* Samples of every simulated plane: acdc_sim_plane_side()^rank. */
size_t acdc_sim_plane_samples(const acdc_compiler_system *s, const acdc_sim_options *o);

/* Planes kept for plotting.  Per chain c: for each stage k its input plane (after the
 * image-plane mask) and its Fourier plane (after the mask), then the camera plane:
 * acdc_sim_plane_count() planes of L = acdc_sim_plane_samples() samples in all.  After
 * acdc_sim_keep_planes(m, rows, buf), every acdc_sim_run() stores the fields of data rows
 * first .. rows−1 into buf[(row · planes + plane) · L + sample] (rows × planes × L
 * values, caller-owned). */
size_t acdc_sim_plane_count(const acdc_compiler_system *s);
/* Name (e.g. "chain 0 stage 1 Fourier") and simulated sample pitch (m) of plane i for
 * options o (the device sample pitch / S; the exact method keeps its input and camera
 * planes at the sample pitch). */
void acdc_sim_plane_info(const acdc_compiler_system *s, const acdc_sim_options *o,
                         size_t i, char *name,
                         size_t size, double *pitch_m);
void acdc_sim_keep_planes(sim *m, size_t rows, double complex *buf);

/* The camera exposures of chain c since acdc_sim_alloc (rows × the chain's frames), and in
 * *saturated how many of them saturated: a pixel the chain reads reached the full well
 * on either homodyne port and was clipped there (acdc_optics_detect(); light on pixels it
 * does not read is clipped too, but does not enter the result and is not counted).  The designed exposure keeps the
 * signal range below the full well (compiler/README.md, "Detection"); light beyond it
 * (other data, a changed light level: acdc_sim_options.photons) saturates, and is counted,
 * not re-exposed.  Noise-free runs detect no electrons: 0 exposures. */
size_t acdc_sim_exposures(const sim *m, size_t c, size_t *saturated);

/* y = the numeric reference: the model copy in the system, through models/. */
int acdc_sim_reference(const acdc_compiler_system *s, size_t batch, const double *x, double *y);

/* The numeric reference of chain c alone, from its electronic input v (batch × n) to its
 * output after ReLU and permutation (batch × n), on a workspace w made once for the chain
 * by acdc_sim_reference_chain_work() (DCT plans included; caller frees with acdc_work_free())
 * for batches of up to `batch`. */
int acdc_sim_reference_chain_work(acdc_work **out, const acdc_compiler_system *s, size_t c,
                                  size_t batch);
int acdc_sim_reference_chain(const acdc_compiler_system *s, size_t c, acdc_work *w, size_t batch,
                             const double *v, double *y);

#endif
