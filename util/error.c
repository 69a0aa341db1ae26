/* SPDX-License-Identifier: GPL-3.0-or-later */
/* util/error.c -- see error.h. */
#include "util/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MSG_CAP 1024

static _Thread_local char msg[MSG_CAP];

/* Removes cut bytes of text (length *n) at start, putting "..." in their place. */
static void elide(char *text, size_t *n, size_t start, size_t cut)
{
    memmove(text + start + 3, text + start + cut, *n - (start + cut) + 1);
    memcpy(text + start, "...", 3);
    *n = *n - cut + 3;
}

/* Stores text (length n, modified) as the message.  A message longer than the buffer
 * loses the middle of its longest quoted subject (a 5000-byte path), never its end: the
 * reason ("File name too long") is what the user needs.  Without a long quoted subject
 * the middle of the whole message goes. */
static void store(char *text, size_t n)
{
    while (n >= MSG_CAP) {
        const size_t excess = n - (MSG_CAP - 1);
        size_t at = 0, longest = 0;
        for (const char *p = text; (p = strchr(p, '\'')) != NULL;) {
            const char *q = strchr(p + 1, '\'');
            if (!q)
                break;
            if ((size_t)(q - p - 1) > longest) {
                longest = (size_t)(q - p - 1);
                at = (size_t)(p + 1 - text);
            }
            p = q + 1;
        }
        if (longest > 40) {   /* keep at least 10 bytes either side of the "..." */
            size_t cut = excess + 3 < longest - 20 ? excess + 3 : longest - 20;
            elide(text, &n, at + (longest - cut) / 2, cut);
        } else {
            elide(text, &n, (n - (excess + 3)) / 2, excess + 3);
        }
    }
    memcpy(msg, text, n + 1);
}

int acdc_util_error(int status, const char *fmt, ...)
{
    char small[MSG_CAP];
    va_list ap, again;
    va_start(ap, fmt);
    va_copy(again, ap);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        snprintf(msg, sizeof msg, "(unprintable message)");
    } else if ((size_t)n < sizeof small) {
        memcpy(msg, small, (size_t)n + 1);
    } else {
        char *big = malloc((size_t)n + 1);
        if (big) {
            vsnprintf(big, (size_t)n + 1, fmt, again);
            store(big, (size_t)n);
            free(big);
        } else {
            store(small, sizeof small - 1);   /* out of memory: the beginning is all there is */
        }
    }
    va_end(again);
    return status;
}

const char *acdc_util_errmsg(void)
{
    return msg;
}

void acdc_util_error_prefix(const char *fmt, ...)
{
    char head[MSG_CAP];
    va_list ap;
    va_start(ap, fmt);
    int h = vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    if (h < 0)
        return;
    if ((size_t)h >= sizeof head)
        h = (int)sizeof head - 1;
    const size_t m = strlen(msg), n = (size_t)h + 2 + m;
    char buf[2 * MSG_CAP + 2];
    memcpy(buf, head, (size_t)h);
    buf[h] = ':';
    buf[h + 1] = ' ';
    memcpy(buf + h + 2, msg, m + 1);
    store(buf, n);
}

void acdc_util_error_clear(void)
{
    msg[0] = '\0';
}
