/* connrate: connections per second against one server.
 *
 *   connrate PROTO HOST PORT CONCURRENCY COUNT [USER PASS]
 *
 * PROTO is smtp, pop3 or imap. Each connection: connect, read the greeting,
 * (with USER and PASS: log in — IMAP LOGIN, POP3 USER/PASS), QUIT/LOGOUT,
 * read the reply, close. CONCURRENCY threads share COUNT connections.
 * Prints "connections seconds per_second errors". Benchmark tool, C so that
 * the client's own cost stays small next to a process spawn. */
#include <pthread.h>
#include <stdatomic.h>
#include "net.h"

static const char *proto, *host, *user, *pass;
static int port;
static long count;
static atomic_long next_id, errors;

static int one(struct conn *c)
{
	if (conn_open(c, host, port) < 0)
		return -1;
	int rc = -1;
	char cmd[512];
	if (strcmp(proto, "smtp") == 0) {
		if (smtp_reply(c) != 220)
			goto out;
		if (conn_puts(c, "QUIT\r\n") < 0 || smtp_reply(c) != 221)
			goto out;
	} else if (strcmp(proto, "pop3") == 0) {
		if (pop3_status(c) != 0)
			goto out;
		if (user) {
			snprintf(cmd, sizeof cmd, "USER %s\r\n", user);
			if (conn_puts(c, cmd) < 0 || pop3_status(c) != 0)
				goto out;
			snprintf(cmd, sizeof cmd, "PASS %s\r\n", pass);
			if (conn_puts(c, cmd) < 0 || pop3_status(c) != 0)
				goto out;
		}
		if (conn_puts(c, "QUIT\r\n") < 0 || pop3_status(c) != 0)
			goto out;
	} else {
		size_t n;
		char *l = conn_line(c, &n);
		if (!l || strncmp(l, "* OK", 4) != 0)
			goto out;
		if (user) {
			snprintf(cmd, sizeof cmd, "a LOGIN \"%s\" \"%s\"\r\n", user, pass);
			if (conn_puts(c, cmd) < 0 || imap_wait(c, "a", NULL) != 0)
				goto out;
		}
		if (conn_puts(c, "b LOGOUT\r\n") < 0 || imap_wait(c, "b", NULL) != 0)
			goto out;
	}
	rc = 0;
out:
	conn_close(c);
	return rc;
}

static void *worker(void *arg)
{
	(void)arg;
	struct conn *c = malloc(sizeof *c);
	if (!c)
		abort();
	while (atomic_fetch_add(&next_id, 1) < count)
		if (one(c) < 0)
			atomic_fetch_add(&errors, 1);
	free(c);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 6 && argc != 8) {
		fprintf(stderr, "usage: connrate smtp|pop3|imap HOST PORT CONCURRENCY COUNT [USER PASS]\n");
		return 2;
	}
	proto = argv[1];
	host = argv[2];
	port = atoi(argv[3]);
	int conc = atoi(argv[4]);
	count = atol(argv[5]);
	if (argc == 8) {
		user = argv[6];
		pass = argv[7];
	}
	if (conc < 1 || conc > 4096 || count < 1)
		return 2;
	pthread_t *t = calloc((size_t)conc, sizeof *t);
	double t0 = now_s();
	for (int i = 0; i < conc; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	for (int i = 0; i < conc; i++)
		pthread_join(t[i], NULL);
	double dt = now_s() - t0;
	printf("%ld %.6f %.1f %ld\n", count, dt, count / dt, (long)errors);
	return errors ? 1 : 0;
}
