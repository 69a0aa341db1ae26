/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cli/simopts.c -- the options `acdc simulate` and `acdc sweep` share. */
#include "cli/cli.h"
#include "sim/result.h"
#include "sim/simulate.h"
#include "util/error.h"
#include "util/parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_sets_init(cli_sets *s, int argc)
{
    /* Each shortcut option adds up to three assignments (input, Fourier and image). */
    s->n = 0;
    s->v = calloc(3 * (size_t)argc + 4, sizeof *s->v);
    s->owned = calloc(3 * (size_t)argc + 4, sizeof *s->owned);
    if (!s->v || !s->owned) {
        cli_sets_clear(s);
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for the profile assignments of %d "
                               "arguments", argc);
    }
    return ACDC_UTIL_OK;
}

void cli_sets_clear(cli_sets *s)
{
    free(s->v);
    free(s->owned);
    s->v = NULL;
    s->owned = NULL;
    s->n = 0;
}

const cli_option cli_sim_options[] = {
    CLI_OPT(0, "propagation", "P", CLI_SIM_PROPAGATION,
            "profile (default: from the lens model -- fourier: ideal, or fresnel when it has a "
            "wavefront error (the exact transform with the error in the lens plane); "
            "paraxial: fresnel; corrected: asm; 2D systems, unequal pitches and asm at S = 1 keep ideal), ideal "
            "(Fourier-transform lenses), fresnel (free space + the lens in its paraxial form, "
            "Fresnel transfer function) or asm (band-limited angular spectrum, the lens's "
            "own model)"),
    CLI_OPT(0, "lens", "L", CLI_SIM_LENS,
            "profile (default: the profile's [lens], its model and wavefront error), or a "
            "perfect lens of model fourier, paraxial or corrected in every position"),
    CLI_OPT(0, "no-noise", NULL, CLI_SIM_NO_NOISE,
            "noise-free camera (masks keep their quantisation)"),
    CLI_OPT(0, "photons", "N", CLI_SIM_PHOTONS,
            "photons per inference on each chain's input modulator at full scale over its "
            "designed exposures (sets the light level; the detection design stays as "
            "compiled, so more light than designed saturates the camera)"),
    CLI_OPT(0, "phase-error", "R", CLI_SIM_PHASE_ERROR,
            "rms phase error of every mask pixel (rad, or 'mrad')"),
    CLI_OPT(0, "phase-bits", "B", CLI_SIM_PHASE_BITS,
            "Fourier- and image-mask phase levels 2^B (recompiles)"),
    CLI_OPT(0, "amplitude-bits", "B", CLI_SIM_AMPLITUDE_BITS,
            "Fourier- and image-mask amplitude levels (recompiles)"),
    CLI_OPT(0, "perturb", "NAME=VALUE", CLI_SIM_PERTURB,
            "perturb the built system, in SI units (repeatable; not recompiled: the masks, "
            "detection and calibration stay as built, the bench drifts): ref-phase (rad), "
            "ref-amplitude (relative), gain-rms (relative), waist (m; Gaussian "
            "illumination), shift-input, shift-fourier, shift-image (m, lateral), "
            "defocus-input, defocus-fourier, defocus-camera (m, axial), focal (relative), "
            "wavelength (m, detuning), crosstalk (m, fringing width), rotate-input, "
            "rotate-fourier, rotate-image (rad, 2D), lens-spherical, lens-coma, "
            "lens-astigmatism (waves rms added to every lens) -- sim/README.md, "
            "Perturbations"),
    CLI_OPT(0, "perturb-chain", "K", CLI_SIM_PERTURB_CHAIN,
            "the displacements (shift-*, defocus-*), rotations and the reference's error "
            "act on optical chain K alone (1..the system's chains; its input modulator, "
            "masks, camera and reference arm), the other chains as built; the rest stay "
            "on every element (default 0: every chain)"),
    CLI_OPT(0, "misalign-x", "D", CLI_SIM_MISALIGN_X,
            "displace every mask laterally by D samples (0.5px; a sample is a double-phase "
            "pair on phase-only devices)"),
    CLI_OPT(0, "oversample", "S", CLI_SIM_OVERSAMPLE,
            "S sub-samples per sample in every plane (default 1, or 4 for a pixel-aware "
            "system): the pixels are resolved -- fill factor, dead space, both pixels of a "
            "double-phase pair, diffraction orders; S^2 times the work in 1D (and with "
            "free space), in 2D with ideal lenses only the setup grows"),
    CLI_OPT(0, "fill", "F", CLI_SIM_FILL,
            "fill factor of every modulator, 0 < F <= 1 (recompiles; seen only with "
            "--oversample 2 or more)"),
    CLI_OPT(0, "set", "SEC.KEY=VAL", CLI_SIM_SET,
            "any profile value (recompiles), e.g. camera.adc_bits=10"),
    CLI_OPT(0, "seed", "S", CLI_SIM_SEED, "random seed (default 1)"),
    CLI_OPT(0, "threads", "T", CLI_SIM_THREADS,
            "threads (default 1); results do not depend on it"),
    CLI_OPT_END};

