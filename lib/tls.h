/* tls: OpenSSL on the handler's fds, slotted under struct io by swapping its
 * raw read/write functions, so protocol code does not change. The
 * certificate and key are read per connection (one process per connection),
 * so a renewed certificate takes effect without a restart. OpenSSL itself
 * is not linked: the first handshake loads it (openssl-dl.h). */
#ifndef POSTERN_TLS_H
#define POSTERN_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "io.h"

/* True when tls_cert and tls_key are set and readable. */
bool tls_configured(const struct config *cfg);

/* Loads OpenSSL on the first call (openssl-dl.h; nothing else does before
 * a handshake) and tells whether TLS can be used; logs why not, once.
 * A handler may call it before its go-ahead reply to STARTTLS, so that a
 * missing library gets "TLS not available" rather than a dropped
 * connection. tls_configured() does not load anything. */
bool tls_available(void);

/* Server handshake on io. Buffered plaintext is discarded first
 * (CVE-2011-0411). TLS 1.2+, server cipher preference, no renegotiation.
 * Returns 0, or -1 (logged; the connection is unusable). */
int tls_server_start(struct io *io, const struct config *cfg);

/* Client handshake (relay, mail client). SERVERNAME is sent as SNI and, when
 * verify is set, checked against the certificate with the system CAs (or
 * CAFILE when not NULL). Returns 0 or -1; err gets a reason. */
int tls_client_start(struct io *io, const char *servername, bool verify, const char *cafile,
		     char *err, size_t errlen);

/* "TLSv1.3 TLS_AES_256_GCM_SHA384" or NULL when io is not encrypted. */
const char *tls_describe(const struct io *io);

/* Send close_notify and free the session (safe when not TLS). */
void tls_end(struct io *io);

#endif
