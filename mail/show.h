/* show: how messages appear to a person: the list line and the whole mail
 * with its main header fields decoded and its body made readable. Server
 * text is sanitized (no terminal control characters). */
#ifndef POSTERN_MAIL_SHOW_H
#define POSTERN_MAIL_SHOW_H

#include <stddef.h>
#include <stdio.h>

#include "mailbox.h"

/* The list header line and one line per message:
 * "1 alice@example.org 22/11/2026 : 14 : 05 Hello". */
void show_list(FILE *out, const struct mail_summary *list, size_t n);

/* From, To, Subject, Received (list date format), an empty line, the
 * body (quoted-printable and base64 decoded for single-part text). */
void show_message(FILE *out, const char *msg, size_t len);

#endif
