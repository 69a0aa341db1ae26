/* SPDX-License-Identifier: GPL-3.0-or-later */
/* models/layer.c -- see layer.h.
 *
 * Where the time goes (N = 4096): the four transforms are bound by arithmetic and run
 * on rows in L2, while the element-wise passes between them are bound by memory traffic.
 * So the rows go through in small blocks held in the plan's per-thread buffer, and
 *  - each pass walks a chunk of elements across all rows of the block, so that the
 *    chunk's share of the diagonals and of the gradient sums stays in L1;
 *  - each pass also asks for the user rows the next pass will read, so that the wait
 *    for memory overlaps work instead of stalling the next pass;
 *  - rows written for someone else (z, h2, dx) bypass the caches when the arrays are
 *    too large to be read back from them: no read for ownership, no eviction of rows
 *    still to be read.
 */
#include "models/layer.h"
#include "util/error.h"

#include <omp.h>
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Rows per block of the gradient sums.  Fixed, so the summation order (and hence every
 * rounding) is the same whatever the number of threads. */
#define BLOCK 16

/* Elements per chunk of a pass: 2 KiB of each vector, so that the few vectors reused
 * across the rows of a block stay in L1 together. */
#define CHUNK 256

/* Arrays of at least this many bytes (a core's L2 on the machines measured) are written
 * with non-temporal stores: they would have left the core's caches before anyone reads
 * them back, and an ordinary store would first read every line it fills. */
#define STREAM_BYTES ((size_t)1 << 20)

static size_t min_size(size_t a, size_t b) { return a < b ? a : b; }

/* Asks for elements [c, e) of m rows of n doubles.  Locality 2 (prefetcht1): issued in
 * the middle of a pass, it measured faster than the L1 hint, which competes with the
 * vectors the pass reuses.  always_inline: GCC 12 judges an out-of-line helper made only
 * of prefetches "const" and deletes its calls. */
static inline __attribute__((always_inline)) void prefetch(const double *v, size_t m,
                                                           size_t n, size_t c, size_t e)
{
    for (size_t i = 0; i < m; i++)
        for (size_t k = c; k < e; k += 8)
            __builtin_prefetch(v + i * n + k, 0, 2);
}

/* Whether rows of n doubles from v may be streamed two at a time (16-byte aligned). */
static int can_stream(const double *v, size_t n, size_t batch)
{
#if defined(__SSE2__)
    return (!v || !((uintptr_t)v & 15)) && n % 2 == 0 &&
           batch * n * sizeof(double) >= STREAM_BYTES;
#else
    (void)v, (void)n, (void)batch;
    return 0;
#endif
}

/* dst[k] = src[k] for k < n, bypassing the caches (can_stream() holds for dst). */
static void stream_copy(double *restrict dst, const double *restrict src, size_t n)
{
#if defined(__SSE2__)
    for (size_t k = 0; k < n; k += 2)
        _mm_stream_pd(dst + k, _mm_load_pd(src + k));
#else
    memcpy(dst, src, n * sizeof *dst);
#endif
}

/* Precomputed products for one call: sd = s3 ⊙ d and sdb = s3 ⊙ d_bias fold the DCT-III
 * scale into the Fourier-domain diagonal, so each row needs one fused pass per domain. */
static int products(const acdc_layer *L, acdc_plan *p, double **sd, double **sdb)
{
    const size_t n = acdc_plan_n(p), q = acdc_plan_stride(p);
    const double *s3 = acdc_plan_scale3(p);
    double *w = acdc_plan_scratch(p, 2 * q);
    if (!w)
        return ACDC_UTIL_ENOMEM;   /* acdc_plan_scratch() recorded the message */
    *sd = w;
    *sdb = w + q;
    for (size_t k = 0; k < n; k++) {
        w[k] = s3[k] * L->d[k];
        w[q + k] = L->d_bias ? s3[k] * L->d_bias[k] : 0.0;
    }
    return ACDC_UTIL_OK;
}

/* Forward pass 2 on elements [c, e) of one row: hr = s2 ⊙ r, r = sd ⊙ hr + sdb, with
 * hr streamed (hr and r 16-byte aligned, c and e even). */
static inline void mid_stream(double *restrict hr, double *restrict r,
                              const double *restrict s2, const double *restrict sd,
                              const double *restrict sdb, size_t c, size_t e)
{
#if defined(__SSE2__)
    for (size_t k = c; k < e; k += 2) {
        __m128d v = _mm_mul_pd(_mm_loadu_pd(s2 + k), _mm_load_pd(r + k));
        _mm_stream_pd(hr + k, v);
        _mm_store_pd(r + k, _mm_add_pd(_mm_mul_pd(_mm_loadu_pd(sd + k), v),
                                       _mm_loadu_pd(sdb + k)));
    }
#else
    (void)hr, (void)r, (void)s2, (void)sd, (void)sdb, (void)c, (void)e;
#endif
}

