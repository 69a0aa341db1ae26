/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cli/cmd_sweep.c -- `acdc sweep`: Monte Carlo over one or two imperfections.
 *
 * Parses the options and runs the sweep engine (sim/sweep.h: the grid, fingerprints and
 * settings, resume, the file rewritten atomically after every point).  The exit code
 * follows the engine's status: 3 when a signal stopped it (ACDC_UTIL_EINTR).
 *
 * Under mpirun (a build with MPI=1, sim/mpi.h) every rank runs this: rank 0 claims and
 * writes the file and prints; the others compute points and print only a failure of
 * their own.
 */
#include "cli/cli.h"
#include "compiler/compile.h"
#include "sim/mpi.h"
#include "sim/sweep.h"
#include "util/error.h"
#include "util/output.h"
#include "util/parse.h"
#include "util/progress.h"
#include "util/signal.h"

#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_OUTPUT = 'o', OPT_VARY = 'v', OPT_TRIALS = 't', OPT_LOG = 'L', OPT_LIN = 'l',
       OPT_ROWS = 'r', OPT_RESUME = 'R', OPT_RESTART = 'X', OPT_QUIET = 'q',
       OPT_BATCH = 'B' };

static const cli_option options[] = {
    CLI_OPT('o', "output", "FILE", OPT_OUTPUT, "sweep file (HDF5, format acdc-sweep)"),
    CLI_OPT(0, "vary", "NAME=FROM:TO[:STEPS][:log|:lin]", OPT_VARY,
            "once or twice (twice: a grid); a profile key's FROM and TO are read as in a "
            "profile, and only a numeric key makes a range"),
    CLI_OPT(0, "trials", "T", OPT_TRIALS, "trials per point (default 3)"),
    CLI_OPT(0, "log", NULL, OPT_LOG, "log spacing for every varied parameter"),
    CLI_OPT(0, "lin", NULL, OPT_LIN,
            "linear spacing for every varied parameter (photons too)"),
    CLI_OPT(0, "rows", "N", OPT_ROWS,
            "use the first N rows of DATA.h5 only (default: all)"),
    CLI_OPT(0, "resume", NULL, OPT_RESUME,
            "demand an existing sweep to continue (else: exit 1)"),
    CLI_OPT(0, "restart", NULL, OPT_RESTART,
            "discard an existing sweep file and start over"),
    CLI_OPT('q', "quiet", NULL, OPT_QUIET, "no line per point on stdout"),
    CLI_OPT(0, "batch", "B", OPT_BATCH, "rows per optical pass (default 64)"),
    CLI_OPT_GROUP("  simulate's options, fixed for the whole sweep:"),
    CLI_OPT_INCLUDE(cli_sim_options),
    CLI_OPT_END};

static const cli_spec spec = {
    "sweep", "SYSTEM.h5 DATA.h5 -o SWEEP.h5 --vary NAME=FROM:TO[:STEPS] [options]",
    "Monte Carlo over one parameter, or a grid over two: at every point, run the data\n"
    "through the optical system --trials times (seeds S, S+1, ...) and keep the mean and\n"
    "the sample standard deviation of every fidelity metric, end to end and per optical\n"
    "chain.  The file is rewritten atomically after every point; run the same command\n"
    "again after an interruption and it continues where it stopped.  Under mpirun, the\n"
    "program built with 'make MPI=1' shares the points (or their trials) over the ranks;\n"
    "rank 0 writes the file, the same as one process writes.\n"
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
    "  spacing of one parameter: --vary phase-error=1mrad:1rad:7:log.",
    options,
    "exit codes: 0 done, 1 data or I/O error (also: -o holds another sweep, or another\n"
    "acdc is writing it: the message names its PID), 2 usage error (also: -o names an\n"
    "input), 3 interrupted (the file holds every point finished before the signal)"};

struct args {
    acdc_sim_sweep_config cfg;
    cli_sets sets;
    int resume, restart, quiet;
};

static int on_option(void *ctx, int key, const char *arg)
{
    struct args *a = ctx;
    acdc_sim_sweep_config *cfg = &a->cfg;
    int64_t iv;
    int rc;
    if (cli_sim_option(key, arg, &cfg->options, &a->sets, &rc))
        return rc;
    switch (key) {
    case OPT_OUTPUT: cfg->out = arg; break;
    case OPT_VARY:
        if (cfg->n_params == 2)
            return acdc_util_error(ACDC_UTIL_EUSAGE, "--vary: at most two parameters");
        if (!(rc = acdc_sim_sweep_parse(arg, &cfg->param[cfg->n_params]))) {
            if (cfg->n_params == 1 && !strcmp(cfg->param[0].name, cfg->param[1].name))
                rc = acdc_util_error(ACDC_UTIL_EUSAGE, "--vary: '%s' given twice",
                                     cfg->param[0].name);
            cfg->n_params++;
        }
        break;
    case OPT_TRIALS:
        if (!(rc = acdc_util_parse_int(arg, "--trials", 1, 100000, &iv)))
            cfg->trials = (size_t)iv;
        break;
    case OPT_LOG: cfg->all_log = 1; break;
    case OPT_LIN: cfg->all_lin = 1; break;
    case OPT_ROWS:
        if (!(rc = acdc_util_parse_int(arg, "--rows", 1, INT64_MAX / 2, &iv)))
            cfg->rows = (size_t)iv;
        break;
    case OPT_RESUME: a->resume = 1; break;
    case OPT_RESTART: a->restart = 1; break;
    case OPT_QUIET: a->quiet = 1; break;
    case OPT_BATCH:
        if (!(rc = acdc_util_parse_int(arg, "--batch", 1, 1 << 16, &iv)))
            cfg->batch = (size_t)iv;
        break;
    }
    return rc;
}

