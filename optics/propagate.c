/* SPDX-License-Identifier: GPL-3.0-or-later */
/* optics/propagate.c -- see propagate.h.
 *
 * All transforms are built from single-threaded in-place FFTW plans of one row (length
 * nx, unit stride) or one block of COLB columns (length ny, stride nx), executed with
 * fftw_execute_dft() on any row or block: complex doubles are always 16-byte aligned,
 * which is all FFTW's alignment check (fftw_alignment_of) looks at.  OpenMP distributes
 * rows and blocks; a row's arithmetic never depends on which thread ran it.
 */
#include "optics/propagate.h"

#include "util/error.h"

#include <fftw3.h>
#include <limits.h>
#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COLB 8   /* columns per block: 128 bytes of every row, two cache lines */

/* ---------------------------------------------------------------- FFTW planning */

static pthread_once_t fftw_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t plan_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned fft_flags = FFTW_ESTIMATE;

/* The transforms run so far, by shape (acdc_optics_fft_tally): a fixed table whose
 * slots are claimed as shapes first run, key 2 n + (rank == 2) (0: free); counts are
 * atomic, so threads add at once.  Shapes beyond the table are counted together. */
#define TALLY_SLOTS 32
static _Atomic size_t tally_key[TALLY_SLOTS];
static _Atomic unsigned long long tally_count[TALLY_SLOTS];
static _Atomic unsigned long long tally_other;

static void tally(int rank, size_t n, size_t howmany)
{
    const size_t key = 2 * n + (rank == 2);
    for (int i = 0; i < TALLY_SLOTS; i++) {
        size_t k = atomic_load_explicit(&tally_key[i], memory_order_acquire), free_key = 0;
        if (k == 0 && atomic_compare_exchange_strong(&tally_key[i], &free_key, key))
            k = key;
        else if (k == 0)
            k = free_key;   /* another thread claimed it first: its key */
        if (k == key) {
            atomic_fetch_add_explicit(&tally_count[i], howmany, memory_order_relaxed);
            return;
        }
    }
    atomic_fetch_add_explicit(&tally_other, howmany, memory_order_relaxed);
}

void acdc_optics_fft_tally_reset(void)
{
    for (int i = 0; i < TALLY_SLOTS; i++) {
        atomic_store(&tally_count[i], 0);
        atomic_store(&tally_key[i], 0);
    }
    atomic_store(&tally_other, 0);
}

size_t acdc_optics_fft_tally(acdc_optics_fft_count *out, size_t cap,
                             unsigned long long *other)
{
    size_t m = 0;
    for (int i = 0; i < TALLY_SLOTS; i++) {
        const size_t k = atomic_load(&tally_key[i]);
        const unsigned long long c = atomic_load(&tally_count[i]);
        if (!k || !c)
            continue;
        if (m < cap)
            out[m] = (acdc_optics_fft_count){.rank = k % 2 ? 2 : 1, .n = k / 2, .transforms = c};
        m++;
    }
    if (other)
        *other = atomic_load(&tally_other);
    return m;
}

static void fftw_setup(void)
{
    fftw_init_threads();
    fftw_make_planner_thread_safe();
}

void acdc_optics_set_fft_effort(int measure)
{
    pthread_mutex_lock(&plan_lock);
    fft_flags = measure ? FFTW_MEASURE : FFTW_ESTIMATE;
    pthread_mutex_unlock(&plan_lock);
}

/* howmany transforms of length n, element stride `stride`, transform distance `dist`,
 * in place.  Planned single-threaded on a scratch array of the right size and
 * alignment (untouched under FFTW_ESTIMATE, so the pages are never even mapped). */
static fftw_plan plan_many(size_t n, size_t howmany, size_t stride, size_t dist, int sign)
{
    pthread_once(&fftw_once, fftw_setup);
    size_t span = (n - 1) * stride + (howmany - 1) * dist + 1;
    fftw_complex *buf = fftw_malloc(span * sizeof *buf);
    if (!buf)
        return NULL;
    pthread_mutex_lock(&plan_lock);
    int saved = fftw_planner_nthreads();
    fftw_plan_with_nthreads(1);
    int nn = (int)n;
    fftw_plan p = fftw_plan_many_dft(1, &nn, (int)howmany, buf, NULL, (int)stride,
                                     (int)dist, buf, NULL, (int)stride, (int)dist, sign,
                                     fft_flags);
    fftw_plan_with_nthreads(saved);
    pthread_mutex_unlock(&plan_lock);
    fftw_free(buf);
    return p;
}

/* One transform of n, out of place, input preserved. */
static fftw_plan plan_oop(size_t n, int sign)
{
    pthread_once(&fftw_once, fftw_setup);
    fftw_complex *a = fftw_malloc(n * sizeof *a), *b = fftw_malloc(n * sizeof *b);
    fftw_plan p = NULL;
    if (a && b) {
        pthread_mutex_lock(&plan_lock);
        int saved = fftw_planner_nthreads();
        fftw_plan_with_nthreads(1);
        p = fftw_plan_dft_1d((int)n, a, b, sign, fft_flags | FFTW_PRESERVE_INPUT);
        fftw_plan_with_nthreads(saved);
        pthread_mutex_unlock(&plan_lock);
    }
    fftw_free(a);
    fftw_free(b);
    return p;
}

static void destroy(fftw_plan p)
{
    if (p)
        fftw_destroy_plan(p);
}

/* Plan p (howmany transforms of n, in place) on a, counted. */
static void run(fftw_plan p, double complex *a, size_t n, size_t howmany)
{
    fftw_execute_dft(p, (fftw_complex *)a, (fftw_complex *)a);
    tally(1, n, howmany);
}

/* One transform of n out of place (src intact), counted. */
static void run_oop(fftw_plan p, const double complex *src, double complex *dst, size_t n)
{
    fftw_execute_dft(p, (fftw_complex *)src, (fftw_complex *)dst);
    tally(1, n, 1);
}

/* An n x n transform in place, counted. */
static void run_2d(fftw_plan p, double complex *a, size_t n)
{
    fftw_execute_dft(p, (fftw_complex *)a, (fftw_complex *)a);
    tally(2, n, 1);
}

/* Forward/backward in-place transforms of the rows (length nx) and column blocks
 * (length ny, stride sx) of an ny x sx array. */
typedef struct fft2 {
    size_t ny, nx, sx;
    fftw_plan row[2], col[2], colr[2];   /* [0] = forward (-1), [1] = backward (+1) */
    fftw_plan row_oop[2];                /* one row out of place, input preserved */
    double complex **buf;                /* per thread: a block of COLB columns, packed
                                            (ny x COLB): a column FFT strided by a whole
                                            row would miss the TLB at every stage */
    int nbuf;
} fft2;

static int fft2_init(fft2 *t, size_t ny, size_t nx, size_t sx, int need_cols)
{
    memset(t, 0, sizeof *t);
    t->ny = ny;
    t->nx = nx;
    t->sx = sx;
    if (nx > (size_t)INT_MAX || ny > (size_t)INT_MAX || sx > (size_t)INT_MAX)
        return acdc_util_error(ACDC_UTIL_ENOMEM, "grid %zu x %zu is too large for FFTW", nx, ny);
    for (int d = 0; d < 2; d++) {
        int sign = d ? FFTW_BACKWARD : FFTW_FORWARD;
        if (!(t->row[d] = plan_many(nx, 1, 1, nx, sign)))
            return acdc_util_error(ACDC_UTIL_ENOMEM, "cannot plan an FFT of %zu samples", nx);
        if (!(t->row_oop[d] = plan_oop(nx, sign)))
            return acdc_util_error(ACDC_UTIL_ENOMEM, "cannot plan an FFT of %zu samples", nx);
        if (!need_cols)
            continue;
        size_t b = nx < COLB ? nx : COLB;
        if (!(t->col[d] = plan_many(ny, b, COLB, 1, sign)))
            return acdc_util_error(ACDC_UTIL_ENOMEM, "cannot plan column FFTs of %zu samples", ny);
        if (nx % COLB && nx > COLB && !(t->colr[d] = plan_many(ny, nx % COLB, COLB, 1, sign)))
            return acdc_util_error(ACDC_UTIL_ENOMEM, "cannot plan column FFTs of %zu samples", ny);
    }
    if (need_cols) {
        t->nbuf = omp_get_max_threads();
        if (!(t->buf = calloc((size_t)t->nbuf, sizeof *t->buf)))
            return acdc_util_error(ACDC_UTIL_ENOMEM, "cannot allocate column buffers");
        for (int i = 0; i < t->nbuf; i++)
            if (!(t->buf[i] = fftw_malloc(ny * COLB * sizeof **t->buf)))
                return acdc_util_error(ACDC_UTIL_ENOMEM, "cannot allocate column buffers");
    }
    return ACDC_UTIL_OK;
}

