/* SPDX-License-Identifier: GPL-3.0-or-later */
/* compiler/system.h -- a compiled optical system: what `acdc compile` builds and the
 * simulator runs.  The file format is compiler/FORMAT.md.
 *
 * The model's layers are grouped into CHAINS: maximal runs of layers with no ReLU and no
 * permutation between them.  A chain is computed all-optically, one 4f STAGE per layer;
 * between chains sit opto-electronic stages (detect, add biases, ReLU, permute,
 * re-encode).  A system is one-dimensional (rank 1: cylindrical lenses, the layers'
 * 1D DCT, planes of M = 2n samples) or two-dimensional (rank 2: spherical lenses, the
 * layers' 2D DCT on a side x side grid, n = side², planes of M x M samples, M = 2 side,
 * stored row-major, x fastest).  Rank 2 is rank 1 applied per axis: the input plane
 * carries the 2D half-sample-symmetric extension (each component on four samples), the
 * Fourier mask is D_ext per axis, the lens pair flips x and y alike, so one layout
 * parity serves both axes.
 *
 * One stage (compiler/README.md): its input plane carries the half-sample-symmetric extension
 * of the layer's input u, each component on two samples; lens 1 (focal f) takes it to
 * the Fourier plane, where the mask D_ext (real: amplitude |d|, phase 0 or π) multiplies
 * it; lens 2 takes it to the image plane, which carries g·ext(Cᵀ d C u), g the 4f
 * constant (−i for ideal lenses), mirrored.  The mirror moves the symmetric extension
 * by one sample; the LAYOUT PARITY q says where component j of a plane sits:
 *     samples (n + q + j) mod M and (n − 1 + q − j) mod M,     M = 2n,
 * q = 0 at a chain's input, and every stage toggles it.  The camera reads component j
 * of a chain's last image plane on sample n − 1 + q − j (never wrapping).
 *
 * Electronics before a chain: u = a_0 ⊙ pad(standardise(x)) + a_bias_0, scaled by
 * s = max|u| (per input vector) so the input modulator uses its full range, then
 * encoded.  Electronics after: y_j = s·gain·ΔI[pixel_j] + bias_j, ReLU, permutation,
 * where ΔI = I+ − I− is the balanced homodyne difference (W/m per sample) against a
 * reference beam whose phase matches the chain's constant g^stages, and bias holds
 * every bias of the chain folded through the linear optics.
 *
 * Detection is designed per chain (compiler/README.md, "Detection"): from the range of
 * field magnitudes the data put on the camera -- estimated from the masks, or measured
 * on calibration data -- the compiler chooses the reference's amplitude and the
 * exposure that maximise the SNR of the homodyne difference while signal plus reference
 * stay below a margin of the full well; the profile's camera.frames exposures are
 * averaged per inference.
 */
#ifndef ACDC_COMPILER_SYSTEM_H
#define ACDC_COMPILER_SYSTEM_H

#include <complex.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "compiler/profile.h"
#include "models/model.h"

/* A mask as compiled for a device: the ideal transmittance (real, |t| <= 1), the
 * transmittance the device realises after quantisation, and the device codes. */
typedef struct acdc_compiler_mask {
    size_t m;                  /* samples (= M) */
    double *ideal;             /* m values in [-1, 1] */
    double complex *realised;  /* m values, |t| <= 1 */
    int32_t *codes;            /* m × ncodes device codes */
    int ncodes;                /* 1 (amplitude or phase level), 2 (double-phase: θ1, θ2;
                                  complex: amplitude level, phase level) */
    double gain;               /* the factor taken out to make |t| <= 1 (max |value|) */
} acdc_compiler_mask;

typedef struct acdc_compiler_stage {
    size_t layer;              /* model layer this stage computes */
    int parity_in;             /* layout parity of the input plane */
    double z_m;                /* axial position of the input plane (from chain start) */
    acdc_compiler_mask *image;      /* a-mask in the input plane; NULL for a chain's first
                                  stage (a is applied by the electronics) */
    acdc_compiler_mask fourier;     /* d-mask in the Fourier plane */
} acdc_compiler_stage;

