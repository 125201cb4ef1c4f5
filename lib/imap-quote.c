/* imap-quote: quoted strings and literals. A quoted string is used while
 * it stays cheap and legal: more than four escapes cost more than a
 * literal's "{n}\r\n", and CR, LF and 8-bit octets may not be quoted. */
#include "imap-quote.h"

#include <stdbool.h>
#include <string.h>

#define QUOTED_MAX_ESCAPES 4

static void write_literal(struct strbuf *out, const char *s, size_t len)
{
	sb_printf(out, "{%zu}\r\n", len);
	sb_add(out, s, len);
}

void imap_quote_write(struct strbuf *out, const char *s, size_t len)
{
	if (!s) {
		sb_adds(out, "NIL");
		return;
	}
	const char *nul = memchr(s, '\0', len);
	if (nul)
		len = (size_t)(nul - s);

	unsigned escapes = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			if (++escapes > QUOTED_MAX_ESCAPES) {
				write_literal(out, s, len);
				return;
			}
		} else if (c == '\r' || c == '\n' || c >= 0x80) {
			write_literal(out, s, len);
			return;
		}
	}
	sb_grow(out, len + escapes + 2);
	char *d = out->s + out->len;
	*d++ = '"';
	if (!escapes) {
		memcpy(d, s, len);
		d += len;
	} else {
		for (size_t i = 0; i < len; i++) {
			if (s[i] == '"' || s[i] == '\\')
				*d++ = '\\';
			*d++ = s[i];
		}
	}
	*d++ = '"';
	*d = '\0';
	out->len = (size_t)(d - out->s);
}

void imap_quote_writes(struct strbuf *out, const char *s)
{
	imap_quote_write(out, s, s ? strlen(s) : 0);
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t';
}

void imap_quote_write_human(struct strbuf *out, const char *s, size_t len)
{
	if (!s) {
		sb_adds(out, "NIL");
		return;
	}
	const char *nul = memchr(s, '\0', len);
	if (nul)
		len = (size_t)(nul - s);
	/* Fast path: nothing to clean up and nothing to escape. */
	bool plain = len == 0 || (!is_ws(s[0]) && !is_ws(s[len - 1]));
	for (size_t i = 0; plain && i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\t' || c == '\r' || c == '\n' || c == '"' || c == '\\' ||
		    c >= 0x80 || (c == ' ' && i + 1 < len && s[i + 1] == ' '))
			plain = false;
	}
	if (plain) {
		sb_grow(out, len + 2);
		char *d = out->s + out->len;
		*d++ = '"';
		memcpy(d, s, len);
		d += len;
		*d++ = '"';
		*d = '\0';
		out->len = (size_t)(d - out->s);
		return;
	}

	/* Clean into a literal: collapse white space, drop line ends. */
	struct strbuf tmp = STRBUF_INIT;
	bool last_ws = true; /* drops leading white space */
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '\r' || c == '\n')
			continue;
		if (is_ws(c)) {
			if (!last_ws)
				sb_addc(&tmp, ' ');
			last_ws = true;
			continue;
		}
		sb_addc(&tmp, c);
		last_ws = false;
	}
	if (tmp.len > 0 && tmp.s[tmp.len - 1] == ' ')
		tmp.len--;
	if (tmp.len == 0)
		sb_adds(out, "\"\"");
	else
		write_literal(out, tmp.s, tmp.len);
	sb_free(&tmp);
}
