/* SEARCH and UID SEARCH (RFC 3501 §6.4.4). The keys are parsed once into a
 * tree (nesting bounded), then each message is tested, loading its file
 * only when a key needs the contents. String keys are case-insensitive
 * (ASCII) substring matches over the unfolded header values with RFC 2047
 * words decoded to UTF-8, and over the raw body (decoding transfer
 * encodings of body parts comes later). ESEARCH (RFC 4731): "SEARCH RETURN
 * (MIN MAX COUNT ALL)" answers with one ESEARCH line; CONDSTORE adds the
 * MODSEQ key. */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imapd.h"
#include "rfc822.h"

#define SEARCH_DEPTH_MAX 64

enum skind {
	K_AND, K_OR, K_NOT, K_SET, K_UIDSET, K_FLAG, K_UNFLAG, K_KEYWORD, K_UNKEYWORD,
	K_NEW, K_OLD, K_RECENT, K_HEADER, K_BODY, K_TEXT, K_BEFORE, K_ON, K_SINCE,
	K_SENTBEFORE, K_SENTON, K_SENTSINCE, K_LARGER, K_SMALLER, K_ALL, K_MODSEQ,
};

struct snode {
	enum skind k;
	struct snode **kids;  /* K_AND: any number; K_OR: 2; K_NOT: 1 */
	size_t nkids;
	char *field, *str;
	long days;
	uint64_t num;
	unsigned flag;
	int kw;              /* keyword index, -1 unknown */
	struct imap_seqset set;
};

struct sparse {
	const struct imap_arg *a;
	size_t n, pos;
	struct imap_session *s;
	struct imap_cmd *c;
	int depth;
	bool modseq;        /* a MODSEQ key was used */
};

static void snode_free(struct snode *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->nkids; i++)
		snode_free(x->kids[i]);
	free(x->kids);
	free(x->field);
	free(x->str);
	imap_seqset_free(&x->set);
	free(x);
}

static struct snode *snode_new(enum skind k)
{
	struct snode *x = xcalloc(1, sizeof *x);
	x->k = k;
	x->kw = -1;
	return x;
}

static void add_kid(struct snode *p, struct snode *k)
{
	p->kids = xrealloc(p->kids, (p->nkids + 1) * sizeof *p->kids);
	p->kids[p->nkids++] = k;
}

static const struct imap_arg *next_arg(struct sparse *sp)
{
	return sp->pos < sp->n ? &sp->a[sp->pos++] : NULL;
}

static const char *next_string(struct sparse *sp)
{
	const struct imap_arg *a = next_arg(sp);
	return a && imap_arg_is_astring(a) ? a->str : NULL;
}

static struct snode *parse_key(struct sparse *sp);

static const struct {
	const char *name;
	enum skind k;
	unsigned flag;
} flagkeys[] = {
	{ "ANSWERED", K_FLAG, MAILDIR_F_REPLIED },   { "DELETED", K_FLAG, MAILDIR_F_TRASHED },
	{ "DRAFT", K_FLAG, MAILDIR_F_DRAFT },         { "FLAGGED", K_FLAG, MAILDIR_F_FLAGGED },
	{ "SEEN", K_FLAG, MAILDIR_F_SEEN },           { "UNANSWERED", K_UNFLAG, MAILDIR_F_REPLIED },
	{ "UNDELETED", K_UNFLAG, MAILDIR_F_TRASHED }, { "UNDRAFT", K_UNFLAG, MAILDIR_F_DRAFT },
	{ "UNFLAGGED", K_UNFLAG, MAILDIR_F_FLAGGED }, { "UNSEEN", K_UNFLAG, MAILDIR_F_SEEN },
};

static const struct {
	const char *name;
	const char *field; /* NULL: not a header key */
	enum skind k;
} strkeys[] = {
	{ "BCC", "Bcc", K_HEADER },     { "CC", "Cc", K_HEADER },
	{ "FROM", "From", K_HEADER },   { "SUBJECT", "Subject", K_HEADER },
	{ "TO", "To", K_HEADER },       { "BODY", NULL, K_BODY },
	{ "TEXT", NULL, K_TEXT },
};

