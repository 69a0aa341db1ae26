/* SPDX-License-Identifier: GPL-3.0-or-later */
/* compiler/surrogate.c -- see surrogate.h and compiler/README.md, "The surrogate".
 *
 * Notation (surrogate.h): input pixels a = 0 .. Pin·M − 1 at x_a = (a − a0) δ_in, Fourier
 * pixels c = 0 .. PF·fm − 1 at ξ_c = (c − c0) δ_F, camera sample j at x_j = (j − M/2)Δ,
 * N = fm·PF·Pin (so that δ_in δ_F / λf = 1/N), r = a + Pin·j in 0 .. Lc − 1, Lc = 2 Pin M.
 *
 *   x_c  = τ_c B_c e^{2πi c r0/N}            (zero-padded to N)
 *   X̂    = DFT_N(x)                          (FFTW_FORWARD)
 *   H(r) = Q(r) X̂(r mod N),  Q(r) = K sinc(f_F (r − r0)/N) e^{2πi c0 (r − r0)/N}
 *   E_j  = Σ_a p_a H(a + Pin·j)              (a correlation: (1/Lc) BWD(FWD(H) ⊙ BWD(p)))
 *
 * Complex gradients are ḡ = ∂L/∂Re + i ∂L/∂Im; through a linear map y = A x they go back
 * as ḡ_x = A^H ḡ_y (real x: its real part).
 */
#include "compiler/surrogate.h"
#include "compiler/compile.h"
#include "models/dct.h"
#include "models/layer.h"
#include "optics/detector.h"
#include "optics/device.h"
#include "optics/lens.h"
#include "util/error.h"

#include <complex.h>
#include <fftw3.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sf_trig.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK 16   /* rows per block of the backward pass's fixed-order sums */
/* Terms of a lens's wavefront error in the 4f kernel (lens_terms()): powers of x/R whose
 * coefficients are the least-squares fit of e^{2πi W(ξ + x)} over the input pixels and
 * camera samples, per Fourier pixel ξ.  Measured by acdc_compiler_surrogate_lens_error()
 * (the series against the factor at every point the kernel uses; numpy's lstsq on the
 * same points agrees to 3 digits), for slm8's objective (0.02 waves rms of primary
 * spherical): in the shipped model's geometry (n = 784, R = 1: |x/R|, |ξ/R| <= 1/2) six
 * fitted terms are 9.9e-4 rms and 1.0e-2 at worst (the planes' corners), where the
 * Taylor series at x = 0 that they replace was 1.5e-2 and 0.16; in the test
 * system (n = 64, R = 2: |x/R| <= 1/3, |ξ/R| <= 2/3) 1.7e-4 and 2.0e-3 (Taylor: 2.5e-3
 * and 3.3e-2).  Eight terms would leave 5.8e-5 (n = 64, R = 1) without bringing the
 * surrogate closer to the simulator, which the series no longer limits
 * (tests/test_compiler_surrogate.c, test_matches_simulator_lens). */
#define SURROGATE_LENS_TERMS 6

struct layer_state {
    double *t;                 /* fm: the mask values W / gm, clipped to [−1, 1] */
    double gm;                 /* the mask's scale: c·max|W| (c = 1 unless clipped) */
    unsigned char *sat;        /* per mask value: clipped (rules.fourier_clip) */
    size_t kmax;
    double complex *tau, *dtau;/* npx_F: pixels shown (with phase errors), d pixel / d t */
    fftw_complex *Hf;          /* T² × Lc: FWD(H) of every pair of lens terms (m, m') */
    double *bias;              /* n: Cᵀ d_bias */
    /* per row, kept for the backward pass */
    double *w, *s;             /* batch × n inputs scaled by s = max|u|; batch scales */
    size_t *jmax;
    double complex *eps;       /* batch × n: the camera's mean field on each read pixel */
    double *A;                 /* batch × n: the homodyne reading per unit (z − bias)/(s gm) */
    unsigned char *live;       /* batch × n × 2: the port was not clipped */
    size_t rows;               /* rows of the last forward pass */
};

struct acdc_compiler_surrogate {
    acdc_layer_op op;
    acdc_compiler_surrogate_opts o;
    size_t n, M, fm, K, batch;
    int pin, pf;               /* pixels per sample: input and Fourier device */
    int rows_in, rows_f;       /* 1D: a double-phase pair down the strip's rows
                                  (ACDC_OPTICS_DP_ROWS): one pixel column per value,
                                  which carries the mean of the two */
    size_t strip_f;            /* rows_f: the strip's pairs of rows, whose phase errors
                                  the column averages (acdc_compiler_strip_rows()) */
    size_t npx_in, npx_f, Lc, N;
    double c0, r0;
    acdc_optics_modulator in_dev, f_dev;
    double *D;                 /* fm × n: W = D d */
    size_t *lay0, *lay1;       /* the samples of component j at layout parity 0 */
    size_t *pix;               /* K × n: layer l's camera sample of component j */
    double complex *B;         /* npx_F: B_c e^{2πi c r0/N} */
    double complex *Q;         /* Lc */
    /* the lenses' wavefront error, to T terms (T = 1: ideal lenses): the input factor
     * (x_a/R)^m', the camera factor (y_j/R)^m, the Fourier factor Ψ_{m,m'}(ξ_c) */
    int T;
    double *xin, *ycam;        /* T × npx_in, T × M */
    double complex *psi;       /* T² × npx_F */
    double lens_rms, lens_max; /* the series' error over the points it is fitted on */
    double complex gcal;
    double sigma_f;
    double clip;               /* the masks' scale over max|W| (acdc_compiler_clip_scale()) */
    /* detection, per layer (= chain) */
    double *phi, *rho, *frames, *dark, *tau;   /* tau: exposure, s */
    acdc_optics_camera cam;
    double fw;
    fftw_plan pn, pl_nb, pl_f, pl_b;
    fftw_complex *bufN;
    fftw_complex *tbuf;        /* threads × tstride: (2T + 3) × Lc each */
    size_t tstride;
    double complex *ebuf;      /* threads × plane */
    size_t plane;              /* samples of an image plane: M (rank 1), M² (rank 2) */
    int nthreads;
    acdc_plan *dct;
    double *zero, *acc;        /* n each: scratch of the bias passes */
    fftw_complex *gh;          /* the backward pass's per-block sums: blocks × T² × Lc
                                  (rank 1), blocks × nb × Ls² (rank 2) */
    size_t gh_len;
    struct layer_state *ls;
    /* rank 2 (spherical lenses; every sample a k x k superpixel): B and Q hold one axis
     * (k fm and Lc values), D one axis of the design (fm × side), t and the pixels the
     * plane row-major; the per-row correlation runs on samples (Ls = 2M per axis), each
     * pixel pattern b of a superpixel with its own kernel G_b (Hf: nb × Ls²) */
    int rank;
    size_t side, k, Ls, Ns;    /* components per axis, superpixel, 2M, N/k */
    int nb;                    /* pixel patterns of an input value: 2 (double-phase), 1 */
    unsigned char *pat_in, *pat_f;  /* k × k: the pattern each pixel of a superpixel shows */
    double complex *tw;        /* k × Lc: e^{−2πi i r/N} */
    size_t *place;             /* n × 4: the input samples of component j */
    fftw_plan ps_f, ps_b, pn2_f, pn2_b;
    fftw_complex *xacc;        /* Lc²: kernel2 and its adjoint */
    fftw_complex *sub;         /* k² × Ns²: one DFT per sub-pixel offset */
};

acdc_compiler_surrogate_opts acdc_compiler_surrogate_opts_default(void)
{
    return (acdc_compiler_surrogate_opts){.quantise = 1, .noise = 1, .clip = 1, .lens = 1,
                                          .phase_error_rad = -1, .seed = 1, .threads = 1};
}

double complex acdc_compiler_surrogate_constant(const acdc_compiler_surrogate *g) { return g->gcal; }

int acdc_compiler_surrogate_lens_terms(const acdc_compiler_surrogate *g) { return g->T; }

void acdc_compiler_surrogate_lens_error(const acdc_compiler_surrogate *g, double *rms, double *max)
{
    if (rms)
        *rms = g->lens_rms;
    if (max)
        *max = g->lens_max;
}

static void layer_free(struct layer_state *l)
{
    free(l->t);
    free(l->sat);
    free(l->tau);
    free(l->dtau);
    fftw_free(l->Hf);
    free(l->bias);
    free(l->w);
    free(l->s);
    free(l->jmax);
    free(l->eps);
    free(l->A);
    free(l->live);
}

void acdc_compiler_surrogate_free(acdc_compiler_surrogate *g)
{
    if (!g)
        return;
    for (size_t l = 0; g->ls && l < g->K; l++)
        layer_free(&g->ls[l]);
    free(g->ls);
#pragma omp critical(acdc_fftw_planner)
    {
        if (g->pn)
            fftw_destroy_plan(g->pn);
        if (g->pl_nb)
            fftw_destroy_plan(g->pl_nb);
        if (g->pl_f)
            fftw_destroy_plan(g->pl_f);
        if (g->pl_b)
            fftw_destroy_plan(g->pl_b);
        fftw_plan extra[4] = {g->ps_f, g->ps_b, g->pn2_f, g->pn2_b};
        for (int i = 0; i < 4; i++)
            if (extra[i])
                fftw_destroy_plan(extra[i]);
    }
    fftw_free(g->bufN);
    fftw_free(g->tbuf);
    free(g->ebuf);
    fftw_free(g->gh);
    acdc_plan_free(g->dct);
    free(g->D);
    free(g->lay0);
    free(g->lay1);
    free(g->pix);
    free(g->B);
    free(g->Q);
    free(g->xin);
    free(g->ycam);
    free(g->psi);
    free(g->pat_in);
    free(g->pat_f);
    free(g->tw);
    free(g->place);
    fftw_free(g->xacc);
    fftw_free(g->sub);
    free(g->phi);
    free(g->rho);
    free(g->frames);
    free(g->dark);
    free(g->tau);
    free(g->zero);
    free(g->acc);
    free(g);
}

