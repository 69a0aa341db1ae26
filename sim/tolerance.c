/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sim/tolerance.c -- see tolerance.h. */
#include "sim/tolerance.h"
#include "sim/mpi.h"
#include "compiler/system.h"
#include "models/io.h"
#include "sim/metrics.h"
#include "sim/result.h"
#include "util/error.h"
#include "util/fingerprint.h"
#include "util/gnuplot.h"
#include "util/h5.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_roots.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Brent iterations and new evaluations at most: a bracket of x4 narrowed to a few
 * percent takes 5 to 10 evaluations; an iteration that lands within SAME (relative) of
 * a value evaluated before reuses it (on a staircase such as an accuracy Brent's
 * interpolation often steps by 1e-9 or less, which would cost a simulation each and
 * learn nothing). */
enum { MAX_ITER = 200, MAX_EVALS = 40 };
static const double SAME = 1e-6;

struct acdc_sim_tolerance_state {
    acdc_sim_tolerance_config c;
    acdc_compiler_system *system;   /* as read */
    acdc_compiler_system *fixed;    /* recompiled with the fixed assignments, or NULL */
    acdc_data *data;
    char *settings;
    char *overrides;           /* the fixed assignments, comma-separated */
    acdc_sim_optics optics;         /* what runs (acdc_sim_optics_of()) */
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

const char *acdc_sim_tolerance_status_name(enum acdc_sim_tolerance_status s)
{
    switch (s) {
    case ACDC_SIM_TOL_FOUND: return "found";
    case ACDC_SIM_TOL_BEYOND: return "beyond";
    case ACDC_SIM_TOL_NA: return "n/a";
    default: return "pending";
    }
}

static int status_parse(const char *name, enum acdc_sim_tolerance_status *s)
{
    for (int i = ACDC_SIM_TOL_FOUND; i <= ACDC_SIM_TOL_NA; i++)
        if (!strcmp(name, acdc_sim_tolerance_status_name((enum acdc_sim_tolerance_status)i))) {
            *s = (enum acdc_sim_tolerance_status)i;
            return 0;
        }
    return -1;
}

/* ---------------------------------------------------------------------------------- */
/* words and numbers                                                                    */

/* v in a unit of its size: metres as m, mm, um or nm; radians as rad, mrad or urad; a
 * ratio in percent.  *unit receives the unit's name, the factor is returned. */
static double pick_unit(int id, double v, const char **unit)
{
    const char *u = acdc_sim_perturb_table()[id].unit;
    const double a = fabs(v);
    if (!strcmp(u, "m")) {
        if (a >= 1 || a == 0) { *unit = "m"; return 1; }
        if (a >= 1e-3) { *unit = "mm"; return 1e3; }
        if (a >= 1e-6) { *unit = "um"; return 1e6; }
        *unit = "nm";
        return 1e9;
    }
    if (!strcmp(u, "rad")) {
        if (a >= 1 || a == 0) { *unit = "rad"; return 1; }
        if (a >= 1e-3) { *unit = "mrad"; return 1e3; }
        *unit = "urad";
        return 1e6;
    }
    if (!*u) {
        *unit = "%";
        return 100;
    }
    *unit = u;
    return 1;
}

void acdc_sim_tolerance_format(int id, double v, double sd, char *buf, size_t cap)
{
    const char *u;
    const double k = pick_unit(id, v, &u);
    if (isfinite(sd)) {
        /* two significant digits, never an exponent: "± 0.035", "± 120" */
        const double e = k * sd;
        const int dec = e > 0 ? (int)fmax(0, 1 - floor(log10(e))) : 0;
        snprintf(buf, cap, "%.3g ± %.*f %s", k * v, dec > 12 ? 12 : dec, e, u);
    }
    else
        snprintf(buf, cap, "%.3g %s", k * v, u);
}

void acdc_sim_tolerance_text(const acdc_sim_tolerance *t, int id, char *buf, size_t cap)
{
    const acdc_sim_tolerance_item *it = &t->item[id];
    char v[64];
    switch (it->status) {
    case ACDC_SIM_TOL_FOUND:
        acdc_sim_tolerance_format(id, it->value, it->uncertainty, buf, cap);
        break;
    case ACDC_SIM_TOL_BEYOND:
        acdc_sim_tolerance_format(id, it->range_max, NAN, v, sizeof v);
        snprintf(buf, cap, "%s %s", acdc_sim_perturb_table()[id].inverse ? "<" : ">", v);
        break;
    case ACDC_SIM_TOL_NA: snprintf(buf, cap, "n/a"); break;
    default: snprintf(buf, cap, "pending"); break;
    }
}

void acdc_sim_tolerance_budget_text(const acdc_sim_tolerance *t, char *buf, size_t cap)
{
    char sd[48] = "";
    if (t->metric == ACDC_SIM_METRIC_ACC_OPTICAL) {
        if (t->trials > 1 && isfinite(t->baseline_sd))
            snprintf(sd, sizeof sd, " ± %.2f%%", 100 * t->baseline_sd);
        snprintf(buf, cap, "%.3g point%s of optical accuracy (unperturbed %.2f%%%s)",
                 100 * t->budget, 100 * t->budget == 1 ? "" : "s", 100 * t->baseline_mean,
                 sd);
    } else {
        if (t->trials > 1 && isfinite(t->baseline_sd))
            snprintf(sd, sizeof sd, " ± %.2g", t->baseline_sd);
        snprintf(buf, cap, "relative RMS error +%.3g (unperturbed %.4g%s)", t->budget,
                 t->baseline_mean, sd);
    }
}

double acdc_sim_tolerance_margin(const acdc_sim_tolerance *t, int id)
{
    const acdc_sim_tolerance_item *it = &t->item[id];
    const acdc_sim_perturb_info *p = &acdc_sim_perturb_table()[id];
    double v = it->status == ACDC_SIM_TOL_FOUND    ? it->value
               : it->status == ACDC_SIM_TOL_BEYOND ? it->range_max
                                              : NAN;
    if (!(v > 0))
        return NAN;
    return p->inverse ? p->scale / v : v / p->scale;
}

size_t acdc_sim_tolerance_done(const acdc_sim_tolerance *t)
{
    size_t n = 0;
    for (int i = 0; i < ACDC_SIM_PERTURB_COUNT; i++)
        n += t->selected[i] && t->item[i].status != ACDC_SIM_TOL_PENDING;
    return n;
}

/* ---------------------------------------------------------------------------------- */
/* fingerprints and settings (the rules of sim/sweep.c)                                 */


/* The canonical settings string (see the top of tolerance.h). */
static char *settings_string(const acdc_sim_tolerance *t, uint64_t hsys, uint64_t hdata)
{
    const acdc_sim_tolerance_config *c = &t->state->c;
    const acdc_sim_options *o = &c->options;
    size_t cap = 1024 + c->nsets * 300 + ACDC_SIM_PERTURB_COUNT * 64, len;
    char *s = malloc(cap);
    if (!s)
        return NULL;
    len = (size_t)snprintf(s, cap,
                           "version=1;system=%016llx;data=%016llx;rows=%zu;trials=%zu;"
                           "seed=%llu;propagation=%d;lens=%d;noise=%d;photons=%.17g;"
                           "phase_error=%.17g;misalign=%.17g;oversample=%d",
                           (unsigned long long)hsys, (unsigned long long)hdata, t->rows,
                           t->trials, (unsigned long long)o->seed, (int)t->propagation,
                           (int)t->lens_model, o->noise, o->photons, o->phase_error_rad,
                           o->misalign_px, t->oversample);
    for (int i = 0; i < ACDC_SIM_PERTURB_COUNT; i++)
        if (o->perturb[i] != 0)
            len += (size_t)snprintf(s + len, cap - len, ";perturb=%s:%.17g",
                                    acdc_sim_perturb_table()[i].name, o->perturb[i]);
    if (o->chain)
        len += (size_t)snprintf(s + len, cap - len, ";chain=%d", o->chain);
    for (size_t i = 0; i < c->nsets; i++)
        len += (size_t)snprintf(s + len, cap - len, ";set=%.250s", c->sets[i]);
    snprintf(s + len, cap - len, ";metric=%s;budget=%.17g;rel_tol=%.17g;max_steps=%d",
             acdc_sim_metric_info(t->metric)->name, t->budget, t->rel_tol, t->max_steps);
    return s;
}


/* ---------------------------------------------------------------------------------- */
/* the analysis in memory                                                               */

static void item_clear(acdc_sim_tolerance_item *it)
{
    free(it->points);
    *it = (acdc_sim_tolerance_item){.status = ACDC_SIM_TOL_PENDING, .value = NAN, .uncertainty = NAN,
                                    .lo = NAN, .hi = NAN, .range_max = NAN, .reach = NAN,
                                    .miss = NAN};
}

/* An empty analysis: every item pending, the baseline not run. */
static acdc_sim_tolerance *blank(void)
{
    acdc_sim_tolerance *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->baseline_mean = t->baseline_sd = NAN;
    for (int i = 0; i < ACDC_SIM_PERTURB_COUNT; i++)
        item_clear(&t->item[i]);
    return t;
}

void acdc_sim_tolerance_free(acdc_sim_tolerance *t)
{
    if (!t)
        return;
    for (int i = 0; i < ACDC_SIM_PERTURB_COUNT; i++)
        free(t->item[i].points);
    free(t->baseline);
    if (t->state) {
        acdc_compiler_system_free(t->state->system);
        acdc_compiler_system_free(t->state->fixed);
        acdc_data_free(t->state->data);
        free(t->state->settings);
        free(t->state->overrides);
        free(t->state);
    }
    free(t);
}

int acdc_sim_tolerance_alloc(acdc_sim_tolerance **out, const acdc_sim_tolerance_config *c)
{
    int rc;
    uint64_t hsys, hdata;
    *out = NULL;
    if (c->metric != ACDC_SIM_METRIC_ACC_OPTICAL && c->metric != ACDC_SIM_METRIC_REL_RMS)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "a tolerance budget is on acc_optical or rel_rms, "
                               "not metric %d", c->metric);
    if (!(c->budget > 0) || !isfinite(c->budget) ||
        (c->metric == ACDC_SIM_METRIC_ACC_OPTICAL && c->budget > 1))
        return acdc_util_error(ACDC_UTIL_EUSAGE,
                               "budget %g is out of range (accuracy: 0 < budget <= "
                               "1, a fraction; relative RMS error: > 0)", c->budget);
    if (!(c->rel_tol > 0 && c->rel_tol < 1))
        return acdc_util_error(ACDC_UTIL_EUSAGE,
                               "relative tolerance %g is outside (0, 1)", c->rel_tol);
    if (c->max_steps < 1 || c->max_steps > 30 || c->trials < 1)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "max_steps %d (1..30) or trials %zu (>= 1) out of "
                               "range", c->max_steps, c->trials);
    int any = 0;
    for (int i = 0; i < ACDC_SIM_PERTURB_COUNT; i++)
        any |= c->only[i];
    for (int i = 0; i < ACDC_SIM_PERTURB_COUNT; i++)
        if ((!any || c->only[i]) && c->options.perturb[i] != 0)
            return acdc_util_error(ACDC_UTIL_EUSAGE, "--perturb %s: that perturbation is searched; "
                                   "leave it out, or name the others with --only",
                                   acdc_sim_perturb_table()[i].name);
    acdc_sim_tolerance *t = blank();
    struct acdc_sim_tolerance_state *st = t ? calloc(1, sizeof *st) : NULL;
    if (!st) {
        free(t);
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
    }
    t->state = st;
    st->c = *c;
    for (int i = 0; i < ACDC_SIM_PERTURB_COUNT; i++)
        t->selected[i] = !any || c->only[i];
    if ((rc = acdc_sim_inputs_read(c->system_path, c->data_path, c->rows, &st->system,
                                   &st->data, &hsys, &hdata)))
        goto fail;
    acdc_data *d = st->data;
    if (c->metric == ACDC_SIM_METRIC_ACC_OPTICAL && !d->labels) {
        rc = acdc_util_error(ACDC_UTIL_EUSAGE,
                             "'%s' has no labels, so no accuracy: give a budget of "
                             "the relative RMS error (--budget-rel-rms X)", c->data_path);
        goto fail;
    }
    if (c->nsets &&
        (rc = acdc_sim_system_override(st->system, c->compile, c->sets, c->nsets, &st->fixed)))
        goto fail;
    const acdc_compiler_system *s = st->fixed ? st->fixed : st->system;
    acdc_sim_optics_of(s, &c->options, &st->optics);
    size_t setlen = 1;
    for (size_t i = 0; i < c->nsets; i++)
        setlen += strlen(c->sets[i]) + 1;
    if (!(st->overrides = calloc(setlen, 1))) {
        rc = acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < c->nsets; i++) {
        if (i)
            strcat(st->overrides, ",");
        strcat(st->overrides, c->sets[i]);
    }
    t->metric = c->metric;
    t->budget = c->budget;
    t->rel_tol = c->rel_tol;
    t->max_steps = c->max_steps;
    t->rows = d->batch;
    t->trials = c->trials;
    t->seed = c->options.seed;
    t->oversample = acdc_sim_oversample(s, c->options.oversample);
    t->noise = c->options.noise && !s->profile.ideal;
    t->labelled = d->labels != NULL;
    t->propagation = st->optics.propagation;
    t->lens_model = st->optics.lens.model;
    snprintf(t->profile, sizeof t->profile, "%s", s->profile.name);
    snprintf(t->system, sizeof t->system, "%s", c->system_path);
    snprintf(t->data, sizeof t->data, "%s", c->data_path);
    if (!(st->settings = settings_string(t, hsys, hdata))) {
        rc = acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
        goto fail;
    }
    *out = t;
    return ACDC_UTIL_OK;
