/* SPDX-License-Identifier: GPL-3.0-or-later */
/* compiler/system_check.c -- the parts of a system must agree with each other, with its
 * profile and with its model copy (compiler/FORMAT.md).  The system file's reader runs
 * these checks on every file; they use the rules of compiler/system.h, never the
 * compiler itself. */
#include "compiler/system.h"
#include "util/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Sample pitches come from the devices (two pixels per double-phase sample) and the
 * focal length from the sampling: f = fm · pitch · Fourier pitch / λ. */
static int check_sampling(const acdc_compiler_system *s, const char *file)
{
    acdc_compiler_profile e;
    acdc_compiler_profile_effective(&s->profile, &e);
    const struct {
        const char *what;
        double have;
        const acdc_optics_modulator *dev;
    } pitches[] = {{"pitch_m", s->pitch_m, &e.input},
                   {"fourier_pitch_m", s->fourier_pitch_m, &e.fourier}};
    for (int i = 0; i < 2; i++) {
        double dev = acdc_compiler_sample_pitch(s, pitches[i].dev);
        if (fabs(pitches[i].have - dev) > 1e-9 * dev)
            return acdc_util_error(ACDC_UTIL_EDATA,
                                   "'%s': %s %g m is not the sample pitch of device "
                                   "'%s' (%d pixel(s) of %g m)", file, pitches[i].what,
                                   pitches[i].have, pitches[i].dev->name,
                                   s->rank == 2 ? s->profile.superpixel
                                           : acdc_optics_modulator_pixels_per_sample(pitches[i].dev),
                                   pitches[i].dev->pitch_m);
    }
    double want = (double)s->fm * s->pitch_m * s->fourier_pitch_m / s->wavelength_m;
    if (fabs(s->focal_m - want) > 1e-9 * want)
        return acdc_util_error(ACDC_UTIL_EDATA, "'%s': focal length %g m contradicts the sampling "
                               "(%zu·pitch·Fourier pitch/λ = %g m)", file, s->focal_m, s->fm,
                               want);
    if (!(s->aperture_m > 0))
        return acdc_util_error(ACDC_UTIL_EDATA, "'%s': lens aperture %g m is not positive", file,
                               s->aperture_m);
    return ACDC_UTIL_OK;
}

/* One mask of a stage: as many columns of codes as the device needs, each code inside
 * its device's levels, and ideal value, codes and realised transmittance agreeing
 * (acdc_optics_modulator_value()). */
static int check_mask(const acdc_compiler_system *s, const char *file, const char *where,
                      const acdc_compiler_mask *mk, const acdc_optics_modulator *dev)
{
    const int want = s->profile.ideal ? 0 : acdc_optics_modulator_codes(dev);
    if (mk->ncodes != want)
        return acdc_util_error(ACDC_UTIL_EDATA, "'%s': %s has %d columns of device codes; device "
                               "'%s' needs %d", file, where, mk->ncodes, dev->name, want);
    /* amplitude devices: one amplitude level; complex: amplitude, phase; phase
     * (double-phase): two phase levels */
    for (size_t q = 0; q < mk->m * (size_t)mk->ncodes; q++) {
        int col = (int)(q % (size_t)mk->ncodes);
        int bits = dev->modulation == ACDC_OPTICS_MOD_PHASE ? dev->phase_bits
                   : col == 0                         ? dev->amplitude_bits
                                                      : dev->phase_bits;
        int64_t top = (int64_t)1 << bits;
        if (mk->codes[q] < 0 || (bits > 0 && mk->codes[q] >= top) ||
            (bits == 0 && mk->codes[q] != 0))
            return acdc_util_error(ACDC_UTIL_EDATA, "'%s': %s: device code %d at %zu is outside "
                                   "0..%lld for %d bits", file, where, mk->codes[q],
                                   q / (size_t)mk->ncodes, (long long)(top - 1), bits);
    }
    for (size_t q = 0; q < mk->m; q++) {
        int32_t code[2] = {0, 0};
        double complex t = s->profile.ideal ? mk->ideal[q]
                                            : acdc_optics_modulator_value(dev, mk->ideal[q], code);
        int codes_ok = !mk->ncodes ||
                       (mk->codes[q * (size_t)mk->ncodes] == code[0] &&
                        (mk->ncodes < 2 || mk->codes[2 * q + 1] == code[1]));
        if (cabs(t - mk->realised[q]) > 1e-9 || !codes_ok)
            return acdc_util_error(ACDC_UTIL_EDATA, "'%s': %s: sample %zu: its ideal value, device "
                                   "codes and realised transmittance disagree", file, where, q);
    }
    return ACDC_UTIL_OK;
}

