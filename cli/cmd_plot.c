/* cli/cmd_plot.c -- `acdc plot`: figures of sweeps and simulation results via gnuplot.
 *
 * The script and the data go down one pipe to gnuplot (the command run is the constant
 * "gnuplot"; the data travel as inline `$name << EOD` blocks), so no file name reaches a
 * shell.  The one file name gnuplot sees is the temporary output, written as a gnuplot
 * single-quoted string (quotes doubled, control characters refused).  The figure is
 * renamed into place only when gnuplot succeeded, so a failed plot leaves no file.
 */
#include "cli/cli.h"
#include "sim/metrics.h"
#include "util/error.h"
#include "util/h5.h"
#include "util/parse.h"

#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

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

static volatile int stop;
static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

/* ---------------------------------------------------------------------------------- */
/* gnuplot text                                                                         */

/* Writes s as a gnuplot single-quoted string: inside '', only '' is special. */
static void gp_str(FILE *g, const char *s)
{
    fputc('\'', g);
    for (; *s; s++) {
        if (*s == '\'')
            fputs("''", g);
        else if ((unsigned char)*s < 32)
            fputc(' ', g);
        else
            fputc(*s, g);
    }
    fputc('\'', g);
}

static int has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 32 || *s == 127)
            return 1;
    return 0;
}

/* 1 if an executable gnuplot is on PATH. */
static int gnuplot_found(void)
{
    const char *path = getenv("PATH");
    if (!path || !*path)
        return 0;
    char *copy = strdup(path), *save = NULL;
    int found = 0;
    if (!copy)
        return 0;
    for (char *dir = strtok_r(copy, ":", &save); dir && !found;
         dir = strtok_r(NULL, ":", &save)) {
        char full[4096];
        struct stat st;
        snprintf(full, sizeof full, "%s/gnuplot", *dir ? dir : ".");
        found = stat(full, &st) == 0 && S_ISREG(st.st_mode) && access(full, X_OK) == 0;
    }
    free(copy);
    return found;
}

struct figure {
    const char *out;
    char *tmp;
    int svg;
    int width, height;   /* per panel */
    FILE *g;
};

/* Starts gnuplot with the terminal for out, writing to a temporary beside it. */
static int figure_open(struct figure *f, int cols, int rows)
{
    if (!gnuplot_found())
        return util_error(UTIL_EDATA, "gnuplot not found on PATH: install it (Debian: "
                          "apt-get install gnuplot-nox)");
    size_t n = strlen(f->out) + 32;
    f->tmp = malloc(n);
    if (!f->tmp)
        return util_error(UTIL_ENOMEM, "out of memory");
    snprintf(f->tmp, n, "%s.tmp%ld", f->out, (long)getpid());
    fflush(stdout);
    f->g = popen("gnuplot", "w");
    if (!f->g) {
        free(f->tmp);
        f->tmp = NULL;
        return util_error(UTIL_EIO, "cannot run gnuplot");
    }
    int w = f->width * cols, h = f->height * rows;
    if (f->svg) {
        fprintf(f->g, "set terminal svg size %d,%d dynamic font 'Sans,12' background "
                      "rgb 'white'\n", w, h);
    } else {
        /* pngcairo (antialiased) where the gnuplot build has it, libgd png otherwise. */
        fprintf(f->g, "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
                      "  set terminal pngcairo size %d,%d font 'Sans,11' background "
                      "rgb 'white'\n"
                      "} else {\n  set terminal png size %d,%d background rgb 'white'\n}\n",
                w, h, w, h);
    }
    fputs("set termoption noenhanced\nset output ", f->g);
    gp_str(f->g, f->tmp);
    fputs("\nset grid lc rgb '#d0d0d0'\nset key box opaque\n", f->g);
    return UTIL_OK;
}

