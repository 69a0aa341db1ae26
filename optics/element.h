/* SPDX-License-Identifier: GPL-3.0-or-later */
/* optics/element.h -- thin optical elements: lenses, apertures, pixelated masks.
 *
 * An element is a transmittance t(x, y) that multiplies the field in one plane.  It is
 * defined in continuous coordinates (metres, axis at x = y = 0, see optics/field.h)
 * and sampled onto a field's grid by area averaging: each grid sample takes the mean
 * of t over its pitch x pitch cell, estimated at oversample x oversample sub-points
 * (oversample per axis, 1 = value at the sample centre).  So the dead space between
 * modulator pixels and the grey edge of an aperture are simulated, not assumed.
 * oversample = 0 asks for band-limited sampling instead (rectangular apertures and
 * rank-1 slits only): t convolved with the grid's ideal low-pass filter, whose samples
 * carry the aperture's exact spectrum up to Nyquist and nothing aliased from beyond.
 * Use it when comparing with continuous diffraction theory in the near field.
 * Rank-1 fields see t(x, 0).
 *
 * Every element can be displaced: laterally by (dx, dy) metres, t(x - dx, y - dy), and
 * axially by dz metres, which is applied exactly as free space: propagate +dz, apply
 * t, propagate -dz (band-limited angular spectrum, so a displaced element in the
 * front focal plane of a Fourier lens produces the defocus it would in the lab).
 */
#ifndef ACDC_OPTICS_ELEMENT_H
#define ACDC_OPTICS_ELEMENT_H

#include "optics/field.h"
#include "optics/lens.h"

#include <complex.h>
#include <stddef.h>

typedef struct acdc_optics_element acdc_optics_element;

/* A lens of model paraxial or corrected with its wavefront error (optics/lens.h: the
 * transmittance, the Zernike terms, rank 1 and 2) inside a circular stop of diameter
 * stop_m (a slit of that width for rank-1 fields; 0 = none).  The lens is copied.
 * *out receives a new element; caller frees with acdc_optics_element_free().  Errors:
 * those of acdc_optics_lens_check() (ACDC_UTIL_EUSAGE), ACDC_UTIL_EUSAGE (stop negative or not
 * finite), ACDC_UTIL_ENOMEM. */
int acdc_optics_lens_element_alloc(acdc_optics_element **out, const acdc_optics_lens *lens,
                                   double stop_m);

/* Thin lens of focal length focal_m (m, nonzero; negative for a diverging lens):
 * t = exp(-i k (x^2 + y^2) / (2 f)) (Goodman eq. 5-10), k = 2 pi / lambda of the
 * field, inside a circular aperture of diameter aperture_m (a slit of that width for
 * rank-1 fields; 0 = unlimited): the paraxial lens without a wavefront error.  *out
 * receives a new element; caller frees with acdc_optics_element_free().  Errors:
 * ACDC_UTIL_EUSAGE (f zero or not finite, aperture negative or not finite), ACDC_UTIL_ENOMEM. */
int acdc_optics_thin_lens_alloc(acdc_optics_element **out, double focal_m, double aperture_m);

/* Rectangular aperture (t = 1 inside, 0 outside), widths in metres (> 0), centred on
 * the axis.  Rank-1 fields use width_x_m only.  Errors: ACDC_UTIL_EUSAGE (widths not
 * positive and finite), ACDC_UTIL_ENOMEM. */
int acdc_optics_aperture_rect_alloc(acdc_optics_element **out, double width_x_m, double width_y_m);

/* Circular aperture of diameter diameter_m (> 0).  Rank-1 fields see a slit of that
 * width.  Errors: ACDC_UTIL_EUSAGE, ACDC_UTIL_ENOMEM. */
int acdc_optics_aperture_circ_alloc(acdc_optics_element **out, double diameter_m);

