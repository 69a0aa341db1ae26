/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sim/sweep.h -- Monte Carlo over one or two imperfections, and the sweep file.
 *
 * Every point of the grid is one simulation job (acdc_sim_execute) with `trials` seeds; its
 * metrics are reduced to a mean and a sample standard deviation per metric, end to end
 * and per optical chain.  After each finished point the whole file is rewritten
 * atomically (temporary + rename), so an interruption leaves the last complete file and
 * a /done mask saying which points it holds.
 *
 * Resuming: the file's "settings" attribute is a canonical string of everything the
 * numbers depend on (FNV-1a fingerprints of the system file's bytes and of the data rows
 * used, rows, trials, seed, propagation, noise, fixed overrides, the grid).  Threads and
 * batch size are not in it: results do not depend on them.  An existing sweep with the
 * same settings is continued; one with other settings is refused.
 *
 * The file (format "acdc-sweep"; every dataset shaped like the grid, (S0) or (S0, S1)):
 *   /                 attributes format, settings, system, data, profile, propagation
 *                     and lens_model (the optics that ran, acdc_sim_optics_of(), for the
 *                     system with the fixed overrides; sweeps written before lens models
 *                     lack lens_model: fourier under ideal propagation, else paraxial),
 *                     overrides, rows, trials, seed, noise, photons, phase_error_rad,
 *                     labelled, n_params, n_chains, points, points_done
 *   /params/K/values  the values of parameter K (attributes name, unit, log, integer)
 *   /done             int64, 1 where the point is finished
 *   /metrics/NAME/mean, /metrics/NAME/sd      end to end, every metric of sim/metrics.h
 *                     (the accuracies only with labels); NaN where not done
 *   /stages/C/NAME/mean, .../sd               the same for optical chain C (no accuracies)
 *   /seconds, /saturated                      wall time; saturated camera exposures
 */
#ifndef ACDC_SIM_SWEEP_H
#define ACDC_SIM_SWEEP_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/metrics.h"
#include "sim/run.h"
#include "sim/simulate.h"

enum acdc_sim_sweep_kind {
    ACDC_SIM_SWEEP_PHOTONS,        /* photons per inference (acdc_sim_options.photons) */
    ACDC_SIM_SWEEP_PHASE_BITS,     /* fourier. and image.phase_bits (recompiled) */
    ACDC_SIM_SWEEP_AMPLITUDE_BITS, /* fourier. and image.amplitude_bits (recompiled) */
    ACDC_SIM_SWEEP_PHASE_ERROR,    /* acdc_sim_options.phase_error_rad */
    ACDC_SIM_SWEEP_PROFILE,        /* any profile value SECTION.KEY (recompiled) */
    ACDC_SIM_SWEEP_PERTURB         /* a perturbation of the built system (sim/perturb.h; not
                                 recompiled) */
};

/* One varied parameter, as parsed from NAME=FROM:TO[:STEPS][:log|:lin]. */
typedef struct acdc_sim_sweep_param {
    char name[64];        /* as given: "photons", "camera.exposure" */
    enum acdc_sim_sweep_kind kind;
    double from, to;      /* in `unit` */
    size_t steps;         /* 0: the default, chosen when the grid is made */
    int spacing;          /* -1 default, 0 linear, 1 log */
    int integer;          /* values rounded to integers */
    char unit[16];        /* "" plain, "bits", "rad", or a profile value's unit as given */
    char given[2][48];    /* FROM and TO as given (a profile key's are read by the
                             profile's own parser, acdc_compiler_profile_set()) */
} acdc_sim_sweep_param;

/* Parses one --vary spec NAME=FROM:TO[:STEPS][:log|:lin] into *p.  Profile keys are
 * checked against the profile later (acdc_sim_sweep_alloc).  Errors: ACDC_UTIL_EUSAGE with a
 * message starting "--vary 'SPEC': " (syntax, unknown name, a bad number, FROM > TO,
 * STEPS outside 1..10000). */
int acdc_sim_sweep_parse(const char *spec, acdc_sim_sweep_param *p);

/* What acdc_sim_sweep_alloc() needs.  The strings must outlive the sweep. */
typedef struct acdc_sim_sweep_config {
    const char *system_path;  /* compiled system (read, and fingerprinted byte by byte) */
    const char *data_path;    /* data file (its first `rows` rows fingerprinted) */
    const char *out;          /* the sweep file */
    acdc_sim_sweep_param param[2]; /* from acdc_sim_sweep_parse() */
    int n_params;             /* 1 or 2 */
    int all_log, all_lin;     /* --log / --lin: the default spacing of every parameter */
    size_t trials;            /* >= 1 */
    size_t rows;              /* the first rows of the data only; 0: all */
    size_t batch;             /* rows per optical pass (no effect on the numbers) */
    acdc_sim_options options;      /* fixed for the whole sweep */
    char *const *sets;        /* fixed profile assignments ("fourier.fill=0.9") */
    size_t nsets;
    acdc_sim_compile_fn compile;   /* rebuilds the system for a changed device (overrides,
                                 bits, profile keys): acdc_compiler_compile */
} acdc_sim_sweep_config;

struct acdc_sim_sweep_state;   /* what a run needs beyond the file: system, data, settings */

