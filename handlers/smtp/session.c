#include "session.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "delivery.h"
#include "log.h"

void smtp_session_init(struct smtp_session *s, const struct config *cfg, struct io *io,
		       const char *peer)
{
	memset(s, 0, sizeof *s);
	s->cfg = cfg;
	s->io = io;
	s->peer = peer;
}

void smtp_txn_reset(struct smtp_session *s)
{
	struct smtp_txn *t = &s->txn;
	if (t->dl)
		smtp_delivery_abort(t->dl);
	free(t->boxes);
	free(t->chunks);
	memset(t, 0, sizeof *t);
}

void smtp_session_reset(struct smtp_session *s)
{
	smtp_txn_reset(s);
	s->helo[0] = '\0';
	s->esmtp = false;
	s->authenticated = false;
	s->auth_user[0] = '\0';
	log_set_user(NULL);
}

void smtp_session_free(struct smtp_session *s)
{
	smtp_txn_reset(s);
}

enum smtp_phase smtp_phase(const struct smtp_session *s)
{
	if (!s->helo[0])
		return SMTP_PH_CONNECTED;
	if (!s->txn.active)
		return SMTP_PH_READY;
	if (s->txn.chunks)
		return SMTP_PH_BDAT;
	if (s->txn.nrcpt == 0)
		return SMTP_PH_MAIL;
	return SMTP_PH_RCPT;
}

static void count_reply(struct smtp_session *s, int code)
{
	bool bad = (code >= 500 && code <= 504) || code == 555;
	s->bad_in_row = bad ? s->bad_in_row + 1 : 0;
}

static void vreply(struct smtp_session *s, int code, char sep, const char *enh, const char *fmt,
		   va_list ap)
{
	char text[512];
	vsnprintf(text, sizeof text, fmt, ap);
	if (enh)
		io_printf(s->io, "%03d%c%s %s\r\n", code, sep, enh, text);
	else
		io_printf(s->io, "%03d%c%s\r\n", code, sep, text);
}

void smtp_reply(struct smtp_session *s, int code, const char *enh, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreply(s, code, ' ', enh, fmt, ap);
	va_end(ap);
	count_reply(s, code);
}

void smtp_reply_cont(struct smtp_session *s, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreply(s, code, '-', NULL, fmt, ap);
	va_end(ap);
}

void smtp_reply_close(struct smtp_session *s, const char *enh, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreply(s, 421, ' ', enh, fmt, ap);
	va_end(ap);
	io_flush(s->io);
	s->closing = true;
}

void smtp_io_failed(struct smtp_session *s, int r, const char *where)
{
	switch (r) {
	case IO_TIMEOUT:
		log_info("timeout in %s, closing", where);
		smtp_reply_close(s, "4.4.2", "%s Timeout, closing connection", s->cfg->hostname);
		break;
	case IO_EOF:
		if (strcmp(where, "command") != 0)
			log_info("client closed the connection in %s", where);
		break;
	default:
		log_info("connection lost in %s", where);
		break;
	}
	s->closing = true;
}