static const struct {
	const char *name;
	enum skind k;
} datekeys[] = {
	{ "BEFORE", K_BEFORE },         { "ON", K_ON },          { "SINCE", K_SINCE },
	{ "SENTBEFORE", K_SENTBEFORE }, { "SENTON", K_SENTON }, { "SENTSINCE", K_SENTSINCE },
};

static struct snode *parse_atom_key(struct sparse *sp, const char *w)
{
	struct mailbox_view *v = sp->s->view;
	struct snode *x;
	for (size_t i = 0; i < sizeof flagkeys / sizeof flagkeys[0]; i++) {
		if (strcasecmp(w, flagkeys[i].name) == 0) {
			x = snode_new(flagkeys[i].k);
			x->flag = flagkeys[i].flag;
			return x;
		}
	}
	for (size_t i = 0; i < sizeof strkeys / sizeof strkeys[0]; i++) {
		if (strcasecmp(w, strkeys[i].name) != 0)
			continue;
		const char *str = next_string(sp);
		if (!str)
			return NULL;
		x = snode_new(strkeys[i].k);
		x->field = strkeys[i].field ? xstrdup(strkeys[i].field) : NULL;
		x->str = xstrdup(str);
		return x;
	}
	for (size_t i = 0; i < sizeof datekeys / sizeof datekeys[0]; i++) {
		if (strcasecmp(w, datekeys[i].name) != 0)
			continue;
		const char *str = next_string(sp);
		long days;
		if (!str || imap_date_parse(str, &days) < 0)
			return NULL;
		x = snode_new(datekeys[i].k);
		x->days = days;
		return x;
	}
	if (strcasecmp(w, "ALL") == 0)
		return snode_new(K_ALL);
	if (strcasecmp(w, "NEW") == 0)
		return snode_new(K_NEW);
	if (strcasecmp(w, "OLD") == 0)
		return snode_new(K_OLD);
	if (strcasecmp(w, "RECENT") == 0)
		return snode_new(K_RECENT);
	if (strcasecmp(w, "HEADER") == 0) {
		const char *f = next_string(sp), *str = f ? next_string(sp) : NULL;
		if (!str)
			return NULL;
		x = snode_new(K_HEADER);
		x->field = xstrdup(f);
		x->str = xstrdup(str);
		return x;
	}
	if (strcasecmp(w, "KEYWORD") == 0 || strcasecmp(w, "UNKEYWORD") == 0) {
		const char *str = next_string(sp);
		if (!str)
			return NULL;
		x = snode_new(toupper((unsigned char)w[0]) == 'K' ? K_KEYWORD : K_UNKEYWORD);
		x->kw = imap_keywords_find(&v->kw, str);
		return x;
	}
	if (strcasecmp(w, "LARGER") == 0 || strcasecmp(w, "SMALLER") == 0) {
		const char *str = next_string(sp);
		char *end;
		if (!str || !isdigit((unsigned char)*str))
			return NULL;
		unsigned long long n = strtoull(str, &end, 10);
		if (*end)
			return NULL;
		x = snode_new(toupper((unsigned char)w[0]) == 'L' ? K_LARGER : K_SMALLER);
		x->num = n;
		return x;
	}
	if (strcasecmp(w, "MODSEQ") == 0) {
		/* MODSEQ [entry-name entry-type] mod-sequence-valzer (RFC 7162);
		 * flags have no separate modseqs here, so the entry is ignored */
		const char *str = next_string(sp);
		if (str && !isdigit((unsigned char)*str)) {
			const char *type = next_string(sp);
			if (!type || (strcasecmp(type, "priv") != 0 && strcasecmp(type, "shared") != 0 &&
				      strcasecmp(type, "all") != 0))
				return NULL;
			str = next_string(sp);
		}
		char *end;
		if (!str || !isdigit((unsigned char)*str))
			return NULL;
		errno = 0;
		unsigned long long n = strtoull(str, &end, 10);
		if (*end || errno || n > INT64_MAX)
			return NULL;
		x = snode_new(K_MODSEQ);
		x->num = n;
		sp->modseq = true;
		return x;
	}
	if (strcasecmp(w, "NOT") == 0 || strcasecmp(w, "OR") == 0) {
		bool or = toupper((unsigned char)w[0]) == 'O';
		x = snode_new(or ? K_OR : K_NOT);
		for (int i = 0; i < (or ? 2 : 1); i++) {
			struct snode *k = parse_key(sp);
			if (!k) {
				snode_free(x);
				return NULL;
			}
			add_kid(x, k);
		}
		return x;
	}
	if (strcasecmp(w, "UID") == 0) {
		const char *str = next_string(sp);
		x = snode_new(K_UIDSET);
		if (!str || imap_seqset_parse(str, v->n ? v->m[v->n - 1].uid : 0, &x->set) < 0) {
			snode_free(x);
			return NULL;
		}
		return x;
	}
	x = snode_new(K_SET);
	if (imap_seqset_parse(w, (uint32_t)v->n, &x->set) < 0) {
		snode_free(x);
		return NULL;
	}
	return x;
}

