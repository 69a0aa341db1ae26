/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sim/sweep.c -- see sweep.h. */
#include "sim/sweep.h"
#include "compiler/profile.h"
#include "compiler/system.h"
#include "models/io.h"
#include "sim/mpi.h"
#include "sim/simulate.h"
#include "util/error.h"
#include "util/mem.h"
#include "util/fingerprint.h"
#include "util/h5.h"
#include "util/parse.h"

#include <ctype.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { NM = ACDC_SIM_METRIC_COUNT };

struct acdc_sim_sweep_state {
    acdc_sim_sweep_config c;
    const char *out;
    acdc_compiler_system *system;
    acdc_data *data;
    char *settings;
    char **pset;          /* room for the fixed and the point's assignments */
    acdc_compiler_system *fixed;  /* while running: the system with the fixed assignments
                                alone, compiled once, where no parameter changes the
                                devices (NULL: none fixed, or recompiled per point) */
};

/* ---------------------------------------------------------------------------------- */
/* the grid                                                                             */

/* Splits "1.5 ms" into 1.5 and "ms". */
static int split_number(const char *s, const char *what, double *v, char *unit, size_t cap)
{
    char *end;
    *v = strtod(s, &end);
    if (end == s || !isfinite(*v))
        return acdc_util_error(ACDC_UTIL_EUSAGE, "%s: '%s' is not a number", what, s);
    while (*end == ' ')
        end++;
    if (strlen(end) >= cap)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "%s: unit '%s' is too long", what, end);
    strcpy(unit, end);
    return ACDC_UTIL_OK;
}

/* The kind of a parameter by its name, or -1 for a name no kind has. */
static int kind_of(const char *name)
{
    if (!strcmp(name, "photons"))
        return ACDC_SIM_SWEEP_PHOTONS;
    if (!strcmp(name, "phase-bits"))
        return ACDC_SIM_SWEEP_PHASE_BITS;
    if (!strcmp(name, "amplitude-bits"))
        return ACDC_SIM_SWEEP_AMPLITUDE_BITS;
    if (!strcmp(name, "phase-error"))
        return ACDC_SIM_SWEEP_PHASE_ERROR;
    if (acdc_sim_perturb_find(name) >= 0)
        return ACDC_SIM_SWEEP_PERTURB;
    return strchr(name, '.') ? ACDC_SIM_SWEEP_PROFILE : -1;
}

int acdc_sim_sweep_parse(const char *arg, acdc_sim_sweep_param *p)
{
    char buf[256], what[300], *f[5];
    int nf = 0, rc;
    int64_t iv;
    memset(p, 0, sizeof *p);
    p->spacing = -1;
    snprintf(what, sizeof what, "--vary '%s'", arg);
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof p->name)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "%s: expected NAME=FROM:TO[:STEPS]", what);
    memcpy(p->name, arg, (size_t)(eq - arg));
    if (strlen(eq + 1) >= sizeof buf)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "%s: too long", what);
    strcpy(buf, eq + 1);
    for (char *s = buf;;) {
        if (nf == 5)
            return acdc_util_error(ACDC_UTIL_EUSAGE, "%s: expected NAME=FROM:TO[:STEPS][:log|:lin]",
                                   what);
        f[nf++] = s;
        char *c = strchr(s, ':');
        if (!c)
            break;
        *c = '\0';
        s = c + 1;
    }
    if (nf >= 3 && (!strcmp(f[nf - 1], "log") || !strcmp(f[nf - 1], "lin"))) {
        p->spacing = !strcmp(f[nf - 1], "log");
        nf--;
    }
    if (nf < 2 || nf > 3 || !*f[0] || !*f[1])
        return acdc_util_error(ACDC_UTIL_EUSAGE,
                               "%s: expected NAME=FROM:TO[:STEPS][:log|:lin]", what);
    const int kind = kind_of(p->name);
    if (kind < 0)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "%s: unknown parameter '%s' (known: photons, "
                               "phase-bits, amplitude-bits, phase-error, a perturbation of the built "
                               "system (%s), or a profile value SECTION.KEY, which recompiles)",
                               what, p->name, acdc_sim_perturb_names());
    p->kind = (enum acdc_sim_sweep_kind)kind;
    if (p->kind == ACDC_SIM_SWEEP_PHOTONS) {
        if ((rc = acdc_util_parse_double(f[0], what, 1, 1e30, &p->from)) ||
            (rc = acdc_util_parse_double(f[1], what, 1, 1e30, &p->to)))
            return rc;   /* util/parse recorded a usage error */
    } else if (p->kind == ACDC_SIM_SWEEP_PHASE_BITS || p->kind == ACDC_SIM_SWEEP_AMPLITUDE_BITS) {
        p->integer = 1;
        strcpy(p->unit, "bits");
        if ((rc = acdc_util_parse_int(f[0], what, 0, 16, &iv)))
            return rc;   /* util/parse recorded a usage error */
        p->from = (double)iv;
        if ((rc = acdc_util_parse_int(f[1], what, 0, 16, &iv)))
            return rc;   /* util/parse recorded a usage error */
        p->to = (double)iv;
    } else if (p->kind == ACDC_SIM_SWEEP_PERTURB) {
        const int id = acdc_sim_perturb_find(p->name);
        snprintf(p->unit, sizeof p->unit, "%s", acdc_sim_perturb_table()[id].unit);
        if ((rc = acdc_sim_perturb_value(id, f[0], what, &p->from)) ||
            (rc = acdc_sim_perturb_value(id, f[1], what, &p->to)))
            return rc;   /* recorded a usage error */
    } else if (p->kind == ACDC_SIM_SWEEP_PHASE_ERROR) {
        strcpy(p->unit, "rad");
        if ((rc = acdc_util_parse_quantity(f[0], what, "rad", 0, 10, &p->from)) ||
            (rc = acdc_util_parse_quantity(f[1], what, "rad", 0, 10, &p->to)))
            return rc;   /* util/parse recorded a usage error */
    } else {
        char u0[16], u1[16];
        if (strlen(f[0]) >= sizeof p->given[0] || strlen(f[1]) >= sizeof p->given[1])
            return acdc_util_error(ACDC_UTIL_EUSAGE, "%s: FROM or TO is longer than %zu characters",
                                   what, sizeof p->given[0] - 1);
        strcpy(p->given[0], f[0]);
        strcpy(p->given[1], f[1]);
        if ((rc = split_number(f[0], what, &p->from, u0, sizeof u0)) ||
            (rc = split_number(f[1], what, &p->to, u1, sizeof u1)))
            return rc;
        if (*u0 && strcmp(u0, u1))
            return acdc_util_error(ACDC_UTIL_EUSAGE, "%s: FROM and TO have different units ('%s', "
                                   "'%s')", what, u0, u1);
        strcpy(p->unit, u1);
    }
    if (p->from > p->to)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "%s: FROM %g is larger than TO %g", what, p->from,
                               p->to);
    if (nf == 3) {
        if ((rc = acdc_util_parse_int(f[2], what, 1, 10000, &iv)))
            return rc;   /* util/parse recorded a usage error */
        p->steps = (size_t)iv;
    }
    return ACDC_UTIL_OK;
}

