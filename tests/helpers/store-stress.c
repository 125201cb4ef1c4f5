/* store-stress: drive the maildir store from several processes at once and
 * check what comes out. Messages are self-checking: the header names
 * (id, seq) and the whole message can be regenerated from them, so every
 * byte of every stored file is verified.
 *
 *   store-stress deliver DIR N ID          deliver messages (ID, 0..N-1)
 *   store-stress sync DIR STOPFILE ROUNDS  loop: uidlist_sync (checking UIDs
 *                       against everything seen before), move new->cur,
 *                       change flags, open and verify; until STOPFILE exists
 *                       (then one last round) or ROUNDS rounds
 *   store-stress check DIR IDS N           exactly IDS*N messages (every
 *                       (id, seq) once), byte-exact, one UID each, UIDs
 *                       strictly increasing, list complete, tmp/ empty
 *   store-stress crash DIR KILLS           KILLS times: fork a child that
 *                       delivers (and syncs, and flags) in a loop, SIGKILL it
 *                       after a random 0-6 ms; then every visible message
 *                       must verify and syncs must work
 *   store-stress bench DIR N               CPU time of uidlist_sync on N messages
 *
 * Exit 0 when all is well; otherwise 1 with the reasons on stderr. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "maildir.h"
#include "strbuf.h"
#include "uidlist.h"

static int failures;

#define FAIL(...) do { fprintf(stderr, "store-stress[%d]: ", (int)getpid()); \
	fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); failures++; } while (0)

/* --- messages --- */

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* The message (ID, SEQ): headers, then a body of CRLF lines whose length
 * and bytes follow from (ID, SEQ). Mostly small, some up to 128 KiB. */
static void make_msg(struct strbuf *sb, unsigned id, unsigned seq)
{
	uint64_t st = ((uint64_t)id << 32 | seq) * 0x9e3779b97f4a7c15ull + 1;
	sb_reset(sb);
	size_t body = rng_next(&st) % 16 == 0 ? rng_next(&st) % 131072 : 100 + rng_next(&st) % 4000;
	sb_printf(sb, "From: stress@example.org\r\nSubject: stress %u %u\r\nX-Stress: %u %u %zu\r\n\r\n",
		  id, seq, id, seq, body);
	size_t start = sb->len;
	while (sb->len - start < body) {
		size_t line = 1 + rng_next(&st) % 76;
		for (size_t i = 0; i < line; i++)
			sb_addc(sb, (char)(' ' + rng_next(&st) % 95));
		sb_add(sb, "\r\n", 2);
	}
}

/* Read message NAME in DIR new/ or cur/ (following renames) and compare it with
 * its regeneration. Returns 0 with id_r and seq_r set, or -1 (reported). */
static int verify_msg(const char *dir, const char *name0, bool in_new, unsigned *id_r, unsigned *seq_r)
{
	char name[MAILDIR_NAME_MAX];
	snprintf(name, sizeof name, "%s", name0);
	int fd = maildir_open_msg(dir, name, sizeof name, &in_new);
	if (fd < 0) {
		FAIL("open %s: %s", name0, strerror(errno));
		return -1;
	}
	struct strbuf got = STRBUF_INIT, want = STRBUF_INIT;
	for (;;) {
		sb_grow(&got, 65536);
		ssize_t n = read(fd, got.s + got.len, 65536);
		if (n <= 0)
			break;
		got.len += (size_t)n;
	}
	close(fd);
	int ret = -1;
	unsigned id, seq;
	off_t size = maildir_name_size(name);
	if (!got.s || sscanf(got.s, "From: stress@example.org\r\nSubject: stress %u %u\r\n", &id, &seq) != 2) {
		FAIL("%s: not a stress message (%zu bytes)", name, got.len);
	} else if (size != (off_t)got.len) {
		FAIL("%s: S=%lld but %zu bytes", name, (long long)size, got.len);
	} else {
		make_msg(&want, id, seq);
		if (want.len != got.len || memcmp(want.s, got.s, got.len) != 0)
			FAIL("%s: content differs from message %u/%u", name, id, seq);
		else
			ret = 0;
	}
	if (ret == 0) {
		*id_r = id;
		*seq_r = seq;
	}
	sb_free(&got);
	sb_free(&want);
	return ret;
}

static int deliver_one(const char *dir, struct strbuf *sb, unsigned id, unsigned seq)
{
	make_msg(sb, id, seq);
	char name[MAILDIR_NAME_MAX];
	if (maildir_deliver(dir, sb->s, sb->len, name, sizeof name) < 0) {
		FAIL("deliver %u/%u: %s", id, seq, strerror(errno));
		return -1;
	}
	return 0;
}