typedef struct acdc_compiler_chain {
    size_t first, count;       /* model layers first .. first + count − 1 */
    acdc_compiler_stage *stages;
    double *enc_a, *enc_bias;  /* electronics before: u = enc_a ⊙ v + enc_bias (n each) */
    double complex g;          /* the chain's optical constant: product of the stages'
                                  4f constants (measured at compile time) */
    double ref_amplitude;      /* |E_ref| of the homodyne reference, W^½/m^½ */
    double gain;               /* electronics: y = s·gain·ΔI + bias */
    double *bias;              /* n folded biases */
    int64_t *pixel;            /* n camera samples: component j is read on pixel[j] */
    int relu;                  /* ReLU after the chain */
    int64_t *perm;             /* permutation after the chain, or NULL */
    double efficiency;         /* fraction of input power reaching the camera for an
                                  input with a flat spectrum */
    double length_m;           /* 4 f × stages */
    /* designed detection (acdc_compiler_detection_design()) */
    double exposure_s;         /* exposure of one camera frame, s */
    size_t frames;             /* exposures averaged per inference */
    double signal_peak;        /* largest |E| at the camera over the signal range, in
                                  units of E0 (field_amplitude) */
    double signal_rms;         /* rms |E| at the camera over the signal range, units of E0 */
    double snr;                /* expected SNR of the homodyne difference, a power ratio
                                  (acdc_compiler_detection_snr()) */
} acdc_compiler_chain;

/* The verdict of `acdc compile --verify` (sim/verify.h): a short simulation of the
 * system with resolved pixels, the profile's noise and lens model, and an error budget
 * of the effects one at a time.  Stored in the system file as /verdict
 * (compiler/FORMAT.md); rows 0: none. */
#define ACDC_COMPILER_VERDICT_MAX 12
typedef struct acdc_compiler_verdict_effect {
    char name[48];             /* e.g. "camera noise" */
    double chain_rms;          /* with this effect alone: the relative RMS error of the
                                  optical chains, each fed the numeric input of its own
                                  (errors do not compound), averaged over the chains */
    double accuracy;           /* classification accuracy then (NAN without labels) */
    double share;              /* its part of the error: sqrt(chain_rms^2 - base^2), or
                                  the error itself for the base */
} acdc_compiler_verdict_effect;

typedef struct acdc_compiler_verdict {
    size_t rows;               /* inputs simulated; 0: no verdict */
    int oversample;            /* S of every run */
    char conditions[512];      /* propagation, lens model, noise, data: as simulated */
    double numeric_accuracy;   /* the model's own (NAN without labels) */
    double accuracy, rel_rms;  /* everything at once: the expected hardware figures,
                                  rel_rms end to end (errors compound through layers) */
    double chain_rms;          /* the same run's chain error (as an effect's) */
    int64_t saturated;         /* camera exposures that saturated in that run */
    size_t n;                  /* effects */
    acdc_compiler_verdict_effect effect[ACDC_COMPILER_VERDICT_MAX];
} acdc_compiler_verdict;
/* Where the chains' signal range (signal_peak, signal_rms) comes from. */
enum acdc_compiler_signal {
    ACDC_COMPILER_SIGNAL_NONE = 0,  /* a system file from before designed detection: the
                                  profile's exposure, one frame and the stored reference;
                                  the range is estimated when the file is read */
    ACDC_COMPILER_SIGNAL_ESTIMATED, /* from the masks (acdc_compiler_signal_estimate()) */
    ACDC_COMPILER_SIGNAL_CALIBRATED,/* from calibration data through the numeric model
                                  (acdc_compiler_calibrate(), compiler/compile.h) */
    ACDC_COMPILER_SIGNAL_SYNTHETIC  /* from synthetic inputs through the numeric model: what
                                  acdc_compiler_compile() designs for without data
                                  (acdc_compiler_calibrate_synthetic()) */
};

