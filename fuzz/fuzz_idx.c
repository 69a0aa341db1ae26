/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz/fuzz_idx.c -- IDX headers and data: acdc_idx_read() on the input as a file,
 * plain or gzip-compressed, with or without a label file.
 *
 * Input layout: byte 0 selects the mode (bit 0: gzip the image file in memory, bit 1:
 * a label file, bit 2: gzip the label file), byte 1 is the label file's length L; the
 * last L bytes are the label file and the rest the image file.  Inputs that start with
 * the gzip magic in plain mode exercise the reader on broken gzip streams.
 *
 * Properties: no crash, no sanitizer report, no allocation beyond libFuzzer's limit; a
 * refusal is one line naming a file; an accepted file gives count × width values that
 * are exactly the bytes after the header, scaled to [0, 1], and the labels as given.
 */
#define _GNU_SOURCE
#include "fuzz/fuzz_common.h"

#include "models/idx.h"
#include "util/error.h"

#include <zlib.h>

/* gzip-compresses src into a new buffer (caller frees); NULL on failure. */
static uint8_t *gzip(const uint8_t *src, size_t len, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    size_t cap = deflateBound(&z, len) + 32;
    uint8_t *dst = malloc(cap);
    z.next_in = (Bytef *)src;
    z.avail_in = (uInt)len;
    z.next_out = dst;
    z.avail_out = (uInt)cap;
    int r = deflate(&z, Z_FINISH);
    *out_len = cap - z.avail_out;
    deflateEnd(&z);
    if (r != Z_STREAM_END) {
        free(dst);
        return NULL;
    }
    return dst;
}

/* Writes part (compressed if asked) to a memfd. */
static int put(const char *name, const uint8_t *p, size_t n, int compress, char *path,
               size_t size)
{
    if (!compress)
        return fuzz_memfile(name, p, n, path, size);
    size_t zn;
    uint8_t *z = gzip(p, n, &zn);
    if (!z)
        return -1;
    int fd = fuzz_memfile(name, z, zn, path, size);
    free(z);
    return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    if (len < 2)
        return 0;
    unsigned mode = data[0];
    size_t lab_len = (mode & 2) ? data[1] : 0;
    const uint8_t *im = data + 2;
    size_t im_len = len - 2;
    if (lab_len > im_len)
        lab_len = im_len;
    im_len -= lab_len;
    const uint8_t *lb = im + im_len;

    char ipath[64], lpath[64];
    int ifd = put("images", im, im_len, mode & 1, ipath, sizeof ipath), lfd = -1;
    if (ifd < 0)
        return 0;
    if ((mode & 2) && (lfd = put("labels", lb, lab_len, mode & 4, lpath, sizeof lpath)) < 0) {
        close(ifd);
        return 0;
    }
    acdc_data *d = NULL;
    acdc_util_error_clear();
    int rc = acdc_idx_read(ipath, (mode & 2) ? lpath : NULL, &d);
    if (rc) {
        const char *msg = acdc_util_errmsg();
        FUZZ_CHECK(d == NULL, "output set on failure");
        FUZZ_CHECK(rc == ACDC_UTIL_EDATA || rc == ACDC_UTIL_ENOMEM, "status %d: %s", rc, msg);
        FUZZ_CHECK(fuzz_one_line(msg), "message is not one line: '%s'", msg);
        FUZZ_CHECK(strstr(msg, ipath) || ((mode & 2) && strstr(msg, lpath)),
                   "message names no file: '%s'", msg);
    } else {
        FUZZ_CHECK(d && d->batch >= 1 && d->dim >= 1, "empty data set accepted");
        /* plain images: the values are the bytes after the header */
        if (!(mode & 1)) {
            size_t hdr = 4 + 4 * (size_t)im[3];
            FUZZ_CHECK(hdr + d->batch * d->dim == im_len, "%zu x %zu values from %zu bytes",
                       d->batch, d->dim, im_len);
            for (size_t k = 0; k < d->batch * d->dim; k++)
                FUZZ_CHECK(d->x[k] == im[hdr + k] / 255.0, "value %zu", k);
        }
        FUZZ_CHECK(((mode & 2) != 0) == (d->labels != NULL), "labels");
        for (size_t k = 0; d->labels && k < d->batch; k++)
            FUZZ_CHECK(d->labels[k] >= 0 && d->labels[k] <= 255, "label %zu", k);
        if (d->labels && !(mode & 4))
            FUZZ_CHECK(lab_len == 8 + d->batch && d->labels[0] == lb[8], "label bytes");
        acdc_data_free(d);
    }
    close(ifd);
    if (lfd >= 0)
        close(lfd);
    return 0;
}
