/* Unit tests of lib/mailcache.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mailcache.h"
#include "maildir.h"
#include "mime-corpus.h"
#include "imap-bodystructure.h"
#include "imap-envelope.h"
#include "strbuf.h"
#include "uidlist.h"
#include "unit.h"

static const char *fresh(const char *name)
{
	static char dirs[8][1024];
	static int i;
	char *d = dirs[i++ & 7];
	snprintf(d, sizeof dirs[0], "%s/%s", unit_tmpdir(), name);
	if (maildir_create(d) < 0)
		unit_fail(__FILE__, __LINE__, "maildir_create");
	return d;
}

static const char *cache_path(const char *dir)
{
	static char p[1200];
	snprintf(p, sizeof p, "%s/postern-cache", dir);
	return p;
}

static off_t file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_size : -1;
}

static ino_t inode(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_ino : 0;
}

static void write_uidlist(const char *dir, uint32_t uv)
{
	char p[1200];
	snprintf(p, sizeof p, "%s/postern-uidlist", dir);
	FILE *f = fopen(p, "w");
	fprintf(f, "V1 %u 1\n", (unsigned)uv);
	fclose(f);
}

/* Deterministic test content for uid U. */
static void base_of(uint32_t u, char *out, size_t len)
{
	snprintf(out, len, "%u.M%06uP99R1Q1.host,S=%u", 1700000000u + u, u % 1000000, 1000 + u);
}

static void strings_of(uint32_t u, struct strbuf *env, struct strbuf *body, struct strbuf *bs)
{
	sb_reset(env);
	sb_reset(body);
	sb_reset(bs);
	sb_printf(env, "(\"date %u\" \"subject %u\" NIL NIL NIL NIL NIL NIL NIL \"<%u@x>\")", u, u, u);
	sb_printf(body, "(\"text\" \"plain\" NIL NIL NIL \"7bit\" %u %u)", u * 3, u % 50);
	sb_printf(bs, "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" %u %u NIL NIL NIL NIL)",
		  u * 3, u % 50);
}

static int put_uid(struct mailcache *c, uint32_t u)
{
	char base[128];
	struct strbuf env = STRBUF_INIT, body = STRBUF_INIT, bs = STRBUF_INIT;
	base_of(u, base, sizeof base);
	strings_of(u, &env, &body, &bs);
	int r = mailcache_put(c, u, base, strlen(base), 1600000000 + u, 1000 + u, u % 100, env.s,
			      body.s, bs.s);
	sb_free(&env);
	sb_free(&body);
	sb_free(&bs);
	return r;
}

/* The entry of U is present and exactly what put_uid stored. */
static bool has_uid(struct mailcache *c, uint32_t u)
{
	char base[128];
	base_of(u, base, sizeof base);
	const struct mailcache_entry *e = mailcache_get(c, u, base, strlen(base));
	if (!e)
		return false;
	struct strbuf env = STRBUF_INIT, body = STRBUF_INIT, bs = STRBUF_INIT;
	strings_of(u, &env, &body, &bs);
	bool ok = e->uid == u && e->baselen == strlen(base) && strcmp(e->base, base) == 0 &&
		  e->internaldate == 1600000000 + (time_t)u && e->size == 1000 + (off_t)u &&
		  e->hdr_len == u % 100 && e->envelope_len == env.len && strcmp(e->envelope, env.s) == 0 &&
		  e->body_len == body.len && strcmp(e->body, body.s) == 0 &&
		  e->bodystructure_len == bs.len && strcmp(e->bodystructure, bs.s) == 0;
	sb_free(&env);
	sb_free(&body);
	sb_free(&bs);
	return ok;
}

static size_t count_present(struct mailcache *c, uint32_t from, uint32_t to)
{
	size_t n = 0;
	for (uint32_t u = from; u <= to; u++)
		n += has_uid(c, u);
	return n;
}

