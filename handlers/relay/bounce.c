/* bounce: delivery status notifications (RFC 3464, RFC 6522) for the
 * recipients that failed. Sent with the null sender (RFC 5321 §4.5.5), so
 * a bounce itself is never bounced; to the envelope sender, into the
 * sender's maildir when the sender is local, else through the queue. */
#include "relay.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aliases.h"
#include "log.h"
#include "maildir.h"
#include "smtp-trace.h"
#include "strbuf.h"
#include "users.h"

/* first in the local copy only: the final hop adds it to a queued one */
#define RETURN_PATH "Return-Path: <>\r\n"
#define HEADERS_MAX (64 * 1024) /* of the original, quoted in the report */

void relay_status_code(const char *diag, char *out, size_t outlen)
{
	/* "550 5.1.1 text": the second word when it looks like d.ddd.ddd */
	const char *p = diag;
	if (isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1]) &&
	    isdigit((unsigned char)p[2]) && p[3] == ' ') {
		const char *s = p + 4;
		size_t n = strspn(s, "0123456789.");
		if ((s[0] == '2' || s[0] == '4' || s[0] == '5') && s[1] == '.' && n >= 5 && n <= 9 &&
		    (s[n] == ' ' || s[n] == '\0')) {
			snprintf(out, outlen, "%.*s", (int)n, s);
			return;
		}
		snprintf(out, outlen, "%c.0.0", p[0] == '4' ? '4' : '5');
		return;
	}
	snprintf(out, outlen, "5.0.0");
}

/* The original's header section (up to the empty line, bounded). */
static void add_headers(struct strbuf *sb, int fd)
{
	char buf[4096];
	size_t total = 0;
	int state = 0; /* 0: in a line, 1: after LF, 2: after LF CR */
	if (lseek(fd, 0, SEEK_SET) < 0)
		return;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n; i++) {
			char c = buf[i];
			if (state == 1 && c == '\n')
				return;
			if (state == 2 && c == '\n') {
				sb->len--; /* the CR of the empty line, added already */
				sb->s[sb->len] = '\0';
				return;
			}
			state = c == '\n' ? 1 : (state == 1 && c == '\r') ? 2 : 0;
			sb_addc(sb, c);
			if (++total >= HEADERS_MAX) {
				sb_adds(sb, "\r\n");
				return;
			}
		}
	}
}

static void build(struct strbuf *sb, const struct config *cfg, const struct queue_env *env,
		  int msg_fd)
{
	char date[64], arrival[64], boundary[QUEUE_ID_MAX + 16];
	time_t now = queue_now();
	smtp_trace_date(now, date, sizeof date);
	smtp_trace_date(env->created, arrival, sizeof arrival);
	snprintf(boundary, sizeof boundary, "postern-%s", env->id);

	sb_adds(sb, RETURN_PATH);
	sb_printf(sb, "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n", cfg->hostname);
	sb_printf(sb, "To: <%s>\r\n", env->sender);
	sb_printf(sb, "Subject: Undelivered Mail Returned to Sender\r\n");
	sb_printf(sb, "Date: %s\r\n", date);
	sb_printf(sb, "Message-ID: <%s.bounce@%s>\r\n", env->id, cfg->hostname);
	sb_printf(sb, "Auto-Submitted: auto-replied\r\n");
	sb_printf(sb, "MIME-Version: 1.0\r\n");
	sb_printf(sb, "Content-Type: multipart/report; report-type=delivery-status;\r\n"
		      "\tboundary=\"%s\"\r\n\r\n", boundary);
	sb_printf(sb, "This is a MIME-encapsulated message.\r\n\r\n");

	sb_printf(sb, "--%s\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n", boundary);
	sb_printf(sb, "This is the mail system at host %s.\r\n\r\n"
		      "I'm sorry to have to inform you that your message could not\r\n"
		      "be delivered to one or more recipients.\r\n\r\n", cfg->hostname);
	for (size_t i = 0; i < env->nrcpt; i++)
		if (env->rcpt[i].state == QUEUE_FAILED)
			sb_printf(sb, "<%s>: %s\r\n", env->rcpt[i].addr,
				  env->rcpt[i].diag[0] ? env->rcpt[i].diag : "delivery failed");
	sb_printf(sb, "\r\n");

	sb_printf(sb, "--%s\r\nContent-Type: message/delivery-status\r\n\r\n", boundary);
	sb_printf(sb, "Reporting-MTA: dns; %s\r\nX-Postern-Queue-ID: %s\r\nArrival-Date: %s\r\n",
		  cfg->hostname, env->id, arrival);
	for (size_t i = 0; i < env->nrcpt; i++) {
		const struct queue_rcpt *r = &env->rcpt[i];
		if (r->state != QUEUE_FAILED)
			continue;
		char status[16];
		relay_status_code(r->diag, status, sizeof status);
		sb_printf(sb, "\r\nFinal-Recipient: rfc822; %s\r\nAction: failed\r\nStatus: %s\r\n",
			  r->addr, status);
		if (r->diag[0])
			sb_printf(sb, "Diagnostic-Code: %s; %s\r\n",
				  isdigit((unsigned char)r->diag[0]) ? "smtp" : "x-postern", r->diag);
	}
	sb_printf(sb, "\r\n--%s\r\nContent-Type: text/rfc822-headers\r\n\r\n", boundary);
	add_headers(sb, msg_fd);
	sb_printf(sb, "\r\n--%s--\r\n", boundary);
}

