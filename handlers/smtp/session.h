/* session: the state of one SMTP connection and the reply helpers every
 * command uses. The connection state (HELO name, TLS, authentication) is
 * kept apart from the mail transaction so STARTTLS can reset the first
 * (RFC 3207 §4.2) and AUTH can mark it authenticated without touching the
 * command code. */
#ifndef POSTERN_SMTP_SESSION_H
#define POSTERN_SMTP_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "io.h"
#include "maildir.h"
#include "smtp-path.h"
#include "users.h"

#define SMTP_LINE_MAX 1000          /* command line incl. CRLF (RFC 5321 §4.5.3.1.4 text line) */
#define SMTP_MAX_BAD_IN_ROW 10      /* syntax/sequence errors in a row before 421 */
#define SMTP_MAX_COMMANDS 10000     /* commands per session */
#define SMTP_MAX_MAILBOXES 1000     /* distinct local mailboxes per transaction */
#define SMTP_HELO_MAX 255
#define SMTP_MAX_AUTH_FAILURES 3    /* bad credentials per session before 421 */

/* Where a session is; each command's check guards on it. */
enum smtp_phase {
	SMTP_PH_CONNECTED, /* no EHLO/HELO yet */
	SMTP_PH_READY,     /* greeted, no transaction */
	SMTP_PH_MAIL,      /* MAIL accepted, no recipient yet */
	SMTP_PH_RCPT,      /* at least one recipient */
	SMTP_PH_BDAT,      /* BDAT chunks are coming */
};

/* One local mailbox that gets a copy. */
struct smtp_mailbox {
	char user[USER_NAME_MAX];     /* "local@domain": the dedup key */
	char dir[MAILDIR_PATH_MAX];
};

struct smtp_delivery; /* delivery.h */
struct smtp_dot;      /* smtp-dot.h */

/* The mail transaction (MAIL .. end of data / RSET). */
struct smtp_txn {
	bool active;                          /* MAIL accepted */
	char sender[SMTP_PATH_MAX + 1];       /* "" for the null sender */
	bool smtputf8;                        /* SMTPUTF8 parameter given */
	bool body_8bit;                       /* BODY=8BITMIME */
	size_t nrcpt;                         /* accepted RCPT commands */
	size_t rcpt_tried;                    /* RCPT commands in this transaction */
	char first_rcpt[SMTP_PATH_MAX + 1];   /* for the Received "for" clause */
	struct smtp_mailbox *boxes;
	size_t nboxes, capboxes;
	struct smtp_delivery *dl;             /* open during DATA/BDAT */
	struct smtp_dot *chunks;              /* BDAT content checker, set once BDAT began */
	char id[48];                          /* message id, chosen when the content starts */
};

struct smtp_session {
	const struct config *cfg;
	struct io *io;
	const char *peer;
	/* connection state: reset by STARTTLS */
	char helo[SMTP_HELO_MAX + 1];         /* "" until EHLO/HELO */
	bool esmtp;                           /* greeted with EHLO */
	bool tls;                             /* the channel is TLS (STARTTLS or --tls) */
	bool authenticated;
	char auth_user[USER_NAME_MAX];
	/* limits */
	unsigned bad_in_row;
	unsigned ncommands;
	unsigned nmessages;                   /* messages accepted, for ids */
	unsigned auth_failures;               /* bad credentials; survives STARTTLS */
	bool closing;                         /* QUIT or a fatal condition: stop reading */
	struct smtp_txn txn;
};

void smtp_session_init(struct smtp_session *s, const struct config *cfg, struct io *io,
		       const char *peer);
/* End the transaction: abort any delivery in progress, forget the envelope. */
void smtp_txn_reset(struct smtp_session *s);
/* Forget everything learnt on the connection (EHLO, AUTH): for STARTTLS. */
void smtp_session_reset(struct smtp_session *s);
void smtp_session_free(struct smtp_session *s);
enum smtp_phase smtp_phase(const struct smtp_session *s);

/* Reply "CODE ENH text". ENH (an enhanced status code, RFC 2034, or NULL)
 * is written after the code. Syntax and sequence errors (500-504, 555)
 * count towards the bad-commands limit; any other reply resets it. */
void smtp_reply(struct smtp_session *s, int code, const char *enh, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* One line of a multi-line reply ("CODE-text"); finish with smtp_reply. */
void smtp_reply_cont(struct smtp_session *s, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A fatal "421 ..." reply: sent, flushed, and the session closes. */
void smtp_reply_close(struct smtp_session *s, const char *enh, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* What an io_* error means for the session: logs it, answers a timeout
 * with 421 4.4.2, and marks the session closing. */
void smtp_io_failed(struct smtp_session *s, int r, const char *where);

#endif
