/* SPDX-License-Identifier: GPL-3.0-or-later */
/* util/fingerprint.h -- FNV-1a fingerprints of bytes and files: what a resumable run
 * (sweeps, tolerance studies) records of its inputs, to refuse continuing on others.  A
 * fingerprint, not a cryptographic hash. */
#ifndef ACDC_UTIL_FINGERPRINT_H
#define ACDC_UTIL_FINGERPRINT_H

#include <stddef.h>
#include <stdint.h>

/* The starting value of a fingerprint. */
#define ACDC_UTIL_FNV_OFFSET 1469598103934665603ULL

/* h continued over n bytes at p (FNV-1a, 64 bit). */
uint64_t acdc_util_fnv(uint64_t h, const void *p, size_t n);

/* *h = the fingerprint of the file's bytes.  Errors: ACDC_UTIL_EIO naming path. */
int acdc_util_file_fingerprint(const char *path, uint64_t *h);

/* A resumable run's settings are "key=value" fields joined by ';'.  Writes the first
 * field in which a (the file's) and b (this run's) differ into out, as "'trials=2' there,
 * 'trials=3' here", for the message that refuses to continue. */
void acdc_util_settings_difference(const char *a, const char *b, char *out, size_t cap);

#endif
