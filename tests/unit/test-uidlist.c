/* Unit tests of lib/uidlist.c. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "maildir.h"
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

static char *path2(const char *a, const char *b)
{
	static char bufs[4][2048];
	static int i;
	char *p = bufs[i++ & 3];
	snprintf(p, sizeof bufs[0], "%s/%s", a, b);
	return p;
}

static char *readf(const char *path)
{
	static char buf[65536];
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void writef(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

static ino_t inode(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_ino : 0;
}

static void deliver(const char *dir, char *name, size_t len, const char *body)
{
	if (maildir_deliver(dir, body, strlen(body), name, len) < 0)
		unit_fail(__FILE__, __LINE__, "maildir_deliver");
}

static void set_now(time_t t)
{
	char buf[32];
	snprintf(buf, sizeof buf, "%lld", (long long)t);
	setenv("POSTERN_NOW", buf, 1);
}

static void test_create(void)
{
	const char *d = fresh("create");
	struct uidlist ul = { 0 };
	time_t before = time(NULL);
	CHECK(uidlist_sync(d, &ul) == 0);
	CHECK(ul.n == 0 && ul.next_uid == 1);
	CHECK(ul.uidvalidity >= (uint32_t)before && ul.uidvalidity <= (uint32_t)time(NULL) + 1);
	char expect[64];
	snprintf(expect, sizeof expect, "V1 %u 1\n", ul.uidvalidity);
	CHECK_STR(readf(path2(d, "postern-uidlist")), expect);
	/* the uidvalidity record lives in the root */
	snprintf(expect, sizeof expect, "%u\n", ul.uidvalidity);
	CHECK_STR(readf(path2(d, "postern-uidvalidity")), expect);
	uidlist_free(&ul);
	CHECK(ul.n == 0 && ul.recs == NULL);
	CHECK(uidlist_sync(path2(d, "nonexistent"), &ul) == -1 && errno == ENOENT);
}

static void test_assign_and_stable(void)
{
	const char *d = fresh("assign");
	char n[3][MAILDIR_NAME_MAX];
	deliver(d, n[0], sizeof n[0], "one\r\n");
	deliver(d, n[1], sizeof n[1], "two!\r\n");
	deliver(d, n[2], sizeof n[2], "three\r\n");
	struct uidlist ul = { 0 };
	CHECK(uidlist_sync(d, &ul) == 0);
	CHECK(ul.n == 3 && ul.next_uid == 4);
	for (size_t i = 0; i < ul.n && i < 3; i++) {
		CHECK(ul.recs[i].uid == i + 1);
		CHECK_STR(ul.recs[i].name, n[i]); /* delivery order */
		CHECK(ul.recs[i].in_new && ul.recs[i].flags == 0 && ul.recs[i].keywords == 0);
		CHECK(ul.recs[i].baselen == strlen(n[i]));
	}
	CHECK(ul.recs[0].size == 5 && ul.recs[1].size == 6 && ul.recs[2].size == 7);
	char expect[2048];
	snprintf(expect, sizeof expect, "V1 %u 4\n1 %s\n2 %s\n3 %s\n", ul.uidvalidity, n[0], n[1], n[2]);
	CHECK_STR(readf(path2(d, "postern-uidlist")), expect);
	uint32_t uv = ul.uidvalidity;

	/* nothing changed: same answer, the file is not rewritten */
	ino_t ino = inode(path2(d, "postern-uidlist"));
	CHECK(uidlist_sync(d, &ul) == 0); /* reusing ul frees the old contents */
	CHECK(ul.n == 3 && ul.uidvalidity == uv && ul.next_uid == 4);
	CHECK(inode(path2(d, "postern-uidlist")) == ino);

	/* flags and new -> cur: same uids, names follow */
	char moved[MAILDIR_NAME_MAX];
	CHECK(maildir_set_flags(d, n[1], true, MAILDIR_F_SEEN | MAILDIR_F_FLAGGED, 1u << 4, moved, sizeof moved) == 1);
	CHECK(maildir_set_flags(d, n[0], true, 0, 0, NULL, 0) == 1);
	CHECK(uidlist_sync(d, &ul) == 0);
	CHECK(ul.n == 3 && ul.next_uid == 4);
	CHECK(inode(path2(d, "postern-uidlist")) == ino); /* bases are listed, not names */
	struct uidlist_rec *r = uidlist_find(&ul, 2);
	CHECK(r && strcmp(r->name, moved) == 0 && !r->in_new);
	CHECK(r && r->flags == (MAILDIR_F_SEEN | MAILDIR_F_FLAGGED) && r->keywords == 1u << 4 && r->size == 6);
	r = uidlist_find(&ul, 1);
	CHECK(r && !r->in_new && r->flags == 0);
	uidlist_free(&ul);
}

