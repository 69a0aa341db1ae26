/* SPDX-License-Identifier: GPL-3.0-or-later */
/* optics/lens.h -- lens models: what a lens does to the light in its own plane.
 *
 * An ideal Fourier-transform lens (acdc_optics_lens_plan, optics/propagate.h) has no lens
 * plane: it maps its front focal plane onto its back focal plane as a centred DFT.  A
 * lens simulated with free space on either side is a thin transmittance in its plane,
 *
 *     t(x, y) = exp(i phi(r)) exp(i 2 pi W(x, y)),   r^2 = x^2 + y^2 (rank 1: r = |x|),
 *
 * whose model sets phi and whose wavefront error W (in waves) is added on top:
 *
 *   paraxial   phi = -k r^2 / (2 f), the thin lens of Goodman eq. 5-10: exact within
 *              the Fresnel approximation; under exact scalar propagation it is a singlet
 *              with primary spherical aberration, phase error about k r^4 / (8 f^3)
 *   corrected  phi = -k (sqrt(r^2 + f^2) - f), the spherical wave of an aberration-free
 *              lens: it focuses a plane wave to a perfect point (a line, rank 1) under
 *              exact scalar propagation.  Evaluated as -k r^2 / (f + sqrt(r^2 + f^2)),
 *              free of the cancellation of the difference near the axis.
 *
 * k = 2 pi / lambda; f < 0 is a diverging lens (phi changes sign).
 *
 * THE WAVEFRONT ERROR.  Rank 2 (a spherical lens): W = sum_j c_j Z_j(x / R, y / R), the
 * rms-normalised Zernike polynomials in Noll's numbering, j = 1 .. 11, over the clear
 * aperture of radius R = aperture / 2 (in Cartesian form, X = x/R, Y = y/R, rho^2 =
 * X^2 + Y^2):
 *
 *   j   name              Z_j                    j   name              Z_j
 *   1   piston            1                      7   coma (y)          sqrt8 (3 rho^2 - 2) Y
 *   2   tilt x            2 X                    8   coma (x)          sqrt8 (3 rho^2 - 2) X
 *   3   tilt y            2 Y                    9   trefoil (y)       sqrt8 (3 X^2 Y - Y^3)
 *   4   defocus           sqrt3 (2 rho^2 - 1)    10  trefoil (x)       sqrt8 (X^3 - 3 X Y^2)
 *   5   astigmatism 45°   sqrt6 2 X Y            11  primary spherical sqrt5 (6 rho^4 - 6 rho^2 + 1)
 *   6   astigmatism 0°    sqrt6 (X^2 - Y^2)
 *
 * Each Z_j (j >= 2) has mean 0 and rms 1 over the unit disc and they are orthogonal, so
 * the rms of W over the clear aperture (piston, a constant phase, excluded) is
 * sqrt(c_2^2 + ... + c_11^2).
 *
 * Rank 1 (a cylindrical lens, power along x only) has no y: a term that vanishes on the
 * x axis (the sine terms j = 3, 5, 7, 9) does not exist, and every other term is realised
 * by the normalised Legendre polynomial of its radial degree n in X = x / R,
 * L_n(X) = sqrt(2n + 1) P_n(X), which has rms 1 over the slit [-R, R] (the 1D disc):
 *
 *   degree 0: j = 1          L_0 = 1
 *   degree 1: j = 2          L_1 = sqrt3 X
 *   degree 2: j = 4, 6       L_2 = sqrt5 (3 X^2 - 1) / 2
 *   degree 3: j = 8, 10      L_3 = sqrt7 (5 X^3 - 3 X) / 2
 *   degree 4: j = 11         L_4 = 3 (35 X^4 - 30 X^2 + 3) / 8
 *
 * so W = sum_n b_n L_n with b_n the sum of the coefficients of degree n, and its rms
 * over the slit is sqrt(b_1^2 + ... + b_4^2).  (Legendre rather than the Zernike
 * polynomials restricted to the x axis: those are neither orthogonal nor of rms 1 over
 * a slit, so a requested rms would not be the rms realised.)
 *
 * A single rms figure (wavefront_rms, as catalogue lenses are specified) is realised as
 * primary spherical aberration alone: it is added to c_11, the residual that a lens
 * corrected on axis keeps.  Beyond the clear aperture W is the same polynomial
 * continued (for primary aberrations, how a lens's error grows with the height).
 */
#ifndef ACDC_OPTICS_LENS_H
#define ACDC_OPTICS_LENS_H

#include <complex.h>

/* Zernike terms of a lens's wavefront error: Noll j = 1 .. ACDC_OPTICS_ZERNIKE_TERMS. */
#define ACDC_OPTICS_ZERNIKE_TERMS 11

