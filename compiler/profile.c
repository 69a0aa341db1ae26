/* SPDX-License-Identifier: GPL-3.0-or-later */
/* compiler/profile.c -- device profiles: built-in library, INI files, checks, overrides.
 *
 * One table (keys[]) describes every setting: its section, key, kind (unit), the field
 * it fills and its range.  The file reader, acdc_compiler_profile_set(), the range check and
 * the INI writer all walk that table, so the four can never disagree about a key.
 * The format is documented in compiler/PROFILES.md.
 */
#include "compiler/profile.h"
#include "util/error.h"
#include "util/input.h"
#include "util/h5.h"
#include "util/parse.h"

#include <ini.h>

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---------------------------------------------------------------------------------- */
/* Built-in devices.                                                                    */
/*                                                                                      */
/* Values are written as the product the parser computes ("632.8 nm" is 632.8 * 1e-9), */
/* so that a built-in written as INI reads back to the same double and prints nicely.  */

#define NM(x) ((x) * 1e-9)
#define UM(x) ((x) * 1e-6)
#define MM(x) ((x) * 1e-3)
#define US(x) ((x) * 1e-6)
#define MS(x) ((x) * 1e-3)
#define NW(x) ((x) * 1e-9)
#define UW(x) ((x) * 1e-6)
#define MW(x) ((x) * 1e-3)
#define HZ(x) (x)

struct laser_device {
    const char *key;
    double wavelength_m, power_w;
};

/* Power is the optical power that reaches the input modulator (compiler/profile.h), not
 * the laser's rated output: a lab attenuates a mW-class laser with neutral-density
 * filters so that the camera is not saturated.  Photon budget (compiler/PROFILES.md):
 * 200 nW x 100 us at 632.8 nm is 6.4e7 photons, 5.1e7 e- at QE 0.8, i.e. ~3.3e4 e- per
 * pixel spread over 1568 pixels (n = 784) before the system's optical efficiency --
 * about one sCMOS full well. */
static const struct laser_device lasers[] = {
    /* ideal: a round 633 nm, 1 mW (noise is off, the power only sets the scale) */
    {"ideal", NM(633), MW(1)},
    /* HeNe-class: 632.8 nm; rated output 0.5-35 mW (5 mW typical); attenuated */
    {"hene", NM(632.8), NW(200)},
    /* frequency-doubled Nd:YAG / DPSS class: 532 nm, 10-100 mW rated; attenuated */
    {"dpss532", NM(532), NW(150)},
    /* the same HeNe attenuated less, for 2D systems: a 2D plane spreads the light over
     * (2h)^2 samples (4096 for 32 x 32) instead of 2n, and a pixel-aware design's masks
     * pass ~1 % of it; 30 uW x 100 us is 9.6e9 photons, 3e4 e- per pixel for a chain of
     * 1 % efficiency -- about the sCMOS full well (sim/README.md measures the cost of
     * less) */
    {"hene-2d", NM(632.8), UW(30)},
};

struct modulator_device {
    const char *key;
    acdc_optics_modulator m;
};

/* Rows (pixels along y) matter to 2D systems only; a 1D system uses one line of each
 * device.  Where a figure is a class value rather than a datasheet's, the comment says so
 * (compiler/PROFILES.md lists every figure with its source). */
/* Phase-only devices put a 2D system's double-phase values in a checkerboard: its
 * difference term's transform is the product of the two axes' (zero along both axes of
 * the Fourier plane, 17 % of the sum term's at the corner of the band with 4 x 4
 * superpixels), where pairs in columns leave 41 % at the band's edge along x.  Measured
 * on the 2D Fashion-MNIST cascade (slm1080, pixel-aware, S = 4, no noise, chain 0):
 * 0.129 relative error in a checkerboard, 0.156 in columns; 0.0135 and 0.049 with
 * 16-bit phase and no phase error (sim/README.md).  The 4K device, the 1D profiles'
 * SLM, puts them down the strip's rows instead (ACDC_OPTICS_DP_ROWS): in a 1D system a
 * checkerboard reads as columns, and rows halve the pixels a sample needs and send the
 * difference term out of the strip (on the shipped model, slm8, S = 4, the profile's
 * noise and lens, first 1000 test images: 77.4 % optical accuracy with pairs side by
 * side, 84.4 % down the rows); a 2D system on it has pairs along y. */
static const struct modulator_device modulators[] = {
    /* no pixels to speak of: continuous complex transmittance, pitch only sets scale;
     * 4096 x 4096 so that a 2D design is never limited by an ideal device */
    {"ideal", {"ideal complex modulator", ACDC_OPTICS_MOD_COMPLEX, UM(8), 1, 4096, 0, 0, 0, 4096,
               ACDC_OPTICS_DP_COLUMNS, 0, 0, 0, 0, 0, "", ACDC_OPTICS_PAIRS_JOINT}},
    /* 4K reflective LCoS phase SLM (Holoeye GAEA-2 / Santec SLM-300 class): 3.74 um
     * pitch, ~90 % fill, 4160 x 2464 pixels (GAEA-2), 8-bit drive over 2 pi, phase
     * flicker of order 1 % of 2 pi (~0.03 rad rms; an estimate, not a datasheet figure).
     * 4K rather than 1080p because a 1D layer of n = 784 (Fashion-MNIST) needs 2n = 1568
     * input samples and, pixel-aware with R = 2, 3136 Fourier samples along x.  Double
     * phase down the strip's rows (one pixel column per sample, the difference term
     * stopped by a slit: device.h); with the pairs side by side along x R = 2 needs 6272
     * pixels and does not fit.  60 Hz: the video rate of LCoS drivers (a class value,
     * not confirmed against a datasheet). */
    {"lcos-phase8",
     {"4K LCoS phase SLM, 8 bit", ACDC_OPTICS_MOD_PHASE, UM(3.74), 0.9, 4160, 0, 8, 0.03, 2464,
      ACDC_OPTICS_DP_ROWS, HZ(60), 0, 0, 1, 0, "", ACDC_OPTICS_PAIRS_JOINT}},
    /* 1080p reflective LCoS phase SLM (Holoeye PLUTO-2.1 class): 1920 x 1080 pixels of
     * 8 um, fill factor 93 %, 8-bit addressing (256 grey levels) calibrated to 2 pi (the
     * VIS-016 panel reaches 5.2 pi at 633 nm, so 2 pi uses part of the drive range; the
     * profile keeps 8 bits for the lookup table).  No phase-flicker figure was found: the
     * 30 mrad rms of lcos-phase8 is assumed.  60 Hz video rate (class value, not
     * confirmed). */
    {"lcos1080-phase8",
     {"1080p LCoS phase SLM, 8 um, 8 bit", ACDC_OPTICS_MOD_PHASE, UM(8), 0.93, 1920, 0, 8, 0.03,
      1080, ACDC_OPTICS_DP_CHECKERBOARD, HZ(60), 0, 0, 1, 0, "", ACDC_OPTICS_PAIRS_JOINT}},
    /* 1920 x 1152 analog LCoS phase SLM (Meadowlark HSP1920 class): 9.2 um pixels, fill
     * factor 95.7 %; "less than 1 % phase ripple" (Meadowlark's 2016 announcement of the
     * 1920 x 1152 SLM), i.e. < 63 mrad, of which 30 mrad rms is assumed; 8-bit images
     * (the Blink SDK's 8-bit mode; a finer drive is not modelled).  120 Hz: the low end of
     * the 120-700 Hz that fast (overdriven) LCoS drivers of this class reach; not
     * confirmed against a datasheet. */
    {"lcos1152-phase8",
     {"1920x1152 LCoS phase SLM, 9.2 um, 8 bit", ACDC_OPTICS_MOD_PHASE, UM(9.2), 0.957, 1920, 0,
      8, 0.03, 1152, ACDC_OPTICS_DP_CHECKERBOARD, HZ(120), 0, 0, 1, 0, "", ACDC_OPTICS_PAIRS_JOINT}},
    /* Complex modulation from two one-parameter devices (Juday and Florence, "Full-complex
     * modulation with two one-parameter SLMs", Proc. SPIE 1558, 1991): a 4K LCoS between
     * polarisers as the amplitude SLM, imaged pixel onto pixel by a 1:1 relay onto a 4K
     * LCoS phase SLM (lcos-phase8), each with 8-bit levels (uniform in amplitude: a
     * calibrated lookup table), the amplitude SLM's contrast 1000:1 between its
     * brightest and darkest state (a class value for an LCoS between polarisers, not
     * confirmed against a datasheet), the amplitude device's image registered on the
     * phase device to 0.1 pixel (0.37 um: an assumption for a relay aligned on a
     * camera, no datasheet figure); its own flicker and the relay's losses are not
     * modelled; 60 Hz,
     * as lcos-phase8 (both devices are written at once).  One
     * pixel per sample: no double-phase pairs, so nothing leaks, and a plane needs half
     * the pixels of a double-phase one. */
    {"lcos-complex8",
     {"4K LCoS amplitude + phase SLM pair, 8 bit", ACDC_OPTICS_MOD_COMPLEX, UM(3.74), 0.9, 4160, 8,
      8, 0.03, 2464, ACDC_OPTICS_DP_COLUMNS, HZ(60), 1000, 0.1, 1, 0, "", ACDC_OPTICS_PAIRS_JOINT}},
    /* DLP6500-class DMD: 7.56 um micromirrors, ~92 % fill, 1920 x 1080; binary mirrors,
     * 8-bit grey by pulse-width modulation integrated over the camera exposure; an 8-bit
     * pattern takes 4046 us on the DLPC900 controller, 247 patterns/s */
    {"dmd-amplitude8",
     {"DMD amplitude modulator, 8 bit PWM", ACDC_OPTICS_MOD_AMPLITUDE, UM(7.56), 0.92, 1920, 8,
      0, 0, 1080, ACDC_OPTICS_DP_COLUMNS, HZ(247), 0, 0, 1, 0, "", ACDC_OPTICS_PAIRS_JOINT}},
    /* fabricated 16-level (4-bit) phase element in fused silica, e-beam or multi-mask
     * photolithography: 4 um pixels, fill 1, etch-depth errors of ~10 nm give
     * 2 pi (n-1) dd / lambda ~ 0.05 rad rms at 633 nm.  4 um rather than 1 um keeps the
     * lens NA = lambda / (2 pitch) ~ 0.08 inside the 0.1 paraxial rule; 4096 x 4096
     * pixels are 16.4 mm square, inside a 1-inch substrate.  A design value, not a
     * product's datasheet.  Static: frame rate 0. */
    {"doe-phase4",
     {"fabricated 16-level phase DOE", ACDC_OPTICS_MOD_PHASE, UM(4), 1, 4096, 0, 4, 0.05, 4096,
      ACDC_OPTICS_DP_CHECKERBOARD, 0, 0, 0, 0, 1.457, "", ACDC_OPTICS_PAIRS_JOINT}},
};