/* Writes assignment "section.key=value" for point value v of a profile parameter. */
static void profile_assign(const acdc_sim_sweep_param *p, double v, char *buf, size_t cap)
{
    if (p->integer)
        snprintf(buf, cap, "%s=%.0f%s%s", p->name, v, *p->unit ? " " : "", p->unit);
    else
        snprintf(buf, cap, "%s=%.17g%s%s", p->name, v, *p->unit ? " " : "", p->unit);
}

/* Resolves spacing, steps and integer-ness, makes the values and checks every value
 * against profile (a scratch copy) for profile keys. */
static int resolve(acdc_sim_sweep_param *p, double **values, int all_log, int all_lin,
                   const acdc_compiler_profile *prof)
{
    char what[96], a[160];
    int rc;
    snprintf(what, sizeof what, "--vary '%.63s'", p->name);
    if (p->kind == ACDC_SIM_SWEEP_PROFILE) {
        /* FROM and TO as the profile reads them (no hexadecimal, its units and range),
         * and only a numeric key makes a range */
        if (acdc_compiler_profile_key_numeric(p->name) == 0)
            return acdc_util_error(ACDC_UTIL_EUSAGE, "%s: '%s' is a text value, not a number: it "
                                   "cannot be varied over a range", what, p->name);
        for (int e = 0; e < 2; e++) {
            acdc_compiler_profile t = *prof;
            snprintf(a, sizeof a, "%.63s=%s", p->name, p->given[e]);
            if ((rc = acdc_compiler_profile_set(&t, a))) {
                acdc_util_error_prefix("%s", what);
                return ACDC_UTIL_EUSAGE;
            }
        }
        acdc_compiler_profile t = *prof;
        /* An integer key refuses 0.5 and takes 1; every real-valued key takes 0.5 (with
         * the unit) -- the keys' ranges all contain it. */
        snprintf(a, sizeof a, "%.63s=0.5%s%.15s", p->name, *p->unit ? " " : "", p->unit);
        int half = acdc_compiler_profile_set(&t, a);
        t = *prof;
        snprintf(a, sizeof a, "%.63s=1%s%.15s", p->name, *p->unit ? " " : "", p->unit);
        p->integer = half != ACDC_UTIL_OK && acdc_compiler_profile_set(&t, a) == ACDC_UTIL_OK;
    }
    if (all_log && p->spacing < 0)
        p->spacing = 1;
    if (all_lin && p->spacing < 0)
        p->spacing = 0;
    if (p->spacing < 0)
        p->spacing = p->kind == ACDC_SIM_SWEEP_PHOTONS;
    if (p->spacing == 1 && !(p->from > 0))
        return acdc_util_error(ACDC_UTIL_EUSAGE, "%s: log spacing needs FROM > 0, not %g", what,
                               p->from);
    if (!p->steps) {
        if (p->from == p->to)
            p->steps = 1;
        else if (p->spacing == 1)
            p->steps = (size_t)fmax(2, fmin(50, floor(log10(p->to / p->from) + 0.5) + 1));
        else if (p->integer) {
            /* every integer from FROM to TO, within the limit an explicit STEPS has */
            double k = (double)llround(p->to) - (double)llround(p->from) + 1;
            if (k > 10000)
                return acdc_util_error(ACDC_UTIL_EUSAGE,
                                       "--vary '%s': %.0f integer values from %g to "
                                       "%g, more than 10000: give STEPS (NAME=FROM:TO:STEPS)",
                                       p->name, k, p->from, p->to);
            p->steps = (size_t)k;
        } else
            p->steps = 6;
    }
    double *v = *values = malloc(p->steps * sizeof *v);
    if (!v)
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
    for (size_t i = 0; i < p->steps; i++) {
        double f = p->steps > 1 ? (double)i / (double)(p->steps - 1) : 0;
        double x = p->spacing == 1 ? p->from * pow(p->to / p->from, f)
                                   : p->from + (p->to - p->from) * f;
        if (i == p->steps - 1 && p->steps > 1)
            x = p->to;
        if (p->integer)
            x = round(x);
        if (i && !(x > v[i - 1]))
            return acdc_util_error(ACDC_UTIL_EUSAGE, "%s: %zu steps repeat values (%g twice); use "
                                   "fewer steps", what, p->steps, x);
        v[i] = x;
        if (p->kind == ACDC_SIM_SWEEP_PROFILE) {
            acdc_compiler_profile t = *prof;
            profile_assign(p, x, a, sizeof a);
            if ((rc = acdc_compiler_profile_set(&t, a)) || (rc = acdc_compiler_profile_check(&t))) {
                acdc_util_error_prefix("%s", what);
                return ACDC_UTIL_EUSAGE;
            }
        }
    }
    return ACDC_UTIL_OK;
}

/* ---------------------------------------------------------------------------------- */
/* fingerprints and settings                                                            */


