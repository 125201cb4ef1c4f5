/* All-or-nothing delivery to several mailboxes. Order matters: every clone
 * is made from the finished tmp file BEFORE anything is committed (commit
 * unlinks the tmp file), then the copies are committed one by one, and a
 * failure uncommits the ones already in new/. A crash in between can leave
 * some copies delivered — the client then gets no 250 and retries, which
 * is the accepted SMTP duplicate window (RFC 1047). */
#include "delivery.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "smtp-trace.h"
#include "strbuf.h"

struct smtp_delivery {
	struct maildir_tmp first;
};

static int tmp_errno(const struct maildir_tmp *t)
{
	if (t->err)
		return t->err;
	return errno ? errno : EIO;
}

struct smtp_delivery *smtp_delivery_open(const struct smtp_session *s, const char *id, int *err_r)
{
	const struct smtp_txn *t = &s->txn;
	struct smtp_delivery *dl = xcalloc(1, sizeof *dl);
	if (t->nboxes == 0 || maildir_tmp_open(&dl->first, t->boxes[0].dir) < 0) {
		*err_r = t->nboxes == 0 ? EINVAL : errno;
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
	smtp_trace_return_path(&sb, t->sender);
	smtp_trace_received(&sb, &tr);
	maildir_tmp_write(&dl->first, sb.s, sb.len);
	sb_free(&sb);
	return dl;
}

void smtp_delivery_write(void *ctx, const void *buf, size_t len)
{
	struct smtp_delivery *dl = ctx;
	/* a failure is remembered in the tmp and reported by commit */
	maildir_tmp_write(&dl->first, buf, len);
}

void smtp_delivery_abort(struct smtp_delivery *dl)
{
	maildir_tmp_abort(&dl->first);
	free(dl);
}

int smtp_delivery_commit(struct smtp_delivery *dl, const struct smtp_session *s, int *err_r)
{
	const struct smtp_txn *t = &s->txn;
	size_t n = t->nboxes, ncloned = 0, ncommitted = 0;
	struct maildir_tmp **tmps = xcalloc(n, sizeof *tmps);
	struct maildir_tmp *clones = n > 1 ? xcalloc(n - 1, sizeof *clones) : NULL;
	char (*names)[MAILDIR_NAME_MAX] = xcalloc(n, sizeof *names);
	int rc = -1;

	errno = 0;
	if (maildir_tmp_finish(&dl->first) < 0) {
		*err_r = tmp_errno(&dl->first);
		log_err("delivery to %s failed: %s", t->boxes[0].user, strerror(*err_r));
		goto out;
	}
	tmps[0] = &dl->first;
	for (size_t i = 1; i < n; i++) {
		errno = 0;
		if (maildir_tmp_clone(&dl->first, t->boxes[i].dir, &clones[i - 1]) < 0) {
			*err_r = tmp_errno(&clones[i - 1]);
			log_err("delivery to %s failed: %s", t->boxes[i].user, strerror(*err_r));
			goto out;
		}
		tmps[i] = &clones[i - 1];
		ncloned = i;
	}
	for (size_t i = 0; i < n; i++) {
		errno = 0;
		if (maildir_tmp_commit(tmps[i], names[i], sizeof names[i]) < 0) {
			*err_r = tmp_errno(tmps[i]);
			log_err("delivery to %s failed: %s", t->boxes[i].user, strerror(*err_r));
			goto out;
		}
		ncommitted = i + 1;
	}
	rc = 0;
out:
	if (rc < 0) {
		for (size_t i = 0; i < ncommitted; i++)
			if (maildir_uncommit(t->boxes[i].dir, names[i]) < 0)
				log_err("could not take back %s/new/%s", t->boxes[i].dir, names[i]);
		/* commit removed the tmp files of the committed ones */
		for (size_t i = ncommitted; i <= ncloned && i < n; i++)
			if (i == 0 || tmps[i])
				maildir_tmp_abort(i == 0 ? &dl->first : tmps[i]);
	}
	free(names);
	free(clones);
	free(tmps);
	free(dl);
	return rc;
}
