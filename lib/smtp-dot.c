/* The state names read as "what the last octets were":
 *   BOL    just after CRLF (DATA starts here: the command's own CRLF)
 *   TEXT   inside a line
 *   CR     a CR that may start a CRLF
 *   DOT    a dot at the start of a line
 *   DOTCR  ".\r" at the start of a line: one LF away from the end
 * Only BOL→DOT→DOTCR→LF ends DATA, and BOL is reached only through CR LF,
 * so "\n.\n", "\n.\r\n", "\r\n.\n", "\r.\r" and friends can never end it. */
#include "smtp-dot.h"

#include <stdint.h>
#include <string.h>

enum { ST_BOL, ST_TEXT, ST_CR, ST_DOT, ST_DOTCR };

void smtp_dot_init(struct smtp_dot *d, enum smtp_dot_mode mode, size_t max,
		   smtp_dot_sink *sink, void *ctx)
{
	memset(d, 0, sizeof *d);
	d->mode = mode;
	d->state = mode == SMTP_DOT_DATA ? ST_BOL : ST_TEXT;
	d->max = max;
	d->sink = sink;
	d->ctx = ctx;
}

bool smtp_dot_ok(const struct smtp_dot *d)
{
	return !d->bare_lf && !d->bare_cr && !d->too_big;
}

static void flush(struct smtp_dot *d)
{
	if (d->outlen > 0 && smtp_dot_ok(d) && d->sink)
		d->sink(d->ctx, d->out, d->outlen);
	d->outlen = 0;
}

static void emit(struct smtp_dot *d, unsigned char c)
{
	if (d->size < SIZE_MAX)
		d->size++;
	if (d->max && d->size > d->max)
		d->too_big = true;
	if (!smtp_dot_ok(d)) {
		d->outlen = 0; /* the message is lost anyway: keep nothing */
		return;
	}
	d->out[d->outlen++] = c;
	if (d->outlen == sizeof d->out)
		flush(d);
}

/* An octet inside a line (TEXT state and the fall-throughs into it). */
static void text(struct smtp_dot *d, unsigned char c)
{
	if (c == '\r') {
		d->state = ST_CR;
		return;
	}
	if (c == '\n')
		d->bare_lf = true; /* and stay in TEXT: a bare LF starts no line */
	emit(d, c);
	d->state = ST_TEXT;
}

/* Octets from p up to the first CR or LF: a run that needs no state. */
static size_t run_len(const unsigned char *p, size_t n)
{
	const unsigned char *cr = memchr(p, '\r', n);
	size_t lim = cr ? (size_t)(cr - p) : n;
	const unsigned char *lf = memchr(p, '\n', lim);
	return lf ? (size_t)(lf - p) : lim;
}

/* emit() for a run of ordinary octets, in bulk (the common case: most of
 * a message is line text; octet-at-a-time cost ~80 instructions per octet). */
static void emit_run(struct smtp_dot *d, const unsigned char *p, size_t n)
{
	d->size = SIZE_MAX - d->size < n ? SIZE_MAX : d->size + n;
	if (d->max && d->size > d->max)
		d->too_big = true;
	if (!smtp_dot_ok(d)) {
		d->outlen = 0;
		return;
	}
	while (n > 0) {
		size_t take = sizeof d->out - d->outlen;
		if (take > n)
			take = n;
		memcpy(d->out + d->outlen, p, take);
		d->outlen += take;
		p += take;
		n -= take;
		if (d->outlen == sizeof d->out)
			flush(d);
	}
}

size_t smtp_dot_feed(struct smtp_dot *d, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t i = 0;
	while (i < len && !d->done) {
		unsigned char c = p[i];
		if (d->state == ST_TEXT || (d->state == ST_BOL && (c != '.' || d->mode != SMTP_DOT_DATA))) {
			size_t n = run_len(p + i, len - i);
			if (n > 0) {
				emit_run(d, p + i, n);
				d->state = ST_TEXT;
				i += n;
				continue;
			}
		}
		i++;
		switch (d->state) {
		case ST_BOL:
			if (c == '.' && d->mode == SMTP_DOT_DATA)
				d->state = ST_DOT;
			else
				text(d, c);
			break;
		case ST_TEXT:
			text(d, c);
			break;
		case ST_CR:
			if (c == '\n') {
				emit(d, '\r');
				emit(d, '\n');
				d->state = d->mode == SMTP_DOT_DATA ? ST_BOL : ST_TEXT;
			} else {
				d->bare_cr = true;
				emit(d, '\r');
				text(d, c);
			}
			break;
		case ST_DOT:
			/* the leading dot is dropped (transparency, §4.5.2) */
			if (c == '\r')
				d->state = ST_DOTCR;
			else
				text(d, c);
			break;
		case ST_DOTCR:
			if (c == '\n') {
				d->done = true;
				d->state = ST_BOL;
			} else {
				d->bare_cr = true;
				emit(d, '\r');
				text(d, c);
			}
			break;
		}
	}
	return i;
}

void smtp_dot_end(struct smtp_dot *d)
{
	if (d->state == ST_CR || d->state == ST_DOTCR)
		d->bare_cr = true;
	flush(d);
}
