/* mime: one pass over the message, line by line, with an explicit stack of
 * open parts and a list of active boundaries.
 *
 * Design note. At every line start we first look for a boundary line
 * ("--" + an active boundary, longest match wins). A boundary closes every
 * open part above the multipart that owns it, at the line end before the
 * boundary line (that line end belongs to the boundary; when the boundary
 * cuts a header short, only the cut part gives the line end up, its
 * ancestors keep it, which is how Dovecot counts). Otherwise, a part in
 * its header ends the header at an empty line; a part in its body just
 * moves on. When a header ends, its fields decide what the body is: a
 * multipart (push its boundary), a message/rfc822 (push the encapsulated
 * message, whose header starts right there) or a leaf. End of input
 * closes everything. Line counts come from a running LF count, so every
 * octet is looked at a bounded number of times (at most once per active
 * boundary on "--" lines). Every degradation rule matches Dovecot 2.3's
 * parser; tests/mime/ holds its answers. */
#include "mime.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rfc2231.h"
#include "rfc822.h"

/* RFC 2046 limits boundaries to 70 octets; longer ones are cut (matching
 * is by prefix, so this only makes more lines match). */
#define BOUNDARY_MAX_LEN 80

struct open_part {
	struct mime_part *part;
	unsigned depth;    /* nesting: the root is 0 */
	bool in_header;    /* still reading the header */
	bool mime_child;   /* a body part of a multipart (always MIME) */
	bool digest_child; /* ... of a multipart/digest */
	size_t hdr_lf, body_lf; /* LFs before hdr_off / body_off */
};

#define NO_CUT ((size_t)-1)

struct boundary {
	size_t owner; /* stack index of the multipart */
	const char *s;
	size_t len;
};

struct parser {
	const char *msg;
	size_t len;
	size_t pos, lf;        /* current line start and LFs before it */
	size_t seg_start;      /* where scanning of the current region began */
	size_t seg_content, seg_content_lf; /* where its octets began */
	/* stack index of the part whose header a delimiter cut short, taking
	 * the line end before it (NO_CUT if none): see handle_boundary */
	size_t cut_index;
	struct open_part stack[MIME_MAX_DEPTH + 1];
	size_t depth;
	struct boundary bounds[MIME_MAX_DEPTH + 1];
	size_t nbounds;
	char *bound_mem[MIME_MAX_DEPTH + 1]; /* owned copies, by stack index */
	size_t nparts;
};

/* What a header said about the body that follows it. */
struct header_info {
	bool is_mime, seen_type;
	bool rfc822, multipart;
	char *boundary;
};

void mime_params_free(struct mime_param *params, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(params[i].name);
		free(params[i].value);
	}
	free(params);
}

static void part_data_free(struct mime_part *p)
{
	free(p->type);
	free(p->subtype);
	mime_params_free(p->params, p->nparams);
	free(p->id);
	free(p->description);
	free(p->encoding);
	free(p->md5);
	free(p->location);
	free(p->disposition);
	mime_params_free(p->disp_params, p->ndisp_params);
	for (size_t i = 0; i < p->nlanguages; i++)
		free(p->languages[i]);
	free(p->languages);
	p->type = p->subtype = NULL;
	p->params = NULL;
	p->nparams = 0;
	p->id = p->description = p->encoding = p->md5 = p->location = NULL;
	p->disposition = NULL;
	p->disp_params = NULL;
	p->ndisp_params = 0;
	p->languages = NULL;
	p->nlanguages = 0;
}

/* Depth is bounded by MIME_MAX_DEPTH, so this recursion is too. */
static void part_free_contents(struct mime_part *p)
{
	part_data_free(p);
	for (size_t i = 0; i < p->nchildren; i++)
		part_free_contents(&p->children[i]);
	free(p->children);
	if (p->message) {
		part_free_contents(p->message);
		free(p->message);
	}
}

void mime_free(struct mime_part *root)
{
	if (!root)
		return;
	part_free_contents(root);
	free(root);
}

static void set_type(struct mime_part *p, const char *type, const char *subtype)
{
	free(p->type);
	free(p->subtype);
	p->type = xstrdup(type);
	p->subtype = xstrdup(subtype);
}

