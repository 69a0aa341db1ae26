/* SPDX-License-Identifier: GPL-3.0-or-later */
/* util/h5.c -- see h5.h. */
#define _GNU_SOURCE /* memfd_create */
#include "util/h5.h"
#include "util/error.h"
#include "util/fingerprint.h"
#include "util/input.h"
#include "util/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Why a write failed: the system's reason (HDF5's file driver leaves errno set, e.g.
 * "No space left on device"), else HDF5's. */
static const char *h5_reason(int e)
{
    return e ? strerror(e) : "HDF5 refused";
}

/* The file loc is in, for messages: the destination, not the temporary HDF5 writes
 * (acdc_util_output_name()). */
static const char *file_of(hid_t loc, char *buf, size_t size)
{
    ssize_t n = H5Fget_name(loc, buf, size);
    return n <= 0 ? "?" : acdc_util_output_name(buf);
}

/* HDF5 prints its own error stack by default; our messages replace it. */
static void quiet(void)
{
    static int done;
    if (!done) {
        H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
        done = 1;
    }
}

int acdc_util_h5_open(const char *path, hid_t *fid)
{
    off_t size;
    quiet();
    *fid = H5I_INVALID_HID;
    int rc = acdc_util_input_check(path, &size);
    if (rc)
        return rc;
    if (size == 0)
        return acdc_util_error(ACDC_UTIL_EDATA, "cannot open '%s': file is empty", path);
    htri_t is = H5Fis_hdf5(path);
    if (is <= 0)
        return acdc_util_error(ACDC_UTIL_EDATA, "cannot open '%s': not an HDF5 file (or truncated)",
                               path);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        return acdc_util_error(ACDC_UTIL_EDATA, "cannot open '%s': HDF5 refused it (truncated or "
                               "damaged file)", path);
    *fid = f;
    return ACDC_UTIL_OK;
}

/* A temporary being abandoned: what HDF5 still writes while closing it goes to memory.
 * On a full disk H5Fclose() fails while flushing its cache, and HDF5 then keeps an
 * identifier to a freed file that crashes its cleanup at exit (H5F__close_cb); with the
 * file descriptor moved to an anonymous memory file the close cannot fail.  The
 * temporary is removed anyway, so nothing is lost. */
static void discard_writes(hid_t fid)
{
    void *handle = NULL;
    if (H5Fget_vfd_handle(fid, H5P_DEFAULT, &handle) < 0 || !handle)
        return;
    int fd = *(int *)handle, mem = memfd_create("acdc-discarded", MFD_CLOEXEC);
    if (mem < 0)
        return;
    if (dup2(mem, fd) < 0)
        (void)ftruncate(fd, 0);  /* else at least give the close the room it had */
    close(mem);
}

int acdc_util_h5_create(const char *path, acdc_util_h5_out *out)
{
    quiet();
    memset(out, 0, sizeof *out);
    out->fid = H5I_INVALID_HID;
    int rc = acdc_util_output_begin(path, &out->t);
    if (rc)
        return rc;
    errno = 0;
    out->fid = H5Fcreate(out->t.tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (out->fid < 0) {
        int e = errno;
        rc = acdc_util_error(ACDC_UTIL_EIO, "cannot create '%s': %s", path,
                             e ? strerror(e) : "HDF5 refused");
        acdc_util_h5_abort(out);
        return rc;
    }
    return ACDC_UTIL_OK;
}

int acdc_util_h5_commit(acdc_util_h5_out *out)
{
    int rc = ACDC_UTIL_OK;
    errno = 0;
    if (H5Fflush(out->fid, H5F_SCOPE_GLOBAL) < 0) {
        rc = acdc_util_error(ACDC_UTIL_EIO, "cannot write '%s': %s", out->t.dest, h5_reason(errno));
        acdc_util_h5_abort(out);
        return rc;
    }
    errno = 0;
    if (H5Fclose(out->fid) < 0)
        rc = acdc_util_error(ACDC_UTIL_EIO, "cannot write '%s': %s", out->t.dest, h5_reason(errno));
    out->fid = H5I_INVALID_HID;
    if (rc)
        acdc_util_output_cancel(&out->t);
    else
        rc = acdc_util_output_finish(&out->t);
    return rc;
}

void acdc_util_h5_abort(acdc_util_h5_out *out)
{
    if (out->fid >= 0) {
        discard_writes(out->fid);
        H5Fclose(out->fid);
    }
    out->fid = H5I_INVALID_HID;
    acdc_util_output_cancel(&out->t);
}

int acdc_util_h5_exists(hid_t loc, const char *name)
{
    char buf[512];
    quiet();
    if (strcmp(name, ".") == 0 || strcmp(name, "/") == 0)
        return 1;
    if (strlen(name) >= sizeof buf)
        return 0;
    strcpy(buf, name);
    /* H5Lexists fails (rather than says no) when an intermediate link is missing. */
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (H5Lexists(loc, buf, H5P_DEFAULT) <= 0)
                return 0;
            *p = '/';
        }
    }
    return H5Lexists(loc, buf, H5P_DEFAULT) > 0;
}

