/* SPDX-License-Identifier: GPL-3.0-or-later */
/* optics/device.h -- spatial light modulators as devices: how a device shows a value.
 *
 * A modulator is a line of pixels (pitch, fill factor, count) that modulates amplitude,
 * phase or both on discrete levels, each pixel with a fixed random phase error.  This
 * module is the one place where a wanted transmittance t in [-1, 1] becomes what the
 * device shows:
 *   - quantisation to the device's levels (the project's one quantiser);
 *   - double-phase pairs on phase-only devices (Hsueh & Sawchuk 1978): A e^{i phi} as
 *     the mean of two pixels e^{i(phi +- theta)}, theta = arccos A, side by side;
 *   - the SAMPLE: the pixels that carry one value (two for a double-phase pair, else
 *     one), its pitch and its transform (the pixels' own diffraction);
 *   - the device laid over a sampled axis (acdc_optics_devmap): fill factor, opaque dead
 *     space and surround, lateral displacement, per-pixel phase errors.
 * The compiler uses it to design masks, the simulator to show them; it knows nothing
 * of ACDC.
 */
#ifndef ACDC_OPTICS_DEVICE_H
#define ACDC_OPTICS_DEVICE_H

#include <complex.h>
#include <stddef.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

/* What a modulator can show in one pixel. */
enum acdc_optics_modulation {
    ACDC_OPTICS_MOD_COMPLEX = 0,  /* amplitude 0..1 and phase: any |t| <= 1 */
    ACDC_OPTICS_MOD_AMPLITUDE,    /* amplitude 0..1 only: t >= 0 */
    ACDC_OPTICS_MOD_PHASE         /* phase only, |t| = 1; real values by double-phase pairs */
};

/* Where a phase-only device puts the two phases theta1, theta2 of a double-phase value.
 * 2D systems, inside a k x k superpixel (k even): COLUMNS: pixel column ix shows theta1
 * for even ix, theta2 for odd (pairs along x): the pair's difference term is modulated
 * at k/2 cycles per sample along x.  CHECKERBOARD: theta1 where ix + iy is even: the
 * difference term sits at (k/2, k/2) cycles per sample, the corner of the spectrum.
 * ROWS: theta1 on even pixel rows iy, theta2 on odd (pairs along y).
 * 1D systems, on a strip of the device's rows: COLUMNS and CHECKERBOARD put a value's two
 * pixels side by side along x (two pixel columns per sample): the difference term is
 * modulated at the pixel Nyquist frequency along x and part of it falls inside the
 * band the Fourier mask passes -- the pair's leakage.  ROWS: one pixel column per value,
 * theta1 on the strip's even rows and theta2 on its odd rows.  Along y the strip is
 * then a grating of period two rows: its zero order carries the sum term, (e^{i theta1}
 * + e^{i theta2}) / 2 -- the value -- and its first orders, leaving at +-lambda / (2
 * pitch), carry the difference term, which a slit in the Fourier plane (and the
 * camera's rows) stops.  A 1D simulation follows the line: it sees the zero order, the
 * mean of the two pixels with their own levels and phase errors (device.c; the slit's
 * separation is checked by tests/test_optics_device_rows.c with free-space propagation
 * along y). */
enum acdc_optics_dp_layout {
    ACDC_OPTICS_DP_COLUMNS = 0,
    ACDC_OPTICS_DP_CHECKERBOARD,
    ACDC_OPTICS_DP_ROWS
};

/* How a phase-only device's double-phase pair takes its two levels: chosen together
 * (the pair nearest the value among the rounded one and its neighbours,
 * acdc_optics_modulator_pixels()), or each phase rounded to its nearest level alone (what
 * every system compiled before the choice existed shows). */
enum acdc_optics_pair_levels {
    ACDC_OPTICS_PAIRS_JOINT = 0,
    ACDC_OPTICS_PAIRS_NEAREST
};

/* Room for a lookup-table path, terminator included. */
#define ACDC_OPTICS_LUT_PATH 160

