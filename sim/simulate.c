/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sim/simulate.c -- see simulate.h. */
#include "sim/simulate.h"
#include "util/fingerprint.h"
#include "models/io.h"
#include "util/error.h"
#include "util/mem.h"
#include "util/progress.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int acdc_sim_profile_override(const acdc_compiler_profile *base, char *const *sets, size_t nsets,
                              acdc_compiler_profile *out)
{
    int rc = ACDC_UTIL_OK;
    *out = *base;
    for (size_t i = 0; i < nsets && !rc; i++)
        rc = acdc_compiler_profile_set(out, sets[i]);
    if (!rc)
        rc = acdc_compiler_profile_check(out);
    if (rc == ACDC_UTIL_EDATA || rc == ACDC_UTIL_EUSAGE) {
        /* an assignment the user gave: a usage error whatever the profile's reason */
        char msg[512];   /* acdc_util_error() must not read the buffer it writes */
        snprintf(msg, sizeof msg, "%s", acdc_util_errmsg());
        return acdc_util_error(ACDC_UTIL_EUSAGE, "%s", msg);
    }
    return rc;
}

int acdc_sim_system_override(const acdc_compiler_system *s, acdc_sim_compile_fn compile,
                             char *const *sets,
                             size_t nsets, acdc_compiler_system **out)
{
    acdc_compiler_profile p;
    int rc;
    *out = NULL;
    if ((rc = acdc_sim_profile_override(&s->profile, sets, nsets, &p)))
        return rc;
    if (!compile)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "a changed device needs a compiler to rebuild the "
                               "system (acdc_sim_compile_fn)");
    if ((rc = compile(s->model, &p, out)))
        return rc;
    /* a calibrated signal range carries over to the new devices */
    if ((rc = acdc_compiler_detection_carry(s, *out))) {
        acdc_compiler_system_free(*out);
        *out = NULL;
    }
    return rc;
}

