/* SPDX-License-Identifier: GPL-3.0-or-later */
/* models/model.c -- see model.h. */
#include "models/model.h"
#include "util/error.h"
#include "util/mem.h"
#include "util/parse.h"

#include <fftw3.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

static double *vec(size_t n, double fill)
{
    double *v = malloc(n * sizeof *v);
    if (v)
        for (size_t i = 0; i < n; i++)
            v[i] = fill;
    return v;
}

int acdc_model_alloc(acdc_model **out, size_t n, size_t n_in, size_t n_out,
                     size_t n_layers, unsigned opts)
{
    *out = NULL;
    if (n == 0 || n > ((size_t)1 << 28))
        return acdc_util_error(ACDC_UTIL_EUSAGE, "layer size n = %zu is out of range 1..%zu", n,
                               (size_t)1 << 28);
    if (n_in == 0 || n_in > n)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "n_in = %zu must be between 1 and n = %zu", n_in,
                               n);
    if (n_out == 0 || n_out > n)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "n_out = %zu must be between 1 and n = %zu", n_out,
                               n);
    if (n_layers == 0 || n_layers > 100000)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "number of layers %zu is out of range 1..100000",
                               n_layers);
    /* estimated before allocating: a, d, the biases and the permutation asked for */
    const double need = 8.0 * (double)n * (double)n_layers *
                        (2.0 + !!(opts & ACDC_A_BIAS) + !!(opts & ACDC_D_BIAS) +
                         !!(opts & ACDC_PERM)) + 16.0 * (double)n_in;
    char what[96];
    snprintf(what, sizeof what, "a model of %zu layers of %zu", n_layers, n);
    int rc = acdc_util_mem_check(need, what);
    if (rc)
        return rc;
    acdc_model *m = calloc(1, sizeof *m);
    if (!m)
        goto nomem;
    m->n = n;
    m->n_in = n_in;
    m->n_out = n_out;
    m->n_layers = n_layers;
    m->transform = ACDC_TRANSFORM_DCT;
    m->h = 1;
    m->w = n;
    m->in_h = 1;
    m->in_w = n_in;
    m->layers = calloc(n_layers, sizeof *m->layers);
    if (!m->layers)
        goto nomem;
    for (size_t l = 0; l < n_layers; l++) {
        acdc_layer *L = &m->layers[l];
        L->n = n;
        L->a = vec(n, 1.0);
        L->d = vec(n, 1.0);
        if (!L->a || !L->d)
            goto nomem;
        if ((opts & ACDC_A_BIAS) && !(L->a_bias = vec(n, 0.0)))
            goto nomem;
        if ((opts & ACDC_D_BIAS) && !(L->d_bias = vec(n, 0.0)))
            goto nomem;
        if (opts & ACDC_PERM) {
            if (!(L->perm = malloc(n * sizeof *L->perm)))
                goto nomem;
            for (size_t i = 0; i < n; i++)
                L->perm[i] = (int64_t)i;
        }
        L->relu = (opts & ACDC_RELU) && l + 1 < n_layers;
    }
    if (opts & ACDC_STANDARDISE) {
        m->in_mean = vec(n_in, 0.0);
        m->in_scale = vec(n_in, 1.0);
        if (!m->in_mean || !m->in_scale)
            goto nomem;
    }
    *out = m;
    return 0;
nomem:
    acdc_model_free(m);
    return acdc_util_mem_fail(need, what);
}

void acdc_model_free(acdc_model *m)
{
    if (!m)
        return;
    if (m->layers)
        for (size_t l = 0; l < m->n_layers; l++) {
            acdc_layer *L = &m->layers[l];
            free(L->a);
            free(L->d);
            free(L->a_bias);
            free(L->d_bias);
            free(L->perm);
        }
    free(m->layers);
    free(m->in_mean);
    free(m->in_scale);
    free(m);
}