typedef struct acdc_optics_modulator {
    char name[64];                  /* e.g. "4K LCoS phase SLM, 8 bit" */
    enum acdc_optics_modulation modulation;
    double pitch_m;                 /* pixel pitch, > 0 */
    double fill;                    /* fill factor, (0, 1] */
    size_t pixels;                  /* pixels along x available, >= 1 */
    int amplitude_bits;             /* levels 2^bits of amplitude; 0 = continuous */
    int phase_bits;                 /* levels 2^bits of phase over 2 pi; 0 = continuous */
    double phase_error_rad;         /* rms phase error (fabrication, drive jitter), >= 0 */
    size_t rows;                    /* pixels along y (2D systems), >= 1; 0 reads as 1 */
    enum acdc_optics_dp_layout dp_layout;/* phase-only devices: where the two pixels of a
                                       double-phase value sit (enum above) */
    double frame_rate_hz;           /* new patterns per second it can show (a static
                                       element: 0); 0: not given (added with designed
                                       detection, last so that older initialisers hold) */
    double contrast;                /* amplitude modulation (complex and amplitude
                                       devices): the intensity ratio of its brightest to
                                       its darkest state; the amplitude cannot go below
                                       1/sqrt(contrast).  0: perfect (no floor) */
    double registration;            /* complex modulation on two devices: the amplitude
                                       device's image displaced along x on the phase
                                       device, in pixels (|r| <= 1); seen with resolved
                                       pixels of a line (acdc_optics_devmap, S >= 2; not in
                                       2D maps).  0: registered */
    /* How the device is built and driven -- what a lab needs to load or make it
     * (compiler/export.h); none of it changes the light in the unfolded optical train
     * the simulator runs. */
    int reflective;                 /* 1: a reflective device (LCoS, DMD), used in a
                                       folded train, its image mirrored (compiler/
                                       EXPORT.md); 0: transmissive */
    double refractive_index;        /* a fabricated element's material at the laser
                                       wavelength, which turns phase into etch depth;
                                       0: not given (not a fabricated element) */
    char lut[ACDC_OPTICS_LUT_PATH];      /* file of the drive table from a level's value to
                                       the device's grey level (compiler/EXPORT.md);
                                       "": linear, 2 pi (or full amplitude) over the grey
                                       range */
    enum acdc_optics_pair_levels pair_levels;/* phase-only devices with levels: how a
                                       double-phase pair's two levels are chosen (enum
                                       above; 0, the default: together) */
} acdc_optics_modulator;

/* The ideal counterpart of dev: the same name, pitch and pixel count, complex
 * modulation on continuous levels, fill factor 1, no phase error, perfect contrast. */
acdc_optics_modulator acdc_optics_modulator_ideal(const acdc_optics_modulator *dev);

/* Pixels per sample along a 1D system's line: 2 for a phase-only device whose
 * double-phase pairs sit side by side along x, 1 for one with ACDC_OPTICS_DP_ROWS (the
 * pair down the strip's rows) and every other device.  The sample pitch is that many
 * pixel pitches. */
int acdc_optics_modulator_pixels_per_sample(const acdc_optics_modulator *dev);
double acdc_optics_modulator_sample_pitch(const acdc_optics_modulator *dev);

/* Device codes per value: 1 for an amplitude device (its level), 2 for a complex one
 * (amplitude level, phase level) and for a phase-only one (the pair's two levels). */
int acdc_optics_modulator_codes(const acdc_optics_modulator *dev);

/* The normalised transform (1 at t = 0) of one sample of dev at spatial frequency t
 * in cycles per sample: sinc(fill t) for a pixel; for the wanted (sum) term of a
 * double-phase pair of pixels at +-1/4 sample, sinc(fill t / 2) cos(pi t / 2).
 * sinc(x) = sin(pi x)/(pi x). */
double acdc_optics_modulator_transfer(const acdc_optics_modulator *dev, double t);

/* The one quantiser.  Phase level of phase_rad on 2^bits levels 2 pi m / 2^bits:
 * m = round(wrap(phase) / 2 pi * 2^bits) mod 2^bits, wrap into [0, 2 pi); amplitude
 * level of a (clipped to [0, 1]) on 2^bits levels m / (2^bits - 1): m = round(a (2^bits
 * - 1)).  And the values of the levels.  bits in 1..24, phase finite. */
int32_t acdc_optics_phase_level(double phase_rad, int bits);
double acdc_optics_phase_of_level(int32_t level, int bits);
int32_t acdc_optics_amplitude_level(double a, int bits);
double acdc_optics_amplitude_of_level(int32_t level, int bits);

