/* SPDX-License-Identifier: GPL-3.0-or-later */
/* compiler/compile.c -- see compile.h and compiler/README.md. */
#include "compiler/compile.h"
#include "models/dct.h"
#include "util/error.h"

#include <fftw3.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void acdc_compiler_fourier_values(const double *d, size_t n, double *out)
{
    size_t m = 2 * n;
    for (size_t k = 0; k < m; k++) {
        size_t kappa = (k + m - n) % m;
        out[k] = kappa < n ? d[kappa] : kappa > n ? d[m - kappa] : 0.0;
    }
}

int acdc_compiler_fourier_values2(const double *d, size_t side, double *out)
{
    const size_t m = 2 * side;
    size_t *kap = malloc(m * sizeof *kap);
    if (!kap)
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for a Fourier mask");
    /* per axis: sample k holds frequency κ = (k − side) mod m, folded onto κ' < side,
     * or none at κ = side */
    for (size_t k = 0; k < m; k++) {
        size_t kappa = (k + m - side) % m;
        kap[k] = kappa < side ? kappa : kappa > side ? m - kappa : side;
    }
    for (size_t ky = 0; ky < m; ky++)
        for (size_t kx = 0; kx < m; kx++)
            out[ky * m + kx] = kap[ky] == side || kap[kx] == side
                                   ? 0.0 : d[kap[ky] * side + kap[kx]];
    free(kap);
    return ACDC_UTIL_OK;
}

/* The point design's periodic kernel h(s) of the Fourier values vals (m^rank of them):
 * h[s] = (1/m^rank) Σ_k vals_k e^{+i2π(k − c)s/m} per axis, c = m/2, computed in place
 * as ((−1)^s / m^rank)·IDFT(vals)(s): the IDFT is taken here, the sign and scale by the
 * caller. */
static fftw_plan plan_dft(int rank, size_t m, fftw_complex *a, int sign)
{
    fftw_plan pl;
#pragma omp critical(acdc_fftw_planner)
    pl = rank == 2 ? fftw_plan_dft_2d((int)m, (int)m, a, a, sign, FFTW_ESTIMATE)
                   : fftw_plan_dft_1d((int)m, a, a, sign, FFTW_ESTIMATE);
    return pl;
}

static void destroy_plan(fftw_plan pl)
{
    if (!pl)
        return;
#pragma omp critical(acdc_fftw_planner)
    fftw_destroy_plan(pl);
}

int acdc_compiler_fourier_design(const acdc_compiler_profile *p, const double *d,
                                 size_t n, int first,
                                 int last, double *out)
{
    return acdc_compiler_fourier_design_k(p, 1, 1, d, n, first, last, out);
}

/* acdc_compiler_fourier_design_k(); axis: a rank-1 design with the rank-2 pixels' transforms
 * (acdc_optics_modulator_transfer_k() of superpixel k): one axis of a rank-2 design. */
static int design_k(const acdc_compiler_profile *p, int rank, int k, int axis, const double *d,
                    size_t side, int first, int last, double *out);

int acdc_compiler_fourier_design_k(const acdc_compiler_profile *p, int rank, int k, const double *d,
                                   size_t side, int first, int last, double *out)
{
    return design_k(p, rank, k, 0, d, side, first, last, out);
}

int acdc_compiler_fourier_design_axis(const acdc_compiler_profile *p, int k, size_t side, int first,
                                      int last, double *out)
{
    const size_t N = acdc_compiler_fourier_samples(p, 2 * side);
    double *d = calloc(side, sizeof *d), *col = malloc(N * sizeof *col);
    int rc = d && col ? ACDC_UTIL_OK
                      : acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for a design");
    for (size_t j = 0; !rc && j < side; j++) {
        d[j] = 1;
        rc = design_k(p, 1, k, 1, d, side, first, last, col);
        d[j] = 0;
        for (size_t q = 0; !rc && q < N; q++)
            out[q * side + j] = col[q];
    }
    free(d);
    free(col);
    return rc;
}

