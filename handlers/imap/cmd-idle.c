/* IDLE (RFC 2177): the client waits and we push what changes in the
 * selected mailbox (EXISTS, EXPUNGE/VANISHED, FETCH FLAGS) as it happens.
 *
 * No polling loop: an inotify instance watches new/ and cur/ (deliveries,
 * flag renames, deletions by any process) and the mailbox directory itself
 * (the uid list being replaced), and poll() sleeps on it and on the client
 * at once. Any event leads to one view_sync(), which compares with the
 * disk, so spurious events (our own uid list rewrite, tmp files) cost one
 * cheap look and nothing is sent. Without inotify (limits reached) we fall
 * back to looking every IDLE_FALLBACK_MS; with it we still look every
 * IDLE_RESCAN_S, since inotify does not see what other NFS clients do.
 *
 * "* OK Still here" goes out every IDLE_KEEPALIVE_S ($POSTERN_IDLE_KEEPALIVE
 * in tests) so NAT boxes keep the connection; after imap_timeout without a
 * DONE we log out. Input is only read once poll() says some arrived, so a
 * slow "DONE" is never split by a timeout. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "imapd.h"
#include "log.h"

#define IDLE_FALLBACK_MS 2000
#define IDLE_KEEPALIVE_S 120
#define IDLE_RESCAN_S 30 /* inotify misses changes made by other NFS clients */

static bool input_buffered(struct imap_session *s)
{
	return io_buffered(&s->io) > 0 || (s->io.raw_pending && s->io.raw_pending(&s->io));
}

/* An inotify fd watching the selected mailbox, or -1; *dir_wd_r is the
 * watch of the mailbox directory itself. */
static int watch_mailbox(const struct mailbox_view *v, int *dir_wd_r)
{
	if (!v)
		return -1;
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0) {
		log_warn("inotify_init1 failed: %m; IDLE falls back to polling");
		return -1;
	}
	static const char *const sub[] = { "/new", "/cur", "" };
	for (size_t i = 0; i < 3; i++) {
		char path[MAILDIR_PATH_MAX + 8];
		snprintf(path, sizeof path, "%s%s", v->dir, sub[i]);
		uint32_t mask = IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_DELETE_SELF |
				IN_MOVE_SELF;
		int wd = inotify_add_watch(fd, path, mask);
		*dir_wd_r = wd;
		if (wd < 0) {
			log_warn("inotify_add_watch(%s) failed: %m; IDLE falls back to polling", path);
			close(fd);
			return -1;
		}
	}
	return fd;
}

/* Read all pending events; true when one may mean a change: anything in
 * new/ or cur/, and in the mailbox directory the uid list being replaced
 * or the directory going away (not our own modseq/recent/lock files, so
 * our own writes do not wake us up again). */
static bool drain(int fd, int dir_wd)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool any = false;
	ssize_t n;
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *e = (const struct inotify_event *)p;
			if (e->wd != dir_wd || (e->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_Q_OVERFLOW)) ||
			    (e->len && strcmp(e->name, "postern-uidlist") == 0))
				any = true;
			p += sizeof *e + e->len;
		}
	}
	return any;
}

static long keepalive_interval(void)
{
	const char *e = getenv("POSTERN_IDLE_KEEPALIVE");
	long n = e ? strtol(e, NULL, 10) : 0;
	return n > 0 ? n : IDLE_KEEPALIVE_S;
}

void cmd_idle(struct imap_session *s, struct imap_cmd *c)
{
	if (c->nargs) {
		cmd_reply(c, "BAD IDLE takes no arguments");
		return;
	}
	io_puts(&s->io, "+ idling\r\n");
	int dir_wd = -1;
	int ino = watch_mailbox(s->view, &dir_wd);
	long keep = keepalive_interval();
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	time_t start = t0.tv_sec, last = start;
	bool changed = true;
	for (;;) {
		if (s->view && changed)
			view_sync(s, true);
		if (s->logout)
			break;
		if (io_flush(&s->io) != IO_OK) {
			s->logout = true;
			break;
		}
		changed = false;
		if (!input_buffered(s)) {
			struct timespec now_ts;
			clock_gettime(CLOCK_MONOTONIC, &now_ts);
			time_t now = now_ts.tv_sec;
			long wait = last + keep - now;
			if (s->cfg.imap_timeout && start + (time_t)s->cfg.imap_timeout - now < wait)
				wait = start + (time_t)s->cfg.imap_timeout - now;
			if (wait < 0)
				wait = 0;
			int ms = wait > 3600 ? 3600000 : (int)wait * 1000 + 1;
			if (ino < 0 && s->view && ms > IDLE_FALLBACK_MS)
				ms = IDLE_FALLBACK_MS;
			if (s->view && ms > IDLE_RESCAN_S * 1000)
				ms = IDLE_RESCAN_S * 1000;
			struct pollfd p[2] = { { .fd = s->io.fd_in, .events = POLLIN },
					       { .fd = ino, .events = POLLIN } };
			int r = poll(p, ino >= 0 ? 2 : 1, ms);
			if (r < 0 && errno != EINTR) {
				log_err("poll failed: %m");
				s->logout = true;
				break;
			}
			if (r > 0 && ino >= 0 && p[1].revents) {
				changed = drain(ino, dir_wd);
			}
			if (ino < 0 || r == 0)
				changed = true; /* no inotify, or the NFS safety net */
			if (r <= 0 || !p[0].revents) {
				clock_gettime(CLOCK_MONOTONIC, &now_ts);
				now = now_ts.tv_sec;
				if (s->cfg.imap_timeout && now - start >= (time_t)s->cfg.imap_timeout) {
					imap_untagged(s, "BYE Autologout; idle for too long");
					log_info("timeout in IDLE");
					s->logout = true;
					c->replied = true; /* BYE was the last word */
					break;
				}
				if (now - last >= keep) {
					imap_untagged(s, "OK Still here");
					last = now;
				}
				continue;
			}
		}
		char line[64];
		size_t len;
		int r = io_getline(&s->io, line, sizeof line, &len, NULL);
		if (r == IO_OK && strcasecmp(line, "DONE") == 0)
			break;
		if (r == IO_OK || r == IO_TOOLONG) {
			cmd_reply(c, "BAD Expected DONE");
			break;
		}
		if (r == IO_TIMEOUT)
			imap_untagged(s, "BYE Autologout; idle for too long");
		s->logout = true;
		c->replied = true;
		break;
	}
	if (ino >= 0)
		close(ino);
}