static struct snode *parse_key(struct sparse *sp)
{
	const struct imap_arg *a = next_arg(sp);
	if (!a || ++sp->depth > SEARCH_DEPTH_MAX)
		return NULL;
	struct snode *x = NULL;
	if (a->type == IMAP_ARG_LIST) {
		struct sparse sub = { a->list, a->list_n, 0, sp->s, sp->c, sp->depth, false };
		x = snode_new(K_AND);
		while (sub.pos < sub.n) {
			struct snode *k = parse_key(&sub);
			if (!k) {
				snode_free(x);
				x = NULL;
				break;
			}
			add_kid(x, k);
		}
		sp->modseq |= sub.modseq;
		if (x && x->nkids == 0) {
			snode_free(x);
			x = NULL;
		}
	} else if (a->type == IMAP_ARG_ATOM) {
		x = parse_atom_key(sp, a->str);
	}
	sp->depth--;
	return x;
}

/* --- matching --- */

struct sctx {
	struct mailbox_view *v;
	struct view_msg *m;
	size_t seq;
	struct imap_msg msg;
	int loaded;         /* 0 not yet, 1 ok, -1 failed */
	struct strbuf decoded; /* decoded body text, when needed */
	bool decoded_done;
};

static bool load(struct sctx *cx, unsigned what)
{
	if (cx->loaded < 0)
		return false;
	if (imap_msg_load(cx->v, cx->m, what, &cx->msg) <= 0) {
		cx->loaded = -1;
		return false;
	}
	return true;
}

