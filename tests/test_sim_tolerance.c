/* SPDX-License-Identifier: GPL-3.0-or-later */
/* tests/test_sim_tolerance.c -- the tolerance search and its file (sim/tolerance.h):
 * the closed forms of the reference's errors on a linear system, a perturbation beyond
 * its range or without effect, one not applicable, an interrupted analysis resumed to
 * the same file, settings that differ refused, and the refusals of the configuration. */
#include "tests/simtest.h"

#include "sim/tolerance.h"
#include "util/gnuplot.h"
#include "util/h5.h"

#include <unistd.h>

static char lin_path[4800], relu_path[4800], data_path[4800], nolabel_path[4800];

/* A linear cascade without biases, ReLU or permutations: the optics alone (one chain). */
static acdc_model *linear(size_t n, size_t K, double sigma)
{
    acdc_model *m;
    assert_int_equal(acdc_model_alloc(&m, n, n, n, K, 0), 0);
    assert_int_equal(acdc_model_init_normal(m, 1, sigma, 5), 0);
    return m;
}

/* rows x dim values; labels (if labelled) the classes system s gives them numerically,
 * or 0, 1, 2, 0, ... without s. */
static void write_data(const char *path, size_t rows, size_t dim, int labelled,
                       const acdc_compiler_system *s)
{
    double *x = malloc(rows * dim * sizeof *x);
    int64_t *labels = malloc(rows * sizeof *labels);
    fill(x, rows * dim, 0.61);
    for (size_t i = 0; i < rows; i++)
        labels[i] = (int64_t)(i % 3);
    if (s) {
        double *y = malloc(rows * s->n_out * sizeof *y);
        assert_int_equal(acdc_sim_reference(s, rows, x, y), 0);
        for (size_t i = 0; i < rows; i++)
            labels[i] = (int64_t)acdc_sim_argmax(y + i * s->n_out, s->n_out);
        free(y);
    }
    acdc_util_h5_out o;
    hsize_t dx[2] = {rows, dim}, dl[1] = {rows};
    if (acdc_util_h5_create(path, &o) || acdc_util_h5_write_f64(o.fid, "/x", 2, dx, x) ||
        (labelled && acdc_util_h5_write_i64(o.fid, "/labels", 1, dl, labels)) ||
        acdc_util_h5_commit(&o))
        fail_msg("%s: %s", path, acdc_util_errmsg());
    free(x);
    free(labels);
}

/* The 1-layer linear n = 32 model on the ideal profile, 10 labelled and 10 unlabelled
 * rows for it; a 3-layer n = 16 cascade with ReLU on slm8 (pixel-aware, its noise) and
 * 20 rows labelled with its own numeric predictions. */
static int setup(void **state)
{
    (void)state;
    snprintf(lin_path, sizeof lin_path, "%s", test_path(0, "linear.h5"));
    snprintf(relu_path, sizeof relu_path, "%s", test_path(0, "relu.h5"));
    snprintf(data_path, sizeof data_path, "%s", test_path(0, "data.h5"));
    snprintf(nolabel_path, sizeof nolabel_path, "%s", test_path(0, "nolabels.h5"));
    acdc_model *m = linear(32, 1, 0.3);
    acdc_compiler_system *s = compile(m, "ideal", NULL, 0);
    if (acdc_compiler_system_write(s, lin_path))
        return -1;
    acdc_compiler_system_free(s);
    acdc_model_free(m);
    m = model(16, 3, 16);
    s = compile(m, "slm8", NULL, 0);
    if (acdc_compiler_system_write(s, relu_path))
        return -1;
    write_data(test_path(0, "data16.h5"), 20, 16, 1, s);
    acdc_compiler_system_free(s);
    acdc_model_free(m);
    write_data(data_path, 10, 32, 1, NULL);
    write_data(nolabel_path, 10, 32, 0, NULL);
    return 0;
}

static acdc_sim_tolerance_config config(const char *system, const char *data, const char *out)
{
    acdc_sim_tolerance_config c = {.system_path = system, .data_path = data, .out = out,
                                   .metric = ACDC_SIM_METRIC_REL_RMS, .budget = 0.05,
                                   .rel_tol = 0.03, .max_steps = 6, .trials = 2, .batch = 4,
                                   .options = acdc_sim_options_default()};
    c.options.noise = 0;
    return c;
}

