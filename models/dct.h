/* SPDX-License-Identifier: GPL-3.0-or-later */
/* models/dct.h -- the orthonormal DCT pair of the ACDC layer, on FFTW's transforms.
 *
 * C is the orthonormal DCT-II, C[k][j] = sqrt(2/n)·e_k·cos(π(2j+1)k/(2n)), e_0 = 1/√2,
 * e_k = 1 otherwise; Cᵀ = C⁻¹ is the orthonormal DCT-III.  FFTW's REDFT10 computes
 * 2·Σ x_j cos(...) and REDFT01 computes X_0 + 2·Σ_{k≥1} X_k cos(...), so
 *   C x  = s ⊙ REDFT10(x),   s_0 = 1/(2√n), s_k = 1/√(2n)
 *   Cᵀ y = REDFT01(c ⊙ y),   c_0 = 1/√n,    c_k = 1/√(2n).
 * Any n ≥ 1 works (FFTW handles every size; primes and 784 = 2⁴·7² included).  A 1D
 * plan computes REDFT10 and REDFT01 through FFTW's r2c and c2r transforms of n points
 * (Makhoul's reordering and twiddles, dct_real.inc), which have SIMD codelets where
 * FFTW's r2r transforms have none; they agree with FFTW's REDFT10/01 to rounding.
 *
 * 2D plans (acdc_plan_alloc2) transform an h × w grid stored row-major (component
 * i·w + j) as one row of n = h·w doubles: C₂ = C_h ⊗ C_w, the separable orthonormal 2D
 * DCT-II, through FFTW's rank-2 REDFT10 (both axes) and REDFT01; s and c are then the
 * outer products s_h ⊗ s_w and c_h ⊗ c_w.  Everything below holds for both kinds of
 * plan with n = h·w, so the layer code serves 1D and 2D layers alike.
 *
 * A plan is made once per n and reused for every batch (a float plan, acdc_planf, is
 * at the end).  Vectors are processed a few
 * rows at a time in a per-thread block of aligned rows, so that the element-wise work of
 * a layer happens while the rows are in cache.  Rows run in parallel over the plan's
 * threads (OpenMP); do not call these from inside another parallel region.
 */
#ifndef ACDC_MODELS_DCT_H
#define ACDC_MODELS_DCT_H

#include <stddef.h>

typedef struct acdc_plan acdc_plan;

/* Plans transforms of length n for up to `threads` concurrent OpenMP threads (0 or 1 =
 * single-threaded).  flags are FFTW planner flags (FFTW_ESTIMATE, FFTW_MEASURE, ...);
 * 0 means FFTW_MEASURE.  Sets *out to a new plan, which the caller frees with
 * acdc_plan_free() (a no-op on NULL).  Errors: ACDC_UTIL_EUSAGE if n == 0 or n > 2^28,
 * ACDC_UTIL_ENOMEM if memory runs out or FFTW cannot plan; *out is then NULL. */
int acdc_plan_alloc(acdc_plan **out, size_t n, int threads, unsigned flags);

/* Plans the 2D transforms of an h × w grid (n = h·w), threads and flags as
 * acdc_plan_alloc().  Sets *out to a new plan (free with acdc_plan_free()).  Errors:
 * ACDC_UTIL_EUSAGE if h or w is 0 or h·w > 2^28, ACDC_UTIL_ENOMEM as acdc_plan_alloc(); *out is
 * then NULL.  A 2D plan of shape 1 × n computes what a 1D plan of n does (to rounding). */
int acdc_plan_alloc2(acdc_plan **out, size_t h, size_t w, int threads, unsigned flags);
void acdc_plan_free(acdc_plan *p);

/* n = h·w; the grid is 1 × n for a 1D plan; acdc_plan_is_2d() is 1 for acdc_plan_alloc2
 * plans. */
size_t acdc_plan_n(const acdc_plan *p);
size_t acdc_plan_h(const acdc_plan *p);
size_t acdc_plan_w(const acdc_plan *p);
int acdc_plan_is_2d(const acdc_plan *p);
int acdc_plan_threads(const acdc_plan *p);

/* The scale vectors s (DCT-II) and c (DCT-III) above, length n, owned by the plan. */
const double *acdc_plan_scale2(const acdc_plan *p);
const double *acdc_plan_scale3(const acdc_plan *p);

