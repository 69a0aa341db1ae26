/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sim/run.c -- see run.h.
 *
 * One path for every oversampling S: the devices are shown on the simulated samples
 * through optics/device.h's maps (at S = 1 each device sample is one point, the
 * compiler's own model; from S = 2 the pixels are resolved), light goes through the
 * 4f stages, and the camera integrates both homodyne ports over its pixels. */
#include "sim/run.h"
#include "models/io.h"
#include "optics/detector.h"
#include "optics/device.h"
#include "optics/element.h"
#include "optics/field.h"
#include "optics/propagate.h"
#include "util/error.h"
#include "util/mem.h"

#include <fftw3.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sf_trig.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A device on the simulated samples: a line map (rank 1) or a plane map (rank 2). */
struct dmap {
    acdc_optics_devmap *d1;
    acdc_optics_devmap2 *d2;
};

static void dmap_free(struct dmap d)
{
    acdc_optics_devmap_free(d.d1);
    acdc_optics_devmap2_free(d.d2);
}

struct sim {
    const acdc_compiler_system *s;
    acdc_compiler_profile dev;             /* the profile as the simulation sees it
                                         (acdc_compiler_profile_effective()) */
    acdc_sim_options o;
    size_t batch;
    int noise;
    int os;                           /* oversampling S: sub-samples per sample */
    size_t L;                         /* samples per simulated plane, (fm·S²)^rank */
    size_t side;                      /* samples per axis of a simulated plane
                                         (acdc_sim_plane_side()) */
    int exact;                        /* the pixel-exact Fourier method (acdc_sim_exact()) */
    acdc_optics_field *field2;             /* exact: the field of a double-phase value's
                                         second pixels */
    size_t ext;                       /* exact: h, the fold of the Fourier plane */
    double *xp, *xc;                  /* exact, per extended Fourier point of an axis: the
                                         input pixel's transform / pitch, the camera's */
    double complex *xa[2];            /* exact: array factors of even, odd pixel columns */
    double complex *fx, *fy;          /* exact, per extended Fourier point of the x / y
                                         axis: the displacements' factors (setup_perturb()),
                                         or NULL: none */
    acdc_optics_field *camf, *cam_ref;     /* exact: the camera's pixel means, M x M, and the
                                         homodyne reference there */
    acdc_optics_grid grid;
    acdc_sim_optics optics;                /* the propagation and lens that run */
    acdc_optics_lens_plan *l1, *l2;        /* ideal lenses */
    acdc_optics_prop *free_f;              /* fresnel/asm: free space over f */
    double complex *lens_t;           /* fresnel/asm: the lens's transmittance */
    struct dmap in_map, f_map, im_map;/* the devices on the simulated samples */
    struct dmap in_alt, f_alt, im_alt;/* the same displaced, for the one chain
                                         acdc_sim_options.chain selects (empty otherwise:
                                         every chain uses the maps above) */
    size_t cur_chain;                 /* the chain acdc_sim_run() is sending light through */
    double *in_t;                     /* rank 2: the input plane's values (m² of them) */
    double complex **fourier, **image;/* per stage (flattened over chains): the masks as
                                         the devices show them, phase errors included */
    acdc_optics_4f_psf **psf;         /* exact, per stage: [2k], [2k + 1] the point-spread
                                         functions of kernels K_0, K_1 between the
                                         input's and the camera's windows (exact_psf()) */
    double complex *gch;              /* each chain's constant, calibrated */
    acdc_optics_field *field, *ref;
    acdc_optics_camera cam;                /* the profile's camera, operated at o's seed */
    acdc_optics_pixels px;                 /* its pixels as seen from the image plane */
    double *plus, *minus;             /* homodyne ports (noise) or difference: batch × L */
    double *pp, *pm, *ep, *em;        /* per camera pixel: powers, electrons */
    double *diff;                     /* the difference on the image samples, batch × M */
    long *relay;                      /* the camera pixel image sample j is relayed onto,
                                         or −1 beyond the camera (M values) */
    int nscratch;                     /* threads detecting rows: each has its own codes,
                                         frame_e and sat (P values at t·P) */
    uint32_t *codes;                  /* ADC codes of one port of one row */
    double *frame_e;                  /* electrons of one port of one exposure */
    unsigned char *sat;               /* per camera pixel: saturated (many exposures) */
    double *v, *u, *scale;            /* electronics: batch × n, batch × n, batch */
    double complex *in_work;          /* input modulator: its pixels */
    double *power_w;                  /* per chain: the laser power in use */
    size_t *saturated, *exposures;    /* per chain: exposures, and those that saturated */
    /* perturbations of the built system (sim/perturb.h), applied once calibrated */
    int calibrated;                   /* 0 while calibrate() runs: the system as built */
    double *gain_px;                  /* camera gain non-uniformity: per pixel, or NULL */
    double *envelope;                 /* Gaussian illumination: per simulated input
                                         sample (window method) or per input-plane sample
                                         (exact method), or NULL */
    acdc_optics_prop *def_in, *def_f_in, *def_f_out, *def_cam;  /* axial displacements */
    size_t keep_rows;                 /* acdc_sim_keep_planes() */
    double complex *keep;
};

acdc_sim_options acdc_sim_options_default(void)
{
    acdc_sim_options o = {.propagation = ACDC_SIM_PROP_PROFILE,
                          .lens = ACDC_SIM_LENS_PROFILE, .noise = 1,
                          .phase_error_rad = -1, .photons = 0, .oversample = 0, .seed = 1,
                          .threads = 1};
    return o;
}

void acdc_sim_optics_of(const acdc_compiler_system *s, const acdc_sim_options *o,
                        acdc_sim_optics *out)
{
    acdc_optics_lens l = s->profile.lens;
    if (o->lens != ACDC_SIM_LENS_PROFILE) {
        memset(&l, 0, sizeof l);
        l.model = o->lens == ACDC_SIM_LENS_FOURIER    ? ACDC_OPTICS_LENS_FOURIER
                  : o->lens == ACDC_SIM_LENS_PARAXIAL ? ACDC_OPTICS_LENS_PARAXIAL
                                                 : ACDC_OPTICS_LENS_CORRECTED;
        snprintf(l.name, sizeof l.name, "perfect %s lens", acdc_optics_lens_model_name(l.model));
    }
    l.focal_m = s->focal_m;
    /* the clear aperture the stage's light needs, over which the wavefront error is
     * specified: both planes' widths together (s->aperture_m, the wider one, sets the
     * NA) */
    l.aperture_m = acdc_optics_fourier_lens_aperture(s->rank, (double)s->m * s->pitch_m,
                                                     (double)s->fm * s->fourier_pitch_m);
    const char *model = acdc_optics_lens_model_name(l.model);
    enum acdc_sim_propagation p = o->propagation;
    out->note[0] = '\0';
    if (p == ACDC_SIM_PROP_PROFILE) {
        /* a Fourier lens with a wavefront error: the exact transform is the Fresnel
         * model's (a paraxial thin lens between two Fresnel propagations over f), with
         * the error in the lens plane */
        p = l.model == ACDC_OPTICS_LENS_FOURIER
                ? (acdc_optics_lens_has_error(&l) ? ACDC_SIM_PROP_FRESNEL : ACDC_SIM_PROP_IDEAL)
            : l.model == ACDC_OPTICS_LENS_PARAXIAL ? ACDC_SIM_PROP_FRESNEL
                                              : ACDC_SIM_PROP_ASM;
        const char *why =
            p == ACDC_SIM_PROP_IDEAL ? NULL
            : fabs(s->fourier_pitch_m - s->pitch_m) > 1e-12 * s->pitch_m
                ? "free space keeps one grid, and the Fourier pitch is not the sample pitch"
            : s->rank == 2 ? "a 2D system keeps ideal lenses (the pixel-exact method needs "
                             "them; free space costs (fm S^2)^2 samples a plane)"
            : p == ACDC_SIM_PROP_ASM && acdc_sim_oversample(s, o->oversample) < 2
                ? "at S = 1 the window is as wide as the devices and asm would lose the "
                  "light that walks off it (use --oversample 2 or more)"
                : NULL;
        if (why) {
            snprintf(out->note, sizeof out->note, "the %s lens runs as an ideal Fourier lens, "
                     "its wavefront error not simulated: %s", model, why);
            p = ACDC_SIM_PROP_IDEAL;
        }
    }
    /* the lens as it runs under p */
    if (p == ACDC_SIM_PROP_IDEAL) {
        if (!out->note[0] &&
            (l.model != ACDC_OPTICS_LENS_FOURIER || acdc_optics_lens_has_error(&l)))
            snprintf(out->note, sizeof out->note, "ideal propagation: the %s lens runs as an "
                     "ideal Fourier lens, its wavefront error not simulated", model);
        l.model = ACDC_OPTICS_LENS_FOURIER;
        l.wavefront_rms = 0;
        memset(l.zernike, 0, sizeof l.zernike);
    } else if (l.model == ACDC_OPTICS_LENS_FOURIER && p == ACDC_SIM_PROP_FRESNEL) {
        /* no note: this is how a Fourier lens with an error runs (above) */
        l.model = ACDC_OPTICS_LENS_PARAXIAL;
    } else if (l.model != ACDC_OPTICS_LENS_PARAXIAL &&
               (p == ACDC_SIM_PROP_FRESNEL || l.model == ACDC_OPTICS_LENS_FOURIER)) {
        snprintf(out->note, sizeof out->note, "%s: the %s lens runs in its paraxial form, "
                 "the thin lens's quadratic phase%s", acdc_optics_method_name(
                     p == ACDC_SIM_PROP_FRESNEL ? ACDC_OPTICS_FRESNEL_TF
                                                : ACDC_OPTICS_ASM_BL), model,
                 acdc_optics_lens_has_error(&l) ? ", with its wavefront error" : "");
        l.model = ACDC_OPTICS_LENS_PARAXIAL;
    }
    out->propagation = p;
    out->lens = l;
}

static size_t n_stages(const acdc_compiler_system *s)
{
    size_t k = 0;
    for (size_t c = 0; c < s->n_chains; c++)
        k += s->chains[c].count;
    return k;
}

/* 1 if the displacements, rotations and the reference's error act on chain c. */
static int perturbed_chain(const sim *m, size_t c)
{
    return m->o.chain == 0 || (size_t)m->o.chain == c + 1;
}

/* The map of chain c for a device: the displaced one where the chain is selected and
 * such a map exists. */
static struct dmap chain_map(const sim *m, struct dmap main, struct dmap alt, size_t c)
{
    return m->o.chain && (size_t)m->o.chain == c + 1 && (alt.d1 || alt.d2) ? alt : main;
}

