/* SPDX-License-Identifier: GPL-3.0-or-later */
/* optics/field.c -- see field.h. */
#include "optics/field.h"

#include "util/error.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int optics_grid_init(optics_grid *g, int rank, size_t nx, size_t ny, double pitch_m,
                     double wavelength_m)
{
    if (!g)
        return util_error(UTIL_EUSAGE, "grid is NULL");
    g->rank = rank;
    g->nx = nx;
    g->ny = ny;
    g->pitch_m = pitch_m;
    g->wavelength_m = wavelength_m;
    return optics_grid_check(g);
}

int optics_grid_check(const optics_grid *g)
{
    if (!g)
        return util_error(UTIL_EUSAGE, "grid is NULL");
    if (g->rank != 1 && g->rank != 2)
        return util_error(UTIL_EUSAGE, "rank %d is not 1 or 2", g->rank);
    if (g->nx == 0 || g->ny == 0)
        return util_error(UTIL_EUSAGE, "grid size %zu x %zu has no samples", g->nx, g->ny);
    if (g->rank == 1 && g->ny != 1)
        return util_error(UTIL_EUSAGE, "rank-1 grid has ny = %zu, want 1", g->ny);
    if (!(isfinite(g->pitch_m) && g->pitch_m > 0))
        return util_error(UTIL_EUSAGE, "pitch %g m is not positive and finite", g->pitch_m);
    if (!(isfinite(g->wavelength_m) && g->wavelength_m > 0))
        return util_error(UTIL_EUSAGE, "wavelength %g m is not positive and finite",
                          g->wavelength_m);
    if (g->nx > SIZE_MAX / g->ny / sizeof(double complex))
        return util_error(UTIL_ENOMEM, "grid %zu x %zu is too large", g->nx, g->ny);
    return UTIL_OK;
}

size_t optics_grid_size(const optics_grid *g)
{
    return g->nx * g->ny;
}

size_t optics_axis_index(size_t m)
{
    return m / 2;
}

double optics_coord_m(size_t j, size_t m, double pitch_m)
{
    return ((double)j - (double)(m / 2)) * pitch_m;
}

int optics_field_alloc(optics_field **out, const optics_grid *g, size_t nb)
{
    if (!out)
        return util_error(UTIL_EUSAGE, "output pointer is NULL");
    *out = NULL;
    int rc = optics_grid_check(g);
    if (rc)
        return rc;
    if (nb == 0)
        return util_error(UTIL_EUSAGE, "batch of 0 fields");
    size_t n = optics_grid_size(g);
    if (nb > SIZE_MAX / n / sizeof(double complex))
        return util_error(UTIL_ENOMEM, "batch of %zu fields of %zu samples is too large",
                          nb, n);
    optics_field *f = malloc(sizeof *f);
    if (!f)
        return util_error(UTIL_ENOMEM, "cannot allocate a field");
    f->g = *g;
    f->nb = nb;
    f->data = calloc(nb * n, sizeof(double complex));
    if (!f->data) {
        free(f);
        return util_error(UTIL_ENOMEM, "cannot allocate %zu fields of %zu x %zu samples",
                          nb, g->nx, g->ny);
    }
    *out = f;
    return UTIL_OK;
}

void optics_field_free(optics_field *f)
{
    if (!f)
        return;
    free(f->data);
    free(f);
}

int optics_field_clone(optics_field **out, const optics_field *f)
{
    if (!f) {
        if (out)
            *out = NULL;
        return util_error(UTIL_EUSAGE, "field is NULL");
    }
    int rc = optics_field_alloc(out, &f->g, f->nb);
    if (rc)
        return rc;
    memcpy((*out)->data, f->data, f->nb * optics_grid_size(&f->g) * sizeof *f->data);
    return UTIL_OK;
}

int optics_grid_same(const optics_grid *a, const optics_grid *b)
{
    if (a->rank != b->rank || a->nx != b->nx || a->ny != b->ny)
        return 0;
    if (fabs(a->pitch_m - b->pitch_m) > 1e-12 * fabs(a->pitch_m))
        return 0;
    if (fabs(a->wavelength_m - b->wavelength_m) > 1e-12 * fabs(a->wavelength_m))
        return 0;
    return 1;
}

