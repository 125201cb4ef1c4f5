/* sasl: the protocol-neutral parts of SASL password authentication, shared
 * by SMTP AUTH (RFC 4954), POP3 AUTH (RFC 5034) and IMAP AUTHENTICATE
 * (RFC 3501): strict base64 (RFC 4648 §4), the PLAIN message (RFC 4616),
 * and the one log line per failure that fail2ban reads. Nothing here
 * touches the users file or the wire. */
#ifndef POSTERN_SASL_H
#define POSTERN_SASL_H

#include <stdbool.h>
#include <stddef.h>

#define SASL_NAME_MAX 320  /* authzid/authcid octets (users.h USER_NAME_MAX - 1) */
#define SASL_PASS_MAX 1024 /* password octets */
/* Largest decoded PLAIN message: authzid NUL authcid NUL passwd. */
#define SASL_PLAIN_MAX (SASL_NAME_MAX + 1 + SASL_NAME_MAX + 1 + SASL_PASS_MAX)

enum sasl_result {
	SASL_OK = 0,
	SASL_BAD_BASE64 = -1, /* not canonical, padded base64 */
	SASL_TOO_LONG = -2,   /* decoded data or a field over its bound */
	SASL_MALFORMED = -3,  /* PLAIN: wrong number of NULs, empty authcid/passwd */
	SASL_AUTHZID = -4,    /* PLAIN: authzid given and not equal to authcid */
};

/* Decode base64 IN[0..inlen): alphabet A-Z a-z 0-9 + /, length a multiple
 * of 4, '=' only as final padding, unused bits zero, no white space. "" and
 * "=" both decode to nothing (RFC 4954 §4 empty response). Writes at most
 * outmax-1 octets to OUT and a NUL after them; *outlen_r gets the length
 * (the data may hold NULs). Returns SASL_OK, SASL_BAD_BASE64 or
 * SASL_TOO_LONG. */
int sasl_base64_decode(const char *in, size_t inlen, unsigned char *out, size_t outmax,
		       size_t *outlen_r);

/* Encode IN[0..len) as padded base64 into OUT (NUL-terminated). Returns the
 * length written, or 0 when outmax < 4 * ceil(len / 3) + 1. */
size_t sasl_base64_encode(const void *in, size_t len, char *out, size_t outmax);

/* A split PLAIN message; the strings point into the caller's buffer. */
struct sasl_plain {
	const char *authzid; /* "" when absent */
	const char *authcid;
	const char *passwd;
};

/* Split MSG[0..len) (as decoded; msg[len] must be NUL) into
 * authzid NUL authcid NUL passwd. Exactly two NULs; authcid and passwd
 * non-empty; fields within SASL_NAME_MAX / SASL_PASS_MAX; authzid empty or
 * equal to authcid (ASCII case-insensitive: user names are). Writes NULs
 * into msg. Returns SASL_OK or a negative sasl_result. */
int sasl_plain_split(unsigned char *msg, size_t len, struct sasl_plain *p);

/* A name that is safe in a LOGIN user name: no NULs, at most
 * SASL_NAME_MAX octets, not empty. */
bool sasl_name_valid(const unsigned char *name, size_t len);

/* Log one authentication failure, fail2ban-friendly, as
 *   auth failed: proto=PROTO peer=ADDR user=NAME mech=MECH reason=REASON failures=N
 * The user name is the client's: every octet outside printable ASCII, and
 * space, '"', '\\' and '=', is written as \xNN and it is cut at 64
 * octets, so it can never fake another field or another line. */
void sasl_log_failure(const char *proto, const char *peer, const char *user, const char *mech,
		      const char *reason, unsigned failures);

/* Wipe LEN octets of a secret (explicit_bzero; never optimised away). */
void sasl_wipe(void *p, size_t len);

#endif
