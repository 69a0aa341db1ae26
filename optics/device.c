/* SPDX-License-Identifier: GPL-3.0-or-later */
/* optics/device.c -- see device.h. */
#include "optics/device.h"

#include "optics/detector.h"
#include "util/error.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_sf_trig.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

acdc_optics_modulator acdc_optics_modulator_ideal(const acdc_optics_modulator *dev)
{
    acdc_optics_modulator m = *dev;
    m.modulation = ACDC_OPTICS_MOD_COMPLEX;
    m.fill = 1;
    m.amplitude_bits = 0;
    m.phase_bits = 0;
    m.phase_error_rad = 0;
    m.contrast = 0;
    m.registration = 0;
    return m;
}

int acdc_optics_modulator_pixels_per_sample(const acdc_optics_modulator *dev)
{
    return dev->modulation == ACDC_OPTICS_MOD_PHASE && dev->dp_layout != ACDC_OPTICS_DP_ROWS
               ? 2 : 1;
}

/* A 1D phase-only device whose pairs sit down the strip's rows (device.h). */
static int strip_rows(const acdc_optics_modulator *dev)
{
    return dev->modulation == ACDC_OPTICS_MOD_PHASE && dev->dp_layout == ACDC_OPTICS_DP_ROWS;
}

double acdc_optics_modulator_sample_pitch(const acdc_optics_modulator *dev)
{
    return acdc_optics_modulator_pixels_per_sample(dev) * dev->pitch_m;
}

int acdc_optics_modulator_codes(const acdc_optics_modulator *dev)
{
    return dev->modulation == ACDC_OPTICS_MOD_AMPLITUDE ? 1 : 2;
}

double acdc_optics_modulator_transfer(const acdc_optics_modulator *dev, double t)
{
    if (acdc_optics_modulator_pixels_per_sample(dev) == 2)
        return gsl_sf_sinc(dev->fill * t / 2) * cos(M_PI * t / 2);
    return gsl_sf_sinc(dev->fill * t);
}

static double wrap_2pi(double phi)
{
    phi = fmod(phi, 2 * M_PI);
    return phi < 0 ? phi + 2 * M_PI : phi;
}

int32_t acdc_optics_phase_level(double phase_rad, int bits)
{
    double L = ldexp(1.0, bits);
    return (int32_t)((long)lround(wrap_2pi(phase_rad) / (2 * M_PI) * L) % (long)L);
}

double acdc_optics_phase_of_level(int32_t level, int bits)
{
    return 2 * M_PI * level / ldexp(1.0, bits);
}

int32_t acdc_optics_amplitude_level(double a, int bits)
{
    double L = ldexp(1.0, bits) - 1;
    return (int32_t)lround(fmin(fmax(a, 0.0), 1.0) * L);
}

double acdc_optics_amplitude_of_level(int32_t level, int bits)
{
    return level / (ldexp(1.0, bits) - 1);
}

/* The amplitude dev shows for a in [0, 1] and its level (*code; 0 when continuous): the
 * drive (a - a0)/(1 - a0) quantised, a0 = 1/sqrt(contrast) the darkest state's. */
static double show_amplitude(const acdc_optics_modulator *dev, double a, int32_t *code)
{
    const double a0 = dev->contrast > 1 ? 1 / sqrt(dev->contrast) : 0;
    double d = fmax(0.0, (fmin(a, 1.0) - a0) / (1 - a0));
    if (dev->amplitude_bits) {
        *code = acdc_optics_amplitude_level(d, dev->amplitude_bits);
        d = acdc_optics_amplitude_of_level(*code, dev->amplitude_bits);
    }
    return a0 + (1 - a0) * d;
}

/* e^{i 2 pi k / 2^bits}, the phasor of phase level k, from a table made once for every
 * depth up to PHASOR_BITS (entries [2^b, 2^(b+1)) hold depth b) by the expression it
 * replaces, so the values are those cexp() gives.  Realising a value on a double-phase
 * device takes eight of them (pick_pair() and the pair shown): as cexp() calls they were
 * a fifth of a hardware-trained epoch (perf, ideal lenses). */
