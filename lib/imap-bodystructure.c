/* imap-bodystructure: format BODY / BODYSTRUCTURE from a mime_part tree,
 * field by field as Dovecot writes them (charset "us-ascii" added to text
 * parts without one; a multipart without parts shows one empty text/plain
 * part). Sizes are the stored octets (the store keeps CRLF text), line
 * counts its LFs. Recursion follows the tree, whose depth mime_parse
 * bounds by MIME_MAX_DEPTH. */
#include "imap-bodystructure.h"

#include <string.h>
#include <strings.h>

#include "imap-envelope.h"
#include "imap-quote.h"

/* " <n>" without printf */
static void write_size(struct strbuf *out, size_t v)
{
	sb_addc(out, ' ');
	sb_add_uint(out, v);
}

static void write_params(struct strbuf *out, const struct mime_param *params, size_t n,
			 bool default_charset)
{
	if (n == 0 && !default_charset) {
		sb_adds(out, "NIL");
		return;
	}
	bool seen_charset = false;
	sb_addc(out, '(');
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			sb_addc(out, ' ');
		if (strcasecmp(params[i].name, "charset") == 0)
			seen_charset = true;
		imap_quote_writes(out, params[i].name);
		sb_addc(out, ' ');
		imap_quote_writes(out, params[i].value);
	}
	if (default_charset && !seen_charset) {
		if (n > 0)
			sb_addc(out, ' ');
		sb_adds(out, "\"charset\" \"us-ascii\"");
	}
	sb_addc(out, ')');
}

/* body-fld-dsp SP body-fld-lang SP body-fld-loc */
static void write_disposition_etc(struct strbuf *out, const struct mime_part *p)
{
	sb_addc(out, ' ');
	if (!p->disposition) {
		sb_adds(out, "NIL");
	} else {
		sb_addc(out, '(');
		imap_quote_writes(out, p->disposition);
		sb_addc(out, ' ');
		write_params(out, p->disp_params, p->ndisp_params, false);
		sb_addc(out, ')');
	}
	sb_addc(out, ' ');
	if (p->nlanguages == 0) {
		sb_adds(out, "NIL");
	} else {
		sb_addc(out, '(');
		for (size_t i = 0; i < p->nlanguages; i++) {
			if (i > 0)
				sb_addc(out, ' ');
			imap_quote_writes(out, p->languages[i]);
		}
		sb_addc(out, ')');
	}
	sb_addc(out, ' ');
	imap_quote_writes(out, p->location);
}

static void write_part(struct strbuf *out, const char *msg, const struct mime_part *p,
		       bool extended);

static void write_multipart(struct strbuf *out, const char *msg, const struct mime_part *p,
			    bool extended)
{
	if (p->nchildren == 0) {
		/* a multipart must have a part: show an empty one */
		sb_adds(out, "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0");
		sb_adds(out, extended ? " NIL NIL NIL NIL)" : ")");
	}
	for (size_t i = 0; i < p->nchildren; i++)
		write_part(out, msg, &p->children[i], extended);
	sb_addc(out, ' ');
	imap_quote_writes(out, p->subtype);
	if (!extended)
		return;
	sb_addc(out, ' ');
	write_params(out, p->params, p->nparams, false);
	write_disposition_etc(out, p);
}

static void write_single(struct strbuf *out, const char *msg, const struct mime_part *p,
			 bool extended)
{
	bool text = false;
	if (p->message) {
		sb_adds(out, "\"message\" \"rfc822\"");
	} else {
		text = strcasecmp(p->type, "text") == 0;
		imap_quote_writes(out, p->type);
		sb_addc(out, ' ');
		imap_quote_writes(out, p->subtype);
	}
	sb_addc(out, ' ');
	write_params(out, p->params, p->nparams, text);
	sb_addc(out, ' ');
	imap_quote_writes(out, p->id);
	sb_addc(out, ' ');
	imap_quote_writes(out, p->description);
	sb_addc(out, ' ');
	imap_quote_writes(out, p->encoding ? p->encoding : "7bit");
	write_size(out, p->body_len);

	if (text) {
		write_size(out, p->body_lines);
	} else if (p->message) {
		const struct mime_part *m = p->message;
		sb_addc(out, ' ');
		imap_envelope_write(out, msg + m->hdr_off, m->hdr_len);
		sb_addc(out, ' ');
		write_part(out, msg, m, extended);
		write_size(out, p->body_lines);
	}
	if (!extended)
		return;
	sb_addc(out, ' ');
	imap_quote_writes(out, p->md5);
	write_disposition_etc(out, p);
}

static void write_part(struct strbuf *out, const char *msg, const struct mime_part *p,
		       bool extended)
{
	sb_addc(out, '(');
	if (p->multipart)
		write_multipart(out, msg, p, extended);
	else
		write_single(out, msg, p, extended);
	sb_addc(out, ')');
}

void imap_bodystructure_write(struct strbuf *out, const char *msg, const struct mime_part *part,
			      bool extended)
{
	write_part(out, msg, part, extended);
}
