/* The per-mailbox keyword file (Dovecot's dovecot-keywords format). */
#include <stdio.h>
#include <stdlib.h>

#include "imap-keywords.h"
#include "unit.h"

static void test_add_find_reload(void)
{
	const char *dir = unit_tmpdir();
	struct imap_keywords kw = { { NULL } }, again = { { NULL } };
	CHECK(imap_keywords_load(dir, &kw) == 0); /* missing file: none */
	CHECK(imap_keywords_find(&kw, "$Junk") == -1);
	CHECK(imap_keywords_add(dir, &kw, "$Junk") == 0);
	CHECK(imap_keywords_add(dir, &kw, "Work") == 1);
	CHECK(imap_keywords_add(dir, &kw, "$junk") == 0); /* case-insensitive */
	CHECK(imap_keywords_add(dir, &kw, "bad\\name") == -1);
	CHECK(imap_keywords_add(dir, &kw, "bad name") == -1);
	/* another session added one meanwhile: add re-reads under the lock */
	CHECK(imap_keywords_load(dir, &again) == 0);
	CHECK(imap_keywords_add(dir, &again, "Other") == 2);
	CHECK(imap_keywords_add(dir, &kw, "Fourth") == 3);
	CHECK(imap_keywords_find(&kw, "other") == 2);
	char path[512], buf[256];
	snprintf(path, sizeof path, "%s/dovecot-keywords", dir);
	FILE *f = fopen(path, "r");
	CHECK(f != NULL);
	if (f) {
		size_t n = fread(buf, 1, sizeof buf - 1, f);
		buf[n] = '\0';
		fclose(f);
		CHECK_STR(buf, "0 $Junk\n1 Work\n2 Other\n3 Fourth\n");
	}
	imap_keywords_free(&kw);
	imap_keywords_free(&again);
}

static void test_limit(void)
{
	char dir[512];
	snprintf(dir, sizeof dir, "%s/full", unit_tmpdir());
	struct imap_keywords kw = { { NULL } };
	char cmd[600];
	snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
	CHECK(system(cmd) == 0);
	for (int i = 0; i < IMAP_KEYWORDS_MAX; i++) {
		char name[16];
		snprintf(name, sizeof name, "k%d", i);
		CHECK(imap_keywords_add(dir, &kw, name) == i);
	}
	CHECK(imap_keywords_add(dir, &kw, "one-too-many") == -1);
	CHECK(imap_keywords_add(dir, &kw, "k7") == 7);
	imap_keywords_free(&kw);
}

int main(void)
{
	RUN(test_add_find_reload);
	RUN(test_limit);
	return unit_done();
}