fail:
    acdc_sim_tolerance_free(t);
    return rc;
}

/* ---------------------------------------------------------------------------------- */
/* the file                                                                             */

static int write_item(hid_t f, int id, const acdc_sim_tolerance_item *it)
{
    const acdc_sim_perturb_info *p = &acdc_sim_perturb_table()[id];
    char g[96], d[128];
    snprintf(g, sizeof g, "/perturbations/%s", p->name);
    snprintf(d, sizeof d, "%s/points", g);
    int rc = acdc_util_h5_group(f, g);
    if (!rc && it->n_points) {
        hsize_t dims[2] = {it->n_points, 3};
        rc = acdc_util_h5_write_f64(f, d, 2, dims, it->points);
    }
    if (!rc) rc = acdc_util_h5_set_attr_str(f, g, "status",
                                            acdc_sim_tolerance_status_name(it->status));
    if (!rc) rc = acdc_util_h5_set_attr_f64(f, g, "value", it->value);
    if (!rc) rc = acdc_util_h5_set_attr_f64(f, g, "uncertainty", it->uncertainty);
    if (!rc) rc = acdc_util_h5_set_attr_f64(f, g, "lo", it->lo);
    if (!rc) rc = acdc_util_h5_set_attr_f64(f, g, "hi", it->hi);
    if (!rc) rc = acdc_util_h5_set_attr_f64(f, g, "range_max", it->range_max);
    if (!rc) rc = acdc_util_h5_set_attr_f64(f, g, "reach", it->reach);
    if (!rc) rc = acdc_util_h5_set_attr_f64(f, g, "miss", it->miss);
    if (!rc) rc = acdc_util_h5_set_attr_str(f, g, "unit", p->unit);
    if (!rc) rc = acdc_util_h5_set_attr_f64(f, g, "scale", p->scale);
    if (!rc) rc = acdc_util_h5_set_attr_i64(f, g, "inverse", p->inverse);
    if (!rc) rc = acdc_util_h5_set_attr_i64(f, g, "evaluations", (int64_t)it->n_points);
    if (!rc) rc = acdc_util_h5_set_attr_f64(f, g, "seconds", it->seconds);
    if (!rc) rc = acdc_util_h5_set_attr_str(f, g, "note", it->note);
    return rc;
}