static void add_owned(cli_sets *s, const char *assignment)
{
    snprintf(s->owned[s->n], sizeof s->owned[0], "%s", assignment);
    s->v[s->n] = s->owned[s->n];
    s->n++;
}

int cli_sim_option(int key, const char *arg, acdc_sim_options *o, cli_sets *sets, int *rc)
{
    int64_t iv;
    *rc = ACDC_UTIL_OK;
    switch (key) {
    case CLI_SIM_PROPAGATION:
        if ((*rc = acdc_sim_propagation_parse(arg, &o->propagation)))
            acdc_util_error_prefix("--propagation");
        return 1;
    case CLI_SIM_LENS: {
        enum acdc_optics_lens_model m;
        if (!strcmp(arg, "profile"))
            o->lens = ACDC_SIM_LENS_PROFILE;
        else if (!acdc_optics_lens_model_parse(arg, &m))
            o->lens = m == ACDC_OPTICS_LENS_FOURIER    ? ACDC_SIM_LENS_FOURIER
                      : m == ACDC_OPTICS_LENS_PARAXIAL ? ACDC_SIM_LENS_PARAXIAL
                                                  : ACDC_SIM_LENS_CORRECTED;
        else
            *rc = acdc_util_error(ACDC_UTIL_EUSAGE, "--lens: '%s' is not profile, fourier, paraxial "
                                  "or corrected", arg);
        return 1;
    }
    case CLI_SIM_NO_NOISE:
        o->noise = 0;
        return 1;
    case CLI_SIM_PHOTONS:
        *rc = acdc_util_parse_double(arg, "--photons", 1, 1e30, &o->photons);
        return 1;
    case CLI_SIM_PHASE_ERROR:
        *rc = acdc_util_parse_quantity(arg, "--phase-error", "rad", 0, 10, &o->phase_error_rad);
        return 1;
    case CLI_SIM_PHASE_BITS:
    case CLI_SIM_AMPLITUDE_BITS: {
        const int phase = key == CLI_SIM_PHASE_BITS;
        if (!(*rc = acdc_util_parse_int(arg, phase ? "--phase-bits" : "--amplitude-bits", 0, 16,
                                        &iv))) {
            char two[2][64];
            acdc_sim_mask_bits_sets(phase, (long long)iv, two);
            add_owned(sets, two[0]);
            add_owned(sets, two[1]);
        }
        return 1;
    }
    case CLI_SIM_SET:
        sets->v[sets->n++] = (char *)arg;
        return 1;
    case CLI_SIM_OVERSAMPLE:
        if (!(*rc = acdc_util_parse_int(arg, "--oversample", 1, 64, &iv)))
            o->oversample = (int)iv;
        return 1;
    case CLI_SIM_FILL: {
        /* Every modulator's fill factor; checked like the profile's own value. */
        double v;
        if (!(*rc = acdc_util_parse_double(arg, "--fill", 1e-6, 1, &v)))
            for (int i = 0; i < 3; i++) {
                static const char *dev[3] = {"input", "fourier", "image"};
                snprintf(sets->owned[sets->n], sizeof sets->owned[0], "%s.fill=%.17g",
                         dev[i], v);
                sets->v[sets->n] = sets->owned[sets->n];
                sets->n++;
            }
        return 1;
    }
    case CLI_SIM_SEED:
        if (!(*rc = acdc_util_parse_int(arg, "--seed", 0, INT64_MAX / 2, &iv)))
            o->seed = (uint64_t)iv;
        return 1;
    case CLI_SIM_THREADS:
        if (!(*rc = acdc_util_parse_int(arg, "--threads", 1, 256, &iv)))
            o->threads = (int)iv;
        return 1;
    case CLI_SIM_PERTURB:
        *rc = acdc_sim_perturb_parse(arg, o->perturb);
        return 1;
    case CLI_SIM_PERTURB_CHAIN:
        if (!(*rc = acdc_util_parse_int(arg, "--perturb-chain", 0, 1000000, &iv)))
            o->chain = (int)iv;
        return 1;
    case CLI_SIM_MISALIGN_X: {
        /* pixels, optionally written with the unit: "0.5px" */
        char buf[64];
        size_t len = strlen(arg);
        if (len >= sizeof buf) {
            *rc = acdc_util_error(ACDC_UTIL_EUSAGE, "--misalign-x: '%s' is not a number", arg);
            return 1;
        }
        memcpy(buf, arg, len + 1);
        if (len > 2 && !strcmp(buf + len - 2, "px"))
            buf[len - 2] = '\0';
        *rc = acdc_util_parse_double(buf, "--misalign-x", -1e6, 1e6, &o->misalign_px);
        return 1;
    }
    default:
        return 0;
    }
}