typedef struct acdc_compiler_system {
    int rank;                  /* 1 (cylindrical optics) or 2 (spherical) */
    size_t side;               /* components per axis: n (rank 1), sqrt(n) (rank 2) */
    size_t n, n_in, n_out, m;  /* m = 2·side samples per axis of every input and image
                                  plane */
    size_t fm;                 /* samples per axis of every Fourier plane: m, or R·m for
                                  a pixel-aware design (profile rules.fourier_oversample R) */
    double wavelength_m;
    double pitch_m;            /* sample pitch in input and image planes */
    double fourier_pitch_m;    /* sample pitch in Fourier planes */
    double focal_m;            /* every lens: f = m·pitch·fourier_pitch/λ */
    double aperture_m;         /* every lens: the wider plane's width (m·max pitch, the
                                  diagonal for rank 2), which sets the NA; the clear
                                  aperture the stage's light crosses is both planes'
                                  widths together (acdc_optics_fourier_lens_aperture()) */
    double relay_magnification;  /* camera pitch / sample pitch: a relay lens pair in
                                    front of each camera maps one sample onto one pixel */
    double field_amplitude;    /* input field E0 for |t| = 1, W^½/m^½: the laser power
                                  spread over the m samples, E0 = sqrt(P / (m·pitch)) */
    double *in_mean, *in_scale;   /* input standardisation (n_in each) or both NULL */
    size_t n_chains;
    acdc_compiler_chain *chains;
    acdc_compiler_profile profile;
    enum acdc_compiler_signal signal;  /* where the detection design's signal range is from */
    size_t calibration_rows;   /* rows of calibration data (ACDC_COMPILER_SIGNAL_CALIBRATED) */
    acdc_model *model;         /* copy of the source model (the ideal reference) */
    char warnings[2048];       /* design-rule warnings, one per line */
    acdc_compiler_verdict verdict;  /* rows 0 until `acdc compile --verify` runs */
    char design[1024];         /* which Fourier-plane design the compiler chose and why
                                  (acdc_compiler_compile(); not stored in the file: its
                                  profile copy holds the R chosen) */
} acdc_compiler_system;

/* ---- The rules every part shares: the compiler builds a system by them, the reader
 * (compiler/system_check.c) checks a system file against them.  Defined in
 * compiler/system.c; nothing here calls the compiler (compiler/compile.h). ---- */

/* Layout: the sample of an m = 2n plane that carries component j on its left (side 0)
 * or right (side 1) copy, for layout parity q (see above). */
size_t acdc_compiler_layout(size_t n, int q, size_t j, int side);

/* Samples of one input or image plane (m^rank) and of one Fourier plane (fm^rank). */
size_t acdc_compiler_plane_size(const acdc_compiler_system *s);
size_t acdc_compiler_fourier_size(const acdc_compiler_system *s);

/* The sample pitch of device dev in system s: acdc_optics_modulator_sample_pitch() (rank 1),
 * superpixel x pitch (rank 2; the superpixel is s->profile.superpixel). */
double acdc_compiler_sample_pitch(const acdc_compiler_system *s, const acdc_optics_modulator *dev);

/* A 1D system's device whose double-phase pairs sit down its strip's rows
 * (ACDC_OPTICS_DP_ROWS; optics/device.h): its first orders in y leave at +-lambda /
 * (2 pitch) and, over the 2f to the next plane (the lenses have no power along y), land
 * *offset_m = f lambda / pitch off the axis; they clear a strip (and a slit) of the
 * device's height when *offset_m > rows x pitch, and *max_rows is the tallest strip that
 * they clear.  Returns 0 for any other device or system (nothing set). */
int acdc_compiler_strip_orders(const acdc_compiler_system *s, const acdc_optics_modulator *dev,
                               double *offset_m, size_t *max_rows);

