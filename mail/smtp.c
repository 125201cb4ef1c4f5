#include "smtp.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "codec.h"
#include "conn.h"
#include "client-tls.h"

#define SMTP_REPLY_LINE_MAX 4096
#define SMTP_REPLY_LINES_MAX 200

enum { EXT_STARTTLS = 1, EXT_AUTH_PLAIN = 2, EXT_8BITMIME = 4, EXT_SIZE = 8, EXT_AUTH = 16 };

struct smtp {
	struct conn c;
	const struct mail_opts *o;
	unsigned ext;
	char *err;
	size_t errlen;
};

/* Note one EHLO keyword line ("8BITMIME", "AUTH LOGIN PLAIN", ...). */
static void ehlo_keyword(struct smtp *s, const char *k)
{
	if (strcasecmp(k, "STARTTLS") == 0) {
		s->ext |= EXT_STARTTLS;
	} else if (strcasecmp(k, "8BITMIME") == 0) {
		s->ext |= EXT_8BITMIME;
	} else if (strncasecmp(k, "SIZE", 4) == 0 && (k[4] == '\0' || k[4] == ' ')) {
		s->ext |= EXT_SIZE;
	} else if (strncasecmp(k, "AUTH", 4) == 0 && (k[4] == ' ' || k[4] == '=')) {
		s->ext |= EXT_AUTH;
		/* the PLAIN mechanism as a whole word */
		for (const char *p = k + 5; *p;) {
			size_t wl = strcspn(p, " ");
			if (wl == 5 && strncasecmp(p, "PLAIN", 5) == 0)
				s->ext |= EXT_AUTH_PLAIN;
			p += wl;
			p += strspn(p, " ");
		}
	}
}

/* Read a reply: its code (100..599), or -1 with err set (connection or
 * protocol failure). text gets "CODE text" with the lines joined by
 * spaces. With ehlo, the keyword lines of a 250 reply are noted. */
static int reply(struct smtp *s, struct strbuf *text, bool ehlo)
{
	char line[SMTP_REPLY_LINE_MAX];
	int code = 0;
	sb_reset(text);
	for (int n = 0; n < SMTP_REPLY_LINES_MAX; n++) {
		size_t len;
		int r = conn_getline(&s->c, line, sizeof line, &len);
		if (r != CONN_OK) {
			snprintf(s->err, s->errlen, "%s", conn_strerror(r));
			return -1;
		}
		if (len < 3 || line[0] < '1' || line[0] > '5' || line[1] < '0' || line[1] > '9' ||
		    line[2] < '0' || line[2] > '9' || (len > 3 && line[3] != ' ' && line[3] != '-')) {
			sb_reset(text);
			sanitize_text(text, line, len > 80 ? 80 : len, false);
			snprintf(s->err, s->errlen, "bad SMTP reply: %s", text->s);
			return -1;
		}
		int c = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
		if (n > 0 && c != code) {
			snprintf(s->err, s->errlen, "bad SMTP reply: code changed within a reply");
			return -1;
		}
		code = c;
		if (n == 0)
			sb_printf(text, "%d", code);
		else if (ehlo && code == 250 && len > 4)
			ehlo_keyword(s, line + 4);
		if (len > 4) {
			sb_addc(text, ' ');
			sanitize_text(text, line + 4, len - 4, false);
		}
		if (len == 3 || line[3] == ' ')
			return code;
	}
	snprintf(s->err, s->errlen, "bad SMTP reply: too many lines");
	return -1;
}

/* Send a command and read its reply code; -1 on connection failure. */
static int command(struct smtp *s, struct strbuf *text, const char *fmt, const char *arg)
{
	conn_printf(&s->c, fmt, arg);
	conn_puts(&s->c, "\r\n");
	return reply(s, text, false);
}

/* A reply the server gave that we will not go on from. */
static enum mail_status refused(struct smtp *s, const struct strbuf *text)
{
	snprintf(s->err, s->errlen, "%s", text->s);
	return MAIL_REFUSED;
}

static int ehlo(struct smtp *s, struct strbuf *text)
{
	s->ext = 0;
	conn_printf(&s->c, "EHLO %s\r\n", s->o->helo);
	return reply(s, text, true);
}

static enum mail_status greet(struct smtp *s, struct strbuf *text)
{
	int code = ehlo(s, text);
	if (code < 0)
		return MAIL_FAILED;
	if (code == 250)
		return MAIL_OK;
	/* an old server: HELO, no extensions */
	code = command(s, text, "HELO %s", s->o->helo);
	if (code < 0)
		return MAIL_FAILED;
	return code == 250 ? MAIL_OK : refused(s, text);
}

