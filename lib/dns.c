/* dns: res_nquery with our own name server, and small answer parsers
 * (glibc keeps ns_initparse in libresolv; dn_expand is enough here). */
#include "dns.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define ANSWER_MAX 65536

static unsigned get16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* Walk the answer section: for each record of TYPE call FN with its rdata.
 * Returns records accepted, or DNS_TEMPFAIL on a malformed message. */
static int walk_answers(const unsigned char *msg, size_t len, int type,
			int (*fn)(void *ctx, const unsigned char *msg, size_t len,
				  const unsigned char *rdata, size_t rdlen),
			void *ctx)
{
	if (len < 12 || len > ANSWER_MAX)
		return DNS_TEMPFAIL;
	unsigned qd = get16(msg + 4), an = get16(msg + 6);
	const unsigned char *p = msg + 12, *end = msg + len;
	char name[DNS_NAME_MAX + 64];
	for (unsigned i = 0; i < qd; i++) {
		int n = dn_expand(msg, end, p, name, sizeof name);
		if (n < 0 || end - p < n + 4)
			return DNS_TEMPFAIL;
		p += n + 4;
	}
	int found = 0;
	for (unsigned i = 0; i < an; i++) {
		int n = dn_expand(msg, end, p, name, sizeof name);
		if (n < 0 || end - p < n + 10)
			return DNS_TEMPFAIL;
		p += n;
		unsigned rtype = get16(p), rclass = get16(p + 2), rdlen = get16(p + 8);
		p += 10;
		if ((size_t)(end - p) < rdlen)
			return DNS_TEMPFAIL;
		/* CNAMEs are followed by the server; only our type counts */
		if ((int)rtype == type && rclass == ns_c_in) {
			int r = fn(ctx, msg, len, p, rdlen);
			if (r < 0)
				return DNS_TEMPFAIL;
			found += r;
		}
		p += rdlen;
	}
	return found;
}

struct mx_ctx {
	struct dns_mx *out;
	size_t max, n;
};

static int take_mx(void *ctx, const unsigned char *msg, size_t len, const unsigned char *rdata,
		   size_t rdlen)
{
	struct mx_ctx *c = ctx;
	char name[DNS_NAME_MAX + 64];
	if (rdlen < 3)
		return -1;
	int n = dn_expand(msg, msg + len, rdata + 2, name, sizeof name);
	size_t nl = n < 0 ? 0 : strlen(name);
	if (n < 0 || (size_t)n + 2 != rdlen || nl >= DNS_NAME_MAX)
		return -1;
	if (c->n == c->max)
		return 0;
	c->out[c->n].pref = get16(rdata);
	memcpy(c->out[c->n].host, name, nl + 1);
	c->n++;
	return 1;
}

int dns_parse_mx(const unsigned char *msg, size_t len, struct dns_mx *out, size_t max)
{
	struct mx_ctx c = { out, max, 0 };
	int r = walk_answers(msg, len, ns_t_mx, take_mx, &c);
	if (r < 0)
		return r;
	/* insertion sort by preference: stable, and n <= DNS_MAX_MX */
	for (size_t i = 1; i < c.n; i++) {
		struct dns_mx t = out[i];
		size_t j = i;
		while (j > 0 && out[j - 1].pref > t.pref) {
			out[j] = out[j - 1];
			j--;
		}
		out[j] = t;
	}
	return (int)c.n;
}

struct addr_ctx {
	struct dns_addr *out;
	size_t max, n;
	int type;
};

static int take_addr(void *ctx, const unsigned char *msg, size_t len, const unsigned char *rdata,
		     size_t rdlen)
{
	struct addr_ctx *c = ctx;
	(void)msg;
	(void)len;
	if (c->n == c->max)
		return 0;
	struct dns_addr *a = &c->out[c->n];
	memset(a, 0, sizeof *a);
	if (c->type == ns_t_a) {
		if (rdlen != 4)
			return -1;
		struct sockaddr_in *sin = (struct sockaddr_in *)&a->sa;
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, rdata, 4);
		a->len = sizeof *sin;
	} else {
		if (rdlen != 16)
			return -1;
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a->sa;
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, rdata, 16);
		a->len = sizeof *sin6;
	}
	c->n++;
	return 1;
}

