/* AUTH (RFC 4954) with PLAIN (RFC 4616) and LOGIN, with or without an
 * initial response. Passwords cross the wire in the clear inside these
 * mechanisms, so they are only taken over TLS, from loopback, or when the
 * config allows it (538 otherwise). Bad credentials cost a growing delay,
 * are logged once each for fail2ban, and end the session after
 * SMTP_MAX_AUTH_FAILURES. Decoding lives in lib/sasl.c. */
#include "commands.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "peer.h"
#include "sasl.h"
#include "tls.h"
#include "users.h"

/* RFC 4954 §4: a continued response line may be 12288 octets long. */
#define AUTH_LINE_MAX 12288

/* Outcome of one step of the exchange. */
enum step { STEP_OK, STEP_DONE /* replied or the session is closing */ };

/* AUTH exists on this connection at all: submission, or a server that
 * has a certificate and so can take passwords under TLS. */
static bool auth_enabled(const struct smtp_session *s)
{
	return s->cfg->submission || tls_configured(s->cfg);
}

static bool plaintext_ok(const struct smtp_session *s)
{
	return s->tls || s->cfg->allow_plaintext_auth || peer_is_loopback(s->peer);
}

bool smtp_auth_offered(const struct smtp_session *s)
{
	return !s->authenticated && auth_enabled(s) && plaintext_ok(s);
}

int smtp_check_auth(struct smtp_session *s, const char *arg)
{
	if (!auth_enabled(s)) {
		smtp_reply(s, 502, "5.5.1", "AUTH not available");
		return -1;
	}
	if (!s->esmtp) {
		smtp_reply(s, 503, "5.5.1", "Send EHLO first");
		return -1;
	}
	if (s->authenticated) {
		smtp_reply(s, 503, "5.5.1", "Already authenticated");
		return -1;
	}
	if (s->txn.active) {
		smtp_reply(s, 503, "5.5.1", "AUTH not permitted during a mail transaction");
		return -1;
	}
	if (!*arg) {
		smtp_reply(s, 501, "5.5.4", "Syntax: AUTH mechanism [initial-response]");
		return -1;
	}
	return 0;
}

/* Decode one client response (base64) into out. "*" cancels. */
static enum step decode(struct smtp_session *s, const char *mech, const char *b64, size_t len,
			unsigned char *out, size_t outmax, size_t *outlen_r)
{
	if (len == 1 && b64[0] == '*') {
		log_info("auth cancelled: mech=%s", mech);
		smtp_reply(s, 501, "5.7.0", "Authentication cancelled");
		return STEP_DONE;
	}
	int r = sasl_base64_decode(b64, len, out, outmax, outlen_r);
	if (r == SASL_TOO_LONG) {
		log_info("auth aborted: mech=%s reason=too-long", mech);
		smtp_reply(s, 500, "5.5.6", "Authentication exchange line is too long");
		return STEP_DONE;
	}
	if (r != SASL_OK) {
		log_info("auth aborted: mech=%s reason=bad-base64", mech);
		smtp_reply(s, 501, "5.5.2", "Cannot decode response");
		return STEP_DONE;
	}
	return STEP_OK;
}

/* Send "334 PROMPT" and decode the client's answer into out. */
static enum step challenge(struct smtp_session *s, const char *mech, const char *prompt,
			   unsigned char *out, size_t outmax, size_t *outlen_r)
{
	char line[AUTH_LINE_MAX];
	size_t len;
	smtp_reply(s, 334, NULL, "%s", prompt);
	int r = io_getline(s->io, line, sizeof line, &len, NULL);
	if (r == IO_TOOLONG) {
		log_info("auth aborted: mech=%s reason=too-long", mech);
		smtp_reply(s, 500, "5.5.6", "Authentication exchange line is too long");
		return STEP_DONE;
	}
	if (r != IO_OK) {
		smtp_io_failed(s, r, "AUTH");
		return STEP_DONE;
	}
	enum step st = decode(s, mech, line, len, out, outmax, outlen_r);
	sasl_wipe(line, len);
	return st;
}

static void failed(struct smtp_session *s, const char *mech, const char *user, const char *reason)
{
	s->auth_failures++;
	sasl_log_failure("smtp", s->peer, user, mech, reason, s->auth_failures);
	users_fail_delay(s->auth_failures);
	if (s->auth_failures >= SMTP_MAX_AUTH_FAILURES) {
		log_warn("too many authentication failures, closing");
		smtp_reply_close(s, "4.7.0", "Too many authentication failures");
		return;
	}
	smtp_reply(s, 535, "5.7.8", "Authentication credentials invalid");
}

