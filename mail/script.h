/* script: the scriptable commands (send, list, read N, delete N) with
 * machine-friendly output and exit codes from status.h. */
#ifndef POSTERN_MAIL_SCRIPT_H
#define POSTERN_MAIL_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>

#include "options.h"
#include "status.h"
#include "strbuf.h"

struct send_args {
	const char *from;
	const char *subject;     /* NULL: none given */
	char **to;               /* explicit recipients */
	size_t nto;
	bool to_from_headers;    /* -t alone: stdin is a whole message */
};

enum mail_status script_send(const struct mail_opts *o, const struct send_args *a);
enum mail_status script_list(const struct mail_opts *o, bool json);
enum mail_status script_read(const struct mail_opts *o, unsigned num, bool raw);
enum mail_status script_delete(const struct mail_opts *o, unsigned num);

/* Append s as a JSON string (quotes included); invalid UTF-8 becomes
 * U+FFFD, controls are escaped. */
void json_string(struct strbuf *out, const char *s);

#endif
