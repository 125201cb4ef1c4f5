/* fuzz-imap-parser: lib/imap-parser.c fed arbitrary client bytes the way
 * handlers/imapd.c feeds it (literals accepted up to a limit, refused
 * above it; reset after each command).
 *
 * Input: byte 0 chooses the literal limit, byte 1 seeds the chunking; the
 * rest is the client's byte stream.
 * Properties:
 *  - every result leaves the parser consistent (args NUL-terminated at
 *    len; non-literal strings hold no NUL; tag NUL-terminated);
 *  - the outcome (the sequence of results with tag and args) is the same
 *    fed byte by byte and in random chunks;
 *  - the parser always makes progress;
 *  - a string argument written back with imap_quote_write parses to the
 *    same string (the server's output is valid client input);
 *  - atoms with sequence-set syntax parse with imap_seqset_parse. */
#include <string.h>

#include "fuzz.h"
#include "imap-parser.h"
#include "imap-quote.h"
#include "imap-seqset.h"
#include "strbuf.h"

static void check_seqset(const char *s, uint32_t star)
{
	if (!imap_seqset_valid(s))
		return;
	struct imap_seqset set = { 0 };
	if (imap_seqset_parse(s, star, &set) == 0) {
		for (size_t i = 0; i < set.n; i++) {
			FUZZ_ASSERT(set.r[i].lo <= set.r[i].hi);
			if (i > 0)
				FUZZ_ASSERT(set.r[i - 1].hi < set.r[i].lo);
			FUZZ_ASSERT(imap_seqset_contains(&set, set.r[i].lo));
			FUZZ_ASSERT(imap_seqset_contains(&set, set.r[i].hi));
		}
		if (set.n > 0)
			FUZZ_ASSERT(imap_seqset_max(&set) == set.r[set.n - 1].hi);
	}
	imap_seqset_free(&set);
}

/* Parse "t X <written>\r\n" and check args[1] is S again. */
static void check_quote_roundtrip(const char *s, size_t len)
{
	len = strnlen(s, len);
	struct strbuf cmd = STRBUF_INIT;
	sb_adds(&cmd, "t X ");
	imap_quote_write(&cmd, s, len);
	sb_adds(&cmd, "\r\n");
	struct imap_parser p;
	imap_parser_init(&p);
	size_t off = 0;
	enum imap_parse_result r = IMAP_PARSE_MORE;
	while (off < cmd.len) {
		size_t used = 0;
		r = imap_parser_feed(&p, cmd.s + off, cmd.len - off, &used);
		off += used;
		if (r == IMAP_PARSE_LITERAL)
			imap_parser_literal_accept(&p);
		else if (r != IMAP_PARSE_MORE)
			break;
	}
	if (r != IMAP_PARSE_DONE) {
		fprintf(stderr, "quoted form of a %zu-octet string: %s\n", len,
			p.error ? p.error : "incomplete");
		fwrite(cmd.s, 1, cmd.len, stderr);
	}
	FUZZ_ASSERT(r == IMAP_PARSE_DONE);
	FUZZ_ASSERT(off == cmd.len);
	FUZZ_ASSERT(p.nargs == 2);
	FUZZ_ASSERT(p.args[1].type == IMAP_ARG_QUOTED || p.args[1].type == IMAP_ARG_LITERAL);
	FUZZ_ASSERT(p.args[1].len == len && memcmp(p.args[1].str, s, len) == 0);
	imap_parser_free(&p);
	sb_free(&cmd);
}

