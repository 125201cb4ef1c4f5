/* rfc822-address: RFC 5322 address lists (with groups) as IMAP's ENVELOPE
 * sees them. Broken input degrades exactly the way Dovecot degrades it
 * (tests/mime/ compares with Dovecot): a missing local part or domain
 * becomes "MISSING_MAILBOX" / "MISSING_DOMAIN", an unterminated <...>
 * gets the domain "SYNTAX_ERROR", a bad source route "INVALID_ROUTE". */
#ifndef POSTERN_RFC822_ADDRESS_H
#define POSTERN_RFC822_ADDRESS_H

#include <stddef.h>

/* One address. A group is bracketed by a start entry (mailbox = the group
 * name, host = NULL) and an end entry (all fields NULL). name is the
 * display name (or, without one, the last comment), unquoted; encoded
 * words are left as they are. route is "@a,@b" without the colon. */
struct rfc822_addr {
	char *name, *route, *mailbox, *host;
	struct rfc822_addr *next;
};

/* Parse an address-list (S, LEN octets, unfolded or not). Never fails;
 * returns NULL when the list is empty. Free with rfc822_addr_free. */
struct rfc822_addr *rfc822_addr_parse(const char *s, size_t len);
void rfc822_addr_free(struct rfc822_addr *list);

#endif