static int mode_deliver(const char *dir, unsigned n, unsigned id)
{
	struct strbuf sb = STRBUF_INIT;
	for (unsigned seq = 0; seq < n; seq++)
		if (deliver_one(dir, &sb, id, seq) < 0)
			break;
	sb_free(&sb);
	return failures ? 1 : 0;
}

/* --- sync: UIDs checked against history --- */

struct seen {
	char **base;
	uint32_t *uid;
	size_t cap, n;
};

static uint32_t hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

/* Slot of BASE in the history table (grown as needed). */
static size_t seen_slot(struct seen *t, const char *base, size_t len)
{
	if ((t->n + 1) * 2 > t->cap) {
		struct seen old = *t;
		t->cap = t->cap ? t->cap * 2 : 8192;
		t->base = xcalloc(t->cap, sizeof *t->base);
		t->uid = xcalloc(t->cap, sizeof *t->uid);
		for (size_t i = 0; i < old.cap; i++) {
			if (!old.base[i])
				continue;
			size_t j = hash(old.base[i], strlen(old.base[i])) & (t->cap - 1);
			while (t->base[j])
				j = (j + 1) & (t->cap - 1);
			t->base[j] = old.base[i];
			t->uid[j] = old.uid[i];
		}
		free(old.base);
		free(old.uid);
	}
	size_t j = hash(base, len) & (t->cap - 1);
	while (t->base[j] && (strlen(t->base[j]) != len || memcmp(t->base[j], base, len) != 0))
		j = (j + 1) & (t->cap - 1);
	return j;
}

struct history {
	struct seen seen;
	uint32_t uidvalidity, next_uid, max_uid;
	unsigned rounds;
};

/* Check one sync result against all earlier ones. */
static void check_round(struct history *h, const struct uidlist *ul)
{
	if (h->rounds > 0 && ul->uidvalidity != h->uidvalidity)
		FAIL("uidvalidity changed %u -> %u", h->uidvalidity, ul->uidvalidity);
	if (ul->next_uid < h->next_uid)
		FAIL("next_uid went down %u -> %u", h->next_uid, ul->next_uid);
	h->uidvalidity = ul->uidvalidity;
	h->next_uid = ul->next_uid;
	size_t known = 0;
	uint32_t prev = 0, round_max = 0;
	for (size_t i = 0; i < ul->n; i++) {
		const struct uidlist_rec *r = &ul->recs[i];
		if (r->uid <= prev)
			FAIL("uids not strictly increasing: %u after %u", r->uid, prev);
		if (r->uid >= ul->next_uid)
			FAIL("uid %u >= next_uid %u", r->uid, ul->next_uid);
		prev = r->uid;
		round_max = r->uid > round_max ? r->uid : round_max;
		size_t j = seen_slot(&h->seen, r->name, r->baselen);
		if (h->seen.base[j]) {
			known++;
			if (h->seen.uid[j] != r->uid)
				FAIL("%.*s changed uid %u -> %u", (int)r->baselen, r->name, h->seen.uid[j], r->uid);
		} else {
			if (r->uid <= h->max_uid)
				FAIL("new message %.*s got uid %u <= %u seen before", (int)r->baselen, r->name,
				     r->uid, h->max_uid);
			h->seen.base[j] = xstrndup(r->name, r->baselen);
			h->seen.uid[j] = r->uid;
			h->seen.n++;
		}
	}
	/* nothing is ever expunged in this test: every message seen before
	 * must still be listed */
	size_t before = h->seen.n - (ul->n - known);
	if (known != before)
		FAIL("round %u: %zu of %zu known messages missing from the list", h->rounds,
		     before - known, before);
	h->max_uid = round_max > h->max_uid ? round_max : h->max_uid;
	h->rounds++;
}

static uint64_t seed(void)
{
	uint64_t s;
	if (getrandom(&s, sizeof s, 0) != sizeof s)
		s = (uint64_t)time(NULL) ^ (uint64_t)getpid() << 20;
	return s | 1;
}

