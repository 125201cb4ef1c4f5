/* loadgen: the bench workloads that are not connection rates.
 *
 *   loadgen smtp HOST PORT CONCURRENCY TOTAL PER_CONN SIZE RCPT
 *       TOTAL messages of about SIZE octets to RCPT, PER_CONN per
 *       connection, CONCURRENCY connections at a time (no pipelining).
 *       Prints "messages seconds per_second errors".
 *   loadgen imap HOST PORT USER PASS CMD...
 *       Connects, logs in, sends each CMD in turn. Prints one line per step,
 *       "step seconds octets status": step 0 is connect+greeting+LOGIN, then
 *       one per CMD (status ok, no, or eof).
 *   loadgen pop3 HOST PORT USER PASS
 *       Prints three steps: login+STAT, UIDL, RETR of every message.
 *   loadgen hold HOST PORT USER PASS N
 *       Opens N IMAP sessions and logs each in, prints "ready N", then waits
 *       for end of input on stdin and logs them out.
 * Benchmark tool, not part of Postern. */
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include "net.h"

/* ---- smtp ---- */
static const char *host, *rcpt;
static int port, per_conn;
static long total, size;
static atomic_long next_msg, sent, errors;
static char *body;	/* SIZE octets of CRLF text, ends in CRLF */
static size_t body_len;

static void make_body(void)
{
	body = malloc((size_t)size + 200);
	size_t n = 0;
	int line = 0;
	while ((long)n < size - 80) {
		n += (size_t)sprintf(body + n,
			"Line %05d of the benchmark message, to fill it up to its size: lorem ipsum.\r\n", line++);
	}
	body_len = n;
}

static int smtp_message(struct conn *c, long id)
{
	char hdr[1024];
	if (conn_puts(c, "MAIL FROM:<bench@client.test>\r\n") < 0 || smtp_reply(c) != 250)
		return -1;
	snprintf(hdr, sizeof hdr, "RCPT TO:<%s>\r\n", rcpt);
	if (conn_puts(c, hdr) < 0 || smtp_reply(c) != 250)
		return -1;
	if (conn_puts(c, "DATA\r\n") < 0 || smtp_reply(c) != 354)
		return -1;
	int h = snprintf(hdr, sizeof hdr,
		"From: Bench <bench@client.test>\r\nTo: <%s>\r\n"
		"Subject: bench message %ld\r\nDate: Sun, 22 Nov 2026 03:00:00 +0000\r\n"
		"Message-ID: <bench-%ld-%d@client.test>\r\n\r\n", rcpt, id, id, (int)getpid());
	if (conn_write(c, hdr, (size_t)h) < 0 || conn_write(c, body, body_len) < 0 ||
	    conn_puts(c, ".\r\n") < 0 || smtp_reply(c) != 250)
		return -1;
	return 0;
}

static void *smtp_worker(void *arg)
{
	(void)arg;
	struct conn *c = malloc(sizeof *c);
	for (;;) {
		long first = atomic_fetch_add(&next_msg, per_conn);
		if (first >= total)
			break;
		long n = total - first < per_conn ? total - first : per_conn;
		if (conn_open(c, host, port) < 0 || smtp_reply(c) != 220 ||
		    conn_puts(c, "EHLO client.test\r\n") < 0 || smtp_reply(c) != 250) {
			atomic_fetch_add(&errors, n);
			conn_close(c);
			continue;
		}
		long i;
		for (i = 0; i < n; i++) {
			if (smtp_message(c, first + i) < 0)
				break;
			atomic_fetch_add(&sent, 1);
		}
		if (i < n)
			atomic_fetch_add(&errors, n - i);
		else if (conn_puts(c, "QUIT\r\n") == 0)
			smtp_reply(c);
		conn_close(c);
	}
	free(c);
	return NULL;
}

static int do_smtp(int argc, char **argv)
{
	if (argc != 9)
		return 2;
	host = argv[2];
	port = atoi(argv[3]);
	int conc = atoi(argv[4]);
	total = atol(argv[5]);
	per_conn = atoi(argv[6]);
	size = atol(argv[7]);
	rcpt = argv[8];
	if (conc < 1 || per_conn < 1 || size < 100)
		return 2;
	make_body();
	pthread_t *t = calloc((size_t)conc, sizeof *t);
	double t0 = now_s();
	for (int i = 0; i < conc; i++)
		pthread_create(&t[i], NULL, smtp_worker, NULL);
	for (int i = 0; i < conc; i++)
		pthread_join(t[i], NULL);
	double dt = now_s() - t0;
	printf("%ld %.6f %.1f %ld\n", (long)sent, dt, sent / dt, (long)errors);
	return errors ? 1 : 0;
}

/* ---- imap ---- */
static int imap_login(struct conn *c, const char *user, const char *pass)
{
	char cmd[512];
	size_t n;
	char *l = conn_line(c, &n);
	if (!l || strncmp(l, "* OK", 4) != 0)
		return -1;
	snprintf(cmd, sizeof cmd, "L LOGIN \"%s\" \"%s\"\r\n", user, pass);
	if (conn_puts(c, cmd) < 0)
		return -1;
	return imap_wait(c, "L", NULL);
}

static const char *status_name(int rc)
{
	return rc == 0 ? "ok" : rc > 0 ? "no" : "eof";
}

