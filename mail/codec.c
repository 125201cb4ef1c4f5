#include "codec.h"

#include <string.h>
#include <strings.h>

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void b64_encode(struct strbuf *out, const void *in, size_t n)
{
	const unsigned char *p = in;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		sb_addc(out, b64[(v >> 18) & 63]);
		sb_addc(out, b64[(v >> 12) & 63]);
		sb_addc(out, i + 1 < n ? b64[(v >> 6) & 63] : '=');
		sb_addc(out, i + 2 < n ? b64[v & 63] : '=');
	}
}

static int b64_value(char c)
{
	const char *p = c ? strchr(b64, c) : NULL;
	return p ? (int)(p - b64) : -1;
}

int b64_decode(struct strbuf *out, const char *in, size_t n)
{
	unsigned acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		char c = in[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c == '=')
			break;
		int v = b64_value(c);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			sb_addc(out, (char)((acc >> bits) & 0xff));
		}
	}
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

void qp_decode(struct strbuf *out, const char *in, size_t n, bool header_q)
{
	size_t i = 0;
	while (i < n) {
		char c = in[i];
		if (header_q && c == '_') {
			sb_addc(out, ' ');
			i++;
		} else if (c == '=' && i + 2 < n + 0 && hexval(in[i + 1]) >= 0 && hexval(in[i + 2]) >= 0) {
			sb_addc(out, (char)(hexval(in[i + 1]) * 16 + hexval(in[i + 2])));
			i += 3;
		} else if (c == '=' && !header_q) {
			/* soft line break: "=" then optional blanks then CRLF/LF */
			size_t j = i + 1;
			while (j < n && (in[j] == ' ' || in[j] == '\t'))
				j++;
			if (j < n && in[j] == '\r')
				j++;
			if (j < n && in[j] == '\n') {
				i = j + 1;
			} else if (j == n) {
				i = n;
			} else {
				sb_addc(out, c);
				i++;
			}
		} else {
			sb_addc(out, c);
			i++;
		}
	}
}

/* Length of the UTF-8 sequence at s (1..4), or 0 when invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	unsigned min;
	unsigned cp;
	if (c < 0x80)
		return 1;
	if ((c & 0xe0) == 0xc0) {
		len = 2; min = 0x80; cp = c & 0x1f;
	} else if ((c & 0xf0) == 0xe0) {
		len = 3; min = 0x800; cp = c & 0x0f;
	} else if ((c & 0xf8) == 0xf0) {
		len = 4; min = 0x10000; cp = c & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

bool utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		size_t l = utf8_seq(p + i, n - i);
		if (l == 0)
			return false;
		i += l;
	}
	return true;
}

bool has_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

bool has_8bit(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return true;
	return false;
}

static bool needs_encoding(const char *v)
{
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p >= 0x7f || (*p < 0x20 && *p != '\t'))
			return true;
	/* text that looks like an encoded-word must be encoded itself */
	return strstr(v, "=?") != NULL;
}

/* Octets per B word: 39 octets -> 52 base64 chars -> a 64-octet word, so
 * "Subject: " + word and " " + word both stay under 76. */
#define RFC2047_CHUNK 39

void rfc2047_header(struct strbuf *out, const char *name, const char *value)
{
	size_t n = strlen(value);
	sb_adds(out, name);
	sb_adds(out, ":");
	if (!needs_encoding(value)) {
		/* fold plain text at spaces once a line passes 78 octets */
		size_t col = strlen(name) + 1;
		const char *p = value;
		while (*p) {
			const char *sp = strchr(p + 1, ' ');
			size_t wl = sp ? (size_t)(sp - p) : strlen(p);
			if (p != value && col + wl > 78 && *p == ' ') {
				sb_adds(out, "\r\n");
				col = 0;
			} else if (p == value) {
				sb_addc(out, ' ');
				col++;
			}
			sb_add(out, p, wl);
			col += wl;
			p += wl;
		}
		sb_adds(out, "\r\n");
		return;
	}
	bool valid = utf8_valid(value, n);
	const unsigned char *p = (const unsigned char *)value;
	size_t i = 0;
	bool first = true;
	while (i < n) {
		size_t take = 0;
		while (i + take < n) {
			size_t l = valid ? utf8_seq(p + i + take, n - i - take) : 1;
			if (l == 0)
				l = 1;
			if (take + l > RFC2047_CHUNK)
				break;
			take += l;
		}
		sb_adds(out, first ? " " : "\r\n ");
		sb_adds(out, valid ? "=?UTF-8?B?" : "=?UNKNOWN-8BIT?B?");
		b64_encode(out, p + i, take);
		sb_adds(out, "?=");
		i += take;
		first = false;
	}
	if (first)
		sb_addc(out, ' ');
	sb_adds(out, "\r\n");
}

