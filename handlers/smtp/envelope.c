/* MAIL FROM and RCPT TO: the envelope of a transaction. Addresses are
 * validated completely (lib/smtp-path.c) before anything looks at them. */
#include "commands.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "recipient.h"
#include "smtp-path.h"

/* "FROM:" / "TO:" after the verb; the rest after it, or NULL. */
static const char *after_keyword(const char *arg, const char *kw)
{
	size_t n = strlen(kw);
	if (strncasecmp(arg, kw, n) != 0)
		return NULL;
	return arg + n;
}

/* A SIZE= value: decimal digits only, no overflow. */
static int parse_size(const char *v, size_t *out)
{
	size_t n = 0;
	if (!*v)
		return -1;
	for (; *v; v++) {
		if (!isdigit((unsigned char)*v))
			return -1;
		if (__builtin_mul_overflow(n, 10, &n) || __builtin_add_overflow(n, (size_t)(*v - '0'), &n))
			n = SIZE_MAX; /* absurdly large: still just "too big" */
	}
	*out = n;
	return 0;
}

int smtp_check_mail(struct smtp_session *s, const char *arg)
{
	(void)arg;
	switch (smtp_phase(s)) {
	case SMTP_PH_CONNECTED:
		smtp_reply(s, 503, "5.5.1", "Send EHLO or HELO first");
		return -1;
	case SMTP_PH_READY:
		if (s->cfg->submission && !s->authenticated) {
			smtp_reply(s, 530, "5.7.0", "Authentication required");
			return -1;
		}
		return 0;
	default:
		smtp_reply(s, 503, "5.5.1", "Sender already specified");
		return -1;
	}
}

void smtp_cmd_mail(struct smtp_session *s, const char *arg)
{
	const char *rest = after_keyword(arg, "FROM:");
	struct smtp_path p;
	const char *params;
	if (!rest) {
		smtp_reply(s, 501, "5.5.4", "Syntax: MAIL FROM:<address>");
		return;
	}
	if (smtp_path_parse(rest, SMTP_PATH_NULL_OK, &p, &params) < 0) {
		smtp_reply(s, 501, "5.1.7", "Bad sender address syntax");
		return;
	}

	bool smtputf8 = false, body_8bit = false;
	char kw[32], val[64];
	bool has_val;
	int r;
	while ((r = smtp_param_next(&params, kw, sizeof kw, val, sizeof val, &has_val)) > 0) {
		if (strcmp(kw, "SIZE") == 0) {
			size_t size;
			if (!has_val || parse_size(val, &size) < 0) {
				smtp_reply(s, 501, "5.5.4", "Bad SIZE parameter");
				return;
			}
			if (size > s->cfg->max_message_size) {
				smtp_reply(s, 552, "5.3.4", "Message size exceeds fixed maximum message size");
				return;
			}
		} else if (strcmp(kw, "BODY") == 0) {
			if (has_val && strcasecmp(val, "7BIT") == 0) {
				body_8bit = false;
			} else if (has_val && strcasecmp(val, "8BITMIME") == 0) {
				body_8bit = true;
			} else {
				smtp_reply(s, 555, "5.5.4", "Unsupported BODY type");
				return;
			}
		} else if (strcmp(kw, "SMTPUTF8") == 0 && !has_val) {
			smtputf8 = true;
		} else {
			smtp_reply(s, 555, "5.5.4", "Unsupported parameter %s", kw);
			return;
		}
	}
	if (r < 0) {
		smtp_reply(s, 501, "5.5.4", "Bad parameter syntax");
		return;
	}
	if (p.non_ascii && !smtputf8) {
		smtp_reply(s, 553, "5.6.7", "Non-ASCII address requires the SMTPUTF8 parameter");
		return;
	}

	if (s->cfg->submission) {
		int owned = smtp_sender_owned(s, &p);
		if (owned < 0) {
			smtp_reply(s, 451, "4.3.0", "Temporary local problem, try again later");
			return;
		}
		if (!owned) {
			log_info("rejected from=<%s> user=%s: sender address not owned", p.addr,
				 s->auth_user);
			smtp_reply(s, 553, "5.7.1", "Sender address not owned by user");
			return;
		}
	}

	struct smtp_txn *t = &s->txn;
	smtp_txn_reset(s);
	t->active = true;
	snprintf(t->sender, sizeof t->sender, "%s", p.addr);
	t->smtputf8 = smtputf8;
	t->body_8bit = body_8bit;
	smtp_reply(s, 250, "2.1.0", "Sender OK");
}

int smtp_check_rcpt(struct smtp_session *s, const char *arg)
{
	(void)arg;
	switch (smtp_phase(s)) {
	case SMTP_PH_CONNECTED:
	case SMTP_PH_READY:
		smtp_reply(s, 503, "5.5.1", "Need MAIL before RCPT");
		return -1;
	case SMTP_PH_BDAT:
		smtp_reply(s, 503, "5.5.1", "RCPT not allowed after BDAT");
		return -1;
	default:
		return 0;
	}
}

void smtp_cmd_rcpt(struct smtp_session *s, const char *arg)
{
	struct smtp_txn *t = &s->txn;
	const char *rest = after_keyword(arg, "TO:");
	struct smtp_path p;
	const char *params;
	if (!rest) {
		smtp_reply(s, 501, "5.5.4", "Syntax: RCPT TO:<address>");
		return;
	}
	t->rcpt_tried++;
	if (t->nrcpt >= s->cfg->max_recipients) {
		smtp_reply(s, 452, "4.5.3", "Too many recipients");
		return;
	}
	if (smtp_path_parse(rest, SMTP_PATH_POSTMASTER_OK, &p, &params) < 0) {
		smtp_reply(s, 501, "5.1.3", "Bad recipient address syntax");
		return;
	}
	char kw[32], val[64];
	bool has_val;
	int r = smtp_param_next(&params, kw, sizeof kw, val, sizeof val, &has_val);
	if (r < 0) {
		smtp_reply(s, 501, "5.5.4", "Bad parameter syntax");
		return;
	}
	if (r > 0) {
		smtp_reply(s, 555, "5.5.4", "Unsupported parameter %s", kw);
		return;
	}
	if (p.non_ascii && !t->smtputf8) {
		smtp_reply(s, 553, "5.6.7", "Non-ASCII address requires the SMTPUTF8 parameter");
		return;
	}

	switch (smtp_rcpt_resolve(s, &p)) {
	case SMTP_RCPT_OK:
		if (t->nrcpt++ == 0)
			snprintf(t->first_rcpt, sizeof t->first_rcpt, "%s", p.addr);
		smtp_reply(s, 250, "2.1.5", "Recipient OK");
		return;
	case SMTP_RCPT_NO_USER:
		log_info("rejected rcpt=<%s> from=<%s>: no such user", p.addr, t->sender);
		smtp_reply(s, 550, "5.1.1", "No such user");
		return;
	case SMTP_RCPT_RELAY:
		log_info("rejected rcpt=<%s> from=<%s>: relaying denied", p.addr, t->sender);
		smtp_reply(s, 550, "5.7.1", "Relaying denied");
		return;
	case SMTP_RCPT_REMOTE_ONLY:
		smtp_reply(s, 451, "4.7.1", "Forwarding to remote addresses is not available yet");
		return;
	case SMTP_RCPT_TOO_MANY:
		smtp_reply(s, 452, "4.5.3", "Too many recipients");
		return;
	case SMTP_RCPT_ERROR:
		smtp_reply(s, 451, "4.3.0", "Temporary local problem, try again later");
		return;
	}
}
