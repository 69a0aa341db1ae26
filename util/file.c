/* SPDX-License-Identifier: GPL-3.0-or-later */
/* util/file.c -- atomic file writing (util/file.h). */
#include "util/file.h"
#include "util/error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int util_file_create(const char *path, util_file *out)
{
    memset(out, 0, sizeof *out);
    int rc = util_output_begin(path, &out->t);
    if (rc)
        return rc;
    out->f = fopen(out->t.tmp, "wb");
    if (!out->f) {
        const int e = errno;
        rc = util_error(UTIL_EIO, "cannot create '%s': %s", path, strerror(e));
        util_file_abort(out);
        return rc;
    }
    return UTIL_OK;
}

int util_file_create_for(const char *path, util_file *out)
{
    int rc = util_file_create(path, out);
    if (!rc && fclose(out->f) != 0) {
        out->f = NULL;
        rc = util_error(UTIL_EIO, "cannot create '%s': %s", path, strerror(errno));
        util_file_abort(out);
    }
    out->f = NULL;
    return rc;
}

int util_file_commit(util_file *out)
{
    int rc = UTIL_OK;
    const char *path = out->t.dest;
    if (out->f) {
        if (fflush(out->f) != 0 || ferror(out->f))
            rc = util_error(UTIL_EIO, "cannot write '%s': %s", path, strerror(errno));
        if (fclose(out->f) != 0 && !rc)
            rc = util_error(UTIL_EIO, "cannot write '%s': %s", path, strerror(errno));
        out->f = NULL;
    }
    if (rc)
        util_output_cancel(&out->t);
    else
        rc = util_output_finish(&out->t);
    return rc;
}

void util_file_abort(util_file *out)
{
    if (out->f)
        fclose(out->f);
    out->f = NULL;
    util_output_cancel(&out->t);
}
