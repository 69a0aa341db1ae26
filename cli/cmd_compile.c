/* cli/cmd_compile.c -- `acdc compile`: a model file → an optical system file. */
#include "cli/cli.h"
#include "compiler/compile.h"
#include "compiler/profile.h"
#include "models/io.h"
#include "util/error.h"
#include "util/parse.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
    "usage: acdc compile MODEL.h5 -o SYSTEM.h5 [options]\n"
    "\n"
    "Compile an ACDC cascade into an optical system: one 4f stage (two cylindrical\n"
    "lenses and a Fourier-plane mask) per layer, layers without ReLU or permutation\n"
    "between them chained all-optically, opto-electronic stages between chains, every\n"
    "element in SI units for the devices of a profile.  See compiler/README.md.\n"
    "\n"
    "options:\n"
    "  -o, --output FILE       system file to write (HDF5, compiler/FORMAT.md)\n"
    "  -d, --device PROFILE    built-in profile name or a profile file (.ini); default\n"
    "                          'ideal'.  --device list prints the built-in names\n"
    "      --wavelength L      laser wavelength, with unit (633nm, 0.532um)\n"
    "      --pitch P           pixel pitch of every modulator and the camera (8um)\n"
    "      --set SEC.KEY=VAL   override one profile value (repeatable), e.g.\n"
    "                          --set fourier.phase_bits=6 --set camera.exposure=2ms\n"
    "                          --set rules.fourier_oversample=2 designs for real pixels\n"
    "                          (masks compensate the pixels' transforms; see\n"
    "                          compiler/README.md, 'Pixel-aware design')\n"
    "  -q, --quiet             do not print the optical train\n"
    "  -h, --help              this text\n";

int cmd_compile(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'}, {"device", required_argument, 0, 'd'},
        {"wavelength", required_argument, 0, 'w'}, {"pitch", required_argument, 0, 'p'},
        {"set", required_argument, 0, 's'},    {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
    const char *out = NULL, *device = "ideal";
    double wavelength = 0, pitch = 0;
    int quiet = 0, c, rc;
    char **sets = calloc((size_t)argc + 1, sizeof *sets);
    size_t nsets = 0;
    if (!sets)
        return cli_fail("compile", util_error(UTIL_ENOMEM, "out of memory"));
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:d:qh", opts, NULL)) != -1) {
        rc = UTIL_OK;
        switch (c) {
        case 'o': out = optarg; break;
        case 'd': device = optarg; break;
        case 'w':
            rc = util_parse_quantity(optarg, "--wavelength", "m", 1e-8, 1e-4, &wavelength);
            break;
        case 'p': rc = util_parse_quantity(optarg, "--pitch", "m", 1e-8, 1e-2, &pitch); break;
        case 's': sets[nsets++] = optarg; break;
        case 'q': quiet = 1; break;
        case 'h':
            free(sets);
            fputs(help, stdout);
            return cli_finish("compile");
        default:
            free(sets);
            return cli_usage_error("compile", "unknown option '%s'", argv[optind - 1]);
        }
        if (rc) {
            free(sets);
            return cli_fail("compile", rc);
        }
    }
    if (!strcmp(device, "list")) {
        free(sets);
        for (const char *const *n = compiler_profile_names(); *n; n++)
            printf("%s\n", *n);
        return cli_finish("compile");
    }
    if (argc - optind != 1) {
        free(sets);
        return cli_usage_error("compile", "expected one MODEL.h5, got %d arguments",
                               argc - optind);
    }
    if (!out) {
        free(sets);
        return cli_usage_error("compile", "no output file: give -o SYSTEM.h5");
    }
    compiler_profile prof;
    acdc_model *m = NULL;
    compiler_system *s = NULL;
    size_t dl = strlen(device);
    if (dl > 4 && !strcmp(device + dl - 4, ".ini"))
        rc = compiler_profile_read(device, &prof);
    else
        rc = compiler_profile_builtin(device, &prof);
    if (rc == UTIL_EUSAGE) {
        free(sets);
        return cli_fail("compile", rc);
    }
    if (!rc && wavelength > 0)
        prof.wavelength_m = wavelength;
    if (!rc && pitch > 0)
        prof.input.pitch_m = prof.fourier.pitch_m = prof.image.pitch_m =
            prof.camera.pitch_m = pitch;
    for (size_t i = 0; !rc && i < nsets; i++)
        if ((rc = compiler_profile_set(&prof, sets[i]))) {
            free(sets);
            return cli_fail("compile", rc == UTIL_EDATA ? UTIL_EUSAGE : rc);
        }
    free(sets);
    if (!rc)
        rc = compiler_profile_check(&prof);
    if (!rc)
        rc = acdc_model_read(argv[optind], &m);
    if (!rc && (rc = compiler_compile(m, &prof, &s)))
        util_error_prefix("cannot compile '%s' for profile '%s'", argv[optind], prof.name);
    if (!rc)
        rc = compiler_system_write(s, out);
    if (rc) {
        compiler_system_free(s);
        acdc_model_free(m);
        return cli_fail("compile", rc);
    }
    if (!quiet)
        compiler_system_print(s, out, stdout);
    if (s->warnings[0])
        fprintf(stderr, "acdc compile: warning: %s", s->warnings);
    printf("wrote '%s': %zu optical chain%s, %zu layers\n", out, s->n_chains,
           s->n_chains == 1 ? "" : "s", m->n_layers);
    compiler_system_free(s);
    acdc_model_free(m);
    return cli_finish("compile");
}
