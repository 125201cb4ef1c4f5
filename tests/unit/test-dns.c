/* The DNS answer parsers over hand-made messages: MX sorting, name
 * compression, A/AAAA, and every truncation of a message (no read past
 * the end: run under ASan). */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "dns.h"
#include "unit.h"

struct msg {
	unsigned char b[1024];
	size_t n;
};

static void put(struct msg *m, const void *p, size_t n)
{
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

static void put16(struct msg *m, unsigned v)
{
	unsigned char b[2] = { (unsigned char)(v >> 8), (unsigned char)v };
	put(m, b, 2);
}

static void put_name(struct msg *m, const char *name)
{
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t len = dot ? (size_t)(dot - name) : strlen(name);
		unsigned char l = (unsigned char)len;
		put(m, &l, 1);
		put(m, name, len);
		name += len + (dot ? 1 : 0);
	}
	put(m, "", 1);
}

/* Header and question for QNAME/QTYPE with AN answers to follow. */
static void start(struct msg *m, const char *qname, unsigned qtype, unsigned an)
{
	m->n = 0;
	put16(m, 0x1234);
	put16(m, 0x8180);
	put16(m, 1);
	put16(m, an);
	put16(m, 0);
	put16(m, 0);
	put_name(m, qname);
	put16(m, qtype);
	put16(m, ns_c_in);
}

/* An answer owned by the question name (pointer to offset 12). */
static void rr(struct msg *m, unsigned type, const void *rdata, size_t rdlen)
{
	put16(m, 0xc00c);
	put16(m, type);
	put16(m, ns_c_in);
	put16(m, 0);
	put16(m, 300);
	put16(m, (unsigned)rdlen);
	put(m, rdata, rdlen);
}

static void mx_rdata(struct msg *r, unsigned pref, const char *host, bool compress_suffix)
{
	r->n = 0;
	put16(r, pref);
	if (compress_suffix) {
		/* "mx2" + pointer to the question name */
		put(r, "\3mx2", 4);
		put16(r, 0xc00c);
	} else {
		put_name(r, host);
	}
}

static void test_mx_sorted(void)
{
	struct msg m, r;
	start(&m, "gembloux.uliege.be", ns_t_mx, 3);
	mx_rdata(&r, 20, "backup.uliege.be", false);
	rr(&m, ns_t_mx, r.b, r.n);
	mx_rdata(&r, 10, "mail.gembloux.uliege.be", false);
	rr(&m, ns_t_mx, r.b, r.n);
	mx_rdata(&r, 10, NULL, true);
	rr(&m, ns_t_mx, r.b, r.n);
	struct dns_mx mx[DNS_MAX_MX];
	int n = dns_parse_mx(m.b, m.n, mx, DNS_MAX_MX);
	CHECK(n == 3);
	if (n == 3) {
		CHECK(mx[0].pref == 10 && mx[1].pref == 10 && mx[2].pref == 20);
		CHECK_STR(mx[0].host, "mail.gembloux.uliege.be");
		CHECK_STR(mx[1].host, "mx2.gembloux.uliege.be");
		CHECK_STR(mx[2].host, "backup.uliege.be");
	}
	/* at most max records are taken */
	CHECK(dns_parse_mx(m.b, m.n, mx, 1) == 1);

	/* every truncation is an error or a shorter answer, never a crash */
	for (size_t len = 0; len < m.n; len++) {
		int k = dns_parse_mx(m.b, len, mx, DNS_MAX_MX);
		CHECK(k == DNS_TEMPFAIL || (k >= 0 && k < 3));
	}
}

static void test_mx_bad_rdata(void)
{
	struct msg m;
	start(&m, "x.example", ns_t_mx, 1);
	rr(&m, ns_t_mx, "\0\12", 2); /* no exchange name */
	struct dns_mx mx[4];
	CHECK(dns_parse_mx(m.b, m.n, mx, 4) == DNS_TEMPFAIL);

	/* a compression pointer loop */
	start(&m, "x.example", ns_t_mx, 1);
	unsigned char loop[4] = { 0, 10, 0xc0, 0 };
	size_t at = m.n + 12 + 2; /* where the exchange name will sit */
	loop[3] = (unsigned char)at;
	rr(&m, ns_t_mx, loop, 4);
	CHECK(dns_parse_mx(m.b, m.n, mx, 4) == DNS_TEMPFAIL);
}

static void test_addrs(void)
{
	struct msg m;
	struct in_addr a4;
	struct in6_addr a6;
	inet_pton(AF_INET, "127.0.2.1", &a4);
	inet_pton(AF_INET6, "2001:db8::25", &a6);
	struct dns_addr out[4];

	start(&m, "mail.gembloux.uliege.be", ns_t_a, 2);
	rr(&m, ns_t_a, &a4, 4);
	rr(&m, ns_t_aaaa, &a6, 16); /* another type: skipped */
	CHECK(dns_parse_addrs(m.b, m.n, ns_t_a, out, 4) == 1);
	CHECK(out[0].sa.ss_family == AF_INET);
	CHECK(memcmp(&((struct sockaddr_in *)&out[0].sa)->sin_addr, &a4, 4) == 0);

	start(&m, "mail.gembloux.uliege.be", ns_t_aaaa, 1);
	rr(&m, ns_t_aaaa, &a6, 16);
	CHECK(dns_parse_addrs(m.b, m.n, ns_t_aaaa, out, 4) == 1);
	CHECK(out[0].sa.ss_family == AF_INET6);

	start(&m, "x", ns_t_a, 1);
	rr(&m, ns_t_a, &a4, 3); /* wrong length */
	CHECK(dns_parse_addrs(m.b, m.n, ns_t_a, out, 4) == DNS_TEMPFAIL);
	CHECK(dns_parse_addrs(m.b, 5, ns_t_a, out, 4) == DNS_TEMPFAIL);
}

static void test_literals(void)
{
	struct config cfg;
	config_defaults(&cfg);
	struct dns_addr out[2];
	CHECK(dns_addrs(&cfg, "127.0.0.1", out, 2) == 1 && out[0].sa.ss_family == AF_INET);
	CHECK(dns_addrs(&cfg, "::1", out, 2) == 1 && out[0].sa.ss_family == AF_INET6);
}

int main(void)
{
	RUN(test_mx_sorted);
	RUN(test_mx_bad_rdata);
	RUN(test_addrs);
	RUN(test_literals);
	return unit_done();
}
