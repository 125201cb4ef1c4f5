/* Flag lists of STORE and APPEND: system flags by name, keywords through
 * the mailbox's keyword file (new keywords are added there on demand). */
#include <string.h>
#include <strings.h>

#include "imapd.h"

static const struct {
	const char *name;
	unsigned bit;
} sysflags[] = {
	{ "\\Seen", MAILDIR_F_SEEN },         { "\\Answered", MAILDIR_F_REPLIED },
	{ "\\Flagged", MAILDIR_F_FLAGGED },   { "\\Deleted", MAILDIR_F_TRASHED },
	{ "\\Draft", MAILDIR_F_DRAFT },
};

static int one_flag(struct imap_cmd *c, const struct imap_arg *a, const char *dir,
		    struct imap_keywords *kw, bool add_kw, unsigned *flags, uint32_t *kws)
{
	if (a->type != IMAP_ARG_ATOM) {
		cmd_reply(c, "BAD Invalid flag");
		return -1;
	}
	if (a->str[0] == '\\') {
		for (size_t i = 0; i < sizeof sysflags / sizeof sysflags[0]; i++) {
			if (strcasecmp(a->str, sysflags[i].name) == 0) {
				*flags |= sysflags[i].bit;
				return 0;
			}
		}
		if (strcasecmp(a->str, "\\Recent") == 0)
			return 0; /* cannot be changed; ignored */
		cmd_reply(c, "BAD Invalid system flag %s", strlen(a->str) < 64 ? a->str : "");
		return -1;
	}
	if (!imap_keyword_valid(a->str)) {
		cmd_reply(c, "BAD Invalid keyword");
		return -1;
	}
	int idx = add_kw ? imap_keywords_add(dir, kw, a->str) : imap_keywords_find(kw, a->str);
	if (idx < 0 && add_kw) {
		cmd_reply(c, "NO [LIMIT] Too many keywords in this mailbox");
		return -1;
	}
	if (idx >= 0)
		*kws |= 1u << idx;
	return 0;
}

int imap_flags_parse(struct imap_cmd *c, const struct imap_arg *args, size_t n, const char *dir,
		     struct imap_keywords *kw, bool add_kw, unsigned *flags_r, uint32_t *kw_r)
{
	*flags_r = 0;
	*kw_r = 0;
	if (n == 1 && args[0].type == IMAP_ARG_LIST) {
		n = args[0].list_n;
		args = args[0].list;
	}
	for (size_t i = 0; i < n; i++)
		if (one_flag(c, &args[i], dir, kw, add_kw, flags_r, kw_r) < 0)
			return -1;
	return 0;
}
