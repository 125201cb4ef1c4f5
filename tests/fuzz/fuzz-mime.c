/* fuzz-mime: the MIME / RFC 5322 parser lib/mime.c and what formats its
 * tree for IMAP: ENVELOPE (lib/imap-envelope.c), BODY and BODYSTRUCTURE
 * (lib/imap-bodystructure.c), and section look-ups (mime_section).
 *
 * Input: byte 0 gives the number of section numbers (0..7) that follow,
 * one byte each (0 becomes a large number); the rest is the message.
 * Properties: every part's header and body lie inside the message and
 * inside its parent; type and subtype are never NULL; a section is a part
 * of the tree; the formatted ENVELOPE, BODY and BODYSTRUCTURE are each
 * one well-formed parenthesised list of IMAP server data. */
#include <string.h>

#include "fuzz.h"
#include "imap-bodystructure.h"
#include "imap-envelope.h"
#include "mime.h"
#include "strbuf.h"

static size_t msg_len;

/* Check PART (inside [lo, hi)); return the depth of the tree below it. */
static size_t check_part(const struct mime_part *part, size_t lo, size_t hi, size_t *count)
{
	FUZZ_ASSERT(++*count <= 4 * MIME_MAX_PARTS);
	FUZZ_ASSERT(part->hdr_off >= lo && part->hdr_len <= hi - part->hdr_off);
	FUZZ_ASSERT(part->body_off >= part->hdr_off + part->hdr_len);
	FUZZ_ASSERT(part->body_off <= hi && part->body_len <= hi - part->body_off);
	FUZZ_ASSERT(part->type != NULL && part->subtype != NULL);
	FUZZ_ASSERT(part->nparams == 0 || part->params != NULL);
	for (size_t i = 0; i < part->nparams; i++)
		FUZZ_ASSERT(part->params[i].name && part->params[i].value);
	for (size_t i = 0; i < part->ndisp_params; i++)
		FUZZ_ASSERT(part->disp_params[i].name && part->disp_params[i].value);
	for (size_t i = 0; i < part->nlanguages; i++)
		FUZZ_ASSERT(part->languages[i] != NULL);
	FUZZ_ASSERT(!(part->message && part->multipart));
	if (!part->multipart)
		FUZZ_ASSERT(part->nchildren == 0);
	size_t depth = 0;
	size_t end = part->body_off + part->body_len;
	for (size_t i = 0; i < part->nchildren; i++) {
		size_t d = check_part(&part->children[i], part->body_off, end, count);
		if (d > depth)
			depth = d;
	}
	if (part->message) {
		FUZZ_ASSERT(part->message->hdr_off == part->body_off);
		size_t d = check_part(part->message, part->body_off, end, count);
		if (d > depth)
			depth = d;
	}
	return depth + 1;
}

static bool in_tree(const struct mime_part *root, const struct mime_part *p)
{
	if (root == p)
		return true;
	for (size_t i = 0; i < root->nchildren; i++)
		if (in_tree(&root->children[i], p))
			return true;
	return root->message && in_tree(root->message, p);
}

/* OUT must be exactly one parenthesised list in the syntax of IMAP server
 * data (RFC 3501 §9): NIL, atoms/numbers, quoted strings (no CR, LF or
 * NUL; only \" and \\ escaped), literals {n}CRLF + n octets, nested lists;
 * elements separated by one space, except that lists may follow each
 * other without one (address lists: "((...)(...))"). */