/* A device as the surrogate shows it: on its levels, or continuous (smooth form). */
static acdc_optics_modulator shown(const acdc_optics_modulator *d, int quantise)
{
    acdc_optics_modulator m = *d;
    if (!quantise) {
        m.amplitude_bits = 0;
        m.phase_bits = 0;
    }
    return m;
}

/* A value's pixels (1 or 2) and their derivative with respect to the value (the
 * unquantised device's, at the quantised pixels: the straight-through estimator).  A
 * double-phase pair's θ = arccos|t| has dθ/d|t| = −1/sqrt(1 − t²): at |t| = 1 the
 * derivative is taken as 0 (the pair at full amplitude; the mask's largest value, which
 * is ±1 whatever the weights). */
static int pixels(const acdc_optics_modulator *dev, double t, double complex px[2],
                  double complex dpx[2])
{
    int c = acdc_optics_modulator_pixels(dev, t, px, NULL);
    if (c == 2) {
        double r = 1 - t * t;
        double k = r > 1e-9 ? 1 / sqrt(r) : 0;
        dpx[0] = -I * px[0] * k;
        dpx[1] = I * px[1] * k;
    } else {
        /* amplitude and sign: d/dt of ±|t| is 1, and 0 below a contrast floor, where
         * the device shows its darkest state whatever the value */
        const double a0 = dev->contrast > 0 ? 1 / sqrt(dev->contrast) : 0;
        dpx[0] = fabs(t) > a0 ? 1 : 0;
    }
    return c;
}

static double sinc(double x) { return gsl_sf_sinc(x); }

/* The derivative of a ROWS pair's mean, (e^{i theta1} + e^{i theta2}) / 2 = t on
 * continuous levels: exactly 1 (the pixels' square-root kinks at |t| = 1 cancel, and
 * their derivatives' mean, 0.5 i (e^{i theta2} - e^{i theta1}) / sqrt(1 - t^2), loses
 * its digits near there); the straight-through estimator on levels. */
static double complex rows_derivative(void)
{
    return 1;
}

/* The input pixels of one row (w: n values in [−1, 1]) into buf (Lc, zero elsewhere). */
static void input_pixels(const acdc_compiler_surrogate *g, const double *w, fftw_complex *buf,
                         double complex *dp)
{
    memset(buf, 0, g->Lc * sizeof *buf);
    for (size_t j = 0; j < g->n; j++) {
        double complex px[2], d[2];
        pixels(&g->in_dev, w[j], px, d);
        if (g->rows_in) {   /* the strip's zero order: the pair's mean */
            px[0] = 0.5 * (px[0] + px[1]);
            d[0] = rows_derivative();
        }
        for (int b = 0; b < g->pin; b++) {
            buf[g->lay0[j] * (size_t)g->pin + (size_t)b] = px[b];
            buf[g->lay1[j] * (size_t)g->pin + (size_t)b] = px[b];
            if (dp)
                dp[j * (size_t)g->pin + (size_t)b] = d[b];
        }
    }
}

/* The spectra of the kernels for Fourier pixels tau, one per pair of lens terms:
 * Hf[m T + m'] = FWD(Q · DFT_N(tau B Ψ_{m,m'})). */
static void kernel(acdc_compiler_surrogate *g, const double complex *tau, fftw_complex *Hf)
{
    const size_t T = (size_t)g->T, T2 = T * T;
    for (size_t mm = 0; mm < T2; mm++) {
        fftw_complex *h = Hf + mm * g->Lc;
        /* Ψ_{m,m'} = c_m c_m' = Ψ_{m',m}: the lower triangle is the upper's copy */
        if (mm / T > mm % T) {
            memcpy(h, Hf + (mm % T * T + mm / T) * g->Lc, g->Lc * sizeof *h);
            continue;
        }
        const double complex *psi = g->psi + mm * g->npx_f;
        memset(g->bufN, 0, g->N * sizeof *g->bufN);
        for (size_t c = 0; c < g->npx_f; c++)
            g->bufN[c] = tau[c] * g->B[c] * psi[c];
        fftw_execute(g->pn);
        for (size_t r = 0; r < g->Lc; r++)
            h[r] = g->Q[r] * g->bufN[r % g->N];
        fftw_execute_dft(g->pl_f, h, h);
    }
}

/* One row's camera field: p (Lc values, the input pixels, zero beyond them) → E on
 * every camera sample j, E_j = Σ_m (y_j/R)^m Σ_m' corr(p (x/R)^m', H_{m,m'})(P_in j),
 * written to e (M values).  buf: (T + 1) × Lc of scratch (p may be its first array). */
static void optics(const acdc_compiler_surrogate *g, const fftw_complex *Hf, const fftw_complex *p,
                   fftw_complex *buf, double complex *e)
{
    const size_t T = (size_t)g->T, Lc = g->Lc, pin = (size_t)g->pin;
    fftw_complex *q = buf + Lc, *acc = buf;
    for (size_t m1 = 0; m1 < T; m1++) {
        fftw_complex *qm = q + m1 * Lc;
        const double *x = g->xin + m1 * g->npx_in;
        memset(qm, 0, Lc * sizeof *qm);
        for (size_t a = 0; a < g->npx_in; a++)
            qm[a] = p[a] * x[a];
        fftw_execute_dft(g->pl_b, qm, qm);
    }
    memset(e, 0, g->M * sizeof *e);
    for (size_t m = 0; m < T; m++) {
        memset(acc, 0, Lc * sizeof *acc);
        for (size_t m1 = 0; m1 < T; m1++) {
            const fftw_complex *h = Hf + (m * T + m1) * Lc, *qm = q + m1 * Lc;
            for (size_t k = 0; k < Lc; k++)
                acc[k] += acdc_optics_cmul(h[k], qm[k]);
        }
        fftw_execute_dft(g->pl_b, acc, acc);
        const double *y = g->ycam + m * g->M;
        for (size_t j = 0; j < g->M; j++)
            e[j] += y[j] * acc[pin * j] / (double)Lc;
    }
}

/* A mask value W / gm as shown: clipped to [−1, 1] (acdc_compiler_clip()), *sat set
 * when it was (its gradient then 0 but through gm). */
static double clip_value(double v, unsigned char *sat)
{
    const double c = acdc_compiler_clip(v);
    *sat = c != v;
    return c;
}

/* ---- rank 2 ----------------------------------------------------------------------- */

/* The mask of layer L on a rank-2 system: W = D d Dᵀ (d as a side × side grid), t, and
 * the Fourier pixels of every k × k superpixel with this step's phase errors. */
static void mask2(acdc_compiler_surrogate *g, const acdc_layer *L, size_t layer, uint64_t tick,
                  struct layer_state *ls)
{
    const size_t side = g->side, fm = g->fm, k = g->k, w = k * fm;
    double *tmp = ls->t + fm * fm;   /* fm × side scratch after the fm² values */
    for (size_t q = 0; q < fm; q++)
        for (size_t j = 0; j < side; j++) {
            double v = 0;
            for (size_t i = 0; i < side; i++)
                v += g->D[q * side + i] * L->d[i * side + j];
            tmp[q * side + j] = v;
        }
    double gm = 0;
    size_t kmax = 0;
    for (size_t qy = 0; qy < fm; qy++)
        for (size_t qx = 0; qx < fm; qx++) {
            double v = 0;
            for (size_t j = 0; j < side; j++)
                v += tmp[qy * side + j] * g->D[qx * side + j];
            ls->t[qy * fm + qx] = v;
            if (fabs(v) > gm) {
                gm = fabs(v);
                kmax = qy * fm + qx;
            }
        }
    ls->gm = gm > 0 ? g->clip * gm : 1;
    ls->kmax = kmax;
    for (size_t q = 0; q < fm * fm; q++)
        ls->t[q] = clip_value(ls->t[q] / ls->gm, ls->sat + q);
    gsl_rng *r = NULL;
    if (g->sigma_f > 0 && (r = gsl_rng_alloc(gsl_rng_mt19937)))
        gsl_rng_set(r, (unsigned long)acdc_optics_field_seed(acdc_optics_field_seed(g->o.seed, tick),
                                                             2 * layer + 1));
    for (size_t qy = 0; qy < fm; qy++)
        for (size_t qx = 0; qx < fm; qx++) {
            double complex px[2], d[2];
            if (pixels(&g->f_dev, ls->t[qy * fm + qx], px, d) == 1) {
                px[1] = px[0];
                d[1] = d[0];
            }
            for (size_t iy = 0; iy < k; iy++)
                for (size_t ix = 0; ix < k; ix++) {
                    const size_t c = (qy * k + iy) * w + qx * k + ix, b = g->pat_f[iy * k + ix];
                    double complex e = r ? cexp(I * gsl_ran_gaussian_ziggurat(r, g->sigma_f)) : 1;
                    ls->tau[c] = px[b] * e;
                    ls->dtau[c] = d[b] * e;
                }
        }
    gsl_rng_free(r);
}

/* The rank-2 kernels for Fourier pixels tau: X̂(r) = Σ_c x_c e^{−2πi c·r/N} on r < Lc
 * per axis, one DFT of Ns² per sub-pixel offset i (c = k q + i); H = Q ⊗ Q · X̂; and per
 * input pattern b, G_b(m) = Σ_{i of pattern b} H(k m + i) on the Ls² samples, whose
 * spectra go to Hf (nb × Ls²). */