/* Backward: dr = a ⊙ r on elements [c, e), streamed (as mid_stream()). */
static inline void mul_stream(double *restrict dr, const double *restrict a,
                              const double *restrict r, size_t c, size_t e)
{
#if defined(__SSE2__)
    for (size_t j = c; j < e; j += 2)
        _mm_stream_pd(dr + j, _mm_mul_pd(_mm_loadu_pd(a + j), _mm_load_pd(r + j)));
#else
    (void)dr, (void)a, (void)r, (void)c, (void)e;
#endif
}

static inline void stream_fence(int stream)
{
#if defined(__SSE2__)
    if (stream)
        _mm_sfence();
#else
    (void)stream;
#endif
}

int acdc_layer_forward(const acdc_layer *L, acdc_plan *p, size_t batch, const double *x,
                       double *z, double *h2)
{
    const size_t n = acdc_plan_n(p);
    const size_t stride = acdc_plan_stride(p);
    const int threads = acdc_plan_threads(p);
    const double *restrict s2 = acdc_plan_scale2(p);
    const double *restrict a = L->a;
    const double *restrict ab = L->a_bias;
    double *sd, *sdb;
    int rc = products(L, p, &sd, &sdb);
    if (rc)
        return rc;
    if (!batch)
        return ACDC_UTIL_OK;
    /* No sums here, so the rows may be split any way: small batches still use every
     * thread. */
    const size_t rows = min_size(acdc_plan_block_rows(p), (batch + threads - 1) / threads);
    const size_t nblk = (batch + rows - 1) / rows;
    const int stream = can_stream(z, n, batch) && can_stream(h2, n, batch);

#pragma omp parallel num_threads(threads) if (nblk > 1)
    {
        double *restrict buf = acdc_plan_row(p, omp_get_thread_num());
        int first = 1;
#pragma omp for schedule(static)
        for (size_t blk = 0; blk < nblk; blk++) {
            const size_t b0 = blk * rows, m = min_size(rows, batch - b0);
            const size_t b1 = b0 + m, m1 = min_size(rows, batch - b1);
            if (first)
                prefetch(x + b0 * n, m, n, 0, n);
            first = 0;
            for (size_t c = 0; c < n; c += CHUNK) {
                const size_t e = min_size(c + CHUNK, n);
                for (size_t i = 0; i < m; i++) {
                    double *restrict r = buf + i * stride;
                    const double *restrict xr = x + (b0 + i) * n;
                    if (ab) {
#pragma omp simd
                        for (size_t j = c; j < e; j++)
                            r[j] = a[j] * xr[j] + ab[j];
                    } else {
#pragma omp simd
                        for (size_t j = c; j < e; j++)
                            r[j] = a[j] * xr[j];
                    }
                }
            }
            for (size_t i = 0; i < m; i++)
                acdc_plan_redft10(p, buf + i * stride);
            for (size_t c = 0; c < n; c += CHUNK) {
                const size_t e = min_size(c + CHUNK, n);
                /* The next block's x, most likely this thread's next. */
                prefetch(x + b1 * n, m1, n, c, e);
                for (size_t i = 0; i < m; i++) {
                    double *restrict r = buf + i * stride;
                    double *restrict hr = h2 ? h2 + (b0 + i) * n : NULL;
                    if (hr && stream) {
                        mid_stream(hr, r, s2, sd, sdb, c, e);
                    } else if (hr) {
#pragma omp simd
                        for (size_t k = c; k < e; k++) {
                            double v = s2[k] * r[k];
                            hr[k] = v;
                            r[k] = sd[k] * v + sdb[k];
                        }
                    } else {
#pragma omp simd
                        for (size_t k = c; k < e; k++)
                            r[k] = sd[k] * (s2[k] * r[k]) + sdb[k];
                    }
                }
            }
            for (size_t i = 0; i < m; i++) {
                if (stream) {
                    acdc_plan_redft01(p, buf + i * stride);
                    stream_copy(z + (b0 + i) * n, buf + i * stride, n);
                } else {
                    acdc_plan_redft01_to(p, buf + i * stride, z + (b0 + i) * n);
                }
            }
        }
        /* Streamed rows are visible to the other threads after the barrier. */
        stream_fence(stream);
    }
    return ACDC_UTIL_OK;
}

