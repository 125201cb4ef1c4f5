/* uidlist: stable UIDs for a maildir.
 *
 * Design note: the races and why this is safe.
 *
 * Other processes (our handlers, and any MUA sharing the maildir) deliver
 * into new/, move new/ -> cur/, change flags by renaming within cur/ and
 * expunge by unlinking, all without any lock. Only the list file is locked.
 *
 * 1. A sync reads the list lock-free (it is only ever replaced by rename, so
 *    a reader sees one whole version), scans new/ and then cur/, and matches
 *    files to records by base name with a hash table: O(n), no stat() when
 *    names carry ",S=". When every file is listed and every record has a
 *    file, that is the answer and nothing is written or locked.
 * 2. Otherwise it takes the lock and re-reads the list (another process may
 *    have listed the new files or dropped records meanwhile), so UIDs are
 *    only ever assigned by one process at a time from the current next_uid.
 * 3. new/ is read before cur/: a message moving new/ -> cur/ during the scan
 *    is then seen at least once (maybe twice: the base is de-duplicated, the
 *    cur/ name preferred).
 * 4. A rename within cur/ (flag change) during readdir can hide a file from
 *    that readdir. So a record is never dropped on the evidence of one scan:
 *    records without a file are checked by up to EXTRA_LOOKS more full scans
 *    under the lock, and only those missing from every scan are dropped (the
 *    last scan's names win). Rescanning costs O(n) once per expunge, instead
 *    of O(n) per missing record with maildir_find.
 * 5. Writes go to postern-uidlist.tmp, fdatasync, rename, fsync of the
 *    directory, and only when something changed. A crash (even SIGKILL)
 *    leaves the old or the new list; the lock is a flock, so it dies with
 *    its holder.
 * 6. next_uid never decreases (a list whose records reach past it is
 *    repaired upwards), a dropped UID is never reused, and a listed message
 *    keeps its UID. UIDVALIDITY is chosen only when the list is created:
 *    the time in seconds, but above the last one handed out under the same
 *    mail root, which is kept in <root>/postern-uidvalidity (root is DIR, or
 *    its parent when DIR has a "maildirfolder" file). A deleted list, or a
 *    folder deleted and re-created in the same second, thus never gets an
 *    old UIDVALIDITY again. The same happens if next_uid would pass 2^32-1:
 *    everything is renumbered under a new UIDVALIDITY.
 * 7. A file seen by the scan may be expunged before we list it; it is then
 *    listed and dropped at the next sync (a UID is burnt, nothing breaks).
 * 8. Symlinks are never followed: DIR, new/ and cur/ are opened with
 *    md_open_dir/md_open_sub (O_NOFOLLOW) and the list, lock and
 *    uidvalidity files O_NOFOLLOW relative to them; a maildir or a
 *    subdirectory that is a symlink makes the sync fail (ELOOP/ENOTDIR).
 */
#include "uidlist.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maildir.h"
#include "maildir-private.h"
#include "strbuf.h"

#define LIST_FILE "postern-uidlist"
#define LIST_TMP "postern-uidlist.tmp"
#define LIST_LOCK "postern-uidlist.lock"
#define UV_FILE "postern-uidvalidity"
#define UV_TMP "postern-uidvalidity.tmp"
#define UV_LOCK "postern-uidvalidity.lock"
#define EXTRA_LOOKS 2
#define MAX_SCANS (1 + EXTRA_LOOKS)

void (*uidlist_scan_hook)(const char *dir, int scan_no);

/* The list file as read. Bases point into buf. */
struct frec {
	uint32_t uid;
	uint32_t baselen;
	const char *base;
};

struct lfile {
	bool exists, valid, repaired;
	uint32_t uidvalidity;
	uint64_t next_uid;
	struct frec *r;
	size_t n;
	char *buf;
};

/* One scan of new/ and cur/. Names live in arena. */
struct sent {
	size_t off;
	const char *name;
	uint32_t baselen;
	bool in_new;
};

