#include "compose.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "codec.h"
#include "date.h"
#include "header.h"

#define SMTP_LINE_MAX 998

void outgoing_free(struct outgoing *o)
{
	free(o->from);
	for (size_t i = 0; i < o->nrcpts; i++)
		free(o->rcpts[i]);
	free(o->rcpts);
	sb_free(&o->msg);
	o->from = NULL;
	o->rcpts = NULL;
	o->nrcpts = 0;
}

static void add_rcpt(struct outgoing *o, const char *a)
{
	o->rcpts = xrealloc(o->rcpts, (o->nrcpts + 1) * sizeof *o->rcpts);
	o->rcpts[o->nrcpts++] = xstrdup(a);
}

/* Does the body need quoted-printable to survive SMTP? */
static bool body_needs_qp(const char *b, size_t len)
{
	size_t col = 0;
	for (size_t i = 0; i < len; i++) {
		char c = b[i];
		if (c == '\n') {
			col = 0;
			continue;
		}
		if (c == '\0' || (c == '\r' && (i + 1 >= len || b[i + 1] != '\n')))
			return true;
		if (c != '\r' && ++col > SMTP_LINE_MAX)
			return true;
	}
	return false;
}

static void qp_line(struct strbuf *out, const char *s, size_t n)
{
	size_t col = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		bool last = i + 1 == n;
		char enc[4];
		size_t el;
		if ((c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last)) {
			enc[0] = (char)c;
			el = 1;
		} else {
			snprintf(enc, sizeof enc, "=%02X", c);
			el = 3;
		}
		if (col + el > 75) {
			sb_adds(out, "=\r\n");
			col = 0;
		}
		sb_add(out, enc, el);
		col += el;
	}
	sb_adds(out, "\r\n");
}

void compose_body(struct strbuf *out, const char *body, size_t len, bool *qp_r)
{
	bool qp = body_needs_qp(body, len);
	size_t i = 0;
	while (i < len) {
		const char *nl = memchr(body + i, '\n', len - i);
		size_t e = nl ? (size_t)(nl - body) : len;
		size_t le = e;
		if (nl && le > i && body[le - 1] == '\r')
			le--;
		if (qp)
			qp_line(out, body + i, le - i);
		else {
			sb_add(out, body + i, le - i);
			sb_adds(out, "\r\n");
		}
		i = e + 1;
	}
	*qp_r = qp;
}

static void add_message_id(struct strbuf *m, const char *from)
{
	const char *at = from ? strrchr(from, '@') : NULL;
	unsigned char r[8] = { 0 };
	if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
		/* fall back to time and pid: unique enough per process */
		unsigned long v = (unsigned long)time(NULL) ^ ((unsigned long)getpid() << 16);
		memcpy(r, &v, sizeof r < sizeof v ? sizeof r : sizeof v);
	}
	sb_printf(m, "Message-ID: <%lld.%ld.", (long long)time(NULL), (long)getpid());
	for (size_t i = 0; i < sizeof r; i++)
		sb_printf(m, "%02x", r[i]);
	sb_printf(m, "@%s>\r\n", at && at[1] ? at + 1 : "localhost");
}

static void add_date(struct strbuf *m)
{
	char d[64];
	date_format_rfc5322(time(NULL), d, sizeof d);
	sb_printf(m, "Date: %s\r\n", d);
}

static void add_mime(struct strbuf *m, bool eightbit, bool qp)
{
	sb_adds(m, "MIME-Version: 1.0\r\n");
	sb_printf(m, "Content-Type: text/plain; charset=%s\r\n", eightbit ? "UTF-8" : "us-ascii");
	sb_printf(m, "Content-Transfer-Encoding: %s\r\n", qp ? "quoted-printable" : eightbit ? "8bit" : "7bit");
}

