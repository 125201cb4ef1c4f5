/* maildir-folder: Maildir++ folders and the subscriptions file.
 *
 * IMAP "A/B" is the directory ROOT/.A.B; a '.' inside a name part is
 * "&AC4-" on disk (modified UTF-7 for '.'), so the mapping is one to one:
 * clients cannot send a literal "&AC4-" (printable ASCII must not be
 * base64-encoded in modified UTF-7), and a directory name is accepted as a
 * folder only when encoding its decoded name gives it back.
 *
 * A ".F" entry that is a symlink is never a folder: it is not listed, and
 * every operation on it fails (the store opens maildirs with md_open_dir,
 * which refuses symlinks); create, delete and rename refuse it too. */
#include "maildir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maildir-private.h"
#include "mutf7.h"
#include "strbuf.h"

#define DOT_ESC "&AC4-"
#define TRASH_PREFIX "..postern-trash-"
#define SUBS_FILE "subscriptions"
#define SUBS_MAX (1024 * 1024)

/* Validate NAME; write its directory entry (".A.B") to ENC (may be NULL)
 * and its canonical IMAP name (INBOX part upper-cased) to CANON (may be
 * NULL). 1 = INBOX itself, 0 = a folder, -1 = invalid (EINVAL). */
static int folder_encode(const char *name, char *enc, size_t enclen, char *canon, size_t canonlen)
{
	size_t len = strlen(name);
	/* also rejects control characters and 8-bit bytes */
	if (len == 0 || len > MAILDIR_FOLDER_NAME_MAX || name[0] == '/' || name[len - 1] == '/' ||
	    !mutf7_valid(name))
		goto bad;
	bool inbox_part = strncasecmp(name, "INBOX", 5) == 0 && (name[5] == '\0' || name[5] == '/');
	if (canon) {
		if (len >= canonlen)
			goto bad;
		memcpy(canon, name, len + 1);
		if (inbox_part)
			memcpy(canon, "INBOX", 5);
	}
	if (inbox_part && name[5] == '\0')
		return 1;
	struct strbuf sb = STRBUF_INIT;
	sb_addc(&sb, '.');
	for (const char *part = name; *part;) {
		size_t plen = strcspn(part, "/");
		if (plen == 0 || (plen == 1 && part[0] == '.') || (plen == 2 && part[0] == '.' && part[1] == '.'))
			goto bad_sb;
		if (part != name)
			sb_addc(&sb, '.');
		for (size_t i = 0; i < plen; i++) {
			if (part[i] == '.') /* never inside a base64 run */
				sb_adds(&sb, DOT_ESC);
			else
				sb_addc(&sb, part[i]);
		}
		part += plen;
		if (*part == '/')
			part++;
	}
	if (inbox_part)
		memcpy(sb.s + 1, "INBOX", 5);
	if (sb.len >= MAILDIR_NAME_MAX || (enc && md_pathf(enc, enclen, "%s", sb.s) < 0))
		goto bad_sb;
	sb_free(&sb);
	return 0;
bad_sb:
	sb_free(&sb);
bad:
	errno = EINVAL;
	return -1;
}

int maildir_folder_path(const char *root, const char *name, char *out, size_t outlen)
{
	char enc[MAILDIR_NAME_MAX];
	int r = folder_encode(name, enc, sizeof enc, NULL, 0);
	if (r < 0)
		return -1;
	return r == 1 ? md_pathf(out, outlen, "%s", root) : md_pathf(out, outlen, "%s/%s", root, enc);
}

int maildir_folder_name(const char *dirent, char *out, size_t outlen)
{
	size_t len = strlen(dirent);
	if (len < 2 || dirent[0] != '.' || len >= MAILDIR_NAME_MAX)
		goto bad;
	char name[MAILDIR_NAME_MAX], enc[MAILDIR_NAME_MAX];
	size_t o = 0;
	for (const char *p = dirent + 1; *p;) {
		if (strncmp(p, DOT_ESC, 5) == 0) {
			name[o++] = '.';
			p += 5;
		} else {
			name[o++] = *p == '.' ? '/' : *p;
			p++;
		}
	}
	name[o] = '\0';
	if (folder_encode(name, enc, sizeof enc, NULL, 0) != 0 || strcmp(enc, dirent) != 0)
		goto bad;
	return md_pathf(out, outlen, "%s", name);
bad:
	errno = EINVAL;
	return -1;
}

