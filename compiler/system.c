/* SPDX-License-Identifier: GPL-3.0-or-later */
/* compiler/system.c -- the in-memory system: freeing, and the rules every part shares
 * (layout, grouping, Fourier sampling, the 4f constant, the chain's gain and efficiency).
 *
 * The compiler (compile.c) builds a system by these rules and the system file's checks
 * (system_check.c) hold a file to them; this file calls neither.
 */
#include "compiler/system.h"
#include "optics/detector.h"
#include "optics/field.h"
#include "optics/propagate.h"
#include "util/error.h"

#include <math.h>
#include <stdlib.h>

size_t acdc_compiler_layout(size_t n, int q, size_t j, int side)
{
    size_t m = 2 * n;
    if (side)
        return (n + (size_t)q + j) % m;
    return (n - 1 + (size_t)q + m - j) % m;
}

size_t acdc_compiler_plane_size(const acdc_compiler_system *s)
{
    return s->rank == 2 ? s->m * s->m : s->m;
}

size_t acdc_compiler_fourier_size(const acdc_compiler_system *s)
{
    return s->rank == 2 ? s->fm * s->fm : s->fm;
}

int acdc_compiler_strip_orders(const acdc_compiler_system *s, const acdc_optics_modulator *dev,
                               double *offset_m, size_t *max_rows)
{
    if (s->rank == 2 || s->profile.ideal || dev->modulation != ACDC_OPTICS_MOD_PHASE ||
        dev->dp_layout != ACDC_OPTICS_DP_ROWS)
        return 0;
    *offset_m = s->focal_m * s->wavelength_m / dev->pitch_m;
    const double rows = floor(*offset_m / dev->pitch_m - 1e-9);
    *max_rows = rows > 0 ? (size_t)rows : 0;
    return 1;
}

size_t acdc_compiler_strip_rows(const acdc_compiler_system *s, const acdc_optics_modulator *dev)
{
    double off;
    size_t most, h = dev->rows;
    if (!acdc_compiler_strip_orders(s, dev, &off, &most))
        return 0;
    if (most >= 2 && most < h)
        h = most;
    return h - h % 2;
}

double acdc_compiler_sample_pitch(const acdc_compiler_system *s, const acdc_optics_modulator *dev)
{
    return s->rank == 2 ? s->profile.superpixel * dev->pitch_m
                        : acdc_optics_modulator_sample_pitch(dev);
}

void acdc_compiler_lens_need(const acdc_compiler_system *s, double *aperture_m, double *tol_waves)
{
    acdc_compiler_profile e;
    acdc_compiler_profile_effective(&s->profile, &e);
    *aperture_m = acdc_optics_fourier_lens_aperture(s->rank, (double)s->m * s->pitch_m,
                                                    (double)s->fm * s->fourier_pitch_m);
    *tol_waves = e.fourier.phase_error_rad / (2 * M_PI);
}

size_t acdc_compiler_planes_per_device(const acdc_compiler_system *s, size_t need, size_t cols,
                                       size_t rows)
{
    if (s->rank != 2 || need == 0)
        return 1;
    size_t q = (cols / need) * ((rows ? rows : 1) / need);
    return q ? q : 1;
}

void acdc_compiler_tile(const acdc_compiler_system *s, size_t need, size_t cols,
                        size_t rows, size_t i,
                        size_t *device, size_t *x0, size_t *y0)
{
    rows = rows ? rows : 1;
    const size_t nx = need && cols / need ? cols / need : 1;
    const size_t ny = need && rows / need ? rows / need : 1;
    const size_t per = acdc_compiler_planes_per_device(s, need, cols, rows), at = i % per;
    *device = i / per;
    *x0 = (cols > nx * need ? (cols - nx * need) / 2 : 0) + (at % nx) * need;
    *y0 = (rows > ny * need ? (rows - ny * need) / 2 : 0) + (at / nx) * need;
}

int acdc_compiler_copies(const acdc_compiler_system *s) { return s->rank == 2 ? 4 : 2; }

