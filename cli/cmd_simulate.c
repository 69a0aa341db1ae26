/* cli/cmd_simulate.c -- `acdc simulate`: data through a compiled optical system. */
#include "cli/cli.h"
#include "compiler/compile.h"
#include "compiler/system.h"
#include "optics/propagate.h"
#include "models/io.h"
#include "sim/simulate.h"
#include "util/error.h"
#include "util/parse.h"
#include "util/signal.h"

#include <getopt.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
    "usage: acdc simulate SYSTEM.h5 DATA.h5 -o RESULT.h5 [options]\n"
    "\n"
    "Send every row of DATA.h5's /x through the compiled optical system -- light on the\n"
    "modulators, through lenses and masks, onto the homodyne camera -- and compare with\n"
    "the ideal ACDC computed from the model copy in the system file.  Writes /y_optical,\n"
    "/y_ideal and the fidelity metrics (end to end and per optical chain).\n"
    "\n"
    "options:\n"
    "  -o, --output FILE        result file (HDF5)\n"
    "      --propagation P      ideal (Fourier-transform lenses, default), fresnel (free\n"
    "                           space + thin lenses, Fresnel transfer function) or asm\n"
    "                           (band-limited angular spectrum)\n"
    "      --no-noise           noise-free camera (masks keep their quantisation)\n"
    "      --photons N          photons per inference on the input modulator (sets the\n"
    "                           laser power for the profile's exposure)\n"
    "      --phase-error R      rms phase error of every mask pixel (rad, or 'mrad')\n"
    "      --phase-bits B       Fourier- and image-mask phase levels 2^B (recompiles)\n"
    "      --misalign-x D       displace every mask laterally by D samples (0.5px; a\n"
    "                           sample is a double-phase pair on phase-only devices)\n"
    "      --oversample S       S sub-samples per sample in every plane (default 1, or 4\n"
    "                           for a pixel-aware system): the pixels are resolved --\n"
    "                           fill factor, dead space, both pixels of a double-phase\n"
    "                           pair, diffraction orders; S^2 times the work\n"
    "      --fill F             fill factor of every modulator, 0 < F <= 1 (recompiles;\n"
    "                           seen only with --oversample 2 or more)\n"
    "      --amplitude-bits B   Fourier- and image-mask amplitude levels (recompiles)\n"
    "      --set SEC.KEY=VAL    any profile value (recompiles), e.g. camera.adc_bits=10\n"
    "      --trials T           Monte Carlo trials with seeds S, S+1, ... (default 1)\n"
    "      --seed S             random seed (default 1)\n"
    "      --batch B            rows per optical pass (default 64)\n"
    "      --threads T          threads (default 1); results do not depend on it\n"
    "      --save-planes K      keep the field at every plane (each stage's input and\n"
    "                           Fourier planes, the camera) for the first K inputs\n"
    "  -v, --verbose            explain the sampling and the propagator chosen, and warn\n"
    "                           about aliasing or wrap-around before running\n"
    "  -h, --help               this text\n";

static void print_summary(const sim_result *r, int labelled)
{
    static const int show[] = {SIM_METRIC_REL_RMS, SIM_METRIC_SNR_DB, SIM_METRIC_COSINE,
                               SIM_METRIC_MAX_ABS};
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
            sim_result_stats(r, st, show[k], &mean, &sd);
            printf(" %12.4g", mean);
        }
        printf("\n");
    }
    double m, sd;
    if (labelled) {
        sim_result_stats(r, -1, SIM_METRIC_ACC_OPTICAL, &m, &sd);
        printf("  accuracy: optical %.4f", m);
        if (r->trials > 1)
            printf(" ± %.4f", sd);
        sim_result_stats(r, -1, SIM_METRIC_ACC_IDEAL, &m, &sd);
        printf(", ideal %.4f", m);
    } else {
        printf(" ");
    }
    sim_result_stats(r, -1, SIM_METRIC_AGREEMENT, &m, &sd);
    printf("%s prediction agreement %.4f\n", labelled ? "," : "", m);
    if (r->saturated)
        printf("  note: the camera shortened its exposure %zu times to stay below 80%% of "
               "its full well\n", r->saturated);
}

/* --verbose: the sampling of the planes and, for free space, the propagator's own
 * explanation (optics_prop_advise) of why it is accurate or where it is not. */