int dns_parse_addrs(const unsigned char *msg, size_t len, int type, struct dns_addr *out,
		    size_t max)
{
	struct addr_ctx c = { out, max, 0, type };
	int r = walk_answers(msg, len, type, take_addr, &c);
	return r < 0 ? r : (int)c.n;
}

/* res state with cfg->resolver as the only name server. 0 or -1. */
static int resolver_open(const struct config *cfg, res_state st)
{
	memset(st, 0, sizeof *st);
	if (res_ninit(st) < 0) {
		log_err("res_ninit failed");
		return -1;
	}
	/* the names we look up are absolute: no search list */
	st->options &= ~(unsigned long)(RES_DNSRCH | RES_DEFNAMES);
	st->retrans = 2;
	st->retry = 2;
	if (!cfg->resolver[0])
		return 0;
	char host[256];
	snprintf(host, sizeof host, "%s", cfg->resolver);
	unsigned port = 53;
	char *colon = strrchr(host, ':');
	if (colon) {
		char *end;
		unsigned long p = strtoul(colon + 1, &end, 10);
		if (*end || p == 0 || p > 65535) {
			log_err("resolver %s: bad port", cfg->resolver);
			res_nclose(st);
			return -1;
		}
		port = (unsigned)p;
		*colon = '\0';
	}
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
		log_err("resolver %s: want an IPv4 address and port", cfg->resolver);
		res_nclose(st);
		return -1;
	}
	st->nsaddr_list[0] = sin;
	st->nscount = 1;
	return 0;
}

/* One query; the answer length or an enum dns_result. */
static int query(const struct config *cfg, const char *name, int type, unsigned char *ans,
		 size_t anslen)
{
	struct __res_state st;
	if (resolver_open(cfg, &st) < 0)
		return DNS_TEMPFAIL;
	int n = res_nquery(&st, name, ns_c_in, type, ans, (int)anslen);
	int herr = st.res_h_errno;
	res_nclose(&st);
	if (n >= 0)
		return n;
	switch (herr) {
	case HOST_NOT_FOUND:
		return DNS_NOTFOUND;
	case NO_DATA:
		return DNS_NODATA;
	default:
		return DNS_TEMPFAIL;
	}
}

int dns_mx(const struct config *cfg, const char *domain, struct dns_mx *out, size_t max)
{
	unsigned char *ans = malloc(ANSWER_MAX);
	if (!ans)
		return DNS_TEMPFAIL;
	int n = query(cfg, domain, ns_t_mx, ans, ANSWER_MAX);
	if (n >= 0) {
		n = dns_parse_mx(ans, (size_t)n, out, max);
		if (n == 0)
			n = DNS_NODATA;
		else if (n == 1 && out[0].host[0] == '\0')
			n = DNS_NOTFOUND; /* null MX */
	}
	free(ans);
	return n;
}

int dns_addrs(const struct config *cfg, const char *host, struct dns_addr *out, size_t max)
{
	if (max == 0)
		return DNS_NODATA;
	memset(&out[0], 0, sizeof out[0]);
	struct sockaddr_in *sin = (struct sockaddr_in *)&out[0].sa;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out[0].sa;
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		out[0].len = sizeof *sin;
		return 1;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		out[0].len = sizeof *sin6;
		return 1;
	}
	unsigned char *ans = malloc(ANSWER_MAX);
	if (!ans)
		return DNS_TEMPFAIL;
	int total = 0, worst = DNS_NOTFOUND;
	static const int types[] = { ns_t_aaaa, ns_t_a };
	for (size_t t = 0; t < 2 && (size_t)total < max; t++) {
		int n = query(cfg, host, types[t], ans, ANSWER_MAX);
		if (n >= 0)
			n = dns_parse_addrs(ans, (size_t)n, types[t], out + total, max - (size_t)total);
		if (n > 0)
			total += n;
		else if (n == DNS_TEMPFAIL)
			worst = DNS_TEMPFAIL;
		else if ((n == 0 || n == DNS_NODATA) && worst != DNS_TEMPFAIL)
			worst = DNS_NODATA;
	}
	free(ans);
	return total > 0 ? total : worst;
}
