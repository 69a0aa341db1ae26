/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sim/metrics.c -- see metrics.h. */
#include "sim/metrics.h"

#include <math.h>
#include <string.h>

#define AT(field) offsetof(acdc_sim_metrics, field)

static const acdc_sim_metric_desc table[] = {
    [ACDC_SIM_METRIC_REL_RMS] = {"rel_rms", "", 0, 0,
                                 "relative RMS error |y_opt - y_ideal| / |y_ideal| (dimensionless)",
                                 1, 1, AT(rel_rms)},
    [ACDC_SIM_METRIC_MAX_ABS] = {"max_abs", "output units", 0, 0,
                                 "max |y_opt - y_ideal| (output units)", 1, 1, AT(max_abs)},
    [ACDC_SIM_METRIC_SNR_DB] = {"snr_db", "dB", 1, 0, "signal-to-noise ratio (dB)", 1, 0,
                                AT(snr_db)},
    [ACDC_SIM_METRIC_COSINE] = {"cosine", "", 1, 0,
                                "cosine similarity of y_opt and y_ideal (dimensionless)", 1, 0,
                                AT(cosine)},
    [ACDC_SIM_METRIC_ACC_OPTICAL] = {"acc_optical", "fraction", 1, 1,
                                     "optical accuracy on the labels (%)", 100, 0, AT(acc_optical)},
    [ACDC_SIM_METRIC_ACC_IDEAL] = {"acc_ideal", "fraction", 1, 1,
                                   "numeric (ideal) accuracy on the labels (%)", 100, 0,
                                   AT(acc_ideal)},
    [ACDC_SIM_METRIC_AGREEMENT] = {"agreement", "fraction", 1, 0,
                                   "optical and ideal predictions agreeing (%)", 100, 0,
                                   AT(agreement)},
};

_Static_assert(sizeof table / sizeof *table == ACDC_SIM_METRIC_COUNT,
               "one row of the metric table for every enum acdc_sim_metric");
_Static_assert(sizeof(acdc_sim_metrics) == ACDC_SIM_METRIC_COUNT * sizeof(double),
               "one double in acdc_sim_metrics for every row of the metric table");

const acdc_sim_metric_desc *acdc_sim_metric_info(int i)
{
    return i >= 0 && i < ACDC_SIM_METRIC_COUNT ? &table[i] : NULL;
}

int acdc_sim_metric_find(const char *name)
{
    for (int i = 0; i < ACDC_SIM_METRIC_COUNT; i++)
        if (!strcmp(table[i].name, name))
            return i;
    return -1;
}

double acdc_sim_metric_get(const acdc_sim_metrics *m, int i)
{
    double v;
    if (i < 0 || i >= ACDC_SIM_METRIC_COUNT)
        return NAN;
    memcpy(&v, (const char *)m + table[i].offset, sizeof v);
    return v;
}

void acdc_sim_metric_set(acdc_sim_metrics *m, int i, double v)
{
    if (i >= 0 && i < ACDC_SIM_METRIC_COUNT)
        memcpy((char *)m + table[i].offset, &v, sizeof v);
}

size_t acdc_sim_argmax(const double *v, size_t n)
{
    size_t k = 0;
    for (size_t i = 1; i < n; i++)
        if (v[i] > v[k])
            k = i;
    return k;
}

void acdc_sim_metrics_compute(size_t rows, size_t dim, const double *yo, const double *yi,
                              const int64_t *labels, acdc_sim_metrics *m)
{
    double se = 0, si = 0, mx = 0, cos_sum = 0;
    size_t ok_o = 0, ok_i = 0, agree = 0;
    for (size_t r = 0; r < rows; r++) {
        const double *a = yo + r * dim, *b = yi + r * dim;
        double dot = 0, na = 0, nb = 0;
        for (size_t j = 0; j < dim; j++) {
            double e = a[j] - b[j];
            se += e * e;
            si += b[j] * b[j];
            /* a NaN stays (fmax would drop it and report a finite maximum) */
            mx = isnan(mx) || isnan(e) ? NAN : fmax(mx, fabs(e));
            dot += a[j] * b[j];
            na += a[j] * a[j];
            nb += b[j] * b[j];
        }
        /* Two zero vectors are the same direction; one zero vector has none. */
        cos_sum += na > 0 && nb > 0 ? dot / sqrt(na * nb) : (na == 0 && nb == 0 ? 1 : 0);
        size_t ko = acdc_sim_argmax(a, dim), ki = acdc_sim_argmax(b, dim);
        agree += ko == ki;
        if (labels) {
            ok_o += (int64_t)ko == labels[r];
            ok_i += (int64_t)ki == labels[r];
        }
    }
    m->rel_rms = si > 0 ? sqrt(se / si) : sqrt(se);
    m->max_abs = mx;
    m->snr_db = se > 0 ? 10 * log10(si / se) : 300;
    if (si == 0 && se > 0)
        m->snr_db = -300;
    m->cosine = rows ? cos_sum / (double)rows : NAN;
    m->acc_optical = labels && rows ? (double)ok_o / (double)rows : NAN;
    m->acc_ideal = labels && rows ? (double)ok_i / (double)rows : NAN;
    m->agreement = rows ? (double)agree / (double)rows : NAN;
}
