/* POP3 back end of mailbox.h (RFC 1939, STLS from RFC 2595): USER/PASS,
 * STAT, UIDL, TOP n 0 for the list, RETR, DELE + QUIT. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "codec.h"
#include "mailbox.h"
#include "client-tls.h"

#define POP3_LINE_MAX 8192

/* Read a status line: 1 for +OK, 0 for -ERR (text in mb->err), -1 on
 * failure (mb->err says why). */
static int status(struct mailbox *mb)
{
	char line[POP3_LINE_MAX];
	size_t len;
	int r = conn_getline(&mb->c, line, sizeof line, &len);
	if (r != CONN_OK) {
		snprintf(mb->err, sizeof mb->err, "%s", conn_strerror(r));
		return -1;
	}
	if (strncmp(line, "+OK", 3) == 0)
		return 1;
	struct strbuf t = STRBUF_INIT;
	sanitize_text(&t, line, len, false);
	if (strncmp(line, "-ERR", 4) == 0) {
		snprintf(mb->err, sizeof mb->err, "%s", t.s);
		sb_free(&t);
		return 0;
	}
	snprintf(mb->err, sizeof mb->err, "bad POP3 reply: %.80s", t.s);
	sb_free(&t);
	return -1;
}

static enum mail_status cmd(struct mailbox *mb, const char *fmt, const char *arg)
{
	conn_printf(&mb->c, fmt, arg);
	conn_puts(&mb->c, "\r\n");
	int r = status(mb);
	return r > 0 ? MAIL_OK : r == 0 ? MAIL_REFUSED : MAIL_FAILED;
}

/* A multi-line body up to ".", dot-unstuffed, lines CRLF, at most max
 * octets. */
static enum mail_status multiline(struct mailbox *mb, struct strbuf *out, size_t max)
{
	char line[POP3_LINE_MAX];
	for (;;) {
		size_t len;
		int r = conn_getline(&mb->c, line, sizeof line, &len);
		if (r != CONN_OK) {
			snprintf(mb->err, sizeof mb->err, "%s", conn_strerror(r));
			return MAIL_FAILED;
		}
		if (len == 1 && line[0] == '.')
			return MAIL_OK;
		const char *p = line;
		if (len > 0 && line[0] == '.') {
			p++;
			len--;
		}
		if (out->len + len + 2 > max) {
			snprintf(mb->err, sizeof mb->err, "the server sent too much");
			return MAIL_FAILED;
		}
		sb_add(out, p, len);
		sb_adds(out, "\r\n");
	}
}

static bool has_stls(struct mailbox *mb)
{
	if (cmd(mb, "%s", "CAPA") != MAIL_OK)
		return false;
	struct strbuf capa = STRBUF_INIT;
	bool found = false;
	if (multiline(mb, &capa, 65536) == MAIL_OK) {
		for (const char *p = capa.s; p && *p;) {
			size_t l = strcspn(p, "\r\n");
			if (l == 4 && strncasecmp(p, "STLS", 4) == 0)
				found = true;
			p += l;
			p += strspn(p, "\r\n");
		}
	}
	sb_free(&capa);
	return found;
}

