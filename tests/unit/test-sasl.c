/* lib/sasl.c: strict base64, the PLAIN message, the failure log line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sasl.h"
#include "unit.h"

struct b64vec {
	const char *in;
	int rc;
	const char *out; /* expected octets (when rc == 0) */
	size_t outlen;
};

static const struct b64vec b64vecs[] = {
	{ "", SASL_OK, "", 0 },
	{ "=", SASL_OK, "", 0 }, /* RFC 4954 empty response */
	{ "Zg==", SASL_OK, "f", 1 },
	{ "Zm8=", SASL_OK, "fo", 2 },
	{ "Zm9v", SASL_OK, "foo", 3 },
	{ "Zm9vYmFy", SASL_OK, "foobar", 6 },
	{ "AGFsaWNlAHNlY3JldA==", SASL_OK, "\0alice\0secret", 13 },
	{ "+/+/", SASL_OK, "\xfb\xff\xbf", 3 },
	{ "Zg", SASL_BAD_BASE64, NULL, 0 },       /* no padding */
	{ "Zg=", SASL_BAD_BASE64, NULL, 0 },      /* short padding */
	{ "Zh==", SASL_BAD_BASE64, NULL, 0 },     /* unused bits set */
	{ "Zm9=", SASL_BAD_BASE64, NULL, 0 },     /* unused bits set */
	{ "Z===", SASL_BAD_BASE64, NULL, 0 },     /* too much padding */
	{ "====", SASL_BAD_BASE64, NULL, 0 },
	{ "Zg==Zg==", SASL_BAD_BASE64, NULL, 0 }, /* padding in the middle */
	{ "Z=g=", SASL_BAD_BASE64, NULL, 0 },
	{ "Zm9v YmFy", SASL_BAD_BASE64, NULL, 0 }, /* white space */
	{ "Zm9v\r\n", SASL_BAD_BASE64, NULL, 0 },
	{ "Zm9-", SASL_BAD_BASE64, NULL, 0 },     /* base64url alphabet */
	{ "Zm9_", SASL_BAD_BASE64, NULL, 0 },
	{ "*", SASL_BAD_BASE64, NULL, 0 },
	{ "==", SASL_BAD_BASE64, NULL, 0 },
	{ "Zm9v\xc3\xa9", SASL_BAD_BASE64, NULL, 0 },
};

static void test_base64_vectors(void)
{
	for (size_t i = 0; i < sizeof b64vecs / sizeof b64vecs[0]; i++) {
		const struct b64vec *v = &b64vecs[i];
		unsigned char out[64];
		size_t n = 99;
		int rc = sasl_base64_decode(v->in, strlen(v->in), out, sizeof out, &n);
		if (rc != v->rc) {
			printf("# vector %zu \"%s\": rc %d, want %d\n", i, v->in, rc, v->rc);
			CHECK(rc == v->rc);
			continue;
		}
		if (rc == SASL_OK) {
			CHECK(n == v->outlen);
			CHECK(memcmp(out, v->out, v->outlen) == 0);
			CHECK(out[n] == '\0');
		}
	}
}

static void test_base64_embedded_nul_input(void)
{
	/* the line may hold a NUL; it is no base64 digit */
	unsigned char out[16];
	size_t n;
	CHECK(sasl_base64_decode("Zm\0v", 4, out, sizeof out, &n) == SASL_BAD_BASE64);
}

static void test_base64_bounds(void)
{
	unsigned char out[4];
	size_t n;
	/* 3 octets + NUL fit in 4; 4 octets do not */
	CHECK(sasl_base64_decode("Zm9v", 4, out, sizeof out, &n) == SASL_OK && n == 3);
	CHECK(sasl_base64_decode("Zm9vYg==", 8, out, sizeof out, &n) == SASL_TOO_LONG);
	CHECK(sasl_base64_decode("Zm9v", 4, out, 0, &n) == SASL_TOO_LONG);
	/* a long input never writes past outmax */
	char big[4097];
	memset(big, 'A', 4096);
	big[4096] = '\0';
	unsigned char guard[8] = { 0 };
	memset(guard + 4, 0x55, 4);
	CHECK(sasl_base64_decode(big, 4096, guard, 4, &n) == SASL_TOO_LONG);
	CHECK(guard[4] == 0x55 && guard[7] == 0x55);
}

static void test_base64_roundtrip(void)
{
	unsigned char in[256], back[300];
	char enc[400];
	for (size_t i = 0; i < sizeof in; i++)
		in[i] = (unsigned char)(i * 7 + 3);
	for (size_t len = 0; len <= sizeof in; len++) {
		size_t e = sasl_base64_encode(in, len, enc, sizeof enc);
		CHECK(e == (len + 2) / 3 * 4);
		size_t n = 0;
		CHECK(sasl_base64_decode(enc, e, back, sizeof back, &n) == SASL_OK);
		CHECK(n == len && memcmp(in, back, len) == 0);
	}
	CHECK(sasl_base64_encode("Username:", 9, enc, sizeof enc) == 12);
	CHECK_STR(enc, "VXNlcm5hbWU6");
	CHECK(sasl_base64_encode("abc", 3, enc, 4) == 0); /* no room for the NUL */
	CHECK(sasl_base64_encode("abc", 3, enc, 5) == 4);
}

/* Split a PLAIN message given as octets. */
static int split(const char *msg, size_t len, struct sasl_plain *p, unsigned char *buf)
{
	memcpy(buf, msg, len);
	buf[len] = '\0';
	return sasl_plain_split(buf, len, p);
}

