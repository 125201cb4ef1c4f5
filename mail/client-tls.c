#include "client-tls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openssl-dl.h"

/* OpenSSL, loaded by the first handshake: the I/O functions below run only
 * on a started session, so they find it set. */
static const struct ossl *lib;

struct tls_state {
	SSL_CTX *ctx;
	SSL *ssl;
};

static ssize_t tls_read(struct conn *c, void *buf, size_t len)
{
	struct tls_state *t = c->tls;
	size_t got = 0;
	if (lib->SSL_read_ex(t->ssl, buf, len, &got) == 1)
		return (ssize_t)got;
	int e = lib->SSL_get_error(t->ssl, 0);
	if (e == SSL_ERROR_ZERO_RETURN)
		return 0;
	if (e == SSL_ERROR_SYSCALL && errno == 0)
		return 0; /* unclean close: treated as EOF */
	if (e != SSL_ERROR_SYSCALL)
		errno = EIO;
	return -1;
}

static ssize_t tls_write(struct conn *c, const void *buf, size_t len)
{
	struct tls_state *t = c->tls;
	size_t put = 0;
	if (lib->SSL_write_ex(t->ssl, buf, len, &put) == 1)
		return (ssize_t)put;
	if (lib->SSL_get_error(t->ssl, 0) != SSL_ERROR_SYSCALL)
		errno = EIO;
	return -1;
}

static bool tls_pending(struct conn *c)
{
	struct tls_state *t = c->tls;
	return lib->SSL_pending(t->ssl) > 0;
}

static void tls_close(struct conn *c)
{
	struct tls_state *t = c->tls;
	if (!t)
		return;
	lib->SSL_shutdown(t->ssl);
	lib->SSL_free(t->ssl);
	lib->SSL_CTX_free(t->ctx);
	free(t);
	c->tls = NULL;
}

static void ssl_error(char *err, size_t errlen, const char *what, SSL *ssl)
{
	unsigned long e = lib->ERR_get_error();
	char buf[256] = "";
	if (e)
		lib->ERR_error_string_n(e, buf, sizeof buf);
	long v = ssl ? lib->SSL_get_verify_result(ssl) : X509_V_OK;
	if (v != X509_V_OK)
		snprintf(err, errlen, "%s: certificate: %s", what,
			 lib->X509_verify_cert_error_string(v));
	else
		snprintf(err, errlen, "%s: %s", what, buf[0] ? buf : "handshake failed");
	lib->ERR_clear_error();
}

int client_tls_start(struct conn *c, const struct mail_opts *o, char *err, size_t errlen)
{
	conn_discard_input(c);
	lib = ossl_load();
	if (!lib) {
		snprintf(err, errlen, "TLS not available: cannot load OpenSSL: %s", ossl_error());
		return -1;
	}
	struct tls_state *t = xcalloc(1, sizeof *t);
	t->ctx = lib->SSL_CTX_new(lib->TLS_client_method());
	if (!t->ctx) {
		ssl_error(err, errlen, "TLS", NULL);
		free(t);
		return -1;
	}
	ossl_ctx_set_min_proto(lib, t->ctx, TLS1_2_VERSION);
	if (o->tls_verify) {
		lib->SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
		lib->SSL_CTX_set_default_verify_paths(t->ctx);
		if (o->ca_file && lib->SSL_CTX_load_verify_locations(t->ctx, o->ca_file, NULL) != 1) {
			ssl_error(err, errlen, o->ca_file, NULL);
			lib->SSL_CTX_free(t->ctx);
			free(t);
			return -1;
		}
	}
	t->ssl = lib->SSL_new(t->ctx);
	if (!t->ssl || lib->SSL_set_fd(t->ssl, c->fd) != 1) {
		ssl_error(err, errlen, "TLS", NULL);
		lib->SSL_free(t->ssl);
		lib->SSL_CTX_free(t->ctx);
		free(t);
		return -1;
	}
	/* SNI and name check; IP literals are checked as addresses */
	const char *host = o->server;
	char name[256];
	size_t hl = strlen(host);
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']' && hl - 2 < sizeof name) {
		memcpy(name, host + 1, hl - 2);
		name[hl - 2] = '\0';
	} else {
		snprintf(name, sizeof name, "%s", host);
	}
	bool is_ip = strchr(name, ':') || strspn(name, "0123456789.") == strlen(name);
	if (!is_ip)
		ossl_set_sni(lib, t->ssl, name);
	if (o->tls_verify) {
		X509_VERIFY_PARAM *vp = lib->SSL_get0_param(t->ssl);
		if (is_ip)
			lib->X509_VERIFY_PARAM_set1_ip_asc(vp, name);
		else
			lib->X509_VERIFY_PARAM_set1_host(vp, name, 0);
	}
	if (lib->SSL_connect(t->ssl) != 1) {
		ssl_error(err, errlen, "TLS handshake", t->ssl);
		lib->SSL_free(t->ssl);
		lib->SSL_CTX_free(t->ctx);
		free(t);
		return -1;
	}
	c->tls = t;
	c->raw_read = tls_read;
	c->raw_write = tls_write;
	c->raw_pending = tls_pending;
	c->raw_close = tls_close;
	return 0;
}

int client_connect(struct conn *c, const struct mail_opts *o, unsigned port,
		   char *err, size_t errlen)
{
	if (conn_open(c, o->server, port, o->timeout_s, err, errlen) < 0)
		return -1;
	if (o->tls == TLS_IMPLICIT && client_tls_start(c, o, err, errlen) < 0) {
		conn_close(c);
		return -1;
	}
	return 0;
}
