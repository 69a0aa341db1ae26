/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sim/metrics.h -- how close the light came to the numbers: the one table of metrics.
 *
 * Every writer, reader and plot of metrics (the result file, the sweep file, `acdc
 * plot`, the summaries) walks acdc_sim_metric_info(): the names are the dataset and attribute
 * names of the files, in the order of enum acdc_sim_metric and of acdc_sim_metrics' fields.
 */
#ifndef ACDC_SIM_METRICS_H
#define ACDC_SIM_METRICS_H

#include <stddef.h>
#include <stdint.h>

/* The metrics, in table order.  ACDC_SIM_METRIC_COUNT is their number (metrics.c checks at
 * compile time that the table has exactly one row for each). */
enum acdc_sim_metric {
    ACDC_SIM_METRIC_REL_RMS,
    ACDC_SIM_METRIC_MAX_ABS,
    ACDC_SIM_METRIC_SNR_DB,
    ACDC_SIM_METRIC_COSINE,
    ACDC_SIM_METRIC_ACC_OPTICAL,
    ACDC_SIM_METRIC_ACC_IDEAL,
    ACDC_SIM_METRIC_AGREEMENT,
    ACDC_SIM_METRIC_COUNT
};

typedef struct acdc_sim_metrics {
    double rel_rms;     /* ‖y_opt − y_ideal‖₂ / ‖y_ideal‖₂ over the whole batch */
    double max_abs;     /* max |y_opt − y_ideal| */
    double snr_db;      /* 10 log10(Σ y_ideal² / Σ (y_opt − y_ideal)²); 300 if exact */
    double cosine;      /* mean over rows of the cosine similarity of y_opt and y_ideal */
    double acc_optical; /* with labels: accuracy of argmax(y_opt); else NaN */
    double acc_ideal;   /* with labels: accuracy of argmax(y_ideal); else NaN */
    double agreement;   /* fraction of rows whose argmax agree (labels or not) */
} acdc_sim_metrics;

/* One row of the table. */
typedef struct acdc_sim_metric_desc {
    const char *name;     /* dataset / attribute name in the files: "rel_rms" */
    const char *unit;     /* "" (dimensionless), "dB", "output units", "fraction" */
    int higher_better;    /* 1: higher is better (snr, cosine, accuracies), 0: lower */
    int labels;           /* 1: needs labels, end to end only (the accuracies) */
    const char *label;    /* plot axis label in words, with the unit as plotted */
    double plot_scale;    /* plotted value = plot_scale × value (100: fraction in %) */
    int plot_log;         /* 1: plotted on a log axis */
    size_t offset;        /* offset of the field in acdc_sim_metrics */
} acdc_sim_metric_desc;

/* Row i of the table (0 <= i < ACDC_SIM_METRIC_COUNT), or NULL. */
const acdc_sim_metric_desc *acdc_sim_metric_info(int i);

/* The metric called name ("snr_db"), or -1. */
int acdc_sim_metric_find(const char *name);

/* Metric i of m, or NaN for an i outside the table. */
double acdc_sim_metric_get(const acdc_sim_metrics *m, int i);
/* Sets metric i of m (ignored for an i outside the table). */
void acdc_sim_metric_set(acdc_sim_metrics *m, int i, double v);

/* Index of the largest of v[0..n) (the first of equals; 0 for n = 0): the prediction of
 * a row of logits. */
size_t acdc_sim_argmax(const double *v, size_t n);

/* Computes the metrics of rows × dim outputs; labels may be NULL. */
void acdc_sim_metrics_compute(size_t rows, size_t dim, const double *y_opt,
                              const double *y_ideal, const int64_t *labels, acdc_sim_metrics *m);

#endif
