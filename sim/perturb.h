/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sim/perturb.h -- perturbations of a fixed, built system: what a lab's bench does to
 * the design after it is made (tolerance analysis, issue 15).
 *
 * A perturbation changes the light, never the compiled masks, the detection design or
 * the calibration: the system is calibrated as built (sim/run.c, calibrate()) and then
 * suffers the perturbation, as a drift would.  Every value is in SI units (or a plain
 * ratio), 0 = none; a simulation with every value 0 is bitwise the unperturbed one.
 * Profile overrides (`--set`, `--vary SECTION.KEY`) recompile the system instead: the
 * design adapts to them, the bench does not.
 */
#ifndef SIM_PERTURB_H
#define SIM_PERTURB_H

#include <stddef.h>

enum sim_perturb_id {
    SIM_PERTURB_REF_PHASE = 0,   /* the homodyne reference's phase drift, rad */
    SIM_PERTURB_REF_AMPLITUDE,   /* its amplitude error, relative (0.01 = 1 % too bright) */
    SIM_PERTURB_GAIN_RMS,        /* camera gain non-uniformity: each pixel's response
                                    times 1 + N(0, rms), drawn once per seed (a fixed
                                    camera), relative */
    SIM_PERTURB_WAIST,           /* Gaussian illumination of the input modulators,
                                    amplitude exp(-r^2 / w^2) about the axis, waist w in m
                                    (0: flat) */
    SIM_PERTURB_SHIFT_INPUT,     /* lateral (x) displacement of every input modulator, m */
    SIM_PERTURB_SHIFT_FOURIER,   /* ... of every Fourier-plane mask, m */
    SIM_PERTURB_SHIFT_IMAGE,     /* ... of every image-plane mask, m */
    SIM_PERTURB_DEFOCUS_INPUT,   /* axial displacement of every input modulator, m,
                                    positive downstream (toward the first lens) */
    SIM_PERTURB_DEFOCUS_FOURIER, /* ... of every Fourier-plane mask, m */
    SIM_PERTURB_DEFOCUS_CAMERA,  /* ... of every camera, m */
    SIM_PERTURB_FOCAL,           /* every lens's focal length times 1 + e, the distances
                                    as built (relative) */
    SIM_PERTURB_WAVELENGTH,      /* the laser's wavelength detuned by this much, m: the
                                    devices' retardances and the diffraction at the new
                                    wavelength, the geometry as built */
    SIM_PERTURB_CROSSTALK,       /* SLM pixel crosstalk: every liquid-crystal device's
                                    retardance blurred over this rms width, m
                                    (optics_fringing(); fabricated elements have none) */
    SIM_PERTURB_ROTATE_INPUT,    /* in-plane rotation of every input modulator, rad (2D
                                    systems) */
    SIM_PERTURB_ROTATE_FOURIER,  /* ... of every Fourier-plane mask */
    SIM_PERTURB_ROTATE_IMAGE,    /* ... of every image-plane mask */
    SIM_PERTURB_LENS_SPHERICAL,  /* wavefront error added to every lens, waves rms over
                                    its clear aperture (optics/lens.h): primary
                                    spherical, Zernike Z11 */
    SIM_PERTURB_LENS_COMA,       /* ... coma along x, Z8 */
    SIM_PERTURB_LENS_ASTIGMATISM,/* ... astigmatism at 0°, Z6 */
    SIM_PERTURB_COUNT
};

typedef struct sim_perturb_info {
    const char *name;     /* "ref-phase": as --perturb and --vary take it */
    const char *unit;     /* util_parse_quantity's base unit: "rad", "m" or "" (a ratio);
                             or "waves" (a number, "waves" after it optional) */
    double lo, hi;        /* the range accepted */
    int window_only;      /* 1: needs the window method (not the 2D pixel-exact one:
                             sim_exact()), which samples every plane; 2: also free space
                             between the lenses (fresnel or asm propagation); 3: the
                             window method on a 2D system; 4: a 2D system, either
                             method */
    const char *help;     /* one line */
    double scale;         /* a size a lab meets (in unit): where a search for the
                             tolerance starts */
    int inverse;          /* 1: smaller values perturb more (a waist: 0 is none, a
                             narrow beam the worst) */
} sim_perturb_info;

/* The table, SIM_PERTURB_COUNT rows in the order of enum sim_perturb_id. */
const sim_perturb_info *sim_perturb_table(void);

/* The id of a perturbation's name, or -1. */
int sim_perturb_find(const char *name);

/* The names, comma-separated, for messages and help ("ref-phase, ref-amplitude, ..."). */
const char *sim_perturb_names(void);

/* Parses the value of perturbation id ("2 mrad", "5um", "0.01") into *v, in the table's
 * unit and range.  what names the option in messages.  Errors: UTIL_EUSAGE. */
int sim_perturb_value(int id, const char *text, const char *what, double *v);

/* Parses "NAME=VALUE" into values[id].  Errors: UTIL_EUSAGE naming the assignment (an
 * unknown name, with the known ones; a bad value). */
int sim_perturb_parse(const char *assignment, double values[SIM_PERTURB_COUNT]);

/* "ref-phase=0.01 rad; waist=0.005 m" for the values not 0 ("" for none) into buf;
 * with "; chain K only" where chain (sim_options.chain) is not 0. */
void sim_perturb_describe(const double values[SIM_PERTURB_COUNT], int chain, char *buf,
                          size_t cap);

/* 1 if any value is not 0. */
int sim_perturb_any(const double values[SIM_PERTURB_COUNT]);

#endif