int acdc_layer_backward(const acdc_layer *L, acdc_plan *p, size_t batch, const double *x,
                        const double *h2, const double *dz, double *dx, acdc_grad *g)
{
    const size_t n = acdc_plan_n(p);
    const size_t stride = acdc_plan_stride(p);
    const size_t rows = acdc_plan_block_rows(p);
    const double *restrict s2 = acdc_plan_scale2(p);
    const double *restrict a = L->a;
    const size_t nblk = (batch + BLOCK - 1) / BLOCK;
    /* Σ t gives both bias gradients (the a_bias one by linearity, see below). */
    const int need_a = g && g->a;
    const int need_d = g && (g->d || g->d_bias || g->a_bias);
    const int stream = dx && can_stream(dx, n, batch);
    /* Scratch: sd, sdb, then per-block partial sums [blk][3] of h2 ⊙ t, t and x ⊙ s,
     * each vector `stride` apart like the rows of a block (same cache-set argument). */
    double *w = acdc_plan_scratch(p, 2 * stride + (g ? nblk * 3 * stride : 0));
    if (!w)
        return ACDC_UTIL_ENOMEM;   /* acdc_plan_scratch() recorded the message */
    double *sd, *sdb;
    (void)products(L, p, &sd, &sdb);   /* cannot fail: the scratch above already holds it */
    double *part = g ? w + 2 * stride : NULL;
    if (part)
        memset(part, 0, nblk * 3 * stride * sizeof *part);

#pragma omp parallel num_threads(acdc_plan_threads(p)) if (nblk > 1)
    {
        double *restrict buf = acdc_plan_row(p, omp_get_thread_num());
        int first = 1;
#pragma omp for schedule(static)
        for (size_t blk = 0; blk < nblk; blk++) {
            double *restrict pd = part ? part + blk * 3 * stride : NULL;
            double *restrict pdb = pd ? pd + stride : NULL;
            double *restrict pa = pd ? pd + 2 * stride : NULL;
            const size_t end = min_size((blk + 1) * BLOCK, batch);
            /* The block's rows in groups that fit the thread's buffer; within a group
             * every element still meets the rows in ascending order, so the sums do not
             * depend on the group size. */
            for (size_t b0 = blk * BLOCK; b0 < end; b0 += rows) {
                const size_t m = min_size(rows, end - b0);
                const size_t b1 = b0 + m, m1 = min_size(rows, batch - b1);
                if (first) {
                    if (need_d)
                        prefetch(h2 + b0 * n, m, n, 0, n);
                    prefetch(dz + b0 * n, m, n, 0, n);
                }
                first = 0;
                for (size_t i = 0; i < m; i++)
                    acdc_plan_redft10_from(p, dz + (b0 + i) * n, buf + i * stride);
                for (size_t c = 0; c < n; c += CHUNK) {
                    const size_t e = min_size(c + CHUNK, n);
                    if (need_a)
                        prefetch(x + b0 * n, m, n, c, e);
                    for (size_t i = 0; i < m; i++) {
                        double *restrict r = buf + i * stride;
                        if (need_d) {
                            const double *restrict hr = h2 + (b0 + i) * n;
#pragma omp simd
                            for (size_t k = c; k < e; k++) {
                                double t = s2[k] * r[k];
                                pd[k] += hr[k] * t;
                                pdb[k] += t;
                                r[k] = sd[k] * t;
                            }
                        } else {
#pragma omp simd
                            for (size_t k = c; k < e; k++)
                                r[k] = sd[k] * (s2[k] * r[k]);
                        }
                    }
                }
                for (size_t i = 0; i < m; i++)
                    acdc_plan_redft01(p, buf + i * stride);
                for (size_t c = 0; c < n; c += CHUNK) {
                    const size_t e = min_size(c + CHUNK, n);
                    if (need_d)
                        prefetch(h2 + b1 * n, m1, n, c, e);
                    prefetch(dz + b1 * n, m1, n, c, e);
                    for (size_t i = 0; i < m; i++) {
                        const double *restrict r = buf + i * stride;
                        double *restrict dr = dx ? dx + (b0 + i) * n : NULL;
                        if (need_a) {
                            const double *restrict xr = x + (b0 + i) * n;
#pragma omp simd
                            for (size_t j = c; j < e; j++)
                                pa[j] += xr[j] * r[j];
                        }
                        if (dr && stream) {
                            mul_stream(dr, a, r, c, e);
                        } else if (dr) {
#pragma omp simd
                            for (size_t j = c; j < e; j++)
                                dr[j] = a[j] * r[j];
                        }
                    }
                }
            }
        }
        stream_fence(stream);
    }
    if (!part)
        return ACDC_UTIL_OK;
    for (size_t blk = 0; blk < nblk; blk++) {
        const double *pd = part + blk * 3 * stride;
        for (size_t k = 0; k < n; k++) {
            if (g->d)
                g->d[k] += pd[k];
            if (g->d_bias)
                g->d_bias[k] += pd[stride + k];
            if (g->a)
                g->a[k] += pd[2 * stride + k];
        }
    }
    if (g->a_bias) {
        /* Σ_b s_b = Cᵀ(d ⊙ Σ_b t_b): one transform per call instead of a sum per row.
         * Σ t summed over the blocks in order, as above. */
        double *r = acdc_plan_row(p, 0);
        for (size_t k = 0; k < n; k++) {
            double t = 0;
            for (size_t blk = 0; blk < nblk; blk++)
                t += part[(3 * blk + 1) * stride + k];
            r[k] = sd[k] * t;
        }
        acdc_plan_redft01(p, r);
        for (size_t k = 0; k < n; k++)
            g->a_bias[k] += r[k];
    }
    return ACDC_UTIL_OK;
}