static void fft2_free(fft2 *t)
{
    for (int d = 0; d < 2; d++) {
        destroy(t->row[d]);
        destroy(t->row_oop[d]);
        destroy(t->col[d]);
        destroy(t->colr[d]);
    }
    if (t->buf)
        for (int i = 0; i < t->nbuf; i++)
            fftw_free(t->buf[i]);
    free(t->buf);
}

/* Applies fn to each block of columns [x0, x0 + nb) of a (ny rows of stride sx), in
 * parallel: the block is packed into the thread's buffer (row y at buf + y COLB,
 * column j is column x0 + j), handed to fn, and unpacked. */
typedef void col_fn(const void *ctx, double complex *buf, size_t x0, size_t nb);

/* fn on the block of columns [x0, x0 + nb) of a, packed into buf and back. */
static void fft2_col_block(const fft2 *t, double complex *a, double complex *buf, size_t x0,
                           size_t nb, col_fn *fn, const void *ctx)
{
    for (size_t y = 0; y < t->ny; y++)
        memcpy(buf + y * COLB, a + y * t->sx + x0, nb * sizeof *buf);
    fn(ctx, buf, x0, nb);
    for (size_t y = 0; y < t->ny; y++)
        memcpy(a + y * t->sx + x0, buf + y * COLB, nb * sizeof *buf);
}

static void fft2_col_blocks(const fft2 *t, double complex *a, size_t ncols, col_fn *fn,
                            const void *ctx)
{
    long nblk = (long)((ncols + COLB - 1) / COLB);
    int nt = omp_get_max_threads() < t->nbuf ? omp_get_max_threads() : t->nbuf;
#pragma omp parallel num_threads(nt)
    {
        double complex *buf = t->buf[omp_get_thread_num()];
#pragma omp for schedule(static)
        for (long ib = 0; ib < nblk; ib++) {
            size_t x0 = (size_t)ib * COLB;
            size_t nb = ncols - x0 < COLB ? ncols - x0 : COLB;
            fft2_col_block(t, a, buf, x0, nb, fn, ctx);
        }
    }
}

/* One packed block of nb columns through plan `which` (0 fwd, 1 bwd); the remainder
 * block of a width that is not a multiple of COLB uses its own plan. */
static void fft2_col(const fft2 *t, double complex *buf, size_t nb, int which)
{
    size_t full = t->nx < COLB ? t->nx : COLB;
    run(nb == full ? t->col[which] : t->colr[which], buf, t->ny, nb);
}

/* Reduced phase exp(i 2 pi num / den) for integers, exact argument reduction. */
static double complex cis_frac(long long num, long long den)
{
    long long r = num % den;
    if (r < 0)
        r += den;
    double a = 2 * M_PI * (double)r / (double)den;
    return cos(a) + I * sin(a);
}

/* exp(i 2 pi t) for a real t of any size, reduced first. */
static double complex cis_turns(double t)
{
    double a = 2 * M_PI * (t - floor(t));
    return cos(a) + I * sin(a);
}

/* The output of a lens: same sizes, rank, wavelength and batch as wanted; its pitch is
 * overwritten with the output pitch. */
static int check_batch(const acdc_optics_grid *want, const acdc_optics_field *f, const char *what);
static int check_lens_out(const acdc_optics_grid *want, const acdc_optics_field *in,
                          const acdc_optics_field *out)
{
    if (!out)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "output field is NULL");
    if (out->g.rank != want->rank || out->g.nx != want->nx || out->g.ny != want->ny ||
        fabs(out->g.wavelength_m - want->wavelength_m) > 1e-12 * want->wavelength_m)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "output field is rank %d, %zu x %zu at %g m "
                               "wavelength; the lens makes rank %d, %zu x %zu at %g m",
                               out->g.rank, out->g.nx, out->g.ny, out->g.wavelength_m,
                               want->rank, want->nx, want->ny, want->wavelength_m);
    if (out->nb != in->nb)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "batch of %zu fields into a batch of %zu", in->nb,
                               out->nb);
    return ACDC_UTIL_OK;
}

static int check_batch(const acdc_optics_grid *want, const acdc_optics_field *f, const char *what)
{
    if (!f)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "%s field is NULL", what);
    if (!acdc_optics_grid_same(want, &f->g))
        return acdc_util_error(ACDC_UTIL_EUSAGE, "%s field is %zu x %zu at %g m pitch, %g m "
                               "wavelength; the plan wants %zu x %zu at %g m, %g m", what,
                               f->g.nx, f->g.ny, f->g.pitch_m, f->g.wavelength_m, want->nx,
                               want->ny, want->pitch_m, want->wavelength_m);
    return ACDC_UTIL_OK;
}

/* ---------------------------------------------------------------- Fourier lens */

struct acdc_optics_lens_plan {
    acdc_optics_grid gin, gout;
    double focal_m;
    fft2 t;
    /* forward centred DFT:  out[k] = scale * post[k] * DFT(in[j] * mod[j])[k];
     * per axis, mod[j] = e^{+i2pi c j/M}, post[k] = e^{-i2pi c^2/M} e^{+i2pi c k/M}.
     * The inverse uses the conjugates with scale_b. */
    double complex *modx, *postx, *mody, *posty;
    double complex scale_f, scale_b;
};

static int phase_tables(size_t m, double complex **mod, double complex **post)
{
    *mod = malloc(m * sizeof **mod);
    *post = malloc(m * sizeof **post);
    if (!*mod || !*post)
        return acdc_util_error(ACDC_UTIL_ENOMEM, "cannot allocate phase tables of %zu", m);
    long long c = (long long)(m / 2), mm = (long long)m;
    double complex q = cis_frac(-(c * c) % mm, mm);
    for (size_t j = 0; j < m; j++) {
        (*mod)[j] = cis_frac(c * (long long)j, mm);
        (*post)[j] = q * (*mod)[j];
    }
    return ACDC_UTIL_OK;
}

int acdc_optics_lens_plan_alloc(acdc_optics_lens_plan **out, const acdc_optics_grid *in,
                                double focal_m)
{
    if (!out)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "output pointer is NULL");
    *out = NULL;
    int rc = acdc_optics_grid_check(in);
    if (rc)
        return rc;
    if (!(isfinite(focal_m) && focal_m > 0))
        return acdc_util_error(ACDC_UTIL_EUSAGE, "focal length %g m is not positive and finite",
                               focal_m);
    if (in->rank == 2 && in->nx != in->ny)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "lens on a %zu x %zu grid: rank-2 lenses need a "
                               "square grid (equal output pitch along x and y)", in->nx, in->ny);
    acdc_optics_lens_plan *p = calloc(1, sizeof *p);
    if (!p)
        return acdc_util_error(ACDC_UTIL_ENOMEM, "cannot allocate a lens plan");
    p->gin = *in;
    p->gout = *in;
    p->focal_m = focal_m;
    double lf = in->wavelength_m * focal_m;
    p->gout.pitch_m = lf / ((double)in->nx * in->pitch_m);
    double complex sq = csqrt(I * lf);   /* principal root, e^{i pi/4} sqrt(lambda f) */
    if (in->rank == 1) {
        p->scale_f = in->pitch_m / sq;
        p->scale_b = p->gout.pitch_m / conj(sq);
    } else {
        p->scale_f = in->pitch_m * in->pitch_m / (I * lf);
        p->scale_b = p->gout.pitch_m * p->gout.pitch_m / (-I * lf);
    }
    rc = fft2_init(&p->t, in->ny, in->nx, in->nx, in->rank == 2);
    if (!rc)
        rc = phase_tables(in->nx, &p->modx, &p->postx);
    if (!rc && in->rank == 2)
        rc = phase_tables(in->ny, &p->mody, &p->posty);
    if (rc) {
        acdc_optics_lens_plan_free(p);
        return rc;
    }
    *out = p;
    return ACDC_UTIL_OK;
}

