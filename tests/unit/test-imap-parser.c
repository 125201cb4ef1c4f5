/* The IMAP command parser, fed whole and byte by byte. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap-parser.h"
#include "unit.h"

/* What a run of the parser over some input produced. */
struct outcome {
	char log[4096]; /* one entry per result: "DONE tag args" / "ERR tag msg" */
};

static void dump_args(char *out, size_t outlen, const struct imap_arg *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(out);
		if (i)
			snprintf(out + l, outlen - l, " ");
		l = strlen(out);
		switch (a[i].type) {
		case IMAP_ARG_ATOM:
			snprintf(out + l, outlen - l, "%s", a[i].str);
			break;
		case IMAP_ARG_NIL:
			snprintf(out + l, outlen - l, "<NIL>");
			break;
		case IMAP_ARG_QUOTED:
			snprintf(out + l, outlen - l, "Q[%s]", a[i].str);
			break;
		case IMAP_ARG_LITERAL:
			snprintf(out + l, outlen - l, "L[%s]", a[i].str);
			break;
		case IMAP_ARG_LIST:
			snprintf(out + l, outlen - l, "(");
			dump_args(out, outlen, a[i].list, a[i].list_n);
			l = strlen(out);
			snprintf(out + l, outlen - l, ")");
			break;
		}
	}
}

/* Feed IN in pieces of CHUNK octets (0: all at once). Literals up to
 * MAXLIT are accepted, bigger ones refused. */
static void run(const char *in, size_t len, size_t chunk, size_t maxlit, struct outcome *o)
{
	struct imap_parser p;
	imap_parser_init(&p);
	o->log[0] = '\0';
	size_t off = 0;
	while (off < len) {
		size_t n = chunk && chunk < len - off ? chunk : len - off;
		size_t used;
		enum imap_parse_result r = imap_parser_feed(&p, in + off, n, &used);
		off += used;
		size_t l = strlen(o->log);
		char *dst = o->log + l;
		size_t room = sizeof o->log - l;
		if (r == IMAP_PARSE_DONE) {
			char args[2048] = "";
			dump_args(args, sizeof args, p.args, p.nargs);
			snprintf(dst, room, "DONE %s %s|", p.tag, args);
			imap_parser_reset(&p);
		} else if (r == IMAP_PARSE_ERROR) {
			snprintf(dst, room, "ERR %s %s|", p.tag, p.error);
		} else if (r == IMAP_PARSE_LITERAL) {
			if (p.literal_size <= maxlit) {
				imap_parser_literal_accept(&p);
			} else {
				snprintf(dst, room, "REFUSED %s %s|", p.tag, p.literal_sync ? "sync" : "nonsync");
				imap_parser_literal_refuse(&p);
			}
		}
	}
	imap_parser_free(&p);
}

/* Same outcome whether fed whole, in 3-octet pieces or byte by byte. */
static void expect(const char *in, size_t maxlit, const char *want)
{
	static const size_t chunks[] = { 0, 3, 1 };
	for (size_t i = 0; i < 3; i++) {
		struct outcome o;
		run(in, strlen(in), chunks[i], maxlit, &o);
		if (strcmp(o.log, want) != 0) {
			printf("# input %s\n# chunk %zu: got  %s\n#          want %s\n", in, chunks[i],
			       o.log, want);
			CHECK(!"parser outcome");
		}
	}
}

static void test_simple(void)
{
	expect("a1 NOOP\r\n", 100, "DONE a1 NOOP|");
	expect("a1 NOOP\n", 100, "DONE a1 NOOP|");
	expect("A001 LOGIN alice secret\r\nA002 LOGOUT\r\n", 100,
	       "DONE A001 LOGIN alice secret|DONE A002 LOGOUT|");
	expect("\r\nx CAPABILITY\r\n", 100, "DONE x CAPABILITY|");
}

static void test_strings(void)
{
	expect("a LOGIN \"al ice\" \"a\\\"b\\\\c\"\r\n", 100, "DONE a LOGIN Q[al ice] Q[a\"b\\c]|");
	expect("a LOGIN \"\" NIL\r\n", 100, "DONE a LOGIN Q[] <NIL>|");
	expect("a LOGIN {5}\r\nalice {3+}\r\nx y\r\n", 100, "DONE a LOGIN L[alice] L[x y]|");
	expect("a X {0}\r\n\r\n", 100, "DONE a X L[]|");
}

static void test_lists(void)
{
	expect("a FETCH 1:* (FLAGS (UID) ())\r\n", 100, "DONE a FETCH 1:* (FLAGS (UID) ())|");
	expect("a STORE 1 +FLAGS (\\Seen \\Deleted)\r\n", 100,
	       "DONE a STORE 1 +FLAGS (\\Seen \\Deleted)|");
	expect("a LIST \"\" *\r\n", 100, "DONE a LIST Q[] *|");
	expect("a LIST \"\" %/a\r\n", 100, "DONE a LIST Q[] %/a|");
}

static void test_brackets(void)
{
	expect("a FETCH 1 (BODY.PEEK[HEADER.FIELDS (From To)]<0.10> BODY[])\r\n", 100,
	       "DONE a FETCH 1 (BODY.PEEK[HEADER.FIELDS (From To)]<0.10> BODY[])|");
	expect("a FETCH 1 BODY[1.2.MIME]\r\n", 100, "DONE a FETCH 1 BODY[1.2.MIME]|");
	expect("a FETCH 1 BODY[HEADER\r\nb NOOP\r\n", 100, "ERR a Missing ']'|DONE b NOOP|");
}

