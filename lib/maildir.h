/* maildir: one user's Maildir++ store.
 *
 * Layout: <mail_root>/<domain>/<local>/{cur,new,tmp} is INBOX; each folder
 * is a sibling directory ".A.B" (IMAP "A/B") holding its own cur/new/tmp
 * and an empty "maildirfolder" file. Messages are stored exactly as they
 * travel on the wire: CRLF line ends, so a file's size is its RFC822.SIZE
 * and POP3 octet count. File names: <base>[:2,<flags>] where base is
 * "<sec>.M<usec>P<pid>R<rand>Q<n>.<host>,S=<size>".
 *
 * Delivery: tmp/<base> opened O_EXCL|O_NOFOLLOW, written, fsync'd, closed
 * (checked), link()ed to new/<base>, new/ fsync'd, tmp unlinked. A crash at
 * any instant leaves either no message or the whole message visible.
 *
 * Symlinks: nothing at or below a maildir DIR is followed (DIR itself, the
 * user's maildir above a folder, cur/ new/ tmp/, messages, list, lock and
 * subscription files): every function taking a DIR fails instead (errno
 * ELOOP or ENOTDIR, -1), a symlinked ".Folder" is not listed. A FIFO or
 * other non-regular file where a message or store file belongs fails with
 * EINVAL instead of blocking. */
#ifndef POSTERN_MAILDIR_H
#define POSTERN_MAILDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "config.h"

#define MAILDIR_PATH_MAX 1024
#define MAILDIR_NAME_MAX 256

/* System flags as maildir info letters. */
enum {
	MAILDIR_F_DRAFT = 1 << 0,   /* D */
	MAILDIR_F_FLAGGED = 1 << 1, /* F */
	MAILDIR_F_PASSED = 1 << 2,  /* P */
	MAILDIR_F_REPLIED = 1 << 3, /* R  (IMAP \Answered) */
	MAILDIR_F_SEEN = 1 << 4,    /* S */
	MAILDIR_F_TRASHED = 1 << 5, /* T  (IMAP \Deleted) */
};

/* <mail_root>/<domain>/<local>. local/domain must come from
 * users_parse_name (already validated). Returns 0 or -1 (too long). */
int maildir_user_path(const struct config *cfg, const char *local, const char *domain,
		      char *out, size_t outlen);

/* Check DIR (as made by maildir_user_path) below cfg->mail_root: each of
 * <domain>, <local> (and anything deeper) must be a real directory, not a
 * symlink, or be absent (maildir_create makes it). mail_root itself and the
 * path above it may be symlinks. Call before maildir_create and before the
 * first use of a user's maildir (delivery, login). 0 ok, or -1 (logged;
 * errno ELOOP for a symlink, ENOTDIR for another file, EINVAL when DIR is
 * not under mail_root). The store itself never follows a symlink at or
 * below DIR (see maildir.c); this covers the components above it. */
int maildir_check_user_dir(const struct config *cfg, const char *dir);

/* Create DIR and its cur/ new/ tmp/ (mode 0700, parents 0700 as needed);
 * idempotent. Returns 0 or -1 (logged). */
int maildir_create(const char *dir);

/* A fresh unique base name (no ,S= part): time, microseconds (6 digits,
 * so names sort by time), pid, 64 random bits, a per-process counter, and
 * the host name escaped by maildir_host_escape. 0, or -1 when too long. */
int maildir_unique_base(char *out, size_t outlen);
/* HOST as used in unique names: '/', ':', ',' and bytes outside 0x21..0x7e
 * become \ooo (octal, so "/" is \057, ":" is \072); cut to at most 64
 * bytes, never inside an escape. */
void maildir_host_escape(const char *host, char *out, size_t outlen);

/* A message being written into DIR/tmp/. */
struct maildir_tmp {
	int fd;
	char dir[MAILDIR_PATH_MAX];
	char base[MAILDIR_NAME_MAX];    /* unique part, without ,S= */
	char path[MAILDIR_PATH_MAX];    /* DIR/tmp/<base> */
	off_t size;
	bool failed;                    /* a write failed: commit will refuse */
	int err;                        /* errno of the first failure */
};

/* Open a new tmp file in DIR (creating the maildir when missing). Also
 * removes tmp/ files older than 36 hours by mtime (now from $POSTERN_NOW
 * when set, for tests); tmp/ is normally near empty, so it is just scanned.
 * Returns 0 or -1 (errno set, logged). Whatever it returns, *t is set up so
 * that maildir_tmp_abort(t) is safe. */
