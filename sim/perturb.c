/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sim/perturb.c -- the table of perturbations of a fixed system (sim/perturb.h). */
#include "sim/perturb.h"
#include "util/error.h"
#include "util/parse.h"

#include <stdio.h>
#include <string.h>

static const acdc_sim_perturb_info table[ACDC_SIM_PERTURB_COUNT] = {
    {"ref-phase", "rad", -7, 7, 0, "phase drift of the homodyne reference (rad, mrad)", 0.01, 0},
    {"ref-amplitude", "", -1, 10, 0, "relative amplitude error of the reference (0.01: 1 %)", 0.01, 0},
    {"gain-rms", "", 0, 1, 0, "camera gain non-uniformity, rms of each pixel's relative "
                              "response (drawn once per seed)", 0.01, 0},
    {"waist", "m", 0, 10, 0, "Gaussian illumination of the input, amplitude exp(-r^2/w^2), "
                             "waist w (0: flat)", 0.01, 1},
    {"shift-input", "m", -0.1, 0.1, 0, "lateral (x) displacement of every input modulator", 1e-6, 0},
    {"shift-fourier", "m", -0.1, 0.1, 0, "lateral (x) displacement of every Fourier-plane "
                                         "mask", 1e-6, 0},
    {"shift-image", "m", -0.1, 0.1, 0, "lateral (x) displacement of every image-plane mask", 1e-6, 0},
    {"defocus-input", "m", -0.1, 0.1, 0, "axial displacement of every input modulator "
                                         "(positive: downstream)", 1e-5, 0},
    {"defocus-fourier", "m", -0.1, 0.1, 1, "axial displacement of every Fourier-plane mask", 1e-5, 0},
    {"defocus-camera", "m", -0.1, 0.1, 0, "axial displacement of every camera", 1e-5, 0},
    {"focal", "", -0.5, 0.5, 2, "relative focal-length error of every lens (distances as "
                                "built)", 1e-3, 0},
    {"wavelength", "m", -100e-9, 100e-9, 2, "laser wavelength detuning (retardances and "
                                            "diffraction at the new wavelength)", 1e-10, 0},
    {"crosstalk", "m", 0, 1e-3, 1, "SLM pixel crosstalk: the retardance blurred over this "
                                   "rms width (fringing field)", 1e-6, 0},
    {"rotate-input", "rad", -0.5, 0.5, 3, "in-plane rotation of every input modulator (2D)",
     1e-4, 0},
    {"rotate-fourier", "rad", -0.5, 0.5, 4, "in-plane rotation of every Fourier-plane mask "
                                            "(2D)", 1e-4, 0},
    {"rotate-image", "rad", -0.5, 0.5, 4, "in-plane rotation of every image-plane mask (2D)",
     1e-4, 0},
    {"lens-spherical", "waves", -1, 1, 2, "primary spherical aberration added to every "
                                          "lens (Zernike Z11, rms over the clear aperture)",
     0.01, 0},
    {"lens-coma", "waves", -1, 1, 2, "coma (x) added to every lens (Zernike Z8)", 0.01, 0},
    {"lens-astigmatism", "waves", -1, 1, 2, "astigmatism (0 deg) added to every lens "
                                            "(Zernike Z6; a cylindrical lens: a defocus)",
     0.01, 0},
};

const acdc_sim_perturb_info *acdc_sim_perturb_table(void)
{
    return table;
}

int acdc_sim_perturb_find(const char *name)
{
    for (int i = 0; i < ACDC_SIM_PERTURB_COUNT; i++)
        if (!strcmp(table[i].name, name))
            return i;
    return -1;
}

const char *acdc_sim_perturb_names(void)
{
    static char buf[400];
    if (!buf[0])
        for (int i = 0; i < ACDC_SIM_PERTURB_COUNT; i++)
            snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%s", i ? ", " : "",
                     table[i].name);
    return buf;
}

int acdc_sim_perturb_value(int id, const char *text, const char *what, double *v)
{
    const acdc_sim_perturb_info *p = &table[id];
    if (!strcmp(p->unit, "waves")) {
        /* a number of waves, its unit optional: "0.02", "0.02waves", "0.02 waves" */
        char buf[64];
        size_t len = strlen(text);
        if (len >= sizeof buf)
            return acdc_util_error(ACDC_UTIL_EUSAGE,
                                   "%s: '%s' is not a number of waves", what, text);
        memcpy(buf, text, len + 1);
        if (len > 5 && !strcmp(buf + len - 5, "waves"))
            buf[len -= 5] = '\0';
        while (len > 0 && buf[len - 1] == ' ')
            buf[--len] = '\0';
        return acdc_util_parse_double(buf, what, p->lo, p->hi, v);
    }
    if (!*p->unit)
        return acdc_util_parse_double(text, what, p->lo, p->hi, v);
    return acdc_util_parse_quantity_strict(text, what, p->unit, p->lo, p->hi, v);
}

int acdc_sim_perturb_parse(const char *a, double values[ACDC_SIM_PERTURB_COUNT])
{
    const char *eq = strchr(a, '=');
    char name[64], what[128];
    if (!eq || eq == a || (size_t)(eq - a) >= sizeof name)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "--perturb '%s': expected NAME=VALUE", a);
    memcpy(name, a, (size_t)(eq - a));
    name[eq - a] = '\0';
    const int id = acdc_sim_perturb_find(name);
    if (id < 0)
        return acdc_util_error(ACDC_UTIL_EUSAGE,
                               "--perturb '%s': unknown perturbation '%s' (known: %s)",
                               a, name, acdc_sim_perturb_names());
    snprintf(what, sizeof what, "--perturb %s", name);
    return acdc_sim_perturb_value(id, eq + 1, what, &values[id]);
}

int acdc_sim_perturb_any(const double values[ACDC_SIM_PERTURB_COUNT])
{
    for (int i = 0; i < ACDC_SIM_PERTURB_COUNT; i++)
        if (values[i] != 0)
            return 1;
    return 0;
}

void acdc_sim_perturb_describe(const double values[ACDC_SIM_PERTURB_COUNT], int chain, char *buf,
                               size_t cap)
{
    size_t len = 0;
    if (cap)
        buf[0] = '\0';
    for (int i = 0; i < ACDC_SIM_PERTURB_COUNT && len < cap; i++)
        if (values[i] != 0) {
            int w = snprintf(buf + len, cap - len, "%s%s=%.6g%s%s", len ? "; " : "",
                             table[i].name, values[i], *table[i].unit ? " " : "",
                             table[i].unit);
            len += w > 0 ? (size_t)w : 0;
        }
    if (chain && len && len < cap)
        snprintf(buf + len, cap - len, "; chain %d only", chain);
}
