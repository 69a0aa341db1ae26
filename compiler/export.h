/* SPDX-License-Identifier: GPL-3.0-or-later */
/* compiler/export.h -- what a lab builds from: where every plane sits on which physical
 * device, the images to load on the SLMs (grey levels through the device's lookup
 * table, mirrored for reflective devices), the relief of fabricated elements, the
 * camera's read-out map and a build sheet.  `acdc export` writes them
 * (compiler/EXPORT.md states every rule below once, with its formula).
 *
 * Coordinates on a device: pixel column x (0 .. pixels − 1) and row y (0 .. rows − 1)
 * as the design sees the device from the light's side before any mirroring; pixel
 * (x, y) covers [x, x + 1) x [y, y + 1) in pixel units.  An image as loaded is the design
 * image, mirrored in x (column x shown at pixels − 1 − x) where the device is
 * reflective.
 */
#ifndef ACDC_COMPILER_EXPORT_H
#define ACDC_COMPILER_EXPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "compiler/system.h"

/* What a plane does in the train. */
enum acdc_compiler_role { ACDC_COMPILER_ROLE_INPUT = 0, ACDC_COMPILER_ROLE_FOURIER,
                         ACDC_COMPILER_ROLE_IMAGE };

/* The role's device in a profile (input, fourier, image) and its name ("input", ...). */
const acdc_optics_modulator *acdc_compiler_role_device(const acdc_compiler_profile *p,
                                                       enum acdc_compiler_role r);
const char *acdc_compiler_role_name(enum acdc_compiler_role r);

/* One plane on a physical device.  The plane's samples x samples (rank 1: samples x 1)
 * values fill the region x0 .. x0 + width − 1, y0 .. y0 + height − 1: sample (kx, ky) on
 * the px x py pixels from (x0 + kx px, y0 + ky py).  A rank-1 plane's line of samples
 * covers every row of the device (py = height = rows): a cylindrical system's mask does
 * not change along y.  The plane's optical axis -- the centre of sample floor(samples/2)
 * per axis (optics/field.h) -- is at pixel coordinates (axis_x, axis_y). */
typedef struct acdc_compiler_slot {
    enum acdc_compiler_role role;
    size_t chain, stage;          /* the stage of a mask; 0 for an input modulator */
    const acdc_compiler_mask *mask;    /* the mask shown; NULL for an input modulator, whose
                                     values change with every input */
    size_t device;                /* the role's physical device 0, 1, ... */
    size_t samples;               /* samples per axis: m, or fm for a Fourier plane */
    size_t px, py;                /* pixels per sample along x and y */
    size_t x0, y0, width, height; /* the region, in design coordinates */
    double axis_x, axis_y;        /* the optical axis, pixel units */
} acdc_compiler_slot;

/* Every plane of a system on its devices: the planes of one role fill the role's devices
 * in train order (chain, then stage), as many on each as fit side by side (rank 2:
 * floor(pixels / w) x floor(rows / w) planes of w = samples k pixels, the grid centred on
 * the device; rank 1: one plane per device, its axis on the device's axis pixel
 * floor(pixels / 2)). */
typedef struct acdc_compiler_plan {
    size_t nslots;
    acdc_compiler_slot *slots;
    size_t devices[3];            /* physical devices per role */
    size_t cols[3], rows[3];      /* each role's device size in pixels */
} acdc_compiler_plan;

/* Fills *plan for s.  Errors: ACDC_UTIL_EDATA (a plane wider than its device, naming both),
 * ACDC_UTIL_ENOMEM.  acdc_compiler_plan_free() frees what it holds. */
int acdc_compiler_plan_make(const acdc_compiler_system *s, acdc_compiler_plan *plan);
void acdc_compiler_plan_free(acdc_compiler_plan *plan);

/* A device's drive table: what each grey level shows -- a phase in radians (phase
 * devices and the phase part of a complex one) or the normalised amplitude drive in
 * [0, 1] (amplitude devices and the amplitude part of a complex one) -- and for every
 * device level (code) the grey level that shows it.  grey_bits is 8 or 16 (the PNG's
 * depth).  The linear default (dev->lut empty): phase 2 pi g / 2^G, amplitude g / (2^G
 * − 1), G = grey_bits.  A table file has one line per grey level, "grey value" (value
 * in rad or 0..1), '#' comments; each level is shown by the grey whose value is nearest
 * (circularly for phase), and the table must tell every level apart: the nearest level
 * of that grey's value must be the level itself. */
