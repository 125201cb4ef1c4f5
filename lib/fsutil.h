/* fsutil: the few file-system helpers every durable writer needs (store,
 * queue, cache), in one place. */
#ifndef POSTERN_FSUTIL_H
#define POSTERN_FSUTIL_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

/* write() all of BUF, retrying on EINTR. 0, or -1 with errno (ENOSPC when
 * write returns 0). */
int fs_write_all(int fd, const void *buf, size_t len);

/* snprintf into OUT; -1 with errno ENAMETOOLONG when it does not fit. */
int fs_pathf(char *out, size_t outlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Seconds since the epoch: $POSTERN_NOW when set (tests inject the clock),
 * else time(). */
time_t fs_now(void);

/* Open a small state file (uid list companions: modseq, recent, keywords)
 * for reading, never through a symlink and never blocking on a FIFO.
 * 1: *f_r is open; 0: absent, or not a regular file (logged: whatever was
 * planted there is replaced by the next write's rename); -1: error
 * (logged). */
int fs_open_state(const char *path, FILE **f_r);

#endif
