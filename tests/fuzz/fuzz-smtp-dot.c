/* fuzz-smtp-dot: the DATA/BDAT byte state machine lib/smtp-dot.c, fed in
 * random chunks.
 *
 * Input: byte 0 picks the mode and the size limit, byte 1 seeds the
 * chunking; the rest is what the client sends after DATA (or in BDAT
 * chunks).
 * Properties (DATA): it stops exactly after the first <CRLF>.<CRLF>
 * (counting the DATA command's CRLF) and never elsewhere; a bare LF or
 * CR makes the message bad; a good message is exactly the dot-unstuffed
 * lines; size counts the decoded octets. (BDAT): everything is used and a
 * good message is the input itself. */
#include <string.h>

#include "fuzz.h"
#include "smtp-dot.h"
#include "strbuf.h"

static void sink(void *ctx, const void *buf, size_t len)
{
	FUZZ_ASSERT(len > 0);
	sb_add(ctx, buf, len);
}

/* Index just past the first "\r\n.\r\n" in "\r\n" + IN, as an offset into
 * IN; 0 when there is none. */
static size_t terminator_end(const uint8_t *in, size_t len)
{
	if (len >= 3 && memcmp(in, ".\r\n", 3) == 0)
		return 3;
	for (size_t i = 0; i + 5 <= len; i++)
		if (memcmp(in + i, "\r\n.\r\n", 5) == 0)
			return i + 5;
	return 0;
}

/* A bare CR (also one at the very end: smtp_dot_end counts it) or LF. */
static bool has_bare(const uint8_t *in, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (in[i] == '\n' && (i == 0 || in[i - 1] != '\r'))
			return true;
		if (in[i] == '\r' && (i + 1 == len || in[i + 1] != '\n'))
			return true;
	}
	return false;
}

/* The dot-unstuffed content of IN[0..len) (which ends with ".\r\n"). */
static void unstuff(const uint8_t *in, size_t len, struct strbuf *out)
{
	size_t i = 0;
	len -= 3; /* the final ".\r\n" */
	while (i < len) {
		if (in[i] == '.')
			i++;
		while (i < len && in[i] != '\n')
			sb_addc(out, (char)in[i++]);
		if (i < len)
			sb_addc(out, (char)in[i++]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	static const size_t limits[] = { 0, 0, 1, 10, 100, 8191, 8192, 8193 };
	bool data_mode = !(data[0] & 1);
	size_t max = limits[(data[0] >> 1) % (sizeof limits / sizeof limits[0])];
	unsigned seed = data[1];
	data += 2;
	size -= 2;

	struct strbuf out = STRBUF_INIT;
	struct smtp_dot d;
	smtp_dot_init(&d, data_mode ? SMTP_DOT_DATA : SMTP_DOT_CHUNK, max, sink, &out);
	size_t off = 0;
	while (off < size && !d.done) {
		seed = seed * 1103515245u + 12345u;
		size_t n = 1 + (seed >> 16) % (seed & 0x100 ? 3 : 20000);
		if (n > size - off)
			n = size - off;
		size_t used = smtp_dot_feed(&d, data + off, n);
		FUZZ_ASSERT(used <= n);
		if (!d.done)
			FUZZ_ASSERT(used == n);
		off += used;
	}
	smtp_dot_end(&d);

	if (data_mode) {
		size_t end = terminator_end(data, size);
		FUZZ_ASSERT(d.done == (end != 0));
		if (d.done)
			FUZZ_ASSERT(off == end);
		else
			FUZZ_ASSERT(off == size);
	} else {
		FUZZ_ASSERT(!d.done);
		FUZZ_ASSERT(off == size);
	}
	/* the octets the decoder used, as one string */
	const uint8_t *used = data;
	size_t ulen = off;
	/* a bare CR or LF always makes the message bad */
	if (has_bare(used, ulen))
		FUZZ_ASSERT(!smtp_dot_ok(&d));
	if (max && d.size > max)
		FUZZ_ASSERT(d.too_big);
	if (smtp_dot_ok(&d)) {
		FUZZ_ASSERT(!has_bare(used, ulen));
		struct strbuf want = STRBUF_INIT;
		if (data_mode && d.done)
			unstuff(used, ulen, &want);
		else if (!data_mode)
			sb_add(&want, used, ulen);
		if (data_mode && !d.done) {
			/* unfinished DATA: no claim on the content beyond size */
			FUZZ_ASSERT(out.len <= ulen);
		} else {
			bool same = out.len == want.len && (out.len == 0 || memcmp(out.s, want.s, out.len) == 0);
			if (!same)
				fprintf(stderr, "decoded %zu octets, expected %zu\n", out.len, want.len);
			FUZZ_ASSERT(same);
		}
		FUZZ_ASSERT(d.size == out.len);
		if (max)
			FUZZ_ASSERT(out.len <= max);
		sb_free(&want);
	}
	sb_free(&out);
	return 0;
}