static void check_imap_list(const struct strbuf *out, const char *what)
{
	const unsigned char *s = (const unsigned char *)out->s;
	size_t len = out->len, i = 0;
	size_t depth = 0;
	const char *why = NULL;
	bool need_sep = false; /* an element just ended */
	bool after_list = false;
	while (i < len && !why) {
		unsigned char c = s[i];
		if (c == ')') {
			if (depth == 0) {
				why = "unbalanced ')'";
				break;
			}
			depth--;
			i++;
			need_sep = true;
			after_list = true;
			if (depth == 0 && i != len)
				why = "data after the list";
			continue;
		}
		if (need_sep) {
			if (c == ' ') {
				i++;
				need_sep = false;
				after_list = false;
				if (i == len || s[i] == ' ' || s[i] == ')')
					why = "stray space";
				continue;
			}
			if (!(c == '(' && after_list)) {
				why = "missing space between elements";
				break;
			}
		}
		if (i == 0 && c != '(') {
			why = "not a list";
			break;
		}
		need_sep = true;
		after_list = false;
		if (c == '(') {
			depth++;
			i++;
			need_sep = false;
			after_list = false;
		} else if (c == '"') {
			for (i++; i < len && s[i] != '"'; i++) {
				if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0' || s[i] >= 0x80) {
					why = "bad octet in quoted string";
					break;
				}
				if (s[i] == '\\') {
					if (i + 1 >= len || (s[i + 1] != '"' && s[i + 1] != '\\')) {
						why = "bad escape in quoted string";
						break;
					}
					i++;
				}
			}
			if (!why && i >= len)
				why = "unterminated quoted string";
			i++;
		} else if (c == '{') {
			size_t n = 0, d = 0;
			for (i++; i < len && s[i] >= '0' && s[i] <= '9' && d < 12; i++, d++)
				n = n * 10 + (size_t)(s[i] - '0');
			if (d == 0 || i + 3 > len || s[i] != '}' || s[i + 1] != '\r' || s[i + 2] != '\n') {
				why = "bad literal header";
				break;
			}
			i += 3;
			if (n > len - i) {
				why = "literal longer than the data";
				break;
			}
			i += n;
		} else {
			/* atom: ATOM-CHAR, plus '\' for flags and ']' for "BODY[...]" */
			size_t start = i;
			while (i < len && s[i] > ' ' && s[i] < 0x7f && !strchr("(){\"%*", s[i]))
				i++;
			if (i == start)
				why = "bad octet outside strings";
		}
	}
	if (!why && depth != 0)
		why = "unclosed '('";
	if (!why && len == 0)
		why = "empty";
	if (why)
		fprintf(stderr, "%s is not one IMAP list (%s at %zu): %.*s\n", what, why, i,
			(int)len, out->s);
	FUZZ_ASSERT(why == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t depth = data[0] % 8;
	if (size < 1 + depth)
		return 0;
	unsigned path[8];
	for (size_t i = 0; i < depth; i++)
		path[i] = data[1 + i] ? data[1 + i] : 100000u + data[0];
	size_t off = 1 + depth;
	/* the message in a buffer of its own size, so ASan sees overreads */
	msg_len = size - off;
	char *msg = malloc(msg_len ? msg_len : 1);
	if (!msg)
		abort();
	memcpy(msg, data + off, msg_len);

	struct mime_part *root = NULL;
	FUZZ_ASSERT(mime_parse(msg, msg_len, &root) == 0);
	FUZZ_ASSERT(root != NULL && root->hdr_off == 0);
	size_t count = 0;
	size_t tree_depth = check_part(root, 0, msg_len, &count);

	const struct mime_part *sec = mime_section(root, path, depth);
	if (depth == 0)
		FUZZ_ASSERT(sec == root);
	if (sec)
		FUZZ_ASSERT(in_tree(root, sec));
	/* one number: a child of a multipart root, else part 1 is the root */
	for (unsigned k = 1; k <= 3; k++) {
		const struct mime_part *c = mime_section(root, &k, 1);
		if (root->multipart)
			FUZZ_ASSERT(c == (k <= root->nchildren ? &root->children[k - 1] : NULL));
		else
			FUZZ_ASSERT(c == (k == 1 ? root : NULL));
	}
	(void)mime_part_is(root, "multipart", NULL);
	(void)mime_part_is(root, "text", "plain");

	struct strbuf out = STRBUF_INIT;
	imap_envelope_write(&out, msg + root->hdr_off, root->hdr_len);
	check_imap_list(&out, "ENVELOPE");
	if (sec && sec->message) {
		sb_reset(&out);
		imap_envelope_write(&out, msg + sec->message->hdr_off, sec->message->hdr_len);
		check_imap_list(&out, "ENVELOPE of a section");
	}
	/* containers nested deeper than MIME_MAX_DEPTH are left opaque */
	FUZZ_ASSERT(tree_depth <= MIME_MAX_DEPTH + 2);
	sb_reset(&out);
	imap_bodystructure_write(&out, msg, root, false);
	check_imap_list(&out, "BODY");
	sb_reset(&out);
	imap_bodystructure_write(&out, msg, root, true);
	check_imap_list(&out, "BODYSTRUCTURE");
	if (sec) {
		sb_reset(&out);
		imap_bodystructure_write(&out, msg, sec, true);
		check_imap_list(&out, "BODYSTRUCTURE of a section");
	}
	sb_free(&out);
	mime_free(root);
	free(msg);
	return 0;
}