struct camera_device {
    const char *key;
    acdc_optics_camera c;
};

static const struct camera_device cameras[] = {
    /* ideal: unit QE, no noise, no ADC; the full well only bounds the scale */
    {"ideal", {"ideal detector", UM(8), 1, 4096, 1, 1e9, 0, 0, 0, MS(1), 0, 0, 0, 4096, 0}},
    /* scientific CMOS (Hamamatsu ORCA-Flash4.0 V3 C13440-20CU / Andor Zyla 4.2 class):
     * 6.5 um pixels with microlenses, 2048 x 2048, peak QE ~0.8 (0.82 near 560 nm; the
     * value at 633 nm, ~0.7 read off the QE curve, is not tabulated), full well ~30000
     * e-, read noise ~1.5 e- (the C13440-20CU lists 1.6 e- rms), dark current ~0.5
     * e-/s/px for an air-cooled sensor (0.06 cooled), 16-bit output, 100 us longest
     * exposure; 100 frames/s at the full 2048 x 2048 (Zyla 4.2 over CameraLink 10-tap,
     * rolling shutter, 16 bit; a region of interest reads faster: 1578 frames/s at 128
     * rows) */
    {"scmos", {"sCMOS camera, 16 bit", UM(6.5), 1, 2048, 0.8, 30000, 1.5, 0.5, 16, US(100), 0,
               0, 0, 2048, HZ(100)}},
};

struct lens_device {
    const char *key;
    acdc_optics_lens l;
};

/* The lens every position of a system gets (compiler/PROFILES.md, "Lenses").  The
 * compiler designs for ideal Fourier lenses whatever the profile names; the simulator
 * runs the model named.  "achromat": a corrected (aberration-free) lens plus the
 * transmitted wavefront error a catalogue doublet is sold with, 0.07 waves rms over its
 * clear aperture (Thorlabs' air-spaced doublets ACA254-xxx-532/-1064: "Transmitted
 * Wavefront Error <= 0.07 lambda (RMS)", 18 mm clear aperture, f = 50..200 mm, i.e. NA
 * 0.045..0.18 -- the NA of the built-in designs, 0.04); realised as primary spherical
 * aberration (optics/lens.h).  Off-axis aberrations over the design's field are not in
 * it (assumed within the same budget). */
/* "ft-objective": what a 4f stage needs, and the real built-ins' lens -- a
 * Fourier-transform objective designed for the stage's conjugates (a multi-element
 * design that images the object and the pupil, not a catalogue doublet; see
 * compiler/PROFILES.md, "Lenses"): the exact transform, with a residual wavefront error
 * of 0.02 waves rms, the tolerance the shipped designs were measured to need (0.02
 * waves keeps the point design's accuracy, 0.03 costs a point, 0.05 fourteen).  A
 * design figure, not a catalogue one: such lenses are made to order. */
static const struct lens_device lenses[] = {
    {"ideal", {"ideal Fourier lens", ACDC_OPTICS_LENS_FOURIER, 0, {0}, 0, 0}},
    {"ft-objective",
     {"Fourier-transform objective, 0.02 waves rms", ACDC_OPTICS_LENS_FOURIER, 0.02, {0}, 0, 0}},
    {"achromat",
     {"achromatic doublet, 0.07 waves rms", ACDC_OPTICS_LENS_CORRECTED, 0.07, {0}, 0, 0}},
};

#define COUNT(a) (sizeof(a) / sizeof *(a))

struct builtin {
    const char *name;
    int ideal;
    const char *laser, *input, *fourier, *image, *lens, *camera;
    double max_focal_m, max_na, max_length_m;
};

/* Design rules for real devices: focal lengths beyond ~2 m are impractical on a table,
 * NA 0.1 keeps the paraxial (Fresnel) error small (sin vs tan differ by < 0.5 %),
 * 10 m bounds a folded optical train.  The ideal profile keeps generous limits. */
static const struct builtin builtins[] = {
    {"ideal", 1, "ideal", "ideal", "ideal", "ideal", "ideal", "ideal", 100, 0.5, 1000},
    {"slm8", 0, "hene", "lcos-phase8", "lcos-phase8", "lcos-phase8", "ft-objective",
     "scmos", 2, 0.1, 10},
    /* slm8 with complex modulation on two devices per plane (lcos-complex8) */
    {"slm8-complex", 0, "hene", "lcos-complex8", "lcos-complex8", "lcos-complex8",
     "ft-objective", "scmos", 2, 0.1, 10},
    /* the input stays a phase SLM: an amplitude-only encoder cannot show signed inputs */
    {"amplitude-slm", 0, "dpss532", "lcos-phase8", "dmd-amplitude8", "dmd-amplitude8",
     "ft-objective", "scmos", 2, 0.1, 10},
    /* a fabricated element cannot change: the input is encoded on a phase SLM */
    {"doe", 0, "hene", "lcos-phase8", "doe-phase4", "doe-phase4", "ft-objective", "scmos",
     2, 0.1, 10},
    /* 2D benches (spherical lenses, k x k superpixels) on the common 1080p and 1152p
     * phase SLMs: the same laser, camera and rules as slm8.  In a 1D system their 1920
     * pixels along x are too few for a double-phase layer of n = 784. */
    {"slm1080", 0, "hene-2d", "lcos1080-phase8", "lcos1080-phase8", "lcos1080-phase8",
     "ft-objective", "scmos", 2, 0.1, 10},
    {"slm1152", 0, "hene-2d", "lcos1152-phase8", "lcos1152-phase8", "lcos1152-phase8",
     "ft-objective", "scmos", 2, 0.1, 10},
};

static const char *const builtin_names[] = {"ideal", "slm8", "slm8-complex", "amplitude-slm",
                                            "doe", "slm1080", "slm1152", NULL};
_Static_assert(COUNT(builtin_names) == COUNT(builtins) + 1,
               "builtin_names lists every entry of builtins[]");

const char *const *acdc_compiler_profile_names(void)
{
    return builtin_names;
}

/* The keys of a table whose entries start with their `const char *` key (the device
 * tables, builtins[]), as "a, b, c" for messages: the lists cannot drift from the tables. */
#define KEYS_OF(buf, table) keys_of(buf, sizeof buf, table, COUNT(table), sizeof *(table))
static const char *keys_of(char *buf, size_t n, const void *table, size_t count, size_t stride)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < count && used < n; i++) {
        const char *k = *(const char *const *)((const char *)table + i * stride);
        int w = snprintf(buf + used, n - used, "%s%s", i ? ", " : "", k);
        used += w > 0 ? (size_t)w : 0;
    }
    return buf;
}

/* The entry called k of a table whose entries start with their `const char *` key, or
 * NULL: one search for every device table. */
#define FIND(table, k) find_entry(table, COUNT(table), sizeof *(table), k)
static const void *find_entry(const void *table, size_t count, size_t stride, const char *k)
{
    for (size_t i = 0; i < count; i++) {
        const char *entry = (const char *)table + i * stride;
        if (!strcmp(*(const char *const *)entry, k))
            return entry;
    }
    return NULL;
}

static const struct laser_device *find_laser(const char *k)
{
    return FIND(lasers, k);
}

static const acdc_optics_modulator *find_modulator(const char *k)
{
    const struct modulator_device *d = FIND(modulators, k);
    return d ? &d->m : NULL;
}

static const acdc_optics_lens *find_lens(const char *k)
{
    const struct lens_device *d = FIND(lenses, k);
    return d ? &d->l : NULL;
}

static const acdc_optics_camera *find_camera(const char *k)
{
    const struct camera_device *d = FIND(cameras, k);
    return d ? &d->c : NULL;
}

void acdc_compiler_profile_effective(const acdc_compiler_profile *p, acdc_compiler_profile *out)
{
    *out = *p;
    if (!p->ideal)
        return;
    out->input = acdc_optics_modulator_ideal(&p->input);
    out->fourier = acdc_optics_modulator_ideal(&p->fourier);
    out->image = acdc_optics_modulator_ideal(&p->image);
    out->camera.fill = 1;
}

