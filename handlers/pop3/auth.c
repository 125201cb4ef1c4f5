/* AUTHORIZATION state: USER/PASS, APOP and AUTH PLAIN. Every way in ends
 * in login(): count failures with a growing delay, close after
 * POP3_MAX_AUTH_FAILURES, otherwise lock the maildrop and take the
 * snapshot. Replies never tell whether a user exists. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "openssl-dl.h"
#include "parse.h"
#include "peer.h"
#include "pop3.h"
#include "sasl.h"

_Static_assert(POP3_SASL_LINE_MAX > 4 * ((SASL_PLAIN_MAX + 2) / 3) + 1,
	       "an AUTH continuation line must hold the largest PLAIN response");

static const char no_plaintext[] =
	"-ERR [AUTH] plaintext authentication disallowed without TLS\r\n";

bool pop3_plaintext_allowed(const struct pop3 *s)
{
	/* every mechanism offered sends the password itself (APOP only a
	 * digest, but of a plain-text secret): the same rule as SMTP AUTH */
	return s->tls || s->cfg->allow_plaintext_auth || peer_is_loopback(peer_address());
}

/* One failed attempt: log it (fail2ban format), wait, reply, and close
 * after POP3_MAX_AUTH_FAILURES. NAME is the client's (escaped in the log). */
static void auth_failed(struct pop3 *s, const char *name, const char *mech, const char *reason)
{
	s->auth_failures++;
	sasl_log_failure("pop3", peer_address(), name, mech, reason, s->auth_failures);
	users_fail_delay(s->auth_failures);
	io_puts(s->io, "-ERR [AUTH] Authentication failed\r\n");
	if (s->auth_failures >= POP3_MAX_AUTH_FAILURES) {
		log_warn("too many authentication failures, closing");
		s->closing = true;
	}
}

/* The check itself failed (users file, MD5): a temporary error, counted
 * like a failure so that it cannot be retried without bound. */
static void temp_unavailable(struct pop3 *s)
{
	s->auth_failures++;
	io_puts(s->io, "-ERR [SYS/TEMP] authentication temporarily unavailable\r\n");
	if (s->auth_failures >= POP3_MAX_AUTH_FAILURES)
		s->closing = true;
}

/* The credentials were good: open the maildrop and enter TRANSACTION. */
static void login(struct pop3 *s, const struct user *u, const char *method)
{
	unsigned long n;
	unsigned long long octets;
	int r;

	s->user = *u;
	sasl_wipe(s->user.secret, sizeof s->user.secret); /* not needed any more */
	log_set_user(u->name);
	r = pop3_maildrop_open(s);
	if (r == -2) {
		log_info("login refused: user=%s maildrop locked by another session", u->name);
		io_puts(s->io, "-ERR [IN-USE] maildrop already locked\r\n");
		s->closing = true;
		return;
	}
	if (r < 0) {
		io_puts(s->io, "-ERR [SYS/TEMP] cannot open maildrop\r\n");
		s->closing = true;
		return;
	}
	s->state = POP3_TRANSACTION;
	s->auth_failures = 0;
	pop3_maildrop_stat(s, &n, &octets);
	log_info("login: user=%s peer=%s mech=%s messages=%lu octets=%llu", u->name,
		 peer_address(), method, n, octets);
	io_printf(s->io, "+OK maildrop locked and ready, %lu messages (%llu octets)\r\n", n,
		  octets);
}

/* Check NAME/PASSWORD and log in or fail. */
static void login_password(struct pop3 *s, const char *name, const char *password,
			   const char *method)
{
	struct user u;
	int r = users_authenticate(s->cfg, name, password, &u);

	if (r < 0) {
		temp_unavailable(s);
		return;
	}
	if (r == 0) {
		auth_failed(s, name, method, "bad-credentials");
		return;
	}
	login(s, &u, method);
}

int pop3_cmd_user(struct pop3 *s, char *args)
{
	char *name = pop3_next_arg(&args);

	s->user_given[0] = '\0';
	if (!pop3_plaintext_allowed(s)) {
		io_puts(s->io, no_plaintext);
		return -1;
	}
	if (!name || pop3_next_arg(&args)) {
		io_puts(s->io, "-ERR syntax: USER name\r\n");
		return -1;
	}
	if (strlen(name) >= sizeof s->user_given) {
		io_puts(s->io, "-ERR user name too long\r\n");
		return -1;
	}
	strcpy(s->user_given, name);
	/* same reply for every name: do not reveal which users exist */
	io_puts(s->io, "+OK send PASS\r\n");
	return 0;
}

int pop3_cmd_pass(struct pop3 *s, char *args)
{
	char name[USER_NAME_MAX];

	if (!s->user_given[0]) {
		io_puts(s->io, "-ERR send USER first\r\n");
		return -1;
	}
	/* RFC 1939: the password is the rest of the line, spaces included */
	strcpy(name, s->user_given);
	s->user_given[0] = '\0';
	login_password(s, name, args, "USER");
	sasl_wipe(args, strlen(args));
	return 0;
}

/* Lower-case hex MD5 of timestamp + secret (RFC 1939 7.). MD5 comes from
 * libcrypto, loaded here on first use (openssl-dl.h). */