int acdc_util_h5_rank(hid_t loc, const char *name)
{
    H5O_info_t info;
    if (!acdc_util_h5_exists(loc, name) ||
        H5Oget_info_by_name2(loc, name, &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0 ||
        info.type != H5O_TYPE_DATASET)
        return -1;
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT), s = d < 0 ? H5I_INVALID_HID : H5Dget_space(d);
    int r = s < 0 ? -1 : H5Sget_simple_extent_ndims(s);
    if (s >= 0)
        H5Sclose(s);
    if (d >= 0)
        H5Dclose(d);
    return r < 0 ? -1 : r;
}

/* Opens dataset name and checks its class and rank; fills dims, checking demanded ones. */
static int open_checked(hid_t loc, const char *file, const char *name, H5T_class_t cls,
                        int rank, hsize_t *dims, hid_t *dset, hid_t *space)
{
    static const char *const clsname[] = {[H5T_INTEGER] = "integer",
                                          [H5T_FLOAT] = "float64 or float32"};
    quiet();
    if (!acdc_util_h5_exists(loc, name))
        return acdc_util_error(ACDC_UTIL_EDATA, "missing dataset '%s' in '%s'", name, file);
    H5O_info_t info;
    if (H5Oget_info_by_name2(loc, name, &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0 ||
        info.type != H5O_TYPE_DATASET)
        return acdc_util_error(ACDC_UTIL_EDATA, "'%s' in '%s' is not a dataset", name, file);
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
    if (d < 0)
        return acdc_util_error(ACDC_UTIL_EDATA, "cannot open dataset '%s' in '%s'", name, file);
    hid_t t = H5Dget_type(d);
    H5T_class_t c = H5Tget_class(t);
    size_t size = H5Tget_size(t);
    H5Tclose(t);
    /* float32 (what tensor.numpy() gives) converts to double exactly */
    if (c != cls || (cls == H5T_FLOAT && size != 8 && size != 4)) {
        H5Dclose(d);
        if (c == H5T_FLOAT)
            return acdc_util_error(ACDC_UTIL_EDATA, "cannot read '%s' in '%s': expected %s, found "
                                   "float%zu", name, file, clsname[cls], size * 8);
        if (c == H5T_INTEGER)
            return acdc_util_error(ACDC_UTIL_EDATA, "cannot read '%s' in '%s': expected %s, found "
                                   "int%zu", name, file, clsname[cls], size * 8);
        return acdc_util_error(ACDC_UTIL_EDATA, "cannot read '%s' in '%s': expected %s, found a "
                               "non-numeric type", name, file, clsname[cls]);
    }
    hid_t s = H5Dget_space(d);
    int r = H5Sget_simple_extent_ndims(s);
    if (r != rank) {
        H5Sclose(s);
        H5Dclose(d);
        return acdc_util_error(ACDC_UTIL_EDATA, "cannot read '%s' in '%s': expected rank %d, found "
                               "rank %d", name, file, rank, r);
    }
    hsize_t got[8];
    H5Sget_simple_extent_dims(s, got, NULL);
    for (int i = 0; i < rank; i++) {
        if (dims[i] && got[i] != dims[i]) {
            H5Sclose(s);
            H5Dclose(d);
            if (rank == 1)
                return acdc_util_error(ACDC_UTIL_EDATA, "cannot read '%s' in '%s': expected %llu "
                                       "values, found %llu", name, file,
                                       (unsigned long long)dims[i], (unsigned long long)got[i]);
            return acdc_util_error(ACDC_UTIL_EDATA, "cannot read '%s' in '%s': dimension %d is "
                                   "%llu, expected %llu", name, file, i,
                                   (unsigned long long)got[i], (unsigned long long)dims[i]);
        }
        dims[i] = got[i];
    }
    *dset = d;
    *space = s;
    return ACDC_UTIL_OK;
}

static size_t count_of(int rank, const hsize_t *dims)
{
    size_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= (size_t)dims[i];
    return n;
}

/* Reads a dataset of class cls into a new array of 8-byte elements of memtype, after the
 * shape checks of open_checked() and a memory estimate. */
static int read_any(hid_t loc, const char *file, const char *name, int rank, hsize_t *dims,
                    H5T_class_t cls, hid_t memtype, void **data, size_t *count)
{
    hid_t d = H5I_INVALID_HID, s = H5I_INVALID_HID;
    *data = NULL;
    if (rank < 1 || rank > 8)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "rank %d not supported", rank);
    int rc = open_checked(loc, file, name, cls, rank, dims, &d, &s);
    if (rc)
        return rc;
    size_t n = count_of(rank, dims);
    char task[600];
    snprintf(task, sizeof task, "reading '%s' in '%s'", name, file);
    void *buf = NULL;
    if (!(rc = acdc_util_mem_check(8.0 * (double)n, task)) && !(buf = malloc((n ? n : 1) * 8)))
        rc = acdc_util_error(ACDC_UTIL_ENOMEM, "cannot read '%s' in '%s': out of memory for %zu "
                             "values", name, file, n);
    if (!rc && n && H5Dread(d, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
        rc = acdc_util_error(ACDC_UTIL_EDATA,
                             "cannot read '%s' in '%s': HDF5 read failed (%s)", name,
                             file, cls == H5T_INTEGER ? "out-of-range integers or truncated file"
                                                 : "truncated file?");
    H5Sclose(s);
    H5Dclose(d);
    if (rc) {
        free(buf);
        return rc;
    }
    *data = buf;
    *count = n;
    return ACDC_UTIL_OK;
}

/* acdc_util_h5_read_f64(), with NaN allowed if nan_ok. */
static int read_f64(hid_t loc, const char *file, const char *name, int rank, hsize_t *dims,
                    int nan_ok, double **data)
{
    void *v;
    size_t n;
    *data = NULL;
    int rc = read_any(loc, file, name, rank, dims, H5T_FLOAT, H5T_NATIVE_DOUBLE, &v, &n);
    if (rc)
        return rc;
    double *buf = v;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(buf[i]) && !(nan_ok && isnan(buf[i]))) {
            const char *what = isnan(buf[i]) ? "NaN" : "infinite";
            free(buf);
            return acdc_util_error(ACDC_UTIL_EDATA, "cannot read '%s' in '%s': value %zu is %s",
                                   name, file, i, what);
        }
    }
    *data = buf;
    return ACDC_UTIL_OK;
}