/* Pixelated mask (modulator or fabricated element): npx x npy pixels (npy = 1 for a
 * line device) at pitch_m, centred with the convention of field.h (pixel i at
 * (i - floor(npx/2)) pitch), each pixel a square active area of side fill * pitch
 * (0 < fill <= 1; 1D devices: width fill * pitch) transmitting t[j * npx + i], the dead
 * space around it transmitting dead (0 for an opaque grid, 1 for a clear one).
 * Outside the device t = dead as well.  The values are copied.
 * Errors: ACDC_UTIL_EUSAGE (zero counts, pitch or fill out of range, a value not finite or
 * |t| > 1 + 1e-12: passive devices do not amplify), ACDC_UTIL_ENOMEM. */
int acdc_optics_mask_alloc(acdc_optics_element **out, size_t npx, size_t npy, double pitch_m,
                           double fill, const double complex *t, double complex dead);

/* Amplitude-only mask: t = a[i] in [0, 1], quantised to 2^bits levels 0, 1/(2^b - 1),
 * ..., 1 when bits > 0 (bits = 0: continuous).  Errors as acdc_optics_mask_alloc(), and
 * ACDC_UTIL_EUSAGE for a value outside [0, 1] or bits outside 0..24. */
int acdc_optics_mask_amplitude_alloc(acdc_optics_element **out, size_t npx, size_t npy,
                                     double pitch_m, double fill, const double *a, int bits,
                                     double complex dead);

/* Phase-only mask: t = exp(i phi[i]), phi in radians (any real value), quantised to
 * 2^bits levels 2 pi m / 2^bits when bits > 0.  Errors as above (bits 0..24). */
int acdc_optics_mask_phase_alloc(acdc_optics_element **out, size_t npx, size_t npy, double pitch_m,
                                 double fill, const double *phase_rad, int bits,
                                 double complex dead);

/* Frees an element; NULL is a no-op. */
void acdc_optics_element_free(acdc_optics_element *e);

/* Displaces the element laterally by (dx_m, dy_m) and axially by dz_m (metres, finite).
 * Errors: ACDC_UTIL_EUSAGE (NULL, not finite). */
int acdc_optics_element_set_offset(acdc_optics_element *e, double dx_m, double dy_m, double dz_m);

/* Samples the transmittance (lateral offset included, axial offset not) onto grid g:
 * t receives ny * nx values.  Errors: ACDC_UTIL_EUSAGE (NULL, bad grid, oversample outside
 * 0..1024, 0 for an element other than a rectangle or slit). */
int acdc_optics_element_sample(const acdc_optics_element *e, const acdc_optics_grid *g,
                               int oversample,
                               double complex *t);

/* Multiplies every field of f by the sampled transmittance, with the axial offset
 * applied as free-space propagation.  Allocates the sample array (and, with an axial
 * offset, propagation plans cached in e for f's grid: do not share e between threads
 * then).  For repeated use on one grid, sample once with acdc_optics_element_sample() and
 * call acdc_optics_field_multiply().  Errors: ACDC_UTIL_EUSAGE, ACDC_UTIL_ENOMEM. */
int acdc_optics_element_apply(acdc_optics_element *e, acdc_optics_field *f, int oversample);

/* Multiplies every field of f by t (ny * nx values).  Errors: ACDC_UTIL_EUSAGE (NULL). */
int acdc_optics_field_multiply(acdc_optics_field *f, const double complex *t);

/* Quantises phases in place to 2^bits levels 2 pi m / 2^bits, m = 0 .. 2^bits - 1
 * (result in [0, 2 pi)), with acdc_optics_phase_level() (device.h).  Errors: ACDC_UTIL_EUSAGE (bits outside 1..24, NaN). */
int acdc_optics_quantise_phase(double *phase_rad, size_t n, int bits);

/* Quantises amplitudes in [0, 1] in place to 2^bits levels m / (2^bits - 1), with
 * acdc_optics_amplitude_level() (device.h).
 * Errors: ACDC_UTIL_EUSAGE (bits outside 1..24, a value outside [0, 1] or NaN). */
int acdc_optics_quantise_amplitude(double *a, size_t n, int bits);

#endif