static void test_round_trip(void)
{
	const char *d = fresh("roundtrip");
	struct mailcache *c = mailcache_open(d, 7);
	CHECK(!has_uid(c, 1));
	for (uint32_t u = 1; u <= 3; u++)
		CHECK(put_uid(c, u) == 0);
	CHECK(has_uid(c, 2)); /* pending entries answer before the flush */
	CHECK(mailcache_flush(c) == 0);
	CHECK(has_uid(c, 1) && has_uid(c, 2) && has_uid(c, 3));
	mailcache_close(c);
	CHECK(file_size(cache_path(d)) > 32);

	c = mailcache_open(d, 7);
	CHECK(has_uid(c, 1) && has_uid(c, 2) && has_uid(c, 3));
	CHECK(!has_uid(c, 4));
	char base[128];
	base_of(2, base, sizeof base);
	CHECK(mailcache_get(c, 3, base, strlen(base)) == NULL); /* uid 3 has another base */
	/* a full file name: only BASELEN octets count */
	char name[200];
	snprintf(name, sizeof name, "%s:2,RS", base);
	CHECK(mailcache_get(c, 2, name, maildir_base_len(name)) != NULL);
	/* a later put of the same uid replaces the entry */
	CHECK(mailcache_put(c, 2, base, strlen(base), 5, 10, 3, "E2", "B2", "S2") == 0);
	mailcache_close(c);
	c = mailcache_open(d, 7);
	const struct mailcache_entry *e = mailcache_get(c, 2, base, strlen(base));
	CHECK(e && strcmp(e->envelope, "E2") == 0 && strcmp(e->body, "B2") == 0 &&
	      strcmp(e->bodystructure, "S2") == 0 && e->size == 10 && e->internaldate == 5);
	struct mailcache_stats st;
	mailcache_get_stats(c, &st);
	CHECK(st.entries == 3 && st.file_records == 4);
	mailcache_close(c);
}

/* Only the latest entry of a uid is written, and none already in the file. */
static void test_dedup(void)
{
	const char *d = fresh("dedup");
	struct mailcache *a = mailcache_open(d, 1), *b = mailcache_open(d, 1);
	put_uid(a, 1);
	CHECK(mailcache_put(a, 1, "x", 1, 1, 1, 0, "", "", "") == 0);
	put_uid(a, 1); /* replaced twice before the flush */
	put_uid(a, 2);
	mailcache_expunged(a, 2); /* dropped before the flush */
	CHECK(mailcache_flush(a) == 0);
	struct mailcache_stats st;
	mailcache_get_stats(a, &st);
	CHECK(st.file_records == 1 && st.entries == 1);
	put_uid(b, 1); /* b computed it too, but a wrote it first */
	put_uid(b, 3);
	CHECK(mailcache_flush(b) == 0);
	mailcache_get_stats(b, &st);
	CHECK(st.file_records == 2 && st.entries == 2);
	CHECK(has_uid(b, 1) && has_uid(b, 3));
	mailcache_close(a);
	mailcache_close(b);
	CHECK(file_size(cache_path(d)) > 0);
	struct mailcache *c = mailcache_open(d, 1);
	CHECK(has_uid(c, 1) && !has_uid(c, 2) && has_uid(c, 3));
	mailcache_close(c);
}

static void test_stale_base(void)
{
	const char *d = fresh("stale");
	struct mailcache *c = mailcache_open(d, 1);
	CHECK(mailcache_put(c, 5, "100.M1P1.h,S=10", 15, 1, 10, 2, "E", "B", "S") == 0);
	mailcache_close(c);
	c = mailcache_open(d, 1);
	CHECK(mailcache_get(c, 5, "100.M1P1.h,S=10", 15) != NULL);
	CHECK(mailcache_get(c, 5, "100.M1P2.h,S=10", 15) == NULL); /* same length, other base */
	CHECK(mailcache_get(c, 5, "100.M1P1.h,S=1", 14) == NULL);  /* a prefix */
	CHECK(mailcache_get(c, 5, "100.M1P1.h,S=100", 16) == NULL);
	CHECK(mailcache_get(c, 6, "100.M1P1.h,S=10", 15) == NULL); /* other uid */
	struct mailcache_stats st;
	mailcache_get_stats(c, &st);
	CHECK(st.hits == 1 && st.misses == 4);
	mailcache_close(c);
}

static void test_torn_tail(void)
{
	const char *d = fresh("torn");
	struct mailcache *c = mailcache_open(d, 1);
	for (uint32_t u = 1; u <= 10; u++)
		put_uid(c, u);
	mailcache_close(c);
	off_t full = file_size(cache_path(d));
	CHECK(truncate(cache_path(d), full - 5) == 0); /* cut into record 10 */

	c = mailcache_open(d, 1);
	CHECK(count_present(c, 1, 9) == 9);
	CHECK(!has_uid(c, 10));
	/* a writer cuts the torn tail off before appending */
	CHECK(put_uid(c, 11) == 0);
	CHECK(mailcache_flush(c) == 0);
	mailcache_close(c);

	c = mailcache_open(d, 1);
	CHECK(count_present(c, 1, 9) == 9 && has_uid(c, 11) && !has_uid(c, 10));
	mailcache_close(c);

	/* garbage appended after valid records (a crash mid-write) */
	int fd = open(cache_path(d), O_WRONLY | O_APPEND);
	CHECK(write(fd, "PCR1\xff\xff\x00\x00garbage", 15) == 15);
	close(fd);
	c = mailcache_open(d, 1);
	CHECK(count_present(c, 1, 9) == 9 && has_uid(c, 11));
	CHECK(put_uid(c, 12) == 0);
	mailcache_close(c);
	c = mailcache_open(d, 1);
	CHECK(count_present(c, 1, 9) == 9 && has_uid(c, 11) && has_uid(c, 12));
	mailcache_close(c);
}

