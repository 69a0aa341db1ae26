/* SPDX-License-Identifier: GPL-3.0-or-later */
/* models/train.h -- training ACDC cascades: losses, optimisers, schedules, checkpoints.
 *
 * Two tasks share one trainer:
 *   operator  fit y ≈ W·x + b (a dense target) by mean squared error;
 *   classify  softmax cross-entropy on the model's n_out outputs (the logits are the
 *             first n_out = C outputs of the last layer).
 * Optimisers: Adam (Kingma & Ba 2015, with decoupled weight decay as in AdamW,
 * Loshchilov & Hutter 2019) and SGD with momentum, each with its own learning rate for
 * the a diagonals, the d diagonals and the biases (Moczulski et al. 2016 tuned these
 * separately).  The rate is scaled per step by a schedule (constant, cosine or step).
 *
 * Determinism: rows are shuffled with GSL's mt19937, sums run in a fixed order, and the
 * DCTs are planned with FFTW_ESTIMATE (FFTW_MEASURE may pick other algorithms from run
 * to run); so the same seed, data and options give bitwise the same model, whatever the
 * thread count -- in either precision (a single-precision run is bitwise reproducible
 * too, and independent of the thread count, but differs from the double run by the
 * float roundings).  A checkpoint holds everything the next epoch depends on (model,
 * optimiser moments, step and epoch counters, the RNG state), so training resumed from
 * it ends bitwise where an uninterrupted run ends.
 */
#ifndef ACDC_MODELS_TRAIN_H
#define ACDC_MODELS_TRAIN_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "models/model.h"
#include "util/progress.h"

enum acdc_loss { ACDC_LOSS_MSE = 0, ACDC_LOSS_XENT = 1 };
enum acdc_optimiser { ACDC_OPT_ADAM = 0, ACDC_OPT_SGD = 1 };
enum acdc_schedule { ACDC_SCHED_CONSTANT = 0, ACDC_SCHED_COSINE = 1, ACDC_SCHED_STEP = 2 };

typedef struct acdc_train_opts {
    int loss;              /* enum acdc_loss */
    int optimiser;         /* enum acdc_optimiser */
    double lr[3];          /* learning rates of the groups a, d, biases */
    double momentum;       /* SGD momentum (0.9) */
    double beta1, beta2;   /* Adam moment decays (0.9, 0.999) */
    double eps;            /* Adam denominator guard (1e-8) */
    double weight_decay;   /* decoupled: θ ← θ − lr·wd·θ each step (0 = none) */
    int schedule;          /* enum acdc_schedule */
    double lr_final;       /* cosine: the rate falls to lr·lr_final at the end (0) */
    double warmup;         /* epochs of linear warm-up from 0 (may be fractional; 0) */
    double step_gamma;     /* step: multiply by this every step_epochs (0.1) */
    size_t step_epochs;    /* step: the period (10) */
    size_t epochs;         /* total epochs */
    size_t batch;          /* rows per minibatch (the last one may be shorter) */
    double val_frac;       /* fraction of the rows held out for validation, [0, 0.9] */
    uint64_t seed;         /* shuffling and the validation split */
    int threads;           /* OpenMP threads of the forward and backward passes */
    int precision;         /* ACDC_PRECISION_DOUBLE (default) or _SINGLE (model.h): the
                            * passes' arithmetic; parameters, Adam's moments, losses and
                            * accuracies stay double either way */
    double distil;         /* classify: weight α in [0, 1] of a teacher's softened outputs
                            * in the loss (acdc_loss_distil(); the data then carry the
                            * teacher's logits); 0: plain cross-entropy (the default) */
    double distil_temp;    /* the softening temperature T > 0 (default 2) */
} acdc_train_opts;

/* The defaults above: Adam, rates 1e-2 for all groups, cosine schedule, 10 epochs,
 * batch 64, 10% validation, seed 1, 1 thread, double precision, no distillation (T = 2),
 * loss given. */