static int design_k(const acdc_compiler_profile *p, int rank, int k, int axis, const double *d,
                    size_t side, int first, int last, double *out)
{
    const size_t M = 2 * side, N = acdc_compiler_fourier_samples(p, M), c = N / 2;
    const size_t MM = rank == 2 ? M * M : M, NN = rank == 2 ? N * N : N;
    acdc_compiler_profile e;
    acdc_compiler_profile_effective(p, &e);
    double *vals = malloc(MM * sizeof *vals), *PF = malloc(N * sizeof *PF);
    double *A = malloc(N * sizeof *A);
    fftw_complex *h = fftw_alloc_complex(MM), *w = fftw_alloc_complex(NN);
    fftw_plan ph = NULL, pw = NULL;
    int rc = ACDC_UTIL_OK;
    if (!vals || !h || !w || !PF || !A) {
        rc = acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for a Fourier mask design");
        goto done;
    }
    if (rank == 2 && (rc = acdc_compiler_fourier_values2(d, side, vals)))
        goto done;
    if (rank != 2)
        acdc_compiler_fourier_values(d, side, vals);
    for (size_t i = 0; i < MM; i++)
        h[i] = vals[i];
    ph = plan_dft(rank, M, h, FFTW_BACKWARD);
    pw = plan_dft(rank, N, w, FFTW_FORWARD);
    if (!ph || !pw) {
        rc = acdc_util_error(ACDC_UTIL_ENOMEM, "FFTW could not plan a Fourier mask design");
        goto done;
    }
    fftw_execute(ph);
    /* Per axis (the transforms are separable): the Fourier sample's transform P_F at
     * s/N, and A(t) = P_prev(t)·P_next(t) at t = (q − c)/N.  Rank 2 takes the product of
     * the two axes' factors. */
    for (size_t q = 0; q < N; q++) {
        long s = (long)q - (long)c;
        double t = ((double)q - (double)c) / (double)N;
        const acdc_optics_modulator *prev = first ? &e.input : &e.image;
        PF[q] = rank == 2 || axis
                    ? acdc_optics_modulator_transfer_k(&e.fourier, k, (double)s / (double)N)
                    : acdc_optics_modulator_transfer(&e.fourier, (double)s / (double)N);
        A[q] = (rank == 2 || axis ? acdc_optics_modulator_transfer_k(prev, k, t)
                                  : acdc_optics_modulator_transfer(prev, t)) *
               (last ? acdc_optics_camera_transfer(&e.camera, t) : 1.0);
    }
    /* target_q = h(s)/P_F(s/N), s = q − c; then W_p = Σ_q target_q e^{−i2π(q−c)(p−c)/N}
     * = (−1)^{c+p} DFT((−1)^q target)(p), N even; per axis. */
    const size_t rows = rank == 2 ? N : 1;
    const double scale = 1.0 / (double)MM;
    for (size_t qy = 0; qy < rows; qy++)
        for (size_t qx = 0; qx < N; qx++) {
            long sx = (long)qx - (long)c, sy = rank == 2 ? (long)qy - (long)c : 0;
            size_t mx = (size_t)(((sx % (long)M) + (long)M) % (long)M);
            size_t my = (size_t)(((sy % (long)M) + (long)M) % (long)M);
            double hs = creal(h[my * (rank == 2 ? M : 1) + mx]) *
                        ((sx + sy) % 2 ? -1.0 : 1.0) * scale;
            double target = hs / (PF[qx] * (rank == 2 ? PF[qy] : 1.0));
            w[qy * N + qx] = (qx + qy) % 2 ? -target : target;
        }
    fftw_execute(pw);
    for (size_t ky = 0; ky < rows; ky++)
        for (size_t kx = 0; kx < N; kx++) {
            double W = creal(w[ky * N + kx]) *
                       ((c + kx + (rank == 2 ? c + ky : 0)) % 2 ? -1.0 : 1.0);
            out[ky * N + kx] = W / (A[kx] * (rank == 2 ? A[ky] : 1.0));
        }
done:
    destroy_plan(ph);
    destroy_plan(pw);
    free(vals);
    free(PF);
    free(A);
    fftw_free(h);
    fftw_free(w);
    return rc;
}

int acdc_compiler_fold_biases(const acdc_model *m, size_t first, size_t count, double *bias)
{
    /* The chain is affine: optics computes its linear part, so the constant is the
     * chain's value at zero input (the first layer's a_bias is in the encoded input). */
    const size_t n = m->n;
    acdc_plan *p;
    int rc = m->transform == ACDC_TRANSFORM_DCT2 ? acdc_plan_alloc2(&p, m->h, m->w, 1, FFTW_ESTIMATE)
                                                 : acdc_plan_alloc(&p, n, 1, FFTW_ESTIMATE);
    if (rc)
        return rc;
    double *v = calloc(n, sizeof *v);
    if (!v) {
        acdc_plan_free(p);
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory folding biases");
    }
    for (size_t l = first; l < first + count; l++) {
        acdc_layer L = m->layers[l];
        if (l == first)
            L.a_bias = NULL;
        if ((rc = acdc_layer_forward(&L, p, 1, v, v, NULL))) {
            acdc_plan_free(p);
            free(v);
            return rc;
        }
    }
    memcpy(bias, v, n * sizeof *bias);
    acdc_plan_free(p);
    free(v);
    return ACDC_UTIL_OK;
}

