/* BODY[section]<partial>: parsing the section spec (RFC 3501 §6.4.5) and
 * cutting the section's octets out of a loaded message. Part numbers are
 * resolved by mime_section() over the message's MIME tree. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fetch.h"
#include "rfc822.h"

/* Field names of HEADER.FIELDS: "(" astring *(SP astring) ")". */
static int parse_fields(const char *p, struct fetch_item *it)
{
	if (*p++ != '(')
		return -1;
	for (;;) {
		struct strbuf sb = STRBUF_INIT;
		if (*p == '"') {
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
					p++;
				sb_addc(&sb, *p);
			}
			if (*p++ != '"') {
				sb_free(&sb);
				return -1;
			}
		} else {
			while (*p && *p != ' ' && *p != ')' && *p != '(' && (unsigned char)*p > 0x20 &&
			       (unsigned char)*p < 0x7f)
				sb_addc(&sb, *p++);
		}
		if (sb.len == 0) {
			sb_free(&sb);
			return -1;
		}
		it->fields = xrealloc(it->fields, (it->nfields + 1) * sizeof *it->fields);
		it->fields[it->nfields++] = sb_steal(&sb);
		if (*p == ' ') {
			p++;
			continue;
		}
		if (*p == ')' && p[1] == '\0')
			return 0;
		return -1;
	}
}

static void write_label(struct fetch_item *it)
{
	struct strbuf sb = STRBUF_INIT;
	static const char *specs[] = { "", "HEADER", "HEADER.FIELDS", "HEADER.FIELDS.NOT", "MIME", "TEXT" };
	sb_adds(&sb, "BODY[");
	for (size_t i = 0; i < it->depth; i++)
		sb_printf(&sb, "%s%u", i ? "." : "", it->path[i]);
	if (it->spec != SP_ALL)
		sb_printf(&sb, "%s%s", it->depth ? "." : "", specs[it->spec]);
	if (it->spec == SP_FIELDS || it->spec == SP_FIELDS_NOT) {
		sb_adds(&sb, " (");
		for (size_t i = 0; i < it->nfields; i++) {
			sb_adds(&sb, i ? " " : "");
			for (const char *f = it->fields[i]; *f; f++)
				sb_addc(&sb, (char)toupper((unsigned char)*f));
		}
		sb_addc(&sb, ')');
	}
	sb_addc(&sb, ']');
	if (it->partial)
		sb_printf(&sb, "<%llu>", (unsigned long long)it->off);
	it->label = sb_steal(&sb);
}

static bool parse_u64(const char **pp, uint64_t *v)
{
	const char *p = *pp;
	uint64_t x = 0;
	if (!isdigit((unsigned char)*p))
		return false;
	for (; isdigit((unsigned char)*p); p++) {
		x = x * 10 + (uint64_t)(*p - '0');
		if (x > UINT32_MAX)
			return false; /* offsets are below 4 GiB */
	}
	*pp = p;
	*v = x;
	return true;
}

int fetch_section_parse(const char *atom, struct fetch_item *it)
{
	const char *p;
	if (strncasecmp(atom, "BODY[", 5) == 0) {
		p = atom + 5;
	} else if (strncasecmp(atom, "BODY.PEEK[", 10) == 0) {
		p = atom + 10;
		it->peek = true;
	} else {
		return -1;
	}
	it->kind = F_SECTION;
	const char *close = strchr(p, ']');
	if (!close)
		return -1;
	char *sec = xstrndup(p, (size_t)(close - p));
	const char *q = sec;
	int rc = -1;
	/* part numbers */
	while (isdigit((unsigned char)*q)) {
		uint64_t n;
		if (!parse_u64(&q, &n) || n == 0 || n > 100000 || it->depth >= FETCH_PATH_MAX)
			goto out;
		it->path[it->depth++] = (unsigned)n;
		if (*q == '.') {
			q++;
			if (!*q)
				goto out;
		} else if (*q) {
			goto out;
		}
	}
	if (!*q) {
		it->spec = SP_ALL;
	} else if (strcasecmp(q, "HEADER") == 0) {
		it->spec = SP_HEADER;
	} else if (strcasecmp(q, "TEXT") == 0) {
		it->spec = SP_TEXT;
	} else if (strcasecmp(q, "MIME") == 0) {
		if (it->depth == 0)
			goto out;
		it->spec = SP_MIME;
	} else if (strncasecmp(q, "HEADER.FIELDS.NOT ", 18) == 0) {
		it->spec = SP_FIELDS_NOT;
		if (parse_fields(q + 18, it) < 0)
			goto out;
	} else if (strncasecmp(q, "HEADER.FIELDS ", 14) == 0) {
		it->spec = SP_FIELDS;
		if (parse_fields(q + 14, it) < 0)
			goto out;
	} else {
		goto out;
	}
	/* <origin.count> */
	p = close + 1;
	if (*p == '<') {
		p++;
		if (!parse_u64(&p, &it->off) || *p++ != '.' || !parse_u64(&p, &it->cnt) || it->cnt == 0 ||
		    *p++ != '>')
			goto out;
		it->partial = true;
	}
	if (*p)
		goto out;
	write_label(it);
	rc = 0;
out:
	free(sec);
	return rc;
}

static bool wanted(const struct fetch_item *it, const char *name, size_t len)
{
	for (size_t i = 0; i < it->nfields; i++)
		if (strlen(it->fields[i]) == len && strncasecmp(it->fields[i], name, len) == 0)
			return true;
	return false;
}

static void filter_header(const struct fetch_item *it, const char *hdr, size_t len,
			  struct strbuf *tmp)
{
	size_t pos = 0;
	struct rfc822_field f;
	sb_reset(tmp);
	while (rfc822_header_next(hdr, len, &pos, &f)) {
		bool w = f.value_len || memchr(f.raw, ':', f.raw_len) ? wanted(it, f.name, f.name_len) : false;
		if (w == (it->spec == SP_FIELDS))
			sb_add(tmp, f.raw, f.raw_len);
	}
	sb_adds(tmp, "\r\n");
}

int fetch_section_data(const struct imap_msg *msg, const struct fetch_item *it, struct strbuf *tmp,
		       const char **data_r, size_t *len_r)
{
	const char *base = msg->data;
	size_t hoff, hlen, boff, blen;
	if (it->depth == 0) {
		if (it->spec == SP_ALL) {
			*data_r = base;
			*len_r = msg->len;
			return 0;
		}
		hoff = 0;
		hlen = imap_header_len(base, msg->len);
		boff = hlen;
		blen = msg->len - hlen;
	} else {
		const struct mime_part *part = mime_section(msg->mime, it->path, it->depth);
		if (!part)
			return -1;
		if (it->spec == SP_ALL || it->spec == SP_MIME) {
			*data_r = base + (it->spec == SP_ALL ? part->body_off : part->hdr_off);
			*len_r = it->spec == SP_ALL ? part->body_len : part->hdr_len;
			return 0;
		}
		if (!part->message)
			return -1;
		hoff = part->message->hdr_off;
		hlen = part->message->hdr_len;
		boff = part->message->body_off;
		blen = part->message->body_len;
	}
	switch (it->spec) {
	case SP_HEADER:
		*data_r = base + hoff;
		*len_r = hlen;
		return 0;
	case SP_TEXT:
		*data_r = base + boff;
		*len_r = blen;
		return 0;
	default:
		filter_header(it, base + hoff, hlen, tmp);
		*data_r = tmp->s;
		*len_r = tmp->len;
		return 0;
	}
}
