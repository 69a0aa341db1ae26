/* SPDX-License-Identifier: GPL-3.0-or-later */
/* util/fingerprint.c -- FNV-1a fingerprints (util/fingerprint.h). */
#include "util/fingerprint.h"
#include "util/error.h"
#include "util/input.h"

#include <stdio.h>
#include <string.h>

uint64_t acdc_util_fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 1099511628211ULL;
    }
    return h;
}

int acdc_util_file_fingerprint(const char *path, uint64_t *h)
{
    FILE *f;
    unsigned char buf[65536];
    size_t k;
    int rc = acdc_util_input_fopen(path, &f);
    if (rc)
        return rc;
    *h = ACDC_UTIL_FNV_OFFSET;
    while ((k = fread(buf, 1, sizeof buf, f)) > 0)
        *h = acdc_util_fnv(*h, buf, k);
    const int bad = ferror(f);
    fclose(f);
    return bad ? acdc_util_error(ACDC_UTIL_EIO, "cannot read '%s'", path) : ACDC_UTIL_OK;
}

void acdc_util_settings_difference(const char *a, const char *b, char *out, size_t cap)
{
    for (;;) {
        const size_t la = strcspn(a, ";"), lb = strcspn(b, ";");
        if (la != lb || strncmp(a, b, la)) {
            snprintf(out, cap, "'%.*s' there, '%.*s' here", (int)(la > 120 ? 120 : la), a,
                     (int)(lb > 120 ? 120 : lb), b);
            return;
        }
        if (!a[la] || !b[lb]) {
            snprintf(out, cap, "different number of settings");
            return;
        }
        a += la + 1;
        b += lb + 1;
    }
}