/* Stage k of chain c: parity and position from the layout, then its masks. */
static int check_stage(const acdc_compiler_system *s, const char *file, size_t c, size_t k)
{
    const acdc_compiler_stage *st = &s->chains[c].stages[k];
    const double z = 4.0 * s->focal_m * (double)k;
    char where[96];
    int rc;
    if (st->parity_in != (int)(k & 1) || fabs(st->z_m - z) > 1e-9 * (z + s->focal_m))
        return acdc_util_error(ACDC_UTIL_EDATA,
                               "'%s': stage %zu of chain %zu has parity %d at z = %g "
                               "m; expected %d at %g m", file, k, c, st->parity_in, st->z_m,
                               (int)(k & 1), z);
    snprintf(where, sizeof where, "stage %zu of chain %zu: a Fourier-plane mask", k, c);
    if ((rc = check_mask(s, file, where, &st->fourier, &s->profile.fourier)))
        return rc;
    snprintf(where, sizeof where, "stage %zu of chain %zu: an image-plane mask", k, c);
    if (st->image && (rc = check_mask(s, file, where, st->image, &s->profile.image)))
        return rc;
    return ACDC_UTIL_OK;
}

/* The designed detection of chain c (acdc_compiler_detection_design()): an exposure the
 * camera allows, the profile's frames, a signal range that signal plus reference keep
 * below the full well's margin, and the SNR those give. */
static int check_detection(const acdc_compiler_system *s, const char *file, size_t c)
{
    const acdc_compiler_chain *ch = &s->chains[c];
    const double tmax = acdc_compiler_max_exposure(&s->profile);
    if (!(ch->exposure_s > 0 && ch->exposure_s <= tmax * (1 + 1e-9)))
        return acdc_util_error(ACDC_UTIL_EDATA, "'%s': chain %zu's exposure ('exposure_s') %g s is "
                               "outside (0, %g] s, the longest the camera allows (camera.exposure, "
                               "one frame at camera.frame_rate)", file, c, ch->exposure_s, tmax);
    if (ch->frames != acdc_compiler_frames(s, ch->exposure_s))
        return acdc_util_error(ACDC_UTIL_EDATA,
                               "'%s': chain %zu averages %zu frames ('frames'); its "
                               "profile's camera.frames (%zu, 0: auto) gives %zu at its exposure",
                               file, c, ch->frames, s->profile.frames,
                               acdc_compiler_frames(s, ch->exposure_s));
    if (!(ch->signal_rms <= ch->signal_peak))
        return acdc_util_error(ACDC_UTIL_EDATA,
                               "'%s': chain %zu's signal rms %g exceeds its peak %g "
                               "('signal_rms', 'signal_peak')", file, c, ch->signal_rms,
                               ch->signal_peak);
    acdc_compiler_profile e;
    acdc_compiler_profile_effective(&s->profile, &e);
    const double phi = acdc_compiler_detection_electrons(s, ch->exposure_s);
    const double rho = ch->ref_amplitude / s->field_amplitude;
    const double peak_e = phi * (ch->signal_peak + rho) * (ch->signal_peak + rho) +
                          e.camera.dark_e_per_s * ch->exposure_s;
    if (!(peak_e <= ACDC_COMPILER_DETECT_MARGIN * e.camera.full_well_e * (1 + 1e-9)))
        return acdc_util_error(ACDC_UTIL_EDATA,
                               "'%s': chain %zu's design puts %g e- on a pixel at the "
                               "signal's peak ('signal_peak' %g, reference %g E0, 'exposure_s' %g "
                               "s), over %g of the full well of %g e-", file, c, peak_e,
                               ch->signal_peak, rho, ch->exposure_s, ACDC_COMPILER_DETECT_MARGIN,
                               e.camera.full_well_e);
    const double snr = acdc_compiler_detection_snr(&e.camera, ch->exposure_s, ch->frames, phi, rho,
                                                   ch->signal_rms);
    if (!(fabs(ch->snr - snr) <= 1e-9 * snr))
        return acdc_util_error(ACDC_UTIL_EDATA, "'%s': chain %zu records an SNR ('snr') of %g; its "
                               "exposure, frames, reference and signal give %g", file, c,
                               ch->snr, snr);
    return ACDC_UTIL_OK;
}