#define PHASOR_BITS 12
static double complex phasor_table[(size_t)2 << PHASOR_BITS];
static pthread_once_t phasor_once = PTHREAD_ONCE_INIT;

static void phasor_init(void)
{
    for (int b = 1; b <= PHASOR_BITS; b++)
        for (int32_t k = 0; k < (int32_t)1 << b; k++)
            phasor_table[((size_t)1 << b) + (size_t)k] = cexp(I * acdc_optics_phase_of_level(k, b));
}

static double complex phasor(int32_t level, int bits)
{
    if (bits < 1 || bits > PHASOR_BITS || level < 0 || level >= (int32_t)1 << bits)
        return cexp(I * acdc_optics_phase_of_level(level, bits));
    pthread_once(&phasor_once, phasor_init);
    return phasor_table[((size_t)1 << bits) + (size_t)level];
}

/* A double-phase pair's levels chosen together (device.h): of the rounded pair (*c0, *c1)
 * and its eight neighbours, one level up or down on either pixel, the pair whose mean
 * (e^{i theta1} + e^{i theta2}) / 2 is nearest t; the rounded pair unless another is
 * strictly nearer, the neighbours tried in a fixed order.  Rounded alone, each pixel is
 * up to half a level off and the two errors add in the mean; together they can cancel.
 * Six phasors a value (this runs for every value the simulator and the surrogate show). */
static void pick_pair(double t, int bits, int32_t *c0, int32_t *c1)
{
    const int32_t L = (int32_t)1 << bits, r0 = *c0, r1 = *c1;
    /* each pixel's three levels and their phasors, once: e[q][1] the rounded level's */
    int32_t k[2][3];
    double complex e[2][3];
    for (int d = 0; d < 3; d++) {
        k[0][d] = (r0 + d - 1 + L) % L;
        k[1][d] = (r1 + d - 1 + L) % L;
        e[0][d] = phasor(k[0][d], bits);
        e[1][d] = phasor(k[1][d], bits);
    }
    double best = cabs(0.5 * (e[0][1] + e[1][1]) - t);
    for (int d0 = 0; d0 < 3; d0++)
        for (int d1 = 0; d1 < 3; d1++) {
            if (d0 == 1 && d1 == 1)
                continue;
            double err = cabs(0.5 * (e[0][d0] + e[1][d1]) - t);
            if (err < best) {
                best = err;
                *c0 = k[0][d0];
                *c1 = k[1][d1];
            }
        }
}

int acdc_optics_modulator_pixels(const acdc_optics_modulator *dev, double t, double complex px[2],
                                 int32_t codes[2])
{
    const int pb = dev->phase_bits;
    int32_t c0 = 0, c1 = 0;
    int count = 1;
    switch (dev->modulation) {
    case ACDC_OPTICS_MOD_AMPLITUDE: {
        double a = show_amplitude(dev, t > 0 ? t : 0, &c0);
        px[0] = a;
        break;
    }
    case ACDC_OPTICS_MOD_COMPLEX: {
        double a = show_amplitude(dev, fabs(t), &c0);
        if (pb) {
            c1 = acdc_optics_phase_level(t < 0 ? M_PI : 0, pb);
            px[0] = a * phasor(c1, pb);
        } else {
            px[0] = t < 0 ? -a : a;   /* phase 0 or pi, exactly */
        }
        break;
    }
    default: {
        /* Double-phase: A e^{i phi} = (e^{i(phi + theta)} + e^{i(phi - theta)}) / 2,
         * theta = arccos A, ordered so that the difference term is i sin theta. */
        double phi = t < 0 ? M_PI : 0, th = acos(fmin(fabs(t), 1.0));
        double t1 = t < 0 ? phi - th : phi + th, t2 = t < 0 ? phi + th : phi - th;
        if (pb) {
            c0 = acdc_optics_phase_level(t1, pb);
            c1 = acdc_optics_phase_level(t2, pb);
            if (dev->pair_levels == ACDC_OPTICS_PAIRS_JOINT)
                pick_pair(t, pb, &c0, &c1);
            px[0] = phasor(c0, pb);
            px[1] = phasor(c1, pb);
        } else {
            px[0] = cexp(I * t1);
            px[1] = cexp(I * t2);
        }
        count = 2;
        break;
    }
    }
    if (codes) {
        codes[0] = c0;
        codes[1] = c1;
    }
    return count;
}

