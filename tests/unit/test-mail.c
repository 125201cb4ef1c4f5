/* Unit tests of postern-mail's parsers and encoders (mail/): base64,
 * quoted-printable, RFC 2047, header lookup, addresses, dates, message
 * composition, dot-stuffing, the IMAP response parser and the bounded
 * line reader over a socket. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"
#include "../../mail/codec.h"
#include "../../mail/compose.h"
#include "../../mail/conn.h"
#include "../../mail/date.h"
#include "../../mail/header.h"
#include "../../mail/imapresp.h"
#include "../../mail/interactive.h"
#include "../../mail/script.h"
#include "../../mail/smtp.h"

static void test_base64(void)
{
	struct strbuf b = STRBUF_INIT;
	b64_encode(&b, "\0alice\0secret", 13);
	CHECK_STR(b.s, "AGFsaWNlAHNlY3JldA==");
	sb_reset(&b);
	b64_encode(&b, "ab", 2);
	CHECK_STR(b.s, "YWI=");
	sb_reset(&b);
	CHECK(b64_decode(&b, "R3Lg\r\nw6A=", 10) == 0);
	CHECK(b.len == 5 && memcmp(b.s, "Gr\xe0\xc3\xa0", 5) == 0);
	sb_reset(&b);
	CHECK(b64_decode(&b, "ab!c", 4) < 0);
	sb_free(&b);
}

static void test_qp(void)
{
	struct strbuf b = STRBUF_INIT;
	qp_decode(&b, "caf=C3=A9 =\r\nsoft=3D", 21, false);
	CHECK_STR(b.s, "caf\xc3\xa9 soft=");
	sb_reset(&b);
	qp_decode(&b, "a_b=20c=zz", 10, true);
	CHECK_STR(b.s, "a b c=zz");
	sb_free(&b);
}

static void test_rfc2047_encode_folds_and_round_trips(void)
{
	const char *subj = "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln, ein recht langer Betreff, "
			   "der gefaltet werden muss \xf0\x9f\x98\x80 \xe2\x98\x83\xe2\x98\x83\xe2\x98\x83";
	struct strbuf h = STRBUF_INIT, v = STRBUF_INIT, d = STRBUF_INIT;
	rfc2047_header(&h, "Subject", subj);
	CHECK(strncmp(h.s, "Subject: =?UTF-8?B?", 19) == 0);
	CHECK(h.len >= 2 && strcmp(h.s + h.len - 2, "\r\n") == 0);
	/* every line at most 76 octets, continuation lines start with a blank */
	int lines = 0;
	for (const char *p = h.s; *p;) {
		size_t l = strcspn(p, "\r");
		CHECK(l <= 76);
		if (lines++)
			CHECK(*p == ' ');
		p += l + 2;
	}
	CHECK(lines >= 2);
	CHECK(hdr_get(h.s, h.len, "Subject", &v));
	rfc2047_decode(&d, v.s, v.len);
	CHECK_STR(d.s, subj);
	/* ASCII stays readable; "=?" must be encoded */
	sb_reset(&h);
	rfc2047_header(&h, "Subject", "Hello");
	CHECK_STR(h.s, "Subject: Hello\r\n");
	sb_reset(&h);
	rfc2047_header(&h, "Subject", "a =?x?= b");
	CHECK(strstr(h.s, "=?UTF-8?B?") != NULL);
	/* long ASCII folds at a space */
	sb_reset(&h);
	char longs[200];
	memset(longs, 0, sizeof longs);
	for (int i = 0; i < 30; i++)
		strcat(longs, "word ");
	rfc2047_header(&h, "Subject", longs);
	CHECK(strstr(h.s, "\r\n word") != NULL);
	sb_free(&h);
	sb_free(&v);
	sb_free(&d);
}

static void test_rfc2047_decode(void)
{
	struct strbuf d = STRBUF_INIT;
	const char *in = "=?UTF-8?B?R3LDvA==?= =?utf-8?q?=C3=9Fe_x?= plain =?ISO-8859-1?Q?caf=E9?=";
	rfc2047_decode(&d, in, strlen(in));
	CHECK_STR(d.s, "Gr\xc3\xbc\xc3\x9f" "e x plain caf\xc3\xa9");
	sb_reset(&d);
	/* not encoded-words: left alone */
	in = "=?broken and a=?b";
	rfc2047_decode(&d, in, strlen(in));
	CHECK_STR(d.s, in);
	sb_free(&d);
}

