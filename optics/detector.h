/* SPDX-License-Identifier: GPL-3.0-or-later */
/* optics/detector.h -- turning light into numbers: intensity, homodyne, pixels, noise.
 *
 * The chain a camera applies, each step its own function so any can be skipped:
 *   field --acdc_optics_intensity / acdc_optics_homodyne--> irradiance per sample (W/m^2; W/m
 *   for rank 1) --acdc_optics_pixels_integrate--> power per detector pixel (W)
 *   --acdc_optics_detect--> photo-electrons (shot, dark, read noise, full well) and ADC codes.
 * Random numbers come from GSL's gsl_rng_mt19937.  Field b of a batch draws from its
 * own generator seeded from (seed, b) by a fixed hash, so results are reproducible and
 * independent of the number of threads and of how the batch is split.
 */
#ifndef ACDC_OPTICS_DETECTOR_H
#define ACDC_OPTICS_DETECTOR_H

#include "optics/field.h"

#include <stddef.h>
#include <stdint.h>

/* Mean electron count above which shot noise is drawn from N(mean, mean). */
#define ACDC_OPTICS_POISSON_NORMAL 1.0e3

/* Planck constant (J s) and speed of light (m/s), exact SI values. */
#define ACDC_OPTICS_PLANCK 6.62607015e-34
#define ACDC_OPTICS_C 299792458.0

/* Irradiance |E|^2 of every sample of every field (nb * ny * nx values, W/m^2 for
 * rank 2, W/m for rank 1) into irr.  Errors: ACDC_UTIL_EUSAGE (NULL). */
int acdc_optics_intensity(const acdc_optics_field *f, double *irr);

/* Balanced homodyne detection against the reference field ref (same grid; ref->nb is
 * 1, shared by every field, or f->nb): the two output ports see I+ = |E + R|^2 and
 * I- = |E - R|^2, and diff = I+ - I- = 4 Re(E conj(R)), signed (W/m^2 or W/m).  plus
 * and minus may be NULL when only the difference is wanted; diff may be NULL too.
 * Errors: ACDC_UTIL_EUSAGE (NULL field, grid or batch mismatch). */
int acdc_optics_homodyne(const acdc_optics_field *f, const acdc_optics_field *ref, double *plus,
                         double *minus, double *diff);

/* A detector's pixel geometry: npx x npy pixels (npy = 1 for a line sensor on rank-1
 * fields) at pitch_m, centred like field samples (pixel i at (i - floor(npx/2)) pitch),
 * each with a square active area of side fill * pitch. */
typedef struct acdc_optics_pixels {
    size_t npx, npy;
    double pitch_m;
    double fill;     /* 0 < fill <= 1 */
} acdc_optics_pixels;

/* Integrates irradiance irr (nb fields on grid g, as from acdc_optics_intensity) over each
 * pixel's active area, with exact overlap of every sample cell (pitch x pitch, the
 * irradiance taken constant over it) with the pixel: power_w receives nb * npy * npx
 * values in watts (signed if irr is a homodyne difference).  Errors: ACDC_UTIL_EUSAGE (bad
 * grid or geometry, NULL; rank-1 grids need npy == 1). */
int acdc_optics_pixels_integrate(const acdc_optics_grid *g, size_t nb, const double *irr,
                                 const acdc_optics_pixels *px, double *power_w);

/* The samples of an axis of nsamp samples (sample j covers [j - floor(nsamp/2) - 1/2,
 * j - floor(nsamp/2) + 1/2), in units of the sample pitch, as field samples are centred)
 * that the stretch [lo, hi) overlaps: *first receives the first, w[q] the overlap of
 * sample *first + q in the same units, and the count is returned (at most span; 0 if
 * the stretch misses the axis).  The one rule acdc_optics_pixel_overlap() and a two-device
 * modulator's stretches (optics/device.h) lay pixels over samples by. */
size_t acdc_optics_stretch_overlap(size_t nsamp, double lo, double hi, size_t span,
                                   size_t *first, double *w);

/* The exact overlap of a line of npix pixels of geometry px (along x: pitch and fill;
 * npx and npy are not used), centred like field samples and displaced by offset_m,
 * with the cells of an axis of nsamp samples at pitch dx_m: pixel i overlaps samples
 * first[i] .. first[i] + count[i] - 1 by (*w)[i * *span + q] metres of its active area.
 * first and count have room for npix entries; *w is a new array of npix * *span values
 * (caller frees).  Serves detectors (integrating light over pixels) and modulators
 * (spreading each pixel's transmittance over the samples it covers) alike.
 * Errors: ACDC_UTIL_EUSAGE (bad geometry or pitch), ACDC_UTIL_ENOMEM. */
