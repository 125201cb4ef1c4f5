/* client: one outgoing SMTP session (RFC 5321 as a client). Every read has
 * the configured timeout (struct io), connect has its own. With PIPELINING
 * (RFC 2920) MAIL, every RCPT and DATA go out in one write and the replies
 * are read in order; without it, one command at a time. STARTTLS is used
 * whenever offered, without certificate checks (opportunistic, Postfix's
 * "may"): a failed handshake is retried once in plain text. The content
 * is sent dot-stuffed; it is already CRLF (stored as received). */
#include "relay.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "io.h"
#include "log.h"
#include "strbuf.h"
#include "tls.h"

#define REPLY_LINE_MAX 1024
#define REPLY_LINES_MAX 100

struct caps {
	bool esmtp, pipelining, starttls, size, eightbit, smtputf8;
	unsigned long long size_max; /* 0: no limit announced */
};

struct reply {
	int code;                      /* 0: no reply (connection trouble) */
	char text[QUEUE_DIAG_MAX];     /* "250 2.1.5 Ok" (first line, then " / " joined) */
};

static void addr_str(const struct dns_addr *a, char *out, size_t outlen)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (a->sa.ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)&a->sa;
		inet_ntop(AF_INET, &s->sin_addr, ip, sizeof ip);
		port = ntohs(s->sin_port);
	} else {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)&a->sa;
		inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof ip);
		port = ntohs(s->sin6_port);
	}
	snprintf(out, outlen, a->sa.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, port);
}

/* Connect with a timeout; writes get TIMEOUT_S too (a peer that stops
 * reading must not hold us). fd or -1 (errno). */
