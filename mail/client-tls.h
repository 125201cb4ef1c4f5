/* client-tls: OpenSSL under a conn (STARTTLS or TLS from the first byte). The
 * certificate is verified against the system store (plus --ca-file) and
 * the server name, unless verification was turned off. */
#ifndef POSTERN_MAIL_CLIENT_TLS_H
#define POSTERN_MAIL_CLIENT_TLS_H

#include <stddef.h>

#include "conn.h"
#include "options.h"

/* Handshake on c's socket and swap c's raw functions for TLS ones.
 * Buffered plaintext input is discarded first. Returns 0, or -1 with
 * err set. */
int client_tls_start(struct conn *c, const struct mail_opts *o, char *err, size_t errlen);

/* Connect to o->server on PORT; with TLS_IMPLICIT also do the handshake.
 * Returns 0, or -1 with err set. */
int client_connect(struct conn *c, const struct mail_opts *o, unsigned port,
		   char *err, size_t errlen);

#endif
