/* compiler/profile.h -- device profiles: the hardware a model is compiled for.
 *
 * A profile names the laser, the modulators (input encoder, Fourier-plane masks,
 * image-plane masks), the lenses and the camera, every value in SI units.  Built-in
 * profiles cover typical devices; user profiles are INI files (compiler/PROFILES.md)
 * read with inih, each value with its unit ("8 um", "633 nm", "1 mW").
 */
#ifndef COMPILER_PROFILE_H
#define COMPILER_PROFILE_H

#include <stddef.h>

/* What a modulator can show in one pixel. */
enum compiler_modulation {
    COMPILER_MOD_COMPLEX = 0,  /* amplitude 0..1 and phase: any |t| <= 1 */
    COMPILER_MOD_AMPLITUDE,    /* amplitude 0..1 only: t >= 0 */
    COMPILER_MOD_PHASE         /* phase only, |t| = 1; real values by double-phase
                                  encoding (Hsueh & Sawchuk 1978) */
};

typedef struct compiler_modulator {
    char name[64];                  /* e.g. "Holoeye-class 8-bit phase SLM" */
    enum compiler_modulation modulation;
    double pitch_m;                 /* pixel pitch, > 0 */
    double fill;                    /* fill factor, (0, 1] */
    size_t pixels;                  /* pixels along x available, >= 1 */
    int amplitude_bits;             /* levels 2^bits of amplitude; 0 = continuous */
    int phase_bits;                 /* levels 2^bits of phase over 2π; 0 = continuous */
    double phase_error_rad;         /* rms phase error (fabrication, drive jitter), >= 0 */
} compiler_modulator;

typedef struct compiler_camera {
    char name[64];
    double pitch_m;                 /* pixel pitch, > 0 */
    double fill;                    /* (0, 1] */
    size_t pixels;                  /* along x */
    double quantum_efficiency;      /* (0, 1] */
    double full_well_e;             /* electrons, > 0 */
    double read_noise_e;            /* electrons rms, >= 0 */
    double dark_current_e_per_s;    /* electrons per second per pixel, >= 0 */
    int adc_bits;                   /* 0 = no quantisation */
    double exposure_s;              /* > 0 */
} compiler_camera;

typedef struct compiler_profile {
    char name[64];                  /* "ideal", "slm8", ... or the file's [profile] name */
    int ideal;                      /* 1: no quantisation, no noise, no limits */
    double wavelength_m;            /* laser vacuum wavelength, > 0 */
    double laser_power_w;           /* optical power on the input modulator, > 0 */
    compiler_modulator input;       /* encodes the input vector */
    compiler_modulator fourier;     /* Fourier-plane masks (d) */
    compiler_modulator image;       /* image-plane masks (a of chained layers) */
    compiler_camera camera;
    double max_focal_m;             /* design rule: longest practical focal length */
    double max_na;                  /* design rule: paraxial validity, e.g. 0.1 */
    double max_length_m;            /* design rule: longest optical train */
    int fourier_oversample;         /* 0: design for point samples (the discrete model);
                                       R >= 1: pixel-aware design with R Fourier-plane
                                       samples per frequency step (compiler/README.md) */
} compiler_profile;

/* Fills *p with built-in profile `name`.  Errors: UTIL_EUSAGE listing the names. */
int compiler_profile_builtin(const char *name, compiler_profile *p);

/* Names of the built-in profiles, NULL-terminated. */
const char *const *compiler_profile_names(void);

/* Reads a profile file (INI; see compiler/PROFILES.md).  Unknown sections or keys,
 * values without a unit where one is needed, units of the wrong kind, out-of-range
 * numbers: UTIL_EDATA with "file:line: message".  A file may start from a built-in
 * profile with `base = NAME` in its [profile] section and override single values. */
int compiler_profile_read(const char *path, compiler_profile *p);

/* Checks every value's range.  Errors: UTIL_EDATA naming the value. */
int compiler_profile_check(const compiler_profile *p);

/* Overrides one value given as "section.key=value" (e.g. "fourier.phase_bits=6",
 * "camera.exposure=2 ms"), with the same parsing as the file. */
int compiler_profile_set(compiler_profile *p, const char *assignment);

/* Writes a profile as INI text that compiler_profile_read() reads back identically. */
int compiler_profile_write_ini(const compiler_profile *p, const char *path);

#endif
