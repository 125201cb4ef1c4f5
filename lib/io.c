#include "io.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

static ssize_t fd_read(struct io *io, void *buf, size_t len)
{
	ssize_t n;
	do
		n = read(io->fd_in, buf, len);
	while (n < 0 && errno == EINTR);
	return n;
}

static ssize_t fd_write(struct io *io, const void *buf, size_t len)
{
	ssize_t n;
	do
		n = write(io->fd_out, buf, len);
	while (n < 0 && errno == EINTR);
	return n; /* EAGAIN after SO_SNDTIMEO: the client stopped reading */
}

void io_init(struct io *io, int fd_in, int fd_out, unsigned timeout_s)
{
	memset(io, 0, offsetof(struct io, rbuf));
	io->rpos = io->rlen = io->wlen = 0;
	io->write_failed = false;
	io->bytes_in = io->bytes_out = 0;
	io->fd_in = fd_in;
	io->fd_out = fd_out;
	io->timeout_ms = timeout_s ? (int)(timeout_s > 2000000 ? 2000000000 : timeout_s * 1000) : -1;
	io->raw_read = fd_read;
	io->raw_write = fd_write;
	io->raw_pending = NULL;
	/* a vanished client must surface as a write error, not kill us */
	signal(SIGPIPE, SIG_IGN);
	/* a client that stops reading must not pin the handler forever: on a
	 * socket, writes (plain or TLS) give up after the idle timeout */
	if (timeout_s) {
		struct timeval tv = { .tv_sec = timeout_s > 2000000 ? 2000000 : (time_t)timeout_s };
		setsockopt(fd_out, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv); /* ENOTSOCK on pipes: fine */
	}
	/* Output is gathered into IO_BUFSIZE writes and flushed when a reply
	 * is complete, so Nagle's algorithm only adds delay: the last partial
	 * segment of a large reply waited for the peer's delayed ACK (40 ms
	 * per IMAP FETCH 1:*). Fails harmlessly on pipes and AF_UNIX. */
	int one = 1;
	(void)setsockopt(fd_out, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

void io_reset_transport(struct io *io)
{
	io->raw_read = fd_read;
	io->raw_write = fd_write;
	io->raw_pending = NULL;
	io->tls = NULL;
}

int io_flush(struct io *io)
{
	size_t off = 0;
	if (io->write_failed) {
		io->wlen = 0;
		return IO_ERROR;
	}
	while (off < io->wlen) {
		ssize_t n = io->raw_write(io, io->wbuf + off, io->wlen - off);
		if (n <= 0) {
			io->write_failed = true;
			io->wlen = 0;
			return IO_ERROR;
		}
		off += (size_t)n;
		io->bytes_out += (unsigned long long)n;
	}
	io->wlen = 0;
	return IO_OK;
}

/* Refill the read buffer: flush replies first, then wait for input. */
static int fill(struct io *io)
{
	if (io->rpos == io->rlen)
		io->rpos = io->rlen = 0;
	if (io->rlen == sizeof io->rbuf) {
		if (io->rpos == 0)
			return IO_OK; /* full; caller consumes */
		memmove(io->rbuf, io->rbuf + io->rpos, io->rlen - io->rpos);
		io->rlen -= io->rpos;
		io->rpos = 0;
	}
	if (io_flush(io) != IO_OK)
		return IO_ERROR;
	if (!(io->raw_pending && io->raw_pending(io))) {
		struct pollfd p = { .fd = io->fd_in, .events = POLLIN };
		int r;
		do
			r = poll(&p, 1, io->timeout_ms);
		while (r < 0 && errno == EINTR);
		if (r == 0)
			return IO_TIMEOUT;
		if (r < 0)
			return IO_ERROR;
	}
	ssize_t n = io->raw_read(io, io->rbuf + io->rlen, sizeof io->rbuf - io->rlen);
	if (n == 0)
		return IO_EOF;
	if (n < 0)
		return IO_ERROR;
	io->rlen += (size_t)n;
	io->bytes_in += (unsigned long long)n;
	return IO_OK;
}

int io_getline(struct io *io, char *buf, size_t max, size_t *len_r, bool *crlf_r)
{
	size_t n = 0;
	bool toolong = false, nl_seen = false;
	*len_r = 0;
	if (crlf_r)
		*crlf_r = false;
	while (!nl_seen) {
		if (io->rpos == io->rlen) {
			int r = fill(io);
			if (r != IO_OK) {
				if (r == IO_EOF && n > 0 && !toolong) {
					buf[n] = '\0';
					*len_r = n;
				}
				return r;
			}
		}
		char *start = io->rbuf + io->rpos;
		size_t avail = io->rlen - io->rpos;
		char *nl = memchr(start, '\n', avail);
		size_t take = nl ? (size_t)(nl - start) : avail;
		if (!toolong) {
			if (take > max - 1 - n)
				toolong = true;
			else {
				memcpy(buf + n, start, take);
				n += take;
			}
		}
		io->rpos += take + (nl ? 1 : 0);
		nl_seen = nl != NULL;
	}
	if (toolong) {
		buf[0] = '\0';
		return IO_TOOLONG;
	}
	if (n > 0 && buf[n - 1] == '\r') {
		n--;
		if (crlf_r)
			*crlf_r = true;
	}
	buf[n] = '\0';
	*len_r = n;
	return IO_OK;
}

int io_getc(struct io *io)
{
	if (io->rpos == io->rlen) {
		int r = fill(io);
		if (r != IO_OK)
			return r;
	}
	return (unsigned char)io->rbuf[io->rpos++];
}

int io_peek(struct io *io, const unsigned char **p, size_t *len_r)
{
	if (io->rpos == io->rlen) {
		int r = fill(io);
		if (r != IO_OK)
			return r;
	}
	*p = (const unsigned char *)io->rbuf + io->rpos;
	*len_r = io->rlen - io->rpos;
	return IO_OK;
}

void io_consume(struct io *io, size_t n)
{
	size_t avail = io->rlen - io->rpos;
	io->rpos += n < avail ? n : avail;
}

int io_read_exact(struct io *io, void *buf, size_t len)
{
	char *p = buf;
	while (len > 0) {
		if (io->rpos == io->rlen) {
			int r = fill(io);
			if (r != IO_OK)
				return r;
		}
		size_t take = io->rlen - io->rpos;
		if (take > len)
			take = len;
		memcpy(p, io->rbuf + io->rpos, take);
		io->rpos += take;
		p += take;
		len -= take;
	}
	return IO_OK;
}

size_t io_buffered(const struct io *io)
{
	return io->rlen - io->rpos;
}

size_t io_discard_input(struct io *io)
{
	size_t n = io->rlen - io->rpos;
	io->rpos = io->rlen = 0;
	return n;
}

void io_write(struct io *io, const void *buf, size_t len)
{
	if (io->write_failed)
		return;
	if (len > sizeof io->wbuf - io->wlen) {
		if (io_flush(io) != IO_OK)
			return;
		if (len >= sizeof io->wbuf) {
			const char *p = buf;
			while (len > 0) {
				ssize_t n = io->raw_write(io, p, len);
				if (n <= 0) {
					io->write_failed = true;
					return;
				}
				p += n;
				len -= (size_t)n;
				io->bytes_out += (unsigned long long)n;
			}
			return;
		}
	}
	memcpy(io->wbuf + io->wlen, buf, len);
	io->wlen += len;
}

void io_puts(struct io *io, const char *s)
{
	io_write(io, s, strlen(s));
}

void io_printf(struct io *io, const char *fmt, ...)
{
	char tmp[4096];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof tmp) {
		io_write(io, tmp, (size_t)n);
		return;
	}
	char *big = NULL;
	va_start(ap, fmt);
	n = vasprintf(&big, fmt, ap);
	va_end(ap);
	if (n >= 0 && big)
		io_write(io, big, (size_t)n);
	free(big);
}
