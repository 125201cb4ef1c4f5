#include "sasl.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "log.h"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Value of a base64 digit, or -1. */
static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int sasl_base64_decode(const char *in, size_t inlen, unsigned char *out, size_t outmax,
		       size_t *outlen_r)
{
	size_t n = 0;
	*outlen_r = 0;
	if (outmax == 0)
		return SASL_TOO_LONG;
	out[0] = '\0';
	if (inlen == 0 || (inlen == 1 && in[0] == '='))
		return SASL_OK;
	if (inlen % 4 != 0)
		return SASL_BAD_BASE64;
	for (size_t i = 0; i < inlen; i += 4) {
		bool last = i + 4 == inlen;
		int v[4];
		size_t pad = 0;
		for (size_t k = 0; k < 4; k++) {
			unsigned char c = (unsigned char)in[i + k];
			if (c == '=' && last && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad) /* "a=b=" or "ab=c": data after padding */
				return SASL_BAD_BASE64;
			v[k] = b64_value(c);
			if (v[k] < 0)
				return SASL_BAD_BASE64;
		}
		uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
			     (uint32_t)v[3];
		/* canonical: the bits the padding leaves over must be zero */
		if ((pad == 1 && (w & 0xff)) || (pad == 2 && (w & 0xffff)))
			return SASL_BAD_BASE64;
		size_t got = 3 - pad;
		if (got > outmax - 1 - n)
			return SASL_TOO_LONG;
		unsigned char b[3] = { (unsigned char)(w >> 16), (unsigned char)(w >> 8),
				       (unsigned char)w };
		memcpy(out + n, b, got);
		n += got;
	}
	out[n] = '\0';
	*outlen_r = n;
	return SASL_OK;
}

size_t sasl_base64_encode(const void *in, size_t len, char *out, size_t outmax)
{
	const unsigned char *p = in;
	size_t groups = len / 3 + (len % 3 != 0);
	size_t need;
	if (__builtin_mul_overflow(groups, 4, &need) || need >= outmax)
		return 0;
	size_t o = 0;
	for (size_t i = 0; i < len; i += 3) {
		size_t left = len - i;
		uint32_t w = (uint32_t)p[i] << 16;
		if (left > 1)
			w |= (uint32_t)p[i + 1] << 8;
		if (left > 2)
			w |= p[i + 2];
		out[o++] = b64[w >> 18 & 63];
		out[o++] = b64[w >> 12 & 63];
		out[o++] = left > 1 ? b64[w >> 6 & 63] : '=';
		out[o++] = left > 2 ? b64[w & 63] : '=';
	}
	out[o] = '\0';
	return o;
}

int sasl_plain_split(unsigned char *msg, size_t len, struct sasl_plain *p)
{
	unsigned char *nul1 = memchr(msg, '\0', len);
	if (!nul1)
		return SASL_MALFORMED;
	size_t rest = len - (size_t)(nul1 - msg) - 1;
	unsigned char *nul2 = memchr(nul1 + 1, '\0', rest);
	if (!nul2)
		return SASL_MALFORMED;
	/* a third NUL would be inside the password */
	size_t plen = len - (size_t)(nul2 - msg) - 1;
	if (memchr(nul2 + 1, '\0', plen))
		return SASL_MALFORMED;
	size_t zlen = (size_t)(nul1 - msg), clen = (size_t)(nul2 - nul1) - 1;
	if (clen == 0 || plen == 0)
		return SASL_MALFORMED;
	if (zlen > SASL_NAME_MAX || clen > SASL_NAME_MAX || plen > SASL_PASS_MAX)
		return SASL_TOO_LONG;
	p->authzid = (const char *)msg;
	p->authcid = (const char *)nul1 + 1;
	p->passwd = (const char *)nul2 + 1;
	if (zlen && (zlen != clen || strncasecmp(p->authzid, p->authcid, clen) != 0))
		return SASL_AUTHZID;
	return SASL_OK;
}

bool sasl_name_valid(const unsigned char *name, size_t len)
{
	return len > 0 && len <= SASL_NAME_MAX && !memchr(name, '\0', len);
}

void sasl_log_failure(const char *proto, const char *peer, const char *user, const char *mech,
		      const char *reason, unsigned failures)
{
	static const char hex[] = "0123456789abcdef";
	char safe[64 * 4 + 4];
	size_t o = 0, i;
	for (i = 0; user && user[i] && i < 64; i++) {
		unsigned char c = (unsigned char)user[i];
		if (c > ' ' && c < 0x7f && c != '"' && c != '\\' && c != '=') {
			safe[o++] = (char)c;
		} else {
			safe[o++] = '\\';
			safe[o++] = 'x';
			safe[o++] = hex[c >> 4];
			safe[o++] = hex[c & 15];
		}
	}
	if (user && user[i])
		safe[o++] = '+'; /* cut */
	safe[o] = '\0';
	log_warn("auth failed: proto=%s peer=%s user=%s mech=%s reason=%s failures=%u", proto,
		 peer, o ? safe : "-", mech, reason, failures);
}

void sasl_wipe(void *p, size_t len)
{
	explicit_bzero(p, len);
}
