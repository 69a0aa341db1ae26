/* cli/cmd_sweep.c -- `acdc sweep`: Monte Carlo over one or two imperfections.
 *
 * Parses the options and runs the sweep engine (sim/sweep.h: the grid, fingerprints and
 * settings, resume, the file rewritten atomically after every point).  The exit code
 * follows the engine's status: 3 when a signal stopped it (UTIL_EINTR).
 */
#include "cli/cli.h"
#include "compiler/compile.h"
#include "sim/sweep.h"
#include "util/error.h"
#include "util/parse.h"
#include "util/progress.h"
#include "util/signal.h"

#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
    "usage: acdc sweep SYSTEM.h5 DATA.h5 -o SWEEP.h5 --vary NAME=FROM:TO[:STEPS] [options]\n"
    "\n"
    "Monte Carlo over one parameter, or a grid over two: at every point, run the data\n"
    "through the optical system --trials times (seeds S, S+1, ...) and keep the mean and\n"
    "the sample standard deviation of every fidelity metric, end to end and per optical\n"
    "chain.  The file is rewritten atomically after every point; run the same command\n"
    "again after an interruption and it continues where it stopped.\n"
    "\n"
    "parameters (NAME):\n"
    "  photons            photons per inference on the input modulator (log-spaced)\n"
    "  phase-bits         phase levels 2^B of the Fourier and image masks (integer)\n"
    "  amplitude-bits     amplitude levels of the Fourier and image masks (integer)\n"
    "  phase-error        rms phase error of every mask pixel (rad; 'mrad', 'deg')\n"
    "  SECTION.KEY        any profile value, with its unit where it has one, e.g.\n"
    "                     camera.exposure=1ms:10ms:4 or camera.adc_bits=6:12 (the system\n"
    "                     is recompiled at each point; integer keys are rounded)\n"
    "  STEPS defaults to every integer for integer parameters, one per decade (plus\n"
    "  one) for log spacing, 6 otherwise.  Append ':log' or ':lin' to choose the\n"
    "  spacing of one parameter: --vary phase-error=1mrad:1rad:7:log.\n"
    "\n"
    "options:\n"
    "  -o, --output FILE        sweep file (HDF5, format acdc-sweep)\n"
    "      --vary NAME=FROM:TO[:STEPS][:log|:lin]   once or twice (twice: a grid)\n"
    "      --trials T           trials per point (default 3)\n"
    "      --log                log spacing for every varied parameter\n"
    "      --lin                linear spacing for every varied parameter (photons too)\n"
    "      --rows N             use the first N rows of DATA.h5 only (default: all)\n"
    "      --resume             demand an existing sweep to continue (else: exit 1)\n"
    "      --restart            discard an existing sweep file and start over\n"
    "  -q, --quiet              no line per point on stdout\n"
    "  simulate's options, fixed for the whole sweep:\n"
    "      --propagation P, --no-noise, --photons N, --phase-error R, --phase-bits B,\n"
    "      --amplitude-bits B, --set SEC.KEY=VAL, --seed S (default 1), --batch B,\n"
    "      --threads T (results do not depend on batch or threads), --misalign-x D,\n"
    "      --oversample S, --fill F\n"
    "  -h, --help               this text\n"
    "\n"
    "exit codes: 0 done, 1 data or I/O error (also: -o holds another sweep), 2 usage\n"
    "error, 3 interrupted (the file holds every point finished before the signal)\n";

/* What the per-point report needs. */
struct report {
    util_progress *bar;
    int quiet;
    size_t finished;
    long interrupt_after, ran;   /* the test hook below; -1: off */
};

static void report(const sim_sweep *w, size_t pt, int done, void *ctx)
{
    struct report *r = ctx;
    char where[160];
    sim_sweep_describe(w, pt, where, sizeof where);
    if (!done) {
        util_progress_update(r->bar, r->finished, "%s", where);
        return;
    }
    util_progress_update(r->bar, ++r->finished, "%s", where);
    if (!r->quiet) {
        const double *m = w->mean, *sd = w->sd;
        util_progress_finish(r->bar);
        printf("  %-32s rel_rms %.4g ± %.2g  snr %.1f dB", where,
               m[sim_sweep_at(w, -1, SIM_METRIC_REL_RMS) + pt],
               sd[sim_sweep_at(w, -1, SIM_METRIC_REL_RMS) + pt],
               m[sim_sweep_at(w, -1, SIM_METRIC_SNR_DB) + pt]);
        if (w->labelled)
            printf("  acc %.4f ± %.4f (ideal %.4f)",
                   m[sim_sweep_at(w, -1, SIM_METRIC_ACC_OPTICAL) + pt],
                   sd[sim_sweep_at(w, -1, SIM_METRIC_ACC_OPTICAL) + pt],
                   m[sim_sweep_at(w, -1, SIM_METRIC_ACC_IDEAL) + pt]);
        printf("\n");
        fflush(stdout);
    }
    /* Test hook: ACDC_SWEEP_INTERRUPT_AFTER=k sends this process SIGINT after k points,
     * exercising the same path as Ctrl-C at a deterministic moment. */
    if (r->interrupt_after >= 0 && ++r->ran == r->interrupt_after)
        raise(SIGINT);
}

