/* SPDX-License-Identifier: GPL-3.0-or-later */
/* optics/lens.c -- see lens.h. */
#include "optics/lens.h"

#include "util/error.h"

#include <math.h>
#include <string.h>

static const char *const model_names[] = {"fourier", "paraxial", "corrected"};

const char *acdc_optics_lens_model_name(enum acdc_optics_lens_model m)
{
    return m >= ACDC_OPTICS_LENS_FOURIER && m <= ACDC_OPTICS_LENS_CORRECTED ? model_names[m] : "?";
}

int acdc_optics_lens_model_parse(const char *name, enum acdc_optics_lens_model *m)
{
    for (int i = ACDC_OPTICS_LENS_FOURIER; i <= ACDC_OPTICS_LENS_CORRECTED; i++)
        if (name && !strcmp(name, model_names[i])) {
            *m = (enum acdc_optics_lens_model)i;
            return ACDC_UTIL_OK;
        }
    return acdc_util_error(ACDC_UTIL_EUSAGE, "'%s' is not fourier, paraxial or corrected",
                           name ? name : "(null)");
}

void acdc_optics_lens_coefficients(const acdc_optics_lens *l, double c[ACDC_OPTICS_ZERNIKE_TERMS])
{
    memcpy(c, l->zernike, sizeof l->zernike);
    c[10] += l->wavefront_rms;
}

int acdc_optics_lens_has_error(const acdc_optics_lens *l)
{
    double c[ACDC_OPTICS_ZERNIKE_TERMS];
    acdc_optics_lens_coefficients(l, c);
    for (int j = 0; j < ACDC_OPTICS_ZERNIKE_TERMS; j++)
        if (c[j] != 0)
            return 1;
    return 0;
}

/* The rank-1 (Legendre) coefficients b_0 .. b_4 of the Zernike coefficients c: each
 * term by its radial degree, the sine terms (zero on the x axis) left out (lens.h). */
static void legendre_of(const double c[ACDC_OPTICS_ZERNIKE_TERMS], double b[5])
{
    b[0] = c[0];
    b[1] = c[1];
    b[2] = c[3] + c[5];
    b[3] = c[7] + c[9];
    b[4] = c[10];
}

double acdc_optics_lens_wavefront_rms(const acdc_optics_lens *l, int rank)
{
    double c[ACDC_OPTICS_ZERNIKE_TERMS], b[5], s = 0;
    acdc_optics_lens_coefficients(l, c);
    if (rank == 1) {
        legendre_of(c, b);
        for (int n = 1; n < 5; n++)
            s += b[n] * b[n];
    } else {
        for (int j = 1; j < ACDC_OPTICS_ZERNIKE_TERMS; j++)
            s += c[j] * c[j];
    }
    return sqrt(s);
}

/* W (waves) at normalised coordinates (X, Y) for coefficients c. */
static double wavefront_at(const double c[ACDC_OPTICS_ZERNIKE_TERMS], int rank, double X, double Y)
{
    const double s3 = sqrt(3.0), s5 = sqrt(5.0), s6 = sqrt(6.0), s7 = sqrt(7.0),
                 s8 = sqrt(8.0);
    if (rank == 1) {
        double b[5], X2 = X * X;
        legendre_of(c, b);
        return b[0] + b[1] * s3 * X + b[2] * s5 * (3 * X2 - 1) / 2 +
               b[3] * s7 * (5 * X2 - 3) * X / 2 + b[4] * 3 * ((35 * X2 - 30) * X2 + 3) / 8;
    }
    const double r2 = X * X + Y * Y;
    return c[0] + c[1] * 2 * X + c[2] * 2 * Y + c[3] * s3 * (2 * r2 - 1) +
           c[4] * s6 * 2 * X * Y + c[5] * s6 * (X * X - Y * Y) +
           c[6] * s8 * (3 * r2 - 2) * Y + c[7] * s8 * (3 * r2 - 2) * X +
           c[8] * s8 * (3 * X * X - Y * Y) * Y + c[9] * s8 * (X * X - 3 * Y * Y) * X +
           c[10] * s5 * ((6 * r2 - 6) * r2 + 1);
}

