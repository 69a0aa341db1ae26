/* SPDX-License-Identifier: GPL-3.0-or-later */
/* models/train.c -- see train.h. */
#include "models/train.h"
#include "models/io.h"
#include "util/error.h"
#include "util/fingerprint.h"
#include "util/h5.h"

#include <fftw3.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Rows per pass when evaluating (forward only). */
#define EVAL_CHUNK 512

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void acdc_train_opts_default(acdc_train_opts *o, int loss)
{
    memset(o, 0, sizeof *o);
    o->loss = loss;
    o->optimiser = ACDC_OPT_ADAM;
    o->lr[0] = o->lr[1] = o->lr[2] = 1e-2;
    o->momentum = 0.9;
    o->beta1 = 0.9;
    o->beta2 = 0.999;
    o->eps = 1e-8;
    o->schedule = ACDC_SCHED_COSINE;
    o->lr_final = 0;
    o->step_gamma = 0.1;
    o->step_epochs = 10;
    o->epochs = 10;
    o->batch = 64;
    o->val_frac = 0.1;
    o->seed = 1;
    o->threads = 1;
    o->distil = 0;
    o->distil_temp = 2;
}

static int check_opts(const acdc_train_opts *o)
{
    if (o->loss != ACDC_LOSS_MSE && o->loss != ACDC_LOSS_XENT)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "unknown loss %d", o->loss);
    if (o->optimiser != ACDC_OPT_ADAM && o->optimiser != ACDC_OPT_SGD)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "unknown optimiser %d", o->optimiser);
    if (o->schedule < ACDC_SCHED_CONSTANT || o->schedule > ACDC_SCHED_STEP)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "unknown schedule %d", o->schedule);
    for (int g = 0; g < 3; g++)
        if (!(o->lr[g] >= 0) || !isfinite(o->lr[g]))
            return acdc_util_error(ACDC_UTIL_EUSAGE, "learning rate %g must be finite and >= 0",
                                   o->lr[g]);
    if (!(o->momentum >= 0 && o->momentum < 1) || !(o->beta1 >= 0 && o->beta1 < 1) ||
        !(o->beta2 >= 0 && o->beta2 < 1) || !(o->eps > 0))
        return acdc_util_error(ACDC_UTIL_EUSAGE, "momentum, beta1 and beta2 must lie in [0, 1) and "
                               "eps be positive");
    if (!(o->weight_decay >= 0) || !isfinite(o->weight_decay))
        return acdc_util_error(ACDC_UTIL_EUSAGE, "weight decay %g must be finite and >= 0",
                               o->weight_decay);
    if (!(o->lr_final >= 0 && o->lr_final <= 1) || !(o->warmup >= 0) ||
        !isfinite(o->warmup) || !(o->step_gamma > 0 && o->step_gamma <= 1) ||
        o->step_epochs == 0)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "schedule: lr_final in [0, 1], warmup >= 0, gamma "
                               "in (0, 1] and a step period >= 1 are needed");
    if (o->epochs == 0 || o->batch == 0)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "epochs and batch size must be at least 1");
    if (!(o->val_frac >= 0 && o->val_frac <= 0.9))
        return acdc_util_error(ACDC_UTIL_EUSAGE, "validation fraction %g is outside [0, 0.9]",
                               o->val_frac);
    if (o->threads < 1 || o->threads > 256)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "threads %d is outside 1..256", o->threads);
    if (o->precision != ACDC_PRECISION_DOUBLE && o->precision != ACDC_PRECISION_SINGLE)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "unknown precision %d", o->precision);
    if (!(o->distil >= 0 && o->distil <= 1))
        return acdc_util_error(ACDC_UTIL_EUSAGE, "distillation weight %g is outside [0, 1]",
                               o->distil);
    if (!(o->distil_temp > 0) || o->distil_temp > 1e3)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "distillation temperature %g is outside (0, "
                               "1000]", o->distil_temp);
    if (o->distil > 0 && o->loss != ACDC_LOSS_XENT)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "distillation needs the classify task");
    return ACDC_UTIL_OK;
}

/* ---- losses ------------------------------------------------------------------------ */

double acdc_loss_xent(size_t batch, size_t C, const double *logits, const int64_t *labels,
                      double scale, double *dy, size_t *correct)
{
    double total = 0;
    size_t ok = 0;
    for (size_t b = 0; b < batch; b++) {
        const double *z = logits + b * C;
        size_t arg = 0;
        for (size_t k = 1; k < C; k++)
            if (z[k] > z[arg])
                arg = k;
        double mx = z[arg], s = 0;
        for (size_t k = 0; k < C; k++)
            s += exp(z[k] - mx);
        size_t t = (size_t)labels[b];
        total += log(s) + mx - z[t];
        ok += arg == t;
        if (dy) {
            double *g = dy + b * C;
            for (size_t k = 0; k < C; k++)
                g[k] = scale * (exp(z[k] - mx) / s - (k == t));
        }
    }
    if (correct)
        *correct = ok;
    return total;
}

/* log Σ_k exp(z_k/T) of one row of C, shifted by the row's maximum. */
static double lse_t(size_t C, const double *z, double T)
{
    double mx = z[0], s = 0;
    for (size_t k = 1; k < C; k++)
        mx = z[k] > mx ? z[k] : mx;
    for (size_t k = 0; k < C; k++)
        s += exp((z[k] - mx) / T);
    return log(s) + mx / T;
}

double acdc_loss_distil(size_t batch, size_t C, const double *logits, const int64_t *labels,
                        const double *teacher, double alpha, double T, double scale,
                        double *dy, size_t *correct)
{
    /* the hard term, with its gradient weighted by 1 − α */
    double total = acdc_loss_xent(batch, C, logits, labels, scale * (1 - alpha), dy, correct);
    if (alpha <= 0)
        return total;
    total *= 1 - alpha;
    for (size_t b = 0; b < batch; b++) {
        const double *z = logits + b * C, *u = teacher + b * C;
        const double lz = lse_t(C, z, T), lu = lse_t(C, u, T);
        /* KL(q ‖ p) = Σ q (log q − log p), log q_k = u_k/T − lu, log p_k = z_k/T − lz */
        double kl = 0;
        for (size_t k = 0; k < C; k++) {
            const double lq = u[k] / T - lu, lp = z[k] / T - lz, q = exp(lq);
            kl += q * (lq - lp);
            if (dy)
                dy[b * C + k] += scale * alpha * T * (exp(lp) - q);
        }
        total += alpha * T * T * kl;
    }
    return total;
}

double acdc_loss_mse(size_t batch, size_t k, const double *y, const double *t, double scale,
                     double *dy)
{
    double total = 0;
    for (size_t i = 0; i < batch * k; i++) {
        double e = y[i] - t[i];
        total += e * e;
        if (dy)
            dy[i] = scale * 2 * e;
    }
    return total;
}

/* ---- optimiser --------------------------------------------------------------------- */

struct acdc_optim {
    acdc_train_opts o;
    size_t count, total;
    double **v, **g;
    size_t *len, *off;   /* each array's length and its offset into the moments */
    int *group;
    double *m1, *m2;
    uint64_t steps;
};

