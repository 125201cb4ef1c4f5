/* LOGIN and AUTHENTICATE PLAIN (with SASL-IR). Both end in try_login():
 * the user's maildir is opened (created when new) and the session moves to
 * the authenticated state. Base64, the PLAIN message and the failure log
 * line come from lib/sasl (shared with SMTP and POP3). Failures are
 * delayed, counted, and after IMAP_MAX_AUTH_FAILURES the connection is
 * closed. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "imapd.h"
#include "log.h"
#include "sasl.h"

#define SASL_LINE_MAX 8192

static const char *mech_of(const struct imap_cmd *c)
{
	return strcmp(c->name, "LOGIN") == 0 ? "LOGIN" : "PLAIN";
}

static void login_failed(struct imap_session *s, struct imap_cmd *c, const char *name,
			 const char *reason)
{
	s->auth_failures++;
	sasl_log_failure("imap", s->peer, name, mech_of(c), reason, s->auth_failures);
	users_fail_delay(s->auth_failures);
	if (s->auth_failures >= IMAP_MAX_AUTH_FAILURES) {
		imap_untagged(s, "BYE Too many authentication failures");
		log_info("too many authentication failures: peer=%s", s->peer);
		s->logout = true;
	}
	cmd_reply(c, "NO [AUTHENTICATIONFAILED] Authentication failed.");
}

static void try_login(struct imap_session *s, struct imap_cmd *c, const char *name,
		      const char *pass)
{
	struct user u;
	int r = users_authenticate(&s->cfg, name, pass, &u);
	if (r < 0) {
		cmd_reply(c, "NO [UNAVAILABLE] Temporary authentication failure.");
		return;
	}
	if (r == 0) {
		login_failed(s, c, name, "password");
		return;
	}
	sasl_wipe(u.secret, sizeof u.secret);
	if (maildir_user_path(&s->cfg, u.local, u.domain, s->root, sizeof s->root) < 0) {
		cmd_reply(c, "NO [UNAVAILABLE] Mailbox not available.");
		return;
	}
	/* <domain>/<local> must be real directories, never symlinks out of
	 * the mail root (the store only guards what lies below) */
	if (maildir_check_user_dir(&s->cfg, s->root) < 0) {
		log_err("login: user=%s maildir %s refused: %m", u.name, s->root);
		cmd_reply(c, "NO [UNAVAILABLE] Mailbox not available.");
		return;
	}
	bool is_new = access(s->root, F_OK) < 0;
	if (maildir_create(s->root) < 0) {
		cmd_reply(c, "NO [UNAVAILABLE] Mailbox not available.");
		return;
	}
	if (is_new)
		imap_special_use_create(s->root);
	s->user = u;
	s->state = IMAP_ST_AUTH;
	s->auth_failures = 0;
	log_set_user(u.name);
	log_info("login: user=%s rip=%s method=%s", u.name, s->peer, mech_of(c));
	struct strbuf caps = STRBUF_INIT;
	imap_capabilities(s, &caps);
	cmd_reply(c, "OK [CAPABILITY %s] Logged in", caps.s);
	sb_free(&caps);
}

void cmd_login(struct imap_session *s, struct imap_cmd *c)
{
	if (c->nargs != 2 || !imap_arg_is_astring(&c->args[0]) || !imap_arg_is_astring(&c->args[1])) {
		cmd_reply(c, "BAD LOGIN needs user name and password");
		return;
	}
	if (!imap_plaintext_ok(s)) {
		cmd_reply(c, "NO [PRIVACYREQUIRED] Plaintext authentication disallowed.");
		return;
	}
	const struct imap_arg *name = &c->args[0], *pass = &c->args[1];
	if (!sasl_name_valid((const unsigned char *)name->str, name->len) || pass->len == 0 ||
	    pass->len > SASL_PASS_MAX) {
		login_failed(s, c, name->str, "malformed");
		return;
	}
	try_login(s, c, name->str, pass->str);
	sasl_wipe(pass->str, pass->len);
}

/* RFC 4616: [authzid] NUL authcid NUL passwd, base64 encoded. */
static void sasl_plain(struct imap_session *s, struct imap_cmd *c, const char *resp)
{
	unsigned char buf[SASL_PLAIN_MAX + 1];
	size_t len;
	struct sasl_plain pl = { NULL, NULL, NULL };
	int r = sasl_base64_decode(resp, strlen(resp), buf, sizeof buf, &len);
	if (r == SASL_BAD_BASE64) {
		cmd_reply(c, "BAD Invalid base64 data");
		return;
	}
	if (r != SASL_OK || (r = sasl_plain_split(buf, len, &pl)) != SASL_OK)
		login_failed(s, c, r == SASL_AUTHZID ? pl.authcid : NULL,
			     r == SASL_TOO_LONG ? "too-long" : r == SASL_AUTHZID ? "authzid" : "malformed");
	else
		try_login(s, c, pl.authcid, pl.passwd);
	sasl_wipe(buf, sizeof buf);
}

void cmd_authenticate(struct imap_session *s, struct imap_cmd *c)
{
	if (c->nargs < 1 || c->nargs > 2 || c->args[0].type != IMAP_ARG_ATOM) {
		cmd_reply(c, "BAD AUTHENTICATE needs a mechanism");
		return;
	}
	if (strcasecmp(c->args[0].str, "PLAIN") != 0 || !imap_plaintext_ok(s)) {
		cmd_reply(c, "NO Unsupported authentication mechanism");
		return;
	}
	if (c->nargs == 2) {
		if (c->args[1].type != IMAP_ARG_ATOM) {
			cmd_reply(c, "BAD Invalid initial response");
			return;
		}
		sasl_plain(s, c, c->args[1].str);
		sasl_wipe(c->args[1].str, c->args[1].len);
		return;
	}
	io_puts(&s->io, "+ \r\n");
	char *line = xmalloc(SASL_LINE_MAX);
	size_t len = 0;
	int r = io_getline(&s->io, line, SASL_LINE_MAX, &len, NULL);
	if (r == IO_TOOLONG)
		cmd_reply(c, "BAD Response too long");
	else if (r != IO_OK) {
		s->logout = true;
		cmd_reply(c, "BAD Connection closed during authentication");
	} else if (strcmp(line, "*") == 0)
		cmd_reply(c, "BAD Authentication canceled");
	else
		sasl_plain(s, c, line);
	sasl_wipe(line, SASL_LINE_MAX);
	free(line);
}
