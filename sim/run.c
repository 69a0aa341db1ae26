/* sim/run.c -- see run.h. */
#include "sim/run.h"
#include "compiler/compile.h"
#include "optics/detector.h"
#include "optics/element.h"
#include "optics/field.h"
#include "optics/propagate.h"
#include "util/error.h"
#include "util/mem.h"

#include <fftw3.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A modulator's pixels spread over the simulated samples (resolved pixels): pixel
 * i covers samples first[i] .. first[i] + count[i] − 1, weights w[i·span + q] being the
 * fraction of each sample it covers with its active area (optics_pixel_overlap()). */
typedef struct devmap {
    size_t npix, ppx, span;
    size_t *first, *count;
    double *w;
} devmap;

struct sim {
    const compiler_system *s;
    sim_options o;
    size_t batch;
    int noise;
    optics_grid grid;
    optics_lens_plan *l1, *l2;        /* ideal lenses */
    optics_prop *free_f;              /* fresnel/asm: free space over f */
    double complex *lens_t;           /* fresnel/asm: thin-lens transmittance */
    double complex **fourier, **image;/* per stage (flattened over chains): masks with
                                         the device's phase errors */
    optics_field *field, *ref;
    optics_camera cam;
    optics_pixels px;
    double *plus, *minus, *pp, *pm, *ep, *em;
    double *diff;
    double *v, *u, *scale;
    uint32_t *codes;                  /* ADC codes of one port of one row */
    int adc;                          /* the camera digitises (profile adc_bits > 0) */
    double power_w;                   /* laser power in use (noise model) */
    double complex g4f;               /* the simulated 4f's constant, calibrated */
    size_t saturated;                 /* rows whose exposure was shortened */
    size_t keep_rows;                 /* sim_keep_planes() */
    double complex *keep;
    int os;                           /* oversampling S: sub-samples per sample */
    int fine;                         /* devices as pixels (S >= 2 or a pixel-aware
                                         design), not one point per sample */
    size_t L;                         /* samples per simulated plane, M·S² */
    devmap in_map, f_map, im_map;     /* resolved pixels: input, Fourier, image */
    double *in_val;                   /* resolved pixels: input samples of one row */
    double complex *in_px;            /* resolved pixels: input pixels of one row */
    double complex *gch;              /* resolved pixels: each chain's constant */
    double *fdiff;                    /* resolved pixels: homodyne diff, batch × L */
};

sim_options sim_options_default(void)
{
    sim_options o = {.propagation = SIM_PROP_IDEAL, .noise = 1, .phase_error_rad = -1,
                     .photons = 0, .oversample = 0, .seed = 1, .threads = 1};
    return o;
}

static size_t n_stages(const compiler_system *s)
{
    size_t k = 0;
    for (size_t c = 0; c < s->n_chains; c++)
        k += s->chains[c].count;
    return k;
}

static void devmap_free(devmap *d)
{
    free(d->first);
    free(d->count);
    free(d->w);
    memset(d, 0, sizeof *d);
}

/* The pixels of device dev (one sample = ppx pixels side by side, a double-phase pair
 * centred on its sample) over L simulated samples at pitch h, displaced by shift
 * samples.  Dead space and the surround of the device are opaque. */
static int devmap_init(devmap *d, const compiler_system *s, const compiler_modulator *dev,
                       size_t samples, double sample_pitch, size_t L, double h, double shift)
{
    const int ideal = s->profile.ideal;
    d->ppx = (size_t)compiler_pixels_per_sample(dev, ideal);
    d->npix = d->ppx * samples;
    const double pp = sample_pitch / (double)d->ppx;
    optics_pixels px = {.npx = d->npix, .npy = 1, .pitch_m = pp,
                        .fill = ideal ? 1.0 : dev->fill};
    d->first = malloc(d->npix * sizeof *d->first);
    d->count = malloc(d->npix * sizeof *d->count);
    if (!d->first || !d->count)
        return util_error(UTIL_ENOMEM, "out of memory for the pixels of '%s'", dev->name);
    /* optics_pixel_overlap() centres pixel ppx·j on sample j; a pair is centred on it. */
    double off = -(double)(d->ppx - 1) * pp / 2 + shift * sample_pitch;
    int rc = optics_pixel_overlap(L, h, &px, d->npix, off, d->first, d->count, &d->w,
                                  &d->span);
    if (rc)
        return rc;
    for (size_t i = 0; i < d->npix * d->span; i++)
        d->w[i] /= h;
    return UTIL_OK;
}

