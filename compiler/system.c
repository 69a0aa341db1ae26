/* compiler/system.c -- the in-memory system: freeing, and the rules every part shares
 * (layout, grouping, Fourier sampling, the 4f constant, the chain's gain and efficiency).
 *
 * The compiler (compile.c) builds a system by these rules and the system file's checks
 * (system_check.c) hold a file to them; this file calls neither.
 */
#include "compiler/system.h"
#include "optics/field.h"
#include "optics/propagate.h"
#include "util/error.h"

#include <math.h>
#include <stdlib.h>

size_t compiler_layout(size_t n, int q, size_t j, int side)
{
    size_t m = 2 * n;
    if (side)
        return (n + (size_t)q + j) % m;
    return (n - 1 + (size_t)q + m - j) % m;
}

size_t compiler_plane_size(const compiler_system *s)
{
    return s->rank == 2 ? s->m * s->m : s->m;
}

size_t compiler_fourier_size(const compiler_system *s)
{
    return s->rank == 2 ? s->fm * s->fm : s->fm;
}

double compiler_sample_pitch(const compiler_system *s, const optics_modulator *dev)
{
    return s->rank == 2 ? s->profile.superpixel * dev->pitch_m
                        : optics_modulator_sample_pitch(dev);
}

int compiler_copies(const compiler_system *s) { return s->rank == 2 ? 4 : 2; }

size_t compiler_place(const compiler_system *s, int q, size_t j, int copy)
{
    if (s->rank != 2)
        return compiler_layout(s->n, q, j, copy);
    const size_t side = s->side;
    return compiler_layout(side, q, j / side, (copy >> 1) & 1) * s->m +
           compiler_layout(side, q, j % side, copy & 1);
}

/* Does superpixel k fit profile p's devices (columns and rows), focal length and NA? */
static int superpixel_fits(const compiler_profile *e, int k, size_t m, size_t fm)
{
    const struct {
        const optics_modulator *dev;
        size_t samples;
    } mods[] = {{&e->input, m}, {&e->fourier, fm}, {&e->image, m}};
    for (int i = 0; i < 3; i++) {
        const size_t need = (size_t)k * mods[i].samples;
        const size_t rows = mods[i].dev->rows ? mods[i].dev->rows : 1;
        if ((mods[i].dev->modulation == OPTICS_MOD_PHASE && k % 2) ||
            need > mods[i].dev->pixels || need > rows)
            return 0;
    }
    const double p = k * e->input.pitch_m, pf = k * e->fourier.pitch_m;
    const double f = (double)fm * p * pf / e->wavelength_m;
    const double aperture = fmax((double)m * p, (double)fm * pf);
    return f <= e->max_focal_m && 0.5 * aperture * M_SQRT2 / f <= e->max_na;
}

int compiler_superpixel(const compiler_profile *p, int rank, size_t m, size_t fm)
{
    if (rank != 2 || p->ideal)
        return 1;   /* an ideal device has no pixels to group: one sample each */
    if (p->superpixel > 0)
        return p->superpixel;
    compiler_profile e;
    compiler_profile_effective(p, &e);
    const int phase = e.input.modulation == OPTICS_MOD_PHASE ||
                      e.fourier.modulation == OPTICS_MOD_PHASE ||
                      e.image.modulation == OPTICS_MOD_PHASE;
    for (int k = 4; k >= 1; k--)
        if (superpixel_fits(&e, k, m, fm))
            return k;
    return phase ? 2 : 1;
}

size_t compiler_group(const acdc_model *m, size_t *first, size_t *count)
{
    size_t c = 0;
    for (size_t l = 0; l < m->n_layers; l++) {
        if (l == 0 || m->layers[l - 1].relu || m->layers[l - 1].perm) {
            first[c] = l;
            count[c] = 0;
            c++;
        }
        count[c - 1]++;
    }
    return c;
}

size_t compiler_group_for(const acdc_model *m, const compiler_profile *p, size_t *first,
                          size_t *count)
{
    if (p->fourier_oversample < 1)
        return compiler_group(m, first, count);
    for (size_t l = 0; l < m->n_layers; l++) {
        first[l] = l;
        count[l] = 1;
    }
    return m->n_layers;
}