void acdc_sim_free(sim *m)
{
    if (!m)
        return;
    size_t K = n_stages(m->s);
    for (size_t k = 0; k < K; k++) {
        if (m->fourier)
            free(m->fourier[k]);
        if (m->image)
            free(m->image[k]);
        if (m->psf) {
            acdc_optics_4f_psf_free(m->psf[2 * k]);
            acdc_optics_4f_psf_free(m->psf[2 * k + 1]);
        }
    }
    free(m->psf);
    free(m->fourier);
    free(m->image);
    acdc_optics_lens_plan_free(m->l1);
    acdc_optics_lens_plan_free(m->l2);
    acdc_optics_prop_free(m->free_f);
    free(m->lens_t);
    dmap_free(m->in_map);
    dmap_free(m->f_map);
    dmap_free(m->im_map);
    dmap_free(m->in_alt);
    dmap_free(m->f_alt);
    dmap_free(m->im_alt);
    free(m->in_t);
    free(m->gch);
    acdc_optics_field_free(m->field);
    acdc_optics_field_free(m->ref);
    acdc_optics_field_free(m->field2);
    acdc_optics_field_free(m->camf);
    acdc_optics_field_free(m->cam_ref);
    free(m->xp);
    free(m->xc);
    free(m->xa[0]);
    free(m->xa[1]);
    free(m->fx);
    free(m->fy);
    free(m->plus);
    free(m->minus);
    free(m->pp);
    free(m->pm);
    free(m->ep);
    free(m->em);
    free(m->diff);
    free(m->relay);
    free(m->codes);
    free(m->frame_e);
    free(m->sat);
    free(m->v);
    free(m->u);
    free(m->scale);
    free(m->in_work);
    free(m->power_w);
    free(m->saturated);
    free(m->exposures);
    free(m->gain_px);
    free(m->envelope);
    acdc_optics_prop_free(m->def_in);
    acdc_optics_prop_free(m->def_f_in);
    acdc_optics_prop_free(m->def_f_out);
    acdc_optics_prop_free(m->def_cam);
    free(m);
}

/* The map of device dev showing `samples` samples per axis, displaced by offset
 * samples along x (oversampling and plane from m). */
static int dmap_alloc(const sim *m, const acdc_optics_modulator *dev, size_t samples,
                      double offset, struct dmap *out)
{
    out->d1 = NULL;
    out->d2 = NULL;
    if (m->s->rank == 2)
        return acdc_optics_devmap2_alloc(&out->d2, dev, m->s->profile.superpixel, samples, m->os,
                                         m->side, offset, 0);
    int rc = acdc_optics_devmap_alloc(&out->d1, dev, samples, m->os, m->L, offset);
    if (!rc)   /* a pair down a strip's rows: the strip the system shows it down */
        acdc_optics_devmap_set_strip(out->d1, acdc_compiler_strip_rows(m->s, dev));
    return rc;
}

/* A mask as device map d shows it (ideal values t), with phase errors of rms sigma
 * drawn from r, times scale, into out (m->L samples).  Errors: ACDC_UTIL_ENOMEM. */
static int dmap_show(struct dmap d, const double *t, double sigma, gsl_rng *r,
                     double complex scale, double complex *out)
{
    const size_t nw = d.d2 ? acdc_optics_devmap2_work(d.d2) : acdc_optics_devmap_pixels(d.d1);
    double complex *work = malloc(nw * sizeof *work);
    if (!work)
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
    if (d.d2)
        acdc_optics_devmap2_show(d.d2, t, sigma, r, scale, work, out);
    else
        acdc_optics_devmap_show(d.d1, t, sigma, r, scale, work, out);
    free(work);
    return ACDC_UTIL_OK;
}

/* A new array of m->L samples: the mask as map d shows it; NULL when out of memory. */
static double complex *show_mask(const sim *m, struct dmap d, const double *t, double sigma,
                                 gsl_rng *r)
{
    double complex *out = malloc(m->L * sizeof *out);
    if (out && dmap_show(d, t, sigma, r, 1, out)) {
        free(out);
        return NULL;
    }
    return out;
}

/* Stores the current field of the kept rows as plane `plane`. */
static void keep(sim *m, size_t batch, size_t first, size_t plane)
{
    const size_t L = m->L, P = acdc_sim_plane_count(m->s);
    for (size_t b = 0; b < batch && first + b < m->keep_rows; b++)
        memcpy(m->keep + ((first + b) * P + plane) * L, acdc_optics_field_slice(m->field, b),
               L * sizeof(double complex));
}

/* Half a 4f stage: the field in a lens's front focal plane to its back focal plane
 * (lens plan l for ideal lenses; free space f, thin lens, free space f otherwise). */
static int lens_pass(sim *m, const acdc_optics_lens_plan *l)
{
    int rc;
    if (m->l1)
        return acdc_optics_lens_forward(l, m->field, m->field);
    if ((rc = acdc_optics_prop_apply(m->free_f, m->field, m->field)) ||
        (rc = acdc_optics_field_multiply(m->field, m->lens_t)))
        return rc;
    return acdc_optics_prop_apply(m->free_f, m->field, m->field);
}

/* Free space over the signed distance of perturbation id (the plan p is for its
 * magnitude: the adjoint propagates backwards), on m->field; nothing for a NULL plan or
 * before calibration (the system is calibrated as built). */
static int displace(sim *m, const acdc_optics_prop *p, int id, double sign)
{
    if (!p || !m->calibrated || !perturbed_chain(m, m->cur_chain))
        return ACDC_UTIL_OK;
    const double dz = sign * m->o.perturb[id];
    int rc = dz > 0 ? acdc_optics_prop_apply(p, m->field, m->field)
                    : acdc_optics_prop_adjoint(p, m->field, m->field);
    /* without the plane wave's phase e^{ik dz}: the light's path to the displaced
     * element changes by as much as its path from it (the illumination to the input
     * modulator, the reference arm to the camera; a Fourier mask's two passes cancel),
     * so only the diffraction over dz is left */
    const double complex piston = cexp(-I * 2 * M_PI / m->field->g.wavelength_m * dz);
    const size_t count = m->field->nb * acdc_optics_grid_size(&m->field->g);
    for (size_t i = 0; !rc && i < count; i++)
        m->field->data[i] *= piston;
    return rc;
}

/* One 4f stage with Fourier mask `mask`; the Fourier plane is stored as plane *plane
 * (then counted) when kept_plane is not NULL.  Without planes to keep, ideal lenses run
 * the stage as one fused pass (acdc_optics_4f_apply(), the same light in fewer sweeps). */
static int stage_4f(sim *m, const double complex *mask, size_t batch, size_t first,
                    size_t *kept_plane)
{
    int rc;
    const int defocus = m->def_f_in && m->calibrated && perturbed_chain(m, m->cur_chain);
    if (!kept_plane && m->l1 && !defocus)
        return acdc_optics_4f_apply(m->l1, mask, m->l2, m->field, m->field);
    /* a Fourier mask displaced by dz along the axis: the light reaches it dz past the
     * focal plane and is taken back there for the second lens */
    if ((rc = lens_pass(m, m->l1)) ||
        (rc = displace(m, m->def_f_in, ACDC_SIM_PERTURB_DEFOCUS_FOURIER, 1)) ||
        (rc = acdc_optics_field_multiply(m->field, mask)) ||
        (rc = displace(m, m->def_f_out, ACDC_SIM_PERTURB_DEFOCUS_FOURIER, -1)))
        return rc;
    if (kept_plane)
        keep(m, batch, first, (*kept_plane)++);
    return lens_pass(m, m->l2);
}

static int stage_exact(sim *m, const double complex *mask, acdc_optics_4f_psf *const *psf,
                       size_t batch, size_t first, size_t *kept_plane);
static int exact_psf(const sim *m, const double complex *K, acdc_optics_4f_psf **psf);
static void encode_exact(sim *m, size_t b, const double *u, double smax, double e0);
static double complex *exact_mask(const sim *m, const acdc_optics_devmap2 *d, size_t c,
                                  const double *t, double sigma, gsl_rng *r);

/* Calibration, as in the lab: every device shows a clear 1, a flat input of unit
 * amplitude goes through each chain, and the field averaged over the camera pixel on
 * the axis is the chain's constant -- the lenses' constant, and with resolved pixels
 * the pixels' losses (fill factor, light diffracted outside the devices).  It sets the
 * homodyne reference's phase and the electronics' gain.  The system is calibrated
 * aligned: a misalignment (acdc_sim_options.misalign_px) happens after calibration, as a
 * drift would. */
static int calibrate_exact(sim *m)
{
    const acdc_compiler_system *s = m->s;
    const size_t F = acdc_compiler_fourier_size(s), M = s->m;
    double *ones = malloc((F > s->n ? F : s->n) * sizeof *ones);
    double complex *cf = NULL;
    acdc_optics_4f_psf *psf[2] = {NULL, NULL};
    int rc = ACDC_UTIL_OK;
    if (ones)
        for (size_t k = 0; k < (F > s->n ? F : s->n); k++)
            ones[k] = 1;
    if (!ones)
        rc = acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
    if (!rc && !(cf = exact_mask(m, m->f_map.d2, 0, ones, 0, NULL)))
        rc = acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
    if (!rc)
        rc = exact_psf(m, cf, psf);
    const size_t nb = m->field->nb;
    for (size_t c = 0; !rc && c < s->n_chains; c++) {
        m->field->nb = 1;
        m->field->g = m->grid;
        encode_exact(m, 0, ones, 1, 1);
        if (!(rc = stage_exact(m, cf, psf, 1, 0, NULL))) {
            m->gch[c] = m->camf->data[(M / 2) * M + M / 2];
            if (!(cabs(m->gch[c]) > 0))
                rc = acdc_util_error(ACDC_UTIL_EDATA, "calibration failed: no light on the axis of "
                                     "chain %zu", c);
        }
    }
    m->field->nb = nb;
    m->field->g = m->grid;
    free(ones);
    free(cf);
    acdc_optics_4f_psf_free(psf[0]);
    acdc_optics_4f_psf_free(psf[1]);
    return rc;
}

