/* BODYSTRUCTURE and BODY of every corpus message must equal what Dovecot
 * answered (tests/mime/NAME.bodystructure, NAME.body), byte for byte. */
#include <stdlib.h>
#include <string.h>

#include "imap-bodystructure.h"
#include "mime.h"
#include "unit.h"

#include "mime-corpus.h"

static void check_corpus(const char *ext, bool extended)
{
	size_t n;
	char **names = corpus_list(&n);
	struct strbuf msg = STRBUF_INIT, want = STRBUF_INIT, got = STRBUF_INIT;
	CHECK(n >= 20);
	for (size_t i = 0; i < n; i++) {
		CHECK(corpus_read(names[i], ".eml", &msg) == 0);
		if (corpus_read(names[i], ext, &want) != 0) {
			printf("# %s%s missing\n", names[i], ext);
			CHECK(!"expected output present");
			continue;
		}
		struct mime_part *root;
		mime_parse(msg.s, msg.len, &root);
		sb_reset(&got);
		imap_bodystructure_write(&got, msg.s, root, extended);
		CHECK(corpus_same(ext, names[i], &got, &want));
		mime_free(root);
	}
	sb_free(&msg);
	sb_free(&want);
	sb_free(&got);
	corpus_free(names, n);
}

static void test_corpus_bodystructure(void)
{
	check_corpus(".bodystructure", true);
}

static void test_corpus_body(void)
{
	check_corpus(".body", false);
}

static char *bs_of(const char *msg, bool extended)
{
	struct mime_part *root;
	struct strbuf out = STRBUF_INIT;
	mime_parse(msg, strlen(msg), &root);
	imap_bodystructure_write(&out, msg, root, extended);
	mime_free(root);
	return sb_steal(&out);
}

static void test_text_defaults(void)
{
	char *s = bs_of("Subject: x\r\n\r\nab\r\ncd\r\n", true);
	CHECK_STR(s, "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 8 2 NIL NIL NIL NIL)");
	free(s);
	s = bs_of("Subject: x\r\n\r\nab\r\ncd\r\n", false);
	CHECK_STR(s, "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 8 2)");
	free(s);
}

static void test_multipart_extension_data(void)
{
	const char *m = "MIME-Version: 1.0\r\n"
			"Content-Type: multipart/mixed; boundary=b\r\n"
			"Content-Disposition: inline\r\n"
			"Content-Language: en\r\n"
			"Content-Location: loc\r\n\r\n"
			"--b\r\nContent-Type: image/gif\r\nContent-MD5: md5\r\n\r\nGIF\r\n--b--\r\n";
	char *s = bs_of(m, true);
	CHECK_STR(s, "((\"image\" \"gif\" NIL NIL NIL \"7bit\" 3 \"md5\" NIL NIL NIL) \"mixed\" "
		     "(\"boundary\" \"b\") (\"inline\" NIL) (\"en\") \"loc\")");
	free(s);
	s = bs_of(m, false);
	CHECK_STR(s, "((\"image\" \"gif\" NIL NIL NIL \"7bit\" 3) \"mixed\")");
	free(s);
}

static void test_empty_fields(void)
{
	/* empty values are "" (not NIL); one octet of white space after the
	 * colon is skipped when the value is only white space (as Dovecot) */
	char *s = bs_of("MIME-Version: 1.0\r\nContent-Description:\r\nContent-ID: \r\n"
			"Content-Location:  \r\nContent-MD5:\r\n\r\nx\r\n",
			true);
	CHECK_STR(s, "(\"text\" \"plain\" (\"charset\" \"us-ascii\") \"\" \"\" \"7bit\" 3 1 \"\" NIL NIL \" \")");
	free(s);
}

int main(void)
{
	RUN(test_corpus_bodystructure);
	RUN(test_corpus_body);
	RUN(test_text_defaults);
	RUN(test_multipart_extension_data);
	RUN(test_empty_fields);
	return unit_done();
}