static int dial(const struct dns_addr *a, unsigned timeout_s)
{
	int fd = socket(a->sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)&a->sa, a->len) < 0) {
		if (errno != EINPROGRESS) {
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		int r;
		while ((r = poll(&p, 1, RELAY_CONNECT_TIMEOUT * 1000)) < 0 && errno == EINTR)
			;
		int err = 0;
		socklen_t len = sizeof err;
		if (r == 0)
			err = ETIMEDOUT;
		else if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err) {
			close(fd);
			errno = err;
			return -1;
		}
	}
	struct timeval tv = { .tv_sec = timeout_s ? (time_t)timeout_s : 300 };
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Read one (multi-line) reply. With caps, EHLO keywords are collected. */
static void read_reply(struct io *io, struct reply *r, struct caps *caps)
{
	char line[REPLY_LINE_MAX];
	size_t len, tlen = 0;
	r->code = 0;
	r->text[0] = '\0';
	for (int i = 0; i < REPLY_LINES_MAX; i++) {
		int rc = io_getline(io, line, sizeof line, &len, NULL);
		if (rc == IO_TOOLONG)
			continue; /* a long line: skip it, the reply goes on */
		if (rc != IO_OK) {
			r->code = 0;
			snprintf(r->text, sizeof r->text, "%s",
				 rc == IO_TIMEOUT ? "timeout waiting for the server" : "connection lost");
			return;
		}
		if (len < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '9' ||
		    line[2] < '0' || line[2] > '9' || (len > 3 && line[3] != ' ' && line[3] != '-')) {
			r->code = 0;
			snprintf(r->text, sizeof r->text, "bad reply from the server");
			return;
		}
		int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
		if (i > 0 && code != r->code) {
			r->code = 0;
			snprintf(r->text, sizeof r->text, "inconsistent reply codes");
			return;
		}
		r->code = code;
		for (char *p = line; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = ' ';
		if (caps && i > 0) {
			const char *kw = line + 4;
			if (strcasecmp(kw, "PIPELINING") == 0)
				caps->pipelining = true;
			else if (strcasecmp(kw, "STARTTLS") == 0)
				caps->starttls = true;
			else if (strcasecmp(kw, "8BITMIME") == 0)
				caps->eightbit = true;
			else if (strcasecmp(kw, "SMTPUTF8") == 0)
				caps->smtputf8 = true;
			else if (strncasecmp(kw, "SIZE", 4) == 0 && (kw[4] == '\0' || kw[4] == ' ')) {
				caps->size = true;
				caps->size_max = kw[4] ? strtoull(kw + 5, NULL, 10) : 0;
			}
		}
		if (tlen < sizeof r->text - 1) {
			int n = snprintf(r->text + tlen, sizeof r->text - tlen, "%s%s", i ? " / " : "",
					 i ? line + 4 : line);
			if (n > 0)
				tlen = tlen + (size_t)n < sizeof r->text ? tlen + (size_t)n : sizeof r->text - 1;
		}
		if (len == 3 || line[3] == ' ')
			return;
	}
	r->code = 0;
	snprintf(r->text, sizeof r->text, "reply too long");
}

static void command(struct io *io, struct reply *r, struct caps *caps, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void command(struct io *io, struct reply *r, struct caps *caps, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	io_puts(io, buf);
	io_puts(io, "\r\n");
	if (io_flush(io) != IO_OK) {
		r->code = 0;
		snprintf(r->text, sizeof r->text, "connection lost");
		return;
	}
	read_reply(io, r, caps);
}

/* Send the content dot-stuffed and the final ".". IO_OK or an error. */
static int send_content(struct io *io, int fd)
{
	char buf[16384];
	bool bol = true, last_lf = true;
	if (lseek(fd, 0, SEEK_SET) < 0)
		return IO_ERROR;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return IO_ERROR;
		if (n == 0)
			break;
		size_t start = 0;
		for (size_t i = 0; i < (size_t)n; i++) {
			if (bol && buf[i] == '.') {
				io_write(io, buf + start, i - start);
				io_write(io, ".", 1);
				start = i;
			}
			bol = buf[i] == '\n';
		}
		io_write(io, buf + start, (size_t)n - start);
		last_lf = buf[n - 1] == '\n';
		if (io->write_failed)
			return IO_ERROR;
	}
	if (!last_lf)
		io_write(io, "\r\n", 2);
	io_write(io, ".\r\n", 3);
	return io_flush(io);
}

/* Greeting, EHLO (HELO fallback), STARTTLS. 0, or -1 with r set. */
static int open_session(struct io *io, const struct config *cfg, const char *host, bool use_tls,
			struct caps *caps, struct reply *r, bool *tls_failed)
{
	read_reply(io, r, NULL);
	if (r->code != 220)
		return -1;
	for (int round = 0; round < 2; round++) {
		memset(caps, 0, sizeof *caps);
		command(io, r, caps, "EHLO %s", cfg->hostname);
		if (r->code == 250) {
			caps->esmtp = true;
		} else if (r->code >= 500 && r->code < 600) {
			command(io, r, NULL, "HELO %s", cfg->hostname);
			if (r->code != 250)
				return -1;
		} else {
			return -1;
		}
		if (round == 1 || !caps->starttls || !use_tls)
			return 0;
		command(io, r, NULL, "STARTTLS");
		if (r->code != 220)
			return 0; /* refused: go on in plain text, as offered */
		char err[256] = "";
		io_discard_input(io);
		if (tls_client_start(io, host, false, NULL, err, sizeof err) < 0) {
			snprintf(r->text, sizeof r->text, "TLS handshake failed: %s", err);
			r->code = 0;
			*tls_failed = true;
			return -1;
		}
	}
	return 0;
}

static void set_all(struct relay_job *job, const bool *skip, int code, const char *text)
{
	for (size_t i = 0; i < job->n; i++)
		if (!skip || !skip[i]) {
			job->res[i].code = code;
			snprintf(job->res[i].text, sizeof job->res[i].text, "%s", text);
		}
}

/* The transaction on an open session. */
static enum relay_client_result transaction(struct relay_job *job, struct io *io,
					    const struct caps *caps, char *diag, size_t diaglen)
{
	struct reply r;
	if (caps->size && caps->size_max > 0 && (unsigned long long)job->size > caps->size_max) {
		snprintf(r.text, sizeof r.text, "552 5.3.4 Message size %lld exceeds the limit %llu of the server",
			 (long long)job->size, caps->size_max);
		set_all(job, NULL, 552, r.text);
		return CLIENT_DONE;
	}
	if (job->smtputf8 && !caps->smtputf8) {
		/* RFC 6531 §3.2: no downgrade here, the sender is told */
		set_all(job, NULL, 553, "553 5.6.7 The next hop does not support SMTPUTF8");
		return CLIENT_DONE;
	}
	/* 8-bit content to a server without 8BITMIME is sent as it is, as
	 * most MTAs do; the parameter is only given where it is known */
	char mail[QUEUE_ADDR_MAX + 96];
	snprintf(mail, sizeof mail, "MAIL FROM:<%s>%s%s", job->sender,
		 job->body_8bit && caps->eightbit ? " BODY=8BITMIME" : "",
		 job->smtputf8 ? " SMTPUTF8" : "");
	if (caps->size) {
		size_t l = strlen(mail);
		snprintf(mail + l, sizeof mail - l, " SIZE=%lld", (long long)job->size);
	}
	bool *rcpt_ok = xcalloc(job->n, sizeof *rcpt_ok);
	size_t naccepted = 0;
	enum relay_client_result rc = CLIENT_DONE;
	struct reply data;

	if (caps->pipelining) {
		io_printf(io, "%s\r\n", mail);
		for (size_t i = 0; i < job->n; i++)
			io_printf(io, "RCPT TO:<%s>\r\n", job->rcpts[i]);
		io_puts(io, "DATA\r\n");
		if (io_flush(io) != IO_OK) {
			snprintf(diag, diaglen, "connection lost");
			rc = CLIENT_NEXT;
			goto out;
		}
		read_reply(io, &r, NULL);
	} else {
		command(io, &r, NULL, "%s", mail);
	}
	if (r.code == 0 || (r.code >= 400 && r.code < 500)) {
		/* the sender was not accepted here: another host may take it */
		snprintf(diag, diaglen, "%s", r.text);
		rc = CLIENT_NEXT;
		goto out;
	}
	bool mail_ok = r.code >= 200 && r.code < 300;
	if (!mail_ok && !caps->pipelining) {
		set_all(job, NULL, r.code, r.text);
		goto out;
	}
	struct reply mail_reply = r;
	for (size_t i = 0; i < job->n; i++) {
		if (caps->pipelining)
			read_reply(io, &r, NULL);
		else
			command(io, &r, NULL, "RCPT TO:<%s>", job->rcpts[i]);
		if (r.code == 0) {
			set_all(job, rcpt_ok, 0, r.text);
			goto out;
		}
		if (!mail_ok)
			continue;
		job->res[i].code = r.code;
		snprintf(job->res[i].text, sizeof job->res[i].text, "%s", r.text);
		if (r.code >= 200 && r.code < 300) {
			rcpt_ok[i] = true;
			naccepted++;
		}
	}
	if (!mail_ok) {
		set_all(job, NULL, mail_reply.code, mail_reply.text);
		if (caps->pipelining)
			read_reply(io, &data, NULL);
		goto out;
	}
	if (caps->pipelining)
		read_reply(io, &data, NULL);
	else if (naccepted > 0)
		command(io, &data, NULL, "DATA");
	else
		goto out;
	if (data.code != 354) {
		if (naccepted > 0)
			for (size_t i = 0; i < job->n; i++)
				if (rcpt_ok[i]) {
					job->res[i].code = data.code >= 500 ? data.code : 0;
					snprintf(job->res[i].text, sizeof job->res[i].text, "%s", data.text);
				}
		goto out;
	}
	if (naccepted == 0) {
		/* DATA was accepted although no recipient was: send nothing */
		io_puts(io, ".\r\n");
		io_flush(io);
		read_reply(io, &data, NULL);
		goto out;
	}
	if (send_content(io, job->msg_fd) != IO_OK) {
		data.code = 0;
		snprintf(data.text, sizeof data.text, "connection lost while sending the message");
	} else {
		read_reply(io, &data, NULL);
	}
	for (size_t i = 0; i < job->n; i++)
		if (rcpt_ok[i]) {
			job->res[i].code = data.code;
			snprintf(job->res[i].text, sizeof job->res[i].text, "%s", data.text);
		}
out:
	free(rcpt_ok);
	return rc;
}

enum relay_client_result relay_client_deliver(struct relay_job *job, const struct dns_addr *addr,
					      const char *host, char *diag, size_t diaglen)
{
	char where[INET6_ADDRSTRLEN + 16];
	addr_str(addr, where, sizeof where);
	for (size_t i = 0; i < job->n; i++)
		job->res[i].code = 0, job->res[i].text[0] = '\0';
	bool use_tls = true;
	for (int attempt = 0; attempt < 2; attempt++) {
		int fd = dial(addr, job->cfg->smtp_timeout);
		if (fd < 0) {
			snprintf(diag, diaglen, "connect to %s (%s) failed: %s", host, where, strerror(errno));
			return CLIENT_NEXT;
		}
		struct io *io = xmalloc(sizeof *io);
		io_init(io, fd, fd, job->cfg->smtp_timeout);
		struct caps caps;
		struct reply r;
		bool tls_failed = false;
		enum relay_client_result rc;
		if (open_session(io, job->cfg, host, use_tls, &caps, &r, &tls_failed) < 0) {
			snprintf(diag, diaglen, "%s (%s) said: %s", host, where,
				 r.code ? r.text : r.text[0] ? r.text : "no greeting");
			rc = CLIENT_NEXT;
		} else {
			rc = transaction(job, io, &caps, diag, diaglen);
			struct reply q;
			command(io, &q, NULL, "QUIT");
			log_info("session with %s (%s)%s%s done", host, where,
				 tls_describe(io) ? " over " : "", tls_describe(io) ? tls_describe(io) : "");
		}
		tls_end(io);
		close(fd);
		free(io);
		if (tls_failed && attempt == 0) {
			log_warn("%s (%s): %s; retrying without TLS", host, where, r.text);
			use_tls = false;
			continue;
		}
		return rc;
	}
	return CLIENT_NEXT;
}
