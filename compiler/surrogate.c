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
#include "util/error.h"

#include <complex.h>
#include <fftw3.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sf_trig.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK 16   /* rows per block of the backward pass's fixed-order sums */

struct layer_state {
    double *t;                 /* fm: the mask values W / max|W| */
    double gm;                 /* max|W| */
    size_t kmax;
    double complex *tau, *dtau;/* npx_F: pixels shown (with phase errors), d pixel / d t */
    fftw_complex *Hf;          /* Lc: FWD(H) */
    double *bias;              /* n: Cᵀ d_bias */
    /* per row, kept for the backward pass */
    double *w, *s;             /* batch × n inputs scaled by s = max|u|; batch scales */
    size_t *jmax;
    double complex *eps;       /* batch × n: the camera's mean field on each read pixel */
    double *A;                 /* batch × n: the homodyne reading per unit (z − bias)/(s gm) */
    unsigned char *live;       /* batch × n × 2: the port was not clipped */
    size_t rows;               /* rows of the last forward pass */
};

struct compiler_surrogate {
    acdc_layer_op op;
    compiler_surrogate_opts o;
    size_t n, M, fm, K, batch;
    int pin, pf;               /* pixels per sample: input and Fourier device */
    size_t npx_in, npx_f, Lc, N;
    double c0, r0;
    optics_modulator in_dev, f_dev;
    double *D;                 /* fm × n: W = D d */
    size_t *lay0, *lay1;       /* the samples of component j at layout parity 0 */
    size_t *pix;               /* K × n: layer l's camera sample of component j */
    double complex *B;         /* npx_F: B_c e^{2πi c r0/N} */
    double complex *Q;         /* Lc */
    double complex gcal;
    double sigma_f;
    /* detection, per layer (= chain) */
    double *phi, *rho, *frames, *dark;
    double read, qstep, fw;
    fftw_plan pn, pl_nb, pl_f, pl_b;
    fftw_complex *bufN;
    fftw_complex *tbuf;        /* threads × 2 × Lc */
    int nthreads;
    acdc_plan *dct;
    double *zero, *acc;        /* n each: scratch of the bias passes */
    fftw_complex *gh;          /* blocks × Lc: the backward pass's per-block sums */
    struct layer_state *ls;
};

compiler_surrogate_opts compiler_surrogate_opts_default(void)
{
    return (compiler_surrogate_opts){.quantise = 1, .noise = 1, .clip = 1,
                                     .phase_error_rad = -1, .seed = 1, .threads = 1};
}

double complex compiler_surrogate_constant(const compiler_surrogate *g) { return g->gcal; }

static void layer_free(struct layer_state *l)
{
    free(l->t);
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

void compiler_surrogate_free(compiler_surrogate *g)
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
    }
    fftw_free(g->bufN);
    fftw_free(g->tbuf);
    fftw_free(g->gh);
    acdc_plan_free(g->dct);
    free(g->D);
    free(g->lay0);
    free(g->lay1);
    free(g->pix);
    free(g->B);
    free(g->Q);
    free(g->phi);
    free(g->rho);
    free(g->frames);
    free(g->dark);
    free(g->zero);
    free(g->acc);
    free(g);
}

/* A device as the surrogate shows it: on its levels, or continuous (smooth form). */
static optics_modulator shown(const optics_modulator *d, int quantise)
{
    optics_modulator m = *d;
    if (!quantise) {
        m.amplitude_bits = 0;
        m.phase_bits = 0;
    }
    return m;
}

/* A value's pixels (1 or 2) and their derivative with respect to the value (the
 * unquantised device's, at the quantised pixels: the straight-through estimator).  A
 * double-phase pair's θ = arccos|t| has dθ/d|t| = −1/sqrt(1 − t²): at |t| = 1 the
 * X
 * is ±1 whatever the weights). */
