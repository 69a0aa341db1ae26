/* SPDX-License-Identifier: GPL-3.0-or-later */
/* util/file.c -- atomic file writing (util/file.h). */
#include "util/file.h"
#include "util/error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int acdc_util_file_create(const char *path, acdc_util_file *out)
{
    memset(out, 0, sizeof *out);
    int rc = acdc_util_output_begin(path, &out->t);
    if (rc)
        return rc;
    out->f = fopen(out->t.tmp, "wb");
    if (!out->f) {
        const int e = errno;
        rc = acdc_util_error(ACDC_UTIL_EIO, "cannot create '%s': %s", path, strerror(e));
        acdc_util_file_abort(out);
        return rc;
    }
    return ACDC_UTIL_OK;
}

int acdc_util_file_create_for(const char *path, acdc_util_file *out)
{
    int rc = acdc_util_file_create(path, out);
    if (!rc && fclose(out->f) != 0) {
        out->f = NULL;
        rc = acdc_util_error(ACDC_UTIL_EIO, "cannot create '%s': %s", path, strerror(errno));
        acdc_util_file_abort(out);
    }
    out->f = NULL;
    return rc;
}

int acdc_util_file_commit(acdc_util_file *out)
{
    int rc = ACDC_UTIL_OK;
    const char *path = out->t.dest;
    if (out->f) {
        if (fflush(out->f) != 0 || ferror(out->f))
            rc = acdc_util_error(ACDC_UTIL_EIO, "cannot write '%s': %s", path, strerror(errno));
        if (fclose(out->f) != 0 && !rc)
            rc = acdc_util_error(ACDC_UTIL_EIO, "cannot write '%s': %s", path, strerror(errno));
        out->f = NULL;
    }
    if (rc)
        acdc_util_output_cancel(&out->t);
    else
        rc = acdc_util_output_finish(&out->t);
    return rc;
}

void acdc_util_file_abort(acdc_util_file *out)
{
    if (out->f)
        fclose(out->f);
    out->f = NULL;
    acdc_util_output_cancel(&out->t);
}