static int touch(const char *dir, const char *name)
{
	int fd = md_open_file(dir, name, O_WRONLY);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

int maildir_folder_create(const char *root, const char *name)
{
	char path[MAILDIR_PATH_MAX];
	int r = folder_encode(name, NULL, 0, NULL, 0);
	if (r < 0 || maildir_folder_path(root, name, path, sizeof path) < 0)
		return -1;
	if (r == 1)
		return maildir_create(root) < 0 ? -1 : 0;
	int m = mkdir(path, 0700);
	if (m < 0 && errno == ENOENT) {
		if (maildir_create(root) < 0)
			return -1;
		m = mkdir(path, 0700);
	}
	if (m < 0 && errno != EEXIST) {
		md_err("mkdir(%s) failed: %m", path);
		return -1;
	}
	int created = m == 0;
	struct stat st;
	if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		md_err("%s is not a directory (or a symlink); refusing it", path);
		errno = ENOTDIR;
		return -1;
	}
	/* also completes a folder a crash left half made */
	if (maildir_create(path) < 0 || touch(path, "maildirfolder") < 0)
		return -1;
	if (created && maildir_fsync_dir(root) < 0)
		return -1;
	return created;
}

/* rm -r DIRFD/NAME without following symlinks; depth-bounded. */
static int remove_tree(int dfd, const char *name, int depth)
{
	if (unlinkat(dfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if ((errno != EISDIR && errno != EPERM) || depth > 8)
		return -1;
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	int r = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
		    remove_tree(dirfd(d), de->d_name, depth + 1) < 0)
			r = -1;
	}
	closedir(d);
	if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		r = -1;
	return r;
}

int maildir_folder_delete(const char *root, const char *name)
{
	char path[MAILDIR_PATH_MAX], trash[MAILDIR_PATH_MAX], base[MAILDIR_NAME_MAX];
	int r = folder_encode(name, NULL, 0, NULL, 0);
	if (r < 0)
		return -1;
	if (r == 1) {
		errno = EPERM;
		return -1;
	}
	if (maildir_folder_path(root, name, path, sizeof path) < 0 ||
	    maildir_unique_base(base, sizeof base) < 0 ||
	    md_pathf(trash, sizeof trash, "%s/" TRASH_PREFIX "%s", root, base) < 0)
		return -1;
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode)) {
		/* never touch what a planted symlink points to (renaming and
		 * unlinking the link itself would not, but refuse it plainly) */
		md_err("%s is not a directory (or a symlink); refusing it", path);
		errno = ENOTDIR;
		return -1;
	}
	if (rename(path, trash) < 0) {
		if (errno == ENOENT)
			return 0;
		md_err("rename(%s, %s) failed: %m", path, trash);
		return -1;
	}
	if (remove_tree(AT_FDCWD, trash, 0) < 0)
		md_warn("removing %s failed: %m", trash);
	return maildir_fsync_dir(root) < 0 ? -1 : 1;
}

