#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int unit_failed_checks;
static int n_run, n_failed;
static char tmpdir[256];

void unit_fail(const char *file, int line, const char *what)
{
	unit_failed_checks++;
	printf("# %s:%d: check failed: %s\n", file, line, what);
	fflush(stdout);
}

void unit_run(const char *name, void (*fn)(void))
{
	int before = unit_failed_checks;
	fn();
	n_run++;
	if (unit_failed_checks != before) {
		n_failed++;
		printf("not ok %d - %s\n", n_run, name);
	} else {
		printf("ok %d - %s\n", n_run, name);
	}
	fflush(stdout);
}

static void cleanup(void)
{
	if (tmpdir[0]) {
		char cmd[300];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "cleanup of %s failed\n", tmpdir);
	}
}

const char *unit_tmpdir(void)
{
	if (!tmpdir[0]) {
		const char *t = getenv("TMPDIR");
		snprintf(tmpdir, sizeof tmpdir, "%s/postern-unit-XXXXXX", t && *t ? t : "/tmp");
		if (!mkdtemp(tmpdir)) {
			perror("mkdtemp");
			exit(2);
		}
		atexit(cleanup);
	}
	return tmpdir;
}

int unit_done(void)
{
	printf("1..%d\n", n_run);
	return n_failed ? 1 : 0;
}
