/* mailcache: per-mailbox cache of dates, sizes, ENVELOPE and BODYSTRUCTURE.
 *
 * Design note: the file, and why concurrent use is safe.
 *
 * File DIR/postern-cache (integers little-endian, no alignment):
 *   header, 32 octets: "PSTNCACH", u32 version (1), u32 uidvalidity,
 *     12 octets zero, u32 checksum of the first 28 octets
 *   records, appended: u32 magic "PCR1", u32 reclen (whole record),
 *     u32 uid, u32 baselen, i64 internaldate, u64 size, u64 hdr_len,
 *     u32 envelope_len, u32 body_len, u32 bodystructure_len,
 *     base NUL envelope NUL body NUL bodystructure NUL,
 *     u64 checksum of everything before it in the record.
 *
 * 1. Nothing read from the file is trusted: every length is bounded
 *    (reclen <= MAILCACHE_RECORD_MAX, sums in 64 bits must equal reclen,
 *    the file <= MAILCACHE_FILE_MAX) and every record is checksummed, when
 *    the file is scanned and again when an entry is handed out. A reader
 *    uses the records up to the first one that is short or bad.
 * 2. Readers take no lock. mailcache_open reads the file once with pread
 *    (no mmap: a file truncated under us must not mean SIGBUS, and NFS
 *    stays safe) and keeps only uid -> (offset, length) in a hash table;
 *    an entry is read back by pread through a 256 KiB window, so FETCH 1:*
 *    streams the file in uid order with little memory. The fd stays open,
 *    so a file replaced meanwhile (rename) keeps answering from the inode
 *    that was validated.
 * 3. Writers buffer records in memory and append them in flush, under an
 *    flock of DIR/postern-cache.lock: open the path afresh; if it is the
 *    inode we read and the checksum of the last record we read still ends
 *    where we stopped, scan what others appended since (those entries
 *    become ours too), else adopt the file as it is (scan it whole). A
 *    short or bad record found under the lock can only be the remains of a
 *    crash or a full disk (whole records are written by one write() under
 *    the lock) or outside damage, so the file is truncated there. Then one
 *    O_APPEND write(); if it fails, the file is truncated back to where it
 *    was. No fdatasync: a crash may lose or tear the tail, which the
 *    checksums catch. Pending entries another process wrote meanwhile, or
 *    replaced before the flush, are not written twice.
 * 6. Compaction needs to know what is dead: mailcache_retain (at SELECT,
 *    with the uid list) and mailcache_expunged tell it. Entries at or
 *    above the list's UIDNEXT are never dropped by retain, so a session
 *    with an older list does not throw away newer sessions' work.
 * 4. Rewrites (tmp + rename, under the lock) happen when the file is
 *    missing or damaged, belongs to another UIDVALIDITY, or more than half
 *    of its records are dead (expunged uids, or duplicates when two
 *    sessions cached the same message). A file of another UIDVALIDITY is
 *    replaced only when the mailbox's uid list (its first line) says ours
 *    is current; otherwise this session is the stale one and stops
 *    writing, so an old session never undoes a new one's reset.
 * 5. An entry is keyed by (uid, base name): a record whose base differs
 *    from the message's is ignored, so a reused or mismatched entry can
 *    never answer. Flags are not cached. Message files are immutable; a
 *    message whose size changed while it was read is not cached.
 */
#include "mailcache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "imap-bodystructure.h"
#include "imap-envelope.h"
#include "log.h"
#include "maildir.h"
#include "strbuf.h"

#define CACHE_FILE "postern-cache"
#define CACHE_TMP "postern-cache.tmp"
#define CACHE_LOCK "postern-cache.lock"
#define UIDLIST_FILE "postern-uidlist"

#define FILE_MAGIC "PSTNCACH"
#define FILE_VERSION 1
#define HDR_SIZE 32
#define REC_MAGIC 0x31524350u  /* "PCR1" */
#define REC_FIXED 52           /* up to the base */
#define REC_OVERHEAD 64        /* fixed part, 4 NULs, checksum */
#define WINDOW_SIZE (256 * 1024)
#define SCAN_CHUNK (256 * 1024)
#define PENDING_FLUSH (4u << 20)        /* auto-flush above this */
#define PENDING_MAX_NOWRITE (64u << 20) /* memory-only cache when we cannot write */
#define COMPACT_MIN 32                  /* never rewrite a file this small for dead records */
#define MSG_READ_MAX ((off_t)1 << 30)
#define PENDING_BIT ((uint64_t)1 << 63)

/* uid 0: empty. off has PENDING_BIT when the record is in c->pending. */
struct slot {
	uint32_t uid;
	uint32_t len;
	uint64_t off;
};

