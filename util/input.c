/* SPDX-License-Identifier: GPL-3.0-or-later */
/* util/input.c -- see input.h. */
#include "util/input.h"
#include "util/error.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What a file that is not regular is, for messages. */
static const char *kind(mode_t m)
{
    if (S_ISDIR(m))
        return "a directory";
    if (S_ISFIFO(m))
        return "a FIFO";
    if (S_ISCHR(m))
        return "a character device";
    if (S_ISBLK(m))
        return "a block device";
    if (S_ISSOCK(m))
        return "a socket";
    return "not a regular file";
}

int acdc_util_input_open(const char *path, int *fd)
{
    *fd = -1;
    if (!path || !*path)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "empty input file name");
    /* O_NONBLOCK: opening a FIFO without a writer would wait for one forever. */
    int d = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (d < 0)
        return acdc_util_error(ACDC_UTIL_EIO, "cannot open '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(d, &st) != 0) {
        int e = errno;
        close(d);
        return acdc_util_error(ACDC_UTIL_EIO, "cannot open '%s': %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(d);
        if (S_ISDIR(st.st_mode))
            return acdc_util_error(ACDC_UTIL_EDATA, "cannot open '%s': is a directory", path);
        return acdc_util_error(ACDC_UTIL_EDATA, "cannot open '%s': not a regular file (%s)", path,
                               kind(st.st_mode));
    }
    int flags = fcntl(d, F_GETFL);
    if (flags < 0 || fcntl(d, F_SETFL, flags & ~O_NONBLOCK) < 0) {
        int e = errno;
        close(d);
        return acdc_util_error(ACDC_UTIL_EIO, "cannot open '%s': %s", path, strerror(e));
    }
    *fd = d;
    return ACDC_UTIL_OK;
}

int acdc_util_input_fopen(const char *path, FILE **f)
{
    int fd;
    *f = NULL;
    int rc = acdc_util_input_open(path, &fd);
    if (rc)
        return rc;
    *f = fdopen(fd, "rb");
    if (!*f) {
        int e = errno;
        close(fd);
        return acdc_util_error(ACDC_UTIL_EIO, "cannot open '%s': %s", path, strerror(e));
    }
    return ACDC_UTIL_OK;
}

int acdc_util_input_check(const char *path, off_t *size)
{
    int fd;
    int rc = acdc_util_input_open(path, &fd);
    if (rc)
        return rc;
    struct stat st;
    if (size)
        *size = fstat(fd, &st) == 0 ? st.st_size : 0;
    close(fd);
    return ACDC_UTIL_OK;
}