/* Rewrites the whole file atomically: what is known so far. */
static int write_file(const acdc_sim_tolerance *t)
{
    const struct acdc_sim_tolerance_state *st = t->state;
    const acdc_sim_tolerance_config *c = &st->c;
    char fixed[512];
    acdc_util_h5_out o;
    int rc = acdc_util_h5_create(c->out, &o);
    if (rc)
        return rc;
    hid_t f = o.fid;
    acdc_sim_perturb_describe(c->options.perturb, c->options.chain, fixed, sizeof fixed);
    rc = acdc_util_h5_set_attr_str(f, "/", "format", "acdc-tolerance");
    if (!rc) rc = acdc_util_h5_set_attr_str(f, "/", "settings", st->settings);
    if (!rc) rc = acdc_util_h5_set_attr_str(f, "/", "system", c->system_path);
    if (!rc) rc = acdc_util_h5_set_attr_str(f, "/", "data", c->data_path);
    if (!rc) rc = acdc_util_h5_set_attr_str(f, "/", "profile", t->profile);
    if (!rc) rc = acdc_util_h5_set_attr_i64(f, "/", "rows", (int64_t)t->rows);
    if (!rc) rc = acdc_util_h5_set_attr_i64(f, "/", "trials", (int64_t)t->trials);
    if (!rc) rc = acdc_util_h5_set_attr_i64(f, "/", "seed", (int64_t)t->seed);
    if (!rc) rc = acdc_util_h5_set_attr_i64(f, "/", "oversample", t->oversample);
    if (!rc) rc = acdc_util_h5_set_attr_str(f, "/", "propagation",
                                            acdc_sim_propagation_name(t->propagation));
    if (!rc) rc = acdc_util_h5_set_attr_str(f, "/", "lens_model",
                                            acdc_optics_lens_model_name(t->lens_model));
    if (!rc) rc = acdc_util_h5_set_attr_str(f, "/", "lens_name", st->optics.lens.name);
    if (!rc) rc = acdc_util_h5_set_attr_str(f, "/", "lens_note", st->optics.note);
    if (!rc) rc = acdc_util_h5_set_attr_i64(f, "/", "noise", t->noise);
    if (!rc) rc = acdc_util_h5_set_attr_f64(f, "/", "photons", c->options.photons);
    if (!rc) rc = acdc_util_h5_set_attr_f64(f, "/", "phase_error_rad", c->options.phase_error_rad);
    if (!rc) rc = acdc_util_h5_set_attr_str(f, "/", "perturbations", fixed);
    if (!rc) rc = acdc_util_h5_set_attr_str(f, "/", "overrides", st->overrides);
    if (!rc) rc = acdc_util_h5_set_attr_i64(f, "/", "labelled", t->labelled);
    if (!rc) rc = acdc_util_h5_set_attr_str(f, "/", "metric",
                                            acdc_sim_metric_info(t->metric)->name);
    if (!rc) rc = acdc_util_h5_set_attr_f64(f, "/", "budget", t->budget);
    if (!rc) rc = acdc_util_h5_set_attr_f64(f, "/", "rel_tol", t->rel_tol);
    if (!rc) rc = acdc_util_h5_set_attr_i64(f, "/", "max_steps", t->max_steps);
    if (!rc) rc = acdc_util_h5_set_attr_f64(f, "/", "baseline_mean", t->baseline_mean);
    if (!rc) rc = acdc_util_h5_set_attr_f64(f, "/", "baseline_sd", t->baseline_sd);
    if (!rc && t->baseline) {
        hsize_t n = t->trials;
        rc = acdc_util_h5_write_f64(f, "/baseline", 1, &n, t->baseline);
    }
    if (!rc) rc = acdc_util_h5_group(f, "/perturbations");
    for (int i = 0; i < ACDC_SIM_PERTURB_COUNT && !rc; i++)
        if (t->item[i].status != ACDC_SIM_TOL_PENDING)
            rc = write_item(f, i, &t->item[i]);
    if (rc) {
        acdc_util_h5_abort(&o);
        return rc;
    }
    return acdc_util_h5_commit(&o);
}

/* Opens path and checks that it is a tolerance file; output: it is the -o of a run. */
static int open_file(const char *path, hid_t *f, int output)
{
    char fmt[32] = "";
    int rc = acdc_util_h5_open(path, f);
    if (rc)
        return rc;
    if (!acdc_util_h5_attr_exists(*f, "/", "format") ||
        acdc_util_h5_attr_str(*f, path, "/", "format", fmt, sizeof fmt) ||
        strcmp(fmt, "acdc-tolerance")) {
        H5Fclose(*f);
        return output ? acdc_util_error(ACDC_UTIL_EDATA, "'%s' exists and is not a tolerance file: "
                                        "choose another -o (or --restart to overwrite it)", path)
                      : acdc_util_error(ACDC_UTIL_EDATA, "'%s' is not a tolerance file (format "
                                        "'acdc-tolerance')", path);
    }
    return ACDC_UTIL_OK;
}

/* Reads a finite-or-NaN attribute. */
static int attr_f(hid_t f, const char *path, const char *obj, const char *name, double *v)
{
    return acdc_util_h5_attr_f64_nan_ok(f, path, obj, name, v);
}

/* Reads the baseline (if there) and every perturbation group of an open file into t;
 * select: mark what the file holds as selected. */
static int read_content(hid_t f, const char *path, acdc_sim_tolerance *t, int select)
{
    int rc;
    if (acdc_util_h5_exists(f, "/baseline")) {
        hsize_t n = t->trials;
        free(t->baseline);
        t->baseline = NULL;
        if ((rc = acdc_util_h5_read_f64(f, path, "/baseline", 1, &n, &t->baseline)))
            return rc;
        if ((rc = attr_f(f, path, "/", "baseline_mean", &t->baseline_mean)) ||
            (rc = attr_f(f, path, "/", "baseline_sd", &t->baseline_sd)))
            return rc;
    }
    for (int i = 0; i < ACDC_SIM_PERTURB_COUNT; i++) {
        const acdc_sim_perturb_info *p = &acdc_sim_perturb_table()[i];
        acdc_sim_tolerance_item *it = &t->item[i];
        char g[96], d[128], status[32];
        int64_t evals = 0;
        snprintf(g, sizeof g, "/perturbations/%s", p->name);
        snprintf(d, sizeof d, "%s/points", g);
        if (!acdc_util_h5_exists(f, g))
            continue;
        item_clear(it);
        if ((rc = acdc_util_h5_attr_str(f, path, g, "status", status, sizeof status)))
            return rc;
        if (status_parse(status, &it->status))
            return acdc_util_error(ACDC_UTIL_EDATA,
                                   "attribute 'status' of '%s' in '%s': '%s' is not "
                                   "found, beyond or n/a", g, path, status);
        if ((rc = attr_f(f, path, g, "value", &it->value)) ||
            (rc = attr_f(f, path, g, "uncertainty", &it->uncertainty)) ||
            (rc = attr_f(f, path, g, "lo", &it->lo)) ||
            (rc = attr_f(f, path, g, "hi", &it->hi)) ||
            (rc = attr_f(f, path, g, "range_max", &it->range_max)) ||
            (rc = attr_f(f, path, g, "reach", &it->reach)) ||
            (rc = attr_f(f, path, g, "miss", &it->miss)) ||
            (rc = attr_f(f, path, g, "seconds", &it->seconds)) ||
            (rc = acdc_util_h5_attr_i64(f, path, g, "evaluations", &evals)) ||
            (rc = acdc_util_h5_attr_str(f, path, g, "note", it->note, sizeof it->note)))
            return rc;
        if (evals < 0 || evals > 100000 || (evals > 0) != acdc_util_h5_exists(f, d))
            return acdc_util_error(ACDC_UTIL_EDATA, "'%s' in '%s': %lld evaluations, and %s points",
                                   g, path, (long long)evals,
                                   acdc_util_h5_exists(f, d) ? "a dataset of" : "no dataset of");
        if (evals) {
            hsize_t dims[2] = {(hsize_t)evals, 3};
            if ((rc = acdc_util_h5_read_f64_nan_ok(f, path, d, 2, dims, &it->points)))
                return rc;
        }
        it->n_points = (size_t)evals;
        if (it->status == ACDC_SIM_TOL_FOUND && !(isfinite(it->value) && it->value > 0))
            return acdc_util_error(ACDC_UTIL_EDATA,
                                   "'%s' in '%s': a tolerance found at %g", g, path,
                                   it->value);
        if (select)
            t->selected[i] = 1;
    }
    return ACDC_UTIL_OK;
}

/* Loads the baseline and the finished perturbations of an existing analysis with
 * identical settings. */
static int load_previous(acdc_sim_tolerance *t)
{
    const char *path = t->state->c.out, *settings = t->state->settings;
    hid_t f;
    int rc;
    if ((rc = open_file(path, &f, 1)))
        return rc;
    if (!(rc = acdc_util_h5_settings_match(f, path, settings, "a tolerance analysis")))
        rc = read_content(f, path, t, 0);
    H5Fclose(f);
    return rc;
}

int acdc_sim_tolerance_open(acdc_sim_tolerance *t, enum acdc_sim_tolerance_mode mode, int *resumed)
{
    *resumed = 0;
    if (!t->state)
        return acdc_util_error(ACDC_UTIL_EUSAGE,
                               "acdc_sim_tolerance_open: an analysis read from a file "
                               "cannot run");
    if (acdc_sim_mpi_rank() > 0)
        return ACDC_UTIL_OK;   /* rank 0 alone reads and writes the file (sim/mpi.h) */
    const char *out = t->state->c.out;
    int exists = access(out, F_OK) == 0, rc;
    if (mode == ACDC_SIM_TOL_RESUME && !exists)
        return acdc_util_error(ACDC_UTIL_EDATA, "--resume: '%s' does not exist", out);
    if (exists && mode != ACDC_SIM_TOL_RESTART) {
        if ((rc = load_previous(t)))
            return rc;
        *resumed = 1;
        return ACDC_UTIL_OK;
    }
    return write_file(t);   /* the settings on disk at once: a bad -o fails before work */
}

