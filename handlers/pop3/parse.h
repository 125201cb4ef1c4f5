/* parse: the pure parsing pieces of postern-pop3d (no I/O, no library
 * state), kept apart so tests/unit/test-pop3-parse.c can feed them
 * directly. Base64 and SASL PLAIN come from lib/sasl.h. */
#ifndef POSTERN_POP3_PARSE_H
#define POSTERN_POP3_PARSE_H

#include <stdbool.h>
#include <stddef.h>

/* S is a plain decimal number (digits only: no sign, no space, no
 * garbage) in min..max. Never overflows. */
bool pop3_parse_ulong(const char *s, unsigned long min, unsigned long max,
		      unsigned long *r);

/* Split the next space-separated word off *p (runs of spaces are one
 * separator). Returns the word (NUL-terminated in place) or NULL when none
 * is left. */
char *pop3_next_arg(char **p);

#endif