int cmd_sweep(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'},      {"vary", required_argument, 0, 'v'},
        {"trials", required_argument, 0, 't'},      {"log", no_argument, 0, 'L'},
        {"lin", no_argument, 0, 'l'},               {"rows", required_argument, 0, 'r'},
        {"resume", no_argument, 0, 'R'},            {"restart", no_argument, 0, 'X'},
        {"quiet", no_argument, 0, 'q'},             {"batch", required_argument, 0, 'B'},
        {"help", no_argument, 0, 'h'},              CLI_SIM_OPTIONS,
        {0, 0, 0, 0}};
    sim_sweep_config cfg = {.trials = 3, .batch = 64, .options = sim_options_default(),
                            .compile = compiler_compile};
    int resume = 0, restart = 0, quiet = 0, c;
    cli_sets cs;
    int64_t iv;
    int rc = cli_sets_init(&cs, argc);
    if (rc)
        return cli_fail("sweep", rc);
    optind = 0;
    opterr = 0;
    while (rc == UTIL_OK && (c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
        if (cli_sim_option(c, optarg, &cfg.options, &cs, &rc))
            continue;
        switch (c) {
        case 'o': cfg.out = optarg; break;
        case 'v':
            if (cfg.n_params == 2) {
                rc = util_error(UTIL_EUSAGE, "--vary: at most two parameters");
                break;
            }
            if (!(rc = sim_sweep_parse(optarg, &cfg.param[cfg.n_params]))) {
                if (cfg.n_params == 1 && !strcmp(cfg.param[0].name, cfg.param[1].name))
                    rc = util_error(UTIL_EUSAGE, "--vary: '%s' given twice", cfg.param[0].name);
                cfg.n_params++;
            }
            break;
        case 't':
            if (!(rc = util_parse_int(optarg, "--trials", 1, 100000, &iv)))
                cfg.trials = (size_t)iv;
            break;
        case 'L': cfg.all_log = 1; break;
        case 'l': cfg.all_lin = 1; break;
        case 'r':
            if (!(rc = util_parse_int(optarg, "--rows", 1, INT64_MAX / 2, &iv)))
                cfg.rows = (size_t)iv;
            break;
        case 'R': resume = 1; break;
        case 'X': restart = 1; break;
        case 'q': quiet = 1; break;
        case 'B':
            if (!(rc = util_parse_int(optarg, "--batch", 1, 1 << 16, &iv)))
                cfg.batch = (size_t)iv;
            break;
        case 'h':
            cli_sets_clear(&cs);
            fputs(help, stdout);
            return cli_finish("sweep");
        default:
            cli_sets_clear(&cs);
            return cli_usage_error("sweep", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (!rc && cfg.all_log && cfg.all_lin)
        rc = util_error(UTIL_EUSAGE, "--log and --lin exclude each other");
    if (!rc && resume && restart)
        rc = util_error(UTIL_EUSAGE, "--resume and --restart exclude each other");
    if (rc) {
        cli_sets_clear(&cs);
        return cli_fail("sweep", rc);
    }
    if (argc - optind != 2 || !cfg.out || !cfg.n_params) {
        cli_sets_clear(&cs);
        if (!cfg.out)
            return cli_usage_error("sweep", "no output file: give -o SWEEP.h5");
        if (!cfg.n_params)
            return cli_usage_error("sweep", "nothing to vary: give --vary NAME=FROM:TO");
        return cli_usage_error("sweep", "expected SYSTEM.h5 and DATA.h5, got %d arguments",
                               argc - optind);
    }
    cfg.system_path = argv[optind];
    cfg.data_path = argv[optind + 1];
    cfg.sets = cs.v;
    cfg.nsets = cs.n;

    sim_sweep *w = NULL;
    util_signal_saved sig = {0};
    const char *hook = getenv("ACDC_SWEEP_INTERRUPT_AFTER");
    struct report rep = {.quiet = quiet,
                         .interrupt_after = hook && *hook ? strtol(hook, NULL, 10) : -1};
    int resumed;
    if ((rc = sim_sweep_alloc(&w, &cfg)) ||
        (rc = sim_sweep_open(w, restart ? SIM_SWEEP_RESTART
                                : resume ? SIM_SWEEP_RESUME : SIM_SWEEP_CONTINUE, &resumed)))
        goto out;
    size_t todo = w->points - sim_sweep_done(w);
    if (resumed)
        printf("resuming '%s': %zu of %zu points already done\n", cfg.out,
               sim_sweep_done(w), w->points);
    if ((rc = util_signal_catch(&sig)))
        goto out;
    if ((rc = util_progress_alloc(&rep.bar, "sweep", todo, "pt"))) {
        util_signal_restore(&sig);
        goto out;
    }
    if (!quiet && todo)
        printf("%zu point%s x %zu trial%s x %zu rows\n", todo, todo == 1 ? "" : "s",
               cfg.trials, cfg.trials == 1 ? "" : "s", w->rows);
    rc = sim_sweep_run(w, util_signal_flag(), report, &rep);
    util_progress_free(rep.bar);
    util_signal_restore(&sig);
    if (!rc)
        printf("wrote '%s': %zu point%s, %zu trial%s each\n", cfg.out, w->points,
               w->points == 1 ? "" : "s", cfg.trials, cfg.trials == 1 ? "" : "s");
out:
    sim_sweep_free(w);
    cli_sets_clear(&cs);
    return rc ? cli_fail("sweep", rc) : cli_finish("sweep");
}