struct mailcache {
	char dir[MAILDIR_PATH_MAX];
	char path[MAILDIR_PATH_MAX];
	uint32_t uidvalidity;
	bool disabled;      /* path too long: memory only */
	bool stale;         /* a newer UIDVALIDITY owns the file: never write */
	bool nowrite;       /* the lock or file cannot be opened for writing */

	int fd;             /* the file read, or -1 */
	dev_t dev;
	ino_t ino;
	uint64_t valid_end; /* offset after the last valid record read */
	uint64_t tail_sum;  /* checksum of the record ending at valid_end */

	struct slot *t;
	size_t cap, used;
	size_t live_file, live_pending;
	size_t nrec_file;   /* valid records in the file, dead ones included */

	struct strbuf pending;

	char *win;
	size_t win_cap, win_len;
	uint64_t win_off;
	bool win_valid;

	struct mailcache_entry e;
	struct strbuf s_env, s_body, s_bs;  /* fill's formatting */
	char s_base[MAILDIR_NAME_MAX];

	struct mailcache_stats st;
};

/* --- encoding --- */

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t rotl64(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

/* A fast 64-bit checksum (xxhash-style rounds, not cryptographic: it
 * catches torn and damaged records, not forgeries; whoever can write the
 * file owns the mailbox anyway). */
static uint64_t checksum(const unsigned char *p, size_t len)
{
	const uint64_t k1 = 0x9e3779b185ebca87ull, k2 = 0xc2b2ae3d27d4eb4full;
	uint64_t h = 0x27d4eb2f165667c5ull ^ ((uint64_t)len * k1);
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t w = get64(p + i) * k2;
		w = rotl64(w, 31) * k1;
		h ^= w;
		h = rotl64(h, 27) * k1 + 0x85ebca77c2b2ae63ull;
	}
	for (; i < len; i++) {
		h ^= (uint64_t)p[i] * 0x165667b19e3779f9ull;
		h = rotl64(h, 11) * k1;
	}
	h ^= h >> 33;
	h *= k2;
	h ^= h >> 29;
	h *= 0x165667b19e3779f9ull;
	h ^= h >> 32;
	return h;
}

static bool base_ok(const char *base, size_t baselen)
{
	if (baselen == 0 || baselen >= MAILDIR_NAME_MAX)
		return false;
	for (size_t i = 0; i < baselen; i++)
		if (base[i] == '\0' || base[i] == '/')
			return false;
	return true;
}

/* Parse and verify one record of exactly LEN octets at P into *E (strings
 * point into P). 0 or -1 (damaged). */
static int rec_parse(const unsigned char *p, size_t len, struct mailcache_entry *e)
{
	if (len < REC_OVERHEAD || len > MAILCACHE_RECORD_MAX)
		return -1;
	if (get32(p) != REC_MAGIC || get32(p + 4) != len)
		return -1;
	uint32_t uid = get32(p + 8), baselen = get32(p + 12);
	uint64_t size = get64(p + 24), hdr_len = get64(p + 32);
	uint32_t el = get32(p + 40), bl = get32(p + 44), sl = get32(p + 48);
	uint64_t total = (uint64_t)REC_OVERHEAD + baselen + el + bl + sl;
	if (uid == 0 || total != len || size > (uint64_t)INT64_MAX || hdr_len > size)
		return -1;
	if (get64(p + len - 8) != checksum(p, len - 8))
		return -1;
	const char *s = (const char *)p + REC_FIXED;
	if (!base_ok(s, baselen) || s[baselen] != '\0')
		return -1;
	const char *env = s + baselen + 1, *body = env + el + 1, *bs = body + bl + 1;
	if (env[el] != '\0' || body[bl] != '\0' || bs[sl] != '\0')
		return -1;
	e->uid = uid;
	e->base = s;
	e->baselen = baselen;
	e->internaldate = (time_t)(int64_t)get64(p + 16);
	e->size = (off_t)size;
	e->hdr_len = (size_t)hdr_len;
	e->envelope = env;
	e->envelope_len = el;
	e->body = body;
	e->body_len = bl;
	e->bodystructure = bs;
	e->bodystructure_len = sl;
	return 0;
}

