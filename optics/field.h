/* SPDX-License-Identifier: GPL-3.0-or-later */
/* optics/field.h -- sampled complex scalar wavefields.
 *
 * A field is a batch of nb complex scalar fields E(x) (rank 1, cylindrical optics: the
 * optics act along x only) or E(x, y) (rank 2), sampled on a square grid of pitch
 * pitch_m at one vacuum wavelength wavelength_m.  Storage is one contiguous array of
 * nb * ny * nx double complex values, x fastest:  data[(b * ny + iy) * nx + ix].
 * Rank-1 fields have ny == 1.
 *
 * CENTRING CONVENTION (every module and the compiler rely on it).  Along an axis of M
 * samples the optical axis lies on sample index c = floor(M / 2), and sample j sits at
 *     x_j = (j - floor(M / 2)) * pitch_m.
 * Even M = 8: indices 0..7 sit at -4..3 pitches, the axis on index 4.  Odd M = 7:
 * indices 0..6 sit at -3..3 pitches, the axis on index 3.  This is the layout of
 * numpy.fft.fftshift: a centred DFT is fftshift(fft(ifftshift(.))).  Spatial
 * frequencies of a centred transform follow the same rule: u_k = (k - floor(M/2)) * du.
 *
 * UNITS.  |E|^2 is irradiance: W/m^2 for rank 2; for rank 1 the field is taken as
 * already integrated over y, so |E|^2 is power per unit length along x, W/m.  Either
 * way the power of field b is P = sum |E|^2 * (pitch area), in watts.
 */
#ifndef ACDC_OPTICS_FIELD_H
#define ACDC_OPTICS_FIELD_H

#include <complex.h>
#include <stddef.h>

/* The complex product a·b as the textbook formula, without the C99 recovery of NaN and
 * infinite parts that the '*' operator performs (GCC checks every product for NaN and
 * calls __muldc3 on that path, which keeps the hot loops from vectorising: measured
 * 1.4-1.6x on a multiply-accumulate loop).  For finite operands the result is bit for bit
 * what '*' gives.  For the hot loops of the optics and of the compiler's surrogate. */
static inline double complex acdc_optics_cmul(double complex a, double complex b)
{
    const double ar = creal(a), ai = cimag(a), br = creal(b), bi = cimag(b);
    const double re = ar * br - ai * bi, im = ar * bi + ai * br;
#ifdef CMPLX
    return CMPLX(re, im);
#else /* glibc defines C11's CMPLX only for compilers claiming GCC >= 4.7; clang does not */
    return __builtin_complex(re, im);
#endif
}

/* The sampling grid of one field (shared by every field of a batch). */
typedef struct acdc_optics_grid {
    int rank;             /* 1 (x only) or 2 (x and y) */
    size_t nx, ny;        /* samples along x and y; ny == 1 when rank == 1 */
    double pitch_m;       /* sample spacing in x and in y, metres, > 0 */
    double wavelength_m;  /* vacuum wavelength, metres, > 0 */
} acdc_optics_grid;

/* A batch of fields on one grid.  Fields are plain data: read and write data[] freely. */
typedef struct acdc_optics_field {
    acdc_optics_grid g;
    size_t nb;              /* number of fields in the batch, >= 1 */
    double complex *data;   /* nb * ny * nx samples, owned by the field */
} acdc_optics_field;

/* Fills *g after checking the values: rank 1 or 2, nx >= 1, ny >= 1 (rank 1 forces
 * ny == 1 and rejects ny > 1), pitch and wavelength finite and positive.
 * Errors: ACDC_UTIL_EUSAGE naming the bad value. */
int acdc_optics_grid_init(acdc_optics_grid *g, int rank, size_t nx, size_t ny, double pitch_m,
                          double wavelength_m);

/* Checks an existing grid with the same rules as acdc_optics_grid_init(). */
int acdc_optics_grid_check(const acdc_optics_grid *g);

/* Samples per field: nx * ny. */
size_t acdc_optics_grid_size(const acdc_optics_grid *g);

/* Index of the optical axis along an axis of m samples: floor(m / 2). */
size_t acdc_optics_axis_index(size_t m);

/* Coordinate of sample j along an axis of m samples at pitch_m: (j - floor(m/2))*pitch. */
double acdc_optics_coord_m(size_t j, size_t m, double pitch_m);

/* Allocates a batch of nb zeroed fields on grid g.  *out receives a new field that the
 * caller frees with acdc_optics_field_free().  Errors: ACDC_UTIL_EUSAGE (bad grid, nb == 0),
 * ACDC_UTIL_ENOMEM (size overflows or allocation fails); *out is NULL on error. */
int acdc_optics_field_alloc(acdc_optics_field **out, const acdc_optics_grid *g, size_t nb);

/* Frees a field; NULL is a no-op. */
void acdc_optics_field_free(acdc_optics_field *f);

/* A new field with the same grid, batch and values.  Caller frees.  Errors as alloc. */
int acdc_optics_field_clone(acdc_optics_field **out, const acdc_optics_field *f);

/* Copies the values of src into dst.  Errors: ACDC_UTIL_EUSAGE if grids or batch differ. */
int acdc_optics_field_copy(acdc_optics_field *dst, const acdc_optics_field *src);

/* Pointer to field b of the batch (ny * nx samples), or NULL if b >= nb. */
double complex *acdc_optics_field_slice(const acdc_optics_field *f, size_t b);

/* Sets every sample of every field to zero. */
void acdc_optics_field_zero(acdc_optics_field *f);

/* Checks that every sample is finite.  Errors: ACDC_UTIL_EDATA naming the first bad sample. */
int acdc_optics_field_check_finite(const acdc_optics_field *f);

/* 1 if two grids have the same rank, sizes, and pitch and wavelength equal to a
 * relative 1e-12; 0 otherwise. */
int acdc_optics_grid_same(const acdc_optics_grid *a, const acdc_optics_grid *b);

/* Power of field b in watts: sum |E|^2 * pitch^rank.  Errors: ACDC_UTIL_EUSAGE (b out of
 * range, NULL); *power_w is left unchanged on error. */
int acdc_optics_field_power_w(const acdc_optics_field *f, size_t b, double *power_w);

/* Energy of field b over an exposure of exposure_s seconds, joules: P * exposure_s.
 * Errors: ACDC_UTIL_EUSAGE (b out of range, exposure negative or not finite). */
int acdc_optics_field_energy_j(const acdc_optics_field *f, size_t b, double exposure_s,
                               double *energy_j);

/* Multiplies field b by a real factor so that its power becomes power_w watts.
 * Errors: ACDC_UTIL_EUSAGE (power negative or not finite), ACDC_UTIL_EDATA (field is all zero
 * and power_w > 0). */
int acdc_optics_field_set_power_w(acdc_optics_field *f, size_t b, double power_w);

/* Inner product <a, b> = sum conj(a) * b * pitch^rank over the whole batch (the inner
 * product of L2, so that <E, E> is the total power in watts).  Errors: ACDC_UTIL_EUSAGE if
 * the grids (acdc_optics_grid_same) or batch sizes differ. */
int acdc_optics_field_inner(const acdc_optics_field *a, const acdc_optics_field *b,
                            double complex *result);

#endif
