/* SPDX-License-Identifier: GPL-3.0-or-later */
/* models/dct.c -- see dct.h. */
#include "models/dct.h"
#include "util/error.h"

#include <fftw3.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

struct acdc_plan {
    size_t n;
    size_t h, w;          /* the grid: 1 × n for a 1D plan */
    int rank2;            /* 1: rank-2 plans over h × w (acdc_plan_alloc2) */
    int threads;
    fftw_plan p10, p01;   /* in place on an aligned row */
    fftw_plan o10, o01;   /* out of place, any alignment (rows of user arrays) */
    double *s2, *s3;      /* orthonormal scale vectors */
    size_t block_rows;    /* rows in each thread's block */
    size_t stride;        /* doubles from one row of a block to the next */
    double **rows;        /* one aligned block of rows per thread */
    double *scratch;      /* acdc_plan_scratch() */
    size_t scratch_cap;
};


/* Plans the in-place and out-of-place REDFT10/REDFT01 pairs: length n in 1D (exactly the
 * calls made before 2D plans existed, so 1D plans and results are unchanged), or the
 * h × w row-major grid through rank-2 plans (REDFT10 resp. REDFT01 along both axes,
 * howmany 1: the layer sends rows one at a time).  Returns non-zero if a plan failed. */
static int plan_pair(acdc_plan *p, unsigned flags)
{
    const size_t n = p->n;
    const int dims[2] = {(int)p->h, (int)p->w};
    const fftw_r2r_kind k10[2] = {FFTW_REDFT10, FFTW_REDFT10};
    const fftw_r2r_kind k01[2] = {FFTW_REDFT01, FFTW_REDFT01};
    int failed = 0;
    /* FFTW's planner is not thread-safe: every plan and destroy goes through here. */
#pragma omp critical(acdc_fftw_planner)
    {
        double *r = p->rows[0];
        /* FFTW_MEASURE overwrites the arrays while planning: plan on the scratch row. */
        if (!p->rank2) {
            p->p10 = fftw_plan_r2r_1d((int)n, r, r, FFTW_REDFT10, flags);
            p->p01 = fftw_plan_r2r_1d((int)n, r, r, FFTW_REDFT01, flags);
        } else {
            p->p10 = fftw_plan_many_r2r(2, dims, 1, r, NULL, 1, 0, r, NULL, 1, 0, k10,
                                        flags);
            p->p01 = fftw_plan_many_r2r(2, dims, 1, r, NULL, 1, 0, r, NULL, 1, 0, k01,
                                        flags);
        }
        /* Reading or writing user rows directly saves a copy each way; those rows may
         * have any alignment, hence FFTW_UNALIGNED.  Out-of-place r2r plans keep their
         * input intact by default. */
        double *tmp = fftw_alloc_real(n);
        if (tmp) {
            const unsigned u = flags | FFTW_UNALIGNED;
            if (!p->rank2) {
                p->o10 = fftw_plan_r2r_1d((int)n, tmp, r, FFTW_REDFT10, u);
                p->o01 = fftw_plan_r2r_1d((int)n, r, tmp, FFTW_REDFT01, u);
            } else {
                p->o10 = fftw_plan_many_r2r(2, dims, 1, tmp, NULL, 1, 0, r, NULL, 1, 0,
                                            k10, u);
                p->o01 = fftw_plan_many_r2r(2, dims, 1, r, NULL, 1, 0, tmp, NULL, 1, 0,
                                            k01, u);
            }
            fftw_free(tmp);
        }
        failed = !p->p10 || !p->p01 || !p->o10 || !p->o01;
    }
    return failed;
}

/* The orthonormal scale vectors of one axis of length m: s (DCT-II) and c (DCT-III). */
static void axis_scales(size_t m, double *s, double *c)
{
    for (size_t k = 0; k < m; k++) {
        s[k] = 1.0 / sqrt(2.0 * (double)m);
        c[k] = 1.0 / sqrt(2.0 * (double)m);
    }
    s[0] = 0.5 / sqrt((double)m);
    c[0] = 1.0 / sqrt((double)m);
}

