/* SPDX-License-Identifier: GPL-3.0-or-later */
/* util/mem.c -- see mem.h. */
#include "util/mem.h"
#include "util/error.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int force;

void acdc_util_mem_set_force(int on) { force = on; }

double acdc_util_mem_available(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    if (f) {
        char line[256];
        unsigned long long kb;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) {
                fclose(f);
                return 1024.0 * (double)kb;
            }
        fclose(f);
    }
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    return pages > 0 && size > 0 ? (double)pages * (double)size : 0;
}

int acdc_util_mem_fail(double bytes, const char *what)
{
    return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for %s (about %.3g GiB)", what,
                           bytes / 1073741824.0);
}

int acdc_util_mem_check(double bytes, const char *what)
{
    if (force)
        return ACDC_UTIL_OK;
    double avail = acdc_util_mem_available();
    if (avail > 0 && bytes > avail)
        return acdc_util_error(ACDC_UTIL_ENOMEM, "%s needs %.3g GiB of memory but %.3g GiB are "
                               "available (acdc --force-memory ... tries anyway)", what,
                               bytes / 1073741824.0, avail / 1073741824.0);
    return ACDC_UTIL_OK;
}