/* The canonical settings string (see the top of sweep.h). */
static char *settings_string(const acdc_sim_sweep *w, uint64_t hsys, uint64_t hdata, int oversample)
{
    const acdc_sim_sweep_config *c = &w->state->c;
    const acdc_sim_options *o = &c->options;
    size_t cap = 1024 + c->nsets * 300 + (size_t)w->n_params * 300 + ACDC_SIM_PERTURB_COUNT * 64, len;
    char *s = malloc(cap);
    if (!s)
        return NULL;
    len = (size_t)snprintf(s, cap,
                           "version=1;system=%016llx;data=%016llx;rows=%zu;trials=%zu;"
                           "seed=%llu;propagation=%d;noise=%d;photons=%.17g;"
                           "phase_error=%.17g",
                           (unsigned long long)hsys, (unsigned long long)hdata, w->rows,
                           w->trials, (unsigned long long)o->seed, (int)w->propagation,
                           o->noise, o->photons, o->phase_error_rad);
    /* Named only when used, so that sweeps written before these options resume.  (The
     * propagation above is the one that runs: the default, chosen from the lens, gives
     * the figure an explicit choice of the same gives.) */
    if (o->lens != ACDC_SIM_LENS_PROFILE)
        len += (size_t)snprintf(s + len, cap - len, ";lens=%d", (int)o->lens);
    if (o->misalign_px != 0)
        len += (size_t)snprintf(s + len, cap - len, ";misalign=%.17g", o->misalign_px);
    for (int i = 0; i < ACDC_SIM_PERTURB_COUNT; i++)
        if (o->perturb[i] != 0)
            len += (size_t)snprintf(s + len, cap - len, ";perturb=%s:%.17g",
                                    acdc_sim_perturb_table()[i].name, o->perturb[i]);
    if (o->chain)
        len += (size_t)snprintf(s + len, cap - len, ";chain=%d", o->chain);
    if (oversample > 1)
        len += (size_t)snprintf(s + len, cap - len, ";oversample=%d", oversample);
    for (size_t i = 0; i < c->nsets; i++)
        len += (size_t)snprintf(s + len, cap - len, ";set=%.250s", c->sets[i]);
    for (int k = 0; k < w->n_params; k++) {
        const acdc_sim_sweep_param *p = &w->param[k];
        len += (size_t)snprintf(s + len, cap - len, ";vary%d=%s:%.17g:%.17g:%zu:%s:%s", k,
                                p->name, p->from, p->to, p->steps,
                                p->spacing ? "log" : "lin", p->unit);
    }
    return s;
}


/* ---------------------------------------------------------------------------------- */
/* the sweep in memory                                                                  */

int acdc_sim_sweep_kept(const acdc_sim_sweep *w, size_t g, int m)
{
    if (acdc_sim_metric_info(m)->labels)
        return g == 0 && w->labelled;
    return 1;
}

size_t acdc_sim_sweep_at(const acdc_sim_sweep *w, int stage, int m)
{
    size_t g = stage < 0 ? 0 : 1 + (size_t)stage;
    return (g * NM + (size_t)m) * w->points;
}

size_t acdc_sim_sweep_done(const acdc_sim_sweep *w)
{
    size_t n = 0;
    for (size_t i = 0; i < w->points; i++)
        n += w->done[i] != 0;
    return n;
}

void acdc_sim_sweep_describe(const acdc_sim_sweep *w, size_t pt, char *buf, size_t cap)
{
    size_t len = 0, ix[2] = {pt / w->dims[1], pt % w->dims[1]};
    buf[0] = '\0';
    for (int k = 0; k < w->n_params && len < cap; k++) {
        const acdc_sim_sweep_param *p = &w->param[k];
        int bits = !strcmp(p->unit, "bits");
        len += (size_t)snprintf(buf + len, cap - len, "%s%s=%g%s%s", k ? " " : "", p->name,
                                w->values[k][ix[k]], *p->unit && !bits ? " " : "",
                                bits ? "" : p->unit);
    }
}

void acdc_sim_sweep_free(acdc_sim_sweep *w)
{
    if (!w)
        return;
    for (int k = 0; k < 2; k++)
        free(w->values[k]);
    free(w->done);
    free(w->mean);
    free(w->sd);
    free(w->seconds);
    free(w->saturated);
    if (w->state) {
        acdc_compiler_system_free(w->state->system);
        acdc_data_free(w->state->data);
        free(w->state->settings);
        free(w->state->pset);
        free(w->state);
    }
    free(w);
}

/* Allocates the per-point arrays for w->points points and n_chains chains, NaN / 0. */
static int grid_alloc(acdc_sim_sweep *w)
{
    const size_t G = 1 + w->n_chains;
    /* estimated before allocating: done, saturated, seconds, and mean and sd of every
     * metric for the whole system and each chain */
    const double need = (double)w->points * (3.0 * 8.0 + 2.0 * 8.0 * (double)(G * NM));
    char what[96];
    snprintf(what, sizeof what, "a sweep of %zu points", w->points);
    int rc = acdc_util_mem_check(need, what);
    if (rc)
        return rc;
    w->done = calloc(w->points, sizeof *w->done);
    w->saturated = calloc(w->points, sizeof *w->saturated);
    w->seconds = malloc(w->points * sizeof *w->seconds);
    w->mean = malloc(G * NM * w->points * sizeof *w->mean);
    w->sd = malloc(G * NM * w->points * sizeof *w->sd);
    if (!w->done || !w->saturated || !w->seconds || !w->mean || !w->sd)
        return acdc_util_mem_fail(need, what);
    for (size_t i = 0; i < w->points; i++)
        w->seconds[i] = NAN;
    for (size_t i = 0; i < G * NM * w->points; i++)
        w->mean[i] = w->sd[i] = NAN;
    return ACDC_UTIL_OK;
}

