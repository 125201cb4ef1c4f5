/* lib/smtp-dot.c: the DATA/BDAT byte state machine. Every vector is fed
 * whole and then byte by byte (the decoder must not care how the input is
 * cut), and the smuggling variants must never end DATA early. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp-dot.h"
#include "strbuf.h"
#include "unit.h"

static void sink(void *ctx, const void *buf, size_t len)
{
	sb_add(ctx, buf, len);
}

struct vec {
	const char *in;
	const char *out;   /* decoded content (when ok) */
	size_t used;       /* octets used up to and including the terminator; 0 = all, not done */
	int bad;           /* 0 ok, 'L' bare LF, 'C' bare CR */
};

#define TAIL "\r\nMAIL FROM:<evil@x>\r\n"

static const struct vec vecs[] = {
	{ ".\r\n", "", 3, 0 },
	{ "a\r\n.\r\n", "a\r\n", 6, 0 },
	{ "a\r\n.\r\nQUIT\r\n", "a\r\n", 6, 0 },
	{ "..x\r\n.\r\n", ".x\r\n", 8, 0 },
	{ "a\r\n..\r\n.\r\n", "a\r\n.\r\n", 10, 0 },
	{ ".a\r\n.b\r\n.\r\n", "a\r\nb\r\n", 11, 0 },
	{ "x.\r\n.\r\n", "x.\r\n", 7, 0 },
	{ "a\r\n \r\n.\r\n", "a\r\n \r\n", 9, 0 },
	/* smuggling: none of these end DATA, each is a bare LF or CR */
	{ "a\n.\n" TAIL "\r\n.\r\n", NULL, 0, 'L' },
	{ "a\n.\r\n" TAIL "\r\n.\r\n", NULL, 0, 'L' },
	{ "a\r\n.\n" TAIL "\r\n.\r\n", NULL, 0, 'L' },
	{ "a\r.\r" TAIL "\r\n.\r\n", NULL, 0, 'C' },
	{ "a\r\n.\r" TAIL "\r\n.\r\n", NULL, 0, 'C' },
	{ "a\n.\r" TAIL "\r\n.\r\n", NULL, 0, 'L' },
	{ "a\r.\r\n" TAIL "\r\n.\r\n", NULL, 0, 'C' },
	{ "a\r\n.\r\r\n" TAIL "\r\n.\r\n", NULL, 0, 'C' },
	{ "a\r\r\n.\r\n", NULL, 0, 'C' },
	{ "\n.\r\n.\r\n", NULL, 0, 'L' },
	{ "a\rb\r\n.\r\n", NULL, 0, 'C' },
	{ "a\nb\r\n.\r\n", NULL, 0, 'L' },
	/* not finished */
	{ "a\r\n.", "", 0, 0 },
	{ "a\r\n.\r", "", 0, 0 },
};

/* The length of a vector's input; none contains a NUL. */
static size_t vlen(const struct vec *v)
{
	return strlen(v->in);
}

static void check_one(const struct vec *v, size_t i, bool bytewise)
{
	struct strbuf out = STRBUF_INIT;
	struct smtp_dot *d = malloc(sizeof *d);
	smtp_dot_init(d, SMTP_DOT_DATA, 0, sink, &out);
	size_t len = vlen(v), used = 0;
	if (bytewise) {
		while (used < len && !d->done)
			used += smtp_dot_feed(d, v->in + used, 1);
	} else {
		used = smtp_dot_feed(d, v->in, len);
	}
	bool want_done = v->used != 0 || v->bad;
	if (d->done)
		smtp_dot_end(d);
	int bad = d->bare_lf ? 'L' : d->bare_cr ? 'C' : 0;
	bool ok = d->done == want_done && bad == v->bad;
	if (v->bad)
		ok = ok && used == len; /* ended at the real terminator, the very end */
	else if (v->used)
		ok = ok && used == v->used && strcmp(out.s ? out.s : "", v->out) == 0;
	else
		ok = ok && used == len;
	if (v->bad)
		ok = ok && out.len == 0; /* nothing of a bad message reaches the sink */
	if (!ok) {
		printf("# vector %zu (%s): done=%d used=%zu bad=%c\n", i, bytewise ? "bytewise" : "whole",
		       d->done, used, bad ? bad : '-');
		CHECK(ok);
	}
	free(d);
	sb_free(&out);
}

