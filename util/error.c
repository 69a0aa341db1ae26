/* SPDX-License-Identifier: GPL-3.0-or-later */
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
    char head[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    size_t h = strlen(head), m = strlen(msg);
    if (h + 2 >= sizeof msg)
        h = sizeof msg - 3;
    if (h + 2 + m >= sizeof msg)
        m = sizeof msg - 1 - h - 2;
    memmove(msg + h + 2, msg, m);
    memcpy(msg, head, h);
    msg[h] = ':';
    msg[h + 1] = ' ';
    msg[h + 2 + m] = '\0';
}

void util_error_clear(void)
{
    msg[0] = '\0';
}
