/* Unit tests of lib/maildir.c and lib/maildir-folder.c. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "maildir.h"
#include "unit.h"

static char *mkpath(const char *fmt, const char *a, const char *b)
{
	static char bufs[4][2048];
	static int i;
	char *p = bufs[i++ & 3];
	snprintf(p, sizeof bufs[0], fmt, a, b);
	return p;
}

/* A fresh maildir under the unit tmpdir. */
static const char *fresh(const char *name)
{
	static char dirs[8][1024];
	static int i;
	char *d = dirs[i++ & 7];
	snprintf(d, sizeof dirs[0], "%s/%s", unit_tmpdir(), name);
	return d;
}

static int count_dir(const char *dir, const char *sub)
{
	DIR *d = opendir(mkpath("%s/%s", dir, sub));
	if (!d)
		return -1;
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	static char buf[1 << 20];
	*len = fread(buf, 1, sizeof buf - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

static bool is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool exists(const char *p)
{
	struct stat st;
	return lstat(p, &st) == 0;
}

static void test_user_path(void)
{
	struct config cfg;
	memset(&cfg, 0, sizeof cfg);
	snprintf(cfg.mail_root, sizeof cfg.mail_root, "/var/mail");
	char out[MAILDIR_PATH_MAX];
	CHECK(maildir_user_path(&cfg, "alice", "example.org", out, sizeof out) == 0);
	CHECK_STR(out, "/var/mail/example.org/alice");
	char small[10];
	CHECK(maildir_user_path(&cfg, "alice", "example.org", small, sizeof small) == -1);
}

static void test_create(void)
{
	const char *d = fresh("a/b/c/Maildir");
	CHECK(maildir_create(d) == 0);
	CHECK(is_dir(mkpath("%s/%s", d, "cur")) && is_dir(mkpath("%s/%s", d, "new")) &&
	      is_dir(mkpath("%s/%s", d, "tmp")));
	struct stat st;
	CHECK(stat(d, &st) == 0 && (st.st_mode & 0777) == 0700);
	CHECK(stat(mkpath("%s/%s", unit_tmpdir(), "a/b"), &st) == 0 && (st.st_mode & 0777) == 0700);
	CHECK(maildir_create(d) == 0); /* idempotent */
	/* a file in the way is an error */
	const char *f = fresh("afile");
	close(open(f, O_CREAT | O_WRONLY, 0600));
	CHECK(maildir_create(mkpath("%s/%s", f, "x")) == -1);
}

static void test_unique_base(void)
{
	char a[MAILDIR_NAME_MAX], b[MAILDIR_NAME_MAX];
	CHECK(maildir_unique_base(a, sizeof a) == 0);
	CHECK(maildir_unique_base(b, sizeof b) == 0);
	CHECK(strcmp(a, b) != 0);
	long long sec;
	long usec, pid;
	char r[32], rest[200];
	unsigned long q;
	CHECK(sscanf(a, "%lld.M%6ldP%ldR%16[0-9a-f]Q%lu.%199s", &sec, &usec, &pid, r, &q, rest) == 6);
	CHECK(llabs(sec - (long long)time(NULL)) < 5);
	CHECK(pid == getpid());
	CHECK(strlen(r) == 16);
	CHECK(strchr(a, '/') == NULL && strchr(a, ':') == NULL && strchr(a, ',') == NULL);
	/* many in a row are all different */
	static char names[1000][MAILDIR_NAME_MAX];
	for (int i = 0; i < 1000; i++)
		CHECK(maildir_unique_base(names[i], sizeof names[i]) == 0);
	int dup = 0;
	for (int i = 1; i < 1000; i++)
		dup += strcmp(names[i], names[i - 1]) == 0;
	CHECK(dup == 0);
	char tiny[8];
	CHECK(maildir_unique_base(tiny, sizeof tiny) == -1);
}

static void test_host_escape(void)
{
	char out[128];
	maildir_host_escape("mx.example.org", out, sizeof out);
	CHECK_STR(out, "mx.example.org");
	maildir_host_escape("a/b:c,d e", out, sizeof out);
	CHECK_STR(out, "a\\057b\\072c\\054d\\040e");
	char long_host[300];
	memset(long_host, 'h', sizeof long_host - 1);
	long_host[sizeof long_host - 1] = '\0';
	maildir_host_escape(long_host, out, sizeof out);
	CHECK(strlen(out) == 64);
	/* never cut inside an escape */
	memset(long_host, '/', 100);
	long_host[100] = '\0';
	maildir_host_escape(long_host, out, sizeof out);
	CHECK(strlen(out) == 64 && strncmp(out + 60, "\\057", 4) == 0);
}

static void test_deliver_commit(void)
{
	const char *d = fresh("deliver");
	struct maildir_tmp t;
	CHECK(maildir_tmp_open(&t, d) == 0); /* creates the maildir */
	CHECK(is_dir(mkpath("%s/%s", d, "new")));
	struct stat st;
	CHECK(fstat(t.fd, &st) == 0 && (st.st_mode & 0777) == 0600);
	const char part1[] = "Subject: hi\r\n\r\n", part2[] = "body\r\n";
	CHECK(maildir_tmp_write(&t, part1, strlen(part1)) == 0);
	CHECK(maildir_tmp_write(&t, part2, strlen(part2)) == 0);
	CHECK(t.size == (off_t)(strlen(part1) + strlen(part2)));
	CHECK(maildir_tmp_finish(&t) == 0);
	CHECK(maildir_tmp_finish(&t) == 0); /* idempotent */
	char name[MAILDIR_NAME_MAX];
	CHECK(maildir_tmp_commit(&t, name, sizeof name) == 0);
	char expect[MAILDIR_NAME_MAX + 64];
	snprintf(expect, sizeof expect, "%s,S=21", t.base);
	CHECK_STR(name, expect);
	CHECK(count_dir(d, "tmp") == 0 && count_dir(d, "new") == 1);
	size_t len;
	char *s = slurp(mkpath("%s/new/%s", d, name), &len);
	CHECK(s && len == 21 && memcmp(s, "Subject: hi\r\n\r\nbody\r\n", 21) == 0);
	CHECK(maildir_name_size(name) == 21);
	maildir_tmp_abort(&t); /* harmless after commit */
	CHECK(count_dir(d, "new") == 1);

	/* maildir_deliver in one go, name_r optional */
	CHECK(maildir_deliver(d, "x\r\n", 3, NULL, 0) == 0);
	CHECK(count_dir(d, "new") == 2 && count_dir(d, "tmp") == 0);
	/* name buffer too small: refused before anything is visible */
	char small[8];
	CHECK(maildir_deliver(d, "x\r\n", 3, small, sizeof small) == -1);
	CHECK(count_dir(d, "new") == 2 && count_dir(d, "tmp") == 0);
}

static void test_write_failure(void)
{
	const char *d = fresh("wfail");
	struct maildir_tmp t;
	CHECK(maildir_tmp_open(&t, d) == 0);
	CHECK(maildir_tmp_write(&t, "abc", 3) == 0);
	close(t.fd); /* the next write fails with EBADF */
	CHECK(maildir_tmp_write(&t, "def", 3) == -1 && errno == EBADF);
	CHECK(t.failed && t.err == EBADF);
	CHECK(maildir_tmp_write(&t, "ghi", 3) == -1); /* remembered */
	t.fd = -1;
	CHECK(maildir_tmp_commit(&t, NULL, 0) == -1 && errno == EBADF);
	CHECK(count_dir(d, "tmp") == 0 && count_dir(d, "new") == 0);
}

static void test_abort(void)
{
	const char *d = fresh("abort");
	struct maildir_tmp t;
	CHECK(maildir_tmp_open(&t, d) == 0);
	CHECK(maildir_tmp_write(&t, "abc", 3) == 0);
	CHECK(count_dir(d, "tmp") == 1);
	maildir_tmp_abort(&t);
	CHECK(count_dir(d, "tmp") == 0 && count_dir(d, "new") == 0);
	maildir_tmp_abort(&t); /* twice is fine */
	/* a failed open leaves a struct that abort accepts */
	CHECK(maildir_tmp_open(&t, "/proc/nonexistent/x") == -1);
	maildir_tmp_abort(&t);
}

static void test_clone(void)
{
	const char *a = fresh("clone-a"), *b = fresh("clone-b");
	struct maildir_tmp t, c;
	CHECK(maildir_tmp_open(&t, a) == 0);
	CHECK(maildir_tmp_write(&t, "hello\r\n", 7) == 0);
	CHECK(maildir_tmp_clone(&t, b, &c) == 0); /* src still open: fsync'd */
	CHECK(c.fd == -1 && c.size == 7 && !c.failed);
	char na[MAILDIR_NAME_MAX], nb[MAILDIR_NAME_MAX];
	CHECK(maildir_tmp_commit(&t, na, sizeof na) == 0);
	CHECK(maildir_tmp_commit(&c, nb, sizeof nb) == 0);
	struct stat sa, sb;
	CHECK(stat(mkpath("%s/new/%s", a, na), &sa) == 0 && stat(mkpath("%s/new/%s", b, nb), &sb) == 0);
	CHECK(sa.st_ino == sb.st_ino); /* hard link */
	CHECK(count_dir(a, "tmp") == 0 && count_dir(b, "tmp") == 0);
	size_t len;
	char *s = slurp(mkpath("%s/new/%s", b, nb), &len);
	CHECK(s && len == 7 && memcmp(s, "hello\r\n", 7) == 0);
	/* a failed source cannot be cloned */
	CHECK(maildir_tmp_open(&t, a) == 0);
	t.failed = true;
	t.err = EIO;
	CHECK(maildir_tmp_clone(&t, b, &c) == -1 && errno == EIO);
	maildir_tmp_abort(&c);
	t.failed = false;
	maildir_tmp_abort(&t);
}

static void test_clone_copy(void)
{
	/* /dev/shm is another file system than $TMPDIR here: link gives EXDEV */
	const char *a = fresh("clone-copy");
	char b[256];
	snprintf(b, sizeof b, "/dev/shm/postern-unit-%d", (int)getpid());
	struct stat st1, st2;
	if (stat("/dev/shm", &st1) < 0 || stat(unit_tmpdir(), &st2) < 0 || st1.st_dev == st2.st_dev) {
		printf("# skipped: no second file system\n");
		return;
	}
	struct maildir_tmp t, c;
	CHECK(maildir_tmp_open(&t, a) == 0);
	char big[100000];
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (char)('a' + i % 26);
	CHECK(maildir_tmp_write(&t, big, sizeof big) == 0);
	CHECK(maildir_tmp_finish(&t) == 0);
	CHECK(maildir_tmp_clone(&t, b, &c) == 0);
	char nb[MAILDIR_NAME_MAX];
	CHECK(maildir_tmp_commit(&c, nb, sizeof nb) == 0);
	size_t len;
	char *s = slurp(mkpath("%s/new/%s", b, nb), &len);
	CHECK(s && len == sizeof big && memcmp(s, big, sizeof big) == 0);
	maildir_tmp_abort(&t);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", b);
	CHECK(system(cmd) == 0);
}

static void test_commit_cur(void)
{
	const char *d = fresh("commit-cur");
	struct maildir_tmp t;
	CHECK(maildir_tmp_open(&t, d) == 0);
	CHECK(maildir_tmp_write(&t, "abc\r\n", 5) == 0);
	char name[MAILDIR_NAME_MAX];
	time_t when = 1000000000;
	CHECK(maildir_tmp_commit_cur(&t, MAILDIR_F_SEEN | MAILDIR_F_DRAFT, 1u << 2, when, name,
				     sizeof name) == 0);
	char expect[MAILDIR_NAME_MAX + 64];
	snprintf(expect, sizeof expect, "%s,S=5:2,DSc", t.base);
	CHECK_STR(name, expect);
	struct stat st;
	CHECK(stat(mkpath("%s/cur/%s", d, name), &st) == 0 && st.st_mtime == when);
	CHECK(count_dir(d, "tmp") == 0 && count_dir(d, "new") == 0);
	/* mtime 0 leaves the time alone */
	CHECK(maildir_tmp_open(&t, d) == 0);
	CHECK(maildir_tmp_commit_cur(&t, 0, 0, 0, name, sizeof name) == 0);
	CHECK(stat(mkpath("%s/cur/%s", d, name), &st) == 0 && llabs((long long)(st.st_mtime - time(NULL))) < 5);
	CHECK(strstr(name, ",S=0:2,") != NULL);
}

static void test_uncommit(void)
{
	const char *d = fresh("uncommit");
	char name[MAILDIR_NAME_MAX];
	CHECK(maildir_deliver(d, "m\r\n", 3, name, sizeof name) == 0);
	CHECK(maildir_uncommit(d, name) == 0);
	CHECK(count_dir(d, "new") == 0);
	/* already moved to cur/ by a reader: still found and removed */
	CHECK(maildir_deliver(d, "m\r\n", 3, name, sizeof name) == 0);
	CHECK(maildir_set_flags(d, name, true, MAILDIR_F_SEEN, 0, NULL, 0) == 1);
	CHECK(maildir_uncommit(d, name) == 0);
	CHECK(count_dir(d, "cur") == 0);
	CHECK(maildir_uncommit(d, name) == 0); /* gone is fine */
}

static void touch_at(const char *path, time_t t)
{
	int fd = open(path, O_CREAT | O_WRONLY, 0600);
	if (fd >= 0)
		close(fd);
	struct timespec ts[2] = { { .tv_sec = t }, { .tv_sec = t } };
	utimensat(AT_FDCWD, path, ts, 0);
}

static void test_tmp_cleanup(void)
{
	const char *d = fresh("cleanup");
	CHECK(maildir_create(d) == 0);
	time_t now = time(NULL);
	touch_at(mkpath("%s/tmp/%s", d, "old"), now - 37 * 3600);
	touch_at(mkpath("%s/tmp/%s", d, "young"), now - 35 * 3600);
	touch_at(mkpath("%s/tmp/%s", d, "fresh"), now);
	CHECK(mkdir(mkpath("%s/tmp/%s", d, "olddir"), 0700) == 0);
	touch_at(mkpath("%s/tmp/%s", d, "olddir"), now - 100 * 3600);
	struct maildir_tmp t;
	unsetenv("POSTERN_NOW");
	CHECK(maildir_tmp_open(&t, d) == 0);
	maildir_tmp_abort(&t);
	CHECK(!exists(mkpath("%s/tmp/%s", d, "old")));
	CHECK(exists(mkpath("%s/tmp/%s", d, "young")) && exists(mkpath("%s/tmp/%s", d, "fresh")));
	CHECK(is_dir(mkpath("%s/tmp/%s", d, "olddir"))); /* directories are not ours */

	/* the clock from $POSTERN_NOW: 35.5 hours later "young" is stale */
	char nowbuf[32];
	snprintf(nowbuf, sizeof nowbuf, "%lld", (long long)(now + 3600 + 1800));
	setenv("POSTERN_NOW", nowbuf, 1);
	CHECK(maildir_tmp_open(&t, d) == 0);
	CHECK(!exists(mkpath("%s/tmp/%s", d, "young")) && exists(mkpath("%s/tmp/%s", d, "fresh")));
	CHECK(exists(t.path)); /* never the file it just made */
	maildir_tmp_abort(&t);
	snprintf(nowbuf, sizeof nowbuf, "%lld", (long long)(now + 37 * 3600));
	setenv("POSTERN_NOW", nowbuf, 1);
	CHECK(maildir_tmp_open(&t, d) == 0);
	CHECK(!exists(mkpath("%s/tmp/%s", d, "fresh")));
	CHECK(count_dir(d, "tmp") == 2); /* ours and olddir */
	CHECK(maildir_tmp_commit(&t, NULL, 0) == 0);
	unsetenv("POSTERN_NOW");
}

static void test_names(void)
{
	CHECK(maildir_base_len("123.M1P2.host,S=10:2,S") == 18);
	CHECK(maildir_base_len("123.M1P2.host") == 13);
	CHECK(maildir_base_len("") == 0);
	uint32_t kw = 99;
	CHECK(maildir_name_flags("x,S=1:2,DFPRST", &kw) == 0x3f && kw == 0);
	CHECK(maildir_name_flags("x:2,Sac", &kw) == MAILDIR_F_SEEN && kw == 0x5);
	CHECK(maildir_name_flags("x:2,RTz", &kw) == (MAILDIR_F_REPLIED | MAILDIR_F_TRASHED) && kw == 1u << 25);
	CHECK(maildir_name_flags("x", &kw) == 0 && kw == 0);
	CHECK(maildir_name_flags("x:1,S", &kw) == 0); /* only the ":2," info */
	CHECK(maildir_name_flags("x:2,S?Q", NULL) == MAILDIR_F_SEEN); /* unknown letters ignored */

	CHECK(maildir_name_size("1.M2P3.h,S=1234:2,S") == 1234);
	CHECK(maildir_name_size("1.M2P3.h,S=1234,W=1300:2,S") == 1234);
	CHECK(maildir_name_size("1.M2P3.h,W=1300,S=77") == 77);
	CHECK(maildir_name_size("1.M2P3.h") == -1);
	CHECK(maildir_name_size("1.M2P3.h,S=") == -1);
	CHECK(maildir_name_size("1.M2P3.h,S=12x") == -1);
	CHECK(maildir_name_size("1.M2P3.h,S=99999999999999999999999") == -1);
	CHECK(maildir_name_size("1.M2P3.h:2,S=5") == -1); /* not in the base */
	CHECK(maildir_name_size("1.M2P3.h,S=0") == 0);
}

static void test_name_build_roundtrip(void)
{
	char out[MAILDIR_NAME_MAX];
	const char *base = "1.M2P3.h,S=5";
	CHECK(maildir_name_build(out, sizeof out, base, strlen(base), 0, 0) == 0);
	CHECK_STR(out, "1.M2P3.h,S=5:2,");
	CHECK(maildir_name_build(out, sizeof out, base, strlen(base), 0x3f, 0x3ffffff) == 0);
	CHECK_STR(out, "1.M2P3.h,S=5:2,DFPRSTabcdefghijklmnopqrstuvwxyz");
	/* baselen cuts the old info off */
	const char *named = "1.M2P3.h,S=5:2,S";
	CHECK(maildir_name_build(out, sizeof out, named, maildir_base_len(named), MAILDIR_F_FLAGGED, 0) == 0);
	CHECK_STR(out, "1.M2P3.h,S=5:2,F");
	/* every system flag combination and a spread of keywords round-trip */
	int bad = 0;
	for (unsigned f = 0; f < 64; f++) {
		for (uint32_t k = 0; k < (1u << 26); k = k * 7 + 1 + (k & 3)) {
			uint32_t k2;
			if (maildir_name_build(out, sizeof out, base, strlen(base), f, k) < 0 ||
			    maildir_name_flags(out, &k2) != f || k2 != k || maildir_name_size(out) != 5 ||
			    maildir_base_len(out) != strlen(base))
				bad++;
			/* letters in ASCII order */
			const char *info = strstr(out, ":2,") + 3;
			for (const char *p = info; *p && p[1]; p++)
				if ((unsigned char)p[0] >= (unsigned char)p[1])
					bad++;
		}
	}
	CHECK(bad == 0);
	char small[10];
	CHECK(maildir_name_build(small, sizeof small, base, strlen(base), 0, 0) == -1);
	CHECK(maildir_name_build(out, sizeof out, "a/b", 3, 0, 0) == -1);
	CHECK(maildir_name_build(out, sizeof out, "", 0, 0, 0) == -1);
}

static int cmp_entries(const void *a, const void *b)
{
	return strcmp(((const struct maildir_entry *)a)->name, ((const struct maildir_entry *)b)->name);
}

static void test_scan(void)
{
	const char *d = fresh("scan");
	char n1[MAILDIR_NAME_MAX], n2[MAILDIR_NAME_MAX], n3[MAILDIR_NAME_MAX];
	CHECK(maildir_deliver(d, "one\r\n", 5, n1, sizeof n1) == 0);
	CHECK(maildir_deliver(d, "two!\r\n", 6, n2, sizeof n2) == 0);
	CHECK(maildir_set_flags(d, n2, true, MAILDIR_F_SEEN, 1, n3, sizeof n3) == 1);
	/* a foreign file without S=, a dot file, a directory, a tmp file */
	FILE *f = fopen(mkpath("%s/cur/%s", d, "1.foreign:2,F"), "w");
	fputs("foreign\r\n", f);
	fclose(f);
	touch_at(mkpath("%s/cur/%s", d, ".hidden"), time(NULL));
	CHECK(mkdir(mkpath("%s/cur/%s", d, "subdir"), 0700) == 0);
	touch_at(mkpath("%s/tmp/%s", d, "partial"), time(NULL));
	touch_at(mkpath("%s/cur/%s", d, "1.foreign:2,F"), 1234567890);

	struct maildir_list l;
	CHECK(maildir_scan(d, false, &l) == 0);
	CHECK(l.n == 3);
	qsort(l.e, l.n, sizeof *l.e, cmp_entries);
	/* sorted: "1.foreign..." first, then ours (digits larger) */
	CHECK_STR(l.e[0].name, "1.foreign:2,F");
	CHECK(l.e[0].size == 9 && l.e[0].flags == MAILDIR_F_FLAGGED && !l.e[0].in_new);
	CHECK(l.e[0].mtime == 0);
	int seen = 0;
	for (size_t i = 1; i < l.n; i++) {
		if (strcmp(l.e[i].name, n1) == 0)
			seen += l.e[i].in_new && l.e[i].size == 5 && l.e[i].flags == 0 ? 1 : 100;
		if (strcmp(l.e[i].name, n3) == 0)
			seen += !l.e[i].in_new && l.e[i].size == 6 && l.e[i].flags == MAILDIR_F_SEEN &&
					l.e[i].keywords == 1 ? 1 : 100;
	}
	CHECK(seen == 2);
	maildir_list_free(&l);
	CHECK(l.n == 0 && l.e == NULL);
	CHECK(maildir_scan(d, true, &l) == 0);
	qsort(l.e, l.n, sizeof *l.e, cmp_entries);
	CHECK(l.n == 3 && l.e[0].mtime == 1234567890 && l.e[1].mtime > 0);
	maildir_list_free(&l);
	/* missing maildir or subdirectory: an error, not an empty list */
	CHECK(maildir_scan(fresh("nope"), false, &l) == -1 && errno == ENOENT && l.n == 0);
	CHECK(rmdir(mkpath("%s/%s", d, "cur/subdir")) == 0);
	const char *e = fresh("scan-nocur");
	CHECK(maildir_create(e) == 0 && rmdir(mkpath("%s/%s", e, "cur")) == 0);
	CHECK(maildir_scan(e, false, &l) == -1 && errno == ENOENT);
}

static int count_cb(void *ctx, int dirfd, const char *name, bool in_new)
{
	(void)name;
	CHECK(dirfd >= 0);
	int *n = ctx;
	n[in_new ? 0 : 1]++;
	return n[2] && n[0] + n[1] >= n[2] ? -1 : 0;
}

static void test_scan_names(void)
{
	const char *d = fresh("scan-names");
	char name[MAILDIR_NAME_MAX];
	for (int i = 0; i < 5; i++)
		CHECK(maildir_deliver(d, "x\r\n", 3, name, sizeof name) == 0);
	CHECK(maildir_set_flags(d, name, true, 0, 0, NULL, 0) == 1);
	int n[3] = { 0, 0, 0 };
	CHECK(maildir_scan_names(d, count_cb, n) == 0);
	CHECK(n[0] == 4 && n[1] == 1);
	int m[3] = { 0, 0, 2 }; /* the callback stops the scan */
	CHECK(maildir_scan_names(d, count_cb, m) == -1);
	CHECK(m[0] + m[1] == 2);
}

static void test_find(void)
{
	const char *d = fresh("find");
	char name[MAILDIR_NAME_MAX], found[MAILDIR_NAME_MAX], moved[MAILDIR_NAME_MAX];
	CHECK(maildir_deliver(d, "x\r\n", 3, name, sizeof name) == 0);
	size_t bl = maildir_base_len(name);
	bool in_new = false;
	CHECK(maildir_find(d, name, bl, found, sizeof found, &in_new) == 1);
	CHECK_STR(found, name);
	CHECK(in_new);
	CHECK(maildir_set_flags(d, name, true, MAILDIR_F_SEEN, 0, moved, sizeof moved) == 1);
	CHECK(maildir_find(d, name, bl, found, sizeof found, &in_new) == 1);
	CHECK_STR(found, moved);
	CHECK(!in_new);
	/* a longer base with the same prefix is another message */
	char other[MAILDIR_NAME_MAX + 64];
	snprintf(other, sizeof other, "%.*sX", (int)bl, name);
	CHECK(maildir_find(d, other, strlen(other), found, sizeof found, NULL) == 0);
	CHECK(maildir_find(d, name, bl - 1, found, sizeof found, NULL) == 0);
	CHECK(unlink(mkpath("%s/cur/%s", d, moved)) == 0);
	CHECK(maildir_find(d, name, bl, found, sizeof found, &in_new) == 0);
	CHECK(maildir_find(d, "a/b", 3, found, sizeof found, NULL) == -1 && errno == EINVAL);
	CHECK(maildir_find(d, "", 0, found, sizeof found, NULL) == -1);
}

static void test_set_flags(void)
{
	const char *d = fresh("flags");
	char name[MAILDIR_NAME_MAX], n2[MAILDIR_NAME_MAX], n3[MAILDIR_NAME_MAX];
	CHECK(maildir_deliver(d, "x\r\n", 3, name, sizeof name) == 0);
	/* new -> cur with the flags unchanged */
	CHECK(maildir_set_flags(d, name, true, 0, 0, n2, sizeof n2) == 1);
	char expect[MAILDIR_NAME_MAX + 64];
	snprintf(expect, sizeof expect, "%s:2,", name);
	CHECK_STR(n2, expect);
	CHECK(count_dir(d, "new") == 0 && count_dir(d, "cur") == 1);
	/* the same flags again: nothing to rename, still success */
	CHECK(maildir_set_flags(d, n2, false, 0, 0, n3, sizeof n3) == 1);
	CHECK_STR(n3, n2);
	CHECK(maildir_set_flags(d, n2, false, MAILDIR_F_SEEN | MAILDIR_F_REPLIED, 1u << 3, n3, sizeof n3) == 1);
	snprintf(expect, sizeof expect, "%s:2,RSd", name);
	CHECK_STR(n3, expect);
	CHECK(exists(mkpath("%s/cur/%s", d, n3)) && !exists(mkpath("%s/cur/%s", d, n2)));
	/* with a stale name (another process renamed it): followed */
	CHECK(maildir_set_flags(d, n2, false, MAILDIR_F_FLAGGED, 0, n3, sizeof n3) == 1);
	snprintf(expect, sizeof expect, "%s:2,F", name);
	CHECK_STR(n3, expect);
	CHECK(count_dir(d, "cur") == 1);
	/* a stale new/ name of a message now in cur/ */
	CHECK(maildir_set_flags(d, name, true, MAILDIR_F_SEEN, 0, n3, sizeof n3) == 1);
	CHECK(count_dir(d, "cur") == 1 && exists(mkpath("%s/cur/%s:2,S", d, name)));
	/* gone */
	CHECK(unlink(mkpath("%s/cur/%s:2,S", d, name)) == 0);
	CHECK(maildir_set_flags(d, name, true, MAILDIR_F_SEEN, 0, n3, sizeof n3) == 0);
	CHECK(maildir_set_flags(d, "../x", true, 0, 0, NULL, 0) == -1);
}

static void test_remove(void)
{
	const char *d = fresh("remove");
	char name[MAILDIR_NAME_MAX], n2[MAILDIR_NAME_MAX];
	CHECK(maildir_deliver(d, "x\r\n", 3, name, sizeof name) == 0);
	CHECK(maildir_remove(d, name, true) == 1);
	CHECK(count_dir(d, "new") == 0);
	CHECK(maildir_remove(d, name, true) == 0);
	CHECK(maildir_deliver(d, "x\r\n", 3, name, sizeof name) == 0);
	CHECK(maildir_set_flags(d, name, true, MAILDIR_F_TRASHED, 0, n2, sizeof n2) == 1);
	CHECK(maildir_remove(d, name, true) == 1); /* follows the move */
	CHECK(count_dir(d, "cur") == 0);
}

static void test_open_msg(void)
{
	const char *d = fresh("open");
	char name[MAILDIR_NAME_MAX], orig[MAILDIR_NAME_MAX], n2[MAILDIR_NAME_MAX];
	CHECK(maildir_deliver(d, "hello\r\n", 7, name, sizeof name) == 0);
	snprintf(orig, sizeof orig, "%s", name);
	bool in_new = true;
	int fd = maildir_open_msg(d, name, sizeof name, &in_new);
	CHECK(fd >= 0);
	char buf[16];
	CHECK(read(fd, buf, sizeof buf) == 7 && memcmp(buf, "hello\r\n", 7) == 0);
	close(fd);
	CHECK(maildir_set_flags(d, name, true, MAILDIR_F_SEEN, 0, n2, sizeof n2) == 1);
	fd = maildir_open_msg(d, name, sizeof name, &in_new); /* stale name */
	CHECK(fd >= 0);
	CHECK_STR(name, n2);
	CHECK(!in_new);
	close(fd);
	CHECK(maildir_remove(d, name, false) == 1);
	fd = maildir_open_msg(d, name, sizeof name, &in_new);
	CHECK(fd == -1 && errno == ENOENT);
	/* a name buffer too small for the new name is an error */
	snprintf(name, sizeof name, "%s", orig);
	CHECK(maildir_deliver(d, "z\r\n", 3, name, sizeof name) == 0);
	char small[MAILDIR_NAME_MAX];
	snprintf(small, sizeof small, "%s", name);
	CHECK(maildir_set_flags(d, small, true, 0x3f, 0x3ffffff, NULL, 0) == 1);
	in_new = true;
	CHECK(maildir_open_msg(d, small, strlen(small) + 2, &in_new) == -1);
}

/* Open descriptors of this process. */
static int count_fds(void)
{
	DIR *dp = opendir("/proc/self/fd");
	int n = 0;
	if (!dp)
		return -1;
	while (readdir(dp))
		n++;
	closedir(dp);
	return n;
}

/* maildir_hold_dirs: new/ and cur/ opened once for many operations, the
 * same answers as without (a stale name is followed, another maildir is
 * not served from the held pair), all closed when released. */
static void test_hold_dirs(void)
{
	const char *d = fresh("hold");
	const char *other = fresh("hold-other");
	char names[5][MAILDIR_NAME_MAX], n2[MAILDIR_NAME_MAX], oname[MAILDIR_NAME_MAX];
	for (int i = 0; i < 5; i++)
		CHECK(maildir_deliver(d, "held\r\n", 6, names[i], sizeof names[i]) == 0);
	CHECK(maildir_deliver(other, "other\r\n", 7, oname, sizeof oname) == 0);
	int base = count_fds();
	maildir_hold_dirs(d);
	CHECK(count_fds() == base); /* opened at the first use only */
	CHECK(maildir_set_flags(d, names[0], true, MAILDIR_F_SEEN, 0, n2, sizeof n2) == 1);
	int held = count_fds();
	CHECK(held == base + 2);
	for (int i = 1; i < 5; i++) {
		char nn[MAILDIR_NAME_MAX];
		CHECK(maildir_set_flags(d, names[i], true, MAILDIR_F_FLAGGED, 0, nn, sizeof nn) == 1);
		snprintf(names[i], sizeof names[i], "%s", nn);
	}
	CHECK(count_fds() == held);
	/* renamed behind our back: the stale name is followed */
	char path1[MAILDIR_PATH_MAX], path2[MAILDIR_PATH_MAX], stale[MAILDIR_NAME_MAX];
	snprintf(stale, sizeof stale, "%s", names[1]);
	snprintf(path1, sizeof path1, "%s/cur/%s", d, names[1]);
	snprintf(path2, sizeof path2, "%s/cur/%.*s:2,T", d, (int)maildir_base_len(names[1]), names[1]);
	CHECK(rename(path1, path2) == 0);
	bool in_new = false;
	int fd = maildir_open_msg(d, stale, sizeof stale, &in_new);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	CHECK(strcmp(stale, names[1]) != 0 && maildir_name_flags(stale, NULL) == MAILDIR_F_TRASHED);
	/* a gone message is gone */
	CHECK(maildir_remove(d, stale, false) == 1);
	in_new = false;
	CHECK(maildir_open_msg(d, stale, sizeof stale, &in_new) == -1 && errno == ENOENT);
	/* another maildir is opened as before */
	in_new = true;
	fd = maildir_open_msg(other, oname, sizeof oname, &in_new);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	CHECK(count_fds() == held);
	maildir_hold_dirs(NULL);
	CHECK(count_fds() == base);
	/* released: operations open and close as before */
	CHECK(maildir_set_flags(d, names[2], false, 0, 0, NULL, 0) == 1);
	CHECK(count_fds() == base);
}

/* A child keeps renaming one message through flag states (every 0.5 ms,
 * much faster than any client); the parent, always starting from the
 * message's first (long stale) name, must always find, open and re-flag it. */
static void test_concurrent_rename(void)
{
	const char *d = fresh("concurrent");
	char name[MAILDIR_NAME_MAX];
	/* some company in cur/ so that readdir takes a while */
	for (int i = 0; i < 200; i++) {
		char n[MAILDIR_NAME_MAX];
		CHECK(maildir_deliver(d, "filler\r\n", 8, n, sizeof n) == 0);
		CHECK(maildir_set_flags(d, n, true, 0, 0, NULL, 0) == 1);
	}
	CHECK(maildir_deliver(d, "target\r\n", 8, name, sizeof name) == 0);
	size_t bl = maildir_base_len(name);
	pid_t pid = fork();
	if (pid == 0) {
		char cur[MAILDIR_NAME_MAX];
		snprintf(cur, sizeof cur, "%s", name);
		bool in_new = true;
		for (unsigned i = 0;; i++) {
			char next[MAILDIR_NAME_MAX];
			if (maildir_set_flags(d, cur, in_new, i & 0x3f, i >> 6, next, sizeof next) != 1)
				_exit(1);
			snprintf(cur, sizeof cur, "%s", next);
			in_new = false;
			/* 200 renames a second, far above any client's rate: the
			 * readers follow a rename FOLLOW_TRIES (10) times, and at
			 * 2,000/s under valgrind the renamer outran a slowed
			 * directory scan ten times in a row about half the time */
			usleep(5000);
		}
	}
	int fails = 0;
	for (int i = 0; i < 300; i++) {
		char found[MAILDIR_NAME_MAX], nm[MAILDIR_NAME_MAX];
		bool in_new = true;
		if (maildir_find(d, name, bl, found, sizeof found, &in_new) != 1)
			fails++;
		snprintf(nm, sizeof nm, "%s", name);
		in_new = true;
		int fd = maildir_open_msg(d, nm, sizeof nm, &in_new);
		if (fd < 0)
			fails++;
		else {
			char buf[16];
			if (read(fd, buf, sizeof buf) != 8 || memcmp(buf, "target\r\n", 8) != 0)
				fails++;
			close(fd);
		}
		if (maildir_set_flags(d, name, true, MAILDIR_F_SEEN, 0, NULL, 0) != 1)
			fails++;
	}
	int status;
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	CHECK(WIFSIGNALED(status)); /* the child never lost it either */
	CHECK(fails == 0);
	if (fails)
		printf("# %d failures\n", fails);
	CHECK(count_dir(d, "cur") == 201 && count_dir(d, "new") == 0);
}

static void test_lock(void)
{
	const char *d = fresh("lock");
	CHECK(maildir_create(d) == 0);
	int fd = maildir_lock(d, "test.lock", false);
	CHECK(fd >= 0);
	struct stat st;
	CHECK(stat(mkpath("%s/%s", d, "test.lock"), &st) == 0 && (st.st_mode & 0777) == 0600);
	/* flock is per open file: a second open in the same process conflicts */
	CHECK(maildir_lock(d, "test.lock", false) == -1 && errno == EWOULDBLOCK);
	close(fd);
	fd = maildir_lock(d, "test.lock", true);
	CHECK(fd >= 0);
	close(fd);
	/* a holder killed with SIGKILL leaves no stale lock */
	int pfd[2];
	CHECK(pipe(pfd) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		int l = maildir_lock(d, "test.lock", true);
		if (write(pfd[1], l >= 0 ? "y" : "n", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	char c = 0;
	CHECK(read(pfd[0], &c, 1) == 1 && c == 'y');
	CHECK(maildir_lock(d, "test.lock", false) == -1);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	fd = maildir_lock(d, "test.lock", false);
	CHECK(fd >= 0);
	close(fd);
	close(pfd[0]);
	close(pfd[1]);
	CHECK(maildir_lock(fresh("no-such-dir"), "x.lock", true) == -1);
}

static void test_fsync_dir(void)
{
	CHECK(maildir_fsync_dir(unit_tmpdir()) == 0);
	CHECK(maildir_fsync_dir(fresh("absent-dir")) == -1);
}

/* --- folders --- */

static void test_folder_path(void)
{
	const char *root = "/m/u";
	char out[MAILDIR_PATH_MAX];
	static const struct {
		const char *name, *path;
	} good[] = {
		{ "INBOX", "/m/u" },
		{ "inbox", "/m/u" },
		{ "InBoX", "/m/u" },
		{ "Sent", "/m/u/.Sent" },
		{ "A/B", "/m/u/.A.B" },
		{ "A/B/C", "/m/u/.A.B.C" },
		{ "a.b", "/m/u/.a&AC4-b" },
		{ "x/.hidden", "/m/u/.x.&AC4-hidden" },
		{ ".hidden", "/m/u/.&AC4-hidden" },
		{ "...", "/m/u/.&AC4-&AC4-&AC4-" },
		{ "inbox/x", "/m/u/.INBOX.x" },
		{ "INBOXES", "/m/u/.INBOXES" },
		{ "Entw&APw-rfe", "/m/u/.Entw&APw-rfe" },
		{ "R&-D", "/m/u/.R&-D" },
		{ "with space", "/m/u/.with space" },
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		int r = maildir_folder_path(root, good[i].name, out, sizeof out);
		CHECK(r == 0);
		if (r != 0 || strcmp(out, good[i].path) != 0)
			printf("# %s -> %s (want %s)\n", good[i].name, r == 0 ? out : "error", good[i].path);
	}
	static const char *const bad[] = {
		"", "..", ".", "a/../b", "a/./b", "../x", "x/..", "/x", "x/", "/", "a//b", "//",
		"a\tb", "a\nb", "a\rb", "\x01", "a\x7f", "caf\xc3\xa9", "&AC4-", "a&AC4-b",
		"&ALgAu-", "a&b", "&", "&-&", "a&ZeVnLIqe", "&Zg-", "&2D3-", "&AGE-",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		errno = 0;
		int r = maildir_folder_path(root, bad[i], out, sizeof out);
		CHECK(r == -1 && errno == EINVAL);
		if (r != -1)
			printf("# accepted bad name #%zu\n", i);
	}
	char longname[MAILDIR_FOLDER_NAME_MAX + 2];
	memset(longname, 'x', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	CHECK(maildir_folder_path(root, longname, out, sizeof out) == -1);
	longname[MAILDIR_FOLDER_NAME_MAX] = '\0';
	CHECK(maildir_folder_path(root, longname, out, sizeof out) == 0);
	/* each '.' is 5 bytes on disk: too long for a directory name */
	memset(longname, '.', 60);
	longname[60] = '\0';
	CHECK(maildir_folder_path(root, longname, out, sizeof out) == -1);
	char small[8];
	CHECK(maildir_folder_path(root, "Sent", small, sizeof small) == -1);
}

static void test_folder_name(void)
{
	char out[MAILDIR_PATH_MAX], path[MAILDIR_PATH_MAX];
	static const char *const names[] = { "Sent", "A/B/C", "a.b", "x/.hidden", "INBOX/x",
					     "Entw&APw-rfe", "R&-D" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		CHECK(maildir_folder_path("/r", names[i], path, sizeof path) == 0);
		CHECK(maildir_folder_name(path + 3, out, sizeof out) == 0);
		CHECK_STR(out, names[i]);
	}
	static const char *const bad[] = { ".", "..", "cur", "Sent", ".a..b", ".a.", "..x",
					   ".inbox", ".INBOX", ".inbox.x", ".a&AC4", ".&AC4-&AC4-",
					   ".a\x01", "..postern-trash-123" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int r = maildir_folder_name(bad[i], out, sizeof out);
		CHECK(r == -1);
		if (r != -1)
			printf("# accepted bad dirent %s\n", bad[i]);
	}
	CHECK(maildir_folder_name(".&AC4-&AC4-", out, sizeof out) == -1); /* "..": never valid */
	CHECK(maildir_folder_name(".&AC4-&AC4-&AC4-", out, sizeof out) == 0);
	CHECK_STR(out, "...");
}

static void test_folder_create_delete(void)
{
	const char *root = fresh("folders1");
	CHECK(maildir_folder_create(root, "INBOX") == 0); /* creates the root maildir */
	CHECK(is_dir(mkpath("%s/%s", root, "cur")));
	CHECK(maildir_folder_create(root, "Sent") == 1);
	CHECK(maildir_folder_create(root, "Sent") == 0);
	CHECK(is_dir(mkpath("%s/%s", root, ".Sent/cur")) && is_dir(mkpath("%s/%s", root, ".Sent/tmp")));
	CHECK(exists(mkpath("%s/%s", root, ".Sent/maildirfolder")));
	CHECK(maildir_folder_create(root, "A/B") == 1); /* no parent needed */
	CHECK(!exists(mkpath("%s/%s", root, ".A")));
	CHECK(maildir_folder_create(root, "a/../b") == -1 && errno == EINVAL);
	/* a half-made folder (crash after mkdir) is completed */
	CHECK(mkdir(mkpath("%s/%s", root, ".Half"), 0700) == 0);
	CHECK(maildir_folder_create(root, "Half") == 0);
	CHECK(is_dir(mkpath("%s/%s", root, ".Half/new")) && exists(mkpath("%s/%s", root, ".Half/maildirfolder")));
	/* a brand new root */
	const char *r2 = fresh("folders-newroot/deep");
	CHECK(maildir_folder_create(r2, "X") == 1);
	CHECK(is_dir(mkpath("%s/%s", r2, ".X/cur")) && is_dir(mkpath("%s/%s", r2, "new")));

	CHECK(maildir_deliver(mkpath("%s/%s", root, ".Sent"), "m\r\n", 3, NULL, 0) == 0);
	CHECK(maildir_folder_create(root, "Sent/Sub") == 1);
	CHECK(maildir_folder_delete(root, "Sent") == 1);
	CHECK(!exists(mkpath("%s/%s", root, ".Sent")));
	CHECK(is_dir(mkpath("%s/%s", root, ".Sent.Sub"))); /* children stay */
	CHECK(maildir_folder_delete(root, "Sent") == 0);
	CHECK(maildir_folder_delete(root, "INBOX") == -1 && errno == EPERM);
	CHECK(maildir_folder_delete(root, "..") == -1 && errno == EINVAL);
	/* nothing left behind */
	DIR *dd = opendir(root);
	struct dirent *de;
	int trash = 0;
	while ((de = readdir(dd)) != NULL)
		trash += strncmp(de->d_name, "..postern", 9) == 0;
	closedir(dd);
	CHECK(trash == 0);
}

static void test_folder_rename(void)
{
	const char *root = fresh("folders2");
	CHECK(maildir_folder_create(root, "A") == 1);
	CHECK(maildir_folder_create(root, "A/B") == 1);
	CHECK(maildir_folder_create(root, "A/B/C") == 1);
	CHECK(maildir_folder_create(root, "AB") == 1); /* not a child of A */
	CHECK(maildir_deliver(mkpath("%s/%s", root, ".A.B"), "m\r\n", 3, NULL, 0) == 0);
	CHECK(maildir_folder_rename(root, "A", "C") == 1);
	CHECK(!exists(mkpath("%s/%s", root, ".A")) && !exists(mkpath("%s/%s", root, ".A.B")));
	CHECK(is_dir(mkpath("%s/%s", root, ".C")) && is_dir(mkpath("%s/%s", root, ".C.B")) &&
	      is_dir(mkpath("%s/%s", root, ".C.B.C")) && is_dir(mkpath("%s/%s", root, ".AB")));
	CHECK(count_dir(mkpath("%s/%s", root, ".C.B"), "new") == 1);
	CHECK(maildir_folder_rename(root, "A", "D") == 0);
	CHECK(maildir_folder_rename(root, "C", "AB") == -2);
	CHECK(maildir_folder_rename(root, "C", "C") == -2);
	CHECK(maildir_folder_rename(root, "C", "INBOX") == -2);
	CHECK(maildir_folder_rename(root, "C", "C/X") == -1 && errno == EINVAL);
	CHECK(maildir_folder_rename(root, "C", "/bad") == -1);
	CHECK(maildir_folder_rename(root, "C/B", "X.Y") == 1);
	CHECK(is_dir(mkpath("%s/%s", root, ".X&AC4-Y")) && is_dir(mkpath("%s/%s", root, ".X&AC4-Y.C")));
	/* a child's target exists: nothing moves */
	CHECK(maildir_folder_create(root, "P") == 1);
	CHECK(maildir_folder_create(root, "P/Q") == 1);
	CHECK(maildir_folder_create(root, "R/Q") == 1);
	CHECK(maildir_folder_rename(root, "P", "R") == -2);
	CHECK(is_dir(mkpath("%s/%s", root, ".P")) && is_dir(mkpath("%s/%s", root, ".P.Q")));

	/* RENAME INBOX moves its messages into the new folder */
	CHECK(maildir_create(root) == 0);
	char n1[MAILDIR_NAME_MAX];
	CHECK(maildir_deliver(root, "1\r\n", 3, n1, sizeof n1) == 0);
	CHECK(maildir_deliver(root, "2\r\n", 3, NULL, 0) == 0);
	CHECK(maildir_set_flags(root, n1, true, MAILDIR_F_SEEN, 0, NULL, 0) == 1);
	CHECK(maildir_folder_rename(root, "INBOX", "Old") == 1);
	CHECK(count_dir(root, "new") == 0 && count_dir(root, "cur") == 0);
	const char *old = mkpath("%s/%s", root, ".Old");
	CHECK(count_dir(old, "new") == 1 && count_dir(old, "cur") == 1);
	CHECK(maildir_folder_rename(root, "INBOX", "Old") == -2);
}

static void test_folder_list(void)
{
	const char *root = fresh("folders3");
	char **names;
	size_t n;
	CHECK(maildir_folder_list(root, &names, &n) == 0 && n == 0); /* no root yet */
	maildir_names_free(names, n);
	static const char *const create[] = { "Trash", "A/B", "a.b", "Sent", "A", "INBOX/sub" };
	for (size_t i = 0; i < sizeof create / sizeof create[0]; i++)
		CHECK(maildir_folder_create(root, create[i]) == 1);
	/* things that are not folders */
	CHECK(mkdir(mkpath("%s/%s", root, ".a..b"), 0700) == 0);
	CHECK(mkdir(mkpath("%s/%s", root, "..postern-trash-1"), 0700) == 0);
	touch_at(mkpath("%s/%s", root, ".file"), time(NULL));
	CHECK(mkdir(mkpath("%s/%s", root, ".inbox"), 0700) == 0);
	CHECK(maildir_folder_list(root, &names, &n) == 0);
	static const char *const want[] = { "A", "A/B", "INBOX/sub", "Sent", "Trash", "a.b" };
	CHECK(n == 6);
	for (size_t i = 0; i < n && i < 6; i++)
		CHECK_STR(names[i], want[i]);
	maildir_names_free(names, n);
}

static void test_subscriptions(void)
{
	const char *root = fresh("subs");
	CHECK(maildir_create(root) == 0);
	char **names;
	size_t n;
	CHECK(maildir_subscriptions_read(root, &names, &n) == 0 && n == 0);
	maildir_names_free(names, n);
	CHECK(maildir_subscribe(root, "Sent", true) == 0);
	CHECK(maildir_subscribe(root, "A/B", true) == 0);
	CHECK(maildir_subscribe(root, "inbox", true) == 0);
	CHECK(maildir_subscribe(root, "Sent", true) == 0); /* once only */
	CHECK(maildir_subscribe(root, "Nonexistent", true) == 0);
	CHECK(maildir_subscribe(root, "a//b", true) == -1 && errno == EINVAL);
	size_t len;
	char *s = slurp(mkpath("%s/%s", root, "subscriptions"), &len);
	CHECK_STR(s, "Sent\nA/B\nINBOX\nNonexistent\n");
	struct stat st1, st2;
	CHECK(stat(mkpath("%s/%s", root, "subscriptions"), &st1) == 0);
	CHECK(maildir_subscribe(root, "Gone", false) == 0); /* no change: not rewritten */
	CHECK(stat(mkpath("%s/%s", root, "subscriptions"), &st2) == 0 && st1.st_ino == st2.st_ino);
	CHECK(maildir_subscribe(root, "Nonexistent", false) == 0);
	CHECK(maildir_subscriptions_read(root, &names, &n) == 0);
	CHECK(n == 3 && strcmp(names[0], "Sent") == 0 && strcmp(names[1], "A/B") == 0 &&
	      strcmp(names[2], "INBOX") == 0);
	maildir_names_free(names, n);
	CHECK(!exists(mkpath("%s/%s", root, "subscriptions.tmp")));
	/* a file written by another server: CRLF, blanks, junk and duplicates */
	FILE *f = fopen(mkpath("%s/%s", root, "subscriptions"), "w");
	fputs("Sent\r\n\r\nTrash\n../etc\nSent\n/x\nArchive", f);
	fclose(f);
	CHECK(maildir_subscriptions_read(root, &names, &n) == 0);
	CHECK(n == 3 && strcmp(names[0], "Sent") == 0 && strcmp(names[1], "Trash") == 0 &&
	      strcmp(names[2], "Archive") == 0);
	maildir_names_free(names, n);
	CHECK(maildir_subscribe(root, "Trash", false) == 0);
	s = slurp(mkpath("%s/%s", root, "subscriptions"), &len);
	CHECK_STR(s, "Sent\nArchive\n");
}

/* --- symlinks at or below a maildir are never followed --- */

/* An "outside" directory holding a maildir with one message in cur/. */
static const char *outside_box(const char *name, char *msg_r, size_t len)
{
	const char *o = fresh(name);
	CHECK(maildir_create(o) == 0);
	char n[MAILDIR_NAME_MAX];
	CHECK(maildir_deliver(o, "SECRET\r\n", 8, n, sizeof n) == 0);
	CHECK(maildir_set_flags(o, n, true, 0, 0, msg_r, len) == 1);
	return o;
}

static int count_all(const char *dir)
{
	return count_dir(dir, "cur") + count_dir(dir, "new") + count_dir(dir, "tmp");
}

static void test_symlink_new_tmp(void)
{
	char m[MAILDIR_NAME_MAX];
	const char *out = outside_box("sl-out1", m, sizeof m);
	const char *d = fresh("sl-new");
	CHECK(maildir_create(d) == 0);
	CHECK(rmdir(mkpath("%s/%s", d, "new")) == 0);
	CHECK(symlink(mkpath("%s/%s", out, "new"), mkpath("%s/%s", d, "new")) == 0);
	CHECK(maildir_deliver(d, "x\r\n", 3, NULL, 0) == -1);
	CHECK(count_all(out) == 1);
	CHECK(count_dir(d, "tmp") == 0); /* nothing left behind either */
	CHECK(maildir_create(d) == -1);  /* not "repaired" through the link */
	/* tmp/ a symlink: nothing is written there, stale files are not cleaned */
	const char *d2 = fresh("sl-tmp");
	CHECK(maildir_create(d2) == 0);
	CHECK(rmdir(mkpath("%s/%s", d2, "tmp")) == 0);
	CHECK(symlink(mkpath("%s/%s", out, "cur"), mkpath("%s/%s", d2, "tmp")) == 0);
	setenv("POSTERN_NOW", "4000000000", 1); /* the outside file would be stale */
	struct maildir_tmp t;
	CHECK(maildir_tmp_open(&t, d2) == -1);
	maildir_tmp_abort(&t);
	unsetenv("POSTERN_NOW");
	CHECK(maildir_deliver(d2, "x\r\n", 3, NULL, 0) == -1);
	CHECK(count_all(out) == 1 && exists(mkpath("%s/cur/%s", out, m)));
	/* a clone into a maildir with a symlinked new/ is not committed */
	const char *d3 = fresh("sl-clone-src");
	CHECK(maildir_tmp_open(&t, d3) == 0);
	CHECK(maildir_tmp_write(&t, "y\r\n", 3) == 0);
	struct maildir_tmp c;
	if (maildir_tmp_clone(&t, d, &c) == 0)
		CHECK(maildir_tmp_commit(&c, NULL, 0) == -1);
	maildir_tmp_abort(&t);
	CHECK(count_all(out) == 1);
}

static void test_symlink_cur(void)
{
	char m[MAILDIR_NAME_MAX];
	const char *out = outside_box("sl-out2", m, sizeof m);
	const char *d = fresh("sl-cur");
	CHECK(maildir_create(d) == 0);
	CHECK(rmdir(mkpath("%s/%s", d, "cur")) == 0);
	CHECK(symlink(mkpath("%s/%s", out, "cur"), mkpath("%s/%s", d, "cur")) == 0);
	struct maildir_list l;
	CHECK(maildir_scan(d, true, &l) == -1 && l.n == 0);
	maildir_list_free(&l);
	char name[MAILDIR_NAME_MAX], found[MAILDIR_NAME_MAX];
	bool in_new = false;
	snprintf(name, sizeof name, "%s", m);
	CHECK(maildir_open_msg(d, name, sizeof name, &in_new) == -1);
	in_new = true; /* a stale name: following it must not find cur/ either */
	CHECK(maildir_open_msg(d, name, sizeof name, &in_new) == -1);
	CHECK(maildir_find(d, m, maildir_base_len(m), found, sizeof found, &in_new) == -1);
	CHECK(maildir_set_flags(d, m, false, MAILDIR_F_SEEN, 0, NULL, 0) == -1);
	CHECK(maildir_set_flags(d, m, true, MAILDIR_F_SEEN, 0, NULL, 0) == -1);
	CHECK(maildir_remove(d, m, false) == -1);
	CHECK(maildir_uncommit(d, m) == -1);
	CHECK(exists(mkpath("%s/cur/%s", out, m)) && count_all(out) == 1);
	/* the message arrives in new/ but is never moved into the link */
	CHECK(maildir_deliver(d, "z\r\n", 3, name, sizeof name) == 0);
	CHECK(maildir_set_flags(d, name, true, MAILDIR_F_SEEN, 0, NULL, 0) == -1);
	struct maildir_tmp t;
	CHECK(maildir_tmp_open(&t, d) == 0);
	CHECK(maildir_tmp_commit_cur(&t, MAILDIR_F_SEEN, 0, 0, NULL, 0) == -1);
	CHECK(count_all(out) == 1 && count_dir(d, "new") == 1 && count_dir(d, "tmp") == 0);
}

static void test_symlink_maildir(void)
{
	char m[MAILDIR_NAME_MAX];
	const char *out = outside_box("sl-out3", m, sizeof m);
	const char *d = fresh("sl-box");
	CHECK(symlink(out, d) == 0);
	struct maildir_list l;
	CHECK(maildir_scan(d, false, &l) == -1);
	maildir_list_free(&l);
	CHECK(maildir_create(d) == -1);
	CHECK(maildir_deliver(d, "x\r\n", 3, NULL, 0) == -1);
	CHECK(maildir_lock(d, "x.lock", false) == -1);
	char name[MAILDIR_NAME_MAX];
	bool in_new = false;
	snprintf(name, sizeof name, "%s", m);
	CHECK(maildir_open_msg(d, name, sizeof name, &in_new) == -1);
	CHECK(maildir_set_flags(d, m, false, MAILDIR_F_SEEN, 0, NULL, 0) == -1);
	CHECK(maildir_remove(d, m, false) == -1);
	CHECK(maildir_subscribe(d, "Foo", true) == -1);
	CHECK(count_all(out) == 1 && exists(mkpath("%s/cur/%s", out, m)));
	CHECK(!exists(mkpath("%s/%s", out, "x.lock")) && !exists(mkpath("%s/%s", out, "subscriptions")));
	/* the lock file itself a symlink */
	const char *d2 = fresh("sl-lock");
	CHECK(maildir_create(d2) == 0);
	CHECK(symlink(mkpath("%s/%s", out, "planted.lock"), mkpath("%s/%s", d2, "y.lock")) == 0);
	CHECK(maildir_lock(d2, "y.lock", false) == -1);
	CHECK(!exists(mkpath("%s/%s", out, "planted.lock")));
}

static void test_symlink_folder(void)
{
	char m[MAILDIR_NAME_MAX];
	const char *out = outside_box("sl-out4", m, sizeof m);
	const char *root = fresh("sl-folders");
	CHECK(maildir_folder_create(root, "Real") == 1);
	CHECK(symlink(out, mkpath("%s/%s", root, ".Evil")) == 0);
	char **names;
	size_t n;
	CHECK(maildir_folder_list(root, &names, &n) == 0);
	CHECK(n == 1 && strcmp(names[0], "Real") == 0);
	maildir_names_free(names, n);
	char path[MAILDIR_PATH_MAX];
	CHECK(maildir_folder_path(root, "Evil", path, sizeof path) == 0);
	struct maildir_list l;
	CHECK(maildir_scan(path, false, &l) == -1);
	maildir_list_free(&l);
	CHECK(maildir_deliver(path, "x\r\n", 3, NULL, 0) == -1);
	char name[MAILDIR_NAME_MAX];
	bool in_new = false;
	snprintf(name, sizeof name, "%s", m);
	CHECK(maildir_open_msg(path, name, sizeof name, &in_new) == -1);
	CHECK(maildir_lock(path, "z.lock", false) == -1);
	CHECK(maildir_folder_create(root, "Evil") == -1);
	CHECK(maildir_folder_delete(root, "Evil") == -1);
	CHECK(maildir_folder_rename(root, "Evil", "Evil2") == -1);
	CHECK(!exists(mkpath("%s/%s", root, ".Evil2")));
	CHECK(count_all(out) == 1 && exists(mkpath("%s/cur/%s", out, m)));
	CHECK(!exists(mkpath("%s/%s", out, "maildirfolder")) && !exists(mkpath("%s/%s", out, "z.lock")));
	/* a symlinked user maildir is refused for its folders too */
	const char *r2 = fresh("sl-folders-root");
	CHECK(symlink(root, r2) == 0);
	CHECK(maildir_folder_path(r2, "Real", path, sizeof path) == 0);
	CHECK(maildir_deliver(path, "x\r\n", 3, NULL, 0) == -1);
	CHECK(maildir_folder_list(r2, &names, &n) == -1);
	CHECK(count_dir(mkpath("%s/%s", root, ".Real"), "new") == 0);
}

/* A FIFO planted where a message or a store file belongs does not hang. */
static void test_fifo(void)
{
	const char *d = fresh("fifo");
	CHECK(maildir_create(d) == 0);
	const char *m = "1.M1P1Q1.host,S=3:2,S";
	CHECK(mkfifo(mkpath("%s/cur/%s", d, m), 0600) == 0);
	char name[MAILDIR_NAME_MAX];
	bool in_new = false;
	snprintf(name, sizeof name, "%s", m);
	CHECK(maildir_open_msg(d, name, sizeof name, &in_new) == -1 && errno == EINVAL);
	CHECK(mkfifo(mkpath("%s/%s", d, "subscriptions"), 0600) == 0);
	char **names;
	size_t n;
	CHECK(maildir_subscriptions_read(d, &names, &n) == -1);
}

static void test_check_user_dir(void)
{
	struct config cfg;
	memset(&cfg, 0, sizeof cfg);
	/* mail_root itself may be a symlink */
	const char *real = fresh("cu-real");
	CHECK(mkdir(real, 0700) == 0);
	const char *mr = fresh("cu-root");
	CHECK(symlink(real, mr) == 0);
	snprintf(cfg.mail_root, sizeof cfg.mail_root, "%s", mr);
	char dir[MAILDIR_PATH_MAX];
	CHECK(maildir_user_path(&cfg, "alice", "example.org", dir, sizeof dir) == 0);
	CHECK(maildir_check_user_dir(&cfg, dir) == 0); /* absent is fine */
	CHECK(maildir_create(dir) == 0);
	CHECK(maildir_check_user_dir(&cfg, dir) == 0);
	/* <local> a symlink */
	const char *out = fresh("cu-out");
	CHECK(maildir_create(out) == 0);
	CHECK(maildir_user_path(&cfg, "bob", "example.org", dir, sizeof dir) == 0);
	CHECK(symlink(out, dir) == 0);
	CHECK(maildir_check_user_dir(&cfg, dir) == -1 && errno == ELOOP);
	/* <domain> a symlink */
	CHECK(symlink(mkpath("%s/%s", real, "example.org"), mkpath("%s/%s", real, "example.net")) == 0);
	CHECK(maildir_user_path(&cfg, "alice", "example.net", dir, sizeof dir) == 0);
	CHECK(maildir_check_user_dir(&cfg, dir) == -1 && errno == ELOOP);
	CHECK(maildir_user_path(&cfg, "carol", "example.net", dir, sizeof dir) == 0);
	CHECK(maildir_check_user_dir(&cfg, dir) == -1 && errno == ELOOP); /* even if absent below */
	/* a file in the way */
	close(open(mkpath("%s/%s", real, "example.com"), O_CREAT | O_WRONLY, 0600));
	CHECK(maildir_user_path(&cfg, "alice", "example.com", dir, sizeof dir) == 0);
	CHECK(maildir_check_user_dir(&cfg, dir) == -1 && errno == ENOTDIR);
	/* not under mail_root */
	CHECK(maildir_check_user_dir(&cfg, out) == -1 && errno == EINVAL);
	snprintf(cfg.mail_root, sizeof cfg.mail_root, "%s/", mr); /* trailing slash */
	CHECK(maildir_check_user_dir(&cfg, mkpath("%s/%s", mr, "example.org/alice")) == 0);
}

int main(void)
{
	setenv("POSTERN_LOG", "stderr", 0);
	RUN(test_user_path);
	RUN(test_create);
	RUN(test_unique_base);
	RUN(test_host_escape);
	RUN(test_deliver_commit);
	RUN(test_write_failure);
	RUN(test_abort);
	RUN(test_clone);
	RUN(test_clone_copy);
	RUN(test_commit_cur);
	RUN(test_uncommit);
	RUN(test_tmp_cleanup);
	RUN(test_names);
	RUN(test_name_build_roundtrip);
	RUN(test_scan);
	RUN(test_scan_names);
	RUN(test_find);
	RUN(test_set_flags);
	RUN(test_remove);
	RUN(test_open_msg);
	RUN(test_hold_dirs);
	RUN(test_concurrent_rename);
	RUN(test_lock);
	RUN(test_fsync_dir);
	RUN(test_folder_path);
	RUN(test_folder_name);
	RUN(test_folder_create_delete);
	RUN(test_folder_rename);
	RUN(test_folder_list);
	RUN(test_subscriptions);
	RUN(test_symlink_new_tmp);
	RUN(test_symlink_cur);
	RUN(test_symlink_maildir);
	RUN(test_symlink_folder);
	RUN(test_fifo);
	RUN(test_check_user_dir);
	return unit_done();
}
