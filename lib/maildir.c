/* maildir: paths, creation, delivery, locks, and the file helpers of the
 * store. Names, flags, scanning and following renames are in
 * maildir-msg.c; folders and subscriptions in maildir-folder.c.
 *
 * Every change another process can see is one rename(), link() or unlink():
 * a message appears whole in new/ (after its data and then new/ are
 * fsync'd), moves new/ -> cur/ and changes flags by renaming within cur/.
 * Any name we hold may therefore be stale; functions that act on a message
 * retry with maildir_find() when its name has vanished.
 *
 * Symlinks: nothing at or below a user's maildir is followed. Every
 * operation opens the maildir with md_open_dir (O_NOFOLLOW on DIR, and on
 * <root> for a folder "<root>/.F") and cur/ new/ tmp/ with md_open_sub,
 * then works relative to those fds (openat, linkat, renameat, unlinkat,
 * fdopendir), so a directory replaced by a symlink between a check and its
 * use is never followed. Files are opened O_NOFOLLOW. What remains: the
 * components above DIR (<mail_root>/<domain>/<local> for a folder) are
 * resolved by the kernel; maildir_check_user_dir checks them once (login,
 * delivery), so a swap there after the check would be followed. */
#include "maildir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "fsutil.h"
#include "maildir-private.h"
#include "strbuf.h"

#define TMP_MAX_AGE (36 * 3600)

/* --- shared helpers (maildir-private.h) --- */

/* Strip trailing slashes of DIR into BUF; the last component's start. */
static const char *dir_base(const char *dir, char *buf, size_t len)
{
	if (md_pathf(buf, len, "%s", dir) < 0)
		return NULL;
	size_t n = strlen(buf);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	char *slash = strrchr(buf, '/');
	return slash ? slash + 1 : buf;
}

