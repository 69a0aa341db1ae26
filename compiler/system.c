/* compiler/system.c -- the system file (compiler/FORMAT.md), freeing and printing. */
#include "compiler/system.h"
#include "compiler/compile.h"
#include "models/io.h"
#include "util/error.h"
#include "util/h5.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void mask_free(compiler_mask *k)
{
    if (!k)
        return;
    free(k->ideal);
    free(k->realised);
    free(k->codes);
}

size_t compiler_layout(size_t n, int q, size_t j, int side)
{
    size_t m = 2 * n;
    if (side)
        return (n + (size_t)q + j) % m;
    return (n - 1 + (size_t)q + m - j) % m;
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

/* ---- writing ---- */

static const char *mod_name(enum optics_modulation m)
{
    return m == OPTICS_MOD_COMPLEX ? "complex" : m == OPTICS_MOD_AMPLITUDE ? "amplitude"
                                                                                : "phase";
}

static int write_modulator(hid_t f, const char *grp, const optics_modulator *d)
{
    int rc;
    if ((rc = util_h5_group(f, grp)) || (rc = util_h5_set_attr_str(f, grp, "name", d->name)) ||
        (rc = util_h5_set_attr_str(f, grp, "modulation", mod_name(d->modulation))) ||
        (rc = util_h5_set_attr_f64(f, grp, "pitch_m", d->pitch_m)) ||
        (rc = util_h5_set_attr_f64(f, grp, "fill", d->fill)) ||
        (rc = util_h5_set_attr_i64(f, grp, "pixels", (int64_t)d->pixels)) ||
        (rc = util_h5_set_attr_i64(f, grp, "amplitude_bits", d->amplitude_bits)) ||
        (rc = util_h5_set_attr_i64(f, grp, "phase_bits", d->phase_bits)) ||
        (rc = util_h5_set_attr_f64(f, grp, "phase_error_rad", d->phase_error_rad)))
        return rc;
    return UTIL_OK;
}

static int write_profile(hid_t f, const compiler_profile *p)
{
    const char *g = "/profile", *c = "/profile/camera";
    int rc;
    if ((rc = util_h5_group(f, g)) || (rc = util_h5_set_attr_str(f, g, "name", p->name)) ||
        (rc = util_h5_set_attr_i64(f, g, "ideal", p->ideal)) ||
        (rc = util_h5_set_attr_f64(f, g, "wavelength_m", p->wavelength_m)) ||
        (rc = util_h5_set_attr_f64(f, g, "laser_power_w", p->laser_power_w)) ||
        (rc = util_h5_set_attr_f64(f, g, "max_focal_m", p->max_focal_m)) ||
        (rc = util_h5_set_attr_f64(f, g, "max_na", p->max_na)) ||
        (rc = util_h5_set_attr_f64(f, g, "max_length_m", p->max_length_m)) ||
        (rc = util_h5_set_attr_i64(f, g, "fourier_oversample", p->fourier_oversample)) ||
        (rc = write_modulator(f, "/profile/input", &p->input)) ||
        (rc = write_modulator(f, "/profile/fourier", &p->fourier)) ||
        (rc = write_modulator(f, "/profile/image", &p->image)) ||
        (rc = util_h5_group(f, c)) || (rc = util_h5_set_attr_str(f, c, "name", p->camera.name)) ||
        (rc = util_h5_set_attr_f64(f, c, "pitch_m", p->camera.pitch_m)) ||
        (rc = util_h5_set_attr_f64(f, c, "fill", p->camera.fill)) ||
        (rc = util_h5_set_attr_i64(f, c, "pixels", (int64_t)p->camera.pixels)) ||
        (rc = util_h5_set_attr_f64(f, c, "quantum_efficiency", p->camera.qe)) ||
        (rc = util_h5_set_attr_f64(f, c, "full_well_e", p->camera.full_well_e)) ||
        (rc = util_h5_set_attr_f64(f, c, "read_noise_e", p->camera.read_noise_e)) ||
        (rc = util_h5_set_attr_f64(f, c, "dark_current_e_per_s", p->camera.dark_e_per_s)) ||
        (rc = util_h5_set_attr_i64(f, c, "adc_bits", p->camera.adc_bits)) ||
        (rc = util_h5_set_attr_f64(f, c, "exposure_s", p->camera.exposure_s)))
        return rc;
    return UTIL_OK;
}

static int write_mask(hid_t f, const char *grp, const compiler_mask *k)
{
    char p[320];
    int rc;
    hsize_t d1[1] = {k->m}, d2[2] = {k->m, 2}, dc[2] = {k->m, (hsize_t)k->ncodes};
    double *ri = malloc(2 * k->m * sizeof *ri);
    if (!ri)
        return util_error(UTIL_ENOMEM, "out of memory");
    for (size_t i = 0; i < k->m; i++) {
        ri[2 * i] = creal(k->realised[i]);
        ri[2 * i + 1] = cimag(k->realised[i]);
    }
    rc = util_h5_group(f, grp);
    if (!rc)
        rc = util_h5_set_attr_f64(f, grp, "gain", k->gain);
    if (!rc)
        rc = util_h5_write_f64(f, (snprintf(p, sizeof p, "%s/ideal", grp), p), 1, d1, k->ideal);
    if (!rc)
        rc = util_h5_write_f64(f, (snprintf(p, sizeof p, "%s/realised", grp), p), 2, d2, ri);
    free(ri);
    if (!rc && k->ncodes) {
        int64_t *c = malloc(k->m * (size_t)k->ncodes * sizeof *c);
        if (!c)
            return util_error(UTIL_ENOMEM, "out of memory");
        for (size_t i = 0; i < k->m * (size_t)k->ncodes; i++)
            c[i] = k->codes[i];
        rc = util_h5_write_i64(f, (snprintf(p, sizeof p, "%s/codes", grp), p), 2, dc, c);
        free(c);
    }
    return rc;
}

/* The element table for people and other tools: /elements/<i> in optical order. */
static int write_elements(hid_t f, const compiler_system *s)
{
    size_t idx = 0;
    char g[64];
    int rc = util_h5_group(f, "/elements");
    const compiler_profile *p = &s->profile;
#define ELEMENT(type, chain, z, focal, pixels, pitch, device)                              \
    do {                                                                                   \
        snprintf(g, sizeof g, "/elements/%zu", idx++);                                     \
        if ((rc = util_h5_group(f, g)) || (rc = util_h5_set_attr_str(f, g, "type", type)) || \
            (rc = util_h5_set_attr_i64(f, g, "chain", (int64_t)(chain))) ||                 \
            (rc = util_h5_set_attr_f64(f, g, "z_m", z)) ||                                 \
            (rc = util_h5_set_attr_f64(f, g, "focal_m", focal)) ||                         \
            (rc = util_h5_set_attr_f64(f, g, "aperture_m", s->aperture_m)) ||              \
            (rc = util_h5_set_attr_i64(f, g, "pixels", (int64_t)(pixels))) ||              \
            (rc = util_h5_set_attr_f64(f, g, "pitch_m", pitch)) ||                         \
            (rc = util_h5_set_attr_str(f, g, "device", device)))                           \
            return rc;                                                                     \
    } while (0)
    if (rc)
        return rc;
    const double fl = s->focal_m;
    /* Device pixels: two per sample where double-phase pairs need them. */
    compiler_profile e;
    compiler_profile_effective(p, &e);
    const size_t ppx_in = (size_t)optics_modulator_pixels_per_sample(&e.input);
    const size_t ppx_f = (size_t)optics_modulator_pixels_per_sample(&e.fourier);
    const size_t ppx_im = (size_t)optics_modulator_pixels_per_sample(&e.image);
    for (size_t c = 0; c < s->n_chains; c++) {
        const compiler_chain *ch = &s->chains[c];
        ELEMENT("input modulator", c, 0.0, 0.0, s->m * ppx_in, p->input.pitch_m,
                p->input.name);
        for (size_t k = 0; k < ch->count; k++) {
            double z = ch->stages[k].z_m;
            if (ch->stages[k].image)
                ELEMENT("image-plane mask", c, z, 0.0, s->m * ppx_im, p->image.pitch_m,
                        p->image.name);
            ELEMENT("cylindrical lens", c, z + fl, fl, 0, 0.0, "lens");
            ELEMENT("Fourier-plane mask", c, z + 2 * fl, 0.0, s->fm * ppx_f,
                    p->fourier.pitch_m, p->fourier.name);
            ELEMENT("cylindrical lens", c, z + 3 * fl, fl, 0, 0.0, "lens");
        }
        ELEMENT("balanced homodyne camera", c, ch->length_m, 0.0, p->camera.pixels,
                p->camera.pitch_m, p->camera.name);
    }
#undef ELEMENT
    return UTIL_OK;
}

static int write_all(hid_t f, const compiler_system *s)
{
    int rc;
    char g[96], p[160];
    hsize_t dn[1] = {s->n}, din[1] = {s->n_in};
    if ((rc = util_h5_set_attr_str(f, "/", "format", "acdc-system")) ||
        (rc = util_h5_set_attr_i64(f, "/", "version", 2)) ||
        (rc = util_h5_set_attr_i64(f, "/", "n", (int64_t)s->n)) ||
        (rc = util_h5_set_attr_i64(f, "/", "n_in", (int64_t)s->n_in)) ||
        (rc = util_h5_set_attr_i64(f, "/", "n_out", (int64_t)s->n_out)) ||
        (rc = util_h5_set_attr_i64(f, "/", "m", (int64_t)s->m)) ||
        (rc = util_h5_set_attr_f64(f, "/", "wavelength_m", s->wavelength_m)) ||
        (rc = util_h5_set_attr_f64(f, "/", "pitch_m", s->pitch_m)) ||
        (rc = util_h5_set_attr_f64(f, "/", "fourier_pitch_m", s->fourier_pitch_m)) ||
        (rc = util_h5_set_attr_f64(f, "/", "focal_m", s->focal_m)) ||
        (rc = util_h5_set_attr_f64(f, "/", "aperture_m", s->aperture_m)) ||
        (rc = util_h5_set_attr_f64(f, "/", "field_amplitude", s->field_amplitude)) ||
        (rc = util_h5_set_attr_f64(f, "/", "relay_magnification", s->relay_magnification)) ||
        (rc = util_h5_set_attr_str(f, "/", "warnings", s->warnings)) ||
        (rc = write_profile(f, &s->profile)) ||
        (rc = acdc_model_write_h5(f, "/model", s->model)) || (rc = write_elements(f, s)))
        return rc;
    if (s->in_mean &&
        ((rc = util_h5_write_f64(f, "/input/mean", 1, din, s->in_mean)) ||
         (rc = util_h5_write_f64(f, "/input/scale", 1, din, s->in_scale))))
        return rc;
    for (size_t c = 0; c < s->n_chains; c++) {
        const compiler_chain *ch = &s->chains[c];
        snprintf(g, sizeof g, "/chains/%zu", c);
#define W(name, v) util_h5_write_f64(f, (snprintf(p, sizeof p, "%s/" name, g), p), 1, dn, v)
        if ((rc = util_h5_group(f, g)) ||
            (rc = util_h5_set_attr_i64(f, g, "first", (int64_t)ch->first)) ||
            (rc = util_h5_set_attr_i64(f, g, "count", (int64_t)ch->count)) ||
            (rc = util_h5_set_attr_i64(f, g, "relu", ch->relu)) ||
            (rc = util_h5_set_attr_f64(f, g, "g_re", creal(ch->g))) ||
            (rc = util_h5_set_attr_f64(f, g, "g_im", cimag(ch->g))) ||
            (rc = util_h5_set_attr_f64(f, g, "ref_amplitude", ch->ref_amplitude)) ||
            (rc = util_h5_set_attr_f64(f, g, "gain", ch->gain)) ||
            (rc = util_h5_set_attr_f64(f, g, "efficiency", ch->efficiency)) ||
            (rc = util_h5_set_attr_f64(f, g, "length_m", ch->length_m)) ||
            (rc = W("enc_a", ch->enc_a)) || (rc = W("enc_bias", ch->enc_bias)) ||
            (rc = W("bias", ch->bias)) ||
            (rc = util_h5_write_i64(f, (snprintf(p, sizeof p, "%s/pixel", g), p), 1, dn,
                                    ch->pixel)))
            return rc;
#undef W
        if (ch->perm &&
            (rc = util_h5_write_i64(f, (snprintf(p, sizeof p, "%s/perm", g), p), 1, dn,
                                    ch->perm)))
            return rc;
        for (size_t k = 0; k < ch->count; k++) {
            const compiler_stage *st = &ch->stages[k];
            char sg[128];
            snprintf(sg, sizeof sg, "%s/stages/%zu", g, k);
            if ((rc = util_h5_group(f, sg)) ||
                (rc = util_h5_set_attr_i64(f, sg, "layer", (int64_t)st->layer)) ||
                (rc = util_h5_set_attr_i64(f, sg, "parity_in", st->parity_in)) ||
                (rc = util_h5_set_attr_f64(f, sg, "z_m", st->z_m)) ||
                (rc = write_mask(f, (snprintf(p, sizeof p, "%s/fourier", sg), p),
                                 &st->fourier)))
                return rc;
            if (st->image &&
                (rc = write_mask(f, (snprintf(p, sizeof p, "%s/image", sg), p), st->image)))
                return rc;
        }
    }
    return UTIL_OK;
}

int compiler_system_write(const compiler_system *s, const char *path)
{
    util_h5_out o;
    int rc = util_h5_create(path, &o);
    if (rc)
        return rc;
    if ((rc = write_all(o.fid, s))) {
        util_h5_abort(&o);
        return rc;
    }
    return util_h5_commit(&o);
}

/* ---- reading ---- */

struct rd {
    hid_t f;
    const char *file;
};

static int rd_f64(struct rd *r, const char *obj, const char *name, double lo, double hi,
                  double *v)
{
    int rc = util_h5_attr_f64(r->f, r->file, obj, name, v);
    if (!rc && (*v < lo || *v > hi))
        rc = util_error(UTIL_EDATA, "attribute '%s' on '%s' in '%s' is %g, expected %g..%g",
                        name, obj, r->file, *v, lo, hi);
    return rc;
}

static int rd_i64(struct rd *r, const char *obj, const char *name, int64_t lo, int64_t hi,
                  int64_t *v)
{
    int rc = util_h5_attr_i64(r->f, r->file, obj, name, v);
    if (!rc && (*v < lo || *v > hi))
        rc = util_error(UTIL_EDATA, "attribute '%s' on '%s' in '%s' is %lld, expected "
                        "%lld..%lld", name, obj, r->file, (long long)*v, (long long)lo,
                        (long long)hi);
    return rc;
}

static int rd_modulator(struct rd *r, const char *g, optics_modulator *d)
{
    char mod[32];
    int64_t px, ab, pb;
    int rc;
    if ((rc = util_h5_attr_str(r->f, r->file, g, "name", d->name, sizeof d->name)) ||
        (rc = util_h5_attr_str(r->f, r->file, g, "modulation", mod, sizeof mod)) ||
        (rc = rd_f64(r, g, "pitch_m", 1e-9, 1, &d->pitch_m)) ||
        (rc = rd_f64(r, g, "fill", 1e-6, 1, &d->fill)) ||
        (rc = rd_i64(r, g, "pixels", 1, (int64_t)1 << 30, &px)) ||
        (rc = rd_i64(r, g, "amplitude_bits", 0, 24, &ab)) ||
        (rc = rd_i64(r, g, "phase_bits", 0, 24, &pb)) ||
        (rc = rd_f64(r, g, "phase_error_rad", 0, 10, &d->phase_error_rad)))
        return rc;
    if (!strcmp(mod, "complex"))
        d->modulation = OPTICS_MOD_COMPLEX;
    else if (!strcmp(mod, "amplitude"))
        d->modulation = OPTICS_MOD_AMPLITUDE;
    else if (!strcmp(mod, "phase"))
        d->modulation = OPTICS_MOD_PHASE;
    else
        return util_error(UTIL_EDATA, "attribute 'modulation' on '%s' in '%s' is '%s', "
                          "expected complex, amplitude or phase", g, r->file, mod);
    d->pixels = (size_t)px;
    d->amplitude_bits = (int)ab;
    d->phase_bits = (int)pb;
    return UTIL_OK;
}

static int rd_profile(struct rd *r, compiler_profile *p)
{
    const char *g = "/profile", *c = "/profile/camera";
    int64_t ideal, px, adc;
    int rc;
    memset(p, 0, sizeof *p);
    if ((rc = util_h5_attr_str(r->f, r->file, g, "name", p->name, sizeof p->name)) ||
        (rc = rd_i64(r, g, "ideal", 0, 1, &ideal)) ||
        (rc = rd_f64(r, g, "wavelength_m", 1e-8, 1e-4, &p->wavelength_m)) ||
        (rc = rd_f64(r, g, "laser_power_w", 1e-15, 1e6, &p->laser_power_w)) ||
        (rc = rd_f64(r, g, "max_focal_m", 0, 1e6, &p->max_focal_m)) ||
        (rc = rd_f64(r, g, "max_na", 0, 1, &p->max_na)) ||
        (rc = rd_f64(r, g, "max_length_m", 0, 1e9, &p->max_length_m)) ||
        (rc = rd_modulator(r, "/profile/input", &p->input)) ||
        (rc = rd_modulator(r, "/profile/fourier", &p->fourier)) ||
        (rc = rd_modulator(r, "/profile/image", &p->image)) ||
        (rc = util_h5_attr_str(r->f, r->file, c, "name", p->camera.name,
                               sizeof p->camera.name)) ||
        (rc = rd_f64(r, c, "pitch_m", 1e-9, 1, &p->camera.pitch_m)) ||
        (rc = rd_f64(r, c, "fill", 1e-6, 1, &p->camera.fill)) ||
        (rc = rd_i64(r, c, "pixels", 1, (int64_t)1 << 30, &px)) ||
        (rc = rd_f64(r, c, "quantum_efficiency", 1e-6, 1, &p->camera.qe)) ||
        (rc = rd_f64(r, c, "full_well_e", 1, 1e12, &p->camera.full_well_e)) ||
        (rc = rd_f64(r, c, "read_noise_e", 0, 1e9, &p->camera.read_noise_e)) ||
        (rc = rd_f64(r, c, "dark_current_e_per_s", 0, 1e12, &p->camera.dark_e_per_s)) ||
        (rc = rd_i64(r, c, "adc_bits", 0, 32, &adc)) ||
        (rc = rd_f64(r, c, "exposure_s", 1e-15, 1e6, &p->camera.exposure_s)))
        return rc;
    /* Absent in systems compiled before pixel-aware designs: the point design. */
    int64_t fo = 0;
    if (util_h5_attr_exists(r->f, g, "fourier_oversample") &&
        (rc = rd_i64(r, g, "fourier_oversample", 0, 8, &fo)))
        return rc;
    p->fourier_oversample = (int)fo;
    p->ideal = (int)ideal;
    p->camera.pixels = (size_t)px;
    p->camera.adc_bits = (int)adc;
    return UTIL_OK;
}

static int rd_vec(struct rd *r, const char *path, size_t n, double **v)
{
    hsize_t d[1] = {n};
    return util_h5_read_f64(r->f, r->file, path, 1, d, v);
}

static int rd_mask(struct rd *r, const char *g, size_t m, compiler_mask *k)
{
    char p[320];
    double *ri = NULL;
    int rc;
    k->m = m;
    if ((rc = rd_f64(r, g, "gain", 1e-300, 1e300, &k->gain)) ||
        (rc = rd_vec(r, (snprintf(p, sizeof p, "%s/ideal", g), p), m, &k->ideal)))
        return rc;
    for (size_t i = 0; i < m; i++)
        if (fabs(k->ideal[i]) > 1 + 1e-12)
            return util_error(UTIL_EDATA, "'%s' in '%s': value %zu is %g, a passive mask "
                              "needs |t| <= 1", p, r->file, i, k->ideal[i]);
    hsize_t d2[2] = {m, 2};
    if ((rc = util_h5_read_f64(r->f, r->file, (snprintf(p, sizeof p, "%s/realised", g), p), 2,
                               d2, &ri)))
        return rc;
    k->realised = malloc(m * sizeof *k->realised);
    if (!k->realised) {
        free(ri);
        return util_error(UTIL_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < m; i++) {
        k->realised[i] = ri[2 * i] + I * ri[2 * i + 1];
        if (cabs(k->realised[i]) > 1 + 1e-9) {
            free(ri);
            return util_error(UTIL_EDATA, "'%s' in '%s': sample %zu has |t| = %g > 1 (a "
                              "passive mask cannot amplify)", p, r->file, i,
                              cabs(k->realised[i]));
        }
    }
    free(ri);
    snprintf(p, sizeof p, "%s/codes", g);
    if (util_h5_exists(r->f, p)) {
        hsize_t dc[2] = {m, 0};
        int64_t *c;
        if ((rc = util_h5_read_i64(r->f, r->file, p, 2, dc, &c)))
            return rc;
        if (dc[1] < 1 || dc[1] > 2) {
            free(c);
            return util_error(UTIL_EDATA, "'%s' in '%s' has %llu columns, expected 1 or 2",
                              p, r->file, (unsigned long long)dc[1]);
        }
        k->ncodes = (int)dc[1];
        k->codes = malloc(m * dc[1] * sizeof *k->codes);
        if (!k->codes) {
            free(c);
            return util_error(UTIL_ENOMEM, "out of memory");
        }
        for (size_t i = 0; i < m * dc[1]; i++) {
            if (c[i] < 0 || c[i] > (1 << 24)) {
                int64_t bad = c[i];
                free(c);
                return util_error(UTIL_EDATA, "'%s' in '%s': code %lld at %zu is outside "
                                  "0..2^24", p, r->file, (long long)bad, (size_t)(i / dc[1]));
            }
            k->codes[i] = (int32_t)c[i];
        }
        free(c);
    }
    return UTIL_OK;
}

static int rd_perm(struct rd *r, const char *path, size_t n, int64_t **v, int perm)
{
    hsize_t d[1] = {n};
    int rc = util_h5_read_i64(r->f, r->file, path, 1, d, v);
    if (rc)
        return rc;
    unsigned char *seen = perm ? calloc(n, 1) : NULL;
    if (perm && !seen)
        return util_error(UTIL_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        int64_t x = (*v)[i];
        if (x < 0 || (uint64_t)x >= (perm ? n : 2 * n) || (perm && seen[x]++)) {
            free(seen);
            return util_error(UTIL_EDATA, "'%s' in '%s': value %zu (%lld) is %s", path,
                              r->file, i, (long long)x,
                              perm ? "not part of a permutation" : "outside the plane");
        }
    }
    free(seen);
    return UTIL_OK;
}

/* The parts of a system must agree with each other and with the embedded model: the
 * grouping, the electronics after each chain, the layout parities and read-out samples,
 * the positions, and the device codes. */
static int consistent(struct rd *r, const compiler_system *s)
{
    const acdc_model *m = s->model;
    size_t *first = malloc(m->n_layers * sizeof *first);
    size_t *count = malloc(m->n_layers * sizeof *count);
    if (!first || !count) {
        free(first);
        free(count);
        return util_error(UTIL_ENOMEM, "out of memory");
    }
    size_t nc = compiler_group_for(m, &s->profile, first, count);
    int rc = UTIL_OK;
    if (nc != s->n_chains)
        rc = util_error(UTIL_EDATA, "'%s' has %zu optical chains; its model groups into %zu",
                        r->file, s->n_chains, nc);
    int rc_profile = compiler_profile_check(&s->profile);
    if (!rc && rc_profile) {
        util_error_prefix("'%s': '/profile'", r->file);
        rc = rc_profile;
    }
    if (!rc && !(s->aperture_m > 0))
        rc = util_error(UTIL_EDATA, "'%s': lens aperture %g m is not positive", r->file,
                        s->aperture_m);
    if (!rc && (s->in_mean == NULL) != (m->in_mean == NULL))
        rc = util_error(UTIL_EDATA, "'%s': the input standardisation ('/input') and the "
                        "model copy's ('/model/input') disagree", r->file);
    /* The 4f constant, measured again with the optics library, must be the recorded one. */
    double complex g4f = 0;
    if (!rc && (rc = compiler_measure_4f(s, &g4f)) == UTIL_OK && !(cabs(g4f) > 0))
        rc = util_error(UTIL_EDATA, "'%s': no light through a clear 4f stage", r->file);
    for (size_t c = 0; !rc && c < nc; c++) {
        const compiler_chain *ch = &s->chains[c];
        const acdc_layer *L = &m->layers[first[c] + count[c] - 1];
        const double len = 4.0 * s->focal_m * (double)ch->count;
        if (ch->first != first[c] || ch->count != count[c])
            rc = util_error(UTIL_EDATA, "'%s': chain %zu holds layers %zu..%zu; the model "
                            "groups layers %zu..%zu", r->file, c, ch->first,
                            ch->first + ch->count - 1, first[c], first[c] + count[c] - 1);
        else if (ch->relu != L->relu || (ch->perm == NULL) != (L->perm == NULL) ||
                 (ch->perm && memcmp(ch->perm, L->perm, s->n * sizeof *ch->perm)))
            rc = util_error(UTIL_EDATA, "'%s': the ReLU or permutation after chain %zu "
                            "differs from layer %zu of its model", r->file, c,
                            ch->first + ch->count - 1);
        else if (!(ch->gain > 0) || !(cabs(ch->g) > 0) || !(ch->efficiency > 0))
            rc = util_error(UTIL_EDATA, "'%s': chain %zu: gain %g, optical constant |g| %g "
                            "and efficiency %g must be positive", r->file, c, ch->gain,
                            cabs(ch->g), ch->efficiency);
        else if (fabs(ch->length_m - len) > 1e-9 * len)
            rc = util_error(UTIL_EDATA, "'%s': chain %zu is %g m long; %zu stages of f = %g m "
                            "make %g m", r->file, c, ch->length_m, ch->count, s->focal_m, len);
        else if (cabs(ch->g - cpow(g4f, (double)ch->count)) > 1e-9 * cabs(ch->g))
            rc = util_error(UTIL_EDATA, "'%s': chain %zu records the optical constant %g%+gi; "
                            "its %zu stages give %g%+gi", r->file, c, creal(ch->g),
                            cimag(ch->g), ch->count, creal(cpow(g4f, (double)ch->count)),
                            cimag(cpow(g4f, (double)ch->count)));
        else if (fabs(ch->ref_amplitude - s->field_amplitude) > 1e-9 * s->field_amplitude)
            rc = util_error(UTIL_EDATA, "'%s': chain %zu's reference amplitude %g differs "
                            "from the input field's %g", r->file, c, ch->ref_amplitude,
                            s->field_amplitude);
        if (!rc) {
            /* gain and efficiency follow from the masks (compiler/README.md) */
            double gains = 1, eff = 1;
            for (size_t k = 0; k < ch->count; k++) {
                const compiler_mask *mk[2] = {&ch->stages[k].fourier, ch->stages[k].image};
                for (int i = 0; i < 2; i++) {
                    if (!mk[i])
                        continue;
                    double pw = 0;
                    for (size_t q = 0; q < mk[i]->m; q++)
                        pw += creal(mk[i]->realised[q] * conj(mk[i]->realised[q]));
                    gains *= mk[i]->gain;
                    eff *= pw / (double)mk[i]->m;
                }
            }
            double gain = gains / (4.0 * cabs(ch->g) * s->field_amplitude * ch->ref_amplitude);
            if (fabs(ch->gain - gain) > 1e-9 * gain)
                rc = util_error(UTIL_EDATA, "'%s': chain %zu's electronic gain %g contradicts "
                                "its masks' gains (%g)", r->file, c, ch->gain, gain);
            else if (fabs(ch->efficiency - eff) > 1e-9 * eff + 1e-300)
                rc = util_error(UTIL_EDATA, "'%s': chain %zu's efficiency %g contradicts its "
                                "masks (%g)", r->file, c, ch->efficiency, eff);
        }
        for (size_t j = 0; !rc && j < s->n; j++)
            if ((size_t)ch->pixel[j] != compiler_layout(s->n, (int)(ch->count & 1), j, 0))
                rc = util_error(UTIL_EDATA, "'%s': chain %zu reads component %zu on sample "
                                "%lld; its layout puts it on %zu", r->file, c, j,
                                (long long)ch->pixel[j],
                                compiler_layout(s->n, (int)(ch->count & 1), j, 0));
        for (size_t k = 0; !rc && k < ch->count; k++) {
            const compiler_stage *st = &ch->stages[k];
            const compiler_mask *mk[2] = {&st->fourier, st->image};
            const optics_modulator *dev[2] = {&s->profile.fourier, &s->profile.image};
            double z = 4.0 * s->focal_m * (double)k;
            if (st->parity_in != (int)(k & 1) || fabs(st->z_m - z) > 1e-9 * (z + s->focal_m))
                rc = util_error(UTIL_EDATA, "'%s': stage %zu of chain %zu has parity %d at z "
                                "= %g m; expected %d at %g m", r->file, k, c, st->parity_in,
                                st->z_m, (int)(k & 1), z);
            for (int i = 0; !rc && i < 2; i++) {
                if (!mk[i])
                    continue;
                int want = s->profile.ideal ? 0 : optics_modulator_codes(dev[i]);
                if (mk[i]->ncodes != want) {
                    rc = util_error(UTIL_EDATA, "'%s': stage %zu of chain %zu: a %s mask "
                                    "has %d columns of device codes; device '%s' needs %d",
                                    r->file, k, c, i ? "image-plane" : "Fourier-plane",
                                    mk[i]->ncodes, dev[i]->name, want);
                    break;
                }
                /* amplitude devices: one amplitude level; complex: amplitude, phase;
                 * phase (double-phase): two phase levels */
                for (size_t q = 0; !rc && q < mk[i]->m * (size_t)mk[i]->ncodes; q++) {
                    int col = (int)(q % (size_t)mk[i]->ncodes);
                    int bits = dev[i]->modulation == OPTICS_MOD_PHASE ? dev[i]->phase_bits
                               : col == 0 ? dev[i]->amplitude_bits : dev[i]->phase_bits;
                    int64_t top = (int64_t)1 << bits;
                    if (mk[i]->codes[q] < 0 || (bits > 0 && mk[i]->codes[q] >= top) ||
                        (bits == 0 && mk[i]->codes[q] != 0))
                        rc = util_error(UTIL_EDATA, "'%s': stage %zu of chain %zu: device "
                                        "code %d at %zu is outside 0..%lld for %d bits",
                                        r->file, k, c, mk[i]->codes[q], q / (size_t)mk[i]->ncodes,
                                        (long long)(top - 1), bits);
                }
                /* ideal values, device codes and realised transmittance agree */
                for (size_t q = 0; !rc && q < mk[i]->m; q++) {
                    int32_t code[2] = {0, 0};
                    double complex t = s->profile.ideal
                                           ? mk[i]->ideal[q]
                                           : optics_modulator_value(dev[i], mk[i]->ideal[q], code);
                    int codes_ok = !mk[i]->ncodes ||
                                   (mk[i]->codes[q * (size_t)mk[i]->ncodes] == code[0] &&
                                    (mk[i]->ncodes < 2 || mk[i]->codes[2 * q + 1] == code[1]));
                    if (cabs(t - mk[i]->realised[q]) > 1e-9 || !codes_ok)
                        rc = util_error(UTIL_EDATA, "'%s': stage %zu of chain %zu: sample %zu "
                                        "of a %s mask: its ideal value, device codes and "
                                        "realised transmittance disagree", r->file, k, c, q,
                                        i ? "image-plane" : "Fourier-plane");
                }
            }
        }
    }
    free(first);
    free(count);
    return rc;
}

static int rd_all(struct rd *r, compiler_system *s)
{
    char fmt[32], g[96], p[160];
    int64_t n, n_in, n_out, m, version;
    int rc;
    if ((rc = util_h5_attr_str(r->f, r->file, "/", "format", fmt, sizeof fmt)))
        return rc;
    if (strcmp(fmt, "acdc-system"))
        return util_error(UTIL_EDATA, "'%s' is not a compiled system: attribute 'format' is "
                          "'%s', expected 'acdc-system'", r->file, fmt);
    /* Version 1 ordered the double-phase pairs of negative values the other way round:
     * its device codes are not what this version shows. */
    if ((rc = rd_i64(r, "/", "version", 1, 2, &version)))
        return rc;
    if (version == 1)
        return util_error(UTIL_EDATA, "'%s' was written by an earlier acdc-optics (system "
                          "format 1, other double-phase codes): compile it again from its "
                          "model", r->file);
    if ((rc = rd_i64(r, "/", "n", 1, (int64_t)1 << 28, &n)) ||
        (rc = rd_i64(r, "/", "n_in", 1, n, &n_in)) ||
        (rc = rd_i64(r, "/", "n_out", 1, n, &n_out)) ||
        (rc = rd_i64(r, "/", "m", 2 * n, 2 * n, &m)) ||
        (rc = rd_f64(r, "/", "wavelength_m", 1e-8, 1e-4, &s->wavelength_m)) ||
        (rc = rd_f64(r, "/", "pitch_m", 1e-9, 1, &s->pitch_m)) ||
        (rc = rd_f64(r, "/", "fourier_pitch_m", 1e-9, 1, &s->fourier_pitch_m)) ||
        (rc = rd_f64(r, "/", "focal_m", 1e-9, 1e9, &s->focal_m)) ||
        (rc = rd_f64(r, "/", "aperture_m", 0, 1e9, &s->aperture_m)) ||
        (rc = rd_f64(r, "/", "field_amplitude", 1e-150, 1e30, &s->field_amplitude)) ||
        (rc = rd_f64(r, "/", "relay_magnification", 1e-6, 1e6, &s->relay_magnification)) ||
        (rc = rd_profile(r, &s->profile)))
        return rc;
    s->n = (size_t)n;
    s->n_in = (size_t)n_in;
    s->n_out = (size_t)n_out;
    s->m = (size_t)m;
    s->fm = compiler_fourier_samples(&s->profile, s->m);
    compiler_profile e;
    compiler_profile_effective(&s->profile, &e);
    const struct {
        const char *what;
        double have;
        const optics_modulator *dev;
    } pitches[] = {{"pitch_m", s->pitch_m, &e.input},
                   {"fourier_pitch_m", s->fourier_pitch_m, &e.fourier}};
    for (int i = 0; i < 2; i++) {
        double dev = optics_modulator_sample_pitch(pitches[i].dev);
        if (fabs(pitches[i].have - dev) > 1e-9 * dev)
            return util_error(UTIL_EDATA, "'%s': %s %g m is not the sample pitch of device "
                              "'%s' (%d pixel(s) of %g m)", r->file, pitches[i].what,
                              pitches[i].have, pitches[i].dev->name,
                              optics_modulator_pixels_per_sample(pitches[i].dev),
                              pitches[i].dev->pitch_m);
    }
    double want = (double)s->fm * s->pitch_m * s->fourier_pitch_m / s->wavelength_m;
    if (fabs(s->focal_m - want) > 1e-9 * want)
        return util_error(UTIL_EDATA, "'%s': focal length %g m contradicts the sampling "
                          "(%zu·pitch·Fourier pitch/λ = %g m)", r->file, s->focal_m, s->fm,
                          want);
    if (util_h5_attr_exists(r->f, "/", "warnings"))
        util_h5_attr_str(r->f, r->file, "/", "warnings", s->warnings, sizeof s->warnings);
    if ((rc = acdc_model_read_h5(r->f, r->file, "/model", &s->model)))
        return rc;
    if (s->model->n != s->n || s->model->n_in != s->n_in || s->model->n_out != s->n_out)
        return util_error(UTIL_EDATA, "'%s': the model copy's shape differs from the "
                          "system's", r->file);
    if (util_h5_exists(r->f, "/input") &&
        ((rc = rd_vec(r, "/input/mean", s->n_in, &s->in_mean)) ||
         (rc = rd_vec(r, "/input/scale", s->n_in, &s->in_scale))))
        return rc;
    /* Chains: /chains/0 .. and they must cover the model's layers in order. */
    size_t c = 0, next = 0;
    while (snprintf(g, sizeof g, "/chains/%zu", c), util_h5_exists(r->f, g))
        c++;
    if (c == 0)
        return util_error(UTIL_EDATA, "'%s' holds no optical chains ('/chains/0')", r->file);
    if (!(s->chains = calloc(c, sizeof *s->chains)))
        return util_error(UTIL_ENOMEM, "out of memory");
    s->n_chains = c;
    for (c = 0; c < s->n_chains; c++) {
        compiler_chain *ch = &s->chains[c];
        int64_t first, count, relu;
        double gre, gim;
        snprintf(g, sizeof g, "/chains/%zu", c);
        if ((rc = rd_i64(r, g, "first", 0, 100000, &first)) ||
            (rc = rd_i64(r, g, "count", 1, 100000, &count)) ||
            (rc = rd_i64(r, g, "relu", 0, 1, &relu)) ||
            (rc = rd_f64(r, g, "g_re", -1e300, 1e300, &gre)) ||
            (rc = rd_f64(r, g, "g_im", -1e300, 1e300, &gim)) ||
            (rc = rd_f64(r, g, "ref_amplitude", 1e-300, 1e300, &ch->ref_amplitude)) ||
            (rc = rd_f64(r, g, "gain", -1e300, 1e300, &ch->gain)) ||
            (rc = rd_f64(r, g, "efficiency", 0, 1, &ch->efficiency)) ||
            (rc = rd_f64(r, g, "length_m", 0, 1e12, &ch->length_m)))
            return rc;
        if ((size_t)first != next || (size_t)(first + count) > s->model->n_layers)
            return util_error(UTIL_EDATA, "'%s': chain %zu covers layers %lld..%lld, but the "
                              "next layer is %zu of %zu", r->file, c, (long long)first,
                              (long long)(first + count - 1), next, s->model->n_layers);
        next = (size_t)(first + count);
        ch->first = (size_t)first;
        ch->count = (size_t)count;
        ch->relu = (int)relu;
        ch->g = gre + I * gim;
#define RV(name, dst) rd_vec(r, (snprintf(p, sizeof p, "%s/" name, g), p), s->n, &dst)
        if ((rc = RV("enc_a", ch->enc_a)) || (rc = RV("enc_bias", ch->enc_bias)) ||
            (rc = RV("bias", ch->bias)) ||
            (rc = rd_perm(r, (snprintf(p, sizeof p, "%s/pixel", g), p), s->n, &ch->pixel, 0)))
            return rc;
#undef RV
        snprintf(p, sizeof p, "%s/perm", g);
        if (util_h5_exists(r->f, p) && (rc = rd_perm(r, p, s->n, &ch->perm, 1)))
            return rc;
        if (!(ch->stages = calloc(ch->count, sizeof *ch->stages)))
            return util_error(UTIL_ENOMEM, "out of memory");
        for (size_t k = 0; k < ch->count; k++) {
            compiler_stage *st = &ch->stages[k];
            char sg[128];
            int64_t layer, par;
            snprintf(sg, sizeof sg, "%s/stages/%zu", g, k);
            if ((rc = rd_i64(r, sg, "layer", first + (int64_t)k, first + (int64_t)k, &layer)) ||
                (rc = rd_i64(r, sg, "parity_in", 0, 1, &par)) ||
                (rc = rd_f64(r, sg, "z_m", 0, 1e12, &st->z_m)) ||
                (rc = rd_mask(r, (snprintf(p, sizeof p, "%s/fourier", sg), p), s->fm,
                              &st->fourier)))
                return rc;
            st->layer = (size_t)layer;
            st->parity_in = (int)par;
            snprintf(p, sizeof p, "%s/image", sg);
            if (util_h5_exists(r->f, p)) {
                if (k == 0)
                    return util_error(UTIL_EDATA, "'%s': '%s' is the first stage of its "
                                      "chain and cannot have an image-plane mask", r->file, p);
                if (!(st->image = calloc(1, sizeof *st->image)))
                    return util_error(UTIL_ENOMEM, "out of memory");
                if ((rc = rd_mask(r, p, s->m, st->image)))
                    return rc;
            } else if (k > 0) {
                return util_error(UTIL_EDATA, "missing group '%s' in '%s'", p, r->file);
            }
        }
    }
    if (next != s->model->n_layers)
        return util_error(UTIL_EDATA, "'%s': the chains cover %zu of the model's %zu layers",
                          r->file, next, s->model->n_layers);
    return consistent(r, s);
}

int compiler_system_read(const char *path, compiler_system **out)
{
    hid_t f;
    *out = NULL;
    int rc = util_h5_open(path, &f);
    if (rc)
        return rc;
    compiler_system *s = calloc(1, sizeof *s);
    if (!s) {
        H5Fclose(f);
        return util_error(UTIL_ENOMEM, "out of memory");
    }
    struct rd r = {f, path};
    rc = rd_all(&r, s);
    H5Fclose(f);
    if (rc) {
        compiler_system_free(s);
        return rc;
    }
    *out = s;
    return UTIL_OK;
}

/* ---- printing ---- */

static const char *modulation_text(const optics_modulator *d, int ideal)
{
    if (ideal)
        return "ideal (continuous)";
    return d->modulation == OPTICS_MOD_COMPLEX ? "amplitude + phase"
           : d->modulation == OPTICS_MOD_AMPLITUDE ? "amplitude only"
                                                     : "phase only (double-phase)";
}

void compiler_system_print(const compiler_system *s, const char *name, FILE *f)
{
    const compiler_profile *p = &s->profile;
    size_t masks_f = 0, masks_i = 0, lenses = 0;
    double total = 0;
    fprintf(f, "%s: compiled optical system for an ACDC cascade (n = %zu, %zu layers)\n",
            name, s->n, s->model->n_layers);
    fprintf(f, "  profile '%s'; wavelength %.1f nm; %zu samples per plane at %.3f um "
            "(Fourier planes: %zu at %.3f um)\n", p->name, 1e9 * s->wavelength_m, s->m,
            1e6 * s->pitch_m, s->fm, 1e6 * s->fourier_pitch_m);
    if (p->fourier_oversample > 0)
        fprintf(f, "  pixel-aware design: Fourier masks compensate the pixels' transforms, "
                "%d Fourier samples per frequency step\n", p->fourier_oversample);
    compiler_profile eff;
    compiler_profile_effective(p, &eff);
    const size_t ppx_in = (size_t)optics_modulator_pixels_per_sample(&eff.input);
    const size_t ppx_f = (size_t)optics_modulator_pixels_per_sample(&eff.fourier);
    const size_t ppx_im = (size_t)optics_modulator_pixels_per_sample(&eff.image);
    if (ppx_in > 1 || ppx_f > 1 || (s->n_chains < s->model->n_layers && ppx_im > 1))
        fprintf(f, "  phase-only modulators show each sample as a double-phase pair of two "
                "pixels side by side\n");
    fprintf(f, "  every lens: f = %.2f mm, clear aperture %.2f mm, NA %.4f\n",
            1e3 * s->focal_m, 1e3 * s->aperture_m, 0.5 * s->aperture_m / s->focal_m);
    for (size_t c = 0; c < s->n_chains; c++) {
        const compiler_chain *ch = &s->chains[c];
        fprintf(f, "\n  optical chain %zu: layers %zu..%zu, %.1f mm long, optical "
                "efficiency %.3g\n", c, ch->first, ch->first + ch->count - 1,
                1e3 * ch->length_m, ch->efficiency);
        fprintf(f, "    %-26s %10s %10s %10s %7s %9s\n", "element", "z (mm)", "f (mm)",
                "aper (mm)", "pixels", "pitch(um)");
        fprintf(f, "    %-26s %10.2f %10s %10s %7zu %9.3f\n", "input modulator", 0.0, "-",
                "-", s->m * ppx_in, 1e6 * p->input.pitch_m);
        for (size_t k = 0; k < ch->count; k++) {
            const compiler_stage *st = &ch->stages[k];
            double z = 1e3 * st->z_m, fl = 1e3 * s->focal_m, ap = 1e3 * s->aperture_m;
            if (st->image) {
                fprintf(f, "    %-26s %10.2f %10s %10s %7zu %9.3f\n", "image mask (a)", z, "-",
                        "-", s->m * ppx_im, 1e6 * p->image.pitch_m);
                masks_i++;
            }
            fprintf(f, "    %-26s %10.2f %10.2f %10.2f %7s %9s\n", "cylindrical lens", z + fl,
                    fl, ap, "-", "-");
            fprintf(f, "    %-20s%6zu %10.2f %10s %10s %7zu %9.3f\n", "Fourier mask (d) L",
                    st->layer, z + 2 * fl, "-", "-", s->fm * ppx_f, 1e6 * p->fourier.pitch_m);
            fprintf(f, "    %-26s %10.2f %10.2f %10.2f %7s %9s\n", "cylindrical lens",
                    z + 3 * fl, fl, ap, "-", "-");
            masks_f++;
            lenses += 2;
        }
        if (fabs(s->relay_magnification - 1) > 1e-9)
            fprintf(f, "    %-26s %10.2f %10s %10s %7s %9s\n", "relay to camera", 1e3 * ch->length_m,
                    "-", "-", "-", "-");
        fprintf(f, "    %-26s %10.2f %10s %10s %7zu %9.3f\n", "homodyne camera",
                1e3 * ch->length_m, "-", "-", p->camera.pixels, 1e6 * p->camera.pitch_m);
        double bmax = 0;
        for (size_t j = 0; j < s->n; j++)
            bmax = fmax(bmax, fabs(ch->bias[j]));
        fprintf(f, "    electronics: gain %.4g, biases folded (max |b| = %.3g), %s%s\n",
                ch->gain, bmax, ch->relu ? "ReLU" : "no ReLU",
                ch->perm ? ", permutation" : "");
        total += ch->length_m;
    }
    fprintf(f, "\n  bill of materials\n");
    fprintf(f, "    %3zu x laser, %.1f nm, %.3g mW\n", (size_t)1, 1e9 * s->wavelength_m,
            1e3 * p->laser_power_w);
    fprintf(f, "    %3zu x input modulator '%s' (%s), %zu px used\n", s->n_chains,
            p->input.name, modulation_text(&p->input, p->ideal), s->m * ppx_in);
    fprintf(f, "    %3zu x Fourier-plane mask '%s' (%s), %zu px used\n", masks_f,
            p->fourier.name, modulation_text(&p->fourier, p->ideal), s->fm * ppx_f);
    if (masks_i)
        fprintf(f, "    %3zu x image-plane mask '%s' (%s), %zu px used\n", masks_i,
                p->image.name, modulation_text(&p->image, p->ideal), s->m * ppx_im);
    fprintf(f, "    %3zu x cylindrical lens, f = %.2f mm, aperture %.2f mm\n", lenses,
            1e3 * s->focal_m, 1e3 * s->aperture_m);
    fprintf(f, "    %3zu x balanced homodyne detector: camera '%s' pair + reference beam "
            "splitter\n", s->n_chains, p->camera.name);
    if (fabs(s->relay_magnification - 1) > 1e-9)
        fprintf(f, "    %3zu x relay lens pair, magnification %.4g (sample pitch %.3f um -> "
                "camera pitch %.3f um)\n", s->n_chains, s->relay_magnification,
                1e6 * s->pitch_m, 1e6 * p->camera.pitch_m);
    fprintf(f, "    %3zu x opto-electronic stage (detect, bias, ReLU, permute, encode)\n",
            s->n_chains);
    fprintf(f, "  total optical path %.1f mm\n", 1e3 * total);
    if (s->warnings[0]) {
        fprintf(f, "\n  warnings:\n");
        for (const char *w = s->warnings; *w;) {
            const char *e = strchr(w, '\n');
            size_t len = e ? (size_t)(e - w) : strlen(w);
            fprintf(f, "    %.*s\n", (int)len, w);
            w += len + (e != NULL);
        }
    }
}