double complex acdc_optics_modulator_value(const acdc_optics_modulator *dev, double t,
                                           int32_t codes[2])
{
    double complex px[2];
    return acdc_optics_modulator_pixels(dev, t, px, codes) == 2 ? 0.5 * (px[0] + px[1]) : px[0];
}

/* Pixel i covers simulated samples first[i] .. first[i] + count[i] - 1, with weights
 * w[i * span + q]: the fraction of each sample its active area covers. */
struct acdc_optics_devmap {
    acdc_optics_modulator dev;
    size_t samples, npix, ppx, span, nsamp;
    size_t *first, *count;
    double *w;
    /* a registration error: the stretches where amplitude pixel amp[k] overlaps phase
     * pixel ph[k], each over samples pfirst[k] .. + pcount[k] - 1 with weights
     * pw[k * span + q]; npieces 0 when the device is one */
    size_t npieces, *amp, *ph, *pfirst, *pcount;
    double *pw;
    double kappa;                /* retardance scale (acdc_optics_devmap_set_retardance()) */
    size_t strip_pairs;          /* a pair down a strip's rows: the strip's pairs of rows
                                    (acdc_optics_devmap_set_strip()) */
};

/* A pixel's retardance: the phase of its value taken in [0, 2 pi), as its level holds it
 * (acdc_optics_phase_level()); what a change of wavelength scales and fringing blurs. */
static double retardance(double complex p)
{
    return fmod(carg(p) + 2 * M_PI, 2 * M_PI);
}

/* A pixel's value at kappa times its retardance (acdc_optics_devmap_set_retardance()). */
static double complex retard(double complex p, double kappa)
{
    return kappa == 1 ? p : cabs(p) * cexp(I * kappa * retardance(p));
}

size_t acdc_optics_strip_level_pixels(size_t rows)
{
    return rows >= 4 ? rows / 2 : 1;
}

void acdc_optics_devmap_set_strip(acdc_optics_devmap *d, size_t rows)
{
    d->strip_pairs = acdc_optics_strip_level_pixels(rows);
}

/* Above this many pixels the mean of their phasors is drawn from its Gaussian limit. */
enum { EXACT_MEAN_MAX = 32 };

double complex acdc_optics_phase_error_mean(gsl_rng *r, double sigma, size_t count)
{
    if (count <= EXACT_MEAN_MAX) {
        double complex sum = 0;
        for (size_t i = 0; i < count; i++)
            sum += cexp(I * gsl_ran_gaussian_ziggurat(r, sigma));
        return count == 1 ? sum : sum / (double)count;
    }
    /* E cos e = c, E sin e = 0 with c = exp(-sigma^2 / 2); var cos e = (1 - c^2)^2 / 2,
     * var sin e = (1 - c^4) / 2, cov = 0 (e symmetric) */
    const double c = exp(-0.5 * sigma * sigma), c2 = c * c;
    const double sc = sqrt(0.5 * (1 - c2) * (1 - c2) / (double)count),
                 ss = sqrt(0.5 * (1 - c2 * c2) / (double)count);
    const double re = c + gsl_ran_gaussian_ziggurat(r, sc);
    return re + I * gsl_ran_gaussian_ziggurat(r, ss);
}

void acdc_optics_devmap_set_retardance(acdc_optics_devmap *d, double kappa)
{
    d->kappa = kappa;
}

