/* lib/smtp-trace.c: Return-Path and Received formatting and folding. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp-trace.h"
#include "unit.h"

static void test_protocol(void)
{
	CHECK_STR(smtp_trace_protocol(false, false, false, false), "SMTP");
	CHECK_STR(smtp_trace_protocol(true, false, false, false), "ESMTP");
	CHECK_STR(smtp_trace_protocol(true, true, false, false), "ESMTPS");
	CHECK_STR(smtp_trace_protocol(true, false, true, false), "ESMTPA");
	CHECK_STR(smtp_trace_protocol(true, true, true, false), "ESMTPSA");
	CHECK_STR(smtp_trace_protocol(true, true, true, true), "UTF8SMTPSA");
	CHECK_STR(smtp_trace_protocol(true, false, false, true), "UTF8SMTP");
}

static void test_return_path(void)
{
	struct strbuf sb = STRBUF_INIT;
	smtp_trace_return_path(&sb, "");
	smtp_trace_return_path(&sb, "dcd@uliege.be");
	CHECK_STR(sb.s, "Return-Path: <>\r\nReturn-Path: <dcd@uliege.be>\r\n");
	sb_free(&sb);
}

static void test_received(void)
{
	setenv("TZ", "UTC", 1);
	struct strbuf sb = STRBUF_INIT;
	struct smtp_trace t = {
		.helo = "uliege.be", .peer = "127.0.0.1", .host = "mx.example.org",
		.protocol = "ESMTP", .id = "0123456789abcdef-1", .for_rcpt = "vj@uliege.be",
		.when = 1795312441,
	};
	smtp_trace_received(&sb, &t);
	CHECK_STR(sb.s, "Received: from uliege.be ([127.0.0.1])\r\n"
			"\tby mx.example.org (Postern) with ESMTP id 0123456789abcdef-1\r\n"
			"\tfor <vj@uliege.be>; Sun, 22 Nov 2026 01:54:01 +0000\r\n");

	sb_reset(&sb);
	t.for_rcpt = NULL;
	t.peer = "::1";
	smtp_trace_received(&sb, &t);
	CHECK_STR(sb.s, "Received: from uliege.be ([IPv6:::1])\r\n"
			"\tby mx.example.org (Postern) with ESMTP id 0123456789abcdef-1;\r\n"
			"\tSun, 22 Nov 2026 01:54:01 +0000\r\n");
	sb_free(&sb);
}

/* Long names still give lines of at most 78 octets where a fold can help,
 * and every line but the first starts with a tab. */
static void test_folding(void)
{
	char helo[200];
	memset(helo, 'h', 60);
	strcpy(helo + 60, ".example");
	struct strbuf sb = STRBUF_INIT;
	struct smtp_trace t = {
		.helo = helo, .peer = "192.168.100.200", .host = "a-rather-long-host-name.mail.example.org",
		.protocol = "UTF8SMTPSA", .id = "0123456789abcdef-12", .for_rcpt = "someone.with.a.long.name@example.org",
		.when = 0,
	};
	smtp_trace_received(&sb, &t);
	size_t nlines = 0;
	for (char *line = sb.s; *line;) {
		char *end = strstr(line, "\r\n");
		CHECK(end != NULL);
		if (!end)
			break;
		CHECK(end - line <= 78);
		if (nlines > 0)
			CHECK(line[0] == '\t');
		nlines++;
		line = end + 2;
	}
	CHECK(nlines >= 4);
	CHECK(strstr(sb.s, "\r\n\r\n") == NULL);
	sb_free(&sb);
}

int main(void)
{
	RUN(test_protocol);
	RUN(test_return_path);
	RUN(test_received);
	RUN(test_folding);
	return unit_done();
}
