/* SPDX-License-Identifier: GPL-3.0-or-later */
/* compiler/system_print.c -- a system as people read it: the optical train and a bill
 * of materials (`acdc inspect`, `acdc compile`). */
#include "compiler/system.h"
#include "optics/detector.h"

#include <math.h>
#include <string.h>

/* Device pixels per sample of each modulator along x: two where double-phase pairs need
 * them (rank 1), the superpixel k (rank 2, where a sample is k x k pixels). */
struct pixels {
    size_t in, fourier, image;
};

/* What the bill of materials counts while the chains are printed. */
struct tally {
    size_t masks_f, masks_i, lenses;
    double length_m;
};

static const char *modulation_text(const acdc_optics_modulator *d, int ideal)
{
    if (ideal)
        return "ideal (continuous)";
    return d->modulation == ACDC_OPTICS_MOD_COMPLEX ? "amplitude + phase"
           : d->modulation == ACDC_OPTICS_MOD_AMPLITUDE ? "amplitude only"
                                                     : "phase only (double-phase)";
}

/* "N" (rank 1) or "NxN" (rank 2): the pixels a plane of `samples` samples per axis uses
 * at px pixels per sample. */
static const char *px_text(const acdc_compiler_system *s, size_t samples, size_t px, char *buf,
                           size_t size)
{
    if (s->rank == 2)
        snprintf(buf, size, "%zux%zu", samples * px, samples * px);
    else
        snprintf(buf, size, "%zu", samples * px);
    return buf;
}

static const char *lens_text(const acdc_compiler_system *s)
{
    return s->rank == 2 ? "spherical lens" : "cylindrical lens";
}

/* One line of the bill for `count` planes of a modulator role: the physical devices
 * that hold them, side by side where several fit. */
static void bill_modulator(const acdc_compiler_system *s, const char *role, size_t count,
                           const acdc_optics_modulator *d, size_t samples, size_t px, FILE *f)
{
    char b[48];
    const size_t per = acdc_compiler_planes_per_device(s, samples * px, d->pixels, d->rows);
    const size_t on_one = count < per ? count : per;
    fprintf(f, "    %3zu x %s '%s' (%s), %s px per plane", (count + per - 1) / per, role,
            d->name, modulation_text(d, s->profile.ideal), px_text(s, samples, px, b, sizeof b));
    if (s->rank == 2)
        fprintf(f, ", %zu plane%s side by side on each of %zux%zu px", on_one,
                on_one == 1 ? "" : "s", d->pixels, d->rows ? d->rows : 1);
    fprintf(f, "\n");
    /* No SLM sets amplitude and phase of a pixel independently: a real complex
     * modulator is two one-parameter devices, an amplitude SLM imaged pixel onto pixel
     * onto a phase SLM (compiler/PROFILES.md, 'Complex modulation'). */
    if (d->modulation == ACDC_OPTICS_MOD_COMPLEX && !s->profile.ideal)
        fprintf(f, "          each an amplitude SLM imaged 1:1 onto a phase SLM: %zu devices "
                "and %zu relay lens pairs\n", 2 * ((count + per - 1) / per),
                (count + per - 1) / per);
}

/* 1D, a double-phase pair down the strip's rows (optics/device.h): where its first orders
 * go (acdc_compiler_strip_orders(); a strip they do not clear is a compile warning). */
static void print_strip_rows(const acdc_compiler_system *s, FILE *f)
{
    const acdc_optics_modulator *d[3] = {&s->profile.input, &s->profile.fourier,
                                         &s->profile.image};
    for (int i = 0; i < 3; i++) {
        double off;
        size_t most;
        if (!acdc_compiler_strip_orders(s, d[i], &off, &most) ||
            (i > 0 && !strcmp(d[i]->name, d[i - 1]->name)))
            continue;
        const size_t rows = d[i]->rows ? d[i]->rows : 1;
        const size_t strip = acdc_compiler_strip_rows(s, d[i]);
        fprintf(f, "  '%s': a double-phase pair down a strip of %zu rows (%.2f mm), one pixel "
                "column per sample, the mean of them all; its first orders in y land %.2f mm "
                "off the axis at the next plane, where a slit of the strip's height (and the "
                "camera's rows) stops them%s\n", d[i]->name, strip,
                1e3 * (double)strip * d[i]->pitch_m, 1e3 * off,
                rows > most ? " (the device's full height would not clear them: see the "
                              "warnings)" : "");
    }
}

