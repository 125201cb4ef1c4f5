/* fuzz: what every harness in tests/fuzz/ shares. A harness is one
 * LLVMFuzzerTestOneInput() over the real library code; it is linked either
 * with libFuzzer (clang, `make fuzz`) or with replay-main.c (any compiler,
 * `make unit`: every corpus file is run once under ASan+UBSan).
 *
 * A broken property is reported with FUZZ_ASSERT: a message on stderr and
 * abort(), which both libFuzzer and the replay runner treat as a crash. */
#ifndef POSTERN_FUZZ_H
#define POSTERN_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond)                                                              \
	do {                                                                           \
		if (!(cond)) {                                                         \
			fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__,      \
				__LINE__, #cond);                                      \
			abort();                                                       \
		}                                                                      \
	} while (0)

/* A NUL-terminated copy of DATA (caller frees). */
char *fuzz_strndup(const uint8_t *data, size_t size);

/* Write DATA to a private temporary file (one per process, created on the
 * first call and rewritten on each) and return its path. */
const char *fuzz_tmpfile(const char *tag, const uint8_t *data, size_t size);

/* The private temporary directory of this process (created on the first
 * call, removed with its files at exit). */
const char *fuzz_tmpdir(void);

/* Quiet, deterministic library environment: logs to syslog, no login delay. */
void fuzz_env_init(void);

#endif
