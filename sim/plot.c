/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sim/plot.c -- see plot.h. */
#include "sim/plot.h"
#include "util/error.h"
#include "util/gnuplot.h"
#include "util/h5.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

acdc_sim_plot_options acdc_sim_plot_defaults(void)
{
    return (acdc_sim_plot_options){.what = NULL, .stage = -1, .row = 0, .title = NULL,
                                   .width = 720, .height = 480, .data = NULL, .script = NULL};
}

/* ---------------------------------------------------------------------------------- */
/* the figure                                                                           */

struct figure {
    const char *out;
    int width, height;   /* per panel */
    const char *data, *script;   /* kept beside the figure, or NULL */
    const volatile sig_atomic_t *stop;
    acdc_util_gnuplot *gp;
    FILE *g;
};

static struct figure figure_make(const char *out, const acdc_sim_plot_options *o,
                                 const volatile sig_atomic_t *stop)
{
    return (struct figure){.out = out, .width = o->width, .height = o->height,
                           .data = o->data, .script = o->script, .stop = stop};
}

/* Starts the figure: the terminal for its extension (acdc_util_gnuplot_terminal: PNG, SVG or
 * PDF, enhanced text), cols × rows panels, and the common style -- a light grid, the
 * key outside the plot, below it, where it never covers data. */
static int figure_open(struct figure *f, int cols, int rows)
{
    int rc = acdc_util_gnuplot_open(&f->gp, f->out);
    if (rc)
        return rc;
    if ((rc = acdc_util_gnuplot_keep(f->gp, f->script, f->data))) {
        acdc_util_gnuplot_abort(f->gp);
        f->gp = NULL;
        return rc;
    }
    f->g = acdc_util_gnuplot_file(f->gp);
    acdc_util_gnuplot_terminal(f->gp, f->width * cols, f->height * rows);
    fputs("set grid lc rgb '#d0d0d0'\n"
          "set key outside below center horizontal maxrows 1 nobox\n",
          f->g);
    return ACDC_UTIL_OK;
}

/* Ends the figure: written when gnuplot succeeded and no signal came. */
static int figure_close(struct figure *f)
{
    acdc_util_gnuplot *gp = f->gp;
    f->gp = NULL;
    if (f->stop && *f->stop) {
        acdc_util_gnuplot_abort(gp);
        return acdc_util_error(ACDC_UTIL_EINTR, "interrupted; '%s' not written", f->out);
    }
    return acdc_util_gnuplot_close(gp);
}

/* "Fresnel propagation, objective lens": the optics a result ran, which every figure of
 * it states. */
static const char *optics_text(enum acdc_sim_propagation prop, enum acdc_optics_lens_model lens,
                               char *buf, size_t n)
{
    snprintf(buf, n, "%s propagation, %s lens", acdc_sim_propagation_name(prop),
             acdc_optics_lens_model_name(lens));
    return buf;
}

/* Writes s as a gnuplot string of literal enhanced text (names from data: a profile
 * "slm_8" keeps its underscore). */
static void text(FILE *g, const char *s)
{
    size_t cap = 2 * strlen(s) + 1;
    char *e = malloc(cap);
    if (e)
        acdc_util_gnuplot_escape(s, e, cap);   /* the buffer always suffices */
    acdc_util_gnuplot_str(g, e ? e : "");
    free(e);
}

/* The same in a smaller font (an enhanced-text font block scaling by 0.85): subtitles. */
static void small_text(FILE *g, const char *s)
{
    size_t cap = 2 * strlen(s) + 16;
    char *e = malloc(cap);
    if (e) {
        memcpy(e, "{/*0.85 ", 8);
        acdc_util_gnuplot_escape(s, e + 8, cap - 10);
        strcat(e, "}");
    }
    acdc_util_gnuplot_str(g, e ? e : "");
    free(e);
}

/* "set title" (or "set multiplot ... title" when cmd says so) with a heading in words
 * and one or two lines of the conditions in a smaller font.  All three are literal text
 * (escaped), so a name from the data is never read as markup. */
static void title3(FILE *g, const char *cmd, const char *head, const char *sub,
                   const char *sub2)
{
    fprintf(g, "%s ", cmd);
    text(g, head);
    if (sub) {
        fputs(" . \"\\n\" . ", g);
        small_text(g, sub);
    }
    if (sub2) {
        fputs(" . \"\\n\" . ", g);
        small_text(g, sub2);
    }
    fputs("\n", g);
}

static void title2(FILE *g, const char *head, const char *sub)
{
    title3(g, "set title", head, sub, NULL);
}

/* The palettes: viridis (perceptually uniform, readable in grey; van der Walt & Smith,
 * matplotlib 1.5) by 11 of its colour stops, and a hue wheel at reduced saturation for
 * the phase, cyclic so that -pi and pi are one colour, and never white (the mask). */
static const char PALETTE_VIRIDIS[] =
    "set palette model RGB defined (0 '#440154', 1 '#482475', 2 '#414487', 3 '#355f8d', "
    "4 '#2a788e', 5 '#21918c', 6 '#22a884', 7 '#44bf70', 8 '#7ad151', 9 '#bddf26', "
    "10 '#fde725')\n";
static const char PALETTE_PHASE[] =
    "set palette model HSV defined (0 0 0.75 0.9, 1 1 0.75 0.9)\n";

/* ---------------------------------------------------------------------------------- */
/* sweeps                                                                               */

/* The swept parameter in words: a noun for titles ("mask phase resolution"), and the
 * axis label with its unit, in enhanced text. */
