/* SPDX-License-Identifier: GPL-3.0-or-later */
/* util/mem.h -- refuse an allocation the machine cannot hold, before trying it.
 *
 * A file that promises 10^12 rows, or a simulation of a huge data set, should fail with
 * a clear message rather than push the machine into swap or the OOM killer.  Callers
 * estimate the bytes they are about to need and ask acdc_util_mem_check() first; the user can
 * insist (`acdc --force-memory ...`).
 */
#ifndef ACDC_UTIL_MEM_H
#define ACDC_UTIL_MEM_H

#include <stddef.h>

/* Bytes of memory available to a new allocation now: MemAvailable from /proc/meminfo,
 * else the physical memory (sysconf); 0 if neither can be read. */
double acdc_util_mem_available(void);

/* With on != 0, acdc_util_mem_check() always passes (the user insists). */
void acdc_util_mem_set_force(int on);

/* Returns 0 if `bytes` fit in the available memory (or the check is forced or the
 * available memory is unknown), else ACDC_UTIL_ENOMEM with a message naming `what`, the need
 * and the availability. */
int acdc_util_mem_check(double bytes, const char *what);

/* ACDC_UTIL_ENOMEM for an allocation of about `bytes` that failed (after acdc_util_mem_check()
 * passed, or with --force-memory): "out of memory for WHAT (about N GiB)". */
int acdc_util_mem_fail(double bytes, const char *what);

#endif