static void latin1_to_utf8(struct strbuf *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x80) {
			sb_addc(out, (char)c);
		} else {
			sb_addc(out, (char)(0xc0 | (c >> 6)));
			sb_addc(out, (char)(0x80 | (c & 0x3f)));
		}
	}
}

/* Try to decode one encoded-word "=?cs?e?text?=" at in[0..n). On success
 * appends the decoded text and returns its length in the input, else 0. */
static size_t decode_word(struct strbuf *out, const char *in, size_t n)
{
	if (n < 8 || in[0] != '=' || in[1] != '?')
		return 0;
	size_t i = 2, cs = i;
	while (i < n && in[i] != '?' && in[i] != ' ')
		i++;
	if (i + 2 >= n || in[i] != '?' || i == cs)
		return 0;
	size_t cslen = i - cs;
	char enc = in[i + 1];
	if (in[i + 2] != '?')
		return 0;
	size_t t = i + 3, te = t;
	while (te + 1 < n && !(in[te] == '?' && in[te + 1] == '=')) {
		if (in[te] == ' ' || in[te] == '\t')
			return 0;
		te++;
	}
	if (te + 1 >= n)
		return 0;
	struct strbuf raw = STRBUF_INIT;
	if (enc == 'B' || enc == 'b') {
		if (b64_decode(&raw, in + t, te - t) < 0) {
			sb_free(&raw);
			return 0;
		}
	} else if (enc == 'Q' || enc == 'q') {
		qp_decode(&raw, in + t, te - t, true);
	} else {
		return 0;
	}
	/* RFC 2231 language suffix: "utf-8*en" */
	const char *star = memchr(in + cs, '*', cslen);
	if (star)
		cslen = (size_t)(star - (in + cs));
	if ((cslen == 10 && strncasecmp(in + cs, "iso-8859-1", 10) == 0) ||
	    (cslen == 12 && strncasecmp(in + cs, "windows-1252", 12) == 0))
		latin1_to_utf8(out, raw.s ? raw.s : "", raw.len);
	else
		sb_add(out, raw.s ? raw.s : "", raw.len);
	sb_free(&raw);
	return te + 2;
}

void rfc2047_decode(struct strbuf *out, const char *in, size_t n)
{
	size_t i = 0;
	bool prev_word = false;
	while (i < n) {
		size_t used = decode_word(out, in + i, n - i);
		if (used) {
			i += used;
			prev_word = true;
			continue;
		}
		if (prev_word && (in[i] == ' ' || in[i] == '\t')) {
			/* drop blanks only when another encoded-word follows */
			size_t j = i;
			while (j < n && (in[j] == ' ' || in[j] == '\t'))
				j++;
			struct strbuf probe = STRBUF_INIT;
			size_t next = decode_word(&probe, in + j, n - j);
			sb_free(&probe);
			if (next) {
				i = j;
				continue;
			}
		}
		prev_word = false;
		sb_addc(out, in[i]);
		i++;
	}
}

void sanitize_text(struct strbuf *out, const char *s, size_t n, bool keep_newlines)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\t' || (c == '\n' && keep_newlines))
			sb_addc(out, (char)c);
		else if (c < 0x20 || c == 0x7f)
			sb_addc(out, '?');
		else
			sb_addc(out, (char)c);
	}
}