/* --- header fields --- */

static void parse_content_type(struct mime_part *p, struct header_info *hi, const char *v,
			       size_t vlen)
{
	struct rfc822_parser rp;
	struct strbuf ct = STRBUF_INIT;
	rfc822_parser_init(&rp, v, vlen, NULL);
	rfc822_skip_lwsp(&rp);
	int ret = rfc822_parse_content_type(&rp, &ct);
	const char *s = ct.s ? ct.s : "";

	const char *slash = strchr(s, '/');
	free(p->type);
	free(p->subtype);
	p->type = slash ? xstrndup(s, (size_t)(slash - s)) : xstrdup(s);
	p->subtype = xstrdup(slash ? slash + 1 : "");

	if (strcasecmp(s, "message/rfc822") == 0)
		hi->rfc822 = true;
	else if (strncasecmp(s, "multipart/", 10) == 0)
		hi->multipart = true;
	sb_free(&ct);
	if (ret < 0)
		return; /* broken: keep what we got, but no parameters */

	rfc2231_parse(&rp, &p->params, &p->nparams);
	if (!hi->multipart)
		return;
	for (size_t i = 0; i < p->nparams; i++) {
		if (strcasecmp(p->params[i].name, "boundary") == 0) {
			hi->boundary = xstrndup(p->params[i].value,
					       strnlen(p->params[i].value, BOUNDARY_MAX_LEN));
			break;
		}
	}
}

static void parse_encoding(struct mime_part *p, const char *v, size_t vlen)
{
	struct rfc822_parser rp;
	struct strbuf tok = STRBUF_INIT;
	rfc822_parser_init(&rp, v, vlen, NULL);
	rfc822_skip_lwsp(&rp);
	if (rfc822_parse_mime_token(&rp, &tok) >= 0 && rfc822_skip_lwsp(&rp) == 0 && tok.len > 0)
		p->encoding = sb_steal(&tok);
	sb_free(&tok);
}

static void parse_disposition(struct mime_part *p, const char *v, size_t vlen)
{
	struct rfc822_parser rp;
	struct strbuf tok = STRBUF_INIT;
	rfc822_parser_init(&rp, v, vlen, NULL);
	rfc822_skip_lwsp(&rp);
	if (rfc822_parse_mime_token(&rp, &tok) < 0) {
		sb_free(&tok);
		return;
	}
	free(p->disposition);
	p->disposition = sb_steal(&tok);
	rfc2231_parse(&rp, &p->disp_params, &p->ndisp_params);
}

/* Content-Language: 1#language-tag, read as atoms. */
static void parse_language(struct mime_part *p, const char *v, size_t vlen)
{
	struct rfc822_parser rp;
	struct strbuf tag = STRBUF_INIT;
	size_t cap = 0;
	rfc822_parser_init(&rp, v, vlen, NULL);
	rfc822_skip_lwsp(&rp);
	while (rfc822_parse_atom(&rp, &tag) >= 0) {
		if (p->nlanguages == cap) {
			size_t bytes;
			cap = cap ? cap * 2 : 4;
			if (__builtin_mul_overflow(cap, sizeof(char *), &bytes))
				abort();
			p->languages = xrealloc(p->languages, bytes);
		}
		p->languages[p->nlanguages++] = sb_steal(&tag);
		if (rp.data == rp.end || *rp.data != ',')
			break;
		rp.data++;
		rfc822_skip_lwsp(&rp);
	}
	sb_free(&tag);
}

/* One "Content-*" field; the first of each kind counts (Dovecot's rules:
 * a Content-Disposition without parameters may still be replaced). */
