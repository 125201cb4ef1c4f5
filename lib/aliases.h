/* aliases: the aliases (forwarding rules) file. One rule a line:
 *   alias: target, target...
 * alias is `local` (default domain), `local@domain`, or `@domain` (catch-all
 * for a local domain). Targets are local user names or remote addresses.
 * Expansion is recursive with loop protection. */
#ifndef POSTERN_ALIASES_H
#define POSTERN_ALIASES_H

#include <stddef.h>
#include "config.h"

#define ALIASES_MAX_TARGETS 100
#define ALIASES_ADDR_MAX 320

struct alias_targets {
	size_t n;
	char addr[ALIASES_MAX_TARGETS][ALIASES_ADDR_MAX]; /* "local@domain", lower-case domain */
};

/* Expand ADDR ("local@domain", domain local) through the aliases file.
 * Returns 1 when ADDR is an alias (final targets appended to *t, each
 * either a local user or a remote address), 0 when it is not an alias,
 * -1 on error or when a limit (depth, targets) is exceeded (logged). A
 * pure loop ("a: b", "b: a") expands to no target: 1 with n = 0. A missing
 * file is "no aliases". */
int aliases_expand(const struct config *cfg, const char *addr, struct alias_targets *t);

#endif
