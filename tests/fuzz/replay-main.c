/* replay-main: run a harness without libFuzzer. Each argument is a file
 * (fed to LLVMFuzzerTestOneInput once) or a directory (each regular file
 * in it, in name order). Exits 0 when every input ran; a crash or a failed
 * property aborts the process (the sanitizers report it). With no
 * argument, reads one input from stdin. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rbe");
	if (!f) {
		perror(path);
		return -1;
	}
	size_t cap = 4096, len = 0;
	uint8_t *buf = malloc(cap);
	size_t n;
	while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len == cap) {
			uint8_t *nb = realloc(buf, cap *= 2);
			if (!nb)
				free(buf);
			buf = nb;
		}
	}
	int err = ferror(f);
	fclose(f);
	if (!buf || err) {
		fprintf(stderr, "%s: read failed\n", path);
		free(buf);
		return -1;
	}
	/* an exactly sized copy, so ASan sees reads past the input */
	uint8_t *in = malloc(len ? len : 1);
	if (!in)
		abort();
	memcpy(in, buf, len);
	free(buf);
	fprintf(stderr, "replay %s (%zu octets)\n", path, len);
	LLVMFuzzerTestOneInput(in, len);
	free(in);
	return 0;
}

static int filter(const struct dirent *de)
{
	return de->d_name[0] != '.';
}

static int run_path(const char *path, unsigned *count)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		perror(path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		(*count)++;
		return run_file(path);
	}
	struct dirent **des;
	int n = scandir(path, &des, filter, alphasort);
	if (n < 0) {
		perror(path);
		return -1;
	}
	int rc = 0;
	for (int i = 0; i < n; i++) {
		char sub[4096];
		snprintf(sub, sizeof sub, "%s/%s", path, des[i]->d_name);
		if (stat(sub, &st) == 0 && S_ISREG(st.st_mode)) {
			(*count)++;
			if (run_file(sub) < 0)
				rc = -1;
		}
		free(des[i]);
	}
	free(des);
	return rc;
}

int main(int argc, char **argv)
{
	unsigned count = 0;
	int rc = 0;
	if (argc < 2) {
		rc = run_file("/dev/stdin");
		count = 1;
	}
	for (int i = 1; i < argc; i++)
		if (run_path(argv[i], &count) < 0)
			rc = -1;
	printf("%u inputs replayed%s\n", count, rc ? ", some unreadable" : "");
	return rc ? 1 : 0;
}