int acdc_util_h5_read_f64(hid_t loc, const char *file, const char *name, int rank,
                          hsize_t *dims, double **data)
{
    return read_f64(loc, file, name, rank, dims, 0, data);
}

int acdc_util_h5_read_f64_nan_ok(hid_t loc, const char *file, const char *name, int rank,
                                 hsize_t *dims, double **data)
{
    return read_f64(loc, file, name, rank, dims, 1, data);
}

int acdc_util_h5_read_i64(hid_t loc, const char *file, const char *name, int rank,
                          hsize_t *dims, int64_t **data)
{
    void *v;
    size_t n;
    *data = NULL;
    int rc = read_any(loc, file, name, rank, dims, H5T_INTEGER, H5T_NATIVE_INT64, &v, &n);
    if (!rc)
        *data = v;
    return rc;
}

int acdc_util_h5_group(hid_t loc, const char *name)
{
    char buf[512];
    quiet();
    if (strlen(name) >= sizeof buf)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "group name too long");
    strcpy(buf, name);
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (!acdc_util_h5_exists(loc, buf)) {
                char fb[1024];
                errno = 0;
                hid_t g = H5Gcreate2(loc, buf, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
                if (g < 0 || H5Gclose(g) < 0)
                    return acdc_util_error(ACDC_UTIL_EIO,
                                           "cannot create group '%s' in '%s': %s", buf,
                                           file_of(loc, fb, sizeof fb), h5_reason(errno));
            }
            *p = c;
            if (!c)
                break;
        }
    }
    return ACDC_UTIL_OK;
}

