/* FETCH and UID FETCH: items parsed once, then per message only what the
 * items need is loaded. INTERNALDATE, ENVELOPE, BODY, BODYSTRUCTURE (and
 * RFC822.SIZE when the file name has no ,S=) come from the mailbox's cache
 * (lib/mailcache.h: the file is read and parsed once, by whichever session
 * first needs it); sections load the octets, part numbers the MIME tree,
 * and a message parsed that way is cached too. A non-PEEK body
 * fetch sets \Seen (read-write mailboxes) and reports the new FLAGS.
 * CONDSTORE/QRESYNC (RFC 7162): the MODSEQ item, and the CHANGEDSINCE and
 * VANISHED modifiers. */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fetch.h"
#include "log.h"
#include "mailcache.h"
#include "rfc822.h"

#define FETCH_ITEMS_MAX 256

struct fetch_req {
	struct fetch_item *it;
	size_t n;
	unsigned need;     /* MSG_* to load */
	bool cache;        /* INTERNALDATE, ENVELOPE, BODY, BODYSTRUCTURE: from the cache */
	bool sets_seen;
	bool has_flags, has_uid, has_modseq, has_size;
};

static void add_simple(struct fetch_req *r, enum fetch_kind k)
{
	r->it = xrealloc(r->it, (r->n + 1) * sizeof *r->it);
	memset(&r->it[r->n], 0, sizeof r->it[r->n]);
	r->it[r->n++].kind = k;
}

static const struct {
	const char *name;
	enum fetch_kind kind;
} simple[] = {
	{ "FLAGS", F_FLAGS },
	{ "INTERNALDATE", F_INTERNALDATE },
	{ "RFC822.SIZE", F_SIZE },
	{ "ENVELOPE", F_ENVELOPE },
	{ "BODY", F_BODY },
	{ "BODYSTRUCTURE", F_BODYSTRUCTURE },
	{ "UID", F_UID },
	{ "RFC822", F_RFC822 },
	{ "RFC822.HEADER", F_RFC822_HEADER },
	{ "RFC822.TEXT", F_RFC822_TEXT },
	{ "MODSEQ", F_MODSEQ },
};

static int parse_item(struct fetch_req *r, const struct imap_arg *a)
{
	if (a->type != IMAP_ARG_ATOM || r->n >= FETCH_ITEMS_MAX)
		return -1;
	for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++) {
		if (strcasecmp(a->str, simple[i].name) == 0) {
			add_simple(r, simple[i].kind);
			return 0;
		}
	}
	r->it = xrealloc(r->it, (r->n + 1) * sizeof *r->it);
	struct fetch_item *it = &r->it[r->n];
	memset(it, 0, sizeof *it);
	r->n++;
	return fetch_section_parse(a->str, it);
}

static void free_req(struct fetch_req *r)
{
	for (size_t i = 0; i < r->n; i++) {
		for (size_t k = 0; k < r->it[i].nfields; k++)
			free(r->it[i].fields[k]);
		free(r->it[i].fields);
		free(r->it[i].label);
	}
	free(r->it);
}

static int parse_request(const struct imap_arg *a, struct fetch_req *r)
{
	if (a->type == IMAP_ARG_ATOM) {
		static const enum fetch_kind all[] = { F_FLAGS, F_INTERNALDATE, F_SIZE, F_ENVELOPE, F_BODY };
		size_t n = 0;
		if (strcasecmp(a->str, "ALL") == 0)
			n = 4;
		else if (strcasecmp(a->str, "FAST") == 0)
			n = 3;
		else if (strcasecmp(a->str, "FULL") == 0)
			n = 5;
		for (size_t i = 0; i < n; i++)
			add_simple(r, all[i]);
		if (n)
			return 0;
		return parse_item(r, a);
	}
	if (a->type != IMAP_ARG_LIST || a->list_n == 0)
		return -1;
	for (size_t i = 0; i < a->list_n; i++)
		if (parse_item(r, &a->list[i]) < 0)
			return -1;
	return 0;
}