int acdc_compiler_profile_builtin(const char *name, acdc_compiler_profile *p)
{
    if (!name || !p)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "acdc_compiler_profile_builtin: missing argument");
    for (size_t i = 0; i < COUNT(builtins); i++) {
        const struct builtin *b = &builtins[i];
        if (strcmp(b->name, name))
            continue;
        const struct laser_device *l = find_laser(b->laser);
        memset(p, 0, sizeof *p);
        snprintf(p->name, sizeof p->name, "%s", b->name);
        p->ideal = b->ideal;
        p->wavelength_m = l->wavelength_m;
        p->laser_power_w = l->power_w;
        p->input = *find_modulator(b->input);
        p->fourier = *find_modulator(b->fourier);
        p->image = *find_modulator(b->image);
        p->lens = *find_lens(b->lens);
        p->camera = *find_camera(b->camera);
        p->max_focal_m = b->max_focal_m;
        p->max_na = b->max_na;
        p->max_length_m = b->max_length_m;
        /* real pixels: the best design that fits them (compiler/README.md) */
        p->fourier_oversample = b->ideal ? 0 : ACDC_COMPILER_OVERSAMPLE_AUTO;
        /* real cameras: as many exposures as one input frame holds (system.h) */
        p->frames = b->ideal ? 1 : ACDC_COMPILER_FRAMES_AUTO;
        return ACDC_UTIL_OK;
    }
    char known[160];
    return acdc_util_error(ACDC_UTIL_EUSAGE, "unknown device profile '%s' (built-in: %s)", name,
                           KEYS_OF(known, builtins));
}

/* ---------------------------------------------------------------------------------- */
/* The key table.                                                                       */

enum kind {
    K_BASE,       /* [profile] base: a built-in profile name */
    K_DEVICE,     /* a built-in device for the section */
    K_NAME,       /* char[64] */
    K_PATH,       /* char[ACDC_OPTICS_LUT_PATH], may be empty */
    K_BOOL,       /* int 0/1: yes/no/true/false */
    K_MODULATION, /* complex|amplitude|phase */
    K_DP_LAYOUT,  /* columns|checkerboard (enum acdc_optics_dp_layout) */
    K_LENS_MODEL, /* fourier|paraxial|corrected (enum acdc_optics_lens_model) */
    K_PAIR_LEVELS,/* joint|nearest (enum acdc_optics_pair_levels); absent: joint in a
                     profile file, nearest in a system file (written before the choice) */
    K_LENGTH,     /* double, unit required, m */
    K_TIME,       /* double, unit required, s */
    K_POWER,      /* double, unit required, W */
    K_ANGLE,      /* double, unit required, rad */
    K_PLAIN,      /* double, no unit */
    K_ELECTRONS,  /* double, optional unit "e-" */
    K_RATE,       /* double, optional unit "e-/s" */
    K_FREQ,       /* double, unit required, Hz */
    K_WAVES,      /* double, optional unit "waves" (of the laser's wavelength) */
    K_COUNT,      /* size_t */
    K_FRAMES,     /* size_t, or "auto": ACDC_COMPILER_FRAMES_AUTO (0) in a profile; a system
                     file's copy keeps it (its chains hold the frames chosen) */
    K_BITS,       /* int */
    K_OVERSAMPLE  /* int, or "auto": ACDC_COMPILER_OVERSAMPLE_AUTO in a profile (a system
                     file's copy holds the R chosen, in the range) */
};

struct key {
    const char *section, *key;
    enum kind kind;
    size_t off;        /* offset of the field in acdc_compiler_profile */
    double lo, hi;     /* range; lo excluded when lo_open */
    int lo_open;
    int optional;      /* may be left out of a file without base; a number then reads as
                          the bottom of its range (absent_value()), a name as empty */
    const char *h5;    /* attribute name in a system file's profile copy (compiler/
                          FORMAT.md), SI unit in the name; NULL: not stored there */
    int h5_optional;   /* may be absent from a system file (added later): reads as the
                          bottom of its range, like an optional key of an INI file.
                          H5_WITH_GROUP: added with its subgroup, so absent only with
                          the whole subgroup; a subgroup that exists must hold it */
};

#define H5_WITH_GROUP 2

/* Keys added after files existed are optional, and an absent one reads as the bottom of
 * its range -- the value that keeps the old meaning: rows 1 (one line of pixels, what
 * every 1D system uses), double_phase columns (the 1D pairs along x), superpixel 0
 * (chosen by the compiler), fourier_oversample 0 in a system file (the point design; a
 * profile file without it asks for auto, see absent_value()).  So `rows` keeps the
 * range 1.. everywhere: a file written before it existed lacks the attribute and reads as
 * 1 (no reader ever sees the 0 of a zeroed struct), and a stored 0, which no writer makes
 * (acdc_compiler_profile_check refuses it), is refused like any value outside the range. */
#define F(member) offsetof(acdc_compiler_profile, member)
#define MODULATOR_KEYS(s, m)                                                              \
    {s, "device", K_DEVICE, F(m), 0, 0, 0, 1, NULL, 0},                                   \
    {s, "name", K_NAME, F(m.name), 0, 0, 0, 1, "name", 0},                                \
    {s, "modulation", K_MODULATION, F(m.modulation), 0, 2, 0, 0, "modulation", 0},        \
    {s, "pitch", K_LENGTH, F(m.pitch_m), 0, 1e-2, 1, 0, "pitch_m", 0},                    \
    {s, "fill", K_PLAIN, F(m.fill), 0, 1, 1, 0, "fill", 0},                               \
    {s, "pixels", K_COUNT, F(m.pixels), 1, 16777216, 0, 0, "pixels", 0},                  \
    {s, "rows", K_COUNT, F(m.rows), 1, 16777216, 0, 1, "rows", 1},                        \
    {s, "amplitude_bits", K_BITS, F(m.amplitude_bits), 0, 16, 0, 0, "amplitude_bits", 0}, \
    {s, "phase_bits", K_BITS, F(m.phase_bits), 0, 16, 0, 0, "phase_bits", 0},             \
    {s, "phase_error", K_ANGLE, F(m.phase_error_rad), 0, M_PI, 0, 0, "phase_error_rad", 0}, \
    {s, "double_phase", K_DP_LAYOUT, F(m.dp_layout), 0, 2, 0, 1, "double_phase", 1},   \
    {s, "frame_rate", K_FREQ, F(m.frame_rate_hz), 0, 1e9, 0, 1, "frame_rate_hz", 1},     \
    {s, "contrast", K_PLAIN, F(m.contrast), 0, 1e12, 0, 1, "contrast", 1},                \
    {s, "registration", K_PLAIN, F(m.registration), -1, 1, 0, 1, "registration", 1},     \
    {s, "reflective", K_BOOL, F(m.reflective), 0, 1, 0, 1, "reflective", 1},              \
    {s, "refractive_index", K_PLAIN, F(m.refractive_index), 0, 5, 0, 1,                   \
     "refractive_index", 1},                                                              \
    {s, "lut", K_PATH, F(m.lut), 0, 0, 0, 1, "lut", 1},                                  \
    {s, "pair_levels", K_PAIR_LEVELS, F(m.pair_levels), 0, 1, 0, 1, "pair_levels", 1}

/* Noll term j of the lens's wavefront error: key "zJ", attribute "zJ_waves", within a
 * wave either way (optics/lens.h: a term's rms over the clear aperture). */
#define ZERNIKE_KEY(j)                                                                    \
    {"lens", "z" #j, K_WAVES, F(lens.zernike[(j) - 1]), -1, 1, 0, 1, "z" #j "_waves",       \
     H5_WITH_GROUP}

