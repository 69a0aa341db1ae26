/* SPDX-License-Identifier: GPL-3.0-or-later */
/* tests/test_models_train.c -- losses, optimisers, schedules, whole-cascade gradients,
 * the trainer (learning, determinism, checkpoints, resume) and `acdc infer` applying a
 * trained model's standardisation. */
#include "tests/testutil.h"

#include <fftw3.h>

#include "models/io.h"
#include "models/model.h"
#include "models/train.h"
#include "util/error.h"
#include "util/h5.h"

/* Deterministic "high-entropy" values. */
static void fill(double *v, size_t n, double seed, double amp, double off)
{
    for (size_t i = 0; i < n; i++)
        v[i] = off + amp * (sin(2.385 * (double)i + seed) + 0.37 * cos(0.913 * (double)i *
                                                                          seed));
}

struct plist {
    size_t count;
    double *v[64];
    size_t len[64];
};

static void collect(double *v, size_t len, int group, void *user)
{
    (void)group;
    struct plist *p = user;
    p->v[p->count] = v;
    p->len[p->count] = len;
    p->count++;
}

/* ---- losses ------------------------------------------------------------------------ */

static void test_xent_gradient_and_overflow(void **state)
{
    (void)state;
    enum { B = 3, C = 4 };
    double z[B * C], dy[B * C];
    int64_t lab[B] = {2, 0, 3};
    fill(z, B * C, 0.7, 2, 0);
    size_t ok;
    double L = acdc_loss_xent(B, C, z, lab, 1, dy, &ok);
    for (size_t i = 0; i < B * C; i++) {
        double h = 1e-6, s = z[i];
        z[i] = s + h;
        double lp = acdc_loss_xent(B, C, z, lab, 1, NULL, NULL);
        z[i] = s - h;
        double lm = acdc_loss_xent(B, C, z, lab, 1, NULL, NULL);
        z[i] = s;
        assert_close(dy[i], (lp - lm) / (2 * h), 1e-8);
    }
    /* By hand: row 0 loss = log Σ e^z − z_label. */
    double s0 = 0;
    for (int k = 0; k < C; k++)
        s0 += exp(z[k]);
    double l0 = acdc_loss_xent(1, C, z, lab, 1, NULL, NULL);
    assert_close(l0, log(s0) - z[2], 1e-14);
    assert_true(L > l0);
    /* Logits of 1000 do not overflow; the arg-max counts as correct. */
    double big[C] = {1000, 999, -1000, 998.5};
    int64_t l1[1] = {0};
    double lb = acdc_loss_xent(1, C, big, l1, 1, NULL, &ok);
    assert_true(isfinite(lb));
    assert_close(lb, log(1 + exp(-1) + exp(-1.5)), 1e-12);
    assert_int_equal(ok, 1);
}

static void test_distil_loss(void **state)
{
    (void)state;
    enum { B = 3, C = 4, W = 70 };
    double z[B * C], u[B * C], dy[B * C], dx[B * C];
    int64_t lab[B] = {2, 0, 3};
    fill(z, B * C, 0.7, 2, 0);
    fill(u, B * C, 1.3, 3, 1);
    /* The gradient against central differences, at a weight and temperature off 1. */
    size_t ok, okx;
    double L = acdc_loss_distil(B, C, z, lab, u, 0.6, 3, 0.5, dy, &ok);
    for (size_t i = 0; i < B * C; i++) {
        double h = 1e-6, s = z[i];
        z[i] = s + h;
        double lp = acdc_loss_distil(B, C, z, lab, u, 0.6, 3, 0.5, NULL, NULL);
        z[i] = s - h;
        double lm = acdc_loss_distil(B, C, z, lab, u, 0.6, 3, 0.5, NULL, NULL);
        z[i] = s;
        assert_close(dy[i], 0.5 * (lp - lm) / (2 * h), 1e-8);
    }
    /* Weight 0 is the cross-entropy, bit for bit; the accuracy is against the labels. */
    double Lx = acdc_loss_xent(B, C, z, lab, 0.5, dx, &okx);
    assert_true(L != Lx);
    assert_int_equal(ok, okx);
    assert_true(acdc_loss_distil(B, C, z, lab, u, 0, 3, 0.5, dy, &ok) == Lx);
    assert_memory_equal(dy, dx, sizeof dy);
    /* Weight 1 and a student equal to its teacher: nothing to learn. */
    assert_close(acdc_loss_distil(B, C, u, lab, u, 1, 2, 1, dy, NULL), 0, 1e-14);
    for (size_t i = 0; i < B * C; i++)
        assert_close(dy[i], 0, 1e-15);
    /* By hand, one row of two classes at T = 1: α KL(q ‖ p). */
    double z2[2] = {0.5, -0.25}, u2[2] = {1, 0};
    int64_t l2[1] = {1};
    double p0 = 1 / (1 + exp(-0.75)), q0 = 1 / (1 + exp(-1.0));
    double want = 0.75 * (log(1 + exp(0.75))) +
                  0.25 * (q0 * log(q0 / p0) + (1 - q0) * log((1 - q0) / (1 - p0)));
    assert_close(acdc_loss_distil(1, 2, z2, l2, u2, 0.25, 1, 1, NULL, NULL), want, 1e-14);
    /* More classes than the stack buffers hold. */
    double zw[W], uw[W], gw[W];
    int64_t lw[1] = {5};
    fill(zw, W, 0.9, 4, 0);
    fill(uw, W, 0.4, 5, 1);
    acdc_loss_distil(1, W, zw, lw, uw, 0.8, 2, 1, gw, NULL);
    for (size_t i = 0; i < W; i += 13) {
        double h = 1e-6, s = zw[i];
        zw[i] = s + h;
        double lp = acdc_loss_distil(1, W, zw, lw, uw, 0.8, 2, 1, NULL, NULL);
        zw[i] = s - h;
        double lm = acdc_loss_distil(1, W, zw, lw, uw, 0.8, 2, 1, NULL, NULL);
        zw[i] = s;
        assert_close(gw[i], (lp - lm) / (2 * h), 1e-8);
    }
}