static void param_words(const acdc_sim_sweep_param *a, char *noun, size_t ncap, char *label,
                        size_t lcap)
{
    char name[160], unit[48];
    acdc_util_gnuplot_escape(a->name, name, sizeof name);
    acdc_util_gnuplot_escape(!strcmp(a->unit, "um") ? "µm" : a->unit, unit, sizeof unit);
    switch (a->kind) {
    case ACDC_SIM_SWEEP_PHOTONS:
        snprintf(noun, ncap, "photon budget");
        snprintf(label, lcap, "photon budget (photons per inference on the input modulator)");
        break;
    case ACDC_SIM_SWEEP_PHASE_BITS:
        snprintf(noun, ncap, "mask phase resolution");
        snprintf(label, lcap, "mask phase resolution B (bits: 2^{B} levels over 2π)");
        break;
    case ACDC_SIM_SWEEP_AMPLITUDE_BITS:
        snprintf(noun, ncap, "mask amplitude resolution");
        snprintf(label, lcap, "mask amplitude resolution B (bits: 2^{B} levels)");
        break;
    case ACDC_SIM_SWEEP_PHASE_ERROR:
        snprintf(noun, ncap, "mask phase error");
        snprintf(label, lcap, "rms phase error per mask pixel σ_{φ} (rad)");
        break;
    default:
        snprintf(noun, ncap, "%s", a->name);
        snprintf(label, lcap, "%.120s (%.40s)", name, *a->unit ? unit : "dimensionless");
    }
}

/* Each metric in words: a noun for titles and an axis label in enhanced text, in the
 * order of sim/metrics.h. */
static const struct metric_words {
    const char *noun, *label;
} METRIC_WORDS[] = {
    [ACDC_SIM_METRIC_REL_RMS] = {"Relative RMS error", "relative RMS error "
                                 "‖y_{opt} − y_{ideal}‖ / ‖y_{ideal}‖"},
    [ACDC_SIM_METRIC_MAX_ABS] = {"Largest output error",
                                 "max |y_{opt} − y_{ideal}| (output units)"},
    [ACDC_SIM_METRIC_SNR_DB] = {"Signal-to-noise ratio", "signal-to-noise ratio (dB)"},
    [ACDC_SIM_METRIC_COSINE] = {"Cosine similarity", "cosine similarity of y_{opt} and y_{ideal}"},
    [ACDC_SIM_METRIC_ACC_OPTICAL] = {"Optical accuracy", "optical accuracy on the labels (%)"},
    [ACDC_SIM_METRIC_ACC_IDEAL] = {"Numeric accuracy",
                                   "numeric (ideal) accuracy on the labels (%)"},
    [ACDC_SIM_METRIC_AGREEMENT] = {"Agreement", "optical and ideal predictions agreeing (%)"},
};
_Static_assert(sizeof METRIC_WORDS / sizeof *METRIC_WORDS == ACDC_SIM_METRIC_COUNT,
               "a metric without words in sim/plot.c");

static void tic_text(int logx, double v, char *buf, size_t cap)
{
    double e = v > 0 ? log10(v) : 0;
    if (logx && v > 0 && fabs(e - round(e)) < 1e-9 && fabs(e) >= 3)
        snprintf(buf, cap, "10^{%.0f}", e);
    else
        snprintf(buf, cap, "%.3g", v);
}

static void write_axis_tics(FILE *g, const char *which, const acdc_sim_sweep_param *p,
                            const double *v)
{
    size_t n = p->steps, every = n > 12 ? (n + 11) / 12 : 1;
    fprintf(g, "set %stics (", which);
    for (size_t i = 0; i < n; i++) {
        char t[32];
        if (i % every && i != n - 1)
            continue;
        tic_text(p->spacing == 1, v[i], t, sizeof t);
        fprintf(g, "%s'%s' %zu", i ? ", " : "", t, i);
    }
    fputs(")\n", g);
}

/* A panel: a metric of the table, or "accuracy" (acc_optical against acc_ideal). */
struct panel {
    const char *key;     /* as asked for */
    int metric, ref;     /* enum acdc_sim_metric; ref -1 or the dashed reference */
    const char *noun, *label;   /* in words: the title's noun, the axis label */
};

static int find_panel(const char *key, struct panel *p)
{
    if (!strcmp(key, "accuracy")) {
        *p = (struct panel){key, ACDC_SIM_METRIC_ACC_OPTICAL, ACDC_SIM_METRIC_ACC_IDEAL, "Accuracy",
                            "accuracy on the labels (%)"};
        return 1;
    }
    int m = acdc_sim_metric_find(key);
    if (m < 0)
        return 0;
    *p = (struct panel){key, m, -1, METRIC_WORDS[m].noun, METRIC_WORDS[m].label};
    return 1;
}

/* "rel_rms, max_abs, ..., accuracy, acc_optical, ..." for the error message. */
static void panel_names(char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0, acc = 0; i < ACDC_SIM_METRIC_COUNT && len < cap; i++) {
        if (acdc_sim_metric_info(i)->labels && !acc++)
            len += (size_t)snprintf(buf + len, cap - len, "%saccuracy", len ? ", " : "");
        if (len < cap)
            len += (size_t)snprintf(buf + len, cap - len, "%s%s", len ? ", " : "",
                                    acdc_sim_metric_info(i)->name);
    }
}

/* An integer setting NAME=V of a sweep's settings string ("...;oversample=4;..."), or
 * def where it is not named (or there is no string). */
static long settings_int(const char *settings, const char *name, long def)
{
    size_t n = strlen(name);
    for (const char *p = settings; p && *p; p = strchr(p, ';') ? strchr(p, ';') + 1 : NULL)
        if (!strncmp(p, name, n) && p[n] == '=')
            return strtol(p + n + 1, NULL, 10);
    return def;
}