static enum mail_status auth_plain(struct smtp *s, struct strbuf *text)
{
	struct strbuf raw = STRBUF_INIT, enc = STRBUF_INIT;
	sb_addc(&raw, '\0');
	sb_adds(&raw, s->o->user);
	sb_addc(&raw, '\0');
	sb_adds(&raw, s->o->pass ? s->o->pass : "");
	b64_encode(&enc, raw.s, raw.len);
	/* keep the secret out of memory we no longer need */
	explicit_bzero(raw.s, raw.len);
	sb_free(&raw);
	int code = command(s, text, "AUTH PLAIN %s", enc.s);
	explicit_bzero(enc.s, enc.len);
	sb_free(&enc);
	if (code < 0)
		return MAIL_FAILED;
	return code == 235 ? MAIL_OK : refused(s, text);
}

void smtp_dot_stuff(struct strbuf *out, const char *msg, size_t len)
{
	bool bol = true;
	for (size_t i = 0; i < len; i++) {
		char c = msg[i];
		if (bol && c == '.')
			sb_addc(out, '.');
		if (c == '\n' && (i == 0 || msg[i - 1] != '\r'))
			sb_addc(out, '\r');
		sb_addc(out, c);
		bol = c == '\n';
	}
	if (!bol)
		sb_adds(out, "\r\n");
	sb_adds(out, ".\r\n");
}

static enum mail_status transaction(struct smtp *s, const struct outgoing *m, struct strbuf *text)
{
	enum mail_status st = greet(s, text);
	if (st != MAIL_OK)
		return st;
	if (s->o->tls == TLS_STARTTLS) {
		if (!(s->ext & EXT_STARTTLS)) {
			snprintf(s->err, s->errlen, "the server does not offer STARTTLS");
			return MAIL_FAILED;
		}
		int code = command(s, text, "%s", "STARTTLS");
		if (code < 0)
			return MAIL_FAILED;
		if (code != 220)
			return refused(s, text);
		if (client_tls_start(&s->c, s->o, s->err, s->errlen) < 0)
			return MAIL_FAILED;
		/* RFC 3207: forget what we knew, ask again */
		st = greet(s, text);
		if (st != MAIL_OK)
			return st;
	}
	if (s->o->user && (s->ext & EXT_AUTH_PLAIN)) {
		st = auth_plain(s, text);
		if (st != MAIL_OK)
			return st;
	}
	struct strbuf cmd = STRBUF_INIT;
	sb_printf(&cmd, "MAIL FROM:<%s>", m->from);
	if (m->eightbit && (s->ext & EXT_8BITMIME))
		sb_adds(&cmd, " BODY=8BITMIME");
	if (s->ext & EXT_SIZE)
		sb_printf(&cmd, " SIZE=%zu", m->msg.len);
	int code = command(s, text, "%s", cmd.s);
	sb_free(&cmd);
	if (code < 0)
		return MAIL_FAILED;
	if (code != 250)
		return refused(s, text);
	for (size_t i = 0; i < m->nrcpts; i++) {
		code = command(s, text, "RCPT TO:<%s>", m->rcpts[i]);
		if (code < 0)
			return MAIL_FAILED;
		if (code != 250 && code != 251)
			return refused(s, text);
	}
	code = command(s, text, "%s", "DATA");
	if (code < 0)
		return MAIL_FAILED;
	if (code != 354)
		return refused(s, text);
	struct strbuf data = STRBUF_INIT, seven = STRBUF_INIT;
	const char *msg = m->msg.s ? m->msg.s : "";
	size_t len = m->msg.len;
	/* no 8BITMIME: send 8-bit text as quoted-printable where we can */
	if (m->eightbit && !(s->ext & EXT_8BITMIME) && compose_downgrade_7bit(&seven, msg, len) == 0) {
		msg = seven.s;
		len = seven.len;
	}
	smtp_dot_stuff(&data, msg, len);
	sb_free(&seven);
	conn_write(&s->c, data.s, data.len);
	sb_free(&data);
	code = reply(s, text, false);
	if (code < 0)
		return MAIL_FAILED;
	if (code != 250)
		return refused(s, text);
	/* the message is accepted; a failing QUIT does not change that */
	if (command(s, text, "%s", "QUIT") < 0)
		s->err[0] = '\0';
	return MAIL_OK;
}

enum mail_status smtp_send(const struct mail_opts *o, const struct outgoing *m,
			   char *err, size_t errlen)
{
	struct smtp s = { .o = o, .err = err, .errlen = errlen };
	struct strbuf text = STRBUF_INIT;
	err[0] = '\0';
	if (client_connect(&s.c, o, o->smtp_port, err, errlen) < 0)
		return MAIL_FAILED;
	enum mail_status st;
	int code = reply(&s, &text, false);
	if (code < 0)
		st = MAIL_FAILED;
	else if (code != 220)
		st = refused(&s, &text);
	else
		st = transaction(&s, m, &text);
	if (st == MAIL_REFUSED) {
		/* say goodbye politely; the reply no longer matters */
		conn_puts(&s.c, "QUIT\r\n");
		conn_flush(&s.c);
	}
	conn_close(&s.c);
	sb_free(&text);
	return st;
}
