/* SPDX-License-Identifier: GPL-3.0-or-later */
/* util/output.h -- the files a command writes: declared, checked, locked, and replaced
 * only by complete new versions.
 *
 * A command declares its inputs and outputs once, before it reads anything:
 *
 *     const char *in[] = {model, data}, *out[] = {a.out};
 *     if ((rc = acdc_util_output_claim(in, 2, out, 1)))
 *         return cli_fail("infer", rc);
 *
 * acdc_util_output_claim() refuses an output that is one of the inputs -- the same file by
 * device and inode, so a symbolic or a hard link counts -- or another output, and locks
 * every output for the rest of the process's life (a second acdc writing the same file
 * refuses, naming the first one's PID).  The lock is an fcntl() lock on `.NAME.acdc-lock`
 * beside the output, removed on exit; one left by a killed process is not locked, so the
 * next run takes it over.
 *
 * Every file is then written through acdc_util_output_begin() / acdc_util_output_finish() (util/file.h
 * and util/h5.h do this): the bytes go to a temporary `.NAME.acdc-tmp.PID` in the
 * destination's folder, renamed over the destination only when complete.  A destination
 * that is not a regular file (a device, a FIFO) is never renamed over: the temporary is
 * made in $TMPDIR (default /tmp) and its bytes are copied into the destination, whose
 * write errors are reported ("No space left on device" for /dev/full).  A live
 * temporary is registered, so that the exit path and the signal handler (util/signal.h)
 * remove it; one left by a process killed with SIGKILL carries its PID in its name and
 * is removed the next time anything writes to the same destination.
 */
#ifndef ACDC_UTIL_OUTPUT_H
#define ACDC_UTIL_OUTPUT_H

#include <stddef.h>

/* Checks and locks a command's files.  inputs[0 .. n_inputs) and outputs[0 .. n_outputs)
 * are paths; NULL entries (an option not given) are skipped, and so are inputs that do
 * not exist (their reader reports them).  An input that is a folder counts itself; the
 * files read from it are to be declared as inputs too.  Errors: ACDC_UTIL_EUSAGE "the output
 * 'o' is the input 'i'..." (or another output) -- nothing was written; ACDC_UTIL_EIO "'o' is
 * being written by another acdc (PID n)..." or a lock that cannot be made.  Once called,
 * acdc_util_output_begin() accepts only the declared outputs and files directly inside them
 * (an output that is a folder) -- see acdc_util_output_strict(). */
int acdc_util_output_claim(const char *const *inputs, size_t n_inputs,
                           const char *const *outputs, size_t n_outputs);

/* With on = 1 (the acdc program, before a command runs), acdc_util_output_begin() refuses any
 * destination acdc_util_output_claim() was not told of, so that no command can write a file
 * without its checks.  A library caller leaves it off. */
void acdc_util_output_strict(int on);

/* A file being written (util/file.h and util/h5.h keep one). */
typedef struct acdc_util_output_tmp {
    char *dest;   /* the file replaced: the destination, a symbolic link resolved */
    char *tmp;    /* the temporary the bytes go to */
    int copy;     /* 1: dest is not a regular file; acdc_util_output_finish() copies into it */
    int slot;     /* the temporary's place in the registry, -1: none */
} acdc_util_output_tmp;

/* Prepares the temporary for path: checks it against the declared inputs (ACDC_UTIL_EUSAGE,
 * as acdc_util_output_claim()) and, in strict mode, the declared outputs; refuses a folder
 * (ACDC_UTIL_EIO); removes stale temporaries of dead processes beside it; registers the
 * temporary's name in t->tmp.  It does not create the file: the caller opens t->tmp
 * (fopen, H5Fcreate) and, on failure, calls acdc_util_output_cancel().  Errors also
 * ACDC_UTIL_EUSAGE for an empty name, ACDC_UTIL_ENOMEM, ACDC_UTIL_EIO for a full registry. */
int acdc_util_output_begin(const char *path, acdc_util_output_tmp *t);

/* The caller has written and closed t->tmp completely: fsyncs it and renames it over
 * t->dest, or, for a destination that is not a regular file, copies its bytes into it
 * and removes it.  On failure removes the temporary (the destination is the old file, or,
 * for a device, what was written before the error).  Frees t's strings either way. */
int acdc_util_output_finish(acdc_util_output_tmp *t);

/* Removes the temporary and frees t's strings; the destination is untouched.  Safe to
 * call twice, and on a zeroed t. */
void acdc_util_output_cancel(acdc_util_output_tmp *t);

/* For messages: the destination a live temporary named path is written for, else path
 * itself (what a library reports of the file it writes is the temporary's name). */
const char *acdc_util_output_name(const char *path);

/* Removes every registered temporary and every lock file this process holds, with
 * unlink() only: async-signal-safe, for the signal handler and the exit path. */
void acdc_util_output_cleanup(void);

#endif
