/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cli/cmd_tolerance.c -- `acdc tolerance`: how far each perturbation of a built system
 * may go before it costs a budget of accuracy (or of relative error).
 *
 * Parses the options and runs the tolerance engine (sim/tolerance.h: the search, the
 * file rewritten atomically after every perturbation, resume, the tornado chart).  The
 * exit code follows the engine's status: 3 when a signal stopped it (ACDC_UTIL_EINTR).
 *
 * Under mpirun (a build with MPI=1, sim/mpi.h) every rank runs this: rank 0 claims and
 * writes the file, prints and plots; the others search perturbations and print only a
 * failure of their own.
 */
#include "cli/cli.h"
#include "compiler/compile.h"
#include "sim/mpi.h"
#include "sim/tolerance.h"
#include "util/error.h"
#include "util/output.h"
#include "util/gnuplot.h"
#include "util/parse.h"
#include "util/progress.h"
#include "util/signal.h"

#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_OUTPUT = 'o', OPT_ONLY = 'n', OPT_BUDGET = 'b', OPT_BUDGET_REL = 'e',
       OPT_TRIALS = 't', OPT_ROWS = 'r', OPT_BATCH = 'B', OPT_REL_TOL = 'T',
       OPT_MAX_STEPS = 'm', OPT_PLOT = 'p', OPT_TITLE = 'i', OPT_RESUME = 'R',
       OPT_RESTART = 'X', OPT_QUIET = 'q' };

/* Evaluations a search takes, about: what the progress bar's ETA counts with. */
enum { EVALS_PER_SEARCH = 10 };

static const cli_option options[] = {
    CLI_OPT('o', "output", "FILE", OPT_OUTPUT, "tolerance file (HDF5, format acdc-tolerance)"),
    CLI_OPT(0, "only", "NAME[,NAME]", OPT_ONLY,
            "search these perturbations only (default: every one)"),
    CLI_OPT(0, "budget", "P", OPT_BUDGET,
            "accuracy points the tolerance may cost (default 1: the optical accuracy 0.01 "
            "below the unperturbed one, on the same rows and seeds); needs labels"),
    CLI_OPT(0, "budget-rel-rms", "X", OPT_BUDGET_REL,
            "instead: the growth of the end-to-end relative RMS error the tolerance may "
            "cost (0.05: from 0.10 to 0.15); for data without labels"),
    CLI_OPT(0, "trials", "T", OPT_TRIALS,
            "Monte Carlo trials per value, seeds S, S+1, ... for every value alike "
            "(default 3; 2 or more give the uncertainty)"),
    CLI_OPT(0, "rows", "N", OPT_ROWS, "use the first N rows of DATA.h5 only (default: all)"),
    CLI_OPT(0, "rel-tol", "R", OPT_REL_TOL,
            "relative width of the root solver's final bracket (default 0.03)"),
    CLI_OPT(0, "max-steps", "K", OPT_MAX_STEPS,
            "x4 steps from the perturbation's typical size each way before giving up "
            "(default 6: up to 4096 times it, within its range)"),
    CLI_OPT(0, "plot", "FIG", OPT_PLOT,
            "also draw the tornado chart, FIG.png, FIG.svg or FIG.pdf (gnuplot)"),
    CLI_OPT(0, "title", "T", OPT_TITLE, "the chart's first title line"),
    CLI_OPT(0, "resume", NULL, OPT_RESUME,
            "demand an existing analysis to continue (else: exit 1)"),
    CLI_OPT(0, "restart", NULL, OPT_RESTART,
            "discard an existing tolerance file and start over"),
    CLI_OPT('q', "quiet", NULL, OPT_QUIET, "no table on stdout"),
    CLI_OPT(0, "batch", "B", OPT_BATCH, "rows per optical pass (default 64)"),
    CLI_OPT_GROUP("  simulate's options, fixed for the whole analysis:"),
    CLI_OPT_INCLUDE(cli_sim_options),
    CLI_OPT_END};