static void print_header(const acdc_compiler_system *s, const char *name, const struct pixels *px,
                         FILE *f)
{
    const acdc_compiler_profile *p = &s->profile;
    fprintf(f, "%s: compiled optical system for an ACDC cascade (n = %zu, %zu layers)\n",
            name, s->n, s->model->n_layers);
    if (s->rank == 2)
        fprintf(f, "  2D system (spherical lenses) on a %zux%zu grid; profile '%s'; wavelength "
                "%.1f nm; %zux%zu samples per plane at %.3f um (Fourier planes: %zux%zu at "
                "%.3f um)\n", s->side, s->side, p->name, 1e9 * s->wavelength_m, s->m, s->m,
                1e6 * s->pitch_m, s->fm, s->fm, 1e6 * s->fourier_pitch_m);
    else
        fprintf(f, "  profile '%s'; wavelength %.1f nm; %zu samples per plane at %.3f um "
                "(Fourier planes: %zu at %.3f um)\n", p->name, 1e9 * s->wavelength_m, s->m,
                1e6 * s->pitch_m, s->fm, 1e6 * s->fourier_pitch_m);
    if (p->fourier_oversample > 0)
        fprintf(f, "  pixel-aware design: Fourier masks compensate the pixels' transforms, "
                "%d Fourier samples per frequency step\n", p->fourier_oversample);
    if (s->rank == 2 && p->superpixel > 1) {
        const acdc_optics_modulator *ph = p->input.modulation == ACDC_OPTICS_MOD_PHASE ? &p->input
                                     : p->fourier.modulation == ACDC_OPTICS_MOD_PHASE ? &p->fourier
                                                                                 : NULL;
        fprintf(f, "  every sample is a superpixel of %dx%d device pixels%s%s\n",
                p->superpixel, p->superpixel,
                ph && !p->ideal ? "; phase-only devices show a value as a double-phase pair "
                                  "within it, in " : "",
                ph && !p->ideal ? (ph->dp_layout == ACDC_OPTICS_DP_CHECKERBOARD ? "a checkerboard"
                                   : ph->dp_layout == ACDC_OPTICS_DP_ROWS       ? "rows"
                                                                           : "columns")
                                : "");
    } else if (px->in > 1 || px->fourier > 1 ||
             (s->n_chains < s->model->n_layers && px->image > 1)) {
        fprintf(f, "  phase-only modulators show each sample as a double-phase pair of two "
                "pixels side by side\n");
    }
    if (s->rank != 2 && !p->ideal)
        print_strip_rows(s, f);
    double aperture, tol;
    acdc_compiler_lens_need(s, &aperture, &tol);
    fprintf(f, "  every lens: f = %.2f mm, clear aperture %.2f mm, NA %.4f\n",
            1e3 * s->focal_m, 1e3 * aperture, 0.5 * s->aperture_m / s->focal_m);
}

/* The elements of one stage: image mask (after a chain's first stage), lens, Fourier
 * mask, lens. */
static void print_stage(const acdc_compiler_system *s, const acdc_compiler_stage *st,
                        const struct pixels *px, struct tally *t, FILE *f)
{
    const acdc_compiler_profile *p = &s->profile;
    double aperture, tol;
    acdc_compiler_lens_need(s, &aperture, &tol);
    double z = 1e3 * st->z_m, fl = 1e3 * s->focal_m, ap = 1e3 * aperture;
    char b[48];
    if (st->image) {
        fprintf(f, "    %-26s %10.2f %10s %10s %9s %9.3f\n", "image mask (a)", z, "-", "-",
                px_text(s, s->m, px->image, b, sizeof b), 1e6 * p->image.pitch_m);
        t->masks_i++;
    }
    fprintf(f, "    %-26s %10.2f %10.2f %10.2f %9s %9s\n", lens_text(s), z + fl, fl, ap, "-",
            "-");
    fprintf(f, "    %-20s%6zu %10.2f %10s %10s %9s %9.3f\n", "Fourier mask (d) L", st->layer,
            z + 2 * fl, "-", "-", px_text(s, s->fm, px->fourier, b, sizeof b),
            1e6 * p->fourier.pitch_m);
    fprintf(f, "    %-26s %10.2f %10.2f %10.2f %9s %9s\n", lens_text(s), z + 3 * fl, fl, ap,
            "-", "-");
    t->masks_f++;
    t->lenses += 2;
}

