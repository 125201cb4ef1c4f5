/* The selected mailbox as the client knows it.
 *
 * Sequence numbers belong to the session, so the view only changes at
 * command boundaries: view_sync() re-reads the uid list (which follows
 * deliveries, flag renames and deletions by any process) and diffs it
 * against the view — both are sorted by UID, so one merge pass finds
 * vanished messages (EXPUNGE, reported from the highest number down so
 * every number is right when it is sent), new ones (EXISTS, RECENT) and
 * flags changed elsewhere (FETCH FLAGS). When EXPUNGE may not be sent
 * (after FETCH, STORE, SEARCH: RFC 3501 §7.4.1), vanished messages stay in
 * the view, marked, until a later command may report them. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "imapd.h"
#include "log.h"
#include "mailcache.h"
#include "uidlist.h"

/* A sync reads new/ and cur/ (uid list) and the list and modseq files;
 * when none of the four changed since the last sync, another one would
 * find what the view already holds, so view_sync skips it (a FETCH or
 * SEARCH on a large mailbox no longer ends with a re-read of every
 * name). Changed means any of inode, size, mtime or ctime differs.
 * That is only trusted when, at the time the stamp was taken (before
 * the read), every time stamp was older than the clock: a change after
 * the stamp then gets a later time stamp, even on a file system that
 * keeps seconds only (nanoseconds 0: two seconds older required).
 * AT_STATX_FORCE_SYNC asks NFS for fresh attributes. */
static const char *const stamp_names[4] = { "new", "cur", "postern-uidlist", "postern-modseq" };

static bool ts_older(const struct statx_timestamp *t, const struct timespec *now)
{
	if (t->tv_nsec == 0)
		return t->tv_sec + 2 <= now->tv_sec;
	return t->tv_sec < now->tv_sec || (t->tv_sec == now->tv_sec && t->tv_nsec < now->tv_nsec);
}

static void stamp_take(const char *dir, struct view_stamp *st)
{
	struct timespec now;
	memset(st, 0, sizeof *st);
	if (clock_gettime(CLOCK_REALTIME_COARSE, &now) < 0)
		return;
	st->valid = true;
	for (int i = 0; i < 4; i++) {
		char path[MAILDIR_PATH_MAX];
		struct statx sx;
		if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, stamp_names[i]) >= sizeof path) {
			st->valid = false;
			return;
		}
		if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW | AT_STATX_FORCE_SYNC,
			  STATX_TYPE | STATX_INO | STATX_SIZE | STATX_MTIME | STATX_CTIME, &sx) < 0) {
			if (errno == ENOENT && i >= 2)
				continue; /* no such file (yet) is a state too */
			st->valid = false;
			return;
		}
		unsigned need = STATX_TYPE | STATX_INO | STATX_SIZE | STATX_MTIME | STATX_CTIME;
		if ((sx.stx_mask & need) != need || !ts_older(&sx.stx_mtime, &now) ||
		    !ts_older(&sx.stx_ctime, &now)) {
			st->valid = false;
			return;
		}
		st->f[i].present = true;
		st->f[i].ino = sx.stx_ino;
		st->f[i].size = sx.stx_size;
		st->f[i].dev = (uint64_t)sx.stx_dev_major << 32 | sx.stx_dev_minor;
		st->f[i].mtime_s = sx.stx_mtime.tv_sec;
		st->f[i].mtime_ns = sx.stx_mtime.tv_nsec;
		st->f[i].ctime_s = sx.stx_ctime.tv_sec;
		st->f[i].ctime_ns = sx.stx_ctime.tv_nsec;
	}
}

static bool stamp_same(const struct view_stamp *a, const struct view_stamp *b)
{
	if (!a->valid || !b->valid)
		return false;
	for (int i = 0; i < 4; i++) {
		if (a->f[i].present != b->f[i].present || a->f[i].ino != b->f[i].ino ||
		    a->f[i].size != b->f[i].size || a->f[i].dev != b->f[i].dev ||
		    a->f[i].mtime_s != b->f[i].mtime_s || a->f[i].mtime_ns != b->f[i].mtime_ns ||
		    a->f[i].ctime_s != b->f[i].ctime_s || a->f[i].ctime_ns != b->f[i].ctime_ns)
			return false;
	}
	return true;
}

