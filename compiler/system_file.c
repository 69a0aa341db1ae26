/* SPDX-License-Identifier: GPL-3.0-or-later */
/* compiler/system_file.c -- the system file (compiler/FORMAT.md): writing and reading.
 *
 * The profile copy goes through the profile's key table (acdc_compiler_profile_write_h5 /
 * acdc_compiler_profile_read_h5), the model copy through models/io.h.  The reader checks
 * every value's type and range here, one reader per group, then hands the whole system
 * to acdc_compiler_system_check() (system_check.c) for the rules its parts share.
 */
#include "compiler/system.h"
#include "models/io.h"
#include "util/error.h"
#include "util/h5.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The format version this build writes and reads.  Version 1 ordered the double-phase
 * pairs of negative values the other way round: its device codes are not what this
 * version shows, and such files are refused with a request to compile again. */
enum { SYSTEM_VERSION = 2 };

/* ---- writing ---- */

static int write_mask(hid_t f, const char *grp, const acdc_compiler_mask *k)
{
    char p[320];
    int rc;
    hsize_t d1[1] = {k->m}, d2[2] = {k->m, 2}, dc[2] = {k->m, (hsize_t)k->ncodes};
    double *ri = malloc(2 * k->m * sizeof *ri);
    if (!ri)
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory writing '%s'", grp);
    for (size_t i = 0; i < k->m; i++) {
        ri[2 * i] = creal(k->realised[i]);
        ri[2 * i + 1] = cimag(k->realised[i]);
    }
    rc = acdc_util_h5_group(f, grp);
    if (!rc)
        rc = acdc_util_h5_set_attr_f64(f, grp, "gain", k->gain);
    if (!rc)
        rc = acdc_util_h5_write_f64(f, (snprintf(p, sizeof p, "%s/ideal", grp), p), 1,
                                    d1, k->ideal);
    if (!rc)
        rc = acdc_util_h5_write_f64(f, (snprintf(p, sizeof p, "%s/realised", grp), p), 2, d2, ri);
    free(ri);
    if (rc || !k->ncodes)
        return rc;
    int64_t *c = malloc(k->m * (size_t)k->ncodes * sizeof *c);
    if (!c)
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory writing '%s'", grp);
    for (size_t i = 0; i < k->m * (size_t)k->ncodes; i++)
        c[i] = k->codes[i];
    rc = acdc_util_h5_write_i64(f, (snprintf(p, sizeof p, "%s/codes", grp), p), 2, dc, c);
    free(c);
    return rc;
}

/* One row of the element table: /elements/<idx>. */
struct element {
    const char *type;
    size_t chain;
    double z_m, focal_m;
    size_t pixels, rows;
    double pitch_m;
    const char *device;
};

static int write_element(hid_t f, const acdc_compiler_system *s, size_t idx,
                         const struct element *e)
{
    char g[64];
    int rc;
    snprintf(g, sizeof g, "/elements/%zu", idx);
    if ((rc = acdc_util_h5_group(f, g)) ||
        (rc = acdc_util_h5_set_attr_str(f, g, "type", e->type)) ||
        (rc = acdc_util_h5_set_attr_i64(f, g, "chain", (int64_t)e->chain)) ||
        (rc = acdc_util_h5_set_attr_f64(f, g, "z_m", e->z_m)) ||
        (rc = acdc_util_h5_set_attr_f64(f, g, "focal_m", e->focal_m)) ||
        (rc = acdc_util_h5_set_attr_f64(f, g, "aperture_m", s->aperture_m)) ||
        (rc = acdc_util_h5_set_attr_i64(f, g, "pixels", (int64_t)e->pixels)) ||
        (rc = acdc_util_h5_set_attr_i64(f, g, "rows", (int64_t)e->rows)) ||
        (rc = acdc_util_h5_set_attr_f64(f, g, "pitch_m", e->pitch_m)) ||
        (rc = acdc_util_h5_set_attr_str(f, g, "device", e->device)))
        return rc;
    return ACDC_UTIL_OK;
}