/* acdc_plan_alloc() (rank2 == 0, h = 1, w = n) and acdc_plan_alloc2() (rank2 == 1). */
static int plan_alloc(acdc_plan **out, size_t h, size_t w, int rank2, int threads,
                      unsigned flags)
{
    *out = NULL;
    if (h == 0 || w == 0)
        return rank2 ? acdc_util_error(ACDC_UTIL_EUSAGE, "transform shape %zux%zu has a zero side",
                                       h, w)
                     : acdc_util_error(ACDC_UTIL_EUSAGE, "transform length must be at least 1");
    if (h > (size_t)1 << 28 || w > (size_t)1 << 28 || h * w > (size_t)1 << 28)
        return rank2 ? acdc_util_error(ACDC_UTIL_EUSAGE, "transform shape %zux%zu is too large", h,
                                       w)
                     : acdc_util_error(ACDC_UTIL_EUSAGE, "transform length %zu is too large", w);
    const size_t n = h * w;
    if (threads < 1)
        threads = 1;
    if (!flags)
        flags = FFTW_MEASURE;
    acdc_plan *p = calloc(1, sizeof *p);
    if (!p)
        goto nomem;
    p->n = n;
    p->h = h;
    p->w = w;
    p->rank2 = rank2;
    p->threads = threads;
    p->s2 = malloc(n * sizeof *p->s2);
    p->s3 = malloc(n * sizeof *p->s3);
    p->rows = calloc((size_t)threads, sizeof *p->rows);
    if (!p->s2 || !p->s3 || !p->rows)
        goto nomem;
    /* Rows start on cache lines, so every row of a block has the alignment the in-place
     * plans were made for, and one line apart from a multiple of the row length, so
     * that the same element of different rows does not fall in the same cache set when
     * n is a power of two.  A block of about 64 KiB leaves L2 to the transform's own
     * working set and to the user rows being fetched for the next pass.  A 2D plan's row
     * is the whole h × w grid, so all of this holds for it unchanged. */
    p->stride = (n + 7) / 8 * 8 + 8;
    p->block_rows = 1;
    while (p->block_rows < ACDC_BLOCK_MAX &&
           2 * p->block_rows * n * sizeof(double) <= (size_t)64 << 10)
        p->block_rows *= 2;
    for (int t = 0; t < threads; t++) {
        p->rows[t] = fftw_alloc_real(p->block_rows * p->stride);
        if (!p->rows[t])
            goto nomem;
        memset(p->rows[t], 0, p->block_rows * p->stride * sizeof(double));
    }
    if (!rank2) {
        axis_scales(n, p->s2, p->s3);
    } else {
        /* C₂ = C_h ⊗ C_w and FFTW's rank-2 REDFT10 is the product of the per-axis
         * unnormalised transforms, so the scales are the outer products s_h ⊗ s_w and
         * c_h ⊗ c_w. */
        double *sh = malloc((h + w) * sizeof *sh), *ch = malloc((h + w) * sizeof *ch);
        if (!sh || !ch) {
            free(sh);
            free(ch);
            goto nomem;
        }
        axis_scales(h, sh, ch);
        axis_scales(w, sh + h, ch + h);
        for (size_t i = 0; i < h; i++)
            for (size_t j = 0; j < w; j++) {
                p->s2[i * w + j] = sh[i] * sh[h + j];
                p->s3[i * w + j] = ch[i] * ch[h + j];
            }
        free(sh);
        free(ch);
    }
    if (plan_pair(p, flags)) {
        acdc_plan_free(p);
        return rank2 ? acdc_util_error(ACDC_UTIL_ENOMEM, "FFTW could not plan a 2D DCT of shape "
                                       "%zux%zu", h, w)
                     : acdc_util_error(ACDC_UTIL_ENOMEM, "FFTW could not plan a DCT of length %zu",
                                       n);
    }
    *out = p;
    return 0;
nomem:
    acdc_plan_free(p);
    return rank2 ? acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory planning a 2D DCT of shape "
                                   "%zux%zu", h, w)
                 : acdc_util_error(ACDC_UTIL_ENOMEM,
                                   "out of memory planning a DCT of length %zu", n);
}