int acdc_compiler_realise(acdc_compiler_mask *mask, const acdc_optics_modulator *dev, int ideal,
                          const char *what)
{
    const size_t m = mask->m;
    mask->realised = malloc(m * sizeof *mask->realised);
    mask->ncodes = ideal ? 0 : acdc_optics_modulator_codes(dev);
    mask->codes = malloc((m * (size_t)mask->ncodes + 1) * sizeof *mask->codes);
    if (!mask->realised || !mask->codes)
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for %s", what);
    if (dev->modulation != ACDC_OPTICS_MOD_COMPLEX && dev->modulation != ACDC_OPTICS_MOD_PHASE &&
        dev->modulation != ACDC_OPTICS_MOD_AMPLITUDE)
        return acdc_util_error(ACDC_UTIL_EDATA, "%s: device '%s' has an unknown modulation", what,
                               dev->name);
    for (size_t k = 0; k < m; k++) {
        const double t = mask->ideal[k];
        if (ideal) {
            mask->realised[k] = t;
            continue;
        }
        if (dev->modulation == ACDC_OPTICS_MOD_AMPLITUDE && t < 0) {
            size_t neg = 0;
            for (size_t i = 0; i < m; i++)
                neg += mask->ideal[i] < 0;
            return acdc_util_error(ACDC_UTIL_EDATA, "%s: amplitude-only device '%s' cannot show "
                                   "negative values (%zu of %zu samples are negative); use "
                                   "a complex or phase device", what, dev->name, neg, m);
        }
        int32_t c[2];
        mask->realised[k] = acdc_optics_modulator_value(dev, t, c);
        for (int q = 0; q < mask->ncodes; q++)
            mask->codes[(size_t)mask->ncodes * k + (size_t)q] = c[q];
    }
    return ACDC_UTIL_OK;
}

static void warn(acdc_compiler_system *s, const char *msg)
{
    size_t len = strlen(s->warnings);
    snprintf(s->warnings + len, sizeof s->warnings - len, "%s\n", msg);
}

/* Every modulator the system uses has the pixels it needs: one per sample, two for a
 * double-phase pair (rank 1); k x k per sample, columns and rows (rank 2). */
static int check_pixels(const acdc_compiler_system *s, int used_image)
{
    acdc_compiler_profile e;
    acdc_compiler_profile_effective(&s->profile, &e);
    const struct {
        const char *role;
        const acdc_optics_modulator *dev;
        size_t samples;
    } mods[] = {{"input modulator", &e.input, s->m},
                {"Fourier-plane mask", &e.fourier, s->fm},
                {"image-plane mask", &e.image, s->m}};
    const int k = s->profile.superpixel;
    for (int i = 0; i < 3; i++) {
        if (i == 2 && !used_image)
            continue;
        const acdc_optics_modulator *d = mods[i].dev;
        if (s->rank == 2) {
            const size_t need = (size_t)k * mods[i].samples, rows = d->rows ? d->rows : 1;
            if (d->modulation == ACDC_OPTICS_MOD_PHASE && k % 2)
                return acdc_util_error(ACDC_UTIL_EDATA,
                                       "%s '%s' is phase-only: a double-phase value "
                                       "needs an even superpixel, not %dx%d (rules.superpixel)",
                                       mods[i].role, d->name, k, k);
            if (need > d->pixels || need > rows)
                return acdc_util_error(ACDC_UTIL_EDATA,
                                       "%s '%s' has %zux%zu pixels; the system needs "
                                       "%zux%zu (%zux%zu samples of %dx%d pixels)", mods[i].role,
                                       d->name, d->pixels, rows, need, need, mods[i].samples,
                                       mods[i].samples, k, k);
            continue;
        }
        size_t need = (size_t)acdc_optics_modulator_pixels_per_sample(d) * mods[i].samples;
        if (need > d->pixels)
            return acdc_util_error(ACDC_UTIL_EDATA, "%s '%s' has %zu pixels; the system needs %zu "
                                   "(%zu samples%s)", mods[i].role, d->name, d->pixels, need,
                                   mods[i].samples,
                                   need > mods[i].samples ? ", two sub-pixels each for double-phase"
                                                     : "");
    }
    return ACDC_UTIL_OK;
}