/* The description, its list of perturbations made from the table (sim/perturb.h) when
 * the command runs, so that a new perturbation is listed with its unit and scale. */
static const char intro[] =
    "For every perturbation of the built system, the value at which it costs the budget:\n"
    "one point of optical accuracy by default (cost = unperturbed metric - perturbed\n"
    "metric, each trial against the unperturbed trial of the same seed, so most of the\n"
    "noise cancels).  From the perturbation's typical size the value grows (or shrinks)\n"
    "x4 a step until the budget is bracketed, then Brent's method (GSL) narrows it to\n"
    "--rel-tol.  Its +- is the trials' standard error of the cost over the cost's slope\n"
    "there (across the narrowest bracket whose ends the noise does not blur); a search\n"
    "the noise blurs throughout is marked noise-limited: more --rows or --trials.\n"
    "Signed perturbations are searched on their positive side; one whose smaller values\n"
    "are the worse (the waist) from large to small.  A perturbation whose cost stays\n"
    "below the budget is reported as '> the farthest value tried' ('<' for the waist),\n"
    "one the simulation cannot apply to this system as 'n/a' with the reason.  --perturb\n"
    "values of perturbations not searched stay fixed throughout (the baseline too).\n"
    "\n"
    "What is perturbed is the built system: the masks, the detection design and the\n"
    "calibration stay as compiled, the bench drifts after calibration.  Profile changes\n"
    "(--set, --phase-bits, --amplitude-bits, --fill) instead recompile the system once,\n"
    "before the analysis: its tolerances are those of the system they give.\n"
    "\n"
    "perturbations (their unit, and the typical size a search starts from):\n";
static const char outro[] =
    "\n"
    "The file is rewritten atomically after each perturbation; run the same command\n"
    "again after an interruption and it continues.  Under mpirun, the program built with\n"
    "'make MPI=1' shares the perturbations' searches over the ranks; rank 0 writes the\n"
    "file, the same as one process writes.  --plot draws one bar per\n"
    "perturbation: its tolerance over its typical size on a log axis (below 1, a\n"
    "typical lab error already costs more than the budget).";
static char description[8192];

static cli_spec spec = {
    "tolerance", "SYSTEM.h5 DATA.h5 -o TOL.h5 [--only NAME,...] [--budget P | "
                 "--budget-rel-rms X] [options]",
    description, options,
    "exit codes: 0 done, 1 data or I/O error (also: -o holds an analysis with other\n"
    "settings, another acdc writing it, gnuplot missing or failing), 2 usage error\n"
    "(also: -o or --plot names an input), 3 interrupted (the file holds\n"
    "every perturbation finished before the signal)"};

/* Appends "  NAME  help; in UNIT, from SCALE" for every perturbation, wrapped at 84
 * columns with the text indented to column 21. */
static void describe(void)
{
    enum { INDENT = 21, WIDTH = 84 };
    size_t len = (size_t)snprintf(description, sizeof description, "%s", intro);
    for (int i = 0; i < ACDC_SIM_PERTURB_COUNT && len < sizeof description; i++) {
        const acdc_sim_perturb_info *p = &acdc_sim_perturb_table()[i];
        char text[400], scale[64];
        acdc_sim_tolerance_format(i, p->scale, NAN, scale, sizeof scale);
        for (char *c = scale; *c; c++)
            if (*c == ' ')
                *c = '\x1f';   /* kept on one line below */
        snprintf(text, sizeof text, "%s; %s%s, from %s", p->help, *p->unit ? "in " : "a ",
                 *p->unit ? p->unit : "ratio", scale);
        int col = snprintf(description + len, sizeof description - len, "  %-*s",
                           INDENT - 3, p->name);
        len += (size_t)col;
        if (col > INDENT - 1) {
            len += (size_t)snprintf(description + len, sizeof description - len, "\n%*s",
                                    INDENT - 1, "");
            col = INDENT - 1;
        }
        for (char *save = NULL, *w = strtok_r(text, " ", &save); w && len < sizeof description;
             w = strtok_r(NULL, " ", &save)) {
            const int k = (int)strlen(w);
            if (col > INDENT - 1 && col + 1 + k > WIDTH) {
                len += (size_t)snprintf(description + len, sizeof description - len, "\n%*s",
                                        INDENT - 1, "");
                col = INDENT - 1;
            }
            len += (size_t)snprintf(description + len, sizeof description - len, " %s", w);
            for (char *c = description + len - (size_t)k; *c; c++)
                if (*c == '\x1f')
                    *c = ' ';
            col += 1 + k;
        }
        if (len < sizeof description)
            len += (size_t)snprintf(description + len, sizeof description - len, "\n");
    }
    if (len < sizeof description)
        snprintf(description + len, sizeof description - len, "%s", outro);
}