static void test_mse_gradient(void **state)
{
    (void)state;
    double y[6] = {0.3, -1.2, 2.385, 0, 1, 5}, t[6] = {0.1, -1, 2, 0.5, 1, 4}, dy[6];
    double L = acdc_loss_mse(2, 3, y, t, 0.5, dy);
    double want = 0.04 + 0.04 + 0.385 * 0.385 + 0.25 + 0 + 1;
    assert_close(L, want, 1e-14);
    for (int i = 0; i < 6; i++)
        assert_close(dy[i], 0.5 * 2 * (y[i] - t[i]), 1e-15);
}

/* ---- optimiser and schedule -------------------------------------------------------- */

static void test_adam_first_step_and_groups(void **state)
{
    (void)state;
    acdc_train_opts o;
    acdc_train_opts_default(&o, ACDC_LOSS_MSE);
    o.lr[0] = 0.01;
    o.lr[1] = 0.002;
    o.lr[2] = 0.5;
    double a[3] = {1, 2, 3}, b[2] = {-1, 0.5}, ga[3] = {0.3, -2, 1e-3}, gb[2] = {4, -4};
    double *v[2] = {a, b}, *g[2] = {ga, gb};
    size_t len[2] = {3, 2};
    int grp[2] = {1, 2};
    acdc_optim *opt;
    assert_int_equal(acdc_optim_alloc(&opt, &o, 2, v, g, len, grp), 0);
    acdc_optim_step(opt, 1);
    /* Adam's first bias-corrected step is lr·sign(g) (up to eps). */
    assert_close(a[0], 1 - 0.002, 1e-9);
    assert_close(a[1], 2 + 0.002, 1e-9);
    assert_close(a[2], 3 - 0.002, 1e-7);
    assert_close(b[0], -1 - 0.5, 1e-8);
    assert_close(b[1], 0.5 + 0.5, 1e-8);
    assert_int_equal(*acdc_optim_steps(opt), 1);
    acdc_optim_free(opt);

    /* SGD with momentum and decoupled weight decay, two steps by hand. */
    o.optimiser = ACDC_OPT_SGD;
    o.lr[0] = 0.1;
    o.momentum = 0.9;
    o.weight_decay = 0.01;
    double x[1] = {2}, gx[1] = {0.5};
    double *vx[1] = {x}, *gxp[1] = {gx};
    size_t lx[1] = {1};
    int gr0[1] = {0};
    assert_int_equal(acdc_optim_alloc(&opt, &o, 1, vx, gxp, lx, gr0), 0);
    acdc_optim_step(opt, 1);
    double want = 2 - 0.1 * (0.5 + 0.01 * 2);
    assert_close(x[0], want, 1e-15);
    acdc_optim_step(opt, 0.5);
    want -= 0.05 * ((0.9 * 0.5 + 0.5) + 0.01 * want);
    assert_close(x[0], want, 1e-15);
    acdc_optim_free(opt);
}

static void test_schedules(void **state)
{
    (void)state;
    acdc_train_opts o;
    acdc_train_opts_default(&o, ACDC_LOSS_MSE);
    o.schedule = ACDC_SCHED_COSINE;
    o.lr_final = 0.1;
    assert_close(acdc_schedule_factor(&o, 0, 100, 10), 1, 1e-15);
    assert_close(acdc_schedule_factor(&o, 50, 100, 10), 0.55, 1e-15);
    assert_close(acdc_schedule_factor(&o, 100, 100, 10), 0.1, 1e-15);
    o.warmup = 2;   /* 20 steps */
    assert_close(acdc_schedule_factor(&o, 4, 100, 10),
                 5.0 / 20 * (0.1 + 0.9 * 0.5 * (1 + cos(M_PI * 0.04))), 1e-15);
    o.warmup = 0;
    o.schedule = ACDC_SCHED_STEP;
    o.step_gamma = 0.5;
    o.step_epochs = 3;
    assert_close(acdc_schedule_factor(&o, 29, 100, 10), 1, 0);
    assert_close(acdc_schedule_factor(&o, 30, 100, 10), 0.5, 0);
    assert_close(acdc_schedule_factor(&o, 65, 100, 10), 0.25, 0);
    o.schedule = ACDC_SCHED_CONSTANT;
    assert_close(acdc_schedule_factor(&o, 77, 100, 10), 1, 0);
}

/* ---- whole-cascade gradients ------------------------------------------------------- */

/* Loss of the cascade on x for either task (summed over the batch). */
static double cascade_loss(const acdc_model *m, acdc_work *w, size_t B, const double *x,
                           int xent, const int64_t *lab, const double *t, double *y,
                           double *dy)
{
    assert_int_equal(acdc_model_forward(m, w, B, x, y), 0);
    if (xent)
        return acdc_loss_xent(B, m->n_out, y, lab, 1, dy, NULL);
    return acdc_loss_mse(B, m->n_out, y, t, 1, dy);
}

