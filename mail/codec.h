/* codec: the encodings a mail client meets: base64 (AUTH PLAIN, RFC 2047
 * B words, bodies), quoted-printable, RFC 2047 encoded-words in headers,
 * and UTF-8 checks. Every function takes explicit lengths. */
#ifndef POSTERN_MAIL_CODEC_H
#define POSTERN_MAIL_CODEC_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

void b64_encode(struct strbuf *out, const void *in, size_t n);
/* Decode base64, skipping white space; -1 on a character outside the
 * alphabet (what was decoded so far stays in out). */
int b64_decode(struct strbuf *out, const char *in, size_t n);

/* Quoted-printable (RFC 2045); with header_q, "_" is a space (RFC 2047 Q).
 * Malformed escapes are kept literally. */
void qp_decode(struct strbuf *out, const char *in, size_t n, bool header_q);

bool utf8_valid(const char *s, size_t n);
/* True when s holds a C0 control or DEL (never allowed in credentials:
 * they would end or split a protocol line). */
bool has_ctl(const char *s);

/* True when any octet has the high bit set. */
bool has_8bit(const char *s, size_t n);

/* Append "NAME: VALUE\r\n" to out: VALUE as RFC 2047 UTF-8 B words when it
 * holds non-ASCII or control characters, folded so no line exceeds 76
 * octets; plain text folded at spaces when longer than 78. */
void rfc2047_header(struct strbuf *out, const char *name, const char *value);

/* Decode the encoded-words in an (unfolded) header value into UTF-8;
 * white space between adjacent encoded-words is dropped. ISO-8859-1 and
 * US-ASCII are converted, other charsets are passed through. */
void rfc2047_decode(struct strbuf *out, const char *in, size_t n);

/* Append s with C0 controls, DEL and ESC replaced by '?' (except \t, and
 * \n when keep_newlines): server text must never drive the terminal. */
void sanitize_text(struct strbuf *out, const char *s, size_t n, bool keep_newlines);

#endif