void acdc_optics_devmap_free(acdc_optics_devmap *d)
{
    if (!d)
        return;
    free(d->first);
    free(d->count);
    free(d->w);
    free(d->amp);
    free(d->ph);
    free(d->pfirst);
    free(d->pcount);
    free(d->pw);
    free(d);
}

size_t acdc_optics_devmap_pixels(const acdc_optics_devmap *d) { return d->npix; }

/* The stretches of a two-device complex map (struct acdc_optics_devmap): pixel i's active
 * area is [c_i - aw/2, c_i + aw/2) in units of the simulated pitch, c_i = (i -
 * floor(npix/2)) r + off; the amplitude device's is displaced by the registration. */
static int registration_pieces(acdc_optics_devmap *d, double r, double off)
{
    const double aw = d->dev.fill * r, shift = d->dev.registration * r;
    const size_t cap = 3 * d->npix;
    d->amp = malloc(cap * sizeof *d->amp);
    d->ph = malloc(cap * sizeof *d->ph);
    d->pfirst = malloc(cap * sizeof *d->pfirst);
    d->pcount = malloc(cap * sizeof *d->pcount);
    d->pw = calloc(cap * d->span, sizeof *d->pw);
    if (!d->amp || !d->ph || !d->pfirst || !d->pcount || !d->pw)
        return acdc_util_error(ACDC_UTIL_ENOMEM,
                               "out of memory for the pixels of '%s'", d->dev.name);
    for (size_t j = 0; j < d->npix; j++)
        for (long di = -1; di <= 1; di++) {
            const long i = (long)j + di;
            if (i < 0 || i >= (long)d->npix)
                continue;
            const double cp = ((double)j - (double)(d->npix / 2)) * r + off;
            const double ca = ((double)i - (double)(d->npix / 2)) * r + off + shift;
            const double lo = fmax(cp, ca) - aw / 2, hi = fmin(cp, ca) + aw / 2;
            if (!(hi > lo))
                continue;
            const size_t k = d->npieces++;
            d->amp[k] = (size_t)i;
            d->ph[k] = j;
            d->pcount[k] = acdc_optics_stretch_overlap(d->nsamp, lo, hi, d->span, &d->pfirst[k],
                                                       d->pw + k * d->span);
        }
    return ACDC_UTIL_OK;
}

int acdc_optics_devmap_alloc(acdc_optics_devmap **out, const acdc_optics_modulator *dev,
                             size_t samples,
                             int oversample, size_t nsamp, double offset_samples)
{
    *out = NULL;
    if (oversample < 1 || samples == 0 || nsamp == 0 || !isfinite(offset_samples) ||
        !(dev->pitch_m > 0) || !(dev->fill > 0 && dev->fill <= 1))
        return acdc_util_error(ACDC_UTIL_EUSAGE, "bad geometry for the pixels of '%s'", dev->name);
    acdc_optics_devmap *d = calloc(1, sizeof *d);
    if (!d)
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for the pixels of '%s'", dev->name);
    d->kappa = 1;
    acdc_optics_devmap_set_strip(d, dev->rows);
    const double sp = acdc_optics_modulator_sample_pitch(dev), h = sp / oversample;
    d->dev = *dev;
    d->samples = samples;
    d->nsamp = nsamp;
    /* S = 1: one point per sample, as wide as the sample (device.h). */
    d->ppx = oversample == 1 ? 1 : (size_t)acdc_optics_modulator_pixels_per_sample(dev);
    d->npix = d->ppx * samples;
    const double pp = sp / (double)d->ppx;
    acdc_optics_pixels px = {.npx = d->npix, .npy = 1, .pitch_m = pp,
                             .fill = oversample == 1 ? 1.0 : dev->fill};
    d->first = malloc(d->npix * sizeof *d->first);
    d->count = malloc(d->npix * sizeof *d->count);
    if (!d->first || !d->count) {
        acdc_optics_devmap_free(d);
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for the pixels of '%s'", dev->name);
    }
    /* acdc_optics_pixel_overlap() centres pixel ppx j on sample j; a pair is centred on it. */
    double off = -(double)(d->ppx - 1) * pp / 2 + offset_samples * sp;
    int rc = acdc_optics_pixel_overlap(nsamp, h, &px, d->npix, off, d->first, d->count, &d->w,
                                       &d->span);
    if (rc) {
        acdc_optics_devmap_free(d);
        return rc;
    }
    for (size_t i = 0; i < d->npix * d->span; i++)
        d->w[i] /= h;
    if (oversample >= 2 && dev->modulation == ACDC_OPTICS_MOD_COMPLEX && dev->registration != 0 &&
        (rc = registration_pieces(d, pp / h, off / h))) {
        acdc_optics_devmap_free(d);
        return rc;
    }
    *out = d;
    return ACDC_UTIL_OK;
}