struct args {
    acdc_sim_tolerance_config cfg;
    cli_sets sets;
    double budget_points, budget_rel;
    const char *plot, *title;
    int resume, restart, quiet;
};

static int parse_only(const char *arg, int only[ACDC_SIM_PERTURB_COUNT])
{
    char buf[512];
    if (strlen(arg) >= sizeof buf)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "--only: too long");
    strcpy(buf, arg);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        int id = acdc_sim_perturb_find(tok);
        if (id < 0)
            return acdc_util_error(ACDC_UTIL_EUSAGE,
                                   "--only: unknown perturbation '%s' (known: %s)",
                                   tok, acdc_sim_perturb_names());
        only[id] = 1;
    }
    for (int i = 0; i < ACDC_SIM_PERTURB_COUNT; i++)
        if (only[i])
            return ACDC_UTIL_OK;
    return acdc_util_error(ACDC_UTIL_EUSAGE, "--only: '%s' names no perturbation", arg);
}

static int on_option(void *ctx, int key, const char *arg)
{
    struct args *a = ctx;
    acdc_sim_tolerance_config *cfg = &a->cfg;
    int64_t iv;
    int rc;
    if (cli_sim_option(key, arg, &cfg->options, &a->sets, &rc))
        return rc;
    rc = ACDC_UTIL_OK;
    switch (key) {
    case OPT_OUTPUT: cfg->out = arg; break;
    case OPT_ONLY: rc = parse_only(arg, cfg->only); break;
    case OPT_BUDGET: rc = acdc_util_parse_double(arg, "--budget", 1e-6, 100,
                                                 &a->budget_points); break;
    case OPT_BUDGET_REL:
        rc = acdc_util_parse_double(arg, "--budget-rel-rms", 1e-12, 1e3, &a->budget_rel);
        break;
    case OPT_TRIALS:
        if (!(rc = acdc_util_parse_int(arg, "--trials", 1, 100000, &iv)))
            cfg->trials = (size_t)iv;
        break;
    case OPT_ROWS:
        if (!(rc = acdc_util_parse_int(arg, "--rows", 1, INT64_MAX / 2, &iv)))
            cfg->rows = (size_t)iv;
        break;
    case OPT_BATCH:
        if (!(rc = acdc_util_parse_int(arg, "--batch", 1, 1 << 16, &iv)))
            cfg->batch = (size_t)iv;
        break;
    case OPT_REL_TOL: rc = acdc_util_parse_double(arg, "--rel-tol", 1e-6, 0.5,
                                                  &cfg->rel_tol); break;
    case OPT_MAX_STEPS:
        if (!(rc = acdc_util_parse_int(arg, "--max-steps", 1, 30, &iv)))
            cfg->max_steps = (int)iv;
        break;
    case OPT_PLOT: a->plot = arg; break;
    case OPT_TITLE: a->title = arg; break;
    case OPT_RESUME: a->resume = 1; break;
    case OPT_RESTART: a->restart = 1; break;
    case OPT_QUIET: a->quiet = 1; break;
    }
    return rc;
}

