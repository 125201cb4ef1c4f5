/* queue_kick: start a queue runner after enqueueing, for xinetd and
 * `make run`, where no systemd .path unit watches the queue. The SMTP reply
 * must never wait for it: the child forks again and exits at once, so the
 * runner is adopted by init and the handler only reaps a short-lived child. */
#include "queue.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"

/* <directory of /proc/self/exe>/postern-relay into out. 0 or -1. */
static int relay_path(char *out, size_t outlen)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		return -1;
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	int m = snprintf(out, outlen, "%s/postern-relay", self);
	return m < 0 || (size_t)m >= outlen ? -1 : 0;
}

void queue_kick(const struct config *cfg)
{
	const char *spawn = getenv("POSTERN_RELAY_SPAWN");
	if (getenv("INVOCATION_ID") || (spawn && strcmp(spawn, "0") == 0))
		return;
	char prog[PATH_MAX];
	if (relay_path(prog, sizeof prog) < 0 || access(prog, X_OK) < 0) {
		log_warn("no queue runner next to this program; queued mail waits for the timer");
		return;
	}
	pid_t pid = fork();
	if (pid < 0) {
		log_warn("fork failed: %m; queued mail waits for the timer");
		return;
	}
	if (pid == 0) {
		if (setsid() < 0 || fork() != 0)
			_exit(0);
		int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (fd < 0)
			_exit(111);
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		char *argv[] = { prog, (char *)"--once", (char *)"-c", (char *)cfg->path, NULL };
		execv(prog, argv);
		_exit(111);
	}
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}
