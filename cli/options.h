/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cli/options.h -- a command's options as one table (after git's parse-options).
 *
 * A row per option names it (long name, short letter), names its value for the help and
 * says what it does; the getopt tables, the `--help` text and the key the command
 * switches on are all made from that row, so an option and its help cannot drift apart.
 *
 *     static const cli_option options[] = {
 *         CLI_OPT('o', "output", "FILE", 'o', "result file to write (HDF5)"),
 *         CLI_OPT(0, "threads", "T", 't', "threads (default 1)"),
 *         CLI_OPT_INCLUDE(cli_sim_options),
 *         CLI_OPT_END};
 *     static const cli_spec spec = {"infer", "MODEL.h5 DATA.h5 -o OUT.h5 [options]",
 *                                   "Run the numeric cascade ...", options, NULL};
 *     int rc = cli_parse(&spec, argc, argv, on_option, &args);
 *     if (rc >= 0)
 *         return rc;            // --help, or an option refused: already reported
 *     // argv[optind .. argc) are the operands
 *
 * -h/--help is added to every table (its row is printed last) and must not be in it.
 */
#ifndef CLI_OPTIONS_H
#define CLI_OPTIONS_H

#include <stddef.h>
#include <stdio.h>

/* One row of an option table.  A table ends with CLI_OPT_END. */
typedef struct cli_option {
    int letter;                       /* short option letter, or 0 for none */
    const char *name;                 /* long name without "--"; NULL: group, include */
    const char *value;                /* the value's name in the help ("FILE"), or NULL */
    int key;                          /* what on_option receives for this option */
    const char *help;                 /* prose, wrapped to fit ('\n' breaks a line); for a
                                         group, its heading as printed */
    const struct cli_option *include; /* CLI_OPT_INCLUDE: the rows of a shared table */
} cli_option;

/* An option: CLI_OPT('o', "output", "FILE", 'o', "file to write"); value NULL: a flag. */
#define CLI_OPT(letter, name, value, key, help) {letter, name, value, key, help, NULL}
/* A heading printed as written among the rows ("model:"); a table whose first row is a
 * group is printed without the "options:" heading. */
#define CLI_OPT_GROUP(heading) {0, NULL, NULL, 0, heading, NULL}
/* Every row of another table, in its place (options shared by several commands). */
#define CLI_OPT_INCLUDE(table) {0, NULL, NULL, 0, NULL, table}
#define CLI_OPT_END {0, NULL, NULL, 0, NULL, NULL}

/* Most rows a command's table may hold, includes expanded (a programmer error if more). */
#define CLI_OPTIONS_MAX 96

/* A command's help and options. */
typedef struct cli_spec {
    const char *name;          /* "infer": "usage: acdc infer", "acdc infer: error: " */
    const char *usage;         /* what follows "usage: acdc NAME "; '\n' continues it */
    const char *description;   /* printed as written between blank lines; NULL: none */
    const cli_option *options; /* the table */
    const char *epilogue;      /* printed as written after the options, or NULL */
} cli_spec;

/* Called once per option in command-line order with the option's key and its value
 * (NULL for a flag).  Returns ACDC_UTIL_OK or a status whose message it recorded through
 * acdc_util_error(); a non-zero status stops the parse.  A check that wants the usage error's
 * "(see 'acdc CMD --help')" can keep the value and make it after cli_parse(). */
typedef int (*cli_on_option)(void *ctx, int key, const char *arg);

/* Prints the help of spec to f: "usage: acdc NAME USAGE", a blank line, the description
 * and a blank line, "options:" and a row per option -- "  -o, --output FILE   text",
 * the texts aligned in one column, wrapped at 84 columns and indented to it -- ending
 * with "-h, --help", then a blank line and the epilogue if there is one. */
void cli_help(const cli_spec *spec, FILE *f);

/* Parses the options of argv[0 .. argc) (argv[0] is the command's name) with getopt_long,
 * calling on_option(ctx, key, value) for each (on_option may be NULL for an empty
 * table).  -h/--help prints cli_help() to stdout and returns cli_finish(); an unknown
 * option or one without its value prints a usage error and returns EXIT_USAGE; a
 * non-zero status from on_option returns cli_fail(name, status).  Returns -1 when the
 * command should go on, with optind at the first operand (getopt_long moves the operands
 * behind the options, so they may be mixed); otherwise the exit code to return, its
 * message already printed. */
int cli_parse(const cli_spec *spec, int argc, char **argv, cli_on_option on_option,
              void *ctx);

/* The rows of table with its includes expanded, in help order, into rows[0 .. max);
 * returns how many there are (groups included, the end and the --help row not).  For
 * callers that walk a table, e.g. tests checking every option is listed. */
size_t cli_option_rows(const cli_option *table, const cli_option **rows, size_t max);

#endif
