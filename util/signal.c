/* SPDX-License-Identifier: GPL-3.0-or-later */
/* util/signal.c -- see signal.h. */
#include "util/signal.h"
#include "util/error.h"

#include <errno.h>
#include <string.h>

static volatile sig_atomic_t flag;

static void on_signal(int sig)
{
    flag = sig;
}

int util_signal_catch(util_signal_saved *saved)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    flag = 0;
    if (sigaction(SIGINT, &sa, &saved->old_int) != 0)
        return util_error(UTIL_EIO, "cannot install a handler for SIGINT: %s",
                          strerror(errno));
    if (sigaction(SIGTERM, &sa, &saved->old_term) != 0) {
        int e = errno;
        sigaction(SIGINT, &saved->old_int, NULL);
        return util_error(UTIL_EIO, "cannot install a handler for SIGTERM: %s", strerror(e));
    }
    saved->caught = 1;
    return UTIL_OK;
}

int util_signal_ignore_pipe(util_signal_saved *saved)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGPIPE, &sa, &saved->old_pipe) != 0)
        return util_error(UTIL_EIO, "cannot ignore SIGPIPE: %s", strerror(errno));
    saved->piped = 1;
    return UTIL_OK;
}

void util_signal_restore(util_signal_saved *saved)
{
    if (saved->caught) {
        sigaction(SIGINT, &saved->old_int, NULL);
        sigaction(SIGTERM, &saved->old_term, NULL);
        saved->caught = 0;
    }
    if (saved->piped) {
        sigaction(SIGPIPE, &saved->old_pipe, NULL);
        saved->piped = 0;
    }
}

int util_signal_caught(void)
{
    return flag;
}

const volatile sig_atomic_t *util_signal_flag(void)
{
    return &flag;
}
