/* SPDX-License-Identifier: GPL-3.0-or-later */
/* optics/element.c -- see element.h. */
#include "optics/element.h"

#include "optics/device.h"
#include "optics/propagate.h"
#include "util/error.h"

#include <gsl/gsl_sf_expint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum kind { LENS, RECT, CIRC, MASK };

struct acdc_optics_element {
    enum kind kind;
    acdc_optics_lens lens;               /* LENS: the lens (optics/lens.h) */
    double stop_m;                  /* LENS: diameter of its stop, 0 = none */
    double wx_m, wy_m;              /* RECT */
    double d_m;                     /* CIRC */
    size_t npx, npy;                /* MASK */
    double pitch_m, fill;
    double complex *t, dead;
    double sx_m, sy_m, sz_m;        /* offsets */
    acdc_optics_prop *fwd;               /* cached +dz propagation for grid pg */
    acdc_optics_grid pg;
};

static int new_element(acdc_optics_element **out, enum kind k)
{
    if (!out)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "output pointer is NULL");
    *out = calloc(1, sizeof **out);
    if (!*out)
        return acdc_util_error(ACDC_UTIL_ENOMEM, "cannot allocate an element");
    (*out)->kind = k;
    return ACDC_UTIL_OK;
}

int acdc_optics_lens_element_alloc(acdc_optics_element **out, const acdc_optics_lens *lens,
                                   double stop_m)
{
    if (out)
        *out = NULL;
    int rc = acdc_optics_lens_check(lens);
    if (rc)
        return rc;
    if (!(isfinite(stop_m) && stop_m >= 0))
        return acdc_util_error(ACDC_UTIL_EUSAGE,
                               "lens stop %g m is negative or not finite", stop_m);
    if ((rc = new_element(out, LENS)))
        return rc;
    (*out)->lens = *lens;
    (*out)->stop_m = stop_m;
    return ACDC_UTIL_OK;
}

int acdc_optics_thin_lens_alloc(acdc_optics_element **out, double focal_m, double aperture_m)
{
    if (out)
        *out = NULL;
    if (!(isfinite(focal_m) && focal_m != 0))
        return acdc_util_error(ACDC_UTIL_EUSAGE,
                               "focal length %g m is zero or not finite", focal_m);
    if (!(isfinite(aperture_m) && aperture_m >= 0))
        return acdc_util_error(ACDC_UTIL_EUSAGE, "lens aperture %g m is negative or not finite",
                               aperture_m);
    const acdc_optics_lens thin = {.name = "thin lens", .model = ACDC_OPTICS_LENS_PARAXIAL,
                                   .focal_m = focal_m};
    return acdc_optics_lens_element_alloc(out, &thin, aperture_m);
}

int acdc_optics_aperture_rect_alloc(acdc_optics_element **out, double width_x_m, double width_y_m)
{
    if (out)
        *out = NULL;
    if (!(isfinite(width_x_m) && width_x_m > 0 && isfinite(width_y_m) && width_y_m > 0))
        return acdc_util_error(ACDC_UTIL_EUSAGE, "aperture %g m x %g m is not positive and finite",
                               width_x_m, width_y_m);
    int rc = new_element(out, RECT);
    if (rc)
        return rc;
    (*out)->wx_m = width_x_m;
    (*out)->wy_m = width_y_m;
    return ACDC_UTIL_OK;
}

int acdc_optics_aperture_circ_alloc(acdc_optics_element **out, double diameter_m)
{
    if (out)
        *out = NULL;
    if (!(isfinite(diameter_m) && diameter_m > 0))
        return acdc_util_error(ACDC_UTIL_EUSAGE,
                               "aperture diameter %g m is not positive and finite",
                               diameter_m);
    int rc = new_element(out, CIRC);
    if (rc)
        return rc;
    (*out)->d_m = diameter_m;
    return ACDC_UTIL_OK;
}

static int check_mask_geometry(size_t npx, size_t npy, double pitch_m, double fill)
{
    if (npx == 0 || npy == 0)
        return acdc_util_error(ACDC_UTIL_EUSAGE,
                               "mask of %zu x %zu pixels has no pixels", npx, npy);
    if (npx > ((size_t)-1) / npy / sizeof(double complex))
        return acdc_util_error(ACDC_UTIL_ENOMEM, "mask of %zu x %zu pixels is too large", npx, npy);
    if (!(isfinite(pitch_m) && pitch_m > 0))
        return acdc_util_error(ACDC_UTIL_EUSAGE, "mask pitch %g m is not positive and finite",
                               pitch_m);
    if (!(fill > 0 && fill <= 1))
        return acdc_util_error(ACDC_UTIL_EUSAGE, "fill factor %g is not in (0, 1]", fill);
    return ACDC_UTIL_OK;
}