static void kernel2(acdc_compiler_surrogate *g, const double complex *tau, fftw_complex *Hf)
{
    const size_t k = g->k, fm = g->fm, Ns = g->Ns, Lc = g->Lc, Ls = g->Ls, w = k * fm;
    const size_t NN = Ns * Ns;
    fftw_complex *X = g->xacc;
    /* one DFT per sub-pixel offset, each into its own buffer (in parallel) */
#pragma omp parallel for num_threads(g->nthreads) schedule(static)
    for (size_t sp = 0; sp < k * k; sp++) {
        const size_t iy = sp / k, ix = sp % k;
        fftw_complex *f = g->sub + sp * NN;
        memset(f, 0, NN * sizeof *f);
        for (size_t qy = 0; qy < fm; qy++)
            for (size_t qx = 0; qx < fm; qx++) {
                const size_t cy = qy * k + iy, cx = qx * k + ix;
                f[qy * Ns + qx] = tau[cy * w + cx] * g->B[cy] * g->B[cx];
            }
        fftw_execute_dft(g->pn2_f, f, f);
    }
    /* X̂(r) = Σ_i tw_i(r) F_i(r mod Ns): each row of r by one thread, the offsets in order */
#pragma omp parallel for num_threads(g->nthreads) schedule(static)
    for (size_t ry = 0; ry < Lc; ry++) {
        fftw_complex *xr = X + ry * Lc;
        memset(xr, 0, Lc * sizeof *xr);
        for (size_t sp = 0; sp < k * k; sp++) {
            const size_t iy = sp / k, ix = sp % k;
            const double complex t = g->tw[iy * Lc + ry];
            const double complex *tx = g->tw + ix * Lc;
            const fftw_complex *row = g->sub + sp * NN + (ry % Ns) * Ns;
            for (size_t rx = 0, m = 0; rx < Lc; rx++, m = m + 1 == Ns ? 0 : m + 1)
                xr[rx] += t * tx[rx] * row[m];
        }
    }
    for (int b = 0; b < g->nb; b++) {
        fftw_complex *G = Hf + (size_t)b * Ls * Ls;
#pragma omp parallel for num_threads(g->nthreads) schedule(static)
        for (size_t my = 0; my < Ls; my++)
            for (size_t mx = 0; mx < Ls; mx++) {
                double complex v = 0;
                for (size_t iy = 0; iy < k; iy++)
                    for (size_t ix = 0; ix < k; ix++) {
                        if (g->pat_in[iy * k + ix] != b)
                            continue;
                        const size_t ry = k * my + iy, rx = k * mx + ix;
                        v += g->Q[ry] * g->Q[rx] * X[ry * Lc + rx];
                    }
                G[my * Ls + mx] = v;
            }
        fftw_execute_dft(g->ps_f, G, G);
    }
}

/* One row's input patterns: P (nb × Ls², zero beyond the M × M samples) from w; dp (if
 * not NULL, n × 2) the pixels' derivatives of each component. */
static void input2(const acdc_compiler_surrogate *g, const double *w, fftw_complex *P,
                   double complex *dp)
{
    const size_t Ls = g->Ls;
    memset(P, 0, (size_t)g->nb * Ls * Ls * sizeof *P);
    for (size_t j = 0; j < g->n; j++) {
        double complex px[2], d[2];
        if (pixels(&g->in_dev, w[j], px, d) == 1) {
            px[1] = px[0];
            d[1] = d[0];
        }
        for (int copy = 0; copy < 4; copy++) {
            const size_t smp = g->place[j * 4 + (size_t)copy];
            const size_t sy = smp / g->M, sx = smp % g->M;
            for (int b = 0; b < g->nb; b++)
                P[(size_t)b * Ls * Ls + sy * Ls + sx] = px[b];
        }
        if (dp) {
            dp[2 * j] = d[0];
            dp[2 * j + 1] = d[1];
        }
    }
}

/* One row's camera field on the M × M samples, E(j) = Σ_b Σ_s P_b(s) G_b(s + j): P (nb ×
 * Ls², overwritten) from input2(), acc (Ls²) scratch, e (M² values). */
static void optics2(const acdc_compiler_surrogate *g, const fftw_complex *Hf, fftw_complex *P,
                    fftw_complex *acc, double complex *e)
{
    const size_t Ls = g->Ls, L2 = Ls * Ls, M = g->M;
    memset(acc, 0, L2 * sizeof *acc);
    for (int b = 0; b < g->nb; b++) {
        fftw_complex *pb = P + (size_t)b * L2;
        const fftw_complex *G = Hf + (size_t)b * L2;
        fftw_execute_dft(g->ps_b, pb, pb);
        for (size_t i = 0; i < L2; i++)
            acc[i] += acdc_optics_cmul(G[i], pb[i]);
    }
    fftw_execute_dft(g->ps_b, acc, acc);
    for (size_t jy = 0; jy < M; jy++)
        for (size_t jx = 0; jx < M; jx++)
            e[jy * M + jx] = acc[jy * Ls + jx] / (double)L2;
}

/* The adjoint of kernel2() for the summed ḡ of G_b (gG: nb × Ls², their spectra summed
 * over the batch, overwritten): ḡ of the Fourier pixels into gtau ((k fm)² values). */
static void kernel2_adjoint(acdc_compiler_surrogate *g, fftw_complex *gG, double complex *gtau)
{
    const size_t k = g->k, fm = g->fm, Ns = g->Ns, Lc = g->Lc, Ls = g->Ls, w = k * fm;
    const size_t L2 = Ls * Ls, NN = Ns * Ns;
    fftw_complex *X = g->xacc;
    /* ḡ_G = (1/L²) BWD(Σ FWD(conj P) FWD(ĝ)); ḡ_X̂(r) = conj(Q Q) ḡ_G_b(m), r = k m + i */
    for (int b = 0; b < g->nb; b++)
        fftw_execute_dft(g->ps_b, gG + (size_t)b * L2, gG + (size_t)b * L2);
#pragma omp parallel for num_threads(g->nthreads) schedule(static)
    for (size_t ry = 0; ry < Lc; ry++)
        for (size_t rx = 0; rx < Lc; rx++) {
            const size_t my = ry / k, mx = rx / k, iy = ry % k, ix = rx % k;
            const int b = g->pat_in[iy * k + ix];
            X[ry * Lc + rx] = conj(g->Q[ry] * g->Q[rx]) * gG[(size_t)b * L2 + my * Ls + mx] /
                              (double)L2;
        }
    /* per sub-pixel offset (in parallel, each its own buffer and its own pixels):
     * fold conj(tw) ḡ_X̂ modulo Ns, BWD, ḡ_τ = conj(B B) ḡ_x */
#pragma omp parallel for num_threads(g->nthreads) schedule(static)
    for (size_t sp = 0; sp < k * k; sp++) {
        const size_t iy = sp / k, ix = sp % k;
        fftw_complex *f = g->sub + sp * NN;
        memset(f, 0, NN * sizeof *f);
        const double complex *ty = g->tw + iy * Lc, *tx = g->tw + ix * Lc;
        for (size_t ry = 0; ry < Lc; ry++) {
            fftw_complex *row = f + (ry % Ns) * Ns;
            const fftw_complex *xr = X + ry * Lc;
            const double complex t = conj(ty[ry]);
            for (size_t rx = 0, m = 0; rx < Lc; rx++, m = m + 1 == Ns ? 0 : m + 1)
                row[m] += t * conj(tx[rx]) * xr[rx];
        }
        fftw_execute_dft(g->pn2_b, f, f);
        for (size_t qy = 0; qy < fm; qy++)
            for (size_t qx = 0; qx < fm; qx++) {
                const size_t cy = qy * k + iy, cx = qx * k + ix;
                gtau[cy * w + cx] = conj(g->B[cy] * g->B[cx]) * f[qy * Ns + qx];
            }
    }
}

/* ---- the layer operator -------------------------------------------------------------- */

static int check_model(const acdc_compiler_surrogate *g, const acdc_model *m, size_t layer,
                       size_t batch)
{
    if (m->n != g->n || m->n_layers != g->K || layer >= g->K)
        return acdc_util_error(ACDC_UTIL_EUSAGE,
                               "the hardware surrogate was made for %zu layers of "
                               "n = %zu, not this model (%zu layers of n = %zu)", g->K, g->n,
                               m->n_layers, m->n);
    if (batch > g->batch)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "batch %zu exceeds the surrogate's %zu", batch,
                               g->batch);
    return ACDC_UTIL_OK;
}

/* The mask of layer L: t, gm, kmax, the pixels with this step's phase errors. */
static void mask(acdc_compiler_surrogate *g, const acdc_layer *L, size_t layer, uint64_t tick,
                 struct layer_state *ls)
{
    const size_t n = g->n, fm = g->fm;
    double gm = 0;
    size_t kmax = 0;
    for (size_t k = 0; k < fm; k++) {
        const double *row = g->D + k * n;
        double v = 0;
        for (size_t j = 0; j < n; j++)
            v += row[j] * L->d[j];
        ls->t[k] = v;
        if (fabs(v) > gm) {
            gm = fabs(v);
            kmax = k;
        }
    }
    ls->gm = gm > 0 ? g->clip * gm : 1;
    ls->kmax = kmax;
    /* the largest value and its mirror, equal but for rounding, both exactly at full
     * scale: arccos near 1 would turn a rounding of 1e-16 into a phase of 1e-8 */
    for (size_t k = 0; k < fm; k++) {
        ls->t[k] = clip_value(ls->t[k] / ls->gm, ls->sat + k);
        if (fabs(ls->t[k]) > 1 - 1e-12)
            ls->t[k] = ls->t[k] > 0 ? 1 : -1;
    }
    gsl_rng *r = NULL;
    if (g->sigma_f > 0 && (r = gsl_rng_alloc(gsl_rng_mt19937)))
        gsl_rng_set(r, (unsigned long)acdc_optics_field_seed(acdc_optics_field_seed(g->o.seed, tick),
                                                             2 * layer + 1));
    for (size_t k = 0; k < fm; k++) {
        double complex px[2], d[2];
        pixels(&g->f_dev, ls->t[k], px, d);
        if (g->rows_f) {   /* the pair's mean, each level the mean of the strip's pixels
                              on it, every one with its own phase error */
            double complex e0 = r ? acdc_optics_phase_error_mean(r, g->sigma_f, g->strip_f) : 1;
            double complex e1 = r ? acdc_optics_phase_error_mean(r, g->sigma_f, g->strip_f) : 1;
            ls->tau[k] = 0.5 * (px[0] * e0 + px[1] * e1);
            ls->dtau[k] = 1 - ls->t[k] * ls->t[k] > 1e-9 ? 0.5 * (d[0] * e0 + d[1] * e1)
                                                         : 0.5 * (e0 + e1);   /* limit */
            continue;
        }
        for (int b = 0; b < g->pf; b++) {
            const size_t c = k * (size_t)g->pf + (size_t)b;
            double complex e = r ? cexp(I * gsl_ran_gaussian_ziggurat(r, g->sigma_f)) : 1;
            ls->tau[c] = px[b] * e;
            ls->dtau[c] = d[b] * e;
        }
    }
    gsl_rng_free(r);
}