/* out (L samples) = the device showing pixel transmittances px. */
static void devmap_apply(const devmap *d, const double complex *px, double complex *out,
                         size_t L)
{
    memset(out, 0, L * sizeof *out);
    for (size_t i = 0; i < d->npix; i++)
        for (size_t q = 0; q < d->count[i]; q++)
            out[d->first[i] + q] += d->w[i * d->span + q] * px[i];
}

/* The pixels (d->ppx per sample) that device dev shows for sample values t[0..m):
 * ideal values as they are, else realised with the device's levels (a double-phase
 * pair on a phase-only device), each pixel then with a fixed random phase error. */
static void device_pixels(const devmap *d, const compiler_modulator *dev, int ideal,
                          const double *t, size_t m, double sigma, gsl_rng *r,
                          double complex *px)
{
    for (size_t j = 0; j < m; j++) {
        double complex v[2] = {t[j], 0};
        if (!ideal)
            compiler_realise_pixels(t[j], dev, v, NULL, NULL);
        for (size_t q = 0; q < d->ppx; q++)
            px[j * d->ppx + q] = sigma > 0 && r
                                     ? v[q] * cexp(I * gsl_ran_gaussian_ziggurat(r, sigma))
                                     : v[q];
    }
}

/* A mask as the device shows it on the simulated samples (resolved pixels). */
static double complex *fine_mask(const sim *m, const devmap *d, const compiler_modulator *dev,
                                 const double *t, double sigma, gsl_rng *r)
{
    double complex *px = malloc(d->npix * sizeof *px);
    double complex *out = malloc(m->L * sizeof *out);
    if (!px || !out) {
        free(px);
        free(out);
        return NULL;
    }
    device_pixels(d, dev, m->s->profile.ideal, t, d->npix / d->ppx, sigma, r, px);
    devmap_apply(d, px, out, m->L);
    free(px);
    return out;
}

void sim_free(sim *m)
{
    if (!m)
        return;
    size_t K = n_stages(m->s);
    for (size_t k = 0; k < K; k++) {
        if (m->fourier)
            free(m->fourier[k]);
        if (m->image)
            free(m->image[k]);
    }
    free(m->fourier);
    free(m->image);
    optics_lens_plan_free(m->l1);
    optics_lens_plan_free(m->l2);
    optics_prop_free(m->free_f);
    free(m->lens_t);
    optics_field_free(m->field);
    optics_field_free(m->ref);
    free(m->plus);
    free(m->minus);
    free(m->pp);
    free(m->pm);
    free(m->ep);
    free(m->em);
    free(m->codes);
    free(m->diff);
    free(m->v);
    free(m->u);
    free(m->scale);
    devmap_free(&m->in_map);
    devmap_free(&m->f_map);
    devmap_free(&m->im_map);
    free(m->in_val);
    free(m->in_px);
    free(m->gch);
    free(m->fdiff);
    free(m);
}

/* A mask displaced laterally by delta pixels, t'(x) = t(x − delta).  Each field sample
 * covers one pixel's width, so a sample sees the area-weighted mix of the two pixels it
 * now overlaps (exact for a fill factor of 1); light falls on opaque surround where the
 * device has moved away. */
static int displace(double complex *t, size_t m, double delta)
{
    if (delta == 0)
        return UTIL_OK;
    double fl = floor(delta), w = delta - fl;
    long sh = (long)fl;
    double complex *c = malloc(m * sizeof *c);
    if (!c)
        return util_error(UTIL_ENOMEM, "out of memory");
    memcpy(c, t, m * sizeof *c);
    for (size_t k = 0; k < m; k++) {
        long i0 = (long)k - sh, i1 = i0 - 1;
        double complex a = i0 >= 0 && i0 < (long)m ? c[i0] : 0;
        double complex b = i1 >= 0 && i1 < (long)m ? c[i1] : 0;
        t[k] = (1 - w) * a + w * b;
    }
    free(c);
    return UTIL_OK;
}

/* A copy of a realised mask with a fixed random phase error per pixel. */
static double complex *with_errors(const compiler_mask *k, double sigma, gsl_rng *r)
{
    double complex *t = malloc(k->m * sizeof *t);
    if (!t)
        return NULL;
    for (size_t i = 0; i < k->m; i++)
        t[i] = sigma > 0 ? k->realised[i] * cexp(I * gsl_ran_gaussian_ziggurat(r, sigma))
                         : k->realised[i];
    return t;
}

static int free_space_4f(sim *m, const double complex *mask);

/* Calibration, as in the lab: a point source on the axis through one 4f stage with a
 * clear mask; the constant on the axis of the image sets the homodyne reference's phase
 * and the electronics' gain for the propagation model in use. */