/* The same device: the rows of the strip the system shows each value down -- the
 * tallest even count its first orders clear (acdc_compiler_strip_orders()), or every
 * row of the device, down to even, when they clear them all (or clear no strip of two:
 * then a compile warning).  The exported pattern fills them (compiler/export.h) and the
 * simulated column averages them (acdc_optics_devmap_set_strip()).  0 for any other
 * device or system. */
size_t acdc_compiler_strip_rows(const acdc_compiler_system *s, const acdc_optics_modulator *dev);

/* Copies of a component in a plane: 2 (rank 1) or 4 (rank 2). */
int acdc_compiler_copies(const acdc_compiler_system *s);

/* The sample (row-major index into a plane) that carries component j (rank 2: row
 * j / side, column j % side) on copy `copy` (0 .. acdc_compiler_copies() − 1; rank 2: bit 0
 * the side along x, bit 1 along y) for layout parity q.  Copy 0 is the one the camera
 * reads. */
size_t acdc_compiler_place(const acdc_compiler_system *s, int q, size_t j, int copy);

/* The superpixel k (device pixels per sample per axis) of a rank-2 system compiled for
 * profile p: p->superpixel if set, else the largest k <= 4 (even where a phase-only
 * device needs double-phase pairs) for which every plane of m samples per axis (fm for
 * Fourier planes) fits its device's columns and rows, the focal length and the NA rule;
 * the smallest allowed k if none does (the rules then say what breaks).  1 for rank 1. */
int acdc_compiler_superpixel(const acdc_compiler_profile *p, int rank, size_t m, size_t fm);

/* What every lens position needs.  Its clear aperture: the ray from a point of the input
 * plane to one of the Fourier plane crosses the lens at the sum of their positions
 * (acdc_optics_fourier_lens_aperture()), so the lens spans the two planes' widths together
 * (s->aperture_m, the wider of them, sets the NA of the rays from any point).  The
 * wavefront error it tolerates, in waves rms: a lens should disturb the phase of the
 * light no more than a Fourier-mask pixel does, phase error / (2 pi) -- to first order
 * both move the field by their rms phase (the Marechal limit for imaging, 0.075 waves,
 * is far too much for a computation read by homodyne detection: sim/README.md, "Lens
 * models"). */
void acdc_compiler_lens_need(const acdc_compiler_system *s, double *aperture_m, double *tol_waves);

/* Planes of need x need pixels side by side on a device of cols x rows (rank 2: the
 * planes of one role share a device in a grid, floor(cols / need) x floor(rows / need),
 * at least 1), or 1 (rank 1: a device holds one plane). */
size_t acdc_compiler_planes_per_device(const acdc_compiler_system *s, size_t need, size_t cols,
                                       size_t rows);

/* Where plane i of a kind sits when its planes of need x need pixels are tiled on devices
 * (or cameras) of cols x rows (rank 2): on device i / q, q = acdc_compiler_planes_per_device(),
 * in a grid of floor(cols / need) x floor(rows / need) centred on the device, filled row
 * by row; *x0, *y0 its first pixel column and row.  The bill of materials counts by this
 * rule, `acdc export` places masks and camera regions by it. */
void acdc_compiler_tile(const acdc_compiler_system *s, size_t need, size_t cols,
                        size_t rows, size_t i,
                        size_t *device, size_t *x0, size_t *y0);

/* Grouping: splits the model's layers into chains of layers with no ReLU and no
 * permutation between them (a chain ends after a layer that has either).  Writes the
 * first layer of each chain to first[] and their lengths to count[] (each with room for
 * n_layers entries) and returns the number of chains. */
size_t acdc_compiler_group(const acdc_model *m, size_t *first, size_t *count);

/* The grouping for profile p: acdc_compiler_group(), except that a pixel-aware design
 * (rules.fourier_oversample >= 1) puts every layer in a chain of its own -- an
 * image-plane mask of finite pixels between two stages acts on a continuous field that
 * no Fourier mask can compensate (compiler/README.md), so the a of every layer is
 * applied by the electronics instead. */
