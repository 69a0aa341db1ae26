/* SPDX-License-Identifier: GPL-3.0-or-later */
/* optics/propagate.h -- planned Fourier-optics propagators.
 *
 * Every propagator is a plan: made once per grid (FFTW plans, transfer functions and
 * phase tables computed at plan time), then applied to any number of batches of
 * fields on that grid.  Application is parallel with OpenMP over the fields of a batch
 * (rank 1) or over rows and blocks of columns (rank 2); every row and column is
 * transformed by the same single-threaded FFTW plan whichever thread runs it, so the
 * results are bit-for-bit independent of the number of threads.
 *
 * Sign conventions: fields carry exp(-i w t) time dependence, a plane wave travelling
 * towards +z is exp(+i k z), the forward Fourier transform has kernel exp(-i 2 pi x u).
 * Coordinates follow the centring convention of optics/field.h: x_j = (j - floor(M/2)) dx.
 */
#ifndef ACDC_OPTICS_PROPAGATE_H
#define ACDC_OPTICS_PROPAGATE_H

#include "optics/field.h"

#include <complex.h>
#include <stddef.h>

/* FFTW planning effort for plans made after the call: 0 = FFTW_ESTIMATE (default,
 * reproducible from run to run), 1 = FFTW_MEASURE (faster transforms, slower planning;
 * the chosen algorithm, and so the last bits of results, may vary between runs). */
void acdc_optics_set_fft_effort(int measure);

/* The FFT work done so far in this process, for benchmarks that compare a run with
 * the transforms it needed: every transform the optics ran (lenses, free space,
 * point-spread functions, their set-up), counted by shape -- rank 1: transforms of n
 * points (a batch of howmany counts howmany), rank 2: n x n transforms.  Counting is
 * always on (one atomic add per call into FFTW).  acdc_optics_fft_tally() fills up to
 * cap shapes into out and returns how many there are; *other (if not NULL) gets the
 * transforms of shapes beyond its table of 32.  Reset only while no optics run. */
typedef struct acdc_optics_fft_count {
    int rank;
    size_t n;
    unsigned long long transforms;
} acdc_optics_fft_count;

void acdc_optics_fft_tally_reset(void);
size_t acdc_optics_fft_tally(acdc_optics_fft_count *out, size_t cap,
                             unsigned long long *other);

/* ---------------------------------------------------------------------------------
 * Ideal Fourier-transform lens: input in the front focal plane, output in the back
 * focal plane (Goodman eq. 5-19):
 *   rank 2:  U_f(u, v) = 1/(i lambda f) * iint U_0(x, y) exp(-i 2pi (x u + y v)/(lambda f)) dx dy
 *   rank 1:  U_f(u)    = 1/sqrt(i lambda f) * int U_0(x) exp(-i 2pi x u/(lambda f)) dx
 * sampled exactly as a centred DFT.  Input M samples at pitch dx, output M samples at
 * pitch du = lambda f / (M dx) (equal pitches need f = M dx^2 / lambda).  With c =
 * floor(M/2), output sample k is at u_k = (k - c) du and
 *   out[k] = dx^rank * prefactor * sum_j in[j] exp(-i 2pi (j - c)(k - c) / M).
 * The operator is unitary in L2 (power in watts is conserved to rounding), and its
 * adjoint is its inverse, the same transform with +i and 1/sqrt(-i lambda f).
 *
 * WHERE THE OUTPUT LANDS.  The zero spatial frequency lands on index c = floor(M/2).
 * Two forward lenses in a row (a 4f system with f1 = f2) give out[j] = g * in[(2c - j) mod M]
 * with g = -i (rank 1) or -1 (rank 2): the image is x -> -x about the axis.
 * For even M the axis is sample M/2, so the flip maps index j to M - j (index 0 maps
 * to itself, being its own mirror image on the periodic grid); for odd M the flip maps
 * j to M - 1 - j, a plain reversal of the array.  (g is the product of the two
 * prefactors, 1/(i lambda f) * lambda f per axis pair.)  For a 2N-sample half-sample-symmetric extension
 * (u_0 .. u_{N-1}, u_{N-1} .. u_0), which is symmetric about index N - 1/2, the even-M
 * flip j -> 2N - j maps it onto itself shifted by one sample; reversal j -> 2N-1-j
 * would map it onto itself exactly.
 * --------------------------------------------------------------------------------- */
typedef struct acdc_optics_lens_plan acdc_optics_lens_plan;

/* Plans the lens transform for fields on grid in with focal length focal_m (m, > 0).
 * Rank 2 needs nx == ny (the output pitch must be the same along both axes).
 * *out receives a new plan; caller frees with acdc_optics_lens_plan_free().
 * Errors: ACDC_UTIL_EUSAGE (bad grid, focal length not positive/finite, nx != ny),
 * ACDC_UTIL_ENOMEM. */