int acdc_compiler_check_rules(acdc_compiler_system *s)
{
    const acdc_compiler_profile *p = &s->profile;
    acdc_compiler_profile e;
    acdc_compiler_profile_effective(p, &e);
    int used_image = 0, rc;
    for (size_t c = 0; c < s->n_chains; c++) {
        used_image |= s->chains[c].count > 1;
        /* an all-zero mask (a layer with d = 0) is a chain that passes no light: no
         * detector can read it, and the system file would be refused */
        if (!(s->chains[c].efficiency > 0))
            return acdc_util_error(ACDC_UTIL_EDATA, "optical chain %zu (layers %zu..%zu) passes no "
                                   "light: a mask of it is all zero (d = 0 or a = 0 in a layer)",
                                   c, s->chains[c].first,
                                   s->chains[c].first + s->chains[c].count - 1);
    }
    if ((rc = check_pixels(s, used_image)))
        return rc;
    if (!p->ideal && p->input.modulation == ACDC_OPTICS_MOD_AMPLITUDE)
        return acdc_util_error(ACDC_UTIL_EDATA, "input modulator '%s' is amplitude-only and cannot "
                               "encode signed inputs; use a complex or phase device",
                               p->input.name);
    if (p->camera.pixels < s->m)
        return acdc_util_error(ACDC_UTIL_EDATA, "camera '%s' has %zu pixels; the image plane spans "
                               "%zu samples", p->camera.name, p->camera.pixels, s->m);
    if (s->rank == 2 && (p->camera.rows ? p->camera.rows : 1) < s->m)
        return acdc_util_error(ACDC_UTIL_EDATA,
                               "camera '%s' has %zu rows of pixels; the image plane "
                               "spans %zu x %zu samples", p->camera.name,
                               p->camera.rows ? p->camera.rows : 1, s->m, s->m);
    if (s->focal_m > p->max_focal_m)
        return acdc_util_error(ACDC_UTIL_EDATA, "lens focal length %.4g m exceeds the practical "
                               "limit %.4g m (f = %zu·pitch·Fourier pitch/λ; use a smaller pitch "
                               "or a longer wavelength)", s->focal_m, p->max_focal_m, s->fm);
    double na = 0.5 * s->aperture_m / s->focal_m;
    if (na > p->max_na)
        return acdc_util_error(ACDC_UTIL_EDATA, "lens numerical aperture %.3g exceeds the paraxial "
                               "limit %.3g (aperture %.4g mm, focal length %.4g mm)", na,
                               p->max_na, 1e3 * s->aperture_m, 1e3 * s->focal_m);
    for (size_t c = 0; c < s->n_chains; c++)
        if (s->chains[c].length_m > p->max_length_m)
            return acdc_util_error(ACDC_UTIL_EDATA, "optical chain %zu (layers %zu..%zu) is %.4g m "
                                   "long, over the limit of %.4g m", c, s->chains[c].first,
                                   s->chains[c].first + s->chains[c].count - 1,
                                   s->chains[c].length_m, p->max_length_m);
    char msg[256];
    /* 1D pairs down a strip's rows: their first orders must clear the strip */
    const acdc_optics_modulator *dv[3] = {&e.input, &e.fourier, &e.image};
    for (int i = 0; i < 3; i++) {
        double off;
        size_t most;
        const size_t rows = dv[i]->rows ? dv[i]->rows : 1;
        if ((i < 2 || used_image) && acdc_compiler_strip_orders(s, dv[i], &off, &most) &&
            rows > most && (i == 0 || strcmp(dv[i]->name, dv[i - 1]->name))) {
            snprintf(msg, sizeof msg, "'%s': the first orders of its double-phase rows land "
                     "%.3g mm off the axis, inside its %zu rows (%.3g mm): use a strip of at "
                     "most %zu rows", dv[i]->name, 1e3 * off, rows,
                     1e3 * (double)rows * dv[i]->pitch_m, most);
            warn(s, msg);
        }
    }
    double image_pitch = acdc_compiler_sample_pitch(s, &e.image);
    if (used_image && fabs(image_pitch - s->pitch_m) > 1e-9 * s->pitch_m) {
        snprintf(msg, sizeof msg, "image-plane mask sample pitch %.4g um differs from the "
                 "input's %.4g um", 1e6 * image_pitch, 1e6 * s->pitch_m);
        warn(s, msg);
    }
    return ACDC_UTIL_OK;
}

static double max_abs(const double *v, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs(v[i]));
    return m;
}