int maildir_tmp_open(struct maildir_tmp *t, const char *dir);
/* Append bytes; errors are remembered and reported by commit. */
int maildir_tmp_write(struct maildir_tmp *t, const void *buf, size_t len);
/* fsync and close the tmp file (idempotent). Returns 0 or -1 (errno). */
int maildir_tmp_finish(struct maildir_tmp *t);
/* Put a finished copy of SRC into DIR/tmp too (hard link; copy when on
 * another file system or links are unsupported). SRC is fsync'd first when
 * still open. DST is then finished and ready to commit. 0 or -1. */
int maildir_tmp_clone(const struct maildir_tmp *src, const char *dir, struct maildir_tmp *dst);
/* Finish if needed, link into new/<base>,S=<size> (rename where links are
 * unsupported), fsync new/, unlink the tmp file. name_r (may be NULL; give
 * MAILDIR_NAME_MAX bytes) gets the file name in new/. Returns 0, or -1 with
 * the tmp file removed and nothing visible in new/. */
int maildir_tmp_commit(struct maildir_tmp *t, char *name_r, size_t namelen);
/* Like commit but into cur/ with the given flags (IMAP APPEND) and mtime
 * set to internal date when mtime != 0. */
int maildir_tmp_commit_cur(struct maildir_tmp *t, unsigned flags, uint32_t keywords,
			   time_t mtime, char *name_r, size_t namelen);
/* Remove the tmp file (any state). */
void maildir_tmp_abort(struct maildir_tmp *t);

/* Deliver a whole message in memory into DIR/new. */
int maildir_deliver(const char *dir, const void *msg, size_t len, char *name_r, size_t namelen);

/* Undo a committed delivery (remove new/NAME, following a move to cur/;
 * fsync new/). 0 (removed or already gone) or -1. */
int maildir_uncommit(const char *dir, const char *name);

/* --- names and flags --- */

/* Length of the base part of a file name (up to ":2," or ":"). */
size_t maildir_base_len(const char *name);
/* System flags (MAILDIR_F_*) from the info part; keywords a..z as bits
 * 0..25 in *keywords_r (may be NULL). */
unsigned maildir_name_flags(const char *name, uint32_t *keywords_r);
/* Size from ",S=<n>" in the base; -1 when absent. */
off_t maildir_name_size(const char *name);
/* "<base>:2,<flags>" with flags in ASCII order (DFPRST then a..z). */
int maildir_name_build(char *out, size_t outlen, const char *base, size_t baselen,
		       unsigned flags, uint32_t keywords);

/* --- scanning and changing messages --- */

struct maildir_entry {
	char name[MAILDIR_NAME_MAX]; /* file name within new/ or cur/ */
	bool in_new;
	unsigned flags;
	uint32_t keywords;
	off_t size;                  /* from S= (stat when absent) */
	time_t mtime;                /* 0 unless scanned with stat */
};

struct maildir_list {
	struct maildir_entry *e;
	size_t n, cap;
};

/* List new/ and cur/ of DIR (not tmp/, not dot files). With want_stat, each
 * file is stat()ed for size and mtime. *l is filled from scratch (free old
 * contents first with maildir_list_free). Not a snapshot: a file renamed
 * during the scan may be missed or seen twice (see maildir_find). Returns 0,
 * or -1 (DIR, new/ or cur/ missing: ENOENT) with *l empty. */
int maildir_scan(const char *dir, bool want_stat, struct maildir_list *l);
void maildir_list_free(struct maildir_list *l);

/* The readdir loop under maildir_scan: call FN for each message file name
 * in new/ (in_new) and then cur/ of DIR; DIRFD is the open subdirectory (for
 * fstatat). No stat() is done. FN returning < 0 stops the scan with -1.
 * Returns 0 or -1 (errno; ENOENT when DIR, new/ or cur/ is missing). */
int maildir_scan_names(const char *dir,
		       int (*fn)(void *ctx, int dirfd, const char *name, bool in_new), void *ctx);

/* Find the current name of the message with base BASE (its flags may have
 * been changed by another process). Reads new/ then cur/ (a message only
 * moves that way), twice before saying "gone", since a concurrent rename
 * can hide a file from one readdir. Returns 1 found, 0 gone, -1 error. */
int maildir_find(const char *dir, const char *base, size_t baselen,
		 char *name_r, size_t namelen, bool *in_new_r);

/* Keep DIR's new/ and cur/ open from their next use by maildir_find,
 * maildir_set_flags, maildir_remove or maildir_open_msg on DIR (the same
 * string) until the next call, instead of opening them for each message:
 * for a command that works through many messages of one mailbox. NULL
 * closes them. A directory replaced meanwhile is not noticed: hold them
 * for one command at a time. */
