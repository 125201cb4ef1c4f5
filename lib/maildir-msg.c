/* maildir-msg: message names and flags, scanning new/ and cur/, and acting
 * on a message whose name another process may have just changed: every
 * operation on a vanished name finds the message's current name
 * (maildir_find) and retries. */
#include "maildir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maildir-private.h"
#include "strbuf.h"

#define FOLLOW_TRIES 10

/* --- names and flags --- */

static const char sysflag_chars[] = "DFPRST"; /* bit i is MAILDIR_F_* 1 << i */

size_t maildir_base_len(const char *name)
{
	return strcspn(name, ":");
}

unsigned maildir_name_flags(const char *name, uint32_t *keywords_r)
{
	unsigned flags = 0;
	uint32_t kw = 0;
	const char *p = name + maildir_base_len(name);
	if (strncmp(p, ":2,", 3) == 0) {
		for (p += 3; *p; p++) {
			const char *f = strchr(sysflag_chars, *p);
			if (f)
				flags |= 1u << (f - sysflag_chars);
			else if (*p >= 'a' && *p <= 'z')
				kw |= 1u << (*p - 'a');
		}
	}
	if (keywords_r)
		*keywords_r = kw;
	return flags;
}

off_t maildir_name_size(const char *name)
{
	size_t bl = maildir_base_len(name);
	for (size_t i = 0; i + 3 < bl; i++) {
		if (name[i] != ',' || name[i + 1] != 'S' || name[i + 2] != '=')
			continue;
		size_t j = i + 3;
		off_t v = 0;
		bool ok = j < bl;
		for (; ok && j < bl && name[j] != ','; j++) {
			if (name[j] < '0' || name[j] > '9' || __builtin_mul_overflow(v, 10, &v) ||
			    __builtin_add_overflow(v, name[j] - '0', &v))
				ok = false;
		}
		if (ok)
			return v;
	}
	return -1;
}

int maildir_name_build(char *out, size_t outlen, const char *base, size_t baselen,
		       unsigned flags, uint32_t keywords)
{
	if (baselen == 0 || memchr(base, '/', baselen) || memchr(base, ':', baselen) ||
	    memchr(base, '\0', baselen)) {
		errno = EINVAL;
		return -1;
	}
	char info[3 + 6 + 26 + 1] = ":2,";
	size_t n = 3;
	for (unsigned i = 0; i < 6; i++)
		if (flags & (1u << i))
			info[n++] = sysflag_chars[i];
	for (unsigned i = 0; i < 26; i++)
		if (keywords & (1u << i))
			info[n++] = (char)('a' + i);
	info[n] = '\0';
	return md_pathf(out, outlen, "%.*s%s", (int)baselen, base, info);
}

/* --- scanning --- */

int maildir_scan_names(const char *dir,
		       int (*fn)(void *ctx, int dirfd, const char *name, bool in_new), void *ctx)
{
	static const char *const subs[] = { "new", "cur" };
	int mfd = md_open_dir(dir);
	if (mfd < 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		int fd = md_open_sub(mfd, subs[i]);
		DIR *d = fd < 0 ? NULL : fdopendir(fd);
		if (!d) {
			int e = errno;
			if (fd >= 0)
				close(fd);
			close(mfd);
			errno = e;
			return -1;
		}
		for (;;) {
			errno = 0;
			struct dirent *de = readdir(d);
			if (!de) {
				if (errno) {
					md_err("readdir(%s/%s) failed: %m", dir, subs[i]);
					closedir(d);
					close(mfd);
					return -1;
				}
				break;
			}
			if (de->d_name[0] == '.' || (de->d_type != DT_REG && de->d_type != DT_UNKNOWN))
				continue;
			if (fn(ctx, dirfd(d), de->d_name, i == 0) < 0) {
				int e = errno;
				closedir(d);
				close(mfd);
				errno = e;
				return -1;
			}
		}
		closedir(d);
	}
	close(mfd);
	return 0;
}

struct scan_ctx {
	struct maildir_list *l;
	bool want_stat;
};

static int scan_add(void *vctx, int dfd, const char *name, bool in_new)
{
	struct scan_ctx *c = vctx;
	struct maildir_list *l = c->l;
	if (strlen(name) >= MAILDIR_NAME_MAX) {
		md_warn("ignoring over-long file name %.40s...", name);
		return 0;
	}
	struct maildir_entry e = { .in_new = in_new };
	snprintf(e.name, sizeof e.name, "%s", name);
	e.flags = maildir_name_flags(name, &e.keywords);
	e.size = maildir_name_size(name);
	if (c->want_stat || e.size < 0) {
		struct stat st;
		if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				return 0; /* moved meanwhile; the scan is not a snapshot */
			md_err("stat(%s) failed: %m", name);
			return -1;
		}
		if (!S_ISREG(st.st_mode))
			return 0;
		e.size = st.st_size;
		if (c->want_stat)
			e.mtime = st.st_mtime;
	}
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->e = xrealloc(l->e, l->cap * sizeof *l->e);
	}
	l->e[l->n++] = e;
	return 0;
}