static const struct key keys[] = {
    {"profile", "base", K_BASE, 0, 0, 0, 0, 1, NULL, 0},
    {"profile", "name", K_NAME, F(name), 0, 0, 0, 0, "name", 0},
    {"profile", "ideal", K_BOOL, F(ideal), 0, 1, 0, 0, "ideal", 0},
    {"laser", "device", K_DEVICE, 0, 0, 0, 0, 1, NULL, 0},
    {"laser", "wavelength", K_LENGTH, F(wavelength_m), 100e-9, 20e-6, 0, 0, "wavelength_m", 0},
    {"laser", "power", K_POWER, F(laser_power_w), 0, 1000, 1, 0, "laser_power_w", 0},
    MODULATOR_KEYS("input", input),
    MODULATOR_KEYS("fourier", fourier),
    MODULATOR_KEYS("image", image),
    /* profiles and systems made before lens models lack the section: ideal Fourier
     * lenses, as every simulation then ran by default (compiler/PROFILES.md) */
    {"lens", "device", K_DEVICE, F(lens), 0, 0, 0, 1, NULL, 0},
    {"lens", "name", K_NAME, F(lens.name), 0, 0, 0, 1, "name", H5_WITH_GROUP},
    {"lens", "model", K_LENS_MODEL, F(lens.model), 0, 2, 0, 1, "model", H5_WITH_GROUP},
    {"lens", "wavefront_rms", K_WAVES, F(lens.wavefront_rms), 0, 1, 0, 1,
     "wavefront_rms_waves", H5_WITH_GROUP},
    ZERNIKE_KEY(1), ZERNIKE_KEY(2), ZERNIKE_KEY(3), ZERNIKE_KEY(4), ZERNIKE_KEY(5),
    ZERNIKE_KEY(6), ZERNIKE_KEY(7), ZERNIKE_KEY(8), ZERNIKE_KEY(9), ZERNIKE_KEY(10),
    ZERNIKE_KEY(11),
    {"camera", "device", K_DEVICE, F(camera), 0, 0, 0, 1, NULL, 0},
    {"camera", "name", K_NAME, F(camera.name), 0, 0, 0, 1, "name", 0},
    {"camera", "pitch", K_LENGTH, F(camera.pitch_m), 0, 1e-2, 1, 0, "pitch_m", 0},
    {"camera", "fill", K_PLAIN, F(camera.fill), 0, 1, 1, 0, "fill", 0},
    {"camera", "pixels", K_COUNT, F(camera.pixels), 1, 16777216, 0, 0, "pixels", 0},
    {"camera", "rows", K_COUNT, F(camera.rows), 1, 16777216, 0, 1, "rows", 1},
    {"camera", "quantum_efficiency", K_PLAIN, F(camera.qe), 0, 1, 1, 0, "quantum_efficiency", 0},
    {"camera", "full_well", K_ELECTRONS, F(camera.full_well_e), 0, 1e12, 1, 0, "full_well_e", 0},
    {"camera", "read_noise", K_ELECTRONS, F(camera.read_noise_e), 0, 1e6, 0, 0, "read_noise_e", 0},
    {"camera", "dark_current", K_RATE, F(camera.dark_e_per_s), 0, 1e9, 0, 0,
     "dark_current_e_per_s", 0},
    {"camera", "adc_bits", K_BITS, F(camera.adc_bits), 0, 16, 0, 0, "adc_bits", 0},
    {"camera", "exposure", K_TIME, F(camera.exposure_s), 0, 3600, 1, 0, "exposure_s", 0},
    /* profiles and systems made before designed detection lack these: frame rate 0 (not
     * given), one frame per inference */
    {"camera", "frame_rate", K_FREQ, F(camera.frame_rate_hz), 0, 1e9, 0, 1, "frame_rate_hz", 1},
    {"camera", "frames", K_FRAMES, F(frames), 0, 1e6, 0, 1, "frames", 1},
    {"rules", "max_focal", K_LENGTH, F(max_focal_m), 0, 100, 1, 0, "max_focal_m", 0},
    {"rules", "max_na", K_PLAIN, F(max_na), 0, 1, 1, 0, "max_na", 0},
    {"rules", "max_length", K_LENGTH, F(max_length_m), 0, 1000, 1, 0, "max_length_m", 0},
    /* systems compiled before pixel-aware designs lack it: the point design */
    {"rules", "fourier_oversample", K_OVERSAMPLE, F(fourier_oversample), 0, 8, 0, 1,
     "fourier_oversample", 1},
    /* profiles made before 2D systems lack it: chosen by the compiler */
    {"rules", "superpixel", K_BITS, F(superpixel), 0, 16, 0, 1, "superpixel", 1},
    /* profiles and systems made before it lack it: masks not clipped */
    {"rules", "fourier_clip", K_PLAIN, F(fourier_clip), 0, 1, 0, 1, "fourier_clip", 1},
};
#undef F
#undef MODULATOR_KEYS
#undef ZERNIKE_KEY

#define NKEYS COUNT(keys)

static const char *const sections[] = {"profile", "laser", "input",  "fourier",
                                       "image",   "lens",  "camera", "rules"};

static int known_section(const char *s, size_t len)
{
    for (size_t i = 0; i < COUNT(sections); i++)
        if (strlen(sections[i]) == len && !memcmp(sections[i], s, len))
            return 1;
    return 0;
}

static const struct key *find_key(const char *section, const char *key)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (!strcmp(keys[i].section, section) && !strcmp(keys[i].key, key))
            return &keys[i];
    return NULL;
}

static double *dfield(acdc_compiler_profile *p, const struct key *k)
{
    return (double *)((char *)p + k->off);
}

static double dget(const acdc_compiler_profile *p, const struct key *k)
{
    return *(const double *)((const char *)p + k->off);
}

/* Sets an optional key that a file leaves out: a number to the bottom of its range (see
 * the key table); names and devices stay as they are (empty, or the section's device).
 * Except the two values the compiler may choose: a profile file (ini 1) without
 * rules.fourier_oversample or camera.frames asks for auto, as the real built-ins do,
 * while a system file written before the key existed holds a point design (0) and one
 * exposure (1). */
static void absent_value(const struct key *k, acdc_compiler_profile *p, int ini)
{
    char *field = (char *)p + k->off;
    switch (k->kind) {
    case K_COUNT: *(size_t *)field = (size_t)k->lo; break;
    case K_FRAMES: *(size_t *)field = ini ? ACDC_COMPILER_FRAMES_AUTO : 1; break;
    case K_BITS: *(int *)field = (int)k->lo; break;
    case K_OVERSAMPLE: *(int *)field = ini ? ACDC_COMPILER_OVERSAMPLE_AUTO : (int)k->lo; break;
    case K_DP_LAYOUT: *(enum acdc_optics_dp_layout *)field = (enum acdc_optics_dp_layout)k->lo; break;
    case K_LENS_MODEL: *(enum acdc_optics_lens_model *)field = (enum acdc_optics_lens_model)k->lo; break;
    case K_PAIR_LEVELS:
        *(enum acdc_optics_pair_levels *)field = ini ? ACDC_OPTICS_PAIRS_JOINT : ACDC_OPTICS_PAIRS_NEAREST;
        break;
    default: break;
    }
}

/* ---------------------------------------------------------------------------------- */
/* Values: parsing one key, checking one range, formatting one key.                     */

/* The unit a plain number may carry: "e-" for electrons, "e-/s" for a rate, "waves" for
 * a wavefront error; "" for none. */
static const char *optional_unit(enum kind kind)
{
    return kind == K_ELECTRONS ? "e-" : kind == K_RATE ? "e-/s" : kind == K_WAVES ? "waves" : "";
}

static const char *base_unit(enum kind kind)
{
    switch (kind) {
    case K_LENGTH: return "m";
    case K_TIME: return "s";
    case K_POWER: return "W";
    case K_ANGLE: return "rad";
    case K_FREQ: return "Hz";
    default: return "";
    }
}

/* The range of a double key, as a message: "'fourier.fill' = 1.2 is outside (0, 1]". */
static int check_range(const struct key *k, double v, const char *what, const char *shown)
{
    int bad = !(v >= k->lo && v <= k->hi) || (k->lo_open && v == k->lo);
    if (!bad)
        return ACDC_UTIL_OK;
    const char *u = base_unit(k->kind);
    return acdc_util_error(ACDC_UTIL_EDATA, "%s: %s is outside %c%g, %g]%s%s", what, shown,
                           k->lo_open ? '(' : '[', k->lo, k->hi, *u ? " " : "", u);
}

/* A name must survive the INI round trip: inih strips blanks at both ends, ';' after a
 * blank starts a comment, control characters end or split lines. */
/* The room of a text key's field, terminator included. */
static size_t text_cap(const struct key *k)
{
    return k->kind == K_PATH ? ACDC_OPTICS_LUT_PATH : sizeof ((acdc_compiler_profile *)0)->name;
}

static int check_name(const char *s, size_t cap, int required, const char *what)
{
    const char *end = memchr(s, '\0', cap);
    if (!end)
        return acdc_util_error(ACDC_UTIL_EDATA, "%s: name is not terminated", what);
    size_t n = (size_t)(end - s);
    if (!n)
        return required ? acdc_util_error(ACDC_UTIL_EDATA, "%s: name is empty", what)
                        : ACDC_UTIL_OK;
    if (s[0] == ' ' || s[n - 1] == ' ')
        return acdc_util_error(ACDC_UTIL_EDATA,
                               "%s: name '%s' starts or ends with a blank", what, s);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return acdc_util_error(ACDC_UTIL_EDATA, "%s: name contains a control character", what);
        if (c == ';')
            return acdc_util_error(ACDC_UTIL_EDATA,
                                   "%s: name '%s' contains ';' (a comment)", what, s);
    }
    return ACDC_UTIL_OK;
}

/* Splits "633 nm" / "633nm" / "30000 e-" into the text of the number and the unit after
 * it (blanks skipped).  The number itself is validated later by util/parse. */
static const char *unit_of(const char *s)
{
    const char *d = s + (*s == '+' || *s == '-');
    if (!(isdigit((unsigned char)*d) || *d == '.') || (d[0] == '0' && (d[1] == 'x' || d[1] == 'X')))
        return NULL; /* not a decimal number: util/parse says so */
    char *end;
    errno = 0;
    (void)strtod(s, &end);
    if (end == s)
        return NULL;
    while (*end == ' ' || *end == '\t')
        end++;
    return end;
}

/* Parses s (the value of key k) into *p.  Messages start with what ("'laser.power'").
 * Statuses from util/parse (ACDC_UTIL_EUSAGE) are passed through; callers restate them. */
