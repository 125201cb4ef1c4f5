/* options: what the command line tells every protocol client. */
#ifndef POSTERN_MAIL_OPTIONS_H
#define POSTERN_MAIL_OPTIONS_H

#include <stdbool.h>

enum tls_mode {
	TLS_NONE,      /* plain text */
	TLS_STARTTLS,  /* upgrade with STARTTLS / STLS; fail if not offered */
	TLS_IMPLICIT,  /* TLS from the first byte (465, 993, 995) */
};

struct mail_opts {
	const char *server;
	unsigned smtp_port, pop3_port, imap_port;
	bool imap;                  /* manage over IMAP instead of POP3 */
	enum tls_mode tls;
	bool tls_verify;            /* check the certificate (default) */
	const char *ca_file;        /* extra trust anchor (PEM), or NULL */
	unsigned timeout_s;         /* per read/write and per connect */
	const char *user;           /* NULL: no authentication (send only) */
	const char *pass;
	const char *helo;           /* EHLO name */
};

#endif
