/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sim/tolerance.h -- how far each perturbation of a built system may go before it costs
 * a given loss of fidelity (issue 15): the tolerance table of a compiled system.
 *
 * For every perturbation of sim/perturb.h (or a chosen few) the search finds the value
 * v at which cost(v) = metric(unperturbed) - metric(v) reaches the budget: by default
 * one point of optical accuracy (0.01), or a growth of the end-to-end relative RMS
 * error (for data without labels).  cost(v) is measured with common random numbers:
 * every value runs the same `trials` seeds (trial t: seed + t) on the same rows as the
 * unperturbed baseline, and the cost is the mean over the trials of each trial's
 * difference, so the devices' phase errors and the camera noise of one trial largely
 * cancel in it.  Costs are measured on positive values (the perturbations' signs are a
 * direction, the tolerance a size).
 *
 * The search is in x = v, or x = 1/v for an `inverse` perturbation (a waist: the
 * illumination gets worse as it narrows), x = 0 being the unperturbed system in both
 * cases.  From x = the table's `scale` it steps by x4 until the cost reaches the budget
 * (up to max_steps steps, and the table's range), or by /4 while the cost already
 * exceeds it (below the last step the bracket starts at x = 0); then GSL's Brent solver
 * (gsl_root_fsolver_brent) narrows the bracket of the root of cost(x) - budget to a
 * relative width rel_tol; the tolerance is the secant between the ends of its last
 * bracket (exact for a linear cost).  Its uncertainty is the trials' standard error of
 * the cost there divided by the local slope of the cost: the finite difference over
 * the solver's last bracket across which the cost changes by more than twice its
 * standard error (over a narrower one the difference is noise).  That is the Monte
 * Carlo part only, computed as if the cost were smooth: an accuracy counts rows, a
 * staircase.  A search whose bracket never resolves the noise, or whose evaluated costs
 * cross the budget more than once (the span kept as reach, miss), is marked
 * noise-limited in its note: more rows or trials narrow it.
 *
 * Outcome per perturbation: found (value, uncertainty); beyond the range searched (the
 * budget is not reached at the farthest value tried: the tolerance is larger, or for an
 * inverse perturbation smaller -- not an error); or not applicable to the system
 * (simulating it is refused, e.g. a perturbation that needs every plane sampled on the
 * 2D pixel-exact method), with the reason.
 *
 * The file (format "acdc-tolerance"), rewritten atomically after the baseline and after
 * each finished perturbation:
 *   /                 attributes format, settings (the fingerprint a rerun must match),
 *                     system, data, profile, rows, trials, seed, oversample,
 *                     propagation, lens_model, lens_name, lens_note (the optics that run,
 *                     acdc_sim_optics_of()), noise, photons, phase_error_rad, perturbations
 *                     (fixed ones, acdc_sim_perturb_describe()), overrides, labelled,
 *                     metric ("acc_optical" or "rel_rms"), budget, rel_tol, max_steps,
 *                     baseline_mean, baseline_sd (NaN before the baseline ran)
 *   /baseline         trials: the unperturbed metric of each trial (once run)
 *   /perturbations/NAME   one group per finished perturbation, attributes status
 *                     ("found", "beyond", "n/a"), value, uncertainty, lo, hi (the
 *                     solver's last bracket), range_max, reach, miss (the crossing of
 *                     the budget as evaluated), unit, scale, inverse, evaluations,
 *                     seconds, note; NaN where not defined
 *   /perturbations/NAME/points   evaluations x 3: value, cost mean, cost sd over the
 *                     trials, in the order evaluated (absent when none was)
 *
 * Resuming: the settings string holds everything the numbers depend on (FNV-1a
 * fingerprints of the system file and of the data rows used, rows, trials, seed,
 * propagation, lens, noise, photons, phase error, misalignment, fixed perturbations,
 * oversampling, profile overrides, metric, budget, rel_tol, max_steps) -- not threads
 * or batch, nor the selection: a rerun with the same settings keeps the finished
 * perturbations and runs those of its selection the file lacks.
 */
#ifndef ACDC_SIM_TOLERANCE_H
#define ACDC_SIM_TOLERANCE_H

#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "sim/perturb.h"
#include "sim/run.h"
#include "sim/simulate.h"

enum acdc_sim_tolerance_status {
    ACDC_SIM_TOL_PENDING = 0,  /* not searched yet */
    ACDC_SIM_TOL_FOUND,        /* the cost reaches the budget at `value` */
    ACDC_SIM_TOL_BEYOND,       /* not reached at range_max, the farthest value tried */
    ACDC_SIM_TOL_NA            /* not applicable to the system; note says why */
};

/* "pending", "found", "beyond", "n/a". */
const char *acdc_sim_tolerance_status_name(enum acdc_sim_tolerance_status s);

/* What acdc_sim_tolerance_alloc() needs.  The strings must outlive the analysis. */
typedef struct acdc_sim_tolerance_config {
    const char *system_path;  /* compiled system (read, and fingerprinted byte by byte) */
    const char *data_path;    /* data file (its first `rows` rows fingerprinted) */
    const char *out;          /* the tolerance file */
    int only[ACDC_SIM_PERTURB_COUNT];   /* 1: search perturbation id; all 0: every one */
    int metric;               /* ACDC_SIM_METRIC_ACC_OPTICAL (needs labels) or
                                 ACDC_SIM_METRIC_REL_RMS */
    double budget;            /* the cost that defines the tolerance: accuracy as a
                                 fraction (0.01: one point), or the growth of the
                                 relative RMS error; > 0 */
    double rel_tol;           /* the solver's relative bracket width, 0 < rel_tol < 1
                                 (0.03) */
    int max_steps;            /* x4 steps from the scale each way, 1..30 (6) */
    size_t trials;            /* >= 1; 2 or more for an uncertainty */
    size_t rows;              /* the first rows of the data only; 0: all */
    size_t batch;             /* rows per optical pass (no effect on the numbers) */
    acdc_sim_options options;      /* fixed for the whole analysis (--perturb values of
                                 perturbations not searched included) */
    char *const *sets;        /* fixed profile assignments: the system is recompiled
                                 once with them */
    size_t nsets;
    acdc_sim_compile_fn compile;   /* acdc_compiler_compile, for sets */
} acdc_sim_tolerance_config;

/* One perturbation's search. */
typedef struct acdc_sim_tolerance_item {
    enum acdc_sim_tolerance_status status;
    double value;         /* found: the tolerance in the table's unit; else NaN */
    double uncertainty;   /* found: its standard error (same unit; see the top); NaN
                             with one trial */
    double lo, hi;        /* found: the solver's last bracket as values, lo < hi (NaN
                             for an end at the unperturbed system of an inverse one) */
    double range_max;     /* beyond: the farthest value tried; else NaN */
    double reach, miss;   /* found: the least perturbing value evaluated whose cost
                             reached the budget, and the most perturbing one whose cost
                             did not.  A cost that rises through the budget once has
                             miss before reach; noise (too few rows or trials for the
                             budget) or a cost that falls again makes it cross more than
                             once, miss lies beyond reach (by more than rel_tol), and
                             the tolerance is only known to lie between them (said in
                             note).  For an inverse perturbation "beyond" is "below" */
    size_t n_points;      /* evaluations (simulations of trials each) */
    double *points;       /* n_points x 3: value, cost mean, cost sd over the trials */
    double seconds;       /* wall time of its evaluations */
    char note[320];       /* n/a: the reason; beyond: what was seen; else "" */
} acdc_sim_tolerance_item;

struct acdc_sim_tolerance_state;   /* what a run needs beyond the results */

/* The content of a tolerance file, and (when made by acdc_sim_tolerance_alloc) what it takes
 * to run the missing perturbations. */
typedef struct acdc_sim_tolerance {
    int metric;                 /* ACDC_SIM_METRIC_ACC_OPTICAL or ACDC_SIM_METRIC_REL_RMS */
    double budget, rel_tol;
    int max_steps;
    size_t rows, trials;
    uint64_t seed;
    int oversample, noise, labelled;
    enum acdc_sim_propagation propagation;   /* the optics that run (acdc_sim_optics_of()) */
    enum acdc_optics_lens_model lens_model;
    char profile[64];
    char system[512], data[512];        /* the paths as given */
    double *baseline;           /* trials values of the unperturbed metric, or NULL */
    double baseline_mean, baseline_sd;  /* NaN before the baseline */
    int selected[ACDC_SIM_PERTURB_COUNT];    /* this run's selection; a file read: what it
                                           holds */
    acdc_sim_tolerance_item item[ACDC_SIM_PERTURB_COUNT];   /* by enum acdc_sim_perturb_id */
    struct acdc_sim_tolerance_state *state;  /* NULL for an analysis read from a file */
} acdc_sim_tolerance;

/* Reads the system and the data, recompiles the system with the fixed assignments,
 * fingerprints both and makes the settings.  No file is touched.  *out is a new analysis
 * with nothing run (free with acdc_sim_tolerance_free()).  Errors: those of reading the
 * files (ACDC_UTIL_EIO, ACDC_UTIL_EDATA) and of recompiling; ACDC_UTIL_EUSAGE for a bad budget,
 * rel_tol, max_steps or trials, an accuracy budget on data without labels, a --perturb
 * value given for a perturbation that is searched, an override the profile refuses;
 * ACDC_UTIL_ENOMEM. */
int acdc_sim_tolerance_alloc(acdc_sim_tolerance **out, const acdc_sim_tolerance_config *c);

/* Frees an analysis; NULL is a no-op. */
void acdc_sim_tolerance_free(acdc_sim_tolerance *t);

enum acdc_sim_tolerance_mode {
    ACDC_SIM_TOL_CONTINUE,  /* continue the analysis at `out` if there is one, else start */
    ACDC_SIM_TOL_RESUME,    /* demand one to continue */
    ACDC_SIM_TOL_RESTART    /* discard whatever is at `out` */
};

/* Loads the baseline and the finished perturbations of an existing analysis with the
 * same settings (*resumed = 1), or writes a file with nothing run yet.  Errors:
 * ACDC_UTIL_EDATA if `out` is not a tolerance file, holds one with other settings (the
 * message names the first setting that differs: "'trials=3' there, 'trials=2' here"),
 * or is missing with ACDC_SIM_TOL_RESUME; ACDC_UTIL_EIO; ACDC_UTIL_EUSAGE for an analysis read from a
 * file.  On an MPI rank other than 0 (sim/mpi.h) it touches no file. */
int acdc_sim_tolerance_open(acdc_sim_tolerance *t, enum acdc_sim_tolerance_mode mode, int *resumed);

/* Called after every evaluation (id: the perturbation, done 0; id -1: the baseline)
 * and after each perturbation is finished and written (done 1). */
typedef void (*acdc_sim_tolerance_report)(const acdc_sim_tolerance *t, int id, int done, void *ctx);

/* Runs the baseline if the file lacks it, then every selected perturbation not finished,
 * in table order, rewriting the file atomically after each.  Under MPI (sim/mpi.h) every
 * rank calls it: rank 0 runs the baseline and shares it, then each search runs on one
 * rank, handed out dynamically, and rank 0 writes the file and reports as they finish
 * (without the per-evaluation reports; the numbers are those of one process).
 * Threads: options.threads (OpenMP).  Errors: ACDC_UTIL_EINTR when *stop (may be NULL)
 * became non-zero -- the file then holds every perturbation finished before; those of
 * acdc_sim_execute() prefixed with
 * the perturbation and value ("ref-phase = 0.04 rad: ..."), except its ACDC_UTIL_EUSAGE,
 * which marks the perturbation n/a; ACDC_UTIL_EDATA for a cost that is not finite; ACDC_UTIL_EIO
 * writing the file. */
int acdc_sim_tolerance_run(acdc_sim_tolerance *t, const volatile sig_atomic_t *stop,
                           acdc_sim_tolerance_report report, void *ctx);

/* Reads a tolerance file (finished or not).  *out is a new analysis without run state,
 * its selection the perturbations it holds.  Errors: ACDC_UTIL_EIO (cannot open),
 * ACDC_UTIL_EDATA naming the file and the object at fault (not a tolerance file, a missing
 * or misshapen attribute or dataset, an unknown status), ACDC_UTIL_ENOMEM. */
int acdc_sim_tolerance_read(const char *path, acdc_sim_tolerance **out);

/* The number of selected perturbations finished. */
size_t acdc_sim_tolerance_done(const acdc_sim_tolerance *t);

/* Value v of perturbation id in a readable unit into buf: "12.3 mrad", "4.1 um",
 * "1.2 %" (a ratio); with a finite sd (NaN: none) as "12.3 ± 0.8 mrad". */
void acdc_sim_tolerance_format(int id, double v, double sd, char *buf, size_t cap);

/* The tolerance of item id as the table shows it: "12.3 ± 0.8 mrad", "> 2.6 rad",
 * "< 0.16 mm" (an inverse perturbation beyond its range), "n/a", "pending". */
void acdc_sim_tolerance_text(const acdc_sim_tolerance *t, int id, char *buf, size_t cap);

/* One line of the table: perturbation, tolerance (padded to 26 columns as shown),
 * evaluations, seconds and the note, into buf (no newline). */
void acdc_sim_tolerance_row(const acdc_sim_tolerance *t, int id, char *buf, size_t cap);

/* The whole analysis as `acdc tolerance` and `acdc inspect` show it: the conditions, the
 * budget and the table's heading (acdc_sim_tolerance_print_head()), then a row per selected
 * perturbation, to f. */
void acdc_sim_tolerance_print_head(const acdc_sim_tolerance *t, FILE *f);
void acdc_sim_tolerance_print(const acdc_sim_tolerance *t, FILE *f);

/* The budget in words: "1 point of optical accuracy (unperturbed 77.50%)". */
void acdc_sim_tolerance_budget_text(const acdc_sim_tolerance *t, char *buf, size_t cap);

/* Margin of item id against a lab's typical error: tolerance / scale (inverse: scale /
 * tolerance), so that below 1 a typical error already costs more than the budget;
 * for a perturbation beyond its range the margin of range_max (a lower bound); NaN for
 * n/a or pending. */
double acdc_sim_tolerance_margin(const acdc_sim_tolerance *t, int id);

/* A tornado chart of the selected perturbations through gnuplot (util/gnuplot.h): one
 * horizontal bar per perturbation from 1 to its margin on a log axis, sorted with the
 * smallest margin on top, red below 1 and blue above, the standard error as a bar, a
 * noise-limited crossing's span (reach..miss) grey behind its bar and "(noisy)" in its
 * label, a perturbation beyond its range hatched with "> X", one not applicable listed
 * as such; each labelled with the tolerance and its unit, each tic with the scale.  figure: .svg for SVG, .pdf for PDF, else PNG.  title
 * (may be NULL) replaces the first line of the title; name (the file) is used in it.
 * Errors: ACDC_UTIL_EDATA if no selected perturbation is finished; those of
 * acdc_util_gnuplot_open() and acdc_util_gnuplot_close(); ACDC_UTIL_EINTR if *stop (may be NULL) was
 * set (nothing written). */
int acdc_sim_tolerance_plot(const acdc_sim_tolerance *t, const char *name, const char *figure,
                            const char *title, const volatile sig_atomic_t *stop);

#endif
