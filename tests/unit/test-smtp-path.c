/* lib/smtp-path.c: MAIL/RCPT paths and ESMTP parameters, table-driven. */
#include <stdio.h>
#include <string.h>

#include "smtp-path.h"
#include "unit.h"

struct vec {
	const char *in;
	unsigned flags;
	int rc;
	const char *addr;   /* expected addr (when rc == 0) */
	const char *local;  /* expected unquoted local part */
	const char *domain;
	const char *params; /* expected rest */
};

#define NUL SMTP_PATH_NULL_OK
#define PM SMTP_PATH_POSTMASTER_OK

static const struct vec vecs[] = {
	{ "<dcd@uliege.be>", 0, 0, "dcd@uliege.be", "dcd", "uliege.be", "" },
	{ " <a@b.example>", 0, 0, "a@b.example", "a", "b.example", "" },        /* space after colon */
	{ "user@example.org", 0, 0, "user@example.org", "user", "example.org", "" }, /* no brackets */
	{ "<a@b.c> SIZE=10 BODY=8BITMIME", 0, 0, "a@b.c", "a", "b.c", "SIZE=10 BODY=8BITMIME" },
	{ "a@b.c  SMTPUTF8", 0, 0, "a@b.c", "a", "b.c", "SMTPUTF8" },
	{ "<>", NUL, 0, "", "", "", "" },
	{ "<>", 0, -1, NULL, NULL, NULL, NULL },                              /* null only for MAIL */
	{ "<> SIZE=5", NUL, 0, "", "", "", "SIZE=5" },
	{ "<\"john doe\"@example.org>", 0, 0, "\"john doe\"@example.org", "john doe", "example.org", "" },
	{ "<\"a\\\"b\"@x.org>", 0, 0, "\"a\\\"b\"@x.org", "a\"b", "x.org", "" },
	{ "<first.last+tag@x.org>", 0, 0, "first.last+tag@x.org", "first.last+tag", "x.org", "" },
	{ "<user%other@x.org>", 0, 0, "user%other@x.org", "user%other", "x.org", "" },
	{ "<other!user@x.org>", 0, 0, "other!user@x.org", "other!user", "x.org", "" },
	{ "<a@[127.0.0.1]>", 0, 0, "a@[127.0.0.1]", "a", "[127.0.0.1]", "" },
	{ "<a@[IPv6:::1]>", 0, 0, "a@[IPv6:::1]", "a", "[IPv6:::1]", "" },
	{ "<@relay.example,@r2.example:a@x.org>", 0, 0, "a@x.org", "a", "x.org", "" }, /* route dropped */
	{ "<Postmaster>", PM, 0, "Postmaster", "Postmaster", "", "" },
	{ "<Postmaster>", 0, -1, NULL, NULL, NULL, NULL },
	{ "<a-b@x-y.example>", 0, 0, "a-b@x-y.example", "a-b", "x-y.example", "" },
	{ "<jos\xc3\xa9@exampl\xc3\xa9.org>", 0, 0, "jos\xc3\xa9@exampl\xc3\xa9.org", "jos\xc3\xa9", "exampl\xc3\xa9.org", "" },
	/* errors */
	{ "", 0, -1, NULL, NULL, NULL, NULL },
	{ "<", 0, -1, NULL, NULL, NULL, NULL },
	{ "<a@b.c", 0, -1, NULL, NULL, NULL, NULL },
	{ "<a@b.c>x", 0, -1, NULL, NULL, NULL, NULL },
	{ "<a>", 0, -1, NULL, NULL, NULL, NULL },
	{ "<@b.c>", 0, -1, NULL, NULL, NULL, NULL },
	{ "<a@>", 0, -1, NULL, NULL, NULL, NULL },
	{ "<.a@b.c>", 0, -1, NULL, NULL, NULL, NULL },
	{ "<a.@b.c>", 0, -1, NULL, NULL, NULL, NULL },
	{ "<a..b@b.c>", 0, -1, NULL, NULL, NULL, NULL },
	{ "<a@b..c>", 0, -1, NULL, NULL, NULL, NULL },
	{ "<a@-b.c>", 0, -1, NULL, NULL, NULL, NULL },
	{ "<a@b-.c>", 0, -1, NULL, NULL, NULL, NULL },
	{ "<a@b.c.>", 0, -1, NULL, NULL, NULL, NULL },
	{ "<a b@c.d>", 0, -1, NULL, NULL, NULL, NULL },
	{ "<a@b_c.d>", 0, -1, NULL, NULL, NULL, NULL },
	{ "<a@[1.2.3]>", 0, -1, NULL, NULL, NULL, NULL },
	{ "<a@[IPv6:zz]>", 0, -1, NULL, NULL, NULL, NULL },
	{ "<a@[tag:x]>", 0, -1, NULL, NULL, NULL, NULL },
	{ "<\"unterminated@x.org>", 0, -1, NULL, NULL, NULL, NULL },
	{ "<\"a\tb\"@x.org>", 0, -1, NULL, NULL, NULL, NULL },
	{ "<a\x01@x.org>", 0, -1, NULL, NULL, NULL, NULL },
	{ "<a@b.c>>", 0, -1, NULL, NULL, NULL, NULL },
	{ "<<a@b.c>>", 0, -1, NULL, NULL, NULL, NULL },
	{ "<a@b.c>\r", 0, -1, NULL, NULL, NULL, NULL },
	{ "<\xc3(@x.org>", 0, -1, NULL, NULL, NULL, NULL },         /* bad UTF-8 */
	{ "<\xc0\xaf@x.org>", 0, -1, NULL, NULL, NULL, NULL },      /* overlong */
	{ "<\xed\xa0\x80@x.org>", 0, -1, NULL, NULL, NULL, NULL },  /* surrogate */
	{ "<@relay.example:>", 0, -1, NULL, NULL, NULL, NULL },
	{ "<@relay.example a@b.c>", 0, -1, NULL, NULL, NULL, NULL },
};