int acdc_sim_tolerance_read(const char *path, acdc_sim_tolerance **out)
{
    hid_t f;
    int64_t rows = 0, trials = 0, seed = 0, os = 0, noise = 0, labelled = 0, steps = 0;
    char name[64];
    int rc;
    *out = NULL;
    if ((rc = open_file(path, &f, 0)))
        return rc;
    acdc_sim_tolerance *t = blank();
    if (!t) {
        H5Fclose(f);
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
    }
    if ((rc = acdc_util_h5_attr_i64(f, path, "/", "rows", &rows)) ||
        (rc = acdc_util_h5_attr_i64(f, path, "/", "trials", &trials)) ||
        (rc = acdc_util_h5_attr_i64(f, path, "/", "seed", &seed)) ||
        (rc = acdc_util_h5_attr_i64(f, path, "/", "oversample", &os)) ||
        (rc = acdc_util_h5_attr_i64(f, path, "/", "noise", &noise)) ||
        (rc = acdc_util_h5_attr_i64(f, path, "/", "labelled", &labelled)) ||
        (rc = acdc_util_h5_attr_i64(f, path, "/", "max_steps", &steps)) ||
        (rc = acdc_util_h5_attr_f64(f, path, "/", "budget", &t->budget)) ||
        (rc = acdc_util_h5_attr_f64(f, path, "/", "rel_tol", &t->rel_tol)) ||
        (rc = acdc_util_h5_attr_str(f, path, "/", "profile", t->profile, sizeof t->profile)) ||
        (rc = acdc_util_h5_attr_str(f, path, "/", "system", t->system, sizeof t->system)) ||
        (rc = acdc_util_h5_attr_str(f, path, "/", "data", t->data, sizeof t->data)))
        goto out;
    if (rows < 0 || trials < 1 || trials > 100000 || os < 1) {
        rc = acdc_util_error(ACDC_UTIL_EDATA,
                             "'%s': rows %lld, trials %lld or oversample %lld out of "
                             "range", path, (long long)rows, (long long)trials, (long long)os);
        goto out;
    }
    t->rows = (size_t)rows;
    t->trials = (size_t)trials;
    t->seed = (uint64_t)seed;
    t->oversample = (int)os;
    t->noise = noise != 0;
    t->labelled = labelled != 0;
    t->max_steps = (int)steps;
    if ((rc = acdc_util_h5_attr_str(f, path, "/", "metric", name, sizeof name)))
        goto out;
    t->metric = acdc_sim_metric_find(name);
    if (t->metric != ACDC_SIM_METRIC_ACC_OPTICAL && t->metric != ACDC_SIM_METRIC_REL_RMS) {
        rc = acdc_util_error(ACDC_UTIL_EDATA,
                             "attribute 'metric' in '%s': '%s' is not acc_optical or "
                             "rel_rms", path, name);
        goto out;
    }
    if ((rc = acdc_util_h5_attr_str(f, path, "/", "propagation", name, sizeof name)))
        goto out;
    if (acdc_sim_propagation_parse(name, &t->propagation) ||
        t->propagation == ACDC_SIM_PROP_PROFILE) {
        rc = acdc_util_error(ACDC_UTIL_EDATA, "attribute 'propagation' in '%s': '%s' is not ideal, "
                             "fresnel or asm", path, name);
        goto out;
    }
    if ((rc = acdc_util_h5_attr_str(f, path, "/", "lens_model", name, sizeof name)))
        goto out;
    if (acdc_optics_lens_model_parse(name, &t->lens_model)) {
        rc = acdc_util_error(ACDC_UTIL_EDATA,
                             "attribute 'lens_model' in '%s': '%s' is not fourier, "
                             "paraxial or corrected", path, name);
        goto out;
    }
    rc = read_content(f, path, t, 1);
out:
    H5Fclose(f);
    if (rc) {
        acdc_sim_tolerance_free(t);
        return rc;
    }
    *out = t;
    return ACDC_UTIL_OK;
}

/* ---------------------------------------------------------------------------------- */
/* the search                                                                           */

/* One perturbation's search: x is v, or 1/v for an inverse perturbation; x = 0 is the
 * unperturbed system. */
struct search {
    acdc_sim_tolerance *t;
    int id;
    acdc_sim_tolerance_item *it;   /* where the search goes: t->item[id] or a copy */
    const acdc_sim_perturb_info *p;
    const volatile sig_atomic_t *stop;
    acdc_sim_tolerance_report report;
    void *ctx;
    double target;   /* the budget, less a rounding allowance */
    int rc;          /* the first failure inside the solver's callback */
};

static double value_of(const struct search *s, double x)
{
    return s->p->inverse ? 1 / x : x;
}

/* The unperturbed metric of every trial: the baseline the costs are measured from. */
static int run_baseline(acdc_sim_tolerance *t, const volatile sig_atomic_t *stop)
{
    struct acdc_sim_tolerance_state *st = t->state;
    const acdc_sim_tolerance_config *c = &st->c;
    acdc_sim_job job = {.system = st->fixed ? st->fixed : st->system, .data = st->data,
                        .options = c->options, .trials = c->trials, .batch = c->batch};
    acdc_sim_result r;
    int rc = acdc_sim_execute(&job, &r, stop);
    if (rc == ACDC_UTIL_EINTR)
        return acdc_util_error(ACDC_UTIL_EINTR, "interrupted before the unperturbed baseline was "
                               "measured; run the same command again to continue");
    if (rc) {
        acdc_util_error_prefix("the unperturbed baseline");
        return rc;
    }
    free(t->baseline);
    if (!(t->baseline = malloc(t->trials * sizeof *t->baseline))) {
        acdc_sim_result_free(&r);
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
    }
    double sum = 0, sq = 0;
    for (size_t k = 0; k < t->trials; k++)
        sum += t->baseline[k] = acdc_sim_metric_get(&r.end[k], t->metric);
    acdc_sim_result_free(&r);
    t->baseline_mean = sum / (double)t->trials;
    for (size_t k = 0; k < t->trials; k++)
        sq += (t->baseline[k] - t->baseline_mean) * (t->baseline[k] - t->baseline_mean);
    t->baseline_sd = t->trials > 1 ? sqrt(sq / (double)(t->trials - 1)) : NAN;
    if (!isfinite(t->baseline_mean))
        return acdc_util_error(ACDC_UTIL_EDATA, "the unperturbed %s is not finite",
                               acdc_sim_metric_info(t->metric)->name);
    return ACDC_UTIL_OK;
}

/* The cost at x, mean and sd over the trials: an evaluation already made is looked up,
 * x = 0 costs nothing.  Errors: those of acdc_sim_execute(), prefixed with the value except
 * ACDC_UTIL_EUSAGE (the caller's n/a) and ACDC_UTIL_EINTR; ACDC_UTIL_EDATA for a cost not finite. */
