/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sim/result.c -- see result.h. */
#include "sim/result.h"
#include "util/error.h"
#include "util/h5.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { NM = ACDC_SIM_METRIC_COUNT };

void acdc_sim_result_free(acdc_sim_result *r)
{
    if (!r)
        return;
    free(r->y_optical);
    free(r->y_ideal);
    free(r->labels);
    free(r->end);
    free(r->stage);
    free(r->mean);
    free(r->sd);
    free(r->planes);
    free(r->plane_names);
    free(r->plane_pitch_m);
    free(r->chain_saturated);
    memset(r, 0, sizeof *r);
}

const char *acdc_sim_propagation_name(enum acdc_sim_propagation p)
{
    return p == ACDC_SIM_PROP_IDEAL     ? "ideal"
           : p == ACDC_SIM_PROP_FRESNEL ? "fresnel"
           : p == ACDC_SIM_PROP_ASM     ? "asm"
                                   : "profile";
}

int acdc_sim_propagation_parse(const char *name, enum acdc_sim_propagation *p)
{
    static const enum acdc_sim_propagation all[] = {ACDC_SIM_PROP_IDEAL, ACDC_SIM_PROP_FRESNEL,
                                                    ACDC_SIM_PROP_ASM, ACDC_SIM_PROP_PROFILE};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        if (!strcmp(name, acdc_sim_propagation_name(all[i]))) {
            *p = all[i];
            return ACDC_UTIL_OK;
        }
    return acdc_util_error(ACDC_UTIL_EUSAGE, "'%s' is not ideal, fresnel, asm or profile", name);
}

void acdc_sim_result_set_optics(acdc_sim_result *r, const acdc_sim_optics *op, int rank)
{
    r->propagation = op->propagation;
    r->lens = op->lens;
    acdc_optics_lens_coefficients(&op->lens, r->lens.zernike);
    r->lens.wavefront_rms = 0;
    r->lens_rms_waves = acdc_optics_lens_wavefront_rms(&op->lens, rank);
    snprintf(r->lens_note, sizeof r->lens_note, "%s", op->note);
}

int acdc_sim_result_summarise(acdc_sim_result *r)
{
    const size_t G = 1 + r->n_chains;
    free(r->mean);
    free(r->sd);
    r->mean = malloc(G * NM * sizeof *r->mean);
    r->sd = malloc(G * NM * sizeof *r->sd);
    if (!r->mean || !r->sd)
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for the metrics of %zu chains",
                               r->n_chains);
    for (size_t g = 0; g < G; g++)
        for (int i = 0; i < NM; i++) {
            double s = 0, ss = 0, mean;
            for (size_t t = 0; t < r->trials; t++)
                s += acdc_sim_metric_get(g ? &r->stage[t * r->n_chains + g - 1] : &r->end[t], i);
            mean = s / (double)r->trials;
            for (size_t t = 0; t < r->trials; t++) {
                double e = acdc_sim_metric_get(g ? &r->stage[t * r->n_chains + g - 1] : &r->end[t],
                                               i) - mean;
                ss += e * e;
            }
            r->mean[g * NM + (size_t)i] = mean;
            r->sd[g * NM + (size_t)i] = r->trials > 1 ? sqrt(ss / (double)(r->trials - 1)) : 0;
        }
    return ACDC_UTIL_OK;
}

void acdc_sim_result_stats(const acdc_sim_result *r, int stage, int i, double *mean, double *sd)
{
    size_t g = stage < 0 ? 0 : 1 + (size_t)stage;
    if (!r->mean || i < 0 || i >= NM || g > r->n_chains) {
        *mean = *sd = NAN;
        return;
    }
    *mean = r->mean[g * NM + (size_t)i];
    *sd = r->sd[g * NM + (size_t)i];
}

/* ---- writing ---- */

/* The metrics of group g (0: end to end, 1 + c: chain c) as attributes NAME, NAME_sd
 * of object obj. */
