/* COPY, MOVE (RFC 6851) and their UID forms: each message is written into
 * the target like an APPEND (tmp, fsync, link into cur/ with its flags,
 * keywords mapped by name into the target's keyword file, same internal
 * date). All or nothing: on a failure the copies made so far are removed.
 * COPYUID (UIDPLUS) goes in the tagged reply, for MOVE in an untagged OK
 * before the EXPUNGE responses of the originals. MOVE is copy, then remove
 * the original: a crash in between leaves the message in both mailboxes,
 * never in neither; two sessions moving one message leave one copy. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imapd.h"
#include "log.h"
#include "uidlist.h"

struct copied {
	uint32_t src_uid;
	size_t idx;                  /* in the view */
	char name[MAILDIR_NAME_MAX];
};

static int copy_one(struct mailbox_view *v, struct view_msg *m, const char *dstdir,
		    struct imap_keywords *dkw, char *name_r)
{
	struct imap_msg msg;
	memset(&msg, 0, sizeof msg);
	int r = imap_msg_load(v, m, MSG_DATA | MSG_STAT, &msg);
	if (r <= 0)
		return r == 0 ? 0 : -1;
	uint32_t kw = 0;
	for (int b = 0; b < IMAP_KEYWORDS_MAX; b++) {
		if (!(m->keywords & (1u << b)) || !v->kw.names[b])
			continue;
		int idx = imap_keywords_add(dstdir, dkw, v->kw.names[b]);
		if (idx >= 0)
			kw |= 1u << idx;
	}
	struct maildir_tmp t;
	if (maildir_tmp_open(&t, dstdir) < 0) {
		imap_msg_free(&msg);
		return -1;
	}
	maildir_tmp_write(&t, msg.data, msg.len);
	r = maildir_tmp_commit_cur(&t, m->flags, kw, msg.mtime, name_r, MAILDIR_NAME_MAX);
	if (r < 0)
		maildir_tmp_abort(&t);
	imap_msg_free(&msg);
	return r < 0 ? -1 : 1;
}

/* "src-uids dst-uids" for COPYUID, from the target's uid list. */
static void copyuid(struct strbuf *out, const char *dstdir, const struct copied *cp, size_t n)
{
	struct uidlist ul;
	memset(&ul, 0, sizeof ul);
	if (n == 0 || uidlist_sync(dstdir, &ul) < 0)
		return;
	struct strbuf src = STRBUF_INIT, dst = STRBUF_INIT;
	bool ok = true;
	for (size_t i = 0; i < n && ok; i++) {
		const struct uidlist_rec *r = uidlist_find_base(&ul, cp[i].name);
		uint32_t uid = r ? r->uid : 0;
		ok = uid != 0;
		sb_printf(&src, "%s%u", i ? "," : "", (unsigned)cp[i].src_uid);
		sb_printf(&dst, "%s%u", i ? "," : "", (unsigned)uid);
	}
	if (ok)
		sb_printf(out, "[COPYUID %u %s %s] ", (unsigned)ul.uidvalidity, src.s, dst.s);
	sb_free(&src);
	sb_free(&dst);
	uidlist_free(&ul);
}

/* Remove the copies made so far (the command failed as a whole). */
static void undo(const char *dir, const struct copied *cp, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char path[MAILDIR_PATH_MAX + MAILDIR_NAME_MAX + 8];
		snprintf(path, sizeof path, "%s/cur/%s", dir, cp[i].name);
		if (unlink(path) < 0)
			log_err("unlink(%s) failed: %m", path);
	}
}

/* MOVE, after the copies: remove each original. Its removal is what
 * decides a race between two sessions moving the same message (both may
 * have copied it): the one whose unlink finds the original keeps its copy,
 * the other takes its copy back, so the message lands in the target once.
 * An original that cannot be removed also takes its copy back. Keeps in
 * CP (returning how many) the messages this session moved; *MOVED_R[i] is
 * set for their view indexes. */