static void test_errors_recover(void)
{
	expect("a LOGIN \"open\r\nb NOOP\r\n", 100,
	       "ERR a Invalid characters in quoted string|DONE b NOOP|");
	expect("a FETCH (1\r\nb NOOP\r\n", 100, "ERR a Missing ')'|DONE b NOOP|");
	expect("a NOOP)\r\nb NOOP\r\n", 100, "ERR a Unexpected ')'|DONE b NOOP|");
	expect("a\r\nb NOOP\r\n", 100, "ERR a Missing command|DONE b NOOP|");
	expect("(x NOOP\r\nb NOOP\r\n", 100, "ERR * Invalid tag|DONE b NOOP|");
	expect("a \"x\"y\r\nb NOOP\r\n", 100, "ERR a Missing space between arguments|DONE b NOOP|");
	expect("a X {12a}\r\nb NOOP\r\n", 100, "ERR a Invalid literal size|DONE b NOOP|");
	expect("a X \"\\n\"\r\nb NOOP\r\n", 100, "ERR a Invalid escape in quoted string|DONE b NOOP|");
	expect("a X \x01\r\nb NOOP\r\n", 100, "ERR a Invalid characters in argument|DONE b NOOP|");
	/* the skipped line ends in a non-synchronizing literal: skip it too */
	expect("a \"x\"y {7+}\r\nb NOOP\n\r\nc NOOP\r\n", 100,
	       "ERR a Missing space between arguments|DONE c NOOP|");
}

static void test_literal_refused(void)
{
	/* synchronizing: the client waits for "+", so the next line is new */
	expect("a APPEND INBOX {500}\r\nb NOOP\r\n", 100, "REFUSED a sync|DONE b NOOP|");
	/* non-synchronizing: the octets come anyway and are skipped */
	expect("a APPEND INBOX {10+}\r\nb NOOP\r\nXX (\r\nc NOOP\r\n", 5,
	       "REFUSED a nonsync|DONE c NOOP|");
}

static void test_nesting_bound(void)
{
	char in[200] = "a X ";
	for (int i = 0; i < IMAP_PARSER_DEPTH_MAX + 1; i++)
		strcat(in, "(");
	strcat(in, "\r\nb NOOP\r\n");
	expect(in, 100, "ERR a Too deeply nested lists|DONE b NOOP|");
}

static void test_line_bound(void)
{
	struct strbuf in = STRBUF_INIT;
	struct outcome o;
	sb_adds(&in, "a X ");
	while (in.len < IMAP_PARSER_LINE_MAX + 100)
		sb_addc(&in, 'x');
	sb_adds(&in, "\r\nb NOOP\r\n");
	run(in.s, in.len, 0, 100, &o);
	CHECK_STR(o.log, "ERR a Command line too long|DONE b NOOP|");
	/* just below the bound is fine */
	sb_reset(&in);
	sb_adds(&in, "a X ");
	while (in.len < IMAP_PARSER_LINE_MAX - 2)
		sb_addc(&in, 'x');
	sb_adds(&in, "\r\n");
	run(in.s, in.len, 0, 100, &o);
	CHECK(strncmp(o.log, "DONE a X xxx", 12) == 0);
	sb_free(&in);
}

static void test_literal_with_binary(void)
{
	/* NUL, CR and LF inside a literal are data */
	static const char in[] = "a APPEND INBOX {6}\r\nx\0\r\ny\n\r\n";
	struct imap_parser p;
	imap_parser_init(&p);
	size_t off = 0, used;
	enum imap_parse_result r;
	int lits = 0;
	while ((r = imap_parser_feed(&p, in + off, 1, &used)) != IMAP_PARSE_DONE) {
		off += used;
		CHECK(r != IMAP_PARSE_ERROR);
		if (r == IMAP_PARSE_ERROR || off >= sizeof in)
			break;
		if (r == IMAP_PARSE_LITERAL) {
			lits++;
			CHECK(p.literal_size == 6 && p.literal_sync);
			imap_parser_literal_accept(&p);
		}
	}
	CHECK(lits == 1);
	CHECK(r == IMAP_PARSE_DONE && p.nargs == 3);
	if (r == IMAP_PARSE_DONE && p.nargs == 3) {
		CHECK(p.args[2].type == IMAP_ARG_LITERAL && p.args[2].len == 6);
		CHECK(memcmp(p.args[2].str, "x\0\r\ny\n", 6) == 0);
	}
	imap_parser_free(&p);
}

/* Many lines joined by literals: the whole command text is bounded too. */
static void test_command_bound(void)
{
	struct strbuf in = STRBUF_INIT;
	sb_adds(&in, "a X");
	char line[40001];
	memset(line, 'y', sizeof line - 1);
	line[sizeof line - 1] = '\0';
	for (int i = 0; i < 30; i++) {
		sb_printf(&in, " %s {1+}\r\nz", line);
	}
	sb_adds(&in, "\r\nb NOOP\r\n");
	struct outcome o;
	run(in.s, in.len, 0, 100, &o);
	CHECK_STR(o.log, "ERR a Command too long|DONE b NOOP|");
	sb_free(&in);
}

int main(void)
{
	RUN(test_simple);
	RUN(test_strings);
	RUN(test_lists);
	RUN(test_brackets);
	RUN(test_errors_recover);
	RUN(test_literal_refused);
	RUN(test_nesting_bound);
	RUN(test_line_bound);
	RUN(test_literal_with_binary);
	RUN(test_command_bound);
	return unit_done();
}