/* Creates the parent groups of a dataset path "a/b/name". */
static int parents(hid_t loc, const char *name)
{
    const char *slash = strrchr(name, '/');
    if (!slash || slash == name)
        return ACDC_UTIL_OK;
    char buf[512];
    size_t len = (size_t)(slash - name);
    if (len >= sizeof buf)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "dataset name too long");
    memcpy(buf, name, len);
    buf[len] = '\0';
    return acdc_util_h5_group(loc, buf);
}

static int write_any(hid_t loc, const char *name, int rank, const hsize_t *dims,
                     hid_t filetype, hid_t memtype, const void *data)
{
    int rc = parents(loc, name);
    if (rc)
        return rc;
    errno = 0;
    hid_t s = H5Screate_simple(rank, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    /* Large arrays are chunked and compressed; small ones stay contiguous. */
    size_t n = count_of(rank, dims);
    if (n >= 4096 && rank <= 8 && dcpl >= 0) {
        hsize_t chunk[8];
        size_t c = 1;
        for (int i = rank - 1; i >= 0; i--) {
            chunk[i] = dims[i] ? dims[i] : 1;
            if (c * chunk[i] > 65536)
                chunk[i] = 65536 / c ? 65536 / c : 1;
            c *= chunk[i];
        }
        H5Pset_chunk(dcpl, rank, chunk);
        H5Pset_deflate(dcpl, 4);
    }
    hid_t d = s < 0 || dcpl < 0 ? H5I_INVALID_HID
                                : H5Dcreate2(loc, name, filetype, s, H5P_DEFAULT, dcpl,
                                             H5P_DEFAULT);
    herr_t e = -1;
    int err = 0;
    if (d >= 0) {
        e = n ? H5Dwrite(d, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) : 0;
        err = errno;
        /* the close writes what the cache held: a full disk may show only here */
        if (H5Dclose(d) < 0 && e >= 0)
            e = -1, err = errno;
    } else {
        err = errno;
    }
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (s >= 0)
        H5Sclose(s);
    if (e < 0) {
        char fb[1024];
        return acdc_util_error(ACDC_UTIL_EIO, "cannot write dataset '%s' in '%s': %s", name,
                               file_of(loc, fb, sizeof fb), h5_reason(err));
    }
    return ACDC_UTIL_OK;
}

int acdc_util_h5_write_f64(hid_t loc, const char *name, int rank, const hsize_t *dims,
                           const double *data)
{
    return write_any(loc, name, rank, dims, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, data);
}

int acdc_util_h5_write_i64(hid_t loc, const char *name, int rank, const hsize_t *dims,
                           const int64_t *data)
{
    return write_any(loc, name, rank, dims, H5T_STD_I64LE, H5T_NATIVE_INT64, data);
}

int acdc_util_h5_attr_exists(hid_t loc, const char *obj, const char *name)
{
    quiet();
    if (!acdc_util_h5_exists(loc, obj))
        return 0;
    return H5Aexists_by_name(loc, obj, name, H5P_DEFAULT) > 0;
}

/* Opens attribute name on obj, which must hold exactly count values. */
static int attr_open_n(hid_t loc, const char *file, const char *obj, const char *name,
                       hssize_t count, hid_t *a)
{
    if (!acdc_util_h5_attr_exists(loc, obj, name))
        return acdc_util_error(ACDC_UTIL_EDATA, "missing attribute '%s' on '%s' in '%s'", name,
                               obj, file);
    *a = H5Aopen_by_name(loc, obj, name, H5P_DEFAULT, H5P_DEFAULT);
    if (*a < 0)
        return acdc_util_error(ACDC_UTIL_EDATA, "cannot open attribute '%s' on '%s' in '%s'", name,
                               obj, file);
    hid_t s = H5Aget_space(*a);
    hssize_t npts = H5Sget_simple_extent_npoints(s);
    H5Sclose(s);
    if (npts != count) {
        H5Aclose(*a);
        if (count == 1)
            return acdc_util_error(ACDC_UTIL_EDATA, "attribute '%s' on '%s' in '%s': expected a "
                                   "single value, found %lld", name, obj, file, (long long)npts);
        return acdc_util_error(ACDC_UTIL_EDATA, "attribute '%s' on '%s' in '%s': expected %lld "
                               "values, found %lld", name, obj, file, (long long)count,
                               (long long)npts);
    }
    return ACDC_UTIL_OK;
}

static int attr_open(hid_t loc, const char *file, const char *obj, const char *name,
                     hid_t *a)
{
    return attr_open_n(loc, file, obj, name, 1, a);
}

int acdc_util_h5_attr_str(hid_t loc, const char *file, const char *obj, const char *name,
                          char *buf, size_t size)
{
    hid_t a;
    int rc = attr_open(loc, file, obj, name, &a);
    if (rc)
        return rc;
    hid_t t = H5Aget_type(a);
    if (H5Tget_class(t) != H5T_STRING) {
        H5Tclose(t);
        H5Aclose(a);
        return acdc_util_error(ACDC_UTIL_EDATA, "attribute '%s' on '%s' in '%s': expected a string",
                               name, obj, file);
    }
    herr_t e;
    if (H5Tis_variable_str(t) > 0) {
        char *s = NULL;
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, H5T_VARIABLE);
        H5Tset_cset(mt, H5Tget_cset(t));
        e = H5Aread(a, mt, &s);
        if (e >= 0 && s) {
            snprintf(buf, size, "%s", s);
            H5free_memory(s);
        } else if (e >= 0) {
            buf[0] = '\0';
        }
        H5Tclose(mt);
    } else {
        size_t len = H5Tget_size(t);
        char *tmp = calloc(len + 1, 1);
        hid_t mt = H5Tcopy(t);
        e = tmp ? H5Aread(a, mt, tmp) : -1;
        if (e >= 0)
            snprintf(buf, size, "%s", tmp);
        free(tmp);
        H5Tclose(mt);
    }
    H5Tclose(t);
    H5Aclose(a);
    if (e < 0)
        return acdc_util_error(ACDC_UTIL_EDATA, "cannot read attribute '%s' on '%s' in '%s'", name,
                               obj, file);
    return ACDC_UTIL_OK;
}