struct scan {
	struct sent *e;
	size_t n, cap;
	struct strbuf arena;
};

/* One base: its record (rec >= 0) and/or its file as last seen (ent). */
struct item {
	const char *base;
	uint32_t baselen;
	int32_t rec;
	int scan_no;
	const struct sent *ent;
};

/* Open addressing over a compact index (hash << 32 | item + 1; 0 empty),
 * so probes stay in a small array and strings are compared on a full
 * hash match only. Sized before filling: items never move meanwhile. */
struct table {
	uint64_t *idx;
	size_t cap;
	struct item *it;
	size_t n;
	int32_t *rec_item;  /* record i -> its item (-1: duplicate base) */
	size_t missing, unlisted;
};

struct sync {
	const char *dir;
	struct lfile lf;
	struct scan scans[MAX_SCANS];
	int nscans;
	struct table t;
};

/* --- the list file --- */

static bool parse_u32(const char **pp, const char *end, uint32_t *v)
{
	const char *p = *pp;
	uint64_t x = 0;
	if (p >= end || *p < '0' || *p > '9')
		return false;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		x = x * 10 + (uint64_t)(*p - '0');
		if (x > UINT32_MAX)
			return false;
	}
	*v = (uint32_t)x;
	*pp = p;
	return true;
}

static int frec_cmp(const void *a, const void *b)
{
	const struct frec *x = a, *y = b;
	if (x->uid != y->uid)
		return x->uid < y->uid ? -1 : 1;
	return x->base < y->base ? -1 : x->base > y->base; /* file order: the first wins */
}

static bool valid_base(const char *b, size_t len)
{
	return len > 0 && len < MAILDIR_NAME_MAX && b[0] != '.' && !memchr(b, '/', len) &&
	       !memchr(b, ':', len) && !memchr(b, '\r', len) && !memchr(b, '\0', len);
}

static void lfile_free(struct lfile *lf)
{
	free(lf->r);
	free(lf->buf);
	memset(lf, 0, sizeof *lf);
}

/* Read DIR's list. 0 (absent or read: see exists/valid) or -1. Problems
 * are logged when REPORT (by the locked read, which acts on them). */
static int lfile_read(const char *dir, struct lfile *lf, bool report)
{
	char path[MAILDIR_PATH_MAX];
	size_t len;
	lfile_free(lf);
	if (md_pathf(path, sizeof path, "%s/" LIST_FILE, dir) < 0)
		return -1;
	int r = md_read_file(dir, LIST_FILE, &lf->buf, &len);
	if (r <= 0)
		return r;
	lf->exists = true;
	const char *p = lf->buf, *end = lf->buf + len;
	const char *eol = memchr(p, '\n', len);
	uint32_t next;
	if (!eol || len < 3 || memcmp(p, "V1 ", 3) != 0 || (p += 3, !parse_u32(&p, eol, &lf->uidvalidity)) ||
	    *p++ != ' ' || !parse_u32(&p, eol, &next) || p != eol || lf->uidvalidity == 0) {
		if (report)
			md_err("%s: bad header; re-creating the list", path);
		return 0;
	}
	lf->valid = true;
	lf->next_uid = next ? next : 1;
	size_t cap = len / 32 + 16, bad = 0;
	uint32_t max = 0;
	bool sorted = true;
	lf->r = xmalloc(cap * sizeof *lf->r);
	for (p = eol + 1; p < end; p = eol + 1) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end; /* no final LF: never written by us */
		uint32_t uid;
		const char *b = p;
		if (!parse_u32(&b, eol, &uid) || uid == 0 || b >= eol || *b++ != ' ' ||
		    !valid_base(b, (size_t)(eol - b))) {
			bad++;
			continue;
		}
		*(char *)eol = '\0';
		if (lf->n == cap)
			lf->r = xrealloc(lf->r, (cap *= 2) * sizeof *lf->r);
		if (uid <= max)
			sorted = false;
		else
			max = uid;
		lf->r[lf->n++] = (struct frec){ uid, (uint32_t)(eol - b), b };
	}
	if (!sorted) {
		qsort(lf->r, lf->n, sizeof *lf->r, frec_cmp);
		size_t o = 0;
		for (size_t i = 0; i < lf->n; i++)
			if (o == 0 || lf->r[i].uid != lf->r[o - 1].uid)
				lf->r[o++] = lf->r[i];
			else
				bad++;
		lf->n = o;
		lf->repaired = true;
	}
	if (bad && report)
		md_warn("%s: ignored %zu bad or duplicate lines", path, bad);
	lf->repaired |= bad > 0;
	if (max >= lf->next_uid) {
		if (report)
			md_warn("%s: next_uid %llu raised past uid %u", path, (unsigned long long)lf->next_uid, max);
		lf->next_uid = (uint64_t)max + 1;
		lf->repaired = true;
	}
	return 0;
}