typedef struct acdc_compiler_lut {
    int grey_bits;
    size_t ngrey;                 /* 2^grey_bits */
    double *value;                /* ngrey values; NaN for a grey the file leaves out */
    int bits;                     /* the device levels' bits */
    size_t nlevels;               /* 2^bits */
    uint16_t *grey;               /* nlevels greys */
    int phase;                    /* 1: values are phases */
} acdc_compiler_lut;

/* Builds the table of device dev's part (phase = 1: its phase levels; 0: its amplitude
 * levels).  Errors: ACDC_UTIL_EIO (the table file cannot be read), ACDC_UTIL_EDATA (a malformed
 * line, naming file and line; levels the table cannot tell apart; a device with
 * continuous levels), ACDC_UTIL_ENOMEM. */
int acdc_compiler_lut_make(const acdc_optics_modulator *dev, int phase, acdc_compiler_lut *lut);
void acdc_compiler_lut_free(acdc_compiler_lut *lut);
/* The device level a grey level shows (the nearest level of its value); -1 for a grey
 * the table leaves out. */
int32_t acdc_compiler_lut_level(const acdc_compiler_lut *lut, uint16_t grey);
/* Writes the table as text: "grey value level" per line, a header naming the device. */
int acdc_compiler_lut_write(const acdc_compiler_lut *lut, const char *device, FILE *f);

/* The code column of a mask that pixel (ix, iy) of a sample's px x py pixels shows:
 * column 0 or 1 of a double-phase value (rank 1: the left pixel 0, the right 1; rank 2
 * by dev->dp_layout: columns -- ix even 0; checkerboard -- ix + iy even 0); 0 for a
 * one-code device.  A complex device's two codes go to two devices (part 0: amplitude,
 * part 1: phase); acdc_compiler_device_image() takes the part. */
int acdc_compiler_pixel_code(const acdc_compiler_system *s,
                             const acdc_optics_modulator *dev, size_t ix,
                             size_t iy);

/* The design image of physical device `device` of role r (cols x rows greys, row-major,
 * before mirroring), its unused pixels grey 0: every mask's code per pixel through lut
 * (part: 0 for the only or amplitude code, 1 for a complex device's phase code).
 * acdc_compiler_mirror() mirrors an image in x (reflective devices). */
int acdc_compiler_device_image(const acdc_compiler_system *s, const acdc_compiler_plan *plan,
                               enum acdc_compiler_role r, size_t device, int part,
                               const acdc_compiler_lut *lut, uint16_t *img);
void acdc_compiler_mirror(uint16_t *img, size_t cols, size_t rows);

/* The phase level of every pixel of a mask's region (width x height, row-major; rank 1:
 * one row, the element being the same along y), for a fabricated element's relief:
 * height = wavelength · level / (2^bits (n − 1)), n the refractive index. */
int acdc_compiler_slot_levels(const acdc_compiler_system *s, const acdc_compiler_slot *slot,
                              int32_t *levels);

/* The camera pixel chain c reads component j on (the relay maps one sample onto one
 * pixel; rank 1: the camera's row floor(rows / 2), column floor(pixels / 2) + x −
 * floor(m / 2) for image sample x; rank 2: the chain's m x m region, tiled like the
 * devices).  *x0, *y0, *w, *h: the chain's region of interest. */
void acdc_compiler_camera_roi(const acdc_compiler_system *s, size_t c, size_t *x0, size_t *y0,
                              size_t *w, size_t *h);
void acdc_compiler_camera_pixel(const acdc_compiler_system *s, size_t c, size_t j, size_t *x,
                                size_t *y);

/* Writes the build sheet (Markdown) of s: the optical train of every chain in order --
 * illumination and the reference's split, every device with its part name, region and
 * image file, reflective folds, Fourier-plane apertures, every lens with the focal
 * length, NA, clear aperture and wavefront error it needs, the relay, the homodyne
 * reference arm with its amplitude and phase and the camera pair -- distances in mm.
 * Every row of /elements is a row tagged `E<i>`.  files[r] (may be NULL) names the image
 * files of role r's devices, "%zu" the device.  extra (may be NULL): Markdown appended
 * before the design warnings (the tolerances, which the compiler does not compute). */
int acdc_compiler_build_sheet(const acdc_compiler_system *s, const acdc_compiler_plan *plan,
                              const char *const files[3], const char *name, const char *extra,
                              FILE *f);

#endif
