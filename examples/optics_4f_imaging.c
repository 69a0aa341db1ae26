/* SPDX-License-Identifier: GPL-3.0-or-later */
/* examples/optics_4f_imaging.c -- a 4f imaging system with a Fourier-plane pupil.
 *
 *   build/examples/optics_4f_imaging [OUT_DIR]          (default examples/out)
 *
 * An amplitude object (the letter F, 8 um pixels, 256 x 256, 633 nm) sits in the front
 * focal plane of lens 1 (f = M dx^2 / lambda = 25.9 mm, so that every plane has the
 * same 8 um pitch); lens 2 (same f) forms the image.  Two runs: an open system, whose
 * image is the object turned upside down (x -> -x, y -> -y; checked to rounding), and
 * one with a circular pupil in the Fourier plane passing spatial frequencies up to
 * 12 /mm, which blurs the edges (coherent low-pass imaging).  Power is accounted in
 * watts: 1 mW on the object.
 *
 * Writes OUT_DIR/optics_4f_imaging.h5 (/object, /fourier, /image_open, /image_pupil:
 * intensities in W/m^2; attributes with every parameter) and
 * OUT_DIR/optics_4f_imaging.png (the four planes with axes in mm and 1/mm).
 * Needs gnuplot.  Exit status: 0 success, 1 failure (message on stderr).
 */
#include "optics/element.h"
#include "optics/field.h"
#include "optics/propagate.h"
#include "util/error.h"
#include "util/gnuplot.h"
#include "util/h5.h"

#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define M 256

static int fail(const char *what)
{
    fprintf(stderr, "optics_4f_imaging: %s: %s\n", what, acdc_util_errmsg());
    return 1;
}

/* The letter F, 96 x 128 samples, upright (y grows upwards in the figure). */
static double letter_f(long x, long y)
{
    if (x < -48 || x >= 48 || y < -64 || y >= 64)
        return 0;
    if (x < -24)
        return 1;                      /* the stem */
    if (y >= 40)
        return 1;                      /* the top bar */
    if (y >= 0 && y < 24 && x < 24)
        return 1;                      /* the middle bar */
    return 0;
}