/* What the reports need. */
struct report {
    acdc_util_progress *bar;
    int quiet, headed;
    size_t finished, todo;
    long interrupt_after, ran;   /* the test hook below; -1: off */
};

/* The lines above the table, once the baseline is known. */
static void header(struct report *r, const acdc_sim_tolerance *t)
{
    if (r->headed || r->quiet || !t->baseline)
        return;
    r->headed = 1;
    acdc_util_progress_finish(r->bar);
    acdc_sim_tolerance_print_head(t, stdout);
    fflush(stdout);
}

static void row(const acdc_sim_tolerance *t, int id, const char *mark)
{
    char line[600];
    acdc_sim_tolerance_row(t, id, line, sizeof line);
    printf("%s%s%s\n", line, *mark && !*t->item[id].note ? "  " : "", mark);
    fflush(stdout);
}

static void report(const acdc_sim_tolerance *t, int id, int done, void *ctx)
{
    struct report *r = ctx;
    header(r, t);
    if (id < 0)
        return;
    const acdc_sim_tolerance_item *it = &t->item[id];
    if (!done) {
        size_t e = it->n_points < EVALS_PER_SEARCH ? it->n_points : EVALS_PER_SEARCH - 1;
        acdc_util_progress_update(r->bar, r->finished * EVALS_PER_SEARCH + e, "%s: %zu evaluations",
                                  acdc_sim_perturb_table()[id].name, it->n_points);
        return;
    }
    r->finished++;
    acdc_util_progress_update(r->bar, r->finished * EVALS_PER_SEARCH, "%s done",
                              acdc_sim_perturb_table()[id].name);
    if (!r->quiet) {
        acdc_util_progress_finish(r->bar);
        row(t, id, "");
    }
    /* Test hook: ACDC_TOLERANCE_INTERRUPT_AFTER=k sends this process SIGINT after k
     * perturbations, exercising the same path as Ctrl-C at a deterministic moment. */
    if (r->interrupt_after >= 0 && ++r->ran == r->interrupt_after)
        raise(SIGINT);
}

/* The checks that need no file: exit code, or -1 to go on. */
static int check_args(struct args *a, int argc)
{
    acdc_sim_tolerance_config *cfg = &a->cfg;
    if (a->resume && a->restart)
        return cli_usage_error("tolerance", "--resume and --restart exclude each other");
    if (a->budget_points > 0 && a->budget_rel > 0)
        return cli_usage_error("tolerance", "--budget and --budget-rel-rms exclude each other");
    if (!cfg->out)
        return cli_usage_error("tolerance", "no output file: give -o TOL.h5");
    if (argc - optind != 2)
        return cli_usage_error("tolerance", "expected SYSTEM.h5 and DATA.h5, got %d arguments",
                               argc - optind);
    if (a->plot) {
        if (acdc_util_gnuplot_format(a->plot) < 0)
            return cli_usage_error("tolerance", "--plot '%s': the figure must end in .png, "
                                   ".svg or .pdf", a->plot);
        if (acdc_util_gnuplot_unsafe(a->plot))
            return cli_usage_error("tolerance", "--plot: the name contains control characters");
    }
    if (a->title && acdc_util_gnuplot_unsafe(a->title))
        return cli_usage_error("tolerance", "--title contains control characters");
    if (a->budget_rel > 0) {
        cfg->metric = ACDC_SIM_METRIC_REL_RMS;
        cfg->budget = a->budget_rel;
    } else {
        cfg->metric = ACDC_SIM_METRIC_ACC_OPTICAL;
        cfg->budget = (a->budget_points > 0 ? a->budget_points : 1) / 100;
    }
    return -1;
}

