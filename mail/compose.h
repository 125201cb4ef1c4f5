/* compose: turn what the user gave into a well-formed RFC 5322 message
 * with CRLF line ends: Date, Message-ID, MIME-Version, Content-Type with
 * charset, Content-Transfer-Encoding, RFC 2047 subjects. Lines longer than
 * SMTP allows (998 octets) or holding NUL / bare CR make the body
 * quoted-printable. */
#ifndef POSTERN_MAIL_COMPOSE_H
#define POSTERN_MAIL_COMPOSE_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

struct outgoing {
	char *from;          /* envelope sender (addr-spec) */
	char **rcpts;        /* envelope recipients */
	size_t nrcpts;
	struct strbuf msg;   /* the message, CRLF, not dot-stuffed */
	bool eightbit;       /* the message holds octets >= 0x80 */
};

void outgoing_free(struct outgoing *o);

/* A new message from FROM to TO[0..nto) with SUBJECT and a BODY of plain
 * text (LF or CRLF lines). Returns 0, or -1 with err set (bad address). */
int compose_simple(struct outgoing *o, const char *from, char *const *to, size_t nto,
		   const char *subject, const char *body, size_t bodylen,
		   char *err, size_t errlen);

/* A message given whole (header, empty line, body), as `sendmail -t`
 * reads it. Recipients: TO[0..nto) plus, with from_headers, every address
 * of To, Cc and Bcc (Bcc is then removed). The sender is FROM, else the
 * From field. Missing Date, Message-ID and MIME fields are added. */
int compose_from_message(struct outgoing *o, const char *in, size_t len, const char *from,
			 char *const *to, size_t nto, bool from_headers,
			 char *err, size_t errlen);

/* For a server without 8BITMIME (RFC 6152): re-encode an 8bit
 * single-part message's body as quoted-printable into out (header kept,
 * Content-Transfer-Encoding changed). -1 when the message is not of that
 * kind (multipart, or no 8bit header field); out is then untouched. */
int compose_downgrade_7bit(struct strbuf *out, const char *msg, size_t len);

/* Normalise body text to CRLF lines ending in CRLF, quoted-printable when
 * a line is too long or holds NUL / bare CR; *qp_r tells which. */
void compose_body(struct strbuf *out, const char *body, size_t len, bool *qp_r);

#endif