void acdc_train_opts_default(acdc_train_opts *o, int loss);

/* Rows to learn from: x is rows × dim; classify uses labels (rows, each in 0..n_out−1),
 * operator uses y (rows × n_out).  teacher: a teacher's logits for every row (rows ×
 * n_out, e.g. from acdc_model_outputs()), needed when opts.distil > 0, else NULL; the
 * data's fingerprint covers them. */
typedef struct acdc_train_data {
    size_t rows, dim;
    const double *x;
    const double *y;
    const int64_t *labels;
    const double *teacher;
} acdc_train_data;

/* ---- losses ------------------------------------------------------------------------ */

/* Softmax cross-entropy of `batch` rows of C logits (row stride C) against labels.
 * Writes dL/dlogits (scale/1 per row, i.e. multiplied by `scale`) to dy if not NULL, and
 * returns the summed loss (natural log); *correct (if not NULL) counts the rows whose
 * arg-max equals the label (ties go to the lower class).  The log-sum-exp is shifted by
 * the row maximum, so large logits do not overflow. */
double acdc_loss_xent(size_t batch, size_t C, const double *logits, const int64_t *labels,
                      double scale, double *dy, size_t *correct);

/* Knowledge distillation (Hinton, Vinyals & Dean 2015): per row
 *     (1 − α)·CE(z, label) + α·T²·KL(softmax(u/T) ‖ softmax(z/T)),
 * z the logits, u the teacher's (row stride C each); T² keeps the soft term's gradient
 * on the scale of the hard one.  Returns the sum over rows; dy (if not NULL) receives
 * scale·((1 − α)(softmax(z) − e_label) + α·T·(softmax(z/T) − softmax(u/T))).  *correct
 * as acdc_loss_xent() (against the labels).  α = 0 is acdc_loss_xent() exactly. */
double acdc_loss_distil(size_t batch, size_t C, const double *logits, const int64_t *labels,
                        const double *teacher, double alpha, double T, double scale,
                        double *dy, size_t *correct);

/* Squared error Σ (y − t)² over batch × k values, summed; dy (if not NULL) receives
 * scale·2(y − t). */
double acdc_loss_mse(size_t batch, size_t k, const double *y, const double *t,
                     double scale, double *dy);

/* ---- optimiser --------------------------------------------------------------------- */

/* Sets *out to an optimiser over `count` parameter arrays: v[i] (length len[i],
 * learning-rate group group[i] in 0..2) updated from gradients g[i].  The arrays are
 * referenced, not copied; the caller keeps them alive.  Caller frees with
 * acdc_optim_free() (a no-op on NULL).  Errors: ACDC_UTIL_ENOMEM; *out is then NULL. */
typedef struct acdc_optim acdc_optim;
int acdc_optim_alloc(acdc_optim **out, const acdc_train_opts *o, size_t count,
                     double *const *v, double *const *g, const size_t *len,
                     const int *group);
void acdc_optim_free(acdc_optim *opt);

/* One step with every rate multiplied by lr_scale (the schedule's factor). */
void acdc_optim_step(acdc_optim *opt, double lr_scale);

/* The optimiser's state for checkpoints: the two moment vectors (Adam: m and v; SGD:
 * the velocity and an unused vector), each of the total length, and the step count. */
size_t acdc_optim_size(const acdc_optim *opt);
double *acdc_optim_moment(acdc_optim *opt, int which);
uint64_t *acdc_optim_steps(acdc_optim *opt);

/* The schedule's factor after `step` of `total` steps, with steps_per_epoch for warm-up
 * and step decay. */
double acdc_schedule_factor(const acdc_train_opts *o, uint64_t step, uint64_t total,
                            uint64_t steps_per_epoch);

/* ---- the trainer ------------------------------------------------------------------- */

typedef struct acdc_trainer acdc_trainer;

/* Per-epoch figures.  Accuracy is NaN for the operator task; validation figures are NaN
 * without a validation split. */