static void plan(struct fetch_req *r)
{
	for (size_t i = 0; i < r->n; i++) {
		struct fetch_item *it = &r->it[i];
		switch (it->kind) {
		case F_FLAGS:
			r->has_flags = true;
			break;
		case F_UID:
			r->has_uid = true;
			break;
		case F_MODSEQ:
			r->has_modseq = true;
			break;
		case F_SIZE:
			/* from the uid list's ,S=; else from the cache */
			r->has_size = true;
			break;
		case F_INTERNALDATE:
		case F_ENVELOPE:
		case F_BODY:
		case F_BODYSTRUCTURE:
			r->cache = true;
			break;
		case F_RFC822_HEADER:
			r->need |= MSG_DATA;
			break;
		case F_RFC822:
		case F_RFC822_TEXT:
			r->need |= MSG_DATA;
			r->sets_seen = true;
			break;
		case F_SECTION:
			r->need |= it->depth ? MSG_MIME : MSG_DATA;
			if (!it->peek)
				r->sets_seen = true;
			break;
		}
	}
}

/* PREFIX then the decimal V, without printf (once or more per message) */
static void put_num(struct strbuf *out, const char *prefix, unsigned long long v)
{
	sb_adds(out, prefix);
	sb_add_uint(out, v);
}

/* A literal may not hold NUL (RFC 3501 CHAR8): like Dovecot, send 0x80
 * in its place, keeping the length. */
static void write_literal(struct strbuf *out, const char *data, size_t len)
{
	sb_printf(out, "{%zu}\r\n", len);
	size_t start = out->len;
	sb_add(out, data, len);
	for (char *p = memchr(out->s + start, '\0', len); p;
	     p = memchr(p + 1, '\0', len - (size_t)(p + 1 - (out->s + start))))
		*p = (char)0x80;
}

/* Items INTERNALDATE, RFC822.SIZE (when the name has no ,S=), ENVELOPE,
 * BODY and BODYSTRUCTURE come from CE (mailcache_fill), the rest from MSG
 * (imap_msg_load). */
static void write_item(struct strbuf *out, struct mailbox_view *v, struct view_msg *m,
		       struct imap_msg *msg, const struct mailcache_entry *ce,
		       const struct fetch_item *it, struct strbuf *tmp)
{
	size_t hl;
	switch (it->kind) {
	case F_FLAGS:
		sb_adds(out, "FLAGS ");
		imap_write_flags(out, v, m);
		break;
	case F_UID:
		put_num(out, "UID ", m->uid);
		break;
	case F_MODSEQ:
		sb_printf(out, "MODSEQ (%llu)", (unsigned long long)m->modseq);
		break;
	case F_INTERNALDATE:
		sb_adds(out, "INTERNALDATE \"");
		imap_date_time_write(out, ce->internaldate);
		sb_addc(out, '"');
		break;
	case F_SIZE:
		put_num(out, "RFC822.SIZE ", (unsigned long long)(m->size >= 0 ? m->size : ce->size));
		break;
	case F_ENVELOPE:
		sb_adds(out, "ENVELOPE ");
		sb_add(out, ce->envelope, ce->envelope_len);
		break;
	case F_BODY:
		sb_adds(out, "BODY ");
		sb_add(out, ce->body, ce->body_len);
		break;
	case F_BODYSTRUCTURE:
		sb_adds(out, "BODYSTRUCTURE ");
		sb_add(out, ce->bodystructure, ce->bodystructure_len);
		break;
	case F_RFC822:
		sb_adds(out, "RFC822 ");
		write_literal(out, msg->data, msg->len);
		break;
	case F_RFC822_HEADER:
		sb_adds(out, "RFC822.HEADER ");
		write_literal(out, msg->data, imap_header_len(msg->data, msg->len));
		break;
	case F_RFC822_TEXT:
		hl = imap_header_len(msg->data, msg->len);
		sb_adds(out, "RFC822.TEXT ");
		write_literal(out, msg->data + hl, msg->len - hl);
		break;
	case F_SECTION: {
		const char *data;
		size_t len;
		sb_adds(out, it->label);
		sb_addc(out, ' ');
		if (fetch_section_data(msg, it, tmp, &data, &len) < 0) {
			sb_adds(out, "NIL");
			break;
		}
		if (it->partial) {
			uint64_t off = it->off < len ? it->off : len;
			uint64_t cnt = len - off < it->cnt ? len - off : it->cnt;
			data += off;
			len = (size_t)cnt;
		}
		write_literal(out, data, len);
		break;
	}
	}
}