/* Refuses a panel with nothing to draw: every finished point's mean NaN (a metric the
 * runs could not compute), naming the dataset of the sweep file that holds them. */
static int check_finite(const acdc_sim_sweep *w, const char *name, int stage, const struct panel *m)
{
    const double *mean = w->mean + acdc_sim_sweep_at(w, stage, m->metric);
    for (size_t p = 0; p < w->points; p++)
        if (w->done[p] && isfinite(mean[p]))
            return ACDC_UTIL_OK;
    char ds[96];
    if (stage < 0)
        snprintf(ds, sizeof ds, "/metrics/%s/mean", acdc_sim_metric_info(m->metric)->name);
    else
        snprintf(ds, sizeof ds, "/stages/%d/%s/mean", stage, acdc_sim_metric_info(m->metric)->name);
    return acdc_util_error(ACDC_UTIL_EDATA,
                           "'%s': %s is NaN at every finished point: no %s to plot",
                           name, ds, m->key);
}

static int plot_sweep(const acdc_sim_sweep *w, const char *name, const char *figure,
                      const acdc_sim_plot_options *o, const volatile sig_atomic_t *stop,
                      const char *settings)
{
    struct panel m[4];
    int nm = 0, rc, stage = o->stage, np = w->n_params;
    const char *title = o->title;
    if (stage >= 0 && (size_t)stage >= w->n_chains)
        return acdc_util_error(ACDC_UTIL_EUSAGE,
                               "--stage %d: '%s' has %zu optical chains", stage, name,
                               w->n_chains);
    char list[256];
    snprintf(list, sizeof list, "%s",
             o->what ? o->what : w->labelled ? "rel_rms,accuracy" : "rel_rms");
    for (char *save = NULL, *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        struct panel d;
        if (!find_panel(t, &d)) {
            char known[256];
            panel_names(known, sizeof known);
            return acdc_util_error(ACDC_UTIL_EUSAGE,
                                   "--what: '%s' is not a sweep metric (%s)", t, known);
        }
        if (nm == 4)
            return acdc_util_error(ACDC_UTIL_EUSAGE, "--what: at most 4 metrics");
        if (acdc_sim_metric_info(d.metric)->labels && (!w->labelled || stage >= 0))
            return acdc_util_error(ACDC_UTIL_EDATA, "--what %s: %s", t,
                                   stage >= 0 ? "accuracy is end to end only"
                                         : "the sweep's data had no labels");
        m[nm++] = d;
    }
    if (!nm)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "--what: no metric named");
    size_t points = w->points, ndone = acdc_sim_sweep_done(w);
    if (!ndone)
        return acdc_util_error(ACDC_UTIL_EDATA, "'%s': no finished point to plot yet", name);
    for (int i = 0; i < nm; i++)
        if ((rc = check_finite(w, name, stage, &m[i])))
            return rc;

    /* at most two panels per row */
    const int cols = nm < 2 ? nm : 2, rows = (nm + 1) / 2;
    struct figure fig = figure_make(figure, o, stop);
    if ((rc = figure_open(&fig, cols, rows)))
        return rc;
    FILE *g = fig.g;
    char xl[200], yl[200], noun0[80], noun1[80], sub[400], head[240], chain[32] = "",
         over[48] = "", op[96];
    param_words(&w->param[0], noun0, sizeof noun0, xl, sizeof xl);
    if (np == 2)
        param_words(&w->param[1], noun1, sizeof noun1, yl, sizeof yl);
    if (stage >= 0)
        snprintf(chain, sizeof chain, ", optical chain %d", stage);
    if (settings)
        snprintf(over, sizeof over, "oversampling S = %ld, ",
                 settings_int(settings, "oversample", 1));
    snprintf(sub, sizeof sub, "profile %s, %s%s, %zu rows, %zu trial%s per point%s%s",
             w->profile, over, optics_text(w->propagation, w->lens_model, op, sizeof op),
             w->rows, w->trials, w->trials == 1 ? "" : "s", chain,
             ndone < points ? " (unfinished sweep)" : "");
    /* data blocks: one per metric */
    for (int i = 0; i < nm; i++) {
        const double s = acdc_sim_metric_info(m[i].metric)->plot_scale;
        const double *mean = w->mean + acdc_sim_sweep_at(w, stage, m[i].metric);
        const double *sd = w->sd + acdc_sim_sweep_at(w, stage, m[i].metric);
        const double *ref = m[i].ref >= 0 ? w->mean + acdc_sim_sweep_at(w, -1, m[i].ref) : NULL;
        fprintf(g, "$d%d << EOD\n", i);
        fprintf(g, np == 1 ? "# %s mean sd %s\n" : "# %s_index %s_index mean\n",
                w->param[0].name, np == 1 ? (ref ? "ideal" : "unused") : w->param[1].name);
        for (size_t p = 0; p < points; p++) {
            if (!w->done[p])
                continue;
            if (np == 1)
                fprintf(g, "%.17g %.17g %.17g %.17g\n", w->values[0][p], s * mean[p],
                        s * sd[p], ref ? s * ref[p] : 0.0);
            else
                fprintf(g, "%zu %zu %.17g\n", p / w->dims[1], p % w->dims[1], s * mean[p]);
        }
        fputs("EOD\n", g);
    }
    fprintf(g, "set multiplot layout %d,%d\n", rows, cols);
    for (int i = 0; i < nm; i++) {
        const acdc_sim_metric_desc *md = acdc_sim_metric_info(m[i].metric);
        const int logx = w->param[0].spacing == 1;
        if (title)
            snprintf(head, sizeof head, "%s", title);
        else if (np == 1)
            snprintf(head, sizeof head, "%s against %s", m[i].noun, noun0);
        else
            snprintf(head, sizeof head, "%s over %s and %s (mean)", m[i].noun, noun0, noun1);
        title2(g, head, sub);
        fputs("set xlabel ", g);
        acdc_util_gnuplot_str(g, xl);
        fputs("\n", g);
        if (np == 1) {
            fputs("set ylabel ", g);
            acdc_util_gnuplot_str(g, m[i].label);
            fputs("\n", g);
            fprintf(g, "%s logscale x\n", logx ? "set" : "unset");
            fprintf(g, "%s logscale y\n", md->plot_log ? "set" : "unset");
            fputs(logx ? "set format x '10^{%T}'\n" : "set format x '%g'\n", g);
            fputs(md->plot_log ? "set format y '10^{%T}'\n" : "set format y '%g'\n", g);
            /* log y: let gnuplot extend to whole decades, so that the decades are labelled */
            fputs(md->plot_log ? "set autoscale\nset offsets graph 0.03, graph 0.03, 0, 0\n"
                               : "set autoscale\nset autoscale yfix\nset offsets graph 0.03, "
                                 "graph 0.03, graph 0.08, graph 0.08\n", g);
            fprintf(g, "plot $d%d using 1:2:3 with yerrorlines lw 2 pt 7 ps 0.8 "
                       "lc rgb '#1f77b4' title 'optical: mean ± 1 sd over the trials'", i);
            if (m[i].ref >= 0)
                fprintf(g, ", $d%d using 1:4 with lines dt 2 lw 2 lc rgb '#d62728' "
                           "title 'numeric model (ideal)'", i);
            fputs("\n", g);
        } else {
            const double *mean = w->mean + acdc_sim_sweep_at(w, stage, m[i].metric);
            fputs("set ylabel ", g);
            acdc_util_gnuplot_str(g, yl);
            fputs("\nset cblabel ", g);
            acdc_util_gnuplot_str(g, m[i].label);
            fputs("\n", g);
            fputs("unset logscale\nunset key\nunset grid\nset autoscale\n"
                  "set offsets 0,0,0,0\nset format y '%g'\n", g);
            fprintf(g, "set xrange [-0.5:%zu.5]\nset yrange [-0.5:%zu.5]\n", w->dims[0] - 1,
                    w->dims[1] - 1);
            write_axis_tics(g, "x", &w->param[0], w->values[0]);
            write_axis_tics(g, "y", &w->param[1], w->values[1]);
            double lo = INFINITY, hi = -INFINITY;
            for (size_t p = 0; p < points; p++)
                if (w->done[p] && isfinite(mean[p])) {
                    lo = fmin(lo, md->plot_scale * mean[p]);
                    hi = fmax(hi, md->plot_scale * mean[p]);
                }
            /* a log colour scale only where the values span more than a decade or so */
            const int logcb = md->plot_log && lo > 0 && hi > 20 * lo;
            fprintf(g, "%s logscale cb\n", logcb ? "set" : "unset");
            fputs("set format cb '%g'\n", g);
            fputs(PALETTE_VIRIDIS, g);
            /* each cell's value written on it, white on the dark half of viridis, black
             * on the light half */
            if (hi > lo)
                fprintf(g, "set cbrange [%.17g:%.17g]\n", lo, hi);
            else
                fputs("set cbrange [*:*]\n", g);
            if (!(hi > lo))
                fputs("frac(v) = 0.5\n", g);
            else if (logcb)
                fprintf(g, "frac(v) = log(v / %.17g) / log(%.17g / %.17g)\n", lo, hi, lo);
            else
                fprintf(g, "frac(v) = (v - %.17g) / (%.17g - %.17g)\n", lo, hi, lo);
            fprintf(g, "plot $d%d using 1:2:3 with image, $d%d using 1:2:(sprintf('%%.3g', "
                       "$3)):(frac($3) < 0.55 ? 0xffffff : 0) with labels font ',9' "
                       "tc rgb variable\n", i, i);
            fputs("set grid\n", g);
        }
    }
    fputs("unset multiplot\n", g);
    return figure_close(&fig);
}

