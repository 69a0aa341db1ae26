/* SPDX-License-Identifier: GPL-3.0-or-later */
/* optics/detector.c -- see detector.h. */
#include "optics/detector.h"

#include "util/error.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sf_trig.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int acdc_optics_intensity(const acdc_optics_field *f, double *irr)
{
    if (!f || !irr)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "field or output is NULL");
    size_t n = f->nb * acdc_optics_grid_size(&f->g);
    for (size_t i = 0; i < n; i++)
        irr[i] = creal(f->data[i]) * creal(f->data[i]) + cimag(f->data[i]) * cimag(f->data[i]);
    return ACDC_UTIL_OK;
}

int acdc_optics_homodyne(const acdc_optics_field *f, const acdc_optics_field *ref, double *plus,
                         double *minus, double *diff)
{
    if (!f || !ref)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "field or reference is NULL");
    if (!acdc_optics_grid_same(&f->g, &ref->g))
        return acdc_util_error(ACDC_UTIL_EUSAGE, "reference beam is %zu x %zu at %g m pitch, the "
                               "signal %zu x %zu at %g m", ref->g.nx, ref->g.ny, ref->g.pitch_m,
                               f->g.nx, f->g.ny, f->g.pitch_m);
    if (ref->nb != 1 && ref->nb != f->nb)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "reference batch of %zu for a signal batch of %zu",
                               ref->nb, f->nb);
    size_t n = acdc_optics_grid_size(&f->g);
    /* fields in parallel: each element on its own, so the threads do not change a bit */
#pragma omp parallel for schedule(static) if (f->nb > 1)
    for (size_t b = 0; b < f->nb; b++) {
        const double complex *e = f->data + b * n;
        const double complex *r = ref->data + (ref->nb == 1 ? 0 : b * n);
        for (size_t i = 0; i < n; i++) {
            double complex p = e[i] + r[i], m = e[i] - r[i];
            double ip = creal(acdc_optics_cmul(p, conj(p)));
            double im = creal(acdc_optics_cmul(m, conj(m)));
            if (plus)
                plus[b * n + i] = ip;
            if (minus)
                minus[b * n + i] = im;
            /* the difference formed directly, not as ip - im, so that a weak signal
             * on a strong reference keeps its digits */
            if (diff)
                diff[b * n + i] = 4 * creal(acdc_optics_cmul(e[i], conj(r[i])));
        }
    }
    return ACDC_UTIL_OK;
}

/* Overlap length of [a0, a1) with [b0, b1). */
static double overlap(double a0, double a1, double b0, double b1)
{
    double lo = a0 > b0 ? a0 : b0, hi = a1 < b1 ? a1 : b1;
    return hi > lo ? hi - lo : 0;
}

size_t acdc_optics_stretch_overlap(size_t nsamp, double lo, double hi, size_t span,
                                   size_t *first, double *w)
{
    const double s = (double)(nsamp / 2);
    /* sample j covers [j - s - 1/2, j - s + 1/2) */
    const double j0 = fmax(0, floor(lo + s + 0.5)), j1 = fmin((double)nsamp - 1,
                                                             ceil(hi + s - 0.5));
    size_t n = 0;
    *first = 0;
    if (!(hi > lo) || j1 < j0)
        return 0;
    *first = (size_t)j0;
    for (size_t j = (size_t)j0; j <= (size_t)j1 && n < span; j++) {
        const double x = (double)j - s;
        w[n++] = overlap(x - 0.5, x + 0.5, lo, hi);
    }
    return n;
}

