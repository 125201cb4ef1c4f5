/* The command table and the commands that need no more than a reply:
 * EHLO, HELO, RSET, NOOP, QUIT, VRFY, EXPN, HELP. STARTTLS and AUTH are
 * in starttls.c and auth.c. */
#include "commands.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "smtp-path.h"

struct command {
	const char *verb;
	/* 0 when the command may run now; otherwise it has replied */
	int (*check)(struct smtp_session *s, const char *arg);
	void (*proceed)(struct smtp_session *s, const char *arg);
};

static int check_helo(struct smtp_session *s, const char *arg)
{
	if (!*arg) {
		smtp_reply(s, 501, "5.5.4", "Syntax: EHLO hostname");
		return -1;
	}
	if (!smtp_helo_valid(arg)) {
		smtp_reply(s, 501, "5.5.4", "Invalid domain name");
		return -1;
	}
	return 0;
}

static int check_no_arg(struct smtp_session *s, const char *arg)
{
	if (*arg) {
		smtp_reply(s, 501, "5.5.4", "Syntax error, no parameters allowed");
		return -1;
	}
	return 0;
}

static int check_arg(struct smtp_session *s, const char *arg)
{
	if (!*arg) {
		smtp_reply(s, 501, "5.5.4", "Syntax error, argument required");
		return -1;
	}
	return 0;
}

/* EHLO/HELO start over: a new greeting ends any transaction (§4.1.4). */
static void greet(struct smtp_session *s, const char *arg, bool esmtp)
{
	smtp_txn_reset(s);
	snprintf(s->helo, sizeof s->helo, "%s", arg); /* checked: at most 255 octets */
	s->esmtp = esmtp;
}

static void cmd_ehlo(struct smtp_session *s, const char *arg)
{
	char size[32];
	const char *ext[8];
	size_t n = 0;
	greet(s, arg, true);
	snprintf(size, sizeof size, "SIZE %zu", s->cfg->max_message_size);
	ext[n++] = "PIPELINING";
	ext[n++] = size;
	ext[n++] = "8BITMIME";
	ext[n++] = "ENHANCEDSTATUSCODES";
	ext[n++] = "SMTPUTF8";
	ext[n++] = "CHUNKING";
	if (smtp_starttls_offered(s))
		ext[n++] = "STARTTLS";
	if (smtp_auth_offered(s))
		ext[n++] = "AUTH PLAIN LOGIN";
	smtp_reply_cont(s, 250, "%s Hello %s", s->cfg->hostname, s->helo);
	for (size_t i = 0; i + 1 < n; i++)
		smtp_reply_cont(s, 250, "%s", ext[i]);
	smtp_reply(s, 250, NULL, "%s", ext[n - 1]);
}

static void cmd_helo(struct smtp_session *s, const char *arg)
{
	greet(s, arg, false);
	smtp_reply(s, 250, NULL, "%s Hello %s", s->cfg->hostname, s->helo);
}

static void cmd_rset(struct smtp_session *s, const char *arg)
{
	(void)arg;
	smtp_txn_reset(s);
	smtp_reply(s, 250, "2.0.0", "OK");
}

static void cmd_noop(struct smtp_session *s, const char *arg)
{
	(void)arg;
	smtp_reply(s, 250, "2.0.0", "OK");
}

static void cmd_quit(struct smtp_session *s, const char *arg)
{
	(void)arg;
	smtp_reply(s, 221, "2.0.0", "%s Service closing transmission channel", s->cfg->hostname);
	s->closing = true;
}

static void cmd_vrfy(struct smtp_session *s, const char *arg)
{
	(void)arg; /* answering would let anyone harvest addresses */
	smtp_reply(s, 252, "2.5.2", "Cannot VRFY user, but will accept message and attempt delivery");
}

static void cmd_expn(struct smtp_session *s, const char *arg)
{
	(void)arg;
	smtp_reply(s, 502, "5.5.1", "EXPN not available");
}

static void cmd_help(struct smtp_session *s, const char *arg)
{
	(void)arg;
	smtp_reply_cont(s, 214, "2.0.0 Postern SMTP server. Commands:");
	smtp_reply_cont(s, 214, "2.0.0   EHLO HELO MAIL RCPT DATA BDAT");
	smtp_reply_cont(s, 214, "2.0.0   RSET NOOP QUIT VRFY HELP");
	smtp_reply(s, 214, "2.0.0", "End of HELP info");
}

static const struct command commands[] = {
	{ "EHLO", check_helo, cmd_ehlo },
	{ "HELO", check_helo, cmd_helo },
	{ "MAIL", smtp_check_mail, smtp_cmd_mail },
	{ "RCPT", smtp_check_rcpt, smtp_cmd_rcpt },
	{ "DATA", smtp_check_data, smtp_cmd_data },
	{ "BDAT", NULL, smtp_cmd_bdat }, /* must read its chunk even when refused */
	{ "RSET", check_no_arg, cmd_rset },
	{ "NOOP", NULL, cmd_noop },
	{ "QUIT", check_no_arg, cmd_quit },
	{ "VRFY", check_arg, cmd_vrfy },
	{ "EXPN", NULL, cmd_expn },
	{ "HELP", NULL, cmd_help },
	{ "STARTTLS", smtp_check_starttls, smtp_cmd_starttls },
	{ "AUTH", smtp_check_auth, smtp_cmd_auth },
};

void smtp_dispatch(struct smtp_session *s, char *line, size_t len)
{
	if (memchr(line, '\0', len)) {
		smtp_reply(s, 500, "5.5.2", "NUL characters not allowed in commands");
		return;
	}
	/* trailing blanks are never significant; sloppy clients send them */
	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		line[--len] = '\0';

	size_t vlen = 0;
	while (isalpha((unsigned char)line[vlen]))
		vlen++;
	if (line[vlen] != '\0' && line[vlen] != ' ')
		vlen = 0; /* "MAIL:" or "DATA\x01": no verb we know */
	const char *arg = line + vlen;
	while (*arg == ' ')
		arg++;

	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		const struct command *c = &commands[i];
		if (vlen != strlen(c->verb) || strncasecmp(line, c->verb, vlen) != 0)
			continue;
		if (c->check && c->check(s, arg) != 0)
			return;
		c->proceed(s, arg);
		return;
	}
	smtp_reply(s, 500, "5.5.1", "Command unrecognized");
}
