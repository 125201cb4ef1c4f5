/* rel-check: check one maildir's uid list against its files, for the
 * reliability suites (tests/crash.bats, diskfull.bats, soak.bats).
 *
 *   rel-check DIR
 *
 * Runs uidlist_sync twice and checks: the list file parses (the sync
 * would fail otherwise), UIDs strictly increasing and below next_uid,
 * every file in new/ and cur/ listed exactly once, UIDVALIDITY and every
 * UID unchanged by the second sync, the list file on disk equal to the
 * sync result. Prints one line "<uid> <file name> <new|cur>" per message,
 * then "messages=N uids=N uidvalidity=V next_uid=N failures=N".
 * Exit 0 when consistent, 1 otherwise (reasons on stderr). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maildir.h"
#include "uidlist.h"

static int failures;

#define FAIL(...) do { fprintf(stderr, "rel-check: "); fprintf(stderr, __VA_ARGS__); \
	fputc('\n', stderr); failures++; } while (0)

static size_t count_files(const char *dir, const char *sub)
{
	char path[MAILDIR_PATH_MAX];
	snprintf(path, sizeof path, "%s/%s", dir, sub);
	DIR *d = opendir(path);
	size_t n = 0;
	struct dirent *de;
	if (!d) {
		FAIL("opendir %s: %s", path, strerror(errno));
		return 0;
	}
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* The list file as written: header line, then "<uid> <base>" lines equal
 * to the records of UL in order. */
static void check_list_file(const char *dir, const struct uidlist *ul)
{
	char path[MAILDIR_PATH_MAX];
	snprintf(path, sizeof path, "%s/postern-uidlist", dir);
	FILE *f = fopen(path, "r");
	if (!f) {
		FAIL("open %s: %s", path, strerror(errno));
		return;
	}
	char line[2048];
	unsigned v, next;
	if (!fgets(line, sizeof line, f) || sscanf(line, "V1 %u %u", &v, &next) != 2)
		FAIL("bad header line in %s", path);
	else if (v != ul->uidvalidity || next != ul->next_uid)
		FAIL("header V1 %u %u but sync says %u %u", v, next, ul->uidvalidity, ul->next_uid);
	size_t n = 0;
	while (fgets(line, sizeof line, f)) {
		unsigned uid;
		char base[1024];
		if (sscanf(line, "%u %1023s", &uid, base) != 2) {
			FAIL("bad list line: %s", line);
			continue;
		}
		if (n >= ul->n) {
			FAIL("list file has more lines than the sync result");
			break;
		}
		const struct uidlist_rec *r = &ul->recs[n];
		if (r->uid != uid || strlen(base) != r->baselen || strncmp(r->name, base, r->baselen) != 0)
			FAIL("list line %zu (%u %s) differs from the sync result (%u %s)", n, uid, base,
			     r->uid, r->name);
		n++;
	}
	if (n != ul->n)
		FAIL("list file has %zu lines, sync result %zu", n, ul->n);
	fclose(f);
}

static int cmp_base(const void *a, const void *b)
{
	const struct uidlist_rec *x = a, *y = b;
	size_t n = x->baselen < y->baselen ? x->baselen : y->baselen;
	int c = memcmp(x->name, y->name, n);
	return c ? c : (x->baselen > y->baselen) - (x->baselen < y->baselen);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: rel-check MAILDIR\n");
		return 2;
	}
	setenv("POSTERN_LOG", "stderr", 0);
	const char *dir = argv[1];
	struct uidlist a = { 0 }, b = { 0 };
	if (uidlist_sync(dir, &a) < 0) {
		FAIL("uidlist_sync(%s): %s", dir, strerror(errno));
		return 1;
	}
	if (uidlist_sync(dir, &b) < 0) {
		FAIL("second uidlist_sync(%s): %s", dir, strerror(errno));
		return 1;
	}
	if (a.uidvalidity != b.uidvalidity)
		FAIL("uidvalidity changed %u -> %u", a.uidvalidity, b.uidvalidity);
	if (a.n != b.n)
		FAIL("second sync lists %zu, first %zu", b.n, a.n);
	uint32_t prev = 0;
	for (size_t i = 0; i < b.n; i++) {
		const struct uidlist_rec *r = &b.recs[i];
		if (r->uid <= prev)
			FAIL("uid %u after %u", r->uid, prev);
		if (r->uid >= b.next_uid)
			FAIL("uid %u >= next_uid %u", r->uid, b.next_uid);
		prev = r->uid;
		if (i < a.n && (a.recs[i].uid != r->uid || strcmp(a.recs[i].name, r->name) != 0))
			FAIL("second sync changed %u %s -> %u %s", a.recs[i].uid, a.recs[i].name, r->uid,
			     r->name);
		printf("%u %s %s\n", r->uid, r->name, r->in_new ? "new" : "cur");
	}
	/* each base once */
	struct uidlist_rec *sorted = malloc((b.n ? b.n : 1) * sizeof *sorted);
	if (!sorted)
		return 1;
	memcpy(sorted, b.recs, b.n * sizeof *sorted);
	qsort(sorted, b.n, sizeof *sorted, cmp_base);
	for (size_t i = 1; i < b.n; i++)
		if (cmp_base(&sorted[i - 1], &sorted[i]) == 0)
			FAIL("base listed twice: %s", sorted[i].name);
	free(sorted);
	size_t files = count_files(dir, "new") + count_files(dir, "cur");
	if (files != b.n)
		FAIL("%zu files in new/ and cur/ but %zu listed", files, b.n);
	check_list_file(dir, &b);
	printf("messages=%zu uids=%zu uidvalidity=%u next_uid=%u failures=%d\n", files, b.n,
	       b.uidvalidity, b.next_uid, failures);
	uidlist_free(&a);
	uidlist_free(&b);
	return failures ? 1 : 0;
}
