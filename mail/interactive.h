/* interactive: the menu-driven user agent (Username/Password prompts,
 * 1. Manage Mail, 2. Send Mail, 3. Quit) on stdin/stdout. */
#ifndef POSTERN_MAIL_INTERACTIVE_H
#define POSTERN_MAIL_INTERACTIVE_H

#include <stdbool.h>
#include <stddef.h>

#include "options.h"

/* Runs until Quit or end of input; returns the exit status: 0, or 1 for
 * a user name or password that no protocol line can carry. o->user and
 * o->pass point at the typed answers while it runs. */
int interactive_run(struct mail_opts *o);

/* Check the typed mail: "From: X@Y", "To: X@Y", "Subject: text" in that
 * order (blanks allowed after each colon). Fills from/to (cap octets
 * each) and *subject (points into lines[2]). */
bool interactive_check_mail(char *const *lines, size_t n, char *from, char *to, size_t cap,
			    const char **subject);

#endif
