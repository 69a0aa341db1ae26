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

enum { EXIT_OK = 0, EXIT_DATA = 1, EXIT_USAGE = 2, EXIT_INTERRUPTED = 3 };

struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv);   /* argv[0] is the subcommand's name */
    const char *summary;
};

/* Prints "acdc CMD: error: MESSAGE" for the last util_error() and returns the exit code
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

int cmd_compile(int argc, char **argv);
int cmd_infer(int argc, char **argv);
int cmd_simulate(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);

#endif
