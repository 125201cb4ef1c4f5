/* Header values as SEARCH compares them (RFC 3501 §6.4.4: after MIME
 * decoding): RFC 2047 encoded words ("=?charset?B|Q?text?=") are decoded
 * and converted to UTF-8 with iconv; white space between two adjacent
 * encoded words is dropped. Anything malformed is kept as it was. */
#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <string.h>
#include <strings.h>

#include "imapd.h"

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (unsigned char)toupper(c);
	return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Decode the encoded text T (LEN) of encoding ENC into OUT; -1 if bad. */
static int decode_text(char enc, const char *t, size_t len, struct strbuf *out)
{
	if (enc == 'Q' || enc == 'q') {
		for (size_t i = 0; i < len; i++) {
			if (t[i] == '_') {
				sb_addc(out, ' ');
			} else if (t[i] == '=' && i + 2 < len && hexval((unsigned char)t[i + 1]) >= 0 &&
				   hexval((unsigned char)t[i + 2]) >= 0) {
				sb_addc(out, (char)(hexval((unsigned char)t[i + 1]) * 16 +
						    hexval((unsigned char)t[i + 2])));
				i += 2;
			} else {
				sb_addc(out, t[i]);
			}
		}
		return 0;
	}
	if (enc != 'B' && enc != 'b')
		return -1;
	uint32_t bits = 0;
	int nbits = 0;
	for (size_t i = 0; i < len && t[i] != '='; i++) {
		int v = b64val((unsigned char)t[i]);
		if (v < 0)
			return -1;
		bits = (bits << 6) | (uint32_t)v;
		nbits += 6;
		if (nbits >= 8) {
			nbits -= 8;
			sb_addc(out, (char)((bits >> nbits) & 0xff));
		}
	}
	return 0;
}

/* Append RAW (LEN) in CHARSET to OUT as UTF-8 (raw when unknown). */
static void to_utf8(const char *charset, const char *raw, size_t len, struct strbuf *out)
{
	iconv_t cd = iconv_open("UTF-8", charset);
	if (cd == (iconv_t)-1) {
		sb_add(out, raw, len);
		return;
	}
	char *in = (char *)raw;
	size_t inleft = len;
	while (inleft > 0) {
		char buf[1024], *o = buf;
		size_t oleft = sizeof buf;
		size_t r = iconv(cd, &in, &inleft, &o, &oleft);
		sb_add(out, buf, (size_t)(o - buf));
		if (r == (size_t)-1 && errno != E2BIG) {
			sb_add(out, in, inleft); /* invalid input: keep the rest raw */
			break;
		}
	}
	iconv_close(cd);
}

/* Try one encoded word at P (P < END, *P == '='); on success append its
 * text to OUT and return the position after "?="; else NULL. */
static const char *encoded_word(const char *p, const char *end, struct strbuf *out)
{
	if (end - p < 8 || p[1] != '?')
		return NULL;
	const char *cs = p + 2, *q = memchr(cs, '?', (size_t)(end - cs));
	if (!q || q == cs || q - cs > 64 || end - q < 4 || q[2] != '?')
		return NULL;
	char enc = q[1];
	const char *text = q + 3;
	const char *close = NULL;
	for (const char *x = text; x + 1 < end; x++) {
		if (x[0] == '?' && x[1] == '=') {
			close = x;
			break;
		}
		if (isspace((unsigned char)*x))
			return NULL;
	}
	if (!close)
		return NULL;
	char charset[65];
	size_t cl = (size_t)(q - cs);
	memcpy(charset, cs, cl);
	charset[cl] = '\0';
	char *star = strchr(charset, '*'); /* RFC 2231 language suffix */
	if (star)
		*star = '\0';
	struct strbuf raw = STRBUF_INIT;
	if (decode_text(enc, text, (size_t)(close - text), &raw) < 0) {
		sb_free(&raw);
		return NULL;
	}
	to_utf8(charset, raw.s ? raw.s : "", raw.len, out);
	sb_free(&raw);
	return close + 2;
}