int acdc_optics_lens_plan_alloc(acdc_optics_lens_plan **out, const acdc_optics_grid *in,
                                double focal_m);

/* Frees a plan; NULL is a no-op. */
void acdc_optics_lens_plan_free(acdc_optics_lens_plan *p);

/* The grid of the front focal plane (input) and back focal plane (output). */
const acdc_optics_grid *acdc_optics_lens_plan_input(const acdc_optics_lens_plan *p);
const acdc_optics_grid *acdc_optics_lens_plan_output(const acdc_optics_lens_plan *p);

/* Applies the lens: in on the input grid; out (which may be in itself) of the same
 * rank, sizes, wavelength and batch size, whose pitch is set to the output pitch.
 * Errors: ACDC_UTIL_EUSAGE (NULL, grid or batch mismatch). */
int acdc_optics_lens_forward(const acdc_optics_lens_plan *p, const acdc_optics_field *in,
                             acdc_optics_field *out);

/* The centred m x m block of the forward lens's output (the block an M x M plane centred
 * like every plane occupies, field.h), for each field of the batch: out gets nb x m x m
 * values, row-major, equal bit for bit to those acdc_optics_lens_forward() puts there.
 * Only the transforms the block needs are run (every row, the block's columns); in
 * (rank 2) is overwritten.  Errors: ACDC_UTIL_EUSAGE (NULL, grid mismatch, rank 1, m
 * larger than the grid). */
int acdc_optics_lens_forward_centre(const acdc_optics_lens_plan *p, acdc_optics_field *in,
                                    size_t m, double complex *out);

/* Applies the adjoint (= inverse) lens: in on the output grid, out (may be in) gets
 * the input grid.  Errors as forward. */
int acdc_optics_lens_adjoint(const acdc_optics_lens_plan *p, const acdc_optics_field *in,
                             acdc_optics_field *out);

/* A 4f pass fused row by row (the fields stay in cache between the steps): lens l1,
 * then multiplication by the transmission mask (ny*nx complex values on l1's output
 * grid, shared by every field of the batch; NULL for none), then lens l2, whose input
 * grid must equal l1's output grid.  out (may be in) gets l2's output grid.
 * Errors: ACDC_UTIL_EUSAGE (NULL plans, grid or batch mismatch). */
int acdc_optics_4f_apply(const acdc_optics_lens_plan *l1, const double complex *mask,
                         const acdc_optics_lens_plan *l2, const acdc_optics_field *in,
                         acdc_optics_field *out);

/* A 4f system (lens l1, mask, lens l2: as acdc_optics_4f_apply()) seen between the
 * centred m x m windows of its input and output planes: its coherent point-spread
 * function, computed once, and applied to inputs confined to the window by FFTs of
 * 2m a side instead of the planes' L (the image of a window is a correlation of its
 * m x m values with (2m - 1)² values of the point-spread function; propagate.c derives
 * it).  The light is the same as acdc_optics_4f_apply()'s, to rounding (tests:
 * 1e-12 relative).  Rank 2, square planes, 2m - 1 <= L. */
typedef struct acdc_optics_4f_psf acdc_optics_4f_psf;

/* The window's point-spread function of l1, mask (L x L on l1's output grid, or NULL)
 * and l2.  Errors: ACDC_UTIL_EUSAGE (NULL plans, rank 1, planes that do not match, m out
 * of range), ACDC_UTIL_ENOMEM. */
int acdc_optics_4f_psf_alloc(acdc_optics_4f_psf **out, const acdc_optics_lens_plan *l1,
                             const double complex *mask, const acdc_optics_lens_plan *l2,
                             size_t m);

/* Frees it; NULL is a no-op. */
void acdc_optics_4f_psf_free(acdc_optics_4f_psf *p);

/* The sum of count systems' images, psf[t] applied to in[t] (fields on l1's input grid
 * and batch alike, read in the centred window only: zero elsewhere), in the output
 * window: out gets nb x m x m values, row-major.  Fields in parallel, one per thread;
 * the values do not depend on the threads.  Errors: ACDC_UTIL_EUSAGE (NULL, mismatched
 * windows, grids or batches), ACDC_UTIL_ENOMEM. */
int acdc_optics_4f_psf_apply(const acdc_optics_4f_psf *const *psf,
                             const acdc_optics_field *const *in, size_t count,
                             double complex *out);

/* ---------------------------------------------------------------------------------
 * Free-space propagation over a distance z (m, either sign) on a fixed grid.
 * --------------------------------------------------------------------------------- */
