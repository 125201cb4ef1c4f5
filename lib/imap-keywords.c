/* The keyword file is rewritten (tmp + rename) under
 * DIR/dovecot-keywords.lock and re-read after taking the lock, so two
 * sessions adding keywords at once both end up with one consistent map;
 * readers never lock (rename is atomic). */
#include "imap-keywords.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "log.h"
#include "maildir.h"
#include "strbuf.h"

#define KW_FILE "dovecot-keywords"

void imap_keywords_free(struct imap_keywords *kw)
{
	for (int i = 0; i < IMAP_KEYWORDS_MAX; i++) {
		free(kw->names[i]);
		kw->names[i] = NULL;
	}
}

bool imap_keyword_valid(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > IMAP_KEYWORD_LEN_MAX)
		return false;
	for (const char *p = name; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c))
			return false;
	}
	return true;
}

int imap_keywords_load(const char *dir, struct imap_keywords *kw)
{
	char path[MAILDIR_PATH_MAX];
	imap_keywords_free(kw);
	if ((size_t)snprintf(path, sizeof path, "%s/" KW_FILE, dir) >= sizeof path)
		return -1;
	/* not through a symlink, not a FIFO: regular files only; anything
	 * else holds no keywords (the next write's rename replaces it) */
	FILE *f;
	int r = fs_open_state(path, &f);
	if (r <= 0)
		return r;
	char line[IMAP_KEYWORD_LEN_MAX + 16];
	while (fgets(line, sizeof line, f)) {
		char *end;
		line[strcspn(line, "\r\n")] = '\0';
		long idx = strtol(line, &end, 10);
		if (end == line || *end != ' ' || idx < 0 || idx >= IMAP_KEYWORDS_MAX)
			continue;
		if (!imap_keyword_valid(end + 1) || kw->names[idx])
			continue;
		kw->names[idx] = xstrdup(end + 1);
	}
	fclose(f);
	return 0;
}

int imap_keywords_find(const struct imap_keywords *kw, const char *name)
{
	for (int i = 0; i < IMAP_KEYWORDS_MAX; i++)
		if (kw->names[i] && strcasecmp(kw->names[i], name) == 0)
			return i;
	return -1;
}

static int write_file(const char *dir, const struct imap_keywords *kw)
{
	char path[MAILDIR_PATH_MAX], tmp[MAILDIR_PATH_MAX];
	if ((size_t)snprintf(path, sizeof path, "%s/" KW_FILE, dir) >= sizeof path ||
	    (size_t)snprintf(tmp, sizeof tmp, "%s/" KW_FILE ".tmp", dir) >= sizeof tmp)
		return -1;
	struct strbuf sb = STRBUF_INIT;
	for (int i = 0; i < IMAP_KEYWORDS_MAX; i++)
		if (kw->names[i])
			sb_printf(&sb, "%d %s\n", i, kw->names[i]);
	/* under the lock: a leftover tmp (or a planted symlink) is removed,
	 * and the new one is created afresh, never through a symlink */
	(void)unlink(tmp);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		log_err("open(%s) failed: %m", tmp);
		sb_free(&sb);
		return -1;
	}
	int rc = 0;
	if (sb.len && write(fd, sb.s, sb.len) != (ssize_t)sb.len) {
		log_err("write(%s) failed: %m", tmp);
		rc = -1;
	}
	if (rc == 0 && fdatasync(fd) < 0) {
		log_err("fdatasync(%s) failed: %m", tmp);
		rc = -1;
	}
	if (close(fd) < 0 && rc == 0) {
		log_err("close(%s) failed: %m", tmp);
		rc = -1;
	}
	if (rc == 0 && rename(tmp, path) < 0) {
		log_err("rename(%s, %s) failed: %m", tmp, path);
		rc = -1;
	}
	if (rc < 0)
		unlink(tmp);
	sb_free(&sb);
	return rc;
}

int imap_keywords_add(const char *dir, struct imap_keywords *kw, const char *name)
{
	int idx = imap_keywords_find(kw, name);
	if (idx >= 0)
		return idx;
	if (!imap_keyword_valid(name))
		return -1;
	int lock = maildir_lock(dir, KW_FILE ".lock", true);
	if (lock < 0)
		return -1;
	idx = -1;
	if (imap_keywords_load(dir, kw) == 0) {
		idx = imap_keywords_find(kw, name);
		for (int i = 0; idx < 0 && i < IMAP_KEYWORDS_MAX; i++) {
			if (kw->names[i])
				continue;
			kw->names[i] = xstrdup(name);
			if (write_file(dir, kw) < 0) {
				free(kw->names[i]);
				kw->names[i] = NULL;
				break;
			}
			idx = i;
		}
	}
	close(lock);
	return idx;
}