static int write_stats(hid_t f, const acdc_sim_result *r, size_t g, const char *obj)
{
    int rc = acdc_util_h5_group(f, obj);
    for (int i = 0; i < NM && !rc; i++) {
        const char *name = acdc_sim_metric_info(i)->name;
        char sdname[64];
        snprintf(sdname, sizeof sdname, "%s_sd", name);
        rc = acdc_util_h5_set_attr_f64(f, obj, name, r->mean[g * NM + (size_t)i]);
        if (!rc)
            rc = acdc_util_h5_set_attr_f64(f, obj, sdname, r->sd[g * NM + (size_t)i]);
    }
    return rc;
}

int acdc_sim_result_write(const acdc_sim_result *r, const char *path)
{
    if (!r->mean || !r->sd)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "cannot write '%s': the result is not summarised",
                               path);
    if (r->planes && r->plane_ny > 1 && r->plane_nx * r->plane_ny != r->m)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "cannot write '%s': planes of %zu samples are not "
                               "%zu x %zu", path, r->m, r->plane_nx, r->plane_ny);
    acdc_util_h5_out o;
    int rc = acdc_util_h5_create(path, &o);
    if (rc)
        return rc;
    hid_t f = o.fid;
    hsize_t dy[2] = {r->rows, r->n_out}, dt[2] = {r->trials, NM};
    double *tr = malloc((r->trials ? r->trials : 1) * NM * sizeof *tr);
    if (!tr) {
        acdc_util_h5_abort(&o);
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
    }
    for (size_t t = 0; t < r->trials; t++)
        for (int i = 0; i < NM; i++)
            tr[t * NM + (size_t)i] = acdc_sim_metric_get(&r->end[t], i);
    rc = acdc_util_h5_set_attr_str(f, "/", "format", "acdc-result");
    if (!rc) rc = acdc_util_h5_set_attr_str(f, "/", "profile", r->profile);
    if (!rc) rc = acdc_util_h5_set_attr_str(f, "/", "propagation",
                                            acdc_sim_propagation_name(r->propagation));
    if (!rc) rc = acdc_util_h5_set_attr_str(f, "/", "lens_model",
                                            acdc_optics_lens_model_name(r->lens.model));
    if (!rc) rc = acdc_util_h5_set_attr_str(f, "/", "lens_name", r->lens.name);
    if (!rc) rc = acdc_util_h5_set_attr_f64(f, "/", "lens_wavefront_rms_waves", r->lens_rms_waves);
    if (!rc) rc = acdc_util_h5_set_attr_f64_vec(f, "/", "lens_zernike_waves",
                                                ACDC_OPTICS_ZERNIKE_TERMS,
                                                r->lens.zernike);
    if (!rc) rc = acdc_util_h5_set_attr_str(f, "/", "lens_note", r->lens_note);
    if (!rc) rc = acdc_util_h5_set_attr_str(f, "/", "perturbations", r->perturbations);
    if (!rc) rc = acdc_util_h5_set_attr_i64(f, "/", "trials", (int64_t)r->trials);
    if (!rc) rc = acdc_util_h5_set_attr_i64(f, "/", "seed", (int64_t)r->seed);
    if (!rc) rc = acdc_util_h5_set_attr_i64(f, "/", "oversample", r->oversample);
    if (!rc) rc = acdc_util_h5_set_attr_i64(f, "/", "saturated_exposures", (int64_t)r->saturated);
    if (!rc) rc = acdc_util_h5_set_attr_i64(f, "/", "exposures", (int64_t)r->exposures);
    if (!rc) rc = acdc_util_h5_set_attr_f64(f, "/", "seconds", r->seconds);
    if (!rc) rc = acdc_util_h5_write_f64(f, "/y_optical", 2, dy, r->y_optical);
    if (!rc) rc = acdc_util_h5_write_f64(f, "/y_ideal", 2, dy, r->y_ideal);
    if (!rc && r->labels) rc = acdc_util_h5_write_i64(f, "/labels", 1, dy, r->labels);
    if (!rc) rc = acdc_util_h5_write_f64(f, "/trials/metrics", 2, dt, tr);
    free(tr);
    if (!rc) rc = write_stats(f, r, 0, "/metrics");
    for (size_t c = 0; c < r->n_chains && !rc; c++) {
        char g[64];
        snprintf(g, sizeof g, "/stages/%zu", c);
        rc = write_stats(f, r, 1 + c, g);
    }
    if (!rc && r->planes) {
        /* 1D planes keep the rank-4 layout of old files; 2D ones split the samples into
         * rows and columns (the memory order: x fastest) */
        const int twod = r->plane_ny > 1;
        hsize_t dp[5] = {r->planes_rows, r->n_planes, r->m, 2, 0}, dq[1] = {r->n_planes};
        if (twod) {
            dp[2] = r->plane_ny;
            dp[3] = r->plane_nx;
            dp[4] = 2;
        }
        /* double complex is two doubles, real then imaginary (C11 6.2.5p13). */
        rc = acdc_util_h5_write_f64(f, "/planes/field", twod ? 5 : 4, dp,
                                    (const double *)r->planes);
        if (!rc) rc = acdc_util_h5_write_f64(f, "/planes/pitch_m", 1, dq, r->plane_pitch_m);
        if (!rc) rc = acdc_util_h5_set_attr_str(f, "/planes", "names",
                                                r->plane_names ? r->plane_names : "");
    }
    if (rc) {
        acdc_util_h5_abort(&o);
        return rc;
    }
    return acdc_util_h5_commit(&o);
}