/* Fills a mask's ideal values from `values` (m of them), scaling by `clip` times
 * max|value| (acdc_compiler_clip_scale()) and clipping to [−1, 1]. */
static int mask_from(acdc_compiler_mask *mask, const double *values, size_t m, double clip)
{
    mask->m = m;
    mask->ideal = malloc(m * sizeof *mask->ideal);
    if (!mask->ideal)
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
    mask->gain = acdc_compiler_clip_scale(clip) * max_abs(values, m);
    if (mask->gain == 0)
        mask->gain = 1;   /* an all-zero mask blocks the light; nothing to scale */
    for (size_t k = 0; k < m; k++)
        mask->ideal[k] = acdc_compiler_clip(values[k] / mask->gain);
    return ACDC_UTIL_OK;
}

static double *dup(const double *v, size_t n, double fill)
{
    double *c = malloc(n * sizeof *c);
    if (c)
        for (size_t i = 0; i < n; i++)
            c[i] = v ? v[i] : fill;
    return c;
}

/* The sampling of s for model m and profile p: one sample per pixel, or per pair of
 * pixels where double-phase needs two; f such that the frequency step λf/(M·pitch) is R
 * Fourier samples (R = 1 for point samples); every lens as wide as the widest plane;
 * E0 the laser spread over the input plane; a relay images the last image plane onto
 * the camera, one sample per pixel. */
static void set_sampling(acdc_compiler_system *s, const acdc_model *m,
                         const acdc_compiler_profile *p)
{
    acdc_compiler_profile e;
    s->rank = m->transform == ACDC_TRANSFORM_DCT2 ? 2 : 1;
    s->side = s->rank == 2 ? m->h : m->n;
    const size_t M = 2 * s->side;
    s->n = m->n;
    s->n_in = m->n_in;
    s->n_out = m->n_out;
    s->m = M;
    s->fm = acdc_compiler_fourier_samples(p, M);
    s->profile = *p;
    /* the system's copy of the profile holds the superpixel chosen */
    s->profile.superpixel = s->rank == 2 ? acdc_compiler_superpixel(p, 2, M, s->fm) : p->superpixel;
    acdc_compiler_profile_effective(&s->profile, &e);
    s->wavelength_m = p->wavelength_m;
    s->pitch_m = acdc_compiler_sample_pitch(s, &e.input);
    s->fourier_pitch_m = acdc_compiler_sample_pitch(s, &e.fourier);
    s->focal_m = (double)s->fm * s->pitch_m * s->fourier_pitch_m / s->wavelength_m;
    /* a spherical lens is round: its aperture covers the square plane's diagonal */
    s->aperture_m = (s->rank == 2 ? M_SQRT2 : 1) *
                    fmax((double)M * s->pitch_m, (double)s->fm * s->fourier_pitch_m);
    s->field_amplitude = sqrt(p->laser_power_w / ((double)acdc_compiler_plane_size(s) *
                                                  pow(s->pitch_m, s->rank)));
    s->relay_magnification = p->camera.pitch_m / s->pitch_m;
}

/* Stage k of chain ch (input-plane layout parity q): the image-plane mask of the
 * layer's a (k > 0; the first layer's a is applied by the electronics) and its Fourier
 * mask, each scaled to |t| <= 1 and realised on the profile's device.  vals: scratch
 * room for s->fm values. */
static int compile_stage(acdc_compiler_system *s, const acdc_model *m, acdc_compiler_chain *ch,
                         size_t k, int q, double *vals)
{
    const acdc_compiler_profile *p = &s->profile;
    acdc_compiler_stage *st = &ch->stages[k];
    const acdc_layer *L = &m->layers[ch->first + k];
    const size_t n = s->n;
    char what[96];
    int rc = ACDC_UTIL_OK;
    st->layer = ch->first + k;
    st->parity_in = q;
    st->z_m = 4.0 * s->focal_m * (double)k;
    if (k > 0) {
        if (!(st->image = calloc(1, sizeof *st->image)))
            return acdc_util_error(ACDC_UTIL_ENOMEM,
                                   "out of memory for layer %zu's masks", st->layer);
        for (size_t j = 0; j < n; j++)
            for (int copy = 0; copy < acdc_compiler_copies(s); copy++)
                vals[acdc_compiler_place(s, q, j, copy)] = L->a[j];
        snprintf(what, sizeof what, "image-plane mask of layer %zu", st->layer);
        if ((rc = mask_from(st->image, vals, acdc_compiler_plane_size(s), 1)) ||
            (rc = acdc_compiler_realise(st->image, &p->image, p->ideal, what)))
            return rc;
    }
    if (p->fourier_oversample > 0)
        rc = acdc_compiler_fourier_design_k(p, s->rank, p->superpixel, L->d, s->side, k == 0,
                                            k + 1 == ch->count, vals);
    else if (s->rank == 2)
        rc = acdc_compiler_fourier_values2(L->d, s->side, vals);
    else
        acdc_compiler_fourier_values(L->d, n, vals);
    snprintf(what, sizeof what, "Fourier-plane mask of layer %zu", st->layer);
    if (rc || (rc = mask_from(&st->fourier, vals, acdc_compiler_fourier_size(s), p->fourier_clip)) ||
        (rc = acdc_compiler_realise(&st->fourier, &p->fourier, p->ideal, what)))
        return rc;
    return ACDC_UTIL_OK;
}