enum acdc_optics_lens_model {
    ACDC_OPTICS_LENS_FOURIER = 0,  /* the ideal Fourier transform (acdc_optics_lens_plan): no lens
                                 plane, no transmittance */
    ACDC_OPTICS_LENS_PARAXIAL,     /* quadratic phase -k r^2 / (2f) */
    ACDC_OPTICS_LENS_CORRECTED     /* spherical wave -k (sqrt(r^2 + f^2) - f) */
};

/* A lens: the model and wavefront error (what a device profile names) and, last, the
 * focal length and clear aperture of the position it fills, which the user of the lens
 * sets (a profile leaves them 0). */
typedef struct acdc_optics_lens {
    char name[64];                         /* e.g. "achromatic doublet" */
    enum acdc_optics_lens_model model;
    double wavefront_rms;                  /* waves rms over the clear aperture, >= 0,
                                              realised as primary spherical (added to
                                              Noll 11) */
    double zernike[ACDC_OPTICS_ZERNIKE_TERMS];  /* waves, coefficient of Noll j at [j - 1] */
    double focal_m;                        /* nonzero; < 0 diverging */
    double aperture_m;                     /* clear aperture diameter, >= 0: the unit
                                              circle (rank 2) or slit (rank 1) of the
                                              wavefront error; 0 only without one */
} acdc_optics_lens;

/* "fourier", "paraxial", "corrected"; "?" for anything else. */
const char *acdc_optics_lens_model_name(enum acdc_optics_lens_model m);

/* The model called name.  Errors: ACDC_UTIL_EUSAGE "'NAME' is not fourier, paraxial or
 * corrected" (the caller prefixes the option or key). */
int acdc_optics_lens_model_parse(const char *name, enum acdc_optics_lens_model *m);

/* The Zernike coefficients realised (waves, Noll j at c[j - 1]): l->zernike with
 * l->wavefront_rms added to c[10]. */
void acdc_optics_lens_coefficients(const acdc_optics_lens *l, double c[ACDC_OPTICS_ZERNIKE_TERMS]);

/* 1 if the lens has a wavefront error (a nonzero realised coefficient), else 0. */
int acdc_optics_lens_has_error(const acdc_optics_lens *l);

/* The rms (waves) over the clear aperture of the wavefront error realised on a lens of
 * rank 1 (Legendre, see above) or 2 (Zernike), piston excluded. */
double acdc_optics_lens_wavefront_rms(const acdc_optics_lens *l, int rank);

/* The wavefront error W (waves) of l at (x_m, y_m) in the lens plane (rank 1: y_m is
 * not used); 0 without an error, else l->aperture_m must be positive. */
double acdc_optics_lens_wavefront(const acdc_optics_lens *l, int rank, double x_m, double y_m);

/* Checks that l can be sampled: model paraxial or corrected (a Fourier lens has no
 * transmittance), focal length nonzero and finite, wavefront_rms >= 0, coefficients
 * finite, and a positive clear aperture when there is a wavefront error.  Errors:
 * ACDC_UTIL_EUSAGE naming the lens and the value. */
int acdc_optics_lens_check(const acdc_optics_lens *l);

/* The transmittance t(x_m, y_m) of a lens that passed acdc_optics_lens_check() at wavenumber
 * k_per_m = 2 pi / lambda (rank 1: y_m is not used).  To sample a lens onto a grid, make
 * it an element (acdc_optics_lens_element_alloc(), optics/element.h) and call
 * acdc_optics_element_sample(). */
double complex acdc_optics_lens_transmittance(const acdc_optics_lens *l, int rank, double k_per_m,
                                              double x_m, double y_m);

/* The clear aperture (diameter, m) a Fourier lens needs -- a lens between its front
 * focal plane, holding light over input_m, and its back focal plane, receiving it over
 * output_m (widths of square fields, rank 2) --: by geometrical optics the ray from
 * input point x0 to output point u crosses the lens at x0 + u, so the lens must span
 * input_m + output_m, and in rank 2, round, the sum of the two diagonals. */
double acdc_optics_fourier_lens_aperture(int rank, double input_m, double output_m);

/* The Marechal approximation for a small wavefront error of sigma waves rms: the
 * Strehl ratio exp(-(2 pi sigma)^2), and its inverse, the rms that gives Strehl ratio
 * strehl (in (0, 1]): sqrt(-ln strehl) / (2 pi), 0.0752 waves for 0.8, the usual limit
 * of a "diffraction-limited" lens (about lambda / 14). */
double acdc_optics_marechal_strehl(double rms_waves);
double acdc_optics_marechal_rms(double strehl);

#endif