static int attr_num_n(hid_t loc, const char *file, const char *obj, const char *name,
                      H5T_class_t want, hid_t memtype, hssize_t count, void *v)
{
    hid_t a;
    int rc = attr_open_n(loc, file, obj, name, count, &a);
    if (rc)
        return rc;
    hid_t t = H5Aget_type(a);
    H5T_class_t c = H5Tget_class(t);
    H5Tclose(t);
    if (c != want && !(want == H5T_FLOAT && c == H5T_INTEGER)) {
        H5Aclose(a);
        return acdc_util_error(ACDC_UTIL_EDATA, "attribute '%s' on '%s' in '%s': expected %s", name,
                               obj, file, want == H5T_INTEGER ? "an integer" : "a number");
    }
    herr_t e = H5Aread(a, memtype, v);
    H5Aclose(a);
    if (e < 0)
        return acdc_util_error(ACDC_UTIL_EDATA, "cannot read attribute '%s' on '%s' in '%s'", name,
                               obj, file);
    return ACDC_UTIL_OK;
}

static int attr_num(hid_t loc, const char *file, const char *obj, const char *name,
                    H5T_class_t want, hid_t memtype, void *v)
{
    return attr_num_n(loc, file, obj, name, want, memtype, 1, v);
}

int acdc_util_h5_attr_i64_vec(hid_t loc, const char *file, const char *obj, const char *name,
                              size_t count, int64_t *v)
{
    return attr_num_n(loc, file, obj, name, H5T_INTEGER, H5T_NATIVE_INT64, (hssize_t)count,
                      v);
}

int acdc_util_h5_attr_i64(hid_t loc, const char *file, const char *obj, const char *name,
                          int64_t *v)
{
    return attr_num(loc, file, obj, name, H5T_INTEGER, H5T_NATIVE_INT64, v);
}

int acdc_util_h5_attr_f64_nan_ok(hid_t loc, const char *file, const char *obj,
                                 const char *name, double *v)
{
    int rc = attr_num(loc, file, obj, name, H5T_FLOAT, H5T_NATIVE_DOUBLE, v);
    if (rc == ACDC_UTIL_OK && isinf(*v))
        return acdc_util_error(ACDC_UTIL_EDATA, "attribute '%s' on '%s' in '%s' is infinite", name,
                               obj, file);
    return rc;
}