/* Allocates, opens (a fresh file) and runs c; returns the analysis. */
static acdc_sim_tolerance *analyse(const acdc_sim_tolerance_config *c)
{
    acdc_sim_tolerance *t;
    int resumed;
    if (acdc_sim_tolerance_alloc(&t, c) ||
        acdc_sim_tolerance_open(t, ACDC_SIM_TOL_RESTART, &resumed) ||
        acdc_sim_tolerance_run(t, NULL, NULL, NULL))
        fail_msg("tolerance: %s", acdc_util_errmsg());
    return t;
}

/* A linear system with ideal lenses: the reference's amplitude error a scales the
 * output by 1 + a, so the relative RMS error grows by exactly |a| and the tolerance for
 * a growth X is X; its phase drift phi scales it by cos(phi), so the tolerance is
 * acos(1 - X).  Both within the solver's relative tolerance; deterministic, so no
 * spread over the trials. */
static void test_reference_closed_forms(void **state)
{
    (void)state;
    const double budgets[] = {0.05, 0.2385};
    for (int k = 0; k < 2; k++) {
        acdc_sim_tolerance_config c = config(lin_path, nolabel_path, test_path(1, "ref.h5"));
        c.budget = budgets[k];
        c.only[ACDC_SIM_PERTURB_REF_AMPLITUDE] = c.only[ACDC_SIM_PERTURB_REF_PHASE] = 1;
        acdc_sim_tolerance *t = analyse(&c);
        const double want[2] = {c.budget, acos(1 - c.budget)};
        const int ids[2] = {ACDC_SIM_PERTURB_REF_AMPLITUDE, ACDC_SIM_PERTURB_REF_PHASE};
        assert_true(fabs(t->baseline_mean) < 1e-12);
        for (int i = 0; i < 2; i++) {
            const acdc_sim_tolerance_item *it = &t->item[ids[i]];
            print_message("# budget %.4f: %s tolerance %.6g, closed form %.6g (%.1e "
                          "relative), %zu evaluations, bracket %.4g..%.4g\n", c.budget,
                          acdc_sim_perturb_table()[ids[i]].name, it->value, want[i],
                          fabs(it->value - want[i]) / want[i], it->n_points, it->lo, it->hi);
            assert_int_equal(it->status, ACDC_SIM_TOL_FOUND);
            assert_true(fabs(it->value - want[i]) <= c.rel_tol * want[i]);
            assert_true(it->lo <= it->value && it->value <= it->hi);
            assert_true(it->uncertainty == 0);
            /* a cost that rises through the budget once: no noise-limited span */
            assert_true(fabs(it->reach - want[i]) <= c.rel_tol * want[i]);
            assert_true(it->miss <= it->reach * (1 + c.rel_tol));
            assert_string_equal(it->note, "");
            /* every evaluation is the closed form: common seeds, no noise */
            for (size_t p = 0; p < it->n_points; p++) {
                const double v = it->points[3 * p], cost = it->points[3 * p + 1];
                const double exact = i == 0 ? v : 1 - cos(v);
                assert_true(fabs(cost - exact) < 1e-9 * (1 + exact));
            }
        }
        for (int id = 0; id < ACDC_SIM_PERTURB_COUNT; id++)
            if (id != ids[0] && id != ids[1])
                assert_int_equal(t->item[id].status, ACDC_SIM_TOL_PENDING);
        acdc_sim_tolerance_free(t);
    }
}

/* Beyond the range: gain non-uniformity of at most 100 % rms cannot cost a relative
 * error of 5 (reported at the range's end, not as an error), and a one-layer system has
 * no image-plane masks to shift (no effect at any value, up to scale x 4^steps). */
