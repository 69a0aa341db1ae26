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
#ifndef ACDC_SIM_PERTURB_H
#define ACDC_SIM_PERTURB_H

#include <stddef.h>

enum acdc_sim_perturb_id {
    ACDC_SIM_PERTURB_REF_PHASE = 0,   /* the homodyne reference's phase drift, rad */
    ACDC_SIM_PERTURB_REF_AMPLITUDE,   /* its amplitude error, relative (0.01 = 1 % too bright) */
    ACDC_SIM_PERTURB_GAIN_RMS,        /* camera gain non-uniformity: each pixel's response
                                    times 1 + N(0, rms), drawn once per seed (a fixed
                                    camera), relative */
    ACDC_SIM_PERTURB_WAIST,           /* Gaussian illumination of the input modulators,
                                    amplitude exp(-r^2 / w^2) about the axis, waist w in m
                                    (0: flat) */
    ACDC_SIM_PERTURB_SHIFT_INPUT,     /* lateral (x) displacement of every input modulator, m */
    ACDC_SIM_PERTURB_SHIFT_FOURIER,   /* ... of every Fourier-plane mask, m */
    ACDC_SIM_PERTURB_SHIFT_IMAGE,     /* ... of every image-plane mask, m */
    ACDC_SIM_PERTURB_DEFOCUS_INPUT,   /* axial displacement of every input modulator, m,
                                    positive downstream (toward the first lens) */
    ACDC_SIM_PERTURB_DEFOCUS_FOURIER, /* ... of every Fourier-plane mask, m */
    ACDC_SIM_PERTURB_DEFOCUS_CAMERA,  /* ... of every camera, m */
    ACDC_SIM_PERTURB_FOCAL,           /* every lens's focal length times 1 + e, the distances
                                    as built (relative) */
    ACDC_SIM_PERTURB_WAVELENGTH,      /* the laser's wavelength detuned by this much, m: the
                                    devices' retardances and the diffraction at the new
                                    wavelength, the geometry as built */
    ACDC_SIM_PERTURB_CROSSTALK,       /* SLM pixel crosstalk: every liquid-crystal device's
                                    retardance blurred over this rms width, m
                                    (acdc_optics_fringing(); fabricated elements have none) */
    ACDC_SIM_PERTURB_ROTATE_INPUT,    /* in-plane rotation of every input modulator, rad (2D
                                    systems) */
    ACDC_SIM_PERTURB_ROTATE_FOURIER,  /* ... of every Fourier-plane mask */
    ACDC_SIM_PERTURB_ROTATE_IMAGE,    /* ... of every image-plane mask */
    ACDC_SIM_PERTURB_LENS_SPHERICAL,  /* wavefront error added to every lens, waves rms over
                                    its clear aperture (optics/lens.h): primary
                                    spherical, Zernike Z11 */
    ACDC_SIM_PERTURB_LENS_COMA,       /* ... coma along x, Z8 */
    ACDC_SIM_PERTURB_LENS_ASTIGMATISM,/* ... astigmatism at 0°, Z6 */
    ACDC_SIM_PERTURB_COUNT
};

typedef struct acdc_sim_perturb_info {
    const char *name;     /* "ref-phase": as --perturb and --vary take it */
    const char *unit;     /* acdc_util_parse_quantity's base unit: "rad", "m" or "" (a ratio);
                             or "waves" (a number, "waves" after it optional) */
    double lo, hi;        /* the range accepted */
    int window_only;      /* 1: needs the window method (not the 2D pixel-exact one:
                             acdc_sim_exact()), which samples every plane; 2: also free space
                             between the lenses (fresnel or asm propagation); 3: the
                             window method on a 2D system; 4: a 2D system, either
                             method */
    const char *help;     /* one line */
    double scale;         /* a size a lab meets (in unit): where a search for the
                             tolerance starts */
    int inverse;          /* 1: smaller values perturb more (a waist: 0 is none, a
                             narrow beam the worst) */
} acdc_sim_perturb_info;

/* The table, ACDC_SIM_PERTURB_COUNT rows in the order of enum acdc_sim_perturb_id. */
const acdc_sim_perturb_info *acdc_sim_perturb_table(void);

/* The id of a perturbation's name, or -1. */
int acdc_sim_perturb_find(const char *name);

/* The names, comma-separated, for messages and help ("ref-phase, ref-amplitude, ..."). */
const char *acdc_sim_perturb_names(void);

/* Parses the value of perturbation id ("2 mrad", "5um", "0.01") into *v, in the table's
 * unit and range.  what names the option in messages.  Errors: ACDC_UTIL_EUSAGE. */
int acdc_sim_perturb_value(int id, const char *text, const char *what, double *v);

/* Parses "NAME=VALUE" into values[id].  Errors: ACDC_UTIL_EUSAGE naming the assignment (an
 * unknown name, with the known ones; a bad value). */
int acdc_sim_perturb_parse(const char *assignment, double values[ACDC_SIM_PERTURB_COUNT]);

/* "ref-phase=0.01 rad; waist=0.005 m" for the values not 0 ("" for none) into buf;
 * with "; chain K only" where chain (acdc_sim_options.chain) is not 0. */
void acdc_sim_perturb_describe(const double values[ACDC_SIM_PERTURB_COUNT], int chain, char *buf,
                               size_t cap);

/* 1 if any value is not 0. */
int acdc_sim_perturb_any(const double values[ACDC_SIM_PERTURB_COUNT]);

#endif
