/* header: read what a client needs from an RFC 5322 message held in
 * memory (CRLF or LF line ends): single header fields, unfolded, the first
 * address of a field, and where the body starts. */
#ifndef POSTERN_MAIL_HEADER_H
#define POSTERN_MAIL_HEADER_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

/* Offset of the body: just after the empty line ending the header, or len
 * when there is none. */
size_t hdr_body_offset(const char *msg, size_t len);

/* The value of the first field NAME (case-insensitive), unfolded and
 * trimmed, into val (reset first). False when absent. */
bool hdr_get(const char *msg, size_t len, const char *name, struct strbuf *val);

/* Like hdr_get for the INDEX-th field NAME (0 = first). */
bool hdr_get_nth(const char *msg, size_t len, const char *name, size_t index, struct strbuf *val);

/* The first addr-spec in an address-list value: the text inside <...>
 * when there is one, else the first word holding '@'. False when none. */
bool hdr_first_address(const char *value, char *out, size_t outlen);

/* Split an address list into addr-specs (appends malloc'd strings to
 * *list, growing it). Returns the number added. Groups and comments are
 * handled the simple way: "name <a@b>, c@d" and "g: a@b;" work. At most
 * HDR_MAX_ADDRESSES in all. */
#define HDR_MAX_ADDRESSES 1000
size_t hdr_addresses(const char *value, char ***list, size_t *n);

/* True for "X@Y": one '@', non-empty sides, no blanks, controls or
 * characters that would break an SMTP path. */
bool addr_valid(const char *s);

#endif
