/* SPDX-License-Identifier: GPL-3.0-or-later */
/* models/io.c -- see io.h and FORMAT.md. */
#include "models/io.h"
#include "util/error.h"
#include "util/h5.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LAYERS 100000

/* Joins group and name into buf ("/" + "x" = "/x", "/sys/model" + "n" = "/sys/model/n"). */
static const char *join(char *buf, size_t size, const char *group, const char *name)
{
    size_t g = strlen(group);
    if (g && group[g - 1] == '/')
        snprintf(buf, size, "%s%s", group, name);
    else
        snprintf(buf, size, "%s/%s", group, name);
    return buf;
}

/* Reads an optional integer root attribute, with default. */
static int attr_size(hid_t loc, const char *file, const char *grp, const char *name,
                     int64_t dflt, int64_t lo, int64_t hi, int64_t *v)
{
    if (!acdc_util_h5_attr_exists(loc, grp, name)) {
        if (dflt < 0)
            return acdc_util_error(ACDC_UTIL_EDATA, "missing attribute '%s' on '%s' in '%s'", name,
                                   grp, file);
        *v = dflt;
        return ACDC_UTIL_OK;
    }
    int rc = acdc_util_h5_attr_i64(loc, file, grp, name, v);
    if (rc)
        return rc;
    if (*v < lo || *v > hi)
        return acdc_util_error(ACDC_UTIL_EDATA, "attribute '%s' on '%s' in '%s' is %lld, expected "
                               "%lld..%lld", name, grp, file, (long long)*v, (long long)lo,
                               (long long)hi);
    return ACDC_UTIL_OK;
}

/* Reads the attribute `name` on grp: an h × w shape, two positive integers (int64 (2,)
 * as FORMAT.md says; any integer type of that shape is taken). */
static int attr_shape(hid_t loc, const char *file, const char *grp, const char *name,
                      int64_t v[2])
{
    int rc = acdc_util_h5_attr_i64_vec(loc, file, grp, name, 2, v);
    if (rc)
        return rc;
    if (v[0] < 1 || v[1] < 1 || v[0] > (int64_t)1 << 28 || v[1] > (int64_t)1 << 28)
        return acdc_util_error(ACDC_UTIL_EDATA, "attribute '%s' on '%s' in '%s' is (%lld, %lld), "
                               "expected positive sides", name, grp, file, (long long)v[0],
                               (long long)v[1]);
    return ACDC_UTIL_OK;
}

static int set_attr_shape(hid_t loc, const char *grp, const char *name, size_t h, size_t w)
{
    const int64_t v[2] = {(int64_t)h, (int64_t)w};
    return acdc_util_h5_set_attr_i64_vec(loc, grp, name, 2, v);
}

/* The transform and the grids of the model under grp (FORMAT.md, "transform", "shape",
 * "input_shape"), checked against n and n_in; the file's word, in one line naming the
 * attribute, when they do not agree. */