int acdc_shape_parse(const char *s, const char *what, size_t *h, size_t *w)
{
    const char *x = strpbrk(s, "xX");
    char side[32];
    int64_t v[2];
    const int64_t max = (int64_t)1 << 28;
    if (!x || (size_t)(x - s) >= sizeof side || strpbrk(x + 1, "xX"))
        return acdc_util_error(ACDC_UTIL_EUSAGE,
                               "%s: '%s' is not a shape HxW (e.g. 28x28)", what, s);
    memcpy(side, s, (size_t)(x - s));
    side[x - s] = '\0';
    if (acdc_util_parse_int(side, what, 1, max, &v[0]) ||
        acdc_util_parse_int(x + 1, what, 1, max, &v[1]))
        return acdc_util_error(ACDC_UTIL_EUSAGE, "%s: '%s' is not a shape HxW of positive sides",
                               what, s);
    if (v[0] * v[1] > max)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "%s: %s holds more than %lld values", what, s,
                               (long long)max);
    *h = (size_t)v[0];
    *w = (size_t)v[1];
    return ACDC_UTIL_OK;
}

const char *acdc_transform_name(acdc_transform t)
{
    return t == ACDC_TRANSFORM_DCT ? "dct" : t == ACDC_TRANSFORM_DCT2 ? "dct2" : NULL;
}

int acdc_transform_parse(const char *name)
{
    if (!strcmp(name, "dct"))
        return ACDC_TRANSFORM_DCT;
    if (!strcmp(name, "dct2"))
        return ACDC_TRANSFORM_DCT2;
    return -1;
}

void acdc_model_grid(const acdc_model *m, size_t *h, size_t *w, size_t *in_h,
                     size_t *in_w)
{
    const int two = m->transform == ACDC_TRANSFORM_DCT2;
    if (h)
        *h = two ? m->h : 1;
    if (w)
        *w = two ? m->w : m->n;
    if (in_h)
        *in_h = two ? m->in_h : 1;
    if (in_w)
        *in_w = two ? m->in_w : m->n_in;
}

/* Whether the grids fit n and n_in (ACDC_UTIL_EUSAGE or ACDC_UTIL_EDATA as `status`). */
static int check_grid(size_t n, size_t n_in, acdc_transform t, size_t h, size_t w,
                      size_t in_h, size_t in_w, int status)
{
    if (t == ACDC_TRANSFORM_DCT) {
        if ((h || w) && (h != 1 || w != n))
            return acdc_util_error(status, "a 'dct' model of n = %zu has the shape 1x%zu, not "
                                   "%zux%zu", n, n, h, w);
        if ((in_h || in_w) && (in_h != 1 || in_w != n_in))
            return acdc_util_error(status, "a 'dct' model of n_in = %zu has the input shape "
                                   "1x%zu, not %zux%zu", n_in, n_in, in_h, in_w);
        return ACDC_UTIL_OK;
    }
    if (t != ACDC_TRANSFORM_DCT2)
        return acdc_util_error(status, "unknown transform %d", (int)t);
    /* h, w <= n, so h·w cannot overflow where it matters. */
    if (h == 0 || w == 0 || h > n || w > n || h * w != n)
        return acdc_util_error(status, "shape %zux%zu does not hold n = %zu values", h, w, n);
    if (in_h == 0 || in_w == 0 || in_h > h || in_w > w || in_h * in_w != n_in)
        return acdc_util_error(status, "input shape %zux%zu must hold n_in = %zu values and "
                               "fit the shape %zux%zu", in_h, in_w, n_in, h, w);
    return ACDC_UTIL_OK;
}