static size_t remove_originals(struct mailbox_view *v, const char *dstdir, struct copied *cp,
			       size_t n, bool *moved_r)
{
	size_t kept = 0;
	for (size_t k = 0; k < n; k++) {
		struct view_msg *m = &v->m[cp[k].idx];
		if (maildir_remove(v->dir, m->name, m->in_new) > 0) {
			moved_r[cp[k].idx] = true;
			cp[kept++] = cp[k];
		} else {
			undo(dstdir, &cp[k], 1); /* gone meanwhile, or logged */
		}
	}
	return kept;
}

static void copy_or_move(struct imap_session *s, struct imap_cmd *c, bool move)
{
	struct mailbox_view *v = s->view;
	char canon[MAILDIR_PATH_MAX], dir[MAILDIR_PATH_MAX];
	if (c->nargs != 2 || c->args[0].type != IMAP_ARG_ATOM || !imap_arg_is_astring(&c->args[1])) {
		cmd_reply(c, "BAD %s needs a sequence set and a mailbox", c->name);
		return;
	}
	bool *sel;
	if (view_select_set(s, c, c->args[0].str, c->uid, &sel) < 0)
		return;
	if (move && v->readonly) {
		free(sel);
		cmd_reply(c, "NO [READ-ONLY] Mailbox is read-only");
		return;
	}
	if (imap_mailbox_dir(s, c, c->args[1].str, canon, dir) < 0) {
		free(sel);
		return;
	}
	if (!imap_mailbox_exists(dir)) {
		free(sel);
		cmd_reply(c, "NO [TRYCREATE] Mailbox doesn't exist");
		return;
	}
	struct imap_keywords dkw;
	memset(&dkw, 0, sizeof dkw);
	imap_keywords_load(dir, &dkw);
	struct copied *cp = NULL;
	size_t n = 0;
	bool failed = false, gone = false;
	for (size_t i = 0; i < v->n && !failed && !gone; i++) {
		if (!sel[i])
			continue;
		if (v->m[i].expunged) {
			gone = true;
			continue;
		}
		cp = xrealloc(cp, (n + 1) * sizeof *cp);
		int r = copy_one(v, &v->m[i], dir, &dkw, cp[n].name);
		if (r < 0)
			failed = true;
		else if (r == 0)
			gone = true;
		else {
			cp[n].idx = i;
			cp[n++].src_uid = v->m[i].uid;
		}
	}
	if (failed || gone) {
		undo(dir, cp, n);
		if (failed)
			cmd_reply(c, "NO [SERVERBUG] %s failed; nothing was copied", c->name);
		else
			cmd_reply(c, "NO [EXPUNGEISSUED] Some of the messages no longer exist");
	} else {
		struct strbuf sb = STRBUF_INIT;
		bool *moved = move ? xcalloc(v->n ? v->n : 1, sizeof *moved) : NULL;
		size_t copied = n;
		if (move)
			n = remove_originals(v, dir, cp, n, moved);
		copyuid(&sb, dir, cp, n);
		if (sb.len > sizeof c->result - 64 && !move)
			sb_reset(&sb); /* too long for the tagged line */
		if (move) {
			/* COPYUID first, then the EXPUNGEs, highest number first */
			if (sb.len)
				imap_untagged(s, "OK %sMoved.", sb.s);
			for (size_t i = v->n; i-- > 0;)
				if (moved[i])
					view_expunged(s, i);
			free(moved);
			if (n == 0 && copied > 0)
				cmd_reply(c, "NO [EXPUNGEISSUED] Another session moved or expunged the messages first");
			else
				cmd_reply(c, "OK %s completed.", c->name);
		} else {
			cmd_reply(c, "OK %s%s completed.", sb.s ? sb.s : "", c->name);
		}
		sb_free(&sb);
	}
	free(cp);
	imap_keywords_free(&dkw);
	free(sel);
}

void cmd_copy(struct imap_session *s, struct imap_cmd *c)
{
	copy_or_move(s, c, false);
}

void cmd_move(struct imap_session *s, struct imap_cmd *c)
{
	copy_or_move(s, c, true);
}