int acdc_plan_alloc(acdc_plan **out, size_t n, int threads, unsigned flags)
{
    return plan_alloc(out, 1, n, 0, threads, flags);
}

int acdc_plan_alloc2(acdc_plan **out, size_t h, size_t w, int threads, unsigned flags)
{
    return plan_alloc(out, h, w, 1, threads, flags);
}

void acdc_plan_free(acdc_plan *p)
{
    if (!p)
        return;
#pragma omp critical(acdc_fftw_planner)
    {
        if (p->p10)
            fftw_destroy_plan(p->p10);
        if (p->p01)
            fftw_destroy_plan(p->p01);
        if (p->o10)
            fftw_destroy_plan(p->o10);
        if (p->o01)
            fftw_destroy_plan(p->o01);
    }
    if (p->rows)
        for (int t = 0; t < p->threads; t++)
            fftw_free(p->rows[t]);
    free(p->rows);
    free(p->scratch);
    free(p->s2);
    free(p->s3);
    free(p);
}

size_t acdc_plan_n(const acdc_plan *p) { return p->n; }
size_t acdc_plan_h(const acdc_plan *p) { return p->h; }
size_t acdc_plan_w(const acdc_plan *p) { return p->w; }
int acdc_plan_is_2d(const acdc_plan *p) { return p->rank2; }
int acdc_plan_threads(const acdc_plan *p) { return p->threads; }
const double *acdc_plan_scale2(const acdc_plan *p) { return p->s2; }
const double *acdc_plan_scale3(const acdc_plan *p) { return p->s3; }
double *acdc_plan_row(const acdc_plan *p, int t) { return p->rows[t]; }
size_t acdc_plan_block_rows(const acdc_plan *p) { return p->block_rows; }
size_t acdc_plan_stride(const acdc_plan *p) { return p->stride; }

double *acdc_plan_scratch(acdc_plan *p, size_t count)
{
    if (count > p->scratch_cap) {
        double *s = realloc(p->scratch, count * sizeof *s);
        if (!s) {
            acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for %zu doubles of scratch", count);
            return NULL;
        }
        p->scratch = s;
        p->scratch_cap = count;
    }
    return p->scratch;
}

void acdc_plan_redft10(const acdc_plan *p, double *row)
{
    fftw_execute_r2r(p->p10, row, row);
}

void acdc_plan_redft01(const acdc_plan *p, double *row)
{
    fftw_execute_r2r(p->p01, row, row);
}

void acdc_plan_redft10_from(const acdc_plan *p, const double *in, double *row)
{
    fftw_execute_r2r(p->o10, (double *)in, row);
}

void acdc_plan_redft01_to(const acdc_plan *p, double *row, double *out)
{
    fftw_execute_r2r(p->o01, row, out);
}

void acdc_dct2(const acdc_plan *p, size_t batch, const double *x, double *y)
{
    const size_t n = p->n;
#pragma omp parallel for num_threads(p->threads) schedule(static) if (batch > 1)
    for (size_t b = 0; b < batch; b++) {
        double *r = p->rows[omp_get_thread_num()];
        memcpy(r, x + b * n, n * sizeof *r);
        fftw_execute_r2r(p->p10, r, r);
        for (size_t k = 0; k < n; k++)
            y[b * n + k] = p->s2[k] * r[k];
    }
}

void acdc_dct3(const acdc_plan *p, size_t batch, const double *x, double *y)
{
    const size_t n = p->n;
#pragma omp parallel for num_threads(p->threads) schedule(static) if (batch > 1)
    for (size_t b = 0; b < batch; b++) {
        double *r = p->rows[omp_get_thread_num()];
        for (size_t k = 0; k < n; k++)
            r[k] = p->s3[k] * x[b * n + k];
        fftw_execute_r2r(p->p01, r, r);
        memcpy(y + b * n, r, n * sizeof *r);
    }
}
