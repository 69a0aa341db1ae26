/* cli/simopts.c -- the options `acdc simulate` and `acdc sweep` share. */
#include "cli/cli.h"
#include "sim/result.h"
#include "util/error.h"
#include "util/parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_sets_init(cli_sets *s, int argc)
{
    /* Each shortcut option adds up to three assignments (input, Fourier and image). */
    s->n = 0;
    s->v = calloc(3 * (size_t)argc + 4, sizeof *s->v);
    s->owned = calloc(3 * (size_t)argc + 4, sizeof *s->owned);
    if (!s->v || !s->owned) {
        cli_sets_clear(s);
        return util_error(UTIL_ENOMEM, "out of memory for the profile assignments of %d "
                          "arguments", argc);
    }
    return UTIL_OK;
}

void cli_sets_clear(cli_sets *s)
{
    free(s->v);
    free(s->owned);
    s->v = NULL;
    s->owned = NULL;
    s->n = 0;
}

static void add_owned(cli_sets *s, const char *fmt, const char *key, long long v)
{
    snprintf(s->owned[s->n], sizeof s->owned[0], fmt, key, v);
    s->v[s->n] = s->owned[s->n];
    s->n++;
}

int cli_sim_option(int c, const char *arg, sim_options *o, cli_sets *sets, int *rc)
{
    int64_t iv;
    *rc = UTIL_OK;
    switch (c) {
    case 'P':
        if ((*rc = sim_propagation_parse(arg, &o->propagation)))
            util_error_prefix("--propagation");
        return 1;
    case 'N':
        o->noise = 0;
        return 1;
    case 'f':
        *rc = util_parse_double(arg, "--photons", 1, 1e30, &o->photons);
        return 1;
    case 'e':
        *rc = util_parse_quantity(arg, "--phase-error", "rad", 0, 10, &o->phase_error_rad);
        return 1;
    case 'b':
    case 'a':
        if (!(*rc = util_parse_int(arg, c == 'b' ? "--phase-bits" : "--amplitude-bits", 0,
                                   16, &iv))) {
            const char *k = c == 'b' ? "phase_bits" : "amplitude_bits";
            add_owned(sets, "fourier.%s=%lld", k, (long long)iv);
            add_owned(sets, "image.%s=%lld", k, (long long)iv);
        }
        return 1;
    case 's':
        sets->v[sets->n++] = (char *)arg;
        return 1;
    case 'O':
        if (!(*rc = util_parse_int(arg, "--oversample", 1, 64, &iv)))
            o->oversample = (int)iv;
        return 1;
    case 'F': {
        /* Every modulator's fill factor; checked like the profile's own value. */
        double v;
        if (!(*rc = util_parse_double(arg, "--fill", 1e-6, 1, &v)))
            for (int i = 0; i < 3; i++) {
                static const char *dev[3] = {"input", "fourier", "image"};
                snprintf(sets->owned[sets->n], sizeof sets->owned[0], "%s.fill=%.17g",
                         dev[i], v);
                sets->v[sets->n] = sets->owned[sets->n];
                sets->n++;
            }
        return 1;
    }
    case 'S':
        if (!(*rc = util_parse_int(arg, "--seed", 0, INT64_MAX / 2, &iv)))
            o->seed = (uint64_t)iv;
        return 1;
    case 'T':
        if (!(*rc = util_parse_int(arg, "--threads", 1, 256, &iv)))
            o->threads = (int)iv;
        return 1;
    case 'x': {
        /* pixels, optionally written with the unit: "0.5px" */
        char buf[64];
        size_t len = strlen(arg);
        if (len >= sizeof buf) {
            *rc = util_error(UTIL_EUSAGE, "--misalign-x: '%s' is not a number", arg);
            return 1;
        }
        memcpy(buf, arg, len + 1);
        if (len > 2 && !strcmp(buf + len - 2, "px"))
            buf[len - 2] = '\0';
        *rc = util_parse_double(buf, "--misalign-x", -1e6, 1e6, &o->misalign_px);
        return 1;
    }
    default:
        return 0;
    }
}