void imap_decode_header(const char *s, size_t len, struct strbuf *out)
{
	const char *p = s, *end = s + len;
	const char *pending_ws = NULL; /* white space after an encoded word */
	bool after_word = false;
	while (p < end) {
		if (*p == '=' && p + 1 < end && p[1] == '?') {
			const char *next = encoded_word(p, end, out);
			if (next) {
				p = next;
				pending_ws = NULL;
				after_word = true;
				continue;
			}
		}
		if (isspace((unsigned char)*p) && after_word) {
			/* keep it only if no encoded word follows */
			if (!pending_ws)
				pending_ws = p;
			p++;
			continue;
		}
		if (pending_ws) {
			sb_add(out, pending_ws, (size_t)(p - pending_ws));
			pending_ws = NULL;
		}
		after_word = false;
		sb_addc(out, *p++);
	}
	if (pending_ws)
		sb_add(out, pending_ws, (size_t)(end - pending_ws));
}

/* Content-Transfer-Encoding of a body part undone: quoted-printable
 * (soft line breaks removed) and base64 (line ends and junk skipped). */
static void decode_cte(const char *enc, const char *s, size_t len, struct strbuf *out)
{
	if (enc && strcasecmp(enc, "base64") == 0) {
		uint32_t bits = 0;
		int nbits = 0;
		for (size_t i = 0; i < len && s[i] != '='; i++) {
			int v = b64val((unsigned char)s[i]);
			if (v < 0)
				continue;
			bits = (bits << 6) | (uint32_t)v;
			nbits += 6;
			if (nbits >= 8) {
				nbits -= 8;
				sb_addc(out, (char)((bits >> nbits) & 0xff));
			}
		}
		return;
	}
	if (enc && strcasecmp(enc, "quoted-printable") == 0) {
		for (size_t i = 0; i < len; i++) {
			if (s[i] != '=') {
				sb_addc(out, s[i]);
			} else if (i + 2 < len && s[i + 1] == '\r' && s[i + 2] == '\n') {
				i += 2;
			} else if (i + 1 < len && s[i + 1] == '\n') {
				i += 1;
			} else if (i + 2 < len && hexval((unsigned char)s[i + 1]) >= 0 &&
				   hexval((unsigned char)s[i + 2]) >= 0) {
				sb_addc(out, (char)(hexval((unsigned char)s[i + 1]) * 16 +
						    hexval((unsigned char)s[i + 2])));
				i += 2;
			} else {
				sb_addc(out, '=');
			}
		}
		return;
	}
	sb_add(out, s, len);
}

static const char *param(const struct mime_part *p, const char *name)
{
	for (size_t i = 0; i < p->nparams; i++)
		if (strcasecmp(p->params[i].name, name) == 0)
			return p->params[i].value;
	return NULL;
}

void imap_decode_body(const char *msg, const struct mime_part *part, struct strbuf *out)
{
	if (part->nchildren) {
		for (size_t i = 0; i < part->nchildren; i++)
			imap_decode_body(msg, &part->children[i], out);
		return;
	}
	if (part->message) {
		imap_decode_header(msg + part->message->hdr_off, part->message->hdr_len, out);
		imap_decode_body(msg, part->message, out);
		return;
	}
	if (strcmp(part->type, "text") != 0)
		return;
	struct strbuf raw = STRBUF_INIT;
	decode_cte(part->encoding, msg + part->body_off, part->body_len, &raw);
	const char *cs = param(part, "charset");
	if (cs && strcasecmp(cs, "utf-8") != 0 && strcasecmp(cs, "us-ascii") != 0)
		to_utf8(cs, raw.s ? raw.s : "", raw.len, out);
	else
		sb_add(out, raw.s ? raw.s : "", raw.len);
	sb_addc(out, '\n');
	sb_free(&raw);
}
