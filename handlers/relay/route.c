/* route: from a recipient domain to the hosts to try, in order. Static
 * routes win (relaying without DNS); then MX records by preference; a
 * domain without MX records is its own mail host (RFC 5321 §5.1). */
#include "relay.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "log.h"

static int set_hop(struct relay_hop *h, const char *host, unsigned port, bool implicit)
{
	size_t n = strlen(host);
	if (n >= sizeof h->host)
		return -1;
	memcpy(h->host, host, n + 1);
	h->port = port;
	h->implicit = implicit;
	return 0;
}

int relay_route(const struct config *cfg, const char *domain, struct relay_hop *hops, size_t max,
		char *diag, size_t diaglen)
{
	char d[DNS_NAME_MAX];
	size_t len = strlen(domain);
	if (len == 0 || len >= sizeof d || max == 0) {
		snprintf(diag, diaglen, "550 5.1.2 Bad destination domain");
		return ROUTE_PERM;
	}
	memcpy(d, domain, len + 1);
	if (len > 1 && d[len - 1] == '.')
		d[--len] = '\0';

	for (size_t i = 0; i < cfg->nroutes; i++) {
		const char *rd = cfg->routes[i].domain;
		size_t rl = strlen(rd);
		if (rl > 0 && rd[rl - 1] == '.')
			rl--;
		if (rl == len && strncasecmp(rd, d, len) == 0)
			return set_hop(&hops[0], cfg->routes[i].host, cfg->routes[i].port, false) < 0 ?
				       ROUTE_TEMP : 1;
	}

	if (d[0] == '[') {
		/* an address literal: "[1.2.3.4]" or "[IPv6:::1]" */
		if (d[len - 1] != ']' || len < 3) {
			snprintf(diag, diaglen, "550 5.1.2 Bad address literal");
			return ROUTE_PERM;
		}
		d[len - 1] = '\0';
		const char *a = d + 1;
		if (strncasecmp(a, "IPv6:", 5) == 0)
			a += 5;
		struct in6_addr tmp;
		if (inet_pton(AF_INET, a, &tmp) != 1 && inet_pton(AF_INET6, a, &tmp) != 1) {
			snprintf(diag, diaglen, "550 5.1.2 Bad address literal");
			return ROUTE_PERM;
		}
		set_hop(&hops[0], a, 25, false);
		return 1;
	}

	struct dns_mx mx[DNS_MAX_MX];
	int n = dns_mx(cfg, d, mx, DNS_MAX_MX);
	if (n > 0) {
		size_t k = 0;
		for (int i = 0; i < n && k < max; i++)
			if (set_hop(&hops[k], mx[i].host, 25, false) == 0)
				k++;
		if (k > 0)
			return (int)k;
		n = DNS_TEMPFAIL;
	}
	switch (n) {
	case DNS_NODATA:
		/* no MX: the domain's own address records (checked at connect) */
		set_hop(&hops[0], d, 25, true);
		return 1;
	case DNS_NOTFOUND:
		snprintf(diag, diaglen, "550 5.1.2 Domain %s does not exist or accepts no mail", d);
		return ROUTE_PERM;
	default:
		snprintf(diag, diaglen, "451 4.4.3 DNS lookup of %s failed, will try again", d);
		return ROUTE_TEMP;
	}
}

/* System resolver (also /etc/hosts) when no resolver is configured. */
static int system_addrs(const char *host, struct dns_addr *out, size_t max)
{
	struct addrinfo hints, *ai, *p;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	int r = getaddrinfo(host, NULL, &hints, &ai);
	if (r == EAI_NONAME || r == EAI_NODATA)
		return DNS_NOTFOUND;
	if (r != 0)
		return DNS_TEMPFAIL;
	size_t n = 0;
	for (p = ai; p && n < max; p = p->ai_next) {
		if (p->ai_addrlen > sizeof out[n].sa)
			continue;
		memset(&out[n], 0, sizeof out[n]);
		memcpy(&out[n].sa, p->ai_addr, p->ai_addrlen);
		out[n].len = p->ai_addrlen;
		n++;
	}
	freeaddrinfo(ai);
	return n > 0 ? (int)n : DNS_NODATA;
}

int relay_hop_addrs(const struct config *cfg, const struct relay_hop *hop, struct dns_addr *out,
		    size_t max)
{
	int n = cfg->resolver[0] ? dns_addrs(cfg, hop->host, out, max)
				 : system_addrs(hop->host, out, max);
	for (int i = 0; i < n; i++) {
		if (out[i].sa.ss_family == AF_INET)
			((struct sockaddr_in *)&out[i].sa)->sin_port = htons((unsigned short)hop->port);
		else
			((struct sockaddr_in6 *)&out[i].sa)->sin6_port = htons((unsigned short)hop->port);
	}
	return n;
}
