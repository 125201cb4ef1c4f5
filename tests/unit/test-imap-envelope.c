/* ENVELOPE of every corpus message must equal what Dovecot answered
 * (tests/mime/NAME.envelope), byte for byte; plus hand-made cases. */
#include <stdlib.h>
#include <string.h>

#include "imap-envelope.h"
#include "imap-quote.h"
#include "mime.h"
#include "rfc822-address.h"
#include "unit.h"

#include "mime-corpus.h"

static void test_corpus_envelopes(void)
{
	size_t n;
	char **names = corpus_list(&n);
	struct strbuf msg = STRBUF_INIT, want = STRBUF_INIT, got = STRBUF_INIT;
	CHECK(n >= 20);
	for (size_t i = 0; i < n; i++) {
		CHECK(corpus_read(names[i], ".eml", &msg) == 0);
		if (corpus_read(names[i], ".envelope", &want) != 0) {
			printf("# %s.envelope missing\n", names[i]);
			CHECK(!"expected envelope present");
			continue;
		}
		struct mime_part *root;
		mime_parse(msg.s, msg.len, &root);
		sb_reset(&got);
		imap_envelope_write(&got, msg.s + root->hdr_off, root->hdr_len);
		CHECK(corpus_same("envelope", names[i], &got, &want));
		mime_free(root);
	}
	sb_free(&msg);
	sb_free(&want);
	sb_free(&got);
	corpus_free(names, n);
}

static char *envelope_of(const char *hdr)
{
	struct strbuf out = STRBUF_INIT;
	imap_envelope_write(&out, hdr, strlen(hdr));
	return sb_steal(&out);
}

static void test_missing_fields_are_nil(void)
{
	char *e = envelope_of("X-Other: 1\r\n\r\n");
	CHECK_STR(e, "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
	free(e);
	/* empty string fields are "", empty address fields NIL */
	e = envelope_of("Subject:\r\nTo:\r\nMessage-ID: \r\n\r\n");
	CHECK_STR(e, "(NIL \"\" NIL NIL NIL NIL NIL NIL NIL \"\")");
	free(e);
}

static void test_sender_defaults_to_from(void)
{
	char *e = envelope_of("From: A <a@x.example>\r\nReply-To: r@x.example\r\n\r\n");
	CHECK_STR(e, "(NIL NIL ((\"A\" NIL \"a\" \"x.example\")) ((\"A\" NIL \"a\" \"x.example\")) "
		     "((NIL NIL \"r\" \"x.example\")) NIL NIL NIL NIL NIL)");
	free(e);
}

static void test_groups(void)
{
	struct rfc822_addr *a = rfc822_addr_parse("G: x@y, \"Q\" <q@r>;, z@w", 24);
	const char *want[][4] = {
		{ NULL, NULL, "G", NULL }, { NULL, NULL, "x", "y" }, { "Q", NULL, "q", "r" },
		{ NULL, NULL, NULL, NULL }, { NULL, NULL, "z", "w" },
	};
	size_t i = 0;
	for (struct rfc822_addr *p = a; p; p = p->next, i++) {
		if (i >= 5)
			break;
		const char *got[4] = { p->name, p->route, p->mailbox, p->host };
		for (int k = 0; k < 4; k++) {
			CHECK((got[k] == NULL) == (want[i][k] == NULL));
			if (got[k] && want[i][k])
				CHECK_STR(got[k], want[i][k]);
		}
	}
	CHECK(i == 5);
	rfc822_addr_free(a);
}

static void test_quote(void)
{
	struct strbuf out = STRBUF_INIT;
	imap_quote_writes(&out, NULL);
	sb_addc(&out, ' ');
	imap_quote_writes(&out, "a\"b\\c");
	sb_addc(&out, ' ');
	imap_quote_writes(&out, "x\r\ny");
	sb_addc(&out, ' ');
	imap_quote_writes(&out, "\"\"\"\"\"");
	sb_addc(&out, ' ');
	imap_quote_writes(&out, "caf\xc3\xa9");
	CHECK_STR(out.s, "NIL \"a\\\"b\\\\c\" {4}\r\nx\r\ny {5}\r\n\"\"\"\"\" {5}\r\ncaf\xc3\xa9");
	sb_reset(&out);
	imap_quote_write_human(&out, "  a \t b  ", 9);
	sb_addc(&out, ' ');
	imap_quote_write_human(&out, "plain text", 10);
	sb_addc(&out, ' ');
	imap_quote_write_human(&out, " \t ", 3);
	CHECK_STR(out.s, "{3}\r\na b \"plain text\" \"\"");
	sb_free(&out);
}

static void test_huge_address_list(void)
{
	/* 100,000 addresses in one field: linear, no recursion per address */
	struct strbuf h = STRBUF_INIT;
	sb_adds(&h, "To: ");
	for (int i = 0; i < 100000; i++)
		sb_printf(&h, "%su%d@example.com", i ? ", " : "", i);
	sb_adds(&h, "\r\n\r\n");
	struct strbuf out = STRBUF_INIT;
	imap_envelope_write(&out, h.s, h.len);
	CHECK(strstr(out.s, "(NIL NIL \"u99999\" \"example.com\")") != NULL);
	sb_free(&h);
	sb_free(&out);
}

int main(void)
{
	RUN(test_corpus_envelopes);
	RUN(test_missing_fields_are_nil);
	RUN(test_sender_defaults_to_from);
	RUN(test_groups);
	RUN(test_quote);
	RUN(test_huge_address_list);
	return unit_done();
}
