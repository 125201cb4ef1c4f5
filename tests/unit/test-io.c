#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io.h"
#include "unit.h"

static struct io io;

/* Feed TEXT through a pipe into io (one byte per write when bytewise). */
static void feed(const char *text, size_t len, unsigned timeout_s)
{
	int p[2], out = open("/dev/null", O_WRONLY);
	CHECK(pipe(p) == 0);
	if (fork() == 0) {
		close(p[0]);
		for (size_t i = 0; i < len; i++)
			if (write(p[1], text + i, 1) != 1)
				_exit(1);
		_exit(0);
	}
	close(p[1]);
	io_init(&io, p[0], out, timeout_s);
}

static void done(void)
{
	close(io.fd_in);
	close(io.fd_out);
	while (wait(NULL) > 0)
		;
}

static void test_lines(void)
{
	const char in[] = "HELO a\r\nNOOP\nlast";
	feed(in, sizeof in - 1, 5);
	char buf[64];
	size_t len;
	bool crlf;
	CHECK(io_getline(&io, buf, sizeof buf, &len, &crlf) == IO_OK);
	CHECK_STR(buf, "HELO a");
	CHECK(len == 6 && crlf);
	CHECK(io_getline(&io, buf, sizeof buf, &len, &crlf) == IO_OK);
	CHECK_STR(buf, "NOOP");
	CHECK(!crlf);
	CHECK(io_getline(&io, buf, sizeof buf, &len, &crlf) == IO_EOF);
	CHECK_STR(buf, "last");
	CHECK(io_getline(&io, buf, sizeof buf, &len, &crlf) == IO_EOF);
	CHECK(len == 0);
	done();
}

static void test_too_long(void)
{
	char in[300];
	memset(in, 'x', 200);
	strcpy(in + 200, "\r\nok\r\n");
	feed(in, strlen(in), 5);
	char buf[100];
	size_t len;
	CHECK(io_getline(&io, buf, sizeof buf, &len, NULL) == IO_TOOLONG);
	CHECK(io_getline(&io, buf, sizeof buf, &len, NULL) == IO_OK);
	CHECK_STR(buf, "ok");
	done();
}

static void test_exact_fit(void)
{
	/* max-1 octets of content fit; one more does not */
	char in[40];
	memset(in, 'y', 9);
	strcpy(in + 9, "\nzzzzzzzzzz\n");
	feed(in, strlen(in), 5);
	char buf[10];
	size_t len;
	CHECK(io_getline(&io, buf, sizeof buf, &len, NULL) == IO_OK);
	CHECK(len == 9);
	CHECK(io_getline(&io, buf, sizeof buf, &len, NULL) == IO_TOOLONG);
	done();
}

static void test_nul_and_exact(void)
{
	const char in[] = "A\0B\r\n12345rest";
	feed(in, sizeof in - 1, 5);
	char buf[64];
	size_t len;
	CHECK(io_getline(&io, buf, sizeof buf, &len, NULL) == IO_OK);
	CHECK(len == 3 && buf[1] == '\0' && buf[2] == 'B');
	char five[5];
	CHECK(io_read_exact(&io, five, 5) == IO_OK);
	CHECK(memcmp(five, "12345", 5) == 0);
	CHECK(io_getc(&io) == 'r');
	CHECK(io_buffered(&io) <= 3);
	done();
}

static void test_timeout(void)
{
	int p[2], out = open("/dev/null", O_WRONLY);
	CHECK(pipe(p) == 0);
	io_init(&io, p[0], out, 1);
	char buf[16];
	size_t len;
	CHECK(io_getline(&io, buf, sizeof buf, &len, NULL) == IO_TIMEOUT);
	close(p[1]);
	close(p[0]);
	close(out);
}

static void test_write(void)
{
	char path[512];
	snprintf(path, sizeof path, "%s/out", unit_tmpdir());
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	io_init(&io, 0, fd, 0);
	io_printf(&io, "250 %s\r\n", "ok");
	static char big[IO_BUFSIZE * 2];
	memset(big, 'b', sizeof big);
	io_write(&io, big, sizeof big);
	io_puts(&io, "end");
	CHECK(io_flush(&io) == IO_OK);
	close(fd);
	FILE *f = fopen(path, "r");
	char head[9] = "";
	CHECK(fread(head, 1, 8, f) == 8);
	CHECK(memcmp(head, "250 ok\r\n", 8) == 0);
	fseek(f, 0, SEEK_END);
	CHECK(ftell(f) == (long)(8 + sizeof big + 3));
	fclose(f);
}

static void test_discard(void)
{
	const char in[] = "STARTTLS\r\nMAIL FROM:<evil>\r\n";
	feed(in, sizeof in - 1, 5);
	char buf[64];
	size_t len;
	CHECK(io_getline(&io, buf, sizeof buf, &len, NULL) == IO_OK);
	while (wait(NULL) > 0) /* all bytes written by now */
		;
	CHECK(io_getc(&io) == 'M');
	CHECK(io_discard_input(&io) > 0);
	CHECK(io_buffered(&io) == 0);
	done();
}

int main(void)
{
	RUN(test_lines);
	RUN(test_too_long);
	RUN(test_exact_fit);
	RUN(test_nul_and_exact);
	RUN(test_timeout);
	RUN(test_write);
	RUN(test_discard);
	return unit_done();
}