static void check_cascade(unsigned opts, size_t n, size_t n_in, size_t n_out, size_t K,
                          int xent)
{
    enum { B = 5 };
    acdc_model *m;
    assert_int_equal(acdc_model_alloc(&m, n, n_in, n_out, K, opts), 0);
    assert_int_equal(acdc_model_init_normal(m, 1, 0.35, 11), 0);
    assert_int_equal(acdc_model_init_perms(m, 5), 0);
    for (size_t l = 0; l < K; l++) {
        if (m->layers[l].a_bias)
            fill(m->layers[l].a_bias, n, 0.3 + (double)l, 0.2, 0);
        if (m->layers[l].d_bias)
            fill(m->layers[l].d_bias, n, 1.7 + (double)l, 0.2, 0.05);
    }
    if (m->in_mean) {
        fill(m->in_mean, n_in, 0.9, 0.3, 0.1);
        fill(m->in_scale, n_in, 2.1, 0.4, 1.2);
    }
    acdc_model *g;
    assert_int_equal(acdc_model_alloc_like(&g, m), 0);
    acdc_work *w;
    assert_int_equal(acdc_work_alloc(&w, m, B, 1, 2, FFTW_ESTIMATE), 0);
    double x[B * 16], y[B * 16], dy[B * 16], t[B * 16], dx[B * 16];
    int64_t lab[B] = {1, 0, 3 % n_out, 2 % n_out, 4 % n_out};
    fill(x, B * n_in, 0.41, 1, 0.3);
    fill(t, B * n_out, 1.9, 1, 0);
    cascade_loss(m, w, B, x, xent, lab, t, y, dy);
    assert_int_equal(acdc_model_backward(m, w, B, dy, g, dx), 0);

    struct plist pm = {0}, pg = {0};
    acdc_model_foreach_param(m, collect, &pm);
    acdc_model_foreach_param(g, collect, &pg);
    assert_int_equal(pm.count, pg.count);
    double worst = 0;
    size_t checked = 0;
    for (size_t a = 0; a < pm.count; a++)
        for (size_t i = 0; i < pm.len[a]; i++) {
            double h = 1e-6, s = pm.v[a][i];
            pm.v[a][i] = s + h;
            double lp = cascade_loss(m, w, B, x, xent, lab, t, y, NULL);
            pm.v[a][i] = s - h;
            double lm = cascade_loss(m, w, B, x, xent, lab, t, y, NULL);
            pm.v[a][i] = s;
            double fd = (lp - lm) / (2 * h), an = pg.v[a][i];
            double err = fabs(fd - an) / (1 + fabs(an));
            worst = fmax(worst, err);
            if (err > 1e-6)
                fail_msg("array %zu entry %zu: analytic %.10g, finite difference %.10g", a,
                         i, an, fd);
            checked++;
        }
    assert_int_equal(checked, acdc_model_param_count(m));
    /* dL/dx is with respect to the standardised input: dL/dx_raw = dx / scale. */
    for (size_t i = 0; i < B * n_in; i++) {
        double h = 1e-6, s = x[i];
        x[i] = s + h;
        double lp = cascade_loss(m, w, B, x, xent, lab, t, y, NULL);
        x[i] = s - h;
        double lm = cascade_loss(m, w, B, x, xent, lab, t, y, NULL);
        x[i] = s;
        double an = dx[i] / (m->in_scale ? m->in_scale[i % n_in] : 1);
        assert_close(an, (lp - lm) / (2 * h), 1e-6 * (1 + fabs(an)));
    }
    acdc_work_free(w);
    acdc_model_free(g);
    acdc_model_free(m);
}

static void test_cascade_gradients(void **state)
{
    (void)state;
    unsigned all = ACDC_A_BIAS | ACDC_D_BIAS | ACDC_PERM | ACDC_RELU | ACDC_STANDARDISE;
    /* ReLU, permutations, both biases, padding (n_in < n), n_out < n, standardisation. */
    check_cascade(all, 12, 9, 5, 3, 1);
    /* A 784-style odd size with only d biases; the operator task's MSE without ReLU. */
    check_cascade(ACDC_D_BIAS | ACDC_PERM | ACDC_RELU, 14, 14, 3, 4, 1);
    check_cascade(ACDC_A_BIAS | ACDC_D_BIAS | ACDC_PERM, 8, 8, 8, 3, 0);
    check_cascade(ACDC_STANDARDISE, 7, 5, 7, 2, 0);
}

/* ---- the trainer ------------------------------------------------------------------- */


/* A 3-layer classifier of 10 inputs and 3 classes; distil > 0 distils at weight distil
 * and temperature 3. */
static acdc_trainer *classifier_kd(size_t rows, size_t epochs, int threads, uint64_t seed,
                                   double distil)
{
    acdc_model *m;
    assert_int_equal(acdc_model_alloc(&m, 12, 10, 3, 3,
                                      ACDC_A_BIAS | ACDC_D_BIAS | ACDC_PERM | ACDC_RELU |
                                          ACDC_STANDARDISE),
                     0);
    assert_int_equal(acdc_model_init_normal(m, 1, 0.06, seed), 0);
    assert_int_equal(acdc_model_init_perms(m, seed), 0);
    acdc_train_opts o;
    acdc_train_opts_default(&o, ACDC_LOSS_XENT);
    o.lr[0] = o.lr[1] = 0.01;
    o.lr[2] = 0.02;
    o.weight_decay = 1e-4;
    o.warmup = 0.5;
    o.epochs = epochs;
    o.batch = 16;
    o.val_frac = 0.2;
    o.seed = seed;
    o.threads = threads;
    o.distil = distil;
    o.distil_temp = 3;
    acdc_trainer *t;
    assert_int_equal(acdc_trainer_alloc(&t, m, &o, rows), 0);
    return t;
}

