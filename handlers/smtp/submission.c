/* Submission (RFC 6409 §6.1): the envelope sender must be the
 * authenticated user's own address, or an alias of a local domain that
 * expands to that user. Another user's address never is, even when a
 * catch-all alias would expand it to us. */
#include "commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aliases.h"
#include "log.h"
#include "strbuf.h"
#include "users.h"

int smtp_sender_owned(const struct smtp_session *s, const struct smtp_path *sender)
{
	const struct config *cfg = s->cfg;
	char local[USER_LOCAL_MAX + 1], domain[USER_DOMAIN_MAX + 1], name[USER_NAME_MAX];
	if (!s->authenticated || sender->null || sender->literal || sender->quoted ||
	    !sender->domain[0] || !config_is_local_domain(cfg, sender->domain))
		return 0;
	/* lower-cases both parts: user names are case-insensitive */
	if (users_parse_name(cfg, sender->addr, local, domain) != 0)
		return 0;
	snprintf(name, sizeof name, "%s@%s", local, domain); /* fits: bounded parts */
	if (strcmp(name, s->auth_user) == 0)
		return 1;

	struct user u;
	int r = users_lookup(cfg, name, &u);
	if (r < 0)
		return -1;
	if (r == 1)
		return 0; /* somebody else's mailbox */

	struct alias_targets *t = xcalloc(1, sizeof *t);
	int owned = 0;
	r = aliases_expand(cfg, name, t);
	if (r < 0)
		owned = -1;
	for (size_t i = 0; r == 1 && i < t->n && !owned; i++) {
		char tl[USER_LOCAL_MAX + 1], td[USER_DOMAIN_MAX + 1], tn[USER_NAME_MAX];
		if (users_parse_name(cfg, t->addr[i], tl, td) != 0)
			continue;
		snprintf(tn, sizeof tn, "%s@%s", tl, td);
		owned = strcmp(tn, s->auth_user) == 0;
	}
	free(t);
	return owned;
}