static void explain(const compiler_system *s, enum sim_propagation prop, int oversample)
{
    const int S = sim_oversample(s, oversample);
    const size_t L = sim_plane_samples(s, oversample);
    printf("devices: %zu samples at %.4g um (window %.4g mm), Fourier planes %zu samples at "
           "%.4g um; f = %zu * pitch * Fourier pitch / lambda = %.4g mm\n", s->m,
           1e6 * s->pitch_m, 1e3 * (double)s->m * s->pitch_m, s->fm,
           1e6 * s->fourier_pitch_m, s->fm, 1e3 * s->focal_m);
    if (S > 1)
        printf("sampling: pixels resolved, %d sub-samples per sample: planes of %zu samples "
               "at %.4g um (window %.4g mm), Fourier planes at %.4g um\n", S, L,
               1e6 * s->pitch_m / S, 1e3 * (double)L * s->pitch_m / S,
               1e6 * s->fourier_pitch_m / S);
    else
        printf("sampling: one point per sample (the point design's model): planes of %zu "
               "samples\n", L);
    if (prop == SIM_PROP_IDEAL) {
        printf("propagation: ideal Fourier-transform lenses (a centred DFT per lens, exact "
               "for band-limited fields; no free space is simulated)\n");
        return;
    }
    optics_grid g;
    char buf[2048];
    int nwarn = 0;
    enum optics_method chosen;
    if (optics_grid_init(&g, 1, L, 1, s->pitch_m / S, s->wavelength_m) ||
        optics_prop_advise(&g, s->focal_m, prop == SIM_PROP_FRESNEL ? OPTICS_FRESNEL_TF
                                                                     : OPTICS_ASM_BL,
                           &chosen, &nwarn, buf, sizeof buf))
        return;
    printf("propagation over f = %.4g mm (%s), %d warning%s:\n%s", 1e3 * s->focal_m,
           optics_method_name(chosen), nwarn, nwarn == 1 ? "" : "s", buf);
    if (buf[0] && buf[strlen(buf) - 1] != '\n')
        printf("\n");
}

int cmd_simulate(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'},  {"trials", required_argument, 0, 't'},
        {"batch", required_argument, 0, 'B'},   {"save-planes", required_argument, 0, 'K'},
        {"verbose", no_argument, 0, 'v'},       {"help", no_argument, 0, 'h'},
        CLI_SIM_OPTIONS,                        {0, 0, 0, 0}};
    const char *out = NULL;
    sim_job job = {.options = sim_options_default(), .trials = 1, .batch = 64, .progress = 1};
    cli_sets sets;
    int64_t iv;
    int c, verbose = 0, rc = cli_sets_init(&sets, argc);
    if (rc)
        return cli_fail("simulate", rc);
    optind = 0;
    opterr = 0;
    while (rc == UTIL_OK && (c = getopt_long(argc, argv, "o:vh", opts, NULL)) != -1) {
        if (cli_sim_option(c, optarg, &job.options, &sets, &rc))
            continue;
        switch (c) {
        case 'o': out = optarg; break;
        case 't':
            if (!(rc = util_parse_int(optarg, "--trials", 1, 100000, &iv)))
                job.trials = (size_t)iv;
            break;
        case 'B':
            if (!(rc = util_parse_int(optarg, "--batch", 1, 1 << 16, &iv)))
                job.batch = (size_t)iv;
            break;
        case 'v': verbose = 1; break;
        case 'K':
            if (!(rc = util_parse_int(optarg, "--save-planes", 0, 1000, &iv)))
                job.save_planes = (size_t)iv;
            break;
        case 'h':
            cli_sets_clear(&sets);
            fputs(help, stdout);
            return cli_finish("simulate");
        default:
            cli_sets_clear(&sets);
            return cli_usage_error("simulate", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (rc) {
        cli_sets_clear(&sets);
        return cli_fail("simulate", rc);
    }
    if (argc - optind != 2 || !out) {
        cli_sets_clear(&sets);
        return out ? cli_usage_error("simulate", "expected SYSTEM.h5 and DATA.h5, got %d "
                                     "arguments", argc - optind)
                   : cli_usage_error("simulate", "no output file: give -o RESULT.h5");
    }
    compiler_system *s = NULL, *over = NULL;
    acdc_data *d = NULL;
    sim_result r = {0};
    if ((rc = compiler_system_read(argv[optind], &s)))
        goto fail;
    if ((rc = acdc_data_read(argv[optind + 1], s->n_in, &d)))
        goto fail;
    if (sets.n && (rc = sim_system_override(s, compiler_compile, sets.v, sets.n, &over)))
        goto fail;   /* a refused assignment is a usage error (UTIL_EUSAGE) */
    if (verbose)
        explain(over ? over : s, job.options.propagation, job.options.oversample);
    omp_set_num_threads(job.options.threads);
    job.system = over ? over : s;
    job.data = d;
    util_signal_saved sig = {0};
    if (!(rc = util_signal_catch(&sig)))
        rc = sim_execute(&job, &r, util_signal_flag());
    util_signal_restore(&sig);
    if (rc || (rc = sim_result_write(&r, out)))
        goto fail;
    int S = sim_oversample(job.system, job.options.oversample);
    if (S > 1)
        printf("resolved pixels: %d sub-samples per sample, planes of %zu samples\n", S,
               sim_plane_samples(job.system, S));
    print_summary(&r, d->labels != NULL);
    printf("wrote '%s'\n", out);
    sim_result_free(&r);
    compiler_system_free(over);
    compiler_system_free(s);
    acdc_data_free(d);
    cli_sets_clear(&sets);
    return cli_finish("simulate");
fail:
    sim_result_free(&r);
    compiler_system_free(over);
    compiler_system_free(s);
    acdc_data_free(d);
    cli_sets_clear(&sets);
    return cli_fail("simulate", rc);
}
