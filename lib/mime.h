/* mime: parse an RFC 5322 / MIME message held whole in memory into a tree
 * of parts, once; formatters (imap-envelope, imap-bodystructure) and the
 * IMAP handler read the tree. Offsets index the message buffer (CRLF text,
 * as stored), so a part's bytes are msg + off, len.
 *
 * Parsing never fails on bad input; malformed MIME degrades the way
 * Dovecot's parser degrades it (tests/mime/ holds Dovecot's verdicts):
 *  - boundaries match by prefix ("--" + boundary at a line start, the
 *    longest active one wins); the CRLF before a boundary line belongs to
 *    the boundary; a boundary line inside a part's header ends the header;
 *  - a multipart without a boundary parameter has no children (its whole
 *    body is opaque; BODYSTRUCTURE shows one empty text/plain part); an
 *    unclosed multipart ends with its parent; "Content-Type: multipart"
 *    without a subtype is an application/octet-stream part;
 *  - a container (multipart or message/rfc822) nested MIME_MAX_DEPTH deep
 *    is not parsed: it becomes an opaque application/octet-stream part;
 *  - after MIME_MAX_PARTS parts no boundary is recognised any more: the
 *    rest of the message is the body of the part being parsed.
 * The parser keeps an explicit stack (no recursion over the input). */
#ifndef POSTERN_MIME_H
#define POSTERN_MIME_H

#include <stdbool.h>
#include <stddef.h>

#define MIME_MAX_DEPTH 100
#define MIME_MAX_PARTS 10000

/* One "attribute=value" of Content-Type or Content-Disposition, both as
 * given (unquoted); see rfc2231.h for continuations. */
struct mime_param {
	char *name;
	char *value;
};

struct mime_part {
	/* The header including the blank line that ends it (when present);
	 * the body follows it up to (not including) the CRLF that belongs to
	 * the next boundary line, or to the end of the enclosing part. */
	size_t hdr_off, hdr_len;
	size_t body_off, body_len;
	size_t hdr_lines, body_lines; /* LF count of each */

	/* Content-Type as given (compare case-insensitively), never NULL:
	 * "text"/"plain" when missing, "message"/"rfc822" for message parts
	 * (also the default inside multipart/digest), "" when malformed.
	 * Content-* fields only count when the header has MIME-Version or
	 * Content-Type, or the part is inside a multipart. */
	char *type, *subtype;
	struct mime_param *params;
	size_t nparams;

	/* Other MIME fields, unfolded (a NUL octet becomes U+FFFD), NULL
	 * when absent. encoding is the Content-Transfer-Encoding token as
	 * given (NULL when malformed). */
	char *id, *description, *encoding, *md5, *location;
	char *disposition; /* the disposition token as given, or NULL */
	struct mime_param *disp_params;
	size_t ndisp_params;
	char **languages; /* Content-Language tags, as given */
	size_t nlanguages;

	/* multipart/ *: true, and the body parts in order (nchildren may be
	 * 0: no boundary, or no boundary line found). */
	bool multipart;
	struct mime_part *children;
	size_t nchildren;
	/* message/rfc822: the encapsulated message (its hdr_off is this
	 * part's body_off; it ends where the part ends, or just before the
	 * line end when a boundary line cut its header short); NULL for
	 * every other part. */
	struct mime_part *message;
};

/* Parse MSG (LEN octets). Always succeeds: *ROOT_R is the whole message as
 * a part (hdr_off 0). Returns 0. Free with mime_free. */
int mime_parse(const char *msg, size_t len, struct mime_part **root_r);
void mime_free(struct mime_part *root);
void mime_params_free(struct mime_param *params, size_t n);

/* True when PART's type is TYPE/SUBTYPE (case-insensitive; SUBTYPE NULL
 * matches any subtype). */
bool mime_part_is(const struct mime_part *part, const char *type, const char *subtype);

/* IMAP section numbering (RFC 3501 §6.4.5), as Dovecot resolves it: the
 * part PATH[0].PATH[1]... (DEPTH numbers, each >= 1) below ROOT, the whole
 * message. A number selects a child of a multipart; a non-multipart part
 * has only part 1, itself (so "1" of a single-part message is the message
 * and "2.1" is part 2 when part 2 is a leaf); when more numbers follow a
 * message/rfc822 part they count inside its encapsulated message ("2.1"
 * is P->message's first child, or P->message itself when that is not
 * multipart). Returns NULL when there is no such part; DEPTH 0 gives ROOT.
 *
 * For FETCH BODY[section] (as tests/unit/test-mime.c checks against
 * Dovecot): [p] is the part's body, [p.MIME] its header, [p.HEADER] and
 * [p.TEXT] the header and body of part->message when the part is
 * message/rfc822, else empty; a missing part gives an empty string. */
const struct mime_part *mime_section(const struct mime_part *root, const unsigned *path,
				     size_t depth);

#endif