int acdc_optim_alloc(acdc_optim **out, const acdc_train_opts *o, size_t count,
                     double *const *v, double *const *g, const size_t *len,
                     const int *group)
{
    *out = NULL;
    acdc_optim *p = calloc(1, sizeof *p);
    if (!p)
        goto nomem;
    p->o = *o;
    p->count = count;
    p->v = malloc((count ? count : 1) * sizeof *p->v);
    p->g = malloc((count ? count : 1) * sizeof *p->g);
    p->len = malloc((count ? count : 1) * sizeof *p->len);
    p->group = malloc((count ? count : 1) * sizeof *p->group);
    p->off = malloc((count ? count : 1) * sizeof *p->off);
    if (!p->v || !p->g || !p->len || !p->group || !p->off)
        goto nomem;
    for (size_t i = 0; i < count; i++) {
        p->v[i] = v[i];
        p->g[i] = g[i];
        p->len[i] = len[i];
        p->off[i] = p->total;
        p->group[i] = group[i] < 0 ? 0 : group[i] > 2 ? 2 : group[i];
        p->total += len[i];
    }
    p->m1 = calloc(p->total ? p->total : 1, sizeof *p->m1);
    p->m2 = calloc(p->total ? p->total : 1, sizeof *p->m2);
    if (!p->m1 || !p->m2)
        goto nomem;
    *out = p;
    return 0;
nomem:
    acdc_optim_free(p);
    return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for the optimiser state");
}

void acdc_optim_free(acdc_optim *p)
{
    if (!p)
        return;
    free(p->v);
    free(p->g);
    free(p->len);
    free(p->off);
    free(p->group);
    free(p->m1);
    free(p->m2);
    free(p);
}

size_t acdc_optim_size(const acdc_optim *p) { return p->total; }
double *acdc_optim_moment(acdc_optim *p, int which) { return which ? p->m2 : p->m1; }
uint64_t *acdc_optim_steps(acdc_optim *p) { return &p->steps; }

void acdc_optim_step(acdc_optim *p, double lr_scale)
{
    const acdc_train_opts *o = &p->o;
    p->steps++;
    /* Adam's bias corrections for moments started at zero (Kingma & Ba 2015, alg. 1). */
    const double c1 = 1 - pow(o->beta1, (double)p->steps);
    const double c2 = 1 - pow(o->beta2, (double)p->steps);
    /* element-wise: the arrays may be shared out among threads in any way, the result
     * is the same (below 4096 values one thread does it, not worth a fork) */
#pragma omp parallel for num_threads(o->threads) schedule(static) if (o->threads > 1 && p->total >= 4096)
    for (size_t i = 0; i < p->count; i++) {
        double *v = p->v[i], *m1 = p->m1 + p->off[i], *m2 = p->m2 + p->off[i];
        const double *g = p->g[i];
        const double lr = o->lr[p->group[i]] * lr_scale, wd = o->weight_decay;
        if (o->optimiser == ACDC_OPT_ADAM) {
            for (size_t j = 0; j < p->len[i]; j++) {
                m1[j] = o->beta1 * m1[j] + (1 - o->beta1) * g[j];
                m2[j] = o->beta2 * m2[j] + (1 - o->beta2) * g[j] * g[j];
                double step = (m1[j] / c1) / (sqrt(m2[j] / c2) + o->eps);
                v[j] -= lr * (step + wd * v[j]);
            }
        } else {
            for (size_t j = 0; j < p->len[i]; j++) {
                m1[j] = o->momentum * m1[j] + g[j];
                v[j] -= lr * (m1[j] + wd * v[j]);
            }
        }
    }
}

double acdc_schedule_factor(const acdc_train_opts *o, uint64_t step, uint64_t total,
                            uint64_t steps_per_epoch)
{
    double f = 1;
    double wsteps = o->warmup * (double)steps_per_epoch;
    if (wsteps > 0 && (double)step < wsteps)
        f = ((double)step + 1) / wsteps;
    if (o->schedule == ACDC_SCHED_COSINE && total > 0) {
        double p = (double)step / (double)total;
        if (p > 1)
            p = 1;
        f *= o->lr_final + (1 - o->lr_final) * 0.5 * (1 + cos(M_PI * p));
    } else if (o->schedule == ACDC_SCHED_STEP && steps_per_epoch > 0) {
        uint64_t e = step / steps_per_epoch;
        f *= pow(o->step_gamma, (double)(e / o->step_epochs));
    }
    return f;
}

/* ---- the trainer ------------------------------------------------------------------- */

enum { HIST_COLS = 7 };   /* epoch, loss, acc, val_loss, val_acc, seconds, lr_scale */

struct acdc_trainer {
    acdc_model *m, *grad;
    acdc_train_opts o;
    acdc_work *w;
    acdc_optim *opt;
    gsl_rng *rng;
    size_t rows, n_train, n_val;
    size_t *base;      /* n_train training rows (ascending), then n_val validation rows */
    size_t *order;     /* this epoch's shuffle of the training rows */
    double *xb, *yb, *dy;
    int64_t *lb;
    double *tl;        /* a minibatch's teacher logits (distillation), or NULL */
    size_t epoch;
    uint64_t step;
    double *hist;      /* epoch × HIST_COLS */
    size_t hist_rows, hist_cap;
    int broken;
    /* The parameter arrays in acdc_model_foreach_param() order, and their gradients. */
    size_t np;
    double **pv, **pg;
    size_t *plen;
    int *pgrp;
    const acdc_layer_op *op;   /* layers computed by a hardware model, or NULL */
    char hardware[512];        /* what it models (stored in checkpoints), or "" */
    char teacher[512];         /* where the distillation teacher came from, or "" */
    char data[160];            /* the training data's fingerprint, or "" (unknown) */
    double *hw;                /* numbers its maker stores with it */
    size_t hw_len;
};

struct plist {
    size_t count;
    double **v;
    size_t *len;
    int *grp;
};

static void collect_param(double *v, size_t len, int group, void *user)
{
    struct plist *p = user;
    if (p->v) {
        p->v[p->count] = v;
        p->len[p->count] = len;
        p->grp[p->count] = group;
    }
    p->count++;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

static int plan(acdc_trainer *t)
{
    acdc_work_free(t->w);
    size_t b = t->o.batch > EVAL_CHUNK ? t->o.batch : EVAL_CHUNK;
    /* FFTW_ESTIMATE: the same plan every run, so the same rounding every run. */
    int rc = acdc_work_alloc_precision(&t->w, t->m, b, 1, t->o.threads, FFTW_ESTIMATE,
                                       t->o.precision);
    if (!rc)
        acdc_work_set_op(t->w, t->op);
    return rc;
}

int acdc_trainer_set_hardware(acdc_trainer *t, const char *spec, const double *v,
                              size_t len)
{
    if (spec && strlen(spec) >= sizeof t->hardware)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "hardware name too long (%zu characters, at most "
                               "%zu)", strlen(spec), sizeof t->hardware - 1);
    double *c = NULL;
    if (len && !(c = malloc(len * sizeof *c)))
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
    if (len)
        memcpy(c, v, len * sizeof *c);
    free(t->hw);
    t->hw = c;
    t->hw_len = len;
    snprintf(t->hardware, sizeof t->hardware, "%s", spec ? spec : "");
    return ACDC_UTIL_OK;
}