/* Append an encoded record to SB. The caller checked the lengths. */
static void rec_encode(struct strbuf *sb, uint32_t uid, const char *base, size_t baselen,
		       time_t internaldate, off_t size, size_t hdr_len, const char *env,
		       size_t el, const char *body, size_t bl, const char *bs, size_t sl)
{
	size_t len = REC_OVERHEAD + baselen + el + bl + sl;
	sb_grow(sb, len);
	unsigned char *p = (unsigned char *)sb->s + sb->len;
	put32(p, REC_MAGIC);
	put32(p + 4, (uint32_t)len);
	put32(p + 8, uid);
	put32(p + 12, (uint32_t)baselen);
	put64(p + 16, (uint64_t)(int64_t)internaldate);
	put64(p + 24, (uint64_t)size);
	put64(p + 32, (uint64_t)hdr_len);
	put32(p + 40, (uint32_t)el);
	put32(p + 44, (uint32_t)bl);
	put32(p + 48, (uint32_t)sl);
	unsigned char *q = p + REC_FIXED;
	memcpy(q, base, baselen);
	q += baselen;
	*q++ = 0;
	memcpy(q, env, el);
	q += el;
	*q++ = 0;
	memcpy(q, body, bl);
	q += bl;
	*q++ = 0;
	memcpy(q, bs, sl);
	q += sl;
	*q++ = 0;
	put64(q, checksum(p, len - 8));
	sb->len += len;
	sb->s[sb->len] = '\0';
}

static void header_encode(unsigned char h[HDR_SIZE], uint32_t uidvalidity)
{
	memset(h, 0, HDR_SIZE);
	memcpy(h, FILE_MAGIC, 8);
	put32(h + 8, FILE_VERSION);
	put32(h + 12, uidvalidity);
	put32(h + 28, (uint32_t)checksum(h, 28));
}

/* 1 valid (uidvalidity in *uv_r), 0 not a cache file of this version. */
static int header_parse(const unsigned char h[HDR_SIZE], uint32_t *uv_r)
{
	if (memcmp(h, FILE_MAGIC, 8) != 0 || get32(h + 8) != FILE_VERSION ||
	    get32(h + 28) != (uint32_t)checksum(h, 28))
		return 0;
	*uv_r = get32(h + 12);
	return 1;
}

/* --- uid table: open addressing, linear probing, backward-shift delete --- */

static size_t slot_hash(const struct mailcache *c, uint32_t uid)
{
	return (size_t)((uid * 0x9e3779b1u) ^ (uid >> 16)) & (c->cap - 1);
}

static struct slot *tab_find(const struct mailcache *c, uint32_t uid)
{
	if (!c->cap)
		return NULL;
	for (size_t i = slot_hash(c, uid);; i = (i + 1) & (c->cap - 1)) {
		if (c->t[i].uid == uid)
			return &c->t[i];
		if (c->t[i].uid == 0)
			return NULL;
	}
}

static void count_slot(struct mailcache *c, const struct slot *s, int d)
{
	if (s->off & PENDING_BIT)
		c->live_pending += (size_t)d;
	else
		c->live_file += (size_t)d;
}

static void tab_insert_raw(struct slot *t, size_t cap, struct slot s, struct mailcache *c)
{
	size_t i = slot_hash(c, s.uid);
	while (t[i].uid)
		i = (i + 1) & (cap - 1);
	t[i] = s;
}

static void tab_set(struct mailcache *c, uint32_t uid, uint64_t off, uint32_t len)
{
	struct slot *s = tab_find(c, uid);
	if (s) {
		count_slot(c, s, -1);
		s->off = off;
		s->len = len;
		count_slot(c, s, 1);
		return;
	}
	if ((c->used + 1) * 2 > c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 1024;
		struct slot *nt = xcalloc(ncap, sizeof *nt);
		size_t ocap = c->cap;
		struct slot *ot = c->t;
		c->t = nt;
		c->cap = ncap;
		for (size_t i = 0; i < ocap; i++)
			if (ot[i].uid)
				tab_insert_raw(nt, ncap, ot[i], c);
		free(ot);
	}
	struct slot ns = { uid, len, off };
	tab_insert_raw(c->t, c->cap, ns, c);
	c->used++;
	count_slot(c, &ns, 1);
}

static void tab_del_slot(struct mailcache *c, struct slot *s)
{
	size_t mask = c->cap - 1, i = (size_t)(s - c->t);
	count_slot(c, s, -1);
	c->t[i].uid = 0;
	c->used--;
	for (size_t j = (i + 1) & mask; c->t[j].uid; j = (j + 1) & mask) {
		size_t h = slot_hash(c, c->t[j].uid);
		/* move j back into the hole at i when its home is not in (i, j] */
		bool stays = (i <= j) ? (i < h && h <= j) : (i < h || h <= j);
		if (!stays) {
			c->t[i] = c->t[j];
			c->t[j].uid = 0;
			i = j;
		}
	}
}