static void test_garbage_file(void)
{
	const char *d = fresh("garbage");
	FILE *f = fopen(cache_path(d), "w");
	for (int i = 0; i < 5000; i++)
		fputc((i * 7919) & 0xff, f);
	fclose(f);
	struct mailcache *c = mailcache_open(d, 3);
	struct mailcache_stats st;
	mailcache_get_stats(c, &st);
	CHECK(st.entries == 0);
	CHECK(put_uid(c, 1) == 0);
	CHECK(mailcache_flush(c) == 0);
	mailcache_get_stats(c, &st);
	CHECK(st.resets == 1);
	mailcache_close(c);
	c = mailcache_open(d, 3);
	CHECK(has_uid(c, 1));
	mailcache_close(c);

	/* a damaged record in the middle: the records after it are dropped */
	c = mailcache_open(d, 3);
	for (uint32_t u = 2; u <= 10; u++)
		put_uid(c, u);
	mailcache_close(c);
	c = mailcache_open(d, 3);
	CHECK(count_present(c, 1, 10) == 10);
	mailcache_close(c);
	off_t size = file_size(cache_path(d));
	int fd = open(cache_path(d), O_RDWR);
	char b;
	CHECK(pread(fd, &b, 1, size / 2) == 1);
	b ^= 0x20;
	CHECK(pwrite(fd, &b, 1, size / 2) == 1);
	close(fd);
	c = mailcache_open(d, 3);
	size_t n = count_present(c, 1, 10);
	CHECK(n >= 3 && n < 10);
	CHECK(has_uid(c, 1) && !has_uid(c, 10));
	CHECK(put_uid(c, 20) == 0);
	mailcache_close(c);
	c = mailcache_open(d, 3);
	CHECK(count_present(c, 1, 10) == n && has_uid(c, 20));
	mailcache_close(c);

	/* a truncated header, and an empty file */
	CHECK(truncate(cache_path(d), 10) == 0);
	c = mailcache_open(d, 3);
	CHECK(!has_uid(c, 1));
	put_uid(c, 1);
	mailcache_close(c);
	c = mailcache_open(d, 3);
	CHECK(has_uid(c, 1));
	mailcache_close(c);
	CHECK(truncate(cache_path(d), 0) == 0);
	c = mailcache_open(d, 3);
	CHECK(!has_uid(c, 1));
	mailcache_close(c);
}

/* Another process cut the file shorter than what this one read (it found
 * damage): the next flush adopts the file as it is now. */
static void test_cut_by_other(void)
{
	const char *d = fresh("cut");
	struct mailcache *c = mailcache_open(d, 4);
	for (uint32_t u = 1; u <= 10; u++)
		put_uid(c, u);
	mailcache_close(c);
	struct mailcache *a = mailcache_open(d, 4);
	CHECK(count_present(a, 1, 10) == 10);
	off_t size = file_size(cache_path(d));
	int fd = open(cache_path(d), O_RDWR);
	char b = 0x55;
	CHECK(pwrite(fd, &b, 1, size / 2) == 1);
	close(fd);
	struct mailcache *o = mailcache_open(d, 4);
	put_uid(o, 11);
	CHECK(mailcache_flush(o) == 0); /* cuts at the damage, appends 11 */
	CHECK(file_size(cache_path(d)) < size);
	for (uint32_t u = 13; u <= 30; u++)
		put_uid(o, u);
	CHECK(mailcache_flush(o) == 0); /* and grows past where a stopped reading */
	mailcache_close(o);
	CHECK(file_size(cache_path(d)) > size);
	put_uid(a, 12);
	CHECK(mailcache_flush(a) == 0);
	CHECK(has_uid(a, 11) && has_uid(a, 12) && has_uid(a, 1) && has_uid(a, 30));
	mailcache_close(a);
	c = mailcache_open(d, 4);
	size_t n = count_present(c, 1, 10);
	CHECK(n >= 3 && n < 10);
	CHECK(count_present(c, 11, 30) == 20);
	struct mailcache_stats st;
	mailcache_get_stats(c, &st);
	CHECK(st.file_records == n + 20);
	mailcache_close(c);
	c = mailcache_open(d, 0); /* uidvalidity 0: memory only */
	CHECK(!has_uid(c, 1));
	put_uid(c, 1);
	CHECK(has_uid(c, 1));
	mailcache_close(c);
}

