/* mailcache-bench: figures for the mailbox cache (not a test).
 *
 *   build/tests/mailcache-bench [-n MESSAGES] [-k]
 *
 * Generates MESSAGES (default 100000) synthetic messages in a maildir under
 * $TMPDIR (mixed single-part and multipart, 1-12 KiB), assigns UIDs, then
 * measures: the uncached cost (read + parse + format every message, what
 * each FETCH 1:* ENVELOPE BODYSTRUCTURE costs without a cache), a cold fill
 * (the same plus writing the cache), and a warm open + iteration over every
 * entry (what a later session pays). Prints key=value lines. The directory
 * is removed afterwards unless -k. */
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "imap-bodystructure.h"
#include "imap-envelope.h"
#include "mailcache.h"
#include "maildir.h"
#include "mime.h"
#include "strbuf.h"
#include "uidlist.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds of this process: steadier than wall time on a busy machine. */
static double cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return (type == FTW_DP ? rmdir(path) : unlink(path)) < 0 ? -1 : 0;
}

static void gen_message(struct strbuf *m, unsigned i)
{
	static const char *words[] = { "lorem", "ipsum", "dolor", "sit", "amet", "consectetur",
				       "adipiscing", "elit", "sed", "do", "eiusmod", "tempor" };
	sb_reset(m);
	sb_printf(m,
		  "Return-Path: <list-%u@lists.example.org>\r\n"
		  "Received: from mx.example.org (mx.example.org [192.0.2.%u])\r\n"
		  "\tby mail.example.net with ESMTP id %08x; Mon, 1 Jan 2024 00:00:00 +0000\r\n"
		  "From: \"Sender Number %u\" <sender%u@example.org>\r\n"
		  "To: Recipient <rcpt@example.net>, other%u@example.com\r\n"
		  "Cc: =?UTF-8?Q?J=C3=B6rg_%u?= <joerg%u@example.de>\r\n"
		  "Subject: Re: [list] discussion thread %u about things\r\n"
		  "Date: Mon, %u Jan 2024 %02u:%02u:00 +0100\r\n"
		  "Message-ID: <%u.%08x@example.org>\r\n"
		  "In-Reply-To: <%u.parent@example.org>\r\n"
		  "MIME-Version: 1.0\r\n",
		  i % 50, i % 250, i * 2654435761u, i, i, i, i, i, i, 1 + i % 28, i % 24, i % 60, i,
		  i * 40503u, i);
	unsigned lines = 10 + (i * 7) % 150;
	if (i % 3 == 0) {
		sb_printf(m,
			  "Content-Type: multipart/mixed; boundary=\"=_b%u\"\r\n\r\n"
			  "This is a multi-part message in MIME format.\r\n"
			  "--=_b%u\r\nContent-Type: multipart/alternative; boundary=\"=_a%u\"\r\n\r\n"
			  "--=_a%u\r\nContent-Type: text/plain; charset=utf-8\r\n"
			  "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
			  i, i, i, i);
		for (unsigned l = 0; l < lines; l++)
			sb_printf(m, "%s %s %s %u\r\n", words[l % 12], words[(l + i) % 12],
				  words[(l * 3) % 12], l);
		sb_printf(m, "--=_a%u\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>hi</p>\r\n"
			     "--=_a%u--\r\n--=_b%u\r\n"
			     "Content-Type: application/pdf; name=\"report-%u.pdf\"\r\n"
			     "Content-Disposition: attachment; filename=\"report-%u.pdf\"\r\n"
			     "Content-Transfer-Encoding: base64\r\n\r\n",
			  i, i, i, i, i);
		for (unsigned l = 0; l < 20; l++)
			sb_adds(m, "JVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAwIFIvRmlsdGVyIC9GbGF0ZU\r\n");
		sb_printf(m, "--=_b%u--\r\n", i);
	} else {
		sb_adds(m, "Content-Type: text/plain; charset=us-ascii; format=flowed\r\n\r\n");
		for (unsigned l = 0; l < lines; l++)
			sb_printf(m, "%s %s %s %s %u\r\n", words[l % 12], words[(l + i) % 12],
				  words[(l * 5) % 12], words[(l * 7) % 12], l);
	}
}