int acdc_sim_plot_sweep(const acdc_sim_sweep *w, const char *name, const char *figure,
                        const acdc_sim_plot_options *o, const volatile sig_atomic_t *stop)
{
    return plot_sweep(w, name, figure, o, stop, NULL);
}

/* ---------------------------------------------------------------------------------- */
/* results                                                                              */

/* "profile slm8, oversampling S = 4, Fresnel propagation, objective lens, 1000 rows":
 * the conditions a result ran under, the subtitle of its figures. */
static const char *result_conditions(const acdc_sim_result *r, char *buf, size_t cap)
{
    char over[48] = "", op[96];
    if (r->oversample > 0)
        snprintf(over, sizeof over, "oversampling S = %d, ", r->oversample);
    snprintf(buf, cap, "profile %s, %s%s, %zu rows", r->profile, over,
             optics_text(r->propagation, r->lens.model, op, sizeof op), r->rows);
    return buf;
}

static int plot_confusion(const acdc_sim_result *r, const char *name, struct figure *fig,
                          const char *title)
{
    const size_t rows = r->rows, nout = r->n_out;
    char head[200], sub[320];
    int rc;
    if (!r->labels)
        return acdc_util_error(ACDC_UTIL_EDATA, "--what confusion: '%s' has no /labels", name);
    size_t k = nout;
    for (size_t i = 0; i < rows; i++) {
        if (r->labels[i] < 0 || r->labels[i] > 10000)
            return acdc_util_error(ACDC_UTIL_EDATA,
                                   "'/labels' in '%s': label %lld out of range", name,
                                   (long long)r->labels[i]);
        if ((size_t)r->labels[i] + 1 > k)
            k = (size_t)r->labels[i] + 1;
    }
    int64_t *cm = calloc(k * k, sizeof *cm);
    if (!cm)
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
    size_t right = 0;
    for (size_t i = 0; i < rows; i++) {
        size_t best = acdc_sim_argmax(r->y_optical + i * nout, nout);
        cm[(size_t)r->labels[i] * k + best]++;
        right += best == (size_t)r->labels[i];
    }
    fig->width = fig->height > fig->width ? fig->height : fig->width;
    fig->height = fig->width;
    if ((rc = figure_open(fig, 1, 1))) {
        free(cm);
        return rc;
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
    snprintf(head, sizeof head, "%s", title ? title : "Confusion matrix of the optical "
                                                      "predictions");
    char acc[64];
    result_conditions(r, sub, sizeof sub);
    snprintf(acc, sizeof acc, "optical accuracy %.2f%%",
             rows ? 100.0 * (double)right / (double)rows : 0.0);
    title3(g, "set title", head, sub, acc);
    fputs("set xlabel 'predicted class (argmax of y_{opt})'\n"
          "set ylabel 'true class (label)'\n"
          "set cblabel 'fraction of the true class (row-normalised)'\n"
          "unset key\nunset grid\nset size ratio -1\n", g);
    fprintf(g, "set xrange [-0.5:%zu.5]\nset yrange [%zu.5:-0.5]\nset cbrange [0:1]\n"
               "set xtics 1\nset ytics 1\n", k - 1, k - 1);
    /* viridis; each cell's count in white on the dark half, black on the light half */
    fputs(PALETTE_VIRIDIS, g);
    fputs("plot $cm using 1:2:4 with image, $cm using 1:2:(sprintf('%d', $3)):"
          "($4 < 0.55 ? 0xffffff : 0) with labels font ',9' tc rgb variable\n", g);
    return figure_close(fig);
}

static int plot_scatter(const acdc_sim_result *r, struct figure *fig, const char *title)
{
    const size_t n = r->rows * r->n_out;
    const double *yo = r->y_optical, *yi = r->y_ideal;
    char head[200], sub[320];
    double rel, snr, sd;
    int rc;
    acdc_sim_result_stats(r, -1, ACDC_SIM_METRIC_REL_RMS, &rel, &sd);
    acdc_sim_result_stats(r, -1, ACDC_SIM_METRIC_SNR_DB, &snr, &sd);
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        lo = fmin(lo, fmin(yi[i], yo[i]));
        hi = fmax(hi, fmax(yi[i], yo[i]));
    }
    double pad = 0.03 * (hi - lo > 0 ? hi - lo : 1);
    fig->width = fig->height > fig->width ? fig->height : fig->width;
    fig->height = fig->width;
    if ((rc = figure_open(fig, 1, 1)))
        return rc;
    FILE *g = fig->g;
    fputs("$s << EOD\n", g);
    for (size_t i = 0; i < n; i++)
        fprintf(g, "%.9g %.9g\n", yi[i], yo[i]);
    fputs("EOD\n", g);
    snprintf(head, sizeof head, "%s", title ? title : "Optical against ideal output");
    char sub2[160];
    result_conditions(r, sub, sizeof sub);
    snprintf(sub2, sizeof sub2, "%zu outputs per row; relative RMS error %.3g, SNR %.1f dB",
             r->n_out, rel, snr);
    title3(g, "set title", head, sub, sub2);
    fputs("set xlabel 'ideal output y_{ideal} (numeric ACDC model, output units)'\n"
          "set ylabel 'optical output y_{opt} (output units)'\n"
          "set size ratio -1\n", g);
    fprintf(g, "set xrange [%.9g:%.9g]\nset yrange [%.9g:%.9g]\n", lo - pad, hi + pad,
            lo - pad, hi + pad);
    fputs("plot $s using 1:2 with points pt 7 ps 0.35 lc rgb '#801f77b4' "
          "title 'one output of one row', x with lines lw 1.5 dt 2 lc rgb '#d62728' "
          "title 'y_{opt} = y_{ideal}'\n", g);
    return figure_close(fig);
}

