/* date: the dates a mail client reads and writes. Display is in the local
 * time zone ($TZ). */
#ifndef POSTERN_MAIL_DATE_H
#define POSTERN_MAIL_DATE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* RFC 5322 date-time ("Sun, 22 Nov 2026 14:05:00 +0000", day name and
 * seconds optional, obsolete zone names accepted). */
bool date_parse_rfc5322(const char *s, time_t *t_r);

/* IMAP INTERNALDATE ("22-Nov-2026 14:05:00 +0000", day may be " 2"). */
bool date_parse_imap(const char *s, time_t *t_r);

/* The date of a Received: field: the text after its last ';'. */
bool date_parse_received(const char *value, time_t *t_r);

/* "Sun, 22 Nov 2026 14:05:00 +0100" in local time. */
void date_format_rfc5322(time_t t, char *buf, size_t len);
/* The list format "22/11/2026 : 14 : 05" (DD/MM/YYYY : HH : MM, local). */
void date_format_list(time_t t, char *buf, size_t len);
/* ISO 8601 "2026-11-22T14:05:00+01:00" (local), for scripts. */
void date_format_iso(time_t t, char *buf, size_t len);

#endif