void acdc_optics_lens_plan_free(acdc_optics_lens_plan *p)
{
    if (!p)
        return;
    fft2_free(&p->t);
    free(p->modx);
    free(p->postx);
    free(p->mody);
    free(p->posty);
    free(p);
}

const acdc_optics_grid *acdc_optics_lens_plan_input(const acdc_optics_lens_plan *p)
{
    return p ? &p->gin : NULL;
}

const acdc_optics_grid *acdc_optics_lens_plan_output(const acdc_optics_lens_plan *p)
{
    return p ? &p->gout : NULL;
}

/* One row of a rank-1 lens: dst = scale * post .* DFT(mod .* src) (dir 0), or the
 * conjugate-table inverse (dir 1).  dst may equal src.  post (n values, may be NULL)
 * replaces scale * post when given: acdc_optics_4f_apply() passes the product of the
 * first lens's post-phase, the mask and the second lens's pre-phase there, so that a
 * 4f pass makes three sweeps over a row instead of five. */
static void lens_row(const acdc_optics_lens_plan *p, const double complex *src,
                     double complex *dst, int dir, const double complex *post_in)
{
    size_t n = p->gin.nx;
    const double complex *mod = p->modx, *post = p->postx;
    if (n % 2 == 0 && !post_in) {
        /* even M, c = M/2: the input phase (-1)^j is a shift of the spectrum by M/2,
         * so transform unmodulated and swap the halves while applying scale * post */
        if (src != dst)
            run_oop(p->t.row_oop[dir], src, dst, n);
        else
            run(p->t.row[dir], dst, n, 1);
        double complex s = dir == 0 ? p->scale_f : p->scale_b;
        size_t c = n / 2;
        for (size_t k = 0; k < c; k++) {
            double complex a = dst[k], b = dst[k + c];
            double complex pk = dir == 0 ? post[k] : conj(post[k]);
            double complex pc = dir == 0 ? post[k + c] : conj(post[k + c]);
            dst[k] = acdc_optics_cmul(b, acdc_optics_cmul(s, pk));
            dst[k + c] = acdc_optics_cmul(a, acdc_optics_cmul(s, pc));
        }
        return;
    }
    if (dir == 0) {
        for (size_t j = 0; j < n; j++)
            dst[j] = acdc_optics_cmul(src[j], mod[j]);
    } else {
        for (size_t j = 0; j < n; j++)
            dst[j] = acdc_optics_cmul(src[j], conj(mod[j]));
    }
    run(p->t.row[dir], dst, n, 1);
    if (post_in) {
        for (size_t k = 0; k < n; k++)
            dst[k] = acdc_optics_cmul(dst[k], post_in[k]);
        return;
    }
    double complex s = dir == 0 ? p->scale_f : p->scale_b;
    if (dir == 0) {
        for (size_t k = 0; k < n; k++)
            dst[k] = acdc_optics_cmul(dst[k], acdc_optics_cmul(s, post[k]));
    } else {
        for (size_t k = 0; k < n; k++)
            dst[k] = acdc_optics_cmul(dst[k], acdc_optics_cmul(s, conj(post[k])));
    }
}

typedef struct lens_col_ctx {
    const acdc_optics_lens_plan *p;
    int dir;
    const double complex *mask;
} lens_col_ctx;

static void lens_col(const void *vctx, double complex *a, size_t x0, size_t nb)
{
    const lens_col_ctx *c = vctx;
    const acdc_optics_lens_plan *p = c->p;
    size_t nx = p->gin.nx, ny = p->gin.ny;
    fft2_col(&p->t, a, nb, c->dir);
    double complex s = c->dir == 0 ? p->scale_f : p->scale_b;
    for (size_t y = 0; y < ny; y++) {
        double complex sy = acdc_optics_cmul(s, c->dir == 0 ? p->posty[y] : conj(p->posty[y]));
        double complex *r = a + y * COLB - x0;   /* r[x], x0 <= x < x0 + nb */
        for (size_t x = x0; x < x0 + nb; x++) {
            double complex v = acdc_optics_cmul(sy, c->dir == 0 ? p->postx[x] : conj(p->postx[x]));
            if (c->mask)
                v = acdc_optics_cmul(v, c->mask[y * nx + x]);
            r[x] = acdc_optics_cmul(r[x], v);
        }
    }
}

/* Row y of a rank-2 lens pass: modulated and transformed (a row of zeros transforms to
 * zeros and is written as such without a transform: a zero-padded field -- a device in
 * the middle of a wide window -- spends most of its rows there). */
static void lens_2d_row(const acdc_optics_lens_plan *p, const double complex *src,
                        double complex *dst, int dir, size_t y)
{
    const size_t nx = p->gin.nx;
    double complex my = dir == 0 ? p->mody[y] : conj(p->mody[y]);
    const double complex *s = src + y * nx;
    double complex *d = dst + y * nx;
    size_t first = 0;
    while (first < nx && s[first] == 0)
        first++;
    if (first == nx) {
        memset(d, 0, nx * sizeof *d);
        return;
    }
    for (size_t x = 0; x < nx; x++)
        d[x] = acdc_optics_cmul(s[x], acdc_optics_cmul(my, dir == 0 ? p->modx[x] : conj(p->modx[x])));
    run(p->t.row[dir], d, nx, 1);
}

/* A whole rank-2 field: rows modulated and transformed, then columns transformed and
 * post-multiplied (and masked) block by block while in cache; rows and blocks shared
 * out over the threads. */
static void lens_2d(const acdc_optics_lens_plan *p, const double complex *src,
                    double complex *dst, int dir, const double complex *mask)
{
    size_t nx = p->gin.nx, ny = p->gin.ny;
#pragma omp parallel for schedule(static)
    for (long y = 0; y < (long)ny; y++)
        lens_2d_row(p, src, dst, dir, (size_t)y);
    lens_col_ctx c = {p, dir, mask};
    fft2_col_blocks(&p->t, dst, nx, lens_col, &c);
}

/* The same pass on the calling thread with its column buffer buf, for the columns
 * [x_lo, x_hi) only (whole blocks of COLB columns around them; 0, nx for all): a
 * caller that reads only those columns of the output skips the others' transforms.
 * The values computed are those of lens_2d(), bit for bit. */
static void lens_2d_serial(const acdc_optics_lens_plan *p, const double complex *src,
                           double complex *dst, int dir, const double complex *mask,
                           double complex *buf, size_t x_lo, size_t x_hi)
{
    size_t nx = p->gin.nx, ny = p->gin.ny;
    for (size_t y = 0; y < ny; y++)
        lens_2d_row(p, src, dst, dir, y);
    lens_col_ctx c = {p, dir, mask};
    for (size_t x0 = x_lo / COLB * COLB; x0 < x_hi; x0 += COLB)
        fft2_col_block(&p->t, dst, buf, x0, nx - x0 < COLB ? nx - x0 : COLB, lens_col, &c);
}

/* Threads for a batch of nb rank-2 fields, one field per thread at a time: every
 * thread needs its own column buffer, and a single field keeps the threads inside its
 * transforms (lens_2d()). */
static int lens_2d_batch_threads(const acdc_optics_lens_plan *p, size_t nb)
{
    int nt = omp_get_max_threads() < p->t.nbuf ? omp_get_max_threads() : p->t.nbuf;
    return nb < 2 || nt < 2 ? 1 : nt;
}

static int lens_apply(const acdc_optics_lens_plan *p, const acdc_optics_field *in,
                      acdc_optics_field *out,
                      int dir)
{
    if (!p)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "lens plan is NULL");
    const acdc_optics_grid *gi = dir == 0 ? &p->gin : &p->gout;
    const acdc_optics_grid *go = dir == 0 ? &p->gout : &p->gin;
    int rc = check_batch(gi, in, "input");
    if (rc)
        return rc;
    if ((rc = check_lens_out(go, in, out)))
        return rc;
    size_t n = acdc_optics_grid_size(gi);
    if (p->gin.rank == 1) {
#pragma omp parallel for schedule(static)
        for (long b = 0; b < (long)in->nb; b++)
            lens_row(p, in->data + (size_t)b * n, out->data + (size_t)b * n, dir, NULL);
    } else if (lens_2d_batch_threads(p, in->nb) > 1) {
        /* whole fields per thread: a 2D transform of a few hundred rows is too little
         * work to share without the threads waiting on each other at every step */
#pragma omp parallel num_threads(lens_2d_batch_threads(p, in->nb))
        {
            double complex *buf = p->t.buf[omp_get_thread_num()];
#pragma omp for schedule(dynamic, 1)
            for (long b = 0; b < (long)in->nb; b++)
                lens_2d_serial(p, in->data + (size_t)b * n, out->data + (size_t)b * n, dir,
                               NULL, buf, 0, p->gin.nx);
        }
    } else {
        for (size_t b = 0; b < in->nb; b++)
            lens_2d(p, in->data + b * n, out->data + b * n, dir, NULL);
    }
    out->g = *go;
    return ACDC_UTIL_OK;
}

