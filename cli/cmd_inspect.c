/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cli/cmd_inspect.c -- `acdc inspect`: a readable summary of any file the project writes. */
#include "cli/cli.h"
#include "compiler/system.h"
#include "models/io.h"
#include "sim/tolerance.h"
#include "sim/verify.h"
#include "util/error.h"
#include "util/h5.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const cli_option options[] = {CLI_OPT_END};

static const cli_spec spec = {
    "inspect", "FILE.h5",
    "Summarise an HDF5 file.  A compiled system ('acdc-system') is shown as its optical\n"
    "train with a bill of materials.  A model ('acdc-model') is shown layer by layer with\n"
    "its parameter count, the compression against a dense layer of the same size and the\n"
    "ranges of its values; any other file is listed dataset by dataset with shape, type\n"
    "and value range.",
    options, NULL};

static void range(const double *v, size_t n, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        *lo = fmin(*lo, v[i]);
        *hi = fmax(*hi, v[i]);
    }
}

static int inspect_model(const char *path)
{
    acdc_model *m;
    int rc = acdc_model_read(path, &m);
    if (rc)
        return rc;
    size_t params = acdc_model_param_count(m);
    double dense = (double)m->n_in * (double)m->n_out + (double)m->n_out;
    printf("%s: ACDC model, format version 1\n", path);
    printf("  size n = %zu, inputs n_in = %zu, outputs n_out = %zu, %zu layers\n", m->n,
           m->n_in, m->n_out, m->n_layers);
    printf("  parameters: %zu (a dense %zu x %zu layer with bias has %.0f: %.1fx "
           "compression)\n", params, m->n_out, m->n_in, dense, dense / (double)params);
    if (m->transform == ACDC_TRANSFORM_DCT)
        printf("  transform: dct (1D DCT over n: a cylindrical-lens 4f system)\n");
    else
        printf("  transform: %s (2D DCT of a %zu x %zu grid, the input a %zu x %zu grid in "
               "its top-left corner: a spherical-lens 4f system)\n",
               acdc_transform_name(m->transform), m->h, m->w, m->in_h, m->in_w);
    printf("  input standardisation: %s\n", m->in_mean ? "stored (/input)" : "none");
    printf("\n  %5s  %-10s %-5s %-21s %-21s %s\n", "layer", "activation", "perm",
           "a range", "d range", "biases");
    for (size_t l = 0; l < m->n_layers; l++) {
        const acdc_layer *L = &m->layers[l];
        double alo, ahi, dlo, dhi;
        char ar[32], dr[32], bias[64] = "";
        range(L->a, m->n, &alo, &ahi);
        range(L->d, m->n, &dlo, &dhi);
        snprintf(ar, sizeof ar, "[%.4g, %.4g]", alo, ahi);
        snprintf(dr, sizeof dr, "[%.4g, %.4g]", dlo, dhi);
        if (L->a_bias) {
            double lo, hi;
            range(L->a_bias, m->n, &lo, &hi);
            snprintf(bias, sizeof bias, "a_bias [%.3g, %.3g] ", lo, hi);
        }
        if (L->d_bias) {
            double lo, hi;
            range(L->d_bias, m->n, &lo, &hi);
            snprintf(bias + strlen(bias), sizeof bias - strlen(bias), "d_bias [%.3g, %.3g]",
                     lo, hi);
        }
        printf("  %5zu  %-10s %-5s %-21s %-21s %s\n", l, L->relu ? "relu" : "none",
               L->perm ? "yes" : "no", ar, dr, bias[0] ? bias : "none");
    }
    acdc_model_free(m);
    return ACDC_UTIL_OK;
}

/* One attribute of a group: "name = value" for a scalar number or string, its shape
 * otherwise. */
static herr_t show_attr(hid_t loc, const char *name, const H5A_info_t *info, void *op)
{
    (void)info;
    (void)op;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a < 0)
        return 0;
    hid_t t = H5Aget_type(a), sp = H5Aget_space(a);
    const hssize_t np = H5Sget_simple_extent_npoints(sp);
    const H5T_class_t cls = H5Tget_class(t);
    printf("      @%-28s ", name);
    if ((cls == H5T_FLOAT || cls == H5T_INTEGER) && np == 1) {
        double v;
        if (H5Aread(a, H5T_NATIVE_DOUBLE, &v) >= 0)
            printf("%.6g\n", v);
        else
            printf("?\n");
    } else if (cls == H5T_STRING && np == 1 && !H5Tis_variable_str(t)) {
        char buf[256] = "";
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, sizeof buf);
        if (H5Aread(a, mt, buf) < 0)
            buf[0] = '\0';
        H5Tclose(mt);
        printf("'%.200s'\n", buf);
    } else if (cls == H5T_STRING && np == 1) {
        char *str = NULL;
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, H5T_VARIABLE);
        if (H5Aread(a, mt, &str) >= 0 && str) {
            printf("'%.200s'\n", str);
            H5free_memory(str);
        } else {
            printf("?\n");
        }
        H5Tclose(mt);
    } else {
        printf("%lld values\n", (long long)np);
    }
    H5Sclose(sp);
    H5Tclose(t);
    H5Aclose(a);
    return 0;
}

