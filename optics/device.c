/* optics/device.c -- see device.h. */
#include "optics/device.h"

#include "optics/detector.h"
#include "util/error.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_sf_trig.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

optics_modulator optics_modulator_ideal(const optics_modulator *dev)
{
    optics_modulator m = *dev;
    m.modulation = OPTICS_MOD_COMPLEX;
    m.fill = 1;
    m.amplitude_bits = 0;
    m.phase_bits = 0;
    m.phase_error_rad = 0;
    return m;
}

int optics_modulator_pixels_per_sample(const optics_modulator *dev)
{
    return dev->modulation == OPTICS_MOD_PHASE ? 2 : 1;
}

double optics_modulator_sample_pitch(const optics_modulator *dev)
{
    return optics_modulator_pixels_per_sample(dev) * dev->pitch_m;
}

int optics_modulator_codes(const optics_modulator *dev)
{
    return dev->modulation == OPTICS_MOD_AMPLITUDE ? 1 : 2;
}

double optics_modulator_transfer(const optics_modulator *dev, double t)
{
    if (optics_modulator_pixels_per_sample(dev) == 2)
        return gsl_sf_sinc(dev->fill * t / 2) * cos(M_PI * t / 2);
    return gsl_sf_sinc(dev->fill * t);
}

static double wrap_2pi(double phi)
{
    phi = fmod(phi, 2 * M_PI);
    return phi < 0 ? phi + 2 * M_PI : phi;
}

int32_t optics_phase_level(double phase_rad, int bits)
{
    double L = ldexp(1.0, bits);
    return (int32_t)((long)lround(wrap_2pi(phase_rad) / (2 * M_PI) * L) % (long)L);
}

double optics_phase_of_level(int32_t level, int bits)
{
    return 2 * M_PI * level / ldexp(1.0, bits);
}

int32_t optics_amplitude_level(double a, int bits)
{
    double L = ldexp(1.0, bits) - 1;
    return (int32_t)lround(fmin(fmax(a, 0.0), 1.0) * L);
}

double optics_amplitude_of_level(int32_t level, int bits)
{
    return level / (ldexp(1.0, bits) - 1);
}

int optics_modulator_pixels(const optics_modulator *dev, double t, double complex px[2],
                            int32_t codes[2])
{
    const int ab = dev->amplitude_bits, pb = dev->phase_bits;
    int32_t c0 = 0, c1 = 0;
    int count = 1;
    switch (dev->modulation) {
    case OPTICS_MOD_AMPLITUDE: {
        double a = t > 0 ? t : 0;
        if (ab) {
            c0 = optics_amplitude_level(a, ab);
            a = optics_amplitude_of_level(c0, ab);
        }
        px[0] = a;
        break;
    }
    case OPTICS_MOD_COMPLEX: {
        double a = fabs(t);
        if (ab) {
            c0 = optics_amplitude_level(a, ab);
            a = optics_amplitude_of_level(c0, ab);
        }
        if (pb) {
            c1 = optics_phase_level(t < 0 ? M_PI : 0, pb);
            px[0] = a * cexp(I * optics_phase_of_level(c1, pb));
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
            c0 = optics_phase_level(t1, pb);
            c1 = optics_phase_level(t2, pb);
            t1 = optics_phase_of_level(c0, pb);
            t2 = optics_phase_of_level(c1, pb);
        }
        px[0] = cexp(I * t1);
        px[1] = cexp(I * t2);
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

double complex optics_modulator_value(const optics_modulator *dev, double t,
                                      int32_t codes[2])
{
    double complex px[2];
    return optics_modulator_pixels(dev, t, px, codes) == 2 ? 0.5 * (px[0] + px[1]) : px[0];
}

/* Pixel i covers simulated samples first[i] .. first[i] + count[i] - 1, with weights
 * w[i * span + q]: the fraction of each sample its active area covers. */
struct optics_devmap {
    optics_modulator dev;
    size_t samples, npix, ppx, span, nsamp;
    size_t *first, *count;
    double *w;
};

void optics_devmap_free(optics_devmap *d)
{
    if (!d)
        return;
    free(d->first);
    free(d->count);
    free(d->w);
    free(d);
}

size_t optics_devmap_pixels(const optics_devmap *d) { return d->npix; }

int optics_devmap_alloc(optics_devmap **out, const optics_modulator *dev, size_t samples,
                        int oversample, size_t nsamp, double offset_samples)
{
    *out = NULL;
    if (oversample < 1 || samples == 0 || nsamp == 0 || !isfinite(offset_samples) ||
        !(dev->pitch_m > 0) || !(dev->fill > 0 && dev->fill <= 1))
        return util_error(UTIL_EUSAGE, "bad geometry for the pixels of '%s'", dev->name);
    optics_devmap *d = calloc(1, sizeof *d);
    if (!d)
        return util_error(UTIL_ENOMEM, "out of memory for the pixels of '%s'", dev->name);
    const double sp = optics_modulator_sample_pitch(dev), h = sp / oversample;
    d->dev = *dev;
    d->samples = samples;
    d->nsamp = nsamp;
    /* S = 1: one point per sample, as wide as the sample (device.h). */
    d->ppx = oversample == 1 ? 1 : (size_t)optics_modulator_pixels_per_sample(dev);
    d->npix = d->ppx * samples;
    const double pp = sp / (double)d->ppx;
    optics_pixels px = {.npx = d->npix, .npy = 1, .pitch_m = pp,
                        .fill = oversample == 1 ? 1.0 : dev->fill};
    d->first = malloc(d->npix * sizeof *d->first);
    d->count = malloc(d->npix * sizeof *d->count);
    if (!d->first || !d->count) {
        optics_devmap_free(d);
        return util_error(UTIL_ENOMEM, "out of memory for the pixels of '%s'", dev->name);
    }
    /* optics_pixel_overlap() centres pixel ppx j on sample j; a pair is centred on it. */
    double off = -(double)(d->ppx - 1) * pp / 2 + offset_samples * sp;
    int rc = optics_pixel_overlap(nsamp, h, &px, d->npix, off, d->first, d->count, &d->w,
                                  &d->span);
    if (rc) {
        optics_devmap_free(d);
        return rc;
    }
    for (size_t i = 0; i < d->npix * d->span; i++)
        d->w[i] /= h;
    *out = d;
    return UTIL_OK;
}

size_t optics_devmap_pixels_per_sample(const optics_devmap *d) { return d->ppx; }

void optics_devmap_sample(const optics_devmap *d, double t, double complex *px)
{
    if (d->ppx == 1)
        px[0] = optics_modulator_value(&d->dev, t, NULL);
    else
        optics_modulator_pixels(&d->dev, t, px, NULL);
}

void optics_devmap_place(const optics_devmap *d, const double complex *px,
                         double complex scale, double complex *out)
{
    memset(out, 0, d->nsamp * sizeof *out);
    for (size_t i = 0; i < d->npix; i++) {
        const double complex p = px[i] * scale;
        for (size_t q = 0; q < d->count[i]; q++)
            out[d->first[i] + q] += d->w[i * d->span + q] * p;
    }
}

void optics_devmap_show(const optics_devmap *d, const double *t, double sigma, gsl_rng *r,
                        double complex scale, double complex *work, double complex *out)
{
    for (size_t j = 0; j < d->samples; j++) {
        double complex *px = work + j * d->ppx;
        optics_devmap_sample(d, t[j], px);
        for (size_t q = 0; sigma > 0 && r && q < d->ppx; q++)
            px[q] *= cexp(I * gsl_ran_gaussian_ziggurat(r, sigma));
    }
    optics_devmap_place(d, work, scale, out);
}