size_t acdc_optics_devmap_pixels_per_sample(const acdc_optics_devmap *d) { return d->ppx; }

/* The value a pixel column of a ROWS strip carries along the line: the strip's zero
 * order in y, the mean of its two pixels, each retarded, and each the mean of the
 * strip's pairs of pixels on its level, every one with its own phase error (rms sigma,
 * when r is given). */
static double complex rows_value(const acdc_optics_devmap *d, double t, double sigma, gsl_rng *r)
{
    double complex px[2];
    if (acdc_optics_modulator_pixels(&d->dev, t, px, NULL) == 1)
        px[1] = px[0];
    for (int q = 0; q < 2; q++) {
        px[q] = retard(px[q], d->kappa);
        if (sigma > 0 && r)
            px[q] *= acdc_optics_phase_error_mean(r, sigma, d->strip_pairs);
    }
    return 0.5 * (px[0] + px[1]);
}

void acdc_optics_devmap_sample(const acdc_optics_devmap *d, double t, double complex *px)
{
    if (strip_rows(&d->dev)) {
        px[0] = rows_value(d, t, 0, NULL);
        return;
    }
    if (d->ppx == 1)
        px[0] = acdc_optics_modulator_value(&d->dev, t, NULL);
    else
        acdc_optics_modulator_pixels(&d->dev, t, px, NULL);
    for (size_t q = 0; d->kappa != 1 && q < d->ppx; q++)
        px[q] = retard(px[q], d->kappa);
}

void acdc_optics_devmap_place(const acdc_optics_devmap *d, const double complex *px,
                              double complex scale, double complex *out)
{
    memset(out, 0, d->nsamp * sizeof *out);
    for (size_t k = 0; k < d->npieces; k++) {
        /* the amplitude pixel's |value| with the phase pixel's phase */
        const double complex p = px[d->ph[k]];
        const double a = cabs(px[d->amp[k]]), m = cabs(p);
        const double complex v = (m > 0 ? a * p / m : a) * scale;
        for (size_t q = 0; q < d->pcount[k]; q++)
            out[d->pfirst[k] + q] += d->pw[k * d->span + q] * v;
    }
    for (size_t i = 0; d->npieces == 0 && i < d->npix; i++) {
        const double complex p = px[i] * scale;
        for (size_t q = 0; q < d->count[i]; q++)
            out[d->first[i] + q] += d->w[i * d->span + q] * p;
    }
}

void acdc_optics_devmap_show(const acdc_optics_devmap *d, const double *t, double sigma, gsl_rng *r,
                             double complex scale, double complex *work, double complex *out)
{
    for (size_t j = 0; j < d->samples; j++) {
        double complex *px = work + j * d->ppx;
        if (strip_rows(&d->dev)) {   /* one value per column, an error per pixel */
            px[0] = rows_value(d, t[j], sigma, r);
            continue;
        }
        acdc_optics_devmap_sample(d, t[j], px);
        for (size_t q = 0; sigma > 0 && r && q < d->ppx; q++)
            px[q] *= cexp(I * gsl_ran_gaussian_ziggurat(r, sigma));
    }
    acdc_optics_devmap_place(d, work, scale, out);
}