/* The camera's reading A (units: the model's output per s·gm) of the mean field eps on
 * one pixel, and which ports stayed below the full well. */
static double camera(const acdc_compiler_surrogate *g, size_t layer, double complex eps,
                     gsl_rng *r, unsigned char live[2])
{
    const double complex gh = g->gcal / cabs(g->gcal);
    const double ag = cabs(g->gcal);
    live[0] = live[1] = 1;
    if (!g->o.noise && !g->o.clip)
        return creal(eps * conj(gh)) / ag;
    const double phi = g->phi[layer], rho = g->rho[layer];
    double np = phi * pow(cabs(eps + rho * gh), 2) + g->dark[layer];
    double nm = phi * pow(cabs(eps - rho * gh), 2) + g->dark[layer];
    if (g->o.clip) {
        live[0] = np < g->fw;
        live[1] = nm < g->fw;
        np = fmin(np, g->fw);
        nm = fmin(nm, g->fw);
    }
    double dn = np - nm;
    if (g->o.noise && r) {
        const double var = acdc_compiler_detection_variance(&g->cam, g->tau[layer], phi, rho,
                                                            cabs(eps));
        dn += gsl_ran_gaussian_ziggurat(r, sqrt(var / g->frames[layer]));
    }
    return dn / (4 * phi * rho * ag);
}

static int op_forward(void *ctx, const acdc_model *m, size_t layer, uint64_t tick,
                      size_t batch, const double *x, double *z)
{
    acdc_compiler_surrogate *g = ctx;
    int rc = check_model(g, m, layer, batch);
    if (rc)
        return rc;
    const acdc_layer *L = &m->layers[layer];
    struct layer_state *ls = &g->ls[layer];
    const size_t n = g->n;
    if (g->rank == 2) {
        mask2(g, L, layer, tick, ls);
        kernel2(g, ls->tau, ls->Hf);
    } else {
        mask(g, L, layer, tick, ls);
        kernel(g, ls->tau, ls->Hf);
    }
    /* the folded bias Cᵀ d_bias: the layer at zero input without a_bias */
    acdc_layer lb = *L;
    lb.a_bias = NULL;
    if (L->d_bias) {
        if ((rc = acdc_layer_forward(&lb, g->dct, 1, g->zero, ls->bias, NULL)))
            return rc;
    } else {
        memset(ls->bias, 0, n * sizeof *ls->bias);
    }
    ls->rows = batch;
    double complex *ebuf = g->ebuf;
#pragma omp parallel for num_threads(g->nthreads) schedule(static)
    for (size_t b = 0; b < batch; b++) {
        fftw_complex *buf = g->tbuf + (size_t)omp_get_thread_num() * g->tstride;
        double *w = ls->w + b * n, *zr = z + b * n;
        const double *xr = x + b * n;
        double smax = 0;
        size_t jm = 0;
        for (size_t j = 0; j < n; j++) {
            w[j] = L->a[j] * xr[j] + (L->a_bias ? L->a_bias[j] : 0);
            if (fabs(w[j]) > smax) {
                smax = fabs(w[j]);
                jm = j;
            }
        }
        ls->s[b] = smax;
        ls->jmax[b] = jm;
        if (!(smax > 0)) {
            memcpy(zr, ls->bias, n * sizeof *zr);
            memset(ls->A + b * n, 0, n * sizeof *ls->A);
            continue;
        }
        for (size_t j = 0; j < n; j++)
            w[j] /= smax;
        double complex *e = ebuf + (size_t)omp_get_thread_num() * g->plane;
        if (g->rank == 2) {
            input2(g, w, buf, NULL);
            optics2(g, ls->Hf, buf, buf + (size_t)g->nb * g->Ls * g->Ls, e);
        } else {
            fftw_complex *p = buf + (size_t)(g->T + 1) * g->Lc;
            input_pixels(g, w, p, NULL);
            optics(g, ls->Hf, p, buf, e);
        }
        gsl_rng *r = NULL;
        if (g->o.noise && (r = gsl_rng_alloc(gsl_rng_mt19937)))
            gsl_rng_set(r, (unsigned long)acdc_optics_field_seed(
                               acdc_optics_field_seed(acdc_optics_field_seed(g->o.seed, tick),
                                                      2 * layer),
                               b));
        for (size_t j = 0; j < n; j++) {
            const double complex ej = e[g->pix[layer * n + j]];
            ls->eps[b * n + j] = ej;
            double a = camera(g, layer, ej, r, ls->live + 2 * (b * n + j));
            ls->A[b * n + j] = a;
            zr[j] = smax * ls->gm * a + ls->bias[j];
        }
        gsl_rng_free(r);
    }
    return ACDC_UTIL_OK;
}

/* The layer's electronics in the backward pass, for both ranks: ḡ of d_bias (the
 * folded bias Cᵀ d_bias: C Σ dz, which the numeric layer's backward pass at zero input
 * gives), of a and a_bias, and dx, from gu (batch × n: ḡ of u = a ⊙ x + a_bias). */
static int backward_rest(acdc_compiler_surrogate *g, const acdc_layer *L, size_t batch,
                         const double *x, const double *dz, double *dx, acdc_grad *gr,
                         const double *gu)
{
    const size_t n = g->n;
    int rc;
    if (gr && gr->d_bias && L->d_bias) {
        memset(g->acc, 0, n * sizeof *g->acc);
        for (size_t b = 0; b < batch; b++)
            for (size_t j = 0; j < n; j++)
                g->acc[j] += dz[b * n + j];
        acdc_grad gb = {NULL, NULL, NULL, gr->d_bias};
        if ((rc = acdc_layer_backward(L, g->dct, 1, g->zero, g->zero, g->acc, NULL, &gb)))
            return rc;
    }
    for (size_t b = 0; b < batch; b++) {
        const double *gur = gu + b * n, *xr = x + b * n;
        for (size_t j = 0; j < n; j++) {
            if (gr && gr->a)
                gr->a[j] += gur[j] * xr[j];
            if (gr && gr->a_bias && L->a_bias)
                gr->a_bias[j] += gur[j];
        }
        if (dx)
            for (size_t j = 0; j < n; j++)
                dx[b * n + j] = L->a[j] * gur[j];
    }
    return ACDC_UTIL_OK;
}

/* Rank 2, one row: from the ḡ of the read fields (ge, n values) the ḡ of w (gw, n) and
 * the row's part of Σ FWD(conj P_b) FWD(ĝ) into bacc (nb × Ls²).  buf: (2 nb + 3) Ls². */
static void row_backward2(const acdc_compiler_surrogate *g, size_t layer,
                          const double complex *ge, const double *w, double *gw,
                          fftw_complex *buf, fftw_complex *bacc, double complex *dp)
{
    const size_t n = g->n, Ls = g->Ls, L2 = Ls * Ls, M = g->M;
    const int nb = g->nb;
    fftw_complex *P = buf, *gP = P + (size_t)nb * L2, *gb = gP + (size_t)nb * L2;
    fftw_complex *G1 = gb + L2, *acc = G1 + L2;
    const fftw_complex *Hf = g->ls[layer].Hf;
    memset(gb, 0, L2 * sizeof *gb);
    for (size_t j = 0; j < n; j++) {
        const size_t jj = g->pix[layer * n + j];
        gb[(jj / M) * Ls + jj % M] = ge[j];
    }
    for (size_t i = 0; i < L2; i++)
        G1[i] = conj(gb[i]);
    fftw_execute_dft(g->ps_b, G1, G1);
    /* ḡ_P_b(s) = conj((1/L²) BWD(Ĝ_b ⊙ BWD(conj ĝ)))(s) */
    for (int b = 0; b < nb; b++) {
        const fftw_complex *G = Hf + (size_t)b * L2;
        fftw_complex *gpb = gP + (size_t)b * L2;
        for (size_t i = 0; i < L2; i++)
            gpb[i] = acdc_optics_cmul(G[i], G1[i]);
        fftw_execute_dft(g->ps_b, gpb, gpb);
    }
    input2(g, w, P, dp);
    for (size_t j = 0; j < n; j++) {
        double v = 0;
        for (int copy = 0; copy < 4; copy++) {
            const size_t smp = g->place[j * 4 + (size_t)copy];
            const size_t at = (smp / M) * Ls + smp % M;
            for (int b = 0; b < nb; b++)
                v += creal(conj(dp[2 * j + (size_t)b]) * conj(gP[(size_t)b * L2 + at])) /
                     (double)L2;
        }
        gw[j] = v;
    }
    fftw_execute_dft(g->ps_f, gb, gb);
    for (int b = 0; b < nb; b++) {
        fftw_complex *pb = P + (size_t)b * L2, *ba = bacc + (size_t)b * L2;
        for (size_t i = 0; i < L2; i++)
            acc[i] = conj(pb[i]);
        fftw_execute_dft(g->ps_f, acc, acc);
        for (size_t i = 0; i < L2; i++)
            ba[i] += acdc_optics_cmul(acc[i], gb[i]);
    }
}

/* Rank 2, the mask's part of the backward pass: the blocks' sums in order, the adjoint
 * of the kernels, the pixels (straight-through), the normalisation by max|W| and the
 * design: ḡ_d += Dᵀ ḡ_W D. */