int acdc_optics_lens_forward_centre(const acdc_optics_lens_plan *p, acdc_optics_field *in,
                                    size_t m, double complex *out)
{
    if (!p)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "lens plan is NULL");
    int rc = check_batch(&p->gin, in, "input");
    if (rc)
        return rc;
    if (p->gin.rank != 2 || m < 1 || m > p->gin.nx || m > p->gin.ny || !out)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "the centred %zu x %zu block of a rank-%d lens "
                               "output of %zu x %zu%s", m, m, p->gin.rank, p->gin.nx, p->gin.ny,
                               out ? " does not exist" : ": output is NULL");
    const size_t nx = p->gin.nx, ny = p->gin.ny, n = nx * ny;
    const size_t x_lo = nx / 2 - m / 2, y_lo = ny / 2 - m / 2;
    const int nt = lens_2d_batch_threads(p, in->nb);
#pragma omp parallel num_threads(nt)
    {
        double complex *buf = p->t.buf[omp_get_thread_num()];
#pragma omp for schedule(dynamic, 1)
        for (long b = 0; b < (long)in->nb; b++) {
            double complex *f = in->data + (size_t)b * n;
            lens_2d_serial(p, f, f, 0, NULL, buf, x_lo, x_lo + m);
            for (size_t y = 0; y < m; y++)
                memcpy(out + ((size_t)b * m + y) * m, f + (y_lo + y) * nx + x_lo,
                       m * sizeof *out);
        }
    }
    return ACDC_UTIL_OK;
}

int acdc_optics_lens_forward(const acdc_optics_lens_plan *p, const acdc_optics_field *in,
                             acdc_optics_field *out)
{
    return lens_apply(p, in, out, 0);
}

int acdc_optics_lens_adjoint(const acdc_optics_lens_plan *p, const acdc_optics_field *in,
                             acdc_optics_field *out)
{
    return lens_apply(p, in, out, 1);
}

int acdc_optics_4f_apply(const acdc_optics_lens_plan *l1, const double complex *mask,
                         const acdc_optics_lens_plan *l2, const acdc_optics_field *in,
                         acdc_optics_field *out)
{
    if (!l1 || !l2)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "lens plan is NULL");
    if (!acdc_optics_grid_same(&l1->gout, &l2->gin))
        return acdc_util_error(ACDC_UTIL_EUSAGE, "4f system: the first lens images at %g m pitch, "
                               "the second wants %g m", l1->gout.pitch_m, l2->gin.pitch_m);
    int rc = check_batch(&l1->gin, in, "input");
    if (rc)
        return rc;
    if ((rc = check_lens_out(&l2->gout, in, out)))
        return rc;
    size_t n = acdc_optics_grid_size(&l1->gin);
    if (l1->gin.rank == 1 && n % 2 == 0) {
        /* even M, c = M/2: with A = FFT(in), the whole pass is out = FFT(A .* w),
         * w[j] = s1 q1 s2 q2 mask[(j + c) mod M], q = e^{-i 2pi c^2/M} (derivation: the
         * (-1)^j phases of the two lenses cancel pairwise, the remaining (-1)^k of the
         * second lens is a shift by M/2, moved onto the mask).  Two FFTs, one sweep. */
        double complex *w = malloc(n * sizeof *w);
        if (!w)
            return acdc_util_error(ACDC_UTIL_ENOMEM, "cannot allocate %zu phase factors", n);
        size_t c = n / 2;
        /* postx[0] = q (the k = 0 entry of q e^{i2pi c k/M}) */
        double complex g = acdc_optics_cmul(acdc_optics_cmul(l1->scale_f, l1->postx[0]),
                                acdc_optics_cmul(l2->scale_f, l2->postx[0]));
        for (size_t j = 0; j < n; j++)
            w[j] = mask ? acdc_optics_cmul(g, mask[(j + c) % n]) : g;
#pragma omp parallel for schedule(static)
        for (long b = 0; b < (long)in->nb; b++) {
            double complex *d = out->data + (size_t)b * n;
            const double complex *sr = in->data + (size_t)b * n;
            if (sr != d)
                run_oop(l1->t.row_oop[0], sr, d, n);
            else
                run(l1->t.row[0], d, n, 1);
            for (size_t k = 0; k < n; k++)
                d[k] = acdc_optics_cmul(d[k], w[k]);
            run(l2->t.row[0], d, n, 1);
        }
        free(w);
    } else if (l1->gin.rank == 1) {
        /* between the two transforms: scale1 post1 mask, then l2's input phase; the
         * latter is folded in by running l2's transform on the product below */
        double complex *mid = malloc(n * sizeof *mid);
        if (!mid)
            return acdc_util_error(ACDC_UTIL_ENOMEM, "cannot allocate %zu phase factors", n);
        for (size_t k = 0; k < n; k++) {
            double complex v = acdc_optics_cmul(l1->scale_f, l1->postx[k]);
            if (mask)
                v = acdc_optics_cmul(v, mask[k]);
            mid[k] = acdc_optics_cmul(v, l2->modx[k]);
        }
#pragma omp parallel for schedule(static)
        for (long b = 0; b < (long)in->nb; b++) {
            double complex *d = out->data + (size_t)b * n;
            lens_row(l1, in->data + (size_t)b * n, d, 0, mid);
            /* l2 without its input modulation (already in mid) */
            run(l2->t.row[0], d, n, 1);
            for (size_t k = 0; k < n; k++)
                d[k] = acdc_optics_cmul(d[k], acdc_optics_cmul(l2->scale_f, l2->postx[k]));
        }
        free(mid);
    } else if (lens_2d_batch_threads(l1, in->nb) > 1 && lens_2d_batch_threads(l2, in->nb) > 1) {
        const int nt = lens_2d_batch_threads(l1, in->nb) < lens_2d_batch_threads(l2, in->nb)
                           ? lens_2d_batch_threads(l1, in->nb) : lens_2d_batch_threads(l2, in->nb);
#pragma omp parallel num_threads(nt)
        {
            double complex *b1 = l1->t.buf[omp_get_thread_num()];
            double complex *b2 = l2->t.buf[omp_get_thread_num()];
#pragma omp for schedule(dynamic, 1)
            for (long b = 0; b < (long)in->nb; b++) {
                double complex *d = out->data + (size_t)b * n;
                lens_2d_serial(l1, in->data + (size_t)b * n, d, 0, mask, b1, 0, l1->gin.nx);
                lens_2d_serial(l2, d, d, 0, NULL, b2, 0, l2->gin.nx);
            }
        }
    } else {
        for (size_t b = 0; b < in->nb; b++) {
            lens_2d(l1, in->data + b * n, out->data + b * n, 0, mask);
            lens_2d(l2, out->data + b * n, out->data + b * n, 0, NULL);
        }
    }
    out->g = l2->gout;
    return ACDC_UTIL_OK;
}

/* ---------------------------------------------------------------- a 4f system's window */

struct acdc_optics_4f_psf {
    acdc_optics_grid gin;   /* l1's input grid */
    size_t L, m, N;
    double complex *h;      /* N x N: DFT of the response over the window pairs, / N² */
    double complex *mod1x, *mod1y;   /* l1's input phases over the window */
    double complex *post2x, *post2y; /* l2's output phases over the window */
    fftw_plan fwd, bwd;     /* N x N, in place */
};

/* An n x n 2D transform in place, single-threaded. */
static fftw_plan plan_2d(size_t n, int sign, unsigned flags)
{
    pthread_once(&fftw_once, fftw_setup);
    fftw_complex *a = fftw_malloc(n * n * sizeof *a);
    fftw_plan p = NULL;
    if (a) {
        pthread_mutex_lock(&plan_lock);
        int saved = fftw_planner_nthreads();
        fftw_plan_with_nthreads(1);
        p = fftw_plan_dft_2d((int)n, (int)n, a, a, sign, flags);
        fftw_plan_with_nthreads(saved);
        pthread_mutex_unlock(&plan_lock);
    }
    fftw_free(a);
    return p;
}

