/* Modification sequences (CONDSTORE/QRESYNC, RFC 7162) for one mailbox.
 *
 * Design. Flags live in file names and any process may rename a file
 * (POP3's RETR sets \Seen, mutt, another IMAP session), deliver or delete
 * one, and none of them but us knows about modseqs. So modseqs are not
 * assigned where changes happen but *detected* where they are seen: the
 * file DIR/postern-modseq remembers, per UID, the flags last seen and the
 * modseq given to them:
 *
 *   M1 <uidvalidity> <highestmodseq> <floor>
 *   <uid> <modseq> <flags hex> <keywords hex>     one per message
 *   - <uid> <modseq>                              one per expunged uid
 *
 * modseq_sync() reads it and the uid list; a UID not yet listed (new
 * mail), a UID whose flags differ from the remembered ones (changed by
 * anybody) and a listed UID that left the uid list (expunged) each get
 * ++highestmodseq. So a change becomes visible, with its own modseq, at the
 * next sync of any IMAP session — the same moment its EXISTS / FETCH /
 * EXPUNGE would have been sent anyway. The comparison runs lock-free; only
 * when something differs is the file re-read and rewritten under
 * DIR/postern-modseq.lock (flock; tmp + fdatasync + rename, like the uid
 * list), so modseqs only grow and every process sees the same ones.
 *
 * Expunged UIDs are kept ("-" lines, the VANISHED history) up to
 * MODSEQ_GONE_MAX; older ones are dropped and <floor> raised to the highest
 * dropped modseq. Asked for what vanished since a modseq below the floor,
 * we answer with every UID below UIDNEXT that no longer exists (RFC 7162
 * allows reporting UIDs the client never knew).
 *
 * If the file is lost, a new one is made. For a mailbox that already has
 * messages the new highestmodseq starts at the current time in
 * microseconds, so it is larger than anything handed out before and
 * clients that cached an old HIGHESTMODSEQ resynchronise fully instead of
 * missing changes. A fresh empty mailbox starts at 1. A new UIDVALIDITY
 * (uid list recreated) also starts a new file. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "fsutil.h"
#include "imapd.h"
#include "log.h"

#define MODSEQ_FILE "postern-modseq"
#define MODSEQ_TMP "postern-modseq.tmp"
#define MODSEQ_LOCK "postern-modseq.lock"
#define MODSEQ_GONE_MAX 100000

static int rec_cmp(const void *a, const void *b)
{
	const struct modseq_rec *x = a, *y = b;
	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

void modseq_free(struct modseq_state *ms)
{
	free(ms->recs);
	free(ms->gone);
	memset(ms, 0, sizeof *ms);
}

const struct modseq_rec *modseq_find(const struct modseq_state *ms, uint32_t uid)
{
	struct modseq_rec key = { .uid = uid };
	return bsearch(&key, ms->recs, ms->n, sizeof *ms->recs, rec_cmp);
}

/* One number in BASE after optional blanks, at most MAX, ending at a blank
 * or END; *PP moves past it. */
static bool num(const char **pp, const char *end, int base, uint64_t max, uint64_t *v_r)
{
	const char *p = *pp;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	uint64_t v = 0;
	const char *start = p;
	for (; p < end; p++) {
		int d;
		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			break;
		if (v > (max - (uint64_t)d) / (uint64_t)base)
			return false;
		v = v * (uint64_t)base + (uint64_t)d;
	}
	if (p == start || (p < end && *p != ' ' && *p != '\t' && *p != '\r'))
		return false;
	*pp = p;
	*v_r = v;
	return true;
}