int acdc_sim_plot_result(const acdc_sim_result *r, const char *name, const char *figure,
                         const acdc_sim_plot_options *o, const volatile sig_atomic_t *stop)
{
    struct figure fig = figure_make(figure, o, stop);
    if (o->what && !strcmp(o->what, "confusion"))
        return plot_confusion(r, name, &fig, o->title);
    if (o->what && strcmp(o->what, "scatter"))
        return acdc_util_error(ACDC_UTIL_EUSAGE, "--what: '%s' is not scatter, confusion or planes "
                               "for a result file", o->what);
    return plot_scatter(r, &fig, o->title);
}

/* ---------------------------------------------------------------------------------- */
/* planes                                                                               */

/* 2D planes wider than this are drawn as block means: a pixel of the figure cannot show
 * more, and the data going down the pipe stays below about 1 MB per panel. */
enum { PLANE_MAX_SIDE = 512 };

/* Intensities more than PLANE_DECADES decades under the plane's peak are drawn at the
 * floor of the log colour scale, and their phase (noise once the light is gone) is
 * masked. */
static const double PLANE_DECADES = 6;

/* One 2D plane as the figure shows it: the samples ix0 .. ix0 + wx − 1, iy0 .. iy0 +
 * wy − 1 of the plane, drawn as ox × oy pixels of b × b samples each (the last ones
 * partial where b does not divide the window), row-major, x fastest. */