void acdc_optics_4f_psf_free(acdc_optics_4f_psf *p)
{
    if (!p)
        return;
    fftw_free(p->h);
    free(p->mod1x);
    free(p->mod1y);
    free(p->post2x);
    free(p->post2y);
    destroy(p->fwd);
    destroy(p->bwd);
    free(p);
}

/* The derivation.  Per axis the lenses give F = s1 post1 .* DFT(mod1 .* f) and
 * out = s2 post2 .* DFT(mod2 .* mask .* F), so
 *     out[n] = post2[n] Σ_j mod1[j] f[j] k[(n + j) mod L],   k = DFT(s1 s2 mod2 post1 mask):
 * the image is the input flipped and blurred by k, the coherent point-spread function
 * (2D: the same with x and y tables).  With input and output confined to the centred
 * window (j = j0 + a, n = j0 + c, 0 <= a, c < m) only k[2 j0 + r], 0 <= r <= 2m − 2, is
 * read, so the window's image is a correlation of m x m values with 2m − 1 x 2m − 1
 * values: a convolution with the input reversed, by FFTs of N = 2m a side. */
int acdc_optics_4f_psf_alloc(acdc_optics_4f_psf **out, const acdc_optics_lens_plan *l1,
                             const double complex *mask, const acdc_optics_lens_plan *l2,
                             size_t m)
{
    if (!out)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "output pointer is NULL");
    *out = NULL;
    if (!l1 || !l2)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "lens plan is NULL");
    if (l1->gin.rank != 2 || !acdc_optics_grid_same(&l1->gout, &l2->gin))
        return acdc_util_error(ACDC_UTIL_EUSAGE, "4f window: rank-%d lenses whose planes %s",
                               l1->gin.rank, acdc_optics_grid_same(&l1->gout, &l2->gin)
                                                 ? "match (rank 2 needed)" : "do not match");
    const size_t L = l1->gin.nx;
    if (m < 1 || 2 * m - 1 > L)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "4f window of %zu x %zu samples in planes of "
                               "%zu x %zu: the window needs 1 <= 2m - 1 <= %zu", m, m, L, L, L);
    acdc_optics_4f_psf *p = calloc(1, sizeof *p);
    double complex *k = fftw_malloc(L * L * sizeof *k);
    fftw_plan pk = plan_2d(L, FFTW_FORWARD, FFTW_ESTIMATE);
    const size_t N = 2 * m, j0 = L / 2 - m / 2;
    int rc = ACDC_UTIL_OK;
    if (p) {
        p->gin = l1->gin;
        p->L = L;
        p->m = m;
        p->N = N;
        p->h = fftw_malloc(N * N * sizeof *p->h);
        p->mod1x = malloc(m * sizeof *p->mod1x);
        p->mod1y = malloc(m * sizeof *p->mod1y);
        p->post2x = malloc(m * sizeof *p->post2x);
        p->post2y = malloc(m * sizeof *p->post2y);
        p->fwd = plan_2d(N, FFTW_FORWARD, fft_flags);
        p->bwd = plan_2d(N, FFTW_BACKWARD, fft_flags);
    }
    if (!p || !k || !pk || !p->h || !p->mod1x || !p->mod1y || !p->post2x || !p->post2y ||
        !p->fwd || !p->bwd) {
        rc = acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for a 4f window of %zu x %zu in "
                             "planes of %zu x %zu", m, m, L, L);
        goto out;
    }
    const double complex s = acdc_optics_cmul(l1->scale_f, l2->scale_f);
    for (size_t y = 0; y < L; y++)
        for (size_t x = 0; x < L; x++) {
            double complex v = acdc_optics_cmul(s, acdc_optics_cmul(acdc_optics_cmul(l1->postx[x], l1->posty[y]),
                                            acdc_optics_cmul(l2->modx[x], l2->mody[y])));
            k[y * L + x] = mask ? acdc_optics_cmul(v, mask[y * L + x]) : v;
        }
    run_2d(pk, k, L);
    const double norm = 1.0 / ((double)N * (double)N);
    memset(p->h, 0, N * N * sizeof *p->h);
    for (size_t ry = 0; ry + 1 < N; ry++)
        for (size_t rx = 0; rx + 1 < N; rx++)
            p->h[ry * N + rx] = norm * k[((2 * j0 + ry) % L) * L + (2 * j0 + rx) % L];
    run_2d(p->fwd, p->h, N);
    for (size_t a = 0; a < m; a++) {
        p->mod1x[a] = l1->modx[j0 + a];
        p->mod1y[a] = l1->mody[j0 + a];
        p->post2x[a] = l2->postx[j0 + a];
        p->post2y[a] = l2->posty[j0 + a];
    }
out:
    fftw_free(k);
    destroy(pk);
    if (rc)
        acdc_optics_4f_psf_free(p);
    else
        *out = p;
    return rc;
}

int acdc_optics_4f_psf_apply(const acdc_optics_4f_psf *const *psf,
                             const acdc_optics_field *const *in, size_t count,
                             double complex *out)
{
    if (!psf || !in || !out || count < 1)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "4f window: %s",
                               count < 1 ? "no inputs" : "NULL argument");
    for (size_t t = 0; t < count; t++) {
        if (!psf[t])
            return acdc_util_error(ACDC_UTIL_EUSAGE, "4f window %zu is NULL", t);
        int rc = check_batch(&psf[0]->gin, in[t], "input");
        if (rc)
            return rc;
        if (psf[t]->m != psf[0]->m || !acdc_optics_grid_same(&psf[t]->gin, &psf[0]->gin) ||
            in[t]->nb != in[0]->nb)
            return acdc_util_error(ACDC_UTIL_EUSAGE, "4f window %zu differs from the first in "
                                   "window, planes or batch", t);
    }
    const acdc_optics_4f_psf *p = psf[0];
    const size_t L = p->L, m = p->m, N = p->N, j0 = L / 2 - m / 2, nb = in[0]->nb;
    const int nt = nb < 2 ? 1 : omp_get_max_threads();
    double complex *work = fftw_malloc((size_t)nt * 2 * N * N * sizeof *work);
    if (!work)
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for a 4f window's work space");
#pragma omp parallel num_threads(nt)
    {
        double complex *acc = work + (size_t)omp_get_thread_num() * 2 * N * N, *w = acc + N * N;
#pragma omp for schedule(dynamic, 1)
        for (long b = 0; b < (long)nb; b++) {
            for (size_t t = 0; t < count; t++) {
                /* the window's values with l1's input phase, reversed: a at (N − a) mod N */
                const double complex *f = in[t]->data + (size_t)b * L * L + j0 * L + j0;
                memset(w, 0, N * N * sizeof *w);
                for (size_t ay = 0; ay < m; ay++)
                    for (size_t ax = 0; ax < m; ax++)
                        w[((N - ay) % N) * N + (N - ax) % N] =
                            acdc_optics_cmul(f[ay * L + ax], acdc_optics_cmul(p->mod1y[ay], p->mod1x[ax]));
                run_2d(p->fwd, w, N);
                const double complex *h = psf[t]->h;
                if (t == 0)
                    for (size_t i = 0; i < N * N; i++)
                        acc[i] = acdc_optics_cmul(h[i], w[i]);
                else
                    for (size_t i = 0; i < N * N; i++)
                        acc[i] += acdc_optics_cmul(h[i], w[i]);
            }
            run_2d(p->bwd, acc, N);
            double complex *o = out + (size_t)b * m * m;
            for (size_t cy = 0; cy < m; cy++)
                for (size_t cx = 0; cx < m; cx++)
                    o[cy * m + cx] = acdc_optics_cmul(acc[cy * N + cx], acdc_optics_cmul(p->post2y[cy], p->post2x[cx]));
        }
    }
    fftw_free(work);
    return ACDC_UTIL_OK;
}

/* ---------------------------------------------------------------- free space */

