/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sim/plot.h -- figures of sweeps and simulation results, drawn by gnuplot.
 *
 * The script and the data go down one pipe (util/gnuplot.h): no file name reaches a
 * shell, titles are gnuplot single-quoted strings, and the figure is renamed into place
 * only when gnuplot succeeded.  The terminal is chosen by the figure's extension: .svg
 * gives SVG, .pdf PDF (pdfcairo), anything else PNG (pngcairo, or libgd png where
 * gnuplot lacks cairo).  Text is gnuplot's enhanced text (names from the files escaped);
 * titles are in words with the conditions (profile, oversampling, propagation, lens,
 * rows, trials) in a smaller line below; heatmaps use viridis; keys sit below the plot,
 * outside it; at most two panels per row.  With o->data and o->script the data and the
 * script that drew the figure are kept too (acdc_util_gnuplot_keep).
 */
#ifndef ACDC_SIM_PLOT_H
#define ACDC_SIM_PLOT_H

#include <signal.h>
#include <stddef.h>

#include "sim/result.h"
#include "sim/sweep.h"

typedef struct acdc_sim_plot_options {
    const char *what;     /* NULL: the default figure (see each function) */
    int stage;            /* sweeps: optical chain C, or -1 for end to end */
    size_t row;           /* planes: the input whose planes are drawn */
    const char *title;    /* NULL: a title made from the data; else its first line */
    int width, height;    /* pixels per panel */
    const char *data;     /* NULL, or keep the figure's data here (acdc_util_gnuplot_keep) */
    const char *script;   /* NULL, or keep the gnuplot script that drew it here */
} acdc_sim_plot_options;

/* The defaults: what NULL, stage -1, row 0, no title, 720 × 480 pixels, nothing kept. */
acdc_sim_plot_options acdc_sim_plot_defaults(void);

/* A sweep: what = up to 4 comma-separated metrics of sim/metrics.h, or "accuracy"
 * (acc_optical with acc_ideal as a dashed line); default rel_rms, and accuracy with
 * labels.  One parameter: mean ± sd against the parameter, one panel per metric; two: a
 * heatmap of the mean per metric; panels two per row.  name (the sweep's file) is used
 * in messages.  Errors: ACDC_UTIL_EUSAGE for an unknown metric or chain; ACDC_UTIL_EDATA for
 * accuracies without labels or per chain, a sweep with no finished point, a metric
 * whose mean is NaN at every finished point (naming its dataset, before gnuplot
 * runs); those of acdc_util_gnuplot_open() and
 * acdc_util_gnuplot_close(); ACDC_UTIL_EINTR if *stop (may be NULL) was set (nothing written). */
int acdc_sim_plot_sweep(const acdc_sim_sweep *w, const char *name, const char *figure,
                        const acdc_sim_plot_options *o, const volatile sig_atomic_t *stop);

/* A result: what = "scatter" (default: every optical output against its ideal value)
 * or "confusion" (the optical predictions against the labels).  Errors: ACDC_UTIL_EUSAGE for
 * another what; ACDC_UTIL_EDATA for confusion without labels or with a label out of range;
 * those of gnuplot; ACDC_UTIL_EINTR. */
int acdc_sim_plot_result(const acdc_sim_result *r, const char *name, const char *figure,
                         const acdc_sim_plot_options *o, const volatile sig_atomic_t *stop);

/* Intensity and phase at every plane a result saved (simulate --save-planes) for input
 * o->row, one row of two panels per plane.  1D planes (r->plane_ny <= 1): against x.
 * 2D planes: images in mm with square pixels, panels of 5:4 as large as o->width ×
 * o->height allows -- intensity |E|² (W/m²) on a log colour scale over 6 decades below
 * the plane's peak, phase on a cyclic palette, masked where |E|² is below 1e-6 of the
 * peak; each image cropped to the square about the axis that holds that light, and
 * drawn as block means where it is wider than 512 samples (both said in the title).
 * o->title, if given, heads the figure (2D) or the first row (1D).  Errors: ACDC_UTIL_EDATA
 * if no planes were saved; ACDC_UTIL_EUSAGE for a row not saved, for 2D planes whose shape
 * is not r->m samples, for o->data with 2D planes (they go to gnuplot as binary
 * images); those of gnuplot; ACDC_UTIL_EINTR. */
int acdc_sim_plot_planes(const acdc_sim_result *r, const char *name, const char *figure,
                         const acdc_sim_plot_options *o, const volatile sig_atomic_t *stop);

/* Reads path -- a sweep (acdc-sweep) or a result (acdc-result), told by its format
 * attribute -- and draws the figure above (o->what "planes" for the planes of a
 * result).  Errors: those of reading and of the functions above; ACDC_UTIL_EDATA for a file
 * that is neither; ACDC_UTIL_EUSAGE for --stage with a result. */
int acdc_sim_plot_file(const char *path, const char *figure, const acdc_sim_plot_options *o,
                       const volatile sig_atomic_t *stop);

#endif
