/* SPDX-License-Identifier: GPL-3.0-or-later */
/* util/png.h -- grey-level PNG images through libpng, written atomically (util/file.h). */
#ifndef ACDC_UTIL_PNG_H
#define ACDC_UTIL_PNG_H

#include <stddef.h>
#include <stdint.h>

/* Writes a width x height grey image (row-major, row 0 at the top) of depth bits (8:
 * values 0..255, or 16) to path.  Errors: ACDC_UTIL_EUSAGE (a bad depth, a value too large
 * for it, a size PNG cannot hold), ACDC_UTIL_EIO (cannot create or write, naming path),
 * ACDC_UTIL_ENOMEM. */
int acdc_util_png_write_grey(const char *path, const uint16_t *img, size_t width, size_t height,
                             int bits);

#endif
