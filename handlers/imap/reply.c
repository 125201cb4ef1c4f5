/* Responses: tagged results, untagged lines, and the small formatting
 * pieces (flags, capabilities, mailbox names) several commands share. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap-quote.h"
#include "imapd.h"
#include "peer.h"
#include "tls.h"

void cmd_reply(struct imap_cmd *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->result, sizeof c->result, fmt, ap);
	va_end(ap);
}

void imap_untagged(struct imap_session *s, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	char *line = NULL;
	int n = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (n >= 0 && line) {
		sb_adds(&sb, "* ");
		sb_add(&sb, line, (size_t)n);
		sb_adds(&sb, "\r\n");
		io_write(&s->io, sb.s, sb.len);
	}
	free(line);
	sb_free(&sb);
}

void imap_write_astring(struct strbuf *out, const char *s)
{
	imap_quote_writes(out, s);
}

static const struct {
	unsigned bit;
	const char *name;
} sysflags[] = {
	{ MAILDIR_F_REPLIED, "\\Answered" },
	{ MAILDIR_F_FLAGGED, "\\Flagged" },
	{ MAILDIR_F_TRASHED, "\\Deleted" },
	{ MAILDIR_F_SEEN, "\\Seen" },
	{ MAILDIR_F_DRAFT, "\\Draft" },
};

void imap_write_flags(struct strbuf *out, const struct mailbox_view *v, const struct view_msg *m)
{
	bool first = true;
	sb_addc(out, '(');
	for (size_t i = 0; i < sizeof sysflags / sizeof sysflags[0]; i++) {
		if (!(m->flags & sysflags[i].bit))
			continue;
		if (!first)
			sb_addc(out, ' ');
		sb_adds(out, sysflags[i].name);
		first = false;
	}
	for (int i = 0; i < IMAP_KEYWORDS_MAX; i++) {
		if (!(m->keywords & (1u << i)) || !v->kw.names[i])
			continue;
		if (!first)
			sb_addc(out, ' ');
		sb_adds(out, v->kw.names[i]);
		first = false;
	}
	if (m->recent) {
		if (!first)
			sb_addc(out, ' ');
		sb_adds(out, "\\Recent");
	}
	sb_addc(out, ')');
}

void imap_write_flag_names(struct strbuf *out, const struct mailbox_view *v)
{
	sb_adds(out, "\\Answered \\Flagged \\Deleted \\Seen \\Draft");
	for (int i = 0; i < IMAP_KEYWORDS_MAX; i++)
		if (v->kw.names[i])
			sb_printf(out, " %s", v->kw.names[i]);
}

bool imap_plaintext_ok(const struct imap_session *s)
{
	return s->tls || s->cfg.allow_plaintext_auth || peer_is_loopback(s->peer);
}

void imap_capabilities(const struct imap_session *s, struct strbuf *out)
{
	sb_adds(out, "IMAP4rev1 LITERAL+ SASL-IR ID");
	if (s->state == IMAP_ST_NOAUTH) {
		if (!s->tls && tls_configured(&s->cfg))
			sb_adds(out, " STARTTLS");
		if (imap_plaintext_ok(s))
			sb_adds(out, " AUTH=PLAIN");
		else
			sb_adds(out, " LOGINDISABLED");
	} else {
		sb_adds(out, " UIDPLUS MOVE UNSELECT NAMESPACE IDLE SPECIAL-USE ENABLE CHILDREN"
			     " LIST-EXTENDED LIST-STATUS ESEARCH CONDSTORE QRESYNC STATUS=SIZE");
		sb_printf(out, " APPENDLIMIT=%zu", s->cfg.max_message_size);
	}
}