double acdc_optics_modulator_transfer_k(const acdc_optics_modulator *dev, int k, double t)
{
    double array = 1;
    if (k > 1) {
        double sk = sin(M_PI * t / k);
        /* the array factor is 1 at every multiple of k cycles per sample: its limit */
        array = fabs(sk) < 1e-300 ? (fmod(fabs(t) / k, 2.0) < 0.5 ? 1 : (k % 2 ? 1 : -1))
                                  : sin(M_PI * t) / (k * sk);
    }
    return gsl_sf_sinc(dev->fill * t / k) * array;
}

/* Superpixels of k x k pixels over an nsamp-square plane: pixel column (and row) i
 * covers simulated samples first[i] .. first[i] + count[i] - 1 with weights
 * w[i * span + q], the same along both axes but for the offsets. */
struct acdc_optics_devmap2 {
    acdc_optics_modulator dev;
    double kappa;                /* retardance scale (acdc_optics_devmap2_set_retardance()) */
    int k;                       /* pixels per sample per axis (1 for S = 1 points) */
    size_t samples, side, nsamp; /* side = k * samples pixels per axis */
    size_t *fx, *cx, *fy, *cy, span;
    double *wx, *wy;
};

void acdc_optics_devmap2_set_retardance(acdc_optics_devmap2 *d, double kappa)
{
    d->kappa = kappa;
}

void acdc_optics_devmap2_free(acdc_optics_devmap2 *d)
{
    if (!d)
        return;
    free(d->fx);
    free(d->cx);
    free(d->fy);
    free(d->cy);
    free(d->wx);
    free(d->wy);
    free(d);
}

size_t acdc_optics_devmap2_pixels(const acdc_optics_devmap2 *d) { return d->side * d->side; }

size_t acdc_optics_devmap2_work(const acdc_optics_devmap2 *d) { return d->side * d->side + d->nsamp; }

int acdc_optics_devmap2_alloc(acdc_optics_devmap2 **out, const acdc_optics_modulator *dev, int k,
                              size_t samples, int oversample, size_t nsamp, double offset_x,
                              double offset_y)
{
    *out = NULL;
    if (oversample < 1 || k < 1 || samples == 0 || nsamp == 0 || !isfinite(offset_x) ||
        !isfinite(offset_y) || !(dev->pitch_m > 0) || !(dev->fill > 0 && dev->fill <= 1))
        return acdc_util_error(ACDC_UTIL_EUSAGE, "bad geometry for the pixels of '%s'", dev->name);
    if (dev->modulation == ACDC_OPTICS_MOD_PHASE && k % 2)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "phase-only device '%s' needs an even superpixel "
                               "for its double-phase values, not %d x %d", dev->name, k, k);
    acdc_optics_devmap2 *d = calloc(1, sizeof *d);
    if (!d)
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for the pixels of '%s'", dev->name);
    d->kappa = 1;
    const double sp = k * dev->pitch_m, h = sp / oversample;
    d->dev = *dev;
    d->k = oversample == 1 ? 1 : k;
    d->samples = samples;
    d->nsamp = nsamp;
    d->side = (size_t)d->k * samples;
    const double pp = sp / d->k;
    acdc_optics_pixels px = {.npx = d->side, .npy = 1, .pitch_m = pp,
                             .fill = oversample == 1 ? 1.0 : dev->fill};
    d->fx = malloc(d->side * sizeof *d->fx);
    d->cx = malloc(d->side * sizeof *d->cx);
    d->fy = malloc(d->side * sizeof *d->fy);
    d->cy = malloc(d->side * sizeof *d->cy);
    int rc = ACDC_UTIL_OK;
    if (!d->fx || !d->cx || !d->fy || !d->cy)
        rc = acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for the pixels of '%s'", dev->name);
    /* pixel i of a row is centred at (i - side/2) pp by acdc_optics_pixel_overlap(); the k
     * pixels of a superpixel are centred on its sample */
    const double base = -(double)(d->k - 1) * pp / 2;
    size_t span_y = 0;
    if (!rc)
        rc = acdc_optics_pixel_overlap(nsamp, h, &px, d->side, base + offset_x * sp, d->fx,
                                       d->cx, &d->wx, &d->span);
    if (!rc)
        rc = acdc_optics_pixel_overlap(nsamp, h, &px, d->side, base + offset_y * sp, d->fy,
                                       d->cy, &d->wy, &span_y);
    if (rc) {
        acdc_optics_devmap2_free(d);
        return rc;
    }
    for (size_t i = 0; i < d->side * d->span; i++) {
        d->wx[i] /= h;
        d->wy[i] /= h;
    }
    *out = d;
    return ACDC_UTIL_OK;
}

