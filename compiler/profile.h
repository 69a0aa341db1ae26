/* SPDX-License-Identifier: GPL-3.0-or-later */
/* compiler/profile.h -- device profiles: the hardware a model is compiled for.
 *
 * A profile names the laser, the modulators (input encoder, Fourier-plane masks,
 * image-plane masks), the lenses and the camera, every value in SI units.  Built-in
 * profiles cover typical devices; user profiles are INI files (compiler/PROFILES.md)
 * read with inih, each value with its unit ("8 um", "633 nm", "1 mW").
 */
#ifndef ACDC_COMPILER_PROFILE_H
#define ACDC_COMPILER_PROFILE_H

#include <hdf5.h>
#include <stddef.h>

#include "optics/detector.h"
#include "optics/device.h"
#include "optics/lens.h"

/* rules.fourier_oversample = auto: the compiler tries R = 2, then 1, then the point
 * design (0), and keeps the first whose devices and design rules hold.  The real
 * built-in profiles have it; a system file's profile copy always holds the R chosen. */
#define ACDC_COMPILER_OVERSAMPLE_AUTO (-1)

/* camera.frames = 0: the compiler averages as many exposures as one frame of the input
 * modulator holds (acdc_compiler_frames(), compiler/system.h); the real built-ins have it. */
#define ACDC_COMPILER_FRAMES_AUTO 0

/* The devices are optics/device.h's modulators, optics/lens.h's lens and
 * optics/detector.h's camera; a profile names them, with the laser and the design
 * rules. */
typedef struct acdc_compiler_profile {
    char name[64];                  /* "ideal", "slm8", ... or the file's [profile] name */
    int ideal;                      /* 1: no quantisation, no noise, no limits */
    double wavelength_m;            /* laser vacuum wavelength, > 0 */
    double laser_power_w;           /* optical power on the input modulator, > 0 */
    acdc_optics_modulator input;       /* encodes the input vector */
    acdc_optics_modulator fourier;     /* Fourier-plane masks (d) */
    acdc_optics_modulator image;       /* image-plane masks (a of chained layers) */
    acdc_optics_lens lens;               /* every lens of the system: its model and wavefront
                                       error, which the simulator uses (the compiler
                                       designs for ideal Fourier lenses whatever it
                                       says); focal length and aperture are the design's,
                                       not part of a profile (0 here) */
    acdc_optics_camera camera;           /* its operating conditions (wavelength, shot_noise,
                                       seed) are not part of a profile */
    double max_focal_m;             /* design rule: longest practical focal length */
    double max_na;                  /* design rule: paraxial validity, e.g. 0.1 */
    double max_length_m;            /* design rule: longest optical train */
    int fourier_oversample;         /* 0: design for point samples (the discrete model);
                                       R >= 1: pixel-aware design with R Fourier-plane
                                       samples per frequency step (compiler/README.md);
                                       ACDC_COMPILER_OVERSAMPLE_AUTO: the best design that fits
                                       the devices, chosen by acdc_compiler_compile() */
    int superpixel;                 /* 2D systems: k x k device pixels per sample on every
                                       modulator (k even on phase-only devices: a
                                       double-phase value needs two pixels); 0: chosen by
                                       the compiler (compiler/README.md) */
    double fourier_clip;            /* c in (0, 1): a Fourier mask is scaled so that c
                                       times its largest |value| shows at full
                                       modulation, the few values above clipped to it
                                       (compiler/README.md, "Clipping the Fourier
                                       masks"); 0 or 1: not clipped */
    size_t frames;                  /* camera exposures averaged per inference, >= 1, or
                                       0: as many as one input frame holds, chosen by
                                       the compiler (camera.frames = 0; acdc_compiler_frames(),
                                       compiler/README.md, Detection) */
} acdc_compiler_profile;

/* The profile as a design and a simulation see it: p itself, except that an ideal
 * profile's modulators are ideal (acdc_optics_modulator_ideal(): continuous complex values,
 * fill 1, no phase error, one pixel per sample) and its camera's pixels fill their
 * pitch. */
void acdc_compiler_profile_effective(const acdc_compiler_profile *p, acdc_compiler_profile *out);

/* Fills *p with built-in profile `name`.  Errors: ACDC_UTIL_EUSAGE listing the names. */
int acdc_compiler_profile_builtin(const char *name, acdc_compiler_profile *p);

/* Names of the built-in profiles, NULL-terminated. */
const char *const *acdc_compiler_profile_names(void);

/* Reads a profile file (INI; see compiler/PROFILES.md).  Unknown sections or keys,
 * values without a unit where one is needed, units of the wrong kind, out-of-range
 * numbers: ACDC_UTIL_EDATA with "file:line: message".  A file may start from a built-in
 * profile with `base = NAME` in its [profile] section and override single values; a
 * file without base may leave out the keys added later (rows 1, double_phase columns,
 * fourier_oversample and superpixel 0, frame_rate 0 -- not given --, camera.frames
 * 1, the [lens] section: model fourier, no wavefront error). */
int acdc_compiler_profile_read(const char *path, acdc_compiler_profile *p);

/* Checks every value's range, and that an odd superpixel (2D systems) is not asked of a
 * phase-only device of a non-ideal profile (a double-phase pair needs k even).  Errors:
 * ACDC_UTIL_EDATA naming the value. */
int acdc_compiler_profile_check(const acdc_compiler_profile *p);

/* Overrides one value given as "section.key=value" (e.g. "fourier.phase_bits=6",
 * "camera.exposure=2 ms"), with the same parsing as the file. */
int acdc_compiler_profile_set(acdc_compiler_profile *p, const char *assignment);

/* 1 if "section.key" names a numeric key (a length, a power, a count, bits ...), 0 if a
 * text key (a name, a path, a device, a choice), -1 if no key has that name: what a
 * range of values (acdc sweep --vary) may be made of. */
int acdc_compiler_profile_key_numeric(const char *name);

/* Writes a profile as INI text that acdc_compiler_profile_read() reads back identically. */
int acdc_compiler_profile_write_ini(const acdc_compiler_profile *p, const char *path);

/* The profile copy inside a system file (compiler/FORMAT.md, `/profile`): every key of
 * the INI format, as an attribute of group `group` (the profile's own keys, the laser
 * and the rules) or of its subgroups `input`, `fourier`, `image`, `lens`, `camera`,
 * under the attribute name with its SI unit (`pitch_m`, `full_well_e`,
 * `wavefront_rms_waves`, ...).  Both walk the key
 * table the INI reader and writer use, so the two formats cannot disagree.
 * acdc_compiler_profile_write_h5 refuses a profile that fails acdc_compiler_profile_check()
 * (ACDC_UTIL_EDATA); HDF5 failures are ACDC_UTIL_EIO.  acdc_compiler_profile_read_h5 fills *p only
 * on success; a missing attribute, one of the wrong kind or a value outside the key's
 * range is ACDC_UTIL_EDATA naming the attribute, the group, file (used in messages only)
 * and the key ('fourier.phase_bits').  Keys added after system files existed may be
 * absent and read as the value that keeps the old meaning: `rules.fourier_oversample`
 * (before pixel-aware designs) and `rules.superpixel` 0, each device's `rows` 1 and
 * `double_phase` columns (before 2D designs), each device's `frame_rate` 0 (not given)
 * and `camera.frames` 1 (before designed detection). */
int acdc_compiler_profile_write_h5(hid_t loc, const char *group, const acdc_compiler_profile *p);
int acdc_compiler_profile_read_h5(hid_t loc, const char *file, const char *group,
                                  acdc_compiler_profile *p);

#endif
