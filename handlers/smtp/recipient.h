/* recipient: what an RCPT TO address means here — which local mailboxes get
 * a copy (users, or the local targets of an alias), which remote addresses
 * the message is queued for (alias targets elsewhere; any address when the
 * client is authenticated), or why none does. */
#ifndef POSTERN_SMTP_RECIPIENT_H
#define POSTERN_SMTP_RECIPIENT_H

#include "session.h"
#include "smtp-path.h"

enum smtp_rcpt_result {
	SMTP_RCPT_OK,          /* mailboxes / remote addresses added (deduplicated) */
	SMTP_RCPT_NO_USER,     /* local domain, no such user or alias */
	SMTP_RCPT_RELAY,       /* not a local domain, and not authenticated */
	SMTP_RCPT_REMOTE_ONLY, /* (no longer returned: remote targets are queued) */
	SMTP_RCPT_TOO_MANY,    /* SMTP_MAX_MAILBOXES reached */
	SMTP_RCPT_ERROR,       /* lookup failed or alias is broken (logged) */
};

/* A transaction "mailbox" without a directory is a remote address
 * (box->user) that the delivery puts in the queue. */
static inline bool smtp_box_is_remote(const struct smtp_mailbox *b)
{
	return b->dir[0] == '\0';
}

/* Resolve P and add its mailboxes to s->txn; on any result but OK the
 * transaction's mailboxes are left as they were. */
enum smtp_rcpt_result smtp_rcpt_resolve(struct smtp_session *s, const struct smtp_path *p);

#endif
