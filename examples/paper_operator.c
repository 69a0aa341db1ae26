/* SPDX-License-Identifier: GPL-3.0-or-later */
/* examples/paper_operator.c -- Moczulski et al. (ICLR 2016), linear operator approximation.
 *
 *   build/examples/paper_operator [OUT_DIR]          (default examples/out)
 *
 * A random dense target y = W·x + b (N = 32, W ~ N(0, 1/N), b ~ N(0, 0.1²), x ~ U[0,1]^N,
 * noise N(0, 0.01²)) is fitted by K-layer ACDC cascades without ReLU, K ∈ {1, 2, 4, 8,
 * 16, 32}, with and without a fixed random permutation after every layer, from the
 * near-identity initialisation (diagonals N(1, 0.06), the paper's scheme) and from a
 * standard one (diagonals N(0, 1)).  Every run: 8192 examples (10% held out), Adam with
 * rate 1e-2 on every group, cosine schedule, batch 32, 40 epochs, seed 1.
 *
 * Writes OUT_DIR/operator.h5 (/K, /mse: 4 × 6 held-out MSE per output, rows in the
 * order of the attribute 'configs'), OUT_DIR/operator.dat (the same as text) and
 * OUT_DIR/operator.png (MSE against K, log-log).  About 40 s on one core.
 */
#include "models/model.h"
#include "models/train.h"
#include "util/error.h"
#include "util/gnuplot.h"
#include "util/h5.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define N 32
#define ROWS 8192
#define EPOCHS 40

static const size_t Ks[] = {1, 2, 4, 8, 16, 32};
enum { NK = sizeof Ks / sizeof *Ks, NC = 4 };
static const char *const names[NC] = {"perm, near-identity", "perm, standard N(0,1)",
                                      "no perm, near-identity", "no perm, standard N(0,1)"};

