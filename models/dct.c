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


int acdc_plan_alloc(acdc_plan **out, size_t n, int threads, unsigned flags)
{
    *out = NULL;
    if (n == 0)
        return util_error(UTIL_EUSAGE, "transform length must be at least 1");
    if (n > (size_t)1 << 28)
        return util_error(UTIL_EUSAGE, "transform length %zu is too large", n);
    if (threads < 1)
        threads = 1;
    if (!flags)
        flags = FFTW_MEASURE;
    acdc_plan *p = calloc(1, sizeof *p);
    if (!p)
        goto nomem;
    p->n = n;
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
     * working set and to the user rows being fetched for the next pass. */
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
    for (size_t k = 0; k < n; k++) {
        p->s2[k] = 1.0 / sqrt(2.0 * (double)n);
        p->s3[k] = 1.0 / sqrt(2.0 * (double)n);
    }
    p->s2[0] = 0.5 / sqrt((double)n);
    p->s3[0] = 1.0 / sqrt((double)n);
    int failed = 0;
    /* FFTW's planner is not thread-safe: every plan and destroy goes through here. */
#pragma omp critical(acdc_fftw_planner)
    {
        /* FFTW_MEASURE overwrites the arrays while planning: plan on the scratch row. */
        p->p10 = fftw_plan_r2r_1d((int)n, p->rows[0], p->rows[0], FFTW_REDFT10, flags);
        p->p01 = fftw_plan_r2r_1d((int)n, p->rows[0], p->rows[0], FFTW_REDFT01, flags);
        /* Reading or writing user rows directly saves a copy each way; those rows may
         * have any alignment, hence FFTW_UNALIGNED.  Out-of-place r2r plans keep their
         * input intact by default. */
        double *tmp = fftw_alloc_real(n);
        if (tmp) {
            p->o10 = fftw_plan_r2r_1d((int)n, tmp, p->rows[0], FFTW_REDFT10,
                                      flags | FFTW_UNALIGNED);
            p->o01 = fftw_plan_r2r_1d((int)n, p->rows[0], tmp, FFTW_REDFT01,
                                      flags | FFTW_UNALIGNED);
            fftw_free(tmp);
        }
        failed = !p->p10 || !p->p01 || !p->o10 || !p->o01;
    }
    if (failed) {
        acdc_plan_free(p);
        return util_error(UTIL_ENOMEM, "FFTW could not plan a DCT of length %zu", n);
    }
    *out = p;
    return 0;
nomem:
    acdc_plan_free(p);
    return util_error(UTIL_ENOMEM, "out of memory planning a DCT of length %zu", n);
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
            util_error(UTIL_ENOMEM, "out of memory for %zu doubles of scratch", count);
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