/* Remove every slot matching PENDING (true: pending ones; false: file ones). */
static void tab_drop_kind(struct mailcache *c, bool pending)
{
	if (!c->cap)
		return;
	size_t n = 0;
	struct slot *keep = xmalloc((c->used ? c->used : 1) * sizeof *keep);
	for (size_t i = 0; i < c->cap; i++)
		if (c->t[i].uid && !!(c->t[i].off & PENDING_BIT) != pending)
			keep[n++] = c->t[i];
	memset(c->t, 0, c->cap * sizeof *c->t);
	c->used = 0;
	c->live_file = c->live_pending = 0;
	for (size_t i = 0; i < n; i++) {
		tab_insert_raw(c->t, c->cap, keep[i], c);
		c->used++;
		count_slot(c, &keep[i], 1);
	}
	free(keep);
}

static void drop_pending(struct mailcache *c)
{
	if (c->live_pending)
		tab_drop_kind(c, true);
	sb_reset(&c->pending);
}

/* --- reading the file --- */

static ssize_t pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = pread(fd, (char *)buf + got, len - got, (off_t)(off + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* Read records of c->fd from c->valid_end to the end of the file into the
 * table. 0: clean end; 1: stopped at a short or bad record (valid_end is
 * before it); -1: read error (logged). */
static int scan_file(struct mailcache *c)
{
	size_t cap = SCAN_CHUNK, have = 0, start = 0;
	unsigned char *buf = xmalloc(cap);
	uint64_t pos = c->valid_end; /* file offset of buf[0] */
	bool eof = false;
	int ret = 0;
	struct mailcache_entry e;
	for (;;) {
		size_t need = 8;
		while (have - start >= 8) {
			const unsigned char *p = buf + start;
			uint32_t len = get32(p + 4);
			if (get32(p) != REC_MAGIC || len < REC_OVERHEAD || len > MAILCACHE_RECORD_MAX) {
				ret = 1;
				goto out;
			}
			if (have - start < len) {
				need = len;
				break;
			}
			if (rec_parse(p, len, &e) < 0) {
				ret = 1;
				goto out;
			}
			tab_set(c, e.uid, pos + start, len);
			c->nrec_file++;
			c->tail_sum = get64(p + len - 8);
			start += len;
			c->valid_end = pos + start;
		}
		if (eof) {
			ret = start < have ? 1 : 0;
			goto out;
		}
		memmove(buf, buf + start, have - start);
		pos += start;
		have -= start;
		start = 0;
		if (need > cap) {
			cap = need;
			buf = xrealloc(buf, cap);
		}
		if (pos + have >= (uint64_t)MAILCACHE_FILE_MAX) {
			ret = 1;
			goto out;
		}
		ssize_t n = pread(c->fd, buf + have, cap - have, (off_t)(pos + have));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			log_err("read(%s) failed: %m", c->path);
			ret = -1;
			goto out;
		}
		if (n == 0)
			eof = true;
		have += (size_t)n;
	}
out:
	free(buf);
	c->st.file_size = c->valid_end;
	return ret;
}

static void close_file(struct mailcache *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->valid_end = 0;
	c->nrec_file = 0;
	c->win_valid = false;
}

/* Check FD's header. 1 ours (uidvalidity matches), 0 empty or damaged or
 * not a regular file, 2 valid but another UIDVALIDITY (in *uv_r). */
static int check_header(struct mailcache *c, int fd, struct stat *st, uint32_t *uv_r)
{
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode) || st->st_size < HDR_SIZE ||
	    st->st_size > MAILCACHE_FILE_MAX)
		return 0;
	unsigned char h[HDR_SIZE];
	if (pread_full(fd, h, HDR_SIZE, 0) != HDR_SIZE || !header_parse(h, uv_r))
		return 0;
	return *uv_r == c->uidvalidity ? 1 : 2;
}

struct mailcache *mailcache_open(const char *dir, uint32_t uidvalidity)
{
	struct mailcache *c = xcalloc(1, sizeof *c);
	c->fd = -1;
	c->uidvalidity = uidvalidity;
	if (uidvalidity == 0 ||(size_t)snprintf(c->dir, sizeof c->dir, "%s", dir) >= sizeof c->dir ||
	    (size_t)snprintf(c->path, sizeof c->path, "%s/%s", dir, CACHE_FILE) >= sizeof c->path) {
		c->disabled = true;
		return c;
	}
	int fd = open(c->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno != ENOENT)
			log_warn("open(%s) failed: %m", c->path);
		return c;
	}
	struct stat st;
	uint32_t uv;
	if (check_header(c, fd, &st, &uv) != 1) {
		close(fd);
		return c; /* replaced at the first flush */
	}
	c->fd = fd;
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	c->valid_end = HDR_SIZE;
	scan_file(c);
	return c;
}