static int run(size_t K, int perm, int ident, const double *x, const double *y, double *mse)
{
    acdc_model *m;
    int rc = acdc_model_alloc(&m, N, N, N, K, ACDC_A_BIAS | ACDC_D_BIAS |
                                                  (perm ? ACDC_PERM : 0));
    if (rc)
        return rc;
    rc = acdc_model_init_normal(m, ident ? 1.0 : 0.0, ident ? 0.06 : 1.0, 1);
    if (!rc)
        rc = acdc_model_init_perms(m, 1);
    if (rc) {
        acdc_model_free(m);
        return rc;
    }
    acdc_train_opts o;
    acdc_train_opts_default(&o, ACDC_LOSS_MSE);
    o.lr[0] = o.lr[1] = o.lr[2] = 1e-2;
    o.epochs = EPOCHS;
    o.batch = 32;
    o.threads = 1;   /* n = 32: a thread team costs more than it saves */
    acdc_trainer *t;
    if ((rc = acdc_trainer_alloc(&t, m, &o, ROWS)))
        return rc;
    acdc_train_data d = {ROWS, N, x, y, NULL, NULL};
    acdc_epoch_stats st = {0};
    for (size_t e = 0; e < EPOCHS && !rc; e++)
        rc = acdc_trainer_epoch(t, &d, NULL, NULL, &st);
    /* A diverged fit (non-finite loss) is reported as such, not as an error. */
    *mse = isfinite(st.val_loss) ? st.val_loss : INFINITY;
    acdc_trainer_free(t);
    return rc;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "examples/out";
    mkdir(dir, 0755);
    double *x, *y, mse[NC][NK];
    int rc = acdc_operator_data(N, ROWS, 0.01, 7, &x, &y);
    if (rc) {
        fprintf(stderr, "paper_operator: error: %s\n", acdc_util_errmsg());
        return 1;
    }
    printf("operator approximation, N = %d: held-out MSE per output (noise floor 1e-4)\n",
           N);
    printf("%-26s", "K");
    for (size_t k = 0; k < NK; k++)
        printf(" %10zu", Ks[k]);
    printf("\n");
    for (int c = 0; c < NC && !rc; c++) {
        printf("%-26s", names[c]);
        fflush(stdout);
        for (size_t k = 0; k < NK && !rc; k++) {
            rc = run(Ks[k], c < 2, c % 2 == 0, x, y, &mse[c][k]);
            printf(" %10.3e", mse[c][k]);
            fflush(stdout);
        }
        printf("\n");
    }
    free(x);
    free(y);
    if (rc) {
        fprintf(stderr, "paper_operator: error: %s\n", acdc_util_errmsg());
        return 1;
    }

    char path[4096];
    snprintf(path, sizeof path, "%s/operator.h5", dir);
    acdc_util_h5_out o;
    double kd[NK];
    double flat[NC * NK];
    for (size_t k = 0; k < NK; k++)
        kd[k] = (double)Ks[k];
    for (int c = 0; c < NC; c++)
        for (size_t k = 0; k < NK; k++)
            flat[c * NK + k] = isfinite(mse[c][k]) ? mse[c][k] : -1;
    hsize_t dk[1] = {NK}, dm[2] = {NC, NK};
    if ((rc = acdc_util_h5_create(path, &o)) ||
        (rc = acdc_util_h5_set_attr_str(o.fid, "/", "format", "acdc-example-operator")) ||
        (rc = acdc_util_h5_set_attr_str(o.fid, "/", "configs",
                                        "perm+near-identity; perm+standard; noperm+near-identity;"
                                        " noperm+standard")) ||
        (rc = acdc_util_h5_set_attr_str(o.fid, "/", "mse_meaning", "held-out mean squared error "
                                        "per output value; -1 = diverged")) ||
        (rc = acdc_util_h5_set_attr_i64(o.fid, "/", "N", N)) ||
        (rc = acdc_util_h5_set_attr_i64(o.fid, "/", "epochs", EPOCHS)) ||
        (rc = acdc_util_h5_write_f64(o.fid, "/K", 1, dk, kd)) ||
        (rc = acdc_util_h5_write_f64(o.fid, "/mse", 2, dm, flat))) {
        if (o.fid > 0)
            acdc_util_h5_abort(&o);
        fprintf(stderr, "paper_operator: error: %s\n", acdc_util_errmsg());
        return 1;
    }
    if ((rc = acdc_util_h5_commit(&o))) {
        fprintf(stderr, "paper_operator: error: %s\n", acdc_util_errmsg());
        return 1;
    }
    printf("wrote '%s'\n", path);

    char dat[4096];
    snprintf(dat, sizeof dat, "%s/operator.dat", dir);
    FILE *f = fopen(dat, "w");
    if (!f) {
        perror(dat);
        return 1;
    }
    fprintf(f, "# K  mse(perm,near-identity) mse(perm,standard) mse(noperm,near-identity) "
               "mse(noperm,standard)\n");
    for (size_t k = 0; k < NK; k++) {
        fprintf(f, "%zu", Ks[k]);
        for (int c = 0; c < NC; c++)
            fprintf(f, " %.6e", isfinite(mse[c][k]) ? mse[c][k] : NAN);
        fprintf(f, "\n");
    }
    fclose(f);
    snprintf(path, sizeof path, "%s/operator.png", dir);
    char qdat[8300];
    acdc_util_gnuplot *plot;
    if (acdc_util_gnuplot_quote(dat, qdat, sizeof qdat) || acdc_util_gnuplot_open(&plot, path)) {
        fprintf(stderr, "paper_operator: error: %s\n", acdc_util_errmsg());
        return 1;
    }
    FILE *g = acdc_util_gnuplot_file(plot);
    acdc_util_gnuplot_terminal(plot, 900, 600);
    fprintf(g, "set title 'Held-out error against the number of ACDC layers' . \"\\n\" . "
               "'{/*0.85 ACDC cascades fitting a dense 32 × 32 operator "
               "(Moczulski et al. 2016)}'\n"
               "set xlabel 'number of ACDC layers K'\nset ylabel 'held-out MSE per output "
               "(dimensionless)'\nset logscale xy\nset xtics (1,2,4,8,16,32)\n"
               "set format y '10^{%%T}'\n"
               "set xrange [0.8:40]\nset yrange [5e-5:0.2]\nset grid lc rgb '#d0d0d0'\n"
               "set key outside right top vertical\n"
               "plot %s u 1:2 w lp lw 2 t '%s', '' u 1:3 w lp lw 2 t '%s', "
               "'' u 1:4 w lp lw 2 t '%s', '' u 1:5 w lp lw 2 t '%s', "
               "1e-4 w l dt 2 lc rgb '#606060' t 'noise floor'\n",
            qdat, names[0], names[1], names[2], names[3]);
    if (acdc_util_gnuplot_close(plot)) {
        fprintf(stderr, "paper_operator: error: %s\n", acdc_util_errmsg());
        return 1;
    }
    printf("wrote '%s', '%s'\n", dat, path);
    return 0;
}