static acdc_trainer *classifier(size_t rows, size_t epochs, int threads, uint64_t seed)
{
    return classifier_kd(rows, epochs, threads, seed, 0);
}

static void test_loss_decreases(void **state)
{
    (void)state;
    enum { R = 400 };
    static double x[R * 10];
    static int64_t lab[R];
    test_classes(R, x, lab);
    acdc_train_data d = {R, 10, x, NULL, lab, NULL};
    acdc_trainer *t = classifier(R, 8, 1, 3);
    assert_int_equal(acdc_trainer_standardise(t, &d, 1, 0.1), 0);
    acdc_epoch_stats first, last;
    for (int e = 0; e < 8; e++)
        assert_int_equal(acdc_trainer_epoch(t, &d, NULL, NULL, e ? &last : &first), 0);
    assert_int_equal(last.epoch, 8);
    if (!(last.loss < 0.6 * first.loss) || !(last.val_acc > 0.9))
        fail_msg("loss %g -> %g, validation accuracy %g", first.loss, last.loss,
                 last.val_acc);
    acdc_trainer_free(t);

    /* The operator task: a 2-layer permuted cascade fitting a dense 8 × 8 map. */
    double *ox, *oy;
    assert_int_equal(acdc_operator_data(8, 512, 0.01, 5, &ox, &oy), 0);
    acdc_model *m;
    assert_int_equal(acdc_model_alloc(&m, 8, 8, 8, 2, ACDC_A_BIAS | ACDC_D_BIAS | ACDC_PERM), 0);
    assert_int_equal(acdc_model_init_normal(m, 1, 0.06, 1), 0);
    assert_int_equal(acdc_model_init_perms(m, 1), 0);
    acdc_train_opts o;
    acdc_train_opts_default(&o, ACDC_LOSS_MSE);
    o.lr[0] = o.lr[1] = o.lr[2] = 0.01;
    o.epochs = 10;
    o.batch = 32;
    acdc_train_data od = {512, 8, ox, oy, NULL, NULL};
    acdc_eval before, after;
    assert_int_equal(acdc_evaluate(m, ACDC_LOSS_MSE, &od, 1, &before), 0);
    assert_int_equal(acdc_trainer_alloc(&t, m, &o, 512), 0);
    for (int e = 0; e < 10; e++)
        assert_int_equal(acdc_trainer_epoch(t, &od, NULL, NULL, e ? &last : &first), 0);
    assert_true(isnan(last.acc));
    assert_int_equal(acdc_evaluate(acdc_trainer_model(t), ACDC_LOSS_MSE, &od, 1, &after), 0);
    if (!(after.loss < 0.2 * before.loss) || !(last.val_loss < first.val_loss))
        fail_msg("operator MSE %g -> %g, validation %g -> %g", before.loss, after.loss,
                 first.val_loss, last.val_loss);
    acdc_trainer_free(t);
    free(ox);
    free(oy);
}

static void test_standardise_statistics(void **state)
{
    (void)state;
    enum { R = 50 };
    double x[R * 10];
    int64_t lab[R];
    test_classes(R, x, lab);
    for (size_t r = 0; r < R; r++)
        x[r * 10 + 3] = 0.2;   /* a constant input, like a border pixel */
    acdc_train_data d = {R, 10, x, NULL, lab, NULL};
    acdc_model *m;
    assert_int_equal(acdc_model_alloc(&m, 12, 10, 3, 2, ACDC_STANDARDISE), 0);
    acdc_train_opts o;
    acdc_train_opts_default(&o, ACDC_LOSS_XENT);
    o.val_frac = 0;   /* every row is a training row */
    acdc_trainer *t;
    assert_int_equal(acdc_trainer_alloc(&t, m, &o, R), 0);
    assert_int_equal(acdc_trainer_standardise(t, &d, 1, 0.1), 0);
    double mu[10] = {0}, sd[10] = {0}, mean_sd = 0;
    for (size_t i = 0; i < 10; i++) {
        for (size_t r = 0; r < R; r++)
            mu[i] += x[r * 10 + i] / R;
        for (size_t r = 0; r < R; r++)
            sd[i] += (x[r * 10 + i] - mu[i]) * (x[r * 10 + i] - mu[i]) / R;
        sd[i] = sqrt(sd[i]);
        mean_sd += sd[i] / 10;
    }
    for (size_t i = 0; i < 10; i++) {
        assert_close(m->in_mean[i], mu[i], 1e-14);
        assert_close(m->in_scale[i], i == 3 ? 0.1 * mean_sd : sd[i], 1e-14);
    }
    /* Global: one mean and one standard deviation over every value. */
    assert_int_equal(acdc_trainer_standardise(t, &d, 0, 0), 0);
    double gm = 0, gv = 0;
    for (size_t i = 0; i < R * 10; i++)
        gm += x[i] / (R * 10);
    for (size_t i = 0; i < R * 10; i++)
        gv += (x[i] - gm) * (x[i] - gm) / (R * 10);
    for (size_t i = 0; i < 10; i++) {
        assert_close(m->in_mean[i], gm, 1e-14);
        assert_close(m->in_scale[i], sqrt(gv), 1e-14);
    }
    acdc_trainer_free(t);
}

/* Model parameters and optimiser-free state compared bitwise. */
static void assert_same_model(const acdc_model *a, const acdc_model *b)
{
    struct plist pa = {0}, pb = {0};
    acdc_model_foreach_param((acdc_model *)a, collect, &pa);
    acdc_model_foreach_param((acdc_model *)b, collect, &pb);
    assert_int_equal(pa.count, pb.count);
    for (size_t i = 0; i < pa.count; i++)
        if (memcmp(pa.v[i], pb.v[i], pa.len[i] * sizeof(double)))
            fail_msg("parameter array %zu differs", i);
    if (a->in_mean && memcmp(a->in_mean, b->in_mean, a->n_in * sizeof(double)))
        fail_msg("standardisation differs");
}

