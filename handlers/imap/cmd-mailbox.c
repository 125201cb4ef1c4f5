/* CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE. Folders are Maildir++
 * directories; renaming INBOX moves its messages into a new folder and
 * leaves INBOX empty (RFC 3501 §6.3.5). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "imapd.h"
#include "log.h"

static bool one_name(struct imap_cmd *c, size_t n)
{
	if (c->nargs != n) {
		cmd_reply(c, "BAD %s needs %s", c->name, n == 1 ? "a mailbox name" : "two mailbox names");
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (!imap_arg_is_astring(&c->args[i]) || strlen(c->args[i].str) != c->args[i].len) {
			cmd_reply(c, "BAD Invalid mailbox name argument");
			return false;
		}
	}
	return true;
}

void cmd_create(struct imap_session *s, struct imap_cmd *c)
{
	char canon[MAILDIR_PATH_MAX], dir[MAILDIR_PATH_MAX];
	if (!one_name(c, 1))
		return;
	/* "A/" asks for a folder that will hold others: same as "A" here. */
	char *name = c->args[0].str;
	size_t len = strlen(name);
	if (len > 1 && name[len - 1] == '/')
		name[len - 1] = '\0';
	if (imap_mailbox_dir(s, c, name, canon, dir) < 0)
		return;
	if (imap_is_inbox(canon)) {
		cmd_reply(c, "NO [ALREADYEXISTS] INBOX always exists");
		return;
	}
	int r = maildir_folder_create(s->root, canon);
	if (r > 0) {
		/* start its modseqs at 1 while it is empty (modseq.c) */
		struct uidlist ul;
		struct modseq_state ms;
		memset(&ul, 0, sizeof ul);
		memset(&ms, 0, sizeof ms);
		if (modseq_sync(dir, &ul, &ms) == 0) {
			uidlist_free(&ul);
			modseq_free(&ms);
		}
	}
	if (r == 0)
		cmd_reply(c, "NO [ALREADYEXISTS] Mailbox already exists");
	else if (r < 0)
		cmd_reply(c, "NO [CANNOT] Cannot create mailbox");
}

void cmd_delete(struct imap_session *s, struct imap_cmd *c)
{
	char canon[MAILDIR_PATH_MAX], dir[MAILDIR_PATH_MAX];
	if (!one_name(c, 1) || imap_mailbox_dir(s, c, c->args[0].str, canon, dir) < 0)
		return;
	if (imap_is_inbox(canon)) {
		cmd_reply(c, "NO [CANNOT] INBOX cannot be deleted");
		return;
	}
	if (s->view && strcmp(s->view->dir, dir) == 0) {
		cmd_reply(c, "NO [INUSE] Cannot delete the selected mailbox");
		return;
	}
	int r = maildir_folder_delete(s->root, canon);
	if (r == 0)
		cmd_reply(c, "NO [NONEXISTENT] Mailbox doesn't exist");
	else if (r < 0)
		cmd_reply(c, "NO [CANNOT] Cannot delete mailbox");
}

/* Move every message file of INBOX into the new folder TO. */
static int move_inbox(struct imap_session *s, const char *todir)
{
	static const char *subs[] = { "new", "cur" };
	int rc = 0;
	for (size_t k = 0; k < 2; k++) {
		char from[MAILDIR_PATH_MAX + 8];
		snprintf(from, sizeof from, "%s/%s", s->root, subs[k]);
		DIR *d = opendir(from);
		if (!d) {
			log_err("opendir(%s) failed: %m", from);
			return -1;
		}
		struct dirent *e;
		while ((e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			char a[MAILDIR_PATH_MAX + MAILDIR_NAME_MAX + 8], b[MAILDIR_PATH_MAX + MAILDIR_NAME_MAX + 8];
			snprintf(a, sizeof a, "%s/%s", from, e->d_name);
			snprintf(b, sizeof b, "%s/%s/%s", todir, subs[k], e->d_name);
			if (rename(a, b) < 0 && errno != ENOENT) {
				log_err("rename(%s, %s) failed: %m", a, b);
				rc = -1;
			}
		}
		closedir(d);
	}
	return rc;
}

void cmd_rename(struct imap_session *s, struct imap_cmd *c)
{
	char from[MAILDIR_PATH_MAX], fromdir[MAILDIR_PATH_MAX];
	char to[MAILDIR_PATH_MAX], todir[MAILDIR_PATH_MAX];
	if (!one_name(c, 2) || imap_mailbox_dir(s, c, c->args[0].str, from, fromdir) < 0 ||
	    imap_mailbox_dir(s, c, c->args[1].str, to, todir) < 0)
		return;
	if (imap_is_inbox(to)) {
		cmd_reply(c, "NO [ALREADYEXISTS] INBOX always exists");
		return;
	}
	if (imap_is_inbox(from)) {
		int r = maildir_folder_create(s->root, to);
		if (r == 0) {
			cmd_reply(c, "NO [ALREADYEXISTS] Target mailbox already exists");
			return;
		}
		if (r < 0 || move_inbox(s, todir) < 0)
			cmd_reply(c, "NO [CANNOT] Cannot rename INBOX");
		return;
	}
	if (!imap_mailbox_exists(fromdir)) {
		cmd_reply(c, "NO [NONEXISTENT] Mailbox doesn't exist");
		return;
	}
	int r = maildir_folder_rename(s->root, from, to);
	if (r == 0)
		cmd_reply(c, "NO [NONEXISTENT] Mailbox doesn't exist");
	else if (r == -2)
		cmd_reply(c, "NO [ALREADYEXISTS] Target mailbox already exists");
	else if (r < 0)
		cmd_reply(c, "NO [CANNOT] Cannot rename mailbox");
	else if (s->view && strcmp(s->view->dir, fromdir) == 0)
		snprintf(s->view->dir, sizeof s->view->dir, "%s", todir);
}

void cmd_subscribe(struct imap_session *s, struct imap_cmd *c)
{
	char canon[MAILDIR_PATH_MAX], dir[MAILDIR_PATH_MAX];
	bool on = strcmp(c->name, "SUBSCRIBE") == 0;
	if (!one_name(c, 1) || imap_mailbox_dir(s, c, c->args[0].str, canon, dir) < 0)
		return;
	if (on && !imap_mailbox_exists(dir)) {
		cmd_reply(c, "NO [NONEXISTENT] Mailbox doesn't exist");
		return;
	}
	if (maildir_subscribe(s->root, canon, on) < 0)
		cmd_reply(c, "NO [SERVERBUG] Cannot update subscriptions");
}
