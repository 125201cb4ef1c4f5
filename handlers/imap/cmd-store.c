/* STORE and UID STORE: FLAGS / +FLAGS / -FLAGS [.SILENT]. Flags live in the
 * file names, so a change is a rename (maildir_set_flags follows renames by
 * other processes); each changed message is reported unless .SILENT.
 * CONDSTORE (RFC 7162): the reports carry MODSEQ, and (UNCHANGEDSINCE n)
 * skips messages changed since n, naming them in [MODIFIED set]. */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imapd.h"

static void store(struct imap_session *s, struct imap_cmd *c, const struct imap_arg *args,
		  size_t nargs, bool has_unchanged, uint64_t unchangedsince);

void cmd_store(struct imap_session *s, struct imap_cmd *c)
{
	const struct imap_arg *args = c->args;
	size_t nargs = c->nargs;
	uint64_t unchangedsince = 0;
	bool has_unchanged = false;
	if (nargs >= 2 && args[1].type == IMAP_ARG_LIST) {
		/* (UNCHANGEDSINCE n), RFC 7162 §3.1.3 */
		const struct imap_arg *l = &args[1];
		char *end;
		if (l->list_n != 2 || !imap_arg_atom_eq(&l->list[0], "UNCHANGEDSINCE") ||
		    l->list[1].type != IMAP_ARG_ATOM || !isdigit((unsigned char)l->list[1].str[0])) {
			cmd_reply(c, "BAD Invalid STORE modifier");
			return;
		}
		errno = 0;
		unsigned long long n = strtoull(l->list[1].str, &end, 10);
		if (*end || errno || n > INT64_MAX) {
			cmd_reply(c, "BAD Invalid UNCHANGEDSINCE value");
			return;
		}
		unchangedsince = n;
		has_unchanged = true;
	}
	struct imap_arg *tmpargs = NULL;
	if (has_unchanged) {
		tmpargs = xcalloc(nargs, sizeof *tmpargs);
		tmpargs[0] = c->args[0];
		for (size_t i = 2; i < nargs; i++)
			tmpargs[i - 1] = c->args[i];
		args = tmpargs;
		nargs--;
		imap_enable_condstore(s);
	}
	if (nargs < 3 || args[0].type != IMAP_ARG_ATOM || args[1].type != IMAP_ARG_ATOM) {
		free(tmpargs);
		cmd_reply(c, "BAD %s needs a sequence set, an item and flags", c->name);
		return;
	}
	store(s, c, args, nargs, has_unchanged, unchangedsince);
	free(tmpargs);
}

