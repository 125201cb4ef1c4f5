#include "mailbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "date.h"
#include "header.h"

enum mail_status mailbox_open(struct mailbox *mb, const struct mail_opts *o)
{
	memset(mb, 0, sizeof *mb);
	mb->o = o;
	mb->c.fd = -1;
	enum mail_status st = o->imap ? imap_open(mb) : pop3_open(mb);
	if (st != MAIL_OK)
		mailbox_close(mb);
	else
		mb->open = true;
	return st;
}

enum mail_status mailbox_list(struct mailbox *mb, struct mail_summary **list_r, size_t *n_r)
{
	*list_r = NULL;
	*n_r = 0;
	if (mb->count == 0)
		return MAIL_OK;
	struct mail_summary *l = xcalloc(mb->count, sizeof *l);
	for (unsigned i = 0; i < mb->count; i++) {
		l[i].num = i + 1;
		l[i].subject = xstrdup("");
	}
	enum mail_status st = mb->o->imap ? imap_list(mb, l) : pop3_list(mb, l);
	if (st != MAIL_OK) {
		mailbox_free_list(l, mb->count);
		return st;
	}
	*list_r = l;
	*n_r = mb->count;
	return MAIL_OK;
}

void mailbox_free_list(struct mail_summary *list, size_t n)
{
	for (size_t i = 0; list && i < n; i++)
		free(list[i].subject);
	free(list);
}

static enum mail_status check_num(struct mailbox *mb, unsigned num)
{
	if (num < 1 || num > mb->count) {
		snprintf(mb->err, sizeof mb->err, "no message %u (the mailbox holds %u)", num, mb->count);
		return MAIL_REFUSED;
	}
	return MAIL_OK;
}

enum mail_status mailbox_fetch(struct mailbox *mb, unsigned num, struct strbuf *msg)
{
	enum mail_status st = check_num(mb, num);
	if (st != MAIL_OK)
		return st;
	sb_reset(msg);
	return mb->o->imap ? imap_fetch(mb, num, msg) : pop3_fetch(mb, num, msg);
}

enum mail_status mailbox_delete(struct mailbox *mb, unsigned num)
{
	enum mail_status st = check_num(mb, num);
	if (st != MAIL_OK)
		return st;
	st = mb->o->imap ? imap_delete(mb, num) : pop3_delete(mb, num);
	conn_close(&mb->c);
	mb->open = false;
	return st;
}

void mailbox_close(struct mailbox *mb)
{
	if (mb->open) {
		if (mb->o->imap)
			imap_close(mb);
		else
			pop3_close(mb);
	}
	mb->open = false;
	if (mb->c.fd >= 0)
		conn_close(&mb->c);
}

void mailbox_summary_from_header(struct mail_summary *s, const char *hdr, size_t len)
{
	struct strbuf v = STRBUF_INIT, d = STRBUF_INIT;
	s->from[0] = '\0';
	if (hdr_get(hdr, len, "From", &v))
		hdr_first_address(v.s, s->from, sizeof s->from);
	if (hdr_get(hdr, len, "Subject", &v)) {
		rfc2047_decode(&d, v.s, v.len);
		free(s->subject);
		s->subject = sb_steal(&d);
	}
	/* the topmost Received: is the one our server added on delivery */
	s->has_date = (hdr_get(hdr, len, "Received", &v) && date_parse_received(v.s, &s->date)) ||
		      (hdr_get(hdr, len, "Date", &v) && date_parse_rfc5322(v.s, &s->date));
	sb_free(&v);
	sb_free(&d);
}
