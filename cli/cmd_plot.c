/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cli/cmd_plot.c -- `acdc plot`: figures of sweeps and simulation results via gnuplot.
 *
 * Parses the options and calls the plotting module (sim/plot.h), which draws through
 * the one gnuplot pipe (util/gnuplot.h): no file name reaches a shell, and the figure is
 * renamed into place only when gnuplot succeeded.
 */
#include "cli/cli.h"
#include "sim/plot.h"
#include "util/error.h"
#include "util/output.h"
#include "util/gnuplot.h"
#include "util/parse.h"
#include "util/signal.h"

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum { OPT_OUTPUT = 'o', OPT_WHAT = 'w', OPT_STAGE = 'c', OPT_TITLE = 't', OPT_SIZE = 'z',
       OPT_ROW = 'r', OPT_DATA = 'D', OPT_SCRIPT = 'S' };

static const cli_option options[] = {
    CLI_OPT('o', "output", "FILE", OPT_OUTPUT, "OUT.png, OUT.svg or OUT.pdf"),
    CLI_OPT(0, "what", "W", OPT_WHAT, "see above"),
    CLI_OPT(0, "stage", "C", OPT_STAGE, "see above"),
    CLI_OPT(0, "title", "T", OPT_TITLE, "replace the first line of the title"),
    CLI_OPT(0, "size", "WxH", OPT_SIZE, "pixels per panel (default 720x480)"),
    CLI_OPT(0, "row", "R", OPT_ROW, "the input whose planes are drawn (--what planes)"),
    CLI_OPT(0, "data", "FILE", OPT_DATA, "also keep the figure's data (gnuplot blocks)"),
    CLI_OPT(0, "script", "FILE", OPT_SCRIPT, "also keep the gnuplot script that drew it"),
    CLI_OPT_END};

static const cli_spec spec = {
    "plot", "FILE.h5 -o OUT.png|OUT.svg|OUT.pdf [--what WHAT] [options]",
    "Draw a figure with gnuplot (terminal pngcairo, svg or pdfcairo, by OUT's\n"
    "extension).  --data and --script keep the numbers drawn (gnuplot data blocks,\n"
    "one per data set, apart by two blank lines) and the script (`gnuplot SCRIPT`\n"
    "draws the figure again, its data inline), written only with the figure.\n"
    "\n"
    "  a sweep (acdc sweep):   the chosen metrics against the swept parameter, mean with\n"
    "                          error bars of one standard deviation over the trials (log\n"
    "                          x for photons); a two-parameter sweep as heatmaps\n"
    "      --what M[,M]        metrics: rel_rms, max_abs, snr_db, cosine, accuracy\n"
    "                          (optical with the ideal model as a dashed line),\n"
    "                          acc_optical, acc_ideal, agreement (default rel_rms, and\n"
    "                          accuracy for labelled data); one panel each\n"
    "      --stage C           metrics of optical chain C instead of end to end\n"
    "  a result (acdc simulate):\n"
    "      --what scatter      optical against ideal output, every row and output (default)\n"
    "      --what confusion    confusion matrix of the optical predictions (labelled data)\n"
    "      --what planes       intensity and phase at every plane saved by simulate\n"
    "                          --save-planes, for input --row R (default 0): against x\n"
    "                          for a 1D system, as images (log intensity, masked\n"
    "                          phase) for a 2D one",
    options,
    "exit codes: 0 written, 1 data error (not a sweep or result, no labels, gnuplot\n"
    "missing or failing), 2 usage error, 3 interrupted"};

struct args {
    const char *out;
    acdc_sim_plot_options o;
};

static int on_option(void *ctx, int key, const char *arg)
{
    struct args *a = ctx;
    int64_t iv;
    int rc = ACDC_UTIL_OK;
    switch (key) {
    case OPT_OUTPUT: a->out = arg; break;
    case OPT_WHAT: a->o.what = arg; break;
    case OPT_TITLE: a->o.title = arg; break;
    case OPT_DATA: a->o.data = arg; break;
    case OPT_SCRIPT: a->o.script = arg; break;
    case OPT_STAGE:
        if (!(rc = acdc_util_parse_int(arg, "--stage", 0, 1000, &iv)))
            a->o.stage = (int)iv;
        break;
    case OPT_ROW:
        if (!(rc = acdc_util_parse_int(arg, "--row", 0, 1000000, &iv)))
            a->o.row = (size_t)iv;
        break;
    case OPT_SIZE: {
        int w, h;
        char tail;
        if (sscanf(arg, "%dx%d%c", &w, &h, &tail) != 2 || w < 100 || h < 100 || w > 10000 ||
            h > 10000)
            return acdc_util_error(ACDC_UTIL_EUSAGE, "--size: '%s' is not WxH (100..10000 pixels)",
                                   arg);
        a->o.width = w;
        a->o.height = h;
        break;
    }
    }
    return rc;
}

int cmd_plot(int argc, char **argv)
{
    struct args a = {.o = acdc_sim_plot_defaults()};
    int rc = cli_parse(&spec, argc, argv, on_option, &a);
    if (rc >= 0)
        return rc;
    const char *out = a.out;
    const acdc_sim_plot_options o = a.o;
    if (!out)
        return cli_usage_error("plot", "no output file: give -o OUT.png, OUT.svg or OUT.pdf");
    if (argc - optind != 1)
        return cli_usage_error("plot", "expected one FILE.h5, got %d arguments",
                               argc - optind);
    if (acdc_util_gnuplot_format(out) < 0)
        return cli_usage_error("plot", "'%s': the output must end in .png or .svg or .pdf",
                               out);
    if (acdc_util_gnuplot_unsafe(out))
        return cli_usage_error("plot", "the output name contains control characters");
    const char *kept[2] = {o.data, o.script}, *opt[2] = {"--data", "--script"};
    for (int i = 0; i < 2; i++) {
        if (!kept[i])
            continue;
        if (!*kept[i] || !strcmp(kept[i], out) || (i && o.data && !strcmp(o.data, kept[i])))
            return cli_usage_error("plot", "%s '%s': give a file name of its own", opt[i],
                                   kept[i]);
        if (!strcmp(kept[i], argv[optind]))
            return cli_usage_error("plot", "%s '%s' would overwrite the file plotted", opt[i],
                                   kept[i]);
    }
    if (o.title && acdc_util_gnuplot_unsafe(o.title))
        return cli_usage_error("plot", "--title contains control characters");
    const char *outs[3] = {out, kept[0], kept[1]};   /* NULL: not asked for */
    if ((rc = acdc_util_output_claim((const char *const *)argv + optind, 1, outs, 3)))
        return cli_fail("plot", rc);
    acdc_util_signal_saved sig = {0};
    if (!(rc = acdc_util_signal_catch(&sig)))
        rc = acdc_sim_plot_file(argv[optind], out, &o, acdc_util_signal_flag());
    acdc_util_signal_restore(&sig);
    if (rc)
        return cli_fail("plot", rc);
    printf("wrote '%s'\n", out);
    if (o.data)
        printf("wrote '%s' (the data)\n", o.data);
    if (o.script)
        printf("wrote '%s' (the gnuplot script)\n", o.script);
    return cli_finish("plot");
}
