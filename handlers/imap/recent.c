/* \Recent across processes: DIR/postern-recent holds the highest UID that
 * some session has already reported as recent. A selecting session takes
 * the lock DIR/postern-recent.lock, reads the number, writes its own
 * highest UID (tmp + rename) and treats every UID above the old number as
 * recent. EXAMINE and STATUS only read. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "imapd.h"
#include "log.h"

static uint32_t read_recent(const char *path)
{
	/* not through a symlink, not a FIFO: regular files only */
	FILE *f;
	if (fs_open_state(path, &f) <= 0)
		return 0;
	unsigned long v = 0;
	if (fscanf(f, "%lu", &v) != 1 || v > UINT32_MAX)
		v = 0;
	fclose(f);
	return (uint32_t)v;
}

static void write_recent(const char *dir, const char *path, uint32_t v)
{
	char tmp[MAILDIR_PATH_MAX + 32];
	snprintf(tmp, sizeof tmp, "%s/postern-recent.tmp", dir);
	/* under the lock: a leftover tmp (or a planted symlink) is removed,
	 * and the new one is created afresh, never through a symlink */
	(void)unlink(tmp);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		log_err("open(%s) failed: %m", tmp);
		return;
	}
	char buf[32];
	int n = snprintf(buf, sizeof buf, "%u\n", (unsigned)v);
	bool ok = write(fd, buf, (size_t)n) == n;
	if (!ok)
		log_err("write(%s) failed: %m", tmp);
	if (close(fd) < 0 && ok) {
		log_err("close(%s) failed: %m", tmp);
		ok = false;
	}
	if (ok && rename(tmp, path) < 0) {
		log_err("rename(%s, %s) failed: %m", tmp, path);
		ok = false;
	}
	if (!ok)
		unlink(tmp);
}

uint32_t recent_claim(const char *dir, uint32_t upto, bool claim)
{
	char path[MAILDIR_PATH_MAX + 32];
	snprintf(path, sizeof path, "%s/postern-recent", dir);
	if (!claim)
		return read_recent(path);
	int lock = maildir_lock(dir, "postern-recent.lock", true);
	if (lock < 0)
		return read_recent(path);
	uint32_t old = read_recent(path);
	if (upto > old)
		write_recent(dir, path, upto);
	close(lock);
	return old;
}