static void test_utf8_and_sanitize(void)
{
	CHECK(utf8_valid("h\xc3\xa9", 3));
	CHECK(!utf8_valid("\xc3", 1));
	CHECK(!utf8_valid("\xc0\xaf", 2));       /* overlong */
	CHECK(!utf8_valid("\xed\xa0\x80", 3));   /* surrogate */
	struct strbuf s = STRBUF_INIT;
	sanitize_text(&s, "a\x1b[2J\tb\nc\x7f", 10, true);
	CHECK_STR(s.s, "a?[2J\tb\nc?");
	sb_reset(&s);
	sanitize_text(&s, "x\ny", 3, false);
	CHECK_STR(s.s, "x?y");
	sb_free(&s);
}

static void test_headers(void)
{
	const char *m = "Received: from a\r\n\tby b; Sun, 22 Nov 2026 14:05:00 +0100\r\n"
			"From: \"Doe, John\" <john@example.org>\r\n"
			"Subject: two\r\n  lines\r\n"
			"To: a@b.c, \"x, y\" <d@e.f>, g: h@i.j, k@l.m;\r\n"
			"\r\n"
			"Subject: not a header\r\n";
	size_t len = strlen(m);
	struct strbuf v = STRBUF_INIT;
	CHECK(hdr_get(m, len, "subject", &v));
	CHECK_STR(v.s, "two  lines");
	CHECK(hdr_get(m, len, "Received", &v));
	time_t t;
	CHECK(date_parse_received(v.s, &t));
	CHECK(t == 1795356300 - 3600);
	CHECK(!hdr_get(m, len, "Cc", &v));
	char a[256];
	CHECK(hdr_get(m, len, "From", &v));
	CHECK(hdr_first_address(v.s, a, sizeof a));
	CHECK_STR(a, "john@example.org");
	CHECK(hdr_get(m, len, "To", &v));
	char **list = NULL;
	size_t n = 0;
	CHECK(hdr_addresses(v.s, &list, &n) == 4);
	CHECK(n == 4);
	if (n == 4) {
		CHECK_STR(list[0], "a@b.c");
		CHECK_STR(list[1], "d@e.f");
		CHECK_STR(list[2], "h@i.j");
		CHECK_STR(list[3], "k@l.m");
	}
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
	CHECK(hdr_body_offset(m, len) == (size_t)(strstr(m, "\r\n\r\n") - m) + 4);
	CHECK(hdr_body_offset("\nbody", 5) == 1);
	sb_free(&v);
}

static void test_addr_valid(void)
{
	CHECK(addr_valid("alice@example.org"));
	CHECK(addr_valid("a.b+c@d"));
	CHECK(!addr_valid("alice"));
	CHECK(!addr_valid("@example.org"));
	CHECK(!addr_valid("alice@"));
	CHECK(!addr_valid("a@b@c"));
	CHECK(!addr_valid("a b@c"));
	CHECK(!addr_valid("a@b>"));
	CHECK(!addr_valid("a@b\r\nRCPT TO:<x@y>"));
}

static void test_dates(void)
{
	time_t t;
	CHECK(date_parse_rfc5322("Sun, 22 Nov 2026 14:05:00 +0000", &t) && t == 1795356300);
	CHECK(date_parse_rfc5322("22 Nov 2026 14:05 GMT", &t) && t == 1795356300);
	CHECK(date_parse_rfc5322("Sun, 22 Nov 2026 09:05:00 EST", &t) && t == 1795356300);
	CHECK(date_parse_rfc5322("  22 Nov 26 15:35:00 +0130", &t) && t == 1795356300);
	CHECK(!date_parse_rfc5322("yesterday", &t));
	CHECK(!date_parse_rfc5322("22 Foo 2026 14:05", &t));
	CHECK(!date_parse_rfc5322("32 Nov 2026 14:05", &t));
	CHECK(date_parse_imap("22-Nov-2026 14:05:00 +0000", &t) && t == 1795356300);
	CHECK(date_parse_imap(" 2-Nov-2026 14:05:00 -0200", &t) && t == 1793628300 + 7200);
	CHECK(!date_parse_imap("22-Nov-2026 14:05:00", &t));
	setenv("TZ", "UTC", 1);
	tzset();
	char buf[64];
	date_format_list(1795356300, buf, sizeof buf);
	CHECK_STR(buf, "22/11/2026 : 14 : 05");
	date_format_rfc5322(1795356300, buf, sizeof buf);
	CHECK_STR(buf, "Sun, 22 Nov 2026 14:05:00 +0000");
	date_format_iso(1795356300, buf, sizeof buf);
	CHECK_STR(buf, "2026-11-22T14:05:00+00:00");
}

