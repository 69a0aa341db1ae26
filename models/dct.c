/* SPDX-License-Identifier: GPL-3.0-or-later */
/* models/dct.c -- see dct.h.  The plans of both precisions come from one source,
 * models/dct_real.inc; what does not depend on the precision (shapes, scales, messages)
 * is here once. */
#include "models/dct.h"
#include "util/error.h"

#include <fftw3.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* ACDC_UTIL_EUSAGE unless h × w (1 × n for a 1D plan) is a shape FFTW may plan. */
static int check_shape(size_t h, size_t w, int rank2)
{
    if (h == 0 || w == 0)
        return rank2 ? acdc_util_error(ACDC_UTIL_EUSAGE, "transform shape %zux%zu has a zero side",
                                       h, w)
                     : acdc_util_error(ACDC_UTIL_EUSAGE, "transform length must be at least 1");
    if (h > (size_t)1 << 28 || w > (size_t)1 << 28 || h * w > (size_t)1 << 28)
        return rank2 ? acdc_util_error(ACDC_UTIL_EUSAGE, "transform shape %zux%zu is too large", h,
                                       w)
                     : acdc_util_error(ACDC_UTIL_EUSAGE, "transform length %zu is too large", w);
    return ACDC_UTIL_OK;
}

static int plan_failed(size_t h, size_t w, int rank2)
{
    return rank2 ? acdc_util_error(ACDC_UTIL_ENOMEM, "FFTW could not plan a 2D DCT of shape "
                                   "%zux%zu", h, w)
                 : acdc_util_error(ACDC_UTIL_ENOMEM, "FFTW could not plan a DCT of length %zu",
                                   h * w);
}

static int plan_nomem(size_t h, size_t w, int rank2)
{
    return rank2 ? acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory planning a 2D DCT of shape "
                                   "%zux%zu", h, w)
                 : acdc_util_error(ACDC_UTIL_ENOMEM,
                                   "out of memory planning a DCT of length %zu", h * w);
}

/* FFTW's system wisdom, imported once before this module's first plan (under the
 * planner's lock: the callers hold it); 0 until then, then WISDOM_DONE and the
 * ACDC_WISDOM_* bits of the files read (none once acdc_plan_forget_wisdom() has run). */
#define WISDOM_DONE 4
static int wisdom_state;

static void wisdom_import_locked(void)
{
    if (wisdom_state)
        return;
    wisdom_state = WISDOM_DONE;
    if (fftw_import_system_wisdom())
        wisdom_state |= ACDC_WISDOM_DOUBLE;
    if (fftwf_import_system_wisdom())
        wisdom_state |= ACDC_WISDOM_FLOAT;
}

int acdc_plan_wisdom(void)
{
    int state;
#pragma omp critical(acdc_fftw_planner)
    {
        wisdom_import_locked();
        state = wisdom_state & (ACDC_WISDOM_DOUBLE | ACDC_WISDOM_FLOAT);
    }
    return state;
}

void acdc_plan_forget_wisdom(void)
{
#pragma omp critical(acdc_fftw_planner)
    {
        fftw_forget_wisdom();
        fftwf_forget_wisdom();
        wisdom_state = WISDOM_DONE;
    }
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

/* s2 and s3 (n = h·w each) of a plan: one axis in 1D; in 2D, C₂ = C_h ⊗ C_w and FFTW's
 * rank-2 REDFT10 is the product of the per-axis unnormalised transforms, so the scales
 * are the outer products s_h ⊗ s_w and c_h ⊗ c_w.  Returns non-zero if memory ran out. */
static int grid_scales(size_t h, size_t w, int rank2, double *s2, double *s3)
{
    if (!rank2) {
        axis_scales(w, s2, s3);
        return 0;
    }
    double *sh = malloc((h + w) * sizeof *sh), *ch = malloc((h + w) * sizeof *ch);
    if (!sh || !ch) {
        free(sh);
        free(ch);
        return 1;
    }
    axis_scales(h, sh, ch);
    axis_scales(w, sh + h, ch + h);
    for (size_t i = 0; i < h; i++)
        for (size_t j = 0; j < w; j++) {
            s2[i * w + j] = sh[i] * sh[h + j];
            s3[i * w + j] = ch[i] * ch[h + j];
        }
    free(sh);
    free(ch);
    return 0;
}

#define REAL double
#define PLAN acdc_plan
#define FFTW(x) fftw_##x
#define PN(x) acdc_plan_##x
#define DCTN(k) acdc_dct##k
#define LOCAL(x) x##_d
#include "models/dct_real.inc"
#undef REAL
#undef PLAN
#undef FFTW
#undef PN
#undef DCTN
#undef LOCAL

#define REAL float
#define PLAN acdc_planf
#define FFTW(x) fftwf_##x
#define PN(x) acdc_planf_##x
#define DCTN(k) acdc_dct##k##f
#define LOCAL(x) x##_f
#include "models/dct_real.inc"
#undef REAL
#undef PLAN
#undef FFTW
#undef PN
#undef DCTN
#undef LOCAL