/* --- scanning --- */

static int scan_add(void *ctx, int dfd, const char *name, bool in_new)
{
	(void)dfd;
	struct scan *sc = ctx;
	size_t len = strlen(name), bl = maildir_base_len(name);
	if (!valid_base(name, bl) || len >= MAILDIR_NAME_MAX || strpbrk(name, "\r\n"))
		return 0; /* cannot be listed (the format is line based) */
	if (sc->n == sc->cap) {
		sc->cap = sc->cap ? sc->cap * 2 : 256;
		sc->e = xrealloc(sc->e, sc->cap * sizeof *sc->e);
	}
	sc->e[sc->n++] = (struct sent){ .off = sc->arena.len, .baselen = (uint32_t)bl, .in_new = in_new };
	sb_add(&sc->arena, name, len + 1);
	return 0;
}

static int scan_dir(struct sync *s)
{
	struct scan *sc = &s->scans[s->nscans];
	if (maildir_scan_names(s->dir, scan_add, sc) < 0) {
		md_err("scanning %s failed: %m", s->dir);
		free(sc->e); /* a partial scan (new/ read, cur/ not) */
		sb_free(&sc->arena);
		memset(sc, 0, sizeof *sc);
		return -1;
	}
	for (size_t i = 0; i < sc->n; i++)
		sc->e[i].name = sc->arena.s + sc->e[i].off;
	s->nscans++;
	if (uidlist_scan_hook)
		uidlist_scan_hook(s->dir, s->nscans);
	return 0;
}

/* --- matching files to records --- */

static uint32_t hash_base(const char *p, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n, w;
	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, p, n);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 29;
	return (uint32_t)h ^ (uint32_t)(h >> 32);
}

/* The item of BASE, inserted when new. */
static struct item *table_get(struct table *t, const char *base, uint32_t baselen)
{
	uint32_t h = hash_base(base, baselen);
	size_t j = h & (t->cap - 1);
	for (; t->idx[j]; j = (j + 1) & (t->cap - 1)) {
		if ((uint32_t)(t->idx[j] >> 32) != h)
			continue;
		struct item *it = &t->it[(uint32_t)t->idx[j] - 1];
		if (it->baselen == baselen && memcmp(it->base, base, baselen) == 0)
			return it;
	}
	t->idx[j] = (uint64_t)h << 32 | (t->n + 1);
	t->it[t->n] = (struct item){ .base = base, .baselen = baselen, .rec = -1 };
	return &t->it[t->n++];
}

