/* fuzz-mutf7: modified UTF-7 mailbox names (lib/mutf7.c).
 * Properties: mutf7_valid agrees with mutf7_to_utf8; the decoded name is
 * well-formed UTF-8 with no NUL; a name without '&' decodes to itself;
 * "&-" is the only way to write '&'. */
#include <string.h>

#include "fuzz.h"
#include "mutf7.h"
#include "smtp-path.h"
#include "strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	char *name = fuzz_strndup(data, size);
	struct strbuf out = STRBUF_INIT;
	sb_adds(&out, "pre");
	int r = mutf7_to_utf8(name, &out);
	FUZZ_ASSERT(r == 0 || r == -1);
	FUZZ_ASSERT(mutf7_valid(name) == (r == 0));
	FUZZ_ASSERT(out.len >= 3 && memcmp(out.s, "pre", 3) == 0);
	if (r == 0) {
		const char *u = out.s + 3;
		size_t ulen = out.len - 3;
		FUZZ_ASSERT(memchr(u, '\0', ulen) == NULL);
		FUZZ_ASSERT(smtp_utf8_valid((const unsigned char *)u, ulen));
		for (const char *c = name; *c; c++)
			FUZZ_ASSERT((unsigned char)*c >= 0x20 && (unsigned char)*c <= 0x7e);
		if (!strchr(name, '&'))
			FUZZ_ASSERT(ulen == strlen(name) && memcmp(u, name, ulen) == 0);
		/* 8 base64 characters carry 3 UTF-16 units at most: UTF-8 of a
		 * BMP character is 3 octets, so output grows by 9/8 at most */
		FUZZ_ASSERT(ulen <= strlen(name) + strlen(name) / 8 + 3);
	}
	sb_free(&out);
	free(name);
	return 0;
}
