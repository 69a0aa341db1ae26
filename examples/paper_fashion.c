/* SPDX-License-Identifier: GPL-3.0-or-later */
/* examples/paper_fashion.c -- ACDC cascades on Fashion-MNIST: accuracy and size against K.
 *
 *   build/examples/paper_fashion [--full] [--epochs E] [OUT_DIR]   (default examples/out)
 *
 * Trains pure ACDC classifiers (n = 784, ReLU and a fixed random permutation between
 * layers, both biases, diagonals N(1, 0.06), logits = the first 10 outputs of the last
 * layer) for K ∈ {1, 2, 4, 7, 10}, and the baseline: a dense linear layer of the same
 * width.  A dense 784 × 784 layer whose first 10 outputs are the logits is, as far as
 * the loss can tell, a 784 → 10 softmax regression (the other 774 rows never reach the
 * logits), so that is what is trained: 7850 effective parameters of its nominal 615 440.
 * Everything shares the trainer's pieces: per-pixel standardisation (from the training
 * set), softmax cross-entropy, Adam at rate 1e-2 on every group with decoupled weight
 * decay 1e-2, cosine schedule, batch 64, E epochs (default 15), seed 1, every training
 * row used (no validation split).
 *
 * Data: by default the embedded subset (examples/data/fashion-{train,test}.h5: the first
 * 5000 training and 1000 test images; about a minute); --full uses all of Fashion-MNIST
 * from /usr/share/datasets/fashion-mnist (60 000 / 10 000; 6 minutes on 2 shared cores).
 *
 * Writes OUT_DIR/fashion.h5 (/K, /accuracy, /params, /seconds, and attributes
 * dense_accuracy, dense_params_effective, dense_params_nominal), OUT_DIR/fashion.dat and
 * OUT_DIR/fashion.png (test accuracy against parameter count).
 */
#include "models/idx.h"
#include "models/model.h"
#include "models/train.h"
#include "util/error.h"
#include "util/gnuplot.h"
#include "util/h5.h"
#include "util/parse.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static const size_t Ks[] = {1, 2, 4, 7, 10};
enum { NK = sizeof Ks / sizeof *Ks, C = 10 };

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void set_opts(acdc_train_opts *o, size_t epochs)
{
    acdc_train_opts_default(o, ACDC_LOSS_XENT);
    o->lr[0] = o->lr[1] = o->lr[2] = 1e-2;
    o->weight_decay = 1e-2;
    o->epochs = epochs;
    o->batch = 64;
    o->val_frac = 0;
    o->seed = 1;
    o->threads = 2;
}

/* Trains one ACDC classifier; returns test accuracy; copies its standardisation out. */
static int run_acdc(size_t K, size_t epochs, const acdc_data *tr, const acdc_data *te,
                    double *acc, size_t *params, double *mean, double *scale)
{
    acdc_model *m;
    int rc = acdc_model_alloc(&m, 784, 784, C, K, ACDC_A_BIAS | ACDC_D_BIAS | ACDC_PERM |
                                                      ACDC_RELU | ACDC_STANDARDISE);
    if (rc)
        return rc;
    rc = acdc_model_init_normal(m, 1, 0.06, 1);
    if (!rc)
        rc = acdc_model_init_perms(m, 1);
    if (rc) {
        acdc_model_free(m);
        return rc;
    }
    acdc_train_opts o;
    set_opts(&o, epochs);
    acdc_trainer *t;
    if ((rc = acdc_trainer_alloc(&t, m, &o, tr->batch)))
        return rc;
    acdc_train_data d = {tr->batch, tr->dim, tr->x, NULL, tr->labels, NULL};
    rc = acdc_trainer_standardise(t, &d, 1, 0.1);
    for (size_t e = 0; e < epochs && !rc; e++)
        rc = acdc_trainer_epoch(t, &d, NULL, NULL, NULL);
    acdc_eval ev = {0};
    acdc_train_data dt = {te->batch, te->dim, te->x, NULL, te->labels, NULL};
    if (!rc)
        rc = acdc_evaluate(acdc_trainer_model(t), ACDC_LOSS_XENT, &dt, 2, &ev);
    *acc = rc ? 0 : ev.acc;
    *params = acdc_model_param_count(acdc_trainer_model(t));
    memcpy(mean, acdc_trainer_model(t)->in_mean, 784 * sizeof *mean);
    memcpy(scale, acdc_trainer_model(t)->in_scale, 784 * sizeof *scale);
    acdc_eval_clear(&ev);
    acdc_trainer_free(t);
    return rc;
}

/* The dense baseline: logits = W·x' + b on standardised x', same loss, optimiser,
 * schedule, batch and epochs as the cascades. */
