/* SPDX-License-Identifier: GPL-3.0-or-later */
/* tests/test_cli_options.c -- option tables (cli/options.h): the help made from a table,
 * the parse loop made from it, and the options simulate and sweep share (cli/simopts.c).
 *
 * The Makefile links tests/test_cli_*.c with the command line's objects but cli/main.o;
 * cli_finish(), cli_fail() and cli_usage_error() (cli/main.c) are replaced by recorders
 * below.
 */
#include "tests/testutil.h"

#include "cli/cli.h"
#include "cli/options.h"

#include <stdarg.h>

#include <fcntl.h>
#include <unistd.h>

#include "util/error.h"

/* What the replaced cli/main.c functions saw. */
static struct {
    int finished, failed, status;
    char usage[256];
} seen;

int cli_finish(const char *cmd)
{
    (void)cmd;
    seen.finished++;
    return EXIT_OK;
}

int cli_fail(const char *cmd, int status)
{
    (void)cmd;
    seen.failed++;
    seen.status = status;
    return status == ACDC_UTIL_EUSAGE ? EXIT_USAGE : EXIT_DATA;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    (void)cmd;
    va_start(ap, fmt);
    vsnprintf(seen.usage, sizeof seen.usage, fmt, ap);
    va_end(ap);
    return EXIT_USAGE;
}

enum { K_OUT = 'o', K_QUIET = 'q', K_RATE = 300, K_LONG, K_SHARED_A, K_SHARED_B };

static const cli_option shared[] = {
    CLI_OPT(0, "alpha", "A", K_SHARED_A, "the first shared option"),
    CLI_OPT('b', "beta", NULL, K_SHARED_B, "the second"),
    CLI_OPT_END};

static const cli_option table[] = {
    CLI_OPT('o', "output", "FILE", K_OUT, "file to write (HDF5)"),
    CLI_OPT('q', "quiet", NULL, K_QUIET, "say nothing"),
    CLI_OPT(0, "rate", "R", K_RATE,
            "a rate given with its unit, 2.385Hz or 7kHz; words run past the width and wrap "
            "at a space to the column of the texts, here and on every later line too"),
    CLI_OPT(0, "long", "NAME=FROM:TO[:STEPS]", K_LONG, "text below the label\nand a break"),
    CLI_OPT_GROUP("  shared:"),
    CLI_OPT_INCLUDE(shared),
    CLI_OPT_END};

static const cli_spec spec = {"demo", "IN.h5 -o OUT.h5 [options]", "Describe the demo.",
                              table, "exit codes: 0 done, 2 usage error"};

/* The help of spec as one string (caller frees). */
static char *help_of(const cli_spec *s)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    cli_help(s, f);
    assert_int_equal(fclose(f), 0);
    return text;
}

static void test_help_format(void **state)
{
    (void)state;
    char *h = help_of(&spec);
    assert_string_equal(
        h,
        "usage: acdc demo IN.h5 -o OUT.h5 [options]\n"
        "\n"
        "Describe the demo.\n"
        "\n"
        "options:\n"
        "  -o, --output FILE   file to write (HDF5)\n"
        "  -q, --quiet         say nothing\n"
        /* 84 columns at the most: "the" would make the first line 85 */
        "      --rate R        a rate given with its unit, 2.385Hz or 7kHz; words run past\n"
        "                      the width and wrap at a space to the column of the texts, here\n"
        "                      and on every later line too\n"
        "      --long NAME=FROM:TO[:STEPS]\n"
        "                      text below the label\n"
        "                      and a break\n"
        "  shared:\n"
        "      --alpha A       the first shared option\n"
        "  -b, --beta          the second\n"
        "  -h, --help          this text\n"
        "\n"
        "exit codes: 0 done, 2 usage error\n");
    free(h);
}

static void test_help_group_first(void **state)
{
    (void)state;
    static const cli_option grouped[] = {CLI_OPT_GROUP("data:"),
                                         CLI_OPT(0, "rows", "R", 'r', "rows to read"),
                                         CLI_OPT_END};
    static const cli_option none[] = {CLI_OPT_END};
    const cli_spec g = {"g", "[options]", NULL, grouped, NULL};
    const cli_spec e = {"e", "FILE.h5", "Text.", none, NULL};
    char *h = help_of(&g);
    assert_string_equal(h, "usage: acdc g [options]\n\ndata:\n"
                           "      --rows R   rows to read\n"
                           "  -h, --help     this text\n");
    free(h);
    h = help_of(&e);
    assert_string_equal(h, "usage: acdc e FILE.h5\n\nText.\n\noptions:\n"
                           "  -h, --help   this text\n");
    free(h);
}

/* The label a row must have in the help (cli/options.h): "-o, --output FILE", or
 * "    --name VALUE" without a letter. */
