/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bench/bench_train.c -- training throughput of the headline Fashion-MNIST cascade.
 *
 * One epoch of acdc_trainer_epoch() (forward, softmax cross-entropy, backward, Adam
 * step, shuffling and gathering included) over 12 800 synthetic rows of 784 inputs, for
 * the cascade of the README's headline run: n = 784, K = 7, both biases, ReLU and
 * permutations, batch 64, no validation split.  Prints examples per second at 1 and 2
 * threads (best of 3 epochs each), and the forward-only rate of acdc_evaluate().
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "models/train.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(void)
{
    enum { R = 12800, D = 784, K = 7 };
    double *x = malloc((size_t)R * D * sizeof *x);
    int64_t *lab = malloc(R * sizeof *lab);
    if (!x || !lab)
        return 1;
    for (size_t i = 0; i < (size_t)R * D; i++)
        x[i] = (double)((i * 2654435761u) % 256) / 255.0;
    for (size_t r = 0; r < R; r++)
        lab[r] = (int64_t)(r * 7 % 10);
    acdc_train_data d = {R, D, x, NULL, lab};
    printf("bench_train: n = 784, K = 7 (both biases, ReLU, permutations), batch 64, "
           "Adam\n");
    for (int threads = 1; threads <= 2; threads++) {
        acdc_model *m;
        if (acdc_model_alloc(&m, D, D, 10, K, ACDC_A_BIAS | ACDC_D_BIAS | ACDC_PERM |
                                                  ACDC_RELU) ||
            acdc_model_init_normal(m, 1, 0.06, 1) || acdc_model_init_perms(m, 1))
            return 1;
        acdc_train_opts o;
        acdc_train_opts_default(&o, ACDC_LOSS_XENT);
        o.epochs = 3;
        o.val_frac = 0;
        o.threads = threads;
        acdc_trainer *t;
        if (acdc_trainer_alloc(&t, m, &o, R))
            return 1;
        double best = 1e30;
        for (int e = 0; e < 3; e++) {
            double t0 = now();
            if (acdc_trainer_epoch(t, &d, NULL, NULL, NULL))
                return 1;
            double s = now() - t0;
            best = s < best ? s : best;
        }
        acdc_eval ev;
        double t0 = now();
        if (acdc_evaluate(acdc_trainer_model(t), ACDC_LOSS_XENT, &d, threads, &ev))
            return 1;
        double fs = now() - t0;
        acdc_eval_clear(&ev);
        printf("  threads %d: train %8.0f examples/s   evaluate %8.0f examples/s\n", threads,
               R / best, R / fs);
        acdc_trainer_free(t);
    }
    free(x);
    free(lab);
    return 0;
}