static void test_expunge_and_no_reuse(void)
{
	const char *d = fresh("expunge");
	char n[4][MAILDIR_NAME_MAX];
	for (int i = 0; i < 3; i++)
		deliver(d, n[i], sizeof n[i], "m\r\n");
	struct uidlist ul = { 0 };
	CHECK(uidlist_sync(d, &ul) == 0 && ul.n == 3);
	CHECK(maildir_remove(d, n[1], true) == 1);
	CHECK(maildir_remove(d, n[2], true) == 1);
	CHECK(uidlist_sync(d, &ul) == 0);
	CHECK(ul.n == 1 && ul.recs[0].uid == 1 && ul.next_uid == 4);
	deliver(d, n[3], sizeof n[3], "m\r\n");
	CHECK(uidlist_sync(d, &ul) == 0);
	CHECK(ul.n == 2 && ul.recs[1].uid == 4 && ul.next_uid == 5); /* 2 and 3 are never reused */
	CHECK_STR(ul.recs[1].name, n[3]);
	/* the expunged message coming back (restored from a backup) is a new message */
	char path[2048];
	snprintf(path, sizeof path, "%s/new/%s", d, n[1]);
	writef(path, "m\r\n");
	CHECK(uidlist_sync(d, &ul) == 0);
	CHECK(ul.n == 3 && ul.recs[2].uid == 5 && strcmp(ul.recs[2].name, n[1]) == 0);
	/* everything gone */
	for (size_t i = 0; i < ul.n; i++)
		CHECK(maildir_remove(d, ul.recs[i].name, ul.recs[i].in_new) == 1);
	CHECK(uidlist_sync(d, &ul) == 0 && ul.n == 0 && ul.next_uid == 6);
	uidlist_free(&ul);
}

static void test_find(void)
{
	const char *d = fresh("find");
	char n[MAILDIR_NAME_MAX];
	for (int i = 0; i < 50; i++)
		deliver(d, n, sizeof n, "m\r\n");
	struct uidlist ul = { 0 };
	CHECK(uidlist_sync(d, &ul) == 0 && ul.n == 50);
	for (size_t i = 0; i < ul.n; i += 3)
		CHECK(maildir_remove(d, ul.recs[i].name, true) == 1);
	CHECK(uidlist_sync(d, &ul) == 0 && ul.n == 33);
	int bad = 0;
	for (uint32_t uid = 0; uid <= 52; uid++) {
		struct uidlist_rec *r = uidlist_find(&ul, uid);
		bool want = uid >= 1 && uid <= 50 && (uid - 1) % 3 != 0;
		if ((r != NULL) != want || (r && r->uid != uid))
			bad++;
	}
	CHECK(bad == 0);
	struct uidlist_rec *r = uidlist_find_base(&ul, n);
	CHECK(r && r->uid == 50);
	char flagged[MAILDIR_NAME_MAX + 8];
	snprintf(flagged, sizeof flagged, "%s:2,S", n);
	CHECK(uidlist_find_base(&ul, flagged) == r);
	CHECK(uidlist_find_base(&ul, "nope") == NULL);
	uidlist_free(&ul);
	CHECK(uidlist_find(&ul, 1) == NULL);
}

static void test_uidvalidity_recreate(void)
{
	const char *d = fresh("recreate");
	char n[MAILDIR_NAME_MAX];
	deliver(d, n, sizeof n, "m\r\n");
	struct uidlist ul = { 0 };
	time_t now = time(NULL);
	set_now(now);
	CHECK(uidlist_sync(d, &ul) == 0);
	uint32_t uv1 = ul.uidvalidity;
	CHECK(uv1 == (uint32_t)now);
	/* the classic accident: the list is deleted; in the same second */
	CHECK(unlink(path2(d, "postern-uidlist")) == 0);
	CHECK(uidlist_sync(d, &ul) == 0);
	CHECK(ul.uidvalidity > uv1 && ul.n == 1 && ul.recs[0].uid == 1);
	uint32_t uv2 = ul.uidvalidity;
	/* and with the clock set back a day */
	set_now(now - 86400);
	CHECK(unlink(path2(d, "postern-uidlist")) == 0);
	CHECK(uidlist_sync(d, &ul) == 0);
	CHECK(ul.uidvalidity > uv2);
	uint32_t uv3 = ul.uidvalidity;
	/* later on, the time again */
	set_now(now + 1000);
	CHECK(unlink(path2(d, "postern-uidlist")) == 0);
	CHECK(uidlist_sync(d, &ul) == 0);
	CHECK(ul.uidvalidity == (uint32_t)now + 1000 && ul.uidvalidity > uv3);
	/* an existing list never changes UIDVALIDITY */
	set_now(now + 5000);
	deliver(d, n, sizeof n, "m\r\n");
	CHECK(uidlist_sync(d, &ul) == 0);
	CHECK(ul.uidvalidity == (uint32_t)now + 1000 && ul.n == 2);
	unsetenv("POSTERN_NOW");
	uidlist_free(&ul);
}

