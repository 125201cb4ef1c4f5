/* rfc2231: the "; attribute=value" list of Content-Type and
 * Content-Disposition, with RFC 2231 continuations ("name*0", "name*1*")
 * merged the way Dovecot merges them (BODYSTRUCTURE must match it). */
#ifndef POSTERN_RFC2231_H
#define POSTERN_RFC2231_H

#include <stddef.h>
#include "mime.h"
#include "rfc822.h"

/* Parse parameters from P up to its end. Plain parameters come first, in
 * order; continuation groups follow, merged ("name" or "name*" for
 * extended values) or, when an index is missing, kept as "name*N[*]".
 * Broken parameters are skipped. *PARAMS_R is NULL when there are none.
 * Free with mime_params_free. */
void rfc2231_parse(struct rfc822_parser *p, struct mime_param **params_r, size_t *count_r);

#endif