int main(int argc, char **argv)
{
	unsigned n = 100000;
	bool keep = false;
	int opt;
	while ((opt = getopt(argc, argv, "n:k")) != -1) {
		if (opt == 'n')
			n = (unsigned)strtoul(optarg, NULL, 10);
		else if (opt == 'k')
			keep = true;
		else {
			fprintf(stderr, "usage: %s [-n messages] [-k]\n", argv[0]);
			return 2;
		}
	}
	const char *t = getenv("TMPDIR");
	char dir[512];
	snprintf(dir, sizeof dir, "%s/postern-cache-bench-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(dir) || maildir_create(dir) < 0) {
		perror("mkdtemp");
		return 1;
	}
	printf("dir=%s messages=%u\n", dir, n);

	double t0 = now();
	struct strbuf m = STRBUF_INIT;
	uint64_t total = 0;
	for (unsigned i = 0; i < n; i++) {
		gen_message(&m, i);
		char path[1024];
		snprintf(path, sizeof path, "%s/cur/%u.M%06uP1Q1.bench,S=%zu:2,S", dir, 1700000000 + i,
			 i % 1000000, m.len);
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (fd < 0 || write(fd, m.s, m.len) != (ssize_t)m.len) {
			perror(path);
			return 1;
		}
		close(fd);
		total += m.len;
	}
	sb_free(&m);
	printf("generate_s=%.2f message_octets=%llu\n", now() - t0, (unsigned long long)total);

	struct uidlist ul;
	memset(&ul, 0, sizeof ul);
	t0 = now();
	if (uidlist_sync(dir, &ul) < 0 || ul.n != n) {
		fprintf(stderr, "uidlist_sync failed\n");
		return 1;
	}
	printf("uidlist_sync_s=%.3f\n", now() - t0);

	/* uncached: what every FETCH 1:* (ENVELOPE BODYSTRUCTURE) costs without the cache */
	t0 = now();
	double c0 = cpu();
	struct strbuf out = STRBUF_INIT;
	for (size_t i = 0; i < ul.n; i++) {
		char name[MAILDIR_NAME_MAX];
		bool in_new = ul.recs[i].in_new;
		snprintf(name, sizeof name, "%s", ul.recs[i].name);
		int fd = maildir_open_msg(dir, name, sizeof name, &in_new);
		struct stat st;
		if (fd < 0 || fstat(fd, &st) < 0)
			return 1;
		char *buf = xmalloc((size_t)st.st_size + 1);
		if (read(fd, buf, (size_t)st.st_size) != st.st_size)
			return 1;
		close(fd);
		struct mime_part *root;
		mime_parse(buf, (size_t)st.st_size, &root);
		sb_reset(&out);
		imap_envelope_write(&out, buf, root->hdr_len);
		imap_bodystructure_write(&out, buf, root, true);
		mime_free(root);
		free(buf);
	}
	sb_free(&out);
	printf("uncached_parse_all_s=%.3f cpu_s=%.3f\n", now() - t0, cpu() - c0);

	/* cold: fill the cache */
	t0 = now();
	c0 = cpu();
	struct mailcache *c = mailcache_open(dir, ul.uidvalidity);
	for (size_t i = 0; i < ul.n; i++) {
		char name[MAILDIR_NAME_MAX];
		bool in_new = ul.recs[i].in_new;
		snprintf(name, sizeof name, "%s", ul.recs[i].name);
		const struct mailcache_entry *e;
		if (mailcache_fill(c, dir, ul.recs[i].uid, name, sizeof name, &in_new, &e) != 1)
			return 1;
	}
	struct mailcache_stats st;
	mailcache_get_stats(c, &st);
	mailcache_close(c);
	printf("cold_fill_s=%.3f cpu_s=%.3f parsed=%lu flushes=%lu\n", now() - t0, cpu() - c0,
	       st.parsed, st.flushes);
	char cpath[600];
	snprintf(cpath, sizeof cpath, "%s/postern-cache", dir);
	struct stat cst;
	stat(cpath, &cst);
	printf("cache_file_octets=%lld per_message=%.0f\n", (long long)cst.st_size,
	       (double)cst.st_size / n);

	/* warm: a new session opens and walks every entry */
	for (int round = 0; round < 3; round++) {
		t0 = now();
		c0 = cpu();
		c = mailcache_open(dir, ul.uidvalidity);
		double t1 = now();
		uint64_t octets = 0;
		for (size_t i = 0; i < ul.n; i++) {
			char name[MAILDIR_NAME_MAX];
			bool in_new = ul.recs[i].in_new;
			snprintf(name, sizeof name, "%s", ul.recs[i].name);
			const struct mailcache_entry *e;
			if (mailcache_fill(c, dir, ul.recs[i].uid, name, sizeof name, &in_new, &e) != 1)
				return 1;
			octets += e->envelope_len + e->bodystructure_len;
		}
		double t2 = now();
		mailcache_get_stats(c, &st);
		mailcache_close(c);
		printf("warm_open_s=%.3f warm_iterate_s=%.3f warm_total_s=%.3f cpu_s=%.3f hits=%lu "
		       "parsed=%lu string_octets=%llu\n",
		       t1 - t0, t2 - t1, now() - t0, cpu() - c0, st.hits, st.parsed,
		       (unsigned long long)octets);
	}
	uidlist_free(&ul);
	if (!keep && nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0) {
		perror("rm");
		return 1;
	}
	return 0;
}