int acdc_sim_sweep_alloc(acdc_sim_sweep **out, const acdc_sim_sweep_config *c)
{
    int rc;
    uint64_t hsys, hdata;
    *out = NULL;
    if (c->n_params < 1 || c->n_params > 2 || c->trials < 1)
        return acdc_util_error(ACDC_UTIL_EUSAGE,
                               "a sweep needs 1 or 2 parameters and 1 trial or more, "
                               "not %d and %zu", c->n_params, c->trials);
    acdc_sim_sweep *w = calloc(1, sizeof *w);
    struct acdc_sim_sweep_state *st = w ? calloc(1, sizeof *st) : NULL;
    if (!st) {
        free(w);
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
    }
    w->state = st;
    st->c = *c;
    st->out = c->out;
    if ((rc = acdc_sim_inputs_read(c->system_path, c->data_path, c->rows, &st->system,
                                   &st->data, &hsys, &hdata)))
        goto fail;
    acdc_data *d = st->data;
    /* check the fixed overrides once, before any work; the optics that run are those of
     * the system they make */
    acdc_compiler_system *t = NULL;
    if (c->nsets && (rc = acdc_sim_system_override(st->system, c->compile, c->sets, c->nsets, &t)))
        goto fail;
    acdc_sim_optics op;
    acdc_sim_optics_of(t ? t : st->system, &c->options, &op);
    acdc_compiler_system_free(t);
    w->propagation = op.propagation;
    w->lens_model = op.lens.model;
    w->n_params = c->n_params;
    for (int k = 0; k < c->n_params; k++) {
        w->param[k] = c->param[k];
        if ((rc = resolve(&w->param[k], &w->values[k], c->all_log, c->all_lin,
                          &st->system->profile)))
            goto fail;
    }
    w->dims[0] = w->param[0].steps;
    w->dims[1] = w->n_params == 2 ? w->param[1].steps : 1;
    w->points = w->dims[0] * w->dims[1];
    w->n_chains = st->system->n_chains;
    w->rows = d->batch;
    w->trials = c->trials;
    w->labelled = d->labels != NULL;
    snprintf(w->profile, sizeof w->profile, "%s", st->system->profile.name);
    if ((rc = grid_alloc(w)))
        goto fail;
    st->pset = calloc(c->nsets + 4, sizeof *st->pset);
    st->settings = settings_string(w, hsys, hdata,
                                   acdc_sim_oversample(st->system, c->options.oversample));
    if (!st->pset || !st->settings) {
        rc = acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for %zu points", w->points);
        goto fail;
    }
    *out = w;
    return ACDC_UTIL_OK;
fail:
    acdc_sim_sweep_free(w);
    return rc;
}

/* ---------------------------------------------------------------------------------- */
/* the file                                                                             */

/* Calls fn(ctx, name, values) for every kept metric dataset of w, in file order:
 * /metrics/<metric>/{mean,sd} end to end, then /stages/<chain>/<metric>/{mean,sd};
 * values is the grid of that metric in w->mean or w->sd.  Stops at the first non-zero
 * status and returns it. */
static int each_metric_dataset(const acdc_sim_sweep *w, int (*fn)(void *, const char *, double *),
                               void *ctx)
{
    int rc = ACDC_UTIL_OK;
    for (size_t g = 0; g <= w->n_chains && !rc; g++)
        for (int i = 0; i < NM && !rc; i++) {
            if (!acdc_sim_sweep_kept(w, g, i))
                continue;
            for (int k = 0; k < 2 && !rc; k++) {
                char name[96];
                if (g == 0)
                    snprintf(name, sizeof name, "/metrics/%s/%s", acdc_sim_metric_info(i)->name,
                             k ? "sd" : "mean");
                else
                    snprintf(name, sizeof name, "/stages/%zu/%s/%s", g - 1,
                             acdc_sim_metric_info(i)->name, k ? "sd" : "mean");
                rc = fn(ctx, name, (k ? w->sd : w->mean) + (g * NM + (size_t)i) * w->points);
            }
        }
    return rc;
}

struct metric_io {
    hid_t f;
    const char *path;
    const acdc_sim_sweep *w;
    const hsize_t *dims;
};

static int write_metric(void *ctx, const char *name, double *values)
{
    struct metric_io *io = ctx;
    return acdc_util_h5_write_f64(io->f, name, io->w->n_params, io->dims, values);
}

static int read_grid_f64(hid_t f, const char *path, const char *name, const acdc_sim_sweep *w,
                         double *dst);

static int read_metric(void *ctx, const char *name, double *values)
{
    struct metric_io *io = ctx;
    return read_grid_f64(io->f, io->path, name, io->w, values);
}

