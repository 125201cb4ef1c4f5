/* The RETR/TOP byte-stuffing state machine of postern-pop3d, fed whole,
 * byte by byte and in every two-piece split (table-driven). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "strbuf.h"
#include "../../handlers/pop3/stuff.h"

static void collect(void *ctx, const void *buf, size_t len)
{
	sb_add(ctx, buf, len);
}

/* TOP lines, or -1 for RETR */
static char *run(const char *in, size_t len, long top, size_t step, size_t *outlen_r)
{
	struct strbuf out = STRBUF_INIT;
	struct pop3_stuff st;
	size_t i;

	if (top < 0)
		pop3_stuff_init(&st);
	else
		pop3_stuff_init_top(&st, (unsigned long)top);
	for (i = 0; i < len; i += step) {
		size_t n = len - i < step ? len - i : step;
		if (!pop3_stuff_feed(&st, in + i, n, collect, &out))
			break;
	}
	pop3_stuff_end(&st, collect, &out);
	*outlen_r = out.len;
	return sb_steal(&out);
}

/* lengths from the literals: the vectors may hold NULs */
#define V(in, top, out) { in, sizeof in - 1, top, out, sizeof out - 1 }
static const struct vector {
	const char *in;
	size_t inlen;
	long top;
	const char *out;
	size_t outlen;
} vectors[] = {
	V("", -1, ".\r\n"),
	V("a\r\n", -1, "a\r\n.\r\n"),
	V("a", -1, "a\r\n.\r\n"),
	V(".\r\n", -1, "..\r\n.\r\n"),
	V("S: x\r\n\r\n.hidden\r\n..two\r\nend.\r\n. \r\n", -1,
	  "S: x\r\n\r\n..hidden\r\n...two\r\nend.\r\n.. \r\n.\r\n"),
	V("a\nb\n", -1, "a\r\nb\r\n.\r\n"),           /* bare LF gets its CR */
	V(".\n.", -1, "..\r\n..\r\n.\r\n"),
	V("a\r", -1, "a\r\n.\r\n"),
	V("x\ry\r\n", -1, "x\ry\r\n.\r\n"),            /* a lone CR inside a line stays */
	V("8bit \xe9\xff\x00z\r\n", -1, "8bit \xe9\xff\x00z\r\n.\r\n"),
	/* TOP */
	V("H: 1\r\nH: 2\r\n\r\nb1\r\nb2\r\nb3\r\n", 0, "H: 1\r\nH: 2\r\n\r\n.\r\n"),
	V("H: 1\r\nH: 2\r\n\r\nb1\r\nb2\r\nb3\r\n", 2, "H: 1\r\nH: 2\r\n\r\nb1\r\nb2\r\n.\r\n"),
	V("H: 1\r\n\r\nb1\r\n", 5, "H: 1\r\n\r\nb1\r\n.\r\n"),
	V("H: 1\r\n\r\n.b1\r\n\r\nb3", 5, "H: 1\r\n\r\n..b1\r\n\r\nb3\r\n.\r\n"),
	V("H: 1\r\n\r\n\r\nb2\r\n", 1, "H: 1\r\n\r\n\r\n.\r\n"),
	V("H: 1\r\nH: 2\r\n", 0, "H: 1\r\nH: 2\r\n.\r\n"),  /* no body at all */
	V("H: 1\n\nb1\nb2\n", 1, "H: 1\r\n\r\nb1\r\n.\r\n"),
};

static void check_vector(const struct vector *v, size_t step)
{
	size_t gotlen;
	char *got = run(v->in, v->inlen, v->top, step, &gotlen);

	if (gotlen != v->outlen || memcmp(got, v->out, v->outlen) != 0) {
		printf("# vector %zu (step %zu) gave \"%s\"\n", (size_t)(v - vectors), step, got);
		unit_fail(__FILE__, __LINE__, "vector output");
	}
	free(got);
}

static void test_whole(void)
{
	size_t i;
	for (i = 0; i < sizeof vectors / sizeof vectors[0]; i++)
		check_vector(&vectors[i], 1 << 20);
}

static void test_byte_by_byte(void)
{
	size_t i;
	for (i = 0; i < sizeof vectors / sizeof vectors[0]; i++)
		check_vector(&vectors[i], 1);
}

static void test_every_split(void)
{
	size_t i, k;
	for (i = 0; i < sizeof vectors / sizeof vectors[0]; i++)
		for (k = 2; k < 8; k++)
			check_vector(&vectors[i], k);
}

/* TOP stops asking for input once its lines are out. */
static void test_top_stops(void)
{
	struct strbuf out = STRBUF_INIT;
	struct pop3_stuff st;

	pop3_stuff_init_top(&st, 1);
	CHECK(pop3_stuff_feed(&st, "H: 1\r\n\r\n", 8, collect, &out));
	CHECK(!pop3_stuff_feed(&st, "b1\r\nb2\r\n", 8, collect, &out));
	CHECK(!pop3_stuff_feed(&st, "b3\r\n", 4, collect, &out));
	pop3_stuff_end(&st, collect, &out);
	CHECK_STR(out.s, "H: 1\r\n\r\nb1\r\n.\r\n");
	sb_free(&out);
}

int main(void)
{
	RUN(test_whole);
	RUN(test_byte_by_byte);
	RUN(test_every_split);
	RUN(test_top_stops);
	return unit_done();
}
