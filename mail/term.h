/* term: the user's side of the interactive mode: bounded line reads from
 * stdin, a password read without echo on a terminal, and a single key
 * press (raw mode on a terminal, the first character of a line on a
 * pipe, so the flow can be scripted). */
#ifndef POSTERN_MAIL_TERM_H
#define POSTERN_MAIL_TERM_H

#include <stddef.h>

#include "strbuf.h"

enum term_result { TERM_OK = 1, TERM_EOF = 0, TERM_TOOLONG = -1 };

/* One line without its line end (CR before LF dropped). Longer than max:
 * the rest is read and dropped, TERM_TOOLONG. */
int term_read_line(struct strbuf *line, size_t max);

/* Like term_read_line, echo off while reading when stdin is a terminal. */
int term_read_password(struct strbuf *line, size_t max);

/* One key: a byte, or -1 at end of input. */
int term_read_key(void);

#endif