/* Into the maildir of local user NAME. 1 delivered, 0 no such user, -1. */
static int deliver_user(const struct config *cfg, const char *name, const struct strbuf *msg)
{
	struct user u;
	int r = users_lookup(cfg, name, &u);
	explicit_bzero(u.secret, sizeof u.secret);
	if (r <= 0)
		return r;
	char dir[MAILDIR_PATH_MAX];
	if (maildir_user_path(cfg, u.local, u.domain, dir, sizeof dir) < 0 ||
	    maildir_check_user_dir(cfg, dir) < 0 ||
	    maildir_deliver(dir, msg->s, msg->len, NULL, 0) < 0)
		return -1;
	return 1;
}

/* A local sender: the user, or the targets of the alias. 0 or -1. */
static int deliver_local(const struct config *cfg, const char *sender, const struct strbuf *msg)
{
	struct alias_targets *t = xcalloc(1, sizeof *t);
	int rc = -1;
	int a = aliases_expand(cfg, sender, t);
	if (a == 0) {
		int r = deliver_user(cfg, sender, msg);
		if (r == 0)
			log_warn("bounce for <%s> dropped: no such local user", sender);
		rc = r < 0 ? -1 : 0;
	} else if (a > 0) {
		rc = 0;
		for (size_t i = 0; i < t->n && rc == 0; i++) {
			const char *at = strrchr(t->addr[i], '@');
			if (at && config_is_local_domain(cfg, at + 1)) {
				if (deliver_user(cfg, t->addr[i], msg) < 0)
					rc = -1;
			} else {
				const char *one[] = { t->addr[i] };
				size_t skip = strlen(RETURN_PATH);
				rc = queue_enqueue(cfg, NULL, "", one, 1, msg->s + skip, msg->len - skip);
			}
		}
	}
	free(t);
	return rc;
}

int relay_bounce(const struct config *cfg, const struct queue_env *env, int msg_fd)
{
	struct strbuf msg = STRBUF_INIT;
	build(&msg, cfg, env, msg_fd);
	const char *at = strrchr(env->sender, '@');
	int rc;
	if (at && config_is_local_domain(cfg, at + 1)) {
		rc = deliver_local(cfg, env->sender, &msg);
	} else {
		/* the queued copy gets no Return-Path: the final hop adds it */
		size_t skip = strlen(RETURN_PATH);
		const char *one[] = { env->sender };
		rc = queue_enqueue(cfg, NULL, "", one, 1, msg.s + skip, msg.len - skip);
	}
	if (rc == 0)
		log_info("bounce id=%s to=<%s> sent", env->id, env->sender);
	else
		log_err("bounce id=%s to=<%s> failed, will try again", env->id, env->sender);
	sb_free(&msg);
	return rc;
}