/* One value t in [-1, 1] as the pixels of dev show it: px receives each pixel's
 * transmittance and the count is returned -- 1, or 2 for a phase-only device's
 * double-phase pair: left pixel theta1 = phi + s arccos|t|, right theta2 = phi - s
 * arccos|t|, phi = 0 or pi for the sign, s = sign(t) (+1 for t = 0), so that the pair's
 * difference term (e^{i theta1} - e^{i theta2})/2 = i sqrt(1 - t^2) never changes sign
 * with the data: it stays near zero spatial frequency, where the pair's own transform
 * weights it by sin(pi u / 2) ~ 0, instead of leaking into the band wherever the data
 * change sign.  An amplitude device shows a negative value as 0; a complex one shows
 * |t| at phase 0 or pi (exactly t when its phase is continuous).  Values are quantised
 * to the device's levels; a double-phase pair's two levels are chosen together (unless
 * dev->pair_levels says ACDC_OPTICS_PAIRS_NEAREST: each phase rounded alone): of the
 * pair of rounded phases and its eight neighbours (either pixel one level up or down),
 * the pair whose mean (e^{i theta1} + e^{i theta2}) / 2 is nearest t, the rounded pair
 * unless another is strictly nearer (at 8 bits 0.0042 rms from t, t uniform in
 * [-1, 1], instead of rounding's 0.0058; tests/test_optics_device.c).  codes (may be NULL) receives acdc_optics_modulator_codes() codes.
 * A device of finite contrast C (amplitude and complex) spreads its amplitude levels
 * from a0 = 1/sqrt(C) to 1: the level of |t| is that of the drive (|t| - a0)/(1 - a0),
 * and an amplitude below a0 shows as a0. */
int acdc_optics_modulator_pixels(const acdc_optics_modulator *dev, double t, double complex px[2],
                                 int32_t codes[2]);

/* The same value as one point: the mean of its pixels (the pair's sum term). */
double complex acdc_optics_modulator_value(const acdc_optics_modulator *dev, double t,
                                           int32_t codes[2]);

/* A modulator laid over the nsamp samples of a simulated axis at oversampling S: the
 * device's samples are S simulated samples wide (simulated pitch = sample pitch / S),
 * its centre on the axis's (field.h), displaced by offset_samples device samples.
 *   S >= 2: each pixel is resolved -- its active area (fill x pitch) spread over the
 *     simulated samples it covers by exact overlap, the dead space between pixels and
 *     the surround of the device opaque, the two pixels of a double-phase pair apart,
 *     one phase error per pixel;
 *     A complex device with a registration error (two devices: amplitude imaged onto
 *     phase) shows, on each stretch where an amplitude pixel's active area overlaps a
 *     phase pixel's, that amplitude pixel's |value| with that phase pixel's phase;
 *   S == 1: each device sample is one point, the compiler's own model: it shows the
 *     mean of its pixels (a pair's sum term, none of its difference term), the fill
 *     factor is not seen, one phase error per sample.  A displaced device mixes
 *     neighbouring points by overlap, as a sample-wide pixel would.
 * A pair down a 1D strip's rows (ACDC_OPTICS_DP_ROWS) is one pixel column per sample at
 * any S, showing the strip's zero order (acdc_optics_devmap_set_strip()).
 * samples: device samples used (values shown per call).  *out receives a new map
 * (caller frees with acdc_optics_devmap_free()).  Errors: ACDC_UTIL_EUSAGE (bad geometry, S < 1,
 * offset not finite), ACDC_UTIL_ENOMEM. */
typedef struct acdc_optics_devmap acdc_optics_devmap;
int acdc_optics_devmap_alloc(acdc_optics_devmap **out, const acdc_optics_modulator *dev,
                             size_t samples,
                             int oversample, size_t nsamp, double offset_samples);
void acdc_optics_devmap_free(acdc_optics_devmap *d);

/* out (nsamp values) = scale x the device showing sample values t[0 .. samples), each
 * pixel (S = 1: each point) multiplied by exp(i N(0, sigma)) drawn from r in pixel order
 * (a strip's column: each of its two levels by acdc_optics_phase_error_mean() over the
 * strip's pairs; r may be NULL when sigma is 0).  work: room for acdc_optics_devmap_pixels() values.
 * The same as acdc_optics_devmap_sample() for every sample, then acdc_optics_devmap_place(). */