size_t acdc_compiler_group_for(const acdc_model *m, const acdc_compiler_profile *p, size_t *first,
                               size_t *count);

/* The model a system can carry: 1D DCT layers (rank 1) or 2D DCT layers on a square
 * grid (rank 2: the lenses' Fourier planes have one pitch along x and y, so h = w;
 * train a non-square image on a square grid with --input-shape).  where names the
 * model in the message.  Errors: ACDC_UTIL_EDATA. */
int acdc_compiler_model_supported(const acdc_model *m, const char *where);

/* Samples of every Fourier plane for m-sample image planes under profile p: m for the
 * point design (rules.fourier_oversample 0), R·m for a pixel-aware one (R >= 1). */
size_t acdc_compiler_fourier_samples(const acdc_compiler_profile *p, size_t m);

/* The 4f constant g of system s's sampling: the output on the axis for a unit impulse
 * on the axis through a clear stage (unit mask), measured with the optics library's
 * ideal lenses (-i for ideal cylindrical lenses: two 1/sqrt(iλf) prefactors and the
 * pitch factors multiply to 1/i).  Errors: those of optics/propagate.h (ACDC_UTIL_ENOMEM,
 * ACDC_UTIL_EUSAGE for a sampling it cannot plan). */
int acdc_compiler_measure_4f(const acdc_compiler_system *s, double complex *g);

/* The electronic gain of chain ch, so that y = s·gain·ΔI + bias reproduces the model:
 *
 *     gain = Π_masks mask.gain / (4 · |g| · E0 · |E_ref|)
 *
 * Every mask was divided by its largest magnitude (mask.gain) to be passive, |t| <= 1;
 * the light picks up the chain's optical constant g (ch->g, the 4f constant to the
 * power of the stages); balanced homodyne detection against a reference of amplitude
 * |E_ref| (ch->ref_amplitude) phased to g gives ΔI = I+ − I− = 4 Re(E·E_ref*), and the
 * input field is E0 (field_amplitude, W^½ m^-½) per unit of the encoded input.  The gain
 * undoes all four.  Reads ch->count stages (their Fourier and, where present, image
 * masks), ch->g and ch->ref_amplitude. */
double acdc_compiler_chain_gain(const acdc_compiler_chain *ch, double field_amplitude);

/* The field at chain ch's camera, in units of E0, per unit of the chain's linear output
 * (the model's, before folded biases, ReLU and permutation) divided by the input scale
 * s = max|u|: |g| / Π mask.gain.  (The inverse of the gain's bookkeeping above.) */
double acdc_compiler_chain_field_scale(const acdc_compiler_chain *ch);

/* Clipping the Fourier masks (rules.fourier_clip = c, compiler/README.md): a mask's
 * values W are shown as t = acdc_compiler_clip(W / (acdc_compiler_clip_scale(c) ·
 * max|W|)), so that c·max|W| shows at full modulation and the few larger values
 * saturate; its gain is the divisor.  The scale is c for 0 < c < 1 and 1 for c = 0 or 1
 * (not clipped: t = W / max|W| exactly); the clip is min(max(v, −1), 1).  The compiler,
 * its surrogate and the system's report all scale through these. */
double acdc_compiler_clip_scale(double c);
double acdc_compiler_clip(double v);

/* ---- Designed detection (compiler/README.md, "Detection") ---- */

/* Signal plus reference may fill this fraction of the full well at the signal's peak:
 * the rest is room for shot noise and for inputs brighter than the signal range. */
#define ACDC_COMPILER_DETECT_MARGIN 0.8

/* Without calibration data (acdc_compiler_signal_estimate()) the signal's peak is taken as
 * ACDC_COMPILER_PEAK_FACTOR times the rms field of a full-scale input with a flat spectrum,
 * and its rms as the peak over ACDC_COMPILER_CREST_FACTOR (compiler/README.md, "Detection",
 * has the calibrated ranges these were chosen from). */
#define ACDC_COMPILER_PEAK_FACTOR 2.0
#define ACDC_COMPILER_CREST_FACTOR 8.0