int compiler_model_supported(const acdc_model *m, const char *where)
{
    if (m->transform == ACDC_TRANSFORM_DCT2 && m->h != m->w)
        return util_error(UTIL_EDATA, "%s: the 2D layers' grid is %zux%zu; a spherical-lens "
                          "system needs a square grid (one Fourier pitch along x and y): "
                          "train on a %zux%zu grid with --input-shape %zux%zu", where, m->h,
                          m->w, m->h > m->w ? m->h : m->w, m->h > m->w ? m->h : m->w,
                          m->in_h, m->in_w);
    return UTIL_OK;
}

size_t compiler_fourier_samples(const compiler_profile *p, size_t m)
{
    return m * (size_t)(p->fourier_oversample > 1 ? p->fourier_oversample : 1);
}

int compiler_measure_4f(const compiler_system *s, double complex *g)
{
    optics_grid gr;
    optics_lens_plan *l1 = NULL, *l2 = NULL;
    optics_field *f = NULL;
    int rc = optics_grid_init(&gr, s->rank, s->m, s->rank == 2 ? s->m : 1, s->pitch_m,
                              s->wavelength_m);
    if (!rc)
        rc = optics_lens_plan_alloc(&l1, &gr, s->focal_m);
    if (!rc)
        rc = optics_lens_plan_alloc(&l2, optics_lens_plan_output(l1), s->focal_m);
    if (!rc)
        rc = optics_field_alloc(&f, &gr, 1);
    if (!rc) {
        size_t c = optics_axis_index(s->m);
        if (s->rank == 2)
            c += c * s->m;
        f->data[c] = 1;
        rc = optics_4f_apply(l1, NULL, l2, f, f);
        if (!rc)
            *g = f->data[c];
    }
    optics_field_free(f);
    optics_lens_plan_free(l1);
    optics_lens_plan_free(l2);
    return rc;
}

double compiler_chain_gain(const compiler_chain *ch, double field_amplitude)
{
    double gains = 1;
    for (size_t k = 0; k < ch->count; k++) {
        if (ch->stages[k].image)
            gains *= ch->stages[k].image->gain;
        gains *= ch->stages[k].fourier.gain;
    }
    /* ΔI = 4 Re(E·E_ref*) with E = E0 · |g| · (the model's output / the mask gains) */
    return gains / (4.0 * cabs(ch->g) * field_amplitude * ch->ref_amplitude);
}

double compiler_reference_amplitude(const compiler_system *s, const compiler_chain *ch)
{
    return s->field_amplitude * fmin(1.0, sqrt(ch->efficiency));
}

/* Mean |t|² of a mask's realised transmittance: the fraction of a flat spectrum it
 * passes. */
static double mean_power(const compiler_mask *k)
{
    double s = 0;
    for (size_t i = 0; i < k->m; i++)
        s += creal(k->realised[i] * conj(k->realised[i]));
    return s / (double)k->m;
}

double compiler_chain_efficiency(const compiler_chain *ch)
{
    double eff = 1;
    for (size_t k = 0; k < ch->count; k++) {
        if (ch->stages[k].image)
            eff *= mean_power(ch->stages[k].image);
        eff *= mean_power(&ch->stages[k].fourier);
    }
    return eff;
}

static void mask_free(compiler_mask *k)
{
    if (!k)
        return;
    free(k->ideal);
    free(k->realised);
    free(k->codes);
}

void compiler_system_free(compiler_system *s)
{
    if (!s)
        return;
    for (size_t c = 0; s->chains && c < s->n_chains; c++) {
        compiler_chain *ch = &s->chains[c];
        for (size_t k = 0; ch->stages && k < ch->count; k++) {
            mask_free(ch->stages[k].image);
            free(ch->stages[k].image);
            mask_free(&ch->stages[k].fourier);
        }
        free(ch->stages);
        free(ch->enc_a);
        free(ch->enc_bias);
        free(ch->bias);
        free(ch->pixel);
        free(ch->perm);
    }
    free(s->chains);
    free(s->in_mean);
    free(s->in_scale);
    acdc_model_free(s->model);
    free(s);
}
