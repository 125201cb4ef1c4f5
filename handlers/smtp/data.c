/* DATA and BDAT: message content from the wire, through the byte state
 * machine (lib/smtp-dot.c), straight into the maildir tmp file. The reply
 * comes only after the whole content was read, so what follows it is read
 * as commands again — never a byte of the content. */
#include "commands.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "delivery.h"
#include "log.h"
#include "smtp-dot.h"
#include "strbuf.h"

#define CHUNK_BUF 65536

/* Pick the message id and open the first copy. 0, or -1 after replying. */
static int start_content(struct smtp_session *s)
{
	struct smtp_txn *t = &s->txn;
	int err = 0;
	s->nmessages++;
	snprintf(t->id, sizeof t->id, "%s-%u", log_session_id(), s->nmessages);
	t->dl = smtp_delivery_open(s, t->id, &err);
	if (!t->dl) {
		if (err == ENOSPC || err == EDQUOT)
			smtp_reply(s, 452, "4.3.1", "Insufficient system storage");
		else
			smtp_reply(s, 451, "4.3.0", "Local error in processing, try again later");
		smtp_txn_reset(s);
		return -1;
	}
	return 0;
}

static void log_delivered(const struct smtp_session *s, size_t size)
{
	const struct smtp_txn *t = &s->txn;
	struct strbuf to = STRBUF_INIT;
	for (size_t i = 0; i < t->nboxes; i++)
		sb_printf(&to, "%s%s", i ? "," : "", t->boxes[i].user);
	log_info("delivered id=%s size=%zu from=<%s> nrcpt=%zu to=%s", t->id, size, t->sender,
		 t->nrcpt, to.s);
	sb_free(&to);
}

/* The content is complete: reply for it and end the transaction. */
static void finish_content(struct smtp_session *s, struct smtp_dot *d)
{
	struct smtp_txn *t = &s->txn;
	smtp_dot_end(d);
	if (d->too_big) {
		log_info("rejected id=%s from=<%s>: message over %zu octets", t->id, t->sender,
			 s->cfg->max_message_size);
		smtp_reply(s, 552, "5.3.4", "Message size exceeds fixed maximum message size");
	} else if (d->bare_lf || d->bare_cr) {
		log_info("rejected id=%s from=<%s>: bare %s in content", t->id, t->sender,
			 d->bare_lf ? "LF" : "CR");
		smtp_reply(s, 550, "5.5.2", "bare LF/CR not allowed");
	} else {
		int err = 0;
		struct smtp_delivery *dl = t->dl;
		t->dl = NULL; /* commit frees it, whatever the outcome */
		if (smtp_delivery_commit(dl, s, &err) == 0) {
			log_delivered(s, d->size);
			smtp_reply(s, 250, "2.0.0", "OK %s Message accepted for delivery", t->id);
		} else if (err == ENOSPC || err == EDQUOT) {
			smtp_reply(s, 452, "4.3.1", "Insufficient system storage");
		} else {
			smtp_reply(s, 451, "4.3.0", "Local error in processing, message not delivered");
		}
	}
	smtp_txn_reset(s);
}

int smtp_check_data(struct smtp_session *s, const char *arg)
{
	switch (smtp_phase(s)) {
	case SMTP_PH_CONNECTED:
	case SMTP_PH_READY:
		smtp_reply(s, 503, "5.5.1", "Need MAIL command");
		return -1;
	case SMTP_PH_MAIL:
		if (s->txn.rcpt_tried > 0)
			smtp_reply(s, 554, "5.5.1", "No valid recipients");
		else
			smtp_reply(s, 503, "5.5.1", "Need RCPT command");
		return -1;
	case SMTP_PH_BDAT:
		smtp_reply(s, 503, "5.5.1", "DATA not allowed after BDAT");
		return -1;
	case SMTP_PH_RCPT:
		break;
	}
	if (*arg) {
		smtp_reply(s, 501, "5.5.4", "Syntax: DATA");
		return -1;
	}
	return 0;
}