static void test_folder_uidvalidity(void)
{
	/* folders share the root's record: delete + create in one second
	 * still gives a new UIDVALIDITY */
	const char *root = fresh("uvroot");
	char dir[1024];
	CHECK(maildir_folder_create(root, "F") == 1);
	CHECK(maildir_folder_path(root, "F", dir, sizeof dir) == 0);
	struct uidlist ul = { 0 };
	set_now(2000000000);
	CHECK(uidlist_sync(dir, &ul) == 0 && ul.uidvalidity == 2000000000u);
	CHECK(readf(path2(root, "postern-uidvalidity")) != NULL);
	CHECK(readf(path2(dir, "postern-uidvalidity")) == NULL);
	CHECK(maildir_folder_delete(root, "F") == 1);
	CHECK(maildir_folder_create(root, "F") == 1);
	CHECK(uidlist_sync(dir, &ul) == 0 && ul.uidvalidity == 2000000001u);
	/* and INBOX, in the same second, too */
	CHECK(uidlist_sync(root, &ul) == 0 && ul.uidvalidity == 2000000002u);
	unsetenv("POSTERN_NOW");
	uidlist_free(&ul);
}

static void test_repair(void)
{
	const char *d = fresh("repair");
	char n[3][MAILDIR_NAME_MAX];
	for (int i = 0; i < 3; i++)
		deliver(d, n[i], sizeof n[i], "m\r\n");
	char text[4096];
	/* out of order, a duplicate uid, a duplicate base, junk lines, and a
	 * next_uid below the records */
	snprintf(text, sizeof text,
		 "V1 12345 3\n7 %s\n5 %s\njunk\n0 zero\n5 dup-uid\n9 %s\n8 a/b\n10 \n11 %s\n", n[1], n[0],
		 n[2], n[1]);
	writef(path2(d, "postern-uidlist"), text);
	struct uidlist ul = { 0 };
	CHECK(uidlist_sync(d, &ul) == 0);
	CHECK(ul.uidvalidity == 12345 && ul.n == 3);
	CHECK(ul.n == 3 && ul.recs[0].uid == 5 && ul.recs[1].uid == 7 && ul.recs[2].uid == 9);
	CHECK(ul.n == 3 && strcmp(ul.recs[0].name, n[0]) == 0 && strcmp(ul.recs[1].name, n[1]) == 0);
	CHECK(ul.next_uid == 12); /* never below a uid ever listed (11) */
	snprintf(text, sizeof text, "V1 12345 12\n5 %s\n7 %s\n9 %s\n", n[0], n[1], n[2]);
	CHECK_STR(readf(path2(d, "postern-uidlist")), text);
	/* a header that cannot be read: a new list, a new UIDVALIDITY */
	writef(path2(d, "postern-uidlist"), "garbage\n1 x\n");
	CHECK(uidlist_sync(d, &ul) == 0);
	CHECK(ul.uidvalidity != 12345 && ul.n == 3 && ul.next_uid == 4);
	writef(path2(d, "postern-uidlist"), "V1 0 5\n");
	uint32_t before = ul.uidvalidity;
	CHECK(uidlist_sync(d, &ul) == 0);
	CHECK(ul.uidvalidity > before && ul.n == 3);
	/* no final newline is accepted */
	snprintf(text, sizeof text, "V1 777 20\n3 %s\n4 %s\n5 %s", n[0], n[1], n[2]);
	writef(path2(d, "postern-uidlist"), text);
	CHECK(uidlist_sync(d, &ul) == 0);
	CHECK(ul.uidvalidity == 777 && ul.n == 3 && ul.recs[2].uid == 5 && ul.next_uid == 20);
	uidlist_free(&ul);
}

