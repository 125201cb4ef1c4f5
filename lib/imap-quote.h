/* imap-quote: write IMAP strings (RFC 3501 §4.3) the way Dovecot does, so
 * that ENVELOPE/BODYSTRUCTURE match it byte for byte. */
#ifndef POSTERN_IMAP_QUOTE_H
#define POSTERN_IMAP_QUOTE_H

#include <stddef.h>
#include "strbuf.h"

/* Append S (LEN octets, up to the first NUL) as an nstring: NIL when S is
 * NULL; else a quoted string with \" and \\ escaped, unless S holds CR,
 * LF, an 8-bit octet or more than 4 of '"' and '\', in which case a
 * literal "{n}\r\n" followed by the octets. */
void imap_quote_write(struct strbuf *out, const char *s, size_t len);
/* Same for a NUL-terminated string (NULL gives NIL). */
void imap_quote_writes(struct strbuf *out, const char *s);

/* A header text for humans (ENVELOPE subject and display names): runs of
 * white space become one space, leading/trailing white space and line
 * ends are dropped (S ends at a NUL); written quoted when nothing needed
 * changing and no '"', '\' or 8-bit octet occurs, "" when only white
 * space remains, else as a literal. NULL gives NIL. */
void imap_quote_write_human(struct strbuf *out, const char *s, size_t len);

#endif
