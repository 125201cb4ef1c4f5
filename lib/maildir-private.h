/* maildir-private: helpers shared by maildir.c, maildir-folder.c and
 * uidlist.c. Not for use outside the store. */
#ifndef POSTERN_MAILDIR_PRIVATE_H
#define POSTERN_MAILDIR_PRIVATE_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "log.h"

/* Log without disturbing errno (callers report errno after logging). */
#define md_log(lvl, ...) do { int md_e_ = errno; log_msg(lvl, __VA_ARGS__); errno = md_e_; } while (0)
#define md_err(...) md_log(LOG_LVL_ERR, __VA_ARGS__)
#define md_warn(...) md_log(LOG_LVL_WARN, __VA_ARGS__)

/* snprintf into out; -1 with errno ENAMETOOLONG when it does not fit. */
int md_pathf(char *out, size_t outlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Seconds since the epoch: $POSTERN_NOW when set (tests), else time(). */
time_t md_now(void);

/* Replace DIR/NAME with DATA: write DIR/TMPNAME, fdatasync, rename, fsync
 * DIR. The caller serialises writers (TMPNAME is fixed). 0 or -1 (logged). */
int md_write_atomic(const char *dir, const char *name, const char *tmpname, const void *data,
		    size_t len);

/* Read a whole (small) file into a malloc'd NUL-terminated buffer.
 * 1 read, 0 absent (ENOENT), -1 error (logged). */
int md_read_file(const char *path, char **buf_r, size_t *len_r);

/* rename() that never replaces an existing target (renameat2 NOREPLACE,
 * falling back to a check + rename where unsupported). */
int md_rename_noreplace(const char *from, const char *to);

#endif