static void test_new_cur_duplicate(void)
{
	/* the same base in new/ and cur/ (a scan racing a move sees this too):
	 * one record, with the cur/ name */
	const char *d = fresh("dup");
	char n[MAILDIR_NAME_MAX], p1[2048], p2[2048];
	deliver(d, n, sizeof n, "m\r\n");
	snprintf(p1, sizeof p1, "%s/new/%s", d, n);
	snprintf(p2, sizeof p2, "%s/cur/%s:2,S", d, n);
	CHECK(link(p1, p2) == 0);
	struct uidlist ul = { 0 };
	CHECK(uidlist_sync(d, &ul) == 0);
	CHECK(ul.n == 1 && !ul.recs[0].in_new && ul.recs[0].flags == MAILDIR_F_SEEN);
	uidlist_free(&ul);
}

static void test_foreign_names(void)
{
	/* names from other software: no S= (size by stat), natural order of
	 * new uids, names that cannot be listed are skipped */
	const char *d = fresh("foreign");
	writef(path2(d, "new/1700000000.M99P1.host"), "abc\r\n");
	writef(path2(d, "new/1700000000.M100P1.host"), "abcd\r\n");
	writef(path2(d, "new/1700000000.M5P1.host"), "ab\r\n");
	writef(path2(d, "cur/1699999999.x:2,S"), "a\r\n");
	writef(path2(d, "new/bad\nname"), "x\r\n");
	writef(path2(d, "new/.dotfile"), "x\r\n");
	writef(path2(d, "tmp/1600000000.tmpfile"), "x\r\n");
	struct uidlist ul = { 0 };
	CHECK(uidlist_sync(d, &ul) == 0);
	CHECK(ul.n == 4);
	static const char *const order[] = { "1699999999.x:2,S", "1700000000.M5P1.host",
					     "1700000000.M99P1.host", "1700000000.M100P1.host" };
	static const off_t sizes[] = { 3, 4, 5, 6 };
	for (size_t i = 0; i < ul.n && i < 4; i++) {
		CHECK_STR(ul.recs[i].name, order[i]);
		CHECK(ul.recs[i].uid == i + 1 && ul.recs[i].size == sizes[i]);
	}
	uidlist_free(&ul);
}

/* --- never drop a uid on the evidence of one scan --- */

static char hidden_from[2048], hidden_to[2048];
static int unhide_after;

static void hide(const char *dir, const char *name)
{
	snprintf(hidden_from, sizeof hidden_from, "%s/cur/%s", dir, name);
	snprintf(hidden_to, sizeof hidden_to, "%s/hidden-%s", dir, name);
	if (rename(hidden_from, hidden_to) < 0)
		unit_fail(__FILE__, __LINE__, "hide");
}

static void unhide_hook(const char *dir, int scan_no)
{
	(void)dir;
	if (scan_no == unhide_after && rename(hidden_to, hidden_from) < 0)
		unit_fail(__FILE__, __LINE__, "unhide");
}

static void test_second_look(void)
{
	const char *d = fresh("second-look");
	char n[3][MAILDIR_NAME_MAX];
	struct uidlist ul = { 0 };
	for (int i = 0; i < 3; i++) {
		deliver(d, n[i], sizeof n[i], "m\r\n");
		CHECK(maildir_set_flags(d, n[i], true, 0, 0, n[i], sizeof n[i]) == 1);
	}
	CHECK(uidlist_sync(d, &ul) == 0 && ul.n == 3);
	ino_t ino = inode(path2(d, "postern-uidlist"));
	uidlist_scan_hook = unhide_hook;
	/* missed by the first scan (as a file being renamed can be): kept */
	for (unhide_after = 1; unhide_after <= 2; unhide_after++) {
		hide(d, n[1]);
		CHECK(uidlist_sync(d, &ul) == 0);
		CHECK(ul.n == 3 && ul.recs[1].uid == 2 && strcmp(ul.recs[1].name, n[1]) == 0);
		CHECK(inode(path2(d, "postern-uidlist")) == ino); /* and nothing rewritten */
	}
	/* missed by every look: really gone, dropped */
	unhide_after = 99;
	hide(d, n[1]);
	CHECK(uidlist_sync(d, &ul) == 0);
	CHECK(ul.n == 2 && ul.recs[0].uid == 1 && ul.recs[1].uid == 3);
	uidlist_scan_hook = NULL;
	CHECK(rename(hidden_to, hidden_from) == 0);
	CHECK(uidlist_sync(d, &ul) == 0); /* back again: a new message now */
	CHECK(ul.n == 3 && ul.recs[2].uid == 4 && ul.next_uid == 5);
	uidlist_free(&ul);
}