/* ---- reading ---- */

static int read_stats(hid_t f, const char *file, acdc_sim_result *r, size_t g, const char *obj)
{
    int rc = ACDC_UTIL_OK;
    for (int i = 0; i < NM && !rc; i++) {
        const char *name = acdc_sim_metric_info(i)->name;
        char sdname[64];
        snprintf(sdname, sizeof sdname, "%s_sd", name);
        rc = acdc_util_h5_attr_f64_nan_ok(f, file, obj, name, &r->mean[g * NM + (size_t)i]);
        if (!rc)
            rc = acdc_util_h5_attr_f64_nan_ok(f, file, obj, sdname, &r->sd[g * NM + (size_t)i]);
    }
    return rc;
}

/* The lens that ran (r->propagation already read); results written before lens models
 * lack it: the lens then used, Fourier under ideal propagation, else the thin lens. */
static int read_lens(hid_t f, const char *file, acdc_sim_result *r)
{
    char model[32];
    int rc;
    if (!acdc_util_h5_attr_exists(f, "/", "lens_model")) {
        r->lens.model = r->propagation == ACDC_SIM_PROP_IDEAL ? ACDC_OPTICS_LENS_FOURIER
                                                         : ACDC_OPTICS_LENS_PARAXIAL;
        return ACDC_UTIL_OK;
    }
    if ((rc = acdc_util_h5_attr_str(f, file, "/", "lens_model", model, sizeof model)) ||
        (rc = acdc_util_h5_attr_str(f, file, "/", "lens_name", r->lens.name,
                                    sizeof r->lens.name)) ||
        (rc = acdc_util_h5_attr_f64(f, file, "/", "lens_wavefront_rms_waves",
                                    &r->lens_rms_waves)) ||
        (rc = acdc_util_h5_attr_f64_vec(f, file, "/", "lens_zernike_waves",
                                        ACDC_OPTICS_ZERNIKE_TERMS,
                                        r->lens.zernike)) ||
        (rc = acdc_util_h5_attr_str(f, file, "/", "lens_note", r->lens_note, sizeof r->lens_note)))
        return rc;
    /* results written before perturbations lack it: none ran */
    if (acdc_util_h5_attr_exists(f, "/", "perturbations") &&
        (rc = acdc_util_h5_attr_str(f, file, "/", "perturbations", r->perturbations,
                                    sizeof r->perturbations)))
        return rc;
    if (acdc_optics_lens_model_parse(model, &r->lens.model))
        return acdc_util_error(ACDC_UTIL_EDATA,
                               "attribute 'lens_model' in '%s': '%s' is not fourier, "
                               "paraxial or corrected", file, model);
    if (!(r->lens_rms_waves >= 0))
        return acdc_util_error(ACDC_UTIL_EDATA,
                               "attribute 'lens_wavefront_rms_waves' in '%s': %g is "
                               "negative", file, r->lens_rms_waves);
    return ACDC_UTIL_OK;
}

/* /planes: the fields, 1D (rank 4) or 2D (rank 5), every extent checked, and the
 * pitches. */