/* (Re)build the table from the list and every scan so far. */
static void table_build(struct sync *s)
{
	struct table *t = &s->t;
	size_t total = s->lf.n;
	for (int k = 0; k < s->nscans; k++)
		total += s->scans[k].n;
	free(t->idx);
	free(t->it);
	free(t->rec_item);
	memset(t, 0, sizeof *t);
	for (t->cap = 1024; t->cap < 2 * total; t->cap *= 2)
		;
	t->idx = xcalloc(t->cap, sizeof *t->idx);
	t->it = xmalloc((total + 1) * sizeof *t->it);
	t->rec_item = xmalloc((s->lf.n + 1) * sizeof *t->rec_item);
	for (size_t i = 0; i < s->lf.n; i++) {
		struct item *it = table_get(t, s->lf.r[i].base, s->lf.r[i].baselen);
		if (it->rec >= 0) { /* same base listed twice: keep the lower uid */
			s->lf.repaired = true;
			t->rec_item[i] = -1;
			continue;
		}
		it->rec = (int32_t)i;
		t->rec_item[i] = (int32_t)(it - t->it);
	}
	for (int k = 0; k < s->nscans; k++) {
		const struct scan *sc = &s->scans[k];
		for (size_t i = 0; i < sc->n; i++) {
			const struct sent *e = &sc->e[i];
			struct item *it = table_get(t, e->name, e->baselen);
			/* a later scan knows better; within one, cur/ beats new/ */
			if (!it->ent || it->scan_no < k || (it->ent->in_new && !e->in_new)) {
				it->ent = e;
				it->scan_no = k;
			}
		}
	}
	for (size_t i = 0; i < t->n; i++) {
		if (t->it[i].rec >= 0 && !t->it[i].ent)
			t->missing++;
		else if (t->it[i].rec < 0)
			t->unlisted++;
	}
}

/* Order of new UIDs: base names compared with digit runs as numbers, so
 * "<sec>.M<usec>" of foreign deliveries sorts by time too. */
static int natcmp(const char *a, size_t al, const char *b, size_t bl)
{
	size_t i = 0, j = 0;
	while (i < al && j < bl) {
		bool da = a[i] >= '0' && a[i] <= '9', db = b[j] >= '0' && b[j] <= '9';
		if (da && db) {
			while (i < al && a[i] == '0')
				i++;
			while (j < bl && b[j] == '0')
				j++;
			size_t ie = i, je = j;
			while (ie < al && a[ie] >= '0' && a[ie] <= '9')
				ie++;
			while (je < bl && b[je] >= '0' && b[je] <= '9')
				je++;
			if (ie - i != je - j)
				return ie - i < je - j ? -1 : 1;
			int c = memcmp(a + i, b + j, ie - i);
			if (c)
				return c;
			i = ie;
			j = je;
		} else if (a[i] != b[j]) {
			return (unsigned char)a[i] < (unsigned char)b[j] ? -1 : 1;
		} else {
			i++;
			j++;
		}
	}
	if (al - i != bl - j)
		return al - i < bl - j ? -1 : 1;
	int c = memcmp(a, b, al < bl ? al : bl);
	return c ? c : al < bl ? -1 : al > bl;
}

/* A new base with its leading digit run as a number (the delivery time
 * of "<sec>.M<usec>..." names), so most comparisons of the sort are one
 * integer comparison. */
struct news_key {
	uint64_t lead;      /* UINT64_MAX: no leading digits, or too many */
	struct item *it;
};

static uint64_t lead_number(const char *b, size_t len)
{
	uint64_t v = 0;
	size_t i = 0;
	for (; i < len && b[i] >= '0' && b[i] <= '9'; i++) {
		if (v > (UINT64_MAX - 10) / 10)
			return UINT64_MAX;
		v = v * 10 + (uint64_t)(b[i] - '0');
	}
	return i ? v : UINT64_MAX;
}

/* The order of natcmp: two different leading numbers decide it there
 * (natcmp compares digit runs by value), anything else goes to natcmp. */
static int news_cmp(const void *x, const void *y)
{
	const struct news_key *a = x, *b = y;
	if (a->lead != UINT64_MAX && b->lead != UINT64_MAX && a->lead != b->lead)
		return a->lead < b->lead ? -1 : 1;
	return natcmp(a->it->base, a->it->baselen, b->it->base, b->it->baselen);
}

/* --- UIDVALIDITY --- */

