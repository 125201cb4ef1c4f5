/* STATUS: counts of a mailbox from its uid list, without selecting it (and
 * without taking \Recent away from anyone); also HIGHESTMODSEQ (CONDSTORE)
 * and SIZE (RFC 8438, the sum of the messages' octets). */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "imapd.h"
#include "uidlist.h"

bool imap_status_items_valid(const struct imap_arg *items, size_t nitems)
{
	static const char *known[] = { "MESSAGES", "RECENT",	   "UIDNEXT", "UIDVALIDITY",
				       "UNSEEN",   "HIGHESTMODSEQ", "SIZE" };
	if (nitems == 0)
		return false;
	for (size_t i = 0; i < nitems; i++) {
		bool ok = false;
		for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
			ok |= imap_arg_atom_eq(&items[i], known[k]);
		if (!ok)
			return false;
	}
	return true;
}

void cmd_status(struct imap_session *s, struct imap_cmd *c)
{
	char canon[MAILDIR_PATH_MAX], dir[MAILDIR_PATH_MAX];
	if (c->nargs != 2 || !imap_arg_is_astring(&c->args[0]) || c->args[1].type != IMAP_ARG_LIST ||
	    c->args[1].list_n == 0) {
		cmd_reply(c, "BAD STATUS needs a mailbox and a list of items");
		return;
	}
	if (!imap_status_items_valid(c->args[1].list, c->args[1].list_n)) {
		cmd_reply(c, "BAD Unknown STATUS item");
		return;
	}
	if (imap_mailbox_dir(s, c, c->args[0].str, canon, dir) < 0)
		return;
	if (!imap_mailbox_exists(dir)) {
		cmd_reply(c, "NO [NONEXISTENT] Mailbox doesn't exist");
		return;
	}
	if (imap_status_send(s, canon, dir, c->args[1].list, c->args[1].list_n) < 0)
		cmd_reply(c, "NO [SERVERBUG] Cannot read mailbox");
}

int imap_status_send(struct imap_session *s, const char *canon, const char *dir,
		     const struct imap_arg *items, size_t nitems)
{
	struct uidlist ul;
	struct modseq_state ms;
	memset(&ul, 0, sizeof ul);
	memset(&ms, 0, sizeof ms);
	bool want_modseq = false;
	for (size_t i = 0; i < nitems; i++)
		want_modseq |= imap_arg_atom_eq(&items[i], "HIGHESTMODSEQ");
	if (want_modseq) {
		imap_enable_condstore(s);
		if (modseq_sync(dir, &ul, &ms) < 0)
			return -1;
	} else if (uidlist_sync(dir, &ul) < 0) {
		return -1;
	}
	uint32_t seen = recent_claim(dir, 0, false);
	size_t recent = 0, unseen = 0;
	uint64_t size = 0;
	for (size_t i = 0; i < ul.n; i++) {
		recent += ul.recs[i].uid > seen;
		unseen += !(ul.recs[i].flags & MAILDIR_F_SEEN);
		if (ul.recs[i].size > 0)
			size += (uint64_t)ul.recs[i].size;
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
		else if (strcasecmp(it, "HIGHESTMODSEQ") == 0)
			sb_printf(&sb, "HIGHESTMODSEQ %llu", (unsigned long long)ms.highest);
		else if (strcasecmp(it, "SIZE") == 0)
			sb_printf(&sb, "SIZE %llu", (unsigned long long)size);
		else
			sb_printf(&sb, "UNSEEN %zu", unseen);
	}
	sb_adds(&sb, ")\r\n");
	io_write(&s->io, sb.s, sb.len);
	sb_free(&sb);
	uidlist_free(&ul);
	modseq_free(&ms);
	return 0;
}
