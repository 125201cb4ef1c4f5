/* SELECT, EXAMINE, CLOSE, UNSELECT: entering and leaving the selected
 * state. A failed SELECT leaves no mailbox selected (RFC 3501 §6.3.1). */
#include <string.h>

#include "imapd.h"

static void unselect(struct imap_session *s)
{
	if (s->view)
		view_free(s->view);
	s->view = NULL;
	s->state = IMAP_ST_AUTH;
}

void cmd_select(struct imap_session *s, struct imap_cmd *c)
{
	bool readonly = strcmp(c->name, "EXAMINE") == 0;
	char canon[MAILDIR_PATH_MAX], dir[MAILDIR_PATH_MAX];
	if (c->nargs != 1 || !imap_arg_is_astring(&c->args[0])) {
		cmd_reply(c, "BAD %s needs a mailbox name", c->name);
		return;
	}
	unselect(s);
	if (imap_mailbox_dir(s, c, c->args[0].str, canon, dir) < 0)
		return;
	if (!imap_mailbox_exists(dir)) {
		cmd_reply(c, "NO [NONEXISTENT] Mailbox doesn't exist: %.200s", canon);
		return;
	}
	struct mailbox_view *v;
	if (view_open(s, canon, dir, readonly, &v) < 0) {
		cmd_reply(c, "NO [SERVERBUG] Cannot open mailbox");
		return;
	}
	s->view = v;
	s->state = IMAP_ST_SELECTED;

	struct strbuf sb = STRBUF_INIT;
	imap_write_flag_names(&sb, v);
	imap_untagged(s, "FLAGS (%s)", sb.s);
	if (readonly)
		imap_untagged(s, "OK [PERMANENTFLAGS ()] Read-only mailbox.");
	else
		imap_untagged(s, "OK [PERMANENTFLAGS (%s \\*)] Flags permitted.", sb.s);
	sb_free(&sb);
	imap_untagged(s, "%zu EXISTS", v->n);
	imap_untagged(s, "%zu RECENT", view_count_recent(v));
	for (size_t i = 0; i < v->n; i++) {
		if (!(v->m[i].flags & MAILDIR_F_SEEN)) {
			imap_untagged(s, "OK [UNSEEN %zu] First unseen.", i + 1);
			break;
		}
	}
	imap_untagged(s, "OK [UIDVALIDITY %u] UIDs valid", (unsigned)v->uidvalidity);
	imap_untagged(s, "OK [UIDNEXT %u] Predicted next UID", (unsigned)v->uidnext);
	cmd_reply(c, "OK [%s] %s completed.", readonly ? "READ-ONLY" : "READ-WRITE", c->name);
}

void cmd_close(struct imap_session *s, struct imap_cmd *c)
{
	if (c->nargs) {
		cmd_reply(c, "BAD CLOSE takes no arguments");
		return;
	}
	if (!s->view->readonly)
		imap_expunge_deleted(s, NULL, false);
	unselect(s);
}

void cmd_unselect(struct imap_session *s, struct imap_cmd *c)
{
	if (c->nargs) {
		cmd_reply(c, "BAD UNSELECT takes no arguments");
		return;
	}
	unselect(s);
}