void acdc_optics_devmap2_show(const acdc_optics_devmap2 *d, const double *t, double sigma,
                              gsl_rng *r, double complex scale, double complex *work,
                              double complex *out)
{
    const size_t k = (size_t)d->k, side = d->side, ns = d->nsamp;
    double complex *pix = work, *row = work + side * side;
    /* every sample's pixels: one value, or a double-phase value's two by the layout */
    for (size_t sy = 0; sy < d->samples; sy++)
        for (size_t sx = 0; sx < d->samples; sx++) {
            const double v = t[sy * d->samples + sx];
            double complex px[2];
            if (k == 1) {
                px[0] = acdc_optics_modulator_value(&d->dev, v, NULL);
                px[1] = px[0];
            } else if (acdc_optics_modulator_pixels(&d->dev, v, px, NULL) == 1) {
                px[1] = px[0];
            }
            px[0] = retard(px[0], d->kappa);
            px[1] = retard(px[1], d->kappa);
            for (size_t iy = 0; iy < k; iy++)
                for (size_t ix = 0; ix < k; ix++) {
                    size_t odd = d->dev.dp_layout == ACDC_OPTICS_DP_CHECKERBOARD ? (ix + iy) % 2
                                 : d->dev.dp_layout == ACDC_OPTICS_DP_ROWS      ? iy % 2
                                                                           : ix % 2;
                    pix[(sy * k + iy) * side + sx * k + ix] = px[odd];
                }
        }
    for (size_t i = 0; sigma > 0 && r && i < side * side; i++)
        pix[i] *= cexp(I * gsl_ran_gaussian_ziggurat(r, sigma));
    /* separable placement: each pixel row along x, then spread over its rows */
    memset(out, 0, ns * ns * sizeof *out);
    const size_t x0 = d->fx[0], x1 = d->fx[side - 1] + d->cx[side - 1];
    for (size_t py = 0; py < side; py++) {
        if (!d->cy[py])
            continue;
        memset(row + x0, 0, (x1 > x0 ? x1 - x0 : 0) * sizeof *row);
        for (size_t px = 0; px < side; px++) {
            const double complex v = pix[py * side + px] * scale;
            for (size_t q = 0; q < d->cx[px]; q++)
                row[d->fx[px] + q] += d->wx[px * d->span + q] * v;
        }
        for (size_t q = 0; q < d->cy[py]; q++) {
            const double wy = d->wy[py * d->span + q];
            double complex *o = out + (d->fy[py] + q) * ns;
            for (size_t x = x0; x < x1; x++)
                o[x] += wy * row[x];
        }
    }
}

/* One axis of a separable Gaussian blur: out[i] = sum_q g[q] in[i + q - r] along the
 * axis of length n with stride st, count lines of it, spaced by ls; samples beyond the
 * ends count as 0. */
static void blur_axis(const double *in, double *out, size_t n, size_t st, size_t count,
                      size_t ls, const double *g, size_t r)
{
    for (size_t c = 0; c < count; c++)
        for (size_t i = 0; i < n; i++) {
            double acc = 0;
            const size_t lo = i >= r ? i - r : 0, hi = i + r < n ? i + r : n - 1;
            for (size_t j = lo; j <= hi; j++)
                acc += g[j + r - i] * in[c * ls + j * st];
            out[c * ls + i * st] = acc;
        }
}