static int run_dense(size_t epochs, const acdc_data *tr, const acdc_data *te,
                     const double *mean, const double *scale, double *acc)
{
    const size_t D = 784, R = tr->batch, B = 64;
    double *W = malloc(C * D * sizeof *W), *b = calloc(C, sizeof *b);
    double *gW = malloc(C * D * sizeof *gW), *gb = malloc(C * sizeof *gb);
    double *xb = malloc(B * D * sizeof *xb), *z = malloc(B * C * sizeof *z);
    double *dz = malloc(B * C * sizeof *dz);
    int64_t *lb = malloc(B * sizeof *lb);
    size_t *order = malloc(R * sizeof *order);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    acdc_optim *opt = NULL;
    int rc = ACDC_UTIL_OK;
    if (!W || !b || !gW || !gb || !xb || !z || !dz || !lb || !order || !rng) {
        rc = acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
        goto done;
    }
    gsl_rng_set(rng, 1);
    for (size_t i = 0; i < C * D; i++)
        W[i] = gsl_ran_gaussian_ziggurat(rng, 0.01);
    acdc_train_opts o;
    set_opts(&o, epochs);
    double *v[2] = {W, b}, *g[2] = {gW, gb};
    size_t len[2] = {C * D, C};
    int grp[2] = {0, 2};
    if ((rc = acdc_optim_alloc(&opt, &o, 2, v, g, len, grp)))
        goto done;
    const uint64_t spe = (R + B - 1) / B;
    uint64_t step = 0;
    for (size_t e = 0; e < epochs; e++) {
        for (size_t i = 0; i < R; i++)
            order[i] = i;
        gsl_ran_shuffle(rng, order, R, sizeof *order);
        for (size_t r0 = 0; r0 < R; r0 += B) {
            size_t k = R - r0 < B ? R - r0 : B;
            for (size_t i = 0; i < k; i++) {
                const double *x = tr->x + order[r0 + i] * D;
                for (size_t j = 0; j < D; j++)
                    xb[i * D + j] = (x[j] - mean[j]) / scale[j];
                lb[i] = tr->labels[order[r0 + i]];
                for (size_t c = 0; c < C; c++) {
                    double s = b[c];
                    for (size_t j = 0; j < D; j++)
                        s += W[c * D + j] * xb[i * D + j];
                    z[i * C + c] = s;
                }
            }
            acdc_loss_xent(k, C, z, lb, 1.0 / (double)k, dz, NULL);
            memset(gW, 0, C * D * sizeof *gW);
            memset(gb, 0, C * sizeof *gb);
            for (size_t i = 0; i < k; i++)
                for (size_t c = 0; c < C; c++) {
                    gb[c] += dz[i * C + c];
                    for (size_t j = 0; j < D; j++)
                        gW[c * D + j] += dz[i * C + c] * xb[i * D + j];
                }
            acdc_optim_step(opt, acdc_schedule_factor(&o, step, spe * epochs, spe));
            step++;
        }
    }
    size_t ok = 0;
    for (size_t i = 0; i < te->batch; i++) {
        const double *x = te->x + i * D;
        size_t arg = 0;
        double best = -INFINITY;
        for (size_t c = 0; c < C; c++) {
            double s = b[c];
            for (size_t j = 0; j < D; j++)
                s += W[c * D + j] * (x[j] - mean[j]) / scale[j];
            if (s > best) {
                best = s;
                arg = c;
            }
        }
        ok += (int64_t)arg == te->labels[i];
    }
    *acc = (double)ok / (double)te->batch;
done:
    acdc_optim_free(opt);
    if (rng)
        gsl_rng_free(rng);
    free(W);
    free(b);
    free(gW);
    free(gb);
    free(xb);
    free(z);
    free(dz);
    free(lb);
    free(order);
    return rc;
}

static int fail(void)
{
    fprintf(stderr, "paper_fashion: error: %s\n", acdc_util_errmsg());
    return 1;
}