/* A file another process renamed between our scan and our lock. */
static const char *hook_dir;
static char hook_name[MAILDIR_NAME_MAX];

static void rename_hook(const char *dir, int scan_no)
{
	(void)dir;
	if (scan_no == 1 && hook_name[0]) {
		if (maildir_set_flags(hook_dir, hook_name, false, MAILDIR_F_DRAFT, 0, NULL, 0) != 1)
			unit_fail(__FILE__, __LINE__, "rename in hook");
		hook_name[0] = '\0';
	}
}

static void test_stale_names(void)
{
	const char *d = fresh("stale");
	char a[MAILDIR_NAME_MAX], b[MAILDIR_NAME_MAX];
	deliver(d, a, sizeof a, "m\r\n");
	CHECK(maildir_set_flags(d, a, true, 0, 0, a, sizeof a) == 1);
	struct uidlist ul = { 0 };
	CHECK(uidlist_sync(d, &ul) == 0);
	deliver(d, b, sizeof b, "m\r\n"); /* forces the locked path */
	hook_dir = d;
	snprintf(hook_name, sizeof hook_name, "%s", a);
	uidlist_scan_hook = rename_hook;
	CHECK(uidlist_sync(d, &ul) == 0);
	uidlist_scan_hook = NULL;
	CHECK(ul.n == 2 && ul.recs[0].uid == 1 && ul.recs[1].uid == 2);
	/* the name may be stale (seen before the rename); opening follows it */
	char name[MAILDIR_NAME_MAX];
	snprintf(name, sizeof name, "%s", ul.recs[0].name);
	bool in_new = ul.recs[0].in_new;
	int fd = maildir_open_msg(d, name, sizeof name, &in_new);
	CHECK(fd >= 0 && maildir_name_flags(name, NULL) == MAILDIR_F_DRAFT);
	if (fd >= 0)
		close(fd);
	uidlist_free(&ul);
}

static void test_uid_exhaustion(void)
{
	const char *d = fresh("exhaust");
	char n[2][MAILDIR_NAME_MAX], text[2048];
	deliver(d, n[0], sizeof n[0], "m\r\n");
	snprintf(text, sizeof text, "V1 100 4294967295\n4294967294 %s\n", n[0]);
	writef(path2(d, "postern-uidlist"), text);
	struct uidlist ul = { 0 };
	CHECK(uidlist_sync(d, &ul) == 0);
	CHECK(ul.uidvalidity == 100 && ul.n == 1 && ul.recs[0].uid == 4294967294u);
	deliver(d, n[1], sizeof n[1], "m\r\n");
	CHECK(uidlist_sync(d, &ul) == 0); /* uid 4294967295 would leave no next_uid */
	CHECK(ul.uidvalidity > 100 && ul.n == 2 && ul.recs[0].uid == 1 && ul.recs[1].uid == 2 &&
	      ul.next_uid == 3);
	uidlist_free(&ul);
}

static void test_crash_leftovers(void)
{
	/* a writer killed after writing the tmp file: harmless */
	const char *d = fresh("leftover");
	char n[MAILDIR_NAME_MAX];
	deliver(d, n, sizeof n, "m\r\n");
	struct uidlist ul = { 0 };
	CHECK(uidlist_sync(d, &ul) == 0);
	writef(path2(d, "postern-uidlist.tmp"), "V1 1 1\n");
	deliver(d, n, sizeof n, "m\r\n");
	CHECK(uidlist_sync(d, &ul) == 0 && ul.n == 2 && ul.recs[1].uid == 2);
	CHECK(access(path2(d, "postern-uidlist.tmp"), F_OK) == -1);
	uidlist_free(&ul);
}