int acdc_trainer_set_teacher(acdc_trainer *t, const char *name)
{
    if (name && strlen(name) >= sizeof t->teacher)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "teacher name too long (%zu characters, at most "
                               "%zu)", strlen(name), sizeof t->teacher - 1);
    snprintf(t->teacher, sizeof t->teacher, "%s", name ? name : "");
    return ACDC_UTIL_OK;
}

const char *acdc_trainer_teacher(const acdc_trainer *t)
{
    return t->teacher[0] ? t->teacher : NULL;
}

const char *acdc_trainer_hardware(const acdc_trainer *t, const double **v, size_t *len)
{
    if (v)
        *v = t->hw;
    if (len)
        *len = t->hw_len;
    return t->hardware[0] ? t->hardware : NULL;
}

size_t acdc_trainer_work_rows(const acdc_trainer *t)
{
    return t->o.batch > EVAL_CHUNK ? t->o.batch : EVAL_CHUNK;
}

void acdc_trainer_set_op(acdc_trainer *t, const acdc_layer_op *op)
{
    t->op = op;
    acdc_work_set_op(t->w, op);
}

int acdc_trainer_alloc(acdc_trainer **out, acdc_model *m, const acdc_train_opts *o,
                       size_t rows)
{
    *out = NULL;
    int rc = check_opts(o);
    if (rc) {
        acdc_model_free(m);
        return rc;
    }
    if ((rc = acdc_model_check(m))) {
        acdc_model_free(m);
        return rc;
    }
    acdc_trainer *t = calloc(1, sizeof *t);
    if (!t) {
        acdc_model_free(m);
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
    }
    t->m = m;
    t->o = *o;
    t->rows = rows;
    t->n_val = (size_t)floor(o->val_frac * (double)rows + 0.5);
    t->n_train = rows - t->n_val;
    if (t->n_train == 0) {
        size_t held = t->n_val;
        acdc_trainer_free(t);
        return acdc_util_error(ACDC_UTIL_EUSAGE, "no training rows: %zu rows, %zu held out", rows,
                               held);
    }
    size_t n = m->n, B = o->batch > EVAL_CHUNK ? o->batch : EVAL_CHUNK;
    if ((rc = acdc_model_alloc_like(&t->grad, m))) {
        acdc_trainer_free(t);
        return rc;   /* the message is recorded */
    }
    t->base = malloc(rows * sizeof *t->base);
    t->order = malloc(t->n_train * sizeof *t->order);
    t->xb = malloc(B * m->n_in * sizeof *t->xb);
    t->yb = malloc(B * m->n_out * sizeof *t->yb);
    t->dy = malloc(B * m->n_out * sizeof *t->dy);
    t->lb = malloc(B * sizeof *t->lb);
    t->tl = o->distil > 0 ? malloc(B * m->n_out * sizeof *t->tl) : NULL;
    t->rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!t->base || !t->order || !t->xb || !t->yb || !t->dy || !t->lb ||
        (o->distil > 0 && !t->tl) || !t->rng)
        goto nomem;
    (void)n;
    /* The validation split has its own generator, so it does not depend on (or disturb)
     * the shuffling stream. */
    gsl_rng *split = gsl_rng_alloc(gsl_rng_mt19937);
    if (!split)
        goto nomem;
    gsl_rng_set(split, (unsigned long)(o->seed * 2654435761u + 17));
    for (size_t i = 0; i < rows; i++)
        t->base[i] = i;
    if (t->n_val)
        gsl_ran_shuffle(split, t->base, rows, sizeof *t->base);
    gsl_rng_free(split);
    qsort(t->base, t->n_train, sizeof *t->base, cmp_size);
    qsort(t->base + t->n_train, t->n_val, sizeof *t->base, cmp_size);
    gsl_rng_set(t->rng, (unsigned long)o->seed);

    struct plist pl = {0};
    acdc_model_foreach_param(t->m, collect_param, &pl);
    t->np = pl.count;
    t->pv = malloc((t->np + 1) * sizeof *t->pv);
    t->pg = malloc((t->np + 1) * sizeof *t->pg);
    t->plen = malloc((t->np + 1) * sizeof *t->plen);
    t->pgrp = malloc((t->np + 1) * sizeof *t->pgrp);
    if (!t->pv || !t->pg || !t->plen || !t->pgrp)
        goto nomem;
    pl = (struct plist){0, t->pv, t->plen, t->pgrp};
    acdc_model_foreach_param(t->m, collect_param, &pl);
    int *gg = malloc((t->np + 1) * sizeof *gg);
    size_t *gl = malloc((t->np + 1) * sizeof *gl);
    if (!gg || !gl) {
        free(gg);
        free(gl);
        goto nomem;
    }
    pl = (struct plist){0, t->pg, gl, gg};
    acdc_model_foreach_param(t->grad, collect_param, &pl);
    free(gg);
    free(gl);
    if ((rc = acdc_optim_alloc(&t->opt, &t->o, t->np, t->pv, t->pg, t->plen, t->pgrp)) ||
        (rc = plan(t))) {
        acdc_trainer_free(t);
        return rc;   /* the message is recorded */
    }
    *out = t;
    return ACDC_UTIL_OK;
nomem:
    acdc_trainer_free(t);
    return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for a trainer of %zu rows", rows);
}

void acdc_trainer_free(acdc_trainer *t)
{
    if (!t)
        return;
    free(t->hw);
    acdc_model_free(t->m);
    acdc_model_free(t->grad);
    acdc_work_free(t->w);
    acdc_optim_free(t->opt);
    if (t->rng)
        gsl_rng_free(t->rng);
    free(t->base);
    free(t->order);
    free(t->xb);
    free(t->yb);
    free(t->dy);
    free(t->lb);
    free(t->tl);
    free(t->hist);
    free(t->pv);
    free(t->pg);
    free(t->plen);
    free(t->pgrp);
    free(t);
}

acdc_model *acdc_trainer_model(acdc_trainer *t) { return t->m; }
const acdc_train_opts *acdc_trainer_opts(const acdc_trainer *t) { return &t->o; }
size_t acdc_trainer_epoch_count(const acdc_trainer *t) { return t->epoch; }

int acdc_trainer_set_threads(acdc_trainer *t, int threads)
{
    if (threads < 1 || threads > 256)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "threads %d is outside 1..256", threads);
    if (threads == t->o.threads)
        return ACDC_UTIL_OK;
    t->o.threads = threads;
    t->opt->o.threads = threads;
    return plan(t);
}

void acdc_trainer_set_epochs(acdc_trainer *t, size_t epochs)
{
    if (epochs > 0)
        t->o.epochs = epochs;
}