typedef struct acdc_epoch_stats {
    size_t epoch;          /* 1-based number of the epoch just finished */
    double loss, acc;      /* running means over the epoch's minibatches */
    double val_loss, val_acc;
    double seconds;        /* wall time of the epoch, validation included */
    double train_seconds;  /* of it, the training steps' (the throughput's time) */
    size_t rows;           /* rows trained on (validation rows not counted) */
    double lr_scale;       /* schedule factor at the epoch's last step */
} acdc_epoch_stats;

/* Sets *out to a trainer for model m (which it takes over, also on failure: freed by
 * acdc_trainer_free()) on a data set of `rows` rows.  Splits off round(val_frac·rows)
 * validation rows at random (seed) and plans the passes.  Caller frees with
 * acdc_trainer_free() (a no-op on NULL).  Errors: bad options or no training rows
 * (ACDC_UTIL_EUSAGE), a bad model (ACDC_UTIL_EDATA), no memory (ACDC_UTIL_ENOMEM); *out is then NULL. */
int acdc_trainer_alloc(acdc_trainer **out, acdc_model *m, const acdc_train_opts *o,
                       size_t rows);
void acdc_trainer_free(acdc_trainer *t);

acdc_model *acdc_trainer_model(acdc_trainer *t);
const acdc_train_opts *acdc_trainer_opts(const acdc_trainer *t);
size_t acdc_trainer_epoch_count(const acdc_trainer *t);   /* epochs done */
/* Changes the thread count (not stored in checkpoints; results do not depend on it). */
int acdc_trainer_set_threads(acdc_trainer *t, int threads);
/* Makes training and validation pass through a layer operator (models/model.h: a model
 * of the hardware, compiler/surrogate.h) instead of the numeric layers; NULL restores
 * them.  The operator is referenced, not copied, and is not stored in checkpoints (the
 * caller attaches it again after acdc_trainer_load()).  Its noise is drawn per step, so
 * a resumed run still ends bitwise where an uninterrupted one ends. */
void acdc_trainer_set_op(acdc_trainer *t, const acdc_layer_op *op);
/* What the operator models, stored in checkpoints so that a resumed run can attach the
 * same again: a name (e.g. the profile) and len numbers its maker defines (NULL, 0 to
 * clear).  Errors: ACDC_UTIL_EUSAGE (a name of 512 characters or more), ACDC_UTIL_ENOMEM. */
int acdc_trainer_set_hardware(acdc_trainer *t, const char *spec, const double *v,
                              size_t len);
/* The name (NULL if none) and, if v and len are not NULL, the numbers. */
const char *acdc_trainer_hardware(const acdc_trainer *t, const double **v, size_t *len);
/* Where the distillation teacher came from (a model file's name), stored in checkpoints
 * so that a resumed run can compute its logits again (NULL or "" to clear); the data
 * fingerprint checks that they are the same.  Errors: ACDC_UTIL_EUSAGE (512 characters
 * or more). */
int acdc_trainer_set_teacher(acdc_trainer *t, const char *name);
/* The name, or NULL if none. */
const char *acdc_trainer_teacher(const acdc_trainer *t);

/* Rows of the trainer's workspace: the most an operator sees in one call
 * (max(batch, the evaluation chunk)). */
size_t acdc_trainer_work_rows(const acdc_trainer *t);

/* Changes the total epoch count (e.g. to extend a resumed run); the schedule follows. */
void acdc_trainer_set_epochs(acdc_trainer *t, size_t epochs);

/* Sets the model's input standardisation from the training rows (validation rows are
 * left out): per input the mean, and as scale either the per-input standard deviation
 * (per_input != 0; floored at floor_frac times the mean standard deviation, so constant
 * pixels do not explode) or one standard deviation over all inputs.  The model must have
 * been allocated with ACDC_STANDARDISE. */
int acdc_trainer_standardise(acdc_trainer *t, const acdc_train_data *d, int per_input,
                             double floor_frac);

