/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cli/cmd_compile.c -- `acdc compile`: a model file → an optical system file. */
#include "cli/cli.h"
#include "compiler/compile.h"
#include "compiler/profile.h"
#include "models/io.h"
#include "sim/verify.h"
#include "util/error.h"
#include "util/output.h"
#include "util/parse.h"
#include "util/signal.h"

#include <getopt.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_OUTPUT = 'o', OPT_DEVICE = 'd', OPT_WAVELENGTH = 'w', OPT_PITCH = 'p',
       OPT_SET = 's', OPT_QUIET = 'q', OPT_VERIFY = 'V', OPT_VERIFY_ROWS = 'R',
       OPT_THREADS = 't', OPT_CALIBRATE = 'c' };

static const cli_option options[] = {
    CLI_OPT('o', "output", "FILE", OPT_OUTPUT,
            "system file to write (HDF5, compiler/FORMAT.md)"),
    CLI_OPT('d', "device", "PROFILE", OPT_DEVICE,
            "built-in profile name or a profile file (.ini); default 'ideal'.  "
            "--device list prints the built-in names"),
    CLI_OPT(0, "wavelength", "L", OPT_WAVELENGTH,
            "laser wavelength, with unit (633nm, 0.532um)"),
    CLI_OPT(0, "pitch", "P", OPT_PITCH,
            "pixel pitch of every modulator and the camera (8um)"),
    CLI_OPT(0, "set", "SEC.KEY=VAL", OPT_SET,
            "override one profile value (repeatable), e.g.\n"
            "--set fourier.phase_bits=6 --set camera.exposure=2ms\n"
            "--set rules.fourier_oversample=R: the Fourier masks' design -- real profiles "
            "default to auto, the best pixel-aware design that fits (R = 2, else 1; masks "
            "compensate the pixels' transforms), else the point design (0) with a warning; "
            "see compiler/README.md, 'Pixel-aware design'"),
    CLI_OPT(0, "verify", "DATA", OPT_VERIFY,
            "simulate the compiled system on the first rows of DATA (HDF5 /x, labels "
            "optional) with resolved pixels and the profile's noise, print the expected "
            "error and accuracy beside the numeric ones and an error budget of the effects "
            "one at a time, and store this verdict in the system file (sim/README.md, "
            "'Verdict')"),
    CLI_OPT(0, "verify-rows", "N", OPT_VERIFY_ROWS, "rows of DATA --verify simulates "
            "(default 200)"),
    CLI_OPT(0, "threads", "T", OPT_THREADS, "threads for --verify (default 1)"),
    CLI_OPT(0, "calibrate", "DATA.h5", OPT_CALIBRATE,
            "design each chain's detection (reference, exposure) for the signal the rows "
            "of DATA.h5's /x put on its camera, measured through the numeric model; "
            "without it the range is estimated from the masks (compiler/README.md, "
            "'Detection')"),
    CLI_OPT('q', "quiet", NULL, OPT_QUIET, "do not print the optical train"),
    CLI_OPT_END};

static const cli_spec spec = {
    "compile", "MODEL.h5 -o SYSTEM.h5 [options]",
    "Compile an ACDC cascade into an optical system: one 4f stage (two lenses and a\n"
    "Fourier-plane mask) per layer -- cylindrical lenses for 1D (dct) layers, spherical\n"
    "lenses on 2D devices (k x k-pixel superpixels) for 2D (dct2) layers -- layers\n"
    "without ReLU or permutation between them chained all-optically, opto-electronic\n"
    "stages between chains, every element in SI units for the devices of a profile.\n"
    "See compiler/README.md.",
    options, NULL};

struct args {
    const char *out, *device, *verify, *calibrate;
    int64_t verify_rows, threads;
    double wavelength, pitch;
    int quiet;
    char **sets;   /* argc + 1 slots, pointing into argv */
    size_t nsets;
};

static int on_option(void *ctx, int key, const char *arg)
{
    struct args *a = ctx;
    switch (key) {
    case OPT_OUTPUT: a->out = arg; break;
    case OPT_DEVICE: a->device = arg; break;
    case OPT_WAVELENGTH:
        return acdc_util_parse_quantity_strict(arg, "--wavelength", "m", 1e-8, 1e-4,
                                               &a->wavelength);
    case OPT_PITCH: return acdc_util_parse_quantity_strict(arg, "--pitch", "m", 1e-8,
                                                           1e-2, &a->pitch);
    case OPT_SET: a->sets[a->nsets++] = (char *)arg; break;
    case OPT_QUIET: a->quiet = 1; break;
    case OPT_VERIFY: a->verify = arg; break;
    case OPT_VERIFY_ROWS:
        return acdc_util_parse_int(arg, "--verify-rows", 1, 1000000, &a->verify_rows);
    case OPT_THREADS: return acdc_util_parse_int(arg, "--threads", 1, 256, &a->threads);
    case OPT_CALIBRATE: a->calibrate = arg; break;
    }
    return ACDC_UTIL_OK;
}