size_t acdc_compiler_place(const acdc_compiler_system *s, int q, size_t j, int copy)
{
    if (s->rank != 2)
        return acdc_compiler_layout(s->n, q, j, copy);
    const size_t side = s->side;
    return acdc_compiler_layout(side, q, j / side, (copy >> 1) & 1) * s->m +
           acdc_compiler_layout(side, q, j % side, copy & 1);
}

/* Does superpixel k fit profile p's devices (columns and rows), focal length and NA? */
static int superpixel_fits(const acdc_compiler_profile *e, int k, size_t m, size_t fm)
{
    const struct {
        const acdc_optics_modulator *dev;
        size_t samples;
    } mods[] = {{&e->input, m}, {&e->fourier, fm}, {&e->image, m}};
    for (int i = 0; i < 3; i++) {
        const size_t need = (size_t)k * mods[i].samples;
        const size_t rows = mods[i].dev->rows ? mods[i].dev->rows : 1;
        if ((mods[i].dev->modulation == ACDC_OPTICS_MOD_PHASE && k % 2) ||
            need > mods[i].dev->pixels || need > rows)
            return 0;
    }
    const double p = k * e->input.pitch_m, pf = k * e->fourier.pitch_m;
    const double f = (double)fm * p * pf / e->wavelength_m;
    const double aperture = fmax((double)m * p, (double)fm * pf);
    return f <= e->max_focal_m && 0.5 * aperture * M_SQRT2 / f <= e->max_na;
}

int acdc_compiler_superpixel(const acdc_compiler_profile *p, int rank, size_t m, size_t fm)
{
    if (rank != 2 || p->ideal)
        return 1;   /* an ideal device has no pixels to group: one sample each */
    if (p->superpixel > 0)
        return p->superpixel;
    acdc_compiler_profile e;
    acdc_compiler_profile_effective(p, &e);
    const int phase = e.input.modulation == ACDC_OPTICS_MOD_PHASE ||
                      e.fourier.modulation == ACDC_OPTICS_MOD_PHASE ||
                      e.image.modulation == ACDC_OPTICS_MOD_PHASE;
    for (int k = 4; k >= 1; k--)
        if (superpixel_fits(&e, k, m, fm))
            return k;
    return phase ? 2 : 1;
}

size_t acdc_compiler_group(const acdc_model *m, size_t *first, size_t *count)
{
    size_t c = 0;
    for (size_t l = 0; l < m->n_layers; l++) {
        if (l == 0 || m->layers[l - 1].relu || m->layers[l - 1].perm) {
            first[c] = l;
            count[c] = 0;
            c++;
        }
        count[c - 1]++;
    }
    return c;
}

size_t acdc_compiler_group_for(const acdc_model *m, const acdc_compiler_profile *p, size_t *first,
                               size_t *count)
{
    if (p->fourier_oversample < 1)
        return acdc_compiler_group(m, first, count);
    for (size_t l = 0; l < m->n_layers; l++) {
        first[l] = l;
        count[l] = 1;
    }
    return m->n_layers;
}

int acdc_compiler_model_supported(const acdc_model *m, const char *where)
{
    if (m->transform == ACDC_TRANSFORM_DCT2 && m->h != m->w)
        return acdc_util_error(ACDC_UTIL_EDATA,
                               "%s: the 2D layers' grid is %zux%zu; a spherical-lens "
                               "system needs a square grid (one Fourier pitch along x and y): "
                               "train on a %zux%zu grid with --input-shape %zux%zu", where, m->h,
                               m->w, m->h > m->w ? m->h : m->w, m->h > m->w ? m->h : m->w,
                               m->in_h, m->in_w);
    return ACDC_UTIL_OK;
}

size_t acdc_compiler_fourier_samples(const acdc_compiler_profile *p, size_t m)
{
    return m * (size_t)(p->fourier_oversample > 1 ? p->fourier_oversample : 1);
}

