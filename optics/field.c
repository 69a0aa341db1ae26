/* SPDX-License-Identifier: GPL-3.0-or-later */
/* optics/field.c -- see field.h. */
#include "optics/field.h"

#include "util/error.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int acdc_optics_grid_init(acdc_optics_grid *g, int rank, size_t nx, size_t ny, double pitch_m,
                          double wavelength_m)
{
    if (!g)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "grid is NULL");
    g->rank = rank;
    g->nx = nx;
    g->ny = ny;
    g->pitch_m = pitch_m;
    g->wavelength_m = wavelength_m;
    return acdc_optics_grid_check(g);
}

int acdc_optics_grid_check(const acdc_optics_grid *g)
{
    if (!g)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "grid is NULL");
    if (g->rank != 1 && g->rank != 2)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "rank %d is not 1 or 2", g->rank);
    if (g->nx == 0 || g->ny == 0)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "grid size %zu x %zu has no samples",
                               g->nx, g->ny);
    if (g->rank == 1 && g->ny != 1)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "rank-1 grid has ny = %zu, want 1", g->ny);
    if (!(isfinite(g->pitch_m) && g->pitch_m > 0))
        return acdc_util_error(ACDC_UTIL_EUSAGE,
                               "pitch %g m is not positive and finite", g->pitch_m);
    if (!(isfinite(g->wavelength_m) && g->wavelength_m > 0))
        return acdc_util_error(ACDC_UTIL_EUSAGE, "wavelength %g m is not positive and finite",
                               g->wavelength_m);
    if (g->nx > SIZE_MAX / g->ny / sizeof(double complex))
        return acdc_util_error(ACDC_UTIL_ENOMEM, "grid %zu x %zu is too large", g->nx, g->ny);
    return ACDC_UTIL_OK;
}

size_t acdc_optics_grid_size(const acdc_optics_grid *g)
{
    return g->nx * g->ny;
}

size_t acdc_optics_axis_index(size_t m)
{
    return m / 2;
}

double acdc_optics_coord_m(size_t j, size_t m, double pitch_m)
{
    return ((double)j - (double)(m / 2)) * pitch_m;
}

int acdc_optics_field_alloc(acdc_optics_field **out, const acdc_optics_grid *g, size_t nb)
{
    if (!out)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "output pointer is NULL");
    *out = NULL;
    int rc = acdc_optics_grid_check(g);
    if (rc)
        return rc;
    if (nb == 0)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "batch of 0 fields");
    size_t n = acdc_optics_grid_size(g);
    if (nb > SIZE_MAX / n / sizeof(double complex))
        return acdc_util_error(ACDC_UTIL_ENOMEM, "batch of %zu fields of %zu samples is too large",
                               nb, n);
    acdc_optics_field *f = malloc(sizeof *f);
    if (!f)
        return acdc_util_error(ACDC_UTIL_ENOMEM, "cannot allocate a field");
    f->g = *g;
    f->nb = nb;
    f->data = calloc(nb * n, sizeof(double complex));
    if (!f->data) {
        free(f);
        return acdc_util_error(ACDC_UTIL_ENOMEM, "cannot allocate %zu fields of %zu x %zu samples",
                               nb, g->nx, g->ny);
    }
    *out = f;
    return ACDC_UTIL_OK;
}

void acdc_optics_field_free(acdc_optics_field *f)
{
    if (!f)
        return;
    free(f->data);
    free(f);
}

int acdc_optics_field_clone(acdc_optics_field **out, const acdc_optics_field *f)
{
    if (!f) {
        if (out)
            *out = NULL;
        return acdc_util_error(ACDC_UTIL_EUSAGE, "field is NULL");
    }
    int rc = acdc_optics_field_alloc(out, &f->g, f->nb);
    if (rc)
        return rc;
    memcpy((*out)->data, f->data, f->nb * acdc_optics_grid_size(&f->g) * sizeof *f->data);
    return ACDC_UTIL_OK;
}

int acdc_optics_grid_same(const acdc_optics_grid *a, const acdc_optics_grid *b)
{
    if (a->rank != b->rank || a->nx != b->nx || a->ny != b->ny)
        return 0;
    if (fabs(a->pitch_m - b->pitch_m) > 1e-12 * fabs(a->pitch_m))
        return 0;
    if (fabs(a->wavelength_m - b->wavelength_m) > 1e-12 * fabs(a->wavelength_m))
        return 0;
    return 1;
}