/* The record bytes of slot S (pending buffer or file through the window),
 * or NULL when unreadable. */
static const unsigned char *slot_bytes(struct mailcache *c, const struct slot *s)
{
	if (s->off & PENDING_BIT) {
		uint64_t off = s->off & ~PENDING_BIT;
		if (off > c->pending.len || c->pending.len - off < s->len)
			return NULL;
		return (const unsigned char *)c->pending.s + off;
	}
	if (c->fd < 0)
		return NULL;
	if (c->win_valid && s->off >= c->win_off && s->off - c->win_off <= c->win_len &&
	    c->win_len - (s->off - c->win_off) >= s->len)
		return (const unsigned char *)c->win + (s->off - c->win_off);
	size_t want = s->len > WINDOW_SIZE ? s->len : WINDOW_SIZE;
	if (want > c->win_cap) {
		free(c->win);
		c->win = xmalloc(want);
		c->win_cap = want;
	}
	c->win_valid = false;
	ssize_t n = pread_full(c->fd, c->win, want, s->off);
	if (n < 0 || (size_t)n < s->len)
		return NULL;
	c->win_off = s->off;
	c->win_len = (size_t)n;
	c->win_valid = true;
	return (const unsigned char *)c->win;
}

/* Look UID up without counting; drops a damaged slot. */
static const struct mailcache_entry *lookup(struct mailcache *c, uint32_t uid, const char *base,
					    size_t baselen)
{
	struct slot *s = tab_find(c, uid);
	if (!s)
		return NULL;
	const unsigned char *p = slot_bytes(c, s);
	if (!p || rec_parse(p, s->len, &c->e) < 0 || c->e.uid != uid) {
		tab_del_slot(c, s);
		return NULL;
	}
	if (c->e.baselen != baselen || memcmp(c->e.base, base, baselen) != 0)
		return NULL;
	return &c->e;
}

const struct mailcache_entry *mailcache_get(struct mailcache *c, uint32_t uid, const char *base,
					    size_t baselen)
{
	const struct mailcache_entry *e = lookup(c, uid, base, baselen);
	if (e)
		c->st.hits++;
	else
		c->st.misses++;
	return e;
}

/* --- writing --- */

static int put_len(struct mailcache *c, uint32_t uid, const char *base, size_t baselen,
		   time_t internaldate, off_t size, size_t hdr_len, const char *env, size_t el,
		   const char *body, size_t bl, const char *bs, size_t sl)
{
	if (uid == 0 || !base_ok(base, baselen) || size < 0 || (uint64_t)hdr_len > (uint64_t)size) {
		errno = EINVAL;
		return -1;
	}
	if (el > MAILCACHE_RECORD_MAX || bl > MAILCACHE_RECORD_MAX || sl > MAILCACHE_RECORD_MAX ||
	    (uint64_t)REC_OVERHEAD + baselen + el + bl + sl > MAILCACHE_RECORD_MAX) {
		errno = EFBIG;
		return -1;
	}
	if (c->stale || ((c->nowrite || c->disabled) && c->pending.len >= PENDING_MAX_NOWRITE)) {
		errno = ENOSPC;
		return -1;
	}
	uint64_t off = c->pending.len;
	rec_encode(&c->pending, uid, base, baselen, internaldate, size, hdr_len, env ? env : "", el,
		   body ? body : "", bl, bs ? bs : "", sl);
	tab_set(c, uid, off | PENDING_BIT, (uint32_t)(c->pending.len - off));
	if (c->pending.len >= PENDING_FLUSH && !c->nowrite && !c->disabled)
		mailcache_flush(c);
	return 0;
}

int mailcache_put(struct mailcache *c, uint32_t uid, const char *base, size_t baselen,
		  time_t internaldate, off_t size, size_t hdr_len, const char *envelope,
		  const char *body, const char *bodystructure)
{
	return put_len(c, uid, base, baselen, internaldate, size, hdr_len, envelope,
		       envelope ? strlen(envelope) : 0, body, body ? strlen(body) : 0, bodystructure,
		       bodystructure ? strlen(bodystructure) : 0);
}

static void format_message(struct mailcache *c, const char *msg, const struct mime_part *root)
{
	sb_reset(&c->s_env);
	sb_reset(&c->s_body);
	sb_reset(&c->s_bs);
	imap_envelope_write(&c->s_env, msg + root->hdr_off, root->hdr_len);
	imap_bodystructure_write(&c->s_body, msg, root, false);
	imap_bodystructure_write(&c->s_bs, msg, root, true);
}

