/* SELECT, EXAMINE, CLOSE, UNSELECT: entering and leaving the selected
 * state. A failed SELECT leaves no mailbox selected (RFC 3501 §6.3.1).
 * Every SELECT reports HIGHESTMODSEQ (RFC 7162 §3.1.2.1); the (CONDSTORE)
 * and (QRESYNC (uidvalidity modseq [known-uids])) parameters, the latter
 * answered with VANISHED (EARLIER) and FETCH of what changed since. */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imapd.h"

static void unselect(struct imap_session *s)
{
	if (s->view)
		view_free(s->view);
	s->view = NULL;
	s->state = IMAP_ST_AUTH;
}

struct qresync {
	bool on;
	uint32_t uidvalidity;
	uint64_t modseq;
	bool has_known;
	struct imap_seqset known;
};

static bool parse_num(const struct imap_arg *a, uint64_t max, uint64_t *n_r)
{
	if (a->type != IMAP_ARG_ATOM || !isdigit((unsigned char)a->str[0]))
		return false;
	char *end;
	errno = 0;
	unsigned long long n = strtoull(a->str, &end, 10);
	if (*end || errno || n > max)
		return false;
	*n_r = n;
	return true;
}

/* "(CONDSTORE)" or "(QRESYNC (uidvalidity modseq [known-uids [seq-match]]))". */
static int parse_params(struct imap_session *s, struct imap_cmd *c, const struct imap_arg *a,
			struct qresync *q)
{
	if (a->type != IMAP_ARG_LIST) {
		cmd_reply(c, "BAD Invalid SELECT parameters");
		return -1;
	}
	for (size_t i = 0; i < a->list_n; i++) {
		const struct imap_arg *p = &a->list[i];
		if (imap_arg_atom_eq(p, "CONDSTORE")) {
			/* SELECT itself reports HIGHESTMODSEQ */
			s->condstore = true;
			continue;
		}
		if (!imap_arg_atom_eq(p, "QRESYNC")) {
			cmd_reply(c, "BAD Unknown SELECT parameter");
			return -1;
		}
		if (!s->qresync) {
			cmd_reply(c, "BAD QRESYNC is not enabled");
			return -1;
		}
		const struct imap_arg *l = i + 1 < a->list_n ? &a->list[++i] : NULL;
		uint64_t uv, ms;
		if (!l || l->type != IMAP_ARG_LIST || l->list_n < 2 || l->list_n > 4 ||
		    !parse_num(&l->list[0], UINT32_MAX, &uv) || uv == 0 ||
		    !parse_num(&l->list[1], INT64_MAX, &ms) || ms == 0) {
			cmd_reply(c, "BAD Invalid QRESYNC parameters");
			return -1;
		}
		q->on = true;
		q->uidvalidity = (uint32_t)uv;
		q->modseq = ms;
		if (l->list_n >= 3) {
			if (l->list[2].type != IMAP_ARG_ATOM ||
			    imap_seqset_parse(l->list[2].str, UINT32_MAX, &q->known) < 0) {
				cmd_reply(c, "BAD Invalid known UIDs");
				return -1;
			}
			q->has_known = true;
		}
		/* the sequence match data only helps servers without a
		 * VANISHED history; ours is checked for syntax only */
		if (l->list_n == 4 && (l->list[3].type != IMAP_ARG_LIST || l->list[3].list_n != 2)) {
			cmd_reply(c, "BAD Invalid sequence match data");
			return -1;
		}
	}
	return 0;
}

