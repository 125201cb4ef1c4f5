/* APPEND mailbox [(flags)] [date-time] literal: the message is written
 * through maildir_tmp_* (tmp, fsync, link into cur/ with its flags, mtime
 * = internal date) and only then OK is sent, with APPENDUID (UIDPLUS).
 * Bare LF line ends are stored as CRLF, like everything in the store. */
#include <string.h>

#include "imapd.h"
#include "log.h"
#include "uidlist.h"

uint32_t imap_uid_of(const char *dir, const char *name, uint32_t *uidvalidity_r)
{
	struct uidlist ul;
	memset(&ul, 0, sizeof ul);
	if (uidlist_sync(dir, &ul) < 0)
		return 0;
	const struct uidlist_rec *r = uidlist_find_base(&ul, name);
	uint32_t uid = r ? r->uid : 0;
	*uidvalidity_r = ul.uidvalidity;
	uidlist_free(&ul);
	return uid;
}

/* Write MSG with every bare LF turned into CRLF. */
static void write_crlf(struct maildir_tmp *t, const char *msg, size_t len)
{
	size_t start = 0;
	for (size_t i = 0; i < len; i++) {
		if (msg[i] == '\n' && (i == 0 || msg[i - 1] != '\r')) {
			maildir_tmp_write(t, msg + start, i - start);
			maildir_tmp_write(t, "\r\n", 2);
			start = i + 1;
		}
	}
	maildir_tmp_write(t, msg + start, len - start);
}

void cmd_append(struct imap_session *s, struct imap_cmd *c)
{
	char canon[MAILDIR_PATH_MAX], dir[MAILDIR_PATH_MAX];
	const struct imap_arg *a = c->args;
	size_t n = c->nargs;
	if (n < 2 || !imap_arg_is_astring(&a[0]) || a[n - 1].type != IMAP_ARG_LITERAL || n > 4) {
		cmd_reply(c, "BAD APPEND needs a mailbox and a message literal");
		return;
	}
	const struct imap_arg *flags = NULL, *date = NULL;
	for (size_t i = 1; i < n - 1; i++) {
		if (a[i].type == IMAP_ARG_LIST && !flags && !date)
			flags = &a[i];
		else if (a[i].type == IMAP_ARG_QUOTED && !date)
			date = &a[i];
		else {
			cmd_reply(c, "BAD Invalid APPEND arguments");
			return;
		}
	}
	time_t mtime = 0;
	if (date && imap_date_time_parse(date->str, &mtime) < 0) {
		cmd_reply(c, "BAD Invalid date-time");
		return;
	}
	const struct imap_arg *lit = &a[n - 1];
	if (lit->len == 0) {
		cmd_reply(c, "NO Cannot save an empty message");
		return;
	}
	if (imap_mailbox_dir(s, c, a[0].str, canon, dir) < 0)
		return;
	if (!imap_mailbox_exists(dir)) {
		cmd_reply(c, "NO [TRYCREATE] Mailbox doesn't exist");
		return;
	}
	unsigned fl = 0;
	uint32_t kw = 0;
	struct imap_keywords kws;
	memset(&kws, 0, sizeof kws);
	imap_keywords_load(dir, &kws);
	int fr = flags ? imap_flags_parse(c, flags, 1, dir, &kws, true, &fl, &kw) : 0;
	imap_keywords_free(&kws);
	if (fr < 0)
		return;

	struct maildir_tmp t;
	char name[MAILDIR_NAME_MAX];
	if (maildir_tmp_open(&t, dir) < 0) {
		cmd_reply(c, "NO [SERVERBUG] Cannot save the message");
		return;
	}
	write_crlf(&t, lit->str, lit->len);
	if (maildir_tmp_commit_cur(&t, fl, kw, mtime, name, sizeof name) < 0) {
		maildir_tmp_abort(&t);
		cmd_reply(c, "NO [SERVERBUG] Cannot save the message");
		return;
	}
	log_info("append mailbox=%s size=%lld", canon, (long long)t.size);
	uint32_t uidv = 0, uid = imap_uid_of(dir, name, &uidv);
	if (uid)
		cmd_reply(c, "OK [APPENDUID %u %u] APPEND completed.", (unsigned)uidv, (unsigned)uid);
}