static int backward2_mask(acdc_compiler_surrogate *g, struct layer_state *ls, size_t nblk,
                          size_t batch, const double *ggm, acdc_grad *gr)
{
    const size_t L2 = g->Ls * g->Ls, nbL = (size_t)g->nb * L2, fm = g->fm, k = g->k;
    const size_t w = k * fm, side = g->side;
    for (size_t blk = 1; blk < nblk; blk++)
        for (size_t i = 0; i < nbL; i++)
            g->gh[i] += g->gh[blk * nbL + i];
    double complex *gtau = malloc(w * w * sizeof *gtau);
    double *gt = malloc(fm * fm * sizeof *gt), *tmp = malloc(fm * side * sizeof *tmp);
    if (!gtau || !gt || !tmp) {
        free(gtau);
        free(gt);
        free(tmp);
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for the surrogate's backward pass");
    }
    kernel2_adjoint(g, g->gh, gtau);
    double gsum = 0, gtt = 0;
    for (size_t b = 0; b < batch; b++)
        gsum += ggm[b];
    for (size_t qy = 0; qy < fm; qy++)
        for (size_t qx = 0; qx < fm; qx++) {
            double v = 0;
            for (size_t iy = 0; iy < k; iy++)
                for (size_t ix = 0; ix < k; ix++) {
                    const size_t c = (qy * k + iy) * w + qx * k + ix;
                    v += creal(conj(ls->dtau[c]) * gtau[c]);
                }
            const size_t q = qy * fm + qx;
            gt[q] = ls->sat[q] ? 0 : v;
            gtt += gt[q] * ls->t[q];
        }
    for (size_t q = 0; q < fm * fm; q++)
        gt[q] /= ls->gm;
    gt[ls->kmax] += (ls->t[ls->kmax] < 0 ? -g->clip : g->clip) * (gsum - gtt / ls->gm);
    if (gr && gr->d) {
        /* ḡ_d = Dᵀ ḡ_W D: tmp = ḡ_W D (fm × side), then Dᵀ tmp */
        for (size_t qy = 0; qy < fm; qy++)
            for (size_t j = 0; j < side; j++) {
                double v = 0;
                for (size_t qx = 0; qx < fm; qx++)
                    v += gt[qy * fm + qx] * g->D[qx * side + j];
                tmp[qy * side + j] = v;
            }
        for (size_t i = 0; i < side; i++)
            for (size_t j = 0; j < side; j++) {
                double v = 0;
                for (size_t qy = 0; qy < fm; qy++)
                    v += g->D[qy * side + i] * tmp[qy * side + j];
                gr->d[i * side + j] += v;
            }
    }
    free(gtau);
    free(gt);
    free(tmp);
    return ACDC_UTIL_OK;
}

static int op_backward(void *ctx, const acdc_model *m, size_t layer, size_t batch,
                       const double *x, const double *dz, double *dx, acdc_grad *gr)
{
    acdc_compiler_surrogate *g = ctx;
    int rc = check_model(g, m, layer, batch);
    if (rc)
        return rc;
    struct layer_state *ls = &g->ls[layer];
    if (batch != ls->rows)
        return acdc_util_error(ACDC_UTIL_EUSAGE,
                               "the surrogate's backward pass of layer %zu has %zu "
                               "rows; its forward pass had %zu", layer, batch, ls->rows);
    const acdc_layer *L = &m->layers[layer];
    const size_t n = g->n, Lc = g->Lc, N = g->N, pin = (size_t)g->pin;
    const size_t nblk = (batch + BLOCK - 1) / BLOCK;
    const double complex gh = g->gcal / cabs(g->gcal);
    const double ag = cabs(g->gcal), scale = 1.0 / (double)Lc;
    /* per row: ḡ of u (gu), the explicit ḡ of gm (ggm); per thread: ḡ of the pixels */
    double *gu = malloc(batch * n * sizeof *gu), *ggm = calloc(batch, sizeof *ggm);
    double complex *dp = malloc((size_t)g->nthreads * n * pin * sizeof *dp);
    double complex *gvec = malloc((size_t)g->nthreads * 3 * n * sizeof *gvec);
    double *gwr = malloc((size_t)g->nthreads * n * sizeof *gwr);
    if (!gu || !ggm || !dp || !gvec || !gwr) {
        free(gu);
        free(ggm);
        free(dp);
        free(gvec);
        free(gwr);
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for the surrogate's backward pass");
    }
    const size_t T = (size_t)g->T, T2 = T * T;
    memset(g->gh, 0, g->gh_len * sizeof *g->gh);
#pragma omp parallel for num_threads(g->nthreads) schedule(static)
    for (size_t blk = 0; blk < nblk; blk++) {
        const size_t th = (size_t)omp_get_thread_num();
        /* per thread: G1_m = BWD(conj ĝ_m), G2_m = FWD(ĝ_m) (T each), acc, p, F */
        fftw_complex *G1 = g->tbuf + th * g->tstride, *G2 = G1 + T * Lc;
        fftw_complex *acc = G2 + T * Lc, *gp = acc + Lc, *F = gp + Lc;
        fftw_complex *bacc = g->gh + blk * T2 * Lc;
        double complex *dpr = dp + th * n * pin;
        /* rank 2: ḡ of the read fields, of w, the pixels' derivatives */
        double complex *gev = gvec + th * 3 * n, *dp2 = gev + n;
        double *gwv = gwr + th * n;
        for (size_t b = blk * BLOCK; b < batch && b < (blk + 1) * BLOCK; b++) {
            const double s = ls->s[b];
            double *gur = gu + b * n;
            memset(gur, 0, n * sizeof *gur);
            if (!(s > 0))
                continue;
            const double *w = ls->w + b * n, *dzr = dz + b * n;
            /* ḡ of the camera's mean field on each read pixel (ge), then of term m's
             * correlation at m' = P_in j: (y_j/R)^m ge */
            for (size_t m1 = 0; m1 < T && g->rank != 2; m1++)
                memset(G2 + m1 * Lc, 0, Lc * sizeof *G2);
            double gs = 0, gg = 0;
            for (size_t j = 0; j < n; j++) {
                const double A = ls->A[b * n + j], gA = dzr[j] * s * ls->gm;
                gs += dzr[j] * ls->gm * A;
                gg += dzr[j] * s * A;
                const double complex e = ls->eps[b * n + j];
                const unsigned char *lv = ls->live + 2 * (b * n + j);
                double complex ge;
                if (!g->o.noise && !g->o.clip) {
                    ge = gh * (gA / ag);
                } else {
                    /* A = (N+ − N−)/(4 φ ρ |g|), N± = φ|ε ± ρ ĝ|² + D (flat where clipped;
                     * the noise is a draw, not differentiated) */
                    const double phi = g->phi[layer], rho = g->rho[layer];
                    const double k = gA / (4 * phi * rho * ag);
                    ge = (lv[0] ? 2 * phi * (e + rho * gh) * k : 0) -
                         (lv[1] ? 2 * phi * (e - rho * gh) * k : 0);
                }
                const size_t jj = g->pix[layer * n + j];
                if (g->rank == 2)
                    gev[j] = ge;
                else
                    for (size_t m1 = 0; m1 < T; m1++)
                        G2[m1 * Lc + pin * jj] = g->ycam[m1 * g->M + jj] * ge;
            }
            ggm[b] = gg;
            if (g->rank == 2) {
                double gws2 = 0;
                row_backward2(g, layer, gev, w, gwv, G1, g->gh + blk * g->nb * g->Ls * g->Ls,
                              dp2);
                for (size_t j = 0; j < n; j++) {
                    gur[j] = gwv[j] / s;
                    gws2 += gwv[j] * w[j];
                }
                const size_t jm2 = ls->jmax[b];
                gur[jm2] += (w[jm2] < 0 ? -1 : 1) * (gs - gws2 / s);
                continue;
            }
            for (size_t m1 = 0; m1 < T; m1++) {
                fftw_complex *g1 = G1 + m1 * Lc, *g2 = G2 + m1 * Lc;
                for (size_t k = 0; k < Lc; k++)
                    g1[k] = conj(g2[k]);
                fftw_execute_dft(g->pl_b, g1, g1);
                fftw_execute_dft(g->pl_f, g2, g2);
            }
            /* ḡ of the input pixels: Σ_m' (x_a/R)^m' conj((1/Lc) BWD(Σ_m Hf_{m,m'} G1_m))(a) */
            input_pixels(g, w, gp, dpr);
            memset(F, 0, Lc * sizeof *F);   /* F: ḡ_p, accumulated over m' */
            for (size_t m1 = 0; m1 < T; m1++) {
                memset(acc, 0, Lc * sizeof *acc);
                for (size_t m2 = 0; m2 < T; m2++) {
                    const fftw_complex *h = ls->Hf + (m2 * T + m1) * Lc, *g1 = G1 + m2 * Lc;
                    for (size_t k = 0; k < Lc; k++)
                        acc[k] += acdc_optics_cmul(h[k], g1[k]);
                }
                fftw_execute_dft(g->pl_b, acc, acc);
                const double *xa = g->xin + m1 * g->npx_in;
                for (size_t a2 = 0; a2 < g->npx_in; a2++)
                    F[a2] += xa[a2] * conj(acc[a2]) * scale;
            }
            double gws = 0;
            for (size_t j = 0; j < n; j++) {
                double gwj = 0;
                for (size_t q = 0; q < pin; q++) {
                    const double complex d = dpr[j * pin + q];
                    gwj += creal(conj(d) * F[g->lay0[j] * pin + q]) +
                           creal(conj(d) * F[g->lay1[j] * pin + q]);
                }
                gur[j] = gwj / s;
                gws += gwj * w[j];
            }
            /* s = |u_jmax|: z = s gm A(u/s) */
            const size_t jm = ls->jmax[b];
            gur[jm] += (w[jm] < 0 ? -1 : 1) * (gs - gws / s);
            /* ḡ of H_{m,m'}: Σ_a conj(p_a (x_a/R)^m') ĝ_m(r − a), summed over the block's
             * rows in order */
            for (size_t m1 = 0; m1 < T; m1++) {
                const double *xa = g->xin + m1 * g->npx_in;
                memset(F, 0, Lc * sizeof *F);
                for (size_t a2 = 0; a2 < g->npx_in; a2++)
                    F[a2] = conj(gp[a2]) * xa[a2];
                fftw_execute_dft(g->pl_f, F, F);
                for (size_t m2 = 0; m2 < T; m2++) {
                    fftw_complex *ba = bacc + (m2 * T + m1) * Lc;
                    const fftw_complex *g2 = G2 + m2 * Lc;
                    for (size_t k = 0; k < Lc; k++)
                        ba[k] += acdc_optics_cmul(F[k], g2[k]);
                }
            }
        }
    }
    free(dp);
    free(gvec);
    free(gwr);
    if (g->rank == 2) {
        rc = backward2_mask(g, ls, nblk, batch, ggm, gr);
        if (!rc)
            rc = backward_rest(g, L, batch, x, dz, dx, gr, gu);
        free(gu);
        free(ggm);
        return rc;
    }
    /* per pair: the blocks in order, ḡ_H = (1/Lc) BWD(Σ); H(r) = Q(r) X̂(r mod N) gives
     * ḡ_X̂(k) = Σ_{r ≡ k} conj(Q(r)) ḡ_H(r); ḡ_x = BWD_N(ḡ_X̂); x_c = τ_c B_c Ψ_c:
     * ḡ_τ_c = Σ_pairs conj(B_c Ψ_c) ḡ_x_c */
    double complex *gtau = calloc(g->npx_f, sizeof *gtau);
    if (!gtau) {
        free(gu);
        free(ggm);
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for the surrogate's backward pass");
    }
    for (size_t mm = 0; mm < T2; mm++) {
        fftw_complex *h = g->gh + mm * Lc;
        for (size_t blk = 1; blk < nblk; blk++)
            for (size_t k = 0; k < Lc; k++)
                h[k] += g->gh[(blk * T2 + mm) * Lc + k];
        fftw_execute_dft(g->pl_b, h, h);
        memset(g->bufN, 0, N * sizeof *g->bufN);
        for (size_t r = 0; r < Lc; r++)
            g->bufN[r % N] += conj(g->Q[r]) * h[r] * scale;
        fftw_execute_dft(g->pl_nb, g->bufN, g->bufN);
        const double complex *psi = g->psi + mm * g->npx_f;
        for (size_t c = 0; c < g->npx_f; c++)
            gtau[c] += conj(g->B[c] * psi[c]) * g->bufN[c];
    }
    /* x_c = τ_c B_c: ḡ_τ = conj(B) ḡ_x; t_k → its pixels (straight-through) */
    double gsum = 0, gtt = 0;
    for (size_t b = 0; b < batch; b++)
        gsum += ggm[b];
    double *gt = malloc(g->fm * sizeof *gt);
    if (!gt) {
        free(gu);
        free(ggm);
        free(gtau);
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for the surrogate's backward pass");
    }
    for (size_t k = 0; k < g->fm; k++) {
        double v = 0;
        for (int q = 0; q < g->pf; q++) {
            const size_t c = k * (size_t)g->pf + (size_t)q;
            v += creal(conj(ls->dtau[c]) * gtau[c]);
        }
        gt[k] = ls->sat[k] ? 0 : v;
        gtt += gt[k] * ls->t[k];
    }
    /* W = gm t where not clipped, gm = c |W_kmax|: ḡ_W = ḡ_t / gm (0 where clipped), and
     * at kmax c·sign·(ḡ_gm − Σ ḡ_t t / gm) */
    for (size_t k = 0; k < g->fm; k++)
        gt[k] /= ls->gm;
    gt[ls->kmax] += (ls->t[ls->kmax] < 0 ? -g->clip : g->clip) * (gsum - gtt / ls->gm);
    free(gtau);
    if (gr && gr->d)
        for (size_t k = 0; k < g->fm; k++) {
            const double *row = g->D + k * n;
            for (size_t j = 0; j < n; j++)
                gr->d[j] += row[j] * gt[k];
        }
    free(gt);
    rc = backward_rest(g, L, batch, x, dz, dx, gr, gu);
    free(gu);
    free(ggm);
    return rc;
}

