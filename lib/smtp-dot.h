/* smtp-dot: the SMTP message content decoder, a byte state machine in the
 * spirit of qmail's blast(). It streams what it decodes to a sink in
 * bounded chunks (no whole-message buffer).
 *
 * DATA mode (RFC 5321 §4.1.1.4, §4.5.2): content ends ONLY at
 * <CRLF>.<CRLF> (the CRLF of the DATA command counts as the first one);
 * a leading dot is removed from every line; a CR not followed by LF or an
 * LF not preceded by CR marks the message bad (SMTP smuggling,
 * CVE-2023-51766 class) but decoding goes on until the real end, so the
 * rest of the message is never read as commands.
 * CHUNK mode (BDAT, RFC 3030): no terminator and no dot handling; the same
 * bare CR/LF and size checks, carried across chunks.
 *
 * Once the message is bad (bare CR/LF, or more than max octets) nothing
 * more goes to the sink: the caller discards what it got. */
#ifndef POSTERN_SMTP_DOT_H
#define POSTERN_SMTP_DOT_H

#include <stdbool.h>
#include <stddef.h>

enum smtp_dot_mode { SMTP_DOT_DATA, SMTP_DOT_CHUNK };

typedef void smtp_dot_sink(void *ctx, const void *buf, size_t len);

struct smtp_dot {
	enum smtp_dot_mode mode;
	int state;
	size_t max;        /* content limit in octets; 0 = none */
	size_t size;       /* content octets decoded (saturates) */
	bool bare_lf;      /* LF without CR seen */
	bool bare_cr;      /* CR without LF seen */
	bool too_big;      /* size > max */
	bool done;         /* DATA: the terminating <CRLF>.<CRLF> was read */
	smtp_dot_sink *sink;
	void *ctx;
	size_t outlen;
	unsigned char out[8192];
};

void smtp_dot_init(struct smtp_dot *d, enum smtp_dot_mode mode, size_t max,
		   smtp_dot_sink *sink, void *ctx);

/* Decode up to len octets. DATA mode stops right after the terminator
 * (d->done set) and returns how many octets it used, so the caller can
 * go on with the rest as commands; CHUNK mode uses everything. */
size_t smtp_dot_feed(struct smtp_dot *d, const void *buf, size_t len);

/* The content is complete (DATA: after done; BDAT: after LAST). A pending
 * CR at the very end counts as bare. Flushes the sink. */
void smtp_dot_end(struct smtp_dot *d);

/* Nothing wrong with the content so far. */
bool smtp_dot_ok(const struct smtp_dot *d);

#endif
