/* maildir-private: helpers shared by maildir.c, maildir-folder.c and
 * uidlist.c. Not for use outside the store. */
#ifndef POSTERN_MAILDIR_PRIVATE_H
#define POSTERN_MAILDIR_PRIVATE_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "fsutil.h"
#include "log.h"

/* Log without disturbing errno (callers report errno after logging). */
#define md_log(lvl, ...) do { int md_e_ = errno; log_msg(lvl, __VA_ARGS__); errno = md_e_; } while (0)
#define md_err(...) md_log(LOG_LVL_ERR, __VA_ARGS__)
#define md_warn(...) md_log(LOG_LVL_WARN, __VA_ARGS__)

/* the store's names for the shared helpers of fsutil.h */
#define md_pathf fs_pathf
#define md_now fs_now

/* Open the maildir DIR (O_DIRECTORY) without following a symlink at DIR
 * itself nor, when DIR is a Maildir++ folder "<root>/.F", at <root>: the
 * store works relative to this fd, so a directory swapped for a symlink
 * later is not followed either. Trailing slashes are ignored. Returns the
 * fd, or -1 (not logged; errno ENOENT missing, ELOOP/ENOTDIR a symlink or
 * not a directory). */
int md_open_dir(const char *dir);
/* Subdirectory NAME of DFD, the same way (O_DIRECTORY|O_NOFOLLOW). */
int md_open_sub(int dfd, const char *name);
/* Open (creating, mode 0600) the file NAME in DIR the same safe way:
 * DIR by md_open_dir, NAME with O_NOFOLLOW|O_CLOEXEC and FLAGS. fd, or -1
 * (logged, errno kept). */
int md_open_file(const char *dir, const char *name, int flags);
/* md_open_dir(DIR) then md_open_sub(SUB). fd or -1 (not logged). */
int md_open_dir_sub(const char *dir, const char *sub);

/* Replace DIR/NAME with DATA: write DIR/TMPNAME, fdatasync, rename, fsync
 * DIR (opened by md_open_dir; files O_NOFOLLOW). The caller serialises
 * writers (TMPNAME is fixed). 0 or -1 (logged). */
int md_write_atomic(const char *dir, const char *name, const char *tmpname, const void *data,
		    size_t len);

/* Read the whole (small) file DIR/NAME (DIR by md_open_dir, NAME
 * O_NOFOLLOW) into a malloc'd NUL-terminated buffer. 1 read, 0 absent
 * (ENOENT, also when DIR is missing), -1 error (logged). */
int md_read_file(const char *dir, const char *name, char **buf_r, size_t *len_r);

/* renameat() that never replaces an existing target (renameat2 NOREPLACE,
 * falling back to a check + rename where unsupported). */
int md_renameat_noreplace(int fromfd, const char *from, int tofd, const char *to);
int md_rename_noreplace(const char *from, const char *to);

#endif