static void content_field(struct mime_part *p, struct header_info *hi, const struct rfc822_field *f)
{
	struct rfc822_field sub = *f;
	sub.name += 8;
	sub.name_len -= 8;
	/* structured fields are lexed folded, the others are kept unfolded */
	bool structured = rfc822_field_is(&sub, "Type") || rfc822_field_is(&sub, "Transfer-Encoding") ||
			  rfc822_field_is(&sub, "Disposition") || rfc822_field_is(&sub, "Language");
	size_t vlen;
	char *v = structured ? rfc822_field_folded_value(f, &vlen) : rfc822_field_text(f, false, &vlen);

	if (rfc822_field_is(&sub, "Type")) {
		hi->is_mime = true;
		if (!hi->seen_type) {
			hi->seen_type = true;
			parse_content_type(p, hi, v, vlen);
		}
	} else if (rfc822_field_is(&sub, "Transfer-Encoding")) {
		if (!p->encoding)
			parse_encoding(p, v, vlen);
	} else if (rfc822_field_is(&sub, "Disposition")) {
		if (!p->disp_params)
			parse_disposition(p, v, vlen);
	} else if (rfc822_field_is(&sub, "Language")) {
		if (!p->languages)
			parse_language(p, v, vlen);
	} else if (rfc822_field_is(&sub, "ID")) {
		if (!p->id) {
			p->id = v;
			v = NULL;
		}
	} else if (rfc822_field_is(&sub, "MD5")) {
		if (!p->md5) {
			p->md5 = v;
			v = NULL;
		}
	} else if (rfc822_field_is(&sub, "Location")) {
		if (!p->location) {
			p->location = v;
			v = NULL;
		}
	} else if (rfc822_field_is(&sub, "Description")) {
		if (!p->description) {
			p->description = v;
			v = NULL;
		}
	}
	free(v);
}

static void read_header(struct parser *ps, struct open_part *op, struct header_info *hi)
{
	struct mime_part *p = op->part;
	const char *hdr = ps->msg + p->hdr_off;
	struct rfc822_field f;
	size_t pos = 0;

	memset(hi, 0, sizeof(*hi));
	hi->is_mime = op->mime_child;
	while (rfc822_header_next(hdr, p->hdr_len, &pos, &f)) {
		if (rfc822_field_is(&f, "MIME-Version"))
			hi->is_mime = true;
		else if (f.name_len >= 8 && strncasecmp(f.name, "Content-", 8) == 0)
			content_field(p, hi, &f);
	}
	if (!hi->is_mime) {
		/* no MIME-Version and no Content-Type: Content-* mean nothing */
		part_data_free(p);
		free(hi->boundary);
		memset(hi, 0, sizeof(*hi));
	}
	if (!hi->seen_type) {
		if (op->digest_child)
			hi->rfc822 = true;
		else
			set_type(p, "text", "plain");
	}
	if (hi->rfc822)
		set_type(p, "message", "rfc822");
}

/* --- the part stack --- */

static struct open_part *top(struct parser *ps)
{
	return &ps->stack[ps->depth - 1];
}

static void push(struct parser *ps, struct mime_part *part, unsigned depth, bool mime_child,
		 bool digest_child)
{
	struct open_part *op = &ps->stack[ps->depth++];
	memset(op, 0, sizeof(*op));
	op->part = part;
	op->depth = depth;
	op->in_header = true;
	op->mime_child = mime_child;
	op->digest_child = digest_child;
	op->hdr_lf = ps->seg_content_lf;
	part->hdr_off = ps->seg_content;
	ps->nparts++;
}

/* Close the top part: its body ends at END (with END_LF LFs before it). */
static void pop(struct parser *ps, size_t end, size_t end_lf)
{
	struct open_part *op = top(ps);
	struct mime_part *p = op->part;
	p->body_len = end - p->body_off;
	p->body_lines = end_lf - op->body_lf;
	if (ps->bound_mem[ps->depth - 1]) {
		free(ps->bound_mem[ps->depth - 1]);
		ps->bound_mem[ps->depth - 1] = NULL;
	}
	ps->depth--;
}