int acdc_optics_pixel_overlap(size_t nsamp, double dx_m, const acdc_optics_pixels *px, size_t npix,
                              double offset_m, size_t *first, size_t *count, double **w,
                              size_t *span);

/* A camera (SI units; electrons written e): the device -- what a profile names -- and,
 * last, the conditions it is operated in, which the user of the camera sets. */
typedef struct acdc_optics_camera {
    char name[64];          /* e.g. "sCMOS camera, 16 bit" */
    double pitch_m;         /* pixel pitch, > 0 */
    double fill;            /* fill factor, (0, 1] */
    size_t pixels;          /* pixels along x */
    double qe;              /* quantum efficiency, 0 < qe <= 1 */
    double full_well_e;     /* saturation, electrons, > 0 */
    double read_noise_e;    /* Gaussian read noise, electrons rms, >= 0 */
    double dark_e_per_s;    /* mean dark electrons per pixel per second, >= 0 */
    int adc_bits;           /* 1..32: codes 0 .. 2^bits - 1 span 0 .. full well;
                               0: no ADC (no codes are written) */
    double exposure_s;      /* > 0 */
    /* operating conditions */
    double wavelength_m;    /* for the photon energy h c / lambda */
    int shot_noise;         /* 1: Poisson photo- and dark electrons (normal approximation
                               above ACDC_OPTICS_POISSON_NORMAL mean electrons); 0: means */
    uint64_t seed;
    /* the device again (added with 2D systems; last so that older initialisers hold) */
    size_t rows;            /* pixels along y, >= 1; 0 reads as 1 */
    double frame_rate_hz;   /* frames per second it reads out, >= 0; 0: not given (added
                               with designed detection) */
} acdc_optics_camera;

/* The normalised transform (1 at t = 0) of one camera pixel at spatial frequency t in
 * cycles per pixel: sinc(fill t). */
double acdc_optics_camera_transfer(const acdc_optics_camera *c, double t);

/* Mean photo-electrons for optical power power_w over the exposure:
 * qe * P * tau * lambda / (h c).  Errors: ACDC_UTIL_EUSAGE (bad camera or power). */
int acdc_optics_photoelectrons(const acdc_optics_camera *c, double power_w, double *electrons);

/* Detects nb fields of npix pixel powers each (W, >= 0): electrons (may be NULL)
 * receives the electrons after shot noise, dark current, read noise and clipping to
 * [0, full well]; codes (may be NULL) the ADC output round(e (2^bits - 1) / full well)
 * clipped to the code range (not written when the camera has no ADC).  Field b uses a generator seeded from (c->seed, b).
 * Errors: ACDC_UTIL_EUSAGE (bad camera, NULL, negative or non-finite power),
 * ACDC_UTIL_ENOMEM. */
int acdc_optics_detect(const acdc_optics_camera *c, size_t nb, size_t npix, const double *power_w,
                       double *electrons, uint32_t *codes);

/* The sum of `frames` exposures of the same light, as averaging electronics add them:
 * sum (nb * npix values) receives, per pixel of mean electrons mu per exposure (photo
 * and dark), Poisson(frames mu) (its normal approximation above ACDC_OPTICS_POISSON_NORMAL)
 * plus read noise N(0, frames sigma^2) plus, with an ADC, its rounding as N(0, frames
 * q^2 / 12), q = full well / (2^bits - 1) electrons a step: exact in mean and variance,
 * exact in law but for the rounding.  A pixel whose mean reaches the full well clips in
 * every exposure: its sum is frames x full well and *saturated (may be NULL) receives 1
 * for it (nb * npix flags), else 0; fluctuations that reach the full well from a mean
 * below it are not modelled (compiler designs keep the mean at 0.8 of the well, 40
 * standard deviations and more below it for the scmos device).  One exposure drawn so
 * differs from acdc_optics_detect() only in that: its rounding is drawn, not done.  Field b
 * draws from (c->seed, b) as there.  Errors: those of acdc_optics_detect(). */
int acdc_optics_detect_frames(const acdc_optics_camera *c, size_t nb, size_t npix,
                              const double *power_w, size_t frames, double *sum,
                              unsigned char *saturated);

/* The seed used for field b: a fixed 64-bit mix (splitmix64) of seed and b. */
uint64_t acdc_optics_field_seed(uint64_t seed, uint64_t b);

#endif
