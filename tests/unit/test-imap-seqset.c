/* Sequence sets and modified UTF-7 mailbox names. */
#include <stdint.h>
#include <stdio.h>

#include "imap-seqset.h"
#include "mutf7.h"
#include "strbuf.h"
#include "unit.h"

static void test_seqset_parse(void)
{
	struct imap_seqset s;
	CHECK(imap_seqset_parse("1,3:5,9:7,*", 20, &s) == 0);
	CHECK(imap_seqset_contains(&s, 1));
	CHECK(!imap_seqset_contains(&s, 2));
	CHECK(imap_seqset_contains(&s, 4));
	CHECK(imap_seqset_contains(&s, 8));
	CHECK(!imap_seqset_contains(&s, 10));
	CHECK(imap_seqset_contains(&s, 20));
	CHECK(imap_seqset_max(&s) == 20);
	imap_seqset_free(&s);
	/* "n:*" beyond the largest still reaches the largest (RFC 3501 §6.4.8) */
	CHECK(imap_seqset_parse("100:*", 5, &s) == 0);
	CHECK(imap_seqset_contains(&s, 5) && !imap_seqset_contains(&s, 4));
	imap_seqset_free(&s);
	/* overlapping ranges merge */
	CHECK(imap_seqset_parse("1:4,2:6,7", 9, &s) == 0);
	CHECK(s.n == 1 && s.r[0].lo == 1 && s.r[0].hi == 7);
	imap_seqset_free(&s);
	CHECK(imap_seqset_parse("4294967295", 1, &s) == 0);
	CHECK(imap_seqset_contains(&s, UINT32_MAX));
	imap_seqset_free(&s);
}

static void test_seqset_invalid(void)
{
	static const char *bad[] = { "", "0", "1,", ",1", "1::2", "a", "1:0", "4294967296", "1 2",
				     "-1", "1,,2", "*:" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (imap_seqset_valid(bad[i])) {
			printf("# accepted \"%s\"\n", bad[i]);
			CHECK(!"invalid set accepted");
		}
	}
	CHECK(imap_seqset_valid("1:*"));
	CHECK(imap_seqset_valid("*"));
}

static void test_mutf7(void)
{
	struct strbuf sb = STRBUF_INIT;
	CHECK(mutf7_to_utf8("Entw&APw-rfe", &sb) == 0);
	CHECK_STR(sb.s, "Entw\xc3\xbc" "rfe");
	sb_reset(&sb);
	CHECK(mutf7_to_utf8("Tom &- Jerry", &sb) == 0);
	CHECK_STR(sb.s, "Tom & Jerry");
	sb_reset(&sb);
	CHECK(mutf7_to_utf8("~peter/mail/&U,BTFw-/&ZeVnLIqe-", &sb) == 0);
	CHECK_STR(sb.s, "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
	sb_free(&sb);
	CHECK(mutf7_valid("INBOX"));
	CHECK(!mutf7_valid("a&b"));      /* '&' without '-' */
	CHECK(!mutf7_valid("&AGE-"));    /* 'a' must not be encoded */
	CHECK(!mutf7_valid("&APw"));     /* unterminated */
	CHECK(!mutf7_valid("caf\xc3\xa9")); /* raw 8-bit */
	CHECK(!mutf7_valid("&2D0-"));    /* lone surrogate */
	CHECK(!mutf7_valid("&AP3-"));    /* stray bits */
}

int main(void)
{
	RUN(test_seqset_parse);
	RUN(test_seqset_invalid);
	RUN(test_mutf7);
	return unit_done();
}