static void test_beyond_range(void **state)
{
    (void)state;
    acdc_sim_tolerance_config c = config(lin_path, nolabel_path, test_path(1, "beyond.h5"));
    c.only[ACDC_SIM_PERTURB_GAIN_RMS] = c.only[ACDC_SIM_PERTURB_SHIFT_IMAGE] = 1;
    c.budget = 5;
    c.max_steps = 4;
    acdc_sim_tolerance *t = analyse(&c);
    const acdc_sim_tolerance_item *g = &t->item[ACDC_SIM_PERTURB_GAIN_RMS];
    const acdc_sim_tolerance_item *s = &t->item[ACDC_SIM_PERTURB_SHIFT_IMAGE];
    char buf[128];
    acdc_sim_tolerance_text(t, ACDC_SIM_PERTURB_GAIN_RMS, buf, sizeof buf);
    print_message("# gain-rms: %s (%s); shift-image: range max %g m (%s)\n", buf, g->note,
                  s->range_max, s->note);
    assert_int_equal(g->status, ACDC_SIM_TOL_BEYOND);
    assert_true(g->range_max == acdc_sim_perturb_table()[ACDC_SIM_PERTURB_GAIN_RMS].hi);
    assert_string_equal(buf, "> 100 %");
    assert_true(isnan(g->value));
    assert_int_equal(s->status, ACDC_SIM_TOL_BEYOND);
    assert_true(fabs(s->range_max - 1e-6 * 256) < 1e-18);
    assert_non_null(strstr(s->note, "no effect"));
    assert_int_equal(s->n_points, 5);   /* the scale and four x4 steps */
    assert_true(isnan(acdc_sim_tolerance_margin(t, ACDC_SIM_PERTURB_REF_PHASE)));
    assert_true(fabs(acdc_sim_tolerance_margin(t, ACDC_SIM_PERTURB_SHIFT_IMAGE) - 256) < 1e-9);
    acdc_sim_tolerance_free(t);
}

/* Not applicable: a lateral input shift needs every plane sampled, and a 2D system with
 * resolved pixels runs the pixel-exact method; the reason is kept, nothing evaluated. */
static void test_not_applicable(void **state)
{
    (void)state;
    acdc_model *m;
    assert_int_equal(acdc_model_alloc(&m, 64, 64, 64, 1, 0), 0);
    assert_int_equal(acdc_model_set_grid(m, ACDC_TRANSFORM_DCT2, 8, 8, 0, 0), 0);
    assert_int_equal(acdc_model_init_normal(m, 1, 0.3, 5), 0);
    acdc_compiler_system *s = compile(m, "slm1080", NULL, 0);
    char path2d[4800], data2d[4800];
    snprintf(path2d, sizeof path2d, "%s", test_path(2, "sys2d.h5"));
    snprintf(data2d, sizeof data2d, "%s", test_path(3, "data64.h5"));
    assert_int_equal(acdc_compiler_system_write(s, path2d), 0);
    acdc_compiler_system_free(s);
    acdc_model_free(m);
    write_data(data2d, 2, 64, 0, NULL);
    acdc_sim_tolerance_config c = config(path2d, data2d, test_path(1, "na.h5"));
    c.only[ACDC_SIM_PERTURB_DEFOCUS_FOURIER] = 1;
    c.trials = 1;
    acdc_sim_tolerance *t = analyse(&c);
    const acdc_sim_tolerance_item *it = &t->item[ACDC_SIM_PERTURB_DEFOCUS_FOURIER];
    print_message("# defocus-fourier on the 2D system: %s (%s)\n",
                  acdc_sim_tolerance_status_name(it->status), it->note);
    assert_int_equal(it->status, ACDC_SIM_TOL_NA);
    assert_non_null(strstr(it->note, "pixel-exact"));
    assert_int_equal(it->n_points, 0);
    acdc_sim_tolerance_free(t);
    /* it is written and read back as such */
    assert_int_equal(acdc_sim_tolerance_read(test_path(1, "na.h5"), &t), 0);
    assert_int_equal(t->item[ACDC_SIM_PERTURB_DEFOCUS_FOURIER].status, ACDC_SIM_TOL_NA);
    assert_true(t->selected[ACDC_SIM_PERTURB_DEFOCUS_FOURIER]);
    assert_false(t->selected[ACDC_SIM_PERTURB_REF_PHASE]);
    acdc_sim_tolerance_free(t);
}

/* A stop after the first finished perturbation, as Ctrl-C would give. */
static volatile sig_atomic_t stop_flag;
static void stop_after_one(const acdc_sim_tolerance *t, int id, int done, void *ctx)
{
    (void)t;
    (void)ctx;
    if (done && id >= 0)
        stop_flag = 1;
}