/* The element table for people and other tools: /elements/<i> in optical order. */
static int write_elements(hid_t f, const acdc_compiler_system *s)
{
    const acdc_compiler_profile *p = &s->profile;
    acdc_compiler_profile e;
    acdc_compiler_profile_effective(p, &e);
    /* Device pixels: two per sample where double-phase pairs need them (rank 1); a
     * superpixel of k x k per sample (rank 2).  Rows: 1 (rank 1) or the columns. */
    const size_t sp = (size_t)s->profile.superpixel;
    const size_t px_in = s->m * (s->rank == 2 ? sp : (size_t)acdc_optics_modulator_pixels_per_sample(&e.input));
    const size_t px_f = s->fm * (s->rank == 2 ? sp : (size_t)acdc_optics_modulator_pixels_per_sample(&e.fourier));
    const size_t px_im = s->m * (s->rank == 2 ? sp : (size_t)acdc_optics_modulator_pixels_per_sample(&e.image));
    const size_t r_in = s->rank == 2 ? px_in : 1, r_f = s->rank == 2 ? px_f : 1;
    const size_t r_im = s->rank == 2 ? px_im : 1, r_cam = s->rank == 2 ? s->m : 1;
    const char *lens = s->rank == 2 ? "spherical lens" : "cylindrical lens";
    const double fl = s->focal_m;
    size_t idx = 0;
    int rc = acdc_util_h5_group(f, "/elements");
    for (size_t c = 0; !rc && c < s->n_chains; c++) {
        const acdc_compiler_chain *ch = &s->chains[c];
        struct element in = {"input modulator", c, 0, 0, px_in, r_in, p->input.pitch_m,
                             p->input.name};
        rc = write_element(f, s, idx++, &in);
        for (size_t k = 0; !rc && k < ch->count; k++) {
            double z = ch->stages[k].z_m;
            struct element row[] = {
                {"image-plane mask", c, z, 0, px_im, r_im, p->image.pitch_m, p->image.name},
                {lens, c, z + fl, fl, 0, 0, 0, "lens"},
                {"Fourier-plane mask", c, z + 2 * fl, 0, px_f, r_f, p->fourier.pitch_m,
                 p->fourier.name},
                {lens, c, z + 3 * fl, fl, 0, 0, 0, "lens"}};
            for (size_t i = ch->stages[k].image ? 0 : 1; !rc && i < 4; i++)
                rc = write_element(f, s, idx++, &row[i]);
        }
        /* the camera pixels the image plane is relayed onto, one per sample */
        struct element cam = {"balanced homodyne camera", c, ch->length_m, 0,
                              s->rank == 2 ? s->m : p->camera.pixels, r_cam,
                              p->camera.pitch_m, p->camera.name};
        if (!rc)
            rc = write_element(f, s, idx++, &cam);
    }
    return rc;
}

static int write_root(hid_t f, const acdc_compiler_system *s)
{
    int rc;
    if ((rc = acdc_util_h5_set_attr_str(f, "/", "format", "acdc-system")) ||
        (rc = acdc_util_h5_set_attr_i64(f, "/", "version", SYSTEM_VERSION)) ||
        (rc = acdc_util_h5_set_attr_i64(f, "/", "n", (int64_t)s->n)) ||
        (rc = acdc_util_h5_set_attr_i64(f, "/", "n_in", (int64_t)s->n_in)) ||
        (rc = acdc_util_h5_set_attr_i64(f, "/", "n_out", (int64_t)s->n_out)) ||
        (rc = acdc_util_h5_set_attr_i64(f, "/", "m", (int64_t)s->m)) ||
        (rc = acdc_util_h5_set_attr_i64(f, "/", "rank", (int64_t)(s->rank == 2 ? 2 : 1))) ||
        (rc = acdc_util_h5_set_attr_f64(f, "/", "wavelength_m", s->wavelength_m)) ||
        (rc = acdc_util_h5_set_attr_f64(f, "/", "pitch_m", s->pitch_m)) ||
        (rc = acdc_util_h5_set_attr_f64(f, "/", "fourier_pitch_m", s->fourier_pitch_m)) ||
        (rc = acdc_util_h5_set_attr_f64(f, "/", "focal_m", s->focal_m)) ||
        (rc = acdc_util_h5_set_attr_f64(f, "/", "aperture_m", s->aperture_m)) ||
        (rc = acdc_util_h5_set_attr_f64(f, "/", "field_amplitude", s->field_amplitude)) ||
        (rc = acdc_util_h5_set_attr_f64(f, "/", "relay_magnification", s->relay_magnification)) ||
        (rc = acdc_util_h5_set_attr_str(f, "/", "warnings", s->warnings)) ||
        (rc = acdc_util_h5_set_attr_str(f, "/", "signal_range",
                                        s->signal == ACDC_COMPILER_SIGNAL_CALIBRATED  ? "calibrated"
                                        : s->signal == ACDC_COMPILER_SIGNAL_SYNTHETIC ? "synthetic"
                                                                            : "estimated")) ||
        (rc = acdc_util_h5_set_attr_i64(f, "/", "calibration_rows", (int64_t)s->calibration_rows)))
        return rc;
    hsize_t din[1] = {s->n_in};
    if (s->in_mean &&
        ((rc = acdc_util_h5_write_f64(f, "/input/mean", 1, din, s->in_mean)) ||
         (rc = acdc_util_h5_write_f64(f, "/input/scale", 1, din, s->in_scale))))
        return rc;
    return ACDC_UTIL_OK;
}

