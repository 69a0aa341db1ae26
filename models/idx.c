/* SPDX-License-Identifier: GPL-3.0-or-later */
/* models/idx.c -- see idx.h. */
#include "models/idx.h"
#include "util/error.h"
#include "util/input.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define IDX_MAX_RANK 8
#define IDX_MAX_BYTES ((uint64_t)1 << 34)   /* refuse headers that promise > 16 GiB */

typedef struct idx_file {
    size_t rank;
    uint64_t dims[IDX_MAX_RANK];
    uint64_t count;   /* dims[0] */
    uint64_t width;   /* product of dims[1..] (1 for rank 1) */
    unsigned char *bytes;
} idx_file;

/* Reads exactly len bytes or reports truncation / a decompression error; *truncated (if
 * not NULL) tells the caller which, so it never has to read the message. */
static int read_exact(gzFile g, const char *path, void *buf, size_t len, const char *what,
                      int *truncated)
{
    if (truncated)
        *truncated = 0;
    unsigned char *p = buf;
    size_t got = 0;
    while (got < len) {
        size_t chunk = len - got > (1u << 30) ? (1u << 30) : len - got;
        int r = gzread(g, p + got, (unsigned)chunk);
        if (r < 0) {
            int zerr;
            const char *m = gzerror(g, &zerr);
            return acdc_util_error(zerr == Z_ERRNO ? ACDC_UTIL_EIO : ACDC_UTIL_EDATA,
                                   "cannot read '%s': %s", path,
                                   zerr == Z_ERRNO ? strerror(errno) : m);
        }
        if (r == 0) {
            if (truncated)
                *truncated = 1;
            return acdc_util_error(ACDC_UTIL_EDATA, "'%s' is truncated: %s needs %zu bytes, found "
                                   "%zu", path, what, len, got);
        }
        got += (size_t)r;
    }
    return ACDC_UTIL_OK;
}

/* Reads the len data bytes into a new buffer (*out, caller frees).  The buffer grows
 * as the data arrives rather than being sized from the header: a few bytes claiming
 * gigabytes must not make us allocate gigabytes before finding the file truncated. */
static int read_data(gzFile g, const char *path, size_t len, unsigned char **out)
{
    size_t cap = len < ((size_t)1 << 20) ? len : ((size_t)1 << 20), got = 0;
    unsigned char *buf = malloc(cap), *grown;
    int rc = ACDC_UTIL_OK;
    if (!buf)
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for %zu bytes of '%s'", cap, path);
    while (got < len) {
        if (got == cap) {
            cap = len - cap > cap ? 2 * cap : len;
            if (!(grown = realloc(buf, cap))) {
                rc = acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for %zu bytes of '%s'", cap,
                                     path);
                break;
            }
            buf = grown;
        }
        int truncated;
        if ((rc = read_exact(g, path, buf + got, cap - got, "the data", &truncated))) {
            if (!truncated)
                break;
            /* restate the truncation against the whole data, not the chunk */
            rc = acdc_util_error(ACDC_UTIL_EDATA, "'%s' is truncated: the data needs %zu bytes, "
                                 "found fewer than %zu", path, len, cap);
            break;
        }
        got = cap;
    }
    if (rc) {
        free(buf);
        return rc;
    }
    *out = buf;
    return ACDC_UTIL_OK;
}