int maildir_scan(const char *dir, bool want_stat, struct maildir_list *l)
{
	memset(l, 0, sizeof *l);
	struct scan_ctx c = { l, want_stat };
	if (maildir_scan_names(dir, scan_add, &c) < 0) {
		int e = errno;
		maildir_list_free(l);
		errno = e;
		return -1;
	}
	return 0;
}

void maildir_list_free(struct maildir_list *l)
{
	free(l->e);
	memset(l, 0, sizeof *l);
}

static bool valid_msg_name(const char *name, size_t len)
{
	return len > 0 && name[0] != '.' && !memchr(name, '/', len);
}

/* Look for BASE in the directory SFD (new/ or cur/; -1: missing): 1 found
 * (name_r set), 0 not there, -1 error. */
static int find_in(int sfd, const char *base, size_t baselen, char *name_r, size_t namelen)
{
	if (sfd < 0)
		return 0;
	int fd = openat(sfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* own offset */
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	int r = 0;
	struct dirent *de;
	while (r == 0 && (de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, base, baselen) != 0 ||
		    (de->d_name[baselen] != ':' && de->d_name[baselen] != '\0'))
			continue;
		r = md_pathf(name_r, namelen, "%s", de->d_name) < 0 ? -1 : 1;
	}
	closedir(d);
	return r;
}

/* new/ and cur/ of a maildir, opened without following symlinks. */
struct msgdirs {
	int fd[2]; /* new, cur; -1 when missing */
	bool held; /* the held pair (maildir_hold_dirs): not closed here */
};

/* The directories held by maildir_hold_dirs: open from the first use
 * until released. */
static struct {
	char dir[MAILDIR_PATH_MAX];
	bool on, open;
	struct msgdirs m;
} held;

static void msgdirs_close(struct msgdirs *m)
{
	if (m->held)
		return;
	for (int i = 0; i < 2; i++)
		if (m->fd[i] >= 0)
			close(m->fd[i]);
}

static int msgdirs_open_fresh(const char *dir, struct msgdirs *m);

/* 1 opened, 0 DIR missing, -1 error (a symlink: ELOOP/ENOTDIR; logged). */
static int msgdirs_open(const char *dir, struct msgdirs *m)
{
	if (!held.on || strcmp(dir, held.dir) != 0)
		return msgdirs_open_fresh(dir, m);
	if (!held.open) {
		int r = msgdirs_open_fresh(dir, &held.m);
		if (r <= 0)
			return r;
		held.open = true;
		held.m.held = true;
	}
	*m = held.m;
	return 1;
}

void maildir_hold_dirs(const char *dir)
{
	if (held.open) {
		held.m.held = false;
		msgdirs_close(&held.m);
	}
	held.open = false;
	held.on = dir && strlen(dir) < sizeof held.dir;
	if (held.on)
		memcpy(held.dir, dir, strlen(dir) + 1);
}

static int msgdirs_open_fresh(const char *dir, struct msgdirs *m)
{
	m->fd[0] = m->fd[1] = -1;
	m->held = false;
	int mfd = md_open_dir(dir);
	if (mfd < 0) {
		if (errno == ENOENT)
			return 0;
		md_err("open(%s) failed: %m", dir);
		return -1;
	}
	for (int i = 0; i < 2; i++) {
		m->fd[i] = md_open_sub(mfd, i == 0 ? "new" : "cur");
		if (m->fd[i] < 0 && errno != ENOENT) {
			md_err("open(%s/%s) failed: %m", dir, i == 0 ? "new" : "cur");
			int e = errno;
			msgdirs_close(m);
			close(mfd);
			errno = e;
			return -1;
		}
	}
	close(mfd);
	return 1;
}

static int find_dirs(const struct msgdirs *m, const char *base, size_t baselen,
		     char *name_r, size_t namelen, bool *in_new_r)
{
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < 2; i++) {
			int r = find_in(m->fd[i], base, baselen, name_r, namelen);
			if (r != 0) {
				if (r > 0 && in_new_r)
					*in_new_r = i == 0;
				return r;
			}
		}
	}
	return 0;
}

