/* smtp: send one message: EHLO (HELO when refused), STARTTLS when asked
 * for, AUTH PLAIN when offered and credentials were given, MAIL (with
 * BODY=8BITMIME when the message is 8-bit and the server offers it, SIZE
 * when offered), RCPT per recipient, DATA with dot-stuffing, QUIT. */
#ifndef POSTERN_MAIL_SMTP_H
#define POSTERN_MAIL_SMTP_H

#include <stddef.h>

#include "compose.h"
#include "options.h"
#include "status.h"

/* MAIL_OK; MAIL_REFUSED with the server's reply ("550 5.1.1 ...") in err;
 * MAIL_FAILED with what went wrong in err. */
enum mail_status smtp_send(const struct mail_opts *o, const struct outgoing *m,
			   char *err, size_t errlen);

/* Append msg to out dot-stuffed, CRLF lines, ending in CRLF.CRLF. */
void smtp_dot_stuff(struct strbuf *out, const char *msg, size_t len);

#endif