static void test_determinism_and_threads(void **state)
{
    (void)state;
    enum { R = 300 };
    static double x[R * 10];
    static int64_t lab[R];
    test_classes(R, x, lab);
    acdc_train_data d = {R, 10, x, NULL, lab, NULL};
    acdc_trainer *t[3] = {classifier(R, 3, 1, 9), classifier(R, 3, 2, 9),
                          classifier(R, 3, 1, 10)};
    for (int k = 0; k < 3; k++) {
        assert_int_equal(acdc_trainer_standardise(t[k], &d, 1, 0.1), 0);
        for (int e = 0; e < 3; e++)
            assert_int_equal(acdc_trainer_epoch(t[k], &d, NULL, NULL, NULL), 0);
    }
    /* Same seed: bitwise equal, whatever the thread count. */
    assert_same_model(acdc_trainer_model(t[0]), acdc_trainer_model(t[1]));
    /* Another seed: different (so the comparison above can fail). */
    struct plist p0 = {0}, p2 = {0};
    acdc_model_foreach_param(acdc_trainer_model(t[0]), collect, &p0);
    acdc_model_foreach_param(acdc_trainer_model(t[2]), collect, &p2);
    assert_true(memcmp(p0.v[0], p2.v[0], p0.len[0] * sizeof(double)) != 0);
    for (int k = 0; k < 3; k++)
        acdc_trainer_free(t[k]);
}