/* Photons that reach the input modulator of a chain in one inference at full scale:
 * the laser's power over its exposure, frames times. */
static double input_photons(const acdc_compiler_system *s, const acdc_compiler_chain *ch)
{
    return s->profile.laser_power_w * ch->exposure_s * (double)ch->frames * s->wavelength_m /
           (ACDC_OPTICS_PLANCK * ACDC_OPTICS_C);
}

static const char *signal_text(const acdc_compiler_system *s, char *buf, size_t size)
{
    if (s->signal == ACDC_COMPILER_SIGNAL_CALIBRATED)
        snprintf(buf, size, "calibrated on %zu rows", s->calibration_rows);
    else if (s->signal == ACDC_COMPILER_SIGNAL_SYNTHETIC)
        snprintf(buf, size, "from %zu synthetic inputs (the model's input mean and scale); "
                 "--calibrate DATA measures it on real data", s->calibration_rows);
    else if (s->signal == ACDC_COMPILER_SIGNAL_ESTIMATED)
        snprintf(buf, size, "estimated from the masks; --calibrate measures it");
    else
        snprintf(buf, size, "compiled before designed detection: the profile's exposure, "
                 "its range estimated");
    return buf;
}

/* The designed detection of chain ch: reference, exposure, photon budget, electrons at
 * the signal's peak and rms and of the reference, and the SNR they give. */
static void print_detection(const acdc_compiler_system *s, const acdc_compiler_chain *ch, FILE *f)
{
    const double phi = acdc_compiler_detection_electrons(s, ch->exposure_s);
    const double rho = ch->ref_amplitude / s->field_amplitude;
    acdc_compiler_profile e;
    acdc_compiler_profile_effective(&s->profile, &e);
    char b[160];
    fprintf(f, "    detection: reference %.3g E0, exposure %.4g us x %zu frame%s (signal range "
            "%s)\n", rho, 1e6 * ch->exposure_s, ch->frames, ch->frames == 1 ? "" : "s",
            signal_text(s, b, sizeof b));
    fprintf(f, "      %.3g photons per inference on the input (full scale); per pixel and "
            "exposure %.4g e- at the signal's peak, %.4g e- rms, %.4g e- of reference, ports "
            "at most %.3g of the full well; expected SNR %.1f dB%s\n", input_photons(s, ch),
            phi * ch->signal_peak * ch->signal_peak, phi * ch->signal_rms * ch->signal_rms,
            phi * rho * rho, phi * (ch->signal_peak + rho) * (ch->signal_peak + rho) /
                                 e.camera.full_well_e,
            10 * log10(ch->snr), s->profile.ideal ? " (shot noise; an ideal profile is "
                                                     "simulated without noise)" : "");
}