int acdc_model_set_grid(acdc_model *m, acdc_transform t, size_t h, size_t w, size_t in_h,
                        size_t in_w)
{
    if (t == ACDC_TRANSFORM_DCT2 && in_h == 0 && in_w == 0) {
        if (m->n_in != m->n)
            return acdc_util_error(ACDC_UTIL_EUSAGE, "n_in = %zu is less than n = %zu: give the "
                                   "input shape inside %zux%zu", m->n_in, m->n, h, w);
        in_h = h;
        in_w = w;
    }
    int rc = check_grid(m->n, m->n_in, t, h, w, in_h, in_w, ACDC_UTIL_EUSAGE);
    if (rc)
        return rc;
    m->transform = t;
    if (t == ACDC_TRANSFORM_DCT) {
        m->h = 1;
        m->w = m->n;
        m->in_h = 1;
        m->in_w = m->n_in;
    } else {
        m->h = h;
        m->w = w;
        m->in_h = in_h;
        m->in_w = in_w;
    }
    return ACDC_UTIL_OK;
}

static unsigned opts_of(const acdc_model *m)
{
    unsigned o = 0;
    for (size_t l = 0; l < m->n_layers; l++) {
        o |= m->layers[l].a_bias ? ACDC_A_BIAS : 0;
        o |= m->layers[l].d_bias ? ACDC_D_BIAS : 0;
        o |= m->layers[l].perm ? ACDC_PERM : 0;
    }
    return o | (m->in_mean ? ACDC_STANDARDISE : 0);
}

/* Allocates the same optional arrays as m, layer by layer, and copies (or zeroes). */
static int clone(acdc_model **out, const acdc_model *m, int zero)
{
    acdc_model *c;
    int rc = acdc_model_alloc(&c, m->n, m->n_in, m->n_out, m->n_layers, opts_of(m));
    if (rc)
        return rc;   /* *out is NULL and the message recorded */
    size_t n = m->n, sz = n * sizeof(double);
    c->transform = m->transform;
    c->h = m->h;
    c->w = m->w;
    c->in_h = m->in_h;
    c->in_w = m->in_w;
    for (size_t l = 0; l < m->n_layers; l++) {
        const acdc_layer *L = &m->layers[l];
        acdc_layer *K = &c->layers[l];
        K->relu = L->relu;
        if (!L->a_bias) { free(K->a_bias); K->a_bias = NULL; }
        if (!L->d_bias) { free(K->d_bias); K->d_bias = NULL; }
        if (!L->perm) { free(K->perm); K->perm = NULL; }
        else memcpy(K->perm, L->perm, n * sizeof *K->perm);
        if (zero) {
            memset(K->a, 0, sz);
            memset(K->d, 0, sz);
            if (K->a_bias) memset(K->a_bias, 0, sz);
            if (K->d_bias) memset(K->d_bias, 0, sz);
        } else {
            memcpy(K->a, L->a, sz);
            memcpy(K->d, L->d, sz);
            if (K->a_bias) memcpy(K->a_bias, L->a_bias, sz);
            if (K->d_bias) memcpy(K->d_bias, L->d_bias, sz);
        }
    }
    if (m->in_mean) {
        memcpy(c->in_mean, m->in_mean, m->n_in * sizeof(double));
        memcpy(c->in_scale, m->in_scale, m->n_in * sizeof(double));
    }
    *out = c;
    return 0;
}

int acdc_model_alloc_like(acdc_model **out, const acdc_model *m) { return clone(out, m, 1); }
int acdc_model_clone(acdc_model **out, const acdc_model *m) { return clone(out, m, 0); }

int acdc_model_init_normal(acdc_model *m, double mean, double sigma, uint64_t seed)
{
    if (!(sigma >= 0) || !isfinite(sigma) || !isfinite(mean))
        return acdc_util_error(ACDC_UTIL_EUSAGE, "init mean %g and sigma %g must be finite, sigma "
                               ">= 0", mean, sigma);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!r)
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
    gsl_rng_set(r, (unsigned long)seed);
    for (size_t l = 0; l < m->n_layers; l++) {
        acdc_layer *L = &m->layers[l];
        for (size_t i = 0; i < m->n; i++)
            L->a[i] = mean + (sigma > 0 ? gsl_ran_gaussian_ziggurat(r, sigma) : 0);
        for (size_t i = 0; i < m->n; i++)
            L->d[i] = mean + (sigma > 0 ? gsl_ran_gaussian_ziggurat(r, sigma) : 0);
    }
    gsl_rng_free(r);
    return ACDC_UTIL_OK;
}