static void test_resume_is_bitwise(void **state)
{
    (void)state;
    enum { R = 300, E = 4 };
    static double x[R * 10];
    static int64_t lab[R];
    test_classes(R, x, lab);
    acdc_train_data d = {R, 10, x, NULL, lab, NULL};
    const char *ck = test_path(0, "resume.ckpt.h5");

    /* Uninterrupted. */
    acdc_trainer *full = classifier(R, E, 1, 21);
    assert_int_equal(acdc_trainer_standardise(full, &d, 1, 0.1), 0);
    for (int e = 0; e < E; e++)
        assert_int_equal(acdc_trainer_epoch(full, &d, NULL, NULL, NULL), 0);

    /* Two epochs, a checkpoint, then an interrupted third epoch. */
    acdc_trainer *a = classifier(R, E, 2, 21);
    assert_int_equal(acdc_trainer_standardise(a, &d, 1, 0.1), 0);
    for (int e = 0; e < 2; e++) {
        assert_int_equal(acdc_trainer_epoch(a, &d, NULL, NULL, NULL), 0);
        assert_int_equal(acdc_trainer_save(a, ck), 0);
    }
    volatile sig_atomic_t stop = 1;
    assert_int_equal(acdc_trainer_epoch(a, &d, &stop, NULL, NULL), ACDC_UTIL_EINTR);
    assert_non_null(strstr(acdc_util_errmsg(), "interrupted"));
    /* A broken trainer refuses to go on rather than train from a half epoch. */
    assert_int_equal(acdc_trainer_epoch(a, &d, NULL, NULL, NULL), ACDC_UTIL_EUSAGE);
    acdc_trainer_free(a);

    /* The checkpoint is a model file too. */
    acdc_model *cm;
    assert_int_equal(acdc_model_read(ck, &cm), 0);
    acdc_model_free(cm);

    /* Resume (another thread count) and finish. */
    acdc_trainer *b;
    assert_int_equal(acdc_trainer_load(ck, R, 1, &b), 0);
    assert_int_equal(acdc_trainer_epoch_count(b), 2);
    while (acdc_trainer_epoch_count(b) < E)
        assert_int_equal(acdc_trainer_epoch(b, &d, NULL, NULL, NULL), 0);
    assert_same_model(acdc_trainer_model(full), acdc_trainer_model(b));
    /* And the next epoch of both still agrees (optimiser state and RNG restored). */
    acdc_trainer_set_epochs(full, E + 1);
    acdc_trainer_set_epochs(b, E + 1);
    assert_int_equal(acdc_trainer_epoch(full, &d, NULL, NULL, NULL), 0);
    assert_int_equal(acdc_trainer_epoch(b, &d, NULL, NULL, NULL), 0);
    assert_same_model(acdc_trainer_model(full), acdc_trainer_model(b));
    acdc_trainer_free(b);
    acdc_trainer_free(full);

    /* Errors: other data size; a plain model file; a missing file. */
    acdc_trainer *c;
    acdc_util_error_clear();
    assert_int_equal(acdc_trainer_load(ck, R + 1, 1, &c), ACDC_UTIL_EDATA);
    assert_non_null(strstr(acdc_util_errmsg(), "same data"));
    const char *plain = test_path(1, "plain.h5");
    acdc_model *pm;
    assert_int_equal(acdc_model_alloc(&pm, 4, 4, 4, 1, 0), 0);
    assert_int_equal(acdc_model_write(pm, plain), 0);
    acdc_model_free(pm);
    assert_int_equal(acdc_trainer_load(plain, R, 1, &c), ACDC_UTIL_EDATA);
    assert_non_null(strstr(acdc_util_errmsg(), "not a checkpoint"));
    assert_int_equal(acdc_trainer_load(test_path(2, "none.h5"), R, 1, &c), ACDC_UTIL_EIO);
    /* A corrupted counter. */
    hid_t f = H5Fopen(ck, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    assert_int_equal(acdc_util_h5_set_attr_str(f, "/train", "optimiser", "lbfgs"), 0);
    H5Fclose(f);
    assert_int_equal(acdc_trainer_load(ck, R, 1, &c), ACDC_UTIL_EDATA);
    assert_non_null(strstr(acdc_util_errmsg(), "lbfgs"));
}

/* A small model for the tests of refused options (the trainer takes it over). */
static acdc_model *model4(void)
{
    acdc_model *m;
    assert_int_equal(acdc_model_alloc(&m, 4, 4, 2, 1, 0), 0);
    return m;
}

/* Distillation: refused without the teacher's logits, resumed bitwise, its teacher
 * named in the checkpoint and covered by the data's fingerprint. */
static void test_distil_training(void **state)
{
    (void)state;
    enum { R = 300, E = 3 };
    static double x[R * 10];
    static int64_t lab[R];
    test_classes(R, x, lab);
    acdc_train_data d = {R, 10, x, NULL, lab, NULL};
    /* A teacher: the plain classifier after three epochs. */
    acdc_trainer *plain = classifier(R, E, 1, 31);
    assert_int_equal(acdc_trainer_standardise(plain, &d, 1, 0.1), 0);
    for (int e = 0; e < E; e++)
        assert_int_equal(acdc_trainer_epoch(plain, &d, NULL, NULL, NULL), 0);
    double *tl;
    assert_int_equal(acdc_model_outputs(acdc_trainer_model(plain), &d, 1, &tl), 0);

    acdc_trainer *tr[2] = {classifier_kd(R, E, 1, 31, 0.7), classifier_kd(R, E, 2, 31, 0.7)};
    for (int k = 0; k < 2; k++)
        assert_int_equal(acdc_trainer_standardise(tr[k], &d, 1, 0.1), 0);
    acdc_util_error_clear();
    assert_int_equal(acdc_trainer_epoch(tr[0], &d, NULL, NULL, NULL), ACDC_UTIL_EUSAGE);
    assert_non_null(strstr(acdc_util_errmsg(), "teacher"));
    acdc_train_data dd = d;
    dd.teacher = tl;
    /* the uninterrupted run */
    for (int e = 0; e < E; e++)
        assert_int_equal(acdc_trainer_epoch(tr[0], &dd, NULL, NULL, NULL), 0);
    /* one epoch, a checkpoint, resumed */
    const char *ck = test_path(0, "distil.ckpt.h5");
    assert_int_equal(acdc_trainer_set_teacher(tr[1], "teacher.h5"), 0);
    acdc_trainer_set_data(tr[1], &dd);
    assert_int_equal(acdc_trainer_epoch(tr[1], &dd, NULL, NULL, NULL), 0);
    assert_int_equal(acdc_trainer_save(tr[1], ck), 0);
    acdc_trainer *b;
    assert_int_equal(acdc_trainer_load(ck, R, 1, &b), 0);
    assert_true(acdc_trainer_opts(b)->distil == 0.7);
    assert_true(acdc_trainer_opts(b)->distil_temp == 3);
    assert_string_equal(acdc_trainer_teacher(b), "teacher.h5");
    int unknown = 1;
    assert_int_equal(acdc_trainer_check_data(b, ck, "data", &dd, &unknown), 0);
    assert_int_equal(unknown, 0);
    /* other teacher logits, or none, are other data */
    tl[7] += 1e-9;
    acdc_util_error_clear();
    assert_int_equal(acdc_trainer_check_data(b, ck, "data", &dd, &unknown), ACDC_UTIL_EDATA);
    assert_non_null(strstr(acdc_util_errmsg(), "teacher"));
    tl[7] -= 1e-9;
    assert_int_equal(acdc_trainer_check_data(b, ck, "data", &d, &unknown), ACDC_UTIL_EDATA);
    while (acdc_trainer_epoch_count(b) < E)
        assert_int_equal(acdc_trainer_epoch(b, &dd, NULL, NULL, NULL), 0);
    assert_same_model(acdc_trainer_model(tr[0]), acdc_trainer_model(b));
    /* and it is not the plain run (the comparison above can fail) */
    struct plist p0 = {0}, p1 = {0};
    acdc_model_foreach_param(acdc_trainer_model(tr[0]), collect, &p0);
    acdc_model_foreach_param(acdc_trainer_model(plain), collect, &p1);
    assert_true(memcmp(p0.v[0], p1.v[0], p0.len[0] * sizeof(double)) != 0);
    /* a checkpoint without distillation reads as none */
    const char *ckp = test_path(1, "plain.ckpt.h5");
    assert_int_equal(acdc_trainer_save(plain, ckp), 0);
    acdc_trainer *c;
    assert_int_equal(acdc_trainer_load(ckp, R, 1, &c), 0);
    assert_true(acdc_trainer_opts(c)->distil == 0);
    assert_null(acdc_trainer_teacher(c));
    acdc_trainer_free(c);
    acdc_trainer_free(b);
    acdc_trainer_free(tr[0]);
    acdc_trainer_free(tr[1]);
    acdc_trainer_free(plain);
    free(tl);
    /* refused options */
    acdc_train_opts o;
    acdc_trainer *t;
    acdc_train_opts_default(&o, ACDC_LOSS_XENT);
    o.distil = 1.5;
    assert_int_equal(acdc_trainer_alloc(&t, model4(), &o, 10), ACDC_UTIL_EUSAGE);
    o.distil = NAN;
    assert_int_equal(acdc_trainer_alloc(&t, model4(), &o, 10), ACDC_UTIL_EUSAGE);
    o.distil = 0.5;
    o.distil_temp = 0;
    assert_int_equal(acdc_trainer_alloc(&t, model4(), &o, 10), ACDC_UTIL_EUSAGE);
    acdc_train_opts_default(&o, ACDC_LOSS_MSE);
    o.distil = 0.5;
    assert_int_equal(acdc_trainer_alloc(&t, model4(), &o, 10), ACDC_UTIL_EUSAGE);
    assert_non_null(strstr(acdc_util_errmsg(), "classify"));
}

static void test_bad_options_and_data(void **state)
{
    (void)state;
    acdc_train_opts o;
    acdc_train_opts_default(&o, ACDC_LOSS_XENT);
    acdc_trainer *t;
    o.batch = 0;
    t = (acdc_trainer *)&t;   /* not NULL, so the test sees the reset */
    assert_int_equal(acdc_trainer_alloc(&t, model4(), &o, 10), ACDC_UTIL_EUSAGE);
    assert_null(t);
    acdc_train_opts_default(&o, ACDC_LOSS_XENT);
    o.lr[1] = -1;
    assert_int_equal(acdc_trainer_alloc(&t, model4(), &o, 10), ACDC_UTIL_EUSAGE);
    acdc_train_opts_default(&o, ACDC_LOSS_XENT);
    o.val_frac = 0.9;
    assert_int_equal(acdc_trainer_alloc(&t, model4(), &o, 1), ACDC_UTIL_EUSAGE);
    acdc_train_opts_default(&o, ACDC_LOSS_XENT);
    assert_int_equal(acdc_trainer_alloc(&t, model4(), &o, 10), 0);
    double x[40] = {0};
    int64_t lab[10] = {0, 1, 0, 1, 2, 0, 1, 0, 1, 0};
    acdc_train_data d = {10, 4, x, NULL, lab, NULL};
    acdc_util_error_clear();
    assert_int_equal(acdc_trainer_epoch(t, &d, NULL, NULL, NULL), ACDC_UTIL_EDATA);
    assert_non_null(strstr(acdc_util_errmsg(), "row 4 has label 2"));
    d.rows = 9;
    assert_int_equal(acdc_trainer_epoch(t, &d, NULL, NULL, NULL), ACDC_UTIL_EDATA);
    /* No standardisation allocated. */
    d.rows = 10;
    assert_int_equal(acdc_trainer_standardise(t, &d, 1, 0.1), ACDC_UTIL_EUSAGE);
    acdc_trainer_free(t);
}

static void test_evaluate_confusion(void **state)
{
    (void)state;
    enum { R = 120 };
    static double x[R * 10];
    static int64_t lab[R];
    test_classes(R, x, lab);
    acdc_train_data d = {R, 10, x, NULL, lab, NULL};
    acdc_trainer *t = classifier(R, 2, 1, 4);
    for (int e = 0; e < 2; e++)
        assert_int_equal(acdc_trainer_epoch(t, &d, NULL, NULL, NULL), 0);
    acdc_eval ev;
    assert_int_equal(acdc_evaluate(acdc_trainer_model(t), ACDC_LOSS_XENT, &d, 2, &ev), 0);
    int64_t total = 0, diag = 0;
    for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j < 3; j++) {
            total += ev.confusion[i * 3 + j];
            diag += i == j ? ev.confusion[i * 3 + j] : 0;
        }
    assert_int_equal(total, R);
    assert_close(ev.acc, (double)diag / R, 1e-15);
    /* The loss equals the directly computed mean cross-entropy. */
    acdc_model *m = acdc_trainer_model(t);
    acdc_work *w;
    assert_int_equal(acdc_work_alloc(&w, m, R, 0, 1, FFTW_ESTIMATE), 0);
    static double y[R * 3];
    assert_int_equal(acdc_model_forward(m, w, R, x, y), 0);
    assert_close(ev.loss, acdc_loss_xent(R, 3, y, lab, 1, NULL, NULL) / R, 1e-12);
    acdc_work_free(w);
    acdc_eval_clear(&ev);
    acdc_trainer_free(t);
}