static int calibrate(sim *m)
{
    const acdc_compiler_system *s = m->s;
    if (m->exact)
        return calibrate_exact(m);
    const acdc_compiler_profile *p = &m->dev;
    const size_t M = s->rank == 2 ? acdc_compiler_fourier_size(s) : s->fm > s->m ? s->fm : s->m;
    const size_t L = m->L;
    double *ones = malloc(M * sizeof *ones), *re = malloc(2 * L * sizeof *re);
    double complex *flat = NULL, *cf = NULL, *ci = NULL;
    struct dmap fmap = {0}, imap = {0};
    int rc = ACDC_UTIL_OK;
    if (ones)
        for (size_t k = 0; k < M; k++)
            ones[k] = 1;
    if (!ones || !re)
        rc = acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
    if (!rc && !(rc = dmap_alloc(m, &p->fourier, s->fm, 0, &fmap)) &&
        !(rc = dmap_alloc(m, &p->image, s->m, 0, &imap)) &&
        (!(flat = show_mask(m, m->in_map, ones, 0, NULL)) ||
         !(cf = show_mask(m, fmap, ones, 0, NULL)) || !(ci = show_mask(m, imap, ones, 0, NULL))))
        rc = acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
    dmap_free(fmap);
    dmap_free(imap);
    const acdc_optics_pixels axis = {.npx = 1, .npy = 1, .pitch_m = m->px.pitch_m,
                                     .fill = m->px.fill};
    const size_t nb = m->field->nb;
    m->field->nb = 1;
    for (size_t c = 0; !rc && c < s->n_chains; c++) {
        m->field->g = m->grid;
        memcpy(m->field->data, flat, L * sizeof *flat);
        for (size_t k = 0; !rc && k < s->chains[c].count; k++) {
            if (k > 0)
                rc = acdc_optics_field_multiply(m->field, ci);
            if (!rc)
                rc = stage_4f(m, cf, 1, 0, NULL);
        }
        double pr = 0, pi = 0;
        for (size_t i = 0; i < L; i++) {
            re[i] = creal(m->field->data[i]);
            re[L + i] = cimag(m->field->data[i]);
        }
        if (!rc)
            rc = acdc_optics_pixels_integrate(&m->field->g, 1, re, &axis, &pr);
        if (!rc)
            rc = acdc_optics_pixels_integrate(&m->field->g, 1, re + L, &axis, &pi);
        m->gch[c] = (pr + I * pi) / pow(axis.pitch_m * axis.fill, s->rank == 2 ? 2 : 1);
        if (!rc && !(cabs(m->gch[c]) > 0))
            rc = acdc_util_error(ACDC_UTIL_EDATA,
                                 "calibration failed: no light on the axis of chain "
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

static int check_options(const acdc_compiler_system *s, size_t batch, const acdc_sim_options *o)
{
    acdc_sim_optics op;
    if (batch == 0)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "batch size must be at least 1");
    if (o->photons < 0 || !isfinite(o->photons))
        return acdc_util_error(ACDC_UTIL_EUSAGE, "photon budget %g is not a non-negative number",
                               o->photons);
    if (!isfinite(o->misalign_px) || fabs(o->misalign_px) > 1e6)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "misalignment %g pixels is out of range",
                               o->misalign_px);
    if (o->oversample < 0 || o->oversample > 64)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "oversampling %d is not 0 (auto) or 1..64",
                               o->oversample);
    if (!isfinite(o->phase_error_rad) || o->phase_error_rad > 10)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "phase error %g rad is out of range",
                               o->phase_error_rad);
    if (o->propagation < ACDC_SIM_PROP_IDEAL || o->propagation > ACDC_SIM_PROP_PROFILE)
        return acdc_util_error(ACDC_UTIL_EUSAGE,
                               "propagation %d is not ideal, fresnel, asm or profile",
                               (int)o->propagation);
    if (o->lens < ACDC_SIM_LENS_PROFILE || o->lens > ACDC_SIM_LENS_CORRECTED)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "lens %d is not profile, fourier, paraxial or "
                               "corrected", (int)o->lens);
    if (o->chain < 0 || (size_t)o->chain > s->n_chains)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "chain %d: the system has chains 1..%zu (0: every "
                               "chain)", o->chain, s->n_chains);
    const acdc_sim_perturb_info *pt = acdc_sim_perturb_table();
    acdc_sim_optics_of(s, o, &op);
    for (int i = 0; i < ACDC_SIM_PERTURB_COUNT; i++) {
        const double v = o->perturb[i];
        if (!isfinite(v) || v < pt[i].lo || v > pt[i].hi)
            return acdc_util_error(ACDC_UTIL_EUSAGE, "perturbation %s = %g%s%s is outside %g..%g",
                                   pt[i].name, v, *pt[i].unit ? " " : "", pt[i].unit, pt[i].lo,
                                   pt[i].hi);
        if (v != 0 && pt[i].window_only >= 1 && pt[i].window_only <= 3 && acdc_sim_exact(s, o))
            return acdc_util_error(ACDC_UTIL_EUSAGE,
                                   "perturbation %s needs every plane sampled: the "
                                   "2D pixel-exact method (ideal lenses, resolved pixels) samples "
                                   "only the Fourier plane", pt[i].name);
        if (v != 0 && pt[i].window_only >= 3 && s->rank != 2)
            return acdc_util_error(ACDC_UTIL_EUSAGE,
                                   "perturbation %s rotates a plane: it needs a 2D "
                                   "system", pt[i].name);
        if (v != 0 && pt[i].window_only == 2 && op.propagation == ACDC_SIM_PROP_IDEAL)
            return acdc_util_error(ACDC_UTIL_EUSAGE, "perturbation %s needs free space between the "
                                   "lenses (--propagation fresnel or asm): an ideal lens is an exact "
                                   "Fourier transform at the design's wavelength and focal length",
                                   pt[i].name);
    }
    acdc_sim_optics_of(s, o, &op);
    if (op.propagation != ACDC_SIM_PROP_IDEAL &&
        fabs(s->fourier_pitch_m - s->pitch_m) > 1e-12 * s->pitch_m)
        return acdc_util_error(ACDC_UTIL_EUSAGE,
                               "free-space propagation keeps one grid: the Fourier "
                               "pitch %g um must equal the sample pitch %g um (use --propagation "
                               "ideal)", 1e6 * s->fourier_pitch_m, 1e6 * s->pitch_m);
    return ACDC_UTIL_OK;
}

/* ---------------------------------------------------------------------------------
 * The pixel-exact Fourier method (acdc_sim_exact(): rank 2, ideal lenses, S >= 2, chains of
 * one stage).  An ideal lens is a Fourier transform, and the transform of a pixelated
 * device is known in closed form: the pixel's transform times the array of its pixel
 * positions.  So the field in the Fourier plane is computed exactly, without sampling
 * the pixels: the sample values (one double-phase pattern at a time) on a grid of the
 * sample pitch, zero-padded to L = fm·S samples a side, through the lens (the DTFT of
 * the values at L points per period of the sample grid, i.e. S per Fourier sample), each
 * multiplied by its pattern's transform T_b(u) = P(ux) P(uy) Σ_{pixels of b} e^{−i2πu·δ}.
 * The Fourier device is shown on those S x S points per Fourier sample (fill factor,
 * dead space, double-phase pixels resolved as in the window method).  The camera
 * integrates the image field over each pixel's active area; for a field given by its
 * spectrum G(u) that is the second lens applied to G(u) sinc(w ux) sinc(w uy), read at
 * the pixel centres: exact too, up to the quadrature of the second lens over the
 * Fourier plane's S x S points per sample.  The camera's pixel powers use the pixel's
 * mean field (|mean E ± R|² x area: the field's variation inside one pixel is not in
 * the shot noise).  What is left is the quadrature: it converges much faster with S
 * than the window method, whose pixels are S-point sums (sim/README.md).
 * --------------------------------------------------------------------------------- */

int acdc_sim_exact(const acdc_compiler_system *s, const acdc_sim_options *o)
{
    acdc_sim_optics op;
    acdc_sim_optics_of(s, o, &op);
    if (o->window || s->rank != 2 || op.propagation != ACDC_SIM_PROP_IDEAL ||
        acdc_sim_oversample(s, o->oversample) < 2)
        return 0;
    for (size_t c = 0; c < s->n_chains; c++)
        if (s->chains[c].count != 1)
            return 0;
    return 1;
}

size_t acdc_sim_plane_side(const acdc_compiler_system *s, const acdc_sim_options *o)
{
    const size_t S = (size_t)acdc_sim_oversample(s, o->oversample);
    return acdc_sim_exact(s, o) ? s->fm * S : s->fm * S * S;
}

/* The exact method's Fourier plane.  The window holds one period of the input's sample
 * grid's spectrum, L = fm·S points; the Fourier device, centred like every plane, spans
 * it shifted by half a Fourier sample, so its lowest half sample lies below the window.
 * The input's spectrum there is the window's top edge again (the sample values' DTFT is
 * periodic), and at the camera's pixel centres (integer samples) the second lens cannot
 * tell u from u − 1/pitch: those points are folded onto the top of the window with their
 * own transforms.  So the device is shown on an extended axis of E = L + 2h points,
 * h = ceil(S/2), and window point s takes extended points s + h and, in its top h, also
 * s + h − L.  Per axis, for every extended point: the input pixel's transform over the
 * sample pitch, the array factors of the even and odd pixel columns of a superpixel, and
 * the camera pixel's normalised transform. */
static int setup_exact(sim *m)
{
    const acdc_compiler_system *s = m->s;
    const acdc_compiler_profile *p = &m->dev;
    const acdc_optics_grid *gf = acdc_optics_lens_plan_output(m->l1);
    const size_t E = m->side + 2 * m->ext, k = (size_t)s->profile.superpixel;
    const double pp = s->pitch_m / (double)k, fill = p->input.fill;
    const double wc = p->camera.fill * s->pitch_m;   /* a camera pixel, image-plane side */
    m->xp = malloc(E * sizeof *m->xp);
    m->xc = malloc(E * sizeof *m->xc);
    m->xa[0] = malloc(E * sizeof *m->xa[0]);
    m->xa[1] = malloc(E * sizeof *m->xa[1]);
    if (!m->xp || !m->xc || !m->xa[0] || !m->xa[1])
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for the pixel transforms");
    for (size_t e = 0; e < E; e++) {
        /* spatial frequency of extended point e: position / (λ f), cycles per metre */
        const double u = acdc_optics_coord_m(e, E, gf->pitch_m) / (s->wavelength_m * s->focal_m);
        m->xp[e] = fill * pp * gsl_sf_sinc(fill * pp * u) / s->pitch_m;
        m->xc[e] = gsl_sf_sinc(wc * u);
        m->xa[0][e] = m->xa[1][e] = 0;
        for (size_t q = 0; q < k; q++)   /* pixel q of a row at (q − (k−1)/2)·pp */
            m->xa[q % 2][e] += cexp(-2 * M_PI * I * u * ((double)q - 0.5 * (double)(k - 1)) * pp);
    }
    return ACDC_UTIL_OK;
}

/* The exact method's kernel of one stage: K_b (b = 0, 1: a double-phase value's first and
 * second pixels; 1 unused on other devices), L x L each, such that the field before the
 * second lens is Σ_b lens(v_b)·K_b: the input pattern's transform, the Fourier device
 * (ext: E x E, as shown), the camera pixel's transform, with the fold described above.
 * A new array of 2 L² values, or NULL when out of memory. */