/* RFC 3501 RENAME INBOX: move its messages into a new folder TO. */
static int rename_inbox(const char *root, const char *to)
{
	char tpath[MAILDIR_PATH_MAX], src[MAILDIR_PATH_MAX], dst[MAILDIR_PATH_MAX];
	int r = maildir_folder_create(root, to);
	if (r <= 0)
		return r == 0 ? -2 : -1;
	if (maildir_folder_path(root, to, tpath, sizeof tpath) < 0)
		return -1;
	struct maildir_list l;
	if (maildir_scan(root, false, &l) < 0)
		return -1;
	int ret = 1, sfd[2], dfd[2];
	for (int i = 0; i < 2; i++) {
		const char *sub = i ? "cur" : "new";
		sfd[i] = md_open_dir_sub(root, sub);
		dfd[i] = md_open_dir_sub(tpath, sub);
		if (sfd[i] < 0 || dfd[i] < 0) {
			md_err("open(%s/%s or %s/%s) failed: %m", root, sub, tpath, sub);
			ret = -1;
		}
	}
	for (size_t i = 0; i < l.n && ret == 1; i++) {
		int k = l.e[i].in_new ? 0 : 1;
		if (renameat(sfd[k], l.e[i].name, dfd[k], l.e[i].name) < 0 && errno != ENOENT) {
			int e = errno;
			if (md_pathf(src, sizeof src, "%s/%s/%s", root, k ? "cur" : "new", l.e[i].name) < 0 ||
			    md_pathf(dst, sizeof dst, "%s/%s/%s", tpath, k ? "cur" : "new", l.e[i].name) < 0)
				src[0] = dst[0] = '\0';
			errno = e;
			md_err("rename(%s, %s) failed: %m", src, dst);
			ret = -1;
		}
	}
	maildir_list_free(&l);
	for (int i = 0; i < 2; i++) {
		if (dfd[i] >= 0 && fsync(dfd[i]) < 0 && errno != EINVAL) {
			md_err("fsync(%s/%s) failed: %m", tpath, i ? "cur" : "new");
			ret = -1;
		}
		if (sfd[i] >= 0)
			close(sfd[i]);
		if (dfd[i] >= 0)
			close(dfd[i]);
	}
	return ret;
}

int maildir_folder_rename(const char *root, const char *from, const char *to)
{
	char fenc[MAILDIR_NAME_MAX], tenc[MAILDIR_NAME_MAX], src[MAILDIR_PATH_MAX], dst[MAILDIR_PATH_MAX];
	int rf = folder_encode(from, fenc, sizeof fenc, NULL, 0);
	int rt = folder_encode(to, tenc, sizeof tenc, NULL, 0);
	if (rf < 0 || rt < 0)
		return -1;
	if (rt == 1)
		return -2;
	if (rf == 1)
		return rename_inbox(root, to);
	size_t flen = strlen(fenc);
	if (strcmp(fenc, tenc) == 0)
		return -2;
	if (strncmp(tenc, fenc, flen) == 0 && tenc[flen] == '.') {
		errno = EINVAL;
		return -1;
	}
	struct stat st;
	if (md_pathf(src, sizeof src, "%s/%s", root, fenc) < 0)
		return -1;
	if (lstat(src, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode)) {
		md_err("%s is not a directory (or a symlink); refusing it", src);
		errno = ENOTDIR;
		return -1;
	}
	/* the folder first, then its children ".A.*", each to the new prefix */
	size_t n = 1, cap = 8;
	char **names = xmalloc(cap * sizeof *names);
	names[0] = xstrdup(fenc);
	int rfd = md_open_dir(root);
	DIR *d = rfd < 0 ? NULL : fdopendir(rfd);
	if (!d) {
		if (rfd >= 0)
			close(rfd);
		maildir_names_free(names, n);
		return -1;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, fenc, flen) != 0 || de->d_name[flen] != '.')
			continue;
		if (n == cap)
			names = xrealloc(names, (cap *= 2) * sizeof *names);
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	int ret = 1;
	for (size_t i = 0; i < n && ret == 1; i++) {
		if (md_pathf(dst, sizeof dst, "%s/%s%s", root, tenc, names[i] + flen) < 0 ||
		    strlen(tenc) + strlen(names[i] + flen) >= MAILDIR_NAME_MAX) {
			errno = ENAMETOOLONG;
			ret = -1;
		}
		else if (lstat(dst, &st) == 0)
			ret = -2;
	}
	for (size_t i = 0; i < n && ret == 1; i++) {
		if (md_pathf(src, sizeof src, "%s/%s", root, names[i]) < 0 ||
		    md_pathf(dst, sizeof dst, "%s/%s%s", root, tenc, names[i] + flen) < 0)
			ret = -1;
		else if (md_rename_noreplace(src, dst) < 0 && (i == 0 || errno != ENOENT)) {
			ret = errno == EEXIST ? -2 : errno == ENOENT ? 0 : -1;
			if (ret == -1)
				md_err("rename(%s, %s) failed: %m", src, dst);
		}
	}
	maildir_names_free(names, n);
	if (ret == 1 && maildir_fsync_dir(root) < 0)
		ret = -1;
	return ret;
}