int acdc_trainer_standardise(acdc_trainer *t, const acdc_train_data *d, int per_input,
                             double floor_frac)
{
    acdc_model *m = t->m;
    if (!m->in_mean)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "the model carries no input standardisation");
    if (d->dim != m->n_in || d->rows != t->rows)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "data of %zu × %zu, trainer expects %zu × %zu",
                               d->rows, d->dim, t->rows, m->n_in);
    const size_t k = m->n_in;
    double *mean = calloc(k, sizeof *mean), *m2 = calloc(k, sizeof *m2);
    if (!mean || !m2) {
        free(mean);
        free(m2);
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
    }
    /* Welford's running update: stable for 60k rows of values in [0, 1]. */
    for (size_t r = 0; r < t->n_train; r++) {
        const double *x = d->x + t->base[r] * k;
        double cnt = (double)(r + 1);
        for (size_t i = 0; i < k; i++) {
            double dlt = x[i] - mean[i];
            mean[i] += dlt / cnt;
            m2[i] += dlt * (x[i] - mean[i]);
        }
    }
    double nt = (double)t->n_train, tot_var = 0, mean_sd = 0;
    for (size_t i = 0; i < k; i++) {
        double var = m2[i] / nt;
        /* Variance over all inputs about each input's own mean (pooled). */
        tot_var += var;
        mean_sd += sqrt(var);
    }
    mean_sd /= (double)k;
    double global_sd = sqrt(tot_var / (double)k);
    if (!per_input) {
        /* One scalar pair: x' = (x − μ)/σ with μ the mean over all values. */
        double mu = 0, ss = 0;
        for (size_t i = 0; i < k; i++)
            mu += mean[i];
        mu /= (double)k;
        for (size_t i = 0; i < k; i++)
            ss += m2[i] / nt + (mean[i] - mu) * (mean[i] - mu);
        global_sd = sqrt(ss / (double)k);
        for (size_t i = 0; i < k; i++) {
            m->in_mean[i] = mu;
            m->in_scale[i] = global_sd > 0 ? global_sd : 1;
        }
    } else {
        double fl = floor_frac * mean_sd;
        for (size_t i = 0; i < k; i++) {
            double sd = sqrt(m2[i] / nt);
            m->in_mean[i] = mean[i];
            m->in_scale[i] = sd > fl ? sd : (fl > 0 ? fl : 1);
        }
    }
    free(mean);
    free(m2);
    return ACDC_UTIL_OK;
}

static int check_data(const acdc_model *m, int loss, const acdc_train_data *d)
{
    if (d->dim != m->n_in)
        return acdc_util_error(ACDC_UTIL_EDATA,
                               "the data have %zu columns but the model takes n_in "
                               "= %zu inputs", d->dim, m->n_in);
    if (loss == ACDC_LOSS_XENT) {
        if (!d->labels)
            return acdc_util_error(ACDC_UTIL_EDATA, "classification needs labels");
        return acdc_check_labels(d->labels, d->rows, NULL, m->n_out, "the model");
    } else if (!d->y) {
        return acdc_util_error(ACDC_UTIL_EDATA, "the operator task needs targets");
    }
    return ACDC_UTIL_OK;
}

/* Loss (summed) and correct count over rows idx[0..count) of d, in fixed chunks. */
static int eval_rows(const acdc_model *m, acdc_work *w, uint64_t tick, int loss,
                     const acdc_train_data *d,
                     const size_t *idx, size_t count, double *xb, double *yb, int64_t *lb,
                     double *tb, double *loss_sum, size_t *correct, int64_t *confusion)
{
    const size_t ni = m->n_in, no = m->n_out;
    double ls = 0;
    size_t ok = 0;
    for (size_t r = 0; r < count; r += EVAL_CHUNK) {
        size_t k = count - r < EVAL_CHUNK ? count - r : EVAL_CHUNK;
        for (size_t i = 0; i < k; i++) {
            size_t row = idx ? idx[r + i] : r + i;
            memcpy(xb + i * ni, d->x + row * ni, ni * sizeof *xb);
            if (loss == ACDC_LOSS_XENT)
                lb[i] = d->labels[row];
            else
                memcpy(tb + i * no, d->y + row * no, no * sizeof *tb);
        }
        /* each chunk its own tick: an operator's noise differs from chunk to chunk */
        acdc_work_set_tick(w, tick + (uint64_t)(r / EVAL_CHUNK) * (UINT64_C(1) << 40));
        int rc = acdc_model_forward(m, w, k, xb, yb);
        for (size_t i = 0; !rc && i < k; i++)
            rc = acdc_check_values(yb + i * no, 1, no, idx ? idx[r + i] : r + i, 0, NULL,
                                   "the model's outputs");
        if (rc)
            return rc;
        if (loss == ACDC_LOSS_XENT) {
            size_t c;
            ls += acdc_loss_xent(k, no, yb, lb, 1, NULL, &c);
            ok += c;
            if (confusion)
                for (size_t i = 0; i < k; i++) {
                    size_t arg = 0;
                    for (size_t j = 1; j < no; j++)
                        if (yb[i * no + j] > yb[i * no + arg])
                            arg = j;
                    confusion[(size_t)lb[i] * no + arg]++;
                }
        } else {
            ls += acdc_loss_mse(k, no, yb, tb, 1, NULL);
        }
    }
    *loss_sum = ls;
    *correct = ok;
    return ACDC_UTIL_OK;
}

static int hist_push(acdc_trainer *t, const double *row)
{
    if (t->hist_rows == t->hist_cap) {
        size_t cap = t->hist_cap ? 2 * t->hist_cap : 16;
        double *h = realloc(t->hist, cap * HIST_COLS * sizeof *h);
        if (!h)
            return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
        t->hist = h;
        t->hist_cap = cap;
    }
    memcpy(t->hist + t->hist_rows * HIST_COLS, row, HIST_COLS * sizeof *row);
    t->hist_rows++;
    return ACDC_UTIL_OK;
}