static double complex *exact_kernel(const sim *m, const double complex *ext, int factors)
{
    const size_t L = m->side, h = m->ext, E = L + 2 * h;
    const acdc_optics_modulator *in = &m->dev.input;
    const int phase = in->modulation == ACDC_OPTICS_MOD_PHASE;
    const int checker = phase && in->dp_layout == ACDC_OPTICS_DP_CHECKERBOARD;
    const int rows = phase && in->dp_layout == ACDC_OPTICS_DP_ROWS;
    double complex *K = malloc(2 * L * L * sizeof *K);
    if (!K)
        return NULL;
    const double complex *a0 = m->xa[0], *a1 = m->xa[1];
    for (size_t sy = 0; sy < L; sy++)
        for (size_t sx = 0; sx < L; sx++) {
            double complex k0 = 0, k1 = 0;
            const size_t ey[2] = {sy + h, sy + h - L}, ex[2] = {sx + h, sx + h - L};
            for (int wy = 0; wy < 1 + (sy + h >= L); wy++)
                for (int wx = 0; wx < 1 + (sx + h >= L); wx++) {
                    const size_t y = ey[wy], x = ex[wx];
                    double complex t = ext[y * E + x] * m->xp[y] * m->xp[x] *
                                       m->xc[y] * m->xc[x];
                    if (factors && m->fx)
                        t *= m->fx[x] * m->fy[y];
                    if (t == 0)
                        continue;
                    if (!phase) {
                        k0 += t * (a0[x] + a1[x]) * (a0[y] + a1[y]);
                    } else if (checker) {   /* theta1 where column + row is even */
                        k0 += t * (a0[x] * a0[y] + a1[x] * a1[y]);
                        k1 += t * (a1[x] * a0[y] + a0[x] * a1[y]);
                    } else if (rows) {      /* theta1 on even rows */
                        k0 += t * (a0[x] + a1[x]) * a0[y];
                        k1 += t * (a0[x] + a1[x]) * a1[y];
                    } else {
                        k0 += t * a0[x] * (a0[y] + a1[y]);
                        k1 += t * a1[x] * (a0[y] + a1[y]);
                    }
                }
            K[sy * L + sx] = k0;
            K[L * L + sy * L + sx] = k1;
        }
    return K;
}

/* The kernel of a stage of chain c from the Fourier device's map d showing ideal values
 * t with phase errors of rms sigma (exact method): NULL when out of memory. */
static double complex *exact_mask(const sim *m, const acdc_optics_devmap2 *d, size_t c,
                                  const double *t, double sigma, gsl_rng *r)
{
    const size_t E = m->side + 2 * m->ext;
    double complex *ext = malloc(E * E * sizeof *ext);
    double complex *work = malloc(acdc_optics_devmap2_work(d) * sizeof *work);
    double complex *K = NULL;
    const int on = m->calibrated && perturbed_chain(m, c);
    if (ext && work) {
        acdc_optics_devmap2_show(d, t, sigma, r, 1, work, ext);
        /* the device rotated in its plane about the axis, as the bench has it */
        const double rot = on ? m->o.perturb[ACDC_SIM_PERTURB_ROTATE_FOURIER] : 0;
        if (rot == 0 || !acdc_optics_plane_rotate(ext, E, rot))
            K = exact_kernel(m, ext, on);
    }
    free(ext);
    free(work);
    return K;
}

/* Index on the exact method's L x L grid of sample (y, x) of an M x M plane: the two
 * are centred alike (field.h). */
static size_t exact_index(const sim *m, size_t y, size_t x)
{
    const size_t M = m->s->m, L = m->side;
    return (y + L / 2 - M / 2) * L + (x + L / 2 - M / 2);
}

/* The point-spread functions of a stage with kernel K (exact_kernel()) between the
 * input plane's and the camera's M x M windows: psf[0] for K_0, psf[1] for K_1 (a
 * phase-only input's second double-phase pixels; NULL otherwise). */
static int exact_psf(const sim *m, const double complex *K, acdc_optics_4f_psf **psf)
{
    const size_t LL = m->side * m->side;
    const int two = m->dev.input.modulation == ACDC_OPTICS_MOD_PHASE;
    psf[0] = psf[1] = NULL;
    int rc = acdc_optics_4f_psf_alloc(&psf[0], m->l1, K, m->l2, m->s->m);
    if (!rc && two)
        rc = acdc_optics_4f_psf_alloc(&psf[1], m->l1, K + LL, m->l2, m->s->m);
    return rc;
}

/* One stage by the exact method: field (and field2, the second double-phase pixels)
 * hold the input plane's sample values; afterwards m->camf holds the pixel means of the
 * image field.  K: the stage's kernel (exact_kernel()), psf its point-spread functions
 * (exact_psf()): the camera's M x M samples of the second lens's output are all that is
 * read, so the light goes through the stage's point-spread function on the M x M
 * windows (optics/propagate.h) rather than through two lenses on the L x L planes -- the
 * same light, to rounding (tests/test_optics_propagate.c), at FFTs of 2M instead of L.
 * The Fourier plane kept for plotting (rows kept only) is the field before the second
 * lens: the mask's light times the camera pixel's transform. */
static int stage_exact(sim *m, const double complex *mask, acdc_optics_4f_psf *const *psf,
                       size_t batch, size_t first, size_t *kept_plane)
{
    const size_t L = m->side, M = m->s->m, LL = L * L;
    const int two = m->dev.input.modulation == ACDC_OPTICS_MOD_PHASE;
    const double complex *K = mask;
    const size_t P = acdc_sim_plane_count(m->s);
    int rc;
    /* the kept input plane: each sample's value, the mean of its pixels (a double-phase
     * value's sum term) */
    for (size_t b = 0; kept_plane && b < batch && first + b < m->keep_rows; b++) {
        double complex *k = m->keep + ((first + b) * P + *kept_plane) * LL;
        const double complex *f = m->field->data + b * LL, *g = m->field2->data + b * LL;
        for (size_t i = 0; i < LL; i++)
            k[i] = two ? 0.5 * (f[i] + g[i]) : f[i];
    }
    if (kept_plane)
        (*kept_plane)++;
    m->field2->nb = batch;
    m->field2->g = m->grid;
    const acdc_optics_field *in[2] = {m->field, m->field2};
    m->camf->nb = batch;
    if ((rc = acdc_optics_4f_psf_apply((const acdc_optics_4f_psf *const *)psf, in, two ? 2 : 1,
                                       m->camf->data)))
        return rc;
    if (!kept_plane)
        return ACDC_UTIL_OK;
    /* the planes kept: the Fourier plane through the first lens, and the camera plane --
     * the pixel means the camera reads, and no light elsewhere (beyond the camera's
     * pixels the method's image plane is not the light's: it holds the window's
     * periodic copies) */
    const size_t nk = first < m->keep_rows ? (m->keep_rows - first < batch ? m->keep_rows - first
                                                                             : batch) : 0;
    m->field->nb = m->field2->nb = nk;
    if (nk && ((rc = acdc_optics_lens_forward(m->l1, m->field, m->field)) ||
               (two && (rc = acdc_optics_lens_forward(m->l1, m->field2, m->field2))))) {
        m->field->nb = m->field2->nb = batch;
        return rc;
    }
    for (size_t b = 0; b < nk; b++) {
        double complex *f = acdc_optics_field_slice(m->field, b);
        const double complex *g = acdc_optics_field_slice(m->field2, b);
        for (size_t i = 0; i < LL; i++)
            f[i] = f[i] * K[i] + (two ? g[i] * K[LL + i] : 0);
    }
    keep(m, nk, first, (*kept_plane)++);
    for (size_t b = 0; b < nk; b++) {
        double complex *f = acdc_optics_field_slice(m->field, b);
        const double complex *c = acdc_optics_field_slice(m->camf, b);
        memset(f, 0, LL * sizeof *f);
        for (size_t y = 0; y < M; y++)
            for (size_t x = 0; x < M; x++)
                f[exact_index(m, y, x)] = c[y * M + x];
        /* the planes zero beyond the window again, as encode_exact() expects */
        memset(acdc_optics_field_slice(m->field2, b), 0, LL * sizeof *f);
    }
    m->field->nb = m->field2->nb = batch;
    m->field->g = m->field2->g = m->grid;
    return ACDC_UTIL_OK;
}

/* The input device for the exact method: u/smax on the four samples of each component,
 * each value's pixels (quantised; a double-phase value's two) at field amplitude e0,
 * on field (first pixels) and field2 (second). */
static void encode_exact(sim *m, size_t b, const double *u, double smax, double e0)
{
    const acdc_compiler_system *s = m->s;
    double complex *f = m->field->data + b * m->L, *g = m->field2->data + b * m->L;
    /* beyond the M x M window the planes stay zero (stage_exact()) */
    for (size_t y = 0; y < s->m; y++) {
        memset(f + exact_index(m, y, 0), 0, s->m * sizeof *f);
        memset(g + exact_index(m, y, 0), 0, s->m * sizeof *g);
    }
    if (!(smax > 0))
        return;
    for (size_t j = 0; j < s->n; j++) {
        double complex px[2];
        if (acdc_optics_modulator_pixels(&m->dev.input, u[j] / smax, px, NULL) == 1)
            px[1] = px[0];
        for (int copy = 0; copy < 4; copy++) {
            const size_t at = acdc_compiler_place(s, 0, j, copy);
            const size_t i = exact_index(m, at / s->m, at % s->m);
            const double env = m->envelope ? m->envelope[at] : 1;
            f[i] = e0 * env * px[0];
            g[i] = e0 * env * px[1];
        }
    }
}

/* The grid, the lenses or free space, the fields. */
static int setup_optics(sim *m)
{
    const acdc_compiler_system *s = m->s;
    /* the exact method samples the input and image planes at the sample pitch (the
     * pixels enter through their transforms), the window method at pitch / S */
    const double h = m->exact ? s->pitch_m : s->pitch_m / m->os;
    int rc = s->rank == 2 ? acdc_optics_grid_init(&m->grid, 2, m->side, m->side, h, s->wavelength_m)
                          : acdc_optics_grid_init(&m->grid, 1, m->L, 1, h, s->wavelength_m);
    if (!rc && m->optics.propagation == ACDC_SIM_PROP_IDEAL) {
        rc = acdc_optics_lens_plan_alloc(&m->l1, &m->grid, s->focal_m);
        if (!rc)
            rc = acdc_optics_lens_plan_alloc(&m->l2,
                                             acdc_optics_lens_plan_output(m->l1), s->focal_m);
    } else if (!rc) {
        /* the lens in its plane, without a stop (as the thin lens always was): it passes
         * the whole simulated window */
        acdc_optics_element *lens = NULL;
        rc = acdc_optics_prop_alloc(&m->free_f, &m->grid, s->focal_m,
                                    m->optics.propagation == ACDC_SIM_PROP_FRESNEL ? ACDC_OPTICS_FRESNEL_TF
                                                                         : ACDC_OPTICS_ASM_BL);
        if (!rc)
            rc = acdc_optics_lens_element_alloc(&lens, &m->optics.lens, 0);
        if (!rc && !(m->lens_t = malloc(m->L * sizeof *m->lens_t)))
            rc = acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
        if (!rc)
            rc = acdc_optics_element_sample(lens, &m->grid, 1, m->lens_t);
        acdc_optics_element_free(lens);
    }
    if (!rc)
        rc = acdc_optics_field_alloc(&m->field, &m->grid, m->batch);
    if (!rc)
        rc = acdc_optics_field_alloc(&m->ref, &m->grid, 1);
    if (!rc && m->exact) {
        acdc_optics_grid cg;
        if (!(rc = acdc_optics_field_alloc(&m->field2, &m->grid, m->batch)) &&
            !(rc = acdc_optics_grid_init(&cg, 2, s->m, s->m, s->pitch_m, s->wavelength_m)) &&
            !(rc = acdc_optics_field_alloc(&m->camf, &cg, m->batch)))
            rc = acdc_optics_field_alloc(&m->cam_ref, &cg, 1);
        if (!rc)
            rc = setup_exact(m);
    }
    return rc;
}

