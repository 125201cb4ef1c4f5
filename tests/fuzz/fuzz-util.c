/* Helpers shared by the harnesses (linked into each of them). */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* One directory per process, removed at exit with whatever it holds. */
static char tmpdir[256];
static char paths[8][320];
static size_t npaths;

/* Everything in the directory goes (harnesses may let the library create
 * files there: locks, temporary files); it holds no subdirectories. */
static void tmp_cleanup(void)
{
	if (!tmpdir[0])
		return;
	DIR *d = opendir(tmpdir);
	struct dirent *de;
	while (d && (de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			unlinkat(dirfd(d), de->d_name, 0);
	if (d)
		closedir(d);
	rmdir(tmpdir);
}

const char *fuzz_tmpdir(void)
{
	if (!tmpdir[0]) {
		const char *t = getenv("TMPDIR");
		snprintf(tmpdir, sizeof tmpdir, "%s/postern-fuzz.XXXXXX", t && *t && strlen(t) < 200 ? t : "/tmp");
		if (!mkdtemp(tmpdir)) {
			perror("mkdtemp");
			abort();
		}
		atexit(tmp_cleanup);
	}
	return tmpdir;
}

const char *fuzz_tmpfile(const char *tag, const uint8_t *data, size_t size)
{
	fuzz_tmpdir();
	size_t i;
	char path[320];
	snprintf(path, sizeof path, "%s/%.40s", tmpdir, tag);
	for (i = 0; i < npaths; i++)
		if (strcmp(paths[i], path) == 0)
			break;
	if (i == npaths) {
		if (npaths == sizeof paths / sizeof paths[0])
			abort();
		snprintf(paths[npaths++], sizeof paths[0], "%s", path);
	}
	FILE *f = fopen(path, "we");
	if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
		perror(path);
		abort();
	}
	return paths[i];
}

void fuzz_env_init(void)
{
	setenv("POSTERN_LOG", "syslog", 1);
	setenv("POSTERN_FAIL_DELAY_MS", "0", 1);
}
