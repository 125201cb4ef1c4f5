/* STARTTLS (RFC 3207) and the handshake of implicit TLS (--tls, port 465).
 * Input the client pipelined behind STARTTLS is thrown away by
 * tls_server_start (CVE-2011-0411), and everything learnt before the
 * handshake is forgotten (§4.2): the client must send EHLO again. */
#include "commands.h"

#include <unistd.h>

#include "log.h"
#include "tls.h"

bool smtp_starttls_offered(const struct smtp_session *s)
{
	return !s->tls && tls_configured(s->cfg);
}

int smtp_check_starttls(struct smtp_session *s, const char *arg)
{
	if (s->tls) {
		smtp_reply(s, 503, "5.5.1", "TLS already active");
		return -1;
	}
	if (*arg) {
		smtp_reply(s, 501, "5.5.4", "Syntax: STARTTLS");
		return -1;
	}
	if (!tls_configured(s->cfg)) {
		smtp_reply(s, 502, "5.5.1", "STARTTLS not available");
		return -1;
	}
	/* OpenSSL is loaded here, before the go-ahead, so that a missing
	 * library is a temporary refusal the client can act on */
	if (!tls_available()) {
		smtp_reply(s, 454, "4.7.0", "TLS not available due to temporary reason");
		return -1;
	}
	return 0;
}

int smtp_tls_handshake(struct smtp_session *s)
{
	/* OpenSSL reads the socket itself during the handshake, past io's
	 * poll(): a client that stalls there is ended by SIGALRM (default
	 * action: the process goes, which is all one connection needs). */
	unsigned limit = s->cfg->smtp_timeout ? s->cfg->smtp_timeout : 300;
	alarm(limit);
	int r = tls_server_start(s->io, s->cfg);
	alarm(0);
	if (r < 0)
		return -1;
	s->tls = true;
	return 0;
}

void smtp_cmd_starttls(struct smtp_session *s, const char *arg)
{
	(void)arg;
	smtp_reply(s, 220, "2.0.0", "Ready to start TLS");
	if (smtp_tls_handshake(s) < 0) {
		s->closing = true;
		return;
	}
	smtp_session_reset(s);
}
