/* IDLE (RFC 2177): the client waits; we look at the mailbox every
 * IDLE_POLL_MS and send what changed (EXISTS, EXPUNGE, FETCH FLAGS), plus
 * "* OK Still here" every IDLE_KEEPALIVE_S so that NAT boxes keep the
 * connection. It ends with "DONE"; after imap_timeout we log out. Input is
 * only read once poll() says some arrived, so a slow "DONE" is never
 * split by a timeout. */
#include <poll.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>

#include "imapd.h"
#include "log.h"

#define IDLE_POLL_MS 2000
#define IDLE_KEEPALIVE_S 120

/* Wait up to MS for input; true when some is (or may be) there. */
static bool input_ready(struct imap_session *s, int ms)
{
	if (io_buffered(&s->io) > 0 || (s->io.raw_pending && s->io.raw_pending(&s->io)))
		return true;
	struct pollfd p = { .fd = s->io.fd_in, .events = POLLIN };
	return poll(&p, 1, ms) != 0; /* errors: let the read report them */
}

void cmd_idle(struct imap_session *s, struct imap_cmd *c)
{
	if (c->nargs) {
		cmd_reply(c, "BAD IDLE takes no arguments");
		return;
	}
	io_puts(&s->io, "+ idling\r\n");
	time_t start = time(NULL), last = start;
	for (;;) {
		if (s->view)
			view_sync(s, true);
		if (s->logout)
			return;
		if (io_flush(&s->io) != IO_OK) {
			s->logout = true;
			return;
		}
		if (!input_ready(s, IDLE_POLL_MS)) {
			time_t now = time(NULL);
			if (s->cfg.imap_timeout && now - start >= (time_t)s->cfg.imap_timeout) {
				imap_untagged(s, "BYE Autologout; idle for too long");
				log_info("timeout in IDLE");
				s->logout = true;
				return;
			}
			if (now - last >= IDLE_KEEPALIVE_S) {
				imap_untagged(s, "OK Still here");
				last = now;
			}
			continue;
		}
		char line[64];
		size_t len;
		int r = io_getline(&s->io, line, sizeof line, &len, NULL);
		if (r == IO_OK && strcasecmp(line, "DONE") == 0)
			return;
		if (r == IO_OK || r == IO_TOOLONG) {
			cmd_reply(c, "BAD Expected DONE");
			return;
		}
		if (r == IO_TIMEOUT)
			imap_untagged(s, "BYE Autologout; idle for too long");
		s->logout = true;
		return;
	}
}
