/* SPDX-License-Identifier: GPL-3.0-or-later */
/* util/png.h -- grey-level PNG images through libpng, written atomically (util/file.h). */
#ifndef UTIL_PNG_H
#define UTIL_PNG_H

#include <stddef.h>
#include <stdint.h>

/* Writes a width x height grey image (row-major, row 0 at the top) of depth bits (8:
 * values 0..255, or 16) to path.  Errors: UTIL_EUSAGE (a bad depth, a value too large
 * for it, a size PNG cannot hold), UTIL_EIO (cannot create or write, naming path),
 * UTIL_ENOMEM. */
int util_png_write_grey(const char *path, const uint16_t *img, size_t width, size_t height,
                        int bits);

#endif