int optics_field_copy(optics_field *dst, const optics_field *src)
{
    if (!dst || !src)
        return util_error(UTIL_EUSAGE, "field is NULL");
    if (!optics_grid_same(&dst->g, &src->g) || dst->nb != src->nb)
        return util_error(UTIL_EUSAGE, "cannot copy a batch of %zu fields of %zu x %zu "
                          "into a batch of %zu fields of %zu x %zu (or pitch/wavelength "
                          "differ)", src->nb, src->g.nx, src->g.ny, dst->nb, dst->g.nx,
                          dst->g.ny);
    if (dst != src)
        memmove(dst->data, src->data, src->nb * optics_grid_size(&src->g) * sizeof *src->data);
    return UTIL_OK;
}

double complex *optics_field_slice(const optics_field *f, size_t b)
{
    if (!f || b >= f->nb)
        return NULL;
    return f->data + b * optics_grid_size(&f->g);
}

void optics_field_zero(optics_field *f)
{
    if (f)
        memset(f->data, 0, f->nb * optics_grid_size(&f->g) * sizeof *f->data);
}

int optics_field_check_finite(const optics_field *f)
{
    if (!f)
        return util_error(UTIL_EUSAGE, "field is NULL");
    size_t n = optics_grid_size(&f->g);
    for (size_t i = 0; i < f->nb * n; i++)
        if (!isfinite(creal(f->data[i])) || !isfinite(cimag(f->data[i])))
            return util_error(UTIL_EDATA, "field %zu: sample (x %zu, y %zu) is %g%+gi, "
                              "not finite", i / n, i % f->g.nx, (i % n) / f->g.nx,
                              creal(f->data[i]), cimag(f->data[i]));
    return UTIL_OK;
}

static double cell_area(const optics_grid *g)
{
    return g->rank == 2 ? g->pitch_m * g->pitch_m : g->pitch_m;
}

int optics_field_power_w(const optics_field *f, size_t b, double *power_w)
{
    if (!f || !power_w)
        return util_error(UTIL_EUSAGE, "field or result is NULL");
    if (b >= f->nb)
        return util_error(UTIL_EUSAGE, "field %zu of a batch of %zu", b, f->nb);
    const double complex *e = optics_field_slice(f, b);
    size_t n = optics_grid_size(&f->g);
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += creal(e[i]) * creal(e[i]) + cimag(e[i]) * cimag(e[i]);
    *power_w = s * cell_area(&f->g);
    return UTIL_OK;
}

int optics_field_energy_j(const optics_field *f, size_t b, double exposure_s,
                          double *energy_j)
{
    if (!(isfinite(exposure_s) && exposure_s >= 0))
        return util_error(UTIL_EUSAGE, "exposure %g s is negative or not finite",
                          exposure_s);
    double p;
    int rc = optics_field_power_w(f, b, &p);
    if (rc)
        return rc;
    if (!energy_j)
        return util_error(UTIL_EUSAGE, "result is NULL");
    *energy_j = p * exposure_s;
    return UTIL_OK;
}

int optics_field_set_power_w(optics_field *f, size_t b, double power_w)
{
    if (!(isfinite(power_w) && power_w >= 0))
        return util_error(UTIL_EUSAGE, "power %g W is negative or not finite", power_w);
    double p;
    int rc = optics_field_power_w(f, b, &p);
    if (rc)
        return rc;
    if (p == 0 && power_w > 0)
        return util_error(UTIL_EDATA, "field %zu is dark: cannot scale it to %g W", b,
                          power_w);
    double s = p > 0 ? sqrt(power_w / p) : 0;
    double complex *e = optics_field_slice(f, b);
    for (size_t i = 0; i < optics_grid_size(&f->g); i++)
        e[i] *= s;
    return UTIL_OK;
}

int optics_field_inner(const optics_field *a, const optics_field *b,
                       double complex *result)
{
    if (!a || !b || !result)
        return util_error(UTIL_EUSAGE, "field or result is NULL");
    if (!optics_grid_same(&a->g, &b->g) || a->nb != b->nb)
        return util_error(UTIL_EUSAGE, "inner product of fields on different grids");
    size_t n = a->nb * optics_grid_size(&a->g);
    double complex s = 0;
    for (size_t i = 0; i < n; i++)
        s += conj(a->data[i]) * b->data[i];
    *result = s * cell_area(&a->g);
    return UTIL_OK;
}
