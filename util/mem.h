/* SPDX-License-Identifier: GPL-3.0-or-later */
/* util/mem.h -- refuse an allocation the machine cannot hold, before trying it.
 *
 * A file that promises 10^12 rows, or a simulation of a huge data set, should fail with
 * a clear message rather than push the machine into swap or the OOM killer.  Callers
 * estimate the bytes they are about to need and ask util_mem_check() first; the user can
 * insist (`acdc --force-memory ...`).
 */
#ifndef UTIL_MEM_H
#define UTIL_MEM_H

#include <stddef.h>

/* Bytes of memory available to a new allocation now: MemAvailable from /proc/meminfo,
 * else the physical memory (sysconf); 0 if neither can be read. */
double util_mem_available(void);

/* With on != 0, util_mem_check() always passes (the user insists). */
void util_mem_set_force(int on);

/* Returns 0 if `bytes` fit in the available memory (or the check is forced or the
 * available memory is unknown), else UTIL_ENOMEM with a message naming `what`, the need
 * and the availability. */
int util_mem_check(double bytes, const char *what);

/* UTIL_ENOMEM for an allocation of about `bytes` that failed (after util_mem_check()
 * passed, or with --force-memory): "out of memory for WHAT (about N GiB)". */
int util_mem_fail(double bytes, const char *what);

#endif
