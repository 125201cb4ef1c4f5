#include "tls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "openssl-dl.h"

/* OpenSSL, loaded by the first handshake (openssl-dl.h): the I/O functions
 * below run only on a started session, so they find it set. */
static const struct ossl *lib;

struct tls_state {
	SSL_CTX *ctx;
	SSL *ssl;
	char desc[128];
};

bool tls_available(void)
{
	static bool logged;
	lib = ossl_load();
	if (lib)
		return true;
	if (!logged)
		log_err("TLS not available: cannot load OpenSSL: %s", ossl_error());
	logged = true;
	return false;
}

static void log_ssl_errors(const char *what)
{
	unsigned long e;
	char buf[256];
	int any = 0;
	while ((e = lib->ERR_get_error()) != 0) {
		lib->ERR_error_string_n(e, buf, sizeof buf);
		log_warn("%s: %s", what, buf);
		any = 1;
	}
	if (!any)
		log_warn("%s failed", what);
}

static ssize_t tls_read(struct io *io, void *buf, size_t len)
{
	struct tls_state *t = io->tls;
	size_t got = 0;
	for (;;) {
		int r = lib->SSL_read_ex(t->ssl, buf, len, &got);
		if (r == 1)
			return (ssize_t)got;
		int e = lib->SSL_get_error(t->ssl, r);
		if (e == SSL_ERROR_ZERO_RETURN)
			return 0;
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
			continue;
		if (e == SSL_ERROR_SYSCALL && errno == 0)
			return 0; /* peer closed without close_notify */
		lib->ERR_clear_error();
		return -1;
	}
}

static ssize_t tls_write(struct io *io, const void *buf, size_t len)
{
	struct tls_state *t = io->tls;
	size_t done = 0;
	for (;;) {
		int r = lib->SSL_write_ex(t->ssl, buf, len, &done);
		if (r == 1)
			return (ssize_t)done;
		int e = lib->SSL_get_error(t->ssl, r);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
			continue;
		lib->ERR_clear_error();
		return -1;
	}
}

static bool tls_pending(struct io *io)
{
	struct tls_state *t = io->tls;
	return lib->SSL_pending(t->ssl) > 0;
}

bool tls_configured(const struct config *cfg)
{
	return cfg->tls_cert[0] && cfg->tls_key[0] && access(cfg->tls_cert, R_OK) == 0 &&
	       access(cfg->tls_key, R_OK) == 0;
}

static void free_state(struct tls_state *t)
{
	if (!t)
		return;
	lib->SSL_free(t->ssl);
	lib->SSL_CTX_free(t->ctx);
	free(t);
}

static int attach(struct io *io, struct tls_state *t)
{
	if (!lib->SSL_set_rfd(t->ssl, io->fd_in) || !lib->SSL_set_wfd(t->ssl, io->fd_out))
		return -1;
	io->tls = t;
	io->raw_read = tls_read;
	io->raw_write = tls_write;
	io->raw_pending = tls_pending;
	return 0;
}

static void describe(struct tls_state *t)
{
	snprintf(t->desc, sizeof t->desc, "%s %s", lib->SSL_get_version(t->ssl),
		 lib->SSL_CIPHER_get_name(lib->SSL_get_current_cipher(t->ssl)));
}