enum acdc_optics_method {
    ACDC_OPTICS_AUTO = 0,       /* choose from the sampling conditions (acdc_optics_prop_advise) */
    ACDC_OPTICS_FRESNEL_TF,     /* Fresnel transfer function H = e^{ikz} exp(-i pi lambda z f^2);
                              2 FFTs, periodic window; accurate for dx >= lambda z / L */
    ACDC_OPTICS_FRESNEL_IR,     /* Fresnel impulse response h = e^{ikz}/(i lambda z)
                              exp(i pi r^2/(lambda z)) (1/sqrt(i lambda z) in 1D),
                              sampled on a 2x zero-padded window and transformed once
                              at plan time (2 FFTs per field): linear convolution, no
                              wrap-around; accurate for dx <= lambda z / (2L) */
    ACDC_OPTICS_ASM_BL          /* band-limited angular spectrum, exact scalar diffraction,
                              2x zero padding per axis, no wrap-around (Matsushima &
                              Shimobaba, Opt. Express 17, 19662 (2009), eq. 13) */
};

/* "auto", "fresnel-tf", "fresnel-ir", "asm-bl"; "?" for anything else. */
const char *acdc_optics_method_name(enum acdc_optics_method m);

/* Advice on a propagation of z_m over grid g before planning it.  For requested ==
 * ACDC_OPTICS_AUTO picks a method:
 *   |z| <= 2 dx L / lambda   -> asm-bl (exact scalar; the band limit keeps every
 *                               frequency up to Nyquist; no wrap-around)
 *   |z| >  2 dx L / lambda   -> fresnel-ir if its kernel is sampled (dx <= lambda z
 *                               / (2L) on every axis) and the paraxial phase error
 *                               over the window is below 0.1 rad, else asm-bl (with a
 *                               warning that the band limit discards frequencies)
 * with L = (samples) * dx the window width (smallest axis for the upper bound of the
 * transfer-function regime, largest for the impulse-response regime).  Otherwise
 * checks the requested method.  Writes the chosen method to *chosen (may be NULL), the
 * number of warnings (aliasing, band limit, paraxial error) to *nwarn (may be NULL) and
 * a human-readable explanation, one sentence per line, to buf (size bytes, may be NULL
 * / 0; truncated safely).  Errors: ACDC_UTIL_EUSAGE (bad grid, z not finite, bad method). */
int acdc_optics_prop_advise(const acdc_optics_grid *g, double z_m,
                            enum acdc_optics_method requested,
                            enum acdc_optics_method *chosen, int *nwarn, char *buf, size_t size);

typedef struct acdc_optics_prop acdc_optics_prop;

/* Plans a propagation of z_m metres over grid g with the given method (ACDC_OPTICS_AUTO
 * chooses by acdc_optics_prop_advise()).  Planning never refuses a method for poor sampling:
 * ask acdc_optics_prop_advise() or acdc_optics_prop_check_field() for warnings.  *out receives a
 * new plan; caller frees with acdc_optics_prop_free().  Errors: ACDC_UTIL_EUSAGE (bad grid, z not
 * finite, z == 0 with fresnel-ir, bad method), ACDC_UTIL_ENOMEM. */
int acdc_optics_prop_alloc(acdc_optics_prop **out, const acdc_optics_grid *g, double z_m,
                           enum acdc_optics_method method);

/* Frees a plan; NULL is a no-op. */
void acdc_optics_prop_free(acdc_optics_prop *p);

/* The method a plan uses (never ACDC_OPTICS_AUTO) and its explanation text. */
enum acdc_optics_method acdc_optics_prop_method(const acdc_optics_prop *p);
const char *acdc_optics_prop_explanation(const acdc_optics_prop *p);

/* Propagates every field of in by z into out (same grid and batch; out may be in).
 * Errors: ACDC_UTIL_EUSAGE (NULL, grid or batch mismatch). */
int acdc_optics_prop_apply(const acdc_optics_prop *p, const acdc_optics_field *in,
                           acdc_optics_field *out);

/* The adjoint operator (conjugate transfer function; for fresnel-tf and fresnel-ir,
 * which are unitary on the periodic window, this equals propagation by -z).
 * Errors as acdc_optics_prop_apply(). */
int acdc_optics_prop_adjoint(const acdc_optics_prop *p, const acdc_optics_field *in,
                             acdc_optics_field *out);

/* Warns about wrap-around for this particular input before running: measures the
 * extent of the light in f (samples above 1e-6 of the peak intensity), adds the
 * largest lateral walk-off the method allows (lambda |z| / (2 dx) at the Nyquist
 * frequency, capped by the band limit for asm-bl) and compares with the room the
 * window leaves (L/2 beyond the axis for periodic fresnel-tf, 3L/2 for padded asm-bl;
 * padded fresnel-ir cannot wrap).  Returns the number of warnings (0 or
 * 1 per axis) and describes them in buf; a negative util status on bad arguments. */
int acdc_optics_prop_check_field(const acdc_optics_prop *p, const acdc_optics_field *f, char *buf,
                                 size_t size);

#endif
