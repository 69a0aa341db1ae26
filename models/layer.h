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

/* ---- the passes on part of a batch ------------------------------------------------
 *
 * For a caller that shares the rows out itself -- one parallel region around a whole
 * cascade instead of one per layer (models/model.c) -- the two functions above in
 * pieces that run on the calling thread and share nothing:
 *
 * acdc_layer_fold() writes sd = s₃ ⊙ d and sdb = s₃ ⊙ d_bias (n values each; zeros
 * without d_bias): the products with the DCT-III scale s₃ that both passes need.
 *
 * acdc_layer_forward_rows() is acdc_layer_forward() on rows [b0, b1) of a batch of
 * `batch` rows, on the calling thread, which must be OpenMP thread t of its team
 * (omp_get_thread_num(), below acdc_plan_threads(p)): it uses that thread's block and
 * transform scratch of the plan.  z and h2 as there; every row is written by exactly
 * one call, so calls on disjoint ranges may run at once on different threads.
 *
 * acdc_layer_backward_rows() is acdc_layer_backward() on rows [b0, b1) without the final
 * sum: b0 a multiple of ACDC_LAYER_BLOCK, b1 one or the batch's end.  It writes the
 * partial sums of every 16-row block it covers into part (3·q values per block, for
 * blocks 0 … ⌈batch/16⌉ − 1, q = acdc_plan_stride(p); NULL when g is NULL); g says which
 * gradients are wanted and is not written.  acdc_layer_backward_sum() then adds the
 * blocks' sums to g in their fixed order, on thread t's block of the plan, so the
 * result is acdc_layer_backward()'s bit for bit, however the rows were shared out. */
#define ACDC_LAYER_BLOCK 16

void acdc_layer_fold(const acdc_layer *L, const acdc_plan *p, double *sd, double *sdb);
void acdc_layer_forward_rows(const acdc_layer *L, const acdc_plan *p, int t,
                             const double *sd, const double *sdb, size_t batch, size_t b0,
                             size_t b1, const double *x, double *z, double *h2);
void acdc_layer_backward_rows(const acdc_layer *L, const acdc_plan *p, int t,
                              const double *sd, size_t batch, size_t b0, size_t b1,
                              const double *x, const double *h2, const double *dz,
                              double *dx, const acdc_grad *g, double *part);
void acdc_layer_backward_sum(const acdc_plan *p, int t, const double *sd, size_t batch,
                             const double *part, acdc_grad *g);

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
void acdc_layer_foldf(const acdc_layerf *L, const acdc_planf *p, float *sd, float *sdb);
void acdc_layer_forward_rowsf(const acdc_layerf *L, const acdc_planf *p, int t,
                              const float *sd, const float *sdb, size_t batch, size_t b0,
                              size_t b1, const float *x, float *z, float *h2);
void acdc_layer_backward_rowsf(const acdc_layerf *L, const acdc_planf *p, int t,
                               const float *sd, size_t batch, size_t b0, size_t b1,
                               const float *x, const float *h2, const float *dz, float *dx,
                               const acdc_grad *g, float *part);
void acdc_layer_backward_sumf(const acdc_planf *p, int t, const float *sd, size_t batch,
                              const float *part, acdc_grad *g);

#endif