static int calibrate(sim *m)
{
    const size_t M = m->s->m, c = optics_axis_index(M);
    double complex *clear = malloc(M * sizeof *clear);
    if (!clear)
        return util_error(UTIL_ENOMEM, "out of memory");
    for (size_t k = 0; k < M; k++)
        clear[k] = 1;
    size_t nb = m->field->nb;
    m->field->nb = 1;
    optics_field_zero(m->field);
    m->field->data[c] = 1;
    int rc = m->l1 ? optics_4f_apply(m->l1, clear, m->l2, m->field, m->field)
                   : free_space_4f(m, clear);
    if (!rc)
        m->g4f = m->field->data[c];
    m->field->nb = nb;
    m->field->g = m->grid;
    free(clear);
    if (!rc && !(cabs(m->g4f) > 0))
        rc = util_error(UTIL_EDATA, "calibration failed: no light on the axis");
    return rc;
}

/* Calibration with resolved pixels, as in the lab: every device shows a clear
 * 1, a flat input of unit amplitude goes through each chain, and the field averaged over
 * the camera pixel on the axis is the chain's constant, the pixels' losses (fill factor,
 * light diffracted outside the devices) included. */
static int calibrate_chains(sim *m)
{
    const compiler_system *s = m->s;
    const compiler_profile *p = &s->profile;
    const size_t M = s->fm > s->m ? s->fm : s->m, L = m->L;
    double *ones = malloc(M * sizeof *ones), *re = malloc(2 * L * sizeof *re);
    double complex *flat = NULL, *cf = NULL, *ci = NULL;
    m->gch = malloc(s->n_chains * sizeof *m->gch);
    int rc = UTIL_OK;
    if (ones)
        for (size_t k = 0; k < M; k++)
            ones[k] = 1;
    if (!ones || !re || !m->gch || !(flat = fine_mask(m, &m->in_map, &p->input, ones, 0, NULL)) ||
        !(cf = fine_mask(m, &m->f_map, &p->fourier, ones, 0, NULL)) ||
        !(ci = fine_mask(m, &m->im_map, &p->image, ones, 0, NULL)))
        rc = util_error(UTIL_ENOMEM, "out of memory");
    /* One camera pixel, on the axis. */
    const optics_pixels axis = {.npx = 1, .npy = 1, .pitch_m = m->px.pitch_m,
                                .fill = m->px.fill};
    const size_t nb = m->field->nb;
    m->field->nb = 1;
    for (size_t c = 0; !rc && c < s->n_chains; c++) {
        m->field->g = m->grid;
        memcpy(m->field->data, flat, L * sizeof *flat);
        for (size_t k = 0; !rc && k < s->chains[c].count; k++) {
            if (k > 0)
                rc = optics_field_multiply(m->field, ci);
            if (!rc)
                rc = m->l1 ? optics_4f_apply(m->l1, cf, m->l2, m->field, m->field)
                           : free_space_4f(m, cf);
        }
        double pr = 0, pi = 0;
        for (size_t i = 0; i < L; i++) {
            re[i] = creal(m->field->data[i]);
            re[L + i] = cimag(m->field->data[i]);
        }
        if (!rc)
            rc = optics_pixels_integrate(&m->field->g, 1, re, &axis, &pr);
        if (!rc)
            rc = optics_pixels_integrate(&m->field->g, 1, re + L, &axis, &pi);
        m->gch[c] = (pr + I * pi) / (axis.pitch_m * axis.fill);
        if (!rc && !(cabs(m->gch[c]) > 0))
            rc = util_error(UTIL_EDATA, "calibration failed: no light on the axis of chain "
                            "%zu", c);
    }
    m->field->nb = nb;
    m->field->g = m->grid;
    free(ones);
    free(re);
    free(flat);
    free(cf);
    free(ci);
    return rc;
}