/* FETCH modifiers (RFC 7162): CHANGEDSINCE and, with QRESYNC, VANISHED. */
struct fetch_mods {
	uint64_t changedsince;
	bool vanished;
};

static int parse_modifiers(struct imap_session *s, struct imap_cmd *c, const struct imap_arg *a,
			   struct fetch_mods *m)
{
	memset(m, 0, sizeof *m);
	if (a->type != IMAP_ARG_LIST || a->list_n == 0) {
		cmd_reply(c, "BAD Invalid FETCH modifiers");
		return -1;
	}
	for (size_t i = 0; i < a->list_n; i++) {
		const struct imap_arg *p = &a->list[i];
		if (imap_arg_atom_eq(p, "CHANGEDSINCE") && i + 1 < a->list_n &&
		    a->list[i + 1].type == IMAP_ARG_ATOM) {
			char *end;
			const char *n = a->list[++i].str;
			errno = 0;
			unsigned long long v = strtoull(n, &end, 10);
			if (!isdigit((unsigned char)*n) || *end || errno || v > INT64_MAX) {
				cmd_reply(c, "BAD Invalid CHANGEDSINCE value");
				return -1;
			}
			m->changedsince = v;
		} else if (imap_arg_atom_eq(p, "VANISHED")) {
			m->vanished = true;
		} else {
			cmd_reply(c, "BAD Unknown FETCH modifier");
			return -1;
		}
	}
	if (m->vanished && (!c->uid || !s->qresync || !m->changedsince)) {
		cmd_reply(c, "BAD VANISHED needs UID FETCH, CHANGEDSINCE and QRESYNC enabled");
		return -1;
	}
	return 0;
}

/* UID FETCH ... (CHANGEDSINCE m VANISHED): the UIDs of SET expunged since. */
static void send_vanished(struct imap_session *s, const char *set, uint64_t since)
{
	struct uidlist ul;
	struct modseq_state ms;
	struct imap_seqset known;
	memset(&ul, 0, sizeof ul);
	memset(&ms, 0, sizeof ms);
	if (imap_seqset_parse(set, s->view->n ? s->view->m[s->view->n - 1].uid : 0, &known) < 0)
		return;
	if (modseq_sync(s->view->dir, &ul, &ms) == 0) {
		struct strbuf sb = STRBUF_INIT;
		modseq_vanished(&ms, &ul, since, &known, &sb);
		if (sb.len)
			imap_untagged(s, "VANISHED (EARLIER) %s", sb.s);
		sb_free(&sb);
		uidlist_free(&ul);
		modseq_free(&ms);
	}
	imap_seqset_free(&known);
}

