/* SPDX-License-Identifier: GPL-3.0-or-later */
/* tests/test_sim_plot.c -- the planes figure (sim/plot.h, acdc_sim_plot_planes) from synthetic
 * results: 2D planes as images (one row of two panels per plane), 1D planes as before,
 * and the errors; a PDF with its script kept; enhanced-text escaping (util/gnuplot.h).
 * Needs gnuplot on PATH (skipped without it). */
#include "tests/testutil.h"

#include <complex.h>

#include "sim/plot.h"
#include "sim/result.h"
#include "util/error.h"
#include "util/gnuplot.h"

/* Width and height of a PNG from its IHDR chunk; 0 if path is not a PNG. */
static int png_size(const char *path, unsigned *w, unsigned *h, long *bytes)
{
    unsigned char b[24];
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    FILE *f = fopen(path, "rb");
    *w = *h = 0;
    *bytes = 0;
    if (!f)
        return 0;
    size_t n = fread(b, 1, sizeof b, f);
    fseek(f, 0, SEEK_END);
    *bytes = ftell(f);
    fclose(f);
    if (n != sizeof b || memcmp(b, sig, 8) || memcmp(b + 12, "IHDR", 4))
        return 0;
    *w = (unsigned)b[16] << 24 | (unsigned)b[17] << 16 | (unsigned)b[18] << 8 | b[19];
    *h = (unsigned)b[20] << 24 | (unsigned)b[21] << 16 | (unsigned)b[22] << 8 | b[23];
    return 1;
}

/* A result holding only planes: rows inputs × the planes fill() draws, nx × ny each. */
static void planes_result(acdc_sim_result *r, size_t rows, size_t nx, size_t ny)
{
    memset(r, 0, sizeof *r);
    r->planes_rows = rows;
    r->n_planes = 4;
    r->plane_nx = nx;
    r->plane_ny = ny;
    r->m = nx * ny;
    r->planes = calloc(rows * r->n_planes * r->m, sizeof *r->planes);
    r->plane_pitch_m = malloc(r->n_planes * sizeof *r->plane_pitch_m);
    r->plane_names = strdup("input (the aperture's 'checkerboard');Fourier (off-axis "
                            "spot);camera (tilted Gaussian);dark");
    assert_non_null(r->planes);
    assert_non_null(r->plane_pitch_m);
    assert_non_null(r->plane_names);
}

/* Row `row` of r: a 0.24 mm square aperture of a checkerboard of amplitudes 1 and 0.3
 * and phases 0 and pi (dark outside: the figure crops to the light); a sinc² spectrum
 * with a vortex phase and a spot at (0.3, -0.2) mm (light everywhere: block means where
 * the plane is wider than 512); a tilted Gaussian beam (w 0.3 mm, 2.385 rad/mm along
 * x); a dark plane.  Pitches 2, 2.5, 2 and 2 um. */
static void fill(acdc_sim_result *r, size_t row)
{
    const size_t nx = r->plane_nx, ny = r->plane_ny, P = r->n_planes;
    const double pitch[4] = {2e-6, 2.5e-6, 2e-6, 2e-6};
    memcpy(r->plane_pitch_m, pitch, sizeof pitch);
    for (size_t p = 0; p < P; p++)
        for (size_t iy = 0; iy < ny; iy++)
            for (size_t ix = 0; ix < nx; ix++) {
                const double x = ((double)ix - (double)(nx / 2)) * pitch[p] * 1e3;
                const double y = ((double)iy - (double)(ny / 2)) * pitch[p] * 1e3;
                double complex e = 0;
                if (p == 0 && fabs(x) < 0.12 && fabs(y) < 0.12) {
                    int odd = ((int)floor(x / 0.03) + (int)floor(y / 0.03)) & 1;
                    e = odd ? -0.3 : 1.0;
                } else if (p == 1) {
                    double sx = x ? sin(20 * x) / (20 * x) : 1, sy = y ? sin(20 * y) / (20 * y) : 1;
                    e = 1e3 * sx * sy * cexp(I * atan2(y, x)) +
                        30 * exp(-((x - 0.3) * (x - 0.3) + (y + 0.2) * (y + 0.2)) / 1e-3);
                } else if (p == 2) {
                    e = 40 * exp(-(x * x + y * y) / 0.09) * cexp(I * 2.385 * x);
                }
                r->planes[(row * P + p) * r->m + iy * nx + ix] = e;
            }
}

