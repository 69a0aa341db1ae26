/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz/fuzz_profile.c -- device profiles: acdc_compiler_profile_read() on arbitrary bytes.
 *
 * Properties: no crash, no sanitizer report; a refused file gives ACDC_UTIL_EDATA and one
 * line naming the file; an accepted profile passes acdc_compiler_profile_check() and
 * survives acdc_compiler_profile_write_ini() -> acdc_compiler_profile_read() -> write again with
 * identical text (the writer's "reads back exactly" promise).
 */
#define _GNU_SOURCE
#include "fuzz/fuzz_common.h"

#include "compiler/profile.h"
#include "util/error.h"

static char scratch[64];

/* Reads a whole small file into a NUL-terminated buffer (caller frees). */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    FUZZ_CHECK(f, "cannot open '%s'", path);
    char *buf = malloc(1 << 16);
    size_t n = fread(buf, 1, (1 << 16) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    snprintf(scratch, sizeof scratch, "/dev/shm/acdc-fuzz-profile-%ld", (long)getpid());
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    char path[64];
    int fd = fuzz_memfile("profile.ini", data, len, path, sizeof path);
    if (fd < 0)
        return 0;
    acdc_compiler_profile p;
    memset(&p, 0, sizeof p);
    acdc_util_error_clear();
    int rc = acdc_compiler_profile_read(path, &p);
    close(fd);
    if (rc) {
        const char *msg = acdc_util_errmsg();
        FUZZ_CHECK(rc == ACDC_UTIL_EDATA, "status %d: %s", rc, msg);
        FUZZ_CHECK(fuzz_one_line(msg), "message is not one line: '%s'", msg);
        FUZZ_CHECK(strstr(msg, path), "message does not name the file: '%s'", msg);
        return 0;
    }
    FUZZ_CHECK(acdc_compiler_profile_check(&p) == 0, "accepted but fails the check: %s",
               acdc_util_errmsg());
    char a[96], b[96];
    snprintf(a, sizeof a, "%s-a.ini", scratch);
    snprintf(b, sizeof b, "%s-b.ini", scratch);
    FUZZ_CHECK(acdc_compiler_profile_write_ini(&p, a) == 0, "write: %s", acdc_util_errmsg());
    acdc_compiler_profile q;
    memset(&q, 0, sizeof q);
    FUZZ_CHECK(acdc_compiler_profile_read(a, &q) == 0, "written profile does not read back: %s",
               acdc_util_errmsg());
    FUZZ_CHECK(acdc_compiler_profile_write_ini(&q, b) == 0, "write: %s", acdc_util_errmsg());
    char *ta = slurp(a), *tb = slurp(b);
    FUZZ_CHECK(!strcmp(ta, tb), "round trip changed the profile:\n%s\n---\n%s", ta, tb);
    FUZZ_CHECK(p.wavelength_m == q.wavelength_m && p.camera.exposure_s == q.camera.exposure_s
               && p.fourier.pitch_m == q.fourier.pitch_m
               && p.laser_power_w == q.laser_power_w,
               "round trip changed a value");
    free(ta);
    free(tb);
    unlink(a);
    unlink(b);
    return 0;
}