int acdc_trainer_epoch(acdc_trainer *t, const acdc_train_data *d,
                       const volatile sig_atomic_t *stop, acdc_util_progress *bar,
                       acdc_epoch_stats *st)
{
    if (t->broken)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "the trainer was interrupted mid-epoch; resume "
                               "from the last checkpoint");
    if (d->rows != t->rows)
        return acdc_util_error(ACDC_UTIL_EDATA, "the data have %zu rows, the trainer was made for "
                               "%zu", d->rows, t->rows);
    int rc = check_data(t->m, t->o.loss, d);
    if (rc)
        return rc;
    if (t->o.distil > 0 && !d->teacher)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "distillation (weight %g) needs the teacher's "
                               "logits with the data", t->o.distil);
    acdc_model *m = t->m;
    const size_t ni = m->n_in, no = m->n_out, B = t->o.batch;
    const int xent = t->o.loss == ACDC_LOSS_XENT;
    const uint64_t spe = (t->n_train + B - 1) / B, total = spe * t->o.epochs;
    const double t0 = now_s();
    char label[64];
    snprintf(label, sizeof label, "epoch %zu/%zu", t->epoch + 1, t->o.epochs);
    acdc_util_progress_reset(bar, label, t->n_train);

    memcpy(t->order, t->base, t->n_train * sizeof *t->order);
    gsl_ran_shuffle(t->rng, t->order, t->n_train, sizeof *t->order);
    double loss_sum = 0, lr_scale = 1;
    size_t correct = 0, seen = 0;
    for (size_t s = 0; s < spe; s++) {
        if (stop && *stop) {
            t->broken = 1;
            acdc_util_progress_finish(bar);
            return acdc_util_error(ACDC_UTIL_EINTR, "interrupted in epoch %zu; the last checkpoint "
                                   "holds epoch %zu", t->epoch + 1, t->epoch);
        }
        size_t r0 = s * B, k = t->n_train - r0 < B ? t->n_train - r0 : B;
        /* the gather is as much memory traffic as a layer: shared out like the rows */
#pragma omp parallel for num_threads(t->o.threads) schedule(static) if (t->o.threads > 1 && k * ni >= 4096)
        for (size_t i = 0; i < k; i++) {
            size_t row = t->order[r0 + i];
            memcpy(t->xb + i * ni, d->x + row * ni, ni * sizeof *t->xb);
            if (xent)
                t->lb[i] = d->labels[row];
            if (t->tl)
                memcpy(t->tl + i * no, d->teacher + row * no, no * sizeof *t->tl);
        }
        acdc_work_set_tick(t->w, t->step);
        if ((rc = acdc_model_forward(m, t->w, k, t->xb, t->yb)))
            return rc;
        if (xent) {
            size_t c;
            loss_sum += t->tl ? acdc_loss_distil(k, no, t->yb, t->lb, t->tl, t->o.distil,
                                                 t->o.distil_temp, 1.0 / (double)k, t->dy, &c)
                              : acdc_loss_xent(k, no, t->yb, t->lb, 1.0 / (double)k, t->dy, &c);
            correct += c;
        } else {
            /* Targets are gathered into dy's place first, then overwritten by dL/dy. */
            double *tb = t->dy;
            for (size_t i = 0; i < k; i++)
                memcpy(tb + i * no, d->y + t->order[r0 + i] * no, no * sizeof *tb);
            loss_sum += acdc_loss_mse(k, no, t->yb, tb, 1.0 / (double)(k * no), t->dy);
        }
        for (size_t i = 0; i < t->np; i++)
            memset(t->pg[i], 0, t->plen[i] * sizeof(double));
        if ((rc = acdc_model_backward(m, t->w, k, t->dy, t->grad, NULL)))
            return rc;
        lr_scale = acdc_schedule_factor(&t->o, t->step, total, spe);
        acdc_optim_step(t->opt, lr_scale);
        t->step++;
        seen += k;
        if (bar) {
            double ml = loss_sum / (double)(xent ? seen : seen * no);
            if (xent)
                acdc_util_progress_update(bar, seen, "loss %.4f  acc %.4f", ml,
                                          (double)correct / (double)seen);
            else
                acdc_util_progress_update(bar, seen, "mse %.4g", ml);
        }
    }
    t->epoch++;
    acdc_epoch_stats e;
    e.train_seconds = now_s() - t0;
    e.rows = seen;
    e.epoch = t->epoch;
    e.loss = loss_sum / (double)(xent ? seen : seen * no);
    e.acc = xent ? (double)correct / (double)seen : NAN;
    e.val_loss = e.val_acc = NAN;
    e.lr_scale = lr_scale;
    if (t->n_val) {
        double vl;
        size_t vc;
        /* validation draws its own noise (ticks above every step's) */
        if ((rc = eval_rows(m, t->w, UINT64_C(1) << 62 | t->epoch, t->o.loss, d,
                            t->base + t->n_train, t->n_val, t->xb,
                            t->yb, t->lb, t->dy, &vl, &vc, NULL)))
            return rc;
        e.val_loss = vl / (double)(xent ? t->n_val : t->n_val * no);
        e.val_acc = xent ? (double)vc / (double)t->n_val : NAN;
    }
    e.seconds = now_s() - t0;
    acdc_util_progress_finish(bar);
    /* History stores −1 where a figure does not apply (HDF5 readers here reject NaN). */
    double h[HIST_COLS] = {(double)e.epoch, e.loss, isnan(e.acc) ? -1 : e.acc,
                           isnan(e.val_loss) ? -1 : e.val_loss,
                           isnan(e.val_acc) ? -1 : e.val_acc, e.seconds, e.lr_scale};
    if ((rc = hist_push(t, h)))
        return rc;
    if (st)
        *st = e;
    return ACDC_UTIL_OK;
}

/* ---- checkpoints ------------------------------------------------------------------- */

static const char *loss_name(int l) { return l == ACDC_LOSS_XENT ? "xent" : "mse"; }
static const char *opt_name(int o) { return o == ACDC_OPT_SGD ? "sgd" : "adam"; }
static const char *sched_name(int s)
{
    return s == ACDC_SCHED_COSINE ? "cosine" : s == ACDC_SCHED_STEP ? "step" : "constant";
}

static const char *precision_name(int p)
{
    return p == ACDC_PRECISION_SINGLE ? "single" : "double";
}

/* The fingerprint string of d (acdc_trainer_set_data()). */
static void data_fingerprint(const acdc_train_data *d, size_t nout, char *buf, size_t size)
{
    uint64_t hx = acdc_util_fnv(ACDC_UTIL_FNV_OFFSET, d->x, d->rows * d->dim * sizeof *d->x);
    uint64_t hl = ACDC_UTIL_FNV_OFFSET;
    if (d->labels)
        hl = acdc_util_fnv(hl, d->labels, d->rows * sizeof *d->labels);
    else if (d->y)
        hl = acdc_util_fnv(hl, d->y, d->rows * d->dim * sizeof *d->y);
    int len = snprintf(buf, size, "rows=%zu;columns=%zu;x=%016llx;%s=%016llx", d->rows,
                       d->dim, (unsigned long long)hx, d->labels ? "labels" : "targets",
                       (unsigned long long)hl);
    /* the teacher's logits, rows × n_out */
    if (d->teacher && len > 0 && (size_t)len < size)
        snprintf(buf + len, size - (size_t)len, ";teacher=%016llx",
                 (unsigned long long)acdc_util_fnv(ACDC_UTIL_FNV_OFFSET, d->teacher,
                                                   d->rows * nout * sizeof *d->teacher));
}

void acdc_trainer_set_data(acdc_trainer *t, const acdc_train_data *d)
{
    data_fingerprint(d, t->m->n_out, t->data, sizeof t->data);
}

int acdc_trainer_check_data(const acdc_trainer *t, const char *ckpt, const char *name,
                            const acdc_train_data *d, int *unknown)
{
    char now[sizeof t->data], diff[300];
    *unknown = !t->data[0];
    if (*unknown)
        return ACDC_UTIL_OK;
    data_fingerprint(d, t->m->n_out, now, sizeof now);
    if (!strcmp(now, t->data))
        return ACDC_UTIL_OK;
    acdc_util_settings_difference(t->data, now, diff, sizeof diff);
    return acdc_util_error(ACDC_UTIL_EDATA,
                           "checkpoint '%s' was trained on other data than '%s' (%s): "
                           "resume with the same data, or train afresh without --resume", ckpt,
                           name, diff);
}