static int write_sweep(const acdc_sim_sweep *w)
{
    const struct acdc_sim_sweep_state *st = w->state;
    const acdc_sim_sweep_config *c = &st->c;
    acdc_util_h5_out o;
    int rc = acdc_util_h5_create(st->out, &o);
    if (rc)
        return rc;
    hid_t f = o.fid;
    hsize_t dims[2] = {w->dims[0], w->dims[1]};
    size_t setlen = 1;
    for (size_t i = 0; i < c->nsets; i++)
        setlen += strlen(c->sets[i]) + 1;
    char *sets = calloc(setlen, 1);
    if (!sets) {
        acdc_util_h5_abort(&o);
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < c->nsets; i++) {
        if (i)
            strcat(sets, ",");
        strcat(sets, c->sets[i]);
    }
    rc = acdc_util_h5_set_attr_str(f, "/", "format", "acdc-sweep");
    if (!rc) rc = acdc_util_h5_set_attr_str(f, "/", "settings", st->settings);
    if (!rc) rc = acdc_util_h5_set_attr_str(f, "/", "system", c->system_path);
    if (!rc) rc = acdc_util_h5_set_attr_str(f, "/", "data", c->data_path);
    if (!rc) rc = acdc_util_h5_set_attr_str(f, "/", "profile", w->profile);
    if (!rc) rc = acdc_util_h5_set_attr_str(f, "/", "propagation",
                                            acdc_sim_propagation_name(w->propagation));
    if (!rc) rc = acdc_util_h5_set_attr_str(f, "/", "lens_model",
                                            acdc_optics_lens_model_name(w->lens_model));
    if (!rc) rc = acdc_util_h5_set_attr_str(f, "/", "overrides", sets);
    if (!rc) rc = acdc_util_h5_set_attr_i64(f, "/", "rows", (int64_t)w->rows);
    if (!rc) rc = acdc_util_h5_set_attr_i64(f, "/", "trials", (int64_t)w->trials);
    if (!rc) rc = acdc_util_h5_set_attr_i64(f, "/", "seed", (int64_t)c->options.seed);
    if (!rc) rc = acdc_util_h5_set_attr_i64(f, "/", "noise", c->options.noise);
    if (!rc) rc = acdc_util_h5_set_attr_f64(f, "/", "photons", c->options.photons);
    if (!rc) rc = acdc_util_h5_set_attr_f64(f, "/", "phase_error_rad", c->options.phase_error_rad);
    if (!rc) rc = acdc_util_h5_set_attr_i64(f, "/", "labelled", w->labelled);
    if (!rc) rc = acdc_util_h5_set_attr_i64(f, "/", "n_params", w->n_params);
    if (!rc) rc = acdc_util_h5_set_attr_i64(f, "/", "n_chains", (int64_t)w->n_chains);
    if (!rc) rc = acdc_util_h5_set_attr_i64(f, "/", "points", (int64_t)w->points);
    if (!rc) rc = acdc_util_h5_set_attr_i64(f, "/", "points_done", (int64_t)acdc_sim_sweep_done(w));
    free(sets);
    for (int k = 0; k < w->n_params && !rc; k++) {
        char g[32], v[48];
        hsize_t n = w->param[k].steps;
        snprintf(g, sizeof g, "/params/%d", k);
        snprintf(v, sizeof v, "/params/%d/values", k);
        rc = acdc_util_h5_write_f64(f, v, 1, &n, w->values[k]);
        if (!rc) rc = acdc_util_h5_set_attr_str(f, g, "name", w->param[k].name);
        if (!rc) rc = acdc_util_h5_set_attr_str(f, g, "unit", w->param[k].unit);
        if (!rc) rc = acdc_util_h5_set_attr_i64(f, g, "log", w->param[k].spacing == 1);
        if (!rc) rc = acdc_util_h5_set_attr_i64(f, g, "integer", w->param[k].integer);
    }
    if (!rc) rc = acdc_util_h5_write_i64(f, "/done", w->n_params, dims, w->done);
    if (!rc) rc = acdc_util_h5_write_f64(f, "/seconds", w->n_params, dims, w->seconds);
    if (!rc) rc = acdc_util_h5_write_i64(f, "/saturated", w->n_params, dims, w->saturated);
    struct metric_io io = {.f = f, .w = w, .dims = dims};
    if (!rc)
        rc = each_metric_dataset(w, write_metric, &io);
    if (rc) {
        acdc_util_h5_abort(&o);
        return rc;
    }
    return acdc_util_h5_commit(&o);
}

/* Reads float64 dataset name of w's grid into dst, NaN allowed (unfinished points). */
static int read_grid_f64(hid_t f, const char *file, const char *name, const acdc_sim_sweep *w,
                         double *dst)
{
    hsize_t dd[2] = {w->dims[0], w->dims[1]};
    double *v;
    int rc = acdc_util_h5_read_f64_nan_ok(f, file, name, w->n_params, dd, &v);
    if (rc)
        return rc;
    memcpy(dst, v, w->points * sizeof *v);
    free(v);
    return ACDC_UTIL_OK;
}

/* Reads /done, /seconds, /saturated and every kept metric of w's grid from f. */
static int read_points(hid_t f, const char *path, acdc_sim_sweep *w)
{
    hsize_t dd[2] = {w->dims[0], w->dims[1]};
    int64_t *v;
    int rc;
    if ((rc = acdc_util_h5_read_i64(f, path, "/done", w->n_params, dd, &v)))
        return rc;
    memcpy(w->done, v, w->points * sizeof *v);
    free(v);
    if ((rc = read_grid_f64(f, path, "/seconds", w, w->seconds)))
        return rc;
    if ((rc = acdc_util_h5_read_i64(f, path, "/saturated", w->n_params, dd, &v)))
        return rc;
    memcpy(w->saturated, v, w->points * sizeof *v);
    free(v);
    struct metric_io io = {.f = f, .path = path, .w = w};
    if (!rc)
        rc = each_metric_dataset(w, read_metric, &io);
    return rc;
}

/* Opens path and checks that it is a sweep file; output: it is the -o of a new run. */
static int open_sweep(const char *path, hid_t *f, int output)
{
    char fmt[32] = "";
    int rc = acdc_util_h5_open(path, f);
    if (rc)
        return rc;
    if (!acdc_util_h5_attr_exists(*f, "/", "format") ||
        acdc_util_h5_attr_str(*f, path, "/", "format", fmt, sizeof fmt) ||
        strcmp(fmt, "acdc-sweep")) {
        H5Fclose(*f);
        return output ? acdc_util_error(ACDC_UTIL_EDATA,
                                        "'%s' exists and is not a sweep file: choose "
                                        "another -o (or --restart to overwrite it)", path)
                      : acdc_util_error(ACDC_UTIL_EDATA, "'%s' is not a sweep file (format "
                                        "'acdc-sweep')", path);
    }
    return ACDC_UTIL_OK;
}

/* Loads the finished points of an existing sweep with identical settings. */
static int load_previous(acdc_sim_sweep *w)
{
    const char *path = w->state->out, *settings = w->state->settings;
    hid_t f;
    int rc;
    if ((rc = open_sweep(path, &f, 1)))
        return rc;
    if (!(rc = acdc_util_h5_settings_match(f, path, settings, "a sweep")))
        rc = read_points(f, path, w);
    H5Fclose(f);
    return rc;
}

int acdc_sim_sweep_open(acdc_sim_sweep *w, enum acdc_sim_sweep_mode mode, int *resumed)
{
    *resumed = 0;
    if (!w->state)
        return acdc_util_error(ACDC_UTIL_EUSAGE,
                               "acdc_sim_sweep_open: a sweep read from a file cannot run");
    if (acdc_sim_mpi_rank() > 0)
        return ACDC_UTIL_OK;   /* rank 0 alone reads and writes the file (sim/mpi.h) */
    const char *out = w->state->out;
    int exists = access(out, F_OK) == 0, rc;
    if (mode == ACDC_SIM_SWEEP_RESUME && !exists)
        return acdc_util_error(ACDC_UTIL_EDATA, "--resume: '%s' does not exist", out);
    if (exists && mode != ACDC_SIM_SWEEP_RESTART) {
        if ((rc = load_previous(w)))
            return rc;
        *resumed = 1;
        return ACDC_UTIL_OK;
    }
    return write_sweep(w);   /* the empty grid on disk at once: settings and all */
}