int acdc_model_init_perms(acdc_model *m, uint64_t seed)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!r)
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
    gsl_rng_set(r, (unsigned long)(seed ^ 0x9e3779b97f4a7c15ull));
    for (size_t l = 0; l < m->n_layers; l++) {
        int64_t *p = m->layers[l].perm;
        if (!p)
            continue;
        for (size_t i = 0; i < m->n; i++)
            p[i] = (int64_t)i;
        gsl_ran_shuffle(r, p, m->n, sizeof *p);
    }
    gsl_rng_free(r);
    return ACDC_UTIL_OK;
}

size_t acdc_model_param_count(const acdc_model *m)
{
    size_t c = 0;
    for (size_t l = 0; l < m->n_layers; l++) {
        const acdc_layer *L = &m->layers[l];
        c += 2 * m->n + (L->a_bias ? m->n : 0) + (L->d_bias ? m->n : 0);
    }
    return c;
}

static int check_vec(const double *v, size_t n, size_t l, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return acdc_util_error(ACDC_UTIL_EDATA,
                                   "layer %zu: '%s'[%zu] is not finite", l, name, i);
    return ACDC_UTIL_OK;
}

int acdc_model_check(const acdc_model *m)
{
    if (!m || !m->layers || m->n == 0 || m->n_layers == 0)
        return acdc_util_error(ACDC_UTIL_EDATA, "empty model");
    if (m->n_in == 0 || m->n_in > m->n || m->n_out == 0 || m->n_out > m->n)
        return acdc_util_error(ACDC_UTIL_EDATA, "n_in = %zu and n_out = %zu must be in 1..n = %zu",
                               m->n_in, m->n_out, m->n);
    /* A 1D model's grid fields are not consulted (a view built field by field leaves
     * them zero): only a 2D grid is checked. */
    int rc = m->transform == ACDC_TRANSFORM_DCT
                 ? ACDC_UTIL_OK
                 : check_grid(m->n, m->n_in, m->transform, m->h, m->w, m->in_h, m->in_w,
                              ACDC_UTIL_EDATA);
    if (rc)
        return rc;
    for (size_t l = 0; l < m->n_layers; l++) {
        const acdc_layer *L = &m->layers[l];
        if (L->n != m->n)
            return acdc_util_error(ACDC_UTIL_EDATA,
                                   "layer %zu has size %zu, model has %zu", l, L->n,
                                   m->n);
        if ((rc = check_vec(L->a, m->n, l, "a")) || (rc = check_vec(L->d, m->n, l, "d")))
            return rc;
        if (L->a_bias && (rc = check_vec(L->a_bias, m->n, l, "a_bias")))
            return rc;
        if (L->d_bias && (rc = check_vec(L->d_bias, m->n, l, "d_bias")))
            return rc;
        if (L->perm) {
            unsigned char *seen = calloc(m->n, 1);
            if (!seen)
                return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
            for (size_t i = 0; i < m->n; i++) {
                int64_t v = L->perm[i];
                if (v < 0 || (uint64_t)v >= m->n || seen[v]) {
                    free(seen);
                    if (v < 0 || (uint64_t)v >= m->n)
                        return acdc_util_error(ACDC_UTIL_EDATA, "layer %zu: 'perm'[%zu] = %lld is "
                                               "outside 0..%zu", l, i, (long long)v, m->n - 1);
                    return acdc_util_error(ACDC_UTIL_EDATA,
                                           "layer %zu: 'perm' is not a permutation "
                                           "(%lld appears twice)", l, (long long)v);
                }
                seen[v] = 1;
            }
            free(seen);
        }
    }
    if ((m->in_mean == NULL) != (m->in_scale == NULL))
        return acdc_util_error(ACDC_UTIL_EDATA, "input standardisation needs both mean and scale");
    if (m->in_mean) {
        for (size_t i = 0; i < m->n_in; i++)
            if (!isfinite(m->in_mean[i]) || !isfinite(m->in_scale[i]) ||
                !(m->in_scale[i] > 0))
                return acdc_util_error(ACDC_UTIL_EDATA,
                                       "input standardisation %zu: mean %g, scale %g "
                                       "(scale must be positive and finite)", i, m->in_mean[i],
                                       m->in_scale[i]);
    }
    return ACDC_UTIL_OK;
}