static void test_compose_simple(void)
{
	struct outgoing o;
	char err[256];
	char *to[] = { "bob@example.net" };
	const char *body = "caf\xc3\xa9\n.dot\n";
	CHECK(compose_simple(&o, "alice@example.org", to, 1, "Hi", body, strlen(body), err, sizeof err) == 0);
	const char *m = o.msg.s;
	CHECK(strstr(m, "\r\nFrom: alice@example.org\r\n") != NULL);
	CHECK(strstr(m, "\r\nTo: bob@example.net\r\n") != NULL);
	CHECK(strncmp(m, "Date: ", 6) == 0);
	CHECK(strstr(m, "\r\nMessage-ID: <") != NULL && strstr(m, "@example.org>\r\n") != NULL);
	CHECK(strstr(m, "Content-Type: text/plain; charset=UTF-8\r\n") != NULL);
	CHECK(strstr(m, "Content-Transfer-Encoding: 8bit\r\n") != NULL);
	CHECK(strstr(m, "\r\n\r\ncaf\xc3\xa9\r\n.dot\r\n") != NULL);
	CHECK(o.eightbit);
	outgoing_free(&o);
	char *bad[] = { "bob" };
	CHECK(compose_simple(&o, "alice@example.org", bad, 1, "Hi", "", 0, err, sizeof err) < 0);
	CHECK(compose_simple(&o, "alice", to, 1, "Hi", "", 0, err, sizeof err) < 0);
}

static void test_compose_body_qp_for_long_lines(void)
{
	char *body = xmalloc(2001);
	memset(body, 'x', 2000);
	body[2000] = '\n';
	struct strbuf b = STRBUF_INIT;
	bool qp;
	compose_body(&b, body, 2001, &qp);
	CHECK(qp);
	for (const char *p = b.s; *p;) {
		size_t l = strcspn(p, "\r");
		CHECK(l <= 76);
		p += l + 2;
	}
	struct strbuf d = STRBUF_INIT;
	qp_decode(&d, b.s, b.len, false);
	CHECK(d.len == 2002 && memcmp(d.s, body, 2000) == 0);
	sb_reset(&b);
	compose_body(&b, "no newline", 10, &qp);
	CHECK(!qp);
	CHECK_STR(b.s, "no newline\r\n");
	free(body);
	sb_free(&b);
	sb_free(&d);
}

static void test_compose_from_message(void)
{
	const char *in = "From: Alice <alice@example.org>\nTo: bob@example.net\n"
			 "Bcc: eve@example.net\nSubject: Gr\xc3\xbc\xc3\x9f" "e\n\nbody\n";
	struct outgoing o;
	char err[256];
	CHECK(compose_from_message(&o, in, strlen(in), NULL, NULL, 0, true, err, sizeof err) == 0);
	CHECK_STR(o.from, "alice@example.org");
	CHECK(o.nrcpts == 2);
	CHECK(strstr(o.msg.s, "Bcc") == NULL);
	CHECK(strstr(o.msg.s, "Subject: =?UTF-8?B?R3LDvMOfZQ==?=\r\n") != NULL);
	CHECK(strstr(o.msg.s, "Content-Type: text/plain; charset=us-ascii\r\n") != NULL);
	CHECK(strstr(o.msg.s, "\r\n\r\nbody\r\n") != NULL);
	outgoing_free(&o);
	/* no recipients anywhere */
	CHECK(compose_from_message(&o, "From: a@b\n\nx\n", 12, NULL, NULL, 0, true, err, sizeof err) < 0);
}

static void test_dot_stuff(void)
{
	struct strbuf b = STRBUF_INIT;
	const char *m = ".a\r\nb\n.\r\nc";
	smtp_dot_stuff(&b, m, strlen(m));
	CHECK_STR(b.s, "..a\r\nb\r\n..\r\nc\r\n.\r\n");
	sb_free(&b);
}

static struct imap_resp parse(const char *raw, int *rc)
{
	struct imap_resp r = { 0 };
	sb_adds(&r.raw, raw);
	*rc = imapresp_parse(&r);
	return r;
}

static void test_imap_parser(void)
{
	int rc;
	struct imap_resp r = parse("* 1 FETCH (UID 7 ENVELOPE (\"d\" \"s \\\"q\\\"\" ((NIL NIL \"a\" \"b\")) NIL) BODY[] {5}\r\nab)\r\n )\r\n", &rc);
	CHECK(rc == 0);
	CHECK(r.n > 4 && r.v[3].type == IV_LIST);
	size_t env = iv_child(&r, 3, 3);
	CHECK(env != (size_t)-1 && r.v[env].type == IV_LIST);
	size_t subj = iv_child(&r, env, 1);
	CHECK_STR(iv_str(&r, subj), "s \"q\"");
	size_t from = iv_child(&r, env, 2);
	size_t a = iv_child(&r, from, 0);
	CHECK(r.v[iv_child(&r, a, 0)].type == IV_NIL);
	CHECK_STR(iv_str(&r, iv_child(&r, a, 3)), "b");
	CHECK(r.v[iv_child(&r, env, 3)].type == IV_NIL);
	CHECK_STR(iv_str(&r, iv_child(&r, 3, 4)), "BODY[]");
	size_t lit = iv_child(&r, 3, 5);
	CHECK(r.v[lit].type == IV_STRING && r.v[lit].len == 5 && memcmp(iv_str(&r, lit), "ab)\r\n", 5) == 0);
	CHECK(iv_child(&r, 3, 6) == (size_t)-1);
	imapresp_free(&r);

	const char *bad[] = { "* 1 FETCH (UID 7\r\n", "* 1 FETCH )\r\n", "* \"open\r\n",
			      "* {10}\r\nshort\r\n", "* a\r\nb\r\n" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		r = parse(bad[i], &rc);
		CHECK(rc < 0);
		imapresp_free(&r);
	}
	/* nesting is bounded */
	char deep[200] = "* ";
	for (int i = 0; i < 40; i++)
		strcat(deep, "(");
	strcat(deep, "\r\n");
	r = parse(deep, &rc);
	CHECK(rc < 0);
	imapresp_free(&r);
}

