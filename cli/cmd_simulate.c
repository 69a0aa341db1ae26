/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cli/cmd_simulate.c -- `acdc simulate`: data through a compiled optical system. */
#include "cli/cli.h"
#include "compiler/compile.h"
#include "compiler/system.h"
#include "optics/propagate.h"
#include "models/io.h"
#include "sim/simulate.h"
#include "util/error.h"
#include "util/output.h"
#include "util/parse.h"
#include "util/signal.h"

#include <getopt.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_OUTPUT = 'o', OPT_TRIALS = 't', OPT_BATCH = 'B', OPT_SAVE_PLANES = 'K',
       OPT_VERBOSE = 'v' };

static const cli_option options[] = {
    CLI_OPT('o', "output", "FILE", OPT_OUTPUT, "result file (HDF5)"),
    CLI_OPT_INCLUDE(cli_sim_options),
    CLI_OPT(0, "trials", "T", OPT_TRIALS,
            "Monte Carlo trials with seeds S, S+1, ... (default 1)"),
    CLI_OPT(0, "batch", "B", OPT_BATCH, "rows per optical pass (default 64)"),
    CLI_OPT(0, "save-planes", "K", OPT_SAVE_PLANES,
            "keep the field at every plane (each stage's input and Fourier planes, the "
            "camera) for the first K inputs"),
    CLI_OPT('v', "verbose", NULL, OPT_VERBOSE,
            "explain the sampling and the propagator chosen, and warn about aliasing or "
            "wrap-around before running"),
    CLI_OPT_END};

static const cli_spec spec = {
    "simulate", "SYSTEM.h5 DATA.h5 -o RESULT.h5 [options]",
    "Send every row of DATA.h5's /x through the compiled optical system -- light on the\n"
    "modulators, through lenses and masks, onto the homodyne camera -- and compare with\n"
    "the ideal ACDC computed from the model copy in the system file.  Writes /y_optical,\n"
    "/y_ideal and the fidelity metrics (end to end and per optical chain).  Data values\n"
    "must be finite with |x| <= 1e150 and labels classes 0..n_out-1 (models/FORMAT.md);\n"
    "a row that breaks either, or whose output is not finite, is an error naming it.",
    options, NULL};

struct args {
    const char *out;
    acdc_sim_job job;
    cli_sets sets;
    int verbose;
};

static int on_option(void *ctx, int key, const char *arg)
{
    struct args *a = ctx;
    int64_t iv;
    int rc;
    if (cli_sim_option(key, arg, &a->job.options, &a->sets, &rc))
        return rc;
    switch (key) {
    case OPT_OUTPUT: a->out = arg; break;
    case OPT_TRIALS:
        if (!(rc = acdc_util_parse_int(arg, "--trials", 1, 100000, &iv)))
            a->job.trials = (size_t)iv;
        break;
    case OPT_BATCH:
        if (!(rc = acdc_util_parse_int(arg, "--batch", 1, 1 << 16, &iv)))
            a->job.batch = (size_t)iv;
        break;
    case OPT_VERBOSE: a->verbose = 1; break;
    case OPT_SAVE_PLANES:
        if (!(rc = acdc_util_parse_int(arg, "--save-planes", 0, 1000, &iv)))
            a->job.save_planes = (size_t)iv;
        break;
    }
    return rc;
}

static void print_summary(const acdc_sim_result *r, int labelled)
{
    static const int show[] = {ACDC_SIM_METRIC_REL_RMS, ACDC_SIM_METRIC_SNR_DB,
                               ACDC_SIM_METRIC_COSINE,
                               ACDC_SIM_METRIC_MAX_ABS};
    printf("%zu inputs, %zu trial%s, %.2f s of light (%.0f inputs/s)\n", r->rows, r->trials,
           r->trials == 1 ? "" : "s", r->seconds,
           r->seconds > 0 ? (double)(r->rows * r->trials) / r->seconds : 0.0);
    printf("  %-14s %12s %12s %12s %12s\n", "", "rel RMS err", "SNR (dB)", "cosine",
           "max |err|");
    for (int st = -1; st < (int)r->n_chains; st++) {
        char name[32];
        if (st < 0)
            snprintf(name, sizeof name, "end to end");
        else
            snprintf(name, sizeof name, "chain %d", st);
        printf("  %-14s", name);
        for (size_t k = 0; k < sizeof show / sizeof *show; k++) {
            double mean, sd;
            acdc_sim_result_stats(r, st, show[k], &mean, &sd);
            printf(" %12.4g", mean);
        }
        printf("\n");
    }
    double m, sd;
    if (labelled) {
        acdc_sim_result_stats(r, -1, ACDC_SIM_METRIC_ACC_OPTICAL, &m, &sd);
        printf("  accuracy: optical %.4f", m);
        if (r->trials > 1)
            printf(" ± %.4f", sd);
        acdc_sim_result_stats(r, -1, ACDC_SIM_METRIC_ACC_IDEAL, &m, &sd);
        printf(", ideal %.4f", m);
    } else {
        printf(" ");
    }
    acdc_sim_result_stats(r, -1, ACDC_SIM_METRIC_AGREEMENT, &m, &sd);
    printf("%s prediction agreement %.4f\n", labelled ? "," : "", m);
    printf("  camera: %zu of %zu exposures saturated\n", r->saturated, r->exposures);
}