static int mode_sync(const char *dir, const char *stopfile, unsigned max_rounds)
{
	struct history h = { 0 };
	struct uidlist ul = { 0 };
	uint64_t st = seed();
	unsigned long moved = 0, flagged = 0, verified = 0;
	bool last = false;
	while (!last && h.rounds < max_rounds && failures < 20) {
		last = access(stopfile, F_OK) == 0;
		if (uidlist_sync(dir, &ul) < 0) {
			FAIL("uidlist_sync: %s", strerror(errno));
			break;
		}
		check_round(&h, &ul);
		if (ul.n == 0)
			continue;
		/* move about half of new/ to cur/ */
		for (size_t i = 0; i < ul.n; i++) {
			struct uidlist_rec *r = &ul.recs[i];
			if (!r->in_new || rng_next(&st) % 2)
				continue;
			int x = maildir_set_flags(dir, r->name, true, r->flags, r->keywords, NULL, 0);
			if (x != 1)
				FAIL("move %s: %d %s", r->name, x, strerror(errno));
			moved++;
		}
		/* change flags of some, open and verify a few */
		for (int k = 0; k < 20; k++) {
			struct uidlist_rec *r = &ul.recs[rng_next(&st) % ul.n];
			unsigned flags = (unsigned)rng_next(&st) & 0x1b; /* D F R S */
			uint32_t kw = (uint32_t)rng_next(&st) & 0x7;
			int x = maildir_set_flags(dir, r->name, r->in_new, flags, kw, NULL, 0);
			if (x != 1)
				FAIL("flag %s: %d %s", r->name, x, strerror(errno));
			flagged++;
		}
		for (int k = 0; k < 3; k++) {
			struct uidlist_rec *r = &ul.recs[rng_next(&st) % ul.n];
			unsigned id, seq;
			if (verify_msg(dir, r->name, r->in_new, &id, &seq) == 0)
				verified++;
		}
	}
	printf("rounds=%u moved=%lu flagged=%lu verified=%lu messages=%zu failures=%d\n", h.rounds, moved,
	       flagged, verified, ul.n, failures);
	uidlist_free(&ul);
	for (size_t i = 0; i < h.seen.cap; i++)
		free(h.seen.base[i]);
	free(h.seen.base);
	free(h.seen.uid);
	return failures ? 1 : 0;
}

/* --- final checks --- */

