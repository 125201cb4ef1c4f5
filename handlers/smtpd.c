/* postern-smtpd: one SMTP session on fd 0/1 (RFC 5321), launched per
 * connection by systemd/xinetd or fed a session file on a pipe. --tls
 * speaks TLS from the first byte (port 465); --submission requires AUTH
 * (ports 587 and 465). The commands live in handlers/smtp/. */
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "io.h"
#include "log.h"
#include "peer.h"
#include "strbuf.h"
#include "tls.h"
#include "smtp/commands.h"
#include "smtp/session.h"

static void refuse(const char *why)
{
	/* no session yet: say why on the wire, once, and go */
	static const char msg[] = "421 4.3.5 Service not available\r\n";
	log_err("%s", why);
	if (write(1, msg, sizeof msg - 1) < 0)
		log_err("write() failed: %m");
}

static void serve(struct smtp_session *s)
{
	char line[SMTP_LINE_MAX];
	io_printf(s->io, "220 %s ESMTP Service ready\r\n", s->cfg->hostname);
	while (!s->closing) {
		size_t len;
		int r = io_getline(s->io, line, sizeof line, &len, NULL);
		if (r == IO_TOOLONG) {
			s->ncommands++;
			smtp_reply(s, 500, "5.5.2", "Line too long");
		} else if (r != IO_OK) {
			smtp_io_failed(s, r, "command");
			break;
		} else if (++s->ncommands > SMTP_MAX_COMMANDS) {
			log_warn("more than %d commands, closing", SMTP_MAX_COMMANDS);
			smtp_reply_close(s, "4.7.0", "Too many commands, closing connection");
			break;
		} else {
			smtp_dispatch(s, line, len);
		}
		if (!s->closing && s->bad_in_row >= SMTP_MAX_BAD_IN_ROW) {
			log_warn("%u bad commands in a row, closing", s->bad_in_row);
			smtp_reply_close(s, "4.7.0", "Too many errors, closing connection");
		}
	}
	io_flush(s->io);
}

int main(int argc, char **argv)
{
	static struct config cfg;
	bool tls = false;
	log_init("smtp");
	if (config_from_args(&cfg, argc, argv, &tls) < 0) {
		refuse("no usable configuration");
		return 1;
	}
	const char *peer = peer_address();
	log_set_peer(peer);
	if (tls && !tls_configured(&cfg)) {
		/* no plaintext reply: the client expects a TLS handshake */
		log_err("--tls given but tls_cert/tls_key are not set or not readable");
		return 1;
	}
	log_info("connect from %s%s%s", peer, tls ? " tls=implicit" : "",
		 cfg.submission ? " submission=yes" : "");

	struct io *io = xmalloc(sizeof *io);
	io_init(io, 0, 1, cfg.smtp_timeout);
	struct smtp_session s;
	smtp_session_init(&s, &cfg, io, peer);
	if (!tls || smtp_tls_handshake(&s) == 0)
		serve(&s);
	log_info("disconnect commands=%u messages=%u in=%llu out=%llu", s.ncommands, s.nmessages,
		 io->bytes_in, io->bytes_out);
	smtp_session_free(&s);
	tls_end(io);
	free(io);
	return 0;
}