int acdc_optics_pixel_overlap(size_t nsamp, double dx_m, const acdc_optics_pixels *px, size_t npix,
                              double offset_m, size_t *first, size_t *count, double **w,
                              size_t *span)
{
    *w = NULL;
    if (!(isfinite(dx_m) && dx_m > 0 && isfinite(offset_m) && px && isfinite(px->pitch_m) &&
          px->pitch_m > 0 && px->fill > 0 && px->fill <= 1 && nsamp > 0))
        return acdc_util_error(ACDC_UTIL_EUSAGE, "bad pixel geometry or sample pitch");
    /* Positions in units of the sample pitch, relative to the axis: for pixels as wide
     * as the samples and aligned with them every overlap is then exactly 0 or 1, and
     * elsewhere the rounding does not grow with the distance from the axis. */
    const double r = px->pitch_m / dx_m, aw = px->fill * r, off = offset_m / dx_m;
    *span = (size_t)ceil(aw) + 2;
    *w = calloc(npix * *span, sizeof **w);
    if (!*w)
        return acdc_util_error(ACDC_UTIL_ENOMEM, "cannot allocate pixel weights");
    for (size_t i = 0; i < npix; i++) {
        double c = ((double)i - (double)(npix / 2)) * r + off;
        count[i] = acdc_optics_stretch_overlap(nsamp, c - aw / 2, c + aw / 2, *span, &first[i],
                                               *w + i * *span);
        for (size_t q = 0; q < count[i]; q++)
            (*w)[i * *span + q] *= dx_m;
    }
    return ACDC_UTIL_OK;
}

int acdc_optics_pixels_integrate(const acdc_optics_grid *g, size_t nb, const double *irr,
                                 const acdc_optics_pixels *px, double *power_w)
{
    int rc = acdc_optics_grid_check(g);
    if (rc)
        return rc;
    if (!irr || !px || !power_w)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "irradiance, pixels or output is NULL");
    if (px->npx == 0 || px->npy == 0)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "detector of %zu x %zu pixels has no pixels",
                               px->npx, px->npy);
    if (!(isfinite(px->pitch_m) && px->pitch_m > 0))
        return acdc_util_error(ACDC_UTIL_EUSAGE, "pixel pitch %g m is not positive and finite",
                               px->pitch_m);
    if (!(px->fill > 0 && px->fill <= 1))
        return acdc_util_error(ACDC_UTIL_EUSAGE, "pixel fill factor %g is not in (0, 1]", px->fill);
    if (g->rank == 1 && px->npy != 1)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "rank-1 field on a detector with %zu rows, want 1",
                               px->npy);
    size_t *fx = malloc(px->npx * sizeof *fx), *cx = malloc(px->npx * sizeof *cx);
    size_t *fy = malloc(px->npy * sizeof *fy), *cy = malloc(px->npy * sizeof *cy);
    double *wx = NULL, *wy = NULL;
    if (!fx || !cx || !fy || !cy) {
        rc = acdc_util_error(ACDC_UTIL_ENOMEM, "cannot allocate pixel weights");
        goto out;
    }
    size_t spanx, spany;
    if ((rc = acdc_optics_pixel_overlap(g->nx, g->pitch_m, px, px->npx, 0, fx, cx, &wx, &spanx)))
        goto out;
    if (g->rank == 2) {
        if ((rc = acdc_optics_pixel_overlap(g->ny, g->pitch_m, px, px->npy, 0, fy, cy, &wy,
                                            &spany)))
            goto out;
    }
    size_t n = acdc_optics_grid_size(g), np = px->npx * px->npy;
#pragma omp parallel for schedule(static)
    for (long b = 0; b < (long)nb; b++) {
        const double *im = irr + (size_t)b * n;
        for (size_t j = 0; j < px->npy; j++) {
            for (size_t i = 0; i < px->npx; i++) {
                double s = 0;
                if (g->rank == 1) {
                    for (size_t q = 0; q < cx[i]; q++)
                        s += wx[i * spanx + q] * im[fx[i] + q];
                } else {
                    for (size_t r = 0; r < cy[j]; r++) {
                        const double *row = im + (fy[j] + r) * g->nx + fx[i];
                        double sr = 0;
                        for (size_t q = 0; q < cx[i]; q++)
                            sr += wx[i * spanx + q] * row[q];
                        s += wy[j * spany + r] * sr;
                    }
                }
                power_w[(size_t)b * np + j * px->npx + i] = s;
            }
        }
    }
