/* mime_parse: part offsets, IMAP section numbering (checked against the
 * BODY[section] answers Dovecot gave for the corpus, tests/mime/NAME.sections)
 * and robustness: every prefix and random mutations of the corpus, 1,000
 * nesting levels, 100,000 parts, a 1 MB header line. Everything here runs
 * under ASan/UBSan in make check; nothing depends on speed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap-bodystructure.h"
#include "imap-envelope.h"
#include "mime.h"
#include "rfc822.h"
#include "unit.h"

#include "mime-corpus.h"

static size_t count_lf(const char *s, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++)
		c += s[i] == '\n';
	return c;
}

/* Structural invariants of a parsed tree; returns the number of parts. */
static size_t check_tree(const char *msg, size_t len, const struct mime_part *p, unsigned depth,
			 size_t lo, size_t hi)
{
	size_t parts = 1;
	CHECK(depth < MIME_MAX_DEPTH);
	CHECK(p->type != NULL && p->subtype != NULL);
	CHECK(p->hdr_off >= lo && p->hdr_off + p->hdr_len == p->body_off);
	CHECK(p->body_off + p->body_len <= hi && hi <= len);
	CHECK(p->body_lines == count_lf(msg + p->body_off, p->body_len));
	CHECK(p->hdr_lines == count_lf(msg + p->hdr_off, p->hdr_len));
	CHECK(!(p->multipart && p->message));
	size_t end = p->body_off + p->body_len, prev = p->body_off;
	for (size_t i = 0; i < p->nchildren; i++) {
		const struct mime_part *c = &p->children[i];
		CHECK(c->hdr_off >= prev);
		prev = c->body_off + c->body_len;
		parts += check_tree(msg, len, c, depth + 1, p->body_off, end);
	}
	if (p->message) {
		CHECK(p->message->hdr_off == p->body_off);
		/* the message ends with its part, or before the line end
		 * that a delimiter cut its header short at */
		size_t mend = p->message->body_off + p->message->body_len;
		CHECK(mend == end || (mend + 2 >= end && mend <= end));
		parts += check_tree(msg, len, p->message, depth + 1, p->body_off, end);
	}
	return parts;
}

/* FNV-1a of what FETCH sends: Dovecot sends NUL octets as 0x80 (a literal
 * may not hold NUL), so hash them that way. */
static uint64_t fnv(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (s[i] ? (unsigned char)s[i] : 0x80u)) * 0x100000001b3ull;
	return h;
}

/* What FETCH BODY[SECTION] returns, by the rules documented in mime.h. */
static void section_bytes(const char *msg, const struct mime_part *root, const char *section,
			  const char **s_r, size_t *n_r)
{
	unsigned path[8];
	size_t depth = 0;
	const char *p = section;
	while (*p >= '0' && *p <= '9' && depth < 8) {
		path[depth++] = (unsigned)strtoul(p, (char **)&p, 10);
		if (*p == '.')
			p++;
	}
	const struct mime_part *part = mime_section(root, path, depth);
	*s_r = msg;
	*n_r = 0;
	if (!part)
		return;
	if (*p == '\0') {
		*s_r = msg + part->body_off;
		*n_r = part->body_len;
	} else if (strcmp(p, "MIME") == 0) {
		*s_r = msg + part->hdr_off;
		*n_r = part->hdr_len;
	} else if (part->message && strcmp(p, "HEADER") == 0) {
		*s_r = msg + part->message->hdr_off;
		*n_r = part->message->hdr_len;
	} else if (part->message && strcmp(p, "TEXT") == 0) {
		*s_r = msg + part->message->body_off;
		*n_r = part->message->body_len;
	}
}

