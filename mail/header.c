#include "header.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

size_t hdr_body_offset(const char *msg, size_t len)
{
	/* an empty line right at the start means no header */
	size_t i = 0;
	while (i < len) {
		const char *nl = memchr(msg + i, '\n', len - i);
		if (!nl)
			return len;
		size_t lstart = i, lend = (size_t)(nl - msg);
		if (lend == lstart || (lend == lstart + 1 && msg[lstart] == '\r'))
			return lend + 1;
		i = lend + 1;
	}
	return len;
}

bool hdr_get_nth(const char *msg, size_t len, const char *name, size_t index, struct strbuf *val)
{
	size_t hlen = hdr_body_offset(msg, len);
	size_t nl = strlen(name);
	size_t i = 0;
	sb_reset(val);
	while (i < hlen) {
		const char *eol = memchr(msg + i, '\n', hlen - i);
		size_t lend = eol ? (size_t)(eol - msg) : hlen;
		bool match = lend - i > nl && strncasecmp(msg + i, name, nl) == 0 && msg[i + nl] == ':';
		if (!match || index-- > 0) {
			i = lend + 1;
			continue;
		}
		/* collect this line and its continuation lines */
		size_t p = i + nl + 1;
		for (;;) {
			size_t e = lend;
			if (e > p && msg[e - 1] == '\r')
				e--;
			sb_add(val, msg + p, e - p);
			p = lend + 1;
			if (p >= hlen || (msg[p] != ' ' && msg[p] != '\t'))
				break;
			eol = memchr(msg + p, '\n', hlen - p);
			lend = eol ? (size_t)(eol - msg) : hlen;
		}
		/* trim */
		size_t s = 0, e = val->len;
		while (s < e && (val->s[s] == ' ' || val->s[s] == '\t'))
			s++;
		while (e > s && (val->s[e - 1] == ' ' || val->s[e - 1] == '\t'))
			e--;
		memmove(val->s, val->s + s, e - s);
		val->len = e - s;
		val->s[val->len] = '\0';
		return true;
	}
	return false;
}

bool hdr_get(const char *msg, size_t len, const char *name, struct strbuf *val)
{
	return hdr_get_nth(msg, len, name, 0, val);
}

static bool addr_char(char c)
{
	return c > ' ' && c < 0x7f && !strchr("<>()[],;:\\\"", c);
}

bool addr_valid(const char *s)
{
	const char *at = strchr(s, '@');
	if (!at || at == s || at[1] == '\0' || strchr(at + 1, '@'))
		return false;
	for (const char *p = s; *p; p++)
		if (*p != '@' && !addr_char(*p))
			return false;
	return strlen(s) <= 254;
}

/* Extract the addr-spec from one list element (a "mailbox"). */
static bool element_address(const char *e, size_t n, char *out, size_t outlen)
{
	const char *lt = memchr(e, '<', n);
	const char *s, *end;
	if (lt) {
		const char *gt = memchr(lt, '>', n - (size_t)(lt - e));
		if (!gt)
			return false;
		s = lt + 1;
		end = gt;
	} else {
		/* the word holding '@' */
		const char *at = memchr(e, '@', n);
		if (!at)
			return false;
		s = at;
		while (s > e && addr_char(s[-1]))
			s--;
		end = at + 1;
		while (end < e + n && addr_char(*end))
			end++;
	}
	size_t l = (size_t)(end - s);
	if (l == 0 || l >= outlen)
		return false;
	memcpy(out, s, l);
	out[l] = '\0';
	return strchr(out, '@') != NULL;
}

/* Walk an address list, calling back per element; honours quotes,
 * comments and angle brackets so commas inside them do not split. */
static size_t walk_list(const char *v, bool (*cb)(void *, const char *, size_t), void *arg)
{
	size_t n = 0;
	const char *start = v;
	bool quoted = false;
	int comment = 0, angle = 0;
	for (const char *p = v;; p++) {
		char c = *p;
		if (c == '\0' || (!quoted && !comment && !angle && (c == ',' || c == ';' || c == ':'))) {
			const char *s = start;
			size_t l = (size_t)(p - start);
			if (c == ':') {
				/* group name: skip it */
				start = p + 1;
				continue;
			}
			if (l && cb(arg, s, l))
				n++;
			if (c == '\0')
				break;
			start = p + 1;
			continue;
		}
		if (c == '\\' && p[1]) {
			p++;
		} else if (quoted) {
			if (c == '"')
				quoted = false;
		} else if (c == '"') {
			quoted = true;
		} else if (c == '(') {
			comment++;
		} else if (c == ')' && comment) {
			comment--;
		} else if (c == '<') {
			angle = 1;
		} else if (c == '>') {
			angle = 0;
		}
	}
	return n;
}

struct first_ctx {
	char *out;
	size_t outlen;
	bool found;
};

static bool first_cb(void *arg, const char *e, size_t l)
{
	struct first_ctx *f = arg;
	if (f->found)
		return false;
	f->found = element_address(e, l, f->out, f->outlen);
	return f->found;
}

bool hdr_first_address(const char *value, char *out, size_t outlen)
{
	struct first_ctx f = { out, outlen, false };
	walk_list(value, first_cb, &f);
	return f.found;
}

struct list_ctx {
	char ***list;
	size_t *n;
};

static bool list_cb(void *arg, const char *e, size_t l)
{
	struct list_ctx *c = arg;
	char a[256];
	if (*c->n >= HDR_MAX_ADDRESSES || !element_address(e, l, a, sizeof a))
		return false;
	*c->list = xrealloc(*c->list, (*c->n + 1) * sizeof **c->list);
	(*c->list)[(*c->n)++] = xstrdup(a);
	return true;
}

size_t hdr_addresses(const char *value, char ***list, size_t *n)
{
	struct list_ctx c = { list, n };
	return walk_list(value, list_cb, &c);
}