/* Parse the file; 1 read, 0 absent or unusable (start anew), -1 error. */
static int ms_read(const char *dir, struct modseq_state *ms)
{
	char path[MAILDIR_PATH_MAX];
	modseq_free(ms);
	if (snprintf(path, sizeof path, "%s/" MODSEQ_FILE, dir) >= (int)sizeof path)
		return -1;
	/* never a symlink nor a FIFO: either is unusable, and the rename of
	 * the next write replaces it */
	FILE *f;
	int r = fs_open_state(path, &f);
	if (r <= 0)
		return r;
	/* read it whole, then parse by hand: sscanf per line was most of a
	 * sync's time on a large mailbox */
	struct strbuf buf = STRBUF_INIT;
	for (;;) {
		sb_grow(&buf, 65536);
		size_t n = fread(buf.s + buf.len, 1, buf.cap - buf.len - 1, f);
		buf.len += n;
		if (n == 0)
			break;
	}
	bool rerr = ferror(f) != 0;
	fclose(f);
	if (rerr) {
		log_err("read(%s) failed: %m", path);
		sb_free(&buf);
		return -1;
	}
	const char *p = buf.s ? buf.s : "", *end = p + buf.len;
	const char *eol = memchr(p, '\n', buf.len);
	uint64_t uv, hi, floor;
	const char *q = p;
	if (!eol || eol - p < 3 || memcmp(p, "M1 ", 3) != 0 || (q = p + 3, !num(&q, eol, 10, UINT32_MAX, &uv)) ||
	    !num(&q, eol, 10, UINT64_MAX, &hi) || !num(&q, eol, 10, UINT64_MAX, &floor)) {
		sb_free(&buf);
		log_warn("%s: bad header; starting a new modseq file", path);
		return 0;
	}
	ms->uidvalidity = (uint32_t)uv;
	ms->highest = hi;
	ms->floor = floor;
	size_t cap = buf.len / 16 + 16, gcap = 0;
	ms->recs = xmalloc(cap * sizeof *ms->recs);
	bool sorted = true;
	for (p = eol + 1; p < end; p = eol + 1) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		uint64_t uid, mod, fl, kw;
		q = p;
		if (*p == '-') {
			q++;
			if (!num(&q, eol, 10, UINT32_MAX, &uid) || !num(&q, eol, 10, UINT64_MAX, &mod))
				continue;
			if (ms->ngone == gcap)
				ms->gone = xrealloc(ms->gone, (gcap = gcap ? gcap * 2 : 64) * sizeof *ms->gone);
			ms->gone[ms->ngone++] = (struct modseq_rec){ .uid = (uint32_t)uid, .modseq = mod };
			continue;
		}
		if (!num(&q, eol, 10, UINT32_MAX, &uid) || !num(&q, eol, 10, UINT64_MAX, &mod) ||
		    !num(&q, eol, 16, UINT32_MAX, &fl) || !num(&q, eol, 16, UINT32_MAX, &kw))
			continue;
		if (ms->n == cap)
			ms->recs = xrealloc(ms->recs, (cap *= 2) * sizeof *ms->recs);
		if (ms->n && ms->recs[ms->n - 1].uid >= uid)
			sorted = false;
		ms->recs[ms->n++] = (struct modseq_rec){ (uint32_t)uid, mod, (unsigned)fl, (uint32_t)kw };
	}
	sb_free(&buf);
	if (!sorted) {
		/* a damaged file: sort, and keep one line per uid */
		qsort(ms->recs, ms->n, sizeof *ms->recs, rec_cmp);
		size_t o = 0;
		for (size_t i = 0; i < ms->n; i++)
			if (o == 0 || ms->recs[o - 1].uid != ms->recs[i].uid)
				ms->recs[o++] = ms->recs[i];
		ms->n = o;
	}
	return 1;
}

