/* The maildrop of one POP3 session.
 *
 * At login the maildir is locked (flock on postern-pop3.lock: one POP3
 * session per user; the lock dies with the process, so a killed session
 * never leaves it stale) and the uid list is synced once. The result is the
 * snapshot: message numbers are positions in uid order, sizes come from
 * ",S=" in the names, and nothing delivered later shows up. IMAP may rename
 * files meanwhile (flags), so every access goes by base name through
 * maildir_open_msg / maildir_find / maildir_remove, which follow renames.
 *
 * Changes happen only in UPDATE (QUIT): DELE'd messages are removed and
 * RETR'd ones get \Seen (moving new/ -> cur/). Marking \Seen at QUIT rather
 * than at RETR keeps a dropped session free of side effects, like Dovecot. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "parse.h"
#include "pop3.h"
#include "strbuf.h"
#include "uidlist.h"

static int take_snapshot(struct pop3 *s)
{
	struct uidlist ul = { 0 };
	size_t i;

	if (uidlist_sync(s->dir, &ul) < 0)
		return -1;
	s->uidvalidity = ul.uidvalidity;
	s->nmsgs = ul.n;
	s->msgs = xcalloc(ul.n, sizeof *s->msgs);
	for (i = 0; i < ul.n; i++) {
		struct uidlist_rec *r = &ul.recs[i];
		struct pop3_msg *m = &s->msgs[i];

		m->name = xstrdup(r->name);
		m->baselen = r->baselen;
		m->uid = r->uid;
		m->size = r->size;
		m->in_new = r->in_new;
	}
	uidlist_free(&ul);

	/* a foreign file without ",S=": its size from the file itself */
	for (i = 0; i < s->nmsgs; i++) {
		struct pop3_msg *m = &s->msgs[i];
		struct stat st;
		int fd;

		if (m->size >= 0)
			continue;
		fd = pop3_msg_open(s, m);
		if (fd >= 0 && fstat(fd, &st) == 0) {
			m->size = st.st_size;
		} else {
			if (fd >= 0)
				log_err("fstat(%s) failed: %m", m->name);
			m->size = 0;
		}
		if (fd >= 0)
			close(fd);
	}
	return 0;
}

int pop3_maildrop_open(struct pop3 *s)
{
	char local[USER_LOCAL_MAX + 1], domain[USER_DOMAIN_MAX + 1];

	if (users_parse_name(s->cfg, s->user.name, local, domain) < 0 ||
	    maildir_user_path(s->cfg, local, domain, s->dir, sizeof s->dir) < 0) {
		log_err("no maildir path for user %s", s->user.name);
		return -1;
	}
	if (maildir_check_user_dir(s->cfg, s->dir) < 0) {
		log_err("maildir of %s is not a plain directory: %m", s->user.name);
		return -1;
	}
	/* a user who never got mail yet can still log in */
	if (maildir_create(s->dir) < 0)
		return -1;
	s->lock_fd = maildir_lock(s->dir, "postern-pop3.lock", false);
	if (s->lock_fd < 0) {
		if (errno == EWOULDBLOCK)
			return -2;
		log_err("cannot lock maildrop %s: %m", s->dir);
		return -1;
	}
	if (take_snapshot(s) < 0) {
		pop3_maildrop_close(s);
		return -1;
	}
	return 0;
}

struct pop3_msg *pop3_msg_lookup(struct pop3 *s, const char *arg, const char **err_r)
{
	unsigned long n;
	struct pop3_msg *m;

	if (!pop3_parse_ulong(arg, 1, s->nmsgs, &n)) {
		*err_r = "-ERR no such message";
		return NULL;
	}
	m = &s->msgs[n - 1];
	if (m->deleted) {
		*err_r = "-ERR message already deleted";
		return NULL;
	}
	return m;
}