int acdc_optics_fringing(double complex *t, size_t nx, size_t ny, double h_m, double sigma_m)
{
    if (!(sigma_m > 0) || !isfinite(sigma_m) || !(h_m > 0) || !isfinite(h_m) || !nx || !ny)
        return acdc_util_error(ACDC_UTIL_EUSAGE,
                               "fringing: width %g m over samples of %g m", sigma_m,
                               h_m);
    const double sh = sigma_m / h_m;
    const size_t r = (size_t)ceil(6 * sh), n = nx * ny;
    double *g = malloc((2 * r + 1) * sizeof *g), *num = malloc(n * sizeof *num),
           *den = malloc(n * sizeof *den), *tmp = malloc(n * sizeof *tmp);
    if (!g || !num || !den || !tmp) {
        free(g);
        free(num);
        free(den);
        free(tmp);
        return acdc_util_error(ACDC_UTIL_ENOMEM,
                               "out of memory for the fringing of %zu samples", n);
    }
    double sum = 0;
    for (size_t q = 0; q <= 2 * r; q++) {
        const double x = ((double)q - (double)r) / sh;
        sum += g[q] = exp(-0.5 * x * x);
    }
    for (size_t q = 0; q <= 2 * r; q++)
        g[q] /= sum;
    /* normalised convolution: the retardance where the device transmits, and where */
    for (size_t i = 0; i < n; i++) {
        const int on = cabs(t[i]) > 0;
        num[i] = on ? retardance(t[i]) : 0;
        den[i] = on;
    }
    double *v[2] = {num, den};
    for (int k = 0; k < 2; k++) {
        blur_axis(v[k], tmp, nx, 1, ny, nx, g, r);
        if (ny > 1)
            blur_axis(tmp, v[k], ny, nx, nx, 1, g, r);
        else
            memcpy(v[k], tmp, n * sizeof *tmp);
    }
    for (size_t i = 0; i < n; i++)
        if (den[i] > 0 && cabs(t[i]) > 0)
            t[i] = cabs(t[i]) * cexp(I * num[i] / den[i]);
    free(g);
    free(num);
    free(den);
    free(tmp);
    return ACDC_UTIL_OK;
}

int acdc_optics_plane_rotate(double complex *t, size_t side, double theta)
{
    if (!isfinite(theta))
        return acdc_util_error(ACDC_UTIL_EUSAGE, "rotation %g rad is not a number", theta);
    if (theta == 0 || side == 0)
        return ACDC_UTIL_OK;
    double complex *src = malloc(side * side * sizeof *src);
    if (!src)
        return acdc_util_error(ACDC_UTIL_ENOMEM,
                               "out of memory for a rotated plane of %zu^2", side);
    memcpy(src, t, side * side * sizeof *src);
    const double c = cos(theta), sn = sin(theta), a = (double)(side / 2);
    for (size_t y = 0; y < side; y++)
        for (size_t x = 0; x < side; x++) {
            /* the unrotated point that lands on (x, y): rotate back by -theta */
            const double dx = (double)x - a, dy = (double)y - a;
            const double u = c * dx + sn * dy + a, v = -sn * dx + c * dy + a;
            const double fu = floor(u), fv = floor(v), wu = u - fu, wv = v - fv;
            double complex acc = 0;
            for (int j = 0; j < 2; j++)
                for (int i = 0; i < 2; i++) {
                    const double px = fu + i, py = fv + j;
                    const double w = (i ? wu : 1 - wu) * (j ? wv : 1 - wv);
                    if (w != 0 && px >= 0 && py >= 0 && px < (double)side && py < (double)side)
                        acc += w * src[(size_t)py * side + (size_t)px];
                }
            t[y * side + x] = acc;
        }
    free(src);
    return ACDC_UTIL_OK;
}
