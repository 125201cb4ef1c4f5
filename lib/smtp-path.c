/* RFC 5321 §4.1.2 Path/Mailbox grammar as a small recursive-descent parser
 * over a bounded string. Every copy is bounded by the RFC limits, checked
 * before writing. */
#include "smtp-path.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>
#include <strings.h>

/* Length of the well-formed UTF-8 sequence starting at s (a lead octet
 * >= 0x80), or 0 when it is malformed. s is NUL-terminated, so reading
 * continuation octets stops at the NUL (which is no continuation). */
static size_t utf8_seq(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n;
	unsigned min_second = 0x80, max_second = 0xbf;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			min_second = 0xa0; /* overlong */
		else if (c == 0xed)
			max_second = 0x9f; /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			min_second = 0x90;
		else if (c == 0xf4)
			max_second = 0x8f; /* > U+10FFFF */
	} else {
		return 0;
	}
	if (s[1] < min_second || s[1] > max_second)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

bool smtp_utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		/* utf8_seq reads up to 4 octets: check they are inside len */
		unsigned char tmp[5] = { 0 };
		size_t avail = len - i < 4 ? len - i : 4;
		memcpy(tmp, s + i, avail);
		size_t n = utf8_seq(tmp);
		if (n == 0 || n > avail)
			return false;
		i += n;
	}
	return true;
}