static int write_stage(hid_t f, const char *g, size_t k, const acdc_compiler_stage *st)
{
    char sg[128], p[160];
    int rc;
    snprintf(sg, sizeof sg, "%s/stages/%zu", g, k);
    if ((rc = acdc_util_h5_group(f, sg)) ||
        (rc = acdc_util_h5_set_attr_i64(f, sg, "layer", (int64_t)st->layer)) ||
        (rc = acdc_util_h5_set_attr_i64(f, sg, "parity_in", st->parity_in)) ||
        (rc = acdc_util_h5_set_attr_f64(f, sg, "z_m", st->z_m)) ||
        (rc = write_mask(f, (snprintf(p, sizeof p, "%s/fourier", sg), p), &st->fourier)))
        return rc;
    if (st->image &&
        (rc = write_mask(f, (snprintf(p, sizeof p, "%s/image", sg), p), st->image)))
        return rc;
    return ACDC_UTIL_OK;
}

static int write_chain(hid_t f, const acdc_compiler_system *s, size_t c)
{
    const acdc_compiler_chain *ch = &s->chains[c];
    char g[96], p[160];
    hsize_t dn[1] = {s->n};
    int rc;
    snprintf(g, sizeof g, "/chains/%zu", c);
#define W(name, v) acdc_util_h5_write_f64(f, (snprintf(p, sizeof p, "%s/" name, g), p), 1, dn, v)
    if ((rc = acdc_util_h5_group(f, g)) ||
        (rc = acdc_util_h5_set_attr_i64(f, g, "first", (int64_t)ch->first)) ||
        (rc = acdc_util_h5_set_attr_i64(f, g, "count", (int64_t)ch->count)) ||
        (rc = acdc_util_h5_set_attr_i64(f, g, "relu", ch->relu)) ||
        (rc = acdc_util_h5_set_attr_f64(f, g, "g_re", creal(ch->g))) ||
        (rc = acdc_util_h5_set_attr_f64(f, g, "g_im", cimag(ch->g))) ||
        (rc = acdc_util_h5_set_attr_f64(f, g, "ref_amplitude", ch->ref_amplitude)) ||
        (rc = acdc_util_h5_set_attr_f64(f, g, "gain", ch->gain)) ||
        (rc = acdc_util_h5_set_attr_f64(f, g, "efficiency", ch->efficiency)) ||
        (rc = acdc_util_h5_set_attr_f64(f, g, "length_m", ch->length_m)) ||
        (rc = acdc_util_h5_set_attr_f64(f, g, "exposure_s", ch->exposure_s)) ||
        (rc = acdc_util_h5_set_attr_i64(f, g, "frames", (int64_t)ch->frames)) ||
        (rc = acdc_util_h5_set_attr_f64(f, g, "signal_peak", ch->signal_peak)) ||
        (rc = acdc_util_h5_set_attr_f64(f, g, "signal_rms", ch->signal_rms)) ||
        (rc = acdc_util_h5_set_attr_f64(f, g, "snr", ch->snr)) ||
        (rc = W("enc_a", ch->enc_a)) || (rc = W("enc_bias", ch->enc_bias)) ||
        (rc = W("bias", ch->bias)) ||
        (rc = acdc_util_h5_write_i64(f, (snprintf(p, sizeof p, "%s/pixel", g), p), 1, dn,
                                     ch->pixel)))
        return rc;
#undef W
    if (ch->perm &&
        (rc = acdc_util_h5_write_i64(f, (snprintf(p, sizeof p, "%s/perm", g), p), 1, dn, ch->perm)))
        return rc;
    for (size_t k = 0; k < ch->count; k++)
        if ((rc = write_stage(f, g, k, &ch->stages[k])))
            return rc;
    return ACDC_UTIL_OK;
}

/* /verdict: attributes of the whole, one subgroup /verdict/K per effect. */
static int write_verdict(hid_t f, const acdc_compiler_verdict *v)
{
    int rc;
    if (!v->rows)
        return ACDC_UTIL_OK;
    if ((rc = acdc_util_h5_group(f, "/verdict")) ||
        (rc = acdc_util_h5_set_attr_i64(f, "/verdict", "rows", (int64_t)v->rows)) ||
        (rc = acdc_util_h5_set_attr_i64(f, "/verdict", "oversample", v->oversample)) ||
        (rc = acdc_util_h5_set_attr_str(f, "/verdict", "conditions", v->conditions)) ||
        (rc = acdc_util_h5_set_attr_f64(f, "/verdict", "numeric_accuracy", v->numeric_accuracy)) ||
        (rc = acdc_util_h5_set_attr_f64(f, "/verdict", "accuracy", v->accuracy)) ||
        (rc = acdc_util_h5_set_attr_f64(f, "/verdict", "rel_rms", v->rel_rms)) ||
        (rc = acdc_util_h5_set_attr_f64(f, "/verdict", "chain_rms", v->chain_rms)) ||
        (rc = acdc_util_h5_set_attr_i64(f, "/verdict", "saturated", v->saturated)) ||
        (rc = acdc_util_h5_set_attr_i64(f, "/verdict", "effects", (int64_t)v->n)))
        return rc;
    for (size_t k = 0; k < v->n; k++) {
        char g[64];
        snprintf(g, sizeof g, "/verdict/%zu", k);
        if ((rc = acdc_util_h5_group(f, g)) ||
            (rc = acdc_util_h5_set_attr_str(f, g, "name", v->effect[k].name)) ||
            (rc = acdc_util_h5_set_attr_f64(f, g, "chain_rms", v->effect[k].chain_rms)) ||
            (rc = acdc_util_h5_set_attr_f64(f, g, "accuracy", v->effect[k].accuracy)) ||
            (rc = acdc_util_h5_set_attr_f64(f, g, "share", v->effect[k].share)))
            return rc;
    }
    return ACDC_UTIL_OK;
}

