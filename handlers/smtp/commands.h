/* commands: the SMTP command table and the functions behind its rows. Each
 * row is a verb, a check (the state guard; it replies itself when the
 * command may not run now) and a proceed function (OpenSMTPD style), so a
 * new command — STARTTLS, AUTH — is one row and two small functions. */
#ifndef POSTERN_SMTP_COMMANDS_H
#define POSTERN_SMTP_COMMANDS_H

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

#endif