static int read_planes(hid_t f, const char *file, acdc_sim_result *r)
{
    static const char *const what[] = {"inputs", "planes", "rows (y)", "columns (x)"};
    const int rank = acdc_util_h5_rank(f, "/planes/field");
    hsize_t dp[5] = {0, 0, 0, 0, 0}, dq[1];
    double *field = NULL;
    if (rank < 0)
        return acdc_util_error(ACDC_UTIL_EDATA, "'/planes/field' in '%s' is not a dataset", file);
    if (rank != 4 && rank != 5)
        return acdc_util_error(ACDC_UTIL_EDATA,
                               "cannot read '/planes/field' in '%s': expected rank 4 "
                               "(inputs x planes x samples x 2) or 5 (inputs x planes x rows x "
                               "columns x 2), found rank %d", file, rank);
    dp[rank - 1] = 2;   /* real, imaginary */
    int rc = acdc_util_h5_read_f64(f, file, "/planes/field", rank, dp, &field);
    if (rc)
        return rc;
    r->planes = (double complex *)field;
    for (int i = 0; i < rank - 1; i++)
        if (!dp[i])
            return acdc_util_error(ACDC_UTIL_EDATA, "cannot read '/planes/field' in '%s': no %s "
                                   "(dimension %d is 0)", file,
                                   rank == 4 && i == 2 ? "samples" : what[i], i);
    r->planes_rows = (size_t)dp[0];
    r->n_planes = (size_t)dp[1];
    r->plane_ny = rank == 5 ? (size_t)dp[2] : 1;
    r->plane_nx = (size_t)dp[rank == 5 ? 3 : 2];
    r->m = r->plane_nx * r->plane_ny;
    dq[0] = dp[1];
    if ((rc = acdc_util_h5_read_f64(f, file, "/planes/pitch_m", 1, dq, &r->plane_pitch_m)))
        return rc;
    for (size_t i = 0; i < r->n_planes; i++)
        if (!(r->plane_pitch_m[i] > 0))
            return acdc_util_error(ACDC_UTIL_EDATA,
                                   "cannot read '/planes/pitch_m' in '%s': value %zu "
                                   "is %g, expected a pitch > 0", file, i, r->plane_pitch_m[i]);
    size_t cap = r->n_planes * 64 + 64;
    if (!(r->plane_names = calloc(cap, 1)))
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
    if (acdc_util_h5_attr_exists(f, "/planes", "names"))
        rc = acdc_util_h5_attr_str(f, file, "/planes", "names", r->plane_names, cap);
    return rc;
}

