/* CAPABILITY, NOOP (and CHECK), LOGOUT, NAMESPACE, ID: commands whose
 * work is a line or two. NOOP/CHECK's real job, reporting
 * mailbox changes, happens at every command's end. */
#include "imapd.h"

static bool no_args(struct imap_cmd *c)
{
	if (c->nargs == 0)
		return true;
	cmd_reply(c, "BAD %s takes no arguments", c->name);
	return false;
}

void cmd_capability(struct imap_session *s, struct imap_cmd *c)
{
	if (!no_args(c))
		return;
	struct strbuf sb = STRBUF_INIT;
	imap_capabilities(s, &sb);
	imap_untagged(s, "CAPABILITY %s", sb.s);
	sb_free(&sb);
}

void cmd_noop(struct imap_session *s, struct imap_cmd *c)
{
	(void)s;
	no_args(c);
}

void cmd_logout(struct imap_session *s, struct imap_cmd *c)
{
	if (!no_args(c))
		return;
	imap_untagged(s, "BYE Logging out");
	s->logout = true;
}

void cmd_namespace(struct imap_session *s, struct imap_cmd *c)
{
	if (!no_args(c))
		return;
	imap_untagged(s, "NAMESPACE ((\"\" \"/\")) NIL NIL");
}

/* ID (RFC 2971): the client's list is read and ignored (bounded by the
 * parser); we name ourselves. */
void cmd_id(struct imap_session *s, struct imap_cmd *c)
{
	if (c->nargs != 1 || (c->args[0].type != IMAP_ARG_LIST && c->args[0].type != IMAP_ARG_NIL)) {
		cmd_reply(c, "BAD ID needs a parameter list or NIL");
		return;
	}
	imap_untagged(s, "ID (\"name\" \"Postern\")");
}