void acdc_optics_devmap_show(const acdc_optics_devmap *d, const double *t, double sigma, gsl_rng *r,
                             double complex scale, double complex *work, double complex *out);

/* The two steps of acdc_optics_devmap_show(), for callers that show one value on several
 * samples: px (acdc_optics_devmap_pixels_per_sample() values) = the pixels (S = 1: the point)
 * showing value t, without phase errors; out (nsamp values) = scale x the device whose
 * pixels transmit px[0 .. acdc_optics_devmap_pixels()). */
void acdc_optics_devmap_sample(const acdc_optics_devmap *d, double t, double complex *px);
void acdc_optics_devmap_place(const acdc_optics_devmap *d, const double complex *px,
                              double complex scale, double complex *out);
size_t acdc_optics_devmap_pixels_per_sample(const acdc_optics_devmap *d);

/* Pixels (S = 1: points) a map shows: samples x pixels per sample (S = 1: samples). */
size_t acdc_optics_devmap_pixels(const acdc_optics_devmap *d);

/* A 1D phase-only device whose double-phase pairs sit down a strip's rows
 * (ACDC_OPTICS_DP_ROWS) shows each value in one pixel column: rows / 2 pixels at theta1
 * on the strip's even rows and as many at theta2 on its odd rows, and the line the
 * simulation follows carries the strip's zero order in y -- the mean of every pixel of
 * the column, each with its own phase error.  This sets the strip's height in pixel
 * rows (an odd count drops its last row; fewer than 4: the pair alone, as a line device
 * would show it).  The map starts with the device's own rows (dev->rows); a system that
 * uses a shorter strip says so (compiler/system.h, acdc_compiler_strip_rows()).  Other
 * devices ignore it. */
void acdc_optics_devmap_set_strip(acdc_optics_devmap *d, size_t rows);

/* The pixels of such a column on each of its two levels, for a strip of `rows` rows:
 * rows / 2, or 1 below 4 rows. */
size_t acdc_optics_strip_level_pixels(size_t rows);

/* The mean of count unit phasors exp(i e), the e independent N(0, sigma^2), drawn from
 * r: the zero order of count pixels that show one level, each with its own phase error.
 * count <= 32: the mean of count draws (count = 1: exp(i e), one draw); above, a draw
 * of its Gaussian limit, the same mean exp(-sigma^2 / 2) and the same (uncorrelated)
 * variances (1 - exp(-sigma^2))^2 / (2 count) of the real part and (1 - exp(-2 sigma^2))
 * / (2 count) of the imaginary part -- two draws instead of count
 * (tests/test_optics_device_rows.c holds the limit to the sum). */
double complex acdc_optics_phase_error_mean(gsl_rng *r, double sigma, size_t count);

/* ---------------------------------------------------------------------------------
 * 2D devices (spherical-lens systems).  A sample is a SUPERPIXEL of k x k device
 * pixels (k >= 1; even on a phase-only device, whose double-phase value needs two
 * pixels, placed by dev->dp_layout), so samples are square whatever the modulation.
 * --------------------------------------------------------------------------------- */

/* The normalised transform (1 at t = 0), along one axis, of a k x k superpixel of dev
 * showing one value (a double-phase value's sum term), t in cycles per sample: the
 * pixel's sinc(fill t / k) times the array factor of k pixels, sin(pi t) / (k sin(pi t /
 * k)).  k = 1 is acdc_optics_modulator_transfer() of a one-pixel sample; for k = 2 along x it
 * is the 1D double-phase pair's. */
double acdc_optics_modulator_transfer_k(const acdc_optics_modulator *dev, int k, double t);