/* Mean photo-electrons on one camera pixel in one exposure of exposure_s for a field of
 * E0 (|E|/E0 = 1): qe · E0² · (pitch · fill)^rank · τ · λ / (h c), with the camera of the
 * profile as the design sees it (acdc_compiler_profile_effective()).  Multiply by |E/E0|². */
double acdc_compiler_detection_electrons(const acdc_compiler_system *s, double exposure_s);

/* The longest exposure the design may choose for profile p: camera.exposure, and no
 * longer than one frame at camera.frame_rate where that is given. */
double acdc_compiler_max_exposure(const acdc_compiler_profile *p);

/* camera.frames = 0 (the real built-ins): as many exposures as one frame of the input
 * modulator holds -- while it shows an input, the camera takes exposure after exposure
 * and the electronics average them, which costs no throughput.  N(τ) = floor(T / max(τ,
 * t_read)), T = 1 / input.frame_rate, t_read the camera's read-out of the rows a chain
 * uses (m for rank 2; ACDC_COMPILER_MIN_ROWS for rank 1, the smallest region an sCMOS camera
 * reads) at its line rate, camera.frame_rate × camera.rows lines/s; 1 where a rate is not
 * given; at most ACDC_COMPILER_MAX_FRAMES.  (The scmos device: 100 frames/s x 2048 rows =
 * 204,800 lines/s, 8 rows in 39 us; that sCMOS cameras read regions of 8 rows at their
 * line rate is assumed here, not confirmed against a datasheet.) */
#define ACDC_COMPILER_MIN_ROWS 8
#define ACDC_COMPILER_MAX_FRAMES 4096
size_t acdc_compiler_frames(const acdc_compiler_system *s, double exposure_s);

/* One camera frame of exposure_s for a chain of s: max(τ, t_read) (above). */
double acdc_compiler_frame_time(const acdc_compiler_system *s, double exposure_s);

/* The time chain ch takes per inference: its frames, taken while the input modulator
 * shows the input, and at least one frame of that modulator: max(1 / input.frame_rate,
 * frames × acdc_compiler_frame_time()); a rate not given counts as instant. */
double acdc_compiler_chain_time(const acdc_compiler_system *s, const acdc_compiler_chain *ch);

/* The SNR of the balanced homodyne difference ΔN = N+ − N− on one pixel, as the power
 * ratio of the mean signal to the mean noise over a signal of rms amplitude `rms`
 * (units of E0), reference `rho` (units of E0), phi = acdc_compiler_detection_electrons():
 *
 *   SNR = frames · (4 φ ρ rms)² / (2φ(rms² + ρ²) + 2 D + 2 σr² + q²/6)
 *
 * shot noise of both ports (Poisson: variance = mean electrons, φ|ε ± ρ|² + D each),
 * dark electrons D = dark current × exposure (their mean is subtracted), read noise σr
 * per port, ADC steps q = full well / (2^bits − 1) (uniform rounding, q²/12 per port; no
 * ADC: 0), and `frames` independent exposures averaged.  Clipping at the full well is not
 * in it: the design keeps the signal below (ACDC_COMPILER_DETECT_MARGIN). */
double acdc_compiler_detection_snr(const acdc_optics_camera *cam, double exposure_s, size_t frames,
                                   double phi, double rho, double rms);

/* The variance of ΔN in one exposure of exposure_s for a field of amplitude amp (units
 * of E0) at that pixel: 2φ(amp² + ρ²) + 2D + 2σr² + q²/6, the denominator above (the
 * hardware surrogate draws its noise with it, compiler/surrogate.h). */
double acdc_compiler_detection_variance(const acdc_optics_camera *cam,
                                        double exposure_s, double phi,
                                        double rho, double amp);

/* The model-based signal range of chain ch, without data, in units of E0: peak =
 * ACDC_COMPILER_PEAK_FACTOR · |g| · sqrt(efficiency) (|g| sqrt(efficiency) is the rms output
 * of a full-scale input with a flat spectrum) and rms = peak / ACDC_COMPILER_CREST_FACTOR. */