static void assert_same_item(const acdc_sim_tolerance_item *a, const acdc_sim_tolerance_item *b)
{
    assert_int_equal(a->status, b->status);
    assert_int_equal(a->n_points, b->n_points);
    assert_memory_equal(a->points, b->points, 3 * a->n_points * sizeof(double));
    const double x[5] = {a->value, a->uncertainty, a->lo, a->hi, a->range_max};
    const double y[5] = {b->value, b->uncertainty, b->lo, b->hi, b->range_max};
    for (int i = 0; i < 5; i++)
        assert_true(x[i] == y[i] || (isnan(x[i]) && isnan(y[i])));
    assert_string_equal(a->note, b->note);
}

/* An analysis of a ReLU cascade on slm8 with its noise, on the accuracy: interrupted
 * after its first perturbation (the file holds it and the baseline), resumed, it ends
 * as the uninterrupted one, point for point; a rerun has nothing to do. */
static void test_resume(void **state)
{
    (void)state;
    char whole[4800], parts[4800], data16[4800];
    snprintf(whole, sizeof whole, "%s", test_path(1, "whole.h5"));
    snprintf(parts, sizeof parts, "%s", test_path(2, "parts.h5"));
    snprintf(data16, sizeof data16, "%s", test_path(3, "data16.h5"));
    acdc_sim_tolerance_config c = config(relu_path, data16, whole);
    c.metric = ACDC_SIM_METRIC_ACC_OPTICAL;
    c.budget = 0.05;
    c.options.noise = 1;
    c.only[ACDC_SIM_PERTURB_REF_PHASE] = c.only[ACDC_SIM_PERTURB_GAIN_RMS] = 1;
    c.only[ACDC_SIM_PERTURB_SHIFT_FOURIER] = 1;
    acdc_sim_tolerance *a = analyse(&c);
    for (int id = 0; id < ACDC_SIM_PERTURB_COUNT; id++)
        if (a->selected[id]) {
            char buf[96];
            acdc_sim_tolerance_text(a, id, buf, sizeof buf);
            print_message("# %s: %s, %zu evaluations %s\n", acdc_sim_perturb_table()[id].name,
                          buf, a->item[id].n_points, a->item[id].note);
            /* the crossing as evaluated agrees with the note: a miss beyond a reach is
             * said as a cost crossing the budget more than once (the other
             * noise-limited note, a change below twice its standard error, can come
             * with a clean crossing) */
            const acdc_sim_tolerance_item *it = &a->item[id];
            if (it->status == ACDC_SIM_TOL_FOUND)
                assert_int_equal(it->miss > it->reach * (1 + c.rel_tol),
                                 strstr(it->note, "crosses the budget more than once") != NULL);
        }

    c.out = parts;
    acdc_sim_tolerance *b;
    int resumed;
    stop_flag = 0;
    assert_int_equal(acdc_sim_tolerance_alloc(&b, &c), 0);
    assert_int_equal(acdc_sim_tolerance_open(b, ACDC_SIM_TOL_RESTART, &resumed), 0);
    assert_int_equal(acdc_sim_tolerance_run(b, &stop_flag, stop_after_one, NULL), ACDC_UTIL_EINTR);
    assert_non_null(strstr(acdc_util_errmsg(), "holds 1 of 3 perturbations"));
    acdc_sim_tolerance_free(b);
    assert_int_equal(acdc_sim_tolerance_read(parts, &b), 0);
    assert_int_equal(acdc_sim_tolerance_done(b), 1);
    assert_non_null(b->baseline);
    acdc_sim_tolerance_free(b);

    assert_int_equal(acdc_sim_tolerance_alloc(&b, &c), 0);
    assert_int_equal(acdc_sim_tolerance_open(b, ACDC_SIM_TOL_RESUME, &resumed), 0);
    assert_true(resumed);
    assert_int_equal(acdc_sim_tolerance_done(b), 1);
    assert_int_equal(acdc_sim_tolerance_run(b, NULL, NULL, NULL), 0);
    acdc_sim_tolerance_free(b);

    /* the files, not only the memory: read both back */
    acdc_sim_tolerance *fa, *fb;
    assert_int_equal(acdc_sim_tolerance_read(whole, &fa), 0);
    assert_int_equal(acdc_sim_tolerance_read(parts, &fb), 0);
    assert_memory_equal(fa->baseline, fb->baseline, c.trials * sizeof(double));
    for (int id = 0; id < ACDC_SIM_PERTURB_COUNT; id++) {
        assert_int_equal(fa->selected[id], fb->selected[id]);
        if (fa->selected[id]) {
            assert_same_item(&fa->item[id], &fb->item[id]);
            assert_same_item(&fa->item[id], &a->item[id]);
        }
    }
    acdc_sim_tolerance_free(fa);
    acdc_sim_tolerance_free(fb);
    acdc_sim_tolerance_free(a);

    /* done: a rerun evaluates nothing */
    assert_int_equal(acdc_sim_tolerance_alloc(&b, &c), 0);
    assert_int_equal(acdc_sim_tolerance_open(b, ACDC_SIM_TOL_CONTINUE, &resumed), 0);
    assert_int_equal(acdc_sim_tolerance_done(b), 3);
    assert_int_equal(acdc_sim_tolerance_run(b, &stop_flag, NULL, NULL), 0);   /* flag still set */
    acdc_sim_tolerance_free(b);
}

