/* sim/plot.c -- see plot.h. */
#include "sim/plot.h"
#include "util/error.h"
#include "util/gnuplot.h"
#include "util/h5.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

sim_plot_options sim_plot_defaults(void)
{
    return (sim_plot_options){.what = NULL, .stage = -1, .row = 0, .title = NULL,
                              .width = 720, .height = 480};
}

/* ---------------------------------------------------------------------------------- */
/* the figure                                                                           */

struct figure {
    const char *out;
    int width, height;   /* per panel */
    const volatile sig_atomic_t *stop;
    util_gnuplot *gp;
    FILE *g;
};

static struct figure figure_make(const char *out, const sim_plot_options *o,
                                 const volatile sig_atomic_t *stop)
{
    return (struct figure){.out = out, .width = o->width, .height = o->height, .stop = stop};
}

/* Starts gnuplot with the terminal for the figure's extension, cols × rows panels. */
static int figure_open(struct figure *f, int cols, int rows)
{
    int rc = util_gnuplot_open(&f->gp, f->out);
    if (rc)
        return rc;
    size_t n = strlen(f->out);
    int w = f->width * cols, h = f->height * rows;
    f->g = util_gnuplot_file(f->gp);
    if (n >= 4 && !strcmp(f->out + n - 4, ".svg")) {
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
    fputs("set termoption noenhanced\n", f->g);
    util_gnuplot_set_output(f->gp);
    fputs("set grid lc rgb '#d0d0d0'\nset key box opaque\n", f->g);
    return UTIL_OK;
}

/* Ends the figure: written when gnuplot succeeded and no signal came. */
static int figure_close(struct figure *f)
{
    util_gnuplot *gp = f->gp;
    f->gp = NULL;
    if (f->stop && *f->stop) {
        util_gnuplot_abort(gp);
        return util_error(UTIL_EINTR, "interrupted; '%s' not written", f->out);
    }
    return util_gnuplot_close(gp);
}

/* "set title 'HEAD' . "\n" . 'SUB'" */
static void title2(FILE *g, const char *head, const char *sub)
{
    fputs("set title ", g);
    util_gnuplot_str(g, head);
    fputs(" . \"\\n\" . ", g);
    util_gnuplot_str(g, sub);
    fputs("\n", g);
}

/* ---------------------------------------------------------------------------------- */
/* sweeps                                                                               */

static void axis_label(const sim_sweep_param *a, char *buf, size_t cap)
{
    switch (a->kind) {
    case SIM_SWEEP_PHOTONS:
        snprintf(buf, cap, "photon budget (photons per inference on the input modulator)");
        break;
    case SIM_SWEEP_PHASE_BITS:
        snprintf(buf, cap, "mask phase resolution (bits: 2^B levels over 2 pi)");
        break;
    case SIM_SWEEP_AMPLITUDE_BITS:
        snprintf(buf, cap, "mask amplitude resolution (bits: 2^B levels)");
        break;
    case SIM_SWEEP_PHASE_ERROR:
        snprintf(buf, cap, "rms phase error per mask pixel (rad)");
        break;
    default:
        snprintf(buf, cap, "%s (%s)", a->name, *a->unit ? a->unit : "dimensionless");
    }
}

static void tic_text(int logx, double v, char *buf, size_t cap)
{
    double e = v > 0 ? log10(v) : 0;
    if (logx && v > 0 && fabs(e - round(e)) < 1e-9 && fabs(e) >= 3)
        snprintf(buf, cap, "1e%.0f", e);
    else
        snprintf(buf, cap, "%.3g", v);
}

static void write_axis_tics(FILE *g, const char *which, const sim_sweep_param *p,
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
    int metric, ref;     /* enum sim_metric; ref -1 or the dashed reference */
    const char *label;   /* axis label */
};

static int find_panel(const char *key, struct panel *p)
{
    if (!strcmp(key, "accuracy")) {
        *p = (struct panel){key, SIM_METRIC_ACC_OPTICAL, SIM_METRIC_ACC_IDEAL,
                            "accuracy on the labels (%)"};
        return 1;
    }
    int m = sim_metric_find(key);
    if (m < 0)
        return 0;
    *p = (struct panel){key, m, -1, sim_metric_info(m)->label};
    return 1;
}

/* "rel_rms, max_abs, ..., accuracy, acc_optical, ..." for the error message. */
static void panel_names(char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0, acc = 0; i < SIM_METRIC_COUNT && len < cap; i++) {
        if (sim_metric_info(i)->labels && !acc++)
            len += (size_t)snprintf(buf + len, cap - len, "%saccuracy", len ? ", " : "");
        if (len < cap)
            len += (size_t)snprintf(buf + len, cap - len, "%s%s", len ? ", " : "",
                                    sim_metric_info(i)->name);
    }
}