void acdc_sim_mask_bits_sets(int phase, long long bits, char out[2][64])
{
    const char *key = phase ? "phase_bits" : "amplitude_bits";
    snprintf(out[0], 64, "fourier.%s=%lld", key, bits);
    snprintf(out[1], 64, "image.%s=%lld", key, bits);
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int acdc_sim_execute(const acdc_sim_job *job, acdc_sim_result *r, const volatile sig_atomic_t *stop)
{
    const acdc_compiler_system *s = job->system;
    const acdc_data *d = job->data;
    const size_t n = s->n, C = s->n_chains, T = job->trials ? job->trials : 1;
    const size_t B = job->batch ? job->batch : 64;
    int rc = ACDC_UTIL_OK;
    memset(r, 0, sizeof *r);
    if (d->dim != s->n_in)
        return acdc_util_error(ACDC_UTIL_EDATA, "the data have %zu columns but the system takes "
                               "n_in = %zu inputs", d->dim, s->n_in);
    if ((rc = acdc_check_labels(d->labels, d->batch, d->path, s->n_out, "the system")))
        return rc;
    /* outputs (2 × rows × n_out), per-chain outputs (2 × chains × rows × n), planes */
    double need = 8.0 * (2.0 * (double)d->batch * (double)s->n_out +
                         2.0 * (double)C * (double)d->batch * (double)n) +
                  16.0 * (double)job->save_planes * (double)acdc_sim_plane_count(s) *
                      (double)acdc_sim_plane_samples(s, &job->options);
    if ((rc = acdc_util_mem_check(need, "the simulation")))
        return rc;
    r->rows = d->batch;
    r->n_out = s->n_out;
    r->n = n;
    r->n_chains = C;
    r->trials = T;
    snprintf(r->profile, sizeof r->profile, "%s", s->profile.name);
    acdc_sim_optics op;
    acdc_sim_optics_of(s, &job->options, &op);
    acdc_sim_result_set_optics(r, &op, s->rank);
    r->seed = job->options.seed;
    acdc_sim_perturb_describe(job->options.perturb, job->options.chain, r->perturbations,
                              sizeof r->perturbations);
    r->oversample = acdc_sim_oversample(s, job->options.oversample);
    r->y_optical = malloc(d->batch * s->n_out * sizeof *r->y_optical);
    r->y_ideal = malloc(d->batch * s->n_out * sizeof *r->y_ideal);
    r->end = calloc(T, sizeof *r->end);
    r->stage = calloc(T * C, sizeof *r->stage);
    r->chain_saturated = calloc(C, sizeof *r->chain_saturated);
    size_t bb = B < d->batch ? B : d->batch;
    double *cin = malloc(C * bb * n * sizeof *cin), *cout = malloc(C * bb * n * sizeof *cout);
    /* Per-chain outputs of the whole data set, optical and numeric (same input). */
    double *so = malloc(C * d->batch * n * sizeof *so), *si = malloc(C * d->batch * n * sizeof *si);
    double *ref = malloc(bb * n * sizeof *ref);
    acdc_work **cwork = NULL;   /* per chain: the numeric reference's workspace */
    if (d->labels && (r->labels = malloc(d->batch * sizeof *r->labels)))
        memcpy(r->labels, d->labels, d->batch * sizeof *r->labels);
    if (!r->y_optical || !r->y_ideal || !r->end || !r->stage || !r->chain_saturated || !cin ||
        !cout || !so || !si ||
        !ref || (d->labels && !r->labels)) {
        rc = acdc_util_error(ACDC_UTIL_ENOMEM,
                             "out of memory for %zu rows x %zu chains", d->batch, C);
        goto done;
    }
    if ((rc = acdc_sim_reference(s, d->batch, d->x, r->y_ideal)))
        goto done;
    /* each chain's numeric reference: planned once, for every batch of every trial */
    if (!(cwork = calloc(C, sizeof *cwork))) {
        rc = acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for %zu chains", C);
        goto done;
    }
    for (size_t c = 0; c < C && !rc; c++)
        rc = acdc_sim_reference_chain_work(&cwork[c], s, c, bb);
    if (rc)
        goto done;
    acdc_util_progress *bar = NULL;
    if (job->progress && (rc = acdc_util_progress_alloc(&bar, "simulate", T * d->batch, "in")))
        goto done;
    double t0 = now();
    for (size_t t = 0; t < T && !rc; t++) {
        acdc_sim_options o = job->options;
        o.seed = job->options.seed + t;
        sim *m;
        if ((rc = acdc_sim_alloc(&m, s, bb, &o)))
            break;
        if (t == 0 && job->save_planes) {
            r->planes_rows = job->save_planes < d->batch ? job->save_planes : d->batch;
            r->n_planes = acdc_sim_plane_count(s);
            r->m = acdc_sim_plane_samples(s, &job->options);
            /* a 2D system's planes are square, acdc_sim_plane_side() samples a side (m, their
             * number, comes from acdc_sim_plane_samples(); acdc_sim_result_write() checks the two
             * agree) */
            r->plane_nx = acdc_sim_plane_side(s, &job->options);
            r->plane_ny = s->rank == 2 ? r->plane_nx : 1;
            r->planes = malloc(r->planes_rows * r->n_planes * r->m * sizeof *r->planes);
            r->plane_names = calloc(r->n_planes, 64);
            r->plane_pitch_m = malloc(r->n_planes * sizeof *r->plane_pitch_m);
            if (!r->planes || !r->plane_names || !r->plane_pitch_m) {
                acdc_sim_free(m);
                rc = acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for %zu saved planes",
                                     r->planes_rows * r->n_planes);
                break;
            }
            for (size_t i = 0; i < r->n_planes; i++) {
                char nm[64];
                size_t len = strlen(r->plane_names);
                acdc_sim_plane_info(s, &job->options, i, nm, sizeof nm,
                                    &r->plane_pitch_m[i]);
                snprintf(r->plane_names + len, r->n_planes * 64 - len, "%s%s", i ? ";" : "",
                         nm);
            }
            acdc_sim_keep_planes(m, r->planes_rows, r->planes);
        }
        for (size_t row = 0; row < d->batch && !rc; row += bb) {
            size_t k = d->batch - row < bb ? d->batch - row : bb;
            if (stop && *stop) {
                rc = acdc_util_error(ACDC_UTIL_EINTR, "interrupted");
                break;
            }
            rc = acdc_sim_run(m, k, row, d->x + row * s->n_in, r->y_optical + row * s->n_out,
                              cin, cout);
            for (size_t c = 0; c < C && !rc; c++) {
                rc = acdc_sim_reference_chain(s, c, cwork[c], k, cin + c * k * n, ref);
                memcpy(so + (c * d->batch + row) * n, cout + c * k * n, k * n * sizeof *so);
                memcpy(si + (c * d->batch + row) * n, ref, k * n * sizeof *si);
            }
            acdc_util_progress_update(bar, t * d->batch + row + k, "trial %zu/%zu", t + 1, T);
        }
        for (size_t c = 0; c < C && !rc; c++) {
            size_t sat;
            r->exposures += acdc_sim_exposures(m, c, &sat);
            r->saturated += sat;
            r->chain_saturated[c] += sat;
        }
        acdc_sim_free(m);
        if (rc)
            break;
        acdc_sim_metrics_compute(d->batch, s->n_out, r->y_optical, r->y_ideal, d->labels,
                                 &r->end[t]);
        for (size_t c = 0; c < C; c++)
            acdc_sim_metrics_compute(d->batch, n, so + c * d->batch * n, si + c * d->batch * n,
                                     NULL, &r->stage[t * C + c]);
    }
    r->seconds = now() - t0;
    acdc_util_progress_free(bar);
    if (!rc)
        rc = acdc_sim_result_summarise(r);
done:
    if (rc == ACDC_UTIL_EDATA && d->path)   /* a row that overflows: name the data file */
        acdc_util_error_prefix("'%s'", d->path);
    for (size_t c = 0; cwork && c < C; c++)
        acdc_work_free(cwork[c]);
    free(cwork);
    free(cin);
    free(cout);
    free(so);
    free(si);
    free(ref);
    if (rc)
        acdc_sim_result_free(r);
    return rc;
}

int acdc_sim_inputs_read(const char *system_path, const char *data_path, size_t rows,
                         acdc_compiler_system **s, acdc_data **d, uint64_t *hsys,
                         uint64_t *hdata)
{
    int rc;
    *hdata = ACDC_UTIL_FNV_OFFSET;
    if ((rc = acdc_compiler_system_read(system_path, s)) ||
        (rc = acdc_data_read(data_path, (*s)->n_in, d)) ||
        (rc = acdc_util_file_fingerprint(system_path, hsys)))
        return rc;
    acdc_data *x = *d;
    if (rows && rows < x->batch)
        x->batch = rows;
    if ((rc = acdc_check_labels(x->labels, x->batch, data_path, (*s)->n_out, "the system")))
        return rc;
    *hdata = acdc_util_fnv(*hdata, x->x, x->batch * x->dim * sizeof *x->x);
    if (x->labels)
        *hdata = acdc_util_fnv(*hdata, x->labels, x->batch * sizeof *x->labels);
    return ACDC_UTIL_OK;
}
