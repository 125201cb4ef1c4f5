#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

enum sink { SINK_UNSET, SINK_JOURNAL, SINK_SYSLOG, SINK_STDERR };

static enum sink sink;
static char protocol[16] = "postern";
static char peer[64] = "";
static char user[320] = "";
static char session[17] = "";

static void pick_sink(void)
{
	const char *e = getenv("POSTERN_LOG");
	if (e && strcmp(e, "stderr") == 0)
		sink = SINK_STDERR;
	else if (e && strcmp(e, "syslog") == 0)
		sink = SINK_SYSLOG;
	else if (access("/run/systemd/journal/socket", W_OK) == 0)
		sink = SINK_JOURNAL;
	else
		sink = SINK_SYSLOG;
	if (sink == SINK_SYSLOG) {
		static char ident[32];
		snprintf(ident, sizeof ident, "postern-%s", protocol);
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
	}
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
	pick_sink();
}

void log_set_peer(const char *addr)
{
	snprintf(peer, sizeof peer, "%s", addr ? addr : "");
}

void log_set_user(const char *u)
{
	snprintf(user, sizeof user, "%s", u ? u : "");
}

const char *log_session_id(void)
{
	if (!session[0])
		log_init(protocol);
	return session;
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
	/* control characters from clients must not forge log lines */
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	char line[2600];
	snprintf(line, sizeof line, "session=%s%s%s%s%s %s", session, peer[0] ? " peer=" : "", peer,
		 user[0] ? " user=" : "", user, msg);
	switch (sink) {
	case SINK_STDERR:
		fprintf(stderr, "postern-%s[%d]: %s\n", protocol, (int)getpid(), line);
		break;
	case SINK_JOURNAL:
		sd_journal_send("MESSAGE=%s", line, "PRIORITY=%d", (int)lvl, "SYSLOG_FACILITY=2",
				"SYSLOG_IDENTIFIER=postern-%s", protocol, "PROTOCOL=%s", protocol,
				"SESSION=%s", session, "REMOTE_ADDR=%s", peer, "USER=%s", user,
				NULL);
		break;
	default:
		syslog((int)lvl, "%s", line);
		break;
	}
}