struct plane_image {
    size_t ix0, iy0, wx, wy, b, ox, oy;
    float *in;     /* mean |E|² of the block, clamped to [lo, peak] for the log scale */
    float *ph;     /* argument of the block's mean field; NaN (not drawn) where masked */
    double peak, lo;
};

/* Fills im from the nx × ny field e.  The window is the square about the optical axis
 * (sample ⌊nx/2⌋, ⌊ny/2⌋) that holds every sample within PLANE_DECADES of the peak, with
 * a margin: an oversampled simulation's window is S times wider than its devices, and
 * the dark rest would shrink the devices' planes to a corner of the panel.  Intensity is
 * the block mean of |E|² (the power the block receives); phase the argument of the mean
 * field (a mean of angles would break where they wrap at ±pi). */
static void plane_image_fill(struct plane_image *im, const double complex *e, size_t nx,
                             size_t ny)
{
    const size_t cx = nx / 2, cy = ny / 2;
    double peak = 0;
    for (size_t k = 0; k < nx * ny; k++)
        peak = fmax(peak, creal(e[k]) * creal(e[k]) + cimag(e[k]) * cimag(e[k]));
    const double lit = peak * pow(10, -PLANE_DECADES);
    size_t h = 0;   /* the window's half-width in samples */
    for (size_t iy = 0; iy < ny && peak > 0; iy++)
        for (size_t ix = 0; ix < nx; ix++) {
            double complex v = e[iy * nx + ix];
            if (creal(v) * creal(v) + cimag(v) * cimag(v) >= lit) {
                size_t dx = ix > cx ? ix - cx : cx - ix, dy = iy > cy ? iy - cy : cy - iy;
                h = dx > h ? dx : h;
                h = dy > h ? dy : h;
            }
        }
    h = peak > 0 ? h + (h / 16 > 2 ? h / 16 : 2) : nx + ny;
    im->ix0 = cx > h ? cx - h : 0;
    im->iy0 = cy > h ? cy - h : 0;
    im->wx = (cx + h < nx ? cx + h + 1 : nx) - im->ix0;
    im->wy = (cy + h < ny ? cy + h + 1 : ny) - im->iy0;
    const size_t w = im->wx > im->wy ? im->wx : im->wy, b = (w + PLANE_MAX_SIDE - 1) /
                                                            PLANE_MAX_SIDE;
    im->b = b;
    im->ox = (im->wx + b - 1) / b;
    im->oy = (im->wy + b - 1) / b;
    im->peak = 0;
    for (size_t py = 0; py < im->oy; py++)
        for (size_t px = 0; px < im->ox; px++) {
            const size_t x0 = im->ix0 + px * b, y0 = im->iy0 + py * b;
            const size_t x1 = x0 + b < im->ix0 + im->wx ? x0 + b : im->ix0 + im->wx;
            const size_t y1 = y0 + b < im->iy0 + im->wy ? y0 + b : im->iy0 + im->wy;
            double in = 0;
            double complex sum = 0;
            for (size_t iy = y0; iy < y1; iy++)
                for (size_t ix = x0; ix < x1; ix++) {
                    double complex v = e[iy * nx + ix];
                    in += creal(v) * creal(v) + cimag(v) * cimag(v);
                    sum += v;
                }
            in /= (double)((x1 - x0) * (y1 - y0));
            im->in[py * im->ox + px] = (float)in;
            im->ph[py * im->ox + px] = (float)carg(sum);
            im->peak = fmax(im->peak, in);
        }
    im->lo = im->peak * pow(10, -PLANE_DECADES);
    for (size_t k = 0; k < im->ox * im->oy; k++) {
        if (!(im->in[k] >= im->lo) || im->peak <= 0)
            im->ph[k] = NAN;
        im->in[k] = (float)fmax(im->in[k], im->lo);
    }
}

/* A tic step of 1, 2 or 5 × 10^k giving about 4 to 6 tics over span: gnuplot's own
 * choice does not know how narrow a panel is, and its labels would run together. */
