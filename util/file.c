/* SPDX-License-Identifier: GPL-3.0-or-later */
/* util/file.c -- atomic file writing (util/file.h). */
#include "util/file.h"
#include "util/error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int util_file_create(const char *path, util_file *out)
{
    memset(out, 0, sizeof *out);
    const size_t len = strlen(path);
    if (len == 0)
        return util_error(UTIL_EUSAGE, "empty output file name");
    out->path = strdup(path);
    out->tmp = malloc(len + 32);
    if (!out->path || !out->tmp) {
        util_file_abort(out);
        return util_error(UTIL_ENOMEM, "out of memory");
    }
    /* same folder as the destination, so that rename() is atomic */
    snprintf(out->tmp, len + 32, "%s.tmp%ld", path, (long)getpid());
    out->f = fopen(out->tmp, "wb");
    if (!out->f) {
        const int e = errno;
        int rc = util_error(UTIL_EIO, "cannot create '%s': %s", path, strerror(e));
        util_file_abort(out);
        return rc;
    }
    return UTIL_OK;
}

int util_file_commit(util_file *out)
{
    int rc = UTIL_OK;
    if (fflush(out->f) != 0 || ferror(out->f))
        rc = util_error(UTIL_EIO, "cannot write '%s': %s", out->path, strerror(errno));
    if (!rc && fsync(fileno(out->f)) != 0 && errno != EINVAL)
        rc = util_error(UTIL_EIO, "cannot write '%s': %s", out->path, strerror(errno));
    if (fclose(out->f) != 0 && !rc)
        rc = util_error(UTIL_EIO, "cannot write '%s': %s", out->path, strerror(errno));
    out->f = NULL;
    if (!rc && rename(out->tmp, out->path) != 0)
        rc = util_error(UTIL_EIO, "cannot rename '%s' to '%s': %s", out->tmp, out->path,
                        strerror(errno));
    if (rc)
        unlink(out->tmp);
    free(out->tmp);
    free(out->path);
    out->tmp = out->path = NULL;
    return rc;
}

void util_file_abort(util_file *out)
{
    if (out->f)
        fclose(out->f);
    out->f = NULL;
    if (out->tmp)
        unlink(out->tmp);
    free(out->tmp);
    free(out->path);
    out->tmp = out->path = NULL;
}