int mailcache_put_message(struct mailcache *c, uint32_t uid, const char *base, size_t baselen,
			  time_t internaldate, const char *msg, size_t len,
			  const struct mime_part *root)
{
	format_message(c, msg, root);
	return put_len(c, uid, base, baselen, internaldate, (off_t)len, root->hdr_len, c->s_env.s,
		       c->s_env.len, c->s_body.s, c->s_body.len, c->s_bs.s, c->s_bs.len);
}

int mailcache_fill(struct mailcache *c, const char *dir, uint32_t uid, char *name,
		   size_t namelen, bool *in_new, const struct mailcache_entry **entry_r)
{
	const struct mailcache_entry *e = mailcache_get(c, uid, name, maildir_base_len(name));
	off_t name_size = maildir_name_size(name);
	if (e && name_size >= 0 && e->size != name_size)
		e = NULL; /* the name's ,S= disagrees: recompute */
	if (e) {
		*entry_r = e;
		return 1;
	}
	int fd = maildir_open_msg(dir, name, namelen, in_new);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		log_err("open(%s/%s) failed: %m", dir, name);
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		log_err("fstat(%s/%s) failed: %m", dir, name);
		close(fd);
		return -1;
	}
	if (st.st_size > MSG_READ_MAX) {
		log_err("message %s/%s too large to read (%lld octets)", dir, name,
			(long long)st.st_size);
		close(fd);
		return -1;
	}
	size_t len = (size_t)st.st_size;
	char *buf = xmalloc(len + 1);
	ssize_t got = pread_full(fd, buf, len, 0);
	close(fd);
	if (got < 0) {
		log_err("read(%s/%s) failed: %m", dir, name);
		free(buf);
		return -1;
	}
	buf[got] = '\0';
	c->st.parsed++;
	struct mime_part *root;
	mime_parse(buf, (size_t)got, &root);
	size_t baselen = maildir_base_len(name);
	format_message(c, buf, root);
	size_t hdr_len = root->hdr_len;
	mime_free(root);
	free(buf);
	e = NULL;
	if ((size_t)got == len &&
	    put_len(c, uid, name, baselen, st.st_mtime, (off_t)len, hdr_len, c->s_env.s,
		    c->s_env.len, c->s_body.s, c->s_body.len, c->s_bs.s, c->s_bs.len) == 0)
		e = lookup(c, uid, name, baselen);
	if (!e) {
		/* not cacheable (too large, size changed, cannot write): answer anyway */
		struct mailcache_entry *x = &c->e;
		size_t bl = baselen < sizeof c->s_base ? baselen : sizeof c->s_base - 1;
		memcpy(c->s_base, name, bl);
		c->s_base[bl] = '\0';
		x->uid = uid;
		x->base = c->s_base;
		x->baselen = bl;
		x->internaldate = st.st_mtime;
		x->size = (off_t)got;
		x->hdr_len = hdr_len;
		x->envelope = c->s_env.s ? c->s_env.s : "";
		x->envelope_len = c->s_env.len;
		x->body = c->s_body.s ? c->s_body.s : "";
		x->body_len = c->s_body.len;
		x->bodystructure = c->s_bs.s ? c->s_bs.s : "";
		x->bodystructure_len = c->s_bs.len;
		e = x;
	}
	*entry_r = e;
	return 1;
}

void mailcache_expunged(struct mailcache *c, uint32_t uid)
{
	struct slot *s = tab_find(c, uid);
	if (s)
		tab_del_slot(c, s);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

int mailcache_retain(struct mailcache *c, const uint32_t *uids, size_t n, uint32_t uidnext)
{
	for (size_t i = 0; i < n; i++)
		if ((i > 0 && uids[i - 1] >= uids[i]) || uids[i] >= uidnext)
			return -1;
	if (!c->used)
		return 0;
	uint32_t *gone = xmalloc(c->used * sizeof *gone);
	size_t ng = 0;
	for (size_t i = 0; i < c->cap; i++) {
		uint32_t u = c->t[i].uid;
		if (u && u < uidnext && (n == 0 || !bsearch(&u, uids, n, sizeof *uids, cmp_u32)))
			gone[ng++] = u;
	}
	for (size_t i = 0; i < ng; i++)
		mailcache_expunged(c, gone[i]);
	free(gone);
	return 0;
}

/* The mailbox's current UIDVALIDITY from the first line of its uid list
 * ("V1 <uidvalidity> <next_uid>"); 0 when unknown. */
static uint32_t current_uidvalidity(const char *dir)
{
	char path[MAILDIR_PATH_MAX], line[64];
	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, UIDLIST_FILE) >= sizeof path)
		return 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	ssize_t n = pread_full(fd, line, sizeof line - 1, 0);
	close(fd);
	if (n < 4)
		return 0;
	line[n] = '\0';
	if (line[0] != 'V' || line[1] != '1' || line[2] != ' ')
		return 0;
	char *end;
	errno = 0;
	unsigned long v = strtoul(line + 3, &end, 10);
	if (errno || end == line + 3 || *end != ' ' || v > UINT32_MAX)
		return 0;
	return (uint32_t)v;
}

