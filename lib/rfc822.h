/* rfc822: RFC 5322 header-field helpers over a header held in memory:
 * field iteration and lookup, unfolding, and a lexer for structured fields
 * (atoms, quoted strings, comments, MIME tokens, Content-Type).
 *
 * The lexer follows Dovecot's rfc822-parser semantics exactly, because the
 * IMAP ENVELOPE/BODYSTRUCTURE we build from it are compared byte for byte
 * with Dovecot's (tests/mime/). All inputs are bounded by explicit lengths;
 * nothing here recurses over the input. */
#ifndef POSTERN_RFC822_H
#define POSTERN_RFC822_H

#include <stdbool.h>
#include <stddef.h>
#include "strbuf.h"

/* One header field. name excludes the colon and the white space before it;
 * value is raw (still folded), starts right after the colon and excludes
 * the line end that ends the field; raw is the whole field including that
 * line end. A line without a colon (and its continuation lines) is a field
 * without a name (name_len 0) whose value is the whole line, as Dovecot
 * sees it: no name matches it. */
struct rfc822_field {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
	const char *raw;
	size_t raw_len;
};

/* Iterate over the fields of HDR (LEN octets; may include the blank line
 * that ends the header). *POS starts at 0. Returns true with *F filled,
 * false at the blank line or the end of HDR. */
bool rfc822_header_next(const char *hdr, size_t len, size_t *pos, struct rfc822_field *f);

/* True when F's name is NAME (ASCII case-insensitive). */
bool rfc822_field_is(const struct rfc822_field *f, const char *name);

/* The first field named NAME (case-insensitive). */
bool rfc822_header_find(const char *hdr, size_t len, const char *name, struct rfc822_field *f);

/* The field's value unfolded the way mail readers see it: white space after
 * the colon skipped (only one octet of it when the first line holds nothing
 * else), line ends of folded lines removed, everything else kept (trailing
 * white space too). Malloc'd, NUL-terminated; *LEN_R gets its length. */
char *rfc822_field_value(const struct rfc822_field *f, size_t *len_r);
/* The same with the line ends of folded lines kept (Dovecot's "full
 * value"; ENVELOPE's subject is made from it). */
char *rfc822_field_folded_value(const struct rfc822_field *f, size_t *len_r);

/* What a NUL octet in header text becomes: U+FFFD in UTF-8, as in Dovecot
 * (quoted strings, comments and domain literals get it too). */
#define RFC822_NUL_REPLACEMENT "\xef\xbf\xbd"
/* An unstructured value (Subject, Content-Description, ...): unfolded, or
 * FOLDED, with NULs replaced. */
char *rfc822_field_text(const struct rfc822_field *f, bool folded, size_t *len_r);

/* --- structured-field lexer ---
 * Every parse function returns -1 on a syntax error, 0 when it consumed
 * the input up to its end, 1 when more input follows (positioned at the
 * next non-white-space, non-comment octet). */
struct rfc822_parser {
	const unsigned char *data, *end;
	struct strbuf *last_comment; /* NULL, or gets the text of the last comment skipped */
};

void rfc822_parser_init(struct rfc822_parser *p, const char *data, size_t len,
			struct strbuf *last_comment);
/* atext of RFC 5322 (8-bit octets count as atext, as in Dovecot). */
bool rfc822_is_atext(unsigned char c);

int rfc822_skip_lwsp(struct rfc822_parser *p);
int rfc822_parse_atom(struct rfc822_parser *p, struct strbuf *out);
int rfc822_parse_dot_atom(struct rfc822_parser *p, struct strbuf *out);
/* A MIME token (RFC 2045 §5.1; '.' allowed); may be empty. */
int rfc822_parse_mime_token(struct rfc822_parser *p, struct strbuf *out);
/* At '"': appends the unquoted, unescaped content. */
int rfc822_parse_quoted_string(struct rfc822_parser *p, struct strbuf *out);
/* phrase: words (atoms, dots, quoted strings) joined by single spaces. */
int rfc822_parse_phrase(struct rfc822_parser *p, struct strbuf *out);
/* At '@': the domain (dot-atom or [literal]). */
int rfc822_parse_domain(struct rfc822_parser *p, struct strbuf *out);
/* "type/subtype" appended to OUT. On a malformed value returns -1 and OUT
 * gets what Dovecot keeps: "type" when the value ends (or breaks) right
 * after the type, else nothing (a missing or empty subtype, or anything
 * but ';' after it). */
int rfc822_parse_content_type(struct rfc822_parser *p, struct strbuf *out);
/* One ";attribute=value". Returns 0 at the end of input, -1 on a syntax
 * error, 1 with KEY and VALUE (reset first) filled. */
int rfc822_parse_content_param(struct rfc822_parser *p, struct strbuf *key, struct strbuf *value);

#endif