static int parse_value(const struct key *k, const char *s, const char *what,
                       acdc_compiler_profile *p)
{
    char num[128], known[160];
    double v;
    int64_t iv;
    int rc;
    switch (k->kind) {
    case K_BASE: {
        acdc_compiler_profile b;
        if (acdc_compiler_profile_builtin(s, &b))
            return acdc_util_error(ACDC_UTIL_EDATA, "%s: unknown built-in profile '%s' (known: %s)",
                                   what, s, KEYS_OF(known, builtins));
        *p = b;
        return ACDC_UTIL_OK;
    }
    case K_DEVICE:
        if (!strcmp(k->section, "laser")) {
            const struct laser_device *l = find_laser(s);
            if (!l)
                return acdc_util_error(ACDC_UTIL_EDATA,
                                       "%s: unknown laser '%s' (known: %s)", what, s,
                                       KEYS_OF(known, lasers));
            p->wavelength_m = l->wavelength_m;
            p->laser_power_w = l->power_w;
        } else if (!strcmp(k->section, "lens")) {
            const acdc_optics_lens *l = find_lens(s);
            if (!l)
                return acdc_util_error(ACDC_UTIL_EDATA,
                                       "%s: unknown lens '%s' (known: %s)", what, s,
                                       KEYS_OF(known, lenses));
            p->lens = *l;
        } else if (!strcmp(k->section, "camera")) {
            const acdc_optics_camera *c = find_camera(s);
            if (!c)
                return acdc_util_error(ACDC_UTIL_EDATA,
                                       "%s: unknown camera '%s' (known: %s)", what, s,
                                       KEYS_OF(known, cameras));
            p->camera = *c;
        } else {
            const acdc_optics_modulator *m = find_modulator(s);
            if (!m)
                return acdc_util_error(ACDC_UTIL_EDATA,
                                       "%s: unknown modulator '%s' (known: %s)", what,
                                       s, KEYS_OF(known, modulators));
            *(acdc_optics_modulator *)((char *)p + k->off) = *m;
        }
        return ACDC_UTIL_OK;
    case K_NAME:
    case K_PATH: {
        char *dst = (char *)p + k->off;
        const size_t n = strlen(s), cap = text_cap(k);
        if (n >= cap)
            return acdc_util_error(ACDC_UTIL_EDATA, "%s: '%s' is longer than %zu bytes", what, s,
                                   cap - 1);
        if ((rc = check_name(s, n + 1, !strcmp(k->section, "profile"), what)))
            return rc;
        memset(dst, 0, cap);
        memcpy(dst, s, n);
        return ACDC_UTIL_OK;
    }
    case K_BOOL: {
        int *dst = (int *)((char *)p + k->off);
        if (!strcmp(s, "yes") || !strcmp(s, "true"))
            *dst = 1;
        else if (!strcmp(s, "no") || !strcmp(s, "false"))
            *dst = 0;
        else
            return acdc_util_error(ACDC_UTIL_EDATA, "%s: '%s' is not yes or no", what, s);
        return ACDC_UTIL_OK;
    }
    case K_MODULATION: {
        enum acdc_optics_modulation *dst = (enum acdc_optics_modulation *)((char *)p + k->off);
        if (!strcmp(s, "complex"))
            *dst = ACDC_OPTICS_MOD_COMPLEX;
        else if (!strcmp(s, "amplitude"))
            *dst = ACDC_OPTICS_MOD_AMPLITUDE;
        else if (!strcmp(s, "phase"))
            *dst = ACDC_OPTICS_MOD_PHASE;
        else
            return acdc_util_error(ACDC_UTIL_EDATA, "%s: '%s' is not complex, amplitude or phase",
                                   what, s);
        return ACDC_UTIL_OK;
    }
    case K_DP_LAYOUT: {
        enum acdc_optics_dp_layout *dst = (enum acdc_optics_dp_layout *)((char *)p + k->off);
        if (!strcmp(s, "columns"))
            *dst = ACDC_OPTICS_DP_COLUMNS;
        else if (!strcmp(s, "checkerboard"))
            *dst = ACDC_OPTICS_DP_CHECKERBOARD;
        else if (!strcmp(s, "rows"))
            *dst = ACDC_OPTICS_DP_ROWS;
        else
            return acdc_util_error(ACDC_UTIL_EDATA,
                                   "%s: '%s' is not columns, checkerboard or rows", what, s);
        return ACDC_UTIL_OK;
    }
    case K_PAIR_LEVELS: {
        enum acdc_optics_pair_levels *dst = (enum acdc_optics_pair_levels *)((char *)p + k->off);
        if (!strcmp(s, "joint"))
            *dst = ACDC_OPTICS_PAIRS_JOINT;
        else if (!strcmp(s, "nearest"))
            *dst = ACDC_OPTICS_PAIRS_NEAREST;
        else
            return acdc_util_error(ACDC_UTIL_EDATA, "%s: '%s' is not joint or nearest", what, s);
        return ACDC_UTIL_OK;
    }
    case K_LENS_MODEL:
        if (acdc_optics_lens_model_parse(s, (enum acdc_optics_lens_model *)((char *)p + k->off)))
            return acdc_util_error(ACDC_UTIL_EDATA,
                                   "%s: '%s' is not fourier, paraxial or corrected",
                                   what, s);
        return ACDC_UTIL_OK;
    case K_LENGTH:
    case K_TIME:
    case K_POWER:
    case K_ANGLE:
    case K_FREQ: {
        const char *u = unit_of(s);
        if (u && !*u)
            return acdc_util_error(ACDC_UTIL_EDATA, "%s: '%s' needs a unit of %s", what, s,
                                   k->kind == K_LENGTH ? "length (nm, um, mm, m)"
                                   : k->kind == K_TIME ? "time (ns, us, ms, s)"
                                   : k->kind == K_POWER ? "power (nW, uW, mW, W)"
                                   : k->kind == K_FREQ ? "frequency (Hz, kHz, MHz)"
                                   : "angle (mrad, rad, deg)");
        if ((rc = acdc_util_parse_quantity(s, what, base_unit(k->kind), -DBL_MAX, DBL_MAX, &v)))
            return rc;
        if ((rc = check_range(k, v, what, s)))
            return rc;
        *dfield(p, k) = v;
        return ACDC_UTIL_OK;
    }
    case K_PLAIN:
    case K_ELECTRONS:
    case K_RATE:
    case K_WAVES: {
        const char *u = unit_of(s);
        const char *allowed = optional_unit(k->kind);
        if (u && *u && strcmp(u, allowed)) {
            if (!*allowed)
                return acdc_util_error(ACDC_UTIL_EDATA,
                                       "%s: '%s' takes a plain number, without a unit",
                                       what, s);
            return acdc_util_error(ACDC_UTIL_EDATA, "%s: unit '%s' in '%s' is not '%s'", what, u, s,
                                   allowed);
        }
        size_t n = u ? (size_t)(u - s) : strlen(s);
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
            n--;
        if (n >= sizeof num)
            return acdc_util_error(ACDC_UTIL_EDATA,
                                   "%s: '%.40s...' is too long for a number", what, s);
        memcpy(num, s, n);
        num[n] = '\0';
        if ((rc = acdc_util_parse_double(num, what, -DBL_MAX, DBL_MAX, &v)))
            return rc;
        if ((rc = check_range(k, v, what, s)))
            return rc;
        *dfield(p, k) = v;
        return ACDC_UTIL_OK;
    }
    case K_COUNT:
    case K_FRAMES:
        if (k->kind == K_FRAMES && !strcmp(s, "auto")) {
            *(size_t *)((char *)p + k->off) = ACDC_COMPILER_FRAMES_AUTO;
            return ACDC_UTIL_OK;
        }
        if ((rc = acdc_util_parse_int(s, what, (int64_t)k->lo, (int64_t)k->hi, &iv)))
            return rc;
        *(size_t *)((char *)p + k->off) = (size_t)iv;
        return ACDC_UTIL_OK;
    case K_BITS:
    case K_OVERSAMPLE:
        if (k->kind == K_OVERSAMPLE && !strcmp(s, "auto")) {
            *(int *)((char *)p + k->off) = ACDC_COMPILER_OVERSAMPLE_AUTO;
            return ACDC_UTIL_OK;
        }
        if ((rc = acdc_util_parse_int(s, what, (int64_t)k->lo, (int64_t)k->hi, &iv)))
            return rc;
        *(int *)((char *)p + k->off) = (int)iv;
        return ACDC_UTIL_OK;
    }
    return acdc_util_error(ACDC_UTIL_EDATA, "%s: unknown kind of value", what);
}

/* Shortest %g spelling of v in unit factor f that the parser maps back to v exactly
 * (it computes strtod(text) * f).  Returns 0 if none of 15..17 digits does. */
static int spell(char *buf, size_t n, double v, double f)
{
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(buf, n, "%.*g", digits, v / f);
        if (strtod(buf, NULL) * f == v)
            return 1;
    }
    return 0;
}

struct unit_choice {
    const char *name;
    double factor;
};

/* Formats a quantity for the INI writer: the most readable unit that round-trips. */
static void format_quantity(char *buf, size_t n, double v, enum kind kind)
{
    static const struct unit_choice len[] = {{"nm", 1e-9}, {"um", 1e-6}, {"mm", 1e-3},
                                             {"m", 1}, {NULL, 0}};
    static const struct unit_choice tim[] = {{"ns", 1e-9}, {"us", 1e-6}, {"ms", 1e-3},
                                             {"s", 1}, {NULL, 0}};
    static const struct unit_choice pow_[] = {{"nW", 1e-9}, {"uW", 1e-6}, {"mW", 1e-3},
                                              {"W", 1}, {NULL, 0}};
    static const struct unit_choice ang[] = {{"mrad", 1e-3}, {"rad", 1}, {NULL, 0}};
    static const struct unit_choice fre[] = {{"Hz", 1}, {"kHz", 1e3}, {"MHz", 1e6},
                                             {NULL, 0}};
    const struct unit_choice *u = kind == K_LENGTH ? len : kind == K_TIME ? tim
                                  : kind == K_POWER ? pow_ : kind == K_FREQ ? fre : ang;
    char num[64];
    /* prefer the largest unit in which the number is >= 1, then any that is exact */
    int best = 0;
    for (int i = 0; u[i].name; i++)
        if (fabs(v) >= u[i].factor || (v == 0 && u[i].factor == 1))
            best = i;
    if (spell(num, sizeof num, v, u[best].factor)) {
        snprintf(buf, n, "%s %s", num, u[best].name);
        return;
    }
    for (int i = 0; u[i].name; i++)
        if (spell(num, sizeof num, v, u[i].factor)) {
            snprintf(buf, n, "%s %s", num, u[i].name);
            return;
        }
    snprintf(buf, n, "%.17g %s", v, base_unit(kind)); /* factor 1: always exact */
}