static void test_plain_split(void)
{
	unsigned char buf[SASL_PLAIN_MAX + 64];
	struct sasl_plain p;
	CHECK(split("\0alice\0secret", 13, &p, buf) == SASL_OK);
	CHECK_STR(p.authzid, "");
	CHECK_STR(p.authcid, "alice");
	CHECK_STR(p.passwd, "secret");
	CHECK(split("alice\0alice\0pw", 14, &p, buf) == SASL_OK);
	CHECK_STR(p.authzid, "alice");
	CHECK(split("ALICE\0alice\0pw", 14, &p, buf) == SASL_OK); /* names are case-insensitive */
	CHECK(split("\0alice\0pass word", 16, &p, buf) == SASL_OK);
	CHECK_STR(p.passwd, "pass word");
}

static void test_plain_malformed(void)
{
	unsigned char buf[SASL_PLAIN_MAX + 64];
	struct sasl_plain p;
	CHECK(split("", 0, &p, buf) == SASL_MALFORMED);
	CHECK(split("alicesecret", 11, &p, buf) == SASL_MALFORMED);       /* no NUL */
	CHECK(split("alice\0secret", 12, &p, buf) == SASL_MALFORMED);     /* one NUL */
	CHECK(split("\0alice\0sec\0ret", 14, &p, buf) == SASL_MALFORMED); /* NUL in password */
	CHECK(split("\0\0secret", 8, &p, buf) == SASL_MALFORMED);         /* empty authcid */
	CHECK(split("\0alice\0", 7, &p, buf) == SASL_MALFORMED);          /* empty password */
	CHECK(split("\0\0", 2, &p, buf) == SASL_MALFORMED);
	CHECK(split("bob\0alice\0secret", 16, &p, buf) == SASL_AUTHZID);
	CHECK(split("alicex\0alice\0secret", 19, &p, buf) == SASL_AUTHZID);
}

static void test_plain_too_long(void)
{
	unsigned char *buf = malloc(SASL_PLAIN_MAX + 64);
	char *msg = malloc(SASL_PLAIN_MAX + 64);
	struct sasl_plain p;
	/* authcid of SASL_NAME_MAX is fine, one more is not */
	msg[0] = '\0';
	memset(msg + 1, 'a', SASL_NAME_MAX);
	msg[1 + SASL_NAME_MAX] = '\0';
	msg[2 + SASL_NAME_MAX] = 'p';
	CHECK(split(msg, 3 + SASL_NAME_MAX, &p, buf) == SASL_OK);
	memset(msg + 1, 'a', SASL_NAME_MAX + 1);
	msg[2 + SASL_NAME_MAX] = '\0';
	msg[3 + SASL_NAME_MAX] = 'p';
	CHECK(split(msg, 4 + SASL_NAME_MAX, &p, buf) == SASL_TOO_LONG);
	/* password bound */
	memcpy(msg, "\0a\0", 3);
	memset(msg + 3, 'p', SASL_PASS_MAX);
	CHECK(split(msg, 3 + SASL_PASS_MAX, &p, buf) == SASL_OK);
	memset(msg + 3, 'p', SASL_PASS_MAX + 1);
	CHECK(split(msg, 4 + SASL_PASS_MAX, &p, buf) == SASL_TOO_LONG);
	free(buf);
	free(msg);
}

static void test_name_valid(void)
{
	CHECK(sasl_name_valid((const unsigned char *)"alice", 5));
	CHECK(!sasl_name_valid((const unsigned char *)"", 0));
	CHECK(!sasl_name_valid((const unsigned char *)"al\0ce", 5));
}

/* The log line goes to stderr (POSTERN_LOG=stderr): catch it in a file. */
static void test_log_failure_escapes(void)
{
	char path[512];
	snprintf(path, sizeof path, "%s/log", unit_tmpdir());
	fflush(stderr);
	int saved = dup(2);
	FILE *f = freopen(path, "w", stderr);
	CHECK(f != NULL);
	sasl_log_failure("smtp", "203.0.113.5", "ev il\n peer=1.2.3.4 \"x\\=", "PLAIN",
			 "bad-password", 2);
	sasl_log_failure("smtp", "203.0.113.5", NULL, "LOGIN", "bad-base64", 1);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	FILE *in = fopen(path, "r");
	char line[1024] = "", line2[1024] = "", line3[1024] = "";
	CHECK(in && fgets(line, sizeof line, in));
	CHECK(in && fgets(line2, sizeof line2, in));
	CHECK(!in || !fgets(line3, sizeof line3, in)); /* exactly two lines */
	if (in)
		fclose(in);
	CHECK(strstr(line, "auth failed: proto=smtp peer=203.0.113.5 "
			   "user=ev\\x20il\\x0a\\x20peer\\x3d1.2.3.4\\x20\\x22x\\x5c\\x3d "
			   "mech=PLAIN reason=bad-password failures=2\n") != NULL);
	CHECK(strstr(line2, "auth failed: proto=smtp peer=203.0.113.5 user=- mech=LOGIN "
			    "reason=bad-base64 failures=1\n") != NULL);
}

int main(void)
{
	setenv("POSTERN_LOG", "stderr", 1);
	log_init("test");
	RUN(test_base64_vectors);
	RUN(test_base64_embedded_nul_input);
	RUN(test_base64_bounds);
	RUN(test_base64_roundtrip);
	RUN(test_plain_split);
	RUN(test_plain_malformed);
	RUN(test_plain_too_long);
	RUN(test_name_valid);
	RUN(test_log_failure_escapes);
	return unit_done();
}