/* Closes the pipe; on success renames the temporary into place. */
static int figure_close(struct figure *f, int rc)
{
    if (!f->g)
        return rc;
    fputs("unset output\nquit\n", f->g);
    int st = pclose(f->g);
    f->g = NULL;
    if (!rc && stop)
        rc = util_error(UTIL_EINTR, "interrupted; '%s' not written", f->out);
    if (!rc && (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0))
        rc = util_error(UTIL_EDATA, "gnuplot failed (status %d) drawing '%s'",
                        st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : 128, f->out);
    struct stat sb;
    if (!rc && (stat(f->tmp, &sb) != 0 || sb.st_size == 0))
        rc = util_error(UTIL_EDATA, "gnuplot wrote nothing to '%s'", f->tmp);
    if (!rc && rename(f->tmp, f->out) != 0)
        rc = util_error(UTIL_EIO, "cannot rename '%s' to '%s'", f->tmp, f->out);
    if (rc)
        remove(f->tmp);
    free(f->tmp);
    f->tmp = NULL;
    return rc;
}

/* ---------------------------------------------------------------------------------- */
/* sweeps                                                                               */

/* Reads a float64 dataset of n values, NaN allowed (a sweep's unfinished points). */
static int read_values(hid_t f, const char *file, const char *name, size_t n, double **dst)
{
    hsize_t dims[2] = {0, 0};
    hid_t d = util_h5_exists(f, name) ? H5Dopen2(f, name, H5P_DEFAULT) : -1;
    *dst = NULL;
    if (d < 0)
        return util_error(UTIL_EDATA, "missing dataset '%s' in '%s'", name, file);
    hid_t s = H5Dget_space(d);
    int r = s < 0 ? -1 : H5Sget_simple_extent_ndims(s);
    if (r >= 1 && r <= 2)
        H5Sget_simple_extent_dims(s, dims, NULL);
    size_t k = r == 1 ? (size_t)dims[0] : r == 2 ? (size_t)(dims[0] * dims[1]) : 0;
    double *v = k == n ? malloc((n ? n : 1) * sizeof *v) : NULL;
    herr_t e = v ? H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) : -1;
    if (s >= 0)
        H5Sclose(s);
    H5Dclose(d);
    if (e < 0) {
        free(v);
        return util_error(UTIL_EDATA, "cannot read '%s' in '%s': expected %zu values", name,
                          file, n);
    }
    *dst = v;
    return UTIL_OK;
}

struct axis {
    char name[64], unit[16];
    int log;
    size_t n;
    double *v;
};

static void axis_label(const struct axis *a, char *buf, size_t cap)
{
    if (!strcmp(a->name, "photons"))
        snprintf(buf, cap, "photon budget (photons per inference on the input modulator)");
    else if (!strcmp(a->name, "phase-bits"))
        snprintf(buf, cap, "mask phase resolution (bits: 2^B levels over 2 pi)");
    else if (!strcmp(a->name, "amplitude-bits"))
        snprintf(buf, cap, "mask amplitude resolution (bits: 2^B levels)");
    else if (!strcmp(a->name, "phase-error"))
        snprintf(buf, cap, "rms phase error per mask pixel (rad)");
    else
        snprintf(buf, cap, "%s (%s)", a->name, *a->unit ? a->unit : "dimensionless");
}

static void tic_text(const struct axis *a, double v, char *buf, size_t cap)
{
    double e = v > 0 ? log10(v) : 0;
    if (a->log && v > 0 && fabs(e - round(e)) < 1e-9 && fabs(e) >= 3)
        snprintf(buf, cap, "1e%.0f", e);
    else
        snprintf(buf, cap, "%.3g", v);
}

struct mdesc {
    const char *key;     /* --what name */
    const char *data;    /* dataset name under /metrics */
    const char *label;   /* axis label with unit */
    double scale;        /* accuracy in percent */
    int logy;
};

static const struct mdesc metrics[] = {
    {"rel_rms", "rel_rms", "relative RMS error |y_opt - y_ideal| / |y_ideal| (dimensionless)",
     1, 1},
    {"max_abs", "max_abs", "max |y_opt - y_ideal| (output units)", 1, 1},
    {"snr_db", "snr_db", "signal-to-noise ratio (dB)", 1, 0},
    {"cosine", "cosine", "cosine similarity of y_opt and y_ideal (dimensionless)", 1, 0},
    {"accuracy", "acc_optical", "accuracy on the labels (%)", 100, 0},
    {"acc_optical", "acc_optical", "optical accuracy on the labels (%)", 100, 0},
    {"acc_ideal", "acc_ideal", "numeric (ideal) accuracy on the labels (%)", 100, 0},
    {"agreement", "agreement", "optical and ideal predictions agreeing (%)", 100, 0},
};

