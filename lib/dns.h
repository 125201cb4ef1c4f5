/* dns: the look-ups the relay needs — MX records (RFC 5321 §5.1) and the
 * A/AAAA addresses of a host — through the glibc stub resolver, with the
 * name server overridden by cfg->resolver ("addr:port", IPv4) so tests and
 * split set-ups can use their own DNS. The answer parsers are pure
 * functions over a bounded message buffer (unit tested). */
#ifndef POSTERN_DNS_H
#define POSTERN_DNS_H

#include <stddef.h>
#include <sys/socket.h>

#include "config.h"

#define DNS_MAX_MX 16
#define DNS_MAX_ADDRS 16
#define DNS_NAME_MAX 256

enum dns_result {
	DNS_TEMPFAIL = -1, /* no answer, SERVFAIL, bad reply: try again later */
	DNS_NOTFOUND = -2, /* the name does not exist (NXDOMAIN) */
	DNS_NODATA = -3,   /* the name exists but has no record of that type */
};

struct dns_mx {
	unsigned pref;
	char host[DNS_NAME_MAX]; /* without the trailing dot */
};

struct dns_addr {
	struct sockaddr_storage sa; /* port 0: the caller sets it */
	socklen_t len;
};

/* MX records of DOMAIN sorted by preference (ties keep answer order).
 * Returns how many (> 0) or an enum dns_result. An MX "." (RFC 7505, null
 * MX) gives DNS_NOTFOUND: the domain accepts no mail. */
int dns_mx(const struct config *cfg, const char *domain, struct dns_mx *out, size_t max);

/* IPv6 then IPv4 addresses of HOST (AAAA, A). Literal addresses are
 * returned as they are. Returns how many (> 0) or an enum dns_result. */
int dns_addrs(const struct config *cfg, const char *host, struct dns_addr *out, size_t max);

/* Parse a DNS answer MSG[0..len) for records of TYPE (ns_t_mx, ns_t_a,
 * ns_t_aaaa) into out (struct dns_mx or struct dns_addr). Returns how many
 * (>= 0), or DNS_TEMPFAIL when the message is malformed. */
int dns_parse_mx(const unsigned char *msg, size_t len, struct dns_mx *out, size_t max);
int dns_parse_addrs(const unsigned char *msg, size_t len, int type, struct dns_addr *out,
		    size_t max);

#endif
