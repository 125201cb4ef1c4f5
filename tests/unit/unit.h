/* A tiny unit test runner that prints TAP, so tests/run-all.sh can count
 * results from C tests and bats suites alike.
 *
 *   static void test_foo(void) { CHECK(1 + 1 == 2); CHECK_STR(a, "b"); }
 *   int main(void) { RUN(test_foo); return unit_done(); }
 *
 * Each RUN is one TAP test: "ok N - name" or "not ok N - name" with the
 * failed checks as "# file:line: expr" diagnostics. */
#ifndef POSTERN_UNIT_H
#define POSTERN_UNIT_H

#include <string.h>

extern int unit_failed_checks;
void unit_fail(const char *file, int line, const char *what);
void unit_run(const char *name, void (*fn)(void));
int unit_done(void);
/* A fresh empty directory under $TMPDIR, removed at exit (rm -rf). */
const char *unit_tmpdir(void);

#define CHECK(e) do { if (!(e)) unit_fail(__FILE__, __LINE__, #e); } while (0)
#define CHECK_STR(a, b) do { const char *a_ = (a), *b_ = (b); \
	if (!a_ || !b_ || strcmp(a_, b_) != 0) unit_fail(__FILE__, __LINE__, #a " == " #b); } while (0)
#define RUN(fn) unit_run(#fn, fn)

#endif