out:
    free(fx);
    free(cx);
    free(fy);
    free(cy);
    free(wx);
    free(wy);
    return rc;
}

static int check_camera(const acdc_optics_camera *c)
{
    if (!c)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "camera is NULL");
    if (!(isfinite(c->wavelength_m) && c->wavelength_m > 0))
        return acdc_util_error(ACDC_UTIL_EUSAGE, "wavelength %g m is not positive and finite",
                               c->wavelength_m);
    if (!(isfinite(c->exposure_s) && c->exposure_s > 0))
        return acdc_util_error(ACDC_UTIL_EUSAGE, "exposure %g s is not positive and finite",
                               c->exposure_s);
    if (!(c->qe > 0 && c->qe <= 1))
        return acdc_util_error(ACDC_UTIL_EUSAGE, "quantum efficiency %g is not in (0, 1]", c->qe);
    if (!(isfinite(c->dark_e_per_s) && c->dark_e_per_s >= 0))
        return acdc_util_error(ACDC_UTIL_EUSAGE, "dark current %g e/s is negative or not finite",
                               c->dark_e_per_s);
    if (!(isfinite(c->read_noise_e) && c->read_noise_e >= 0))
        return acdc_util_error(ACDC_UTIL_EUSAGE, "read noise %g e is negative or not finite",
                               c->read_noise_e);
    if (!(isfinite(c->full_well_e) && c->full_well_e > 0))
        return acdc_util_error(ACDC_UTIL_EUSAGE, "full well %g e is not positive and finite",
                               c->full_well_e);
    if (c->adc_bits < 0 || c->adc_bits > 32)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "ADC of %d bits is outside 0..32", c->adc_bits);
    return ACDC_UTIL_OK;
}

int acdc_optics_photoelectrons(const acdc_optics_camera *c, double power_w, double *electrons)
{
    int rc = check_camera(c);
    if (rc)
        return rc;
    if (!(isfinite(power_w) && power_w >= 0))
        return acdc_util_error(ACDC_UTIL_EUSAGE, "optical power %g W is negative or not finite",
                               power_w);
    if (!electrons)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "output is NULL");
    *electrons = c->qe * power_w * c->exposure_s * c->wavelength_m /
                 (ACDC_OPTICS_PLANCK * ACDC_OPTICS_C);
    return ACDC_UTIL_OK;
}

double acdc_optics_camera_transfer(const acdc_optics_camera *c, double t)
{
    return gsl_sf_sinc(c->fill * t);
}

uint64_t acdc_optics_field_seed(uint64_t seed, uint64_t b)
{
    /* splitmix64 (Steele, Lea & Flood 2014) of seed + golden-ratio multiple of b */
    uint64_t z = seed + 0x9e3779b97f4a7c15ull * (b + 1);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Every pixel power finite and >= 0. */
static int check_powers(const double *power_w, size_t nb, size_t npix)
{
    if (!power_w)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "pixel powers are NULL");
    for (size_t i = 0; i < nb * npix; i++)
        if (!(isfinite(power_w[i]) && power_w[i] >= 0))
            return acdc_util_error(ACDC_UTIL_EUSAGE, "pixel %zu of field %zu receives %g W: "
                                   "negative or not finite", i % npix, i / npix, power_w[i]);
    return ACDC_UTIL_OK;
}

/* Field b's generator, seeded from (seed, b); NULL if out of memory. */
static gsl_rng *field_rng(uint64_t seed, long b)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (r) {
        /* mt19937 takes an unsigned long seed; fold the 64-bit mix into it */
        uint64_t s = acdc_optics_field_seed(seed, (uint64_t)b);
        gsl_rng_set(r, (unsigned long)(s ^ (s >> 32)));
    }
    return r;
}

/* Poisson electrons of `mean`: above ACDC_OPTICS_POISSON_NORMAL through the normal
 * approximation N(mean, mean), rounded (skewness 1/sqrt(mean) below 3%): GSL's exact
 * sampler costs a tan, a log and an exp per draw there and dominated whole
 * simulations. */