double acdc_optics_lens_wavefront(const acdc_optics_lens *l, int rank, double x_m, double y_m)
{
    double c[ACDC_OPTICS_ZERNIKE_TERMS];
    if (!acdc_optics_lens_has_error(l))
        return 0;
    acdc_optics_lens_coefficients(l, c);
    const double R = l->aperture_m / 2;
    return wavefront_at(c, rank, x_m / R, rank == 1 ? 0 : y_m / R);
}

int acdc_optics_lens_check(const acdc_optics_lens *l)
{
    if (!l)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "lens is NULL");
    const char *name = l->name[0] ? l->name : "lens";
    if (l->model != ACDC_OPTICS_LENS_PARAXIAL && l->model != ACDC_OPTICS_LENS_CORRECTED)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "'%s': a lens of model %s has no transmittance (a "
                               "Fourier lens is acdc_optics_lens_plan)", name,
                               acdc_optics_lens_model_name(l->model));
    if (!(isfinite(l->focal_m) && l->focal_m != 0))
        return acdc_util_error(ACDC_UTIL_EUSAGE,
                               "'%s': focal length %g m is zero or not finite", name,
                               l->focal_m);
    if (!(isfinite(l->aperture_m) && l->aperture_m >= 0))
        return acdc_util_error(ACDC_UTIL_EUSAGE,
                               "'%s': clear aperture %g m is negative or not finite",
                               name, l->aperture_m);
    if (!(isfinite(l->wavefront_rms) && l->wavefront_rms >= 0))
        return acdc_util_error(ACDC_UTIL_EUSAGE,
                               "'%s': wavefront error %g waves rms is negative or "
                               "not finite", name, l->wavefront_rms);
    for (int j = 0; j < ACDC_OPTICS_ZERNIKE_TERMS; j++)
        if (!isfinite(l->zernike[j]))
            return acdc_util_error(ACDC_UTIL_EUSAGE,
                                   "'%s': Zernike coefficient %d is not finite", name,
                                   j + 1);
    if (acdc_optics_lens_has_error(l) && !(l->aperture_m > 0))
        return acdc_util_error(ACDC_UTIL_EUSAGE,
                               "'%s': a wavefront error needs a clear aperture (the "
                               "unit circle of its Zernike terms), not %g m", name, l->aperture_m);
    return ACDC_UTIL_OK;
}

double complex acdc_optics_lens_transmittance(const acdc_optics_lens *l, int rank, double k_per_m,
                                              double x_m, double y_m)
{
    const double f = l->focal_m, r2 = x_m * x_m + (rank == 1 ? 0 : y_m * y_m);
    /* the paraxial form is the thin lens's expression as it always was, so that it stays
     * bit-for-bit what earlier builds computed */
    double ph = l->model == ACDC_OPTICS_LENS_CORRECTED
                    ? -k_per_m * r2 / (f + copysign(sqrt(r2 + f * f), f))
                    : -k_per_m * r2 / (2 * f);
    if (acdc_optics_lens_has_error(l))
        ph += 2 * M_PI * acdc_optics_lens_wavefront(l, rank, x_m, y_m);
    return cos(ph) + I * sin(ph);
}

double acdc_optics_fourier_lens_aperture(int rank, double input_m, double output_m)
{
    /* the ray leaving x0 at angle t reaches the lens at x0 + f t and, bent by -x/f,
     * the back focal plane at u = f t */
    return (rank == 2 ? M_SQRT2 : 1) * (input_m + output_m);
}

double acdc_optics_marechal_strehl(double rms_waves)
{
    const double s = 2 * M_PI * rms_waves;
    return exp(-s * s);
}

double acdc_optics_marechal_rms(double strehl)
{
    return sqrt(-log(strehl)) / (2 * M_PI);
}