static double tic_step(double span)
{
    double raw = span / 5, p = pow(10, floor(log10(raw))), f = raw / p;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

/* Intensity and phase of every 2D plane of input row: one row of two image panels per
 * plane. */
static int plot_planes_2d(const acdc_sim_result *r, char *names, struct figure *fig,
                          const acdc_sim_plot_options *o)
{
    const size_t P = r->n_planes, nx = r->plane_nx, ny = r->plane_ny;
    /* no window is wider than the plane, none drawn with more than PLANE_MAX_SIDE pixels */
    const size_t cap = (nx < PLANE_MAX_SIDE ? nx : PLANE_MAX_SIDE) *
                       (ny < PLANE_MAX_SIDE ? ny : PLANE_MAX_SIDE);
    struct plane_image im = {.in = malloc(cap * sizeof *im.in),
                             .ph = malloc(cap * sizeof *im.ph)};
    int rc;
    if (!im.in || !im.ph) {
        free(im.in);
        free(im.ph);
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for a %zu x %zu plane", nx, ny);
    }
    /* square images: panels of 5:4 (room beside the image for the colour box and its
     * label), as large as --size allows */
    fig->height = o->width * 4 / 5 < o->height ? o->width * 4 / 5 : o->height;
    fig->width = fig->height * 5 / 4;
    if ((rc = figure_open(fig, 2, (int)P))) {
        free(im.in);
        free(im.ph);
        return rc;
    }
    FILE *g = fig->g;
    char *save = NULL, *pname = strtok_r(names, ";", &save);
    /* fixed side margins (characters) keep room for the y label on the left and the
     * colour box, its tics and label on the right however wide the plane is */
    /* the heading and the conditions over the whole figure, once */
    char multi[64], top[200], cond[320];
    snprintf(multi, sizeof multi, "set multiplot layout %zu,2 title", P);
    snprintf(top, sizeof top, "%s", o->title ? o->title : "Intensity and phase at every plane");
    title3(g, multi, top, result_conditions(r, cond, sizeof cond), NULL);
    fputs("unset key\nunset grid\nset size ratio -1\nset lmargin 9\nset rmargin 15\n"
          "set format x '%g'\nset format y '%g'\nset tics out\n"
          "set xlabel 'x (mm)'\nset ylabel 'y (mm)'\n", g);
    for (size_t p = 0; p < P; p++, pname = pname ? strtok_r(NULL, ";", &save) : NULL) {
        plane_image_fill(&im, r->planes + (o->row * P + p) * r->m, nx, ny);
        const double pitch = r->plane_pitch_m[p] * 1e3, d = pitch * (double)im.b;
        /* sample ix sits at (ix − ⌊nx/2⌋)·pitch; a block's centre at the mean of its
         * samples' (a partial last block is drawn at the regular spacing) */
        const double x0 = ((double)im.ix0 + (double)(im.b - 1) / 2 - (double)(nx / 2)) * pitch;
        const double y0 = ((double)im.iy0 + (double)(im.b - 1) / 2 - (double)(ny / 2)) * pitch;
        char head[200], sub[320], shown[80] = "", blocks[64] = "";
        if (im.wx < nx || im.wy < ny)
            snprintf(shown, sizeof shown, "central %zu × %zu of ", im.wx, im.wy);
        if (im.b > 1)
            snprintf(blocks, sizeof blocks, ", %zu × %zu block means", im.b, im.b);
        snprintf(sub, sizeof sub, "%s%zu × %zu samples (%.3g µm)%s", shown, nx, ny,
                 r->plane_pitch_m[p] * 1e6, blocks);
        fprintf(g, "set xrange [%.9g:%.9g]\nset yrange [%.9g:%.9g]\n"
                   "set xtics %.9g\nset ytics %.9g\n", x0 - d / 2,
                x0 + d * ((double)im.ox - 0.5), y0 - d / 2, y0 + d * ((double)im.oy - 0.5),
                tic_step(d * (double)im.ox), tic_step(d * (double)im.oy));
        for (int k = 0; k < 2; k++) {
            snprintf(head, sizeof head, "%s: %s", pname ? pname : "plane",
                     k ? "phase" : "intensity");
            title2(g, head, sub);
            if (k) {
                fputs(PALETTE_PHASE, g);
                fputs("unset logscale cb\nset cbrange [-pi:pi]\nset cbtics ('−π' -pi, "
                      "'−π/2' -pi/2, '0' 0, 'π/2' pi/2, 'π' pi)\n", g);
                fprintf(g, "set cblabel 'phase (rad); white: |E|^{2} < 10^{−%.0f} of the "
                           "peak' offset 0,0\n", PLANE_DECADES);
            } else if (im.peak > 0) {
                fputs(PALETTE_VIRIDIS, g);
                fprintf(g, "set logscale cb\nset cbrange [%.9g:%.9g]\nset cbtics auto\n"
                           "set format cb '10^{%%T}'\nset cblabel 'intensity |E|^{2} (W/m^{2}), "
                           "log scale, %.0f decades' offset 1.5,0\n", (double)(float)im.lo,
                        (double)(float)im.peak, PLANE_DECADES);
            } else {   /* no light at all: a log scale has no range */
                fputs(PALETTE_VIRIDIS, g);
                fputs("unset logscale cb\nset cbrange [0:1]\nset cbtics ('0' 0)\n"
                      "set cblabel 'intensity |E|^{2} (W/m^{2}): no light' offset 0,0\n", g);
            }
            fprintf(g, "plot '-' binary array=(%zu,%zu) dx=%.9g dy=%.9g origin=(%.9g,%.9g) "
                       "format='%%float32' with image\n", im.ox, im.oy, d, d, x0, y0);
            fwrite(k ? im.ph : im.in, sizeof(float), im.ox * im.oy, g);
        }
    }
    fputs("unset multiplot\n", g);
    free(im.in);
    free(im.ph);
    return figure_close(fig);
}

/* Intensity and phase of every 1D plane of input row against x, one row per plane. */
static int plot_planes_1d(const acdc_sim_result *r, char *names, struct figure *fig,
                          const acdc_sim_plot_options *o)
{
    const size_t P = r->n_planes, M = r->m, row = o->row;
    const char *title = o->title;
    int rc;
    fig->height = fig->height * 3 / 5;
    if ((rc = figure_open(fig, 2, (int)P)))
        return rc;
    FILE *g = fig->g;
    char *save = NULL, *pname = strtok_r(names, ";", &save);
    char cond[320], top[200];
    snprintf(top, sizeof top, "%s", title ? title : "Intensity and phase at every plane");
    char multi[64];
    snprintf(multi, sizeof multi, "set multiplot layout %zu,2 title", P);
    title3(g, multi, top, result_conditions(r, cond, sizeof cond), NULL);
    fputs("unset key\nset format x '%g'\n", g);
    for (size_t p = 0; p < P; p++, pname = pname ? strtok_r(NULL, ";", &save) : NULL) {
        const double complex *e = r->planes + (row * P + p) * M;
        char head[300];
        fprintf(g, "$p%zu << EOD\n", p);
        for (size_t j = 0; j < M; j++) {
            double re = creal(e[j]), im = cimag(e[j]);
            fprintf(g, "%.9g %.9g %.9g\n",
                    ((double)j - (double)(M / 2)) * r->plane_pitch_m[p] * 1e3,
                    re * re + im * im, atan2(im, re));
        }
        fputs("EOD\n", g);
        for (int k = 0; k < 2; k++) {
            snprintf(head, sizeof head, "%s: %s", pname ? pname : "plane",
                     k ? "phase" : "intensity");
            fputs("set title ", g);
            text(g, head);
            fputs("\nset xlabel 'position x (mm)'\nset ylabel ", g);
            acdc_util_gnuplot_str(g, k ? "phase (rad)" : "intensity |E|^{2} (W/m)");
            fputs("\n", g);
            if (k)
                fputs("set yrange [-3.3:3.3]\nset ytics ('−π' -pi, '−π/2' -pi/2, '0' 0, "
                      "'π/2' pi/2, 'π' pi)\n", g);
            else
                fputs("set autoscale y\nset ytics auto\n", g);
            fprintf(g, "plot $p%zu using 1:%d with %s lc rgb '%s'\n", p, k ? 3 : 2,
                    k ? "points pt 7 ps 0.4" : "lines lw 1", k ? "#d62728" : "#1f77b4");
        }
    }
    fputs("unset multiplot\n", g);
    return figure_close(fig);
}

int acdc_sim_plot_planes(const acdc_sim_result *r, const char *name, const char *figure,
                         const acdc_sim_plot_options *o, const volatile sig_atomic_t *stop)
{
    const size_t K = r->planes_rows, row = o->row;
    if (!r->planes)
        return acdc_util_error(ACDC_UTIL_EDATA, "--what planes: '%s' has no saved planes (run acdc "
                               "simulate with --save-planes K)", name);
    if (row >= K)
        return acdc_util_error(ACDC_UTIL_EUSAGE,
                               "--row %zu: '%s' holds the planes of %zu input%s", row,
                               name, K, K == 1 ? "" : "s");
    const int twod = r->plane_ny > 1;
    if (twod && r->plane_nx * r->plane_ny != r->m)
        return acdc_util_error(ACDC_UTIL_EUSAGE,
                               "--what planes: '%s': planes of %zu samples are not "
                               "%zu x %zu", name, r->m, r->plane_nx, r->plane_ny);
    char *names = strdup(r->plane_names ? r->plane_names : "");
    if (!names)
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
    if (twod && o->data) {
        free(names);
        return acdc_util_error(ACDC_UTIL_EUSAGE, "--data: the 2D planes go to gnuplot as binary "
                               "images, not as a data file; keep them with --script");
    }
    struct figure fig = figure_make(figure, o, stop);
    int rc = twod ? plot_planes_2d(r, names, &fig, o) : plot_planes_1d(r, names, &fig, o);
    free(names);
    return rc;
}

/* A sweep file's settings string (root attribute "settings"), for the conditions it
 * names beyond the sweep's fields (the oversampling); NULL if it cannot be read. */
static char *read_settings(const char *path)
{
    hid_t f;
    char *buf = malloc(8192);
    if (!buf || acdc_util_h5_open(path, &f)) {
        free(buf);
        acdc_util_error_clear();
        return NULL;
    }
    int ok = acdc_util_h5_attr_exists(f, "/", "settings") &&
             !acdc_util_h5_attr_str(f, path, "/", "settings", buf, 8192);
    H5Fclose(f);
    if (!ok) {
        free(buf);
        acdc_util_error_clear();
        return NULL;
    }
    return buf;
}

int acdc_sim_plot_file(const char *path, const char *figure, const acdc_sim_plot_options *o,
                       const volatile sig_atomic_t *stop)
{
    hid_t f;
    char fmt[64] = "";
    int rc;
    if ((rc = acdc_util_h5_open(path, &f)))
        return rc;
    int has = acdc_util_h5_attr_exists(f, "/", "format") &&
              !acdc_util_h5_attr_str(f, path, "/", "format", fmt, sizeof fmt);
    H5Fclose(f);
    if (!has)
        return acdc_util_error(ACDC_UTIL_EDATA,
                               "'%s' is neither a sweep nor a simulation result: it "
                               "has no format attribute", path);
    if (!strcmp(fmt, "acdc-sweep")) {
        acdc_sim_sweep *w;
        if ((rc = acdc_sim_sweep_read(path, &w)))
            return rc;
        char *settings = read_settings(path);
        rc = plot_sweep(w, path, figure, o, stop, settings);
        free(settings);
        acdc_sim_sweep_free(w);
        return rc;
    }
    if (strcmp(fmt, "acdc-result"))
        return acdc_util_error(ACDC_UTIL_EDATA,
                               "'%s' is neither a sweep (acdc-sweep) nor a simulation "
                               "result (acdc-result): its format is '%s'", path, fmt);
    if (o->stage >= 0)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "--stage is for sweep files");
    int planes = o->what && !strcmp(o->what, "planes");
    if (o->what && !planes && strcmp(o->what, "scatter") && strcmp(o->what, "confusion"))
        return acdc_util_error(ACDC_UTIL_EUSAGE, "--what: '%s' is not scatter, confusion or planes "
                               "for a result file", o->what);
    acdc_sim_result r;
    if ((rc = acdc_sim_result_read(path, &r)))
        return rc;
    rc = planes ? acdc_sim_plot_planes(&r, path, figure, o, stop)
                : acdc_sim_plot_result(&r, path, figure, o, stop);
    acdc_sim_result_free(&r);
    return rc;
}
