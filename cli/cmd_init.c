/* cli/cmd_init.c -- `acdc init`: write a new cascade. */
#include "cli/cli.h"
#include "models/io.h"
#include "util/error.h"
#include "util/parse.h"

#include <getopt.h>
#include <string.h>

static const char help[] =
    "usage: acdc init -o MODEL.h5 (--n N | --transform dct2 --shape HxW) --layers K\n"
    "                 [options]\n"
    "\n"
    "Write a new ACDC cascade of K layers of size N.  Every diagonal a, d is drawn from\n"
    "N(1, sigma) -- the near-identity initialisation of Moczulski et al. 2016 -- or is\n"
    "exactly the identity with --sigma 0.  With --transform dct2 every layer uses the 2D\n"
    "DCT of an H x W grid (row-major, N = H*W), what a spherical-lens 4f system computes.\n"
    "\n"
    "options:\n"
    "  -o, --output FILE   model file to write (HDF5, see models/FORMAT.md)\n"
    "      --n N           layer size (1 .. 268435456)\n"
    "      --layers K      number of layers (1 .. 100000)\n"
    "      --transform T   dct (1D, default) or dct2 (2D; needs --shape)\n"
    "      --shape HxW     the 2D grid, e.g. 28x28; --n is then optional (H*W)\n"
    "      --n-in N        input length, zero-padded to N (default N)\n"
    "      --input-shape HxW  dct2: the input grid, placed row by row in the top-left\n"
    "                      corner of the --shape grid (default the whole grid)\n"
    "      --n-out N       output length, the first N outputs (default N)\n"
    "      --relu          ReLU after every layer but the last\n"
    "      --perm          a fixed random permutation after every layer\n"
    "      --bias WHICH    additive biases: none (default), a, d or both (zeros)\n"
    "      --sigma S       standard deviation of the diagonals around 1 (default 0.061)\n"
    "      --seed S        random seed (default 1)\n"
    "  -h, --help          this text\n";

int cmd_init(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'}, {"n", required_argument, 0, 'n'},
        {"layers", required_argument, 0, 'k'}, {"n-in", required_argument, 0, 'i'},
        {"n-out", required_argument, 0, 'u'},  {"relu", no_argument, 0, 'r'},
        {"perm", no_argument, 0, 'p'},         {"bias", required_argument, 0, 'b'},
        {"sigma", required_argument, 0, 's'},  {"seed", required_argument, 0, 'S'},
        {"transform", required_argument, 0, 't'},
        {"shape", required_argument, 0, 'g'},  {"input-shape", required_argument, 0, 'G'},
        {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
    const char *out = NULL;
    int64_t n = 0, k = 0, n_in = 0, n_out = 0, seed = 1;
    double sigma = 0.061;
    unsigned flags = 0;
    int c, rc, transform = -1;
    size_t h = 0, w = 0, in_h = 0, in_w = 0;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        rc = UTIL_OK;
        switch (c) {
        case 'o': out = optarg; break;
        case 'n': rc = util_parse_int(optarg, "--n", 1, (int64_t)1 << 28, &n); break;
        case 'k': rc = util_parse_int(optarg, "--layers", 1, 100000, &k); break;
        case 'i': rc = util_parse_int(optarg, "--n-in", 1, (int64_t)1 << 28, &n_in); break;
        case 'u': rc = util_parse_int(optarg, "--n-out", 1, (int64_t)1 << 28, &n_out); break;
        case 'r': flags |= ACDC_RELU; break;
        case 'p': flags |= ACDC_PERM; break;
        case 'b':
            if (!strcmp(optarg, "a")) flags |= ACDC_A_BIAS;
            else if (!strcmp(optarg, "d")) flags |= ACDC_D_BIAS;
            else if (!strcmp(optarg, "both")) flags |= ACDC_A_BIAS | ACDC_D_BIAS;
            else if (strcmp(optarg, "none"))
                return cli_usage_error("init", "--bias: '%s' is not none, a, d or both",
                                       optarg);
            break;
        case 's': rc = util_parse_double(optarg, "--sigma", 0, 1e6, &sigma); break;
        case 'S': rc = util_parse_int(optarg, "--seed", 0, INT64_MAX, &seed); break;
        case 't':
            if ((transform = acdc_transform_parse(optarg)) < 0)
                return cli_usage_error("init", "--transform: '%s' is neither dct nor dct2",
                                       optarg);
            break;
        case 'g': rc = acdc_shape_parse(optarg, "--shape", &h, &w); break;
        case 'G': rc = acdc_shape_parse(optarg, "--input-shape", &in_h, &in_w); break;
        case 'h': fputs(help, stdout); return cli_finish("init");
        default:
            return cli_usage_error("init", "unknown option '%s'", argv[optind - 1]);
        }
        if (rc)
            return cli_fail("init", rc);
    }
    if (optind < argc)
        return cli_usage_error("init", "unexpected argument '%s'", argv[optind]);
    if (!out)
        return cli_usage_error("init", "no output file: give -o MODEL.h5");
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
             : UTIL_OK;
    if (rc) {
        acdc_model_free(m);
        return cli_fail("init", rc);   /* a grid that does not fit: usage, exit 2 */
    }
    rc = acdc_model_init_normal(m, 1, sigma, (uint64_t)seed);
    if (!rc)
        rc = acdc_model_init_perms(m, (uint64_t)seed);
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
