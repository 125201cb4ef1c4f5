/* Helpers shared by the MIME unit tests: find tests/mime/ and read its
 * files. The corpus was recorded from Dovecot (tests/mime/README). */
#ifndef POSTERN_TEST_MIME_CORPUS_H
#define POSTERN_TEST_MIME_CORPUS_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "strbuf.h"

/* tests/mime: $POSTERN_TOP/tests/mime, else relative to the working
 * directory (make check runs from the top), else in a parent directory of
 * the test binary. */
static inline const char *corpus_dir(void)
{
	static char dir[1024];
	struct stat st;
	const char *top = getenv("POSTERN_TOP");
	if (top && *top) {
		snprintf(dir, sizeof dir, "%s/tests/mime", top);
		if (stat(dir, &st) == 0)
			return dir;
	}
	if (stat("tests/mime", &st) == 0)
		return "tests/mime";
	/* the binary is BUILD/tests/test-x, BUILD usually inside the tree */
	char exe[900];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = '\0';
		char *slash;
		while ((slash = strrchr(exe, '/')) != NULL) {
			*slash = '\0';
			snprintf(dir, sizeof dir, "%s/tests/mime/README", exe);
			if (stat(dir, &st) == 0) {
				snprintf(dir, sizeof dir, "%s/tests/mime", exe);
				return dir;
			}
		}
	}
	return "tests/mime";
}

/* Whole file into *OUT; returns 0, or -1 when it cannot be read. */
static inline int corpus_read(const char *name, const char *ext, struct strbuf *out)
{
	char path[1200];
	snprintf(path, sizeof path, "%s/%s%s", corpus_dir(), name, ext);
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	char buf[65536];
	size_t n;
	sb_reset(out);
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		sb_add(out, buf, n);
	fclose(f);
	sb_add(out, "", 0); /* allocated and NUL-terminated even when empty */
	return 0;
}

static inline int corpus_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The corpus message names (without .eml), sorted; free with corpus_free. */
static inline char **corpus_list(size_t *n_r)
{
	char **names = NULL;
	size_t n = 0;
	DIR *d = opendir(corpus_dir());
	struct dirent *de;
	while (d && (de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		if (len > 4 && strcmp(de->d_name + len - 4, ".eml") == 0) {
			names = xrealloc(names, (n + 1) * sizeof(*names));
			names[n++] = xstrndup(de->d_name, len - 4);
		}
	}
	if (d)
		closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), corpus_cmp);
	*n_r = n;
	return names;
}

static inline void corpus_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* Compare and, on a mismatch, show where (TAP diagnostics). */
static inline int corpus_same(const char *what, const char *name, const struct strbuf *got,
		       const struct strbuf *want)
{
	if (got->len == want->len && memcmp(got->s, want->s, got->len) == 0)
		return 1;
	size_t i = 0;
	while (i < got->len && i < want->len && got->s[i] == want->s[i])
		i++;
	size_t from = i > 40 ? i - 40 : 0;
	printf("# %s %s differs at octet %zu\n#   got:  %.*s\n#   want: %.*s\n", name, what, i,
	       (int)(got->len - from < 120 ? got->len - from : 120), got->s + from,
	       (int)(want->len - from < 120 ? want->len - from : 120), want->s + from);
	return 0;
}

#endif