static int write_all(hid_t f, const acdc_compiler_system *s)
{
    int rc;
    if ((rc = write_root(f, s)) ||
        (rc = acdc_compiler_profile_write_h5(f, "/profile", &s->profile)) ||
        (rc = acdc_model_write_h5(f, "/model", s->model)) || (rc = write_elements(f, s)) ||
        (rc = write_verdict(f, &s->verdict)))
        return rc;
    for (size_t c = 0; c < s->n_chains; c++)
        if ((rc = write_chain(f, s, c)))
            return rc;
    return ACDC_UTIL_OK;
}

int acdc_compiler_system_write(const acdc_compiler_system *s, const char *path)
{
    acdc_util_h5_out o;
    int rc = acdc_util_h5_create(path, &o);
    if (rc)
        return rc;
    if ((rc = write_all(o.fid, s))) {
        acdc_util_h5_abort(&o);
        return rc;
    }
    return acdc_util_h5_commit(&o);
}

/* ---- reading ---- */

struct rd {
    hid_t f;
    const char *file;
};

static int rd_f64(struct rd *r, const char *obj, const char *name, double lo, double hi,
                  double *v)
{
    int rc = acdc_util_h5_attr_f64(r->f, r->file, obj, name, v);
    if (!rc && (*v < lo || *v > hi))
        rc = acdc_util_error(ACDC_UTIL_EDATA,
                             "attribute '%s' on '%s' in '%s' is %g, expected %g..%g",
                             name, obj, r->file, *v, lo, hi);
    return rc;
}

static int rd_i64(struct rd *r, const char *obj, const char *name, int64_t lo, int64_t hi,
                  int64_t *v)
{
    int rc = acdc_util_h5_attr_i64(r->f, r->file, obj, name, v);
    if (!rc && (*v < lo || *v > hi))
        rc = acdc_util_error(ACDC_UTIL_EDATA, "attribute '%s' on '%s' in '%s' is %lld, expected "
                             "%lld..%lld", name, obj, r->file, (long long)*v, (long long)lo,
                             (long long)hi);
    return rc;
}

static int rd_vec(struct rd *r, const char *path, size_t n, double **v)
{
    hsize_t d[1] = {n};
    return acdc_util_h5_read_f64(r->f, r->file, path, 1, d, v);
}

/* The ideal values of a mask: passive, |t| <= 1. */
static int rd_mask_ideal(struct rd *r, const char *g, acdc_compiler_mask *k)
{
    char p[320];
    int rc = rd_vec(r, (snprintf(p, sizeof p, "%s/ideal", g), p), k->m, &k->ideal);
    for (size_t i = 0; !rc && i < k->m; i++)
        if (fabs(k->ideal[i]) > 1 + 1e-12)
            rc = acdc_util_error(ACDC_UTIL_EDATA, "'%s' in '%s': value %zu is %g, a passive mask "
                                 "needs |t| <= 1", p, r->file, i, k->ideal[i]);
    return rc;
}

/* The realised transmittance: m × 2 (real, imaginary), |t| <= 1. */
static int rd_mask_realised(struct rd *r, const char *g, acdc_compiler_mask *k)
{
    char p[320];
    hsize_t d2[2] = {k->m, 2};
    double *ri = NULL;
    int rc = acdc_util_h5_read_f64(r->f, r->file, (snprintf(p, sizeof p, "%s/realised", g), p),
                                   2, d2, &ri);
    if (rc)
        return rc;
    if (!(k->realised = malloc(k->m * sizeof *k->realised)))
        rc = acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory reading '%s' in '%s'", p, r->file);
    for (size_t i = 0; !rc && i < k->m; i++) {
        k->realised[i] = ri[2 * i] + I * ri[2 * i + 1];
        if (cabs(k->realised[i]) > 1 + 1e-9)
            rc = acdc_util_error(ACDC_UTIL_EDATA, "'%s' in '%s': sample %zu has |t| = %g > 1 (a "
                                 "passive mask cannot amplify)", p, r->file, i,
                                 cabs(k->realised[i]));
    }
    free(ri);
    return rc;
}

/* The device codes, if any: m × 1 or m × 2 levels in 0..2^24 (each code's own range
 * depends on the device and is checked by acdc_compiler_system_check()). */
