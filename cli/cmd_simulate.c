/* cli/cmd_simulate.c -- `acdc simulate`: data through a compiled optical system. */
#include "cli/cli.h"
#include "compiler/system.h"
#include "optics/propagate.h"
#include "models/io.h"
#include "sim/simulate.h"
#include "util/error.h"
#include "util/h5.h"
#include "util/parse.h"

#include <getopt.h>
#include <math.h>
#include <omp.h>
#include <signal.h>
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

static volatile int stop;
static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static int write_result(const char *path, const sim_result *r, const acdc_data *d,
                        const compiler_system *s, const sim_job *job)
{
    util_h5_out o;
    int rc = util_h5_create(path, &o);
    if (rc)
        return rc;
    hid_t f = o.fid;
    hsize_t dy[2] = {r->rows, r->n_out}, dt[2] = {r->trials, 7};
    double *tr = malloc(r->trials * 7 * sizeof *tr);
    if (!tr) {
        util_h5_abort(&o);
        return util_error(UTIL_ENOMEM, "out of memory");
    }
    for (size_t t = 0; t < r->trials; t++)
        for (int i = 0; i < 7; i++)
            tr[t * 7 + i] = sim_metric_get(&r->end[t], i);
    rc = util_h5_set_attr_str(f, "/", "format", "acdc-result");
    if (!rc) rc = util_h5_set_attr_str(f, "/", "profile", s->profile.name);
    if (!rc) rc = util_h5_set_attr_str(f, "/", "propagation",
                                       job->options.propagation == SIM_PROP_IDEAL ? "ideal"
                                       : job->options.propagation == SIM_PROP_FRESNEL ? "fresnel"
                                                                                   : "asm");
    if (!rc) rc = util_h5_set_attr_i64(f, "/", "trials", (int64_t)r->trials);
    if (!rc) rc = util_h5_set_attr_i64(f, "/", "seed", (int64_t)job->options.seed);
    if (!rc) rc = util_h5_set_attr_i64(f, "/", "oversample",
                                       sim_oversample(s, job->options.oversample));
    if (!rc) rc = util_h5_set_attr_i64(f, "/", "exposure_shortened", (int64_t)r->saturated);
    if (!rc) rc = util_h5_set_attr_f64(f, "/", "seconds", r->seconds);
    if (!rc) rc = util_h5_write_f64(f, "/y_optical", 2, dy, r->y_optical);
    if (!rc) rc = util_h5_write_f64(f, "/y_ideal", 2, dy, r->y_ideal);
    if (!rc && d->labels) rc = util_h5_write_i64(f, "/labels", 1, dy, d->labels);
    if (!rc) rc = util_h5_write_f64(f, "/trials/metrics", 2, dt, tr);
    free(tr);
    for (int i = 0; i < 7 && !rc; i++) {
        double mean, sd;
        char name[64];
        sim_result_stats(r, -1, i, &mean, &sd);
        if (!rc) rc = util_h5_group(f, "/metrics");
        if (!rc) rc = util_h5_set_attr_f64(f, "/metrics", sim_metric_names[i], mean);
        snprintf(name, sizeof name, "%s_sd", sim_metric_names[i]);
        if (!rc) rc = util_h5_set_attr_f64(f, "/metrics", name, sd);
        for (size_t c = 0; c < r->n_chains && !rc; c++) {
            char g[64];
            snprintf(g, sizeof g, "/stages/%zu", c);
            sim_result_stats(r, (int)c, i, &mean, &sd);
            if (!rc) rc = util_h5_group(f, g);
            if (!rc) rc = util_h5_set_attr_f64(f, g, sim_metric_names[i], mean);
            if (!rc) rc = util_h5_set_attr_f64(f, g, name, sd);
        }
    }
    if (!rc && r->planes) {
        size_t P = r->n_planes, M = r->m, K = r->planes_rows;
        hsize_t dp[4] = {K, P, M, 2}, dq[1] = {P};
        double *pitch = malloc(P * sizeof *pitch);
        char *names = calloc(P, 64);
        if (!pitch || !names)
            rc = util_error(UTIL_ENOMEM, "out of memory");
        for (size_t i = 0; !rc && i < P; i++) {
            char nm[64];
            sim_plane_info(s, job->options.oversample, i, nm, sizeof nm, &pitch[i]);
            size_t len = strlen(names);
            snprintf(names + len, (size_t)P * 64 - len, "%s%s", i ? ";" : "", nm);
        }
        /* double complex is two doubles, real then imaginary (C11 6.2.5p13). */
        if (!rc) rc = util_h5_write_f64(f, "/planes/field", 4, dp, (const double *)r->planes);
        if (!rc) rc = util_h5_write_f64(f, "/planes/pitch_m", 1, dq, pitch);
        if (!rc) rc = util_h5_set_attr_str(f, "/planes", "names", names);
        free(pitch);
        free(names);
    }
    if (rc) {
        util_h5_abort(&o);
        return rc;
    }
    return util_h5_commit(&o);
}

static void print_summary(const sim_result *r, int labelled)
{
    static const int show[] = {0, 2, 3, 1};
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
        for (int k = 0; k < 4; k++) {
            double mean, sd;
            sim_result_stats(r, st, show[k], &mean, &sd);
            printf(" %12.4g", mean);
        }
        printf("\n");
    }
    double m, sd;
    if (labelled) {
        sim_result_stats(r, -1, 4, &m, &sd);
        printf("  accuracy: optical %.4f", m);
        if (r->trials > 1)
            printf(" ± %.4f", sd);
        sim_result_stats(r, -1, 5, &m, &sd);
        printf(", ideal %.4f", m);
    } else {
        printf(" ");
    }
    sim_result_stats(r, -1, 6, &m, &sd);
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
    int c, verbose = 0, rc = cli_sets_alloc(&sets, argc);
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
            cli_sets_free(&sets);
            fputs(help, stdout);
            return cli_finish("simulate");
        default:
            cli_sets_free(&sets);
            return cli_usage_error("simulate", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (rc) {
        cli_sets_free(&sets);
        return cli_fail("simulate", rc);
    }
    if (argc - optind != 2 || !out) {
        cli_sets_free(&sets);
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
    if (sets.n && (rc = sim_system_override(s, sets.v, sets.n, &over))) {
        if (rc == UTIL_EDATA && strstr(util_errmsg(), "="))
            rc = UTIL_EUSAGE;
        goto fail;
    }
    if (verbose)
        explain(over ? over : s, job.options.propagation, job.options.oversample);
    omp_set_num_threads(job.options.threads);
    job.system = over ? over : s;
    job.data = d;
    struct sigaction sa = {0}, old_int, old_term;
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    rc = sim_execute(&job, &r, &stop);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (rc)
        goto fail;
    if ((rc = write_result(out, &r, d, job.system, &job)))
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
    cli_sets_free(&sets);
    return cli_finish("simulate");
fail:
    sim_result_free(&r);
    compiler_system_free(over);
    compiler_system_free(s);
    acdc_data_free(d);
    cli_sets_free(&sets);
    return cli_fail("simulate", rc);
}
