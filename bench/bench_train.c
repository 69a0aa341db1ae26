/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bench/bench_train.c -- training throughput of the headline Fashion-MNIST cascade.
 *
 * One epoch of acdc_trainer_epoch() (forward, softmax cross-entropy, backward, Adam
 * step, shuffling and gathering included) over 12 800 synthetic rows of 784 inputs, for
 * the cascade of the README's headline run: n = 784, K = 7, both biases, ReLU and
 * permutations, batch 64, no validation split.  Prints examples per second at 1 and 2
 * threads (best of 3 epochs each) in float64 and in float32 (acdc_train_opts.precision,
 * `acdc train --precision single`) side by side with their ratio, and the forward-only
 * rate of 512-row passes through acdc_model_forward() in each precision.
 *
 * The DCTs are planned as the trainer plans them, FFTW_ESTIMATE, which takes FFTW's
 * system wisdom where the machine has it (models/dct.h; `make wisdom`).  With wisdom,
 * the same runs follow without it (acdc_plan_forget_wisdom(): the heuristic's plans)
 * and a last line gives the ratio of the two in each precision.
 *
 * Which FFTW it ran is printed first: the shared objects the dynamic linker bound for
 * both precisions (a build of FFTW with other SIMD, put first by LD_LIBRARY_PATH, shows
 * here) and the SIMD sets named by the codelets of the 784-point plans it makes, planned
 * as the trainer plans them, so that a ratio is read against the transforms behind it.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fftw3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "models/dct.h"
#include "models/train.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* The file that holds `sym`: a shared object, or this program when FFTW is linked into
 * it statically; "unknown" if the dynamic linker cannot tell. */
static const char *object_of(void *sym)
{
    Dl_info info;
    return dladdr(sym, &info) && info.dli_fname ? info.dli_fname : "unknown";
}

/* 1 if a printed plan names a codelet of SIMD set `set` (FFTW's codelets end in _sse2,
 * _avx, _avx2, _avx2_128, _avx512, ...): the set's suffix closes a quoted name. */
static int names_set(const char *plan, const char *set)
{
    const size_t len = strlen(set);
    for (const char *q = plan; q && (q = strstr(q, set)); q += len)
        if (q[len] == '"')
            return 1;
    return 0;
}

/* The SIMD sets the two printed plans name, space-separated into buf, "none" if none. */
static void simd_of(const char *p1, const char *p2, char *buf, size_t cap)
{
    static const char *const sets[] = {"_avx512", "_avx2_128", "_avx2", "_avx_128_fma",
                                       "_avx", "_sse2", "_kcvi"};
    size_t used = 0;
    buf[0] = 0;
    for (size_t i = 0; i < sizeof sets / sizeof *sets; i++)
        if ((names_set(p1, sets[i]) || names_set(p2, sets[i])) && used < cap)
            used += (size_t)snprintf(buf + used, cap - used, "%s%s", used ? " " : "",
                                     sets[i] + 1);
    if (!buf[0])
        snprintf(buf, cap, "none");
}

/* One line on the FFTW behind the runs: the library objects and the SIMD of the r2c/c2r
 * plans of n points in each precision (FFTW_ESTIMATE after the system wisdom, as
 * models/dct.c plans them). */
static void print_fftw(size_t n)
{
    char sd[64] = "(no plan)", sf[64] = "(no plan)";
    double *v = fftw_alloc_real(n);
    fftw_complex *V = fftw_alloc_complex(n / 2 + 1);
    float *vf = fftwf_alloc_real(n);
    fftwf_complex *Vf = fftwf_alloc_complex(n / 2 + 1);
    fftw_plan a = NULL, b = NULL;
    fftwf_plan af = NULL, bf = NULL;
    if (v && V && vf && Vf) {
        a = fftw_plan_dft_r2c_1d((int)n, v, V, FFTW_ESTIMATE);
        b = fftw_plan_dft_c2r_1d((int)n, V, v, FFTW_ESTIMATE);
        af = fftwf_plan_dft_r2c_1d((int)n, vf, Vf, FFTW_ESTIMATE);
        bf = fftwf_plan_dft_c2r_1d((int)n, Vf, vf, FFTW_ESTIMATE);
    }
    if (a && b) {
        char *pa = fftw_sprint_plan(a), *pb = fftw_sprint_plan(b);
        simd_of(pa, pb, sd, sizeof sd);
        free(pa);
        free(pb);
    }
    if (af && bf) {
        char *pa = fftwf_sprint_plan(af), *pb = fftwf_sprint_plan(bf);
        simd_of(pa, pb, sf, sizeof sf);
        free(pa);
        free(pb);
    }
    printf("FFTW: %s; double %s, float %s; SIMD in the %zu-point r2c/c2r plans: double %s, "
           "float %s\n", fftw_version, object_of((void *)fftw_execute),
           object_of((void *)fftwf_execute), n, sd, sf);
    if (a)
        fftw_destroy_plan(a);
    if (b)
        fftw_destroy_plan(b);
    if (af)
        fftwf_destroy_plan(af);
    if (bf)
        fftwf_destroy_plan(bf);
    fftw_free(v);
    fftw_free(V);
    fftwf_free(vf);
    fftwf_free(Vf);
}

/* Best epoch rate (examples/s) of training and the rate of evaluating, in one
 * precision at one thread count. */
static int rates(const acdc_train_data *d, int precision, int threads, double *train,
                 double *eval)
{
    enum { D = 784, K = 7 };
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
    o.precision = precision;
    acdc_trainer *t;
    if (acdc_trainer_alloc(&t, m, &o, d->rows))
        return 1;
    double best = 1e30;
    for (int e = 0; e < 3; e++) {
        double t0 = now();
        if (acdc_trainer_epoch(t, d, NULL, NULL, NULL))
            return 1;
        double s = now() - t0;
        best = s < best ? s : best;
    }
    /* evaluating: acdc_evaluate() is double; the single rate is a forward-only workspace
     * of the same chunk, through acdc_model_forward() */
    acdc_work *w;
    const size_t B = 512;
    double *y = malloc(B * 10 * sizeof *y);
    if (!y || acdc_work_alloc_precision(&w, acdc_trainer_model(t), B, 0, threads,
                                        FFTW_ESTIMATE, precision))
        return 1;
    double t0 = now();
    for (size_t r = 0; r < d->rows; r += B) {
        size_t k = d->rows - r < B ? d->rows - r : B;
        if (acdc_model_forward(acdc_trainer_model(t), w, k, d->x + r * D, y))
            return 1;
    }
    double fs = now() - t0;
    acdc_work_free(w);
    free(y);
    *train = (double)d->rows / best;
    *eval = (double)d->rows / fs;
    acdc_trainer_free(t);
    return 0;
}

int main(void)
{
    enum { R = 12800, D = 784 };
    double *x = malloc((size_t)R * D * sizeof *x);
    int64_t *lab = malloc(R * sizeof *lab);
    if (!x || !lab)
        return 1;
    for (size_t i = 0; i < (size_t)R * D; i++)
        x[i] = (double)((i * 2654435761u) % 256) / 255.0;
    for (size_t r = 0; r < R; r++)
        lab[r] = (int64_t)(r * 7 % 10);
    acdc_train_data d = {R, D, x, NULL, lab, NULL};
    printf("bench_train: n = 784, K = 7 (both biases, ReLU, permutations), batch 64, "
           "Adam; float64 and float32 (--precision single) side by side\n");
    const int wisdom = acdc_plan_wisdom();
    print_fftw(D);
    double first[2][2] = {{0}};
    for (int pass = 0; pass < (wisdom ? 2 : 1); pass++) {
        if (pass == 1)
            acdc_plan_forget_wisdom();
        if (wisdom && pass == 0)
            printf("FFTW plans: FFTW_ESTIMATE with the system wisdom (/etc/fftw/wisdom: %s, "
                   "/etc/fftw/wisdomf: %s)\n", wisdom & ACDC_WISDOM_DOUBLE ? "read" : "none",
                   wisdom & ACDC_WISDOM_FLOAT ? "read" : "none");
        else
            printf("FFTW plans: FFTW_ESTIMATE's heuristic alone (%s)\n",
                   wisdom ? "the wisdom forgotten"
                          : "no system wisdom read from /etc/fftw: none there, or written "
                            "by another FFTW build; `make wisdom` as root writes it");
        for (int threads = 1; threads <= 2; threads++) {
            double tr[2], ev[2];
            /* back to back, so that both see the same machine */
            if (rates(&d, ACDC_PRECISION_DOUBLE, threads, &tr[0], &ev[0]) ||
                rates(&d, ACDC_PRECISION_SINGLE, threads, &tr[1], &ev[1]))
                return 1;
            /* "threads T: train R examples/s" first, the float64 rate: bench/peers.py
             * reads the first such line */
            printf("  threads %d: train    %8.0f examples/s float64  %8.0f float32  (x%.2f)\n",
                   threads, tr[0], tr[1], tr[1] / tr[0]);
            printf("             evaluate %8.0f examples/s float64  %8.0f float32  (x%.2f)\n",
                   ev[0], ev[1], ev[1] / ev[0]);
            if (threads == 1 && pass == 0) {
                first[0][0] = tr[0];
                first[0][1] = tr[1];
            } else if (threads == 1) {
                first[1][0] = tr[0];
                first[1][1] = tr[1];
            }
        }
    }
    if (wisdom)
        printf("  wisdom over the heuristic, training at 1 thread: float64 x%.2f, float32 "
               "x%.2f\n", first[0][0] / first[1][0], first[0][1] / first[1][1]);
    free(x);
    free(lab);
    return 0;
}
