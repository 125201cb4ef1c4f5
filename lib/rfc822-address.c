/* rfc822-address: a recursive-descent parser over a bounded buffer (the
 * grammar nests only group > mailbox > angle-addr, so call depth is
 * fixed, whatever the input). Each parse function returns -1 on a syntax
 * error, 0 at the end of input, 1 when more input follows. */
#include "rfc822-address.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "rfc822.h"
#include "strbuf.h"

struct addr_parser {
	struct rfc822_parser p;
	struct strbuf comment; /* the last comment skipped */
	struct strbuf str;
	struct rfc822_addr cur; /* the address being built */
	bool invalid;
	struct rfc822_addr *first, *last;
};

static void set(char **field, const char *v)
{
	free(*field);
	*field = v ? xstrdup(v) : NULL;
}

static const char *str_of(const struct strbuf *sb)
{
	return sb->s ? sb->s : "";
}

static bool at_end(const struct addr_parser *ap)
{
	return ap->p.data >= ap->p.end;
}

static void add_address(struct addr_parser *ap)
{
	struct rfc822_addr *a = xmalloc(sizeof(*a));
	*a = ap->cur;
	a->next = NULL;
	memset(&ap->cur, 0, sizeof(ap->cur));
	ap->invalid = false;
	if (ap->last)
		ap->last->next = a;
	else
		ap->first = a;
	ap->last = a;
}

static void add_fixed_address(struct addr_parser *ap)
{
	if (!ap->cur.mailbox)
		set(&ap->cur.mailbox, "MISSING_MAILBOX");
	if (!ap->cur.host || ap->cur.host[0] == '\0')
		set(&ap->cur.host, "MISSING_DOMAIN");
	add_address(ap);
}

/* local-part with lenient dots (".a", "a.", "a..b" as seen in the wild) */
static int parse_lenient_dot_atom(struct addr_parser *ap)
{
	struct rfc822_parser *p = &ap->p;
	int ret = -1;
	do {
		while (*p->data == '.') {
			sb_addc(&ap->str, '.');
			p->data++;
			if (p->data == p->end)
				return 0; /* no @domain, but a local part */
			ret = 1;
		}
		if (*p->data == '@')
			break;
		ret = rfc822_parse_atom(p, &ap->str);
	} while (ret > 0 && *p->data == '.');
	return ret;
}

static int parse_local_part(struct addr_parser *ap)
{
	int ret;
	sb_reset(&ap->str);
	if (*ap->p.data == '"')
		ret = rfc822_parse_quoted_string(&ap->p, &ap->str);
	else
		ret = parse_lenient_dot_atom(ap);
	if (ret < 0)
		return -1;
	set(&ap->cur.mailbox, str_of(&ap->str));
	return ret;
}

static int parse_domain(struct addr_parser *ap)
{
	sb_reset(&ap->str);
	int ret = rfc822_parse_domain(&ap->p, &ap->str);
	if (ret < 0)
		return -1;
	set(&ap->cur.host, str_of(&ap->str));
	return ret;
}

/* obs-domain-list = "@" domain *(*(CFWS / ",") [CFWS] "@" domain) */
static int parse_domain_list(struct addr_parser *ap)
{
	sb_reset(&ap->str);
	for (;;) {
		if (at_end(ap))
			return 0;
		if (*ap->p.data != '@')
			break;
		if (ap->str.len > 0)
			sb_addc(&ap->str, ',');
		sb_addc(&ap->str, '@');
		int ret = rfc822_parse_domain(&ap->p, &ap->str);
		if (ret <= 0)
			return ret;
		while (rfc822_skip_lwsp(&ap->p) > 0 && *ap->p.data == ',')
			ap->p.data++;
	}
	set(&ap->cur.route, str_of(&ap->str));
	return 1;
}

/* "<" [ "@" route ":" ] local-part "@" domain ">" */
static int parse_angle_addr(struct addr_parser *ap)
{
	ap->p.data++; /* '<' */
	if (rfc822_skip_lwsp(&ap->p) <= 0)
		return -1;
	if (*ap->p.data == '@') {
		if (parse_domain_list(ap) > 0 && *ap->p.data == ':') {
			ap->p.data++;
		} else {
			set(&ap->cur.route, "INVALID_ROUTE");
			if (at_end(ap))
				return -1;
			/* try to continue anyway */
		}
		if (rfc822_skip_lwsp(&ap->p) <= 0)
			return -1;
	}
	if (*ap->p.data != '>') { /* "<>" is no address: leave it empty */
		if (parse_local_part(ap) <= 0)
			return -1;
		if (*ap->p.data == '@' && parse_domain(ap) <= 0)
			return -1;
	}
	if (*ap->p.data != '>')
		return -1;
	ap->p.data++;
	return rfc822_skip_lwsp(&ap->p);
}