static int names_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct names {
	char **v;
	size_t n, cap;
};

static void names_add(struct names *ns, const char *s)
{
	if (ns->n == ns->cap) {
		ns->cap = ns->cap ? ns->cap * 2 : 16;
		ns->v = xrealloc(ns->v, ns->cap * sizeof *ns->v);
	}
	ns->v[ns->n++] = xstrdup(s);
}

int maildir_folder_list(const char *root, char ***names_r, size_t *n_r)
{
	struct names ns = { 0 };
	*names_r = NULL;
	*n_r = 0;
	int rfd = md_open_dir(root);
	DIR *d = rfd < 0 ? NULL : fdopendir(rfd);
	if (!d) {
		if (rfd >= 0)
			close(rfd);
		if (errno == ENOENT)
			return 0;
		md_err("opendir(%s) failed: %m", root);
		return -1;
	}
	struct dirent *de;
	char name[MAILDIR_NAME_MAX];
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		if (de->d_name[0] != '.' || (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
			continue;
		if (de->d_type == DT_UNKNOWN &&
		    (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode)))
			continue;
		if (maildir_folder_name(de->d_name, name, sizeof name) == 0)
			names_add(&ns, name);
	}
	closedir(d);
	if (ns.n)
		qsort(ns.v, ns.n, sizeof *ns.v, names_cmp);
	*names_r = ns.v;
	*n_r = ns.n;
	return 0;
}

void maildir_names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* --- subscriptions --- */

static bool names_has(const struct names *ns, const char *s)
{
	for (size_t i = 0; i < ns->n; i++)
		if (strcmp(ns->v[i], s) == 0)
			return true;
	return false;
}

static int subs_read(const char *root, struct names *ns)
{
	char path[MAILDIR_PATH_MAX], *buf;
	size_t len;
	memset(ns, 0, sizeof *ns);
	if (md_pathf(path, sizeof path, "%s/" SUBS_FILE, root) < 0)
		return -1;
	int r = md_read_file(root, SUBS_FILE, &buf, &len);
	if (r <= 0)
		return r;
	if (len > SUBS_MAX)
		md_warn("%s is over %d bytes; reading the start only", path, SUBS_MAX);
	buf[len > SUBS_MAX ? SUBS_MAX : len] = '\0';
	char canon[MAILDIR_FOLDER_NAME_MAX + 1];
	for (char *line = buf, *next; *line; line = next) {
		next = line + strcspn(line, "\n");
		if (*next)
			*next++ = '\0';
		line[strcspn(line, "\r")] = '\0';
		if (folder_encode(line, NULL, 0, canon, sizeof canon) >= 0 && !names_has(ns, canon))
			names_add(ns, canon);
	}
	free(buf);
	return 0;
}

int maildir_subscriptions_read(const char *root, char ***names_r, size_t *n_r)
{
	struct names ns;
	int r = subs_read(root, &ns);
	*names_r = r < 0 ? NULL : ns.v;
	*n_r = r < 0 ? 0 : ns.n;
	if (r < 0)
		maildir_names_free(ns.v, ns.n);
	return r < 0 ? -1 : 0;
}

int maildir_subscribe(const char *root, const char *name, bool on)
{
	char canon[MAILDIR_FOLDER_NAME_MAX + 1];
	if (folder_encode(name, NULL, 0, canon, sizeof canon) < 0)
		return -1;
	int lock = maildir_lock(root, SUBS_FILE ".lock", true);
	if (lock < 0)
		return -1;
	struct names ns;
	int ret = subs_read(root, &ns) < 0 ? -1 : 0;
	if (ret == 0 && names_has(&ns, canon) != on) {
		struct strbuf sb = STRBUF_INIT;
		if (on)
			names_add(&ns, canon);
		for (size_t i = 0; i < ns.n; i++)
			if (on || strcmp(ns.v[i], canon) != 0)
				sb_printf(&sb, "%s\n", ns.v[i]);
		ret = md_write_atomic(root, SUBS_FILE, SUBS_FILE ".tmp", sb.s ? sb.s : "", sb.len);
		sb_free(&sb);
	}
	maildir_names_free(ns.v, ns.n);
	close(lock);
	return ret;
}