int pop3_msg_open(struct pop3 *s, struct pop3_msg *m)
{
	char name[MAILDIR_NAME_MAX];
	int fd;

	if (strlen(m->name) >= sizeof name)
		return -1;
	strcpy(name, m->name);
	fd = maildir_open_msg(s->dir, name, sizeof name, &m->in_new);
	if (fd < 0) {
		int err = errno;

		if (err == ENOENT)
			log_warn("message uid=%u vanished (removed by another session)", m->uid);
		else
			log_err("open message %s/%s failed: %m", s->dir, m->name);
		errno = err; /* the caller's reply depends on it */
		return -1;
	}
	if (strcmp(name, m->name) != 0) {
		free(m->name);
		m->name = xstrdup(name);
	}
	return fd;
}

void pop3_maildrop_stat(const struct pop3 *s, unsigned long *count_r,
			unsigned long long *octets_r)
{
	unsigned long n = 0;
	unsigned long long octets = 0;
	size_t i;

	for (i = 0; i < s->nmsgs; i++) {
		if (s->msgs[i].deleted)
			continue;
		n++;
		if (__builtin_add_overflow(octets, (unsigned long long)s->msgs[i].size, &octets))
			octets = ~0ULL;
	}
	*count_r = n;
	*octets_r = octets;
}

/* The message's current name: the one we know when it is still there
 * (one stat: the common case), else a search of new/ and cur/ (IMAP
 * renamed it). A search per message made QUIT quadratic: 100,000
 * retrieved messages meant 10^10 directory entries read. 1, 0 (gone), -1. */
static int current_name(struct pop3 *s, const struct pop3_msg *m, char *cur, size_t curlen,
			bool *in_new)
{
	char path[MAILDIR_PATH_MAX];
	struct stat st;
	int n = snprintf(path, sizeof path, "%s/%s/%s", s->dir, m->in_new ? "new" : "cur", m->name);
	if (n > 0 && (size_t)n < sizeof path && strlen(m->name) < curlen &&
	    fstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode)) {
		memcpy(cur, m->name, strlen(m->name) + 1);
		*in_new = m->in_new;
		return 1;
	}
	return maildir_find(s->dir, m->name, m->baselen, cur, curlen, in_new);
}

/* Give a retrieved message \Seen, keeping whatever flags another session
 * set meanwhile (read them from the current name, not the snapshot). */
static void mark_seen(struct pop3 *s, struct pop3_msg *m)
{
	char cur[MAILDIR_NAME_MAX], renamed[MAILDIR_NAME_MAX];
	uint32_t keywords;
	unsigned flags;
	bool in_new;
	int r;

	r = current_name(s, m, cur, sizeof cur, &in_new);
	if (r <= 0)
		return; /* gone, or the error is logged */
	flags = maildir_name_flags(cur, &keywords);
	if ((flags & MAILDIR_F_SEEN) && !in_new)
		return;
	if (maildir_set_flags(s->dir, cur, in_new, flags | MAILDIR_F_SEEN, keywords, renamed,
			      sizeof renamed) < 0)
		log_err("cannot mark message uid=%u seen", m->uid);
}

unsigned long pop3_maildrop_update(struct pop3 *s)
{
	unsigned long failed = 0;
	size_t i;

	for (i = 0; i < s->nmsgs; i++) {
		struct pop3_msg *m = &s->msgs[i];

		if (m->deleted) {
			/* 0 = already gone (expunged over IMAP): removed all the same */
			if (maildir_remove(s->dir, m->name, m->in_new) < 0) {
				log_err("cannot remove message uid=%u (%s)", m->uid, m->name);
				failed++;
			}
		} else if (m->retrieved) {
			mark_seen(s, m);
		}
	}
	return failed;
}

void pop3_maildrop_close(struct pop3 *s)
{
	size_t i;

	if (s->lock_fd >= 0) {
		close(s->lock_fd);
		s->lock_fd = -1;
	}
	for (i = 0; i < s->nmsgs; i++)
		free(s->msgs[i].name);
	free(s->msgs);
	s->msgs = NULL;
	s->nmsgs = 0;
}
