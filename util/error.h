/* SPDX-License-Identifier: GPL-3.0-or-later */
/* util/error.h -- the one error channel of acdc-optics.
 *
 * Every function that can fail returns an int status from enum acdc_util_status and, before
 * returning, records a one-line message through acdc_util_error().  Break on acdc_util_error() in
 * a debugger to catch any failure at its source.  Messages are lowercase, without a full
 * stop, and quote their subject:  cannot read '/layers/3/d' in 'model.h5': ...
 */
#ifndef ACDC_UTIL_ERROR_H
#define ACDC_UTIL_ERROR_H

enum acdc_util_status {
    ACDC_UTIL_OK = 0,
    ACDC_UTIL_EDATA = 1,   /* bad input data: a file, a dataset, a value out of range */
    ACDC_UTIL_EIO = 2,     /* the operating system or a library refused (open, write, rename) */
    ACDC_UTIL_ENOMEM = 3,  /* an allocation failed or would exceed the stated memory limit */
    ACDC_UTIL_EUSAGE = 4,  /* the caller passed an argument that makes no sense */
    ACDC_UTIL_EINTR = 5    /* interrupted by a signal; the last good output was kept */
};

/* Records a printf-style message for the calling thread and returns status, so that
 * callers can write  return acdc_util_error(ACDC_UTIL_EDATA, "...", ...);  */
int acdc_util_error(int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* The message recorded by the last acdc_util_error() on this thread ("" if none).  Messages
 * are kept under 1024 bytes by cutting the middle of their longest quoted subject (a long
 * path becomes 'aaaa...aaaa.h5'), never their end, where the reason is. */
const char *acdc_util_errmsg(void);

/* Prefixes the current message with "context: " (for callers that know the file). */
void acdc_util_error_prefix(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* Forgets the recorded message. */
void acdc_util_error_clear(void);

#endif