/* ---------------------------------------------------------------------------------- */
/* acdc_compiler_profile_check                                                               */

/* The range of one key of p; messages start with what. */
static int check_key(const acdc_compiler_profile *p, const struct key *k, const char *what)
{
    const char *base = (const char *)p + k->off;
    char shown[64];
    switch (k->kind) {
    case K_BASE:
    case K_DEVICE:
        return ACDC_UTIL_OK;
    case K_NAME:
    case K_PATH:
        return check_name(base, text_cap(k), !strcmp(k->section, "profile"), what);
    case K_BOOL:
        if (*(const int *)base != 0 && *(const int *)base != 1)
            return acdc_util_error(ACDC_UTIL_EDATA, "%s: %d is not 0 or 1", what,
                                   *(const int *)base);
        return ACDC_UTIL_OK;
    case K_MODULATION: {
        int m = (int)*(const enum acdc_optics_modulation *)base;
        if (m < ACDC_OPTICS_MOD_COMPLEX || m > ACDC_OPTICS_MOD_PHASE)
            return acdc_util_error(ACDC_UTIL_EDATA, "%s: %d is not a modulation", what, m);
        return ACDC_UTIL_OK;
    }
    case K_DP_LAYOUT: {
        int l = (int)*(const enum acdc_optics_dp_layout *)base;
        if (l != ACDC_OPTICS_DP_COLUMNS && l != ACDC_OPTICS_DP_CHECKERBOARD &&
            l != ACDC_OPTICS_DP_ROWS)
            return acdc_util_error(ACDC_UTIL_EDATA, "%s: %d is not a double-phase layout", what, l);
        return ACDC_UTIL_OK;
    }
    case K_PAIR_LEVELS: {
        int l = (int)*(const enum acdc_optics_pair_levels *)base;
        if (l != ACDC_OPTICS_PAIRS_JOINT && l != ACDC_OPTICS_PAIRS_NEAREST)
            return acdc_util_error(ACDC_UTIL_EDATA, "%s: %d is not a choice of pair levels", what, l);
        return ACDC_UTIL_OK;
    }
    case K_LENS_MODEL: {
        int l = (int)*(const enum acdc_optics_lens_model *)base;
        if (l < ACDC_OPTICS_LENS_FOURIER || l > ACDC_OPTICS_LENS_CORRECTED)
            return acdc_util_error(ACDC_UTIL_EDATA, "%s: %d is not a lens model", what, l);
        return ACDC_UTIL_OK;
    }
    case K_COUNT:
    case K_FRAMES: {
        size_t v = *(const size_t *)base;
        if (v < (size_t)k->lo || v > (size_t)k->hi)
            return acdc_util_error(ACDC_UTIL_EDATA, "%s: %zu is outside %.0f..%.0f", what, v, k->lo,
                                   k->hi);
        return ACDC_UTIL_OK;
    }
    case K_BITS:
    case K_OVERSAMPLE: {
        int v = *(const int *)base;
        if (k->kind == K_OVERSAMPLE && v == ACDC_COMPILER_OVERSAMPLE_AUTO)
            return ACDC_UTIL_OK;
        if (v < (int)k->lo || v > (int)k->hi)
            return acdc_util_error(ACDC_UTIL_EDATA, "%s: %d is outside %.0f..%.0f", what, v, k->lo,
                                   k->hi);
        return ACDC_UTIL_OK;
    }
    default:
        snprintf(shown, sizeof shown, "%g", dget(p, k));
        return check_range(k, dget(p, k), what, shown);
    }
}

int acdc_compiler_profile_check(const acdc_compiler_profile *p)
{
    if (!p)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "acdc_compiler_profile_check: missing profile");
    char what[80];
    int rc;
    if ((rc = check_name(p->name, sizeof p->name, 1, "'profile.name'")))
        return rc;
    for (size_t i = 0; i < NKEYS; i++) {
        snprintf(what, sizeof what, "profile '%s': '%s.%s'", p->name, keys[i].section,
                 keys[i].key);
        if ((rc = check_key(p, &keys[i], what)))
            return rc;
    }
    /* A double-phase value needs its pair of pixels: k x k superpixels on a phase-only
     * device need k even (optics/device.h).  An ideal profile's devices are complex
     * (acdc_compiler_profile_effective), so any k fits them. */
    const struct {
        const char *section;
        const acdc_optics_modulator *m;
    } mods[] = {{"input", &p->input}, {"fourier", &p->fourier}, {"image", &p->image}};
    for (size_t i = 0; i < COUNT(mods) && p->superpixel % 2 && !p->ideal; i++)
        if (mods[i].m->modulation == ACDC_OPTICS_MOD_PHASE)
            return acdc_util_error(ACDC_UTIL_EDATA,
                                   "profile '%s': 'rules.superpixel': %d is odd, but "
                                   "the %s device is phase-only (a double-phase value needs an "
                                   "even k)", p->name, p->superpixel, mods[i].section);
    return ACDC_UTIL_OK;
}

/* ---------------------------------------------------------------------------------- */
/* acdc_compiler_profile_set                                                                 */

static void trim(const char **s, size_t *n)
{
    while (*n && isspace((unsigned char)**s))
        (*s)++, (*n)--;
    while (*n && isspace((unsigned char)(*s)[*n - 1]))
        (*n)--;
}

int acdc_compiler_profile_set(acdc_compiler_profile *p, const char *assignment)
{
    if (!p || !assignment)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "acdc_compiler_profile_set: missing argument");
    const char *eq = strchr(assignment, '=');
    const char *dot = eq ? memchr(assignment, '.', (size_t)(eq - assignment)) : NULL;
    if (!eq || !dot)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "'%.80s': expected 'section.key=value' (e.g. "
                               "'fourier.phase_bits=6')", assignment);
    const char *sec = assignment, *key = dot + 1, *val = eq + 1;
    size_t ns = (size_t)(dot - sec), nk = (size_t)(eq - key), nv = strlen(val);
    trim(&sec, &ns);
    trim(&key, &nk);
    trim(&val, &nv);
    char s[32], k[32], v[256], what[80], known[160];
    if (ns >= sizeof s || nk >= sizeof k || !known_section(sec, ns))
        return acdc_util_error(ACDC_UTIL_EUSAGE, "'%.80s': unknown section '%.*s' (known: %s)",
                               assignment, (int)(ns < 32 ? ns : 32), sec,
                               KEYS_OF(known, sections));
    memcpy(s, sec, ns);
    s[ns] = '\0';
    memcpy(k, key, nk);
    k[nk] = '\0';
    const struct key *kk = find_key(s, k);
    if (!kk)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "'%.80s': unknown key '%s' in [%s]",
                               assignment, k, s);
    if (nv >= sizeof v)
        return acdc_util_error(ACDC_UTIL_EUSAGE,
                               "'%s.%s': value is longer than %zu characters", s, k,
                               sizeof v - 1);
    memcpy(v, val, nv);
    v[nv] = '\0';
    snprintf(what, sizeof what, "'%s.%s'", s, k);
    acdc_compiler_profile q = *p;
    if (parse_value(kk, v, what, &q)) {
        /* The value came from the caller, not from a file: parse_value's message, a
         * usage error here (a data error in a file). */
        return ACDC_UTIL_EUSAGE;
    }
    *p = q;
    return ACDC_UTIL_OK;
}

int acdc_compiler_profile_key_numeric(const char *name)
{
    const char *dot = strchr(name, '.');
    char s[32];
    if (!dot || (size_t)(dot - name) >= sizeof s)
        return -1;
    memcpy(s, name, (size_t)(dot - name));
    s[dot - name] = '\0';
    const struct key *k = find_key(s, dot + 1);
    if (!k)
        return -1;
    return k->kind >= K_LENGTH;
}

/* ---------------------------------------------------------------------------------- */
/* acdc_compiler_profile_read                                                                */

#define VALUE_MAX 256

struct reader {
    FILE *f;
    const char *path;
    int line;          /* lines handed to inih so far */
    int status;        /* first error, already recorded through acdc_util_error */
    int err_line;
    int any;           /* a key was seen */
    struct {
        int line;      /* 0 = not given */
        char value[VALUE_MAX];
    } given[NKEYS];
};

