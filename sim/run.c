/* sim/run.c -- see run.h. */
#include "sim/run.h"
#include "compiler/compile.h"
#include "optics/detector.h"
#include "optics/element.h"
#include "optics/field.h"
#include "optics/propagate.h"
#include "util/error.h"

#include <fftw3.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct sim {
    const compiler_system *s;
    size_t batch;
    int threads;
    optics_grid grid;
    optics_lens_plan *l1, *l2;
    optics_field *field, *ref;
    double *diff;    /* batch × m homodyne differences */
    double *v, *u;   /* batch × n electronic vectors */
    double *scale;   /* batch input scales */
};

void sim_free(sim *m)
{
    if (!m)
        return;
    optics_lens_plan_free(m->l1);
    optics_lens_plan_free(m->l2);
    optics_field_free(m->field);
    optics_field_free(m->ref);
    free(m->diff);
    free(m->v);
    free(m->u);
    free(m->scale);
    free(m);
}

int sim_alloc(sim **out, const compiler_system *s, size_t batch, int threads)
{
    *out = NULL;
    if (batch == 0)
        return util_error(UTIL_EUSAGE, "batch size must be at least 1");
    sim *m = calloc(1, sizeof *m);
    if (!m)
        return util_error(UTIL_ENOMEM, "out of memory");
    m->s = s;
    m->batch = batch;
    m->threads = threads < 1 ? 1 : threads;
    int rc = optics_grid_init(&m->grid, 1, s->m, 1, s->pitch_m, s->wavelength_m);
    if (!rc)
        rc = optics_lens_plan_alloc(&m->l1, &m->grid, s->focal_m);
    if (!rc)
        rc = optics_lens_plan_alloc(&m->l2, optics_lens_plan_output(m->l1), s->focal_m);
    if (!rc)
        rc = optics_field_alloc(&m->field, &m->grid, batch);
    if (!rc)
        rc = optics_field_alloc(&m->ref, &m->grid, 1);
    if (!rc) {
        m->diff = malloc(batch * s->m * sizeof *m->diff);
        m->v = malloc(batch * s->n * sizeof *m->v);
        m->u = malloc(batch * s->n * sizeof *m->u);
        m->scale = malloc(batch * sizeof *m->scale);
        if (!m->diff || !m->v || !m->u || !m->scale)
            rc = util_error(UTIL_ENOMEM, "out of memory for a batch of %zu", batch);
    }
    if (rc) {
        sim_free(m);
        return rc;
    }
    *out = m;
    return UTIL_OK;
}

int sim_run(sim *m, size_t batch, const double *x, double *y)
{
    const compiler_system *s = m->s;
    const size_t n = s->n, M = s->m;
    int rc;
    if (batch > m->batch)
        return util_error(UTIL_EUSAGE, "batch %zu exceeds the simulation's %zu", batch,
                          m->batch);
    m->field->nb = batch;
    /* Input electronics: standardise and zero-pad. */
    for (size_t b = 0; b < batch; b++) {
        double *v = m->v + b * n;
        for (size_t i = 0; i < s->n_in; i++) {
            double xi = x[b * s->n_in + i];
            v[i] = s->in_mean ? (xi - s->in_mean[i]) / s->in_scale[i] : xi;
        }
        memset(v + s->n_in, 0, (n - s->n_in) * sizeof *v);
    }
    for (size_t c = 0; c < s->n_chains; c++) {
        const compiler_chain *ch = &s->chains[c];
        /* Encode: u = a ⊙ v + a_bias, scaled to the modulator's range, each component
         * on its two samples of the symmetric extension (layout parity 0). */
        optics_field_zero(m->field);
        m->field->g = m->grid;
        for (size_t b = 0; b < batch; b++) {
            double *u = m->u + b * n, smax = 0;
            for (size_t j = 0; j < n; j++) {
                u[j] = ch->enc_a[j] * m->v[b * n + j] + ch->enc_bias[j];
                smax = fmax(smax, fabs(u[j]));
            }
            m->scale[b] = smax;
            double complex *e = optics_field_slice(m->field, b);
            if (smax > 0)
                for (size_t j = 0; j < n; j++) {
                    double t = s->field_amplitude * u[j] / smax;
                    e[compiler_layout(n, 0, j, 0)] = t;
                    e[compiler_layout(n, 0, j, 1)] = t;
                }
        }
        /* The optics: per stage, the image-plane mask then lens, Fourier mask, lens. */
        for (size_t k = 0; k < ch->count; k++) {
            const compiler_stage *st = &ch->stages[k];
            if (st->image && (rc = optics_field_multiply(m->field, st->image->realised)))
                return rc;
            if ((rc = optics_4f_apply(m->l1, st->fourier.realised, m->l2, m->field,
                                      m->field)))
                return rc;
        }
        /* Balanced homodyne against a reference phased to the chain's constant. */
        double complex r = ch->ref_amplitude * cexp(I * carg(ch->g));
        for (size_t k = 0; k < M; k++)
            m->ref->data[k] = r;
        m->ref->g = m->field->g;
        if ((rc = optics_homodyne(m->field, m->ref, NULL, NULL, m->diff)))
            return rc;
        /* Electronics after: gain, folded bias, ReLU, permutation. */
        for (size_t b = 0; b < batch; b++) {
            double *u = m->u + b * n, *v = m->v + b * n;
            const double *d = m->diff + b * M;
            for (size_t j = 0; j < n; j++) {
                double val = m->scale[b] * ch->gain * d[ch->pixel[j]] + ch->bias[j];
                u[j] = ch->relu && val < 0 ? 0 : val;
            }
            for (size_t j = 0; j < n; j++)
                v[j] = ch->perm ? u[ch->perm[j]] : u[j];
        }
    }
    for (size_t b = 0; b < batch; b++)
        memcpy(y + b * s->n_out, m->v + b * n, s->n_out * sizeof *y);
    return UTIL_OK;
}

int sim_reference(const compiler_system *s, size_t batch, const double *x, double *y)
{
    acdc_work *w = acdc_work_alloc(s->model, batch, 0, 1, FFTW_ESTIMATE);
    if (!w)
        return UTIL_ENOMEM;
    int rc = acdc_model_forward(s->model, w, batch, x, y);
    acdc_work_free(w);
    return rc;
}