void cmd_fetch(struct imap_session *s, struct imap_cmd *c)
{
	struct mailbox_view *v = s->view;
	struct fetch_req r;
	bool *sel;
	memset(&r, 0, sizeof r);
	if (c->nargs < 2 || c->nargs > 3 || c->args[0].type != IMAP_ARG_ATOM) {
		cmd_reply(c, "BAD %s needs a sequence set and items", c->name);
		return;
	}
	struct fetch_mods mods;
	if (c->nargs == 3 && parse_modifiers(s, c, &c->args[2], &mods) < 0)
		return;
	if (c->nargs == 2)
		memset(&mods, 0, sizeof mods);
	if (parse_request(&c->args[1], &r) < 0) {
		free_req(&r);
		cmd_reply(c, "BAD Invalid FETCH items");
		return;
	}
	if (view_select_set(s, c, c->args[0].str, c->uid, &sel) < 0) {
		free_req(&r);
		return;
	}
	plan(&r);
	if (r.has_modseq || mods.changedsince)
		imap_enable_condstore(s);
	if (mods.changedsince && !r.has_modseq) {
		add_simple(&r, F_MODSEQ);
		r.has_modseq = true;
	}
	if (v->readonly)
		r.sets_seen = false;
	if (mods.vanished)
		send_vanished(s, c->args[0].str, mods.changedsince);
	bool *seen_set = NULL;
	if (r.sets_seen && s->condstore) {
		/* set \Seen first so the FETCH carries the new MODSEQ */
		seen_set = xcalloc(v->n + 1, sizeof *seen_set);
		bool any = false;
		for (size_t i = 0; i < v->n; i++) {
			struct view_msg *m = &v->m[i];
			if (sel[i] && !m->expunged && !(m->flags & MAILDIR_F_SEEN) &&
			    (!mods.changedsince || m->modseq > mods.changedsince))
				any |= seen_set[i] =
					view_set_flags(v, i, m->flags | MAILDIR_F_SEEN, m->keywords) > 0;
		}
		if (any)
			view_refresh_modseq(v);
		r.sets_seen = false;
	}
	bool gone = false, failed = false;
	struct strbuf out = STRBUF_INIT, tmp = STRBUF_INIT;
	for (size_t i = 0; i < v->n; i++) {
		struct view_msg *m = &v->m[i];
		if (!sel[i])
			continue;
		if (m->expunged) {
			gone = true;
			continue;
		}
		if (mods.changedsince && m->modseq <= mods.changedsince)
			continue;
		struct imap_msg msg;
		memset(&msg, 0, sizeof msg);
		const struct mailcache_entry *ce = NULL;
		if (r.cache || (r.has_size && m->size < 0)) {
			/* from the cache, or read, parsed and cached now; the
			 * entry is valid until the next call on the cache, so
			 * this message's response is written before the next */
			char name[MAILDIR_NAME_MAX];
			bool in_new = m->in_new;
			snprintf(name, sizeof name, "%s", m->name);
			int fr = mailcache_fill(view_cache(v), v->dir, m->uid, name, sizeof name, &in_new, &ce);
			if (fr > 0 && strcmp(name, m->name) != 0) {
				free(m->name);
				m->name = xstrdup(name);
			}
			m->in_new = in_new;
			if (fr <= 0) {
				gone |= fr == 0;
				failed |= fr < 0;
				continue;
			}
		}
		if (r.need) {
			int lr = imap_msg_load(v, m, r.need | MSG_STAT, &msg);
			if (lr <= 0) {
				gone |= lr == 0;
				failed |= lr < 0;
				imap_msg_free(&msg);
				continue;
			}
			if (!ce && msg.mime && (off_t)msg.len == m->size &&
			    !mailcache_get(view_cache(v), m->uid, m->name, maildir_base_len(m->name)))
				/* parsed anyway (body sections): remember it */
				(void)mailcache_put_message(v->cache, m->uid, m->name,
							    maildir_base_len(m->name), msg.mtime,
							    msg.data, msg.len, msg.mime);
		}
		bool flags_changed = seen_set && seen_set[i];
		if (r.sets_seen && !(m->flags & MAILDIR_F_SEEN)) {
			flags_changed = view_set_flags(v, i, m->flags | MAILDIR_F_SEEN, m->keywords) > 0;
		}
		sb_reset(&out);
		put_num(&out, "* ", i + 1);
		sb_adds(&out, " FETCH (");
		bool first = true;
		if (c->uid && !r.has_uid) {
			put_num(&out, "UID ", m->uid);
			first = false;
		}
		for (size_t k = 0; k < r.n; k++) {
			if (!first)
				sb_addc(&out, ' ');
			first = false;
			write_item(&out, v, m, &msg, ce, &r.it[k], &tmp);
		}
		if (flags_changed && !r.has_flags) {
			sb_adds(&out, " FLAGS ");
			imap_write_flags(&out, v, m);
		}
		if (flags_changed && s->condstore && !r.has_modseq)
			sb_printf(&out, " MODSEQ (%llu)", (unsigned long long)m->modseq);
		sb_adds(&out, ")\r\n");
		io_write(&s->io, out.s, out.len);
		imap_msg_free(&msg);
	}
	sb_free(&out);
	sb_free(&tmp);
	free(sel);
	free(seen_set);
	free_req(&r);
	if (failed)
		cmd_reply(c, "NO [SERVERBUG] Some messages could not be read");
	else if (gone)
		cmd_reply(c, "NO [EXPUNGEISSUED] Some of the requested messages no longer exist");
}