static void test_paths(void)
{
	for (size_t i = 0; i < sizeof vecs / sizeof vecs[0]; i++) {
		const struct vec *v = &vecs[i];
		struct smtp_path p;
		const char *rest = NULL;
		int rc = smtp_path_parse(v->in, v->flags, &p, &rest);
		if (rc != v->rc) {
			printf("# vector %zu \"%s\": rc %d, want %d\n", i, v->in, rc, v->rc);
			CHECK(rc == v->rc);
			continue;
		}
		if (rc != 0)
			continue;
		CHECK_STR(p.addr, v->addr);
		CHECK_STR(p.local, v->local);
		CHECK_STR(p.domain, v->domain);
		CHECK_STR(rest, v->params);
	}
}

static void test_flags(void)
{
	struct smtp_path p;
	const char *rest;
	CHECK(smtp_path_parse("<\"x\"@a.b>", 0, &p, &rest) == 0 && p.quoted && !p.non_ascii);
	CHECK(smtp_path_parse("<x@[1.2.3.4]>", 0, &p, &rest) == 0 && p.literal);
	CHECK(smtp_path_parse("<\xe2\x82\xac@a.b>", 0, &p, &rest) == 0 && p.non_ascii);
	CHECK(smtp_path_parse("<>", SMTP_PATH_NULL_OK, &p, &rest) == 0 && p.null);
}

static void test_limits(void)
{
	char buf[600];
	struct smtp_path p;
	const char *rest;
	/* local part: 64 octets ok, 65 not */
	snprintf(buf, sizeof buf, "<%.*s@x.org>", 64,
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	CHECK(smtp_path_parse(buf, 0, &p, &rest) == 0);
	snprintf(buf, sizeof buf, "<%.*s@x.org>", 65,
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	CHECK(smtp_path_parse(buf, 0, &p, &rest) < 0);
	/* a label of 64 octets is too long */
	snprintf(buf, sizeof buf, "<a@%.*s.org>", 64,
		 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
	CHECK(smtp_path_parse(buf, 0, &p, &rest) < 0);
	/* whole path over 256 octets */
	char dom[300] = "";
	for (int i = 0; i < 5; i++)
		strcat(dom, "ccccccccccccccccccccccccccccccccccccccccccccccccc.");
	strcat(dom, "org");
	snprintf(buf, sizeof buf, "<a@%s>", dom);
	CHECK(smtp_path_parse(buf, 0, &p, &rest) < 0);
}

static void test_params(void)
{
	const char *s = "SIZE=100 body=8BITMIME  SMTPUTF8";
	char kw[32], val[64];
	bool hv;
	CHECK(smtp_param_next(&s, kw, sizeof kw, val, sizeof val, &hv) == 1);
	CHECK_STR(kw, "SIZE");
	CHECK_STR(val, "100");
	CHECK(hv);
	CHECK(smtp_param_next(&s, kw, sizeof kw, val, sizeof val, &hv) == 1);
	CHECK_STR(kw, "BODY");
	CHECK_STR(val, "8BITMIME");
	CHECK(smtp_param_next(&s, kw, sizeof kw, val, sizeof val, &hv) == 1);
	CHECK_STR(kw, "SMTPUTF8");
	CHECK(!hv);
	CHECK(smtp_param_next(&s, kw, sizeof kw, val, sizeof val, &hv) == 0);

	const char *bad[] = { "SIZE=", "=5", "-X", "SIZE=a=b", "K=\x01", "K\x01" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		s = bad[i];
		CHECK(smtp_param_next(&s, kw, sizeof kw, val, sizeof val, &hv) == -1);
	}
	/* a value longer than the buffer is an error, not a truncation */
	s = "ENVID=0123456789";
	CHECK(smtp_param_next(&s, kw, sizeof kw, val, 8, &hv) == -1);
}

static void test_utf8(void)
{
	CHECK(smtp_utf8_valid((const unsigned char *)"abc", 3));
	CHECK(smtp_utf8_valid((const unsigned char *)"\xf0\x9f\x98\x80", 4));
	CHECK(!smtp_utf8_valid((const unsigned char *)"\xf0\x9f\x98", 3)); /* truncated */
	CHECK(!smtp_utf8_valid((const unsigned char *)"\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
	CHECK(!smtp_utf8_valid((const unsigned char *)"\xff", 1));
}

static void test_helo(void)
{
	CHECK(smtp_helo_valid("uliege.be"));
	CHECK(smtp_helo_valid("my_host"));
	CHECK(smtp_helo_valid("[192.168.1.1]"));
	CHECK(smtp_helo_valid("[IPv6:::1]"));
	CHECK(!smtp_helo_valid(""));
	CHECK(!smtp_helo_valid("a b"));
	CHECK(!smtp_helo_valid("x(y)"));
	CHECK(!smtp_helo_valid("[]"));
	CHECK(!smtp_helo_valid("a;b"));
}

int main(void)
{
	RUN(test_paths);
	RUN(test_flags);
	RUN(test_limits);
	RUN(test_params);
	RUN(test_utf8);
	RUN(test_helo);
	return unit_done();
}