static int show_masks(sim *m);

/* The devices on the simulated samples, and the masks they show with their fixed
 * phase errors (from the seed: the same device for every trial of a seed). */
static int setup_devices(sim *m)
{
    const acdc_compiler_system *s = m->s;
    const acdc_compiler_profile *p = &m->dev;
    const double h = m->exact ? s->pitch_m : s->pitch_m / m->os;
    /* The Fourier plane's simulated pitch is the lens's: λf/(L·h) = Fourier pitch/S. */
    const double hf = m->l1 ? acdc_optics_lens_plan_output(m->l1)->pitch_m : h;
    if (fabs(hf * m->os - s->fourier_pitch_m) > 1e-9 * s->fourier_pitch_m)
        return acdc_util_error(ACDC_UTIL_EDATA, "the simulated Fourier pitch %g um is not the "
                               "system's %g um / %d", 1e6 * hf, 1e6 * s->fourier_pitch_m, m->os);
    int rc;
    /* masks displaced laterally: --misalign-x in samples, the perturbations in metres
     * (for every chain, or in maps of their own for the one chain selected) */
    const double sh_f = m->o.perturb[ACDC_SIM_PERTURB_SHIFT_FOURIER] / s->fourier_pitch_m;
    const double sh_i = m->o.perturb[ACDC_SIM_PERTURB_SHIFT_IMAGE] / s->pitch_m;
    const int one = m->o.chain != 0;
    const double off_f = m->o.misalign_px + (one ? 0 : sh_f);
    const double off_i = m->o.misalign_px + (one ? 0 : sh_i);
    if (m->exact && ((rc = acdc_optics_devmap2_alloc(&m->f_map.d2, &p->fourier,
                                                     s->profile.superpixel, s->fm, m->os,
                                                     m->side + 2 * m->ext, off_f, 0)) ||
                     (one && sh_f != 0 &&
                      (rc = acdc_optics_devmap2_alloc(&m->f_alt.d2, &p->fourier,
                                                      s->profile.superpixel, s->fm, m->os,
                                                      m->side + 2 * m->ext, off_f + sh_f, 0)))))
        return rc;
    if ((!m->exact && (rc = dmap_alloc(m, &p->input, s->m, 0, &m->in_map))) ||
        (!m->exact && (rc = dmap_alloc(m, &p->fourier, s->fm, off_f, &m->f_map))) ||
        (rc = dmap_alloc(m, &p->image, s->m, off_i, &m->im_map)) ||
        (!m->exact && one && sh_f != 0 &&
         (rc = dmap_alloc(m, &p->fourier, s->fm, off_f + sh_f, &m->f_alt))) ||
        (one && sh_i != 0 && (rc = dmap_alloc(m, &p->image, s->m, off_i + sh_i, &m->im_alt))))
        return rc;
    const size_t K = n_stages(s);
    m->in_work = malloc((m->in_map.d2 ? acdc_optics_devmap2_work(m->in_map.d2)
                         : m->in_map.d1 ? acdc_optics_devmap_pixels(m->in_map.d1) : 1) *
                        sizeof *m->in_work);
    if (s->rank == 2 && !(m->in_t = malloc(acdc_compiler_plane_size(s) * sizeof *m->in_t)))
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
    m->fourier = calloc(K, sizeof *m->fourier);
    m->image = calloc(K, sizeof *m->image);
    if (m->exact && !(m->psf = calloc(2 * K, sizeof *m->psf)))
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
    if (!m->in_work || !m->fourier || !m->image)
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
    return show_masks(m);
}

/* Every stage's masks as the devices show them, with phase errors drawn from the seed
 * in stage order (again, the same draws, when a perturbation changes the devices). */
static int show_masks(sim *m)
{
    const acdc_compiler_system *s = m->s;
    const acdc_compiler_profile *p = &m->dev;
    int rc = ACDC_UTIL_OK;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!r)
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
    gsl_rng_set(r, (unsigned long)acdc_optics_field_seed(m->o.seed, UINT64_MAX));
    const double sf = p->ideal ? 0 : m->o.phase_error_rad >= 0 ? m->o.phase_error_rad
                                                               : p->fourier.phase_error_rad;
    const double si = p->ideal ? 0 : m->o.phase_error_rad >= 0 ? m->o.phase_error_rad
                                                               : p->image.phase_error_rad;
    size_t k = 0;
    for (size_t c = 0; !rc && c < s->n_chains; c++)
        for (size_t j = 0; !rc && j < s->chains[c].count; j++, k++) {
            const acdc_compiler_stage *st = &s->chains[c].stages[j];
            free(m->fourier[k]);
            free(m->image[k]);
            m->image[k] = NULL;
            const struct dmap fm = chain_map(m, m->f_map, m->f_alt, c);
            const struct dmap im = chain_map(m, m->im_map, m->im_alt, c);
            m->fourier[k] = m->exact ? exact_mask(m, fm.d2, c, st->fourier.ideal, sf, r)
                                     : show_mask(m, fm, st->fourier.ideal, sf, r);
            if (!m->fourier[k] ||
                (st->image && !(m->image[k] = show_mask(m, im, st->image->ideal, si, r))))
                rc = acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
            if (!rc && m->exact) {
                acdc_optics_4f_psf_free(m->psf[2 * k]);
                acdc_optics_4f_psf_free(m->psf[2 * k + 1]);
                rc = exact_psf(m, m->fourier[k], m->psf + 2 * k);
            }
        }
    gsl_rng_free(r);
    return rc;
}

/* The camera, its pixels seen from the image plane, the light level and the detection
 * buffers. */
static int setup_camera(sim *m)
{
    const acdc_compiler_system *s = m->s;
    const acdc_compiler_profile *p = &m->dev;
    const size_t B = m->batch, M = acdc_compiler_plane_size(s);
    /* Seen from the image plane through the relay, a camera pixel is one sample wide
     * (system.h); the relay conserves power.  A 2D system reads the m x m pixels the
     * image plane is relayed onto (a region of interest: the rest of the sensor sees
     * only the light diffracted beyond the plane, which no pixel reads). */
    const size_t rows = p->camera.rows ? p->camera.rows : 1;
    m->px = (acdc_optics_pixels){.npx = s->rank == 2 ? (p->camera.pixels < s->m ? p->camera.pixels : s->m)
                                                : p->camera.pixels,
                                 .npy = s->rank == 2 ? (rows < s->m ? rows : s->m) : 1,
                                 .pitch_m = s->pitch_m, .fill = p->camera.fill};
    const size_t P = m->px.npx * m->px.npy;
    m->cam = p->camera;
    m->cam.wavelength_m = s->wavelength_m;
    m->cam.shot_noise = 1;
    m->cam.seed = m->o.seed;
    m->power_w = malloc(s->n_chains * sizeof *m->power_w);
    m->saturated = calloc(s->n_chains, sizeof *m->saturated);
    m->exposures = calloc(s->n_chains, sizeof *m->exposures);
    if (!m->power_w || !m->saturated || !m->exposures)
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for the camera");
    /* the laser's power, or the power that puts o.photons photons on each chain's input
     * over its designed exposures; the design (reference, exposure) stays as compiled */
    for (size_t c = 0; c < s->n_chains; c++) {
        const acdc_compiler_chain *ch = &s->chains[c];
        m->power_w[c] = m->o.photons > 0
                            ? m->o.photons * ACDC_OPTICS_PLANCK * ACDC_OPTICS_C /
                                  (s->wavelength_m * ch->exposure_s * (double)ch->frames)
                            : p->laser_power_w;
    }
    m->plus = malloc(B * m->L * sizeof *m->plus);
    m->pp = malloc(B * P * sizeof *m->pp);
    m->diff = malloc(B * M * sizeof *m->diff);
    m->relay = malloc(M * sizeof *m->relay);
    if (!m->plus || !m->pp || !m->diff || !m->relay)
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for the camera");
    for (size_t j = 0; j < M; j++) {
        const size_t jx = s->rank == 2 ? j % s->m : j, jy = s->rank == 2 ? j / s->m : 0;
        long ix = lround(acdc_optics_coord_m(jx, s->m, s->pitch_m) / m->px.pitch_m) +
                  (long)acdc_optics_axis_index(m->px.npx);
        long iy = s->rank == 2 ? lround(acdc_optics_coord_m(jy, s->m, s->pitch_m) / m->px.pitch_m) +
                                     (long)acdc_optics_axis_index(m->px.npy)
                               : 0;
        m->relay[j] = ix >= 0 && (size_t)ix < m->px.npx && iy >= 0 && (size_t)iy < m->px.npy
                          ? iy * (long)m->px.npx + ix : -1;
    }
    if (!m->noise)
        return ACDC_UTIL_OK;
    m->minus = malloc(B * m->L * sizeof *m->minus);
    m->pm = malloc(B * P * sizeof *m->pm);
    m->ep = malloc(B * P * sizeof *m->ep);
    m->em = malloc(B * P * sizeof *m->em);
    m->nscratch = omp_get_max_threads() > 0 ? omp_get_max_threads() : 1;
    const size_t T = (size_t)m->nscratch;
    m->codes = malloc(T * P * sizeof *m->codes);
    m->frame_e = malloc(T * P * sizeof *m->frame_e);
    m->sat = malloc(T * P * sizeof *m->sat);
    if (!m->minus || !m->pm || !m->ep || !m->em || !m->codes || !m->frame_e || !m->sat)
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for the camera");
    return ACDC_UTIL_OK;
}

/* The exact method's displacements, where the light is known by its spectrum: each
 * becomes a factor of the stage's kernel at every extended Fourier point, whose spatial
 * frequency is u = position / (λ f).  The input modulator displaced by δ along x:
 * its pattern's transform times e^{−i2π ux δ} (a shift theorem; the lens is the
 * forward transform).  Displaced by dz downstream: its light reaches the lens as the
 * field dz behind the front focal plane, i.e. propagated by −dz: the Fresnel transfer
 * function without its piston (as displace() has it), e^{+iπλ dz |u|²}, the angular
 * spectrum's frequency being the Fourier plane's.  The camera displaced by dz: the
 * image propagated by +dz before the pixels, e^{−iπλ dz |u|²} on the image's spectrum,
 * which the second lens takes from the Fourier plane (|u| the same: the transfer
 * function is even).  Both factors are separable, so one per axis.  The masks are then
 * shown again (the same phase errors): the kernels hold the factors, and the Fourier
 * device's rotation (exact_mask()). */