void maildir_hold_dirs(const char *dir);
/* Set flags: rename new/NAME or cur/NAME to cur/<base>:2,<flags>. Follows
 * a concurrent rename (via maildir_find). new_name_r gets the result.
 * Returns 1 done, 0 message gone, -1 error. Moving new->cur is this with
 * the flags unchanged. */
int maildir_set_flags(const char *dir, const char *name, bool in_new, unsigned flags,
		      uint32_t keywords, char *new_name_r, size_t namelen);

/* Remove a message (follows concurrent renames). 1 removed, 0 gone, -1 error. */
int maildir_remove(const char *dir, const char *name, bool in_new);

/* Open a message for reading (follows a concurrent rename; updates
 * name/in_new when it moved). Returns fd or -1 (errno ENOENT: gone). */
int maildir_open_msg(const char *dir, char *name, size_t namelen, bool *in_new);

/* fsync a directory (after creating, linking or renaming in it). EINVAL
 * from file systems that cannot sync directories counts as success. */
int maildir_fsync_dir(const char *dir);

/* --- locks --- */

/* flock() DIR/NAME (created 0600). Exclusive; wait or fail with EWOULDBLOCK.
 * Released on close or process death (so SIGKILL never leaves it stale).
 * Returns the fd (close it to unlock) or -1. The file is never removed. */
int maildir_lock(const char *dir, const char *name, bool wait);

/* --- folders (Maildir++) --- */

/* IMAP mailbox name (modified UTF-7 as sent by the client, '/' hierarchy)
 * → directory. "INBOX" (any case) is ROOT itself; "A/B" is ROOT/.A.B, a '.'
 * inside a name part is stored as "&AC4-" (so ".hidden" is fine: it is
 * ".&AC4-hidden" on disk). A first part "inbox" in any case is "INBOX"
 * ("inbox/x" is ROOT/.INBOX.x). Rejects (errno EINVAL) names that are
 * empty, start or end with '/', have empty parts, "." or ".." parts,
 * control characters or 8-bit bytes, bad modified UTF-7 (an '&' not
 * starting "&-" or a base64 run ending in '-', or a run encoding printable
 * ASCII such as the literal "&AC4-"), or longer than
 * MAILDIR_FOLDER_NAME_MAX or than a directory name can be. Returns 0 or -1. */
#define MAILDIR_FOLDER_NAME_MAX 200
int maildir_folder_path(const char *root, const char *name, char *out, size_t outlen);
/* Directory entry name (".A.B") → IMAP name ("A/B"); 0 or -1 (not a folder). */
int maildir_folder_name(const char *dirent, char *out, size_t outlen);
/* Create folder (its maildir and maildirfolder file). Parents are not
 * created ("A/B" may exist without "A"). 1 created, 0 exists (INBOX always
 * does), -1 error/bad name. */
int maildir_folder_create(const char *root, const char *name);
/* Delete folder (the whole directory, not its children): renamed away to
 * ROOT/..postern-trash-<unique> at once, then removed. INBOX cannot be
 * deleted (-1, EPERM). 1, 0 absent, -1. */
int maildir_folder_delete(const char *root, const char *name);
/* Rename folder and its children ("A" → "C" moves "A/B" → "C/B" too).
 * Renaming INBOX moves its messages into the new folder (RFC 3501);
 * renaming a folder under itself is refused (EINVAL). One rename() per
 * directory, never replacing an existing one.
 * 1 done, 0 source absent, -2 target exists, -1 error. */
int maildir_folder_rename(const char *root, const char *from, const char *to);
/* All folders' IMAP names (not INBOX), sorted. *names_r is one malloc'd
 * array of malloc'd strings; free with maildir_names_free. */
int maildir_folder_list(const char *root, char ***names_r, size_t *n_r);
void maildir_names_free(char **names, size_t n);

/* Subscriptions: ROOT/subscriptions, one IMAP name a line (Courier/Dovecot).
 * Read returns the valid names in file order (duplicates and invalid lines
 * skipped); free with maildir_names_free. 0 or -1. */
int maildir_subscriptions_read(const char *root, char ***names_r, size_t *n_r);
/* Add (on) or remove NAME (validated as by maildir_folder_path; the folder
 * need not exist). Under ROOT/subscriptions.lock; the file is replaced
 * atomically and only when it changes. 0 or -1 (bad name: EINVAL). */
int maildir_subscribe(const char *root, const char *name, bool on);

#endif