static void test_concurrent_writers(void)
{
	const char *d = fresh("concurrent");
	enum { KIDS = 4, PER = 600 };
	pid_t pids[KIDS];
	for (int k = 0; k < KIDS; k++) {
		pids[k] = fork();
		if (pids[k] == 0) {
			struct mailcache *c = mailcache_open(d, 9);
			int bad = 0;
			/* interleaved uids, plus a shared range every child caches too */
			for (uint32_t i = 0; i < PER; i++) {
				bad |= put_uid(c, 1 + (uint32_t)k + KIDS * i) != 0;
				if (i % 50 == 0)
					bad |= put_uid(c, 100000 + i) != 0;
				if (i % 37 == 0)
					bad |= mailcache_flush(c) != 0;
			}
			bad |= mailcache_flush(c) != 0;
			mailcache_close(c);
			_exit(bad);
		}
	}
	for (int k = 0; k < KIDS; k++) {
		int status;
		CHECK(waitpid(pids[k], &status, 0) == pids[k]);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	struct mailcache *c = mailcache_open(d, 9);
	CHECK(count_present(c, 1, KIDS * PER) == KIDS * PER);
	size_t shared = 0;
	for (uint32_t i = 0; i < PER; i += 50)
		shared += has_uid(c, 100000 + i);
	CHECK(shared == (PER + 49) / 50);
	struct mailcache_stats st;
	mailcache_get_stats(c, &st);
	CHECK(st.entries == KIDS * PER + (PER + 49) / 50);
	/* duplicates of the shared range are dropped at flush when already there */
	CHECK(st.file_records <= st.entries + (KIDS - 1) * ((PER + 49) / 50));
	mailcache_close(c);
}

static void test_uidvalidity_change(void)
{
	const char *d = fresh("uidvalidity");
	write_uidlist(d, 100);
	struct mailcache *c = mailcache_open(d, 100);
	for (uint32_t u = 1; u <= 5; u++)
		put_uid(c, u);
	mailcache_close(c);
	struct mailcache *old = mailcache_open(d, 100); /* a session still on 100 */
	CHECK(count_present(old, 1, 5) == 5);

	write_uidlist(d, 200); /* the list was re-created */
	c = mailcache_open(d, 200);
	CHECK(count_present(c, 1, 5) == 0);
	put_uid(c, 7);
	CHECK(mailcache_flush(c) == 0);
	struct mailcache_stats st;
	mailcache_get_stats(c, &st);
	CHECK(st.resets == 1 && st.file_records == 1);
	mailcache_close(c);

	/* the old session neither undoes the reset nor stops answering */
	CHECK(put_uid(old, 6) == 0);
	CHECK(mailcache_flush(old) == 0);
	CHECK(count_present(old, 1, 5) == 5);
	mailcache_close(old);

	c = mailcache_open(d, 200);
	CHECK(has_uid(c, 7) && !has_uid(c, 6) && count_present(c, 1, 5) == 0);
	mailcache_close(c);
	c = mailcache_open(d, 100);
	CHECK(count_present(c, 1, 7) == 0);
	mailcache_close(c);
}

static void test_compaction(void)
{
	const char *d = fresh("compact");
	struct mailcache *c = mailcache_open(d, 1);
	for (uint32_t u = 1; u <= 100; u++)
		put_uid(c, u);
	mailcache_close(c);
	off_t before = file_size(cache_path(d));
	ino_t ino = inode(cache_path(d));

	struct mailcache *reader = mailcache_open(d, 1); /* opened before the rewrite */
	c = mailcache_open(d, 1);
	uint32_t keep[40];
	for (uint32_t i = 0; i < 40; i++)
		keep[i] = 1 + i * 2; /* odd uids 1..79 */
	uint32_t bad[2] = { 5, 3 };
	CHECK(mailcache_retain(c, bad, 2, 101) == -1);
	CHECK(mailcache_retain(c, keep, 40, 79) == -1); /* 79 >= uidnext */
	put_uid(c, 150); /* delivered after the list was read: kept */
	CHECK(mailcache_retain(c, keep, 40, 101) == 0);
	mailcache_expunged(c, 79);
	CHECK(mailcache_flush(c) == 0); /* 61 of 100 dead: rewritten */
	struct mailcache_stats st;
	mailcache_get_stats(c, &st);
	CHECK(st.compactions == 1 && st.file_records == 40 && st.entries == 40);
	CHECK(inode(cache_path(d)) != ino);
	CHECK(file_size(cache_path(d)) < before / 2);
	CHECK(count_present(c, 1, 100) == 39 && has_uid(c, 150));
	put_uid(c, 101);
	mailcache_close(c);

	c = mailcache_open(d, 1);
	for (uint32_t u = 1; u <= 101; u++)
		CHECK(has_uid(c, u) == ((u % 2 == 1 && u < 79) || u == 101));
	CHECK(has_uid(c, 150));
	mailcache_expunged(c, 150);
	mailcache_close(c);

	/* the earlier reader still answers from the file it read, and its
	 * next flush adopts the new file */
	CHECK(count_present(reader, 1, 100) == 100);
	put_uid(reader, 102);
	CHECK(mailcache_flush(reader) == 0);
	CHECK(has_uid(reader, 101) && has_uid(reader, 102) && has_uid(reader, 1) && !has_uid(reader, 2));
	mailcache_close(reader);
	c = mailcache_open(d, 1);
	CHECK(count_present(c, 1, 102) == 41);
	mailcache_close(c);

	/* fewer than half dead: no rewrite */
	c = mailcache_open(d, 1);
	mailcache_expunged(c, 1);
	CHECK(mailcache_flush(c) == 0);
	mailcache_get_stats(c, &st);
	CHECK(st.compactions == 0);
	/* an empty mailbox: everything below uidnext goes */
	CHECK(mailcache_retain(c, NULL, 0, 102) == 0);
	CHECK(count_present(c, 1, 101) == 0 && has_uid(c, 102) && has_uid(c, 150));
	mailcache_close(c);
}

static void test_limits(void)
{
	const char *d = fresh("limits");
	struct mailcache *c = mailcache_open(d, 1);
	const char *base = "1.M1P1.h";
	size_t bl = strlen(base);
	size_t room = MAILCACHE_RECORD_MAX - 64 - bl; /* strings' share of a maximal record */
	char *big = xmalloc(room + 2);
	memset(big, 'x', room + 1);
	big[room + 1] = '\0';
	big[room] = '\0';
	CHECK(mailcache_put(c, 1, base, bl, 1, 1, 0, big, "", "") == 0);
	big[room] = 'x';
	errno = 0;
	CHECK(mailcache_put(c, 2, base, bl, 1, 1, 0, big, "", "") == -1 && errno == EFBIG);
	big[room - 2] = '\0';
	CHECK(mailcache_put(c, 3, base, bl, 1, 1, 0, big, "a", "b") == 0);
	errno = 0;
	CHECK(mailcache_put(c, 0, base, bl, 1, 1, 0, "", "", "") == -1 && errno == EINVAL);
	CHECK(mailcache_put(c, 4, "a/b", 3, 1, 1, 0, "", "", "") == -1);
	CHECK(mailcache_put(c, 4, "", 0, 1, 1, 0, "", "", "") == -1);
	CHECK(mailcache_put(c, 4, base, bl, 1, 1, 2, "", "", "") == -1); /* hdr_len > size */
	char name[300];
	memset(name, 'n', sizeof name);
	CHECK(mailcache_put(c, 5, name, MAILDIR_NAME_MAX - 1, 1, 1, 0, NULL, NULL, NULL) == 0);
	CHECK(mailcache_put(c, 6, name, MAILDIR_NAME_MAX, 1, 1, 0, "", "", "") == -1);
	CHECK(mailcache_put(c, UINT32_MAX, base, bl, -5, (off_t)1 << 40, 7, "e", "", "") == 0);
	mailcache_close(c);

	c = mailcache_open(d, 1);
	const struct mailcache_entry *e = mailcache_get(c, 1, base, bl);
	CHECK(e && e->envelope_len == room && e->body_len == 0);
	CHECK(mailcache_get(c, 2, base, bl) == NULL);
	e = mailcache_get(c, 3, base, bl);
	CHECK(e && e->envelope_len == room - 2 && strcmp(e->body, "a") == 0);
	e = mailcache_get(c, 5, name, MAILDIR_NAME_MAX - 1);
	CHECK(e && e->envelope_len == 0 && strcmp(e->bodystructure, "") == 0);
	e = mailcache_get(c, UINT32_MAX, base, bl);
	CHECK(e && e->internaldate == -5 && e->size == (off_t)1 << 40 && e->hdr_len == 7);
	mailcache_close(c);
	free(big);

	/* a record claiming huge lengths is not believed */
	const char *d2 = fresh("limits2");
	c = mailcache_open(d2, 1);
	put_uid(c, 1);
	put_uid(c, 2);
	mailcache_close(c);
	off_t size = file_size(cache_path(d2));
	c = mailcache_open(d2, 1);
	CHECK(has_uid(c, 1) && has_uid(c, 2));
	mailcache_close(c);
	/* find record 2 (right after record 1) and make its lengths absurd */
	int fd = open(cache_path(d2), O_RDWR);
	unsigned char hdr[8];
	CHECK(pread(fd, hdr, 8, 32) == 8);
	uint32_t len1 = (uint32_t)hdr[4] | (uint32_t)hdr[5] << 8 | (uint32_t)hdr[6] << 16 |
			(uint32_t)hdr[7] << 24;
	CHECK(32 + len1 < (uint32_t)size);
	unsigned char ff[4] = { 0xff, 0xff, 0xff, 0xff };
	CHECK(pwrite(fd, ff, 4, 32 + len1 + 40) == 4); /* envelope_len */
	close(fd);
	c = mailcache_open(d2, 1);
	CHECK(has_uid(c, 1) && !has_uid(c, 2));
	mailcache_close(c);
	fd = open(cache_path(d2), O_RDWR);
	CHECK(pwrite(fd, ff, 4, 32 + len1 + 4) == 4); /* reclen */
	close(fd);
	c = mailcache_open(d2, 1);
	CHECK(has_uid(c, 1) && !has_uid(c, 2));
	mailcache_close(c);
}

/* The corpus through mailcache_fill gives Dovecot's strings, cold and warm. */
static void test_corpus(void)
{
	const char *d = fresh("corpus");
	size_t n;
	char **names = corpus_list(&n);
	CHECK(n >= 40);
	struct strbuf msg = STRBUF_INIT, want = STRBUF_INIT;
	char (*files)[MAILDIR_NAME_MAX] = xcalloc(n ? n : 1, sizeof *files);
	for (size_t i = 0; i < n; i++) {
		CHECK(corpus_read(names[i], ".eml", &msg) == 0);
		CHECK(maildir_deliver(d, msg.s, msg.len, files[i], sizeof files[i]) == 0);
	}
	for (int pass = 0; pass < 2; pass++) {
		struct mailcache *c = mailcache_open(d, 1);
		for (size_t i = 0; i < n; i++) {
			char name[MAILDIR_NAME_MAX];
			bool in_new = true;
			snprintf(name, sizeof name, "%s", files[i]);
			const struct mailcache_entry *e;
			CHECK(mailcache_fill(c, d, (uint32_t)i + 1, name, sizeof name, &in_new, &e) == 1);
			struct strbuf got = STRBUF_INIT;
			CHECK(corpus_read(names[i], ".envelope", &want) == 0);
			sb_add(&got, e->envelope, e->envelope_len);
			CHECK(corpus_same("envelope", names[i], &got, &want));
			sb_reset(&got);
			CHECK(corpus_read(names[i], ".body", &want) == 0);
			sb_add(&got, e->body, e->body_len);
			CHECK(corpus_same("body", names[i], &got, &want));
			sb_reset(&got);
			CHECK(corpus_read(names[i], ".bodystructure", &want) == 0);
			sb_add(&got, e->bodystructure, e->bodystructure_len);
			CHECK(corpus_same("bodystructure", names[i], &got, &want));
			sb_free(&got);
			CHECK(corpus_read(names[i], ".eml", &msg) == 0);
			CHECK(e->size == (off_t)msg.len);
		}
		struct mailcache_stats st;
		mailcache_get_stats(c, &st);
		CHECK(st.parsed == (pass == 0 ? n : 0));
		mailcache_close(c);
	}
	free(files);
	sb_free(&msg);
	sb_free(&want);
	corpus_free(names, n);
}

/* fill follows a message renamed (flags changed) since the name was known,
 * and answers 0 for one that is gone. */
static void test_fill_rename_gone(void)
{
	const char *d = fresh("fillgone");
	const char *m = "Subject: hi\r\n\r\nbody\r\n";
	char name[MAILDIR_NAME_MAX], cur[MAILDIR_NAME_MAX];
	CHECK(maildir_deliver(d, m, strlen(m), name, sizeof name) == 0);
	CHECK(maildir_set_flags(d, name, true, MAILDIR_F_SEEN, 0, cur, sizeof cur) == 1);
	struct mailcache *c = mailcache_open(d, 1);
	const struct mailcache_entry *e;
	bool in_new = true;
	CHECK(mailcache_fill(c, d, 1, name, sizeof name, &in_new, &e) == 1);
	CHECK(!in_new && strcmp(name, cur) == 0);
	CHECK(e->size == (off_t)strlen(m) && e->hdr_len == 15);
	CHECK(strstr(e->envelope, "\"hi\"") != NULL);
	snprintf(name, sizeof name, "%s", "1.M2P3.nohost,S=5");
	in_new = true;
	CHECK(mailcache_fill(c, d, 2, name, sizeof name, &in_new, &e) == 0);
	/* an entry whose size disagrees with the name's ,S= is recomputed */
	CHECK(mailcache_put(c, 1, cur, maildir_base_len(cur), 1, 999, 0, "(wrong)", "", "") == 0);
	snprintf(name, sizeof name, "%s", cur);
	CHECK(mailcache_fill(c, d, 1, name, sizeof name, &in_new, &e) == 1);
	CHECK(e->size == (off_t)strlen(m) && strstr(e->envelope, "\"hi\"") != NULL);
	struct mailcache_stats st;
	mailcache_get_stats(c, &st);
	CHECK(st.parsed == 2);
	mailcache_close(c);
}

/* 10,000 messages: a cold fill parses each once; a warm open answers every
 * one without opening any message file (they are moved away first). */
static void test_big_mailbox(void)
{
	const char *d = fresh("big");
	enum { N = 10000 };
	char path[1400];
	struct strbuf m = STRBUF_INIT;
	for (unsigned i = 0; i < N; i++) {
		sb_reset(&m);
		sb_printf(&m, "From: Sender %u <s%u@example.org>\r\nTo: r@example.net\r\n"
			      "Subject: message %u\r\nMessage-ID: <%u@example.org>\r\n"
			      "Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n", i, i, i, i);
		if (i % 3 == 0)
			sb_printf(&m, "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b%u\r\n"
				      "\r\n--b%u\r\nContent-Type: text/plain\r\n\r\npart one %u\r\n"
				      "--b%u\r\nContent-Type: application/pdf; name=x.pdf\r\n\r\nAAAA\r\n--b%u--\r\n",
				  i, i, i, i, i);
		else
			sb_printf(&m, "\r\nbody of %u\r\n", i);
		snprintf(path, sizeof path, "%s/cur/%u.M%06uP1Q1.host,S=%zu:2,S", d, 1700000000 + i, i,
			 m.len);
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
		CHECK(fd >= 0 && write(fd, m.s, m.len) == (ssize_t)m.len);
		close(fd);
	}
	sb_free(&m);
	struct uidlist ul;
	memset(&ul, 0, sizeof ul);
	CHECK(uidlist_sync(d, &ul) == 0);
	CHECK(ul.n == N);

	struct mailcache *c = mailcache_open(d, ul.uidvalidity);
	struct strbuf *env = xcalloc(N, sizeof *env), *bs = xcalloc(N, sizeof *bs);
	for (size_t i = 0; i < ul.n; i++) {
		char name[MAILDIR_NAME_MAX];
		bool in_new = ul.recs[i].in_new;
		snprintf(name, sizeof name, "%s", ul.recs[i].name);
		const struct mailcache_entry *e;
		CHECK(mailcache_fill(c, d, ul.recs[i].uid, name, sizeof name, &in_new, &e) == 1);
		sb_add(&env[i], e->envelope, e->envelope_len);
		sb_add(&bs[i], e->bodystructure, e->bodystructure_len);
		CHECK(e->size == ul.recs[i].size);
	}
	struct mailcache_stats st;
	mailcache_get_stats(c, &st);
	CHECK(st.parsed == N && st.hits == 0);
	CHECK(strstr(env[3].s, "\"message ") != NULL);
	CHECK(strstr(bs[0].s, "\"mixed\"") != NULL);
	mailcache_close(c);

	char moved[1400], curdir[1400];
	snprintf(curdir, sizeof curdir, "%s/cur", d);
	snprintf(moved, sizeof moved, "%s/cur-away", d);
	CHECK(rename(curdir, moved) == 0);
	CHECK(mkdir(curdir, 0700) == 0);

	c = mailcache_open(d, ul.uidvalidity);
	size_t same = 0;
	for (size_t i = 0; i < ul.n; i++) {
		char name[MAILDIR_NAME_MAX];
		bool in_new = ul.recs[i].in_new;
		snprintf(name, sizeof name, "%s", ul.recs[i].name);
		const struct mailcache_entry *e = NULL;
		if (mailcache_fill(c, d, ul.recs[i].uid, name, sizeof name, &in_new, &e) == 1 &&
		    e->envelope_len == env[i].len && memcmp(e->envelope, env[i].s, env[i].len) == 0 &&
		    e->bodystructure_len == bs[i].len &&
		    memcmp(e->bodystructure, bs[i].s, bs[i].len) == 0)
			same++;
	}
	CHECK(same == N);
	mailcache_get_stats(c, &st);
	CHECK(st.parsed == 0 && st.hits == N && st.misses == 0);
	mailcache_close(c);
	for (size_t i = 0; i < N; i++) {
		sb_free(&env[i]);
		sb_free(&bs[i]);
	}
	free(env);
	free(bs);
	uidlist_free(&ul);
}

/* Damage anywhere never yields a wrong answer: 400 copies of a file, each
 * with a few random bytes changed or cut at a random point; every entry
 * handed out must be exactly what was stored. */
static void test_random_damage(void)
{
	const char *d = fresh("damage");
	struct mailcache *c = mailcache_open(d, 6);
	for (uint32_t u = 1; u <= 40; u++)
		put_uid(c, u);
	mailcache_close(c);
	int fd = open(cache_path(d), O_RDONLY);
	off_t size = file_size(cache_path(d));
	unsigned char *orig = xmalloc((size_t)size), *buf = xmalloc((size_t)size);
	CHECK(read(fd, orig, (size_t)size) == size);
	close(fd);
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	size_t wrong = 0, answered = 0;
	for (int round = 0; round < 400; round++) {
		memcpy(buf, orig, (size_t)size);
		size_t len = (size_t)size;
		int flips = 1 + round % 4;
		for (int k = 0; k < flips; k++) {
			rng = rng * 6364136223846793005ull + 1442695040888963407ull;
			size_t at = (size_t)(rng >> 33) % len;
			buf[at] ^= (unsigned char)(1u << ((rng >> 20) & 7));
		}
		if (round % 5 == 4) {
			rng = rng * 6364136223846793005ull + 1442695040888963407ull;
			len = (size_t)(rng >> 33) % len;
		}
		fd = open(cache_path(d), O_WRONLY | O_TRUNC);
		CHECK(write(fd, buf, len) == (ssize_t)len);
		close(fd);
		c = mailcache_open(d, 6);
		for (uint32_t u = 1; u <= 40; u++) {
			char base[128];
			base_of(u, base, sizeof base);
			if (mailcache_get(c, u, base, strlen(base))) {
				answered++;
				wrong += !has_uid(c, u);
			}
		}
		mailcache_close(c);
	}
	CHECK(wrong == 0);
	CHECK(answered > 0);
	free(orig);
	free(buf);
}

/* A write that fails half-way (file size limit, as on a full disk) is cut
 * back: the file keeps exactly its earlier records. */
static void test_write_fails(void)
{
	const char *d = fresh("wfail");
	struct mailcache *c = mailcache_open(d, 2);
	for (uint32_t u = 1; u <= 20; u++)
		put_uid(c, u);
	mailcache_close(c);
	off_t before = file_size(cache_path(d));
	pid_t pid = fork();
	if (pid == 0) {
		signal(SIGXFSZ, SIG_IGN);
		struct rlimit rl = { (rlim_t)before + 1000, (rlim_t)before + 1000 };
		int bad = setrlimit(RLIMIT_FSIZE, &rl) != 0;
		c = mailcache_open(d, 2);
		for (uint32_t u = 21; u <= 60; u++)
			put_uid(c, u);
		bad |= mailcache_flush(c) != -1;
		bad |= has_uid(c, 30); /* dropped, not half-kept */
		bad |= !has_uid(c, 5);
		mailcache_close(c);
		_exit(bad);
	}
	int status;
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(file_size(cache_path(d)) == before);
	c = mailcache_open(d, 2);
	CHECK(count_present(c, 1, 20) == 20 && count_present(c, 21, 60) == 0);
	put_uid(c, 21);
	CHECK(mailcache_flush(c) == 0);
	mailcache_close(c);
	c = mailcache_open(d, 2);
	CHECK(count_present(c, 1, 21) == 21);
	mailcache_close(c);
}

/* A cache that cannot be written still answers from memory. */
static void test_readonly_dir(void)
{
	const char *d = fresh("readonly");
	char sub[1200];
	snprintf(sub, sizeof sub, "%s/no-such-dir", d);
	struct mailcache *c = mailcache_open(sub, 1);
	CHECK(put_uid(c, 1) == 0);
	CHECK(mailcache_flush(c) == -1);
	CHECK(has_uid(c, 1));
	mailcache_close(c);
	c = mailcache_open(sub, 1);
	CHECK(!has_uid(c, 1));
	mailcache_close(c);
}

int main(void)
{
	setenv("POSTERN_LOG", "stderr", 1);
	RUN(test_round_trip);
	RUN(test_stale_base);
	RUN(test_dedup);
	RUN(test_torn_tail);
	RUN(test_garbage_file);
	RUN(test_cut_by_other);
	RUN(test_concurrent_writers);
	RUN(test_uidvalidity_change);
	RUN(test_compaction);
	RUN(test_limits);
	RUN(test_corpus);
	RUN(test_fill_rename_gone);
	RUN(test_big_mailbox);
	RUN(test_random_damage);
	RUN(test_write_fails);
	RUN(test_readonly_dir);
	return unit_done();
}
