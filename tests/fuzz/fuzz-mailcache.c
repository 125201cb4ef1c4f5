/* fuzz-mailcache: the per-mailbox cache file (lib/mailcache.c) read from
 * arbitrary bytes, then written and read back.
 *
 * Input: byte 0 picks the UIDVALIDITY to open with (12345, the seeds',
 * or, for 0xff, 777; the uid list file agrees with it); the rest is
 * DIR/postern-cache.
 * Properties: opening never fails; an entry found is the one asked for
 * (uid and base) with NUL-terminated strings of the stated lengths;
 * whatever the file held, an entry put and flushed is read back intact by
 * a fresh open (the damaged file is replaced). Records are checksummed,
 * so mutations mostly exercise the header and record framing.
 *
 * POSTERN_FUZZ_SAVE=FILE (replay only) copies the cache file written for
 * the input to FILE: how the seeds were made. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "mailcache.h"

#define UV 12345u

static void base_of(uint32_t uid, char *out, size_t outlen)
{
	snprintf(out, outlen, "1700000000.M%06uP42Q%u.host,S=%u", uid * 7u, uid, 100u + uid);
}

static void check_entry(const struct mailcache_entry *e, uint32_t uid, const char *base)
{
	FUZZ_ASSERT(e->uid == uid);
	FUZZ_ASSERT(e->baselen == strlen(base) && memcmp(e->base, base, e->baselen) == 0);
	FUZZ_ASSERT(e->envelope && e->envelope[e->envelope_len] == '\0');
	FUZZ_ASSERT(e->body && e->body[e->body_len] == '\0');
	FUZZ_ASSERT(e->bodystructure && e->bodystructure[e->bodystructure_len] == '\0');
	FUZZ_ASSERT(e->size >= 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	if (!init) {
		fuzz_env_init();
		init = true;
	}
	if (size < 1)
		return 0;
	/* byte 0 0xff: the mailbox moved on to another UIDVALIDITY (the uid
	 * list says so), so a cache file of the old one must be replaced */
	uint32_t uv = data[0] == 0xff ? 777u : UV;
	const char *dir = fuzz_tmpdir();
	char uidlist[64];
	int ul = snprintf(uidlist, sizeof uidlist, "V1 %u 100\n", uv);
	fuzz_tmpfile("postern-uidlist", (const uint8_t *)uidlist, (size_t)ul);
	fuzz_tmpfile("postern-cache", data + 1, size - 1);

	struct mailcache *c = mailcache_open(dir, uv);
	FUZZ_ASSERT(c != NULL);
	char base[128];
	for (uint32_t uid = 1; uid <= 6; uid++) {
		base_of(uid, base, sizeof base);
		const struct mailcache_entry *e = mailcache_get(c, uid, base, strlen(base));
		if (e)
			check_entry(e, uid, base);
		/* another base for the same uid never matches */
		FUZZ_ASSERT(mailcache_get(c, uid, "other", 5) == NULL);
	}
	struct mailcache_stats st;
	mailcache_get_stats(c, &st);

	/* put three entries, one of them in place of a cached one */
	static const char env[] = "(\"Mon, 1 Jan 2024 00:00:00 +0000\" \"hi\" NIL NIL NIL NIL NIL NIL NIL NIL)";
	static const char body[] = "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 3 1)";
	char bs[160];
	snprintf(bs, sizeof bs, "%s", body);
	for (uint32_t uid = 2; uid <= 6; uid += 2) {
		base_of(uid, base, sizeof base);
		FUZZ_ASSERT(mailcache_put(c, uid, base, strlen(base), 1700000000 + uid, 100 + uid, 50,
					  env, body, uid == 4 ? NULL : bs) == 0);
	}
	mailcache_flush(c);
	mailcache_close(c);

	c = mailcache_open(dir, uv);
	FUZZ_ASSERT(c != NULL);
	for (uint32_t uid = 2; uid <= 6; uid += 2) {
		base_of(uid, base, sizeof base);
		const struct mailcache_entry *e = mailcache_get(c, uid, base, strlen(base));
		if (!e)
			fprintf(stderr, "uid %u put and flushed, not read back\n", uid);
		FUZZ_ASSERT(e != NULL);
		check_entry(e, uid, base);
		FUZZ_ASSERT(e->internaldate == 1700000000 + (time_t)uid);
		FUZZ_ASSERT(e->size == 100 + (off_t)uid && e->hdr_len == 50);
		FUZZ_ASSERT(strcmp(e->envelope, env) == 0 && strcmp(e->body, body) == 0);
		FUZZ_ASSERT(strcmp(e->bodystructure, uid == 4 ? "" : bs) == 0);
	}
	mailcache_close(c);

	const char *save = getenv("POSTERN_FUZZ_SAVE");
	if (save) {
		char src[256];
		snprintf(src, sizeof src, "%s/postern-cache", dir);
		FILE *in = fopen(src, "rbe"), *out = fopen(save, "wbe");
		FUZZ_ASSERT(in && out);
		fputc(0, out); /* byte 0: UIDVALIDITY 12345 */
		int ch;
		while ((ch = fgetc(in)) != EOF)
			fputc(ch, out);
		fclose(in);
		fclose(out);
	}
	return 0;
}
