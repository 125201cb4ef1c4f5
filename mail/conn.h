/* conn: one client TCP connection with a bounded line reader, a timeout on
 * every read and write, and raw read/write function pointers so TLS slots
 * in underneath (tls.c) without changing the protocol code above it. */
#ifndef POSTERN_MAIL_CONN_H
#define POSTERN_MAIL_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "strbuf.h"

#define CONN_BUFSIZE 16384

enum conn_result {
	CONN_OK = 0,
	CONN_EOF = -1,      /* the server closed the connection */
	CONN_TIMEOUT = -2,  /* the server stalled longer than the timeout */
	CONN_TOOLONG = -3,  /* a line exceeded the caller's maximum */
	CONN_ERROR = -4,    /* read/write/TLS failure */
};

struct conn {
	int fd;
	int timeout_ms;
	/* raw transport: plain socket by default, TLS after client_tls_start() */
	ssize_t (*raw_read)(struct conn *c, void *buf, size_t len);
	ssize_t (*raw_write)(struct conn *c, const void *buf, size_t len);
	bool (*raw_pending)(struct conn *c); /* bytes poll() cannot see */
	void (*raw_close)(struct conn *c);
	void *tls;
	char rbuf[CONN_BUFSIZE];
	size_t rpos, rlen;
	struct strbuf wbuf;
};

/* Connect to HOST (name, IPv4, IPv6 with or without brackets) on PORT,
 * trying every address getaddrinfo() gives, each within TIMEOUT_S seconds.
 * Returns 0, or -1 with a message in err. */
int conn_open(struct conn *c, const char *host, unsigned port, unsigned timeout_s,
	      char *err, size_t errlen);

/* Use an already connected FD (tests). */
void conn_init_fd(struct conn *c, int fd, unsigned timeout_s);

/* Read one line (without its CRLF or LF) into buf, NUL-terminated. A line
 * of max-1 octets or more is CONN_TOOLONG (a protocol error: the caller
 * gives up on the connection). Flushes pending output first. */
int conn_getline(struct conn *c, char *buf, size_t max, size_t *len_r);

/* Append exactly n octets to out (IMAP literals). */
int conn_read_exact(struct conn *c, struct strbuf *out, size_t n);

/* Buffered output; conn_flush() sends it. */
void conn_write(struct conn *c, const void *p, size_t n);
void conn_puts(struct conn *c, const char *s);
void conn_printf(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int conn_flush(struct conn *c);

/* Drop buffered input (before a TLS handshake: CVE-2011-0411). */
size_t conn_discard_input(struct conn *c);

/* Close the transport and the socket; safe to call twice. */
void conn_close(struct conn *c);

/* "connection closed by server", "server timed out", ... */
const char *conn_strerror(int result);

#endif