/* The record's name moves into the view (the list is freed next). */
static void msg_from_rec(struct view_msg *m, struct uidlist_rec *r, uint64_t modseq)
{
	memset(m, 0, sizeof *m);
	m->uid = r->uid;
	m->name = r->name;
	r->name = NULL;
	m->in_new = r->in_new;
	m->flags = r->flags;
	m->keywords = r->keywords;
	m->size = r->size;
	m->modseq = modseq;
}

static void view_append(struct mailbox_view *v, struct uidlist_rec *r, uint64_t modseq)
{
	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 64;
		v->m = xrealloc(v->m, v->cap * sizeof *v->m);
	}
	msg_from_rec(&v->m[v->n++], r, modseq);
}

static uint32_t known_keywords(const struct mailbox_view *v)
{
	uint32_t bits = 0;
	for (int i = 0; i < IMAP_KEYWORDS_MAX; i++)
		if (v->kw.names[i])
			bits |= 1u << i;
	return bits;
}

int view_open(struct imap_session *s, const char *name, const char *dir, bool readonly,
	      struct mailbox_view **v_r)
{
	(void)s;
	struct uidlist ul;
	struct modseq_state ms;
	memset(&ul, 0, sizeof ul);
	memset(&ms, 0, sizeof ms);
	struct view_stamp stamp;
	stamp_take(dir, &stamp);
	if (modseq_sync(dir, &ul, &ms) < 0)
		return -1;
	struct mailbox_view *v = xcalloc(1, sizeof *v);
	v->stamp = stamp;
	v->highestmodseq = ms.highest;
	snprintf(v->name, sizeof v->name, "%s", name);
	snprintf(v->dir, sizeof v->dir, "%s", dir);
	v->readonly = readonly;
	v->uidvalidity = ul.uidvalidity;
	v->uidnext = ul.next_uid;
	imap_keywords_load(dir, &v->kw);
	v->kw_known = known_keywords(v);
	for (size_t i = 0; i < ul.n; i++)
		view_append(v, &ul.recs[i], ms.recs[i].modseq);
	modseq_free(&ms);
	uint32_t seen = recent_claim(dir, v->n ? v->m[v->n - 1].uid : 0, !readonly);
	for (size_t i = 0; i < v->n; i++)
		v->m[i].recent = v->m[i].uid > seen;
	uidlist_free(&ul);
	*v_r = v;
	return 0;
}

void view_free(struct mailbox_view *v)
{
	for (size_t i = 0; i < v->n; i++)
		free(v->m[i].name);
	free(v->m);
	imap_keywords_free(&v->kw);
	mailcache_close(v->cache);
	free(v);
}

struct mailcache *view_cache(struct mailbox_view *v)
{
	if (v->cache)
		return v->cache;
	v->cache = mailcache_open(v->dir, v->uidvalidity);
	uint32_t *uids = xcalloc(v->n + 1, sizeof *uids);
	size_t n = 0;
	for (size_t i = 0; i < v->n; i++)
		if (!v->m[i].expunged && v->m[i].uid < v->uidnext)
			uids[n++] = v->m[i].uid;
	(void)mailcache_retain(v->cache, uids, n, v->uidnext);
	free(uids);
	return v->cache;
}

void view_cache_flush(struct mailbox_view *v)
{
	if (v->cache)
		(void)mailcache_flush(v->cache);
}

void view_remove(struct mailbox_view *v, size_t i)
{
	if (v->cache)
		mailcache_expunged(v->cache, v->m[i].uid);
	free(v->m[i].name);
	memmove(&v->m[i], &v->m[i + 1], (v->n - i - 1) * sizeof *v->m);
	v->n--;
}

size_t view_count_recent(const struct mailbox_view *v)
{
	size_t r = 0;
	for (size_t i = 0; i < v->n; i++)
		r += v->m[i].recent;
	return r;
}

static void send_flag_lists(struct imap_session *s, struct mailbox_view *v)
{
	struct strbuf sb = STRBUF_INIT;
	imap_write_flag_names(&sb, v);
	imap_untagged(s, "FLAGS (%s)", sb.s);
	if (v->readonly)
		imap_untagged(s, "OK [PERMANENTFLAGS ()] Read-only mailbox.");
	else
		imap_untagged(s, "OK [PERMANENTFLAGS (%s%s)] Flags permitted.", sb.s,
			      known_keywords(v) == 0x3ffffff ? "" : " \\*");
	sb_free(&sb);
}