struct acdc_work {
    int single;           /* ACDC_PRECISION_SINGLE: the float plan, activations, layers */
    acdc_plan *plan;      /* double */
    acdc_planf *planf;    /* single */
    size_t n, h;          /* the plan's length and grid height */
    int two;              /* the plan is 2D */
    size_t batch, n_layers;
    int keep;
    const acdc_layer_op *op;   /* NULL: the numeric layers */
    uint64_t tick;
    /* Activations, double or float as the workspace's precision: */
    void *v;      /* keep: (K+1) × batch × n layer inputs; else 2 × batch × n */
    void *h2;     /* keep: K × batch × n */
    void *z;      /* keep: K × batch × n pre-activations; else batch × n */
    void *g;      /* 2 × batch × n, backward */
    /* Without an operator: each layer's folded diagonals (2 × stride per layer, see
     * acdc_layer_fold()) and, keep only, its blocks' gradient sums (3 × stride per 16
     * rows per layer, acdc_layer_backward_rows()), in the workspace's precision. */
    void *fold, *part;
    /* Single: float copies of the model's diagonals and biases (4 × n per layer),
     * rounded from the double parameters at every forward pass (work_refresh()). */
    acdc_layerf *lf;
    float *lfv;
};

/* The row stride of the workspace's plan. */
static size_t work_stride(const acdc_work *w)
{
    return w->single ? acdc_planf_stride(w->planf) : acdc_plan_stride(w->plan);
}

int acdc_work_alloc(acdc_work **out, const acdc_model *m, size_t batch, int keep,
                    int threads, unsigned flags)
{
    return acdc_work_alloc_precision(out, m, batch, keep, threads, flags,
                                     ACDC_PRECISION_DOUBLE);
}

int acdc_work_alloc_precision(acdc_work **out, const acdc_model *m, size_t batch, int keep,
                              int threads, unsigned flags, int precision)
{
    *out = NULL;
    if (batch == 0)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "batch size must be at least 1");
    if (precision != ACDC_PRECISION_DOUBLE && precision != ACDC_PRECISION_SINGLE)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "unknown precision %d", precision);
    acdc_work *w = calloc(1, sizeof *w);
    if (!w)
        goto nomem;
    w->single = precision == ACDC_PRECISION_SINGLE;
    w->batch = batch;
    w->keep = keep;
    w->n_layers = m->n_layers;
    size_t bn = batch * m->n, K = m->n_layers;
    if (bn / batch != m->n)
        goto nomem;
    const int two = m->transform == ACDC_TRANSFORM_DCT2;
    int rc = w->single ? (two ? acdc_planf_alloc2(&w->planf, m->h, m->w, threads, flags)
                              : acdc_planf_alloc(&w->planf, m->n, threads, flags))
                       : (two ? acdc_plan_alloc2(&w->plan, m->h, m->w, threads, flags)
                              : acdc_plan_alloc(&w->plan, m->n, threads, flags));
    if (rc) {
        acdc_work_free(w);
        return rc;   /* the plan recorded the message */
    }
    w->n = m->n;
    w->two = two;
    w->h = two ? m->h : 1;
    const size_t elt = w->single ? sizeof(float) : sizeof(double);
    w->v = malloc((keep ? K + 1 : 2) * bn * elt);
    w->z = malloc((keep ? K : 1) * bn * elt);
    if (!w->v || !w->z)
        goto nomem;
    if (keep) {
        w->h2 = malloc(K * bn * elt);
        w->g = malloc(2 * bn * elt);
        if (!w->h2 || !w->g)
            goto nomem;
    }
    {
        const size_t q = work_stride(w), nblk = (batch + ACDC_LAYER_BLOCK - 1) / ACDC_LAYER_BLOCK;
        w->fold = malloc(K * 2 * q * elt);
        if (!w->fold || (keep && !(w->part = malloc(K * nblk * 3 * q * elt))))
            goto nomem;
    }
    if (w->single) {
        w->lf = calloc(K, sizeof *w->lf);
        w->lfv = malloc(4 * K * m->n * sizeof *w->lfv);
        if (!w->lf || !w->lfv)
            goto nomem;
    }
    *out = w;
    return 0;