static int fail(struct reader *r, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Records the first error of a file as "'FILE':LINE: message". */
static int fail(struct reader *r, const char *fmt, ...)
{
    if (r->status)
        return r->status;
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    r->status = acdc_util_error(ACDC_UTIL_EDATA, "'%s':%d: %s", r->path, r->line, msg);
    r->err_line = r->line;
    return r->status;
}

/* Restates the message just recorded (e.g. by util/parse) for the current line. */
static int fail_recorded(struct reader *r)
{
    char msg[768];
    snprintf(msg, sizeof msg, "%s", acdc_util_errmsg());
    return fail(r, "%s", msg);
}

/* inih's fgets-style reader.  Reading the lines ourselves lets us count them (the
 * Debian build of inih passes no line numbers to the handler), reject NUL bytes and
 * over-long lines instead of letting fgets split them, strip leading blanks (inih would
 * take an indented line for the continuation of the previous value) and name unknown or
 * malformed section headers even when the section is empty. */
static char *read_line(char *str, int num, void *stream)
{
    struct reader *r = stream;
    if (r->status || num < 8)
        return NULL;
    const size_t cap = (size_t)num - 2; /* room for '\n' and '\0' */
    size_t n = 0;
    int ch, any = 0, lead = 1, comment = 0, nul = 0, overflow = 0;
    while ((ch = getc(r->f)) != EOF) {
        any = 1;
        if (ch == '\n')
            break;
        if (ch == '\0')
            nul = 1;
        if (lead && ch != '\r' && isspace(ch))
            continue;
        if (lead) {
            lead = 0;
            comment = ch == ';' || ch == '#';
        }
        if (n < cap)
            str[n++] = (char)ch;
        else
            overflow = 1;
    }
    if (ferror(r->f)) {
        r->line++;
        fail(r, "cannot read: %s", strerror(errno));
        return NULL;
    }
    if (!any)
        return NULL;
    if (r->line == INT_MAX) {
        fail(r, "too many lines");
        return NULL;
    }
    r->line++;
    if (nul) {
        fail(r, "line contains a NUL byte (not a text file)");
        return NULL;
    }
    if (overflow && !comment) {
        fail(r, "line is longer than %zu characters", cap);
        return NULL;
    }
    str[n] = '\0';
    /* the shape of the line, with precise messages (inih only says "error on line") */
    char *t = str;
    if (r->line == 1 && !memcmp(t, "\xef\xbb\xbf", 3))
        t += 3;
    while (*t == ' ' || *t == '\t')
        t++;
    if (*t == '[') {
        char *close = strchr(t, ']');
        if (!close) {
            fail(r, "section header '%.40s' has no closing ']'", t);
            return NULL;
        }
        if (!known_section(t + 1, (size_t)(close - t - 1))) {
            char known[160];
            fail(r, "unknown section '%.*s' (known: %s)",
                 (int)(close - t < 40 ? close - t + 1 : 40), t, KEYS_OF(known, sections));
            return NULL;
        }
        for (char *c = close + 1; *c && *c != ';' && *c != '#'; c++)
            if (!isspace((unsigned char)*c)) {
                fail(r, "text after section header '%.*s'",
                     (int)(close - t < 40 ? close - t + 1 : 40), t);
                return NULL;
            }
    } else if (*t && *t != ';' && *t != '#' && *t != '\r' && !strpbrk(t, "=:")) {
        fail(r, "expected 'key = value', '[section]' or a comment, not '%.40s'",
             t);
        return NULL;
    }
    str[n++] = '\n';
    str[n] = '\0';
    return str;
}

static int on_value(void *user, const char *section, const char *name, const char *value)
{
    struct reader *r = user;
    if (r->status)
        return 0;
    r->any = 1;
    if (!*section) {
        fail(r, "key '%.60s' comes before any [section]", name);
        return 0;
    }
    const struct key *k = find_key(section, name);
    if (!k) {
        fail(r, "unknown key '%.60s' in [%s]", name, section);
        return 0;
    }
    size_t i = (size_t)(k - keys);
    if (r->given[i].line) {
        fail(r, "duplicate key '%s.%s' (first given on line %d)", section, name,
             r->given[i].line);
        return 0;
    }
    size_t n = strlen(value);
    if (n >= VALUE_MAX) {
        fail(r, "'%s.%s': value is too long", section, name);
        return 0;
    }
    /* validate now, so that the first bad line is the one reported */
    char what[80];
    snprintf(what, sizeof what, "'%s.%s'", section, name);
    acdc_compiler_profile scratch;
    memset(&scratch, 0, sizeof scratch);
    if (parse_value(k, value, what, &scratch)) {
        fail_recorded(r);
        return 0;
    }
    r->given[i].line = r->line;
    memcpy(r->given[i].value, value, n + 1);
    return 1;
}

int acdc_compiler_profile_read(const char *path, acdc_compiler_profile *p)
{
    if (!path || !p)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "acdc_compiler_profile_read: missing argument");
    struct reader *r = calloc(1, sizeof *r);
    if (!r)
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory reading '%s'", path);
    r->path = path;
    int orc = acdc_util_input_fopen(path, &r->f);
    if (orc) {
        free(r);
        acdc_util_error_prefix("profile");
        return orc == ACDC_UTIL_EIO ? ACDC_UTIL_EDATA : orc;
    }
    int rc = ini_parse_stream(read_line, r, on_value, r);
    fclose(r->f);
    if (!r->status && rc > 0) {
        r->line = rc;
        fail(r, "syntax error (expected 'key = value', '[section]' or a comment)");
    } else if (!r->status && rc < 0) {
        fail(r, "inih could not parse the file (status %d)", rc);
    }
    if (r->status)
        goto out;
    if (!r->any) {
        r->line = r->line ? r->line : 1;
        fail(r, "empty profile: no settings (a profile needs at least [profile] "
             "name and base)");
        goto out;
    }
    const size_t i_base = 0, i_name = 1;
    if (!r->given[i_name].line) {
        fail(r, "[profile] has no 'name'");
        goto out;
    }
    acdc_compiler_profile q;
    memset(&q, 0, sizeof q);
    if (!r->given[i_base].line) {
        /* a complete profile: every value must be given, except device names and keys
         * of sections filled by `device = NAME` */
        const char *section_device = NULL;
        for (size_t i = 0; i < NKEYS; i++) {
            const struct key *k = &keys[i];
            if (k->kind == K_DEVICE && r->given[i].line)
                section_device = k->section;
            if (k->optional || r->given[i].line ||
                (section_device && !strcmp(section_device, k->section)))
                continue;
            fail(r, "no 'base' in [profile], so '%s.%s' must be given (or start "
                 "from a built-in with 'base = slm8')", k->section, k->key);
            goto out;
        }
        /* optional keys left out take their absent value before a section's device
         * (applied below) or the key itself can set them */
        for (size_t i = 0; i < NKEYS; i++)
            if (keys[i].optional)
                absent_value(&keys[i], &q, 1);
    }
    /* the table order applies base first, then each section's device, then its keys */
    for (size_t i = 0; i < NKEYS; i++) {
        if (!r->given[i].line)
            continue;
        char what[80];
        snprintf(what, sizeof what, "'%s.%s'", keys[i].section, keys[i].key);
        if (parse_value(&keys[i], r->given[i].value, what, &q)) {
            r->line = r->given[i].line;
            fail_recorded(r);
            goto out;
        }
    }
    if (acdc_compiler_profile_check(&q)) {
        char msg[768];
        snprintf(msg, sizeof msg, "%s", acdc_util_errmsg());
        r->status = acdc_util_error(ACDC_UTIL_EDATA, "'%s': %s", path, msg);
        goto out;
    }
    *p = q;
out:
    rc = r->status;
    free(r);
    return rc;
}

/* ---------------------------------------------------------------------------------- */
/* acdc_compiler_profile_write_ini                                                           */

static const char *modulation_name(enum acdc_optics_modulation m)
{
    return m == ACDC_OPTICS_MOD_AMPLITUDE ? "amplitude" : m == ACDC_OPTICS_MOD_PHASE ? "phase"
                                                                               : "complex";
}

static const char *dp_layout_name(enum acdc_optics_dp_layout l)
{
    return l == ACDC_OPTICS_DP_CHECKERBOARD ? "checkerboard"
           : l == ACDC_OPTICS_DP_ROWS       ? "rows"
                                            : "columns";
}

static const char *pair_levels_name(enum acdc_optics_pair_levels l)
{
    return l == ACDC_OPTICS_PAIRS_NEAREST ? "nearest" : "joint";
}

static void format_value(const acdc_compiler_profile *p, const struct key *k, char *buf, size_t n)
{
    const char *base = (const char *)p + k->off;
    char num[64];
    switch (k->kind) {
    case K_NAME:
    case K_PATH: snprintf(buf, n, "%s", base); break;
    case K_BOOL: snprintf(buf, n, "%s", *(const int *)base ? "yes" : "no"); break;
    case K_MODULATION:
        snprintf(buf, n, "%s", modulation_name(*(const enum acdc_optics_modulation *)base));
        break;
    case K_DP_LAYOUT:
        snprintf(buf, n, "%s", dp_layout_name(*(const enum acdc_optics_dp_layout *)base));
        break;
    case K_PAIR_LEVELS:
        snprintf(buf, n, "%s", pair_levels_name(*(const enum acdc_optics_pair_levels *)base));
        break;
    case K_LENS_MODEL:
        snprintf(buf, n, "%s",
                 acdc_optics_lens_model_name(*(const enum acdc_optics_lens_model *)base));
        break;
    case K_LENGTH:
    case K_TIME:
    case K_POWER:
    case K_ANGLE:
    case K_FREQ: format_quantity(buf, n, dget(p, k), k->kind); break;
    case K_PLAIN:
    case K_ELECTRONS:
    case K_RATE:
    case K_WAVES:
        spell(num, sizeof num, dget(p, k), 1);
        snprintf(buf, n, "%s%s%s", num, *optional_unit(k->kind) ? " " : "",
                 optional_unit(k->kind));
        break;
    case K_COUNT: snprintf(buf, n, "%zu", *(const size_t *)base); break;
    case K_FRAMES:
        if (*(const size_t *)base == ACDC_COMPILER_FRAMES_AUTO)
            snprintf(buf, n, "auto");
        else
            snprintf(buf, n, "%zu", *(const size_t *)base);
        break;
    case K_BITS:
    case K_OVERSAMPLE:
        if (k->kind == K_OVERSAMPLE && *(const int *)base == ACDC_COMPILER_OVERSAMPLE_AUTO)
            snprintf(buf, n, "auto");
        else
            snprintf(buf, n, "%d", *(const int *)base);
        break;
    default: buf[0] = '\0';
    }
}