int sim_alloc(sim **out, const compiler_system *s, size_t batch, const sim_options *o)
{
    *out = NULL;
    if (batch == 0)
        return util_error(UTIL_EUSAGE, "batch size must be at least 1");
    if (o->photons < 0 || !isfinite(o->photons))
        return util_error(UTIL_EUSAGE, "photon budget %g is not a non-negative number",
                          o->photons);
    if (!isfinite(o->misalign_px) || fabs(o->misalign_px) > 1e6)
        return util_error(UTIL_EUSAGE, "misalignment %g pixels is out of range",
                          o->misalign_px);
    if (o->oversample < 0 || o->oversample > 64)
        return util_error(UTIL_EUSAGE, "oversampling %d is not 0 (auto) or 1..64",
                          o->oversample);
    if (!isfinite(o->phase_error_rad) || o->phase_error_rad > 10)
        return util_error(UTIL_EUSAGE, "phase error %g rad is out of range",
                          o->phase_error_rad);
    if (o->propagation != SIM_PROP_IDEAL &&
        fabs(s->fourier_pitch_m - s->pitch_m) > 1e-12 * s->pitch_m)
        return util_error(UTIL_EUSAGE, "free-space propagation keeps one grid: the Fourier "
                          "pitch %g um must equal the sample pitch %g um (use --propagation "
                          "ideal)", 1e6 * s->fourier_pitch_m, 1e6 * s->pitch_m);
    sim *m = calloc(1, sizeof *m);
    if (!m)
        return util_error(UTIL_ENOMEM, "out of memory");
    const compiler_profile *p = &s->profile;
    const size_t M = s->m, n = s->n;
    m->s = s;
    m->o = *o;
    m->batch = batch;
    m->noise = o->noise && !p->ideal;
    m->os = sim_oversample(s, o->oversample);
    m->fine = m->os > 1 || p->fourier_oversample > 0;
    m->L = sim_plane_samples(s, m->os);
    const size_t L = m->L;
    /* The batch's fields and detector buffers, and one mask per stage. */
    int rc = util_mem_check((double)L * (16.0 * (double)batch * 1.5 + 40.0 * (double)batch +
                                         32.0 * (double)n_stages(s) + 64.0),
                            "the simulation's planes");
    if (rc) {
        free(m);
        return rc;
    }
    const double h = s->pitch_m / m->os;
    rc = optics_grid_init(&m->grid, 1, L, 1, h, s->wavelength_m);
    if (!rc && o->propagation == SIM_PROP_IDEAL) {
        rc = optics_lens_plan_alloc(&m->l1, &m->grid, s->focal_m);
        if (!rc)
            rc = optics_lens_plan_alloc(&m->l2, optics_lens_plan_output(m->l1), s->focal_m);
    } else if (!rc) {
        optics_element *lens = NULL;
        rc = optics_prop_alloc(&m->free_f, &m->grid, s->focal_m,
                               o->propagation == SIM_PROP_FRESNEL ? OPTICS_FRESNEL_TF
                                                                  : OPTICS_ASM_BL);
        if (!rc)
            rc = optics_thin_lens_alloc(&lens, s->focal_m, 0);
        if (!rc && !(m->lens_t = malloc(L * sizeof *m->lens_t)))
            rc = util_error(UTIL_ENOMEM, "out of memory");
        if (!rc)
            rc = optics_element_sample(lens, &m->grid, 1, m->lens_t);
        optics_element_free(lens);
    }
    if (!rc)
        rc = optics_field_alloc(&m->field, &m->grid, batch);
    if (!rc)
        rc = optics_field_alloc(&m->ref, &m->grid, 1);
    /* Seen from the image plane through the relay, a camera pixel is one sample wide
     * (system.h); the relay conserves power. */
    m->px = (optics_pixels){.npx = p->camera.pixels, .npy = 1, .pitch_m = s->pitch_m,
                            .fill = p->ideal ? 1.0 : p->camera.fill};
    if (!rc && m->fine) {
        /* The Fourier plane's simulated pitch is the lens's: λf/(L·h) = Fourier pitch/S. */
        const double hf = m->l1 ? optics_lens_plan_output(m->l1)->pitch_m : h;
        if (fabs(hf * m->os - s->fourier_pitch_m) > 1e-9 * s->fourier_pitch_m)
            rc = util_error(UTIL_EDATA, "the simulated Fourier pitch %g um is not the "
                            "system's %g um / %d", 1e6 * hf, 1e6 * s->fourier_pitch_m, m->os);
        if (!rc)
            rc = devmap_init(&m->in_map, s, &p->input, s->m, s->pitch_m, L, h, 0);
        if (!rc)
            rc = devmap_init(&m->f_map, s, &p->fourier, s->fm, s->fourier_pitch_m, L, hf,
                             o->misalign_px);
        if (!rc)
            rc = devmap_init(&m->im_map, s, &p->image, s->m, s->pitch_m, L, h,
                             o->misalign_px);
        if (!rc && (!(m->in_px = malloc(m->in_map.npix * sizeof *m->in_px)) ||
                    !(m->in_val = malloc(M * sizeof *m->in_val))))
            rc = util_error(UTIL_ENOMEM, "out of memory");
    }
    if (!rc)
        rc = m->fine ? calibrate_chains(m) : calibrate(m);
    /* Masks with the device's fixed phase errors, from the seed. */
    size_t K = n_stages(s);
    if (!rc) {
        m->fourier = calloc(K, sizeof *m->fourier);
        m->image = calloc(K, sizeof *m->image);
        gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
        if (!m->fourier || !m->image || !r)
            rc = util_error(UTIL_ENOMEM, "out of memory");
        else
            gsl_rng_set(r, (unsigned long)optics_field_seed(o->seed, UINT64_MAX));
        double sf = p->ideal ? 0 : o->phase_error_rad >= 0 ? o->phase_error_rad
                                                            : p->fourier.phase_error_rad;
        double si = p->ideal ? 0 : o->phase_error_rad >= 0 ? o->phase_error_rad
                                                            : p->image.phase_error_rad;
        size_t k = 0;
        for (size_t c = 0; !rc && c < s->n_chains; c++)
            for (size_t j = 0; !rc && j < s->chains[c].count; j++, k++) {
                const compiler_stage *st = &s->chains[c].stages[j];
                if (m->fine) {
                    /* Resolved pixels: each its own phase error; misalignment in the
                     * device maps. */
                    if (!(m->fourier[k] = fine_mask(m, &m->f_map, &p->fourier,
                                                    st->fourier.ideal, sf, r)) ||
                        (st->image && !(m->image[k] = fine_mask(m, &m->im_map, &p->image,
                                                                st->image->ideal, si, r))))
                        rc = util_error(UTIL_ENOMEM, "out of memory");
                    continue;
                }
                if (!(m->fourier[k] = with_errors(&st->fourier, sf, r)) ||
                    (st->image && !(m->image[k] = with_errors(st->image, si, r)))) {
                    rc = util_error(UTIL_ENOMEM, "out of memory");
                    break;
                }
                if ((rc = displace(m->fourier[k], M, o->misalign_px)) ||
                    (m->image[k] && (rc = displace(m->image[k], M, o->misalign_px))))
                    break;
            }
        gsl_rng_free(r);
    }
    if (!rc) {
        m->diff = malloc(batch * M * sizeof *m->diff);
        if (m->fine && !(m->fdiff = malloc(batch * L * sizeof *m->fdiff)))
            rc = util_error(UTIL_ENOMEM, "out of memory for a batch of %zu", batch);
        m->v = malloc(batch * n * sizeof *m->v);
        m->u = malloc(batch * n * sizeof *m->u);
        m->scale = malloc(batch * sizeof *m->scale);
        if (!m->diff || !m->v || !m->u || !m->scale)
            rc = util_error(UTIL_ENOMEM, "out of memory for a batch of %zu", batch);
    }
    if (!rc && m->noise) {
        /* Camera: pixels centred like samples; the exposure and QE of the profile. */
        const compiler_camera *c = &p->camera;
        double power = p->laser_power_w;
        if (o->photons > 0)
            power = o->photons * OPTICS_PLANCK * OPTICS_C /
                    (s->wavelength_m * c->exposure_s);
        m->cam = (optics_camera){.wavelength_m = s->wavelength_m, .exposure_s = c->exposure_s,
                                 .qe = c->quantum_efficiency, .dark_e_per_s = c->dark_current_e_per_s,
                                 .read_noise_e = c->read_noise_e, .full_well_e = c->full_well_e,
                                 .adc_bits = c->adc_bits ? c->adc_bits : 16,
                                 .shot_noise = 1, .seed = o->seed};
        m->adc = c->adc_bits > 0;
        m->codes = malloc(c->pixels * sizeof *m->codes);
        m->plus = malloc(batch * L * sizeof *m->plus);
        m->minus = malloc(batch * L * sizeof *m->minus);
        m->pp = malloc(batch * c->pixels * sizeof *m->pp);
        m->pm = malloc(batch * c->pixels * sizeof *m->pm);
        m->ep = malloc(batch * c->pixels * sizeof *m->ep);
        m->em = malloc(batch * c->pixels * sizeof *m->em);
        if (!m->plus || !m->minus || !m->pp || !m->pm || !m->ep || !m->em || !m->codes)
            rc = util_error(UTIL_ENOMEM, "out of memory for the camera");
        m->power_w = power;
    }
    /* Resolved pixels, noise-free: the camera still integrates over its pixels. */
    if (!rc && m->fine && !m->pp &&
        !(m->pp = malloc(batch * m->px.npx * sizeof *m->pp)))
        rc = util_error(UTIL_ENOMEM, "out of memory for the camera");
    if (rc) {
        sim_free(m);
        return rc;
    }
    *out = m;
    return UTIL_OK;
}