static int read_grid(hid_t loc, const char *file, const char *grp, int64_t n, int64_t n_in,
                     int *transform, int64_t shape[2], int64_t in_shape[2])
{
    char name[64] = "dct";
    int rc;
    if (acdc_util_h5_attr_exists(loc, grp, "transform") &&
        (rc = acdc_util_h5_attr_str(loc, file, grp, "transform", name, sizeof name)))
        return rc;
    if ((*transform = acdc_transform_parse(name)) < 0)
        return acdc_util_error(ACDC_UTIL_EDATA, "attribute 'transform' on '%s' in '%s' is '%s', "
                               "expected 'dct' or 'dct2'", grp, file, name);
    const int two = *transform == ACDC_TRANSFORM_DCT2;
    int has = acdc_util_h5_attr_exists(loc, grp, "shape");
    int has_in = acdc_util_h5_attr_exists(loc, grp, "input_shape");
    shape[0] = 1, shape[1] = n, in_shape[0] = 1, in_shape[1] = n_in;
    if (two && !has)
        return acdc_util_error(ACDC_UTIL_EDATA,
                               "missing attribute 'shape' on '%s' in '%s' (a 'dct2' "
                               "model needs its h x w)", grp, file);
    if (has && (rc = attr_shape(loc, file, grp, "shape", shape)))
        return rc;
    if (two && shape[0] * shape[1] != n)
        return acdc_util_error(ACDC_UTIL_EDATA,
                               "attribute 'shape' on '%s' in '%s' is (%lld, %lld), "
                               "expected a grid holding n = %lld", grp, file, (long long)shape[0],
                               (long long)shape[1], (long long)n);
    if (!two && (shape[0] != 1 || shape[1] != n))
        return acdc_util_error(ACDC_UTIL_EDATA,
                               "attribute 'shape' on '%s' in '%s' is (%lld, %lld), "
                               "expected (1, %lld) for transform 'dct'", grp, file,
                               (long long)shape[0], (long long)shape[1], (long long)n);
    if (two) {
        in_shape[0] = shape[0];
        in_shape[1] = shape[1];
    }
    if (!has_in && two && n_in != n)
        return acdc_util_error(ACDC_UTIL_EDATA, "missing attribute 'input_shape' on '%s' in '%s' "
                               "(n_in = %lld is less than n = %lld)", grp, file,
                               (long long)n_in, (long long)n);
    if (has_in && (rc = attr_shape(loc, file, grp, "input_shape", in_shape)))
        return rc;
    if (in_shape[0] * in_shape[1] != n_in || in_shape[0] > shape[0] ||
        in_shape[1] > shape[1])
        return acdc_util_error(ACDC_UTIL_EDATA, "attribute 'input_shape' on '%s' in '%s' is (%lld, "
                               "%lld), expected a grid of n_in = %lld inside (%lld, %lld)", grp,
                               file, (long long)in_shape[0], (long long)in_shape[1],
                               (long long)n_in, (long long)shape[0], (long long)shape[1]);
    return ACDC_UTIL_OK;
}

struct names {
    size_t count, cap;
    char **v;
    int oom;
};

static herr_t collect(hid_t g, const char *name, const H5L_info_t *info, void *op)
{
    (void)g;
    (void)info;
    struct names *nm = op;
    if (nm->count == nm->cap) {
        size_t cap = nm->cap ? 2 * nm->cap : 16;
        char **v = realloc(nm->v, cap * sizeof *v);
        if (!v) {
            nm->oom = 1;
            return -1;
        }
        nm->v = v;
        nm->cap = cap;
    }
    if (!(nm->v[nm->count] = strdup(name))) {
        nm->oom = 1;
        return -1;
    }
    nm->count++;
    return nm->count > MAX_LAYERS + 1 ? 1 : 0;
}

static void names_free(struct names *nm)
{
    for (size_t i = 0; i < nm->count; i++)
        free(nm->v[i]);
    free(nm->v);
}