int cmd_tolerance(int argc, char **argv)
{
    struct args a = {.cfg = {.trials = 3, .batch = 64, .rel_tol = 0.03, .max_steps = 6,
                             .options = acdc_sim_options_default(),
                                 .compile = acdc_compiler_compile}};
    acdc_sim_tolerance_config *cfg = &a.cfg;
    describe();
    int rc = cli_sets_init(&a.sets, argc);
    if (rc)
        return cli_fail("tolerance", rc);
    if ((rc = cli_parse(&spec, argc, argv, on_option, &a)) >= 0 ||
        (rc = check_args(&a, argc)) >= 0) {
        cli_sets_clear(&a.sets);
        return rc;
    }
    cfg->system_path = argv[optind];
    cfg->data_path = argv[optind + 1];
    cfg->sets = a.sets.v;
    cfg->nsets = a.sets.n;

    acdc_sim_tolerance *t = NULL;
    acdc_util_signal_saved sig = {0};
    const char *hook = getenv("ACDC_TOLERANCE_INTERRUPT_AFTER");
    struct report rep = {.quiet = a.quiet,
                         .interrupt_after = hook && *hook ? strtol(hook, NULL, 10) : -1};
    int resumed = 0, rank = 0;
    const char *outs[] = {cfg->out, a.plot};
    if (!(rc = acdc_sim_mpi_init()) && (rank = acdc_sim_mpi_rank()) > 0) {
        rep.quiet = a.quiet = 1;
        a.plot = NULL;
    }
    /* rank 0 alone claims and opens the file; every rank reads the inputs */
    if (!rc && !rank)
        rc = acdc_util_output_claim((const char *const *)argv + optind, 2, outs, 2);
    if (!rc)
        rc = acdc_sim_tolerance_alloc(&t, cfg);
    if (!rc)
        rc = acdc_sim_tolerance_open(t, a.restart  ? ACDC_SIM_TOL_RESTART
                                      : a.resume ? ACDC_SIM_TOL_RESUME
                                                 : ACDC_SIM_TOL_CONTINUE, &resumed);
    if ((rc = acdc_sim_mpi_agree(rc)))
        goto out;
    size_t selected = 0;
    for (int id = 0; id < ACDC_SIM_PERTURB_COUNT; id++)
        selected += t->selected[id] != 0;
    rep.todo = selected - acdc_sim_tolerance_done(t);
    if (resumed && !a.quiet)
        printf("resuming '%s': %zu of %zu perturbations already done\n", cfg->out,
               acdc_sim_tolerance_done(t), selected);
    header(&rep, t);
    if (!a.quiet)
        for (int id = 0; id < ACDC_SIM_PERTURB_COUNT; id++)
            if (t->selected[id] && t->item[id].status != ACDC_SIM_TOL_PENDING)
                row(t, id, "  (from the file)");
    if ((rc = acdc_util_signal_catch(&sig)))
        goto out;
    if (!rank &&
        (rc = acdc_util_progress_alloc(&rep.bar, "tolerance", rep.todo * EVALS_PER_SEARCH, "ev"))) {
        acdc_util_signal_restore(&sig);
        goto out;
    }
    rc = acdc_sim_tolerance_run(t, acdc_util_signal_flag(), report, &rep);
    acdc_util_progress_free(rep.bar);
    if (!rc && a.plot)
        rc = acdc_sim_tolerance_plot(t, cfg->out, a.plot, a.title, acdc_util_signal_flag());
    acdc_util_signal_restore(&sig);
    if (!rc && !rank) {
        printf("wrote '%s': %zu perturbation%s, %zu trial%s each\n", cfg->out, selected,
               selected == 1 ? "" : "s", cfg->trials, cfg->trials == 1 ? "" : "s");
        if (a.plot)
            printf("wrote '%s'\n", a.plot);
    }
out:
    acdc_sim_tolerance_free(t);
    cli_sets_clear(&a.sets);
    return cli_end("tolerance", rc);
}