static void test_conn_reader(void)
{
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	struct conn c;
	conn_init_fd(&c, sv[0], 1);
	const char *data = "short\r\nbare lf\n* 1 FETCH (BODY[] {3}\r\nx\r\n)\r\n0123456789012345678901234\r\n";
	CHECK(write(sv[1], data, strlen(data)) == (ssize_t)strlen(data));
	char line[20];
	size_t len;
	CHECK(conn_getline(&c, line, sizeof line, &len) == CONN_OK);
	CHECK_STR(line, "short");
	CHECK(conn_getline(&c, line, sizeof line, &len) == CONN_OK && len == 7);
	CHECK_STR(line, "bare lf");
	struct imap_resp r = { 0 };
	CHECK(imapresp_read(&c, &r, 100) == CONN_OK);
	CHECK(r.raw.len == strlen("* 1 FETCH (BODY[] {3}\r\nx\r\n)\r\n"));
	CHECK(imapresp_parse(&r) == 0);
	imapresp_free(&r);
	CHECK(conn_getline(&c, line, sizeof line, &len) == CONN_TOOLONG);
	/* the caller gives up on such a connection; here we read on */
	CHECK(conn_getline(&c, line, sizeof line, &len) == CONN_OK);
	CHECK_STR(line, "901234");
	/* nothing more arrives: a timeout, not a hang (bounded by 1 s) */
	CHECK(conn_getline(&c, line, sizeof line, &len) == CONN_TIMEOUT);
	/* a literal larger than allowed */
	const char *big = "* 1 FETCH (BODY[] {1000}\r\n";
	CHECK(write(sv[1], big, strlen(big)) == (ssize_t)strlen(big));
	CHECK(imapresp_read(&c, &r, 100) == CONN_TOOLONG);
	imapresp_free(&r);
	close(sv[1]);
	conn_discard_input(&c);
	CHECK(conn_getline(&c, line, sizeof line, &len) == CONN_EOF);
	conn_close(&c);
}

static void test_json_string(void)
{
	struct strbuf b = STRBUF_INIT;
	json_string(&b, "a\"b\\c\n\x01 \xc3\xa9 \xff");
	CHECK_STR(b.s, "\"a\\\"b\\\\c\\u000a\\u0001 \xc3\xa9 \xef\xbf\xbd\"");
	sb_free(&b);
}

static void test_interactive_check(void)
{
	char f[256], t[256];
	const char *s;
	char *ok[] = { "From:   alice@example.org  ", "To:bob@example.net", "Subject: Hi there" };
	CHECK(interactive_check_mail(ok, 3, f, t, sizeof f, &s));
	CHECK_STR(f, "alice@example.org");
	CHECK_STR(t, "bob@example.net");
	CHECK_STR(s, "Hi there");
	char *order[] = { "To: bob@example.net", "From: alice@example.org", "Subject: x" };
	CHECK(!interactive_check_mail(order, 3, f, t, sizeof f, &s));
	char *addr[] = { "From: alice", "To: bob@example.net", "Subject: x" };
	CHECK(!interactive_check_mail(addr, 3, f, t, sizeof f, &s));
	CHECK(!interactive_check_mail(ok, 2, f, t, sizeof f, &s));
}

int main(void)
{
	RUN(test_base64);
	RUN(test_qp);
	RUN(test_rfc2047_encode_folds_and_round_trips);
	RUN(test_rfc2047_decode);
	RUN(test_utf8_and_sanitize);
	RUN(test_headers);
	RUN(test_addr_valid);
	RUN(test_dates);
	RUN(test_compose_simple);
	RUN(test_compose_body_qp_for_long_lines);
	RUN(test_compose_from_message);
	RUN(test_dot_stuff);
	RUN(test_imap_parser);
	RUN(test_conn_reader);
	RUN(test_json_string);
	RUN(test_interactive_check);
	return unit_done();
}