int acdc_compiler_profile_write_ini(const acdc_compiler_profile *p, const char *path)
{
    if (!p || !path)
        return acdc_util_error(ACDC_UTIL_EUSAGE,
                               "acdc_compiler_profile_write_ini: missing argument");
    int rc = acdc_compiler_profile_check(p);
    if (rc)
        return rc; /* never write a file that would not read back */
    size_t len = strlen(path);
    char *tmp = malloc(len + 16);
    if (!tmp)
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory writing '%s'", path);
    snprintf(tmp, len + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        rc = acdc_util_error(ACDC_UTIL_EIO, "cannot create '%s': %s", tmp, strerror(errno));
        free(tmp);
        return rc;
    }
    (void)fchmod(fd, 0644);
    FILE *f = fdopen(fd, "w");
    if (!f) {
        rc = acdc_util_error(ACDC_UTIL_EIO, "cannot write '%s': %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        free(tmp);
        return rc;
    }
    fprintf(f, "; acdc-optics device profile '%s' (format: compiler/PROFILES.md)\n", p->name);
    const char *section = "";
    for (size_t i = 0; i < NKEYS; i++) {
        const struct key *k = &keys[i];
        if (k->kind == K_BASE || k->kind == K_DEVICE)
            continue; /* written out in full instead */
        if (strcmp(section, k->section)) {
            fprintf(f, "%s[%s]\n", *section ? "\n" : "", k->section);
            section = k->section;
        }
        /* room for the longest text a key holds (a lookup-table path) */
        char buf[ACDC_OPTICS_LUT_PATH > 128 ? ACDC_OPTICS_LUT_PATH : 128];
        format_value(p, k, buf, sizeof buf);
        fprintf(f, "%s = %s\n", k->key, buf);
    }
    int werr = ferror(f) || fflush(f) || fsync(fileno(f));
    int e = errno;
    if (fclose(f) || werr) {
        rc = acdc_util_error(ACDC_UTIL_EIO, "cannot write '%s': %s", tmp,
                             strerror(werr ? e : errno));
        unlink(tmp);
        free(tmp);
        return rc;
    }
    if (rename(tmp, path)) {
        rc = acdc_util_error(ACDC_UTIL_EIO, "cannot rename '%s' to '%s': %s", tmp, path,
                             strerror(errno));
        unlink(tmp);
        free(tmp);
        return rc;
    }
    free(tmp);
    return ACDC_UTIL_OK;
}

/* ---------------------------------------------------------------------------------- */
/* The profile copy inside a system file (compiler/FORMAT.md): the same keys, kinds and */
/* ranges as the INI file, under the attribute names of the table's h5 column.          */

/* Where key k sits under the profile group g: the profile's own keys, the laser and the
 * design rules on g itself; each device section in a subgroup of its own name. */
static void h5_object(const char *g, const struct key *k, char *obj, size_t n)
{
    if (!strcmp(k->section, "profile") || !strcmp(k->section, "laser") ||
        !strcmp(k->section, "rules"))
        snprintf(obj, n, "%s", g);
    else
        snprintf(obj, n, "%s/%s", g, k->section);
}

static int h5_put(hid_t loc, const char *obj, const acdc_compiler_profile *p, const struct key *k)
{
    const char *base = (const char *)p + k->off;
    switch (k->kind) {
    case K_BASE:
    case K_DEVICE:
        return ACDC_UTIL_OK;
    case K_NAME:
    case K_PATH:
        return acdc_util_h5_set_attr_str(loc, obj, k->h5, base);
    case K_MODULATION:
        return acdc_util_h5_set_attr_str(loc, obj, k->h5,
                                         modulation_name(*(const enum acdc_optics_modulation *)base));
    case K_DP_LAYOUT:
        return acdc_util_h5_set_attr_str(loc, obj, k->h5,
                                         dp_layout_name(*(const enum acdc_optics_dp_layout *)base));
    case K_PAIR_LEVELS:
        return acdc_util_h5_set_attr_str(loc, obj, k->h5,
                                         pair_levels_name(*(const enum acdc_optics_pair_levels *)base));
    case K_LENS_MODEL:
        return acdc_util_h5_set_attr_str(loc, obj, k->h5,
                                         acdc_optics_lens_model_name(*(const enum acdc_optics_lens_model *)base));
    case K_BOOL:
    case K_BITS:
    case K_OVERSAMPLE:
        return acdc_util_h5_set_attr_i64(loc, obj, k->h5, *(const int *)base);
    case K_COUNT:
    case K_FRAMES:
        return acdc_util_h5_set_attr_i64(loc, obj, k->h5, (int64_t)*(const size_t *)base);
    default:
        return acdc_util_h5_set_attr_f64(loc, obj, k->h5, dget(p, k));
    }
}

int acdc_compiler_profile_write_h5(hid_t loc, const char *group, const acdc_compiler_profile *p)
{
    int rc = acdc_compiler_profile_check(p);
    if (rc)
        return rc; /* never write a copy that would not read back */
    if (p->fourier_oversample == ACDC_COMPILER_OVERSAMPLE_AUTO)
        return acdc_util_error(ACDC_UTIL_EDATA,
                               "profile '%s': 'rules.fourier_oversample' is auto; a "
                               "system file's copy holds the design the compiler chose", p->name);
    char obj[256];
    for (size_t i = 0; i < NKEYS; i++) {
        if (!keys[i].h5)
            continue;
        h5_object(group, &keys[i], obj, sizeof obj);
        if ((rc = acdc_util_h5_group(loc, obj)) || (rc = h5_put(loc, obj, p, &keys[i])))
            return rc;
    }
    return ACDC_UTIL_OK;
}

/* Reads key k from attribute k->h5 on obj into *q, with the table's range; messages
 * start with what. */
static int h5_get(hid_t loc, const char *file, const char *obj, const struct key *k,
                  const char *what, acdc_compiler_profile *q)
{
    char text[256];
    int64_t iv;
    double v;
    int rc;
    switch (k->kind) {
    case K_BASE:
    case K_DEVICE:
        return ACDC_UTIL_OK;
    case K_NAME:
    case K_PATH:
    case K_MODULATION:
    case K_DP_LAYOUT:
    case K_PAIR_LEVELS:
    case K_LENS_MODEL:
        if ((rc = acdc_util_h5_attr_str(loc, file, obj, k->h5, text, sizeof text)))
            return rc;
        return parse_value(k, text, what, q);
    case K_BOOL:
    case K_BITS:
    case K_OVERSAMPLE:
    case K_COUNT:
    case K_FRAMES:
        if ((rc = acdc_util_h5_attr_i64(loc, file, obj, k->h5, &iv)))
            return rc;
        if (iv < (int64_t)k->lo || iv > (int64_t)k->hi)
            return acdc_util_error(ACDC_UTIL_EDATA, "%s: %lld is outside %.0f..%.0f", what,
                                   (long long)iv, k->lo, k->hi);
        if (k->kind == K_COUNT || k->kind == K_FRAMES)
            *(size_t *)((char *)q + k->off) = (size_t)iv;
        else
            *(int *)((char *)q + k->off) = (int)iv;
        return ACDC_UTIL_OK;
    default:
        if ((rc = acdc_util_h5_attr_f64(loc, file, obj, k->h5, &v)))
            return rc;
        snprintf(text, sizeof text, "%g", v);
        if ((rc = check_range(k, v, what, text)))
            return rc;
        *dfield(q, k) = v;
        return ACDC_UTIL_OK;
    }
}

int acdc_compiler_profile_read_h5(hid_t loc, const char *file, const char *group,
                                  acdc_compiler_profile *p)
{
    acdc_compiler_profile q;
    memset(&q, 0, sizeof q);
    char obj[256], what[600];
    int rc;
    for (size_t i = 0; i < NKEYS; i++) {
        const struct key *k = &keys[i];
        if (!k->h5)
            continue;
        h5_object(group, k, obj, sizeof obj);
        if (k->h5_optional == H5_WITH_GROUP ? !acdc_util_h5_exists(loc, obj)
            : k->h5_optional && !acdc_util_h5_attr_exists(loc, obj, k->h5)) {
            absent_value(k, &q, 0); /* written before the key existed */
            continue;
        }
        snprintf(what, sizeof what, "attribute '%s' on '%s' in '%s' ('%s.%s')", k->h5, obj,
                 file, k->section, k->key);
        if ((rc = h5_get(loc, file, obj, k, what, &q)))
            return rc;
    }
    *p = q;
    return ACDC_UTIL_OK;
}
