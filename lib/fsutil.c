#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

int fs_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = ENOSPC;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int fs_pathf(char *out, size_t outlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(out, outlen, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= outlen) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

time_t fs_now(void)
{
	const char *e = getenv("POSTERN_NOW");
	if (e && *e) {
		char *end;
		errno = 0;
		long long v = strtoll(e, &end, 10);
		if (errno == 0 && *end == '\0' && v > 0)
			return (time_t)v;
	}
	return time(NULL);
}

int fs_open_state(const char *path, FILE **f_r)
{
	*f_r = NULL;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		if (errno == ELOOP) {
			log_warn("%s: a symlink; ignored", path);
			return 0;
		}
		log_err("open(%s) failed: %m", path);
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		log_warn("%s: not a regular file; ignored", path);
		close(fd);
		return 0;
	}
	*f_r = fdopen(fd, "r");
	if (!*f_r) {
		log_err("fdopen(%s) failed: %m", path);
		close(fd);
		return -1;
	}
	return 1;
}
