/* SPDX-License-Identifier: GPL-3.0-or-later */
/* compiler/compile.h -- model → optical system: the passes of `acdc compile`.
 *
 * Each pass is a function of its own, documented in compiler/README.md and tested on its
 * own (tests/test_compiler_compile.c).  acdc_compiler_compile() runs them in order.  The rules
 * the compiler shares with the system file's checks -- layout, grouping, Fourier
 * sampling, the 4f constant, the chain's gain -- are in compiler/system.h: the compiler
 * uses the system, never the other way round.
 */
#ifndef ACDC_COMPILER_COMPILE_H
#define ACDC_COMPILER_COMPILE_H

#include <complex.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler/profile.h"
#include "compiler/system.h"
#include "models/model.h"

/* The Fourier-plane mask of d (length n) on m = 2n centred samples, real: sample k holds
 * D_ext at frequency (k − n) mod m, D_ext,κ = d_κ (κ < n), d_{m−κ} (κ > n), 0 at κ = n. */
void acdc_compiler_fourier_values(const double *d, size_t n, double *out);

/* The 2D Fourier-plane mask of d (side x side, row-major) on m x m centred samples,
 * m = 2 side: acdc_compiler_fourier_values() along each axis, D_ext(κy, κx) = d(κy', κx')
 * with κ' the folded frequency, 0 where either axis is at κ = side.  Errors:
 * ACDC_UTIL_ENOMEM. */
int acdc_compiler_fourier_values2(const double *d, size_t side, double *out);

/* Pixel-aware Fourier mask (profile rules.fourier_oversample = R >= 1): fm = R·2n real
 * values on Fourier samples of 1/(R·2n) cycles per sample each, such that a stage with
 * pixels of finite width computes the layer as exactly as point samples would.  The
 * continuous 4f kernel of a mask w is, for a displacement of s samples,
 *   T(s) = P_F(s/fm) · (1/fm) Σ_p w_p A(t_p) e^{i2π s t_p},  t_p = (p − fm/2)/fm,
 * with A(t) = P_prev(t)·P_next(t) the transforms of the pixels before and after the
 * stage (input modulator or image mask; camera on a chain's last stage) and P_F that of
 * a Fourier sample, which apodises the kernel.  Asking T(s) = h(s), the point design's
 * periodic kernel (1/2n) Σ_κ D_ext,κ e^{i2πκs/2n}, for |s| <= fm/2 gives
 *   w_p = Σ_s h(s)/P_F(s/fm) · e^{−i2π s t_p} / A(t_p)
 * (one FFTW transform each way).  With R = 1 and point pixels it is
 * acdc_compiler_fourier_values().  first/last: the stage opens/closes its chain.
 * Errors: ACDC_UTIL_ENOMEM. */
int acdc_compiler_fourier_design(const acdc_compiler_profile *p, const double *d,
                                 size_t n, int first,
                                 int last, double *out);

/* The same for a rank-1 or rank-2 system of superpixel k: rank 2 designs (R·2 side)²
 * values, per axis as above -- the pixels' transforms are separable, P(tx)·P(ty), each
 * acdc_optics_modulator_transfer_k() of a k x k superpixel -- with a 2D kernel h(sy, sx) and
 * 2D FFTW transforms.  Rank 1 ignores k and is acdc_compiler_fourier_design(). */
int acdc_compiler_fourier_design_k(const acdc_compiler_profile *p, int rank, int k, const double *d,
                                   size_t side, int first, int last, double *out);

/* One axis of the rank-2 design as a matrix: out (R·2 side rows × side columns,
 * row-major) maps a column of d to its Fourier samples with superpixel k's transforms.
 * Every step of the rank-2 design is separable, so its mask is D d Dᵀ for d as a
 * side × side grid -- the numbers acdc_compiler_fourier_design_k() computes with 2D
 * transforms (tests/test_compiler_surrogate.c checks).  Errors: ACDC_UTIL_ENOMEM. */
int acdc_compiler_fourier_design_axis(const acdc_compiler_profile *p, int k, size_t side, int first,
                                      int last, double *out);

/* Bias folding: the constant a chain adds to its optical output — every a_bias (but the
 * first layer's, which the input electronics add) and d_bias of the chain's layers,
 * propagated through the chain's linear maps.  bias receives n values.  Errors:
 * ACDC_UTIL_ENOMEM. */
int acdc_compiler_fold_biases(const acdc_model *m, size_t first, size_t count, double *bias);

/* Quantisation: realises ideal transmittances (m values in [−1, 1]) on modulator dev
 * (acdc_optics_modulator_value(): complex, amplitude -- negative values refused here --, or
 * phase with double-phase pairs), keeping the device codes.  ideal != 0 keeps them
 * exact, without codes.  what
 * names the mask in messages.  Fills mask (whose ideal[] and m must be set) and
 * allocates realised and codes.  Errors: ACDC_UTIL_EDATA (a value the device cannot show). */
int acdc_compiler_realise(acdc_compiler_mask *mask, const acdc_optics_modulator *dev, int ideal,
                          const char *what);

/* Design rules: device pixel counts, focal length, numerical aperture, optical train
 * length.  Errors: ACDC_UTIL_EDATA naming the element and the limit it breaks; warnings
 * (pitch mismatches) are appended to s->warnings. */
int acdc_compiler_check_rules(acdc_compiler_system *s);

/* Calibration (`acdc compile --calibrate DATA.h5`): runs `rows` rows of x (rows × n_in,
 * the model's inputs as /x holds them) through the numeric model and measures, per
 * chain, the field the light puts on the camera (units of E0): its largest magnitude and
 * its rms over every component and row.  Then designs every chain's detection for that
 * range (acdc_compiler_detection_design()) and marks s as calibrated.  The compiler may use
 * the numeric model; the simulator never does.  Errors: ACDC_UTIL_EUSAGE (no rows),
 * ACDC_UTIL_ENOMEM, those of acdc_compiler_detection_design(). */
int acdc_compiler_calibrate(acdc_compiler_system *s, const double *x, size_t rows);

/* Without data: acdc_compiler_calibrate() on `rows` synthetic inputs, each value drawn from
 * N(mean, scale^2) with the model's input standardisation (N(0, 1) without one), seed
 * 1 -- the inputs the model was trained to see, standardised, without their
 * correlations.  acdc_compiler_compile() designs every system so, with
 * ACDC_COMPILER_SYNTHETIC_ROWS rows, and marks it ACDC_COMPILER_SIGNAL_SYNTHETIC.  Measured on the
 * shipped 2D model (slm1080, 200 test images, S = 2): 86.0 % against 85.5 % calibrated
 * on the training set and 71.5 % with the masks' estimate (compiler/README.md,
 * 'Detection').  Errors: those of acdc_compiler_calibrate(). */
#define ACDC_COMPILER_SYNTHETIC_ROWS 256
int acdc_compiler_calibrate_synthetic(acdc_compiler_system *s, size_t rows);

/* The whole compiler: every pass in order.  *out receives a new system (caller frees
 * with acdc_compiler_system_free()).  Errors: ACDC_UTIL_EDATA (a design rule or a device limit,
 * naming the element), ACDC_UTIL_ENOMEM. */
int acdc_compiler_compile(const acdc_model *m, const acdc_compiler_profile *p,
                          acdc_compiler_system **out);

#endif