/* V in BASE (lower-case hex digits), then the octet AFTER. */
static void put_num(struct strbuf *sb, uint64_t v, unsigned base, char after)
{
	char tmp[24];
	size_t n = sizeof tmp;
	tmp[--n] = after;
	do {
		tmp[--n] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	sb_add(sb, tmp + n, sizeof tmp - n);
}

static int ms_write(const char *dir, const struct modseq_state *ms)
{
	char tmp[MAILDIR_PATH_MAX], path[MAILDIR_PATH_MAX];
	if (snprintf(tmp, sizeof tmp, "%s/" MODSEQ_TMP, dir) >= (int)sizeof tmp ||
	    snprintf(path, sizeof path, "%s/" MODSEQ_FILE, dir) >= (int)sizeof path)
		return -1;
	struct strbuf sb = STRBUF_INIT;
	sb_printf(&sb, "M1 %u %" PRIu64 " %" PRIu64 "\n", (unsigned)ms->uidvalidity, ms->highest,
		  ms->floor);
	/* "%u %llu %x %x\n" and "- %u %llu\n", without printf per line */
	sb_grow(&sb, ms->n * 48 + ms->ngone * 32);
	for (size_t i = 0; i < ms->n; i++) {
		put_num(&sb, ms->recs[i].uid, 10, ' ');
		put_num(&sb, ms->recs[i].modseq, 10, ' ');
		put_num(&sb, ms->recs[i].flags, 16, ' ');
		put_num(&sb, ms->recs[i].keywords, 16, '\n');
	}
	for (size_t i = 0; i < ms->ngone; i++) {
		sb_add(&sb, "- ", 2);
		put_num(&sb, ms->gone[i].uid, 10, ' ');
		put_num(&sb, ms->gone[i].modseq, 10, '\n');
	}
	/* under the lock: a leftover tmp (or a planted symlink) is removed,
	 * and the new one is created afresh, never through a symlink */
	(void)unlink(tmp);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	int rc = -1;
	if (fd < 0) {
		log_err("open(%s) failed: %m", tmp);
	} else {
		size_t off = 0;
		while (off < sb.len) {
			ssize_t w = write(fd, sb.s + off, sb.len - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break;
			off += (size_t)w;
		}
		if (off != sb.len || fdatasync(fd) < 0)
			log_err("write(%s) failed: %m", tmp);
		else if (close(fd) < 0)
			log_err("close(%s) failed: %m", tmp);
		else if (rename(tmp, path) < 0)
			log_err("rename(%s, %s) failed: %m", tmp, path);
		else
			rc = 0;
		if (rc < 0 && fd >= 0 && off != sb.len)
			close(fd);
		if (rc < 0)
			unlink(tmp);
	}
	sb_free(&sb);
	return rc;
}

/* Whether the uid list differs from what MS remembers. */
static bool differs(const struct uidlist *ul, const struct modseq_state *ms)
{
	if (ms->uidvalidity != ul->uidvalidity || ms->n != ul->n)
		return true;
	for (size_t i = 0; i < ul->n; i++) {
		const struct modseq_rec *r = &ms->recs[i];
		if (r->uid != ul->recs[i].uid || r->flags != ul->recs[i].flags ||
		    r->keywords != ul->recs[i].keywords)
			return true;
	}
	return false;
}

/* Fold the uid list into MS (see the design note). */
static void apply(const struct uidlist *ul, struct modseq_state *ms)
{
	if (ms->uidvalidity != ul->uidvalidity) {
		bool had = ms->highest > 0 || ul->n > 0;
		modseq_free(ms);
		ms->uidvalidity = ul->uidvalidity;
		if (had && ul->n > 0) {
			struct timeval tv;
			gettimeofday(&tv, NULL);
			ms->highest = (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
		} else {
			ms->highest = 1;
		}
		/* nothing is known about earlier expunges */
		ms->floor = ms->highest;
		ms->recs = xcalloc(ul->n + 1, sizeof *ms->recs);
		for (size_t i = 0; i < ul->n; i++)
			ms->recs[ms->n++] = (struct modseq_rec){ ul->recs[i].uid, ms->highest,
								 ul->recs[i].flags, ul->recs[i].keywords };
		return;
	}
	struct modseq_rec *nr = xcalloc(ul->n + 1, sizeof *nr);
	size_t j = 0;
	for (size_t i = 0; i < ul->n; i++) {
		const struct uidlist_rec *u = &ul->recs[i];
		while (j < ms->n && ms->recs[j].uid < u->uid) {
			/* vanished */
			ms->gone = xrealloc(ms->gone, (ms->ngone + 1) * sizeof *ms->gone);
			ms->gone[ms->ngone++] = (struct modseq_rec){ .uid = ms->recs[j].uid,
								     .modseq = ++ms->highest };
			j++;
		}
		nr[i] = (struct modseq_rec){ u->uid, 0, u->flags, u->keywords };
		if (j < ms->n && ms->recs[j].uid == u->uid) {
			nr[i].modseq = ms->recs[j].modseq;
			if (ms->recs[j].flags != u->flags || ms->recs[j].keywords != u->keywords)
				nr[i].modseq = ++ms->highest;
			j++;
		} else {
			nr[i].modseq = ++ms->highest;
		}
	}
	for (; j < ms->n; j++) {
		ms->gone = xrealloc(ms->gone, (ms->ngone + 1) * sizeof *ms->gone);
		ms->gone[ms->ngone++] = (struct modseq_rec){ .uid = ms->recs[j].uid, .modseq = ++ms->highest };
	}
	free(ms->recs);
	ms->recs = nr;
	ms->n = ul->n;
	if (ms->ngone > MODSEQ_GONE_MAX) {
		/* "-" lines are in modseq order: drop the oldest */
		size_t drop = ms->ngone - MODSEQ_GONE_MAX;
		ms->floor = ms->gone[drop - 1].modseq;
		memmove(ms->gone, ms->gone + drop, MODSEQ_GONE_MAX * sizeof *ms->gone);
		ms->ngone = MODSEQ_GONE_MAX;
	}
}

int modseq_lock(const char *dir)
{
	return maildir_lock(dir, MODSEQ_LOCK, true);
}

void modseq_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

int modseq_sync_locked(const char *dir, struct uidlist *ul, struct modseq_state *ms)
{
	if (uidlist_sync(dir, ul) < 0)
		return -1;
	if (ms_read(dir, ms) < 0) {
		uidlist_free(ul);
		return -1;
	}
	if (!differs(ul, ms))
		return 0;
	apply(ul, ms);
	/* Not written (disk full, logged): the session goes on with these
	 * numbers; the next sync that can write numbers the changes again
	 * from what is on disk, so another session may give the same number
	 * to other changes. Rare, and better than refusing SELECT. */
	(void)ms_write(dir, ms);
	return 0;
}

int modseq_sync(const char *dir, struct uidlist *ul, struct modseq_state *ms)
{
	if (uidlist_sync(dir, ul) < 0)
		return -1;
	if (ms_read(dir, ms) < 0) {
		uidlist_free(ul);
		return -1;
	}
	if (!differs(ul, ms))
		return 0;
	int lock = modseq_lock(dir);
	if (lock < 0) {
		uidlist_free(ul);
		modseq_free(ms);
		return -1;
	}
	int r = modseq_sync_locked(dir, ul, ms);
	modseq_unlock(lock);
	return r;
}

void modseq_vanished(const struct modseq_state *ms, const struct uidlist *ul, uint64_t since,
		     const struct imap_seqset *known, struct strbuf *out)
{
	uint32_t *u = NULL;
	size_t n = 0;
	if (since >= ms->floor) {
		u = xcalloc(ms->ngone + 1, sizeof *u);
		for (size_t i = 0; i < ms->ngone; i++)
			if (ms->gone[i].modseq > since)
				u[n++] = ms->gone[i].uid;
		qsort(u, n, sizeof *u, imap_uid_cmp);
	}
	uint32_t start = 0, prev = 0;
	bool first = true;
#define EMIT(x)                                                                    \
	do {                                                                       \
		uint32_t x_ = (x);                                                 \
		if (known && !imap_seqset_contains(known, x_))                     \
			break;                                                     \
		if (start && x_ == prev + 1) {                                     \
			prev = x_;                                                 \
			break;                                                     \
		}                                                                  \
		if (start) {                                                       \
			sb_printf(out, first ? "%u" : ",%u", (unsigned)start);     \
			if (prev != start)                                         \
				sb_printf(out, ":%u", (unsigned)prev);             \
			first = false;                                             \
		}                                                                  \
		start = prev = x_;                                                 \
	} while (0)
	if (since >= ms->floor) {
		for (size_t i = 0; i < n; i++)
			if (i == 0 || u[i] != u[i - 1])
				EMIT(u[i]);
	} else {
		size_t j = 0;
		for (uint32_t x = 1; x < ul->next_uid && x; x++) {
			while (j < ul->n && ul->recs[j].uid < x)
				j++;
			if (j < ul->n && ul->recs[j].uid == x)
				continue;
			EMIT(x);
		}
	}
	if (start) {
		sb_printf(out, first ? "%u" : ",%u", (unsigned)start);
		if (prev != start)
			sb_printf(out, ":%u", (unsigned)prev);
	}
#undef EMIT
	free(u);
}

int imap_uid_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}
