/* SPDX-License-Identifier: GPL-3.0-or-later */
/* examples/optics_airy.c -- the Airy pattern of a circular aperture in the back focal
 * plane of a lens, against the closed form I0 [2 J1(v)/v]^2, v = pi D r / (lambda f).
 *
 *   build/examples/optics_airy [OUT_DIR]          (default examples/out)
 *
 * 633 nm light fills a 2.56 mm circular aperture (256 samples of 10 um, edge pixels
 * area-weighted with 16 x 16 sub-samples) in the front focal plane of a 100 mm lens on
 * a 512 x 512 grid.  Writes OUT_DIR/optics_airy.h5 (/focal/intensity normalised to the
 * analytic peak, /profile/r_m, /profile/simulated, /profile/analytic, attributes with
 * every parameter and the maximum error) and OUT_DIR/optics_airy.png (the pattern on a
 * log scale and the radial profile against the closed form).  Needs gnuplot.
 * Exit status: 0 success, 1 failure (message on stderr).
 */
#include "optics/element.h"
#include "optics/field.h"
#include "optics/propagate.h"
#include "util/error.h"
#include "util/gnuplot.h"
#include "util/h5.h"

#include <complex.h>
#include <gsl/gsl_sf_bessel.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define M 512

static int fail(const char *what)
{
    fprintf(stderr, "optics_airy: %s: %s\n", what, acdc_util_errmsg());
    return 1;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "examples/out";
    if (acdc_util_gnuplot_find() != ACDC_UTIL_OK) {
        fprintf(stderr, "optics_airy: %s: cannot draw the figure\n", acdc_util_errmsg());
        return 1;
    }
    mkdir(dir, 0755);
    const double dx = 10e-6, lam = 633e-9, fl = 0.1, d = 256 * dx;
    acdc_optics_grid g;
    acdc_optics_field *f = NULL;
    acdc_optics_element *ap = NULL;
    acdc_optics_lens_plan *lens = NULL;
    if (acdc_optics_grid_init(&g, 2, M, M, dx, lam) || acdc_optics_field_alloc(&f, &g, 1))
        return fail("field");
    for (size_t i = 0; i < (size_t)M * M; i++)
        f->data[i] = 1;
    if (acdc_optics_aperture_circ_alloc(&ap, d) || acdc_optics_element_apply(ap, f, 16))
        return fail("aperture");
    if (acdc_optics_lens_plan_alloc(&lens, &f->g, fl) || acdc_optics_lens_forward(lens, f, f))
        return fail("lens");
    double du = f->g.pitch_m, a0 = M_PI * d * d / 4 / (lam * fl);
    double *img = malloc((size_t)M * M * sizeof *img);
    double r[M / 2], sim[M / 2], ana[M / 2], err = 0;
    if (!img)
        return 1;
    for (size_t y = 0; y < M; y++)
        for (size_t x = 0; x < M; x++) {
            double complex e = f->data[y * M + x];
            double in = creal(e * conj(e)) / (a0 * a0);
            double v = M_PI * d * hypot(acdc_optics_coord_m(x, M, du),
                                        acdc_optics_coord_m(y, M, du)) /
                       (lam * fl);
            double airy = v == 0 ? 1 : 2 * gsl_sf_bessel_J1(v) / v;
            err = fmax(err, fabs(in - airy * airy));
            img[y * M + x] = in;
        }
    for (size_t k = 0; k < M / 2; k++) {   /* along +x from the axis */
        r[k] = (double)k * du;
        sim[k] = img[(M / 2) * M + M / 2 + k];
        double v = M_PI * d * r[k] / (lam * fl);
        double airy = v == 0 ? 1 : 2 * gsl_sf_bessel_J1(v) / v;
        ana[k] = airy * airy;
    }
    printf("Airy pattern: D = %g mm, f = %g mm, lambda = %g nm, focal pitch %.4g um\n",
           d * 1e3, fl * 1e3, lam * 1e9, du * 1e6);
    printf("first dark ring at r = 1.22 lambda f / D = %.4g um; max |I/I0 - [2J1(v)/v]^2| "
           "= %.3g\n", 1.2196698912665045 * lam * fl / d * 1e6, err);

    char path[1024];
    snprintf(path, sizeof path, "%s/optics_airy.h5", dir);
    acdc_util_h5_out out;
    hsize_t d2[2] = {M, M}, d1[1] = {M / 2};
    int rc = acdc_util_h5_create(path, &out);
    if (!rc) rc = acdc_util_h5_write_f64(out.fid, "focal/intensity", 2, d2, img);
    if (!rc) rc = acdc_util_h5_write_f64(out.fid, "profile/r_m", 1, d1, r);
    if (!rc) rc = acdc_util_h5_write_f64(out.fid, "profile/simulated", 1, d1, sim);
    if (!rc) rc = acdc_util_h5_write_f64(out.fid, "profile/analytic", 1, d1, ana);
    if (!rc) rc = acdc_util_h5_set_attr_f64(out.fid, ".", "aperture_diameter_m", d);
    if (!rc) rc = acdc_util_h5_set_attr_f64(out.fid, ".", "focal_m", fl);
    if (!rc) rc = acdc_util_h5_set_attr_f64(out.fid, ".", "wavelength_m", lam);
    if (!rc) rc = acdc_util_h5_set_attr_f64(out.fid, ".", "input_pitch_m", dx);
    if (!rc) rc = acdc_util_h5_set_attr_f64(out.fid, ".", "focal_pitch_m", du);
    if (!rc) rc = acdc_util_h5_set_attr_f64(out.fid, ".", "max_abs_error", err);
    if (!rc) rc = acdc_util_h5_set_attr_str(out.fid, "focal/intensity", "units",
                                            "I / I0 (analytic peak = 1)");
    if (!rc) rc = acdc_util_h5_commit(&out);
    else acdc_util_h5_abort(&out);
    if (rc)
        return fail(path);
    printf("wrote %s\n", path);

    /* data for gnuplot: the central 128 x 128 samples (log10 intensity), the profile */
    char dat1[1024], dat2[1024], png[1024];
    snprintf(dat1, sizeof dat1, "%s/optics_airy_image.dat", dir);
    snprintf(dat2, sizeof dat2, "%s/optics_airy_profile.dat", dir);
    snprintf(png, sizeof png, "%s/optics_airy.png", dir);
    FILE *a = fopen(dat1, "w"), *b = fopen(dat2, "w");
    if (!a || !b) {
        fprintf(stderr, "optics_airy: cannot write '%s'\n", a ? dat2 : dat1);
        return 1;
    }
    for (size_t y = M / 2 - 64; y < M / 2 + 64; y++) {
        for (size_t x = M / 2 - 64; x < M / 2 + 64; x++)
            fprintf(a, "%.6g %.6g %.6g\n", acdc_optics_coord_m(x, M, du) * 1e6,
                    acdc_optics_coord_m(y, M, du) * 1e6, log10(img[y * M + x] + 1e-12));
        fputc('\n', a);
    }
    /* simulated samples, then (after a blank line, gnuplot's next data set) the
     * closed form on a fine radius grid so that its zeros show */
    for (size_t k = 0; k < 40; k++)
        fprintf(b, "%.6g %.6g\n", r[k] * 1e6, sim[k] + 1e-12);
    fprintf(b, "\n\n");
    for (size_t k = 0; k <= 2000; k++) {
        double rr = 40 * du * (double)k / 2000, v = M_PI * d * rr / (lam * fl);
        double airy = v == 0 ? 1 : 2 * gsl_sf_bessel_J1(v) / v;
        fprintf(b, "%.6g %.6g\n", rr * 1e6, airy * airy + 1e-12);
    }
    fclose(a);
    fclose(b);
    char q1[2100], q2[2100];
    acdc_util_gnuplot *plot;
    if (acdc_util_gnuplot_quote(dat1, q1, sizeof q1) ||
        acdc_util_gnuplot_quote(dat2, q2, sizeof q2) ||
        acdc_util_gnuplot_open(&plot, png))
        return fail("figure");
    FILE *gp = acdc_util_gnuplot_file(plot);
    acdc_util_gnuplot_terminal(plot, 1200, 560);
    fprintf(gp,
            "set multiplot layout 1,2 title 'The Airy pattern of a circular aperture' . "
            "\"\\n\" . '{/*0.85 D = %.2f mm, f = %.0f mm, λ = %.0f nm}'\n"
            "set xlabel 'x (µm)'; set ylabel 'y (µm)'; set size ratio -1\n"
            "set cblabel 'log_{10} I / I_{0}'; set cbrange [-6:0]\n"
            "set palette defined (0 '#440154', 1 '#3b528b', 2 '#21918c', 3 '#5ec962', "
            "4 '#fde725')\n"   /* viridis by 5 of its colour stops */
            "plot %s using 1:2:3 with image notitle\n"
            "set size noratio; unset cblabel\n"
            "set xlabel 'radius r (µm)'; set ylabel 'I / I_{0}'; set logscale y\n"
            "set yrange [1e-6:2]; set key outside below maxrows 1; set format y '10^{%%L}'\n"
            "plot %s index 1 using 1:2 with lines lw 2 title '[2 J_1(v)/v]^2, "
            "v = π D r / (λ f)', "
            "'' index 0 using 1:2 with points pt 7 ps 0.8 title 'simulated'\n"
            "unset multiplot\n",
            d * 1e3, fl * 1e3, lam * 1e9, q1, q2);
    if (acdc_util_gnuplot_close(plot))
        return fail("figure");
    printf("wrote %s\n", png);
    free(img);
    acdc_optics_lens_plan_free(lens);
    acdc_optics_element_free(ap);
    acdc_optics_field_free(f);
    return 0;
}