static int cmp_slot_uid(const void *a, const void *b)
{
	const struct slot *x = a, *y = b;
	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

/* Write every live entry (sorted by uid) to a new file and rename it into
 * place. Entries are read from c->fd (the old file, whatever it is now) or
 * the pending buffer. Caller holds the lock. 0 or -1 (logged). */
static int rewrite(struct mailcache *c)
{
	char tmp[MAILDIR_PATH_MAX];
	if ((size_t)snprintf(tmp, sizeof tmp, "%s/%s", c->dir, CACHE_TMP) >= sizeof tmp)
		return -1;
	int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		log_err("open(%s) failed: %m", tmp);
		return -1;
	}
	size_t n = 0;
	struct slot *all = xmalloc((c->used ? c->used : 1) * sizeof *all);
	for (size_t i = 0; i < c->cap; i++)
		if (c->t[i].uid)
			all[n++] = c->t[i];
	qsort(all, n, sizeof *all, cmp_slot_uid);
	struct strbuf out = STRBUF_INIT;
	unsigned char h[HDR_SIZE];
	header_encode(h, c->uidvalidity);
	sb_add(&out, h, HDR_SIZE);
	uint64_t written = 0;
	size_t kept = 0;
	int ret = 0;
	struct mailcache_entry e;
	for (size_t i = 0; i < n && ret == 0; i++) {
		const unsigned char *p = slot_bytes(c, &all[i]);
		if (!p || rec_parse(p, all[i].len, &e) < 0 || e.uid != all[i].uid) {
			all[i].uid = 0; /* damaged: leave it out */
			continue;
		}
		all[i].off = written + out.len; /* new file offset */
		sb_add(&out, p, all[i].len);
		c->tail_sum = get64(p + all[i].len - 8);
		kept++;
		if (out.len >= SCAN_CHUNK) {
			if (fs_write_all(fd, out.s, out.len) < 0)
				ret = -1;
			written += out.len;
			sb_reset(&out);
		}
	}
	if (ret == 0 && out.len && fs_write_all(fd, out.s, out.len) < 0)
		ret = -1;
	written += out.len;
	sb_free(&out);
	struct stat st;
	if (ret < 0)
		log_err("write(%s) failed: %m", tmp);
	else if (fstat(fd, &st) < 0 || rename(tmp, c->path) < 0) {
		log_err("rename(%s, %s) failed: %m", tmp, c->path);
		ret = -1;
	}
	if (ret < 0) {
		unlink(tmp);
		close(fd);
		free(all);
		return -1;
	}
	/* switch to the new file */
	close_file(c);
	c->fd = fd;
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	c->valid_end = written;
	c->nrec_file = kept;
	if (c->cap)
		memset(c->t, 0, c->cap * sizeof *c->t);
	c->used = c->live_file = c->live_pending = 0;
	for (size_t i = 0; i < n; i++)
		if (all[i].uid)
			tab_set(c, all[i].uid, all[i].off, all[i].len);
	free(all);
	sb_reset(&c->pending);
	c->st.file_size = written;
	return 0;
}

/* Append the pending records still referenced by the table. Caller holds
 * the lock and c->fd is the file, opened for appending, ending at
 * valid_end. 0 or -1 (logged; the file is cut back). */
static int append_pending(struct mailcache *c)
{
	/* squeeze out records replaced or dropped since they were put */
	size_t dst = 0, src = 0, count = 0;
	struct mailcache_entry e;
	while (src < c->pending.len) {
		const unsigned char *p = (const unsigned char *)c->pending.s + src;
		uint32_t len = get32(p + 4), uid = get32(p + 8);
		struct slot *s = tab_find(c, uid);
		if (s && s->off == (src | PENDING_BIT) && rec_parse(p, len, &e) == 0) {
			if (dst != src)
				memmove(c->pending.s + dst, p, len);
			s->off = dst | PENDING_BIT;
			dst += len;
			count++;
		}
		src += len;
	}
	c->pending.len = dst;
	if (!dst)
		return 0;
	uint64_t base = c->valid_end;
	if (fs_write_all(c->fd, c->pending.s, dst) < 0) {
		log_err("write(%s) failed: %m", c->path);
		if (ftruncate(c->fd, (off_t)base) < 0)
			log_err("ftruncate(%s) failed: %m", c->path);
		return -1;
	}
	for (size_t i = 0; i < c->cap; i++) {
		struct slot *s = &c->t[i];
		if (s->uid && (s->off & PENDING_BIT)) {
			count_slot(c, s, -1);
			s->off = base + (s->off & ~PENDING_BIT);
			count_slot(c, s, 1);
		}
	}
	c->valid_end = base + dst;
	c->tail_sum = get64((const unsigned char *)c->pending.s + dst - 8);
	c->nrec_file += count;
	c->st.file_size = c->valid_end;
	sb_reset(&c->pending);
	return 0;
}