/* Lists the members of a group. */
static int list_group(hid_t loc, const char *file, const char *path, struct names *nm)
{
    memset(nm, 0, sizeof *nm);
    H5O_info_t info;
    if (!acdc_util_h5_exists(loc, path))
        return acdc_util_error(ACDC_UTIL_EDATA, "missing group '%s' in '%s'", path, file);
    if (H5Oget_info_by_name2(loc, path, &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0 ||
        info.type != H5O_TYPE_GROUP)
        return acdc_util_error(ACDC_UTIL_EDATA, "'%s' in '%s' is not a group", path, file);
    hid_t g = H5Gopen2(loc, path, H5P_DEFAULT);
    if (g < 0)
        return acdc_util_error(ACDC_UTIL_EDATA, "cannot open group '%s' in '%s'", path, file);
    hsize_t idx = 0;
    herr_t e = H5Literate(g, H5_INDEX_NAME, H5_ITER_NATIVE, &idx, collect, nm);
    H5Gclose(g);
    if (nm->oom) {
        names_free(nm);
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory listing '%s' in '%s'", path, file);
    }
    if (e < 0) {
        names_free(nm);
        return acdc_util_error(ACDC_UTIL_EDATA, "cannot list group '%s' in '%s'", path, file);
    }
    return ACDC_UTIL_OK;
}

/* Parses a layer group name: decimal, no sign, no leading zero (except "0"). */
static int layer_index(const char *s, size_t *out)
{
    if (!*s || (s[0] == '0' && s[1]) || strlen(s) > 9)
        return -1;
    size_t v = 0;
    for (const char *p = s; *p; p++) {
        if (!isdigit((unsigned char)*p))
            return -1;
        v = v * 10 + (size_t)(*p - '0');
    }
    *out = v;
    return 0;
}

static int read_vec(hid_t loc, const char *file, const char *path, size_t n, double *dst)
{
    hsize_t dims[1] = {n};
    double *v;
    int rc = acdc_util_h5_read_f64(loc, file, path, 1, dims, &v);
    if (rc)
        return rc;
    memcpy(dst, v, n * sizeof *v);
    free(v);
    return ACDC_UTIL_OK;
}

static int read_layer(hid_t loc, const char *file, const char *lg, acdc_layer *L,
                      size_t n)
{
    static const char *const known[] = {"a", "d", "a_bias", "d_bias", "perm"};
    char p[600];
    struct names nm;
    int rc = list_group(loc, file, lg, &nm);
    if (rc)
        return rc;
    for (size_t i = 0; i < nm.count; i++) {
        size_t k = 0;
        while (k < 5 && strcmp(nm.v[i], known[k]))
            k++;
        if (k == 5) {
            rc = acdc_util_error(ACDC_UTIL_EDATA, "unexpected object '%s' in '%s' in '%s' (a layer "
                                 "holds a, d, a_bias, d_bias, perm)", nm.v[i], lg, file);
            names_free(&nm);
            return rc;
        }
    }
    names_free(&nm);
    if ((rc = read_vec(loc, file, join(p, sizeof p, lg, "a"), n, L->a)) ||
        (rc = read_vec(loc, file, join(p, sizeof p, lg, "d"), n, L->d)))
        return rc;
    if (acdc_util_h5_exists(loc, join(p, sizeof p, lg, "a_bias"))) {
        if (!(L->a_bias = malloc(n * sizeof *L->a_bias)))
            return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
        if ((rc = read_vec(loc, file, p, n, L->a_bias)))
            return rc;
    }
    if (acdc_util_h5_exists(loc, join(p, sizeof p, lg, "d_bias"))) {
        if (!(L->d_bias = malloc(n * sizeof *L->d_bias)))
            return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
        if ((rc = read_vec(loc, file, p, n, L->d_bias)))
            return rc;
    }
    if (acdc_util_h5_exists(loc, join(p, sizeof p, lg, "perm"))) {
        hsize_t dims[1] = {n};
        if ((rc = acdc_util_h5_read_i64(loc, file, p, 1, dims, &L->perm)))
            return rc;
        unsigned char *seen = calloc(n, 1);
        if (!seen)
            return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
            int64_t v = L->perm[i];
            if (v < 0 || (uint64_t)v >= n) {
                free(seen);
                return acdc_util_error(ACDC_UTIL_EDATA, "'%s' in '%s' is not a permutation: value "
                                       "%lld at %zu is outside 0..%zu", p, file, (long long)v, i,
                                       n - 1);
            }
            if (seen[v]++) {
                free(seen);
                return acdc_util_error(ACDC_UTIL_EDATA, "'%s' in '%s' is not a permutation: %lld "
                                       "appears twice", p, file, (long long)v);
            }
        }
        free(seen);
    }
    L->relu = 0;
    if (acdc_util_h5_attr_exists(loc, lg, "activation")) {
        char act[64];
        if ((rc = acdc_util_h5_attr_str(loc, file, lg, "activation", act, sizeof act)))
            return rc;
        if (!strcmp(act, "relu"))
            L->relu = 1;
        else if (strcmp(act, "none"))
            return acdc_util_error(ACDC_UTIL_EDATA,
                                   "attribute 'activation' on '%s' in '%s' is '%s', "
                                   "expected 'none' or 'relu'", lg, file, act);
    }
    return ACDC_UTIL_OK;
}

