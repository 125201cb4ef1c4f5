/* openssl-dl: OpenSSL loaded with dlopen() on first use, not linked.
 *
 * Every connection is a new process, and linking libssl/libcrypto costs
 * each of them ~1.5 ms of CPU in the dynamic loader (relocating libcrypto)
 * although most sessions never use TLS. So the programs do not link
 * OpenSSL: the first TLS handshake (or APOP digest) calls ossl_load(), which
 * dlopen()s libcrypto.so.N and libssl.so.N (N = OPENSSL_VERSION_MAJOR of the
 * headers built against) with RTLD_NOW | RTLD_LOCAL and resolves every
 * function Postern uses into a table of pointers typed from the real
 * headers, so the compiler still checks every call.
 *
 * Calls go through the table: ossl_load()->SSL_new(ctx). OpenSSL macros
 * that expand to calls (SSL_CTX_set_min_proto_version -> SSL_CTX_ctrl, ...)
 * are spelt out below as the underlying call, since the macros would name
 * the unlinked symbols.
 *
 * POSTERN_OPENSSL_DIR (environment, tests only): load the two libraries
 * from that directory instead of the system search path; a directory
 * without them makes loading fail, to test the "TLS not available" paths.
 * Ignored when the process runs set-id (secure_getenv). */
#ifndef POSTERN_OPENSSL_DL_H
#define POSTERN_OPENSSL_DL_H

#include <stdbool.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#if !defined(OPENSSL_VERSION_MAJOR) || OPENSSL_VERSION_MAJOR < 3
#error "OpenSSL 3 or later headers needed (the soname is libssl.so.<major>)"
#endif

/* Every OpenSSL function used, with the library that defines it. */
#define OSSL_FUNCTIONS(X)                                                                  \
	X(crypto, ERR_get_error)                                                           \
	X(crypto, ERR_error_string_n)                                                      \
	X(crypto, ERR_clear_error)                                                         \
	X(crypto, X509_verify_cert_error_string)                                           \
	X(crypto, X509_VERIFY_PARAM_set1_host)                                             \
	X(crypto, X509_VERIFY_PARAM_set1_ip_asc)                                           \
	X(crypto, EVP_MD_CTX_new)                                                          \
	X(crypto, EVP_MD_CTX_free)                                                         \
	X(crypto, EVP_md5)                                                                 \
	X(crypto, EVP_DigestInit_ex)                                                       \
	X(crypto, EVP_DigestUpdate)                                                        \
	X(crypto, EVP_DigestFinal_ex)                                                      \
	X(ssl, TLS_server_method)                                                          \
	X(ssl, TLS_client_method)                                                          \
	X(ssl, SSL_CTX_new)                                                                \
	X(ssl, SSL_CTX_free)                                                               \
	X(ssl, SSL_CTX_ctrl)                                                               \
	X(ssl, SSL_CTX_set_options)                                                        \
	X(ssl, SSL_CTX_use_certificate_chain_file)                                         \
	X(ssl, SSL_CTX_use_PrivateKey_file)                                                \
	X(ssl, SSL_CTX_check_private_key)                                                  \
	X(ssl, SSL_CTX_load_verify_locations)                                              \
	X(ssl, SSL_CTX_set_default_verify_paths)                                           \
	X(ssl, SSL_CTX_set_verify)                                                         \
	X(ssl, SSL_new)                                                                    \
	X(ssl, SSL_free)                                                                   \
	X(ssl, SSL_ctrl)                                                                   \
	X(ssl, SSL_set_fd)                                                                 \
	X(ssl, SSL_set_rfd)                                                                \
	X(ssl, SSL_set_wfd)                                                                \
	X(ssl, SSL_set1_host)                                                              \
	X(ssl, SSL_get0_param)                                                             \
	X(ssl, SSL_accept)                                                                 \
	X(ssl, SSL_connect)                                                                \
	X(ssl, SSL_read_ex)                                                                \
	X(ssl, SSL_write_ex)                                                               \
	X(ssl, SSL_pending)                                                                \
	X(ssl, SSL_get_error)                                                              \
	X(ssl, SSL_shutdown)                                                               \
	X(ssl, SSL_get_verify_result)                                                      \
	X(ssl, SSL_get_version)                                                            \
	X(ssl, SSL_get_current_cipher)                                                     \
	X(ssl, SSL_CIPHER_get_name)

/* __typeof__ of a function-like macro's name fails to compile, so a name
 * that is a macro in some OpenSSL version cannot slip in unnoticed. */
struct ossl {
#define OSSL_MEMBER(lib, fn) __typeof__(fn) *fn;
	OSSL_FUNCTIONS(OSSL_MEMBER)
#undef OSSL_MEMBER
};

/* The table, loading the libraries on the first call. NULL when they cannot
 * be loaded or lack a function; the failure is remembered (no retry) and
 * ossl_error() tells why. Never logs: the caller decides how to report. */
const struct ossl *ossl_load(void);

/* Why ossl_load() failed ("libssl.so.3: cannot open shared object file:
 * ..."), or "" before a failure. */
const char *ossl_error(void);

/* True once the libraries are mapped (for tests of the lazy loading). */
bool ossl_loaded(void);

/* The macros of the headers, as calls through the table. */
static inline int ossl_ctx_set_min_proto(const struct ossl *o, SSL_CTX *ctx, int version)
{
	return (int)o->SSL_CTX_ctrl(ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, version, NULL);
}

static inline long ossl_ctx_set_session_cache_mode(const struct ossl *o, SSL_CTX *ctx, long mode)
{
	return o->SSL_CTX_ctrl(ctx, SSL_CTRL_SET_SESS_CACHE_MODE, mode, NULL);
}

static inline int ossl_set_sni(const struct ossl *o, SSL *ssl, const char *name)
{
	return (int)o->SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
				(void *)name);
}

#endif
