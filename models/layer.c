/* models/layer.c -- see layer.h. */
#include "models/layer.h"
#include "util/error.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* Asks for a row of n doubles to be brought into cache while the FFT of the current row
 * computes: the layer's element-wise passes are bound by memory bandwidth, the FFT by
 * arithmetic, so overlapping the two hides most of the former. */
static inline void prefetch(const double *v, size_t n)
{
    for (size_t i = 0; i < n; i += 8)
        __builtin_prefetch(v + i, 0, 3);
}

/* Precomputed products for one call: sd = s3 ⊙ d and sdb = s3 ⊙ d_bias fold the DCT-III
 * scale into the Fourier-domain diagonal, so each row needs one fused pass per domain. */
static int products(const acdc_layer *L, acdc_plan *p, double **sd, double **sdb)
{
    const size_t n = acdc_plan_n(p);
    const double *s3 = acdc_plan_scale3(p);
    double *w = acdc_plan_scratch(p, 2 * n);
    if (!w)
        return UTIL_ENOMEM;
    *sd = w;
    *sdb = w + n;
    for (size_t k = 0; k < n; k++) {
        w[k] = s3[k] * L->d[k];
        w[n + k] = L->d_bias ? s3[k] * L->d_bias[k] : 0.0;
    }
    return UTIL_OK;
}

int acdc_layer_forward(const acdc_layer *L, acdc_plan *p, size_t batch, const double *x,
                       double *z, double *h2)
{
    const size_t n = acdc_plan_n(p);
    const double *restrict s2 = acdc_plan_scale2(p);
    const double *restrict a = L->a;
    const double *ab = L->a_bias;
    double *sd, *sdb;
    if (products(L, p, &sd, &sdb))
        return UTIL_ENOMEM;

    /* One row at a time through a cache-resident buffer: the element-wise products fuse
     * with the copies in and out, so the layer costs little more than its two DCTs. */
#pragma omp parallel for num_threads(acdc_plan_threads(p)) schedule(static) if (batch > 1)
    for (size_t b = 0; b < batch; b++) {
        double *restrict r = acdc_plan_row(p, omp_get_thread_num());
        const double *restrict xr = x + b * n;
        if (ab) {
#pragma omp simd
            for (size_t j = 0; j < n; j++)
                r[j] = a[j] * xr[j] + ab[j];
        } else {
#pragma omp simd
            for (size_t j = 0; j < n; j++)
                r[j] = a[j] * xr[j];
        }
        if (b + 1 < batch)
            prefetch(x + (b + 1) * n, n);
        acdc_plan_redft10(p, r);
        if (h2) {
            double *restrict hr = h2 + b * n;
#pragma omp simd
            for (size_t k = 0; k < n; k++) {
                double v = s2[k] * r[k];
                hr[k] = v;
                r[k] = sd[k] * v + sdb[k];
            }
        } else {
#pragma omp simd
            for (size_t k = 0; k < n; k++)
                r[k] = sd[k] * (s2[k] * r[k]) + sdb[k];
        }
        acdc_plan_redft01_to(p, r, z + b * n);
    }
    return UTIL_OK;
}

/* Rows per block of the gradient sums.  Fixed, so the summation order (and hence every
 * rounding) is the same whatever the number of threads. */
#define BLOCK 16

int acdc_layer_backward(const acdc_layer *L, acdc_plan *p, size_t batch, const double *x,
                        const double *h2, const double *dz, double *dx, acdc_grad *g)
{
    const size_t n = acdc_plan_n(p);
    const double *restrict s2 = acdc_plan_scale2(p);
    const double *restrict a = L->a;
    const size_t nblk = (batch + BLOCK - 1) / BLOCK;
    const int need_a = g && (g->a || g->a_bias);
    const int need_d = g && (g->d || g->d_bias);
    /* Scratch: sd, sdb (2n), then per-block partial sums [blk][4][n]. */
    double *w = acdc_plan_scratch(p, 2 * n + (g ? nblk * 4 * n : 0));
    if (!w)
        return UTIL_ENOMEM;
    double *sd, *sdb;
    products(L, p, &sd, &sdb);
    double *part = g ? w + 2 * n : NULL;
    if (part)
        memset(part, 0, nblk * 4 * n * sizeof *part);

#pragma omp parallel for num_threads(acdc_plan_threads(p)) schedule(static) if (nblk > 1)
    for (size_t blk = 0; blk < nblk; blk++) {
        double *restrict r = acdc_plan_row(p, omp_get_thread_num());
        double *restrict pd = part ? part + blk * 4 * n : NULL;
        double *restrict pdb = pd ? pd + n : NULL;
        double *restrict pa = pd ? pd + 2 * n : NULL;
        double *restrict pab = pd ? pd + 3 * n : NULL;
        size_t end = (blk + 1) * BLOCK < batch ? (blk + 1) * BLOCK : batch;
        for (size_t b = blk * BLOCK; b < end; b++) {
            const double *restrict hr = h2 + b * n;
            prefetch(hr, n);
            acdc_plan_redft10_from(p, dz + b * n, r);
            prefetch(x + b * n, n);
            if (b + 1 < end)
                prefetch(dz + (b + 1) * n, n);
            if (need_d) {
#pragma omp simd
                for (size_t k = 0; k < n; k++) {
                    double t = s2[k] * r[k];
                    pd[k] += hr[k] * t;
                    pdb[k] += t;
                    r[k] = sd[k] * t;
                }
            } else {
#pragma omp simd
                for (size_t k = 0; k < n; k++)
                    r[k] = sd[k] * (s2[k] * r[k]);
            }
            acdc_plan_redft01(p, r);
            const double *restrict xr = x + b * n;
            if (need_a) {
#pragma omp simd
                for (size_t j = 0; j < n; j++) {
                    pa[j] += xr[j] * r[j];
                    pab[j] += r[j];
                }
            }
            if (dx) {
                double *restrict dr = dx + b * n;
#pragma omp simd
                for (size_t j = 0; j < n; j++)
                    dr[j] = a[j] * r[j];
            }
        }
    }
    if (!part)
        return UTIL_OK;
    for (size_t blk = 0; blk < nblk; blk++) {
        const double *pd = part + blk * 4 * n;
        for (size_t k = 0; k < n; k++) {
            if (g->d)
                g->d[k] += pd[k];
            if (g->d_bias)
                g->d_bias[k] += pd[n + k];
            if (g->a)
                g->a[k] += pd[2 * n + k];
            if (g->a_bias)
                g->a_bias[k] += pd[3 * n + k];
        }
    }
    return UTIL_OK;
}