int acdc_model_read_h5(hid_t loc, const char *file, const char *group, acdc_model **out)
{
    char fmt[64], p[600], lg[640];
    int64_t version, n, n_in, n_out;
    int rc;
    *out = NULL;
    if (!acdc_util_h5_exists(loc, group))
        return acdc_util_error(ACDC_UTIL_EDATA, "missing group '%s' in '%s'", group, file);
    if ((rc = acdc_util_h5_attr_str(loc, file, group, "format", fmt, sizeof fmt)))
        return rc;
    if (strcmp(fmt, "acdc-model"))
        return acdc_util_error(ACDC_UTIL_EDATA, "'%s' is not an ACDC model: attribute 'format' is "
                               "'%s', expected 'acdc-model'", file, fmt);
    if ((rc = acdc_util_h5_attr_i64(loc, file, group, "version", &version)))
        return rc;
    if (version != 1)
        return acdc_util_error(ACDC_UTIL_EDATA, "'%s' has model format version %lld; this program "
                               "reads version 1", file, (long long)version);
    if ((rc = attr_size(loc, file, group, "n", -1, 1, (int64_t)1 << 28, &n)) ||
        (rc = attr_size(loc, file, group, "n_in", n, 1, n, &n_in)) ||
        (rc = attr_size(loc, file, group, "n_out", n, 1, n, &n_out)))
        return rc;
    int transform;
    int64_t shape[2], in_shape[2];
    if ((rc = read_grid(loc, file, group, n, n_in, &transform, shape, in_shape)))
        return rc;

    struct names nm;
    join(p, sizeof p, group, "layers");
    if ((rc = list_group(loc, file, p, &nm)))
        return rc;
    size_t K = nm.count;
    if (K == 0) {
        names_free(&nm);
        return acdc_util_error(ACDC_UTIL_EDATA, "group '%s' in '%s' holds no layers", p, file);
    }
    if (K > MAX_LAYERS) {
        names_free(&nm);
        return acdc_util_error(ACDC_UTIL_EDATA, "group '%s' in '%s' holds more than %d layers", p,
                               file, MAX_LAYERS);
    }
    /* Names must be exactly "0" … "K-1"; order is numeric, whatever HDF5's order. */
    unsigned char *seen = calloc(K, 1);
    if (!seen) {
        names_free(&nm);
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < K && rc == ACDC_UTIL_OK; i++) {
        size_t idx;
        if (layer_index(nm.v[i], &idx) || idx >= K || seen[idx])
            rc = acdc_util_error(ACDC_UTIL_EDATA, "unexpected member '%s' of '%s' in '%s': layers "
                                 "are named 0 to %zu", nm.v[i], p, file, K - 1);
        else
            seen[idx] = 1;
    }
    free(seen);
    names_free(&nm);
    if (rc)
        return rc;

    /* Check layer 0's a before allocating n × K values on the word of an attribute. */
    snprintf(lg, sizeof lg, "%s/0/a", p);
    {
        hsize_t dims[1] = {(hsize_t)n};
        double *a0;
        if ((rc = acdc_util_h5_read_f64(loc, file, lg, 1, dims, &a0)))
            return rc;
        free(a0);
    }
    acdc_model *m;
    if ((rc = acdc_model_alloc(&m, (size_t)n, (size_t)n_in, (size_t)n_out, K, 0)))
        return rc;   /* the sizes were checked above: no memory, and the message says so */
    if ((rc = acdc_model_set_grid(m, (acdc_transform)transform, (size_t)shape[0],
                                  (size_t)shape[1], (size_t)in_shape[0],
                                  (size_t)in_shape[1]))) {
        acdc_model_free(m);   /* cannot happen: read_grid() checked the same rules */
        return rc;
    }
    for (size_t l = 0; l < K; l++) {
        snprintf(lg, sizeof lg, "%s/%zu", p, l);
        if ((rc = read_layer(loc, file, lg, &m->layers[l], (size_t)n))) {
            acdc_model_free(m);
            return rc;
        }
    }
    join(p, sizeof p, group, "input");
    if (acdc_util_h5_exists(loc, p)) {
        char q[600];
        m->in_mean = malloc((size_t)n_in * sizeof *m->in_mean);
        m->in_scale = malloc((size_t)n_in * sizeof *m->in_scale);
        if (!m->in_mean || !m->in_scale)
            rc = acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
        if (!rc)
            rc = read_vec(loc, file, join(q, sizeof q, p, "mean"), (size_t)n_in,
                          m->in_mean);
        if (!rc)
            rc = read_vec(loc, file, join(q, sizeof q, p, "scale"), (size_t)n_in,
                          m->in_scale);
        for (int64_t i = 0; !rc && i < n_in; i++)
            if (!(m->in_scale[i] > 0))
                rc = acdc_util_error(ACDC_UTIL_EDATA, "'%s' in '%s': value %lld is %g, expected a "
                                     "positive scale", q, file, (long long)i, m->in_scale[i]);
        if (rc) {
            acdc_model_free(m);
            return rc;
        }
    }
    *out = m;
    return ACDC_UTIL_OK;
}