/* `acdc infer` applies the standardisation a trained model stores. */
static void test_infer_applies_standardisation(void **state)
{
    (void)state;
    enum { R = 40 };
    static double x[R * 10];
    static int64_t lab[R];
    test_classes(R, x, lab);
    acdc_train_data d = {R, 10, x, NULL, lab, NULL};
    acdc_trainer *t = classifier(R, 1, 1, 8);
    assert_int_equal(acdc_trainer_standardise(t, &d, 1, 0.1), 0);
    assert_int_equal(acdc_trainer_epoch(t, &d, NULL, NULL, NULL), 0);
    acdc_model *m = acdc_trainer_model(t);
    const char *mp = test_path(0, "std-model.h5"), *dp = test_path(1, "std-data.h5");
    const char *op = test_path(2, "std-out.h5");
    assert_int_equal(acdc_model_write(m, mp), 0);
    acdc_util_h5_out o;
    hsize_t dx[2] = {R, 10};
    assert_int_equal(acdc_util_h5_create(dp, &o), 0);
    assert_int_equal(acdc_util_h5_write_f64(o.fid, "/x", 2, dx, x), 0);
    assert_int_equal(acdc_util_h5_commit(&o), 0);
    const char *b = getenv("BUILD");
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%.200s/acdc infer '%.600s' '%.600s' -o '%.600s' >/dev/null",
             b ? b : "build", mp, dp, op);
    assert_int_equal(system(cmd), 0);
    hid_t f;
    assert_int_equal(acdc_util_h5_open(op, &f), 0);
    hsize_t dy[2] = {R, 3};
    double *y;
    assert_int_equal(acdc_util_h5_read_f64(f, op, "/y", 2, dy, &y), 0);
    H5Fclose(f);
    /* Reference: standardise by hand, then a model without statistics. */
    static double xs[R * 10], ref[R * 3], raw[R * 3];
    for (size_t r = 0; r < R; r++)
        for (size_t i = 0; i < 10; i++)
            xs[r * 10 + i] = (x[r * 10 + i] - m->in_mean[i]) / m->in_scale[i];
    acdc_model *bare;
    assert_int_equal(acdc_model_clone(&bare, m), 0);
    free(bare->in_mean);
    free(bare->in_scale);
    bare->in_mean = bare->in_scale = NULL;
    acdc_work *w;
    assert_int_equal(acdc_work_alloc(&w, bare, R, 0, 1, FFTW_ESTIMATE), 0);
    assert_int_equal(acdc_model_forward(bare, w, R, xs, ref), 0);
    assert_int_equal(acdc_model_forward(bare, w, R, x, raw), 0);
    double diff_ref = 0, diff_raw = 0;
    for (size_t i = 0; i < R * 3; i++) {
        diff_ref = fmax(diff_ref, fabs(y[i] - ref[i]));
        diff_raw = fmax(diff_raw, fabs(y[i] - raw[i]));
    }
    assert_true(diff_ref < 1e-12);
    assert_true(diff_raw > 1e-3);   /* the statistics matter */
    free(y);
    acdc_work_free(w);
    acdc_model_free(bare);
    acdc_trainer_free(t);
}

