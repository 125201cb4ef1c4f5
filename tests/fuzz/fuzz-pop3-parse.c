/* fuzz-pop3-parse: the pure parsers of postern-pop3d
 * (handlers/pop3/parse.c): message numbers and argument splitting (SASL
 * decoding is lib/sasl.c: fuzz-sasl).
 *
 * Input: byte 0 chooses min/max for the number parser; the rest is a
 * command line (cut at the first NUL).
 * Properties: a parsed number is in range and is the decimal text;
 * arguments are non-empty, space-free, inside the line, and as many as
 * the line's space-separated words. */
#include <stdio.h>
#include <string.h>

#include "fuzz.h"
#include "../../handlers/pop3/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	static const unsigned long mins[] = { 0, 1, 1, 0 };
	static const unsigned long maxs[] = { 0, 1, 65535, (unsigned long)-1 };
	size_t k = data[0] % 4;
	data++;
	size--;
	char *line = fuzz_strndup(data, size);
	size_t linelen = strlen(line);

	unsigned long v = 12345;
	if (pop3_parse_ulong(line, mins[k], maxs[k], &v)) {
		FUZZ_ASSERT(v >= mins[k] && v <= maxs[k]);
		char buf[32];
		snprintf(buf, sizeof buf, "%lu", v);
		/* digits only; leading zeros may be allowed */
		const char *l = line;
		while (l[0] == '0' && l[1])
			l++;
		FUZZ_ASSERT(strcmp(l, buf) == 0);
	}

	char *copy = fuzz_strndup(data, size);
	char *p = copy;
	char *w;
	size_t words = 0;
	while ((w = pop3_next_arg(&p)) != NULL) {
		FUZZ_ASSERT(w >= copy && w < copy + linelen);
		FUZZ_ASSERT(*w != '\0' && strchr(w, ' ') == NULL);
		FUZZ_ASSERT(++words <= linelen);
	}
	free(copy);
	size_t want = 0;
	for (size_t i = 0; i < linelen; i++)
		want += line[i] != ' ' && (i == 0 || line[i - 1] == ' ');
	FUZZ_ASSERT(words == want);
	free(line);
	return 0;
}