int acdc_trainer_save(const acdc_trainer *t, const char *path)
{
    acdc_util_h5_out o;
    int rc = acdc_util_h5_create(path, &o);
    if (rc)
        return rc;
    hid_t f = o.fid;
    const acdc_train_opts *p = &t->o;
    const char *g = "/train";
    size_t nrng = gsl_rng_size(t->rng), words = (nrng + 7) / 8;
    int64_t *rs = calloc(words ? words : 1, sizeof *rs);
    if (!rs) {
        acdc_util_h5_abort(&o);
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
    }
    memcpy(rs, gsl_rng_state(t->rng), nrng);
    acdc_optim *opt = t->opt;
    hsize_t dm[1] = {acdc_optim_size(opt)}, dr[1] = {words};
    hsize_t dh[2] = {t->hist_rows, HIST_COLS};
    if ((rc = acdc_model_write_h5(f, "/", t->m)) || (rc = acdc_util_h5_group(f, g)) ||
        (rc = acdc_util_h5_set_attr_str(f, g, "loss", loss_name(p->loss))) ||
        (rc = acdc_util_h5_set_attr_str(f, g, "optimiser", opt_name(p->optimiser))) ||
        (rc = acdc_util_h5_set_attr_str(f, g, "schedule", sched_name(p->schedule))) ||
        (rc = acdc_util_h5_set_attr_f64(f, g, "lr_a", p->lr[0])) ||
        (rc = acdc_util_h5_set_attr_f64(f, g, "lr_d", p->lr[1])) ||
        (rc = acdc_util_h5_set_attr_f64(f, g, "lr_bias", p->lr[2])) ||
        (rc = acdc_util_h5_set_attr_f64(f, g, "momentum", p->momentum)) ||
        (rc = acdc_util_h5_set_attr_f64(f, g, "beta1", p->beta1)) ||
        (rc = acdc_util_h5_set_attr_f64(f, g, "beta2", p->beta2)) ||
        (rc = acdc_util_h5_set_attr_f64(f, g, "eps", p->eps)) ||
        (rc = acdc_util_h5_set_attr_f64(f, g, "weight_decay", p->weight_decay)) ||
        (rc = acdc_util_h5_set_attr_f64(f, g, "lr_final", p->lr_final)) ||
        (rc = acdc_util_h5_set_attr_f64(f, g, "warmup", p->warmup)) ||
        (rc = acdc_util_h5_set_attr_f64(f, g, "step_gamma", p->step_gamma)) ||
        (rc = acdc_util_h5_set_attr_i64(f, g, "step_epochs", (int64_t)p->step_epochs)) ||
        (rc = acdc_util_h5_set_attr_i64(f, g, "epochs", (int64_t)p->epochs)) ||
        (rc = acdc_util_h5_set_attr_i64(f, g, "batch", (int64_t)p->batch)) ||
        (rc = acdc_util_h5_set_attr_f64(f, g, "val_frac", p->val_frac)) ||
        (rc = acdc_util_h5_set_attr_i64(f, g, "seed", (int64_t)p->seed)) ||
        (rc = acdc_util_h5_set_attr_str(f, g, "precision", precision_name(p->precision))) ||
        (rc = acdc_util_h5_set_attr_i64(f, g, "rows", (int64_t)t->rows)) ||
        (rc = acdc_util_h5_set_attr_i64(f, g, "n_val", (int64_t)t->n_val)) ||
        (rc = acdc_util_h5_set_attr_i64(f, g, "epoch", (int64_t)t->epoch)) ||
        (rc = acdc_util_h5_set_attr_i64(f, g, "step", (int64_t)t->step)) ||
        (rc = acdc_util_h5_set_attr_i64(f, g, "optim_steps", (int64_t)*acdc_optim_steps(opt))) ||
        (rc = acdc_util_h5_set_attr_str(f, g, "rng", gsl_rng_name(t->rng))) ||
        (rc = acdc_util_h5_set_attr_i64(f, g, "rng_bytes", (int64_t)nrng)) ||
        (rc = acdc_util_h5_write_i64(f, "/train/rng_state", 1, dr, rs)) ||
        (rc = acdc_util_h5_write_f64(f, "/train/moment1", 1, dm, acdc_optim_moment(opt, 0))) ||
        (rc = acdc_util_h5_write_f64(f, "/train/moment2", 1, dm, acdc_optim_moment(opt, 1))) ||
        (t->hist_rows && (rc = acdc_util_h5_write_f64(f, "/train/history", 2, dh, t->hist))) ||
        (t->hardware[0] && (rc = acdc_util_h5_set_attr_str(f, g, "hardware", t->hardware))) ||
        (p->distil > 0 &&
         ((rc = acdc_util_h5_set_attr_f64(f, g, "distil", p->distil)) ||
          (rc = acdc_util_h5_set_attr_f64(f, g, "distil_temperature", p->distil_temp)))) ||
        (t->teacher[0] && (rc = acdc_util_h5_set_attr_str(f, g, "teacher", t->teacher))) ||
        (t->data[0] && (rc = acdc_util_h5_set_attr_str(f, g, "data", t->data))) ||
        (t->hw_len && (rc = acdc_util_h5_write_f64(f, "/train/hardware", 1,
                                                   (hsize_t[1]){t->hw_len}, t->hw)))) {
        free(rs);
        acdc_util_h5_abort(&o);
        acdc_util_error_prefix("cannot write checkpoint '%s'", path);
        return rc;
    }
    free(rs);
    return acdc_util_h5_commit(&o);
}

static int name_index(const char *file, const char *attr, const char *v,
                      const char *const *names, int count, int *out)
{
    for (int i = 0; i < count; i++)
        if (!strcmp(v, names[i])) {
            *out = i;
            return ACDC_UTIL_OK;
        }
    return acdc_util_error(ACDC_UTIL_EDATA,
                           "attribute '%s' on '/train' in '%s' is '%s', not a known "
                           "value", attr, file, v);
}