static int write_dat(const char *dir, const char *name, const double *v, double scale,
                     double pitch, int logscale)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/optics_4f_%s.dat", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        return acdc_util_error(ACDC_UTIL_EIO, "cannot write '%s'", path);
    for (size_t y = 0; y < M; y++) {
        for (size_t x = 0; x < M; x++) {
            double a = v[y * M + x] * scale;
            fprintf(f, "%.6g %.6g %.6g\n", acdc_optics_coord_m(x, M, pitch),
                    acdc_optics_coord_m(y, M, pitch), logscale ? log10(a + 1e-9) : a);
        }
        fputc('\n', f);
    }
    return fclose(f) ? acdc_util_error(ACDC_UTIL_EIO, "cannot write '%s'", path) : ACDC_UTIL_OK;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "examples/out";
    if (acdc_util_gnuplot_find() != ACDC_UTIL_OK) {
        fprintf(stderr, "optics_4f_imaging: %s: cannot draw the figure\n", acdc_util_errmsg());
        return 1;
    }
    mkdir(dir, 0755);
    const double dx = 8e-6, lam = 633e-9, fl = M * dx * dx / lam, cutoff = 12e3;
    acdc_optics_grid g;
    acdc_optics_field *obj = NULL, *four = NULL, *open = NULL, *pup = NULL;
    if (acdc_optics_grid_init(&g, 2, M, M, dx, lam) || acdc_optics_field_alloc(&obj, &g, 1))
        return fail("field");
    for (size_t y = 0; y < M; y++)
        for (size_t x = 0; x < M; x++)
            obj->data[y * M + x] = letter_f((long)x - M / 2, (long)y - M / 2);
    if (acdc_optics_field_set_power_w(obj, 0, 1e-3))
        return fail("object");
    acdc_optics_lens_plan *lens;
    if (acdc_optics_lens_plan_alloc(&lens, &g, fl))
        return fail("lens");
    if (acdc_optics_field_clone(&four, obj) || acdc_optics_lens_forward(lens, obj, four))
        return fail("Fourier plane");
    /* the pupil: a circle of radius lambda f * cutoff in the Fourier plane */
    acdc_optics_element *stop;
    double complex *t = malloc((size_t)M * M * sizeof *t);
    if (!t || acdc_optics_aperture_circ_alloc(&stop, 2 * lam * fl * cutoff) ||
        acdc_optics_element_sample(stop, &four->g, 8, t))
        return fail("pupil");
    if (acdc_optics_field_clone(&open, obj) || acdc_optics_4f_apply(lens, NULL, lens, obj, open))
        return fail("open system");
    if (acdc_optics_field_clone(&pup, obj) || acdc_optics_4f_apply(lens, t, lens, obj, pup))
        return fail("system with pupil");

    /* the open system images the object flipped, times -1 (two 1/(i lambda f)) */
    double flip = 0, pin, pout, ppup;
    for (size_t y = 0; y < M; y++)
        for (size_t x = 0; x < M; x++) {
            size_t fx = (M - x) % M, fy = (M - y) % M;
            flip = fmax(flip, cabs(open->data[y * M + x] + obj->data[fy * M + fx]));
        }
    acdc_optics_field_power_w(obj, 0, &pin);
    acdc_optics_field_power_w(open, 0, &pout);
    acdc_optics_field_power_w(pup, 0, &ppup);
    printf("4f system: f = %.1f mm, pitch %g um in every plane, %d x %d samples\n",
           fl * 1e3, dx * 1e6, M, M);
    printf("open: image = object flipped to %.2g (field units sqrt(W)/m); power %.6g mW "
           "in, %.6g mW out\n", flip, pin * 1e3, pout * 1e3);
    printf("pupil (|u| <= %g /mm): %.4g mW out (%.2f %% of the light passes)\n",
           cutoff * 1e-3, ppup * 1e3, 100 * ppup / pin);

    size_t n = (size_t)M * M;
    double *io = malloc(n * sizeof *io), *iff = malloc(n * sizeof *iff);
    double *i1 = malloc(n * sizeof *i1), *i2 = malloc(n * sizeof *i2);
    if (!io || !iff || !i1 || !i2)
        return 1;
    for (size_t i = 0; i < n; i++) {
        io[i] = creal(obj->data[i] * conj(obj->data[i]));
        iff[i] = creal(four->data[i] * conj(four->data[i]));
        i1[i] = creal(open->data[i] * conj(open->data[i]));
        i2[i] = creal(pup->data[i] * conj(pup->data[i]));
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/optics_4f_imaging.h5", dir);
    acdc_util_h5_out out;
    hsize_t d2[2] = {M, M};
    int rc = acdc_util_h5_create(path, &out);
    if (!rc) rc = acdc_util_h5_write_f64(out.fid, "object", 2, d2, io);
    if (!rc) rc = acdc_util_h5_write_f64(out.fid, "fourier", 2, d2, iff);
    if (!rc) rc = acdc_util_h5_write_f64(out.fid, "image_open", 2, d2, i1);
    if (!rc) rc = acdc_util_h5_write_f64(out.fid, "image_pupil", 2, d2, i2);
    if (!rc) rc = acdc_util_h5_set_attr_str(out.fid, ".", "units", "irradiance W/m^2; x_j = "
                                            "(j - floor(M/2)) * pitch");
    if (!rc) rc = acdc_util_h5_set_attr_f64(out.fid, ".", "pitch_m", dx);
    if (!rc) rc = acdc_util_h5_set_attr_f64(out.fid, ".", "fourier_pitch_m", four->g.pitch_m);
    if (!rc) rc = acdc_util_h5_set_attr_f64(out.fid, ".", "wavelength_m", lam);
    if (!rc) rc = acdc_util_h5_set_attr_f64(out.fid, ".", "focal_m", fl);
    if (!rc) rc = acdc_util_h5_set_attr_f64(out.fid, ".", "pupil_cutoff_per_m", cutoff);
    if (!rc) rc = acdc_util_h5_set_attr_f64(out.fid, ".", "power_in_w", pin);
    if (!rc) rc = acdc_util_h5_set_attr_f64(out.fid, ".", "power_out_open_w", pout);
    if (!rc) rc = acdc_util_h5_set_attr_f64(out.fid, ".", "power_out_pupil_w", ppup);
    if (!rc) rc = acdc_util_h5_set_attr_f64(out.fid, ".", "flip_max_error", flip);
    if (!rc) rc = acdc_util_h5_commit(&out);
    else acdc_util_h5_abort(&out);
    if (rc)
        return fail(path);
    printf("wrote %s\n", path);

    /* figure: positions in mm; the Fourier plane in spatial frequency u/(lambda f) */
    double fmax_i = 0;
    for (size_t i = 0; i < n; i++)
        fmax_i = fmax(fmax_i, iff[i]);
    if ((rc = write_dat(dir, "object", io, 1, dx * 1e3, 0)) ||
        (rc = write_dat(dir, "fourier", iff, 1 / fmax_i, four->g.pitch_m / (lam * fl) * 1e-3, 1)) ||
        (rc = write_dat(dir, "open", i1, 1, dx * 1e3, 0)) ||
        (rc = write_dat(dir, "pupil", i2, 1, dx * 1e3, 0)))
        return fail("figure data");
    char png[1024];
    snprintf(png, sizeof png, "%s/optics_4f_imaging.png", dir);
    /* the data files' names as gnuplot strings: a quote in DIR stays a quote */
    char q[4][1200];
    static const char *const dat[4] = {"object", "fourier", "open", "pupil"};
    for (int i = 0; i < 4; i++) {
        char name[1100];
        snprintf(name, sizeof name, "%s/optics_4f_%s.dat", dir, dat[i]);
        if ((rc = acdc_util_gnuplot_quote(name, q[i], sizeof q[i])))
            return fail("figure");
    }
    acdc_util_gnuplot *plot;
    if ((rc = acdc_util_gnuplot_open(&plot, png)))
        return fail("figure");
    FILE *gp = acdc_util_gnuplot_file(plot);
    acdc_util_gnuplot_terminal(plot, 1100, 1000);
    fprintf(gp,
            "set multiplot layout 2,2 title 'Imaging through a 4f system' . \"\\n\" . "
            "'{/*0.85 f = %.0f mm, λ = %.0f nm}'\n"
            "set size ratio -1; set palette grey\n"
            /* irradiance panels: the unit in the title (a colour-box label would
             * run into the four-digit tics beside it) */
            "set xlabel 'x (mm)'; set ylabel 'y (mm)'; unset cblabel\n"
            "set title 'object (front focal plane of lens 1), irradiance in W/m^{2}'\n"
            "plot %s with image notitle\n"
            "set xlabel 'u / (λ f) (1/mm)'; set ylabel 'v / (λ f) (1/mm)'\n"
            "set cblabel 'log_{10} I / I_{max}'; set cbrange [-6:0]\n"
            "set title 'Fourier plane (pupil radius %.0f /mm dashed)'\n"
            "set object 1 circle at 0,0 size %g front fillstyle empty border lc rgb 'red' dt 2\n"
            "plot %s with image notitle\n"
            "unset object 1; set cbrange [*:*]\n"
            "set xlabel 'x (mm)'; set ylabel 'y (mm)'; unset cblabel\n"
            "set title 'image, open system (flipped), W/m^{2}'\n"
            "plot %s with image notitle\n"
            "set title 'image through the pupil (coherent low-pass), W/m^{2}'\n"
            "plot %s with image notitle\n"
            "unset multiplot\n",
            fl * 1e3, lam * 1e9, q[0], cutoff * 1e-3, cutoff * 1e-3, q[1], q[2], q[3]);
    if ((rc = acdc_util_gnuplot_close(plot)))
        return fail("figure");
    printf("wrote %s\n", png);
    free(io);
    free(iff);
    free(i1);
    free(i2);
    free(t);
    acdc_optics_element_free(stop);
    acdc_optics_lens_plan_free(lens);
    acdc_optics_field_free(obj);
    acdc_optics_field_free(four);
    acdc_optics_field_free(open);
    acdc_optics_field_free(pup);
    return 0;
}