static void dump_args(struct strbuf *log, const struct imap_arg *a, size_t n, uint32_t star,
		      bool deep)
{
	for (size_t i = 0; i < n; i++) {
		FUZZ_ASSERT(a[i].type == IMAP_ARG_LIST || a[i].str != NULL);
		sb_printf(log, " %d:", (int)a[i].type);
		switch (a[i].type) {
		case IMAP_ARG_LIST:
			FUZZ_ASSERT(a[i].list_n == 0 || a[i].list != NULL);
			sb_addc(log, '(');
			dump_args(log, a[i].list, a[i].list_n, star, deep);
			sb_addc(log, ')');
			break;
		case IMAP_ARG_LITERAL:
			FUZZ_ASSERT(a[i].str[a[i].len] == '\0');
			FUZZ_ASSERT(imap_arg_is_astring(&a[i]));
			sb_printf(log, "%zu:", a[i].len);
			sb_add(log, a[i].str, a[i].len);
			if (deep)
				check_quote_roundtrip(a[i].str, a[i].len);
			break;
		case IMAP_ARG_ATOM:
		case IMAP_ARG_QUOTED:
		case IMAP_ARG_NIL:
			FUZZ_ASSERT(strlen(a[i].str) == a[i].len);
			FUZZ_ASSERT(imap_arg_is_astring(&a[i]));
			sb_add(log, a[i].str, a[i].len);
			if (a[i].type == IMAP_ARG_ATOM) {
				FUZZ_ASSERT(a[i].len > 0);
				FUZZ_ASSERT(imap_arg_atom_eq(&a[i], a[i].str));
				if (deep)
					check_seqset(a[i].str, star);
			}
			if (deep && a[i].type != IMAP_ARG_NIL)
				check_quote_roundtrip(a[i].str, a[i].len);
			break;
		}
	}
}

/* Run the parser over IN; CHUNK 0 picks random chunk sizes from SEED. */
static void run(const uint8_t *in, size_t len, size_t chunk, unsigned seed, uint64_t maxlit,
		bool deep, struct strbuf *log)
{
	struct imap_parser p;
	imap_parser_init(&p);
	size_t off = 0;
	unsigned stuck = 0;
	while (off < len) {
		size_t n = chunk;
		if (n == 0) {
			seed = seed * 1103515245u + 12345u;
			n = 1 + (seed >> 16) % 64;
		}
		if (n > len - off)
			n = len - off;
		size_t used = 12345678;
		enum imap_parse_result r = imap_parser_feed(&p, in + off, n, &used);
		FUZZ_ASSERT(used <= n);
		off += used;
		FUZZ_ASSERT(strlen(p.tag) <= IMAP_PARSER_TAG_MAX);
		switch (r) {
		case IMAP_PARSE_MORE:
			FUZZ_ASSERT(used == n);
			break;
		case IMAP_PARSE_LITERAL:
			sb_printf(log, "LIT %s %llu %d|", p.tag, (unsigned long long)p.literal_size,
				  (int)p.literal_sync);
			if (p.literal_size <= maxlit)
				imap_parser_literal_accept(&p);
			else
				imap_parser_literal_refuse(&p);
			break;
		case IMAP_PARSE_DONE:
			FUZZ_ASSERT(p.nargs <= IMAP_PARSER_ARGS_MAX);
			sb_printf(log, "DONE %s", p.tag);
			dump_args(log, p.args, p.nargs, (uint32_t)seed, deep);
			sb_addc(log, '|');
			imap_parser_reset(&p);
			FUZZ_ASSERT(imap_parser_idle(&p));
			break;
		case IMAP_PARSE_ERROR:
			FUZZ_ASSERT(p.error != NULL);
			sb_printf(log, "ERR %s %s|", p.tag, p.error);
			break;
		default:
			FUZZ_ASSERT(!"unknown result");
		}
		/* results without input happen, but never many in a row */
		stuck = used ? 0 : stuck + 1;
		FUZZ_ASSERT(stuck < 4);
	}
	imap_parser_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	static const uint64_t limits[] = { 0, 1, 5, 100, 4096, 65536, UINT64_MAX };
	uint64_t maxlit = limits[data[0] % (sizeof limits / sizeof limits[0])];
	unsigned seed = data[1];
	data += 2;
	size -= 2;

	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	run(data, size, 0, seed, maxlit, true, &a);
	run(data, size, 1, seed, maxlit, false, &b);
	if (a.len != b.len || (a.len && memcmp(a.s, b.s, a.len) != 0)) {
		fprintf(stderr, "chunked: %.*s\nbytewise: %.*s\n", (int)a.len, a.s, (int)b.len, b.s);
		FUZZ_ASSERT(!"same outcome in chunks and byte by byte");
	}
	sb_free(&a);
	sb_free(&b);
	return 0;
}