/* ---- allocation -------------------------------------------------------------------- */

const acdc_layer_op *acdc_compiler_surrogate_op(acdc_compiler_surrogate *g) { return &g->op; }

static fftw_plan plan1(size_t len, fftw_complex *a, int sign)
{
    fftw_plan p;
#pragma omp critical(acdc_fftw_planner)
    p = fftw_plan_dft_1d((int)len, a, a, sign, FFTW_ESTIMATE);
    return p;
}

/* The design matrix D (fm × n): column j is the mask the compiler designs for d = e_j
 * (compile.c's choice: the pixel-aware design for R >= 1, the point values for R = 0). */
static int design_matrix(acdc_compiler_surrogate *g, const acdc_compiler_system *s)
{
    const size_t n = g->n, fm = g->fm;
    double *d = calloc(n, sizeof *d), *col = malloc(fm * sizeof *col);
    int rc = ACDC_UTIL_OK;
    if (!d || !col)
        rc = acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for the surrogate's mask design");
    for (size_t j = 0; !rc && j < n; j++) {
        d[j] = 1;
        if (s->profile.fourier_oversample > 0)
            rc = acdc_compiler_fourier_design(&s->profile, d, n, 1, 1, col);
        else
            acdc_compiler_fourier_values(d, n, col);
        d[j] = 0;
        for (size_t k = 0; !rc && k < fm; k++)
            g->D[k * n + j] = col[k];
    }
    free(d);
    free(col);
    return rc;
}

static int alloc_layer(struct layer_state *l, size_t n, size_t fm, size_t npx_f, size_t Lc,
                       size_t T2, size_t batch)
{
    l->t = malloc(fm * sizeof *l->t);
    l->sat = malloc(fm);
    l->tau = malloc(npx_f * sizeof *l->tau);
    l->dtau = malloc(npx_f * sizeof *l->dtau);
    l->Hf = fftw_alloc_complex(T2 * Lc);
    l->bias = malloc(n * sizeof *l->bias);
    l->w = malloc(batch * n * sizeof *l->w);
    l->s = malloc(batch * sizeof *l->s);
    l->jmax = malloc(batch * sizeof *l->jmax);
    l->eps = malloc(batch * n * sizeof *l->eps);
    l->A = malloc(batch * n * sizeof *l->A);
    l->live = malloc(batch * n * 2);
    return l->t && l->sat && l->tau && l->dtau && l->Hf && l->bias && l->w && l->s && l->jmax &&
           l->eps && l->A && l->live;
}

/* The lenses' wavefront error W (waves) as terms of the 4f kernel.  A Fourier lens
 * with an error in its plane sends the light from input point x to Fourier point ξ
 * through the lens at x + ξ (acdc_optics_fourier_lens_aperture()), so the pass picks up
 * Φ(x + ξ) = e^{2πi W(x + ξ)}, and the second lens Φ(ξ + y).  Per Fourier pixel ξ,
 * Φ(ξ + x) is written as T powers of x/R, Φ(ξ + x) ≈ Σ_n c_n(ξ) (x/R)^n, so that the
 * kernel becomes Σ_{m,m'} (y/R)^m (x/R)^m' Ψ_{m,m'}(ξ), Ψ = c_m c_m'.  The c_n are the
 * least-squares fit of the real and imaginary parts of Φ(ξ + x) over the points the
 * kernel evaluates the series on -- every input pixel x_a and every camera sample y_j
 * (one fit for both lenses, so that Ψ stays symmetric; the two sets span the same
 * plane) -- by one QR factorisation of their Vandermonde matrix and two solves per
 * Fourier pixel.  A fit over the points the series is used on is far closer there than
 * the Taylor series at x = 0 (SURROGATE_LENS_TERMS); the c_n do not depend on the
 * trained parameters, so the adjoint passes only read them.  T = SURROGATE_LENS_TERMS,
 * at most the number of input pixels (distinct points: the Vandermonde matrix keeps
 * its full rank).
 * Without an error (or with `use` 0): one term, Ψ = 1. */
