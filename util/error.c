/* util/error.c -- see error.h. */
#include "util/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char msg[1024];

int util_error(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return status;
}

const char *util_errmsg(void)
{
    return msg;
}

void util_error_prefix(const char *fmt, ...)
{
    char head[512], old[sizeof msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    memcpy(old, msg, sizeof old);
    snprintf(msg, sizeof msg, "%s: %s", head, old);
}

void util_error_clear(void)
{
    msg[0] = '\0';
}
