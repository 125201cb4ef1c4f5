/* recipient: what an RCPT TO address means here — which local mailboxes get
 * a copy (users, or the local targets of an alias), or why none does. */
#ifndef POSTERN_SMTP_RECIPIENT_H
#define POSTERN_SMTP_RECIPIENT_H

#include "session.h"
#include "smtp-path.h"

enum smtp_rcpt_result {
	SMTP_RCPT_OK,          /* mailboxes added to the transaction (deduplicated) */
	SMTP_RCPT_NO_USER,     /* local domain, no such user or alias */
	SMTP_RCPT_RELAY,       /* not a local domain */
	SMTP_RCPT_REMOTE_ONLY, /* an alias whose targets are all remote */
	SMTP_RCPT_TOO_MANY,    /* SMTP_MAX_MAILBOXES reached */
	SMTP_RCPT_ERROR,       /* lookup failed or alias is broken (logged) */
};

/* Resolve P and add its mailboxes to s->txn; on any result but OK the
 * transaction's mailboxes are left as they were. */
enum smtp_rcpt_result smtp_rcpt_resolve(struct smtp_session *s, const struct smtp_path *p);

#endif