/* ---------------------------------------------------------------------------------- */
/* running: the points in pieces of trials, shared out over the ranks (sim/mpi.h)       */

/* A run's tasks and what rank 0 assembles from them.  Task k is piece k % per_point of
 * point k / per_point: `chunk` consecutive trials (the last piece may hold fewer).  A
 * piece's result is its wall time, its saturated exposures and, trial by trial, the
 * metrics end to end then chain by chain (width doubles a trial).  Rank 0 keeps a
 * point's trials until all are in, then reduces them with acdc_sim_result_summarise(),
 * whichever ranks ran them: the numbers are those of the trials run in one job. */
struct run {
    acdc_sim_sweep *w;
    acdc_sim_sweep_report report;
    void *ctx;
    size_t chunk, per_point, width;
    double **acc;                 /* points: trials x width, while a point is assembled */
    size_t *have;                 /* points: the trials received */
    double *secs, *sat;           /* points: summed over the pieces */
    size_t cached_pt;             /* the worker's: the system recompiled for this point */
    acdc_compiler_system *cached;
};

/* The job of point pt (the values of its parameters) on the system it needs: the
 * fixed one, or one recompiled for the point (kept for the point's next piece). */
static int point_job(struct run *ru, size_t pt, acdc_sim_job *job)
{
    acdc_sim_sweep *w = ru->w;
    struct acdc_sim_sweep_state *st = w->state;
    const acdc_sim_sweep_config *c = &st->c;
    size_t ix[2] = {pt / w->dims[1], pt % w->dims[1]}, nps = c->nsets;
    char assign[4][200];
    *job = (acdc_sim_job){.options = c->options, .trials = c->trials, .batch = c->batch,
                          .progress = 0, .data = st->data};
    memcpy(st->pset, c->sets, c->nsets * sizeof *st->pset);
    for (int k = 0; k < w->n_params; k++) {
        const acdc_sim_sweep_param *p = &w->param[k];
        double v = w->values[k][ix[k]];
        switch (p->kind) {
        case ACDC_SIM_SWEEP_PHOTONS: job->options.photons = v; break;
        case ACDC_SIM_SWEEP_PHASE_ERROR: job->options.phase_error_rad = v; break;
        case ACDC_SIM_SWEEP_PERTURB: job->options.perturb[acdc_sim_perturb_find(p->name)] = v; break;
        case ACDC_SIM_SWEEP_PHASE_BITS:
        case ACDC_SIM_SWEEP_AMPLITUDE_BITS: {
            char two[2][64];
            acdc_sim_mask_bits_sets(p->kind == ACDC_SIM_SWEEP_PHASE_BITS, llround(v), two);
            snprintf(assign[2 * k], sizeof assign[0], "%s", two[0]);
            snprintf(assign[2 * k + 1], sizeof assign[0], "%s", two[1]);
            st->pset[nps++] = assign[2 * k];
            st->pset[nps++] = assign[2 * k + 1];
            break;
        }
        case ACDC_SIM_SWEEP_PROFILE:
            profile_assign(p, v, assign[2 * k], sizeof assign[0]);
            st->pset[nps++] = assign[2 * k];
            break;
        }
    }
    job->system = st->fixed ? st->fixed : st->system;
    if (!nps || st->fixed)
        return ACDC_UTIL_OK;
    if (!ru->cached || ru->cached_pt != pt) {
        acdc_compiler_system_free(ru->cached);
        ru->cached = NULL;
        int rc = acdc_sim_system_override(st->system, c->compile, st->pset, nps, &ru->cached);
        if (rc)
            return rc;
        ru->cached_pt = pt;
    }
    job->system = ru->cached;
    return ACDC_UTIL_OK;
}

/* sim/mpi.h's work: runs one piece, on any rank. */
static int piece_work(size_t task, void **out, size_t *bytes, void *ctx,
                      const volatile sig_atomic_t *stop)
{
    struct run *ru = ctx;
    acdc_sim_sweep *w = ru->w;
    const size_t pt = task / ru->per_point, t0 = task % ru->per_point * ru->chunk;
    const size_t trials = w->state->c.trials;
    const size_t k = trials - t0 < ru->chunk ? trials - t0 : ru->chunk;
    char where[160];
    acdc_sim_job job;
    acdc_sim_result r = {0};
    acdc_sim_sweep_describe(w, pt, where, sizeof where);
    int rc = point_job(ru, pt, &job);
    if (!rc) {
        job.trials = k;
        job.options.seed += t0;   /* trial t0 + j has seed S + t0 + j, as in one job */
        rc = acdc_sim_execute(&job, &r, stop);
    }
    if (rc == ACDC_UTIL_EINTR)
        return rc;
    if (rc) {
        acdc_util_error_prefix("at %s", where);
        return rc;
    }
    double *b = malloc((2 + k * ru->width) * sizeof *b);
    if (!b) {
        acdc_sim_result_free(&r);
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
    }
    b[0] = r.seconds;
    b[1] = (double)r.saturated;
    for (size_t j = 0; j < k; j++)
        for (size_t g = 0; g <= w->n_chains; g++)
            for (int i = 0; i < NM; i++)
                b[2 + j * ru->width + g * NM + (size_t)i] =
                    acdc_sim_metric_get(g ? &r.stage[j * w->n_chains + g - 1] : &r.end[j], i);
    acdc_sim_result_free(&r);
    *out = b;
    *bytes = (2 + k * ru->width) * sizeof *b;
    return ACDC_UTIL_OK;
}

/* sim/mpi.h's start: a point's first piece is handed out. */
static void piece_start(size_t task, void *ctx)
{
    struct run *ru = ctx;
    if (ru->report && task % ru->per_point == 0)
        ru->report(ru->w, task / ru->per_point, 0, ru->ctx);
}

