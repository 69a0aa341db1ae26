/* SPDX-License-Identifier: GPL-3.0-or-later */
/* util/error.h -- the one error channel of acdc-optics.
 *
 * Every function that can fail returns an int status from enum util_status and, before
 * returning, records a one-line message through util_error().  Break on util_error() in
 * a debugger to catch any failure at its source.  Messages are lowercase, without a full
 * stop, and quote their subject:  cannot read '/layers/3/d' in 'model.h5': ...
 */
#ifndef UTIL_ERROR_H
#define UTIL_ERROR_H

enum util_status {
    UTIL_OK = 0,
    UTIL_EDATA = 1,   /* bad input data: a file, a dataset, a value out of range */
    UTIL_EIO = 2,     /* the operating system or a library refused (open, write, rename) */
    UTIL_ENOMEM = 3,  /* an allocation failed or would exceed the stated memory limit */
    UTIL_EUSAGE = 4,  /* the caller passed an argument that makes no sense */
    UTIL_EINTR = 5    /* interrupted by a signal; the last good output was kept */
};

/* Records a printf-style message for the calling thread and returns status, so that
 * callers can write  return util_error(UTIL_EDATA, "...", ...);  */
int util_error(int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* The message recorded by the last util_error() on this thread ("" if none).  Messages
 * are kept under 1024 bytes by cutting the middle of their longest quoted subject (a long
 * path becomes 'aaaa...aaaa.h5'), never their end, where the reason is. */
const char *util_errmsg(void);

/* Prefixes the current message with "context: " (for callers that know the file). */
void util_error_prefix(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* Forgets the recorded message. */
void util_error_clear(void);

#endif
