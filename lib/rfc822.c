/* rfc822: header fields and the structured-field lexer. The lexer's corner
 * cases (what a broken value yields) deliberately match Dovecot's, since
 * the IMAP formatters built on it are tested against Dovecot's output. */
#include "rfc822.h"

#include <string.h>

static bool is_lwsp(char c)
{
	return c == ' ' || c == '\t';
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* End of the line starting at POS: the index just after its LF, or LEN. */
static size_t line_end(const char *s, size_t len, size_t pos)
{
	const char *lf = memchr(s + pos, '\n', len - pos);
	return lf ? (size_t)(lf - s) + 1 : len;
}

static bool line_is_empty(const char *s, size_t len, size_t pos)
{
	return pos < len && (s[pos] == '\n' || (s[pos] == '\r' && pos + 1 < len && s[pos + 1] == '\n'));
}

bool rfc822_header_next(const char *hdr, size_t len, size_t *pos, struct rfc822_field *f)
{
	size_t start = *pos;
	if (start >= len || line_is_empty(hdr, len, start))
		return false;

	/* The field: its first line plus every following line that starts
	 * with white space (folding). */
	size_t first_end = line_end(hdr, len, start);
	size_t end = first_end;
	while (end < len && is_lwsp(hdr[end]))
		end = line_end(hdr, len, end);

	/* The value excludes the field's final line end. */
	size_t vend = end;
	if (vend > start && hdr[vend - 1] == '\n') {
		vend--;
		if (vend > start && hdr[vend - 1] == '\r')
			vend--;
	}

	const char *colon = memchr(hdr + start, ':', first_end - start);
	f->raw = hdr + start;
	f->raw_len = end - start;
	f->name = hdr + start;
	if (colon) {
		size_t name_len = (size_t)(colon - (hdr + start));
		while (name_len > 0 && is_lwsp(hdr[start + name_len - 1]))
			name_len--;
		f->name_len = name_len;
		f->value = colon + 1;
		f->value_len = vend - (size_t)(colon + 1 - hdr);
	} else {
		/* no colon: no name, the line is all value */
		f->name_len = 0;
		f->value = hdr + start;
		f->value_len = vend - start;
	}
	*pos = end;
	return true;
}

bool rfc822_field_is(const struct rfc822_field *f, const char *name)
{
	size_t n = strlen(name);
	/* a name ends at a NUL, as it does for C-string based readers */
	const char *nul = memchr(f->name, '\0', f->name_len);
	size_t len = nul ? (size_t)(nul - f->name) : f->name_len;
	if (len != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (lower(f->name[i]) != lower(name[i]))
			return false;
	}
	return true;
}

bool rfc822_header_find(const char *hdr, size_t len, const char *name, struct rfc822_field *f)
{
	size_t pos = 0;
	while (rfc822_header_next(hdr, len, &pos, f)) {
		if (rfc822_field_is(f, name))
			return true;
	}
	return false;
}

/* White space after the colon on the first line is skipped; when the first
 * line holds only white space, just one octet of it. */
static size_t value_skip(const struct rfc822_field *f)
{
	const char *v = f->value;
	size_t len = f->value_len;
	if (f->name_len == 0)
		return 0;
	const char *lf = memchr(v, '\n', len);
	size_t first = lf ? (size_t)(lf - v) : len;
	if (lf && first > 0 && v[first - 1] == '\r')
		first--;
	size_t skip = 0;
	while (skip < first && is_lwsp(v[skip]))
		skip++;
	if (skip == first && first > 0)
		skip = 1;
	return skip;
}

static char *field_value(const struct rfc822_field *f, bool keep_line_ends, bool text,
			 size_t *len_r)
{
	const char *v = f->value;
	size_t len = f->value_len;
	size_t skip = value_skip(f);
	struct strbuf out = STRBUF_INIT;
	sb_grow(&out, len - skip);
	for (size_t i = skip; i < len; i++) {
		if (!keep_line_ends &&
		    (v[i] == '\n' || (v[i] == '\r' && i + 1 < len && v[i + 1] == '\n')))
			continue;
		if (text && v[i] == '\0')
			sb_adds(&out, RFC822_NUL_REPLACEMENT);
		else
			sb_addc(&out, v[i]);
	}
	out.s[out.len] = '\0'; /* sb_grow alone does not terminate */
	if (len_r)
		*len_r = out.len;
	return sb_steal(&out);
}

char *rfc822_field_value(const struct rfc822_field *f, size_t *len_r)
{
	return field_value(f, false, false, len_r);
}

char *rfc822_field_folded_value(const struct rfc822_field *f, size_t *len_r)
{
	return field_value(f, true, false, len_r);
}

char *rfc822_field_text(const struct rfc822_field *f, bool folded, size_t *len_r)
{
	return field_value(f, folded, true, len_r);
}

/* --- lexer --- */

void rfc822_parser_init(struct rfc822_parser *p, const char *data, size_t len,
			struct strbuf *last_comment)
{
	p->data = (const unsigned char *)data;
	p->end = p->data + len;
	p->last_comment = last_comment;
}

bool rfc822_is_atext(unsigned char c)
{
	if (c >= 0x80)
		return true;
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* MIME token octets: atext without the tspecials '/', '=', '?', plus '.'. */
static bool is_token_char(unsigned char c)
{
	if (c == '.')
		return true;
	return rfc822_is_atext(c) && c != '/' && c != '=' && c != '?';
}

static void add_range(struct strbuf *out, const unsigned char *a, const unsigned char *b)
{
	if (out)
		sb_add(out, a, (size_t)(b - a));
}

static bool is_escapable(unsigned char c)
{
	return c != '\0' && c != '\r' && c != '\n';
}

/* True when [P, END) is one blank octet, then zero or more line ends each
 * followed by one blank octet, and nothing else. */
static bool only_blank_folds(const unsigned char *p, const unsigned char *end)
{
	for (;;) {
		if (p == end || (*p != ' ' && *p != '\t'))
			return false;
		if (++p == end)
			return true;
		if (*p == '\r')
			p++;
		if (p == end || *p != '\n')
			return false;
		p++;
	}
}

/* At '(': skip a (nested) comment, remembering its text. */
static int skip_comment(struct rfc822_parser *p)
{
	int level = 1;
	if (p->last_comment)
		sb_reset(p->last_comment);
	const unsigned char *start = ++p->data;
	for (; p->data != p->end; p->data++) {
		switch (*p->data) {
		case '(':
			level++;
			break;
		case ')':
			if (--level == 0) {
				add_range(p->last_comment, start, p->data);
				p->data++;
				return p->data != p->end;
			}
			break;
		case '\n': {
			/* folding inside the comment: drop the line end. (Not
			 * when only one-blank lines follow: what Dovecot keeps
			 * of a comment left open at the end of the value.) */
			if (only_blank_folds(p->data + 1, p->end))
				break;
			const unsigned char *e = p->data;
			if (e > start && e[-1] == '\r')
				e--;
			add_range(p->last_comment, start, e);
			start = p->data + 1;
			break;
		}
		case '\0':
			add_range(p->last_comment, start, p->data);
			if (p->last_comment)
				sb_adds(p->last_comment, RFC822_NUL_REPLACEMENT);
			start = p->data + 1;
			break;
		case '\\':
			/* quoted-pair: drop the backslash, keep the octet (a
			 * backslash before CR, LF or NUL is just a backslash).
			 * The text before it is kept even if the comment is
			 * never closed. */
			if (p->data + 1 == p->end)
				return -1;
			add_range(p->last_comment, start, p->data);
			start = p->data;
			if (!is_escapable(p->data[1]))
				break;
			p->data++;
			start = p->data;
			break;
		default:
			break;
		}
	}
	return -1; /* missing ')' */
}

int rfc822_skip_lwsp(struct rfc822_parser *p)
{
	while (p->data != p->end) {
		unsigned char c = *p->data;
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			p->data++;
			continue;
		}
		if (c != '(')
			break;
		if (skip_comment(p) < 0)
			return -1;
	}
	return p->data != p->end;
}

int rfc822_parse_atom(struct rfc822_parser *p, struct strbuf *out)
{
	if (p->data == p->end || !rfc822_is_atext(*p->data))
		return -1;
	const unsigned char *start = p->data++;
	while (p->data != p->end && rfc822_is_atext(*p->data))
		p->data++;
	add_range(out, start, p->data);
	return p->data == p->end ? 0 : rfc822_skip_lwsp(p);
}

int rfc822_parse_dot_atom(struct rfc822_parser *p, struct strbuf *out)
{
	if (p->data == p->end || !rfc822_is_atext(*p->data))
		return -1;
	const unsigned char *start = p->data++;
	while (p->data != p->end) {
		if (rfc822_is_atext(*p->data)) {
			p->data++;
			continue;
		}
		add_range(out, start, p->data);
		int ret = rfc822_skip_lwsp(p);
		if (ret <= 0)
			return ret;
		if (*p->data != '.')
			return 1;
		p->data++;
		sb_addc(out, '.');
		/* RFC 822 allowed white space around the dots, but an atom must
		 * follow ("a." and "a..b" are broken) */
		if (rfc822_skip_lwsp(p) <= 0 || !rfc822_is_atext(*p->data))
			return -1;
		start = p->data;
	}
	add_range(out, start, p->data);
	return 0;
}

int rfc822_parse_mime_token(struct rfc822_parser *p, struct strbuf *out)
{
	const unsigned char *start = p->data;
	while (p->data != p->end && is_token_char(*p->data))
		p->data++;
	add_range(out, start, p->data);
	return p->data == p->end ? 0 : rfc822_skip_lwsp(p);
}

int rfc822_parse_quoted_string(struct rfc822_parser *p, struct strbuf *out)
{
	p->data++; /* the opening '"' */
	const unsigned char *start = p->data;
	for (; p->data != p->end; p->data++) {
		switch (*p->data) {
		case '"':
			add_range(out, start, p->data);
			p->data++;
			return rfc822_skip_lwsp(p);
		case '\n': {
			/* folding inside the string: drop the line end */
			const unsigned char *e = p->data;
			if (e > start && e[-1] == '\r')
				e--;
			add_range(out, start, e);
			start = p->data + 1;
			break;
		}
		case '\0':
			add_range(out, start, p->data);
			sb_adds(out, RFC822_NUL_REPLACEMENT);
			start = p->data + 1;
			break;
		case '\\':
			if (p->data + 1 == p->end)
				return -1;
			if (!is_escapable(p->data[1]))
				break; /* a plain backslash */
			p->data++;
			add_range(out, start, p->data - 1);
			start = p->data;
			break;
		default:
			break;
		}
	}
	return -1; /* missing '"' */
}

/* Atoms and dots without skipping white space between them. */
static int parse_atom_or_dot(struct rfc822_parser *p, struct strbuf *out)
{
	const unsigned char *start = p->data;
	while (p->data != p->end && (rfc822_is_atext(*p->data) || *p->data == '.'))
		p->data++;
	add_range(out, start, p->data);
	return p->data == p->end ? 0 : rfc822_skip_lwsp(p);
}

int rfc822_parse_phrase(struct rfc822_parser *p, struct strbuf *out)
{
	if (p->data == p->end)
		return 0;
	if (*p->data == '.')
		return -1;
	for (;;) {
		int ret = *p->data == '"' ? rfc822_parse_quoted_string(p, out)
					  : parse_atom_or_dot(p, out);
		if (ret <= 0)
			return ret;
		unsigned char c = *p->data;
		if (!rfc822_is_atext(c) && c != '"' && c != '.')
			break;
		sb_addc(out, ' ');
	}
	return rfc822_skip_lwsp(p);
}

static int parse_domain_literal(struct rfc822_parser *p, struct strbuf *out)
{
	const unsigned char *start = p->data;
	for (; p->data != p->end; p->data++) {
		if (*p->data == '\\') {
			p->data++;
			if (p->data == p->end)
				break;
		} else if (*p->data == '\0') {
			add_range(out, start, p->data);
			sb_adds(out, RFC822_NUL_REPLACEMENT);
			start = p->data + 1;
		} else if (*p->data == '\n') {
			/* folding inside the literal: drop the line end */
			const unsigned char *e = p->data;
			if (e > start && e[-1] == '\r')
				e--;
			add_range(out, start, e);
			start = p->data + 1;
		} else if (*p->data == '[' && p->data != start) {
			return -1; /* no '[' inside */
		} else if (*p->data == ']') {
			p->data++;
			add_range(out, start, p->data);
			return rfc822_skip_lwsp(p);
		}
	}
	return -1; /* missing ']' */
}

int rfc822_parse_domain(struct rfc822_parser *p, struct strbuf *out)
{
	p->data++; /* the '@' */
	if (rfc822_skip_lwsp(p) <= 0)
		return -1;
	if (*p->data == '[')
		return parse_domain_literal(p, out);
	return rfc822_parse_dot_atom(p, out);
}

static int truncate_to(struct strbuf *out, size_t len)
{
	if (out->s) {
		out->len = len;
		out->s[len] = '\0';
	}
	return -1;
}

int rfc822_parse_content_type(struct rfc822_parser *p, struct strbuf *out)
{
	size_t orig = out->len;
	if (rfc822_skip_lwsp(p) <= 0)
		return -1;
	/* the type: kept when the value simply ends after it */
	int ret = rfc822_parse_mime_token(p, out);
	if (ret <= 0 || out->len == orig)
		return -1;
	if (*p->data != '/')
		return truncate_to(out, orig);
	p->data++;
	if (rfc822_skip_lwsp(p) <= 0)
		return truncate_to(out, orig);
	sb_addc(out, '/');
	/* the subtype: not empty, and only parameters may follow it */
	size_t sub = out->len;
	ret = rfc822_parse_mime_token(p, out);
	if (ret < 0 || out->len == sub || (ret > 0 && *p->data != ';'))
		return truncate_to(out, orig);
	return ret;
}

int rfc822_parse_content_param(struct rfc822_parser *p, struct strbuf *key, struct strbuf *value)
{
	sb_reset(key);
	sb_reset(value);
	if (p->data == p->end)
		return 0;
	if (*p->data != ';')
		return -1;
	p->data++;
	if (rfc822_skip_lwsp(p) <= 0)
		return -1;
	if (rfc822_parse_mime_token(p, key) <= 0)
		return -1;
	if (*p->data != '=')
		return -1;
	p->data++;

	int ret = rfc822_skip_lwsp(p);
	if (ret <= 0) {
		/* no value */
	} else if (*p->data == '"') {
		ret = rfc822_parse_quoted_string(p, value);
	} else if (*p->data == '=') {
		/* broken input seen in the wild: name==?utf-8?b?...?= */
		while (p->data != p->end && *p->data != ';' && *p->data != ' ' &&
		       *p->data != '\t' && *p->data != '\r' && *p->data != '\n') {
			sb_addc(value, (char)*p->data);
			p->data++;
		}
	} else {
		ret = rfc822_parse_mime_token(p, value);
	}
	return ret < 0 ? -1 : 1;
}