int tls_server_start(struct io *io, const struct config *cfg)
{
	if (io->tls) {
		log_warn("TLS already active");
		return -1;
	}
	if (io_flush(io) != IO_OK)
		return -1;
	size_t dropped = io_discard_input(io);
	if (dropped)
		log_warn("discarded %zu octets sent before the TLS handshake", dropped);
	struct tls_state *t = tls_available() ? calloc(1, sizeof *t) : NULL;
	if (!t) {
		io->write_failed = true; /* the client expects a handshake now */
		return -1;
	}
	t->ctx = lib->SSL_CTX_new(lib->TLS_server_method());
	if (!t->ctx)
		goto fail;
	ossl_ctx_set_min_proto(lib, t->ctx, TLS1_2_VERSION);
	lib->SSL_CTX_set_options(t->ctx, SSL_OP_CIPHER_SERVER_PREFERENCE |
					 SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
	ossl_ctx_set_session_cache_mode(lib, t->ctx, SSL_SESS_CACHE_OFF);
	if (lib->SSL_CTX_use_certificate_chain_file(t->ctx, cfg->tls_cert) != 1 ||
	    lib->SSL_CTX_use_PrivateKey_file(t->ctx, cfg->tls_key, SSL_FILETYPE_PEM) != 1 ||
	    lib->SSL_CTX_check_private_key(t->ctx) != 1) {
		log_ssl_errors("loading tls_cert/tls_key");
		goto fail_logged;
	}
	t->ssl = lib->SSL_new(t->ctx);
	if (!t->ssl || attach(io, t) != 0)
		goto fail;
	/* OpenSSL reads the fd itself during the handshake, past io's poll():
	 * bound it with the idle timeout (SIGALRM ends this one-connection
	 * process, which is the right outcome for a stalled client). */
	unsigned prev = alarm(io->timeout_ms > 0 ? (unsigned)((io->timeout_ms + 999) / 1000) : 0);
	int ok = lib->SSL_accept(t->ssl);
	alarm(prev);
	if (ok != 1) {
		log_ssl_errors("TLS handshake");
		goto fail_logged;
	}
	describe(t);
	log_info("TLS started: %s", t->desc);
	return 0;
fail:
	log_ssl_errors("TLS setup");
fail_logged:
	io_reset_transport(io);
	free_state(t);
	/* the stream is in an undefined state: no further plaintext */
	io->write_failed = true;
	return -1;
}

int tls_client_start(struct io *io, const char *servername, bool verify, const char *cafile,
		     char *err, size_t errlen)
{
	if (!tls_available()) {
		snprintf(err, errlen, "TLS not available: %s", ossl_error());
		io->write_failed = true;
		return -1;
	}
	struct tls_state *t = calloc(1, sizeof *t);
	snprintf(err, errlen, "TLS setup failed");
	if (!t)
		return -1;
	io_discard_input(io);
	t->ctx = lib->SSL_CTX_new(lib->TLS_client_method());
	if (!t->ctx)
		goto fail;
	ossl_ctx_set_min_proto(lib, t->ctx, TLS1_2_VERSION);
	if (verify) {
		if ((cafile && lib->SSL_CTX_load_verify_locations(t->ctx, cafile, NULL) != 1) ||
		    (!cafile && lib->SSL_CTX_set_default_verify_paths(t->ctx) != 1)) {
			snprintf(err, errlen, "cannot load CA certificates");
			goto fail;
		}
		lib->SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
	}
	t->ssl = lib->SSL_new(t->ctx);
	if (!t->ssl)
		goto fail;
	ossl_set_sni(lib, t->ssl, servername);
	if (verify && lib->SSL_set1_host(t->ssl, servername) != 1)
		goto fail;
	if (attach(io, t) != 0)
		goto fail;
	if (lib->SSL_connect(t->ssl) != 1) {
		long v = lib->SSL_get_verify_result(t->ssl);
		if (v != X509_V_OK)
			snprintf(err, errlen, "certificate verification failed: %s",
				 lib->X509_verify_cert_error_string(v));
		else
			snprintf(err, errlen, "TLS handshake failed");
		goto fail;
	}
	describe(t);
	return 0;
fail:
	lib->ERR_clear_error();
	io_reset_transport(io);
	free_state(t);
	io->write_failed = true;
	return -1;
}

const char *tls_describe(const struct io *io)
{
	const struct tls_state *t = io->tls;
	return t ? t->desc : NULL;
}

void tls_end(struct io *io)
{
	struct tls_state *t = io->tls;
	if (!t)
		return;
	io_flush(io);
	lib->SSL_shutdown(t->ssl);
	free_state(t);
	io_reset_transport(io);
}