/* Chain c against the model's grouping (first, count) and layers, the measured 4f
 * constant g4f and the rules of compiler/system.h. */
static int check_chain(const acdc_compiler_system *s, const char *file, size_t c, size_t first,
                       size_t count, double complex g4f)
{
    const acdc_compiler_chain *ch = &s->chains[c];
    const acdc_layer *L = &s->model->layers[first + count - 1];
    const double len = 4.0 * s->focal_m * (double)ch->count;
    const double complex g = cpow(g4f, (double)ch->count);
    if (ch->first != first || ch->count != count)
        return acdc_util_error(ACDC_UTIL_EDATA, "'%s': chain %zu holds layers %zu..%zu; the model "
                               "groups layers %zu..%zu", file, c, ch->first,
                               ch->first + ch->count - 1, first, first + count - 1);
    if (ch->relu != L->relu || (ch->perm == NULL) != (L->perm == NULL) ||
        (ch->perm && memcmp(ch->perm, L->perm, s->n * sizeof *ch->perm)))
        return acdc_util_error(ACDC_UTIL_EDATA, "'%s': the ReLU or permutation after chain %zu "
                               "differs from layer %zu of its model", file, c,
                               ch->first + ch->count - 1);
    if (!(ch->gain > 0) || !(cabs(ch->g) > 0) || !(ch->efficiency > 0))
        return acdc_util_error(ACDC_UTIL_EDATA, "'%s': chain %zu: gain %g, optical constant |g| %g "
                               "and efficiency %g must be positive", file, c, ch->gain,
                               cabs(ch->g), ch->efficiency);
    if (fabs(ch->length_m - len) > 1e-9 * len)
        return acdc_util_error(ACDC_UTIL_EDATA,
                               "'%s': chain %zu is %g m long; %zu stages of f = %g m "
                               "make %g m", file, c, ch->length_m, ch->count, s->focal_m, len);
    if (cabs(ch->g - g) > 1e-9 * cabs(ch->g))
        return acdc_util_error(ACDC_UTIL_EDATA, "'%s': chain %zu records the optical constant "
                               "%g%+gi; its %zu stages give %g%+gi", file, c, creal(ch->g),
                               cimag(ch->g), ch->count, creal(g), cimag(g));
    if (!(ch->ref_amplitude > 0) || ch->ref_amplitude > s->field_amplitude * (1 + 1e-9))
        return acdc_util_error(ACDC_UTIL_EDATA,
                               "'%s': chain %zu's reference amplitude %g is not in "
                               "(0, %g], the input field's", file, c, ch->ref_amplitude,
                               s->field_amplitude);
    int rc;
    if (s->signal != ACDC_COMPILER_SIGNAL_NONE && (rc = check_detection(s, file, c)))
        return rc;
    const double gain = acdc_compiler_chain_gain(ch, s->field_amplitude);
    const double eff = acdc_compiler_chain_efficiency(ch);
    if (fabs(ch->gain - gain) > 1e-9 * gain)
        return acdc_util_error(ACDC_UTIL_EDATA, "'%s': chain %zu's electronic gain %g contradicts "
                               "its masks' gains (%g)", file, c, ch->gain, gain);
    if (fabs(ch->efficiency - eff) > 1e-9 * eff + 1e-300)
        return acdc_util_error(ACDC_UTIL_EDATA, "'%s': chain %zu's efficiency %g contradicts its "
                               "masks (%g)", file, c, ch->efficiency, eff);
    const int q = (int)(ch->count & 1);
    for (size_t j = 0; j < s->n; j++)
        if ((size_t)ch->pixel[j] != acdc_compiler_place(s, q, j, 0))
            return acdc_util_error(ACDC_UTIL_EDATA, "'%s': chain %zu reads component %zu on sample "
                                   "%lld; its layout puts it on %zu", file, c, j,
                                   (long long)ch->pixel[j], acdc_compiler_place(s, q, j, 0));
    for (size_t k = 0; k < ch->count; k++)
        if ((rc = check_stage(s, file, c, k)))
            return rc;
    return ACDC_UTIL_OK;
}