static void store(struct imap_session *s, struct imap_cmd *c, const struct imap_arg *args,
		  size_t nargs, bool has_unchanged, uint64_t unchangedsince)
{
	struct mailbox_view *v = s->view;
	const char *item = args[1].str;
	int mode = 0; /* 0 replace, 1 add, -1 remove */
	if (*item == '+' || *item == '-') {
		mode = *item == '+' ? 1 : -1;
		item++;
	}
	bool silent;
	if (strcasecmp(item, "FLAGS") == 0)
		silent = false;
	else if (strcasecmp(item, "FLAGS.SILENT") == 0)
		silent = true;
	else {
		cmd_reply(c, "BAD Invalid STORE item");
		return;
	}
	unsigned flags;
	uint32_t kw;
	uint32_t kw_before = 0;
	for (int i = 0; i < IMAP_KEYWORDS_MAX; i++)
		if (v->kw.names[i])
			kw_before |= 1u << i;
	bool *sel;
	if (view_select_set(s, c, args[0].str, c->uid, &sel) < 0)
		return;
	if (v->readonly) {
		free(sel);
		cmd_reply(c, "NO [READ-ONLY] Mailbox is read-only");
		return;
	}
	if (imap_flags_parse(c, args + 2, nargs - 2, v->dir, &v->kw, mode >= 0, &flags, &kw) < 0) {
		free(sel);
		return;
	}
	if (kw & ~kw_before) {
		/* new keywords: tell the client they exist now */
		struct strbuf sb = STRBUF_INIT;
		imap_write_flag_names(&sb, v);
		imap_untagged(s, "FLAGS (%s)", sb.s);
		imap_untagged(s, "OK [PERMANENTFLAGS (%s \\*)] Flags permitted.", sb.s);
		sb_free(&sb);
		for (int i = 0; i < IMAP_KEYWORDS_MAX; i++)
			if (v->kw.names[i])
				v->kw_known |= 1u << i;
	}
	bool gone = false, failed = false;
	struct strbuf sb = STRBUF_INIT, modified = STRBUF_INIT;
	/* With CONDSTORE the renames and the modseqs they get happen under
	 * the modseq lock, so UNCHANGEDSINCE compares with the current
	 * modseq and nobody slips a change in between. */
	int lock = -1;
	struct uidlist ul;
	struct modseq_state ms;
	memset(&ul, 0, sizeof ul);
	memset(&ms, 0, sizeof ms);
	bool locked = false;
	if (s->condstore) {
		lock = modseq_lock(v->dir);
		locked = lock >= 0 && modseq_sync_locked(v->dir, &ul, &ms) == 0;
	}
	bool *done = xcalloc(v->n + 1, sizeof *done);
	for (size_t i = 0; i < v->n; i++) {
		struct view_msg *m = &v->m[i];
		if (!sel[i])
			continue;
		if (m->expunged) {
			gone = true;
			continue;
		}
		if (has_unchanged) {
			const struct modseq_rec *mr = locked ? modseq_find(&ms, m->uid) : NULL;
			uint64_t cur = mr ? mr->modseq : m->modseq;
			if (cur > unchangedsince) {
				sb_printf(&modified, "%s%u", modified.len ? "," : "",
					  c->uid ? (unsigned)m->uid : (unsigned)(i + 1));
				continue;
			}
		}
		unsigned nf = mode == 0 ? flags : mode > 0 ? m->flags | flags : m->flags & ~flags;
		uint32_t nk = mode == 0 ? kw : mode > 0 ? m->keywords | kw : m->keywords & ~kw;
		/* keep flags we do not speak of (maildir 'P' = passed) */
		nf |= m->flags & MAILDIR_F_PASSED;
		int r = view_set_flags(v, i, nf, nk);
		if (r == 0) {
			gone = true;
			continue;
		}
		if (r < 0) {
			failed = true;
			continue;
		}
		m->flags_dirty = false;
		done[i] = true;
	}
	if (locked && modseq_sync_locked(v->dir, &ul, &ms) == 0) {
		for (size_t i = 0; i < v->n; i++) {
			const struct modseq_rec *mr = modseq_find(&ms, v->m[i].uid);
			if (mr && mr->flags == v->m[i].flags && mr->keywords == v->m[i].keywords)
				v->m[i].modseq = mr->modseq;
		}
	}
	uidlist_free(&ul);
	modseq_free(&ms);
	modseq_unlock(lock);
	for (size_t i = 0; i < v->n; i++) {
		struct view_msg *m = &v->m[i];
		/* .SILENT still reports the new MODSEQ (RFC 7162 §3.1.3) */
		if (!done[i] || (silent && !s->condstore))
			continue;
		sb_reset(&sb);
		sb_printf(&sb, "* %zu FETCH (", i + 1);
		if (c->uid)
			sb_printf(&sb, "UID %u ", (unsigned)m->uid);
		if (!silent) {
			sb_adds(&sb, "FLAGS ");
			imap_write_flags(&sb, v, m);
		}
		if (s->condstore)
			sb_printf(&sb, "%sMODSEQ (%llu)", silent ? "" : " ", (unsigned long long)m->modseq);
		sb_adds(&sb, ")\r\n");
		io_write(&s->io, sb.s, sb.len);
	}
	sb_free(&sb);
	free(sel);
	free(done);
	if (modified.len)
		cmd_reply(c, "OK [MODIFIED %s] Conditional STORE failed for some messages", modified.s);
	sb_free(&modified);
	if (failed)
		cmd_reply(c, "NO [SERVERBUG] Some flags could not be stored");
	else if (gone)
		cmd_reply(c, "NO [EXPUNGEISSUED] Some of the messages no longer exist");
}