static const struct mdesc *find_metric(const char *k)
{
    for (size_t i = 0; i < sizeof metrics / sizeof *metrics; i++)
        if (!strcmp(metrics[i].key, k))
            return &metrics[i];
    return NULL;
}

static void write_axis_tics(FILE *g, const char *which, const struct axis *a)
{
    size_t every = a->n > 12 ? (a->n + 11) / 12 : 1;
    fprintf(g, "set %stics (", which);
    for (size_t i = 0; i < a->n; i++) {
        char t[32];
        if (i % every && i != a->n - 1)
            continue;
        tic_text(a, a->v[i], t, sizeof t);
        fprintf(g, "%s'%s' %zu", i ? ", " : "", t, i);
    }
    fputs(")\n", g);
}

static int plot_sweep(hid_t f, const char *file, struct figure *fig, const char *what,
                      int stage, const char *title)
{
    int64_t np = 0, labelled = 0, rows = 0, trials = 0, nch = 0;
    char profile[64] = "?";
    struct axis ax[2];
    const struct mdesc *m[8];
    int nm = 0, rc;
    double *done = NULL, *mean[8] = {0}, *sd[8] = {0}, *ref[8] = {0};
    memset(ax, 0, sizeof ax);
    if ((rc = util_h5_attr_i64(f, file, "/", "n_params", &np)) ||
        (rc = util_h5_attr_i64(f, file, "/", "labelled", &labelled)) ||
        (rc = util_h5_attr_i64(f, file, "/", "rows", &rows)) ||
        (rc = util_h5_attr_i64(f, file, "/", "trials", &trials)) ||
        (rc = util_h5_attr_i64(f, file, "/", "n_chains", &nch)))
        return rc;
    util_h5_attr_str(f, file, "/", "profile", profile, sizeof profile);
    util_error_clear();
    if (np < 1 || np > 2)
        return util_error(UTIL_EDATA, "'%s': n_params is %lld, expected 1 or 2", file,
                          (long long)np);
    if (stage >= 0 && stage >= nch)
        return util_error(UTIL_EUSAGE, "--stage %d: '%s' has %lld optical chains", stage,
                          file, (long long)nch);
    /* the metrics */
    char list[256];
    snprintf(list, sizeof list, "%s", what ? what : labelled ? "rel_rms,accuracy" : "rel_rms");
    for (char *save = NULL, *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        const struct mdesc *d = find_metric(t);
        if (!d)
            return util_error(UTIL_EUSAGE, "--what: '%s' is not a sweep metric (rel_rms, "
                              "max_abs, snr_db, cosine, accuracy, acc_optical, acc_ideal, "
                              "agreement)", t);
        if (nm == 4)
            return util_error(UTIL_EUSAGE, "--what: at most 4 metrics");
        if (!strncmp(d->data, "acc_", 4) && (!labelled || stage >= 0))
            return util_error(UTIL_EDATA, "--what %s: %s", t,
                              stage >= 0 ? "accuracy is end to end only"
                                         : "the sweep's data had no labels");
        m[nm++] = d;
    }
    if (!nm)
        return util_error(UTIL_EUSAGE, "--what: no metric named");
    size_t points = 1;
    for (int k = 0; k < np && !rc; k++) {
        char g[32], v[48];
        int64_t lg = 0;
        hsize_t n = 0;
        snprintf(g, sizeof g, "/params/%d", k);
        snprintf(v, sizeof v, "/params/%d/values", k);
        if ((rc = util_h5_attr_str(f, file, g, "name", ax[k].name, sizeof ax[k].name)) ||
            (rc = util_h5_attr_str(f, file, g, "unit", ax[k].unit, sizeof ax[k].unit)) ||
            (rc = util_h5_attr_i64(f, file, g, "log", &lg)) ||
            (rc = util_h5_read_f64(f, file, v, 1, &n, &ax[k].v)))
            break;
        ax[k].n = (size_t)n;
        ax[k].log = lg != 0;
        points *= ax[k].n;
    }
    if (!rc)
        rc = read_values(f, file, "/done", points, &done);
    for (int i = 0; i < nm && !rc; i++) {
        char base[64], name[96];
        if (stage >= 0)
            snprintf(base, sizeof base, "/stages/%d/%s", stage, m[i]->data);
        else
            snprintf(base, sizeof base, "/metrics/%s", m[i]->data);
        snprintf(name, sizeof name, "%s/mean", base);
        if ((rc = read_values(f, file, name, points, &mean[i])))
            break;
        snprintf(name, sizeof name, "%s/sd", base);
        if ((rc = read_values(f, file, name, points, &sd[i])))
            break;
        if (!strcmp(m[i]->key, "accuracy"))
            rc = read_values(f, file, "/metrics/acc_ideal/mean", points, &ref[i]);
    }
    size_t ndone = 0;
    for (size_t i = 0; !rc && i < points; i++)
        ndone += done[i] != 0;
    if (!rc && !ndone)
        rc = util_error(UTIL_EDATA, "'%s': no finished point to plot yet", file);
    if (rc)
        goto out;

    if ((rc = figure_open(fig, nm, 1)))
        goto out;
    FILE *g = fig->g;
    char xl[160], yl[160], sub[200], head[200];
    axis_label(&ax[0], xl, sizeof xl);
    char chain[32] = "";
    if (stage >= 0)
        snprintf(chain, sizeof chain, ", optical chain %d", stage);
    snprintf(sub, sizeof sub, "profile %s, %lld rows, %lld trial%s per point%s%s", profile,
             (long long)rows, (long long)trials, trials == 1 ? "" : "s", chain,
             ndone < points ? " (unfinished sweep)" : "");
    /* data blocks: one per metric */
    for (int i = 0; i < nm; i++) {
        fprintf(g, "$d%d << EOD\n", i);
        for (size_t p = 0; p < points; p++) {
            if (!done[p])
                continue;
            double s = m[i]->scale;
            if (np == 1)
                fprintf(g, "%.17g %.17g %.17g %.17g\n", ax[0].v[p], s * mean[i][p],
                        s * sd[i][p], ref[i] ? s * ref[i][p] : 0.0);
            else
                fprintf(g, "%zu %zu %.17g\n", p / ax[1].n, p % ax[1].n, s * mean[i][p]);
        }
        fputs("EOD\n", g);
    }
    fprintf(g, "set multiplot layout 1,%d\n", nm);
    for (int i = 0; i < nm; i++) {
        const char *what_name = m[i]->key;
        if (np == 1) {
            snprintf(head, sizeof head, "%s", title ? title : "");
            if (!title)
                snprintf(head, sizeof head, "%s vs %s", what_name, ax[0].name);
            fputs("set title ", g);
            gp_str(g, head);
            fputs(" . \"\\n\" . ", g);
            gp_str(g, sub);
            fputs("\nset xlabel ", g);
            gp_str(g, xl);
            fputs("\nset ylabel ", g);
            gp_str(g, m[i]->label);
            fputs("\n", g);
            fprintf(g, "%s logscale x\n", ax[0].log ? "set" : "unset");
            fprintf(g, "%s logscale y\n", m[i]->logy ? "set" : "unset");
            fputs(ax[0].log ? "set format x '1e%T'\n" : "set format x '%g'\n", g);
            /* accuracies rise towards the reference; errors fall: keep the key clear */
            fputs(m[i]->scale > 1 ? "set key bottom right\n" : "set key top right\n", g);
            /* log y: let gnuplot extend to whole decades, so that the decades are labelled */
            fputs(m[i]->logy ? "set autoscale\nset offsets graph 0.03, graph 0.03, 0, 0\n"
                             : "set autoscale\nset autoscale yfix\nset offsets graph 0.03, "
                               "graph 0.03, graph 0.08, graph 0.08\n", g);
            fprintf(g, "plot $d%d using 1:2:3 with yerrorlines lw 2 pt 7 ps 0.8 "
                       "lc rgb '#1f77b4' title 'optical, mean +- 1 sd over trials'", i);
            if (ref[i])
                fprintf(g, ", $d%d using 1:4 with lines dt 2 lw 2 lc rgb '#d62728' "
                           "title 'numeric model (ideal)'", i);
            fputs("\n", g);
        } else {
            axis_label(&ax[1], yl, sizeof yl);
            snprintf(head, sizeof head, "%s", title ? title : "");
            if (!title)
                snprintf(head, sizeof head, "%s over %s and %s (mean)", what_name, ax[0].name,
                         ax[1].name);
            fputs("set title ", g);
            gp_str(g, head);
            fputs(" . \"\\n\" . ", g);
            gp_str(g, sub);
            fputs("\nset xlabel ", g);
            gp_str(g, xl);
            fputs("\nset ylabel ", g);
            gp_str(g, yl);
            fputs("\nset cblabel ", g);
            gp_str(g, m[i]->label);
            fputs("\nunset logscale\nunset key\nunset grid\nset autoscale\n"
                  "set offsets 0,0,0,0\n", g);
            fprintf(g, "set xrange [-0.5:%zu.5]\nset yrange [-0.5:%zu.5]\n", ax[0].n - 1,
                    ax[1].n - 1);
            write_axis_tics(g, "x", &ax[0]);
            write_axis_tics(g, "y", &ax[1]);
            double lo = INFINITY, hi = -INFINITY;
            for (size_t p = 0; p < points; p++)
                if (done[p] && isfinite(mean[i][p])) {
                    lo = fmin(lo, mean[i][p]);
                    hi = fmax(hi, mean[i][p]);
                }
            /* a log colour scale only where the values span more than a decade or so */
            fprintf(g, "%s logscale cb\n", m[i]->logy && lo > 0 && hi > 20 * lo ? "set"
                                                                                  : "unset");
            fputs("set format cb '%g'\nset palette rgbformulae 33,13,10\n", g);
            fprintf(g, "plot $d%d using 1:2:3 with image, $d%d using 1:2:(sprintf('%%.3g', "
                       "$3)) with labels font ',9' tc rgb 'black'\n", i, i);
            fputs("set grid\n", g);
        }
    }
    fputs("unset multiplot\n", g);
    rc = figure_close(fig, UTIL_OK);
out:
    for (int k = 0; k < 2; k++)
        free(ax[k].v);
    free(done);
    for (int i = 0; i < 8; i++) {
        free(mean[i]);
        free(sd[i]);
        free(ref[i]);
    }
    return rc;
}

