/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz/fuzz_common.h -- helpers shared by the libFuzzer targets.
 *
 * The readers under test take a path, so each input is written to an anonymous
 * in-memory file (memfd) and handed over as /proc/self/fd/N: no disk traffic, nothing
 * left behind.  Properties that must hold for every input are checked with FUZZ_CHECK,
 * which aborts (libFuzzer then saves the input as a crash artifact).
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define FUZZ_CHECK(cond, ...)                                                       \
    do {                                                                            \
        if (!(cond)) {                                                              \
            fprintf(stderr, "fuzz property failed: %s (%s:%d): ", #cond, __FILE__,  \
                    __LINE__);                                                      \
            fprintf(stderr, __VA_ARGS__);                                           \
            fputc('\n', stderr);                                                    \
            abort();                                                                \
        }                                                                           \
    } while (0)

/* An in-memory file holding len bytes of data; path receives "/proc/self/fd/N".
 * Returns the descriptor (caller closes) or -1. */
static inline int fuzz_memfile(const char *name, const uint8_t *data, size_t len,
                               char *path, size_t size)
{
    int fd = memfd_create(name, 0);
    if (fd < 0)
        return -1;
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, data + done, len - done);
        if (w <= 0) {
            close(fd);
            return -1;
        }
        done += (size_t)w;
    }
    snprintf(path, size, "/proc/self/fd/%d", fd);
    return fd;
}

/* 1 if the recorded message is one non-empty line. */
static inline int fuzz_one_line(const char *msg)
{
    return msg && *msg && !strchr(msg, '\n');
}

#endif