/* A 2D modulator laid over an nsamp x nsamp simulated plane at oversampling S: its
 * samples x samples superpixels of k x k pixels, each sample S x S simulated samples
 * (simulated pitch k pitch / S), centred on the plane's axis (field.h), displaced by
 * (offset_x, offset_y) device samples.  Rows and columns are laid exactly as
 * acdc_optics_devmap lays a line: S >= 2 resolves every pixel (fill factor, opaque dead
 * space and surround, the pixels of a double-phase value apart, one phase error per
 * pixel); S == 1 shows each sample as one point (the mean of its pixels: a
 * double-phase value's sum term; fill not seen; one phase error per sample).  The
 * geometry is separable -- pixel (py, px) covers simulated sample (Y, X) by wy(Y) wx(X)
 * -- so placing costs a pass over the pixel rows, not a 2D convolution.
 * Errors: ACDC_UTIL_EUSAGE (bad geometry, k < 1, k odd on a phase-only device, S < 1,
 * offsets not finite), ACDC_UTIL_ENOMEM. */
typedef struct acdc_optics_devmap2 acdc_optics_devmap2;
int acdc_optics_devmap2_alloc(acdc_optics_devmap2 **out, const acdc_optics_modulator *dev, int k,
                              size_t samples, int oversample, size_t nsamp, double offset_x,
                              double offset_y);
void acdc_optics_devmap2_free(acdc_optics_devmap2 *d);

/* The device used at a wavelength other than the one its levels were made for: every
 * pixel's retardance -- the phase of its level taken in [0, 2 pi), which a liquid
 * crystal or a relief holds fixed in length -- times kappa = design wavelength / the
 * wavelength in use; amplitudes unchanged, dispersion not modelled.  kappa 1 (the
 * default) leaves the map as it was, bitwise. */
void acdc_optics_devmap_set_retardance(acdc_optics_devmap *d, double kappa);
void acdc_optics_devmap2_set_retardance(acdc_optics_devmap2 *d, double kappa);

/* The fringing field of a liquid-crystal device: the retardance does not jump at a
 * pixel's edge but follows the electrodes' field, which spreads it over neighbouring
 * pixels -- modelled as the retardance profile blurred by a Gaussian of rms width
 * sigma_m.  t: nx x ny simulated samples (row-major, ny = 1 for a line) at pitch h_m,
 * the device's transmittance as shown; each sample's retardance, its phase in [0, 2 pi),
 * is replaced by the Gaussian average of its neighbours' (weighted by where the device
 * transmits: samples with t = 0, the dead space and the surround, take their phase from
 * the neighbours and keep their zero), amplitudes unchanged.  A phase grating of period
 * P comes out attenuated by exp(-2 pi^2 sigma^2 / P^2).  The kernel is cut at 6 sigma.
 * Errors: ACDC_UTIL_EUSAGE (sigma or h not positive and finite), ACDC_UTIL_ENOMEM. */
int acdc_optics_fringing(double complex *t, size_t nx, size_t ny, double h_m, double sigma_m);

/* A device rotated in its plane by theta (rad, counter-clockwise seen along the light):
 * t (side x side simulated samples, row-major, the axis at sample (floor(side/2),
 * floor(side/2)) as in optics/field.h) becomes the rotated transmittance, each sample
 * the bilinear interpolation of the unrotated samples at the point that rotates onto it
 * (0 beyond the plane) -- for the sub-sample displacements a small rotation makes, the
 * overlap of the sample with the displaced device.  theta 0 leaves t as it was.
 * Errors: ACDC_UTIL_EUSAGE (theta not finite), ACDC_UTIL_ENOMEM. */
int acdc_optics_plane_rotate(double complex *t, size_t side, double theta);

/* Pixels (S = 1: points) a map shows, row-major: (k samples)^2 (S = 1: samples^2). */
size_t acdc_optics_devmap2_pixels(const acdc_optics_devmap2 *d);

/* Room, in values, for the work array of acdc_optics_devmap2_show(). */
size_t acdc_optics_devmap2_work(const acdc_optics_devmap2 *d);

/* out (nsamp x nsamp values, row-major) = scale x the device showing sample values
 * t[sy * samples + sx] in [-1, 1], quantised to its levels, each pixel (S = 1: each
 * point) multiplied by exp(i N(0, sigma)) drawn from r in row-major pixel order (r may
 * be NULL when sigma is 0).  work: acdc_optics_devmap2_work(d) values. */
void acdc_optics_devmap2_show(const acdc_optics_devmap2 *d, const double *t, double sigma,
                              gsl_rng *r, double complex scale, double complex *work,
                              double complex *out);

#endif
