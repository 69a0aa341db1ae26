/* models/layer.c -- see layer.h. */
#include "models/layer.h"
#include "util/error.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

void acdc_layer_forward(const acdc_layer *L, const acdc_plan *p, size_t batch,
                        const double *x, double *z, double *h2)
{
    const size_t n = acdc_plan_n(p);
    const double *s2 = acdc_plan_scale2(p), *s3 = acdc_plan_scale3(p);
    const double *a = L->a, *d = L->d, *ab = L->a_bias, *db = L->d_bias;

    /* One row at a time through a cache-resident buffer: the element-wise products fuse
     * with the copies in and out, so the layer costs little more than its two DCTs. */
#pragma omp parallel for num_threads(acdc_plan_threads(p)) schedule(static) if (batch > 1)
    for (size_t b = 0; b < batch; b++) {
        double *r = acdc_plan_row(p, omp_get_thread_num());
        const double *xr = x + b * n;
        if (ab)
            for (size_t j = 0; j < n; j++)
                r[j] = a[j] * xr[j] + ab[j];
        else
            for (size_t j = 0; j < n; j++)
                r[j] = a[j] * xr[j];
        acdc_plan_redft10(p, r);
        double *hr = h2 ? h2 + b * n : NULL;
        for (size_t k = 0; k < n; k++) {
            double v = s2[k] * r[k];
            if (hr)
                hr[k] = v;
            v = d[k] * v;
            if (db)
                v += db[k];
            r[k] = s3[k] * v;
        }
        acdc_plan_redft01(p, r);
        memcpy(z + b * n, r, n * sizeof *r);
    }
}

/* Rows per block of the gradient sums.  Fixed, so the summation order (and hence every
 * rounding) is the same whatever the number of threads. */
#define BLOCK 16

int acdc_layer_backward(const acdc_layer *L, acdc_plan *p, size_t batch,
                         const double *x, const double *h2, const double *dz, double *dx,
                         acdc_grad *g)
{
    const size_t n = acdc_plan_n(p);
    const double *s2 = acdc_plan_scale2(p), *s3 = acdc_plan_scale3(p);
    const double *a = L->a, *d = L->d;
    const size_t nblk = (batch + BLOCK - 1) / BLOCK;
    const int need_a = g && (g->a || g->a_bias);
    const int need_d = g && (g->d || g->d_bias);
    /* Per-block partial sums: [blk][4][n] for d, d_bias, a, a_bias. */
    double *part = NULL;
    if (g && nblk) {
        part = acdc_plan_scratch(p, nblk * 4 * n);
        if (!part)
            return UTIL_ENOMEM;
        memset(part, 0, nblk * 4 * n * sizeof *part);
    }
    const int have_part = part != NULL;

#pragma omp parallel for num_threads(acdc_plan_threads(p)) schedule(static) if (nblk > 1)
    for (size_t blk = 0; blk < nblk; blk++) {
        double *r = acdc_plan_row(p, omp_get_thread_num());
        double *pd = have_part ? part + blk * 4 * n : NULL;
        double *pdb = pd ? pd + n : NULL, *pa = pd ? pd + 2 * n : NULL;
        double *pab = pd ? pd + 3 * n : NULL;
        size_t end = (blk + 1) * BLOCK < batch ? (blk + 1) * BLOCK : batch;
        for (size_t b = blk * BLOCK; b < end; b++) {
            memcpy(r, dz + b * n, n * sizeof *r);
            acdc_plan_redft10(p, r);
            const double *hr = h2 + b * n;
            for (size_t k = 0; k < n; k++) {
                double t = s2[k] * r[k];
                if (pd && need_d) {
                    pd[k] += hr[k] * t;
                    pdb[k] += t;
                }
                r[k] = s3[k] * d[k] * t;
            }
            acdc_plan_redft01(p, r);
            const double *xr = x + b * n;
            if (pa && need_a)
                for (size_t j = 0; j < n; j++) {
                    pa[j] += xr[j] * r[j];
                    pab[j] += r[j];
                }
            if (dx)
                for (size_t j = 0; j < n; j++)
                    dx[b * n + j] = a[j] * r[j];
        }
    }
    if (!have_part)
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