static double shot(gsl_rng *r, double mean)
{
    if (mean > ACDC_OPTICS_POISSON_NORMAL)
        return fmax(0.0, round(mean + gsl_ran_gaussian_ziggurat(r, sqrt(mean))));
    return (double)gsl_ran_poisson(r, mean);
}

int acdc_optics_detect(const acdc_optics_camera *c, size_t nb, size_t npix, const double *power_w,
                       double *electrons, uint32_t *codes)
{
    int rc = check_camera(c);
    if (rc || (rc = check_powers(power_w, nb, npix)))
        return rc;
    double per_w = c->qe * c->exposure_s * c->wavelength_m / (ACDC_OPTICS_PLANCK * ACDC_OPTICS_C);
    double dark = c->dark_e_per_s * c->exposure_s;
    double top = ldexp(1, c->adc_bits) - 1;
    int fail = 0;
#pragma omp parallel for schedule(static) reduction(| : fail)
    for (long b = 0; b < (long)nb; b++) {
        gsl_rng *r = field_rng(c->seed, b);
        if (!r) {
            fail = 1;
            continue;
        }
        for (size_t i = 0; i < npix; i++) {
            size_t k = (size_t)b * npix + i;
            double mean = per_w * power_w[k] + dark;
            double e = c->shot_noise ? shot(r, mean) : mean;
            if (c->read_noise_e > 0)
                e += gsl_ran_gaussian_ziggurat(r, c->read_noise_e);
            e = e < 0 ? 0 : e > c->full_well_e ? c->full_well_e : e;
            if (electrons)
                electrons[k] = e;
            if (codes && c->adc_bits) {
                double q = round(e * top / c->full_well_e);
                codes[k] = (uint32_t)(q < 0 ? 0 : q > top ? top : q);
            }
        }
        gsl_rng_free(r);
    }
    if (fail)
        return acdc_util_error(ACDC_UTIL_ENOMEM, "cannot allocate a random number generator");
    return ACDC_UTIL_OK;
}

int acdc_optics_detect_frames(const acdc_optics_camera *c, size_t nb, size_t npix,
                              const double *power_w, size_t frames, double *sum,
                              unsigned char *saturated)
{
    if (frames == 0)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "no exposures to add");
    int rc;
    if ((rc = check_camera(c)) || (rc = check_powers(power_w, nb, npix)))
        return rc;
    if (!sum)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "pixel sums are NULL");
    const double per_w = c->qe * c->exposure_s * c->wavelength_m / (ACDC_OPTICS_PLANCK * ACDC_OPTICS_C);
    const double dark = c->dark_e_per_s * c->exposure_s, N = (double)frames;
    const double q = c->adc_bits ? c->full_well_e / (ldexp(1, c->adc_bits) - 1) : 0;
    const double sd = sqrt(N * (c->read_noise_e * c->read_noise_e + q * q / 12));
    int fail = 0;
#pragma omp parallel for schedule(static) reduction(| : fail)
    for (long b = 0; b < (long)nb; b++) {
        gsl_rng *r = field_rng(c->seed, b);
        if (!r) {
            fail = 1;
            continue;
        }
        for (size_t i = 0; i < npix; i++) {
            const size_t k = (size_t)b * npix + i;
            const double mean = per_w * power_w[k] + dark;
            const int full = mean >= c->full_well_e;
            double e = N * mean;
            if (full)
                e = N * c->full_well_e;
            else {
                if (c->shot_noise)
                    e = shot(r, e);
                if (sd > 0)
                    e += gsl_ran_gaussian_ziggurat(r, sd);
                e = e < 0 ? 0 : e > N * c->full_well_e ? N * c->full_well_e : e;
            }
            sum[k] = e;
            if (saturated)
                saturated[k] = (unsigned char)full;
        }
        gsl_rng_free(r);
    }
    if (fail)
        return acdc_util_error(ACDC_UTIL_ENOMEM, "cannot allocate a random number generator");
    return ACDC_UTIL_OK;
}
