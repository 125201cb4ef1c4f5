/* status: the outcome of a client operation, which is also the exit code
 * of postern-mail (documented in postern-mail.1). */
#ifndef POSTERN_MAIL_STATUS_H
#define POSTERN_MAIL_STATUS_H

enum mail_status {
	MAIL_OK = 0,       /* done */
	MAIL_USAGE = 1,    /* bad command line or input */
	MAIL_REFUSED = 2,  /* the server said no (or authentication failed) */
	MAIL_FAILED = 3,   /* connection, TLS, timeout or protocol failure */
};

/* The size of the error texts every operation fills. */
#define MAIL_ERR_MAX 512

#endif
