/* sim/metrics.h -- how close the light came to the numbers. */
#ifndef SIM_METRICS_H
#define SIM_METRICS_H

#include <stddef.h>
#include <stdint.h>

typedef struct sim_metrics {
    double rel_rms;     /* ‖y_opt − y_ideal‖₂ / ‖y_ideal‖₂ over the whole batch */
    double max_abs;     /* max |y_opt − y_ideal| */
    double snr_db;      /* 10 log10(Σ y_ideal² / Σ (y_opt − y_ideal)²); 300 if exact */
    double cosine;      /* mean over rows of the cosine similarity of y_opt and y_ideal */
    double acc_optical; /* with labels: accuracy of argmax(y_opt); else NaN */
    double acc_ideal;   /* with labels: accuracy of argmax(y_ideal); else NaN */
    double agreement;   /* fraction of rows whose argmax agree (labels or not) */
} sim_metrics;

/* Computes the metrics of rows × dim outputs; labels may be NULL. */
void sim_metrics_compute(size_t rows, size_t dim, const double *y_opt,
                         const double *y_ideal, const int64_t *labels, sim_metrics *m);

/* Names of the metrics in the order of sim_metrics' fields, and access by index. */
extern const char *const sim_metric_names[7];
double sim_metric_get(const sim_metrics *m, int i);

#endif