int maildir_find(const char *dir, const char *base, size_t baselen,
		 char *name_r, size_t namelen, bool *in_new_r)
{
	if (!valid_msg_name(base, baselen) || memchr(base, ':', baselen) || memchr(base, '\0', baselen)) {
		errno = EINVAL;
		return -1;
	}
	struct msgdirs m;
	int r = msgdirs_open(dir, &m);
	if (r <= 0)
		return r;
	r = find_dirs(&m, base, baselen, name_r, namelen, in_new_r);
	int e = errno;
	msgdirs_close(&m);
	errno = e;
	return r;
}

/* The loop under set_flags, remove and open_msg: try OP on the name we
 * have; when it has vanished, find the message's current name and retry. */
enum msg_op { OP_RENAME, OP_UNLINK, OP_OPEN };

static int msg_follow(const char *dir, char *name, size_t namelen, bool *in_new, enum msg_op op,
		      const char *target, int *fd_r)
{
	char path[MAILDIR_PATH_MAX];
	size_t bl = maildir_base_len(name);
	if (!valid_msg_name(name, strlen(name)) || (target && strlen(target) >= MAILDIR_NAME_MAX)) {
		errno = EINVAL;
		return -1;
	}
	struct msgdirs m;
	int r = msgdirs_open(dir, &m);
	if (r <= 0)
		return r;
	for (int tries = 0; tries < FOLLOW_TRIES; tries++) {
		int sfd = m.fd[*in_new ? 0 : 1];
		snprintf(path, sizeof path, "%s/%s/%s", dir, *in_new ? "new" : "cur", name); /* messages */
		struct stat st;
		if (sfd < 0) {
			errno = ENOENT;
			r = -1;
		} else if (op == OP_RENAME) {
			if (!*in_new && strcmp(name, target) == 0)
				r = fstatat(sfd, name, &st, AT_SYMLINK_NOFOLLOW);
			else if (m.fd[1] < 0) {
				errno = ENOENT; /* no cur/ */
				r = -1;
			} else
				r = renameat(sfd, name, m.fd[1], target);
		} else if (op == OP_UNLINK) {
			r = unlinkat(sfd, name, 0);
		} else {
			/* O_NONBLOCK: a planted FIFO must not hang us (no effect on files) */
			r = *fd_r = openat(sfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
			if (r >= 0 && (fstat(r, &st) < 0 || !S_ISREG(st.st_mode) ||
				       fcntl(r, F_SETFL, O_RDONLY) < 0)) {
				close(r);
				r = *fd_r = -1;
				errno = EINVAL;
				md_err("%s is not a regular file", path);
				goto fail;
			}
		}
		if (r >= 0) {
			msgdirs_close(&m);
			return 1;
		}
		if (errno != ENOENT) {
			md_err("%s(%s) failed: %m", op == OP_RENAME ? "rename" : op == OP_UNLINK ? "unlink" : "open",
			       path);
			goto fail;
		}
		char found[MAILDIR_NAME_MAX];
		r = find_dirs(&m, name, bl, found, sizeof found, in_new);
		if (r == 0) {
			msgdirs_close(&m);
			return 0;
		}
		if (r < 0 || md_pathf(name, namelen, "%s", found) < 0)
			goto fail;
	}
	errno = EAGAIN;
	md_err("message %.*s in %s keeps moving", (int)bl, name, dir);
fail:;
	int e = errno;
	msgdirs_close(&m);
	errno = e;
	return -1;
}

int maildir_set_flags(const char *dir, const char *name, bool in_new, unsigned flags,
		      uint32_t keywords, char *new_name_r, size_t namelen)
{
	char cur[MAILDIR_NAME_MAX], target[MAILDIR_NAME_MAX];
	if (md_pathf(cur, sizeof cur, "%s", name) < 0 ||
	    maildir_name_build(target, sizeof target, name, maildir_base_len(name), flags, keywords) < 0)
		return -1;
	int r = msg_follow(dir, cur, sizeof cur, &in_new, OP_RENAME, target, NULL);
	if (r > 0 && new_name_r && md_pathf(new_name_r, namelen, "%s", target) < 0)
		return -1;
	return r;
}

int maildir_remove(const char *dir, const char *name, bool in_new)
{
	char cur[MAILDIR_NAME_MAX];
	if (md_pathf(cur, sizeof cur, "%s", name) < 0)
		return -1;
	return msg_follow(dir, cur, sizeof cur, &in_new, OP_UNLINK, NULL, NULL);
}

int maildir_open_msg(const char *dir, char *name, size_t namelen, bool *in_new)
{
	int fd = -1;
	int r = msg_follow(dir, name, namelen, in_new, OP_OPEN, NULL, &fd);
	if (r == 0)
		errno = ENOENT;
	return r > 0 ? fd : -1;
}