void view_sync(struct imap_session *s, bool allow_expunge)
{
	struct mailbox_view *v = s->view;
	struct uidlist ul;
	struct modseq_state ms;
	memset(&ul, 0, sizeof ul);
	memset(&ms, 0, sizeof ms);
	if (!imap_mailbox_exists(v->dir)) {
		imap_untagged(s, "BYE The selected mailbox was deleted or renamed");
		s->logout = true;
		return;
	}
	struct view_stamp stamp;
	stamp_take(v->dir, &stamp);
	if (stamp_same(&stamp, &v->stamp)) {
		/* nothing changed on disk since the last sync: it would find
		 * the view as it is, unless EXPUNGEs are waiting to be sent */
		bool pending = false;
		for (size_t i = 0; i < v->n && !pending; i++)
			pending = v->m[i].expunged;
		if (!pending || !allow_expunge)
			return;
	}
	if (modseq_sync(v->dir, &ul, &ms) < 0)
		return;
	v->stamp = stamp;
	if (ul.uidvalidity != v->uidvalidity) {
		imap_untagged(s, "BYE Mailbox UIDVALIDITY changed; please reconnect");
		s->logout = true;
		uidlist_free(&ul);
		modseq_free(&ms);
		return;
	}
	size_t j = 0, old_n = v->n;
	uint32_t kw_seen = 0;
	for (size_t i = 0; i < v->n; i++) {
		struct view_msg *m = &v->m[i];
		while (j < ul.n && ul.recs[j].uid < m->uid)
			j++;
		if (j < ul.n && ul.recs[j].uid == m->uid) {
			const struct uidlist_rec *r = &ul.recs[j++];
			if (strcmp(m->name, r->name) != 0) {
				free(m->name);
				m->name = xstrdup(r->name);
			}
			m->in_new = r->in_new;
			if (!m->expunged && (m->flags != r->flags || m->keywords != r->keywords)) {
				m->flags = r->flags;
				m->keywords = r->keywords;
				m->flags_dirty = true;
			}
			if (!m->expunged && m->modseq != ms.recs[j - 1].modseq) {
				/* our own STORE already reported its flags */
				m->modseq = ms.recs[j - 1].modseq;
				if (s->condstore && m->modseq > v->highestmodseq)
					m->flags_dirty = true;
			}
			kw_seen |= m->keywords;
		} else {
			m->expunged = true;
		}
	}
	uint32_t last = v->n ? v->m[v->n - 1].uid : 0;
	for (; j < ul.n; j++) {
		if (ul.recs[j].uid <= last)
			continue;
		view_append(v, &ul.recs[j], ms.recs[j].modseq);
		kw_seen |= ul.recs[j].keywords;
	}
	v->uidnext = ul.next_uid;
	uint64_t highest = ms.highest;
	uidlist_free(&ul);
	modseq_free(&ms);

	if (v->n > old_n) {
		uint32_t seen = recent_claim(v->dir, v->m[v->n - 1].uid, !v->readonly);
		for (size_t i = old_n; i < v->n; i++)
			v->m[i].recent = v->m[i].uid > seen;
	}
	if (kw_seen & ~v->kw_known) {
		/* A letter without a name in the keyword file (set by some other
		 * tool) is remembered too, so it does not cause a reload at every
		 * command; FLAGS goes out only when a name was added. */
		uint32_t before = known_keywords(v);
		imap_keywords_load(v->dir, &v->kw);
		if (known_keywords(v) != before)
			send_flag_lists(s, v);
		v->kw_known = known_keywords(v) | kw_seen;
	}
	if (allow_expunge && s->qresync) {
		/* one VANISHED for all, ascending UIDs */
		struct strbuf sb = STRBUF_INIT;
		for (size_t i = 0; i < v->n; i++) {
			if (!v->m[i].expunged)
				continue;
			sb_printf(&sb, "%s%u", sb.len ? "," : "", (unsigned)v->m[i].uid);
			view_remove(v, i);
			if (i < old_n)
				old_n--;
			i--;
		}
		if (sb.len)
			imap_untagged(s, "VANISHED %s", sb.s);
		sb_free(&sb);
	} else if (allow_expunge) {
		for (size_t i = v->n; i-- > 0;) {
			if (!v->m[i].expunged)
				continue;
			imap_untagged(s, "%zu EXPUNGE", i + 1);
			view_remove(v, i);
			if (i < old_n)
				old_n--;
		}
	}
	if (v->n > old_n) {
		imap_untagged(s, "%zu EXISTS", v->n);
		imap_untagged(s, "%zu RECENT", view_count_recent(v));
	}
	for (size_t i = 0; i < v->n; i++) {
		struct view_msg *m = &v->m[i];
		if (!m->flags_dirty)
			continue;
		m->flags_dirty = false;
		struct strbuf sb = STRBUF_INIT;
		imap_write_flags(&sb, v, m);
		if (s->condstore)
			imap_untagged(s, "%zu FETCH (UID %u FLAGS %s MODSEQ (%llu))", i + 1,
				      (unsigned)m->uid, sb.s, (unsigned long long)m->modseq);
		else
			imap_untagged(s, "%zu FETCH (UID %u FLAGS %s)", i + 1, (unsigned)m->uid, sb.s);
		sb_free(&sb);
	}
	if (highest > v->highestmodseq)
		v->highestmodseq = highest;
}