/* ---------------------------------------------------------------------------------- */
/* results                                                                              */

static int plot_result(hid_t f, const char *file, struct figure *fig, const char *what,
                       const char *title)
{
    hsize_t dy[2] = {0, 0}, dl[1];
    double *yo = NULL, *yi = NULL;
    int64_t *labels = NULL;
    char profile[64] = "?", head[200], sub[200];
    int rc, confusion = what && !strcmp(what, "confusion");
    if (what && !confusion && strcmp(what, "scatter"))
        return util_error(UTIL_EUSAGE, "--what: '%s' is not scatter, confusion or planes "
                          "for a result file", what);
    util_h5_attr_str(f, file, "/", "profile", profile, sizeof profile);
    util_error_clear();
    if ((rc = util_h5_read_f64(f, file, "/y_optical", 2, dy, &yo)))
        return rc;
    if ((rc = util_h5_read_f64(f, file, "/y_ideal", 2, dy, &yi)))
        goto out;
    size_t rows = (size_t)dy[0], nout = (size_t)dy[1];
    if (confusion) {
        if (!util_h5_exists(f, "/labels")) {
            rc = util_error(UTIL_EDATA, "--what confusion: '%s' has no /labels", file);
            goto out;
        }
        dl[0] = rows;
        if ((rc = util_h5_read_i64(f, file, "/labels", 1, dl, &labels)))
            goto out;
        size_t k = nout;
        for (size_t r = 0; r < rows; r++) {
            if (labels[r] < 0 || labels[r] > 10000) {
                rc = util_error(UTIL_EDATA, "'/labels' in '%s': label %lld out of range",
                                file, (long long)labels[r]);
                goto out;
            }
            if ((size_t)labels[r] + 1 > k)
                k = (size_t)labels[r] + 1;
        }
        int64_t *cm = calloc(k * k, sizeof *cm);
        if (!cm) {
            rc = util_error(UTIL_ENOMEM, "out of memory");
            goto out;
        }
        size_t right = 0;
        for (size_t r = 0; r < rows; r++) {
            size_t best = 0;
            for (size_t j = 1; j < nout; j++)
                if (yo[r * nout + j] > yo[r * nout + best])
                    best = j;
            cm[(size_t)labels[r] * k + best]++;
            right += best == (size_t)labels[r];
        }
        fig->width = fig->height > fig->width ? fig->height : fig->width;
        fig->height = fig->width;
        if ((rc = figure_open(fig, 1, 1))) {
            free(cm);
            goto out;
        }
        FILE *g = fig->g;
        fputs("$cm << EOD\n", g);
        for (size_t t = 0; t < k; t++) {
            int64_t tot = 0;
            for (size_t p = 0; p < k; p++)
                tot += cm[t * k + p];
            for (size_t p = 0; p < k; p++)
                fprintf(g, "%zu %zu %lld %.6f\n", p, t, (long long)cm[t * k + p],
                        tot ? (double)cm[t * k + p] / (double)tot : 0.0);
        }
        fputs("EOD\n", g);
        free(cm);
        snprintf(head, sizeof head, "%s", title ? title : "confusion matrix of the optical "
                                                          "predictions");
        snprintf(sub, sizeof sub, "profile %s, %zu rows, optical accuracy %.2f%%", profile,
                 rows, rows ? 100.0 * (double)right / (double)rows : 0.0);
        fputs("set title ", g);
        gp_str(g, head);
        fputs(" . \"\\n\" . ", g);
        gp_str(g, sub);
        fputs("\nset xlabel 'predicted class (argmax of y_optical)'\n"
              "set ylabel 'true class (label)'\n"
              "set cblabel 'fraction of the true class (row-normalised)'\n"
              "unset key\nunset grid\nset size ratio -1\n", g);
        fprintf(g, "set xrange [-0.5:%zu.5]\nset yrange [%zu.5:-0.5]\nset cbrange [0:1]\n"
                   "set xtics 1\nset ytics 1\n", k - 1, k - 1);
        fputs("set palette defined (0 'white', 0.3 '#9ecae1', 1 '#08306b')\n"
              "plot $cm using 1:2:4 with image, $cm using 1:2:(sprintf('%d', $3)):"
              "($4 > 0.5 ? 0xffffff : 0) with labels font ',9' tc rgb variable\n", g);
    } else {
        double rel = NAN, snr = NAN;
        util_h5_attr_f64(f, file, "/metrics", "rel_rms", &rel);
        util_h5_attr_f64(f, file, "/metrics", "snr_db", &snr);
        util_error_clear();
        double lo = INFINITY, hi = -INFINITY;
        for (size_t i = 0; i < rows * nout; i++) {
            lo = fmin(lo, fmin(yi[i], yo[i]));
            hi = fmax(hi, fmax(yi[i], yo[i]));
        }
        double pad = 0.03 * (hi - lo > 0 ? hi - lo : 1);
        fig->width = fig->height > fig->width ? fig->height : fig->width;
        fig->height = fig->width;
        if ((rc = figure_open(fig, 1, 1)))
            goto out;
        FILE *g = fig->g;
        fputs("$s << EOD\n", g);
        for (size_t i = 0; i < rows * nout; i++)
            fprintf(g, "%.9g %.9g\n", yi[i], yo[i]);
        fputs("EOD\n", g);
        snprintf(head, sizeof head, "%s", title ? title : "optical versus ideal output");
        snprintf(sub, sizeof sub, "profile %s, %zu rows x %zu outputs; rel. RMS error %.3g, "
                 "SNR %.1f dB", profile, rows, nout, rel, snr);
        fputs("set title ", g);
        gp_str(g, head);
        fputs(" . \"\\n\" . ", g);
        gp_str(g, sub);
        fputs("\nset xlabel 'ideal output y_ideal (numeric ACDC model, output units)'\n"
              "set ylabel 'optical output y_optical (output units)'\n"
              "set key top left\nset size ratio -1\n", g);
        fprintf(g, "set xrange [%.9g:%.9g]\nset yrange [%.9g:%.9g]\n", lo - pad, hi + pad,
                lo - pad, hi + pad);
        fputs("plot $s using 1:2 with points pt 7 ps 0.35 lc rgb '#801f77b4' "
              "title 'one output of one row', x with lines lw 1.5 dt 2 lc rgb '#d62728' "
              "title 'y_optical = y_ideal'\n", g);
    }
    rc = figure_close(fig, UTIL_OK);
out:
    free(yo);
    free(yi);
    free(labels);
    return rc;
}