static size_t count_files(const char *dir, const char *sub)
{
	char path[MAILDIR_PATH_MAX];
	snprintf(path, sizeof path, "%s/%s", dir, sub);
	DIR *d = opendir(path);
	size_t n = 0;
	struct dirent *de;
	while (d && (de = readdir(d)) != NULL)
		n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	if (d)
		closedir(d);
	return n;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The raw list file: one line per UID, bases unique, UIDs increasing. */
static size_t check_list_file(const char *dir, const struct uidlist *ul)
{
	char path[MAILDIR_PATH_MAX];
	snprintf(path, sizeof path, "%s/postern-uidlist", dir);
	FILE *f = fopen(path, "r");
	if (!f) {
		FAIL("no %s", path);
		return 0;
	}
	char line[1024];
	size_t n = 0, cap = 1024;
	char **bases = xmalloc(cap * sizeof *bases);
	uint32_t prev = 0;
	if (!fgets(line, sizeof line, f))
		FAIL("empty list");
	while (fgets(line, sizeof line, f)) {
		unsigned uid;
		char base[512];
		if (sscanf(line, "%u %511s", &uid, base) != 2) {
			FAIL("bad list line %s", line);
			continue;
		}
		if (uid <= prev)
			FAIL("list: uid %u after %u", uid, prev);
		prev = uid;
		if (n < ul->n && (ul->recs[n].uid != uid || strncmp(ul->recs[n].name, base, strlen(base)) != 0))
			FAIL("list line %zu (%u %s) differs from the sync result", n, uid, base);
		if (n == cap)
			bases = xrealloc(bases, (cap *= 2) * sizeof *bases);
		bases[n++] = xstrdup(base);
	}
	fclose(f);
	qsort(bases, n, sizeof *bases, cmp_str);
	for (size_t i = 1; i < n; i++)
		if (strcmp(bases[i], bases[i - 1]) == 0)
			FAIL("base %s listed twice", bases[i]);
	for (size_t i = 0; i < n; i++)
		free(bases[i]);
	free(bases);
	return n;
}

static int mode_check(const char *dir, unsigned ids, unsigned n)
{
	struct uidlist ul = { 0 };
	char path[MAILDIR_PATH_MAX];
	struct stat st1, st2;
	snprintf(path, sizeof path, "%s/postern-uidlist", dir);
	if (stat(path, &st1) < 0)
		FAIL("no uid list");
	if (uidlist_sync(dir, &ul) < 0) {
		FAIL("uidlist_sync: %s", strerror(errno));
		return 1;
	}
	/* the syncers' last round listed everything: nothing left to write */
	if (stat(path, &st2) < 0 || st1.st_ino != st2.st_ino)
		FAIL("the final sync had to rewrite the list (the syncers left it incomplete)");
	size_t lines = check_list_file(dir, &ul);
	struct maildir_list l;
	if (maildir_scan(dir, false, &l) < 0)
		FAIL("scan: %s", strerror(errno));
	size_t want = (size_t)ids * n;
	if (ul.n != want || l.n != want || lines != want)
		FAIL("%zu uids, %zu list lines, %zu files; want %zu", ul.n, lines, l.n, want);
	unsigned char *got = xcalloc(want ? want : 1, 1);
	uint32_t prev = 0;
	for (size_t i = 0; i < ul.n; i++) {
		if (ul.recs[i].uid <= prev)
			FAIL("uid %u after %u", ul.recs[i].uid, prev);
		prev = ul.recs[i].uid;
		unsigned id, seq;
		if (verify_msg(dir, ul.recs[i].name, ul.recs[i].in_new, &id, &seq) < 0)
			continue;
		if (id >= ids || seq >= n)
			FAIL("unexpected message %u/%u", id, seq);
		else if (got[(size_t)id * n + seq]++)
			FAIL("message %u/%u stored twice", id, seq);
	}
	for (size_t i = 0; i < want; i++)
		if (!got[i])
			FAIL("message %zu/%zu missing", i / n, i % n);
	size_t tmp = count_files(dir, "tmp");
	if (tmp)
		FAIL("%zu files left in tmp/", tmp);
	printf("messages=%zu uids=%zu new=%zu cur=%zu next_uid=%u failures=%d\n", l.n, ul.n,
	       count_files(dir, "new"), count_files(dir, "cur"), ul.next_uid, failures);
	free(got);
	maildir_list_free(&l);
	uidlist_free(&ul);
	return failures ? 1 : 0;
}

/* --- crash --- */

static void crash_child(const char *dir, unsigned id)
{
	struct strbuf sb = STRBUF_INIT;
	struct uidlist ul = { 0 };
	for (unsigned seq = 0;; seq++) {
		if (deliver_one(dir, &sb, id, seq) < 0)
			_exit(1);
		if (seq % 4 == 3) {
			if (uidlist_sync(dir, &ul) < 0)
				_exit(2);
			for (size_t i = 0; i < ul.n; i++)
				if (ul.recs[i].in_new) {
					maildir_set_flags(dir, ul.recs[i].name, true, MAILDIR_F_SEEN, 0, NULL, 0);
					break;
				}
		}
	}
}

static int mode_crash(const char *dir, unsigned kills)
{
	if (maildir_create(dir) < 0)
		return 1;
	uint64_t st = seed();
	unsigned killed = 0;
	for (unsigned k = 0; k < kills; k++) {
		pid_t pid = fork();
		if (pid < 0) {
			FAIL("fork: %s", strerror(errno));
			break;
		}
		if (pid == 0)
			crash_child(dir, k);
		usleep((useconds_t)(rng_next(&st) % 6000));
		kill(pid, SIGKILL);
		int status;
		if (waitpid(pid, &status, 0) != pid)
			FAIL("waitpid: %s", strerror(errno));
		else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
			killed++;
		else
			FAIL("child %u ended by itself (status %d)", k, status);
	}
	/* every visible message is whole */
	struct maildir_list l;
	if (maildir_scan(dir, false, &l) < 0) {
		FAIL("scan: %s", strerror(errno));
		return 1;
	}
	for (size_t i = 0; i < l.n; i++) {
		unsigned id, seq;
		verify_msg(dir, l.e[i].name, l.e[i].in_new, &id, &seq);
	}
	/* a later sync works, lists everything, and a second one agrees */
	struct uidlist ul = { 0 }, ul2 = { 0 };
	if (uidlist_sync(dir, &ul) < 0 || uidlist_sync(dir, &ul2) < 0)
		FAIL("uidlist_sync after the kills: %s", strerror(errno));
	else if (ul.n != l.n || ul2.n != l.n || ul.uidvalidity != ul2.uidvalidity ||
		 (ul.n && ul.recs[ul.n - 1].uid != ul2.recs[ul2.n - 1].uid))
		FAIL("sync lists %zu then %zu of %zu messages", ul.n, ul2.n, l.n);
	/* leftovers in tmp/ go once they are 36 hours old */
	size_t tmp_left = count_files(dir, "tmp");
	char now[32];
	snprintf(now, sizeof now, "%lld", (long long)time(NULL) + 37 * 3600);
	setenv("POSTERN_NOW", now, 1);
	struct maildir_tmp t;
	if (maildir_tmp_open(&t, dir) < 0)
		FAIL("tmp_open: %s", strerror(errno));
	maildir_tmp_abort(&t);
	unsetenv("POSTERN_NOW");
	size_t tmp_after = count_files(dir, "tmp");
	if (tmp_after)
		FAIL("%zu stale files survived the tmp/ cleanup", tmp_after);
	printf("kills=%u delivered=%zu listed=%zu tmp_left=%zu tmp_after_cleanup=%zu failures=%d\n", killed,
	       l.n, ul.n, tmp_left, tmp_after, failures);
	maildir_list_free(&l);
	uidlist_free(&ul);
	uidlist_free(&ul2);
	return failures || killed != kills ? 1 : 0;
}

/* --- bench --- */

/* CPU time: steadier than wall time on a shared machine. */
static double cpu_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int mode_bench(const char *dir, unsigned n)
{
	if (maildir_create(dir) < 0)
		return 1;
	double t0 = cpu_ms();
	char base[MAILDIR_NAME_MAX], path[MAILDIR_PATH_MAX];
	for (unsigned i = 0; i < n; i++) { /* no fsync: this is about sync speed */
		maildir_unique_base(base, sizeof base);
		snprintf(path, sizeof path, "%s/%s/%s,S=5%s", dir, i % 3 ? "cur" : "new", base,
			 i % 3 ? ":2,S" : "");
		int fd = open(path, O_CREAT | O_WRONLY | O_EXCL, 0600);
		if (fd < 0 || write(fd, "x\r\ny\r", 5) != 5)
			return 1;
		close(fd);
	}
	double t1 = cpu_ms();
	struct uidlist ul = { 0 };
	if (uidlist_sync(dir, &ul) < 0)
		return 1;
	double t2 = cpu_ms();
	if (uidlist_sync(dir, &ul) < 0)
		return 1;
	double t3 = cpu_ms();
	for (unsigned i = 0; i < 100 && i < ul.n; i++)
		maildir_set_flags(dir, ul.recs[i * (ul.n / 100)].name, ul.recs[i * (ul.n / 100)].in_new,
				  MAILDIR_F_FLAGGED, 0, NULL, 0);
	for (unsigned i = 0; i < 10; i++)
		maildir_deliver(dir, "z\r\n", 3, NULL, 0);
	double t4 = cpu_ms();
	if (uidlist_sync(dir, &ul) < 0)
		return 1;
	double t5 = cpu_ms();
	for (size_t i = 0; i < ul.n; i += 100)
		maildir_remove(dir, ul.recs[i].name, ul.recs[i].in_new);
	double t6 = cpu_ms();
	if (uidlist_sync(dir, &ul) < 0)
		return 1;
	double t7 = cpu_ms();
	printf("(CPU time) messages=%u create=%.0fms first_sync=%.1fms unchanged_sync=%.1fms "
	       "sync_after_100_flags_10_new=%.1fms sync_after_%u_expunges=%.1fms listed=%zu\n",
	       n, t1 - t0, t2 - t1, t3 - t2, t5 - t4, (n + 99) / 100, t7 - t6, ul.n);
	uidlist_free(&ul);
	return 0;
}

static unsigned num(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (*end || v > 100000000) {
		fprintf(stderr, "store-stress: bad number %s\n", s);
		exit(2);
	}
	return (unsigned)v;
}

int main(int argc, char **argv)
{
	setenv("POSTERN_LOG", "stderr", 0);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 5 && strcmp(argv[1], "deliver") == 0)
		return mode_deliver(argv[2], num(argv[3]), num(argv[4]));
	if (argc == 5 && strcmp(argv[1], "sync") == 0)
		return mode_sync(argv[2], argv[3], num(argv[4]));
	if (argc == 5 && strcmp(argv[1], "check") == 0)
		return mode_check(argv[2], num(argv[3]), num(argv[4]));
	if (argc == 4 && strcmp(argv[1], "crash") == 0)
		return mode_crash(argv[2], num(argv[3]));
	if (argc == 4 && strcmp(argv[1], "bench") == 0)
		return mode_bench(argv[2], num(argv[3]));
	fprintf(stderr, "usage: store-stress deliver DIR N ID | sync DIR STOPFILE ROUNDS |\n"
			"       check DIR IDS N | crash DIR KILLS | bench DIR N\n");
	return 2;
}