size_t sim_saturated(const sim *m) { return m->saturated; }

int sim_oversample(const compiler_system *s, int requested)
{
    if (requested >= 1)
        return requested;
    return s->profile.fourier_oversample > 0 ? 4 : 1;
}

size_t sim_plane_samples(const compiler_system *s, int oversample)
{
    size_t S = (size_t)sim_oversample(s, oversample);
    return s->fm * S * S;
}

size_t sim_plane_count(const compiler_system *s)
{
    size_t p = 0;
    for (size_t c = 0; c < s->n_chains; c++)
        p += 2 * s->chains[c].count + 1;
    return p;
}

void sim_plane_info(const compiler_system *s, int oversample, size_t i, char *name,
                    size_t size, double *pitch_m)
{
    const double S = sim_oversample(s, oversample);
    for (size_t c = 0; c < s->n_chains; c++) {
        size_t np = 2 * s->chains[c].count + 1;
        if (i < np) {
            if (i == np - 1) {
                snprintf(name, size, "chain %zu camera", c);
                *pitch_m = s->pitch_m / S;
            } else {
                snprintf(name, size, "chain %zu stage %zu %s", c, i / 2,
                         i % 2 ? "Fourier" : "input");
                *pitch_m = (i % 2 ? s->fourier_pitch_m : s->pitch_m) / S;
            }
            return;
        }
        i -= np;
    }
    snprintf(name, size, "?");
    *pitch_m = 0;
}