/* Runs one epoch over d (which must have the rows given at allocation).  bar (may be
 * NULL) is reset and updated.  If *stop becomes non-zero (a signal handler sets it) the
 * epoch is abandoned, the trainer is left unusable for further epochs and ACDC_UTIL_EINTR is
 * returned; the last checkpoint on disk is the state to resume from. */
int acdc_trainer_epoch(acdc_trainer *t, const acdc_train_data *d,
                       const volatile sig_atomic_t *stop, acdc_util_progress *bar,
                       acdc_epoch_stats *st);

/* Writes the model (at the root, so every model reader accepts the file) plus a /train
 * group with the options, counters, optimiser state, RNG state and per-epoch history,
 * atomically (temporary file renamed into place). */
int acdc_trainer_save(const acdc_trainer *t, const char *path);

/* Restores a trainer from a checkpoint written by acdc_trainer_save() for a data set of
 * `rows` rows (checked against the checkpoint).  threads as acdc_trainer_set_threads().
 * The precision is the checkpoint's (its /train attribute `precision`, "double" or
 * "single"; a checkpoint without one is double). */
int acdc_trainer_load(const char *path, size_t rows, int threads, acdc_trainer **out);

/* The training data's fingerprint, stored in checkpoints (root attribute of /train
 * `data`: "rows=..;columns=..;x=<FNV of /x>;labels=..|targets=..", then
 * ";teacher=<FNV of the teacher's logits>" when the data carry them), so that a resume on
 * other data of the same shape is refused rather than continued silently. */
void acdc_trainer_set_data(acdc_trainer *t, const acdc_train_data *d);

/* On a resumed trainer: ACDC_UTIL_OK if d is the data the checkpoint was trained on, else
 * ACDC_UTIL_EDATA "checkpoint 'CKPT' was trained on other data than 'NAME' ('x=..' there,
 * '..' here): ...".  A checkpoint older than the fingerprints sets *unknown = 1 (the
 * caller warns) and passes. */
int acdc_trainer_check_data(const acdc_trainer *t, const char *ckpt, const char *name,
                            const acdc_train_data *d, int *unknown);

/* ---- evaluation -------------------------------------------------------------------- */

typedef struct acdc_eval {
    size_t rows, classes;
    double loss;          /* mean cross-entropy per row, or mean squared error per value */
    double acc;           /* classify: fraction correct; operator: NaN */
    int64_t *confusion;   /* classify: classes × classes, [true][predicted]; else NULL */
} acdc_eval;

/* Evaluates m on all rows of d with the given loss; *out's confusion matrix is
 * malloc'ed (free with acdc_eval_clear()).  Labels ≥ n_out are an error (ACDC_UTIL_EDATA). */
int acdc_evaluate(const acdc_model *m, int loss, const acdc_train_data *d, int threads,
                  acdc_eval *out);
void acdc_eval_clear(acdc_eval *e);

/* The outputs of m (numeric layers) for every row of d: *out is a new rows × n_out
 * array (caller frees).  Errors: the data's width (ACDC_UTIL_EDATA), no memory. */
int acdc_model_outputs(const acdc_model *m, const acdc_train_data *d, int threads,
                       double **out);

/* The same through layer operator op (NULL: the numeric layers) with its noise drawn
 * at tick (models/model.h), in chunks of at most acdc_trainer_work_rows() rows. */
int acdc_evaluate_op(const acdc_model *m, int loss, const acdc_train_data *d, int threads,
                     const acdc_layer_op *op, uint64_t tick, acdc_eval *out);

/* ---- the operator task ------------------------------------------------------------- */

/* The paper's operator-approximation data: a dense target W (n × n, entries N(0, 1/n))
 * and bias b (N(0, 0.1²)), inputs x ~ U[0, 1]^n and targets y = W·x + b + N(0, noise²),
 * all from mt19937 seeded with seed.  *x and *y are new rows × n arrays (caller frees). */
int acdc_operator_data(size_t n, size_t rows, double noise, uint64_t seed, double **x,
                       double **y);
#endif