struct acdc_optics_prop {
    acdc_optics_grid g;
    double z_m;
    enum acdc_optics_method method;
    char why[1024];
    size_t px, py;          /* transform sizes: nx, ny or 2nx, 2ny (padded methods) */
    size_t sx;              /* row stride of the work array: px, or px + 8 when padded,
                               so that columns do not stride by a power of two (which
                               maps a block of columns onto a few cache sets) */
    fft2 t;
    /* Transfer function of the transform grid.  fresnel-tf and fresnel-ir are
     * separable: H = hconst * hx[kx] * hy[ky].  asm-bl depends on |fx|, |fy| only and
     * is stored for the quarter 0 <= kx <= px/2, 0 <= ky <= py/2, column by column
     * (hq[kx * hqh + ky], so that a block of columns reads it sequentially), with the
     * normalisation 1/(px py) of the inverse FFT folded in. */
    double complex hconst, *hx, *hy, *hq;
    size_t hqh;
    double complex *h1;     /* rank 1: H of every kx (prop_h(p, 0, kx, 0)), tabulated
                               once, so that a row's multiply is a plain vector loop */
    double complex *work;   /* asm-bl rank 2: py x px padded field */
    double complex **rowbuf;/* asm-bl rank 1: one padded row per thread */
    int nthreads;
};

const char *acdc_optics_method_name(enum acdc_optics_method m)
{
    switch (m) {
    case ACDC_OPTICS_AUTO: return "auto";
    case ACDC_OPTICS_FRESNEL_TF: return "fresnel-tf";
    case ACDC_OPTICS_FRESNEL_IR: return "fresnel-ir";
    case ACDC_OPTICS_ASM_BL: return "asm-bl";
    }
    return "?";
}

/* Appends printf output to buf at *len, never overflowing. */
static void say(char *buf, size_t size, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void say(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
    if (!buf || *len + 1 >= size)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(buf + *len, size - *len, fmt, ap);
    va_end(ap);
    if (k > 0)
        *len = *len + (size_t)k < size ? *len + (size_t)k : size - 1;
}

/* Length with a readable unit: 3.1 um, 12.4 mm, 0.21 m. */
static const char *len_str(char *s, double m)
{
    double a = fabs(m);
    if (a == 0)
        snprintf(s, 32, "0 m");
    else if (a < 1e-6)
        snprintf(s, 32, "%.3g nm", m * 1e9);
    else if (a < 1e-3)
        snprintf(s, 32, "%.3g um", m * 1e6);
    else if (a < 1)
        snprintf(s, 32, "%.3g mm", m * 1e3);
    else
        snprintf(s, 32, "%.4g m", m);
    return s;
}

int acdc_optics_prop_advise(const acdc_optics_grid *g, double z_m,
                            enum acdc_optics_method requested,
                            enum acdc_optics_method *chosen, int *nwarn, char *buf, size_t size)
{
    int rc = acdc_optics_grid_check(g);
    if (rc)
        return rc;
    if (!isfinite(z_m))
        return acdc_util_error(ACDC_UTIL_EUSAGE, "propagation distance %g m is not finite", z_m);
    if (requested < ACDC_OPTICS_AUTO || requested > ACDC_OPTICS_ASM_BL)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "propagation method %d is unknown",
                               (int)requested);
    if (requested == ACDC_OPTICS_FRESNEL_IR && z_m == 0)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "fresnel-ir cannot propagate over z = 0 m (its "
                               "impulse response is a delta)");
    size_t len = 0;
    if (buf && size)
        buf[0] = '\0';
    char s1[32], s2[32], s3[32];
    double lam = g->wavelength_m, dx = g->pitch_m, z = fabs(z_m);
    size_t nmin = g->rank == 2 && g->ny < g->nx ? g->ny : g->nx;
    size_t nmax = g->rank == 2 && g->ny > g->nx ? g->ny : g->nx;
    double lmin = (double)nmin * dx, lmax = (double)nmax * dx;
    /* compare with dx: tf on the window L, ir on its 2L padded window */
    /* Critical sampling dx = lambda z / L is the design point of a 4f system; a relative
     * slack of 1e-9 keeps rounding in z from calling it undersampled. */
    double crit_tf = lam * z / lmin * (1 - 1e-9), crit_ir = lam * z / (2 * lmax) * (1 + 1e-9);
    /* Fresnel (paraxial) error: the next term of the expansion of k sqrt(z^2 + r^2)
     * is k r^4 / (8 z^3); r = the window's diagonal bounds the distances that matter. */
    double r = (g->rank == 2 ? sqrt(2.0) : 1.0) * lmax;
    double par = z > 0 ? 2 * M_PI / lam * pow(r, 4) / (8 * z * z * z) : INFINITY;
    /* the band limit of asm-bl on the padded grid (Matsushima & Shimobaba eq. 13) */
    double df = 1 / (2 * lmin);
    double flim = 1 / (lam * sqrt(pow(2 * df * z, 2) + 1)), fnyq = 1 / (2 * dx);
    enum acdc_optics_method m = requested;
    int warn = 0;
    if (m == ACDC_OPTICS_AUTO) {
        if (z <= 2 * dx * lmin / lam) {
            m = ACDC_OPTICS_ASM_BL;
            say(buf, size, &len, "chose asm-bl: z = %s <= 2 dx L / lambda = %s, so the "
                "band limit %.3g /mm keeps every frequency up to Nyquist %.3g /mm; "
                "exact scalar diffraction with 2x padding, no wrap-around\n",
                len_str(s1, z_m), len_str(s2, 2 * dx * lmin / lam), flim * 1e-3,
                fnyq * 1e-3);
        } else if (dx <= crit_ir && par <= 0.1) {
            m = ACDC_OPTICS_FRESNEL_IR;
            say(buf, size, &len, "chose fresnel-ir: dx = %s <= lambda z / (2L) = %s (far "
                "from the source the impulse response is well sampled on the padded "
                "window) and the paraxial phase error k r^4/(8 z^3) = %.2g rad is below "
                "0.1\n", len_str(s1, dx), len_str(s2, crit_ir), par);
        } else {
            m = ACDC_OPTICS_ASM_BL;
            say(buf, size, &len, "chose asm-bl: z = %s > 2 dx L / lambda = %s but %s, so "
                "exact scalar diffraction is kept\n", len_str(s1, z_m),
                len_str(s2, 2 * dx * lmin / lam), dx > crit_ir ?
                "the impulse response would be undersampled along the longer axis" :
                "the Fresnel approximation would err by more than 0.1 rad");
        }
    }
    switch (m) {
    case ACDC_OPTICS_FRESNEL_TF:
        if (dx >= crit_tf) {
            say(buf, size, &len, "fresnel-tf: dx = %s >= lambda z / L = %s: transfer "
                "function accurate\n", len_str(s1, dx), len_str(s2, crit_tf));
        } else {
            warn++;
            say(buf, size, &len, "warning: fresnel-tf: dx = %s < lambda z / L = %s: the "
                "transfer-function chirp is undersampled and will alias; use fresnel-ir "
                "or asm-bl\n", len_str(s1, dx), len_str(s2, crit_tf));
        }
        break;
    case ACDC_OPTICS_FRESNEL_IR:
        if (dx <= crit_ir) {
            say(buf, size, &len, "fresnel-ir: dx = %s <= lambda z / (2L) = %s: impulse "
                "response accurate over the 2x padded window\n", len_str(s1, dx),
                len_str(s2, crit_ir));
        } else {
            warn++;
            say(buf, size, &len, "warning: fresnel-ir: dx = %s > lambda z / (2L) = %s: "
                "the impulse-response chirp is undersampled on the padded window and "
                "will alias; use fresnel-tf or asm-bl\n", len_str(s1, dx),
                len_str(s2, crit_ir));
        }
        break;
    case ACDC_OPTICS_ASM_BL:
        if (flim >= fnyq) {
            say(buf, size, &len, "asm-bl: band limit %.3g /mm >= Nyquist %.3g /mm: every "
                "sampled frequency propagates exactly\n", flim * 1e-3, fnyq * 1e-3);
        } else {
            warn++;
            say(buf, size, &len, "warning: asm-bl: band limit %.3g /mm < Nyquist %.3g "
                "/mm: frequencies above it are discarded (they would alias on the padded "
                "window), so detail finer than %s is lost; a larger window or fresnel-ir "
                "keeps it\n", flim * 1e-3, fnyq * 1e-3, len_str(s1, 1 / (2 * flim)));
        }
        break;
    default:
        break;
    }
    if (m == ACDC_OPTICS_FRESNEL_TF || m == ACDC_OPTICS_FRESNEL_IR) {
        /* tf: the quartic term of kz at the grid's steepest angle, k z sin^4 / 8;
         * ir: the quartic term of the distance across the window */
        double th = fmin(1.0, lam * fnyq);
        double perr = m == ACDC_OPTICS_FRESNEL_TF ? 2 * M_PI * z / lam * pow(th, 4) / 8 : par;
        if (perr > 0.1) {
            warn++;
            say(buf, size, &len, "warning: %s: the Fresnel (paraxial) approximation errs "
                "by up to %.2g rad on this grid; asm-bl is exact\n",
                acdc_optics_method_name(m), perr);
        }
    }
    if (m == ACDC_OPTICS_FRESNEL_TF)
        say(buf, size, &len, "note: %s treats the window (%s) as periodic: light that "
            "walks off one edge (up to lambda |z| / (2 dx) = %s at Nyquist) re-enters at "
            "the other; acdc_optics_prop_check_field() checks a given field\n",
            acdc_optics_method_name(m), len_str(s3, lmax), len_str(s1, lam * z / (2 * dx)));
    if (chosen)
        *chosen = m;
    if (nwarn)
        *nwarn = warn;
    return ACDC_UTIL_OK;
}