void sim_keep_planes(sim *m, size_t rows, double complex *buf)
{
    m->keep_rows = buf ? rows : 0;
    m->keep = buf;
}

/* Stores the current field of the kept rows as plane `plane`. */
static void keep(sim *m, size_t batch, size_t first, size_t plane)
{
    const size_t L = m->L, P = sim_plane_count(m->s);
    for (size_t b = 0; b < batch && first + b < m->keep_rows; b++)
        memcpy(m->keep + ((first + b) * P + plane) * L, optics_field_slice(m->field, b),
               L * sizeof(double complex));
}

/* One 4f stage by free-space propagation: f, thin lens, f, mask, f, thin lens, f. */
static int free_space_4f(sim *m, const double complex *mask)
{
    int rc;
    if ((rc = optics_prop_apply(m->free_f, m->field, m->field)) ||
        (rc = optics_field_multiply(m->field, m->lens_t)) ||
        (rc = optics_prop_apply(m->free_f, m->field, m->field)) ||
        (rc = optics_field_multiply(m->field, mask)) ||
        (rc = optics_prop_apply(m->free_f, m->field, m->field)) ||
        (rc = optics_field_multiply(m->field, m->lens_t)) ||
        (rc = optics_prop_apply(m->free_f, m->field, m->field)))
        return rc;
    return UTIL_OK;
}

/* diff (M samples, W/m) from the signed power on each camera pixel (W): the value of the
 * pixel each sample is relayed onto, per active pixel width. */
static void to_samples(const sim *m, const double *pw, double *diff)
{
    const size_t M = m->s->m, P = m->px.npx;
    const double width = m->px.pitch_m * m->px.fill;
    for (size_t j = 0; j < M; j++) {
        double x = optics_coord_m(j, M, m->s->pitch_m);
        long i = lround(x / m->px.pitch_m) + (long)optics_axis_index(P);
        diff[j] = i >= 0 && (size_t)i < P ? pw[i] / (width > 0 ? width : 1) : 0;
    }
}

/* Camera: both homodyne ports integrated over pixels, detected with noise, and the
 * difference converted back to W/m per sample on the chain's read-out samples. */
static int detect(sim *m, size_t batch, size_t first, size_t chain)
{
    const compiler_system *s = m->s;
    const size_t M = s->m, P = m->px.npx;
    int rc = optics_homodyne(m->field, m->ref, m->plus, m->minus, NULL);
    if (rc)
        return rc;
    if ((rc = optics_pixels_integrate(&m->field->g, batch, m->plus, &m->px, m->pp)) ||
        (rc = optics_pixels_integrate(&m->field->g, batch, m->minus, &m->px, m->pm)))
        return rc;
    /* Each row, port and chain draws its own noise: seed from (seed, row, chain, port). */
    for (size_t b = 0; b < batch; b++) {
        /* Auto-exposure, as a camera's electronics do: the profile's exposure, shortened
         * for this input if its brightest pixel would pass 80% of the full well. */
        optics_camera c = m->cam;
        double pmax = 0;
        for (size_t i = 0; i < P; i++)
            pmax = fmax(pmax, fmax(m->pp[b * P + i], m->pm[b * P + i]));
        double emax;
        if ((rc = optics_photoelectrons(&c, pmax, &emax)))
            return rc;
        if (emax > 0.8 * c.full_well_e) {
            c.exposure_s *= 0.8 * c.full_well_e / emax;
            m->saturated++;
        }
        for (int port = 0; port < 2; port++) {
            c.seed = optics_field_seed(optics_field_seed(m->o.seed, first + b),
                                       2 * chain + (size_t)port);
            double *pw = (port ? m->pm : m->pp) + b * P, *e = (port ? m->em : m->ep) + b * P;
            for (size_t i = 0; i < P; i++)
                pw[i] = pw[i] > 0 ? pw[i] : 0;
            uint32_t *codes = m->adc ? m->codes : NULL;  /* 0 bits: no ADC */
            if ((rc = optics_detect(&c, 1, P, pw, e, codes)))
                return rc;
            for (size_t i = 0; i < P; i++) {
                if (codes)
                    e[i] = codes[i] * c.full_well_e / (ldexp(1.0, c.adc_bits) - 1);
                /* Subtract the mean dark signal, as a calibrated camera does. */
                e[i] -= c.dark_e_per_s * c.exposure_s;
            }
        }
        const double w_per_e = OPTICS_PLANCK * OPTICS_C /
                               (s->wavelength_m * c.exposure_s * c.qe);
        /* Electrons → watts on the pixel. */
        for (size_t i = 0; i < P; i++)
            m->ep[b * P + i] = (m->ep[b * P + i] - m->em[b * P + i]) * w_per_e;
        to_samples(m, m->ep + b * P, m->diff + b * M);
    }
    return UTIL_OK;
}