static int pixels(const optics_modulator *dev, double t, double complex px[2],
                  double complex dpx[2])
{
    int c = optics_modulator_pixels(dev, t, px, NULL);
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

/* The correlation E(m) = Σ_a p_a H(a + m) for one row: buf (Lc) holds p (zero beyond the
 * input's pixels) and receives Lc·E. */
static void correlate(const compiler_surrogate *g, const fftw_complex *Hf, fftw_complex *buf)
{
    fftw_execute_dft(g->pl_b, buf, buf);
    for (size_t k = 0; k < g->Lc; k++)
        buf[k] *= Hf[k];
    fftw_execute_dft(g->pl_b, buf, buf);
}

/* The input pixels of one row (w: n values in [−1, 1]) into buf (Lc, zero elsewhere). */
static void input_pixels(const compiler_surrogate *g, const double *w, fftw_complex *buf,
                         double complex *dp)
{
    memset(buf, 0, g->Lc * sizeof *buf);
    for (size_t j = 0; j < g->n; j++) {
        double complex px[2], d[2];
        pixels(&g->in_dev, w[j], px, d);
        for (int b = 0; b < g->pin; b++) {
            buf[g->lay0[j] * (size_t)g->pin + (size_t)b] = px[b];
            buf[g->lay1[j] * (size_t)g->pin + (size_t)b] = px[b];
            if (dp)
                dp[j * (size_t)g->pin + (size_t)b] = d[b];
        }
    }
}

/* H's spectrum for Fourier pixels tau: Hf = FWD(Q · DFT_N(tau B)). */
static void kernel(compiler_surrogate *g, const double complex *tau, fftw_complex *Hf)
{
    memset(g->bufN, 0, g->N * sizeof *g->bufN);
    for (size_t c = 0; c < g->npx_f; c++)
        g->bufN[c] = tau[c] * g->B[c];
    fftw_execute(g->pn);
    for (size_t r = 0; r < g->Lc; r++)
        Hf[r] = g->Q[r] * g->bufN[r % g->N];
    fftw_execute_dft(g->pl_f, Hf, Hf);
}

/* ---- the layer operator -------------------------------------------------------------- */

static int check_model(const compiler_surrogate *g, const acdc_model *m, size_t layer,
                       size_t batch)
{
    if (m->n != g->n || m->n_layers != g->K || layer >= g->K)
        return util_error(UTIL_EUSAGE, "the hardware surrogate was made for %zu layers of "
                          "n = %zu, not this model (%zu layers of n = %zu)", g->K, g->n,
                          m->n_layers, m->n);
    if (batch > g->batch)
        return util_error(UTIL_EUSAGE, "batch %zu exceeds the surrogate's %zu", batch,
                          g->batch);
    return UTIL_OK;
}

/* The mask of layer L: t, gm, kmax, the pixels with this step's phase errors. */
static void mask(compiler_surrogate *g, const acdc_layer *L, size_t layer, uint64_t tick,
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
    ls->gm = gm > 0 ? gm : 1;
    ls->kmax = kmax;
    for (size_t k = 0; k < fm; k++)
        ls->t[k] /= ls->gm;
    gsl_rng *r = NULL;
    if (g->sigma_f > 0 && (r = gsl_rng_alloc(gsl_rng_mt19937)))
        gsl_rng_set(r, (unsigned long)optics_field_seed(optics_field_seed(g->o.seed, tick),
                                                        2 * layer + 1));
    for (size_t k = 0; k < fm; k++) {
        double complex px[2], d[2];
        pixels(&g->f_dev, ls->t[k], px, d);
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
static double camera(const compiler_surrogate *g, size_t layer, double complex eps,
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
        const double var = 2 * phi * (pow(cabs(eps), 2) + rho * rho) + 2 * g->dark[layer] +
                           2 * g->read * g->read + g->qstep * g->qstep / 6;
        dn += gsl_ran_gaussian_ziggurat(r, sqrt(var / g->frames[layer]));
    }
    return dn / (4 * phi * rho * ag);
}

static int op_forward(void *ctx, const acdc_model *m, size_t layer, uint64_t tick,
                      size_t batch, const double *x, double *z)
{
    compiler_surrogate *g = ctx;
    int rc = check_model(g, m, layer, batch);
    if (rc)
        return rc;
    const acdc_layer *L = &m->layers[layer];
    struct layer_state *ls = &g->ls[layer];
    const size_t n = g->n;
    mask(g, L, layer, tick, ls);
    kernel(g, ls->tau, ls->Hf);
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
    const double scale = 1.0 / (double)g->Lc;
#pragma omp parallel for num_threads(g->nthreads) schedule(static)
    for (size_t b = 0; b < batch; b++) {
        fftw_complex *buf = g->tbuf + (size_t)omp_get_thread_num() * 3 * g->Lc;
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
        input_pixels(g, w, buf, NULL);
        correlate(g, ls->Hf, buf);
        gsl_rng *r = NULL;
        if (g->o.noise && (r = gsl_rng_alloc(gsl_rng_mt19937)))
            gsl_rng_set(r, (unsigned long)optics_field_seed(
                               optics_field_seed(optics_field_seed(g->o.seed, tick), 2 * layer),
                               b));
        for (size_t j = 0; j < n; j++) {
            double complex e = buf[(size_t)g->pin * g->pix[layer * n + j]] * scale;
            ls->eps[b * n + j] = e;
            double a = camera(g, layer, e, r, ls->live + 2 * (b * n + j));
            ls->A[b * n + j] = a;
            zr[j] = smax * ls->gm * a + ls->bias[j];
        }
        gsl_rng_free(r);
    }
    return UTIL_OK;
}

static int op_backward(void *ctx, const acdc_model *m, size_t layer, size_t batch,
                       const double *x, const double *dz, double *dx, acdc_grad *gr)
{
    compiler_surrogate *g = ctx;
    int rc = check_model(g, m, layer, batch);
    if (rc)
        return rc;
    struct layer_state *ls = &g->ls[layer];
    if (batch != ls->rows)
        return util_error(UTIL_EUSAGE, "the surrogate's backward pass of layer %zu has %zu "
                          "rows; its forward pass had %zu", layer, batch, ls->rows);
    const acdc_layer *L = &m->layers[layer];
    const size_t n = g->n, Lc = g->Lc, N = g->N, pin = (size_t)g->pin;
    const size_t nblk = (batch + BLOCK - 1) / BLOCK;
    const double complex gh = g->gcal / cabs(g->gcal);
    const double ag = cabs(g->gcal), scale = 1.0 / (double)Lc;
    /* per row: ḡ of u (gu), the explicit ḡ of gm (ggm); per thread: ḡ of the pixels */
    double *gu = malloc(batch * n * sizeof *gu), *ggm = calloc(batch, sizeof *ggm);
    double complex *dp = malloc((size_t)g->nthreads * n * pin * sizeof *dp);
    if (!gu || !ggm || !dp) {
        free(gu);
        free(ggm);
        free(dp);
        return util_error(UTIL_ENOMEM, "out of memory for the surrogate's backward pass");
    }
    memset(g->gh, 0, nblk * Lc * sizeof *g->gh);
#pragma omp parallel for num_threads(g->nthreads) schedule(static)
    for (size_t blk = 0; blk < nblk; blk++) {
        const size_t th = (size_t)omp_get_thread_num();
        fftw_complex *ga = g->tbuf + th * 3 * Lc, *gp = ga + Lc, *gb = gp + Lc;
        fftw_complex *acc = g->gh + blk * Lc;
        double complex *dpr = dp + th * n * pin;
        for (size_t b = blk * BLOCK; b < batch && b < (blk + 1) * BLOCK; b++) {
            const double s = ls->s[b];
            double *gur = gu + b * n;
            memset(gur, 0, n * sizeof *gur);
            if (!(s > 0))
                continue;
            const double *w = ls->w + b * n, *dzr = dz + b * n;
            /* ḡ of the camera's mean field on each read pixel, at m' = Pin·j */
            memset(gb, 0, Lc * sizeof *gb);
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
                gb[pin * g->pix[layer * n + j]] = ge;
            }
            ggm[b] = gg;
            /* ḡ of the input pixels: ḡ_p(a) = conj(Σ_m' H(a + m') conj(ĝ(m'))) */
            for (size_t k = 0; k < Lc; k++)
                ga[k] = conj(gb[k]);
            correlate(g, ls->Hf, ga);
            input_pixels(g, w, gp, dpr);
            double gws = 0;
            for (size_t j = 0; j < n; j++) {
                double gwj = 0;
                for (size_t q = 0; q < pin; q++) {
                    const double complex d = dpr[j * pin + q];
                    gwj += creal(conj(d) * conj(ga[g->lay0[j] * pin + q]) * scale) +
                           creal(conj(d) * conj(ga[g->lay1[j] * pin + q]) * scale);
                }
                gur[j] = gwj / s;
                gws += gwj * w[j];
            }
            /* s = |u_jmax|: z = s gm A(u/s) */
            const size_t jm = ls->jmax[b];
            gur[jm] += (w[jm] < 0 ? -1 : 1) * (gs - gws / s);
            /* ḡ of H: Σ_a conj(p_a) ĝ(r − a), summed over the block's rows in order */
            for (size_t k = 0; k < Lc; k++)
                gp[k] = conj(gp[k]);
            fftw_execute_dft(g->pl_f, gp, gp);
            fftw_execute_dft(g->pl_f, gb, gb);
            for (size_t k = 0; k < Lc; k++)
                acc[k] += gp[k] * gb[k];
        }
    }
    free(dp);
    /* the blocks in order; then ḡ_H = (1/Lc) BWD(Σ) */
    for (size_t blk = 1; blk < nblk; blk++)
        for (size_t k = 0; k < Lc; k++)
            g->gh[k] += g->gh[blk * Lc + k];
    fftw_execute_dft(g->pl_b, g->gh, g->gh);
    /* H(r) = Q(r) X̂(r mod N): ḡ_X̂(k) = Σ_{r ≡ k} conj(Q(r)) ḡ_H(r) */
    memset(g->bufN, 0, N * sizeof *g->bufN);
    for (size_t r = 0; r < Lc; r++)
        g->bufN[r % N] += conj(g->Q[r]) * g->gh[r] * scale;
    fftw_execute_dft(g->pl_nb, g->bufN, g->bufN);
    /* x_c = τ_c B_c: ḡ_τ = conj(B) ḡ_x; t_k → its pixels (straight-through) */
    double gsum = 0, gtt = 0;
    for (size_t b = 0; b < batch; b++)
        gsum += ggm[b];
    double *gt = malloc(g->fm * sizeof *gt);
    if (!gt) {
        free(gu);
        free(ggm);
        return util_error(UTIL_ENOMEM, "out of memory for the surrogate's backward pass");
    }
    for (size_t k = 0; k < g->fm; k++) {
        double v = 0;
        for (int q = 0; q < g->pf; q++) {
            const size_t c = k * (size_t)g->pf + (size_t)q;
            v += creal(conj(ls->dtau[c]) * conj(g->B[c]) * g->bufN[c]);
        }
        gt[k] = v;
        gtt += v * ls->t[k];
    }
    /* W = gm t, gm = |W_kmax|: ḡ_W = ḡ_t / gm, and at kmax sign·(ḡ_gm − Σ ḡ_t t / gm) */
    for (size_t k = 0; k < g->fm; k++)
        gt[k] /= ls->gm;
    gt[ls->kmax] += (ls->t[ls->kmax] < 0 ? -1 : 1) * (gsum - gtt / ls->gm);
    if (gr && gr->d)
        for (size_t k = 0; k < g->fm; k++) {
            const double *row = g->D + k * n;
            for (size_t j = 0; j < n; j++)
                gr->d[j] += row[j] * gt[k];
        }
    free(gt);
    /* the folded bias Cᵀ d_bias: ḡ_{d_bias} = C Σ dz (the numeric layer's backward pass
     * at zero input gives exactly that) */
    if (gr && gr->d_bias && L->d_bias) {
        memset(g->acc, 0, n * sizeof *g->acc);
        for (size_t b = 0; b < batch; b++)
            for (size_t j = 0; j < n; j++)
                g->acc[j] += dz[b * n + j];
        acdc_grad gb = {NULL, NULL, NULL, gr->d_bias};
        if ((rc = acdc_layer_backward(L, g->dct, 1, g->zero, g->zero, g->acc, NULL, &gb))) {
            free(gu);
            free(ggm);
            return rc;
        }
    }
    /* u = a ⊙ x + a_bias */
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
    free(gu);
    free(ggm);
    return UTIL_OK;
}

/* ---- allocation -------------------------------------------------------------------- */

const acdc_layer_op *compiler_surrogate_op(compiler_surrogate *g) { return &g->op; }

static fftw_plan plan1(size_t len, fftw_complex *a, int sign)
{
    fftw_plan p;
#pragma omp critical(acdc_fftw_planner)
    p = fftw_plan_dft_1d((int)len, a, a, sign, FFTW_ESTIMATE);
    return p;
}

/* The design matrix D (fm × n): column j is the mask the compiler designs for d = e_j
 * (compile.c's choice: the pixel-aware design for R >= 1, the point values for R = 0). */
static int design_matrix(compiler_surrogate *g, const compiler_system *s)
{
    const size_t n = g->n, fm = g->fm;
    double *d = calloc(n, sizeof *d), *col = malloc(fm * sizeof *col);
    int rc = UTIL_OK;
    if (!d || !col)
        rc = util_error(UTIL_ENOMEM, "out of memory for the surrogate's mask design");
    for (size_t j = 0; !rc && j < n; j++) {
        d[j] = 1;
        if (s->profile.fourier_oversample > 0)
            rc = compiler_fourier_design(&s->profile, d, n, 1, 1, col);
        else
            compiler_fourier_values(d, n, col);
        d[j] = 0;
        for (size_t k = 0; !rc && k < fm; k++)
            g->D[k * n + j] = col[k];
    }
    free(d);
    free(col);
    return rc;
}

static int alloc_layer(struct layer_state *l, size_t n, size_t fm, size_t npx_f, size_t Lc,
                       size_t batch)
{
    l->t = malloc(fm * sizeof *l->t);
    l->tau = malloc(npx_f * sizeof *l->tau);
    l->dtau = malloc(npx_f * sizeof *l->dtau);
    l->Hf = fftw_alloc_complex(Lc);
    l->bias = malloc(n * sizeof *l->bias);
    l->w = malloc(batch * n * sizeof *l->w);
    l->s = malloc(batch * sizeof *l->s);
    l->jmax = malloc(batch * sizeof *l->jmax);
    l->eps = malloc(batch * n * sizeof *l->eps);
    l->A = malloc(batch * n * sizeof *l->A);
    l->live = malloc(batch * n * 2);
    return l->t && l->tau && l->dtau && l->Hf && l->bias && l->w && l->s && l->jmax &&
           l->eps && l->A && l->live;
}

int compiler_surrogate_alloc(compiler_surrogate **out, const compiler_system *s,
                             size_t batch, const compiler_surrogate_opts *o)
{
    *out = NULL;
    if (s->rank != 1)
        return util_error(UTIL_EUSAGE, "the hardware surrogate models 1D (cylindrical-lens) "
                          "systems; a 2D system's is not built yet");
    for (size_t c = 0; c < s->n_chains; c++)
        if (s->chains[c].count != 1)
            return util_error(UTIL_EUSAGE, "optical chain %zu holds %zu layers; the hardware "
                              "surrogate models one layer per chain (a pixel-aware design, "
                              "rules.fourier_oversample >= 1)", c, s->chains[c].count);
    if (s->profile.fourier_oversample < 0)
        return util_error(UTIL_EUSAGE, "the system's Fourier oversampling is not resolved");
    if (batch == 0)
        return util_error(UTIL_EUSAGE, "batch size must be at least 1");
    compiler_profile e;
    compiler_profile_effective(&s->profile, &e);
    if (e.input.modulation == OPTICS_MOD_AMPLITUDE || e.fourier.modulation == OPTICS_MOD_AMPLITUDE)
        return util_error(UTIL_EUSAGE, "the hardware surrogate needs signed values: an "
                          "amplitude-only input or Fourier device cannot show them");
    compiler_surrogate *g = calloc(1, sizeof *g);
    if (!g)
        return util_error(UTIL_ENOMEM, "out of memory for the hardware surrogate");
    int rc = UTIL_OK;
    g->o = *o;
    g->nthreads = o->threads > 0 ? o->threads : 1;
    g->n = s->n;
    g->M = s->m;
    g->fm = s->fm;
    g->K = s->n_chains;
    g->batch = batch;
    g->in_dev = shown(&e.input, o->quantise);
    g->f_dev = shown(&e.fourier, o->quantise);
    g->pin = optics_modulator_pixels_per_sample(&g->in_dev);
    g->pf = optics_modulator_pixels_per_sample(&g->f_dev);
    g->npx_in = (size_t)g->pin * g->M;
    g->npx_f = (size_t)g->pf * g->fm;
    g->N = g->fm * (size_t)g->pf * (size_t)g->pin;
    g->Lc = 2 * (size_t)g->pin * g->M;
    const double a0 = (double)(g->npx_in / 2) + (g->pin - 1) / 2.0;
    g->c0 = (double)(g->npx_f / 2) + (g->pf - 1) / 2.0;
    g->r0 = a0 + (double)g->pin * (double)(g->M / 2);
    g->sigma_f = e.ideal ? 0 : o->phase_error_rad >= 0 ? o->phase_error_rad
                                                       : e.fourier.phase_error_rad;
    const size_t n = g->n, K = g->K, Lc = g->Lc, N = g->N;
    const size_t nblk = (batch + BLOCK - 1) / BLOCK;
    g->op = (acdc_layer_op){g, op_forward, op_backward};
    g->D = malloc(g->fm * n * sizeof *g->D);
    g->lay0 = malloc(n * sizeof *g->lay0);
    g->lay1 = malloc(n * sizeof *g->lay1);
    g->pix = malloc(K * n * sizeof *g->pix);
    g->B = malloc(g->npx_f * sizeof *g->B);
    g->Q = malloc(Lc * sizeof *g->Q);
    g->phi = malloc(K * sizeof *g->phi);
    g->rho = malloc(K * sizeof *g->rho);
    g->frames = malloc(K * sizeof *g->frames);
    g->dark = malloc(K * sizeof *g->dark);
    g->zero = calloc(n, sizeof *g->zero);
    g->acc = malloc(n * sizeof *g->acc);
    g->bufN = fftw_alloc_complex(N);
    g->tbuf = fftw_alloc_complex((size_t)g->nthreads * 3 * Lc);
    g->gh = fftw_alloc_complex(nblk * Lc);
    g->ls = calloc(K, sizeof *g->ls);
    if (!g->D || !g->lay0 || !g->lay1 || !g->pix || !g->B || !g->Q || !g->phi || !g->rho ||
        !g->frames || !g->dark || !g->zero || !g->acc || !g->bufN || !g->tbuf || !g->gh ||
        !g->ls)
        rc = util_error(UTIL_ENOMEM, "out of memory for the hardware surrogate");
    for (size_t l = 0; !rc && l < K; l++)
        if (!alloc_layer(&g->ls[l], n, g->fm, g->npx_f, Lc, batch))
            rc = util_error(UTIL_ENOMEM, "out of memory for the hardware surrogate");
    if (!rc && (!(g->pn = plan1(N, g->bufN, FFTW_FORWARD)) ||
                !(g->pl_nb = plan1(N, g->bufN, FFTW_BACKWARD)) ||
                !(g->pl_f = plan1(Lc, g->tbuf, FFTW_FORWARD)) ||
                !(g->pl_b = plan1(Lc, g->tbuf, FFTW_BACKWARD))))
        rc = util_error(UTIL_ENOMEM, "FFTW could not plan the hardware surrogate");
    if (!rc)
        rc = acdc_plan_alloc(&g->dct, n, 1, FFTW_ESTIMATE);
    if (!rc)
        rc = design_matrix(g, s);
    if (rc) {
        compiler_surrogate_free(g);
        return rc;
    }
    for (size_t j = 0; j < n; j++) {
        g->lay0[j] = compiler_layout(n, 0, j, 0);
        g->lay1[j] = compiler_layout(n, 0, j, 1);
    }
    for (size_t l = 0; l < K; l++)
        for (size_t j = 0; j < n; j++)
            g->pix[l * n + j] = (size_t)s->chains[l].pixel[j];
    /* B_c: the input pixel's and camera pixel's transforms at Fourier pixel c (the input
     * pixel's fill f_in carries the w_in δ_F/λf = f_in/N bookkeeping with K) */
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
        for (size_t c = 0; c < g->npx_f; c++)
            l0->tau[c] = 1;
        kernel(g, l0->tau, l0->Hf);
        fftw_complex *buf = g->tbuf;
        memset(buf, 0, Lc * sizeof *buf);
        for (size_t a = 0; a < g->npx_in; a++)
            buf[a] = 1;
        correlate(g, l0->Hf, buf);
        g->gcal = buf[(size_t)g->pin * (g->M / 2)] / (double)Lc;
    }
    /* detection as designed, per chain */
    g->fw = e.camera.full_well_e;
    g->read = e.camera.read_noise_e;
    g->qstep = e.camera.adc_bits > 0 ? e.camera.full_well_e / (ldexp(1.0, e.camera.adc_bits) - 1)
                                     : 0;
    for (size_t l = 0; l < K; l++) {
        const compiler_chain *ch = &s->chains[l];
        const double tau = ch->exposure_s > 0 ? ch->exposure_s : e.camera.exposure_s;
        g->phi[l] = compiler_detection_electrons(s, tau);
        g->rho[l] = ch->ref_amplitude / s->field_amplitude;
        g->frames[l] = ch->frames ? (double)ch->frames : 1;
        g->dark[l] = e.camera.dark_e_per_s * tau;
        if ((o->noise || o->clip) && !(g->phi[l] > 0 && g->rho[l] > 0)) {
            compiler_surrogate_free(g);
            return util_error(UTIL_EUSAGE, "chain %zu has no designed detection (reference "
                              "%g E0, %g electrons per E0^2): the surrogate cannot model its "
                              "camera", l, ch->ref_amplitude / s->field_amplitude,
                              compiler_detection_electrons(s, tau));
        }
    }
    if (!(cabs(g->gcal) > 0)) {
        compiler_surrogate_free(g);
        return util_error(UTIL_EDATA, "the surrogate's calibration found no light on the axis");
    }
    *out = g;
    return UTIL_OK;
}