nomem:
    acdc_work_free(w);
    return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for a workspace of batch %zu, n = %zu, "
                           "%zu layers", batch, m->n, m->n_layers);
}

void acdc_work_free(acdc_work *w)
{
    if (!w)
        return;
    acdc_plan_free(w->plan);
    acdc_planf_free(w->planf);
    free(w->v);
    free(w->h2);
    free(w->z);
    free(w->g);
    free(w->fold);
    free(w->part);
    free(w->lf);
    free(w->lfv);
    free(w);
}

void acdc_work_set_op(acdc_work *w, const acdc_layer_op *op) { w->op = op; }
void acdc_work_set_tick(acdc_work *w, uint64_t tick) { w->tick = tick; }
int acdc_work_precision(const acdc_work *w)
{
    return w->single ? ACDC_PRECISION_SINGLE : ACDC_PRECISION_DOUBLE;
}

static int fits(const acdc_model *m, const acdc_work *w, size_t batch)
{
    if (batch > w->batch)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "batch %zu exceeds the workspace's %zu", batch,
                               w->batch);
    size_t h;
    acdc_model_grid(m, &h, NULL, NULL, NULL);
    if (w->n != m->n || w->n_layers != m->n_layers ||
        w->two != (m->transform == ACDC_TRANSFORM_DCT2) || w->h != h)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "workspace was made for another model shape");
    if (w->single && w->op)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "a layer operator (the hardware model) computes "
                               "in double precision: it needs a double-precision workspace");
    return ACDC_UTIL_OK;
}

/* One layer of a double workspace: the numeric layer or the operator. */
static int layer_fwd_d(acdc_work *w, const acdc_model *m, size_t l, size_t batch,
                       double *in, double *z, double *h2)
{
    return w->op ? w->op->forward(w->op->ctx, m, l, w->tick, batch, in, z)
                 : acdc_layer_forward(&m->layers[l], w->plan, batch, in, z, h2);
}

static int layer_bwd_d(acdc_work *w, const acdc_model *m, size_t l, size_t batch,
                       const double *x, const double *h2, const double *dz, double *dx,
                       acdc_grad *g)
{
    return w->op ? w->op->backward(w->op->ctx, m, l, batch, x, dz, dx, g)
                 : acdc_layer_backward(&m->layers[l], w->plan, batch, x, h2, dz, dx, g);
}

/* One layer of a single workspace: the float copy of the layer (no operator here). */
static int layer_fwd_f(acdc_work *w, const acdc_model *m, size_t l, size_t batch,
                       float *in, float *z, float *h2)
{
    (void)m;
    return acdc_layer_forwardf(&w->lf[l], w->planf, batch, in, z, h2);
}

static int layer_bwd_f(acdc_work *w, const acdc_model *m, size_t l, size_t batch,
                       const float *x, const float *h2, const float *dz, float *dx,
                       acdc_grad *g)
{
    (void)m;
    return acdc_layer_backwardf(&w->lf[l], w->planf, batch, x, h2, dz, dx, g);
}

/* The float copies of m's parameters.  The model's double values stay the master copy
 * (see model.h, "Precision"): refreshing 4·n·K values per pass costs little beside the
 * batch × n × K activations the pass computes. */
