/* commands: the SMTP command table and the functions behind its rows. Each
 * row is a verb, a check (the state guard; it replies itself when the
 * command may not run now) and a proceed function (OpenSMTPD style), so a
 * new command — STARTTLS, AUTH — is one row and two small functions. */
#ifndef POSTERN_SMTP_COMMANDS_H
#define POSTERN_SMTP_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>

#include "session.h"

/* Run one command line (without its line end; len octets, may hold NULs). */
void smtp_dispatch(struct smtp_session *s, char *line, size_t len);

/* envelope.c */
int smtp_check_mail(struct smtp_session *s, const char *arg);
void smtp_cmd_mail(struct smtp_session *s, const char *arg);
int smtp_check_rcpt(struct smtp_session *s, const char *arg);
void smtp_cmd_rcpt(struct smtp_session *s, const char *arg);

/* data.c */
int smtp_check_data(struct smtp_session *s, const char *arg);
void smtp_cmd_data(struct smtp_session *s, const char *arg);
void smtp_cmd_bdat(struct smtp_session *s, const char *arg);

/* starttls.c */
/* STARTTLS goes into EHLO: a certificate is configured, not yet TLS. */
bool smtp_starttls_offered(const struct smtp_session *s);
int smtp_check_starttls(struct smtp_session *s, const char *arg);
void smtp_cmd_starttls(struct smtp_session *s, const char *arg);
/* Server handshake on s->io, bounded by the idle timeout; sets s->tls.
 * 0, or -1 (logged; the connection is unusable). */
int smtp_tls_handshake(struct smtp_session *s);

/* auth.c */
/* AUTH goes into EHLO: auth is enabled here (submission, or a certificate
 * is configured), not yet authenticated, and passwords may be sent now. */
bool smtp_auth_offered(const struct smtp_session *s);
int smtp_check_auth(struct smtp_session *s, const char *arg);
void smtp_cmd_auth(struct smtp_session *s, const char *arg);

/* submission.c */
/* May the authenticated user use SENDER (MAIL FROM) on submission? 1 yes,
 * 0 no, -1 lookup error (logged). */
int smtp_sender_owned(const struct smtp_session *s, const struct smtp_path *sender);

#endif