static int do_imap(int argc, char **argv)
{
	if (argc < 6)
		return 2;
	struct conn *c = malloc(sizeof *c);
	double t0 = now_s();
	if (conn_open(c, argv[2], atoi(argv[3])) < 0) {
		printf("0 0 0 eof\n");
		return 1;
	}
	int rc = imap_login(c, argv[4], argv[5]);
	printf("0 %.6f 0 %s\n", now_s() - t0, status_name(rc));
	fflush(stdout);
	if (rc != 0)
		return 1;
	int bad = 0;
	for (int i = 6; i < argc; i++) {
		char tag[16], cmd[4096];
		snprintf(tag, sizeof tag, "C%d", i - 5);
		snprintf(cmd, sizeof cmd, "%s %s\r\n", tag, argv[i]);
		size_t bytes = 0;
		t0 = now_s();
		rc = conn_puts(c, cmd) < 0 ? -1 : imap_wait(c, tag, &bytes);
		printf("%d %.6f %zu %s\n", i - 5, now_s() - t0, bytes, status_name(rc));
		fflush(stdout);
		if (rc < 0)
			return 1;
		bad |= rc != 0;
	}
	if (conn_puts(c, "Z LOGOUT\r\n") == 0)
		imap_wait(c, "Z", NULL);
	conn_close(c);
	return bad;
}

/* ---- pop3 ---- */
static int do_pop3(int argc, char **argv)
{
	if (argc != 6)
		return 2;
	struct conn *c = malloc(sizeof *c);
	char cmd[512];
	double t0 = now_s();
	if (conn_open(c, argv[2], atoi(argv[3])) < 0 || pop3_status(c) != 0) {
		printf("0 0 0 eof\n");
		return 1;
	}
	snprintf(cmd, sizeof cmd, "USER %s\r\n", argv[4]);
	int rc = conn_puts(c, cmd) < 0 ? -1 : pop3_status(c);
	if (rc == 0) {
		snprintf(cmd, sizeof cmd, "PASS %s\r\n", argv[5]);
		rc = conn_puts(c, cmd) < 0 ? -1 : pop3_status(c);
	}
	long msgs = 0;
	if (rc == 0) {
		size_t n;
		rc = -1;
		if (conn_puts(c, "STAT\r\n") == 0) {
			char *l = conn_line(c, &n);
			if (l && strncmp(l, "+OK ", 4) == 0) {
				msgs = atol(l + 4);
				rc = 0;
			} else if (l) {
				rc = 1;
			}
		}
	}
	printf("0 %.6f %ld %s\n", now_s() - t0, msgs, status_name(rc));
	fflush(stdout);
	if (rc != 0)
		return 1;
	t0 = now_s();
	long octets = -1;
	rc = conn_puts(c, "UIDL\r\n") < 0 ? -1 : pop3_status(c);
	if (rc == 0)
		octets = pop3_multiline(c);
	if (octets < 0 && rc == 0)
		rc = -1;
	printf("1 %.6f %ld %s\n", now_s() - t0, octets, status_name(rc));
	fflush(stdout);
	if (rc < 0)
		return 1;
	/* RETR each message, a window of 16 commands in flight at most, so a
	 * round trip per message does not dominate on either side. */
	t0 = now_s();
	long sent_n = 0, done = 0, bytes = 0;
	rc = 0;
	while (done < msgs && rc == 0) {
		while (sent_n < msgs && sent_n - done < 16) {
			snprintf(cmd, sizeof cmd, "RETR %ld\r\n", ++sent_n);
			if (conn_puts(c, cmd) < 0) {
				rc = -1;
				break;
			}
		}
		if (rc)
			break;
		rc = pop3_status(c);
		if (rc == 0) {
			long k = pop3_multiline(c);
			if (k < 0)
				rc = -1;
			bytes += k;
		}
		done++;
	}
	printf("2 %.6f %ld %s\n", now_s() - t0, bytes, status_name(rc));
	if (rc >= 0 && conn_puts(c, "QUIT\r\n") == 0)
		pop3_status(c);
	conn_close(c);
	return rc != 0;
}

/* ---- hold ---- */
static int do_hold(int argc, char **argv)
{
	if (argc != 7)
		return 2;
	int n = atoi(argv[6]), ok = 0;
	struct conn **cs = calloc((size_t)n, sizeof *cs);
	for (int i = 0; i < n; i++) {
		cs[i] = malloc(sizeof **cs);
		if (conn_open(cs[i], argv[2], atoi(argv[3])) < 0) {
			free(cs[i]);
			cs[i] = NULL;
			continue;
		}
		if (imap_login(cs[i], argv[4], argv[5]) == 0)
			ok++;
	}
	printf("ready %d\n", ok);
	fflush(stdout);
	char buf[64];
	while (read(0, buf, sizeof buf) > 0)
		;
	for (int i = 0; i < n; i++)
		if (cs[i]) {
			if (conn_puts(cs[i], "Z LOGOUT\r\n") == 0)
				imap_wait(cs[i], "Z", NULL);
			conn_close(cs[i]);
		}
	return ok == n ? 0 : 1;
}

int main(int argc, char **argv)
{
	int rc = 2;
	if (argc > 1 && strcmp(argv[1], "smtp") == 0)
		rc = do_smtp(argc, argv);
	else if (argc > 1 && strcmp(argv[1], "imap") == 0)
		rc = do_imap(argc, argv);
	else if (argc > 1 && strcmp(argv[1], "pop3") == 0)
		rc = do_pop3(argc, argv);
	else if (argc > 1 && strcmp(argv[1], "hold") == 0)
		rc = do_hold(argc, argv);
	if (rc == 2)
		fprintf(stderr, "usage: see the comment at the top of bench/loadgen.c\n");
	return rc;
}