static void verify(struct smtp_session *s, const char *mech, const char *user, const char *pass)
{
	struct user u;
	int r = users_authenticate(s->cfg, user, pass, &u);
	if (r < 0) {
		smtp_reply(s, 454, "4.7.0", "Temporary authentication failure");
		return;
	}
	if (r == 0) {
		failed(s, mech, user, "bad-credentials");
		return;
	}
	s->authenticated = true;
	snprintf(s->auth_user, sizeof s->auth_user, "%s", u.name);
	log_set_user(u.name);
	log_info("auth ok: proto=smtp user=%s mech=%s%s", u.name, mech, s->tls ? " tls=yes" : "");
	sasl_wipe(&u, sizeof u);
	smtp_reply(s, 235, "2.7.0", "Authentication successful");
}

static void mech_plain(struct smtp_session *s, const char *initial)
{
	unsigned char msg[SASL_PLAIN_MAX + 1];
	size_t len = 0;
	enum step st = initial ? decode(s, "PLAIN", initial, strlen(initial), msg, sizeof msg, &len)
			       : challenge(s, "PLAIN", "", msg, sizeof msg, &len);
	if (st != STEP_OK)
		goto out;
	struct sasl_plain p;
	switch (sasl_plain_split(msg, len, &p)) {
	case SASL_OK:
		verify(s, "PLAIN", p.authcid, p.passwd);
		break;
	case SASL_AUTHZID:
		failed(s, "PLAIN", p.authcid, "authzid");
		break;
	case SASL_TOO_LONG:
		log_info("auth aborted: mech=PLAIN reason=too-long");
		smtp_reply(s, 500, "5.5.6", "Authentication exchange line is too long");
		break;
	default:
		log_info("auth aborted: mech=PLAIN reason=malformed");
		smtp_reply(s, 501, "5.5.2", "Malformed PLAIN response");
		break;
	}
out:
	sasl_wipe(msg, sizeof msg);
}

static void mech_login(struct smtp_session *s, const char *initial)
{
	unsigned char user[SASL_NAME_MAX + 1], pass[SASL_PASS_MAX + 1];
	size_t ulen = 0, plen = 0;
	enum step st = initial ? decode(s, "LOGIN", initial, strlen(initial), user, sizeof user, &ulen)
			       : challenge(s, "LOGIN", "VXNlcm5hbWU6", user, sizeof user, &ulen);
	if (st != STEP_OK)
		goto out;
	if (!sasl_name_valid(user, ulen)) {
		log_info("auth aborted: mech=LOGIN reason=malformed");
		smtp_reply(s, 501, "5.5.2", "Malformed user name");
		goto out;
	}
	if (challenge(s, "LOGIN", "UGFzc3dvcmQ6", pass, sizeof pass, &plen) != STEP_OK)
		goto out;
	if (plen == 0 || memchr(pass, '\0', plen)) {
		log_info("auth aborted: mech=LOGIN reason=malformed");
		smtp_reply(s, 501, "5.5.2", "Malformed password");
		goto out;
	}
	verify(s, "LOGIN", (const char *)user, (const char *)pass);
out:
	sasl_wipe(pass, sizeof pass);
}

void smtp_cmd_auth(struct smtp_session *s, const char *arg)
{
	/* "mechanism [initial-response]" */
	char mech[21];
	size_t mlen = strcspn(arg, " ");
	const char *initial = NULL;
	if (arg[mlen] == ' ') {
		initial = arg + mlen + 1;
		if (!*initial || strchr(initial, ' ')) {
			smtp_reply(s, 501, "5.5.4", "Syntax: AUTH mechanism [initial-response]");
			return;
		}
	}
	if (mlen >= sizeof mech) {
		smtp_reply(s, 504, "5.5.4", "Unrecognized authentication type");
		return;
	}
	memcpy(mech, arg, mlen);
	mech[mlen] = '\0';
	bool plain = strcasecmp(mech, "PLAIN") == 0, login = strcasecmp(mech, "LOGIN") == 0;
	if (!plain && !login) {
		smtp_reply(s, 504, "5.5.4", "Unrecognized authentication type");
		return;
	}
	if (!plaintext_ok(s)) {
		log_info("auth refused: mech=%s reason=no-tls", mech);
		smtp_reply(s, 538, "5.7.11", "Encryption required for requested authentication mechanism");
		return;
	}
	if (plain)
		mech_plain(s, initial);
	else
		mech_login(s, initial);
}