static void work_refresh(acdc_work *w, const acdc_model *m)
{
    const size_t n = m->n;
    for (size_t l = 0; l < m->n_layers; l++) {
        const acdc_layer *L = &m->layers[l];
        acdc_layerf *F = &w->lf[l];
        float *base = w->lfv + 4 * l * n;
        F->n = n;
        F->a = base;
        F->d = base + n;
        F->a_bias = L->a_bias ? base + 2 * n : NULL;
        F->d_bias = L->d_bias ? base + 3 * n : NULL;
        for (size_t i = 0; i < n; i++) {
            F->a[i] = (float)L->a[i];
            F->d[i] = (float)L->d[i];
            if (F->a_bias)
                F->a_bias[i] = (float)L->a_bias[i];
            if (F->d_bias)
                F->d_bias[i] = (float)L->d_bias[i];
        }
    }
}

/* The workspace's threads (its plan's): the passes between the layers -- input
 * standardisation, ReLU, permutation and their adjoints -- share the batch's rows out
 * over them as the layers do; each row is one thread's, so results do not depend on
 * the count.  Below PAR_MIN values a pass stays on one thread (not worth a fork). */
static int work_threads(const acdc_work *w)
{
    return w->single ? acdc_planf_threads(w->planf) : acdc_plan_threads(w->plan);
}

#define PAR_MIN 4096

/* Thread t's share [*b0, *b1) of `batch` rows among T, contiguous, in whole units of
 * `unit` rows (the last unit may be short). */
static void share(size_t batch, size_t unit, int t, int T, size_t *b0, size_t *b1)
{
    const size_t units = (batch + unit - 1) / unit;
    *b0 = units * (size_t)t / (size_t)T * unit;
    *b1 = units * (size_t)(t + 1) / (size_t)T * unit;
    if (*b0 > batch)
        *b0 = batch;
    if (*b1 > batch)
        *b1 = batch;
}

/* The numeric layers' passes on part of a batch (models/layer.h), one per precision. */
static void fold_d(const acdc_work *w, const acdc_model *m, size_t l, double *sd,
                   double *sdb)
{
    acdc_layer_fold(&m->layers[l], w->plan, sd, sdb);
}
static void fwd_rows_d(const acdc_work *w, const acdc_model *m, size_t l, int t,
                       const double *sd, const double *sdb, size_t batch, size_t b0,
                       size_t b1, const double *x, double *z, double *h2)
{
    acdc_layer_forward_rows(&m->layers[l], w->plan, t, sd, sdb, batch, b0, b1, x, z, h2);
}
static void bwd_rows_d(const acdc_work *w, const acdc_model *m, size_t l, int t,
                       const double *sd, size_t batch, size_t b0, size_t b1, const double *x,
                       const double *h2, const double *dz, double *dx, const acdc_grad *g,
                       double *part)
{
    acdc_layer_backward_rows(&m->layers[l], w->plan, t, sd, batch, b0, b1, x, h2, dz, dx, g,
                             part);
}
static void bwd_sum_d(const acdc_work *w, int t, const double *sd, size_t batch,
                      const double *part, acdc_grad *g)
{
    acdc_layer_backward_sum(w->plan, t, sd, batch, part, g);
}
static void fold_f(const acdc_work *w, const acdc_model *m, size_t l, float *sd, float *sdb)
{
    (void)m;
    acdc_layer_foldf(&w->lf[l], w->planf, sd, sdb);
}
static void fwd_rows_f(const acdc_work *w, const acdc_model *m, size_t l, int t,
                       const float *sd, const float *sdb, size_t batch, size_t b0, size_t b1,
                       const float *x, float *z, float *h2)
{
    (void)m;
    acdc_layer_forward_rowsf(&w->lf[l], w->planf, t, sd, sdb, batch, b0, b1, x, z, h2);
}
static void bwd_rows_f(const acdc_work *w, const acdc_model *m, size_t l, int t,
                       const float *sd, size_t batch, size_t b0, size_t b1, const float *x,
                       const float *h2, const float *dz, float *dx, const acdc_grad *g,
                       float *part)
{
    (void)m;
    acdc_layer_backward_rowsf(&w->lf[l], w->planf, t, sd, batch, b0, b1, x, h2, dz, dx, g,
                              part);
}
static void bwd_sum_f(const acdc_work *w, int t, const float *sd, size_t batch,
                      const float *part, acdc_grad *g)
{
    acdc_layer_backward_sumf(w->planf, t, sd, batch, part, g);
}