/* FFTW's system wisdom.  Before this module's first plan, FFTW's system wisdom is
 * imported once (fftw_import_system_wisdom() and fftwf_import_system_wisdom():
 * /etc/fftw/wisdom and /etc/fftw/wisdomf, which `make wisdom` writes with FFTW's own
 * fftw-wisdom tools).  A planner given FFTW_ESTIMATE then takes the plan the wisdom holds
 * for the problem, when it holds one, instead of its heuristic's: the same plan every
 * run while the wisdom stays, so runs remain deterministic on one machine, but a model
 * trained with wisdom differs in its last bits from one trained without.
 * acdc_plan_wisdom() imports it if that has not happened yet and returns which files
 * were read (ACDC_WISDOM_DOUBLE, ACDC_WISDOM_FLOAT; 0: neither).
 * acdc_plan_forget_wisdom() forgets all of FFTW's wisdom, in both precisions (FFTW's
 * fftw_forget_wisdom(): every module's, not only this one's), and imports no more: plans
 * made after it are the heuristic's (benchmarks compare the two in one run).  Existing
 * plans are unaffected.  Neither may be called while another thread plans outside this
 * library's planner lock. */
#define ACDC_WISDOM_DOUBLE 1
#define ACDC_WISDOM_FLOAT 2
int acdc_plan_wisdom(void);
void acdc_plan_forget_wisdom(void);

/* Most rows in a thread's block. */
#define ACDC_BLOCK_MAX 16

/* Block of thread t (0 <= t < threads): acdc_plan_block_rows(p) rows of n doubles,
 * acdc_plan_stride(p) >= n doubles apart, each aligned for the in-place transforms.  The
 * rows fit in about 64 KiB (at least 1, at most ACDC_BLOCK_MAX, a power of two), so that
 * a layer can take a few rows at a time through the caches; the count depends on n only.
 * The stride is n rounded up to a cache line, plus one line. */
double *acdc_plan_row(const acdc_plan *p, int t);
size_t acdc_plan_block_rows(const acdc_plan *p);
size_t acdc_plan_stride(const acdc_plan *p);

/* A scratch area of at least `count` values owned by the plan, grown (never shrunk) as
 * needed, so that repeated calls with the same batch allocate nothing.  Not shared
 * between threads.  Returns NULL with a message if memory runs out. */
double *acdc_plan_scratch(acdc_plan *p, size_t count);

/* In-place unnormalised transforms on an aligned row of a block from acdc_plan_row().
 * These four run on the calling OpenMP thread's scratch (a 1D plan's reordered row and
 * half spectrum): call them from thread t < acdc_plan_threads(p), as for the rows, never
 * from a team wider than the plan's. */
void acdc_plan_redft10(const acdc_plan *p, double *row);
void acdc_plan_redft01(const acdc_plan *p, double *row);

/* Out-of-place variants between an aligned block row and a row of any alignment:
 * row = REDFT10(in) (in is left intact) and out = REDFT01(row) (row is overwritten). */
void acdc_plan_redft10_from(const acdc_plan *p, const double *in, double *row);
void acdc_plan_redft01_to(const acdc_plan *p, double *row, double *out);

/* y = C·x (dct2) and y = Cᵀ·x (dct3) for `batch` contiguous rows of n; y may equal x. */
void acdc_dct2(const acdc_plan *p, size_t batch, const double *x, double *y);
void acdc_dct3(const acdc_plan *p, size_t batch, const double *x, double *y);

/* ---- single precision ---------------------------------------------------------------
 *
 * acdc_planf is the same plan in float, on FFTW's fftwf_ transforms: every function
 * above with acdc_planf_ for acdc_plan_ (and acdc_dct2f, acdc_dct3f), rows, scales and
 * scratch of floats, rows aligned to the same 64-byte lines (16 floats) and blocks of
 * about the same 64 KiB.  The scales are computed in double and rounded once.  Both
 * come from one source (models/dct_real.inc), so they plan, align and block alike. */
typedef struct acdc_planf acdc_planf;

int acdc_planf_alloc(acdc_planf **out, size_t n, int threads, unsigned flags);
int acdc_planf_alloc2(acdc_planf **out, size_t h, size_t w, int threads, unsigned flags);
void acdc_planf_free(acdc_planf *p);
size_t acdc_planf_n(const acdc_planf *p);
size_t acdc_planf_h(const acdc_planf *p);
size_t acdc_planf_w(const acdc_planf *p);
int acdc_planf_is_2d(const acdc_planf *p);
int acdc_planf_threads(const acdc_planf *p);
const float *acdc_planf_scale2(const acdc_planf *p);
const float *acdc_planf_scale3(const acdc_planf *p);
float *acdc_planf_row(const acdc_planf *p, int t);
size_t acdc_planf_block_rows(const acdc_planf *p);
size_t acdc_planf_stride(const acdc_planf *p);
float *acdc_planf_scratch(acdc_planf *p, size_t count);
void acdc_planf_redft10(const acdc_planf *p, float *row);
void acdc_planf_redft01(const acdc_planf *p, float *row);
void acdc_planf_redft10_from(const acdc_planf *p, const float *in, float *row);
void acdc_planf_redft01_to(const acdc_planf *p, float *row, float *out);
void acdc_dct2f(const acdc_planf *p, size_t batch, const float *x, float *y);
void acdc_dct3f(const acdc_planf *p, size_t batch, const float *x, float *y);

#endif
