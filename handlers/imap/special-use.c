/* SPECIAL-USE (RFC 6154): a new user gets Sent, Drafts, Trash, Junk and
 * Archive at the first login (subscribed), and LIST flags them, so clients
 * do not invent "Sent Items" or "Deleted Items" of their own. */
#include <string.h>

#include "imapd.h"
#include "log.h"

static const struct {
	const char *name, *attr;
} special[] = {
	{ "Sent", "\\Sent" },   { "Drafts", "\\Drafts" },   { "Trash", "\\Trash" },
	{ "Junk", "\\Junk" },   { "Archive", "\\Archive" },
};

const char *imap_special_use(const char *name)
{
	for (size_t i = 0; i < sizeof special / sizeof special[0]; i++)
		if (strcmp(name, special[i].name) == 0)
			return special[i].attr;
	return NULL;
}

void imap_special_use_create(const char *root)
{
	for (size_t i = 0; i < sizeof special / sizeof special[0]; i++) {
		if (maildir_folder_create(root, special[i].name) < 0 ||
		    maildir_subscribe(root, special[i].name, true) < 0)
			log_warn("cannot create folder %s for a new user", special[i].name);
	}
}
