#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "io.h"
#include "openssl-dl.h"
#include "tls.h"
#include "unit.h"

static struct config cfg;
static char cafile[600];

static int make_cert(void)
{
	char cmd[4096];
	const char *d = unit_tmpdir();
	snprintf(cfg.tls_cert, sizeof cfg.tls_cert, "%s/cert.pem", d);
	snprintf(cfg.tls_key, sizeof cfg.tls_key, "%s/key.pem", d);
	snprintf(cafile, sizeof cafile, "%s/cert.pem", d);
	snprintf(cmd, sizeof cmd,
		 "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=mx.test "
		 "-addext subjectAltName=DNS:mx.test -keyout %s -out %s >/dev/null 2>&1",
		 cfg.tls_key, cfg.tls_cert);
	return system(cmd);
}

static struct io srv, cli;

static void test_configured(void)
{
	CHECK(tls_configured(&cfg));
	struct config none;
	config_defaults(&none);
	CHECK(!tls_configured(&none));
	/* checking the files does not load OpenSSL: only a handshake does */
	CHECK(!ossl_loaded());
}

/* Without the libraries (POSTERN_OPENSSL_DIR naming an empty directory) a
 * handshake fails cleanly with the loader's reason. In a child, so that
 * this process still loads them for the tests that follow. */
static void test_unavailable(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		setenv("POSTERN_OPENSSL_DIR", unit_tmpdir(), 1);
		int sv[2];
		char err[256];
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
			_exit(2);
		io_init(&cli, sv[0], sv[0], 10);
		if (tls_client_start(&cli, "mx.test", true, cafile, err, sizeof err) != -1)
			_exit(3);
		if (!strstr(err, "TLS not available") || !strstr(err, "libcrypto.so."))
			_exit(4);
		io_init(&srv, sv[1], sv[1], 10);
		if (tls_server_start(&srv, &cfg) != -1 || !srv.write_failed)
			_exit(5);
		_exit(tls_available() || ossl_loaded() || ossl_load() ? 6 : 0);
	}
	int st;
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(!ossl_loaded());
}

/* Server: discards injected plaintext, then echoes one line over TLS. */
static void test_roundtrip(void)
{
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		io_init(&srv, sv[1], sv[1], 10);
		char line[256];
		size_t len;
		if (io_getline(&srv, line, sizeof line, &len, NULL) != IO_OK || strcmp(line, "STARTTLS"))
			_exit(2);
		io_puts(&srv, "220 go ahead\r\n");
		io_flush(&srv);
		/* the injected line arrived with STARTTLS and must be gone */
		if (tls_server_start(&srv, &cfg) != 0)
			_exit(3);
		if (io_getline(&srv, line, sizeof line, &len, NULL) != IO_OK)
			_exit(4);
		io_printf(&srv, "echo %s\r\n", line);
		io_flush(&srv);
		tls_end(&srv);
		_exit(0);
	}
	close(sv[1]);
	const char inject[] = "STARTTLS\r\nINJECTED\r\n";
	CHECK(write(sv[0], inject, sizeof inject - 1) == (ssize_t)(sizeof inject - 1));
	io_init(&cli, sv[0], sv[0], 10);
	char line[256], err[256];
	size_t len;
	CHECK(io_getline(&cli, line, sizeof line, &len, NULL) == IO_OK);
	CHECK_STR(line, "220 go ahead");
	CHECK(tls_client_start(&cli, "mx.test", true, cafile, err, sizeof err) == 0);
	CHECK(tls_describe(&cli) != NULL);
	io_puts(&cli, "hello\r\n");
	CHECK(io_getline(&cli, line, sizeof line, &len, NULL) == IO_OK);
	CHECK_STR(line, "echo hello");
	CHECK(ossl_loaded());
	tls_end(&cli);
	close(sv[0]);
	int st;
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void test_verify_fails(void)
{
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		io_init(&srv, sv[1], sv[1], 10);
		_exit(tls_server_start(&srv, &cfg) == 0 ? 0 : 1);
	}
	close(sv[1]);
	io_init(&cli, sv[0], sv[0], 10);
	char err[256];
	CHECK(tls_client_start(&cli, "wrong.name", true, cafile, err, sizeof err) == -1);
	CHECK(strstr(err, "verification") != NULL);
	close(sv[0]);
	waitpid(pid, NULL, 0);
}

int main(void)
{
	config_defaults(&cfg);
	setenv("POSTERN_LOG", "stderr", 1);
	if (make_cert() != 0) {
		printf("not ok 1 - openssl could not make a test certificate\n");
		return 1;
	}
	RUN(test_configured);
	RUN(test_unavailable);
	RUN(test_roundtrip);
	RUN(test_verify_fails);
	return unit_done();
}