/* A 2D cascade trains and resumes like a 1D one: the checkpoint carries the transform and
 * both grids (3x6 layers, 2x5 inputs laid into the top-left corner), and a resumed run
 * ends bitwise where an uninterrupted one does. */
static acdc_trainer *classifier2d(size_t rows, size_t epochs, int threads)
{
    acdc_model *m;
    assert_int_equal(acdc_model_alloc(&m, 18, 10, 3, 3,
                                      ACDC_A_BIAS | ACDC_D_BIAS | ACDC_PERM | ACDC_RELU |
                                          ACDC_STANDARDISE),
                     0);
    assert_int_equal(acdc_model_set_grid(m, ACDC_TRANSFORM_DCT2, 3, 6, 2, 5), 0);
    assert_int_equal(acdc_model_init_normal(m, 1, 0.06, 5), 0);
    assert_int_equal(acdc_model_init_perms(m, 5), 0);
    acdc_train_opts o;
    acdc_train_opts_default(&o, ACDC_LOSS_XENT);
    o.epochs = epochs;
    o.batch = 16;
    o.val_frac = 0;
    o.seed = 5;
    o.threads = threads;
    acdc_trainer *t;
    assert_int_equal(acdc_trainer_alloc(&t, m, &o, rows), 0);
    return t;
}

static void test_train2d_checkpoint(void **state)
{
    (void)state;
    enum { R = 200, E = 3 };
    static double x[R * 10];
    static int64_t lab[R];
    test_classes(R, x, lab);
    acdc_train_data d = {R, 10, x, NULL, lab, NULL};
    const char *ck = test_path(3, "train2d.ckpt.h5");
    acdc_trainer *full = classifier2d(R, E, 2);
    assert_int_equal(acdc_trainer_standardise(full, &d, 1, 0.1), 0);
    acdc_epoch_stats first, last;
    assert_int_equal(acdc_trainer_epoch(full, &d, NULL, NULL, &first), 0);
    for (int e = 1; e < E; e++)
        assert_int_equal(acdc_trainer_epoch(full, &d, NULL, NULL, &last), 0);
    assert_true(last.loss < first.loss);
    acdc_trainer *a = classifier2d(R, E, 1);
    assert_int_equal(acdc_trainer_standardise(a, &d, 1, 0.1), 0);
    assert_int_equal(acdc_trainer_epoch(a, &d, NULL, NULL, NULL), 0);
    assert_int_equal(acdc_trainer_save(a, ck), 0);
    acdc_trainer_free(a);
    acdc_model *cm;
    assert_int_equal(acdc_model_read(ck, &cm), 0);
    assert_int_equal(cm->transform, ACDC_TRANSFORM_DCT2);
    assert_true(cm->h == 3 && cm->w == 6 && cm->in_h == 2 && cm->in_w == 5);
    acdc_model_free(cm);
    acdc_trainer *b;
    assert_int_equal(acdc_trainer_load(ck, R, 2, &b), 0);
    assert_int_equal(acdc_trainer_model(b)->transform, ACDC_TRANSFORM_DCT2);
    while (acdc_trainer_epoch_count(b) < E)
        assert_int_equal(acdc_trainer_epoch(b, &d, NULL, NULL, NULL), 0);
    assert_same_model(acdc_trainer_model(full), acdc_trainer_model(b));
    acdc_trainer_free(b);
    acdc_trainer_free(full);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xent_gradient_and_overflow),
        cmocka_unit_test(test_distil_loss),
        cmocka_unit_test(test_mse_gradient),
        cmocka_unit_test(test_adam_first_step_and_groups),
        cmocka_unit_test(test_schedules),
        cmocka_unit_test(test_cascade_gradients),
        cmocka_unit_test(test_loss_decreases),
        cmocka_unit_test(test_standardise_statistics),
        cmocka_unit_test(test_determinism_and_threads),
        cmocka_unit_test(test_resume_is_bitwise),
        cmocka_unit_test(test_distil_training),
        cmocka_unit_test(test_bad_options_and_data),
        cmocka_unit_test(test_evaluate_confusion),
        cmocka_unit_test(test_infer_applies_standardisation),
        cmocka_unit_test(test_train2d_checkpoint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
