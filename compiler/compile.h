/* compiler/compile.h -- model → optical system: the passes of `acdc compile`.
 *
 * Each pass is a function of its own, documented in compiler/README.md and tested on its
 * own (tests/test_compiler_compile.c).  compiler_compile() runs them in order.
 */
#ifndef COMPILER_COMPILE_H
#define COMPILER_COMPILE_H

#include <complex.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler/profile.h"
#include "compiler/system.h"
#include "models/model.h"

/* Grouping: splits the model's layers into chains of layers with no ReLU and no
 * permutation between them (a chain ends after a layer that has either).  Writes the
 * first layer of each chain to first[] and their lengths to count[] (each with room for
 * n_layers entries) and returns the number of chains. */
size_t compiler_group(const acdc_model *m, size_t *first, size_t *count);

/* Layout: the sample of an m = 2n plane that carries component j on its left (side 0)
 * or right (side 1) copy, for layout parity q (see system.h). */
size_t compiler_layout(size_t n, int q, size_t j, int side);

/* The Fourier-plane mask of d (length n) on m = 2n centred samples, real: sample k holds
 * D_ext at frequency (k − n) mod m, D_ext,κ = d_κ (κ < n), d_{m−κ} (κ > n), 0 at κ = n. */
void compiler_fourier_values(const double *d, size_t n, double *out);

/* Bias folding: the constant a chain adds to its optical output — every a_bias (but the
 * first layer's, which the input electronics add) and d_bias of the chain's layers,
 * propagated through the chain's linear maps.  bias receives n values.  Errors:
 * UTIL_ENOMEM. */
int compiler_fold_biases(const acdc_model *m, size_t first, size_t count, double *bias);

/* Quantisation: realises ideal transmittances (m values in [−1, 1]) on modulator dev:
 * complex (amplitude and phase levels), amplitude (levels; negative values refused),
 * phase (double-phase pairs θ = φ ± arccos|t|).  ideal != 0 keeps them exact.  what
 * names the mask in messages.  Fills mask (whose ideal[] and m must be set) and
 * allocates realised and codes.  Errors: UTIL_EDATA (a value the device cannot show). */
int compiler_realise(compiler_mask *mask, const compiler_modulator *dev, int ideal,
                     const char *what);

/* One value t in [−1, 1] as the pixels of modulator dev show it: px receives the
 * transmittance of each pixel and the count is returned — 1, or 2 for a phase-only
 * device's double-phase pair (left pixel θ1 = φ + arccos|t|, right θ2 = φ − arccos|t|).
 * Quantised to the device's levels; codes as compiler_realise_value(). */
int compiler_realise_pixels(double t, const compiler_modulator *dev, double complex px[2],
                            int32_t *code0, int32_t *code1);

/* One value t in [−1, 1] as modulator dev shows it (quantised; double-phase for phase
 * devices, a negative value shown as 0 on an amplitude device), with its device codes
 * (code1 unused for amplitude devices; either pointer may be NULL). */
double complex compiler_realise_value(double t, const compiler_modulator *dev,
                                      int32_t *code0, int32_t *code1);

/* Device pixels per sample: 2 for a phase-only device (double-phase pairs, two pixels
 * side by side along x), else 1; always 1 for an ideal profile.  The sample pitch of a
 * plane is that many device pixel pitches. */
int compiler_pixels_per_sample(const compiler_modulator *dev, int ideal);
double compiler_sample_pitch(const compiler_modulator *dev, int ideal);

/* Gain bookkeeping: measures the 4f constant g (output on the axis for a unit impulse on
 * the axis, unit mask) with the optics library's ideal lenses for system s's sampling. */
int compiler_measure_4f(const compiler_system *s, double complex *g);

/* Design rules: device pixel counts, focal length, numerical aperture, optical train
 * length.  Errors: UTIL_EDATA naming the element and the limit it breaks; warnings
 * (pitch mismatches) are appended to s->warnings. */
int compiler_check_rules(compiler_system *s);

/* The whole compiler: every pass in order.  *out receives a new system (caller frees
 * with compiler_system_free()).  Errors: UTIL_EDATA (a design rule or a device limit,
 * naming the element), UTIL_ENOMEM. */
int compiler_compile(const acdc_model *m, const compiler_profile *p, compiler_system **out);

#endif
