/* The pure parsers of postern-pop3d: message numbers and argument words. */
#include <limits.h>
#include <stddef.h>

#include "unit.h"
#include "../../handlers/pop3/parse.h"

static void test_numbers(void)
{
	unsigned long v = 99;

	CHECK(pop3_parse_ulong("1", 1, 3, &v) && v == 1);
	CHECK(pop3_parse_ulong("3", 1, 3, &v) && v == 3);
	CHECK(pop3_parse_ulong("003", 1, 3, &v) && v == 3);
	CHECK(pop3_parse_ulong("0", 0, 5, &v) && v == 0);
	v = 99;
	CHECK(!pop3_parse_ulong("0", 1, 3, &v));
	CHECK(!pop3_parse_ulong("4", 1, 3, &v));
	CHECK(!pop3_parse_ulong("", 1, 3, &v));
	CHECK(!pop3_parse_ulong("+1", 1, 3, &v));
	CHECK(!pop3_parse_ulong("-1", 0, ULONG_MAX, &v));
	CHECK(!pop3_parse_ulong(" 1", 1, 3, &v));
	CHECK(!pop3_parse_ulong("1 ", 1, 3, &v));
	CHECK(!pop3_parse_ulong("1x", 1, 3, &v));
	CHECK(!pop3_parse_ulong("0x1", 1, 3, &v));
	/* 2^32 + 1 must not wrap to 1 */
	CHECK(!pop3_parse_ulong("4294967297", 1, 3, &v));
	/* 2^64 + 1 must not wrap to 1 either */
	CHECK(!pop3_parse_ulong("18446744073709551617", 1, ULONG_MAX, &v));
	CHECK(!pop3_parse_ulong("99999999999999999999999", 0, ULONG_MAX, &v));
	CHECK(v == 99);
	CHECK(pop3_parse_ulong("18446744073709551615", 0, ULONG_MAX, &v) && v == ULONG_MAX);
}

static void test_args(void)
{
	char line[] = "  one two   three ";
	char *p = line;

	CHECK_STR(pop3_next_arg(&p), "one");
	CHECK_STR(pop3_next_arg(&p), "two");
	CHECK_STR(pop3_next_arg(&p), "three");
	CHECK(pop3_next_arg(&p) == NULL);
	CHECK(pop3_next_arg(&p) == NULL);
}

int main(void)
{
	RUN(test_numbers);
	RUN(test_args);
	return unit_done();
}