static void print_chain(const acdc_compiler_system *s, size_t c, const struct pixels *px,
                        struct tally *t, FILE *f)
{
    const acdc_compiler_profile *p = &s->profile;
    const acdc_compiler_chain *ch = &s->chains[c];
    fprintf(f, "\n  optical chain %zu: layers %zu..%zu, %.1f mm long, optical efficiency "
            "%.3g\n", c, ch->first, ch->first + ch->count - 1, 1e3 * ch->length_m,
            ch->efficiency);
    const double clip = acdc_compiler_clip_scale(s->profile.fourier_clip);
    if (clip < 1) {
        size_t at = 0, all = 0;
        for (size_t k = 0; k < ch->count; k++) {
            const acdc_compiler_mask *fk = &ch->stages[k].fourier;
            for (size_t i = 0; fk->ideal && i < fk->m; i++)
                at += fabs(fk->ideal[i]) >= 1;
            all += fk->m;
        }
        fprintf(f, "    Fourier mask scaled to %.3g of its largest value (rules.fourier_clip): "
                "%zu of %zu values at full modulation, clipped\n", clip, at, all);
    }
    char b[48];
    fprintf(f, "    %-26s %10s %10s %10s %9s %9s\n", "element", "z (mm)", "f (mm)",
            "aper (mm)", "pixels", "pitch(um)");
    fprintf(f, "    %-26s %10.2f %10s %10s %9s %9.3f\n", "input modulator", 0.0, "-", "-",
            px_text(s, s->m, px->in, b, sizeof b), 1e6 * p->input.pitch_m);
    for (size_t k = 0; k < ch->count; k++)
        print_stage(s, &ch->stages[k], px, t, f);
    if (fabs(s->relay_magnification - 1) > 1e-9)
        fprintf(f, "    %-26s %10.2f %10s %10s %9s %9s\n", "relay to camera",
                1e3 * ch->length_m, "-", "-", "-", "-");
    if (s->rank == 2)
        fprintf(f, "    %-26s %10.2f %10s %10s %9s %9.3f\n", "homodyne camera (ROI)",
                1e3 * ch->length_m, "-", "-", px_text(s, s->m, 1, b, sizeof b),
                1e6 * p->camera.pitch_m);
    else
        fprintf(f, "    %-26s %10.2f %10s %10s %9zu %9.3f\n", "homodyne camera",
                1e3 * ch->length_m, "-", "-", p->camera.pixels, 1e6 * p->camera.pitch_m);
    double bmax = 0;
    for (size_t j = 0; j < s->n; j++)
        bmax = fmax(bmax, fabs(ch->bias[j]));
    fprintf(f, "    electronics: gain %.4g, biases folded (max |b| = %.3g), %s%s\n", ch->gain,
            bmax, ch->relu ? "ReLU" : "no ReLU", ch->perm ? ", permutation" : "");
    print_detection(s, ch, f);
    t->length_m += ch->length_m;
}

/* Inferences per second: a chain takes one frame of its input modulator (the liquid
 * crystal settles on the new input) and then `frames` camera frames, each as long as the
 * exposure or the camera's frame period, whichever is longer. */
static void print_rate(const acdc_compiler_system *s, FILE *f)
{
    const double fin = s->profile.input.frame_rate_hz, fcam = s->profile.camera.frame_rate_hz;
    double photons = 0, slowest = 0, sum = 0;
    for (size_t c = 0; c < s->n_chains; c++) {
        const double t = acdc_compiler_chain_time(s, &s->chains[c]);
        slowest = fmax(slowest, t);
        sum += t;
        photons += input_photons(s, &s->chains[c]);
    }
    fprintf(f, "  photon budget: %.3g photons per inference on the input modulators (full "
            "scale, %zu chain%s)\n", photons, s->n_chains, s->n_chains == 1 ? "" : "s");
    char fi[32] = "not given", fc[32] = "not given";
    if (fin > 0)
        snprintf(fi, sizeof fi, "%.4g Hz", fin);
    if (fcam > 0)
        snprintf(fc, sizeof fc, "%.4g frames/s", fcam);
    char fr[48];
    if (s->profile.frames == ACDC_COMPILER_FRAMES_AUTO)
        snprintf(fr, sizeof fr, "as many exposures as an input frame holds");
    else
        snprintf(fr, sizeof fr, "%zu exposure%s", s->profile.frames,
                 s->profile.frames == 1 ? "" : "s");
    fprintf(f, "  speed: input modulator %s, camera %s (full frame; the rows read go "
            "faster), %s per chain and inference\n", fi, fc, fr);
    fprintf(f, "    %.4g inferences/s pipelined (every chain has its own input modulator and "
            "camera and works on another input: the slowest chain sets the rate); %.4g/s "
            "one input at a time through the %zu chain%s%s\n", 1 / slowest, 1 / sum,
            s->n_chains, s->n_chains == 1 ? "" : "s",
            fin > 0 && fcam > 0 ? "" : " (frame rates not given count as instant)");
}

