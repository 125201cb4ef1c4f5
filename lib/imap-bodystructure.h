/* imap-bodystructure: FETCH BODY and BODYSTRUCTURE (RFC 3501 §7.4.2) from
 * a parsed mime_part tree, formatted as Dovecot does. */
#ifndef POSTERN_IMAP_BODYSTRUCTURE_H
#define POSTERN_IMAP_BODYSTRUCTURE_H

#include <stdbool.h>
#include "mime.h"
#include "strbuf.h"

/* Append the parenthesised body structure of PART (normally the root from
 * mime_parse) of the message MSG (the buffer mime_parse was given).
 * EXTENDED: BODYSTRUCTURE (with extension data); false: BODY. Never fails. */
void imap_bodystructure_write(struct strbuf *out, const char *msg, const struct mime_part *part,
			      bool extended);

#endif