static int prop_tables(acdc_optics_prop *p)
{
    const acdc_optics_grid *g = &p->g;
    double lam = g->wavelength_m, dx = g->pitch_m, z = p->z_m;
    double complex ekz = cis_turns(z / lam);   /* e^{ikz}, reduced exactly */
    if (p->method == ACDC_OPTICS_ASM_BL) {
        size_t qw = p->px / 2 + 1, qh = g->rank == 2 ? p->py / 2 + 1 : 1;
        p->hqh = qh;
        p->hq = malloc(qw * qh * sizeof *p->hq);
        if (!p->hq)
            return acdc_util_error(ACDC_UTIL_ENOMEM, "cannot allocate the transfer function");
        double dfx = 1 / ((double)p->px * dx), dfy = 1 / ((double)p->py * dx);
        double limx = 1 / (lam * sqrt(pow(2 * dfx * z, 2) + 1));
        double limy = 1 / (lam * sqrt(pow(2 * dfy * z, 2) + 1));
        double norm = 1.0 / ((double)p->px * (double)p->py), il = 1 / lam;
        for (size_t ky = 0; ky < qh; ky++) {
            double fy = (double)ky * dfy;
            for (size_t kx = 0; kx < qw; kx++) {
                double fx = (double)kx * dfx, f2 = fx * fx + fy * fy;
                double complex h = 0;
                if (fx <= limx && fy <= limy && f2 < il * il) {
                    /* kz - k = -f^2 / (1/lambda + sqrt(1/lambda^2 - f^2)), without the
                     * cancellation of subtracting two nearly equal numbers */
                    double dk = -f2 / (il + sqrt(il * il - f2));
                    h = ekz * cis_turns(z * dk) * norm;
                }
                p->hq[kx * qh + ky] = h;
            }
        }
        return ACDC_UTIL_OK;
    }
    p->hx = malloc(p->px * sizeof *p->hx);
    p->hy = malloc(p->py * sizeof *p->hy);
    if (!p->hx || !p->hy)
        return acdc_util_error(ACDC_UTIL_ENOMEM, "cannot allocate the transfer function");
    double norm = 1.0 / ((double)p->px * (double)p->py);
    for (int axis = 0; axis < g->rank; axis++) {
        size_t n = axis == 0 ? p->px : p->py;
        double complex *h = axis == 0 ? p->hx : p->hy;
        size_t c = n / 2;
        for (size_t k = 0; k < n; k++) {
            /* FFT order: index k holds offset k for k < n - c, else k - n */
            double s = k < n - c ? (double)k : (double)k - (double)n;
            if (p->method == ACDC_OPTICS_FRESNEL_TF) {
                double f = s / ((double)n * dx);
                h[k] = cis_turns(-0.5 * lam * z * f * f);
            } else {
                double x = s * dx;
                h[k] = cis_turns(0.5 * x * x / (lam * z));
            }
        }
        if (p->method == ACDC_OPTICS_FRESNEL_IR) {
            /* H = dx * FFT(h), computed once */
            fftw_plan fp = plan_many(n, 1, 1, n, FFTW_FORWARD);
            if (!fp)
                return acdc_util_error(ACDC_UTIL_ENOMEM, "cannot plan an FFT of %zu samples", n);
            run(fp, h, n, 1);
            fftw_destroy_plan(fp);
            for (size_t k = 0; k < n; k++)
                h[k] *= dx;
        }
    }
    if (g->rank == 1)
        p->hy[0] = 1;
    if (p->method == ACDC_OPTICS_FRESNEL_TF)
        p->hconst = ekz * norm;
    else if (g->rank == 1)
        p->hconst = ekz / csqrt(I * lam * z) * norm;
    else
        p->hconst = ekz / (I * lam * z) * norm;
    return ACDC_UTIL_OK;
}

static inline double complex prop_h(const acdc_optics_prop *p, size_t ky, size_t kx, int adj);

int acdc_optics_prop_alloc(acdc_optics_prop **out, const acdc_optics_grid *g, double z_m,
                           enum acdc_optics_method method)
{
    if (!out)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "output pointer is NULL");
    *out = NULL;
    enum acdc_optics_method m;
    char why[1024];
    int rc = acdc_optics_prop_advise(g, z_m, method, &m, NULL, why, sizeof why);
    if (rc)
        return rc;
    acdc_optics_prop *p = calloc(1, sizeof *p);
    if (!p)
        return acdc_util_error(ACDC_UTIL_ENOMEM, "cannot allocate a propagation plan");
    p->g = *g;
    p->z_m = z_m;
    p->method = m;
    memcpy(p->why, why, sizeof why);
    /* asm-bl and fresnel-ir run on a 2x zero-padded window: linear, not circular,
     * convolution, so nothing wraps into the kept window */
    int pad = m == ACDC_OPTICS_FRESNEL_TF ? 1 : 2;
    p->px = pad * g->nx;
    p->py = g->rank == 2 ? pad * g->ny : 1;
    p->sx = pad == 2 && g->rank == 2 ? p->px + 8 : p->px;
    rc = fft2_init(&p->t, p->py, p->px, p->sx, g->rank == 2);
    if (!rc)
        rc = prop_tables(p);
    if (!rc && g->rank == 1) {
        if (!(p->h1 = malloc(p->px * sizeof *p->h1)))
            rc = acdc_util_error(ACDC_UTIL_ENOMEM, "cannot allocate a transfer function of %zu "
                                 "samples", p->px);
        else
            for (size_t k = 0; k < p->px; k++)
                p->h1[k] = prop_h(p, 0, k, 0);
    }
    if (!rc && pad == 2 && g->rank == 2) {
        if (p->sx > SIZE_MAX / p->py / sizeof *p->work ||
            !(p->work = fftw_malloc(p->sx * p->py * sizeof *p->work)))
            rc = acdc_util_error(ACDC_UTIL_ENOMEM, "cannot allocate the padded %zu x %zu window",
                                 p->px, p->py);
    }
    if (!rc && pad == 2 && g->rank == 1) {
        p->nthreads = omp_get_max_threads();
        p->rowbuf = calloc((size_t)p->nthreads, sizeof *p->rowbuf);
        if (!p->rowbuf)
            rc = acdc_util_error(ACDC_UTIL_ENOMEM, "cannot allocate row buffers");
        for (int i = 0; !rc && i < p->nthreads; i++)
            if (!(p->rowbuf[i] = fftw_malloc(p->px * sizeof **p->rowbuf)))
                rc = acdc_util_error(ACDC_UTIL_ENOMEM, "cannot allocate row buffers");
    }
    if (rc) {
        acdc_optics_prop_free(p);
        return rc;
    }
    *out = p;
    return ACDC_UTIL_OK;
}

void acdc_optics_prop_free(acdc_optics_prop *p)
{
    if (!p)
        return;
    fft2_free(&p->t);
    free(p->hx);
    free(p->hy);
    free(p->hq);
    free(p->h1);
    fftw_free(p->work);
    if (p->rowbuf)
        for (int i = 0; i < p->nthreads; i++)
            fftw_free(p->rowbuf[i]);
    free(p->rowbuf);
    free(p);
}

enum acdc_optics_method acdc_optics_prop_method(const acdc_optics_prop *p)
{
    return p ? p->method : ACDC_OPTICS_AUTO;
}

