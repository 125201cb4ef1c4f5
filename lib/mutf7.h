/* mutf7: IMAP mailbox names in modified UTF-7 (RFC 3501 §5.1.3). */
#ifndef POSTERN_MUTF7_H
#define POSTERN_MUTF7_H

#include <stdbool.h>
#include <stddef.h>
#include "strbuf.h"

/* Decode NAME to UTF-8, appending to OUT. Returns 0, or -1 when NAME is not
 * valid modified UTF-7: octets outside 0x20..0x7e, '&' without its '-',
 * bad modified BASE64, printable ASCII encoded in base64, encoded control
 * characters (C0, DEL, C1), stray bits, or broken UTF-16 surrogates. */
int mutf7_to_utf8(const char *name, struct strbuf *out);

/* True when NAME is valid modified UTF-7. */
bool mutf7_valid(const char *name);

#endif