/* The light passed the detection design: say so once, on stderr, with the count and the
 * chains it happened on. */
static void warn_saturated(const acdc_sim_result *r)
{
    if (!r->saturated)
        return;
    char chains[512] = "";
    size_t len = 0;
    for (size_t c = 0; c < r->n_chains && len < sizeof chains; c++)
        if (r->chain_saturated[c])
            len += (size_t)snprintf(chains + len, sizeof chains - len, "%schain %zu: %zu",
                                    len ? ", " : "", c, r->chain_saturated[c]);
    fprintf(stderr, "acdc simulate: warning: camera saturated on %zu of %zu exposures (%s): "
            "the light passed the detection design and was clipped at the full well\n",
            r->saturated, r->exposures, chains);
}

/* The propagation and lens that run (acdc_sim_optics_of), one line, and why when they are not
 * the ones asked for: every result states its optics. */
static void print_optics(const acdc_compiler_system *s, const acdc_sim_options *o)
{
    acdc_sim_optics op;
    acdc_sim_optics_of(s, o, &op);
    const acdc_optics_lens *l = &op.lens;
    printf("optics: %s propagation, %s lens", acdc_sim_propagation_name(op.propagation),
           acdc_optics_lens_model_name(l->model));
    if (l->name[0])
        printf(" '%s'", l->name);
    /* NA: of the rays from any field point (the Fourier plane's half-width over f); the
     * clear aperture passes every field point's rays */
    printf(" (f = %.2f mm, clear aperture %.2f mm, NA %.4f", 1e3 * l->focal_m,
           1e3 * l->aperture_m, 0.5 * s->aperture_m / s->focal_m);
    if (op.propagation != ACDC_SIM_PROP_IDEAL)
        printf("; wavefront error %.4g waves rms over the clear aperture",
               acdc_optics_lens_wavefront_rms(l, s->rank));
    printf(")\n");
    if (op.note[0])
        printf("optics note: %s\n", op.note);
    char pert[512];
    acdc_sim_perturb_describe(o->perturb, o->chain, pert, sizeof pert);
    if (pert[0])
        printf("perturbed after calibration (the system as built, the bench off): %s\n", pert);
}

/* --verbose: the sampling of the planes and, for free space, the propagator's own
 * explanation (acdc_optics_prop_advise) of why it is accurate or where it is not. */