int sim_plot_sweep(const sim_sweep *w, const char *name, const char *figure,
                   const sim_plot_options *o, const volatile sig_atomic_t *stop)
{
    struct panel m[4];
    int nm = 0, rc, stage = o->stage, np = w->n_params;
    const char *title = o->title;
    if (stage >= 0 && (size_t)stage >= w->n_chains)
        return util_error(UTIL_EUSAGE, "--stage %d: '%s' has %zu optical chains", stage, name,
                          w->n_chains);
    char list[256];
    snprintf(list, sizeof list, "%s",
             o->what ? o->what : w->labelled ? "rel_rms,accuracy" : "rel_rms");
    for (char *save = NULL, *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        struct panel d;
        if (!find_panel(t, &d)) {
            char known[256];
            panel_names(known, sizeof known);
            return util_error(UTIL_EUSAGE, "--what: '%s' is not a sweep metric (%s)", t, known);
        }
        if (nm == 4)
            return util_error(UTIL_EUSAGE, "--what: at most 4 metrics");
        if (sim_metric_info(d.metric)->labels && (!w->labelled || stage >= 0))
            return util_error(UTIL_EDATA, "--what %s: %s", t,
                              stage >= 0 ? "accuracy is end to end only"
                                         : "the sweep's data had no labels");
        m[nm++] = d;
    }
    if (!nm)
        return util_error(UTIL_EUSAGE, "--what: no metric named");
    size_t points = w->points, ndone = sim_sweep_done(w);
    if (!ndone)
        return util_error(UTIL_EDATA, "'%s': no finished point to plot yet", name);

    struct figure fig = figure_make(figure, o, stop);
    if ((rc = figure_open(&fig, nm, 1)))
        return rc;
    FILE *g = fig.g;
    char xl[160], yl[160], sub[200], head[200], chain[32] = "";
    axis_label(&w->param[0], xl, sizeof xl);
    if (stage >= 0)
        snprintf(chain, sizeof chain, ", optical chain %d", stage);
    snprintf(sub, sizeof sub, "profile %s, %zu rows, %zu trial%s per point%s%s", w->profile,
             w->rows, w->trials, w->trials == 1 ? "" : "s", chain,
             ndone < points ? " (unfinished sweep)" : "");
    /* data blocks: one per metric */
    for (int i = 0; i < nm; i++) {
        const double s = sim_metric_info(m[i].metric)->plot_scale;
        const double *mean = w->mean + sim_sweep_at(w, stage, m[i].metric);
        const double *sd = w->sd + sim_sweep_at(w, stage, m[i].metric);
        const double *ref = m[i].ref >= 0 ? w->mean + sim_sweep_at(w, -1, m[i].ref) : NULL;
        fprintf(g, "$d%d << EOD\n", i);
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
    fprintf(g, "set multiplot layout 1,%d\n", nm);
    for (int i = 0; i < nm; i++) {
        const sim_metric_desc *md = sim_metric_info(m[i].metric);
        const int logx = w->param[0].spacing == 1;
        if (title)
            snprintf(head, sizeof head, "%s", title);
        else if (np == 1)
            snprintf(head, sizeof head, "%s vs %s", m[i].key, w->param[0].name);
        else
            snprintf(head, sizeof head, "%s over %s and %s (mean)", m[i].key,
                     w->param[0].name, w->param[1].name);
        title2(g, head, sub);
        fputs("set xlabel ", g);
        util_gnuplot_str(g, xl);
        if (np == 1) {
            fputs("\nset ylabel ", g);
            util_gnuplot_str(g, m[i].label);
            fputs("\n", g);
            fprintf(g, "%s logscale x\n", logx ? "set" : "unset");
            fprintf(g, "%s logscale y\n", md->plot_log ? "set" : "unset");
            fputs(logx ? "set format x '1e%T'\n" : "set format x '%g'\n", g);
            /* accuracies rise towards the reference; errors fall: keep the key clear */
            fputs(md->plot_scale > 1 ? "set key bottom right\n" : "set key top right\n", g);
            /* log y: let gnuplot extend to whole decades, so that the decades are labelled */
            fputs(md->plot_log ? "set autoscale\nset offsets graph 0.03, graph 0.03, 0, 0\n"
                               : "set autoscale\nset autoscale yfix\nset offsets graph 0.03, "
                                 "graph 0.03, graph 0.08, graph 0.08\n", g);
            fprintf(g, "plot $d%d using 1:2:3 with yerrorlines lw 2 pt 7 ps 0.8 "
                       "lc rgb '#1f77b4' title 'optical, mean +- 1 sd over trials'", i);
            if (m[i].ref >= 0)
                fprintf(g, ", $d%d using 1:4 with lines dt 2 lw 2 lc rgb '#d62728' "
                           "title 'numeric model (ideal)'", i);
            fputs("\n", g);
        } else {
            const double *mean = w->mean + sim_sweep_at(w, stage, m[i].metric);
            axis_label(&w->param[1], yl, sizeof yl);
            fputs("\nset ylabel ", g);
            util_gnuplot_str(g, yl);
            fputs("\nset cblabel ", g);
            util_gnuplot_str(g, m[i].label);
            fputs("\nunset logscale\nunset key\nunset grid\nset autoscale\n"
                  "set offsets 0,0,0,0\n", g);
            fprintf(g, "set xrange [-0.5:%zu.5]\nset yrange [-0.5:%zu.5]\n", w->dims[0] - 1,
                    w->dims[1] - 1);
            write_axis_tics(g, "x", &w->param[0], w->values[0]);
            write_axis_tics(g, "y", &w->param[1], w->values[1]);
            double lo = INFINITY, hi = -INFINITY;
            for (size_t p = 0; p < points; p++)
                if (w->done[p] && isfinite(mean[p])) {
                    lo = fmin(lo, mean[p]);
                    hi = fmax(hi, mean[p]);
                }
            /* a log colour scale only where the values span more than a decade or so */
            fprintf(g, "%s logscale cb\n", md->plot_log && lo > 0 && hi > 20 * lo ? "set"
                                                                                  : "unset");
            fputs("set format cb '%g'\nset palette rgbformulae 33,13,10\n", g);
            fprintf(g, "plot $d%d using 1:2:3 with image, $d%d using 1:2:(sprintf('%%.3g', "
                       "$3)) with labels font ',9' tc rgb 'black'\n", i, i);
            fputs("set grid\n", g);
        }
    }
    fputs("unset multiplot\n", g);
    return figure_close(&fig);
}

/* ---------------------------------------------------------------------------------- */
/* results                                                                              */

static int plot_confusion(const sim_result *r, const char *name, struct figure *fig,
                          const char *title)
{
    const size_t rows = r->rows, nout = r->n_out;
    char head[200], sub[200];
    int rc;
    if (!r->labels)
        return util_error(UTIL_EDATA, "--what confusion: '%s' has no /labels", name);
    size_t k = nout;
    for (size_t i = 0; i < rows; i++) {
        if (r->labels[i] < 0 || r->labels[i] > 10000)
            return util_error(UTIL_EDATA, "'/labels' in '%s': label %lld out of range", name,
                              (long long)r->labels[i]);
        if ((size_t)r->labels[i] + 1 > k)
            k = (size_t)r->labels[i] + 1;
    }
    int64_t *cm = calloc(k * k, sizeof *cm);
    if (!cm)
        return util_error(UTIL_ENOMEM, "out of memory");
    size_t right = 0;
    for (size_t i = 0; i < rows; i++) {
        size_t best = sim_argmax(r->y_optical + i * nout, nout);
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
    snprintf(head, sizeof head, "%s", title ? title : "confusion matrix of the optical "
                                                      "predictions");
    snprintf(sub, sizeof sub, "profile %s, %zu rows, optical accuracy %.2f%%", r->profile,
             rows, rows ? 100.0 * (double)right / (double)rows : 0.0);
    title2(g, head, sub);
    fputs("set xlabel 'predicted class (argmax of y_optical)'\n"
          "set ylabel 'true class (label)'\n"
          "set cblabel 'fraction of the true class (row-normalised)'\n"
          "unset key\nunset grid\nset size ratio -1\n", g);
    fprintf(g, "set xrange [-0.5:%zu.5]\nset yrange [%zu.5:-0.5]\nset cbrange [0:1]\n"
               "set xtics 1\nset ytics 1\n", k - 1, k - 1);
    fputs("set palette defined (0 'white', 0.3 '#9ecae1', 1 '#08306b')\n"
          "plot $cm using 1:2:4 with image, $cm using 1:2:(sprintf('%d', $3)):"
          "($4 > 0.5 ? 0xffffff : 0) with labels font ',9' tc rgb variable\n", g);
    return figure_close(fig);
}

static int plot_scatter(const sim_result *r, struct figure *fig, const char *title)
{
    const size_t n = r->rows * r->n_out;
    const double *yo = r->y_optical, *yi = r->y_ideal;
    char head[200], sub[200];
    double rel, snr, sd;
    int rc;
    sim_result_stats(r, -1, SIM_METRIC_REL_RMS, &rel, &sd);
    sim_result_stats(r, -1, SIM_METRIC_SNR_DB, &snr, &sd);
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
    snprintf(head, sizeof head, "%s", title ? title : "optical versus ideal output");
    snprintf(sub, sizeof sub, "profile %s, %zu rows x %zu outputs; rel. RMS error %.3g, "
             "SNR %.1f dB", r->profile, r->rows, r->n_out, rel, snr);
    title2(g, head, sub);
    fputs("set xlabel 'ideal output y_ideal (numeric ACDC model, output units)'\n"
          "set ylabel 'optical output y_optical (output units)'\n"
          "set key top left\nset size ratio -1\n", g);
    fprintf(g, "set xrange [%.9g:%.9g]\nset yrange [%.9g:%.9g]\n", lo - pad, hi + pad,
            lo - pad, hi + pad);
    fputs("plot $s using 1:2 with points pt 7 ps 0.35 lc rgb '#801f77b4' "
          "title 'one output of one row', x with lines lw 1.5 dt 2 lc rgb '#d62728' "
          "title 'y_optical = y_ideal'\n", g);
    return figure_close(fig);
}

int sim_plot_result(const sim_result *r, const char *name, const char *figure,
                    const sim_plot_options *o, const volatile sig_atomic_t *stop)
{
    struct figure fig = figure_make(figure, o, stop);
    if (o->what && !strcmp(o->what, "confusion"))
        return plot_confusion(r, name, &fig, o->title);
    if (o->what && strcmp(o->what, "scatter"))
        return util_error(UTIL_EUSAGE, "--what: '%s' is not scatter, confusion or planes "
                          "for a result file", o->what);
    return plot_scatter(r, &fig, o->title);
}

int sim_plot_planes(const sim_result *r, const char *name, const char *figure,
                    const sim_plot_options *o, const volatile sig_atomic_t *stop)
{
    const size_t K = r->planes_rows, P = r->n_planes, M = r->m, row = o->row;
    const char *title = o->title;
    int rc;
    if (!r->planes)
        return util_error(UTIL_EDATA, "--what planes: '%s' has no saved planes (run acdc "
                          "simulate with --save-planes K)", name);
    if (row >= K)
        return util_error(UTIL_EUSAGE, "--row %zu: '%s' holds the planes of %zu input%s", row,
                          name, K, K == 1 ? "" : "s");
    char *names = strdup(r->plane_names ? r->plane_names : "");
    if (!names)
        return util_error(UTIL_ENOMEM, "out of memory");
    struct figure fig = figure_make(figure, o, stop);
    fig.height = fig.height * 3 / 5;
    if ((rc = figure_open(&fig, 2, (int)P))) {
        free(names);
        return rc;
    }
    FILE *g = fig.g;
    char *save = NULL, *pname = strtok_r(names, ";", &save);
    fprintf(g, "set multiplot layout %zu,2\nunset key\nset format x '%%g'\n", P);
    for (size_t p = 0; p < P; p++, pname = pname ? strtok_r(NULL, ";", &save) : NULL) {
        const double complex *e = r->planes + (row * P + p) * M;
        char head[200];
        fprintf(g, "$p%zu << EOD\n", p);
        for (size_t j = 0; j < M; j++) {
            double re = creal(e[j]), im = cimag(e[j]);
            fprintf(g, "%.9g %.9g %.9g\n",
                    ((double)j - (double)(M / 2)) * r->plane_pitch_m[p] * 1e3,
                    re * re + im * im, atan2(im, re));
        }
        fputs("EOD\n", g);
        for (int k = 0; k < 2; k++) {
            snprintf(head, sizeof head, "%s%s%s: %s", p == 0 && title ? title : "",
                     p == 0 && title ? " -- " : "", pname ? pname : "plane",
                     k ? "phase" : "intensity");
            fputs("set title ", g);
            util_gnuplot_str(g, head);
            fputs("\nset xlabel 'position x (mm)'\nset ylabel ", g);
            util_gnuplot_str(g, k ? "phase (rad)" : "intensity |E|^2 (W/m)");
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
    free(names);
    return figure_close(&fig);
}

int sim_plot_file(const char *path, const char *figure, const sim_plot_options *o,
                  const volatile sig_atomic_t *stop)
{
    hid_t f;
    char fmt[64] = "";
    int rc;
    if ((rc = util_h5_open(path, &f)))
        return rc;
    int has = util_h5_attr_exists(f, "/", "format") &&
              !util_h5_attr_str(f, path, "/", "format", fmt, sizeof fmt);
    H5Fclose(f);
    if (!has)
        return util_error(UTIL_EDATA, "'%s' is neither a sweep nor a simulation result: it "
                          "has no format attribute", path);
    if (!strcmp(fmt, "acdc-sweep")) {
        sim_sweep *w;
        if ((rc = sim_sweep_read(path, &w)))
            return rc;
        rc = sim_plot_sweep(w, path, figure, o, stop);
        sim_sweep_free(w);
        return rc;
    }
    if (strcmp(fmt, "acdc-result"))
        return util_error(UTIL_EDATA, "'%s' is neither a sweep (acdc-sweep) nor a simulation "
                          "result (acdc-result): its format is '%s'", path, fmt);
    if (o->stage >= 0)
        return util_error(UTIL_EUSAGE, "--stage is for sweep files");
    int planes = o->what && !strcmp(o->what, "planes");
    if (o->what && !planes && strcmp(o->what, "scatter") && strcmp(o->what, "confusion"))
        return util_error(UTIL_EUSAGE, "--what: '%s' is not scatter, confusion or planes "
                          "for a result file", o->what);
    sim_result r;
    if ((rc = sim_result_read(path, &r)))
        return rc;
    rc = planes ? sim_plot_planes(&r, path, figure, o, stop)
                : sim_plot_result(&r, path, figure, o, stop);
    sim_result_free(&r);
    return rc;
}
