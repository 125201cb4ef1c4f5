/* EXPUNGE and UID EXPUNGE (UIDPLUS): remove \Deleted messages and report
 * each removal, highest sequence number first so that every number sent is
 * valid at the moment it is sent. CLOSE uses the same code silently. */
#include <stdlib.h>

#include "imapd.h"

int imap_expunge_deleted(struct imap_session *s, const bool *sel, bool report)
{
	struct mailbox_view *v = s->view;
	int rc = 0;
	for (size_t i = v->n; i-- > 0;) {
		struct view_msg *m = &v->m[i];
		if (!(m->flags & MAILDIR_F_TRASHED) || (sel && !sel[i]))
			continue;
		int r = maildir_remove(v->dir, m->name, m->in_new);
		if (r < 0) {
			rc = -1;
			continue;
		}
		/* r == 0: already gone (another session expunged it); either
		 * way it is gone now and the client hears so once. */
		if (report)
			view_expunged(s, i);
		else
			view_remove(v, i);
	}
	return rc;
}

void cmd_expunge(struct imap_session *s, struct imap_cmd *c)
{
	bool *sel = NULL;
	if (c->uid) {
		if (c->nargs != 1 || c->args[0].type != IMAP_ARG_ATOM) {
			cmd_reply(c, "BAD UID EXPUNGE needs a UID set");
			return;
		}
		if (view_select_set(s, c, c->args[0].str, true, &sel) < 0)
			return;
	} else if (c->nargs) {
		cmd_reply(c, "BAD EXPUNGE takes no arguments");
		return;
	}
	if (s->view->readonly) {
		free(sel);
		cmd_reply(c, "NO [READ-ONLY] Mailbox is read-only");
		return;
	}
	if (imap_expunge_deleted(s, sel, true) < 0)
		cmd_reply(c, "NO [SERVERBUG] Some messages could not be expunged");
	free(sel);
}