static int have_gnuplot(void)
{
    if (acdc_util_gnuplot_find()) {
        print_message("gnuplot not on PATH: the figures are not drawn\n");
        return 0;
    }
    return 1;
}

/* A 2D result is drawn as images: 2 panels of 600 x 480 per row (the default --size
 * 720x480 gives square images of 480), one row per plane; a plane wider than 512
 * samples as block means. */
static void test_planes_2d(void **state)
{
    (void)state;
    if (!have_gnuplot())
        skip();
    acdc_sim_result r;
    planes_result(&r, 2, 600, 600);
    fill(&r, 1);
    acdc_sim_plot_options o = acdc_sim_plot_defaults();
    o.row = 1;
    o.title = "synthetic 2D planes";
    const char *png = test_path(0, "planes2d.png");
    if (acdc_sim_plot_planes(&r, "synthetic.h5", png, &o, NULL))
        fail_msg("plot: %s", acdc_util_errmsg());
    unsigned w, h;
    long bytes;
    assert_true(png_size(png, &w, &h, &bytes));
    assert_int_equal(w, 2 * 600);
    assert_int_equal(h, 4 * 480);
    assert_true(bytes > 50000);   /* images, not empty frames */
    /* --size bounds the square panels: 400x600 gives images of 320 */
    o.width = 400;
    o.height = 600;
    png = test_path(1, "planes2d-size.png");
    assert_int_equal(acdc_sim_plot_planes(&r, "synthetic.h5", png, &o, NULL), 0);
    assert_true(png_size(png, &w, &h, &bytes));
    assert_int_equal(w, 2 * 400);
    assert_int_equal(h, 4 * 320);
    /* an odd, non-square plane narrower than 512: drawn sample by sample */
    acdc_sim_result q;
    planes_result(&q, 1, 97, 61);
    fill(&q, 0);
    o = acdc_sim_plot_defaults();
    png = test_path(2, "planes2d-small.png");
    assert_int_equal(acdc_sim_plot_planes(&q, "small.h5", png, &o, NULL), 0);
    assert_true(png_size(png, &w, &h, &bytes));
    assert_int_equal(w, 2 * 600);
    acdc_sim_result_free(&q);
    acdc_sim_result_free(&r);
}

/* A 1D result (plane_ny 1, or 0 in a result made before the shape was kept) is drawn
 * as line plots, 2 panels of 720 x 288 per plane, as before 2D planes. */
static void test_planes_1d(void **state)
{
    (void)state;
    if (!have_gnuplot())
        skip();
    acdc_sim_result r;
    planes_result(&r, 1, 256, 1);
    fill(&r, 0);
    acdc_sim_plot_options o = acdc_sim_plot_defaults();
    const char *png = test_path(0, "planes1d.png");
    assert_int_equal(acdc_sim_plot_planes(&r, "line.h5", png, &o, NULL), 0);
    unsigned w, h;
    long bytes;
    assert_true(png_size(png, &w, &h, &bytes));
    assert_int_equal(w, 2 * 720);
    assert_int_equal(h, 4 * 288);
    r.plane_nx = r.plane_ny = 0;
    assert_int_equal(acdc_sim_plot_planes(&r, "line.h5", png, &o, NULL), 0);
    assert_true(png_size(png, &w, &h, &bytes));
    assert_int_equal(w, 2 * 720);
    acdc_sim_result_free(&r);
}

/* Every error of acdc_sim_plot_planes leaves no figure. */
static void test_planes_errors(void **state)
{
    (void)state;
    acdc_sim_result r;
    acdc_sim_plot_options o = acdc_sim_plot_defaults();
    const char *png = test_path(1, "never.png");
    planes_result(&r, 2, 8, 8);
    o.row = 2;
    assert_int_equal(acdc_sim_plot_planes(&r, "r.h5", png, &o, NULL), ACDC_UTIL_EUSAGE);
    assert_non_null(strstr(acdc_util_errmsg(), "--row 2: 'r.h5' holds the planes of 2 inputs"));
    o.row = 0;
    r.plane_ny = 7;   /* 8 x 7 is not the 64 samples of a plane */
    assert_int_equal(acdc_sim_plot_planes(&r, "r.h5", png, &o, NULL), ACDC_UTIL_EUSAGE);
    assert_non_null(strstr(acdc_util_errmsg(), "planes of 64 samples are not 8 x 7"));
    acdc_sim_result_free(&r);
    memset(&r, 0, sizeof r);
    assert_int_equal(acdc_sim_plot_planes(&r, "r.h5", png, &o, NULL), ACDC_UTIL_EDATA);
    assert_non_null(strstr(acdc_util_errmsg(), "'r.h5' has no saved planes"));
    assert_int_not_equal(access(png, F_OK), 0);
}