static uint32_t uidvalidity_new(const char *dir, uint32_t prev)
{
	char root[MAILDIR_PATH_MAX], *buf;
	size_t len;
	snprintf(root, sizeof root, "%s", dir);
	for (size_t n = strlen(root); n > 1 && root[n - 1] == '/'; n--)
		root[n - 1] = '\0';
	int dfd = md_open_dir(root);
	struct stat st;
	if (dfd >= 0 && fstatat(dfd, "maildirfolder", &st, AT_SYMLINK_NOFOLLOW) == 0) {
		char *slash = strrchr(root, '/');
		if (slash && slash != root)
			*slash = '\0';
	}
	if (dfd >= 0)
		close(dfd);
	int lock = maildir_lock(root, UV_LOCK, true);
	uint64_t last = 0, v = (uint64_t)md_now();
	if (md_read_file(root, UV_FILE, &buf, &len) > 0) {
		last = strtoull(buf, NULL, 10);
		free(buf);
	}
	if (v <= last)
		v = last + 1;
	if (v <= prev)
		v = (uint64_t)prev + 1;
	if (v > UINT32_MAX)
		v = 1; /* after 2106, or a corrupt file: start over */
	char text[16];
	int n = snprintf(text, sizeof text, "%u\n", (unsigned)v);
	if (lock < 0 || md_write_atomic(root, UV_FILE, UV_TMP, text, (size_t)n) < 0)
		md_warn("%s: cannot record uidvalidity %u", root, (unsigned)v);
	if (lock >= 0)
		close(lock);
	return (uint32_t)v;
}

/* --- results --- */

static void rec_fill(const char *dir, struct uidlist_rec *r, uint32_t uid, const struct sent *e)
{
	r->uid = uid;
	r->name = xstrdup(e->name);
	r->baselen = e->baselen;
	r->in_new = e->in_new;
	r->flags = maildir_name_flags(r->name, &r->keywords);
	r->size = maildir_name_size(r->name);
	if (r->size < 0) {
		char path[MAILDIR_PATH_MAX];
		struct stat st;
		if (md_pathf(path, sizeof path, "%s/%s/%s", dir, e->in_new ? "new" : "cur", e->name) == 0 &&
		    lstat(path, &st) == 0 && S_ISREG(st.st_mode))
			r->size = st.st_size;
	}
}

/* Build *ul from the table: kept records in uid order, then NEWS (sorted)
 * numbered from next_uid, or everything from 1 when RENUMBER. */
static void result_build(struct sync *s, struct uidlist *ul, struct item **news, size_t nnew,
			 bool renumber)
{
	ul->recs = xcalloc(s->lf.n + nnew, sizeof *ul->recs);
	ul->n = 0;
	uint32_t next = renumber ? 1 : (uint32_t)s->lf.next_uid;
	for (size_t i = 0; i < s->lf.n; i++) {
		int32_t j = s->t.rec_item[i];
		if (j < 0 || !s->t.it[j].ent)
			continue;
		rec_fill(s->dir, &ul->recs[ul->n++], renumber ? next++ : s->lf.r[i].uid, s->t.it[j].ent);
	}
	for (size_t i = 0; i < nnew; i++)
		rec_fill(s->dir, &ul->recs[ul->n++], next++, news[i]->ent);
	ul->next_uid = next;
}

static int list_write(const char *dir, const struct uidlist *ul)
{
	struct strbuf sb = STRBUF_INIT;
	sb_grow(&sb, ul->n * 64 + 32);
	sb_printf(&sb, "V1 %u %u\n", ul->uidvalidity, ul->next_uid);
	for (size_t i = 0; i < ul->n; i++) {
		char num[12];
		int n = snprintf(num, sizeof num, "%u ", ul->recs[i].uid);
		sb_add(&sb, num, (size_t)n);
		sb_add(&sb, ul->recs[i].name, ul->recs[i].baselen);
		sb_addc(&sb, '\n');
	}
	int r = md_write_atomic(dir, LIST_FILE, LIST_TMP, sb.s, sb.len);
	sb_free(&sb);
	return r;
}