int sim_run(sim *m, size_t batch, size_t first, const double *x, double *y,
            double *chain_in, double *chain_out)
{
    const compiler_system *s = m->s;
    const size_t n = s->n, M = s->m;
    int rc;
    if (batch > m->batch)
        return util_error(UTIL_EUSAGE, "batch %zu exceeds the simulation's %zu", batch,
                          m->batch);
    m->field->nb = batch;
    /* The input field for a full-scale pixel: the laser power spread over M samples. */
    double e0 = s->field_amplitude;
    if (m->noise)
        e0 = sqrt(m->power_w / ((double)M * s->pitch_m));
    /* Input electronics: standardise and zero-pad. */
    for (size_t b = 0; b < batch; b++) {
        double *v = m->v + b * n;
        for (size_t i = 0; i < s->n_in; i++) {
            double xi = x[b * s->n_in + i];
            v[i] = s->in_mean ? (xi - s->in_mean[i]) / s->in_scale[i] : xi;
        }
        memset(v + s->n_in, 0, (n - s->n_in) * sizeof *v);
    }
    size_t kk = 0, plane = 0;
    for (size_t c = 0; c < s->n_chains; c++) {
        const compiler_chain *ch = &s->chains[c];
        if (chain_in)
            memcpy(chain_in + c * batch * n, m->v, batch * n * sizeof *m->v);
        /* Encode: u = a ⊙ v + a_bias, scaled to the modulator's range, each component
         * on its two samples of the symmetric extension (layout parity 0). */
        m->field->g = m->grid;
        optics_field_zero(m->field);
        for (size_t b = 0; b < batch; b++) {
            double *u = m->u + b * n, smax = 0;
            for (size_t j = 0; j < n; j++) {
                u[j] = ch->enc_a[j] * m->v[b * n + j] + ch->enc_bias[j];
                smax = fmax(smax, fabs(u[j]));
            }
            m->scale[b] = smax;
            double complex *e = optics_field_slice(m->field, b);
            /* The input modulator shows u/smax with its own levels. */
            const compiler_modulator *dev = &s->profile.input;
            if (m->fine) {
                /* Resolved pixels: each sample's pixels (a double-phase pair on a
                 * phase-only device) spread over the sub-samples they cover. */
                const devmap *dm = &m->in_map;
                for (size_t j = 0; smax > 0 && j < n; j++) {
                    m->in_val[compiler_layout(n, 0, j, 0)] = u[j] / smax;
                    m->in_val[compiler_layout(n, 0, j, 1)] = u[j] / smax;
                }
                /* an all-zero input leaves the field dark, as without resolved pixels */
                if (smax > 0) {
                    device_pixels(dm, dev, s->profile.ideal, m->in_val, M, 0, NULL,
                                  m->in_px);
                    for (size_t i = 0; i < dm->npix; i++)
                        m->in_px[i] *= e0;
                    devmap_apply(dm, m->in_px, e, m->L);
                }
            } else if (smax > 0)
                for (size_t j = 0; j < n; j++) {
                    double complex t = s->profile.ideal
                                           ? u[j] / smax
                                           : compiler_realise_value(u[j] / smax, dev, NULL,
                                                                    NULL);
                    e[compiler_layout(n, 0, j, 0)] = e0 * t;
                    e[compiler_layout(n, 0, j, 1)] = e0 * t;
                }
        }
        /* The optics, stage by stage: image-plane mask, then the 4f pass. */
        const int keeping = first < m->keep_rows;
        for (size_t k = 0; k < ch->count; k++, kk++) {
            if (m->image[kk] && (rc = optics_field_multiply(m->field, m->image[kk])))
                return rc;
            if (keeping) {
                /* Step by step, to look at the Fourier plane. */
                keep(m, batch, first, plane++);
                if (m->l1) {
                    if ((rc = optics_lens_forward(m->l1, m->field, m->field)) ||
                        (rc = optics_field_multiply(m->field, m->fourier[kk])))
                        return rc;
                    keep(m, batch, first, plane++);
                    rc = optics_lens_forward(m->l2, m->field, m->field);
                } else {
                    if ((rc = optics_prop_apply(m->free_f, m->field, m->field)) ||
                        (rc = optics_field_multiply(m->field, m->lens_t)) ||
                        (rc = optics_prop_apply(m->free_f, m->field, m->field)) ||
                        (rc = optics_field_multiply(m->field, m->fourier[kk])))
                        return rc;
                    keep(m, batch, first, plane++);
                    if ((rc = optics_prop_apply(m->free_f, m->field, m->field)) ||
                        (rc = optics_field_multiply(m->field, m->lens_t)))
                        return rc;
                    rc = optics_prop_apply(m->free_f, m->field, m->field);
                }
            } else {
                rc = m->l1 ? optics_4f_apply(m->l1, m->fourier[kk], m->l2, m->field, m->field)
                           : free_space_4f(m, m->fourier[kk]);
            }
            if (rc)
                return rc;
        }
        if (keeping)
            keep(m, batch, first, plane++);
        /* Balanced homodyne against a reference phased to the chain's constant, as
         * strong as a full-scale input pixel. */
        double complex gc = m->fine ? m->gch[c] : cpow(m->g4f, (double)ch->count);
        double ramp = ch->ref_amplitude * e0 / s->field_amplitude;
        double complex r = ramp * cexp(I * carg(gc));
        for (size_t k = 0; k < m->L; k++)
            m->ref->data[k] = r;
        m->ref->g = m->field->g;
        if (m->noise) {
            rc = detect(m, batch, first, c);
        } else if (m->fine) {
            /* Noise-free, but the camera still integrates over its pixels. */
            const size_t P = m->px.npx;
            rc = optics_homodyne(m->field, m->ref, NULL, NULL, m->fdiff);
            if (!rc)
                rc = optics_pixels_integrate(&m->field->g, batch, m->fdiff, &m->px, m->pp);
            for (size_t b = 0; !rc && b < batch; b++)
                to_samples(m, m->pp + b * P, m->diff + b * M);
        } else {
            rc = optics_homodyne(m->field, m->ref, NULL, NULL, m->diff);
        }
        if (rc)
            return rc;
        /* Electronics after: gain (for the light level in use), folded bias, ReLU,
         * permutation. */
        double gain = ch->gain * (s->field_amplitude / e0) * (s->field_amplitude / e0) *
                      cabs(ch->g) / cabs(gc);
        for (size_t b = 0; b < batch; b++) {
            double *u = m->u + b * n, *v = m->v + b * n;
            const double *d = m->diff + b * M;
            for (size_t j = 0; j < n; j++) {
                double val = m->scale[b] * gain * d[ch->pixel[j]] + ch->bias[j];
                u[j] = ch->relu && val < 0 ? 0 : val;
            }
            for (size_t j = 0; j < n; j++)
                v[j] = ch->perm ? u[ch->perm[j]] : u[j];
        }
        if (chain_out)
            memcpy(chain_out + c * batch * n, m->v, batch * n * sizeof *m->v);
    }
    for (size_t b = 0; b < batch; b++)
        memcpy(y + b * s->n_out, m->v + b * n, s->n_out * sizeof *y);
    return UTIL_OK;
}

int sim_reference(const compiler_system *s, size_t batch, const double *x, double *y)
{
    acdc_work *w = acdc_work_alloc(s->model, batch, 0, 1, FFTW_ESTIMATE);
    if (!w)
        return UTIL_ENOMEM;
    int rc = acdc_model_forward(s->model, w, batch, x, y);
    acdc_work_free(w);
    return rc;
}

int sim_reference_chain(const compiler_system *s, size_t c, size_t batch, const double *v,
                        double *y)
{
    const compiler_chain *ch = &s->chains[c];
    /* A view of the model's layers first .. first+count−1 as a model of its own. */
    acdc_model view = {.n = s->n, .n_in = s->n, .n_out = s->n, .n_layers = ch->count,
                       .layers = s->model->layers + ch->first};
    acdc_work *w = acdc_work_alloc(&view, batch, 0, 1, FFTW_ESTIMATE);
    if (!w)
        return UTIL_ENOMEM;
    int rc = acdc_model_forward(&view, w, batch, v, y);
    acdc_work_free(w);
    return rc;
}