static int lens_terms(acdc_compiler_surrogate *g, const acdc_compiler_system *s, int use)
{
    acdc_optics_lens l = s->profile.lens;
    const int T = !(use && acdc_optics_lens_has_error(&l)) ? 1
                  : g->npx_in < SURROGATE_LENS_TERMS ? (int)g->npx_in
                                                      : SURROGATE_LENS_TERMS;
    g->T = T;
    g->xin = malloc((size_t)T * g->npx_in * sizeof *g->xin);
    g->ycam = malloc((size_t)T * g->M * sizeof *g->ycam);
    g->psi = malloc((size_t)T * (size_t)T * g->npx_f * sizeof *g->psi);
    if (!g->xin || !g->ycam || !g->psi)
        return acdc_util_error(ACDC_UTIL_ENOMEM,
                               "out of memory for the hardware surrogate's lenses");
    l.focal_m = s->focal_m;
    l.aperture_m = acdc_optics_fourier_lens_aperture(1, (double)s->m * s->pitch_m,
                                                     (double)s->fm * s->fourier_pitch_m);
    const double R = l.aperture_m / 2, din = s->pitch_m / g->pin,
                 df = s->fourier_pitch_m / g->pf;
    const double a0 = (double)(g->npx_in / 2) + (g->pin - 1) / 2.0;
    for (int m = 0; m < T; m++) {
        for (size_t a = 0; a < g->npx_in; a++)
            g->xin[(size_t)m * g->npx_in + a] = pow(((double)a - a0) * din / R, m);
        for (size_t j = 0; j < g->M; j++)
            g->ycam[(size_t)m * g->M + j] =
                pow(((double)j - (double)(g->M / 2)) * s->pitch_m / R, m);
    }
    g->lens_rms = g->lens_max = 0;
    if (T == 1) {
        for (size_t c = 0; c < g->npx_f; c++)
            g->psi[c] = 1;
        return ACDC_UTIL_OK;
    }
    /* W's coefficients in X = u / R from five samples, checked at three more: the fit
     * evaluates W at every (ξ, x) pair, by Horner */
    double pc[5], A[25], Wv[5];
    const double X[5] = {-1, -0.5, 0, 0.5, 1};
    for (int i = 0; i < 5; i++) {
        Wv[i] = acdc_optics_lens_wavefront(&l, 1, X[i] * R, 0);
        for (int d = 0; d < 5; d++)
            A[i * 5 + d] = pow(X[i], d);
    }
    gsl_matrix_view Am = gsl_matrix_view_array(A, 5, 5);
    gsl_vector_view bv = gsl_vector_view_array(Wv, 5), xv = gsl_vector_view_array(pc, 5);
    gsl_permutation *perm = gsl_permutation_alloc(5);
    int sg;
    if (!perm)
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
    gsl_linalg_LU_decomp(&Am.matrix, perm, &sg);
    gsl_linalg_LU_solve(&Am.matrix, perm, &bv.vector, &xv.vector);
    gsl_permutation_free(perm);
    for (int i = 0; i < 3; i++) {
        const double Xt = (double[]){-0.77, 0.31, 0.93}[i];
        double want = acdc_optics_lens_wavefront(&l, 1, Xt * R, 0), got = 0;
        for (int d = 4; d >= 0; d--)
            got = got * Xt + pc[d];
        if (!(fabs(got - want) <= 1e-9 * (1 + fabs(want))))
            return acdc_util_error(ACDC_UTIL_EUSAGE, "lens '%s': its wavefront error is not a "
                                   "polynomial of degree 4 along x; the surrogate cannot expand "
                                   "it", l.name);
    }
    /* the design matrix: row p = (1, X_p, ..., X_p^{T−1}) at the input pixels, then the
     * camera samples */
    const size_t P = g->npx_in + g->M, Tz = (size_t)T;
    gsl_matrix *V = gsl_matrix_alloc(P, Tz);
    gsl_vector *qt = gsl_vector_alloc(Tz), *cr = gsl_vector_alloc(Tz),
               *ci = gsl_vector_alloc(Tz), *br = gsl_vector_alloc(P),
               *bi = gsl_vector_alloc(P), *res = gsl_vector_alloc(P);
    int rc = ACDC_UTIL_OK;
    if (!V || !qt || !cr || !ci || !br || !bi || !res) {
        rc = acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for the hardware surrogate's lenses");
        goto out;
    }
    for (size_t p = 0; p < P; p++)
        for (size_t m = 0; m < Tz; m++)
            gsl_matrix_set(V, p, m, p < g->npx_in ? g->xin[m * g->npx_in + p]
                                                  : g->ycam[m * g->M + p - g->npx_in]);
    gsl_linalg_QR_decomp(V, qt);
    double e2 = 0;
    for (size_t c = 0; c < g->npx_f; c++) {
        const double X0 = ((double)c - g->c0) * df / R;
        for (size_t p = 0; p < P; p++) {
            const double Xp = X0 + (p < g->npx_in ? g->xin[g->npx_in + p]
                                                  : g->ycam[g->M + p - g->npx_in]);
            double w = 0;
            for (int d = 4; d >= 0; d--)
                w = w * Xp + pc[d];
            const double complex f = cexp(2 * M_PI * I * w);
            gsl_vector_set(br, p, creal(f));
            gsl_vector_set(bi, p, cimag(f));
        }
        gsl_linalg_QR_lssolve(V, qt, br, cr, res);
        gsl_linalg_QR_lssolve(V, qt, bi, ci, res);
        double complex cn[SURROGATE_LENS_TERMS];
        for (size_t m = 0; m < Tz; m++)
            cn[m] = gsl_vector_get(cr, m) + I * gsl_vector_get(ci, m);
        /* the fit's error at every point, recomputed from the series (what the kernel
         * will use), not taken from the solver's residual */
        for (size_t p = 0; p < P; p++) {
            const double Xp = p < g->npx_in ? g->xin[g->npx_in + p]
                                            : g->ycam[g->M + p - g->npx_in];
            double complex v = 0;
            for (size_t m = Tz; m-- > 0;)
                v = v * Xp + cn[m];
            const double e = cabs(v - (gsl_vector_get(br, p) + I * gsl_vector_get(bi, p)));
            e2 += e * e;
            g->lens_max = fmax(g->lens_max, e);
        }
        for (size_t m = 0; m < Tz; m++)
            for (size_t m1 = 0; m1 < Tz; m1++)
                g->psi[(m * Tz + m1) * g->npx_f + c] = cn[m] * cn[m1];
    }
    g->lens_rms = sqrt(e2 / (double)(P * g->npx_f));
out:
    gsl_matrix_free(V);
    gsl_vector_free(qt);
    gsl_vector_free(cr);
    gsl_vector_free(ci);
    gsl_vector_free(br);
    gsl_vector_free(bi);
    gsl_vector_free(res);
    return rc;
}

/* Rank 2: the superpixel patterns, sub-pixel twiddles, sample places and plans. */
static int setup2(acdc_compiler_surrogate *g, const acdc_compiler_system *s)
{
    const size_t k = g->k, Lc = g->Lc, n = g->n;
    g->pat_in = malloc(k * k);
    g->pat_f = malloc(k * k);
    g->tw = malloc(k * Lc * sizeof *g->tw);
    g->place = malloc(4 * n * sizeof *g->place);
    g->xacc = fftw_alloc_complex(Lc * Lc);
    g->sub = fftw_alloc_complex(k * k * g->Ns * g->Ns);
    if (!g->pat_in || !g->pat_f || !g->tw || !g->place || !g->xacc || !g->sub)
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for the hardware surrogate");
    for (size_t iy = 0; iy < k; iy++)
        for (size_t ix = 0; ix < k; ix++) {
            const acdc_optics_modulator *d[2] = {&g->in_dev, &g->f_dev};
            unsigned char *pat[2] = {g->pat_in, g->pat_f};
            for (int v = 0; v < 2; v++)
                pat[v][iy * k + ix] =
                    d[v]->modulation != ACDC_OPTICS_MOD_PHASE ? 0
                    : d[v]->dp_layout == ACDC_OPTICS_DP_CHECKERBOARD ? (unsigned char)((ix + iy) % 2)
                    : d[v]->dp_layout == ACDC_OPTICS_DP_ROWS       ? (unsigned char)(iy % 2)
                                                               : (unsigned char)(ix % 2);
        }
    for (size_t i = 0; i < k; i++)
        for (size_t r = 0; r < Lc; r++)
            g->tw[i * Lc + r] = cexp(-2 * M_PI * I * fmod((double)(i * r), (double)g->N) /
                                     (double)g->N);
    for (size_t j = 0; j < n; j++)
        for (int copy = 0; copy < 4; copy++)
            g->place[j * 4 + (size_t)copy] = acdc_compiler_place(s, 0, j, copy);
    fftw_plan p[4];
#pragma omp critical(acdc_fftw_planner)
    {
        p[0] = fftw_plan_dft_2d((int)g->Ls, (int)g->Ls, g->tbuf, g->tbuf, FFTW_FORWARD,
                                FFTW_ESTIMATE);
        p[1] = fftw_plan_dft_2d((int)g->Ls, (int)g->Ls, g->tbuf, g->tbuf, FFTW_BACKWARD,
                                FFTW_ESTIMATE);
        p[2] = fftw_plan_dft_2d((int)g->Ns, (int)g->Ns, g->bufN, g->bufN, FFTW_FORWARD,
                                FFTW_ESTIMATE);
        p[3] = fftw_plan_dft_2d((int)g->Ns, (int)g->Ns, g->bufN, g->bufN, FFTW_BACKWARD,
                                FFTW_ESTIMATE);
    }
    g->ps_f = p[0];
    g->ps_b = p[1];
    g->pn2_f = p[2];
    g->pn2_b = p[3];
    if (!p[0] || !p[1] || !p[2] || !p[3])
        return acdc_util_error(ACDC_UTIL_ENOMEM, "FFTW could not plan the hardware surrogate");
    return acdc_compiler_fourier_design_axis(&s->profile, (int)k, g->side, 1, 1, g->D);
}

