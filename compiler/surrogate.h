/* SPDX-License-Identifier: GPL-3.0-or-later */
/* compiler/surrogate.h -- the compiler's differentiable model of the hardware it builds,
 * for training a cascade through it (`acdc train --hardware`).
 *
 * The surrogate computes what one compiled layer does to its input -- the layer's own
 * a, d and biases as they change during training, on the devices, sampling and
 * detection of a compiled system -- and the adjoint of every step:
 *
 *   electronics  u = a ⊙ v + a_bias, s = max|u|, w = u / s;
 *   input        each component on its two samples of the symmetric extension, shown
 *                by the input device: its pixels (a double-phase pair on a phase-only
 *                device), quantised to its levels;
 *   Fourier mask W = D·d (the compiler's design, acdc_compiler_fourier_design(): linear in
 *                d, so D is tabulated once), t = W / max|W|, shown by the Fourier device
 *                the same way, with a random phase error per pixel drawn per step at the
 *                profile's rms;
 *   optics       Fourier lenses (their wavefront error below): the camera pixel's mean
 *                field is
 *                  E_j = K Σ_a Σ_c p_a τ_c B_c sinc(f_F (r − r0)/N) e^{−2πi (c − c0)(r − r0)/N}
 *                with r = a + P_in·j, input pixels p_a (pitch δ_in), Fourier pixels τ_c
 *                (pitch δ_F), N = λf/(δ_in δ_F), B_c the input pixel's and camera pixel's
 *                transforms at Fourier pixel c and K = w_in w_F/(iλf) -- the exact
 *                integral over every pixel's active area, with the input and camera
 *                pixels' transforms taken as constant across one Fourier pixel
 *                (compiler/README.md, "The surrogate"): a DFT of the Fourier pixels and a
 *                correlation with the input pixels, both by FFTW;
 *   camera       the balanced homodyne difference against the designed reference, each
 *                port clipped at the full well, the frames' averaged noise at the
 *                design's variance (shot, dark, read, ADC) drawn per step;
 *   electronics  z = s · max|W| · ΔI / (4 φ ρ |g|) + Cᵀ d_bias  (g the surrogate's own
 *                calibration constant, as the simulator calibrates).
 *
 * Quantisation uses the straight-through estimator (the backward pass differentiates
 * the unquantised device); with `quantise` off the surrogate is smooth and its
 * gradients are exact.  A lens with a wavefront error W (the profile's [lens]) sends the
 * light from input point x to Fourier point ξ through its plane at x + ξ: the kernel
 * picks up e^{2πi W(x + ξ)} per lens, written as SURROGATE_LENS_TERMS powers of x/R
 * with coefficients (per Fourier point ξ) fitted by least squares over the input pixels
 * and camera samples once, at allocation (compiler/README.md, "The surrogate").  The
 * surrogate is training code's model of the hardware: the simulator never calls it (the
 * honesty rule).
 *
 * Rank 2 (spherical lenses, 2D DCT layers): the same, separable per axis -- every
 * sample a k x k superpixel, the mask D d Dᵀ (acdc_compiler_fourier_design_axis()), the
 * Fourier pixels' DFT taken per sub-pixel offset, and the per-row correlation run on the
 * samples with one kernel per pixel pattern of a superpixel (a double-phase value's two);
 * its lenses are ideal, as the simulator runs 2D systems.
 *
 * Supported: systems whose every optical chain is one layer (the pixel-aware designs,
 * rules.fourier_oversample >= 1, and, in 1D, point designs of cascades with a ReLU or
 * permutation after every layer), on complex or phase-only input and Fourier devices.
 */
#ifndef ACDC_COMPILER_SURROGATE_H
#define ACDC_COMPILER_SURROGATE_H

#include <stddef.h>
#include <stdint.h>

#include "compiler/system.h"
#include "models/model.h"

typedef struct acdc_compiler_surrogate_opts {
    int quantise;            /* 1: device levels (straight-through); 0: continuous */
    int noise;               /* 1: camera noise at the design's variance */
    int clip;                /* 1: each homodyne port clipped at the full well */
    int lens;                /* 1: the profile's lens wavefront error in the kernel;
                                0: ideal lenses */
    double phase_error_rad;  /* rms phase error per Fourier-mask pixel, drawn per step;
                                < 0: the profile's */
    uint64_t seed;           /* noise and phase errors: drawn from (seed, tick, layer) */
    int threads;             /* OpenMP threads over rows; results do not depend on it */
} acdc_compiler_surrogate_opts;

/* quantise, noise and clip on, the profile's phase error, seed 1, one thread. */
acdc_compiler_surrogate_opts acdc_compiler_surrogate_opts_default(void);

typedef struct acdc_compiler_surrogate acdc_compiler_surrogate;

/* Sets *out to a surrogate of system s for batches of up to `batch` rows.  s is read
 * at allocation and not kept.  Errors: ACDC_UTIL_EUSAGE (a chain of several layers, a 2D
 * point design, an amplitude-only device), ACDC_UTIL_ENOMEM; *out is then NULL. */
int acdc_compiler_surrogate_alloc(acdc_compiler_surrogate **out, const acdc_compiler_system *s,
                                  size_t batch, const acdc_compiler_surrogate_opts *o);
void acdc_compiler_surrogate_free(acdc_compiler_surrogate *g);

/* The layer operator (models/model.h) that computes every layer through the
 * surrogate; valid while g lives.  The model it is used with must have the system's
 * shape (n, layers) -- checked on every call (ACDC_UTIL_EUSAGE). */
const acdc_layer_op *acdc_compiler_surrogate_op(acdc_compiler_surrogate *g);

/* Terms of the lenses' wavefront error in its kernel: 1 for ideal lenses (no error, or
 * opts.lens 0). */
int acdc_compiler_surrogate_lens_terms(const acdc_compiler_surrogate *g);

/* How far the lens series is from the factor it stands for: the rms (*rms) and the
 * largest (*max) |Σ_n c_n(ξ) (x/R)^n − e^{2πi W(ξ + x)}| over every Fourier pixel ξ and
 * every input pixel and camera sample x -- the points the kernel evaluates the series
 * on (compiler/README.md, "The surrogate").  0 for ideal lenses.  Either pointer may
 * be NULL. */
void acdc_compiler_surrogate_lens_error(const acdc_compiler_surrogate *g, double *rms, double *max);

/* The surrogate's calibration constant: the mean field on the camera pixel on the axis
 * for a clear system and a flat input of unit amplitude (units of E0), as the
 * simulator measures its own. */
double complex acdc_compiler_surrogate_constant(const acdc_compiler_surrogate *g);

#endif