/* The whole system: profile, sampling, standardisation, the 4f constant, then every
 * chain against the model's grouping. */
static int check_chains(const acdc_compiler_system *s, const char *file, const size_t *first,
                        const size_t *count, size_t nc)
{
    int rc;
    if (nc != s->n_chains)
        return acdc_util_error(ACDC_UTIL_EDATA,
                               "'%s' has %zu optical chains; its model groups into "
                               "%zu", file, s->n_chains, nc);
    if ((rc = acdc_compiler_profile_check(&s->profile))) {
        acdc_util_error_prefix("'%s': '/profile'", file);
        return rc;
    }
    if (s->rank == 2 && s->profile.superpixel < 1)
        return acdc_util_error(ACDC_UTIL_EDATA, "'%s': a 2D system's profile copy must record its "
                               "superpixel (rules.superpixel >= 1), not %d", file,
                               s->profile.superpixel);
    if ((rc = check_sampling(s, file)))
        return rc;
    if ((s->in_mean == NULL) != (s->model->in_mean == NULL))
        return acdc_util_error(ACDC_UTIL_EDATA,
                               "'%s': the input standardisation ('/input') and the "
                               "model copy's ('/model/input') disagree", file);
    /* The 4f constant, measured again with the optics library, must be the recorded one. */
    double complex g4f = 0;
    if ((rc = acdc_compiler_measure_4f(s, &g4f))) {
        acdc_util_error_prefix("'%s'", file);
        return rc;
    }
    if (!(cabs(g4f) > 0))
        return acdc_util_error(ACDC_UTIL_EDATA, "'%s': no light through a clear 4f stage", file);
    for (size_t c = 0; c < nc; c++)
        if ((rc = check_chain(s, file, c, first[c], count[c], g4f)))
            return rc;
    return ACDC_UTIL_OK;
}

int acdc_compiler_system_check(const acdc_compiler_system *s, const char *file)
{
    const acdc_model *m = s->model;
    char where[600];
    snprintf(where, sizeof where, "the model copy in '%s'", file);
    int rc = acdc_compiler_model_supported(m, where);
    if (rc)
        return rc;
    size_t *first = malloc(m->n_layers * sizeof *first);
    size_t *count = malloc(m->n_layers * sizeof *count);
    if (!first || !count)
        rc = acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory checking '%s'", file);
    else
        rc = check_chains(s, file, first, count, acdc_compiler_group_for(m, &s->profile, first,
                                                                      count));
    free(first);
    free(count);
    return rc;
}