static void note(const char *what, size_t i, size_t n, void *ctx)
{
    (void)ctx;
    fprintf(stderr, "acdc compile: verify: run %zu of %zu: %s\n", i + 1, n, what);
}

/* The verdict on s for the first rows of the data file at path, into s->verdict. */
static int verify(acdc_compiler_system *s, const char *path, size_t rows, int threads)
{
    acdc_data *d = NULL;
    int rc = acdc_data_read(path, s->n_in, &d);
    if (rc) {
        acdc_util_error_prefix("--verify");
        return rc;
    }
    omp_set_num_threads(threads);
    acdc_util_signal_saved sig = {0};
    if (!(rc = acdc_util_signal_catch(&sig)))
        rc = acdc_sim_verify(s, acdc_compiler_compile, d, path, rows, threads, note, NULL,
                             acdc_util_signal_flag(), &s->verdict);
    acdc_util_signal_restore(&sig);
    if (rc && rc != ACDC_UTIL_EINTR)
        acdc_util_error_prefix("--verify '%s'", path);
    acdc_data_free(d);
    return rc;
}

int cmd_compile(int argc, char **argv)
{
    struct args a = {.device = "ideal", .verify_rows = 200, .threads = 1,
                     .sets = calloc((size_t)argc + 1, sizeof(char *))};
    if (!a.sets)
        return cli_fail("compile", acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory"));
    int rc = cli_parse(&spec, argc, argv, on_option, &a);
    if (rc >= 0) {
        free(a.sets);
        return rc;
    }
    const char *out = a.out, *device = a.device;
    char **sets = a.sets;
    if (!strcmp(device, "list")) {
        free(sets);
        for (const char *const *n = acdc_compiler_profile_names(); *n; n++)
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
    const char *in[] = {argv[optind], device, a.verify, a.calibrate};
    if ((rc = acdc_util_output_claim(in, 4, &out, 1))) {
        free(sets);
        return cli_fail("compile", rc);
    }
    acdc_compiler_profile prof;
    acdc_model *m = NULL;
    acdc_compiler_system *s = NULL;
    size_t dl = strlen(device);
    if (dl > 4 && !strcmp(device + dl - 4, ".ini"))
        rc = acdc_compiler_profile_read(device, &prof);
    else
        rc = acdc_compiler_profile_builtin(device, &prof);
    if (rc == ACDC_UTIL_EUSAGE) {
        free(sets);
        return cli_fail("compile", rc);
    }
    if (!rc && a.wavelength > 0)
        prof.wavelength_m = a.wavelength;
    if (!rc && a.pitch > 0)
        prof.input.pitch_m = prof.fourier.pitch_m = prof.image.pitch_m =
            prof.camera.pitch_m = a.pitch;
    for (size_t i = 0; !rc && i < a.nsets; i++)
        if ((rc = acdc_compiler_profile_set(&prof, sets[i]))) {
            free(sets);
            return cli_fail("compile", rc == ACDC_UTIL_EDATA ? ACDC_UTIL_EUSAGE : rc);
        }
    free(sets);
    if (!rc)
        rc = acdc_compiler_profile_check(&prof);
    if (!rc)
        rc = acdc_model_read(argv[optind], &m);
    if (!rc && (rc = acdc_compiler_compile(m, &prof, &s)))
        acdc_util_error_prefix("cannot compile '%s' for profile '%s'", argv[optind], prof.name);
    if (!rc && a.calibrate) {
        acdc_data *d = NULL;
        if (!(rc = acdc_data_read(a.calibrate, m->n_in, &d)) &&
            (rc = acdc_compiler_calibrate(s, d->x, d->batch)))
            acdc_util_error_prefix("cannot calibrate on '%s'", a.calibrate);
        acdc_data_free(d);
    }
    if (!rc && a.verify)
        rc = verify(s, a.verify, (size_t)a.verify_rows, (int)a.threads);
    if (!rc)
        rc = acdc_compiler_system_write(s, out);
    if (rc) {
        acdc_compiler_system_free(s);
        acdc_model_free(m);
        return cli_fail("compile", rc);
    }
    if (!a.quiet)
        acdc_compiler_system_print(s, out, stdout);
    if (s->warnings[0])
        fprintf(stderr, "acdc compile: warning: %s", s->warnings);
    if (s->verdict.rows)
        acdc_sim_verdict_print(&s->verdict, stdout);
    printf("design: %s\n", s->design);
    printf("wrote '%s': %zu optical chain%s, %zu layers\n", out, s->n_chains,
           s->n_chains == 1 ? "" : "s", m->n_layers);
    acdc_compiler_system_free(s);
    acdc_model_free(m);
    return cli_finish("compile");
}
