/* All-or-nothing delivery to several mailboxes and the queue. Order
 * matters: every clone is made from the finished tmp file BEFORE anything
 * is committed (commit unlinks the tmp file), the queued copy is written
 * and fsync'd but not yet published, then the local copies are committed
 * one by one, and the queue envelope is renamed into place last. A failure
 * uncommits the local copies already in new/, so the 250 always means
 * "every copy is on disk" and a 4xx means "no copy anywhere" — a runner
 * cannot pick up the queued copy before the local ones are in. A crash in
 * between can leave some copies delivered — the client then gets no 250
 * and retries, which is the accepted SMTP duplicate window (RFC 1047). */
#include "delivery.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hop-count.h"
#include "log.h"
#include "queue.h"
#include "recipient.h"
#include "smtp-trace.h"
#include "strbuf.h"

struct smtp_delivery {
	size_t first_local;          /* index of the first local box; nboxes when none */
	bool has_remote;
	struct maildir_tmp first;    /* the local copy, when first_local < nboxes */
	struct queue_new q;          /* the queued copy, when has_remote */
	struct hop_count hops;
};

static int tmp_errno(const struct maildir_tmp *t)
{
	if (t->err)
		return t->err;
	return errno ? errno : EIO;
}

static int queue_errno(const struct queue_new *q)
{
	if (q->err)
		return q->err;
	return errno ? errno : EIO;
}

struct smtp_delivery *smtp_delivery_open(const struct smtp_session *s, const char *id, int *err_r)
{
	const struct smtp_txn *t = &s->txn;
	struct smtp_delivery *dl = xcalloc(1, sizeof *dl);
	dl->first.fd = -1;
	dl->q.fd = -1;
	dl->first_local = t->nboxes;
	for (size_t i = 0; i < t->nboxes; i++) {
		if (smtp_box_is_remote(&t->boxes[i]))
			dl->has_remote = true;
		else if (dl->first_local == t->nboxes)
			dl->first_local = i;
	}
	hop_count_init(&dl->hops);
	bool has_local = dl->first_local < t->nboxes;
	if (t->nboxes == 0) {
		*err_r = EINVAL;
		free(dl);
		return NULL;
	}
	if (has_local && maildir_tmp_open(&dl->first, t->boxes[dl->first_local].dir) < 0) {
		*err_r = errno;
		free(dl);
		return NULL;
	}
	if (dl->has_remote && queue_new_open(s->cfg, &dl->q, NULL) < 0) {
		*err_r = errno;
		queue_new_abort(&dl->q);
		if (has_local)
			maildir_tmp_abort(&dl->first);
		free(dl);
		return NULL;
	}
	struct strbuf sb = STRBUF_INIT;
	struct smtp_trace tr = {
		.helo = s->helo,
		.peer = s->peer,
		.host = s->cfg->hostname,
		.protocol = smtp_trace_protocol(s->esmtp, s->tls, s->authenticated, t->smtputf8),
		.id = id,
		.for_rcpt = t->nrcpt == 1 ? t->first_rcpt : NULL,
		.when = time(NULL),
	};
	/* Return-Path is added at final delivery only (RFC 5321 §4.4) */
	smtp_trace_received(&sb, &tr);
	if (dl->has_remote)
		queue_new_write(&dl->q, sb.s, sb.len);
	hop_count_feed(&dl->hops, sb.s, sb.len);
	if (has_local) {
		struct strbuf rp = STRBUF_INIT;
		smtp_trace_return_path(&rp, t->sender);
		maildir_tmp_write(&dl->first, rp.s, rp.len);
		maildir_tmp_write(&dl->first, sb.s, sb.len);
		sb_free(&rp);
	}
	sb_free(&sb);
	return dl;
}

void smtp_delivery_write(void *ctx, const void *buf, size_t len)
{
	struct smtp_delivery *dl = ctx;
	/* a failure is remembered in the tmp/queue file and reported by commit */
	if (dl->first.fd >= 0)
		maildir_tmp_write(&dl->first, buf, len);
	if (dl->has_remote)
		queue_new_write(&dl->q, buf, len);
	hop_count_feed(&dl->hops, buf, len);
}

void smtp_delivery_abort(struct smtp_delivery *dl)
{
	if (dl->first.fd >= 0 || dl->first.path[0])
		maildir_tmp_abort(&dl->first);
	if (dl->has_remote)
		queue_new_abort(&dl->q);
	free(dl);
}