static bool is_atext(unsigned char c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* Bounded output: append n octets, fail when they would not fit. */
struct out {
	char *buf;
	size_t len, max; /* max excludes the NUL */
};

static bool out_add(struct out *o, const char *s, size_t n)
{
	if (n > o->max - o->len)
		return false;
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
	return true;
}

/* Local-part = Dot-string / Quoted-string. Fills p->local (unquoted) and
 * appends the wire form to *wire. */
static int parse_local(const char **sp, struct smtp_path *p, struct out *wire)
{
	const unsigned char *s = (const unsigned char *)*sp;
	struct out plain = { p->local, 0, SMTP_LOCAL_MAX };
	size_t wire_start = wire->len;
	p->local[0] = '\0';
	if (*s == '"') {
		p->quoted = true;
		if (!out_add(wire, "\"", 1))
			return -1;
		s++;
		for (;;) {
			unsigned char c = *s;
			if (c == '"')
				break;
			if (c == '\\') {
				if (s[1] < 32 || s[1] > 126)
					return -1;
				if (!out_add(wire, (const char *)s, 2) ||
				    !out_add(&plain, (const char *)s + 1, 1))
					return -1;
				s += 2;
			} else if (c >= 0x80) {
				size_t n = utf8_seq(s);
				if (n == 0)
					return -1;
				p->non_ascii = true;
				if (!out_add(wire, (const char *)s, n) || !out_add(&plain, (const char *)s, n))
					return -1;
				s += n;
			} else if (c >= 32 && c <= 126) { /* qtextSMTP: all but '"' and '\\' */
				if (!out_add(wire, (const char *)s, 1) || !out_add(&plain, (const char *)s, 1))
					return -1;
				s++;
			} else {
				return -1; /* controls, NUL (unterminated) */
			}
		}
		s++; /* closing quote */
		if (!out_add(wire, "\"", 1))
			return -1;
	} else {
		bool need_atext = true; /* at the start and after a dot */
		for (;;) {
			unsigned char c = *s;
			size_t n;
			if (is_atext(c)) {
				n = 1;
			} else if (c >= 0x80) {
				n = utf8_seq(s);
				if (n == 0)
					return -1;
				p->non_ascii = true;
			} else if (c == '.' && !need_atext) {
				n = 1;
				if (!out_add(wire, ".", 1) || !out_add(&plain, ".", 1))
					return -1;
				s++;
				need_atext = true;
				continue;
			} else {
				break;
			}
			if (!out_add(wire, (const char *)s, n) || !out_add(&plain, (const char *)s, n))
				return -1;
			s += n;
			need_atext = false;
		}
		if (need_atext) /* empty, or ends in a dot */
			return -1;
	}
	if (wire->len - wire_start > SMTP_LOCAL_MAX)
		return -1;
	*sp = (const char *)s;
	return 0;
}

/* Domain = sub-domain *("." sub-domain), sub-domain = Let-dig [Ldh-str];
 * U-labels (UTF-8) are allowed and flagged. */
static int parse_domain(const char **sp, struct smtp_path *p, struct out *wire, char *dom)
{
	const unsigned char *s = (const unsigned char *)*sp;
	struct out d = { dom, 0, SMTP_DOMAIN_MAX };
	dom[0] = '\0';
	for (;;) {
		size_t label = 0;
		bool last_hyphen = false;
		for (;;) {
			unsigned char c = *s;
			size_t n;
			if (isalnum(c)) {
				n = 1;
				last_hyphen = false;
			} else if (c == '-' && label > 0) {
				n = 1;
				last_hyphen = true;
			} else if (c >= 0x80) {
				n = utf8_seq(s);
				if (n == 0)
					return -1;
				p->non_ascii = true;
				last_hyphen = false;
			} else {
				break;
			}
			if (!out_add(&d, (const char *)s, n))
				return -1;
			s += n;
			label += n;
		}
		if (label == 0 || label > 63 || last_hyphen)
			return -1;
		if (*s != '.' || !(isalnum(s[1]) || s[1] >= 0x80))
			break;
		if (!out_add(&d, ".", 1))
			return -1;
		s++;
	}
	if (!out_add(wire, dom, d.len))
		return -1;
	*sp = (const char *)s;
	return 0;
}

/* address-literal: "[" IPv4 / "IPv6:" IPv6 "]"; general literals are
 * refused (nothing here could deliver to them). */
static int parse_literal(const char **sp, struct out *wire, char *dom)
{
	const char *s = *sp;
	const char *end = strchr(s, ']');
	if (!end || end - s - 1 > 64 || end - s - 1 < 1)
		return -1;
	char inner[65];
	memcpy(inner, s + 1, (size_t)(end - s - 1));
	inner[end - s - 1] = '\0';
	unsigned char addr[16];
	if (strncasecmp(inner, "IPv6:", 5) == 0) {
		if (inet_pton(AF_INET6, inner + 5, addr) != 1)
			return -1;
	} else if (inet_pton(AF_INET, inner, addr) != 1) {
		return -1;
	}
	size_t n = (size_t)(end - s + 1);
	memcpy(dom, s, n);
	dom[n] = '\0';
	if (!out_add(wire, dom, n))
		return -1;
	*sp = end + 1;
	return 0;
}

/* Mailbox = Local-part "@" ( Domain / address-literal ) */
static int parse_mailbox(const char **sp, unsigned flags, struct smtp_path *p)
{
	struct out wire = { p->addr, 0, SMTP_PATH_MAX - 2 };
	const char *s = *sp;
	if (parse_local(&s, p, &wire) < 0)
		return -1;
	if (*s != '@') {
		/* RFC 5321 §4.1.1.3: "<Postmaster>" must be accepted */
		if ((flags & SMTP_PATH_POSTMASTER_OK) && !p->quoted &&
		    strcasecmp(p->local, "postmaster") == 0) {
			*sp = s;
			return 0;
		}
		return -1;
	}
	s++;
	if (!out_add(&wire, "@", 1))
		return -1;
	if (*s == '[') {
		if (parse_literal(&s, &wire, p->domain) < 0)
			return -1;
		p->literal = true;
	} else if (parse_domain(&s, p, &wire, p->domain) < 0) {
		return -1;
	}
	*sp = s;
	return 0;
}

/* A-d-l = At-domain *( "," At-domain ) ":" — parsed and dropped. */
static int skip_source_route(const char **sp)
{
	const char *s = *sp;
	struct smtp_path scratch;
	for (;;) {
		if (*s != '@')
			return -1;
		s++;
		memset(&scratch, 0, sizeof scratch);
		struct out w = { scratch.addr, 0, SMTP_PATH_MAX };
		if (*s == '[') {
			if (parse_literal(&s, &w, scratch.domain) < 0)
				return -1;
		} else if (parse_domain(&s, &scratch, &w, scratch.domain) < 0) {
			return -1;
		}
		if (*s == ':')
			break;
		if (*s != ',')
			return -1;
		s++;
	}
	*sp = s + 1;
	return 0;
}

int smtp_path_parse(const char *s, unsigned flags, struct smtp_path *p, const char **params_r)
{
	memset(p, 0, sizeof *p);
	while (*s == ' ')
		s++;
	if (*s == '<') {
		const char *start = s;
		s++;
		if (*s == '>') {
			if (!(flags & SMTP_PATH_NULL_OK))
				return -1;
			p->null = true;
			s++;
		} else {
			if (*s == '@' && skip_source_route(&s) < 0)
				return -1;
			if (parse_mailbox(&s, flags, p) < 0 || *s != '>')
				return -1;
			s++;
		}
		if ((size_t)(s - start) > SMTP_PATH_MAX)
			return -1;
	} else {
		/* lenient: a bare mailbox, as sloppy clients send it */
		if (parse_mailbox(&s, flags, p) < 0)
			return -1;
	}
	if (*s != '\0' && *s != ' ')
		return -1;
	while (*s == ' ')
		s++;
	*params_r = s;
	return 0;
}

int smtp_param_next(const char **sp, char *kw, size_t kwlen, char *val, size_t vallen,
		    bool *has_value_r)
{
	const unsigned char *s = (const unsigned char *)*sp;
	size_t k = 0, v = 0;
	*has_value_r = false;
	while (*s == ' ')
		s++;
	if (*s == '\0') {
		*sp = (const char *)s;
		return 0;
	}
	/* esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-") */
	if (!isalnum(*s))
		return -1;
	while (isalnum(*s) || *s == '-') {
		if (k + 1 >= kwlen)
			return -1;
		kw[k++] = (char)toupper(*s);
		s++;
	}
	kw[k] = '\0';
	if (*s == '=') {
		s++;
		/* esmtp-value = 1*(%d33-60 / %d62-126), UTF-8 allowed (RFC 6531) */
		while (*s && *s != ' ') {
			size_t n = 1;
			if (*s >= 0x80) {
				n = utf8_seq(s);
				if (n == 0)
					return -1;
			} else if (*s < 33 || *s == '=' || *s > 126) {
				return -1;
			}
			if (n >= vallen - v)
				return -1;
			memcpy(val + v, s, n);
			v += n;
			s += n;
		}
		if (v == 0)
			return -1;
		*has_value_r = true;
	}
	if (vallen > 0)
		val[v] = '\0';
	if (*s != '\0' && *s != ' ')
		return -1;
	*sp = (const char *)s;
	return 1;
}

bool smtp_helo_valid(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 255)
		return false;
	if (name[0] == '[') {
		if (name[n - 1] != ']')
			return false;
		for (size_t i = 1; i + 1 < n; i++) {
			unsigned char c = (unsigned char)name[i];
			if (!isalnum(c) && c != '.' && c != ':')
				return false;
		}
		return n > 2;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (!isalnum(c) && c != '-' && c != '_' && c != '.')
			return false;
	}
	return true;
}