int acdc_model_read(const char *path, acdc_model **out)
{
    hid_t f;
    *out = NULL;
    int rc = acdc_util_h5_open(path, &f);
    if (rc)
        return rc;
    rc = acdc_model_read_h5(f, path, "/", out);
    H5Fclose(f);
    return rc;
}

int acdc_model_write_h5(hid_t loc, const char *group, const acdc_model *m)
{
    char p[600], q[700];
    int rc = acdc_model_check(m);
    if (rc)
        return rc;
    if ((rc = acdc_util_h5_group(loc, group)) ||
        (rc = acdc_util_h5_set_attr_str(loc, group, "format", "acdc-model")) ||
        (rc = acdc_util_h5_set_attr_i64(loc, group, "version", 1)) ||
        (rc = acdc_util_h5_set_attr_i64(loc, group, "n", (int64_t)m->n)) ||
        (rc = acdc_util_h5_set_attr_i64(loc, group, "n_in", (int64_t)m->n_in)) ||
        (rc = acdc_util_h5_set_attr_i64(loc, group, "n_out", (int64_t)m->n_out)))
        return rc;
    /* A 1D model is written exactly as before 2D models existed ("dct" is the default). */
    if (m->transform == ACDC_TRANSFORM_DCT2 &&
        ((rc = acdc_util_h5_set_attr_str(loc, group, "transform", "dct2")) ||
         (rc = set_attr_shape(loc, group, "shape", m->h, m->w)) ||
         (rc = set_attr_shape(loc, group, "input_shape", m->in_h, m->in_w))))
        return rc;
    hsize_t dims[1] = {m->n};
    for (size_t l = 0; l < m->n_layers; l++) {
        const acdc_layer *L = &m->layers[l];
        snprintf(p, sizeof p, "%s%slayers/%zu", group,
                 group[strlen(group) - 1] == '/' ? "" : "/", l);
        if ((rc = acdc_util_h5_group(loc, p)) ||
            (rc = acdc_util_h5_write_f64(loc, join(q, sizeof q, p, "a"), 1, dims, L->a)) ||
            (rc = acdc_util_h5_write_f64(loc, join(q, sizeof q, p, "d"), 1, dims, L->d)))
            return rc;
        if (L->a_bias &&
            (rc = acdc_util_h5_write_f64(loc, join(q, sizeof q, p, "a_bias"), 1, dims,
                                         L->a_bias)))
            return rc;
        if (L->d_bias &&
            (rc = acdc_util_h5_write_f64(loc, join(q, sizeof q, p, "d_bias"), 1, dims,
                                         L->d_bias)))
            return rc;
        if (L->perm &&
            (rc = acdc_util_h5_write_i64(loc, join(q, sizeof q, p, "perm"), 1, dims, L->perm)))
            return rc;
        if ((rc = acdc_util_h5_set_attr_str(loc, p, "activation", L->relu ? "relu" : "none")))
            return rc;
    }
    if (m->in_mean) {
        hsize_t di[1] = {m->n_in};
        join(p, sizeof p, group, "input");
        if ((rc = acdc_util_h5_write_f64(loc, join(q, sizeof q, p, "mean"), 1, di, m->in_mean)) ||
            (rc = acdc_util_h5_write_f64(loc, join(q, sizeof q, p, "scale"), 1, di,
                                         m->in_scale)))
            return rc;
    }
    return ACDC_UTIL_OK;
}

int acdc_model_write(const acdc_model *m, const char *path)
{
    acdc_util_h5_out o;
    int rc = acdc_model_check(m);
    if (rc)
        return rc;
    if ((rc = acdc_util_h5_create(path, &o)))
        return rc;
    if ((rc = acdc_model_write_h5(o.fid, "/", m))) {
        acdc_util_h5_abort(&o);
        return rc;
    }
    return acdc_util_h5_commit(&o);
}

void acdc_data_free(acdc_data *d)
{
    if (!d)
        return;
    free(d->x);
    free(d->labels);
    free(d->path);
    free(d);
}