int acdc_optics_mask_alloc(acdc_optics_element **out, size_t npx, size_t npy, double pitch_m,
                           double fill, const double complex *t, double complex dead)
{
    if (out)
        *out = NULL;
    int rc = check_mask_geometry(npx, npy, pitch_m, fill);
    if (rc)
        return rc;
    if (!t)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "mask values are NULL");
    if (!(isfinite(creal(dead)) && isfinite(cimag(dead)) && cabs(dead) <= 1 + 1e-12))
        return acdc_util_error(ACDC_UTIL_EUSAGE, "dead-space transmittance %g%+gi is not finite "
                               "with modulus <= 1", creal(dead), cimag(dead));
    for (size_t i = 0; i < npx * npy; i++)
        if (!(isfinite(creal(t[i])) && isfinite(cimag(t[i])) && cabs(t[i]) <= 1 + 1e-12))
            return acdc_util_error(ACDC_UTIL_EUSAGE, "mask pixel (%zu, %zu) transmits %g%+gi: not "
                                   "finite or |t| > 1 (a passive device cannot amplify)",
                                   i % npx, i / npx, creal(t[i]), cimag(t[i]));
    if ((rc = new_element(out, MASK)))
        return rc;
    acdc_optics_element *e = *out;
    e->npx = npx;
    e->npy = npy;
    e->pitch_m = pitch_m;
    e->fill = fill;
    e->dead = dead;
    e->t = malloc(npx * npy * sizeof *e->t);
    if (!e->t) {
        free(e);
        *out = NULL;
        return acdc_util_error(ACDC_UTIL_ENOMEM, "cannot allocate a mask of %zu x %zu", npx, npy);
    }
    memcpy(e->t, t, npx * npy * sizeof *t);
    return ACDC_UTIL_OK;
}

static int check_bits(int bits, int allow_zero)
{
    if (bits < (allow_zero ? 0 : 1) || bits > 24)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "%d bits is outside %d..24", bits,
                               allow_zero ? 0 : 1);
    return ACDC_UTIL_OK;
}

int acdc_optics_quantise_phase(double *phase_rad, size_t n, int bits)
{
    int rc = check_bits(bits, 0);
    if (rc)
        return rc;
    if (bits == 0)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "0 bits is outside 1..24");
    if (!phase_rad && n)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "phases are NULL");
    for (size_t i = 0; i < n; i++)
        if (!isfinite(phase_rad[i]))
            return acdc_util_error(ACDC_UTIL_EUSAGE, "phase %zu is %g, not finite", i,
                                   phase_rad[i]);
    for (size_t i = 0; i < n; i++)
        phase_rad[i] = acdc_optics_phase_of_level(acdc_optics_phase_level(phase_rad[i], bits), bits);
    return ACDC_UTIL_OK;
}

int acdc_optics_quantise_amplitude(double *a, size_t n, int bits)
{
    int rc = check_bits(bits, 0);
    if (rc)
        return rc;
    if (bits == 0)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "0 bits is outside 1..24");
    if (!a && n)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "amplitudes are NULL");
    for (size_t i = 0; i < n; i++)
        if (!(a[i] >= 0 && a[i] <= 1))
            return acdc_util_error(ACDC_UTIL_EUSAGE,
                                   "amplitude %zu is %g, outside [0, 1]", i, a[i]);
    for (size_t i = 0; i < n; i++)
        a[i] = acdc_optics_amplitude_of_level(acdc_optics_amplitude_level(a[i], bits), bits);
    return ACDC_UTIL_OK;
}

static int mask_from_real(acdc_optics_element **out, size_t npx, size_t npy, double pitch_m,
                          double fill, const double *v, int bits, double complex dead,
                          int phase)
{
    if (out)
        *out = NULL;
    int rc = check_mask_geometry(npx, npy, pitch_m, fill);
    if (!rc)
        rc = check_bits(bits, 1);
    if (rc)
        return rc;
    if (!v)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "mask values are NULL");
    size_t n = npx * npy;
    double *q = malloc(n * sizeof *q);
    double complex *t = malloc(n * sizeof *t);
    if (!q || !t) {
        free(q);
        free(t);
        return acdc_util_error(ACDC_UTIL_ENOMEM, "cannot allocate a mask of %zu x %zu", npx, npy);
    }
    memcpy(q, v, n * sizeof *q);
    for (size_t i = 0; !rc && i < n; i++)
        if (!isfinite(q[i]) || (!phase && !(q[i] >= 0 && q[i] <= 1)))
            rc = acdc_util_error(ACDC_UTIL_EUSAGE, "mask pixel (%zu, %zu) is %g: %s", i % npx,
                                 i / npx, q[i], phase ? "not finite" : "outside [0, 1]");
    if (!rc && bits > 0)
        rc = phase ? acdc_optics_quantise_phase(q, n, bits)
                   : acdc_optics_quantise_amplitude(q, n, bits);
    if (!rc) {
        for (size_t i = 0; i < n; i++)
            t[i] = phase ? cos(q[i]) + I * sin(q[i]) : q[i];
        rc = acdc_optics_mask_alloc(out, npx, npy, pitch_m, fill, t, dead);
    }
    free(q);
    free(t);
    return rc;
}