static int apop_digest(const char *timestamp, const char *secret, char out[33])
{
	static bool logged;
	const struct ossl *o = ossl_load();
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	if (!o) {
		if (!logged)
			log_err("APOP: cannot load OpenSSL for MD5: %s", ossl_error());
		logged = true;
		return -1;
	}
	EVP_MD_CTX *ctx = o->EVP_MD_CTX_new();
	int ok = ctx && o->EVP_DigestInit_ex(ctx, o->EVP_md5(), NULL) &&
		 o->EVP_DigestUpdate(ctx, timestamp, strlen(timestamp)) &&
		 o->EVP_DigestUpdate(ctx, secret, strlen(secret)) &&
		 o->EVP_DigestFinal_ex(ctx, md, &mdlen) && mdlen == 16;

	o->EVP_MD_CTX_free(ctx);
	if (!ok) {
		log_err("APOP: MD5 digest failed");
		return -1;
	}
	for (i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

/* APOP works only for users whose stored secret is plain text: the digest
 * needs the shared secret itself, which a crypt(3) hash does not give. For
 * hashed users (what postern-user writes) APOP always fails with [AUTH];
 * it is not a CAPA tag, and the banner timestamp is there only because
 * RFC 1939 clients look for it. */
int pop3_cmd_apop(struct pop3 *s, char *args)
{
	char *name = pop3_next_arg(&args), *digest = pop3_next_arg(&args);
	char want[33], got[33];
	struct user u;
	size_t i;
	int r;

	s->user_given[0] = '\0';
	if (!name || !digest || pop3_next_arg(&args)) {
		io_puts(s->io, "-ERR syntax: APOP name digest\r\n");
		return -1;
	}
	if (!pop3_plaintext_allowed(s)) {
		io_puts(s->io, no_plaintext);
		return -1;
	}
	if (strlen(digest) != 32) {
		auth_failed(s, name, "APOP", "malformed");
		return 0;
	}
	for (i = 0; i < 32; i++)
		got[i] = (char)(digest[i] >= 'A' && digest[i] <= 'F' ? digest[i] - 'A' + 'a'
								      : digest[i]);
	got[32] = '\0';
	r = users_lookup(s->cfg, name, &u);
	if (r < 0) {
		io_puts(s->io, "-ERR [SYS/TEMP] authentication temporarily unavailable\r\n");
		s->closing = true;
		return 0;
	}
	if (r == 1 && !u.plain) {
		sasl_wipe(&u, sizeof u);
		auth_failed(s, name, "APOP", "hashed-secret");
		return 0;
	}
	/* an unknown user costs the same digest as a known one */
	if (apop_digest(s->timestamp, r == 1 ? u.secret : "-", want) < 0) {
		sasl_wipe(&u, sizeof u);
		temp_unavailable(s);
		return 0;
	}
	if (r == 0 || !users_secret_equal(got, want)) {
		sasl_wipe(&u, sizeof u);
		auth_failed(s, name, "APOP", "bad-credentials");
		return 0;
	}
	sasl_wipe(u.secret, sizeof u.secret);
	login(s, &u, "APOP");
	return 0;
}

/* The PLAIN response (base64) from the AUTH line or a continuation. */
static void auth_plain(struct pop3 *s, const char *b64)
{
	unsigned char buf[SASL_PLAIN_MAX + 1];
	struct sasl_plain p;
	size_t n;
	int r;

	r = sasl_base64_decode(b64, strlen(b64), buf, sizeof buf, &n);
	if (r != SASL_OK) {
		auth_failed(s, NULL, "PLAIN", r == SASL_TOO_LONG ? "too-long" : "bad-base64");
	} else if ((r = sasl_plain_split(buf, n, &p)) != SASL_OK) {
		auth_failed(s, r == SASL_AUTHZID ? p.authcid : NULL, "PLAIN",
			    r == SASL_TOO_LONG   ? "too-long"
			    : r == SASL_AUTHZID ? "authzid"
						 : "malformed");
	} else {
		login_password(s, p.authcid, p.passwd, "PLAIN");
	}
	sasl_wipe(buf, sizeof buf);
}

int pop3_cmd_auth(struct pop3 *s, char *args)
{
	char *mech = pop3_next_arg(&args), *initial = pop3_next_arg(&args);
	char line[POP3_SASL_LINE_MAX];
	size_t len;
	int r;

	s->user_given[0] = '\0';
	if (!mech) {
		/* not in RFC 5034, but Outlook and others probe with it */
		io_puts(s->io, pop3_plaintext_allowed(s) ? "+OK\r\nPLAIN\r\n.\r\n" : "+OK\r\n.\r\n");
		return 0;
	}
	if (pop3_next_arg(&args)) {
		io_puts(s->io, "-ERR syntax: AUTH mechanism [initial-response]\r\n");
		return -1;
	}
	if (strcasecmp(mech, "PLAIN") != 0) {
		io_puts(s->io, "-ERR unsupported authentication mechanism\r\n");
		return -1;
	}
	if (!pop3_plaintext_allowed(s)) {
		io_puts(s->io, no_plaintext);
		return -1;
	}
	if (initial) {
		auth_plain(s, initial);
		sasl_wipe(initial, strlen(initial));
		return 0;
	}
	io_puts(s->io, "+ \r\n");
	r = io_getline(s->io, line, sizeof line, &len, NULL);
	if (r == IO_TOOLONG) {
		io_puts(s->io, "-ERR line too long\r\n");
		return -1;
	}
	if (r != IO_OK) {
		/* EOF or timeout in the middle of AUTH: the session is over */
		s->closing = true;
		return 0;
	}
	if (strcmp(line, "*") == 0) {
		io_puts(s->io, "-ERR authentication cancelled\r\n");
		return 0;
	}
	if (memchr(line, '\0', len))
		auth_failed(s, NULL, "PLAIN", "malformed");
	else
		auth_plain(s, line);
	sasl_wipe(line, sizeof line);
	return 0;
}