/* name-addr = [display-name] angle-addr */
static int parse_name_addr(struct addr_parser *ap)
{
	sb_reset(&ap->str);
	if (rfc822_parse_phrase(&ap->p, &ap->str) <= 0 || *ap->p.data != '<')
		return -1;
	set(&ap->cur.name, ap->str.len > 0 ? str_of(&ap->str) : NULL);
	if (parse_angle_addr(ap) < 0) {
		set(&ap->cur.host, "SYNTAX_ERROR");
		ap->invalid = true;
	}
	return at_end(ap) ? 0 : 1;
}

/* addr-spec = local-part "@" domain; a trailing comment names it */
static int parse_addr_spec(struct addr_parser *ap)
{
	int ret, ret2 = -2;
	sb_reset(&ap->comment);
	bool quoted = *ap->p.data == '"';
	ret = parse_local_part(ap);
	if (ret <= 0)
		ap->invalid = true;
	if (ret != 0 && !at_end(ap) && *ap->p.data == '@') {
		ret2 = parse_domain(ap);
		if (ret2 <= 0)
			ret = ret2;
	}
	if (ap->comment.len > 0) {
		set(&ap->cur.name, str_of(&ap->comment));
	} else if (ret2 == -2) {
		/* "user" without @domain: a lone word is a mailbox, more words
		 * are a display name without an address */
		sb_addc(&ap->str, ' ');
		size_t orig = ap->str.len;
		(void)rfc822_parse_phrase(&ap->p, &ap->str);
		if (ap->str.len != orig) {
			set(&ap->cur.mailbox, NULL);
			set(&ap->cur.name, str_of(&ap->str));
		} else if (!quoted) {
			set(&ap->cur.host, "");
		}
		ap->invalid = true;
		ret = -1;
	}
	return ret;
}

/* mailbox = name-addr / addr-spec */
static int parse_mailbox(struct addr_parser *ap)
{
	const unsigned char *start = ap->p.data;
	int ret = parse_name_addr(ap);
	if (ret < 0) {
		ap->p.data = start;
		ret = parse_addr_spec(ap);
		if (ap->invalid && !ap->cur.name && ap->cur.mailbox && !ap->cur.host) {
			ap->cur.name = ap->cur.mailbox;
			ap->cur.mailbox = NULL;
		}
	}
	if (ret < 0)
		ap->invalid = true;
	add_fixed_address(ap);
	return ret;
}

/* group = display-name ":" [mailbox-list / CFWS] ";" [CFWS] */
static int parse_group(struct addr_parser *ap)
{
	sb_reset(&ap->str);
	if (rfc822_parse_phrase(&ap->p, &ap->str) <= 0 || *ap->p.data != ':')
		return -1;
	/* from here on it is a group, whatever follows */
	ap->p.data++;
	int ret = rfc822_skip_lwsp(&ap->p);
	set(&ap->cur.mailbox, str_of(&ap->str));
	add_address(ap);

	if (ret > 0 && *ap->p.data != ';') {
		for (;;) {
			(void)parse_mailbox(ap); /* broken ones are kept too */
			if (at_end(ap) || *ap->p.data != ',')
				break;
			ap->p.data++;
			if (rfc822_skip_lwsp(&ap->p) <= 0) {
				ret = -1;
				break;
			}
		}
	}
	if (ret >= 0) {
		if (at_end(ap) || *ap->p.data != ';') {
			ret = -1;
		} else {
			ap->p.data++;
			ret = rfc822_skip_lwsp(&ap->p);
		}
	}
	add_address(ap); /* the end-of-group marker */
	return ret == 0 ? 0 : 1;
}

static int parse_address(struct addr_parser *ap)
{
	const unsigned char *start = ap->p.data;
	int ret = parse_group(ap);
	if (ret < 0) {
		ap->p.data = start;
		ret = parse_mailbox(ap);
	}
	return ret;
}

static void parse_address_list(struct addr_parser *ap)
{
	for (;;) {
		if (parse_address(ap) == 0)
			break;
		if (at_end(ap) || *ap->p.data != ',')
			break;
		ap->p.data++;
		int ret = rfc822_skip_lwsp(&ap->p);
		if (ret <= 0) {
			if (ret < 0)
				add_fixed_address(ap); /* ends in garbage */
			break;
		}
	}
}

struct rfc822_addr *rfc822_addr_parse(const char *s, size_t len)
{
	struct addr_parser ap;
	memset(&ap, 0, sizeof(ap));
	rfc822_parser_init(&ap.p, s, len, &ap.comment);
	if (rfc822_skip_lwsp(&ap.p) > 0)
		parse_address_list(&ap);
	free(ap.cur.name);
	free(ap.cur.route);
	free(ap.cur.mailbox);
	free(ap.cur.host);
	sb_free(&ap.comment);
	sb_free(&ap.str);
	return ap.first;
}

void rfc822_addr_free(struct rfc822_addr *list)
{
	while (list) {
		struct rfc822_addr *next = list->next;
		free(list->name);
		free(list->route);
		free(list->mailbox);
		free(list->host);
		free(list);
		list = next;
	}
}