/* Intensity and phase at every saved plane (simulate --save-planes) for one input. */
static int plot_planes(hid_t f, const char *file, struct figure *fig, size_t row,
                       const char *title)
{
    hsize_t dp[4] = {0, 0, 0, 2}, dq[1];
    double *field = NULL, *pitch = NULL;
    char *names = NULL, profile[64] = "?";
    int rc;
    if (!util_h5_exists(f, "/planes/field"))
        return util_error(UTIL_EDATA, "--what planes: '%s' has no saved planes (run acdc "
                          "simulate with --save-planes K)", file);
    util_h5_attr_str(f, file, "/", "profile", profile, sizeof profile);
    util_error_clear();
    if ((rc = util_h5_read_f64(f, file, "/planes/field", 4, dp, &field)))
        return rc;
    size_t K = (size_t)dp[0], P = (size_t)dp[1], M = (size_t)dp[2];
    dq[0] = P;
    if ((rc = util_h5_read_f64(f, file, "/planes/pitch_m", 1, dq, &pitch)))
        goto out;
    if (row >= K) {
        rc = util_error(UTIL_EUSAGE, "--row %zu: '%s' holds the planes of %zu input%s", row,
                        file, K, K == 1 ? "" : "s");
        goto out;
    }
    names = calloc(P * 64 + 64, 1);
    if (!names) {
        rc = util_error(UTIL_ENOMEM, "out of memory");
        goto out;
    }
    if (util_h5_attr_str(f, file, "/planes", "names", names, P * 64 + 64))
        names[0] = '\0';
    util_error_clear();
    fig->height = fig->height * 3 / 5;
    if ((rc = figure_open(fig, 2, (int)P)))
        goto out;
    FILE *g = fig->g;
    char *save = NULL, *name = strtok_r(names, ";", &save);
    fprintf(g, "set multiplot layout %zu,2\nunset key\nset format x '%%g'\n", P);
    for (size_t p = 0; p < P; p++, name = name ? strtok_r(NULL, ";", &save) : NULL) {
        const double *e = field + ((row * P + p) * M) * 2;
        char head[200];
        fprintf(g, "$p%zu << EOD\n", p);
        for (size_t j = 0; j < M; j++) {
            double re = e[2 * j], im = e[2 * j + 1];
            fprintf(g, "%.9g %.9g %.9g\n", ((double)j - (double)(M / 2)) * pitch[p] * 1e3,
                    re * re + im * im, atan2(im, re));
        }
        fputs("EOD\n", g);
        for (int k = 0; k < 2; k++) {
            snprintf(head, sizeof head, "%s%s%s: %s", p == 0 && title ? title : "",
                     p == 0 && title ? " -- " : "", name ? name : "plane",
                     k ? "phase" : "intensity");
            fputs("set title ", g);
            gp_str(g, head);
            fputs("\nset xlabel 'position x (mm)'\nset ylabel ", g);
            gp_str(g, k ? "phase (rad)" : "intensity |E|^2 (W/m)");
            fputs("\n", g);
            if (k)
                fputs("set yrange [-3.3:3.3]\nset ytics ('-pi' -pi, '-pi/2' -pi/2, '0' 0, "
                      "'pi/2' pi/2, 'pi' pi)\n", g);
            else
                fputs("set autoscale y\nset ytics auto\n", g);
            fprintf(g, "plot $p%zu using 1:%d with %s lc rgb '%s'\n", p, k ? 3 : 2,
                    k ? "points pt 7 ps 0.4" : "lines lw 1", k ? "#d62728" : "#1f77b4");
        }
    }
    fputs("unset multiplot\n", g);
    rc = figure_close(fig, UTIL_OK);
out:
    free(field);
    free(pitch);
    free(names);
    return rc;
}