/* The electronics around chain ch: u = a ⊙ v + a_bias of its first layer before it; the
 * ReLU and permutation of its last layer after it. */
static int compile_electronics(acdc_compiler_system *s, const acdc_model *m,
                               acdc_compiler_chain *ch)
{
    const size_t n = s->n;
    const acdc_layer *L0 = &m->layers[ch->first];
    const acdc_layer *Lk = &m->layers[ch->first + ch->count - 1];
    ch->stages = calloc(ch->count, sizeof *ch->stages);
    ch->bias = malloc(n * sizeof *ch->bias);
    ch->pixel = malloc(n * sizeof *ch->pixel);
    ch->enc_a = dup(L0->a, n, 0);
    ch->enc_bias = dup(L0->a_bias, n, 0);
    ch->relu = Lk->relu;
    if (Lk->perm && (ch->perm = malloc(n * sizeof *ch->perm)))
        memcpy(ch->perm, Lk->perm, n * sizeof *ch->perm);
    if (!ch->stages || !ch->bias || !ch->pixel || !ch->enc_a || !ch->enc_bias ||
        (Lk->perm && !ch->perm))
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for optical chain of layers "
                               "%zu..%zu", ch->first, ch->first + ch->count - 1);
    return ACDC_UTIL_OK;
}

/* Chain ch (layers ch->first .. + ch->count − 1, 4f constant g4f per stage): its
 * electronics, folded biases, stages (each toggles the layout parity), camera samples,
 * constant, efficiency and length.  Its detection (reference, exposure, frames, gain) is
 * designed once the whole system stands, for the signal range the synthetic inputs put
 * on its camera (compile_into()). */
static int compile_chain(acdc_compiler_system *s, const acdc_model *m, acdc_compiler_chain *ch,
                         double complex g4f, double *vals)
{
    int rc, q = 0;
    if ((rc = compile_electronics(s, m, ch)) ||
        (rc = acdc_compiler_fold_biases(m, ch->first, ch->count, ch->bias)))
        return rc;
    for (size_t k = 0; k < ch->count; k++, q ^= 1)
        if ((rc = compile_stage(s, m, ch, k, q, vals)))
            return rc;
    for (size_t j = 0; j < s->n; j++)
        ch->pixel[j] = (int64_t)acdc_compiler_place(s, q, j, 0);
    ch->g = cpow(g4f, (double)ch->count);
    ch->efficiency = acdc_compiler_chain_efficiency(ch);
    ch->length_m = 4.0 * s->focal_m * (double)ch->count;
    return ACDC_UTIL_OK;
}

/* The passes after the sampling: grouping, the 4f constant, every chain, the rules. */
static int compile_into(acdc_compiler_system *s, const acdc_model *m, size_t *first,
                        size_t *count, double *vals)
{
    int rc;
    double complex g4f;
    s->n_chains = acdc_compiler_group_for(m, &s->profile, first, count);
    if (!(s->chains = calloc(s->n_chains, sizeof *s->chains)))
        return acdc_util_error(ACDC_UTIL_ENOMEM,
                               "out of memory for %zu optical chains", s->n_chains);
    if ((rc = acdc_compiler_measure_4f(s, &g4f)))
        return rc;
    for (size_t c = 0; c < s->n_chains; c++) {
        s->chains[c].first = first[c];
        s->chains[c].count = count[c];
        if ((rc = compile_chain(s, m, &s->chains[c], g4f, vals)))
            return rc;
    }
    if ((rc = acdc_compiler_check_rules(s)))
        return rc;
    return acdc_compiler_calibrate_synthetic(s, ACDC_COMPILER_SYNTHETIC_ROWS);
}