/* What the per-point report needs. */
struct report {
    acdc_util_progress *bar;
    int quiet;
    size_t finished;
    long interrupt_after, ran;   /* the test hook below; -1: off */
};

static void report(const acdc_sim_sweep *w, size_t pt, int done, void *ctx)
{
    struct report *r = ctx;
    char where[160];
    acdc_sim_sweep_describe(w, pt, where, sizeof where);
    if (!done) {
        acdc_util_progress_update(r->bar, r->finished, "%s", where);
        return;
    }
    acdc_util_progress_update(r->bar, ++r->finished, "%s", where);
    if (!r->quiet) {
        const double *m = w->mean, *sd = w->sd;
        acdc_util_progress_finish(r->bar);
        printf("  %-32s rel_rms %.4g ± %.2g  snr %.1f dB", where,
               m[acdc_sim_sweep_at(w, -1, ACDC_SIM_METRIC_REL_RMS) + pt],
               sd[acdc_sim_sweep_at(w, -1, ACDC_SIM_METRIC_REL_RMS) + pt],
               m[acdc_sim_sweep_at(w, -1, ACDC_SIM_METRIC_SNR_DB) + pt]);
        if (w->labelled)
            printf("  acc %.4f ± %.4f (ideal %.4f)",
                   m[acdc_sim_sweep_at(w, -1, ACDC_SIM_METRIC_ACC_OPTICAL) + pt],
                   sd[acdc_sim_sweep_at(w, -1, ACDC_SIM_METRIC_ACC_OPTICAL) + pt],
                   m[acdc_sim_sweep_at(w, -1, ACDC_SIM_METRIC_ACC_IDEAL) + pt]);
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
    struct args a = {.cfg = {.trials = 3, .batch = 64, .options = acdc_sim_options_default(),
                             .compile = acdc_compiler_compile}};
    acdc_sim_sweep_config *cfg = &a.cfg;
    int rc = cli_sets_init(&a.sets, argc);
    if (rc)
        return cli_fail("sweep", rc);
    if ((rc = cli_parse(&spec, argc, argv, on_option, &a)) >= 0) {
        cli_sets_clear(&a.sets);
        return rc;
    }
    rc = ACDC_UTIL_OK;
    if (cfg->all_log && cfg->all_lin)
        rc = acdc_util_error(ACDC_UTIL_EUSAGE, "--log and --lin exclude each other");
    if (!rc && a.resume && a.restart)
        rc = acdc_util_error(ACDC_UTIL_EUSAGE, "--resume and --restart exclude each other");
    if (rc) {
        cli_sets_clear(&a.sets);
        return cli_fail("sweep", rc);
    }
    if (argc - optind != 2 || !cfg->out || !cfg->n_params) {
        cli_sets_clear(&a.sets);
        if (!cfg->out)
            return cli_usage_error("sweep", "no output file: give -o SWEEP.h5");
        if (!cfg->n_params)
            return cli_usage_error("sweep", "nothing to vary: give --vary NAME=FROM:TO");
        return cli_usage_error("sweep", "expected SYSTEM.h5 and DATA.h5, got %d arguments",
                               argc - optind);
    }
    cfg->system_path = argv[optind];
    cfg->data_path = argv[optind + 1];
    cfg->sets = a.sets.v;
    cfg->nsets = a.sets.n;

    acdc_sim_sweep *w = NULL;
    acdc_util_signal_saved sig = {0};
    const char *hook = getenv("ACDC_SWEEP_INTERRUPT_AFTER");
    struct report rep = {.quiet = a.quiet,
                         .interrupt_after = hook && *hook ? strtol(hook, NULL, 10) : -1};
    int resumed = 0, rank = 0;
    if (!(rc = acdc_sim_mpi_init()) && (rank = acdc_sim_mpi_rank()) > 0)
        a.quiet = 1;
    /* rank 0 alone claims and opens the file; every rank reads the inputs */
    if (!rc && !rank)
        rc = acdc_util_output_claim((const char *const *)argv + optind, 2, &cfg->out, 1);
    if (!rc)
        rc = acdc_sim_sweep_alloc(&w, cfg);
    if (!rc)
        rc = acdc_sim_sweep_open(w, a.restart  ? ACDC_SIM_SWEEP_RESTART
                                  : a.resume ? ACDC_SIM_SWEEP_RESUME
                                             : ACDC_SIM_SWEEP_CONTINUE, &resumed);
    if ((rc = acdc_sim_mpi_agree(rc)))
        goto out;
    size_t todo = w->points - acdc_sim_sweep_done(w);
    if (resumed)
        printf("resuming '%s': %zu of %zu points already done\n", cfg->out,
               acdc_sim_sweep_done(w), w->points);
    if ((rc = acdc_util_signal_catch(&sig)))
        goto out;
    if (!rank && (rc = acdc_util_progress_alloc(&rep.bar, "sweep", todo, "pt"))) {
        acdc_util_signal_restore(&sig);
        goto out;
    }
    if (!a.quiet && todo)
        printf("%zu point%s x %zu trial%s x %zu rows\n", todo, todo == 1 ? "" : "s",
               cfg->trials, cfg->trials == 1 ? "" : "s", w->rows);
    rc = acdc_sim_sweep_run(w, acdc_util_signal_flag(), report, &rep);
    acdc_util_progress_free(rep.bar);
    acdc_util_signal_restore(&sig);
    if (!rc && !rank)
        printf("wrote '%s': %zu point%s, %zu trial%s each\n", cfg->out, w->points,
               w->points == 1 ? "" : "s", cfg->trials, cfg->trials == 1 ? "" : "s");
out:
    acdc_sim_sweep_free(w);
    cli_sets_clear(&a.sets);
    return cli_end("sweep", rc);
}
