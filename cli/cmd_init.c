/* cli/cmd_init.c -- `acdc init`: write a new cascade. */
#include "cli/cli.h"
#include "models/io.h"
#include "util/error.h"
#include "util/parse.h"

#include <getopt.h>
#include <string.h>

static const char help[] =
    "usage: acdc init -o MODEL.h5 --n N --layers K [options]\n"
    "\n"
    "Write a new ACDC cascade of K layers of size N.  Every diagonal a, d is drawn from\n"
    "N(1, sigma) -- the near-identity initialisation of Moczulski et al. 2016 -- or is\n"
    "exactly the identity with --sigma 0.\n"
    "\n"
    "options:\n"
    "  -o, --output FILE   model file to write (HDF5, see models/FORMAT.md)\n"
    "      --n N           layer size (1 .. 268435456)\n"
    "      --layers K      number of layers (1 .. 100000)\n"
    "      --n-in N        input length, zero-padded to N (default N)\n"
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
        {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
    const char *out = NULL;
    int64_t n = 0, k = 0, n_in = 0, n_out = 0, seed = 1;
    double sigma = 0.061;
    unsigned flags = 0;
    int c, rc;
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
    if (!n || !k)
        return cli_usage_error("init", "--n and --layers are required");
    if (n_in > n || n_out > n)
        return cli_usage_error("init", "--n-in and --n-out must not exceed --n %lld",
                               (long long)n);
    acdc_model *m;
    if ((rc = acdc_model_alloc(&m, (size_t)n, (size_t)(n_in ? n_in : n),
                               (size_t)(n_out ? n_out : n), (size_t)k, flags)))
        return cli_fail("init", rc);
    rc = acdc_model_init_normal(m, 1, sigma, (uint64_t)seed);
    if (!rc)
        rc = acdc_model_init_perms(m, (uint64_t)seed);
    if (!rc)
        rc = acdc_model_write(m, out);
    if (rc) {
        acdc_model_free(m);
        return cli_fail("init", rc);
    }
    printf("wrote '%s': %lld layers of %lld, %zu parameters\n", out, (long long)k,
           (long long)n, acdc_model_param_count(m));
    acdc_model_free(m);
    return cli_finish("init");
}
