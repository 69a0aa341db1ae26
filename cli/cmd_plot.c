/* cli/cmd_plot.c -- `acdc plot`: figures of sweeps and simulation results via gnuplot.
 *
 * Parses the options and calls the plotting module (sim/plot.h), which draws through
 * the one gnuplot pipe (util/gnuplot.h): no file name reaches a shell, and the figure is
 * renamed into place only when gnuplot succeeded.
 */
#include "cli/cli.h"
#include "sim/plot.h"
#include "util/error.h"
#include "util/gnuplot.h"
#include "util/parse.h"
#include "util/signal.h"

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const char help[] =
    "usage: acdc plot FILE.h5 -o OUT.png|OUT.svg [--what WHAT] [options]\n"
    "\n"
    "Draw a figure with gnuplot (terminal pngcairo or svg, by OUT's extension).\n"
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
    "                          --save-planes, for input --row R (default 0)\n"
    "\n"
    "options:\n"
    "  -o, --output FILE       OUT.png or OUT.svg\n"
    "      --what W            see above\n"
    "      --stage C           see above\n"
    "      --title T           replace the first line of the title\n"
    "      --size WxH          pixels per panel (default 720x480)\n"
    "      --row R             the input whose planes are drawn (--what planes)\n"
    "  -h, --help              this text\n"
    "\n"
    "exit codes: 0 written, 1 data error (not a sweep or result, no labels, gnuplot\n"
    "missing or failing), 2 usage error, 3 interrupted\n";

int cmd_plot(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'}, {"what", required_argument, 0, 'w'},
        {"stage", required_argument, 0, 'c'},  {"title", required_argument, 0, 't'},
        {"size", required_argument, 0, 'z'},   {"row", required_argument, 0, 'r'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    const char *out = NULL;
    sim_plot_options o = sim_plot_defaults();
    int c, rc = UTIL_OK;
    int64_t iv;
    optind = 0;
    opterr = 0;
    while (rc == UTIL_OK && (c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'w': o.what = optarg; break;
        case 't': o.title = optarg; break;
        case 'c':
            if (!(rc = util_parse_int(optarg, "--stage", 0, 1000, &iv)))
                o.stage = (int)iv;
            break;
        case 'r':
            if (!(rc = util_parse_int(optarg, "--row", 0, 1000000, &iv)))
                o.row = (size_t)iv;
            break;
        case 'z': {
            int w, h;
            char tail;
            if (sscanf(optarg, "%dx%d%c", &w, &h, &tail) != 2 || w < 100 || h < 100 ||
                w > 10000 || h > 10000)
                rc = util_error(UTIL_EUSAGE, "--size: '%s' is not WxH (100..10000 pixels)",
                                optarg);
            o.width = w;
            o.height = h;
            break;
        }
        case 'h':
            fputs(help, stdout);
            return cli_finish("plot");
        default:
            return cli_usage_error("plot", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (rc)
        return cli_fail("plot", rc);
    if (!out)
        return cli_usage_error("plot", "no output file: give -o OUT.png or -o OUT.svg");
    if (argc - optind != 1)
        return cli_usage_error("plot", "expected one FILE.h5, got %d arguments",
                               argc - optind);
    size_t lo = strlen(out);
    if (!(lo >= 4 && (!strcmp(out + lo - 4, ".svg") || !strcmp(out + lo - 4, ".png"))))
        return cli_usage_error("plot", "'%s': the output must end in .png or .svg", out);
    if (util_gnuplot_unsafe(out))
        return cli_usage_error("plot", "the output name contains control characters");
    if (o.title && util_gnuplot_unsafe(o.title))
        return cli_usage_error("plot", "--title contains control characters");
    util_signal_saved sig = {0};
    if (!(rc = util_signal_catch(&sig)))
        rc = sim_plot_file(argv[optind], out, &o, util_signal_flag());
    util_signal_restore(&sig);
    if (rc)
        return cli_fail("plot", rc);
    printf("wrote '%s'\n", out);
    return cli_finish("plot");
}