static void test_vectors_whole(void)
{
	for (size_t i = 0; i < sizeof vecs / sizeof vecs[0]; i++)
		check_one(&vecs[i], i, false);
}

static void test_vectors_bytewise(void)
{
	for (size_t i = 0; i < sizeof vecs / sizeof vecs[0]; i++)
		check_one(&vecs[i], i, true);
}

/* Lines far over 1000 octets pass untouched; the output arrives in
 * several sink calls. */
static void test_long_line(void)
{
	size_t n = 100000;
	char *in = malloc(n + 8);
	memset(in, 'x', n);
	memcpy(in + n, "\r\n.\r\n", 5);
	struct strbuf out = STRBUF_INIT;
	struct smtp_dot d;
	smtp_dot_init(&d, SMTP_DOT_DATA, 0, sink, &out);
	CHECK(smtp_dot_feed(&d, in, n + 5) == n + 5);
	CHECK(d.done);
	smtp_dot_end(&d);
	CHECK(smtp_dot_ok(&d));
	CHECK(out.len == n + 2);
	CHECK(d.size == n + 2);
	CHECK(memcmp(out.s, in, n + 2) == 0);
	free(in);
	sb_free(&out);
}

static void test_size_limit(void)
{
	struct strbuf out = STRBUF_INIT;
	struct smtp_dot d;
	const char *msg = "0123456789\r\n0123456789\r\n.\r\n";
	smtp_dot_init(&d, SMTP_DOT_DATA, 24, sink, &out);
	smtp_dot_feed(&d, msg, strlen(msg));
	smtp_dot_end(&d);
	CHECK(d.done && smtp_dot_ok(&d) && out.len == 24);

	sb_reset(&out);
	smtp_dot_init(&d, SMTP_DOT_DATA, 23, sink, &out);
	smtp_dot_feed(&d, msg, strlen(msg));
	smtp_dot_end(&d);
	CHECK(d.done); /* read to the end all the same */
	CHECK(d.too_big && !smtp_dot_ok(&d));
	CHECK(d.size == 24);
	sb_free(&out);
}

static void test_chunks(void)
{
	struct strbuf out = STRBUF_INIT;
	struct smtp_dot d;
	/* a CRLF split across chunks is fine; dots are content */
	smtp_dot_init(&d, SMTP_DOT_CHUNK, 0, sink, &out);
	smtp_dot_feed(&d, "a\r", 2);
	smtp_dot_feed(&d, "\n.\r\n", 4);
	smtp_dot_end(&d);
	CHECK(smtp_dot_ok(&d) && !d.done);
	CHECK_STR(out.s, "a\r\n.\r\n");

	/* a CR at the very end is bare */
	sb_reset(&out);
	smtp_dot_init(&d, SMTP_DOT_CHUNK, 0, sink, &out);
	smtp_dot_feed(&d, "a\r", 2);
	smtp_dot_end(&d);
	CHECK(d.bare_cr);

	sb_reset(&out);
	smtp_dot_init(&d, SMTP_DOT_CHUNK, 0, sink, &out);
	CHECK(smtp_dot_feed(&d, "a\nb", 3) == 3);
	CHECK(d.bare_lf);
	sb_free(&out);
}

int main(void)
{
	RUN(test_vectors_whole);
	RUN(test_vectors_bytewise);
	RUN(test_long_line);
	RUN(test_size_limit);
	RUN(test_chunks);
	return unit_done();
}