int acdc_optics_mask_amplitude_alloc(acdc_optics_element **out, size_t npx, size_t npy,
                                     double pitch_m, double fill, const double *a, int bits,
                                     double complex dead)
{
    return mask_from_real(out, npx, npy, pitch_m, fill, a, bits, dead, 0);
}

int acdc_optics_mask_phase_alloc(acdc_optics_element **out, size_t npx, size_t npy, double pitch_m,
                                 double fill, const double *phase_rad, int bits,
                                 double complex dead)
{
    return mask_from_real(out, npx, npy, pitch_m, fill, phase_rad, bits, dead, 1);
}

void acdc_optics_element_free(acdc_optics_element *e)
{
    if (!e)
        return;
    free(e->t);
    acdc_optics_prop_free(e->fwd);
    free(e);
}

int acdc_optics_element_set_offset(acdc_optics_element *e, double dx_m, double dy_m, double dz_m)
{
    if (!e)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "element is NULL");
    if (!(isfinite(dx_m) && isfinite(dy_m) && isfinite(dz_m)))
        return acdc_util_error(ACDC_UTIL_EUSAGE, "offset (%g, %g, %g) m is not finite", dx_m, dy_m,
                               dz_m);
    e->sx_m = dx_m;
    e->sy_m = dy_m;
    if (e->sz_m != dz_m) {
        acdc_optics_prop_free(e->fwd);
        e->fwd = NULL;
    }
    e->sz_m = dz_m;
    return ACDC_UTIL_OK;
}

/* Transmittance at a point in the element's own frame. */
static double complex t_at(const acdc_optics_element *e, double x, double y, int rank,
                           double k)
{
    switch (e->kind) {
    case LENS:
        if (e->stop_m > 0 && 4 * (x * x + y * y) > e->stop_m * e->stop_m)
            return 0;
        return acdc_optics_lens_transmittance(&e->lens, rank, k, x, y);
    case RECT:
        return fabs(x) <= e->wx_m / 2 && (rank == 1 || fabs(y) <= e->wy_m / 2) ? 1 : 0;
    case CIRC:
        return 4 * (x * x + y * y) <= e->d_m * e->d_m ? 1 : 0;
    case MASK: {
        /* pixel i covers [(i - c - 1/2) p, (i - c + 1/2) p) */
        double u = x / e->pitch_m + (double)(e->npx / 2) + 0.5;
        double v = rank == 1 ? 0.5 : y / e->pitch_m + (double)(e->npy / 2) + 0.5;
        if (!(u >= 0 && u < (double)e->npx && v >= 0 && v < (double)e->npy))
            return e->dead;
        double fu = u - floor(u) - 0.5, fv = v - floor(v) - 0.5;   /* in [-1/2, 1/2) */
        double h = e->fill / 2;
        if (fabs(fu) > h || (rank == 2 && fabs(fv) > h))
            return e->dead;
        return e->t[(size_t)v * e->npx + (size_t)u];
    }
    }
    return 0;
}