int acdc_check_values(const double *v, size_t rows, size_t cols, size_t first_row,
                      double bound, const char *file, const char *what)
{
    char where[1100] = "";
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++) {
            const double x = v[r * cols + c];
            if (isfinite(x) && !(bound > 0 && fabs(x) > bound))
                continue;
            if (file)
                snprintf(where, sizeof where, " %s '%s'", bound > 0 ? "in" : "for", file);
            if (bound > 0 && isfinite(x))
                return acdc_util_error(ACDC_UTIL_EDATA,
                                       "%s%s: row %zu, column %zu is %g, beyond the "
                                       "bound %g on data values (larger ones overflow)", what,
                                       where, first_row + r, c, x, bound);
            if (bound > 0)
                return acdc_util_error(ACDC_UTIL_EDATA,
                                       "%s%s: row %zu, column %zu is %g, not a finite "
                                       "number", what, where, first_row + r, c, x);
            return acdc_util_error(ACDC_UTIL_EDATA,
                                   "%s%s: row %zu is not finite (column %zu is %g): "
                                   "the data or the model overflow", what, where, first_row + r,
                                   c, x);
        }
    return ACDC_UTIL_OK;
}

int acdc_check_labels(const int64_t *labels, size_t rows, const char *file, size_t classes,
                      const char *whose)
{
    for (size_t r = 0; labels && r < rows; r++)
        if (labels[r] < 0 || (uint64_t)labels[r] >= classes) {
            if (!file)
                return acdc_util_error(ACDC_UTIL_EDATA,
                                       "row %zu has label %lld, outside the classes "
                                       "0..%zu of %s", r, (long long)labels[r], classes - 1,
                                       whose);
            return acdc_util_error(ACDC_UTIL_EDATA,
                                   "'%s': row %zu has label %lld, outside the classes "
                                   "0..%zu of %s", file, r, (long long)labels[r], classes - 1,
                                   whose);
        }
    return ACDC_UTIL_OK;
}

int acdc_data_read(const char *path, size_t dim, acdc_data **out)
{
    hid_t f;
    *out = NULL;
    int rc = acdc_util_h5_open(path, &f);
    if (rc)
        return rc;
    acdc_data *d = calloc(1, sizeof *d);
    if (!d || !(d->path = strdup(path))) {
        free(d);
        H5Fclose(f);
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
    }
    hsize_t dims[2] = {0, dim};
    rc = acdc_util_h5_read_f64(f, path, "/x", 2, dims, &d->x);
    if (!rc && dims[0] == 0)
        rc = acdc_util_error(ACDC_UTIL_EDATA, "'/x' in '%s' holds no rows", path);
    if (!rc) {
        d->batch = (size_t)dims[0];
        d->dim = (size_t)dims[1];
        if (acdc_util_h5_exists(f, "/labels")) {
            hsize_t ld[1] = {dims[0]};
            rc = acdc_util_h5_read_i64(f, path, "/labels", 1, ld, &d->labels);
            if (!rc)
                rc = acdc_check_labels(d->labels, d->batch, path, (size_t)ACDC_MAX_CLASSES,
                                       "any classifier");
        }
    }
    if (!rc)
        rc = acdc_check_values(d->x, d->batch, d->dim, 0, ACDC_DATA_BOUND, path, "'/x'");
    H5Fclose(f);
    if (rc) {
        acdc_data_free(d);
        return rc;
    }
    *out = d;
    return ACDC_UTIL_OK;
}

int acdc_output_write(const char *path, size_t batch, size_t dim, const double *y,
                      const int64_t *labels)
{
    acdc_util_h5_out o;
    int rc = acdc_util_h5_create(path, &o);
    if (rc)
        return rc;
    hsize_t dims[2] = {batch, dim};
    rc = acdc_util_h5_set_attr_str(o.fid, "/", "format", "acdc-output");
    if (!rc)
        rc = acdc_util_h5_write_f64(o.fid, "/y", 2, dims, y);
    if (!rc && labels)
        rc = acdc_util_h5_write_i64(o.fid, "/labels", 1, dims, labels);
    if (rc) {
        acdc_util_h5_abort(&o);
        return rc;
    }
    return acdc_util_h5_commit(&o);
}

int acdc_file_kind(const char *path, char *buf, size_t size)
{
    hid_t f;
    buf[0] = '\0';
    int rc = acdc_util_h5_open(path, &f);
    if (rc)
        return rc;
    if (acdc_util_h5_attr_exists(f, "/", "format"))
        rc = acdc_util_h5_attr_str(f, path, "/", "format", buf, size);
    H5Fclose(f);
    return rc;
}