int acdc_compiler_surrogate_alloc(acdc_compiler_surrogate **out, const acdc_compiler_system *s,
                                  size_t batch, const acdc_compiler_surrogate_opts *o)
{
    *out = NULL;
    for (size_t c = 0; c < s->n_chains; c++)
        if (s->chains[c].count != 1)
            return acdc_util_error(ACDC_UTIL_EUSAGE,
                                   "optical chain %zu holds %zu layers; the hardware "
                                   "surrogate models one layer per chain (a pixel-aware design, "
                                   "rules.fourier_oversample >= 1)", c, s->chains[c].count);
    if (s->profile.fourier_oversample < 0 || (s->rank == 2 && s->profile.fourier_oversample < 1))
        return acdc_util_error(ACDC_UTIL_EUSAGE, "the hardware surrogate of a 2D system models "
                               "pixel-aware designs (rules.fourier_oversample >= 1)");
    if (batch == 0)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "batch size must be at least 1");
    acdc_compiler_profile e;
    acdc_compiler_profile_effective(&s->profile, &e);
    if (e.input.modulation == ACDC_OPTICS_MOD_AMPLITUDE ||
        e.fourier.modulation == ACDC_OPTICS_MOD_AMPLITUDE)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "the hardware surrogate needs signed values: an "
                               "amplitude-only input or Fourier device cannot show them");
    acdc_compiler_surrogate *g = calloc(1, sizeof *g);
    if (!g)
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for the hardware surrogate");
    int rc = ACDC_UTIL_OK;
    g->o = *o;
    g->rank = s->rank;
    g->nthreads = o->threads > 0 ? o->threads : 1;
    g->n = s->n;
    g->side = s->side;
    g->M = s->m;
    g->fm = s->fm;
    g->K = s->n_chains;
    g->batch = batch;
    g->in_dev = shown(&e.input, o->quantise);
    g->f_dev = shown(&e.fourier, o->quantise);
    if (g->rank == 2) {
        /* every sample a k x k superpixel along both axes; pin, pf: pixels per sample
         * along one axis */
        g->k = (size_t)(s->profile.superpixel > 0 ? s->profile.superpixel : 1);
        g->pin = g->pf = (int)g->k;
        g->nb = g->in_dev.modulation == ACDC_OPTICS_MOD_PHASE ? 2 : 1;
        g->plane = g->M * g->M;
    } else {
        g->pin = acdc_optics_modulator_pixels_per_sample(&g->in_dev);
        g->pf = acdc_optics_modulator_pixels_per_sample(&g->f_dev);
        g->rows_in = g->in_dev.modulation == ACDC_OPTICS_MOD_PHASE && g->pin == 1;
        g->rows_f = g->f_dev.modulation == ACDC_OPTICS_MOD_PHASE && g->pf == 1;
        g->strip_f = acdc_optics_strip_level_pixels(acdc_compiler_strip_rows(s, &e.fourier));
        g->plane = g->M;
    }
    g->npx_in = (size_t)g->pin * g->M;
    g->npx_f = (size_t)g->pf * g->fm;
    g->N = g->fm * (size_t)g->pf * (size_t)g->pin;
    g->Lc = 2 * (size_t)g->pin * g->M;
    g->Ls = 2 * g->M;
    g->Ns = g->N / (size_t)g->pf;
    const double a0 = (double)(g->npx_in / 2) + (g->pin - 1) / 2.0;
    g->c0 = (double)(g->npx_f / 2) + (g->pf - 1) / 2.0;
    g->r0 = a0 + (double)g->pin * (double)(g->M / 2);
    g->sigma_f = e.ideal ? 0 : o->phase_error_rad >= 0 ? o->phase_error_rad
                                                       : e.fourier.phase_error_rad;
    g->clip = acdc_compiler_clip_scale(s->profile.fourier_clip);
    const size_t n = g->n, K = g->K, Lc = g->Lc, N = g->N;
    const size_t nblk = (batch + BLOCK - 1) / BLOCK;
    const int two = g->rank == 2;
    const size_t L2 = g->Ls * g->Ls;
    g->op = (acdc_layer_op){g, op_forward, op_backward};
    g->D = malloc(g->fm * (two ? g->side : n) * sizeof *g->D);
    g->lay0 = malloc(n * sizeof *g->lay0);
    g->lay1 = malloc(n * sizeof *g->lay1);
    g->pix = malloc(K * n * sizeof *g->pix);
    g->B = malloc(g->npx_f * sizeof *g->B);
    g->Q = malloc(Lc * sizeof *g->Q);
    g->phi = malloc(K * sizeof *g->phi);
    g->rho = malloc(K * sizeof *g->rho);
    g->frames = malloc(K * sizeof *g->frames);
    g->dark = malloc(K * sizeof *g->dark);
    g->tau = malloc(K * sizeof *g->tau);
    g->zero = calloc(n, sizeof *g->zero);
    g->acc = malloc(n * sizeof *g->acc);
    g->bufN = fftw_alloc_complex(two ? g->Ns * g->Ns : N);
    /* 2D systems keep ideal lenses, as the simulator runs them */
    if ((rc = lens_terms(g, s, o->lens && !two)))
        goto out;
    const size_t T2 = (size_t)g->T * (size_t)g->T;
    g->tstride = two ? (2 * (size_t)g->nb + 3) * L2 : (2 * (size_t)g->T + 3) * Lc;
    g->tbuf = fftw_alloc_complex((size_t)g->nthreads * g->tstride);
    g->ebuf = malloc((size_t)g->nthreads * g->plane * sizeof *g->ebuf);
    g->gh_len = nblk * (two ? (size_t)g->nb * L2 : T2 * Lc);
    g->gh = fftw_alloc_complex(g->gh_len);
    g->ls = calloc(K, sizeof *g->ls);
    if (!g->D || !g->lay0 || !g->lay1 || !g->pix || !g->B || !g->Q || !g->phi || !g->rho ||
        !g->frames || !g->dark || !g->tau || !g->zero || !g->acc || !g->bufN || !g->tbuf ||
        !g->gh ||
        !g->ebuf || !g->ls)
        rc = acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for the hardware surrogate");
    for (size_t l = 0; !rc && l < K; l++)
        if (!(two ? alloc_layer(&g->ls[l], n, g->fm * g->fm + g->fm * g->side,
                                g->npx_f * g->npx_f, L2, (size_t)g->nb, batch)
                  : alloc_layer(&g->ls[l], n, g->fm, g->npx_f, Lc, T2, batch)))
            rc = acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for the hardware surrogate");
    if (!rc && !two &&
        (!(g->pn = plan1(N, g->bufN, FFTW_FORWARD)) ||
         !(g->pl_nb = plan1(N, g->bufN, FFTW_BACKWARD)) ||
         !(g->pl_f = plan1(Lc, g->tbuf, FFTW_FORWARD)) ||
         !(g->pl_b = plan1(Lc, g->tbuf, FFTW_BACKWARD))))
        rc = acdc_util_error(ACDC_UTIL_ENOMEM, "FFTW could not plan the hardware surrogate");
    if (!rc)
        rc = two ? acdc_plan_alloc2(&g->dct, g->side, g->side, 1, FFTW_ESTIMATE)
                 : acdc_plan_alloc(&g->dct, n, 1, FFTW_ESTIMATE);
    if (!rc)
        rc = two ? setup2(g, s) : design_matrix(g, s);
out:
    if (rc) {
        acdc_compiler_surrogate_free(g);
        return rc;
    }
    for (size_t j = 0; j < n && !two; j++) {
        g->lay0[j] = acdc_compiler_layout(n, 0, j, 0);
        g->lay1[j] = acdc_compiler_layout(n, 0, j, 1);
    }
    for (size_t l = 0; l < K; l++)
        for (size_t j = 0; j < n; j++)
            g->pix[l * n + j] = (size_t)s->chains[l].pixel[j];
    /* B_c: the input pixel's and camera pixel's transforms at Fourier pixel c (the input
     * pixel's fill f_in carries the w_in δ_F/λf = f_in/N bookkeeping with K); rank 2:
     * one axis of the separable B and Q */
    const double fin = g->in_dev.fill, fcam = e.camera.fill, ff = g->f_dev.fill;
    for (size_t c = 0; c < g->npx_f; c++) {
        const double v = ((double)c - g->c0) / (double)N;
        g->B[c] = fin * sinc(fin * v) * sinc(fcam * g->pin * v) *
                  cexp(2 * M_PI * I * fmod((double)c * g->r0, (double)N) / (double)N);
    }
    for (size_t r = 0; r < Lc; r++) {
        const double v = ((double)r - g->r0) / (double)N;
        g->Q[r] = ff / (I * (double)N) * sinc(ff * v) *
                  cexp(2 * M_PI * I * fmod(g->c0 * ((double)r - g->r0), (double)N) / (double)N);
    }
    /* calibration: every device clear, a flat input of unit amplitude, the axis pixel */
    {
        struct layer_state *l0 = &g->ls[0];
        const size_t npf = two ? g->npx_f * g->npx_f : g->npx_f;
        for (size_t c = 0; c < npf; c++)
            l0->tau[c] = 1;
        if (two) {
            double *ones = malloc(n * sizeof *ones);
            if (!ones) {
                acdc_compiler_surrogate_free(g);
                return acdc_util_error(ACDC_UTIL_ENOMEM,
                                       "out of memory for the hardware surrogate");
            }
            for (size_t j = 0; j < n; j++)
                ones[j] = 1;
            kernel2(g, l0->tau, l0->Hf);
            input2(g, ones, g->tbuf, NULL);
            optics2(g, l0->Hf, g->tbuf, g->tbuf + (size_t)g->nb * L2, g->ebuf);
            free(ones);
            g->gcal = g->ebuf[(g->M / 2) * g->M + g->M / 2];
        } else {
            kernel(g, l0->tau, l0->Hf);
            fftw_complex *p = g->tbuf + (size_t)(g->T + 1) * Lc;
            memset(p, 0, Lc * sizeof *p);
            for (size_t a = 0; a < g->npx_in; a++)
                p[a] = 1;
            optics(g, l0->Hf, p, g->tbuf, g->ebuf);
            g->gcal = g->ebuf[g->M / 2];
        }
    }
    /* detection as designed, per chain */
    g->cam = e.camera;
    g->fw = e.camera.full_well_e;
    for (size_t l = 0; l < K; l++) {
        const acdc_compiler_chain *ch = &s->chains[l];
        const double tau = ch->exposure_s > 0 ? ch->exposure_s : e.camera.exposure_s;
        g->phi[l] = acdc_compiler_detection_electrons(s, tau);
        g->rho[l] = ch->ref_amplitude / s->field_amplitude;
        g->frames[l] = ch->frames ? (double)ch->frames : 1;
        g->dark[l] = e.camera.dark_e_per_s * tau;
        g->tau[l] = tau;
        if ((o->noise || o->clip) && !(g->phi[l] > 0 && g->rho[l] > 0)) {
            acdc_compiler_surrogate_free(g);
            return acdc_util_error(ACDC_UTIL_EUSAGE,
                                   "chain %zu has no designed detection (reference "
                                   "%g E0, %g electrons per E0^2): the surrogate cannot model its "
                                   "camera", l, ch->ref_amplitude / s->field_amplitude,
                                   acdc_compiler_detection_electrons(s, tau));
        }
    }
    if (!(cabs(g->gcal) > 0)) {
        acdc_compiler_surrogate_free(g);
        return acdc_util_error(ACDC_UTIL_EDATA,
                               "the surrogate's calibration found no light on the axis");
    }
    *out = g;
    return ACDC_UTIL_OK;
}