static int setup_perturb_exact(sim *m)
{
    const acdc_compiler_system *s = m->s;
    const double *pv = m->o.perturb;
    const double dx = pv[ACDC_SIM_PERTURB_SHIFT_INPUT];
    const double dz = pv[ACDC_SIM_PERTURB_DEFOCUS_INPUT] - pv[ACDC_SIM_PERTURB_DEFOCUS_CAMERA];
    if (dx != 0 || dz != 0) {
        const size_t E = m->side + 2 * m->ext;
        const double hf = acdc_optics_lens_plan_output(m->l1)->pitch_m;
        if (!(m->fx = malloc(E * sizeof *m->fx)) || !(m->fy = malloc(E * sizeof *m->fy)))
            return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
        for (size_t e = 0; e < E; e++) {
            const double u = acdc_optics_coord_m(e, E, hf) / (s->wavelength_m * s->focal_m);
            m->fy[e] = cexp(I * M_PI * s->wavelength_m * dz * u * u);
            m->fx[e] = m->fy[e] * cexp(-2 * M_PI * I * u * dx);
        }
    }
    if (m->fx || pv[ACDC_SIM_PERTURB_ROTATE_FOURIER] != 0)
        return show_masks(m);
    return ACDC_UTIL_OK;
}

/* What the bench does to the calibrated system (sim/perturb.h): the input modulator
 * displaced, the illumination's envelope, each camera pixel's gain, free space for the
 * axial displacements.  Lateral mask displacements are in the device maps (setup_devices:
 * calibration uses maps of its own), the reference's error in acdc_sim_run(). */
static int setup_perturb(sim *m)
{
    const acdc_compiler_system *s = m->s;
    const double *pv = m->o.perturb;
    int rc = ACDC_UTIL_OK;
    if (pv[ACDC_SIM_PERTURB_SHIFT_INPUT] != 0 && !m->exact) {
        /* every chain's input modulator displaced, or the selected chain's own */
        struct dmap *to = m->o.chain ? &m->in_alt : &m->in_map;
        dmap_free(*to);
        memset(to, 0, sizeof *to);
        if ((rc = dmap_alloc(m, &m->dev.input, s->m, pv[ACDC_SIM_PERTURB_SHIFT_INPUT] / s->pitch_m,
                             to)))
            return rc;
    }
    const double w = pv[ACDC_SIM_PERTURB_WAIST];
    if (w > 0) {
        /* per simulated input sample (window method) or per sample of the m x m input
         * plane (exact method, whose pixels enter by their transforms) */
        const size_t n = m->exact ? acdc_compiler_plane_size(s) : m->L;
        const size_t side = m->exact ? s->m : s->rank == 2 ? m->side : m->L;
        const double h = m->exact ? s->pitch_m : m->grid.pitch_m;
        if (!(m->envelope = malloc(n * sizeof *m->envelope)))
            return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
            const double x = acdc_optics_coord_m(i % side, side, h);
            const double y = s->rank == 2 ? acdc_optics_coord_m(i / side, side, h) : 0;
            m->envelope[i] = exp(-(x * x + y * y) / (w * w));
        }
    }
    const double g = pv[ACDC_SIM_PERTURB_GAIN_RMS];
    if (g > 0) {
        const size_t P = m->px.npx * m->px.npy;
        gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
        if (!(m->gain_px = malloc(P * sizeof *m->gain_px)) || !r) {
            gsl_rng_free(r);
            return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
        }
        gsl_rng_set(r, (unsigned long)acdc_optics_field_seed(m->o.seed, UINT64_MAX - 1));
        for (size_t i = 0; i < P; i++)
            m->gain_px[i] = fmax(0, 1 + g * gsl_ran_gaussian(r, 1));
        gsl_rng_free(r);
    }
    const enum acdc_optics_method how = m->optics.propagation == ACDC_SIM_PROP_ASM ? ACDC_OPTICS_ASM_BL
                                                                         : ACDC_OPTICS_FRESNEL_TF;
    /* another wavelength: the devices' retardances scaled (the masks shown again, the
     * same phase errors drawn), the grid's diffraction and the lenses at the new
     * wavelength; a focal-length error: the lenses' transmittance (free space only,
     * check_options()) */
    const double dl = pv[ACDC_SIM_PERTURB_WAVELENGTH], ef = pv[ACDC_SIM_PERTURB_FOCAL];
    if (dl != 0) {
        const double kappa = s->wavelength_m / (s->wavelength_m + dl);
        struct dmap *maps[] = {&m->in_map, &m->f_map, &m->im_map, &m->in_alt, &m->f_alt,
                               &m->im_alt};
        for (int i = 0; i < 6; i++) {
            if (maps[i]->d1)
                acdc_optics_devmap_set_retardance(maps[i]->d1, kappa);
            if (maps[i]->d2)
                acdc_optics_devmap2_set_retardance(maps[i]->d2, kappa);
        }
        if ((rc = show_masks(m)))
            return rc;
        m->grid.wavelength_m = s->wavelength_m + dl;
        m->cam.wavelength_m = m->grid.wavelength_m;
        acdc_optics_prop_free(m->free_f);
        m->free_f = NULL;
        if ((rc = acdc_optics_prop_alloc(&m->free_f, &m->grid, s->focal_m, how)))
            return rc;
    }
    /* crosstalk: every liquid-crystal mask's retardance blurred (the input modulator's in
     * encode(), input by input) */
    const double xt = pv[ACDC_SIM_PERTURB_CROSSTALK];
    const size_t nx = s->rank == 2 ? m->side : m->L, ny = s->rank == 2 ? m->side : 1;
    const double hf = m->l1 ? acdc_optics_lens_plan_output(m->l1)->pitch_m : m->grid.pitch_m;
    for (size_t k = 0; xt > 0 && k < n_stages(s); k++) {
        if (m->dev.fourier.refractive_index == 0 &&
            (rc = acdc_optics_fringing(m->fourier[k], nx, ny, hf, xt)))
            return rc;
        if (m->image[k] && m->dev.image.refractive_index == 0 &&
            (rc = acdc_optics_fringing(m->image[k], nx, ny, m->grid.pitch_m, xt)))
            return rc;
    }
    /* in-plane rotations of the masks (2D; the input's in encode(); the exact method's
     * Fourier device in exact_mask()) */
    for (size_t c = 0, k = 0; s->rank == 2 && !m->exact && c < s->n_chains; c++)
        for (size_t j = 0; j < s->chains[c].count; j++, k++) {
            if (!perturbed_chain(m, c))
                continue;
            if ((rc = acdc_optics_plane_rotate(m->fourier[k], nx,
                                               pv[ACDC_SIM_PERTURB_ROTATE_FOURIER])) ||
                (m->image[k] &&
                 (rc = acdc_optics_plane_rotate(m->image[k], nx,
                                                pv[ACDC_SIM_PERTURB_ROTATE_IMAGE]))))
                return rc;
        }
    /* aberrations added to every lens: its transmittance again (free space only) */
    const double zs = pv[ACDC_SIM_PERTURB_LENS_SPHERICAL], zc = pv[ACDC_SIM_PERTURB_LENS_COMA],
                 za = pv[ACDC_SIM_PERTURB_LENS_ASTIGMATISM];
    if (dl != 0 || ef != 0 || zs != 0 || zc != 0 || za != 0) {
        acdc_optics_lens lens = m->optics.lens;
        lens.focal_m *= 1 + ef;
        lens.zernike[10] += zs;   /* Noll j at [j - 1] */
        lens.zernike[7] += zc;
        lens.zernike[5] += za;
        acdc_optics_element *e = NULL;
        if (!(rc = acdc_optics_lens_element_alloc(&e, &lens, 0)))
            rc = acdc_optics_element_sample(e, &m->grid, 1, m->lens_t);
        acdc_optics_element_free(e);
        if (rc)
            return rc;
    }
    if (m->exact)
        return setup_perturb_exact(m);
    const acdc_optics_grid *fg = m->l1 ? acdc_optics_lens_plan_output(m->l1) : &m->grid;
    if (!rc && pv[ACDC_SIM_PERTURB_DEFOCUS_INPUT] != 0)
        rc = acdc_optics_prop_alloc(&m->def_in, &m->grid,
                                    fabs(pv[ACDC_SIM_PERTURB_DEFOCUS_INPUT]), how);
    if (!rc && pv[ACDC_SIM_PERTURB_DEFOCUS_CAMERA] != 0)
        rc = acdc_optics_prop_alloc(&m->def_cam, &m->grid,
                                    fabs(pv[ACDC_SIM_PERTURB_DEFOCUS_CAMERA]), how);
    if (!rc && pv[ACDC_SIM_PERTURB_DEFOCUS_FOURIER] != 0 &&
        !(rc = acdc_optics_prop_alloc(&m->def_f_in, fg,
                                      fabs(pv[ACDC_SIM_PERTURB_DEFOCUS_FOURIER]), how)))
        rc = acdc_optics_prop_alloc(&m->def_f_out, fg,
                                    fabs(pv[ACDC_SIM_PERTURB_DEFOCUS_FOURIER]), how);
    return rc;
}

int acdc_sim_alloc(sim **out, const acdc_compiler_system *s, size_t batch,
                   const acdc_sim_options *o)
{
    *out = NULL;
    int rc = check_options(s, batch, o);
    if (rc)
        return rc;
    const int os = acdc_sim_oversample(s, o->oversample);
    const size_t L = acdc_sim_plane_samples(s, o);
    /* The batch's fields and detector buffers, and one mask per stage. */
    if ((rc = acdc_util_mem_check((double)L * (16.0 * (double)batch * 1.5 + 40.0 * (double)batch +
                                               32.0 * (double)n_stages(s) + 64.0),
                                  "the simulation's planes")))
        return rc;
    sim *m = calloc(1, sizeof *m);
    if (!m)
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
    m->s = s;
    acdc_compiler_profile_effective(&s->profile, &m->dev);
    m->o = *o;
    acdc_sim_optics_of(s, o, &m->optics);
    m->batch = batch;
    m->noise = o->noise && !s->profile.ideal;
    m->os = os;
    m->L = L;
    m->side = acdc_sim_plane_side(s, o);
    m->exact = acdc_sim_exact(s, o);
    m->ext = ((size_t)os + 1) / 2;
    m->gch = malloc(s->n_chains * sizeof *m->gch);
    m->v = malloc(batch * s->n * sizeof *m->v);
    m->u = malloc(batch * s->n * sizeof *m->u);
    m->scale = malloc(batch * sizeof *m->scale);
    if (!m->gch || !m->v || !m->u || !m->scale)
        rc = acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for a batch of %zu", batch);
    if (!rc)
        rc = setup_optics(m);
    if (!rc)
        rc = setup_devices(m);
    if (!rc)
        rc = setup_camera(m);
    if (!rc && !(rc = calibrate(m))) {
        m->calibrated = 1;
        rc = setup_perturb(m);
    }
    if (rc) {
        acdc_sim_free(m);
        return rc;
    }
    *out = m;
    return ACDC_UTIL_OK;
}