/* The changes since the client's modseq: VANISHED (EARLIER), then FETCH. */
static void qresync_report(struct imap_session *s, const struct qresync *q)
{
	struct mailbox_view *v = s->view;
	struct uidlist ul;
	struct modseq_state ms;
	memset(&ul, 0, sizeof ul);
	memset(&ms, 0, sizeof ms);
	if (modseq_sync(v->dir, &ul, &ms) == 0) {
		struct strbuf sb = STRBUF_INIT;
		modseq_vanished(&ms, &ul, q->modseq, q->has_known ? &q->known : NULL, &sb);
		if (sb.len)
			imap_untagged(s, "VANISHED (EARLIER) %s", sb.s);
		sb_free(&sb);
		uidlist_free(&ul);
		modseq_free(&ms);
	}
	for (size_t i = 0; i < v->n; i++) {
		struct view_msg *m = &v->m[i];
		if (m->modseq <= q->modseq || (q->has_known && !imap_seqset_contains(&q->known, m->uid)))
			continue;
		struct strbuf sb = STRBUF_INIT;
		imap_write_flags(&sb, v, m);
		imap_untagged(s, "%zu FETCH (UID %u FLAGS %s MODSEQ (%llu))", i + 1, (unsigned)m->uid,
			      sb.s, (unsigned long long)m->modseq);
		sb_free(&sb);
	}
}

void cmd_select(struct imap_session *s, struct imap_cmd *c)
{
	bool readonly = strcmp(c->name, "EXAMINE") == 0;
	char canon[MAILDIR_PATH_MAX], dir[MAILDIR_PATH_MAX];
	struct qresync q;
	memset(&q, 0, sizeof q);
	if (c->nargs < 1 || c->nargs > 2 || !imap_arg_is_astring(&c->args[0])) {
		cmd_reply(c, "BAD %s needs a mailbox name", c->name);
		return;
	}
	if (c->nargs == 2 && parse_params(s, c, &c->args[1], &q) < 0) {
		imap_seqset_free(&q.known);
		return;
	}
	unselect(s);
	if (imap_mailbox_dir(s, c, c->args[0].str, canon, dir) < 0)
		return;
	if (!imap_mailbox_exists(dir)) {
		cmd_reply(c, "NO [NONEXISTENT] Mailbox doesn't exist: %.200s", canon);
		return;
	}
	struct mailbox_view *v;
	if (view_open(s, canon, dir, readonly, &v) < 0) {
		imap_seqset_free(&q.known);
		cmd_reply(c, "NO [SERVERBUG] Cannot open mailbox");
		return;
	}
	s->view = v;
	s->state = IMAP_ST_SELECTED;

	struct strbuf sb = STRBUF_INIT;
	imap_write_flag_names(&sb, v);
	imap_untagged(s, "FLAGS (%s)", sb.s);
	if (readonly)
		imap_untagged(s, "OK [PERMANENTFLAGS ()] Read-only mailbox.");
	else
		imap_untagged(s, "OK [PERMANENTFLAGS (%s \\*)] Flags permitted.", sb.s);
	sb_free(&sb);
	imap_untagged(s, "%zu EXISTS", v->n);
	imap_untagged(s, "%zu RECENT", view_count_recent(v));
	for (size_t i = 0; i < v->n; i++) {
		if (!(v->m[i].flags & MAILDIR_F_SEEN)) {
			imap_untagged(s, "OK [UNSEEN %zu] First unseen.", i + 1);
			break;
		}
	}
	imap_untagged(s, "OK [UIDVALIDITY %u] UIDs valid", (unsigned)v->uidvalidity);
	imap_untagged(s, "OK [UIDNEXT %u] Predicted next UID", (unsigned)v->uidnext);
	imap_untagged(s, "OK [HIGHESTMODSEQ %llu] Highest", (unsigned long long)v->highestmodseq);
	if (q.on && q.uidvalidity == v->uidvalidity)
		qresync_report(s, &q);
	imap_seqset_free(&q.known);
	cmd_reply(c, "OK [%s] %s completed.", readonly ? "READ-ONLY" : "READ-WRITE", c->name);
}

void cmd_close(struct imap_session *s, struct imap_cmd *c)
{
	if (c->nargs) {
		cmd_reply(c, "BAD CLOSE takes no arguments");
		return;
	}
	if (!s->view->readonly)
		imap_expunge_deleted(s, NULL, false);
	unselect(s);
}

void cmd_unselect(struct imap_session *s, struct imap_cmd *c)
{
	if (c->nargs) {
		cmd_reply(c, "BAD UNSELECT takes no arguments");
		return;
	}
	unselect(s);
}
