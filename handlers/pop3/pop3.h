/* pop3: the session of postern-pop3d (RFC 1939, RFC 2449, RFC 5034) and
 * the functions its files share. One process serves one session:
 * AUTHORIZATION (pop3d.c, auth.c) -> TRANSACTION over a snapshot of the
 * maildrop taken at login (maildrop.c, cmd-transaction.c) -> UPDATE only
 * on QUIT (maildrop.c). */
#ifndef POSTERN_POP3_H
#define POSTERN_POP3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "io.h"
#include "maildir.h"
#include "users.h"

/* RFC 2449 wants 255 octets; accept more from sloppy clients. */
#define POP3_LINE_MAX 1024
/* An AUTH continuation line: base64 of the largest PLAIN response
 * (SASL_PLAIN_MAX, 1666 octets) is 2224 octets; checked in auth.c. */
#define POP3_SASL_LINE_MAX 2304
#define POP3_MAX_AUTH_FAILURES 3
#define POP3_MAX_BAD_COMMANDS 10
/* Commands per session: generous for a client that lists, fetches and
 * deletes every message, a bound nevertheless. */
#define POP3_COMMANDS_BASE 1000
#define POP3_COMMANDS_PER_MSG 8

enum pop3_state {
	POP3_AUTHORIZATION = 1 << 0,
	POP3_TRANSACTION = 1 << 1,
};

/* One message of the snapshot taken at login. */
struct pop3_msg {
	char *name;         /* current file name (updated when it moved) */
	size_t baselen;     /* length of its base part */
	uint32_t uid;
	off_t size;         /* octets as stored = as sent before stuffing */
	bool in_new;
	bool deleted;       /* DELE'd in this session */
	bool retrieved;     /* RETR'd: gets \Seen at QUIT */
};

struct pop3 {
	const struct config *cfg;
	struct io *io;
	enum pop3_state state;
	char timestamp[300];               /* APOP banner "<pid.time@host>" */
	char user_given[USER_NAME_MAX];    /* from USER, waiting for PASS */
	unsigned auth_failures;
	struct user user;                  /* the logged-in user */
	char dir[MAILDIR_PATH_MAX];        /* the user's maildir (INBOX) */
	int lock_fd;                       /* maildrop lock, -1 when none */
	struct pop3_msg *msgs;
	size_t nmsgs;
	uint32_t uidvalidity;
	unsigned long retrieved, deleted;  /* counts for the QUIT log line */
	bool tls;                          /* the session is encrypted */
	bool closing;                      /* end the session after this reply */
};

/* A command handler gets the arguments after the keyword (raw, may be
 * empty). It writes exactly one reply. Returns 0, or -1 for a bad command
 * (syntax, wrong arguments), which counts towards the bad command limit. */
typedef int pop3_cmd_fn(struct pop3 *s, char *args);

/* auth.c */
/* Whether passwords may be sent now (USER/PASS, APOP, AUTH PLAIN): inside
 * TLS, from a loopback peer, or with allow_plaintext_auth. */
bool pop3_plaintext_allowed(const struct pop3 *s);
pop3_cmd_fn pop3_cmd_user, pop3_cmd_pass, pop3_cmd_apop, pop3_cmd_auth;

/* stls.c: STLS (RFC 2595) and whether to offer it. */
bool pop3_stls_available(const struct pop3 *s);
pop3_cmd_fn pop3_cmd_stls;

/* maildrop.c */
/* Lock the maildrop of s->user (creating the maildir when absent) and take
 * the snapshot. Returns 0; -2 locked by another session; -1 other error
 * (logged). */
int pop3_maildrop_open(struct pop3 *s);
/* Message number ARG ("1".."n", plain decimal) that is not deleted, or NULL
 * with *err_r set to the reply text. */
struct pop3_msg *pop3_msg_lookup(struct pop3 *s, const char *arg, const char **err_r);
/* Open a message's file for reading (follows concurrent renames). fd, or -1
 * with errno kept (ENOENT: removed by another session). */
int pop3_msg_open(struct pop3 *s, struct pop3_msg *m);
/* Messages not deleted and their total octets. */
void pop3_maildrop_stat(const struct pop3 *s, unsigned long *count_r,
			unsigned long long *octets_r);
/* UPDATE state: remove deleted messages, mark retrieved ones \Seen. Returns
 * the number of deleted messages that could not be removed. */
unsigned long pop3_maildrop_update(struct pop3 *s);
/* Release the lock and free the snapshot (no UPDATE). */
void pop3_maildrop_close(struct pop3 *s);

/* cmd-transaction.c */
pop3_cmd_fn pop3_cmd_stat, pop3_cmd_list, pop3_cmd_retr, pop3_cmd_dele, pop3_cmd_rset,
	pop3_cmd_noop, pop3_cmd_top, pop3_cmd_uidl;

#endif