/* The ReLU and its adjoint without a branch: an activation's sign is a coin toss, so a
 * branch on it mispredicts about every other element (measured: these passes took a
 * quarter of a training step while they branched).  relu(u) = u > 0 ? u : +0 and
 * pass(z, g) = z > 0 ? g : +0, exactly: MAXSD returns its second operand unless the
 * first is greater (so NaN and -0 give +0), CMPGTSD is false for NaN. */
#if defined(__SSE2__)
static inline double relu_d(double u)
{
    return _mm_cvtsd_f64(_mm_max_sd(_mm_set_sd(u), _mm_setzero_pd()));
}
static inline float relu_f(float u)
{
    return _mm_cvtss_f32(_mm_max_ss(_mm_set_ss(u), _mm_setzero_ps()));
}
static inline double pass_d(double z, double g)
{
    return _mm_cvtsd_f64(_mm_and_pd(_mm_cmpgt_sd(_mm_set_sd(z), _mm_setzero_pd()),
                                    _mm_set_sd(g)));
}
static inline float pass_f(float z, float g)
{
    return _mm_cvtss_f32(_mm_and_ps(_mm_cmpgt_ss(_mm_set_ss(z), _mm_setzero_ps()),
                                    _mm_set_ss(g)));
}
#else
static inline double relu_d(double u) { return u > 0 ? u : 0; }
static inline float relu_f(float u) { return u > 0 ? u : 0; }
static inline double pass_d(double z, double g) { return z > 0 ? g : 0; }
static inline float pass_f(float z, float g) { return z > 0 ? g : 0; }
#endif

#define REAL double
#define LOCAL(x) x##_d
#include "models/model_real.inc"
#undef REAL
#undef LOCAL

#define REAL float
#define LOCAL(x) x##_f
#include "models/model_real.inc"
#undef REAL
#undef LOCAL

int acdc_model_forward(const acdc_model *m, acdc_work *w, size_t batch, const double *x,
                       double *y)
{
    int rc = fits(m, w, batch);
    if (rc)
        return rc;
    if (!w->single)
        return forward_d(m, w, batch, x, y);
    work_refresh(w, m);
    return forward_f(m, w, batch, x, y);
}

int acdc_model_backward(const acdc_model *m, acdc_work *w, size_t batch, const double *dy,
                        acdc_model *grad, double *dx)
{
    int rc = fits(m, w, batch);
    if (rc)
        return rc;
    if (!w->keep)
        return acdc_util_error(ACDC_UTIL_EUSAGE,
                               "workspace was made without keeping intermediates");
    if (grad && (grad->n != m->n || grad->n_layers != m->n_layers))
        return acdc_util_error(ACDC_UTIL_EUSAGE, "gradient model has another shape");
    return w->single ? backward_f(m, w, batch, dy, grad, dx)
                     : backward_d(m, w, batch, dy, grad, dx);
}

void acdc_model_foreach_param(acdc_model *m,
                              void (*fn)(double *v, size_t len, int group, void *user),
                              void *user)
{
    for (size_t l = 0; l < m->n_layers; l++) {
        acdc_layer *L = &m->layers[l];
        fn(L->a, m->n, 0, user);
        fn(L->d, m->n, 1, user);
        if (L->a_bias)
            fn(L->a_bias, m->n, 2, user);
        if (L->d_bias)
            fn(L->d_bias, m->n, 2, user);
    }
}