static int rd_mask_codes(struct rd *r, const char *g, acdc_compiler_mask *k)
{
    char p[320];
    snprintf(p, sizeof p, "%s/codes", g);
    if (!acdc_util_h5_exists(r->f, p))
        return ACDC_UTIL_OK;
    hsize_t dc[2] = {k->m, 0};
    int64_t *c;
    int rc = acdc_util_h5_read_i64(r->f, r->file, p, 2, dc, &c);
    if (rc)
        return rc;
    if (dc[1] < 1 || dc[1] > 2)
        rc = acdc_util_error(ACDC_UTIL_EDATA, "'%s' in '%s' has %llu columns, expected 1 or 2", p,
                             r->file, (unsigned long long)dc[1]);
    else if (!(k->codes = malloc(k->m * dc[1] * sizeof *k->codes)))
        rc = acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory reading '%s' in '%s'", p, r->file);
    else
        k->ncodes = (int)dc[1];
    for (size_t i = 0; !rc && i < k->m * dc[1]; i++) {
        if (c[i] < 0 || c[i] > (1 << 24))
            rc = acdc_util_error(ACDC_UTIL_EDATA,
                                 "'%s' in '%s': code %lld at %zu is outside 0..2^24",
                                 p, r->file, (long long)c[i], (size_t)(i / dc[1]));
        else
            k->codes[i] = (int32_t)c[i];
    }
    free(c);
    return rc;
}

static int rd_mask(struct rd *r, const char *g, size_t m, acdc_compiler_mask *k)
{
    int rc;
    k->m = m;
    if ((rc = rd_f64(r, g, "gain", 1e-300, 1e300, &k->gain)) ||
        (rc = rd_mask_ideal(r, g, k)) || (rc = rd_mask_realised(r, g, k)) ||
        (rc = rd_mask_codes(r, g, k)))
        return rc;
    return ACDC_UTIL_OK;
}

/* n sample indices: a permutation of 0..n-1 (perm) or samples of a plane of `plane`. */
static int rd_index(struct rd *r, const char *path, size_t n, size_t plane, int64_t **v,
                    int perm)
{
    hsize_t d[1] = {n};
    int rc = acdc_util_h5_read_i64(r->f, r->file, path, 1, d, v);
    if (rc)
        return rc;
    unsigned char *seen = perm ? calloc(n, 1) : NULL;
    if (perm && !seen)
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory reading '%s' in '%s'",
                               path, r->file);
    for (size_t i = 0; !rc && i < n; i++) {
        int64_t x = (*v)[i];
        if (x < 0 || (uint64_t)x >= (perm ? n : plane) || (perm && seen[x]++))
            rc = acdc_util_error(ACDC_UTIL_EDATA, "'%s' in '%s': value %zu (%lld) is %s", path,
                                 r->file, i, (long long)x,
                                 perm ? "not part of a permutation" : "outside the plane");
    }
    free(seen);
    return rc;
}

/* Where the detection design's signal range came from: 'signal_range' ("estimated" or
 * "calibrated", with 'calibration_rows'); files from before designed detection lack
 * both (ACDC_COMPILER_SIGNAL_NONE). */
static int rd_signal(struct rd *r, acdc_compiler_system *s)
{
    char src[32];
    int64_t rows = 0;
    int rc;
    s->signal = ACDC_COMPILER_SIGNAL_NONE;
    if (!acdc_util_h5_attr_exists(r->f, "/", "signal_range"))
        return ACDC_UTIL_OK;
    if ((rc = acdc_util_h5_attr_str(r->f, r->file, "/", "signal_range", src, sizeof src)))
        return rc;
    if (strcmp(src, "estimated") && strcmp(src, "calibrated") && strcmp(src, "synthetic"))
        return acdc_util_error(ACDC_UTIL_EDATA, "attribute 'signal_range' on '/' in '%s' is '%s', "
                               "expected 'estimated', 'calibrated' or 'synthetic'", r->file, src);
    s->signal = !strcmp(src, "calibrated")  ? ACDC_COMPILER_SIGNAL_CALIBRATED
                : !strcmp(src, "synthetic") ? ACDC_COMPILER_SIGNAL_SYNTHETIC
                                            : ACDC_COMPILER_SIGNAL_ESTIMATED;
    const int measured = s->signal != ACDC_COMPILER_SIGNAL_ESTIMATED;
    if ((rc = rd_i64(r, "/", "calibration_rows", measured,
                     measured ? (int64_t)1 << 40 : 0, &rows)))
        return rc;
    s->calibration_rows = (size_t)rows;
    return ACDC_UTIL_OK;
}