/* A sweep: the content of a sweep file, and (when made by acdc_sim_sweep_alloc) what it
 * takes to run the missing points.  Metric m of group g (0: end to end, 1 + c: chain c)
 * at point p is mean[(g * ACDC_SIM_METRIC_COUNT + m) * points + p], likewise sd. */
typedef struct acdc_sim_sweep {
    int n_params;
    acdc_sim_sweep_param param[2];
    double *values[2];        /* param[k].steps values each */
    size_t dims[2];           /* steps of parameter 0 and 1 (1 for one parameter) */
    size_t points, n_chains, rows, trials;
    int labelled;             /* accuracies kept */
    char profile[64];
    enum acdc_sim_propagation propagation;   /* the optics that ran (see the file above) */
    enum acdc_optics_lens_model lens_model;
    int64_t *done;            /* points: 1 where finished */
    double *mean, *sd;        /* (1 + n_chains) × ACDC_SIM_METRIC_COUNT × points; NaN: not done */
    double *seconds;          /* points */
    int64_t *saturated;       /* points */
    struct acdc_sim_sweep_state *state;   /* NULL for a sweep read from a file */
} acdc_sim_sweep;

/* Reads the system and the data, fingerprints them, checks the fixed overrides and
 * makes the grid (spacing, steps, values; every value of a profile key checked against
 * the profile).  No file is touched.  *out is a new sweep with no point done (free with
 * acdc_sim_sweep_free()).  Errors: those of reading the files (ACDC_UTIL_EIO, ACDC_UTIL_EDATA);
 * ACDC_UTIL_EUSAGE for an override or a grid the profile refuses, steps that repeat a value,
 * log spacing from 0; ACDC_UTIL_ENOMEM. */
int acdc_sim_sweep_alloc(acdc_sim_sweep **out, const acdc_sim_sweep_config *c);

/* Frees a sweep; NULL is a no-op. */
void acdc_sim_sweep_free(acdc_sim_sweep *w);

enum acdc_sim_sweep_mode {
    ACDC_SIM_SWEEP_CONTINUE,  /* continue the sweep at `out` if there is one, else start */
    ACDC_SIM_SWEEP_RESUME,    /* demand one to continue */
    ACDC_SIM_SWEEP_RESTART    /* discard whatever is at `out` */
};

/* Prepares the file of a sweep made by acdc_sim_sweep_alloc(): loads the finished points of
 * an existing sweep with the same settings (*resumed = 1), or writes the empty grid.
 * Errors: ACDC_UTIL_EDATA if `out` is not a sweep, holds a sweep with other settings (the
 * message names the first setting that differs: "'trials=3' there, 'trials=4' here"),
 * or is missing with ACDC_SIM_SWEEP_RESUME; ACDC_UTIL_EIO; ACDC_UTIL_EUSAGE for a read sweep.
 * On an MPI rank other than 0 (sim/mpi.h) it touches no file: rank 0 alone reads and
 * writes it. */
int acdc_sim_sweep_open(acdc_sim_sweep *w, enum acdc_sim_sweep_mode mode, int *resumed);

/* Called before each point is run (done = 0) and after it is written (done = 1). */
typedef void (*acdc_sim_sweep_report)(const acdc_sim_sweep *w, size_t point, int done, void *ctx);

/* Runs every point not done yet, rewriting the file atomically after each; report (may
 * be NULL) is told of each point.  Threads: options.threads (OpenMP).  Under MPI
 * (sim/mpi.h) every rank calls it: the points -- or, with fewer than two points a rank,
 * their trials -- are shared out dynamically, rank 0 reduces each point's trials as one
 * process would (the file is bit for bit the same but for /seconds), writes the file as
 * the points finish, in any order, and alone calls report.  One process runs them in
 * order.
 * Errors: ACDC_UTIL_EINTR when *stop (may be NULL) became non-zero -- the file then holds
 * every point finished before, and the message says how many; the errors of
 * acdc_sim_execute() and of recompiling, prefixed with the point ("at photons=100: ...");
 * ACDC_UTIL_EIO writing the file. */
int acdc_sim_sweep_run(acdc_sim_sweep *w, const volatile sig_atomic_t *stop,
                       acdc_sim_sweep_report report,
                       void *ctx);

/* Reads a sweep file (finished or not).  *out is a new sweep without run state.
 * Errors: ACDC_UTIL_EIO (cannot open), ACDC_UTIL_EDATA naming the file and the object at fault
 * (not a sweep, a missing or misshapen dataset or attribute), ACDC_UTIL_ENOMEM. */
int acdc_sim_sweep_read(const char *path, acdc_sim_sweep **out);

/* The number of finished points. */
size_t acdc_sim_sweep_done(const acdc_sim_sweep *w);

/* The index into mean/sd of metric m (enum acdc_sim_metric) at point 0, end to end (stage <
 * 0) or for chain stage. */
size_t acdc_sim_sweep_at(const acdc_sim_sweep *w, int stage, int m);

/* "photons=1e+04 phase-error=0.02 rad": the parameter values of point p. */
void acdc_sim_sweep_describe(const acdc_sim_sweep *w, size_t p, char *buf, size_t cap);

/* 1 if the file keeps metric m for group g (0: end to end, 1 + c: chain c): the
 * accuracies only end to end and with labels. */
int acdc_sim_sweep_kept(const acdc_sim_sweep *w, size_t g, int m);

#endif
