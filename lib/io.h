/* io: buffered reader/writer over fds 0/1 with bounded lines and an idle
 * timeout. The raw read/write are function pointers so TLS can be slotted in
 * later without changing callers. The writer is flushed before every
 * blocking read, so pipelined replies cost nothing. */
#ifndef POSTERN_IO_H
#define POSTERN_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define IO_BUFSIZE 65536

enum io_result {
	IO_OK = 0,
	IO_EOF = -1,      /* peer closed (a partial last line is returned as IO_EOF) */
	IO_TIMEOUT = -2,  /* nothing arrived within the idle timeout */
	IO_TOOLONG = -3,  /* line exceeded max; the rest of it was discarded */
	IO_ERROR = -4,    /* read/write failure */
};

struct io {
	int fd_in, fd_out;
	int timeout_ms;            /* idle timeout for reads; <0 = none */
	/* raw transport; default: read(2)/write(2) with poll() for timeout */
	ssize_t (*raw_read)(struct io *io, void *buf, size_t len);
	ssize_t (*raw_write)(struct io *io, const void *buf, size_t len);
	void *tls;                 /* transport private data (TLS session) */
	/* pending() tells whether the transport holds decrypted bytes that
	 * poll() cannot see (TLS); NULL = none */
	bool (*raw_pending)(struct io *io);
	char rbuf[IO_BUFSIZE];
	size_t rpos, rlen;
	char wbuf[IO_BUFSIZE];
	size_t wlen;
	bool write_failed;
	unsigned long long bytes_in, bytes_out;
};

/* Set up io on fds in/out with a timeout in seconds (0 = none). */
void io_init(struct io *io, int fd_in, int fd_out, unsigned timeout_s);

/* Back to plain read(2)/write(2) (after a failed TLS start). */
void io_reset_transport(struct io *io);

/* Read one line into buf (NUL-terminated, without its CRLF or LF).
 * Lines longer than max-1 octets: the rest is discarded up to the LF and
 * IO_TOOLONG returned. *len_r gets the length (lines may contain NULs).
 * *crlf_r (may be NULL) tells whether the line ended in CRLF. */
int io_getline(struct io *io, char *buf, size_t max, size_t *len_r, bool *crlf_r);

/* Next byte (0..255) or IO_EOF / IO_TIMEOUT / IO_ERROR. */
int io_getc(struct io *io);

/* The buffered input, reading more first when none is buffered: *p and
 * *len_r (> 0) describe it until the next io call. IO_OK or an error.
 * With io_consume, a parser takes what it wants in bulk (DATA content)
 * and leaves the rest for io_getline (pipelined commands). */
int io_peek(struct io *io, const unsigned char **p, size_t *len_r);
/* Mark n of the octets io_peek showed as used (n <= *len_r). */
void io_consume(struct io *io, size_t n);

/* Read exactly len octets (literals, BDAT chunks). Returns IO_OK or error. */
int io_read_exact(struct io *io, void *buf, size_t len);

/* Bytes already buffered and not yet consumed. */
size_t io_buffered(const struct io *io);
/* Drop buffered input (at STARTTLS: CVE-2011-0411). Returns what was dropped. */
size_t io_discard_input(struct io *io);

void io_write(struct io *io, const void *buf, size_t len);
void io_puts(struct io *io, const char *s);
void io_printf(struct io *io, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Write everything buffered. Returns IO_OK or IO_ERROR. */
int io_flush(struct io *io);

#endif