static uint32_t be32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* Reads a whole IDX file of unsigned bytes; rank must lie in [rank_lo, rank_hi]. */
static int idx_load(const char *path, size_t rank_lo, size_t rank_hi, idx_file *f)
{
    memset(f, 0, sizeof *f);
    int fd;
    int rc = acdc_util_input_open(path, &fd);
    if (rc)
        return rc;
    gzFile g = gzdopen(fd, "rb");
    if (!g) {
        close(fd);
        return acdc_util_error(ACDC_UTIL_EIO, "cannot open '%s': %s", path,
                               errno ? strerror(errno) : "out of memory");
    }
    unsigned char h[4];
    rc = read_exact(g, path, h, 4, "the header", NULL);
    if (rc)
        goto out;
    if (h[0] != 0 || h[1] != 0) {
        rc = acdc_util_error(ACDC_UTIL_EDATA, "'%s' is not an IDX file: magic number "
                             "0x%02x%02x%02x%02x does not start with two zero bytes", path,
                             h[0], h[1], h[2], h[3]);
        goto out;
    }
    if (h[2] != 0x08) {
        rc = acdc_util_error(ACDC_UTIL_EDATA,
                             "'%s': IDX type code 0x%02x is not supported, expected "
                             "0x08 (unsigned byte)", path, h[2]);
        goto out;
    }
    if (h[3] < rank_lo || h[3] > rank_hi) {
        if (rank_lo == rank_hi)
            rc = acdc_util_error(ACDC_UTIL_EDATA, "'%s': IDX rank %u, expected %zu", path, h[3],
                                 rank_lo);
        else
            rc = acdc_util_error(ACDC_UTIL_EDATA, "'%s': IDX rank %u, expected %zu to %zu", path,
                                 h[3], rank_lo, rank_hi);
        goto out;
    }
    f->rank = h[3];
    unsigned char db[4 * IDX_MAX_RANK];
    if ((rc = read_exact(g, path, db, 4 * f->rank, "the dimensions", NULL)))
        goto out;
    uint64_t total = 1;
    for (size_t i = 0; i < f->rank; i++) {
        f->dims[i] = be32(db + 4 * i);
        if (f->dims[i] == 0) {
            rc = acdc_util_error(ACDC_UTIL_EDATA, "'%s': IDX dimension %zu is zero", path, i);
            goto out;
        }
        /* compared before multiplying: six 32-bit dimensions can wrap 64 bits to 0 */
        if (f->dims[i] > IDX_MAX_BYTES / total) {
            rc = acdc_util_error(ACDC_UTIL_EDATA,
                                 "'%s': IDX dimensions promise more than %llu bytes",
                                 path, (unsigned long long)IDX_MAX_BYTES);
            goto out;
        }
        total *= f->dims[i];
    }
    f->count = f->dims[0];
    f->width = total / f->count;
    if ((rc = read_data(g, path, (size_t)total, &f->bytes)))
        goto out;
    unsigned char extra;
    int r = gzread(g, &extra, 1);
    if (r != 0)
        rc = r < 0 ? acdc_util_error(ACDC_UTIL_EDATA, "cannot read '%s': %s", path, gzerror(g, &r))
                   : acdc_util_error(ACDC_UTIL_EDATA,
                                     "'%s' has data after the %llu values its header "
                                     "declares", path, (unsigned long long)total);
out:
    gzclose(g);
    if (rc) {
        free(f->bytes);
        f->bytes = NULL;
    }
    return rc;
}

int acdc_idx_read(const char *images_path, const char *labels_path, acdc_data **out)
{
    *out = NULL;
    idx_file im, lb = {0};
    int rc = idx_load(images_path, 2, IDX_MAX_RANK, &im);
    if (rc)
        return rc;
    if (labels_path && (rc = idx_load(labels_path, 1, 1, &lb))) {
        free(im.bytes);
        return rc;
    }
    if (labels_path && lb.count != im.count) {
        rc = acdc_util_error(ACDC_UTIL_EDATA, "'%s' holds %llu labels but '%s' holds %llu images",
                             labels_path, (unsigned long long)lb.count, images_path,
                             (unsigned long long)im.count);
        goto fail;
    }
    acdc_data *d = calloc(1, sizeof *d);
    if (!d) {
        rc = acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
        goto fail;
    }
    d->batch = (size_t)im.count;
    d->dim = (size_t)im.width;
    size_t total = d->batch * d->dim;
    d->x = malloc(total * sizeof *d->x);
    d->path = strdup(images_path);
    if (labels_path)
        d->labels = malloc(d->batch * sizeof *d->labels);
    if (!d->x || !d->path || (labels_path && !d->labels)) {
        rc = acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for %zu images of '%s'", d->batch,
                             images_path);
        acdc_data_free(d);
        goto fail;
    }
    for (size_t i = 0; i < total; i++)
        d->x[i] = im.bytes[i] / 255.0;
    for (size_t i = 0; labels_path && i < d->batch; i++)
        d->labels[i] = lb.bytes[i];
    free(im.bytes);
    free(lb.bytes);
    *out = d;
    return ACDC_UTIL_OK;
fail:
    free(im.bytes);
    free(lb.bytes);
    return rc;
}

static int is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* Finds dir/base or dir/base.gz. */
static int find_idx(const char *dir, const char *base, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s", dir, base);
    if (is_file(buf))
        return ACDC_UTIL_OK;
    snprintf(buf, size, "%s/%s.gz", dir, base);
    if (is_file(buf))
        return ACDC_UTIL_OK;
    return acdc_util_error(ACDC_UTIL_EIO, "cannot find '%s' or '%s.gz' in '%s'", base, base, dir);
}