int cmd_plot(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'}, {"what", required_argument, 0, 'w'},
        {"stage", required_argument, 0, 'c'},  {"title", required_argument, 0, 't'},
        {"size", required_argument, 0, 'z'},   {"row", required_argument, 0, 'r'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    const char *out = NULL, *what = NULL, *title = NULL;
    int stage = -1, c, rc = UTIL_OK;
    size_t row = 0;
    int64_t iv;
    struct figure fig = {.width = 720, .height = 480};
    optind = 0;
    opterr = 0;
    while (rc == UTIL_OK && (c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'w': what = optarg; break;
        case 't': title = optarg; break;
        case 'c':
            if (!(rc = util_parse_int(optarg, "--stage", 0, 1000, &iv)))
                stage = (int)iv;
            break;
        case 'r':
            if (!(rc = util_parse_int(optarg, "--row", 0, 1000000, &iv)))
                row = (size_t)iv;
            break;
        case 'z': {
            int w, h;
            char tail;
            if (sscanf(optarg, "%dx%d%c", &w, &h, &tail) != 2 || w < 100 || h < 100 ||
                w > 10000 || h > 10000)
                rc = util_error(UTIL_EUSAGE, "--size: '%s' is not WxH (100..10000 pixels)",
                                optarg);
            fig.width = w;
            fig.height = h;
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
    if (lo >= 4 && !strcmp(out + lo - 4, ".svg"))
        fig.svg = 1;
    else if (!(lo >= 4 && !strcmp(out + lo - 4, ".png")))
        return cli_usage_error("plot", "'%s': the output must end in .png or .svg", out);
    if (has_control(out))
        return cli_usage_error("plot", "the output name contains control characters");
    if (title && has_control(title))
        return cli_usage_error("plot", "--title contains control characters");
    fig.out = out;
    const char *file = argv[optind];
    hid_t f;
    char fmt[64] = "";
    if ((rc = util_h5_open(file, &f)))
        return cli_fail("plot", rc);
    if (!util_h5_attr_exists(f, "/", "format") ||
        util_h5_attr_str(f, file, "/", "format", fmt, sizeof fmt)) {
        H5Fclose(f);
        return cli_fail("plot", util_error(UTIL_EDATA, "'%s' is neither a sweep nor a "
                                           "simulation result: it has no format attribute",
                                           file));
    }
    struct sigaction sa = {0}, old_int, old_term, old_pipe;
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    /* A gnuplot that dies early must give an error message, not kill us by SIGPIPE. */
    struct sigaction ign = {0};
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, &old_pipe);
    if (!strcmp(fmt, "acdc-sweep")) {
        rc = plot_sweep(f, file, &fig, what, stage, title);
    } else if (!strcmp(fmt, "acdc-result")) {
        rc = stage >= 0 ? util_error(UTIL_EUSAGE, "--stage is for sweep files")
             : what && !strcmp(what, "planes") ? plot_planes(f, file, &fig, row, title)
                                               : plot_result(f, file, &fig, what, title);
    } else {
        rc = util_error(UTIL_EDATA, "'%s' is neither a sweep (acdc-sweep) nor a simulation "
                        "result (acdc-result): its format is '%s'", file, fmt);
    }
    figure_close(&fig, rc ? rc : UTIL_EDATA);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGPIPE, &old_pipe, NULL);
    H5Fclose(f);
    if (rc)
        return cli_fail("plot", rc);
    printf("wrote '%s'\n", out);
    return cli_finish("plot");
}
