/* fuzz-sasl: lib/sasl.c — strict base64, PLAIN splitting, name checks and
 * the failure log line.
 * Properties: base64 decoding accepts only the canonical encoding
 * (encode(decode(x)) == x, "=" aside); decode(encode(x)) == x; the output
 * is NUL-terminated; a split PLAIN message has non-empty authcid and
 * passwd within their bounds and an authzid that is empty or the
 * authcid. */
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "sasl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	if (!init) {
		fuzz_env_init();
		init = true;
	}
	if (size > 8192)
		return 0;
	static unsigned char dec[8192];
	static char enc[4 * 8192 / 3 + 8];
	size_t n = 99999;
	size_t outmax = sizeof dec;
	if (size > 0 && data[0] == 'x')
		outmax = 1 + size % 7; /* exercise the TOO_LONG path */
	int r = sasl_base64_decode((const char *)data, size, dec, outmax, &n);
	FUZZ_ASSERT(r == SASL_OK || r == SASL_BAD_BASE64 || r == SASL_TOO_LONG);
	if (r == SASL_OK) {
		FUZZ_ASSERT(n < outmax && dec[n] == '\0');
		if (!(size == 1 && data[0] == '=')) {
			size_t e = sasl_base64_encode(dec, n, enc, sizeof enc);
			FUZZ_ASSERT(e == size && memcmp(enc, data, size) == 0);
		}
	}

	/* any octets survive a round trip */
	if (size <= 3 * 1000) {
		size_t e = sasl_base64_encode(data, size, enc, sizeof enc);
		FUZZ_ASSERT(e == 4 * ((size + 2) / 3) && enc[e] == '\0');
		FUZZ_ASSERT(sasl_base64_encode(data, size, enc, e) == 0);
		size_t m = 0;
		FUZZ_ASSERT(sasl_base64_decode(enc, e, dec, sizeof dec, &m) == SASL_OK);
		FUZZ_ASSERT(m == size && memcmp(dec, data, size) == 0);
	}

	/* PLAIN over the raw input */
	unsigned char *msg = malloc(size + 1);
	if (!msg)
		abort();
	memcpy(msg, data, size);
	msg[size] = '\0';
	struct sasl_plain p;
	r = sasl_plain_split(msg, size, &p);
	FUZZ_ASSERT(r <= 0 && r >= SASL_AUTHZID);
	if (r == SASL_OK) {
		FUZZ_ASSERT(p.authzid && p.authcid && p.passwd);
		size_t zl = strlen(p.authzid), cl = strlen(p.authcid), pl = strlen(p.passwd);
		FUZZ_ASSERT(cl > 0 && cl <= SASL_NAME_MAX && pl > 0 && pl <= SASL_PASS_MAX);
		FUZZ_ASSERT(zl <= SASL_NAME_MAX);
		FUZZ_ASSERT(zl == 0 || strcasecmp(p.authzid, p.authcid) == 0);
		FUZZ_ASSERT(zl + 1 + cl + 1 + pl == size);
		FUZZ_ASSERT(sasl_name_valid((const unsigned char *)p.authcid, cl));
		sasl_log_failure("fuzz", "local", p.authcid, "PLAIN", "test", 1);
	}
	free(msg);

	bool v = sasl_name_valid(data, size);
	if (v)
		FUZZ_ASSERT(size > 0 && size <= SASL_NAME_MAX && memchr(data, 0, size) == NULL);
	char *user = fuzz_strndup(data, size);
	sasl_log_failure("fuzz", "local", user, "LOGIN", "bad password", 3);
	sasl_wipe(user, size);
	free(user);
	return 0;
}