void view_expunged(struct imap_session *s, size_t i)
{
	struct mailbox_view *v = s->view;
	if (s->qresync)
		imap_untagged(s, "VANISHED %u", (unsigned)v->m[i].uid);
	else
		imap_untagged(s, "%zu EXPUNGE", i + 1);
	view_remove(v, i);
}

int view_select_set(struct imap_session *s, struct imap_cmd *c, const char *set, bool uid,
		    bool **sel_r)
{
	struct mailbox_view *v = s->view;
	struct imap_seqset ss;
	if (!uid && v->n == 0 && strchr(set, '*') && imap_seqset_valid(set)) {
		/* "1:*" in an empty mailbox: nothing, not an error (mutt asks) */
		*sel_r = xcalloc(1, sizeof **sel_r);
		return 0;
	}
	uint32_t star = uid ? (v->n ? v->m[v->n - 1].uid : 0) : (uint32_t)v->n;
	if (imap_seqset_parse(set, star, &ss) < 0) {
		cmd_reply(c, "BAD Invalid sequence set");
		return -1;
	}
	if (!uid && (v->n == 0 || imap_seqset_max(&ss) > v->n || imap_seqset_max(&ss) == 0)) {
		imap_seqset_free(&ss);
		cmd_reply(c, "BAD Invalid message sequence number");
		return -1;
	}
	bool *sel = xcalloc(v->n + 1, sizeof *sel);
	for (size_t i = 0; i < v->n; i++)
		sel[i] = imap_seqset_contains(&ss, uid ? v->m[i].uid : (uint32_t)(i + 1));
	imap_seqset_free(&ss);
	*sel_r = sel;
	return 0;
}

int view_set_flags(struct mailbox_view *v, size_t i, unsigned flags, uint32_t keywords)
{
	struct view_msg *m = &v->m[i];
	if (m->flags == flags && m->keywords == keywords)
		return 1;
	char newname[MAILDIR_NAME_MAX];
	int r = maildir_set_flags(v->dir, m->name, m->in_new, flags, keywords, newname, sizeof newname);
	if (r <= 0)
		return r;
	free(m->name);
	m->name = xstrdup(newname);
	m->in_new = false;
	m->flags = flags;
	m->keywords = keywords;
	return 1;
}

void view_refresh_modseq(struct mailbox_view *v)
{
	struct uidlist ul;
	struct modseq_state ms;
	memset(&ul, 0, sizeof ul);
	memset(&ms, 0, sizeof ms);
	if (modseq_sync(v->dir, &ul, &ms) < 0)
		return;
	for (size_t i = 0; i < v->n; i++) {
		const struct modseq_rec *r = modseq_find(&ms, v->m[i].uid);
		/* only where the view agrees with the disk: a change made by
		 * somebody else is left for view_sync to report */
		if (r && r->flags == v->m[i].flags && r->keywords == v->m[i].keywords)
			v->m[i].modseq = r->modseq;
	}
	uidlist_free(&ul);
	modseq_free(&ms);
}