/* A file with other settings is refused, naming the first that differs; so are a file
 * that is no tolerance file and a missing one to resume. */
static void test_settings_refused(void **state)
{
    (void)state;
    acdc_sim_tolerance_config c = config(lin_path, nolabel_path, test_path(1, "set.h5"));
    c.only[ACDC_SIM_PERTURB_REF_AMPLITUDE] = 1;
    acdc_sim_tolerance *t = analyse(&c);
    acdc_sim_tolerance_free(t);
    int resumed;
    c.trials = 3;
    assert_int_equal(acdc_sim_tolerance_alloc(&t, &c), 0);
    assert_int_equal(acdc_sim_tolerance_open(t, ACDC_SIM_TOL_CONTINUE, &resumed), ACDC_UTIL_EDATA);
    print_message("# %s\n", acdc_util_errmsg());
    assert_non_null(strstr(acdc_util_errmsg(), "'trials=2' there, 'trials=3' here"));
    acdc_sim_tolerance_free(t);
    c.trials = 2;
    c.budget = 0.06;
    assert_int_equal(acdc_sim_tolerance_alloc(&t, &c), 0);
    assert_int_equal(acdc_sim_tolerance_open(t, ACDC_SIM_TOL_CONTINUE, &resumed), ACDC_UTIL_EDATA);
    assert_non_null(strstr(acdc_util_errmsg(), "'budget=0.050000000000000003' there"));
    acdc_sim_tolerance_free(t);
    /* another selection with the same settings is no mismatch: it adds to the file */
    c.budget = 0.05;
    c.only[ACDC_SIM_PERTURB_REF_AMPLITUDE] = 0;
    c.only[ACDC_SIM_PERTURB_REF_PHASE] = 1;
    assert_int_equal(acdc_sim_tolerance_alloc(&t, &c), 0);
    assert_int_equal(acdc_sim_tolerance_open(t, ACDC_SIM_TOL_CONTINUE, &resumed), 0);
    assert_int_equal(acdc_sim_tolerance_done(t), 0);
    assert_int_equal(acdc_sim_tolerance_run(t, NULL, NULL, NULL), 0);
    acdc_sim_tolerance_free(t);
    assert_int_equal(acdc_sim_tolerance_read(test_path(1, "set.h5"), &t), 0);
    assert_true(t->selected[ACDC_SIM_PERTURB_REF_AMPLITUDE] &&
                t->selected[ACDC_SIM_PERTURB_REF_PHASE]);
    acdc_sim_tolerance_free(t);
    /* not a tolerance file; nothing to resume */
    c.out = lin_path;
    assert_int_equal(acdc_sim_tolerance_alloc(&t, &c), 0);
    assert_int_equal(acdc_sim_tolerance_open(t, ACDC_SIM_TOL_CONTINUE, &resumed), ACDC_UTIL_EDATA);
    assert_non_null(strstr(acdc_util_errmsg(), "is not a tolerance file"));
    acdc_sim_tolerance_free(t);
    c.out = test_path(1, "absent.h5");
    assert_int_equal(acdc_sim_tolerance_alloc(&t, &c), 0);
    assert_int_equal(acdc_sim_tolerance_open(t, ACDC_SIM_TOL_RESUME, &resumed), ACDC_UTIL_EDATA);
    acdc_sim_tolerance_free(t);
    assert_int_equal(acdc_sim_tolerance_read(lin_path, &t), ACDC_UTIL_EDATA);
}