enum mail_status pop3_open(struct mailbox *mb)
{
	const struct mail_opts *o = mb->o;
	if (client_connect(&mb->c, o, o->pop3_port, mb->err, sizeof mb->err) < 0)
		return MAIL_FAILED;
	int r = status(mb);
	if (r <= 0)
		return r == 0 ? MAIL_REFUSED : MAIL_FAILED;
	if (o->tls == TLS_STARTTLS) {
		if (!has_stls(mb)) {
			if (!mb->err[0] || strncmp(mb->err, "-ERR", 4) == 0)
				snprintf(mb->err, sizeof mb->err, "the server does not offer STLS");
			return MAIL_FAILED;
		}
		enum mail_status st = cmd(mb, "%s", "STLS");
		if (st != MAIL_OK)
			return st;
		if (client_tls_start(&mb->c, o, mb->err, sizeof mb->err) < 0)
			return MAIL_FAILED;
	}
	enum mail_status st = cmd(mb, "USER %s", o->user);
	if (st == MAIL_OK) {
		/* PASS goes through a scrubbed buffer, not conn_printf's copy */
		conn_puts(&mb->c, "PASS ");
		conn_puts(&mb->c, o->pass ? o->pass : "");
		conn_puts(&mb->c, "\r\n");
		r = status(mb);
		explicit_bzero(mb->c.wbuf.s, mb->c.wbuf.cap);
		st = r > 0 ? MAIL_OK : r == 0 ? MAIL_REFUSED : MAIL_FAILED;
	}
	if (st != MAIL_OK)
		return st;
	char line[POP3_LINE_MAX];
	size_t len;
	conn_puts(&mb->c, "STAT\r\n");
	int g = conn_getline(&mb->c, line, sizeof line, &len);
	if (g != CONN_OK) {
		snprintf(mb->err, sizeof mb->err, "%s", conn_strerror(g));
		return MAIL_FAILED;
	}
	unsigned long count;
	if (sscanf(line, "+OK %lu", &count) != 1 || count > MAILBOX_MAX_MESSAGES) {
		snprintf(mb->err, sizeof mb->err, "bad reply to STAT");
		return MAIL_FAILED;
	}
	mb->count = (unsigned)count;
	return MAIL_OK;
}

/* LIST (sizes) or UIDL (unique ids) for all messages: "n value" lines.
 * A server without UIDL leaves the uids empty. */
static enum mail_status scan(struct mailbox *mb, struct mail_summary *list, bool uids)
{
	enum mail_status st = cmd(mb, "%s", uids ? "UIDL" : "LIST");
	if (st == MAIL_REFUSED && uids)
		return MAIL_OK;
	if (st != MAIL_OK)
		return st;
	struct strbuf out = STRBUF_INIT;
	st = multiline(mb, &out, (size_t)MAILBOX_MAX_MESSAGES * 100);
	for (const char *p = out.s; st == MAIL_OK && p && *p;) {
		size_t l = strcspn(p, "\r\n");
		unsigned long n;
		char val[128];
		if (sscanf(p, "%lu %127s", &n, val) == 2 && n >= 1 && n <= mb->count) {
			if (uids)
				snprintf(list[n - 1].uid, sizeof list[n - 1].uid, "%s", val);
			else
				list[n - 1].size = strtoul(val, NULL, 10);
		}
		p += l;
		p += strspn(p, "\r\n");
	}
	sb_free(&out);
	return st;
}

enum mail_status pop3_list(struct mailbox *mb, struct mail_summary *list)
{
	enum mail_status st = scan(mb, list, false);
	if (st == MAIL_OK)
		st = scan(mb, list, true);
	struct strbuf hdr = STRBUF_INIT;
	char arg[32];
	for (unsigned i = 0; st == MAIL_OK && i < mb->count; i++) {
		snprintf(arg, sizeof arg, "%u", i + 1);
		st = cmd(mb, "TOP %s 0", arg);
		if (st != MAIL_OK)
			break;
		sb_reset(&hdr);
		st = multiline(mb, &hdr, 1024 * 1024);
		if (st == MAIL_OK)
			mailbox_summary_from_header(&list[i], hdr.s ? hdr.s : "", hdr.len);
	}
	sb_free(&hdr);
	return st;
}

enum mail_status pop3_fetch(struct mailbox *mb, unsigned num, struct strbuf *msg)
{
	char arg[32];
	snprintf(arg, sizeof arg, "%u", num);
	enum mail_status st = cmd(mb, "RETR %s", arg);
	if (st != MAIL_OK)
		return st;
	return multiline(mb, msg, MAILBOX_MAX_MESSAGE_SIZE);
}

enum mail_status pop3_delete(struct mailbox *mb, unsigned num)
{
	char arg[32];
	snprintf(arg, sizeof arg, "%u", num);
	enum mail_status st = cmd(mb, "DELE %s", arg);
	if (st != MAIL_OK)
		return st;
	/* the deletion happens in the UPDATE state: QUIT must succeed */
	return cmd(mb, "%s", "QUIT");
}

void pop3_close(struct mailbox *mb)
{
	(void)cmd(mb, "%s", "QUIT");
}
