/* smtp-trace: the trace header fields an SMTP server prepends at delivery:
 * Return-Path (RFC 5321 §4.4) and Received (§4.4, RFC 5322 §3.6.7), with
 * the "with" protocol names of RFC 3848 / RFC 6531. CRLF line ends,
 * folded at clause boundaries to keep lines under 78 octets when possible. */
#ifndef POSTERN_SMTP_TRACE_H
#define POSTERN_SMTP_TRACE_H

#include <stdbool.h>
#include <time.h>
#include "strbuf.h"

struct smtp_trace {
	const char *helo;     /* the client's EHLO/HELO argument */
	const char *peer;     /* peer address ("127.0.0.1", "::1") or "local" */
	const char *host;     /* our host name */
	const char *protocol; /* from smtp_trace_protocol() */
	const char *id;       /* the message id */
	const char *for_rcpt; /* the one recipient, or NULL */
	time_t when;
};

/* "SMTP", "ESMTP", "ESMTPS", "ESMTPA", "ESMTPSA", or with SMTPUTF8
 * "UTF8SMTP", "UTF8SMTPS", "UTF8SMTPA", "UTF8SMTPSA". */
const char *smtp_trace_protocol(bool esmtp, bool tls, bool auth, bool utf8);

/* Append "Return-Path: <sender>\r\n" ("<>" for the null sender). */
void smtp_trace_return_path(struct strbuf *sb, const char *sender);

/* Append the Received: field, ending in CRLF. */
void smtp_trace_received(struct strbuf *sb, const struct smtp_trace *t);

/* RFC 5322 date-time ("Sun, 22 Nov 2026 01:48:13 +0000") of T in local
 * time into out (at least 40 octets). */
void smtp_trace_date(time_t t, char *out, size_t outlen);

#endif