/* The configuration's refusals, before any work. */
static void test_refusals(void **state)
{
    (void)state;
    acdc_sim_tolerance *t;
    acdc_sim_tolerance_config c = config(lin_path, nolabel_path, test_path(1, "no.h5"));
    c.metric = ACDC_SIM_METRIC_ACC_OPTICAL;
    c.budget = 0.01;
    assert_int_equal(acdc_sim_tolerance_alloc(&t, &c), ACDC_UTIL_EUSAGE);   /* no labels */
    assert_non_null(strstr(acdc_util_errmsg(), "no labels"));
    c = config(lin_path, nolabel_path, test_path(1, "no.h5"));
    c.options.perturb[ACDC_SIM_PERTURB_WAIST] = 0.01;
    assert_int_equal(acdc_sim_tolerance_alloc(&t, &c), ACDC_UTIL_EUSAGE);   /* searched and fixed */
    assert_non_null(strstr(acdc_util_errmsg(), "--perturb waist"));
    c.only[ACDC_SIM_PERTURB_REF_PHASE] = 1;
    assert_int_equal(acdc_sim_tolerance_alloc(&t, &c), 0);   /* fixed, not searched */
    acdc_sim_tolerance_free(t);
    c = config(lin_path, nolabel_path, test_path(1, "no.h5"));
    c.budget = 0;
    assert_int_equal(acdc_sim_tolerance_alloc(&t, &c), ACDC_UTIL_EUSAGE);
    c.budget = 0.05;
    c.rel_tol = 1;
    assert_int_equal(acdc_sim_tolerance_alloc(&t, &c), ACDC_UTIL_EUSAGE);
    c.rel_tol = 0.03;
    c.metric = ACDC_SIM_METRIC_SNR_DB;
    assert_int_equal(acdc_sim_tolerance_alloc(&t, &c), ACDC_UTIL_EUSAGE);
    c.metric = ACDC_SIM_METRIC_REL_RMS;
    c.system_path = test_path(1, "missing.h5");
    assert_int_equal(acdc_sim_tolerance_alloc(&t, &c), ACDC_UTIL_EIO);
    assert_null(t);
    assert_int_equal(access(test_path(1, "no.h5"), F_OK), -1);   /* nothing written */
}

/* The tornado chart: a PNG from a finished analysis (skipped without gnuplot), none
 * from an analysis with nothing finished. */
static void test_plot(void **state)
{
    (void)state;
    acdc_sim_tolerance *t;
    assert_int_equal(acdc_sim_tolerance_read(test_path(1, "set.h5"), &t), 0);
    if (acdc_util_gnuplot_find() == ACDC_UTIL_OK) {
        const char *png = test_path(2, "tornado.png");
        assert_int_equal(acdc_sim_tolerance_plot(t, "set.h5", png, NULL, NULL), 0);
        FILE *f = fopen(png, "rb");
        unsigned char sig[8] = {0};
        assert_non_null(f);
        assert_int_equal(fread(sig, 1, 8, f), 8);
        fclose(f);
        assert_memory_equal(sig, "\x89PNG\r\n\x1a\n", 8);
    }
    for (int id = 0; id < ACDC_SIM_PERTURB_COUNT; id++)
        t->selected[id] = 0;
    assert_int_equal(acdc_sim_tolerance_plot(t, "set.h5", test_path(2, "none.png"), NULL, NULL),
                     ACDC_UTIL_EDATA);
    acdc_sim_tolerance_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_closed_forms),
        cmocka_unit_test(test_beyond_range),
        cmocka_unit_test(test_not_applicable),
        cmocka_unit_test(test_resume),
        cmocka_unit_test(test_settings_refused),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_plot),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
