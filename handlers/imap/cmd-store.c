/* STORE and UID STORE: FLAGS / +FLAGS / -FLAGS [.SILENT]. Flags live in the
 * file names, so a change is a rename (maildir_set_flags follows renames by
 * other processes); each changed message is reported unless .SILENT. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imapd.h"

void cmd_store(struct imap_session *s, struct imap_cmd *c)
{
	struct mailbox_view *v = s->view;
	if (c->nargs < 3 || c->args[0].type != IMAP_ARG_ATOM || c->args[1].type != IMAP_ARG_ATOM) {
		cmd_reply(c, "BAD %s needs a sequence set, an item and flags", c->name);
		return;
	}
	const char *item = c->args[1].str;
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
	if (view_select_set(s, c, c->args[0].str, c->uid, &sel) < 0)
		return;
	if (v->readonly) {
		free(sel);
		cmd_reply(c, "NO [READ-ONLY] Mailbox is read-only");
		return;
	}
	if (imap_flags_parse(c, c->args + 2, c->nargs - 2, v->dir, &v->kw, mode >= 0, &flags, &kw) < 0) {
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
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < v->n; i++) {
		struct view_msg *m = &v->m[i];
		if (!sel[i])
			continue;
		if (m->expunged) {
			gone = true;
			continue;
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
		if (silent)
			continue;
		sb_reset(&sb);
		sb_printf(&sb, "* %zu FETCH (", i + 1);
		if (c->uid)
			sb_printf(&sb, "UID %u ", (unsigned)m->uid);
		sb_adds(&sb, "FLAGS ");
		imap_write_flags(&sb, v, m);
		sb_adds(&sb, ")\r\n");
		io_write(&s->io, sb.s, sb.len);
	}
	sb_free(&sb);
	free(sel);
	if (failed)
		cmd_reply(c, "NO [SERVERBUG] Some flags could not be stored");
	else if (gone)
		cmd_reply(c, "NO [EXPUNGEISSUED] Some of the messages no longer exist");
}
