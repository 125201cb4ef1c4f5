/* Exact aliases win over users, a domain catch-all only applies to
 * addresses that are no user (lib/aliases.c); so aliases are asked first.
 * The local part is taken literally: "user%other" and "other!user" are just
 * local parts that match no user, never routing instructions. Remote
 * recipients (alias targets, or any address for an authenticated client)
 * are mailboxes without a directory: the delivery queues them. Everything
 * else — other domains, address literals, source routes (dropped by the
 * path parser, so the real domain decides) — is relaying, refused unless
 * the session is authenticated. */
#include "recipient.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aliases.h"
#include "log.h"
#include "strbuf.h"
#include "users.h"

/* A new slot for NAME, or NULL when NAME is already there (*rc OK) or
 * the limit is reached (*rc TOO_MANY). */
static struct smtp_mailbox *new_box(struct smtp_session *s, const char *name,
				    enum smtp_rcpt_result *rc)
{
	struct smtp_txn *t = &s->txn;
	*rc = SMTP_RCPT_OK;
	for (size_t i = 0; i < t->nboxes; i++)
		if (strcmp(t->boxes[i].user, name) == 0)
			return NULL;
	if (t->nboxes >= SMTP_MAX_MAILBOXES) {
		*rc = SMTP_RCPT_TOO_MANY;
		return NULL;
	}
	if (t->nboxes == t->capboxes) {
		size_t cap = t->capboxes ? t->capboxes * 2 : 4;
		t->boxes = xrealloc(t->boxes, cap * sizeof *t->boxes);
		t->capboxes = cap;
	}
	struct smtp_mailbox *b = &t->boxes[t->nboxes];
	snprintf(b->user, sizeof b->user, "%s", name);
	b->dir[0] = '\0';
	return b;
}

/* A remote recipient: queued at the end of the data. */
static enum smtp_rcpt_result add_remote(struct smtp_session *s, const char *addr)
{
	enum smtp_rcpt_result rc;
	if (strlen(addr) >= sizeof s->txn.boxes[0].user)
		return SMTP_RCPT_ERROR;
	if (new_box(s, addr, &rc))
		s->txn.nboxes++;
	return rc;
}

static enum smtp_rcpt_result add_box(struct smtp_session *s, const struct user *u)
{
	struct smtp_txn *t = &s->txn;
	enum smtp_rcpt_result rc;
	struct smtp_mailbox *b = new_box(s, u->name, &rc);
	if (!b)
		return rc;
	if (maildir_user_path(s->cfg, u->local, u->domain, b->dir, sizeof b->dir) < 0) {
		log_err("mail directory path for %s too long", u->name);
		return SMTP_RCPT_ERROR;
	}
	/* <domain>/<local> swapped for a symlink must not lead outside */
	if (maildir_check_user_dir(s->cfg, b->dir) < 0) {
		log_err("maildir of %s is not a plain directory: %m", u->name);
		return SMTP_RCPT_ERROR;
	}
	t->nboxes++;
	return SMTP_RCPT_OK;
}

/* A user by full name: OK (added), NO_USER, or ERROR. */
static enum smtp_rcpt_result add_user(struct smtp_session *s, const char *name)
{
	struct user u;
	int r = users_lookup(s->cfg, name, &u);
	explicit_bzero(u.secret, sizeof u.secret);
	if (r < 0)
		return SMTP_RCPT_ERROR;
	if (r == 0)
		return SMTP_RCPT_NO_USER;
	return add_box(s, &u);
}

static enum smtp_rcpt_result add_alias(struct smtp_session *s, const char *name,
				       const struct alias_targets *t)
{
	size_t nlocal = 0, nremote = 0;
	enum smtp_rcpt_result rc = SMTP_RCPT_OK;
	for (size_t i = 0; i < t->n && rc == SMTP_RCPT_OK; i++) {
		const char *at = strrchr(t->addr[i], '@');
		if (!at || !config_is_local_domain(s->cfg, at + 1)) {
			rc = add_remote(s, t->addr[i]);
			if (rc == SMTP_RCPT_OK)
				nremote++;
			continue;
		}
		enum smtp_rcpt_result r = add_user(s, t->addr[i]);
		if (r == SMTP_RCPT_NO_USER)
			log_warn("alias %s: target %s is no user, skipped", name, t->addr[i]);
		else if (r == SMTP_RCPT_OK)
			nlocal++;
		else
			rc = r;
	}
	if (rc == SMTP_RCPT_OK && nlocal + nremote == 0) {
		log_err("alias %s has no deliverable target", name);
		rc = SMTP_RCPT_ERROR;
	}
	return rc;
}

enum smtp_rcpt_result smtp_rcpt_resolve(struct smtp_session *s, const struct smtp_path *p)
{
	const struct config *cfg = s->cfg;
	const char *domain = p->domain[0] ? p->domain : (cfg->ndomains ? cfg->domains[0] : "");
	if (p->literal || !domain[0] || !config_is_local_domain(cfg, domain)) {
		if (!s->authenticated || p->null || !p->domain[0])
			return SMTP_RCPT_RELAY;
		size_t before = s->txn.nboxes;
		enum smtp_rcpt_result rc = add_remote(s, p->addr);
		if (rc != SMTP_RCPT_OK)
			s->txn.nboxes = before;
		return rc;
	}

	char name[USER_NAME_MAX + 8];
	int n = snprintf(name, sizeof name, "%s@%s", p->local, domain);
	if (n < 0 || (size_t)n >= sizeof name)
		return SMTP_RCPT_NO_USER;

	size_t before = s->txn.nboxes;
	enum smtp_rcpt_result rc;
	struct alias_targets *t = xcalloc(1, sizeof *t);
	int a = aliases_expand(cfg, name, t);
	if (a < 0)
		rc = SMTP_RCPT_ERROR;
	else if (a > 0)
		rc = add_alias(s, name, t);
	else
		rc = add_user(s, name);
	free(t);
	if (rc != SMTP_RCPT_OK)
		s->txn.nboxes = before; /* all of this recipient or nothing */
	return rc;
}
