/* STARTTLS (RFC 3501 §6.2.1): the tagged OK goes out in plaintext, then
 * the handshake; tls_server_start drops anything the client pipelined
 * after the command (CVE-2011-0411). The capability list changes after it
 * (AUTH=PLAIN appears when plaintext logins need TLS). */
#include "imapd.h"
#include "log.h"
#include "tls.h"

void cmd_starttls(struct imap_session *s, struct imap_cmd *c)
{
	if (c->nargs) {
		cmd_reply(c, "BAD STARTTLS takes no arguments");
		return;
	}
	if (s->tls) {
		cmd_reply(c, "BAD TLS is already active");
		return;
	}
	if (!tls_configured(&s->cfg) || !tls_available()) {
		cmd_reply(c, "NO TLS is not available");
		return;
	}
	io_printf(&s->io, "%s OK Begin TLS negotiation now.\r\n", c->tag);
	c->replied = true;
	if (io_flush(&s->io) != IO_OK || tls_server_start(&s->io, &s->cfg) < 0) {
		s->logout = true;
		return;
	}
	s->tls = true;
	log_info("starttls: %s", tls_describe(&s->io) ? tls_describe(&s->io) : "?");
}
