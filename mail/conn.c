/* Client connection: non-blocking connect with a timeout, then a blocking
 * socket whose reads are guarded by poll() and SO_RCVTIMEO (the latter
 * also bounds reads inside a TLS record). */
#include "conn.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static ssize_t plain_read(struct conn *c, void *buf, size_t len)
{
	return read(c->fd, buf, len);
}

static ssize_t plain_write(struct conn *c, const void *buf, size_t len)
{
	return send(c->fd, buf, len, MSG_NOSIGNAL);
}

static void set_timeouts(int fd, int timeout_ms)
{
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	/* best effort: poll() already bounds the plain path */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

void conn_init_fd(struct conn *c, int fd, unsigned timeout_s)
{
	struct strbuf empty = STRBUF_INIT;
	c->fd = fd;
	c->timeout_ms = timeout_s > 3600 ? 3600 * 1000 : (int)timeout_s * 1000;
	c->raw_read = plain_read;
	c->raw_write = plain_write;
	c->raw_pending = NULL;
	c->raw_close = NULL;
	c->tls = NULL;
	c->rpos = c->rlen = 0;
	c->wbuf = empty;
	set_timeouts(fd, c->timeout_ms);
}

/* Connect FD to AI within timeout_ms; 0 or an errno value. */
static int connect_timed(int fd, const struct addrinfo *ai, int timeout_ms)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		if (errno != EINPROGRESS)
			return errno;
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		int n;
		do
			n = poll(&p, 1, timeout_ms);
		while (n < 0 && errno == EINTR);
		if (n == 0)
			return ETIMEDOUT;
		if (n < 0)
			return errno;
		int soerr = 0;
		socklen_t sl = sizeof soerr;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
			return errno;
		if (soerr)
			return soerr;
	}
	if (fcntl(fd, F_SETFL, fl) < 0)
		return errno;
	return 0;
}

int conn_open(struct conn *c, const char *host, unsigned port, unsigned timeout_s,
	      char *err, size_t errlen)
{
	char name[256], service[16];
	size_t hl = strlen(host);
	/* "[::1]" names an IPv6 literal as in URLs */
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		host++;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof name) {
		snprintf(err, errlen, "bad server name");
		return -1;
	}
	memcpy(name, host, hl);
	name[hl] = '\0';
	snprintf(service, sizeof service, "%u", port);

	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	int gai = getaddrinfo(name, service, &hints, &res);
	if (gai != 0) {
		snprintf(err, errlen, "cannot resolve %s: %s", name, gai_strerror(gai));
		return -1;
	}
	int last = ECONNREFUSED;
	int timeout_ms = timeout_s > 3600 ? 3600 * 1000 : (int)timeout_s * 1000;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			last = errno;
			continue;
		}
		last = connect_timed(fd, ai, timeout_ms);
		if (last == 0) {
			freeaddrinfo(res);
			conn_init_fd(c, fd, timeout_s);
			return 0;
		}
		close(fd);
	}
	freeaddrinfo(res);
	snprintf(err, errlen, "cannot connect to %s port %u: %s", name, port, strerror(last));
	return -1;
}

/* Refill rbuf; CONN_OK when at least one byte arrived. */
static int fill(struct conn *c)
{
	if (conn_flush(c) != CONN_OK)
		return CONN_ERROR;
	if (c->rpos == c->rlen)
		c->rpos = c->rlen = 0;
	if (!(c->raw_pending && c->raw_pending(c))) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		int n;
		do
			n = poll(&p, 1, c->timeout_ms);
		while (n < 0 && errno == EINTR);
		if (n == 0)
			return CONN_TIMEOUT;
		if (n < 0)
			return CONN_ERROR;
	}
	ssize_t r;
	do
		r = c->raw_read(c, c->rbuf + c->rlen, sizeof c->rbuf - c->rlen);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return CONN_EOF;
	if (r < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? CONN_TIMEOUT : CONN_ERROR;
	c->rlen += (size_t)r;
	return CONN_OK;
}

int conn_getline(struct conn *c, char *buf, size_t max, size_t *len_r)
{
	size_t n = 0;
	for (;;) {
		while (c->rpos < c->rlen) {
			char ch = c->rbuf[c->rpos++];
			if (ch == '\n') {
				if (n > 0 && buf[n - 1] == '\r')
					n--;
				buf[n] = '\0';
				if (len_r)
					*len_r = n;
				return CONN_OK;
			}
			/* keep room for the NUL; leave the octet unread */
			if (n + 1 >= max) {
				c->rpos--;
				return CONN_TOOLONG;
			}
			buf[n++] = ch;
		}
		int r = fill(c);
		if (r != CONN_OK)
			return r;
	}
}

int conn_read_exact(struct conn *c, struct strbuf *out, size_t n)
{
	while (n > 0) {
		if (c->rpos == c->rlen) {
			int r = fill(c);
			if (r != CONN_OK)
				return r;
		}
		size_t take = c->rlen - c->rpos;
		if (take > n)
			take = n;
		sb_add(out, c->rbuf + c->rpos, take);
		c->rpos += take;
		n -= take;
	}
	return CONN_OK;
}

void conn_write(struct conn *c, const void *p, size_t n)
{
	sb_add(&c->wbuf, p, n);
}

void conn_puts(struct conn *c, const char *s)
{
	sb_adds(&c->wbuf, s);
}

void conn_printf(struct conn *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	sb_add(&c->wbuf, s, (size_t)n);
	free(s);
}

int conn_flush(struct conn *c)
{
	size_t off = 0;
	int rc = CONN_OK;
	while (off < c->wbuf.len) {
		if (c->fd < 0) {
			rc = CONN_ERROR;
			break;
		}
		ssize_t w = c->raw_write(c, c->wbuf.s + off, c->wbuf.len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = errno == EAGAIN || errno == EWOULDBLOCK ? CONN_TIMEOUT : CONN_ERROR;
			break;
		}
		off += (size_t)w;
	}
	sb_reset(&c->wbuf);
	return rc;
}

size_t conn_discard_input(struct conn *c)
{
	size_t n = c->rlen - c->rpos;
	c->rpos = c->rlen = 0;
	return n;
}

void conn_close(struct conn *c)
{
	if (c->raw_close)
		c->raw_close(c);
	c->raw_close = NULL;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	sb_free(&c->wbuf);
}

const char *conn_strerror(int result)
{
	switch (result) {
	case CONN_OK: return "no error";
	case CONN_EOF: return "connection closed by the server";
	case CONN_TIMEOUT: return "the server did not answer in time";
	case CONN_TOOLONG: return "the server sent a line that is too long";
	default: return "connection failed";
	}
}