void smtp_cmd_data(struct smtp_session *s, const char *arg)
{
	(void)arg;
	if (start_content(s) < 0)
		return;
	smtp_reply(s, 354, NULL, "End data with <CR><LF>.<CR><LF>");

	struct smtp_dot *d = xmalloc(sizeof *d);
	smtp_dot_init(d, SMTP_DOT_DATA, s->cfg->max_message_size, smtp_delivery_write, s->txn.dl);
	/* in bulk from the input buffer; what follows the terminator stays
	 * there for the next (pipelined) command */
	while (!d->done) {
		const unsigned char *p;
		size_t len;
		int r = io_peek(s->io, &p, &len);
		if (r != IO_OK) {
			smtp_io_failed(s, r, "DATA");
			smtp_txn_reset(s);
			free(d);
			return;
		}
		io_consume(s->io, smtp_dot_feed(d, p, len));
	}
	finish_content(s, d);
	free(d);
}

/* "BDAT <size> [LAST]" (RFC 3030 §2). 0 or -1 (bad syntax). */
static int parse_bdat(const char *arg, size_t *size_r, bool *last_r)
{
	size_t n = 0, digits = 0;
	while (isdigit((unsigned char)*arg)) {
		if (__builtin_mul_overflow(n, 10, &n) || __builtin_add_overflow(n, (size_t)(*arg - '0'), &n))
			return -1;
		arg++;
		digits++;
	}
	if (digits == 0)
		return -1;
	while (*arg == ' ')
		arg++;
	*last_r = false;
	if (strcasecmp(arg, "LAST") == 0)
		*last_r = true;
	else if (*arg)
		return -1;
	*size_r = n;
	return 0;
}

/* Read SIZE octets of chunk; with d, decode them into the message, else
 * throw them away. 0, or the io error. */
static int read_chunk(struct smtp_session *s, size_t size, struct smtp_dot *d)
{
	unsigned char *buf = xmalloc(CHUNK_BUF);
	int r = IO_OK;
	while (size > 0 && r == IO_OK) {
		size_t n = size < CHUNK_BUF ? size : CHUNK_BUF;
		r = io_read_exact(s->io, buf, n);
		if (r == IO_OK && d)
			smtp_dot_feed(d, buf, n);
		size -= n;
	}
	free(buf);
	return r;
}

void smtp_cmd_bdat(struct smtp_session *s, const char *arg)
{
	size_t size;
	bool last;
	if (parse_bdat(arg, &size, &last) < 0) {
		smtp_reply(s, 501, "5.5.4", "Syntax: BDAT size [LAST]");
		return;
	}

	enum smtp_phase ph = smtp_phase(s);
	if (ph != SMTP_PH_RCPT && ph != SMTP_PH_BDAT) {
		/* refused, but the chunk must still be read: it is no command */
		int r = read_chunk(s, size, NULL);
		if (r != IO_OK) {
			smtp_io_failed(s, r, "BDAT");
			return;
		}
		if (ph == SMTP_PH_MAIL && s->txn.rcpt_tried > 0)
			smtp_reply(s, 554, "5.5.1", "No valid recipients");
		else if (ph == SMTP_PH_MAIL)
			smtp_reply(s, 503, "5.5.1", "Need RCPT command");
		else
			smtp_reply(s, 503, "5.5.1", "Need MAIL command");
		return;
	}

	struct smtp_txn *t = &s->txn;
	if (ph == SMTP_PH_RCPT) {
		if (start_content(s) < 0) {
			int r = read_chunk(s, size, NULL);
			if (r != IO_OK)
				smtp_io_failed(s, r, "BDAT");
			return;
		}
		t->chunks = xmalloc(sizeof *t->chunks);
		smtp_dot_init(t->chunks, SMTP_DOT_CHUNK, s->cfg->max_message_size,
			      smtp_delivery_write, t->dl);
	}

	int r = read_chunk(s, size, t->chunks);
	if (r != IO_OK) {
		smtp_io_failed(s, r, "BDAT");
		smtp_txn_reset(s);
		return;
	}
	if (last) {
		finish_content(s, t->chunks);
	} else if (!smtp_dot_ok(t->chunks)) {
		/* no point in more chunks: answer now and end the transaction */
		finish_content(s, t->chunks);
	} else {
		smtp_reply(s, 250, "2.0.0", "%zu octets received", size);
	}
}