static int evaluate(struct search *s, double x, double *cost, double *sd)
{
    acdc_sim_tolerance *t = s->t;
    struct acdc_sim_tolerance_state *st = t->state;
    acdc_sim_tolerance_item *it = s->it;
    char what[96];
    if (x == 0) {
        *cost = 0;
        *sd = 0;
        return ACDC_UTIL_OK;
    }
    const double v = value_of(s, x);
    for (size_t i = 0; i < it->n_points; i++)
        if (fabs(it->points[3 * i] - v) <= SAME * fabs(v)) {
            *cost = it->points[3 * i + 1];
            *sd = it->points[3 * i + 2];
            return ACDC_UTIL_OK;
        }
    double *grown = realloc(it->points, 3 * (it->n_points + 1) * sizeof *grown);
    if (!grown)
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
    it->points = grown;
    acdc_sim_job job = {.system = st->fixed ? st->fixed : st->system, .data = st->data,
                        .options = st->c.options, .trials = t->trials, .batch = st->c.batch};
    job.options.perturb[s->id] = v;
    acdc_sim_result r;
    const double t0 = now();
    int rc = acdc_sim_execute(&job, &r, s->stop);
    it->seconds += now() - t0;
    if (rc) {
        if (rc != ACDC_UTIL_EUSAGE && rc != ACDC_UTIL_EINTR) {
            acdc_sim_tolerance_format(s->id, v, NAN, what, sizeof what);
            acdc_util_error_prefix("%s = %s", s->p->name, what);
        }
        return rc;
    }
    /* common random numbers: trial k of every value has the seeds of the baseline's
     * trial k, so the cost is the mean of the trials' own differences */
    const double sign = acdc_sim_metric_info(t->metric)->higher_better ? 1 : -1;
    double sum = 0, sq = 0;
    for (size_t k = 0; k < t->trials; k++)
        sum += sign * (t->baseline[k] - acdc_sim_metric_get(&r.end[k], t->metric));
    const double mean = sum / (double)t->trials;
    for (size_t k = 0; k < t->trials; k++) {
        const double dk = sign * (t->baseline[k] - acdc_sim_metric_get(&r.end[k], t->metric));
        sq += (dk - mean) * (dk - mean);
    }
    acdc_sim_result_free(&r);
    if (!isfinite(mean)) {
        acdc_sim_tolerance_format(s->id, v, NAN, what, sizeof what);
        return acdc_util_error(ACDC_UTIL_EDATA, "%s = %s: the cost is not finite",
                               s->p->name, what);
    }
    *cost = mean;
    *sd = t->trials > 1 ? sqrt(sq / (double)(t->trials - 1)) : NAN;
    double *pt = it->points + 3 * it->n_points++;
    pt[0] = v;
    pt[1] = *cost;
    pt[2] = *sd;
    if (s->report)
        s->report(t, s->id, 0, s->ctx);
    return ACDC_UTIL_OK;
}

/* The solver's function, cost(x) - budget; a failure is kept in s->rc and ends the
 * solver (the value returned is finite, so GSL never sees a NaN). */
static double brent_f(double x, void *params)
{
    struct search *s = params;
    double c, sd;
    if (s->rc || (s->rc = evaluate(s, x, &c, &sd)))
        return 0;
    return c - s->target;
}

/* The bracket [a, b] in x with cost(a) < budget <= cost(b), by x4 steps from the
 * scale.  *found = 0 when the budget is not reached at the farthest x the steps and the
 * range allow (*b is then that x). */
static int bracket(struct search *s, double *a, double *b, int *found)
{
    const acdc_sim_perturb_info *p = s->p;
    const int steps = s->t->max_steps;
    /* x's range: values within the table's, x = 0 (unperturbed) excluded */
    const double x_top = p->inverse ? (p->lo > 0 ? 1 / p->lo : INFINITY) : p->hi;
    const double x_low = p->inverse ? 1 / p->hi : 0;
    double x0 = fmin(p->inverse ? 1 / p->scale : p->scale, x_top), c, sd;
    int rc;
    *found = 1;
    if ((rc = evaluate(s, x0, &c, &sd)))
        return rc;
    if (c < s->target) {
        const double x_max = fmin(x0 * pow(4, steps), x_top);
        *a = x0;
        for (;;) {
            if (*a >= x_max) {
                *b = *a;
                *found = 0;
                return ACDC_UTIL_OK;
            }
            *b = fmin(4 * *a, x_max);
            if ((rc = evaluate(s, *b, &c, &sd)))
                return rc;
            if (c >= s->target)
                return ACDC_UTIL_OK;
            *a = *b;
        }
    }
    *b = x0;
    for (int k = 0; k < steps && *b / 4 > x_low; k++) {
        *a = *b / 4;
        if ((rc = evaluate(s, *a, &c, &sd)))
            return rc;
        if (c < s->target)
            return ACDC_UTIL_OK;
        *b = *a;
    }
    *a = 0;   /* the unperturbed system: cost 0 */
    return ACDC_UTIL_OK;
}

/* Brent's method on cost(x) - budget in [a, b] until the bracket is rel_tol wide; the
 * root (an evaluated point) in *root and the solver's brackets, the first [a, b], in
 * br[0 .. 2 * *nb) as lower, upper pairs (MAX_ITER + 1 of them at most). */
static int refine(struct search *s, double a, double b, double *root, double *br, int *nb)
{
    gsl_function F = {brent_f, s};
    gsl_root_fsolver *sv = gsl_root_fsolver_alloc(gsl_root_fsolver_brent);
    if (!sv)
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
    const size_t evals0 = s->it->n_points;
    /* the solver's refusals come back as statuses, not through GSL's aborting handler */
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    int st = gsl_root_fsolver_set(sv, &F, a, b), rc = s->rc;
    double lo = a, hi = b;
    br[0] = a;
    br[1] = b;
    *nb = 1;
    *root = b;
    for (int k = 0; !rc && !st && k < MAX_ITER; k++) {
        if (gsl_root_test_interval(lo, hi, 0, s->t->rel_tol) == GSL_SUCCESS ||
            s->it->n_points - evals0 >= MAX_EVALS)
            break;
        st = gsl_root_fsolver_iterate(sv);
        if ((rc = s->rc) || st)
            break;
        *root = gsl_root_fsolver_root(sv);
        const double l = gsl_root_fsolver_x_lower(sv), h = gsl_root_fsolver_x_upper(sv);
        if (!(h > l))
            break;   /* the cost is the budget at the root itself */
        if (l != lo || h != hi) {
            lo = br[2 * *nb] = l;
            hi = br[2 * *nb + 1] = h;
            ++*nb;
        }
    }
    gsl_set_error_handler(old);
    gsl_root_fsolver_free(sv);
    if (!rc && st)
        rc = acdc_util_error(ACDC_UTIL_EDATA, "%s: the root solver failed: %s", s->p->name,
                             gsl_strerror(st));
    return rc;
}

/* Searches perturbation id into *it (t->item[id], or a rank's own item: sim/mpi.h): it
 * becomes found, beyond or n/a.  report (may be NULL) is told of each evaluation. */