int acdc_optics_element_sample(const acdc_optics_element *e, const acdc_optics_grid *g,
                               int oversample,
                               double complex *t)
{
    if (!e || !t)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "element or output is NULL");
    int rc = acdc_optics_grid_check(g);
    if (rc)
        return rc;
    if (oversample < 0 || oversample > 1024)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "oversampling %d is outside 0..1024", oversample);
    double p = g->pitch_m, k = 2 * M_PI / g->wavelength_m;
    if (oversample == 0) {
        /* band-limited sampling: the aperture convolved with the ideal low-pass of the
         * grid, sinc(x/p)/p, so that the samples' DFT is the aperture's spectrum cut at
         * Nyquist rather than that spectrum aliased.  For a slit of width a:
         * t(x) = [Si(pi (x + a/2)/p) - Si(pi (x - a/2)/p)] / pi. */
        int slit = e->kind == CIRC && g->rank == 1;
        if (e->kind != RECT && !slit)
            return acdc_util_error(ACDC_UTIL_EUSAGE, "band-limited sampling (oversample 0) is "
                                   "available for rectangular apertures and rank-1 slits only");
        double ax = slit ? e->d_m : e->wx_m, ay = e->wy_m;
        double *tx = malloc(g->nx * sizeof *tx), *ty = malloc(g->ny * sizeof *ty);
        if (!tx || !ty) {
            free(tx);
            free(ty);
            return acdc_util_error(ACDC_UTIL_ENOMEM, "cannot allocate aperture profiles");
        }
        for (size_t i = 0; i < g->nx; i++) {
            double x = acdc_optics_coord_m(i, g->nx, p) - e->sx_m;
            tx[i] = (gsl_sf_Si(M_PI * (x + ax / 2) / p) - gsl_sf_Si(M_PI * (x - ax / 2) / p)) / M_PI;
        }
        for (size_t i = 0; i < g->ny; i++) {
            double y = acdc_optics_coord_m(i, g->ny, p) - e->sy_m;
            ty[i] = g->rank == 1 ? 1 :
                (gsl_sf_Si(M_PI * (y + ay / 2) / p) - gsl_sf_Si(M_PI * (y - ay / 2) / p)) / M_PI;
        }
        for (size_t iy = 0; iy < g->ny; iy++)
            for (size_t ix = 0; ix < g->nx; ix++)
                t[iy * g->nx + ix] = tx[ix] * ty[iy];
        free(tx);
        free(ty);
        return ACDC_UTIL_OK;
    }
    int os = oversample, osy = g->rank == 2 ? os : 1;
    double w = 1.0 / ((double)os * osy);
#pragma omp parallel for schedule(static)
    for (long iy = 0; iy < (long)g->ny; iy++) {
        double y0 = g->rank == 2 ? acdc_optics_coord_m((size_t)iy, g->ny, p) : 0;
        for (size_t ix = 0; ix < g->nx; ix++) {
            double x0 = acdc_optics_coord_m(ix, g->nx, p);
            double complex s = 0;
            for (int sy = 0; sy < osy; sy++) {
                double y = g->rank == 2 ? y0 + ((sy + 0.5) / os - 0.5) * p : 0;
                for (int sx = 0; sx < os; sx++) {
                    double x = x0 + ((sx + 0.5) / os - 0.5) * p;
                    s += t_at(e, x - e->sx_m, y - e->sy_m, g->rank, k);
                }
            }
            t[(size_t)iy * g->nx + ix] = s * w;
        }
    }
    return ACDC_UTIL_OK;
}

int acdc_optics_field_multiply(acdc_optics_field *f, const double complex *t)
{
    if (!f || !t)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "field or transmittance is NULL");
    size_t n = acdc_optics_grid_size(&f->g);
#pragma omp parallel for schedule(static)
    for (long b = 0; b < (long)f->nb; b++) {
        double complex *d = f->data + (size_t)b * n;
        for (size_t i = 0; i < n; i++)
            d[i] = acdc_optics_cmul(d[i], t[i]);
    }
    return ACDC_UTIL_OK;
}

int acdc_optics_element_apply(acdc_optics_element *e, acdc_optics_field *f, int oversample)
{
    if (!e || !f)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "element or field is NULL");
    int rc = acdc_optics_grid_check(&f->g);
    if (rc)
        return rc;
    double complex *t = malloc(acdc_optics_grid_size(&f->g) * sizeof *t);
    if (!t)
        return acdc_util_error(ACDC_UTIL_ENOMEM, "cannot allocate a transmittance of %zu samples",
                               acdc_optics_grid_size(&f->g));
    rc = acdc_optics_element_sample(e, &f->g, oversample, t);
    if (!rc && e->sz_m != 0) {
        if (e->fwd && !acdc_optics_grid_same(&e->pg, &f->g)) {
            acdc_optics_prop_free(e->fwd);
            e->fwd = NULL;
        }
        if (!e->fwd) {
            rc = acdc_optics_prop_alloc(&e->fwd, &f->g, e->sz_m, ACDC_OPTICS_ASM_BL);
            e->pg = f->g;
        }
        if (!rc)
            rc = acdc_optics_prop_apply(e->fwd, f, f);
        if (!rc)
            rc = acdc_optics_field_multiply(f, t);
        /* back by -dz: the adjoint of the band-limited +dz propagation is the
         * band-limited -dz propagation (conjugate transfer function) */
        if (!rc)
            rc = acdc_optics_prop_adjoint(e->fwd, f, f);
    } else if (!rc) {
        rc = acdc_optics_field_multiply(f, t);
    }
    free(t);
    return rc;
}