int acdc_compiler_measure_4f(const acdc_compiler_system *s, double complex *g)
{
    acdc_optics_grid gr;
    acdc_optics_lens_plan *l1 = NULL, *l2 = NULL;
    acdc_optics_field *f = NULL;
    int rc = acdc_optics_grid_init(&gr, s->rank, s->m, s->rank == 2 ? s->m : 1, s->pitch_m,
                                   s->wavelength_m);
    if (!rc)
        rc = acdc_optics_lens_plan_alloc(&l1, &gr, s->focal_m);
    if (!rc)
        rc = acdc_optics_lens_plan_alloc(&l2, acdc_optics_lens_plan_output(l1), s->focal_m);
    if (!rc)
        rc = acdc_optics_field_alloc(&f, &gr, 1);
    if (!rc) {
        size_t c = acdc_optics_axis_index(s->m);
        if (s->rank == 2)
            c += c * s->m;
        f->data[c] = 1;
        rc = acdc_optics_4f_apply(l1, NULL, l2, f, f);
        if (!rc)
            *g = f->data[c];
    }
    acdc_optics_field_free(f);
    acdc_optics_lens_plan_free(l1);
    acdc_optics_lens_plan_free(l2);
    return rc;
}

/* Π over the chain's masks of the factor each was divided by. */
static double mask_gains(const acdc_compiler_chain *ch)
{
    double gains = 1;
    for (size_t k = 0; k < ch->count; k++) {
        if (ch->stages[k].image)
            gains *= ch->stages[k].image->gain;
        gains *= ch->stages[k].fourier.gain;
    }
    return gains;
}

double acdc_compiler_chain_gain(const acdc_compiler_chain *ch, double field_amplitude)
{
    /* ΔI = 4 Re(E·E_ref*) with E = E0 · |g| · (the model's output / the mask gains) */
    return mask_gains(ch) / (4.0 * cabs(ch->g) * field_amplitude * ch->ref_amplitude);
}

double acdc_compiler_clip_scale(double c)
{
    return c > 0 && c < 1 ? c : 1;
}

double acdc_compiler_clip(double v)
{
    return v > 1 ? 1 : v < -1 ? -1 : v;
}

double acdc_compiler_chain_field_scale(const acdc_compiler_chain *ch)
{
    return cabs(ch->g) / mask_gains(ch);
}

/* Mean |t|² of a mask's realised transmittance: the fraction of a flat spectrum it
 * passes. */
static double mean_power(const acdc_compiler_mask *k)
{
    double s = 0;
    for (size_t i = 0; i < k->m; i++)
        s += creal(k->realised[i] * conj(k->realised[i]));
    return s / (double)k->m;
}

double acdc_compiler_chain_efficiency(const acdc_compiler_chain *ch)
{
    double eff = 1;
    for (size_t k = 0; k < ch->count; k++) {
        if (ch->stages[k].image)
            eff *= mean_power(ch->stages[k].image);
        eff *= mean_power(&ch->stages[k].fourier);
    }
    return eff;
}

double acdc_compiler_detection_electrons(const acdc_compiler_system *s, double exposure_s)
{
    acdc_compiler_profile e;
    acdc_compiler_profile_effective(&s->profile, &e);
    /* the power on a pixel is |E|² times its active width (rank 1) or area (rank 2), as
     * the camera sees the image plane through the relay: one sample per pixel */
    const double area = pow(s->pitch_m * e.camera.fill, s->rank == 2 ? 2 : 1);
    return e.camera.qe * s->field_amplitude * s->field_amplitude * area * exposure_s *
           s->wavelength_m / (ACDC_OPTICS_PLANCK * ACDC_OPTICS_C);
}

double acdc_compiler_max_exposure(const acdc_compiler_profile *p)
{
    const double t = p->camera.exposure_s;
    return p->camera.frame_rate_hz > 0 ? fmin(t, 1.0 / p->camera.frame_rate_hz) : t;
}

double acdc_compiler_detection_variance(const acdc_optics_camera *cam,
                                        double exposure_s, double phi,
                                        double rho, double amp)
{
    const double dark = cam->dark_e_per_s * exposure_s;
    const double q = cam->adc_bits > 0 ? cam->full_well_e / (ldexp(1.0, cam->adc_bits) - 1) : 0;
    return 2 * phi * (amp * amp + rho * rho) + 2 * dark +
           2 * cam->read_noise_e * cam->read_noise_e + q * q / 6;
}