/* HDF5 files begin with an 8-byte signature (at offset 0 for the files we write). */
static int is_hdf5(const char *path)
{
    static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    unsigned char b[8];
    FILE *f;
    if (acdc_util_input_fopen(path, &f))
        return 0;
    size_t got = fread(b, 1, 8, f);
    fclose(f);
    return got == 8 && !memcmp(b, sig, 8);
}

/* Replaces the first occurrence of from by to in the last path component of s. */
static int subst(char *s, size_t size, const char *from, const char *to)
{
    char *base = strrchr(s, '/');
    base = base ? base + 1 : s;
    char *at = strstr(base, from);
    if (!at)
        return 0;
    size_t lf = strlen(from), lt = strlen(to), ls = strlen(s);
    if (ls - lf + lt + 1 > size)
        return 0;
    memmove(at + lt, at + lf, strlen(at + lf) + 1);
    memcpy(at, to, lt);
    return 1;
}

int acdc_data_load(const char *path, const char *split, const char *labels_path,
                   acdc_data **out)
{
    *out = NULL;
    struct stat st;
    if (!split)
        split = "train";
    if (stat(path, &st) != 0)
        return acdc_util_error(ACDC_UTIL_EIO, "cannot open '%s': %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) {
        if (strcmp(split, "train") && strcmp(split, "test"))
            return acdc_util_error(ACDC_UTIL_EUSAGE, "split '%s' is neither 'train' nor 'test'",
                                   split);
        const char *stem = strcmp(split, "train") ? "t10k" : "train";
        char ib[4096], lbuf[4096], name[64];
        snprintf(name, sizeof name, "%s-images-idx3-ubyte", stem);
        int rc = find_idx(path, name, ib, sizeof ib);
        if (rc)
            return rc;
        if (labels_path)
            return acdc_idx_read(ib, labels_path, out);
        snprintf(name, sizeof name, "%s-labels-idx1-ubyte", stem);
        if ((rc = find_idx(path, name, lbuf, sizeof lbuf)))
            return rc;
        return acdc_idx_read(ib, lbuf, out);
    }
    /* HDF5 files announce themselves with an 8-byte signature. */
    if (is_hdf5(path)) {
        if (labels_path)
            return acdc_util_error(ACDC_UTIL_EUSAGE, "'%s' is an HDF5 data file: its labels are "
                                   "'/labels' inside it, not a separate file", path);
        return acdc_data_read(path, 0, out);
    }
    if (labels_path)
        return acdc_idx_read(path, labels_path, out);
    char lbuf[4096];
    snprintf(lbuf, sizeof lbuf, "%s", path);
    if (subst(lbuf, sizeof lbuf, "images", "labels")) {
        subst(lbuf, sizeof lbuf, "idx3", "idx1");
        if (is_file(lbuf))
            return acdc_idx_read(path, lbuf, out);
    }
    return acdc_idx_read(path, NULL, out);
}

void acdc_data_files(const char *path, const char *split, const char *labels_path,
                     char files[][4096], size_t *n)
{
    struct stat st;
    *n = 0;
    snprintf(files[(*n)++], 4096, "%s", path);
    if (labels_path)
        snprintf(files[(*n)++], 4096, "%s", labels_path);
    if (stat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        const char *stem = split && !strcmp(split, "test") ? "t10k" : "train";
        char name[64], found[4096];
        snprintf(name, sizeof name, "%s-images-idx3-ubyte", stem);
        if (find_idx(path, name, found, sizeof found) == ACDC_UTIL_OK)
            snprintf(files[(*n)++], 4096, "%s", found);
        snprintf(name, sizeof name, "%s-labels-idx1-ubyte", stem);
        if (!labels_path && find_idx(path, name, found, sizeof found) == ACDC_UTIL_OK)
            snprintf(files[(*n)++], 4096, "%s", found);
        acdc_util_error_clear();
        return;
    }
    char lbuf[4096];
    snprintf(lbuf, sizeof lbuf, "%s", path);
    if (!labels_path && !is_hdf5(path) && subst(lbuf, sizeof lbuf, "images", "labels")) {
        subst(lbuf, sizeof lbuf, "idx3", "idx1");
        if (is_file(lbuf))
            snprintf(files[(*n)++], 4096, "%s", lbuf);
    }
}
