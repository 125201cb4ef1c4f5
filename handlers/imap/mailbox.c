/* Mailbox names from clients: modified UTF-7 checked, INBOX in any case
 * folded, and the name mapped to a directory by maildir_folder_path, which
 * refuses anything that could leave the user's tree. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "imapd.h"
#include "mutf7.h"

bool imap_is_inbox(const char *name)
{
	return strcasecmp(name, "INBOX") == 0;
}

int imap_mailbox_dir(struct imap_session *s, struct imap_cmd *c, const char *name,
		     char canon_r[MAILDIR_PATH_MAX], char dir_r[MAILDIR_PATH_MAX])
{
	if (strlen(name) >= MAILDIR_PATH_MAX || !mutf7_valid(name)) {
		cmd_reply(c, "NO [CANNOT] Invalid mailbox name");
		return -1;
	}
	strcpy(canon_r, imap_is_inbox(name) ? "INBOX" : name);
	if (maildir_folder_path(s->root, canon_r, dir_r, MAILDIR_PATH_MAX) < 0) {
		cmd_reply(c, "NO [CANNOT] Invalid mailbox name");
		return -1;
	}
	return 0;
}

bool imap_mailbox_exists(const char *dir)
{
	char path[MAILDIR_PATH_MAX + 8];
	struct stat st;
	snprintf(path, sizeof path, "%s/cur", dir);
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}