/* Point pt's mean and sd per metric from its trials, as acdc_sim_execute() reduces them. */
static int point_reduce(struct run *ru, size_t pt)
{
    acdc_sim_sweep *w = ru->w;
    const size_t T = w->state->c.trials, C = w->n_chains;
    acdc_sim_result r = {.trials = T, .n_chains = C};
    r.end = calloc(T, sizeof *r.end);
    r.stage = calloc(T * C + 1, sizeof *r.stage);
    int rc = r.end && r.stage ? ACDC_UTIL_OK
                              : acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
    for (size_t t = 0; t < T && !rc; t++)
        for (size_t g = 0; g <= C; g++)
            for (int i = 0; i < NM; i++)
                acdc_sim_metric_set(g ? &r.stage[t * C + g - 1] : &r.end[t], i,
                                    ru->acc[pt][t * ru->width + g * NM + (size_t)i]);
    if (!rc)
        rc = acdc_sim_result_summarise(&r);
    for (size_t g = 0; g <= C && !rc; g++)
        for (int i = 0; i < NM; i++) {
            const size_t at = (g * NM + (size_t)i) * w->points + pt;
            acdc_sim_result_stats(&r, (int)g - 1, i, &w->mean[at], &w->sd[at]);
        }
    acdc_sim_result_free(&r);
    return rc;
}

/* sim/mpi.h's done, on rank 0: a piece's trials kept; a point whose trials are all in
 * is reduced and the file rewritten. */
static int piece_done(size_t task, const void *res, size_t bytes, void *ctx)
{
    struct run *ru = ctx;
    acdc_sim_sweep *w = ru->w;
    const size_t pt = task / ru->per_point, t0 = task % ru->per_point * ru->chunk;
    const size_t trials = w->state->c.trials;
    const size_t k = trials - t0 < ru->chunk ? trials - t0 : ru->chunk;
    const double *b = res;
    if (pt >= w->points || bytes != (2 + k * ru->width) * sizeof *b)
        return acdc_util_error(ACDC_UTIL_EDATA, "a result of %zu bytes for task %zu of the "
                               "sweep, which is not one", bytes, task);
    if (!ru->acc[pt] && !(ru->acc[pt] = malloc(trials * ru->width * sizeof **ru->acc)))
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
    memcpy(ru->acc[pt] + t0 * ru->width, b + 2, k * ru->width * sizeof *b);
    ru->secs[pt] += b[0];
    ru->sat[pt] += b[1];
    if ((ru->have[pt] += k) < trials)
        return ACDC_UTIL_OK;
    int rc = point_reduce(ru, pt);
    free(ru->acc[pt]);
    ru->acc[pt] = NULL;
    if (rc)
        return rc;
    w->seconds[pt] = ru->secs[pt];
    w->saturated[pt] = (int64_t)ru->sat[pt];
    w->done[pt] = 1;
    if ((rc = write_sweep(w))) {
        w->done[pt] = 0;
        return rc;
    }
    if (ru->report)
        ru->report(w, pt, 1, ru->ctx);
    return ACDC_UTIL_OK;
}

/* The pieces: whole points when each rank gets two or more, else single trials, so
 * that a few points still keep every rank busy.  Rank 0 decides (it knows the points
 * done) and tells the others. */
static int run_pieces(struct run *ru)
{
    acdc_sim_sweep *w = ru->w;
    const size_t trials = w->state->c.trials, ranks = (size_t)acdc_sim_mpi_size();
    uint64_t chunk = trials;
    if (acdc_sim_mpi_rank() == 0 && ranks > 1 &&
        w->points - acdc_sim_sweep_done(w) < 2 * ranks)
        chunk = 1;
    int rc = acdc_sim_mpi_bcast(&chunk, sizeof chunk);
    ru->chunk = (size_t)chunk;
    ru->per_point = (trials + ru->chunk - 1) / ru->chunk;
    ru->width = (1 + w->n_chains) * NM;
    return rc;
}

static int run_points(acdc_sim_sweep *w, const volatile sig_atomic_t *stop,
                      acdc_sim_sweep_report report, void *ctx)
{
    struct run ru = {.w = w, .report = report, .ctx = ctx};
    size_t *tasks = NULL, n = 0;
    int rc = run_pieces(&ru);
    if (rc)
        return rc;
    ru.acc = calloc(w->points, sizeof *ru.acc);
    ru.have = calloc(w->points, sizeof *ru.have);
    ru.secs = calloc(w->points, sizeof *ru.secs);
    ru.sat = calloc(w->points, sizeof *ru.sat);
    if (acdc_sim_mpi_rank() == 0)
        tasks = malloc((w->points * ru.per_point + 1) * sizeof *tasks);
    if (!ru.acc || !ru.have || !ru.secs || !ru.sat || (acdc_sim_mpi_rank() == 0 && !tasks))
        rc = acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for %zu points", w->points);
    for (size_t pt = 0; tasks && pt < w->points; pt++)
        for (size_t k = 0; !w->done[pt] && k < ru.per_point; k++)
            tasks[n++] = pt * ru.per_point + k;
    const acdc_sim_mpi_work work = {.work = piece_work, .start = piece_start,
                                    .done = piece_done, .ctx = &ru};
    /* every rank takes part, whatever failed here */
    rc = acdc_sim_mpi_agree(rc);
    if (!rc)
        rc = acdc_sim_mpi_schedule(&work, tasks, n, stop);
    if (rc == ACDC_UTIL_EINTR && acdc_sim_mpi_rank() == 0)
        rc = acdc_util_error(ACDC_UTIL_EINTR,
                             "interrupted: '%s' holds %zu of %zu points; run "
                             "the same command again to continue", w->state->out,
                             acdc_sim_sweep_done(w), w->points);
    for (size_t pt = 0; ru.acc && pt < w->points; pt++)
        free(ru.acc[pt]);
    free(ru.acc);
    free(ru.have);
    free(ru.secs);
    free(ru.sat);
    free(tasks);
    acdc_compiler_system_free(ru.cached);
    return rc;
}