/* --- sync --- */

static void sync_free(struct sync *s)
{
	lfile_free(&s->lf);
	for (int k = 0; k < s->nscans; k++) {
		free(s->scans[k].e);
		sb_free(&s->scans[k].arena);
	}
	free(s->t.idx);
	free(s->t.it);
	free(s->t.rec_item);
}

/* The locked part: re-read, verify missing records, assign, write. */
static int sync_locked(struct sync *s, struct uidlist *ul)
{
	if (lfile_read(s->dir, &s->lf, true) < 0)
		return -1;
	table_build(s);
	while (s->t.missing > 0 && s->nscans < MAX_SCANS) {
		if (scan_dir(s) < 0)
			return -1;
		table_build(s);
	}
	bool create = !s->lf.valid; /* then there are no records either */
	uint32_t old_uv = s->lf.uidvalidity;
	if (create)
		s->lf.next_uid = 1;
	size_t nnew = 0;
	struct item **news = xmalloc((s->t.unlisted + 1) * sizeof *news);
	for (size_t i = 0; i < s->t.n; i++)
		if (s->t.it[i].rec < 0)
			news[nnew++] = &s->t.it[i];
	struct news_key *keys = xmalloc((nnew + 1) * sizeof *keys);
	for (size_t i = 0; i < nnew; i++)
		keys[i] = (struct news_key){ lead_number(news[i]->base, news[i]->baselen), news[i] };
	qsort(keys, nnew, sizeof *keys, news_cmp);
	for (size_t i = 0; i < nnew; i++)
		news[i] = keys[i].it;
	free(keys);
	bool renumber = s->lf.next_uid + nnew > UINT32_MAX;
	if (renumber)
		md_err("%s: uids exhausted; renumbering under a new uidvalidity", s->dir);
	if (s->t.missing)
		log_info("%s: dropping %zu uids of vanished messages", s->dir, s->t.missing);
	result_build(s, ul, news, nnew, renumber);
	free(news);
	ul->uidvalidity = create || renumber ? uidvalidity_new(s->dir, old_uv) : s->lf.uidvalidity;
	if (create || renumber || nnew || s->t.missing || s->lf.repaired)
		return list_write(s->dir, ul);
	return 0;
}

int uidlist_sync(const char *dir, struct uidlist *ul)
{
	uidlist_free(ul);
	struct sync s = { .dir = dir };
	int ret = -1, lock = -1;
	if (lfile_read(dir, &s.lf, false) < 0 || scan_dir(&s) < 0)
		goto out;
	table_build(&s);
	if (s.lf.valid && !s.lf.repaired && s.t.missing == 0 && s.t.unlisted == 0) {
		result_build(&s, ul, NULL, 0, false);
		ul->uidvalidity = s.lf.uidvalidity;
		ret = 0;
		goto out;
	}
	lock = maildir_lock(dir, LIST_LOCK, true);
	if (lock >= 0)
		ret = sync_locked(&s, ul);
out:
	if (lock >= 0)
		close(lock);
	if (ret < 0)
		uidlist_free(ul);
	sync_free(&s);
	return ret;
}

struct uidlist_rec *uidlist_find(const struct uidlist *ul, uint32_t uid)
{
	size_t lo = 0, hi = ul->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ul->recs[mid].uid == uid)
			return &ul->recs[mid];
		if (ul->recs[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

struct uidlist_rec *uidlist_find_base(const struct uidlist *ul, const char *name)
{
	size_t bl = maildir_base_len(name);
	for (size_t i = ul->n; i-- > 0;)
		if (ul->recs[i].baselen == bl && memcmp(ul->recs[i].name, name, bl) == 0)
			return &ul->recs[i];
	return NULL;
}

void uidlist_free(struct uidlist *ul)
{
	for (size_t i = 0; i < ul->n; i++)
		free(ul->recs[i].name);
	free(ul->recs);
	memset(ul, 0, sizeof *ul);
}
