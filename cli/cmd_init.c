/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cli/cmd_init.c -- `acdc init`: write a new cascade. */
#include "cli/cli.h"
#include "cli/options.h"
#include "models/io.h"
#include "util/error.h"
#include "util/output.h"
#include "util/parse.h"

#include <getopt.h>
#include <stdint.h>
#include <string.h>

enum {
    OPT_OUTPUT = 'o', OPT_N = 0x100, OPT_LAYERS, OPT_N_IN, OPT_N_OUT, OPT_RELU, OPT_PERM,
    OPT_BIAS, OPT_SIGMA, OPT_SEED, OPT_TRANSFORM, OPT_SHAPE, OPT_INPUT_SHAPE
};

static const cli_option options[] = {
    CLI_OPT('o', "output", "FILE", OPT_OUTPUT, "model file to write (HDF5, see models/FORMAT.md)"),
    CLI_OPT(0, "n", "N", OPT_N, "layer size (1 .. 268435456)"),
    CLI_OPT(0, "layers", "K", OPT_LAYERS, "number of layers (1 .. 100000)"),
    CLI_OPT(0, "transform", "T", OPT_TRANSFORM, "dct (1D, default) or dct2 (2D; needs --shape)"),
    CLI_OPT(0, "shape", "HxW", OPT_SHAPE, "the 2D grid, e.g. 28x28; --n is then optional (H*W)"),
    CLI_OPT(0, "n-in", "N", OPT_N_IN, "input length, zero-padded to N (default N)"),
    CLI_OPT(0, "input-shape", "HxW", OPT_INPUT_SHAPE,
            "dct2: the input grid, placed row by row in the top-left corner of the --shape "
            "grid (default the whole grid)"),
    CLI_OPT(0, "n-out", "N", OPT_N_OUT, "output length, the first N outputs (default N)"),
    CLI_OPT(0, "relu", NULL, OPT_RELU, "ReLU after every layer but the last"),
    CLI_OPT(0, "perm", NULL, OPT_PERM, "a fixed random permutation after every layer"),
    CLI_OPT(0, "bias", "WHICH", OPT_BIAS, "additive biases: none (default), a, d or both (zeros)"),
    CLI_OPT(0, "sigma", "S", OPT_SIGMA,
            "standard deviation of the diagonals around 1 (default 0.061)"),
    CLI_OPT(0, "seed", "S", OPT_SEED, "random seed (default 1)"),
    CLI_OPT_END};

static const cli_spec spec = {
    "init", "-o MODEL.h5 (--n N | --transform dct2 --shape HxW) --layers K\n                 [options]",
    "Write a new ACDC cascade of K layers of size N.  Every diagonal a, d is drawn from\n"
    "N(1, sigma) -- the near-identity initialisation of Moczulski et al. 2016 -- or is\n"
    "exactly the identity with --sigma 0.  With --transform dct2 every layer uses the 2D\n"
    "DCT of an H x W grid (row-major, N = H*W), what a spherical-lens 4f system computes.",
    options, NULL};

struct args {
    const char *out, *bias, *transform;
    int64_t n, k, n_in, n_out, seed;
    double sigma;
    unsigned flags;
    size_t h, w, in_h, in_w;
};

static int on_option(void *ctx, int key, const char *arg)
{
    struct args *a = ctx;
    switch (key) {
    case OPT_OUTPUT: a->out = arg; return ACDC_UTIL_OK;
    case OPT_N: return acdc_util_parse_int(arg, "--n", 1, (int64_t)1 << 28, &a->n);
    case OPT_LAYERS: return acdc_util_parse_int(arg, "--layers", 1, 100000, &a->k);
    case OPT_N_IN: return acdc_util_parse_int(arg, "--n-in", 1, (int64_t)1 << 28, &a->n_in);
    case OPT_N_OUT: return acdc_util_parse_int(arg, "--n-out", 1, (int64_t)1 << 28, &a->n_out);
    case OPT_RELU: a->flags |= ACDC_RELU; return ACDC_UTIL_OK;
    case OPT_PERM: a->flags |= ACDC_PERM; return ACDC_UTIL_OK;
    case OPT_BIAS: a->bias = arg; return ACDC_UTIL_OK;
    case OPT_SIGMA: return acdc_util_parse_double(arg, "--sigma", 0, 1e6, &a->sigma);
    case OPT_SEED: return acdc_util_parse_int(arg, "--seed", 0, INT64_MAX, &a->seed);
    case OPT_TRANSFORM: a->transform = arg; return ACDC_UTIL_OK;
    case OPT_SHAPE: return acdc_shape_parse(arg, "--shape", &a->h, &a->w);
    case OPT_INPUT_SHAPE: return acdc_shape_parse(arg, "--input-shape", &a->in_h, &a->in_w);
    }
    return ACDC_UTIL_OK;
}

