/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cli/cli.h -- the `acdc` command: one table of subcommands, one file each (cmd_*.c).
 *
 * Exit codes (documented in README.md):
 *   0  success
 *   1  runtime or data error (a file that cannot be read or is malformed, a failed write)
 *   2  usage error (unknown command or option, bad option value)
 *   3  interrupted (SIGINT/SIGTERM); the last good output file is intact
 */
#ifndef CLI_CLI_H
#define CLI_CLI_H

#include <stdio.h>

#include "cli/options.h"
#include "sim/run.h"

enum { EXIT_OK = 0, EXIT_DATA = 1, EXIT_USAGE = 2, EXIT_INTERRUPTED = 3 };

struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv);   /* argv[0] is the subcommand's name */
    const char *summary;
};

/* Prints "acdc CMD: error: MESSAGE" for the last acdc_util_error() and returns the exit code
 * matching the status (usage → 2, interrupted → 3, anything else → 1). */
int cli_fail(const char *cmd, int status);
/* Prints "acdc CMD: error: ..." and a hint to run --help; returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Flushes stdout and returns EXIT_DATA if writing it failed (e.g. a full disk). */
int cli_finish(const char *cmd);
/* A command's end that also runs as an MPI rank: cli_finish() for status 0, else
 * cli_fail()'s exit code, with the message printed only by the rank where the failure
 * happened (acdc_sim_mpi_foreign(), sim/mpi.h); the others exit with the code alone. */
int cli_end(const char *cmd, int status);

/* Profile assignments collected from the command line ("fourier.phase_bits=6"): v[0..n)
 * point into argv or into owned[] (assignments that shortcut options build). */
typedef struct cli_sets {
    char **v;
    char (*owned)[64];
    size_t n;
} cli_sets;
/* Initialises the caller's *s with room for the assignments of argc arguments.  Errors:
 * ACDC_UTIL_ENOMEM, with *s left empty.  cli_sets_clear() frees what *s holds and empties it
 * (it may be called again, and on an empty set). */
int cli_sets_init(cli_sets *s, int argc);
void cli_sets_clear(cli_sets *s);

/* The options `acdc simulate` and `acdc sweep` share: the rows of cli_sim_options, for
 * CLI_OPT_INCLUDE(cli_sim_options) in both tables (their help text lives there), and
 * their keys, above every character so that no command's own key can collide. */
enum {
    CLI_SIM_PROPAGATION = 0x100, CLI_SIM_NO_NOISE, CLI_SIM_PHOTONS, CLI_SIM_PHASE_ERROR,
    CLI_SIM_PHASE_BITS, CLI_SIM_AMPLITUDE_BITS, CLI_SIM_MISALIGN_X, CLI_SIM_OVERSAMPLE,
    CLI_SIM_FILL, CLI_SIM_SET, CLI_SIM_SEED, CLI_SIM_THREADS, CLI_SIM_LENS,
    CLI_SIM_PERTURB, CLI_SIM_PERTURB_CHAIN
};
extern const cli_option cli_sim_options[];
/* Applies the shared option with key to *o or *sets.  Returns 1 and sets *rc (ACDC_UTIL_OK or
 * a usage status with its message) if key is one of them, else 0. */
int cli_sim_option(int key, const char *arg, acdc_sim_options *o, cli_sets *sets, int *rc);

int cmd_compile(int argc, char **argv);
int cmd_infer(int argc, char **argv);
int cmd_simulate(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_tolerance(int argc, char **argv);

#endif