/* Writers in several processes: every uid assigned once, to one message. */
static void test_concurrent_sync(void)
{
	const char *d = fresh("concurrent");
	enum { KIDS = 4, EACH = 50 };
	pid_t pids[KIDS];
	for (int k = 0; k < KIDS; k++) {
		pids[k] = fork();
		if (pids[k] == 0) {
			struct uidlist ul = { 0 };
			char n[MAILDIR_NAME_MAX];
			for (int i = 0; i < EACH; i++) {
				if (maildir_deliver(d, "m\r\n", 3, n, sizeof n) < 0 || uidlist_sync(d, &ul) < 0)
					_exit(1);
				struct uidlist_rec *r = uidlist_find_base(&ul, n);
				if (!r || (i % 3 == 0 && maildir_set_flags(d, r->name, r->in_new, MAILDIR_F_SEEN, 0,
									   NULL, 0) != 1))
					_exit(2);
			}
			uidlist_free(&ul);
			_exit(0);
		}
	}
	int ok = 0;
	for (int k = 0; k < KIDS; k++) {
		int st;
		waitpid(pids[k], &st, 0);
		ok += WIFEXITED(st) && WEXITSTATUS(st) == 0;
	}
	CHECK(ok == KIDS);
	struct uidlist ul = { 0 };
	CHECK(uidlist_sync(d, &ul) == 0);
	CHECK(ul.n == KIDS * EACH && ul.next_uid == KIDS * EACH + 1);
	int bad = 0;
	for (size_t i = 0; i < ul.n; i++)
		bad += ul.recs[i].uid != i + 1;
	CHECK(bad == 0);
	uidlist_free(&ul);
}

/* A symlinked new/, cur/, maildir or folder is never followed: the sync
 * fails and nothing is read from or written to the link's target. */
static void test_symlinks(void)
{
	const char *out = fresh("sl-outside");
	char name[MAILDIR_NAME_MAX];
	CHECK(maildir_deliver(out, "SECRET\r\n", 8, name, sizeof name) == 0);
	CHECK(maildir_set_flags(out, name, true, 0, 0, NULL, 0) == 1);
	struct uidlist ul = { 0 };
	const char *subs[] = { "cur", "new" };
	for (int i = 0; i < 2; i++) {
		const char *d = fresh(i ? "sl-new" : "sl-cur");
		CHECK(maildir_deliver(d, "mine\r\n", 6, NULL, 0) == 0);
		if (i == 0)
			CHECK(rmdir(path2(d, "cur")) == 0);
		else
			CHECK(rename(path2(d, "new"), path2(d, "new.real")) == 0);
		CHECK(symlink(path2(out, subs[i]), path2(d, subs[i])) == 0);
		CHECK(uidlist_sync(d, &ul) == -1 && ul.n == 0);
		CHECK(!readf(path2(d, "postern-uidlist")));
	}
	/* the maildir itself, and a folder ".Evil", a symlink */
	const char *root = fresh("sl-root");
	CHECK(symlink(out, path2(root, ".Evil")) == 0);
	char dir[MAILDIR_PATH_MAX];
	CHECK(maildir_folder_path(root, "Evil", dir, sizeof dir) == 0);
	CHECK(uidlist_sync(dir, &ul) == -1 && ul.n == 0);
	const char *link = path2(unit_tmpdir(), "sl-boxlink");
	CHECK(symlink(out, link) == 0);
	CHECK(uidlist_sync(link, &ul) == -1 && ul.n == 0);
	CHECK(!readf(path2(out, "postern-uidlist")) && !readf(path2(out, "postern-uidvalidity")));
	CHECK(!readf(path2(root, "postern-uidvalidity")));
	/* the list file a symlink: not read, replaced (the link, not its target) */
	const char *d = fresh("sl-listfile");
	writef(path2(out, "fake-list"), "V1 7 100\n50 x\n");
	CHECK(symlink(path2(out, "fake-list"), path2(d, "postern-uidlist")) == 0);
	CHECK(uidlist_sync(d, &ul) == -1 || ul.uidvalidity != 7);
	CHECK(strcmp(readf(path2(out, "fake-list")), "V1 7 100\n50 x\n") == 0);
	uidlist_free(&ul);
}

int main(void)
{
	setenv("POSTERN_LOG", "stderr", 0);
	unsetenv("POSTERN_NOW");
	RUN(test_create);
	RUN(test_assign_and_stable);
	RUN(test_expunge_and_no_reuse);
	RUN(test_find);
	RUN(test_uidvalidity_recreate);
	RUN(test_folder_uidvalidity);
	RUN(test_repair);
	RUN(test_new_cur_duplicate);
	RUN(test_foreign_names);
	RUN(test_second_look);
	RUN(test_stale_names);
	RUN(test_uid_exhaustion);
	RUN(test_crash_leftovers);
	RUN(test_concurrent_sync);
	RUN(test_symlinks);
	return unit_done();
}