void acdc_compiler_signal_estimate(const acdc_compiler_chain *ch, double *peak, double *rms);

/* Designs chain ch's detection for a signal range (peak, rms in units of E0, peak >= rms
 * >= 0): the exposure τ <= acdc_compiler_max_exposure() and the reference ρ <= 1 (units of E0:
 * the reference is split from the light that feeds the input modulator) that maximise
 * acdc_compiler_detection_snr() subject to
 *
 *   φ(τ) (peak + ρ)² + D(τ) <= ACDC_COMPILER_DETECT_MARGIN · full well.
 *
 * For a given τ the SNR grows with ρ, so ρ is the largest the constraint allows; τ is
 * then found by a search over log τ (grid, then golden section), with the frames
 * acdc_compiler_frames() gives at each τ.  Sets ch->exposure_s, frames, ref_amplitude, gain (acdc_compiler_chain_gain()),
 * signal_peak, signal_rms and snr.  Errors: ACDC_UTIL_EDATA (a range that is not finite, or
 * peak < rms). */
int acdc_compiler_detection_design(acdc_compiler_system *s, acdc_compiler_chain *ch, double peak,
                                   double rms);

/* Designs `to`'s detection for the calibrated signal range of `from`, another
 * compilation of the same model (a changed profile value), chain by chain through the
 * chains' field scales (acdc_compiler_chain_field_scale()): the range in the model's units
 * does not depend on the devices.  Does nothing unless `from` is calibrated and both
 * group the layers alike.  Errors: those of acdc_compiler_detection_design(). */
int acdc_compiler_detection_carry(const acdc_compiler_system *from, acdc_compiler_system *to);

/* The optical efficiency of chain ch: the fraction of a flat-spectrum input's power that
 * reaches the camera, Π over its masks of the mean |t|² of the realised transmittance. */
double acdc_compiler_chain_efficiency(const acdc_compiler_chain *ch);

/* Frees a system; NULL is a no-op. */
void acdc_compiler_system_free(acdc_compiler_system *s);

/* ---- The system file (compiler/system_file.c) ---- */

/* Writes the system file atomically (a temporary renamed into place).  Errors:
 * ACDC_UTIL_EIO, ACDC_UTIL_EDATA (a profile that fails acdc_compiler_profile_check()). */
int acdc_compiler_system_write(const acdc_compiler_system *s, const char *path);

/* Reads a system file with every check of compiler/FORMAT.md: each value's type and
 * range (the profile copy's through the profile key table), then
 * acdc_compiler_system_check().  On success *out is a new system (caller frees with
 * acdc_compiler_system_free()); on failure *out is NULL.  Errors: ACDC_UTIL_EIO (cannot open),
 * ACDC_UTIL_EDATA naming the file and the object at fault, ACDC_UTIL_ENOMEM. */
int acdc_compiler_system_read(const char *path, acdc_compiler_system **out);

/* ---- Consistency (compiler/system_check.c) ---- */

/* Checks that the parts of s agree with each other, with its profile and with its model
 * copy, by the rules above: the sampling (pitches from the devices, the focal length
 * from the sampling), the grouping, the electronics after each chain, the optical
 * constant (measured again), the gain and efficiency (from the masks), the layout
 * parities and read-out samples, the positions, and the device codes against the
 * realised transmittance.  file names s in messages.  Errors: ACDC_UTIL_EDATA naming file
 * and the chain, stage or value at fault; ACDC_UTIL_ENOMEM. */
int acdc_compiler_system_check(const acdc_compiler_system *s, const char *file);

/* ---- Printing (compiler/system_print.c) ---- */

/* Prints the optical train (element, z, focal length, aperture, pixels, pitch, lengths
 * in millimetres) and a bill of materials to f; name heads the report. */
void acdc_compiler_system_print(const acdc_compiler_system *s, const char *name, FILE *f);

#endif