static void label(const cli_option *o, char *buf, size_t size)
{
    if (o->letter)
        snprintf(buf, size, "-%c, --%s%s%s", o->letter, o->name, o->value ? " " : "",
                 o->value ? o->value : "");
    else
        snprintf(buf, size, "    --%s%s%s", o->name, o->value ? " " : "",
                 o->value ? o->value : "");
}

/* Every option row of the table, includes expanded, is in the help with its label. */
static void assert_help_lists_every_row(const cli_spec *s)
{
    const cli_option *rows[CLI_OPTIONS_MAX];
    size_t n = cli_option_rows(s->options, rows, CLI_OPTIONS_MAX);
    char *h = help_of(s), buf[256];
    for (size_t i = 0; i < n; i++) {
        if (!rows[i]->name)
            continue;
        label(rows[i], buf, sizeof buf);
        if (!strstr(h, buf))
            fail_msg("the help of '%s' lacks '%s'", s->name, buf);
    }
    free(h);
}

static void test_help_lists_every_row(void **state)
{
    (void)state;
    const cli_option *rows[CLI_OPTIONS_MAX];
    assert_int_equal(cli_option_rows(table, rows, CLI_OPTIONS_MAX), 7);
    assert_ptr_equal(rows[5], &shared[0]);
    assert_help_lists_every_row(&spec);
    static const cli_option with_sim[] = {CLI_OPT('o', "output", "FILE", 'o', "result"),
                                          CLI_OPT_INCLUDE(cli_sim_options), CLI_OPT_END};
    const cli_spec s = {"sim", "[options]", NULL, with_sim, NULL};
    assert_help_lists_every_row(&s);
    assert_int_equal(cli_option_rows(with_sim, rows, CLI_OPTIONS_MAX), 16);
}

/* What on_option saw, in order. */
struct record {
    int n, keys[16], fail_at;
    const char *args[16];
};

static int on_option(void *ctx, int key, const char *arg)
{
    struct record *r = ctx;
    if (r->n == r->fail_at)
        return acdc_util_error(ACDC_UTIL_EDATA, "refused '%s'", arg ? arg : "(flag)");
    r->keys[r->n] = key;
    r->args[r->n++] = arg;
    return ACDC_UTIL_OK;
}

static char *argv[32];   /* what parse() hands to cli_parse(), as getopt_long leaves it */

static int parse(struct record *r, int argc, const char *const *words)
{
    assert_true(argc < 32);
    for (int i = 0; i < argc; i++)
        argv[i] = (char *)words[i];
    argv[argc] = NULL;
    memset(&seen, 0, sizeof seen);
    memset(r, 0, sizeof *r);
    r->fail_at = -1;
    return cli_parse(&spec, argc, argv, on_option, r);
}

static void test_parse_in_order(void **state)
{
    (void)state;
    struct record r;
    const char *w[] = {"demo", "in.h5",  "-qo",   "out.h5",  "--rate=7kHz", "--alpha",
                       "x",    "second", "-b",    "--long", "a=1:2",       "--out",
                       "last"};
    assert_int_equal(parse(&r, 13, w), -1);
    assert_int_equal(r.n, 7);
    const int keys[] = {K_QUIET, K_OUT, K_RATE, K_SHARED_A, K_SHARED_B, K_LONG, K_OUT};
    const char *args[] = {NULL, "out.h5", "7kHz", "x", NULL, "a=1:2", "last"};
    for (int i = 0; i < 7; i++) {
        assert_int_equal(r.keys[i], keys[i]);
        if (args[i])
            assert_string_equal(r.args[i], args[i]);
        else
            assert_null(r.args[i]);
    }
    /* the operands, moved behind the options */
    assert_int_equal(13 - optind, 2);
    assert_string_equal(argv[optind], "in.h5");
    assert_string_equal(argv[optind + 1], "second");
    assert_int_equal(seen.finished + seen.failed, 0);
    /* a second parse starts over */
    const char *w2[] = {"demo", "-q", "only"};
    assert_int_equal(parse(&r, 3, w2), -1);
    assert_int_equal(r.n, 1);
    assert_int_equal(optind, 2);
}

static void test_parse_help(void **state)
{
    (void)state;
    struct record r;
    /* the help goes to stdout: send it to a file for the run */
    const char *path = test_path(0, "help.txt");
    fflush(stdout);
    int saved = dup(1), fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, 1);
    close(fd);
    const char *w[] = {"demo", "-q", "--help", "--frob"};
    int rc = parse(&r, 4, w);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    assert_int_equal(rc, EXIT_OK);
    assert_int_equal(seen.finished, 1);
    assert_int_equal(r.n, 1);
    FILE *f = fopen(path, "r");
    char line[128];
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    assert_string_equal(line, "usage: acdc demo IN.h5 -o OUT.h5 [options]\n");
}