/* rules.fourier_oversample = auto: R = 2, else R = 1.  The point design is no fallback:
 * it needs what R = 1 needs (m Fourier samples, the same lenses) and more (image-plane
 * devices for chained layers, longer chains), so it never fits where R = 1 does not.  An
 * ideal profile has no pixels to design for: the point design, which is exact there. */
static int compile_auto(const acdc_model *m, const acdc_compiler_profile *p,
                        acdc_compiler_system **out)
{
    acdc_compiler_profile q = *p;
    char why[512] = "";
    int rc;
    if (p->ideal) {
        q.fourier_oversample = 0;
        if (!(rc = acdc_compiler_compile(m, &q, out)))
            snprintf((*out)->design, sizeof (*out)->design,
                     "point design (an ideal profile has no pixels to design for)");
        return rc;
    }
    for (int R = 2; R >= 1; R--) {
        q.fourier_oversample = R;
        if (!(rc = acdc_compiler_compile(m, &q, out))) {
            snprintf((*out)->design, sizeof (*out)->design, "pixel-aware design, R = %d "
                     "Fourier samples per frequency step (rules.fourier_oversample = auto%s%s)",
                     R, *why ? "; R = 2 does not fit: " : "", why);
            return ACDC_UTIL_OK;
        }
        if (rc != ACDC_UTIL_EDATA)
            return rc;
        snprintf(why, sizeof why, "%s", acdc_util_errmsg());
    }
    return rc;
}

int acdc_compiler_compile(const acdc_model *m, const acdc_compiler_profile *p,
                          acdc_compiler_system **out)
{
    int rc;
    *out = NULL;
    if ((rc = acdc_model_check(m)) || (rc = acdc_compiler_model_supported(m, "the model")) ||
        (rc = acdc_compiler_profile_check(p)))
        return rc;
    if (p->fourier_oversample == ACDC_COMPILER_OVERSAMPLE_AUTO)
        return compile_auto(m, p, out);
    acdc_compiler_system *s = calloc(1, sizeof *s);
    size_t *first = malloc(m->n_layers * sizeof *first);
    size_t *count = malloc(m->n_layers * sizeof *count);
    const size_t fs = acdc_compiler_fourier_samples(p, 2 * (m->transform == ACDC_TRANSFORM_DCT2 ? m->h : m->n));
    double *vals = malloc(fs * (m->transform == ACDC_TRANSFORM_DCT2 ? fs : 1) * sizeof *vals);
    if (!s || !first || !count || !vals) {
        rc = acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory compiling a model of %zu layers",
                             m->n_layers);
        goto done;
    }
    set_sampling(s, m, p);
    if ((rc = acdc_model_clone(&s->model, m)))
        goto done;
    if (m->in_mean && (!(s->in_mean = dup(m->in_mean, m->n_in, 0)) ||
                       !(s->in_scale = dup(m->in_scale, m->n_in, 0)))) {
        rc = acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory copying the input standardisation");
        goto done;
    }
    rc = compile_into(s, m, first, count, vals);
    if (!rc)
        snprintf(s->design, sizeof s->design, p->fourier_oversample > 0
                 ? "pixel-aware design, R = %d Fourier samples per frequency step "
                   "(rules.fourier_oversample)"
                 : "point design (rules.fourier_oversample = %d)", p->fourier_oversample);
    if (!rc && !p->ideal && p->fourier_oversample == 0)
        warn(s, "the point design (rules.fourier_oversample = 0) ignores the devices' "
             "pixels -- fill factor, dead space, double-phase pairs -- which cost accuracy on "
             "real hardware; rules.fourier_oversample = auto designs for them "
             "(compiler/README.md, 'Pixel-aware design')");
done:
    free(first);
    free(count);
    free(vals);
    if (rc) {
        acdc_compiler_system_free(s);
        return rc;
    }
    *out = s;
    return ACDC_UTIL_OK;
}

/* The signal at the camera of every chain, for `rows` rows of x through the numeric
 * model: the electronics' input v of each chain (standardised, zero-padded, then each
 * chain's output after ReLU and permutation), u = enc_a ⊙ v + enc_bias, s = max|u|, and
 * the chain's linear output z − bias (its layers with every bias, less the folded ones:
 * what the light carries) scaled to the camera by acdc_compiler_chain_field_scale() / s. */