static void print_bill(const acdc_compiler_system *s, const struct pixels *px,
                       const struct tally *t, FILE *f)
{
    const acdc_compiler_profile *p = &s->profile;
    fprintf(f, "\n  bill of materials\n");
    fprintf(f, "    %3zu x laser, %.1f nm, %.3g mW\n", (size_t)1, 1e9 * s->wavelength_m,
            1e3 * p->laser_power_w);
    bill_modulator(s, "input modulator", s->n_chains, &p->input, s->m, px->in, f);
    bill_modulator(s, "Fourier-plane mask", t->masks_f, &p->fourier, s->fm, px->fourier, f);
    if (t->masks_i)
        bill_modulator(s, "image-plane mask", t->masks_i, &p->image, s->m, px->image, f);
    /* What each lens position needs (acdc_compiler_lens_need()), then the lens the profile names and
     * whether its wavefront error is within what the design tolerates. */
    double aperture, tol;
    acdc_compiler_lens_need(s, &aperture, &tol);
    const double have = acdc_optics_lens_wavefront_rms(&p->lens, s->rank);
    fprintf(f, "    %3zu x %s, f = %.2f mm, clear aperture >= %.2f mm, NA %.4f, ", t->lenses,
            lens_text(s), 1e3 * s->focal_m, 1e3 * aperture, 0.5 * s->aperture_m / s->focal_m);
    if (p->ideal)
        fprintf(f, "an ideal Fourier transform (ideal devices)\n");
    else
        fprintf(f, "wavefront error <= %.2g waves rms (the phase error of a Fourier-mask "
                "pixel, %.3g mrad)\n", tol, 2e3 * M_PI * tol);
    fprintf(f, "          profile's lens: '%s', model %s, %.3g waves rms%s\n", p->lens.name,
            acdc_optics_lens_model_name(p->lens.model), have,
            p->lens.model == ACDC_OPTICS_LENS_FOURIER ? " (an ideal Fourier transform)"
            : have <= tol                        ? " (within)"
                                                 : " (exceeds it)");
    const size_t per_cam = acdc_compiler_planes_per_device(s, s->m, p->camera.pixels,
                                                           p->camera.rows);
    const size_t cams = (s->n_chains + per_cam - 1) / per_cam;
    fprintf(f, "    %3zu x balanced homodyne detector: camera '%s' pair + reference beam "
            "splitter", cams, p->camera.name);
    if (s->rank == 2)
        fprintf(f, ", %zux%zu px per chain, %zu chain%s side by side on each",
                s->m, s->m, s->n_chains < per_cam ? s->n_chains : per_cam,
                (s->n_chains < per_cam ? s->n_chains : per_cam) == 1 ? "" : "s");
    fprintf(f, "\n");
    if (fabs(s->relay_magnification - 1) > 1e-9)
        fprintf(f, "    %3zu x relay lens pair, magnification %.4g (sample pitch %.3f um -> "
                "camera pitch %.3f um)\n", s->n_chains, s->relay_magnification,
                1e6 * s->pitch_m, 1e6 * p->camera.pitch_m);
    fprintf(f, "    %3zu x opto-electronic stage (detect, bias, ReLU, permute, encode)\n",
            s->n_chains);
    fprintf(f, "  total optical path %.1f mm\n", 1e3 * t->length_m);
    print_rate(s, f);
}

static void print_warnings(const char *w, FILE *f)
{
    if (!*w)
        return;
    fprintf(f, "\n  warnings:\n");
    while (*w) {
        const char *e = strchr(w, '\n');
        size_t len = e ? (size_t)(e - w) : strlen(w);
        fprintf(f, "    %.*s\n", (int)len, w);
        w += len + (e != NULL);
    }
}

void acdc_compiler_system_print(const acdc_compiler_system *s, const char *name, FILE *f)
{
    acdc_compiler_profile e;
    acdc_compiler_profile_effective(&s->profile, &e);
    const size_t k = (size_t)s->profile.superpixel;
    const struct pixels px = {
        s->rank == 2 ? k : (size_t)acdc_optics_modulator_pixels_per_sample(&e.input),
        s->rank == 2 ? k : (size_t)acdc_optics_modulator_pixels_per_sample(&e.fourier),
        s->rank == 2 ? k : (size_t)acdc_optics_modulator_pixels_per_sample(&e.image)};
    struct tally t = {0, 0, 0, 0};
    print_header(s, name, &px, f);
    for (size_t c = 0; c < s->n_chains; c++)
        print_chain(s, c, &px, &t, f);
    print_bill(s, &px, &t, f);
    print_warnings(s->warnings, f);
}