static void test_parse_errors(void **state)
{
    (void)state;
    struct record r;
    const struct {
        int argc;
        const char *w[4], *message;
    } bad[] = {
        {2, {"demo", "--frob"}, "unknown option '--frob'"},
        {3, {"demo", "--frob=1", "x"}, "unknown option '--frob=1'"},
        {2, {"demo", "-z"}, "unknown option '-z'"},
        {2, {"demo", "-qz"}, "unknown option '-z'"},
        {3, {"demo", "-zq", "x"}, "unknown option '-z'"},
        {2, {"demo", "--quiet=1"}, "unknown option '--quiet=1'"},
        {2, {"demo", "--help=1"}, "unknown option '--help=1'"},
        {2, {"demo", "-o"}, "option '-o' needs a value"},
        {3, {"demo", "-q", "--output"}, "option '--output' needs a value"},
        {2, {"demo", "--alpha"}, "option '--alpha' needs a value"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int rc = parse(&r, bad[i].argc, bad[i].w);
        if (rc != EXIT_USAGE || strcmp(seen.usage, bad[i].message))
            fail_msg("%s %s: exit %d '%s', want 2 '%s'", bad[i].w[1], bad[i].w[2], rc,
                     seen.usage, bad[i].message);
    }
    /* a refused value: cli_fail() with on_option's status, nothing after it parsed */
    memset(&seen, 0, sizeof seen);
    const char *w[] = {"demo", "-q", "--rate", "9", "-b"};
    char *v[6] = {0};
    for (int i = 0; i < 5; i++)
        v[i] = (char *)w[i];
    memset(&r, 0, sizeof r);
    r.fail_at = 1;
    assert_int_equal(cli_parse(&spec, 5, v, on_option, &r), EXIT_DATA);
    assert_int_equal(seen.failed, 1);
    assert_int_equal(seen.status, ACDC_UTIL_EDATA);
    assert_string_equal(acdc_util_errmsg(), "refused '9'");
    assert_int_equal(r.n, 1);
}

static void test_parse_empty_table(void **state)
{
    (void)state;
    static const cli_option none[] = {CLI_OPT_END};
    const cli_spec e = {"e", "FILE", NULL, none, NULL};
    char *v[] = {"e", "file", "-x", NULL};
    assert_int_equal(cli_parse(&e, 2, v, NULL, NULL), -1);
    assert_int_equal(optind, 1);
    assert_int_equal(cli_parse(&e, 3, v, NULL, NULL), EXIT_USAGE);
    assert_string_equal(seen.usage, "unknown option '-x'");
}

/* The shared options through the parser into acdc_sim_options and the assignments. */
struct sim_ctx {
    acdc_sim_options o;
    cli_sets sets;
};

static int on_sim(void *ctx, int key, const char *arg)
{
    struct sim_ctx *c = ctx;
    int rc;
    assert_true(cli_sim_option(key, arg, &c->o, &c->sets, &rc));
    return rc;
}

static void test_sim_options(void **state)
{
    (void)state;
    static const cli_option t[] = {CLI_OPT_INCLUDE(cli_sim_options), CLI_OPT_END};
    const cli_spec s = {"sim", "[options]", NULL, t, NULL};
    char *v[] = {"sim",       "--phase-bits", "6",     "--seed",  "17",
                 "--no-noise", "--misalign-x", "0.5px", "--threads", "3",
                 "--set",     "camera.adc_bits=10",    "--fill",  "0.8", NULL};
    struct sim_ctx c = {.o = acdc_sim_options_default()};
    assert_int_equal(cli_sets_init(&c.sets, 14), 0);
    assert_int_equal(cli_parse(&s, 14, v, on_sim, &c), -1);
    assert_int_equal(c.o.seed, 17);
    assert_int_equal(c.o.noise, 0);
    assert_int_equal(c.o.threads, 3);
    assert_close(c.o.misalign_px, 0.5, 0);
    assert_int_equal(c.sets.n, 6);
    assert_string_equal(c.sets.v[0], "fourier.phase_bits=6");
    assert_string_equal(c.sets.v[1], "image.phase_bits=6");
    assert_string_equal(c.sets.v[2], "camera.adc_bits=10");
    assert_string_equal(c.sets.v[5], "image.fill=0.80000000000000004");
    /* a refused value is a usage status with the option's name */
    int rc;
    assert_int_equal(cli_sim_option(CLI_SIM_THREADS, "0", &c.o, &c.sets, &rc), 1);
    assert_int_equal(rc, ACDC_UTIL_EUSAGE);
    assert_non_null(strstr(acdc_util_errmsg(), "--threads"));
    /* a key of the command's own is left to the command */
    assert_int_equal(cli_sim_option('o', "x", &c.o, &c.sets, &rc), 0);
    cli_sets_clear(&c.sets);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help_format),
        cmocka_unit_test(test_help_group_first),
        cmocka_unit_test(test_help_lists_every_row),
        cmocka_unit_test(test_parse_in_order),
        cmocka_unit_test(test_parse_help),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_empty_table),
        cmocka_unit_test(test_sim_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