int acdc_util_h5_attr_f64_vec(hid_t loc, const char *file, const char *obj, const char *name,
                              size_t count, double *v)
{
    int rc = attr_num_n(loc, file, obj, name, H5T_FLOAT, H5T_NATIVE_DOUBLE, (hssize_t)count,
                        v);
    for (size_t i = 0; rc == ACDC_UTIL_OK && i < count; i++)
        if (!isfinite(v[i]))
            return acdc_util_error(ACDC_UTIL_EDATA,
                                   "attribute '%s' on '%s' in '%s': value %zu is not "
                                   "finite", name, obj, file, i);
    return rc;
}

int acdc_util_h5_attr_f64(hid_t loc, const char *file, const char *obj, const char *name,
                          double *v)
{
    int rc = attr_num(loc, file, obj, name, H5T_FLOAT, H5T_NATIVE_DOUBLE, v);
    if (rc == ACDC_UTIL_OK && !isfinite(*v))
        return acdc_util_error(ACDC_UTIL_EDATA, "attribute '%s' on '%s' in '%s' is not finite",
                               name, obj, file);
    return rc;
}

/* Writes count values (1: a scalar attribute, else one dimension of count). */
static int set_attr_n(hid_t loc, const char *obj, const char *name, hid_t ftype,
                      hid_t mtype, hsize_t count, const void *v)
{
    quiet();
    if (H5Aexists_by_name(loc, obj, name, H5P_DEFAULT) > 0 &&
        H5Adelete_by_name(loc, obj, name, H5P_DEFAULT) < 0)
        return acdc_util_error(ACDC_UTIL_EIO, "cannot replace attribute '%s' on '%s'", name, obj);
    errno = 0;
    hid_t s = count == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &count, NULL);
    hid_t a = s < 0 ? H5I_INVALID_HID
                    : H5Acreate_by_name(loc, obj, name, ftype, s, H5P_DEFAULT, H5P_DEFAULT,
                                        H5P_DEFAULT);
    herr_t e = -1;
    int err = errno;
    if (a >= 0) {
        e = H5Awrite(a, mtype, v);
        err = errno;
        if (H5Aclose(a) < 0 && e >= 0)
            e = -1, err = errno;
    }
    if (s >= 0)
        H5Sclose(s);
    if (e < 0) {
        char fb[1024];
        return acdc_util_error(ACDC_UTIL_EIO,
                               "cannot write attribute '%s' on '%s' in '%s': %s", name,
                               obj, file_of(loc, fb, sizeof fb), h5_reason(err));
    }
    return ACDC_UTIL_OK;
}

static int set_attr(hid_t loc, const char *obj, const char *name, hid_t ftype,
                    hid_t mtype, const void *v)
{
    return set_attr_n(loc, obj, name, ftype, mtype, 1, v);
}

int acdc_util_h5_set_attr_i64_vec(hid_t loc, const char *obj, const char *name, size_t count,
                                  const int64_t *v)
{
    return set_attr_n(loc, obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, count, v);
}

int acdc_util_h5_set_attr_f64_vec(hid_t loc, const char *obj, const char *name, size_t count,
                                  const double *v)
{
    return set_attr_n(loc, obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, count, v);
}

int acdc_util_h5_set_attr_str(hid_t loc, const char *obj, const char *name, const char *v)
{
    /* Variable-length UTF-8: what h5py writes for a Python str, so both read alike. */
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    int rc = set_attr(loc, obj, name, t, t, &v);
    H5Tclose(t);
    return rc;
}

int acdc_util_h5_set_attr_i64(hid_t loc, const char *obj, const char *name, int64_t v)
{
    return set_attr(loc, obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &v);
}

int acdc_util_h5_set_attr_f64(hid_t loc, const char *obj, const char *name, double v)
{
    return set_attr(loc, obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v);
}

int acdc_util_h5_settings_match(hid_t f, const char *path, const char *settings,
                                const char *holds)
{
    const size_t cap = strlen(settings) + 4096;
    char *old = malloc(cap), diff[300];
    if (!old)
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
    int rc = acdc_util_h5_attr_str(f, path, "/", "settings", old, cap);
    if (!rc && strcmp(old, settings)) {
        acdc_util_settings_difference(old, settings, diff, sizeof diff);
        rc = acdc_util_error(ACDC_UTIL_EDATA,
                             "'%s' holds %s with other settings (%s): use --restart to "
                             "start over, or another -o", path, holds, diff);
    }
    free(old);
    return rc;
}