/* Write the queued copy and its envelope (not yet visible). 0 or -1. */
static int prepare_queue(struct smtp_delivery *dl, const struct smtp_session *s, int *err_r)
{
	const struct smtp_txn *t = &s->txn;
	struct queue_env env;
	memset(&env, 0, sizeof env);
	snprintf(env.sender, sizeof env.sender, "%s", t->sender);
	env.created = queue_now();
	env.body_8bit = t->body_8bit;
	env.smtputf8 = t->smtputf8;
	bool loop = hop_count_looping(&dl->hops);
	for (size_t i = 0; i < t->nboxes; i++) {
		if (!smtp_box_is_remote(&t->boxes[i]))
			continue;
		queue_env_add(&env, t->boxes[i].user);
		if (loop) {
			/* the runner bounces it at once instead of passing the loop on */
			struct queue_rcpt *r = &env.rcpt[env.nrcpt - 1];
			r->state = QUEUE_FAILED;
			snprintf(r->diag, sizeof r->diag,
				 "554 5.4.6 Routing loop detected: more than %d Received: fields",
				 HOP_COUNT_MAX);
		}
	}
	errno = 0;
	int rc = queue_new_prepare(&dl->q, &env);
	if (rc < 0) {
		*err_r = queue_errno(&dl->q);
		log_err("queueing failed: %s", strerror(*err_r));
	} else if (loop) {
		log_warn("queue id=%s: mail loop (over %d Received: fields), will bounce", dl->q.id,
			 HOP_COUNT_MAX);
	}
	queue_env_free(&env);
	return rc;
}
int smtp_delivery_commit(struct smtp_delivery *dl, const struct smtp_session *s, int *err_r)
{
	const struct smtp_txn *t = &s->txn;
	/* local boxes only, in transaction order, the first one first */
	size_t n = 0, ncloned = 0, ncommitted = 0;
	size_t *box = xcalloc(t->nboxes ? t->nboxes : 1, sizeof *box);
	for (size_t i = 0; i < t->nboxes; i++)
		if (!smtp_box_is_remote(&t->boxes[i]))
			box[n++] = i;
	struct maildir_tmp **tmps = xcalloc(n ? n : 1, sizeof *tmps);
	struct maildir_tmp *clones = n > 1 ? xcalloc(n - 1, sizeof *clones) : NULL;
	char (*names)[MAILDIR_NAME_MAX] = xcalloc(n ? n : 1, sizeof *names);
	int rc = -1;

	errno = 0;
	if (n > 0 && maildir_tmp_finish(&dl->first) < 0) {
		*err_r = tmp_errno(&dl->first);
		log_err("delivery to %s failed: %s", t->boxes[box[0]].user, strerror(*err_r));
		goto out;
	}
	tmps[0] = &dl->first;
	for (size_t i = 1; i < n; i++) {
		errno = 0;
		if (maildir_tmp_clone(&dl->first, t->boxes[box[i]].dir, &clones[i - 1]) < 0) {
			*err_r = tmp_errno(&clones[i - 1]);
			log_err("delivery to %s failed: %s", t->boxes[box[i]].user, strerror(*err_r));
			goto out;
		}
		tmps[i] = &clones[i - 1];
		ncloned = i;
	}
	if (dl->has_remote && prepare_queue(dl, s, err_r) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		errno = 0;
		if (maildir_tmp_commit(tmps[i], names[i], sizeof names[i]) < 0) {
			*err_r = tmp_errno(tmps[i]);
			log_err("delivery to %s failed: %s", t->boxes[box[i]].user, strerror(*err_r));
			goto out;
		}
		ncommitted = i + 1;
	}
	errno = 0;
	if (dl->has_remote && queue_new_publish(&dl->q) < 0) {
		*err_r = queue_errno(&dl->q);
		goto out;
	}
	rc = 0;
out:
	if (rc < 0) {
		for (size_t i = 0; i < ncommitted; i++)
			if (maildir_uncommit(t->boxes[box[i]].dir, names[i]) < 0)
				log_err("could not take back %s/new/%s", t->boxes[box[i]].dir, names[i]);
		/* commit removed the tmp files of the committed ones */
		for (size_t i = ncommitted; n > 0 && i <= ncloned && i < n; i++)
			if (i == 0 || tmps[i])
				maildir_tmp_abort(i == 0 ? &dl->first : tmps[i]);
		if (dl->has_remote)
			queue_new_abort(&dl->q);
	} else if (dl->has_remote) {
		log_info("queued id=%s for %zu remote recipient(s)", dl->q.id, t->nboxes - n);
		queue_kick(s->cfg);
	}
	free(names);
	free(clones);
	free(tmps);
	free(box);
	free(dl);
	return rc;
}