static int search_one(acdc_sim_tolerance *t, int id, acdc_sim_tolerance_item *it,
                      const volatile sig_atomic_t *stop, acdc_sim_tolerance_report report,
                      void *ctx)
{
    struct search s = {.t = t, .id = id, .it = it, .p = &acdc_sim_perturb_table()[id], .stop = stop,
                       .report = report, .ctx = ctx,
                       /* an accuracy is a count of rows: a cost equal to the budget must
                        * not fall short of it by a rounding */
                       .target = t->budget * (1 - 1e-9)};
    item_clear(it);
    double a = 0, b = 0, root = 0, br[2 * (MAX_ITER + 1)];
    int found, nb = 0, rc = bracket(&s, &a, &b, &found);
    if (!rc && found)
        rc = refine(&s, a, b, &root, br, &nb);
    if (rc == ACDC_UTIL_EUSAGE) {
        /* the simulator refuses this perturbation on this system */
        it->status = ACDC_SIM_TOL_NA;
        snprintf(it->note, sizeof it->note, "%s", acdc_util_errmsg());
        acdc_util_error_clear();
        return ACDC_UTIL_OK;
    }
    if (rc)
        return rc;
    if (!found) {
        int moved = 0;
        double worst = 0;
        for (size_t i = 0; i < it->n_points; i++) {
            moved |= it->points[3 * i + 1] != 0;
            worst = fmax(worst, it->points[3 * i + 1]);
        }
        it->status = ACDC_SIM_TOL_BEYOND;
        it->range_max = value_of(&s, b);
        if (!moved)
            snprintf(it->note, sizeof it->note, "no effect on this system at any value "
                     "tried");
        else
            snprintf(it->note, sizeof it->note, "the largest cost seen is %.3g, the budget "
                     "%.3g", worst, t->budget);
        return ACDC_UTIL_OK;
    }
    /* the Monte Carlo uncertainty: the standard error of the cost at the root over the
     * local slope of the cost, the finite difference over the solver's last bracket
     * across which the cost changes by more than twice its standard error -- the
     * narrowest these rows and trials resolve; over a narrower one the difference is
     * noise and the slope meaningless.  With one trial there is no standard error:
     * the last bracket, no uncertainty. */
    const double rt = sqrt((double)t->trials);
    double sd_root, c_lo = 0, c_hi = 0, sd_lo, sd_hi, lo = a, hi = b;
    int resolved = 0;
    /* the root: Brent's last point is either end of its last bracket, the secant
     * between the two is the better estimate (exact for a linear cost); its standard
     * error is that of the nearer end */
    const double l0 = br[2 * nb - 2], h0 = br[2 * nb - 1];
    if ((rc = evaluate(&s, l0, &c_lo, &sd_lo)) || (rc = evaluate(&s, h0, &c_hi, &sd_hi)))
        return rc;
    if (c_hi > c_lo)
        root = l0 + (h0 - l0) * fmin(1, fmax(0, (t->budget - c_lo) / (c_hi - c_lo)));
    sd_root = root - l0 < h0 - root ? sd_lo : sd_hi;
    for (int k = nb - 1; k >= 0 && !resolved; k--) {
        lo = br[2 * k];
        hi = br[2 * k + 1];
        if ((rc = evaluate(&s, lo, &c_lo, &sd_lo)) || (rc = evaluate(&s, hi, &c_hi, &sd_hi)))
            return rc;
        resolved = t->trials < 2 ||
                   c_hi - c_lo >= 2 * hypot(sd_lo / rt, sd_hi / rt);
    }
    const double slope = (c_hi - c_lo) / (hi - lo);
    const double sx = slope > 0 ? sd_root / rt / slope : NAN;
    it->status = ACDC_SIM_TOL_FOUND;
    it->value = value_of(&s, root);
    it->lo = s.p->inverse ? 1 / br[2 * nb - 1] : br[2 * nb - 2];
    it->hi = s.p->inverse ? (br[2 * nb - 2] > 0 ? 1 / br[2 * nb - 2] : NAN) : br[2 * nb - 1];
    it->uncertainty = s.p->inverse ? sx / (root * root) : sx;
    /* the crossing as evaluated, in x: the least x whose cost reached the budget, the
     * largest x (0 included) whose cost did not */
    double x_reach = INFINITY, x_miss = 0;
    for (size_t i = 0; i < it->n_points; i++) {
        const double x = s.p->inverse ? 1 / it->points[3 * i] : it->points[3 * i];
        if (it->points[3 * i + 1] >= s.target)
            x_reach = fmin(x_reach, x);
        else
            x_miss = fmax(x_miss, x);
    }
    it->reach = value_of(&s, x_reach);
    it->miss = x_miss > 0 ? value_of(&s, x_miss) : s.p->inverse ? NAN : 0;
    /* (a miss past a reach by less than the solver's resolution is rounding) */
    if (x_miss > x_reach * (1 + t->rel_tol)) {
        char r[64], m[64];
        acdc_sim_tolerance_format(id, it->reach, NAN, r, sizeof r);
        acdc_sim_tolerance_format(id, it->miss, NAN, m, sizeof m);
        snprintf(it->note, sizeof it->note, "noise-limited: the cost crosses the budget "
                 "more than once, between %s and %s (more rows or trials narrow it)", r, m);
    } else if (!resolved) {
        char l[64], h[64];
        acdc_sim_tolerance_format(id, value_of(&s, a), NAN, l, sizeof l);
        acdc_sim_tolerance_format(id, value_of(&s, b), NAN, h, sizeof h);
        snprintf(it->note, sizeof it->note, "noise-limited: from %s to %s the cost changes "
                 "by less than twice its standard error (more rows or trials narrow it)",
                 a > 0 ? l : "the unperturbed system", h);
    } else if (s.p->inverse) {
        snprintf(it->note, sizeof it->note, "smaller values cost more");
    }
    return ACDC_UTIL_OK;
}

/* ---------------------------------------------------------------------------------- */
/* running: the searches shared out over the ranks (sim/mpi.h)                          */

/* An item as the ranks send it: ITEM_HEAD doubles (status, value, uncertainty, lo, hi,
 * range_max, reach, miss, n_points, seconds), the n_points x 3 points, then the note's
 * bytes. */
enum { ITEM_HEAD = 10 };

static size_t item_bytes(size_t n_points)
{
    return (ITEM_HEAD + 3 * n_points) * sizeof(double) + sizeof ((acdc_sim_tolerance_item *)0)->note;
}

static int item_pack(const acdc_sim_tolerance_item *it, void **out, size_t *bytes)
{
    const size_t n = it->n_points;
    double *b = malloc(item_bytes(n));
    if (!b)
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
    const double head[ITEM_HEAD] = {it->status, it->value, it->uncertainty, it->lo, it->hi,
                                    it->range_max, it->reach, it->miss, (double)n, it->seconds};
    memcpy(b, head, sizeof head);
    if (n)
        memcpy(b + ITEM_HEAD, it->points, 3 * n * sizeof *b);
    memcpy(b + ITEM_HEAD + 3 * n, it->note, sizeof it->note);
    *out = b;
    *bytes = item_bytes(n);
    return ACDC_UTIL_OK;
}

static int item_unpack(const void *res, size_t bytes, acdc_sim_tolerance_item *it)
{
    double head[ITEM_HEAD];
    if (bytes < item_bytes(0))
        return acdc_util_error(ACDC_UTIL_EDATA, "a search's result of %zu bytes, too short",
                               bytes);
    memcpy(head, res, sizeof head);
    const size_t n = (size_t)head[8];
    if (head[8] < 0 || bytes != item_bytes(n))
        return acdc_util_error(ACDC_UTIL_EDATA, "a search's result of %zu bytes for %zu "
                               "evaluations", bytes, n);
    item_clear(it);
    if (n && !(it->points = malloc(3 * n * sizeof *it->points)))
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
    const double *b = res;
    if (n)
        memcpy(it->points, b + ITEM_HEAD, 3 * n * sizeof *b);
    memcpy(it->note, b + ITEM_HEAD + 3 * n, sizeof it->note);
    it->note[sizeof it->note - 1] = '\0';
    it->status = (enum acdc_sim_tolerance_status)head[0];
    it->value = head[1];
    it->uncertainty = head[2];
    it->lo = head[3];
    it->hi = head[4];
    it->range_max = head[5];
    it->reach = head[6];
    it->miss = head[7];
    it->n_points = n;
    it->seconds = head[9];
    return ACDC_UTIL_OK;
}

struct run {
    acdc_sim_tolerance *t;
    acdc_sim_tolerance_report report;
    void *ctx;
};

/* sim/mpi.h's work: perturbation `task`'s search, on any rank.  A single rank searches
 * into the analysis itself, reporting each evaluation; with several, rank 0's search
 * runs beside the thread that writes the file, and each searches into its own item. */
static int search_work(size_t task, void **out, size_t *bytes, void *ctx,
                       const volatile sig_atomic_t *stop)
{
    struct run *ru = ctx;
    acdc_sim_tolerance *t = ru->t;
    const int id = (int)task;
    acdc_sim_tolerance_item own = {0}, *it = &own;
    if (id < 0 || id >= ACDC_SIM_PERTURB_COUNT)
        return acdc_util_error(ACDC_UTIL_EDATA, "no perturbation %zu", task);
    if (acdc_sim_mpi_size() == 1)
        it = &t->item[id];
    int rc = search_one(t, id, it, stop, it == &own ? NULL : ru->report, ru->ctx);
    if (!rc)
        rc = item_pack(it, out, bytes);
    if (rc || it == &own)
        item_clear(it);
    return rc;
}

/* sim/mpi.h's done, on rank 0: a finished search into the analysis and the file. */
static int search_done(size_t task, const void *res, size_t bytes, void *ctx)
{
    struct run *ru = ctx;
    acdc_sim_tolerance *t = ru->t;
    const int id = (int)task;
    int rc = item_unpack(res, bytes, &t->item[id]);
    if (!rc)
        rc = write_file(t);
    if (rc) {
        item_clear(&t->item[id]);
        return rc;
    }
    if (ru->report)
        ru->report(t, id, 1, ru->ctx);
    return ACDC_UTIL_OK;
}

/* The baseline on rank 0 (run, or read from the file), then on every rank. */
static int share_baseline(acdc_sim_tolerance *t, const volatile sig_atomic_t *stop,
                          acdc_sim_tolerance_report report, void *ctx)
{
    int rc = ACDC_UTIL_OK;
    if (acdc_sim_mpi_rank() == 0 && !t->baseline) {
        if (!(rc = run_baseline(t, stop)))
            rc = write_file(t);
        if (!rc && report)
            report(t, -1, 0, ctx);
    }
    if (!rc && !t->baseline && !(t->baseline = malloc(t->trials * sizeof *t->baseline)))
        rc = acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
    if ((rc = acdc_sim_mpi_agree(rc)))
        return rc;
    double ms[2] = {t->baseline_mean, t->baseline_sd};
    if ((rc = acdc_sim_mpi_bcast(t->baseline, t->trials * sizeof *t->baseline)) ||
        (rc = acdc_sim_mpi_bcast(ms, sizeof ms)))
        return rc;
    t->baseline_mean = ms[0];
    t->baseline_sd = ms[1];
    return ACDC_UTIL_OK;
}