/* The header of the top part ends at HDR_END; its body starts there. */
static void end_header(struct parser *ps, size_t hdr_end, size_t hdr_end_lf, bool complete)
{
	struct open_part *op = top(ps);
	struct mime_part *p = op->part;
	struct header_info hi;

	p->hdr_len = hdr_end - p->hdr_off;
	p->hdr_lines = hdr_end_lf - op->hdr_lf;
	p->body_off = hdr_end;
	op->body_lf = hdr_end_lf;
	op->in_header = false;
	ps->seg_content = hdr_end;
	ps->seg_content_lf = hdr_end_lf;

	read_header(ps, op, &hi);
	if (!hi.multipart && strcasecmp(p->type, "multipart") == 0)
		set_type(p, "application", "octet-stream"); /* "multipart" alone */
	bool room = op->depth + 1 < MIME_MAX_DEPTH;
	if (hi.multipart) {
		p->multipart = true;
		/* the boundary only counts after a real end of header */
		if (hi.boundary && complete) {
			if (room) {
				struct boundary *b = &ps->bounds[ps->nbounds++];
				b->owner = ps->depth - 1;
				b->s = hi.boundary;
				b->len = strlen(hi.boundary);
				ps->bound_mem[ps->depth - 1] = hi.boundary;
				hi.boundary = NULL;
			} else {
				p->multipart = false;
				set_type(p, "application", "octet-stream");
			}
		}
	} else if (hi.rfc822) {
		if (room && ps->nparts < MIME_MAX_PARTS) {
			p->message = xcalloc(1, sizeof(*p->message));
			push(ps, p->message, op->depth + 1, false, false);
		} else {
			set_type(p, "application", "octet-stream");
		}
	}
	free(hi.boundary);
}

/* The active boundary that line POS is a delimiter of, or NULL. */
static struct boundary *boundary_at(struct parser *ps, size_t pos, size_t eol)
{
	if (ps->nbounds == 0 || ps->nparts >= MIME_MAX_PARTS)
		return NULL;
	if (eol - pos < 2 || ps->msg[pos] != '-' || ps->msg[pos + 1] != '-')
		return NULL;
	const char *s = ps->msg + pos + 2;
	size_t n = eol - pos - 2;
	struct boundary *best = NULL;
	for (size_t i = ps->nbounds; i-- > 0;) {
		struct boundary *b = &ps->bounds[i];
		if (b->len <= n && memcmp(b->s, s, b->len) == 0 && (!best || best->len < b->len))
			best = b;
	}
	return best;
}

static size_t count_lf(const char *s, size_t n)
{
	size_t c = 0;
	const char *e = s + n;
	while ((s = memchr(s, '\n', (size_t)(e - s))) != NULL) {
		c++;
		s++;
	}
	return c;
}

static size_t line_end(const struct parser *ps, size_t pos)
{
	const char *lf = memchr(ps->msg + pos, '\n', ps->len - pos);
	return lf ? (size_t)(lf - ps->msg) + 1 : ps->len;
}

/* Where the content before the boundary line at L ends: before the line
 * end that precedes L, unless L starts the current region. */
static void content_end(const struct parser *ps, size_t l, size_t *end, size_t *end_lf)
{
	if (l <= ps->seg_start) {
		*end = ps->seg_content;
		*end_lf = ps->seg_content_lf;
		return;
	}
	size_t nl = 1;
	if (l >= 2 && ps->msg[l - 2] == '\r' && l - 2 >= ps->seg_start)
		nl = 2;
	*end = l - nl;
	*end_lf = ps->lf - 1;
}

static void handle_boundary(struct parser *ps, struct boundary *b, size_t eol)
{
	size_t end, end_lf;
	content_end(ps, ps->pos, &end, &end_lf);

	size_t owner = b->owner;
	/* After a header cut short, that part (and the empty ones below it)
	 * ends before the line end, but its ancestors keep the line end
	 * (Dovecot counts it into the parent's body). */
	size_t cut = ps->cut_index;
	ps->cut_index = NO_CUT;
	bool close = eol - ps->pos >= 2 + b->len + 2 &&
		     memcmp(ps->msg + ps->pos + 2 + b->len, "--", 2) == 0;
	size_t bi = (size_t)(b - ps->bounds);
	/* forget the boundaries of the parts we close (and this one when it
	 * is the close delimiter) */
	ps->nbounds = close ? bi : bi + 1;
	while (ps->depth - 1 > owner) {
		if (cut != NO_CUT && ps->depth - 1 < cut)
			pop(ps, ps->pos, ps->lf);
		else
			pop(ps, end, end_lf);
	}

	/* step over the delimiter line */
	if (eol > ps->pos && ps->msg[eol - 1] == '\n')
		ps->lf++;
	ps->pos = eol;
	ps->seg_start = ps->seg_content = eol;
	ps->seg_content_lf = ps->lf;
	if (close)
		return; /* the epilogue continues the owner's body */
	if (eol == ps->len && ps->msg[eol - 1] != '\n')
		return; /* a delimiter without a line end starts no part */

	struct open_part *m = top(ps);
	struct mime_part *mp = m->part;
	/* grow to powers of two; only the top part's array ever grows, so
	 * no open part points into a moved array */
	if ((mp->nchildren & (mp->nchildren - 1)) == 0) {
		size_t want = mp->nchildren ? mp->nchildren * 2 : 1, bytes;
		if (__builtin_mul_overflow(want, sizeof(struct mime_part), &bytes))
			abort();
		mp->children = xrealloc(mp->children, bytes);
	}
	struct mime_part *child = &mp->children[mp->nchildren++];
	memset(child, 0, sizeof(*child));
	bool digest = strcasecmp(mp->subtype, "digest") == 0;
	push(ps, child, m->depth + 1, true, digest);
}

