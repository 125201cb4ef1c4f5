/* STATUS: counts of a mailbox from its uid list, without selecting it (and
 * without taking \Recent away from anyone). */
#include <string.h>
#include <strings.h>

#include "imapd.h"
#include "uidlist.h"

void cmd_status(struct imap_session *s, struct imap_cmd *c)
{
	char canon[MAILDIR_PATH_MAX], dir[MAILDIR_PATH_MAX];
	if (c->nargs != 2 || !imap_arg_is_astring(&c->args[0]) || c->args[1].type != IMAP_ARG_LIST ||
	    c->args[1].list_n == 0) {
		cmd_reply(c, "BAD STATUS needs a mailbox and a list of items");
		return;
	}
	const struct imap_arg *items = c->args[1].list;
	size_t nitems = c->args[1].list_n;
	static const char *known[] = { "MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY", "UNSEEN" };
	for (size_t i = 0; i < nitems; i++) {
		bool ok = false;
		for (size_t k = 0; k < 5; k++)
			ok |= imap_arg_atom_eq(&items[i], known[k]);
		if (!ok) {
			cmd_reply(c, "BAD Unknown STATUS item");
			return;
		}
	}
	if (imap_mailbox_dir(s, c, c->args[0].str, canon, dir) < 0)
		return;
	if (!imap_mailbox_exists(dir)) {
		cmd_reply(c, "NO [NONEXISTENT] Mailbox doesn't exist");
		return;
	}
	struct uidlist ul;
	memset(&ul, 0, sizeof ul);
	if (uidlist_sync(dir, &ul) < 0) {
		cmd_reply(c, "NO [SERVERBUG] Cannot read mailbox");
		return;
	}
	uint32_t seen = recent_claim(dir, 0, false);
	size_t recent = 0, unseen = 0;
	for (size_t i = 0; i < ul.n; i++) {
		recent += ul.recs[i].uid > seen;
		unseen += !(ul.recs[i].flags & MAILDIR_F_SEEN);
	}
	struct strbuf sb = STRBUF_INIT;
	sb_adds(&sb, "* STATUS ");
	imap_write_astring(&sb, canon);
	sb_adds(&sb, " (");
	for (size_t i = 0; i < nitems; i++) {
		const char *it = items[i].str;
		if (i)
			sb_addc(&sb, ' ');
		if (strcasecmp(it, "MESSAGES") == 0)
			sb_printf(&sb, "MESSAGES %zu", ul.n);
		else if (strcasecmp(it, "RECENT") == 0)
			sb_printf(&sb, "RECENT %zu", recent);
		else if (strcasecmp(it, "UIDNEXT") == 0)
			sb_printf(&sb, "UIDNEXT %u", (unsigned)ul.next_uid);
		else if (strcasecmp(it, "UIDVALIDITY") == 0)
			sb_printf(&sb, "UIDVALIDITY %u", (unsigned)ul.uidvalidity);
		else
			sb_printf(&sb, "UNSEEN %zu", unseen);
	}
	sb_adds(&sb, ")\r\n");
	io_write(&s->io, sb.s, sb.len);
	sb_free(&sb);
	uidlist_free(&ul);
}
