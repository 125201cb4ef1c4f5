/* imap-envelope: the FETCH ENVELOPE structure of RFC 3501 §7.4.2 from a
 * message header, formatted as Dovecot does (the test corpus under
 * tests/mime/ was recorded from Dovecot). */
#ifndef POSTERN_IMAP_ENVELOPE_H
#define POSTERN_IMAP_ENVELOPE_H

#include <stddef.h>
#include "strbuf.h"

/* Append "(date subject from sender reply-to to cc bcc in-reply-to
 * message-id)" for the header HDR (HDR_LEN octets, e.g. msg + part->hdr_off,
 * part->hdr_len). Never fails; missing fields are NIL, sender and reply-to
 * default to from. */
void imap_envelope_write(struct strbuf *out, const char *hdr, size_t hdr_len);

#endif