static unsigned char fold(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* Case-insensitive (ASCII) substring search: Boyer-Moore-Horspool over
 * folded octets, so a miss costs about hlen / strlen(needle) steps. */
static bool contains(const char *hay, size_t hlen, const char *needle)
{
	size_t nl = strlen(needle);
	if (nl == 0)
		return true;
	if (nl > hlen)
		return false;
	const unsigned char *h = (const unsigned char *)hay, *n = (const unsigned char *)needle;
	if (nl == 1) {
		for (size_t i = 0; i < hlen; i++)
			if (fold(h[i]) == fold(n[0]))
				return true;
		return false;
	}
	size_t skip[256];
	for (size_t c = 0; c < 256; c++)
		skip[c] = nl;
	for (size_t i = 0; i + 1 < nl; i++) {
		unsigned char c = fold(n[i]);
		skip[c] = nl - 1 - i;
		if (c >= 'a' && c <= 'z')
			skip[c - ('a' - 'A')] = nl - 1 - i;
	}
	unsigned char last = fold(n[nl - 1]);
	for (size_t i = 0; i + nl <= hlen; i += skip[h[i + nl - 1]]) {
		if (fold(h[i + nl - 1]) != last)
			continue;
		size_t k = 0;
		while (k + 1 < nl && fold(h[i + k]) == fold(n[k]))
			k++;
		if (k + 1 == nl)
			return true;
	}
	return false;
}

/* Whether "=?" (the start of any RFC 2047 encoded word) occurs. */
static bool has_encoded_word(const char *p, size_t len)
{
	const char *end = p + len;
	while (p < end && (p = memchr(p, '=', (size_t)(end - p))) != NULL) {
		if (++p < end && *p == '?')
			return true;
	}
	return false;
}

/* Whether imap_decode_body turns PART's text into anything but a copy of
 * octets of MSG: a text leaf with a base64 or quoted-printable body or a
 * charset other than UTF-8 / US-ASCII (the cases imap_decode_body and
 * decode_cte transform), or an attached message (its header is decoded;
 * the caller checks for encoded words). */
static bool body_transformed(const struct mime_part *part)
{
	if (part->nchildren) {
		for (size_t i = 0; i < part->nchildren; i++)
			if (body_transformed(&part->children[i]))
				return true;
		return false;
	}
	if (part->message)
		return body_transformed(part->message);
	if (strcmp(part->type, "text") != 0)
		return false;
	if (part->encoding && (strcasecmp(part->encoding, "base64") == 0 ||
			       strcasecmp(part->encoding, "quoted-printable") == 0))
		return true;
	for (size_t i = 0; i < part->nparams; i++)
		if (strcasecmp(part->params[i].name, "charset") == 0)
			return strcasecmp(part->params[i].value, "utf-8") != 0 &&
			       strcasecmp(part->params[i].value, "us-ascii") != 0;
	return false;
}

static bool match_header(struct sctx *cx, const char *field, const char *needle)
{
	if (!load(cx, MSG_DATA))
		return false;
	size_t hlen = imap_header_len(cx->msg.data, cx->msg.len), pos = 0;
	struct rfc822_field f;
	while (rfc822_header_next(cx->msg.data, hlen, &pos, &f)) {
		if (!rfc822_field_is(&f, field))
			continue;
		size_t vlen;
		char *val = rfc822_field_value(&f, &vlen);
		struct strbuf dec = STRBUF_INIT;
		imap_decode_header(val, vlen, &dec);
		bool hit = contains(dec.s ? dec.s : "", dec.len, needle);
		sb_free(&dec);
		free(val);
		if (hit)
			return true;
	}
	return false;
}

/* The decoded text (body, and for TEXT the decoded header too), built
 * once per message and only when the raw octets did not match. */
static bool match_decoded(struct sctx *cx, bool with_header, const char *needle)
{
	if (!load(cx, MSG_DATA))
		return false;
	/* Called after the raw octets did not match. When decoding changes
	 * nothing (no encoded word anywhere, every text part as stored), the
	 * decoded text is copies of pieces of the raw octets, each followed by
	 * "\n": it can only match where the raw did not if the needle holds
	 * a line feed. So the decoding is skipped, with the same answer. */
	if (!strchr(needle, '\n') && !has_encoded_word(cx->msg.data, cx->msg.len) &&
	    load(cx, MSG_MIME) && !body_transformed(cx->msg.mime))
		return false;
	if (!load(cx, MSG_MIME))
		return false;
	if (!cx->decoded_done) {
		imap_decode_body(cx->msg.data, cx->msg.mime, &cx->decoded);
		cx->decoded_done = true;
	}
	if (contains(cx->decoded.s ? cx->decoded.s : "", cx->decoded.len, needle))
		return true;
	if (!with_header)
		return false;
	struct strbuf h = STRBUF_INIT;
	imap_decode_header(cx->msg.data, imap_header_len(cx->msg.data, cx->msg.len), &h);
	bool hit = contains(h.s ? h.s : "", h.len, needle);
	sb_free(&h);
	return hit;
}

static bool sent_days(struct sctx *cx, long *days)
{
	if (!load(cx, MSG_DATA))
		return false;
	struct rfc822_field f;
	size_t hlen = imap_header_len(cx->msg.data, cx->msg.len);
	return rfc822_header_find(cx->msg.data, hlen, "Date", &f) &&
	       rfc5322_date_days(f.value, f.value_len, days) == 0;
}

static bool match(struct sctx *cx, const struct snode *x)
{
	struct view_msg *m = cx->m;
	long d;
	switch (x->k) {
	case K_ALL:
		return true;
	case K_MODSEQ:
		return m->modseq >= x->num;
	case K_AND:
		for (size_t i = 0; i < x->nkids; i++)
			if (!match(cx, x->kids[i]))
				return false;
		return true;
	case K_OR:
		return match(cx, x->kids[0]) || match(cx, x->kids[1]);
	case K_NOT:
		return !match(cx, x->kids[0]);
	case K_SET:
		return imap_seqset_contains(&x->set, (uint32_t)cx->seq);
	case K_UIDSET:
		return imap_seqset_contains(&x->set, m->uid);
	case K_FLAG:
		return (m->flags & x->flag) != 0;
	case K_UNFLAG:
		return (m->flags & x->flag) == 0;
	case K_KEYWORD:
		return x->kw >= 0 && (m->keywords & (1u << x->kw));
	case K_UNKEYWORD:
		return x->kw < 0 || !(m->keywords & (1u << x->kw));
	case K_NEW:
		return m->recent && !(m->flags & MAILDIR_F_SEEN);
	case K_OLD:
		return !m->recent;
	case K_RECENT:
		return m->recent;
	case K_HEADER:
		return match_header(cx, x->field, x->str);
	case K_BODY:
		if (!load(cx, MSG_DATA))
			return false;
		d = (long)imap_header_len(cx->msg.data, cx->msg.len);
		return contains(cx->msg.data + d, cx->msg.len - (size_t)d, x->str) ||
		       match_decoded(cx, false, x->str);
	case K_TEXT:
		return load(cx, MSG_DATA) && (contains(cx->msg.data, cx->msg.len, x->str) ||
					      match_decoded(cx, true, x->str));
	case K_BEFORE:
	case K_ON:
	case K_SINCE:
		if (!load(cx, MSG_STAT))
			return false;
		d = imap_local_days(cx->msg.mtime);
		return x->k == K_BEFORE ? d < x->days : x->k == K_ON ? d == x->days : d >= x->days;
	case K_SENTBEFORE:
	case K_SENTON:
	case K_SENTSINCE:
		if (!sent_days(cx, &d))
			return false;
		return x->k == K_SENTBEFORE ? d < x->days : x->k == K_SENTON ? d == x->days : d >= x->days;
	case K_LARGER:
	case K_SMALLER:
		if (m->size < 0 && !load(cx, MSG_STAT))
			return false;
		return x->k == K_LARGER ? (uint64_t)m->size > x->num : (uint64_t)m->size < x->num;
	}
	return false;
}

/* ESEARCH (RFC 4731) result options of "SEARCH RETURN (...)". */
enum { R_MIN = 1, R_MAX = 2, R_COUNT = 4, R_ALL = 8 };

static int parse_return(const struct imap_arg *a, unsigned *ret_r)
{
	unsigned r = 0;
	if (a->type != IMAP_ARG_LIST)
		return -1;
	for (size_t i = 0; i < a->list_n; i++) {
		if (imap_arg_atom_eq(&a->list[i], "MIN"))
			r |= R_MIN;
		else if (imap_arg_atom_eq(&a->list[i], "MAX"))
			r |= R_MAX;
		else if (imap_arg_atom_eq(&a->list[i], "COUNT"))
			r |= R_COUNT;
		else if (imap_arg_atom_eq(&a->list[i], "ALL"))
			r |= R_ALL;
		else
			return -1;
	}
	*ret_r = r ? r : R_ALL;
	return 0;
}

/* Append the numbers N[0..cnt) (ascending) as a sequence set. */
static void write_set(struct strbuf *out, const uint32_t *n, size_t cnt)
{
	for (size_t i = 0; i < cnt;) {
		size_t j = i;
		while (j + 1 < cnt && n[j + 1] == n[j] + 1)
			j++;
		sb_printf(out, i ? ",%u" : "%u", (unsigned)n[i]);
		if (j > i)
			sb_printf(out, ":%u", (unsigned)n[j]);
		i = j + 1;
	}
}

void cmd_search(struct imap_session *s, struct imap_cmd *c)
{
	struct mailbox_view *v = s->view;
	struct sparse sp = { c->args, c->nargs, 0, s, c, 0, false };
	unsigned ret = 0; /* 0: classic SEARCH response */
	if (c->nargs >= 2 && imap_arg_atom_eq(&c->args[0], "RETURN")) {
		if (parse_return(&c->args[1], &ret) < 0) {
			cmd_reply(c, "BAD Invalid SEARCH RETURN options");
			return;
		}
		sp.pos = 2;
	}
	if (sp.pos < c->nargs && imap_arg_atom_eq(&c->args[sp.pos], "CHARSET")) {
		size_t cp = sp.pos;
		if (c->nargs < cp + 3 || !imap_arg_is_astring(&c->args[cp + 1])) {
			cmd_reply(c, "BAD CHARSET needs a name and search keys");
			return;
		}
		const char *cs = c->args[cp + 1].str;
		if (strcasecmp(cs, "UTF-8") != 0 && strcasecmp(cs, "US-ASCII") != 0) {
			cmd_reply(c, "NO [BADCHARSET (US-ASCII UTF-8)] Unsupported charset");
			return;
		}
		sp.pos = cp + 2;
	}
	if (sp.pos >= sp.n) {
		cmd_reply(c, "BAD SEARCH needs search keys");
		return;
	}
	struct snode *root = snode_new(K_AND);
	while (sp.pos < sp.n) {
		struct snode *k = parse_key(&sp);
		if (!k) {
			snode_free(root);
			cmd_reply(c, "BAD Invalid search key");
			return;
		}
		add_kid(root, k);
	}
	if (sp.modseq)
		imap_enable_condstore(s);
	uint32_t *hits = xcalloc(v->n + 1, sizeof *hits);
	size_t nhits = 0;
	uint64_t maxmod = 0;
	for (size_t i = 0; i < v->n; i++) {
		if (v->m[i].expunged)
			continue;
		struct sctx cx = { v, &v->m[i], i + 1, { 0 }, 0, STRBUF_INIT, false };
		if (match(&cx, root)) {
			hits[nhits++] = c->uid ? v->m[i].uid : (uint32_t)(i + 1);
			if (v->m[i].modseq > maxmod)
				maxmod = v->m[i].modseq;
		}
		imap_msg_free(&cx.msg);
		sb_free(&cx.decoded);
	}
	struct strbuf out = STRBUF_INIT;
	if (ret) {
		sb_adds(&out, "* ESEARCH (TAG ");
		imap_write_astring(&out, c->tag);
		sb_addc(&out, ')');
		if (c->uid)
			sb_adds(&out, " UID");
		if ((ret & R_MIN) && nhits)
			sb_printf(&out, " MIN %u", (unsigned)hits[0]);
		if ((ret & R_MAX) && nhits)
			sb_printf(&out, " MAX %u", (unsigned)hits[nhits - 1]);
		if (ret & R_COUNT)
			sb_printf(&out, " COUNT %zu", nhits);
		if ((ret & R_ALL) && nhits) {
			sb_adds(&out, " ALL ");
			write_set(&out, hits, nhits);
		}
		if (sp.modseq && nhits)
			sb_printf(&out, " MODSEQ %llu", (unsigned long long)maxmod);
	} else {
		sb_adds(&out, "* SEARCH");
		for (size_t i = 0; i < nhits; i++)
			sb_printf(&out, " %u", (unsigned)hits[i]);
		if (sp.modseq && nhits)
			sb_printf(&out, " (MODSEQ %llu)", (unsigned long long)maxmod);
	}
	free(hits);
	sb_adds(&out, "\r\n");
	io_write(&s->io, out.s, out.len);
	sb_free(&out);
	snode_free(root);
}
