/* Shared by the bench tools: blocking TCP client with a line reader.
 * Benchmark code, not part of Postern. */
#ifndef BENCH_NET_H
#define BENCH_NET_H
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CONN_BUF (1 << 20)

struct conn {
	int fd;
	size_t r, w;	/* unread bytes are buf[r..w) */
	int partial;	/* last line returned was cut (longer than the buffer) */
	char buf[CONN_BUF + 1];
};

static inline double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline int conn_open(struct conn *c, const char *host, int port)
{
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return -1;
	c->r = c->w = 0;
	c->partial = 0;
	for (int attempt = 0; attempt < 50; attempt++) {
		c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (c->fd < 0)
			return -1;
		if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
			int one = 1;
			setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
			return 0;
		}
		int e = errno;
		close(c->fd);
		c->fd = -1;
		/* a full listen backlog or exhausted ephemeral ports: back off */
		if (e != EAGAIN && e != ECONNREFUSED && e != EADDRNOTAVAIL && e != ETIMEDOUT)
			return -1;
		usleep(2000 * (attempt + 1));
	}
	return -1;
}

static inline void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static inline int conn_write(struct conn *c, const void *p, size_t n)
{
	const char *s = p;
	while (n > 0) {
		ssize_t k = write(c->fd, s, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		s += k;
		n -= (size_t)k;
	}
	return 0;
}

static inline int conn_puts(struct conn *c, const char *s)
{
	return conn_write(c, s, strlen(s));
}

static inline int conn_fill(struct conn *c)
{
	if (c->r > 0) {
		memmove(c->buf, c->buf + c->r, c->w - c->r);
		c->w -= c->r;
		c->r = 0;
	}
	if (c->w >= CONN_BUF)
		return 0;
	for (;;) {
		ssize_t k = read(c->fd, c->buf + c->w, CONN_BUF - c->w);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		c->w += (size_t)k;
		return 1;
	}
}

/* Next line (with its CRLF, NUL-terminated in place) or NULL at EOF. A line
 * longer than the buffer comes back in pieces with c->partial set. */
static inline char *conn_line(struct conn *c, size_t *len)
{
	for (;;) {
		char *nl = memchr(c->buf + c->r, '\n', c->w - c->r);
		if (nl) {
			char *line = c->buf + c->r;
			size_t n = (size_t)(nl - line) + 1;
			c->r += n;
			*len = n;
			c->partial = 0;
			return line;
		}
		if (c->r == 0 && c->w >= CONN_BUF) {
			char *line = c->buf;
			*len = c->w;
			c->r = c->w;
			c->partial = 1;
			return line;
		}
		if (conn_fill(c) < 0)
			return NULL;
	}
}

/* Skip n bytes of the stream (an IMAP literal, a POP3 message body). */
static inline int conn_skip(struct conn *c, size_t n)
{
	while (n > 0) {
		if (c->r == c->w && conn_fill(c) < 0)
			return -1;
		size_t have = c->w - c->r;
		size_t k = have < n ? have : n;
		c->r += k;
		n -= k;
	}
	return 0;
}

/* SMTP: read a (multi-line) reply, return its code or -1. */
static inline int smtp_reply(struct conn *c)
{
	for (;;) {
		size_t n;
		char *l = conn_line(c, &n);
		if (!l || n < 4)
			return -1;
		if (l[3] != '-')
			return atoi(l);
	}
}

/* IMAP: read until the tagged response of tag; 0 on OK, 1 on NO/BAD, -1 on
 * EOF. Literals are skipped by size, so their contents never look like a
 * tagged line. *bytes (if not NULL) gets the octets read. */
static inline int imap_wait(struct conn *c, const char *tag, size_t *bytes)
{
	size_t tl = strlen(tag), total = 0;
	int cont = 0;
	for (;;) {
		size_t n;
		char *l = conn_line(c, &n);
		if (!l)
			return -1;
		total += n;
		int was_partial = c->partial;
		if (!cont && n > tl && memcmp(l, tag, tl) == 0 && l[tl] == ' ') {
			if (bytes)
				*bytes = total;
			return strncmp(l + tl + 1, "OK", 2) == 0 ? 0 : 1;
		}
		cont = was_partial;
		/* literal at the end of the line: {123}\r\n or {123+}\r\n */
		if (!was_partial && n >= 4 && l[n - 2] == '\r' && l[n - 3] == '}') {
			size_t i = n - 4;
			if (l[i] == '+')
				i--;
			size_t end = i;
			while (i > 0 && l[i] >= '0' && l[i] <= '9')
				i--;
			if (l[i] == '{' && i < end) {
				size_t lit = strtoul(l + i + 1, NULL, 10);
				if (conn_skip(c, lit) < 0)
					return -1;
				total += lit;
				cont = 1;
			}
		}
	}
}

/* POP3: one status line; 0 on +OK. */
static inline int pop3_status(struct conn *c)
{
	size_t n;
	char *l = conn_line(c, &n);
	if (!l)
		return -1;
	return strncmp(l, "+OK", 3) == 0 ? 0 : 1;
}

/* POP3: a multi-line body up to ".\r\n"; returns octets or -1. */
static inline long pop3_multiline(struct conn *c)
{
	long total = 0;
	int cont = 0;
	for (;;) {
		size_t n;
		char *l = conn_line(c, &n);
		if (!l)
			return -1;
		if (!cont && (n == 3 || n == 2) && l[0] == '.' && (l[1] == '\r' || l[1] == '\n'))
			return total;
		cont = c->partial;
		total += (long)n;
	}
}
#endif