double acdc_compiler_detection_snr(const acdc_optics_camera *cam, double exposure_s, size_t frames,
                                   double phi, double rho, double rms)
{
    const double var = acdc_compiler_detection_variance(cam, exposure_s, phi, rho, rms);
    const double sig = 4 * phi * rho * rms;
    return var > 0 ? (double)frames * sig * sig / var : 0;
}

void acdc_compiler_signal_estimate(const acdc_compiler_chain *ch, double *peak, double *rms)
{
    *peak = ACDC_COMPILER_PEAK_FACTOR * cabs(ch->g) * sqrt(ch->efficiency);
    *rms = *peak / ACDC_COMPILER_CREST_FACTOR;
}

double acdc_compiler_frame_time(const acdc_compiler_system *s, double exposure_s)
{
    const acdc_compiler_profile *p = &s->profile;
    const double rows = s->rank == 2 ? (double)s->m : ACDC_COMPILER_MIN_ROWS;
    const double lines = p->camera.frame_rate_hz * (double)(p->camera.rows ? p->camera.rows : 1);
    return fmax(exposure_s, lines > 0 ? rows / lines : 0);
}

size_t acdc_compiler_frames(const acdc_compiler_system *s, double exposure_s)
{
    const acdc_compiler_profile *p = &s->profile;
    if (p->frames != ACDC_COMPILER_FRAMES_AUTO)
        return p->frames;
    if (!(p->input.frame_rate_hz > 0))
        return 1;
    const double n =
        floor(1.0 / (p->input.frame_rate_hz * acdc_compiler_frame_time(s, exposure_s)) *
              (1 + 1e-12));
    return n < 1 ? 1 : n > ACDC_COMPILER_MAX_FRAMES ? ACDC_COMPILER_MAX_FRAMES : (size_t)n;
}

double acdc_compiler_chain_time(const acdc_compiler_system *s, const acdc_compiler_chain *ch)
{
    const double fin = s->profile.input.frame_rate_hz;
    return fmax(fin > 0 ? 1 / fin
                        : 0, (double)ch->frames * acdc_compiler_frame_time(s, ch->exposure_s));
}

/* The design at exposure t: the largest reference the full well allows (at most E0) and
 * the SNR it gives; 0 where the signal alone fills the margin. */
struct design {
    const acdc_compiler_system *s;
    const acdc_optics_camera *cam;
    double phi1, well, peak, rms;
};

static double design_at(const struct design *d, double t, double *rho)
{
    const double phi = d->phi1 * t, room = d->well - d->cam->dark_e_per_s * t;
    *rho = room > 0 ? fmin(1.0, sqrt(room / phi) - d->peak) : 0;
    if (!(*rho > 0))
        return 0;
    /* a dark signal (rms 0) still gets a usable design: the SNR of a unit signal */
    return acdc_compiler_detection_snr(d->cam, t, acdc_compiler_frames(d->s, t), phi, *rho,
                                       d->rms > 0 ? d->rms : 1);
}