static void explain(const acdc_compiler_system *s, const acdc_sim_options *o)
{
    acdc_sim_optics op;
    acdc_sim_optics_of(s, o, &op);
    const enum acdc_sim_propagation prop = op.propagation;
    const int S = acdc_sim_oversample(s, o->oversample);
    const size_t L = acdc_sim_plane_samples(s, o);
    printf("devices: %zu samples at %.4g um (window %.4g mm), Fourier planes %zu samples at "
           "%.4g um; f = %zu * pitch * Fourier pitch / lambda = %.4g mm\n", s->m,
           1e6 * s->pitch_m, 1e3 * (double)s->m * s->pitch_m, s->fm,
           1e6 * s->fourier_pitch_m, s->fm, 1e3 * s->focal_m);
    if (S > 1 && acdc_sim_exact(s, o))
        printf("sampling: pixels resolved by the pixel-exact Fourier method: the input "
               "device's and the camera's pixels through their closed-form transforms, the "
               "Fourier plane at %d x %d points per sample (planes of %zu x %zu samples, "
               "Fourier planes at %.4g um)\n", S, S, acdc_sim_plane_side(s, o),
               acdc_sim_plane_side(s, o), 1e6 * s->fourier_pitch_m / S);
    else if (S > 1)
        printf("sampling: pixels resolved, %d sub-samples per sample: planes of %zu samples "
               "at %.4g um (window %.4g mm), Fourier planes at %.4g um\n", S, L,
               1e6 * s->pitch_m / S, 1e3 * (double)acdc_sim_plane_side(s, o) * s->pitch_m / S,
               1e6 * s->fourier_pitch_m / S);
    else
        printf("sampling: one point per sample (the point design's model): planes of %zu "
               "samples\n", L);
    if (prop == ACDC_SIM_PROP_IDEAL) {
        printf("propagation: ideal Fourier-transform lenses (a centred DFT per lens, exact "
               "for band-limited fields; no free space is simulated)\n");
        return;
    }
    acdc_optics_grid g;
    char buf[2048];
    int nwarn = 0;
    enum acdc_optics_method chosen;
    const size_t side = acdc_sim_plane_side(s, o);
    if (acdc_optics_grid_init(&g, s->rank == 2 ? 2 : 1, side, s->rank == 2 ? side : 1,
                              s->pitch_m / S, s->wavelength_m) ||
        acdc_optics_prop_advise(&g, s->focal_m,
                                prop == ACDC_SIM_PROP_FRESNEL ? ACDC_OPTICS_FRESNEL_TF
                                                                     : ACDC_OPTICS_ASM_BL,
                                &chosen, &nwarn, buf, sizeof buf))
        return;
    printf("propagation over f = %.4g mm (%s), %d warning%s:\n%s", 1e3 * s->focal_m,
           acdc_optics_method_name(chosen), nwarn, nwarn == 1 ? "" : "s", buf);
    if (buf[0] && buf[strlen(buf) - 1] != '\n')
        printf("\n");
}

int cmd_simulate(int argc, char **argv)
{
    struct args a = {
        .job = {.options = acdc_sim_options_default(), .trials = 1, .batch = 64, .progress = 1}};
    int rc = cli_sets_init(&a.sets, argc);
    if (rc)
        return cli_fail("simulate", rc);
    if ((rc = cli_parse(&spec, argc, argv, on_option, &a)) >= 0) {
        cli_sets_clear(&a.sets);
        return rc;
    }
    if (argc - optind != 2 || !a.out) {
        cli_sets_clear(&a.sets);
        return a.out ? cli_usage_error("simulate", "expected SYSTEM.h5 and DATA.h5, got %d "
                                       "arguments", argc - optind)
                     : cli_usage_error("simulate", "no output file: give -o RESULT.h5");
    }
    acdc_compiler_system *s = NULL, *over = NULL;
    acdc_data *d = NULL;
    acdc_sim_result r = {0};
    if ((rc = acdc_util_output_claim((const char *const *)argv + optind, 2, &a.out, 1)))
        goto fail;
    if ((rc = acdc_compiler_system_read(argv[optind], &s)))
        goto fail;
    if ((rc = acdc_data_read(argv[optind + 1], s->n_in, &d)))
        goto fail;
    if (a.sets.n &&
        (rc = acdc_sim_system_override(s, acdc_compiler_compile, a.sets.v, a.sets.n, &over)))
        goto fail;   /* a refused assignment is a usage error (ACDC_UTIL_EUSAGE) */
    print_optics(over ? over : s, &a.job.options);
    if (a.verbose)
        explain(over ? over : s, &a.job.options);
    omp_set_num_threads(a.job.options.threads);
    a.job.system = over ? over : s;
    a.job.data = d;
    acdc_util_signal_saved sig = {0};
    if (!(rc = acdc_util_signal_catch(&sig)))
        rc = acdc_sim_execute(&a.job, &r, acdc_util_signal_flag());
    acdc_util_signal_restore(&sig);
    if (rc || (rc = acdc_sim_result_write(&r, a.out)))
        goto fail;
    int S = acdc_sim_oversample(a.job.system, a.job.options.oversample);
    if (S > 1)
        printf("resolved pixels: %d sub-samples per sample, planes of %zu samples%s\n", S,
               acdc_sim_plane_samples(a.job.system, &a.job.options),
               acdc_sim_exact(a.job.system, &a.job.options) ? " (pixel-exact Fourier method)" : "");
    print_summary(&r, d->labels != NULL);
    warn_saturated(&r);
    printf("wrote '%s'\n", a.out);
    acdc_sim_result_free(&r);
    acdc_compiler_system_free(over);
    acdc_compiler_system_free(s);
    acdc_data_free(d);
    cli_sets_clear(&a.sets);
    return cli_finish("simulate");
fail:
    acdc_sim_result_free(&r);
    acdc_compiler_system_free(over);
    acdc_compiler_system_free(s);
    acdc_data_free(d);
    cli_sets_clear(&a.sets);
    return cli_fail("simulate", rc);
}