size_t acdc_sim_exposures(const sim *m, size_t c, size_t *saturated)
{
    *saturated = m->saturated[c];
    return m->exposures[c];
}

int acdc_sim_oversample(const acdc_compiler_system *s, int requested)
{
    if (requested >= 1)
        return requested;
    return s->profile.fourier_oversample > 0 ? 4 : 1;
}

size_t acdc_sim_plane_samples(const acdc_compiler_system *s, const acdc_sim_options *o)
{
    const size_t side = acdc_sim_plane_side(s, o);
    return s->rank == 2 ? side * side : side;
}

size_t acdc_sim_plane_count(const acdc_compiler_system *s)
{
    size_t p = 0;
    for (size_t c = 0; c < s->n_chains; c++)
        p += 2 * s->chains[c].count + 1;
    return p;
}

void acdc_sim_plane_info(const acdc_compiler_system *s, const acdc_sim_options *o,
                         size_t i, char *name,
                         size_t size, double *pitch_m)
{
    const double S = acdc_sim_oversample(s, o->oversample);
    /* the exact method keeps the input's sample values and the camera's pixel means at
     * the sample pitch */
    const int ex = acdc_sim_exact(s, o);
    const double Si = ex ? 1 : S;
    for (size_t c = 0; c < s->n_chains; c++) {
        size_t np = 2 * s->chains[c].count + 1;
        if (i < np) {
            if (i == np - 1) {
                snprintf(name, size, "chain %zu camera%s", c, ex ? " (pixel means)" : "");
                *pitch_m = s->pitch_m / Si;
            } else {
                snprintf(name, size, "chain %zu stage %zu %s", c, i / 2,
                         i % 2 ? "Fourier" : ex ? "input (sample values)" : "input");
                *pitch_m = i % 2 ? s->fourier_pitch_m / S : s->pitch_m / Si;
            }
            return;
        }
        i -= np;
    }
    snprintf(name, size, "?");
    *pitch_m = 0;
}

void acdc_sim_keep_planes(sim *m, size_t rows, double complex *buf)
{
    m->keep_rows = buf ? rows : 0;
    m->keep = buf;
}

/* diff (a plane's samples, W/m or W/m²) from the signed power on each camera pixel (W):
 * the value of the pixel each sample is relayed onto (m->relay), per active pixel width
 * (rank 1) or area (rank 2). */
static void to_samples(const sim *m, const double *pw, double *diff)
{
    const double width = pow(m->px.pitch_m * m->px.fill, m->s->rank == 2 ? 2 : 1);
    for (size_t j = 0; j < acdc_compiler_plane_size(m->s); j++)
        diff[j] = m->relay[j] >= 0 ? pw[m->relay[j]] / (width > 0 ? width : 1) : 0;
}

/* Noise on one row's two ports (powers pp, pm on P pixels, W): `frames` exposures of the
 * chain's designed length -- one drawn as the camera makes it (shot, dark and read
 * noise, full-well clipping, ADC codes), several as their sum (acdc_optics_detect_frames()) --
 * the mean dark signal subtracted as a calibrated camera does; their differences
 * averaged and turned back into watts in pp.  An exposure in which a pixel
 * the chain reads reaches the full well on either port is counted (m->saturated): the
 * camera is protected, not re-exposed. */
static int detect_row(const sim *m, int thread, size_t row, size_t chain, double *pp,
                      double *pm, double *ep, double *em, size_t *saturated)
{
    const size_t P = m->px.npx * m->px.npy;
    uint32_t *codes = m->codes + (size_t)thread * P;
    double *frame_e = m->frame_e + (size_t)thread * P;
    unsigned char *sat = m->sat + (size_t)thread * P;
    const acdc_compiler_chain *ch = &m->s->chains[chain];
    acdc_optics_camera c = m->cam;
    c.exposure_s = ch->exposure_s;
    /* A camera without an ADC gives its electrons as they are. */
    const int adc = c.adc_bits > 0;
    const double top = ldexp(1.0, c.adc_bits) - 1;
    int rc;
    for (size_t i = 0; i < P; i++) {
        pp[i] = pp[i] > 0 ? pp[i] : 0;
        pm[i] = pm[i] > 0 ? pm[i] : 0;
    }
    /* Many exposures: their sum drawn at once (acdc_optics_detect_frames(): exact in mean and
     * variance); one: drawn as the camera makes it, codes and all. */
    if (ch->frames > 1) {
        int clipped = 0;
        for (int port = 0; port < 2; port++) {
            c.seed = acdc_optics_field_seed(acdc_optics_field_seed(m->o.seed, row),
                                            2 * chain + (size_t)port);
            double *pw = port ? pm : pp, *e = port ? em : ep;
            if ((rc = acdc_optics_detect_frames(&c, 1, P, pw, ch->frames, e, sat)))
                return rc;
            for (size_t i = 0; i < P; i++)
                e[i] -= (double)ch->frames * c.dark_e_per_s * c.exposure_s;
            for (size_t j = 0; j < m->s->n; j++) {
                const long i = m->relay[ch->pixel[j]];
                clipped |= i >= 0 && sat[i];
            }
        }
        *saturated = clipped ? ch->frames : 0;
    } else {
        int clipped = 0;
        for (int port = 0; port < 2; port++) {
            /* Each row, chain and port draws its own noise: seed from (seed, row, chain,
             * port). */
            c.seed = acdc_optics_field_seed(acdc_optics_field_seed(m->o.seed, row),
                                            2 * chain + (size_t)port);
            double *pw = port ? pm : pp, *e = port ? em : ep;
            if ((rc = acdc_optics_detect(&c, 1, P, pw, frame_e, adc ? codes : NULL)))
                return rc;
            for (size_t i = 0; i < P; i++) {
                double x = adc ? codes[i] * c.full_well_e / top : frame_e[i];
                /* Subtract the mean dark signal, as a calibrated camera does. */
                e[i] = x - c.dark_e_per_s * c.exposure_s;
            }
            /* saturation that matters: on the pixels the chain reads (a pixel at the
             * full well elsewhere does not enter the result) */
            for (size_t j = 0; j < m->s->n; j++) {
                const long i = m->relay[ch->pixel[j]];
                if (i >= 0)
                    clipped |= adc ? codes[i] >= top : frame_e[i] >= c.full_well_e;
            }
        }
        *saturated = (size_t)clipped;
    }
    /* Electrons → watts on the pixel, the frames averaged. */
    const double w_per_e = ACDC_OPTICS_PLANCK * ACDC_OPTICS_C /
                           (c.wavelength_m * c.exposure_s * c.qe * (double)ch->frames);
    for (size_t i = 0; i < P; i++)
        pp[i] = (ep[i] - em[i]) * w_per_e;
    return ACDC_UTIL_OK;
}

/* Each camera pixel's response (the gain non-uniformity perturbation) on powers pw,
 * batch x pixels. */
static void apply_gain(const sim *m, size_t batch, double *pw)
{
    const size_t P = m->px.npx * m->px.npy;
    if (!m->gain_px)
        return;
    for (size_t b = 0; b < batch; b++)
        for (size_t i = 0; i < P; i++)
            pw[b * P + i] *= m->gain_px[i];
}

/* The camera behind chain `chain`: balanced homodyne against m->ref, both ports (or,
 * without noise, their difference) integrated over the camera's pixels, and the signed
 * power per pixel converted back to W/m on the image samples (m->diff). */
static int detect(sim *m, const acdc_optics_field *field,
                  const acdc_optics_field *ref, size_t batch,
                  size_t first, size_t chain)
{
    const size_t M = acdc_compiler_plane_size(m->s), P = m->px.npx * m->px.npy;
    int rc;
    if (!m->noise) {
        if ((rc = acdc_optics_homodyne(field, ref, NULL, NULL, m->plus)) ||
            (rc = acdc_optics_pixels_integrate(&field->g, batch, m->plus, &m->px, m->pp)))
            return rc;
        apply_gain(m, batch, m->pp);
        for (size_t b = 0; b < batch; b++)
            to_samples(m, m->pp + b * P, m->diff + b * M);
        return ACDC_UTIL_OK;
    }
    if ((rc = acdc_optics_homodyne(field, ref, m->plus, m->minus, NULL)) ||
        (rc = acdc_optics_pixels_integrate(&field->g, batch, m->plus, &m->px, m->pp)) ||
        (rc = acdc_optics_pixels_integrate(&field->g, batch, m->minus, &m->px, m->pm)))
        return rc;
    apply_gain(m, batch, m->pp);
    apply_gain(m, batch, m->pm);
    /* rows in parallel: each draws its noise from its own seed (detect_row()), so the
     * values do not depend on the threads */
    size_t saturated = 0;
    int fail = ACDC_UTIL_OK;
    char why[256] = "";
#pragma omp parallel for schedule(dynamic, 4) num_threads(m->nscratch) reduction(+ : saturated) if (batch > 1)
    for (long b = 0; b < (long)batch; b++) {
        size_t clipped = 0;
        const size_t o = (size_t)b * P;
        int r = detect_row(m, omp_get_thread_num(), first + (size_t)b, chain, m->pp + o,
                           m->pm + o, m->ep + o, m->em + o, &clipped);
        if (r) {
#pragma omp critical(acdc_sim_detect)
            if (!fail) {
                fail = r;
                snprintf(why, sizeof why, "%s", acdc_util_errmsg());
            }
            continue;
        }
        saturated += clipped;
        to_samples(m, m->pp + o, m->diff + (size_t)b * M);
    }
    if (fail)
        return acdc_util_error(fail, "%s", why);
    m->saturated[chain] += saturated;
    m->exposures[chain] += batch * (size_t)m->s->chains[chain].frames;
    return ACDC_UTIL_OK;
}

/* The illumination's envelope on one simulated input plane (window method). */
static void illuminate(const sim *m, double complex *f)
{
    if (!m->envelope)
        return;
    for (size_t i = 0; i < m->L; i++)
        f[i] *= m->envelope[i];
}

/* Input electronics and modulator for chain ch: u = a ⊙ v + a_bias, scaled by
 * s = max|u| to the modulator's range, each component on its two samples of the
 * symmetric extension (layout parity 0), shown by the input device at field amplitude
 * e0.  An all-zero input leaves the field dark. */