int acdc_trainer_load(const char *path, size_t rows, int threads, acdc_trainer **out)
{
    *out = NULL;
    acdc_model *m = NULL;
    int rc = acdc_model_read(path, &m);
    if (rc)
        return rc;
    hid_t f;
    if ((rc = acdc_util_h5_open(path, &f))) {
        acdc_model_free(m);
        return rc;
    }
    const char *g = "/train";
    acdc_train_opts o;
    acdc_train_opts_default(&o, 0);
    char s1[32], s2[32], s3[32], rname[32];
    int64_t i_step_epochs, i_epochs, i_batch, i_seed, i_rows, i_nval, i_epoch, i_step,
        i_osteps, i_rbytes;
    static const char *const losses[] = {"mse", "xent"}, *const opts[] = {"adam", "sgd"},
                             *const scheds[] = {"constant", "cosine", "step"};
    acdc_trainer *t = NULL;
    int64_t *rs = NULL;
    double *m1 = NULL, *m2 = NULL, *hist = NULL;
    if (!acdc_util_h5_exists(f, g)) {
        rc = acdc_util_error(ACDC_UTIL_EDATA, "'%s' is a model but not a checkpoint: no '/train' "
                             "group", path);
        goto fail;
    }
    if ((rc = acdc_util_h5_attr_str(f, path, g, "loss", s1, sizeof s1)) ||
        (rc = acdc_util_h5_attr_str(f, path, g, "optimiser", s2, sizeof s2)) ||
        (rc = acdc_util_h5_attr_str(f, path, g, "schedule", s3, sizeof s3)) ||
        (rc = name_index(path, "loss", s1, losses, 2, &o.loss)) ||
        (rc = name_index(path, "optimiser", s2, opts, 2, &o.optimiser)) ||
        (rc = name_index(path, "schedule", s3, scheds, 3, &o.schedule)) ||
        (rc = acdc_util_h5_attr_f64(f, path, g, "lr_a", &o.lr[0])) ||
        (rc = acdc_util_h5_attr_f64(f, path, g, "lr_d", &o.lr[1])) ||
        (rc = acdc_util_h5_attr_f64(f, path, g, "lr_bias", &o.lr[2])) ||
        (rc = acdc_util_h5_attr_f64(f, path, g, "momentum", &o.momentum)) ||
        (rc = acdc_util_h5_attr_f64(f, path, g, "beta1", &o.beta1)) ||
        (rc = acdc_util_h5_attr_f64(f, path, g, "beta2", &o.beta2)) ||
        (rc = acdc_util_h5_attr_f64(f, path, g, "eps", &o.eps)) ||
        (rc = acdc_util_h5_attr_f64(f, path, g, "weight_decay", &o.weight_decay)) ||
        (rc = acdc_util_h5_attr_f64(f, path, g, "lr_final", &o.lr_final)) ||
        (rc = acdc_util_h5_attr_f64(f, path, g, "warmup", &o.warmup)) ||
        (rc = acdc_util_h5_attr_f64(f, path, g, "step_gamma", &o.step_gamma)) ||
        (rc = acdc_util_h5_attr_i64(f, path, g, "step_epochs", &i_step_epochs)) ||
        (rc = acdc_util_h5_attr_i64(f, path, g, "epochs", &i_epochs)) ||
        (rc = acdc_util_h5_attr_i64(f, path, g, "batch", &i_batch)) ||
        (rc = acdc_util_h5_attr_f64(f, path, g, "val_frac", &o.val_frac)) ||
        (rc = acdc_util_h5_attr_i64(f, path, g, "seed", &i_seed)) ||
        (rc = acdc_util_h5_attr_i64(f, path, g, "rows", &i_rows)) ||
        (rc = acdc_util_h5_attr_i64(f, path, g, "n_val", &i_nval)) ||
        (rc = acdc_util_h5_attr_i64(f, path, g, "epoch", &i_epoch)) ||
        (rc = acdc_util_h5_attr_i64(f, path, g, "step", &i_step)) ||
        (rc = acdc_util_h5_attr_i64(f, path, g, "optim_steps", &i_osteps)) ||
        (rc = acdc_util_h5_attr_str(f, path, g, "rng", rname, sizeof rname)) ||
        (rc = acdc_util_h5_attr_i64(f, path, g, "rng_bytes", &i_rbytes)))
        goto fail;
    /* Checkpoints from before the float path hold no precision: they are double. */
    if (acdc_util_h5_attr_exists(f, g, "precision")) {
        static const char *const precs[] = {"double", "single"};
        char s4[32];
        if ((rc = acdc_util_h5_attr_str(f, path, g, "precision", s4, sizeof s4)) ||
            (rc = name_index(path, "precision", s4, precs, 2, &o.precision)))
            goto fail;
    }
    /* Checkpoints without distillation hold neither attribute. */
    if (acdc_util_h5_attr_exists(f, g, "distil") &&
        ((rc = acdc_util_h5_attr_f64(f, path, g, "distil", &o.distil)) ||
         (rc = acdc_util_h5_attr_f64(f, path, g, "distil_temperature", &o.distil_temp))))
        goto fail;
    if (i_step_epochs < 1 || i_epochs < 1 || i_batch < 1 || i_epoch < 0 || i_step < 0 ||
        i_osteps < 0 || i_rows < 1 || i_nval < 0) {
        rc = acdc_util_error(ACDC_UTIL_EDATA,
                             "'/train' in '%s' holds a negative or zero count", path);
        goto fail;
    }
    if ((uint64_t)i_rows != rows) {
        rc = acdc_util_error(ACDC_UTIL_EDATA,
                             "checkpoint '%s' was made for %lld rows of data, these "
                             "data have %zu: resume with the same data", path, (long long)i_rows,
                             rows);
        goto fail;
    }
    o.step_epochs = (size_t)i_step_epochs;
    o.epochs = (size_t)i_epochs;
    o.batch = (size_t)i_batch;
    o.seed = (uint64_t)i_seed;
    o.threads = threads;
    if ((rc = acdc_trainer_alloc(&t, m, &o, rows))) {
        m = NULL;
        goto fail;
    }
    m = NULL;
    if (t->n_val != (size_t)i_nval) {
        rc = acdc_util_error(ACDC_UTIL_EDATA, "checkpoint '%s' holds out %lld rows, expected %zu",
                             path, (long long)i_nval, t->n_val);
        goto fail;
    }
    if (strcmp(rname, gsl_rng_name(t->rng)) || (size_t)i_rbytes != gsl_rng_size(t->rng)) {
        rc = acdc_util_error(ACDC_UTIL_EDATA,
                             "checkpoint '%s' holds a '%s' generator state of %lld "
                             "bytes; this build uses '%s' with %zu", path, rname,
                             (long long)i_rbytes, gsl_rng_name(t->rng), gsl_rng_size(t->rng));
        goto fail;
    }
    size_t words = (gsl_rng_size(t->rng) + 7) / 8;
    hsize_t dr[1] = {words}, dm[1] = {acdc_optim_size(t->opt)};
    if ((rc = acdc_util_h5_read_i64(f, path, "/train/rng_state", 1, dr, &rs)) ||
        (rc = acdc_util_h5_read_f64(f, path, "/train/moment1", 1, dm, &m1)) ||
        (rc = acdc_util_h5_read_f64(f, path, "/train/moment2", 1, dm, &m2)))
        goto fail;
    memcpy(gsl_rng_state(t->rng), rs, gsl_rng_size(t->rng));
    memcpy(acdc_optim_moment(t->opt, 0), m1, dm[0] * sizeof *m1);
    memcpy(acdc_optim_moment(t->opt, 1), m2, dm[0] * sizeof *m2);
    *acdc_optim_steps(t->opt) = (uint64_t)i_osteps;
    t->epoch = (size_t)i_epoch;
    t->step = (uint64_t)i_step;
    if (acdc_util_h5_exists(f, "/train/history")) {
        hsize_t dh[2] = {0, HIST_COLS};
        if ((rc = acdc_util_h5_read_f64(f, path, "/train/history", 2, dh, &hist)))
            goto fail;
        for (size_t r = 0; r < dh[0] && !rc; r++)
            rc = hist_push(t, hist + r * HIST_COLS);
        if (rc)
            goto fail;
    }
    if (acdc_util_h5_attr_exists(f, g, "data") &&
        (rc = acdc_util_h5_attr_str(f, path, g, "data", t->data, sizeof t->data)))
        goto fail;
    if (acdc_util_h5_attr_exists(f, g, "teacher") &&
        (rc = acdc_util_h5_attr_str(f, path, g, "teacher", t->teacher, sizeof t->teacher)))
        goto fail;
    if (acdc_util_h5_attr_exists(f, g, "hardware")) {
        char spec[512];
        double *hw = NULL;
        hsize_t dw[1] = {0};
        if ((rc = acdc_util_h5_attr_str(f, path, g, "hardware", spec, sizeof spec)) ||
            (acdc_util_h5_exists(f, "/train/hardware") &&
             (rc = acdc_util_h5_read_f64(f, path, "/train/hardware", 1, dw, &hw))) ||
            (rc = acdc_trainer_set_hardware(t, spec, hw, (size_t)dw[0]))) {
            free(hw);
            goto fail;
        }
        free(hw);
    }
    free(rs);
    free(m1);
    free(m2);
    free(hist);
    H5Fclose(f);
    *out = t;
    return ACDC_UTIL_OK;
fail:
    free(rs);
    free(m1);
    free(m2);
    free(hist);
    H5Fclose(f);
    acdc_model_free(m);
    acdc_trainer_free(t);
    return rc;
}

