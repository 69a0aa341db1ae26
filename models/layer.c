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
 * The passes themselves are in models/layer_real.inc, once for double and once for float
 * (acdc_layer_forwardf(), acdc_layer_backwardf()).
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
#define BLOCK ACDC_LAYER_BLOCK

/* Elements per chunk of a pass: 2 KiB of each vector (1 KiB in float), so that the few vectors reused
 * across the rows of a block stay in L1 together. */
#define CHUNK 256

/* Arrays of at least this many bytes (a core's L2 on the machines measured) are written
 * with non-temporal stores: they would have left the core's caches before anyone reads
 * them back, and an ordinary store would first read every line it fills. */
#define STREAM_BYTES ((size_t)1 << 20)

static size_t min_size(size_t a, size_t b) { return a < b ? a : b; }

/* dst[k] = src[k] for k < n, bypassing the caches (can_stream_d() holds for dst). */
static void stream_copy_d(double *restrict dst, const double *restrict src, size_t n)
{
#if defined(__SSE2__)
    for (size_t k = 0; k < n; k += 2)
        _mm_stream_pd(dst + k, _mm_load_pd(src + k));
#else
    memcpy(dst, src, n * sizeof *dst);
#endif
}

/* Forward pass 2 on elements [c, e) of one row: hr = s2 ⊙ r, r = sd ⊙ hr + sdb, with
 * hr streamed (hr and r 16-byte aligned, c and e even). */
static inline void mid_stream_d(double *restrict hr, double *restrict r,
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

/* Backward: dr = a ⊙ r on elements [c, e), streamed (as mid_stream_d()). */
static inline void mul_stream_d(double *restrict dr, const double *restrict a,
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

/* The same three in float, four to a vector (n, c and e multiples of 4). */
static void stream_copy_f(float *restrict dst, const float *restrict src, size_t n)
{
#if defined(__SSE2__)
    for (size_t k = 0; k < n; k += 4)
        _mm_stream_ps(dst + k, _mm_load_ps(src + k));
#else
    memcpy(dst, src, n * sizeof *dst);
#endif
}

static inline void mid_stream_f(float *restrict hr, float *restrict r,
                                const float *restrict s2, const float *restrict sd,
                                const float *restrict sdb, size_t c, size_t e)
{
#if defined(__SSE2__)
    for (size_t k = c; k < e; k += 4) {
        __m128 v = _mm_mul_ps(_mm_loadu_ps(s2 + k), _mm_load_ps(r + k));
        _mm_stream_ps(hr + k, v);
        _mm_store_ps(r + k, _mm_add_ps(_mm_mul_ps(_mm_loadu_ps(sd + k), v),
                                       _mm_loadu_ps(sdb + k)));
    }
#else
    (void)hr, (void)r, (void)s2, (void)sd, (void)sdb, (void)c, (void)e;
#endif
}

static inline void mul_stream_f(float *restrict dr, const float *restrict a,
                                const float *restrict r, size_t c, size_t e)
{
#if defined(__SSE2__)
    for (size_t j = c; j < e; j += 4)
        _mm_stream_ps(dr + j, _mm_mul_ps(_mm_loadu_ps(a + j), _mm_load_ps(r + j)));
#else
    (void)dr, (void)a, (void)r, (void)c, (void)e;
#endif
}

#define REAL double
#define LAYER acdc_layer
#define PLAN acdc_plan
#define PN(x) acdc_plan_##x
#define FN(x) acdc_layer_##x
#define LOCAL(x) x##_d
#include "models/layer_real.inc"
#undef REAL
#undef LAYER
#undef PLAN
#undef PN
#undef FN
#undef LOCAL

#define REAL float
#define LAYER acdc_layerf
#define PLAN acdc_planf
#define PN(x) acdc_planf_##x
#define FN(x) acdc_layer_##x##f
#define LOCAL(x) x##_f
#include "models/layer_real.inc"
#undef REAL
#undef LAYER
#undef PLAN
#undef PN
#undef FN
#undef LOCAL