static int encode(sim *m, const acdc_compiler_chain *ch, size_t batch, double e0)
{
    const double xt = m->calibrated && m->dev.input.refractive_index == 0
                          ? m->o.perturb[ACDC_SIM_PERTURB_CROSSTALK] : 0;
    const size_t nx = m->s->rank == 2 ? m->side : m->L, ny = m->s->rank == 2 ? m->side : 1;
    int rc;
    const size_t n = m->s->n, c = (size_t)(ch - m->s->chains);
    /* the chain's input modulator: displaced with the rest, or on its own */
    const struct dmap in = chain_map(m, m->in_map, m->in_alt, c);
    m->field->g = m->grid;
    if (!m->exact)   /* the exact method's planes are zero beyond the window already */
        acdc_optics_field_zero(m->field);
    for (size_t b = 0; b < batch; b++) {
        double *u = m->u + b * n, smax = 0;
        for (size_t j = 0; j < n; j++) {
            u[j] = ch->enc_a[j] * m->v[b * n + j] + ch->enc_bias[j];
            smax = fmax(smax, fabs(u[j]));
        }
        m->scale[b] = smax;
        if (m->exact) {
            encode_exact(m, b, u, smax, e0);
            continue;
        }
        if (!(smax > 0))
            continue;
        if (in.d2) {
            /* rank 2: the plane's values, each component on its four samples */
            memset(m->in_t, 0, acdc_compiler_plane_size(m->s) * sizeof *m->in_t);
            for (size_t j = 0; j < n; j++)
                for (int copy = 0; copy < 4; copy++)
                    m->in_t[acdc_compiler_place(m->s, 0, j, copy)] = u[j] / smax;
            acdc_optics_devmap2_show(in.d2, m->in_t, 0, NULL, e0, m->in_work,
                                     acdc_optics_field_slice(m->field, b));
            if (xt > 0 && (rc = acdc_optics_fringing(acdc_optics_field_slice(m->field, b), nx, ny,
                                                     m->grid.pitch_m, xt)))
                return rc;
            if (m->calibrated && perturbed_chain(m, c) &&
                (rc = acdc_optics_plane_rotate(acdc_optics_field_slice(m->field, b), nx,
                                               m->o.perturb[ACDC_SIM_PERTURB_ROTATE_INPUT])))
                return rc;
            illuminate(m, acdc_optics_field_slice(m->field, b));
            continue;
        }
        /* each component's pixels once, on both of its samples */
        const size_t ppx = acdc_optics_devmap_pixels_per_sample(in.d1);
        double complex px[2];
        for (size_t j = 0; j < n; j++) {
            acdc_optics_devmap_sample(in.d1, u[j] / smax, px);
            for (int side = 0; side < 2; side++)
                memcpy(m->in_work + acdc_compiler_layout(n, 0, j, side) * ppx, px,
                       ppx * sizeof *px);
        }
        acdc_optics_devmap_place(in.d1, m->in_work, e0, acdc_optics_field_slice(m->field, b));
        if (xt > 0 && (rc = acdc_optics_fringing(acdc_optics_field_slice(m->field, b), nx, ny,
                                                 m->grid.pitch_m, xt)))
            return rc;
        illuminate(m, acdc_optics_field_slice(m->field, b));
    }
    return ACDC_UTIL_OK;
}

/* Electronics after chain ch: y = s·gain·ΔI + folded bias, ReLU, permutation. */
static void electronics(sim *m, const acdc_compiler_chain *ch, size_t batch, double gain)
{
    const size_t n = m->s->n, M = acdc_compiler_plane_size(m->s);
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
}

/* The exact method needs each stage's kernel (m->fourier: 2 L² values, 128 MB a stage at
 * S = 16) only for the planes kept for plotting; otherwise its point-spread functions are
 * all it reads, and the kernels are freed.  Kept planes after a run without them: the
 * masks are shown again (the same draws: show_masks()). */
static int exact_kernels(sim *m)
{
    const size_t K = n_stages(m->s);
    for (size_t k = 0; m->exact && k < K; k++) {
        if (m->keep_rows && !m->fourier[k])
            return show_masks(m);
        if (!m->keep_rows) {
            free(m->fourier[k]);
            m->fourier[k] = NULL;
        }
    }
    return ACDC_UTIL_OK;
}

int acdc_sim_run(sim *m, size_t batch, size_t first, const double *x, double *y,
                 double *chain_in, double *chain_out)
{
    const acdc_compiler_system *s = m->s;
    const size_t n = s->n;
    int rc;
    if (batch > m->batch)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "batch %zu exceeds the simulation's %zu", batch,
                               m->batch);
    if ((rc = exact_kernels(m)))
        return rc;
    m->field->nb = batch;
    /* Input electronics: standardise and zero-pad -- lay the input grid into the top-left
     * corner of the layer grid, row by row (models/model.h; 1D: append zeros). */
    size_t gw, in_w;
    acdc_model_grid(s->model, NULL, &gw, NULL, &in_w);
    for (size_t b = 0; b < batch; b++) {
        double *v = m->v + b * n;
        memset(v, 0, n * sizeof *v);
        for (size_t i = 0; i < s->n_in; i++) {
            double xi = x[b * s->n_in + i];
            v[i / in_w * gw + i % in_w] = s->in_mean ? (xi - s->in_mean[i]) / s->in_scale[i] : xi;
        }
        if ((rc = acdc_check_values(v, 1, n, first + b, 0, NULL, "the standardised input")))
            return rc;
    }
    size_t kk = 0, plane = 0;
    const int keeping = first < m->keep_rows;
    for (size_t c = 0; c < s->n_chains; c++) {
        const acdc_compiler_chain *ch = &s->chains[c];
        m->cur_chain = c;
        if (chain_in)
            memcpy(chain_in + c * batch * n, m->v, batch * n * sizeof *m->v);
        /* The input field for a full-scale pixel: the laser power spread over M samples
         * (without noise the scale does not matter: the compiled E0). */
        const double e0 = m->noise ? sqrt(m->power_w[c] / ((double)acdc_compiler_plane_size(s) *
                                                           pow(s->pitch_m, s->rank == 2 ? 2 : 1)))
                                   : s->field_amplitude;
        if ((rc = encode(m, ch, batch, e0)) ||
            (rc = displace(m, m->def_in, ACDC_SIM_PERTURB_DEFOCUS_INPUT, -1)))
            return rc;
        /* The optics, stage by stage: image-plane mask, then the 4f pass. */
        for (size_t k = 0; k < ch->count && m->exact; k++, kk++)
            if ((rc = stage_exact(m, m->fourier[kk], m->psf + 2 * kk, batch, first,
                                  keeping ? &plane : NULL)))
                return rc;
        for (size_t k = 0; k < ch->count && !m->exact; k++, kk++) {
            if (m->image[kk] && (rc = acdc_optics_field_multiply(m->field, m->image[kk])))
                return rc;
            if (keeping)
                keep(m, batch, first, plane++);
            if ((rc = stage_4f(m, m->fourier[kk], batch, first, keeping ? &plane : NULL)))
                return rc;
        }
        if ((rc = displace(m, m->def_cam, ACDC_SIM_PERTURB_DEFOCUS_CAMERA, 1)))
            return rc;
        if (keeping)
            keep(m, batch, first, plane++);
        /* Balanced homodyne against the designed reference, phased to the chain's
         * constant; one beam feeds both arms, so it follows the light level in use. */
        const double complex gc = m->gch[c];
        double complex r = ch->ref_amplitude * e0 / s->field_amplitude * cexp(I * carg(gc));
        /* ... as the bench has it: drifted in phase, off in amplitude (sim/perturb.h) */
        if ((m->o.perturb[ACDC_SIM_PERTURB_REF_PHASE] != 0 ||
             m->o.perturb[ACDC_SIM_PERTURB_REF_AMPLITUDE] != 0) && perturbed_chain(m, c))
            r *= (1 + m->o.perturb[ACDC_SIM_PERTURB_REF_AMPLITUDE]) *
                 cexp(I * m->o.perturb[ACDC_SIM_PERTURB_REF_PHASE]);
        /* at another wavelength the reference arm, its optical path matched to the
         * chain's length, gains the plane-wave phase the light gains through free
         * space: only the diffraction differs */
        if (m->o.perturb[ACDC_SIM_PERTURB_WAVELENGTH] != 0)
            r *= cexp(I * 2 * M_PI * (1 / m->grid.wavelength_m - 1 / s->wavelength_m) *
                      ch->length_m);
        acdc_optics_field *ref = m->exact ? m->cam_ref : m->ref;
        for (size_t k = 0; k < acdc_optics_grid_size(&ref->g); k++)
            ref->data[k] = r;
        if (!m->exact)
            ref->g = m->field->g;
        if ((rc = detect(m, m->exact ? m->camf : m->field, ref, batch, first, c)))
            return rc;
        /* The gain for the light level in use and the calibrated constant. */
        electronics(m, ch, batch, ch->gain * (s->field_amplitude / e0) *
                                      (s->field_amplitude / e0) * cabs(ch->g) / cabs(gc));
        if (chain_out)
            memcpy(chain_out + c * batch * n, m->v, batch * n * sizeof *m->v);
    }
    for (size_t b = 0; b < batch; b++)
        memcpy(y + b * s->n_out, m->v + b * n, s->n_out * sizeof *y);
    return acdc_check_values(y, batch, s->n_out, first, 0, NULL, "the optical outputs");
}

int acdc_sim_reference(const acdc_compiler_system *s, size_t batch, const double *x, double *y)
{
    acdc_work *w;
    int rc = acdc_work_alloc(&w, s->model, batch, 0, 1, FFTW_ESTIMATE);
    if (rc)
        return rc;
    rc = acdc_model_forward(s->model, w, batch, x, y);
    acdc_work_free(w);
    return rc ? rc : acdc_check_values(y, batch, s->n_out, 0, 0, NULL, "the ideal outputs");
}

/* A view of chain c's layers first .. first+count−1 as a model of its own. */
static acdc_model chain_view(const acdc_compiler_system *s, size_t c)
{
    const acdc_compiler_chain *ch = &s->chains[c];
    const acdc_model *md = s->model;
    acdc_model view = {.n = s->n, .n_in = s->n, .n_out = s->n, .n_layers = ch->count,
                       .layers = md->layers + ch->first, .transform = md->transform,
                       .h = md->h, .w = md->w, .in_h = md->h, .in_w = md->w};
    return view;
}

int acdc_sim_reference_chain_work(acdc_work **out, const acdc_compiler_system *s, size_t c,
                                  size_t batch)
{
    acdc_model view = chain_view(s, c);
    return acdc_work_alloc(out, &view, batch, 0, 1, FFTW_ESTIMATE);
}

int acdc_sim_reference_chain(const acdc_compiler_system *s, size_t c, acdc_work *w, size_t batch,
                             const double *v, double *y)
{
    acdc_model view = chain_view(s, c);
    return acdc_model_forward(&view, w, batch, v, y);
}