/* ---- evaluation -------------------------------------------------------------------- */

int acdc_evaluate(const acdc_model *m, int loss, const acdc_train_data *d, int threads,
                  acdc_eval *out)
{
    return acdc_evaluate_op(m, loss, d, threads, NULL, 0, out);
}

int acdc_evaluate_op(const acdc_model *m, int loss, const acdc_train_data *d, int threads,
                     const acdc_layer_op *op, uint64_t tick, acdc_eval *out)
{
    memset(out, 0, sizeof *out);
    out->acc = NAN;
    int rc = check_data(m, loss, d);
    if (rc)
        return rc;
    if (d->rows == 0)
        return acdc_util_error(ACDC_UTIL_EDATA, "no rows to evaluate");
    const size_t no = m->n_out, B = d->rows < EVAL_CHUNK ? d->rows : EVAL_CHUNK;
    acdc_work *w;
    if ((rc = acdc_work_alloc(&w, m, EVAL_CHUNK, 0, threads, FFTW_ESTIMATE)))
        return rc;
    acdc_work_set_op(w, op);
    double *xb = malloc(B * m->n_in * sizeof *xb), *yb = malloc(B * no * sizeof *yb);
    double *tb = malloc(B * no * sizeof *tb);
    int64_t *lb = malloc(B * sizeof *lb);
    int64_t *conf = loss == ACDC_LOSS_XENT ? calloc(no * no, sizeof *conf) : NULL;
    if (!xb || !yb || !tb || !lb || (loss == ACDC_LOSS_XENT && !conf)) {
        rc = acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for evaluating %zu rows", d->rows);
        goto done;
    }
    double ls;
    size_t ok;
    if ((rc = eval_rows(m, w, tick, loss, d, NULL, d->rows, xb, yb, lb, tb, &ls, &ok, conf)))
        goto done;
    out->rows = d->rows;
    out->classes = loss == ACDC_LOSS_XENT ? no : 0;
    out->loss = ls / (double)(loss == ACDC_LOSS_XENT ? d->rows : d->rows * no);
    out->acc = loss == ACDC_LOSS_XENT ? (double)ok / (double)d->rows : NAN;
    out->confusion = conf;
    conf = NULL;
done:
    acdc_work_free(w);
    free(xb);
    free(yb);
    free(tb);
    free(lb);
    free(conf);
    return rc;
}

int acdc_model_outputs(const acdc_model *m, const acdc_train_data *d, int threads,
                       double **out)
{
    *out = NULL;
    if (d->dim != m->n_in)
        return acdc_util_error(ACDC_UTIL_EDATA, "the data have %zu columns but the model takes "
                               "n_in = %zu inputs", d->dim, m->n_in);
    const size_t ni = m->n_in, no = m->n_out;
    acdc_work *w;
    int rc = acdc_work_alloc(&w, m, EVAL_CHUNK, 0, threads, FFTW_ESTIMATE);
    if (rc)
        return rc;
    double *y = malloc((d->rows ? d->rows : 1) * no * sizeof *y);
    if (!y) {
        acdc_work_free(w);
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for %zu rows of outputs",
                               d->rows);
    }
    for (size_t r = 0; !rc && r < d->rows; r += EVAL_CHUNK) {
        size_t k = d->rows - r < EVAL_CHUNK ? d->rows - r : EVAL_CHUNK;
        rc = acdc_model_forward(m, w, k, d->x + r * ni, y + r * no);
        for (size_t i = 0; !rc && i < k; i++)
            rc = acdc_check_values(y + (r + i) * no, 1, no, r + i, 0, NULL,
                                   "the model's outputs");
    }
    acdc_work_free(w);
    if (rc)
        free(y);
    else
        *out = y;
    return rc;
}

void acdc_eval_clear(acdc_eval *e)
{
    if (!e)
        return;
    free(e->confusion);
    e->confusion = NULL;
}

/* ---- the operator task ------------------------------------------------------------- */

int acdc_operator_data(size_t n, size_t rows, double noise, uint64_t seed, double **x,
                       double **y)
{
    *x = *y = NULL;
    if (n == 0 || rows == 0 || !(noise >= 0) || !isfinite(noise))
        return acdc_util_error(ACDC_UTIL_EUSAGE,
                               "operator data need n >= 1, rows >= 1 and a finite "
                               "noise >= 0");
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    double *W = malloc(n * n * sizeof *W), *b = malloc(n * sizeof *b);
    double *xs = malloc(rows * n * sizeof *xs), *ys = malloc(rows * n * sizeof *ys);
    if (!r || !W || !b || !xs || !ys) {
        if (r)
            gsl_rng_free(r);
        free(W);
        free(b);
        free(xs);
        free(ys);
        return acdc_util_error(ACDC_UTIL_ENOMEM,
                               "out of memory for %zu rows of operator data", rows);
    }
    gsl_rng_set(r, (unsigned long)seed);
    for (size_t i = 0; i < n * n; i++)
        W[i] = gsl_ran_gaussian_ziggurat(r, 1.0 / sqrt((double)n));
    for (size_t i = 0; i < n; i++)
        b[i] = gsl_ran_gaussian_ziggurat(r, 0.1);
    for (size_t k = 0; k < rows; k++) {
        double *xr = xs + k * n, *yr = ys + k * n;
        for (size_t j = 0; j < n; j++)
            xr[j] = gsl_rng_uniform(r);
        for (size_t i = 0; i < n; i++) {
            double s = b[i];
            for (size_t j = 0; j < n; j++)
                s += W[i * n + j] * xr[j];
            yr[i] = s + (noise > 0 ? gsl_ran_gaussian_ziggurat(r, noise) : 0);
        }
    }
    gsl_rng_free(r);
    free(W);
    free(b);
    *x = xs;
    *y = ys;
    return ACDC_UTIL_OK;
}