/* FD (the same inode as c->fd) still holds the records we read: it is long
 * enough and the record we read last still ends at valid_end. A file cut
 * and grown again by another process fails this. */
static bool same_contents(const struct mailcache *c, int fd, const struct stat *st)
{
	if ((uint64_t)st->st_size < c->valid_end)
		return false;
	if (c->valid_end <= HDR_SIZE)
		return true;
	unsigned char b[8];
	return pread_full(fd, b, 8, c->valid_end - 8) == 8 && get64(b) == c->tail_sum;
}

static bool compaction_due(const struct mailcache *c)
{
	return c->fd >= 0 && c->nrec_file >= COMPACT_MIN &&
	       (c->nrec_file - c->live_file) * 2 > c->nrec_file;
}

int mailcache_flush(struct mailcache *c)
{
	if (c->stale) {
		drop_pending(c);
		return 0;
	}
	if (c->disabled || c->nowrite)
		return -1;
	if (!c->live_pending && !compaction_due(c)) {
		sb_reset(&c->pending);
		return 0;
	}
	int lock = maildir_lock(c->dir, CACHE_LOCK, true);
	if (lock < 0) {
		c->nowrite = true;
		return -1;
	}
	int ret = 0;
	bool reset = false;
	int fd = open(c->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		log_err("open(%s) failed: %m", c->path);
		c->nowrite = true;
		close(lock);
		return -1;
	}
	struct stat st;
	uint32_t uv = 0;
	int h = check_header(c, fd, &st, &uv);
	if (h == 1 && c->fd >= 0 && st.st_dev == c->dev && st.st_ino == c->ino &&
	    same_contents(c, fd, &st)) {
		/* the file we read: replace our read-only fd by this one */
		close(c->fd);
		c->fd = fd;
	} else if (h == 1) {
		/* another file (rewritten by someone), or ours cut shorter than
		 * what we read (damage found by another process): adopt it */
		close_file(c);
		tab_drop_kind(c, false);
		c->fd = fd;
		c->dev = st.st_dev;
		c->ino = st.st_ino;
		c->valid_end = HDR_SIZE;
	} else if (h == 2 && current_uidvalidity(c->dir) != c->uidvalidity) {
		/* the file belongs to a newer UIDVALIDITY: we are the stale ones */
		close(fd);
		close(lock);
		c->stale = true;
		drop_pending(c);
		return 0;
	} else {
		if (h == 2)
			log_info("cache %s: UIDVALIDITY changed, rebuilding", c->path);
		else if (st.st_size > 0)
			log_warn("cache %s damaged: rebuilding", c->path);
		close(fd);
		reset = true;
	}
	if (!reset) {
		int r = scan_file(c);
		if (r < 0) {
			ret = -1;
		} else if (r > 0) {
			/* a torn or damaged tail: cut it off */
			log_warn("cache %s: damaged record at %llu, truncating", c->path,
				 (unsigned long long)c->valid_end);
			if (ftruncate(c->fd, (off_t)c->valid_end) < 0) {
				log_err("ftruncate(%s) failed: %m", c->path);
				reset = true;
			}
		}
	}
	if (ret == 0) {
		if (reset || compaction_due(c)) {
			ret = rewrite(c);
			if (ret == 0 && reset)
				c->st.resets++;
			else if (ret == 0)
				c->st.compactions++;
		} else {
			ret = append_pending(c);
		}
	}
	if (ret < 0)
		drop_pending(c);
	else
		c->st.flushes++;
	close(lock);
	return ret;
}

void mailcache_close(struct mailcache *c)
{
	if (!c)
		return;
	mailcache_flush(c);
	close_file(c);
	free(c->t);
	free(c->win);
	sb_free(&c->pending);
	sb_free(&c->s_env);
	sb_free(&c->s_body);
	sb_free(&c->s_bs);
	free(c);
}

void mailcache_get_stats(const struct mailcache *c, struct mailcache_stats *st_r)
{
	*st_r = c->st;
	st_r->entries = c->used;
	st_r->file_records = c->nrec_file;
}