int main(int argc, char **argv)
{
    const char *dir = "examples/out";
    int full = 0;
    int64_t epochs = 15;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--full"))
            full = 1;
        else if (!strcmp(argv[i], "--epochs") && i + 1 < argc) {
            if (acdc_util_parse_int(argv[++i], "--epochs", 1, 10000, &epochs)) {
                fprintf(stderr, "paper_fashion: error: %s\n", acdc_util_errmsg());
                return 2;
            }
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: paper_fashion [--full] [--epochs E] [OUT_DIR]\n");
            return 2;
        } else
            dir = argv[i];
    }
    mkdir(dir, 0755);
    const char *fm = "/usr/share/datasets/fashion-mnist";
    acdc_data *tr = NULL, *te = NULL;
    if (full ? (acdc_data_load(fm, "train", NULL, &tr) ||
                acdc_data_load(fm, "test", NULL, &te))
             : (acdc_data_load("examples/data/fashion-train.h5", NULL, NULL, &tr) ||
                acdc_data_load("examples/data/fashion-test.h5", NULL, NULL, &te)))
        return fail();
    printf("Fashion-MNIST (%s: %zu training, %zu test images), %lld epochs\n",
           full ? "full" : "embedded subset", tr->batch, te->batch, (long long)epochs);
    printf("%-34s %10s %10s %9s\n", "model", "params", "test acc", "seconds");
    double acc[NK], secs[NK], params[NK], mean[784], scale[784];
    for (size_t k = 0; k < NK; k++) {
        size_t p;
        double t0 = now_s();
        if (run_acdc(Ks[k], (size_t)epochs, tr, te, &acc[k], &p, mean, scale))
            return fail();
        secs[k] = now_s() - t0;
        params[k] = (double)p;
        printf("ACDC K = %-25zu %10zu %10.4f %9.1f\n", Ks[k], p, acc[k], secs[k]);
        fflush(stdout);
    }
    double dacc = 0, t0 = now_s();
    if (run_dense((size_t)epochs, tr, te, mean, scale, &dacc))
        return fail();
    printf("%-34s %10d %10.4f %9.1f\n", "dense 784-wide linear (784->10)", 7850, dacc,
           now_s() - t0);
    printf("(the dense 784x784 layer nominally has 615440 parameters; 7850 reach the "
           "logits)\n");

    char path[4096];
    snprintf(path, sizeof path, "%s/fashion.h5", dir);
    acdc_util_h5_out o;
    double kd[NK];
    for (size_t k = 0; k < NK; k++)
        kd[k] = (double)Ks[k];
    hsize_t dk[1] = {NK};
    int rc;
    if ((rc = acdc_util_h5_create(path, &o)))
        return fail();
    if ((rc = acdc_util_h5_set_attr_str(o.fid, "/", "format", "acdc-example-fashion")) ||
        (rc = acdc_util_h5_set_attr_str(o.fid, "/", "data", full ? "full" : "embedded")) ||
        (rc = acdc_util_h5_set_attr_i64(o.fid, "/", "epochs", epochs)) ||
        (rc = acdc_util_h5_set_attr_i64(o.fid, "/", "train_rows", (int64_t)tr->batch)) ||
        (rc = acdc_util_h5_set_attr_i64(o.fid, "/", "test_rows", (int64_t)te->batch)) ||
        (rc = acdc_util_h5_set_attr_f64(o.fid, "/", "dense_accuracy", dacc)) ||
        (rc = acdc_util_h5_set_attr_i64(o.fid, "/", "dense_params_effective", 7850)) ||
        (rc = acdc_util_h5_set_attr_i64(o.fid, "/", "dense_params_nominal", 784 * 784 + 784)) ||
        (rc = acdc_util_h5_write_f64(o.fid, "/K", 1, dk, kd)) ||
        (rc = acdc_util_h5_write_f64(o.fid, "/accuracy", 1, dk, acc)) ||
        (rc = acdc_util_h5_write_f64(o.fid, "/params", 1, dk, params)) ||
        (rc = acdc_util_h5_write_f64(o.fid, "/seconds", 1, dk, secs))) {
        acdc_util_h5_abort(&o);
        return fail();
    }
    if ((rc = acdc_util_h5_commit(&o)))
        return fail();
    char dat[4096];
    snprintf(dat, sizeof dat, "%s/fashion.dat", dir);
    FILE *f = fopen(dat, "w");
    if (!f) {
        perror(dat);
        return 1;
    }
    fprintf(f, "# K params test_accuracy seconds\n");
    for (size_t k = 0; k < NK; k++)
        fprintf(f, "%zu %.0f %.6f %.2f\n", Ks[k], params[k], acc[k], secs[k]);
    fclose(f);
    snprintf(path, sizeof path, "%s/fashion.png", dir);
    char qdat[8300];
    acdc_util_gnuplot *plot;
    if ((rc = acdc_util_gnuplot_quote(dat, qdat, sizeof qdat)) ||
        (rc = acdc_util_gnuplot_open(&plot, path)))
        return fail();
    FILE *g = acdc_util_gnuplot_file(plot);
    acdc_util_gnuplot_terminal(plot, 900, 600);
    fprintf(g, "set title 'Test accuracy against trainable parameters' . \"\\n\" . "
               "'{/*0.85 Fashion-MNIST (%s, %zu test images): ACDC cascades of K layers "
               "and a dense layer}'\n"
               "set xlabel 'trainable parameters (count, log scale)'\n"
               "set ylabel 'test accuracy (fraction correct)'\nset logscale x\n"
               "set grid lc rgb '#d0d0d0'\nset key outside below center horizontal\n"
               "set offsets graph 0.05, graph 0.15, graph 0.05, graph 0.05\n"
               "plot %s u 2:3 w lp lw 2 pt 7 t 'ACDC cascade, K layers (labels: K)', "
               "'' u 2:3:(sprintf('K=%%d',$1)) w labels offset 0,1 notitle, "
               "'-' u 1:2 w p pt 5 ps 2 t 'dense 784-wide linear layer (7850 effective "
               "params)'\n7850 %.6f\ne\n",
            full ? "full" : "embedded subset", te->batch, qdat, dacc);
    if ((rc = acdc_util_gnuplot_close(plot)))
        return fail();
    printf("wrote '%s/fashion.h5', '%s', '%s'\n", dir, dat, path);
    acdc_data_free(tr);
    acdc_data_free(te);
    return 0;
}
