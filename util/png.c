/* SPDX-License-Identifier: GPL-3.0-or-later */
/* util/png.c -- grey-level PNG writing through libpng (util/png.h). */
#include "util/png.h"
#include "util/error.h"
#include "util/file.h"

#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

/* libpng reports through longjmp; the message is kept for the one-line error. */
struct png_err {
    char msg[160];
};

static void on_error(png_structp png, png_const_charp msg)
{
    struct png_err *e = png_get_error_ptr(png);
    snprintf(e->msg, sizeof e->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

/* The part of writing that libpng may leave by longjmp: nothing here owns memory that a
 * jump would leak except row, which the caller frees. */
static int write_rows(acdc_util_file *out, const uint16_t *img, size_t width, size_t height,
                      int bits, unsigned char *row, struct png_err *err)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, err, on_error, on_warning);
    if (!png)
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for a PNG");
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for a PNG");
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return acdc_util_error(ACDC_UTIL_EIO, "cannot write '%s': libpng: %s",
                               out->t.dest, err->msg);
    }
    png_init_io(png, out->f);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, bits, PNG_COLOR_TYPE_GRAY,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (size_t y = 0; y < height; y++) {
        const uint16_t *src = img + y * width;
        if (bits == 8)
            for (size_t x = 0; x < width; x++)
                row[x] = (unsigned char)src[x];
        else
            for (size_t x = 0; x < width; x++) { /* PNG samples are big-endian */
                row[2 * x] = (unsigned char)(src[x] >> 8);
                row[2 * x + 1] = (unsigned char)(src[x] & 0xff);
            }
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return ACDC_UTIL_OK;
}

int acdc_util_png_write_grey(const char *path, const uint16_t *img, size_t width, size_t height,
                             int bits)
{
    if (bits != 8 && bits != 16)
        return acdc_util_error(ACDC_UTIL_EUSAGE,
                               "'%s': a grey PNG is 8 or 16 bits deep, not %d", path,
                               bits);
    if (width == 0 || height == 0 || width > 0x7fffffff || height > 0x7fffffff)
        return acdc_util_error(ACDC_UTIL_EUSAGE,
                               "'%s': %zu x %zu pixels is not a PNG size", path, width,
                               height);
    if (bits == 8)
        for (size_t i = 0; i < width * height; i++)
            if (img[i] > 255)
                return acdc_util_error(ACDC_UTIL_EUSAGE, "'%s': grey %u does not fit 8 bits", path,
                                       (unsigned)img[i]);
    unsigned char *row = malloc(width * (size_t)(bits / 8));
    if (!row)
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for a PNG row");
    acdc_util_file out;
    int rc = acdc_util_file_create(path, &out);
    if (!rc) {
        struct png_err err;
        memset(&err, 0, sizeof err);
        rc = write_rows(&out, img, width, height, bits, row, &err);
        rc = rc ? (acdc_util_file_abort(&out), rc) : acdc_util_file_commit(&out);
    }
    free(row);
    return rc;
}