const char *acdc_optics_prop_explanation(const acdc_optics_prop *p)
{
    return p ? p->why : "";
}

/* Transfer function at FFT indices (ky, kx), conjugated for the adjoint. */
static inline double complex prop_h(const acdc_optics_prop *p, size_t ky, size_t kx, int adj)
{
    double complex h;
    if (p->hq) {
        size_t ax = kx <= p->px / 2 ? kx : p->px - kx;
        size_t ay = ky <= p->py / 2 ? ky : p->py - ky;
        h = p->hq[ax * p->hqh + ay];
    } else {
        h = acdc_optics_cmul(acdc_optics_cmul(p->hconst, p->hy[ky]), p->hx[kx]);
    }
    return adj ? conj(h) : h;
}

typedef struct prop_col_ctx {
    const acdc_optics_prop *p;
    int adj;
} prop_col_ctx;

/* Columns: forward FFT, multiply by H, backward FFT, while the block is in cache. */
static void prop_col(const void *vctx, double complex *a, size_t x0, size_t nb)
{
    const prop_col_ctx *c = vctx;
    const acdc_optics_prop *p = c->p;
    fft2_col(&p->t, a, nb, 0);
    for (size_t y = 0; y < p->py; y++) {
        double complex *r = a + y * COLB;
        for (size_t j = 0; j < nb; j++)
            r[j] = acdc_optics_cmul(r[j], prop_h(p, y, x0 + j, c->adj));
    }
    fft2_col(&p->t, a, nb, 1);
}

/* One rank-1 row (length nx) from src into dst; buf is a padded row for asm-bl or dst
 * itself. */
static void prop_row(const acdc_optics_prop *p, const double complex *src, double complex *dst,
                     double complex *buf, int adj)
{
    size_t nx = p->g.nx;
    if (buf != dst) {
        memcpy(buf, src, nx * sizeof *buf);
        memset(buf + nx, 0, (p->px - nx) * sizeof *buf);
    } else if (src != dst) {
        memcpy(dst, src, nx * sizeof *dst);
    }
    run(p->t.row[0], buf, p->px, 1);
    const double complex *h = p->h1;
    if (adj)
        for (size_t k = 0; k < p->px; k++)
            buf[k] = acdc_optics_cmul(buf[k], conj(h[k]));
    else
        for (size_t k = 0; k < p->px; k++)
            buf[k] = acdc_optics_cmul(buf[k], h[k]);
    run(p->t.row[1], buf, p->px, 1);
    if (buf != dst)
        memcpy(dst, buf, nx * sizeof *dst);
}

static void prop_2d(const acdc_optics_prop *p, const double complex *src, double complex *dst,
                    int adj)
{
    size_t nx = p->g.nx, ny = p->g.ny, px = p->px, sx = p->sx;
    double complex *w = p->work ? p->work : dst;
    /* rows holding data: copy (zero-padded) and transform; the padding rows are zero
     * and stay zero under the row transform, so they are only cleared */
#pragma omp parallel for schedule(static)
    for (long y = 0; y < (long)p->py; y++) {
        double complex *r = w + (size_t)y * sx;
        if ((size_t)y >= ny) {
            memset(r, 0, px * sizeof *r);
            continue;
        }
        if (r != src + (size_t)y * nx)
            memcpy(r, src + (size_t)y * nx, nx * sizeof *r);
        if (px > nx)
            memset(r + nx, 0, (px - nx) * sizeof *r);
        run(p->t.row[0], r, px, 1);
    }
    prop_col_ctx c = {p, adj};
    fft2_col_blocks(&p->t, w, px, prop_col, &c);
    /* only the rows inside the window are needed back */
#pragma omp parallel for schedule(static)
    for (long y = 0; y < (long)ny; y++) {
        double complex *r = w + (size_t)y * sx;
        run(p->t.row[1], r, px, 1);
        if (w != dst)
            memcpy(dst + (size_t)y * nx, r, nx * sizeof *r);
    }
}

static int prop_run(const acdc_optics_prop *p, const acdc_optics_field *in, acdc_optics_field *out,
                    int adj)
{
    if (!p)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "propagation plan is NULL");
    int rc = check_batch(&p->g, in, "input");
    if (!rc && out != in)
        rc = check_batch(&p->g, out, "output");
    if (rc)
        return rc;
    if (out->nb != in->nb)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "batch of %zu fields into a batch of %zu", in->nb,
                               out->nb);
    size_t n = acdc_optics_grid_size(&p->g);
    if (p->g.rank == 1) {
        int nt = omp_get_max_threads();
        if (p->rowbuf && p->nthreads < nt)
            nt = p->nthreads;   /* one padded row buffer per thread */
#pragma omp parallel for schedule(static) num_threads(nt)
        for (long b = 0; b < (long)in->nb; b++) {
            double complex *d = out->data + (size_t)b * n;
            double complex *buf = p->rowbuf ? p->rowbuf[omp_get_thread_num()] : d;
            prop_row(p, in->data + (size_t)b * n, d, buf, adj);
        }
    } else {
        for (size_t b = 0; b < in->nb; b++)
            prop_2d(p, in->data + b * n, out->data + b * n, adj);
    }
    return ACDC_UTIL_OK;
}

int acdc_optics_prop_apply(const acdc_optics_prop *p, const acdc_optics_field *in,
                           acdc_optics_field *out)
{
    return prop_run(p, in, out, 0);
}

int acdc_optics_prop_adjoint(const acdc_optics_prop *p, const acdc_optics_field *in,
                             acdc_optics_field *out)
{
    return prop_run(p, in, out, 1);
}

int acdc_optics_prop_check_field(const acdc_optics_prop *p, const acdc_optics_field *f, char *buf,
                                 size_t size)
{
    if (!p)
        return -acdc_util_error(ACDC_UTIL_EUSAGE, "propagation plan is NULL");
    int rc = check_batch(&p->g, f, "checked");
    if (rc)
        return -rc;
    size_t len = 0;
    if (buf && size)
        buf[0] = '\0';
    const acdc_optics_grid *g = &p->g;
    size_t n = acdc_optics_grid_size(g);
    double peak = 0;
    for (size_t i = 0; i < f->nb * n; i++)
        peak = fmax(peak, creal(f->data[i] * conj(f->data[i])));
    if (peak == 0)
        return 0;
    /* half-extent of the lit region about the axis, per axis */
    double ext[2] = {0, 0};
    for (size_t i = 0; i < f->nb * n; i++) {
        if (creal(f->data[i] * conj(f->data[i])) <= 1e-6 * peak)
            continue;
        size_t x = i % g->nx, y = (i % n) / g->nx;
        ext[0] = fmax(ext[0], fabs(acdc_optics_coord_m(x, g->nx, g->pitch_m)));
        if (g->rank == 2)
            ext[1] = fmax(ext[1], fabs(acdc_optics_coord_m(y, g->ny, g->pitch_m)));
    }
    double lam = g->wavelength_m, z = fabs(p->z_m), dx = g->pitch_m;
    double sinmax = fmin(1.0, lam / (2 * dx));
    int warn = 0;
    char s1[32], s2[32], s3[32];
    /* fresnel-ir: the kernel is cut at +-L on the 2L padded window, so light from the
     * kept window lands at most 3L/2 from the axis and cannot re-enter it */
    for (int a = 0; a < g->rank && p->method != ACDC_OPTICS_FRESNEL_IR; a++) {
        size_t m = a == 0 ? g->nx : g->ny;
        double L = (double)m * dx;
        double s = sinmax;
        double room = L / 2;   /* periodic window: wraps past the far edge */
        if (p->method == ACDC_OPTICS_ASM_BL) {
            double df = 1 / (2 * L);
            s = fmin(s, 1 / sqrt(pow(2 * df * z, 2) + 1));
            room = 1.5 * L;    /* padded to 2L: light must travel beyond 3L/2 to
                                  re-enter the kept window */
        }
        double walk = s < 1 ? z * s / sqrt(1 - s * s) : INFINITY;
        if (ext[a] + walk > room) {
            warn++;
            say(buf, size, &len, "warning: %s along %c: light reaches %s from the axis "
                "and may walk off by up to %s, beyond the %s the window allows: it may "
                "wrap around\n", acdc_optics_method_name(p->method), a ? 'y' : 'x',
                len_str(s1, ext[a]), len_str(s2, walk), len_str(s3, room));
        }
    }
    return warn;
}