int acdc_optics_field_copy(acdc_optics_field *dst, const acdc_optics_field *src)
{
    if (!dst || !src)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "field is NULL");
    if (!acdc_optics_grid_same(&dst->g, &src->g) || dst->nb != src->nb)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "cannot copy a batch of %zu fields of %zu x %zu "
                               "into a batch of %zu fields of %zu x %zu (or pitch/wavelength "
                               "differ)", src->nb, src->g.nx, src->g.ny, dst->nb, dst->g.nx,
                               dst->g.ny);
    if (dst != src)
        memmove(dst->data, src->data, src->nb * acdc_optics_grid_size(&src->g) * sizeof *src->data);
    return ACDC_UTIL_OK;
}

double complex *acdc_optics_field_slice(const acdc_optics_field *f, size_t b)
{
    if (!f || b >= f->nb)
        return NULL;
    return f->data + b * acdc_optics_grid_size(&f->g);
}

void acdc_optics_field_zero(acdc_optics_field *f)
{
    if (!f)
        return;
    const size_t n = acdc_optics_grid_size(&f->g);
#pragma omp parallel for schedule(static) if (f->nb > 1 && n >= 4096)
    for (size_t b = 0; b < f->nb; b++)
        memset(f->data + b * n, 0, n * sizeof *f->data);
}

int acdc_optics_field_check_finite(const acdc_optics_field *f)
{
    if (!f)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "field is NULL");
    size_t n = acdc_optics_grid_size(&f->g);
    for (size_t i = 0; i < f->nb * n; i++)
        if (!isfinite(creal(f->data[i])) || !isfinite(cimag(f->data[i])))
            return acdc_util_error(ACDC_UTIL_EDATA, "field %zu: sample (x %zu, y %zu) is %g%+gi, "
                                   "not finite", i / n, i % f->g.nx, (i % n) / f->g.nx,
                                   creal(f->data[i]), cimag(f->data[i]));
    return ACDC_UTIL_OK;
}

static double cell_area(const acdc_optics_grid *g)
{
    return g->rank == 2 ? g->pitch_m * g->pitch_m : g->pitch_m;
}

int acdc_optics_field_power_w(const acdc_optics_field *f, size_t b, double *power_w)
{
    if (!f || !power_w)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "field or result is NULL");
    if (b >= f->nb)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "field %zu of a batch of %zu", b, f->nb);
    const double complex *e = acdc_optics_field_slice(f, b);
    size_t n = acdc_optics_grid_size(&f->g);
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += creal(e[i]) * creal(e[i]) + cimag(e[i]) * cimag(e[i]);
    *power_w = s * cell_area(&f->g);
    return ACDC_UTIL_OK;
}

int acdc_optics_field_energy_j(const acdc_optics_field *f, size_t b, double exposure_s,
                               double *energy_j)
{
    if (!(isfinite(exposure_s) && exposure_s >= 0))
        return acdc_util_error(ACDC_UTIL_EUSAGE, "exposure %g s is negative or not finite",
                               exposure_s);
    double p;
    int rc = acdc_optics_field_power_w(f, b, &p);
    if (rc)
        return rc;
    if (!energy_j)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "result is NULL");
    *energy_j = p * exposure_s;
    return ACDC_UTIL_OK;
}

int acdc_optics_field_set_power_w(acdc_optics_field *f, size_t b, double power_w)
{
    if (!(isfinite(power_w) && power_w >= 0))
        return acdc_util_error(ACDC_UTIL_EUSAGE, "power %g W is negative or not finite", power_w);
    double p;
    int rc = acdc_optics_field_power_w(f, b, &p);
    if (rc)
        return rc;
    if (p == 0 && power_w > 0)
        return acdc_util_error(ACDC_UTIL_EDATA, "field %zu is dark: cannot scale it to %g W", b,
                               power_w);
    double s = p > 0 ? sqrt(power_w / p) : 0;
    double complex *e = acdc_optics_field_slice(f, b);
    for (size_t i = 0; i < acdc_optics_grid_size(&f->g); i++)
        e[i] *= s;
    return ACDC_UTIL_OK;
}

int acdc_optics_field_inner(const acdc_optics_field *a, const acdc_optics_field *b,
                            double complex *result)
{
    if (!a || !b || !result)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "field or result is NULL");
    if (!acdc_optics_grid_same(&a->g, &b->g) || a->nb != b->nb)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "inner product of fields on different grids");
    size_t n = a->nb * acdc_optics_grid_size(&a->g);
    double complex s = 0;
    for (size_t i = 0; i < n; i++)
        s += conj(a->data[i]) * b->data[i];
    *result = s * cell_area(&a->g);
    return ACDC_UTIL_OK;
}