int cmd_init(int argc, char **argv)
{
    struct args a = {.sigma = 0.061, .seed = 1};
    int rc = cli_parse(&spec, argc, argv, on_option, &a);
    if (rc >= 0)
        return rc;
    /* values checked after parsing keep the usage error's --help hint */
    if (a.bias) {
        if (!strcmp(a.bias, "a"))
            a.flags |= ACDC_A_BIAS;
        else if (!strcmp(a.bias, "d"))
            a.flags |= ACDC_D_BIAS;
        else if (!strcmp(a.bias, "both"))
            a.flags |= ACDC_A_BIAS | ACDC_D_BIAS;
        else if (strcmp(a.bias, "none"))
            return cli_usage_error("init", "--bias: '%s' is not none, a, d or both", a.bias);
    }
    int transform = -1;
    if (a.transform && (transform = acdc_transform_parse(a.transform)) < 0)
        return cli_usage_error("init", "--transform: '%s' is neither dct nor dct2",
                               a.transform);
    const char *out = a.out;
    int64_t n = a.n, k = a.k, n_in = a.n_in, n_out = a.n_out;
    const size_t h = a.h, w = a.w, in_h = a.in_h, in_w = a.in_w;
    const unsigned flags = a.flags;
    if (optind < argc)
        return cli_usage_error("init", "unexpected argument '%s'", argv[optind]);
    if (!out)
        return cli_usage_error("init", "no output file: give -o MODEL.h5");
    if ((rc = acdc_util_output_claim(NULL, 0, &out, 1)))
        return cli_fail("init", rc);
    if (transform < 0)
        transform = h ? ACDC_TRANSFORM_DCT2 : ACDC_TRANSFORM_DCT;
    if (transform == ACDC_TRANSFORM_DCT2 && !h)
        return cli_usage_error("init", "--transform dct2 needs --shape HxW");
    if (transform == ACDC_TRANSFORM_DCT && (in_h || (h && h != 1)))
        return cli_usage_error("init", "--shape and --input-shape describe 2D grids: give "
                               "--transform dct2 (or --shape 1xN)");
    if (h && n && (int64_t)(h * w) != n)
        return cli_usage_error("init", "--shape %zux%zu holds %zu values, not --n %lld", h,
                               w, h * w, (long long)n);
    if (h)
        n = (int64_t)(h * w);
    if (in_h && n_in && (int64_t)(in_h * in_w) != n_in)
        return cli_usage_error("init", "--input-shape %zux%zu holds %zu values, not --n-in "
                               "%lld", in_h, in_w, in_h * in_w, (long long)n_in);
    if (in_h)
        n_in = (int64_t)(in_h * in_w);
    if (!n || !k)
        return cli_usage_error("init", "--n and --layers are required (--shape HxW gives "
                               "--n)");
    if (n_in > n || n_out > n)
        return cli_usage_error("init", "--n-in and --n-out must not exceed --n %lld",
                               (long long)n);
    acdc_model *m;
    if ((rc = acdc_model_alloc(&m, (size_t)n, (size_t)(n_in ? n_in : n),
                               (size_t)(n_out ? n_out : n), (size_t)k, flags)))
        return cli_fail("init", rc);
    rc = transform == ACDC_TRANSFORM_DCT2
             ? acdc_model_set_grid(m, ACDC_TRANSFORM_DCT2, h, w, in_h, in_w)
             : ACDC_UTIL_OK;
    if (rc) {
        acdc_model_free(m);
        return cli_fail("init", rc);   /* a grid that does not fit: usage, exit 2 */
    }
    rc = acdc_model_init_normal(m, 1, a.sigma, (uint64_t)a.seed);
    if (!rc)
        rc = acdc_model_init_perms(m, (uint64_t)a.seed);
    if (!rc)
        rc = acdc_model_write(m, out);
    if (rc) {
        acdc_model_free(m);
        return cli_fail("init", rc);
    }
    if (transform == ACDC_TRANSFORM_DCT2)
        printf("wrote '%s': %lld layers of %zux%zu (dct2), %zu parameters\n", out,
               (long long)k, h, w, acdc_model_param_count(m));
    else
        printf("wrote '%s': %lld layers of %lld, %zu parameters\n", out, (long long)k,
               (long long)n, acdc_model_param_count(m));
    acdc_model_free(m);
    return cli_finish("init");
}
