#include "smtp-trace.h"

#include <stdio.h>
#include <string.h>

#define FOLD_AT 78

const char *smtp_trace_protocol(bool esmtp, bool tls, bool auth, bool utf8)
{
	static const char *const names[2][2][2] = {
		/* [utf8][tls][auth] */
		{ { "ESMTP", "ESMTPA" }, { "ESMTPS", "ESMTPSA" } },
		{ { "UTF8SMTP", "UTF8SMTPA" }, { "UTF8SMTPS", "UTF8SMTPSA" } },
	};
	if (!esmtp)
		return "SMTP"; /* none of the extensions exist without EHLO */
	return names[utf8][tls][auth];
}

void smtp_trace_return_path(struct strbuf *sb, const char *sender)
{
	sb_printf(sb, "Return-Path: <%s>\r\n", sender);
}

void smtp_trace_date(time_t t, char *out, size_t outlen)
{
	struct tm tm;
	if (!localtime_r(&t, &tm) || strftime(out, outlen, "%a, %d %b %Y %H:%M:%S %z", &tm) == 0)
		snprintf(out, outlen, "Thu, 01 Jan 1970 00:00:00 +0000");
}

struct folder {
	struct strbuf *sb;
	size_t line; /* octets on the current line */
};

/* Add one clause: on a new folded line when asked or when it would not
 * fit, else after a space. */
static void clause(struct folder *f, bool new_line, const char *text)
{
	size_t n = strlen(text);
	if (new_line || f->line + 1 + n > FOLD_AT) {
		sb_adds(f->sb, "\r\n\t");
		f->line = 1;
	} else {
		sb_addc(f->sb, ' ');
		f->line++;
	}
	sb_adds(f->sb, text);
	f->line += n;
}

void smtp_trace_received(struct strbuf *sb, const struct smtp_trace *t)
{
	struct folder f = { sb, 0 };
	char buf[400], date[64];
	sb_adds(sb, "Received:");
	f.line = strlen("Received:");

	snprintf(buf, sizeof buf, "from %s", t->helo);
	clause(&f, false, buf);
	if (strcmp(t->peer, "local") == 0)
		snprintf(buf, sizeof buf, "(local)");
	else if (strchr(t->peer, ':'))
		snprintf(buf, sizeof buf, "([IPv6:%s])", t->peer);
	else
		snprintf(buf, sizeof buf, "([%s])", t->peer);
	clause(&f, false, buf);

	snprintf(buf, sizeof buf, "by %s", t->host);
	clause(&f, true, buf);
	clause(&f, false, "(Postern)");
	snprintf(buf, sizeof buf, "with %s", t->protocol);
	clause(&f, false, buf);
	snprintf(buf, sizeof buf, "id %s%s", t->id, t->for_rcpt ? "" : ";");
	clause(&f, false, buf);
	if (t->for_rcpt) {
		snprintf(buf, sizeof buf, "for <%s>;", t->for_rcpt);
		clause(&f, true, buf);
	}
	smtp_trace_date(t->when, date, sizeof date);
	clause(&f, false, date);
	sb_adds(sb, "\r\n");
}
