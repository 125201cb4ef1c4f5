/* fuzz-smtp-path: lib/smtp-path.c — the text after MAIL FROM: / RCPT TO:
 * (path and ESMTP parameters), EHLO names and UTF-8 validation.
 *
 * Input: byte 0 holds the flags (SMTP_PATH_*); the rest is the argument
 * text (cut at the first NUL, as a command line would be).
 * Properties: results are NUL-terminated within their RFC bounds; the
 * parameters pointer lies inside the input; a parsed mailbox written back
 * as "<addr>" parses to the same local part, domain and address; the
 * parameter loop always advances and upper-cases keywords. */
#include <ctype.h>
#include <string.h>

#include "fuzz.h"
#include "smtp-path.h"

static void check_path(const char *s, unsigned flags, const struct smtp_path *p,
		       const char *params)
{
	size_t slen = strlen(s);
	FUZZ_ASSERT(params >= s && params <= s + slen);
	FUZZ_ASSERT(strlen(p->local) <= SMTP_LOCAL_MAX);
	FUZZ_ASSERT(strlen(p->domain) <= SMTP_DOMAIN_MAX);
	FUZZ_ASSERT(strlen(p->addr) <= SMTP_PATH_MAX);
	if (p->null) {
		FUZZ_ASSERT(flags & SMTP_PATH_NULL_OK);
		FUZZ_ASSERT(p->addr[0] == '\0');
		return;
	}
	FUZZ_ASSERT(p->addr[0] != '\0');
	if (p->domain[0] == '\0')
		FUZZ_ASSERT(flags & SMTP_PATH_POSTMASTER_OK);
	if (!p->non_ascii)
		for (const char *c = p->addr; *c; c++)
			FUZZ_ASSERT((unsigned char)*c < 0x80);
	FUZZ_ASSERT(smtp_utf8_valid((const unsigned char *)p->addr, strlen(p->addr)));

	/* round trip: "<addr>" gives the same mailbox */
	char again[SMTP_PATH_MAX + 8];
	snprintf(again, sizeof again, "<%s>", p->addr);
	struct smtp_path q;
	const char *qparams = NULL;
	int r = smtp_path_parse(again, flags, &q, &qparams);
	if (r != 0)
		fprintf(stderr, "input [%s] gave addr [%s] which does not parse\n", s, p->addr);
	FUZZ_ASSERT(r == 0);
	FUZZ_ASSERT(!q.null);
	FUZZ_ASSERT(*qparams == '\0');
	FUZZ_ASSERT(strcmp(q.local, p->local) == 0);
	FUZZ_ASSERT(strcmp(q.domain, p->domain) == 0);
	FUZZ_ASSERT(strcmp(q.addr, p->addr) == 0);
	FUZZ_ASSERT(q.quoted == p->quoted && q.literal == p->literal && q.non_ascii == p->non_ascii);
}

static void check_params(const char *params)
{
	const char *s = params;
	char kw[64], val[512];
	bool has_value;
	int r;
	unsigned n = 0;
	while ((r = smtp_param_next(&s, kw, sizeof kw, val, sizeof val, &has_value)) > 0) {
		FUZZ_ASSERT(r == 1);
		FUZZ_ASSERT(kw[0] != '\0' && strlen(kw) < sizeof kw);
		for (const char *c = kw; *c; c++)
			FUZZ_ASSERT(!islower((unsigned char)*c));
		if (has_value)
			FUZZ_ASSERT(val[0] != '\0' && strlen(val) < sizeof val);
		FUZZ_ASSERT(s > params && s <= params + strlen(params));
		FUZZ_ASSERT(++n <= strlen(params));
	}
	FUZZ_ASSERT(r == 0 || r == -1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 4096)
		return 0;
	unsigned flags = data[0] & (SMTP_PATH_NULL_OK | SMTP_PATH_POSTMASTER_OK);
	char *s = fuzz_strndup(data + 1, size - 1);

	struct smtp_path p;
	memset(&p, 0x5a, sizeof p);
	const char *params = NULL;
	if (smtp_path_parse(s, flags, &p, &params) == 0) {
		check_path(s, flags, &p, params);
		check_params(params);
	}
	check_params(s);
	if (smtp_helo_valid(s))
		FUZZ_ASSERT(strlen(s) <= 255);
	(void)smtp_utf8_valid(data + 1, size - 1);
	free(s);
	return 0;
}