int acdc_compiler_detection_design(acdc_compiler_system *s, acdc_compiler_chain *ch, double peak,
                                   double rms)
{
    if (!(isfinite(peak) && isfinite(rms) && rms >= 0 && peak >= rms))
        return acdc_util_error(ACDC_UTIL_EDATA,
                               "optical chain of layers %zu..%zu: signal range peak "
                               "%g, rms %g (units of E0) is not a range", ch->first,
                               ch->first + ch->count - 1, peak, rms);
    acdc_compiler_profile e;
    acdc_compiler_profile_effective(&s->profile, &e);
    const struct design d = {s, &e.camera, acdc_compiler_detection_electrons(s, 1.0),
                             ACDC_COMPILER_DETECT_MARGIN * e.camera.full_well_e, peak, rms};
    /* exposures that leave room for a reference: φ τ peak² + D τ < well */
    double hi = acdc_compiler_max_exposure(&s->profile);
    const double rate = d.phi1 * peak * peak + e.camera.dark_e_per_s;
    if (rate > 0)
        hi = fmin(hi, d.well / rate);
    /* SNR(τ) rises from 0 at τ → 0 and falls to 0 where ρ reaches 0: a grid over nine
     * decades of log τ brackets its maximum, golden section refines it */
    enum { GRID = 360 };
    const double span = log(1e-9);
    double best = -1, rho, lb = 0;
    int ib = GRID;
    for (int i = 0; i <= GRID; i++) {
        double snr = design_at(&d, hi * exp(span * (double)(GRID - i) / GRID), &rho);
        if (snr > best) {
            best = snr;
            ib = i;
        }
    }
    double a = span * (double)(GRID - (ib > 0 ? ib - 1 : 0)) / GRID;
    double b = span * (double)(GRID - (ib < GRID ? ib + 1 : GRID)) / GRID;
    const double phi = (sqrt(5.0) - 1) / 2;
    for (int it = 0; it < 80; it++) {
        double x1 = b - phi * (b - a), x2 = a + phi * (b - a);
        if (design_at(&d, hi * exp(x1), &rho) >= design_at(&d, hi * exp(x2), &rho))
            b = x2;
        else
            a = x1;
    }
    lb = 0.5 * (a + b);
    double t = hi * exp(lb);
    if (!(design_at(&d, t, &rho) > 0)) {
        /* the bracket's ends: keep the grid's best */
        t = hi * exp(span * (double)(GRID - ib) / GRID);
        design_at(&d, t, &rho);
    }
    if (!(rho > 0))
        return acdc_util_error(ACDC_UTIL_EDATA,
                               "optical chain of layers %zu..%zu: no exposure keeps "
                               "a signal of peak %g E0 below %g of the full well", ch->first,
                               ch->first + ch->count - 1, peak, ACDC_COMPILER_DETECT_MARGIN);
    ch->exposure_s = t;
    ch->frames = acdc_compiler_frames(s, t);
    ch->ref_amplitude = rho * s->field_amplitude;
    ch->gain = acdc_compiler_chain_gain(ch, s->field_amplitude);
    ch->signal_peak = peak;
    ch->signal_rms = rms;
    ch->snr = acdc_compiler_detection_snr(&e.camera, t, ch->frames,
                                          acdc_compiler_detection_electrons(s, t), rho, rms);
    return ACDC_UTIL_OK;
}

int acdc_compiler_detection_carry(const acdc_compiler_system *from, acdc_compiler_system *to)
{
    if (from->signal != ACDC_COMPILER_SIGNAL_CALIBRATED || from->n_chains != to->n_chains)
        return ACDC_UTIL_OK;
    for (size_t c = 0; c < to->n_chains; c++)
        if (from->chains[c].first != to->chains[c].first ||
            from->chains[c].count != to->chains[c].count)
            return ACDC_UTIL_OK;
    int rc;
    for (size_t c = 0; c < to->n_chains; c++) {
        const double k = acdc_compiler_chain_field_scale(&to->chains[c]) /
                         acdc_compiler_chain_field_scale(&from->chains[c]);
        if ((rc = acdc_compiler_detection_design(to, &to->chains[c],
                                                 k * from->chains[c].signal_peak,
                                                 k * from->chains[c].signal_rms)))
            return rc;
    }
    to->signal = ACDC_COMPILER_SIGNAL_CALIBRATED;
    to->calibration_rows = from->calibration_rows;
    return ACDC_UTIL_OK;
}

static void mask_free(acdc_compiler_mask *k)
{
    if (!k)
        return;
    free(k->ideal);
    free(k->realised);
    free(k->codes);
}

void acdc_compiler_system_free(acdc_compiler_system *s)
{
    if (!s)
        return;
    for (size_t c = 0; s->chains && c < s->n_chains; c++) {
        acdc_compiler_chain *ch = &s->chains[c];
        for (size_t k = 0; ch->stages && k < ch->count; k++) {
            mask_free(ch->stages[k].image);
            free(ch->stages[k].image);
            mask_free(&ch->stages[k].fourier);
        }
        free(ch->stages);
        free(ch->enc_a);
        free(ch->enc_bias);
        free(ch->bias);
        free(ch->pixel);
        free(ch->perm);
    }
    free(s->chains);
    free(s->in_mean);
    free(s->in_scale);
    acdc_model_free(s->model);
    free(s);
}