static void test_corpus_sections(void)
{
	size_t n, checked = 0;
	char **names = corpus_list(&n);
	struct strbuf msg = STRBUF_INIT, want = STRBUF_INIT;
	CHECK(n >= 20);
	for (size_t i = 0; i < n; i++) {
		CHECK(corpus_read(names[i], ".eml", &msg) == 0);
		if (corpus_read(names[i], ".sections", &want) != 0) {
			printf("# %s.sections missing\n", names[i]);
			CHECK(!"expected sections present");
			continue;
		}
		struct mime_part *root;
		mime_parse(msg.s, msg.len, &root);
		char *save = NULL;
		for (char *line = strtok_r(want.s, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			char section[64];
			size_t wlen;
			unsigned long long whash;
			if (sscanf(line, "%63s %zu %llx", section, &wlen, &whash) != 3) {
				CHECK(!"well-formed .sections line");
				continue;
			}
			const char *s;
			size_t len;
			section_bytes(msg.s, root, section, &s, &len);
			if (len != wlen || fnv(s, len) != whash) {
				printf("# %s BODY[%s]: got %zu octets, Dovecot %zu\n", names[i],
				       section, len, wlen);
				CHECK(!"section matches Dovecot");
			}
			checked++;
		}
		mime_free(root);
	}
	CHECK(checked >= 20 * 200);
	sb_free(&msg);
	sb_free(&want);
	corpus_free(names, n);
}

static const char nested[] =
	"From: a@example.com\r\n"                                /* 0 */
	"Content-Type: multipart/mixed; boundary=\"o\"\r\n"      /* 21 */
	"\r\n"                                                   /* 66 */
	"preamble\r\n"                                           /* 68 */
	"--o\r\n"                                                /* 78 */
	"Content-Type: text/plain\r\n"                           /* 83 */
	"\r\n"                                                   /* 109 */
	"one\r\n"                                                /* 111: body "one" */
	"--o\r\n"                                                /* 116 */
	"Content-Type: message/rfc822\r\n"                       /* 121 */
	"\r\n"                                                   /* 151 */
	"Subject: inner\r\n"                                     /* 153 */
	"Content-Type: multipart/alternative; boundary=i\r\n"    /* 169 */
	"\r\n"                                                   /* 218 */
	"--i\r\n"                                                /* 220 */
	"\r\n"                                                   /* 225 */
	"plain\r\n"                                              /* 227 */
	"--i\r\n"                                                /* 234 */
	"Content-Type: text/html\r\n"                            /* 239 */
	"\r\n"                                                   /* 264 */
	"<b>x</b>\r\n"                                           /* 266 */
	"--i--\r\n"                                              /* 276 */
	"--o--\r\n"                                              /* 283 */
	"epilogue\r\n";                                          /* 290..300 */

static void test_offsets(void)
{
	struct mime_part *root;
	const char *m = nested;
	mime_parse(m, strlen(m), &root);
	CHECK(root->hdr_off == 0 && root->hdr_len == 68 && root->body_off == 68);
	CHECK(root->body_len == strlen(m) - 68);
	CHECK(root->multipart && root->nchildren == 2);
	CHECK(strcmp(root->type, "multipart") == 0 && strcmp(root->subtype, "mixed") == 0);

	const struct mime_part *one = &root->children[0];
	CHECK(one->hdr_off == 83 && one->hdr_len == 28 && one->body_off == 111);
	CHECK(one->body_len == 3 && one->body_lines == 0);

	const struct mime_part *rfc = &root->children[1];
	CHECK(rfc->hdr_off == 121 && rfc->body_off == 153);
	/* "--o--" directly follows the "--i--" line, whose line end the
	 * inner delimiter already took: the part ends right there (Dovecot) */
	CHECK(rfc->body_len == 283 - 153);
	CHECK(mime_part_is(rfc, "message", "rfc822") && rfc->message != NULL);

	const struct mime_part *inner = rfc->message;
	CHECK(inner->hdr_off == 153 && inner->body_off == 220);
	CHECK(inner->multipart && inner->nchildren == 2);
	CHECK(inner->children[0].hdr_off == 225 && inner->children[0].hdr_len == 2);
	CHECK(inner->children[0].body_off == 227 && inner->children[0].body_len == 5);
	CHECK(inner->children[1].body_off == 266 && inner->children[1].body_len == 8);
	CHECK(check_tree(m, strlen(m), root, 0, 0, strlen(m)) == 6);
	mime_free(root);
}

static void test_section_numbering(void)
{
	struct mime_part *root;
	mime_parse(nested, strlen(nested), &root);
	unsigned p1[] = { 1 }, p2[] = { 2 }, p21[] = { 2, 1 }, p22[] = { 2, 2 }, p3[] = { 3 },
		 p23[] = { 2, 3 }, p11[] = { 1, 1 }, p0[] = { 0 }, p221[] = { 2, 2, 1 },
		 p212[] = { 2, 1, 2 };
	CHECK(mime_section(root, NULL, 0) == root);
	CHECK(mime_section(root, p1, 1) == &root->children[0]);
	CHECK(mime_section(root, p2, 1) == &root->children[1]);
	/* numbers after a message/rfc822 count inside the encapsulated message */
	CHECK(mime_section(root, p21, 2) == &root->children[1].message->children[0]);
	CHECK(mime_section(root, p22, 2) == &root->children[1].message->children[1]);
	CHECK(mime_section(root, p23, 2) == NULL);
	CHECK(mime_section(root, p3, 1) == NULL);
	CHECK(mime_section(root, p0, 1) == NULL);
	/* a leaf is its own part 1, once (as in Dovecot) */
	CHECK(mime_section(root, p11, 2) == &root->children[0]);
	CHECK(mime_section(root, p221, 3) == &root->children[1].message->children[1]);
	CHECK(mime_section(root, p212, 3) == NULL);
	unsigned p111[] = { 1, 1, 1 };
	CHECK(mime_section(root, p111, 3) == NULL);
	mime_free(root);

	/* a single-part message: part 1 is its body */
	const char *plain = "Subject: x\r\n\r\nbody\r\n";
	mime_parse(plain, strlen(plain), &root);
	CHECK(mime_section(root, p1, 1) == root);
	CHECK(mime_section(root, p2, 1) == NULL);
	CHECK(mime_section(root, p11, 2) == NULL);
	CHECK(root->body_off == 14 && root->body_len == 6 && root->body_lines == 1);
	mime_free(root);
}

static void test_no_blank_line_and_empty(void)
{
	struct mime_part *root;
	const char *h = "Subject: only a header";
	mime_parse(h, strlen(h), &root);
	CHECK(root->hdr_len == strlen(h) && root->body_len == 0);
	mime_free(root);
	mime_parse("", 0, &root);
	CHECK(root->hdr_len == 0 && root->body_len == 0);
	CHECK(strcmp(root->type, "text") == 0 && strcmp(root->subtype, "plain") == 0);
	mime_free(root);
}

/* Parse every prefix of each corpus message (ASan watches the reads). */
static void test_corpus_prefixes(void)
{
	size_t n;
	char **names = corpus_list(&n);
	struct strbuf msg = STRBUF_INIT, out = STRBUF_INIT;
	for (size_t i = 0; i < n; i++) {
		CHECK(corpus_read(names[i], ".eml", &msg) == 0);
		size_t step = msg.len > 4096 ? msg.len / 512 : 1;
		for (size_t len = 0; len <= msg.len; len += step) {
			/* an exact-size copy so that a read past LEN is caught */
			char *copy = xmalloc(len ? len : 1);
			memcpy(copy, msg.s, len);
			struct mime_part *root;
			mime_parse(copy, len, &root);
			check_tree(copy, len, root, 0, 0, len);
			sb_reset(&out);
			imap_bodystructure_write(&out, copy, root, true);
			imap_envelope_write(&out, copy + root->hdr_off, root->hdr_len);
			mime_free(root);
			free(copy);
		}
	}
	sb_free(&msg);
	sb_free(&out);
	corpus_free(names, n);
}

/* Random mutations with a fixed seed: boundary lines, line ends, quotes,
 * parentheses and random octets inserted, octets deleted. */
static void test_corpus_mutations(void)
{
	static const char *const inserts[] = { "\r\n--", "\r\n", "\n", "\"", "(", ")", "\\",
					       ";", "=", "*0*=", "\r\n\r\n", ":", "<", ">",
					       "--XYZ--\r\n", "\r\n--outer\r\n", "\0" };
	size_t n;
	char **names = corpus_list(&n);
	struct strbuf msg = STRBUF_INIT, m = STRBUF_INIT, out = STRBUF_INIT;
	uint32_t seed = 12345;
	for (int round = 0; round < 3000 && n > 0; round++) {
		seed = seed * 1103515245u + 12345u;
		CHECK(corpus_read(names[(seed >> 8) % n], ".eml", &msg) == 0);
		sb_reset(&m);
		sb_add(&m, msg.s, msg.len);
		for (int k = 0; k < 8; k++) {
			seed = seed * 1103515245u + 12345u;
			size_t at = m.len ? (seed >> 4) % m.len : 0;
			unsigned what = (seed >> 24) % 20;
			struct strbuf t = STRBUF_INIT;
			sb_add(&t, m.s, at);
			if (what < 17)
				sb_add(&t, inserts[what], what == 16 ? 1 : strlen(inserts[what]));
			else if (what == 17)
				sb_addc(&t, (char)(seed >> 16));
			else if (at < m.len)
				at++; /* delete one octet */
			sb_add(&t, m.s + at, m.len - at);
			sb_free(&m);
			m = t;
		}
		char *copy = xmalloc(m.len ? m.len : 1);
		memcpy(copy, m.s, m.len);
		struct mime_part *root;
		mime_parse(copy, m.len, &root);
		check_tree(copy, m.len, root, 0, 0, m.len);
		sb_reset(&out);
		imap_bodystructure_write(&out, copy, root, true);
		imap_bodystructure_write(&out, copy, root, false);
		imap_envelope_write(&out, copy + root->hdr_off, root->hdr_len);
		mime_free(root);
		free(copy);
	}
	sb_free(&msg);
	sb_free(&m);
	sb_free(&out);
	corpus_free(names, n);
}

static unsigned tree_depth(const struct mime_part *p, const struct mime_part **deepest)
{
	unsigned d = 0;
	*deepest = p;
	while (p->nchildren > 0 || p->message) {
		p = p->message ? p->message : &p->children[p->nchildren - 1];
		*deepest = p;
		d++;
	}
	return d;
}

static void test_deep_multipart(void)
{
	/* 1,000 nested multiparts, each holding the next as its only part */
	struct strbuf s = STRBUF_INIT;
	sb_adds(&s, "MIME-Version: 1.0\r\n");
	for (int i = 0; i < 1000; i++)
		sb_printf(&s, "Content-Type: multipart/mixed; boundary=\"b%d.\"\r\n\r\n--b%d.\r\n", i, i);
	sb_adds(&s, "Content-Type: text/plain\r\n\r\nleaf\r\n");
	for (int i = 999; i >= 0; i--)
		sb_printf(&s, "--b%d.--\r\n", i);
	struct mime_part *root;
	mime_parse(s.s, s.len, &root);
	const struct mime_part *deepest;
	unsigned d = tree_depth(root, &deepest);
	CHECK(d == MIME_MAX_DEPTH - 1);
	/* the container at the limit is opaque */
	CHECK(mime_part_is(deepest, "application", "octet-stream"));
	CHECK(!deepest->multipart && deepest->nchildren == 0);
	CHECK(check_tree(s.s, s.len, root, 0, 0, s.len) == MIME_MAX_DEPTH);
	struct strbuf out = STRBUF_INIT;
	imap_bodystructure_write(&out, s.s, root, true);
	CHECK(out.len > 0 && out.s[out.len - 1] == ')');
	sb_free(&out);
	mime_free(root);
	sb_free(&s);
}

static void test_deep_rfc822(void)
{
	struct strbuf s = STRBUF_INIT;
	for (int i = 0; i < 1000; i++)
		sb_printf(&s, "Subject: level %d\r\nContent-Type: message/rfc822\r\n\r\n", i);
	sb_adds(&s, "Subject: leaf\r\n\r\nbody\r\n");
	struct mime_part *root;
	mime_parse(s.s, s.len, &root);
	const struct mime_part *deepest;
	CHECK(tree_depth(root, &deepest) == MIME_MAX_DEPTH - 1);
	CHECK(mime_part_is(deepest, "application", "octet-stream") && !deepest->message);
	struct strbuf out = STRBUF_INIT;
	imap_bodystructure_write(&out, s.s, root, true);
	CHECK(strstr(out.s, "\"level 98\"") != NULL && strstr(out.s, "\"level 99\"") != NULL);
	CHECK(strstr(out.s, "\"level 100\"") == NULL);
	sb_free(&out);
	mime_free(root);
	sb_free(&s);
}

static void test_many_parts(void)
{
	/* 100,000 tiny parts: the first MIME_MAX_PARTS - 1 become parts, the
	 * last of them holds everything after (Dovecot does the same) */
	struct strbuf s = STRBUF_INIT;
	sb_adds(&s, "Content-Type: multipart/mixed; boundary=\"p\"\r\n\r\n");
	for (int i = 0; i < 100000; i++)
		sb_printf(&s, "--p\r\n\r\n%d\r\n", i);
	sb_adds(&s, "--p--\r\n");
	struct mime_part *root;
	mime_parse(s.s, s.len, &root);
	CHECK(root->nchildren == MIME_MAX_PARTS - 1);
	const struct mime_part *last = &root->children[root->nchildren - 1];
	CHECK(last->body_off + last->body_len == s.len);
	CHECK(root->children[0].body_len == 1);
	CHECK(check_tree(s.s, s.len, root, 0, 0, s.len) == MIME_MAX_PARTS);
	mime_free(root);
	sb_free(&s);
}

static void test_huge_header_line(void)
{
	/* a 1 MB Subject and a 1 MB Content-Type parameter */
	struct strbuf s = STRBUF_INIT;
	size_t big = 1024 * 1024;
	sb_adds(&s, "Subject: ");
	sb_grow(&s, big);
	memset(s.s + s.len, 'x', big);
	s.len += big;
	sb_adds(&s, "\r\nContent-Type: text/plain; name=\"");
	sb_grow(&s, big);
	memset(s.s + s.len, 'y', big);
	s.len += big;
	sb_adds(&s, "\"\r\n\r\nbody\r\n");
	struct mime_part *root;
	mime_parse(s.s, s.len, &root);
	CHECK(root->nparams == 1 && strlen(root->params[0].value) == big);
	CHECK(root->body_len == 6);
	struct strbuf out = STRBUF_INIT;
	imap_envelope_write(&out, s.s + root->hdr_off, root->hdr_len);
	CHECK(out.len > big && strncmp(out.s, "(NIL \"xxx", 9) == 0);
	sb_reset(&out);
	imap_bodystructure_write(&out, s.s, root, true);
	CHECK(out.len > big);
	sb_free(&out);
	mime_free(root);
	sb_free(&s);
}

static void test_header_fields(void)
{
	const char h[] = "Subject:   a\r\n \tb  \r\nno colon here\r\nX-Empty: \r\n"
			 "Name : v\r\n\r\nbody";
	size_t pos = 0, len;
	struct rfc822_field f;
	char *v;

	CHECK(rfc822_header_next(h, sizeof h - 1, &pos, &f));
	CHECK(rfc822_field_is(&f, "subject") && f.raw_len == 21);
	v = rfc822_field_value(&f, &len);
	CHECK_STR(v, "a \tb  "); /* leading blanks skipped, trailing kept */
	free(v);
	v = rfc822_field_folded_value(&f, &len);
	CHECK_STR(v, "a\r\n \tb  ");
	free(v);

	CHECK(rfc822_header_next(h, sizeof h - 1, &pos, &f));
	CHECK(f.name_len == 0 && f.value_len == 13); /* no colon: no name */
	CHECK(!rfc822_field_is(&f, "no colon here"));

	CHECK(rfc822_header_next(h, sizeof h - 1, &pos, &f));
	v = rfc822_field_value(&f, &len);
	CHECK(rfc822_field_is(&f, "X-Empty") && len == 0 && v[0] == '\0');
	free(v);

	CHECK(rfc822_header_next(h, sizeof h - 1, &pos, &f));
	CHECK(rfc822_field_is(&f, "Name")); /* blanks before the colon dropped */
	CHECK(!rfc822_header_next(h, sizeof h - 1, &pos, &f)); /* blank line */

	CHECK(rfc822_header_find(h, sizeof h - 1, "NAME", &f) && f.value[1] == 'v');
	CHECK(!rfc822_header_find(h, sizeof h - 1, "body", &f));
}

int main(void)
{
	RUN(test_offsets);
	RUN(test_section_numbering);
	RUN(test_no_blank_line_and_empty);
	RUN(test_header_fields);
	RUN(test_corpus_sections);
	RUN(test_corpus_prefixes);
	RUN(test_corpus_mutations);
	RUN(test_deep_multipart);
	RUN(test_deep_rfc822);
	RUN(test_many_parts);
	RUN(test_huge_header_line);
	return unit_done();
}
