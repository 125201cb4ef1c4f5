/* STLS (RFC 2595 4.): the +OK goes out in plaintext, then the handshake;
 * tls_server_start drops whatever the client pipelined after the command
 * (CVE-2011-0411). Anything learnt before it (a USER name) is forgotten,
 * and CAPA changes: STLS goes, USER and SASL PLAIN come when plaintext
 * passwords needed TLS. */
#include "log.h"
#include "parse.h"
#include "pop3.h"
#include "tls.h"

bool pop3_stls_available(const struct pop3 *s)
{
	return !s->tls && tls_configured(s->cfg);
}

int pop3_cmd_stls(struct pop3 *s, char *args)
{
	if (pop3_next_arg(&args)) {
		io_puts(s->io, "-ERR syntax: STLS\r\n");
		return -1;
	}
	if (s->tls) {
		io_puts(s->io, "-ERR TLS is already active\r\n");
		return -1;
	}
	/* tls_available loads OpenSSL: a missing library is refused here,
	 * before the +OK that commits to a handshake */
	if (!tls_configured(s->cfg) || !tls_available()) {
		io_puts(s->io, "-ERR TLS not available\r\n");
		return -1;
	}
	io_puts(s->io, "+OK begin TLS negotiation\r\n");
	if (io_flush(s->io) != IO_OK || tls_server_start(s->io, s->cfg) < 0) {
		s->closing = true; /* the connection is unusable; logged */
		return 0;
	}
	s->tls = true;
	s->user_given[0] = '\0';
	log_info("stls: %s", tls_describe(s->io) ? tls_describe(s->io) : "?");
	return 0;
}
