/* SPDX-License-Identifier: GPL-3.0-or-later */
/* models/model.h -- ACDC cascades: K layers, ReLU and fixed permutations between them.
 *
 * Inputs of length n_in <= n are standardised (if the model carries statistics),
 * zero-padded to n, sent through the layers, and the first n_out outputs returned:
 *   x' = (x − mean) / scale;  v_0 = (x', 0 … 0);  v_{l+1} = layer_l(v_l);  y = v_K[0:n_out]
 * Each layer is described in models/layer.h; layer l's output, after its activation,
 * is permuted: v_{l+1}[i] = u_l[perm_l[i]].
 *
 * The transform of every layer is the 1D DCT over n ("dct") or the separable 2D DCT of
 * an h × w grid with h·w = n, row-major (component i·w + j) ("dct2", models/dct.h).  A
 * 2D cascade reads an input grid of in_h × in_w = n_in values (in_h <= h, in_w <= w) and
 * lays it into the top-left corner of the layer grid, row by row: input component
 * i·in_w + j goes to v_0[i·w + j], the rest of v_0 is zero.  (For in_w = w that is the
 * 1D rule of appending zeros.)  Permutations act on all n components alike.
 */
#ifndef ACDC_MODELS_MODEL_H
#define ACDC_MODELS_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "models/layer.h"

/* The layers' transform.  The zero value is the 1D DCT, so a model built field by field
 * (e.g. a view of some layers) is a 1D model. */
typedef enum acdc_transform {
    ACDC_TRANSFORM_DCT = 0,   /* "dct": C over n; the grid is 1 × n */
    ACDC_TRANSFORM_DCT2 = 1   /* "dct2": C₂ = C_h ⊗ C_w over h × w */
} acdc_transform;

typedef struct acdc_model {
    size_t n, n_in, n_out, n_layers;
    acdc_layer *layers;
    double *in_mean, *in_scale;   /* length n_in each, or both NULL: no standardisation */
    acdc_transform transform;
    /* dct2: the layer grid (h·w = n) and the input grid (in_h·in_w = n_in, in_h <= h,
     * in_w <= w); set with acdc_model_set_grid().  dct: not consulted (read them with
     * acdc_model_grid(), which gives 1 × n and 1 × n_in). */
    size_t h, w, in_h, in_w;
} acdc_model;

/* Options of acdc_model_alloc(). */
enum {
    ACDC_A_BIAS = 1u << 0,  /* allocate a_bias (zeros) in every layer */
    ACDC_D_BIAS = 1u << 1,  /* allocate d_bias (zeros) in every layer */
    ACDC_PERM = 1u << 2,    /* allocate perm (identity) in every layer */
    ACDC_RELU = 1u << 3,    /* ReLU after every layer but the last */
    ACDC_STANDARDISE = 1u << 4  /* allocate in_mean = 0, in_scale = 1 */
};

/* Sets *out to a new cascade with identity diagonals (a = d = 1) and the 1D transform
 * (acdc_model_set_grid() makes it 2D); the caller frees it
 * with acdc_model_free() (a no-op on NULL).  Errors: ACDC_UTIL_EUSAGE for n outside 1..2^28,
 * n_in or n_out outside 1..n, n_layers outside 1..100000; ACDC_UTIL_ENOMEM; *out is then
 * NULL. */
int acdc_model_alloc(acdc_model **out, size_t n, size_t n_in, size_t n_out,
                     size_t n_layers, unsigned opts);
void acdc_model_free(acdc_model *m);

/* Makes m's layers 2D (t = ACDC_TRANSFORM_DCT2) on an h × w grid with the input grid
 * in_h × in_w, or 1D (t = ACDC_TRANSFORM_DCT; then h = 1, w = n, in_h = 1, in_w = n_in or
 * all four 0).  in_h = in_w = 0 means the whole grid, which needs n_in = n.  Errors:
 * ACDC_UTIL_EUSAGE with a message naming the shapes if h·w != n, in_h·in_w != n_in, the
 * input grid does not fit the layer grid or t is unknown; m is then unchanged. */
int acdc_model_set_grid(acdc_model *m, acdc_transform t, size_t h, size_t w, size_t in_h,
                        size_t in_w);

/* The layer grid h × w and the input grid in_h × in_w of m (1 × n and 1 × n_in for the
 * 1D transform); any pointer may be NULL. */
void acdc_model_grid(const acdc_model *m, size_t *h, size_t *w, size_t *in_h,
                     size_t *in_w);

/* Parses a grid "HxW" (decimal, each side 1 .. 2^28, product at most 2^28; 'X' too).
 * what names the option in messages.  Errors: ACDC_UTIL_EUSAGE, with a message naming what
 * and s. */
int acdc_shape_parse(const char *s, const char *what, size_t *h, size_t *w);

/* "dct" or "dct2" (NULL for an unknown value), and the reverse (-1 if unknown). */
const char *acdc_transform_name(acdc_transform t);
int acdc_transform_parse(const char *name);

/* Sets *out to a new model of m's shape with every parameter zero (perm copied): the
 * layout of a gradient.  Caller frees with acdc_model_free().  Errors as
 * acdc_model_alloc(); *out is then NULL. */
int acdc_model_alloc_like(acdc_model **out, const acdc_model *m);
/* Sets *out to a deep copy of m.  Caller frees with acdc_model_free().  Errors as
 * acdc_model_alloc(); *out is then NULL. */
int acdc_model_clone(acdc_model **out, const acdc_model *m);

/* Draws every a and d entry from N(mean, sigma) with GSL's mt19937 seeded with seed:
 * mean 1 is the paper's near-identity scheme (sigma 0.061 in its ImageNet runs; sigma 0
 * gives the identity), mean 0 and sigma 1 the "standard" one.  Biases are left alone. */
