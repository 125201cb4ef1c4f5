/* relay: the queue runner's parts — routing a domain to next hops, one
 * SMTP client transaction per hop, bounces, and the run over the queue. */
#ifndef POSTERN_RELAY_H
#define POSTERN_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "config.h"
#include "dns.h"
#include "queue.h"

#define RELAY_MAX_HOPS 16
#define RELAY_CONNECT_TIMEOUT 30   /* seconds */
#define RELAY_BACKOFF_FIRST 300    /* first retry after 5 minutes ... */
#define RELAY_BACKOFF_MAX 3600     /* ... doubling, at most an hour apart */

/* --- route.c --- */

/* A next hop: a host name (or address) and a port. */
struct relay_hop {
	char host[DNS_NAME_MAX];
	unsigned port;
	bool implicit;                  /* the domain itself (no MX: RFC 5321 §5.1) */
};

enum relay_route_result {
	ROUTE_TEMP = -1,                /* try again later (DNS trouble) */
	ROUTE_PERM = -2,                /* no such domain, null MX: bounce */
};

/* Where mail for DOMAIN goes: a static route (cfg->routes), else its MX
 * hosts by preference, else the domain itself. An address literal
 * "[1.2.3.4]" is its own hop. Returns the number of hops (> 0) or an enum
 * relay_route_result with a reason in diag. */
int relay_route(const struct config *cfg, const char *domain, struct relay_hop *hops, size_t max,
		char *diag, size_t diaglen);

/* The addresses of a hop, with the hop's port set. n > 0 or an enum
 * dns_result. */
int relay_hop_addrs(const struct config *cfg, const struct relay_hop *hop, struct dns_addr *out,
		    size_t max);

/* --- client.c --- */

/* One recipient's answer from the next hop: code 0 = no answer yet. */
struct relay_result {
	int code;
	char text[QUEUE_DIAG_MAX];
};

struct relay_job {
	const struct config *cfg;
	const char *sender;
	const char *const *rcpts;       /* addresses as queued */
	struct relay_result *res;       /* one per recipient */
	size_t n;
	bool body_8bit, smtputf8;       /* the MAIL parameters it came with */
	int msg_fd;                     /* the content, read from offset 0 */
	off_t size;
};

enum relay_client_result {
	CLIENT_DONE,     /* the recipients got answers (res[] filled, 0 = temp) */
	CLIENT_NEXT,     /* no transaction happened here: try the next address */
};

/* Deliver JOB to ADDR (hop name HOST for SNI and logs) in one SMTP
 * session: EHLO/HELO, STARTTLS when offered, PIPELINING, SIZE. On
 * CLIENT_NEXT diag says why. */
enum relay_client_result relay_client_deliver(struct relay_job *job, const struct dns_addr *addr,
					      const char *host, char *diag, size_t diaglen);

/* --- bounce.c --- */

/* Send a delivery status notification (RFC 3464) for the recipients of ENV
 * in state QUEUE_FAILED to env->sender (who is not the null sender):
 * delivered locally when the sender is local, queued otherwise. MSG_FD
 * gives the original's headers. 0 or -1 (logged: try again next run). */
int relay_bounce(const struct config *cfg, const struct queue_env *env, int msg_fd);

/* The enhanced status code in a diagnostic "550 5.1.1 ..." into out, or
 * a default from its class (5.0.0, 4.0.0). */
void relay_status_code(const char *diag, char *out, size_t outlen);

/* --- run.c --- */

/* Work through the queue once: every message with a recipient due (all
 * pending ones when FLUSH). Messages locked by another runner are skipped.
 * 0, or -1 when the queue could not be read. */
int relay_run(const struct config *cfg, bool flush);

/* Print the queue (like mailq) to stdout. 0 or -1. */
int relay_list(const struct config *cfg);

/* Seconds to wait after the n-th failed attempt (n >= 1). */
time_t relay_backoff(unsigned attempts);

#endif
