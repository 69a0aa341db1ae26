/* sim/metrics.c -- see metrics.h. */
#include "sim/metrics.h"

#include <math.h>

const char *const sim_metric_names[7] = {"rel_rms", "max_abs", "snr_db", "cosine",
                                         "acc_optical", "acc_ideal", "agreement"};

double sim_metric_get(const sim_metrics *m, int i)
{
    const double v[7] = {m->rel_rms, m->max_abs, m->snr_db, m->cosine,
                         m->acc_optical, m->acc_ideal, m->agreement};
    return i >= 0 && i < 7 ? v[i] : NAN;
}

static size_t argmax(const double *v, size_t n)
{
    size_t k = 0;
    for (size_t i = 1; i < n; i++)
        if (v[i] > v[k])
            k = i;
    return k;
}

void sim_metrics_compute(size_t rows, size_t dim, const double *yo, const double *yi,
                         const int64_t *labels, sim_metrics *m)
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
            mx = fmax(mx, fabs(e));
            dot += a[j] * b[j];
            na += a[j] * a[j];
            nb += b[j] * b[j];
        }
        /* Two zero vectors are the same direction; one zero vector has none. */
        cos_sum += na > 0 && nb > 0 ? dot / sqrt(na * nb) : (na == 0 && nb == 0 ? 1 : 0);
        size_t ko = argmax(a, dim), ki = argmax(b, dim);
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