int acdc_sim_tolerance_run(acdc_sim_tolerance *t, const volatile sig_atomic_t *stop,
                           acdc_sim_tolerance_report report, void *ctx)
{
    if (!t->state)
        return acdc_util_error(ACDC_UTIL_EUSAGE,
                               "acdc_sim_tolerance_run: an analysis read from a file "
                               "cannot run");
    const int before = omp_get_max_threads();
    omp_set_num_threads(t->state->c.options.threads > 0 ? t->state->c.options.threads : 1);
    size_t selected = 0, tasks[ACDC_SIM_PERTURB_COUNT], n = 0;
    for (int id = 0; id < ACDC_SIM_PERTURB_COUNT; id++) {
        selected += t->selected[id] != 0;
        if (t->selected[id] && t->item[id].status == ACDC_SIM_TOL_PENDING)
            tasks[n++] = (size_t)id;   /* significant on rank 0 only, which read the file */
    }
    struct run ru = {.t = t, .report = report, .ctx = ctx};
    const acdc_sim_mpi_work work = {.work = search_work, .done = search_done, .ctx = &ru};
    int rc = share_baseline(t, stop, report, ctx);
    if (!rc)
        rc = acdc_sim_mpi_schedule(&work, tasks, n, stop);
    if (rc == ACDC_UTIL_EINTR && acdc_sim_mpi_rank() == 0)
        rc = acdc_util_error(ACDC_UTIL_EINTR,
                             "interrupted: '%s' holds %zu of %zu perturbations; "
                             "run the same command again to continue", t->state->c.out,
                             acdc_sim_tolerance_done(t), selected);
    omp_set_num_threads(before);
    return rc;
}

/* ---------------------------------------------------------------------------------- */
/* the tornado chart                                                                    */

/* The figure's geometry: its width, the left and right margins in characters and the
 * width of a character (Sans 11 on pngcairo, about 7 px; 8 to be safe), to leave room
 * on the log axis for the labels at the bars' ends. */
enum { FIG_W = 1100, FIG_LMARGIN = 36, FIG_RMARGIN = 3, CHAR_PX = 8 };

struct bar {
    int id;
    double m, sd;       /* margin and its standard error (NaN: none) */
    double s0, s1;      /* a noise-limited crossing's span as margins, s0 < s1 (NaN:
                           none) */
    double anchor;      /* where the label starts (right of it) or ends (left of it) */
    int right;          /* label to the left of the anchor */
    char label[96];
};

/* Smallest margin first; the perturbations not applicable last, in table order. */
static int bar_cmp(const void *pa, const void *pb)
{
    const struct bar *a = pa, *b = pb;
    const int na = isnan(a->m), nb = isnan(b->m);
    if (na != nb)
        return na - nb;
    if (!na && a->m != b->m)
        return a->m < b->m ? -1 : 1;
    return a->id - b->id;
}

/* Columns text takes: a UTF-8 sequence ("±") is one. */
static int columns(const char *text)
{
    int n = 0;
    for (const char *c = text; *c; c++)
        n += ((unsigned char)*c & 0xC0) != 0x80;
    return n;
}

/* The x range [*lo, *hi] (log axis) holding every bar, 1, and each label beside its
 * anchor: a label of k columns spans k + 3 characters of the plot's width. */
static void axis_range(const struct bar *b, size_t n, double *lo, double *hi)
{
    const double plot_px = FIG_W - (FIG_LMARGIN + FIG_RMARGIN) * CHAR_PX;
    double L = 0, R = 0;   /* log10 of the data's extent, 1 included */
    for (size_t i = 0; i < n; i++)
        if (isfinite(b[i].m)) {
            const double e = isfinite(b[i].sd) ? b[i].sd : 0;
            L = fmin(L, log10(b[i].m - e > 0 ? b[i].m - e : b[i].m));
            R = fmax(R, log10(b[i].m + e));
            if (isfinite(b[i].s0)) {
                L = fmin(L, log10(b[i].s0));
                R = fmax(R, log10(b[i].s1));
            }
        }
    const double L0 = L - 0.3, R0 = R + 0.3;
    L = L0;
    R = R0;
    for (int it = 0; it < 50; it++) {   /* a fixed point: the labels' share of a wider axis */
        const double D = R - L;
        double l = L0, r = R0;
        for (size_t i = 0; i < n; i++) {
            const double a = log10(b[i].anchor);
            const double f = (columns(b[i].label) + 3) * CHAR_PX / plot_px * D;
            if (b[i].right)
                l = fmin(l, a - f);
            else
                r = fmax(r, a + f);
        }
        L = l;
        R = r;
    }
    *lo = pow(10, floor(L * 2) / 2);
    *hi = pow(10, ceil(R * 2) / 2);
}

/* "set label 'text' at x, y" with the text quoted for gnuplot. */
static void label_at(FILE *g, const char *text, double x, double y, int right)
{
    fputs("set label ", g);
    acdc_util_gnuplot_str(g, text);
    fprintf(g, " at %.9g, %.9g %s offset character %d, 0 front\n", x, y,
            right ? "right" : "left", right ? -1 : 1);
}