int acdc_model_init_normal(acdc_model *m, double mean, double sigma, uint64_t seed);
/* Fills every allocated perm with an independent uniform random permutation. */
int acdc_model_init_perms(acdc_model *m, uint64_t seed);

/* Number of trainable values (a, d and the biases present). */
size_t acdc_model_param_count(const acdc_model *m);

/* Checks sizes (the grids too: h·w = n and in_h·in_w = n_in for dct2), finiteness and
 * that every perm is a permutation of 0..n−1.  Returns
 * ACDC_UTIL_EDATA with a message naming the layer and the field, else 0. */
int acdc_model_check(const acdc_model *m);

/* Workspace for forward and backward passes of up to `batch` rows. */
typedef struct acdc_work acdc_work;

/* Precision of a workspace's passes.
 *
 * ACDC_PRECISION_SINGLE computes the cascade in float: FFTW's fftwf_ plans
 * (acdc_planf), float activations, the float layer passes (models/layer.h), the
 * per-block gradient sums in float.  What stays double: the model's parameters (the
 * master copy; the workspace rounds them to float at every forward pass, so an
 * optimiser updating the double values never works on stale copies and small late
 * updates are not lost to float rounding of the weights), the inputs and outputs at the
 * boundary (x, y, dy, dx), the sum of the gradients over the blocks, and whatever the
 * caller computes from y (losses, accuracies).  Measured on the K = 7 cascade of the
 * README (models/README.md): the test accuracy within 0.1 point of double, but only
 * 1.25-1.3 times the speed, since FFTW's float transforms of these sizes (most of a
 * step) are barely faster than its double ones.  A layer operator (the hardware model)
 * works in double only. */
enum { ACDC_PRECISION_DOUBLE = 0, ACDC_PRECISION_SINGLE = 1 };

/* Sets *out to a workspace for m: plans the DCTs (1D over n, or 2D over h × w for a
 * dct2 model; FFTW flags, 0 = FFTW_MEASURE) for
 * `threads` threads and allocates the intermediates of every layer if keep is non-zero
 * (needed by acdc_model_backward()): then (3K + 3)·batch·n values of the workspace's
 * precision for the activations, pre-activations, h2 and gradients, and 3·K·q per 16
 * rows for the blocks' gradient sums (q = n rounded up to a cache line, plus one),
 * against 3·batch·n without keep.  Caller frees with acdc_work_free() (a no-op on
 * NULL).  Errors: ACDC_UTIL_EUSAGE for batch == 0, those of acdc_plan_alloc(), ACDC_UTIL_ENOMEM;
 * *out is then NULL. */
int acdc_work_alloc(acdc_work **out, const acdc_model *m, size_t batch, int keep,
                    int threads, unsigned flags);
void acdc_work_free(acdc_work *w);
/* The same in the given precision (ACDC_PRECISION_DOUBLE: acdc_work_alloc()).  Errors:
 * as acdc_work_alloc(), ACDC_UTIL_EUSAGE for an unknown precision. */
int acdc_work_alloc_precision(acdc_work **out, const acdc_model *m, size_t batch, int keep,
                              int threads, unsigned flags, int precision);
int acdc_work_precision(const acdc_work *w);

/* y (batch × n_out) = cascade(x (batch × n_in)).  batch <= the workspace's. */
int acdc_model_forward(const acdc_model *m, acdc_work *w, size_t batch, const double *x,
                       double *y);

/* After acdc_model_forward() on a workspace with keep: adds dL/dθ for the loss whose
 * gradient with respect to y is dy (batch × n_out) to grad (from acdc_model_alloc_like,
 * summed over the batch), and if dx is not NULL writes dL/dx (batch × n_in, with respect
 * to the standardised input). */
int acdc_model_backward(const acdc_model *m, acdc_work *w, size_t batch, const double *dy,
                        acdc_model *grad, double *dx);

/* A LAYER OPERATOR computes layers in place of the numeric pass (acdc_layer_forward(),
 * acdc_layer_backward()): a model of the hardware the layers are compiled to, for
 * training through it (compiler/surrogate.h).  The model's ReLU and permutations stay
 * here.  forward: z (batch × n, the layer's output before ReLU and permutation) for
 * layer `layer`'s input x; `tick` numbers the call (the trainer's step) so that any
 * noise the operator draws is reproducible.  The operator keeps what its backward pass
 * needs.  backward: after forward on the same rows, adds the batch-summed gradients for
 * dz = dL/dz to g (NULL members skipped) and writes dL/dx to dx if not NULL.  Both return
 * 0 or an error code with the message recorded (util/error.h). */
typedef struct acdc_layer_op {
    void *ctx;
    int (*forward)(void *ctx, const acdc_model *m, size_t layer, uint64_t tick,
                   size_t batch, const double *x, double *z);
    int (*backward)(void *ctx, const acdc_model *m, size_t layer, size_t batch,
                    const double *x, const double *dz, double *dx, acdc_grad *g);
} acdc_layer_op;

/* Makes the workspace's passes use op (NULL: the numeric layers again); the operator is
 * referenced, not copied.  A single-precision workspace refuses to run with an operator
 * (ACDC_UTIL_EUSAGE from the passes).  tick: see above (acdc_work_set_tick()). */
void acdc_work_set_op(acdc_work *w, const acdc_layer_op *op);
void acdc_work_set_tick(acdc_work *w, uint64_t tick);

/* Calls fn(values, length, group, user) for every trainable array: group 0 for a, 1 for
 * d, 2 for biases; the order is fixed (layer by layer: a, d, a_bias, d_bias). */
void acdc_model_foreach_param(acdc_model *m,
                              void (*fn)(double *v, size_t len, int group, void *user),
                              void *user);

#endif