int compose_simple(struct outgoing *o, const char *from, char *const *to, size_t nto,
		   const char *subject, const char *body, size_t bodylen,
		   char *err, size_t errlen)
{
	memset(o, 0, sizeof *o);
	if (!addr_valid(from)) {
		snprintf(err, errlen, "bad sender address: %s", from);
		return -1;
	}
	if (nto == 0) {
		snprintf(err, errlen, "no recipient");
		return -1;
	}
	for (size_t i = 0; i < nto; i++) {
		if (!addr_valid(to[i])) {
			snprintf(err, errlen, "bad recipient address: %s", to[i]);
			outgoing_free(o);
			return -1;
		}
		add_rcpt(o, to[i]);
	}
	o->from = xstrdup(from);
	struct strbuf b = STRBUF_INIT;
	bool qp;
	compose_body(&b, body, bodylen, &qp);
	/* the charset describes the text; 8bit transport only when sent raw */
	bool text8 = has_8bit(body, bodylen);
	struct strbuf *m = &o->msg;
	add_date(m);
	sb_printf(m, "From: %s\r\n", from);
	sb_adds(m, "To: ");
	for (size_t i = 0; i < nto; i++)
		sb_printf(m, "%s%s", i ? ",\r\n " : "", to[i]);
	sb_adds(m, "\r\n");
	rfc2047_header(m, "Subject", subject ? subject : "");
	add_message_id(m, from);
	add_mime(m, text8, qp);
	sb_adds(m, "\r\n");
	sb_add(m, b.s ? b.s : "", b.len);
	sb_free(&b);
	o->eightbit = has_8bit(m->s, m->len);
	return 0;
}

/* One header field of the input: [start, end) including its line ends. */
static bool next_field(const char *h, size_t hlen, size_t *pos, size_t *start, size_t *end)
{
	if (*pos >= hlen)
		return false;
	*start = *pos;
	size_t i = *pos;
	for (;;) {
		const char *nl = memchr(h + i, '\n', hlen - i);
		i = nl ? (size_t)(nl - h) + 1 : hlen;
		if (i >= hlen || (h[i] != ' ' && h[i] != '\t'))
			break;
	}
	*end = *pos = i;
	return true;
}

static bool field_is(const char *f, size_t len, const char *name)
{
	size_t n = strlen(name);
	return len > n && strncasecmp(f, name, n) == 0 && f[n] == ':';
}

/* Copy a raw field with its line ends made CRLF. */
static void copy_field(struct strbuf *m, const char *f, size_t len)
{
	size_t i = 0;
	while (i < len) {
		const char *nl = memchr(f + i, '\n', len - i);
		size_t e = nl ? (size_t)(nl - f) : len;
		size_t le = e > i && f[e - 1] == '\r' ? e - 1 : e;
		sb_add(m, f + i, le - i);
		sb_adds(m, "\r\n");
		i = e + 1;
	}
}

static void collect(struct outgoing *o, const char *hdr, size_t hlen, const char *name)
{
	struct strbuf v = STRBUF_INIT;
	for (size_t k = 0; hdr_get_nth(hdr, hlen, name, k, &v); k++)
		hdr_addresses(v.s, &o->rcpts, &o->nrcpts);
	sb_free(&v);
}