int acdc_sim_sweep_run(acdc_sim_sweep *w, const volatile sig_atomic_t *stop,
                       acdc_sim_sweep_report report,
                       void *ctx)
{
    if (!w->state)
        return acdc_util_error(ACDC_UTIL_EUSAGE,
                               "acdc_sim_sweep_run: a sweep read from a file cannot run");
    struct acdc_sim_sweep_state *st = w->state;
    /* fixed assignments and no device parameter: one system for every point */
    int devices = 0;
    for (int k = 0; k < w->n_params; k++)
        devices |= w->param[k].kind == ACDC_SIM_SWEEP_PHASE_BITS ||
                   w->param[k].kind == ACDC_SIM_SWEEP_AMPLITUDE_BITS ||
                   w->param[k].kind == ACDC_SIM_SWEEP_PROFILE;
    int rc;
    if (st->c.nsets && !devices &&
        (rc = acdc_sim_system_override(st->system, st->c.compile, st->c.sets, st->c.nsets,
                                       &st->fixed)))
        return rc;
    /* the sweep's threads for its points, and the caller's back after them */
    const int before = omp_get_max_threads();
    omp_set_num_threads(st->c.options.threads);
    rc = run_points(w, stop, report, ctx);
    omp_set_num_threads(before);
    acdc_compiler_system_free(st->fixed);
    st->fixed = NULL;
    return rc;
}

/* The optics that ran: propagation and lens_model, each written since it existed; a
 * sweep without lens_model ran the lens of its propagation then, the Fourier lens under
 * ideal propagation and the thin lens otherwise. */
static int read_optics(hid_t f, const char *path, acdc_sim_sweep *w)
{
    char name[32] = "ideal";
    int rc;
    if (acdc_util_h5_attr_exists(f, "/", "propagation") &&
        (rc = acdc_util_h5_attr_str(f, path, "/", "propagation", name, sizeof name)))
        return rc;
    if (acdc_sim_propagation_parse(name, &w->propagation) ||
        w->propagation == ACDC_SIM_PROP_PROFILE)
        return acdc_util_error(ACDC_UTIL_EDATA,
                               "attribute 'propagation' in '%s': '%s' is not ideal, "
                               "fresnel or asm", path, name);
    w->lens_model = w->propagation == ACDC_SIM_PROP_IDEAL ? ACDC_OPTICS_LENS_FOURIER
                                                          : ACDC_OPTICS_LENS_PARAXIAL;
    if (!acdc_util_h5_attr_exists(f, "/", "lens_model"))
        return ACDC_UTIL_OK;
    if ((rc = acdc_util_h5_attr_str(f, path, "/", "lens_model", name, sizeof name)))
        return rc;
    if (acdc_optics_lens_model_parse(name, &w->lens_model))
        return acdc_util_error(ACDC_UTIL_EDATA,
                               "attribute 'lens_model' in '%s': '%s' is not fourier, "
                               "paraxial or corrected", path, name);
    return ACDC_UTIL_OK;
}

int acdc_sim_sweep_read(const char *path, acdc_sim_sweep **out)
{
    hid_t f;
    int64_t np = 0, labelled = 0, rows = 0, trials = 0, nch = 0;
    int rc;
    *out = NULL;
    if ((rc = open_sweep(path, &f, 0)))
        return rc;
    acdc_sim_sweep *w = calloc(1, sizeof *w);
    if (!w) {
        H5Fclose(f);
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
    }
    if ((rc = acdc_util_h5_attr_i64(f, path, "/", "n_params", &np)) ||
        (rc = acdc_util_h5_attr_i64(f, path, "/", "labelled", &labelled)) ||
        (rc = acdc_util_h5_attr_i64(f, path, "/", "rows", &rows)) ||
        (rc = acdc_util_h5_attr_i64(f, path, "/", "trials", &trials)) ||
        (rc = acdc_util_h5_attr_i64(f, path, "/", "n_chains", &nch)))
        goto out;
    snprintf(w->profile, sizeof w->profile, "?");
    if (acdc_util_h5_attr_exists(f, "/", "profile") &&
        (rc = acdc_util_h5_attr_str(f, path, "/", "profile", w->profile, sizeof w->profile)))
        goto out;
    if ((rc = read_optics(f, path, w)))
        goto out;
    if (np < 1 || np > 2 || nch < 0 || nch > 100000 || rows < 0 || trials < 0) {
        rc = acdc_util_error(ACDC_UTIL_EDATA,
                             "'%s': n_params %lld, n_chains %lld, rows %lld or trials "
                             "%lld out of range (n_params is 1 or 2)", path, (long long)np,
                             (long long)nch, (long long)rows, (long long)trials);
        goto out;
    }
    w->n_params = (int)np;
    w->n_chains = (size_t)nch;
    w->rows = (size_t)rows;
    w->trials = (size_t)trials;
    w->labelled = labelled != 0;
    w->dims[1] = 1;
    for (int k = 0; k < w->n_params; k++) {
        acdc_sim_sweep_param *p = &w->param[k];
        char g[32], v[48];
        int64_t lg = 0, integer = 0;
        hsize_t n = 0;
        snprintf(g, sizeof g, "/params/%d", k);
        snprintf(v, sizeof v, "/params/%d/values", k);
        if ((rc = acdc_util_h5_attr_str(f, path, g, "name", p->name, sizeof p->name)) ||
            (rc = acdc_util_h5_attr_str(f, path, g, "unit", p->unit, sizeof p->unit)) ||
            (rc = acdc_util_h5_attr_i64(f, path, g, "log", &lg)) ||
            (acdc_util_h5_attr_exists(f, g, "integer") &&
             (rc = acdc_util_h5_attr_i64(f, path, g, "integer", &integer))) ||
            (rc = acdc_util_h5_read_f64(f, path, v, 1, &n, &w->values[k])))
            goto out;
        const int kind = kind_of(p->name);
        if (kind < 0) {
            rc = acdc_util_error(ACDC_UTIL_EDATA, "'%s': parameter %d is named '%s', which is no "
                                 "sweep parameter", path, k, p->name);
            goto out;
        }
        p->kind = (enum acdc_sim_sweep_kind)kind;
        p->steps = w->dims[k] = (size_t)n;
        p->spacing = lg != 0;
        p->integer = integer != 0;
        p->from = n ? w->values[k][0] : NAN;
        p->to = n ? w->values[k][n - 1] : NAN;
    }
    w->points = w->dims[0] * w->dims[1];
    if ((rc = grid_alloc(w)) || (rc = read_points(f, path, w)))
        goto out;
out:
    H5Fclose(f);
    if (rc) {
        acdc_sim_sweep_free(w);
        return rc;
    }
    *out = w;
    return ACDC_UTIL_OK;
}