int acdc_sim_tolerance_plot(const acdc_sim_tolerance *t, const char *name, const char *figure,
                            const char *title, const volatile sig_atomic_t *stop)
{
    const acdc_sim_perturb_info *tab = acdc_sim_perturb_table();
    struct bar b[ACDC_SIM_PERTURB_COUNT];
    size_t n = 0;
    char v[64];
    for (int id = 0; id < ACDC_SIM_PERTURB_COUNT; id++) {
        const acdc_sim_tolerance_item *it = &t->item[id];
        if (!t->selected[id] || it->status == ACDC_SIM_TOL_PENDING)
            continue;
        struct bar *x = &b[n++];
        x->id = id;
        x->m = acdc_sim_tolerance_margin(t, id);
        x->sd = NAN;
        if (it->status == ACDC_SIM_TOL_FOUND && isfinite(it->uncertainty) && it->uncertainty > 0)
            x->sd = tab[id].inverse ? x->m * it->uncertainty / it->value
                                    : it->uncertainty / tab[id].scale;
        acdc_sim_tolerance_text(t, id, v, sizeof v);
        if (it->status == ACDC_SIM_TOL_BEYOND)
            snprintf(x->label, sizeof x->label, "%s (%s)", v,
                     strstr(it->note, "no effect") ? "no effect seen" : "budget not reached");
        else if (it->status == ACDC_SIM_TOL_NA) {
            /* the simulator's reason, without "perturbation NAME" */
            const char *why = it->note;
            char lead[96];
            snprintf(lead, sizeof lead, "perturbation %s ", tab[id].name);
            if (!strncmp(why, lead, strlen(lead)))
                why += strlen(lead);
            snprintf(x->label, sizeof x->label, "n/a: %.60s%s", why,
                     strlen(why) > 60 ? "..." : "");
        }
        else
            snprintf(x->label, sizeof x->label, "%s", v);
        x->s0 = x->s1 = NAN;
        if (it->status == ACDC_SIM_TOL_FOUND && !strncmp(it->note, "noise-limited", 13)) {
            const double r = tab[id].inverse ? tab[id].scale / it->reach
                                             : it->reach / tab[id].scale;
            const double q = tab[id].inverse ? tab[id].scale / it->miss
                                             : it->miss / tab[id].scale;
            if (r > 0 && q > 0 && isfinite(r) && isfinite(q)) {
                x->s0 = fmin(r, q);
                x->s1 = fmax(r, q);
                snprintf(x->label + strlen(x->label), sizeof x->label - strlen(x->label),
                         " (noisy)");
            }
        }
        const double e = isfinite(x->sd) ? x->sd : 0;
        x->right = isfinite(x->m) && x->m < 1;
        x->anchor = !isfinite(x->m) ? 1 : x->right ? (x->m - e > 0 ? x->m - e : x->m)
                                                   : x->m + e;
        if (isfinite(x->s0))
            x->anchor = x->right ? fmin(x->anchor, x->s0) : fmax(x->anchor, x->s1);
    }
    if (!n)
        return acdc_util_error(ACDC_UTIL_EDATA,
                               "'%s' holds no finished perturbation to plot", name);
    qsort(b, n, sizeof *b, bar_cmp);
    double lo, hi;
    axis_range(b, n, &lo, &hi);

    acdc_util_gnuplot *gp;
    int rc = acdc_util_gnuplot_open(&gp, figure);
    if (rc)
        return rc;
    FILE *g = acdc_util_gnuplot_file(gp);
    const int h = 200 + 44 * (int)n;
    /* PNG, SVG or PDF by the name; plain text: the labels hold names and units as
     * they are */
    acdc_util_gnuplot_terminal(gp, FIG_W, h);
    fputs("set termoption noenhanced\n", g);

    char head[256], l2[256], l3[900], budget[160];
    acdc_sim_tolerance_budget_text(t, budget, sizeof budget);
    snprintf(head, sizeof head, "%s", title ? title : "Tolerances of the built system");
    snprintf(l2, sizeof l2, "each perturbation's value that costs %s", budget);
    const char *base = strrchr(t->system, '/') ? strrchr(t->system, '/') + 1 : t->system;
    snprintf(l3, sizeof l3, "system %.300s: profile %s, %s propagation, %s lens, S = %d; %zu "
             "rows x %zu trials, noise %s", base, t->profile,
             acdc_sim_propagation_name(t->propagation), acdc_optics_lens_model_name(t->lens_model),
             t->oversample, t->rows, t->trials, t->noise ? "on" : "off");
    fputs("set title ", g);
    acdc_util_gnuplot_str(g, head);
    fputs(" . \"\\n\" . ", g);
    acdc_util_gnuplot_str(g, l2);
    fputs(" . \"\\n\" . ", g);
    acdc_util_gnuplot_str(g, l3);
    fputs("\n", g);
    fputs("set xlabel 'tolerance / a typical lab error (in brackets), log scale' . \"\\n\" . "
          "'left of 1: a typical error already costs more than the budget'\n"
          "set logscale x\nunset key\n"
          "set grid xtics lc rgb '#d8d8d8'\nset border 3\nset xtics nomirror\n"
          "set ytics nomirror scale 0\n", g);
    fprintf(g, "set lmargin %d\nset rmargin %d\n", FIG_LMARGIN, FIG_RMARGIN);
    fprintf(g, "set xrange [%.9g:%.9g]\nset yrange [-0.7:%zu.7]\n", lo, hi, n - 1);
    /* a tic per decade, written out to 1000 and as 1e4 beyond (gnuplot's %g gives
     * 1e+06) */
    fputs("set xtics (", g);
    for (int d = (int)ceil(log10(lo) - 1e-9), first = 1; d <= (int)floor(log10(hi) + 1e-9);
         d++, first = 0) {
        if (abs(d) <= 3)
            fprintf(g, "%s'%g' %.17g", first ? "" : ", ", pow(10, d), pow(10, d));
        else
            fprintf(g, "%s'1e%d' %.17g", first ? "" : ", ", d, pow(10, d));
    }
    fputs(")\n", g);
    fputs("set arrow from 1, graph 0 to 1, graph 1 nohead lc rgb '#404040' lw 1.5\n", g);
    /* one tic per perturbation, the first on top, with its scale (and its direction
     * where a smaller value is the worse one) */
    fputs("set ytics (", g);
    for (size_t i = 0; i < n; i++) {
        /* a tic's label is a format: its percent signs doubled */
        char pct[80], text[160];
        size_t k = 0;
        acdc_sim_tolerance_format(b[i].id, tab[b[i].id].scale, NAN, v, sizeof v);
        for (const char *c = v; *c && k + 2 < sizeof pct; c++)
            if ((pct[k++] = *c) == '%')
                pct[k++] = '%';
        pct[k] = '\0';
        snprintf(text, sizeof text, "%s (%s%s)", tab[b[i].id].name, pct,
                 tab[b[i].id].inverse ? "; smaller costs more" : "");
        acdc_util_gnuplot_str(g, text);
        fprintf(g, " %zu%s", n - 1 - i, i + 1 < n ? ", " : ")\n");
    }
    for (size_t i = 0; i < n; i++)
        label_at(g, b[i].label, b[i].anchor, (double)(n - 1 - i), b[i].right);
    /* the bars: found in red (below 1) or blue, beyond the range hatched */
    for (int k = 0; k < 3; k++) {
        /* gnuplot refuses an empty block: a first row below the range stands in */
        fprintf(g, "$b%d << EOD\n%.9g -10 %.9g %.9g -10 -10\n", k, lo, lo, lo);
        for (size_t i = 0; i < n; i++) {
            const acdc_sim_tolerance_item *it = &t->item[b[i].id];
            const double y = (double)(n - 1 - i), m = b[i].m;
            const int draw = k == 2 ? it->status == ACDC_SIM_TOL_BEYOND
                                    : it->status == ACDC_SIM_TOL_FOUND && (m < 1) == (k == 0);
            if (draw)
                fprintf(g, "%.9g %.9g %.9g %.9g %.9g %.9g\n", sqrt(m), y, fmin(m, 1),
                        fmax(m, 1), y - 0.32, y + 0.32);
        }
        fputs("EOD\n", g);
    }
    /* a noise-limited crossing: the span the tolerance lies in, grey behind the bar */
    fprintf(g, "$s << EOD\n%.9g -10 %.9g %.9g -10 -10\n", lo, lo, lo);
    for (size_t i = 0; i < n; i++)
        if (isfinite(b[i].s0)) {
            const double y = (double)(n - 1 - i);
            fprintf(g, "%.9g %.9g %.9g %.9g %.9g %.9g\n", sqrt(b[i].s0 * b[i].s1), y,
                    b[i].s0, b[i].s1, y - 0.44, y + 0.44);
        }
    fputs("EOD\n", g);
    fprintf(g, "$e << EOD\n%.9g -10 %.9g %.9g\n", lo, lo, lo);
    for (size_t i = 0; i < n; i++)
        if (isfinite(b[i].sd))
            fprintf(g, "%.9g %zu %.9g %.9g\n", b[i].m, n - 1 - i,
                    b[i].m - b[i].sd > 0 ? b[i].m - b[i].sd : b[i].m, b[i].m + b[i].sd);
    fputs("EOD\n", g);
    fputs("plot $s using 1:2:3:4:5:6 with boxxyerror lc rgb '#c8c8c8' fs solid 0.6 noborder, "
          "$b0 using 1:2:3:4:5:6 with boxxyerror lc rgb '#d62728' fs solid 0.8 border, "
          "$b1 using 1:2:3:4:5:6 with boxxyerror lc rgb '#1f77b4' fs solid 0.8 border, "
          "$b2 using 1:2:3:4:5:6 with boxxyerror lc rgb '#1f77b4' fs pattern 4 border, "
          "$e using 1:2:3:4 with xerrorbars pt -1 lw 1.5 lc rgb '#202020'\n", g);
    if (stop && *stop) {
        acdc_util_gnuplot_abort(gp);
        return acdc_util_error(ACDC_UTIL_EINTR, "interrupted; '%s' not written", figure);
    }
    return acdc_util_gnuplot_close(gp);
}

void acdc_sim_tolerance_row(const acdc_sim_tolerance *t, int id, char *buf, size_t cap)
{
    const acdc_sim_tolerance_item *it = &t->item[id];
    char v[96];
    acdc_sim_tolerance_text(t, id, v, sizeof v);
    /* padded to 26 columns as shown: a UTF-8 sequence ("±") is one column */
    int cols = 0;
    for (const char *c = v; *c; c++)
        cols += ((unsigned char)*c & 0xC0) != 0x80;
    snprintf(buf, cap, "  %-16s %s%*s %5zu %9.1f%s%s", acdc_sim_perturb_table()[id].name, v,
             cols < 26 ? 26 - cols : 0, "", it->n_points, it->seconds, *it->note ? "  " : "",
             it->note);
}

void acdc_sim_tolerance_print_head(const acdc_sim_tolerance *t, FILE *f)
{
    char budget[200];
    acdc_sim_tolerance_budget_text(t, budget, sizeof budget);
    fprintf(f, "tolerance of '%s': %zu rows of '%s' x %zu trial%s (seeds %llu..%llu)\n",
            t->system, t->rows, t->data, t->trials, t->trials == 1 ? "" : "s",
            (unsigned long long)t->seed, (unsigned long long)(t->seed + t->trials - 1));
    fprintf(f, "  budget: %s\n", budget);
    fprintf(f, "  optics: profile %s, %s propagation, %s lens, S = %d, noise %s\n", t->profile,
            acdc_sim_propagation_name(t->propagation), acdc_optics_lens_model_name(t->lens_model),
            t->oversample, t->noise ? "on" : "off");
    fprintf(f, "  %-16s %-26s %5s %9s\n", "perturbation", "tolerance", "evals", "seconds");
}

void acdc_sim_tolerance_print(const acdc_sim_tolerance *t, FILE *f)
{
    char line[600];
    acdc_sim_tolerance_print_head(t, f);
    for (int id = 0; id < ACDC_SIM_PERTURB_COUNT; id++)
        if (t->selected[id]) {
            acdc_sim_tolerance_row(t, id, line, sizeof line);
            fprintf(f, "%s\n", line);
        }
}
