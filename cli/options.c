/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cli/options.c -- getopt tables and help text made from one option table. */
#include "cli/options.h"
#include "cli/cli.h"

#include <assert.h>
#include <getopt.h>
#include <string.h>

enum {
    HELP_WIDTH = 84,    /* wrap the option texts here, as the commands wrap their prose */
    LABEL_MAX = 24,     /* a longer label ("    --vary NAME=...") puts its text below it */
    LABEL_GAP = 3,      /* spaces between the longest label and the texts */
    LONG_BASE = 0x1000  /* getopt_long returns LONG_BASE + row for a long option */
};

static size_t flatten(const cli_option *t, const cli_option **rows, size_t n, size_t max,
                      int depth)
{
    assert(depth < 8 && "cli_option tables include each other in a loop");
    for (; t->name || t->help || t->include; t++) {
        if (t->include) {
            n = flatten(t->include, rows, n, max, depth + 1);
            continue;
        }
        assert(n < max && "more rows than CLI_OPTIONS_MAX");
        if (n < max)
            rows[n] = t;
        n++;
    }
    return n;
}

size_t cli_option_rows(const cli_option *table, const cli_option **rows, size_t max)
{
    size_t n = flatten(table, rows, 0, max, 0);
    return n < max ? n : max;
}

/* "-o, --output FILE" or "    --threads T" into buf; returns its length. */
static size_t label(const cli_option *o, char *buf, size_t size)
{
    if (o->letter)
        snprintf(buf, size, "-%c, --%s", o->letter, o->name);
    else
        snprintf(buf, size, "    --%s", o->name);
    size_t len = strlen(buf);
    if (o->value)
        snprintf(buf + len, size - len, " %s", o->value);
    return strlen(buf);
}

/* Prints text from column col to HELP_WIDTH, breaking at spaces and at '\n' (the
 * spacing between words kept where it does not break); the first line continues where
 * the caller left the cursor, at col. */
static void wrap(FILE *f, const char *text, int col)
{
    const char *p = text;
    int at = col;
    while (*p) {
        if (*p == '\n') {
            fprintf(f, "\n%*s", col, "");
            at = col;
            p++;
            continue;
        }
        int gap = (int)strspn(p, " ");
        p += gap;
        int w = (int)strcspn(p, " \n");
        if (!w)
            continue;
        if (at > col && at + gap + w > HELP_WIDTH) {
            fprintf(f, "\n%*s", col, "");
            at = col;
        } else if (at > col) {
            fprintf(f, "%*s", gap, "");
            at += gap;
        }
        fprintf(f, "%.*s", w, p);
        at += w;
        p += w;
    }
    fputc('\n', f);
}

static const cli_option help_row = CLI_OPT('h', "help", NULL, 'h', "this text");

void cli_help(const cli_spec *spec, FILE *f)
{
    const cli_option *rows[CLI_OPTIONS_MAX + 1];
    size_t n = cli_option_rows(spec->options, rows, CLI_OPTIONS_MAX);
    rows[n++] = &help_row;
    char buf[256];
    int width = 0;
    for (size_t i = 0; i < n; i++) {
        int len = rows[i]->name ? (int)label(rows[i], buf, sizeof buf) : 0;
        if (len <= LABEL_MAX && len > width)
            width = len;
    }
    const int col = 2 + width + LABEL_GAP;
    fprintf(f, "usage: acdc %s %s\n\n", spec->name, spec->usage);
    if (spec->description)
        fprintf(f, "%s\n\n", spec->description);
    if (rows[0]->name)
        fprintf(f, "options:\n");
    for (size_t i = 0; i < n; i++) {
        if (!rows[i]->name) {
            fprintf(f, "%s\n", rows[i]->help);
            continue;
        }
        int len = (int)label(rows[i], buf, sizeof buf);
        if (len > width)
            fprintf(f, "  %s\n%*s", buf, col, "");
        else
            fprintf(f, "  %s%*s", buf, col - 2 - len, "");
        wrap(f, rows[i]->help, col);
    }
    if (spec->epilogue)
        fprintf(f, "\n%s\n", spec->epilogue);
}

/* The argument getopt_long stopped at, for the message: a long option as given
 * ("--frob", "--output", "--quiet=1"), else the short option itself ("-z", also inside
 * "-qz").  glibc leaves optopt 0 for an unknown long option and the row's value for a
 * known one ('h' for "--help=x"); a short letter for a short option. */
static const char *culprit(char **argv, char *shortopt)
{
    if (optopt == 0 || optopt == 'h' || optopt >= LONG_BASE)
        return argv[optind - 1];
    shortopt[0] = '-';
    shortopt[1] = (char)optopt;
    shortopt[2] = '\0';
    return shortopt;
}

int cli_parse(const cli_spec *spec, int argc, char **argv, cli_on_option on_option,
              void *ctx)
{
    const cli_option *rows[CLI_OPTIONS_MAX];
    struct option lo[CLI_OPTIONS_MAX + 2];
    char so[3 * CLI_OPTIONS_MAX + 4] = ":h", *s = so + 2, shortopt[3];
    size_t n = cli_option_rows(spec->options, rows, CLI_OPTIONS_MAX), k = 0;
    for (size_t i = 0; i < n; i++) {
        const cli_option *o = rows[i];
        if (!o->name)
            continue;
        assert(strcmp(o->name, "help") && o->letter != 'h' && "--help is every command's");
        for (size_t j = 0; j < i; j++)
            assert((!rows[j]->name || strcmp(rows[j]->name, o->name)) &&
                   (!o->letter || rows[j]->letter != o->letter) && "an option given twice");
        lo[k++] = (struct option){o->name, o->value ? required_argument : no_argument, NULL,
                                  LONG_BASE + (int)i};
        if (o->letter) {
            *s++ = (char)o->letter;
            if (o->value)
                *s++ = ':';
        }
    }
    *s = '\0';
    lo[k++] = (struct option){"help", no_argument, NULL, 'h'};
    lo[k] = (struct option){NULL, 0, NULL, 0};

    int c;
    optind = 0;   /* glibc: start over, as for a new argv */
    opterr = 0;
    while ((c = getopt_long(argc, argv, so, lo, NULL)) != -1) {
        const cli_option *o = NULL;
        if (c == 'h') {
            cli_help(spec, stdout);
            return cli_finish(spec->name);
        }
        if (c == '?')
            return cli_usage_error(spec->name, "unknown option '%s'",
                                   culprit(argv, shortopt));
        if (c == ':')
            return cli_usage_error(spec->name, "option '%s' needs a value",
                                   culprit(argv, shortopt));
        if (c >= LONG_BASE)
            o = rows[c - LONG_BASE];
        else
            for (size_t i = 0; i < n && !o; i++)
                if (rows[i]->name && rows[i]->letter == c)
                    o = rows[i];
        assert(o);
        int rc = on_option(ctx, o->key, o->value ? optarg : NULL);
        if (rc)
            return cli_fail(spec->name, rc);
    }
    return -1;
}
