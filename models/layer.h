/* SPDX-License-Identifier: GPL-3.0-or-later */
/* models/layer.h -- one ACDC layer: forward and backward over a batch.
 *
 *   h1 = a ⊙ x + a_bias;  h2 = C·h1;  h3 = d ⊙ h2 + d_bias;  z = Cᵀ·h3
 *
 * (Moczulski et al., ICLR 2016, eq. 1 with both bias vectors.)  ReLU and the permutation
 * that may follow a layer belong to the cascade (models/model.h).
 */
#ifndef ACDC_MODELS_LAYER_H
#define ACDC_MODELS_LAYER_H

#include <stddef.h>
#include <stdint.h>

#include "models/dct.h"

typedef struct acdc_layer {
    size_t n;
    double *a, *d;             /* diagonals, length n */
    double *a_bias, *d_bias;   /* length n, or NULL for none */
    int64_t *perm;             /* y[i] = u[perm[i]], length n, or NULL for identity */
    int relu;                  /* 1: u = max(z, 0); 0: u = z */
} acdc_layer;

/* Gradient accumulators of one layer, length n each; NULL members are skipped. */
typedef struct acdc_grad {
    double *a, *d, *a_bias, *d_bias;
} acdc_grad;

/* z = Cᵀ(d ⊙ C(a ⊙ x + a_bias) + d_bias) for `batch` rows of n = acdc_plan_n(p).
 * If h2 is not NULL it receives C·h1 (batch × n), which acdc_layer_backward() needs.
 * x and z may not overlap h2; z may equal x.  Uses 2·q doubles of the plan's scratch
 * (q = acdc_plan_stride(p), n rounded up to 8 plus 8); returns ACDC_UTIL_ENOMEM if that
 * cannot be had, else 0.  Large z and h2 (1 MiB or more, 16-byte aligned rows) are
 * written past the caches. */
int acdc_layer_forward(const acdc_layer *L, acdc_plan *p, size_t batch, const double *x,
                       double *z, double *h2);

/* Given dz = dL/dz (batch × n), adds the batch-summed gradients to g:
 *   t = C·dz;  g.d += Σ h2 ⊙ t;  g.d_bias += Σ t;
 *   s = Cᵀ(d ⊙ t);  g.a += Σ x ⊙ s;  g.a_bias += Σ s;   dx = a ⊙ s (if dx != NULL).
 * g.a_bias is computed as Cᵀ(d ⊙ Σ t), which is the same sum by linearity.
 * x and h2 are what acdc_layer_forward() saw and produced.  The sums are taken over
 * fixed blocks of rows in a fixed order, so the result does not depend on the thread
 * count.  dx may equal dz.  Uses the plan's scratch (2·q + 3·q per 16 rows, q as for
 * acdc_layer_forward()); returns ACDC_UTIL_ENOMEM if that cannot grow, else 0.  A large dx
 * is written past the caches, as z is there. */
int acdc_layer_backward(const acdc_layer *L, acdc_plan *p, size_t batch,
                         const double *x, const double *h2, const double *dz, double *dx,
                         acdc_grad *g);

/* ---- single precision ---------------------------------------------------------------
 *
 * The same layer in float: the diagonals, rows and plan (models/dct.h, acdc_planf) are
 * float; the gradient accumulators stay double.  acdc_layer_forwardf() and
 * acdc_layer_backwardf() compute what the double functions above do, with the same
 * blocking, the same fixed order of the sums (so again independent of the thread count)
 * and the same scratch needs (in floats).  Each block's partial sums over its 16 rows
 * are taken in float and added to g in double.  Against the double path the results
 * agree to a few float roundings: relative errors about 1e-6 (tests/test_models_single.c
 * states the bounds). */
typedef struct acdc_layerf {
    size_t n;
    float *a, *d;              /* diagonals, length n */
    float *a_bias, *d_bias;    /* length n, or NULL for none */
} acdc_layerf;

int acdc_layer_forwardf(const acdc_layerf *L, acdc_planf *p, size_t batch, const float *x,
                        float *z, float *h2);
int acdc_layer_backwardf(const acdc_layerf *L, acdc_planf *p, size_t batch, const float *x,
                         const float *h2, const float *dz, float *dx, acdc_grad *g);

#endif
