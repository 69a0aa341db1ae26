/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cli/main.c -- `acdc`: dispatch to the subcommand table. */
#include "cli/cli.h"
#include "sim/mpi.h"
#include "util/error.h"
#include "util/mem.h"
#include "util/output.h"
#include "util/signal.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Sorted by name; `acdc --help` lists them in this order. */
static const struct cli_command commands[] = {
    {"compile", cmd_compile, "compile a model into an optical system for a device profile"},
    {"eval", cmd_eval, "loss, accuracy and confusion matrix of a model on labelled data"},
    {"export", cmd_export, "write SLM images, DOE layouts, camera map and a build sheet"},
    {"infer", cmd_infer, "run the numeric ACDC model on a data file"},
    {"init", cmd_init, "write a new ACDC cascade (identity or near-identity)"},
    {"inspect", cmd_inspect, "summarise any HDF5 file this project writes"},
    {"plot", cmd_plot, "plot a sweep or a simulation result with gnuplot (PNG or SVG)"},
    {"simulate", cmd_simulate, "send data through a compiled optical system, measure fidelity"},
    {"sweep", cmd_sweep, "Monte Carlo fidelity over one or two imperfections (resumable)"},
    {"tolerance", cmd_tolerance, "how far each perturbation of a built system may go (resumable)"},
    {"train", cmd_train, "train an ACDC cascade (operator fit or classifier)"},
};

/* OpenMP threads that wait, spinning.  An idle libgomp thread spins 300,000 rounds
 * before it sleeps (its default while OMP_WAIT_POLICY is unset), and libgomp reads its
 * settings before main() runs.  On a core another job also uses, the spinning thread
 * takes the time the working one needs: on the 2-core machine with a busy loop holding
 * one core, `acdc train` at 2 threads ran 3,651-4,009 examples/s against 15,725-16,325
 * at 1 thread; with GOMP_SPINCOUNT=3000, 14,374-14,392, and 0-3% slower than the
 * default on the quiet machine (README, "Benchmarks").  So unless the user has chosen
 * (OMP_WAIT_POLICY or GOMP_SPINCOUNT set), acdc sets GOMP_SPINCOUNT and executes itself
 * again, once, for libgomp to read it; where that fails (no /proc), and under valgrind,
 * it runs on with libgomp's default. */
#define SPINCOUNT "3000"

static void spin_less(char **argv)
{
    /* under valgrind (its preloaded library in LD_PRELOAD) a new program would run
     * unchecked, outside valgrind: stay */
    const char *pre = getenv("LD_PRELOAD");
    char self[4096];
    if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT") || (pre && strstr(pre, "vgpreload")))
        return;
    const ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0 || (size_t)len >= sizeof self - 1)
        return;
    self[len] = '\0';
    if (setenv("GOMP_SPINCOUNT", SPINCOUNT, 0))
        return;
    execv(self, argv);
    unsetenv("GOMP_SPINCOUNT");   /* the exec failed: libgomp runs with its default */
}

static void usage(FILE *f)
{
    fprintf(f, "usage: acdc [--help] [--version] [--force-memory] COMMAND [ARGS]\n\n"
               "Compile ACDC neural-network layers into optical 4f systems and simulate "
               "the light.\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n'acdc COMMAND --help' (or 'acdc help COMMAND') describes one command.\n"
               "exit codes: 0 success, 1 data or runtime error (also: another acdc is "
               "writing the\noutput), 2 usage error (also: an output is one of the "
               "inputs), 3 interrupted\n(SIGINT/SIGTERM: each output is its old file or "
               "the complete new one)\n"
               "--force-memory: run even where the memory estimate exceeds what is "
               "available\n"
               "environment: OpenMP's waiting threads spin GOMP_SPINCOUNT=" SPINCOUNT
               " rounds unless\nOMP_WAIT_POLICY or GOMP_SPINCOUNT is set; FFTW's system "
               "wisdom (/etc/fftw, 'make\nwisdom') plans the DCTs where it holds them\n");
}

/* The exit code of a failed status. */
static int exit_code(int status)
{
    if (status == ACDC_UTIL_EUSAGE)
        return EXIT_USAGE;
    if (status == ACDC_UTIL_EINTR)
        return EXIT_INTERRUPTED;
    return EXIT_DATA;
}

int cli_fail(const char *cmd, int status)
{
    fprintf(stderr, "acdc %s: error: %s\n", cmd, acdc_util_errmsg());
    return exit_code(status);
}

int cli_end(const char *cmd, int status)
{
    if (!status)
        return cli_finish(cmd);
    if (!acdc_sim_mpi_foreign())
        return cli_fail(cmd, status);
    return exit_code(status);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "acdc %s: error: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see 'acdc %s --help')\n", cmd);
    return EXIT_USAGE;
}

int cli_finish(const char *cmd)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "acdc %s: error: cannot write to standard output\n", cmd);
        return EXIT_DATA;
    }
    return EXIT_OK;
}

/* Runs one command under the rules every command shares: one handler for SIGINT and
 * SIGTERM for its whole life (util/signal.h), and only files declared to
 * acdc_util_output_claim() written (util/output.h).  A signal the command caught while it
 * polled makes the exit code 3 even if it went on to finish: it was interrupted. */
static int run(const struct cli_command *cmd, int argc, char **argv)
{
    int rc = acdc_util_signal_install(cmd->name);
    if (rc)
        return cli_fail(cmd->name, rc);
    acdc_util_output_strict(1);
    rc = cmd->run(argc, argv);
    const int sig = acdc_util_signal_caught();
    if (sig && rc != EXIT_INTERRUPTED) {
        fprintf(stderr, "acdc %s: error: interrupted by %s\n", cmd->name,
                sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal");
        rc = EXIT_INTERRUPTED;
    }
    return rc;
}

int main(int argc, char **argv)
{
    spin_less(argv);
    /* --force-memory, anywhere: skip the memory estimates (util/mem.h). */
    int k = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--force-memory"))
            acdc_util_mem_set_force(1);
        else
            argv[k++] = argv[i];
    }
    argc = k;
    argv[argc] = NULL;
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *c = argv[1];
    /* 'acdc help CMD' is 'acdc CMD --help' */
    if (!strcmp(c, "help") && argc == 3) {
        for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
            if (!strcmp(argv[2], commands[i].name)) {
                char help[] = "--help";
                char *args[] = {argv[2], help, NULL};
                return commands[i].run(2, args);
            }
        fprintf(stderr, "acdc help: error: '%s' is not a command (see 'acdc --help')\n",
                argv[2]);
        return EXIT_USAGE;
    }
    if (!strcmp(c, "--help") || !strcmp(c, "-h") || (!strcmp(c, "help") && argc == 2)) {
        usage(stdout);
        return cli_finish("help");
    }
    if (!strcmp(c, "help")) {
        fprintf(stderr, "acdc help: error: expected one command, e.g. 'acdc help compile'\n");
        return EXIT_USAGE;
    }
    if (!strcmp(c, "--version")) {
        printf("acdc %s (MPI: %s)\n", ACDC_VERSION,
               acdc_sim_mpi_library() ? acdc_sim_mpi_library() : "no");
        return cli_finish("version");
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (!strcmp(c, commands[i].name))
            return run(&commands[i], argc - 1, argv + 1);
    fprintf(stderr, "acdc: error: '%s' is not a command (see 'acdc --help')\n", c);
    return EXIT_USAGE;
}
