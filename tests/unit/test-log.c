/* log: the native journal datagram carries the structured fields, client
 * control characters cannot forge a field, and a journal socket that does
 * not answer falls back to syslog instead of losing or blocking. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "unit.h"

static int sock = -1;
static char path[600];

static int bind_journal(void)
{
	snprintf(path, sizeof path, "%s/journal.sock", unit_tmpdir());
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof a.sun_path)
		return -1;
	strcpy(a.sun_path, path);
	sock = socket(AF_UNIX, SOCK_DGRAM, 0);
	return sock < 0 ? -1 : bind(sock, (struct sockaddr *)&a, sizeof a);
}

/* The next datagram, NUL-terminated, or "" after 2 s. */
static const char *next_dgram(void)
{
	static char buf[8192];
	struct timeval tv = { .tv_sec = 2 };
	setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	ssize_t n = recv(sock, buf, sizeof buf - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* Every line of D is KEY=value, and FIELD has value WANT. */
static int has_field(const char *d, const char *field, const char *want)
{
	char needle[700];
	snprintf(needle, sizeof needle, "\n%s=%s\n", field, want);
	char framed[8300];
	snprintf(framed, sizeof framed, "\n%s", d);
	return strstr(framed, needle) != NULL;
}

static void test_fields(void)
{
	log_init("smtp");
	log_set_peer("192.0.2.7");
	log_set_user("mallory\nPRIORITY=0");
	log_warn("auth failed for %s", "x\r\nMESSAGE=forged");
	const char *d = next_dgram();
	CHECK(has_field(d, "PRIORITY", "4"));
	CHECK(has_field(d, "SYSLOG_IDENTIFIER", "postern-smtp"));
	CHECK(has_field(d, "PROTOCOL", "smtp"));
	CHECK(has_field(d, "REMOTE_ADDR", "192.0.2.7"));
	CHECK(has_field(d, "USER", "mallory?PRIORITY=0"));
	CHECK(has_field(d, "SESSION", log_session_id()));
	CHECK(strstr(d, "auth failed for x??MESSAGE=forged\n") != NULL);
	CHECK(strstr(d, "\nMESSAGE=forged") == NULL);
	CHECK(strstr(d, "\nPRIORITY=0") == NULL);
	/* every line is a field: no stray line can appear */
	size_t lines = 0;
	for (const char *p = d; *p; p++)
		lines += *p == '\n';
	CHECK(lines == 9);
	CHECK(d[0] && d[strlen(d) - 1] == '\n');
}

/* A journald that does not read: its queue fills, and logging must go on
 * without blocking the session (SIGALRM kills the test if it blocks). */
static void test_full_journal_does_not_block(void)
{
	alarm(10);
	for (int i = 0; i < 5000; i++)
		log_info("line %d of a flood", i);
	alarm(0);
	/* the queue holds the first lines, in order */
	const char *d = next_dgram();
	CHECK(strstr(d, "MESSAGE=session=") != NULL);
	CHECK(strstr(d, " line 0 of a flood\n") != NULL);
}

int main(void)
{
	unsetenv("POSTERN_LOG");
	if (bind_journal() != 0) {
		printf("not ok 1 - cannot bind a test journal socket\n");
		return 1;
	}
	setenv("POSTERN_JOURNAL_SOCKET", path, 1);
	RUN(test_fields);
	RUN(test_full_journal_does_not_block);
	return unit_done();
}