/* Generic listing: every group with its attributes, every dataset with shape, type and
 * (numeric) range. */
static herr_t visit(hid_t obj, const char *name, const H5O_info_t *info, void *op)
{
    (void)op;
    if (info->type == H5O_TYPE_GROUP) {
        if (strcmp(name, "."))
            printf("  /%s/\n", name);
        hid_t g = H5Gopen2(obj, name, H5P_DEFAULT);
        if (g >= 0) {
            hsize_t idx = 0;
            H5Aiterate2(g, H5_INDEX_NAME, H5_ITER_INC, &idx, show_attr, NULL);
            H5Gclose(g);
        }
        return 0;
    }
    if (info->type != H5O_TYPE_DATASET)
        return 0;
    hid_t d = H5Dopen2(obj, name, H5P_DEFAULT);
    if (d < 0)
        return 0;
    hid_t s = H5Dget_space(d), t = H5Dget_type(d);
    int rank = H5Sget_simple_extent_ndims(s);
    hsize_t dims[16] = {0};
    if (rank > 0 && rank <= 16)
        H5Sget_simple_extent_dims(s, dims, NULL);
    char shape[128] = "";
    for (int i = 0; i < rank && i < 16; i++)
        snprintf(shape + strlen(shape), sizeof shape - strlen(shape), "%s%llu",
                 i ? " x " : "", (unsigned long long)dims[i]);
    if (rank == 0)
        snprintf(shape, sizeof shape, "scalar");
    H5T_class_t cls = H5Tget_class(t);
    size_t size = H5Tget_size(t);
    const char *kind = cls == H5T_FLOAT ? "float" : cls == H5T_INTEGER ? "int"
                       : cls == H5T_STRING ? "string" : cls == H5T_COMPOUND ? "compound"
                                                                            : "other";
    printf("  /%-30s %-18s %s%zu", name, shape, kind, size * 8);
    hssize_t np = H5Sget_simple_extent_npoints(s);
    if ((cls == H5T_FLOAT || cls == H5T_INTEGER) && np > 0 && np <= (1 << 26)) {
        double *v = malloc((size_t)np * sizeof *v);
        if (v && H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0) {
            double lo = INFINITY, hi = -INFINITY, sum = 0;
            size_t bad = 0;
            for (hssize_t i = 0; i < np; i++) {
                if (!isfinite(v[i])) {
                    bad++;
                    continue;
                }
                lo = fmin(lo, v[i]);
                hi = fmax(hi, v[i]);
                sum += v[i];
            }
            if ((size_t)np > bad)
                printf("  range [%.4g, %.4g], mean %.4g", lo, hi, sum / (double)(np - bad));
            if (bad)
                printf("  (%zu non-finite)", bad);
        }
        free(v);
    }
    printf("\n");
    H5Tclose(t);
    H5Sclose(s);
    H5Dclose(d);
    return 0;
}

static int inspect_generic(const char *path, const char *kind)
{
    hid_t f;
    int rc = acdc_util_h5_open(path, &f);
    if (rc)
        return rc;
    printf("%s: %s\n", path, kind[0] ? kind : "HDF5 file");
    H5Ovisit2(f, H5_INDEX_NAME, H5_ITER_INC, visit, NULL, H5O_INFO_BASIC);
    H5Fclose(f);
    return ACDC_UTIL_OK;
}

static int inspect_system(const char *path)
{
    acdc_compiler_system *s;
    int rc = acdc_compiler_system_read(path, &s);
    if (rc)
        return rc;
    acdc_compiler_system_print(s, path, stdout);
    acdc_sim_verdict_print(&s->verdict, stdout);
    acdc_compiler_system_free(s);
    return ACDC_UTIL_OK;
}

static int inspect_tolerance(const char *path)
{
    acdc_sim_tolerance *t;
    int rc = acdc_sim_tolerance_read(path, &t);
    if (rc)
        return rc;
    printf("%s: tolerance analysis (acdc tolerance), %zu of its perturbations finished\n",
           path, acdc_sim_tolerance_done(t));
    acdc_sim_tolerance_print(t, stdout);
    acdc_sim_tolerance_free(t);
    return ACDC_UTIL_OK;
}

/* File kinds with a dedicated summary, by the root attribute `format`. */
static const struct {
    const char *format;
    int (*show)(const char *path);
} kinds[] = {
    {"acdc-model", inspect_model},
    {"acdc-system", inspect_system},
    {"acdc-tolerance", inspect_tolerance},
};

int cmd_inspect(int argc, char **argv)
{
    int rc = cli_parse(&spec, argc, argv, NULL, NULL);
    if (rc >= 0)
        return rc;
    if (argc - optind != 1)
        return cli_usage_error("inspect", "expected one file, got %d", argc - optind);
    const char *path = argv[optind];
    char kind[64];
    rc = acdc_file_kind(path, kind, sizeof kind);
    if (rc)
        return cli_fail("inspect", rc);
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        if (!strcmp(kind, kinds[i].format)) {
            if ((rc = kinds[i].show(path)))
                return cli_fail("inspect", rc);
            return cli_finish("inspect");
        }
    if ((rc = inspect_generic(path, kind)))
        return cli_fail("inspect", rc);
    return cli_finish("inspect");
}