/* The root: format, version, sizes and sampling. */
static int rd_root(struct rd *r, acdc_compiler_system *s)
{
    char fmt[32];
    int64_t n, n_in, n_out, m, version, rank = 1;
    int rc;
    if ((rc = acdc_util_h5_attr_str(r->f, r->file, "/", "format", fmt, sizeof fmt)))
        return rc;
    if (strcmp(fmt, "acdc-system"))
        return acdc_util_error(ACDC_UTIL_EDATA,
                               "'%s' is not a compiled system: attribute 'format' is "
                               "'%s', expected 'acdc-system'", r->file, fmt);
    if ((rc = rd_i64(r, "/", "version", 1, SYSTEM_VERSION, &version)))
        return rc;
    if (version < SYSTEM_VERSION)
        return acdc_util_error(ACDC_UTIL_EDATA,
                               "'%s' was written by an earlier acdc-optics (system "
                               "format %lld, other double-phase codes): compile it again from "
                               "its model", r->file, (long long)version);
    if ((rc = rd_i64(r, "/", "n", 1, (int64_t)1 << 28, &n)) ||
        (rc = rd_i64(r, "/", "n_in", 1, n, &n_in)) ||
        (rc = rd_i64(r, "/", "n_out", 1, n, &n_out)) ||
        /* 'rank' came with 2D systems: a file without it is 1D */
        (acdc_util_h5_attr_exists(r->f, "/", "rank") &&
         (rc = rd_i64(r, "/", "rank", 1, 2, &rank))) ||
        (rc = rd_i64(r, "/", "m", 2, 2 * n, &m)) ||
        (rc = rd_f64(r, "/", "wavelength_m", 1e-8, 1e-4, &s->wavelength_m)) ||
        (rc = rd_f64(r, "/", "pitch_m", 1e-9, 1, &s->pitch_m)) ||
        (rc = rd_f64(r, "/", "fourier_pitch_m", 1e-9, 1, &s->fourier_pitch_m)) ||
        (rc = rd_f64(r, "/", "focal_m", 1e-9, 1e9, &s->focal_m)) ||
        (rc = rd_f64(r, "/", "aperture_m", 0, 1e9, &s->aperture_m)) ||
        (rc = rd_f64(r, "/", "field_amplitude", 1e-150, 1e30, &s->field_amplitude)) ||
        (rc = rd_f64(r, "/", "relay_magnification", 1e-6, 1e6, &s->relay_magnification)))
        return rc;
    if (rank == 1 ? m != 2 * n : m * m != 4 * n)
        return acdc_util_error(ACDC_UTIL_EDATA, "attribute 'm' on '/' in '%s' is %lld; a rank-%lld "
                               "system of n = %lld needs %s", r->file, (long long)m,
                               (long long)rank, (long long)n, rank == 1 ? "2n" : "m² = 4n");
    s->rank = (int)rank;
    s->n = (size_t)n;
    s->side = rank == 2 ? (size_t)m / 2 : (size_t)n;
    s->n_in = (size_t)n_in;
    s->n_out = (size_t)n_out;
    s->m = (size_t)m;
    if (acdc_util_h5_attr_exists(r->f, "/", "warnings"))
        acdc_util_h5_attr_str(r->f, r->file, "/", "warnings", s->warnings, sizeof s->warnings);
    return rd_signal(r, s);
}

/* The model copy and the input standardisation. */
static int rd_model(struct rd *r, acdc_compiler_system *s)
{
    int rc = acdc_model_read_h5(r->f, r->file, "/model", &s->model);
    if (rc)
        return rc;
    if (s->model->n != s->n || s->model->n_in != s->n_in || s->model->n_out != s->n_out ||
        (s->model->transform == ACDC_TRANSFORM_DCT2) != (s->rank == 2) ||
        (s->rank == 2 && s->model->h != s->side))
        return acdc_util_error(ACDC_UTIL_EDATA, "'%s': the model copy's shape differs from the "
                               "system's", r->file);
    if (acdc_util_h5_exists(r->f, "/input") &&
        ((rc = rd_vec(r, "/input/mean", s->n_in, &s->in_mean)) ||
         (rc = rd_vec(r, "/input/scale", s->n_in, &s->in_scale))))
        return rc;
    return ACDC_UTIL_OK;
}

/* Stage k of chain group g: its layer (first + k), parity, position and masks; only a
 * stage after the first has an image-plane mask, and it must. */
static int rd_stage(struct rd *r, const acdc_compiler_system *s, const char *g, size_t first,
                    size_t k, acdc_compiler_stage *st)
{
    char sg[128], p[160];
    int64_t layer, par;
    int rc;
    const int64_t want = (int64_t)(first + k);
    snprintf(sg, sizeof sg, "%s/stages/%zu", g, k);
    if ((rc = rd_i64(r, sg, "layer", want, want, &layer)) ||
        (rc = rd_i64(r, sg, "parity_in", 0, 1, &par)) ||
        (rc = rd_f64(r, sg, "z_m", 0, 1e12, &st->z_m)) ||
        (rc = rd_mask(r, (snprintf(p, sizeof p, "%s/fourier", sg), p),
                      acdc_compiler_fourier_size(s),
                      &st->fourier)))
        return rc;
    st->layer = (size_t)layer;
    st->parity_in = (int)par;
    snprintf(p, sizeof p, "%s/image", sg);
    if (!acdc_util_h5_exists(r->f, p))
        return k > 0 ? acdc_util_error(ACDC_UTIL_EDATA, "missing group '%s' in '%s'", p, r->file)
                     : ACDC_UTIL_OK;
    if (k == 0)
        return acdc_util_error(ACDC_UTIL_EDATA, "'%s': '%s' is the first stage of its chain and "
                               "cannot have an image-plane mask", r->file, p);
    if (!(st->image = calloc(1, sizeof *st->image)))
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory reading '%s' in '%s'", p, r->file);
    return rd_mask(r, p, acdc_compiler_plane_size(s), st->image);
}

