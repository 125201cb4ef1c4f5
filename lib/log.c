#include "log.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

/* The journal is written with its native datagram protocol
 * (https://systemd.io/JOURNAL_NATIVE_PROTOCOL/, a stable interface meant
 * for programs that do not link libsystemd): one datagram of KEY=value
 * lines to /run/systemd/journal/socket, the same fields sd_journal_send
 * would send. Linking libsystemd instead cost every connection about
 * 0.5 ms of CPU in the dynamic loader (it pulls in gcrypt, lzma, zstd, lz4
 * and libcap), a third of a handler's whole start-up. */
#define JOURNAL_SOCKET "/run/systemd/journal/socket"

enum sink { SINK_UNSET, SINK_JOURNAL, SINK_SYSLOG, SINK_STDERR };

static enum sink sink;
static int journal_fd = -1;
static struct sockaddr_un journal_addr;
static char protocol[16] = "postern";
static char peer[64] = "";
static char user[320] = "";
static char session[17] = "";

static void open_syslog(void)
{
	static char ident[32];
	static bool opened;
	if (opened)
		return;
	opened = true;
	snprintf(ident, sizeof ident, "postern-%s", protocol);
	openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

/* POSTERN_JOURNAL_SOCKET names another socket (tests). */
static int open_journal(void)
{
	const char *path = getenv("POSTERN_JOURNAL_SOCKET");
	if (!path || !*path)
		path = JOURNAL_SOCKET;
	if (strlen(path) >= sizeof journal_addr.sun_path || access(path, W_OK) != 0)
		return -1;
	journal_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (journal_fd < 0)
		return -1;
	journal_addr.sun_family = AF_UNIX;
	memcpy(journal_addr.sun_path, path, strlen(path) + 1);
	return 0;
}

static void pick_sink(void)
{
	const char *e = getenv("POSTERN_LOG");
	if (e && strcmp(e, "stderr") == 0)
		sink = SINK_STDERR;
	else if (e && strcmp(e, "syslog") == 0)
		sink = SINK_SYSLOG;
	else if (open_journal() == 0)
		sink = SINK_JOURNAL;
	else
		sink = SINK_SYSLOG;
	if (sink == SINK_SYSLOG)
		open_syslog();
}

void log_init(const char *proto)
{
	if (proto != protocol)
		snprintf(protocol, sizeof protocol, "%s", proto);
	unsigned char r[8];
	if (getrandom(r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) {
		unsigned long long t = (unsigned long long)time(NULL) ^ ((unsigned long long)getpid() << 32);
		memcpy(r, &t, sizeof r);
	}
	for (size_t i = 0; i < sizeof r; i++)
		snprintf(session + 2 * i, 3, "%02x", r[i]);
	if (sink == SINK_UNSET)
		pick_sink();
}

/* Control characters from clients must not forge log lines or fields. */
static void scrub(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

void log_set_peer(const char *addr)
{
	snprintf(peer, sizeof peer, "%s", addr ? addr : "");
	scrub(peer);
}

void log_set_user(const char *u)
{
	snprintf(user, sizeof user, "%s", u ? u : "");
	scrub(user);
}

const char *log_session_id(void)
{
	if (!session[0])
		log_init(protocol);
	return session;
}

/* One datagram; every value is scrubbed, so the simple KEY=value form
 * (no newline in values) is always valid. 0 or -1. */
static int journal_send(enum log_level lvl, const char *line)
{
	char dgram[4096];
	int n = snprintf(dgram, sizeof dgram,
			 "MESSAGE=%s\nPRIORITY=%d\nSYSLOG_FACILITY=2\nSYSLOG_IDENTIFIER=postern-%s\n"
			 "SYSLOG_PID=%d\nPROTOCOL=%s\nSESSION=%s\nREMOTE_ADDR=%s\nUSER=%s\n",
			 line, (int)lvl, protocol, (int)getpid(), protocol, session, peer, user);
	if (n < 0 || (size_t)n >= sizeof dgram)
		return -1;
	for (int tries = 0; tries < 2; tries++) {
		if (sendto(journal_fd, dgram, (size_t)n, MSG_NOSIGNAL, (struct sockaddr *)&journal_addr,
			   sizeof journal_addr) == n)
			return 0;
		if (errno != EINTR)
			break;
	}
	return -1;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	if (sink == SINK_UNSET)
		log_init(protocol);
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	scrub(msg);
	char line[2600];
	snprintf(line, sizeof line, "session=%s%s%s%s%s %s", session, peer[0] ? " peer=" : "", peer,
		 user[0] ? " user=" : "", user, msg);
	switch (sink) {
	case SINK_STDERR:
		fprintf(stderr, "postern-%s[%d]: %s\n", protocol, (int)getpid(), line);
		break;
	case SINK_JOURNAL:
		if (journal_send(lvl, line) == 0)
			break;
		/* journald gone or its queue full (the socket never blocks a
		 * session): this line goes to syslog instead */
		open_syslog();
		/* fall through */
	default:
		syslog((int)lvl, "%s", line);
		break;
	}
}