int md_open_sub(int dfd, const char *name)
{
	return openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

int md_open_dir(const char *dir)
{
	char buf[MAILDIR_PATH_MAX];
	const char *base = dir_base(dir, buf, sizeof buf);
	if (!base)
		return -1;
	bool folder = base[0] == '.' && strcmp(base, ".") != 0 && strcmp(base, "..") != 0;
	if (!folder || base == buf)
		return open(buf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	/* "<root>/.F": <root> (the user's maildir) must not be a symlink either */
	char *slash = (char *)base - 1;
	*slash = '\0';
	int pfd = open(buf[0] ? buf : "/", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	*slash = '/';
	if (pfd < 0)
		return -1;
	int fd = md_open_sub(pfd, base);
	int e = errno;
	close(pfd);
	errno = e;
	return fd;
}

int md_open_dir_sub(const char *dir, const char *sub)
{
	int dfd = md_open_dir(dir);
	if (dfd < 0)
		return -1;
	int fd = md_open_sub(dfd, sub);
	int e = errno;
	close(dfd);
	errno = e;
	return fd;
}

int maildir_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		md_err("open(%s) failed: %m", dir);
		return -1;
	}
	if (fsync(fd) < 0 && errno != EINVAL) {
		md_err("fsync(%s) failed: %m", dir);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int md_write_atomic(const char *dir, const char *name, const char *tmpname, const void *data,
		    size_t len)
{
	int dfd = md_open_dir(dir);
	if (dfd < 0) {
		md_err("open(%s) failed: %m", dir);
		return -1;
	}
	int fd = openat(dfd, tmpname, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		md_err("open(%s/%s) failed: %m", dir, tmpname);
		close(dfd);
		return -1;
	}
	if (fs_write_all(fd, data, len) < 0 || fdatasync(fd) < 0) {
		md_err("write(%s/%s) failed: %m", dir, tmpname);
		close(fd);
		goto fail;
	}
	if (close(fd) < 0) {
		md_err("close(%s/%s) failed: %m", dir, tmpname);
		goto fail;
	}
	if (renameat(dfd, tmpname, dfd, name) < 0) {
		md_err("rename(%s/%s, %s) failed: %m", dir, tmpname, name);
		goto fail;
	}
	if (fsync(dfd) < 0 && errno != EINVAL) {
		md_err("fsync(%s) failed: %m", dir);
		close(dfd);
		return -1;
	}
	close(dfd);
	return 0;
fail:;
	int e = errno;
	unlinkat(dfd, tmpname, 0);
	close(dfd);
	errno = e;
	return -1;
}

int md_read_file(const char *dir, const char *name, char **buf_r, size_t *len_r)
{
	char path[MAILDIR_PATH_MAX];
	*buf_r = NULL;
	*len_r = 0;
	snprintf(path, sizeof path, "%s/%s", dir, name); /* for messages only */
	int dfd = md_open_dir(dir);
	/* O_NONBLOCK: a planted FIFO must not hang us (no effect on files) */
	int fd = dfd < 0 ? -1 : openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (dfd >= 0) {
		int e = errno;
		close(dfd);
		errno = e;
	}
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		md_err("open(%s) failed: %m", path);
		return -1;
	}
	struct strbuf sb = STRBUF_INIT;
	struct stat st;
	bool stat_ok = fstat(fd, &st) == 0;
	if (!stat_ok || !S_ISREG(st.st_mode)) {
		if (stat_ok)
			errno = EINVAL;
		md_err("%s: %s", path, stat_ok ? "not a regular file" : strerror(errno));
		close(fd);
		return -1;
	}
	if (st.st_size > 0)
		sb_grow(&sb, (size_t)st.st_size);
	for (;;) {
		sb_grow(&sb, 65536);
		ssize_t n = read(fd, sb.s + sb.len, sb.cap - sb.len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			md_err("read(%s) failed: %m", path);
			close(fd);
			sb_free(&sb);
			return -1;
		}
		if (n == 0)
			break;
		sb.len += (size_t)n;
	}
	sb.s[sb.len] = '\0';
	close(fd);
	*len_r = sb.len;
	*buf_r = sb.s;
	return 1;
}

int md_renameat_noreplace(int fromfd, const char *from, int tofd, const char *to)
{
	if (renameat2(fromfd, from, tofd, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
		return -1;
	struct stat st;
	if (fstatat(tofd, to, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		errno = EEXIST;
		return -1;
	}
	return renameat(fromfd, from, tofd, to);
}

int md_rename_noreplace(const char *from, const char *to)
{
	return md_renameat_noreplace(AT_FDCWD, from, AT_FDCWD, to);
}

/* --- paths and creation --- */

int maildir_user_path(const struct config *cfg, const char *local, const char *domain,
		      char *out, size_t outlen)
{
	return md_pathf(out, outlen, "%s/%s/%s", cfg->mail_root, domain, local);
}

int maildir_check_user_dir(const struct config *cfg, const char *dir)
{
	char path[MAILDIR_PATH_MAX];
	size_t rl = strlen(cfg->mail_root);
	while (rl > 1 && cfg->mail_root[rl - 1] == '/')
		rl--;
	if (md_pathf(path, sizeof path, "%s", dir) < 0 || strncmp(path, cfg->mail_root, rl) != 0 ||
	    path[rl] != '/') {
		errno = EINVAL;
		md_err("%s is not under mail_root %s", dir, cfg->mail_root);
		return -1;
	}
	/* each component below mail_root, outermost first */
	for (char *p = path + rl + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		struct stat st;
		if (p > path + rl + 1 && p[-1] != '/') {
			if (lstat(path, &st) < 0) {
				if (errno == ENOENT)
					return 0; /* maildir_create makes the rest */
				md_err("lstat(%s) failed: %m", path);
				return -1;
			}
			if (!S_ISDIR(st.st_mode)) {
				errno = S_ISLNK(st.st_mode) ? ELOOP : ENOTDIR;
				md_err("%s is %s; refusing to use it", path,
				       S_ISLNK(st.st_mode) ? "a symlink" : "not a directory");
				return -1;
			}
		}
		if (c == '\0')
			return 0;
		*p = c;
	}
}

/* mkdir that fsyncs the parent when it created something; EEXIST is fine. */
static int mkdir_synced(const char *path)
{
	if (mkdir(path, 0700) < 0)
		return errno == EEXIST ? 0 : -1;
	char parent[MAILDIR_PATH_MAX];
	snprintf(parent, sizeof parent, "%s", path);
	char *slash = strrchr(parent, '/');
	if (slash == parent)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		snprintf(parent, sizeof parent, ".");
	return maildir_fsync_dir(parent);
}

static int mkdir_parents(const char *dir)
{
	char buf[MAILDIR_PATH_MAX];
	if (md_pathf(buf, sizeof buf, "%s", dir) < 0)
		return -1;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		int r = mkdir_synced(buf);
		*p = '/';
		if (r < 0)
			return -1;
	}
	return mkdir_synced(buf);
}

int maildir_create(const char *dir)
{
	static const char *const subs[] = { "cur", "new", "tmp" };
	if (mkdir_synced(dir) < 0 && (errno != ENOENT || mkdir_parents(dir) < 0)) {
		md_err("mkdir(%s) failed: %m", dir);
		return -1;
	}
	int dfd = md_open_dir(dir);
	if (dfd < 0) {
		md_err("open(%s) failed: %m", dir);
		return -1;
	}
	for (size_t i = 0; i < 3; i++) {
		int fd = -1;
		if (mkdirat(dfd, subs[i], 0700) == 0) {
			if (fsync(dfd) < 0 && errno != EINVAL)
				goto fail;
		} else if (errno != EEXIST) {
			goto fail;
		}
		fd = md_open_sub(dfd, subs[i]); /* an existing symlink is refused */
		if (fd < 0)
			goto fail;
		close(fd);
		continue;
	fail:
		md_err("mkdir(%s/%s) failed: %m", dir, subs[i]);
		close(dfd);
		return -1;
	}
	close(dfd);
	return 0;
}

/* --- unique names --- */

void maildir_host_escape(const char *host, char *out, size_t outlen)
{
	size_t o = 0, max = outlen > 65 ? 64 : (outlen ? outlen - 1 : 0);
	for (const unsigned char *p = (const unsigned char *)host; *p; p++) {
		char esc[5];
		size_t n;
		if (*p == '/' || *p == ':' || *p == ',' || *p < 0x21 || *p > 0x7e) {
			snprintf(esc, sizeof esc, "\\%03o", *p);
			n = 4;
		} else {
			esc[0] = (char)*p;
			n = 1;
		}
		if (o + n > max)
			break;
		memcpy(out + o, esc, n);
		o += n;
	}
	if (outlen)
		out[o] = '\0';
}

int maildir_unique_base(char *out, size_t outlen)
{
	static char host[65];
	static unsigned long counter;
	if (!host[0]) {
		char h[256];
		if (gethostname(h, sizeof h) < 0 || !h[0])
			snprintf(h, sizeof h, "localhost");
		h[sizeof h - 1] = '\0';
		maildir_host_escape(h, host, sizeof host);
	}
	struct timeval tv;
	gettimeofday(&tv, NULL);
	unsigned long long r;
	if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
		r = ((unsigned long long)tv.tv_usec << 32) ^ (unsigned long long)(uintptr_t)&r ^ counter;
	counter++;
	return md_pathf(out, outlen, "%lld.M%06ldP%ldR%016llxQ%lu.%s", (long long)tv.tv_sec,
			(long)tv.tv_usec, (long)getpid(), r, counter, host);
}

/* --- delivery --- */

static void tmp_fail(struct maildir_tmp *t, int err)
{
	if (!t->failed)
		md_err("writing %s failed: %s", t->path, strerror(err));
	t->failed = true;
	if (!t->err)
		t->err = err;
}

/* Remove files older than 36 hours from tmp/ (TFD, reopened to read). -1
 * (errno) when tmp/ is unreadable. */
static int tmp_cleanup(const char *dir, int tfd)
{
	char path[MAILDIR_PATH_MAX];
	snprintf(path, sizeof path, "%s/tmp", dir); /* for messages */
	int fd = openat(tfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	time_t cutoff = md_now() - TMP_MAX_AGE;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISDIR(st.st_mode) ||
		    st.st_mtime >= cutoff)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == 0)
			log_info("removed stale %s/%s", path, de->d_name);
		else if (errno != ENOENT)
			md_warn("unlink(%s/%s) failed: %m", path, de->d_name);
	}
	closedir(d);
	return 0;
}

static bool link_unsupported(int err)
{
	return err == EXDEV || err == EPERM || err == EMLINK || err == ENOSYS || err == EOPNOTSUPP;
}

/* DIR/SUB opened by md_open_dir_sub; logged on failure. */
static int open_sub_logged(const char *dir, const char *sub)
{
	int fd = md_open_dir_sub(dir, sub);
	if (fd < 0)
		md_err("open(%s/%s) failed: %m", dir, sub);
	return fd;
}

/* Create DIR/tmp/<unique>: opened O_EXCL (src NULL) or as a hard link to
 * SRC's tmp file. Creates the maildir when it or tmp/ is missing. */
static int tmp_create(struct maildir_tmp *t, const char *dir, const struct maildir_tmp *src)
{
	memset(t, 0, sizeof *t);
	t->fd = -1;
	if (md_pathf(t->dir, sizeof t->dir, "%s", dir) < 0) {
		md_err("maildir path too long: %s", dir);
		return -1;
	}
	int tfd = md_open_dir_sub(dir, "tmp");
	if (tfd < 0 && errno == ENOENT) {
		if (maildir_create(dir) < 0)
			return -1;
		tfd = md_open_dir_sub(dir, "tmp");
	}
	if (tfd < 0) {
		md_err("open(%s/tmp) failed: %m", dir);
		return -1;
	}
	tmp_cleanup(dir, tfd);
	int sfd = -1;
	if (src && (sfd = open_sub_logged(src->dir, "tmp")) < 0) {
		close(tfd);
		return -1;
	}
	for (int tries = 0; tries < 10; tries++) {
		if (maildir_unique_base(t->base, sizeof t->base) < 0 ||
		    md_pathf(t->path, sizeof t->path, "%s/tmp/%s", dir, t->base) < 0) {
			t->path[0] = '\0';
			md_err("tmp path too long in %s", dir);
			errno = ENAMETOOLONG;
			goto fail;
		}
		if (src) {
			if (linkat(sfd, src->base, tfd, t->base, 0) == 0)
				goto done;
		} else {
			t->fd = openat(tfd, t->base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
			if (t->fd >= 0)
				goto done;
		}
		if (errno != EEXIST)
			break;
	}
	if (src && link_unsupported(errno)) {
		t->path[0] = '\0';
		goto fail; /* the caller copies instead */
	}
	md_err("%s(%s) failed: %m", src ? "link" : "open", t->path);
	t->path[0] = '\0';
fail:;
	int e = errno;
	if (sfd >= 0)
		close(sfd);
	close(tfd);
	errno = e;
	return -1;
done:
	if (sfd >= 0)
		close(sfd);
	close(tfd);
	return 0;
}

int maildir_tmp_open(struct maildir_tmp *t, const char *dir)
{
	return tmp_create(t, dir, NULL);
}

int maildir_tmp_write(struct maildir_tmp *t, const void *buf, size_t len)
{
	if (!t->failed && t->fd < 0)
		tmp_fail(t, EBADF);
	if (!t->failed) {
		off_t size;
		if (len > (size_t)INT64_MAX || __builtin_add_overflow(t->size, (off_t)len, &size))
			tmp_fail(t, EFBIG);
		else if (fs_write_all(t->fd, buf, len) < 0)
			tmp_fail(t, errno);
		else
			t->size = size;
	}
	if (t->failed) {
		errno = t->err;
		return -1;
	}
	return 0;
}

int maildir_tmp_finish(struct maildir_tmp *t)
{
	if (t->fd >= 0) {
		if (!t->failed && fsync(t->fd) < 0)
			tmp_fail(t, errno);
		if (close(t->fd) < 0)
			tmp_fail(t, errno);
		t->fd = -1;
	}
	if (t->failed) {
		errno = t->err;
		return -1;
	}
	return 0;
}

static int copy_file(const struct maildir_tmp *src, struct maildir_tmp *dst)
{
	int sfd = open_sub_logged(src->dir, "tmp");
	if (sfd < 0)
		return -1;
	int in = openat(sfd, src->base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	close(sfd);
	if (in < 0) {
		md_err("open(%s) failed: %m", src->path);
		return -1;
	}
	char buf[65536];
	for (;;) {
		ssize_t n = read(in, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			tmp_fail(dst, errno);
			break;
		}
		if (n == 0 || maildir_tmp_write(dst, buf, (size_t)n) < 0)
			break;
	}
	close(in);
	return maildir_tmp_finish(dst);
}

int maildir_tmp_clone(const struct maildir_tmp *src, const char *dir, struct maildir_tmp *dst)
{
	if (src->failed || !src->path[0]) {
		memset(dst, 0, sizeof *dst);
		dst->fd = -1;
		errno = src->failed ? src->err : EINVAL;
		return -1;
	}
	if (src->fd >= 0 && fsync(src->fd) < 0) {
		md_err("fsync(%s) failed: %m", src->path);
		memset(dst, 0, sizeof *dst);
		dst->fd = -1;
		return -1;
	}
	if (tmp_create(dst, dir, src) == 0) {
		dst->size = src->size;
		return 0;
	}
	if (!link_unsupported(errno))
		return -1;
	if (maildir_tmp_open(dst, dir) < 0)
		return -1;
	if (copy_file(src, dst) < 0 || dst->size != src->size) {
		if (!dst->failed)
			md_err("copy of %s to %s is short", src->path, dst->path);
		maildir_tmp_abort(dst);
		errno = EIO;
		return -1;
	}
	return 0;
}

static int tmp_commit(struct maildir_tmp *t, bool cur, unsigned flags, uint32_t keywords,
		      time_t mtime, char *name_r, size_t namelen)
{
	char base[MAILDIR_NAME_MAX], name[MAILDIR_NAME_MAX], dst[MAILDIR_PATH_MAX];
	int tfd = -1, dfd = -1;
	if (maildir_tmp_finish(t) < 0)
		goto fail;
	if (!t->path[0]) {
		errno = EINVAL;
		goto fail;
	}
	if (md_pathf(base, sizeof base, "%s,S=%lld", t->base, (long long)t->size) < 0 ||
	    (cur ? maildir_name_build(name, sizeof name, base, strlen(base), flags, keywords)
		 : md_pathf(name, sizeof name, "%s", base)) < 0 ||
	    (name_r && strlen(name) >= namelen) ||
	    md_pathf(dst, sizeof dst, "%s/%s/%s", t->dir, cur ? "cur" : "new", name) < 0) {
		errno = ENAMETOOLONG;
		md_err("message name too long in %s", t->dir);
		goto fail;
	}
	if ((tfd = open_sub_logged(t->dir, "tmp")) < 0 ||
	    (dfd = open_sub_logged(t->dir, cur ? "cur" : "new")) < 0)
		goto fail;
	if (mtime) {
		struct timespec ts[2] = { { .tv_sec = mtime }, { .tv_sec = mtime } };
		if (utimensat(tfd, t->base, ts, AT_SYMLINK_NOFOLLOW) < 0)
			md_warn("utimensat(%s) failed: %m", t->path);
	}
	bool linked = true;
	if (linkat(tfd, t->base, dfd, name, 0) < 0) {
		if (!link_unsupported(errno) || md_renameat_noreplace(tfd, t->base, dfd, name) < 0) {
			md_err("link(%s, %s) failed: %m", t->path, dst);
			goto fail;
		}
		linked = false;
	}
	if (fsync(dfd) < 0 && errno != EINVAL) {
		md_err("fsync(%s/%s) failed: %m", t->dir, cur ? "cur" : "new");
		int e = errno;
		unlinkat(dfd, name, 0);
		errno = e;
		goto fail;
	}
	if (linked && unlinkat(tfd, t->base, 0) < 0)
		md_warn("unlink(%s) failed: %m", t->path);
	t->path[0] = '\0';
	close(tfd);
	close(dfd);
	if (name_r)
		snprintf(name_r, namelen, "%s", name);
	return 0;
fail:;
	int e = errno;
	if (tfd >= 0)
		close(tfd);
	if (dfd >= 0)
		close(dfd);
	maildir_tmp_abort(t);
	errno = e;
	return -1;
}

int maildir_tmp_commit(struct maildir_tmp *t, char *name_r, size_t namelen)
{
	return tmp_commit(t, false, 0, 0, 0, name_r, namelen);
}

int maildir_tmp_commit_cur(struct maildir_tmp *t, unsigned flags, uint32_t keywords,
			   time_t mtime, char *name_r, size_t namelen)
{
	return tmp_commit(t, true, flags, keywords, mtime, name_r, namelen);
}

void maildir_tmp_abort(struct maildir_tmp *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	if (t->path[0]) {
		int tfd = md_open_dir_sub(t->dir, "tmp");
		if ((tfd < 0 || unlinkat(tfd, t->base, 0) < 0) && errno != ENOENT)
			md_warn("unlink(%s) failed: %m", t->path);
		if (tfd >= 0)
			close(tfd);
	}
	t->path[0] = '\0';
}

int maildir_deliver(const char *dir, const void *msg, size_t len, char *name_r, size_t namelen)
{
	struct maildir_tmp t;
	if (maildir_tmp_open(&t, dir) < 0)
		return -1;
	maildir_tmp_write(&t, msg, len);
	return maildir_tmp_commit(&t, name_r, namelen);
}

int maildir_uncommit(const char *dir, const char *name)
{
	if (maildir_remove(dir, name, true) < 0)
		return -1;
	int fd = open_sub_logged(dir, "new");
	if (fd < 0)
		return -1;
	int r = fsync(fd) < 0 && errno != EINVAL ? -1 : 0;
	if (r < 0)
		md_err("fsync(%s/new) failed: %m", dir);
	int e = errno;
	close(fd);
	errno = e;
	return r;
}

/* --- locks --- */

int md_open_file(const char *dir, const char *name, int flags)
{
	char path[MAILDIR_PATH_MAX];
	if (md_pathf(path, sizeof path, "%s/%s", dir, name) < 0)
		return -1;
	int dfd = md_open_dir(dir);
	int fd = dfd < 0 ? -1 : openat(dfd, name, flags | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (dfd >= 0) {
		int e = errno;
		close(dfd);
		errno = e;
	}
	if (fd < 0)
		md_err("open(%s) failed: %m", path);
	return fd;
}

int maildir_lock(const char *dir, const char *name, bool wait)
{
	int fd = md_open_file(dir, name, O_RDWR);
	if (fd < 0)
		return -1;
	while (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0) {
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK)
			md_err("flock(%s/%s) failed: %m", dir, name);
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}