/* The attributes of chain c; it must start at layer *next and stay inside the model. */
static int rd_chain_attrs(struct rd *r, const acdc_compiler_system *s, const char *g, size_t c,
                          size_t *next, acdc_compiler_chain *ch)
{
    int64_t first, count, relu;
    double gre, gim;
    int rc;
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
    if ((size_t)first != *next || (size_t)(first + count) > s->model->n_layers)
        return acdc_util_error(ACDC_UTIL_EDATA, "'%s': chain %zu covers layers %lld..%lld, but the "
                               "next layer is %zu of %zu", r->file, c, (long long)first,
                               (long long)(first + count - 1), *next, s->model->n_layers);
    if (s->signal != ACDC_COMPILER_SIGNAL_NONE) {
        int64_t frames;
        if ((rc = rd_f64(r, g, "exposure_s", 1e-300, 3600, &ch->exposure_s)) ||
            (rc = rd_i64(r, g, "frames", 1, 1000000, &frames)) ||
            (rc = rd_f64(r, g, "signal_peak", 0, 1e12, &ch->signal_peak)) ||
            (rc = rd_f64(r, g, "signal_rms", 0, 1e12, &ch->signal_rms)) ||
            (rc = rd_f64(r, g, "snr", 0, 1e300, &ch->snr)))
            return rc;
        ch->frames = (size_t)frames;
    }
    *next = (size_t)(first + count);
    ch->first = (size_t)first;
    ch->count = (size_t)count;
    ch->relu = (int)relu;
    ch->g = gre + I * gim;
    return ACDC_UTIL_OK;
}

/* Chain c (/chains/<c>): attributes, electronics, read-out samples, stages. */
static int rd_chain(struct rd *r, const acdc_compiler_system *s, size_t c, size_t *next)
{
    acdc_compiler_chain *ch = &s->chains[c];
    char g[96], p[160];
    int rc;
    snprintf(g, sizeof g, "/chains/%zu", c);
    if ((rc = rd_chain_attrs(r, s, g, c, next, ch)))
        return rc;
#define RV(name, dst) rd_vec(r, (snprintf(p, sizeof p, "%s/" name, g), p), s->n, &dst)
    if ((rc = RV("enc_a", ch->enc_a)) || (rc = RV("enc_bias", ch->enc_bias)) ||
        (rc = RV("bias", ch->bias)) ||
        (rc = rd_index(r, (snprintf(p, sizeof p, "%s/pixel", g), p), s->n,
                       acdc_compiler_plane_size(s), &ch->pixel, 0)))
        return rc;
#undef RV
    snprintf(p, sizeof p, "%s/perm", g);
    if (acdc_util_h5_exists(r->f, p) && (rc = rd_index(r, p, s->n, s->n, &ch->perm, 1)))
        return rc;
    if (!(ch->stages = calloc(ch->count, sizeof *ch->stages)))
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory reading '%s' in '%s'", g, r->file);
    for (size_t k = 0; k < ch->count; k++)
        if ((rc = rd_stage(r, s, g, ch->first, k, &ch->stages[k])))
            return rc;
    return ACDC_UTIL_OK;
}

/* A file from before designed detection means what it meant then: the profile's
 * exposure, one frame, the stored reference.  Its signal range is the estimate from
 * the masks, and the SNR that design gives (for the reports). */
static void legacy_detection(acdc_compiler_system *s)
{
    acdc_compiler_profile e;
    acdc_compiler_profile_effective(&s->profile, &e);
    for (size_t c = 0; c < s->n_chains; c++) {
        acdc_compiler_chain *ch = &s->chains[c];
        ch->exposure_s = s->profile.camera.exposure_s;
        ch->frames = 1;
        acdc_compiler_signal_estimate(ch, &ch->signal_peak, &ch->signal_rms);
        ch->snr = acdc_compiler_detection_snr(&e.camera, ch->exposure_s, 1,
                                              acdc_compiler_detection_electrons(s, ch->exposure_s),
                                              ch->ref_amplitude / s->field_amplitude,
                                              ch->signal_rms);
    }
}