/* 2D planes go to gnuplot as binary images: --data is refused, before any file; the
 * script is kept (PDF here), naming the figure, its images inline. */
static void test_planes_kept(void **state)
{
    (void)state;
    if (!have_gnuplot())
        skip();
    acdc_sim_result r;
    planes_result(&r, 1, 40, 40);
    fill(&r, 0);
    acdc_sim_plot_options o = acdc_sim_plot_defaults();
    const char *pdf = test_path(0, "kept.pdf"), *dat = test_path(1, "kept.dat");
    o.data = dat;
    assert_int_equal(acdc_sim_plot_planes(&r, "k.h5", pdf, &o, NULL), ACDC_UTIL_EUSAGE);
    assert_non_null(strstr(acdc_util_errmsg(), "--data: the 2D planes go to gnuplot as binary"));
    assert_int_not_equal(access(pdf, F_OK), 0);
    assert_int_not_equal(access(dat, F_OK), 0);
    o.data = NULL;
    o.script = test_path(2, "kept.gp");
    if (acdc_sim_plot_planes(&r, "k.h5", pdf, &o, NULL))
        fail_msg("plot: %s", acdc_util_errmsg());
    char head[8] = "";
    FILE *f = fopen(pdf, "rb");
    assert_non_null(f);
    assert_int_equal(fread(head, 1, 5, f), 5);
    fclose(f);
    assert_memory_equal(head, "%PDF-", 5);
    f = fopen(o.script, "rb");
    assert_non_null(f);
    char line[4096];
    int terminal = 0, output = 0, images = 0;
    while (fgets(line, sizeof line, f)) {
        terminal += !strncmp(line, "set terminal pdfcairo", 21);
        output += !strncmp(line, "set output '", 12) && strstr(line, "kept.pdf'\n") &&
                  !strstr(line, ".tmp");
        images += !!strstr(line, "binary array=(");
    }
    fclose(f);
    assert_int_equal(terminal, 1);
    assert_int_equal(output, 1);
    assert_int_equal(images, 2 * 4);
    acdc_sim_result_free(&r);
}

/* Names from data are literal enhanced text: each special character escaped, and a
 * shortened copy never ends inside an escape or a UTF-8 character. */
static void test_escape(void **state)
{
    (void)state;
    char buf[64];
    assert_int_equal(acdc_util_gnuplot_escape("slm_8 a^b {x} @&~ back\\slash", buf, sizeof buf), 0);
    assert_string_equal(buf, "slm\\_8 a\\^b \\{x\\} \\@\\&\\~ back\\\\slash");
    assert_int_equal(acdc_util_gnuplot_escape("µm_", buf, 4), ACDC_UTIL_EUSAGE);
    assert_string_equal(buf, "µm");
    assert_int_equal(acdc_util_gnuplot_escape("aµ", buf, 3), ACDC_UTIL_EUSAGE);   /* not half a µ */
    assert_string_equal(buf, "a");
    assert_int_equal(acdc_util_gnuplot_escape("ab_", buf, 4), ACDC_UTIL_EUSAGE);
    assert_string_equal(buf, "ab");
    assert_int_equal(acdc_util_gnuplot_format("a.pdf"), ACDC_UTIL_GNUPLOT_PDF);
    assert_int_equal(acdc_util_gnuplot_format("a.svg"), ACDC_UTIL_GNUPLOT_SVG);
    assert_int_equal(acdc_util_gnuplot_format("a.png"), ACDC_UTIL_GNUPLOT_PNG);
    assert_int_equal(acdc_util_gnuplot_format("a.eps"), -1);
    assert_int_equal(acdc_util_gnuplot_format(".pdf"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_planes_2d),
        cmocka_unit_test(test_planes_1d),
        cmocka_unit_test(test_planes_errors),
        cmocka_unit_test(test_planes_kept),
        cmocka_unit_test(test_escape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