int compose_from_message(struct outgoing *o, const char *in, size_t len, const char *from,
			 char *const *to, size_t nto, bool from_headers,
			 char *err, size_t errlen)
{
	memset(o, 0, sizeof *o);
	size_t body_off = hdr_body_offset(in, len);
	/* no empty line and no colon on the first line: it is all body */
	size_t hlen = body_off;
	if (hlen > 0 && (in[hlen - 1] == '\n')) {
		size_t e = hlen - 1;
		if (e > 0 && in[e - 1] == '\r')
			e--;
		hlen = e;
		/* hlen now ends at the empty line: strip the line end before it */
	}
	struct strbuf v = STRBUF_INIT;
	char addr[256];
	if (from && *from) {
		o->from = xstrdup(from);
	} else if (hdr_get(in, len, "From", &v) && hdr_first_address(v.s, addr, sizeof addr)) {
		o->from = xstrdup(addr);
	}
	if (!o->from || !addr_valid(o->from)) {
		snprintf(err, errlen, "no valid sender: give --from or a From: field");
		sb_free(&v);
		outgoing_free(o);
		return -1;
	}
	for (size_t i = 0; i < nto; i++)
		add_rcpt(o, to[i]);
	if (from_headers) {
		collect(o, in, body_off, "To");
		collect(o, in, body_off, "Cc");
		collect(o, in, body_off, "Bcc");
	}
	for (size_t i = 0; i < o->nrcpts; i++) {
		if (!addr_valid(o->rcpts[i])) {
			snprintf(err, errlen, "bad recipient address: %s", o->rcpts[i]);
			sb_free(&v);
			outgoing_free(o);
			return -1;
		}
	}
	if (o->nrcpts == 0) {
		snprintf(err, errlen, "no recipient");
		sb_free(&v);
		outgoing_free(o);
		return -1;
	}

	struct strbuf *m = &o->msg;
	bool have_date = false, have_mid = false, have_from = false, have_mime = false;
	bool have_ct = false, have_cte = false;
	size_t pos = 0, s, e;
	while (next_field(in, hlen, &pos, &s, &e)) {
		const char *f = in + s;
		size_t fl = e - s;
		if (field_is(f, fl, "Bcc"))
			continue;
		have_date |= field_is(f, fl, "Date");
		have_mid |= field_is(f, fl, "Message-ID");
		have_from |= field_is(f, fl, "From");
		have_mime |= field_is(f, fl, "MIME-Version");
		have_ct |= field_is(f, fl, "Content-Type");
		have_cte |= field_is(f, fl, "Content-Transfer-Encoding");
		if (field_is(f, fl, "Subject") && has_8bit(f, fl)) {
			hdr_get(f, fl, "Subject", &v);
			rfc2047_header(m, "Subject", v.s);
			continue;
		}
		copy_field(m, f, fl);
	}
	sb_free(&v);
	if (!have_from)
		sb_printf(m, "From: %s\r\n", o->from);
	if (!have_date)
		add_date(m);
	if (!have_mid)
		add_message_id(m, o->from);
	const char *body = in + body_off;
	size_t blen = len - body_off;
	struct strbuf b = STRBUF_INIT;
	bool qp = false;
	bool text8 = has_8bit(body, blen);
	if (!have_cte)
		compose_body(&b, body, blen, &qp);
	else
		compose_body(&b, body, blen, &(bool){ false });
	if (!have_mime)
		sb_adds(m, "MIME-Version: 1.0\r\n");
	if (!have_ct)
		sb_printf(m, "Content-Type: text/plain; charset=%s\r\n", text8 ? "UTF-8" : "us-ascii");
	if (!have_cte && (text8 || qp))
		sb_printf(m, "Content-Transfer-Encoding: %s\r\n", qp ? "quoted-printable" : "8bit");
	sb_adds(m, "\r\n");
	sb_add(m, b.s ? b.s : "", b.len);
	sb_free(&b);
	o->eightbit = has_8bit(m->s, m->len);
	return 0;
}

int compose_downgrade_7bit(struct strbuf *out, const char *msg, size_t len)
{
	size_t body = hdr_body_offset(msg, len);
	struct strbuf v = STRBUF_INIT;
	bool ok = hdr_get(msg, body, "Content-Transfer-Encoding", &v) && strcasecmp(v.s, "8bit") == 0;
	if (ok && hdr_get(msg, body, "Content-Type", &v) && strncasecmp(v.s, "multipart/", 10) == 0)
		ok = false;
	sb_free(&v);
	/* 8-bit in the header cannot be helped by the body encoding */
	if (!ok || has_8bit(msg, body))
		return -1;
	size_t pos = 0, s, e;
	size_t hlen = body;
	/* the fields end before the empty line */
	if (hlen >= 2 && msg[hlen - 2] == '\r')
		hlen -= 2;
	else if (hlen >= 1)
		hlen -= 1;
	while (next_field(msg, hlen, &pos, &s, &e)) {
		if (field_is(msg + s, e - s, "Content-Transfer-Encoding"))
			sb_adds(out, "Content-Transfer-Encoding: quoted-printable\r\n");
		else
			copy_field(out, msg + s, e - s);
	}
	sb_adds(out, "\r\n");
	size_t i = body;
	while (i < len) {
		const char *nl = memchr(msg + i, '\n', len - i);
		size_t le = nl ? (size_t)(nl - msg) : len;
		size_t end = le > i && msg[le - 1] == '\r' ? le - 1 : le;
		qp_line(out, msg + i, end - i);
		i = le + 1;
	}
	return 0;
}