/* /chains/0, /chains/1, ...: they must cover the model's layers in order. */
static int rd_chains(struct rd *r, acdc_compiler_system *s)
{
    char g[96];
    size_t c = 0, next = 0;
    int rc;
    while (snprintf(g, sizeof g, "/chains/%zu", c), acdc_util_h5_exists(r->f, g))
        c++;
    if (c == 0)
        return acdc_util_error(ACDC_UTIL_EDATA,
                               "'%s' holds no optical chains ('/chains/0')", r->file);
    if (!(s->chains = calloc(c, sizeof *s->chains)))
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory reading '%s'", r->file);
    s->n_chains = c;
    for (c = 0; c < s->n_chains; c++)
        if ((rc = rd_chain(r, s, c, &next)))
            return rc;
    if (next != s->model->n_layers)
        return acdc_util_error(ACDC_UTIL_EDATA,
                               "'%s': the chains cover %zu of the model's %zu layers",
                               r->file, next, s->model->n_layers);
    if (s->signal == ACDC_COMPILER_SIGNAL_NONE)
        legacy_detection(s);
    return ACDC_UTIL_OK;
}

/* An accuracy: a fraction in [0, 1], or NaN (data without labels). */
static int rd_accuracy(struct rd *r, const char *obj, const char *name, double *v)
{
    int rc = acdc_util_h5_attr_f64_nan_ok(r->f, r->file, obj, name, v);
    if (!rc && !isnan(*v) && !(*v >= 0 && *v <= 1))
        rc = acdc_util_error(ACDC_UTIL_EDATA, "attribute '%s' on '%s' in '%s' is %g, expected an "
                             "accuracy in 0..1 or NaN", name, obj, r->file, *v);
    return rc;
}

/* /verdict, if the system has one (written by `acdc compile --verify`). */
static int rd_verdict(struct rd *r, acdc_compiler_verdict *v)
{
    int64_t rows, os, sat, n;
    int rc;
    memset(v, 0, sizeof *v);
    if (!acdc_util_h5_exists(r->f, "/verdict"))
        return ACDC_UTIL_OK;
    if ((rc = rd_i64(r, "/verdict", "rows", 1, INT64_MAX, &rows)) ||
        (rc = rd_i64(r, "/verdict", "oversample", 1, 64, &os)) ||
        (rc = acdc_util_h5_attr_str(r->f, r->file, "/verdict", "conditions", v->conditions,
                                    sizeof v->conditions)) ||
        (rc = rd_accuracy(r, "/verdict", "numeric_accuracy", &v->numeric_accuracy)) ||
        (rc = rd_accuracy(r, "/verdict", "accuracy", &v->accuracy)) ||
        (rc = rd_f64(r, "/verdict", "rel_rms", 0, DBL_MAX, &v->rel_rms)) ||
        (rc = rd_f64(r, "/verdict", "chain_rms", 0, DBL_MAX, &v->chain_rms)) ||
        (rc = rd_i64(r, "/verdict", "saturated", 0, INT64_MAX, &sat)) ||
        (rc = rd_i64(r, "/verdict", "effects", 0, ACDC_COMPILER_VERDICT_MAX, &n)))
        return rc;
    v->rows = (size_t)rows;
    v->oversample = (int)os;
    v->saturated = sat;
    v->n = (size_t)n;
    for (size_t k = 0; k < v->n; k++) {
        char g[64];
        acdc_compiler_verdict_effect *e = &v->effect[k];
        snprintf(g, sizeof g, "/verdict/%zu", k);
        if ((rc = acdc_util_h5_attr_str(r->f, r->file, g, "name", e->name, sizeof e->name)) ||
            (rc = rd_f64(r, g, "chain_rms", 0, DBL_MAX, &e->chain_rms)) ||
            (rc = rd_accuracy(r, g, "accuracy", &e->accuracy)) ||
            (rc = rd_f64(r, g, "share", 0, DBL_MAX, &e->share)))
            return rc;
    }
    return ACDC_UTIL_OK;
}

static int rd_all(struct rd *r, acdc_compiler_system *s)
{
    int rc;
    if ((rc = rd_root(r, s)) ||
        (rc = acdc_compiler_profile_read_h5(r->f, r->file, "/profile", &s->profile)))
        return rc;
    s->fm = acdc_compiler_fourier_samples(&s->profile, s->m);
    if ((rc = rd_model(r, s)) || (rc = rd_chains(r, s)) || (rc = rd_verdict(r, &s->verdict)))
        return rc;
    return acdc_compiler_system_check(s, r->file);
}

int acdc_compiler_system_read(const char *path, acdc_compiler_system **out)
{
    hid_t f;
    *out = NULL;
    int rc = acdc_util_h5_open(path, &f);
    if (rc)
        return rc;
    acdc_compiler_system *s = calloc(1, sizeof *s);
    if (!s) {
        H5Fclose(f);
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory reading '%s'", path);
    }
    struct rd r = {f, path};
    rc = rd_all(&r, s);
    H5Fclose(f);
    if (rc) {
        acdc_compiler_system_free(s);
        return rc;
    }
    *out = s;
    return ACDC_UTIL_OK;
}
