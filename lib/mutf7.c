/* Modified UTF-7: printable ASCII stands for itself ("&" as "&-"); other
 * characters are UTF-16 in modified BASE64 (',' for '/') between '&' and
 * '-'. Decoding is the validation: a name that decodes is valid. */
#include "mutf7.h"

#include <stdint.h>

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == ',')
		return 63;
	return -1;
}

static void put_utf8(struct strbuf *out, uint32_t cp)
{
	char b[4];
	size_t n;
	if (cp < 0x80) {
		b[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (char)(0xf0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	sb_add(out, b, n);
}

/* Decode one base64 run starting after '&'; *pp ends after its '-'. */
static int decode_run(const unsigned char **pp, struct strbuf *out)
{
	const unsigned char *p = *pp;
	uint32_t bits = 0, high = 0;
	int nbits = 0;
	size_t units = 0;
	for (; *p != '-'; p++) {
		int v = b64val(*p);
		if (v < 0)
			return -1;
		bits = (bits << 6) | (uint32_t)v;
		nbits += 6;
		if (nbits < 16)
			continue;
		nbits -= 16;
		uint32_t u = (bits >> nbits) & 0xffff;
		bits &= (1u << nbits) - 1;
		units++;
		if (high) {
			if (u < 0xdc00 || u > 0xdfff)
				return -1;
			put_utf8(out, 0x10000 + ((high - 0xd800) << 10) + (u - 0xdc00));
			high = 0;
		} else if (u >= 0xd800 && u <= 0xdbff) {
			high = u;
		} else if (u >= 0xdc00 && u <= 0xdfff) {
			return -1;
		} else if (u >= 0x20 && u <= 0x7e) {
			return -1; /* must have been written directly */
		} else if (u < 0x20 || u == 0x7f || (u >= 0x80 && u <= 0x9f)) {
			return -1; /* control characters have no place in a name */
		} else {
			put_utf8(out, u);
		}
	}
	/* "&-" is handled by the caller; an empty run here is invalid, as are
	 * leftover non-zero bits, more than 4 leftover bits, or a lone high
	 * surrogate. */
	if (units == 0 || high || nbits >= 6 || bits != 0)
		return -1;
	*pp = p + 1;
	return 0;
}

int mutf7_to_utf8(const char *name, struct strbuf *out)
{
	const unsigned char *p = (const unsigned char *)name;
	while (*p) {
		if (*p < 0x20 || *p > 0x7e)
			return -1;
		if (*p != '&') {
			sb_addc(out, (char)*p++);
			continue;
		}
		p++;
		if (*p == '-') {
			sb_addc(out, '&');
			p++;
			continue;
		}
		if (decode_run(&p, out) < 0)
			return -1;
		if (*p == '&' && p[1] != '-')
			return -1; /* two adjacent runs must be one */
	}
	return 0;
}

bool mutf7_valid(const char *name)
{
	struct strbuf sb = STRBUF_INIT;
	bool ok = mutf7_to_utf8(name, &sb) == 0;
	sb_free(&sb);
	return ok;
}