int mime_parse(const char *msg, size_t len, struct mime_part **root_r)
{
	struct parser *ps = xcalloc(1, sizeof(*ps));
	struct mime_part *root = xcalloc(1, sizeof(*root));
	ps->msg = msg;
	ps->len = len;
	ps->cut_index = NO_CUT;
	push(ps, root, 0, false, false);

	while (ps->pos < ps->len) {
		size_t eol = line_end(ps, ps->pos);
		struct open_part *op = top(ps);
		struct boundary *b = boundary_at(ps, ps->pos, eol);
		if (b) {
			if (op->in_header) {
				/* a delimiter cuts the header short */
				size_t end, end_lf;
				content_end(ps, ps->pos, &end, &end_lf);
				if (end < ps->pos && ps->pos > ps->seg_start)
					ps->cut_index = ps->depth - 1;
				ps->seg_start = ps->pos;
				end_header(ps, end, end_lf, false);
				continue;
			}
			handle_boundary(ps, b, eol);
			continue;
		}
		bool has_lf = ps->msg[eol - 1] == '\n';
		if (op->in_header && eol - ps->pos <= 2 &&
		    (ps->msg[ps->pos] == '\n' || (ps->msg[ps->pos] == '\r' && eol - ps->pos == 2 && has_lf))) {
			/* the empty line ends the header and belongs to it */
			ps->lf++;
			ps->pos = eol;
			ps->seg_start = eol;
			end_header(ps, eol, ps->lf, true);
			continue;
		}
		if (!op->in_header && (ps->nbounds == 0 || ps->nparts >= MIME_MAX_PARTS)) {
			/* nothing can end this body but the end of input */
			ps->lf += count_lf(ps->msg + ps->pos, ps->len - ps->pos);
			ps->pos = ps->len;
			break;
		}
		if (has_lf)
			ps->lf++;
		ps->pos = eol;
	}

	/* End of input: headers still open end here, then every part. */
	size_t total_lf = ps->lf;
	ps->seg_start = ps->seg_content = len;
	ps->seg_content_lf = total_lf;
	while (top(ps)->in_header) {
		ps->seg_start = len;
		end_header(ps, len, total_lf, false);
	}
	while (ps->depth > 0)
		pop(ps, len, total_lf);

	free(ps);
	*root_r = root;
	return 0;
}

bool mime_part_is(const struct mime_part *part, const char *type, const char *subtype)
{
	return strcasecmp(part->type, type) == 0 &&
	       (subtype == NULL || strcasecmp(part->subtype, subtype) == 0);
}

const struct mime_part *mime_section(const struct mime_part *root, const unsigned *path,
				     size_t depth)
{
	const struct mime_part *p = root;
	for (size_t i = 0; i < depth && p; i++) {
		bool more = i + 1 < depth;
		if (p->multipart) {
			if (path[i] == 0 || path[i] > p->nchildren)
				return NULL;
			p = &p->children[path[i] - 1];
		} else if (path[i] != 1 || (more && !p->message)) {
			/* a leaf has only part 1: itself */
			return NULL;
		}
		/* numbers after a message/rfc822 count inside it */
		if (p->message && more)
			p = p->message;
	}
	return p;
}
