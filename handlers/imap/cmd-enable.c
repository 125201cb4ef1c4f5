/* ENABLE (RFC 5161): CONDSTORE and QRESYNC (RFC 7162) are the extensions
 * a client may turn on; others are ignored, as the RFC asks. */
#include <string.h>
#include <strings.h>

#include "imapd.h"

void imap_enable_condstore(struct imap_session *s)
{
	if (s->condstore)
		return;
	s->condstore = true;
	if (s->view)
		imap_untagged(s, "OK [HIGHESTMODSEQ %llu] Highest",
			      (unsigned long long)s->view->highestmodseq);
}

void cmd_enable(struct imap_session *s, struct imap_cmd *c)
{
	if (c->nargs == 0) {
		cmd_reply(c, "BAD ENABLE needs capability names");
		return;
	}
	for (size_t i = 0; i < c->nargs; i++) {
		if (c->args[i].type != IMAP_ARG_ATOM) {
			cmd_reply(c, "BAD Invalid capability name");
			return;
		}
	}
	struct strbuf sb = STRBUF_INIT;
	bool cs = false, qr = false;
	for (size_t i = 0; i < c->nargs; i++) {
		const char *n = c->args[i].str;
		if (strcasecmp(n, "CONDSTORE") == 0 && !cs && !s->condstore) {
			cs = true;
			sb_adds(&sb, " CONDSTORE");
		} else if (strcasecmp(n, "QRESYNC") == 0 && !qr && !s->qresync) {
			qr = true;
			sb_adds(&sb, " QRESYNC");
		}
	}
	/* QRESYNC implies CONDSTORE (RFC 7162 §3.2.3) */
	if (qr)
		s->qresync = true;
	if (cs || qr) {
		s->condstore = true;
	}
	imap_untagged(s, "ENABLED%s", sb.s ? sb.s : "");
	sb_free(&sb);
}