int acdc_sim_result_read(const char *path, acdc_sim_result *r)
{
    hid_t f;
    char fmt[64] = "", prop[32];
    int64_t trials, seed, oversample = 1, sat = 0, nexp = 0;
    hsize_t dy[2] = {0, 0}, dy2[2], dl[1], dt[2];
    double *tr = NULL;
    int rc;
    memset(r, 0, sizeof *r);
    if ((rc = acdc_util_h5_open(path, &f)))
        return rc;
    if (!acdc_util_h5_attr_exists(f, "/", "format") ||
        acdc_util_h5_attr_str(f, path, "/", "format", fmt, sizeof fmt) ||
        strcmp(fmt, "acdc-result")) {
        rc = acdc_util_error(ACDC_UTIL_EDATA,
                             "'%s' is not a simulation result (format '%s', expected "
                             "'acdc-result')", path, fmt);
        goto out;
    }
    if ((rc = acdc_util_h5_attr_str(f, path, "/", "profile", r->profile, sizeof r->profile)) ||
        (rc = acdc_util_h5_attr_str(f, path, "/", "propagation", prop, sizeof prop)) ||
        (rc = acdc_util_h5_attr_i64(f, path, "/", "trials", &trials)) ||
        (rc = acdc_util_h5_attr_i64(f, path, "/", "seed", &seed)))
        goto out;
    /* written since resolved pixels and exposure control; older results lack them */
    if (acdc_util_h5_attr_exists(f, "/", "oversample") &&
        (rc = acdc_util_h5_attr_i64(f, path, "/", "oversample", &oversample)))
        goto out;
    /* saturated exposures since designed detection; before it, the exposures the
     * simulator's auto-exposure shortened, read in their place (exposures unknown: 0) */
    const char *satname = acdc_util_h5_attr_exists(f, "/", "saturated_exposures")
                              ? "saturated_exposures" : "exposure_shortened";
    if (acdc_util_h5_attr_exists(f, "/", satname) &&
        (rc = acdc_util_h5_attr_i64(f, path, "/", satname, &sat)))
        goto out;
    if (acdc_util_h5_attr_exists(f, "/", "exposures") &&
        (rc = acdc_util_h5_attr_i64(f, path, "/", "exposures", &nexp)))
        goto out;
    if (acdc_util_h5_attr_exists(f, "/", "seconds") &&
        (rc = acdc_util_h5_attr_f64(f, path, "/", "seconds", &r->seconds)))
        goto out;
    if (acdc_sim_propagation_parse(prop, &r->propagation) ||
        r->propagation == ACDC_SIM_PROP_PROFILE) {
        /* a bad name in a file is a data error, not the usage error the parser states; a
         * result records the propagation that ran, never "profile" */
        rc = acdc_util_error(ACDC_UTIL_EDATA, "attribute 'propagation' in '%s': '%s' is not ideal, "
                             "fresnel or asm", path, prop);
        goto out;
    }
    if ((rc = read_lens(f, path, r)))
        goto out;
    if (trials < 1 || trials > 100000 || seed < 0 || oversample < 1 || sat < 0 ||
        nexp < 0 || (nexp > 0 && sat > nexp)) {
        rc = acdc_util_error(ACDC_UTIL_EDATA, "'%s': trials %lld, seed %lld, oversample %lld, "
                             "%s %lld or exposures %lld out of range", path, (long long)trials,
                             (long long)seed, (long long)oversample, satname, (long long)sat,
                             (long long)nexp);
        goto out;
    }
    r->trials = (size_t)trials;
    r->seed = (uint64_t)seed;
    r->oversample = (int)oversample;
    r->saturated = (size_t)sat;
    r->exposures = (size_t)nexp;
    if ((rc = acdc_util_h5_read_f64(f, path, "/y_optical", 2, dy, &r->y_optical)))
        goto out;
    dy2[0] = dy[0];
    dy2[1] = dy[1];
    if ((rc = acdc_util_h5_read_f64(f, path, "/y_ideal", 2, dy2, &r->y_ideal)))
        goto out;
    r->rows = (size_t)dy[0];
    r->n_out = (size_t)dy[1];
    if (acdc_util_h5_exists(f, "/labels")) {
        dl[0] = dy[0];
        if ((rc = acdc_util_h5_read_i64(f, path, "/labels", 1, dl, &r->labels)))
            goto out;
    }
    dt[0] = r->trials;
    dt[1] = NM;
    if ((rc = acdc_util_h5_read_f64_nan_ok(f, path, "/trials/metrics", 2, dt, &tr)))
        goto out;
    if (!(r->end = calloc(r->trials, sizeof *r->end))) {
        rc = acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t t = 0; t < r->trials; t++)
        for (int i = 0; i < NM; i++)
            acdc_sim_metric_set(&r->end[t], i, tr[t * NM + (size_t)i]);
    for (;;) {   /* the chains: /stages/0, /stages/1, ... */
        char g[64];
        snprintf(g, sizeof g, "/stages/%zu", r->n_chains);
        if (!acdc_util_h5_exists(f, g))
            break;
        r->n_chains++;
    }
    r->mean = malloc((1 + r->n_chains) * NM * sizeof *r->mean);
    r->sd = malloc((1 + r->n_chains) * NM * sizeof *r->sd);
    if (!r->mean || !r->sd) {
        rc = acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
        goto out;
    }
    rc = read_stats(f, path, r, 0, "/metrics");
    for (size_t c = 0; c < r->n_chains && !rc; c++) {
        char g[64];
        snprintf(g, sizeof g, "/stages/%zu", c);
        rc = read_stats(f, path, r, 1 + c, g);
    }
    if (!rc && acdc_util_h5_exists(f, "/planes/field"))
        rc = read_planes(f, path, r);
out:
    free(tr);
    H5Fclose(f);
    if (rc)
        acdc_sim_result_free(r);
    return rc;
}
