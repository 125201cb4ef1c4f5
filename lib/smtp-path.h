/* smtp-path: the arguments of MAIL FROM: and RCPT TO: (RFC 5321 §4.1.2,
 * RFC 6531 for UTF-8): a reverse/forward path and the ESMTP parameters after
 * it. Pure parsers over NUL-terminated, already length-bounded command lines;
 * nothing here touches users, domains or the disk. */
#ifndef POSTERN_SMTP_PATH_H
#define POSTERN_SMTP_PATH_H

#include <stdbool.h>
#include <stddef.h>

#define SMTP_LOCAL_MAX 64   /* RFC 5321 §4.5.3.1.1, octets as sent */
#define SMTP_DOMAIN_MAX 255 /* §4.5.3.1.2 */
#define SMTP_PATH_MAX 256   /* §4.5.3.1.3, including the angle brackets */

enum smtp_path_flag {
	SMTP_PATH_NULL_OK = 1 << 0,       /* "<>" allowed (reverse-path) */
	SMTP_PATH_POSTMASTER_OK = 1 << 1, /* "<Postmaster>" without domain allowed */
};

struct smtp_path {
	bool null;                        /* the null path "<>" */
	bool quoted;                      /* local part was a quoted string */
	bool literal;                     /* domain is an address literal "[...]" */
	bool non_ascii;                   /* octets >= 0x80 somewhere (needs SMTPUTF8) */
	char local[SMTP_LOCAL_MAX + 1];   /* local part, unquoted ("a b" for "\"a b\"") */
	char domain[SMTP_DOMAIN_MAX + 1]; /* as sent; "" for null path and bare Postmaster */
	char addr[SMTP_PATH_MAX + 1];     /* "local@domain" as sent (quotes kept); "" for null */
};

/* Parse the text after "FROM:" or "TO:". Leading spaces are skipped
 * (lenient: "FROM: <a@b>"); the path is "<mailbox>", "<@route,@route:mailbox>"
 * (the source route is dropped, RFC 5321 §C) or, leniently, a bare mailbox.
 * The local part is a dot-string or quoted string; the domain a host name or
 * an IPv4/IPv6 address literal. UTF-8 octets are accepted when well-formed
 * and flagged in p->non_ascii (the caller demands SMTPUTF8 for them).
 * On success returns 0 and *params_r points at the parameters (leading
 * spaces skipped; "" when none); -1 on any syntax error. */
int smtp_path_parse(const char *s, unsigned flags, struct smtp_path *p, const char **params_r);

/* Next ESMTP parameter "keyword[=value]" from *s, advancing *s. keyword is
 * upper-cased into kw; value (when present, *has_value_r set) copied into
 * val. Returns 1 for a parameter, 0 at the end, -1 on syntax error
 * (bad characters, empty value, too long for the buffers). */
int smtp_param_next(const char **s, char *kw, size_t kwlen, char *val, size_t vallen,
		    bool *has_value_r);

/* True when S[0..len) is well-formed UTF-8 (no overlongs, no surrogates). */
bool smtp_utf8_valid(const unsigned char *s, size_t len);

/* True when NAME is acceptable as an EHLO/HELO argument: a host name
 * (letters, digits, '-', '_', '.') or an address literal, at most 255 octets.
 * Stricter than "anything" because it is copied into Received: headers. */
bool smtp_helo_valid(const char *name);

#endif