/* acdc_compiler_calibrate(), the range marked as coming from `signal`. */
static int calibrate_on(acdc_compiler_system *s, const double *x, size_t rows,
                        enum acdc_compiler_signal signal)
{
    const acdc_model *m = s->model;
    const size_t n = s->n, B = rows < 256 ? rows : 256, C = s->n_chains;
    if (rows == 0)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "calibration needs at least one row of data");
    acdc_plan *p = NULL;
    int rc = m->transform == ACDC_TRANSFORM_DCT2
                 ? acdc_plan_alloc2(&p, m->h, m->w, 1, FFTW_ESTIMATE)
                 : acdc_plan_alloc(&p, n, 1, FFTW_ESTIMATE);
    if (rc)
        return rc;
    double *v = malloc(B * n * sizeof *v), *z = malloc(B * n * sizeof *z);
    double *sc = malloc(B * sizeof *sc), *peak = calloc(C, sizeof *peak);
    double *sum2 = calloc(C, sizeof *sum2);
    if (!v || !z || !sc || !peak || !sum2) {
        rc = acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory calibrating on %zu rows", rows);
        goto done;
    }
    size_t gw, in_w;
    acdc_model_grid(m, NULL, &gw, NULL, &in_w);
    for (size_t r0 = 0; r0 < rows && !rc; r0 += B) {
        const size_t nb = rows - r0 < B ? rows - r0 : B;
        memset(v, 0, nb * n * sizeof *v);
        for (size_t b = 0; b < nb; b++)
            for (size_t i = 0; i < s->n_in; i++) {
                double xi = x[(r0 + b) * s->n_in + i];
                v[b * n + i / in_w * gw + i % in_w] =
                    s->in_mean ? (xi - s->in_mean[i]) / s->in_scale[i] : xi;
            }
        for (size_t c = 0; c < C && !rc; c++) {
            const acdc_compiler_chain *ch = &s->chains[c];
            for (size_t b = 0; b < nb; b++) {
                double smax = 0;
                for (size_t j = 0; j < n; j++)
                    smax = fmax(smax, fabs(ch->enc_a[j] * v[b * n + j] + ch->enc_bias[j]));
                sc[b] = smax;
            }
            for (size_t l = ch->first; l < ch->first + ch->count && !rc; l++)
                rc = acdc_layer_forward(&m->layers[l], p, nb, l == ch->first ? v : z, z, NULL);
            const double fs = acdc_compiler_chain_field_scale(ch);
            for (size_t b = 0; b < nb && !rc; b++)
                for (size_t j = 0; j < n; j++) {
                    double e = sc[b] > 0 ? fs * (z[b * n + j] - ch->bias[j]) / sc[b] : 0;
                    peak[c] = fmax(peak[c], fabs(e));
                    sum2[c] += e * e;
                }
            /* the next chain's input: ReLU, then the permutation v_i = z[perm_i] */
            for (size_t b = 0; b < nb && !rc; b++)
                for (size_t j = 0; j < n; j++) {
                    double y = z[b * n + (ch->perm ? (size_t)ch->perm[j] : j)];
                    v[b * n + j] = ch->relu && y < 0 ? 0 : y;
                }
        }
    }
    for (size_t c = 0; c < C && !rc; c++)
        rc = acdc_compiler_detection_design(s, &s->chains[c], peak[c],
                                            fmin(peak[c],
                                                 sqrt(sum2[c] / ((double)rows * (double)n))));
    if (!rc) {
        s->signal = signal;
        s->calibration_rows = rows;
    }
done:
    acdc_plan_free(p);
    free(v);
    free(z);
    free(sc);
    free(peak);
    free(sum2);
    return rc;
}

int acdc_compiler_calibrate(acdc_compiler_system *s, const double *x, size_t rows)
{
    return calibrate_on(s, x, rows, ACDC_COMPILER_SIGNAL_CALIBRATED);
}

int acdc_compiler_calibrate_synthetic(acdc_compiler_system *s, size_t rows)
{
    double *x = malloc(rows * s->n_in * sizeof *x);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    int rc = ACDC_UTIL_OK;
    if (!x || !r)
        rc = acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for %zu synthetic inputs", rows);
    if (!rc) {
        gsl_rng_set(r, 1);
        for (size_t b = 0; b < rows; b++)
            for (size_t i = 0; i < s->n_in; i++)
                x[b * s->n_in + i] = (s->in_mean ? s->in_mean[i] : 0) +
                                     (s->in_scale ? s->in_scale[i] : 1) *
                                         gsl_ran_gaussian_ziggurat(r, 1);
        rc = calibrate_on(s, x, rows, ACDC_COMPILER_SIGNAL_SYNTHETIC);
    }
    gsl_rng_free(r);
    free(x);
    return rc;
}
